//! [`DreamStore`] on IndexedDB (the `idb` crate), shared by the service worker and the popup
//! (one extension origin, one database).
//!
//! Records are JSON text beside the few fields IndexedDB indexes, so what is stored is exactly
//! the serde form the rest of Dreamcatcher reads. Every [`WriteBatch`] is one readwrite
//! transaction, and `commit` returns only after its `complete` event: then the data is on disk.
//!
//! Schema (version = [`SCHEMA_VERSION`]):
//! - `dreams` (key `id`): `{id, seq, data}`; index `seq`.
//! - `summaries` (key `id`): `{id, updated, data}`; index `updated` (ms since epoch).
//! - `fragments` (key `key`): `{key, language, last_seen, data}`; indexes `last_seen` and
//!   `language_last_seen` (`[language, last_seen]`).
//! - `trash` (key `token`): `{token, data}`.
//! - `tombstones` (key `id`): `{id, seq}`; index `seq`.
//! - `meta` (out-of-line keys): `last_seq` (number), `settings` (JSON text),
//!   `index_snapshot` (`{seq, data: Uint8Array}`), the sync link, device id, cursor.
//! - `outbox` (key `position`, version 2): `{position, op_id, data}`; index `op_id`. The sync
//!   operations not yet acknowledged, in append order.

use idb::{
    CursorDirection, Database, DatabaseEvent, Factory, IndexParams, KeyPath, KeyRange,
    ObjectStoreParams, Query, TransactionMode, TransactionResult,
};
use js_sys::{Array, Object, Reflect, Uint8Array};
use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::JsValue;

use dreamcatcher_library::api::{DreamSummary, FragmentRecord};
use dreamcatcher_library::store::{
    IndexSnapshot, OutboxEntry, StoredDream, Tombstone, TrashEntry, WriteBatch, newest_first,
};
use dreamcatcher_library::{DreamStore, SCHEMA_VERSION, StoreError};
use dreamcatcher_model::Dream;

use crate::error::{Context, JsFailure};

pub const DATABASE_NAME: &str = "dreamcatcher";

const DREAMS: &str = "dreams";
const SUMMARIES: &str = "summaries";
const FRAGMENTS: &str = "fragments";
const TRASH: &str = "trash";
const TOMBSTONES: &str = "tombstones";
const META: &str = "meta";
const OUTBOX: &str = "outbox";
const ALL_STORES: [&str; 7] = [DREAMS, SUMMARIES, FRAGMENTS, TRASH, TOMBSTONES, META, OUTBOX];

const LAST_SEQ: &str = "last_seq";
const INDEX_SNAPSHOT: &str = "index_snapshot";
/// The number of dreams, kept up to date by every write: IndexedDB's count() walks the whole
/// store (~40 ms at 10,000 dreams), and the popup's first page would wait for it.
const DREAM_COUNT: &str = "dream_count";

/// Creates or upgrades the object stores, one step per schema version, so a database left by
/// any earlier version reaches the current layout.
fn migrate(database: &Database, old_version: u32) -> Result<(), JsFailure> {
    if old_version < 1 {
        let keyed = |key: &str| {
            let mut params = ObjectStoreParams::new();
            params.key_path(Some(KeyPath::new_single(key)));
            params
        };
        let dreams = database
            .create_object_store(DREAMS, keyed("id"))
            .context("create store dreams")?;
        dreams
            .create_index("seq", KeyPath::new_single("seq"), None)
            .context("create index dreams.seq")?;
        let summaries = database
            .create_object_store(SUMMARIES, keyed("id"))
            .context("create store summaries")?;
        summaries
            .create_index("updated", KeyPath::new_single("updated"), None)
            .context("create index summaries.updated")?;
        let fragments = database
            .create_object_store(FRAGMENTS, keyed("key"))
            .context("create store fragments")?;
        fragments
            .create_index("last_seen", KeyPath::new_single("last_seen"), None)
            .context("create index fragments.last_seen")?;
        let mut not_unique = IndexParams::new();
        not_unique.unique(false);
        fragments
            .create_index(
                "language_last_seen",
                KeyPath::new_array(["language", "last_seen"]),
                Some(not_unique),
            )
            .context("create index fragments.language_last_seen")?;
        database
            .create_object_store(TRASH, keyed("token"))
            .context("create store trash")?;
        let tombstones = database
            .create_object_store(TOMBSTONES, keyed("id"))
            .context("create store tombstones")?;
        tombstones
            .create_index("seq", KeyPath::new_single("seq"), None)
            .context("create index tombstones.seq")?;
        database
            .create_object_store(META, ObjectStoreParams::new())
            .context("create store meta")?;
    }
    if old_version < 2 {
        let mut params = ObjectStoreParams::new();
        params.key_path(Some(KeyPath::new_single("position")));
        let outbox = database
            .create_object_store(OUTBOX, params)
            .context("create store outbox")?;
        outbox
            .create_index("op_id", KeyPath::new_single("op_id"), None)
            .context("create index outbox.op_id")?;
        let mut not_unique = IndexParams::new();
        not_unique.unique(false);
        outbox
            .create_index("dream_id", KeyPath::new_single("dream_id"), Some(not_unique))
            .context("create index outbox.dream_id")?;
    }
    Ok(())
}

/// The library's IndexedDB database.
pub struct IdbStore {
    database: Database,
}

fn object(fields: &[(&str, JsValue)]) -> Result<JsValue, JsFailure> {
    let record = Object::new();
    for (name, value) in fields {
        Reflect::set(&record, &JsValue::from_str(name), value).context("build record")?;
    }
    Ok(record.into())
}

fn json<T: Serialize>(value: &T) -> Result<JsValue, JsFailure> {
    Ok(JsValue::from_str(
        &serde_json::to_string(value).context("serialise record")?,
    ))
}

fn field(record: &JsValue, name: &str) -> Result<JsValue, JsFailure> {
    Reflect::get(record, &JsValue::from_str(name)).context("read record field")
}

/// Reads the `data` JSON text of a stored record.
fn data<T: DeserializeOwned>(store: &str, record: &JsValue) -> Result<T, StoreError> {
    let key = field(record, "id")
        .ok()
        .and_then(|k| k.as_string())
        .unwrap_or_default();
    let corrupt = |detail: String| StoreError::Corrupt {
        store: store.to_string(),
        key: key.clone(),
        detail,
    };
    let text = field(record, "data")?
        .as_string()
        .ok_or_else(|| corrupt("no data text".into()))?;
    serde_json::from_str(&text).map_err(|e| corrupt(e.to_string()))
}

fn millis(time: &dreamcatcher_model::Timestamp) -> JsValue {
    JsValue::from_f64(time.timestamp_millis() as f64)
}

fn after(seq: u64) -> Result<Query, JsFailure> {
    Ok(Query::KeyRange(
        KeyRange::lower_bound(&JsValue::from_f64(seq as f64), Some(true)).context("key range")?,
    ))
}

impl IdbStore {
    /// Opens (creating or migrating) the database.
    pub async fn open(name: &str) -> Result<IdbStore, StoreError> {
        let factory = Factory::new()
            .context("indexedDB is not available")
            .map_err(open_error)?;
        let mut request = factory
            .open(name, Some(SCHEMA_VERSION))
            .context("open database")
            .map_err(open_error)?;
        request.on_upgrade_needed(|event| {
            let result = event
                .database()
                .context("upgrade: database")
                .and_then(|database| migrate(&database, event.old_version().unwrap_or(0)));
            if let Err(failure) = result {
                web_sys::console::error_1(&JsValue::from_str(&format!(
                    "Dreamcatcher database upgrade failed: {failure}"
                )));
            }
        });
        let database = request.await.context("open database").map_err(open_error)?;
        let store = IdbStore { database };
        store.keep_dream_count().await.map_err(open_error)?;
        Ok(store)
    }

    /// Counts the dreams once, for a database written before the count was kept.
    async fn keep_dream_count(&self) -> Result<(), JsFailure> {
        if self.get(META, DREAM_COUNT).await?.is_some() {
            return Ok(());
        }
        let transaction = self
            .database
            .transaction(&[DREAMS, META], TransactionMode::ReadWrite)
            .context("start count transaction")?;
        let count = transaction
            .object_store(DREAMS)
            .context(DREAMS)?
            .count(None)
            .context("count dreams")?
            .await
            .context("count dreams")?;
        transaction
            .object_store(META)
            .context(META)?
            .put(&JsValue::from_f64(f64::from(count)), Some(&JsValue::from_str(DREAM_COUNT)))
            .context("put dream count")?;
        finish(transaction, "count dreams").await
    }

    pub fn close(&self) {
        self.database.close();
    }

    fn read(&self, stores: &[&str]) -> Result<idb::Transaction, JsFailure> {
        self.database
            .transaction(stores, TransactionMode::ReadOnly)
            .context("start read transaction")
    }

    async fn get(&self, store: &str, key: &str) -> Result<Option<JsValue>, JsFailure> {
        let transaction = self.read(&[store])?;
        let object_store = transaction.object_store(store).context(store)?;
        object_store
            .get(JsValue::from_str(key))
            .context("get")?
            .await
            .context("get")
    }

    /// Reads several keys in one transaction: every request is issued before the first is
    /// awaited, so they run together.
    async fn get_many(&self, store: &str, keys: &[String]) -> Result<Vec<JsValue>, JsFailure> {
        let transaction = self.read(&[store])?;
        let object_store = transaction.object_store(store).context(store)?;
        let requests = keys
            .iter()
            .map(|key| object_store.get(JsValue::from_str(key)).context("get"))
            .collect::<Result<Vec<_>, _>>()?;
        let mut found = Vec::new();
        for request in requests {
            found.extend(request.await.context("get")?);
        }
        Ok(found)
    }

    async fn get_all(
        &self,
        store: &str,
        index: Option<&str>,
        query: Option<Query>,
    ) -> Result<Vec<JsValue>, JsFailure> {
        let transaction = self.read(&[store])?;
        let object_store = transaction.object_store(store).context(store)?;
        match index {
            Some(index) => {
                object_store
                    .index(index)
                    .context(index)?
                    .get_all(query, None)
                    .context("get all")?
                    .await
            }
            None => object_store.get_all(query, None).context("get all")?.await,
        }
        .context("get all")
    }

    async fn count(&self, store: &str) -> Result<u32, JsFailure> {
        let transaction = self.read(&[store])?;
        let object_store = transaction.object_store(store).context(store)?;
        object_store
            .count(None)
            .context("count")?
            .await
            .context("count")
    }

    /// Values of an index, newest first, skipping `offset` and taking `limit`; with how many
    /// the query matches when `counted` (counting walks every match).
    async fn page_backwards(
        &self,
        store: &str,
        index: &str,
        query: Option<Query>,
        offset: u32,
        limit: u32,
        counted: bool,
    ) -> Result<(Option<u32>, Vec<JsValue>), JsFailure> {
        let transaction = self.read(&[store])?;
        let index = transaction
            .object_store(store)
            .context(store)?
            .index(index)
            .context(index)?;
        let total = match counted {
            true => Some(index.count(query.clone()).context("count")?.await.context("count")?),
            false => None,
        };
        let mut values = Vec::new();
        if limit == 0 || total.is_some_and(|total| offset >= total) {
            return Ok((total, values));
        }
        let Some(cursor) = index
            .open_cursor(query, Some(CursorDirection::Prev))
            .context("open cursor")?
            .await
            .context("open cursor")?
        else {
            return Ok((total, values));
        };
        let mut cursor = cursor.into_managed();
        if offset > 0 {
            cursor.advance(offset).await.context("advance cursor")?;
        }
        while values.len() < limit as usize {
            match cursor.value().context("cursor value")? {
                Some(value) => values.push(value),
                None => break,
            }
            cursor.next(None).await.context("cursor next")?;
        }
        Ok((total, values))
    }

    async fn write(&self, batch: WriteBatch) -> Result<(), JsFailure> {
        let transaction = self
            .database
            .transaction(&ALL_STORES, TransactionMode::ReadWrite)
            .context("start write transaction")?;
        let store = |name: &str| transaction.object_store(name).context(name);
        let dreams = store(DREAMS)?;
        let summaries = store(SUMMARIES)?;
        let meta = store(META)?;
        let changes_dreams = !(batch.delete_dreams.is_empty() && batch.put_dreams.is_empty());
        let counted = match changes_dreams {
            true => Some(meta.get(JsValue::from_str(DREAM_COUNT)).context("get dream count")?),
            false => None,
        };
        // Each key is looked up just before it changes (requests run in order), so a batch
        // that deletes and puts the same dream counts it right.
        let mut deleted_checks = Vec::new();
        let mut put_checks = Vec::new();
        for id in &batch.delete_dreams {
            deleted_checks.push(
                dreams
                    .count(Some(Query::Key(JsValue::from_str(id))))
                    .context("look up dream")?,
            );
            dreams
                .delete(JsValue::from_str(id))
                .context("delete dream")?;
            summaries
                .delete(JsValue::from_str(id))
                .context("delete summary")?;
        }
        for stored in &batch.put_dreams {
            let id = JsValue::from_str(stored.dream.id());
            put_checks.push(
                dreams
                    .count(Some(Query::Key(id.clone())))
                    .context("look up dream")?,
            );
            let seq = JsValue::from_f64(stored.seq as f64);
            dreams
                .put(
                    &object(&[("id", id.clone()), ("seq", seq), ("data", json(stored)?)])?,
                    None,
                )
                .context("put dream")?;
            let summary = object(&[
                ("id", id),
                ("updated", millis(&stored.summary.updated_at)),
                ("data", json(&stored.summary)?),
            ])?;
            summaries.put(&summary, None).context("put summary")?;
        }
        // Without a stored count (never the case once open) there is nothing to adjust:
        // count_dreams then counts the store.
        let kept = match counted {
            Some(request) => request.await.context("get dream count")?.and_then(|v| v.as_f64()),
            None => None,
        };
        if let Some(mut count) = kept {
            for check in deleted_checks {
                count -= f64::from(check.await.context("look up dream")?.min(1));
            }
            for check in put_checks {
                count += f64::from(1 - check.await.context("look up dream")?.min(1));
            }
            meta.put(&JsValue::from_f64(count.max(0.0)), Some(&JsValue::from_str(DREAM_COUNT)))
                .context("put dream count")?;
        }
        let fragments = store(FRAGMENTS)?;
        for key in &batch.delete_fragments {
            fragments
                .delete(JsValue::from_str(key))
                .context("delete fragment")?;
        }
        for fragment in &batch.put_fragments {
            let record = object(&[
                ("key", JsValue::from_str(&fragment.content_key)),
                ("id", JsValue::from_str(&fragment.content_key)),
                ("language", JsValue::from_str(&fragment.code_block.language)),
                ("last_seen", millis(&fragment.last_seen)),
                ("data", json(fragment)?),
            ])?;
            fragments.put(&record, None).context("put fragment")?;
        }
        let trash = store(TRASH)?;
        for token in &batch.delete_trash {
            trash
                .delete(JsValue::from_str(token))
                .context("delete trash entry")?;
        }
        for entry in &batch.put_trash {
            let token = JsValue::from_str(&entry.undo_token);
            trash
                .put(
                    &object(&[
                        ("token", token.clone()),
                        ("id", token),
                        ("data", json(entry)?),
                    ])?,
                    None,
                )
                .context("put trash entry")?;
        }
        let tombstones = store(TOMBSTONES)?;
        if let Some(through) = batch.drop_tombstones_through {
            let range = KeyRange::upper_bound(&JsValue::from_f64(through as f64), Some(false))
                .context("key range")?;
            let index = tombstones.index("seq").context("tombstones.seq")?;
            let keys = index
                .get_all_keys(Some(Query::KeyRange(range)), None)
                .context("old tombstones")?
                .await
                .context("old tombstones")?;
            for key in keys {
                tombstones.delete(key).context("delete tombstone")?;
            }
        }
        for tombstone in &batch.put_tombstones {
            let record = object(&[
                ("id", JsValue::from_str(&tombstone.dream_id)),
                ("seq", JsValue::from_f64(tombstone.seq as f64)),
            ])?;
            tombstones.put(&record, None).context("put tombstone")?;
        }
        for (key, value) in &batch.put_meta {
            meta.put(&JsValue::from_str(value), Some(&JsValue::from_str(key)))
                .context("put meta")?;
        }
        if let Some(snapshot) = &batch.put_index_snapshot {
            let bytes: JsValue = Uint8Array::from(snapshot.data.as_slice()).into();
            let record = object(&[
                ("seq", JsValue::from_f64(snapshot.seq as f64)),
                ("data", bytes),
            ])?;
            meta.put(&record, Some(&JsValue::from_str(INDEX_SNAPSHOT)))
                .context("put index snapshot")?;
        }
        if let Some(seq) = batch.last_seq {
            meta.put(
                &JsValue::from_f64(seq as f64),
                Some(&JsValue::from_str(LAST_SEQ)),
            )
            .context("put last_seq")?;
        }
        let outbox = store(OUTBOX)?;
        if !batch.delete_outbox.is_empty() {
            let by_op_id = outbox.index("op_id").context("outbox.op_id")?;
            for op_id in &batch.delete_outbox {
                let key = by_op_id
                    .get_key(JsValue::from_str(op_id))
                    .context("find outbox entry")?
                    .await
                    .context("find outbox entry")?;
                if let Some(key) = key {
                    outbox.delete(key).context("delete outbox entry")?;
                }
            }
        }
        for entry in &batch.put_outbox {
            let record = object(&[
                ("position", JsValue::from_f64(entry.position as f64)),
                ("op_id", JsValue::from_str(entry.operation.op_id.as_str())),
                ("dream_id", JsValue::from_str(&entry.operation.dream_id)),
                ("id", JsValue::from_str(entry.operation.op_id.as_str())),
                ("data", json(&entry.operation)?),
            ])?;
            outbox.put(&record, None).context("put outbox entry")?;
        }
        finish(transaction, "commit").await
    }
}

/// Commits a read-write transaction, reporting an abort as a failure of `what`.
async fn finish(transaction: idb::Transaction, what: &str) -> Result<(), JsFailure> {
    match transaction.commit().context(what)?.await.context(what)? {
        TransactionResult::Committed => Ok(()),
        TransactionResult::Aborted => Err(JsFailure::new(what, "the transaction was aborted")),
    }
}

fn outbox_entries(records: &[JsValue]) -> Result<Vec<OutboxEntry>, StoreError> {
    records
        .iter()
        .map(|record| {
            let position = field(record, "position")?.as_f64().unwrap_or(0.0) as u64;
            Ok(OutboxEntry {
                position,
                operation: data(OUTBOX, record)?,
            })
        })
        .collect()
}

fn open_error(failure: JsFailure) -> StoreError {
    StoreError::Open(failure.to_string())
}

fn all_data<T: DeserializeOwned>(store: &str, records: Vec<JsValue>) -> Result<Vec<T>, StoreError> {
    records.iter().map(|record| data(store, record)).collect()
}

impl DreamStore for IdbStore {
    async fn commit(&self, batch: WriteBatch) -> Result<(), StoreError> {
        Ok(self.write(batch).await?)
    }

    async fn get_dream(&self, id: &str) -> Result<Option<StoredDream>, StoreError> {
        self.get(DREAMS, id)
            .await?
            .map(|record| data(DREAMS, &record))
            .transpose()
    }

    async fn get_dreams(&self, ids: &[String]) -> Result<Vec<StoredDream>, StoreError> {
        all_data(DREAMS, self.get_many(DREAMS, ids).await?)
    }

    async fn dreams_changed_after(&self, seq: u64) -> Result<Vec<StoredDream>, StoreError> {
        all_data(
            DREAMS,
            self.get_all(DREAMS, Some("seq"), Some(after(seq)?)).await?,
        )
    }

    async fn tombstones_after(&self, seq: u64) -> Result<Vec<Tombstone>, StoreError> {
        let records = self
            .get_all(TOMBSTONES, Some("seq"), Some(after(seq)?))
            .await?;
        let mut tombstones = Vec::with_capacity(records.len());
        for record in records {
            let dream_id = field(&record, "id")?.as_string().unwrap_or_default();
            let seq = field(&record, "seq")?.as_f64().unwrap_or(0.0) as u64;
            tombstones.push(Tombstone { dream_id, seq });
        }
        Ok(tombstones)
    }

    async fn all_dreams(&self) -> Result<Vec<Dream>, StoreError> {
        let mut stored: Vec<StoredDream> =
            all_data(DREAMS, self.get_all(DREAMS, None, None).await?)?;
        stored.sort_by(|a, b| newest_first(&a.summary, &b.summary));
        Ok(stored.into_iter().map(|s| s.dream).collect())
    }

    async fn count_dreams(&self) -> Result<u32, StoreError> {
        match self.get(META, DREAM_COUNT).await?.and_then(|v| v.as_f64()) {
            Some(count) => Ok(count as u32),
            None => Ok(self.count(DREAMS).await?),
        }
    }

    async fn page_summaries(
        &self,
        offset: u32,
        limit: u32,
    ) -> Result<Vec<DreamSummary>, StoreError> {
        let (_, records) = self
            .page_backwards(SUMMARIES, "updated", None, offset, limit, false)
            .await?;
        all_data(SUMMARIES, records)
    }

    async fn all_summaries(&self) -> Result<Vec<DreamSummary>, StoreError> {
        let mut all: Vec<DreamSummary> =
            all_data(SUMMARIES, self.get_all(SUMMARIES, None, None).await?)?;
        all.sort_by(newest_first);
        Ok(all)
    }

    async fn get_fragments(
        &self,
        content_keys: &[String],
    ) -> Result<Vec<FragmentRecord>, StoreError> {
        all_data(FRAGMENTS, self.get_many(FRAGMENTS, content_keys).await?)
    }

    async fn page_fragments(
        &self,
        offset: u32,
        limit: u32,
        language: Option<&str>,
    ) -> Result<(u32, Vec<FragmentRecord>), StoreError> {
        let (index, query) = match language {
            Some(language) => {
                let bound = |edge: f64| -> JsValue {
                    Array::of2(&JsValue::from_str(language), &JsValue::from_f64(edge)).into()
                };
                let range = KeyRange::bound(&bound(f64::MIN), &bound(f64::MAX), None, None)
                    .context("key range")?;
                ("language_last_seen", Some(Query::KeyRange(range)))
            }
            None => ("last_seen", None),
        };
        let (total, records) = self
            .page_backwards(FRAGMENTS, index, query, offset, limit, true)
            .await?;
        Ok((total.unwrap_or_default(), all_data(FRAGMENTS, records)?))
    }

    async fn count_fragments(&self) -> Result<u32, StoreError> {
        Ok(self.count(FRAGMENTS).await?)
    }

    async fn get_trash(&self, undo_token: &str) -> Result<Option<TrashEntry>, StoreError> {
        self.get(TRASH, undo_token)
            .await?
            .map(|record| data(TRASH, &record))
            .transpose()
    }

    async fn all_trash(&self) -> Result<Vec<TrashEntry>, StoreError> {
        all_data(TRASH, self.get_all(TRASH, None, None).await?)
    }

    async fn get_meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .get(META, key)
            .await?
            .and_then(|value| value.as_string()))
    }

    async fn load_index_snapshot(&self) -> Result<Option<IndexSnapshot>, StoreError> {
        let Some(record) = self.get(META, INDEX_SNAPSHOT).await? else {
            return Ok(None);
        };
        let seq = field(&record, "seq")?.as_f64().unwrap_or(0.0) as u64;
        let bytes = Uint8Array::new(&field(&record, "data")?).to_vec();
        Ok(Some(IndexSnapshot { seq, data: bytes }))
    }

    async fn last_seq(&self) -> Result<u64, StoreError> {
        Ok(self
            .get(META, LAST_SEQ)
            .await?
            .and_then(|v| v.as_f64())
            .unwrap_or(0.0) as u64)
    }

    async fn outbox(&self) -> Result<Vec<OutboxEntry>, StoreError> {
        outbox_entries(&self.get_all(OUTBOX, None, None).await?)
    }

    async fn count_outbox(&self) -> Result<usize, StoreError> {
        Ok(self.count(OUTBOX).await? as usize)
    }

    async fn outbox_for_dreams(&self, dream_ids: &[String]) -> Result<Vec<OutboxEntry>, StoreError> {
        let transaction = self.read(&[OUTBOX])?;
        let by_dream = transaction
            .object_store(OUTBOX)
            .context(OUTBOX)?
            .index("dream_id")
            .context("outbox.dream_id")?;
        let requests = dream_ids
            .iter()
            .map(|id| {
                by_dream
                    .get_all(Some(Query::Key(JsValue::from_str(id))), None)
                    .context("outbox by dream")
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut records = Vec::new();
        for request in requests {
            records.extend(request.await.context("outbox by dream")?);
        }
        let mut entries = outbox_entries(&records)?;
        entries.sort_by_key(|e| e.position);
        entries.dedup_by_key(|e| e.position);
        Ok(entries)
    }

    async fn clear_library(&self) -> Result<(), StoreError> {
        let transaction = self
            .database
            .transaction(&ALL_STORES, TransactionMode::ReadWrite)
            .context("start clear transaction")?;
        for name in [DREAMS, SUMMARIES, FRAGMENTS, TRASH, TOMBSTONES] {
            transaction
                .object_store(name)
                .context(name)?
                .clear()
                .context("clear")?;
        }
        let meta = transaction.object_store(META).context(META)?;
        meta.delete(JsValue::from_str(INDEX_SNAPSHOT))
            .context("delete snapshot")?;
        meta.put(&JsValue::from_f64(0.0), Some(&JsValue::from_str(DREAM_COUNT)))
            .context("put dream count")?;
        Ok(finish(transaction, "clear library").await?)
    }
}
