//! Fragment extraction from message Markdown.

use dreamcatcher_model::{CodeBlock, CodeOrigin, Fragments};

/// Extracts every fragment from one message's Markdown.
pub fn extract(markdown: &str) -> Fragments {
    let _ = markdown;
    Fragments::default()
}

/// Builds a code block from a source-stated language label (possibly empty) and its code.
pub fn code_block(language_label: &str, code: &str, origin: CodeOrigin) -> CodeBlock {
    CodeBlock {
        language: language_label.trim().to_ascii_lowercase(),
        language_guessed: false,
        code: code.to_string(),
        line_count: code.lines().count() as u32,
        content_key: dreamcatcher_model::content_key(code),
        title: None,
        origin,
    }
}
