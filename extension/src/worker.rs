//! The service worker's entry points, called by `background.js` from the listeners it
//! registers synchronously. Requests are answered one at a time (an async mutex) so a capture
//! and an edit never interleave between their read and their write.

use std::cell::RefCell;
use std::rc::Rc;

use futures::lock::Mutex;
use js_sys::{Array, Promise, Reflect};
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use dreamcatcher_library::{DreamStore, Library};
use dreamcatcher_library::api::{ApiError, ErrorCode, Request, Response};

use crate::error::{Context, JsFailure, describe};
use crate::idb_store::{DATABASE_NAME, IdbStore};

const MENU_SAVE_SELECTION: &str = "dreamcatcher-save-selection";
const COMMAND_CAPTURE: &str = "capture-conversation";
const CHAT_PAGES: [&str; 3] = [
    "https://chatgpt.com/*",
    "https://chat.openai.com/*",
    "https://claude.ai/*",
];
/// Quiet time after a change before the search index snapshot is saved.
const SNAPSHOT_DELAY_MS: i32 = 3000;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["chrome", "action"], js_name = setBadgeText, catch)]
    fn set_badge_text(details: &JsValue) -> Result<Promise, JsValue>;
    #[wasm_bindgen(js_namespace = ["chrome", "action"], js_name = setBadgeBackgroundColor, catch)]
    fn set_badge_background_color(details: &JsValue) -> Result<Promise, JsValue>;
    #[wasm_bindgen(js_namespace = ["chrome", "contextMenus"], js_name = removeAll, catch)]
    fn context_menus_remove_all() -> Result<Promise, JsValue>;
    #[wasm_bindgen(js_namespace = ["chrome", "contextMenus"], js_name = create, catch)]
    fn context_menus_create(properties: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_namespace = ["chrome", "tabs"], js_name = sendMessage, catch)]
    fn tabs_send_message(tab_id: i32, message: &JsValue) -> Result<Promise, JsValue>;
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &js_sys::Function, millis: i32) -> JsValue;
}

type SharedLibrary = Rc<Mutex<Option<Library<IdbStore>>>>;

thread_local! {
    static LIBRARY: SharedLibrary = Rc::new(Mutex::new(None));
    static SNAPSHOT_TIMER_SET: RefCell<bool> = const { RefCell::new(false) };
}

fn shared() -> SharedLibrary {
    LIBRARY.with(Rc::clone)
}

pub(crate) fn now() -> dreamcatcher_model::Timestamp {
    chrono::DateTime::from_timestamp_millis(js_sys::Date::now() as i64).unwrap_or_default()
}

fn to_js<T: Serialize>(value: &T) -> JsValue {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .unwrap_or_else(|error| {
            JsValue::from_str(&format!(
                "Dreamcatcher could not encode its answer: {error}"
            ))
        })
}

fn error_response(code: ErrorCode, message: String) -> Response {
    Response::Error(ApiError::new(code, message))
}

/// Runs `work` with the library, opening it first if this worker has not yet.
pub(crate) async fn with_library<T>(
    work: impl AsyncFnOnce(&mut Library<IdbStore>) -> T,
) -> Result<T, ApiError> {
    let shared = shared();
    let mut guard = shared.lock().await;
    if guard.is_none() {
        let store = IdbStore::open(DATABASE_NAME).await?;
        *guard = Some(Library::open(store).await?);
    }
    match guard.as_mut() {
        Some(library) => Ok(work(library).await),
        None => Err(ApiError::new(
            ErrorCode::Internal,
            "the library is not open",
        )),
    }
}

async fn sleep(millis: i32) {
    let promise = Promise::new(&mut |resolve, _reject| {
        set_timeout(&resolve, millis);
    });
    let _ = JsFuture::from(promise).await;
}

/// Saves the index snapshot once changes have settled; a worker stopped before that loses
/// nothing (the library replays the changes on open), it only replays a little more.
fn schedule_snapshot() {
    let already = SNAPSHOT_TIMER_SET.with(|set| set.replace(true));
    if already {
        return;
    }
    wasm_bindgen_futures::spawn_local(async {
        sleep(SNAPSHOT_DELAY_MS).await;
        SNAPSHOT_TIMER_SET.with(|set| set.replace(false));
        let saved = with_library(async |library| {
            if library.unsaved_index_changes() > 0 {
                library.save_index().await
            } else {
                Ok(())
            }
        })
        .await;
        if let Err(error) | Ok(Err(error)) = saved {
            log_error(&format!("saving the search index failed: {error}"));
        }
    });
}

pub(crate) fn log_error(message: &str) {
    web_sys::console::error_1(&JsValue::from_str(&format!("Dreamcatcher: {message}")));
}

/// The badge: in connected mode the changes not yet synced (or `!` when sync fails), else
/// the captures not yet opened.
pub(crate) async fn refresh_badge(library: &mut Library<IdbStore>) {
    let connected = match library.sync_link() {
        Some(_) => match library.store().count_outbox().await {
            Ok(pending) => crate::sync::badge(pending),
            Err(error) => return log_error(&format!("badge count failed: {error}")),
        },
        None => None,
    };
    let (text, color) = match connected {
        Some((text, color)) => (text, color),
        None => {
            let count = match library.unopened_count().await {
                Ok(count) => count,
                Err(error) => return log_error(&format!("badge count failed: {error}")),
            };
            let text = match count {
                0 => String::new(),
                1..=999 => count.to_string(),
                _ => "999+".to_string(),
            };
            (text, "#5b4bdb")
        }
    };
    let details = to_js(&serde_json::json!({ "text": text }));
    let color = to_js(&serde_json::json!({ "color": color }));
    for result in [set_badge_text(&details), set_badge_background_color(&color)] {
        match result {
            Ok(promise) => {
                if let Err(error) = JsFuture::from(promise).await {
                    log_error(&format!("badge update failed: {}", describe(&error)));
                }
            }
            Err(error) => log_error(&format!("badge update failed: {}", describe(&error))),
        }
    }
}

/// Fills in what only the browser knows (storage used).
async fn add_storage_estimate(response: &mut Response) {
    let Response::Stats(stats) = response else {
        return;
    };
    let Ok(scope) = js_sys::global().dyn_into::<web_sys::WorkerGlobalScope>() else {
        return;
    };
    let Ok(promise) = scope.navigator().storage().estimate() else {
        return;
    };
    let Ok(estimate) = JsFuture::from(promise).await else {
        return;
    };
    let number = |name: &str| {
        Reflect::get(&estimate, &JsValue::from_str(name))
            .ok()
            .and_then(|v| v.as_f64())
    };
    stats.storage_used_bytes = number("usage").map(|v| v as u64);
    stats.storage_quota_bytes = number("quota").map(|v| v as u64);
}

/// Stores an import's conversations batch by batch, releasing the library between batches
/// so the popup's progress polls are answered.
async fn run_import(import_id: String) {
    loop {
        let step = with_library(async |library| {
            let progress = library.import_step(&import_id, now()).await;
            refresh_badge(library).await;
            progress
        })
        .await;
        crate::sync::after_change().await;
        match step {
            Ok(Ok(progress)) if progress.summary.is_some() => return,
            Ok(Ok(_)) => sleep(0).await,
            Ok(Err(error)) | Err(error) => {
                return log_error(&format!("import {import_id} stopped: {error}"));
            }
        }
    }
}

/// Answers one `chrome.runtime.onMessage` request (from a content script or the popup).
#[wasm_bindgen]
pub async fn handle_message(message: JsValue) -> JsValue {
    crate::install_panic_hook();
    let request: Request = match serde_wasm_bindgen::from_value(message) {
        Ok(request) => request,
        Err(error) => {
            return to_js(&error_response(
                ErrorCode::InvalidRequest,
                format!("not a Dreamcatcher request: {error}"),
            ));
        }
    };
    // Any message wakes the worker: resume syncing if paired (no-op when already running).
    crate::sync::ensure_started();
    if let Some(response) = crate::sync::answer(&request).await {
        return to_js(&response);
    }
    let changes = Library::<IdbStore>::changes_library(&request);
    let starts_import = match &request {
        Request::ImportChunk {
            import_id,
            last: true,
            ..
        } => Some(import_id.clone()),
        _ => None,
    };
    let answered = with_library(async |library| {
        let response = library.handle(request, now()).await;
        if changes {
            refresh_badge(library).await;
        }
        response
    })
    .await;
    let mut response = answered.unwrap_or_else(Response::Error);
    // Outside the library's lock: Chromium's estimate takes ~100 ms with a large database,
    // and the popup's next requests (filter menus, related dreams) need not wait for it.
    add_storage_estimate(&mut response).await;
    if let (Some(import_id), Response::ImportProgress(progress)) = (starts_import, &response)
        && progress.summary.is_none()
    {
        wasm_bindgen_futures::spawn_local(run_import(import_id));
    }
    if changes {
        schedule_snapshot();
        crate::sync::after_change().await;
    }
    to_js(&response)
}

/// `chrome.alarms.onAlarm`: the periodic wake-up that resumes sync in a stopped worker.
#[wasm_bindgen]
pub async fn on_alarm(name: String) {
    crate::install_panic_hook();
    if name == crate::sync::SYNC_ALARM {
        crate::sync::ensure_started();
        crate::sync::feed(dreamcatcher_sync::ClientInput::TimerFired);
    }
}

/// The worker's `online`/`offline` events.
#[wasm_bindgen]
pub async fn on_network_change(online: bool) {
    crate::install_panic_hook();
    crate::sync::ensure_started();
    crate::sync::feed(dreamcatcher_sync::ClientInput::NetworkChanged { online });
}

/// `chrome.runtime.onInstalled`: (re)creates the context-menu entry.
#[wasm_bindgen]
pub async fn on_installed() -> Result<(), JsValue> {
    crate::install_panic_hook();
    JsFuture::from(context_menus_remove_all()?).await?;
    let patterns: Array = CHAT_PAGES.iter().map(|p| JsValue::from_str(p)).collect();
    let properties = js_sys::Object::new();
    for (name, value) in [
        ("id", JsValue::from_str(MENU_SAVE_SELECTION)),
        ("title", JsValue::from_str("Save selection to Dreamcatcher")),
        (
            "contexts",
            Array::of1(&JsValue::from_str("selection")).into(),
        ),
        ("documentUrlPatterns", patterns.into()),
    ] {
        Reflect::set(&properties, &JsValue::from_str(name), &value)?;
    }
    context_menus_create(&properties)?;
    with_library(async |library| refresh_badge(library).await)
        .await
        .map_err(|e| JsValue::from_str(&e.message))?;
    crate::sync::ensure_started();
    Ok(())
}

async fn send_to_tab(tab_id: i32, message: &serde_json::Value) -> Result<JsValue, JsFailure> {
    let promise = tabs_send_message(tab_id, &to_js(message)).context("tabs.sendMessage")?;
    JsFuture::from(promise).await.context("tabs.sendMessage")
}

fn tab_id(tab: &JsValue) -> Option<i32> {
    Reflect::get(tab, &JsValue::from_str("id"))
        .ok()?
        .as_f64()
        .map(|id| id as i32)
}

fn string_field(object: &JsValue, name: &str) -> Option<String> {
    Reflect::get(object, &JsValue::from_str(name))
        .ok()?
        .as_string()
}

/// `chrome.contextMenus.onClicked`: saves the selection and tells the page what happened.
#[wasm_bindgen]
pub async fn on_context_menu(info: JsValue, tab: JsValue) {
    crate::install_panic_hook();
    if string_field(&info, "menuItemId").as_deref() != Some(MENU_SAVE_SELECTION) {
        return;
    }
    let tab_id = tab_id(&tab);
    // The content script's selection keeps line breaks that `selectionText` collapses.
    let mut text = string_field(&info, "selectionText").unwrap_or_default();
    if let Some(id) = tab_id
        && let Ok(reply) = send_to_tab(
            id,
            &serde_json::json!({ "type": "dreamcatcher_get_selection" }),
        )
        .await
        && let Some(exact) = reply.as_string().filter(|s| !s.trim().is_empty())
    {
        text = exact;
    }
    let request = Request::CaptureSelection {
        url: string_field(&info, "pageUrl").unwrap_or_default(),
        page_title: string_field(&tab, "title").unwrap_or_default(),
        text,
    };
    let response = match with_library(async |library| {
        let response = library.handle(request, now()).await;
        refresh_badge(library).await;
        response
    })
    .await
    {
        Ok(response) => response,
        Err(error) => Response::Error(error),
    };
    schedule_snapshot();
    crate::sync::after_change().await;
    if let Some(id) = tab_id {
        let feedback = serde_json::json!({ "type": "dreamcatcher_feedback", "response": response });
        if let Err(failure) = send_to_tab(id, &feedback).await {
            log_error(&format!("could not show the result in the page: {failure}"));
        }
    }
}

/// `chrome.commands.onCommand`: asks the active chat tab's content script to capture.
#[wasm_bindgen]
pub async fn on_command(command: String, tab: JsValue) {
    crate::install_panic_hook();
    if command != COMMAND_CAPTURE {
        return;
    }
    let Some(id) = tab_id(&tab) else { return };
    let message = serde_json::json!({ "type": "dreamcatcher_capture", "trigger": "shortcut" });
    if let Err(failure) = send_to_tab(id, &message).await {
        // Not a chat tab (no content script there): nothing to capture.
        log_error(&format!("shortcut ignored: {failure}"));
    }
}
