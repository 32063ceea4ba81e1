# A few verbs. Each installs what it needs (idempotently), so a fresh machine needs only
# `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help setup build package run test test-core test-wasm test-e2e bench fuzz

help:
	@echo "make run      build the extension and start the local service (SQLite in its data dir)"
	@echo "make test     every test: native (SQLite and PostgreSQL), wasm in Chromium, end-to-end"
	@echo "make build    assemble the unpacked extension in dist/extension"
	@echo "make package  zip dist/extension for the store"
	@echo "make bench    side by side with turndown, MiniSearch, FlexSearch (bench/results.md)"
	@echo "make fuzz     run each cargo-fuzz target for a minute"

setup:
	scripts/install-test-deps.sh

build: setup
	scripts/build-extension.sh

package: build
	scripts/package-extension.sh

run: build
	scripts/run.sh

# The native suite runs beside a throwaway PostgreSQL server, so the service's tests cover
# both of its databases.
test-core:
	crates/server/scripts/with-postgres.sh cargo test --workspace --locked

test-wasm: setup
	extension/run-wasm-tests.sh
	popup/run-wasm-tests.sh

# The size budget is checked on the same release build the end-to-end tests load. The sync
# tests run the real service binary (debug build: test-core has built it already).
test-e2e: build
	scripts/check-size.sh
	cargo build --locked -p dreamcatcher-server --bin dreamcatcher-server
	cd tests && npm test

# A one-off build (CI, a fresh clone) gains nothing from incremental caches, which are the
# largest part of the target directory.
test: export CARGO_INCREMENTAL := 0
test: setup test-core test-wasm test-e2e

# Side by side with the JavaScript alternatives (bench/README.md): bench/results.md and
# bench/chart.svg; fails when the extension's wasm + JS is over bench/size-budget.txt.
bench: build
	bench/run.sh

fuzz:
	scripts/fuzz.sh
