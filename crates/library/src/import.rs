//! Reading an imported file: Dreamcatcher's own export (JSON or zip) or the sites' official
//! exports, into items the library stores one batch at a time.

use std::io::{Cursor, Read};

use dreamcatcher_model::{Conversation, Dream};

use crate::api::SkippedItem;

/// The file Dreamcatcher's zip export keeps its lossless JSON in.
const LIBRARY_FILE_IN_ZIP: &str = "dreamcatcher.json";

/// One thing to store from an imported file.
#[derive(Debug, Clone)]
pub enum ImportItem {
    /// From Dreamcatcher's export: stored as it was, with the user's tags and notes.
    Dream(Box<Dream>),
    /// From a site's export: stored like a capture (keeps the library's tags and notes).
    Conversation(Box<Conversation>),
}

/// What a file held, and what of it could not be read.
#[derive(Debug, Default)]
pub struct ParsedImport {
    pub items: Vec<ImportItem>,
    pub skipped: Vec<SkippedItem>,
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

/// Reads an imported file, deciding by its content: Dreamcatcher's own export (JSON, or the
/// zip holding it) is read losslessly; anything else goes to the capture crate (official
/// exports as JSON or zip, one conversation's JSON, a saved page).
pub fn parse_import(file_name: &str, bytes: &[u8]) -> Result<ParsedImport, ImportError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ImportError::Empty {
            file: file_name.to_string(),
        });
    }
    if let Some(library) = library_json(file_name, bytes)? {
        let dreams = dreamcatcher_export::parse_library_json(&library).map_err(|e| {
            ImportError::Unreadable {
                file: file_name.to_string(),
                detail: e.to_string(),
            }
        })?;
        let items = dreams
            .into_iter()
            .map(|d| ImportItem::Dream(Box::new(d)))
            .collect();
        return Ok(ParsedImport {
            items,
            skipped: Vec::new(),
        });
    }
    let parsed = dreamcatcher_capture::input::parse_input(
        bytes,
        &dreamcatcher_capture::input::ParseOptions::default(),
    )
    .map_err(|e| ImportError::Unreadable {
        file: file_name.to_string(),
        detail: e.to_string(),
    })?;
    Ok(ParsedImport {
        items: parsed
            .conversations
            .into_iter()
            .map(|c| ImportItem::Conversation(Box::new(c)))
            .collect(),
        skipped: parsed
            .skipped
            .into_iter()
            .map(|entry| SkippedItem {
                item: entry
                    .title
                    .clone()
                    .unwrap_or_else(|| format!("entry {}", entry.index + 1)),
                reason: entry.reason.to_string(),
            })
            .collect(),
    })
}

/// The text of Dreamcatcher's library JSON when the file is one (or a zip holding one).
fn library_json(file_name: &str, bytes: &[u8]) -> Result<Option<String>, ImportError> {
    if bytes.starts_with(b"PK") {
        let zip_error = |e: zip::result::ZipError| ImportError::Zip {
            file: file_name.to_string(),
            detail: e.to_string(),
        };
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(zip_error)?;
        let Some(name) = archive
            .file_names()
            .find(|n| n.rsplit('/').next() == Some(LIBRARY_FILE_IN_ZIP))
            .map(str::to_string)
        else {
            return Ok(None);
        };
        let mut text = String::new();
        archive
            .by_name(&name)
            .map_err(zip_error)?
            .read_to_string(&mut text)
            .map_err(|e| ImportError::Zip {
                file: file_name.to_string(),
                detail: format!("{name}: {e}"),
            })?;
        return Ok(Some(text));
    }
    // Only the start is probed: the library format names itself in its first key.
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(256)]);
    let compact: String = head.chars().filter(|c| !c.is_whitespace()).collect();
    let marker = format!("{{\"format\":\"{}\"", dreamcatcher_export::LIBRARY_FORMAT);
    if !compact.trim_start_matches('\u{feff}').starts_with(&marker) {
        return Ok(None);
    }
    String::from_utf8(bytes.to_vec())
        .map(Some)
        .map_err(|e| ImportError::Unreadable {
            file: file_name.to_string(),
            detail: format!("not UTF-8 text ({e})"),
        })
}
