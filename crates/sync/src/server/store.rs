//! The service's storage, as the sync logic needs it. The service implements
//! [`ServerStore`] on SQLite or PostgreSQL; [`MemoryServerStore`] is the in-memory version
//! for tests and simulations.

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;
use std::future::{Future, ready};
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};

use crate::operation::{Cursor, OpId, Operation};
use crate::protocol::{OperationOutcome, SequencedEvent, ServerEvent};
use crate::server::rules::StoredDreamState;

/// The account whose library a connection reaches (from the device token).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub String);

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Everything one processed operation writes, committed together.
#[derive(Debug, Clone, PartialEq)]
pub struct OperationCommit {
    pub operation: Operation,
    pub outcome: OperationOutcome,
    /// New states, each replacing the stored state of its `dream_id`.
    pub states: Vec<StoredDreamState>,
    /// Events to append to the user's stream, in order.
    pub events: Vec<ServerEvent>,
}

/// Storage for the service's side of sync, per user.
///
/// Contract:
/// - `commit_operation` is atomic: the states, the op id (with its outcome) and the events
///   are all written or none is; the op id is unique per user (a real store enforces it
///   with a unique key, and then writes nothing for a repeat).
/// - Cursors are assigned at commit, strictly increasing per user (gaps allowed).
/// - The operations of one user are processed one at a time (the service holds a
///   per-user lock around [`process_operation`](crate::server::process_operation)), since
///   it reads a state, decides, then writes.
pub trait ServerStore {
    type Error: std::error::Error + Send + Sync + 'static;

    /// Whether this operation was already processed for this user.
    fn is_recorded(
        &self,
        user: &UserId,
        op_id: &OpId,
    ) -> impl Future<Output = Result<bool, Self::Error>> + Send;

    fn dream_state(
        &self,
        user: &UserId,
        dream_id: &str,
    ) -> impl Future<Output = Result<Option<StoredDreamState>, Self::Error>> + Send;

    /// Writes one processed operation; returns its events with their cursors.
    fn commit_operation(
        &self,
        user: &UserId,
        commit: OperationCommit,
    ) -> impl Future<Output = Result<Vec<SequencedEvent>, Self::Error>> + Send;

    /// Appends events that come from elsewhere (PipelineOS's project and implementation
    /// events); returns them with their cursors.
    fn append_events(
        &self,
        user: &UserId,
        events: Vec<ServerEvent>,
    ) -> impl Future<Output = Result<Vec<SequencedEvent>, Self::Error>> + Send;

    /// At most `limit` events with a cursor above `after`, ascending.
    fn events_after(
        &self,
        user: &UserId,
        after: Cursor,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<SequencedEvent>, Self::Error>> + Send;

    /// The cursor of the user's latest event (0 if none).
    fn latest_cursor(
        &self,
        user: &UserId,
    ) -> impl Future<Output = Result<Cursor, Self::Error>> + Send;
}

/// One processed operation, as [`MemoryServerStore`] logs it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessedOperation {
    pub operation: Operation,
    pub outcome: OperationOutcome,
    pub events: Vec<SequencedEvent>,
}

/// One user's data in a [`MemoryServerStore`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemoryUserData {
    pub dreams: BTreeMap<String, StoredDreamState>,
    pub events: Vec<SequencedEvent>,
    /// Every processed operation, in processing order.
    pub processed: Vec<ProcessedOperation>,
    recorded: BTreeSet<OpId>,
}

impl MemoryUserData {
    fn append(&mut self, events: Vec<ServerEvent>) -> Vec<SequencedEvent> {
        let mut cursor = self.latest_cursor();
        let sequenced: Vec<SequencedEvent> = events
            .into_iter()
            .map(|event| {
                cursor += 1;
                SequencedEvent { cursor, event }
            })
            .collect();
        self.events.extend(sequenced.iter().cloned());
        sequenced
    }

    fn latest_cursor(&self) -> Cursor {
        self.events.last().map_or(0, |event| event.cursor)
    }
}

/// A [`ServerStore`] in memory, for tests and simulations.
#[derive(Debug, Default)]
pub struct MemoryServerStore {
    users: Mutex<BTreeMap<UserId, MemoryUserData>>,
}

impl MemoryServerStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of one user's data.
    pub fn user_data(&self, user: &UserId) -> MemoryUserData {
        self.with_user(user, |data| data.clone())
    }

    fn with_user<T>(&self, user: &UserId, action: impl FnOnce(&mut MemoryUserData) -> T) -> T {
        // A panic while holding the lock cannot leave the maps half-written (each action
        // finishes its writes before returning), so a poisoned lock is still usable.
        let mut users = self.users.lock().unwrap_or_else(PoisonError::into_inner);
        action(users.entry(user.clone()).or_default())
    }
}

impl ServerStore for MemoryServerStore {
    type Error = Infallible;

    fn is_recorded(
        &self,
        user: &UserId,
        op_id: &OpId,
    ) -> impl Future<Output = Result<bool, Infallible>> + Send {
        ready(Ok(
            self.with_user(user, |data| data.recorded.contains(op_id))
        ))
    }

    fn dream_state(
        &self,
        user: &UserId,
        dream_id: &str,
    ) -> impl Future<Output = Result<Option<StoredDreamState>, Infallible>> + Send {
        ready(Ok(
            self.with_user(user, |data| data.dreams.get(dream_id).cloned())
        ))
    }

    fn commit_operation(
        &self,
        user: &UserId,
        commit: OperationCommit,
    ) -> impl Future<Output = Result<Vec<SequencedEvent>, Infallible>> + Send {
        ready(Ok(self.with_user(user, |data| {
            if !data.recorded.insert(commit.operation.op_id.clone()) {
                return Vec::new();
            }
            for state in commit.states {
                data.dreams.insert(state.dream_id.clone(), state);
            }
            let events = data.append(commit.events);
            data.processed.push(ProcessedOperation {
                operation: commit.operation,
                outcome: commit.outcome,
                events: events.clone(),
            });
            events
        })))
    }

    fn append_events(
        &self,
        user: &UserId,
        events: Vec<ServerEvent>,
    ) -> impl Future<Output = Result<Vec<SequencedEvent>, Infallible>> + Send {
        ready(Ok(self.with_user(user, |data| data.append(events))))
    }

    fn events_after(
        &self,
        user: &UserId,
        after: Cursor,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<SequencedEvent>, Infallible>> + Send {
        ready(Ok(self.with_user(user, |data| {
            let start = data.events.partition_point(|event| event.cursor <= after);
            data.events
                .iter()
                .skip(start)
                .take(limit)
                .cloned()
                .collect()
        })))
    }

    fn latest_cursor(
        &self,
        user: &UserId,
    ) -> impl Future<Output = Result<Cursor, Infallible>> + Send {
        ready(Ok(self.with_user(user, |data| data.latest_cursor())))
    }
}
