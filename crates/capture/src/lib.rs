//! Capture: every source a user has (a chat page's HTML, the sites' conversation JSON, the
//! official exports) becomes [`Conversation`]s of the one model.

pub mod error;
pub mod html;
pub mod input;
pub mod json;
pub mod page;

pub use error::CaptureError;
pub use input::{
    ExportSummary, InputFormat, ParseOptions, ParsedInput, ProgressReader, detect_format,
    parse_bytes, parse_input, stream_export, stream_zip,
};
pub use json::{ExportItem, SkippedEntry};

use dreamcatcher_model::Conversation;

/// Fills in what every route derives the same way: each message's fragments (keeping
/// artifact code blocks the route added itself) and the stable conversation id.
pub fn finish_conversation(mut conversation: Conversation) -> Conversation {
    for message in &mut conversation.messages {
        let mut fragments = dreamcatcher_fragments::extract(&message.markdown);
        // Artifacts go through the same TODO and hint scan as fenced blocks.
        for artifact in std::mem::take(&mut message.fragments.code_blocks) {
            dreamcatcher_fragments::push_code_block(&mut fragments, artifact);
        }
        message.fragments = fragments;
    }
    conversation.assign_id();
    conversation
}
