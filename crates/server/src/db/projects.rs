//! Projects made from dreams ("implement") and the orchestrator's reports on them.

use dreamcatcher_model::Timestamp;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::{Conn, StoreError, on_conn, parse_json, to_json};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProjectStatus {
    /// Recorded; no orchestrator is configured.
    Created,
    /// Handed to the orchestrator.
    Forwarded,
    /// The orchestrator could not be reached or refused it; `implement` again to retry.
    ForwardFailed,
    InProgress,
    Completed,
    Failed,
}

impl ProjectStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ProjectStatus::Created => "created",
            ProjectStatus::Forwarded => "forwarded",
            ProjectStatus::ForwardFailed => "forward_failed",
            ProjectStatus::InProgress => "in_progress",
            ProjectStatus::Completed => "completed",
            ProjectStatus::Failed => "failed",
        }
    }

    /// A project in this state is still going (or done): `implement` returns it rather
    /// than starting another.
    pub fn is_active(self) -> bool {
        !matches!(self, ProjectStatus::ForwardFailed | ProjectStatus::Failed)
    }
}

/// The project object: stored, returned by the API, and sent in `project_created`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Project {
    pub id: String,
    pub dream_id: String,
    pub title: String,
    pub status: ProjectStatus,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Why forwarding to the orchestrator failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward_error: Option<String>,
    /// The orchestrator's last progress report, 0–100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The orchestrator's result object, passed through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<serde_json::Value>,
}

pub async fn insert_project(
    c: &mut Conn<'_>,
    user: i64,
    project: &Project,
) -> Result<(), StoreError> {
    let json = to_json("project", project)?;
    let at = project.updated_at.timestamp_millis();
    on_conn!(c, c => sqlx::query(
        "INSERT INTO projects (id, user_id, dream_id, status, project, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6)"
    )
    .bind(&project.id)
    .bind(user)
    .bind(&project.dream_id)
    .bind(project.status.as_str())
    .bind(&json)
    .bind(at)
    .execute(&mut **c)
    .await?
    .rows_affected());
    Ok(())
}

pub async fn update_project(
    c: &mut Conn<'_>,
    user: i64,
    project: &Project,
) -> Result<(), StoreError> {
    let json = to_json("project", project)?;
    on_conn!(c, c => sqlx::query(
        "UPDATE projects SET status = $3, project = $4, updated_at = $5
         WHERE user_id = $1 AND id = $2"
    )
    .bind(user)
    .bind(&project.id)
    .bind(project.status.as_str())
    .bind(&json)
    .bind(project.updated_at.timestamp_millis())
    .execute(&mut **c)
    .await?
    .rows_affected());
    Ok(())
}

/// The user's projects for one dream, oldest first.
pub async fn projects_for_dream(
    c: &mut Conn<'_>,
    user: i64,
    dream_id: &str,
) -> Result<Vec<Project>, StoreError> {
    let texts: Vec<String> = on_conn!(c, c => sqlx::query_scalar(
        "SELECT project FROM projects WHERE user_id = $1 AND dream_id = $2
         ORDER BY created_at, id"
    )
    .bind(user)
    .bind(dream_id)
    .fetch_all(&mut **c)
    .await?);
    texts
        .iter()
        .map(|text| parse_json("project", text))
        .collect()
}

/// A project by id with its owner, for the orchestrator's report (which carries no user).
pub async fn project_with_owner(
    c: &mut Conn<'_>,
    project_id: &str,
) -> Result<Option<(i64, Project)>, StoreError> {
    let row = on_conn!(c, c => sqlx::query("SELECT user_id, project FROM projects WHERE id = $1")
        .bind(project_id)
        .fetch_optional(&mut **c)
        .await?
        .map(|row| Ok::<_, sqlx::Error>((row.try_get::<i64, _>("user_id")?, row.try_get::<String, _>("project")?)))
        .transpose()?);
    row.map(|(user, text)| Ok((user, parse_json("project", &text)?)))
        .transpose()
}
