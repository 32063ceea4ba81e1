use thiserror::Error;

pub use crate::json::JsonError;
pub use crate::page::PageError;

/// Why a capture failed. Each variant says what was looked for or what was wrong, and where.
#[derive(Debug, Error)]
pub enum CaptureError {
    #[error("input is empty")]
    Empty,
    #[error(transparent)]
    Page(#[from] PageError),
    #[error(transparent)]
    Json(#[from] JsonError),
    #[error(
        "binary data at byte {offset} ({detail}): not a chat page, conversation JSON or export"
    )]
    Binary { offset: usize, detail: String },
    #[error(
        "unrecognised input: {found}; expected a chat page (HTML), conversation JSON, an export's \
         conversations.json or its zip"
    )]
    UnknownFormat { found: String },
    #[error("the zip archive has no conversations.json; it holds {count} entries: {names}")]
    ZipWithoutConversations { count: usize, names: String },
    #[error("the zip archive could not be read: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error("every one of the {skipped} export entries was unreadable; the first: {first}")]
    AllEntriesSkipped {
        skipped: usize,
        first: Box<crate::json::SkippedEntry>,
    },
    #[error("reading the input failed: {0}")]
    Io(#[from] std::io::Error),
}
