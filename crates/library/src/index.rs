//! The library's view of the search index: what it stores, asks and saves. Ranking and
//! tokenising belong to the search crate; this wrapper is the one place that calls it.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use dreamcatcher_model::Dream;

/// A ranked dream.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexHit {
    pub dream_id: String,
    pub score: f32,
}

/// Why a saved index could not be restored (the library then rebuilds it from storage).
#[derive(Debug, thiserror::Error)]
#[error("the saved search index is unreadable: {0}")]
pub struct SnapshotError(String);

/// Words of a text as the index sees them: lowercase letters and digits.
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// Term → dream → occurrences, plus each dream's terms so it can be removed or replaced.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct LibraryIndex {
    postings: BTreeMap<String, BTreeMap<String, u32>>,
    terms_of: BTreeMap<String, BTreeSet<String>>,
}

fn dream_text(dream: &Dream) -> String {
    let conversation = &dream.conversation;
    let mut text = String::new();
    text.push_str(&conversation.title);
    for message in &conversation.messages {
        text.push('\n');
        text.push_str(&message.markdown);
    }
    for tag in &dream.tags {
        text.push('\n');
        text.push_str(tag);
    }
    text.push('\n');
    text.push_str(&dream.notes);
    text
}

impl LibraryIndex {
    pub fn new() -> Self {
        LibraryIndex::default()
    }

    pub fn len(&self) -> usize {
        self.terms_of.len()
    }

    pub fn is_empty(&self) -> bool {
        self.terms_of.is_empty()
    }

    pub fn contains(&self, dream_id: &str) -> bool {
        self.terms_of.contains_key(dream_id)
    }

    /// Adds the dream, replacing what was indexed for it before.
    pub fn upsert_dream(&mut self, dream: &Dream) {
        self.remove_dream(dream.id());
        let id = dream.id().to_string();
        let mut terms = BTreeSet::new();
        for word in words(&dream_text(dream)) {
            *self
                .postings
                .entry(word.clone())
                .or_default()
                .entry(id.clone())
                .or_default() += 1;
            terms.insert(word);
        }
        self.terms_of.insert(id, terms);
    }

    pub fn remove_dream(&mut self, dream_id: &str) {
        let Some(terms) = self.terms_of.remove(dream_id) else {
            return;
        };
        for term in terms {
            if let Some(docs) = self.postings.get_mut(&term) {
                docs.remove(dream_id);
                if docs.is_empty() {
                    self.postings.remove(&term);
                }
            }
        }
    }

    /// Dreams holding every word of the query (the last word may be a prefix), best first.
    pub fn search(&self, query: &str, limit: usize) -> Vec<IndexHit> {
        let query_words: Vec<String> = words(query).collect();
        let Some((last, whole)) = query_words.split_last() else {
            return Vec::new();
        };
        let total = self.terms_of.len().max(1) as f32;
        let mut scores: Option<BTreeMap<String, f32>> = None;
        let prefix_terms: Vec<(&String, &BTreeMap<String, u32>)> = self
            .postings
            .range(last.clone()..)
            .take_while(|(term, _)| term.starts_with(last.as_str()))
            .collect();
        let mut groups: Vec<Vec<(&String, &BTreeMap<String, u32>)>> = whole
            .iter()
            .map(|word| self.postings.get_key_value(word).into_iter().collect())
            .collect();
        groups.push(prefix_terms);
        for group in groups {
            let mut group_scores: BTreeMap<String, f32> = BTreeMap::new();
            for (_, docs) in group {
                let idf = (total / docs.len() as f32).ln() + 1.0;
                for (id, count) in docs {
                    *group_scores.entry(id.clone()).or_default() += (*count as f32).sqrt() * idf;
                }
            }
            scores = Some(match scores {
                None => group_scores,
                Some(previous) => previous
                    .into_iter()
                    .filter_map(|(id, score)| group_scores.get(&id).map(|s| (id, score + s)))
                    .collect(),
            });
        }
        let mut hits: Vec<IndexHit> = scores
            .unwrap_or_default()
            .into_iter()
            .map(|(dream_id, score)| IndexHit { dream_id, score })
            .collect();
        hits.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.dream_id.cmp(&b.dream_id))
        });
        hits.truncate(limit);
        hits
    }

    /// Indexed words starting with the prefix, the most widespread first.
    pub fn suggest(&self, prefix: &str, limit: usize) -> Vec<String> {
        let Some(prefix) = words(prefix).last() else {
            return Vec::new();
        };
        let mut found: Vec<(&String, usize)> = self
            .postings
            .range(prefix.clone()..)
            .take_while(|(term, _)| term.starts_with(prefix.as_str()))
            .filter(|(term, _)| **term != prefix)
            .map(|(term, docs)| (term, docs.len()))
            .collect();
        found.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        found
            .into_iter()
            .take(limit)
            .map(|(term, _)| term.clone())
            .collect()
    }

    /// Dreams sharing the most distinctive words with this one, scored 0..=1.
    pub fn related(&self, dream: &Dream, min_score: f32, limit: usize) -> Vec<IndexHit> {
        let total = self.terms_of.len().max(1) as f32;
        let terms: BTreeSet<String> = words(&dream_text(dream)).collect();
        let weight = |term: &String| -> f32 {
            self.postings
                .get(term)
                .map_or(0.0, |docs| (total / docs.len() as f32).ln().max(0.0))
        };
        let own: f32 = terms.iter().map(weight).sum();
        if own <= 0.0 {
            return Vec::new();
        }
        let mut shared: BTreeMap<&String, f32> = BTreeMap::new();
        for term in &terms {
            let w = weight(term);
            for id in self
                .postings
                .get(term)
                .into_iter()
                .flat_map(|docs| docs.keys())
            {
                if id != dream.id() {
                    *shared.entry(id).or_default() += w;
                }
            }
        }
        let mut hits: Vec<IndexHit> = shared
            .into_iter()
            .map(|(id, score)| IndexHit {
                dream_id: id.clone(),
                score: (score / own).min(1.0),
            })
            .filter(|hit| hit.score >= min_score)
            .collect();
        hits.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.dream_id.cmp(&b.dream_id))
        });
        hits.truncate(limit);
        hits
    }

    pub fn to_snapshot(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    pub fn from_snapshot(bytes: &[u8]) -> Result<Self, SnapshotError> {
        serde_json::from_slice(bytes).map_err(|e| SnapshotError(e.to_string()))
    }
}
