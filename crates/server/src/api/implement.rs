//! "Implement": a dream becomes a PipelineOS project, handed to the orchestrator, which
//! reports back on `POST /api/v1/dreams/{id}/implementation`.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::Utc;
use dreamcatcher_model::Dream;
use dreamcatcher_sync::ServerEvent;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::accounts::{hex, random_bytes, secrets_match};
use crate::api::changes::current_state;
use crate::api::dreams::DreamId;
use crate::db::now_millis;
use crate::db::projects::{self, Project, ProjectStatus};
use crate::error::ApiError;
use crate::extract::{Auth, parse_json, read_json_body};
use crate::server::{AppState, SharedState};

/// The header carrying `ORCHESTRATOR_SECRET`, both on forwarded projects and on the
/// orchestrator's reports.
pub const SECRET_HEADER: &str = "x-orchestrator-secret";

/// Longest `message` in a report.
const MAX_REPORT_MESSAGE_BYTES: usize = 4096;

/// What the orchestrator's webhook receives.
#[derive(Serialize)]
struct ImplementRequest<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    project: &'a Project,
    dream: &'a Dream,
    callback: Callback,
}

#[derive(Serialize)]
struct Callback {
    /// Absolute when the service knows its public address (`--public-url`).
    url: Option<String>,
    path: String,
    method: &'static str,
    secret_header: &'static str,
}

fn callback_path(dream_id: &str) -> String {
    let encoded: String = form_urlencoded::byte_serialize(dream_id.as_bytes()).collect();
    format!("/api/v1/dreams/{encoded}/implementation")
}

/// Sends the project to the orchestrator; `Err` says why it was not accepted.
async fn forward(
    state: &AppState,
    url: &str,
    project: &Project,
    dream: &Dream,
) -> Result<(), String> {
    let path = callback_path(&project.dream_id);
    let request = ImplementRequest {
        kind: "implement_requested",
        project,
        dream,
        callback: Callback {
            url: state
                .config
                .public_url
                .as_ref()
                .map(|base| format!("{}{path}", base.trim_end_matches('/'))),
            path,
            method: "POST",
            secret_header: SECRET_HEADER,
        },
    };
    let mut builder = state.http.post(url).json(&request);
    if let Some(secret) = &state.config.orchestrator_secret {
        builder = builder.header(SECRET_HEADER, secret);
    }
    match builder.send().await {
        Ok(response) if response.status().is_success() => Ok(()),
        Ok(response) => Err(format!("the orchestrator answered {}", response.status())),
        Err(error) if error.is_timeout() => {
            Err("the orchestrator did not answer in time".to_string())
        }
        Err(error) if error.is_connect() => {
            Err("the orchestrator could not be reached".to_string())
        }
        Err(error) => Err(format!("the request to the orchestrator failed: {error}")),
    }
}

/// Stores the project and records its event, under the user's lock.
async fn save_with_event(
    state: &AppState,
    user: i64,
    project: &Project,
    insert: bool,
    event: Option<ServerEvent>,
) -> Result<(), ApiError> {
    let mut tx = state.db.begin_for_user(user).await?;
    if insert {
        projects::insert_project(&mut tx.conn(), user, project).await?;
    } else {
        projects::update_project(&mut tx.conn(), user, project).await?;
    }
    if let Some(event) = event {
        tx.append_events(&[event], now_millis()).await?;
    }
    let committed = tx.commit().await?;
    state.after_commit(committed);
    Ok(())
}

/// `POST` (and the seed's `GET`) `/api/v1/dreams/{id}/implement`: makes a project of the
/// dream, forwards it to `ORCHESTRATOR_URL` when set, and tells the user's devices
/// (`project_created`). While a project of the dream is under way, returns it (200)
/// instead of starting another; a new one is 201.
pub async fn implement(
    State(state): State<SharedState>,
    Auth(identity): Auth,
    DreamId(id): DreamId,
) -> Result<(StatusCode, Json<Project>), ApiError> {
    let user = identity.user_id;
    let dream = current_state(&state, user, &id)
        .await?
        .and_then(|stored| stored.live_dream().cloned())
        .ok_or_else(|| ApiError::dream_not_found(&id))?;
    let existing = {
        let mut pooled = state.db.acquire().await?;
        projects::projects_for_dream(&mut pooled.conn(), user, &id).await?
    };
    if let Some(active) = existing
        .into_iter()
        .rev()
        .find(|project| project.status.is_active())
    {
        return Ok((StatusCode::OK, Json(active)));
    }
    let now = Utc::now();
    let project_id = format!(
        "prj-{}",
        hex(&random_bytes::<16>().map_err(|error| ApiError::internal(error.to_string()))?)
    );
    let mut project = Project {
        id: project_id,
        dream_id: id.clone(),
        title: dream.conversation.title.clone(),
        status: ProjectStatus::Created,
        created_at: now,
        updated_at: now,
        forward_error: None,
        progress: None,
        message: None,
        result: None,
    };
    // Stored before forwarding, so a fast report from the orchestrator finds it.
    save_with_event(&state, user, &project, true, None).await?;
    if let Some(url) = &state.config.orchestrator_url {
        match forward(&state, url, &project, &dream).await {
            Ok(()) => project.status = ProjectStatus::Forwarded,
            Err(reason) => {
                tracing::warn!(project = project.id, %reason, "forwarding to the orchestrator failed");
                state.metrics.error("orchestrator", "forward_failed");
                project.status = ProjectStatus::ForwardFailed;
                project.forward_error = Some(reason);
            }
        }
        project.updated_at = Utc::now();
    }
    let event = ServerEvent::ProjectCreated {
        dream_id: id,
        project: serde_json::to_value(&project).unwrap_or_else(|_| json!({})),
    };
    save_with_event(&state, user, &project, false, Some(event)).await?;
    Ok((StatusCode::CREATED, Json(project)))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum ReportedStatus {
    InProgress,
    Completed,
    Failed,
}

/// The orchestrator's report.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Report {
    project_id: String,
    status: ReportedStatus,
    #[serde(default)]
    progress: Option<u8>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    result: Option<serde_json::Value>,
}

/// `POST /api/v1/dreams/{id}/implementation`, from the orchestrator (authenticated by the
/// `X-Orchestrator-Secret` header): progress, or completion, which is sent to the user's
/// devices as `implementation_completed`.
pub async fn report(
    State(state): State<SharedState>,
    DreamId(id): DreamId,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Project>, ApiError> {
    let Some(secret) = &state.config.orchestrator_secret else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "orchestrator_not_configured",
            "this service has no ORCHESTRATOR_SECRET, so it accepts no orchestrator reports",
        ));
    };
    let given = headers
        .get(SECRET_HEADER)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    if !secrets_match(given, secret) {
        return Err(ApiError::unauthenticated(
            "the `X-Orchestrator-Secret` header is missing or wrong",
        ));
    }
    let bytes = read_json_body(
        &headers,
        body,
        state.config.max_small_body_bytes,
        "the report",
    )
    .await?;
    let report: Report = parse_json(&bytes, "the report")?;
    if report.progress.is_some_and(|progress| progress > 100) {
        return Err(ApiError::invalid("`progress` must be 0 to 100").with_field("progress"));
    }
    if report
        .message
        .as_ref()
        .is_some_and(|message| message.len() > MAX_REPORT_MESSAGE_BYTES)
    {
        return Err(ApiError::invalid(format!(
            "`message` is over the {MAX_REPORT_MESSAGE_BYTES}-byte limit"
        ))
        .with_field("message"));
    }
    let found = {
        let mut pooled = state.db.acquire().await?;
        projects::project_with_owner(&mut pooled.conn(), &report.project_id).await?
    };
    let Some((user, mut project)) = found.filter(|(_, project)| project.dream_id == id) else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no project {:?} for dream {id:?}", report.project_id),
        )
        .with_field("project_id"));
    };
    let already_final = matches!(
        project.status,
        ProjectStatus::Completed | ProjectStatus::Failed
    );
    project.status = match report.status {
        ReportedStatus::InProgress => ProjectStatus::InProgress,
        ReportedStatus::Completed => ProjectStatus::Completed,
        ReportedStatus::Failed => ProjectStatus::Failed,
    };
    if report.status == ReportedStatus::Completed {
        project.progress = Some(100);
    } else if report.progress.is_some() {
        project.progress = report.progress;
    }
    if report.message.is_some() {
        project.message = report.message;
    }
    if report.result.is_some() {
        project.result = report.result;
    }
    project.updated_at = Utc::now();
    // A repeated final report updates the record but is announced once.
    let event = (report.status != ReportedStatus::InProgress && !already_final).then(|| {
        ServerEvent::ImplementationCompleted {
            dream_id: id.clone(),
            result: json!({
                "project_id": project.id,
                "status": project.status,
                "message": project.message,
                "result": project.result,
            }),
        }
    });
    save_with_event(&state, user, &project, false, event).await?;
    Ok(Json(project))
}
