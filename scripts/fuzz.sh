#!/usr/bin/env bash
# Runs each cargo-fuzz target for a while (FUZZ_SECONDS, default 60). cargo-fuzz needs
# nightly features; RUSTC_BOOTSTRAP lets the machine's one stable toolchain provide them.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz
export RUSTC_BOOTSTRAP=1
for target in page_html conversation_json markdown_fragments; do
    echo "fuzzing $target for ${FUZZ_SECONDS:-60} s"
    cargo fuzz run "$target" -- -max_total_time="${FUZZ_SECONDS:-60}" -max_len=65536
done
