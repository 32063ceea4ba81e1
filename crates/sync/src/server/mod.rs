//! The service's side of sync, as logic the Dreamcatcher service calls: the conflict rules
//! ([`apply_operation`]), idempotent processing against a store ([`process_operation`]), and
//! the per-connection protocol ([`ServerConnection`]).

mod connection;
mod rules;
mod store;

pub use connection::{
    AuthenticationFailure, DeviceAuthenticator, ServerConnection, ServerReply, TokenTable,
};
pub use rules::{
    ApplyOutcome, CONFLICT_COPY_MARK, ChangeMark, StoredDreamState, apply_operation,
    conflict_copy_id,
};
pub use store::{
    MemoryServerStore, MemoryUserData, OperationCommit, ProcessedOperation, ServerStore, UserId,
};

use crate::operation::Operation;
use crate::protocol::{OperationOutcome, OperationResult, SequencedEvent, ServerEvent};

/// What processing one operation produced.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessOutcome {
    pub result: OperationResult,
    /// The events it recorded (none for a duplicate or a change that changed nothing).
    pub events: Vec<SequencedEvent>,
}

/// Applies an operation exactly once: a resent operation (same op id) is answered
/// `duplicate` and not applied again. The caller holds the user's lock (see
/// [`ServerStore`]).
pub async fn process_operation<S: ServerStore>(
    store: &S,
    user: &UserId,
    operation: &Operation,
) -> Result<ProcessOutcome, S::Error> {
    let op_id = operation.op_id.clone();
    if store.is_recorded(user, &op_id).await? {
        return Ok(ProcessOutcome {
            result: OperationResult {
                op_id,
                outcome: OperationOutcome::Duplicate,
            },
            events: Vec::new(),
        });
    }
    let current = store.dream_state(user, &operation.dream_id).await?;
    let applied = apply_operation(operation, current.as_ref());
    let commit = OperationCommit {
        operation: operation.clone(),
        outcome: applied.outcome.clone(),
        states: applied.states,
        events: applied.events,
    };
    let events = store.commit_operation(user, commit).await?;
    Ok(ProcessOutcome {
        result: OperationResult {
            op_id,
            outcome: applied.outcome,
        },
        events,
    })
}

/// Records an event that comes from PipelineOS rather than from a device
/// (`project_created`, `implementation_completed`); afterwards call
/// [`ServerConnection::next_events`] on the user's connections.
pub async fn publish_event<S: ServerStore>(
    store: &S,
    user: &UserId,
    event: ServerEvent,
) -> Result<Vec<SequencedEvent>, S::Error> {
    store.append_events(user, vec![event]).await
}
