//! parse_page end to end (repair, parse, detect, segment, convert bodies, fragments) on a
//! generated 2,000-turn ChatGPT page in the 2026-09 layout (~5 MB) and on the largest shared
//! capture, with repair + parse alone as the floor.

use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dreamcatcher_capture::html;
use dreamcatcher_capture::page::parse_page;

/// One 2026-09 turn (a prompt and a ~2.5 KB answer with a CodeMirror block, a list and a
/// table), numbered so no two turns are identical.
fn turn(index: usize) -> String {
    let code_lines: String = (0..2)
        .map(|line| {
            format!(
                r#"<span class="ͼn">let</span><span> value_{line} </span><span class="ͼn">=</span><span> compute(</span><span class="ͼq">{index}</span><span>, </span><span class="ͼq">{line}</span><span>);</span><br>"#
            )
        })
        .collect();
    format!(
        r#"<div class="[&amp;_[data-virtualized-turn-content]]:[content-visibility:visible]" data-turn-key="turn-{index:05}">
 <div data-content-search-turn-key="fallback-turn-{index}">
  <div data-chatgpt-search-unit-key="fallback-turn-{index}:0:user"><div data-content-search-unit-key="fallback-turn-{index}:0:user">
   <div data-user-message-bubble="true"><div class="text-size-chat whitespace-pre-wrap">Question {index}: how do I compute value &amp; keep it &lt;safe&gt;?
Second line of the prompt.</div></div>
  </div></div>
  <div data-chatgpt-search-unit-key="fallback-turn-{index}:1:assistant">
   <h4 class="sr-only" data-conversation-role="assistant">ChatGPT said:</h4>
   <div data-chatgpt-selection-message-id="answer-{index:05}">
    <div data-markdown-text-style="assistant-message" class="MarkdownRoot-rZKhxa">
     <p>Answer {index}: use a <strong>pure function</strong> and test it with <code>cargo test</code>.</p>
     <ol><li><p>Read the input.</p></li><li><p>Validate it.</p></li><li><p>Compute the value.</p></li></ol>
     <pre class="overflow-visible! px-0!" data-start="1" data-end="2"><div class="relative w-full mt-4 mb-1"><div class="border border-token-border-light rounded-3xl"><div class="sticky z-2 select-none top-0"><div class="flex w-full items-center justify-between py-1.5 ps-4 pe-1.5 font-sans bg-token-bg-elevated-secondary"><div class="flex max-w-[75%] min-w-0 cursor-default items-center text-sm font-medium text-token-text-primary">Rust</div><div class="flex flex-row items-center gap-0.5"><button aria-label="Copy"><svg width="20" height="20" aria-hidden="true"></svg></button></div></div></div><div class="w-full overflow-x-hidden overflow-y-auto"><div class="relative z-0 flex max-w-full"><div id="code-block-viewer" dir="ltr" class="cm-editor"><div class="cm-scroller"><div class="cm-content cm-readonly">{code_lines}<span>// TODO: handle overflow</span></div></div></div></div></div></div></div></pre>
     <table><thead><tr><th>Input</th><th>Output</th></tr></thead><tbody><tr><td>{index}</td><td>{double}</td></tr><tr><td>0</td><td>0</td></tr></tbody></table>
     <p>See <a href="https://example.org/docs/{index}?utm_source=chatgpt.com">the docs</a> for more.</p>
    </div>
   </div>
  </div>
 </div>
</div>
"#,
        double = index * 2
    )
}

fn generated_page(turns: usize) -> String {
    let mut page = String::from(
        r#"<!DOCTYPE html><html><head><title>Long chat - ChatGPT</title></head><body><nav><div data-app-action-sidebar-scroll=""><a href="/c/x">Other chat</a></div></nav><main><div data-app-action-timeline-scroll="" style="display:flex;flex-direction:column-reverse"><div class="flex flex-col">"#,
    );
    for index in 0..turns {
        page.push_str(&turn(index));
    }
    page.push_str("</div></div></main></body></html>");
    page
}

/// The largest .html under the shared fixtures' chatgpt/ and claude/ folders, if present.
fn largest_shared_fixture() -> Option<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures");
    let mut best: Option<(u64, std::path::PathBuf)> = None;
    for folder in ["chatgpt", "claude"] {
        let Ok(entries) = std::fs::read_dir(root.join(folder)) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
            if path.extension().is_some_and(|e| e == "html")
                && best.as_ref().is_none_or(|(s, _)| size > *s)
            {
                best = Some((size, path));
            }
        }
    }
    let (_, path) = best?;
    let html = std::fs::read_to_string(&path).ok()?;
    let name = path.file_name()?.to_string_lossy().into_owned();
    Some((name, html))
}

fn bench(c: &mut Criterion) {
    let page = generated_page(2_000);
    let conversation = parse_page(&page, Some("https://chatgpt.com/c/bench"), None)
        .expect("the generated page is a 2026-09 page");
    assert_eq!(conversation.messages.len(), 4_000);
    println!(
        "generated page: {} bytes, {} messages",
        page.len(),
        conversation.messages.len()
    );

    let mut group = c.benchmark_group("parse_page");
    group.sample_size(20);
    group.throughput(Throughput::Bytes(page.len() as u64));
    group.bench_function("chatgpt-2026-09 2000 turns", |b| {
        b.iter(|| parse_page(std::hint::black_box(&page), None, None))
    });
    // The floor under any page capture: repairing and parsing the HTML (and dropping the
    // tree), without reading a single message.
    group.bench_function("repair + parse only, same page", |b| {
        b.iter(|| {
            let source = html::repair(std::hint::black_box(&page));
            html::parse(&source).map(|dom| dom.nodes().len())
        })
    });
    match largest_shared_fixture() {
        Some((name, html)) => {
            group.throughput(Throughput::Bytes(html.len() as u64));
            group.bench_function(format!("shared {name}"), |b| {
                b.iter(|| parse_page(std::hint::black_box(&html), None, None))
            });
        }
        None => println!("skipped: shared fixtures not found"),
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
