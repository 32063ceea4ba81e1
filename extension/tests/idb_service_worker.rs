//! The IndexedDB store in a service worker (headless Chromium through wasm-bindgen-test).
#![cfg(target_arch = "wasm32")]

mod common;

use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_service_worker);

#[wasm_bindgen_test]
async fn stores_pages_and_survives_reopening() {
    common::stores_pages_and_survives_reopening().await;
}

#[wasm_bindgen_test]
async fn keeps_the_sync_outbox_with_the_changes() {
    common::keeps_the_sync_outbox_with_the_changes().await;
}

#[wasm_bindgen_test]
async fn keeps_the_dream_count() {
    common::keeps_the_dream_count().await;
}
