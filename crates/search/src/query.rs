//! Query planning, BM25F scoring, ranking, filters and suggestions.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use dreamcatcher_model::{Site, Timestamp};
use serde::{Deserialize, Serialize};

use crate::index::{DocKind, DocState, FIELDS, FragmentRef, SearchIndex, coded_length};
use crate::postings::Posting;
use crate::tokenize::{TermRole, fold, tokenize};

/// Field weights: title, tags (and a fragment's language or TODO marker), notes, body.
pub(crate) const FIELD_WEIGHTS: [f32; FIELDS] = [3.0, 2.0, 1.5, 1.0];
/// BM25 length normalisation per field: short fields barely, long bodies strongly.
pub(crate) const FIELD_B: [f32; FIELDS] = [0.5, 0.3, 0.6, 0.75];
pub(crate) const K1: f32 = 1.2;
/// Search-as-you-type expands the last query term to at most this many completions…
const MAX_EXPANSIONS: usize = 32;
/// …whose postings add up to at most this many (the shortest completions are kept), which
/// bounds the time a one- or two-letter prefix can take.
const EXPANSION_POSTING_BUDGET: u64 = 50_000;
/// A prefix with more completions than this in the dictionary is taken as typed.
const MAX_PREFIX_RANGE: usize = 2048;
/// A query uses at most this many terms (one bit each in the match mask).
const MAX_QUERY_TERMS: usize = 32;

/// Filters and size of a search. `Default` is: 10 results, no filters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SearchOptions {
    pub limit: usize,
    pub site: Option<Site>,
    /// Fragments in this language, and dreams holding a code block in it (case-insensitive).
    pub language: Option<String>,
    /// Only documents of dreams carrying every one of these tags (case-insensitive).
    pub tags: Vec<String>,
    /// Conversation date bounds, inclusive. The date is the conversation's last update, else
    /// its creation, else when it was captured.
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
    pub kind: Option<DocKind>,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions {
            limit: 10,
            site: None,
            language: None,
            tags: Vec::new(),
            since: None,
            until: None,
            kind: None,
        }
    }
}

/// One ranked result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    pub dream_id: String,
    /// The fragment, or `None` for the dream itself.
    pub fragment: Option<FragmentRef>,
    pub kind: DocKind,
    /// Relevance in 0..=1 (see the crate docs); 0 for the recency listing of an empty query.
    pub score: f32,
    /// The fragment's own title (an artifact's) or else the conversation's title.
    pub title: String,
    pub language: Option<String>,
    pub site: Site,
    pub date: Timestamp,
}

/// What the user is doing, for [`SearchIndex::suggest`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SuggestionContext {
    pub current_task: Option<String>,
    pub language: Option<String>,
    pub keywords: Vec<String>,
    /// Suggestions scoring below this are dropped (the seed's `MIN_RELEVANCE_SCORE`).
    pub min_score: f32,
    /// At most this many suggestions (the seed's `MAX_SUGGESTIONS`).
    pub limit: usize,
}

impl Default for SuggestionContext {
    fn default() -> Self {
        SuggestionContext {
            current_task: None,
            language: None,
            keywords: Vec::new(),
            min_score: 0.6,
            limit: 10,
        }
    }
}

/// The parts of a suggestion's score, so a UI can say why it was suggested.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct SuggestionSignals {
    /// BM25F relevance of the task and keywords, 0..=1 (it weighs 0.5 in the score).
    pub text: f32,
    /// 0.2 when the fragment's language is the context's.
    pub language: f32,
    /// 0.1 per keyword matching a tag or the title, at most 0.3.
    pub keywords: f32,
    /// 0.05·ln(usage count), at most 0.15.
    pub usage: f32,
    /// 0.1 when last used less than 7 days ago.
    pub recency: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suggestion {
    pub dream_id: String,
    pub fragment: Option<FragmentRef>,
    pub kind: DocKind,
    pub title: String,
    pub language: Option<String>,
    /// min(1, 0.5·text + language + keywords + usage + recency).
    pub score: f32,
    pub signals: SuggestionSignals,
}

/// One query term and the index terms that satisfy it (one, or a prefix's completions).
struct Group {
    /// The query term as tokenised.
    term: String,
    expansions: Vec<(u32, f32)>,
    /// Postings of its expansions: the work it costs.
    df: u64,
    idf: f32,
    /// The best contribution any document could get: the normalisation's share of this term.
    ideal: f32,
    /// Counts towards coverage (a word or CJK bigram); whole compound forms only add a bonus.
    counts: bool,
}

#[derive(Clone, Copy)]
enum Saturation {
    /// tf̃ / (k1 + tf̃): in 0..1, keeps growing with more and better-placed occurrences.
    Ranking,
    /// min(1, (k1 + 1)·tf̃ / (k1 + tf̃)): the classic BM25 term weight, which is 1 for one
    /// occurrence in a field of average length; capped so one term cannot stand for others.
    Absolute,
}

/// Which documents a pass over a term's postings may score.
#[derive(Clone, Copy)]
enum Only {
    All,
    /// Documents already matching one of these terms.
    Touched(u32),
    /// Documents matching none of these terms.
    Untouched(u32),
}

/// Per-document sums of a query's term contributions.
struct Accumulator<'a> {
    index: &'a SearchIndex,
    saturation: Saturation,
    norms: [[[f32; 256]; FIELDS]; 2],
    total: Vec<f32>,
    /// Bit g: the document matches query term g.
    mask: Vec<u32>,
    /// Scratch for a prefix term's best completion per document.
    best: Vec<f32>,
    touched: Vec<u32>,
    group_touched: Vec<u32>,
}

/// Turns accumulated sums into search scores (before recency).
struct Ranking {
    ideal: f32,
    counted_mask: u32,
    counted: f32,
}

impl Ranking {
    fn new(groups: &[Group]) -> Ranking {
        let counted_mask = groups
            .iter()
            .enumerate()
            .filter(|(_, g)| g.counts)
            .fold(0u32, |mask, (i, _)| mask | 1 << i);
        Ranking {
            ideal: groups
                .iter()
                .map(|g| g.ideal)
                .sum::<f32>()
                .max(f32::MIN_POSITIVE),
            counted_mask,
            counted: counted_mask.count_ones().max(1) as f32,
        }
    }

    /// text × coverage.
    fn score(&self, total: f32, mask: u32) -> f32 {
        let text = (total / self.ideal).min(1.0);
        let coverage = (mask & self.counted_mask).count_ones() as f32 / self.counted;
        (text * coverage).clamp(0.0, 1.0)
    }

    /// The most a document could score from terms whose ideals sum to `ideal`, matching at
    /// most the terms in `mask`.
    fn bound(&self, ideal: f32, mask: u32) -> f32 {
        self.score(ideal, mask)
    }
}

struct Filter {
    site: Option<Site>,
    /// `Some(None)`: a language was asked for that no document has.
    language: Option<Option<u16>>,
    tags: Vec<String>,
    since: Option<Timestamp>,
    until: Option<Timestamp>,
    kind: Option<DocKind>,
}

fn idf(documents: f32, df: f32) -> f32 {
    (1.0 + (documents - df + 0.5) / (df + 0.5)).ln().max(0.0)
}

impl SearchIndex {
    /// Ranked documents for `query`, best first. The last term is also matched as a prefix
    /// unless the query ends in whitespace (search-as-you-type). An empty query lists the
    /// documents passing the filters, newest first, with score 0.
    pub fn search(&self, query: &str, options: &SearchOptions, now: Timestamp) -> Vec<SearchHit> {
        if options.limit == 0 {
            return Vec::new();
        }
        let filter = self.filter(options);
        let groups = self.plan(&[query], true);
        if groups.is_empty() {
            let listing = self
                .doc_state
                .iter()
                .enumerate()
                .filter(|(doc, state)| {
                    matches!(state, DocState::Live(_)) && self.accepts(&filter, *doc as u32)
                })
                .map(|(doc, _)| (0.0, doc as u32))
                .collect();
            return self
                .top(listing, options.limit)
                .into_iter()
                .filter_map(|(score, doc)| self.hit(doc, score))
                .collect();
        }
        let ranking = Ranking::new(&groups);
        let mut accumulator = Accumulator::new(self, Saturation::Ranking);
        // Rare terms first: documents matching none of them can only score what the common
        // terms add, and when that is below the `limit`-th best among the documents that do, the
        // common terms' long lists only need reading for documents already found.
        let (rare, common): (Vec<usize>, Vec<usize>) =
            (0..groups.len()).partition(|&g| groups[g].df <= (self.len() as u64 / 16).max(64));
        let common_postings: u64 = common.iter().map(|&g| groups[g].df).sum();
        if rare.is_empty() || common_postings < 8192 {
            for (g, group) in groups.iter().enumerate() {
                accumulator.add(g, group, Only::All);
            }
            return self.finish(&ranking, &accumulator, &filter, options.limit, now);
        }
        let rare_bits = rare.iter().fold(0u32, |bits, &g| bits | 1 << g);
        for &g in &rare {
            accumulator.add(g, &groups[g], Only::All);
        }
        for &g in &common {
            accumulator.add(g, &groups[g], Only::Touched(rare_bits));
        }
        let best = self.top_hits(&ranking, &accumulator, &filter, options.limit, now);
        let common_bits = common.iter().fold(0u32, |bits, &g| bits | 1 << g);
        let unseen_bound =
            ranking.bound(common.iter().map(|&g| groups[g].ideal).sum(), common_bits);
        if best.len() == options.limit
            && best.last().is_some_and(|&(score, _)| unseen_bound < score)
        {
            return best
                .into_iter()
                .filter_map(|(score, doc)| self.hit(doc, score))
                .collect();
        }
        for &g in &common {
            accumulator.add(g, &groups[g], Only::Untouched(rare_bits));
        }
        self.finish(&ranking, &accumulator, &filter, options.limit, now)
    }

    /// `search` without the rare-terms-first shortcut, to check that it changes nothing.
    #[cfg(test)]
    pub(crate) fn search_exhaustively(
        &self,
        query: &str,
        options: &SearchOptions,
        now: Timestamp,
    ) -> Vec<SearchHit> {
        let groups = self.plan(&[query], true);
        let mut accumulator = Accumulator::new(self, Saturation::Ranking);
        for (g, group) in groups.iter().enumerate() {
            accumulator.add(g, group, Only::All);
        }
        self.finish(
            &Ranking::new(&groups),
            &accumulator,
            &self.filter(options),
            options.limit,
            now,
        )
    }

    fn finish(
        &self,
        ranking: &Ranking,
        accumulator: &Accumulator<'_>,
        filter: &Filter,
        limit: usize,
        now: Timestamp,
    ) -> Vec<SearchHit> {
        let best = self.top_hits(ranking, accumulator, filter, limit, now);
        best.into_iter()
            .filter_map(|(score, doc)| self.hit(doc, score))
            .collect()
    }

    /// The best `limit` accumulated documents passing `filter`, with their final scores.
    /// Text relevance × coverage bounds the final score from above (recency only lowers it),
    /// so documents are taken best bound first and filters and recency are worked out only
    /// until no remaining bound can enter the top `limit`.
    fn top_hits(
        &self,
        ranking: &Ranking,
        accumulator: &Accumulator<'_>,
        filter: &Filter,
        limit: usize,
        now: Timestamp,
    ) -> Vec<(f32, u32)> {
        let mut bounds: BinaryHeap<(u32, Reverse<u32>)> = accumulator
            .touched
            .iter()
            .filter_map(|&doc| {
                let slot = doc as usize;
                let bound =
                    ranking.score(*accumulator.total.get(slot)?, *accumulator.mask.get(slot)?);
                (bound > 0.0).then_some((bound.to_bits(), Reverse(doc)))
            })
            .collect();
        let mut best: Vec<(f32, u32)> =
            Vec::with_capacity(limit.min(bounds.len()).saturating_add(1));
        while let Some((bits, Reverse(doc))) = bounds.pop() {
            let bound = f32::from_bits(bits);
            if best.len() == limit && best.last().is_some_and(|&(score, _)| bound < score) {
                break;
            }
            if !self.accepts(filter, doc) {
                continue;
            }
            let candidate = (bound * (0.95 + 0.05 * self.doc_recency(doc, now)), doc);
            let position =
                best.partition_point(|other| self.rank(other, &candidate) == Ordering::Less);
            best.insert(position, candidate);
            best.truncate(limit);
        }
        best
    }

    /// Documents worth suggesting for what the user is doing: the seed's relevance signals on
    /// top of the BM25F relevance of the task and keywords (formula in the crate docs). Only
    /// scores ≥ `min_score`, at most `limit`, best first.
    pub fn suggest(&self, context: &SuggestionContext, now: Timestamp) -> Vec<Suggestion> {
        if context.limit == 0 {
            return Vec::new();
        }
        let mut texts: Vec<&str> = context.keywords.iter().map(String::as_str).collect();
        if let Some(task) = &context.current_task {
            texts.push(task);
        }
        let mut groups = self.plan(&texts, false);
        // A context is a bag of words from what the user is doing: words no document has say
        // nothing about which document fits, and in a library of some size, words most
        // documents have (df > N/2, idf below ln 2) say little while costing the longest lists.
        let documents = self.len() as u64;
        let too_common = |g: &Group| documents >= 100 && g.df * 2 > documents;
        let common_terms: Vec<String> = groups
            .iter()
            .filter(|g| too_common(g))
            .map(|g| g.term.clone())
            .collect();
        groups.retain(|g| !g.expansions.is_empty() && !too_common(g));
        if groups.is_empty() {
            return Vec::new();
        }
        let mut accumulated = Accumulator::new(self, Saturation::Absolute);
        for (g, group) in groups.iter().enumerate() {
            accumulated.add(g, group, Only::All);
        }
        let ideal: f32 = groups
            .iter()
            .map(|g| g.ideal)
            .sum::<f32>()
            .max(f32::MIN_POSITIVE);
        let language = context
            .language
            .as_deref()
            .map(fold)
            .filter(|l| !l.is_empty());
        let language = language.as_deref().map(|l| self.language_id(l));
        let keywords: Vec<Vec<String>> = context
            .keywords
            .iter()
            .map(|k| term_set(k))
            .filter(|terms| !terms.is_empty())
            .collect();
        // Per keyword, the query terms it consists of: a title can contain the keyword only if
        // the document holding that title matched all of them. A term in no document rules the
        // keyword out (`None`); a term left out for being common is not known per document, so
        // it is not required.
        let keyword_bits: Vec<Option<u32>> = keywords
            .iter()
            .map(|terms| {
                terms.iter().try_fold(0u32, |bits, term| {
                    if common_terms.contains(term) {
                        return Some(bits);
                    }
                    groups
                        .iter()
                        .position(|g| g.term == *term)
                        .map(|g| bits | 1 << g)
                })
            })
            .collect();

        // Everything but the keyword matches is cheap; keyword matches tokenise titles and
        // tags, so documents are taken best bound (keywords counted as 0.3) first and matched
        // only while they can still enter the top `limit`.
        let mut bounds: BinaryHeap<(u32, Reverse<u32>)> = BinaryHeap::new();
        let mut partial: Vec<(u32, SuggestionSignals)> = Vec::new();
        for &doc in &accumulated.touched {
            let slot = doc as usize;
            let (Some(info), Some(DocState::Live(kind))) =
                (self.doc_info.get(slot), self.doc_state.get(slot))
            else {
                continue;
            };
            let Some(dream) = self.dream(info.dream) else {
                continue;
            };
            let text =
                (accumulated.total.get(slot).copied().unwrap_or(0.0) / ideal).clamp(0.0, 1.0);
            let mut signals = SuggestionSignals {
                text,
                ..SuggestionSignals::default()
            };
            if *kind == DocKind::Fragment
                && info.language != 0
                && language == Some(Some(info.language))
            {
                signals.language = 0.2;
            }
            if dream.usage_count > 0 {
                signals.usage = (0.05 * (dream.usage_count as f32).ln()).min(0.15);
            }
            if let Some(used) = dream.last_used_at
                && now.signed_duration_since(used).num_seconds() < 7 * 86_400
            {
                signals.recency = 0.1;
            }
            let keyword_room = if dream.tags.is_empty() {
                let title_doc = if info.title.is_some() {
                    Some(doc)
                } else {
                    dream.docs.first().copied()
                };
                let title_mask = title_doc
                    .and_then(|d| accumulated.mask.get(d as usize))
                    .copied()
                    .unwrap_or(0);
                let possible = keyword_bits
                    .iter()
                    .flatten()
                    .filter(|&&bits| bits & !title_mask == 0)
                    .count();
                0.1 * possible.min(3) as f32
            } else {
                0.1 * keywords.len().min(3) as f32
            };
            let bound = 0.5 * signals.text
                + signals.language
                + signals.usage
                + signals.recency
                + keyword_room;
            if bound.min(1.0) >= context.min_score {
                bounds.push((bound.to_bits(), Reverse(partial.len() as u32)));
                partial.push((doc, signals));
            }
        }
        let mut best: Vec<(f32, u32, SuggestionSignals)> = Vec::new();
        while let Some((bits, Reverse(entry))) = bounds.pop() {
            let bound = f32::from_bits(bits);
            if best.len() == context.limit && best.last().is_some_and(|&(raw, _, _)| bound < raw) {
                break;
            }
            let Some(&(doc, mut signals)) = partial.get(entry as usize) else {
                continue;
            };
            let (Some(info), Some(dream)) = (
                self.doc_info.get(doc as usize),
                self.doc_info
                    .get(doc as usize)
                    .and_then(|i| self.dream(i.dream)),
            ) else {
                continue;
            };
            if !keywords.is_empty() {
                let title_terms = term_set(info.title.as_deref().unwrap_or(&dream.title));
                let tag_terms: Vec<Vec<String>> = dream.tags.iter().map(|t| term_set(t)).collect();
                let hits = keywords
                    .iter()
                    .filter(|keyword| {
                        is_subset(keyword, &title_terms)
                            || tag_terms
                                .iter()
                                .any(|tag| is_subset(keyword, tag) || is_subset(tag, keyword))
                    })
                    .count()
                    .min(3);
                signals.keywords = 0.1 * hits as f32;
            }
            let raw = 0.5 * signals.text
                + signals.language
                + signals.keywords
                + signals.usage
                + signals.recency;
            if raw.min(1.0) < context.min_score {
                continue;
            }
            let candidate = (raw, doc);
            let position = best.partition_point(|&(other, other_doc, _)| {
                self.rank(&(other, other_doc), &candidate) == Ordering::Less
            });
            best.insert(position, (raw, doc, signals));
            best.truncate(context.limit);
        }
        best.into_iter()
            .filter_map(|(raw, doc, signals)| {
                let hit = self.hit(doc, raw.min(1.0))?;
                Some(Suggestion {
                    dream_id: hit.dream_id,
                    fragment: hit.fragment,
                    kind: hit.kind,
                    title: hit.title,
                    language: hit.language,
                    score: hit.score,
                    signals,
                })
            })
            .collect()
    }

    /// Query terms of `texts`, matched against the dictionary. With `prefix`, terms ending
    /// the last text (when it does not end in whitespace) also match as prefixes.
    fn plan(&self, texts: &[&str], prefix: bool) -> Vec<Group> {
        let mut tokens: Vec<(String, bool, TermRole)> = Vec::new();
        let mut buffer = String::new();
        let last = texts.len().saturating_sub(1);
        for (text_index, text) in texts.iter().enumerate() {
            let as_prefix = prefix && text_index == last;
            tokenize(text, &mut buffer, &mut |term, range, role| {
                let is_prefix = as_prefix && range.end == text.len();
                if !tokens.iter().any(|(t, p, _)| t == term && *p == is_prefix) {
                    tokens.push((term.to_string(), is_prefix, role));
                }
            });
        }
        let documents = self.len() as f32;
        let mut groups = Vec::new();
        for (term, is_prefix, role) in tokens {
            let term_text = term.clone();
            if groups.len() == MAX_QUERY_TERMS {
                break;
            }
            let counts = role != TermRole::Whole;
            let (expansions, df) = if is_prefix {
                self.expand_prefix(&term)
            } else {
                self.exact(&term)
            };
            if expansions.is_empty() && !counts {
                continue;
            }
            let idf = idf(documents, df as f32);
            let best_weight = expansions.iter().map(|e| e.1).fold(0.0f32, f32::max);
            let ideal = idf
                * if expansions.is_empty() {
                    1.0
                } else {
                    best_weight
                };
            groups.push(Group {
                term: term_text,
                expansions,
                df,
                idf,
                ideal,
                counts,
            });
        }
        groups
    }

    fn exact(&self, term: &str) -> (Vec<(u32, f32)>, u64) {
        match self.dictionary.get(term) {
            Some(id) => {
                let df = self.live_df.get(id as usize).copied().unwrap_or(0);
                if df == 0 {
                    (Vec::new(), 0)
                } else {
                    (vec![(id, 1.0)], u64::from(df))
                }
            }
            None => (Vec::new(), 0),
        }
    }

    /// Completions of `prefix`: the exact term weighs 1, a completion 0.9·√(prefix/term
    /// length) so near completions beat far ones. The shortest completions are kept when
    /// there are too many. Returns the expansions and their summed document frequency.
    fn expand_prefix(&self, prefix: &str) -> (Vec<(u32, f32)>, u64) {
        let mut ids = Vec::new();
        if !self
            .dictionary
            .with_prefix(prefix, MAX_PREFIX_RANGE, &mut ids)
        {
            // Too unspecific to complete (one or two letters): match the term as typed.
            return self.exact(prefix);
        }
        let mut found: Vec<(u32, u32)> = ids
            .into_iter()
            .filter_map(|id| {
                let df = self.live_df.get(id as usize).copied().unwrap_or(0);
                (df > 0).then_some((id, df))
            })
            .collect();
        let total: u64 = found.iter().map(|&(_, df)| u64::from(df)).sum();
        if found.len() > MAX_EXPANSIONS || total > EXPANSION_POSTING_BUDGET {
            let mut keyed: Vec<(usize, Reverse<u32>, u32)> = found
                .iter()
                .map(|&(id, df)| (self.dictionary.term(id).len(), Reverse(df), id))
                .collect();
            keyed.sort_unstable_by(|a, b| {
                (a.0, a.1)
                    .cmp(&(b.0, b.1))
                    .then_with(|| self.dictionary.term(a.2).cmp(self.dictionary.term(b.2)))
            });
            found = keyed
                .into_iter()
                .map(|(_, Reverse(df), id)| (id, df))
                .collect();
            let mut budget = 0u64;
            let mut kept = 0;
            for &(_, df) in &found {
                if kept == MAX_EXPANSIONS
                    || (kept > 0 && budget + u64::from(df) > EXPANSION_POSTING_BUDGET)
                {
                    break;
                }
                budget += u64::from(df);
                kept += 1;
            }
            found.truncate(kept);
        }
        let prefix_length = prefix.len() as f32;
        let df = found
            .iter()
            .map(|&(_, df)| u64::from(df))
            .sum::<u64>()
            .min(self.len() as u64);
        let expansions = found
            .into_iter()
            .map(|(id, _)| {
                let length = self.dictionary.term(id).len() as f32;
                let weight = if length <= prefix_length {
                    1.0
                } else {
                    0.9 * (prefix_length / length).sqrt()
                };
                (id, weight)
            })
            .collect();
        (expansions, df)
    }

    fn filter(&self, options: &SearchOptions) -> Filter {
        Filter {
            site: options.site,
            language: options
                .language
                .as_deref()
                .map(|l| self.language_id(l).filter(|&id| id != 0)),
            tags: options
                .tags
                .iter()
                .map(|t| fold(t))
                .filter(|t| !t.is_empty())
                .collect(),
            since: options.since,
            until: options.until,
            kind: options.kind,
        }
    }

    fn accepts(&self, filter: &Filter, doc: u32) -> bool {
        let slot = doc as usize;
        let (Some(DocState::Live(kind)), Some(info)) =
            (self.doc_state.get(slot), self.doc_info.get(slot))
        else {
            return false;
        };
        let Some(dream) = self.dream(info.dream) else {
            return false;
        };
        if filter.kind.is_some_and(|k| k != *kind)
            || filter.site.is_some_and(|s| s != dream.site)
            || filter.since.is_some_and(|since| dream.date < since)
            || filter.until.is_some_and(|until| dream.date > until)
            || !filter
                .tags
                .iter()
                .all(|t| dream.tags.iter().any(|d| **d == **t))
        {
            return false;
        }
        match filter.language {
            None => true,
            Some(None) => false,
            Some(Some(language)) => match kind {
                DocKind::Fragment => info.language == language,
                DocKind::Dream => dream.languages.contains(&language),
            },
        }
    }

    /// 1 for a conversation active now, halving every 30 days.
    fn doc_recency(&self, doc: u32, now: Timestamp) -> f32 {
        let Some(dream) = self
            .doc_info
            .get(doc as usize)
            .and_then(|info| self.dream(info.dream))
        else {
            return 0.0;
        };
        let days = now.signed_duration_since(dream.date).num_seconds().max(0) as f32 / 86_400.0;
        0.5f32.powf(days / 30.0)
    }

    /// Rank order: higher score, then newer, then dream id and fragment (never the internal
    /// slot, so a restored snapshot ranks identically).
    fn rank(&self, a: &(f32, u32), b: &(f32, u32)) -> Ordering {
        b.0.total_cmp(&a.0).then_with(|| {
            let key = |doc: u32| {
                let info = self.doc_info.get(doc as usize);
                let dream = info.and_then(|i| self.dream(i.dream));
                (
                    dream.map(|d| d.date),
                    dream.map(|d| &*d.id),
                    info.and_then(|i| i.fragment),
                )
            };
            let (ka, kb) = (key(a.1), key(b.1));
            kb.0.cmp(&ka.0)
                .then_with(|| ka.1.cmp(&kb.1))
                .then_with(|| ka.2.cmp(&kb.2))
        })
    }

    /// The best `limit` candidates in rank order.
    fn top(&self, mut candidates: Vec<(f32, u32)>, limit: usize) -> Vec<(f32, u32)> {
        let compare = |a: &(f32, u32), b: &(f32, u32)| self.rank(a, b);
        if candidates.len() > limit {
            candidates.select_nth_unstable_by(limit, compare);
            candidates.truncate(limit);
        }
        candidates.sort_unstable_by(compare);
        candidates
    }

    fn hit(&self, doc: u32, score: f32) -> Option<SearchHit> {
        let slot = doc as usize;
        let info = self.doc_info.get(slot)?;
        let Some(DocState::Live(kind)) = self.doc_state.get(slot) else {
            return None;
        };
        let dream = self.dream(info.dream)?;
        Some(SearchHit {
            dream_id: dream.id.to_string(),
            fragment: info.fragment,
            kind: *kind,
            score,
            title: info.title.as_deref().unwrap_or(&dream.title).to_string(),
            language: self.language_name(info.language).map(str::to_string),
            site: dream.site,
            date: dream.date,
        })
    }
}

impl<'a> Accumulator<'a> {
    fn new(index: &'a SearchIndex, saturation: Saturation) -> Accumulator<'a> {
        let documents = index.doc_state.len();
        Accumulator {
            index,
            saturation,
            norms: norm_tables(index),
            total: vec![0.0; documents],
            mask: vec![0; documents],
            best: Vec::new(),
            touched: Vec::new(),
            group_touched: Vec::new(),
        }
    }

    /// weight × saturation of one posting, for a live document.
    fn value(&self, posting: &Posting) -> Option<f32> {
        let slot = posting.doc as usize;
        let kind = match self.index.doc_state.get(slot)? {
            DocState::Live(DocKind::Dream) => 0,
            DocState::Live(DocKind::Fragment) => 1,
            _ => return None,
        };
        let codes = self.index.doc_lengths.get(slot)?;
        let table = &self.norms[kind];
        let mut weighted = 0.0f32;
        for field in 0..FIELDS {
            let tf = posting.tf[field];
            if tf != 0 {
                weighted += f32::from(tf) * table[field][usize::from(codes[field])];
            }
        }
        Some(match self.saturation {
            Saturation::Ranking => weighted / (K1 + weighted),
            Saturation::Absolute => ((K1 + 1.0) * weighted / (K1 + weighted)).min(1.0),
        })
    }

    /// Adds query term `g`'s contribution (BM25F: idf × the best weighted saturation among
    /// its expansions) to the documents `only` allows.
    fn add(&mut self, g: usize, group: &Group, only: Only) {
        let bit = 1u32 << g;
        let allowed = |mask: u32| match only {
            Only::All => true,
            Only::Touched(bits) => mask & bits != 0,
            Only::Untouched(bits) => mask & bits == 0,
        };
        let index = self.index;
        if let [(term, weight)] = group.expansions[..] {
            for posting in index.postings.lists(term).into_iter().flatten() {
                let slot = posting.doc as usize;
                let Some(&mask) = self.mask.get(slot) else {
                    continue;
                };
                if !allowed(mask) {
                    continue;
                }
                let Some(value) = self.value(posting) else {
                    continue;
                };
                if let (Some(total), Some(slot_mask)) =
                    (self.total.get_mut(slot), self.mask.get_mut(slot))
                {
                    if *slot_mask == 0 {
                        self.touched.push(posting.doc);
                    }
                    *total += group.idf * (weight * value);
                    *slot_mask |= bit;
                }
            }
            return;
        }
        if self.best.len() != self.total.len() {
            self.best = vec![0.0; self.total.len()];
        }
        for &(term, weight) in &group.expansions {
            for posting in index.postings.lists(term).into_iter().flatten() {
                let slot = posting.doc as usize;
                let Some(&mask) = self.mask.get(slot) else {
                    continue;
                };
                if !allowed(mask) {
                    continue;
                }
                let Some(value) = self.value(posting) else {
                    continue;
                };
                let Some(best) = self.best.get_mut(slot) else {
                    continue;
                };
                if *best == 0.0 {
                    self.group_touched.push(posting.doc);
                    if mask == 0 {
                        self.touched.push(posting.doc);
                    }
                }
                *best = best.max(weight * value);
            }
        }
        for &doc in &self.group_touched {
            let slot = doc as usize;
            if let (Some(b), Some(t), Some(m)) = (
                self.best.get_mut(slot),
                self.total.get_mut(slot),
                self.mask.get_mut(slot),
            ) {
                *t += group.idf * *b;
                *m |= bit;
                *b = 0.0;
            }
        }
        self.group_touched.clear();
    }
}

/// Per kind, field and length code: weight_f / (1 − b_f + b_f · length / average length).
fn norm_tables(index: &SearchIndex) -> [[[f32; 256]; FIELDS]; 2] {
    let mut tables = [[[0.0f32; 256]; FIELDS]; 2];
    for (kind, stats) in index.stats.iter().enumerate() {
        for field in 0..FIELDS {
            let total = stats.field_lengths[field] as f64;
            let inverse_average = if total > 0.0 {
                stats.docs as f64 / total
            } else {
                0.0
            };
            let b = f64::from(FIELD_B[field]);
            for (code, norm) in tables[kind][field].iter_mut().enumerate() {
                let length = f64::from(coded_length(code as u8));
                let denominator = (1.0 - b + b * length * inverse_average).max(0.05);
                *norm = (f64::from(FIELD_WEIGHTS[field]) / denominator) as f32;
            }
        }
    }
    tables
}

fn term_set(text: &str) -> Vec<String> {
    let mut terms = Vec::new();
    let mut buffer = String::new();
    tokenize(text, &mut buffer, &mut |term, _, _| {
        if !terms.iter().any(|t: &String| t == term) {
            terms.push(term.to_string());
        }
    });
    terms
}

fn is_subset(small: &[String], large: &[String]) -> bool {
    !small.is_empty() && small.iter().all(|t| large.contains(t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use dreamcatcher_model::{Conversation, Dream, Message, Role};

    /// 12,000 short dreams: every one says "common", a few hundred say each rarer word, so
    /// queries mixing them take the rare-terms-first path; its results must be exactly the
    /// exhaustive ones.
    #[test]
    fn rare_terms_first_changes_no_result() {
        let now = chrono::Utc.timestamp_opt(1_800_000_000, 0).unwrap();
        let mut index = SearchIndex::new();
        let dreams: Vec<Dream> = (0..12_000u32)
            .map(|i| {
                let mut conversation =
                    Conversation::new(Site::Claude, Some(format!("q{i}")), format!("note {i}"));
                let text = format!(
                    "common words here rare{} scarce{} {} filler{}",
                    i % 300,
                    i % 41,
                    if i % 3 == 0 { "common common" } else { "other" },
                    i % 7
                );
                conversation.messages.push(Message::new(Role::User, text));
                conversation.updated_at = Some(now - chrono::Duration::days(i64::from(i % 90)));
                Dream::captured(conversation, now)
            })
            .collect();
        index.upsert_dreams(&dreams);
        let mut pruned = 0;
        for query in [
            "rare7 common",
            "common rare12 filler3",
            "scarce5 common words",
            "rare299 comm",
            "commo",
        ] {
            for limit in [1, 10, 50] {
                let options = SearchOptions {
                    limit,
                    ..SearchOptions::default()
                };
                let fast = index.search(query, &options, now);
                assert_eq!(
                    fast,
                    index.search_exhaustively(query, &options, now),
                    "{query} limit {limit}"
                );
                assert_eq!(fast.len(), limit);
                let groups = index.plan(&[query], true);
                let rare = groups
                    .iter()
                    .any(|g| g.df <= (index.len() as u64 / 16).max(64));
                let common: u64 = groups
                    .iter()
                    .filter(|g| g.df > (index.len() as u64 / 16).max(64))
                    .map(|g| g.df)
                    .sum();
                pruned += usize::from(rare && common >= 8192);
            }
        }
        assert!(pruned >= 9, "the shortcut was taken");
    }
}
