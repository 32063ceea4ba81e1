//! The sync crate's [`ServerStore`] on the SQL database.

use dreamcatcher_sync::server::{OperationCommit, ServerStore, StoredDreamState, UserId};
use dreamcatcher_sync::{Cursor, OpId, SequencedEvent, ServerEvent};
use tokio::sync::Mutex;

use super::{Committed, Database, StoreError, WriteTx, dreams, now_millis};

/// The sync store for one batch of work (one `push`, one REST change).
///
/// The first call that decides or writes begins a transaction holding the user's lock;
/// everything after it reads and writes inside that transaction, so a batch sees its own
/// writes and nobody else's half-done ones. [`finish`](Self::finish) commits; dropping the
/// store without it rolls everything back, so nothing is acknowledged that was not stored.
/// Calls that only read (`latest_cursor`, `events_after`) before any write use the pool.
pub struct SyncStore<'a> {
    db: &'a Database,
    tx: Mutex<Option<WriteTx>>,
}

/// The numeric users.id behind a sync [`UserId`].
pub fn user_key(user: &UserId) -> Result<i64, StoreError> {
    user.0
        .parse()
        .map_err(|_| StoreError::UnknownUser(user.0.clone()))
}

/// The sync [`UserId`] of a users.id.
pub fn user_id(key: i64) -> UserId {
    UserId(key.to_string())
}

impl<'a> SyncStore<'a> {
    pub fn new(db: &'a Database) -> Self {
        SyncStore {
            db,
            tx: Mutex::new(None),
        }
    }

    /// Commits what was written.
    pub async fn finish(self) -> Result<Committed, StoreError> {
        match self.tx.into_inner() {
            Some(tx) => tx.commit().await,
            None => Ok(Committed::default()),
        }
    }

    /// Runs `action` in the user's write transaction, beginning it if needed.
    async fn in_tx<T>(
        &self,
        user: &UserId,
        action: impl AsyncFnOnce(&mut WriteTx, i64) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let key = user_key(user)?;
        let mut guard = self.tx.lock().await;
        let tx = match &mut *guard {
            Some(tx) if tx.locked_user() == Some(key) => tx,
            Some(_) => return Err(StoreError::UnknownUser(user.0.clone())),
            slot @ None => slot.insert(self.db.begin_for_user(key).await?),
        };
        action(tx, key).await
    }

    /// Runs a read in the transaction when one is open, else on a pooled connection.
    async fn read<T>(
        &self,
        user: &UserId,
        action: impl AsyncFnOnce(&mut super::Conn<'_>, i64) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let key = user_key(user)?;
        let mut guard = self.tx.lock().await;
        match &mut *guard {
            Some(tx) => action(&mut tx.conn(), key).await,
            None => {
                drop(guard);
                let mut pooled = self.db.acquire().await?;
                action(&mut pooled.conn(), key).await
            }
        }
    }
}

impl ServerStore for SyncStore<'_> {
    type Error = StoreError;

    async fn is_recorded(&self, user: &UserId, op_id: &OpId) -> Result<bool, StoreError> {
        self.in_tx(user, async |tx, key| {
            dreams::is_recorded(&mut tx.conn(), key, op_id.as_str()).await
        })
        .await
    }

    async fn dream_state(
        &self,
        user: &UserId,
        dream_id: &str,
    ) -> Result<Option<StoredDreamState>, StoreError> {
        self.in_tx(user, async |tx, key| {
            dreams::dream_state(&mut tx.conn(), key, dream_id).await
        })
        .await
    }

    async fn commit_operation(
        &self,
        user: &UserId,
        commit: OperationCommit,
    ) -> Result<Vec<SequencedEvent>, StoreError> {
        self.in_tx(user, async |tx, _| {
            tx.commit_operation(&commit, now_millis()).await
        })
        .await
    }

    async fn append_events(
        &self,
        user: &UserId,
        events: Vec<ServerEvent>,
    ) -> Result<Vec<SequencedEvent>, StoreError> {
        self.in_tx(user, async |tx, _| {
            tx.append_events(&events, now_millis()).await
        })
        .await
    }

    async fn events_after(
        &self,
        user: &UserId,
        after: Cursor,
        limit: usize,
    ) -> Result<Vec<SequencedEvent>, StoreError> {
        self.read(user, async |c, key| {
            dreams::events_after(c, key, after, limit).await
        })
        .await
    }

    async fn latest_cursor(&self, user: &UserId) -> Result<Cursor, StoreError> {
        let key = user_key(user)?;
        let guard = self.tx.lock().await;
        match &*guard {
            Some(tx) if tx.locked_user() == Some(key) => Ok(tx.user_cursor()),
            Some(_) => Err(StoreError::UnknownUser(user.0.clone())),
            None => {
                drop(guard);
                let mut pooled = self.db.acquire().await?;
                dreams::latest_cursor(&mut pooled.conn(), key).await
            }
        }
    }
}
