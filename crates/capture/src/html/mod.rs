//! HTML → Markdown for chat message bodies, and small tools over the `tl` tree for the
//! page-layout modules.
//!
//! The pipeline is [`repair`] (fixes the markup `tl` would misread), [`parse`] (`tl`), then
//! a tree walk ([`node_to_markdown`]). Output is GFM in turndown's style (the suite in
//! `tests/turndown.rs` checks it) with these choices: ATX headings, fenced code blocks with
//! the language, `~~` strikethrough, `$…$`/`$$…$$` math from KaTeX's TeX source, no
//! trailing whitespace, and never raw HTML: unknown elements give their text, scripts,
//! styles, SVG, buttons and form controls give nothing, `javascript:`/`vbscript:`/`data:`
//! links and images keep only their text.

mod code;
mod convert;
pub mod dom;
mod escape;
mod repair;
pub mod select;
mod writer;

pub use dom::text_content;
pub use repair::repair;

/// Why HTML could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HtmlError {
    #[error("HTML input of {bytes} bytes is over the parser's 4 GiB limit")]
    TooLarge { bytes: usize },
}

/// Parses HTML into a `tl` tree after [`repair`]. The tree borrows the repaired text, so
/// this takes it from the caller:
///
/// ```
/// use dreamcatcher_capture::html;
///
/// let source = html::repair("<p>one<br/>two</p>");
/// let dom = html::parse(&source).unwrap();
/// assert_eq!(html::node_to_markdown(dom.parser(), dom.children()[0]), "one  \ntwo");
/// ```
pub fn parse(repaired: &str) -> Result<tl::VDom<'_>, HtmlError> {
    tl::parse(repaired, tl::ParserOptions::default()).map_err(|_| HtmlError::TooLarge {
        bytes: repaired.len(),
    })
}

/// Converts an HTML fragment or document to Markdown. For a document, only `<body>` is
/// converted (everything when there is none); `<head>` never contributes.
pub fn html_to_markdown(html: &str) -> String {
    let source = repair(html);
    let Ok(dom) = parse(&source) else {
        return String::new();
    };
    let parser = dom.parser();
    let roots = match find_body(parser, dom.children()) {
        Some(body) => vec![body],
        None => dom.children().to_vec(),
    };
    let mut converter = convert::Converter::new(parser, html.len() / 4);
    for root in roots {
        converter.convert(root);
    }
    converter.finish()
}

/// The Markdown of one element (or text node) and everything inside it. Page modules
/// select a message body and pass it here; the tree should come from [`parse`] of
/// [`repair`]ed HTML.
pub fn node_to_markdown(parser: &tl::Parser, node: tl::NodeHandle) -> String {
    let mut converter = convert::Converter::new(parser, 1024);
    converter.convert(node);
    converter.finish()
}

/// `<body>` among the top-level nodes or the children of `<html>`.
fn find_body(parser: &tl::Parser<'_>, top: &[tl::NodeHandle]) -> Option<tl::NodeHandle> {
    top.iter().find_map(|&node| {
        let tag = dom::element(parser, node)?;
        if dom::is_tag(tag, "body") {
            return Some(node);
        }
        if !dom::is_tag(tag, "html") {
            return None;
        }
        dom::child_elements(parser, node)
            .find(|(_, child)| dom::is_tag(child, "body"))
            .map(|(handle, _)| handle)
    })
}
