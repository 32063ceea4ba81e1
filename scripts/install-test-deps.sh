#!/usr/bin/env bash
# Installs what building and testing the extension needs, skipping whatever is already there:
# the wasm target, wasm-bindgen-cli (the exact version the extension pins), Debian's chromium
# and chromedriver, and the end-to-end tests' npm packages (playwright-core only).
set -euo pipefail
cd "$(dirname "$0")/.."

# Must equal the `wasm-bindgen = "=…"` pin in extension/Cargo.toml.
WASM_BINDGEN_VERSION=0.2.130

log() { printf '[install-test-deps] %s\n' "$*"; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    log "adding rust target wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown
fi

installed_bindgen=""
if command -v wasm-bindgen >/dev/null 2>&1; then
    installed_bindgen="$(wasm-bindgen --version | awk '{print $2}')"
fi
if [ "$installed_bindgen" != "$WASM_BINDGEN_VERSION" ]; then
    # --locked fails on these machines (a pinned transitive crate is missing from the registry).
    log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (found: ${installed_bindgen:-none})"
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

missing_debs=()
command -v chromium >/dev/null 2>&1 || missing_debs+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing_debs+=(chromium-driver)
command -v openssl >/dev/null 2>&1 || missing_debs+=(openssl)
command -v node >/dev/null 2>&1 || missing_debs+=(nodejs)
command -v npm >/dev/null 2>&1 || missing_debs+=(npm)
if [ "${#missing_debs[@]}" -gt 0 ]; then
    log "installing ${missing_debs[*]}"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing_debs[@]}"
fi

if [ ! -d tests/node_modules/playwright-core ] || [ tests/package-lock.json -nt tests/node_modules/.package-lock.json ]; then
    log "installing the end-to-end tests' npm packages"
    (cd tests && npm ci --no-audit --no-fund)
fi

log "ready: $(wasm-bindgen --version), $(chromium --version 2>/dev/null | head -1), node $(node --version)"
