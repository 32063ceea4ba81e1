//! The snapshot: a compact, versioned binary image of the index, restored without
//! re-tokenising anything.
//!
//! Hand-laid rather than a serde format because its bulk is posting lists, which shrink
//! several-fold as sorted delta varints with the common case (one occurrence in the body)
//! folded into the delta's low bit; a generic format would spend 6–9 bytes per posting.
//!
//! ```text
//! header   "DCSRCHIX" · version u32 LE · payload length u64 LE · CRC-32 of payload u32 LE
//! payload  languages  count, then each: string            (entry 0 is "": no language)
//!          dreams     count, then each: id, title, site u8, tags (count + strings),
//!                     date, usage count, last used (u8 flag + date), languages (count + ids)
//!          documents  count, then each: dream index, kind u8 (0 dream, 1 code, 2 todo)
//!                     [+ message, block/item], language id, title (u8 flag + string),
//!                     4 field length codes (u8 each)
//!          terms      count, then each: bytes shared with the previous term, suffix string
//!          postings   total count, then per term in order: count, then per posting
//!                     v = (doc − previous doc) · 2 + simple   (previous doc starts at −1)
//!                     simple = 1: one occurrence in the body; else a field mask byte
//!                     followed by a count per field present
//! ```
//! Integers are LEB128 varints unless sized above; strings are a varint length and UTF-8;
//! a date is zigzag varint seconds and varint nanoseconds since the Unix epoch. Documents
//! are renumbered densely (removed ones are not written), dreams' documents consecutively.

use dreamcatcher_model::{Site, Timestamp};

use crate::dictionary::Dictionary;
use crate::index::{
    BODY, DocInfo, DocKind, DocState, DreamEntry, FIELDS, FragmentRef, KindStats, SearchIndex,
    coded_length, encode_varint, kind_index,
};
use crate::postings::{Posting, PostingStore};

const MAGIC: &[u8; 8] = b"DCSRCHIX";
/// Bumped whenever the layout or the tokeniser changes (old snapshots would then find
/// nothing for terms tokenised differently; the caller re-indexes from its dreams).
pub const SNAPSHOT_VERSION: u32 = 1;
const HEADER_LENGTH: usize = 24;

/// Why bytes could not be restored as an index.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    #[error("not a search index snapshot: it does not start with the \"DCSRCHIX\" magic bytes")]
    NotASnapshot,
    #[error(
        "search index snapshot version {found} is not supported (this build reads version {supported})"
    )]
    UnsupportedVersion { found: u32, supported: u32 },
    #[error("search index snapshot truncated: {what} runs past the end at byte {offset}")]
    Truncated { offset: usize, what: &'static str },
    #[error(
        "search index snapshot corrupted: payload CRC-32 is {found:08x}, the header says {expected:08x}"
    )]
    ChecksumMismatch { expected: u32, found: u32 },
    #[error("invalid search index snapshot at byte {offset}: {what}")]
    Invalid { offset: usize, what: String },
}

struct Writer {
    out: Vec<u8>,
}

impl Writer {
    fn varint(&mut self, value: u64) {
        encode_varint(value, &mut self.out);
    }

    fn bytes(&mut self, bytes: &[u8]) {
        self.varint(bytes.len() as u64);
        self.out.extend_from_slice(bytes);
    }

    fn date(&mut self, date: Timestamp) {
        let seconds = date.timestamp();
        self.varint(((seconds << 1) ^ (seconds >> 63)) as u64);
        self.varint(u64::from(date.timestamp_subsec_nanos()));
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    position: usize,
    /// Added to positions in errors, so they count from the start of the snapshot.
    base: usize,
}

impl<'a> Reader<'a> {
    fn invalid(&self, what: impl Into<String>) -> SnapshotError {
        SnapshotError::Invalid {
            offset: self.base + self.position,
            what: what.into(),
        }
    }

    fn truncated(&self, what: &'static str) -> SnapshotError {
        SnapshotError::Truncated {
            offset: self.base + self.position,
            what,
        }
    }

    fn byte(&mut self, what: &'static str) -> Result<u8, SnapshotError> {
        let byte = *self
            .bytes
            .get(self.position)
            .ok_or_else(|| self.truncated(what))?;
        self.position += 1;
        Ok(byte)
    }

    fn varint(&mut self, what: &'static str) -> Result<u64, SnapshotError> {
        let mut value: u64 = 0;
        for shift in (0..64).step_by(7) {
            let byte = self.byte(what)?;
            let bits = u64::from(byte & 0x7f);
            if shift == 63 && bits > 1 {
                return Err(self.invalid(format!("{what}: varint overflows 64 bits")));
            }
            value |= bits << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(self.invalid(format!("{what}: varint longer than 10 bytes")))
    }

    fn bounded(&mut self, what: &'static str, limit: u64) -> Result<usize, SnapshotError> {
        let value = self.varint(what)?;
        if value > limit {
            return Err(self.invalid(format!("{what} is {value}, more than {limit}")));
        }
        usize::try_from(value).map_err(|_| self.invalid(format!("{what} is {value}, too large")))
    }

    /// A count of items that each take at least one byte, so a corrupted count cannot make
    /// us reserve more memory than the snapshot could describe.
    fn count(&mut self, what: &'static str) -> Result<usize, SnapshotError> {
        let remaining = (self.bytes.len() - self.position) as u64;
        self.bounded(what, remaining)
    }

    fn slice(&mut self, length: usize, what: &'static str) -> Result<&'a [u8], SnapshotError> {
        let end = self
            .position
            .checked_add(length)
            .filter(|&end| end <= self.bytes.len());
        let end = end.ok_or_else(|| self.truncated(what))?;
        let slice = &self.bytes[self.position..end];
        self.position = end;
        Ok(slice)
    }

    fn string(&mut self, what: &'static str) -> Result<&'a str, SnapshotError> {
        let length = self.count(what)?;
        let start = self.position;
        let bytes = self.slice(length, what)?;
        std::str::from_utf8(bytes).map_err(|e| SnapshotError::Invalid {
            offset: self.base + start + e.valid_up_to(),
            what: format!("{what} is not UTF-8"),
        })
    }

    fn date(&mut self, what: &'static str) -> Result<Timestamp, SnapshotError> {
        let zigzag = self.varint(what)?;
        let seconds = ((zigzag >> 1) as i64) ^ -((zigzag & 1) as i64);
        let nanos = self.bounded(what, 999_999_999)? as u32;
        chrono::DateTime::from_timestamp(seconds, nanos)
            .ok_or_else(|| self.invalid(format!("{what} is out of range")))
    }

    fn flag(&mut self, what: &'static str) -> Result<bool, SnapshotError> {
        match self.byte(what)? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(self.invalid(format!("{what} flag is {other}, not 0 or 1"))),
        }
    }
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(bytes);
    hasher.finalize()
}

fn site_code(site: Site) -> u8 {
    match site {
        Site::Chatgpt => 0,
        Site::Claude => 1,
    }
}

impl SearchIndex {
    /// The index as bytes for [`SearchIndex::from_snapshot`]. Removed documents and terms
    /// only they used are left out.
    pub fn to_snapshot(&self) -> Vec<u8> {
        let mut writer = Writer {
            out: Vec::with_capacity(HEADER_LENGTH + self.total_postings as usize * 2),
        };
        writer.out.extend_from_slice(MAGIC);
        writer
            .out
            .extend_from_slice(&SNAPSHOT_VERSION.to_le_bytes());
        writer.out.extend_from_slice(&[0; 12]);

        writer.varint(self.languages.len() as u64);
        for language in &self.languages {
            writer.bytes(language.as_bytes());
        }

        let live_dreams: Vec<&DreamEntry> = self.dreams.iter().flatten().collect();
        let mut new_ids = vec![u32::MAX; self.doc_state.len()];
        let mut order: Vec<(u32, &DocInfo, &[u8; FIELDS])> = Vec::with_capacity(self.len());
        writer.varint(live_dreams.len() as u64);
        for (dream_index, dream) in live_dreams.iter().enumerate() {
            writer.bytes(dream.id.as_bytes());
            writer.bytes(dream.title.as_bytes());
            writer.out.push(site_code(dream.site));
            writer.varint(dream.tags.len() as u64);
            for tag in &dream.tags {
                writer.bytes(tag.as_bytes());
            }
            writer.date(dream.date);
            writer.varint(u64::from(dream.usage_count));
            match dream.last_used_at {
                Some(date) => {
                    writer.out.push(1);
                    writer.date(date);
                }
                None => writer.out.push(0),
            }
            writer.varint(dream.languages.len() as u64);
            for &language in &dream.languages {
                writer.varint(u64::from(language));
            }
            for &doc in &dream.docs {
                let slot = doc as usize;
                let live = matches!(self.doc_state.get(slot), Some(DocState::Live(_)));
                if let (true, Some(id), Some(info), Some(lengths)) = (
                    live,
                    new_ids.get_mut(slot),
                    self.doc_info.get(slot),
                    self.doc_lengths.get(slot),
                ) {
                    *id = order.len() as u32;
                    order.push((dream_index as u32, info, lengths));
                }
            }
        }

        writer.varint(order.len() as u64);
        for &(dream_index, info, lengths) in &order {
            writer.varint(u64::from(dream_index));
            match info.fragment {
                None => writer.out.push(0),
                Some(FragmentRef::Code { message, block }) => {
                    writer.out.push(1);
                    writer.varint(u64::from(message));
                    writer.varint(u64::from(block));
                }
                Some(FragmentRef::Todo { message, item }) => {
                    writer.out.push(2);
                    writer.varint(u64::from(message));
                    writer.varint(u64::from(item));
                }
            }
            writer.varint(u64::from(info.language));
            match &info.title {
                Some(title) => {
                    writer.out.push(1);
                    writer.bytes(title.as_bytes());
                }
                None => writer.out.push(0),
            }
            writer.out.extend_from_slice(lengths);
        }

        let terms: Vec<u32> = self
            .dictionary
            .ids_in_order()
            .into_iter()
            .filter(|&id| self.live_df.get(id as usize).is_some_and(|&df| df > 0))
            .collect();
        writer.varint(terms.len() as u64);
        let mut previous: &[u8] = &[];
        for &id in &terms {
            let term = self.dictionary.term(id);
            let shared = previous
                .iter()
                .zip(term)
                .take_while(|(a, b)| a == b)
                .count();
            writer.varint(shared as u64);
            writer.bytes(&term[shared..]);
            previous = term;
        }

        let live_postings: u64 = terms
            .iter()
            .map(|&id| u64::from(self.live_df.get(id as usize).copied().unwrap_or(0)))
            .sum();
        writer.varint(live_postings);
        let mut list: Vec<(u32, [u8; FIELDS])> = Vec::new();
        for &id in &terms {
            list.clear();
            list.extend(
                self.postings
                    .lists(id)
                    .into_iter()
                    .flatten()
                    .filter_map(|p| {
                        let new_id = *new_ids.get(p.doc as usize)?;
                        (new_id != u32::MAX).then_some((new_id, p.tf))
                    }),
            );
            list.sort_unstable_by_key(|&(doc, _)| doc);
            writer.varint(list.len() as u64);
            let mut next_expected: u64 = 0;
            for &(doc, tf) in &list {
                let delta = u64::from(doc) + 1 - next_expected;
                next_expected = u64::from(doc) + 1;
                let simple = tf == [0, 0, 0, 1];
                writer.varint(delta << 1 | u64::from(simple));
                if !simple {
                    let mask = tf
                        .iter()
                        .enumerate()
                        .fold(0u8, |m, (f, &t)| if t > 0 { m | 1 << f } else { m });
                    writer.out.push(mask);
                    for &t in tf.iter().filter(|&&t| t > 0) {
                        writer.varint(u64::from(t));
                    }
                }
            }
        }

        let payload_length = (writer.out.len() - HEADER_LENGTH) as u64;
        let checksum = crc32(&writer.out[HEADER_LENGTH..]);
        writer.out[12..20].copy_from_slice(&payload_length.to_le_bytes());
        writer.out[20..24].copy_from_slice(&checksum.to_le_bytes());
        writer.out
    }

    /// Restores an index written by [`SearchIndex::to_snapshot`]. Any corruption, truncation
    /// or other version is an error, never a panic.
    pub fn from_snapshot(bytes: &[u8]) -> Result<SearchIndex, SnapshotError> {
        if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
            return Err(SnapshotError::NotASnapshot);
        }
        let mut header = Reader {
            bytes,
            position: MAGIC.len(),
            base: 0,
        };
        let version = u32::from_le_bytes(fixed(&mut header, "version")?);
        if version != SNAPSHOT_VERSION {
            return Err(SnapshotError::UnsupportedVersion {
                found: version,
                supported: SNAPSHOT_VERSION,
            });
        }
        let length = u64::from_le_bytes(fixed(&mut header, "payload length")?);
        let expected = u32::from_le_bytes(fixed(&mut header, "checksum")?);
        let payload = &bytes[HEADER_LENGTH..];
        if length != payload.len() as u64 {
            return Err(if length > payload.len() as u64 {
                SnapshotError::Truncated {
                    offset: bytes.len(),
                    what: "payload",
                }
            } else {
                SnapshotError::Invalid {
                    offset: HEADER_LENGTH,
                    what: format!(
                        "payload is {} bytes, the header says {length}",
                        payload.len()
                    ),
                }
            });
        }
        let found = crc32(payload);
        if found != expected {
            return Err(SnapshotError::ChecksumMismatch { expected, found });
        }
        decode_payload(&mut Reader {
            bytes: payload,
            position: 0,
            base: HEADER_LENGTH,
        })
    }
}

fn fixed<const N: usize>(
    reader: &mut Reader<'_>,
    what: &'static str,
) -> Result<[u8; N], SnapshotError> {
    let slice = reader.slice(N, what)?;
    let mut array = [0; N];
    array.copy_from_slice(slice);
    Ok(array)
}

fn decode_payload(reader: &mut Reader<'_>) -> Result<SearchIndex, SnapshotError> {
    let mut index = SearchIndex::new();

    let language_count = reader.count("language count")?;
    if language_count == 0 || language_count > usize::from(u16::MAX) {
        return Err(reader.invalid(format!("language count {language_count} outside 1..=65535")));
    }
    index.languages.clear();
    for _ in 0..language_count {
        index.languages.push(Box::from(reader.string("language")?));
    }
    if !index.languages.first().is_some_and(|l| l.is_empty()) {
        return Err(reader.invalid("language 0 must be the empty name"));
    }
    let language_limit = (language_count - 1) as u64;

    let dream_count = reader.count("dream count")?;
    index.dreams.reserve(dream_count);
    for _ in 0..dream_count {
        let id_offset = reader.position;
        let id = reader.string("dream id")?;
        let title = reader.string("dream title")?;
        let site = match reader.byte("site")? {
            0 => Site::Chatgpt,
            1 => Site::Claude,
            other => return Err(reader.invalid(format!("site code {other} is neither 0 nor 1"))),
        };
        let tag_count = reader.count("tag count")?;
        let mut tags = Vec::with_capacity(tag_count);
        for _ in 0..tag_count {
            tags.push(Box::from(reader.string("tag")?));
        }
        let date = reader.date("dream date")?;
        let usage_count = reader.bounded("usage count", u64::from(u32::MAX))? as u32;
        let last_used_at = if reader.flag("last used")? {
            Some(reader.date("last used date")?)
        } else {
            None
        };
        let languages_count = reader.count("dream language count")?;
        let mut languages = Vec::with_capacity(languages_count);
        for _ in 0..languages_count {
            languages.push(reader.bounded("dream language", language_limit)? as u16);
        }
        let slot = index.dreams.len() as u32;
        if index.dream_slots.insert(Box::from(id), slot).is_some() {
            return Err(SnapshotError::Invalid {
                offset: HEADER_LENGTH + id_offset,
                what: format!("dream id {id:?} appears twice"),
            });
        }
        index.dreams.push(Some(DreamEntry {
            id: Box::from(id),
            title: Box::from(title),
            site,
            tags,
            date,
            usage_count,
            last_used_at,
            docs: Vec::new(),
            languages,
        }));
    }

    let doc_count = reader.count("document count")?;
    if doc_count > u32::MAX as usize - 1 {
        return Err(reader.invalid("too many documents"));
    }
    index.doc_state.reserve(doc_count);
    index.doc_lengths.reserve(doc_count);
    index.doc_info.reserve(doc_count);
    let mut stats = [KindStats::default(); 2];
    for doc in 0..doc_count as u32 {
        let dream =
            reader.bounded("document's dream", dream_count.saturating_sub(1) as u64)? as u32;
        if dream_count == 0 {
            return Err(reader.invalid("a document without any dream"));
        }
        let fragment = match reader.byte("document kind")? {
            0 => None,
            1 => Some(FragmentRef::Code {
                message: reader.bounded("message index", u64::from(u32::MAX))? as u32,
                block: reader.bounded("code block index", u64::from(u32::MAX))? as u32,
            }),
            2 => Some(FragmentRef::Todo {
                message: reader.bounded("message index", u64::from(u32::MAX))? as u32,
                item: reader.bounded("todo index", u64::from(u32::MAX))? as u32,
            }),
            other => return Err(reader.invalid(format!("document kind {other} is not 0, 1 or 2"))),
        };
        let kind = if fragment.is_some() {
            DocKind::Fragment
        } else {
            DocKind::Dream
        };
        let language = reader.bounded("document language", language_limit)? as u16;
        let title = if reader.flag("document title")? {
            Some(Box::from(reader.string("document title")?))
        } else {
            None
        };
        let lengths: [u8; FIELDS] = fixed(reader, "field lengths")?;
        let kind_stats = &mut stats[kind_index(kind)];
        kind_stats.docs += 1;
        for (total, &code) in kind_stats.field_lengths.iter_mut().zip(&lengths) {
            *total += u64::from(coded_length(code));
        }
        if let Some(Some(entry)) = index.dreams.get_mut(dream as usize) {
            entry.docs.push(doc);
        }
        index.doc_state.push(DocState::Live(kind));
        index.doc_lengths.push(lengths);
        index.doc_info.push(DocInfo {
            dream,
            fragment,
            language,
            title,
        });
    }
    index.stats = stats;
    index.doc_terms = vec![Vec::new(); doc_count];

    let term_count = reader.count("term count")?;
    let mut text: Vec<u8> = Vec::new();
    let mut ends: Vec<u32> = Vec::with_capacity(term_count);
    let mut previous_start = 0usize;
    for _ in 0..term_count {
        let shared = reader.varint("shared prefix length")?;
        let previous_length = text.len() - previous_start;
        if shared > previous_length as u64 {
            return Err(reader.invalid(format!(
                "term shares {shared} bytes with a previous term of {previous_length}"
            )));
        }
        let suffix_offset = reader.position;
        let suffix_length = reader.count("term suffix")?;
        let suffix = reader.slice(suffix_length, "term suffix")?;
        let start = text.len();
        text.extend_from_within(previous_start..previous_start + shared as usize);
        text.extend_from_slice(suffix);
        let (previous, term) = text.split_at(start);
        let previous_term = previous.get(previous_start..).filter(|_| start > 0);
        let out_of_order = previous_term.is_some_and(|p| p >= term);
        if term.is_empty() || out_of_order || std::str::from_utf8(term).is_err() {
            return Err(SnapshotError::Invalid {
                offset: HEADER_LENGTH + suffix_offset,
                what: "terms must be non-empty UTF-8 in strictly increasing order".to_string(),
            });
        }
        previous_start = start;
        let end =
            u32::try_from(text.len()).map_err(|_| reader.invalid("term text exceeds 4 GiB"))?;
        ends.push(end);
    }
    index.dictionary = Dictionary::from_sorted(text, ends);

    let total = reader.count("posting total")?;
    let mut base: Vec<Posting> = Vec::with_capacity(total);
    let mut offsets: Vec<u32> = Vec::with_capacity(term_count + 1);
    index.live_df.reserve(term_count);
    let doc_limit = doc_count as u64;
    for _ in 0..term_count {
        offsets.push(base.len() as u32);
        let posting_count = reader.count("posting count")?;
        if posting_count as u64 > doc_limit || base.len() + posting_count > total {
            return Err(reader.invalid(format!(
                "{posting_count} postings for {doc_count} documents, {} of {total} already read",
                base.len()
            )));
        }
        let mut next_expected: u64 = 0;
        for _ in 0..posting_count {
            let value = reader.varint("posting")?;
            let delta = value >> 1;
            if delta == 0 {
                return Err(
                    reader.invalid("postings must list documents in strictly increasing order")
                );
            }
            let doc = next_expected.saturating_add(delta - 1);
            if doc >= doc_limit {
                return Err(reader.invalid(format!("posting names document {doc} of {doc_count}")));
            }
            next_expected = doc + 1;
            let mut tf = [0u8; FIELDS];
            if value & 1 == 1 {
                tf[BODY] = 1;
            } else {
                let mask = reader.byte("field mask")?;
                if mask == 0 || mask >> FIELDS != 0 {
                    return Err(reader.invalid(format!(
                        "field mask {mask:#04x} is not a non-empty set of 4 fields"
                    )));
                }
                for (field, count) in tf.iter_mut().enumerate() {
                    if mask & (1 << field) != 0 {
                        *count = reader.bounded("term frequency", 255)? as u8;
                        if *count == 0 {
                            return Err(reader.invalid("a field in the mask has a zero count"));
                        }
                    }
                }
            }
            base.push(Posting {
                doc: doc as u32,
                tf,
            });
        }
        index.live_df.push(posting_count as u32);
    }
    if base.len() != total {
        return Err(reader.invalid(format!(
            "{} postings where the total says {total}",
            base.len()
        )));
    }
    offsets.push(base.len() as u32);
    index.total_postings = base.len() as u64;
    index.postings = PostingStore::from_base(offsets, base);
    if reader.position != reader.bytes.len() {
        return Err(reader.invalid(format!(
            "{} bytes left over after the postings",
            reader.bytes.len() - reader.position
        )));
    }
    Ok(index)
}
