//! Connected mode inside the library. Every local change made while paired is recorded as a
//! sync [`Operation`] in the same transaction as the change itself, so the change and the
//! duty to send it are durable together; the service's events change the library through
//! the same bookkeeping as local changes (fragments, index, summaries). The outbox lives in
//! the [`DreamStore`] beside the dreams ([`Library::sync_resume_state`] loads a client).
//!
//! The network is not here: the service worker exchanges the pairing code, opens the
//! WebSocket and carries out [`ClientCommand`]s; [`Library::run_sync_commands`] does the
//! storage part of them.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use dreamcatcher_model::{Dream, Timestamp};
use dreamcatcher_sync::{
    ClientCommand, Cursor, DeviceId, DreamChange, OpId, Operation, OperationOutcome,
    OperationResult, Revision, SequencedEvent, ServerEvent, SyncStatus,
};

use super::{FragmentChanges, Library, not_found};
use crate::api::{
    ApiError, ErrorCode, FailureReport, Implementation, ImplementationState, Mode, SyncOverview,
};
use crate::store::{
    DreamStore, OutboxEntry, StoreError, StoredDream, Tombstone, TrashEntry, WriteBatch,
};
use crate::summary::summarize;

const SYNC_LINK_KEY: &str = "sync_link";
const DEVICE_ID_KEY: &str = "device_id";
const CURSOR_KEY: &str = "sync_cursor";
const OUTBOX_NEXT_KEY: &str = "outbox_next";
const LAST_SYNCED_KEY: &str = "last_synced_at";
/// Notices kept for the settings page; older ones are dropped.
const NOTICES_KEPT: usize = 20;

/// The pairing with a PipelineOS service, stored while connected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncLink {
    pub server_url: String,
    pub device_token: String,
    pub device_name: String,
    pub paired_at: Timestamp,
}

/// The op id of the operation at `position` of this device's outbox: positions are never
/// reused and device ids are random, so ids are unique without a random source here.
pub fn op_id_for(device: &DeviceId, position: u64) -> OpId {
    let digest = Sha256::new()
        .chain_update(device.as_str().as_bytes())
        .chain_update(position.to_be_bytes())
        .finalize();
    let hex: String = digest
        .iter()
        .take(16)
        .map(|byte| format!("{byte:02x}"))
        .collect();
    OpId(format!("op-{hex}"))
}

/// What [`Library::open`] reads of connected mode.
pub(super) struct SyncMeta {
    pub link: Option<SyncLink>,
    pub device_id: Option<DeviceId>,
    pub outbox_next: u64,
}

fn corrupt(key: &str, error: serde_json::Error) -> StoreError {
    StoreError::Corrupt {
        store: "meta".into(),
        key: key.into(),
        detail: error.to_string(),
    }
}

async fn meta_json<T: serde::de::DeserializeOwned>(
    store: &impl DreamStore,
    key: &str,
) -> Result<Option<T>, StoreError> {
    match store.get_meta(key).await? {
        Some(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| corrupt(key, e)),
        None => Ok(None),
    }
}

fn meta_entry<T: Serialize>(key: &str, value: &T) -> (String, String) {
    // Serialising these plain structs cannot fail; an empty value would read back as corrupt.
    (
        key.to_string(),
        serde_json::to_string(value).unwrap_or_default(),
    )
}

impl SyncMeta {
    pub(super) async fn load(store: &impl DreamStore) -> Result<SyncMeta, StoreError> {
        // Written in the same transaction as every operation, so it is never behind.
        let outbox_next = meta_json::<u64>(store, OUTBOX_NEXT_KEY).await?.unwrap_or(0);
        Ok(SyncMeta {
            link: meta_json::<Option<SyncLink>>(store, SYNC_LINK_KEY)
                .await?
                .flatten(),
            device_id: meta_json(store, DEVICE_ID_KEY).await?,
            outbox_next,
        })
    }
}

/// The stored link after unpairing.
pub(super) fn unlink_entry() -> (String, String) {
    (SYNC_LINK_KEY.to_string(), "null".to_string())
}

fn sync_error(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::Sync, message)
}

impl<S: DreamStore> Library<S> {
    pub fn sync_link(&self) -> Option<&SyncLink> {
        self.link.as_ref()
    }

    pub fn device_id(&self) -> Option<&DeviceId> {
        self.device_id.as_ref()
    }

    /// Adds an operation for this change to `batch` when paired. An operation the protocol
    /// cannot carry (a conversation over the size limit) is left out with a notice: the
    /// change itself is still saved on this device.
    pub(super) fn stage_operation(
        &mut self,
        batch: &mut WriteBatch,
        dream_id: &str,
        base_revision: Revision,
        change: DreamChange,
        now: Timestamp,
    ) {
        let (Some(_), Some(device)) = (&self.link, &self.device_id) else {
            return;
        };
        let position = self.outbox_next;
        let operation = Operation::new(
            op_id_for(device, position),
            device.clone(),
            dream_id,
            base_revision,
            change,
            now,
        );
        if let Err(error) = operation.validate_for_outbox() {
            self.notice(format!("Not synced: {dream_id}: {error}"));
            return;
        }
        self.outbox_next = position + 1;
        batch
            .put_meta
            .retain(|(key, _)| key.as_str() != OUTBOX_NEXT_KEY);
        batch
            .put_meta
            .push(meta_entry(OUTBOX_NEXT_KEY, &self.outbox_next));
        batch.put_outbox.push(OutboxEntry {
            position,
            operation,
        });
    }

    fn notice(&mut self, text: String) {
        self.notices.push(text);
        let excess = self.notices.len().saturating_sub(NOTICES_KEPT);
        self.notices.drain(..excess);
    }

    /// Operations committed since the last call: the driver hands each to the sync client
    /// (`ClientInput::OperationRecorded`), which may send them at once.
    pub fn take_recorded_operations(&mut self) -> Vec<Operation> {
        std::mem::take(&mut self.recorded)
    }

    /// What a new sync client resumes from: the outbox, oldest first, and the event cursor.
    pub async fn sync_resume_state(&self) -> Result<(Vec<Operation>, Cursor), ApiError> {
        let operations = self
            .store
            .outbox()
            .await?
            .into_iter()
            .map(|e| e.operation)
            .collect();
        let cursor = meta_json::<Cursor>(&self.store, CURSOR_KEY)
            .await?
            .unwrap_or(0);
        Ok((operations, cursor))
    }

    /// Pairs with a service: stores the link, switches to connected mode and queues every
    /// dream for upload (with its tags and notes, which an upload of a dream the service
    /// already has would not carry), all in one transaction. `new_device_id` is used only
    /// if this installation has none yet.
    pub async fn pair(
        &mut self,
        link: SyncLink,
        new_device_id: DeviceId,
        now: Timestamp,
    ) -> Result<(), ApiError> {
        let device_id = self.device_id.clone().unwrap_or(new_device_id);
        let previous_link = self.link.replace(link.clone());
        let previous_device = self.device_id.replace(device_id.clone());
        let mut settings = self.settings.clone();
        settings.mode = Mode::Connected;
        settings.server_url = Some(link.server_url.clone());
        let mut batch = WriteBatch {
            put_meta: vec![
                meta_entry(SYNC_LINK_KEY, &link),
                meta_entry(DEVICE_ID_KEY, &device_id),
                meta_entry(super::SETTINGS_KEY, &settings),
            ],
            ..WriteBatch::default()
        };
        let stored = match self.store.dreams_changed_after(0).await {
            Ok(stored) => stored,
            Err(error) => {
                self.link = previous_link;
                self.device_id = previous_device;
                return Err(error.into());
            }
        };
        let mut ordered = stored;
        ordered.sort_by_key(|stored| stored.seq);
        for record in &ordered {
            let id = record.dream.id().to_string();
            let change = DreamChange::Upsert {
                dream: Box::new(record.dream.clone()),
            };
            self.stage_operation(&mut batch, &id, record.revision, change, now);
            if !record.dream.tags.is_empty() {
                let tags = record.dream.tags.clone();
                self.stage_operation(
                    &mut batch,
                    &id,
                    record.revision,
                    DreamChange::SetTags { tags },
                    now,
                );
            }
            if !record.dream.notes.is_empty() {
                let notes = record.dream.notes.clone();
                self.stage_operation(
                    &mut batch,
                    &id,
                    record.revision,
                    DreamChange::SetNotes { notes },
                    now,
                );
            }
        }
        let seq = self.next_seq();
        if let Err(error) = self.commit(batch, seq).await {
            self.link = previous_link;
            self.device_id = previous_device;
            return Err(error);
        }
        self.settings = settings;
        Ok(())
    }

    /// Back to standalone mode. The library and the outbox stay: pairing again sends what
    /// is still waiting.
    pub async fn unpair(&mut self) -> Result<(), ApiError> {
        let mut settings = self.settings.clone();
        settings.mode = Mode::Standalone;
        let batch = WriteBatch {
            put_meta: vec![unlink_entry(), meta_entry(super::SETTINGS_KEY, &settings)],
            ..WriteBatch::default()
        };
        self.store.commit(batch).await?;
        self.link = None;
        self.settings = settings;
        Ok(())
    }

    /// Carries out the storage part of the sync client's commands, in order, and returns the
    /// rest (open/send/close, timer, status, warnings) for the driver.
    pub async fn run_sync_commands(
        &mut self,
        commands: Vec<ClientCommand>,
        now: Timestamp,
    ) -> Result<Vec<ClientCommand>, ApiError> {
        let mut for_driver = Vec::new();
        for command in commands {
            match command {
                ClientCommand::Acknowledged(results) => self.acknowledge(&results).await?,
                ClientCommand::ApplyEvents {
                    events,
                    then_save_cursor,
                } => self.apply_events(&events, then_save_cursor, now).await?,
                ClientCommand::SaveCursor(cursor) => self.save_cursor(cursor).await?,
                ClientCommand::StatusChanged(status) => {
                    if let Some(at) = status.last_synced_at {
                        self.store
                            .commit(WriteBatch {
                                put_meta: vec![meta_entry(LAST_SYNCED_KEY, &at)],
                                ..WriteBatch::default()
                            })
                            .await?;
                    }
                    for_driver.push(ClientCommand::StatusChanged(status));
                }
                other => for_driver.push(other),
            }
        }
        Ok(for_driver)
    }

    async fn save_cursor(&mut self, cursor: Cursor) -> Result<(), ApiError> {
        self.store
            .commit(WriteBatch {
                put_meta: vec![meta_entry(CURSOR_KEY, &cursor)],
                ..WriteBatch::default()
            })
            .await?;
        Ok(())
    }

    /// The service has these operations: they leave the outbox. Conflicts and refusals are
    /// kept as notices (the conflict copy itself arrives as an event).
    pub async fn acknowledge(&mut self, results: &[OperationResult]) -> Result<(), ApiError> {
        if results.is_empty() {
            return Ok(());
        }
        for result in results {
            match &result.outcome {
                OperationOutcome::Conflict { conflict_copy_id } => self.notice(format!(
                    "A change made elsewhere at the same time won; yours is kept as {conflict_copy_id}."
                )),
                OperationOutcome::Rejected { reason, message } => {
                    self.notice(format!("PipelineOS refused a change ({reason:?}): {message}"))
                }
                OperationOutcome::Applied { .. } | OperationOutcome::Duplicate => {}
            }
        }
        self.store
            .commit(WriteBatch {
                delete_outbox: results.iter().map(|r| r.op_id.0.clone()).collect(),
                ..WriteBatch::default()
            })
            .await?;
        Ok(())
    }

    /// Applies the service's events and stores the cursor, all in one transaction (a stop
    /// before it completes replays the events; after it, they are skipped by cursor).
    pub async fn apply_events(
        &mut self,
        events: &[SequencedEvent],
        then_save_cursor: Cursor,
        now: Timestamp,
    ) -> Result<(), ApiError> {
        let ids: Vec<String> = events
            .iter()
            .map(|e| e.event.dream_id().to_string())
            .collect();
        let pending = self.store.outbox_for_dreams(&ids).await?;
        let mut state: HashMap<String, Option<StoredDream>> =
            ids.iter().map(|id| (id.clone(), None)).collect();
        for stored in self.store.get_dreams(&ids).await? {
            state.insert(stored.dream.id().to_string(), Some(stored));
        }
        let mut changed: BTreeSet<String> = BTreeSet::new();
        let mut fragments = FragmentChanges::default();
        let mut batch = WriteBatch::default();
        let mut seq = self.last_seq;
        for sequenced in events {
            let id = sequenced.event.dream_id().to_string();
            let current = state.get(&id).cloned().flatten();
            let next = match &sequenced.event {
                ServerEvent::DreamUpdated {
                    dream,
                    revision,
                    conflict_of,
                } => {
                    if let Some(original) = conflict_of {
                        self.notice(format!(
                            "Conflicting edits of {original}: both are kept; the copy is “{}”.",
                            dream.conversation.title
                        ));
                    }
                    remote_dream(current.as_ref(), dream, *revision, &pending)
                }
                ServerEvent::DreamDeleted { revision, .. } => {
                    match current
                        .as_ref()
                        .filter(|c| deletion_applies(c, *revision, &pending))
                    {
                        Some(stored) => {
                            batch.put_trash.push(TrashEntry {
                                undo_token: format!("{id}@{}", seq + 1),
                                dream: stored.dream.clone(),
                                deleted_at: now,
                                revision: *revision,
                            });
                            batch.put_tombstones.push(Tombstone {
                                dream_id: id.clone(),
                                seq: seq + 1,
                            });
                            Some(None)
                        }
                        None => None,
                    }
                }
                ServerEvent::ProjectCreated { project, .. } => current.map(|mut stored| {
                    advance_implementation(
                        &mut stored,
                        ImplementationState::InProgress,
                        now,
                        |i| i.project = Some(project.clone()),
                    );
                    Some(stored)
                }),
                ServerEvent::ImplementationCompleted { result, .. } => current.map(|mut stored| {
                    let failed = result
                        .get("status")
                        .and_then(|s| s.as_str())
                        .is_some_and(|s| matches!(s, "failed" | "error" | "cancelled"));
                    let state = if failed {
                        ImplementationState::Failed
                    } else {
                        ImplementationState::Completed
                    };
                    advance_implementation(&mut stored, state, now, |i| {
                        i.result = Some(result.clone())
                    });
                    Some(stored)
                }),
            };
            // `None`: nothing changes; `Some(None)`: the dream goes; `Some(Some(_))`: stored.
            let Some(mut next) = next else { continue };
            let before = state.get(&id).cloned().flatten();
            let old_conversation = before.as_ref().map(|b| &b.dream.conversation);
            let new_conversation = next.as_ref().map(|n| &n.dream.conversation);
            if old_conversation != new_conversation {
                self.change_fragments(&mut fragments, &id, old_conversation, new_conversation, now)
                    .await?;
            }
            seq += 1;
            if let Some(stored) = &mut next {
                stored.seq = seq;
                stored.summary = summarize(&stored.dream);
            }
            state.insert(id.clone(), next);
            changed.insert(id);
        }
        for id in changed {
            match state.remove(&id).flatten() {
                Some(stored) => batch.put_dreams.push(stored),
                None => batch.delete_dreams.push(id),
            }
        }
        fragments.into_batch(&mut batch);
        batch
            .put_meta
            .push(meta_entry(CURSOR_KEY, &then_save_cursor));
        self.commit(batch, seq.max(self.last_seq)).await?;
        self.save_index_if_due().await
    }

    /// Records what PipelineOS is doing with a dream ("Send to PipelineOS").
    pub async fn set_implementation(
        &mut self,
        dream_id: &str,
        state: ImplementationState,
        now: Timestamp,
        fill: impl FnOnce(&mut Implementation),
    ) -> Result<(), ApiError> {
        let Some(mut stored) = self.store.get_dream(dream_id).await? else {
            return Err(not_found(dream_id));
        };
        advance_implementation(&mut stored, state, now, fill);
        let seq = self.next_seq();
        stored.seq = seq;
        self.commit(
            WriteBatch {
                put_dreams: vec![stored],
                ..WriteBatch::default()
            },
            seq,
        )
        .await
    }

    /// The dream as stored, with its sync revision and implementation state.
    pub async fn get_stored(&self, id: &str) -> Result<StoredDream, ApiError> {
        self.store.get_dream(id).await?.ok_or_else(|| not_found(id))
    }

    /// Where sync stands; `live` is the running client's status (the worker has one while
    /// paired), else what is stored.
    pub async fn sync_overview(&self, live: Option<&SyncStatus>) -> Result<SyncOverview, ApiError> {
        let pending = self.store.count_outbox().await?;
        let stored_last_sync = meta_json::<Timestamp>(&self.store, LAST_SYNCED_KEY).await?;
        let (state, failure) = match (live, &self.link) {
            (_, None) => ("offline".to_string(), None),
            (Some(status), Some(_)) => state_name(status),
            (None, Some(_)) => ("connecting".to_string(), None),
        };
        Ok(SyncOverview {
            mode: self.settings.mode,
            server_url: self
                .link
                .as_ref()
                .map(|l| l.server_url.clone())
                .or_else(|| self.settings.server_url.clone()),
            device_name: self.link.as_ref().map(|l| l.device_name.clone()),
            state,
            pending_operations: u32::try_from(pending).unwrap_or(u32::MAX),
            last_synced_at: live.and_then(|s| s.last_synced_at).or(stored_last_sync),
            next_retry_at: live.and_then(|s| s.next_retry_at),
            failure,
            notices: self.notices.clone(),
        })
    }

    /// Fails unless paired; gives the link.
    pub fn require_link(&self) -> Result<&SyncLink, ApiError> {
        self.link.as_ref().ok_or_else(|| {
            sync_error("Not paired with PipelineOS: pair this browser in the settings first.")
        })
    }
}

/// The service's state of a dream as this device stores it: `None` when the event changes
/// nothing (not newer than what is here, or deleted here with the deletion still unsent).
/// An unsent recapture is laid over (the service never takes fewer messages, so it comes
/// back as is); unsent tag and note edits are not: the service may keep another device's
/// edit and make ours a conflict copy, and no later event would correct the original.
fn remote_dream(
    current: Option<&StoredDream>,
    remote: &Dream,
    revision: Revision,
    pending: &[OutboxEntry],
) -> Option<Option<StoredDream>> {
    if current.is_some_and(|c| c.revision >= revision) {
        return None;
    }
    let id = remote.id();
    let mut dream = remote.clone();
    for entry in pending.iter().filter(|e| e.operation.dream_id == id) {
        match &entry.operation.change {
            DreamChange::Upsert { dream: mine } => {
                if mine.conversation.messages.len() >= dream.conversation.messages.len() {
                    dream.conversation = mine.conversation.clone();
                }
            }
            DreamChange::SetTags { .. } | DreamChange::SetNotes { .. } => {}
            DreamChange::Delete => return None,
        }
    }
    if let Some(local) = current {
        // Whether it was opened and how often it was used here are this device's own.
        dream.opened = local.dream.opened;
        dream.usage_count = local.dream.usage_count;
        dream.last_used_at = local.dream.last_used_at;
    }
    let summary = summarize(&dream);
    Some(Some(StoredDream {
        seq: 0,
        summary,
        dream,
        revision,
        implementation: current.and_then(|c| c.implementation.clone()),
    }))
}

/// Whether a deletion from the service removes the dream here: not when this device already
/// has that revision, nor when it captured the dream again after seeing the deletion (that
/// capture restores it on the service).
fn deletion_applies(stored: &StoredDream, revision: Revision, pending: &[OutboxEntry]) -> bool {
    let recaptured_here = pending.iter().any(|e| {
        e.operation.dream_id == stored.dream.id()
            && e.operation.base_revision >= revision
            && matches!(e.operation.change, DreamChange::Upsert { .. })
    });
    stored.revision < revision && !recaptured_here
}

/// Moves the implementation state forward (never back: `project_created` may arrive before
/// the answer to the request that caused it, and a late one never hides a finished result).
fn advance_implementation(
    stored: &mut StoredDream,
    state: ImplementationState,
    now: Timestamp,
    fill: impl FnOnce(&mut Implementation),
) {
    let mut implementation = stored.implementation.take().unwrap_or(Implementation {
        state,
        updated_at: now,
        project: None,
        result: None,
    });
    if progress_rank(state) >= progress_rank(implementation.state) {
        implementation.state = state;
    }
    implementation.updated_at = now;
    fill(&mut implementation);
    stored.implementation = Some(implementation);
}

fn progress_rank(state: ImplementationState) -> u8 {
    match state {
        ImplementationState::Requested => 0,
        ImplementationState::InProgress => 1,
        ImplementationState::Completed | ImplementationState::Failed => 2,
    }
}

fn state_name(status: &SyncStatus) -> (String, Option<FailureReport>) {
    use dreamcatcher_sync::ConnectionState;
    match status.state {
        ConnectionState::Offline => ("offline".into(), None),
        ConnectionState::Connecting => ("connecting".into(), None),
        ConnectionState::Syncing => ("syncing".into(), None),
        ConnectionState::Connected => ("connected".into(), None),
        ConnectionState::Error(kind) => ("error".into(), Some(FailureReport::new(kind, ""))),
    }
}
