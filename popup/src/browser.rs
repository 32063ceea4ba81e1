//! The web platform calls the pages make, each turning a JavaScript failure into a sentence.

use dreamcatcher_model::Timestamp;
use js_sys::{Array, Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// The one place a JavaScript exception or rejection becomes text: its `message` when it is
/// an Error, else its string form.
pub fn js_error_text(value: &JsValue) -> String {
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
        .unwrap_or_else(|| "unknown JavaScript error".to_string())
}

/// Awaits a promise, the rejection as text.
pub async fn await_promise(promise: Promise) -> Result<JsValue, String> {
    JsFuture::from(promise).await.map_err(|e| js_error_text(&e))
}

fn window() -> Result<web_sys::Window, String> {
    web_sys::window().ok_or_else(|| "no window (not running in a page)".to_string())
}

/// The current time from the browser's clock (pure code takes time as an argument).
pub fn now() -> Timestamp {
    let millis = js_sys::Date::now() as i64;
    chrono::DateTime::from_timestamp_millis(millis).unwrap_or_default()
}

pub async fn sleep(millis: i32) {
    let promise = Promise::new(&mut |resolve, _reject| {
        if let Ok(window) = window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, millis);
        } else {
            let _ = resolve.call0(&JsValue::UNDEFINED);
        }
    });
    let _ = JsFuture::from(promise).await;
}

pub async fn copy_to_clipboard(text: &str) -> Result<(), String> {
    let clipboard = window()?.navigator().clipboard();
    await_promise(clipboard.write_text(text)).await.map(|_| ())
}

/// Bytes used and available to the extension's origin (IndexedDB included).
pub async fn storage_estimate() -> Result<(u64, u64), String> {
    let storage = window()?.navigator().storage();
    let estimate: web_sys::StorageEstimate = await_promise(storage.estimate().map_err(|e| js_error_text(&e))?)
        .await?
        .unchecked_into();
    let used = estimate.get_usage().unwrap_or(0.0);
    let quota = estimate.get_quota().unwrap_or(0.0);
    Ok((used.max(0.0) as u64, quota.max(0.0) as u64))
}

/// Offers bytes as a download named `file_name`.
pub fn download(file_name: &str, mime_type: &str, bytes: &[u8]) -> Result<(), String> {
    let parts = Array::new();
    parts.push(&Uint8Array::from(bytes));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime_type);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).map_err(|e| js_error_text(&e))?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(|e| js_error_text(&e))?;
    let document = window()?.document().ok_or("no document")?;
    let anchor: web_sys::HtmlAnchorElement =
        document.create_element("a").map_err(|e| js_error_text(&e))?.unchecked_into();
    anchor.set_href(&url);
    anchor.set_download(file_name);
    anchor.click();
    // The click has started the download; the URL is not needed after this task.
    let revoke = Closure::once_into_js(move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    let _ = window()?.set_timeout_with_callback_and_timeout_and_arguments_0(revoke.unchecked_ref(), 1000);
    Ok(())
}

/// The bytes of a file the user picked.
pub async fn file_bytes(file: &web_sys::File) -> Result<Vec<u8>, String> {
    let buffer = await_promise(file.array_buffer()).await?;
    Ok(Uint8Array::new(&buffer).to_vec())
}
