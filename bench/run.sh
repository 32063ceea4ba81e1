#!/usr/bin/env bash
# `make bench` after `make build`: builds the benchmark's wasm, installs the pinned peers
# (tests/package.json) when needed, and runs the side-by-side harness, which writes
# bench/results.md and bench/chart.svg. Exits 1 when the extension's wasm + JS is over
# bench/size-budget.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
bench/build-wasm.sh
if [ ! -f tests/node_modules/.package-lock.json ] || [ tests/package-lock.json -nt tests/node_modules/.package-lock.json ]; then
    (cd tests && npm ci --no-audit --no-fund --loglevel=error)
fi
cd tests && node bench/compare.js
