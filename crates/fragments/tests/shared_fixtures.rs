//! Extraction over the shared fixtures (real and synthetic chat content), when present.

use std::path::PathBuf;

use dreamcatcher_fragments::{code_block, extract, push_code_block};
use dreamcatcher_model::{CodeOrigin, Fragments, TodoMarker};

fn shared_fixtures() -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures");
    if path.is_dir() {
        Some(path)
    } else {
        println!("skipping: shared fixtures not found at {}", path.display());
        None
    }
}

fn read(path: &PathBuf) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("reading {}: {error}", path.display()))
}

#[test]
fn codemirror_expected_markdown_gives_its_python_block_exactly() {
    let Some(root) = shared_fixtures() else {
        return;
    };
    let fragments = extract(&read(
        &root.join("chatgpt/2026-03-codemirror-block.expected.md"),
    ));
    let languages: Vec<&str> = fragments
        .code_blocks
        .iter()
        .map(|b| b.language.as_str())
        .collect();
    assert_eq!(languages, vec!["json", "python"]);
    let python = &fragments.code_blocks[1];
    assert!(!python.language_guessed);
    assert!(
        python
            .code
            .starts_with("def fibonacci_generator(n):\n    a, b = 0, 1\n")
    );
    assert!(
        python
            .code
            .ends_with("for num in fibonacci_generator(10):\n    print(num)\n")
    );
    assert_eq!(python.line_count, 8);
}

/// Every string in every export: no panic, and each fenced block found with its language.
#[test]
fn export_messages_give_one_block_per_fence_pair() {
    let Some(root) = shared_fixtures() else {
        return;
    };
    let mut fenced_messages = 0;
    for name in [
        "chatgpt-api-branch-synthetic.json",
        "claude-api-tree-synthetic.json",
        "claude-export-synthetic.json",
        "chatgpt-2023-09-code-interpreter.json",
    ] {
        let json: serde_json::Value = serde_json::from_str(&read(&root.join("exports").join(name)))
            .unwrap_or_else(|error| panic!("{name}: {error}"));
        let mut strings = Vec::new();
        collect_strings(&json, &mut strings);
        for text in strings {
            let fragments = extract(text);
            let fences = text.matches("```").count();
            if fences > 0 {
                fenced_messages += 1;
                assert_eq!(fragments.code_blocks.len(), fences / 2, "{name}: {text:?}");
                for block in &fragments.code_blocks {
                    assert!(
                        ["sql", "go", "rust"].contains(&block.language.as_str()),
                        "{name}: {block:?}"
                    );
                }
            }
        }
    }
    assert!(
        fenced_messages >= 5,
        "only {fenced_messages} messages with fences"
    );
}

#[test]
fn artifact_code_is_scanned_for_todos() {
    let Some(root) = shared_fixtures() else {
        return;
    };
    let json: serde_json::Value =
        serde_json::from_str(&read(&root.join("exports/claude-api-tree-synthetic.json")))
            .unwrap_or_default();
    let input = &json["chat_messages"][2]["content"][2]["input"];
    let (Some(language), Some(content)) = (input["language"].as_str(), input["content"].as_str())
    else {
        panic!("artifact input not found: {input}");
    };
    let mut fragments = Fragments::default();
    push_code_block(
        &mut fragments,
        code_block(language, content, CodeOrigin::Artifact),
    );
    assert_eq!(fragments.code_blocks[0].language, "go");
    assert_eq!(fragments.todos.len(), 1);
    assert_eq!(fragments.todos[0].marker, TodoMarker::Todo);
    assert_eq!(fragments.todos[0].text, "add jitter");
    assert_eq!(fragments.todos[0].line, 3);
}

fn collect_strings<'a>(value: &'a serde_json::Value, out: &mut Vec<&'a str>) {
    match value {
        serde_json::Value::String(text) => out.push(text),
        serde_json::Value::Array(items) => items.iter().for_each(|item| collect_strings(item, out)),
        serde_json::Value::Object(fields) => {
            fields.values().for_each(|item| collect_strings(item, out))
        }
        _ => {}
    }
}
