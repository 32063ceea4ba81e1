//! The one place JavaScript failures become a Rust error.

use wasm_bindgen::{JsCast, JsValue};

use dreamcatcher_library::StoreError;
use dreamcatcher_library::api::{ApiError, ErrorCode};

/// A JavaScript or IndexedDB call that failed: what was being done, and what JS said.
#[derive(Debug, thiserror::Error)]
#[error("{operation}: {detail}")]
pub struct JsFailure {
    pub operation: String,
    pub detail: String,
}

/// The message of a thrown JS value (an `Error`, a `DOMException`, a string, or anything else).
pub fn describe(value: &JsValue) -> String {
    if let Some(error) = value.dyn_ref::<js_sys::Error>() {
        return String::from(error.message());
    }
    if let Some(text) = value.as_string() {
        return text;
    }
    if let Some(message) = js_sys::Reflect::get(value, &JsValue::from_str("message"))
        .ok()
        .and_then(|m| m.as_string())
    {
        return message;
    }
    js_sys::JSON::stringify(value)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_else(|| "unknown JavaScript error".into())
}

impl JsFailure {
    pub fn new(operation: impl Into<String>, detail: impl Into<String>) -> Self {
        JsFailure {
            operation: operation.into(),
            detail: detail.into(),
        }
    }

    pub fn js(operation: impl Into<String>, value: &JsValue) -> Self {
        JsFailure::new(operation, describe(value))
    }

    pub fn idb(operation: impl Into<String>, error: idb::Error) -> Self {
        JsFailure::new(operation, error.to_string())
    }
}

/// Attaches the operation to any failure convertible to a message.
pub trait Context<T> {
    fn context(self, operation: &str) -> Result<T, JsFailure>;
}

impl<T> Context<T> for Result<T, JsValue> {
    fn context(self, operation: &str) -> Result<T, JsFailure> {
        self.map_err(|value| JsFailure::js(operation, &value))
    }
}

impl<T> Context<T> for Result<T, idb::Error> {
    fn context(self, operation: &str) -> Result<T, JsFailure> {
        self.map_err(|error| JsFailure::idb(operation, error))
    }
}

impl<T> Context<T> for Result<T, serde_json::Error> {
    fn context(self, operation: &str) -> Result<T, JsFailure> {
        self.map_err(|error| JsFailure::new(operation, error.to_string()))
    }
}

impl From<JsFailure> for StoreError {
    fn from(failure: JsFailure) -> Self {
        StoreError::Operation {
            operation: failure.operation,
            detail: failure.detail,
        }
    }
}

impl From<JsFailure> for ApiError {
    fn from(failure: JsFailure) -> Self {
        ApiError::new(ErrorCode::Internal, failure.to_string())
    }
}
