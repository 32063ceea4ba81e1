//! Criterion benchmarks of the index at 50,000 fragments (build, snapshot, restore, queries
//! by kind), followed by the summary table (sizes, p50/p95 latency, hit rates).
//!
//! `cargo bench -p dreamcatcher-search --bench search`

#[path = "support/corpus.rs"]
mod corpus;
#[path = "support/summary.rs"]
mod summary;

use std::time::Duration;

use criterion::{Criterion, criterion_group};
use dreamcatcher_search::{SearchIndex, SearchOptions};

const FRAGMENTS: usize = 50_000;

fn benches(c: &mut Criterion) {
    let corpus = corpus::generate(FRAGMENTS, 100, 0x5eed);
    let mut index = SearchIndex::new();
    index.upsert_dreams(&corpus.dreams);
    let snapshot = index.to_snapshot();

    let mut whole = c.benchmark_group("index_50k_fragments");
    whole
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    whole.bench_function("build", |b| {
        b.iter(|| {
            let mut fresh = SearchIndex::new();
            fresh.upsert_dreams(&corpus.dreams);
            fresh
        })
    });
    whole.bench_function("to_snapshot", |b| b.iter(|| index.to_snapshot()));
    whole.bench_function("from_snapshot", |b| {
        b.iter(|| SearchIndex::from_snapshot(&snapshot))
    });
    whole.finish();

    let mut queries = c.benchmark_group("query_50k_fragments");
    queries.measurement_time(Duration::from_secs(5));
    let options = SearchOptions::default();
    for kind in corpus::QUERY_KINDS {
        let texts: Vec<&str> = corpus
            .queries
            .iter()
            .filter(|q| q.kind == kind)
            .map(|q| q.text.as_str())
            .collect();
        let mut next = 0;
        queries.bench_function(kind.name(), |b| {
            b.iter(|| {
                next = (next + 1) % texts.len().max(1);
                index.search(
                    texts.get(next).copied().unwrap_or(""),
                    &options,
                    corpus::now(),
                )
            })
        });
    }
    let mut next = 0;
    queries.bench_function("broad", |b| {
        b.iter(|| {
            next = (next + 1) % summary::BROAD_QUERIES.len();
            index.search(summary::BROAD_QUERIES[next], &options, corpus::now())
        })
    });
    queries.finish();
}

criterion_group!(search, benches);

fn main() {
    search();
    Criterion::default().configure_from_args().final_summary();
    println!();
    summary::print(&corpus::generate(FRAGMENTS, 250, 0x5eed));
}
