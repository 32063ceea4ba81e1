//! What a search request costs the library over the index alone: ranking the best thousand
//! documents and folding them into dreams (for a total and stable pages), against the index's
//! best ten, at 50,000 fragments (the search crate's benchmark corpus).
//!
//! `cargo bench -p dreamcatcher-library --bench rank`

#[path = "../../search/benches/support/corpus.rs"]
mod corpus;

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use dreamcatcher_library::api::DreamFilter;
use dreamcatcher_library::index::rank_dreams;
use dreamcatcher_search::{SearchIndex, SearchOptions};

fn benches(c: &mut Criterion) {
    let corpus = corpus::generate(50_000, 20, 0x5eed);
    let mut index = SearchIndex::new();
    index.upsert_dreams(&corpus.dreams);
    let texts: Vec<&str> = corpus.queries.iter().map(|q| q.text.as_str()).collect();
    let mut group = c.benchmark_group("search_request_50k_fragments");
    group.measurement_time(Duration::from_secs(5));
    let mut next = 0;
    group.bench_function("index_best_10", |b| {
        b.iter(|| {
            next = (next + 1) % texts.len().max(1);
            let query = texts.get(next).copied().unwrap_or("");
            index.search(query, &SearchOptions::default(), corpus::now())
        })
    });
    group.bench_function("rank_dreams_best_1000_documents", |b| {
        b.iter(|| {
            next = (next + 1) % texts.len().max(1);
            let query = texts.get(next).copied().unwrap_or("");
            rank_dreams(&index, query, &DreamFilter::default(), corpus::now())
        })
    });
    group.finish();
}

criterion_group!(rank, benches);
criterion_main!(rank);
