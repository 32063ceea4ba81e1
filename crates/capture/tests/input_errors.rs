//! Inputs that are not (all) conversations: each error says what is wrong and where.

use std::io::{Cursor, Write};

use dreamcatcher_capture::json::JsonError;
use dreamcatcher_capture::{
    CaptureError, InputFormat, ParseOptions, detect_format, parse_bytes, parse_input,
};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/json/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn error_of(bytes: &[u8]) -> CaptureError {
    match parse_bytes(bytes, &ParseOptions::default()) {
        Ok(conversations) => panic!(
            "expected an error, got {} conversations",
            conversations.len()
        ),
        Err(error) => error,
    }
}

#[test]
fn empty_input() {
    assert!(matches!(error_of(b""), CaptureError::Empty));
    assert!(matches!(error_of(b" \n\t "), CaptureError::Empty));
    assert!(matches!(error_of(b"\xEF\xBB\xBF\n"), CaptureError::Empty));
}

#[test]
fn truncated_json_says_where_it_ends() {
    let whole = fixture("chatgpt-export.json");
    let cut = &whole[..whole.len() / 2];
    let error = error_of(cut);
    let CaptureError::Json(JsonError::Truncated { line, column }) = &error else {
        panic!("{error:?}")
    };
    let lines = cut.iter().filter(|&&b| b == b'\n').count() + 1;
    assert_eq!(*line, lines, "the last line of the cut input");
    assert!(*column > 0);
    assert!(error.to_string().contains("truncated"), "{error}");

    let one = fixture("claude-api-tree.json");
    assert!(matches!(
        error_of(&one[..100]),
        CaptureError::Json(JsonError::Truncated { .. })
    ));
}

#[test]
fn broken_syntax_gives_line_and_column() {
    let error = error_of(b"[\n {\"mapping\": {}},\n {\"mapping\": {} oops}\n]");
    let CaptureError::Json(JsonError::Syntax {
        line,
        column,
        message,
    }) = &error
    else {
        panic!("{error:?}")
    };
    assert_eq!((*line, *column), (3, 17));
    assert!(message.contains("expected"), "{message}");
}

#[test]
fn binary_bytes_are_named() {
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    let error = error_of(png);
    let CaptureError::Binary { offset, detail } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(*offset, 0);
    assert!(detail.contains("0x89"), "{detail}");

    let error = error_of(b"{\"title\": \"a\0b\"}");
    let CaptureError::Binary { offset, detail } = &error else {
        panic!("{error:?}")
    };
    assert_eq!((*offset, detail.as_str()), (12, "control byte 0x00"));

    assert!(matches!(
        error_of(b"\x1f\x8b\x08\x00rest"),
        CaptureError::Binary { .. }
    ));
    let utf16 = error_of(b"\xFF\xFE[\0]\0");
    assert!(
        matches!(&utf16, CaptureError::UnknownFormat { found } if found.contains("UTF-16")),
        "{utf16:?}"
    );
}

#[test]
fn text_that_is_no_known_format() {
    let error = error_of(b"Just some notes\nabout dreams");
    let CaptureError::UnknownFormat { found } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(found, "it starts with \"Just some notes\"");
    assert!(matches!(
        error_of(b"\"a JSON string\""),
        CaptureError::UnknownFormat { .. }
    ));
}

#[test]
fn json_of_the_wrong_shape() {
    let error = error_of(br#"{"foo": 1, "bar": [1, 2]}"#);
    let CaptureError::Json(JsonError::NotAConversation { path, found }) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(path, "the top level");
    assert_eq!(found, "an object with keys `foo`, `bar`");

    // An array of things that are not conversations: every entry skipped, the first named.
    let error = error_of(b"[1, {\"a\": 2}]");
    let CaptureError::AllEntriesSkipped { skipped, first } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(*skipped, 2);
    assert_eq!(first.index, 0);
    assert!(
        matches!(&first.reason, JsonError::NotAConversation { path, found } if path == "[0]" && found == "a number")
    );

    // Right keys, wrong types: the JSON path says which field.
    let error =
        error_of(br#"{"mapping": {"n1": {"message": {"content": {"parts": "not a list"}}}}}"#);
    let CaptureError::Json(JsonError::Shape { path, message, .. }) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(path, r#"mapping["n1"].message.content.parts"#);
    assert!(message.contains("expected a sequence"), "{message}");

    let error = error_of(br#"{"chat_messages": [{"sender": "human", "content": [{"type": 7}]}]}"#);
    let CaptureError::Json(JsonError::Shape { path, .. }) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(path, "chat_messages[0].content[0].type");
}

#[test]
fn an_empty_export_is_no_conversations_not_an_error() {
    assert_eq!(
        parse_bytes(b"[]", &ParseOptions::default()).unwrap(),
        vec![]
    );
}

#[test]
fn one_broken_entry_among_good_ones() {
    let good_chatgpt = String::from_utf8(fixture("chatgpt-api.json")).unwrap();
    let good_claude = String::from_utf8(fixture("claude-api-tree.json")).unwrap();
    let broken =
        r#"{"title": "Half a chat", "mapping": {"n1": {"message": {"content": {"parts": 5}}}}}"#;
    let export = format!("[\n{good_chatgpt},\n{broken},\n{good_claude}\n]");

    let parsed = parse_input(export.as_bytes(), &ParseOptions::default()).unwrap();
    assert_eq!(parsed.format, InputFormat::ExportJson);
    assert_eq!(parsed.conversations.len(), 2, "the good ones are kept");
    assert_eq!(parsed.conversations[0].title, "Mean of a list");
    assert_eq!(parsed.conversations[1].title, "Rate limiter in Rust");

    let [skipped] = &parsed.skipped[..] else {
        panic!("one skipped entry")
    };
    assert_eq!(skipped.index, 1);
    assert_eq!(skipped.title.as_deref(), Some("Half a chat"));
    assert_eq!(skipped.byte_offset as usize, export.find(broken).unwrap());
    let JsonError::Shape { path, .. } = &skipped.reason else {
        panic!("{:?}", skipped.reason)
    };
    assert_eq!(path, r#"[1].mapping["n1"].message.content.parts"#);
    let shown = skipped.to_string();
    assert!(
        shown.starts_with("entry [1] \"Half a chat\" at byte"),
        "{shown}"
    );

    // parse_bytes keeps the good ones too.
    assert_eq!(
        parse_bytes(export.as_bytes(), &ParseOptions::default())
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn broken_trees_name_the_node() {
    let missing_current = br#"{"mapping": {"a": {"parent": null}}, "current_node": "zz"}"#;
    let error = error_of(missing_current);
    let CaptureError::Json(JsonError::MissingNode {
        path,
        node,
        referenced_by,
    }) = &error
    else {
        panic!("{error:?}")
    };
    assert_eq!(
        (path.as_str(), node.as_str(), referenced_by.as_str()),
        ("current_node", "zz", "`current_node`")
    );

    let missing_parent = br#"{"mapping": {"a": {"parent": "ghost"}}, "current_node": "a"}"#;
    let error = error_of(missing_parent);
    let CaptureError::Json(JsonError::MissingNode { path, node, .. }) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(
        (path.as_str(), node.as_str()),
        (r#"mapping["a"].parent"#, "ghost")
    );
    assert!(
        error.to_string().contains("the parent of node `a`"),
        "{error}"
    );

    let cycle =
        br#"{"mapping": {"a": {"parent": "b"}, "b": {"parent": "a"}}, "current_node": "a"}"#;
    let error = error_of(cycle);
    assert!(
        matches!(&error, CaptureError::Json(JsonError::Cycle { node, .. }) if node == "a"),
        "{error:?}"
    );

    let claude_leaf = br#"{"uuid": "u", "current_leaf_message_uuid": "gone", "chat_messages": [{"uuid": "m1", "sender": "human", "text": "hi"}]}"#;
    let error = error_of(claude_leaf);
    assert!(
        matches!(&error, CaptureError::Json(JsonError::MissingNode { node, .. }) if node == "gone"),
        "{error:?}"
    );

    let claude_parent = br#"{"current_leaf_message_uuid": "m2", "chat_messages": [
        {"uuid": "m1", "sender": "human", "text": "hi"},
        {"uuid": "m2", "parent_message_uuid": "m9", "sender": "assistant", "text": "yo"}]}"#;
    let error = error_of(claude_parent);
    let CaptureError::Json(JsonError::MissingNode { path, node, .. }) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(
        (path.as_str(), node.as_str()),
        ("chat_messages[1].parent_message_uuid", "m9")
    );

    let claude_cycle = br#"{"current_leaf_message_uuid": "m1", "chat_messages": [
        {"uuid": "m1", "parent_message_uuid": "m2", "sender": "human", "text": "hi"},
        {"uuid": "m2", "parent_message_uuid": "m1", "sender": "assistant", "text": "yo"}]}"#;
    assert!(matches!(
        error_of(claude_cycle),
        CaptureError::Json(JsonError::Cycle { .. })
    ));
}

#[test]
fn a_zip_without_conversations_lists_what_it_holds() {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for name in ["users.json", "projects.json"] {
        writer
            .start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        writer.write_all(b"[]").unwrap();
    }
    let archive = writer.finish().unwrap().into_inner();
    assert_eq!(detect_format(&archive).unwrap(), InputFormat::Zip);
    let error = error_of(&archive);
    let CaptureError::ZipWithoutConversations { count, names } = &error else {
        panic!("{error:?}")
    };
    assert_eq!((*count, names.as_str()), (2, "projects.json, users.json"));

    let mut corrupt = archive.clone();
    corrupt.truncate(30);
    assert!(matches!(error_of(&corrupt), CaptureError::Zip(_)));
}

#[test]
fn html_goes_to_the_page_reader() {
    assert_eq!(
        detect_format(b"\n<!DOCTYPE html><html></html>").unwrap(),
        InputFormat::Html
    );
    let error = error_of(b"<!DOCTYPE html><html><body><p>no chat here</p></body></html>");
    assert!(matches!(error, CaptureError::Page(_)), "{error:?}");
}

#[test]
fn a_saved_page_is_read_when_the_shared_fixtures_are_there() {
    let page = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/claude/2026-05-code-block.html");
    let Ok(html) = std::fs::read(&page) else {
        println!("skipped: {} is absent", page.display());
        return;
    };
    let options = ParseOptions {
        site: None,
        url: Some("https://claude.ai/chat/0a1b2c3d-0000-4000-8000-000000000042".into()),
    };
    let conversations = parse_bytes(&html, &options).unwrap();
    assert_eq!(conversations.len(), 1);
    assert_eq!(
        conversations[0].site_id.as_deref(),
        Some("0a1b2c3d-0000-4000-8000-000000000042")
    );
    assert_eq!(conversations[0].messages.len(), 2);
}

#[test]
fn a_damaged_dreamcatcher_id_is_refused_with_its_place() {
    let whole = String::from_utf8(fixture("dreamcatcher.json")).unwrap_or_default();
    let before = parse_input(whole.as_bytes(), &ParseOptions::default()).unwrap();
    let damaged = whole.replacen("\"dc-0000", "\"-c-0000", 1);
    assert_ne!(damaged, whole, "the fixture holds a Dreamcatcher id");
    let parsed = parse_input(damaged.as_bytes(), &ParseOptions::default()).unwrap();
    assert_eq!(parsed.conversations.len() + 1, before.conversations.len(), "only that one is left out");
    let [skipped] = &parsed.skipped[..] else {
        panic!("one skipped entry: {:?}", parsed.skipped)
    };
    let JsonError::BadId { path, id } = &skipped.reason else {
        panic!("{:?}", skipped.reason)
    };
    assert_eq!(path, "[0].id");
    assert!(id.starts_with("-c-0000"), "{id}");
    assert!(skipped.to_string().contains("is not a Dreamcatcher id"), "{skipped}");
}
