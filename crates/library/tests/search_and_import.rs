//! Search through the search crate's index (paging, totals, highlights, filters), "related to
//! this page" through its relevance scorer, and imports read batch by batch.

use std::io::Write;

use chrono::{TimeZone, Utc};
use futures::executor::block_on;
use serde_json::json;

use dreamcatcher_library::api::{DreamFilter, ErrorCode, ExportFormat, ExportScope, Request, Response};
use dreamcatcher_library::{DreamStore, Library, MemoryStore};
use dreamcatcher_model::{CodeOrigin, Conversation, Message, Role, Site, Timestamp};

fn at(seconds: i64) -> Timestamp {
    Utc.timestamp_opt(1_763_000_000 + seconds, 0).unwrap()
}

fn open() -> Library<MemoryStore> {
    block_on(Library::open(MemoryStore::new())).unwrap()
}

fn conversation(site_id: &str, title: &str, answer: &str, blocks: &[(&str, &str)]) -> Conversation {
    let mut conversation = Conversation::new(Site::Claude, Some(site_id.into()), title);
    conversation.url = Some(format!("https://claude.ai/chat/{site_id}"));
    conversation.messages.push(Message::new(Role::User, format!("A question on {title}")));
    let mut message = Message::new(Role::Assistant, answer);
    for (language, code) in blocks {
        message.fragments.code_blocks.push(dreamcatcher_fragments::code_block(language, code, CodeOrigin::Fence));
    }
    conversation.messages.push(message);
    conversation
}

fn marked<'a>(text: &'a str, spans: &[dreamcatcher_library::api::Highlight]) -> Vec<&'a str> {
    spans.iter().map(|h| &text[h.start as usize..h.end as usize]).collect()
}

#[test]
fn search_pages_through_the_ranking_with_a_total_and_highlights() {
    let mut library = open();
    let mut conversations: Vec<Conversation> = (0..120)
        .map(|n| conversation(&format!("k{n}"), &format!("Note {n}"), &format!("deploying to kubernetes, round {n}"), &[]))
        .collect();
    conversations.push(conversation(
        "best",
        "Kubernetes rollout strategies",
        "Kubernetes kubernetes kubernetes: a rolling update replaces pods gradually.",
        &[("yaml", "kind: Deployment\nspec:\n  strategy: RollingUpdate")],
    ));
    block_on(library.capture(conversations, at(0))).unwrap();

    let first = block_on(library.search("kubernetes", 0, 50, &DreamFilter::default(), at(10))).unwrap();
    assert_eq!((first.total, first.offset, first.hits.len(), first.total_capped), (121, 0, 50, false));
    let best = &first.hits[0];
    assert_eq!(best.dream.title, "Kubernetes rollout strategies");
    assert_eq!(marked(&best.dream.title, &best.title_highlights), vec!["Kubernetes"]);
    assert!(marked(&best.snippet, &best.highlights).iter().all(|m| m.eq_ignore_ascii_case("kubernetes")));
    assert!(!best.highlights.is_empty());
    assert_eq!(best.message_index, Some(1), "the answer holds the matches");

    let mut seen: Vec<String> = Vec::new();
    for offset in [0, 50, 100] {
        let page = block_on(library.search("kubernetes", offset, 50, &DreamFilter::default(), at(10))).unwrap();
        assert_eq!(page.total, 121);
        seen.extend(page.hits.into_iter().map(|h| h.dream.id));
    }
    assert_eq!(seen.len(), 121);
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 121, "pages never repeat a dream");

    // A match only in code points at the block.
    let code = block_on(library.search("rollingupdate", 0, 10, &DreamFilter::default(), at(10))).unwrap();
    assert_eq!(code.total, 1);
    assert!(code.hits[0].content_key.is_some());
    assert_eq!(marked(&code.hits[0].snippet, &code.hits[0].highlights), vec!["RollingUpdate"]);

    // No searchable word: no results (listing is the list's job).
    assert_eq!(block_on(library.search(" !? ", 0, 10, &DreamFilter::default(), at(10))).unwrap().total, 0);
}

#[test]
fn search_filters_apply_before_the_total() {
    let mut library = open();
    let old = conversation("old", "Old pods", "kubernetes pods", &[("python", "import kubernetes")]);
    let new = conversation("new", "New pods", "kubernetes pods", &[("rust", "use kube;")]);
    block_on(library.capture(vec![old.clone()], at(0))).unwrap();
    block_on(library.capture(vec![new.clone()], at(5000))).unwrap();
    let search = |library: &mut Library<MemoryStore>, filter: DreamFilter| {
        let page = block_on(library.search("pods", 0, 10, &filter, at(6000))).unwrap();
        (page.total, page.hits.into_iter().map(|h| h.dream.id).collect::<Vec<_>>())
    };
    let recent = DreamFilter { since: Some(at(1000)), ..DreamFilter::default() };
    assert_eq!(search(&mut library, recent), (1, vec![new.id.clone()]));
    let python = DreamFilter { language: Some("python".into()), ..DreamFilter::default() };
    assert_eq!(search(&mut library, python), (1, vec![old.id.clone()]));
    block_on(library.mark_opened(&new.id, at(5000))).unwrap();
    let unopened = DreamFilter { unopened_only: true, ..DreamFilter::default() };
    assert_eq!(search(&mut library, unopened), (1, vec![old.id.clone()]));
    block_on(library.set_tags(&old.id, vec!["infra".into()], at(5001))).unwrap();
    let tagged = DreamFilter { tag: Some("Infra".into()), ..DreamFilter::default() };
    assert_eq!(search(&mut library, tagged), (1, vec![old.id.clone()]));
}

#[test]
fn a_query_matching_more_than_the_ranking_holds_says_so() {
    let mut library = open();
    let conversations: Vec<Conversation> =
        (0..1100).map(|n| conversation(&format!("c{n}"), &format!("Item {n}"), "common words here", &[])).collect();
    block_on(library.capture(conversations, at(0))).unwrap();
    let page = block_on(library.search("common", 0, 20, &DreamFilter::default(), at(1))).unwrap();
    assert!(page.total_capped);
    assert_eq!(page.total, 1000);
    assert_eq!(page.hits.len(), 20);
}

#[test]
fn the_request_api_pages_search_and_counts_what_delete_all_removed() {
    let mut library = open();
    let a = conversation("a", "Alpha", "shared word", &[("rust", "fn a() {}")]);
    let b = conversation("b", "Beta", "shared word", &[]);
    block_on(library.capture(vec![a, b], at(0))).unwrap();
    let answer = block_on(library.handle(
        Request::Search { query: "shared".into(), offset: 1, limit: 1, filter: DreamFilter::default() },
        at(1),
    ));
    let json = serde_json::to_value(&answer).unwrap();
    assert_eq!((json["type"].as_str(), json["total"].as_u64(), json["offset"].as_u64()), (Some("search_results"), Some(2), Some(1)));
    assert_eq!(json["hits"].as_array().map(Vec::len), Some(1));
    // Old popups sending no offset get the first page.
    let request: Request = serde_json::from_str(r#"{"type":"search","query":"shared"}"#).unwrap();
    assert!(matches!(request, Request::Search { offset: 0, limit: 50, .. }));

    let answer = block_on(library.handle(Request::DeleteAll { confirm: true }, at(2)));
    assert_eq!(answer, Response::AllDeleted { dreams: 2, fragments: 1 });
    let answer = block_on(library.handle(Request::Stats, at(3)));
    assert!(matches!(answer, Response::Stats(stats) if stats.dreams == 0 && stats.fragments == 0));
}

#[test]
fn related_to_this_page_comes_from_the_relevance_scorer() {
    let mut library = open();
    let page = conversation(
        "page-1",
        "Retry HTTP requests with backoff",
        "Use a loop.",
        &[("rust", "loop { retry(); }")],
    );
    let close = conversation(
        "close-1",
        "Backoff for HTTP retry",
        "Retry HTTP requests with exponential backoff and jitter.",
        &[("rust", "let delay = base * 2u32.pow(attempt);")],
    );
    let far = conversation("far-1", "Sourdough bread", "Feed the starter daily.", &[]);
    block_on(library.capture(vec![page.clone(), close.clone(), far], at(0))).unwrap();

    let url = "https://claude.ai/chat/page-1";
    let answer = block_on(library.handle(Request::Related { url: url.into(), min_score: None, limit: None }, at(10)));
    let Response::Related { dream_id, hits } = answer else { panic!("{answer:?}") };
    assert_eq!(dream_id.as_deref(), Some(page.id.as_str()));
    let ids: Vec<&str> = hits.iter().map(|h| h.dream.id.as_str()).collect();
    assert_eq!(ids, vec![close.id.as_str()], "the page's own dream and unrelated ones are left out");
    assert!(hits[0].score >= 0.6 && hits[0].score <= 1.0, "{}", hits[0].score);

    // A stricter minimum leaves nothing; an uncaptured page has no dream.
    let strict = block_on(library.related(url, 0.99, 10, at(10))).unwrap();
    assert!(strict.1.is_empty());
    let none = block_on(library.related("https://claude.ai/chat/unknown-9", 0.6, 10, at(10))).unwrap();
    assert_eq!(none, (None, Vec::new()));
}

/// A Claude official export entry.
fn claude_entry(n: usize, title: &str, answer: &str) -> serde_json::Value {
    json!({
        "uuid": format!("6a1e0000-0000-4000-8000-{n:012}"),
        "name": title,
        "created_at": "2026-10-01T10:00:00Z",
        "updated_at": "2026-10-01T10:05:00Z",
        "chat_messages": [
            {"uuid": format!("u-{n}"), "sender": "human", "text": format!("question {n}"),
             "content": [{"type": "text", "text": format!("question {n}")}], "created_at": "2026-10-01T10:00:00Z"},
            {"uuid": format!("a-{n}"), "sender": "assistant", "text": answer,
             "content": [{"type": "text", "text": answer}], "created_at": "2026-10-01T10:00:05Z"}
        ]
    })
}

/// 120 good conversations, and three the import must skip with a reason.
fn big_export() -> Vec<u8> {
    let mut entries: Vec<serde_json::Value> =
        (0..120).map(|n| claude_entry(n, &format!("Conversation {n}"), &format!("answer number {n}"))).collect();
    entries.insert(61, json!({"uuid": "broken-1", "name": "Broken one", "chat_messages": "not a list"}));
    entries.insert(62, json!(42));
    let mut empty = claude_entry(999, "Nothing said", "x");
    empty["chat_messages"] = json!([]);
    entries.push(empty);
    serde_json::to_vec_pretty(&entries).unwrap()
}

fn progress(answer: Response) -> dreamcatcher_library::api::ImportProgress {
    match answer {
        Response::ImportProgress(progress) => progress,
        other => panic!("{other:?}"),
    }
}

#[test]
fn imports_store_batch_by_batch_with_progress_and_reasons() {
    let mut library = open();
    library.set_import_batch_size(50);
    let bytes = big_export();
    let import_id = library.import_begin("conversations.json", bytes.len() as u64);
    let chunks: Vec<&[u8]> = bytes.chunks(4096).collect();
    for (index, chunk) in chunks.iter().enumerate() {
        let last = index + 1 == chunks.len();
        let report = library.import_chunk(&import_id, chunk, last).unwrap();
        assert_eq!(report.conversations_total, if last { 123 } else { 0 });
    }
    let mut done = Vec::new();
    let summary = loop {
        let report = block_on(library.import_step(&import_id, at(0))).unwrap();
        assert_eq!(report.bytes_received, bytes.len() as u64);
        done.push(report.conversations_done);
        if let Some(summary) = report.summary {
            break summary;
        }
        let stored = block_on(library.store().count_dreams()).unwrap();
        assert!(stored > 0 && stored < 120, "stored a batch at a time, not all at once: {stored}");
    };
    assert_eq!(done, vec![50, 100, 123]);
    assert_eq!((summary.added, summary.updated, summary.unchanged), (120, 0, 0));
    let reasons: Vec<String> = summary.skipped.iter().map(|s| format!("{}: {}", s.item, s.reason)).collect();
    assert_eq!(reasons.len(), 3, "{reasons:#?}");
    assert!(reasons[0].starts_with("Broken one: ") && reasons[0].contains("[61]"), "path counted in the file: {}", reasons[0]);
    assert!(reasons[1].starts_with("conversation 63: ") && reasons[1].contains("[62]"), "{}", reasons[1]);
    assert_eq!(reasons[2], "Nothing said: the conversation has no messages");
    assert_eq!(library.import_status(&import_id).unwrap().summary, Some(summary));

    // Re-importing adds nothing.
    let again = block_on(library.import_file("conversations.json", &bytes, at(1))).unwrap();
    assert_eq!((again.added, again.updated, again.unchanged, again.skipped.len()), (0, 0, 120, 3));
    assert_eq!(block_on(library.store().count_dreams()).unwrap(), 120);
    let found = block_on(library.search("number", 0, 500, &DreamFilter::default(), at(2))).unwrap();
    assert_eq!(found.total, 120, "every imported conversation is searchable");
}

#[test]
fn a_failed_write_ends_the_import_with_the_error_and_keeps_what_was_stored() {
    let mut library = open();
    library.set_import_batch_size(50);
    let bytes = big_export();
    let import_id = library.import_begin("conversations.json", bytes.len() as u64);
    library.import_chunk(&import_id, &bytes, true).unwrap();
    block_on(library.import_step(&import_id, at(0))).unwrap();
    library.store().fail_next_commits(1);
    let error = block_on(library.import_step(&import_id, at(0))).unwrap_err();
    assert_eq!(error.code, ErrorCode::Storage);
    let status = progress(block_on(library.handle(Request::ImportStatus { import_id: import_id.clone() }, at(1))));
    assert_eq!(status.summary, None);
    assert_eq!(status.error.map(|e| e.code), Some(ErrorCode::Storage));
    assert_eq!(block_on(library.store().count_dreams()).unwrap(), 50);
    // Importing the file again completes it, without duplicates.
    let summary = block_on(library.import_file("conversations.json", &bytes, at(2))).unwrap();
    assert_eq!((summary.added, summary.unchanged), (70, 50));
}

fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in files {
        writer.start_file(*name, options).unwrap();
        writer.write_all(bytes).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

#[test]
fn export_zips_are_read_from_their_conversations_json() {
    let mut library = open();
    let export = serde_json::to_vec(&vec![claude_entry(1, "Zipped one", "a"), claude_entry(2, "Zipped two", "b")]).unwrap();
    let zip = zip_of(&[
        ("__MACOSX/data/conversations.json", b"junk"),
        ("data/users.json", b"[]"),
        ("data/conversations.json", &export),
    ]);
    let summary = block_on(library.import_file("export.zip", &zip, at(0))).unwrap();
    assert_eq!((summary.added, summary.skipped.len()), (2, 0));
    let again = block_on(library.import_file("export.zip", &zip, at(1))).unwrap();
    assert_eq!((again.added, again.unchanged), (0, 2));

    let unrelated = zip_of(&[("photos/cat.txt", b"meow")]);
    let error = block_on(library.import_file("photos.zip", &unrelated, at(2))).unwrap_err();
    assert_eq!(error.code, ErrorCode::InvalidRequest);
    assert!(error.message.contains("photos.zip") && error.message.contains("photos/cat.txt"), "{}", error.message);
}

#[test]
fn a_library_export_with_an_unreadable_dream_restores_the_others() {
    let mut library = open();
    let a = conversation("a", "Alpha", "one", &[("rust", "fn a() {}")]);
    let b = conversation("b", "Beta", "two", &[]);
    block_on(library.capture(vec![a.clone(), b.clone()], at(0))).unwrap();
    block_on(library.set_notes(&a.id, "my notes".into(), at(1))).unwrap();
    let file = block_on(library.export(&ExportScope::All, ExportFormat::Json)).unwrap();
    let mut document: serde_json::Value = serde_json::from_str(&file.text.unwrap()).unwrap();
    document["dreams"].as_array_mut().unwrap().insert(1, json!({"conversation": "not a dream"}));
    let bytes = serde_json::to_vec(&document).unwrap();
    block_on(library.delete_all(at(2))).unwrap();
    let summary = block_on(library.import_file("backup.json", &bytes, at(2))).unwrap();
    assert_eq!(summary.added, 2);
    assert_eq!(summary.skipped.len(), 1);
    assert_eq!(summary.skipped[0].item, "dream 2");
    assert_eq!(block_on(library.get_dream(&a.id)).unwrap().notes, "my notes");

    // A dream whose id was damaged is skipped with its id named, not stored under it.
    let mut damaged = document.clone();
    damaged["dreams"][0]["conversation"]["id"] = json!("-c-damaged");
    block_on(library.delete_all(at(3))).unwrap();
    let summary =
        block_on(library.import_file("backup.json", &serde_json::to_vec(&damaged).unwrap(), at(3))).unwrap();
    assert_eq!(summary.added, 1);
    assert_eq!(summary.skipped.len(), 2);
    assert_eq!(summary.skipped[0].item, "dream 1");
    assert!(summary.skipped[0].reason.contains("\"-c-damaged\" (byte "), "{}", summary.skipped[0].reason);

    let newer = br#"{"format":"dreamcatcher-library","version":99,"dreams":[]}"#;
    let error = block_on(library.import_file("future.json", newer, at(3))).unwrap_err();
    assert!(error.message.contains("version 99"), "{}", error.message);
    let empty = block_on(library.import_file("blank.json", b"  \n", at(3))).unwrap_err();
    assert_eq!(empty.message, "blank.json: the file is empty");
}
