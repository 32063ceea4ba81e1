//! Reading requests strictly: the bearer token, JSON bodies with size limits and the path
//! of a bad field, query strings with no unknown parameters.

use axum::body::{Body, Bytes};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use http_body_util::BodyExt;
use serde::de::DeserializeOwned;

use crate::db::accounts::Identity;
use crate::error::ApiError;
use crate::ratelimit::retry_after_secs;
use crate::server::SharedState;

/// The token of an `Authorization: Bearer …` header: `None` without the header, an error
/// when the header is there but not a bearer token.
pub fn bearer_token(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed =
        || ApiError::unauthenticated("the Authorization header must be `Bearer <device token>`");
    let value = value.to_str().map_err(|_| malformed())?;
    let (scheme, token) = value.trim().split_once(' ').ok_or_else(malformed)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(malformed());
    }
    Ok(Some(token))
}

/// The device behind the request's bearer token, within its rate limit.
pub struct Auth(pub Identity);

impl FromRequestParts<SharedState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &SharedState) -> Result<Self, ApiError> {
        let token = bearer_token(&parts.headers)?.ok_or_else(|| {
            ApiError::unauthenticated(
                "this endpoint needs an `Authorization: Bearer <device token>` header",
            )
        })?;
        let identity = state.authenticate(token).await?.ok_or_else(|| {
            ApiError::unauthenticated("the device token is unknown or was revoked")
        })?;
        state
            .check_device_rate(identity.device_id)
            .map_err(|wait| ApiError::rate_limited(retry_after_secs(wait)))?;
        Ok(Auth(identity))
    }
}

/// How much of an oversized upload is still read (and dropped) before the 413 is answered.
/// Closing the connection with an upload unread makes the kernel reset it, and the client can
/// lose the answer in the reset: it would see "connection reset" instead of what was too large.
/// Beyond this, the connection is closed anyway rather than read on.
const DRAIN_LIMIT: u64 = 64 << 20;

/// The body, if it is declared as JSON and fits in `limit` bytes. `what` names it in errors.
pub async fn read_json_body(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    what: &str,
) -> Result<Bytes, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    if !media_type.eq_ignore_ascii_case("application/json") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!(
                "{what} must be sent as `Content-Type: application/json`{}",
                if content_type.is_empty() {
                    String::new()
                } else {
                    format!(", not {content_type:?}")
                }
            ),
        ));
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    let too_large = declared.is_some_and(|length| length > limit as u64);
    let mut kept = Vec::with_capacity(declared.unwrap_or(0).min(limit as u64) as usize);
    let mut received: u64 = 0;
    let mut body = body;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|error| {
            ApiError::bad_request("unreadable_body", format!("could not read {what}: {error}"))
        })?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        received += data.len() as u64;
        if too_large || received > limit as u64 {
            // Over the limit: the rest is read and dropped (see DRAIN_LIMIT), never kept.
            if received > DRAIN_LIMIT || declared.is_some_and(|length| length > DRAIN_LIMIT) {
                break;
            }
            continue;
        }
        kept.extend_from_slice(&data);
    }
    if too_large || received > limit as u64 {
        return Err(ApiError::too_large(what, limit));
    }
    Ok(Bytes::from(kept))
}

/// Parses JSON into `T`: invalid JSON is 400 `malformed_json`; JSON of the wrong shape is
/// 422 `invalid_body` naming the path of the bad field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|error| json_error(error, what))?;
    deserializer.end().map_err(|error| {
        ApiError::bad_request(
            "malformed_json",
            format!("{what} has data after its JSON value: {error}"),
        )
    })?;
    Ok(value)
}

/// Turns a serde error with its path into the API's error.
pub fn json_error(error: serde_path_to_error::Error<serde_json::Error>, what: &str) -> ApiError {
    let path = error.path().to_string();
    let inner = error.into_inner();
    if inner.is_syntax() || inner.is_eof() || inner.is_io() {
        return ApiError::bad_request(
            "malformed_json",
            format!("{what} is not valid JSON: {inner}"),
        );
    }
    let message = if path == "." {
        format!("{what}: {inner}")
    } else {
        format!("{what}: `{path}`: {inner}")
    };
    ApiError::invalid(message).with_field(path)
}

/// The query string's parameters, in order; repeated names stay repeated.
pub fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    raw.map(|raw| {
        form_urlencoded::parse(raw.as_bytes())
            .map(|(name, value)| (name.into_owned(), value.into_owned()))
            .collect()
    })
    .unwrap_or_default()
}

/// A 400 for a query parameter.
pub fn bad_parameter(name: &str, message: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(
        "invalid_parameter",
        format!("query parameter `{name}`: {message}"),
    )
    .with_field(name.to_string())
}

/// Refuses parameters the endpoint does not take (a typo would silently do nothing).
pub fn reject_unknown_parameters(
    pairs: &[(String, String)],
    known: &[&str],
) -> Result<(), ApiError> {
    match pairs
        .iter()
        .find(|(name, _)| !known.contains(&name.as_str()))
    {
        Some((name, _)) => Err(bad_parameter(
            name,
            format!(
                "is not a parameter of this endpoint (known: {})",
                known.join(", ")
            ),
        )),
        None => Ok(()),
    }
}

/// The one value of a parameter; an error when it is given twice.
pub fn single_parameter<'a>(
    pairs: &'a [(String, String)],
    name: &str,
) -> Result<Option<&'a str>, ApiError> {
    let mut values = pairs
        .iter()
        .filter(|(key, _)| key == name)
        .map(|(_, value)| value.as_str());
    let first = values.next();
    if values.next().is_some() {
        return Err(bad_parameter(name, "is given more than once"));
    }
    Ok(first)
}
