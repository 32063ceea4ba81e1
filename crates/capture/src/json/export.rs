//! The entries of an export array, one at a time.
//!
//! Each entry is first taken as raw JSON text (`RawValue`: syntax checked, nothing built),
//! then read on its own. Memory therefore stays at one entry plus the reader's buffer however
//! long the export is, and an entry of the wrong shape is skipped with its reason while the
//! rest of the file is still read. Broken syntax or a truncated file ends the walk: after
//! it, where one entry stops and the next begins is unknowable.

use std::cell::Cell;
use std::fmt;
use std::io::{BufRead, Read};
use std::marker::PhantomData;
use std::ops::{ControlFlow, Deref};

use dreamcatcher_model::Conversation;
use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::path::JsonPath;
use super::{JsonError, Kind, parse_entry};

/// One entry of an export: a conversation, or the reason it was left out.
#[derive(Debug)]
pub enum ExportItem {
    Conversation(Conversation),
    Skipped(SkippedEntry),
}

/// An export entry that could not be read; the other entries are unaffected.
#[derive(Debug)]
pub struct SkippedEntry {
    /// 0-based position in the export's top-level array.
    pub index: usize,
    /// Where the entry starts, in bytes from the start of the JSON.
    pub byte_offset: u64,
    /// The entry's `title` (ChatGPT) or `name` (Claude), when it was readable.
    pub title: Option<String>,
    pub reason: JsonError,
}

impl fmt::Display for SkippedEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "entry [{}]", self.index)?;
        if let Some(title) = &self.title {
            write!(f, " {title:?}")?;
        }
        write!(f, " at byte {} skipped: {}", self.byte_offset, self.reason)
    }
}

/// How far a walk over an export's entries went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Walk {
    pub entries: usize,
    /// The callback asked to stop before the end.
    pub stopped: bool,
}

/// Walks the entries of an export held in memory; `base_offset` is where `json` starts in
/// the input (after a byte order mark), so offsets match the streaming reader's.
pub(crate) fn for_each_entry_in_slice(
    json: &[u8],
    base_offset: u64,
    mut on_item: impl FnMut(ExportItem) -> ControlFlow<()>,
) -> Result<Walk, JsonError> {
    let start = json.as_ptr() as usize;
    let mut deserializer = serde_json::Deserializer::from_slice(json);
    let mut kind = None;
    walk::<_, &RawValue>(&mut deserializer, |index, raw| {
        // The raw text borrows from `json`, so its address gives its offset exactly.
        let offset = base_offset + (raw.get().as_ptr() as usize).saturating_sub(start) as u64;
        on_item(read_entry(index, offset, raw.get(), &mut kind))
    })
    .map_err(|error| JsonError::from_json(error, None))
}

/// Walks the entries of an export read from `reader`, a [`CountingReader`] counting into
/// `consumed` (for offsets and error reports).
pub(crate) fn for_each_entry<R: Read>(
    reader: &mut CountingReader<'_, R>,
    consumed: &Cell<u64>,
    mut on_item: impl FnMut(ExportItem) -> ControlFlow<()>,
) -> Result<Walk, JsonError> {
    let mut deserializer = serde_json::Deserializer::from_reader(reader);
    let mut kind = None;
    walk::<_, Box<RawValue>>(&mut deserializer, |index, raw| {
        // serde_json has read exactly to the entry's last byte when it hands the entry over,
        // except after a number, whose end it finds by reading one byte past it.
        let json = raw.get();
        let lookahead = u64::from(json.starts_with(|c: char| c == '-' || c.is_ascii_digit()));
        let offset = consumed.get().saturating_sub(json.len() as u64 + lookahead);
        on_item(read_entry(index, offset, json, &mut kind))
    })
    .map_err(|error| match error.classify() {
        serde_json::error::Category::Io => JsonError::Read {
            bytes_read: consumed.get(),
            source: error.into(),
        },
        _ => JsonError::from_json(error, None),
    })
}

/// Reads entry `index`; `kind` carries the kind of the last good entry to the next.
fn read_entry(index: usize, byte_offset: u64, json: &str, kind: &mut Option<Kind>) -> ExportItem {
    match parse_entry(json, &JsonPath::root().index(index), *kind) {
        Ok((conversation, read_as)) => {
            *kind = Some(read_as);
            ExportItem::Conversation(conversation)
        }
        Err((title, reason)) => ExportItem::Skipped(SkippedEntry {
            index,
            byte_offset,
            title,
            reason,
        }),
    }
}

/// Feeds each element of the top-level array to `on_raw`, then checks nothing follows it.
fn walk<'de, R, E>(
    deserializer: &mut serde_json::Deserializer<R>,
    mut on_raw: impl FnMut(usize, &RawValue) -> ControlFlow<()>,
) -> Result<Walk, serde_json::Error>
where
    R: serde_json::de::Read<'de>,
    E: Deserialize<'de> + Deref<Target = RawValue>,
{
    let stopped = Cell::new(false);
    let entries = Cell::new(0usize);
    let seed = Entries::<E, _> {
        on_raw: &mut on_raw,
        stopped: &stopped,
        entries: &entries,
        element: PhantomData,
    };
    match seed.deserialize(&mut *deserializer) {
        Ok(()) => deserializer.end()?,
        // Stopping early leaves the array unfinished; serde_json's complaint about that is moot.
        Err(_) if stopped.get() => {}
        Err(error) => return Err(error),
    }
    Ok(Walk {
        entries: entries.get(),
        stopped: stopped.get(),
    })
}

struct Entries<'a, E, F> {
    on_raw: &'a mut F,
    stopped: &'a Cell<bool>,
    entries: &'a Cell<usize>,
    element: PhantomData<E>,
}

impl<'de, E, F> DeserializeSeed<'de> for Entries<'_, E, F>
where
    E: Deserialize<'de> + Deref<Target = RawValue>,
    F: FnMut(usize, &RawValue) -> ControlFlow<()>,
{
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, E, F> Visitor<'de> for Entries<'_, E, F>
where
    E: Deserialize<'de> + Deref<Target = RawValue>,
    F: FnMut(usize, &RawValue) -> ControlFlow<()>,
{
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of conversations")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0usize;
        while let Some(raw) = seq.next_element::<E>()? {
            self.entries.set(index + 1);
            if (self.on_raw)(index, &raw).is_break() {
                self.stopped.set(true);
                return Err(de::Error::custom("stopped by the caller"));
            }
            index += 1;
        }
        Ok(())
    }
}

/// A buffered reader that counts the bytes taken out of it (not merely buffered) into a
/// shared cell, so positions can be read while serde_json owns the reader.
///
/// serde_json pulls one byte per `read` call from a reader; this keeps that path to a bounds
/// check and a copy, which is most of the streaming speed.
pub(crate) struct CountingReader<'c, R> {
    inner: R,
    buffer: Box<[u8]>,
    start: usize,
    end: usize,
    consumed: &'c Cell<u64>,
}

impl<'c, R: Read> CountingReader<'c, R> {
    pub(crate) fn new(inner: R, capacity: usize, consumed: &'c Cell<u64>) -> Self {
        CountingReader {
            inner,
            buffer: vec![0; capacity.max(1)].into_boxed_slice(),
            start: 0,
            end: 0,
            consumed,
        }
    }
}

impl<R: Read> Read for CountingReader<'_, R> {
    #[inline(always)]
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        // serde_json's one-byte reads: no slicing, no memcpy call.
        if let [slot] = out
            && self.start < self.end
            && let Some(&byte) = self.buffer.get(self.start)
        {
            *slot = byte;
            self.start += 1;
            self.consumed.set(self.consumed.get() + 1);
            return Ok(1);
        }
        if self.start == self.end {
            if out.len() >= self.buffer.len() {
                let n = self.inner.read(out)?;
                self.consumed.set(self.consumed.get() + n as u64);
                return Ok(n);
            }
            self.fill_buf()?;
        }
        let available = self.buffer.get(self.start..self.end).unwrap_or(&[]);
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: Read> BufRead for CountingReader<'_, R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.start == self.end {
            let filled = loop {
                match self.inner.read(&mut self.buffer) {
                    Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
                    other => break other?,
                }
            };
            self.start = 0;
            self.end = filled;
        }
        Ok(self.buffer.get(self.start..self.end).unwrap_or(&[]))
    }

    fn consume(&mut self, amount: usize) {
        let amount = amount.min(self.end - self.start);
        self.start += amount;
        self.consumed.set(self.consumed.get() + amount as u64);
    }
}
