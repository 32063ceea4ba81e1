//! Connected mode in the service worker: drives the sync core's [`SyncClient`] over a
//! browser WebSocket, and answers the settings page's pairing, connection test and "Send to
//! PipelineOS".
//!
//! The worker is disposable: the client is rebuilt from IndexedDB (outbox and cursor) by
//! [`ensure_started`] whenever the worker wakes (a message, the `chrome.alarms` tick, the
//! network coming back), so a stop at any moment loses nothing. Inputs go through one queue
//! because the client expects them in order and its commands carried out in order.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use js_sys::{Promise, Reflect};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{CloseEvent, MessageEvent, WebSocket};

use dreamcatcher_library::api::{
    ApiError, ConnectionTest, ErrorCode, FailureReport, ImplementationState, Mode, Request,
    Response, Settings, SyncOverview,
};
use dreamcatcher_library::{DreamStore, SyncLink};
use dreamcatcher_sync::{
    ClientCommand, ClientInput, ConnectionId, DeviceId, RandomSource, SyncClient, SyncClientConfig,
    SyncStatus, TransportFailure,
};

use crate::net::{self, Reply};
use crate::worker::{log_error, now, refresh_badge, with_library};

/// The alarm that wakes a stopped worker to resume syncing.
pub const SYNC_ALARM: &str = "dreamcatcher-sync";
/// Longest `setTimeout` used; later wake-ups are left to the alarm (a sleeping worker's
/// timers die with it).
const LONGEST_TIMER_MS: f64 = 60_000.0;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["chrome", "alarms"], js_name = create, catch)]
    fn alarms_create(name: &str, info: &JsValue) -> Result<Promise, JsValue>;
    #[wasm_bindgen(js_namespace = ["chrome", "alarms"], js_name = clear, catch)]
    fn alarms_clear(name: &str) -> Result<Promise, JsValue>;
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &js_sys::Function, millis: i32) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(handle: &JsValue);
}

/// Random values from `crypto.getRandomValues` (reconnect jitter, the device id).
pub struct CryptoRandom;

impl RandomSource for CryptoRandom {
    fn next_u64(&mut self) -> u64 {
        let mut bytes = [0u8; 8];
        let filled = js_sys::global()
            .dyn_into::<web_sys::WorkerGlobalScope>()
            .ok()
            .and_then(|scope| scope.crypto().ok())
            .and_then(|crypto| crypto.get_random_values_with_u8_array(&mut bytes).ok());
        if filled.is_none() {
            // Only jitter would suffer; ids are drawn after pairing succeeded in a worker.
            let fallback = js_sys::Math::random() * (u64::MAX as f64);
            return fallback as u64;
        }
        u64::from_le_bytes(bytes)
    }
}

struct OpenSocket {
    id: ConnectionId,
    socket: WebSocket,
    _on_open: Closure<dyn FnMut()>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

/// Work for the sync pump, done strictly in the order queued.
enum Job {
    /// Build the client from the store when paired and not running.
    Start,
    /// Drop the client and its socket (unpairing, or before a new pairing).
    Stop,
    Input(ClientInput),
}

#[derive(Default)]
struct Driver {
    client: Option<SyncClient<CryptoRandom>>,
    server_url: String,
    socket: Option<OpenSocket>,
    status: Option<SyncStatus>,
    timer: Option<(JsValue, Closure<dyn FnMut()>)>,
    queue: VecDeque<Job>,
    pumping: bool,
}

thread_local! {
    static DRIVER: RefCell<Driver> = RefCell::new(Driver::default());
}

fn running() -> bool {
    DRIVER.with(|d| d.borrow().client.is_some())
}

/// The live status, for the popup and the badge.
pub fn live_status() -> Option<SyncStatus> {
    DRIVER.with(|d| d.borrow().status.clone())
}

fn websocket_url(server_url: &str) -> String {
    let base = server_url.trim_end_matches('/');
    let base = match (base.strip_prefix("https://"), base.strip_prefix("http://")) {
        (Some(rest), _) => format!("wss://{rest}"),
        (None, Some(rest)) => format!("ws://{rest}"),
        _ => base.to_string(),
    };
    format!("{base}/ws/dreamcatcher")
}

/// Queues a job; one pump task carries jobs out one after another, so socket events, timers
/// and local changes reach the client in the order they happened (an async lock would not
/// promise that order).
fn enqueue(job: Job) {
    let start_pump = DRIVER.with(|d| {
        let mut driver = d.borrow_mut();
        driver.queue.push_back(job);
        !std::mem::replace(&mut driver.pumping, true)
    });
    if start_pump {
        wasm_bindgen_futures::spawn_local(pump());
    }
}

async fn pump() {
    loop {
        let job = DRIVER.with(|d| {
            let mut driver = d.borrow_mut();
            let job = driver.queue.pop_front();
            if job.is_none() {
                driver.pumping = false;
            }
            job
        });
        match job {
            Some(Job::Start) => start().await,
            Some(Job::Stop) => halt().await,
            Some(Job::Input(input)) => {
                let commands = DRIVER.with(|d| {
                    d.borrow_mut()
                        .client
                        .as_mut()
                        .map(|client| client.handle(now(), input))
                });
                if let Some(commands) = commands {
                    carry_out(commands).await;
                }
            }
            None => return,
        }
    }
}

/// Starts syncing when paired (the client is rebuilt from the store); nothing if running.
pub fn ensure_started() {
    enqueue(Job::Start);
}

/// Gives the client one input, after everything queued before it.
pub fn feed(input: ClientInput) {
    enqueue(Job::Input(input));
}

/// Stops syncing (unpairing): the socket closes, the client goes; the outbox stays stored.
pub fn stop() {
    enqueue(Job::Stop);
}

async fn start() {
    if running() {
        return;
    }
    let resume = with_library(async |library| {
        let Some(link) = library.sync_link().cloned() else {
            return Ok(None);
        };
        // The client starts from the stored outbox, which holds these too.
        library.take_recorded_operations();
        let (operations, cursor) = library.sync_resume_state().await?;
        Ok::<_, ApiError>(Some((link, operations, cursor)))
    })
    .await;
    let (link, operations, cursor) = match resume {
        Ok(Ok(Some(state))) => state,
        Ok(Ok(None)) => return,
        Ok(Err(error)) | Err(error) => {
            return log_error(&format!("sync could not start: {error}"));
        }
    };
    let mut client = SyncClient::restore(
        SyncClientConfig::new(link.device_token.clone()),
        operations,
        cursor,
        CryptoRandom,
    );
    if !net::online() {
        client.handle(now(), ClientInput::NetworkChanged { online: false });
    }
    let commands = client.handle(now(), ClientInput::Start);
    DRIVER.with(|d| {
        let mut driver = d.borrow_mut();
        driver.client = Some(client);
        driver.server_url = link.server_url.clone();
    });
    schedule_alarm().await;
    carry_out(commands).await;
}

async fn halt() {
    DRIVER.with(|d| {
        let mut driver = d.borrow_mut();
        if let Some(open) = driver.socket.take() {
            open.socket.set_onclose(None);
            let _ = open.socket.close();
        }
        if let Some((handle, _)) = driver.timer.take() {
            clear_timeout(&handle);
        }
        driver.client = None;
        driver.status = None;
    });
    if let Ok(promise) = alarms_clear(SYNC_ALARM) {
        let _ = JsFuture::from(promise).await;
    }
}

async fn schedule_alarm() {
    let info = js_sys::Object::new();
    let _ = Reflect::set(&info, &"periodInMinutes".into(), &JsValue::from_f64(1.0));
    match alarms_create(SYNC_ALARM, &info) {
        Ok(promise) => {
            if let Err(error) = JsFuture::from(promise).await {
                log_error(&format!("sync alarm: {}", crate::error::describe(&error)));
            }
        }
        Err(error) => log_error(&format!("sync alarm: {}", crate::error::describe(&error))),
    }
}

/// Hands operations the library recorded to the client (after every change request).
pub async fn after_change() {
    if !running() {
        ensure_started();
        return;
    }
    let recorded = with_library(async |library| library.take_recorded_operations())
        .await
        .unwrap_or_default();
    for operation in recorded {
        feed(ClientInput::OperationRecorded(operation));
    }
}

async fn carry_out(commands: Vec<ClientCommand>) {
    let changes_library = commands
        .iter()
        .any(|c| matches!(c, ClientCommand::ApplyEvents { .. }));
    let rest = with_library(async |library| {
        let rest = library.run_sync_commands(commands, now()).await;
        if changes_library {
            refresh_badge(library).await;
        }
        rest
    })
    .await;
    let rest = match rest {
        Ok(Ok(rest)) => rest,
        Ok(Err(error)) | Err(error) => {
            // The storage part failed: drop the connection; the client resends and the
            // service replays from the stored cursor.
            log_error(&format!("sync could not store: {error}"));
            if let Some(id) = DRIVER.with(|d| d.borrow().socket.as_ref().map(|s| s.id)) {
                close_socket(id);
                feed(ClientInput::ConnectionClosed(
                    id,
                    TransportFailure::Closed { code: 1011 },
                ));
            }
            return;
        }
    };
    for command in rest {
        match command {
            ClientCommand::OpenConnection(id) => open_socket(id),
            ClientCommand::Send { connection, text } => {
                let sent = DRIVER.with(|d| {
                    d.borrow()
                        .socket
                        .as_ref()
                        .filter(|s| s.id == connection)
                        .map(|s| s.socket.send_with_str(&text))
                });
                if let Some(Err(error)) = sent {
                    log_error(&format!("sync send failed: {}", crate::error::describe(&error)));
                    close_socket(connection);
                    feed(ClientInput::ConnectionClosed(
                        connection,
                        TransportFailure::Closed { code: 1006 },
                    ));
                }
            }
            ClientCommand::CloseConnection(id) => close_socket(id),
            ClientCommand::WakeAt(at) => set_timer(at),
            ClientCommand::StatusChanged(status) => {
                DRIVER.with(|d| d.borrow_mut().status = Some(status));
                let _ = with_library(async |library| refresh_badge(library).await).await;
            }
            ClientCommand::Warn(warning) => {
                web_sys::console::warn_1(&JsValue::from_str(&format!("Dreamcatcher sync: {warning}")));
            }
            ClientCommand::Acknowledged(_)
            | ClientCommand::ApplyEvents { .. }
            | ClientCommand::SaveCursor(_) => {}
        }
    }
}

fn set_timer(at: dreamcatcher_model::Timestamp) {
    let delay = (at.timestamp_millis() as f64 - js_sys::Date::now()).clamp(0.0, LONGEST_TIMER_MS);
    let callback = Closure::<dyn FnMut()>::new(|| feed(ClientInput::TimerFired));
    let handle = set_timeout(callback.as_ref().unchecked_ref(), delay as i32);
    DRIVER.with(|d| {
        if let Some((old, _)) = d.borrow_mut().timer.replace((handle, callback)) {
            clear_timeout(&old);
        }
    });
}

fn close_socket(id: ConnectionId) {
    DRIVER.with(|d| {
        let mut driver = d.borrow_mut();
        if driver.socket.as_ref().is_some_and(|s| s.id == id)
            && let Some(open) = driver.socket.take()
        {
            open.socket.set_onopen(None);
            open.socket.set_onmessage(None);
            open.socket.set_onclose(None);
            let _ = open.socket.close();
        }
    });
}

fn open_socket(id: ConnectionId) {
    let url = websocket_url(&DRIVER.with(|d| d.borrow().server_url.clone()));
    let socket = match WebSocket::new(&url) {
        Ok(socket) => socket,
        Err(error) => {
            log_error(&format!("sync cannot open {url}: {}", crate::error::describe(&error)));
            feed(ClientInput::ConnectionClosed(id, TransportFailure::Refused));
            return;
        }
    };
    let opened = Rc::new(RefCell::new(false));
    let on_open = {
        let opened = Rc::clone(&opened);
        Closure::<dyn FnMut()>::new(move || {
            *opened.borrow_mut() = true;
            feed(ClientInput::ConnectionOpened(id));
        })
    };
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        if let Some(text) = event.data().as_string() {
            feed(ClientInput::MessageReceived(id, text));
        }
    });
    let on_close = {
        let opened = Rc::clone(&opened);
        Closure::<dyn FnMut(CloseEvent)>::new(move |event: CloseEvent| {
            let failure = if *opened.borrow() {
                TransportFailure::Closed { code: event.code() }
            } else if !net::online() {
                TransportFailure::Unreachable
            } else {
                // The browser hides why an upgrade failed (always 1006); with the network
                // up, nothing listening is the likely cause.
                TransportFailure::Refused
            };
            feed(ClientInput::ConnectionClosed(id, failure));
        })
    };
    socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    DRIVER.with(|d| {
        let mut driver = d.borrow_mut();
        if let Some(old) = driver.socket.take() {
            old.socket.set_onclose(None);
            let _ = old.socket.close();
        }
        driver.socket = Some(OpenSocket {
            id,
            socket,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
        });
    });
}

/// The badge in connected mode: changes waiting to sync, or `!` on a failure; `None` when
/// the standalone badge (unopened captures) applies.
pub fn badge(pending: usize) -> Option<(String, &'static str)> {
    let status = live_status()?;
    if let dreamcatcher_sync::ConnectionState::Error(_) = status.state {
        return Some(("!".into(), "#c62828"));
    }
    match pending {
        0 => None,
        1..=999 => Some((pending.to_string(), "#e08a00")),
        _ => Some(("999+".into(), "#e08a00")),
    }
}

fn sync_error(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::Sync, message)
}

fn failure_error(report: &FailureReport) -> ApiError {
    let detail = if report.detail.is_empty() {
        String::new()
    } else {
        format!(" ({})", report.detail)
    };
    sync_error(format!("{} {}{detail}", report.title, report.message))
}

async fn overview() -> Result<SyncOverview, ApiError> {
    let live = live_status();
    with_library(async |library| library.sync_overview(live.as_ref()).await).await?
}

/// Answers the requests that need the network; `None` for all others.
pub async fn answer(request: &Request) -> Option<Response> {
    let result = match request {
        Request::SyncStatus => overview().await.map(Response::SyncOverview),
        Request::Pair {
            server_url,
            pairing_code,
            device_name,
        } => pair(server_url, pairing_code, device_name).await,
        Request::Unpair => unpair().await,
        Request::TestConnection { server_url } => test_connection(server_url.as_deref())
            .await
            .map(Response::ConnectionTest),
        Request::SyncNow => {
            ensure_started();
            feed(ClientInput::RetryNow);
            overview().await.map(Response::SyncOverview)
        }
        Request::SendToPipeline { id } => send_to_pipeline(id).await,
        _ => return None,
    };
    Some(result.unwrap_or_else(Response::Error))
}

fn normalised_url(url: &str) -> String {
    url.trim().trim_end_matches('/').to_string()
}

async fn pair(server_url: &str, code: &str, device_name: &str) -> Result<Response, ApiError> {
    let server_url = normalised_url(server_url);
    let current = with_library(async |library| library.settings().clone()).await?;
    dreamcatcher_library::settings::validate(&Settings {
        mode: Mode::Connected,
        server_url: Some(server_url.clone()),
        ..current
    })?;
    let code: String = code.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
    if code.is_empty() {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            "pairing_code: enter the code printed by `dreamcatcher-server pair NAME`.",
        ));
    }
    let device_name = match device_name.trim() {
        "" => "Chrome".to_string(),
        name => name.to_string(),
    };
    let url = format!("{server_url}/api/v1/pair");
    let body = serde_json::json!({ "code": code, "device_name": device_name });
    let reply = net::request("POST", &url, None, Some(&body))
        .await
        .map_err(|report| failure_error(&report))?;
    let token = match reply.status {
        200 | 201 => reply
            .json()
            .get("token")
            .and_then(|t| t.as_str())
            .map(str::to_string)
            .ok_or_else(|| sync_error(format!("{url} answered without a token: not a PipelineOS service?")))?,
        401 | 403 | 404 if reply.json().get("code").is_some() => {
            return Err(ApiError::new(
                ErrorCode::InvalidRequest,
                format!("pairing_code: PipelineOS did not accept the code: {}", reply.message()),
            ));
        }
        429 => {
            let mut error = sync_error(format!(
                "Too many pairing attempts; PipelineOS asks to wait. {}",
                reply.message()
            ));
            error.retry_after_secs = reply.retry_after_secs();
            return Err(error);
        }
        _ => return Err(failure_error(&reply.failure(&url))),
    };
    let link = SyncLink {
        server_url,
        device_token: token,
        device_name,
        paired_at: now(),
    };
    stop();
    let new_device = DeviceId::generate(&mut CryptoRandom);
    with_library(async |library| library.pair(link, new_device, now()).await).await??;
    ensure_started();
    overview().await.map(Response::SyncOverview)
}

async fn unpair() -> Result<Response, ApiError> {
    stop();
    with_library(async |library| {
        library.unpair().await?;
        refresh_badge(library).await;
        Ok::<_, ApiError>(())
    })
    .await??;
    overview().await.map(Response::SyncOverview)
}

async fn test_connection(server_url: Option<&str>) -> Result<ConnectionTest, ApiError> {
    let link = with_library(async |library| library.sync_link().cloned()).await?;
    let server_url = match (server_url.map(str::trim).filter(|u| !u.is_empty()), &link) {
        (Some(url), _) => normalised_url(url),
        (None, Some(link)) => link.server_url.clone(),
        (None, None) => {
            return Err(ApiError::new(
                ErrorCode::InvalidRequest,
                "server_url: enter the PipelineOS server's address to test.",
            ));
        }
    };
    dreamcatcher_library::settings::validate(&Settings {
        mode: Mode::Connected,
        server_url: Some(server_url.clone()),
        ..Settings::default()
    })?;
    let mut steps = Vec::new();
    let health_url = format!("{server_url}/health");
    let health = match net::request("GET", &health_url, None, None).await {
        Ok(reply) if reply.ok() => reply,
        Ok(reply) => return Ok(failed(steps, reply.failure(&health_url))),
        Err(report) => return Ok(failed(steps, report)),
    };
    let info = health.json();
    if info.get("protocol_version").is_none() {
        let report = FailureReport::new(
            dreamcatcher_sync::FailureKind::ServerNotRunning,
            format!("{health_url} answered, but not as a PipelineOS Dreamcatcher service"),
        );
        return Ok(failed(steps, report));
    }
    steps.push(format!(
        "Reached PipelineOS at {server_url} (version {}, {} storage).",
        info.get("version").and_then(|v| v.as_str()).unwrap_or("?"),
        info.get("database").and_then(|v| v.as_str()).unwrap_or("unknown")
    ));
    let Some(link) = link.filter(|l| l.server_url == server_url) else {
        steps.push("Not paired with this server yet: enter a pairing code to connect.".into());
        return Ok(ConnectionTest {
            ok: true,
            steps,
            failure: None,
        });
    };
    let dreams_url = format!("{server_url}/api/v1/dreams?limit=1");
    match net::request("GET", &dreams_url, Some(&link.device_token), None).await {
        Ok(reply) if reply.ok() => {
            let total = reply.json().get("total").and_then(|t| t.as_u64());
            steps.push(match total {
                Some(total) => format!("This browser's token is accepted; {total} dreams on the service."),
                None => "This browser's token is accepted.".to_string(),
            });
            Ok(ConnectionTest {
                ok: true,
                steps,
                failure: None,
            })
        }
        Ok(reply) => Ok(failed(steps, reply.failure(&dreams_url))),
        Err(report) => Ok(failed(steps, report)),
    }
}

fn failed(steps: Vec<String>, failure: FailureReport) -> ConnectionTest {
    ConnectionTest {
        ok: false,
        steps,
        failure: Some(failure),
    }
}

async fn send_to_pipeline(id: &str) -> Result<Response, ApiError> {
    let (link, stored, waiting) = with_library(async |library| {
        let link = library.require_link()?.clone();
        let stored = library.get_stored(id).await?;
        let waiting = library
            .store()
            .outbox_for_dreams(&[id.to_string()])
            .await?
            .len();
        Ok::<_, ApiError>((link, stored, waiting))
    })
    .await??;
    if stored.revision == 0 || waiting > 0 {
        return Err(sync_error(format!(
            "“{}” has not reached PipelineOS yet ({waiting} change(s) waiting to sync). It is \
             sent as soon as sync catches up; try again then.",
            stored.dream.conversation.title
        )));
    }
    let url = format!("{}/api/v1/dreams/{id}/implement", link.server_url);
    let reply: Reply = net::request("POST", &url, Some(&link.device_token), None)
        .await
        .map_err(|report| failure_error(&report))?;
    if !reply.ok() {
        if reply.status == 404 {
            return Err(sync_error(format!(
                "PipelineOS has no dream {id}: it may have been deleted on another device."
            )));
        }
        return Err(failure_error(&reply.failure(&url)));
    }
    let project = reply.json();
    with_library(async |library| {
        library
            .set_implementation(id, ImplementationState::Requested, now(), |i| {
                i.project = Some(project)
            })
            .await?;
        let stored = library.get_stored(id).await?;
        Ok::<_, ApiError>(Response::Dream {
            dream: stored.dream,
            implementation: stored.implementation,
        })
    })
    .await?
}
