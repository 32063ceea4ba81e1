//! Small, allocation-light helpers over `tl`'s tree: names, attributes, classes, subtrees,
//! text. `tl` keeps names and attribute values as raw source bytes (entities not decoded,
//! case as written), so every lookup here compares tag names ASCII-case-insensitively and
//! decodes attribute values.
//!
//! `tl` stores nodes in document order and a node's descendants right after it, so a
//! subtree is a contiguous range of node ids ([`subtree_end`]); the walks below use that
//! instead of recursion, which keeps hostile nesting depth from overflowing the stack.

use std::borrow::Cow;

use tl::{HTMLTag, Node, NodeHandle, Parser};

/// The element behind `handle`, if it is one.
pub fn element<'p, 'a>(parser: &'p Parser<'a>, handle: NodeHandle) -> Option<&'p HTMLTag<'a>> {
    handle.get(parser).and_then(Node::as_tag)
}

/// The element's tag name as written in the source (use [`is_tag`] to compare).
pub fn tag_name<'t>(tag: &'t HTMLTag<'_>) -> &'t [u8] {
    tag.name().as_bytes()
}

/// Whether the element's tag name is `name` (ASCII case-insensitive; `name` lowercase).
pub fn is_tag(tag: &HTMLTag<'_>, name: &str) -> bool {
    tag.name().as_bytes().eq_ignore_ascii_case(name.as_bytes())
}

/// The raw (still entity-encoded) value of attribute `name`: `Some("")` for a present
/// attribute without a value.
pub fn attr_raw<'t>(tag: &'t HTMLTag<'_>, name: &'t str) -> Option<&'t [u8]> {
    match tag.attributes().get(name)? {
        Some(value) => Some(value.as_bytes()),
        None => Some(&[]),
    }
}

/// The decoded value of attribute `name` (`Some("")` when present without a value).
pub fn attr<'t>(tag: &'t HTMLTag<'_>, name: &'t str) -> Option<Cow<'t, str>> {
    attr_raw(tag, name).map(decode_bytes)
}

/// Whether the element has attribute `name`.
pub fn has_attr(tag: &HTMLTag<'_>, name: &str) -> bool {
    attr_raw(tag, name).is_some()
}

/// The class attribute's raw value, or "" (also when it is not UTF-8, which cannot happen
/// for a tree parsed from a `&str`).
pub fn class_attr<'t>(tag: &'t HTMLTag<'_>) -> &'t str {
    std::str::from_utf8(class_bytes(tag)).unwrap_or("")
}

pub(crate) fn class_bytes<'t>(tag: &'t HTMLTag<'_>) -> &'t [u8] {
    tag.attributes()
        .class()
        .map_or(&[], |class| class.as_bytes())
}

/// Whether `class` is one of the element's class names.
pub fn has_class(tag: &HTMLTag<'_>, class: &str) -> bool {
    has_class_token(class_bytes(tag), class.as_bytes())
}

/// Whether `token` is one of the space-separated words of `classes`.
pub(crate) fn has_class_token(classes: &[u8], token: &[u8]) -> bool {
    !token.is_empty()
        && classes
            .split(u8::is_ascii_whitespace)
            .any(|word| word == token)
}

/// Entity-decodes source bytes (lossy for invalid UTF-8, which `tl` slices of a `&str`
/// never are).
pub fn decode_bytes(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => decode_entities(text),
        Err(_) => Cow::Owned(decode_entities(&String::from_utf8_lossy(bytes)).into_owned()),
    }
}

/// Decodes character references. The frequent ones are handled here; other named ones go
/// to `html_escape`'s full table. References that name nothing stay as written.
pub fn decode_entities(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    // Most text nodes are short: a plain loop beats the vectorised search's setup there.
    let first = if bytes.len() < 32 {
        bytes.iter().position(|&b| b == b'&')
    } else {
        memchr::memchr(b'&', bytes)
    };
    let Some(first) = first else {
        return Cow::Borrowed(text);
    };
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut search = first;
    while let Some(found) = memchr::memchr(b'&', bytes.get(search..).unwrap_or(&[])) {
        let at = search + found;
        let reference = bytes.get(at + 1..).unwrap_or(&[]);
        let end = reference.iter().take(33).position(|&b| b == b';');
        let Some(end) = end else {
            search = at + 1;
            continue;
        };
        let name = text.get(at + 1..at + 1 + end).unwrap_or("");
        out.push_str(text.get(copied..at).unwrap_or(""));
        copied = at + 1 + end + 1;
        search = copied;
        match name {
            "amp" => out.push('&'),
            "lt" => out.push('<'),
            "gt" => out.push('>'),
            "quot" => out.push('"'),
            "apos" | "#39" | "#x27" => out.push('\''),
            "nbsp" => out.push('\u{a0}'),
            _ => {
                let reference = text.get(at..copied).unwrap_or("");
                out.push_str(&html_escape::decode_html_entities(reference));
            }
        }
    }
    out.push_str(text.get(copied..).unwrap_or(""));
    Cow::Owned(out)
}

/// The id of the last node inside `handle`'s subtree (its own id when it has no children).
/// Descendants of `handle` are exactly the ids `handle+1 ..= subtree_end(handle)`.
pub fn subtree_end(parser: &Parser<'_>, handle: NodeHandle) -> u32 {
    let mut last = handle;
    while let Some(tag) = element(parser, last) {
        match tag.children().top().as_slice().last() {
            Some(child) => last = *child,
            None => break,
        }
    }
    last.get_inner()
}

/// Every node inside `handle` (not `handle` itself), in document order.
pub fn descendants(parser: &Parser<'_>, handle: NodeHandle) -> impl Iterator<Item = NodeHandle> {
    let end = subtree_end(parser, handle);
    (handle.get_inner().saturating_add(1)..=end).map(NodeHandle::new)
}

/// The `index`th child node of `handle`.
pub fn child_at(parser: &Parser<'_>, handle: NodeHandle, index: usize) -> Option<NodeHandle> {
    let tag = element(parser, handle)?;
    let children = tag.children();
    children.top().as_slice().get(index).copied()
}

/// The direct child nodes of `handle` (none for text and comments).
pub fn children<'p>(
    parser: &'p Parser<'_>,
    handle: NodeHandle,
) -> impl Iterator<Item = NodeHandle> + 'p {
    children_from(parser, handle, 0)
}

/// The child nodes of `handle` from index `first` on.
pub fn children_from<'p>(
    parser: &'p Parser<'_>,
    handle: NodeHandle,
    first: usize,
) -> impl Iterator<Item = NodeHandle> + 'p {
    (first..).map_while(move |index| child_at(parser, handle, index))
}

/// The element children of `handle`, in order.
pub fn child_elements<'p, 'a>(
    parser: &'p Parser<'a>,
    handle: NodeHandle,
) -> impl Iterator<Item = (NodeHandle, &'p HTMLTag<'a>)> + 'p {
    children(parser, handle).filter_map(move |child| element(parser, child).map(|tag| (child, tag)))
}

/// What an element is, for conversion and text extraction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Never visible text: scripts, styles, head, SVG, buttons, form controls, embeds.
    Drop,
    /// A block with no Markdown of its own (div, section, ...).
    Block,
    Paragraph,
    Heading(u8),
    Blockquote,
    List {
        ordered: bool,
    },
    Item,
    Pre,
    Table,
    TableSection,
    Row,
    Cell,
    Caption,
    Emphasis,
    Strong,
    Strike,
    Code,
    Link,
    Image,
    Break,
    Rule,
    Input,
    Math,
    /// Anything else: its content flows inline.
    Inline,
}

impl Kind {
    pub(crate) fn is_block(self) -> bool {
        !matches!(
            self,
            Kind::Inline
                | Kind::Emphasis
                | Kind::Strong
                | Kind::Strike
                | Kind::Code
                | Kind::Link
                | Kind::Image
                | Kind::Break
                | Kind::Input
                | Kind::Math
                | Kind::Drop
        )
    }
}

/// A tag name of up to 16 bytes packed into an integer, ASCII letters lowercased (names
/// hold only letters, digits and `-_:+`, which `| 0x20` leaves distinct): comparing names
/// is then one integer comparison. Longer names get a key no table holds.
pub(crate) const fn name_key(name: &[u8]) -> u128 {
    if name.len() > 16 {
        return u128::MAX;
    }
    let mut bytes = [0u8; 16];
    let mut i = 0;
    while i < name.len() {
        bytes[i] = name[i] | 0x20;
        i += 1;
    }
    u128::from_le_bytes(bytes)
}

/// Sorts a name table by key at compile time, for [`lookup`].
pub(crate) const fn sorted<T: Copy, const N: usize>(mut table: [(u128, T); N]) -> [(u128, T); N] {
    let mut i = 1;
    while i < N {
        let mut j = i;
        while j > 0 && table[j - 1].0 > table[j].0 {
            let moved = table[j];
            table[j] = table[j - 1];
            table[j - 1] = moved;
            j -= 1;
        }
        i += 1;
    }
    table
}

/// The value for `name` in a table made by [`sorted`].
pub(crate) fn lookup<T: Copy>(table: &[(u128, T)], name: &[u8]) -> Option<T> {
    lookup_key(table, name_key(name))
}

pub(crate) fn lookup_key<T: Copy>(table: &[(u128, T)], key: u128) -> Option<T> {
    table
        .binary_search_by_key(&key, |(k, _)| *k)
        .ok()
        .and_then(|i| table.get(i))
        .map(|(_, value)| *value)
}

static KINDS: [(u128, Kind); 98] = sorted([
    (name_key(b"span"), Kind::Inline),
    (name_key(b"div"), Kind::Block),
    (name_key(b"section"), Kind::Block),
    (name_key(b"article"), Kind::Block),
    (name_key(b"main"), Kind::Block),
    (name_key(b"header"), Kind::Block),
    (name_key(b"footer"), Kind::Block),
    (name_key(b"aside"), Kind::Block),
    (name_key(b"nav"), Kind::Block),
    (name_key(b"address"), Kind::Block),
    (name_key(b"center"), Kind::Block),
    (name_key(b"details"), Kind::Block),
    (name_key(b"summary"), Kind::Block),
    (name_key(b"dialog"), Kind::Block),
    (name_key(b"dl"), Kind::Block),
    (name_key(b"dt"), Kind::Block),
    (name_key(b"dd"), Kind::Block),
    (name_key(b"figure"), Kind::Block),
    (name_key(b"figcaption"), Kind::Block),
    (name_key(b"fieldset"), Kind::Block),
    (name_key(b"legend"), Kind::Block),
    (name_key(b"form"), Kind::Block),
    (name_key(b"hgroup"), Kind::Block),
    (name_key(b"search"), Kind::Block),
    (name_key(b"body"), Kind::Block),
    (name_key(b"html"), Kind::Block),
    (name_key(b"output"), Kind::Block),
    (name_key(b"p"), Kind::Paragraph),
    (name_key(b"a"), Kind::Link),
    (name_key(b"code"), Kind::Code),
    (name_key(b"li"), Kind::Item),
    (name_key(b"td"), Kind::Cell),
    (name_key(b"th"), Kind::Cell),
    (name_key(b"tr"), Kind::Row),
    (name_key(b"br"), Kind::Break),
    (name_key(b"strong"), Kind::Strong),
    (name_key(b"b"), Kind::Strong),
    (name_key(b"em"), Kind::Emphasis),
    (name_key(b"i"), Kind::Emphasis),
    (name_key(b"svg"), Kind::Drop),
    (name_key(b"path"), Kind::Drop),
    (name_key(b"use"), Kind::Drop),
    (name_key(b"button"), Kind::Drop),
    (name_key(b"script"), Kind::Drop),
    (name_key(b"style"), Kind::Drop),
    (name_key(b"head"), Kind::Drop),
    (name_key(b"noscript"), Kind::Drop),
    (name_key(b"template"), Kind::Drop),
    (name_key(b"select"), Kind::Drop),
    (name_key(b"textarea"), Kind::Drop),
    (name_key(b"option"), Kind::Drop),
    (name_key(b"optgroup"), Kind::Drop),
    (name_key(b"datalist"), Kind::Drop),
    (name_key(b"iframe"), Kind::Drop),
    (name_key(b"object"), Kind::Drop),
    (name_key(b"embed"), Kind::Drop),
    (name_key(b"canvas"), Kind::Drop),
    (name_key(b"audio"), Kind::Drop),
    (name_key(b"video"), Kind::Drop),
    (name_key(b"map"), Kind::Drop),
    (name_key(b"title"), Kind::Drop),
    (name_key(b"meta"), Kind::Drop),
    (name_key(b"link"), Kind::Drop),
    (name_key(b"base"), Kind::Drop),
    (name_key(b"param"), Kind::Drop),
    (name_key(b"source"), Kind::Drop),
    (name_key(b"track"), Kind::Drop),
    (name_key(b"frame"), Kind::Drop),
    (name_key(b"frameset"), Kind::Drop),
    (name_key(b"noframes"), Kind::Drop),
    (name_key(b"noembed"), Kind::Drop),
    (name_key(b"wbr"), Kind::Drop),
    (name_key(b"h1"), Kind::Heading(1)),
    (name_key(b"h2"), Kind::Heading(2)),
    (name_key(b"h3"), Kind::Heading(3)),
    (name_key(b"h4"), Kind::Heading(4)),
    (name_key(b"h5"), Kind::Heading(5)),
    (name_key(b"h6"), Kind::Heading(6)),
    (name_key(b"blockquote"), Kind::Blockquote),
    (name_key(b"ul"), Kind::List { ordered: false }),
    (name_key(b"menu"), Kind::List { ordered: false }),
    (name_key(b"dir"), Kind::List { ordered: false }),
    (name_key(b"ol"), Kind::List { ordered: true }),
    (name_key(b"pre"), Kind::Pre),
    (name_key(b"listing"), Kind::Pre),
    (name_key(b"xmp"), Kind::Pre),
    (name_key(b"table"), Kind::Table),
    (name_key(b"thead"), Kind::TableSection),
    (name_key(b"tbody"), Kind::TableSection),
    (name_key(b"tfoot"), Kind::TableSection),
    (name_key(b"caption"), Kind::Caption),
    (name_key(b"del"), Kind::Strike),
    (name_key(b"s"), Kind::Strike),
    (name_key(b"strike"), Kind::Strike),
    (name_key(b"img"), Kind::Image),
    (name_key(b"hr"), Kind::Rule),
    (name_key(b"input"), Kind::Input),
    (name_key(b"math"), Kind::Math),
]);

/// Classifies a tag name (any case).
pub(crate) fn kind_of(name: &[u8]) -> Kind {
    const SPAN: u128 = name_key(b"span");
    const DIV: u128 = name_key(b"div");
    match name_key(name) {
        SPAN => Kind::Inline,
        DIV => Kind::Block,
        key => lookup_key(&KINDS, key).unwrap_or(Kind::Inline),
    }
}

/// The text a reader sees in `handle`: entities decoded, whitespace kept as written, `<br>`
/// and block boundaries as line breaks; scripts, styles, templates, SVG, buttons and
/// textareas left out. Meant for plain-text bodies (e.g. a user's message shown with
/// `white-space: pre-wrap`).
pub fn text_content(parser: &Parser<'_>, handle: NodeHandle) -> String {
    let mut out = String::new();
    append_text_content(parser, handle, &mut out, false);
    out
}

/// [`text_content`] into `out`. With `strip_pre_newline`, a newline that directly follows
/// the opening tag is dropped, as the HTML parser does for `<pre>`.
pub(crate) fn append_text_content(
    parser: &Parser<'_>,
    handle: NodeHandle,
    out: &mut String,
    strip_pre_newline: bool,
) {
    let start_len = out.len();
    let mut break_needed = false;
    let mut first_text = strip_pre_newline;
    // (element, next child index, whether the element is a block)
    let mut stack: Vec<(NodeHandle, usize, bool)> = Vec::new();
    match handle.get(parser) {
        Some(Node::Tag(_)) => stack.push((handle, 0, false)),
        Some(Node::Raw(raw)) => out.push_str(&decode_bytes(raw.as_bytes())),
        _ => {}
    }
    while let Some((parent, index, is_block)) = stack.last_mut() {
        let Some(child) = child_at(parser, *parent, *index) else {
            if *is_block {
                break_needed = true;
            }
            stack.pop();
            continue;
        };
        *index += 1;
        match child.get(parser) {
            Some(Node::Raw(raw)) => {
                let text = decode_bytes(raw.as_bytes());
                let mut text: &str = &text;
                if first_text {
                    text = text.strip_prefix('\n').unwrap_or(text);
                }
                first_text = false;
                if text.is_empty() {
                    continue;
                }
                if break_needed && out.len() > start_len && !out.ends_with('\n') {
                    out.push('\n');
                }
                break_needed = false;
                out.push_str(text);
            }
            Some(Node::Tag(tag)) => {
                first_text = false;
                let kind = kind_of(tag_name(tag));
                if kind == Kind::Break {
                    if break_needed && out.len() > start_len && !out.ends_with('\n') {
                        out.push('\n');
                    }
                    break_needed = false;
                    out.push('\n');
                } else if kind != Kind::Drop && kind != Kind::Input {
                    let block = kind.is_block();
                    if block {
                        break_needed = true;
                    }
                    stack.push((child, 0, block));
                }
            }
            _ => first_text = false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first_element<'p, 'a>(dom: &'p tl::VDom<'a>) -> NodeHandle {
        *dom.children().first().expect("a node")
    }

    #[test]
    fn text_content_keeps_breaks_and_skips_buttons() {
        let html = "<div>a&amp;b<br>c<div>d</div><button>Copy</button>e\n  f</div>";
        let dom = tl::parse(html, Default::default()).expect("parses");
        let root = first_element(&dom);
        assert_eq!(text_content(dom.parser(), root), "a&b\nc\nd\ne\n  f");
    }

    #[test]
    fn subtree_is_contiguous() {
        let dom = tl::parse("<a><b><c>x</c></b>y</a><d></d>", Default::default()).expect("parses");
        let root = first_element(&dom);
        let inside: Vec<u32> = descendants(dom.parser(), root)
            .map(|h| h.get_inner())
            .collect();
        assert_eq!(inside, vec![1, 2, 3, 4]);
        let leaf = NodeHandle::new(5);
        assert_eq!(descendants(dom.parser(), leaf).count(), 0);
    }

    #[test]
    fn attributes_are_decoded_and_classes_matched_whole() {
        let dom = tl::parse(
            r#"<p class="katex-display x" title="a &quot;b&quot;" hidden></p>"#,
            Default::default(),
        )
        .expect("parses");
        let tag = element(dom.parser(), first_element(&dom)).expect("element");
        assert_eq!(attr(tag, "title").as_deref(), Some("a \"b\""));
        assert_eq!(attr(tag, "hidden").as_deref(), Some(""));
        assert!(has_class(tag, "x"));
        assert!(!has_class(tag, "katex"));
        assert!(is_tag(tag, "p"));
    }
}
