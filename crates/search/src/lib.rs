//! Search index and relevance scorer.
