//! Where the library keeps its records. The extension implements [`DreamStore`] on IndexedDB;
//! [`MemoryStore`] beside it serves tests and the CLI.
//!
//! Writes go through [`DreamStore::commit`] as one [`WriteBatch`], applied all or nothing (one
//! IndexedDB transaction), so a worker stopped at any moment leaves either the state before a
//! capture or the state after it.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use dreamcatcher_model::{Dream, Timestamp};
use dreamcatcher_sync::{Operation, Revision};

use crate::api::{DreamSummary, FragmentRecord, Implementation};

/// The storage layout this code writes; the IndexedDB store migrates older ones on open.
/// 2 added the sync outbox.
pub const SCHEMA_VERSION: u32 = 2;

/// A storage failure, saying which operation on which record failed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum StoreError {
    #[error("opening the database failed: {0}")]
    Open(String),
    #[error("{operation} failed: {detail}")]
    Operation { operation: String, detail: String },
    #[error("stored record {key:?} in {store} is unreadable: {detail}")]
    Corrupt {
        store: String,
        key: String,
        detail: String,
    },
}

/// A dream as stored: with the change sequence number of its last write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "StoredDreamRecord")]
pub struct StoredDream {
    pub seq: u64,
    pub dream: Dream,
    /// Written beside the dream so lists never load whole conversations. Always
    /// `summarize(&dream)`: not serialised with the dream (stores keep it in a place of its
    /// own; it was a fifth of what an import wrote), and recomputed when a record is read.
    #[serde(skip_serializing)]
    pub summary: DreamSummary,
    /// The PipelineOS service's revision of the dream as this device last received it (0:
    /// never synced). The base revision of the next change sent.
    #[serde(default)]
    pub revision: Revision,
    /// What PipelineOS did with the dream after "Send to PipelineOS".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub implementation: Option<Implementation>,
}

/// A stored dream as read back: records written before the summary was left out still carry
/// one, which is ignored.
#[derive(Deserialize)]
struct StoredDreamRecord {
    seq: u64,
    dream: Dream,
    #[serde(default)]
    revision: Revision,
    #[serde(default)]
    implementation: Option<Implementation>,
}

impl From<StoredDreamRecord> for StoredDream {
    fn from(record: StoredDreamRecord) -> Self {
        StoredDream {
            seq: record.seq,
            summary: crate::summary::summarize(&record.dream),
            dream: record.dream,
            revision: record.revision,
            implementation: record.implementation,
        }
    }
}

impl StoredDream {
    pub fn new(seq: u64, dream: Dream, summary: DreamSummary) -> Self {
        StoredDream {
            seq,
            dream,
            summary,
            revision: 0,
            implementation: None,
        }
    }
}

/// An operation waiting in the sync outbox; `position` orders the outbox (append order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub position: u64,
    pub operation: Operation,
}

/// A deleted dream, kept until it is purged so the deletion can be undone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrashEntry {
    pub undo_token: String,
    pub dream: Dream,
    pub deleted_at: Timestamp,
    /// The service's revision when it was deleted (0: never synced).
    #[serde(default)]
    pub revision: Revision,
}

/// Records that a dream left the library at change `seq`, so an index snapshot taken
/// before the deletion forgets it when replayed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tombstone {
    pub dream_id: String,
    pub seq: u64,
}

/// The search index as saved, and the last change it includes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexSnapshot {
    pub seq: u64,
    pub data: Vec<u8>,
}

/// Everything one operation changes, applied atomically by [`DreamStore::commit`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WriteBatch {
    pub put_dreams: Vec<StoredDream>,
    pub delete_dreams: Vec<String>,
    pub put_fragments: Vec<FragmentRecord>,
    pub delete_fragments: Vec<String>,
    pub put_trash: Vec<TrashEntry>,
    pub delete_trash: Vec<String>,
    pub put_tombstones: Vec<Tombstone>,
    /// Drops tombstones with `seq` at or below this (an index snapshot now covers them).
    pub drop_tombstones_through: Option<u64>,
    /// Small key-value settings (JSON text).
    pub put_meta: Vec<(String, String)>,
    pub put_index_snapshot: Option<IndexSnapshot>,
    /// The highest change sequence number handed out so far.
    pub last_seq: Option<u64>,
    /// Sync operations appended to the outbox in the same transaction as the change they
    /// describe, so a change and its operation are durable together.
    pub put_outbox: Vec<OutboxEntry>,
    /// Acknowledged operations, by op id.
    pub delete_outbox: Vec<String>,
}

impl WriteBatch {
    pub fn is_empty(&self) -> bool {
        *self == WriteBatch::default()
    }
}

/// The library's storage. Methods are async and not `Send`: IndexedDB lives on one thread.
#[allow(async_fn_in_trait)]
pub trait DreamStore {
    /// Applies every change of the batch, or none of them. Returns once the changes are
    /// durable (the IndexedDB transaction completed), never earlier.
    async fn commit(&self, batch: WriteBatch) -> Result<(), StoreError>;

    async fn get_dream(&self, id: &str) -> Result<Option<StoredDream>, StoreError>;
    /// The stored ones of these dreams, in any order. Stores should read them in one go:
    /// an import asks for fifty at a time.
    async fn get_dreams(&self, ids: &[String]) -> Result<Vec<StoredDream>, StoreError> {
        let mut found = Vec::new();
        for id in ids {
            found.extend(self.get_dream(id).await?);
        }
        Ok(found)
    }
    /// Dreams whose last write has `seq` greater than the given one, in any order.
    async fn dreams_changed_after(&self, seq: u64) -> Result<Vec<StoredDream>, StoreError>;
    async fn tombstones_after(&self, seq: u64) -> Result<Vec<Tombstone>, StoreError>;
    /// Every dream (export).
    async fn all_dreams(&self) -> Result<Vec<Dream>, StoreError>;
    async fn count_dreams(&self) -> Result<u32, StoreError>;
    /// Summaries newest first (by `updated_at`, then id).
    async fn page_summaries(
        &self,
        offset: u32,
        limit: u32,
    ) -> Result<Vec<DreamSummary>, StoreError>;
    async fn all_summaries(&self) -> Result<Vec<DreamSummary>, StoreError>;

    async fn get_fragments(
        &self,
        content_keys: &[String],
    ) -> Result<Vec<FragmentRecord>, StoreError>;
    /// Fragments most recently seen first, optionally of one language.
    async fn page_fragments(
        &self,
        offset: u32,
        limit: u32,
        language: Option<&str>,
    ) -> Result<(u32, Vec<FragmentRecord>), StoreError>;
    async fn count_fragments(&self) -> Result<u32, StoreError>;

    async fn get_trash(&self, undo_token: &str) -> Result<Option<TrashEntry>, StoreError>;
    async fn all_trash(&self) -> Result<Vec<TrashEntry>, StoreError>;

    async fn get_meta(&self, key: &str) -> Result<Option<String>, StoreError>;
    async fn load_index_snapshot(&self) -> Result<Option<IndexSnapshot>, StoreError>;
    async fn last_seq(&self) -> Result<u64, StoreError>;
    /// The sync outbox, in `position` order.
    async fn outbox(&self) -> Result<Vec<OutboxEntry>, StoreError>;
    /// How many operations wait in the outbox (the popup asks every few seconds: stores
    /// should count without reading them).
    async fn count_outbox(&self) -> Result<usize, StoreError> {
        Ok(self.outbox().await?.len())
    }
    /// The waiting operations on these dreams, in `position` order (stores should look
    /// them up by dream rather than read the whole outbox).
    async fn outbox_for_dreams(&self, dream_ids: &[String]) -> Result<Vec<OutboxEntry>, StoreError> {
        let mut entries = self.outbox().await?;
        entries.retain(|e| dream_ids.contains(&e.operation.dream_id));
        Ok(entries)
    }

    /// Removes dreams, fragments, trash, tombstones and the index snapshot; keeps meta and
    /// the outbox (operations already recorded still have to reach the service).
    async fn clear_library(&self) -> Result<(), StoreError>;
}

#[derive(Debug, Default, Clone)]
struct MemoryState {
    dreams: HashMap<String, StoredDream>,
    fragments: HashMap<String, FragmentRecord>,
    trash: HashMap<String, TrashEntry>,
    tombstones: Vec<Tombstone>,
    meta: BTreeMap<String, String>,
    snapshot: Option<IndexSnapshot>,
    last_seq: u64,
    outbox: BTreeMap<u64, Operation>,
}

/// A [`DreamStore`] in memory. `fail_next_commits` makes it refuse writes, to test that
/// nothing is reported as saved when storage fails.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: RefCell<MemoryState>,
    failing_commits: RefCell<u32>,
}

impl MemoryStore {
    pub fn new() -> Self {
        MemoryStore::default()
    }

    /// The next `count` commits fail without changing anything.
    pub fn fail_next_commits(&self, count: u32) {
        *self.failing_commits.borrow_mut() = count;
    }

    /// A copy of everything stored: what survives when the worker holding the library dies.
    pub fn durable_copy(&self) -> MemoryStore {
        MemoryStore {
            state: RefCell::new(self.state.borrow().clone()),
            failing_commits: RefCell::new(0),
        }
    }
}

/// The list's order: last change newest first, to the millisecond, then the id, also
/// descending. It is IndexedDB's `summaries.updated` index (milliseconds, ties by primary key)
/// read backwards, so a page read through that index (by the worker or by the popup directly)
/// and a page cut from sorted summaries are the same page.
pub fn newest_first(a: &DreamSummary, b: &DreamSummary) -> std::cmp::Ordering {
    b.updated_at
        .timestamp_millis()
        .cmp(&a.updated_at.timestamp_millis())
        .then_with(|| b.id.cmp(&a.id))
}

fn page<T: Clone>(items: &[T], offset: u32, limit: u32) -> Vec<T> {
    items
        .iter()
        .skip(offset as usize)
        .take(limit as usize)
        .cloned()
        .collect()
}

impl DreamStore for MemoryStore {
    async fn commit(&self, batch: WriteBatch) -> Result<(), StoreError> {
        {
            let mut failing = self.failing_commits.borrow_mut();
            if *failing > 0 {
                *failing -= 1;
                return Err(StoreError::Operation {
                    operation: "commit".into(),
                    detail: "simulated storage failure".into(),
                });
            }
        }
        let mut state = self.state.borrow_mut();
        for id in batch.delete_dreams {
            state.dreams.remove(&id);
        }
        for stored in batch.put_dreams {
            state.dreams.insert(stored.dream.id().to_string(), stored);
        }
        for key in batch.delete_fragments {
            state.fragments.remove(&key);
        }
        for fragment in batch.put_fragments {
            state
                .fragments
                .insert(fragment.content_key.clone(), fragment);
        }
        for token in batch.delete_trash {
            state.trash.remove(&token);
        }
        for entry in batch.put_trash {
            state.trash.insert(entry.undo_token.clone(), entry);
        }
        if let Some(through) = batch.drop_tombstones_through {
            state.tombstones.retain(|t| t.seq > through);
        }
        state.tombstones.extend(batch.put_tombstones);
        for (key, value) in batch.put_meta {
            state.meta.insert(key, value);
        }
        if let Some(snapshot) = batch.put_index_snapshot {
            state.snapshot = Some(snapshot);
        }
        if let Some(seq) = batch.last_seq {
            state.last_seq = state.last_seq.max(seq);
        }
        state
            .outbox
            .retain(|_, operation| !batch.delete_outbox.contains(&operation.op_id.0));
        for entry in batch.put_outbox {
            if !state.outbox.values().any(|o| o.op_id == entry.operation.op_id) {
                state.outbox.insert(entry.position, entry.operation);
            }
        }
        Ok(())
    }

    async fn get_dream(&self, id: &str) -> Result<Option<StoredDream>, StoreError> {
        Ok(self.state.borrow().dreams.get(id).cloned())
    }

    async fn dreams_changed_after(&self, seq: u64) -> Result<Vec<StoredDream>, StoreError> {
        Ok(self
            .state
            .borrow()
            .dreams
            .values()
            .filter(|d| d.seq > seq)
            .cloned()
            .collect())
    }

    async fn tombstones_after(&self, seq: u64) -> Result<Vec<Tombstone>, StoreError> {
        Ok(self
            .state
            .borrow()
            .tombstones
            .iter()
            .filter(|t| t.seq > seq)
            .cloned()
            .collect())
    }

    async fn all_dreams(&self) -> Result<Vec<Dream>, StoreError> {
        let state = self.state.borrow();
        let mut stored: Vec<&StoredDream> = state.dreams.values().collect();
        stored.sort_by(|a, b| newest_first(&a.summary, &b.summary));
        Ok(stored.into_iter().map(|s| s.dream.clone()).collect())
    }

    async fn count_dreams(&self) -> Result<u32, StoreError> {
        Ok(self.state.borrow().dreams.len() as u32)
    }

    async fn page_summaries(
        &self,
        offset: u32,
        limit: u32,
    ) -> Result<Vec<DreamSummary>, StoreError> {
        let all = self.all_summaries().await?;
        Ok(page(&all, offset, limit))
    }

    async fn all_summaries(&self) -> Result<Vec<DreamSummary>, StoreError> {
        let mut all: Vec<DreamSummary> = self
            .state
            .borrow()
            .dreams
            .values()
            .map(|d| d.summary.clone())
            .collect();
        all.sort_by(newest_first);
        Ok(all)
    }

    async fn get_fragments(
        &self,
        content_keys: &[String],
    ) -> Result<Vec<FragmentRecord>, StoreError> {
        let state = self.state.borrow();
        Ok(content_keys
            .iter()
            .filter_map(|key| state.fragments.get(key).cloned())
            .collect())
    }

    async fn page_fragments(
        &self,
        offset: u32,
        limit: u32,
        language: Option<&str>,
    ) -> Result<(u32, Vec<FragmentRecord>), StoreError> {
        let state = self.state.borrow();
        let mut matching: Vec<&FragmentRecord> = state
            .fragments
            .values()
            .filter(|f| language.is_none_or(|lang| f.code_block.language == lang))
            .collect();
        matching.sort_by(|a, b| {
            b.last_seen
                .cmp(&a.last_seen)
                .then_with(|| a.content_key.cmp(&b.content_key))
        });
        let total = matching.len() as u32;
        let items = matching
            .into_iter()
            .skip(offset as usize)
            .take(limit as usize)
            .cloned()
            .collect();
        Ok((total, items))
    }

    async fn count_fragments(&self) -> Result<u32, StoreError> {
        Ok(self.state.borrow().fragments.len() as u32)
    }

    async fn get_trash(&self, undo_token: &str) -> Result<Option<TrashEntry>, StoreError> {
        Ok(self.state.borrow().trash.get(undo_token).cloned())
    }

    async fn all_trash(&self) -> Result<Vec<TrashEntry>, StoreError> {
        Ok(self.state.borrow().trash.values().cloned().collect())
    }

    async fn get_meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self.state.borrow().meta.get(key).cloned())
    }

    async fn load_index_snapshot(&self) -> Result<Option<IndexSnapshot>, StoreError> {
        Ok(self.state.borrow().snapshot.clone())
    }

    async fn last_seq(&self) -> Result<u64, StoreError> {
        Ok(self.state.borrow().last_seq)
    }

    async fn outbox(&self) -> Result<Vec<OutboxEntry>, StoreError> {
        Ok(self
            .state
            .borrow()
            .outbox
            .iter()
            .map(|(position, operation)| OutboxEntry {
                position: *position,
                operation: operation.clone(),
            })
            .collect())
    }

    async fn clear_library(&self) -> Result<(), StoreError> {
        let mut state = self.state.borrow_mut();
        let meta = std::mem::take(&mut state.meta);
        let outbox = std::mem::take(&mut state.outbox);
        let last_seq = state.last_seq;
        // The sequence keeps counting up so a later snapshot never looks older than a change.
        *state = MemoryState {
            meta,
            outbox,
            last_seq,
            ..MemoryState::default()
        };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::CaptureRoute;
    use dreamcatcher_model::Site;

    fn summary(id: &str, updated_micros: i64) -> DreamSummary {
        let at = chrono::DateTime::from_timestamp_micros(1_763_000_000_000_000 + updated_micros)
            .unwrap_or_default();
        DreamSummary {
            id: id.into(),
            site: Site::Claude,
            title: id.into(),
            url: None,
            captured_at: at,
            updated_at: at,
            message_count: 1,
            code_block_count: 0,
            languages: Vec::new(),
            tags: Vec::new(),
            opened: false,
            usage_count: 0,
            preview: String::new(),
            route: CaptureRoute::Export,
        }
    }

    #[test]
    fn a_stored_dream_is_written_without_its_summary_and_read_back_whole() {
        let mut conversation = dreamcatcher_model::Conversation::new(Site::Claude, Some("c-1".into()), "Title");
        conversation.messages.push(dreamcatcher_model::Message::new(
            dreamcatcher_model::Role::User,
            "What is a fold?",
        ));
        let dream = Dream::captured(conversation, summary("x", 0).updated_at);
        let mut stored = StoredDream::new(7, dream.clone(), crate::summary::summarize(&dream));
        stored.revision = 3;
        let json = serde_json::to_value(&stored).unwrap_or_default();
        assert_eq!(json.get("summary"), None);
        assert_eq!(json["seq"], 7);
        let back: StoredDream = serde_json::from_value(json.clone()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, stored);
        // A record from before: its summary is ignored, the dream's own is computed.
        let mut older = json;
        older["summary"] = serde_json::to_value(summary("stale", 0)).unwrap_or_default();
        let back: StoredDream = serde_json::from_value(older).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, stored);
    }

    #[test]
    fn the_list_order_is_the_updated_index_read_backwards() {
        // Millisecond keys, ties by primary key: within one millisecond the id decides, not
        // the microseconds the index never saw.
        let mut all = [
            summary("dc-a", 1_000),
            summary("dc-c", 1_100),
            summary("dc-b", 1_900),
            summary("dc-z", 0),
            summary("dc-new", 5_000),
        ];
        all.sort_by(newest_first);
        let ids: Vec<&str> = all.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["dc-new", "dc-c", "dc-b", "dc-a", "dc-z"]);
    }
}
