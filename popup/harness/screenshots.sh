#!/usr/bin/env bash
# Builds the pages with the in-memory backend (feature "demo"), serves them on localhost and
# takes screenshots with headless Chromium, light and dark. Output: target/popup-harness/shots.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
root="$(cd "$here/.." && pwd)"
out="$root/target/popup-harness"
shots="$out/shots"
port="${PORT:-8765}"
mkdir -p "$out" "$shots"

cd "$here"
CARGO_TARGET_DIR="$root/target/wasm" cargo build --target wasm32-unknown-unknown -p dreamcatcher-popup --features demo
wasm-bindgen --target web --no-typescript --out-dir "$out" \
  "$root/target/wasm/wasm32-unknown-unknown/debug/dreamcatcher_popup.wasm"
cp static/popup.css harness/demo-popup.html harness/demo-popup.js harness/demo-options.html harness/demo-options.js "$out/"

python3 -m http.server "$port" --bind 127.0.0.1 --directory "$out" >/dev/null 2>&1 &
server=$!
trap 'kill "$server"' EXIT
sleep 1

shoot() { # name url width height [extra chromium flags...]
  local name="$1" url="$2" width="$3" height="$4"
  shift 4
  chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --disable-background-networking \
    --disable-component-update --no-first-run --virtual-time-budget=4000 "$@" \
    --window-size="$width,$height" --screenshot="$shots/$name.png" "http://127.0.0.1:$port/$url" 2>/dev/null
}

base="http://127.0.0.1:$port"
shoot popup-list demo-popup.html 400 580
shoot popup-search 'demo-popup.html?q=grid' 400 580
shoot popup-filters 'demo-popup.html?filters' 400 580
shoot popup-dream 'demo-popup.html?open' 400 580
shoot popup-deleted 'demo-popup.html?delete' 400 580
shoot popup-list-dark demo-popup.html 400 580 --force-dark-mode --blink-settings=preferredColorScheme=0
shoot popup-dream-dark 'demo-popup.html?open' 400 580 --force-dark-mode --blink-settings=preferredColorScheme=0
shoot settings demo-options.html 800 1100
shoot settings-invalid 'demo-options.html?invalid' 800 1100
shoot settings-paired 'demo-options.html?paired' 800 1100
shoot settings-dark demo-options.html 800 1100 --force-dark-mode --blink-settings=preferredColorScheme=0
ls -1 "$shots"
