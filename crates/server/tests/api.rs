//! The REST API against the real service, on SQLite and (with DATABASE_URL_TEST) on
//! PostgreSQL.

mod common;

use std::num::NonZeroU32;

use common::{Backend, TestServer, assert_error, fixture_conversations};
use dreamcatcher_server::RateLimit;
use serde_json::{Value, json};

const CAPTURE: &str = "/api/v1/conversations/capture";
const DREAMS: &str = "/api/v1/dreams";

fn dream_path(id: &Value) -> String {
    format!("{DREAMS}/{}", id.as_str().unwrap())
}

async fn capture_list_get_patch_delete(backend: Backend) {
    let Some(server) = TestServer::start(backend, |_| {}).await else {
        return;
    };
    let token = server.user_token("alice").await;
    let conversation = fixture_conversations()[0].clone();

    let (status, body) = server.capture(&token, &conversation).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["id"], conversation["id"]);
    assert_eq!(body["revision"], 1);
    assert_eq!(body["created"], true);
    let path = dream_path(&body["id"]);

    let (status, list) = server.get(&token, DREAMS).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["total"], 1);
    assert_eq!(list["next_cursor"], Value::Null);
    let item = &list["items"][0];
    assert_eq!(item["id"], conversation["id"]);
    assert_eq!(item["title"], "Elixir hello world");
    assert_eq!(item["site"], "chatgpt");
    assert_eq!(item["languages"], json!(["elixir"]));
    assert_eq!(item["message_count"], 2);

    let (status, dream) = server.get(&token, &path).await;
    assert_eq!(status, 200, "{dream}");
    assert_eq!(dream["revision"], 1);
    assert_eq!(
        dream["dream"]["conversation"]["title"],
        "Elixir hello world"
    );
    assert_eq!(
        dream["dream"]["conversation"]["messages"][1]["code_blocks"][0]["code"],
        "IO.puts(\"hello world\")\n"
    );
    assert_eq!(dream["projects"], json!([]));

    let (status, edited) = server
        .patch(
            &token,
            &path,
            &json!({"tags": [" elixir ", "Basics", "ELIXIR"], "notes": "try iex"}),
        )
        .await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(
        edited["revision"], 3,
        "tags and notes are one revision each"
    );
    assert_eq!(edited["outcomes"]["tags"]["result"], "applied");
    assert_eq!(edited["outcomes"]["notes"]["result"], "applied");
    let (_, dream) = server.get(&token, &path).await;
    assert_eq!(dream["dream"]["tags"], json!(["elixir", "Basics"]));
    assert_eq!(dream["dream"]["notes"], "try iex");
    let (_, list) = server.get(&token, DREAMS).await;
    assert_eq!(list["items"][0]["tags"], json!(["elixir", "Basics"]));

    let (status, deleted) = server.delete(&token, &path).await;
    assert_eq!(status, 200, "{deleted}");
    assert_eq!(deleted["deleted"], true);
    assert_eq!(deleted["revision"], 4);
    assert_error(&server.get(&token, &path).await, 404, "not_found");
    assert_error(&server.delete(&token, &path).await, 404, "not_found");
    let (_, list) = server.get(&token, DREAMS).await;
    assert_eq!(list["total"], 0);
    assert_eq!(list["items"], json!([]));

    // Capturing it again restores it, revision going on from the tombstone.
    let (status, body) = server.capture(&token, &conversation).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["revision"], 5);
    server.stop().await;
}

async fn recapture_updates_in_place_keeping_tags_and_notes(backend: Backend) {
    let Some(server) = TestServer::start(backend, |_| {}).await else {
        return;
    };
    let token = server.user_token("alice").await;
    let mut conversation = fixture_conversations()[1].clone();
    let (status, body) = server.capture(&token, &conversation).await;
    assert_eq!(status, 201);
    let path = dream_path(&body["id"]);
    server
        .patch(
            &token,
            &path,
            &json!({"tags": ["tokio"], "notes": "read later"}),
        )
        .await;

    // The same conversation again changes nothing.
    let (status, same) = server.capture(&token, &conversation).await;
    assert_eq!(status, 200, "{same}");
    assert_eq!(same["created"], false);
    assert_eq!(same["revision"], 3);

    conversation["messages"]
        .as_array_mut()
        .unwrap()
        .push(json!({"role": "user", "markdown": "And with try_send?"}));
    conversation["title"] = json!("Tokio backpressure, continued");
    let (status, body) = server.capture(&token, &conversation).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["created"], false);
    assert_eq!(body["revision"], 4);

    let (_, dream) = server.get(&token, &path).await;
    assert_eq!(dream["dream"]["tags"], json!(["tokio"]));
    assert_eq!(dream["dream"]["notes"], "read later");
    assert_eq!(
        dream["dream"]["conversation"]["messages"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let (_, list) = server.get(&token, DREAMS).await;
    assert_eq!(list["total"], 1, "a recapture never duplicates");
    assert_eq!(list["items"][0]["title"], "Tokio backpressure, continued");
    server.stop().await;
}

async fn import_reports_added_updated_and_skipped(backend: Backend) {
    let Some(server) = TestServer::start(backend, |_| {}).await else {
        return;
    };
    let token = server.user_token("alice").await;
    let conversations = fixture_conversations();
    let mut bad_site = conversations[0].clone();
    bad_site["site"] = json!("bard");
    bad_site["id"] = json!("dc-bad");
    let body = json!([
        conversations[0],
        conversations[1],
        bad_site,
        conversations[1]
    ]);
    let (status, report) = server.post(&token, "/api/v1/dreams/import", &body).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["added"], 2);
    assert_eq!(report["updated"], 0);
    assert_eq!(report["skipped"], 2);
    let skipped = report["skipped_items"].as_array().unwrap();
    assert_eq!(skipped[0]["index"], 2);
    assert!(
        skipped[0]["reason"].as_str().unwrap().contains("site"),
        "{report}"
    );
    assert_eq!(skipped[1]["index"], 3);
    assert!(
        skipped[1]["reason"].as_str().unwrap().contains("earlier"),
        "{report}"
    );

    // A library export: one dream changed, with a tag; one the same; one new.
    let mut changed = conversations[0].clone();
    changed["messages"]
        .as_array_mut()
        .unwrap()
        .push(json!({"role": "user", "markdown": "Thanks!"}));
    let mut new_one = conversations[1].clone();
    new_one["id"] = json!("dc-00000000000000000000000000000042");
    new_one["title"] = json!("A new one");
    let library = json!({
        "format": "dreamcatcher-library",
        "version": 1,
        "dreams": [
            {"conversation": changed, "tags": ["elixir"], "notes": "from backup",
             "captured_at": "2026-05-02T00:00:00Z", "updated_at": "2026-05-02T00:00:00Z"},
            {"conversation": conversations[1],
             "captured_at": "2026-05-02T00:00:00Z", "updated_at": "2026-05-02T00:00:00Z"},
            {"conversation": new_one, "tags": ["new"],
             "captured_at": "2026-05-02T00:00:00Z", "updated_at": "2026-05-02T00:00:00Z"},
        ],
    });
    let (status, report) = server.post(&token, "/api/v1/dreams/import", &library).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        (
            report["added"].as_u64(),
            report["updated"].as_u64(),
            report["unchanged"].as_u64()
        ),
        (Some(1), Some(1), Some(1)),
        "{report}"
    );
    assert_eq!(report["skipped"], 0);
    let (_, dream) = server
        .get(&token, &dream_path(&conversations[0]["id"]))
        .await;
    assert_eq!(dream["dream"]["tags"], json!(["elixir"]));
    assert_eq!(dream["dream"]["notes"], "from backup");
    assert_eq!(
        dream["dream"]["conversation"]["messages"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let (_, new_dream) = server
        .get(
            &token,
            &format!("{DREAMS}/dc-00000000000000000000000000000042"),
        )
        .await;
    assert_eq!(new_dream["dream"]["tags"], json!(["new"]));

    let wrong_format = json!({"format": "something-else", "version": 1, "dreams": []});
    let response = server
        .post(&token, "/api/v1/dreams/import", &wrong_format)
        .await;
    assert_error(&response, 422, "invalid_body");
    assert!(
        response.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("something-else")
    );
    assert_error(
        &server
            .post(&token, "/api/v1/dreams/import", &json!(5))
            .await,
        422,
        "invalid_body",
    );
    server.stop().await;
}

async fn search_filters_and_pages(backend: Backend) {
    let Some(server) = TestServer::start(backend, |_| {}).await else {
        return;
    };
    let token = server.user_token("alice").await;
    let conversations = fixture_conversations();
    server
        .post(&token, "/api/v1/dreams/import", &json!(conversations))
        .await;
    let elixir = &conversations[0]["id"];
    let rust = &conversations[1]["id"];

    let (status, found) = server.get(&token, "/api/v1/dreams?q=backpressure").await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["total"], 1);
    assert_eq!(&found["items"][0]["id"], rust);
    assert!(found["items"][0]["score"].as_f64().unwrap() > 0.0);

    // Code is searchable too: the dream is found through its code block.
    let (_, found) = server.get(&token, "/api/v1/dreams?q=mpsc%20channel").await;
    assert_eq!(&found["items"][0]["id"], rust, "{found}");
    let (_, found) = server
        .get(&token, "/api/v1/dreams?q=hexdocs%20IO.puts")
        .await;
    assert_eq!(&found["items"][0]["id"], elixir, "{found}");
    let (_, nothing) = server.get(&token, "/api/v1/dreams?q=kubernetes").await;
    assert_eq!(nothing["total"], 0);

    let (_, by_language) = server.get(&token, "/api/v1/dreams?language=rust").await;
    assert_eq!(by_language["total"], 1);
    assert_eq!(&by_language["items"][0]["id"], rust);
    let (_, by_site) = server.get(&token, "/api/v1/dreams?site=chatgpt").await;
    assert_eq!(&by_site["items"][0]["id"], elixir);
    assert_eq!(by_site["total"], 1);
    let (_, recent) = server.get(&token, "/api/v1/dreams?since=2026-04-25").await;
    assert_eq!(recent["total"], 1);
    assert_eq!(&recent["items"][0]["id"], elixir);
    let (_, older) = server
        .get(&token, "/api/v1/dreams?until=2026-04-25T00:00:00Z")
        .await;
    assert_eq!(&older["items"][0]["id"], rust);

    server
        .patch(
            &token,
            &dream_path(rust),
            &json!({"tags": ["async", "rust"]}),
        )
        .await;
    let (_, tagged) = server
        .get(&token, "/api/v1/dreams?tag=async&tag=rust")
        .await;
    assert_eq!(tagged["total"], 1);
    assert_eq!(&tagged["items"][0]["id"], rust);
    let (_, tagged) = server.get(&token, "/api/v1/dreams?tag=async,elixir").await;
    assert_eq!(tagged["total"], 0, "every tag must match");

    let (_, first) = server.get(&token, "/api/v1/dreams?limit=1").await;
    assert_eq!(first["total"], 2);
    assert_eq!(first["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        &first["items"][0]["id"], elixir,
        "newest conversation first"
    );
    let cursor = first["next_cursor"].as_str().unwrap().to_string();
    let (_, second) = server
        .get(&token, &format!("/api/v1/dreams?limit=1&cursor={cursor}"))
        .await;
    assert_eq!(&second["items"][0]["id"], rust);
    assert_eq!(second["next_cursor"], Value::Null);

    // A deleted dream leaves the index at once.
    server.delete(&token, &dream_path(rust)).await;
    let (_, found) = server.get(&token, "/api/v1/dreams?q=backpressure").await;
    assert_eq!(found["total"], 0);
    server.stop().await;
}

async fn stale_edits_become_conflict_copies(backend: Backend) {
    let Some(server) = TestServer::start(backend, |_| {}).await else {
        return;
    };
    let phone = server.user_token("alice").await;
    let db = &server.server.state.db;
    let laptop = dreamcatcher_server::accounts::create_token(db, "alice", "laptop")
        .await
        .unwrap()
        .token;
    let (_, body) = server.capture(&phone, &fixture_conversations()[0]).await;
    let path = dream_path(&body["id"]);

    let (_, first) = server
        .patch(
            &phone,
            &path,
            &json!({"notes": "phone notes", "base_revision": 1}),
        )
        .await;
    assert_eq!(first["outcomes"]["notes"]["result"], "applied");
    // The laptop also edits the notes, not having seen the phone's edit.
    let (status, second) = server
        .patch(
            &laptop,
            &path,
            &json!({"notes": "laptop notes", "base_revision": 1}),
        )
        .await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["outcomes"]["notes"]["result"], "conflict");
    let copy_id = second["outcomes"]["notes"]["conflict_copy_id"]
        .as_str()
        .unwrap()
        .to_string();

    let (_, original) = server.get(&phone, &path).await;
    assert_eq!(original["dream"]["notes"], "phone notes");
    let (status, copy) = server.get(&phone, &format!("{DREAMS}/{copy_id}")).await;
    assert_eq!(status, 200, "{copy}");
    assert_eq!(copy["dream"]["notes"], "laptop notes");
    assert_eq!(copy["conflict_of"], body["id"]);
    assert!(
        copy["dream"]["conversation"]["title"]
            .as_str()
            .unwrap()
            .ends_with("(conflict copy)")
    );
    let (_, list) = server.get(&phone, DREAMS).await;
    assert_eq!(list["total"], 2, "nothing is silently dropped");

    assert_error(
        &server
            .patch(&phone, &path, &json!({"tags": ["x"], "base_revision": 99}))
            .await,
        409,
        "unknown_revision",
    );
    server.stop().await;
}

async fn idempotency_key_applies_a_retried_write_once(backend: Backend) {
    let Some(server) = TestServer::start(backend, |_| {}).await else {
        return;
    };
    let token = server.user_token("alice").await;
    let (_, body) = server.capture(&token, &fixture_conversations()[0]).await;
    let path = dream_path(&body["id"]);
    let send = || {
        server
            .client
            .patch(server.url(&path))
            .bearer_auth(&token)
            .header("Idempotency-Key", "edit-42")
            .json(&json!({"tags": ["once"]}))
            .send()
    };
    let (_, first) = common::read(send().await.unwrap()).await;
    assert_eq!(first["outcomes"]["tags"]["result"], "applied");
    server
        .patch(&token, &path, &json!({"tags": ["changed since"]}))
        .await;
    let (status, retry) = common::read(send().await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(retry["outcomes"]["tags"]["result"], "duplicate");
    let (_, dream) = server.get(&token, &path).await;
    assert_eq!(
        dream["dream"]["tags"],
        json!(["changed since"]),
        "the retry did not re-apply"
    );
    server.stop().await;
}

async fn users_are_isolated_on_every_endpoint(backend: Backend) {
    let Some(server) = TestServer::start(backend, |_| {}).await else {
        return;
    };
    let alice = server.user_token("alice").await;
    let bob = server.user_token("bob").await;
    let conversation = fixture_conversations()[0].clone();
    let (_, body) = server.capture(&alice, &conversation).await;
    let path = dream_path(&body["id"]);
    server
        .patch(&alice, &path, &json!({"tags": ["mine"]}))
        .await;

    let nobody = format!("{DREAMS}/dc-nobody-has-this");
    for target in [&path, &nobody] {
        let as_bob = server.get(&bob, target).await;
        assert_error(&as_bob, 404, "not_found");
        assert_eq!(
            as_bob.1["error"]["code"],
            server.get(&bob, &nobody).await.1["error"]["code"],
            "another user's dream looks exactly like a missing one"
        );
        assert_error(
            &server
                .patch(&bob, target, &json!({"tags": ["theirs"]}))
                .await,
            404,
            "not_found",
        );
        assert_error(&server.delete(&bob, target).await, 404, "not_found");
        assert_error(
            &server
                .post(&bob, &format!("{target}/implement"), &json!({}))
                .await,
            404,
            "not_found",
        );
    }
    let (_, list) = server.get(&bob, DREAMS).await;
    assert_eq!(list["total"], 0);
    let (_, search) = server.get(&bob, "/api/v1/dreams?q=elixir").await;
    assert_eq!(search["total"], 0);

    // Bob capturing the same conversation gets his own dream; Alice's is untouched.
    let (status, _) = server.capture(&bob, &conversation).await;
    assert_eq!(status, 201, "bob's library is separate");
    server.delete(&bob, &path).await;
    let (_, dream) = server.get(&alice, &path).await;
    assert_eq!(dream["dream"]["tags"], json!(["mine"]));
    assert_eq!(dream["revision"], 2);
    server.stop().await;
}

async fn bad_requests_are_refused_with_json_errors(backend: Backend) {
    let Some(server) =
        TestServer::start(backend, |config| config.max_capture_bytes = 64 * 1024).await
    else {
        return;
    };
    let token = server.user_token("alice").await;
    let conversation = fixture_conversations()[0].clone();
    let client = &server.client;

    let unauthenticated = common::read(client.get(server.url(DREAMS)).send().await.unwrap()).await;
    assert_error(&unauthenticated, 401, "unauthenticated");
    assert_error(
        &server.get("dct_0000", DREAMS).await,
        401,
        "unauthenticated",
    );
    let basic = client
        .get(server.url(DREAMS))
        .header("authorization", "Basic YTpi")
        .send()
        .await
        .unwrap();
    assert_error(&common::read(basic).await, 401, "unauthenticated");
    let anonymous_capture = client
        .post(server.url(CAPTURE))
        .json(&conversation)
        .send()
        .await
        .unwrap();
    assert_error(
        &common::read(anonymous_capture).await,
        401,
        "unauthenticated",
    );

    let mut huge = conversation.clone();
    huge["messages"][0]["markdown"] = json!("x".repeat(100 * 1024));
    assert_error(
        &server.capture(&token, &huge).await,
        413,
        "payload_too_large",
    );
    // Far over the limit: the answer must still arrive, not a reset of a connection closed
    // with the upload unread (a race, so a few times).
    huge["messages"][0]["markdown"] = json!("x".repeat(12 << 20));
    for _ in 0..4 {
        assert_error(
            &server.capture(&token, &huge).await,
            413,
            "payload_too_large",
        );
    }

    let malformed = client
        .post(server.url(CAPTURE))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{\"id\": \"dc-1\", \"site\": ")
        .send()
        .await
        .unwrap();
    assert_error(&common::read(malformed).await, 400, "malformed_json");

    let mut wrong_site = conversation.clone();
    wrong_site["site"] = json!("bard");
    let response = server.capture(&token, &wrong_site).await;
    assert_error(&response, 422, "invalid_body");
    assert_eq!(response.1["error"]["field"], "site");
    assert!(
        response.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("bard")
    );

    let mut wrong_role = conversation.clone();
    wrong_role["messages"][1]["role"] = json!("robot");
    let response = server.capture(&token, &wrong_role).await;
    assert_error(&response, 422, "invalid_body");
    assert_eq!(response.1["error"]["field"], "messages[1].role");

    let mut no_id = conversation.clone();
    no_id["id"] = json!("");
    assert_error(&server.capture(&token, &no_id).await, 422, "invalid_body");

    let as_text = client
        .post(server.url(CAPTURE))
        .bearer_auth(&token)
        .header("content-type", "text/plain")
        .body(conversation.to_string())
        .send()
        .await
        .unwrap();
    assert_error(&common::read(as_text).await, 415, "unsupported_media_type");

    let (_, body) = server.capture(&token, &conversation).await;
    let path = dream_path(&body["id"]);
    let response = server
        .patch(&token, &path, &json!({"tags": ["a"], "colour": "red"}))
        .await;
    assert_error(&response, 422, "invalid_body");
    assert!(
        response.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("colour")
    );
    assert_error(
        &server.patch(&token, &path, &json!({})).await,
        422,
        "invalid_body",
    );
    assert_error(
        &server.patch(&token, &path, &json!({"tags": "a"})).await,
        422,
        "invalid_body",
    );

    let response = server.get(&token, "/api/v1/dreams?sort=new").await;
    assert_error(&response, 400, "invalid_parameter");
    assert_eq!(response.1["error"]["field"], "sort");
    assert_error(
        &server.get(&token, "/api/v1/nothing-here").await,
        404,
        "not_found",
    );
    let wrong_method = client
        .put(server.url(DREAMS))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_error(&common::read(wrong_method).await, 405, "method_not_allowed");
    let not_websocket = client
        .get(server.url("/ws/dreamcatcher"))
        .send()
        .await
        .unwrap();
    let response = common::read(not_websocket).await;
    assert!(response.0 >= 400 && response.0 < 500, "{}", response.0);
    assert_eq!(response.1["error"]["code"], "websocket_upgrade_required");

    // After all that, the service still serves.
    let (status, _) = server.get(&token, DREAMS).await;
    assert_eq!(status, 200);
    server.stop().await;
}

async fn rate_limit_answers_429_with_retry_after(backend: Backend) {
    let Some(server) = TestServer::start(backend, |config| {
        config.rate_limit = Some(RateLimit {
            per_second: NonZeroU32::MIN,
            burst: NonZeroU32::new(3).unwrap(),
        });
    })
    .await
    else {
        return;
    };
    let token = server.user_token("alice").await;
    let other = server.user_token("bob").await;
    for _ in 0..3 {
        assert_eq!(server.get(&token, DREAMS).await.0, 200);
    }
    let response = server
        .client
        .get(server.url(DREAMS))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let retry_after: u64 = response
        .headers()
        .get("retry-after")
        .expect("Retry-After header")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    assert_error(&common::read(response).await, 429, "rate_limited");
    assert_eq!(
        server.get(&other, DREAMS).await.0,
        200,
        "each token has its own bucket"
    );
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(
        server.get(&token, DREAMS).await.0,
        200,
        "the bucket refills"
    );
    server.stop().await;
}

async fn pairing_codes_are_single_use(backend: Backend) {
    let Some(server) = TestServer::start(backend, |_| {}).await else {
        return;
    };
    let db = &server.server.state.db;
    dreamcatcher_server::accounts::add_user(db, "carol")
        .await
        .unwrap();
    let code = dreamcatcher_server::accounts::create_pairing_code(
        db,
        "carol",
        std::time::Duration::from_secs(600),
    )
    .await
    .unwrap();
    let pair = |code: String| {
        let client = server.client.clone();
        let url = server.url("/api/v1/pair");
        async move {
            common::read(
                client
                    .post(url)
                    .json(&json!({"code": code, "device_name": "Chrome on laptop"}))
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    let (status, paired) = pair(code.to_lowercase()).await;
    assert_eq!(status, 201, "{paired}");
    let token = paired["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("dct_"));
    assert_eq!(server.get(&token, DREAMS).await.0, 200);
    assert_error(&pair(code.clone()).await, 401, "invalid_pairing_code");

    let expired =
        dreamcatcher_server::accounts::create_pairing_code(db, "carol", std::time::Duration::ZERO)
            .await
            .unwrap();
    assert_error(&pair(expired).await, 401, "invalid_pairing_code");
    assert_error(
        &pair("ZZZZZ-ZZZZZ".into()).await,
        401,
        "invalid_pairing_code",
    );

    // A revoked token stops working at once.
    dreamcatcher_server::accounts::revoke_token(db, &token)
        .await
        .unwrap();
    assert_error(&server.get(&token, DREAMS).await, 401, "unauthenticated");
    server.stop().await;
}

async fn health_ready_and_metrics(backend: Backend) {
    let Some(server) = TestServer::start(backend, |_| {}).await else {
        return;
    };
    let token = server.user_token("alice").await;
    server.capture(&token, &fixture_conversations()[0]).await;
    server.get("dct_wrong", DREAMS).await;

    let (status, health) = common::read(
        server
            .client
            .get(server.url("/health"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(health["status"], "ok");
    let (status, ready) = common::read(
        server
            .client
            .get(server.url("/ready"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, &ready["status"]), (200, &json!("ready")));

    let response = server
        .client
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("openmetrics-text")
    );
    let text = response.text().await.unwrap();
    for expected in [
        "dreamcatcher_websocket_connections 0",
        "dreamcatcher_sync_operations_total{result=\"applied\"} 1",
        "dreamcatcher_events_published_total 1",
        "dreamcatcher_http_request_duration_seconds_bucket{",
        "route=\"/api/v1/conversations/capture\"",
        "dreamcatcher_errors_total{source=\"http\",code=\"unauthenticated\"} 1",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    assert!(!text.contains(&token), "no secrets in metrics");
    server.stop().await;
}

/// The extension calls the API from a `chrome-extension://` origin without host
/// permissions: preflights are answered and responses carry the allow-origin header.
async fn cors_lets_the_extension_call_the_api(backend: Backend) {
    let Some(server) = TestServer::start(backend, |_| {}).await else {
        return;
    };
    let origin = "chrome-extension://abcdefghijklmnopabcdefghijklmnop";
    let preflight = server
        .client
        .request(reqwest::Method::OPTIONS, server.url(DREAMS))
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "PATCH")
        .header(
            "Access-Control-Request-Headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    let headers = preflight.headers();
    let header = |name: &str| {
        headers
            .get(name)
            .map(|value| value.to_str().unwrap().to_ascii_lowercase())
            .unwrap_or_default()
    };
    assert_eq!(header("access-control-allow-origin"), "*");
    for method in ["get", "post", "patch", "delete", "options"] {
        assert!(
            header("access-control-allow-methods").contains(method),
            "{method} in {:?}",
            header("access-control-allow-methods")
        );
    }
    for name in ["authorization", "content-type"] {
        assert!(header("access-control-allow-headers").contains(name));
    }
    assert!(headers.get("access-control-allow-credentials").is_none());

    let health = server
        .client
        .get(server.url("/health"))
        .header("Origin", origin)
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.headers()["access-control-allow-origin"], "*");

    // A real call: the bearer token authenticates, the 401 is readable cross-origin.
    let token = server.user_token("alice").await;
    let listed = server
        .client
        .get(server.url(DREAMS))
        .header("Origin", origin)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
    assert_eq!(listed.headers()["access-control-allow-origin"], "*");
    let refused = server
        .client
        .get(server.url(DREAMS))
        .header("Origin", origin)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(refused.headers()["access-control-allow-origin"], "*");

    // Operations endpoints stay same-origin.
    let metrics = server
        .client
        .get(server.url("/metrics"))
        .header("Origin", origin)
        .send()
        .await
        .unwrap();
    assert!(
        metrics
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    server.stop().await;
}

on_both_backends!(
    capture_list_get_patch_delete,
    recapture_updates_in_place_keeping_tags_and_notes,
    import_reports_added_updated_and_skipped,
    search_filters_and_pages,
    stale_edits_become_conflict_copies,
    idempotency_key_applies_a_retried_write_once,
    users_are_isolated_on_every_endpoint,
    bad_requests_are_refused_with_json_errors,
    rate_limit_answers_429_with_retry_after,
    pairing_codes_are_single_use,
    health_ready_and_metrics,
    cors_lets_the_extension_call_the_api,
);
