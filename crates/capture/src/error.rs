use thiserror::Error;

/// Why a capture failed. Each says what was looked for or what was wrong, and where.
#[derive(Debug, Error)]
pub enum CaptureError {
    #[error("input is empty")]
    Empty,
}
