//! The client state machine, input by input.

mod common;

use std::time::Duration;

use common::{FixedRandom, at, dream, run, set_tags, upsert};
use dreamcatcher_model::Timestamp;
use dreamcatcher_sync::*;

const C1: ConnectionId = ConnectionId(1);

struct Harness {
    client: SyncClient<FixedRandom>,
    now: Timestamp,
}

impl Harness {
    fn new(pending: Vec<Operation>, cursor: Cursor) -> Self {
        Self::with_random(pending, cursor, u64::MAX)
    }

    fn with_random(pending: Vec<Operation>, cursor: Cursor, random: u64) -> Self {
        let config = SyncClientConfig::new("token-1");
        Harness {
            client: SyncClient::restore(config, pending, cursor, FixedRandom(random)),
            now: at(0),
        }
    }

    fn input(&mut self, input: ClientInput) -> Vec<ClientCommand> {
        self.client.handle(self.now, input)
    }

    fn advance(&mut self, duration: Duration) -> Vec<ClientCommand> {
        self.now += chrono::TimeDelta::from_std(duration).unwrap();
        self.input(ClientInput::TimerFired)
    }

    fn receive(&mut self, connection: ConnectionId, message: ServerMessage) -> Vec<ClientCommand> {
        self.input(ClientInput::MessageReceived(connection, message.to_json()))
    }

    /// Start, open, welcome with `server_cursor`.
    fn connect(&mut self, server_cursor: Cursor) -> Vec<ClientCommand> {
        self.input(ClientInput::Start);
        self.input(ClientInput::ConnectionOpened(C1));
        self.receive(C1, welcome(server_cursor))
    }

    fn state(&self) -> ConnectionState {
        self.client.status().state
    }
}

fn welcome(server_cursor: Cursor) -> ServerMessage {
    ServerMessage::Welcome(Welcome {
        protocol_version: PROTOCOL_VERSION,
        server_cursor,
    })
}

fn sent(commands: &[ClientCommand]) -> Vec<ClientMessage> {
    commands
        .iter()
        .filter_map(|command| match command {
            ClientCommand::Send { text, .. } => Some(ClientMessage::parse(text).unwrap()),
            _ => None,
        })
        .collect()
}

fn pushed_ids(commands: &[ClientCommand]) -> Vec<String> {
    sent(commands)
        .into_iter()
        .filter_map(|message| match message {
            ClientMessage::Push(push) => Some(push.operations),
            _ => None,
        })
        .flatten()
        .map(|operation| operation.op_id.0)
        .collect()
}

fn ack(ids: &[&Operation], server_cursor: Cursor) -> ServerMessage {
    ServerMessage::Ack(Ack {
        results: ids
            .iter()
            .map(|operation| OperationResult {
                op_id: operation.op_id.clone(),
                outcome: OperationOutcome::Applied { revision: 1 },
            })
            .collect(),
        server_cursor,
    })
}

fn updated_event(cursor: Cursor, site_id: &str) -> SequencedEvent {
    SequencedEvent {
        cursor,
        event: ServerEvent::DreamUpdated {
            dream: Box::new(dream(site_id, "T", 1)),
            revision: 1,
            conflict_of: None,
        },
    }
}

fn events(after_cursor: Cursor, events: Vec<SequencedEvent>) -> ServerMessage {
    ServerMessage::Events(Events {
        after_cursor,
        events,
    })
}

fn has_open(commands: &[ClientCommand]) -> bool {
    commands
        .iter()
        .any(|command| matches!(command, ClientCommand::OpenConnection(_)))
}

fn has_close(commands: &[ClientCommand], connection: ConnectionId) -> bool {
    commands.contains(&ClientCommand::CloseConnection(connection))
}

#[test]
fn start_opens_then_says_hello_with_the_stored_cursor() {
    let mut harness = Harness::new(vec![], 41);
    let commands = harness.input(ClientInput::Start);
    assert_eq!(commands[0], ClientCommand::OpenConnection(C1));
    assert!(
        commands.contains(&ClientCommand::WakeAt(at(15))),
        "handshake deadline: {commands:?}"
    );
    assert_eq!(harness.state(), ConnectionState::Connecting);
    let commands = harness.input(ClientInput::ConnectionOpened(C1));
    assert_eq!(
        sent(&commands),
        [ClientMessage::Hello(Hello {
            protocol_version: PROTOCOL_VERSION,
            device_token: "token-1".into(),
            last_cursor: 41
        })]
    );
}

#[test]
fn catches_up_before_pushing_then_reports_connected() {
    let first = upsert("1", "a", 0, &dream("s1", "One", 1));
    let second = set_tags("2", "a", first.dream_id.as_str(), 0, &["x"]);
    let mut harness = Harness::new(vec![first.clone(), second.clone()], 3);
    let commands = harness.connect(5);
    assert!(pushed_ids(&commands).is_empty(), "no push before catch-up");
    assert_eq!(harness.state(), ConnectionState::Syncing);

    let commands = harness.receive(
        C1,
        events(3, vec![updated_event(4, "s9"), updated_event(5, "s8")]),
    );
    let apply = commands.iter().find_map(|command| match command {
        ClientCommand::ApplyEvents {
            events,
            then_save_cursor,
        } => Some((events.len(), *then_save_cursor)),
        _ => None,
    });
    assert_eq!(apply, Some((2, 5)));
    assert_eq!(
        pushed_ids(&commands),
        ["op-1", "op-2"],
        "the outbox, oldest first"
    );

    harness.now = at(3);
    let commands = harness.receive(C1, ack(&[&first, &second], 7));
    assert!(
        commands
            .iter()
            .any(|c| matches!(c, ClientCommand::Acknowledged(results) if results.len() == 2))
    );
    assert!(harness.client.pending_operations().is_empty());
    assert_eq!(
        harness.state(),
        ConnectionState::Syncing,
        "its own events are still to come"
    );
    harness.now = at(4);
    harness.receive(
        C1,
        events(5, vec![updated_event(6, "s1"), updated_event(7, "s7")]),
    );
    let status = harness.client.status();
    assert_eq!(status.state, ConnectionState::Connected);
    assert_eq!(status.last_synced_at, Some(at(4)));
    assert_eq!(status.pending_operations, 0);
}

#[test]
fn record_operation_stores_durably_before_sending() {
    let mut harness = Harness::new(vec![], 0);
    harness.connect(0);
    let mut store = MemoryOutboxStore::new();
    let operation = upsert("1", "a", 0, &dream("s1", "One", 1));
    let commands = run(harness
        .client
        .record_operation(&mut store, operation.clone(), at(1)))
    .unwrap();
    assert_eq!(run(store.operations()).unwrap(), [operation]);
    assert_eq!(pushed_ids(&commands), ["op-1"]);
    assert_eq!(harness.client.status().pending_operations, 1);

    let mut big = dream("s2", "Big", 0);
    big.notes = "n".repeat(MAX_NOTES_BYTES + 1);
    let refused =
        run(harness
            .client
            .record_operation(&mut store, upsert("2", "a", 0, &big), at(1)));
    assert!(matches!(refused, Err(RecordError::Invalid(_))));
    assert_eq!(
        run(store.operations()).unwrap().len(),
        1,
        "a refused operation is not stored"
    );
}

#[test]
fn one_push_at_a_time_in_order_bounded_in_size() {
    let operations: Vec<Operation> = (0..250)
        .map(|n| set_tags(&format!("{n:03}"), "a", "dc-1", 0, &["x"]))
        .collect();
    let mut harness = Harness::new(operations.clone(), 0);
    let commands = harness.connect(0);
    let first: Vec<String> = pushed_ids(&commands);
    assert_eq!(first.len(), MAX_OPERATIONS_PER_PUSH);
    assert_eq!(first[0], "op-000");
    // A new operation while a push is in flight waits.
    let extra = set_tags("new", "a", "dc-1", 0, &["y"]);
    assert!(pushed_ids(&harness.input(ClientInput::OperationRecorded(extra))).is_empty());
    // Only when the push is acknowledged does the next start, from the oldest left.
    let batch: Vec<&Operation> = operations[..100].iter().collect();
    let commands = harness.receive(C1, ack(&batch, 0));
    let next = pushed_ids(&commands);
    assert_eq!(next.first().map(String::as_str), Some("op-100"));
    assert_eq!(next.len(), 100);
}

#[test]
fn unknown_and_repeated_acks_are_ignored() {
    let first = set_tags("1", "a", "dc-1", 0, &["x"]);
    let mut harness = Harness::new(vec![first.clone()], 0);
    harness.connect(0);
    let stranger = set_tags("zz", "a", "dc-1", 0, &["x"]);
    let commands = harness.receive(C1, ack(&[&stranger], 0));
    assert!(
        !commands
            .iter()
            .any(|c| matches!(c, ClientCommand::Acknowledged(_)))
    );
    assert_eq!(harness.client.pending_operations().len(), 1);
    harness.receive(C1, ack(&[&first], 0));
    let commands = harness.receive(C1, ack(&[&first], 0));
    assert!(
        !commands
            .iter()
            .any(|c| matches!(c, ClientCommand::Acknowledged(_)))
    );
}

#[test]
fn failures_back_off_exponentially_up_to_the_cap() {
    // The largest random value gives each range's upper end.
    let mut harness = Harness::new(vec![], 0);
    harness.input(ClientInput::Start);
    let mut delays = Vec::new();
    let mut connection = C1;
    for _ in 0..9 {
        harness.input(ClientInput::ConnectionClosed(
            connection,
            TransportFailure::Refused,
        ));
        let status = harness.client.status();
        assert_eq!(
            status.state,
            ConnectionState::Error(FailureKind::ServerNotRunning)
        );
        let retry_at = status.next_retry_at.unwrap();
        delays.push((retry_at - harness.now).num_seconds());
        harness.now = retry_at;
        let commands = harness.input(ClientInput::TimerFired);
        connection = commands
            .iter()
            .find_map(|c| match c {
                ClientCommand::OpenConnection(id) => Some(*id),
                _ => None,
            })
            .expect("a retry opens a connection");
    }
    assert_eq!(delays, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
    // A welcome resets the count.
    harness.input(ClientInput::ConnectionOpened(connection));
    harness.receive(connection, welcome(0));
    harness.input(ClientInput::ConnectionClosed(
        connection,
        TransportFailure::Closed { code: 1006 },
    ));
    let status = harness.client.status();
    assert_eq!(
        status.state,
        ConnectionState::Connecting,
        "a dropped working connection is not an error"
    );
    assert_eq!(
        status.next_retry_at,
        Some(harness.now + chrono::TimeDelta::seconds(1))
    );
}

#[test]
fn jitter_comes_from_the_injected_randomness() {
    let mut harness = Harness::with_random(vec![], 0, 0);
    harness.input(ClientInput::Start);
    harness.input(ClientInput::ConnectionClosed(
        C1,
        TransportFailure::Unreachable,
    ));
    assert_eq!(harness.client.status().next_retry_at, Some(harness.now));
    assert_eq!(
        harness.state(),
        ConnectionState::Error(FailureKind::Network)
    );
}

#[test]
fn authentication_failure_halts_until_a_new_token() {
    let mut harness = Harness::new(vec![], 0);
    harness.input(ClientInput::Start);
    harness.input(ClientInput::ConnectionOpened(C1));
    let commands = harness.receive(
        C1,
        ServerMessage::error(ErrorCode::AuthenticationFailed, "revoked"),
    );
    assert!(has_close(&commands, C1));
    let status = harness.client.status();
    assert_eq!(
        status.state,
        ConnectionState::Error(FailureKind::Authentication)
    );
    assert_eq!(status.next_retry_at, None);
    assert!(!has_open(&harness.advance(Duration::from_secs(3600))));
    harness.input(ClientInput::NetworkChanged { online: false });
    assert!(!has_open(
        &harness.input(ClientInput::NetworkChanged { online: true })
    ));
    assert_eq!(
        harness.state(),
        ConnectionState::Error(FailureKind::Authentication)
    );
    let commands = harness.input(ClientInput::DeviceTokenChanged("token-2".into()));
    assert!(has_open(&commands));
    let commands = harness.input(ClientInput::ConnectionOpened(ConnectionId(2)));
    assert!(
        matches!(&sent(&commands)[0], ClientMessage::Hello(hello) if hello.device_token == "token-2")
    );
}

#[test]
fn a_newer_service_halts_with_unsupported_version() {
    let mut harness = Harness::new(vec![], 0);
    harness.input(ClientInput::Start);
    harness.input(ClientInput::ConnectionOpened(C1));
    let text = r#"{"type": "welcome", "protocol_version": 2, "server_cursor": 0}"#;
    let commands = harness.input(ClientInput::MessageReceived(C1, text.into()));
    assert!(has_close(&commands, C1));
    assert_eq!(
        harness.state(),
        ConnectionState::Error(FailureKind::UnsupportedVersion)
    );
    assert!(!FailureKind::UnsupportedVersion.retries_automatically());
    assert!(
        FailureKind::UnsupportedVersion
            .user_message()
            .contains("update")
    );
}

#[test]
fn an_unavailable_service_is_retried() {
    let mut harness = Harness::new(vec![], 0);
    harness.connect(0);
    let commands = harness.receive(C1, ServerMessage::error(ErrorCode::Unavailable, "db down"));
    assert!(has_close(&commands, C1));
    assert_eq!(
        harness.state(),
        ConnectionState::Error(FailureKind::Unavailable)
    );
    assert!(harness.client.status().next_retry_at.is_some());
}

#[test]
fn a_quiet_connection_is_pinged_and_dropped_without_pong() {
    let mut harness = Harness::new(vec![], 0);
    harness.connect(0);
    assert!(sent(&harness.advance(Duration::from_secs(24))).is_empty());
    let commands = harness.advance(Duration::from_secs(1));
    assert_eq!(sent(&commands), [ClientMessage::Ping]);
    // A pong keeps it.
    harness.receive(C1, ServerMessage::Pong);
    assert!(!has_close(&harness.advance(Duration::from_secs(10)), C1));
    // The next ping goes unanswered.
    let commands = harness.advance(Duration::from_secs(15));
    assert_eq!(sent(&commands), [ClientMessage::Ping]);
    let commands = harness.advance(Duration::from_secs(10));
    assert!(has_close(&commands, C1));
    assert_eq!(
        harness.state(),
        ConnectionState::Error(FailureKind::Network)
    );
}

#[test]
fn a_push_without_ack_ends_the_connection_and_is_resent_after_reconnect() {
    let operation = set_tags("1", "a", "dc-1", 0, &["x"]);
    let mut harness = Harness::new(vec![operation.clone()], 0);
    assert_eq!(pushed_ids(&harness.connect(0)), ["op-1"]);
    // Pongs keep arriving, but the ack never does.
    harness.advance(Duration::from_secs(25));
    harness.receive(C1, ServerMessage::Pong);
    let commands = harness.advance(Duration::from_secs(5));
    assert!(has_close(&commands, C1));
    let retry_at = harness.client.status().next_retry_at.unwrap();
    harness.now = retry_at;
    let commands = harness.input(ClientInput::TimerFired);
    assert!(commands.contains(&ClientCommand::OpenConnection(ConnectionId(2))));
    harness.input(ClientInput::ConnectionOpened(ConnectionId(2)));
    let commands = harness.receive(ConnectionId(2), welcome(0));
    assert_eq!(pushed_ids(&commands), ["op-1"], "resent");
}

#[test]
fn a_gap_in_events_reconnects_to_catch_up() {
    let mut harness = Harness::new(vec![], 2);
    harness.connect(2);
    let commands = harness.receive(C1, events(4, vec![updated_event(5, "s1")]));
    assert!(
        !commands
            .iter()
            .any(|c| matches!(c, ClientCommand::ApplyEvents { .. }))
    );
    assert!(has_close(&commands, C1));
    assert!(commands.contains(&ClientCommand::OpenConnection(ConnectionId(2))));
    assert_eq!(harness.client.cursor(), 2);
}

#[test]
fn replayed_and_out_of_order_events_are_skipped() {
    let mut harness = Harness::new(vec![], 5);
    harness.connect(6);
    let commands = harness.receive(
        C1,
        events(
            3,
            vec![
                updated_event(4, "a"),
                updated_event(5, "b"),
                updated_event(6, "c"),
                updated_event(6, "d"),
            ],
        ),
    );
    let applied: Vec<Cursor> = commands
        .iter()
        .filter_map(|c| match c {
            ClientCommand::ApplyEvents { events, .. } => {
                Some(events.iter().map(|e| e.cursor).collect::<Vec<_>>())
            }
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(applied, [6]);
    assert_eq!(harness.state(), ConnectionState::Connected);
}

#[test]
fn messages_from_abandoned_connections_are_ignored() {
    let mut harness = Harness::new(vec![], 0);
    harness.input(ClientInput::Start);
    // The handshake times out; a new attempt starts.
    harness.advance(Duration::from_secs(15));
    let retry_at = harness.client.status().next_retry_at.unwrap();
    harness.now = retry_at;
    harness.input(ClientInput::TimerFired);
    // The old socket opens late: it is closed, not used.
    let commands = harness.input(ClientInput::ConnectionOpened(C1));
    assert_eq!(commands, [ClientCommand::CloseConnection(C1)]);
    let commands = harness.receive(C1, welcome(0));
    assert!(commands.is_empty(), "{commands:?}");
    assert_eq!(harness.state(), ConnectionState::Connecting);
}

#[test]
fn unreadable_messages_are_logged_and_the_connection_kept() {
    let mut harness = Harness::new(vec![], 0);
    harness.connect(0);
    let commands = harness.input(ClientInput::MessageReceived(C1, "{not json".into()));
    assert!(
        matches!(&commands[..], [ClientCommand::Warn(text)] if text.contains("not valid JSON"))
    );
    assert_eq!(harness.state(), ConnectionState::Connected);
    let commands = harness.receive(
        C1,
        ServerMessage::error(ErrorCode::MalformedMessage, "bad push"),
    );
    assert!(!has_close(&commands, C1));
}

#[test]
fn offline_stops_trying_and_online_reconnects_at_once() {
    let mut harness = Harness::new(vec![], 0);
    harness.connect(0);
    let commands = harness.input(ClientInput::NetworkChanged { online: false });
    assert!(has_close(&commands, C1));
    assert_eq!(harness.state(), ConnectionState::Offline);
    assert!(!has_open(&harness.advance(Duration::from_secs(600))));
    let commands = harness.input(ClientInput::NetworkChanged { online: true });
    assert!(commands.contains(&ClientCommand::OpenConnection(ConnectionId(2))));
}

#[test]
fn a_service_with_a_shorter_history_resets_the_cursor() {
    let mut harness = Harness::new(vec![], 90);
    let commands = harness.connect(12);
    assert!(commands.contains(&ClientCommand::SaveCursor(12)));
    assert_eq!(harness.client.cursor(), 12);
}

#[test]
fn failure_kinds_map_from_what_the_transport_saw() {
    use FailureKind::*;
    let cases = [
        (TransportFailure::Refused, ServerNotRunning),
        (TransportFailure::Unreachable, Network),
        (TransportFailure::TimedOut, Network),
        (TransportFailure::HttpStatus { status: 401 }, Authentication),
        (TransportFailure::HttpStatus { status: 503 }, Unavailable),
        (TransportFailure::Closed { code: 4401 }, Authentication),
        (TransportFailure::Closed { code: 1013 }, Unavailable),
        (TransportFailure::Closed { code: 1006 }, Network),
    ];
    for (failure, kind) in cases {
        assert_eq!(FailureKind::from_transport(failure), kind, "{failure:?}");
    }
    assert!(
        ServerNotRunning
            .user_message()
            .contains("PipelineOS is running")
    );
    assert!(
        Authentication
            .suggested_actions()
            .contains(&SuggestedAction::Reauthorize)
    );
    assert_eq!(SuggestedAction::WorkOffline.label(), "Work Offline");
}

#[test]
fn status_changes_are_reported_once() {
    let mut harness = Harness::new(vec![], 0);
    let commands = harness.input(ClientInput::Start);
    let statuses = commands
        .iter()
        .filter(|c| matches!(c, ClientCommand::StatusChanged(_)))
        .count();
    assert_eq!(statuses, 1);
    let commands = harness.input(ClientInput::TimerFired);
    assert!(
        !commands
            .iter()
            .any(|c| matches!(c, ClientCommand::StatusChanged(_)))
    );
}

#[test]
fn events_before_welcome_are_left_to_the_catch_up() {
    let mut harness = Harness::new(vec![], 0);
    harness.input(ClientInput::Start);
    harness.input(ClientInput::ConnectionOpened(C1));
    // Overtook the welcome on a reordering network.
    let commands = harness.receive(C1, events(2, vec![updated_event(3, "s1")]));
    assert!(
        commands.is_empty()
            || !commands
                .iter()
                .any(|c| matches!(c, ClientCommand::ApplyEvents { .. }))
    );
    let commands = harness.receive(C1, welcome(2));
    assert!(
        !commands
            .iter()
            .any(|c| matches!(c, ClientCommand::SaveCursor(_))),
        "{commands:?}"
    );
    assert_eq!(harness.client.cursor(), 0);
    assert_eq!(harness.state(), ConnectionState::Syncing);
}

#[test]
fn events_that_never_come_end_the_connection() {
    let operation = set_tags("1", "a", "dc-1", 0, &["x"]);
    let mut harness = Harness::new(vec![operation.clone()], 0);
    harness.connect(0);
    // The ack says events up to 4 exist; they never arrive, though pongs do.
    harness.receive(C1, ack(&[&operation], 4));
    assert_eq!(harness.state(), ConnectionState::Syncing);
    harness.advance(Duration::from_secs(25));
    harness.receive(C1, ServerMessage::Pong);
    let commands = harness.advance(Duration::from_secs(5));
    assert!(has_close(&commands, C1), "{commands:?}");
    assert!(harness.client.status().next_retry_at.is_some());
}

#[test]
fn a_retry_due_at_once_after_a_timeout_is_still_scheduled() {
    // Zero jitter: the retry after the handshake timeout is due at that same instant.
    let mut harness = Harness::with_random(vec![], 0, 0);
    harness.input(ClientInput::Start);
    let commands = harness.advance(Duration::from_secs(15));
    assert!(has_close(&commands, C1));
    assert!(
        commands.contains(&ClientCommand::WakeAt(harness.now)),
        "{commands:?}"
    );
    let commands = harness.input(ClientInput::TimerFired);
    assert!(commands.contains(&ClientCommand::OpenConnection(ConnectionId(2))));
}
