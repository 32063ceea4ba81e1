//! HTTP to the PipelineOS service from the worker (pairing, the connection test, "Send to
//! PipelineOS"), with failures sorted into the kinds the UI explains (§8.4 of the spec).

use js_sys::Promise;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, Headers, RequestInit, WorkerGlobalScope};

use dreamcatcher_library::api::FailureReport;
use dreamcatcher_sync::{FailureKind, TransportFailure};

use crate::error::describe;

/// Requests give up after this long (an unreachable host otherwise hangs for minutes).
const TIMEOUT_MS: u32 = 10_000;

/// A completed HTTP exchange.
pub struct Reply {
    pub status: u16,
    pub body: String,
}

impl Reply {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// The service's `message` (its errors are JSON), else the start of the body.
    pub fn message(&self) -> String {
        match self.json().get("message").and_then(|m| m.as_str()) {
            Some(message) => message.to_string(),
            None => self.body.chars().take(200).collect(),
        }
    }

    pub fn retry_after_secs(&self) -> Option<u64> {
        self.json().get("retry_after_secs").and_then(|v| v.as_u64())
    }

    /// The failure kind for a non-success status.
    pub fn failure(&self, url: &str) -> FailureReport {
        let kind = FailureKind::from_transport(TransportFailure::HttpStatus {
            status: self.status,
        });
        FailureReport::new(
            kind,
            format!("{url} answered HTTP {}: {}", self.status, self.message()),
        )
    }
}

fn scope() -> Result<WorkerGlobalScope, FailureReport> {
    js_sys::global()
        .dyn_into::<WorkerGlobalScope>()
        .map_err(|_| FailureReport::new(FailureKind::Network, "not running in a worker"))
}

/// True when the browser believes it has a network.
pub fn online() -> bool {
    scope().map(|s| s.navigator().on_line()).unwrap_or(true)
}

/// Sends one request; a transport failure (nothing answered) comes back as the report the
/// UI shows: "not running" when the network is up, "network" when it is not.
pub async fn request(
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<&serde_json::Value>,
) -> Result<Reply, FailureReport> {
    let scope = scope()?;
    let init = RequestInit::new();
    init.set_method(method);
    let headers = Headers::new().map_err(|e| transport(url, &e))?;
    if let Some(token) = token {
        headers
            .set("Authorization", &format!("Bearer {token}"))
            .map_err(|e| transport(url, &e))?;
    }
    if let Some(body) = body {
        headers
            .set("Content-Type", "application/json")
            .map_err(|e| transport(url, &e))?;
        init.set_body(&JsValue::from_str(&body.to_string()));
    }
    init.set_headers(&headers);
    init.set_signal(Some(&AbortSignal::timeout_with_u32(TIMEOUT_MS)));
    let response = JsFuture::from(scope.fetch_with_str_and_init(url, &init))
        .await
        .map_err(|e| transport(url, &e))?;
    let response: web_sys::Response = response.dyn_into().map_err(|e| transport(url, &e))?;
    let status = response.status();
    let text: Promise = response.text().map_err(|e| transport(url, &e))?;
    let body = JsFuture::from(text)
        .await
        .map_err(|e| transport(url, &e))?
        .as_string()
        .unwrap_or_default();
    Ok(Reply { status, body })
}

fn transport(url: &str, error: &JsValue) -> FailureReport {
    let detail = describe(error);
    let timed_out = detail.contains("timed out") || detail.contains("TimeoutError");
    let kind = if !online() || timed_out {
        FailureKind::Network
    } else {
        // A browser reports a refused connection and an unknown host alike; with the network
        // up, the service not running is by far the likelier.
        FailureKind::ServerNotRunning
    };
    FailureReport::new(kind, format!("{url}: {detail}"))
}
