//! The functions the pages' loader scripts call after the wasm module is initialised. Each
//! installs the panic hook and mounts its page on the body; nothing else happens here.

use std::rc::Rc;

use wasm_bindgen::prelude::*;

use crate::Page;
use crate::worker::WorkerBackend;

fn start(page: Page, backend: Rc<dyn crate::backend::Backend>) -> Result<(), JsValue> {
    console_error_panic_hook::set_once();
    let body = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.body())
        .ok_or_else(|| JsValue::from_str("Dreamcatcher: the page has no body to mount on"))?;
    crate::mount(body, page, backend).forget();
    Ok(())
}

/// popup.html
#[wasm_bindgen]
pub fn start_popup() -> Result<(), JsValue> {
    start(Page::Popup, Rc::new(WorkerBackend))
}

/// options.html
#[wasm_bindgen]
pub fn start_options() -> Result<(), JsValue> {
    start(Page::Options, Rc::new(WorkerBackend))
}

/// The screenshot harness: the popup over 10,000 invented dreams in memory, paired with a
/// simulated PipelineOS (the sync chip and "Send to PipelineOS" show).
#[cfg(feature = "demo")]
#[wasm_bindgen]
pub fn start_demo_popup() -> Result<(), JsValue> {
    let dreams = crate::memory::sample_library(10_000, crate::browser::now());
    let related = dreams.iter().skip(1).step_by(7).take(3).map(|d| d.id().to_string()).collect();
    let backend = crate::memory::InMemoryBackend::new(dreams)
        .with_related(related)
        .with_pairing("https://pipelineos.example.com", "Chrome on this computer");
    start(Page::Popup, Rc::new(backend))
}

/// The screenshot harness: the settings page over an in-memory library, not paired (the
/// simulated server accepts the code `ABCDE12345`).
#[cfg(feature = "demo")]
#[wasm_bindgen]
pub fn start_demo_options() -> Result<(), JsValue> {
    let dreams = crate::memory::sample_library(250, crate::browser::now());
    start(Page::Options, Rc::new(crate::memory::InMemoryBackend::new(dreams)))
}
