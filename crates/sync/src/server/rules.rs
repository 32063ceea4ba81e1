//! How the service applies one operation to the stored state of its dream: pure, so the
//! rules are the same whatever the store, and testable on their own.

use dreamcatcher_model::{Dream, Timestamp};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::operation::{DeviceId, DreamChange, OpId, Operation, Revision};
use crate::protocol::{OperationOutcome, RejectReason, ServerEvent};
use crate::random::hex;

/// Appended to a conflict copy's title.
pub const CONFLICT_COPY_MARK: &str = "(conflict copy)";

/// Which revision last changed a part of a dream, and which device made that change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeMark {
    pub revision: Revision,
    pub device_id: DeviceId,
}

impl ChangeMark {
    fn at(revision: Revision, operation: &Operation) -> Self {
        ChangeMark {
            revision,
            device_id: operation.device_id.clone(),
        }
    }

    /// The operation was made without seeing this change: it is based on an older revision
    /// and comes from another device (a device always sees its own earlier changes, since
    /// its operations arrive in the order it made them).
    pub fn unseen_by(&self, operation: &Operation) -> bool {
        operation.base_revision < self.revision && self.device_id != operation.device_id
    }
}

fn unseen(mark: Option<&ChangeMark>, operation: &Operation) -> bool {
    mark.is_some_and(|mark| mark.unseen_by(operation))
}

/// What the service stores for one dream id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredDreamState {
    pub dream_id: String,
    pub revision: Revision,
    /// The dream's content. Kept on a tombstone, so that an edit made without seeing the
    /// deletion can still become a visible copy; `None` only for a tombstone of a dream the
    /// service never had.
    pub dream: Option<Dream>,
    /// Set when the dream is deleted (a tombstone).
    pub deleted: Option<ChangeMark>,
    pub conversation_changed: Option<ChangeMark>,
    /// Unset until a user's edit (or a capture carrying tags) sets the tags.
    pub tags_changed: Option<ChangeMark>,
    pub notes_changed: Option<ChangeMark>,
    /// For a conflict copy: the dream it was copied from.
    pub conflict_of: Option<String>,
}

impl StoredDreamState {
    pub fn is_deleted(&self) -> bool {
        self.deleted.is_some()
    }

    /// The dream, unless deleted.
    pub fn live_dream(&self) -> Option<&Dream> {
        if self.is_deleted() {
            None
        } else {
            self.dream.as_ref()
        }
    }

    /// The event that tells devices about this state.
    pub fn event(&self) -> ServerEvent {
        match self.live_dream() {
            Some(dream) => ServerEvent::DreamUpdated {
                dream: Box::new(dream.clone()),
                revision: self.revision,
                conflict_of: self.conflict_of.clone(),
            },
            None => ServerEvent::DreamDeleted {
                dream_id: self.dream_id.clone(),
                revision: self.revision,
            },
        }
    }
}

/// The result of applying one operation: its outcome, the states to store (the dream,
/// and a conflict copy when one was made), and the events to record, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct ApplyOutcome {
    pub outcome: OperationOutcome,
    pub states: Vec<StoredDreamState>,
    pub events: Vec<ServerEvent>,
}

impl ApplyOutcome {
    fn unchanged(revision: Revision) -> Self {
        ApplyOutcome {
            outcome: OperationOutcome::Applied { revision },
            states: vec![],
            events: vec![],
        }
    }

    fn rejected(reason: RejectReason, message: String) -> Self {
        ApplyOutcome {
            outcome: OperationOutcome::Rejected { reason, message },
            states: vec![],
            events: vec![],
        }
    }

    fn applied(state: StoredDreamState) -> Self {
        ApplyOutcome {
            outcome: OperationOutcome::Applied {
                revision: state.revision,
            },
            events: vec![state.event()],
            states: vec![state],
        }
    }

    fn conflict(copy: StoredDreamState) -> Self {
        ApplyOutcome {
            outcome: OperationOutcome::Conflict {
                conflict_copy_id: copy.dream_id.clone(),
            },
            events: vec![copy.event()],
            states: vec![copy],
        }
    }
}

/// The id of the conflict copy made from `dream_id` for operation `op_id`: the same inputs
/// always give the same id, shaped like a conversation id (`dc-` + 32 hex digits).
pub fn conflict_copy_id(dream_id: &str, op_id: &OpId) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"dreamcatcher conflict copy\0");
    hasher.update(dream_id.as_bytes());
    hasher.update([0]);
    hasher.update(op_id.as_str().as_bytes());
    let digest = hasher.finalize();
    format!("dc-{}", hex(digest.get(..16).unwrap_or_default()))
}

/// Applies `operation` to the stored state of its dream (`None`: the service has no record
/// of that id). Pure: deciding whether the operation was already applied is the caller's
/// part (see [`process_operation`](crate::server::process_operation)).
///
/// The rules, with "unseen" meaning "a change by another device after the operation's base
/// revision" (see [`ChangeMark::unseen_by`]):
///
/// - **upsert** (capture): creates the dream when absent. On an existing dream only the
///   conversation is taken; identical content changes nothing; a capture that is stale
///   (the conversation changed unseen) *and* has fewer messages than the stored one is
///   ignored, so an old capture arriving late never rolls a conversation back. On a
///   tombstone: if the deletion is unseen, the capture is rejected (`dream_deleted`); the
///   dream stays deleted. Otherwise (the device saw or made the deletion and captured
///   again) the dream is restored from the capture.
/// - **set_tags / set_notes**: if that field changed unseen and the values differ, the
///   stored dream keeps the winning value and the edit goes to a conflict copy. On a
///   tombstone: an edit that did not see the deletion becomes a conflict copy of the last
///   content with the edit applied (the dream stays deleted); one that saw it is rejected.
///   An edit of an unknown dream is rejected.
/// - **delete**: leaves a tombstone. If the tags or notes changed unseen, the dream as it
///   is (with those edits) is first saved as a conflict copy, so the deletion never
///   silently discards an edit the deleting device had not seen. Deleting a tombstone
///   changes nothing; deleting an unknown id records a tombstone.
///
/// A conflict copy is a new dream: id [`conflict_copy_id`], the title marked with
/// [`CONFLICT_COPY_MARK`], `conflict_of` naming the original, revision 1.
pub fn apply_operation(operation: &Operation, current: Option<&StoredDreamState>) -> ApplyOutcome {
    if let Err(error) = operation.validate() {
        return ApplyOutcome::rejected(RejectReason::InvalidOperation, error.to_string());
    }
    if let Some(state) = current
        && operation.base_revision > state.revision
    {
        return ApplyOutcome::rejected(
            RejectReason::UnknownRevision,
            format!(
                "base revision {} is newer than the service's revision {} of dream {}",
                operation.base_revision, state.revision, state.dream_id
            ),
        );
    }
    match &operation.change {
        DreamChange::Upsert { dream } => upsert(operation, dream, current),
        DreamChange::SetTags { tags } => edit(operation, FieldEdit::Tags(tags), current),
        DreamChange::SetNotes { notes } => edit(operation, FieldEdit::Notes(notes), current),
        DreamChange::Delete => delete(operation, current),
    }
}

fn new_state(
    dream: Dream,
    revision: Revision,
    operation: &Operation,
    conflict_of: Option<String>,
) -> StoredDreamState {
    let mark = ChangeMark::at(revision, operation);
    StoredDreamState {
        dream_id: dream.id().to_string(),
        revision,
        tags_changed: (!dream.tags.is_empty()).then(|| mark.clone()),
        notes_changed: (!dream.notes.is_empty()).then(|| mark.clone()),
        conversation_changed: Some(mark),
        deleted: None,
        conflict_of,
        dream: Some(dream),
    }
}

fn conflict_copy(source: &Dream, original_id: &str, operation: &Operation) -> StoredDreamState {
    let mut copy = source.clone();
    copy.conversation.id = conflict_copy_id(original_id, &operation.op_id);
    let title = copy.conversation.title.trim();
    copy.conversation.title = if title.is_empty() {
        CONFLICT_COPY_MARK.to_string()
    } else {
        format!("{title} {CONFLICT_COPY_MARK}")
    };
    copy.updated_at = later(source.updated_at, operation.created_at);
    copy.opened = false;
    new_state(copy, 1, operation, Some(original_id.to_string()))
}

fn later(a: Timestamp, b: Timestamp) -> Timestamp {
    a.max(b)
}

fn upsert(
    operation: &Operation,
    incoming: &Dream,
    current: Option<&StoredDreamState>,
) -> ApplyOutcome {
    let Some(state) = current else {
        return ApplyOutcome::applied(new_state(incoming.clone(), 1, operation, None));
    };
    if let Some(deletion) = &state.deleted {
        if deletion.unseen_by(operation) {
            return ApplyOutcome::rejected(
                RejectReason::DreamDeleted,
                format!(
                    "dream {} was deleted by another device at revision {}, after this capture's \
                     base revision {}; capture it again to restore it",
                    state.dream_id, deletion.revision, operation.base_revision
                ),
            );
        }
        return ApplyOutcome::applied(new_state(
            incoming.clone(),
            state.revision + 1,
            operation,
            None,
        ));
    }
    let Some(stored) = &state.dream else {
        return ApplyOutcome::applied(new_state(
            incoming.clone(),
            state.revision + 1,
            operation,
            None,
        ));
    };
    if incoming.conversation == stored.conversation {
        return ApplyOutcome::unchanged(state.revision);
    }
    let older_capture = unseen(state.conversation_changed.as_ref(), operation)
        && incoming.conversation.messages.len() < stored.conversation.messages.len();
    if older_capture {
        return ApplyOutcome::unchanged(state.revision);
    }
    let revision = state.revision + 1;
    let mut next = state.clone();
    next.revision = revision;
    next.dream = Some(stored.recaptured(
        incoming.conversation.clone(),
        later(stored.updated_at, operation.created_at),
    ));
    next.conversation_changed = Some(ChangeMark::at(revision, operation));
    ApplyOutcome::applied(next)
}

/// An edit of one of the user's fields.
#[derive(Clone, Copy)]
enum FieldEdit<'a> {
    Tags(&'a [String]),
    Notes(&'a str),
}

impl FieldEdit<'_> {
    fn is_already(self, dream: &Dream) -> bool {
        match self {
            FieldEdit::Tags(tags) => dream.tags == tags,
            FieldEdit::Notes(notes) => dream.notes == notes,
        }
    }

    fn apply_to(self, dream: &mut Dream) {
        match self {
            FieldEdit::Tags(tags) => dream.tags = tags.to_vec(),
            FieldEdit::Notes(notes) => dream.notes = notes.to_string(),
        }
    }

    fn current_mark(self, state: &StoredDreamState) -> Option<&ChangeMark> {
        match self {
            FieldEdit::Tags(_) => state.tags_changed.as_ref(),
            FieldEdit::Notes(_) => state.notes_changed.as_ref(),
        }
    }

    fn mark(self, state: &mut StoredDreamState) -> &mut Option<ChangeMark> {
        match self {
            FieldEdit::Tags(_) => &mut state.tags_changed,
            FieldEdit::Notes(_) => &mut state.notes_changed,
        }
    }

    fn name(self) -> &'static str {
        match self {
            FieldEdit::Tags(_) => "tags",
            FieldEdit::Notes(_) => "notes",
        }
    }
}

fn edited_copy(source: &Dream, edit: FieldEdit<'_>, operation: &Operation) -> StoredDreamState {
    let mut edited = source.clone();
    edit.apply_to(&mut edited);
    let mut copy = conflict_copy(&edited, &operation.dream_id, operation);
    // The copy exists because of this field: mark it even when the edit emptied it.
    *edit.mark(&mut copy) = Some(ChangeMark::at(copy.revision, operation));
    copy
}

fn edit(
    operation: &Operation,
    edit: FieldEdit<'_>,
    current: Option<&StoredDreamState>,
) -> ApplyOutcome {
    let unknown = || {
        ApplyOutcome::rejected(
            RejectReason::UnknownDream,
            format!(
                "cannot edit the {} of dream {}: the service has no such dream",
                edit.name(),
                operation.dream_id
            ),
        )
    };
    let Some(state) = current else {
        return unknown();
    };
    if let Some(deletion) = &state.deleted {
        return match &state.dream {
            Some(last) if deletion.unseen_by(operation) => {
                ApplyOutcome::conflict(edited_copy(last, edit, operation))
            }
            _ => ApplyOutcome::rejected(
                RejectReason::DreamDeleted,
                format!(
                    "cannot edit the {} of dream {}: it was deleted at revision {}",
                    edit.name(),
                    state.dream_id,
                    deletion.revision
                ),
            ),
        };
    }
    let Some(stored) = &state.dream else {
        return unknown();
    };
    if edit.is_already(stored) {
        return ApplyOutcome::unchanged(state.revision);
    }
    if unseen(edit.current_mark(state), operation) {
        return ApplyOutcome::conflict(edited_copy(stored, edit, operation));
    }
    let revision = state.revision + 1;
    let mut next = state.clone();
    let mut dream = stored.clone();
    edit.apply_to(&mut dream);
    dream.updated_at = later(stored.updated_at, operation.created_at);
    next.revision = revision;
    next.dream = Some(dream);
    *edit.mark(&mut next) = Some(ChangeMark::at(revision, operation));
    ApplyOutcome::applied(next)
}

fn delete(operation: &Operation, current: Option<&StoredDreamState>) -> ApplyOutcome {
    let Some(state) = current else {
        let tombstone = StoredDreamState {
            dream_id: operation.dream_id.clone(),
            revision: 1,
            dream: None,
            deleted: Some(ChangeMark::at(1, operation)),
            conversation_changed: None,
            tags_changed: None,
            notes_changed: None,
            conflict_of: None,
        };
        return ApplyOutcome::applied(tombstone);
    };
    if state.is_deleted() {
        return ApplyOutcome::unchanged(state.revision);
    }
    let mut states = Vec::new();
    let mut events = Vec::new();
    let unseen_edits = unseen(state.tags_changed.as_ref(), operation)
        || unseen(state.notes_changed.as_ref(), operation);
    if let Some(stored) = &state.dream
        && unseen_edits
    {
        let copy = conflict_copy(stored, &state.dream_id, operation);
        events.push(copy.event());
        states.push(copy);
    }
    let revision = state.revision + 1;
    let mut tombstone = state.clone();
    tombstone.revision = revision;
    tombstone.deleted = Some(ChangeMark::at(revision, operation));
    events.push(tombstone.event());
    states.push(tombstone);
    ApplyOutcome {
        outcome: OperationOutcome::Applied { revision },
        states,
        events,
    }
}
