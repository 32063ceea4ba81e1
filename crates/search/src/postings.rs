//! Posting lists: a compact base (all lists in one array, as compressed sparse rows) plus a
//! small per-term delta for documents added since the base was last rebuilt.
//!
//! One flat array makes bulk builds and snapshot restores a few large sequential writes
//! instead of hundreds of thousands of small vectors. Rebuilding the base folds the delta
//! in and drops the postings of removed documents, so it doubles as compaction.

use rustc_hash::FxHashMap;

use crate::index::FIELDS;

/// One document's occurrences of one term, per field (saturating at 255).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Posting {
    pub(crate) doc: u32,
    pub(crate) tf: [u8; FIELDS],
}

#[derive(Clone, Default)]
pub(crate) struct PostingStore {
    /// Term `t`'s base postings are `base[offsets[t]..offsets[t + 1]]`; terms past the end of
    /// `offsets` have none in the base.
    offsets: Vec<u32>,
    base: Vec<Posting>,
    delta: FxHashMap<u32, Vec<Posting>>,
    delta_postings: usize,
}

impl PostingStore {
    /// The base and delta postings of `term`.
    pub(crate) fn lists(&self, term: u32) -> [&[Posting]; 2] {
        let index = term as usize;
        let base = match (self.offsets.get(index), self.offsets.get(index + 1)) {
            (Some(&start), Some(&end)) => self
                .base
                .get(start as usize..end as usize)
                .unwrap_or_default(),
            _ => &[],
        };
        let delta = self.delta.get(&term).map_or(&[][..], Vec::as_slice);
        [base, delta]
    }

    /// Approximate heap bytes held.
    pub(crate) fn memory_bytes(&self) -> usize {
        let delta: usize = self
            .delta
            .values()
            .map(|list| list.capacity() * std::mem::size_of::<Posting>() + 40)
            .sum();
        self.offsets.capacity() * 4 + self.base.capacity() * std::mem::size_of::<Posting>() + delta
    }

    pub(crate) fn delta_postings(&self) -> usize {
        self.delta_postings
    }

    pub(crate) fn add_to_delta(&mut self, term: u32, posting: Posting) {
        self.delta.entry(term).or_default().push(posting);
        self.delta_postings += 1;
    }

    /// Rebuilds the base from the base, the delta and `staged` postings (in any order),
    /// keeping only postings of documents for which `live` holds.
    pub(crate) fn rebuild(
        &mut self,
        term_count: usize,
        staged: &[(u32, Posting)],
        live: impl Fn(u32) -> bool,
    ) {
        let mut counts = vec![0u32; term_count + 1];
        for (term, count) in counts.iter_mut().enumerate().take(term_count) {
            for list in self.lists(term as u32) {
                *count += list.iter().filter(|p| live(p.doc)).count() as u32;
            }
        }
        for (term, posting) in staged {
            if live(posting.doc)
                && let Some(count) = counts.get_mut(*term as usize)
            {
                *count += 1;
            }
        }
        let mut offsets = Vec::with_capacity(term_count + 1);
        let mut running = 0u32;
        for count in &counts {
            offsets.push(running);
            running += count;
        }
        offsets.truncate(term_count + 1);
        let mut base = vec![Posting::default(); running as usize];
        let mut cursors: Vec<u32> = offsets.clone();
        for (term, cursor) in cursors.iter_mut().enumerate().take(term_count) {
            for list in self.lists(term as u32) {
                for posting in list.iter().filter(|p| live(p.doc)) {
                    if let Some(slot) = base.get_mut(*cursor as usize) {
                        *slot = *posting;
                        *cursor += 1;
                    }
                }
            }
        }
        for (term, posting) in staged {
            if !live(posting.doc) {
                continue;
            }
            if let Some(cursor) = cursors.get_mut(*term as usize)
                && let Some(slot) = base.get_mut(*cursor as usize)
            {
                *slot = *posting;
                *cursor += 1;
            }
        }
        self.offsets = offsets;
        self.base = base;
        self.delta = FxHashMap::default();
        self.delta_postings = 0;
    }

    /// A base built directly from decoded lists (a snapshot), in term order.
    pub(crate) fn from_base(offsets: Vec<u32>, base: Vec<Posting>) -> PostingStore {
        PostingStore {
            offsets,
            base,
            delta: FxHashMap::default(),
            delta_postings: 0,
        }
    }
}
