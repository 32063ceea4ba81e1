//! Reading one input file as a stream of conversations, with bounded memory: exports are
//! read one entry at a time; a single page or conversation is read whole, up to a limit.

use std::fs::File;
use std::io::{BufReader, Read};
use std::ops::ControlFlow;
use std::path::Path;

use dreamcatcher_capture::{ExportItem, ParseOptions, ProgressReader, stream_export, stream_zip};
use dreamcatcher_model::{Conversation, Site};
use indicatif::{ProgressBar, ProgressStyle};

use crate::failure::Failure;

/// A single page or conversation is parsed in memory; anything larger than this is not one.
const SINGLE_DOCUMENT_LIMIT: u64 = 64 * 1024 * 1024;
/// Inputs from this size on get a progress bar (on a terminal).
const PROGRESS_FROM_BYTES: u64 = 8 * 1024 * 1024;

/// What reading a file gave besides the conversations handed to the callback.
pub struct ReadSummary {
    pub conversations: usize,
    pub skipped: usize,
}

/// Calls `on_conversation` with each conversation in `path`, in order. Export entries that
/// cannot be read are reported on stderr and skipped; an error in the file as a whole, or a
/// file in which no entry could be read, is a [`Failure`] naming the file.
pub fn read_conversations(
    path: &Path,
    site: Option<Site>,
    mut on_conversation: impl FnMut(Conversation) -> Result<(), Failure>,
) -> Result<ReadSummary, Failure> {
    let file = File::open(path).map_err(|error| Failure::at(path, format!("cannot open: {error}")))?;
    let metadata = file.metadata().map_err(|error| Failure::at(path, error))?;
    if metadata.is_dir() {
        return Err(Failure::at(path, "is a folder, not a file"));
    }
    let size = metadata.len();
    let first = first_significant_byte(path)?;
    if size > SINGLE_DOCUMENT_LIMIT && matches!(first, Some(b'{' | b'<')) {
        return Err(Failure::at(
            path,
            format!(
                "a single page or conversation of {} MB is larger than the {} MB limit (an export would be a JSON array or a .zip)",
                size / (1024 * 1024),
                SINGLE_DOCUMENT_LIMIT / (1024 * 1024)
            ),
        ));
    }

    let progress = progress_bar(size);
    let tracker = progress.clone();
    let reader = ProgressReader::new(file, move |position| tracker.set_position(position));
    let options = ParseOptions { site, url: None };
    let mut summary = ReadSummary { conversations: 0, skipped: 0 };
    let mut callback_failure = None;
    let on_item = |item: ExportItem| match item {
        ExportItem::Conversation(conversation) => match on_conversation(conversation) {
            Ok(()) => {
                summary.conversations += 1;
                ControlFlow::Continue(())
            }
            Err(failure) => {
                callback_failure = Some(failure);
                ControlFlow::Break(())
            }
        },
        ExportItem::Skipped(entry) => {
            summary.skipped += 1;
            progress.suspend(|| eprintln!("dreamcatcher: {}: warning: {entry}", path.display()));
            ControlFlow::Continue(())
        }
    };
    let result = if first == Some(b'P') && is_zip(path)? {
        stream_zip(reader, &options, on_item)
    } else {
        stream_export(BufReader::new(reader), &options, on_item)
    };
    progress.finish_and_clear();
    if let Some(failure) = callback_failure {
        return Err(failure);
    }
    result.map_err(|error| Failure::at(path, error))?;
    if summary.conversations == 0 && summary.skipped > 0 {
        return Err(Failure::at(path, format!("none of its {} entries could be read", summary.skipped)));
    }
    Ok(summary)
}

fn first_significant_byte(path: &Path) -> Result<Option<u8>, Failure> {
    let mut head = [0u8; 512];
    let mut file = File::open(path).map_err(|error| Failure::at(path, error))?;
    let n = file.read(&mut head).map_err(|error| Failure::at(path, error))?;
    let head = head[..n].strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&head[..n]);
    Ok(head.iter().copied().find(|b| !b.is_ascii_whitespace()))
}

fn is_zip(path: &Path) -> Result<bool, Failure> {
    let mut magic = [0u8; 4];
    let mut file = File::open(path).map_err(|error| Failure::at(path, error))?;
    let n = file.read(&mut magic).map_err(|error| Failure::at(path, error))?;
    Ok(n == 4 && (magic == *b"PK\x03\x04" || magic == *b"PK\x05\x06"))
}

fn progress_bar(size: u64) -> ProgressBar {
    if size < PROGRESS_FROM_BYTES {
        return ProgressBar::hidden();
    }
    // indicatif draws nothing when stderr is not a terminal, so pipes and CI stay clean.
    let bar = ProgressBar::new(size);
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} ({eta})") {
        bar.set_style(style);
    }
    bar
}
