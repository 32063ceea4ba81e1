//! `POST /api/v1/pair`: a pairing code (from `dreamcatcher-server pair NAME`) for a device
//! token.

use std::net::SocketAddr;

use axum::Json;
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::json;

use crate::accounts::{self, AccountError};
use crate::error::ApiError;
use crate::extract::{parse_json, read_json_body};
use crate::ratelimit::retry_after_secs;
use crate::server::SharedState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PairRequest {
    code: String,
    device_name: String,
}

pub async fn pair(
    State(state): State<SharedState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    // Codes are short: guessing is slowed per client address.
    state
        .limiters
        .pairing
        .check(&peer.ip())
        .map_err(|wait| ApiError::rate_limited(retry_after_secs(wait)))?;
    let bytes = read_json_body(
        &headers,
        body,
        state.config.max_small_body_bytes,
        "the pairing request",
    )
    .await?;
    let request: PairRequest = parse_json(&bytes, "the pairing request")?;
    match accounts::redeem_pairing_code(&state.db, &request.code, &request.device_name).await {
        Ok(Some(issued)) => {
            tracing::info!(device = issued.device.id, user = issued.device.user_id, "device paired");
            Ok((
                StatusCode::CREATED,
                Json(json!({
                    "token": issued.token,
                    "device_id": issued.device.id,
                    "device_name": issued.device.name,
                    "user_id": issued.device.user_id,
                })),
            ))
        }
        Ok(None) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_pairing_code",
            "the pairing code is unknown, already used or expired; run `dreamcatcher-server pair NAME` for a new one",
        )
        .with_field("code")),
        Err(AccountError::InvalidName { what }) => Err(ApiError::invalid(format!(
            "`device_name` must be 1 to {} bytes of printable text ({what})",
            accounts::MAX_NAME_BYTES
        ))
        .with_field("device_name")),
        Err(AccountError::Store(error)) => Err(error.into()),
        Err(error) => Err(ApiError::internal(error.to_string())),
    }
}
