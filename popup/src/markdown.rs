//! Captured Markdown → a small tree the views turn into elements and text nodes.
//!
//! Captured text is data: raw HTML in it becomes visible text, link and image URLs are kept
//! only when they are absolute http(s) or mailto, and nothing here ever produces markup as a
//! string, so no view needs `inner_html`.

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag};

/// A rendered piece of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// Plain text, shown as a text node.
    Text(String),
    /// HTML written in the message, shown as its literal text (never parsed).
    RawHtml(String),
    InlineCode(String),
    SoftBreak,
    HardBreak,
    Rule,
    TaskMarker { checked: bool },
    CodeBlock { language: String, code: String },
    /// A link; `href` is `None` when the URL was not safe to follow (then only the text shows).
    Link { href: Option<String>, title: String, children: Vec<Node> },
    /// An image is never loaded (captured pages could track the reader): its alt text shows,
    /// linked to the image when the URL is safe.
    Image { href: Option<String>, alt: String },
    Element { kind: ElementKind, children: Vec<Node> },
}

/// The containers Markdown can open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElementKind {
    Paragraph,
    Heading(u8),
    BlockQuote,
    OrderedList { start: u64 },
    BulletList,
    ListItem,
    Emphasis,
    Strong,
    Strikethrough,
    Table,
    TableHead,
    TableRow,
    TableCell,
    /// A raw HTML block: its text keeps its line breaks.
    RawBlock,
    /// Anything else Markdown can open (footnotes, definition lists…): children shown as-is.
    Group,
}

/// Parses a message's Markdown into nodes.
pub fn render(markdown: &str) -> Vec<Node> {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES;
    let mut builder = TreeBuilder::default();
    for event in Parser::new_ext(markdown, options) {
        builder.push_event(event);
    }
    builder.finish()
}

/// What an open container becomes when its end event arrives.
enum Open {
    Element(ElementKind),
    Link { href: Option<String>, title: String },
    Image { href: Option<String> },
    CodeBlock { language: String },
}

#[derive(Default)]
struct TreeBuilder {
    /// Open containers with the children collected so far; the root is implicit.
    stack: Vec<(Open, Vec<Node>)>,
    root: Vec<Node>,
}

impl TreeBuilder {
    fn children(&mut self) -> &mut Vec<Node> {
        match self.stack.last_mut() {
            Some((_, children)) => children,
            None => &mut self.root,
        }
    }

    fn push_event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(tag) => {
                let open = open_for(tag);
                self.stack.push((open, Vec::new()));
            }
            Event::End(_) => self.close(),
            Event::Text(text) => {
                if let Some((Open::CodeBlock { .. }, children)) = self.stack.last_mut() {
                    children.push(Node::Text(text.into_string()));
                } else {
                    push_text(self.children(), text.into_string());
                }
            }
            Event::Code(code) => self.children().push(Node::InlineCode(code.into_string())),
            Event::InlineMath(math) | Event::DisplayMath(math) => {
                self.children().push(Node::InlineCode(math.into_string()))
            }
            Event::Html(html) | Event::InlineHtml(html) => {
                self.children().push(Node::RawHtml(html.into_string()))
            }
            Event::FootnoteReference(label) => {
                push_text(self.children(), format!("[{label}]"));
            }
            Event::SoftBreak => self.children().push(Node::SoftBreak),
            Event::HardBreak => self.children().push(Node::HardBreak),
            Event::Rule => self.children().push(Node::Rule),
            Event::TaskListMarker(checked) => self.children().push(Node::TaskMarker { checked }),
        }
    }

    fn close(&mut self) {
        let Some((open, children)) = self.stack.pop() else {
            return;
        };
        let node = match open {
            Open::Element(kind) => Node::Element { kind, children },
            Open::Link { href, title } => Node::Link { href, title, children },
            Open::Image { href } => Node::Image { href, alt: plain_text(&children) },
            Open::CodeBlock { language } => Node::CodeBlock { language, code: plain_text(&children) },
        };
        self.children().push(node);
    }

    fn finish(mut self) -> Vec<Node> {
        while !self.stack.is_empty() {
            self.close();
        }
        self.root
    }
}

fn open_for(tag: Tag<'_>) -> Open {
    let element = match tag {
        Tag::Paragraph => ElementKind::Paragraph,
        Tag::Heading { level, .. } => ElementKind::Heading(level as u8),
        Tag::BlockQuote(_) => ElementKind::BlockQuote,
        Tag::CodeBlock(kind) => {
            let language = match kind {
                CodeBlockKind::Fenced(info) => code_language(&info),
                CodeBlockKind::Indented => String::new(),
            };
            return Open::CodeBlock { language };
        }
        Tag::HtmlBlock => ElementKind::RawBlock,
        Tag::List(Some(start)) => ElementKind::OrderedList { start },
        Tag::List(None) => ElementKind::BulletList,
        Tag::Item => ElementKind::ListItem,
        Tag::Table(_) => ElementKind::Table,
        Tag::TableHead => ElementKind::TableHead,
        Tag::TableRow => ElementKind::TableRow,
        Tag::TableCell => ElementKind::TableCell,
        Tag::Emphasis => ElementKind::Emphasis,
        Tag::Strong => ElementKind::Strong,
        Tag::Strikethrough => ElementKind::Strikethrough,
        Tag::Link { dest_url, title, .. } => {
            return Open::Link { href: sanitize_url(&dest_url), title: title.into_string() };
        }
        Tag::Image { dest_url, .. } => return Open::Image { href: sanitize_url(&dest_url) },
        _ => ElementKind::Group,
    };
    Open::Element(element)
}

/// Joins adjacent text so a paragraph is one text node, not one per parser event.
fn push_text(children: &mut Vec<Node>, text: String) {
    if let Some(Node::Text(previous)) = children.last_mut() {
        previous.push_str(&text);
    } else {
        children.push(Node::Text(text));
    }
}

/// The first word of a fence's info string (` ```rust,ignore ` → `rust`).
fn code_language(info: &str) -> String {
    info.split(|c: char| c.is_whitespace() || c == ',' || c == '{')
        .find(|word| !word.is_empty())
        .unwrap_or("")
        .to_string()
}

/// The text content of nodes, as a screen reader would read it.
pub fn plain_text(nodes: &[Node]) -> String {
    let mut out = String::new();
    collect_text(nodes, &mut out);
    out
}

fn collect_text(nodes: &[Node], out: &mut String) {
    for node in nodes {
        match node {
            Node::Text(text) | Node::RawHtml(text) | Node::InlineCode(text) => out.push_str(text),
            Node::SoftBreak | Node::HardBreak => out.push('\n'),
            Node::CodeBlock { code, .. } => out.push_str(code),
            Node::Image { alt, .. } => out.push_str(alt),
            Node::Link { children, .. } | Node::Element { children, .. } => collect_text(children, out),
            Node::Rule | Node::TaskMarker { .. } => {}
        }
    }
}

/// Keeps a URL from captured content only when following it is safe from the extension's
/// pages: absolute `http:`, `https:` or `mailto:`. Relative URLs would resolve against the
/// extension's own origin, so they are dropped too.
pub fn sanitize_url(url: &str) -> Option<String> {
    let trimmed = url.trim_matches(|c: char| c.is_ascii_whitespace() || c.is_ascii_control());
    // Browsers drop tabs and newlines anywhere in a URL ("java\tscript:"), so judge the
    // scheme on what the browser would see.
    let scheme: String = trimmed
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .take_while(|c| *c != ':')
        .take(16)
        .collect::<String>()
        .to_ascii_lowercase();
    let rest = trimmed.get(scheme.len()..).unwrap_or("");
    let allowed = match scheme.as_str() {
        "http" | "https" => rest.starts_with("://") && rest.len() > 3,
        "mailto" => rest.starts_with(':') && rest.len() > 1,
        _ => false,
    };
    if allowed && !trimmed.chars().any(|c| c.is_control() || c.is_whitespace()) {
        Some(trimmed.to_string())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paragraph(children: Vec<Node>) -> Node {
        Node::Element { kind: ElementKind::Paragraph, children }
    }

    /// Every node that could become an element a browser acts on.
    fn has_live_markup(nodes: &[Node]) -> bool {
        nodes.iter().any(|node| match node {
            Node::Link { href: Some(href), .. } | Node::Image { href: Some(href), .. } => {
                sanitize_url(href).is_none()
            }
            Node::Link { children, .. } | Node::Element { children, .. } => has_live_markup(children),
            _ => false,
        })
    }

    #[test]
    fn inline_img_with_onerror_is_visible_text() {
        let nodes = render("look <img src=x onerror=alert(1)> here");
        assert_eq!(
            nodes,
            vec![paragraph(vec![
                Node::Text("look ".into()),
                Node::RawHtml("<img src=x onerror=alert(1)>".into()),
                Node::Text(" here".into()),
            ])]
        );
        assert!(plain_text(&nodes).contains("<img src=x onerror=alert(1)>"));
    }

    #[test]
    fn script_block_is_visible_text() {
        let nodes = render("<script>alert('x')</script>\n\nafter");
        let Some(Node::Element { kind: ElementKind::RawBlock, children }) = nodes.first() else {
            panic!("expected a raw block first, got {nodes:?}");
        };
        assert_eq!(plain_text(children), "<script>alert('x')</script>\n");
        assert!(children.iter().all(|n| matches!(n, Node::RawHtml(_))));
        assert_eq!(nodes.get(1), Some(&paragraph(vec![Node::Text("after".into())])));
    }

    #[test]
    fn code_block_keeps_language_and_exact_code() {
        let nodes = render("```rust,ignore\nfn main() {\n    println!(\"<b>\");\n}\n```\n");
        assert_eq!(
            nodes,
            vec![Node::CodeBlock {
                language: "rust".into(),
                code: "fn main() {\n    println!(\"<b>\");\n}\n".into()
            }]
        );
    }

    #[test]
    fn indented_code_has_no_language() {
        let nodes = render("    let x = 1;\n");
        assert_eq!(nodes, vec![Node::CodeBlock { language: String::new(), code: "let x = 1;\n".into() }]);
    }

    #[test]
    fn javascript_links_lose_their_href() {
        let nodes = render("[click](javascript:alert(1)) and [ok](https://example.com/a?b=1)");
        let Some(Node::Element { children, .. }) = nodes.first() else {
            panic!("expected a paragraph, got {nodes:?}");
        };
        assert_eq!(
            children.first(),
            Some(&Node::Link { href: None, title: String::new(), children: vec![Node::Text("click".into())] })
        );
        assert!(children.iter().any(|n| matches!(n,
            Node::Link { href: Some(h), .. } if h == "https://example.com/a?b=1")));
        assert!(!has_live_markup(&nodes));
    }

    #[test]
    fn images_become_alt_text_with_safe_link_only() {
        let nodes = render("![a cat](https://example.com/cat.png) ![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)");
        let Some(Node::Element { children, .. }) = nodes.first() else {
            panic!("expected a paragraph, got {nodes:?}");
        };
        assert_eq!(
            children.first(),
            Some(&Node::Image { href: Some("https://example.com/cat.png".into()), alt: "a cat".into() })
        );
        assert!(children.iter().any(|n| matches!(n, Node::Image { href: None, .. })));
    }

    #[test]
    fn url_sanitiser_allows_only_http_https_mailto() {
        assert_eq!(sanitize_url(" https://a.example/x "), Some("https://a.example/x".into()));
        assert_eq!(sanitize_url("HTTP://a.example"), Some("HTTP://a.example".into()));
        assert_eq!(sanitize_url("mailto:someone@example.com"), Some("mailto:someone@example.com".into()));
        for bad in [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            "java\tscript:alert(1)",
            "\u{1}javascript:alert(1)",
            "vbscript:msgbox(1)",
            "data:text/html,<script>alert(1)</script>",
            "file:///etc/passwd",
            "chrome-extension://abc/popup.html",
            "/relative/path",
            "//evil.example/x",
            "https:evil",
            "https://",
            "mailto:",
            "https://a.example/x y",
            "",
        ] {
            assert_eq!(sanitize_url(bad), None, "{bad:?} must be refused");
        }
    }

    #[test]
    fn tables_tasks_and_emphasis_keep_structure() {
        let nodes = render("- [x] done\n- [ ] todo\n\n| a | b |\n|---|---|\n| *1* | `2` |\n");
        assert!(matches!(nodes.first(), Some(Node::Element { kind: ElementKind::BulletList, .. })));
        assert!(matches!(nodes.get(1), Some(Node::Element { kind: ElementKind::Table, .. })));
        let text = plain_text(&nodes);
        assert!(text.contains("done") && text.contains("todo") && text.contains('2'));
    }

    #[test]
    fn never_panics_on_odd_input() {
        for input in ["", "```", "[a](", "<", "</div>", "| a |\n|-", "> > > x", "*a **b", "\u{0}", "[^1]\n\n[^1]: note"] {
            let nodes = render(input);
            let _ = plain_text(&nodes);
        }
    }
}
