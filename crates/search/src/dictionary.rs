//! The term dictionary: term text ↔ dense term id, exact lookup and prefix ranges.
//!
//! All term text lives in one byte arena (no allocation per term), found through a hash table
//! whose entries carry each term's length and first 8 bytes, so most lookups (terms of up to
//! 8 bytes) never touch the arena: one cache miss per token instead of three; a small
//! direct-mapped cache in front of it catches the frequent terms.
//!
//! Prefix ranges come from an array of ids sorted by text; terms added since the last merge
//! wait in a short unsorted tail that prefix lookups scan, and the tail is merged in once it
//! grows past a fraction of the sorted part (bulk loads merge once at the end).

use std::hash::Hasher;

use hashbrown::HashTable;
use rustc_hash::FxHasher;

#[derive(Clone, Default)]
pub(crate) struct Dictionary {
    text: Vec<u8>,
    /// `ends[id]` is where term `id` ends in `text`; it starts where the previous one ends.
    ends: Vec<u32>,
    table: HashTable<Entry>,
    /// Direct-mapped by hash: the entries found last, so the frequent terms of indexed text
    /// are found without a cache miss in the large table. Ids never change, so it never goes
    /// stale.
    recently_found: Vec<(u64, Entry)>,
    sorted: Vec<u32>,
    /// `sort_key` of each id in `sorted`, so ordering rarely has to look at the arena.
    sorted_keys: Vec<u64>,
    recent: Vec<u32>,
}

const RECENTLY_FOUND_SLOTS: usize = 4096;

#[derive(Clone, Copy, Default)]
struct Entry {
    /// `sort_key` of the term: its first 8 bytes.
    head: u64,
    length: u32,
    id: u32,
}

impl Entry {
    /// Whether this entry is `term` (with `head` = `sort_key(term)`); `rest` finds the bytes
    /// past the eighth, only needed for longer terms.
    #[inline]
    fn is<'a>(&self, term: &[u8], head: u64, rest: impl FnOnce(u32) -> &'a [u8]) -> bool {
        self.head == head
            && self.length as usize == term.len()
            && (term.len() <= 8
                || same_bytes(
                    rest(self.id).get(8..).unwrap_or_default(),
                    term.get(8..).unwrap_or_default(),
                ))
    }
}

/// The first 8 bytes, zero-padded, big-endian: ordering these orders the terms (terms hold no
/// NUL bytes), except between terms sharing their first 8 bytes.
fn sort_key(term: &[u8]) -> u64 {
    let mut key = [0u8; 8];
    let length = term.len().min(8);
    key[..length].copy_from_slice(&term[..length]);
    u64::from_be_bytes(key)
}

fn hash_term(term: &[u8]) -> u64 {
    let mut hasher = FxHasher::default();
    hasher.write(term);
    hasher.finish()
}

/// Byte equality without a library call: terms are short, and this runs once per token.
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (mut a_chunks, mut b_chunks) = (a.chunks_exact(8), b.chunks_exact(8));
    for (x, y) in a_chunks.by_ref().zip(b_chunks.by_ref()) {
        if x != y {
            return false;
        }
    }
    a_chunks
        .remainder()
        .iter()
        .zip(b_chunks.remainder())
        .all(|(x, y)| x == y)
}

/// Term `id`'s bytes, given the arena and end offsets (free so that the hash table's closures
/// can borrow the arena while the table itself is borrowed mutably).
fn term_in<'a>(text: &'a [u8], ends: &[u32], id: u32) -> &'a [u8] {
    let index = id as usize;
    let end = ends.get(index).copied().unwrap_or(0) as usize;
    let start = index
        .checked_sub(1)
        .and_then(|p| ends.get(p).copied())
        .unwrap_or(0) as usize;
    text.get(start..end).unwrap_or_default()
}

impl Dictionary {
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// Approximate heap bytes held.
    pub(crate) fn memory_bytes(&self) -> usize {
        self.text.capacity()
            + self.ends.capacity() * 4
            + self.table.capacity() * (std::mem::size_of::<Entry>() + 1)
            + self.recently_found.capacity() * std::mem::size_of::<(u64, Entry)>()
            + (self.sorted.capacity() + self.recent.capacity()) * 4
            + self.sorted_keys.capacity() * 8
    }

    pub(crate) fn term(&self, id: u32) -> &[u8] {
        term_in(&self.text, &self.ends, id)
    }

    pub(crate) fn get(&self, term: &str) -> Option<u32> {
        let term = term.as_bytes();
        let head = sort_key(term);
        self.table
            .find(hash_term(term), |entry| {
                entry.is(term, head, |id| self.term(id))
            })
            .map(|entry| entry.id)
    }

    /// The id of `term`, added when new; `None` only when the arena is full (4 GiB).
    pub(crate) fn get_or_insert(&mut self, term: &str) -> Option<u32> {
        let bytes = term.as_bytes();
        let hash = hash_term(bytes);
        let head = sort_key(bytes);
        let slot = hash as usize % RECENTLY_FOUND_SLOTS;
        if let Some((cached_hash, entry)) = self.recently_found.get(slot)
            && *cached_hash == hash
            && entry.length != 0
            && entry.is(bytes, head, |id| term_in(&self.text, &self.ends, id))
        {
            return Some(entry.id);
        }
        if self.recently_found.is_empty() {
            self.recently_found = vec![(0, Entry::default()); RECENTLY_FOUND_SLOTS];
        }
        let found = self.table.find(hash, |entry| {
            entry.is(bytes, head, |id| term_in(&self.text, &self.ends, id))
        });
        if let Some(&entry) = found {
            if let Some(cached) = self.recently_found.get_mut(slot) {
                *cached = (hash, entry);
            }
            return Some(entry.id);
        }
        let length = u32::try_from(bytes.len()).ok()?;
        let id = u32::try_from(self.ends.len()).ok()?;
        let end = u32::try_from(self.text.len() + bytes.len()).ok()?;
        self.text.extend_from_slice(bytes);
        self.ends.push(end);
        let Dictionary {
            text, ends, table, ..
        } = self;
        let entry = Entry { head, length, id };
        table.insert_unique(hash, entry, |other| {
            hash_term(term_in(text, ends, other.id))
        });
        if let Some(cached) = self.recently_found.get_mut(slot) {
            *cached = (hash, entry);
        }
        self.recent.push(id);
        Some(id)
    }

    /// Merges the unsorted tail into the sorted ids once it is large enough to slow prefix
    /// lookups; `force` merges whatever is there.
    pub(crate) fn settle(&mut self, force: bool) {
        let threshold = 256 + self.sorted.len() / 64;
        if self.recent.is_empty() || (!force && self.recent.len() <= threshold) {
            return;
        }
        let recent = std::mem::take(&mut self.recent);
        let (sorted, keys) = self.merged_with(&recent);
        self.sorted = sorted;
        self.sorted_keys = keys;
    }

    fn merged_with(&self, recent: &[u32]) -> (Vec<u32>, Vec<u64>) {
        let mut keyed: Vec<(u64, u32)> = recent
            .iter()
            .map(|&id| (sort_key(self.term(id)), id))
            .collect();
        keyed.sort_unstable_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| self.term(a.1).cmp(self.term(b.1)))
        });
        let total = self.sorted.len() + keyed.len();
        let (mut sorted, mut keys) = (Vec::with_capacity(total), Vec::with_capacity(total));
        let mut old = self
            .sorted_keys
            .iter()
            .copied()
            .zip(self.sorted.iter().copied())
            .peekable();
        let mut new = keyed.into_iter().peekable();
        loop {
            let take_old = match (old.peek(), new.peek()) {
                (Some(a), Some(b)) => {
                    a.0.cmp(&b.0)
                        .then_with(|| self.term(a.1).cmp(self.term(b.1)))
                        .is_le()
                }
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            let next = if take_old { old.next() } else { new.next() };
            if let Some((key, id)) = next {
                keys.push(key);
                sorted.push(id);
            }
        }
        (sorted, keys)
    }

    /// Position in `sorted` of the first term not below `probe`.
    fn lower_bound(&self, probe: &[u8]) -> usize {
        let probe_key = sort_key(probe);
        let first = self.sorted_keys.partition_point(|&key| key < probe_key);
        let tied = self
            .sorted_keys
            .get(first..)
            .unwrap_or_default()
            .partition_point(|&key| key == probe_key);
        let ties = self.sorted.get(first..first + tied).unwrap_or_default();
        first + ties.partition_point(|&id| self.term(id) < probe)
    }

    /// Ids of the terms starting with `prefix` (the term itself included), in no set order;
    /// `false` (and nothing added) when there are more than `limit`.
    pub(crate) fn with_prefix(&self, prefix: &str, limit: usize, out: &mut Vec<u32>) -> bool {
        let prefix = prefix.as_bytes();
        let start = self.lower_bound(prefix);
        // Every term starting with `prefix` sorts below `prefix` + 0xFF: no UTF-8 has 0xFF.
        let mut beyond = prefix.to_vec();
        beyond.push(0xFF);
        let end = self.lower_bound(&beyond).max(start);
        let recent = self
            .recent
            .iter()
            .copied()
            .filter(|&id| self.term(id).starts_with(prefix));
        if end - start > limit || end - start + recent.clone().count() > limit {
            return false;
        }
        out.extend(self.sorted.get(start..end).unwrap_or_default());
        out.extend(recent);
        true
    }

    /// Every id, ordered by term text.
    pub(crate) fn ids_in_order(&self) -> Vec<u32> {
        self.merged_with(&self.recent).0
    }

    /// A dictionary of terms already in strictly increasing order (from a snapshot).
    pub(crate) fn from_sorted(text: Vec<u8>, ends: Vec<u32>) -> Dictionary {
        let count = ends.len() as u32;
        let mut table = HashTable::with_capacity(ends.len());
        for id in 0..count {
            let term = term_in(&text, &ends, id);
            let entry = Entry {
                head: sort_key(term),
                length: term.len() as u32,
                id,
            };
            table.insert_unique(hash_term(term), entry, |other| {
                hash_term(term_in(&text, &ends, other.id))
            });
        }
        let sorted_keys = (0..count)
            .map(|id| sort_key(term_in(&text, &ends, id)))
            .collect();
        Dictionary {
            text,
            ends,
            table,
            recently_found: Vec::new(),
            sorted: (0..count).collect(),
            sorted_keys,
            recent: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_prefixes_found_before_and_after_merging() {
        let mut dictionary = Dictionary::default();
        let spawn = dictionary.get_or_insert("spawn").unwrap();
        let spawned = dictionary.get_or_insert("spawned").unwrap();
        dictionary.get_or_insert("span").unwrap();
        assert_eq!(dictionary.get_or_insert("spawn"), Some(spawn));
        assert_eq!(dictionary.get("spawned"), Some(spawned));
        assert_eq!(dictionary.get("spa"), None);
        let mut found = Vec::new();
        assert!(dictionary.with_prefix("spaw", 10, &mut found));
        found.sort_unstable();
        assert_eq!(found, [spawn, spawned]);
        dictionary.settle(true);
        found.clear();
        assert!(dictionary.with_prefix("spaw", 10, &mut found));
        assert_eq!(found, [spawn, spawned]);
        dictionary.get_or_insert("spawning").unwrap();
        found.clear();
        assert!(dictionary.with_prefix("spaw", 10, &mut found));
        assert_eq!(found.len(), 3);
        found.clear();
        assert!(
            !dictionary.with_prefix("sp", 3, &mut found),
            "four terms start with sp"
        );
        assert!(found.is_empty());
        let order: Vec<&[u8]> = dictionary
            .ids_in_order()
            .into_iter()
            .map(|id| dictionary.term(id))
            .collect();
        assert_eq!(order, [&b"span"[..], b"spawn", b"spawned", b"spawning"]);
        for long in ["abcdefghij", "abcdefghik", "abcdefgh", "abcdefgz"] {
            dictionary.get_or_insert(long).unwrap();
        }
        dictionary.settle(true);
        found.clear();
        assert!(dictionary.with_prefix("abcdefghi", 10, &mut found));
        let mut terms: Vec<&[u8]> = found.iter().map(|&id| dictionary.term(id)).collect();
        terms.sort_unstable();
        assert_eq!(terms, [&b"abcdefghij"[..], b"abcdefghik"]);
    }
}
