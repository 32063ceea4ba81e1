//! Conversation JSON: the sites' web APIs and official exports.

use thiserror::Error;

/// Why conversation JSON could not be read.
#[derive(Debug, Error)]
pub enum JsonError {
    #[error("not valid JSON")]
    Syntax,
}
