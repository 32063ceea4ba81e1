#!/usr/bin/env bash
# Builds the benchmark's wasm (bench/wasm) the way scripts/build-extension.sh builds the
# extension's: profile wasm-release, wasm-bindgen --target web, then the same wasm-opt pass,
# so our side of the benchmark runs the code users get. Output: bench/wasm/pkg (not shipped).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
export CARGO_TARGET_DIR="$ROOT/target/wasm"
OUT="$ROOT/bench/wasm/pkg"
WASM_OPT_BIN="$ROOT/tools/node_modules/.bin/wasm-opt"

command -v wasm-bindgen >/dev/null || { echo "wasm-bindgen not found: run scripts/install-test-deps.sh" >&2; exit 1; }
cargo build --profile wasm-release --target wasm32-unknown-unknown -p dreamcatcher-bench-wasm
rm -rf "$OUT"
wasm-bindgen --target web --no-typescript --out-dir "$OUT" \
    "$CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm-release/dreamcatcher_bench_wasm.wasm"
if [ -x "$WASM_OPT_BIN" ]; then
    "$WASM_OPT_BIN" -O2 --skip-pass=inlining --skip-pass=inlining-optimizing \
        --strip-target-features "$OUT/dreamcatcher_bench_wasm_bg.wasm" -o "$OUT/dreamcatcher_bench_wasm_bg.wasm"
fi
ls -l "$OUT"
