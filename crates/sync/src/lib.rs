//! Sync between a device (the browser extension) and the PipelineOS Dreamcatcher service:
//! the protocol messages, the offline-first outbox, the client's connection state machine,
//! and the service's conflict rules. Pure Rust without I/O, clock or randomness: time and
//! random values are passed in, storage is a trait ([`OutboxStore`], [`server::ServerStore`])
//! with an in-memory version beside it, and the client is a state machine
//! ([`SyncClient`]: inputs in, commands out) that a wasm event loop or tokio can drive.
//!
//! # How sync works
//!
//! 1. Every local change (a capture, a tag or notes edit, a delete) becomes an
//!    [`Operation`] with a random op id and the dream's *base revision* (the revision the
//!    device last received). It is appended to the durable outbox **before** it is sent
//!    ([`SyncClient::record_operation`]).
//! 2. The client connects, sends `hello` with its cursor, receives `welcome`, then the
//!    events it missed (catch-up), then pushes its outbox, oldest first, one push at a time.
//!    Each push starts at the oldest unacknowledged operation, so the service receives a
//!    device's operations in order.
//! 3. The service applies each operation once ([`server::process_operation`]: a resent op
//!    id is answered `duplicate`), answers with an `ack`, and records events, each with the
//!    next cursor of the user's stream. Every connection of the user (the sender's too)
//!    receives them; the device applies them and stores the cursor.
//! 4. Only acknowledged operations leave the outbox; after a reconnect the rest are sent
//!    again, in order.
//!
//! Connection loss is retried with exponential backoff and full jitter (1 s → 60 s,
//! [`BackoffPolicy`]); a quiet connection is checked with `ping`/`pong`; an unanswered push
//! or ping ends it. [`SyncStatus`] tells the UI the state (offline / connecting / syncing /
//! connected / error with a [`FailureKind`] and its user-facing text), the pending count
//! and the last sync time.
//!
//! # Driving the client (the extension)
//!
//! Load it from the outbox store ([`SyncClient::load`]), send [`ClientInput::Start`], then
//! feed it every socket event, timer and network change with the current time, and carry
//! out the [`ClientCommand`]s it returns in order: open/close/send on the WebSocket, one
//! timer ([`ClientCommand::WakeAt`]), remove acknowledged operations from the store, apply
//! events to the library *then* store the cursor, show [`SyncStatus`]. Record local changes
//! with [`SyncClient::record_operation`] (durable append first). The service worker may die
//! at any point: a new client loaded from the store resumes.
//!
//! # Serving (the service)
//!
//! Per WebSocket: a [`server::ServerConnection`]; for each text frame
//! [`handle_text`](server::ServerConnection::handle_text), send the reply; then drain
//! [`next_events`](server::ServerConnection::next_events) on this connection, and on every
//! connection of the user when the reply says new events exist. Implement
//! [`server::ServerStore`] (atomic commit per operation, per-user lock around pushes) and
//! [`server::DeviceAuthenticator`]; PipelineOS's own events go in with
//! [`server::publish_event`].
//!
//! # Conflicts and tombstones
//!
//! The service keeps, per dream, which revision and which device last changed the
//! conversation, the tags, the notes, and the deletion. A change is *unseen* by an
//! operation when it is newer than the operation's base revision and came from another
//! device. The rules ([`server::apply_operation`]):
//!
//! - two edits of the same field where the second did not see the first: the first stays,
//!   the second is kept as a **conflict copy**: a new dream with id
//!   [`server::conflict_copy_id`]`(dream id, op id)`, title suffixed `(conflict copy)`,
//!   `conflict_of` naming the original. Nothing is silently dropped.
//! - a capture never conflicts (the conversation is the site's data): identical content
//!   changes nothing, and a stale capture with fewer messages never replaces a newer one.
//! - a delete leaves a tombstone. An edit that did not see the deletion does **not**
//!   resurrect the dream: it becomes a conflict copy of the last content with the edit
//!   applied. A capture that did not see the deletion is rejected (`dream_deleted`); a
//!   capture made after seeing it restores the dream. A delete that did not see an edit of
//!   the tags or notes first saves the edited dream as a conflict copy.
//!
//! # Messages (JSON, one per WebSocket text frame)
//!
//! Every message is an object whose `type` is the message's name. Limits:
//! [`MAX_MESSAGE_BYTES`] per message, [`MAX_OPERATIONS_PER_PUSH`] operations per push,
//! [`MAX_EVENTS_PER_MESSAGE`] events per message, [`MAX_OPERATION_BYTES`] per operation,
//! [`MAX_ID_BYTES`] per id, [`MAX_DEVICE_TOKEN_BYTES`], [`MAX_TAGS_PER_DREAM`],
//! [`MAX_TAG_BYTES`], [`MAX_NOTES_BYTES`]. Timestamps are RFC 3339 UTC. Unknown fields are
//! ignored. `dream` objects are the model's `Dream` JSON (see `dreamcatcher-model`).
//!
//! Client → service:
//!
//! ```json
//! {"type": "hello", "protocol_version": 1, "device_token": "…", "last_cursor": 41}
//!
//! {"type": "push", "operations": [
//!   {"op_id": "op-6f1c…", "device_id": "dev-19ab…", "dream_id": "dc-3f2a…",
//!    "base_revision": 0, "created_at": "2026-05-01T10:00:00Z",
//!    "kind": "upsert", "payload": {"dream": {"conversation": {…}, "captured_at": "…", "updated_at": "…"}}},
//!   {"op_id": "op-…", "device_id": "dev-…", "dream_id": "dc-3f2a…", "base_revision": 3,
//!    "created_at": "…", "kind": "set_tags", "payload": {"tags": ["rust", "wasm"]}},
//!   {"op_id": "op-…", "device_id": "dev-…", "dream_id": "dc-3f2a…", "base_revision": 4,
//!    "created_at": "…", "kind": "set_notes", "payload": {"notes": "try this first"}},
//!   {"op_id": "op-…", "device_id": "dev-…", "dream_id": "dc-3f2a…", "base_revision": 5,
//!    "created_at": "…", "kind": "delete"}
//! ]}
//!
//! {"type": "ping"}
//! ```
//!
//! Service → client:
//!
//! ```json
//! {"type": "welcome", "protocol_version": 1, "server_cursor": 57}
//!
//! {"type": "ack", "server_cursor": 60, "results": [
//!   {"op_id": "op-…", "result": "applied", "revision": 4},
//!   {"op_id": "op-…", "result": "duplicate"},
//!   {"op_id": "op-…", "result": "conflict", "conflict_copy_id": "dc-9b0e…"},
//!   {"op_id": "op-…", "result": "rejected", "reason": "dream_deleted", "message": "…"}
//! ]}
//!
//! {"type": "events", "after_cursor": 41, "events": [
//!   {"cursor": 42, "type": "dream_updated", "dream": {…}, "revision": 4},
//!   {"cursor": 43, "type": "dream_updated", "dream": {…}, "revision": 1, "conflict_of": "dc-3f2a…"},
//!   {"cursor": 44, "type": "dream_deleted", "dream_id": "dc-3f2a…", "revision": 5},
//!   {"cursor": 45, "type": "project_created", "dream_id": "dc-3f2a…", "project": {…}},
//!   {"cursor": 46, "type": "implementation_completed", "dream_id": "dc-3f2a…", "result": {…}}
//! ]}
//!
//! {"type": "pong"}
//!
//! {"type": "error", "code": "malformed_message", "message": "`push` message: invalid type: …"}
//! ```
//!
//! `result` values: `applied` (with the dream's revision afterwards), `duplicate`,
//! `conflict` (with the copy's id), `rejected` (with `reason`: `invalid_operation`,
//! `unknown_dream`, `dream_deleted`, `unknown_revision`). Every result removes the operation
//! from the outbox.
//!
//! `events` lists *every* event after `after_cursor` up to its last one, cursors
//! ascending, and only follows `welcome`; a device whose cursor is below `after_cursor`
//! missed some and reconnects to catch up, as it does when events an `ack`'s
//! `server_cursor` announced do not come within the ack timeout. Events at or below the device's cursor are skipped, and a `dream_updated` or
//! `dream_deleted` whose revision is not above the device's is ignored ([`Replica`]), so
//! replays are harmless. `project` and `result` are PipelineOS's objects, passed through.
//!
//! Error `code`s: `malformed_message`, `message_too_large`, `not_authenticated`,
//! `unexpected_message` (the connection stays up), and `unsupported_version`,
//! `authentication_failed`, `unavailable` (the service closes the connection).
//!
//! # Versions
//!
//! `hello` and `welcome` carry `protocol_version` ([`PROTOCOL_VERSION`]). The service
//! accepts versions from [`OLDEST_SUPPORTED_PROTOCOL_VERSION`] to its own and answers with
//! the client's; otherwise it sends `unsupported_version` and closes, and the client stops
//! retrying and asks for an update.

pub mod backoff;
pub mod client;
pub mod operation;
pub mod outbox;
pub mod protocol;
pub mod random;
pub mod replica;
pub mod server;
pub mod status;

pub use backoff::BackoffPolicy;
pub use client::{
    ClientCommand, ClientInput, ConnectionId, RecordError, SyncClient, SyncClientConfig,
};
pub use operation::{Cursor, DeviceId, DreamChange, OpId, Operation, OperationError, Revision};
pub use outbox::{MemoryOutboxStore, OutboxStore};
pub use protocol::{
    Ack, ClientMessage, ErrorCode, ErrorMessage, Events, Hello, MAX_DEVICE_TOKEN_BYTES,
    MAX_EVENTS_PER_MESSAGE, MAX_ID_BYTES, MAX_MESSAGE_BYTES, MAX_NOTES_BYTES, MAX_OPERATION_BYTES,
    MAX_OPERATIONS_PER_PUSH, MAX_TAG_BYTES, MAX_TAGS_PER_DREAM, OLDEST_SUPPORTED_PROTOCOL_VERSION,
    OperationOutcome, OperationResult, PROTOCOL_VERSION, ProtocolError, Push, RejectReason,
    SequencedEvent, ServerEvent, ServerMessage, Welcome,
};
pub use random::RandomSource;
pub use replica::{Replica, ReplicaDream};
pub use status::{ConnectionState, FailureKind, SuggestedAction, SyncStatus, TransportFailure};
