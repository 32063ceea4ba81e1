//! The inverted index: documents, postings, incremental add and remove.

use std::fmt;

use dreamcatcher_model::{Dream, Site, Timestamp};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::dictionary::Dictionary;
use crate::postings::{Posting, PostingStore};
use crate::tokenize::{fold, tokenize};

/// Which part of a dream a fragment document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FragmentRef {
    /// `conversation.messages[message].fragments.code_blocks[block]`.
    Code { message: u32, block: u32 },
    /// `conversation.messages[message].fragments.todos[item]`.
    Todo { message: u32, item: u32 },
}

impl FragmentRef {
    pub fn message(self) -> u32 {
        match self {
            FragmentRef::Code { message, .. } | FragmentRef::Todo { message, .. } => message,
        }
    }
}

/// The two kinds of searchable document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocKind {
    /// A whole dream: conversation title, user tags and notes, message prose.
    Dream,
    /// One code block (language, artifact title, code) or one TODO of a dream.
    Fragment,
}

/// Weighted fields of a document; see the crate docs for weights.
pub(crate) const FIELDS: usize = 4;
pub(crate) const TITLE: usize = 0;
pub(crate) const TAGS: usize = 1;
pub(crate) const NOTES: usize = 2;
pub(crate) const BODY: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DocState {
    /// An unused slot, ready for a new document.
    Free,
    Live(DocKind),
    /// Removed; its postings stay until the next compaction and are skipped meanwhile.
    Dead,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DocInfo {
    pub(crate) dream: u32,
    pub(crate) fragment: Option<FragmentRef>,
    /// Index into `languages`; 0 is "no language".
    pub(crate) language: u16,
    /// The fragment's own title (an artifact's); otherwise the dream's title is shown.
    pub(crate) title: Option<Box<str>>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DreamEntry {
    pub(crate) id: Box<str>,
    pub(crate) title: Box<str>,
    pub(crate) site: Site,
    /// Folded (lowercase, no diacritics) for filtering and keyword matching.
    pub(crate) tags: Vec<Box<str>>,
    pub(crate) date: Timestamp,
    pub(crate) usage_count: u32,
    pub(crate) last_used_at: Option<Timestamp>,
    pub(crate) docs: Vec<u32>,
    /// Languages of its code blocks, for the language filter on dream documents.
    pub(crate) languages: Vec<u16>,
}

#[derive(Clone, Default)]
struct Scratch {
    occurrences: Vec<u64>,
    postings: Vec<(u32, Posting)>,
    buffer: String,
}

/// Per-kind totals behind BM25's average field lengths.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct KindStats {
    pub(crate) docs: u64,
    pub(crate) field_lengths: [u64; FIELDS],
}

/// An in-memory search index over dreams and their fragments. See the crate docs.
#[derive(Clone, Default)]
pub struct SearchIndex {
    pub(crate) dictionary: Dictionary,
    pub(crate) postings: PostingStore,
    /// Postings of documents added since the last flush (see [`SearchIndex::flush`]).
    pub(crate) staged: Vec<(u32, Posting)>,
    /// Per-document scratch space, reused across documents.
    scratch: Scratch,
    /// Postings of live documents, by term id: BM25's document frequency.
    pub(crate) live_df: Vec<u32>,
    pub(crate) doc_state: Vec<DocState>,
    /// Token counts per field as one-byte codes (see [`length_code`]).
    pub(crate) doc_lengths: Vec<[u8; FIELDS]>,
    pub(crate) doc_info: Vec<DocInfo>,
    /// Each document's term ids (sorted, delta-varint), to keep `live_df` exact on removal.
    /// Built from the postings on the first removal (most sessions remove nothing), then kept
    /// up to date; not stored in snapshots.
    pub(crate) doc_terms: Vec<Vec<u8>>,
    pub(crate) doc_terms_complete: bool,
    pub(crate) free_docs: Vec<u32>,
    pub(crate) dreams: Vec<Option<DreamEntry>>,
    pub(crate) dream_slots: FxHashMap<Box<str>, u32>,
    pub(crate) free_dreams: Vec<u32>,
    /// Folded language names; entry 0 is the empty "no language".
    pub(crate) languages: Vec<Box<str>>,
    pub(crate) stats: [KindStats; 2],
    /// Postings held (staged, delta and base), and how many of them are removed documents'.
    pub(crate) total_postings: u64,
    pub(crate) dead_postings: u64,
}

impl fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SearchIndex")
            .field("dreams", &self.dream_count())
            .field("documents", &self.len())
            .field("terms", &self.dictionary.len())
            .field("postings", &self.total_postings)
            .field("dead_postings", &self.dead_postings)
            .finish()
    }
}

pub(crate) fn kind_index(kind: DocKind) -> usize {
    match kind {
        DocKind::Dream => 0,
        DocKind::Fragment => 1,
    }
}

/// Lines of Markdown outside fenced code blocks: the code is indexed as fragments already.
fn prose_lines(markdown: &str) -> impl Iterator<Item = &str> {
    let mut fence: Option<(char, usize)> = None;
    markdown.lines().filter(move |line| {
        let trimmed = line.trim_start();
        let marker = trimmed.chars().next().filter(|c| *c == '`' || *c == '~');
        let run = marker.map_or(0, |m| trimmed.chars().take_while(|c| *c == m).count());
        match (fence, marker) {
            (None, Some(m)) if run >= 3 => {
                fence = Some((m, run));
                false
            }
            (Some((open, length)), Some(m))
                if m == open && run >= length && trimmed[run..].trim().is_empty() =>
            {
                fence = None;
                false
            }
            (Some(_), _) => false,
            (None, _) => true,
        }
    })
}

/// The message prose of a dream, as indexed and as searched for snippets.
pub(crate) fn dream_prose(dream: &Dream) -> impl Iterator<Item = &str> {
    dream
        .conversation
        .messages
        .iter()
        .flat_map(|message| prose_lines(&message.markdown))
}

/// The date the filters and recency use: the conversation's last activity when known.
pub(crate) fn dream_date(dream: &Dream) -> Timestamp {
    dream
        .conversation
        .updated_at
        .or(dream.conversation.created_at)
        .unwrap_or(dream.captured_at)
}

fn todo_marker(marker: dreamcatcher_model::TodoMarker) -> &'static str {
    match marker {
        dreamcatcher_model::TodoMarker::Todo => "todo",
        dreamcatcher_model::TodoMarker::Fixme => "fixme",
        dreamcatcher_model::TodoMarker::Hack => "hack",
        dreamcatcher_model::TodoMarker::Task => "task",
    }
}

/// Lower bounds of the field length codes: exact up to 16 tokens, then buckets 1/16 wider
/// each, up to tens of millions. One byte per field keeps documents small, and queries turn
/// the 256 codes into a table of BM25 length norms instead of dividing per posting.
pub(crate) const LENGTH_BOUNDS: [u32; 256] = length_bounds();

const fn length_bounds() -> [u32; 256] {
    let mut bounds = [0u32; 256];
    let mut code = 1;
    while code < 256 {
        let previous = bounds[code - 1];
        bounds[code] = if previous >= 16 {
            previous + previous / 16
        } else {
            previous + 1
        };
        code += 1;
    }
    bounds
}

/// The code of a field of `length` tokens: the largest bound not above it.
pub(crate) fn length_code(length: u32) -> u8 {
    (LENGTH_BOUNDS
        .partition_point(|&bound| bound <= length)
        .saturating_sub(1))
    .min(255) as u8
}

/// The length a code stands for.
pub(crate) fn coded_length(code: u8) -> u32 {
    LENGTH_BOUNDS[usize::from(code)]
}

/// Collects one document's terms before they are added.
struct DocBuilder<'a> {
    index: &'a mut SearchIndex,
    lengths: [u32; FIELDS],
    /// `term id << 2 | field` per token; sorted afterwards to count occurrences.
    occurrences: Vec<u64>,
    buffer: String,
}

impl DocBuilder<'_> {
    fn add(&mut self, field: usize, text: &str) {
        let DocBuilder {
            index,
            lengths,
            occurrences,
            buffer,
        } = self;
        tokenize(text, buffer, &mut |term, _, _| {
            let Some(length) = lengths.get_mut(field) else {
                return;
            };
            *length = length.saturating_add(1);
            let Some(id) = index.dictionary.get_or_insert(term) else {
                return;
            };
            if id as usize == index.live_df.len() {
                index.live_df.push(0);
            }
            occurrences.push(u64::from(id) << 2 | field as u64);
        });
    }
}

/// Turns a document's `term << 2 | field` occurrences into one posting per term, in term order.
fn count_occurrences(occurrences: &mut [u64], doc: u32, postings: &mut Vec<(u32, Posting)>) {
    occurrences.sort_unstable();
    postings.clear();
    for &occurrence in occurrences.iter() {
        let term = (occurrence >> 2) as u32;
        let field = (occurrence & 3) as usize;
        if postings.last().is_none_or(|(last, _)| *last != term) {
            postings.push((
                term,
                Posting {
                    doc,
                    tf: [0; FIELDS],
                },
            ));
        }
        if let Some(tf) = postings.last_mut().and_then(|(_, p)| p.tf.get_mut(field)) {
            *tf = tf.saturating_add(1);
        }
    }
}

pub(crate) fn encode_varint(mut value: u64, out: &mut Vec<u8>) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Decodes the sorted term ids written by `encode_term_list`; stops at malformed bytes.
pub(crate) fn decode_term_list(bytes: &[u8], mut each: impl FnMut(u32)) {
    let mut position = 0;
    let mut previous: u64 = 0;
    let mut first = true;
    while position < bytes.len() {
        let mut value: u64 = 0;
        let mut shift = 0;
        loop {
            let Some(&byte) = bytes.get(position) else {
                return;
            };
            position += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                break;
            }
            shift += 7;
            if shift > 63 {
                return;
            }
        }
        let id = if first { value } else { previous + value };
        first = false;
        previous = id;
        let Ok(id) = u32::try_from(id) else { return };
        each(id);
    }
}

/// Term ids, ascending, as delta varints.
fn encode_term_list(terms: impl Iterator<Item = u32>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut previous = None;
    for id in terms {
        encode_varint(u64::from(id - previous.unwrap_or(0)), &mut out);
        previous = Some(id);
    }
    out
}

impl SearchIndex {
    pub fn new() -> SearchIndex {
        SearchIndex {
            languages: vec![Box::from("")],
            ..SearchIndex::default()
        }
    }

    /// Live documents (dreams plus fragments).
    pub fn len(&self) -> usize {
        self.stats.iter().map(|s| s.docs as usize).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn dream_count(&self) -> usize {
        self.dream_slots.len()
    }

    /// Approximate heap memory the index holds, in bytes.
    pub fn memory_bytes(&self) -> usize {
        use std::mem::size_of;
        let docs = self.doc_state.capacity() * size_of::<DocState>()
            + self.doc_lengths.capacity() * FIELDS
            + self.doc_info.capacity() * size_of::<DocInfo>()
            + self
                .doc_info
                .iter()
                .filter_map(|info| info.title.as_ref())
                .map(|title| title.len())
                .sum::<usize>()
            + self
                .doc_terms
                .iter()
                .map(|terms| terms.capacity() + size_of::<Vec<u8>>())
                .sum::<usize>();
        let dreams: usize = self
            .dreams
            .iter()
            .flatten()
            .map(|dream| {
                size_of::<DreamEntry>()
                    + 2 * dream.id.len()
                    + dream.title.len()
                    + dream.tags.iter().map(|tag| tag.len() + 16).sum::<usize>()
                    + dream.docs.capacity() * 4
                    + dream.languages.capacity() * 2
                    + 32
            })
            .sum();
        self.dictionary.memory_bytes()
            + self.postings.memory_bytes()
            + self.staged.capacity() * size_of::<(u32, Posting)>()
            + self.live_df.capacity() * 4
            + docs
            + dreams
    }

    pub fn contains_dream(&self, dream_id: &str) -> bool {
        self.dream_slots.contains_key(dream_id)
    }

    /// Adds a dream and its fragments, replacing whatever was indexed under its id.
    pub fn upsert_dream(&mut self, dream: &Dream) {
        self.index_dream(dream);
        self.flush(false);
    }

    fn index_dream(&mut self, dream: &Dream) {
        self.remove_dream(dream.id());
        let dream_slot = self.free_dreams.pop().unwrap_or_else(|| {
            self.dreams.push(None);
            (self.dreams.len() - 1) as u32
        });
        let mut entry = DreamEntry {
            id: Box::from(dream.id()),
            title: Box::from(dream.conversation.title.as_str()),
            site: dream.conversation.site,
            tags: dream
                .tags
                .iter()
                .map(|t| fold(t).into_boxed_str())
                .filter(|t| !t.is_empty())
                .collect(),
            date: dream_date(dream),
            usage_count: dream.usage_count,
            last_used_at: dream.last_used_at,
            docs: Vec::new(),
            languages: Vec::new(),
        };

        let info = DocInfo {
            dream: dream_slot,
            fragment: None,
            language: 0,
            title: None,
        };
        let doc = self.add_document(DocKind::Dream, info, |builder| {
            builder.add(TITLE, &dream.conversation.title);
            for tag in &dream.tags {
                builder.add(TAGS, tag);
            }
            builder.add(NOTES, &dream.notes);
            for line in dream_prose(dream) {
                builder.add(BODY, line);
            }
        });
        entry.docs.extend(doc);

        for (message_index, message) in dream.conversation.messages.iter().enumerate() {
            let Ok(message_number) = u32::try_from(message_index) else {
                break;
            };
            for (block_index, block) in message.fragments.code_blocks.iter().enumerate() {
                let Ok(block_number) = u32::try_from(block_index) else {
                    break;
                };
                let language = self.intern_language(&block.language);
                if language != 0 && !entry.languages.contains(&language) {
                    entry.languages.push(language);
                }
                let info = DocInfo {
                    dream: dream_slot,
                    fragment: Some(FragmentRef::Code {
                        message: message_number,
                        block: block_number,
                    }),
                    language,
                    title: block
                        .title
                        .as_deref()
                        .filter(|t| !t.trim().is_empty())
                        .map(Box::from),
                };
                let doc = self.add_document(DocKind::Fragment, info, |builder| {
                    builder.add(TITLE, block.title.as_deref().unwrap_or(""));
                    builder.add(TAGS, &block.language);
                    builder.add(BODY, &block.code);
                });
                entry.docs.extend(doc);
            }
            for (item_index, todo) in message.fragments.todos.iter().enumerate() {
                let Ok(item_number) = u32::try_from(item_index) else {
                    break;
                };
                let info = DocInfo {
                    dream: dream_slot,
                    fragment: Some(FragmentRef::Todo {
                        message: message_number,
                        item: item_number,
                    }),
                    language: 0,
                    title: None,
                };
                let doc = self.add_document(DocKind::Fragment, info, |builder| {
                    builder.add(TAGS, todo_marker(todo.marker));
                    builder.add(BODY, &todo.text);
                });
                entry.docs.extend(doc);
            }
        }

        self.dream_slots.insert(entry.id.clone(), dream_slot);
        if let Some(slot) = self.dreams.get_mut(dream_slot as usize) {
            *slot = Some(entry);
        }
    }

    /// Adds many dreams (each replacing what was indexed under its id), sorting new terms
    /// into the prefix order once at the end rather than as it goes.
    pub fn upsert_dreams<'a>(&mut self, dreams: impl IntoIterator<Item = &'a Dream>) {
        for dream in dreams {
            self.index_dream(dream);
        }
        self.flush(true);
    }

    /// Removes a dream and all its fragments; returns whether it was indexed.
    pub fn remove_dream(&mut self, dream_id: &str) -> bool {
        let Some(dream_slot) = self.dream_slots.remove(dream_id) else {
            return false;
        };
        let entry = self
            .dreams
            .get_mut(dream_slot as usize)
            .and_then(Option::take);
        self.free_dreams.push(dream_slot);
        let Some(entry) = entry else { return true };
        self.complete_doc_terms();
        for doc in entry.docs {
            self.kill_document(doc);
        }
        if self.dead_postings >= 4096 && self.dead_postings * 4 >= self.total_postings {
            self.rebuild_postings();
        }
        true
    }

    /// Makes staged postings searchable: into the delta while it is small next to the base,
    /// else (or when removed documents' postings have piled up) by rebuilding the base. The
    /// rebuild is linear in all postings, so it is kept to when the delta has grown by an
    /// eighth of the base or removals reach a quarter: amortised, each posting is copied a
    /// bounded number of times.
    fn flush(&mut self, bulk: bool) {
        let pending = (self.postings.delta_postings() + self.staged.len()) as u64;
        let base = self.total_postings.saturating_sub(pending);
        let removals_piled_up =
            self.dead_postings >= 4096 && self.dead_postings * 4 >= self.total_postings;
        if removals_piled_up || pending > 32_768 + base / 8 {
            self.rebuild_postings();
        } else {
            for (term, posting) in std::mem::take(&mut self.staged) {
                self.postings.add_to_delta(term, posting);
            }
        }
        self.dictionary.settle(bulk);
    }

    fn rebuild_postings(&mut self) {
        let staged = std::mem::take(&mut self.staged);
        let state = &self.doc_state;
        self.postings
            .rebuild(self.dictionary.len(), &staged, |doc| {
                matches!(state.get(doc as usize), Some(DocState::Live(_)))
            });
        for (doc, state) in self.doc_state.iter_mut().enumerate() {
            if *state == DocState::Dead {
                *state = DocState::Free;
                self.free_docs.push(doc as u32);
            }
        }
        self.total_postings -= self.dead_postings;
        self.dead_postings = 0;
    }

    fn intern_language(&mut self, language: &str) -> u16 {
        let folded = fold(language);
        if folded.is_empty() {
            return 0;
        }
        if let Some(position) = self.languages.iter().position(|l| **l == *folded) {
            return position as u16;
        }
        match u16::try_from(self.languages.len()) {
            Ok(id) => {
                self.languages.push(folded.into_boxed_str());
                id
            }
            Err(_) => 0,
        }
    }

    pub(crate) fn language_id(&self, language: &str) -> Option<u16> {
        let folded = fold(language);
        self.languages
            .iter()
            .position(|l| **l == *folded)
            .map(|p| p as u16)
    }

    fn add_document(
        &mut self,
        kind: DocKind,
        info: DocInfo,
        fill: impl FnOnce(&mut DocBuilder<'_>),
    ) -> Option<u32> {
        let doc = match self.free_docs.pop() {
            Some(doc) => doc,
            None => {
                let doc = u32::try_from(self.doc_state.len()).ok()?;
                self.doc_state.push(DocState::Free);
                self.doc_lengths.push([0; FIELDS]);
                self.doc_info.push(info.clone());
                self.doc_terms.push(Vec::new());
                doc
            }
        };
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.occurrences.clear();
        let mut builder = DocBuilder {
            index: self,
            lengths: [0; FIELDS],
            occurrences: scratch.occurrences,
            buffer: scratch.buffer,
        };
        fill(&mut builder);
        let lengths = builder.lengths.map(length_code);
        scratch.occurrences = builder.occurrences;
        scratch.buffer = builder.buffer;
        count_occurrences(&mut scratch.occurrences, doc, &mut scratch.postings);
        for &(term, _) in &scratch.postings {
            if let Some(df) = self.live_df.get_mut(term as usize) {
                *df += 1;
            }
        }
        self.total_postings += scratch.postings.len() as u64;
        let terms = self
            .doc_terms_complete
            .then(|| encode_term_list(scratch.postings.iter().map(|&(term, _)| term)));
        self.staged.extend_from_slice(&scratch.postings);
        self.scratch = scratch;
        let slot = doc as usize;
        if let Some(state) = self.doc_state.get_mut(slot) {
            *state = DocState::Live(kind);
        }
        if let Some(stored) = self.doc_lengths.get_mut(slot) {
            *stored = lengths;
        }
        if let Some(stored) = self.doc_info.get_mut(slot) {
            *stored = info;
        }
        if let Some(stored) = self.doc_terms.get_mut(slot) {
            *stored = terms.unwrap_or_default();
        }
        let stats = &mut self.stats[kind_index(kind)];
        stats.docs += 1;
        for (total, &code) in stats.field_lengths.iter_mut().zip(&lengths) {
            *total += u64::from(coded_length(code));
        }
        Some(doc)
    }

    fn kill_document(&mut self, doc: u32) {
        let slot = doc as usize;
        let Some(DocState::Live(kind)) = self.doc_state.get(slot).copied() else {
            return;
        };
        if let Some(state) = self.doc_state.get_mut(slot) {
            *state = DocState::Dead;
        }
        let lengths = self.doc_lengths.get(slot).copied().unwrap_or_default();
        let stats = &mut self.stats[kind_index(kind)];
        stats.docs = stats.docs.saturating_sub(1);
        for (total, &code) in stats.field_lengths.iter_mut().zip(&lengths) {
            *total = total.saturating_sub(u64::from(coded_length(code)));
        }
        let terms = self
            .doc_terms
            .get_mut(slot)
            .map(std::mem::take)
            .unwrap_or_default();
        let live_df = &mut self.live_df;
        let mut count = 0u64;
        decode_term_list(&terms, |term| {
            if let Some(df) = live_df.get_mut(term as usize) {
                *df = df.saturating_sub(1);
            }
            count += 1;
        });
        self.dead_postings += count;
    }

    /// Builds the per-document term lists from the postings on the first removal (term ids
    /// come out ascending, as the lists require).
    fn complete_doc_terms(&mut self) {
        if self.doc_terms_complete {
            return;
        }
        // Term ids come in ascending order per document, so each list is delta-encoded as it
        // grows, sized from a first counting pass: no intermediate lists, no regrowth.
        let documents = self.doc_state.len();
        let mut counts = vec![0usize; documents];
        let staged = self.staged.iter().map(|&(term, posting)| (term, posting.doc));
        let stored = (0..self.dictionary.len() as u32)
            .flat_map(|term| self.postings.lists(term).into_iter().flatten().map(move |p| (term, p.doc)));
        for (_, doc) in stored.clone().chain(staged.clone()) {
            if let Some(count) = counts.get_mut(doc as usize) {
                *count += 1;
            }
        }
        let mut lists: Vec<Vec<u8>> = counts.iter().map(|&count| Vec::with_capacity(count * 2)).collect();
        let mut previous: Vec<Option<u32>> = vec![None; documents];
        // A document's postings are all staged or all stored, and staged in term order.
        for (term, doc) in stored.chain(staged) {
            if let (Some(list), Some(last)) = (lists.get_mut(doc as usize), previous.get_mut(doc as usize)) {
                encode_varint(u64::from(term - last.unwrap_or(0)), list);
                *last = Some(term);
            }
        }
        self.doc_terms = lists;
        self.doc_terms_complete = true;
    }

    pub(crate) fn dream(&self, slot: u32) -> Option<&DreamEntry> {
        self.dreams.get(slot as usize).and_then(Option::as_ref)
    }

    pub(crate) fn language_name(&self, id: u16) -> Option<&str> {
        (id != 0)
            .then(|| self.languages.get(usize::from(id)).map(|l| &**l))
            .flatten()
    }
}
