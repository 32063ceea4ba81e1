//! Capture, list and search, read, edit and delete dreams.

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use chrono::{NaiveDate, Utc};
use dreamcatcher_model::{Conversation, Dream, Site, Timestamp};
use dreamcatcher_sync::{
    DreamChange, MAX_ID_BYTES, MAX_NOTES_BYTES, MAX_TAG_BYTES, MAX_TAGS_PER_DREAM,
    OperationOutcome, Revision,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::api::changes::{
    AppliedChange, RestChange, apply_changes, current_state, idempotency_key, rejection,
};
use crate::db::projects::{self, Project};
use crate::error::ApiError;
use crate::extract::{
    Auth, bad_parameter, parse_json, query_pairs, read_json_body, reject_unknown_parameters,
    single_parameter,
};
use crate::library::{ListItem, ListRequest};
use crate::server::SharedState;

/// Page size of `GET /api/v1/dreams` unless `limit` says otherwise, and its maximum.
pub const DEFAULT_PAGE_SIZE: usize = 50;
pub const MAX_PAGE_SIZE: usize = 500;

/// The `{id}` of a dream route. An id no dream can have is simply not found.
pub struct DreamId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for DreamId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(id) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|rejection: PathRejection| {
                ApiError::bad_request("invalid_path", rejection.body_text())
            })?;
        if id.is_empty() || id.len() > MAX_ID_BYTES {
            return Err(ApiError::dream_not_found(&id));
        }
        Ok(DreamId(id))
    }
}

fn outcome_json(outcome: &OperationOutcome) -> serde_json::Value {
    serde_json::to_value(outcome).unwrap_or(serde_json::Value::Null)
}

/// Checks what the model's types cannot say: an id within the protocol's limits.
fn validate_conversation(conversation: &Conversation) -> Result<(), ApiError> {
    if conversation.id.trim().is_empty() {
        return Err(ApiError::invalid("the conversation's `id` is empty").with_field("id"));
    }
    if conversation.id.len() > MAX_ID_BYTES {
        return Err(ApiError::invalid(format!(
            "the conversation's `id` is {} bytes, over the {MAX_ID_BYTES}-byte limit",
            conversation.id.len()
        ))
        .with_field("id"));
    }
    Ok(())
}

/// `POST /api/v1/conversations/capture`: one conversation, as one element of
/// `dreamcatcher parse` output. A recapture (same id) replaces the conversation and keeps
/// the user's tags and notes. 201 when the dream is new, 200 otherwise.
pub async fn capture(
    State(state): State<SharedState>,
    Auth(identity): Auth,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let bytes = read_json_body(
        &headers,
        body,
        state.config.max_capture_bytes,
        "the capture",
    )
    .await?;
    let conversation: Conversation = parse_json(&bytes, "the conversation")?;
    validate_conversation(&conversation)?;
    let key = idempotency_key(&headers)?;
    let dream = Dream::captured(conversation, Utc::now());
    let id = dream.id().to_string();
    let change = RestChange {
        dream_id: id.clone(),
        change: DreamChange::Upsert {
            dream: Box::new(dream),
        },
        base_revision: None,
    };
    let applied = apply_changes(&state, &identity, vec![change], key.as_deref()).await?;
    let Some(AppliedChange { outcome, previous }) = applied.into_iter().next() else {
        return Err(ApiError::internal("the capture produced no result"));
    };
    if let Some(error) = rejection(&outcome, &id) {
        return Err(error);
    }
    let current = current_state(&state, identity.user_id, &id).await?;
    let revision = current.as_ref().map_or(0, |state| state.revision);
    let created = previous.is_none_or(|state| state.live_dream().is_none());
    let status = if created && matches!(outcome, OperationOutcome::Applied { .. }) {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(json!({
            "id": id,
            "revision": revision,
            "created": status == StatusCode::CREATED,
            "outcome": outcome_json(&outcome),
        })),
    ))
}

/// Reads a date bound: RFC 3339, or a plain date (the start of that day, UTC, for `since`;
/// its end for `until`).
fn parse_date_bound(name: &str, value: &str, end_of_day: bool) -> Result<Timestamp, ApiError> {
    if let Ok(instant) = chrono::DateTime::parse_from_rfc3339(value) {
        return Ok(instant.with_timezone(&Utc));
    }
    let date = NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| {
        bad_parameter(
            name,
            format!("{value:?} is not a date (YYYY-MM-DD) or an RFC 3339 time"),
        )
    })?;
    let time = if end_of_day {
        date.and_hms_milli_opt(23, 59, 59, 999)
    } else {
        date.and_hms_opt(0, 0, 0)
    };
    time.map(|time| time.and_utc())
        .ok_or_else(|| bad_parameter(name, format!("{value:?} is not a valid date")))
}

fn parse_list_request(raw: Option<&str>) -> Result<ListRequest, ApiError> {
    const KNOWN: &[&str] = &[
        "q", "site", "language", "tag", "since", "until", "limit", "cursor",
    ];
    let pairs = query_pairs(raw);
    reject_unknown_parameters(&pairs, KNOWN)?;
    let mut request = ListRequest {
        limit: DEFAULT_PAGE_SIZE,
        ..ListRequest::default()
    };
    request.query = single_parameter(&pairs, "q")?.map(str::to_string);
    if let Some(site) = single_parameter(&pairs, "site")? {
        request.site = Some(Site::parse(site).ok_or_else(|| {
            bad_parameter("site", format!("{site:?} is not a site (chatgpt, claude)"))
        })?);
    }
    request.language = single_parameter(&pairs, "language")?
        .map(str::trim)
        .filter(|language| !language.is_empty())
        .map(str::to_string);
    // `tag` may repeat, and each may list several tags separated by commas: all must match.
    request.tags = pairs
        .iter()
        .filter(|(name, _)| name == "tag")
        .flat_map(|(_, value)| value.split(','))
        .map(str::trim)
        .filter(|tag| !tag.is_empty())
        .map(str::to_string)
        .collect();
    if let Some(since) = single_parameter(&pairs, "since")? {
        request.since = Some(parse_date_bound("since", since, false)?);
    }
    if let Some(until) = single_parameter(&pairs, "until")? {
        request.until = Some(parse_date_bound("until", until, true)?);
    }
    if let (Some(since), Some(until)) = (request.since, request.until)
        && since > until
    {
        return Err(bad_parameter("since", "is after `until`"));
    }
    if let Some(limit) = single_parameter(&pairs, "limit")? {
        request.limit = limit
            .parse::<usize>()
            .ok()
            .filter(|limit| (1..=MAX_PAGE_SIZE).contains(limit))
            .ok_or_else(|| {
                bad_parameter(
                    "limit",
                    format!("must be a whole number from 1 to {MAX_PAGE_SIZE}"),
                )
            })?;
    }
    if let Some(cursor) = single_parameter(&pairs, "cursor")? {
        request.offset = cursor.parse::<usize>().map_err(|_| {
            bad_parameter(
                "cursor",
                "is not a cursor this endpoint returned (`next_cursor`)",
            )
        })?;
    }
    Ok(request)
}

#[derive(Serialize)]
pub struct ListResponse {
    pub items: Vec<ListItem>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
    pub total: usize,
}

/// `GET /api/v1/dreams`: newest first, or best first with `q`. Filters: `site`,
/// `language`, `tag` (repeatable; all must match), `since`/`until` (the conversation's
/// date). Paged by `limit` and `cursor`.
pub async fn list(
    State(state): State<SharedState>,
    Auth(identity): Auth,
    RawQuery(raw): RawQuery,
) -> Result<Json<ListResponse>, ApiError> {
    let request = parse_list_request(raw.as_deref())?;
    let page = state
        .libraries
        .list(&state.db, identity.user_id, &request, Utc::now())
        .await?;
    Ok(Json(ListResponse {
        items: page.items,
        next_cursor: page.next_offset.map(|offset| offset.to_string()),
        total: page.total,
    }))
}

#[derive(Serialize)]
pub struct DreamResponse {
    pub id: String,
    pub revision: Revision,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conflict_of: Option<String>,
    pub dream: Dream,
    pub projects: Vec<Project>,
}

/// `GET /api/v1/dreams/{id}`: the whole dream. Another user's id is not found, exactly
/// like an id nobody has.
pub async fn get_dream(
    State(state): State<SharedState>,
    Auth(identity): Auth,
    DreamId(id): DreamId,
) -> Result<Json<DreamResponse>, ApiError> {
    let stored = current_state(&state, identity.user_id, &id).await?;
    let Some((stored, dream)) = stored.and_then(|stored| {
        let dream = stored.live_dream()?.clone();
        Some((stored, dream))
    }) else {
        return Err(ApiError::dream_not_found(&id));
    };
    let projects = {
        let mut pooled = state.db.acquire().await?;
        projects::projects_for_dream(&mut pooled.conn(), identity.user_id, &id).await?
    };
    Ok(Json(DreamResponse {
        id,
        revision: stored.revision,
        conflict_of: stored.conflict_of,
        dream,
        projects,
    }))
}

/// The body of `PATCH /api/v1/dreams/{id}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchRequest {
    #[serde(default)]
    tags: Option<Vec<String>>,
    #[serde(default)]
    notes: Option<String>,
    /// The revision the client last saw; omitted, the edit is based on the current one.
    #[serde(default)]
    base_revision: Option<Revision>,
}

/// Tags as stored: trimmed, no empty ones, each once (first spelling kept).
fn normalise_tags(tags: Vec<String>) -> Result<Vec<String>, ApiError> {
    let mut kept: Vec<String> = Vec::new();
    for (index, tag) in tags.into_iter().enumerate() {
        let tag = tag.trim().to_string();
        if tag.len() > MAX_TAG_BYTES {
            return Err(ApiError::invalid(format!(
                "`tags[{index}]` is {} bytes, over the {MAX_TAG_BYTES}-byte limit",
                tag.len()
            ))
            .with_field(format!("tags[{index}]")));
        }
        if !tag.is_empty() && !kept.iter().any(|other| other.eq_ignore_ascii_case(&tag)) {
            kept.push(tag);
        }
    }
    if kept.len() > MAX_TAGS_PER_DREAM {
        return Err(ApiError::invalid(format!(
            "`tags` has {} tags, over the limit of {MAX_TAGS_PER_DREAM}",
            kept.len()
        ))
        .with_field("tags"));
    }
    Ok(kept)
}

/// `PATCH /api/v1/dreams/{id}`: set `tags` and/or `notes`. With a `base_revision` older
/// than a concurrent edit of the same field, the edit is kept as a conflict copy (its id
/// in the outcome) and the dream keeps the other edit, as in sync.
pub async fn patch_dream(
    State(state): State<SharedState>,
    Auth(identity): Auth,
    DreamId(id): DreamId,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<serde_json::Value>, ApiError> {
    let bytes = read_json_body(
        &headers,
        body,
        state.config.max_small_body_bytes,
        "the edit",
    )
    .await?;
    let request: PatchRequest = parse_json(&bytes, "the edit")?;
    if request.tags.is_none() && request.notes.is_none() {
        return Err(ApiError::invalid(
            "the edit changes nothing: give `tags`, `notes` or both",
        ));
    }
    let key = idempotency_key(&headers)?;
    let mut changes = Vec::new();
    let mut fields = Vec::new();
    if let Some(tags) = request.tags {
        changes.push(RestChange {
            dream_id: id.clone(),
            change: DreamChange::SetTags {
                tags: normalise_tags(tags)?,
            },
            base_revision: request.base_revision,
        });
        fields.push("tags");
    }
    if let Some(notes) = request.notes {
        if notes.len() > MAX_NOTES_BYTES {
            return Err(ApiError::invalid(format!(
                "`notes` is {} bytes, over the {MAX_NOTES_BYTES}-byte limit",
                notes.len()
            ))
            .with_field("notes"));
        }
        changes.push(RestChange {
            dream_id: id.clone(),
            change: DreamChange::SetNotes { notes },
            base_revision: request.base_revision,
        });
        fields.push("notes");
    }
    // An unknown id must not leave traces (tombstones, op ids): check before applying.
    if current_state(&state, identity.user_id, &id)
        .await?
        .is_none()
    {
        return Err(ApiError::dream_not_found(&id));
    }
    let applied = apply_changes(&state, &identity, changes, key.as_deref()).await?;
    let mut outcomes = serde_json::Map::new();
    for (field, change) in fields.into_iter().zip(&applied) {
        if let Some(error) = rejection(&change.outcome, &id) {
            return Err(error);
        }
        outcomes.insert(field.to_string(), outcome_json(&change.outcome));
    }
    let revision = current_state(&state, identity.user_id, &id)
        .await?
        .map_or(0, |state| state.revision);
    Ok(Json(
        json!({"id": id, "revision": revision, "outcomes": outcomes}),
    ))
}

/// `DELETE /api/v1/dreams/{id}[?base_revision=N]`: leaves a tombstone (devices delete
/// their copy; a recapture restores it).
pub async fn delete_dream(
    State(state): State<SharedState>,
    Auth(identity): Auth,
    DreamId(id): DreamId,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Json<serde_json::Value>, ApiError> {
    let pairs = query_pairs(raw.as_deref());
    reject_unknown_parameters(&pairs, &["base_revision"])?;
    let base_revision = single_parameter(&pairs, "base_revision")?
        .map(|value| {
            value
                .parse::<Revision>()
                .map_err(|_| bad_parameter("base_revision", "must be a whole number"))
        })
        .transpose()?;
    let key = idempotency_key(&headers)?;
    let live = current_state(&state, identity.user_id, &id)
        .await?
        .is_some_and(|state| state.live_dream().is_some());
    if !live {
        return Err(ApiError::dream_not_found(&id));
    }
    let change = RestChange {
        dream_id: id.clone(),
        change: DreamChange::Delete,
        base_revision,
    };
    let applied = apply_changes(&state, &identity, vec![change], key.as_deref()).await?;
    let outcome = applied
        .into_iter()
        .next()
        .map(|change| change.outcome)
        .ok_or_else(|| ApiError::internal("the delete produced no result"))?;
    if let Some(error) = rejection(&outcome, &id) {
        return Err(error);
    }
    let revision = current_state(&state, identity.user_id, &id)
        .await?
        .map_or(0, |state| state.revision);
    Ok(Json(json!({
        "id": id,
        "revision": revision,
        "deleted": true,
        "outcome": outcome_json(&outcome),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_parameters_are_read_strictly() {
        let request = parse_list_request(Some(
            "q=tokio&site=claude&tag=rust,async&tag=web&since=2026-01-02&limit=10&cursor=20",
        ))
        .unwrap();
        assert_eq!(request.query.as_deref(), Some("tokio"));
        assert_eq!(request.site, Some(Site::Claude));
        assert_eq!(request.tags, ["rust", "async", "web"]);
        assert_eq!(
            request.since.unwrap().to_rfc3339(),
            "2026-01-02T00:00:00+00:00"
        );
        assert_eq!((request.limit, request.offset), (10, 20));

        for (query, field) in [
            ("sort=new", "sort"),
            ("site=bard", "site"),
            ("limit=0", "limit"),
            ("limit=9999", "limit"),
            ("since=yesterday", "since"),
            ("q=a&q=b", "q"),
            ("since=2026-02-01&until=2026-01-01", "since"),
        ] {
            let error = parse_list_request(Some(query)).unwrap_err();
            assert_eq!(error.status, StatusCode::BAD_REQUEST, "{query}");
            assert_eq!(error.field.as_deref(), Some(field), "{query}");
        }
    }

    #[test]
    fn tags_are_trimmed_and_deduplicated() {
        let tags = normalise_tags(vec![
            " Rust ".into(),
            "".into(),
            "rust".into(),
            "wasm".into(),
        ]);
        assert_eq!(tags.unwrap(), ["Rust", "wasm"]);
        let error = normalise_tags(vec!["x".repeat(MAX_TAG_BYTES + 1)]).unwrap_err();
        assert_eq!(error.field.as_deref(), Some("tags[0]"));
    }
}
