#!/usr/bin/env bash
# Assembles the unpacked extension in dist/extension: the service worker's wasm (extension/),
# the popup and settings pages' wasm (popup/, when present), the JS/CSS/icons and the
# manifest. Prints each file's size raw and gzipped (scripts/check-size.sh holds the budget).
#
#   scripts/build-extension.sh              release build (profile wasm-release, then wasm-opt)
#   PROFILE=dev scripts/build-extension.sh  faster unoptimised build
#   WASM_OPT=0 scripts/build-extension.sh   release build without the wasm-opt pass
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
# binaryen from npm (tools/package.json): Debian's binaryen is too old for these modules.
WASM_OPT_BIN="$ROOT/tools/node_modules/.bin/wasm-opt"
WASM_OPT="${WASM_OPT:-1}"
[ "$PROFILE" = dev ] && WASM_OPT=0

log() { printf '[build-extension] %s\n' "$*"; }

command -v wasm-bindgen >/dev/null || { echo "wasm-bindgen not found: run scripts/install-test-deps.sh" >&2; exit 1; }

if [ "$WASM_OPT" = 1 ] && { [ ! -x "$WASM_OPT_BIN" ] || [ tools/package-lock.json -nt tools/node_modules/.package-lock.json ]; }; then
    log "installing binaryen (tools/package.json)"
    (cd tools && npm ci --no-audit --no-fund --loglevel=error) ||
        log "npm could not install binaryen: building without the wasm-opt pass"
fi
[ -x "$WASM_OPT_BIN" ] || WASM_OPT=0

# Shrinks a module in place. Binaryen's inlining is skipped: it makes the code smaller raw
# but 10-12% larger gzipped (measured on both modules); -O2 without it saves 2-3% gzipped.
shrink() {
    [ "$WASM_OPT" = 1 ] || return 0
    "$WASM_OPT_BIN" -O2 --skip-pass=inlining --skip-pass=inlining-optimizing \
        --strip-target-features "$1" -o "$1"
}

bindgen() {
    wasm-bindgen --target web --no-typescript --remove-name-section --remove-producers-section \
        --out-dir "$OUT" "$CARGO_TARGET_DIR/$TARGET/$PROFILE_DIR/$1.wasm"
    shrink "$OUT/${1}_bg.wasm"
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
    for file in popup.html options.html popup.js first-page.js options.js popup.css; do
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

log "dist/extension ($PROFILE, wasm-opt: $([ "$WASM_OPT" = 1 ] && echo on || echo off)):"
total_raw=0
total_gz=0
code_gz=0
while IFS= read -r file; do
    raw=$(stat -c %s "$file")
    gz=$(gzip -9 -c "$file" | wc -c)
    total_raw=$((total_raw + raw))
    total_gz=$((total_gz + gz))
    case "$file" in *.wasm | *.js) code_gz=$((code_gz + gz)) ;; esac
    printf '  %-40s %9d bytes raw %9d bytes gzip\n' "${file#"$OUT"/}" "$raw" "$gz"
done < <(find "$OUT" -type f | sort)
printf '  %-40s %9d bytes raw %9d bytes gzip\n' "total" "$total_raw" "$total_gz"
printf '  %-40s %9s           %9d bytes gzip\n' "wasm + js (scripts/check-size.sh)" "" "$code_gz"
