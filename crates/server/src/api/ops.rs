//! Health, readiness, metrics, and the JSON answers for unknown routes and panics.

use std::any::Any;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::ApiError;
use crate::metrics::CONTENT_TYPE;
use crate::server::SharedState;

/// The process is up (says nothing about the database: see `/ready`).
pub async fn health(State(state): State<SharedState>) -> Json<serde_json::Value> {
    Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "database": state.db.backend_name(),
        "protocol_version": dreamcatcher_sync::PROTOCOL_VERSION,
    }))
}

/// Ready to serve: the database answers.
pub async fn ready(State(state): State<SharedState>) -> Result<Json<serde_json::Value>, ApiError> {
    match state.db.ping().await {
        Ok(()) => Ok(Json(json!({"status": "ready"}))),
        Err(error) => {
            tracing::warn!(%error, "readiness check failed");
            state.metrics.error("storage", "not_ready");
            Err(ApiError::unavailable("the database is not reachable"))
        }
    }
}

pub async fn metrics(State(state): State<SharedState>) -> Response {
    (
        [(header::CONTENT_TYPE, CONTENT_TYPE)],
        state.metrics.render(),
    )
        .into_response()
}

pub async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not take that method",
    )
}

/// A handler panicked: the request fails cleanly and the service goes on.
pub fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(detail, "a request handler panicked");
    ApiError::internal("the service failed on this request; it has been logged").into_response()
}
