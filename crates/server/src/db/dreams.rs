//! Dreams, applied operation ids and the per-user event stream. Every query takes the
//! user's id: no query reaches another user's rows.

use dreamcatcher_sync::server::{OperationCommit, StoredDreamState};
use dreamcatcher_sync::{Cursor, SequencedEvent, ServerEvent};
use sqlx::Row;

use super::{Conn, StoreError, non_negative, on_conn, parse_json, to_json, to_sql_int};

pub async fn is_recorded(c: &mut Conn<'_>, user: i64, op_id: &str) -> Result<bool, StoreError> {
    let found = on_conn!(c, c => sqlx::query(
        "SELECT 1 AS found FROM applied_ops WHERE user_id = $1 AND op_id = $2"
    )
    .bind(user)
    .bind(op_id)
    .fetch_optional(&mut **c)
    .await?
    .is_some());
    Ok(found)
}

/// The stored state of one dream (live or a tombstone), if the user has that id.
pub async fn dream_state(
    c: &mut Conn<'_>,
    user: i64,
    dream_id: &str,
) -> Result<Option<StoredDreamState>, StoreError> {
    let text: Option<String> = on_conn!(c, c => sqlx::query_scalar(
        "SELECT state FROM dreams WHERE user_id = $1 AND id = $2"
    )
    .bind(user)
    .bind(dream_id)
    .fetch_optional(&mut **c)
    .await?);
    text.map(|text| parse_json("dream state", &text))
        .transpose()
}

/// Every live dream of the user (for building the search index).
pub async fn live_dreams(c: &mut Conn<'_>, user: i64) -> Result<Vec<StoredDreamState>, StoreError> {
    let texts: Vec<String> = on_conn!(c, c => sqlx::query_scalar(
        "SELECT state FROM dreams WHERE user_id = $1 AND deleted = 0 ORDER BY id"
    )
    .bind(user)
    .fetch_all(&mut **c)
    .await?);
    texts
        .iter()
        .map(|text| parse_json("dream state", text))
        .collect()
}

pub async fn write_state(
    c: &mut Conn<'_>,
    user: i64,
    state: &StoredDreamState,
    now: i64,
) -> Result<(), StoreError> {
    let json = to_json("dream state", state)?;
    let revision = to_sql_int("revision", state.revision)?;
    let deleted = i64::from(state.is_deleted());
    on_conn!(c, c => sqlx::query(
        "INSERT INTO dreams (user_id, id, revision, deleted, state, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (user_id, id) DO UPDATE SET
             revision = excluded.revision, deleted = excluded.deleted,
             state = excluded.state, updated_at = excluded.updated_at"
    )
    .bind(user)
    .bind(&state.dream_id)
    .bind(revision)
    .bind(deleted)
    .bind(&json)
    .bind(now)
    .execute(&mut **c)
    .await?
    .rows_affected());
    Ok(())
}

/// Writes one processed operation: its id (first, so that a repeat writes nothing), the
/// new states and the events after `latest` (the user's latest cursor). Run inside the
/// user's [`WriteTx`](super::WriteTx).
pub async fn commit_operation(
    c: &mut Conn<'_>,
    user: i64,
    latest: Cursor,
    commit: &OperationCommit,
    now: i64,
) -> Result<Vec<SequencedEvent>, StoreError> {
    let outcome = to_json("operation outcome", &commit.outcome)?;
    let inserted = on_conn!(c, c => sqlx::query(
        "INSERT INTO applied_ops (user_id, op_id, dream_id, outcome, applied_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (user_id, op_id) DO NOTHING"
    )
    .bind(user)
    .bind(commit.operation.op_id.as_str())
    .bind(&commit.operation.dream_id)
    .bind(&outcome)
    .bind(now)
    .execute(&mut **c)
    .await?
    .rows_affected());
    if inserted == 0 {
        return Ok(Vec::new());
    }
    for state in &commit.states {
        write_state(c, user, state, now).await?;
    }
    append_events(c, user, latest, &commit.events, now).await
}

/// Appends events to the user's stream with the cursors after `latest` (the user's
/// latest cursor, read under the lock). The caller holds the user's lock, so cursors are
/// dense and committed in order.
pub async fn append_events(
    c: &mut Conn<'_>,
    user: i64,
    latest: Cursor,
    events: &[ServerEvent],
    now: i64,
) -> Result<Vec<SequencedEvent>, StoreError> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let mut cursor = latest;
    let mut sequenced = Vec::with_capacity(events.len());
    for event in events {
        cursor += 1;
        let json = to_json("event", event)?;
        let stored_cursor = to_sql_int("cursor", cursor)?;
        on_conn!(c, c => sqlx::query(
            "INSERT INTO events (user_id, cursor, event, created_at) VALUES ($1, $2, $3, $4)"
        )
        .bind(user)
        .bind(stored_cursor)
        .bind(&json)
        .bind(now)
        .execute(&mut **c)
        .await?
        .rows_affected());
        sequenced.push(SequencedEvent {
            cursor,
            event: event.clone(),
        });
    }
    let last = to_sql_int("cursor", cursor)?;
    on_conn!(c, c => sqlx::query("UPDATE users SET last_cursor = $2 WHERE id = $1")
        .bind(user)
        .bind(last)
        .execute(&mut **c)
        .await?
        .rows_affected());
    Ok(sequenced)
}

/// At most `limit` events after `after`, ascending.
pub async fn events_after(
    c: &mut Conn<'_>,
    user: i64,
    after: Cursor,
    limit: usize,
) -> Result<Vec<SequencedEvent>, StoreError> {
    let after = to_sql_int("cursor", after)?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = on_conn!(c, c => sqlx::query(
        "SELECT cursor, event FROM events WHERE user_id = $1 AND cursor > $2
         ORDER BY cursor LIMIT $3"
    )
    .bind(user)
    .bind(after)
    .bind(limit)
    .fetch_all(&mut **c)
    .await?
    .into_iter()
    .map(|row| Ok::<_, sqlx::Error>((row.try_get::<i64, _>("cursor")?, row.try_get::<String, _>("event")?)))
    .collect::<Result<Vec<_>, _>>()?);
    rows.into_iter()
        .map(|(cursor, json)| {
            Ok(SequencedEvent {
                cursor: non_negative("cursor", cursor)?,
                event: parse_json("event", &json)?,
            })
        })
        .collect()
}

pub async fn latest_cursor(c: &mut Conn<'_>, user: i64) -> Result<Cursor, StoreError> {
    let cursor: Option<i64> = on_conn!(c, c => sqlx::query_scalar(
        "SELECT last_cursor FROM users WHERE id = $1"
    )
    .bind(user)
    .fetch_optional(&mut **c)
    .await?);
    match cursor {
        Some(cursor) => non_negative("cursor", cursor),
        None => Err(StoreError::UnknownUser(user.to_string())),
    }
}
