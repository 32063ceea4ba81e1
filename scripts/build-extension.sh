#!/usr/bin/env bash
# Assembles the unpacked extension in dist/extension: the service worker's wasm (extension/),
# the popup and settings pages' wasm (popup/, when present), the JS/CSS/icons and the
# manifest. Prints each file's size raw and gzipped.
#
#   scripts/build-extension.sh            release build (profile wasm-release)
#   PROFILE=dev scripts/build-extension.sh  faster unoptimised build
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"

PROFILE="${PROFILE:-wasm-release}"
OUT="$ROOT/dist/extension"
TARGET=wasm32-unknown-unknown
# A target dir of their own: wasm builds never invalidate the native ones.
export CARGO_TARGET_DIR="$ROOT/target/wasm"
case "$PROFILE" in
    dev) PROFILE_DIR=debug ;;
    *) PROFILE_DIR="$PROFILE" ;;
esac

log() { printf '[build-extension] %s\n' "$*"; }

command -v wasm-bindgen >/dev/null || { echo "wasm-bindgen not found: run scripts/install-test-deps.sh" >&2; exit 1; }

bindgen() {
    wasm-bindgen --target web --no-typescript --remove-name-section --remove-producers-section \
        --out-dir "$OUT" "$CARGO_TARGET_DIR/$TARGET/$PROFILE_DIR/$1.wasm"
}

rm -rf "$OUT"
mkdir -p "$OUT/icons"

log "service worker: cargo build ($PROFILE) -p dreamcatcher-extension"
cargo build --profile "$PROFILE" --target "$TARGET" -p dreamcatcher-extension
bindgen dreamcatcher_extension
cp extension/js/background.js extension/js/content.js extension/js/content.css "$OUT/"
cp extension/icons/*.png "$OUT/icons/"
cp manifest.json "$OUT/manifest.json"

if [ -f popup/Cargo.toml ]; then
    log "popup and settings: cargo build ($PROFILE) dreamcatcher-popup"
    if grep -q '^\[workspace\]' popup/Cargo.toml; then
        # popup/ is still a workspace of its own (see popup/README.md).
        (cd popup && cargo build --profile "$PROFILE" --target "$TARGET")
    else
        cargo build --profile "$PROFILE" --target "$TARGET" -p dreamcatcher-popup
    fi
    bindgen dreamcatcher_popup
    for file in popup.html options.html popup.js options.js popup.css; do
        cp "popup/static/$file" "$OUT/"
    done
else
    # Without the pages, the manifest must not point at them.
    log "popup/ is absent: building without popup.html and options.html"
    node -e '
        const fs = require("fs");
        const path = process.argv[1];
        const manifest = JSON.parse(fs.readFileSync(path, "utf8"));
        delete manifest.action.default_popup;
        delete manifest.options_ui;
        fs.writeFileSync(path, JSON.stringify(manifest, null, 2) + "\n");
    ' "$OUT/manifest.json"
fi

log "dist/extension:"
total_raw=0
total_gz=0
while IFS= read -r file; do
    raw=$(stat -c %s "$file")
    gz=$(gzip -9 -c "$file" | wc -c)
    total_raw=$((total_raw + raw))
    total_gz=$((total_gz + gz))
    printf '  %-40s %9d bytes raw %9d bytes gzip\n' "${file#"$OUT"/}" "$raw" "$gz"
done < <(find "$OUT" -type f | sort)
printf '  %-40s %9d bytes raw %9d bytes gzip\n' "total" "$total_raw" "$total_gz"
