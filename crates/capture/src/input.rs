//! Whatever the user hands over becomes conversations, the format decided by the bytes (never
//! the file name): an export zip, a saved chat page, one conversation's JSON (either site's web
//! API, or Dreamcatcher's own), or an export's `conversations.json` array.
//!
//! [`parse_bytes`] takes input already in memory. [`stream_export`] and [`stream_zip`] read
//! exports of any size with memory bounded by the largest single conversation, handing over
//! one conversation at a time. None of this touches files or threads, so it runs in the
//! browser (wasm32) as well as in the CLI.

use std::cell::Cell;
use std::io::{BufRead, Cursor, Read, Seek, SeekFrom};
use std::ops::ControlFlow;

use dreamcatcher_model::{CaptureSource, Conversation, Site};

use crate::error::CaptureError;
use crate::json::{self, ExportItem, SkippedEntry};

/// What is known about the input besides its bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParseOptions {
    /// The site, when the caller knows it. Guides page capture; JSON names its site itself.
    pub site: Option<Site>,
    /// The page's address, for a saved page (gives the site's conversation id).
    pub url: Option<String>,
}

/// The kinds of input told apart by their first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    /// A zip archive: an official export holding `conversations.json`.
    Zip,
    /// A chat page's HTML.
    Html,
    /// One JSON object: a site's conversation (web API) or one Dreamcatcher conversation.
    ConversationJson,
    /// A JSON array: an export's `conversations.json` or Dreamcatcher's own export.
    ExportJson,
}

/// Everything read from one input, with the export entries that had to be left out.
#[derive(Debug)]
pub struct ParsedInput {
    pub format: InputFormat,
    pub conversations: Vec<Conversation>,
    pub skipped: Vec<SkippedEntry>,
}

/// What a streamed import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExportSummary {
    /// Entries met in the export's array (conversations + skipped).
    pub entries: usize,
    pub conversations: usize,
    pub skipped: usize,
    /// Bytes of JSON read (for a zip: of the uncompressed `conversations.json`).
    pub bytes_read: u64,
    /// The callback returned `ControlFlow::Break` before the end.
    pub stopped: bool,
}

/// How much of the start is checked for binary content before parsing.
const SNIFF_BYTES: usize = 64 * 1024;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Tells what kind of input `bytes` is, or says plainly why it is none of them.
pub fn detect_format(bytes: &[u8]) -> Result<InputFormat, CaptureError> {
    detect(bytes, true)
}

/// `complete` is false when `bytes` is only the start of the input (a character may be cut
/// at its end).
fn detect(bytes: &[u8], complete: bool) -> Result<InputFormat, CaptureError> {
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return Ok(InputFormat::Zip);
    }
    let body = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    let Some(first) = body.iter().position(|b| !b.is_ascii_whitespace()) else {
        return Err(CaptureError::Empty);
    };
    if body.starts_with(b"\xFF\xFE") || body.starts_with(b"\xFE\xFF") {
        return Err(CaptureError::UnknownFormat {
            found: "UTF-16 text (save it as UTF-8)".to_string(),
        });
    }
    if body.starts_with(b"\x1F\x8B") {
        return Err(CaptureError::Binary {
            offset: 0,
            detail: "gzip-compressed data: unpack it first".to_string(),
        });
    }
    check_text(bytes, complete)?;
    match body.get(first) {
        Some(b'{') => Ok(InputFormat::ConversationJson),
        Some(b'[') => Ok(InputFormat::ExportJson),
        Some(b'<') => Ok(InputFormat::Html),
        _ => Err(CaptureError::UnknownFormat {
            found: format!("it starts with {}", preview(&body[first..])),
        }),
    }
}

/// Fails on a NUL, a control character or invalid UTF-8 in the first [`SNIFF_BYTES`]: text
/// formats never hold them, so the input is binary (an image, a database, a wrong file).
fn check_text(bytes: &[u8], complete: bool) -> Result<(), CaptureError> {
    let head = &bytes[..bytes.len().min(SNIFF_BYTES)];
    let complete = complete && head.len() == bytes.len();
    let control = head
        .iter()
        .position(|&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C));
    let not_utf8 = match std::str::from_utf8(head) {
        // A character cut by the sniffing window is not an error; a bad byte is.
        Err(error) if error.error_len().is_some() || complete => Some(error.valid_up_to()),
        _ => None,
    };
    let first_bad = match (control, not_utf8) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let Some(offset) = first_bad else {
        return Ok(());
    };
    let byte = head.get(offset).copied().unwrap_or(0);
    let detail = if Some(offset) == control {
        format!("control byte 0x{byte:02X}")
    } else {
        format!("byte 0x{byte:02X} is not UTF-8 text")
    };
    Err(CaptureError::Binary { offset, detail })
}

/// The first characters of unrecognised text, quoted, for the error message.
fn preview(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(40)]);
    let line = text.lines().next().unwrap_or("");
    format!("{line:?}")
}

fn utf8(bytes: &[u8]) -> Result<&str, CaptureError> {
    let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|error| {
        let offset = error.valid_up_to();
        let byte = bytes.get(offset).copied().unwrap_or(0);
        CaptureError::Binary {
            offset,
            detail: format!("byte 0x{byte:02X} is not UTF-8 text"),
        }
    })
}

/// Reads every conversation in `bytes`, whatever the format. Export entries that cannot be
/// read are left out and listed in [`ParsedInput::skipped`].
pub fn parse_input(bytes: &[u8], options: &ParseOptions) -> Result<ParsedInput, CaptureError> {
    let format = detect_format(bytes)?;
    let mut conversations = Vec::new();
    let mut skipped = Vec::new();
    let mut collect = |item: ExportItem| {
        match item {
            ExportItem::Conversation(conversation) => conversations.push(conversation),
            ExportItem::Skipped(entry) => skipped.push(entry),
        }
        ControlFlow::Continue(())
    };
    match format {
        InputFormat::Zip => {
            stream_zip(Cursor::new(bytes), options, &mut collect)?;
        }
        InputFormat::ExportJson => {
            let json = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
            let bom = (bytes.len() - json.len()) as u64;
            json::for_each_entry_in_slice(json, bom, &mut collect)?;
        }
        InputFormat::Html => {
            let html = utf8(bytes)?;
            conversations.push(crate::page::parse_page(
                html,
                options.url.as_deref(),
                options.site,
            )?);
        }
        InputFormat::ConversationJson => {
            let json = utf8(bytes)?;
            conversations.push(json::parse_conversation(json, CaptureSource::WebApi)?);
        }
    }
    Ok(ParsedInput {
        format,
        conversations,
        skipped,
    })
}

/// Reads every conversation in `bytes`, whatever the format (see [`detect_format`]).
///
/// Export entries that cannot be read are left out (use [`parse_input`] to learn which and
/// why); if every entry of an export is unreadable, that is an error naming the first.
pub fn parse_bytes(
    bytes: &[u8],
    options: &ParseOptions,
) -> Result<Vec<Conversation>, CaptureError> {
    let parsed = parse_input(bytes, options)?;
    if parsed.conversations.is_empty() {
        let skipped = parsed.skipped.len();
        if let Some(first) = parsed.skipped.into_iter().next() {
            return Err(CaptureError::AllEntriesSkipped {
                skipped,
                first: Box::new(first),
            });
        }
    }
    Ok(parsed.conversations)
}

/// Reads an export (`conversations.json`: a JSON array) from `reader` one entry at a time,
/// calling `on_item` with each conversation or skipped entry as soon as it is read. Memory
/// holds one entry at a time. Return `ControlFlow::Break(())` to stop early.
///
/// One JSON object (a single conversation) and a chat page are accepted too and give one
/// item. A zip needs seeking: use [`stream_zip`]. Wrap `reader` in a [`ProgressReader`] to
/// follow the bytes read.
pub fn stream_export<R: Read>(
    reader: R,
    options: &ParseOptions,
    mut on_item: impl FnMut(ExportItem) -> ControlFlow<()>,
) -> Result<ExportSummary, CaptureError> {
    let (reader, bom) = without_bom(reader)?;
    let consumed = Cell::new(bom);
    let mut reader = json::CountingReader::new(reader, 64 * 1024, &consumed);
    skip_whitespace(&mut reader)?;
    let head = reader.fill_buf()?;
    let Some(&first) = head.first() else {
        return Err(CaptureError::Empty);
    };
    match first {
        b'[' => {
            let mut summary = ExportSummary::default();
            let walk = json::for_each_entry(&mut reader, &consumed, |item| {
                match &item {
                    ExportItem::Conversation(_) => summary.conversations += 1,
                    ExportItem::Skipped(_) => summary.skipped += 1,
                }
                on_item(item)
            })?;
            summary.entries = walk.entries;
            summary.stopped = walk.stopped;
            summary.bytes_read = consumed.get();
            Ok(summary)
        }
        b'{' | b'<' => {
            // One conversation or one page: its size is that of a single entry.
            let mut bytes = Vec::new();
            reader.read_to_end(&mut bytes)?;
            let parsed = parse_input(&bytes, options)?;
            let mut summary = ExportSummary {
                bytes_read: consumed.get(),
                ..ExportSummary::default()
            };
            for conversation in parsed.conversations {
                summary.entries += 1;
                summary.conversations += 1;
                if on_item(ExportItem::Conversation(conversation)).is_break() {
                    summary.stopped = true;
                    break;
                }
            }
            Ok(summary)
        }
        _ => {
            // Not JSON nor HTML: a sample of the start says what it is instead.
            let mut sniffed = Vec::new();
            reader.take(SNIFF_BYTES as u64).read_to_end(&mut sniffed)?;
            Err(match detect(&sniffed, false) {
                Ok(InputFormat::Zip) => CaptureError::UnknownFormat {
                    found: "a zip archive, which needs a seekable reader (use stream_zip)"
                        .to_string(),
                },
                Ok(_) => CaptureError::UnknownFormat {
                    found: format!("it starts with {}", preview(&sniffed)),
                },
                Err(error) => error,
            })
        }
    }
}

/// The input after its first bytes were looked at: those bytes, then the rest.
type Rejoined<R> = std::io::Chain<Cursor<Vec<u8>>, R>;

/// Reads past a UTF-8 byte order mark, however the reader splits its first bytes; returns
/// the rest of the input and the mark's length (0 without one).
fn without_bom<R: Read>(mut reader: R) -> std::io::Result<(Rejoined<R>, u64)> {
    let mut head = [0u8; 3];
    let mut filled = 0;
    while filled < head.len() {
        match reader.read(&mut head[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    let head = &head[..filled];
    let (rest, bom) = match head.strip_prefix(UTF8_BOM) {
        Some(rest) => (rest, UTF8_BOM.len() as u64),
        None => (head, 0),
    };
    Ok((Cursor::new(rest.to_vec()).chain(reader), bom))
}

fn skip_whitespace(reader: &mut impl BufRead) -> std::io::Result<()> {
    loop {
        let head = reader.fill_buf()?;
        if head.is_empty() {
            return Ok(());
        }
        let blank = head.iter().take_while(|b| b.is_ascii_whitespace()).count();
        let more = blank == head.len();
        reader.consume(blank);
        if !more {
            return Ok(());
        }
    }
}

/// Streams the `conversations.json` inside an export zip (ChatGPT's and Claude's both hold
/// one), like [`stream_export`]. The entry is decompressed as it is read.
pub fn stream_zip<R: Read + Seek>(
    reader: R,
    options: &ParseOptions,
    on_item: impl FnMut(ExportItem) -> ControlFlow<()>,
) -> Result<ExportSummary, CaptureError> {
    let mut archive = zip::ZipArchive::new(reader)?;
    let Some(index) = conversations_entry(&archive) else {
        let mut names: Vec<&str> = archive.file_names().collect();
        names.sort_unstable();
        let count = names.len();
        let mut listed = names.into_iter().take(10).collect::<Vec<_>>().join(", ");
        if count > 10 {
            listed.push_str(", …");
        }
        return Err(CaptureError::ZipWithoutConversations {
            count,
            names: listed,
        });
    };
    let entry = archive.by_index(index)?;
    stream_export(entry, options, on_item)
}

/// The archive's `conversations.json`: at the top, or in the shallowest folder when the zip
/// was repacked with one.
fn conversations_entry<R: Read + Seek>(archive: &zip::ZipArchive<R>) -> Option<usize> {
    archive
        .file_names()
        .filter(|name| {
            let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
            base.eq_ignore_ascii_case("conversations.json") && !name.starts_with("__MACOSX")
        })
        .min_by_key(|name| (name.matches('/').count(), name.len(), name.to_string()))
        .and_then(|name| archive.index_for_name(name))
}

/// A reader that reports its position after every read or seek, so a caller can draw a
/// progress bar over a file being imported: `callback(bytes_so_far)`.
pub struct ProgressReader<R, F> {
    inner: R,
    position: u64,
    callback: F,
}

impl<R, F: FnMut(u64)> ProgressReader<R, F> {
    pub fn new(inner: R, callback: F) -> Self {
        ProgressReader {
            inner,
            position: 0,
            callback,
        }
    }

    /// Bytes read so far (for a seekable reader: the current position).
    pub fn position(&self) -> u64 {
        self.position
    }

    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: Read, F: FnMut(u64)> Read for ProgressReader<R, F> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.position += n as u64;
        (self.callback)(self.position);
        Ok(n)
    }
}

impl<R: Seek, F: FnMut(u64)> Seek for ProgressReader<R, F> {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        self.position = self.inner.seek(to)?;
        (self.callback)(self.position);
        Ok(self.position)
    }
}
