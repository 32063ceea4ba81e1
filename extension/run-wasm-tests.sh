#!/usr/bin/env bash
# Runs the extension's browser-side Rust tests (the IndexedDB store, in a page and in a
# service worker) in headless Chromium with wasm-bindgen-test-runner and chromedriver.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
"$root/scripts/install-test-deps.sh"
cd "$here" # webdriver.json here gives Chromium its headless, no-sandbox flags
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
export CHROMEDRIVER="${CHROMEDRIVER:-$(command -v chromedriver)}"
export WASM_BINDGEN_TEST_TIMEOUT=120
CARGO_TARGET_DIR="$root/target/wasm" cargo test --target wasm32-unknown-unknown -p dreamcatcher-extension "$@"
