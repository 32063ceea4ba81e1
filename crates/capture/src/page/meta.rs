//! What a page says about the conversation besides its messages: title, address, site id.

use dreamcatcher_model::Site;
use tl::{NodeHandle, Parser};

use super::dom::{self, Step};

/// The document's `<title>`, canonical link and `og:url`, as written (entities decoded).
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct HeadFacts {
    pub title: Option<String>,
    pub canonical: Option<String>,
    pub og_url: Option<String>,
}

/// Reads the head facts: only `<html>` and `<head>` are entered (a page fragment without
/// them has none), so neither the body nor an SVG icon's `<title>` tooltip is ever read.
pub(crate) fn head_facts(parser: &Parser<'_>, roots: &[NodeHandle]) -> HeadFacts {
    let mut facts = HeadFacts::default();
    dom::walk(parser, roots, &mut |handle, element, _| {
        let name = element.name().as_bytes();
        let is = |expected: &[u8]| name.eq_ignore_ascii_case(expected);
        if is(b"html") || is(b"head") {
            return Step::Descend;
        }
        if is(b"title") && facts.title.is_none() {
            facts.title = Some(dom::plain_text(parser, handle));
        }
        let rel_canonical = || {
            dom::attribute(element, "rel").is_some_and(|rel| rel.eq_ignore_ascii_case("canonical"))
        };
        if is(b"link") && facts.canonical.is_none() && rel_canonical() {
            facts.canonical = dom::attribute(element, "href");
        }
        let og_url = || dom::attribute(element, "property").is_some_and(|p| p == "og:url");
        if is(b"meta") && facts.og_url.is_none() && og_url() {
            facts.og_url = dom::attribute(element, "content");
        }
        Step::SkipChildren
    });
    facts
}

/// Site names a tab title carries, which are not part of the conversation's title.
const TITLE_SUFFIXES: [&str; 2] = ["ChatGPT", "Claude"];
const TITLE_SEPARATORS: [&str; 4] = [" - ", " | ", " — ", " – "];

/// The conversation title from a tab title: site suffix removed; `None` when nothing but the
/// site's name (or a placeholder) is left.
pub(crate) fn clean_title(raw: &str) -> Option<String> {
    let mut title = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    for suffix in TITLE_SUFFIXES {
        for separator in TITLE_SEPARATORS {
            let rest = title.strip_suffix(suffix).map(str::trim_end);
            let Some(rest) = rest.and_then(|t| t.strip_suffix(separator.trim())) else {
                continue;
            };
            if rest.is_empty() || rest.ends_with(' ') {
                title = rest.trim_end().to_owned();
            }
        }
    }
    let placeholder = TITLE_SUFFIXES
        .iter()
        .chain(&["New chat"])
        .any(|p| title.eq_ignore_ascii_case(p));
    (!title.is_empty() && !placeholder).then_some(title)
}

/// A title made from the first prompt: its first line, cut at a word near 80 characters.
pub(crate) fn title_from_prompt(prompt: &str) -> String {
    const LIMIT: usize = 80;
    let line = prompt
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or_default();
    if line.chars().count() <= LIMIT {
        return line.to_owned();
    }
    let cut: String = line.chars().take(LIMIT).collect();
    let shortened = match cut.rfind(char::is_whitespace) {
        Some(space) if space > LIMIT / 2 => cut[..space].trim_end().to_owned(),
        _ => cut,
    };
    format!("{shortened}…")
}

/// The site a URL belongs to, from its host.
pub(crate) fn site_of_url(url: &str) -> Option<Site> {
    let host = host(url)?;
    let is = |domain: &str| host == domain || host.ends_with(&format!(".{domain}"));
    if is("chatgpt.com") || is("chat.openai.com") {
        Some(Site::Chatgpt)
    } else if is("claude.ai") {
        Some(Site::Claude)
    } else {
        None
    }
}

fn host(url: &str) -> Option<String> {
    let rest = url.trim().split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit('@').next()?.split(':').next()?;
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// The site's own conversation id from a conversation URL: ChatGPT `/c/{id}` (also under
/// `/g/{gizmo}/`), Claude `/chat/{id}`. Share links carry a different id and give none.
pub(crate) fn site_id_from_url(url: &str, site: Site) -> Option<String> {
    let trimmed = url.trim();
    let path_and_more = match trimmed.split_once("://") {
        Some((_, rest)) => rest.find('/').map(|i| &rest[i..]).unwrap_or(""),
        None => trimmed,
    };
    let path = path_and_more.split(['?', '#']).next().unwrap_or_default();
    let marker = match site {
        Site::Chatgpt => "c",
        Site::Claude => "chat",
    };
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let position = segments.iter().position(|segment| *segment == marker)?;
    let id = segments.get(position + 1)?;
    let valid = id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    valid.then(|| (*id).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_facts_come_from_the_head_only() {
        let page = r#"<html><head><title>A &amp; B - ChatGPT</title>
            <link rel="Canonical" href="https://chatgpt.com/c/1?a=1&amp;b=2"></head>
            <body><svg><title>Icon</title></svg><link rel="canonical" href="/wrong"></body></html>"#;
        let dom = tl::parse(page, Default::default()).unwrap();
        let facts = head_facts(dom.parser(), dom.children());
        assert_eq!(facts.title.as_deref(), Some("A & B - ChatGPT"));
        assert_eq!(facts.canonical.as_deref(), Some("https://chatgpt.com/c/1?a=1&b=2"));
        let fragment = r#"<div><svg><title>Icon</title></svg></div>"#;
        let dom = tl::parse(fragment, Default::default()).unwrap();
        assert_eq!(head_facts(dom.parser(), dom.children()), HeadFacts::default());
    }

    #[test]
    fn titles_lose_site_suffixes_only() {
        assert_eq!(
            clean_title("Sync queue design - ChatGPT").as_deref(),
            Some("Sync queue design")
        );
        assert_eq!(
            clean_title("  Capital   cities — Claude ").as_deref(),
            Some("Capital cities")
        );
        assert_eq!(
            clean_title("Parsing exports | Claude").as_deref(),
            Some("Parsing exports")
        );
        assert_eq!(
            clean_title("ChatGPT - Tutor").as_deref(),
            Some("ChatGPT - Tutor")
        );
        assert_eq!(clean_title("ChatGPT"), None);
        assert_eq!(clean_title(" - Claude"), None);
        assert_eq!(
            clean_title("Claude vs ChatGPT").as_deref(),
            Some("Claude vs ChatGPT")
        );
    }

    #[test]
    fn prompt_titles_are_short_first_lines() {
        assert_eq!(title_from_prompt("\n  Hello there\nsecond"), "Hello there");
        let long = "word ".repeat(40);
        let title = title_from_prompt(&long);
        assert!(
            title.ends_with('…') && title.chars().count() <= 81,
            "{title}"
        );
        assert_eq!(title_from_prompt(&"x".repeat(100)).chars().count(), 81);
    }

    #[test]
    fn site_ids_come_from_conversation_paths() {
        let id = |url| site_id_from_url(url, Site::Chatgpt);
        assert_eq!(
            id("https://chatgpt.com/c/6650f1c2-aa").as_deref(),
            Some("6650f1c2-aa")
        );
        assert_eq!(
            id("https://chatgpt.com/g/g-p-abc-proj/c/77?model=x").as_deref(),
            Some("77")
        );
        assert_eq!(id("https://chatgpt.com/share/abc"), None);
        assert_eq!(id("https://chatgpt.com/c/"), None);
        assert_eq!(
            site_id_from_url("https://claude.ai/chat/0a1b-2c#x", Site::Claude).as_deref(),
            Some("0a1b-2c")
        );
        assert_eq!(
            site_id_from_url("https://claude.ai/chat/a%20b", Site::Claude),
            None
        );
    }

    #[test]
    fn sites_come_from_hosts() {
        assert_eq!(site_of_url("https://chatgpt.com/c/1"), Some(Site::Chatgpt));
        assert_eq!(
            site_of_url("https://chat.openai.com/c/1"),
            Some(Site::Chatgpt)
        );
        assert_eq!(site_of_url("https://claude.ai/chat/1"), Some(Site::Claude));
        assert_eq!(site_of_url("https://notclaude.ai/chat/1"), None);
        assert_eq!(site_of_url("file:///tmp/page.html"), None);
    }
}
