//! The extension's Rust side, compiled to wasm: the IndexedDB store of the library and the
//! service worker's entry points. The chat pages' content script stays plain JavaScript
//! because a page's CSP may forbid wasm there; it hands raw page data to these functions.
#![deny(clippy::unwrap_used, clippy::expect_used)]

pub mod error;
pub mod idb_store;
#[cfg(target_arch = "wasm32")]
pub mod net;
#[cfg(target_arch = "wasm32")]
pub mod sync;
#[cfg(target_arch = "wasm32")]
pub mod worker;

/// Routes Rust panics to the console with their message; every exported entry point calls it
/// first (it installs the hook once).
pub fn install_panic_hook() {
    console_error_panic_hook::set_once();
}
