//! `/ws/dreamcatcher`: the sync protocol of `dreamcatcher-sync` over a WebSocket.
//!
//! The protocol logic is the sync crate's [`ServerConnection`]; this module moves its
//! messages over the socket, stores through [`SyncStore`], commits before anything is
//! acknowledged, wakes the user's other connections, pings quiet clients, and rechecks that
//! the device has not been revoked.
//!
//! A device authenticates with its token in `hello`, or with an `Authorization: Bearer`
//! header on the upgrade request (then `hello` may carry an empty `device_token`).

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::http::HeaderMap;
use axum::response::Response;
use dreamcatcher_sync::server::{
    AuthenticationFailure, DeviceAuthenticator, ServerConnection, ServerReply, UserId,
};
use dreamcatcher_sync::{ErrorCode, ServerMessage};
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};

use crate::config::WS_TRANSPORT_SLACK_BYTES;
use crate::db::SyncStore;
use crate::db::accounts::{self, Identity};
use crate::db::sync_store::{user_id, user_key};
use crate::error::ApiError;
use crate::extract::bearer_token;
use crate::hub::Subscription;
use crate::server::{AppState, SharedState};

/// Pings in a row a client may leave unanswered before it is dropped.
const MAX_MISSED_PINGS: u32 = 2;

pub async fn handler(
    State(state): State<SharedState>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let upgrade = upgrade.map_err(|rejection| {
        ApiError::new(
            rejection.status(),
            "websocket_upgrade_required",
            format!(
                "this endpoint speaks WebSocket only: {}",
                rejection.body_text()
            ),
        )
    })?;
    let header_identity = match bearer_token(&headers)? {
        Some(token) => Some(state.authenticate(token).await?.ok_or_else(|| {
            ApiError::unauthenticated("the device token is unknown or was revoked")
        })?),
        None => None,
    };
    let transport_limit = state
        .config
        .max_ws_message_bytes
        .saturating_add(WS_TRANSPORT_SLACK_BYTES);
    Ok(upgrade
        .max_message_size(transport_limit)
        .max_frame_size(transport_limit)
        .on_upgrade(move |socket| async move {
            run_connection(state, socket, header_identity).await;
        }))
}

/// Checks `hello`'s token, remembering which device was accepted.
struct Authenticator<'a> {
    state: &'a AppState,
    header_identity: Option<Identity>,
    accepted: Mutex<Option<Identity>>,
}

impl DeviceAuthenticator for Authenticator<'_> {
    async fn authenticate(&self, device_token: &str) -> Result<UserId, AuthenticationFailure> {
        let identity = if device_token.is_empty() {
            self.header_identity
                .clone()
                .ok_or(AuthenticationFailure::InvalidToken)?
        } else {
            match self.state.authenticate(device_token).await {
                Ok(Some(identity)) => identity,
                Ok(None) => return Err(AuthenticationFailure::InvalidToken),
                Err(error) => {
                    tracing::warn!(%error, "cannot check a device token");
                    return Err(AuthenticationFailure::Unavailable);
                }
            }
        };
        let user = user_id(identity.user_id);
        *self.accepted.lock().unwrap_or_else(PoisonError::into_inner) = Some(identity);
        Ok(user)
    }
}

impl Authenticator<'_> {
    fn accepted(&self) -> Option<Identity> {
        self.accepted
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

fn error_code_name(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::MalformedMessage => "malformed_message",
        ErrorCode::MessageTooLarge => "message_too_large",
        ErrorCode::UnsupportedVersion => "unsupported_version",
        ErrorCode::AuthenticationFailed => "authentication_failed",
        ErrorCode::NotAuthenticated => "not_authenticated",
        ErrorCode::UnexpectedMessage => "unexpected_message",
        ErrorCode::Unavailable => "unavailable",
        ErrorCode::Unknown => "unknown",
    }
}

/// The socket's sending half, counting what it sends.
struct Outgoing<'a> {
    sink: SplitSink<WebSocket, Message>,
    state: &'a AppState,
}

/// The connection is over (the peer left or a send failed).
struct Closed;

impl Outgoing<'_> {
    async fn send(&mut self, message: &ServerMessage) -> Result<(), Closed> {
        match message {
            ServerMessage::Error(error) => {
                self.state
                    .metrics
                    .error("websocket", error_code_name(error.code));
            }
            ServerMessage::Ack(ack) => {
                for result in &ack.results {
                    self.state.metrics.count_outcome(&result.outcome);
                }
            }
            _ => {}
        }
        self.sink
            .send(Message::Text(message.to_json().into()))
            .await
            .map_err(|_| Closed)
    }

    async fn send_all(&mut self, reply: &ServerReply) -> Result<(), Closed> {
        for message in &reply.messages {
            self.send(message).await?;
        }
        Ok(())
    }

    async fn close(&mut self, code: u16, reason: &str) {
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        let _ = self.sink.send(Message::Close(Some(frame))).await;
    }
}

/// Counts the connection in the metrics while it lives.
struct OpenConnection<'a>(&'a AppState);

impl<'a> OpenConnection<'a> {
    fn new(state: &'a AppState) -> Self {
        state.metrics.websocket_connections.inc();
        OpenConnection(state)
    }
}

impl Drop for OpenConnection<'_> {
    fn drop(&mut self) {
        self.0.metrics.websocket_connections.dec();
    }
}

/// Sends every event the connection has not sent yet.
async fn send_pending_events(
    connection: &mut ServerConnection,
    state: &AppState,
    outgoing: &mut Outgoing<'_>,
) -> Result<(), Closed> {
    loop {
        let store = SyncStore::new(&state.db);
        match connection.next_events(&store).await {
            Ok(Some(message)) => outgoing.send(&message).await?,
            Ok(None) => return Ok(()),
            Err(error) => {
                tracing::warn!(%error, "cannot read events for a connection");
                outgoing
                    .send_all(&ServerReply::store_failure(&error))
                    .await?;
                outgoing
                    .close(close_code::AGAIN, "storage unavailable")
                    .await;
                return Err(Closed);
            }
        }
    }
}

/// Handles one text frame: the protocol's reply, sent only after its writes committed.
async fn handle_text(
    text: &str,
    connection: &mut ServerConnection,
    authenticator: &Authenticator<'_>,
    state: &AppState,
) -> ServerReply {
    if text.len() > state.config.max_ws_message_bytes {
        return ServerReply {
            messages: vec![ServerMessage::error(
                ErrorCode::MessageTooLarge,
                format!(
                    "message is {} bytes, over the {}-byte limit",
                    text.len(),
                    state.config.max_ws_message_bytes
                ),
            )],
            close: false,
            new_events_for: None,
        };
    }
    let store = SyncStore::new(&state.db);
    let reply = match connection.handle_text(text, &store, authenticator).await {
        Ok(reply) => reply,
        Err(error) => {
            tracing::warn!(%error, "a WebSocket message failed in storage");
            return ServerReply::store_failure(&error);
        }
    };
    match store.finish().await {
        Ok(committed) => {
            state.after_commit(committed);
            reply
        }
        Err(error) => {
            tracing::warn!(%error, "a WebSocket message's writes did not commit");
            ServerReply::store_failure(&error)
        }
    }
}

async fn run_connection(state: SharedState, socket: WebSocket, header_identity: Option<Identity>) {
    let state = &*state;
    let _open = OpenConnection::new(state);
    let (sink, mut incoming) = socket.split();
    let mut outgoing = Outgoing { sink, state };
    let authenticator = Authenticator {
        state,
        header_identity,
        accepted: Mutex::new(None),
    };
    let mut connection = ServerConnection::new();
    let mut subscription: Option<Subscription> = None;
    let mut device: Option<Identity> = None;
    let mut shutdown = state.shutdown.clone();
    let hello_deadline = tokio::time::sleep(state.config.ws_hello_timeout);
    tokio::pin!(hello_deadline);
    let mut pings = tokio::time::interval_at(
        tokio::time::Instant::now() + state.config.ws_ping_interval,
        state.config.ws_ping_interval,
    );
    let mut missed_pings = 0u32;

    loop {
        let woken = async {
            match &mut subscription {
                Some(subscription) => subscription.changed().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            frame = incoming.next() => {
                missed_pings = 0;
                let text = match frame {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Binary(_))) => {
                        let error = ServerMessage::error(
                            ErrorCode::MalformedMessage,
                            "binary frames are not part of the protocol: send JSON text frames",
                        );
                        if outgoing.send(&error).await.is_err() {
                            break;
                        }
                        continue;
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(Message::Close(_))) | None => break,
                    Some(Err(error)) => {
                        tracing::debug!(%error, "WebSocket read failed");
                        break;
                    }
                };
                if let Some(device) = &device {
                    // Over the budget, the device waits: its acknowledgements slow down.
                    while let Err(wait) = state.check_device_rate(device.device_id) {
                        tokio::time::sleep(wait.max(Duration::from_millis(10))).await;
                    }
                }
                let reply = handle_text(text.as_str(), &mut connection, &authenticator, state).await;
                if outgoing.send_all(&reply).await.is_err() {
                    break;
                }
                if reply.close {
                    let retry_later = reply.messages.iter().any(|message| {
                        matches!(message, ServerMessage::Error(error) if error.code == ErrorCode::Unavailable)
                    });
                    let code = if retry_later { close_code::AGAIN } else { close_code::POLICY };
                    outgoing.close(code, "see the error message").await;
                    break;
                }
                if subscription.is_none() && let Some(user) = connection.user() {
                    let Ok(user) = user_key(user) else {
                        break;
                    };
                    device = authenticator.accepted();
                    // Subscribed before the first read of events: none can slip between.
                    subscription = Some(state.hub.subscribe(user));
                    tracing::debug!(user, "WebSocket client authenticated");
                }
                if send_pending_events(&mut connection, state, &mut outgoing).await.is_err() {
                    break;
                }
            }
            () = woken => {
                if send_pending_events(&mut connection, state, &mut outgoing).await.is_err() {
                    break;
                }
            }
            () = &mut hello_deadline, if connection.user().is_none() => {
                let error = ServerMessage::error(
                    ErrorCode::NotAuthenticated,
                    format!(
                        "no successful `hello` within {} s",
                        state.config.ws_hello_timeout.as_secs()
                    ),
                );
                let _ = outgoing.send(&error).await;
                outgoing.close(close_code::POLICY, "no hello").await;
                break;
            }
            _ = pings.tick() => {
                if missed_pings >= MAX_MISSED_PINGS {
                    tracing::debug!("dropping a WebSocket client that stopped answering pings");
                    break;
                }
                missed_pings += 1;
                if outgoing.sink.send(Message::Ping(Bytes::new())).await.is_err() {
                    break;
                }
                if let Some(device) = &device
                    && !device_still_active(state, device.device_id).await
                {
                    let error = ServerMessage::error(
                        ErrorCode::AuthenticationFailed,
                        "the device token was revoked",
                    );
                    let _ = outgoing.send(&error).await;
                    outgoing.close(close_code::POLICY, "token revoked").await;
                    break;
                }
            }
            () = stopping(&mut shutdown) => {
                let error = ServerMessage::error(ErrorCode::Unavailable, "the service is stopping");
                let _ = outgoing.send(&error).await;
                outgoing.close(close_code::AWAY, "service stopping").await;
                break;
            }
        }
    }
}

/// A storage failure here is not a revocation: the device keeps its connection.
async fn device_still_active(state: &AppState, device_id: i64) -> bool {
    let check = async {
        let mut pooled = state.db.acquire().await?;
        accounts::device_is_active(&mut pooled.conn(), device_id).await
    };
    check.await.unwrap_or(true)
}

async fn stopping(shutdown: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}
