//! [`Library`]: every change to the user's dreams and fragments, written to the store before
//! anything reports success, with the search index kept in step.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use dreamcatcher_model::{Conversation, Dream, Timestamp, content_key, conversation_id};

mod connected;

pub use connected::{SyncLink, op_id_for};

use dreamcatcher_sync::{DeviceId, DreamChange, Operation};

use crate::anchors::conversation_of_url;
use dreamcatcher_search::SearchIndex;

use crate::api::{
    ApiError, CaptureOutcome, DreamFilter, DreamPage, DreamSummary, ErrorCode, ExportFormat,
    ExportScope, ExportedFile, Facets, FragmentPage, FragmentRecord, FragmentSource,
    ImportProgress, ImportSummary, Mode, SearchHit, Settings, Stats,
};
use crate::import::{Batch, ImportItem, ImportReader};
use crate::index::{
    DocumentHit, Ranking, SNIPPET_CHARS, best_message, code_block_of, completions, highlights,
    rank_dreams, related_dreams,
};
use crate::store::{
    DreamStore, IndexSnapshot, StoreError, StoredDream, Tombstone, TrashEntry, WriteBatch,
};
use crate::summary::{facet, matches, normalize_tags, summarize};

const SETTINGS_KEY: &str = "settings";
/// Deleted dreams kept for undo; the oldest go first.
const TRASH_LIMIT: usize = 100;
/// Conversations stored per transaction while importing: 200 made a 10,000-conversation
/// import 10% faster in Chromium than 50 (fewer IndexedDB commits), progress still moves
/// every few hundred milliseconds.
const IMPORT_BATCH: usize = 200;
/// Changes after which the index snapshot is saved without being asked.
const SNAPSHOT_EVERY: u64 = 25;
/// Best-matching dreams whose words the completions of a prefix are taken from.
const COMPLETION_SOURCES: usize = 10;

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        ApiError::new(
            ErrorCode::Storage,
            format!("Storage failed, nothing was saved: {error}"),
        )
    }
}

fn not_found(id: &str) -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        format!("No dream with id {id:?} in the library."),
    )
}

/// One stored conversation of a capture.
#[derive(Debug, Clone, PartialEq)]
pub struct Captured {
    pub dream: Dream,
    pub outcome: CaptureOutcome,
}

/// What a capture stored (already durable when returned).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CaptureSummary {
    pub added: u32,
    pub updated: u32,
    pub unchanged: u32,
    pub messages: u32,
    pub code_blocks: u32,
    pub captured: Vec<Captured>,
}

struct ImportSession {
    file_name: String,
    total_bytes: u64,
    bytes_received: u64,
    /// The file as it arrives; handed to `reader` with the last chunk.
    bytes: Vec<u8>,
    reader: Option<ImportReader>,
    summary: ImportSummary,
    finished: bool,
    error: Option<ApiError>,
}

impl ImportSession {
    fn progress(&self, import_id: &str) -> ImportProgress {
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        ImportProgress {
            import_id: import_id.to_string(),
            bytes_received: self.bytes_received,
            total_bytes: self.total_bytes,
            conversations_done: self.reader.as_ref().map_or(0, |r| count(r.done())),
            conversations_total: self.reader.as_ref().map_or(0, |r| count(r.total())),
            summary: (self.finished && self.error.is_none()).then(|| self.summary.clone()),
            error: self.error.clone(),
        }
    }
}

/// One page of a search.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchPage {
    pub hits: Vec<SearchHit>,
    /// Dreams matching over all pages.
    pub total: u32,
    pub offset: u32,
    /// The ranking stopped at its cap: more dreams match than `total`.
    pub total_capped: bool,
}

/// The ranking of the last search, kept so the next pages of the same search neither search
/// again nor shift under the user.
struct CachedRanking {
    query: String,
    filter: DreamFilter,
    generation: u64,
    ranking: Ranking,
}

/// The fragments touched by one write, loaded once and written back together.
#[derive(Default)]
struct FragmentChanges {
    records: HashMap<String, Option<FragmentRecord>>,
}

impl FragmentChanges {
    fn into_batch(self, batch: &mut WriteBatch) {
        for (key, record) in self.records {
            match record {
                Some(record) => batch.put_fragments.push(record),
                None => batch.delete_fragments.push(key),
            }
        }
    }
}

/// Puts `value` in `field`; true when that changed it.
fn replace_if_changed<T: PartialEq>(field: &mut T, value: T) -> bool {
    if *field == value {
        return false;
    }
    *field = value;
    true
}

fn block_key(block: &dreamcatcher_model::CodeBlock) -> String {
    if block.content_key.is_empty() {
        content_key(&block.code)
    } else {
        block.content_key.clone()
    }
}

/// Adds dreams to the index: one at a time for a single change, in bulk for more (bulk
/// defers sorting new terms to the end, which one dream would only pay for).
fn index_dreams<'a>(index: &mut SearchIndex, dreams: impl ExactSizeIterator<Item = &'a Dream>) {
    match dreams.len() {
        0 => {}
        1 => dreams.for_each(|dream| index.upsert_dream(dream)),
        _ => index.upsert_dreams(dreams),
    }
}

/// The library of one user, over a store.
pub struct Library<S: DreamStore> {
    store: S,
    /// Restored when something first needs it (a search, related dreams, a change), so the
    /// list, a dream and the counts are answered without waiting for it.
    index: Option<SearchIndex>,
    /// Bumped by every change of the index (cached rankings go stale).
    generation: u64,
    last_ranking: Option<CachedRanking>,
    /// Every change up to this one is in the saved index snapshot.
    snapshot_seq: u64,
    /// The last change handed out (and, after each operation, in `index`).
    last_seq: u64,
    /// Dreams replayed into the index when it was restored (those changed after the snapshot).
    replayed_into_index: usize,
    /// All summaries, newest first, once something needed them all.
    summaries: Option<Vec<DreamSummary>>,
    settings: Settings,
    imports: BTreeMap<String, ImportSession>,
    imports_started: u64,
    import_batch_size: usize,
    /// Set while paired with a PipelineOS service: changes are then recorded for sync.
    link: Option<SyncLink>,
    /// This installation's id for sync, chosen at the first pairing and kept.
    device_id: Option<DeviceId>,
    /// Position of the next operation appended to the outbox (stored, never reused, since
    /// op ids derive from it).
    outbox_next: u64,
    /// Operations committed to the outbox that the sync client has not been given yet.
    recorded: Vec<Operation>,
    /// Recent sync outcomes to tell the user about, newest last.
    notices: Vec<String>,
}

impl<S: DreamStore> Library<S> {
    /// Opens the library. The search index is restored later, when first needed.
    pub async fn open(store: S) -> Result<Self, ApiError> {
        let last_seq = store.last_seq().await?;
        let settings = match store.get_meta(SETTINGS_KEY).await? {
            Some(text) => serde_json::from_str(&text).unwrap_or_default(),
            None => Settings::default(),
        };
        let sync = connected::SyncMeta::load(&store).await?;
        Ok(Library {
            store,
            index: None,
            generation: 0,
            last_ranking: None,
            // Until the index is restored there is nothing unsaved in memory.
            snapshot_seq: last_seq,
            last_seq,
            replayed_into_index: 0,
            summaries: None,
            settings,
            imports: BTreeMap::new(),
            imports_started: 0,
            import_batch_size: IMPORT_BATCH,
            link: sync.link,
            device_id: sync.device_id,
            outbox_next: sync.outbox_next,
            recorded: Vec::new(),
            notices: Vec::new(),
        })
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    /// Restores the saved search index and replays the changes made after it was saved, so a
    /// worker stopped before saving the index loses nothing. Does nothing once restored.
    async fn restore_index(&mut self) -> Result<(), ApiError> {
        if self.index.is_some() {
            return Ok(());
        }
        let (mut index, snapshot_seq) = match self.store.load_index_snapshot().await? {
            Some(snapshot) => match SearchIndex::from_snapshot(&snapshot.data) {
                Ok(index) => (index, snapshot.seq),
                // An unreadable (or older-format) snapshot is rebuilt from the dreams.
                Err(_) => (SearchIndex::new(), 0),
            },
            None => (SearchIndex::new(), 0),
        };
        for tombstone in self.store.tombstones_after(snapshot_seq).await? {
            index.remove_dream(&tombstone.dream_id);
        }
        let changed = self.store.dreams_changed_after(snapshot_seq).await?;
        self.replayed_into_index = changed.len();
        self.last_seq = changed.iter().map(|s| s.seq).fold(self.last_seq, u64::max);
        index_dreams(&mut index, changed.iter().map(|stored| &stored.dream));
        self.snapshot_seq = snapshot_seq;
        self.index = Some(index);
        Ok(())
    }

    /// The search index, restored first if need be.
    pub async fn index(&mut self) -> Result<&SearchIndex, ApiError> {
        self.restore_index().await?;
        Ok(self.index.get_or_insert_with(SearchIndex::new))
    }

    pub fn index_restored(&self) -> bool {
        self.index.is_some()
    }

    /// Dreams replayed into the index when it was restored: those changed after its snapshot.
    pub fn replayed_into_index(&self) -> usize {
        self.replayed_into_index
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Conversations stored per transaction while importing (at least one); small batches
    /// let tests see an import proceed batch by batch.
    pub fn set_import_batch_size(&mut self, conversations: usize) {
        self.import_batch_size = conversations.max(1);
    }

    /// Changes not yet in the saved index snapshot.
    pub fn unsaved_index_changes(&self) -> u64 {
        self.last_seq.saturating_sub(self.snapshot_seq)
    }

    fn next_seq(&mut self) -> u64 {
        self.last_seq + 1
    }

    /// Applies a batch, then (only once it is durable) the in-memory index and list.
    async fn commit(&mut self, mut batch: WriteBatch, seq: u64) -> Result<(), ApiError> {
        // Restored before the change, which then goes into it like any other.
        self.restore_index().await?;
        batch.last_seq = Some(seq);
        let put = batch.put_dreams.clone();
        let deleted = batch.delete_dreams.clone();
        let operations: Vec<Operation> = batch
            .put_outbox
            .iter()
            .map(|e| e.operation.clone())
            .collect();
        self.store.commit(batch).await?;
        self.recorded.extend(operations);
        self.last_seq = self.last_seq.max(seq);
        let index = self.index.get_or_insert_with(SearchIndex::new);
        for id in &deleted {
            index.remove_dream(id);
        }
        index_dreams(index, put.iter().map(|stored| &stored.dream));
        self.generation += 1;
        if let Some(summaries) = &mut self.summaries {
            // A set: with 10,000 dreams, an import batch would otherwise compare every
            // summary with each of its 200 dreams.
            let replaced: HashSet<&str> = deleted
                .iter()
                .map(String::as_str)
                .chain(put.iter().map(|p| p.summary.id.as_str()))
                .collect();
            summaries.retain(|s| !replaced.contains(s.id.as_str()));
            summaries.extend(put.iter().map(|p| p.summary.clone()));
            summaries.sort_by(crate::store::newest_first);
        }
        Ok(())
    }

    /// Moves the dream's fragment sources from `old` to `new` (either may be absent).
    async fn change_fragments(
        &self,
        changes: &mut FragmentChanges,
        dream_id: &str,
        old: Option<&Conversation>,
        new: Option<&Conversation>,
        now: Timestamp,
    ) -> Result<(), ApiError> {
        let mut added: Vec<(String, FragmentSource, &dreamcatcher_model::CodeBlock)> = Vec::new();
        for (message_index, message) in new.into_iter().flat_map(|c| c.messages.iter().enumerate())
        {
            for (block_index, block) in message.fragments.code_blocks.iter().enumerate() {
                let source = FragmentSource {
                    dream_id: dream_id.to_string(),
                    message_index: message_index as u32,
                    block_index: block_index as u32,
                };
                added.push((block_key(block), source, block));
            }
        }
        let old_keys: BTreeSet<String> = old
            .into_iter()
            .flat_map(|c| {
                c.messages
                    .iter()
                    .flat_map(|m| m.fragments.code_blocks.iter().map(block_key))
            })
            .collect();
        let affected: BTreeSet<String> = old_keys
            .into_iter()
            .chain(added.iter().map(|a| a.0.clone()))
            .collect();
        self.load_fragments(changes, affected.iter().cloned()).await?;
        for key in &affected {
            let Some(slot) = changes.records.get_mut(key) else {
                continue;
            };
            let mut sources: Vec<FragmentSource> = slot
                .as_ref()
                .map(|r| {
                    r.sources
                        .iter()
                        .filter(|s| s.dream_id != dream_id)
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
            let mine: Vec<&(String, FragmentSource, &dreamcatcher_model::CodeBlock)> =
                added.iter().filter(|a| &a.0 == key).collect();
            sources.extend(mine.iter().map(|a| a.1.clone()));
            *slot = match (slot.take(), mine.first()) {
                _ if sources.is_empty() => None,
                (Some(mut record), first) => {
                    record.sources = sources;
                    if first.is_some() {
                        record.last_seen = now;
                    }
                    Some(record)
                }
                (None, Some(first)) => {
                    let mut code_block = first.2.clone();
                    code_block.content_key = key.clone();
                    Some(FragmentRecord {
                        content_key: key.clone(),
                        code_block,
                        sources,
                        first_seen: now,
                        last_seen: now,
                    })
                }
                (None, None) => None,
            };
        }
        Ok(())
    }

    /// Reads the stored records of these fragments into `changes`, those not there yet, in one
    /// store read (IndexedDB: one transaction).
    async fn load_fragments(
        &self,
        changes: &mut FragmentChanges,
        keys: impl Iterator<Item = String>,
    ) -> Result<(), ApiError> {
        let missing: BTreeSet<String> = keys
            .filter(|k| !changes.records.contains_key(k))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let missing: Vec<String> = missing.into_iter().collect();
        for record in self.store.get_fragments(&missing).await? {
            changes
                .records
                .insert(record.content_key.clone(), Some(record));
        }
        for key in missing {
            changes.records.entry(key).or_insert(None);
        }
        Ok(())
    }

    /// Stores conversations: new ones are added, known ones (same stable id) updated in place
    /// keeping the user's tags and notes. Written in one transaction before returning.
    pub async fn capture(
        &mut self,
        conversations: Vec<Conversation>,
        now: Timestamp,
    ) -> Result<CaptureSummary, ApiError> {
        let items = conversations
            .into_iter()
            .map(|c| ImportItem::Conversation(Box::new(c)))
            .collect();
        let summary = self.store_items(items, now).await?;
        self.save_index_if_due().await?;
        Ok(summary)
    }

    /// Stores captured or imported items in one transaction. The index snapshot is left to
    /// the caller: an import saves it once at its end, not after every batch (saving the
    /// whole index per batch made a 10,000-conversation import quadratic).
    async fn store_items(
        &mut self,
        items: Vec<ImportItem>,
        now: Timestamp,
    ) -> Result<CaptureSummary, ApiError> {
        let mut summary = CaptureSummary::default();
        let mut batch = WriteBatch::default();
        let mut pending: BTreeMap<String, StoredDream> = BTreeMap::new();
        let mut fragments = FragmentChanges::default();
        let mut seq = self.last_seq;
        fn conversation_of(item: &ImportItem) -> &Conversation {
            match item {
                ImportItem::Dream(dream) => &dream.conversation,
                ImportItem::Conversation(conversation) => conversation,
            }
        }
        let item_id = |item: &ImportItem| conversation_of(item).id.clone();
        let ids: Vec<String> = items.iter().map(item_id).collect();
        let mut stored_before = self.stored_by_id(&ids).await?;
        // Every fragment the batch touches, read at once rather than dream by dream (an
        // import batch is 200 dreams: one IndexedDB transaction instead of up to 200).
        let touched = items
            .iter()
            .map(conversation_of)
            .chain(stored_before.values().map(|s| &s.dream.conversation))
            .flat_map(|c| c.messages.iter())
            .flat_map(|m| m.fragments.code_blocks.iter().map(block_key));
        self.load_fragments(&mut fragments, touched).await?;
        for item in items {
            let id = item_id(&item);
            let existing_record = match pending.get(&id) {
                Some(stored) => Some(stored.clone()),
                None => stored_before.remove(&id),
            };
            let existing = existing_record.as_ref().map(|s| s.dream.clone());
            let (dream, outcome) = match (item, &existing) {
                (ImportItem::Conversation(conversation), Some(old))
                    if old.conversation == *conversation =>
                {
                    (old.clone(), CaptureOutcome::Unchanged)
                }
                (ImportItem::Dream(dream), Some(old)) if *old == *dream => {
                    (old.clone(), CaptureOutcome::Unchanged)
                }
                (ImportItem::Conversation(conversation), Some(old)) => {
                    (old.recaptured(*conversation, now), CaptureOutcome::Updated)
                }
                (ImportItem::Conversation(conversation), None) => {
                    (Dream::captured(*conversation, now), CaptureOutcome::Added)
                }
                (ImportItem::Dream(dream), Some(_)) => (*dream, CaptureOutcome::Updated),
                (ImportItem::Dream(dream), None) => (*dream, CaptureOutcome::Added),
            };
            summary.messages += dream.conversation.messages.len() as u32;
            summary.code_blocks += dream.conversation.code_block_count() as u32;
            match outcome {
                CaptureOutcome::Added => summary.added += 1,
                CaptureOutcome::Updated => summary.updated += 1,
                CaptureOutcome::Unchanged => summary.unchanged += 1,
            }
            if outcome != CaptureOutcome::Unchanged {
                let old = existing.as_ref().map(|d| &d.conversation);
                self.change_fragments(&mut fragments, &id, old, Some(&dream.conversation), now)
                    .await?;
                seq += 1;
                let revision = existing_record.as_ref().map_or(0, |s| s.revision);
                self.stage_operation(
                    &mut batch,
                    &id,
                    revision,
                    DreamChange::Upsert {
                        dream: Box::new(dream.clone()),
                    },
                    now,
                );
                if let Some(old) = &existing {
                    if old.tags != dream.tags {
                        let tags = dream.tags.clone();
                        self.stage_operation(
                            &mut batch,
                            &id,
                            revision,
                            DreamChange::SetTags { tags },
                            now,
                        );
                    }
                    if old.notes != dream.notes {
                        let notes = dream.notes.clone();
                        self.stage_operation(
                            &mut batch,
                            &id,
                            revision,
                            DreamChange::SetNotes { notes },
                            now,
                        );
                    }
                }
                let mut stored = existing_record
                    .unwrap_or_else(|| StoredDream::new(seq, dream.clone(), summarize(&dream)));
                stored.seq = seq;
                stored.summary = summarize(&dream);
                stored.dream = dream.clone();
                pending.insert(id, stored);
            }
            summary.captured.push(Captured { dream, outcome });
        }
        if pending.is_empty() {
            return Ok(summary);
        }
        batch.put_dreams = pending.into_values().collect();
        fragments.into_batch(&mut batch);
        self.commit(batch, seq).await?;
        Ok(summary)
    }

    /// Changes one dream with `edit` and stores it (no write when nothing changed).
    /// `synced` says what the service must learn of the edit (nothing for local-only fields).
    async fn edit_dream(
        &mut self,
        id: &str,
        edit: impl FnOnce(&mut Dream),
        synced: impl FnOnce(&Dream) -> Option<DreamChange>,
        now: Timestamp,
    ) -> Result<Dream, ApiError> {
        let stored = self
            .store
            .get_dream(id)
            .await?
            .ok_or_else(|| not_found(id))?;
        let mut dream = stored.dream.clone();
        edit(&mut dream);
        if dream == stored.dream {
            return Ok(dream);
        }
        let seq = self.next_seq();
        let mut batch = WriteBatch::default();
        if let Some(change) = synced(&dream) {
            self.stage_operation(&mut batch, id, stored.revision, change, now);
        }
        batch.put_dreams.push(StoredDream {
            seq,
            summary: summarize(&dream),
            dream: dream.clone(),
            ..stored
        });
        self.commit(batch, seq).await?;
        self.save_index_if_due().await?;
        Ok(dream)
    }

    pub async fn set_tags(
        &mut self,
        id: &str,
        tags: Vec<String>,
        now: Timestamp,
    ) -> Result<Dream, ApiError> {
        let tags = normalize_tags(tags);
        self.set_user_field(
            id,
            now,
            |dream| replace_if_changed(&mut dream.tags, tags),
            |dream| DreamChange::SetTags {
                tags: dream.tags.clone(),
            },
        )
        .await
    }

    pub async fn set_notes(
        &mut self,
        id: &str,
        notes: String,
        now: Timestamp,
    ) -> Result<Dream, ApiError> {
        self.set_user_field(
            id,
            now,
            |dream| replace_if_changed(&mut dream.notes, notes),
            |dream| DreamChange::SetNotes {
                notes: dream.notes.clone(),
            },
        )
        .await
    }

    /// Changes one of the user's own fields (`set` says whether it changed), dating the
    /// dream and recording `change` for sync when it did.
    async fn set_user_field(
        &mut self,
        id: &str,
        now: Timestamp,
        set: impl FnOnce(&mut Dream) -> bool,
        change: impl FnOnce(&Dream) -> DreamChange,
    ) -> Result<Dream, ApiError> {
        self.edit_dream(
            id,
            |dream| {
                if set(dream) {
                    dream.updated_at = now;
                }
            },
            |dream| Some(change(dream)),
            now,
        )
        .await
    }

    pub async fn mark_opened(&mut self, id: &str, now: Timestamp) -> Result<Dream, ApiError> {
        self.edit_dream(id, |dream| dream.opened = true, |_| None, now)
            .await
    }

    pub async fn record_usage(&mut self, id: &str, now: Timestamp) -> Result<Dream, ApiError> {
        self.edit_dream(
            id,
            |dream| {
                dream.usage_count = dream.usage_count.saturating_add(1);
                dream.last_used_at = Some(now);
            },
            |_| None,
            now,
        )
        .await
    }

    /// Moves a dream to the trash; [`Library::undo_delete`] with the entry's token puts it back.
    pub async fn delete(&mut self, id: &str, now: Timestamp) -> Result<TrashEntry, ApiError> {
        let stored = self
            .store
            .get_dream(id)
            .await?
            .ok_or_else(|| not_found(id))?;
        let mut fragments = FragmentChanges::default();
        self.change_fragments(
            &mut fragments,
            id,
            Some(&stored.dream.conversation),
            None,
            now,
        )
        .await?;
        let seq = self.next_seq();
        let entry = TrashEntry {
            undo_token: format!("{id}@{seq}"),
            dream: stored.dream,
            deleted_at: now,
            revision: stored.revision,
        };
        let mut trash = self.store.all_trash().await?;
        trash.sort_by(|a, b| {
            b.deleted_at
                .cmp(&a.deleted_at)
                .then_with(|| b.undo_token.cmp(&a.undo_token))
        });
        let mut batch = WriteBatch {
            delete_dreams: vec![id.to_string()],
            put_trash: vec![entry.clone()],
            delete_trash: trash
                .into_iter()
                .skip(TRASH_LIMIT - 1)
                .map(|t| t.undo_token)
                .collect(),
            put_tombstones: vec![Tombstone {
                dream_id: id.to_string(),
                seq,
            }],
            ..WriteBatch::default()
        };
        self.stage_operation(&mut batch, id, stored.revision, DreamChange::Delete, now);
        fragments.into_batch(&mut batch);
        self.commit(batch, seq).await?;
        self.save_index_if_due().await?;
        Ok(entry)
    }

    /// Restores a deleted dream. If it was captured again meanwhile, the newer capture stays
    /// and the deleted copy's tags and notes are added to it.
    pub async fn undo_delete(
        &mut self,
        undo_token: &str,
        now: Timestamp,
    ) -> Result<Dream, ApiError> {
        let entry = self.store.get_trash(undo_token).await?.ok_or_else(|| {
            ApiError::new(
                ErrorCode::NotFound,
                "Nothing to undo: that deletion is no longer in the trash.",
            )
        })?;
        let id = entry.dream.id().to_string();
        let current_record = self.store.get_dream(&id).await?;
        let revision = current_record
            .as_ref()
            .map_or(entry.revision, |s| s.revision.max(entry.revision));
        let current = current_record.map(|s| s.dream);
        let dream = match &current {
            Some(current) => {
                let mut merged = current.clone();
                merged.tags = normalize_tags(
                    current
                        .tags
                        .iter()
                        .chain(&entry.dream.tags)
                        .cloned()
                        .collect(),
                );
                if merged.notes.is_empty() {
                    merged.notes = entry.dream.notes.clone();
                }
                merged
            }
            None => entry.dream.clone(),
        };
        let mut fragments = FragmentChanges::default();
        let old = current.as_ref().map(|d| &d.conversation);
        self.change_fragments(&mut fragments, &id, old, Some(&dream.conversation), now)
            .await?;
        let seq = self.next_seq();
        let mut restored = StoredDream::new(seq, dream.clone(), summarize(&dream));
        restored.revision = revision;
        let mut batch = WriteBatch {
            put_dreams: vec![restored],
            delete_trash: vec![entry.undo_token],
            ..WriteBatch::default()
        };
        // The service restores a deleted dream from a capture made after seeing the deletion.
        self.stage_operation(
            &mut batch,
            &id,
            revision,
            DreamChange::Upsert {
                dream: Box::new(dream.clone()),
            },
            now,
        );
        fragments.into_batch(&mut batch);
        self.commit(batch, seq).await?;
        self.save_index_if_due().await?;
        Ok(dream)
    }

    /// Deletes every dream, fragment and trash entry; settings stay. Returns how many dreams
    /// and fragments there were.
    pub async fn delete_all(&mut self, now: Timestamp) -> Result<(u32, u32), ApiError> {
        let dreams = self.store.count_dreams().await?;
        let fragments = self.store.count_fragments().await?;
        if self.link.is_some() {
            // Deleting everything deletes it on the service too: the deletions are recorded
            // first, so a failure below leaves them to arrive back as events.
            let mut batch = WriteBatch::default();
            for stored in self.store.dreams_changed_after(0).await? {
                self.stage_operation(
                    &mut batch,
                    stored.dream.id(),
                    stored.revision,
                    DreamChange::Delete,
                    now,
                );
            }
            let seq = self.next_seq();
            self.commit(batch, seq).await?;
        }
        self.store.clear_library().await?;
        self.index = Some(SearchIndex::new());
        self.generation += 1;
        self.snapshot_seq = self.last_seq;
        self.summaries = Some(Vec::new());
        Ok((dreams, fragments))
    }

    /// Saves the search index with the last change it includes.
    pub async fn save_index(&mut self) -> Result<(), ApiError> {
        let data = self.index().await?.to_snapshot();
        let seq = self.last_seq;
        let batch = WriteBatch {
            put_index_snapshot: Some(IndexSnapshot { seq, data }),
            drop_tombstones_through: Some(seq),
            ..WriteBatch::default()
        };
        self.store.commit(batch).await?;
        self.snapshot_seq = seq;
        Ok(())
    }

    async fn save_index_if_due(&mut self) -> Result<(), ApiError> {
        if self.unsaved_index_changes() >= SNAPSHOT_EVERY {
            self.save_index().await?;
        }
        Ok(())
    }

    pub async fn get_dream(&self, id: &str) -> Result<Dream, ApiError> {
        Ok(self
            .store
            .get_dream(id)
            .await?
            .ok_or_else(|| not_found(id))?
            .dream)
    }

    /// The dream captured from a conversation page, if any.
    pub async fn dream_of_url(&self, url: &str) -> Result<Option<Dream>, ApiError> {
        let Some((site, site_id)) = conversation_of_url(url) else {
            return Ok(None);
        };
        let id = conversation_id(site, Some(&site_id), "", "");
        Ok(self.store.get_dream(&id).await?.map(|s| s.dream))
    }

    async fn all_summaries(&mut self) -> Result<&Vec<DreamSummary>, ApiError> {
        if self.summaries.is_none() {
            self.summaries = Some(self.store.all_summaries().await?);
        }
        Ok(self.summaries.get_or_insert_with(Vec::new))
    }

    /// Dreams newest first, filtered and paged.
    pub async fn list(
        &mut self,
        offset: u32,
        limit: u32,
        filter: &DreamFilter,
    ) -> Result<DreamPage, ApiError> {
        if *filter == DreamFilter::default() && self.summaries.is_none() {
            let total = self.store.count_dreams().await?;
            let items = self.store.page_summaries(offset, limit).await?;
            return Ok(DreamPage {
                total,
                offset,
                items,
            });
        }
        let all = self.all_summaries().await?;
        let matching: Vec<&DreamSummary> = all.iter().filter(|s| matches(s, filter)).collect();
        let items = matching
            .iter()
            .skip(offset as usize)
            .take(limit as usize)
            .map(|s| (*s).clone())
            .collect();
        Ok(DreamPage {
            total: matching.len() as u32,
            offset,
            items,
        })
    }

    /// Ranks the dreams matching `query` and `filter`, or takes the ranking of the same
    /// search from the cache.
    async fn ranking(
        &mut self,
        query: &str,
        filter: &DreamFilter,
        now: Timestamp,
    ) -> Result<Ranking, ApiError> {
        if let Some(cached) = &self.last_ranking
            && cached.generation == self.generation
            && cached.query == query
            && cached.filter == *filter
        {
            return Ok(cached.ranking.clone());
        }
        let mut ranking = rank_dreams(self.index().await?, query, filter, now);
        let list_only = DreamFilter {
            since: filter.since,
            until: filter.until,
            unopened_only: filter.unopened_only,
            ..DreamFilter::default()
        };
        if list_only != DreamFilter::default() {
            let all = self.all_summaries().await?;
            let passing: HashSet<&str> = all
                .iter()
                .filter(|s| matches(s, &list_only))
                .map(|s| s.id.as_str())
                .collect();
            ranking
                .dreams
                .retain(|hit| passing.contains(hit.dream_id.as_str()));
        }
        self.last_ranking = Some(CachedRanking {
            query: query.to_string(),
            filter: filter.clone(),
            generation: self.generation,
            ranking: ranking.clone(),
        });
        Ok(ranking)
    }

    /// A result as the popup shows it: the stored summary, the text around the match with
    /// the matches marked (title too), where in the dream the match is.
    fn search_hit(stored: StoredDream, best: &DocumentHit, query: &str) -> SearchHit {
        let dream = &stored.dream;
        let (snippet, spans) = match best.snippet(dream, query, SNIPPET_CHARS) {
            Some(snippet) => (snippet.text, highlights(snippet.spans)),
            None => (stored.summary.preview.clone(), Vec::new()),
        };
        let content_key = code_block_of(best).and_then(|(message, block)| {
            let block = dream
                .conversation
                .messages
                .get(message)?
                .fragments
                .code_blocks
                .get(block)?;
            Some(block_key(block))
        });
        SearchHit {
            message_index: best_message(best, dream, query),
            content_key,
            snippet,
            highlights: spans,
            title_highlights: highlights(dreamcatcher_search::highlight(
                &dream.conversation.title,
                query,
            )),
            score: best.score,
            dream: stored.summary,
        }
    }

    /// Each of `items` (ranked hits, related dreams) with its dream as stored, in the order
    /// given, without those no longer stored: one store read (IndexedDB: one transaction whose
    /// requests run together), not one per dream.
    async fn with_stored<'a, T>(
        &self,
        items: &'a [T],
        dream_id: impl Fn(&T) -> &str,
    ) -> Result<Vec<(&'a T, StoredDream)>, ApiError> {
        let ids: Vec<String> = items.iter().map(|item| dream_id(item).to_string()).collect();
        let mut found = self.stored_by_id(&ids).await?;
        Ok(items
            .iter()
            .filter_map(|item| Some((item, found.remove(dream_id(item))?)))
            .collect())
    }

    /// The stored ones of these dreams by id, read at once.
    async fn stored_by_id(&self, ids: &[String]) -> Result<HashMap<String, StoredDream>, ApiError> {
        Ok(self
            .store
            .get_dreams(ids)
            .await?
            .into_iter()
            .map(|stored| (stored.dream.id().to_string(), stored))
            .collect())
    }

    /// One page of the dreams matching a query, best first, filtered.
    pub async fn search(
        &mut self,
        query: &str,
        offset: u32,
        limit: u32,
        filter: &DreamFilter,
        now: Timestamp,
    ) -> Result<SearchPage, ApiError> {
        let ranking = self.ranking(query, filter, now).await?;
        let start = (offset as usize).min(ranking.dreams.len());
        let end = start.saturating_add(limit as usize).min(ranking.dreams.len());
        // A dream deleted meanwhile is already out of the index; none is missing here.
        let hits = self
            .with_stored(&ranking.dreams[start..end], |best| &best.dream_id)
            .await?
            .into_iter()
            .map(|(best, stored)| Self::search_hit(stored, best, query))
            .collect();
        Ok(SearchPage {
            hits,
            total: u32::try_from(ranking.dreams.len()).unwrap_or(u32::MAX),
            offset,
            total_capped: ranking.capped,
        })
    }

    /// Completions of the last word of `prefix`, from the dreams that match it best.
    pub async fn suggest(
        &mut self,
        prefix: &str,
        limit: u32,
        now: Timestamp,
    ) -> Result<Vec<String>, ApiError> {
        let ranking = rank_dreams(self.index().await?, prefix, &DreamFilter::default(), now);
        let sources = &ranking.dreams[..ranking.dreams.len().min(COMPLETION_SOURCES)];
        let dreams: Vec<Dream> = self
            .with_stored(sources, |best| &best.dream_id)
            .await?
            .into_iter()
            .map(|(_, stored)| stored.dream)
            .collect();
        let texts = dreams.iter().flat_map(|dream| {
            let conversation = &dream.conversation;
            std::iter::once(conversation.title.as_str())
                .chain(conversation.messages.iter().map(|m| m.markdown.as_str()))
                .chain(dream.tags.iter().map(String::as_str))
                .chain(std::iter::once(dream.notes.as_str()))
        });
        Ok(completions(texts, prefix, limit as usize))
    }

    /// Dreams related to the conversation at `url` (when it was captured), by the relevance
    /// scorer: best first, each at least `min_score`.
    pub async fn related(
        &mut self,
        url: &str,
        min_score: f32,
        limit: u32,
        now: Timestamp,
    ) -> Result<(Option<String>, Vec<SearchHit>), ApiError> {
        let Some(dream) = self.dream_of_url(url).await? else {
            return Ok((None, Vec::new()));
        };
        let related = related_dreams(self.index().await?, &dream, min_score, limit as usize, now);
        let hits = self
            .with_stored(&related, |(dream_id, _)| dream_id)
            .await?
            .into_iter()
            .map(|((_, score), stored)| SearchHit {
                snippet: stored.summary.preview.clone(),
                dream: stored.summary,
                score: *score,
                message_index: None,
                content_key: None,
                highlights: Vec::new(),
                title_highlights: Vec::new(),
            })
            .collect();
        Ok((Some(dream.id().to_string()), hits))
    }

    pub async fn fragment(&self, content_key: &str) -> Result<FragmentRecord, ApiError> {
        self.store
            .get_fragments(&[content_key.to_string()])
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::NotFound,
                    format!("No fragment with content key {content_key:?}."),
                )
            })
    }

    pub async fn fragments(
        &self,
        offset: u32,
        limit: u32,
        language: Option<&str>,
    ) -> Result<FragmentPage, ApiError> {
        let (total, items) = self.store.page_fragments(offset, limit, language).await?;
        Ok(FragmentPage {
            total,
            offset,
            items,
        })
    }

    pub async fn facets(&mut self) -> Result<Facets, ApiError> {
        let all = self.all_summaries().await?;
        Ok(Facets {
            sites: facet(all.iter().map(|s| s.site.as_str())),
            languages: facet(
                all.iter()
                    .flat_map(|s| s.languages.iter().map(String::as_str)),
            ),
            tags: facet(all.iter().flat_map(|s| s.tags.iter().map(String::as_str))),
            oldest: all.iter().map(|s| s.updated_at).min(),
            newest: all.iter().map(|s| s.updated_at).max(),
        })
    }

    /// Dreams not opened since they were captured: the badge.
    pub async fn unopened_count(&mut self) -> Result<u32, ApiError> {
        Ok(self
            .all_summaries()
            .await?
            .iter()
            .filter(|s| !s.opened)
            .count() as u32)
    }

    pub async fn stats(&mut self) -> Result<Stats, ApiError> {
        Ok(Stats {
            dreams: self.store.count_dreams().await?,
            fragments: self.store.count_fragments().await?,
            unopened: self.unopened_count().await?,
            in_trash: self.store.all_trash().await?.len() as u32,
            storage_used_bytes: None,
            storage_quota_bytes: None,
        })
    }

    pub async fn save_settings(&mut self, settings: Settings) -> Result<Settings, ApiError> {
        crate::settings::validate(&settings)?;
        let text = serde_json::to_string(&settings).map_err(|e| {
            ApiError::new(
                ErrorCode::Internal,
                format!("settings could not be written: {e}"),
            )
        })?;
        let mut batch = WriteBatch {
            put_meta: vec![(SETTINGS_KEY.to_string(), text)],
            ..WriteBatch::default()
        };
        // Choosing standalone mode ends the pairing; unsent changes stay for a later one.
        let unpairing = settings.mode == Mode::Standalone && self.link.is_some();
        if unpairing {
            batch.put_meta.push(connected::unlink_entry());
        }
        self.store.commit(batch).await?;
        if unpairing {
            self.link = None;
        }
        self.settings = settings.clone();
        Ok(settings)
    }

    /// A file of one dream or of everything.
    pub async fn export(
        &self,
        scope: &ExportScope,
        format: ExportFormat,
    ) -> Result<ExportedFile, ApiError> {
        let dreams = match scope {
            ExportScope::All => self.store.all_dreams().await?,
            ExportScope::Dream { id } => vec![self.get_dream(id).await?],
        };
        let stem = match (scope, dreams.first()) {
            (ExportScope::Dream { .. }, Some(dream)) => {
                dreamcatcher_export::file_stem(&dream.conversation)
            }
            _ => "dreamcatcher-library".to_string(),
        };
        let zip = |dreams: &[Dream]| -> Result<ExportedFile, ApiError> {
            let bytes = dreamcatcher_export::write_zip(dreams)
                .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?;
            Ok(ExportedFile {
                file_name: format!("{stem}.zip"),
                mime_type: "application/zip".into(),
                text: None,
                base64: Some(base64_encode(&bytes)),
            })
        };
        match (format, scope) {
            (ExportFormat::Json, _) => Ok(ExportedFile {
                file_name: format!("{stem}.json"),
                mime_type: "application/json".into(),
                text: Some(dreamcatcher_export::write_library_json(&dreams)),
                base64: None,
            }),
            (ExportFormat::Markdown, ExportScope::Dream { .. }) => Ok(ExportedFile {
                file_name: format!("{stem}.md"),
                mime_type: "text/markdown".into(),
                text: Some(
                    dreams
                        .iter()
                        .map(dreamcatcher_export::dream_markdown)
                        .collect(),
                ),
                base64: None,
            }),
            (ExportFormat::Markdown | ExportFormat::Zip, _) => zip(&dreams),
        }
    }

    pub fn import_begin(&mut self, file_name: &str, total_bytes: u64) -> String {
        self.imports_started += 1;
        let import_id = format!("import-{}", self.imports_started);
        self.imports.insert(
            import_id.clone(),
            ImportSession {
                file_name: file_name.to_string(),
                total_bytes,
                bytes_received: 0,
                bytes: Vec::new(),
                reader: None,
                summary: ImportSummary::default(),
                finished: false,
                error: None,
            },
        );
        import_id
    }

    fn import_session(&mut self, import_id: &str) -> Result<&mut ImportSession, ApiError> {
        self.imports.get_mut(import_id).ok_or_else(|| {
            ApiError::new(ErrorCode::NotFound, format!("No import {import_id:?} is running (the worker may have restarted): start it again."))
        })
    }

    /// Appends bytes; the last chunk opens the file (its format and where each conversation
    /// is; a broken file fails here, before anything is stored). The conversations are then
    /// stored by [`Library::import_step`].
    pub fn import_chunk(
        &mut self,
        import_id: &str,
        data: &[u8],
        last: bool,
    ) -> Result<ImportProgress, ApiError> {
        let session = self.import_session(import_id)?;
        if session.reader.is_some() {
            return Err(ApiError::new(
                ErrorCode::InvalidRequest,
                format!("import {import_id:?} already has its last chunk"),
            ));
        }
        session.bytes.extend_from_slice(data);
        session.bytes_received += data.len() as u64;
        if last {
            let bytes = std::mem::take(&mut session.bytes);
            match ImportReader::open(&session.file_name, bytes) {
                Ok(reader) => {
                    session.finished = reader.is_finished();
                    session.reader = Some(reader);
                }
                Err(error) => {
                    self.imports.remove(import_id);
                    return Err(ApiError::new(ErrorCode::InvalidRequest, error.to_string()));
                }
            }
        }
        Ok(session.progress(import_id))
    }

    /// Reads the next batch of an import's conversations and stores it (one transaction).
    /// A failure ends the import with the error in its progress; what was stored stays.
    pub async fn import_step(
        &mut self,
        import_id: &str,
        now: Timestamp,
    ) -> Result<ImportProgress, ApiError> {
        let result = self.import_batch(import_id, now).await;
        let session = self.import_session(import_id)?;
        match result {
            Ok(()) => Ok(session.progress(import_id)),
            Err(error) => {
                session.finished = true;
                session.error = Some(error.clone());
                Err(error)
            }
        }
    }

    async fn import_batch(&mut self, import_id: &str, now: Timestamp) -> Result<(), ApiError> {
        let batch_size = self.import_batch_size;
        let session = self.import_session(import_id)?;
        if session.finished {
            return Ok(());
        }
        let reader = session.reader.as_ref().ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidRequest,
                format!("import {import_id:?} has not received its last chunk yet"),
            )
        })?;
        let batch = reader
            .read_batch(batch_size)
            .map_err(|e| ApiError::new(ErrorCode::InvalidRequest, e.to_string()))?;
        let Batch {
            items,
            skipped,
            entries,
        } = batch;
        let stored = self.store_items(items, now).await?;
        let session = self.import_session(import_id)?;
        let finished = match session.reader.as_mut() {
            Some(reader) => {
                reader.advance(entries);
                reader.is_finished()
            }
            None => true,
        };
        session.summary.added += stored.added;
        session.summary.updated += stored.updated;
        session.summary.unchanged += stored.unchanged;
        session.summary.skipped.extend(skipped);
        session.finished = finished;
        if finished {
            self.save_index().await?;
        }
        Ok(())
    }

    pub fn import_status(&mut self, import_id: &str) -> Result<ImportProgress, ApiError> {
        Ok(self.import_session(import_id)?.progress(import_id))
    }

    /// Imports a whole file at once (the CLI and tests; the extension goes step by step).
    pub async fn import_file(
        &mut self,
        file_name: &str,
        bytes: &[u8],
        now: Timestamp,
    ) -> Result<ImportSummary, ApiError> {
        let import_id = self.import_begin(file_name, bytes.len() as u64);
        let outcome = self.import_all(&import_id, bytes, now).await;
        self.imports.remove(&import_id);
        outcome
    }

    async fn import_all(
        &mut self,
        import_id: &str,
        bytes: &[u8],
        now: Timestamp,
    ) -> Result<ImportSummary, ApiError> {
        let mut progress = self.import_chunk(import_id, bytes, true)?;
        while progress.summary.is_none() {
            progress = self.import_step(import_id, now).await?;
        }
        Ok(progress.summary.unwrap_or_default())
    }
}

pub(crate) fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub(crate) fn base64_decode(text: &str) -> Result<Vec<u8>, ApiError> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| {
            ApiError::new(
                ErrorCode::InvalidRequest,
                format!("import chunk is not valid base64: {e}"),
            )
        })
}
