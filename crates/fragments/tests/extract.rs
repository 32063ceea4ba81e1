//! `extract` on whole messages: code text, line numbers, TODOs, hints and links.

use dreamcatcher_fragments::{extract, hints};
use dreamcatcher_model::{CodeOrigin, TodoMarker};

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("reading {path}: {error}"))
}

#[test]
fn fenced_and_indented_blocks_in_order_with_exact_code() {
    let fragments = extract(&fixture("assistant-answer.md"));
    let blocks: Vec<(&str, &str)> = fragments
        .code_blocks
        .iter()
        .map(|b| (b.language.as_str(), b.code.as_str()))
        .collect();
    assert_eq!(
        blocks,
        vec![
            (
                "html",
                "<!-- TODO: add a favicon -->\n<ul id=\"items\"></ul>\n"
            ),
            (
                "javascript",
                "const items = [];\nfunction add(text) {\n  // FIXME: trim whitespace\n  items.push(text);\n  console.log(items);\n}\n"
            ),
            ("bash", "$ npx serve .\n"),
            (
                "javascript",
                "// console.log(\"commented out, no hint\")\ndebugger;\n"
            ),
        ]
    );
    assert!(
        fragments
            .code_blocks
            .iter()
            .all(|b| b.origin == CodeOrigin::Fence)
    );
    // The indented block had no label: its language was guessed from the `$ ` prompt.
    assert!(fragments.code_blocks[2].language_guessed);
    assert!(!fragments.code_blocks[1].language_guessed);
    assert_eq!(fragments.code_blocks[1].line_count, 6);
}

#[test]
fn todos_from_code_prose_and_tasks_with_their_lines() {
    let fragments = extract(&fixture("assistant-answer.md"));
    let todos: Vec<(TodoMarker, &str, u32, Option<usize>)> = fragments
        .todos
        .iter()
        .map(|t| (t.marker, t.text.as_str(), t.line, t.code_block))
        .collect();
    assert_eq!(
        todos,
        vec![
            (
                TodoMarker::Todo,
                "add persistence tests before shipping.",
                7,
                None
            ),
            (TodoMarker::Todo, "add a favicon", 1, Some(0)),
            (TodoMarker::Fixme, "trim whitespace", 3, Some(1)),
            (TodoMarker::Task, "write the README", 38, None),
            (
                TodoMarker::Task,
                "deploy to https://example.test/deploy",
                40,
                None
            ),
        ]
    );
}

#[test]
fn hints_point_at_their_block_and_line() {
    let fragments = extract(&fixture("assistant-answer.md"));
    let found: Vec<(&str, u32, Option<usize>)> = fragments
        .hints
        .iter()
        .map(|h| (h.description.as_str(), h.line, h.code_block))
        .collect();
    assert_eq!(
        found,
        vec![
            (hints::CONSOLE_LOG, 5, Some(1)),
            (hints::DEBUGGER, 2, Some(3))
        ]
    );
}

#[test]
fn links_with_text_deduplicated_without_images() {
    let markdown = format!(
        "{}\nAgain: [MDN](https://developer.mozilla.org/en-US/docs/Web/API/Window/localStorage)\n",
        fixture("assistant-answer.md")
    );
    let fragments = extract(&markdown);
    let links: Vec<(&str, &str)> = fragments
        .links
        .iter()
        .map(|l| (l.url.as_str(), l.text.as_str()))
        .collect();
    assert_eq!(
        links,
        vec![
            (
                "https://developer.mozilla.org/en-US/docs/Web/API/Window/localStorage",
                "the MDN guide"
            ),
            (
                "https://example.test/todo-tutorial",
                "https://example.test/todo-tutorial"
            ),
            ("https://example.test/deploy", "https://example.test/deploy"),
        ]
    );
}

#[test]
fn links_keep_inline_formatting_text_and_emails_become_mailto() {
    let fragments = extract(
        "See [the **`Vec`** docs](https://doc.rust-lang.org/std/vec/) or <me@example.test>.",
    );
    assert_eq!(fragments.links[0].text, "the Vec docs");
    assert_eq!(fragments.links[1].url, "mailto:me@example.test");
    assert_eq!(fragments.links.len(), 2);
}

#[test]
fn bare_urls_drop_trailing_punctuation_and_skip_code() {
    let fragments = extract(
        "Read https://example.test/a (or https://example.test/b). Not `https://example.test/c`.\n\n```\nhttps://example.test/d\n```\n",
    );
    let urls: Vec<&str> = fragments.links.iter().map(|l| l.url.as_str()).collect();
    assert_eq!(
        urls,
        vec!["https://example.test/a", "https://example.test/b"]
    );
}

#[test]
fn backtick_fence_inside_tilde_fence_is_code() {
    let fragments = extract("~~~markdown\n```python\nprint(1)\n```\n~~~\n");
    assert_eq!(fragments.code_blocks.len(), 1);
    assert_eq!(fragments.code_blocks[0].language, "markdown");
    assert_eq!(fragments.code_blocks[0].code, "```python\nprint(1)\n```\n");
}

#[test]
fn longer_fence_contains_shorter_one() {
    let fragments = extract("````\n```\nx\n```\n````\n");
    assert_eq!(fragments.code_blocks.len(), 1);
    assert_eq!(fragments.code_blocks[0].code, "```\nx\n```\n");
}

#[test]
fn code_in_list_items_and_blockquotes_loses_the_container_indentation() {
    let markdown = "- step\n\n  ```python\n  def f():\n      return 1\n  ```\n\n> ```\n> quoted\n>   indented\n> ```\n\n1. item\n\n       four_spaces_past_the_item()\n";
    let fragments = extract(markdown);
    let codes: Vec<&str> = fragments
        .code_blocks
        .iter()
        .map(|b| b.code.as_str())
        .collect();
    assert_eq!(
        codes,
        vec![
            "def f():\n    return 1\n",
            "quoted\n  indented\n",
            "four_spaces_past_the_item()\n"
        ]
    );
}

#[test]
fn crlf_input_gives_lf_code_and_the_same_line_numbers() {
    let lf = "Intro\n\n```js\nlet a = 1;\n// TODO: more\nconsole.log(a);\n```\n\nTODO: after\n";
    let crlf = lf.replace('\n', "\r\n");
    let from_lf = extract(lf);
    let from_crlf = extract(&crlf);
    assert_eq!(from_crlf, from_lf);
    assert_eq!(
        from_crlf.code_blocks[0].code,
        "let a = 1;\n// TODO: more\nconsole.log(a);\n"
    );
    assert_eq!(from_crlf.todos[0].line, 2);
    assert_eq!(from_crlf.todos[1].line, 9);
    assert_eq!(from_crlf.hints[0].line, 3);
}

#[test]
fn unclosed_fence_runs_to_the_end_and_gets_a_final_newline() {
    let fragments = extract("Text\n\n```rust\nfn main() {}");
    assert_eq!(fragments.code_blocks[0].code, "fn main() {}\n");
    assert_eq!(fragments.code_blocks[0].language, "rust");
}

#[test]
fn whitespace_only_blocks_are_skipped_and_indices_stay_dense() {
    let fragments = extract("```\n\n\n```\n\n```js\nconsole.log(1)\n```\n");
    assert_eq!(fragments.code_blocks.len(), 1);
    assert_eq!(fragments.hints[0].code_block, Some(0));
}

#[test]
fn content_key_ignores_whitespace_only_differences() {
    let a = extract("```python\ndef f():\n    return 1\n```\n");
    let b = extract("- x\n\n  ```py\n  def f():\n    return 1\n\n  ```\n");
    let c = extract("```python\ndef f():\n    return 2\n```\n");
    assert_eq!(a.code_blocks[0].content_key, b.code_blocks[0].content_key);
    assert_ne!(a.code_blocks[0].content_key, c.code_blocks[0].content_key);
}

#[test]
fn prose_mentions_of_todo_are_not_todos() {
    let fragments = extract(
        "# Todo list app\n\nA todo list app in React. We left a TODO in the code.\n\nSearch for `TODO:` comments.\n",
    );
    assert!(fragments.todos.is_empty(), "{:?}", fragments.todos);
}

#[test]
fn prose_todo_forms_and_html_comments() {
    let fragments = extract(
        "Intro\n\n**TODO**: bold marker\n\n## FIXME: heading\n\n<!-- HACK: hidden note -->\n\nText <!-- todo inline note --> more\n",
    );
    let todos: Vec<(TodoMarker, &str, u32)> = fragments
        .todos
        .iter()
        .map(|t| (t.marker, t.text.as_str(), t.line))
        .collect();
    assert_eq!(
        todos,
        vec![
            (TodoMarker::Todo, "bold marker", 3),
            (TodoMarker::Fixme, "heading", 5),
            (TodoMarker::Hack, "hidden note", 7),
            (TodoMarker::Todo, "inline note", 9),
        ]
    );
}

#[test]
fn task_items_loose_nested_and_multiline() {
    let markdown = "- [ ] first\n  continues here\n  - [ ] nested\n- [X] done\n\n> - [ ] quoted\n";
    let fragments = extract(markdown);
    let tasks: Vec<(&str, u32)> = fragments
        .todos
        .iter()
        .map(|t| (t.text.as_str(), t.line))
        .collect();
    assert_eq!(
        tasks,
        vec![("first continues here", 1), ("nested", 3), ("quoted", 6)]
    );
    assert!(fragments.todos.iter().all(|t| t.marker == TodoMarker::Task));
}

#[test]
fn code_todo_markers_in_each_comment_style() {
    let markdown = "```\n// TODO: slashes\n# todo hash\n/* FIXME: block */\n-- HACK: dashes\n<!-- TODO: html -->\nnot a todo\n```\n";
    let fragments = extract(markdown);
    let todos: Vec<(&str, u32)> = fragments
        .todos
        .iter()
        .map(|t| (t.text.as_str(), t.line))
        .collect();
    assert_eq!(
        todos,
        vec![
            ("slashes", 1),
            ("hash", 2),
            ("block", 3),
            ("dashes", 4),
            ("html", 5)
        ]
    );
}

#[test]
fn empty_and_odd_inputs_give_nothing() {
    for markdown in [
        "", "\n\n", "```", "~~~\n", "[]()", "<>", "- [ ]", "\r", "\u{0}",
    ] {
        let fragments = extract(markdown);
        assert!(fragments.code_blocks.is_empty(), "{markdown:?}");
    }
}
