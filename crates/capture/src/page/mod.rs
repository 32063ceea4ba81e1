//! Chat pages, one module per site generation.

use thiserror::Error;

/// Why a page could not be captured.
#[derive(Debug, Error)]
pub enum PageError {
    #[error("no supported chat layout found")]
    LayoutNotRecognised,
}
