//! Extraction speed on generated 1 MB messages, against pulldown-cmark's bare parse of the
//! same text (the floor):
//! - `dense`: a fragment every few lines (a code block per ~400 bytes, task items, links,
//!   TODOs and hint patterns everywhere): the worst case for the per-fragment work;
//! - `long_answer`: paragraphs of prose with a link now and then and a 30-line code block
//!   per ~4 KB, the shape of a real long answer;
//! - `one_big_block`: a single 1 MB fenced block (a pasted log or file).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const TARGET_BYTES: usize = 1 << 20;

fn fill(mut section: impl FnMut(usize) -> String) -> String {
    let mut message = String::with_capacity(TARGET_BYTES + 8 * 1024);
    let mut n = 0;
    while message.len() < TARGET_BYTES {
        message.push_str(&section(n));
        n += 1;
    }
    message
}

fn dense_section(n: usize) -> String {
    let mut text = format!(
        "## Step {n}\n\nHere is how to do part {n}. See [the docs](https://example.test/docs/{n}) \
         and https://example.test/raw/{n} for details; **TODO**: double-check step {n}.\n\n\
         - [ ] verify the output of step {n}\n- [x] read the guide\n- plain item with `inline code`\n\n"
    );
    text.push_str(&match n % 4 {
        0 => format!(
            "```python\nimport os\n\ndef step_{n}(items=[]):\n    # TODO: validate input {n}\n    \
             for item in items:\n        print(item)\n    try:\n        os.remove('x')\n    \
             except OSError:\n        pass\n    return len(items)\n```\n\n"
        ),
        1 => format!(
            "```js\nconst step{n} = (x) => {{\n  // FIXME: handle null\n  console.log(x);\n  \
             if (!x) throw new Error();\n  return x * {n};\n}};\n```\n\n"
        ),
        2 => format!(
            "```rust\nfn step_{n}(x: u32) -> u32 {{\n    // HACK: fixed factor\n    let y = x * {n};\n    \
             println!(\"{{y}}\");\n    y\n}}\n```\n\n"
        ),
        _ => format!(
            "```\n$ cargo build --release\n$ ./target/release/app --step {n}\n```\n\n\
             > Note: quoted advice for step {n}.\n\n| a | b |\n|---|---|\n| {n} | x |\n\n"
        ),
    });
    text
}

fn long_answer_section(n: usize) -> String {
    let sentence = "The parser keeps every line of the original text, so the rebuilt output \
                    matches what the reader saw on the page, including the spacing. ";
    let mut text = format!("### Part {n}\n\n");
    for paragraph in 0..6 {
        text.push_str(&sentence.repeat(3));
        if paragraph == 2 {
            text.push_str(&format!(
                "More in [section {n}](https://example.test/guide#{n}). "
            ));
        }
        text.push_str("\n\n");
    }
    text.push_str("```rust\n");
    for line in 0..30 {
        text.push_str(&format!(
            "    let value_{line} = compute(input, {line}).map(|v| v * {n});\n"
        ));
    }
    text.push_str("```\n\n");
    text
}

fn one_big_block() -> String {
    let mut message = String::from("Here is the whole log:\n\n```\n");
    let mut n = 0;
    while message.len() < TARGET_BYTES {
        message.push_str(&format!(
            "2026-05-01T10:00:{:02}Z INFO worker {n} finished job {} in 12 ms\n",
            n % 60,
            n * 7
        ));
        n += 1;
    }
    message.push_str("```\n");
    message
}

fn bench_extract(c: &mut Criterion) {
    let messages = [
        ("dense", fill(dense_section)),
        ("long_answer", fill(long_answer_section)),
        ("one_big_block", one_big_block()),
    ];
    let mut group = c.benchmark_group("extract_1mb");
    for (name, message) in &messages {
        group.throughput(Throughput::Bytes(message.len() as u64));
        group.bench_function(*name, |b| {
            b.iter(|| dreamcatcher_fragments::extract(black_box(message)))
        });
        group.bench_function(format!("{name}_pulldown_parse_only"), |b| {
            b.iter(|| {
                let options = pulldown_cmark::Options::ENABLE_TABLES
                    | pulldown_cmark::Options::ENABLE_TASKLISTS
                    | pulldown_cmark::Options::ENABLE_STRIKETHROUGH
                    | pulldown_cmark::Options::ENABLE_FOOTNOTES;
                pulldown_cmark::Parser::new_ext(black_box(message), options)
                    .into_offset_iter()
                    .count()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_extract);
criterion_main!(benches);
