mod common;

use common::*;
use dreamcatcher_model::{Dream, Site};
use dreamcatcher_search::{
    DocKind, SNAPSHOT_VERSION, SearchIndex, SearchOptions, SnapshotError, SuggestionContext,
};

fn library() -> Vec<Dream> {
    let mut dreams = Vec::new();
    for i in 0..40 {
        let language = ["python", "rust", "typescript", "go"][i % 4];
        let prose = match i % 3 {
            0 => format!("Connecting to the database with a pool, attempt {i}."),
            1 => format!("如何连接数据库并读取配置文件 第{i}次"),
            _ => format!("Parsing JSON payloads and retrying failed requests {i}"),
        };
        let code_text = format!(
            "fn load_config_{i}(path: &str) -> Config {{ read_to_string(path).parse() }} // retryCount {i}"
        );
        let mut builder = dream(
            &format!("lib{i}"),
            &format!("Library item {i} {}", ["pool", "数据库", "json"][i % 3]),
        )
        .day(i as i64 * 2)
        .tags(if i % 2 == 0 {
            &["work", "db"]
        } else {
            &["home"]
        })
        .notes(if i % 5 == 0 {
            "remember the timeout"
        } else {
            ""
        })
        .usage(i as u32 % 7, (i % 4 == 0).then_some(97))
        .message(question(&prose))
        .message(answer(
            "Here is the code:",
            vec![code(language, &code_text)],
        ));
        if i % 6 == 0 {
            builder = builder.todos(vec![todo("handle the retry timeout"), todo("log failures")]);
        }
        if i % 7 == 0 {
            builder = builder.site(Site::Claude);
        }
        dreams.push(builder.build());
    }
    dreams
}

fn churned_index() -> SearchIndex {
    let dreams = library();
    let mut index = SearchIndex::new();
    index.upsert_dreams(&dreams);
    for dream in dreams.iter().step_by(5) {
        index.remove_dream(dream.id());
    }
    let mut changed = dreams[3].clone();
    changed.conversation.title = "Renamed pool item".into();
    index.upsert_dream(&changed);
    index
}

const QUERIES: &[&str] = &[
    "database",
    "pool",
    "datab",
    "数据",
    "数据库连接",
    "配置",
    "loadConfig",
    "load_config_3",
    "read_to_string",
    "retry",
    "retr",
    "json pars",
    "timeout",
    "",
    "renamed",
    "x",
];

fn all_options() -> Vec<SearchOptions> {
    vec![
        SearchOptions::default(),
        SearchOptions {
            limit: 50,
            ..SearchOptions::default()
        },
        SearchOptions {
            language: Some("rust".into()),
            ..SearchOptions::default()
        },
        SearchOptions {
            tags: vec!["work".into()],
            kind: Some(DocKind::Fragment),
            ..SearchOptions::default()
        },
        SearchOptions {
            site: Some(Site::Claude),
            since: Some(at(10)),
            ..SearchOptions::default()
        },
    ]
}

fn assert_same_results(a: &SearchIndex, b: &SearchIndex) {
    assert_eq!(a.len(), b.len());
    assert_eq!(a.dream_count(), b.dream_count());
    for query in QUERIES {
        for options in all_options() {
            assert_eq!(
                a.search(query, &options, now()),
                b.search(query, &options, now()),
                "query {query:?} {options:?}"
            );
        }
    }
    let context = SuggestionContext {
        current_task: Some("load config from database".into()),
        language: Some("rust".into()),
        keywords: vec!["db".into(), "pool".into()],
        min_score: 0.0,
        limit: 100,
    };
    assert_eq!(a.suggest(&context, now()), b.suggest(&context, now()));
}

#[test]
fn restored_index_answers_exactly_like_the_original() {
    let original = churned_index();
    let bytes = original.to_snapshot();
    let restored = SearchIndex::from_snapshot(&bytes).expect("restores");
    assert_same_results(&original, &restored);
    assert!(
        !original
            .search("数据", &SearchOptions::default(), now())
            .is_empty()
    );
    assert_eq!(
        restored.to_snapshot(),
        bytes,
        "a restored index writes the same snapshot"
    );
}

#[test]
fn restored_index_keeps_updating_like_the_original() {
    let dreams = library();
    let mut original = churned_index();
    let mut restored = SearchIndex::from_snapshot(&original.to_snapshot()).unwrap();
    for index in [&mut original, &mut restored] {
        index.remove_dream(dreams[1].id());
        let mut changed = dreams[2].clone();
        changed.notes = "now mentions kubernetes".into();
        index.upsert_dream(&changed);
        index.upsert_dream(&dreams[0]);
    }
    assert_same_results(&original, &restored);
    assert!(
        original.search("kubernetes", &SearchOptions::default(), now())[0].dream_id
            == dreams[2].id()
    );
    let removed = restored.search("load_config_1 ", &SearchOptions::default(), now());
    assert!(!removed.is_empty() && removed.iter().all(|h| h.dream_id != dreams[1].id()));
}

#[test]
fn empty_index_round_trips() {
    let empty = SearchIndex::new();
    let restored = SearchIndex::from_snapshot(&empty.to_snapshot()).unwrap();
    assert!(restored.is_empty());
    assert!(
        restored
            .search("anything", &SearchOptions::default(), now())
            .is_empty()
    );
}

#[test]
fn wrong_magic_and_version_are_reported() {
    let bytes = churned_index().to_snapshot();
    assert_eq!(
        SearchIndex::from_snapshot(b"").unwrap_err(),
        SnapshotError::NotASnapshot
    );
    assert_eq!(
        SearchIndex::from_snapshot(b"{\"json\": true}").unwrap_err(),
        SnapshotError::NotASnapshot
    );
    let mut other_version = bytes.clone();
    other_version[8..12].copy_from_slice(&(SNAPSHOT_VERSION + 1).to_le_bytes());
    assert_eq!(
        SearchIndex::from_snapshot(&other_version).unwrap_err(),
        SnapshotError::UnsupportedVersion {
            found: SNAPSHOT_VERSION + 1,
            supported: SNAPSHOT_VERSION
        }
    );
}

#[test]
fn every_truncation_is_an_error() {
    let bytes = churned_index().to_snapshot();
    for length in 0..bytes.len() {
        assert!(
            SearchIndex::from_snapshot(&bytes[..length]).is_err(),
            "length {length}"
        );
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(SearchIndex::from_snapshot(&longer).is_err());
}

#[test]
fn flipped_bits_fail_the_checksum() {
    let bytes = churned_index().to_snapshot();
    for position in (24..bytes.len()).step_by(97) {
        let mut corrupted = bytes.clone();
        corrupted[position] ^= 0x10;
        assert!(
            matches!(
                SearchIndex::from_snapshot(&corrupted),
                Err(SnapshotError::ChecksumMismatch { .. })
            ),
            "byte {position}"
        );
    }
}

/// Corruption that keeps a valid checksum (a bug or a tampered file) is caught by validation.
#[test]
fn structurally_invalid_payloads_are_errors_not_panics() {
    let bytes = churned_index().to_snapshot();
    let reseal = |mut bytes: Vec<u8>| {
        let checksum = crc32fast::hash(&bytes[24..]);
        let length = (bytes.len() - 24) as u64;
        bytes[12..20].copy_from_slice(&length.to_le_bytes());
        bytes[20..24].copy_from_slice(&checksum.to_le_bytes());
        bytes
    };
    let mut errors = 0;
    for position in 24..bytes.len() {
        for value in [0x00, 0xff] {
            let mut corrupted = bytes.clone();
            corrupted[position] = value;
            if let Err(error) = SearchIndex::from_snapshot(&reseal(corrupted)) {
                errors += 1;
                assert!(!error.to_string().is_empty());
            }
        }
    }
    assert!(errors > 0);
    let message = SearchIndex::from_snapshot(&reseal(bytes[..bytes.len() - 3].to_vec()))
        .unwrap_err()
        .to_string();
    assert!(message.contains("byte"), "{message}");
}
