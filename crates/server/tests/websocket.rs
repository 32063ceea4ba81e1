//! The sync WebSocket and the implement flow, over real connections, on SQLite and (with
//! DATABASE_URL_TEST) on PostgreSQL; and two instances sharing one PostgreSQL database.

mod common;

use std::time::Duration;

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::post;
use chrono::TimeZone;
use common::{
    Backend, TestServer, WsClient, assert_error, fixture_conversation, fixture_conversations,
};
use dreamcatcher_model::Dream;
use dreamcatcher_sync::{
    ClientMessage, DeviceId, ErrorCode, OpId, Operation, OperationOutcome, Push, ServerMessage,
};
use serde_json::{Value, json};
use tokio::sync::mpsc;

fn upsert(op: &str, index: usize) -> Operation {
    let at = chrono::Utc.with_ymd_and_hms(2026, 5, 3, 12, 0, 0).unwrap();
    Operation::upsert(
        OpId(format!("op-{op}")),
        DeviceId("dev-test-browser".into()),
        0,
        Dream::captured(fixture_conversation(index), at),
        at,
    )
}

fn push(operations: Vec<Operation>) -> ClientMessage {
    ClientMessage::Push(Push { operations })
}

fn expect_ack(message: ServerMessage) -> dreamcatcher_sync::Ack {
    match message {
        ServerMessage::Ack(ack) => ack,
        other => panic!("expected an ack, got {other:?}"),
    }
}

fn expect_error(message: Option<ServerMessage>, code: ErrorCode) -> String {
    match message {
        Some(ServerMessage::Error(error)) if error.code == code => error.message,
        other => panic!("expected a {code:?} error, got {other:?}"),
    }
}

/// The next message that is not an `events` page.
async fn recv_skipping_events(client: &mut WsClient) -> ServerMessage {
    loop {
        match client.recv().await {
            ServerMessage::Events(_) => continue,
            other => return other,
        }
    }
}

async fn push_is_applied_once_and_replayed_on_reconnect(backend: Backend) {
    let Some(server) = TestServer::start(backend, |_| {}).await else {
        return;
    };
    let token = server.user_token("alice").await;
    let mut client = WsClient::connect(&server.ws_url(), None).await;
    let welcome = client.hello(&token, 0).await;
    assert_eq!(welcome.server_cursor, 0);

    let operation = upsert("first-capture", 0);
    client.send(&push(vec![operation.clone()])).await;
    let ack = expect_ack(recv_skipping_events(&mut client).await);
    assert_eq!(
        ack.results[0].outcome,
        OperationOutcome::Applied { revision: 1 }
    );
    let events = client.events_until(ack.server_cursor).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["type"], "dream_updated");
    assert_eq!(events[0]["dream"]["conversation"]["id"], operation.dream_id);

    // The same operation again (a resend after a lost ack): acknowledged, not re-applied.
    client
        .send(&push(vec![operation.clone(), upsert("second-capture", 1)]))
        .await;
    let ack = expect_ack(recv_skipping_events(&mut client).await);
    assert_eq!(ack.results[0].outcome, OperationOutcome::Duplicate);
    assert_eq!(
        ack.results[1].outcome,
        OperationOutcome::Applied { revision: 1 }
    );
    assert_eq!(
        ack.server_cursor, 2,
        "one event per applied change, none for the duplicate"
    );

    let (_, list) = server.get(&token, "/api/v1/dreams").await;
    assert_eq!(list["total"], 2);
    let (_, dream) = server
        .get(&token, &format!("/api/v1/dreams/{}", operation.dream_id))
        .await;
    assert_eq!(dream["revision"], 1);

    // A device that was offline catches up from its cursor, and only from it.
    let mut late = WsClient::connect(&server.ws_url(), None).await;
    let welcome = late.hello(&token, 1).await;
    assert_eq!(welcome.server_cursor, 2);
    let replay = late.events_until(2).await;
    assert_eq!(replay.len(), 1);
    assert_eq!(replay[0]["cursor"], 2);
    let mut fresh = WsClient::connect(&server.ws_url(), None).await;
    fresh.hello(&token, 0).await;
    assert_eq!(fresh.events_until(2).await.len(), 2);
    let mut current = WsClient::connect(&server.ws_url(), None).await;
    current.hello(&token, 2).await;
    assert!(current.until_pong().await.is_empty(), "nothing to replay");
    server.stop().await;
}

async fn events_reach_every_connection_of_the_user_only(backend: Backend) {
    let Some(server) = TestServer::start(backend, |_| {}).await else {
        return;
    };
    let alice = server.user_token("alice").await;
    let bob = server.user_token("bob").await;
    let mut alice_browser = WsClient::connect(&server.ws_url(), None).await;
    alice_browser.hello(&alice, 0).await;
    // The header form of authentication: `hello` with an empty token.
    let mut bob_browser = WsClient::connect(&server.ws_url(), Some(&bob)).await;
    bob_browser.hello("", 0).await;

    let (status, body) = server.capture(&alice, &fixture_conversations()[0]).await;
    assert_eq!(status, 201);
    let event = alice_browser.next_event("dream_updated").await;
    assert_eq!(event["dream"]["conversation"]["id"], body["id"]);
    assert_eq!(event["revision"], 1);
    server
        .patch(
            &alice,
            &format!("/api/v1/dreams/{}", body["id"].as_str().unwrap()),
            &json!({"tags": ["t"]}),
        )
        .await;
    let event = alice_browser.next_event("dream_updated").await;
    assert_eq!(event["dream"]["tags"], json!(["t"]));
    server
        .delete(
            &alice,
            &format!("/api/v1/dreams/{}", body["id"].as_str().unwrap()),
        )
        .await;
    let event = alice_browser.next_event("dream_deleted").await;
    assert_eq!(event["dream_id"], body["id"]);

    assert!(
        bob_browser.until_pong().await.is_empty(),
        "bob hears nothing of alice's library"
    );
    server.stop().await;
}

async fn malformed_messages_get_errors_and_the_connection_stays_up(backend: Backend) {
    let Some(server) =
        TestServer::start(backend, |config| config.max_ws_message_bytes = 64 * 1024).await
    else {
        return;
    };
    let token = server.user_token("alice").await;
    let mut client = WsClient::connect(&server.ws_url(), None).await;
    let wait = Duration::from_secs(5);

    client.send_text("this is not json").await;
    let message = expect_error(client.try_recv(wait).await, ErrorCode::MalformedMessage);
    assert!(message.contains("JSON"), "{message}");
    client
        .send_text(r#"{"type": "push", "operations": 5}"#)
        .await;
    let message = expect_error(client.try_recv(wait).await, ErrorCode::MalformedMessage);
    assert!(
        message.contains("operations"),
        "the error names the field: {message}"
    );
    client.send_text(r#"{"type": "teleport"}"#).await;
    expect_error(client.try_recv(wait).await, ErrorCode::MalformedMessage);
    client.send(&push(vec![upsert("too-early", 0)])).await;
    expect_error(client.try_recv(wait).await, ErrorCode::NotAuthenticated);
    client.stream.send_binary_frame().await;
    expect_error(client.try_recv(wait).await, ErrorCode::MalformedMessage);
    client
        .send_text(format!(
            r#"{{"type": "ping", "padding": "{}"}}"#,
            "x".repeat(100 * 1024)
        ))
        .await;
    expect_error(client.try_recv(wait).await, ErrorCode::MessageTooLarge);

    // Still the same connection: it answers a ping and accepts hello and a push.
    assert!(client.until_pong().await.is_empty());
    client.hello(&token, 0).await;
    client.send(&push(vec![upsert("after-errors", 0)])).await;
    let ack = expect_ack(recv_skipping_events(&mut client).await);
    assert!(matches!(
        ack.results[0].outcome,
        OperationOutcome::Applied { .. }
    ));
    client.events_until(ack.server_cursor).await;
    client.send_text("{").await;
    expect_error(client.try_recv(wait).await, ErrorCode::MalformedMessage);
    assert!(client.until_pong().await.is_empty());
    server.stop().await;
}

async fn bad_tokens_close_the_connection(backend: Backend) {
    let Some(server) = TestServer::start(backend, |config| {
        config.ws_hello_timeout = Duration::from_millis(500);
    })
    .await
    else {
        return;
    };
    let token = server.user_token("alice").await;
    let mut client = WsClient::connect(&server.ws_url(), None).await;
    client
        .send(&ClientMessage::Hello(dreamcatcher_sync::Hello {
            protocol_version: dreamcatcher_sync::PROTOCOL_VERSION,
            device_token: "dct_not-a-token".into(),
            last_cursor: 0,
        }))
        .await;
    expect_error(
        client.try_recv(Duration::from_secs(5)).await,
        ErrorCode::AuthenticationFailed,
    );
    assert!(client.is_closed().await);

    // A revoked token is refused at the upgrade.
    let revoked =
        dreamcatcher_server::accounts::create_token(&server.server.state.db, "alice", "old")
            .await
            .unwrap()
            .token;
    dreamcatcher_server::accounts::revoke_token(&server.server.state.db, &revoked)
        .await
        .unwrap();
    let request = {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut request = server.ws_url().into_client_request().unwrap();
        request.headers_mut().insert(
            "authorization",
            format!("Bearer {revoked}").parse().unwrap(),
        );
        request
    };
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 401)
        }
        other => panic!("expected a 401 refusal, got {:?}", other.map(|_| ())),
    }

    // Silence after connecting: closed once the hello deadline passes.
    let mut silent = WsClient::connect(&server.ws_url(), None).await;
    expect_error(
        silent.try_recv(Duration::from_secs(5)).await,
        ErrorCode::NotAuthenticated,
    );
    assert!(silent.is_closed().await);

    let mut good = WsClient::connect(&server.ws_url(), None).await;
    good.hello(&token, 0).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(
        good.until_pong().await.is_empty(),
        "an authenticated connection has no deadline"
    );
    server.stop().await;
}

/// A local stand-in for the orchestrator: records each request's secret header and body.
async fn start_webhook() -> (
    String,
    mpsc::UnboundedReceiver<(Option<String>, Value)>,
    tokio::task::JoinHandle<()>,
) {
    let (sender, receiver) = mpsc::unbounded_channel();
    let app = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: axum::Json<Value>| {
            let sender = sender.clone();
            async move {
                let secret = headers
                    .get("x-orchestrator-secret")
                    .and_then(|value| value.to_str().ok())
                    .map(str::to_string);
                let _ = sender.send((secret, body.0));
                axum::Json(json!({"accepted": true}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, receiver, task)
}

async fn implement_forwards_and_reports_over_websocket(backend: Backend) {
    let (hook_url, mut hook, hook_task) = start_webhook().await;
    let Some(server) = TestServer::start(backend, |config| {
        config.orchestrator_url = Some(hook_url.clone());
        config.orchestrator_secret = Some("s3cret".into());
        config.public_url = Some("http://dreamcatcher.test".into());
    })
    .await
    else {
        hook_task.abort();
        return;
    };
    let token = server.user_token("alice").await;
    let (_, body) = server.capture(&token, &fixture_conversations()[1]).await;
    let id = body["id"].as_str().unwrap().to_string();
    let mut browser = WsClient::connect(&server.ws_url(), None).await;
    let welcome = browser.hello(&token, 0).await;
    browser.events_until(welcome.server_cursor).await;

    let (status, project) = server
        .post(
            &token,
            &format!("/api/v1/dreams/{id}/implement"),
            &json!({}),
        )
        .await;
    assert_eq!(status, 201, "{project}");
    assert_eq!(project["status"], "forwarded");
    assert_eq!(project["dream_id"], id);
    let project_id = project["id"].as_str().unwrap().to_string();

    let (secret, request) = tokio::time::timeout(Duration::from_secs(5), hook.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(secret.as_deref(), Some("s3cret"));
    assert_eq!(request["type"], "implement_requested");
    assert_eq!(request["project"]["id"], project_id);
    assert_eq!(request["dream"]["conversation"]["id"], id);
    assert_eq!(
        request["callback"]["url"],
        format!("http://dreamcatcher.test/api/v1/dreams/{id}/implementation")
    );

    let created = browser.next_event("project_created").await;
    assert_eq!(created["dream_id"], id);
    assert_eq!(created["project"]["id"], project_id);
    assert_eq!(created["project"]["status"], "forwarded");

    // The seed's GET form, while the project is under way, returns the same project.
    let (status, again) = server
        .get(&token, &format!("/api/v1/dreams/{id}/implement"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(again["id"], project_id);

    let report_url = server.url(&format!("/api/v1/dreams/{id}/implementation"));
    let report = |secret: &str, body: Value| {
        server
            .client
            .post(&report_url)
            .header("x-orchestrator-secret", secret)
            .json(&body)
            .send()
    };
    let wrong = common::read(
        report(
            "guess",
            json!({"project_id": project_id, "status": "completed"}),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_error(&wrong, 401, "unauthenticated");
    let progress = common::read(
        report(
            "s3cret",
            json!({"project_id": project_id, "status": "in_progress", "progress": 40}),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(progress.0, 200, "{}", progress.1);
    assert_eq!(progress.1["progress"], 40);
    let bad = common::read(
        report(
            "s3cret",
            json!({"project_id": project_id, "status": "exploded"}),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_error(&bad, 422, "invalid_body");
    let done = common::read(
        report(
            "s3cret",
            json!({"project_id": project_id, "status": "completed", "message": "merged",
                   "result": {"repository": "https://git.example/p", "commits": 3}}),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(done.0, 200, "{}", done.1);
    assert_eq!(done.1["status"], "completed");

    let completed = browser.next_event("implementation_completed").await;
    assert_eq!(completed["dream_id"], id);
    assert_eq!(completed["result"]["project_id"], project_id);
    assert_eq!(completed["result"]["status"], "completed");
    assert_eq!(completed["result"]["result"]["commits"], 3);

    let (_, dream) = server.get(&token, &format!("/api/v1/dreams/{id}")).await;
    assert_eq!(dream["projects"][0]["status"], "completed");
    assert_eq!(dream["projects"][0]["message"], "merged");
    let other_dream = common::read(
        server
            .client
            .post(server.url("/api/v1/dreams/dc-other/implementation"))
            .header("x-orchestrator-secret", "s3cret")
            .json(&json!({"project_id": project_id, "status": "completed"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(&other_dream, 404, "not_found");
    server.stop().await;
    hook_task.abort();
}

async fn implement_without_an_orchestrator_records_the_project(backend: Backend) {
    let Some(server) = TestServer::start(backend, |_| {}).await else {
        return;
    };
    let token = server.user_token("alice").await;
    let (_, body) = server.capture(&token, &fixture_conversations()[0]).await;
    let id = body["id"].as_str().unwrap();
    let (status, project) = server
        .post(
            &token,
            &format!("/api/v1/dreams/{id}/implement"),
            &json!({}),
        )
        .await;
    assert_eq!(status, 201, "{project}");
    assert_eq!(project["status"], "created");
    let report = common::read(
        server
            .client
            .post(server.url(&format!("/api/v1/dreams/{id}/implementation")))
            .header("x-orchestrator-secret", "anything")
            .json(&json!({"project_id": project["id"], "status": "completed"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(&report, 503, "orchestrator_not_configured");
    server.stop().await;
}

async fn an_unreachable_orchestrator_is_reported_not_fatal(backend: Backend) {
    // A port nothing listens on: bind one, then free it.
    let unused = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let Some(server) = TestServer::start(backend, |config| {
        config.orchestrator_url = Some(format!("http://{unused}/hook"));
    })
    .await
    else {
        return;
    };
    let token = server.user_token("alice").await;
    let (_, body) = server.capture(&token, &fixture_conversations()[0]).await;
    let path = format!("/api/v1/dreams/{}/implement", body["id"].as_str().unwrap());
    let (status, project) = server.post(&token, &path, &json!({})).await;
    assert_eq!(status, 201, "{project}");
    assert_eq!(project["status"], "forward_failed");
    assert!(
        project["forward_error"]
            .as_str()
            .unwrap()
            .contains("could not be reached")
    );
    let (status, retry) = server.post(&token, &path, &json!({})).await;
    assert_eq!(
        status, 201,
        "a failed forward can be retried with a new project"
    );
    assert_ne!(retry["id"], project["id"]);
    server.stop().await;
}

on_both_backends!(
    push_is_applied_once_and_replayed_on_reconnect,
    events_reach_every_connection_of_the_user_only,
    malformed_messages_get_errors_and_the_connection_stays_up,
    bad_tokens_close_the_connection,
    implement_forwards_and_reports_over_websocket,
    implement_without_an_orchestrator_records_the_project,
    an_unreachable_orchestrator_is_reported_not_fatal,
    concurrent_pushes_of_the_same_operations_apply_once,
);

/// Two instances on one PostgreSQL database: a change made through A reaches a WebSocket
/// client of B (LISTEN/NOTIFY), and B's search sees it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_postgres_deliver_each_others_events() {
    let Some(a) = TestServer::start(Backend::Postgres, |_| {}).await else {
        return;
    };
    let b = a.start_sibling(|_| {}).await;
    let b_ws = format!("ws://{}/ws/dreamcatcher", b.addr);
    let b_http = format!("http://{}", b.addr);
    let token = a.user_token("alice").await;

    let mut on_b = WsClient::connect(&b_ws, None).await;
    on_b.hello(&token, 0).await;
    let (status, body) = a.capture(&token, &fixture_conversations()[1]).await;
    assert_eq!(status, 201);
    let event = on_b.next_event("dream_updated").await;
    assert_eq!(event["dream"]["conversation"]["id"], body["id"]);

    // And the other way, over B's WebSocket push to a client of A.
    let mut on_a = WsClient::connect(&a.ws_url(), None).await;
    let welcome = on_a.hello(&token, 1).await;
    assert_eq!(welcome.server_cursor, 1);
    on_b.send(&push(vec![upsert("via-b", 0)])).await;
    let event = on_a.next_event("dream_updated").await;
    assert_eq!(event["cursor"], 2);

    let (_, found) = common::read(
        a.client
            .get(format!("{b_http}/api/v1/dreams?q=backpressure"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        found["total"], 1,
        "B's index caught up with A's write: {found}"
    );
    b.stop().await.unwrap();
    a.stop().await;
}

/// Sending a binary frame, which the protocol does not use.
trait SendBinary {
    async fn send_binary_frame(&mut self);
}

impl<S> SendBinary for S
where
    S: futures_util::Sink<tokio_tungstenite::tungstenite::Message> + Unpin,
    S::Error: std::fmt::Debug,
{
    async fn send_binary_frame(&mut self) {
        use futures_util::SinkExt;
        self.send(tokio_tungstenite::tungstenite::Message::binary(vec![
            1u8, 2, 3,
        ]))
        .await
        .unwrap();
    }
}

/// Several connections pushing the same operations at the same moment: each operation is
/// applied exactly once (the user's lock serialises them; the op id decides).
async fn concurrent_pushes_of_the_same_operations_apply_once(backend: Backend) {
    let Some(server) = TestServer::start(backend, |_| {}).await else {
        return;
    };
    let token = server.user_token("alice").await;
    let at = chrono::Utc.with_ymd_and_hms(2026, 5, 3, 12, 0, 0).unwrap();
    let operations: Vec<Operation> = (0..25)
        .map(|index| {
            let mut conversation = fixture_conversation(index % 2);
            conversation.id = format!("dc-concurrent-{index}");
            Operation::upsert(
                OpId(format!("op-concurrent-{index}")),
                DeviceId("dev-tabs".into()),
                0,
                Dream::captured(conversation, at),
                at,
            )
        })
        .collect();
    let mut clients = Vec::new();
    for _ in 0..4 {
        let mut client = WsClient::connect(&server.ws_url(), None).await;
        client.hello(&token, 0).await;
        clients.push(client);
    }
    let pushes = clients.iter_mut().map(|client| {
        let operations = operations.clone();
        async move {
            let mut outcomes = Vec::new();
            for batch in operations.chunks(5) {
                client.send(&push(batch.to_vec())).await;
                outcomes.extend(expect_ack(recv_skipping_events(client).await).results);
            }
            outcomes
        }
    });
    let outcomes: Vec<_> = futures_util::future::join_all(pushes)
        .await
        .into_iter()
        .flatten()
        .collect();
    let applied = outcomes
        .iter()
        .filter(|result| matches!(result.outcome, OperationOutcome::Applied { revision: 1 }))
        .count();
    let duplicates = outcomes
        .iter()
        .filter(|result| result.outcome == OperationOutcome::Duplicate)
        .count();
    assert_eq!((applied, duplicates), (25, 75));
    let (_, list) = server.get(&token, "/api/v1/dreams?limit=100").await;
    assert_eq!(list["total"], 25);
    server.stop().await;
}
