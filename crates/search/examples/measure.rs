//! Prints the search index's numbers on a generated library of 50,000 fragments: build
//! time, snapshot size, restore time, query latency and hit rates.
//!
//! `cargo run --release -p dreamcatcher-search --example measure [fragments] [queries per kind]`

#[path = "../benches/support/corpus.rs"]
mod corpus;
#[path = "../benches/support/summary.rs"]
mod summary;

fn main() {
    let mut args = std::env::args().skip(1);
    let fragments: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(50_000);
    let per_kind: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(250);
    summary::print(&corpus::generate(fragments, per_kind, 0x5eed));
}
