//! What a running service is told: where it listens, where it keeps its data, its limits.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The address `serve` listens on unless told otherwise: loopback only, so a fresh install
/// is not reachable from the network. [`ServerConfig::new`] uses the same.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8787";

/// The SQLite file inside the data directory.
pub const SQLITE_FILE_NAME: &str = "dreamcatcher.sqlite3";

/// The data directory when `--data` is not given: `$DREAMCATCHER_DATA`, else
/// `$XDG_DATA_HOME/dreamcatcher`, else `$HOME/.local/share/dreamcatcher`, else `./data`.
pub fn default_data_dir() -> PathBuf {
    let from_env = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
    if let Some(dir) = from_env("DREAMCATCHER_DATA") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = from_env("XDG_DATA_HOME") {
        return PathBuf::from(dir).join("dreamcatcher");
    }
    if let Some(home) = from_env("HOME") {
        return PathBuf::from(home).join(".local/share/dreamcatcher");
    }
    PathBuf::from("data")
}

/// Where the dreams are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseLocation {
    /// An embedded SQLite file (WAL mode) in this directory.
    SqliteDir(PathBuf),
    /// A PostgreSQL server (`postgres://…`); several instances may share it.
    Postgres(String),
}

impl DatabaseLocation {
    /// PostgreSQL when `database_url` is a `postgres://` or `postgresql://` URL, else the
    /// SQLite file in `data_dir`.
    pub fn choose(database_url: Option<&str>, data_dir: &Path) -> Result<Self, ConfigError> {
        match database_url.map(str::trim).filter(|url| !url.is_empty()) {
            None => Ok(DatabaseLocation::SqliteDir(data_dir.to_path_buf())),
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Ok(DatabaseLocation::Postgres(url.to_string()))
            }
            Some(url) => Err(ConfigError::UnsupportedDatabaseUrl {
                scheme: url.split(':').next().unwrap_or_default().to_string(),
            }),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "DATABASE_URL scheme {scheme:?} is not supported: use postgres://… or leave it unset for the SQLite file in --data"
    )]
    UnsupportedDatabaseUrl { scheme: String },
}

/// A token bucket: `per_second` requests on average, bursts of up to `burst`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub per_second: NonZeroU32,
    pub burst: NonZeroU32,
}

/// Everything the service needs to run.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    pub database: DatabaseLocation,
    /// Largest `POST /api/v1/conversations/capture` body, in bytes.
    pub max_capture_bytes: usize,
    /// Largest `POST /api/v1/dreams/import` body, in bytes.
    pub max_import_bytes: usize,
    /// Largest other JSON body (PATCH, pairing, orchestrator reports), in bytes.
    pub max_small_body_bytes: usize,
    /// Largest WebSocket message answered with a protocol error rather than a close; the
    /// transport closes the connection above this plus [`WS_TRANSPORT_SLACK_BYTES`].
    pub max_ws_message_bytes: usize,
    /// Per device token, over REST requests and WebSocket messages together; `None` = off.
    pub rate_limit: Option<RateLimit>,
    /// Per client address, for `POST /api/v1/pair` (pairing codes are short).
    pub pairing_rate_limit: RateLimit,
    pub pairing_code_ttl: Duration,
    /// Where `implement` forwards a project (`ORCHESTRATOR_URL`).
    pub orchestrator_url: Option<String>,
    /// Shared with the orchestrator (`ORCHESTRATOR_SECRET`): it authenticates the
    /// orchestrator's reports, and is sent along with forwarded projects.
    pub orchestrator_secret: Option<String>,
    pub orchestrator_timeout: Duration,
    /// The service's own address as the orchestrator reaches it, for the callback URL sent
    /// with a project; without it only the callback's path is sent.
    pub public_url: Option<String>,
    /// A connection must say `hello` within this time.
    pub ws_hello_timeout: Duration,
    /// The service pings a quiet WebSocket this often, and drops it after two unanswered.
    pub ws_ping_interval: Duration,
    /// A REST request taking longer is abandoned and answered 503.
    pub request_timeout: Duration,
}

/// Slack above [`ServerConfig::max_ws_message_bytes`] before the transport drops the
/// connection: a message a little over the limit still gets a readable protocol error.
pub const WS_TRANSPORT_SLACK_BYTES: usize = 1024 * 1024;

impl ServerConfig {
    /// Defaults for everything but where the data lives.
    pub fn new(database: DatabaseLocation) -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8787)),
            database,
            max_capture_bytes: 8 * 1024 * 1024,
            max_import_bytes: 64 * 1024 * 1024,
            max_small_body_bytes: 1024 * 1024,
            max_ws_message_bytes: dreamcatcher_sync::MAX_MESSAGE_BYTES,
            rate_limit: Some(RateLimit {
                per_second: nonzero(20),
                burst: nonzero(100),
            }),
            pairing_rate_limit: RateLimit {
                per_second: NonZeroU32::MIN,
                burst: nonzero(10),
            },
            pairing_code_ttl: Duration::from_secs(10 * 60),
            orchestrator_url: None,
            orchestrator_secret: None,
            orchestrator_timeout: Duration::from_secs(10),
            public_url: None,
            ws_hello_timeout: Duration::from_secs(15),
            ws_ping_interval: Duration::from_secs(30),
            request_timeout: Duration::from_secs(120),
        }
    }
}

/// For the constant limits above: zero is never passed.
const fn nonzero(value: u32) -> NonZeroU32 {
    match NonZeroU32::new(value) {
        Some(value) => value,
        None => NonZeroU32::MIN,
    }
}
