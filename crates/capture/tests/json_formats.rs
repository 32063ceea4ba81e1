//! Every JSON format, from this crate's own fixtures (tests/fixtures/json, invented text).

use std::io::{Cursor, Write};

use dreamcatcher_capture::json::{chatgpt, claude};
use dreamcatcher_capture::{InputFormat, ParseOptions, parse_bytes, parse_input};
use dreamcatcher_model::{CaptureSource, CodeOrigin, Conversation, Role, Site};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/json/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn parse(name: &str) -> Vec<Conversation> {
    parse_bytes(&fixture(name), &ParseOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn ids(conversation: &Conversation) -> Vec<&str> {
    conversation
        .messages
        .iter()
        .map(|m| m.id.as_deref().unwrap_or(""))
        .collect()
}

#[test]
fn chatgpt_api_object() {
    let conversations = parse("chatgpt-api.json");
    assert_eq!(conversations.len(), 1);
    let c = &conversations[0];
    assert_eq!((c.site, &c.source), (Site::Chatgpt, &CaptureSource::WebApi));
    assert_eq!(
        c.site_id.as_deref(),
        Some("c0ffee00-0000-4000-8000-00000000000a")
    );
    assert_eq!(
        c.url.as_deref(),
        Some("https://chatgpt.com/c/c0ffee00-0000-4000-8000-00000000000a")
    );
    assert_eq!(
        c.model.as_deref(),
        Some("gpt-4o-mini"),
        "the latest answer's model"
    );
    assert_eq!(
        c.updated_at.map(|t| t.to_rfc3339()).as_deref(),
        Some("2026-01-01T00:01:43.500+00:00")
    );

    // Hidden system, empty system and the custom-instructions node are gone; the abandoned
    // answer `a-old` is off the active branch; th1…browse are one answer, a2…a4 another.
    assert_eq!(ids(c), ["u1", "th1", "u2", "a2"]);
    let roles: Vec<Role> = c.messages.iter().map(|m| m.role).collect();
    assert_eq!(
        roles,
        [Role::User, Role::Assistant, Role::User, Role::Assistant]
    );

    let prompt = &c.messages[0];
    assert_eq!(
        prompt.markdown, "How do I compute the mean of a list in Python? Show \\(\\bar{x}\\).",
        "prompts keep what the user typed"
    );
    assert_eq!(prompt.attachments.len(), 1);
    assert_eq!(prompt.attachments[0].name, "numbers.csv");
    assert_eq!(prompt.attachments[0].mime_type.as_deref(), Some("text/csv"));
    assert_eq!(prompt.attachments[0].size_bytes, Some(42));

    let answer = &c.messages[1];
    assert_eq!(
        answer.markdown,
        "```python\nxs = [1, 2, 3]\nprint(sum(xs) / len(xs))\n```\n\n```output\n2.0\n```\n\n![image](file-plot1)\n\n\
         The mean is $$\\bar{x} = \\frac{1}{n}\\sum x_i$$ and in code `\\(2.0\\)` stays."
    );
    assert_eq!(
        answer.thinking.as_deref(),
        Some("Plan\n\nSum divided by count."),
        "thoughts, not the recap line"
    );
    assert!(!answer.markdown.contains("Abandoned") && !answer.markdown.contains("browsing"));

    let second_prompt = &c.messages[2];
    assert_eq!(
        second_prompt.markdown,
        "![image](file-img1)\n\nWhat does this chart show?"
    );

    let canvas_answer = &c.messages[3];
    assert_eq!(
        canvas_answer.markdown,
        "*Canvas: mean.py (python)*\n\nThe chart shows a rising line."
    );
    assert!(
        !canvas_answer.markdown.contains("likes charts"),
        "text sent to the memory tool is not shown"
    );
    let canvas = &canvas_answer.fragments.code_blocks[0];
    assert_eq!(canvas.origin, CodeOrigin::Artifact);
    assert_eq!(canvas.title.as_deref(), Some("mean.py"));
    assert_eq!(canvas.language, "python");
    assert_eq!(canvas.code, "def mean(xs):\n    return sum(xs) / len(xs)\n");
}

#[test]
fn chatgpt_export_array() {
    let parsed = parse_input(&fixture("chatgpt-export.json"), &ParseOptions::default()).unwrap();
    assert_eq!(parsed.format, InputFormat::ExportJson);
    assert!(parsed.skipped.is_empty());
    let [first, second] = &parsed.conversations[..] else {
        panic!("two conversations")
    };
    assert!(first.source == CaptureSource::Export && second.source == CaptureSource::Export);
    assert_eq!(first.messages[1].markdown, "Divide the sum by the length.");

    // No title: the first prompt names it. No current_node: the newest branch is shown.
    assert_eq!(second.title, "Explain a race condition in one sentence.");
    assert_eq!(ids(second), ["q", "a-new"]);
}

#[test]
fn chatgpt_api_and_export_of_one_conversation_share_the_id() {
    let api = &parse("chatgpt-api.json")[0];
    let export = &parse("chatgpt-export.json")[0];
    assert_ne!(api.messages.len(), export.messages.len());
    assert_ne!(
        api.site_id, export.site_id,
        "the export spells the id in capitals"
    );
    assert_eq!(api.id, export.id);
}

#[test]
fn claude_api_tree() {
    let c = &parse("claude-api-tree.json")[0];
    assert_eq!((c.site, &c.source), (Site::Claude, &CaptureSource::WebApi));
    assert_eq!(
        c.url.as_deref(),
        Some("https://claude.ai/chat/cafe0000-0000-4000-8000-000000000001")
    );
    assert_eq!(ids(c), ["c-1", "c-3", "c-4", "c-5"], "c-2 is abandoned");

    let answer = &c.messages[1];
    assert_eq!(
        answer.markdown,
        "Here is a token bucket. Its rate is $r$ tokens per second.\n\n*Artifact: bucket.rs (rust)*\n\nUse it behind a mutex."
    );
    assert_eq!(
        answer.thinking.as_deref(),
        Some("Refill based on elapsed time.")
    );
    let artifact = &answer.fragments.code_blocks[0];
    assert_eq!(artifact.origin, CodeOrigin::Artifact);
    assert_eq!(artifact.title.as_deref(), Some("bucket.rs"));
    assert_eq!(artifact.language, "rust", "`Rust` normalised");
    assert_eq!(artifact.code, "pub struct Bucket {\n    tokens: f64,\n}\n");

    let follow_up = &c.messages[2];
    assert_eq!(follow_up.attachments[0].name, "notes.md");
    assert_eq!(
        follow_up.attachments[0].extracted_text.as_deref(),
        Some("Must not block the runtime.")
    );
    assert_eq!(follow_up.attachments[0].size_bytes, Some(30));

    let update = &c.messages[3];
    assert_eq!(
        update.markdown,
        "*Artifact updated: bucket.rs*\n\nUpdated to async."
    );
    assert!(
        update
            .fragments
            .code_blocks
            .iter()
            .all(|b| b.origin != CodeOrigin::Artifact),
        "an edit has no full code"
    );
}

#[test]
fn claude_export() {
    let parsed = parse_input(&fixture("claude-export.json"), &ParseOptions::default()).unwrap();
    let [first, second] = &parsed.conversations[..] else {
        panic!("two conversations")
    };
    assert_eq!(first.source, CaptureSource::Export);
    assert_eq!(first.messages[1].markdown, "Here is a token bucket.");
    assert_eq!(
        first.messages[1].thinking.as_deref(),
        Some("Refill based on elapsed time.")
    );

    assert_eq!(second.title, "Why is the sky blue?");
    // No content blocks: the top-level text is the message.
    assert_eq!(
        second.messages[0].markdown,
        "Why is the sky blue?\nShort answer please."
    );
    assert_eq!(
        second.messages[1].markdown,
        "Rayleigh scattering: blue light scatters most."
    );
    assert_eq!(second.messages[0].attachments[0].name, "sky.png");
    assert_eq!(second.messages[0].attachments[0].extracted_text, None);
}

#[test]
fn claude_api_and_export_of_one_conversation_share_the_id() {
    let api = &parse("claude-api-tree.json")[0];
    let export = &parse("claude-export.json")[0];
    assert_eq!(api.id, export.id);
    assert_ne!(api.id, parse("claude-export.json")[1].id);
}

#[test]
fn dreamcatcher_json_round_trips() {
    let bytes = fixture("dreamcatcher.json");
    let expected: Vec<Conversation> = serde_json::from_slice(&bytes).unwrap();
    let parsed = parse_bytes(&bytes, &ParseOptions::default()).unwrap();
    assert_eq!(
        parsed, expected,
        "read as saved: fragments and source untouched"
    );
    assert_eq!(
        parsed[0].source,
        CaptureSource::Page {
            layout: "chatgpt-2026-09".into()
        }
    );
    assert_eq!(parsed[0].messages[1].fragments.todos.len(), 1);

    // Our own output reads back the same, as an array and as one object.
    let written = serde_json::to_vec(&parsed).unwrap();
    assert_eq!(
        parse_bytes(&written, &ParseOptions::default()).unwrap(),
        parsed
    );
    let one = serde_json::to_vec(&parsed[1]).unwrap();
    assert_eq!(
        parse_bytes(&one, &ParseOptions::default()).unwrap(),
        vec![parsed[1].clone()]
    );

    // A site conversation, once captured and saved, reads back equal too.
    let captured = parse("chatgpt-api.json");
    let saved = serde_json::to_vec_pretty(&captured).unwrap();
    assert_eq!(
        parse_bytes(&saved, &ParseOptions::default()).unwrap(),
        captured
    );
}

fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, content) in files {
        writer.start_file(*name, options).unwrap();
        writer.write_all(content).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

#[test]
fn export_zip_is_read_from_its_conversations_json() {
    let export = fixture("claude-export.json");
    let archive = zip_of(&[
        ("users.json", b"[{\"uuid\":\"acc-x\"}]"),
        ("conversations.json", &export),
        ("projects.json", b"[]"),
    ]);
    let parsed = parse_input(&archive, &ParseOptions::default()).unwrap();
    assert_eq!(parsed.format, InputFormat::Zip);
    assert_eq!(parsed.conversations, parse("claude-export.json"));

    // Repacked inside a folder; the shallowest conversations.json wins.
    let chatgpt = fixture("chatgpt-export.json");
    let nested = zip_of(&[
        ("old/backup/conversations.json", &export),
        ("export-2026/conversations.json", &chatgpt),
        ("chat.html", b"<html></html>"),
    ]);
    let from_nested = parse_bytes(&nested, &ParseOptions::default()).unwrap();
    assert_eq!(from_nested, parse("chatgpt-export.json"));
}

#[test]
fn single_conversation_readers_are_public() {
    let json = String::from_utf8(fixture("claude-api-tree.json")).unwrap();
    let c = claude::parse_conversation(&json, CaptureSource::WebApi).unwrap();
    assert_eq!(c.messages.len(), 4);
    let json = String::from_utf8(fixture("chatgpt-api.json")).unwrap();
    let c = chatgpt::parse_conversation(&json, CaptureSource::Export).unwrap();
    assert_eq!(c.source, CaptureSource::Export);
    assert_eq!(chatgpt::conversation_url("x"), "https://chatgpt.com/c/x");
    assert_eq!(claude::conversation_url("y"), "https://claude.ai/chat/y");
}
