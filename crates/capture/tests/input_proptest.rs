//! Any bytes and any JSON value go through `parse_bytes` and `stream_export` without a panic.

use std::ops::ControlFlow;

use dreamcatcher_capture::{ExportItem, ParseOptions, parse_bytes, parse_input, stream_export};
use proptest::prelude::*;
use serde_json::{Map, Value};

/// Keys the readers look for, mixed with others, so generated objects reach deep into the
/// ChatGPT, Claude and Dreamcatcher readers instead of stopping at "not a conversation".
const KEYS: &[&str] = &[
    "mapping",
    "current_node",
    "parent",
    "children",
    "message",
    "author",
    "role",
    "content",
    "content_type",
    "parts",
    "text",
    "language",
    "recipient",
    "metadata",
    "thoughts",
    "asset_pointer",
    "attachments",
    "create_time",
    "title",
    "chat_messages",
    "uuid",
    "parent_message_uuid",
    "current_leaf_message_uuid",
    "sender",
    "type",
    "thinking",
    "input",
    "files",
    "file_name",
    "extracted_content",
    "site",
    "messages",
    "markdown",
    "id",
    "name",
];

const WORDS: &[&str] = &[
    "user",
    "assistant",
    "tool",
    "system",
    "human",
    "text",
    "code",
    "execution_output",
    "multimodal_text",
    "thoughts",
    "tool_use",
    "thinking",
    "python",
    "all",
    "chatgpt",
    "claude",
    "a",
    "b",
    "root",
    "\\(x\\)",
    "```",
    "2026-01-01T00:00:00Z",
];

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(KEYS).prop_map(str::to_string),
        1 => "[a-z_]{0,8}",
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        proptest::sample::select(WORDS).prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..8)
                .prop_map(|entries| Value::Object(entries.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

const IDS: &[&str] = &["a", "b", "c", "d", "e", "f"];

fn id() -> impl Strategy<Value = Value> {
    proptest::sample::select(IDS).prop_map(Value::from)
}

fn maybe<T: std::fmt::Debug + Clone + 'static>(
    strategy: impl Strategy<Value = T> + 'static,
) -> impl Strategy<Value = Option<T>> {
    prop::option::weighted(0.7, strategy)
}

fn words(choices: &'static [&'static str]) -> impl Strategy<Value = Value> {
    proptest::sample::select(choices).prop_map(Value::from)
}

fn text_part() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => ".{0,20}".prop_map(Value::String),
        1 => proptest::sample::select(WORDS).prop_map(Value::from),
        1 => json_value(),
    ]
}

/// ChatGPT-shaped trees: a few nodes with random parents, roles and content types.
fn chatgpt_like() -> impl Strategy<Value = Value> {
    let roles: &'static [&'static str] = &["user", "assistant", "tool", "system", "critic"];
    let types: &'static [&'static str] = &[
        "text",
        "code",
        "execution_output",
        "multimodal_text",
        "thoughts",
        "reasoning_recap",
        "tether_browsing_display",
        "user_editable_context",
        "other",
    ];
    let recipients: &'static [&'static str] =
        &["all", "python", "bio", "canmore.create_textdoc", "web"];
    let message = (
        words(roles),
        words(types),
        prop::collection::vec(text_part(), 0..3),
        maybe(text_part()),
        maybe(words(recipients)),
        maybe(any::<bool>()),
        maybe(json_value()),
    )
        .prop_map(|(role, kind, parts, text, recipient, hidden, extra)| {
            serde_json::json!({
                "author": {"role": role},
                "content": {"content_type": kind, "parts": parts, "text": text, "language": "unknown",
                    "thoughts": [{"summary": "s", "content": "c"}], "content": extra.clone()},
                "recipient": recipient,
                "metadata": {"is_visually_hidden_from_conversation": hidden, "attachments": extra.clone(),
                    "aggregate_result": {"messages": [{"message_type": "image", "image_url": "file-service://x"}]}},
            })
        });
    let node = (
        maybe(id()),
        maybe(message),
        prop::collection::vec(id(), 0..3),
    );
    (prop::collection::vec((proptest::sample::select(IDS), node), 0..7), maybe(id()), maybe(text_part()))
        .prop_map(|(nodes, current, title)| {
            let mapping: Map<String, Value> = nodes
                .into_iter()
                .map(|(id, (parent, message, children))| {
                    (id.to_string(), serde_json::json!({"parent": parent, "message": message, "children": children}))
                })
                .collect();
            serde_json::json!({"mapping": mapping, "current_node": current, "title": title, "id": "conv"})
        })
}

/// Claude-shaped conversations: messages with random parents, senders and blocks.
fn claude_like() -> impl Strategy<Value = Value> {
    let senders: &'static [&'static str] = &["human", "assistant", "system"];
    let kinds: &'static [&'static str] = &["text", "thinking", "tool_use", "tool_result", "image"];
    let block = (words(kinds), maybe(text_part()), maybe(text_part()), maybe(json_value()), maybe(text_part()))
        .prop_map(|(kind, text, thinking, input, content)| {
            let input = input.unwrap_or_else(|| {
                serde_json::json!({"content": content, "language": "Rust", "title": "t", "command": "update"})
            });
            serde_json::json!({"type": kind, "text": text, "thinking": thinking, "input": input})
        });
    let message = (
        id(),
        maybe(prop_oneof![id(), Just(Value::from("00000000-0000-4000-8000-000000000000"))]),
        words(senders),
        prop::collection::vec(block, 0..4),
        maybe(text_part()),
        maybe(json_value()),
    )
        .prop_map(|(uuid, parent, sender, content, text, attachments)| {
            serde_json::json!({"uuid": uuid, "parent_message_uuid": parent, "sender": sender, "content": content,
                "text": text, "attachments": [{"file_name": "f", "extracted_content": text, "file_size": attachments}],
                "files": [{"file_name": "g"}]})
        });
    (prop::collection::vec(message, 0..6), maybe(id()), maybe(text_part())).prop_map(|(messages, leaf, name)| {
        serde_json::json!({"uuid": "conv", "chat_messages": messages, "current_leaf_message_uuid": leaf, "name": name})
    })
}

/// Reads `bytes` both ways. Neither may panic; when both succeed they agree, and every
/// conversation has a stable id.
fn check(bytes: &[u8]) {
    let options = ParseOptions::default();
    let whole = parse_input(bytes, &options);
    let mut streamed = Vec::new();
    let mut skipped = 0;
    let summary = stream_export(bytes, &options, |item| {
        match item {
            ExportItem::Conversation(c) => streamed.push(c),
            ExportItem::Skipped(_) => skipped += 1,
        }
        ControlFlow::Continue(())
    });
    if let (Ok(whole), Ok(_)) = (&whole, &summary) {
        assert_eq!(whole.conversations, streamed);
        assert_eq!(whole.skipped.len(), skipped);
    }
    for conversation in whole.iter().flat_map(|w| &w.conversations).chain(&streamed) {
        assert!(
            conversation.id.starts_with("dc-") && conversation.id.len() == 35,
            "{}",
            conversation.id
        );
    }
    let _ = parse_bytes(bytes, &options);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        check(&bytes);
    }

    #[test]
    fn json_looking_bytes_never_panic(text in r#"[\[\]{}",:0-9a-z\\ \n]{0,200}"#) {
        check(text.as_bytes());
    }

    #[test]
    fn arbitrary_json_never_panics(value in json_value()) {
        let bytes = serde_json::to_vec(&value).expect("a Value serialises");
        check(&bytes);
        // The same value as an export entry, and cut short anywhere.
        let export = serde_json::to_vec(&Value::Array(vec![value])).expect("a Value serialises");
        check(&export);
        for cut in [export.len() / 3, export.len() / 2, export.len().saturating_sub(1)] {
            check(&export[..cut]);
        }
    }

    #[test]
    fn site_shaped_json_never_panics(value in prop_oneof![chatgpt_like(), claude_like()]) {
        let one = serde_json::to_vec(&value).expect("a Value serialises");
        check(&one);
        check(&serde_json::to_vec(&Value::Array(vec![value.clone(), value])).expect("a Value serialises"));
    }

    #[test]
    fn mangled_fixtures_never_panic(
        name in proptest::sample::select(&["chatgpt-api.json", "chatgpt-export.json", "claude-api-tree.json", "claude-export.json", "dreamcatcher.json"][..]),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let path = format!("{}/tests/fixtures/json/{name}", env!("CARGO_MANIFEST_DIR"));
        let mut bytes = std::fs::read(path).expect("fixture");
        for (at, byte) in edits {
            let at = at.index(bytes.len());
            bytes[at] = byte;
        }
        check(&bytes);
    }
}
