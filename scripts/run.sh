#!/usr/bin/env bash
# The main job: the extension is built (make build ran before this), then the local
# PipelineOS Dreamcatcher service starts on its embedded SQLite default, in the foreground.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release -p dreamcatcher-server
server=target/release/dreamcatcher-server

cat <<EOT

Dreamcatcher is built: $(pwd)/dist/extension

Load it in Chrome or Chromium:
  1. open chrome://extensions and switch on "Developer mode"
  2. "Load unpacked" and choose $(pwd)/dist/extension
  3. open a ChatGPT or Claude conversation and press "Capture" (or Alt+Shift+D)

Standalone mode needs nothing else. For connected mode, pair the extension's settings page
with the service starting below:
  $server user add YOUR_NAME
  $server pair YOUR_NAME        (prints a pairing code for the settings page)

EOT

if [ -n "${DISPLAY:-}" ] && command -v chromium >/dev/null 2>&1; then
    profile=$(mktemp -d)
    chromium --user-data-dir="$profile" --no-first-run \
        --disable-extensions-except="$(pwd)/dist/extension" --load-extension="$(pwd)/dist/extension" \
        https://chatgpt.com/ >/dev/null 2>&1 &
    echo "Chromium started with the extension loaded (profile $profile)."
fi

exec "$server" serve "$@"
