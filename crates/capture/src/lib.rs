//! Capture: every source a user has (a chat page's HTML, the sites' conversation JSON, the
//! official exports) becomes [`Conversation`]s of the one model.

pub mod error;
pub mod html;
pub mod json;
pub mod page;

pub use error::CaptureError;

use dreamcatcher_model::Conversation;

/// Fills in what every route derives the same way: each message's fragments (keeping
/// artifact code blocks the route added itself) and the stable conversation id.
pub fn finish_conversation(mut conversation: Conversation) -> Conversation {
    for message in &mut conversation.messages {
        let mut fragments = dreamcatcher_fragments::extract(&message.markdown);
        let artifacts = std::mem::take(&mut message.fragments.code_blocks);
        fragments.code_blocks.extend(artifacts);
        message.fragments = fragments;
    }
    conversation.assign_id();
    conversation
}
