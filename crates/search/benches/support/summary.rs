//! The summary table of the index's numbers on a generated library: build time, snapshot
//! size, restore time, query latency and how often each kind of query finds its target.
//! Shared by `benches/search.rs` and `examples/measure.rs`; needs `corpus` beside it.

use std::time::{Duration, Instant};

use dreamcatcher_search::{SearchIndex, SearchOptions, SuggestionContext};

use crate::corpus::{self, Corpus, QUERY_KINDS};

/// Queries matching thousands of documents (common words, short prefixes, one CJK
/// character): timed only, to show the slow end.
pub const BROAD_QUERIES: &[&str] = &[
    "function",
    "request error",
    "return the value",
    "con",
    "fu",
    "se",
    "a",
    "config cache",
    "handler_request",
    "getUser",
    "src/",
    "的",
    "の",
    "async await",
    "x",
    "function request response",
    "server client token",
    "t",
    "parse json",
    "the",
];

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted.get(index).copied().unwrap_or_default()
}

/// CPU time this thread has used (Linux; 10 ms resolution), to tell work from waiting for a
/// core on a shared machine.
fn thread_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit(')').next()?.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Each query's fastest of `runs` (the least disturbed by other processes on a shared
/// machine), and whether its target was in the top 10.
fn time_queries<'a>(
    index: &SearchIndex,
    texts: impl Iterator<Item = &'a str>,
    runs: usize,
) -> Vec<(Duration, Vec<dreamcatcher_search::SearchHit>)> {
    let options = SearchOptions::default();
    texts
        .map(|text| {
            let mut fastest = Duration::MAX;
            let mut hits = Vec::new();
            for _ in 0..runs {
                let started = Instant::now();
                hits = index.search(text, &options, corpus::now());
                fastest = fastest.min(started.elapsed());
            }
            (fastest, hits)
        })
        .collect()
}

fn latency_row(name: &str, mut times: Vec<Duration>, answered: Option<f64>) -> String {
    times.sort();
    format!(
        "| {name} | {} | {:.3} ms | {:.3} ms | {:.3} ms | {} |",
        times.len(),
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.95)),
        ms(times.last().copied().unwrap_or_default()),
        answered.map_or("–".to_string(), |a| format!("{a:.1}%"))
    )
}

/// Builds, snapshots and restores an index of `corpus` and prints the table.
pub fn print(corpus: &Corpus) {
    println!(
        "corpus: {} dreams, {} fragments, {:.1} MB of fragment text ({} B per fragment)",
        corpus.dreams.len(),
        corpus.fragments,
        corpus.fragment_bytes as f64 / 1e6,
        corpus.fragment_bytes / corpus.fragments.max(1)
    );
    let mut builds = Vec::new();
    let mut index = SearchIndex::new();
    for _ in 0..3 {
        let cpu = thread_cpu();
        let started = Instant::now();
        index = SearchIndex::new();
        index.upsert_dreams(&corpus.dreams);
        let wall = started.elapsed();
        builds.push((
            wall,
            thread_cpu().zip(cpu).map(|(after, before)| after - before),
        ));
    }
    builds.sort();
    let started = Instant::now();
    let snapshot = index.to_snapshot();
    let write = started.elapsed();
    let mut restores = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let restored = SearchIndex::from_snapshot(&snapshot).expect("the snapshot restores");
        restores.push(started.elapsed());
        assert_eq!(restored.len(), index.len());
    }
    restores.sort();
    let mut restored = SearchIndex::from_snapshot(&snapshot).expect("the snapshot restores");
    // The first removal after a restore builds the per-document term lists; later ones don't.
    let mut removals = Vec::new();
    for dream in corpus.dreams.iter().take(2) {
        let started = Instant::now();
        restored.upsert_dream(dream);
        removals.push(started.elapsed());
    }
    println!("{index:?}");
    println!();
    println!("| measure | value | target |");
    println!("|---|---|---|");
    println!(
        "| build ({} documents) | {:.0} ms (fastest of 3; its CPU time {}) | ≤ 1000 ms |",
        index.len(),
        ms(builds[0].0),
        builds[0]
            .1
            .map_or("unknown".to_string(), |cpu| format!("{:.0} ms", ms(cpu)))
    );
    println!(
        "| snapshot size | {:.2} MB | ≤ 15 MB |",
        snapshot.len() as f64 / 1e6
    );
    println!("| snapshot write | {:.0} ms | – |", ms(write));
    println!(
        "| restore | {:.0} ms (fastest of 5) | ≤ 300 ms |",
        ms(restores[0])
    );
    println!(
        "| upsert of an indexed dream after a restore | first {:.0} ms, next {:.2} ms | – |",
        ms(removals[0]),
        ms(removals[1])
    );
    println!(
        "| heap held (memory_bytes) | {:.0} MB built, {:.0} MB restored | – |",
        index.memory_bytes() as f64 / 1e6,
        restored.memory_bytes() as f64 / 1e6
    );
    println!();
    println!("| queries | n | p50 | p95 | max | answered (target in top 10) |");
    println!("|---|---|---|---|---|---|");
    let mut all = Vec::new();
    for kind in QUERY_KINDS {
        let queries: Vec<_> = corpus.queries.iter().filter(|q| q.kind == kind).collect();
        let timed = time_queries(&index, queries.iter().map(|q| q.text.as_str()), 5);
        let answered = queries
            .iter()
            .zip(&timed)
            .filter(|(q, (_, hits))| q.answered_by(hits))
            .count();
        let times: Vec<Duration> = timed.iter().map(|(t, _)| *t).collect();
        all.extend_from_slice(&times);
        if let Some((slowest, query)) = times.iter().zip(&queries).max_by_key(|(t, _)| **t) {
            eprintln!(
                "slowest {} query: {:?} {:.3} ms",
                kind.name(),
                query.text,
                ms(*slowest)
            );
        }
        println!(
            "{}",
            latency_row(
                kind.name(),
                times,
                Some(100.0 * answered as f64 / queries.len().max(1) as f64)
            )
        );
    }
    println!("{}", latency_row("all of the above", all, None));
    let broad = time_queries(&index, BROAD_QUERIES.iter().copied(), 5);
    println!(
        "{}",
        latency_row(
            "broad (common words, 1-2 letters)",
            broad.iter().map(|(t, _)| *t).collect(),
            None
        )
    );
    // Contexts about a target snippet: a task sentence around its words, its language.
    let contexts: Vec<SuggestionContext> = corpus
        .queries
        .iter()
        .step_by(10)
        .map(|q| SuggestionContext {
            current_task: Some(format!("fix the {} handler in the request code", q.text)),
            language: corpus.language_of(q).map(str::to_string),
            keywords: q.text.split_whitespace().map(str::to_string).collect(),
            ..SuggestionContext::default()
        })
        .collect();
    let mut suggestions = 0;
    let suggest_times: Vec<Duration> = contexts
        .iter()
        .map(|context| {
            let started = Instant::now();
            suggestions += index.suggest(context, corpus::now()).len();
            started.elapsed()
        })
        .collect();
    println!(
        "{} (returned {:.1} suggestions on average)",
        latency_row("suggest (task + keywords + language)", suggest_times, None),
        suggestions as f64 / contexts.len().max(1) as f64
    );
    for kind in QUERY_KINDS {
        let examples: Vec<&str> = corpus
            .queries
            .iter()
            .filter(|q| q.kind == kind)
            .take(4)
            .map(|q| q.text.as_str())
            .collect();
        println!("examples of {} queries: {examples:?}", kind.name());
    }
}
