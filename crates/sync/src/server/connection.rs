//! One client connection as the service sees it: what to answer to each incoming text, and
//! which events the connection has yet to receive.

use std::collections::BTreeMap;
use std::future::{Future, ready};

use crate::operation::Cursor;
use crate::protocol::{
    Ack, ClientMessage, ErrorCode, Events, MAX_EVENTS_PER_MESSAGE, MAX_MESSAGE_BYTES,
    SequencedEvent, ServerMessage, Welcome,
};
use crate::server::process_operation;
use crate::server::store::{ServerStore, UserId};

/// Room left in an `events` message for the envelope around the events.
const EVENTS_ENVELOPE_BYTES: usize = 64 * 1024;

/// Why a device token was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthenticationFailure {
    /// Unknown, expired or revoked: the device must be re-authorised.
    InvalidToken,
    /// The token could not be checked now (the auth service is down): retry later.
    Unavailable,
}

/// Checks a device token (the service's JWT or API-key check).
pub trait DeviceAuthenticator {
    fn authenticate(
        &self,
        device_token: &str,
    ) -> impl Future<Output = Result<UserId, AuthenticationFailure>> + Send;
}

/// A fixed table of tokens, for tests and simulations.
#[derive(Debug, Clone, Default)]
pub struct TokenTable {
    tokens: BTreeMap<String, UserId>,
}

impl TokenTable {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_token(mut self, token: impl Into<String>, user: UserId) -> Self {
        self.tokens.insert(token.into(), user);
        self
    }
}

impl DeviceAuthenticator for TokenTable {
    fn authenticate(
        &self,
        device_token: &str,
    ) -> impl Future<Output = Result<UserId, AuthenticationFailure>> + Send {
        ready(
            self.tokens
                .get(device_token)
                .cloned()
                .ok_or(AuthenticationFailure::InvalidToken),
        )
    }
}

/// What to send after handling one incoming text.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerReply {
    /// Send these, in order.
    pub messages: Vec<ServerMessage>,
    /// Then close the connection.
    pub close: bool,
    /// New events were recorded for this user: call [`ServerConnection::next_events`] on
    /// every connection of the user (this one included).
    pub new_events_for: Option<UserId>,
}

impl ServerReply {
    fn send(message: ServerMessage) -> Self {
        ServerReply {
            messages: vec![message],
            close: false,
            new_events_for: None,
        }
    }

    fn error(code: ErrorCode, message: impl Into<String>) -> Self {
        ServerReply {
            messages: vec![ServerMessage::error(code, message)],
            close: code.closes_connection(),
            new_events_for: None,
        }
    }

    /// The reply when the store failed: `unavailable`, and close (the client retries
    /// later and resends what was not acknowledged).
    pub fn store_failure(error: &impl std::error::Error) -> Self {
        Self::error(ErrorCode::Unavailable, format!("storage failed: {error}"))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Session {
    user: UserId,
    /// The cursor of the last event sent on this connection.
    sent_cursor: Cursor,
}

/// The service's state for one WebSocket connection.
///
/// For each text frame call [`handle_text`](Self::handle_text) and send its reply; after
/// that, and whenever a reply anywhere says new events exist for this connection's user,
/// call [`next_events`](Self::next_events) until it returns `None`, sending each message.
/// Calls for one connection must not overlap.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerConnection {
    session: Option<Session>,
}

impl ServerConnection {
    pub fn new() -> Self {
        Self::default()
    }

    /// The authenticated user, after a good `hello`.
    pub fn user(&self) -> Option<&UserId> {
        self.session.as_ref().map(|session| &session.user)
    }

    /// Handles one incoming text frame. A malformed message is answered with an `error`
    /// and the connection stays up. On `Err` (the store failed), send
    /// [`ServerReply::store_failure`].
    pub async fn handle_text<S: ServerStore, A: DeviceAuthenticator>(
        &mut self,
        text: &str,
        store: &S,
        authenticator: &A,
    ) -> Result<ServerReply, S::Error> {
        let message = match ClientMessage::parse(text) {
            Ok(message) => message,
            Err(error) => return Ok(ServerReply::error(error.error_code(), error.to_string())),
        };
        match message {
            ClientMessage::Ping => Ok(ServerReply::send(ServerMessage::Pong)),
            ClientMessage::Hello(_) if self.session.is_some() => Ok(ServerReply::error(
                ErrorCode::UnexpectedMessage,
                "`hello` was already received on this connection",
            )),
            ClientMessage::Hello(hello) => {
                let user = match authenticator.authenticate(&hello.device_token).await {
                    Ok(user) => user,
                    Err(AuthenticationFailure::InvalidToken) => {
                        return Ok(ServerReply::error(
                            ErrorCode::AuthenticationFailed,
                            "the device token is unknown, expired or revoked",
                        ));
                    }
                    Err(AuthenticationFailure::Unavailable) => {
                        return Ok(ServerReply::error(
                            ErrorCode::Unavailable,
                            "the device token cannot be checked now",
                        ));
                    }
                };
                let server_cursor = store.latest_cursor(&user).await?;
                self.session = Some(Session {
                    user,
                    sent_cursor: hello.last_cursor.min(server_cursor),
                });
                Ok(ServerReply::send(ServerMessage::Welcome(Welcome {
                    protocol_version: hello.protocol_version,
                    server_cursor,
                })))
            }
            ClientMessage::Push(push) => {
                let Some(session) = &self.session else {
                    return Ok(ServerReply::error(
                        ErrorCode::NotAuthenticated,
                        "`push` before a successful `hello`",
                    ));
                };
                let user = session.user.clone();
                let mut results = Vec::with_capacity(push.operations.len());
                let mut recorded_events = false;
                for operation in &push.operations {
                    let processed = process_operation(store, &user, operation).await?;
                    recorded_events |= !processed.events.is_empty();
                    results.push(processed.result);
                }
                let server_cursor = store.latest_cursor(&user).await?;
                Ok(ServerReply {
                    messages: vec![ServerMessage::Ack(Ack {
                        results,
                        server_cursor,
                    })],
                    close: false,
                    new_events_for: recorded_events.then_some(user),
                })
            }
        }
    }

    /// The next `events` message this connection has not sent yet (missed events after
    /// `hello`, then new ones), or `None` when it is up to date or not authenticated.
    pub async fn next_events<S: ServerStore>(
        &mut self,
        store: &S,
    ) -> Result<Option<ServerMessage>, S::Error> {
        let Some(session) = &mut self.session else {
            return Ok(None);
        };
        let candidates = store
            .events_after(&session.user, session.sent_cursor, MAX_EVENTS_PER_MESSAGE)
            .await?;
        let budget = MAX_MESSAGE_BYTES - EVENTS_ENVELOPE_BYTES;
        let mut bytes = 0usize;
        let mut page: Vec<SequencedEvent> = Vec::new();
        for event in candidates {
            let size = serde_json::to_vec(&event).map_or(usize::MAX, |encoded| encoded.len());
            if !page.is_empty() && bytes.saturating_add(size) > budget {
                break;
            }
            bytes = bytes.saturating_add(size);
            page.push(event);
        }
        let Some(last) = page.last() else {
            return Ok(None);
        };
        let after_cursor = session.sent_cursor;
        session.sent_cursor = last.cursor;
        Ok(Some(ServerMessage::Events(Events {
            after_cursor,
            events: page,
        })))
    }
}
