//! Fragment extraction from message Markdown: code blocks (with their language), TODO items,
//! "potential issue" hints and links.
//!
//! Pure and total: every function takes any text, never panics, never executes or fetches
//! anything, and has no clock or randomness, so it runs the same natively and in wasm.
//!
//! # Code block text
//!
//! [`CodeBlock::code`] is the block's content as CommonMark defines it: the lines between
//! the fences (or of the indented block), with the container's indentation removed (a block
//! inside a list item or a blockquote comes out as the code itself), each line ending in
//! `\n` (CRLF and lone CR are read as line ends and become `\n`). A block whose fence was
//! never closed ends at the end of its container and gets the same final `\n`. Blocks holding
//! only whitespace are skipped: they are not reusable fragments.
//!
//! # Line numbers
//!
//! TODO and hint lines are 1-based: within the code block when `code_block` is set (counting
//! lines of [`CodeBlock::code`]), else within the message's Markdown.

mod comments;
pub mod hints;
mod language;
mod markdown;
mod todos;

use dreamcatcher_model::{CodeBlock, CodeOrigin, Fragments, TodoItem};

pub use language::{guess_language, normalize_language};

/// Extracts every fragment from one message's Markdown.
///
/// - Code blocks, fenced and indented, in document order (see the crate docs for their text).
/// - TODO/FIXME/HACK markers. In code comments (`//`, `#`, `/* */`, `--`, `<!-- -->`, as the
///   block's language writes them; all of them when the language is unknown) the marker opens
///   the comment, in any case, followed by `:`, a space or `(owner)`. In prose, where the words
///   are also ordinary words ("a todo list app"), it must be followed by `:` and be in capitals
///   unless it opens the line (`TODO: …`, `**FIXME**: …`, `Todo: …`); inside inline code it
///   does not count. Also `<!-- TODO … -->` in the Markdown's HTML.
/// - Unchecked task-list items (`- [ ] …`) as [`TodoMarker::Task`](dreamcatcher_model::TodoMarker).
/// - Hints on the code: see [`hints`] for the rules.
/// - Links: `[text](url)`, `<autolinks>` (emails as `mailto:`), bare `http(s)://` URLs in prose;
///   not images, not URLs in code; deduplicated by URL in order of first appearance.
pub fn extract(markdown: &str) -> Fragments {
    markdown::extract(markdown)
}

/// Builds a code block from a source-stated language label (possibly empty) and its code.
///
/// The code is kept exactly as given. The label goes through [`normalize_language`]; when
/// that gives no language (no label, `text`, `Copy code`, …), [`guess_language`] is asked
/// and `language_guessed` records that the name came from the guess.
pub fn code_block(language_label: &str, code: &str, origin: CodeOrigin) -> CodeBlock {
    owned_code_block(language_label, code.to_string(), origin)
}

/// [`code_block`] for code the caller already owns, saving a copy of large blocks.
pub(crate) fn owned_code_block(
    language_label: &str,
    code: String,
    origin: CodeOrigin,
) -> CodeBlock {
    let stated = normalize_language(language_label);
    let (language, language_guessed) = if stated.is_empty() {
        match guess_language(&code) {
            Some(guessed) => (guessed.to_string(), true),
            None => (String::new(), false),
        }
    } else {
        (stated, false)
    };
    CodeBlock {
        language,
        language_guessed,
        line_count: u32::try_from(code.lines().count()).unwrap_or(u32::MAX),
        content_key: dreamcatcher_model::content_key(&code),
        code,
        title: None,
        origin,
    }
}

/// Appends a code block to `fragments` together with the TODOs and hints found in it, so a
/// block added after [`extract`] (an artifact, a selection) is scanned like the others.
pub fn push_code_block(fragments: &mut Fragments, block: CodeBlock) {
    let index = fragments.code_blocks.len();
    scan_code(&block, index, &mut fragments.todos, &mut fragments.hints);
    fragments.code_blocks.push(block);
}

/// Finds the TODO comments and hints of one code block, numbered within the block.
fn scan_code(
    block: &CodeBlock,
    index: usize,
    todos: &mut Vec<TodoItem>,
    hints: &mut Vec<dreamcatcher_model::Hint>,
) {
    let mut comment_scanner = comments::CommentScanner::new(comments::syntax_for(&block.language));
    let mut hint_scanner = hints::HintScanner::new(&block.language, index);
    let mut split = comments::SplitLine::default();
    for (number, line) in (1..=u32::MAX).zip(block.code.lines()) {
        comment_scanner.split(line, &mut split);
        if let Some((marker, text)) = split
            .comments
            .iter()
            .find_map(|comment| todos::comment_todo(comment))
        {
            todos.push(TodoItem {
                marker,
                text,
                line: number,
                code_block: Some(index),
            });
        }
        hint_scanner.line(number, line, &split, hints);
    }
    hint_scanner.finish(hints);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_block_keeps_code_and_normalises_the_label() {
        let block = code_block("Python3", "print(1)\n", CodeOrigin::Artifact);
        assert_eq!(block.language, "python");
        assert!(!block.language_guessed);
        assert_eq!(block.code, "print(1)\n");
        assert_eq!(block.line_count, 1);
        assert_eq!(
            block.content_key,
            dreamcatcher_model::content_key("print(1)")
        );
        assert_eq!(block.origin, CodeOrigin::Artifact);
    }

    #[test]
    fn code_block_guesses_when_the_label_says_nothing() {
        let block = code_block("Copy code", "fn main() {}\n", CodeOrigin::Fence);
        assert_eq!(block.language, "rust");
        assert!(block.language_guessed);
        let block = code_block("", "just some words\n", CodeOrigin::Fence);
        assert_eq!(block.language, "");
        assert!(!block.language_guessed);
    }

    #[test]
    fn line_count_counts_a_last_line_without_newline() {
        assert_eq!(code_block("", "a\nb", CodeOrigin::Fence).line_count, 2);
        assert_eq!(code_block("", "a\nb\n", CodeOrigin::Fence).line_count, 2);
        assert_eq!(code_block("", "", CodeOrigin::Fence).line_count, 0);
    }

    #[test]
    fn pushed_blocks_are_scanned_with_their_index() {
        let mut fragments = extract("```js\nlet a;\n```\n");
        push_code_block(
            &mut fragments,
            code_block(
                "javascript",
                "// TODO: wire up\nconsole.log(1);\n",
                CodeOrigin::Artifact,
            ),
        );
        assert_eq!(fragments.code_blocks.len(), 2);
        assert_eq!(fragments.todos[0].code_block, Some(1));
        assert_eq!(fragments.todos[0].line, 1);
        assert_eq!(fragments.hints[0].code_block, Some(1));
        assert_eq!(fragments.hints[0].line, 2);
    }
}
