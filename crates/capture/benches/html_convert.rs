//! HTML → Markdown throughput: a generated ~5 MB ChatGPT-like page (many turns of prose,
//! lists, tables, KaTeX and CodeMirror code blocks; one tag per ~34 bytes, about three times
//! denser than real pages, so a harsh case) and, when the shared fixtures are present, the
//! real 68 KB ChatGPT capture and a ~5 MB page of its body repeated (real markup density).

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dreamcatcher_capture::html;

/// One assistant turn in the 2026 ChatGPT markup, varied by `turn`.
fn push_turn(page: &mut String, turn: usize) {
    let n = turn;
    page.push_str(&format!(
        r#"<section data-testid="conversation-turn-{n}" data-turn-id="t{n}" class="text-token-text-primary w-full"><h4 class="sr-only">You said:</h4><div data-message-author-role="user" data-message-id="u{n}"><div class="whitespace-pre-wrap">Question {n}: how do I process batch {n} of the records &amp; keep the order?
Second line of the question.</div></div></section>"#
    ));
    page.push_str(&format!(
        r#"<section data-testid="conversation-turn-{m}" data-turn-id="t{m}"><h4 class="sr-only">ChatGPT said:</h4><div data-message-author-role="assistant" data-message-id="a{n}"><div class="markdown prose dark:prose-invert w-full break-words light markdown-new-styling"><p data-start="0" data-end="120">Here is an approach for <strong>batch {n}</strong> that keeps the <em>original order</em> and uses <code>itertools</code> where it helps. See <span data-state="closed"><span data-testid="webpage-citation-pill"><a href="https://docs.example.org/batch/{n}?utm_source=chatgpt.com" target="_blank" rel="noopener"><span>docs.example.org</span></a></span></span>.</p>
<h3 data-start="121" data-end="140">Steps</h3>
<ol data-start="141" data-end="400"><li><p>Read the input with a buffered reader (about {n} ms per MB).</p></li><li><p>Group records by key:</p><ul><li><p>use a <code>HashMap&lt;String, Vec&lt;Row&gt;&gt;</code></p></li><li><p>keep insertion order with an index</p></li></ul></li><li><p>Write the output in one pass.</p></li></ol>
<p>The cost is <span class="inline-block align-middle"><span class="katex"><span class="katex-mathml"><math xmlns="http://www.w3.org/1998/Math/MathML"><semantics><mrow><mi>O</mi><mo>(</mo><mi>n</mi><mi>log</mi><mi>n</mi><mo>)</mo></mrow><annotation encoding="application/x-tex">O(n \log n)</annotation></semantics></math></span><span class="katex-html" aria-hidden="true"><span class="base"><span class="strut" style="height:1em;"></span><span class="mord mathnormal">O</span><span class="mopen">(</span><span class="mord mathnormal">n</span><span class="mop">lo<span>g</span></span><span class="mord mathnormal">n</span><span class="mclose">)</span></span></span></span></span> overall.</p>
<pre class="overflow-visible! px-0!" data-start="401" data-end="700"><div class="relative w-full mt-4 mb-1"><div class="border border-token-border-light rounded-3xl"><div class="sticky top-0 z-2"><div class="flex w-full items-center justify-between"><div class="flex items-center text-sm font-medium"><svg width="20" height="20" aria-hidden="true"><use href="/cdn/assets/sprites.svg#e45ab3" fill="currentColor"></use></svg>python</div><div class="flex flex-row items-center gap-0.5"><button aria-label="Copy" class="flex gap-1"><svg width="20" height="20"><use href="/cdn/assets/sprites.svg#ce3544"></use></svg></button></div></div></div><div class="relative"><div id="code-block-viewer" dir="ltr" class="cm-editor"><div class="cm-scroller"><div class="cm-content cm-readonly"><span class="ͼn">def</span><span> </span><span class="ͼt">process_batch_{n}</span><span>(</span><span class="ͼt">rows</span><span>):</span><br><span>    </span><span class="ͼt">groups</span><span> </span><span class="ͼn">=</span><span> {{}}</span><br><span>    </span><span class="ͼn">for</span><span> </span><span class="ͼt">row</span><span> </span><span class="ͼn">in</span><span> </span><span class="ͼt">rows</span><span>:</span><br><span>        </span><span class="ͼt">groups</span><span>.</span><span class="ͼt">setdefault</span><span>(</span><span class="ͼt">row</span><span>.</span><span class="ͼt">key</span><span>, [])</span><span>.</span><span class="ͼt">append</span><span>(</span><span class="ͼt">row</span><span>)</span><br><span>    </span><span class="ͼn">return</span><span> </span><span class="ͼt">groups</span><span> </span><span class="ͼc"># {n} &lt; limit</span></div></div></div></div></div></div></pre>
<div class="TyagGW_tableContainer"><div tabindex="-1" class="group TyagGW_tableWrapper flex flex-col-reverse w-fit"><table data-start="701" data-end="900" class="w-fit min-w-(--thread-content-width)"><thead><tr><th data-col-size="sm">Step</th><th data-col-size="sm" style="text-align: right">Time (ms)</th><th data-col-size="md">Notes</th></tr></thead><tbody><tr><td>read</td><td style="text-align: right">{a}</td><td>buffered | streaming</td></tr><tr><td>group</td><td style="text-align: right">{b}</td><td>hash map</td></tr><tr><td>write</td><td style="text-align: right">{c}</td><td>one pass</td></tr></tbody></table><div class="sticky end-(--thread-content-margin) h-0 self-end select-none"><button aria-label="Copy table"><svg width="20" height="20"><use href="/cdn/assets/sprites.svg#ce3544"></use></svg></button></div></div></div>
<blockquote><p>Note: keep batches under {n}0 000 rows to stay in memory.</p></blockquote>
<p>That covers it — let me know if you want the <a href="https://example.org/streaming">streaming version</a>.</p></div></div><div class="flex justify-start"><button data-testid="copy-turn-action-button" aria-label="Copy"><svg width="20" height="20"><use href="/cdn/assets/sprites.svg#ce3544"></use></svg></button></div></section>"#,
        m = n + 1,
        a = n % 97,
        b = n % 89,
        c = n % 83,
    ));
}

fn generated_page(target_bytes: usize) -> String {
    let mut page = String::with_capacity(target_bytes + 16 * 1024);
    page.push_str(r#"<!DOCTYPE html><html><head><title>ChatGPT</title><style>.x{color:red}</style></head><body><main><div data-app-action-timeline-scroll>"#);
    let mut turn = 1;
    while page.len() < target_bytes {
        push_turn(&mut page, turn);
        turn += 2;
    }
    page.push_str("</div></main></body></html>");
    page
}

/// A page whose body is the fixture's body repeated up to `target_bytes`.
fn repeated_body(page: &str, target_bytes: usize) -> String {
    let start = page
        .find("<body")
        .and_then(|at| page[at..].find('>').map(|end| at + end + 1))
        .unwrap_or(0);
    let end = page.rfind("</body>").unwrap_or(page.len());
    let body = &page[start..end];
    let mut out = String::with_capacity(target_bytes + body.len());
    out.push_str(&page[..start]);
    while out.len() < target_bytes {
        out.push_str(body);
    }
    out.push_str(&page[end..]);
    out
}

fn shared_fixture() -> Option<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/chatgpt/2026-05-codemirror-katex-table.html");
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(_) => {
            println!("skipping the 68 KB fixture: {} is absent", path.display());
            None
        }
    }
}

fn bench(c: &mut Criterion) {
    let page = generated_page(5 * 1024 * 1024);
    let mut group = c.benchmark_group("html_to_markdown");
    group.sample_size(20);
    group.throughput(Throughput::Bytes(page.len() as u64));
    group.bench_function("generated_chatgpt_5mb", |b| {
        b.iter(|| html::html_to_markdown(black_box(&page)))
    });
    group.bench_function("generated_chatgpt_5mb_parse_only", |b| {
        b.iter(|| {
            let source = html::repair(black_box(&page));
            let dom = html::parse(&source).map(|dom| dom.nodes().len());
            black_box(dom.ok())
        })
    });
    if let Some(fixture) = shared_fixture() {
        let repeated = repeated_body(&fixture, 5 * 1024 * 1024);
        group.throughput(Throughput::Bytes(repeated.len() as u64));
        group.bench_function("chatgpt_fixture_body_repeated_5mb", |b| {
            b.iter(|| html::html_to_markdown(black_box(&repeated)))
        });
        group.throughput(Throughput::Bytes(fixture.len() as u64));
        group.sample_size(100);
        group.bench_function("chatgpt_fixture_68kb", |b| {
            b.iter(|| html::html_to_markdown(black_box(&fixture)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
