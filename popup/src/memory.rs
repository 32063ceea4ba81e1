//! A backend that keeps dreams in memory: for the component tests and the screenshot
//! harness, where no service worker exists. It answers like the worker does (same types,
//! same paging), with a plain substring search standing in for the real index.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use dreamcatcher_library::api::{
    ApiError, CaptureRoute, ConnectionTest, DreamFilter, DreamPage, DreamSummary, ErrorCode, ExportFormat,
    ExportScope, ExportedFile, FacetCount, Facets, FailureReport, Highlight, Implementation, ImplementationState,
    ImportProgress, ImportSummary, Mode, SearchHit, Settings, SkippedItem, Stats, SyncOverview,
};
use dreamcatcher_model::{CaptureSource, CodeBlock, CodeOrigin, Conversation, Dream, Message, Role, Site, Timestamp};
use dreamcatcher_sync::FailureKind;

use crate::filters::accepts;
use crate::backend::{
    AllDeleted, Backend, BackendError, BackendResult, Deleted, DreamRecord, ProgressSink, SearchPage, Shortcut,
};
use crate::validate;

/// The pairing code the simulated server accepts.
pub const DEMO_PAIRING_CODE: &str = "ABCDE12345";
/// Changes the simulated sync "uploads" per status read.
const UPLOADS_PER_READ: u32 = 100;

#[derive(Default)]
pub struct InMemoryBackend {
    /// Newest `updated_at` first, as the worker lists them.
    dreams: RefCell<Vec<Dream>>,
    trash: RefCell<HashMap<String, Dream>>,
    settings: RefCell<Settings>,
    next_token: Cell<u64>,
    /// Dreams related to the "active tab".
    related: RefCell<Vec<String>>,
    sync: RefCell<SyncSimulation>,
    /// The simulation's clock: the newest dream's time (the pages pass no time in).
    now: Timestamp,
    /// URLs `open_tab` was asked to open, for tests.
    pub opened_tabs: RefCell<Vec<String>>,
    /// How often the settings page was asked to open, for tests.
    pub settings_opened: Cell<u32>,
    /// How often "sync now" was asked, for tests.
    pub sync_now_calls: Cell<u32>,
}

/// Connected mode without a network: a fixed pairing code, uploads that drain a little at
/// every status read, and implementations that move one step at every read of the dream.
#[derive(Default)]
struct SyncSimulation {
    /// Server URL and device name, while paired.
    link: Option<(String, String)>,
    /// Changes recorded and not yet "sent".
    pending: u32,
    last_synced_at: Option<Timestamp>,
    failure: Option<FailureKind>,
    /// The browser "has no network": nothing drains.
    offline: bool,
    notices: Vec<String>,
    implementations: HashMap<String, Implementation>,
    projects_created: u32,
}

impl SyncSimulation {
    fn state(&self) -> &'static str {
        match (&self.link, self.failure, self.offline, self.pending) {
            (None, ..) => "offline",
            (Some(_), Some(_), ..) => "error",
            (Some(_), None, true, _) => "offline",
            (Some(_), None, false, 0) => "connected",
            (Some(_), None, false, _) => "syncing",
        }
    }

    /// The overview after one step of uploading.
    fn overview(&mut self, mode: Mode, settings_url: Option<String>, now: Timestamp) -> SyncOverview {
        if self.state() == "syncing" {
            self.pending = self.pending.saturating_sub(UPLOADS_PER_READ);
            if self.pending == 0 {
                self.last_synced_at = Some(now);
            }
        }
        SyncOverview {
            mode,
            server_url: self.link.as_ref().map(|(url, _)| url.clone()).or(settings_url),
            device_name: self.link.as_ref().map(|(_, name)| name.clone()),
            state: self.state().to_string(),
            pending_operations: self.pending,
            last_synced_at: self.last_synced_at,
            next_retry_at: None,
            failure: self.failure.map(|kind| FailureReport::new(kind, "simulated by the in-memory backend")),
            notices: self.notices.clone(),
        }
    }

    /// A change made while paired waits to be sent.
    fn record_change(&mut self) {
        if self.link.is_some() {
            self.pending += 1;
        }
    }

    /// The dream's implementation, moved one step on (requested → in progress → completed).
    fn advance(&mut self, id: &str, title: &str, now: Timestamp) -> Option<Implementation> {
        let implementation = self.implementations.get_mut(id)?;
        match implementation.state {
            ImplementationState::Requested => {
                implementation.state = ImplementationState::InProgress;
                if let Some(serde_json::Value::Object(project)) = implementation.project.as_mut() {
                    project.insert("status".into(), "in_progress".into());
                }
                implementation.updated_at = now;
            }
            ImplementationState::InProgress => {
                implementation.state = ImplementationState::Completed;
                implementation.result = Some(serde_json::json!({
                    "status": "succeeded",
                    "summary": format!("Implemented “{title}”."),
                    "pull_request": format!("https://example.org/pipelineos/pull/{}", self.projects_created),
                }));
                implementation.updated_at = now;
            }
            ImplementationState::Completed | ImplementationState::Failed => {}
        }
        Some(implementation.clone())
    }
}

impl InMemoryBackend {
    pub fn new(mut dreams: Vec<Dream>) -> Self {
        dreams.sort_by_key(|d| std::cmp::Reverse(d.updated_at));
        let now = dreams.first().map(|d| d.updated_at).unwrap_or_default();
        InMemoryBackend { dreams: RefCell::new(dreams), now, ..Default::default() }
    }

    /// Marks these dreams as the suggestions for the active tab.
    pub fn with_related(self, ids: Vec<String>) -> Self {
        *self.related.borrow_mut() = ids;
        self
    }

    /// Starts paired with `server_url`, in sync.
    pub fn with_pairing(self, server_url: &str, device_name: &str) -> Self {
        {
            let mut settings = self.settings.borrow_mut();
            settings.mode = Mode::Connected;
            settings.server_url = Some(server_url.to_string());
            let mut sync = self.sync.borrow_mut();
            sync.link = Some((server_url.to_string(), device_name.to_string()));
            sync.last_synced_at = Some(self.now);
        }
        self
    }

    /// Makes every connection attempt fail this way (`None`: the server is back).
    pub fn set_sync_failure(&self, failure: Option<FailureKind>) {
        self.sync.borrow_mut().failure = failure;
    }

    /// The browser loses (or regains) its network: nothing is sent meanwhile.
    pub fn set_offline(&self, offline: bool) {
        self.sync.borrow_mut().offline = offline;
    }

    /// Records `count` changes waiting to be sent.
    pub fn queue_changes(&self, count: u32) {
        self.sync.borrow_mut().pending += count;
    }

    /// Something sync wants the user to know (a conflict copy made, a change refused).
    pub fn push_sync_notice(&self, notice: &str) {
        self.sync.borrow_mut().notices.push(notice.to_string());
    }

    pub fn len(&self) -> usize {
        self.dreams.borrow().len()
    }

    pub fn is_empty(&self) -> bool {
        self.dreams.borrow().is_empty()
    }

    pub fn contains(&self, id: &str) -> bool {
        self.dreams.borrow().iter().any(|d| d.id() == id)
    }

    fn matching(&self, filter: &DreamFilter) -> Vec<DreamSummary> {
        self.dreams.borrow().iter().map(summary).filter(|s| accepts(filter, s)).collect()
    }

    fn with_dream<T>(&self, id: &str, change: impl FnOnce(&mut Dream) -> T) -> Result<T, BackendError> {
        let mut dreams = self.dreams.borrow_mut();
        let dream = dreams.iter_mut().find(|d| d.id() == id).ok_or_else(|| not_found(id))?;
        Ok(change(dream))
    }
}

fn not_found(id: &str) -> BackendError {
    BackendError::Api(ApiError::new(ErrorCode::NotFound, format!("No dream with id {id}.")))
}

/// The list row of a dream, as the worker builds it.
pub fn summary(dream: &Dream) -> DreamSummary {
    let conversation = &dream.conversation;
    let mut languages: Vec<(String, u32)> = Vec::new();
    for block in conversation.messages.iter().flat_map(|m| &m.fragments.code_blocks) {
        if block.language.is_empty() {
            continue;
        }
        match languages.iter_mut().find(|(l, _)| *l == block.language) {
            Some((_, n)) => *n += 1,
            None => languages.push((block.language.clone(), 1)),
        }
    }
    languages.sort_by_key(|(_, count)| std::cmp::Reverse(*count));
    let preview: String = conversation
        .messages
        .iter()
        .find(|m| m.role == Role::User)
        .map(|m| m.markdown.chars().take(200).collect())
        .unwrap_or_default();
    DreamSummary {
        id: dream.id().to_string(),
        site: conversation.site,
        title: conversation.title.clone(),
        url: conversation.url.clone(),
        captured_at: dream.captured_at,
        updated_at: dream.updated_at,
        message_count: conversation.messages.len() as u32,
        code_block_count: conversation.code_block_count() as u32,
        languages: languages.into_iter().map(|(l, _)| l).collect(),
        tags: dream.tags.clone(),
        opened: dream.opened,
        usage_count: dream.usage_count,
        preview,
        route: match &conversation.source {
            CaptureSource::Page { layout } => CaptureRoute::Page { layout: layout.clone() },
            CaptureSource::WebApi => CaptureRoute::SiteData,
            CaptureSource::Export => CaptureRoute::Export,
            CaptureSource::Other => CaptureRoute::Other,
        },
    }
}

/// Scores a dream for a query: every word must occur in the title or text; title matches
/// weigh more. The snippet is the title, or the text around the first match.
fn search_hit(dream: &Dream, words: &[String]) -> Option<SearchHit> {
    let title = dream.conversation.title.clone();
    let body: String = dream.conversation.messages.iter().map(|m| m.markdown.as_str()).collect::<Vec<_>>().join("\n");
    let title_lower = title.to_lowercase();
    let body_lower = body.to_lowercase();
    let mut score = 0.0f32;
    for word in words {
        let in_title = title_lower.matches(word.as_str()).count();
        let in_body = body_lower.matches(word.as_str()).count();
        if in_title + in_body == 0 {
            return None;
        }
        score += in_title as f32 * 3.0 + (in_body as f32).min(10.0);
    }
    // Like the worker: the text around the first match in the conversation, else the title.
    let title_highlights = matches(&title_lower, words);
    let (snippet, snippet_lower) = if !words.iter().any(|w| body_lower.contains(w.as_str())) {
        (title, title_lower)
    } else {
        let first = words.iter().filter_map(|w| body_lower.find(w.as_str())).min().unwrap_or(0);
        let mut start = first.saturating_sub(40);
        while !body.is_char_boundary(start) {
            start -= 1;
        }
        let text: String = body.get(start..).unwrap_or("").chars().take(160).collect::<String>().replace('\n', " ");
        let lower = text.to_lowercase();
        (text, lower)
    };
    Some(SearchHit {
        dream: summary(dream),
        score,
        message_index: None,
        content_key: None,
        highlights: matches(&snippet_lower, words),
        snippet,
        title_highlights,
    })
}

/// Where the words occur in `lower`. Byte offsets are taken on the lower-cased text: equal
/// to the original's for the ASCII-case changes that matter here, and clamped by the view
/// otherwise.
fn matches(lower: &str, words: &[String]) -> Vec<Highlight> {
    let mut highlights = Vec::new();
    for word in words {
        for (at, found) in lower.match_indices(word.as_str()) {
            highlights.push(Highlight { start: at as u32, end: (at + found.len()) as u32 });
        }
    }
    highlights
}

fn facet_counts(values: impl Iterator<Item = String>) -> Vec<FacetCount> {
    let mut counts: Vec<FacetCount> = Vec::new();
    for value in values {
        match counts.iter_mut().find(|c| c.value == value) {
            Some(c) => c.count += 1,
            None => counts.push(FacetCount { value, count: 1 }),
        }
    }
    counts.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
    counts
}

impl Backend for InMemoryBackend {
    fn list_dreams(&self, offset: u32, limit: u32, filter: DreamFilter) -> BackendResult<'_, DreamPage> {
        let all = self.matching(&filter);
        let items = all.iter().skip(offset as usize).take(limit as usize).cloned().collect();
        Box::pin(async move { Ok(DreamPage { total: all.len() as u32, offset, items }) })
    }

    fn search(&self, query: String, offset: u32, limit: u32, filter: DreamFilter) -> BackendResult<'_, SearchPage> {
        let words: Vec<String> = query.to_lowercase().split_whitespace().map(str::to_string).collect();
        let mut hits: Vec<SearchHit> = self
            .dreams
            .borrow()
            .iter()
            .filter_map(|d| search_hit(d, &words))
            .filter(|hit| accepts(&filter, &hit.dream))
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| b.dream.updated_at.cmp(&a.dream.updated_at)));
        let total = hits.len() as u32;
        let hits = hits.into_iter().skip(offset as usize).take(limit as usize).collect();
        Box::pin(async move { Ok(SearchPage { hits, total, offset, total_capped: false }) })
    }

    fn dream(&self, id: String) -> BackendResult<'_, DreamRecord> {
        let found = self.with_dream(&id, |d| d.clone()).map(|dream| {
            let implementation = self.sync.borrow_mut().advance(&id, &dream.conversation.title, self.now);
            DreamRecord { dream, implementation }
        });
        Box::pin(async move { found })
    }

    fn facets(&self) -> BackendResult<'_, Facets> {
        let all = self.matching(&DreamFilter::default());
        let facets = Facets {
            sites: facet_counts(all.iter().map(|s| s.site.as_str().to_string())),
            languages: facet_counts(all.iter().flat_map(|s| s.languages.clone())),
            tags: facet_counts(all.iter().flat_map(|s| s.tags.clone())),
            oldest: all.iter().map(|s| s.updated_at).min(),
            newest: all.iter().map(|s| s.updated_at).max(),
        };
        Box::pin(async move { Ok(facets) })
    }

    fn stats(&self) -> BackendResult<'_, Stats> {
        let dreams = self.dreams.borrow();
        let bytes: usize = dreams.iter().map(|d| serde_json::to_string(d).map(|s| s.len()).unwrap_or(0)).sum();
        let stats = Stats {
            dreams: dreams.len() as u32,
            fragments: dreams.iter().map(|d| d.conversation.code_block_count() as u32).sum(),
            unopened: dreams.iter().filter(|d| !d.opened).count() as u32,
            in_trash: self.trash.borrow().len() as u32,
            storage_used_bytes: Some(bytes as u64),
            storage_quota_bytes: Some(2_000_000_000),
        };
        Box::pin(async move { Ok(stats) })
    }

    fn related_to_active_tab(&self) -> BackendResult<'_, Vec<SearchHit>> {
        let related = self.related.borrow();
        let hits = self
            .dreams
            .borrow()
            .iter()
            .filter_map(|d| related.iter().position(|id| id == d.id()).map(|rank| (rank, d)))
            .map(|(rank, d)| SearchHit {
                dream: summary(d),
                score: 0.95 - rank as f32 * 0.05,
                message_index: None,
                content_key: None,
                snippet: d.conversation.title.clone(),
                highlights: Vec::new(),
                title_highlights: Vec::new(),
            })
            .take(10)
            .collect();
        Box::pin(async move { Ok(hits) })
    }

    fn set_tags(&self, id: String, tags: Vec<String>) -> BackendResult<'_, Dream> {
        let result = self.with_dream(&id, |d| {
            let mut cleaned: Vec<String> = Vec::new();
            for tag in tags.iter().map(|t| t.trim()).filter(|t| !t.is_empty()) {
                if !cleaned.iter().any(|c| c.eq_ignore_ascii_case(tag)) {
                    cleaned.push(tag.to_string());
                }
            }
            d.tags = cleaned;
            d.clone()
        });
        if result.is_ok() {
            self.sync.borrow_mut().record_change();
        }
        Box::pin(async move { result })
    }

    fn set_notes(&self, id: String, notes: String) -> BackendResult<'_, Dream> {
        let result = self.with_dream(&id, |d| {
            d.notes = notes;
            d.clone()
        });
        if result.is_ok() {
            self.sync.borrow_mut().record_change();
        }
        Box::pin(async move { result })
    }

    fn mark_opened(&self, id: String) -> BackendResult<'_, ()> {
        let result = self.with_dream(&id, |d| d.opened = true);
        Box::pin(async move { result })
    }

    fn record_usage(&self, id: String) -> BackendResult<'_, ()> {
        let result = self.with_dream(&id, |d| d.usage_count += 1);
        Box::pin(async move { result })
    }

    fn delete(&self, id: String) -> BackendResult<'_, Deleted> {
        let mut dreams = self.dreams.borrow_mut();
        let result = match dreams.iter().position(|d| d.id() == id) {
            Some(index) => {
                let dream = dreams.remove(index);
                let token = format!("undo-{}", self.next_token.get());
                self.next_token.set(self.next_token.get() + 1);
                let deleted = Deleted { id, title: dream.conversation.title.clone(), undo_token: token.clone() };
                self.trash.borrow_mut().insert(token, dream);
                Ok(deleted)
            }
            None => Err(not_found(&id)),
        };
        Box::pin(async move { result })
    }

    fn undo_delete(&self, undo_token: String) -> BackendResult<'_, ()> {
        let result = match self.trash.borrow_mut().remove(&undo_token) {
            Some(dream) => {
                let mut dreams = self.dreams.borrow_mut();
                let at = dreams.iter().position(|d| d.updated_at < dream.updated_at).unwrap_or(dreams.len());
                dreams.insert(at, dream);
                Ok(())
            }
            None => Err(BackendError::Api(ApiError::new(ErrorCode::NotFound, "Nothing to undo: the deletion is final."))),
        };
        Box::pin(async move { result })
    }

    fn delete_all(&self) -> BackendResult<'_, AllDeleted> {
        let deleted = AllDeleted {
            dreams: self.dreams.borrow().len() as u32,
            fragments: self.dreams.borrow().iter().map(|d| d.conversation.code_block_count() as u32).sum(),
        };
        self.dreams.borrow_mut().clear();
        self.trash.borrow_mut().clear();
        Box::pin(async move { Ok(deleted) })
    }

    fn export(&self, scope: ExportScope, format: ExportFormat) -> BackendResult<'_, ExportedFile> {
        let dreams: Vec<Dream> = match &scope {
            ExportScope::All => self.dreams.borrow().clone(),
            ExportScope::Dream { id } => self.dreams.borrow().iter().filter(|d| d.id() == id).cloned().collect(),
        };
        let result = match format {
            ExportFormat::Json => serde_json::to_string_pretty(&dreams)
                .map(|text| ExportedFile {
                    file_name: "dreamcatcher.json".into(),
                    mime_type: "application/json".into(),
                    text: Some(text),
                    base64: None,
                })
                .map_err(|e| BackendError::Api(ApiError::new(ErrorCode::Internal, e.to_string()))),
            other => Err(BackendError::Api(ApiError::new(
                ErrorCode::Unsupported,
                format!("The in-memory library exports JSON only, not {other:?}."),
            ))),
        };
        Box::pin(async move { result })
    }

    fn import(&self, file_name: String, bytes: Vec<u8>, progress: ProgressSink) -> BackendResult<'_, ImportSummary> {
        Box::pin(async move {
            let total_bytes = bytes.len() as u64;
            let report = |done: u32, total: u32, summary: Option<ImportSummary>| ImportProgress {
                import_id: "memory".into(),
                bytes_received: total_bytes,
                total_bytes,
                conversations_done: done,
                conversations_total: total,
                summary,
                error: None,
            };
            let conversations: Vec<serde_json::Value> = match serde_json::from_slice(&bytes) {
                Ok(serde_json::Value::Array(items)) => items,
                _ => {
                    return Err(BackendError::Api(ApiError::new(
                        ErrorCode::InvalidRequest,
                        format!("{file_name} is not a JSON list of conversations."),
                    )));
                }
            };
            let total = conversations.len() as u32;
            let mut summary = ImportSummary::default();
            for (index, value) in conversations.into_iter().enumerate() {
                match serde_json::from_value::<Conversation>(value) {
                    Ok(conversation) => {
                        let existing = self.dreams.borrow().iter().position(|d| d.id() == conversation.id);
                        match existing {
                            Some(at) => {
                                let mut dreams = self.dreams.borrow_mut();
                                if let Some(dream) = dreams.get_mut(at) {
                                    if dream.conversation == conversation {
                                        summary.unchanged += 1;
                                    } else {
                                        *dream = dream.recaptured(conversation, dream.updated_at);
                                        summary.updated += 1;
                                    }
                                }
                            }
                            None => {
                                let now = conversation.updated_at.unwrap_or_default();
                                self.dreams.borrow_mut().push(Dream::captured(conversation, now));
                                summary.added += 1;
                            }
                        }
                    }
                    Err(error) => summary.skipped.push(SkippedItem {
                        item: format!("conversation {}", index + 1),
                        reason: format!("not a conversation: {error}"),
                    }),
                }
                progress(report(index as u32 + 1, total, None));
            }
            self.dreams.borrow_mut().sort_by_key(|d| std::cmp::Reverse(d.updated_at));
            progress(report(total, total, Some(summary.clone())));
            Ok(summary)
        })
    }

    fn settings(&self) -> BackendResult<'_, Settings> {
        let settings = self.settings.borrow().clone();
        Box::pin(async move { Ok(settings) })
    }

    fn save_settings(&self, settings: Settings) -> BackendResult<'_, Settings> {
        // Like the worker: choosing standalone ends the pairing, unsent changes stay.
        if settings.mode == Mode::Standalone {
            self.sync.borrow_mut().link = None;
        }
        *self.settings.borrow_mut() = settings.clone();
        Box::pin(async move { Ok(settings) })
    }

    fn sync_status(&self) -> BackendResult<'_, SyncOverview> {
        let overview = self.overview();
        Box::pin(async move { Ok(overview) })
    }

    fn pair(&self, server_url: String, code: String, device_name: String) -> BackendResult<'_, SyncOverview> {
        let result = self.pair_now(&server_url, &code, &device_name).map(|()| self.overview());
        Box::pin(async move { result })
    }

    fn unpair(&self) -> BackendResult<'_, SyncOverview> {
        self.sync.borrow_mut().link = None;
        self.settings.borrow_mut().mode = Mode::Standalone;
        let overview = self.overview();
        Box::pin(async move { Ok(overview) })
    }

    fn test_connection(&self, server_url: Option<String>) -> BackendResult<'_, ConnectionTest> {
        let result = self.test_now(server_url);
        Box::pin(async move { result })
    }

    fn sync_now(&self) -> BackendResult<'_, SyncOverview> {
        self.sync_now_calls.set(self.sync_now_calls.get() + 1);
        // The simulated server is back as soon as the user asks.
        self.sync.borrow_mut().failure = None;
        let overview = self.overview();
        Box::pin(async move { Ok(overview) })
    }

    fn send_to_pipeline(&self, id: String) -> BackendResult<'_, DreamRecord> {
        let result = self.send_now(&id);
        Box::pin(async move { result })
    }

    fn shortcuts(&self) -> BackendResult<'_, Vec<Shortcut>> {
        Box::pin(async {
            Ok(vec![
                Shortcut { description: "Open this popup".into(), keys: String::new() },
                Shortcut { description: "Capture this conversation".into(), keys: "Alt+Shift+S".into() },
            ])
        })
    }

    fn open_tab(&self, url: String) -> BackendResult<'_, ()> {
        self.opened_tabs.borrow_mut().push(url);
        Box::pin(async { Ok(()) })
    }

    fn open_settings(&self) -> BackendResult<'_, ()> {
        self.settings_opened.set(self.settings_opened.get() + 1);
        Box::pin(async { Ok(()) })
    }
}

fn sync_error(message: String) -> BackendError {
    BackendError::Api(ApiError::new(ErrorCode::Sync, message))
}

fn form_error(message: String) -> BackendError {
    BackendError::Api(ApiError::new(ErrorCode::InvalidRequest, message))
}

/// Connected mode, answered like the worker answers it (same errors, same field prefixes).
impl InMemoryBackend {
    fn overview(&self) -> SyncOverview {
        let settings = self.settings.borrow();
        self.sync.borrow_mut().overview(settings.mode, settings.server_url.clone(), self.now)
    }

    fn pair_now(&self, server_url: &str, code: &str, device_name: &str) -> Result<(), BackendError> {
        let server_url = validate::server_url(server_url).map_err(|e| form_error(format!("server_url: {e}")))?;
        let code = validate::pairing_code(code).map_err(|e| form_error(format!("pairing_code: {e}")))?;
        if code != DEMO_PAIRING_CODE {
            return Err(form_error(
                "pairing_code: PipelineOS did not accept the code: it is unknown or has expired; run `dreamcatcher-server pair NAME` for a new one.".into(),
            ));
        }
        let device_name = match device_name.trim() {
            "" => "Chrome".to_string(),
            name => name.to_string(),
        };
        {
            let mut settings = self.settings.borrow_mut();
            settings.mode = Mode::Connected;
            settings.server_url = Some(server_url.clone());
        }
        let mut sync = self.sync.borrow_mut();
        sync.link = Some((server_url, device_name));
        // Every dream is queued for upload, like a fresh pairing does.
        sync.pending += self.dreams.borrow().len() as u32;
        Ok(())
    }

    fn test_now(&self, server_url: Option<String>) -> Result<ConnectionTest, BackendError> {
        let sync = self.sync.borrow();
        let paired_url = sync.link.as_ref().map(|(url, _)| url.clone());
        let server_url = match (server_url.filter(|u| !u.trim().is_empty()), paired_url.clone()) {
            (Some(url), _) | (None, Some(url)) => url,
            (None, None) => return Err(form_error("server_url: enter the PipelineOS server's address to test.".into())),
        };
        let server_url = validate::server_url(&server_url).map_err(|e| form_error(format!("server_url: {e}")))?;
        if let Some(kind) = sync.failure {
            return Ok(ConnectionTest {
                ok: false,
                steps: Vec::new(),
                failure: Some(FailureReport::new(kind, format!("{server_url}/health did not answer"))),
            });
        }
        let mut steps = vec![format!("Reached PipelineOS at {server_url} (version demo, memory storage).")];
        if paired_url.as_deref() == Some(server_url.as_str()) {
            steps.push(format!("This browser's token is accepted; {} dreams on the service.", self.len()));
        } else {
            steps.push("Not paired with this server yet: enter a pairing code to connect.".into());
        }
        Ok(ConnectionTest { ok: true, steps, failure: None })
    }

    fn send_now(&self, id: &str) -> Result<DreamRecord, BackendError> {
        let dream = self.with_dream(id, |d| d.clone())?;
        let mut sync = self.sync.borrow_mut();
        if sync.link.is_none() {
            return Err(sync_error("Not paired with PipelineOS: pair this browser in the settings first.".into()));
        }
        if sync.pending > 0 {
            return Err(sync_error(format!(
                "“{}” has not reached PipelineOS yet ({} change(s) waiting to sync). It is sent as soon as sync catches up; try again then.",
                dream.conversation.title, sync.pending
            )));
        }
        let active = sync
            .implementations
            .get(id)
            .filter(|i| matches!(i.state, ImplementationState::Requested | ImplementationState::InProgress))
            .cloned();
        let implementation = match active {
            Some(implementation) => implementation,
            None => {
                sync.projects_created += 1;
                let implementation = Implementation {
                    state: ImplementationState::Requested,
                    updated_at: self.now,
                    project: Some(serde_json::json!({
                        "id": format!("prj-demo{:04}", sync.projects_created),
                        "status": "created",
                        "title": dream.conversation.title,
                    })),
                    result: None,
                };
                sync.implementations.insert(id.to_string(), implementation.clone());
                implementation
            }
        };
        Ok(DreamRecord { dream, implementation: Some(implementation) })
    }
}

const TOPICS: [(&str, &str, &str); 8] = [
    ("Rust async runtime comparison", "rust", "async fn fetch(url: &str) -> Result<String, Error> {\n    let body = client.get(url).send().await?.text().await?;\n    Ok(body)\n}"),
    ("Python CSV cleanup script", "python", "import csv\n\nwith open('data.csv') as f:\n    rows = [r for r in csv.reader(f) if r]\nprint(len(rows))"),
    ("Debounce a search box in TypeScript", "typescript", "function debounce<T extends unknown[]>(fn: (...a: T) => void, ms: number) {\n  let t: number | undefined;\n  return (...a: T) => { clearTimeout(t); t = setTimeout(() => fn(...a), ms); };\n}"),
    ("Postgres index for JSONB queries", "sql", "CREATE INDEX idx_events_payload ON events USING gin (payload jsonb_path_ops);"),
    ("Bash backup with rsync", "bash", "#!/usr/bin/env bash\nset -euo pipefail\nrsync -a --delete ~/notes/ /mnt/backup/notes/"),
    ("Elixir GenServer state", "elixir", "defmodule Counter do\n  use GenServer\n  def init(n), do: {:ok, n}\nend"),
    ("CSS grid for a dashboard", "css", ".grid {\n  display: grid;\n  grid-template-columns: repeat(auto-fill, minmax(12rem, 1fr));\n}"),
    ("Go HTTP server graceful shutdown", "go", "srv := &http.Server{Addr: \":8080\"}\ngo srv.ListenAndServe()\n<-ctx.Done()\nsrv.Shutdown(context.Background())"),
];

const TAGS: [&str; 5] = ["work", "snippets", "learning", "infra", "ideas"];

/// A deterministic library of `count` invented dreams, newest captured at `now`, one every
/// 37 minutes before it. The first one carries HTML and script text, to show it stays text.
pub fn sample_library(count: usize, now: Timestamp) -> Vec<Dream> {
    (0..count)
        .map(|i| {
            let (topic, language, code) = TOPICS[i % TOPICS.len()];
            let site = if i % 3 == 0 { Site::Claude } else { Site::Chatgpt };
            let title = if i == 0 { "Escaping HTML in templates".to_string() } else { format!("{topic} #{}", count - i) };
            let site_id = format!("sample-{i:05}");
            let mut conversation = Conversation::new(site, Some(site_id.clone()), title);
            conversation.url = Some(match site {
                Site::Chatgpt => format!("https://chatgpt.com/c/{site_id}"),
                Site::Claude => format!("https://claude.ai/chat/{site_id}"),
            });
            conversation.source = if i % 4 == 0 { CaptureSource::WebApi } else { CaptureSource::Page { layout: "sample".into() } };
            let prompt = if i == 0 {
                "Why does <img src=x onerror=alert(1)> run in my page, and is <script>alert('hi')</script> dangerous?".to_string()
            } else {
                format!("How do I handle {} in {language}? Keep it short.", topic.to_lowercase())
            };
            conversation.messages.push(Message::new(Role::User, prompt));
            let answer = format!(
                "Here is a **minimal** example in `{language}`:\n\n```{language}\n{code}\n```\n\n- Check the [docs](https://example.com/{language}) first\n- Avoid [this](javascript:alert(1)) kind of link\n\n> Tip: measure before optimising.\n"
            );
            let mut reply = Message::new(Role::Assistant, answer);
            reply.fragments.code_blocks.push(CodeBlock {
                language: language.into(),
                language_guessed: false,
                code: format!("{code}\n"),
                line_count: code.lines().count() as u32,
                content_key: dreamcatcher_model::content_key(code),
                title: None,
                origin: CodeOrigin::Fence,
            });
            conversation.messages.push(reply);
            let at = now - chrono::Duration::minutes(37 * i as i64);
            let mut dream = Dream::captured(conversation, at);
            dream.tags = vec![TAGS[i % TAGS.len()].to_string()];
            dream.opened = i % 5 != 1;
            dream
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn block_on<T>(future: crate::backend::LocalFuture<'_, T>) -> T {
        futures_lite_block_on(future)
    }

    /// The in-memory futures never wait, so one poll finishes them.
    fn futures_lite_block_on<T>(mut future: crate::backend::LocalFuture<'_, T>) -> T {
        use std::task::{Context, Poll, Waker};
        let mut context = Context::from_waker(Waker::noop());
        match future.as_mut().poll(&mut context) {
            Poll::Ready(value) => value,
            Poll::Pending => panic!("in-memory backend future was pending"),
        }
    }

    fn now() -> Timestamp {
        chrono::Utc.with_ymd_and_hms(2026, 5, 1, 12, 0, 0).single().unwrap_or_default()
    }

    #[test]
    fn pages_and_filters_like_the_worker() {
        let backend = InMemoryBackend::new(sample_library(100, now()));
        let page = block_on(backend.list_dreams(90, 50, DreamFilter::default())).ok();
        assert_eq!(page.as_ref().map(|p| (p.total, p.items.len())), Some((100, 10)));
        let claude = DreamFilter { site: Some(Site::Claude), ..DreamFilter::default() };
        let page = block_on(backend.list_dreams(0, 50, claude)).ok();
        assert_eq!(page.map(|p| p.total), Some(34));
    }

    #[test]
    fn search_ranks_and_highlights() {
        let backend = InMemoryBackend::new(sample_library(16, now()));
        let page = block_on(backend.search("grid".into(), 0, 50, DreamFilter::default())).unwrap_or_default();
        assert_eq!((page.total, page.hits.len()), (2, 2));
        let second = block_on(backend.search("grid".into(), 1, 50, DreamFilter::default())).unwrap_or_default();
        assert_eq!((second.total, second.hits.len()), (2, 1));
        for hit in &page.hits {
            let first = hit.highlights.first().map(|h| (h.start as usize, h.end as usize));
            assert_eq!(first.and_then(|(s, e)| hit.snippet.get(s..e)).map(str::to_lowercase), Some("grid".into()));
        }
    }

    #[test]
    fn delete_then_undo_restores_in_place() {
        let backend = InMemoryBackend::new(sample_library(5, now()));
        let id = sample_library(5, now()).get(2).map(|d| d.id().to_string()).unwrap_or_default();
        let deleted = block_on(backend.delete(id.clone()));
        assert_eq!(backend.len(), 4);
        let token = deleted.map(|d| d.undo_token).unwrap_or_default();
        assert!(block_on(backend.undo_delete(token.clone())).is_ok());
        assert!(backend.contains(&id));
        let page = block_on(backend.list_dreams(2, 1, DreamFilter::default())).ok();
        assert_eq!(page.and_then(|p| p.items.first().map(|s| s.id.clone())), Some(id));
        assert!(block_on(backend.undo_delete(token)).is_err());
    }

    #[test]
    fn pairing_accepts_only_the_demo_code_then_uploads_everything() {
        let backend = InMemoryBackend::new(sample_library(150, now()));
        let refused = block_on(backend.pair("https://p.example".into(), "ZZZZZ99999".into(), String::new()));
        let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.starts_with("pairing_code: PipelineOS did not accept the code"), "{message}");
        let bad_url = block_on(backend.pair("ftp://p.example".into(), DEMO_PAIRING_CODE.into(), String::new()));
        assert!(bad_url.err().map(|e| e.to_string()).unwrap_or_default().starts_with("server_url: "));

        let paired = block_on(backend.pair("https://p.example/".into(), "abcde-12345".into(), "Laptop".into())).ok();
        let paired = paired.map(|o| (o.mode, o.state, o.pending_operations, o.device_name, o.server_url));
        assert_eq!(
            paired,
            Some((Mode::Connected, "syncing".into(), 50, Some("Laptop".into()), Some("https://p.example".into())))
        );
        let settled = block_on(backend.sync_status()).ok();
        assert_eq!(settled.as_ref().map(|o| (o.state.as_str(), o.pending_operations)), Some(("connected", 0)));
        assert_eq!(settled.and_then(|o| o.last_synced_at), Some(now()));

        let unpaired = block_on(backend.unpair()).ok();
        assert_eq!(unpaired.map(|o| (o.mode, o.state, o.device_name)), Some((Mode::Standalone, "offline".into(), None)));

        assert!(block_on(backend.pair("https://p.example".into(), DEMO_PAIRING_CODE.into(), String::new())).is_ok());
        let mut settings = block_on(backend.settings()).unwrap_or_default();
        assert_eq!(settings.mode, Mode::Connected);
        settings.mode = Mode::Standalone;
        assert!(block_on(backend.save_settings(settings)).is_ok());
        let after = block_on(backend.sync_status()).ok();
        assert_eq!(after.map(|o| (o.state, o.device_name)), Some(("offline".into(), None)));
    }

    #[test]
    fn failures_show_in_the_status_and_the_connection_test() {
        let backend = InMemoryBackend::new(sample_library(3, now())).with_pairing("https://p.example", "Laptop");
        backend.set_sync_failure(Some(FailureKind::Authentication));
        let overview = block_on(backend.sync_status()).ok();
        let failure = overview.as_ref().and_then(|o| o.failure.clone());
        assert_eq!(overview.map(|o| o.state), Some("error".into()));
        assert_eq!(failure.map(|f| f.title), Some("Authentication failed".into()));
        let test = block_on(backend.test_connection(None)).ok();
        assert_eq!(test.map(|t| (t.ok, t.failure.map(|f| f.kind))), Some((false, Some(FailureKind::Authentication))));
        let retried = block_on(backend.sync_now()).ok();
        assert_eq!(retried.map(|o| o.state), Some("connected".into()));
        assert_eq!(backend.sync_now_calls.get(), 1);
        let test = block_on(backend.test_connection(Some("https://other.example".into()))).ok();
        assert_eq!(test.map(|t| (t.ok, t.steps.len())), Some((true, 2)));
        assert!(block_on(InMemoryBackend::new(Vec::new()).test_connection(None)).is_err());
    }

    #[test]
    fn sending_to_pipeline_moves_on_at_every_read() {
        let dreams = sample_library(3, now());
        let id = dreams.first().map(|d| d.id().to_string()).unwrap_or_default();
        let standalone = InMemoryBackend::new(dreams.clone());
        assert!(block_on(standalone.send_to_pipeline(id.clone())).is_err());

        let backend = InMemoryBackend::new(dreams).with_pairing("https://p.example", "Laptop");
        backend.queue_changes(2);
        let waiting = block_on(backend.send_to_pipeline(id.clone())).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(waiting.contains("has not reached PipelineOS yet (2 change(s)"), "{waiting}");
        let _ = block_on(backend.sync_status());

        let state = |record: Result<DreamRecord, BackendError>| record.ok().and_then(|r| r.implementation).map(|i| i.state);
        assert_eq!(state(block_on(backend.send_to_pipeline(id.clone()))), Some(ImplementationState::Requested));
        assert_eq!(state(block_on(backend.dream(id.clone()))), Some(ImplementationState::InProgress));
        let done = block_on(backend.dream(id.clone())).ok().and_then(|r| r.implementation);
        assert_eq!(done.as_ref().map(|i| i.state), Some(ImplementationState::Completed));
        let pull = done.and_then(|i| i.result).and_then(|r| r.get("pull_request").cloned());
        assert_eq!(pull, Some(serde_json::json!("https://example.org/pipelineos/pull/1")));
        assert_eq!(state(block_on(backend.dream(id))), Some(ImplementationState::Completed));
    }
}
