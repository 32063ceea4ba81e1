mod common;

use common::*;
use dreamcatcher_model::Dream;
use dreamcatcher_search::{SearchIndex, SearchOptions, SuggestionContext, highlight, snippet};
use proptest::prelude::*;

/// Text mixing code punctuation, accents, CJK, emoji and arbitrary characters.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9_ .:/\\-éÉßİı数据库连接データ한국어\u{301}😀\n]{0,60}",
        "\\PC{0,40}",
        Just(String::new()),
    ]
}

fn dream_from(id: usize, title: String, prose: String, code_text: String, tag: String) -> Dream {
    dream(&format!("p{id}"), &title)
        .tags(&[tag.as_str()])
        .message(question(&prose))
        .message(answer(&prose, vec![titled(code(&tag, &code_text), &title)]))
        .todos(vec![todo(&code_text)])
        .build()
}

fn dreams() -> impl Strategy<Value = Vec<Dream>> {
    prop::collection::vec((text(), text(), text(), text()), 1..6).prop_map(|parts| {
        parts
            .into_iter()
            .enumerate()
            .map(|(i, (title, prose, code_text, tag))| dream_from(i, title, prose, code_text, tag))
            .collect()
    })
}

fn assert_spans_valid(text: &str, spans: &[std::ops::Range<usize>]) {
    let mut previous_end = 0;
    for span in spans {
        assert!(
            span.start < span.end && span.end <= text.len(),
            "{span:?} in {text:?}"
        );
        assert!(span.start >= previous_end, "spans overlap: {spans:?}");
        assert!(
            text.is_char_boundary(span.start) && text.is_char_boundary(span.end),
            "{span:?} in {text:?}"
        );
        previous_end = span.end;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn search_never_panics_and_keeps_scores_and_spans_valid(dreams in dreams(), query in text(), max in 0usize..80) {
        let mut index = SearchIndex::new();
        index.upsert_dreams(&dreams);
        let hits = index.search(&query, &SearchOptions { limit: 50, ..SearchOptions::default() }, now());
        for hit in &hits {
            prop_assert!((0.0..=1.0).contains(&hit.score));
            let dream = dreams.iter().find(|d| d.id() == hit.dream_id).expect("hit names an indexed dream");
            let snippet = hit.snippet(dream, &query, max).expect("its fragment exists");
            assert_spans_valid(&snippet.text, &snippet.spans);
        }
        let context = SuggestionContext { current_task: Some(query.clone()), keywords: vec![query.clone()], min_score: 0.0, ..SuggestionContext::default() };
        for suggestion in index.suggest(&context, now()) {
            prop_assert!((0.0..=1.0).contains(&suggestion.score));
        }
        index.remove_dream(dreams[0].id());
        prop_assert!(index.search(&query, &SearchOptions::default(), now()).iter().all(|h| h.dream_id != dreams[0].id()));
    }

    #[test]
    fn highlights_are_on_char_boundaries(text in text(), query in text(), max in 0usize..100) {
        assert_spans_valid(&text, &highlight(&text, &query));
        let cut = snippet(&text, &query, max);
        assert_spans_valid(&cut.text, &cut.spans);
        prop_assert!(cut.text.chars().count() <= max.max(16) + 2);
    }

    #[test]
    fn snapshots_round_trip(dreams in dreams(), query in text()) {
        let mut index = SearchIndex::new();
        index.upsert_dreams(&dreams);
        if dreams.len() > 2 {
            index.remove_dream(dreams[1].id());
        }
        let restored = SearchIndex::from_snapshot(&index.to_snapshot()).unwrap();
        let options = SearchOptions { limit: 100, ..SearchOptions::default() };
        prop_assert_eq!(index.search(&query, &options, now()), restored.search(&query, &options, now()));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let mut prefixed = b"DCSRCHIX\x01\x00\x00\x00".to_vec();
        prefixed.extend_from_slice(&bytes);
        let _ = SearchIndex::from_snapshot(&bytes);
        let _ = SearchIndex::from_snapshot(&prefixed);
    }

    #[test]
    fn resealed_mutations_never_panic(dreams in dreams(), edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let mut index = SearchIndex::new();
        index.upsert_dreams(&dreams);
        let mut bytes = index.to_snapshot();
        for (position, value) in edits {
            let at = 24 + position.index(bytes.len() - 24);
            bytes[at] = value;
        }
        let checksum = crc32fast::hash(&bytes[24..]);
        bytes[20..24].copy_from_slice(&checksum.to_le_bytes());
        if let Ok(mut restored) = SearchIndex::from_snapshot(&bytes) {
            let _ = restored.search("a", &SearchOptions::default(), now());
            restored.remove_dream(dreams[0].id());
            restored.upsert_dreams(&dreams);
            let _ = restored.search("a", &SearchOptions::default(), now());
            let _ = restored.to_snapshot();
        }
    }
}
