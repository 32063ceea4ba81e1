//! The client's durable outbox: operations not yet acknowledged, and the event cursor.
//!
//! The extension implements [`OutboxStore`] on IndexedDB; [`MemoryOutboxStore`] is the
//! in-memory version for tests and simulations. The service worker that runs the sync client
//! can be stopped at any moment, so everything needed to resume lives here.

use std::convert::Infallible;

use serde::{Deserialize, Serialize};

use crate::operation::{Cursor, OpId, Operation};

/// Durable storage of the outbox. Rules the client relies on:
/// - `append` has completed (durably) before the operation is handed to the client, which
///   may send it at once;
/// - `operations` returns them in append order;
/// - only acknowledged operations are removed;
/// - `set_cursor` is called after the events up to that cursor were applied to the local
///   library, so a crash in between replays them (they are idempotent).
///
/// The futures need not be `Send`: the browser's hold JavaScript values.
#[allow(async_fn_in_trait)]
pub trait OutboxStore {
    type Error: std::error::Error;

    /// Adds an operation at the end. Appending an op id already present changes nothing.
    async fn append(&mut self, operation: &Operation) -> Result<(), Self::Error>;
    /// Every stored operation, oldest first.
    async fn operations(&self) -> Result<Vec<Operation>, Self::Error>;
    /// Removes these operations; ids not present are ignored.
    async fn remove(&mut self, op_ids: &[OpId]) -> Result<(), Self::Error>;
    /// The cursor of the last event applied (0 before any).
    async fn cursor(&self) -> Result<Cursor, Self::Error>;
    async fn set_cursor(&mut self, cursor: Cursor) -> Result<(), Self::Error>;
}

/// An outbox in memory: "durable" for as long as the value lives, which is what a simulated
/// restart needs (drop the client, keep the store).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MemoryOutboxStore {
    operations: Vec<Operation>,
    cursor: Cursor,
}

impl MemoryOutboxStore {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.operations.len()
    }

    pub fn is_empty(&self) -> bool {
        self.operations.is_empty()
    }
}

impl OutboxStore for MemoryOutboxStore {
    type Error = Infallible;

    async fn append(&mut self, operation: &Operation) -> Result<(), Infallible> {
        if !self
            .operations
            .iter()
            .any(|stored| stored.op_id == operation.op_id)
        {
            self.operations.push(operation.clone());
        }
        Ok(())
    }

    async fn operations(&self) -> Result<Vec<Operation>, Infallible> {
        Ok(self.operations.clone())
    }

    async fn remove(&mut self, op_ids: &[OpId]) -> Result<(), Infallible> {
        self.operations
            .retain(|operation| !op_ids.contains(&operation.op_id));
        Ok(())
    }

    async fn cursor(&self) -> Result<Cursor, Infallible> {
        Ok(self.cursor)
    }

    async fn set_cursor(&mut self, cursor: Cursor) -> Result<(), Infallible> {
        self.cursor = cursor;
        Ok(())
    }
}
