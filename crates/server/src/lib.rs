//! The PipelineOS Dreamcatcher service: a library of dreams per user, kept in SQLite (one
//! file, the default) or PostgreSQL (several instances on one database), reached over
//! REST and synced with the extension over a WebSocket speaking `dreamcatcher-sync`'s
//! protocol.
//!
//! # Endpoints
//!
//! Every `/api/v1` endpoint but `pair` and the orchestrator's report needs
//! `Authorization: Bearer <device token>`, and sees only the token's user's dreams
//! (another user's dream id is `404`, the same as an id nobody has). Errors are
//! `{"error": {"code", "message", "field"?}}`.
//!
//! | method and path | what |
//! |---|---|
//! | `POST /api/v1/pair` | `{code, device_name}` → `201 {token, device_id, device_name, user_id}` |
//! | `POST /api/v1/conversations/capture` | one conversation (an element of `dreamcatcher parse` output) → `201`/`200 {id, revision, created, outcome}`; a recapture keeps tags and notes |
//! | `POST /api/v1/dreams/import` | an array of conversations or dreams, or a library export → `{added, updated, unchanged, skipped, skipped_items: [{index, id, reason}]}` |
//! | `GET /api/v1/dreams` | `?q= &site= &language= &tag= &since= &until= &limit= &cursor=` → `{items: [{id, title, …}], next_cursor, total}` |
//! | `GET /api/v1/dreams/{id}` | `{id, revision, conflict_of?, dream, projects}` |
//! | `PATCH /api/v1/dreams/{id}` | `{tags?, notes?, base_revision?}` → `{id, revision, outcomes}` |
//! | `DELETE /api/v1/dreams/{id}` | `?base_revision=` → `{id, revision, deleted, outcome}` (a tombstone) |
//! | `POST`/`GET /api/v1/dreams/{id}/implement` | a project (`201`; `200` with the one under way) |
//! | `POST /api/v1/dreams/{id}/implementation` | the orchestrator's report, `X-Orchestrator-Secret` header |
//! | `GET /health`, `GET /ready`, `GET /metrics` | liveness; database reachable; Prometheus text |
//! | `GET /ws/dreamcatcher` | the sync WebSocket ([`ws`]) |
//!
//! `/health`, `/ready` and `/api/v1/*` answer any origin (CORS, preflights included) so
//! the extension's service worker and options page can call them without host
//! permissions: methods GET, POST, PATCH, DELETE, OPTIONS; request headers
//! `Authorization`, `Content-Type`, `Idempotency-Key`; `Retry-After` readable. There is no
//! credentials mode: requests authenticate with bearer tokens, never cookies. `/metrics`
//! and the WebSocket stay same-origin (a WebSocket is not subject to CORS anyway).
//!
//! Writes accept an `Idempotency-Key` header: a retry with the same key from the same
//! device is answered as a duplicate, not applied twice. REST edits follow the sync rules
//! exactly (they are operations of the token's device): `base_revision` omitted means
//! "based on the current revision".
//!
//! # Running
//!
//! ```text
//! dreamcatcher-server user add alice
//! dreamcatcher-server pair alice                 # a code for the extension's settings page
//! dreamcatcher-server token create alice         # or a token for scripts (last line)
//! dreamcatcher-server serve                      # 127.0.0.1:8787, SQLite in the data dir
//! DATABASE_URL=postgres://… dreamcatcher-server serve --listen 0.0.0.0:8787
//! ```
//!
//! Every subcommand takes `--data DIR` (default `$DREAMCATCHER_DATA`, else
//! `$XDG_DATA_HOME/dreamcatcher`, else `~/.local/share/dreamcatcher`). `serve` reads
//! `ORCHESTRATOR_URL`, `ORCHESTRATOR_SECRET` and `DREAMCATCHER_PUBLIC_URL`; limits and the
//! rate limit are flags (`--help`). Logs go to stderr (`RUST_LOG`, `--log-format json`).
//!
//! # Storage
//!
//! Migrations per backend in `migrations/{sqlite,postgres}`, embedded and applied at start.
//! Tables: `users` (with `last_cursor`, the user's event counter and write lock),
//! `devices` (SHA-256 of each token, revocation time), `pairing_codes` (hashes,
//! expiry, use), `dreams` (per user and id: revision, tombstone flag, the sync crate's
//! `StoredDreamState` as JSON), `applied_ops` (per user and op id: idempotency),
//! `events` (per user and cursor), `projects`.

pub mod accounts;
pub mod api;
pub mod config;
pub mod db;
pub mod error;
pub mod extract;
pub mod hub;
pub mod library;
pub mod metrics;
pub mod ratelimit;
pub mod server;
pub mod ws;

pub use config::{DatabaseLocation, RateLimit, ServerConfig};
pub use server::{RunningServer, StartError, start};
