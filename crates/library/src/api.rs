//! The messages the service worker answers: from the content script (plain JS objects) and
//! from the popup and settings pages (Rust, serialised with serde).
//!
//! # Wire format
//!
//! Every request is one JSON object tagged by `type` (snake_case variant name), sent with
//! `chrome.runtime.sendMessage`. Every reply is one [`Response`], also tagged by `type`; a
//! failure is `{"type": "error", "code": "rate_limited", "message": "…", "retry_after_secs": 60}`.
//!
//! ```json
//! {"type": "list_dreams", "offset": 0, "limit": 50, "filter": {"site": "claude"}}
//! {"type": "dream_page", "total": 1234, "offset": 0, "items": [{"id": "dc-…", …}]}
//! ```
//!
//! Timestamps are RFC 3339 strings. Fields marked `#[serde(default)]` may be left out.
//! This module only grows: variants and defaulted fields are added, never renamed or removed.

use serde::{Deserialize, Serialize};

use dreamcatcher_model::{CodeBlock, Dream, Site, Timestamp};

/// Bumped only if a breaking change ever becomes unavoidable.
pub const API_VERSION: u32 = 1;

/// Everything the service worker can be asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Request {
    // ----- content script -----
    /// What the content script needs to work on a page: the site, the conversation's id on
    /// the site, and the selectors of every known page layout (the layout table lives in
    /// Rust). Answered by [`Response::PageAnchors`], or an error `not_a_conversation` when the
    /// URL is not a conversation page of a supported site.
    PageAnchors { url: String },
    /// Capture a whole conversation. The content script first tries the site's JSON and sends
    /// what it got as `site_json`; the worker answers [`Response::Captured`], an error
    /// (`not_logged_in`, `rate_limited`, …), or [`Response::NeedPage`] when the page has to be
    /// read instead, after which the content script sends the same request again with `page`
    /// filled in (and `site_json` kept, so the report can say why the page was used).
    Capture {
        url: String,
        #[serde(default)]
        trigger: CaptureTrigger,
        #[serde(default)]
        site_json: Option<FetchOutcome>,
        #[serde(default)]
        page: Option<PageSnapshot>,
    },
    /// Capture one assistant answer (with the prompt before it) as its own dream. `html` is
    /// the page with only that exchange's turns left in the thread; `answer_key` is the
    /// answer's id on the page (message id, turn key or row index).
    CaptureAnswer {
        url: String,
        html: String,
        answer_key: String,
    },
    /// Save selected text as a fragment (the context-menu entry). Normally raised by the
    /// worker itself; content scripts may send it too.
    CaptureSelection {
        url: String,
        #[serde(default)]
        page_title: String,
        text: String,
    },

    // ----- popup: reading -----
    /// Newest first (by `updated_at`), filtered. Answered by [`Response::DreamPage`].
    ListDreams {
        #[serde(default)]
        offset: u32,
        #[serde(default = "default_page_size")]
        limit: u32,
        #[serde(default)]
        filter: DreamFilter,
    },
    /// The full dream (conversation, tags, notes). Answered by [`Response::Dream`].
    GetDream { id: String },
    /// Ranked dreams with highlight ranges, one page of them: `offset` counts dreams of the
    /// ranking. Answered by [`Response::SearchResults`].
    Search {
        query: String,
        #[serde(default)]
        offset: u32,
        #[serde(default = "default_page_size")]
        limit: u32,
        #[serde(default)]
        filter: DreamFilter,
    },
    /// Completions of the word being typed. Answered by [`Response::Suggestions`].
    Suggest {
        prefix: String,
        #[serde(default = "default_suggest_limit")]
        limit: u32,
    },
    /// Dreams related to the conversation open at `url` (the popup's "Related to this page").
    /// Defaults follow the seed: `min_score` 0.6, `limit` 10. Answered by [`Response::Related`].
    Related {
        url: String,
        #[serde(default)]
        min_score: Option<f32>,
        #[serde(default)]
        limit: Option<u32>,
    },
    /// One fragment with every place it was captured from. Answered by [`Response::Fragment`].
    GetFragment { content_key: String },
    /// Fragments, most recently seen first. Answered by [`Response::FragmentPage`].
    ListFragments {
        #[serde(default)]
        offset: u32,
        #[serde(default = "default_page_size")]
        limit: u32,
        #[serde(default)]
        language: Option<String>,
    },
    /// Values present in the library, for the filter menus. Answered by [`Response::Facets`].
    Facets,
    /// Counts and storage used. Answered by [`Response::Stats`].
    Stats,

    // ----- popup: changing -----
    /// Replaces the dream's tags (trimmed, deduplicated). Answered by [`Response::Dream`].
    SetTags { id: String, tags: Vec<String> },
    /// Replaces the dream's notes. Answered by [`Response::Dream`].
    SetNotes { id: String, notes: String },
    /// The user opened the dream: it no longer counts on the badge. Answered by
    /// [`Response::Done`].
    MarkOpened { id: String },
    /// The user copied something from the dream (the scorer's usage signal). Answered by
    /// [`Response::Done`].
    RecordUsage { id: String },
    /// Moves the dream to the trash. Answered by [`Response::Deleted`] with the token for
    /// [`Request::UndoDelete`].
    DeleteDream { id: String },
    /// Puts a deleted dream back. Answered by [`Response::Restored`].
    UndoDelete { undo_token: String },
    /// Deletes every dream, fragment and trash entry (settings keep). `confirm` must be true.
    /// Answered by [`Response::AllDeleted`].
    DeleteAll { confirm: bool },

    // ----- export / import -----
    /// Answered by [`Response::Exported`].
    Export {
        scope: ExportScope,
        format: ExportFormat,
    },
    /// Starts an import of a file the user picked (Dreamcatcher JSON, an official ChatGPT or
    /// Claude `conversations.json`, or the export .zip). The bytes follow in
    /// [`Request::ImportChunk`]s (base64, at most a few MB each). Answered by
    /// [`Response::ImportStarted`].
    ImportBegin { file_name: String, total_bytes: u64 },
    /// Appends bytes; with `last: true` the import runs. Answered by
    /// [`Response::ImportProgress`].
    ImportChunk {
        import_id: String,
        data_base64: String,
        #[serde(default)]
        last: bool,
    },
    /// Poll while an import runs (every ~200 ms is fine). Answered by
    /// [`Response::ImportProgress`]; `summary` is set once it is finished.
    ImportStatus { import_id: String },

    // ----- settings -----
    /// Answered by [`Response::Settings`].
    GetSettings,
    /// Validated, then stored. Answered by [`Response::Settings`] or an `invalid_request`
    /// error naming the field.
    SaveSettings { settings: Settings },

    // ----- connected mode (answered by the worker, which does the network part) -----
    /// Where sync stands. Answered by [`Response::SyncOverview`].
    SyncStatus,
    /// Exchanges a pairing code (from `dreamcatcher-server pair NAME`) for this browser's
    /// device token, switches to connected mode and queues every dream for upload. Answered
    /// by [`Response::SyncOverview`], or an error saying which step failed.
    Pair {
        server_url: String,
        pairing_code: String,
        #[serde(default)]
        device_name: String,
    },
    /// Back to standalone mode: the token is forgotten, the library and the unsent changes
    /// stay (they are sent after pairing again). Answered by [`Response::SyncOverview`].
    Unpair,
    /// Checks the server (`server_url`, else the paired one) and, when paired, the token.
    /// Answered by [`Response::ConnectionTest`].
    TestConnection {
        #[serde(default)]
        server_url: Option<String>,
    },
    /// Connect now instead of waiting for the next retry. Answered by
    /// [`Response::SyncOverview`].
    SyncNow,
    /// "Send to PipelineOS": asks the service to implement the dream. Answered by
    /// [`Response::Dream`] with its `implementation` state; later changes arrive as server
    /// events and show in the same field.
    SendToPipeline { id: String },
}

fn default_page_size() -> u32 {
    50
}

fn default_suggest_limit() -> u32 {
    8
}

/// What made a capture happen (shown in nothing but kept for the report and the tests).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaptureTrigger {
    #[default]
    Button,
    Shortcut,
    ContextMenu,
}

/// What the content script got from the site's conversation JSON route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchOutcome {
    /// The step that produced this outcome: `session` (ChatGPT's access token),
    /// `organizations` (Claude's org id) or `conversation`.
    pub step: String,
    /// HTTP status; 0 when the request did not complete (network error, CORS, timeout).
    #[serde(default)]
    pub status: u16,
    /// The raw `Retry-After` header, when present.
    #[serde(default)]
    pub retry_after: Option<String>,
    /// The response body (the conversation JSON on success).
    #[serde(default)]
    pub body: Option<String>,
    /// What went wrong in the content script (e.g. "no accessToken in session").
    #[serde(default)]
    pub error: Option<String>,
}

/// The page as the content script collected it after scrolling through the whole thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageSnapshot {
    /// The document's HTML with the thread container holding every collected turn, in order.
    pub html: String,
    /// Name of the layout the content script matched (from [`LayoutAnchors::name`]).
    #[serde(default)]
    pub layout: Option<String>,
    /// How many distinct turns were collected while scrolling.
    #[serde(default)]
    pub turns_collected: u32,
    /// The scroll reached the top of the thread (false: older turns may be missing).
    #[serde(default)]
    pub reached_top: bool,
}

/// Selectors for one page generation of one site: data, so a site update is a new entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayoutAnchors {
    /// e.g. `chatgpt-2026-09`.
    pub name: String,
    /// Present on the page when this layout is in use.
    pub detect: String,
    /// One turn of the thread (a user prompt, an answer, or both), the unit the virtual list
    /// mounts and evicts. `None` when messages sit directly in the thread (then each message
    /// is a unit).
    #[serde(default)]
    pub turn: Option<String>,
    /// Attributes of a turn that identify it across re-renders, tried in order.
    pub turn_key_attributes: Vec<String>,
    /// An assistant answer (where "capture this answer" goes).
    pub assistant_message: String,
    /// A user prompt.
    pub user_message: String,
    /// Matches an answer still being written.
    pub streaming: String,
    /// The element that scrolls the thread; when absent, the nearest scrollable ancestor
    /// of the turns.
    #[serde(default)]
    pub scroller: Option<String>,
    /// Turns inside these elements are never the conversation (sidebars, history decoys).
    #[serde(default)]
    pub ignore_inside: Option<String>,
    /// The scroller uses `flex-direction: column-reverse` (scrollTop is 0 at the bottom and
    /// negative towards the top).
    #[serde(default)]
    pub reversed_scroll: bool,
}

/// Answer to [`Request::PageAnchors`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageAnchors {
    pub site: Site,
    /// The conversation's id on the site, from the URL.
    pub conversation_site_id: String,
    /// Known layouts, newest first: the content script uses the first whose `detect` matches.
    pub layouts: Vec<LayoutAnchors>,
    /// Settings that change what the content script shows.
    pub show_page_button: bool,
    pub show_answer_buttons: bool,
}

/// Filters for lists and search; every field narrows, absent fields don't.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DreamFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<Site>,
    /// A normalised code-block language (`python`, `rust`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// Updated at or after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<Timestamp>,
    /// Updated before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<Timestamp>,
    /// Only dreams not opened yet.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unopened_only: bool,
}

/// Which route a stored conversation came through (for the report and the list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CaptureRoute {
    /// The site's own conversation JSON.
    SiteData,
    /// Read off the page; `layout` is the page generation recognised.
    Page { layout: String },
    /// An official data export.
    Export,
    /// A text selection or a Dreamcatcher import.
    Other,
}

impl CaptureRoute {
    /// The words shown in the page after "Captured: …".
    pub fn describe(&self) -> &'static str {
        match self {
            CaptureRoute::SiteData => "from the site's data",
            CaptureRoute::Page { .. } => "from the page",
            CaptureRoute::Export => "from an export",
            CaptureRoute::Other => "saved",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaptureOutcome {
    Added,
    Updated,
    /// Captured again with nothing changed.
    Unchanged,
}

/// Answer to a capture: what was stored, already written to storage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaptureReport {
    pub dream_id: String,
    pub title: String,
    pub outcome: CaptureOutcome,
    pub messages: u32,
    pub code_blocks: u32,
    pub route: CaptureRoute,
    /// Why the site's data was not used, when the page was read instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback_reason: Option<String>,
    /// The line to show: "Captured: 42 messages, 7 code blocks (from the site's data)".
    pub summary: String,
}

/// A row of the dream list (what the list shows without loading the conversation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DreamSummary {
    pub id: String,
    pub site: Site,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    pub captured_at: Timestamp,
    pub updated_at: Timestamp,
    pub message_count: u32,
    pub code_block_count: u32,
    /// Distinct code-block languages, most frequent first.
    #[serde(default)]
    pub languages: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    pub opened: bool,
    #[serde(default)]
    pub usage_count: u32,
    /// The first prompt, cut to about 200 characters.
    #[serde(default)]
    pub preview: String,
    pub route: CaptureRoute,
}

/// Answer to [`Request::ListDreams`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DreamPage {
    /// Dreams matching the filter (all pages).
    pub total: u32,
    pub offset: u32,
    pub items: Vec<DreamSummary>,
}

/// A byte range of a text shown in a result ([`SearchHit::snippet`] or the dream's title)
/// that matched the query: on character boundaries, sorted, not overlapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Highlight {
    pub start: u32,
    pub end: u32,
}

/// One ranked result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    pub dream: DreamSummary,
    pub score: f32,
    /// The message the best match is in, when the match is in a message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_index: Option<u32>,
    /// The matching code block's content key, when the match is in code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_key: Option<String>,
    /// Text around the match (plain text, never markup).
    pub snippet: String,
    /// Matches in `snippet`.
    pub highlights: Vec<Highlight>,
    /// Matches in `dream.title`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub title_highlights: Vec<Highlight>,
}

/// Where one fragment was captured from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FragmentSource {
    pub dream_id: String,
    pub message_index: u32,
    /// Index among that message's code blocks.
    #[serde(default)]
    pub block_index: u32,
}

/// A code block kept once however often it was captured, with every source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FragmentRecord {
    pub content_key: String,
    pub code_block: CodeBlock,
    pub sources: Vec<FragmentSource>,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
}

/// Answer to [`Request::ListFragments`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FragmentPage {
    pub total: u32,
    pub offset: u32,
    pub items: Vec<FragmentRecord>,
}

/// A value and how many dreams have it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacetCount {
    pub value: String,
    pub count: u32,
}

/// Answer to [`Request::Facets`]: lists are most frequent first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Facets {
    pub sites: Vec<FacetCount>,
    pub languages: Vec<FacetCount>,
    pub tags: Vec<FacetCount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oldest: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub newest: Option<Timestamp>,
}

/// Answer to [`Request::Stats`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    pub dreams: u32,
    pub fragments: u32,
    pub unopened: u32,
    pub in_trash: u32,
    /// `navigator.storage.estimate()` of the extension's origin, when available.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_used_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_quota_bytes: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ExportScope {
    All,
    Dream { id: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    /// Dreamcatcher's own JSON: lossless, and what import reads back.
    Json,
    /// Markdown with YAML front matter (one file; for `All`, a zip of one file per dream).
    Markdown,
    /// A zip holding the JSON and the Markdown of every dream.
    Zip,
}

/// Answer to [`Request::Export`]: a file for the popup to offer as a download.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedFile {
    pub file_name: String,
    pub mime_type: String,
    /// Text formats arrive as text, binary ones (zip) as base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base64: Option<String>,
}

/// Why an imported conversation was not stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedItem {
    /// Title or position in the file.
    pub item: String,
    pub reason: String,
}

/// Result of an import.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportSummary {
    pub added: u32,
    pub updated: u32,
    /// Already in the library exactly as imported (a re-import adds no duplicates).
    pub unchanged: u32,
    pub skipped: Vec<SkippedItem>,
}

/// Answer to [`Request::ImportChunk`] and [`Request::ImportStatus`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportProgress {
    pub import_id: String,
    pub bytes_received: u64,
    pub total_bytes: u64,
    /// Conversations processed so far, and in the file (0 until it has been read).
    pub conversations_done: u32,
    pub conversations_total: u32,
    /// Set once the import has finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<ImportSummary>,
    /// Set when the import stopped before the end (what was stored until then stays).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ApiError>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    #[default]
    Standalone,
    /// Synced with a PipelineOS server (a later issue).
    Connected,
}

/// The user's settings, kept by the worker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    #[serde(default)]
    pub mode: Mode,
    /// Required in connected mode: `https://…`, or `http://` for localhost only.
    #[serde(default)]
    pub server_url: Option<String>,
    /// Sites the content script is active on.
    #[serde(default = "all_sites")]
    pub capture_sites: Vec<Site>,
    #[serde(default = "yes")]
    pub show_page_button: bool,
    #[serde(default = "yes")]
    pub show_answer_buttons: bool,
}

fn all_sites() -> Vec<Site> {
    vec![Site::Chatgpt, Site::Claude]
}

fn yes() -> bool {
    true
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            mode: Mode::Standalone,
            server_url: None,
            capture_sites: all_sites(),
            show_page_button: true,
            show_answer_buttons: true,
        }
    }
}

/// Where "Send to PipelineOS" stands for one dream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImplementationState {
    /// Sent; PipelineOS has not created the project yet.
    Requested,
    /// PipelineOS made a project of it and is working on it.
    InProgress,
    Completed,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Implementation {
    pub state: ImplementationState,
    pub updated_at: Timestamp,
    /// PipelineOS's project object, as the service sent it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<serde_json::Value>,
    /// PipelineOS's result object, once finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<serde_json::Value>,
}

/// A sync failure as the UI shows it (the integration spec's §8.4 texts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureReport {
    pub kind: dreamcatcher_sync::FailureKind,
    pub title: String,
    pub message: String,
    /// Button labels, most useful first.
    pub actions: Vec<String>,
    /// What exactly happened (status code, address), for the curious and for support.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

impl FailureReport {
    pub fn new(kind: dreamcatcher_sync::FailureKind, detail: impl Into<String>) -> Self {
        FailureReport {
            kind,
            title: kind.title().to_string(),
            message: kind.user_message().to_string(),
            actions: kind
                .suggested_actions()
                .iter()
                .map(|action| action.label().to_string())
                .collect(),
            detail: detail.into(),
        }
    }
}

/// Everything the popup and settings show about connected mode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncOverview {
    pub mode: Mode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_name: Option<String>,
    /// `offline`, `connecting`, `syncing`, `connected` or `error` (standalone: `offline`).
    pub state: String,
    /// Changes recorded on this device and not yet acknowledged by the service.
    pub pending_operations: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_synced_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_retry_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<FailureReport>,
    /// Recent outcomes worth telling the user (conflict copies made, changes refused).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<String>,
}

/// Answer to [`Request::TestConnection`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectionTest {
    pub ok: bool,
    /// What was checked and what came back, one line per step.
    pub steps: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<FailureReport>,
}

/// Why a request failed, in a form the page and popup can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The site answered 401/403 or gave no session.
    NotLoggedIn,
    /// The site answered 429; see `retry_after_secs`.
    RateLimited,
    /// Neither the site's data nor any known page layout could be read.
    LayoutNotRecognised,
    /// The URL is not a conversation of a supported site.
    NotAConversation,
    /// An answer is still being written: capture when it is done.
    StillStreaming,
    /// The conversation has no messages.
    Empty,
    NotFound,
    InvalidRequest,
    /// The capture is disabled for this site in the settings.
    Disabled,
    /// Reading or writing IndexedDB failed.
    Storage,
    /// Not built yet (e.g. an export format waiting for its crate).
    Unsupported,
    /// Connected mode could not reach or use the PipelineOS service.
    Sync,
    Internal,
}

/// A failed request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub code: ErrorCode,
    /// A sentence for the user, precise about what failed and where.
    pub message: String,
    /// For `rate_limited`: seconds until a retry is allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            retry_after_secs: None,
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ApiError {}

/// Everything the service worker answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Response {
    PageAnchors(PageAnchors),
    /// The content script should read the page and send the capture again with `page`.
    NeedPage {
        /// Why the site's data could not be used (shown if the page route succeeds).
        reason: String,
    },
    Captured(CaptureReport),
    DreamPage(DreamPage),
    Dream {
        dream: Dream,
        /// Set once the dream was sent to PipelineOS.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        implementation: Option<Implementation>,
    },
    SearchResults {
        hits: Vec<SearchHit>,
        /// Dreams matching, over all pages (see `total_capped`).
        #[serde(default)]
        total: u32,
        #[serde(default)]
        offset: u32,
        /// The ranking stops at the best thousand matching documents (dreams and their code
        /// blocks): `total` counts the dreams among them, and more dreams match.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        total_capped: bool,
    },
    Suggestions {
        words: Vec<String>,
    },
    Related {
        /// The dream captured from that page, when there is one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dream_id: Option<String>,
        hits: Vec<SearchHit>,
    },
    Fragment(FragmentRecord),
    FragmentPage(FragmentPage),
    Facets(Facets),
    Stats(Stats),
    Deleted {
        id: String,
        title: String,
        undo_token: String,
    },
    Restored {
        id: String,
    },
    Exported(ExportedFile),
    ImportStarted {
        import_id: String,
    },
    ImportProgress(ImportProgress),
    Settings(Settings),
    SyncOverview(SyncOverview),
    ConnectionTest(ConnectionTest),
    /// Answer to [`Request::DeleteAll`]: what was deleted.
    AllDeleted {
        dreams: u32,
        fragments: u32,
    },
    Done,
    Error(ApiError),
}

impl Response {
    /// Splits an answer into success and failure.
    pub fn into_result(self) -> Result<Response, ApiError> {
        match self {
            Response::Error(error) => Err(error),
            other => Ok(other),
        }
    }
}

impl From<ApiError> for Response {
    fn from(error: ApiError) -> Self {
        Response::Error(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_tagged_by_type_and_defaults_apply() {
        let request: Request =
            serde_json::from_str(r#"{"type":"list_dreams","filter":{"site":"claude"}}"#).unwrap();
        assert_eq!(
            request,
            Request::ListDreams {
                offset: 0,
                limit: 50,
                filter: DreamFilter {
                    site: Some(Site::Claude),
                    ..DreamFilter::default()
                },
            }
        );
        let capture: Request = serde_json::from_str(
            r#"{"type":"capture","url":"https://claude.ai/chat/x","site_json":{"step":"conversation","status":429,"retry_after":"30"}}"#,
        )
        .unwrap();
        match capture {
            Request::Capture {
                site_json: Some(outcome),
                page: None,
                trigger,
                ..
            } => {
                assert_eq!(outcome.status, 429);
                assert_eq!(trigger, CaptureTrigger::Button);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn errors_serialise_flat_for_javascript() {
        let mut error = ApiError::new(ErrorCode::RateLimited, "slow down");
        error.retry_after_secs = Some(30);
        let json = serde_json::to_value(Response::Error(error)).unwrap();
        assert_eq!(json["type"], "error");
        assert_eq!(json["code"], "rate_limited");
        assert_eq!(json["retry_after_secs"], 30);
        let unit = serde_json::to_value(Response::Done).unwrap();
        assert_eq!(unit, serde_json::json!({"type": "done"}));
    }

    #[test]
    fn settings_fill_missing_fields_with_defaults() {
        let settings: Settings = serde_json::from_str("{}").unwrap();
        assert_eq!(settings, Settings::default());
    }
}
