//! Search index and relevance scorer for Dreamcatcher's library of dreams.
//!
//! Runs natively (CLI, service) and in wasm (extension service worker, popup): no threads, no
//! clock, no file system; the current time is passed in as a [`Timestamp`].
//!
//! # Documents
//!
//! Each [`Dream`](dreamcatcher_model::Dream) is indexed as one dream document and one fragment
//! document per code block and per TODO. Fields and their BM25F weights:
//!
//! | field | dream document | fragment document | weight | b |
//! |---|---|---|---|---|
//! | title | conversation title | artifact title of a code block | 3.0 | 0.5 |
//! | tags | user tags | code block language, TODO marker | 2.0 | 0.3 |
//! | notes | user notes | – | 1.5 | 0.6 |
//! | body | message prose (fenced code left to the fragments) | code, TODO text | 1.0 | 0.75 |
//!
//! Text is tokenised Unicode-aware and code-aware (see `tokenize`): lowercased, Latin
//! diacritics folded, `camelCase`/`snake_case` and `std::fs::read`/`src/lib.rs` split into parts
//! and kept whole, Han/Kana/Hangul runs as overlapping character bigrams. Queries are
//! tokenised the same way.
//!
//! # Search score (0..=1)
//!
//! For a document d and query term t (a prefix term stands for its completions c, each with
//! weight w_c = 1 for the term itself, 0.9·√(|t|/|c|) otherwise):
//!
//! ```text
//! tf̃(c,d)   = Σ_fields weight_f · tf_f(c,d) / (1 − b_f + b_f · len_f(d) / avglen_f(kind d))
//! sat(c,d)  = tf̃ / (k1 + tf̃)                                   k1 = 1.2, so 0 ≤ sat < 1
//! idf(t)    = ln(1 + (N − df + 0.5) / (df + 0.5))     df of a prefix: its completions' sum
//! text(d)   = Σ_t idf(t) · max_c w_c·sat(c,d)  /  Σ_t idf(t) · max_c w_c
//! coverage  = query words matched by d / query words     (whole compound forms are a bonus
//!                                                          that does not count here)
//! score(d)  = text · coverage · (0.95 + 0.05 · 0.5^(age in days / 30))
//! ```
//! Average lengths are per document kind, so dreams' long prose is compared with dreams'.
//! Field lengths are kept as one-byte codes (exact up to 16 tokens, then within 1/16), which
//! turns the length norm into a per-query table. A document's age is that of its
//! conversation (last update, else creation, else capture). Ties go to the newer
//! conversation, then dream id and fragment.
//!
//! Search-as-you-type: the last query term (unless the query ends in whitespace) also matches
//! as a prefix. A prefix with more than 2,048 completions (one or two letters) is taken as
//! typed; otherwise at most 32 completions are used, shortest first, up to 50,000 postings,
//! which bounds a query's work. Rare query terms are scored first; when the common terms
//! alone cannot lift an unseen document into the top `limit`, their long posting lists are
//! only read for documents already found. This changes no result (a test checks it against
//! exhaustive scoring).
//!
//! # Suggestion score (0..=1)
//!
//! The seed's `calculatePiecesRelevance` signals, with its flat 0.5 base replaced by half the
//! text relevance of the context (task and keywords), so an unrelated snippet cannot pass on
//! language and recency alone:
//!
//! ```text
//! text      = Σ_t idf(t) · min(1, (k1+1)·tf̃/(k1+tf̃))  /  Σ_t idf(t)      (1 = every term
//!                                 present at least as often as in an average document field)
//! language  = 0.2   when the fragment's language is the context's
//! keywords  = 0.1 × keywords matching a dream tag (either contains the other's words) or
//!             contained in the title, at most 0.3
//! usage     = min(0.05 · ln(usage count), 0.15)       (usage count of the dream)
//! recency   = 0.1   when the dream was last used less than 7 days before `now`
//! score     = min(1, 0.5·text + language + keywords + usage + recency)
//! ```
//! Context words that no document has, or (in a library of 100 documents or more) that more
//! than half of them have, are left out of the text relevance: a task sentence's filler words
//! would otherwise weigh on every document. Only documents matching some remaining context
//! term are candidates; those with score ≥ `min_score` (default 0.6) are returned, at most
//! `limit` (default 10), best first.
//!
//! # Snippets
//!
//! The index stores no document bodies, which keeps snapshots small; [`SearchHit::snippet`]
//! cuts the excerpt and highlight spans from the dream the caller already has.
//!
//! # Updates and snapshots
//!
//! [`SearchIndex::upsert_dream`] and [`SearchIndex::remove_dream`] work in place: removed
//! documents are skipped at once and their postings swept once they are a quarter of all.
//! [`SearchIndex::to_snapshot`] writes a compact versioned binary image (layout in the
//! `snapshot` module) that [`SearchIndex::from_snapshot`] restores without re-tokenising.

mod dictionary;
mod index;
mod postings;
mod query;
mod snapshot;
mod snippet;
mod tokenize;

pub use dreamcatcher_model::Timestamp;
pub use index::{DocKind, FragmentRef, SearchIndex};
pub use query::{SearchHit, SearchOptions, Suggestion, SuggestionContext, SuggestionSignals};
pub use snapshot::{SNAPSHOT_VERSION, SnapshotError};
pub use snippet::{Highlighter, Snippet, highlight, snippet};
