#!/usr/bin/env bash
# Runs the popup's component tests (tests/web.rs) in headless Chromium with the in-memory
# backend. Installs what is missing: wasm32 target, wasm-bindgen-cli 0.2.130, chromium and
# chromium-driver (Debian). Extra arguments go to `cargo test` (e.g. a test name filter).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"

rustup target list --installed | grep -q wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
if ! wasm-bindgen-test-runner --version 2>/dev/null | grep -q 0.2.130; then
  cargo install wasm-bindgen-cli --version 0.2.130
fi
if ! command -v chromedriver >/dev/null; then
  apt-get update && apt-get install -y chromium chromium-driver
fi

cd "$here" # webdriver.json here gives Chromium its headless, no-sandbox flags
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
export CHROMEDRIVER="$(command -v chromedriver)"
export WASM_BINDGEN_TEST_TIMEOUT=120
CARGO_TARGET_DIR="$root/target/wasm" cargo test --target wasm32-unknown-unknown -p dreamcatcher-popup --features demo --test web "$@"
