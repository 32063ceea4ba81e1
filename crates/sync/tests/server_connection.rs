//! The service's per-connection protocol over the in-memory store.

mod common;

use std::future::{Future, ready};

use common::{dream, run, set_tags, upsert};
use dreamcatcher_sync::server::*;
use dreamcatcher_sync::*;
use serde_json::json;

fn user() -> UserId {
    UserId("user-1".into())
}

fn tokens() -> TokenTable {
    TokenTable::new().with_token("good-token", user())
}

fn hello(last_cursor: Cursor) -> String {
    ClientMessage::Hello(Hello {
        protocol_version: PROTOCOL_VERSION,
        device_token: "good-token".into(),
        last_cursor,
    })
    .to_json()
}

fn push(operations: Vec<Operation>) -> String {
    ClientMessage::Push(Push { operations }).to_json()
}

fn handle(connection: &mut ServerConnection, store: &MemoryServerStore, text: &str) -> ServerReply {
    run(connection.handle_text(text, store, &tokens())).unwrap()
}

fn drain(connection: &mut ServerConnection, store: &MemoryServerStore) -> Vec<Events> {
    let mut pages = Vec::new();
    while let Some(message) = run(connection.next_events(store)).unwrap() {
        match message {
            ServerMessage::Events(events) => pages.push(events),
            other => panic!("unexpected {other:?}"),
        }
    }
    pages
}

fn error_code(reply: &ServerReply) -> Option<ErrorCode> {
    match reply.messages.as_slice() {
        [ServerMessage::Error(error)] => Some(error.code),
        _ => None,
    }
}

#[test]
fn before_hello_only_ping_is_answered() {
    let store = MemoryServerStore::new();
    let mut connection = ServerConnection::new();
    let reply = handle(&mut connection, &store, r#"{"type":"ping"}"#);
    assert_eq!(reply.messages, [ServerMessage::Pong]);
    let reply = handle(
        &mut connection,
        &store,
        &push(vec![set_tags("1", "a", "dc-1", 0, &["x"])]),
    );
    assert_eq!(error_code(&reply), Some(ErrorCode::NotAuthenticated));
    assert!(!reply.close);
    assert!(store.user_data(&user()).processed.is_empty());
    assert!(drain(&mut connection, &store).is_empty());
}

#[test]
fn a_malformed_message_gets_an_error_and_the_connection_stays_up() {
    let store = MemoryServerStore::new();
    let mut connection = ServerConnection::new();
    let reply = handle(
        &mut connection,
        &store,
        r#"{"type": "push", "operations": 5}"#,
    );
    assert_eq!(error_code(&reply), Some(ErrorCode::MalformedMessage));
    assert!(!reply.close);
    let ServerMessage::Error(error) = &reply.messages[0] else {
        unreachable!()
    };
    assert!(error.message.contains("operations"), "{}", error.message);
    // The same connection can still say hello.
    let reply = handle(&mut connection, &store, &hello(0));
    assert!(matches!(reply.messages[0], ServerMessage::Welcome(_)));
}

#[test]
fn bad_tokens_and_versions_are_refused_and_closed() {
    let store = MemoryServerStore::new();
    let mut connection = ServerConnection::new();
    let bad = ClientMessage::Hello(Hello {
        protocol_version: 1,
        device_token: "stolen".into(),
        last_cursor: 0,
    });
    let reply = handle(&mut connection, &store, &bad.to_json());
    assert_eq!(error_code(&reply), Some(ErrorCode::AuthenticationFailed));
    assert!(reply.close);
    assert_eq!(connection.user(), None);

    let mut connection = ServerConnection::new();
    let future = r#"{"type": "hello", "protocol_version": 7, "device_token": "good-token", "last_cursor": 0}"#;
    let reply = handle(&mut connection, &store, future);
    assert_eq!(error_code(&reply), Some(ErrorCode::UnsupportedVersion));
    assert!(reply.close);
}

struct DownAuthenticator;

impl DeviceAuthenticator for DownAuthenticator {
    fn authenticate(
        &self,
        _: &str,
    ) -> impl Future<Output = Result<UserId, AuthenticationFailure>> + Send {
        ready(Err(AuthenticationFailure::Unavailable))
    }
}

#[test]
fn an_auth_outage_is_unavailable_not_a_bad_token() {
    let store = MemoryServerStore::new();
    let mut connection = ServerConnection::new();
    let reply = run(connection.handle_text(&hello(0), &store, &DownAuthenticator)).unwrap();
    assert_eq!(error_code(&reply), Some(ErrorCode::Unavailable));
    assert!(reply.close);
}

#[test]
fn hello_replays_missed_events_in_bounded_contiguous_pages() {
    let store = MemoryServerStore::new();
    for n in 0..250 {
        let captured = dream(&format!("site-{n}"), "T", 1);
        run(process_operation(
            &store,
            &user(),
            &upsert(&n.to_string(), "a", 0, &captured),
        ))
        .unwrap();
    }
    let mut connection = ServerConnection::new();
    let reply = handle(&mut connection, &store, &hello(20));
    assert_eq!(
        reply.messages,
        [ServerMessage::Welcome(Welcome {
            protocol_version: PROTOCOL_VERSION,
            server_cursor: 250
        })]
    );
    let pages = drain(&mut connection, &store);
    let sizes: Vec<usize> = pages.iter().map(|page| page.events.len()).collect();
    assert_eq!(sizes, [100, 100, 30]);
    let mut expected_after = 20;
    for page in &pages {
        assert_eq!(page.after_cursor, expected_after);
        expected_after = page.events.last().unwrap().cursor;
    }
    assert_eq!(expected_after, 250);
    let reply = handle(&mut connection, &store, &hello(0));
    assert_eq!(error_code(&reply), Some(ErrorCode::UnexpectedMessage));
}

#[test]
fn a_push_is_acknowledged_and_its_events_reach_every_connection_of_the_user() {
    let store = MemoryServerStore::new();
    let mut laptop = ServerConnection::new();
    let mut desktop = ServerConnection::new();
    handle(&mut laptop, &store, &hello(0));
    handle(&mut desktop, &store, &hello(0));
    let captured = dream("site-1", "T", 1);
    let operations = vec![
        upsert("1", "a", 0, &captured),
        set_tags("2", "a", captured.id(), 1, &["x"]),
    ];
    let reply = handle(&mut laptop, &store, &push(operations.clone()));
    assert_eq!(reply.new_events_for, Some(user()));
    let [ServerMessage::Ack(ack)] = reply.messages.as_slice() else {
        panic!("{reply:?}")
    };
    assert_eq!(ack.server_cursor, 2);
    let outcomes: Vec<&OperationOutcome> =
        ack.results.iter().map(|result| &result.outcome).collect();
    assert_eq!(
        outcomes,
        [
            &OperationOutcome::Applied { revision: 1 },
            &OperationOutcome::Applied { revision: 2 }
        ]
    );
    for connection in [&mut laptop, &mut desktop] {
        let pages = drain(connection, &store);
        assert_eq!(pages.len(), 1);
        assert_eq!(pages[0].events.len(), 2);
    }
    // Resent: acknowledged as duplicates, nothing new to tell anyone.
    let reply = handle(&mut desktop, &store, &push(operations));
    assert_eq!(reply.new_events_for, None);
    let [ServerMessage::Ack(ack)] = reply.messages.as_slice() else {
        panic!("{reply:?}")
    };
    assert!(
        ack.results
            .iter()
            .all(|result| result.outcome == OperationOutcome::Duplicate)
    );
    assert!(drain(&mut laptop, &store).is_empty());
}

#[test]
fn published_pipelineos_events_reach_devices() {
    let store = MemoryServerStore::new();
    let mut connection = ServerConnection::new();
    handle(&mut connection, &store, &hello(0));
    let event = ServerEvent::ProjectCreated {
        dream_id: "dc-1".into(),
        project: json!({"id": "p-1"}),
    };
    let recorded = run(publish_event(&store, &user(), event.clone())).unwrap();
    assert_eq!(recorded[0].cursor, 1);
    let pages = drain(&mut connection, &store);
    assert_eq!(pages[0].events[0].event, event);
}
