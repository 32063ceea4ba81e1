//! Walking a page with subtree skipping, and the plain text of prompts and cards.

use tl::{HTMLTag, Node, NodeHandle, Parser};

use crate::html::dom::{attr, has_class};

/// What a walk does after visiting an element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    Descend,
    SkipChildren,
}

/// Visits the elements under `roots` (roots included) in document order with their
/// ancestors (outermost first), not entering the subtrees `visit` asks to skip (skipped
/// subtrees cost nothing: message bodies are most of a page). Iterative: any depth.
pub(crate) fn walk<'p, 'a>(
    parser: &'p Parser<'a>,
    roots: &[NodeHandle],
    visit: &mut dyn FnMut(NodeHandle, &'p HTMLTag<'a>, &[NodeHandle]) -> Step,
) {
    let mut ancestors: Vec<NodeHandle> = Vec::new();
    // For each ancestor: the element and the index of its next child to visit.
    let mut open: Vec<(&'p HTMLTag<'a>, usize)> = Vec::new();
    let mut next_root = 0;
    loop {
        let handle = match open.last_mut() {
            Some((parent, next)) => {
                let child = parent.children().top().get(*next).copied();
                *next += 1;
                match child {
                    Some(child) => child,
                    None => {
                        open.pop();
                        ancestors.pop();
                        continue;
                    }
                }
            }
            None => match roots.get(next_root) {
                Some(&root) => {
                    next_root += 1;
                    root
                }
                None => return,
            },
        };
        let Some(element) = handle.get(parser).and_then(Node::as_tag) else {
            continue;
        };
        if visit(handle, element, &ancestors) == Step::Descend {
            ancestors.push(handle);
            open.push((element, 0));
        }
    }
}

/// An attribute's value with character references decoded.
pub(crate) fn attribute(element: &HTMLTag<'_>, name: &str) -> Option<String> {
    attr(element, name).map(|value| value.into_owned())
}

/// Elements that are never message text: controls, icons, screen-reader labels, toolbars.
pub(crate) fn is_chrome(element: &HTMLTag<'_>) -> bool {
    let name = element.name().as_bytes();
    [
        "button", "svg", "script", "style", "template", "nav", "textarea", "input", "select",
    ]
    .iter()
    .any(|skipped| name.eq_ignore_ascii_case(skipped.as_bytes()))
        || has_class(element, "sr-only")
        || element
            .attributes()
            .get("role")
            .flatten()
            .is_some_and(|role| role.as_bytes() == b"toolbar")
}

fn is_block(name: &[u8]) -> bool {
    [
        "p",
        "div",
        "li",
        "ul",
        "ol",
        "pre",
        "blockquote",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "table",
        "tr",
        "section",
        "article",
    ]
    .iter()
    .any(|block| name.eq_ignore_ascii_case(block.as_bytes()))
}

/// The text a reader sees in `root`, for plain-text bodies (user prompts): text kept as
/// written (with `<br>` as a line break), block elements separated by a blank line, layout
/// whitespace between blocks and at each block's ends dropped, controls and labels skipped.
pub(crate) fn plain_text(parser: &Parser<'_>, root: NodeHandle) -> String {
    let mut blocks: Vec<String> = Vec::new();
    let mut current = String::new();
    let flush = |current: &mut String, blocks: &mut Vec<String>| {
        let trimmed = current.trim();
        if !trimmed.is_empty() {
            blocks.push(trimmed.to_owned());
        }
        current.clear();
    };
    // Depth-first over all nodes (text included); a block's end is marked by a sentinel.
    enum Item {
        Node(NodeHandle),
        BlockEnd,
    }
    let mut stack = vec![Item::Node(root)];
    while let Some(item) = stack.pop() {
        let handle = match item {
            Item::BlockEnd => {
                flush(&mut current, &mut blocks);
                continue;
            }
            Item::Node(handle) => handle,
        };
        match handle.get(parser) {
            Some(Node::Raw(text)) => {
                current.push_str(&html_escape::decode_html_entities(&text.as_utf8_str()));
            }
            Some(Node::Tag(element)) => {
                let name = element.name().as_bytes();
                if is_chrome(element) {
                    continue;
                }
                if name.eq_ignore_ascii_case(b"br") {
                    current.push('\n');
                    continue;
                }
                let block = is_block(name);
                if block {
                    flush(&mut current, &mut blocks);
                    stack.push(Item::BlockEnd);
                }
                let children = element.children();
                stack.extend(
                    children
                        .top()
                        .as_slice()
                        .iter()
                        .rev()
                        .map(|&h| Item::Node(h)),
                );
            }
            Some(Node::Comment(_)) | None => {}
        }
    }
    flush(&mut current, &mut blocks);
    blocks.join("\n\n")
}

/// The first non-empty run of text in `root` with whitespace collapsed (a card's title).
pub(crate) fn first_text(parser: &Parser<'_>, root: NodeHandle) -> Option<String> {
    let mut stack = vec![root];
    while let Some(handle) = stack.pop() {
        match handle.get(parser) {
            Some(Node::Raw(text)) => {
                let decoded = html_escape::decode_html_entities(&text.as_utf8_str()).into_owned();
                let collapsed = decoded.split_whitespace().collect::<Vec<_>>().join(" ");
                if !collapsed.is_empty() {
                    return Some(collapsed);
                }
            }
            Some(Node::Tag(element)) if !is_chrome(element) => {
                let children = element.children();
                stack.extend(children.top().as_slice().iter().rev());
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_keeps_lines_and_separates_blocks() {
        let dom = tl::parse(
            "<div><p> first &amp; line\n  second</p>\n  <p>third<br>fourth<button>Copy</button></p><span class=\"sr-only\">You said:</span></div>",
            Default::default(),
        )
        .unwrap();
        let root = dom.children()[0];
        assert_eq!(
            plain_text(dom.parser(), root),
            "first & line\n  second\n\nthird\nfourth"
        );
    }
}
