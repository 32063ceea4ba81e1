//! The `dreamcatcher` binary as a user runs it: inputs of every kind, and bad inputs that
//! must give one clear line and a non-zero exit, never a panic.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn dreamcatcher(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dreamcatcher"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the dreamcatcher binary runs")
}

fn repo_fixture(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../capture/tests/fixtures").join(relative)
}

fn shared_fixtures() -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures");
    if path.is_dir() {
        Some(path)
    } else {
        println!("skipped: {} is absent", path.display());
        None
    }
}

fn parse_ok(path: &Path) -> Vec<Value> {
    let output = dreamcatcher(&["parse", path.to_str().unwrap()]);
    assert!(
        output.status.success(),
        "parse {} failed: {}",
        path.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let value: Value = serde_json::from_slice(&output.stdout).expect("parse prints JSON");
    value.as_array().expect("a JSON array").clone()
}

/// The keys the issue promises on every conversation and message.
fn assert_contract(conversations: &[Value]) {
    assert!(!conversations.is_empty());
    for conversation in conversations {
        for key in ["site", "title", "url", "messages"] {
            assert!(conversation.get(key).is_some(), "missing {key} in {conversation}");
        }
        let site = conversation["site"].as_str().unwrap();
        assert!(site == "chatgpt" || site == "claude");
        for message in conversation["messages"].as_array().unwrap() {
            let role = message["role"].as_str().unwrap();
            assert!(role == "user" || role == "assistant");
            assert!(message["markdown"].is_string());
            for block in message["code_blocks"].as_array().expect("code_blocks on every message") {
                assert!(block["language"].is_string() && block["code"].is_string());
            }
        }
    }
}

fn failure_line(args: &[&str]) -> String {
    let output = dreamcatcher(args);
    assert!(!output.status.success(), "expected failure for {args:?}");
    assert_eq!(output.status.code(), Some(1), "a clean failure, not a crash, for {args:?}");
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(!stderr.contains("panicked"), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {stderr}");
    assert!(lines[0].starts_with("dreamcatcher: "), "{stderr}");
    stderr
}

#[test]
fn parses_every_repository_fixture_kind() {
    for page in ["chatgpt-2024-12", "chatgpt-2026-04", "chatgpt-2026-09", "claude-2024", "claude-2025", "claude-2026-10"] {
        let conversations = parse_ok(&repo_fixture(&format!("pages/{page}.html")));
        assert_eq!(conversations.len(), 1, "{page}");
        assert_contract(&conversations);
        let expected_site = if page.starts_with("chatgpt") { "chatgpt" } else { "claude" };
        assert_eq!(conversations[0]["site"], expected_site, "{page}");
    }
    for json in ["chatgpt-api.json", "chatgpt-export.json", "claude-api-tree.json", "claude-export.json"] {
        assert_contract(&parse_ok(&repo_fixture(&format!("json/{json}"))));
    }
}

#[test]
fn parses_the_shared_fixtures() {
    let Some(shared) = shared_fixtures() else { return };
    let code_interpreter = parse_ok(&shared.join("exports/chatgpt-2023-09-code-interpreter.json"));
    assert_contract(&code_interpreter);
    let elixir = parse_ok(&shared.join("chatgpt/2026-05-codemirror-katex-table.html"));
    assert_contract(&elixir);
    let blocks: Vec<&Value> = elixir[0]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["code_blocks"].as_array().unwrap())
        .collect();
    assert!(
        blocks.iter().any(|b| b["language"] == "elixir" && b["code"].as_str().unwrap().contains("defmodule Hello do\n")),
        "{blocks:?}"
    );
    for name in ["claude/2026-05-code-block.html", "exports/claude-export-synthetic.json", "exports/claude-api-tree-synthetic.json"] {
        let conversations = parse_ok(&shared.join(name));
        assert_contract(&conversations);
        assert!(conversations.iter().all(|c| c["site"] == "claude"), "{name}");
    }
}

#[test]
fn the_site_flag_is_accepted() {
    let path = repo_fixture("pages/claude-2025.html");
    let output = dreamcatcher(&["parse", path.to_str().unwrap(), "--site", "claude"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

#[test]
fn exports_markdown_with_front_matter_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let input = repo_fixture("json/chatgpt-export.json");
    let out = dir.path().join("md");
    let output = dreamcatcher(&["export", input.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let files: Vec<PathBuf> = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().path()).collect();
    assert!(!files.is_empty());
    for file in &files {
        assert_eq!(file.extension().unwrap(), "md");
        let text = std::fs::read_to_string(file).unwrap();
        assert!(text.starts_with("---\ntitle: "), "{text}");
        for key in ["\nsite: ", "\nurl: ", "\ntags: [", "\nmessages: "] {
            assert!(text.contains(key), "{key} missing in {text}");
        }
        assert_eq!(text.matches("\n---\n").count(), 1, "front matter closed once");
    }
    let json_out = dir.path().join("json");
    let output = dreamcatcher(&["export", input.to_str().unwrap(), "--out", json_out.to_str().unwrap(), "--format", "json"]);
    assert!(output.status.success());
    for entry in std::fs::read_dir(&json_out).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_contract(&[value]);
    }
}

#[test]
fn exported_code_fences_stay_intact() {
    let Some(shared) = shared_fixtures() else { return };
    let dir = tempfile::tempdir().unwrap();
    let input = shared.join("chatgpt/2026-05-codemirror-katex-table.html");
    let output = dreamcatcher(&["export", input.to_str().unwrap(), "--out", dir.path().to_str().unwrap()]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let file = std::fs::read_dir(dir.path()).unwrap().next().unwrap().unwrap().path();
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.contains("```elixir\ndefmodule Hello do\n"), "{text}");
}

#[test]
fn search_ranks_and_shows_snippets() {
    let files = [repo_fixture("json/chatgpt-export.json"), repo_fixture("json/claude-export.json"), repo_fixture("pages/chatgpt-2026-09.html")];
    let corpus: Vec<Value> = files.iter().flat_map(|f| parse_ok(f)).collect();
    // Query a word that occurs in the corpus, so the test follows the fixtures' text.
    let word = corpus
        .iter()
        .flat_map(|c| c["messages"].as_array().unwrap().iter())
        .flat_map(|m| m["markdown"].as_str().unwrap().split(|c: char| !c.is_alphanumeric()))
        .find(|w| w.len() >= 6)
        .expect("a long word in the fixtures")
        .to_string();
    let mut args = vec!["search"];
    let paths: Vec<String> = files.iter().map(|f| f.to_str().unwrap().to_string()).collect();
    args.extend(paths.iter().map(String::as_str));
    args.push("--");
    args.push(&word);
    let output = dreamcatcher(&args);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.starts_with(" 1. "), "{stdout}");
    assert!(stdout.to_lowercase().contains(&format!("«{}", word.to_lowercase())), "highlighted match: {stdout}");
    let output = dreamcatcher(&["search", paths[0].as_str(), "--", "zzqxnotaword"]);
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("No results"));
}

#[test]
fn bad_inputs_fail_with_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path.to_str().unwrap().to_string()
    };
    let truncated = write("truncated.json", br#"[{"title": "a", "mapping": {"#);
    let line = failure_line(&["parse", &truncated]);
    assert!(line.contains("truncated.json"), "{line}");

    let binary = write("image.json", &[0x89, b'P', b'N', b'G', 0, 0, 1, 2, 3]);
    let line = failure_line(&["parse", &binary]);
    assert!(line.contains("image.json") && line.to_lowercase().contains("binary"), "{line}");

    let empty_page = write("empty.html", b"<html><body></body></html>");
    let line = failure_line(&["parse", &empty_page]);
    assert!(line.contains("empty.html"), "{line}");

    let empty = write("empty.json", b"");
    let line = failure_line(&["parse", &empty]);
    assert!(line.contains("empty"), "{line}");

    let line = failure_line(&["parse", dir.path().join("missing.json").to_str().unwrap()]);
    assert!(line.contains("missing.json") && line.contains("cannot open"), "{line}");

    let line = failure_line(&["parse", dir.path().to_str().unwrap()]);
    assert!(line.contains("folder"), "{line}");

    let unrecognised = repo_fixture("pages/unrecognised.html");
    failure_line(&["parse", unrecognised.to_str().unwrap()]);
}

#[test]
fn an_oversized_single_document_is_refused_before_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.html");
    let file = std::fs::File::create(&path).unwrap();
    // A sparse 200 MB file: refused by size, so nothing is read into memory.
    file.set_len(200 * 1024 * 1024).unwrap();
    let mut file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.write_all(b"<html>").unwrap();
    let line = failure_line(&["parse", path.to_str().unwrap()]);
    assert!(line.contains("200 MB") && line.contains("huge.html"), "{line}");
}

/// A 200 MB export is streamed: parsing it under a 160 MB address-space limit only works
/// when entries are read one at a time.
#[test]
fn a_200_mb_export_streams_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big-export.json");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let filler = "lorem ipsum dolor sit amet ".repeat(300);
    let mut written = 0usize;
    let mut count = 0usize;
    out.write_all(b"[").unwrap();
    while written < 200 * 1024 * 1024 {
        let entry = format!(
            r#"{}{{"uuid":"c-{count}","name":"Conversation {count}","created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z","chat_messages":[{{"uuid":"m-{count}-1","sender":"human","text":"question {count}","content":[{{"type":"text","text":"question {count}"}}]}},{{"uuid":"m-{count}-2","sender":"assistant","text":"{filler}","content":[{{"type":"text","text":"{filler}"}}]}}]}}"#,
            if count == 0 { "" } else { "," }
        );
        written += entry.len();
        count += 1;
        out.write_all(entry.as_bytes()).unwrap();
    }
    out.write_all(b"]").unwrap();
    drop(out);
    let script = format!(
        "set -o pipefail; ulimit -v 163840 && {} parse {} | wc -l",
        env!("CARGO_BIN_EXE_dreamcatcher"),
        path.display()
    );
    let output = Command::new("bash").arg("-c").arg(script).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let lines: usize = String::from_utf8_lossy(&output.stdout).trim().parse().unwrap();
    assert_eq!(lines, count + 2, "one line per conversation between the brackets");
}
