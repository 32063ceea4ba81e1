//! `POST /api/v1/dreams/import`: many dreams at once, from `dreamcatcher parse` output or a
//! Dreamcatcher library export.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use chrono::Utc;
use dreamcatcher_model::{Conversation, Dream};
use dreamcatcher_sync::{DreamChange, MAX_ID_BYTES, MAX_TAGS_PER_DREAM, OperationOutcome};
use serde::Serialize;
use serde_json::Value;

use crate::api::changes::{AppliedChange, RestChange, apply_changes};
use crate::error::ApiError;
use crate::extract::{Auth, json_error, parse_json, read_json_body};
use crate::server::SharedState;

/// Dreams written per transaction: large imports do not hold the user's lock for long.
const IMPORT_CHUNK: usize = 100;

#[derive(Debug, Default, Serialize)]
pub struct ImportReport {
    pub added: usize,
    pub updated: usize,
    /// Already there with the same conversation (and nothing new in tags or notes).
    pub unchanged: usize,
    pub skipped: usize,
    /// Why each skipped entry was skipped.
    pub skipped_items: Vec<SkippedItem>,
}

#[derive(Debug, Serialize)]
pub struct SkippedItem {
    /// Position in the imported list.
    pub index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub reason: String,
}

/// One entry, read.
struct Entry {
    index: usize,
    dream: Dream,
}

/// Reads the body: an array of conversations (or of dreams), or a library export object.
fn read_entries(value: Value, report: &mut ImportReport) -> Result<Vec<Entry>, ApiError> {
    let (items, from_library) = match value {
        Value::Array(items) => (items, false),
        Value::Object(mut object) => {
            let dreams = object.remove("dreams").unwrap_or(Value::Null);
            // The export crate decides whether the header is a library it can read.
            let header = serde_json::json!({
                "format": object.remove("format").unwrap_or(Value::Null),
                "version": object.remove("version").unwrap_or(Value::Null),
                "dreams": [],
            });
            dreamcatcher_export::parse_library_json(&header.to_string())
                .map_err(|error| ApiError::invalid(format!("the library export: {error}")))?;
            match dreams {
                Value::Array(items) => (items, true),
                _ => {
                    return Err(
                        ApiError::invalid("the library export has no `dreams` array")
                            .with_field("dreams"),
                    );
                }
            }
        }
        _ => {
            return Err(ApiError::invalid(
                "expected an array of conversations (`dreamcatcher parse` output) or a Dreamcatcher library export object",
            ));
        }
    };
    let now = Utc::now();
    let mut seen = std::collections::HashSet::new();
    let mut entries = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        let id = item
            .get("id")
            .or_else(|| item.get("conversation").and_then(|c| c.get("id")))
            .and_then(Value::as_str)
            .map(str::to_string);
        let mut skip = |reason: String| {
            report.skipped_items.push(SkippedItem {
                index,
                id: id.clone(),
                reason,
            });
        };
        // A dream has a `conversation`; a conversation has `messages` directly.
        let parsed = if from_library || item.get("conversation").is_some() {
            serde_path_to_error::deserialize::<_, Dream>(item)
                .map_err(|error| json_error_from_value(error, index))
        } else {
            serde_path_to_error::deserialize::<_, Conversation>(item)
                .map(|conversation| Dream::captured(conversation, now))
                .map_err(|error| json_error_from_value(error, index))
        };
        let dream = match parsed {
            Ok(dream) => dream,
            Err(reason) => {
                skip(reason);
                continue;
            }
        };
        let dream_id = dream.id().to_string();
        if dream_id.trim().is_empty() || dream_id.len() > MAX_ID_BYTES {
            skip(format!("the id must be 1 to {MAX_ID_BYTES} bytes"));
            continue;
        }
        if !seen.insert(dream_id.clone()) {
            skip("the same id appears earlier in this import".to_string());
            continue;
        }
        entries.push(Entry { index, dream });
    }
    Ok(entries)
}

fn json_error_from_value(
    error: serde_path_to_error::Error<serde_json::Error>,
    index: usize,
) -> String {
    json_error(error, &format!("entry {index}")).message
}

/// Tags and notes an imported dream brings to a dream the user already has: its tags are
/// added, its notes fill empty notes. The user's own edits are never overwritten.
fn merged_user_fields(existing: &Dream, imported: &Dream) -> Vec<DreamChange> {
    let mut changes = Vec::new();
    let mut tags = existing.tags.clone();
    for tag in &imported.tags {
        if tags.len() < MAX_TAGS_PER_DREAM && !tags.iter().any(|t| t.eq_ignore_ascii_case(tag)) {
            tags.push(tag.clone());
        }
    }
    if tags != existing.tags {
        changes.push(DreamChange::SetTags { tags });
    }
    if existing.notes.is_empty() && !imported.notes.is_empty() {
        changes.push(DreamChange::SetNotes {
            notes: imported.notes.clone(),
        });
    }
    changes
}

pub async fn import(
    State(state): State<SharedState>,
    Auth(identity): Auth,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<ImportReport>, ApiError> {
    let bytes = read_json_body(&headers, body, state.config.max_import_bytes, "the import").await?;
    let value: Value = parse_json(&bytes, "the import")?;
    drop(bytes);
    let mut report = ImportReport::default();
    let entries = read_entries(value, &mut report)?;

    for chunk in entries.chunks(IMPORT_CHUNK) {
        let captures = chunk
            .iter()
            .map(|entry| RestChange {
                dream_id: entry.dream.id().to_string(),
                change: DreamChange::Upsert {
                    dream: Box::new(entry.dream.clone()),
                },
                base_revision: None,
            })
            .collect();
        let applied = apply_changes(&state, &identity, captures, None).await?;
        let mut follow_ups = Vec::new();
        for (entry, AppliedChange { outcome, previous }) in chunk.iter().zip(applied) {
            let existing = previous.as_ref().and_then(|state| state.live_dream());
            match (&outcome, existing) {
                (OperationOutcome::Applied { .. }, None) => report.added += 1,
                (OperationOutcome::Applied { revision }, Some(existing)) => {
                    let fields = merged_user_fields(existing, &entry.dream);
                    let conversation_changed = previous
                        .as_ref()
                        .is_some_and(|state| *revision != state.revision);
                    if conversation_changed || !fields.is_empty() {
                        report.updated += 1;
                    } else {
                        report.unchanged += 1;
                    }
                    follow_ups.extend(fields.into_iter().map(|change| RestChange {
                        dream_id: entry.dream.id().to_string(),
                        change,
                        base_revision: None,
                    }));
                }
                (OperationOutcome::Rejected { message, .. }, _) => {
                    report.skipped_items.push(SkippedItem {
                        index: entry.index,
                        id: Some(entry.dream.id().to_string()),
                        reason: message.clone(),
                    });
                }
                (OperationOutcome::Duplicate | OperationOutcome::Conflict { .. }, _) => {
                    report.unchanged += 1;
                }
            }
        }
        if !follow_ups.is_empty() {
            apply_changes(&state, &identity, follow_ups, None).await?;
        }
    }
    report.skipped_items.sort_by_key(|item| item.index);
    report.skipped = report.skipped_items.len();
    Ok(Json(report))
}
