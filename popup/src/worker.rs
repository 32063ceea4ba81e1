//! The extension's backend: requests of `dreamcatcher_library::api` sent to the service
//! worker with `chrome.runtime.sendMessage`, plus the few `chrome.*` calls the pages make.

use base64::Engine as _;
use dreamcatcher_library::api::{
    ApiError, ConnectionTest, DreamFilter, DreamPage, ErrorCode, ExportFormat, ExportScope, ExportedFile, Facets,
    ImportProgress, ImportSummary, Request, SearchHit, Settings, Stats, SyncOverview,
};
use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny};
use dreamcatcher_model::Dream;
use js_sys::{Array, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;

use crate::backend::{
    AllDeleted, Backend, BackendError, BackendResult, Deleted, DreamRecord, ProgressSink, SearchPage, Shortcut,
};
use crate::browser::{await_promise, js_error_text, sleep, storage_estimate};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_namespace = ["chrome", "runtime"], js_name = sendMessage)]
    fn runtime_send_message(message: &JsValue) -> Result<Promise, JsValue>;
    #[wasm_bindgen(catch, js_namespace = ["chrome", "runtime"], js_name = openOptionsPage)]
    fn runtime_open_options_page() -> Result<Promise, JsValue>;
    #[wasm_bindgen(catch, js_namespace = ["chrome", "tabs"], js_name = query)]
    fn tabs_query(query: &JsValue) -> Result<Promise, JsValue>;
    #[wasm_bindgen(catch, js_namespace = ["chrome", "tabs"], js_name = create)]
    fn tabs_create(properties: &JsValue) -> Result<Promise, JsValue>;
    #[wasm_bindgen(catch, js_namespace = ["chrome", "commands"], js_name = getAll)]
    fn commands_get_all() -> Result<Promise, JsValue>;
}

/// Raw bytes per import chunk: 1 MiB (1.4 MB once in base64), well under what a message carries.
const IMPORT_CHUNK_BYTES: usize = 1 << 20;
/// How often a running import is polled.
const IMPORT_POLL_MILLIS: i32 = 200;
/// "Related to this page", as the seed sets it.
const RELATED_MIN_SCORE: f32 = 0.6;
const RELATED_LIMIT: u32 = 10;

/// Talks to the service worker. Stateless: every call is one message and its answer.
#[derive(Debug, Default, Clone, Copy)]
pub struct WorkerBackend;

/// Sends one request and reads the answer as `T`, which the answer tagged `expected` holds.
///
/// Only the expected payload (or an error) is deserialised, not the whole `Response` enum:
/// that would bring every answer type's deserialiser into the popup's module.
async fn call<T: DeserializeOwned>(request: &Request, expected: &'static str) -> Result<T, BackendError> {
    let json = serde_json::to_string(request).map_err(|e| BackendError::Unreachable(e.to_string()))?;
    let message = js_sys::JSON::parse(&json).map_err(|e| BackendError::Unreachable(js_error_text(&e)))?;
    let promise = runtime_send_message(&message).map_err(|e| BackendError::Unreachable(js_error_text(&e)))?;
    answer_of(request_name(request), expected, promise).await
}

/// The global under which first-page.js keeps its early answer for the list's first page.
const FIRST_PAGE_GLOBAL: &str = "dreamcatcherFirstPage";

/// The first page as first-page.js asked for it while the page was parsed (from the running
/// worker, or from the database when Chrome had stopped the worker), taken once.
fn take_early_first_page() -> Option<Promise> {
    let global = js_sys::global();
    let key = JsValue::from_str(FIRST_PAGE_GLOBAL);
    let promise = Reflect::get(&global, &key).ok()?.dyn_into::<Promise>().ok()?;
    Reflect::delete_property(&global, &key).ok()?;
    Some(promise)
}

/// Reads the worker's answer to a sent request.
async fn answer_of<T: DeserializeOwned>(name: &'static str, expected: &'static str, promise: Promise) -> Result<T, BackendError> {
    let answer = await_promise(promise).await.map_err(BackendError::Unreachable)?;
    if answer.is_undefined() || answer.is_null() {
        return Err(BackendError::Unreachable("no answer".into()));
    }
    let text = js_sys::JSON::stringify(&answer)
        .map_err(|e| BackendError::Unreachable(js_error_text(&e)))?
        .as_string()
        .unwrap_or_default();
    decode(name, expected, &text)
}

/// Reads an answer's JSON: the payload when its `type` is `expected`, the worker's error
/// when it is `error`.
pub fn decode<T: DeserializeOwned>(request: &'static str, expected: &'static str, text: &str) -> Result<T, BackendError> {
    let unreadable = |error: serde_json::Error| BackendError::UnexpectedAnswer {
        request,
        got: format!("an unreadable answer ({error})"),
    };
    let value: serde_json::Value = serde_json::from_str(text).map_err(unreadable)?;
    let kind = value.get("type").and_then(serde_json::Value::as_str).unwrap_or("").to_string();
    if kind == expected {
        serde_json::from_value(value).map_err(unreadable)
    } else if kind == "error" {
        Err(BackendError::Api(serde_json::from_value::<ApiError>(value).map_err(unreadable)?))
    } else {
        Err(BackendError::UnexpectedAnswer { request, got: kind })
    }
}

/// The request first-page.js makes at once (static/first-page.js; a test keeps the two equal).
fn first_page_request() -> Request {
    Request::ListDreams { offset: 0, limit: crate::ui::list::PAGE_SIZE as u32, filter: DreamFilter::default() }
}

fn request_name(request: &Request) -> &'static str {
    match request {
        Request::ListDreams { .. } => "list_dreams",
        Request::GetDream { .. } => "get_dream",
        Request::Search { .. } => "search",
        Request::Related { .. } => "related",
        Request::Facets => "facets",
        Request::Stats => "stats",
        Request::SetTags { .. } => "set_tags",
        Request::SetNotes { .. } => "set_notes",
        Request::MarkOpened { .. } => "mark_opened",
        Request::RecordUsage { .. } => "record_usage",
        Request::DeleteDream { .. } => "delete_dream",
        Request::UndoDelete { .. } => "undo_delete",
        Request::DeleteAll { .. } => "delete_all",
        Request::Export { .. } => "export",
        Request::ImportBegin { .. } => "import_begin",
        Request::ImportChunk { .. } => "import_chunk",
        Request::ImportStatus { .. } => "import_status",
        Request::GetSettings => "get_settings",
        Request::SaveSettings { .. } => "save_settings",
        Request::SyncStatus => "sync_status",
        Request::Pair { .. } => "pair",
        Request::Unpair => "unpair",
        Request::TestConnection { .. } => "test_connection",
        Request::SyncNow => "sync_now",
        Request::SendToPipeline { .. } => "send_to_pipeline",
        _ => "other",
    }
}

/// Payloads of the answers that are struct variants of `Response`.
#[derive(Deserialize)]
struct HitsAnswer {
    hits: Vec<SearchHit>,
}

#[derive(Deserialize)]
struct ImportStarted {
    import_id: String,
}

async fn call_done(request: Request) -> Result<(), BackendError> {
    call::<IgnoredAny>(&request, "done").await.map(|_| ())
}

async fn dream_answer(request: Request) -> Result<Dream, BackendError> {
    call::<DreamRecord>(&request, "dream").await.map(|answer| answer.dream)
}

async fn sync_overview(request: Request) -> Result<SyncOverview, BackendError> {
    call(&request, "sync_overview").await
}

fn set(object: &Object, key: &str, value: &JsValue) -> Result<(), BackendError> {
    Reflect::set(object, &JsValue::from_str(key), value)
        .map(|_| ())
        .map_err(|e| BackendError::Browser(js_error_text(&e)))
}

fn string_field(value: &JsValue, key: &str) -> Option<String> {
    Reflect::get(value, &JsValue::from_str(key)).ok().and_then(|v| v.as_string())
}

/// The URL of the active tab, when the extension may see it (only on the chat sites).
async fn active_tab_url() -> Result<Option<String>, BackendError> {
    let query = Object::new();
    set(&query, "active", &JsValue::TRUE)?;
    set(&query, "currentWindow", &JsValue::TRUE)?;
    let promise = tabs_query(&query).map_err(|e| BackendError::Browser(js_error_text(&e)))?;
    let tabs = await_promise(promise).await.map_err(BackendError::Browser)?;
    Ok(Array::from(&tabs).iter().next().and_then(|tab| string_field(&tab, "url")))
}

/// Shows a progress report; the summary once the import is done, its error if it stopped.
fn finished(report: ImportProgress, progress: &ProgressSink) -> Result<Option<ImportSummary>, BackendError> {
    let summary = report.summary.clone();
    let error = report.error.clone();
    progress(report);
    match error {
        Some(error) => Err(BackendError::Api(error)),
        None => Ok(summary),
    }
}

impl Backend for WorkerBackend {
    fn list_dreams(&self, offset: u32, limit: u32, filter: DreamFilter) -> BackendResult<'_, DreamPage> {
        Box::pin(async move {
            let request = Request::ListDreams { offset, limit, filter };
            if request == first_page_request()
                && let Some(promise) = take_early_first_page()
            {
                return answer_of("list_dreams", "dream_page", promise).await;
            }
            call(&request, "dream_page").await
        })
    }

    fn search(&self, query: String, offset: u32, limit: u32, filter: DreamFilter) -> BackendResult<'_, SearchPage> {
        Box::pin(async move {
            call(&Request::Search { query, offset, limit, filter }, "search_results").await
        })
    }

    fn dream(&self, id: String) -> BackendResult<'_, DreamRecord> {
        Box::pin(async move { call(&Request::GetDream { id }, "dream").await })
    }

    fn facets(&self) -> BackendResult<'_, Facets> {
        Box::pin(async move {
            call(&Request::Facets, "facets").await
        })
    }

    fn stats(&self) -> BackendResult<'_, Stats> {
        Box::pin(async move {
            let mut stats: Stats = call(&Request::Stats, "stats").await?;
            // The popup shares the worker's origin, so its own estimate is the same figure.
            if stats.storage_used_bytes.is_none()
                && let Ok((used, quota)) = storage_estimate().await
            {
                stats.storage_used_bytes = Some(used);
                stats.storage_quota_bytes = Some(quota);
            }
            Ok(stats)
        })
    }

    fn related_to_active_tab(&self) -> BackendResult<'_, Vec<SearchHit>> {
        Box::pin(async move {
            let Some(url) = active_tab_url().await? else {
                return Ok(Vec::new());
            };
            let request = Request::Related { url, min_score: Some(RELATED_MIN_SCORE), limit: Some(RELATED_LIMIT) };
            match call::<HitsAnswer>(&request, "related").await {
                Ok(answer) => Ok(answer.hits),
                Err(BackendError::Api(error)) if error.code == ErrorCode::NotAConversation => Ok(Vec::new()),
                Err(error) => Err(error),
            }
        })
    }

    fn set_tags(&self, id: String, tags: Vec<String>) -> BackendResult<'_, Dream> {
        Box::pin(dream_answer(Request::SetTags { id, tags }))
    }

    fn set_notes(&self, id: String, notes: String) -> BackendResult<'_, Dream> {
        Box::pin(dream_answer(Request::SetNotes { id, notes }))
    }

    fn mark_opened(&self, id: String) -> BackendResult<'_, ()> {
        Box::pin(call_done(Request::MarkOpened { id }))
    }

    fn record_usage(&self, id: String) -> BackendResult<'_, ()> {
        Box::pin(call_done(Request::RecordUsage { id }))
    }

    fn delete(&self, id: String) -> BackendResult<'_, Deleted> {
        Box::pin(async move {
            call(&Request::DeleteDream { id }, "deleted").await
        })
    }

    fn undo_delete(&self, undo_token: String) -> BackendResult<'_, ()> {
        Box::pin(async move {
            call::<IgnoredAny>(&Request::UndoDelete { undo_token }, "restored").await.map(|_| ())
        })
    }

    fn delete_all(&self) -> BackendResult<'_, AllDeleted> {
        Box::pin(async move {
            call(&Request::DeleteAll { confirm: true }, "all_deleted").await
        })
    }

    fn export(&self, scope: ExportScope, format: ExportFormat) -> BackendResult<'_, ExportedFile> {
        Box::pin(async move {
            call(&Request::Export { scope, format }, "exported").await
        })
    }

    fn import(&self, file_name: String, bytes: Vec<u8>, progress: ProgressSink) -> BackendResult<'_, ImportSummary> {
        Box::pin(async move {
            let begin = Request::ImportBegin { file_name, total_bytes: bytes.len() as u64 };
            let import_id = call::<ImportStarted>(&begin, "import_started").await?.import_id;
            let chunk_count = bytes.len().div_ceil(IMPORT_CHUNK_BYTES).max(1);
            let mut chunks = bytes.chunks(IMPORT_CHUNK_BYTES);
            for index in 0..chunk_count {
                let chunk = chunks.next().unwrap_or(&[]);
                let request = Request::ImportChunk {
                    import_id: import_id.clone(),
                    data_base64: base64::engine::general_purpose::STANDARD.encode(chunk),
                    last: index + 1 == chunk_count,
                };
                let report: ImportProgress = call(&request, "import_progress").await?;
                if let Some(summary) = finished(report, &progress)? {
                    return Ok(summary);
                }
            }
            loop {
                sleep(IMPORT_POLL_MILLIS).await;
                let request = Request::ImportStatus { import_id: import_id.clone() };
                let report: ImportProgress = call(&request, "import_progress").await?;
                if let Some(summary) = finished(report, &progress)? {
                    return Ok(summary);
                }
            }
        })
    }

    fn settings(&self) -> BackendResult<'_, Settings> {
        Box::pin(async move {
            call(&Request::GetSettings, "settings").await
        })
    }

    fn save_settings(&self, settings: Settings) -> BackendResult<'_, Settings> {
        Box::pin(async move {
            call(&Request::SaveSettings { settings }, "settings").await
        })
    }

    fn sync_status(&self) -> BackendResult<'_, SyncOverview> {
        Box::pin(sync_overview(Request::SyncStatus))
    }

    fn pair(&self, server_url: String, code: String, device_name: String) -> BackendResult<'_, SyncOverview> {
        Box::pin(sync_overview(Request::Pair { server_url, pairing_code: code, device_name }))
    }

    fn unpair(&self) -> BackendResult<'_, SyncOverview> {
        Box::pin(sync_overview(Request::Unpair))
    }

    fn test_connection(&self, server_url: Option<String>) -> BackendResult<'_, ConnectionTest> {
        Box::pin(async move { call(&Request::TestConnection { server_url }, "connection_test").await })
    }

    fn sync_now(&self) -> BackendResult<'_, SyncOverview> {
        Box::pin(sync_overview(Request::SyncNow))
    }

    fn send_to_pipeline(&self, id: String) -> BackendResult<'_, DreamRecord> {
        Box::pin(async move { call(&Request::SendToPipeline { id }, "dream").await })
    }

    fn shortcuts(&self) -> BackendResult<'_, Vec<Shortcut>> {
        Box::pin(async move {
            let promise = commands_get_all().map_err(|e| BackendError::Browser(js_error_text(&e)))?;
            let commands = await_promise(promise).await.map_err(BackendError::Browser)?;
            Ok(Array::from(&commands)
                .iter()
                .map(|command| {
                    let name = string_field(&command, "name").unwrap_or_default();
                    let description = string_field(&command, "description")
                        .filter(|d| !d.is_empty())
                        .unwrap_or_else(|| if name == "_execute_action" { "Open this popup".into() } else { name });
                    Shortcut { description, keys: string_field(&command, "shortcut").unwrap_or_default() }
                })
                .collect())
        })
    }

    fn open_tab(&self, url: String) -> BackendResult<'_, ()> {
        Box::pin(async move {
            let properties = Object::new();
            set(&properties, "url", &JsValue::from_str(&url))?;
            let promise = tabs_create(&properties).map_err(|e| BackendError::Browser(js_error_text(&e)))?;
            await_promise(promise).await.map(|_| ()).map_err(BackendError::Browser)
        })
    }

    fn open_settings(&self) -> BackendResult<'_, ()> {
        Box::pin(async move {
            let promise = runtime_open_options_page().map_err(|e| BackendError::Browser(js_error_text(&e)))?;
            await_promise(promise).await.map(|_| ()).map_err(BackendError::Browser)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dreamcatcher_library::api::Response;

    /// Every answer the popup reads, serialised by the API's own `Response`, decodes.
    #[test]
    fn decodes_the_apis_own_answers() {
        let json = |response: &Response| serde_json::to_string(response).unwrap_or_default();
        let page = DreamPage { total: 3, offset: 0, items: Vec::new() };
        let decoded: Result<DreamPage, _> = decode("list_dreams", "dream_page", &json(&Response::DreamPage(page.clone())));
        assert_eq!(decoded, Ok(page));
        let hits: Result<HitsAnswer, _> =
            decode("related", "related", &json(&Response::Related { dream_id: None, hits: Vec::new() }));
        assert!(hits.is_ok_and(|h| h.hits.is_empty()));
        let deleted = Response::Deleted { id: "dc-1".into(), title: "T".into(), undo_token: "u".into() };
        let decoded: Result<Deleted, _> = decode("delete_dream", "deleted", &json(&deleted));
        assert_eq!(decoded.map(|d| d.undo_token), Ok("u".to_string()));
        let started: Result<ImportStarted, _> =
            decode("import_begin", "import_started", &json(&Response::ImportStarted { import_id: "i1".into() }));
        assert_eq!(started.map(|s| s.import_id), Ok("i1".to_string()));
        let done: Result<IgnoredAny, _> = decode("mark_opened", "done", &json(&Response::Done));
        assert!(done.is_ok());
        let settings: Result<Settings, _> = decode("get_settings", "settings", &json(&Response::Settings(Settings::default())));
        assert_eq!(settings, Ok(Settings::default()));
        let results = Response::SearchResults { hits: Vec::new(), total: 240, offset: 50, total_capped: true };
        let page: Result<SearchPage, _> = decode("search", "search_results", &json(&results));
        assert_eq!(page, Ok(SearchPage { hits: Vec::new(), total: 240, offset: 50, total_capped: true }));
        let deleted: Result<AllDeleted, _> =
            decode("delete_all", "all_deleted", &json(&Response::AllDeleted { dreams: 3, fragments: 7 }));
        assert_eq!(deleted, Ok(AllDeleted { dreams: 3, fragments: 7 }));
    }

    /// The connected-mode answers decode, the failure texts and the implementation included.
    #[test]
    fn decodes_the_connected_mode_answers() {
        use dreamcatcher_library::api::{FailureReport, Implementation, ImplementationState, Mode};
        let json = |response: &Response| serde_json::to_string(response).unwrap_or_default();
        let overview = SyncOverview {
            mode: Mode::Connected,
            server_url: Some("https://p.example".into()),
            device_name: Some("Laptop".into()),
            state: "error".into(),
            pending_operations: 4,
            last_synced_at: None,
            next_retry_at: None,
            failure: Some(FailureReport::new(dreamcatcher_sync::FailureKind::Network, "timed out")),
            notices: vec!["Kept both versions of “A”.".into()],
        };
        let decoded: Result<SyncOverview, _> =
            decode("sync_status", "sync_overview", &json(&Response::SyncOverview(overview.clone())));
        assert_eq!(decoded, Ok(overview));
        let test = ConnectionTest { ok: true, steps: vec!["Reached PipelineOS.".into()], failure: None };
        let decoded: Result<ConnectionTest, _> =
            decode("test_connection", "connection_test", &json(&Response::ConnectionTest(test.clone())));
        assert_eq!(decoded, Ok(test));
        let dream = Dream::captured(
            dreamcatcher_model::Conversation::new(dreamcatcher_model::Site::Claude, Some("c1".into()), "T"),
            chrono::DateTime::default(),
        );
        let implementation = Implementation {
            state: ImplementationState::InProgress,
            updated_at: chrono::DateTime::default(),
            project: Some(serde_json::json!({"id": "prj-1"})),
            result: None,
        };
        let answer = Response::Dream { dream: dream.clone(), implementation: Some(implementation.clone()) };
        let decoded: Result<DreamRecord, _> = decode("send_to_pipeline", "dream", &json(&answer));
        assert_eq!(decoded, Ok(DreamRecord { dream: dream.clone(), implementation: Some(implementation) }));
        let decoded: Result<DreamRecord, _> =
            decode("get_dream", "dream", &json(&Response::Dream { dream, implementation: None }));
        assert!(decoded.is_ok_and(|record| record.implementation.is_none()));
    }

    /// first-page.js's early request is the list's own first-page request, to the byte.
    #[test]
    fn first_page_js_asks_for_the_lists_first_page() {
        let script = include_str!("../static/first-page.js");
        let early = script
            .split_once("const request = ")
            .and_then(|(_, rest)| rest.split_once(";\n"))
            .map(|(message, _)| message)
            .unwrap_or_default();
        let early: serde_json::Value = serde_json::from_str(early).unwrap_or_default();
        assert_eq!(early, serde_json::to_value(first_page_request()).unwrap_or_default());
        assert!(script.contains("sendMessage(request)"));
        assert!(script.contains(FIRST_PAGE_GLOBAL));
    }

    /// first-page.js opens the database at the schema version this build writes: an older
    /// constant would fail every direct read, a newer one would ask for an upgrade it aborts.
    #[test]
    fn first_page_js_reads_the_current_schema() {
        let script = include_str!("../static/first-page.js");
        let version = format!("const SCHEMA_VERSION = {};", dreamcatcher_library::SCHEMA_VERSION);
        assert!(script.contains(&version), "first-page.js lacks `{version}`");
    }

    #[test]
    fn errors_and_surprises_are_typed() {
        let error = Response::Error(ApiError::new(ErrorCode::NotFound, "No dream dc-9."));
        let decoded: Result<DreamPage, _> =
            decode("list_dreams", "dream_page", &serde_json::to_string(&error).unwrap_or_default());
        assert_eq!(decoded, Err(BackendError::Api(ApiError::new(ErrorCode::NotFound, "No dream dc-9."))));
        let decoded: Result<DreamPage, _> = decode("list_dreams", "dream_page", r#"{"type":"done"}"#);
        assert_eq!(decoded, Err(BackendError::UnexpectedAnswer { request: "list_dreams", got: "done".into() }));
        let decoded: Result<DreamPage, _> = decode("list_dreams", "dream_page", "not json");
        assert!(matches!(decoded, Err(BackendError::UnexpectedAnswer { .. })));
    }
}
