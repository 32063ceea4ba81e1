//! REST changes go through the same sync rules as a device's operations: each becomes an
//! operation from the token's device, applied once (by op id), with revisions, conflict
//! copies and tombstones exactly as over the WebSocket.

use axum::http::HeaderMap;
use chrono::Utc;
use dreamcatcher_sync::server::{StoredDreamState, process_operation};
use dreamcatcher_sync::{DeviceId, DreamChange, OpId, Operation, OperationOutcome, Revision};
use sha2::{Digest, Sha256};

use crate::accounts::{hex, random_bytes};
use crate::db::accounts::Identity;
use crate::db::sync_store::user_id;
use crate::db::{SyncStore, dreams};
use crate::error::ApiError;
use crate::server::AppState;

/// The header naming a write for retries (lower case, as HTTP/2 sends names).
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";

/// Longest `Idempotency-Key` header.
const MAX_IDEMPOTENCY_KEY_BYTES: usize = 200;

pub struct RestChange {
    pub dream_id: String,
    pub change: DreamChange,
    /// The revision the client based the change on; `None`: the current one (the client
    /// has seen everything, so the change wins).
    pub base_revision: Option<Revision>,
}

pub struct AppliedChange {
    pub outcome: OperationOutcome,
    /// The dream's state before the change, as the change saw it.
    pub previous: Option<StoredDreamState>,
}

/// The request's `Idempotency-Key`: a retried request with the same key (from the same
/// device) is answered as `duplicate` instead of being applied again.
pub fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(IDEMPOTENCY_KEY_HEADER) else {
        return Ok(None);
    };
    match value.to_str() {
        Ok(key) if !key.is_empty() && key.len() <= MAX_IDEMPOTENCY_KEY_BYTES => {
            Ok(Some(key.to_string()))
        }
        _ => Err(ApiError::bad_request(
            "invalid_header",
            format!("`Idempotency-Key` must be 1 to {MAX_IDEMPOTENCY_KEY_BYTES} visible ASCII characters"),
        )
        .with_field("Idempotency-Key")),
    }
}

fn op_id(identity: &Identity, key: Option<&str>, index: usize) -> Result<OpId, ApiError> {
    let suffix = match key {
        Some(key) => {
            let mut hasher = Sha256::new();
            hasher.update(b"dreamcatcher rest op\0");
            hasher.update(identity.device_key.as_bytes());
            hasher.update([0]);
            hasher.update(key.as_bytes());
            hasher.update([0]);
            hasher.update(index.to_le_bytes());
            hex(hasher.finalize().get(..16).unwrap_or_default())
        }
        None => hex(&random_bytes::<16>().map_err(|error| ApiError::internal(error.to_string()))?),
    };
    Ok(OpId(format!("op-{suffix}")))
}

/// Applies the changes in one transaction under the user's lock, then wakes the user's
/// connections and refreshes the search index.
pub async fn apply_changes(
    state: &AppState,
    identity: &Identity,
    changes: Vec<RestChange>,
    idempotency_key: Option<&str>,
) -> Result<Vec<AppliedChange>, ApiError> {
    use dreamcatcher_sync::server::ServerStore;

    let user = user_id(identity.user_id);
    let store = SyncStore::new(&state.db);
    let mut applied = Vec::with_capacity(changes.len());
    for (index, change) in changes.into_iter().enumerate() {
        let previous = store.dream_state(&user, &change.dream_id).await?;
        let base_revision = change
            .base_revision
            .unwrap_or_else(|| previous.as_ref().map_or(0, |state| state.revision));
        let operation = Operation::new(
            op_id(identity, idempotency_key, index)?,
            DeviceId(identity.device_key.clone()),
            change.dream_id,
            base_revision,
            change.change,
            Utc::now(),
        );
        let processed = process_operation(&store, &user, &operation).await?;
        state.metrics.count_outcome(&processed.result.outcome);
        applied.push(AppliedChange {
            outcome: processed.result.outcome,
            previous,
        });
    }
    let users = store.finish().await?;
    state.after_commit(users);
    Ok(applied)
}

/// The user's stored state of a dream (live or tombstone).
pub async fn current_state(
    state: &AppState,
    user: i64,
    dream_id: &str,
) -> Result<Option<StoredDreamState>, ApiError> {
    let mut pooled = state.db.acquire().await?;
    Ok(dreams::dream_state(&mut pooled.conn(), user, dream_id).await?)
}

/// The error for an operation the rules refused.
pub fn rejection(outcome: &OperationOutcome, dream_id: &str) -> Option<ApiError> {
    use axum::http::StatusCode;
    use dreamcatcher_sync::RejectReason;

    let OperationOutcome::Rejected { reason, message } = outcome else {
        return None;
    };
    Some(match reason {
        RejectReason::InvalidOperation => ApiError::invalid(message.clone()),
        RejectReason::UnknownDream => ApiError::dream_not_found(dream_id),
        RejectReason::DreamDeleted => {
            ApiError::new(StatusCode::NOT_FOUND, "dream_deleted", message.clone())
        }
        RejectReason::UnknownRevision => {
            ApiError::new(StatusCode::CONFLICT, "unknown_revision", message.clone())
                .with_field("base_revision")
        }
    })
}
