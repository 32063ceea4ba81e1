//! Our own HTML → Markdown fixture pairs (tests/fixtures/html/*.html → *.expected.md, invented
//! text). Each `.expected.md` is the exact Markdown plus one final newline that is not part
//! of the output.

use std::path::{Path, PathBuf};

use dreamcatcher_capture::html::{self, select};

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/html")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn convert_fixture(name: &str) -> String {
    html::html_to_markdown(&read(&fixture_dir().join(format!("{name}.html"))))
}

#[test]
fn every_fixture_converts_to_its_expected_markdown() {
    let mut checked = 0;
    let mut failures = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(fixture_dir())
        .expect("fixture dir")
        .map(|entry| entry.expect("dir entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "html"))
        .collect();
    entries.sort();
    for html_path in entries {
        let expected_path = html_path.with_extension("expected.md");
        let expected = read(&expected_path);
        let expected = expected.strip_suffix('\n').unwrap_or(&expected);
        let actual = html::html_to_markdown(&read(&html_path));
        checked += 1;
        if actual != expected {
            failures.push(format!(
                "{}:\n--- expected\n{expected}\n--- actual\n{actual}\n---",
                html_path.display()
            ));
        }
    }
    assert!(checked >= 12, "only {checked} fixtures found");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The fenced blocks of `markdown`: (info string, code).
fn fenced_blocks(markdown: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut lines = markdown.lines();
    while let Some(line) = lines.next() {
        let trimmed = line.trim_start();
        let fence_len = trimmed.bytes().take_while(|&b| b == b'`').count();
        if fence_len < 3 {
            continue;
        }
        let indent = line.len() - trimmed.len();
        let info = trimmed[fence_len..].to_string();
        let mut code = String::new();
        for inner in lines.by_ref() {
            let inner = inner.get(indent..).unwrap_or("");
            if inner.starts_with(&"`".repeat(fence_len))
                && inner.trim_end().bytes().all(|b| b == b'`')
            {
                break;
            }
            code.push_str(inner);
            code.push('\n');
        }
        blocks.push((info, code));
    }
    blocks
}

#[test]
fn codemirror_code_is_exact() {
    let blocks = fenced_blocks(&convert_fixture("codemirror-block"));
    assert_eq!(blocks.len(), 1);
    let (language, code) = &blocks[0];
    assert_eq!(language, "typescript");
    assert_eq!(
        code,
        "export function trimLines(text: string): string {\n  return text\n    .split(\"\\n\")\n    .map((line) => line.trimEnd())\n\n    .join(\"\\n\"); // a && b < c\n}\n"
    );
}

#[test]
fn prism_code_keeps_language_and_drops_the_label_and_buttons() {
    let markdown = convert_fixture("prism-blocks");
    let blocks = fenced_blocks(&markdown);
    assert_eq!(blocks.len(), 2);
    assert_eq!(blocks[0].0, "python");
    assert!(
        blocks[0]
            .1
            .starts_with("def greet(name):\n    if name == \"<nobody>\":\n")
    );
    assert_eq!(
        blocks[1],
        ("bash".to_string(), "ls -la | grep \"*.rs\"\n".to_string())
    );
    assert!(!markdown.contains("Copy code"));
    assert!(
        !markdown.lines().any(|line| line.trim() == "python"),
        "label leaked:\n{markdown}"
    );
}

/// Every `<` outside code and TeX must be escaped (or open a `](<destination>)`): no tag
/// can come alive when the Markdown is rendered.
fn assert_no_live_tag(markdown: &str) {
    let mut in_block = false;
    for line in markdown.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed == "$$" {
            in_block = !in_block;
            continue;
        }
        if in_block {
            continue;
        }
        let mut in_code_span = false;
        let mut in_math = false;
        let mut before = [' ', ' '];
        for ch in line.chars() {
            if ch == '`' && before[1] != '\\' {
                in_code_span = !in_code_span;
            }
            if ch == '$' && before[1] != '\\' && !in_code_span {
                in_math = !in_math;
            }
            if ch == '<' && !in_code_span && !in_math {
                let escaped = before[1] == '\\';
                let destination = before == [']', '('];
                assert!(escaped || destination, "unescaped `<` in line {line:?}");
            }
            before = [before[1], ch];
        }
    }
}

#[test]
fn hostile_content_stays_inert() {
    let markdown = convert_fixture("hostile");
    assert_no_live_tag(&markdown);
    for gone in [
        "alert(1)",
        "alert(2)",
        "alert(8)",
        "alert(9)",
        "alert(10)",
        "javascript",
        "data:",
        "color: red",
    ] {
        assert!(
            !markdown.contains(gone),
            "{gone:?} leaked into:\n{markdown}"
        );
    }
    for gone in [
        "svg text",
        "typed",
        "draft",
        "choice",
        "Click",
        "enable js",
        "template text",
    ] {
        assert!(
            !markdown.contains(gone),
            "{gone:?} leaked into:\n{markdown}"
        );
    }
    assert!(markdown.contains("![](x)"));
    assert!(
        markdown.contains("js image")
            && markdown.contains("js link")
            && markdown.contains("data link")
    );
    assert!(markdown.contains("\\<script>alert(6)\\</script>"));
}

#[test]
fn every_fixture_is_free_of_live_tags_and_trailing_noise() {
    for name in [
        "broken-markup",
        "citations",
        "entities",
        "gfm-table",
        "inline-formatting",
        "katex-math",
        "nested-lists",
    ] {
        let markdown = convert_fixture(name);
        assert_no_live_tag(&markdown);
        for line in markdown.lines() {
            let trailing = line.len() - line.trim_end().len();
            // Two spaces are a hard line break; anything else is noise.
            assert!(
                trailing == 0 || (trailing == 2 && line.ends_with("  ")),
                "{name}: trailing whitespace in {line:?}"
            );
        }
    }
}

#[test]
fn broken_markup_keeps_every_word() {
    let markdown = convert_fixture("broken-markup");
    for word in [
        "Unclosed",
        "bold",
        "Next",
        "italic",
        "one",
        "two",
        "Pretty",
        "span",
        "link",
        "Self-closing",
        "then",
        "comparison",
        "Stray",
        "ignored",
        "Mismatched",
        "nesting",
        "here",
        "ends",
        "after",
        "odd",
        "Upper",
        "case",
        "code",
        "end",
    ] {
        assert!(markdown.contains(word), "{word:?} lost from:\n{markdown}");
    }
    assert!(markdown.contains("| a | b |\n| --- | --- |\n| c | d |"));
    assert!(markdown.contains("*   one\n*   two"));
}

#[test]
fn node_to_markdown_converts_a_selected_body() {
    let source = read(&fixture_dir().join("whitespace-pre-wrap.html"));
    let repaired = html::repair(&source);
    let dom = html::parse(&repaired).expect("parses");
    let selector = select::Selector::parse("[data-message-author-role=user] .whitespace-pre-wrap")
        .expect("selector");
    let found = select::select_all(dom.parser(), dom.children(), &selector);
    assert_eq!(found.len(), 1);
    let markdown = html::node_to_markdown(dom.parser(), found[0]);
    assert_eq!(
        markdown,
        "First line of my question  \nsecond line with \\*stars\\*\n\nA new paragraph after a blank line."
    );
    let text = html::text_content(dom.parser(), found[0]);
    assert_eq!(
        text,
        "First line of my question\nsecond line with *stars*\n\nA new paragraph after a blank line."
    );
}
