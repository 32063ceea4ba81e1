//! The selector helper (`html::select`) that page-layout modules use on `tl` trees.

use dreamcatcher_capture::html::{self, select};
use select::{ParentMap, Selector};

const PAGE: &str = r#"<main>
<div data-turn-key="t1"><div data-user-message-bubble><div class="whitespace-pre-wrap">Question</div></div></div>
<section data-testid="conversation-turn-2" data-turn-id="a">
  <h4 class="sr-only" data-conversation-role="assistant">ChatGPT said:</h4>
  <div data-message-author-role="assistant" data-message-id="m1" lang="en-GB">
    <div class="markdown prose md:px-4">First <a href="https://e.org/?q=1&amp;r=2">link</a></div>
  </div>
</section>
<section data-testid="conversation-turn-3"><div data-message-author-role="assistant"><div class="prose">Second</div></div></section>
<aside data-app-action-sidebar-scroll><div class="markdown">Decoy</div></aside>
</main>"#;

fn with_dom(check: impl FnOnce(&tl::VDom<'_>)) {
    let repaired = html::repair(PAGE);
    let dom = html::parse(&repaired).expect("parses");
    check(&dom);
}

fn texts(dom: &tl::VDom<'_>, selector: &str) -> Vec<String> {
    let selector = Selector::parse(selector).expect("valid selector");
    select::select_all(dom.parser(), dom.children(), &selector)
        .into_iter()
        .map(|node| html::text_content(dom.parser(), node).trim().to_string())
        .collect()
}

#[test]
fn matches_tags_classes_and_attribute_operators() {
    with_dom(|dom| {
        assert_eq!(texts(dom, ".markdown"), ["First link", "Decoy"]);
        assert_eq!(texts(dom, "div.markdown.prose"), ["First link"]);
        assert_eq!(
            texts(dom, r#"section[data-testid^="conversation-turn-"] .prose"#),
            ["First link", "Second"]
        );
        assert_eq!(texts(dom, "[data-testid$=turn-3]"), ["Second"]);
        assert_eq!(
            texts(dom, "[data-testid*='turn-2']  [data-message-id]"),
            ["First link"]
        );
        assert_eq!(texts(dom, "[class~=prose]"), ["First link", "Second"]);
        assert_eq!(texts(dom, "[lang|=en]"), ["First link"]);
        assert_eq!(
            texts(dom, "[data-user-message-bubble] .whitespace-pre-wrap"),
            ["Question"]
        );
        assert_eq!(texts(dom, r"div.md\:px-4"), ["First link"]);
        assert_eq!(texts(dom, r#"a[href="https://e.org/?q=1&r=2"]"#), ["link"]);
        assert_eq!(
            texts(dom, "H4.SR-ONLY"),
            Vec::<String>::new(),
            "class names are case-sensitive"
        );
        assert_eq!(texts(dom, "H4.sr-only"), ["ChatGPT said:"]);
    });
}

#[test]
fn child_and_descendant_combinators() {
    with_dom(|dom| {
        assert_eq!(
            texts(dom, "section > div > .prose"),
            ["First link", "Second"]
        );
        assert_eq!(texts(dom, "section > .prose"), Vec::<String>::new());
        assert_eq!(texts(dom, "main .markdown"), ["First link", "Decoy"]);
        assert_eq!(texts(dom, "main > section .markdown"), ["First link"]);
        assert_eq!(
            texts(dom, "aside .markdown, section .prose"),
            ["First link", "Second", "Decoy"]
        );
    });
}

#[test]
fn first_within_and_closest() {
    with_dom(|dom| {
        let parser = dom.parser();
        let turn = Selector::parse("section[data-testid]").expect("valid");
        let body = Selector::parse(".prose").expect("valid");
        let first_turn = select::select_first(parser, dom.children(), &turn).expect("a turn");
        let inside = select::select_within(parser, first_turn, &body);
        assert_eq!(inside.len(), 1);
        assert_eq!(
            html::node_to_markdown(parser, inside[0]),
            "First [link](https://e.org/?q=1&r=2)"
        );

        let parents = ParentMap::new(dom);
        assert_eq!(parents.closest(parser, inside[0], &turn), Some(first_turn));
        assert!(parents.matches(
            parser,
            inside[0],
            &Selector::parse("section div.prose").expect("valid")
        ));
        assert!(!parents.matches(
            parser,
            inside[0],
            &Selector::parse("aside .prose").expect("valid")
        ));
        assert_eq!(parents.closest(parser, first_turn, &turn), Some(first_turn));
        assert_eq!(parents.ancestors(first_turn).len(), 1);
    });
}

#[test]
fn invalid_selectors_say_where() {
    for (selector, offset) in [
        ("div[", 4),
        ("a[href=", 7),
        ("div:hover", 3),
        ("div >", 5),
        ("", 0),
        ("a,,b", 2),
        ("[x=\"y]", 6),
    ] {
        let error = Selector::parse(selector).expect_err(selector);
        assert_eq!(error.offset, offset, "{selector}: {error}");
        assert!(error.to_string().contains(&format!("at byte {offset}")));
    }
}

#[test]
fn walk_survives_deep_nesting() {
    let deep = format!("{}x{}", "<div>".repeat(100_000), "</div>".repeat(100_000));
    let repaired = html::repair(&deep);
    let dom = html::parse(&repaired).expect("parses");
    let found = select::select_all(
        dom.parser(),
        dom.children(),
        &Selector::parse("div > div").expect("valid"),
    );
    assert_eq!(found.len(), 99_999);
}
