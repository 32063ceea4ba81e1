//! Starts the real service in-process on 127.0.0.1:0, on a SQLite file in a temporary
//! directory or on a fresh database of the PostgreSQL server named by DATABASE_URL_TEST,
//! and talks to it over HTTP and WebSocket.
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;

use dreamcatcher_model::Conversation;
use dreamcatcher_server::{DatabaseLocation, RunningServer, ServerConfig, accounts};
use dreamcatcher_sync::{ClientMessage, Cursor, Hello, PROTOCOL_VERSION, ServerMessage, Welcome};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use sqlx::Connection;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

pub const POSTGRES_ENV: &str = "DATABASE_URL_TEST";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Generates a `sqlite` and a `postgres` test for each named `async fn name(Backend)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::Backend::Postgres).await
                }
            )*
        }
    };
}

pub fn fixture_conversations() -> Vec<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/parse-output.json");
    let text = std::fs::read_to_string(path).expect("fixture");
    serde_json::from_str(&text).expect("fixture JSON")
}

/// The fixture conversation `index`, read as the model reads it.
pub fn fixture_conversation(index: usize) -> Conversation {
    serde_json::from_value(fixture_conversations()[index].clone()).expect("a model conversation")
}

/// A throwaway PostgreSQL database, created on the server of DATABASE_URL_TEST.
struct PostgresDatabase {
    admin_url: String,
    name: String,
    url: String,
}

/// `url` with its database name replaced.
fn with_database(url: &str, name: &str) -> String {
    let (before_query, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = before_query.find("://").map_or(0, |index| index + 3);
    let path_start = before_query[authority_start..]
        .find('/')
        .map_or(before_query.len(), |index| authority_start + index);
    let mut result = format!("{}/{name}", &before_query[..path_start]);
    if let Some(query) = query {
        result.push('?');
        result.push_str(query);
    }
    result
}

impl PostgresDatabase {
    async fn create(admin_url: &str) -> Self {
        let name = format!(
            "dc_test_{}",
            accounts::hex(&accounts::random_bytes::<6>().unwrap())
        );
        let mut admin = sqlx::PgConnection::connect(admin_url)
            .await
            .expect("connect to DATABASE_URL_TEST");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("create a test database");
        admin.close().await.ok();
        PostgresDatabase {
            admin_url: admin_url.to_string(),
            url: with_database(admin_url, &name),
            name,
        }
    }

    async fn drop_database(&self) {
        if let Ok(mut admin) = sqlx::PgConnection::connect(&self.admin_url).await {
            let _ = sqlx::query(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut admin)
            .await;
            admin.close().await.ok();
        }
    }
}

pub struct TestServer {
    pub server: RunningServer,
    pub base: String,
    pub client: reqwest::Client,
    pub location: DatabaseLocation,
    _dir: tempfile::TempDir,
    postgres: Option<PostgresDatabase>,
}

/// The configuration tests start from: no rate limit (tests send many requests quickly).
pub fn test_config(location: DatabaseLocation) -> ServerConfig {
    let mut config = ServerConfig::new(location);
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.rate_limit = None;
    config
}

impl TestServer {
    /// `None` (the test is skipped) for PostgreSQL without DATABASE_URL_TEST.
    pub async fn start(backend: Backend, adjust: impl FnOnce(&mut ServerConfig)) -> Option<Self> {
        let dir = tempfile::tempdir().expect("temp dir");
        let (location, postgres) = match backend {
            Backend::Sqlite => (DatabaseLocation::SqliteDir(dir.path().join("data")), None),
            Backend::Postgres => {
                let Ok(admin_url) = std::env::var(POSTGRES_ENV) else {
                    eprintln!(
                        "skipped: {POSTGRES_ENV} is not set (run under crates/server/scripts/with-postgres.sh)"
                    );
                    return None;
                };
                let database = PostgresDatabase::create(&admin_url).await;
                (
                    DatabaseLocation::Postgres(database.url.clone()),
                    Some(database),
                )
            }
        };
        let mut config = test_config(location.clone());
        adjust(&mut config);
        let server = dreamcatcher_server::start(config)
            .await
            .expect("server starts");
        Some(TestServer {
            base: format!("http://{}", server.addr),
            server,
            client: reqwest::Client::new(),
            location,
            _dir: dir,
            postgres,
        })
    }

    /// Another instance on the same database.
    pub async fn start_sibling(&self, adjust: impl FnOnce(&mut ServerConfig)) -> RunningServer {
        let mut config = test_config(self.location.clone());
        adjust(&mut config);
        dreamcatcher_server::start(config)
            .await
            .expect("sibling starts")
    }

    pub async fn stop(self) {
        self.server.stop().await.expect("clean stop");
        if let Some(database) = &self.postgres {
            database.drop_database().await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws/dreamcatcher", self.server.addr)
    }

    /// A new user and a device token for it.
    pub async fn user_token(&self, name: &str) -> String {
        let db = &self.server.state.db;
        accounts::add_user(db, name).await.expect("user added");
        accounts::create_token(db, name, "test device")
            .await
            .expect("token")
            .token
    }

    pub async fn get(&self, token: &str, path: &str) -> (u16, Value) {
        let response = self
            .client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        read(response).await
    }

    pub async fn send_json(
        &self,
        method: reqwest::Method,
        token: &str,
        path: &str,
        body: &Value,
    ) -> (u16, Value) {
        let response = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap();
        read(response).await
    }

    pub async fn post(&self, token: &str, path: &str, body: &Value) -> (u16, Value) {
        self.send_json(reqwest::Method::POST, token, path, body)
            .await
    }

    pub async fn patch(&self, token: &str, path: &str, body: &Value) -> (u16, Value) {
        self.send_json(reqwest::Method::PATCH, token, path, body)
            .await
    }

    pub async fn delete(&self, token: &str, path: &str) -> (u16, Value) {
        let response = self
            .client
            .delete(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        read(response).await
    }

    pub async fn capture(&self, token: &str, conversation: &Value) -> (u16, Value) {
        self.post(token, "/api/v1/conversations/capture", conversation)
            .await
    }
}

/// Status and JSON body (`null` when the body is empty or not JSON).
pub async fn read(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Asserts a JSON error of the API's shape with this status and code.
#[track_caller]
pub fn assert_error(response: &(u16, Value), status: u16, code: &str) {
    assert_eq!(response.0, status, "{}", response.1);
    assert_eq!(response.1["error"]["code"], code, "{}", response.1);
    assert!(
        response.1["error"]["message"]
            .as_str()
            .is_some_and(|message| !message.is_empty()),
        "an error says what is wrong: {}",
        response.1
    );
}

type Stream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A WebSocket client speaking the sync protocol.
pub struct WsClient {
    pub stream: Stream,
}

impl WsClient {
    pub async fn connect(url: &str, bearer: Option<&str>) -> Self {
        let mut request = url.into_client_request().unwrap();
        if let Some(token) = bearer {
            request
                .headers_mut()
                .insert("authorization", format!("Bearer {token}").parse().unwrap());
        }
        let (stream, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("WebSocket connects");
        WsClient { stream }
    }

    pub async fn send_text(&mut self, text: impl Into<String>) {
        self.stream
            .send(Message::text(text.into()))
            .await
            .expect("send");
    }

    pub async fn send(&mut self, message: &ClientMessage) {
        self.send_text(message.to_json()).await;
    }

    /// The next protocol message (pings and pongs of the transport skipped).
    pub async fn recv(&mut self) -> ServerMessage {
        self.try_recv(Duration::from_secs(10))
            .await
            .expect("a message within 10 s")
    }

    /// The next protocol message within `wait`; `None` if none came, or the connection
    /// closed.
    pub async fn try_recv(&mut self, wait: Duration) -> Option<ServerMessage> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .ok()??;
            match frame.ok()? {
                Message::Text(text) => {
                    return Some(
                        ServerMessage::parse(text.as_str())
                            .expect("the service sends valid messages"),
                    );
                }
                Message::Close(_) => return None,
                _ => continue,
            }
        }
    }

    /// Whether the service closed the connection (within 5 s).
    pub async fn is_closed(&mut self) -> bool {
        loop {
            match tokio::time::timeout(Duration::from_secs(5), self.stream.next()).await {
                Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => return true,
                Ok(Some(Ok(_))) => continue,
                Err(_) => return false,
            }
        }
    }

    pub async fn hello(&mut self, token: &str, last_cursor: Cursor) -> Welcome {
        self.send(&ClientMessage::Hello(Hello {
            protocol_version: PROTOCOL_VERSION,
            device_token: token.to_string(),
            last_cursor,
        }))
        .await;
        match self.recv().await {
            ServerMessage::Welcome(welcome) => welcome,
            other => panic!("expected welcome, got {other:?}"),
        }
    }

    /// Events until the device has applied `cursor`, flattened.
    pub async fn events_until(&mut self, cursor: Cursor) -> Vec<Value> {
        let mut events = Vec::new();
        let mut applied = 0;
        while applied < cursor {
            match self.recv().await {
                ServerMessage::Events(page) => {
                    for event in page.events {
                        applied = event.cursor;
                        events.push(serde_json::to_value(&event).unwrap());
                    }
                }
                ServerMessage::Ack(_) | ServerMessage::Pong => {}
                other => panic!("expected events, got {other:?}"),
            }
        }
        events
    }

    /// The next event of `kind`, skipping others (and acks, pongs).
    pub async fn next_event(&mut self, kind: &str) -> Value {
        loop {
            if let ServerMessage::Events(page) = self.recv().await {
                for event in page.events {
                    let value = serde_json::to_value(&event).unwrap();
                    if value["type"] == kind {
                        return value;
                    }
                }
            }
        }
    }

    /// Sends a ping and returns what arrived before the pong.
    pub async fn until_pong(&mut self) -> Vec<ServerMessage> {
        self.send(&ClientMessage::Ping).await;
        let mut before = Vec::new();
        loop {
            match self.recv().await {
                ServerMessage::Pong => return before,
                other => before.push(other),
            }
        }
    }
}
