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
}
