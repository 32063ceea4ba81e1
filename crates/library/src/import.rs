//! Reading an imported file a batch at a time: Dreamcatcher's own export (JSON, or the zip
//! holding it) or the sites' official exports (`conversations.json`, or their zip).
//!
//! The file's bytes are held, but conversations are built only a batch at a time. Opening
//! the file checks its syntax once and notes where each entry of its array lies (so the
//! total is known from the start and a broken file fails before anything is stored); each
//! batch then hands its entries to the parser that owns the format: the capture crate's
//! [`stream_export`] for official exports (which skips unreadable entries with the reason),
//! serde for Dreamcatcher's own lossless dreams.

use std::io::{Cursor, Read};
use std::ops::{ControlFlow, Range};

use serde::Deserialize;
use serde_json::value::RawValue;

use dreamcatcher_capture::CaptureError;
use dreamcatcher_capture::input::{ParseOptions, stream_export, stream_zip};
use dreamcatcher_capture::json::{ExportItem, JsonError};
use dreamcatcher_export::{LIBRARY_FORMAT, LIBRARY_VERSION};
use dreamcatcher_model::{Conversation, Dream, is_conversation_id};

use crate::api::SkippedItem;

/// The file Dreamcatcher's zip export keeps its lossless JSON in.
const LIBRARY_FILE_IN_ZIP: &str = "dreamcatcher.json";
/// The file the sites' export zips keep their conversations in.
const EXPORT_FILE_IN_ZIP: &str = "conversations.json";
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// One thing to store from an imported file.
#[derive(Debug, Clone)]
pub enum ImportItem {
    /// From Dreamcatcher's export: stored as it was, with the user's tags and notes.
    Dream(Box<Dream>),
    /// From a site's export: stored like a capture (keeps the library's tags and notes).
    Conversation(Box<Conversation>),
}

/// Why a file could not be imported at all.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{file}: the file is empty")]
    Empty { file: String },
    #[error("{file}: not a zip archive Dreamcatcher can read: {detail}")]
    Zip { file: String, detail: String },
    #[error("{file}: {detail}")]
    Unreadable { file: String, detail: String },
}

/// What the file is, decided by its content (never its name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// Dreamcatcher's library JSON: `entries` are its dreams.
    Library,
    /// An array of site conversations (an official `conversations.json`).
    ExportArray,
    /// Anything else the capture crate reads as one conversation (a site's conversation
    /// JSON, a saved page); `entries` is the whole input.
    Single,
}

/// The entries of a batch, and where the reader stands once they are stored.
#[derive(Debug, Default)]
pub struct Batch {
    pub items: Vec<ImportItem>,
    pub skipped: Vec<SkippedItem>,
    /// Entries read, for [`ImportReader::advance`].
    pub entries: usize,
}

/// An imported file being read batch by batch.
#[derive(Debug)]
pub struct ImportReader {
    file_name: String,
    format: Format,
    /// The JSON (for a zip, its JSON entry uncompressed).
    json: Vec<u8>,
    /// Each entry's byte range in `json`.
    entries: Vec<Range<usize>>,
    next: usize,
}

#[derive(Deserialize)]
struct LibraryOutline<'a> {
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    version: Option<u32>,
    #[serde(default, borrow)]
    dreams: Option<Vec<&'a RawValue>>,
}

/// Where a borrowed piece of `json` lies in it.
fn range_in(json: &[u8], part: &str) -> Range<usize> {
    let start = (part.as_ptr() as usize).saturating_sub(json.as_ptr() as usize);
    start..start + part.len()
}

/// The one entry of a single-conversation input: all of it.
fn whole(json: &[u8]) -> Vec<Range<usize>> {
    std::iter::once(0..json.len()).collect()
}

fn first_byte(json: &[u8]) -> Option<u8> {
    json.iter().copied().find(|b| !b.is_ascii_whitespace())
}

impl ImportReader {
    /// Reads the file's layout: its format, and where each conversation or dream is.
    pub fn open(file_name: &str, bytes: Vec<u8>) -> Result<ImportReader, ImportError> {
        let unreadable = |detail: String| ImportError::Unreadable {
            file: file_name.to_string(),
            detail,
        };
        let mut json = if is_zip(&bytes) {
            json_in_zip(file_name, &bytes)?
        } else {
            bytes
        };
        if json.starts_with(UTF8_BOM) {
            json.drain(..UTF8_BOM.len());
        }
        let (format, entries) = match first_byte(&json) {
            None => {
                return Err(ImportError::Empty {
                    file: file_name.to_string(),
                });
            }
            Some(b'[') => {
                let entries: Vec<&RawValue> = serde_json::from_slice(&json)
                    .map_err(|e| unreadable(format!("not a readable conversations export: {e}")))?;
                let ranges = entries.iter().map(|raw| range_in(&json, raw.get())).collect();
                (Format::ExportArray, ranges)
            }
            Some(b'{') => match serde_json::from_slice::<LibraryOutline>(&json) {
                Ok(outline) if outline.format.as_deref() == Some(LIBRARY_FORMAT) => {
                    let version = outline.version.unwrap_or(0);
                    if version > LIBRARY_VERSION {
                        return Err(unreadable(format!(
                            "library export version {version} is newer than this Dreamcatcher reads ({LIBRARY_VERSION})"
                        )));
                    }
                    let dreams = outline.dreams.unwrap_or_default();
                    let ranges = dreams.iter().map(|raw| range_in(&json, raw.get())).collect();
                    (Format::Library, ranges)
                }
                // A site's conversation (or broken JSON, which the capture crate explains).
                _ => (Format::Single, whole(&json)),
            },
            Some(_) => (Format::Single, whole(&json)),
        };
        Ok(ImportReader {
            file_name: file_name.to_string(),
            format,
            json,
            entries,
            next: 0,
        })
    }

    /// Conversations (or dreams) in the file.
    pub fn total(&self) -> usize {
        self.entries.len()
    }

    /// Entries already stored.
    pub fn done(&self) -> usize {
        self.next
    }

    pub fn is_finished(&self) -> bool {
        self.next >= self.entries.len()
    }

    /// Reads the next `max` entries without moving on: call [`ImportReader::advance`] once
    /// they are stored, so a failed write is retried rather than lost.
    pub fn read_batch(&self, max: usize) -> Result<Batch, ImportError> {
        let end = self.next.saturating_add(max.max(1)).min(self.entries.len());
        let wanted = self.entries.get(self.next..end).unwrap_or(&[]);
        let mut batch = Batch {
            entries: wanted.len(),
            ..Batch::default()
        };
        match self.format {
            Format::Library => {
                for (offset, range) in wanted.iter().enumerate() {
                    let text = self.json.get(range.clone()).unwrap_or(&[]);
                    match serde_json::from_slice::<Dream>(text) {
                        Ok(dream) if !is_conversation_id(dream.id()) => {
                            batch.skipped.push(SkippedItem {
                                item: format!("dream {}", self.next + offset + 1),
                                reason: format!(
                                    "its id {:?} (byte {}) is not a Dreamcatcher id",
                                    dream.id().chars().take(80).collect::<String>(),
                                    range.start
                                ),
                            })
                        }
                        Ok(dream) => batch.items.push(ImportItem::Dream(Box::new(dream))),
                        Err(error) => batch.skipped.push(SkippedItem {
                            item: format!("dream {}", self.next + offset + 1),
                            reason: format!("not a readable dream (byte {}): {error}", range.start),
                        }),
                    }
                }
            }
            Format::ExportArray => {
                // The batch's entries as an array of their own, read by the capture crate.
                let size = wanted.iter().map(|r| r.len() + 1).sum::<usize>() + 1;
                let mut array = Vec::with_capacity(size);
                array.push(b'[');
                for (offset, range) in wanted.iter().enumerate() {
                    if offset > 0 {
                        array.push(b',');
                    }
                    array.extend_from_slice(self.json.get(range.clone()).unwrap_or(&[]));
                }
                array.push(b']');
                self.stream(&array, &mut batch)?;
            }
            Format::Single => {
                if !wanted.is_empty() {
                    self.stream(&self.json, &mut batch)?;
                }
            }
        }
        Ok(batch)
    }

    /// Moves past `entries` entries (a batch's, once stored).
    pub fn advance(&mut self, entries: usize) {
        self.next = self.next.saturating_add(entries).min(self.entries.len());
    }

    fn stream(&self, json: &[u8], batch: &mut Batch) -> Result<(), ImportError> {
        let first = self.next;
        let entries = &self.entries;
        let mut items = Vec::new();
        let mut skipped = Vec::new();
        stream_export(Cursor::new(json), &ParseOptions::default(), |item| {
            match item {
                ExportItem::Conversation(conversation) if conversation.messages.is_empty() => {
                    skipped.push(SkippedItem {
                        item: label(Some(&conversation.title), first + skipped.len() + items.len()),
                        reason: "the conversation has no messages".to_string(),
                    });
                }
                ExportItem::Conversation(conversation) => {
                    items.push(ImportItem::Conversation(Box::new(conversation)));
                }
                ExportItem::Skipped(entry) => {
                    let index = first + entry.index;
                    let start = entries.get(index).map_or(0, |r| r.start);
                    skipped.push(SkippedItem {
                        item: label(entry.title.as_deref(), index),
                        reason: format!(
                            "{} (entry at byte {start})",
                            in_file(entry.reason, entry.index, index)
                        ),
                    });
                }
            }
            ControlFlow::Continue(())
        })
        .map_err(|error| ImportError::Unreadable {
            file: self.file_name.clone(),
            detail: error.to_string(),
        })?;
        batch.items = items;
        batch.skipped = skipped;
        Ok(())
    }
}

/// How a skipped entry is named: its title, else its position.
fn label(title: Option<&str>, index: usize) -> String {
    match title.map(str::trim).filter(|t| !t.is_empty()) {
        Some(title) => title.to_string(),
        None => format!("conversation {}", index + 1),
    }
}

/// The reason an entry was skipped, its JSON path counted in the whole file rather than in
/// the batch it was read in (`[2].mapping…` of a batch is `[52].mapping…` of the file).
fn in_file(reason: JsonError, in_batch: usize, in_whole: usize) -> String {
    let local = format!("[{in_batch}]");
    let rebase = |path: String| match path.strip_prefix(&local) {
        Some(rest) => format!("[{in_whole}]{rest}"),
        None => path,
    };
    match reason {
        JsonError::Shape {
            path,
            line,
            column,
            message,
        } => JsonError::Shape {
            path: rebase(path),
            line,
            column,
            message,
        },
        JsonError::NotAConversation { path, found } => JsonError::NotAConversation {
            path: rebase(path),
            found,
        },
        JsonError::MissingNode {
            path,
            node,
            referenced_by,
        } => JsonError::MissingNode {
            path: rebase(path),
            node,
            referenced_by,
        },
        JsonError::Cycle { path, node } => JsonError::Cycle {
            path: rebase(path),
            node,
        },
        other => other,
    }
    .to_string()
}

fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06")
}

/// The JSON a zip is imported from: Dreamcatcher's own `dreamcatcher.json`, else the
/// export's `conversations.json` (at the top, or in the shallowest folder of a repacked
/// zip), uncompressed.
fn json_in_zip(file_name: &str, bytes: &[u8]) -> Result<Vec<u8>, ImportError> {
    let zip_error = |detail: String| ImportError::Zip {
        file: file_name.to_string(),
        detail,
    };
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| zip_error(e.to_string()))?;
    let find = |wanted: &str| {
        archive
            .file_names()
            .filter(|name| {
                let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
                base.eq_ignore_ascii_case(wanted) && !name.starts_with("__MACOSX")
            })
            .min_by_key(|name| (name.matches('/').count(), name.len(), name.to_string()))
            .map(str::to_string)
    };
    let Some(name) = find(LIBRARY_FILE_IN_ZIP).or_else(|| find(EXPORT_FILE_IN_ZIP)) else {
        // The capture crate says precisely what the zip holds instead.
        let error = stream_zip(Cursor::new(bytes), &ParseOptions::default(), |_| ControlFlow::Break(()))
            .err()
            .map_or_else(|| CaptureError::Empty.to_string(), |e| e.to_string());
        return Err(zip_error(error));
    };
    let mut json = Vec::new();
    archive
        .by_name(&name)
        .map_err(|e| zip_error(format!("{name}: {e}")))?
        .read_to_end(&mut json)
        .map_err(|e| zip_error(format!("{name}: {e}")))?;
    Ok(json)
}
