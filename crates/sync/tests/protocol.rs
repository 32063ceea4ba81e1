//! The JSON shapes of the messages, parsing errors, limits and version checks.

mod common;

use std::time::Duration;

use dreamcatcher_sync::*;
use proptest::prelude::*;
use serde_json::{Value, json};

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/messages/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

fn as_value(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

#[test]
fn client_fixtures_parse_and_serialise_to_the_same_json() {
    for name in ["client_hello.json", "client_push.json", "client_ping.json"] {
        let text = fixture(name);
        let message = ClientMessage::parse(&text).unwrap_or_else(|error| panic!("{name}: {error}"));
        assert_eq!(as_value(&message.to_json()), as_value(&text), "{name}");
    }
}

#[test]
fn server_fixtures_parse_and_serialise_to_the_same_json() {
    for name in [
        "server_welcome.json",
        "server_ack.json",
        "server_events.json",
        "server_pong.json",
        "server_error.json",
    ] {
        let text = fixture(name);
        let message = ServerMessage::parse(&text).unwrap_or_else(|error| panic!("{name}: {error}"));
        assert_eq!(as_value(&message.to_json()), as_value(&text), "{name}");
    }
}

#[test]
fn push_fixture_reads_every_operation_kind() {
    let ClientMessage::Push(push) = ClientMessage::parse(&fixture("client_push.json")).unwrap()
    else {
        panic!("not a push");
    };
    let kinds: Vec<&str> = push
        .operations
        .iter()
        .map(|op| op.change.kind_name())
        .collect();
    assert_eq!(kinds, ["upsert", "set_tags", "set_notes", "delete"]);
    let DreamChange::Upsert { dream } = &push.operations[0].change else {
        panic!()
    };
    assert_eq!(dream.conversation.messages.len(), 2);
    assert_eq!(push.operations[1].base_revision, 3);
    assert!(push.operations.iter().all(|op| op.validate().is_ok()));
}

#[test]
fn events_fixture_reads_every_event_kind() {
    let ServerMessage::Events(events) =
        ServerMessage::parse(&fixture("server_events.json")).unwrap()
    else {
        panic!("not events");
    };
    assert_eq!(events.after_cursor, 41);
    let cursors: Vec<u64> = events.events.iter().map(|event| event.cursor).collect();
    assert_eq!(cursors, [42, 43, 44, 45, 46]);
    match &events.events[1].event {
        ServerEvent::DreamUpdated {
            conflict_of,
            revision,
            dream,
        } => {
            assert_eq!(conflict_of.as_deref(), Some("dc-example-dream"));
            assert_eq!(*revision, 1);
            assert_eq!(dream.tags, ["bash"]);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(matches!(
        &events.events[3].event,
        ServerEvent::ProjectCreated { project, .. } if project["name"] == "big-files"
    ));
}

#[test]
fn operation_json_uses_kind_and_payload() {
    let operation = common::set_tags("1", "a", "dc-x", 2, &["rust"]);
    let value = serde_json::to_value(&operation).unwrap();
    assert_eq!(value["kind"], "set_tags");
    assert_eq!(value["payload"], json!({"tags": ["rust"]}));
    assert_eq!(value["base_revision"], 2);
    assert_eq!(value["created_at"], "2026-05-28T20:26:50Z");
    let delete = serde_json::to_value(common::delete("2", "a", "dc-x", 2)).unwrap();
    assert_eq!(delete["kind"], "delete");
    assert!(delete.get("payload").is_none());
}

#[test]
fn invalid_json_says_line_and_column() {
    let error = ClientMessage::parse("{\"type\": \"ping\",\n  oops}").unwrap_err();
    match &error {
        ProtocolError::InvalidJson { line, column, .. } => {
            assert_eq!(*line, 2);
            assert!(*column >= 3, "column {column}");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(error.to_string().contains("line 2"), "{error}");
    assert_eq!(error.error_code(), ErrorCode::MalformedMessage);
}

#[test]
fn missing_or_unknown_type_is_named() {
    assert!(matches!(
        ClientMessage::parse(r#"{"operations": []}"#),
        Err(ProtocolError::MissingType { .. })
    ));
    assert!(matches!(
        ClientMessage::parse(r#"{"type": 7}"#),
        Err(ProtocolError::MissingType { .. })
    ));
    let error = ClientMessage::parse(r#"{"type": "subscribe"}"#).unwrap_err();
    assert_eq!(
        error,
        ProtocolError::UnknownType {
            found: "subscribe".into(),
            expected: "hello, push, ping"
        }
    );
    // A server message sent to the server is unknown there.
    assert!(matches!(
        ClientMessage::parse(r#"{"type": "welcome", "protocol_version": 1, "server_cursor": 0}"#),
        Err(ProtocolError::UnknownType { .. })
    ));
    assert_eq!(
        ClientMessage::parse("[1, 2]"),
        Err(ProtocolError::NotAnObject)
    );
    assert_eq!(
        ServerMessage::parse("\"pong\""),
        Err(ProtocolError::NotAnObject)
    );
}

#[test]
fn a_wrong_field_is_reported_with_its_json_path() {
    let text = r#"{"type": "push", "operations": [
        {"op_id": "op-1", "device_id": "dev-a", "dream_id": "dc-1", "base_revision": "three",
         "created_at": "2026-05-01T10:00:00Z", "kind": "delete"}]}"#;
    let error = ClientMessage::parse(text).unwrap_err();
    let ProtocolError::InvalidField {
        message_type,
        path,
        line,
        ..
    } = &error
    else {
        panic!("unexpected {error:?}");
    };
    assert_eq!(*message_type, "push");
    assert!(path.starts_with("operations[0]"), "path {path}");
    assert_eq!(*line, 2);

    let error =
        ServerMessage::parse(r#"{"type": "ack", "results": [], "server_cursor": -1}"#).unwrap_err();
    let ProtocolError::InvalidField { path, .. } = &error else {
        panic!("unexpected {error:?}")
    };
    assert_eq!(path, "server_cursor");

    let error = ServerMessage::parse(
        r#"{"type": "welcome", "server_cursor": 3, "protocol_version": 1, "x": 1}"#,
    );
    assert!(error.is_ok(), "unknown fields are ignored: {error:?}");
    let error = ServerMessage::parse(r#"{"type": "welcome", "protocol_version": 1}"#).unwrap_err();
    assert!(error.to_string().contains("server_cursor"), "{error}");
}

#[test]
fn an_unknown_operation_kind_is_an_error() {
    let text = r#"{"type": "push", "operations": [
        {"op_id": "op-1", "device_id": "dev-a", "dream_id": "dc-1", "base_revision": 0,
         "created_at": "2026-05-01T10:00:00Z", "kind": "rename", "payload": {}}]}"#;
    let error = ClientMessage::parse(text).unwrap_err();
    assert!(error.to_string().contains("rename"), "{error}");
}

#[test]
fn unsupported_versions_are_refused_on_both_sides() {
    let hello =
        r#"{"type": "hello", "protocol_version": 2, "device_token": "t", "last_cursor": 0}"#;
    let error = ClientMessage::parse(hello).unwrap_err();
    assert_eq!(
        error,
        ProtocolError::UnsupportedVersion {
            found: 2,
            oldest: 1,
            newest: 1
        }
    );
    assert_eq!(error.error_code(), ErrorCode::UnsupportedVersion);
    assert!(error.error_code().closes_connection());
    // Even when the rest of a future hello has a shape this version cannot read.
    let future = r#"{"type": "hello", "protocol_version": 9, "auth": {"token": "t"}}"#;
    assert!(matches!(
        ClientMessage::parse(future),
        Err(ProtocolError::UnsupportedVersion { found: 9, .. })
    ));
    let zero = r#"{"type": "hello", "protocol_version": 0, "device_token": "t", "last_cursor": 0}"#;
    assert!(matches!(
        ClientMessage::parse(zero),
        Err(ProtocolError::UnsupportedVersion { found: 0, .. })
    ));
    let welcome = r#"{"type": "welcome", "protocol_version": 3, "server_cursor": 0}"#;
    assert!(matches!(
        ServerMessage::parse(welcome),
        Err(ProtocolError::UnsupportedVersion { found: 3, .. })
    ));
}

#[test]
fn size_and_count_limits_are_enforced() {
    let huge = format!(
        r#"{{"type": "ping", "pad": "{}"}}"#,
        "x".repeat(MAX_MESSAGE_BYTES)
    );
    let error = ClientMessage::parse(&huge).unwrap_err();
    assert!(matches!(
        error,
        ProtocolError::TooLarge {
            limit: MAX_MESSAGE_BYTES,
            ..
        }
    ));
    assert_eq!(error.error_code(), ErrorCode::MessageTooLarge);

    let operations: Vec<Operation> = (0..=MAX_OPERATIONS_PER_PUSH)
        .map(|index| common::delete(&index.to_string(), "a", "dc-1", 0))
        .collect();
    let text = ClientMessage::Push(Push { operations }).to_json();
    assert!(matches!(
        ClientMessage::parse(&text),
        Err(ProtocolError::LimitExceeded {
            path: "operations",
            ..
        })
    ));

    let token = "t".repeat(MAX_DEVICE_TOKEN_BYTES + 1);
    let hello = ClientMessage::Hello(Hello {
        protocol_version: 1,
        device_token: token,
        last_cursor: 0,
    });
    assert!(matches!(
        ClientMessage::parse(&hello.to_json()),
        Err(ProtocolError::LimitExceeded {
            path: "device_token",
            ..
        })
    ));
}

#[test]
fn operation_validation_names_the_field() {
    let long_tag = "t".repeat(MAX_TAG_BYTES + 1);
    let error = common::set_tags("1", "a", "dc-1", 0, &["ok", &long_tag])
        .validate()
        .unwrap_err();
    assert!(error.to_string().contains("payload.tags[1]"), "{error}");

    let mut mismatched = common::upsert("2", "a", 0, &common::dream("s1", "T", 1));
    mismatched.dream_id = "dc-other".into();
    assert!(matches!(
        mismatched.validate(),
        Err(OperationError::DreamIdMismatch { .. })
    ));

    let empty = common::delete("3", "a", "", 0);
    assert_eq!(
        empty.validate(),
        Err(OperationError::EmptyId { field: "dream_id" })
    );

    let mut big = common::dream("s2", "Big", 0);
    big.conversation
        .messages
        .push(dreamcatcher_model::Message::new(
            dreamcatcher_model::Role::User,
            "x".repeat(MAX_OPERATION_BYTES),
        ));
    let error = common::upsert("4", "a", 0, &big)
        .validate_for_outbox()
        .unwrap_err();
    assert!(matches!(error, OperationError::TooLarge { .. }));
}

#[test]
fn error_codes_from_a_newer_service_still_parse() {
    let message = ServerMessage::parse(
        r#"{"type": "error", "code": "rate_limited", "message": "slow down"}"#,
    )
    .unwrap();
    assert_eq!(
        message,
        ServerMessage::error(ErrorCode::Unknown, "slow down")
    );
}

proptest! {
    /// Whatever the bytes, parsing returns (never panics).
    #[test]
    fn parsing_arbitrary_text_never_panics(text in ".{0,200}") {
        let _ = ClientMessage::parse(&text);
        let _ = ServerMessage::parse(&text);
    }

    /// Messages with a valid type and random fields never panic either.
    #[test]
    fn parsing_typed_garbage_never_panics(
        kind in prop::sample::select(vec!["hello", "push", "ping", "welcome", "ack", "events", "pong", "error"]),
        body in "[\\[\\]{}:,\"a-z0-9 ]{0,80}",
    ) {
        let text = format!(r#"{{"type": "{kind}", {body}"#);
        let _ = ClientMessage::parse(&text);
        let _ = ServerMessage::parse(&text);
    }

    #[test]
    fn backoff_delay_stays_within_its_ceiling(retry in 0u32..200, random in any::<u64>()) {
        let policy = BackoffPolicy::default();
        let ceiling = policy.ceiling(retry);
        prop_assert!(ceiling <= Duration::from_secs(60));
        prop_assert!(policy.delay(retry, random) <= ceiling);
    }
}

#[test]
fn backoff_ceiling_doubles_from_one_second_to_the_sixty_second_cap() {
    let policy = BackoffPolicy::default();
    let ceilings: Vec<u64> = (0..8)
        .map(|retry| policy.ceiling(retry).as_secs())
        .collect();
    assert_eq!(ceilings, [1, 2, 4, 8, 16, 32, 60, 60]);
    assert_eq!(policy.ceiling(u32::MAX), Duration::from_secs(60));
    // Full jitter: the extremes of the random value reach both ends of the range.
    assert_eq!(policy.delay(3, 0), Duration::ZERO);
    assert_eq!(policy.delay(3, u64::MAX), Duration::from_secs(8));
    assert_eq!(policy.delay(40, u64::MAX), Duration::from_secs(60));
    // And the middle lands in the middle.
    let middle = policy.delay(2, u64::MAX / 2);
    assert!(
        middle >= Duration::from_millis(1990) && middle <= Duration::from_millis(2010),
        "{middle:?}"
    );
}

#[test]
fn generated_ids_have_their_shape_and_differ() {
    let mut random = common::SeededRandom::new(7);
    let a = OpId::generate(&mut random);
    let b = OpId::generate(&mut random);
    assert_ne!(a, b);
    assert!(
        a.as_str().starts_with("op-") && a.as_str().len() == 35,
        "{a}"
    );
    let device = DeviceId::generate(&mut random);
    assert!(
        device.as_str().starts_with("dev-") && device.as_str().len() == 36,
        "{device}"
    );
}
