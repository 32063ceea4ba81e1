//! Export import speed: a generated 4 MB export (MB/s) and a 10,000-conversation export of
//! ~10 KB conversations (conversations/s), in memory (`parse_bytes`) and streamed
//! (`stream_export`). Both include fragment extraction, as a real import does.

use std::hint::black_box;
use std::ops::ControlFlow;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dreamcatcher_capture::{ParseOptions, parse_bytes, stream_export};

#[derive(Clone, Copy)]
enum Site {
    Chatgpt,
    Claude,
}

/// One conversation of `turns` prompt/answer pairs, invented text: ChatGPT's with code, tool
/// output and math; Claude's with thinking, code and an artifact.
fn conversation(index: usize, turns: usize, site: Site) -> serde_json::Value {
    use serde_json::json;
    let prose = |i: usize| {
        format!(
            "Paragraph {i} of conversation {index}: the capture keeps code, math such as \\(O(n \\log n)\\), \
             lists and links like https://example.com/docs/{i} intact. "
        )
        .repeat(3)
    };
    let code = |i: usize| {
        format!(
            "def step_{i}(xs):\n    # TODO: handle empty input\n    return sorted(xs)[{i} % len(xs)]\n"
        )
    };
    if let Site::Claude = site {
        let mut messages = Vec::new();
        for turn in 0..turns {
            messages.push(json!({"uuid": format!("h{index}-{turn}"), "sender": "human", "created_at": "2026-01-01T10:00:00Z",
                "content": [{"type": "text", "text": format!("Question {turn}: {}", prose(turn))}]}));
            messages.push(json!({"uuid": format!("a{index}-{turn}"), "sender": "assistant", "created_at": "2026-01-01T10:00:05Z",
                "content": [
                    {"type": "thinking", "thinking": prose(turn + 1)},
                    {"type": "text", "text": format!("{}\n\n```python\n{}```\n", prose(turn + 2), code(turn))},
                    {"type": "tool_use", "name": "artifacts", "input": {"id": format!("art{turn}"), "type": "application/vnd.ant.code",
                        "language": "python", "title": format!("step_{turn}.py"), "command": "create", "content": code(turn)}}]}));
        }
        return json!({"uuid": format!("claude-{index}"), "name": format!("Claude chat {index}"),
            "created_at": "2026-01-01T10:00:00Z", "updated_at": "2026-01-01T11:00:00Z", "chat_messages": messages});
    }
    let mut mapping = serde_json::Map::new();
    mapping.insert(
        "root".into(),
        json!({"id": "root", "message": null, "parent": null, "children": ["n0"]}),
    );
    let mut parent = "root".to_string();
    let mut node = 0usize;
    let mut add = |role: &str,
                   recipient: &str,
                   content: serde_json::Value,
                   mapping: &mut serde_json::Map<String, serde_json::Value>| {
        let id = format!("n{node}");
        mapping.insert(id.clone(), json!({"id": id, "parent": parent, "children": [format!("n{}", node + 1)],
            "message": {"id": id, "author": {"role": role}, "create_time": 1767225600.0 + node as f64, "recipient": recipient,
                "content": content, "metadata": {"model_slug": "gpt-4o"}}}));
        parent = id;
        node += 1;
    };
    for turn in 0..turns {
        add(
            "user",
            "all",
            json!({"content_type": "text", "parts": [format!("Question {turn}: {}", prose(turn))]}),
            &mut mapping,
        );
        add(
            "assistant",
            "python",
            json!({"content_type": "code", "language": "unknown", "text": code(turn)}),
            &mut mapping,
        );
        add(
            "tool",
            "all",
            json!({"content_type": "execution_output", "text": format!("{turn}\n")}),
            &mut mapping,
        );
        add(
            "assistant",
            "all",
            json!({"content_type": "text", "parts": [format!("{}\n\n```python\n{}```", prose(turn + 1), code(turn + 1))]}),
            &mut mapping,
        );
    }
    let current = format!("n{}", node - 1);
    json!({"title": format!("ChatGPT chat {index}"), "create_time": 1767225600.0, "update_time": 1767229200.0,
        "conversation_id": format!("chatgpt-{index}"), "current_node": current, "default_model_slug": "gpt-4o", "mapping": mapping})
}

fn export(count: usize, turns: usize, site: Site) -> Vec<u8> {
    let entries: Vec<serde_json::Value> =
        (0..count).map(|i| conversation(i, turns, site)).collect();
    serde_json::to_vec(&entries).expect("generated JSON serialises")
}

/// An export of about `bytes` bytes.
fn export_of_size(bytes: usize, site: Site) -> (Vec<u8>, usize) {
    let one = export(1, 6, site).len();
    let count = bytes / one + 1;
    (export(count, 6, site), count)
}

fn stream_count(json: &[u8]) -> usize {
    let mut conversations = 0;
    stream_export(json, &ParseOptions::default(), |_| {
        conversations += 1;
        ControlFlow::Continue(())
    })
    .expect("generated export streams");
    conversations
}

fn bench(c: &mut Criterion) {
    let options = ParseOptions::default();

    for (name, site) in [
        ("export_4mb_chatgpt", Site::Chatgpt),
        ("export_4mb_claude", Site::Claude),
    ] {
        let (json, count) = export_of_size(4 * 1024 * 1024, site);
        assert_eq!(parse_bytes(&json, &options).expect("parses").len(), count);
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Bytes(json.len() as u64));
        group.sample_size(20);
        group.bench_function("parse_bytes", |b| {
            b.iter(|| parse_bytes(black_box(&json), &options).map(|v| v.len()))
        });
        group.bench_function("stream_export", |b| {
            b.iter(|| stream_count(black_box(&json)))
        });
        group.finish();
    }

    // ~10 KB per conversation, as in the import target (10,000 conversations ≤ 3 s).
    let ten_thousand = export(10_000, 5, Site::Chatgpt);
    println!(
        "10,000 conversations: {} bytes ({} B each)",
        ten_thousand.len(),
        ten_thousand.len() / 10_000
    );
    assert_eq!(stream_count(&ten_thousand), 10_000);
    let mut group = c.benchmark_group("export_10k_conversations");
    group.throughput(Throughput::Elements(10_000));
    group.sample_size(10);
    group.bench_function("parse_bytes", |b| {
        b.iter(|| parse_bytes(black_box(&ten_thousand), &options).map(|v| v.len()))
    });
    group.bench_function("stream_export", |b| {
        b.iter(|| stream_count(black_box(&ten_thousand)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
