//! The seam between the pages and the outside world: the service worker (which owns the
//! library) and the few browser services the pages use. Components only ever talk to a
//! [`Backend`]; the extension plugs in [`crate::worker::WorkerBackend`], tests and the
//! screenshot harness an in-memory one.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use dreamcatcher_library::api::{
    ApiError, ConnectionTest, DreamFilter, DreamPage, ExportFormat, ExportScope, ExportedFile, Facets, Implementation,
    ImportProgress, ImportSummary, SearchHit, Settings, Stats, SyncOverview,
};
use dreamcatcher_model::Dream;
use leptos::prelude::*;
use thiserror::Error;

/// A future the single-threaded pages await; not `Send`, as nothing in a page is.
pub type LocalFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

pub type BackendResult<'a, T> = LocalFuture<'a, Result<T, BackendError>>;

#[derive(Debug, Clone, PartialEq, Error)]
pub enum BackendError {
    /// The worker answered with an error: its message is meant for the user.
    #[error("{0}")]
    Api(ApiError),
    /// The message never arrived or no answer came back (worker not running, extension
    /// reloaded, page opened outside the extension).
    #[error("The extension's background worker did not answer ({0}). Reopen the popup or reload the extension.")]
    Unreachable(String),
    /// The worker answered something this page cannot read: versions out of step.
    #[error("The background worker answered \"{got}\" to \"{request}\": reload the extension.")]
    UnexpectedAnswer { request: &'static str, got: String },
    /// A browser service failed (clipboard, downloads, tabs).
    #[error("{0}")]
    Browser(String),
}

/// What was deleted, and how to take it back (the worker's `deleted` answer).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Deleted {
    pub id: String,
    pub title: String,
    pub undo_token: String,
}

/// One page of ranked search results (the worker's `search_results` answer).
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
pub struct SearchPage {
    pub hits: Vec<SearchHit>,
    /// Dreams matching over all pages.
    #[serde(default)]
    pub total: u32,
    #[serde(default)]
    pub offset: u32,
    /// More dreams match than the ranking holds (`total` is its size).
    #[serde(default)]
    pub total_capped: bool,
}

/// A dream with where "Send to PipelineOS" stands for it (the worker's `dream` answer).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct DreamRecord {
    pub dream: Dream,
    /// Set once the dream was sent to PipelineOS.
    #[serde(default)]
    pub implementation: Option<Implementation>,
}

/// What "delete everything" removed (the worker's `all_deleted` answer).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
pub struct AllDeleted {
    pub dreams: u32,
    pub fragments: u32,
}

/// A keyboard shortcut of the extension as the browser has it set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shortcut {
    pub description: String,
    /// Empty when the user has not set one (or removed it).
    pub keys: String,
}

/// Called with every progress report while an import runs.
pub type ProgressSink = Rc<dyn Fn(ImportProgress)>;

/// Everything the pages ask of the outside world.
pub trait Backend {
    /// Newest first, filtered: one page of the browse list.
    fn list_dreams(&self, offset: u32, limit: u32, filter: DreamFilter) -> BackendResult<'_, DreamPage>;
    /// One page of the ranked results for what the user typed, with highlight ranges.
    fn search(&self, query: String, offset: u32, limit: u32, filter: DreamFilter) -> BackendResult<'_, SearchPage>;
    /// The full dream and its implementation status.
    fn dream(&self, id: String) -> BackendResult<'_, DreamRecord>;
    fn facets(&self) -> BackendResult<'_, Facets>;
    fn stats(&self) -> BackendResult<'_, Stats>;
    /// Dreams related to the conversation in the active tab (empty when it is not a chat).
    fn related_to_active_tab(&self) -> BackendResult<'_, Vec<SearchHit>>;
    fn set_tags(&self, id: String, tags: Vec<String>) -> BackendResult<'_, Dream>;
    fn set_notes(&self, id: String, notes: String) -> BackendResult<'_, Dream>;
    fn mark_opened(&self, id: String) -> BackendResult<'_, ()>;
    fn record_usage(&self, id: String) -> BackendResult<'_, ()>;
    fn delete(&self, id: String) -> BackendResult<'_, Deleted>;
    fn undo_delete(&self, undo_token: String) -> BackendResult<'_, ()>;
    fn delete_all(&self) -> BackendResult<'_, AllDeleted>;
    fn export(&self, scope: ExportScope, format: ExportFormat) -> BackendResult<'_, ExportedFile>;
    /// Imports a file the user picked, reporting progress until the summary.
    fn import(&self, file_name: String, bytes: Vec<u8>, progress: ProgressSink) -> BackendResult<'_, ImportSummary>;
    fn settings(&self) -> BackendResult<'_, Settings>;
    fn save_settings(&self, settings: Settings) -> BackendResult<'_, Settings>;
    /// Where sync with PipelineOS stands (standalone: mode standalone, state `offline`).
    fn sync_status(&self) -> BackendResult<'_, SyncOverview>;
    /// Exchanges a pairing code for this browser's token and switches to connected mode.
    /// A form problem comes back as an error whose message starts with the field's name
    /// (`pairing_code: …`, `server_url: …`).
    fn pair(&self, server_url: String, code: String, device_name: String) -> BackendResult<'_, SyncOverview>;
    /// Back to standalone mode; the library and the unsent changes stay.
    fn unpair(&self) -> BackendResult<'_, SyncOverview>;
    /// Checks the server (`server_url`, else the paired one) and, when paired, the token.
    fn test_connection(&self, server_url: Option<String>) -> BackendResult<'_, ConnectionTest>;
    /// Connects now instead of waiting for the next retry.
    fn sync_now(&self) -> BackendResult<'_, SyncOverview>;
    /// Asks PipelineOS to implement the dream; answers the dream with its new status.
    fn send_to_pipeline(&self, id: String) -> BackendResult<'_, DreamRecord>;
    fn shortcuts(&self) -> BackendResult<'_, Vec<Shortcut>>;
    /// Opens a URL (already checked to be http(s)) in a new tab.
    fn open_tab(&self, url: String) -> BackendResult<'_, ()>;
    fn open_settings(&self) -> BackendResult<'_, ()>;
}

/// The backend as the components reach it: a copyable handle in the reactive context
/// (the backend itself is not `Send`, so it lives in local storage).
#[derive(Clone, Copy)]
pub struct BackendHandle(StoredValue<Rc<dyn Backend>, LocalStorage>);

impl BackendHandle {
    pub fn new(backend: Rc<dyn Backend>) -> Self {
        BackendHandle(StoredValue::new_local(backend))
    }

    pub fn get(&self) -> Rc<dyn Backend> {
        self.0.get_value()
    }

    /// The handle provided by the page's root component.
    pub fn from_context() -> Self {
        expect_context::<BackendHandle>()
    }
}
