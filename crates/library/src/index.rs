//! The library's use of the search crate's [`SearchIndex`]: how a request's filter becomes
//! search options, how a ranking of documents (dreams and their fragments) becomes a ranking
//! of dreams, what "related to this page" asks the relevance scorer, and word completions.

use std::collections::{BTreeMap, HashSet};

use dreamcatcher_model::{Dream, Timestamp};
use dreamcatcher_search::{FragmentRef, Highlighter, SearchIndex, SearchOptions, SuggestionContext};

pub use dreamcatcher_search::SearchHit as DocumentHit;

use crate::api::{DreamFilter, Highlight};

/// Documents ranked per query at most. The dreams among them are the results and their count
/// the total; a query matching more says so (`total_capped`) rather than ranking everything.
/// At 50,000 fragments (the search crate's benchmark corpus) that costs 0.52 ms a query
/// natively against 0.13 ms for the best ten (`benches/rank.rs`): the price of a total and of
/// pages that never shift, paid once per query (later pages come from the cache).
pub const RANKED_DOCUMENTS: usize = 1000;
/// Characters of text shown under a search result.
pub const SNIPPET_CHARS: usize = 180;
/// Suggestions asked of the scorer per related dream wanted: a dream's fragments come back
/// as suggestions of their own and fold into one.
const SUGGESTIONS_PER_DREAM: usize = 8;

/// Dreams matching a query, best first: each with its best-scoring document.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ranking {
    pub dreams: Vec<DocumentHit>,
    /// More documents matched than were ranked ([`RANKED_DOCUMENTS`]).
    pub capped: bool,
}

/// The filters the index applies itself. Dates and "unopened" are the list's notions (the
/// dream's own `updated_at`, whether it was opened), which the index does not hold: the
/// library applies those to the ranking.
pub fn search_options(filter: &DreamFilter, limit: usize) -> SearchOptions {
    SearchOptions {
        limit,
        site: filter.site,
        language: filter.language.clone(),
        tags: filter.tag.iter().cloned().collect(),
        ..SearchOptions::default()
    }
}

/// Ranks the dreams matching `query`. A query without a searchable word matches nothing (the
/// index would list everything by date, which is the list's job).
pub fn rank_dreams(index: &SearchIndex, query: &str, filter: &DreamFilter, now: Timestamp) -> Ranking {
    let documents = index.search(query, &search_options(filter, RANKED_DOCUMENTS), now);
    let capped = documents.len() >= RANKED_DOCUMENTS;
    let mut seen: HashSet<&str> = HashSet::with_capacity(documents.len());
    let first_of_dream: Vec<bool> = documents
        .iter()
        .map(|hit| hit.score > 0.0 && seen.insert(hit.dream_id.as_str()))
        .collect();
    let dreams = documents
        .into_iter()
        .zip(first_of_dream)
        .filter_map(|(hit, first)| first.then_some(hit))
        .collect();
    Ranking { dreams, capped }
}

/// The message a dream document's match is best shown from: the one with the most matches
/// (the first of equals); for a fragment, its own message.
pub fn best_message(hit: &DocumentHit, dream: &Dream, query: &str) -> Option<u32> {
    if let Some(fragment) = hit.fragment {
        return Some(fragment.message());
    }
    let highlighter = Highlighter::new(query);
    dream
        .conversation
        .messages
        .iter()
        .enumerate()
        .map(|(index, message)| (index, highlighter.spans(&message.markdown).len()))
        .filter(|(_, count)| *count > 0)
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0)))
        .and_then(|(index, _)| u32::try_from(index).ok())
}

/// The code block a fragment hit is, as (message, block) indices.
pub fn code_block_of(hit: &DocumentHit) -> Option<(usize, usize)> {
    match hit.fragment {
        Some(FragmentRef::Code { message, block }) => Some((message as usize, block as usize)),
        _ => None,
    }
}

pub fn highlights(spans: impl IntoIterator<Item = std::ops::Range<usize>>) -> Vec<Highlight> {
    spans
        .into_iter()
        .filter_map(|span| {
            Some(Highlight {
                start: u32::try_from(span.start).ok()?,
                end: u32::try_from(span.end).ok()?,
            })
        })
        .collect()
}

/// Title words never taken as keywords: they would match half the titles of a library.
const FUNCTION_WORDS: [&str; 24] = [
    "about", "and", "are", "can", "does", "for", "from", "how", "into", "not", "the", "that",
    "this", "use", "using", "what", "when", "where", "which", "why", "with", "without", "you",
    "your",
];
/// Keywords taken from a title at most.
const TITLE_KEYWORDS: usize = 8;

/// The words of a title worth matching against other dreams' titles and tags.
fn title_keywords(title: &str) -> impl Iterator<Item = String> + '_ {
    title
        .split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .filter(|word| word.chars().count() >= 3 && !FUNCTION_WORDS.contains(&word.as_str()))
        .take(TITLE_KEYWORDS)
}

/// The context "related to this page" gives the relevance scorer for the dream captured from
/// the page: its title as the task (a title is what a conversation is about; its whole text
/// would make every other dream a weak partial match), its tags and the title's content words
/// as keywords (the scorer's keyword signal is what lifts a whole conversation, not only one
/// of its code blocks, over the seed's 0.6), its most frequent code language.
pub fn related_context(dream: &Dream, min_score: f32, limit: usize) -> SuggestionContext {
    let mut languages: BTreeMap<&str, usize> = BTreeMap::new();
    for block in dream.conversation.messages.iter().flat_map(|m| &m.fragments.code_blocks) {
        if !block.language.is_empty() {
            *languages.entry(block.language.as_str()).or_default() += 1;
        }
    }
    let language = languages
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(a.0)))
        .map(|(language, _)| language.to_string());
    SuggestionContext {
        current_task: Some(dream.conversation.title.clone()),
        language,
        keywords: dream
            .tags
            .iter()
            .cloned()
            .chain(title_keywords(&dream.conversation.title))
            .collect(),
        min_score,
        limit: limit.saturating_mul(SUGGESTIONS_PER_DREAM),
    }
}

/// Other dreams relevant to `dream`, best first, at most `limit`: (dream id, score 0..=1).
pub fn related_dreams(
    index: &SearchIndex,
    dream: &Dream,
    min_score: f32,
    limit: usize,
    now: Timestamp,
) -> Vec<(String, f32)> {
    let context = related_context(dream, min_score, limit);
    let mut seen = HashSet::new();
    index
        .suggest(&context, now)
        .into_iter()
        .filter(|suggestion| suggestion.dream_id != dream.id())
        .filter(|suggestion| seen.insert(suggestion.dream_id.clone()))
        .take(limit)
        .map(|suggestion| (suggestion.dream_id, suggestion.score))
        .collect()
}

/// Words of `texts` that complete the last word of `prefix` (matched as the index matches
/// it), the most frequent first, lowercase, without the prefix itself.
pub fn completions<'a>(texts: impl IntoIterator<Item = &'a str>, prefix: &str, limit: usize) -> Vec<String> {
    let highlighter = Highlighter::new(prefix);
    let typed = prefix.split_whitespace().last().unwrap_or("").to_lowercase();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for text in texts {
        for span in highlighter.spans(text) {
            if let Some(word) = text.get(span).map(str::to_lowercase)
                && word != typed
                && !word.chars().any(char::is_whitespace)
            {
                *counts.entry(word).or_default() += 1;
            }
        }
    }
    let mut words: Vec<(String, usize)> = counts.into_iter().collect();
    words.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    words.into_iter().take(limit).map(|(word, _)| word).collect()
}
