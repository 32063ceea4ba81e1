//! Writing dreams out: one Markdown file per conversation with YAML front matter, the
//! library as JSON (re-importable without loss), or a zip holding both.
//!
//! Shared by the CLI (`dreamcatcher export`) and the extension's export buttons, so a file
//! exported from either reads the same.

mod library_json;
mod markdown;
mod zip_archive;

pub use library_json::{LIBRARY_FORMAT, LIBRARY_VERSION, LibraryJsonError, parse_library_json, write_library_json};
pub use markdown::{conversation_markdown, dream_markdown, file_stem};
pub use zip_archive::{ZipExportError, write_zip};
