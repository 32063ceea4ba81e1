//! Sync protocol and outbox.
