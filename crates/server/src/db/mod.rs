//! Storage on SQLite (one file, WAL) or PostgreSQL, with the same queries on both.
//!
//! Queries are written once with `$n` placeholders (both drivers read them) and run on a
//! [`Conn`], which is either backend's connection; [`on_conn!`] expands a query body for
//! each backend. Writes go through a [`WriteTx`] that first updates the user's row, which
//! serialises one user's writers on either backend (PostgreSQL's row lock; SQLite's single
//! writer, taken at once instead of on a later statement).

pub mod accounts;
pub mod dreams;
pub mod projects;
pub mod sync_store;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnection, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{Postgres, Sqlite, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

pub use sync_store::SyncStore;

use dreamcatcher_sync::server::OperationCommit;
use dreamcatcher_sync::{Cursor, SequencedEvent, ServerEvent};

use crate::config::{DatabaseLocation, SQLITE_FILE_NAME};

/// The PostgreSQL channel on which instances tell each other that a user has new events.
pub const EVENTS_CHANNEL: &str = "dreamcatcher_events";

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("stored {what} is not valid JSON: {source}")]
    CorruptJson {
        what: &'static str,
        source: serde_json::Error,
    },
    #[error("stored {what} is out of range: {value}")]
    OutOfRange { what: &'static str, value: i64 },
    #[error("no user with id {0}")]
    UnknownUser(String),
    #[error("a user named {0:?} already exists")]
    UserExists(String),
}

/// One connection of either backend.
pub enum Conn<'c> {
    Sqlite(&'c mut SqliteConnection),
    Postgres(&'c mut PgConnection),
}

/// Runs `$body` with `$c` bound to the backend's `&mut &mut Connection`; use `&mut **$c`
/// as the executor. The body is compiled once per backend.
macro_rules! on_conn {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::db::Conn::Sqlite($c) => $body,
            $crate::db::Conn::Postgres($c) => $body,
        }
    };
}
pub(crate) use on_conn;

#[derive(Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A connection borrowed from the pool.
pub enum PooledConn {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
}

impl PooledConn {
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            PooledConn::Sqlite(c) => Conn::Sqlite(c),
            PooledConn::Postgres(c) => Conn::Postgres(c),
        }
    }
}

enum TxInner {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// A write transaction. Dropping it without [`commit`](Self::commit) rolls back.
pub struct WriteTx {
    inner: TxInner,
    /// SQLite has one writer; waiting here rather than in SQLite's busy handler keeps
    /// many concurrent writers from timing out.
    _writer: Option<OwnedMutexGuard<()>>,
    locked_user: Option<i64>,
    /// The locked user's latest cursor as this transaction leaves it (read when locking,
    /// then advanced by each append): saves a query per read and per append.
    user_cursor: Cursor,
    committed: Committed,
    instance_id: Arc<str>,
}

/// What a committed transaction recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Committed {
    /// Users that got new events.
    pub users_with_events: BTreeSet<i64>,
    pub events: u64,
}

impl WriteTx {
    pub fn conn(&mut self) -> Conn<'_> {
        match &mut self.inner {
            TxInner::Sqlite(tx) => Conn::Sqlite(tx),
            TxInner::Postgres(tx) => Conn::Postgres(tx),
        }
    }

    /// The user whose row this transaction locked, if any.
    pub fn locked_user(&self) -> Option<i64> {
        self.locked_user
    }

    /// The locked user's latest cursor, this transaction's appends included.
    pub fn user_cursor(&self) -> Cursor {
        self.user_cursor
    }

    /// Appends events to the locked user's stream.
    pub async fn append_events(
        &mut self,
        events: &[ServerEvent],
        now: i64,
    ) -> Result<Vec<SequencedEvent>, StoreError> {
        let user = self.user_for_writes()?;
        let latest = self.user_cursor;
        let sequenced = dreams::append_events(&mut self.conn(), user, latest, events, now).await?;
        self.advance(user, &sequenced);
        Ok(sequenced)
    }

    /// Writes one processed operation of the locked user (see [`dreams::commit_operation`]).
    pub async fn commit_operation(
        &mut self,
        commit: &OperationCommit,
        now: i64,
    ) -> Result<Vec<SequencedEvent>, StoreError> {
        let user = self.user_for_writes()?;
        let latest = self.user_cursor;
        let sequenced =
            dreams::commit_operation(&mut self.conn(), user, latest, commit, now).await?;
        self.advance(user, &sequenced);
        Ok(sequenced)
    }

    fn user_for_writes(&self) -> Result<i64, StoreError> {
        self.locked_user
            .ok_or_else(|| StoreError::UnknownUser("(no user locked by this transaction)".into()))
    }

    fn advance(&mut self, user: i64, sequenced: &[SequencedEvent]) {
        if let Some(last) = sequenced.last() {
            self.user_cursor = last.cursor;
        }
        self.record_events(user, sequenced.len());
    }

    /// Remembers that `user` got `count` new events, to tell other instances and local
    /// clients after the commit.
    pub fn record_events(&mut self, user: i64, count: usize) {
        if count > 0 {
            self.committed.users_with_events.insert(user);
            self.committed.events += count as u64;
        }
    }

    /// Commits. On PostgreSQL the other instances are told about the new events in the
    /// same transaction (NOTIFY is delivered on commit).
    pub async fn commit(mut self) -> Result<Committed, StoreError> {
        let committed = std::mem::take(&mut self.committed);
        match self.inner {
            TxInner::Sqlite(tx) => tx.commit().await?,
            TxInner::Postgres(mut tx) => {
                for user in &committed.users_with_events {
                    sqlx::query("SELECT pg_notify($1, $2)")
                        .bind(EVENTS_CHANNEL)
                        .bind(notification_payload(*user, &self.instance_id))
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
            }
        }
        Ok(committed)
    }
}

/// `user_id:instance_id`: receivers skip their own notifications.
pub fn notification_payload(user: i64, instance_id: &str) -> String {
    format!("{user}:{instance_id}")
}

/// Reads a [`notification_payload`].
pub fn parse_notification_payload(payload: &str) -> Option<(i64, &str)> {
    let (user, instance) = payload.split_once(':')?;
    Some((user.parse().ok()?, instance))
}

/// The service's database.
#[derive(Clone)]
pub struct Database {
    pool: Pool,
    sqlite_writer: Option<Arc<Mutex<()>>>,
    postgres_url: Option<String>,
    instance_id: Arc<str>,
}

impl Database {
    /// Connects (creating the SQLite file and its directory when needed) and brings the
    /// schema up to date. `instance_id` names this process in PostgreSQL notifications.
    pub async fn open(location: &DatabaseLocation, instance_id: &str) -> Result<Self, StoreError> {
        let database = match location {
            DatabaseLocation::SqliteDir(dir) => {
                std::fs::create_dir_all(dir).map_err(|source| StoreError::DataDir {
                    path: dir.display().to_string(),
                    source,
                })?;
                let options = SqliteConnectOptions::new()
                    .filename(dir.join(SQLITE_FILE_NAME))
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    // With WAL, NORMAL loses no committed transaction when the process dies;
                    // only a power cut can take the last ones.
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(30));
                let pool = SqlitePoolOptions::new()
                    .max_connections(8)
                    // A local file does not go away: a ping per checkout is a wasted round
                    // trip to the connection's thread (measured on the sync benchmark).
                    .test_before_acquire(false)
                    .acquire_timeout(Duration::from_secs(30))
                    .connect_with(options)
                    .await?;
                SQLITE_MIGRATIONS.run(&pool).await?;
                Database {
                    pool: Pool::Sqlite(pool),
                    sqlite_writer: Some(Arc::new(Mutex::new(()))),
                    postgres_url: None,
                    instance_id: Arc::from(instance_id),
                }
            }
            DatabaseLocation::Postgres(url) => {
                let pool = PgPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect(url)
                    .await?;
                // The migrator holds an advisory lock: instances starting together are fine.
                POSTGRES_MIGRATIONS.run(&pool).await?;
                Database {
                    pool: Pool::Postgres(pool),
                    sqlite_writer: None,
                    postgres_url: Some(url.clone()),
                    instance_id: Arc::from(instance_id),
                }
            }
        };
        Ok(database)
    }

    pub fn backend_name(&self) -> &'static str {
        match self.pool {
            Pool::Sqlite(_) => "sqlite",
            Pool::Postgres(_) => "postgres",
        }
    }

    /// The PostgreSQL URL, for the notification listener.
    pub fn postgres_url(&self) -> Option<&str> {
        self.postgres_url.as_deref()
    }

    pub async fn acquire(&self) -> Result<PooledConn, StoreError> {
        Ok(match &self.pool {
            Pool::Sqlite(pool) => PooledConn::Sqlite(pool.acquire().await?),
            Pool::Postgres(pool) => PooledConn::Postgres(pool.acquire().await?),
        })
    }

    /// A write transaction not tied to one user's library (accounts, pairing).
    pub async fn begin(&self) -> Result<WriteTx, StoreError> {
        let writer = match &self.sqlite_writer {
            Some(lock) => Some(lock.clone().lock_owned().await),
            None => None,
        };
        let inner = match &self.pool {
            Pool::Sqlite(pool) => TxInner::Sqlite(pool.begin().await?),
            Pool::Postgres(pool) => TxInner::Postgres(pool.begin().await?),
        };
        Ok(WriteTx {
            inner,
            _writer: writer,
            locked_user: None,
            user_cursor: 0,
            committed: Committed::default(),
            instance_id: self.instance_id.clone(),
        })
    }

    /// A write transaction holding `user`'s lock: the user's other writers, on this
    /// instance or another, wait until it ends.
    pub async fn begin_for_user(&self, user: i64) -> Result<WriteTx, StoreError> {
        let mut tx = self.begin().await?;
        let latest: Option<i64> = on_conn!(&mut tx.conn(), c => sqlx::query_scalar(
            "UPDATE users SET last_cursor = last_cursor WHERE id = $1 RETURNING last_cursor"
        )
        .bind(user)
        .fetch_optional(&mut **c)
        .await?);
        let Some(latest) = latest else {
            return Err(StoreError::UnknownUser(user.to_string()));
        };
        tx.locked_user = Some(user);
        tx.user_cursor = non_negative("cursor", latest)?;
        Ok(tx)
    }

    /// Whether the database answers (for `/ready`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut pooled = self.acquire().await?;
        on_conn!(&mut pooled.conn(), c => sqlx::query("SELECT 1").execute(&mut **c).await.map(|_| ()))?;
        Ok(())
    }

    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(pool) => pool.close().await,
            Pool::Postgres(pool) => pool.close().await,
        }
    }
}

/// Converts a stored integer that must not be negative.
pub(crate) fn non_negative(what: &'static str, value: i64) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::OutOfRange { what, value })
}

/// Converts a count or cursor for storage.
pub(crate) fn to_sql_int(what: &'static str, value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::OutOfRange {
        what,
        value: i64::MAX,
    })
}

pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
    what: &'static str,
    text: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|source| StoreError::CorruptJson { what, source })
}

pub(crate) fn to_json<T: serde::Serialize>(
    what: &'static str,
    value: &T,
) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|source| StoreError::CorruptJson { what, source })
}

/// Unix milliseconds of now, as stored.
pub fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
