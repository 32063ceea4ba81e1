//! The library over the in-memory store: captures, edits, deletes, search, persistence of
//! the index across worker restarts, export/import, and the request API.

use chrono::{TimeZone, Utc};
use futures::executor::block_on;

use dreamcatcher_library::api::{
    CaptureOutcome, CaptureRoute, DreamFilter, ErrorCode, ExportFormat, ExportScope, FetchOutcome,
    PageSnapshot, Request, Response,
};
use dreamcatcher_library::{DreamStore, Library, MemoryStore};
use dreamcatcher_model::{CodeOrigin, Conversation, Message, Role, Site, Timestamp};
use dreamcatcher_search::{SearchIndex, SearchOptions};

fn at(seconds: i64) -> Timestamp {
    Utc.timestamp_opt(1_763_000_000 + seconds, 0).unwrap()
}

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A conversation whose answer holds the given code blocks (language, code).
fn conversation(site_id: &str, title: &str, answer: &str, blocks: &[(&str, &str)]) -> Conversation {
    let mut conversation = Conversation::new(Site::Claude, Some(site_id.into()), title);
    conversation
        .messages
        .push(Message::new(Role::User, format!("question about {title}")));
    let mut message = Message::new(Role::Assistant, answer);
    for (language, code) in blocks {
        message
            .fragments
            .code_blocks
            .push(dreamcatcher_fragments::code_block(
                language,
                code,
                CodeOrigin::Fence,
            ));
    }
    conversation.messages.push(message);
    conversation
}

fn open(store: MemoryStore) -> Library<MemoryStore> {
    block_on(Library::open(store)).unwrap()
}

fn ids(library: &mut Library<MemoryStore>, query: &str) -> Vec<String> {
    let page = block_on(library.search(query, 0, 50, &DreamFilter::default(), at(100))).unwrap();
    page.hits.into_iter().map(|h| h.dream.id).collect()
}

/// Two indexes answer every query alike (built in another order, their bytes may differ).
fn assert_same_index(a: &SearchIndex, b: &SearchIndex, dreams: &[dreamcatcher_model::Dream], context: &str) {
    assert_eq!(a.dream_count(), b.dream_count(), "{context}: dream count");
    assert_eq!(a.len(), b.len(), "{context}: document count");
    let mut queries: Vec<String> = vec!["fn".into(), "x".into(), "question".into(), "".into()];
    for dream in dreams {
        queries.push(dream.conversation.title.clone());
        queries.extend(dream.tags.iter().cloned());
        queries.extend(dream.conversation.messages.iter().map(|m| m.markdown.clone()));
    }
    let options = SearchOptions { limit: 100, ..SearchOptions::default() };
    for query in &queries {
        assert_eq!(a.search(query, &options, at(100)), b.search(query, &options, at(100)), "{context}: query {query:?}");
    }
}

#[test]
fn recapture_updates_in_place_and_keeps_tags_and_notes() {
    let mut library = open(MemoryStore::new());
    let first = conversation("c1", "Retry", "use backoff", &[("go", "func Retry() {}")]);
    let id = first.id.clone();
    let report = block_on(library.capture(vec![first.clone()], at(0))).unwrap();
    assert_eq!((report.added, report.updated), (1, 0));
    block_on(library.set_tags(&id, vec!["go".into(), " Go ".into()], at(1))).unwrap();
    block_on(library.set_notes(&id, "keep this".into(), at(2))).unwrap();

    let mut second = first.clone();
    second
        .messages
        .push(Message::new(Role::User, "and jitter?"));
    let report = block_on(library.capture(vec![second], at(3))).unwrap();
    assert_eq!((report.added, report.updated), (0, 1));
    let again =
        block_on(library.capture(vec![report.captured[0].dream.conversation.clone()], at(4)))
            .unwrap();
    assert_eq!(again.captured[0].outcome, CaptureOutcome::Unchanged);

    let page = block_on(library.list(0, 10, &DreamFilter::default())).unwrap();
    assert_eq!(page.total, 1, "recapture must not duplicate");
    let dream = block_on(library.get_dream(&id)).unwrap();
    assert_eq!(dream.tags, vec!["go"]);
    assert_eq!(dream.notes, "keep this");
    assert_eq!(dream.conversation.messages.len(), 3);
    assert_eq!(dream.captured_at, at(0));
}

#[test]
fn the_same_snippet_twice_is_one_fragment_with_both_sources() {
    let mut library = open(MemoryStore::new());
    let a = conversation(
        "a",
        "First",
        "x",
        &[("python", "for i in range(3):\n    print(i)\n")],
    );
    // Same code, other indentation and line endings: the same content key.
    let b = conversation(
        "b",
        "Second",
        "y",
        &[("python", "for i in range(3):\r\n  print(i)")],
    );
    block_on(library.capture(vec![a.clone()], at(0))).unwrap();
    block_on(library.capture(vec![b.clone()], at(1))).unwrap();
    let fragments = block_on(library.fragments(0, 10, None)).unwrap();
    assert_eq!(fragments.total, 1);
    let sources: Vec<&str> = fragments.items[0]
        .sources
        .iter()
        .map(|s| s.dream_id.as_str())
        .collect();
    assert_eq!(sources.len(), 2);
    assert!(sources.contains(&a.id.as_str()) && sources.contains(&b.id.as_str()));

    // Deleting one source keeps the fragment for the other; undo brings the source back.
    let entry = block_on(library.delete(&a.id, at(2))).unwrap();
    let fragment = block_on(library.fragment(&fragments.items[0].content_key)).unwrap();
    assert_eq!(fragment.sources.len(), 1);
    block_on(library.delete(&b.id, at(3))).unwrap();
    assert_eq!(block_on(library.store().count_fragments()).unwrap(), 0);
    block_on(library.undo_delete(&entry.undo_token, at(4))).unwrap();
    assert_eq!(
        block_on(library.fragments(0, 10, Some("python")))
            .unwrap()
            .total,
        1
    );
}

#[test]
fn delete_and_undo_restore_the_dream_in_list_and_search() {
    let mut library = open(MemoryStore::new());
    let dream = conversation("d", "Zebra crossing", "stripes everywhere", &[]);
    block_on(library.capture(vec![dream.clone()], at(0))).unwrap();
    assert_eq!(ids(&mut library, "stripes"), vec![dream.id.clone()]);
    let entry = block_on(library.delete(&dream.id, at(1))).unwrap();
    assert!(ids(&mut library, "stripes").is_empty());
    assert_eq!(
        block_on(library.list(0, 10, &DreamFilter::default()))
            .unwrap()
            .total,
        0
    );
    block_on(library.undo_delete(&entry.undo_token, at(2))).unwrap();
    assert_eq!(
        ids(&mut library, "stri"),
        vec![dream.id.clone()],
        "prefix of the last word matches"
    );
    let error = block_on(library.undo_delete(&entry.undo_token, at(3))).unwrap_err();
    assert_eq!(error.code, ErrorCode::NotFound);
}

#[test]
fn badge_counts_dreams_not_yet_opened() {
    let mut library = open(MemoryStore::new());
    let a = conversation("a", "A", "a", &[]);
    let b = conversation("b", "B", "b", &[]);
    block_on(library.capture(vec![a.clone(), b], at(0))).unwrap();
    assert_eq!(block_on(library.unopened_count()).unwrap(), 2);
    block_on(library.mark_opened(&a.id, at(1))).unwrap();
    assert_eq!(block_on(library.unopened_count()).unwrap(), 1);
    let unopened = DreamFilter {
        unopened_only: true,
        ..DreamFilter::default()
    };
    assert_eq!(block_on(library.list(0, 10, &unopened)).unwrap().total, 1);
}

#[test]
fn filters_and_suggestions() {
    let mut library = open(MemoryStore::new());
    let rust = conversation(
        "r",
        "Borrow checker",
        "lifetimes explained",
        &[("rust", "fn f<'a>() {}")],
    );
    let mut chatgpt = conversation(
        "p",
        "Lists",
        "lifetimes of objects",
        &[("python", "x = []")],
    );
    chatgpt.site = Site::Chatgpt;
    chatgpt.assign_id();
    block_on(library.capture(vec![rust.clone(), chatgpt.clone()], at(0))).unwrap();
    assert_eq!(ids(&mut library, "lifetimes").len(), 2);
    let only_rust = DreamFilter {
        language: Some("rust".into()),
        ..DreamFilter::default()
    };
    let hits = block_on(library.search("lifetimes", 0, 10, &only_rust, at(1))).unwrap().hits;
    assert_eq!(
        hits.iter().map(|h| h.dream.id.clone()).collect::<Vec<_>>(),
        vec![rust.id.clone()]
    );
    let marked: Vec<&str> = hits[0]
        .highlights
        .iter()
        .map(|h| &hits[0].snippet[h.start as usize..h.end as usize])
        .collect();
    assert_eq!(marked, vec!["lifetimes"]);
    let by_site = DreamFilter {
        site: Some(Site::Chatgpt),
        ..DreamFilter::default()
    };
    assert_eq!(
        block_on(library.list(0, 10, &by_site)).unwrap().items[0].id,
        chatgpt.id
    );
    assert_eq!(block_on(library.suggest("life", 5, at(1))).unwrap(), vec!["lifetimes".to_string()]);
    let facets = block_on(library.facets()).unwrap();
    assert_eq!(facets.languages.len(), 2);
}

/// The popup's first requests (list, a dream, counts, menus) do not wait for the index; the
/// first search or change restores it with everything stored since its snapshot.
#[test]
fn the_index_is_restored_only_when_needed() {
    let mut library = open(MemoryStore::new());
    block_on(library.capture(vec![conversation("a", "Alpha", "saved first", &[])], at(0))).unwrap();
    block_on(library.save_index()).unwrap();
    block_on(library.capture(vec![conversation("b", "Beta", "saved later", &[])], at(1))).unwrap();

    let mut reopened = open(library.store().durable_copy());
    let page = block_on(reopened.list(0, 10, &DreamFilter::default())).unwrap();
    assert_eq!(page.total, 2);
    block_on(reopened.get_dream(&page.items[0].id)).unwrap();
    block_on(reopened.stats()).unwrap();
    block_on(reopened.facets()).unwrap();
    assert!(!reopened.index_restored());
    assert_eq!(reopened.unsaved_index_changes(), 0);

    // A change restores the index first, so what was stored before it stays searchable.
    block_on(reopened.capture(vec![conversation("c", "Gamma", "saved last", &[])], at(2))).unwrap();
    assert!(reopened.index_restored());
    assert_eq!(reopened.replayed_into_index(), 1);
    assert_eq!(ids(&mut reopened, "saved").len(), 3);
    assert_eq!(reopened.unsaved_index_changes(), 2);
}

#[test]
fn the_index_is_restored_from_its_snapshot_not_rebuilt() {
    let mut library = open(MemoryStore::new());
    let dreams: Vec<Conversation> = (0..5)
        .map(|n| {
            conversation(
                &format!("s{n}"),
                &format!("Topic {n}"),
                &format!("word{n}"),
                &[],
            )
        })
        .collect();
    block_on(library.capture(dreams, at(0))).unwrap();
    block_on(library.save_index()).unwrap();
    let mut reopened = open(library.store().durable_copy());
    let restored = block_on(reopened.index()).unwrap().to_snapshot();
    assert_eq!(reopened.replayed_into_index(), 0);
    assert_eq!(restored, block_on(library.index()).unwrap().to_snapshot());

    // Changes after the snapshot are replayed, and only they.
    block_on(library.capture(vec![conversation("late", "Late", "latecomer", &[])], at(1))).unwrap();
    let mut reopened = open(library.store().durable_copy());
    assert_eq!(ids(&mut reopened, "latecomer").len(), 1);
    assert_eq!(reopened.replayed_into_index(), 1);
}

/// Replays a scripted session and, after every step, "kills the worker": opens a new library
/// on what was durably stored and checks its index is exactly the one rebuilt from the stored
/// dreams. Snapshots are saved at some steps only, as the worker would before being stopped.
#[test]
fn a_worker_killed_at_any_point_loses_nothing() {
    let mut library = open(MemoryStore::new());
    let mut undo_tokens = Vec::new();
    for step in 0..24u32 {
        let now = at(i64::from(step));
        match step % 6 {
            0 | 1 => {
                let c = conversation(
                    &format!("k{}", step % 7),
                    &format!("Title {step}"),
                    &format!("body{step}"),
                    &[("rust", "fn x() {}")],
                );
                block_on(library.capture(vec![c], now)).unwrap();
            }
            2 => {
                let first = block_on(library.list(0, 1, &DreamFilter::default()))
                    .unwrap()
                    .items;
                if let Some(dream) = first.first() {
                    undo_tokens.push(block_on(library.delete(&dream.id, now)).unwrap().undo_token);
                }
            }
            3 => {
                if let Some(token) = undo_tokens.pop() {
                    block_on(library.undo_delete(&token, now)).unwrap();
                }
            }
            4 => {
                let first = block_on(library.list(0, 1, &DreamFilter::default()))
                    .unwrap()
                    .items;
                if let Some(dream) = first.first() {
                    block_on(library.set_tags(&dream.id, vec![format!("tag{step}")], now)).unwrap();
                }
            }
            _ => block_on(library.save_index()).unwrap(),
        }
        if step % 4 == 1 {
            block_on(library.save_index()).unwrap();
        }
        let mut survivor = open(library.store().durable_copy());
        let stored = block_on(survivor.store().all_dreams()).unwrap();
        let mut rebuilt = SearchIndex::new();
        rebuilt.upsert_dreams(&stored);
        let survivor_index = block_on(survivor.index()).unwrap();
        assert_same_index(
            survivor_index,
            &rebuilt,
            &stored,
            &format!("index after restart vs the stored dreams at step {step}"),
        );
        assert_same_index(
            survivor_index,
            block_on(library.index()).unwrap(),
            &stored,
            &format!("restart lost or kept something at step {step}"),
        );
    }
}

#[test]
fn a_failed_write_reports_an_error_and_changes_nothing() {
    let mut library = open(MemoryStore::new());
    library.store().fail_next_commits(1);
    let error =
        block_on(library.capture(vec![conversation("f", "Fail", "lost", &[])], at(0))).unwrap_err();
    assert_eq!(error.code, ErrorCode::Storage);
    assert!(ids(&mut library, "lost").is_empty());
    assert_eq!(block_on(library.store().count_dreams()).unwrap(), 0);
}

#[test]
fn export_delete_all_import_round_trips_losslessly() {
    let mut library = open(MemoryStore::new());
    let a = conversation("a", "Alpha", "one", &[("rust", "fn a() {}")]);
    let b = conversation("b", "Beta", "two", &[]);
    block_on(library.capture(vec![a.clone(), b], at(0))).unwrap();
    block_on(library.set_tags(&a.id, vec!["keep".into()], at(1))).unwrap();
    let before = block_on(library.store().all_dreams()).unwrap();
    for format in [ExportFormat::Json, ExportFormat::Zip] {
        let file = block_on(library.export(&ExportScope::All, format)).unwrap();
        let bytes = match (&file.text, &file.base64) {
            (Some(text), _) => text.clone().into_bytes(),
            (None, Some(encoded)) => {
                use base64::Engine;
                base64::engine::general_purpose::STANDARD
                    .decode(encoded)
                    .unwrap()
            }
            _ => panic!("empty export"),
        };
        block_on(library.delete_all(at(1))).unwrap();
        assert!(ids(&mut library, "one").is_empty());
        let summary = block_on(library.import_file(&file.file_name, &bytes, at(2))).unwrap();
        assert_eq!(
            (summary.added, summary.updated, summary.unchanged),
            (2, 0, 0),
            "{format:?}"
        );
        let mut after = block_on(library.store().all_dreams()).unwrap();
        let mut expected = before.clone();
        after.sort_by(|x, y| x.conversation.id.cmp(&y.conversation.id));
        expected.sort_by(|x, y| x.conversation.id.cmp(&y.conversation.id));
        assert_eq!(after, expected, "{format:?}");
        assert_eq!(ids(&mut library, "one"), vec![a.id.clone()]);
    }
    let markdown = block_on(library.export(
        &ExportScope::Dream { id: a.id.clone() },
        ExportFormat::Markdown,
    ))
    .unwrap();
    assert!(markdown.text.unwrap().contains("Alpha"));
}

#[test]
fn official_export_import_adds_once_and_reimport_adds_nothing() {
    let mut library = open(MemoryStore::new());
    let bytes = fixture("claude-export.json").into_bytes();
    let first = block_on(library.import_file("conversations.json", &bytes, at(0))).unwrap();
    assert_eq!((first.added, first.updated, first.unchanged), (2, 0, 0));
    let second = block_on(library.import_file("conversations.json", &bytes, at(1))).unwrap();
    assert_eq!((second.added, second.updated, second.unchanged), (0, 0, 2));
    // The two answers hold the same loop, indented differently: one fragment, two sources.
    let fragments = block_on(library.fragments(0, 10, Some("bash"))).unwrap();
    assert_eq!(fragments.total, 1);
    assert_eq!(fragments.items[0].sources.len(), 2);
    let bad = block_on(library.import_file("x.json", b"[1, 2", at(2))).unwrap_err();
    assert_eq!(bad.code, ErrorCode::InvalidRequest);
}

fn request(library: &mut Library<MemoryStore>, request: Request, seconds: i64) -> Response {
    block_on(library.handle(request, at(seconds)))
}

const CHATGPT_URL: &str = "https://chatgpt.com/c/6650f1c2-0000-4000-8000-000000000001";

fn json_outcome(status: u16, body: Option<String>) -> FetchOutcome {
    FetchOutcome {
        step: "conversation".into(),
        status,
        retry_after: None,
        body,
        error: None,
    }
}

#[test]
fn capture_request_uses_the_site_json_then_falls_back_to_the_page() {
    let mut library = open(MemoryStore::new());
    let body = fixture("chatgpt-conversation.json");
    let answer = request(
        &mut library,
        Request::Capture {
            url: CHATGPT_URL.into(),
            trigger: Default::default(),
            site_json: Some(json_outcome(200, Some(body))),
            page: None,
        },
        0,
    );
    let Response::Captured(report) = answer else {
        panic!("{answer:?}")
    };
    assert_eq!(report.route, CaptureRoute::SiteData);
    assert_eq!(
        report.summary,
        "Captured: 2 messages, 1 code block (from the site's data)"
    );
    let dream = block_on(library.get_dream(&report.dream_id)).unwrap();
    assert!(
        dream.conversation.messages[0]
            .markdown
            .contains("<img src=x onerror="),
        "markup is kept as text"
    );

    // The site fails: the worker asks for the page, then reads it.
    let failed = Some(json_outcome(500, None));
    let url = "https://chatgpt.com/c/page-only-1";
    let answer = request(
        &mut library,
        Request::Capture {
            url: url.into(),
            trigger: Default::default(),
            site_json: failed.clone(),
            page: None,
        },
        1,
    );
    let Response::NeedPage { reason } = answer else {
        panic!("{answer:?}")
    };
    assert!(reason.contains("HTTP 500"), "{reason}");
    let page = PageSnapshot {
        html: fixture("chatgpt-2026-09-page.html"),
        layout: None,
        turns_collected: 2,
        reached_top: true,
    };
    let answer = request(
        &mut library,
        Request::Capture {
            url: url.into(),
            trigger: Default::default(),
            site_json: failed,
            page: Some(page.clone()),
        },
        2,
    );
    let Response::Captured(report) = answer else {
        panic!("{answer:?}")
    };
    assert!(matches!(report.route, CaptureRoute::Page { .. }));
    assert_eq!(report.messages, 4);
    assert!(report.fallback_reason.unwrap().contains("HTTP 500"));
    let dream = block_on(library.get_dream(&report.dream_id)).unwrap();
    assert!(
        dream.conversation.messages[0].markdown.contains("<script>"),
        "{}",
        dream.conversation.messages[0].markdown
    );

    // Per-answer capture: a dream of its own, and capturing it again updates it.
    let answer_request = Request::CaptureAnswer {
        url: url.into(),
        html: page.html.clone(),
        answer_key: "t-0002".into(),
    };
    let Response::Captured(first) = request(&mut library, answer_request.clone(), 3) else {
        panic!()
    };
    assert_ne!(first.dream_id, report.dream_id);
    let whole = block_on(library.get_dream(&report.dream_id)).unwrap();
    let last_answer_blocks = whole
        .conversation
        .messages
        .last()
        .unwrap()
        .fragments
        .code_blocks
        .len() as u32;
    assert_eq!((first.messages, first.code_blocks), (2, last_answer_blocks));
    let single = block_on(library.get_dream(&first.dream_id)).unwrap();
    assert!(
        single.conversation.messages[1]
            .markdown
            .contains("print(i)")
    );
    assert_eq!(
        single.conversation.messages[0].markdown,
        "Now a python loop."
    );
    let Response::Captured(second) = request(&mut library, answer_request, 4) else {
        panic!()
    };
    assert_eq!(
        (second.dream_id, second.outcome),
        (first.dream_id, CaptureOutcome::Unchanged)
    );
}

#[test]
fn capture_request_failures_are_precise() {
    let mut library = open(MemoryStore::new());
    let mut limited = json_outcome(429, None);
    limited.retry_after = Some("42".into());
    let capture = |outcome| Request::Capture {
        url: CHATGPT_URL.into(),
        trigger: Default::default(),
        site_json: Some(outcome),
        page: None,
    };
    let Response::Error(error) = request(&mut library, capture(limited), 0) else {
        panic!()
    };
    assert_eq!(
        (error.code, error.retry_after_secs),
        (ErrorCode::RateLimited, Some(42))
    );
    assert_eq!(
        error.message,
        "Rate-limited by chatgpt.com: try again in 42 seconds."
    );
    let Response::Error(error) = request(&mut library, capture(json_outcome(401, None)), 0) else {
        panic!()
    };
    assert_eq!(error.code, ErrorCode::NotLoggedIn);

    let page = PageSnapshot {
        html: "<html><body><p>nothing here</p></body></html>".into(),
        layout: None,
        turns_collected: 0,
        reached_top: true,
    };
    let unknown = Request::Capture {
        url: CHATGPT_URL.into(),
        trigger: Default::default(),
        site_json: None,
        page: Some(page),
    };
    let Response::Error(error) = request(&mut library, unknown, 0) else {
        panic!()
    };
    assert_eq!(error.code, ErrorCode::LayoutNotRecognised);
    assert!(error.message.contains("Nothing was saved"));
    let Response::Error(error) = request(
        &mut library,
        Request::PageAnchors {
            url: "https://claude.ai/new".into(),
        },
        0,
    ) else {
        panic!()
    };
    assert_eq!(error.code, ErrorCode::NotAConversation);
    assert_eq!(
        block_on(library.store().count_dreams()).unwrap(),
        0,
        "no failure stored anything"
    );
}

#[test]
fn selections_become_one_fragment_per_snippet() {
    let mut library = open(MemoryStore::new());
    let select = |text: &str| Request::CaptureSelection {
        url: "https://claude.ai/chat/abc".into(),
        page_title: "Chat".into(),
        text: text.into(),
    };
    let Response::Captured(first) = request(&mut library, select("let x = 1;"), 0) else {
        panic!()
    };
    let Response::Captured(again) = request(&mut library, select("let x = 1;\n"), 1) else {
        panic!()
    };
    assert_eq!(first.dream_id, again.dream_id);
    assert_eq!(block_on(library.store().count_fragments()).unwrap(), 1);
    assert!(first.summary.starts_with("Saved the selection"));
}

#[test]
fn settings_are_validated_and_kept_across_restarts() {
    let mut library = open(MemoryStore::new());
    let mut settings = library.settings().clone();
    settings.capture_sites = vec![Site::Chatgpt];
    assert!(matches!(
        request(
            &mut library,
            Request::SaveSettings {
                settings: settings.clone()
            },
            0
        ),
        Response::Settings(_)
    ));
    let Response::Error(error) = request(
        &mut library,
        Request::PageAnchors {
            url: "https://claude.ai/chat/x".into(),
        },
        0,
    ) else {
        panic!()
    };
    assert_eq!(error.code, ErrorCode::Disabled);
    let reopened = open(library.store().durable_copy());
    assert_eq!(reopened.settings(), &settings);
}
