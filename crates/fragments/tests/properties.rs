//! Property tests: no input makes extraction panic, and fenced code comes back exactly.

use dreamcatcher_fragments::{extract, guess_language, normalize_language};
use proptest::prelude::*;

/// Pieces of Markdown that steer the parser into its less common paths.
fn markdown_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("```".to_string()),
        Just("~~~".to_string()),
        Just("````js\n".to_string()),
        Just("- [ ] ".to_string()),
        Just("* [x] ".to_string()),
        Just("> ".to_string()),
        Just("    ".to_string()),
        Just("\t".to_string()),
        Just("\n".to_string()),
        Just("\r\n".to_string()),
        Just("\r".to_string()),
        Just("`".to_string()),
        Just("[".to_string()),
        Just("](".to_string()),
        Just(")".to_string()),
        Just("![".to_string()),
        Just("<".to_string()),
        Just("<!--".to_string()),
        Just("-->".to_string()),
        Just("/*".to_string()),
        Just("*/".to_string()),
        Just("//".to_string()),
        Just("# ".to_string()),
        Just("TODO: ".to_string()),
        Just("catch (e) {".to_string()),
        Just("except:".to_string()),
        Just("console.log(".to_string()),
        Just("https://example.test/x".to_string()),
        Just("| a | b |\n|---|---|\n".to_string()),
        Just("[^1]".to_string()),
        Just("\\".to_string()),
        Just("&amp;".to_string()),
        Just("\u{0}".to_string()),
        Just("é€😀".to_string()),
        "[a-z ]{1,8}",
        any::<String>(),
    ]
}

fn markdown() -> impl Strategy<Value = String> {
    prop::collection::vec(markdown_piece(), 0..60).prop_map(|pieces| pieces.concat())
}

/// A code line: anything but line ends and NUL (which CommonMark replaces).
fn code_line() -> impl Strategy<Value = String> {
    prop_oneof![
        "[^\n\r\u{0}]{0,30}",
        "[ \t]{0,4}[a-zA-Z(){};:=`~#/*<>!-]{0,20}",
        Just(String::new()),
        Just("```".to_string()),
        Just("~~~~".to_string()),
    ]
}

#[derive(Debug, Clone, Copy)]
enum Container {
    None,
    ListItem,
    BlockQuote,
}

#[derive(Debug, Clone)]
struct FencedBlock {
    label: &'static str,
    lines: Vec<String>,
    tilde: bool,
    container: Container,
}

impl FencedBlock {
    fn code(&self) -> String {
        self.lines.iter().map(|line| format!("{line}\n")).collect()
    }

    /// The block as Markdown: a fence longer than any run of its character in the code, so
    /// no code line can close it.
    fn markdown(&self) -> String {
        let fence_char = if self.tilde { '~' } else { '`' };
        let longest_run = self
            .lines
            .iter()
            .map(|line| longest_run(line, fence_char))
            .max()
            .unwrap_or(0);
        let fence: String = std::iter::repeat_n(fence_char, longest_run.max(2) + 1).collect();
        let mut lines = vec![format!("{fence}{}", self.label)];
        lines.extend(self.lines.iter().cloned());
        lines.push(fence);
        let prefix = match self.container {
            Container::None => "",
            Container::ListItem => "  ",
            Container::BlockQuote => "> ",
        };
        let body: String = lines
            .iter()
            .map(|line| format!("{prefix}{line}\n"))
            .collect();
        match self.container {
            Container::ListItem => format!("- item\n\n{body}"),
            _ => body,
        }
    }
}

fn longest_run(text: &str, wanted: char) -> usize {
    let mut longest = 0;
    let mut current = 0;
    for c in text.chars() {
        current = if c == wanted { current + 1 } else { 0 };
        longest = longest.max(current);
    }
    longest
}

fn fenced_block() -> impl Strategy<Value = FencedBlock> {
    (
        prop::sample::select(vec!["", "python", "rust", "js", "text", "Copy code", "c++"]),
        prop::collection::vec(code_line(), 1..12),
        any::<bool>(),
        prop_oneof![
            Just(Container::None),
            Just(Container::ListItem),
            Just(Container::BlockQuote)
        ],
    )
        .prop_map(|(label, lines, tilde, container)| FencedBlock {
            label,
            lines,
            tilde,
            container,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_markdown_never_panics(markdown in markdown()) {
        let fragments = extract(&markdown);
        for todo in &fragments.todos {
            prop_assert!(todo.line >= 1);
            if let Some(index) = todo.code_block {
                prop_assert!(index < fragments.code_blocks.len());
            }
        }
        for hint in &fragments.hints {
            prop_assert!(hint.line >= 1);
            prop_assert!(hint.code_block.is_some_and(|index| index < fragments.code_blocks.len()));
        }
    }

    #[test]
    fn arbitrary_text_never_panics_the_language_functions(text in any::<String>()) {
        let _ = normalize_language(&text);
        let _ = guess_language(&text);
    }

    #[test]
    fn fenced_blocks_round_trip_exactly(
        blocks in prop::collection::vec(fenced_block(), 1..5),
        // Prose starts with a visible character: four leading spaces would make it an indented code block.
        prose in "([A-Za-z,.!?][A-Za-z ,.!?]{0,39})?",
    ) {
        let mut markdown = String::new();
        for block in &blocks {
            markdown.push_str(&prose);
            markdown.push_str("\n\n");
            markdown.push_str(&block.markdown());
            markdown.push('\n');
        }
        let expected: Vec<String> = blocks
            .iter()
            .map(FencedBlock::code)
            .filter(|code| !code.trim().is_empty())
            .collect();
        let fragments = extract(&markdown);
        let found: Vec<String> = fragments.code_blocks.iter().map(|b| b.code.clone()).collect();
        prop_assert_eq!(found, expected, "markdown: {:?}", markdown);
    }
}
