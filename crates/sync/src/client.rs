//! The client's connection state machine, without I/O: the driver (the extension's service
//! worker, or a simulation) feeds it [`ClientInput`]s with the current time and carries out
//! the [`ClientCommand`]s it returns, in order.

use std::time::Duration;

use chrono::TimeDelta;
use dreamcatcher_model::Timestamp;
use thiserror::Error;

use crate::backoff::BackoffPolicy;
use crate::operation::{Cursor, OpId, Operation, OperationError};
use crate::outbox::OutboxStore;
use crate::protocol::{
    Ack, ClientMessage, Events, Hello, MAX_MESSAGE_BYTES, MAX_OPERATIONS_PER_PUSH, OperationResult,
    PROTOCOL_VERSION, ProtocolError, Push, SequencedEvent, ServerMessage, Welcome,
};
use crate::random::RandomSource;
use crate::status::{ConnectionState, FailureKind, SyncStatus, TransportFailure};

/// Room left in a push for the envelope around the operations.
const PUSH_ENVELOPE_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncClientConfig {
    pub device_token: String,
    pub backoff: BackoffPolicy,
    /// How long opening a connection and receiving `welcome` may take.
    pub handshake_timeout: Duration,
    /// Quiet time on a connection after which the client sends a `ping`.
    pub ping_interval: Duration,
    /// How long to wait for anything (a `pong`) after a `ping` before giving the connection up.
    pub pong_timeout: Duration,
    /// How long to wait for the `ack` of a `push` before giving the connection up.
    pub ack_timeout: Duration,
    pub max_operations_per_push: usize,
}

impl SyncClientConfig {
    pub fn new(device_token: impl Into<String>) -> Self {
        SyncClientConfig {
            device_token: device_token.into(),
            backoff: BackoffPolicy::default(),
            handshake_timeout: Duration::from_secs(15),
            ping_interval: Duration::from_secs(25),
            pong_timeout: Duration::from_secs(10),
            ack_timeout: Duration::from_secs(30),
            max_operations_per_push: MAX_OPERATIONS_PER_PUSH,
        }
    }
}

/// Names one connection attempt, so that anything arriving from an abandoned socket is
/// recognised and ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionId(pub u64);

/// What happened, as the driver tells the client.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientInput {
    /// Begin connecting (once, after construction).
    Start,
    /// This operation is now durably in the outbox store (see [`SyncClient::record_operation`]).
    OperationRecorded(Operation),
    ConnectionOpened(ConnectionId),
    MessageReceived(ConnectionId, String),
    /// The connection failed to open, or closed.
    ConnectionClosed(ConnectionId, TransportFailure),
    /// A time asked for with [`ClientCommand::WakeAt`] has come (early or extra calls are harmless).
    TimerFired,
    /// The browser's online/offline events.
    NetworkChanged {
        online: bool,
    },
    /// The user pressed "Retry Connection".
    RetryNow,
    /// The user re-authorised; the new token is used from the next connection on.
    DeviceTokenChanged(String),
}

/// What the driver must do, in the order given.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientCommand {
    /// Open a WebSocket to the service; report [`ClientInput::ConnectionOpened`] or
    /// [`ClientInput::ConnectionClosed`] with this id.
    OpenConnection(ConnectionId),
    Send {
        connection: ConnectionId,
        text: String,
    },
    CloseConnection(ConnectionId),
    /// Deliver [`ClientInput::TimerFired`] at this time; replaces any earlier request.
    WakeAt(Timestamp),
    /// The service has these operations: remove them from the outbox store. Conflicts and
    /// rejections can be shown to the user.
    Acknowledged(Vec<OperationResult>),
    /// Apply these events to the local library, then store `then_save_cursor` as the
    /// outbox's cursor (in that order: a crash in between replays them harmlessly).
    ApplyEvents {
        events: Vec<SequencedEvent>,
        then_save_cursor: Cursor,
    },
    /// Store this cursor (the service's history is shorter than the device thought).
    SaveCursor(Cursor),
    /// The UI's status changed.
    StatusChanged(SyncStatus),
    /// Something worth logging that the client handled (an unreadable message, an error
    /// the service reported that does not end the connection).
    Warn(String),
}

#[derive(Debug, Error)]
pub enum RecordError<E: std::error::Error> {
    #[error("operation cannot be synced: {0}")]
    Invalid(#[from] OperationError),
    #[error("outbox store failed: {0}")]
    Store(E),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Link {
    /// Constructed, not started.
    Stopped,
    /// The browser reports no network: no attempts until it is back.
    Offline,
    WaitingToRetry {
        retry_at: Timestamp,
    },
    Opening {
        connection: ConnectionId,
        deadline: Timestamp,
    },
    Handshaking {
        connection: ConnectionId,
        deadline: Timestamp,
    },
    Ready(ReadyLink),
    /// A failure retrying cannot fix: waits for the user.
    Halted,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct ReadyLink {
    connection: ConnectionId,
    /// The highest cursor the service said exists.
    server_cursor: Cursor,
    /// The events missed while away have all been applied: pushing may start.
    caught_up_once: bool,
    in_flight: Option<PushInFlight>,
    last_heard_at: Timestamp,
    ping_deadline: Option<Timestamp>,
    /// While behind `server_cursor`: when to give up waiting for the events (each batch
    /// received moves it on). The service sends them without being asked, so their not
    /// coming means this connection lost them.
    catch_up_deadline: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct PushInFlight {
    op_ids: Vec<OpId>,
    deadline: Timestamp,
}

/// The sync client of one device. Create it from the outbox store ([`SyncClient::load`]),
/// send [`ClientInput::Start`], then feed it inputs for as long as the service worker lives.
pub struct SyncClient<R> {
    config: SyncClientConfig,
    random: R,
    pending: Vec<Operation>,
    cursor: Cursor,
    link: Link,
    online: bool,
    consecutive_failures: u32,
    last_failure: Option<FailureKind>,
    last_synced_at: Option<Timestamp>,
    next_connection: u64,
    reported_status: Option<SyncStatus>,
    requested_wake: Option<Timestamp>,
    /// Set when an input brought the device closer to the service (welcome, events, ack).
    made_progress: bool,
}

impl<R: RandomSource> SyncClient<R> {
    /// A client resuming from what the outbox store holds: its operations (oldest first)
    /// and its cursor. `random` draws the reconnect jitter.
    pub fn restore(
        config: SyncClientConfig,
        pending_operations: Vec<Operation>,
        cursor: Cursor,
        random: R,
    ) -> Self {
        SyncClient {
            config,
            random,
            pending: pending_operations,
            cursor,
            link: Link::Stopped,
            online: true,
            consecutive_failures: 0,
            last_failure: None,
            last_synced_at: None,
            next_connection: 0,
            reported_status: None,
            requested_wake: None,
            made_progress: false,
        }
    }

    /// [`restore`](Self::restore) from a store.
    pub async fn load<S: OutboxStore>(
        store: &S,
        config: SyncClientConfig,
        random: R,
    ) -> Result<Self, S::Error> {
        let operations = store.operations().await?;
        let cursor = store.cursor().await?;
        Ok(Self::restore(config, operations, cursor, random))
    }

    /// Checks the operation, appends it durably to the store, and only then hands it to the
    /// client (which may send it at once).
    pub async fn record_operation<S: OutboxStore>(
        &mut self,
        store: &mut S,
        operation: Operation,
        now: Timestamp,
    ) -> Result<Vec<ClientCommand>, RecordError<S::Error>> {
        operation.validate_for_outbox()?;
        store.append(&operation).await.map_err(RecordError::Store)?;
        Ok(self.handle(now, ClientInput::OperationRecorded(operation)))
    }

    pub fn status(&self) -> SyncStatus {
        SyncStatus {
            state: self.connection_state(),
            pending_operations: self.pending.len(),
            last_synced_at: self.last_synced_at,
            next_retry_at: match self.link {
                Link::WaitingToRetry { retry_at } => Some(retry_at),
                _ => None,
            },
        }
    }

    /// Operations not yet acknowledged, oldest first.
    pub fn pending_operations(&self) -> &[Operation] {
        &self.pending
    }

    /// The cursor of the last event handed out for applying.
    pub fn cursor(&self) -> Cursor {
        self.cursor
    }

    /// When the client next needs [`ClientInput::TimerFired`].
    pub fn next_wake(&self) -> Option<Timestamp> {
        match &self.link {
            Link::WaitingToRetry { retry_at } => Some(*retry_at),
            Link::Opening { deadline, .. } | Link::Handshaking { deadline, .. } => Some(*deadline),
            Link::Ready(ready) => {
                let ping_or_pong = ready
                    .ping_deadline
                    .unwrap_or_else(|| add(ready.last_heard_at, self.config.ping_interval));
                let deadlines = [
                    ready.in_flight.as_ref().map(|push| push.deadline),
                    ready.catch_up_deadline,
                ];
                Some(
                    deadlines
                        .into_iter()
                        .flatten()
                        .fold(ping_or_pong, Timestamp::min),
                )
            }
            Link::Stopped | Link::Offline | Link::Halted => None,
        }
    }

    /// Handles one input at time `now`; returns what the driver must do, in order.
    pub fn handle(&mut self, now: Timestamp, input: ClientInput) -> Vec<ClientCommand> {
        let mut out = Vec::new();
        self.made_progress = false;
        match input {
            ClientInput::Start => {
                if self.link == Link::Stopped {
                    self.open(now, &mut out);
                }
            }
            ClientInput::OperationRecorded(operation) => {
                if !self
                    .pending
                    .iter()
                    .any(|pending| pending.op_id == operation.op_id)
                {
                    self.pending.push(operation);
                }
                self.push_if_ready(now, &mut out);
            }
            ClientInput::ConnectionOpened(connection) => self.on_opened(now, connection, &mut out),
            ClientInput::MessageReceived(connection, text) => {
                self.on_message(now, connection, &text, &mut out);
            }
            ClientInput::ConnectionClosed(connection, failure) => {
                self.on_closed(now, connection, failure);
            }
            ClientInput::TimerFired => {
                // The driver's one timer has fired: whatever comes next must be asked
                // for again, even if it is the same instant.
                self.requested_wake = None;
                self.on_timer(now, &mut out);
            }
            ClientInput::NetworkChanged { online } => {
                self.online = online;
                // A halted client stays halted: coming back online cannot fix its token.
                if !online && !matches!(self.link, Link::Stopped | Link::Halted) {
                    self.close_current(&mut out);
                    self.link = Link::Offline;
                } else if online && self.link == Link::Offline {
                    self.consecutive_failures = 0;
                    self.last_failure = None;
                    self.open(now, &mut out);
                }
            }
            ClientInput::RetryNow => self.retry_now(now, &mut out),
            ClientInput::DeviceTokenChanged(token) => {
                self.config.device_token = token;
                self.retry_now(now, &mut out);
            }
        }
        self.finish(now, &mut out);
        out
    }

    fn retry_now(&mut self, now: Timestamp, out: &mut Vec<ClientCommand>) {
        if matches!(
            self.link,
            Link::WaitingToRetry { .. } | Link::Halted | Link::Offline
        ) {
            self.consecutive_failures = 0;
            self.last_failure = None;
            self.open(now, out);
        }
    }

    fn connection_state(&self) -> ConnectionState {
        match &self.link {
            Link::Stopped | Link::Offline => ConnectionState::Offline,
            Link::WaitingToRetry { .. } => self
                .last_failure
                .map_or(ConnectionState::Connecting, ConnectionState::Error),
            Link::Opening { .. } | Link::Handshaking { .. } => ConnectionState::Connecting,
            Link::Ready(ready) => {
                if self.in_sync(ready) {
                    ConnectionState::Connected
                } else {
                    ConnectionState::Syncing
                }
            }
            Link::Halted => {
                ConnectionState::Error(self.last_failure.unwrap_or(FailureKind::Authentication))
            }
        }
    }

    fn in_sync(&self, ready: &ReadyLink) -> bool {
        ready.caught_up_once && self.cursor >= ready.server_cursor && self.pending.is_empty()
    }

    fn current_connection(&self) -> Option<ConnectionId> {
        match &self.link {
            Link::Opening { connection, .. } | Link::Handshaking { connection, .. } => {
                Some(*connection)
            }
            Link::Ready(ready) => Some(ready.connection),
            _ => None,
        }
    }

    fn open(&mut self, now: Timestamp, out: &mut Vec<ClientCommand>) {
        self.close_current(out);
        if !self.online {
            self.link = Link::Offline;
            return;
        }
        self.next_connection += 1;
        let connection = ConnectionId(self.next_connection);
        self.link = Link::Opening {
            connection,
            deadline: add(now, self.config.handshake_timeout),
        };
        out.push(ClientCommand::OpenConnection(connection));
    }

    /// Closes the connection in use, if any, leaving the link `Stopped` for the caller to
    /// set what comes next.
    fn close_current(&mut self, out: &mut Vec<ClientCommand>) {
        if let Some(connection) = self.current_connection() {
            out.push(ClientCommand::CloseConnection(connection));
            self.link = Link::Stopped;
        }
    }

    /// The current connection is over (already closed by the caller or the peer). With a
    /// failure, counts it and backs off; without one (a healthy connection dropped), retries
    /// after the first, shortest backoff.
    fn connection_lost(&mut self, now: Timestamp, failure: Option<FailureKind>) {
        if let Some(kind) = failure {
            self.consecutive_failures = self.consecutive_failures.saturating_add(1);
            self.last_failure = Some(kind);
            if !kind.retries_automatically() {
                self.link = Link::Halted;
                return;
            }
        }
        if !self.online {
            self.link = Link::Offline;
            return;
        }
        let retry = self.consecutive_failures.saturating_sub(1);
        let delay = self.config.backoff.delay(retry, self.random.next_u64());
        self.link = Link::WaitingToRetry {
            retry_at: add(now, delay),
        };
    }

    /// Gives the current connection up because of `failure`.
    fn abandon(&mut self, now: Timestamp, failure: FailureKind, out: &mut Vec<ClientCommand>) {
        self.close_current(out);
        self.connection_lost(now, Some(failure));
    }

    fn on_opened(
        &mut self,
        now: Timestamp,
        connection: ConnectionId,
        out: &mut Vec<ClientCommand>,
    ) {
        match self.link {
            Link::Opening {
                connection: current,
                ..
            } if current == connection => {
                let hello = ClientMessage::Hello(Hello {
                    protocol_version: PROTOCOL_VERSION,
                    device_token: self.config.device_token.clone(),
                    last_cursor: self.cursor,
                });
                out.push(ClientCommand::Send {
                    connection,
                    text: hello.to_json(),
                });
                self.link = Link::Handshaking {
                    connection,
                    deadline: add(now, self.config.handshake_timeout),
                };
            }
            // A socket this client already gave up on.
            _ => out.push(ClientCommand::CloseConnection(connection)),
        }
    }

    fn on_closed(&mut self, now: Timestamp, connection: ConnectionId, failure: TransportFailure) {
        if self.current_connection() != Some(connection) {
            return;
        }
        let kind = FailureKind::from_transport(failure);
        let was_ready = matches!(self.link, Link::Ready(_));
        self.link = Link::Stopped;
        // A working connection that drops is not a failure unless the service said why.
        let counts_as_failure =
            !was_ready || matches!(kind, FailureKind::Authentication | FailureKind::Unavailable);
        self.connection_lost(now, counts_as_failure.then_some(kind));
    }

    fn on_timer(&mut self, now: Timestamp, out: &mut Vec<ClientCommand>) {
        match &mut self.link {
            Link::WaitingToRetry { retry_at } if now >= *retry_at => self.open(now, out),
            Link::Opening { deadline, .. } | Link::Handshaking { deadline, .. }
                if now >= *deadline =>
            {
                self.abandon(now, FailureKind::Network, out);
            }
            Link::Ready(ready) => {
                let ack_overdue = ready
                    .in_flight
                    .as_ref()
                    .is_some_and(|push| now >= push.deadline);
                let pong_overdue = ready.ping_deadline.is_some_and(|deadline| now >= deadline);
                let events_overdue = ready
                    .catch_up_deadline
                    .is_some_and(|deadline| now >= deadline);
                if ack_overdue || pong_overdue || events_overdue {
                    self.abandon(now, FailureKind::Network, out);
                } else if ready.ping_deadline.is_none()
                    && now >= add(ready.last_heard_at, self.config.ping_interval)
                {
                    ready.ping_deadline = Some(add(now, self.config.pong_timeout));
                    let connection = ready.connection;
                    out.push(ClientCommand::Send {
                        connection,
                        text: ClientMessage::Ping.to_json(),
                    });
                }
            }
            _ => {}
        }
    }

    fn on_message(
        &mut self,
        now: Timestamp,
        connection: ConnectionId,
        text: &str,
        out: &mut Vec<ClientCommand>,
    ) {
        if self.current_connection() != Some(connection) {
            return;
        }
        let message = match ServerMessage::parse(text) {
            Ok(message) => message,
            Err(error) => {
                if let ProtocolError::UnsupportedVersion { .. } = error {
                    self.abandon(now, FailureKind::UnsupportedVersion, out);
                } else {
                    out.push(ClientCommand::Warn(format!(
                        "ignored a message from the service: {error}"
                    )));
                }
                return;
            }
        };
        if let Link::Ready(ready) = &mut self.link {
            ready.last_heard_at = now;
            ready.ping_deadline = None;
        }
        match message {
            ServerMessage::Welcome(welcome) => self.on_welcome(now, connection, welcome, out),
            ServerMessage::Events(events) => self.on_events(now, events, out),
            ServerMessage::Ack(ack) => self.on_ack(now, ack, out),
            ServerMessage::Pong => {}
            ServerMessage::Error(error) => match FailureKind::from_error_code(error.code) {
                Some(kind) => self.abandon(now, kind, out),
                None => out.push(ClientCommand::Warn(format!(
                    "the service reported {:?}: {}",
                    error.code, error.message
                ))),
            },
        }
    }

    fn on_welcome(
        &mut self,
        now: Timestamp,
        connection: ConnectionId,
        welcome: Welcome,
        out: &mut Vec<ClientCommand>,
    ) {
        if !matches!(self.link, Link::Handshaking { .. }) {
            return;
        }
        self.consecutive_failures = 0;
        self.last_failure = None;
        self.made_progress = true;
        if welcome.server_cursor < self.cursor {
            // The service's history is shorter than ours (it was restored from a backup):
            // follow it, or its next events would be skipped as already applied.
            self.cursor = welcome.server_cursor;
            out.push(ClientCommand::SaveCursor(self.cursor));
        }
        self.link = Link::Ready(ReadyLink {
            connection,
            server_cursor: welcome.server_cursor,
            caught_up_once: self.cursor >= welcome.server_cursor,
            in_flight: None,
            last_heard_at: now,
            ping_deadline: None,
            catch_up_deadline: None,
        });
        self.push_if_ready(now, out);
    }

    fn on_events(&mut self, now: Timestamp, events: Events, out: &mut Vec<ClientCommand>) {
        // The service sends `welcome` first; events seen before it (only possible on a
        // network that reorders) are left to the catch-up that follows it.
        if !matches!(self.link, Link::Ready(_)) {
            return;
        }
        if events.after_cursor > self.cursor {
            // Events between our cursor and these were lost: reconnecting replays them.
            out.push(ClientCommand::Warn(format!(
                "missed events after cursor {} (received events after {}); reconnecting",
                self.cursor, events.after_cursor
            )));
            self.open(now, out);
            return;
        }
        let mut cursor = self.cursor;
        let fresh: Vec<SequencedEvent> = events
            .events
            .into_iter()
            .filter(|event| {
                let is_new = event.cursor > cursor;
                if is_new {
                    cursor = event.cursor;
                }
                is_new
            })
            .collect();
        if !fresh.is_empty() {
            self.cursor = cursor;
            self.made_progress = true;
            out.push(ClientCommand::ApplyEvents {
                events: fresh,
                then_save_cursor: cursor,
            });
        }
        if let Link::Ready(ready) = &mut self.link {
            ready.server_cursor = ready.server_cursor.max(cursor);
            if cursor >= ready.server_cursor {
                ready.caught_up_once = true;
            }
        }
        self.push_if_ready(now, out);
    }

    fn on_ack(&mut self, now: Timestamp, ack: Ack, out: &mut Vec<ClientCommand>) {
        let Link::Ready(ready) = &mut self.link else {
            return;
        };
        ready.server_cursor = ready.server_cursor.max(ack.server_cursor);
        if let Some(push) = &mut ready.in_flight {
            push.op_ids
                .retain(|id| !ack.results.iter().any(|result| &result.op_id == id));
            if push.op_ids.is_empty() {
                ready.in_flight = None;
            }
        }
        let acknowledged: Vec<OperationResult> = ack
            .results
            .into_iter()
            .filter(|result| {
                self.pending
                    .iter()
                    .any(|pending| pending.op_id == result.op_id)
            })
            .collect();
        if !acknowledged.is_empty() {
            self.pending.retain(|pending| {
                !acknowledged
                    .iter()
                    .any(|result| result.op_id == pending.op_id)
            });
            self.made_progress = true;
            out.push(ClientCommand::Acknowledged(acknowledged));
        }
        self.push_if_ready(now, out);
    }

    /// Sends the oldest pending operations when connected, caught up, and no push is in
    /// flight. Each push starts at the oldest unacknowledged operation, so the service
    /// always receives a device's operations in the order they were made.
    fn push_if_ready(&mut self, now: Timestamp, out: &mut Vec<ClientCommand>) {
        let Link::Ready(ready) = &mut self.link else {
            return;
        };
        if !ready.caught_up_once || ready.in_flight.is_some() || self.pending.is_empty() {
            return;
        }
        let budget = MAX_MESSAGE_BYTES - PUSH_ENVELOPE_BYTES;
        let limit = self
            .config
            .max_operations_per_push
            .clamp(1, MAX_OPERATIONS_PER_PUSH);
        let mut bytes = 0usize;
        let mut batch = Vec::new();
        for operation in &self.pending {
            let size = operation.encoded_len();
            if !batch.is_empty() && (batch.len() >= limit || bytes.saturating_add(size) > budget) {
                break;
            }
            bytes = bytes.saturating_add(size);
            batch.push(operation.clone());
        }
        let op_ids = batch
            .iter()
            .map(|operation| operation.op_id.clone())
            .collect();
        let text = ClientMessage::Push(Push { operations: batch }).to_json();
        ready.in_flight = Some(PushInFlight {
            op_ids,
            deadline: add(now, self.config.ack_timeout),
        });
        out.push(ClientCommand::Send {
            connection: ready.connection,
            text,
        });
    }

    fn finish(&mut self, now: Timestamp, out: &mut Vec<ClientCommand>) {
        let cursor = self.cursor;
        if let Link::Ready(ready) = &mut self.link {
            if cursor >= ready.server_cursor {
                ready.catch_up_deadline = None;
            } else if self.made_progress || ready.catch_up_deadline.is_none() {
                ready.catch_up_deadline = Some(add(now, self.config.ack_timeout));
            }
        }
        if let Link::Ready(ready) = &self.link
            && self.made_progress
            && self.in_sync(ready)
        {
            self.last_synced_at = Some(now);
        }
        let wake = self.next_wake();
        if wake != self.requested_wake
            && let Some(at) = wake
        {
            out.push(ClientCommand::WakeAt(at));
        }
        self.requested_wake = wake;
        let status = self.status();
        if self.reported_status.as_ref() != Some(&status) {
            out.push(ClientCommand::StatusChanged(status.clone()));
            self.reported_status = Some(status);
        }
    }
}

fn add(time: Timestamp, duration: Duration) -> Timestamp {
    let delta = TimeDelta::from_std(duration).unwrap_or(TimeDelta::MAX);
    time.checked_add_signed(delta)
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC)
}
