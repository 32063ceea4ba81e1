//! Code blocks: the exact text and language of a `<pre>`, whichever way the page built it.
//!
//! - `pre > code.language-x` (highlight.js, Prism, Claude's `pre.code-block__code`): the code
//!   element's text, token spans flattened.
//! - ChatGPT since 2026-03: `pre[data-start][data-end]` wrapping a CodeMirror viewer whose
//!   `.cm-content` holds the code with `<br>` (or `.cm-line` blocks) as line breaks; the
//!   language is plain text in a header next to copy/run buttons.
//! - ChatGPT before that: `pre` > header ("python" + "Copy code" button) > `code.language-x`.
//! - GitHub: `div.highlight-source-js > pre` with the language in the wrapper's class.
//! - A bare `<pre>`: its own text.

use tl::{HTMLTag, Node, NodeHandle, Parser};

use super::dom::{self, Kind};

/// A code block's text (entities decoded, line breaks as `\n`, otherwise exact) and language.
pub(crate) struct CodeBlock {
    pub code: String,
    pub language: Option<String>,
}

/// Extracts the code block of `pre`; `parent` is the element around it, when known.
pub(crate) fn extract(
    parser: &Parser<'_>,
    pre: NodeHandle,
    parent: Option<&HTMLTag<'_>>,
) -> CodeBlock {
    let mut source = find_source(parser, pre);
    let mut code = String::new();
    if let Some(node) = source.node {
        dom::append_text_content(parser, node, &mut code, false);
        if code.trim().is_empty() {
            // An empty code element: the text around it is the content, not a label.
            code.clear();
            source = Source {
                node: None,
                header: None,
            };
        }
    }
    if source.node.is_none() {
        dom::append_text_content(parser, pre, &mut code, true);
    }
    if code.contains('\r') {
        code = code.replace("\r\n", "\n").replace('\r', "\n");
    }
    let language = language_of(parser, pre, parent, source);
    CodeBlock { code, language }
}

/// The language of the code block in `pre`, without extracting its text.
pub(crate) fn language(
    parser: &Parser<'_>,
    pre: NodeHandle,
    parent: Option<&HTMLTag<'_>>,
) -> Option<String> {
    language_of(parser, pre, parent, find_source(parser, pre))
}

fn language_of(
    parser: &Parser<'_>,
    pre: NodeHandle,
    parent: Option<&HTMLTag<'_>>,
    source: Source,
) -> Option<String> {
    source
        .node
        .and_then(|node| dom::element(parser, node))
        .and_then(class_language)
        .or_else(|| dom::element(parser, pre).and_then(class_language))
        .or_else(|| parent.and_then(highlight_language))
        .or(source.header)
}

struct Source {
    /// The element holding the code, or None for the `<pre>`'s own text.
    node: Option<NodeHandle>,
    /// A language label found as plain text beside the code.
    header: Option<String>,
}

fn find_source(parser: &Parser<'_>, pre: NodeHandle) -> Source {
    let end = dom::subtree_end(parser, pre);
    let first = pre.get_inner().saturating_add(1);
    let mut codes = 0usize;
    let mut first_code = None;
    for id in first..=end {
        let handle = NodeHandle::new(id);
        let Some(tag) = dom::element(parser, handle) else {
            continue;
        };
        if dom::has_class(tag, "cm-content") {
            return Source {
                node: Some(handle),
                header: header_label(parser, first, id),
            };
        }
        if dom::is_tag(tag, "code") {
            codes += 1;
            first_code.get_or_insert(handle);
        }
    }
    let Some(code) = first_code else {
        return Source {
            node: None,
            header: None,
        };
    };
    if codes > 1 {
        return Source {
            node: None,
            header: None,
        };
    }
    // Text outside the code element must be no more than a language label (buttons aside),
    // or the `<pre>` is prose with inline code in it.
    let code_end = dom::subtree_end(parser, code);
    let mut outside_words = 0usize;
    let mut label = None;
    let mut skip_until = 0u32;
    for id in first..=end {
        if id <= skip_until || (id >= code.get_inner() && id <= code_end) {
            continue;
        }
        match NodeHandle::new(id).get(parser) {
            Some(Node::Tag(tag)) if dom::kind_of(dom::tag_name(tag)) == Kind::Drop => {
                skip_until = dom::subtree_end(parser, NodeHandle::new(id));
            }
            Some(Node::Raw(raw)) => {
                let text = dom::decode_bytes(raw.as_bytes());
                for word in text.split_whitespace() {
                    outside_words += 1;
                    if label.is_none() {
                        label = Some(word.to_string());
                    }
                }
            }
            _ => {}
        }
    }
    match outside_words {
        0 => Source {
            node: Some(code),
            header: None,
        },
        1 => Source {
            node: Some(code),
            header: label.and_then(|l| normalize_label(&l)),
        },
        _ => Source {
            node: None,
            header: None,
        },
    }
}

/// The first text (outside buttons and icons) between ids `from` and `before`: the header
/// label of a CodeMirror block.
fn header_label(parser: &Parser<'_>, from: u32, before: u32) -> Option<String> {
    let mut skip_until = 0u32;
    for id in from..before {
        if id <= skip_until && skip_until != 0 {
            continue;
        }
        match NodeHandle::new(id).get(parser) {
            Some(Node::Tag(tag)) if dom::kind_of(dom::tag_name(tag)) == Kind::Drop => {
                skip_until = dom::subtree_end(parser, NodeHandle::new(id));
            }
            Some(Node::Raw(raw)) => {
                let text = dom::decode_bytes(raw.as_bytes());
                let text = text.trim();
                if !text.is_empty() {
                    return normalize_label(text);
                }
            }
            _ => {}
        }
    }
    None
}

/// A label is a language name when it is one short word.
fn normalize_label(label: &str) -> Option<String> {
    let ok = !label.is_empty()
        && label.len() <= 40
        && !label.chars().any(|c| c.is_whitespace() || c == '`');
    ok.then(|| label.to_lowercase())
}

/// `language-x` / `lang-x` in the element's classes.
fn class_language(tag: &HTMLTag<'_>) -> Option<String> {
    memchr::memmem::find(dom::class_bytes(tag), b"lang")?;
    let classes = dom::class_attr(tag);
    classes.split_ascii_whitespace().find_map(|class| {
        class
            .strip_prefix("language-")
            .or_else(|| class.strip_prefix("lang-"))
            .filter(|name| !name.is_empty() && !name.contains('`'))
            .map(str::to_string)
    })
}

/// GitHub's `highlight-source-js` / `highlight-text-html-basic` wrapper classes.
fn highlight_language(tag: &HTMLTag<'_>) -> Option<String> {
    memchr::memmem::find(dom::class_bytes(tag), b"highlight-")?;
    let classes = dom::class_attr(tag);
    classes.split_ascii_whitespace().find_map(|class| {
        let rest = class
            .strip_prefix("highlight-source-")
            .or_else(|| class.strip_prefix("highlight-text-"))?;
        let name = rest.split('-').next().unwrap_or("");
        (!name.is_empty()).then(|| name.to_string())
    })
}

/// The fence for `code`: three backticks, or one more than the longest run of backticks
/// that starts a line (only such a run could close the block early).
pub(crate) fn fence_len(code: &str) -> usize {
    code.lines()
        .map(|line| {
            let indent = line.len() - line.trim_start_matches(' ').len();
            if indent > 3 {
                return 0;
            }
            line.trim_start_matches(' ')
                .bytes()
                .take_while(|&b| b == b'`')
                .count()
        })
        .filter(|&run| run >= 3)
        .map(|run| run + 1)
        .max()
        .unwrap_or(3)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn extract_first(html: &str) -> CodeBlock {
        let dom = tl::parse(html, Default::default()).expect("parses");
        let parser = dom.parser();
        let pre = (0..dom.nodes().len() as u32)
            .map(NodeHandle::new)
            .find(|h| dom::element(parser, *h).is_some_and(|t| dom::is_tag(t, "pre")))
            .expect("a pre");
        extract(parser, pre, None)
    }

    #[test]
    fn codemirror_lines_and_header() {
        let block = extract_first(
            r#"<pre data-start="1" data-end="9"><div><div>Rust<button>Copy</button></div><div class="cm-content"><span>fn main() {</span><br><span>    x &lt; 1;</span><br><br><span>}</span></div></div></pre>"#,
        );
        assert_eq!(block.code, "fn main() {\n    x < 1;\n\n}");
        assert_eq!(block.language.as_deref(), Some("rust"));
    }

    #[test]
    fn codemirror_line_divs() {
        let block = extract_first(
            r#"<pre><div class="cm-content"><div class="cm-line">a</div><div class="cm-line"><br></div><div class="cm-line">b</div></div></pre>"#,
        );
        assert_eq!(block.code, "a\n\nb");
    }

    #[test]
    fn old_chatgpt_header_inside_pre() {
        let block = extract_first(
            r#"<pre><div><div>python<button>Copy code</button></div><div><code class="hljs language-python"><span class="k">def</span> f(): pass
</code></div></div></pre>"#,
        );
        assert_eq!(block.code, "def f(): pass\n");
        assert_eq!(block.language.as_deref(), Some("python"));
    }

    #[test]
    fn pre_with_prose_and_inline_code_keeps_all_text() {
        let block = extract_first("<pre>run <code>ls</code> then <code>cd</code></pre>");
        assert_eq!(block.code, "run ls then cd");
        assert_eq!(block.language, None);
    }

    #[test]
    fn fence_grows_past_line_start_backtick_runs() {
        assert_eq!(fence_len("plain"), 3);
        assert_eq!(fence_len("a ``` b"), 3);
        assert_eq!(fence_len("```\nx\n````"), 5);
        assert_eq!(fence_len("   ```"), 4);
        assert_eq!(fence_len("    ```"), 3);
    }
}
