//! Operations: every local change to the library, as it travels from a device to the service.

use dreamcatcher_model::{Dream, Timestamp};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::protocol::{
    MAX_ID_BYTES, MAX_NOTES_BYTES, MAX_OPERATION_BYTES, MAX_TAG_BYTES, MAX_TAGS_PER_DREAM,
};
use crate::random::{RandomSource, random_hex_id};

/// The service's count of changes to one dream: each applied change adds one. 0 means "never
/// seen": the base revision of a change to a dream the device has not received yet.
pub type Revision = u64;

/// Position in a user's event stream: every event the service records for a user gets the
/// next, larger cursor. 0 is "before the first event".
pub type Cursor = u64;

/// Unique id of one operation, made from injected randomness (`op-` + 32 hex digits); the
/// service recognises a resent operation by it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OpId(pub String);

impl OpId {
    pub fn generate(random: &mut impl RandomSource) -> Self {
        OpId(random_hex_id("op-", random))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for OpId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Id of one installation of the extension (`dev-` + 32 hex digits), chosen once and kept
/// with the outbox. The conflict rules use it: a device always sees its own earlier changes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DeviceId(pub String);

impl DeviceId {
    pub fn generate(random: &mut impl RandomSource) -> Self {
        DeviceId(random_hex_id("dev-", random))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for DeviceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What an operation does to its dream. JSON: `"kind"` names it, `"payload"` carries its data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "payload", rename_all = "snake_case")]
pub enum DreamChange {
    /// A capture or recapture. Creates the dream when the service has none; otherwise only
    /// the conversation is taken (the user's tags and notes change through their own kinds).
    Upsert { dream: Box<Dream> },
    /// Replaces the dream's tags.
    SetTags { tags: Vec<String> },
    /// Replaces the dream's notes.
    SetNotes { notes: String },
    /// Deletes the dream; the service keeps a tombstone.
    Delete,
}

impl DreamChange {
    pub fn kind_name(&self) -> &'static str {
        match self {
            DreamChange::Upsert { .. } => "upsert",
            DreamChange::SetTags { .. } => "set_tags",
            DreamChange::SetNotes { .. } => "set_notes",
            DreamChange::Delete => "delete",
        }
    }
}

/// One local change, written to the outbox before it is sent and kept there until the
/// service acknowledges it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Operation {
    pub op_id: OpId,
    pub device_id: DeviceId,
    pub dream_id: String,
    /// The dream's revision as this device last received it (0 if never).
    pub base_revision: Revision,
    pub created_at: Timestamp,
    #[serde(flatten)]
    pub change: DreamChange,
}

impl Operation {
    pub fn new(
        op_id: OpId,
        device_id: DeviceId,
        dream_id: impl Into<String>,
        base_revision: Revision,
        change: DreamChange,
        created_at: Timestamp,
    ) -> Self {
        Operation {
            op_id,
            device_id,
            dream_id: dream_id.into(),
            base_revision,
            created_at,
            change,
        }
    }

    /// A capture of `dream`, its id taken from the dream.
    pub fn upsert(
        op_id: OpId,
        device_id: DeviceId,
        base_revision: Revision,
        dream: Dream,
        created_at: Timestamp,
    ) -> Self {
        let dream_id = dream.id().to_string();
        let change = DreamChange::Upsert {
            dream: Box::new(dream),
        };
        Operation::new(
            op_id,
            device_id,
            dream_id,
            base_revision,
            change,
            created_at,
        )
    }

    /// Checks the limits both sides enforce (ids, tags, notes, the upsert's dream id); the
    /// service rejects an operation that fails them, the client refuses to record it.
    pub fn validate(&self) -> Result<(), OperationError> {
        check_id("op_id", self.op_id.as_str())?;
        check_id("device_id", self.device_id.as_str())?;
        check_id("dream_id", &self.dream_id)?;
        match &self.change {
            DreamChange::Upsert { dream } => {
                if dream.id() != self.dream_id {
                    return Err(OperationError::DreamIdMismatch {
                        dream_id: self.dream_id.clone(),
                        payload_id: dream.id().to_string(),
                    });
                }
                check_tags(&dream.tags, "payload.dream.tags")?;
                check_notes(&dream.notes, "payload.dream.notes")
            }
            DreamChange::SetTags { tags } => check_tags(tags, "payload.tags"),
            DreamChange::SetNotes { notes } => check_notes(notes, "payload.notes"),
            DreamChange::Delete => Ok(()),
        }
    }

    /// Its size as JSON, in bytes.
    pub fn encoded_len(&self) -> usize {
        serde_json::to_vec(self)
            .map(|bytes| bytes.len())
            .unwrap_or(usize::MAX)
    }

    /// [`validate`](Self::validate) plus the size limit, for a client about to record it.
    pub fn validate_for_outbox(&self) -> Result<(), OperationError> {
        self.validate()?;
        let bytes = self.encoded_len();
        if bytes > MAX_OPERATION_BYTES {
            return Err(OperationError::TooLarge {
                bytes,
                limit: MAX_OPERATION_BYTES,
            });
        }
        Ok(())
    }
}

/// Why an operation breaks the protocol's limits; `field` is its JSON path in the operation.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OperationError {
    #[error("`{field}` is empty")]
    EmptyId { field: &'static str },
    #[error("`{field}` is {bytes} bytes, over the {limit}-byte limit")]
    FieldTooLong {
        field: String,
        bytes: usize,
        limit: usize,
    },
    #[error("`{field}` has {count} tags, over the limit of {limit}")]
    TooManyTags {
        field: &'static str,
        count: usize,
        limit: usize,
    },
    #[error("`dream_id` is {dream_id:?} but the upserted dream's id is {payload_id:?}")]
    DreamIdMismatch {
        dream_id: String,
        payload_id: String,
    },
    #[error("operation is {bytes} bytes as JSON, over the {limit}-byte limit")]
    TooLarge { bytes: usize, limit: usize },
}

fn check_id(field: &'static str, value: &str) -> Result<(), OperationError> {
    if value.is_empty() {
        return Err(OperationError::EmptyId { field });
    }
    if value.len() > MAX_ID_BYTES {
        return Err(OperationError::FieldTooLong {
            field: field.to_string(),
            bytes: value.len(),
            limit: MAX_ID_BYTES,
        });
    }
    Ok(())
}

fn check_tags(tags: &[String], field: &'static str) -> Result<(), OperationError> {
    if tags.len() > MAX_TAGS_PER_DREAM {
        return Err(OperationError::TooManyTags {
            field,
            count: tags.len(),
            limit: MAX_TAGS_PER_DREAM,
        });
    }
    match tags
        .iter()
        .enumerate()
        .find(|(_, tag)| tag.len() > MAX_TAG_BYTES)
    {
        Some((index, tag)) => Err(OperationError::FieldTooLong {
            field: format!("{field}[{index}]"),
            bytes: tag.len(),
            limit: MAX_TAG_BYTES,
        }),
        None => Ok(()),
    }
}

fn check_notes(notes: &str, field: &'static str) -> Result<(), OperationError> {
    if notes.len() > MAX_NOTES_BYTES {
        return Err(OperationError::FieldTooLong {
            field: field.to_string(),
            bytes: notes.len(),
            limit: MAX_NOTES_BYTES,
        });
    }
    Ok(())
}
