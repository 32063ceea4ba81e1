//! The user's library: dreams and fragments in a [`DreamStore`], kept searchable, exported
//! and imported, and the request/response [`api`] the extension's service worker answers
//! (dispatched by [`Library::handle`], so the whole API is tested natively).
//!
//! Pure: no browser types, no clock (every change takes `now`), compiles to wasm.

pub mod anchors;
pub mod api;
mod dispatch;
pub mod import;
pub mod index;
mod library;
pub mod policy;
pub mod settings;
pub mod store;
pub mod summary;

pub use library::{CaptureSummary, Captured, Library, SearchPage, SyncLink, op_id_for};
pub use store::{DreamStore, MemoryStore, SCHEMA_VERSION, StoreError};
