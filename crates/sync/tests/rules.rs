//! The service's conflict and tombstone rules, one scenario at a time.

mod common;

use common::{delete, dream, run, set_notes, set_tags, upsert};
use dreamcatcher_sync::server::{
    CONFLICT_COPY_MARK, MemoryServerStore, StoredDreamState, UserId, apply_operation,
    conflict_copy_id, process_operation,
};
use dreamcatcher_sync::*;

struct Service {
    store: MemoryServerStore,
    user: UserId,
}

impl Service {
    fn new() -> Self {
        Service {
            store: MemoryServerStore::new(),
            user: UserId("user-1".into()),
        }
    }

    fn apply(&self, operation: &Operation) -> OperationOutcome {
        run(process_operation(&self.store, &self.user, operation))
            .unwrap()
            .result
            .outcome
    }

    fn state(&self, dream_id: &str) -> StoredDreamState {
        self.store
            .user_data(&self.user)
            .dreams
            .get(dream_id)
            .cloned()
            .expect("no such dream")
    }

    fn events(&self) -> Vec<SequencedEvent> {
        self.store.user_data(&self.user).events
    }
}

fn applied(revision: Revision) -> OperationOutcome {
    OperationOutcome::Applied { revision }
}

fn rejected_reason(outcome: &OperationOutcome) -> Option<RejectReason> {
    match outcome {
        OperationOutcome::Rejected { reason, .. } => Some(*reason),
        _ => None,
    }
}

fn copy_id(outcome: &OperationOutcome) -> String {
    match outcome {
        OperationOutcome::Conflict { conflict_copy_id } => conflict_copy_id.clone(),
        other => panic!("expected a conflict, got {other:?}"),
    }
}

/// A service holding one dream at revision 1, captured by device "a".
fn with_dream() -> (Service, String) {
    let service = Service::new();
    let captured = dream("site-1", "Borrow checker", 2);
    assert_eq!(service.apply(&upsert("c", "a", 0, &captured)), applied(1));
    (service, captured.id().to_string())
}

#[test]
fn a_capture_creates_the_dream_and_one_event() {
    let (service, id) = with_dream();
    let state = service.state(&id);
    assert_eq!(state.revision, 1);
    assert!(!state.is_deleted());
    let events = service.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].cursor, 1);
    assert!(matches!(
        &events[0].event,
        ServerEvent::DreamUpdated {
            revision: 1,
            conflict_of: None,
            ..
        }
    ));
}

#[test]
fn a_resent_operation_is_a_duplicate_and_changes_nothing() {
    let (service, id) = with_dream();
    let edit = set_tags("t", "a", &id, 1, &["rust"]);
    assert_eq!(service.apply(&edit), applied(2));
    let before = service.store.user_data(&service.user);
    assert_eq!(service.apply(&edit), OperationOutcome::Duplicate);
    assert_eq!(service.apply(&edit), OperationOutcome::Duplicate);
    let after = service.store.user_data(&service.user);
    assert_eq!(after.dreams, before.dreams);
    assert_eq!(after.events, before.events);
    assert_eq!(
        after
            .processed
            .iter()
            .filter(|p| p.operation.op_id == edit.op_id)
            .count(),
        1
    );
}

#[test]
fn recaptures_replace_the_conversation_unless_identical_or_older() {
    let (service, id) = with_dream();
    // Identical content: nothing changes, no event.
    assert_eq!(
        service.apply(&upsert(
            "same",
            "b",
            0,
            &dream("site-1", "Borrow checker", 2)
        )),
        applied(1)
    );
    assert_eq!(service.events().len(), 1);
    // A longer capture replaces it, keeping the user's fields.
    assert_eq!(
        service.apply(&set_notes("n", "a", &id, 1, "keep me")),
        applied(2)
    );
    assert_eq!(
        service.apply(&upsert(
            "longer",
            "b",
            2,
            &dream("site-1", "Borrow checker", 4)
        )),
        applied(3)
    );
    let state = service.state(&id);
    assert_eq!(state.dream.as_ref().unwrap().conversation.messages.len(), 4);
    assert_eq!(state.dream.as_ref().unwrap().notes, "keep me");
    // A stale capture from another device with fewer messages does not roll it back...
    assert_eq!(
        service.apply(&upsert(
            "stale",
            "c",
            1,
            &dream("site-1", "Borrow checker", 3)
        )),
        applied(3)
    );
    // ...but one made after seeing the latest does (the user edited the chat on the site).
    assert_eq!(
        service.apply(&upsert(
            "fresh",
            "c",
            3,
            &dream("site-1", "Borrow checker", 3)
        )),
        applied(4)
    );
    // And the device that made the last capture is never stale against itself.
    assert_eq!(
        service.apply(&upsert(
            "own",
            "c",
            1,
            &dream("site-1", "Borrow checker", 1)
        )),
        applied(5)
    );
}

#[test]
fn concurrent_edits_of_one_field_keep_the_loser_as_a_conflict_copy() {
    let (service, id) = with_dream();
    assert_eq!(
        service.apply(&set_tags("a1", "a", &id, 1, &["rust"])),
        applied(2)
    );
    let losing = set_tags("b1", "b", &id, 1, &["python"]);
    let outcome = service.apply(&losing);
    let copy_id = copy_id(&outcome);
    assert_eq!(copy_id, conflict_copy_id(&id, &losing.op_id));

    let original = service.state(&id);
    assert_eq!(original.revision, 2);
    assert_eq!(original.dream.as_ref().unwrap().tags, ["rust"]);

    let copy = service.state(&copy_id);
    assert_eq!(copy.revision, 1);
    assert_eq!(copy.conflict_of.as_deref(), Some(id.as_str()));
    let copy_dream = copy.dream.as_ref().unwrap();
    assert_eq!(copy_dream.id(), copy_id);
    assert_eq!(copy_dream.tags, ["python"]);
    assert_eq!(
        copy_dream.conversation.title,
        format!("Borrow checker {CONFLICT_COPY_MARK}")
    );
    assert_eq!(copy_dream.conversation.messages.len(), 2);

    let last = service.events().pop().unwrap();
    assert!(matches!(
        last.event,
        ServerEvent::DreamUpdated { revision: 1, conflict_of: Some(ref of), .. } if *of == id
    ));
}

#[test]
fn a_device_never_conflicts_with_its_own_earlier_edits() {
    let (service, id) = with_dream();
    // Two edits made offline, both based on revision 1.
    assert_eq!(
        service.apply(&set_tags("a1", "a", &id, 1, &["one"])),
        applied(2)
    );
    assert_eq!(
        service.apply(&set_tags("a2", "a", &id, 1, &["one", "two"])),
        applied(3)
    );
    assert_eq!(service.state(&id).dream.unwrap().tags, ["one", "two"]);
}

#[test]
fn edits_that_saw_the_previous_change_or_touch_other_fields_apply() {
    let (service, id) = with_dream();
    assert_eq!(
        service.apply(&set_tags("a1", "a", &id, 1, &["rust"])),
        applied(2)
    );
    // Device b saw revision 2.
    assert_eq!(
        service.apply(&set_tags("b1", "b", &id, 2, &["rust", "async"])),
        applied(3)
    );
    // Device c is stale, but edits the notes, which nobody changed.
    assert_eq!(
        service.apply(&set_notes("c1", "c", &id, 1, "read later")),
        applied(4)
    );
    // Device d is stale on the tags but wants what they already are: nothing to keep.
    assert_eq!(
        service.apply(&set_tags("d1", "d", &id, 1, &["rust", "async"])),
        applied(4)
    );
    let dream = service.state(&id).dream.unwrap();
    assert_eq!(dream.tags, ["rust", "async"]);
    assert_eq!(dream.notes, "read later");
}

#[test]
fn an_edit_that_missed_a_deletion_becomes_a_copy_and_the_dream_stays_deleted() {
    let (service, id) = with_dream();
    assert_eq!(service.apply(&delete("del", "a", &id, 1)), applied(2));
    let edit = set_notes("late", "b", &id, 1, "important");
    let copy_id = copy_id(&service.apply(&edit));
    let tombstone = service.state(&id);
    assert!(tombstone.is_deleted());
    assert_eq!(tombstone.revision, 2, "the tombstone is untouched");
    let copy = service.state(&copy_id);
    assert!(!copy.is_deleted());
    assert_eq!(copy.dream.as_ref().unwrap().notes, "important");
    assert_eq!(copy.dream.as_ref().unwrap().conversation.messages.len(), 2);
}

#[test]
fn an_edit_after_seeing_the_deletion_is_rejected() {
    let (service, id) = with_dream();
    assert_eq!(service.apply(&delete("del", "a", &id, 1)), applied(2));
    let outcome = service.apply(&set_tags("after", "b", &id, 2, &["x"]));
    assert_eq!(rejected_reason(&outcome), Some(RejectReason::DreamDeleted));
    // The deleting device's own later edit too: it made the deletion.
    let outcome = service.apply(&set_tags("own", "a", &id, 1, &["x"]));
    assert_eq!(rejected_reason(&outcome), Some(RejectReason::DreamDeleted));
    assert!(service.state(&id).is_deleted());
}

#[test]
fn captures_restore_a_deleted_dream_only_after_seeing_the_deletion() {
    let (service, id) = with_dream();
    assert_eq!(service.apply(&delete("del", "a", &id, 1)), applied(2));
    // Another device that never saw the deletion captures it again: stays deleted.
    let stale = service.apply(&upsert(
        "stale",
        "b",
        1,
        &dream("site-1", "Borrow checker", 3),
    ));
    assert_eq!(rejected_reason(&stale), Some(RejectReason::DreamDeleted));
    assert!(service.state(&id).is_deleted());
    // Captured again after seeing the deletion: restored, as a fresh capture.
    assert_eq!(
        service.apply(&upsert(
            "again",
            "b",
            2,
            &dream("site-1", "Borrow checker", 3)
        )),
        applied(3)
    );
    let restored = service.state(&id);
    assert!(!restored.is_deleted());
    assert!(restored.dream.as_ref().unwrap().tags.is_empty());
    // The deleting device may restore with a stale base: it made the deletion itself.
    assert_eq!(service.apply(&delete("del2", "b", &id, 3)), applied(4));
    assert_eq!(
        service.apply(&upsert(
            "mine",
            "b",
            1,
            &dream("site-1", "Borrow checker", 1)
        )),
        applied(5)
    );
}

#[test]
fn a_deletion_that_missed_an_edit_saves_the_edited_dream_as_a_copy() {
    let (service, id) = with_dream();
    assert_eq!(
        service.apply(&set_tags("edit", "a", &id, 1, &["keep"])),
        applied(2)
    );
    let deletion = delete("del", "b", &id, 1);
    assert_eq!(service.apply(&deletion), applied(3));
    assert!(service.state(&id).is_deleted());
    let copy = service.state(&conflict_copy_id(&id, &deletion.op_id));
    assert_eq!(copy.dream.as_ref().unwrap().tags, ["keep"]);
    assert_eq!(copy.conflict_of.as_deref(), Some(id.as_str()));
    // The copy is announced before the deletion, so a device never holds neither.
    let events = service.events();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| match &e.event {
            ServerEvent::DreamUpdated { .. } => "updated",
            ServerEvent::DreamDeleted { .. } => "deleted",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["updated", "updated", "updated", "deleted"]);
    // A deletion that saw the edit saves nothing.
    let (service, id) = with_dream();
    assert_eq!(
        service.apply(&set_tags("edit", "a", &id, 1, &["keep"])),
        applied(2)
    );
    assert_eq!(service.apply(&delete("del", "b", &id, 2)), applied(3));
    assert_eq!(service.store.user_data(&service.user).dreams.len(), 1);
}

#[test]
fn deleting_twice_or_an_unknown_dream_is_applied() {
    let (service, id) = with_dream();
    assert_eq!(service.apply(&delete("d1", "a", &id, 1)), applied(2));
    assert_eq!(service.apply(&delete("d2", "b", &id, 0)), applied(2));
    assert_eq!(
        service.apply(&delete("d3", "b", "dc-never-seen", 0)),
        applied(1)
    );
    assert!(service.state("dc-never-seen").is_deleted());
    // A capture of that id by a device that never saw the deletion stays deleted.
    let mut late = dream("never", "Never", 1);
    late.conversation.id = "dc-never-seen".into();
    let outcome = service.apply(&upsert("late", "c", 0, &late));
    assert_eq!(rejected_reason(&outcome), Some(RejectReason::DreamDeleted));
}

#[test]
fn unknown_dreams_future_revisions_and_invalid_operations_are_rejected() {
    let (service, id) = with_dream();
    let outcome = service.apply(&set_tags("u", "a", "dc-unknown", 0, &["x"]));
    assert_eq!(rejected_reason(&outcome), Some(RejectReason::UnknownDream));
    let outcome = service.apply(&set_tags("f", "a", &id, 9, &["x"]));
    assert_eq!(
        rejected_reason(&outcome),
        Some(RejectReason::UnknownRevision)
    );
    let too_many: Vec<String> = (0..=MAX_TAGS_PER_DREAM).map(|n| n.to_string()).collect();
    let refs: Vec<&str> = too_many.iter().map(String::as_str).collect();
    let outcome = service.apply(&set_tags("big", "a", &id, 1, &refs));
    assert_eq!(
        rejected_reason(&outcome),
        Some(RejectReason::InvalidOperation)
    );
    // None of these changed anything or produced events.
    assert_eq!(service.state(&id).revision, 1);
    assert_eq!(service.events().len(), 1);
}

#[test]
fn apply_operation_alone_is_pure() {
    let (service, id) = with_dream();
    let state = service.state(&id);
    let edit = set_tags("p", "b", &id, 1, &["x"]);
    let first = apply_operation(&edit, Some(&state));
    let second = apply_operation(&edit, Some(&state));
    assert_eq!(first, second);
    assert_eq!(first.states.len(), 1);
    assert_eq!(first.states[0].revision, 2);
    assert_eq!(service.state(&id), state, "the store is untouched");
}

#[test]
fn conflict_copy_ids_are_deterministic_and_distinct() {
    let a = conflict_copy_id("dc-1", &OpId("op-1".into()));
    assert_eq!(a, conflict_copy_id("dc-1", &OpId("op-1".into())));
    assert_ne!(a, conflict_copy_id("dc-1", &OpId("op-2".into())));
    assert_ne!(a, conflict_copy_id("dc-2", &OpId("op-1".into())));
    assert!(a.starts_with("dc-") && a.len() == 35, "{a}");
}
