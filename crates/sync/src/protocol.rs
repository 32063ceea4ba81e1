//! The messages both sides exchange over the WebSocket, their limits, and their parsing.
//!
//! Every message is one JSON object (a WebSocket text frame) whose `type` field names it in
//! snake_case. The crate documentation shows each shape.

use std::borrow::Cow;

use dreamcatcher_model::Dream;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::operation::{Cursor, OpId, Operation, Revision};

/// The protocol version this build speaks. Sent in `hello` and `welcome`.
pub const PROTOCOL_VERSION: u32 = 1;
/// The oldest version this build still accepts from the other side.
pub const OLDEST_SUPPORTED_PROTOCOL_VERSION: u32 = 1;

/// Largest message either side accepts, in bytes of JSON text.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;
/// Largest single operation, in bytes of JSON: a long captured conversation fits; together
/// with the tag and notes limits a dream stays well under [`MAX_MESSAGE_BYTES`].
pub const MAX_OPERATION_BYTES: usize = 8 * 1024 * 1024;
/// Most operations in one `push` (and results in one `ack`).
pub const MAX_OPERATIONS_PER_PUSH: usize = 100;
/// Most events in one `events` message.
pub const MAX_EVENTS_PER_MESSAGE: usize = 100;
/// Longest op, device and dream id, in bytes.
pub const MAX_ID_BYTES: usize = 128;
/// Longest device token in `hello`, in bytes.
pub const MAX_DEVICE_TOKEN_BYTES: usize = 4096;
pub const MAX_TAGS_PER_DREAM: usize = 256;
pub const MAX_TAG_BYTES: usize = 256;
pub const MAX_NOTES_BYTES: usize = 256 * 1024;

/// Client → server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    Hello(Hello),
    Push(Push),
    Ping,
}

/// First message on a connection: who the device is and what it already has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    pub protocol_version: u32,
    /// The credential PipelineOS issued to this browser (a browser's WebSocket cannot send
    /// an `Authorization` header, so it travels here).
    pub device_token: String,
    /// The cursor of the last event this device applied; the service replays those after it.
    pub last_cursor: Cursor,
}

/// Outbox operations, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Push {
    pub operations: Vec<Operation>,
}

/// Server → client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    Welcome(Welcome),
    Ack(Ack),
    Events(Events),
    Pong,
    Error(ErrorMessage),
}

/// The answer to a good `hello`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Welcome {
    /// The version the service will speak on this connection.
    pub protocol_version: u32,
    /// The user's latest event cursor: the device is caught up once it has applied it.
    pub server_cursor: Cursor,
}

/// The result of every operation of one `push`, in the push's order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    pub results: Vec<OperationResult>,
    /// The user's latest event cursor after applying them: the events they caused come next.
    pub server_cursor: Cursor,
}

/// What the service did with one operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperationResult {
    pub op_id: OpId,
    #[serde(flatten)]
    pub outcome: OperationOutcome,
}

/// Every outcome means "done": the client removes the operation from its outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum OperationOutcome {
    /// Applied now; `revision` is the dream's revision afterwards (unchanged when the
    /// operation changed nothing, such as a recapture of identical content).
    Applied { revision: Revision },
    /// Applied earlier (a resend); not applied again.
    Duplicate,
    /// A concurrent change won; this operation's change was kept in a new dream, a
    /// "conflict copy", whose id is given.
    Conflict { conflict_copy_id: String },
    /// Not applied, for the reason given.
    Rejected {
        reason: RejectReason,
        message: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    /// The operation breaks the protocol's limits or is inconsistent.
    InvalidOperation,
    /// An edit of a dream the service has never had.
    UnknownDream,
    /// The dream was deleted: by another device after this change's base revision (for a
    /// capture), or before it (for an edit).
    DreamDeleted,
    /// The base revision is newer than anything the service has for the dream.
    UnknownRevision,
}

/// Events after `after_cursor`, all of them up to the last one listed, cursor ascending.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Events {
    pub after_cursor: Cursor,
    pub events: Vec<SequencedEvent>,
}

/// An event with its place in the user's stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SequencedEvent {
    pub cursor: Cursor,
    #[serde(flatten)]
    pub event: ServerEvent,
}

/// Something that changed in the user's library, on the service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerEvent {
    /// A dream was created or changed; `dream` is its whole new state.
    DreamUpdated {
        dream: Box<Dream>,
        revision: Revision,
        /// Set on a conflict copy: the id of the dream it was copied from.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        conflict_of: Option<String>,
    },
    /// A dream was deleted (the service keeps a tombstone at `revision`).
    DreamDeleted {
        dream_id: String,
        revision: Revision,
    },
    /// PipelineOS made a project from a dream. `project` is PipelineOS's project object,
    /// passed through untouched.
    ProjectCreated {
        dream_id: String,
        project: serde_json::Value,
    },
    /// PipelineOS finished implementing a dream. `result` is its result object, untouched.
    ImplementationCompleted {
        dream_id: String,
        result: serde_json::Value,
    },
}

impl ServerEvent {
    pub fn dream_id(&self) -> &str {
        match self {
            ServerEvent::DreamUpdated { dream, .. } => dream.id(),
            ServerEvent::DreamDeleted { dream_id, .. }
            | ServerEvent::ProjectCreated { dream_id, .. }
            | ServerEvent::ImplementationCompleted { dream_id, .. } => dream_id,
        }
    }
}

/// A problem the service reports. Only `authentication_failed`, `unsupported_version` and
/// `unavailable` end the connection; after the others it stays up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorMessage {
    pub code: ErrorCode,
    /// For logs and developers; the extension shows its own text for the code.
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The message could not be read (bad JSON, unknown type, a wrong field).
    MalformedMessage,
    MessageTooLarge,
    /// `hello` asked for a protocol version the service does not speak. Connection closed.
    UnsupportedVersion,
    /// The device token is unknown, expired or revoked. Connection closed.
    AuthenticationFailed,
    /// A `push` before a successful `hello`.
    NotAuthenticated,
    /// A message that makes no sense now (a second `hello`).
    UnexpectedMessage,
    /// The service cannot serve now (its store is down, it is shutting down). Connection
    /// closed; retry later.
    Unavailable,
    /// A code this build does not know (sent by a newer service).
    #[serde(other)]
    Unknown,
}

impl ErrorCode {
    /// Whether the service closes the connection after sending this code.
    pub fn closes_connection(self) -> bool {
        matches!(
            self,
            ErrorCode::UnsupportedVersion
                | ErrorCode::AuthenticationFailed
                | ErrorCode::Unavailable
        )
    }
}

/// Why an incoming message could not be read. The text says what and where.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProtocolError {
    #[error("message is {bytes} bytes, over the {limit}-byte limit")]
    TooLarge { bytes: usize, limit: usize },
    #[error("message is not valid JSON: {detail} (line {line}, column {column})")]
    InvalidJson {
        line: usize,
        column: usize,
        detail: String,
    },
    #[error("message is not a JSON object")]
    NotAnObject,
    #[error("message has no string `type` field: {detail}")]
    MissingType { detail: String },
    #[error("unknown message type {found:?}; expected one of {expected}")]
    UnknownType {
        found: String,
        expected: &'static str,
    },
    #[error("`{message_type}` message: {detail} at `{path}` (line {line}, column {column})")]
    InvalidField {
        message_type: &'static str,
        path: String,
        line: usize,
        column: usize,
        detail: String,
    },
    #[error("`{message_type}` message: `{path}` {detail}")]
    LimitExceeded {
        message_type: &'static str,
        path: &'static str,
        detail: String,
    },
    #[error(
        "protocol version {found} is not supported: this side speaks versions {oldest} to {newest}"
    )]
    UnsupportedVersion {
        found: u64,
        oldest: u32,
        newest: u32,
    },
}

impl ProtocolError {
    /// The code the service answers this error with.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            ProtocolError::TooLarge { .. } => ErrorCode::MessageTooLarge,
            ProtocolError::UnsupportedVersion { .. } => ErrorCode::UnsupportedVersion,
            _ => ErrorCode::MalformedMessage,
        }
    }
}

impl ClientMessage {
    /// Reads one incoming text frame. Never panics; the error says what is wrong and where.
    pub fn parse(text: &str) -> Result<Self, ProtocolError> {
        let envelope = read_envelope(text)?;
        match envelope.message_type.as_ref() {
            "hello" => {
                check_version(envelope.protocol_version.as_ref())?;
                let hello: Hello = read_body("hello", text)?;
                if hello.device_token.len() > MAX_DEVICE_TOKEN_BYTES {
                    return Err(ProtocolError::LimitExceeded {
                        message_type: "hello",
                        path: "device_token",
                        detail: format!(
                            "is {} bytes, over the {MAX_DEVICE_TOKEN_BYTES}-byte limit",
                            hello.device_token.len()
                        ),
                    });
                }
                Ok(ClientMessage::Hello(hello))
            }
            "push" => {
                let push: Push = read_body("push", text)?;
                check_count(
                    "push",
                    "operations",
                    push.operations.len(),
                    MAX_OPERATIONS_PER_PUSH,
                )?;
                Ok(ClientMessage::Push(push))
            }
            "ping" => Ok(ClientMessage::Ping),
            other => Err(ProtocolError::UnknownType {
                found: other.to_string(),
                expected: "hello, push, ping",
            }),
        }
    }

    pub fn to_json(&self) -> String {
        encode(self)
    }
}

impl ServerMessage {
    /// Reads one incoming text frame. Never panics; the error says what is wrong and where.
    pub fn parse(text: &str) -> Result<Self, ProtocolError> {
        let envelope = read_envelope(text)?;
        match envelope.message_type.as_ref() {
            "welcome" => {
                check_version(envelope.protocol_version.as_ref())?;
                Ok(ServerMessage::Welcome(read_body("welcome", text)?))
            }
            "ack" => {
                let ack: Ack = read_body("ack", text)?;
                check_count("ack", "results", ack.results.len(), MAX_OPERATIONS_PER_PUSH)?;
                Ok(ServerMessage::Ack(ack))
            }
            "events" => {
                let events: Events = read_body("events", text)?;
                check_count(
                    "events",
                    "events",
                    events.events.len(),
                    MAX_EVENTS_PER_MESSAGE,
                )?;
                Ok(ServerMessage::Events(events))
            }
            "pong" => Ok(ServerMessage::Pong),
            "error" => Ok(ServerMessage::Error(read_body("error", text)?)),
            other => Err(ProtocolError::UnknownType {
                found: other.to_string(),
                expected: "welcome, ack, events, pong, error",
            }),
        }
    }

    pub fn to_json(&self) -> String {
        encode(self)
    }

    pub fn error(code: ErrorCode, message: impl Into<String>) -> Self {
        ServerMessage::Error(ErrorMessage {
            code,
            message: message.into(),
        })
    }
}

fn encode<T: Serialize>(message: &T) -> String {
    // Every map key in these types is a string and every value (chrono times, serde_json
    // values) serialises without error, so this cannot fail whatever the data.
    serde_json::to_string(message).expect("sync messages always serialise to JSON")
}

/// The fields read before the body: which message it is, and its version when it has one.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(rename = "type", borrow)]
    message_type: Cow<'a, str>,
    /// Read loosely: a version of the wrong type is reported by the body's own parse, with
    /// its path.
    #[serde(default)]
    protocol_version: Option<serde_json::Value>,
}

fn read_envelope(text: &str) -> Result<Envelope<'_>, ProtocolError> {
    if text.len() > MAX_MESSAGE_BYTES {
        return Err(ProtocolError::TooLarge {
            bytes: text.len(),
            limit: MAX_MESSAGE_BYTES,
        });
    }
    let starts_as_object = text.trim_start().starts_with('{');
    if !starts_as_object && serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok() {
        return Err(ProtocolError::NotAnObject);
    }
    serde_json::from_str::<Envelope>(text).map_err(|error| {
        if error.is_data() {
            ProtocolError::MissingType {
                detail: strip_position(&error),
            }
        } else {
            ProtocolError::InvalidJson {
                line: error.line(),
                column: error.column(),
                detail: strip_position(&error),
            }
        }
    })
}

fn read_body<T: DeserializeOwned>(
    message_type: &'static str,
    text: &str,
) -> Result<T, ProtocolError> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        ProtocolError::InvalidField {
            message_type,
            path,
            line: inner.line(),
            column: inner.column(),
            detail: strip_position(&inner),
        }
    })
}

/// serde_json appends " at line L column C"; the errors above say where in their own words.
fn strip_position(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rsplit_once(" at line ") {
        Some((message, _)) => message.to_string(),
        None => text,
    }
}

fn check_version(found: Option<&serde_json::Value>) -> Result<(), ProtocolError> {
    match found.and_then(serde_json::Value::as_u64) {
        Some(version)
            if version < u64::from(OLDEST_SUPPORTED_PROTOCOL_VERSION)
                || version > u64::from(PROTOCOL_VERSION) =>
        {
            Err(ProtocolError::UnsupportedVersion {
                found: version,
                oldest: OLDEST_SUPPORTED_PROTOCOL_VERSION,
                newest: PROTOCOL_VERSION,
            })
        }
        _ => Ok(()),
    }
}

fn check_count(
    message_type: &'static str,
    path: &'static str,
    count: usize,
    limit: usize,
) -> Result<(), ProtocolError> {
    if count > limit {
        return Err(ProtocolError::LimitExceeded {
            message_type,
            path,
            detail: format!("has {count} entries, over the limit of {limit}"),
        });
    }
    Ok(())
}
