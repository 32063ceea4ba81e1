mod common;

use common::*;
use dreamcatcher_model::{Dream, Site};
use dreamcatcher_search::{
    DocKind, FragmentRef, SearchHit, SearchIndex, SearchOptions, SuggestionContext,
};

fn index_of(dreams: &[Dream]) -> SearchIndex {
    let mut index = SearchIndex::new();
    index.upsert_dreams(dreams);
    index
}

fn search(index: &SearchIndex, query: &str) -> Vec<SearchHit> {
    index.search(query, &SearchOptions::default(), now())
}

fn first_code(hit: &SearchHit) -> Option<(u32, u32)> {
    match hit.fragment {
        Some(FragmentRef::Code { message, block }) => Some((message, block)),
        _ => None,
    }
}

#[test]
fn title_match_beats_body_match() {
    let in_title = dream("a", "Kubernetes rollout checklist")
        .message(question("What should I verify first?"))
        .build();
    let in_body = dream("b", "Weekend notes")
        .message(question(
            "I also read a little about kubernetes and several other tools today",
        ))
        .build();
    let index = index_of(&[in_body.clone(), in_title.clone()]);
    let hits = search(&index, "kubernetes");
    assert_eq!(hits.len(), 2);
    assert_eq!(hits[0].dream_id, in_title.id());
    assert_eq!(hits[1].dream_id, in_body.id());
    assert!(hits[0].score > hits[1].score);
    assert!(hits.iter().all(|h| h.score > 0.0 && h.score <= 1.0));
}

#[test]
fn language_in_the_query_boosts_fragments_in_that_language() {
    let javascript = dream("js", "Sorting arrays")
        .message(answer(
            "Here:",
            vec![code("javascript", "items.sort((a, b) => a.rank - b.rank);")],
        ))
        .build();
    let python = dream("py", "Sorting lists")
        .message(answer(
            "Here:",
            vec![code("python", "items.sort(key=lambda item: item.rank)")],
        ))
        .build();
    let index = index_of(&[javascript.clone(), python.clone()]);
    let options = SearchOptions {
        kind: Some(DocKind::Fragment),
        ..SearchOptions::default()
    };
    let hits = index.search("python sort", &options, now());
    assert_eq!(hits[0].dream_id, python.id());
    assert_eq!(hits[0].language.as_deref(), Some("python"));
    let hits = index.search("javascript sort", &options, now());
    assert_eq!(hits[0].dream_id, javascript.id());
}

#[test]
fn last_term_matches_as_a_prefix_while_typing() {
    let tokio = dream("t", "Async runtime")
        .message(answer(
            "Spawn it:",
            vec![code(
                "rust",
                "let handle = tokio::spawn(async move { work().await });",
            )],
        ))
        .message(answer(
            "Or block:",
            vec![code(
                "rust",
                "tokio::task::spawn_blocking(move || heavy());",
            )],
        ))
        .build();
    let other = dream("o", "Tokio intro")
        .message(question("What is tokio good for?"))
        .build();
    let index = index_of(&[tokio.clone(), other]);

    let typing = search(&index, "tokio spa");
    assert_eq!(typing[0].dream_id, tokio.id());
    assert!(
        first_code(&typing[0]).is_some(),
        "a code block ranks first: {typing:?}"
    );
    let finished = search(&index, "tokio spa ");
    let typing_score = typing[0].score;
    let finished_best = finished
        .iter()
        .filter(|h| h.fragment == typing[0].fragment)
        .map(|h| h.score)
        .next();
    assert!(
        finished_best.is_none_or(|s| s < typing_score),
        "a finished word is not a prefix"
    );

    let blocking = search(&index, "spawn_bl");
    assert_eq!(first_code(&blocking[0]), Some((1, 0)));
    assert!(search(&index, "zzq").is_empty());
}

#[test]
fn cjk_queries_find_cjk_text() {
    let chinese = dream("zh", "数据库问题")
        .message(question("如何连接数据库并读取配置文件？"))
        .message(answer(
            "可以这样做：",
            vec![code("python", "# 读取配置文件\nconfig = load_config(path)")],
        ))
        .build();
    let japanese = dream("ja", "データベース接続")
        .message(question("接続プールの設定方法を教えてください"))
        .build();
    let korean = dream("ko", "한국어 질문")
        .message(question("데이터베이스 연결 방법을 알려주세요"))
        .build();
    let english = dream("en", "Database connection")
        .message(question("How do I connect to the database?"))
        .build();
    let index = index_of(&[chinese.clone(), japanese.clone(), korean.clone(), english]);

    for (query, expected) in [
        ("数据", &chinese),
        ("数据库", &chinese),
        ("读取配置", &chinese),
        ("库", &chinese),
        ("データ", &japanese),
        ("設定", &japanese),
        ("연결", &korean),
        ("데이터베이스", &korean),
    ] {
        let hits = search(&index, query);
        assert!(!hits.is_empty(), "{query} finds nothing");
        assert_eq!(hits[0].dream_id, expected.id(), "{query}: {hits:?}");
        assert!(
            hits.iter().all(|h| h.dream_id == expected.id()),
            "{query} matches only its text: {hits:?}"
        );
    }
    let in_code = search(&index, "配置文件");
    assert!(in_code.iter().any(|h| h.fragment
        == Some(FragmentRef::Code {
            message: 1,
            block: 0
        })));
}

#[test]
fn identifier_parts_find_code_in_any_case_style() {
    let profile = dream("p", "Profiles")
        .message(answer(
            "",
            vec![code(
                "rust",
                "fn load_user_profile(id: UserId) -> Profile { todo!() }",
            )],
        ))
        .build();
    let names = dream("n", "Names")
        .message(answer(
            "",
            vec![code(
                "typescript",
                "const fetchUserName = async (id: string) => api.get(id);",
            )],
        ))
        .build();
    let reader = dream("r", "Files")
        .message(answer(
            "",
            vec![code(
                "rust",
                "use std::fs::read_to_string;\nlet text = read_to_string(\"src/lib.rs\")?;",
            )],
        ))
        .build();
    let index = index_of(&[profile.clone(), names.clone(), reader.clone()]);
    for (query, expected) in [
        ("user profile", &profile),
        ("loadUserProfile", &profile),
        ("fetchUserName", &names),
        ("fetch_user_name", &names),
        ("UserName", &names),
        ("read_to_string", &reader),
        ("fs::read", &reader),
        ("lib.rs", &reader),
    ] {
        let hits = search(&index, query);
        assert_eq!(
            hits.first().map(|h| h.dream_id.as_str()),
            Some(expected.id()),
            "{query}: {hits:?}"
        );
    }
}

#[test]
fn upsert_replaces_and_remove_leaves_no_ghosts() {
    let first = dream("x", "Alpha notes")
        .message(question("alphabetical ordering with quicksort"))
        .build();
    let keep = dream("k", "Kept")
        .message(question("quicksort partition scheme"))
        .build();
    let mut index = index_of(&[first.clone(), keep.clone()]);
    assert_eq!(index.len(), 2);
    assert_eq!(search(&index, "alphabetical").len(), 1);

    let mut second = first.clone();
    second.conversation.title = "Beta notes".into();
    second.conversation.messages = vec![question("bubblesort for beginners")];
    index.upsert_dream(&second);
    assert_eq!(index.len(), 2);
    assert_eq!(index.dream_count(), 2);
    assert!(search(&index, "alphabetical").is_empty());
    assert!(search(&index, "alpha").is_empty());
    assert_eq!(search(&index, "bubblesort")[0].dream_id, second.id());
    let quick = search(&index, "quicksort");
    assert_eq!(quick.len(), 1);
    assert_eq!(quick[0].dream_id, keep.id());

    assert!(index.remove_dream(second.id()));
    assert!(!index.remove_dream(second.id()));
    assert!(search(&index, "bubblesort").is_empty());
    assert!(search(&index, "beta").is_empty());
    assert_eq!(index.len(), 1);
    assert!(search(&index, "").iter().all(|h| h.dream_id == keep.id()));
}

#[test]
fn many_removals_compact_and_slots_are_reused_without_ghosts() {
    let dreams: Vec<Dream> = (0..300)
        .map(|i| {
            let words: String = (0..60)
                .map(|w| format!("word{} ", (i * 7 + w * 13) % 2000))
                .collect();
            dream(&format!("d{i}"), &format!("Dream number{i}"))
                .message(answer(
                    &words,
                    vec![code("rust", &format!("fn handler{i}() {{ marker{i}(); }}"))],
                ))
                .build()
        })
        .collect();
    let mut index = index_of(&dreams);
    assert_eq!(index.len(), 600);
    let held = |index: &SearchIndex| -> u64 {
        let debug = format!("{index:?}");
        let number = debug
            .split(" postings: ")
            .nth(1)
            .and_then(|rest| rest.split(',').next());
        number
            .and_then(|n| n.parse().ok())
            .expect("Debug shows the postings held")
    };
    let before = held(&index);
    for dream in &dreams[..250] {
        index.remove_dream(dream.id());
    }
    assert_eq!(index.len(), 100);
    assert!(
        held(&index) < before / 2,
        "removed documents' postings were swept: {index:?}"
    );
    for (i, dream) in dreams.iter().enumerate() {
        let hits = search(&index, &format!("marker{i} "));
        if i < 250 {
            assert!(hits.is_empty(), "removed dream {i} still found: {hits:?}");
        } else {
            assert_eq!(hits[0].dream_id, dream.id());
        }
    }
    let fresh: Vec<Dream> = (0..50)
        .map(|i| {
            dream(&format!("n{i}"), "Fresh")
                .message(question(&format!("freshterm{i} word1")))
                .build()
        })
        .collect();
    index.upsert_dreams(&fresh);
    assert_eq!(index.len(), 150);
    let hits = index.search(
        "word1",
        &SearchOptions {
            limit: 1000,
            ..SearchOptions::default()
        },
        now(),
    );
    assert!(
        hits.iter()
            .all(|h| !dreams[..250].iter().any(|d| d.id() == h.dream_id))
    );
    assert!(hits.iter().any(|h| h.dream_id == fresh[0].id()));
    assert_eq!(search(&index, "freshterm7")[0].dream_id, fresh[7].id());
}

#[test]
fn filters_narrow_results() {
    let old_python = dream("1", "Parsing dates")
        .day(1)
        .tags(&["Work", "python"])
        .message(answer(
            "parse the date",
            vec![code(
                "python",
                "datetime.strptime(text, '%Y-%m-%d')  # parse",
            )],
        ))
        .build();
    let new_rust = dream("2", "Parsing dates in Rust")
        .day(90)
        .site(Site::Claude)
        .tags(&["work"])
        .message(answer(
            "parse it",
            vec![code(
                "rust",
                "NaiveDate::parse_from_str(text, \"%Y-%m-%d\") // parse",
            )],
        ))
        .todos(vec![todo("parse time zones too")])
        .build();
    let index = index_of(&[old_python.clone(), new_rust.clone()]);
    let run = |options: SearchOptions| {
        let mut found: Vec<(String, Option<FragmentRef>)> = index
            .search("parse", &options, now())
            .into_iter()
            .map(|h| (h.dream_id, h.fragment))
            .collect();
        found.sort();
        found
    };
    let all = run(SearchOptions::default());
    assert_eq!(all.len(), 5);

    let claude = run(SearchOptions {
        site: Some(Site::Claude),
        ..Default::default()
    });
    assert_eq!(claude.len(), 3);
    assert!(claude.iter().all(|(id, _)| id == new_rust.id()));

    let python = run(SearchOptions {
        language: Some("Python".into()),
        ..Default::default()
    });
    assert_eq!(
        python,
        vec![
            (old_python.id().to_string(), None),
            (
                old_python.id().to_string(),
                Some(FragmentRef::Code {
                    message: 0,
                    block: 0
                })
            )
        ]
    );
    assert!(
        run(SearchOptions {
            language: Some("cobol".into()),
            ..Default::default()
        })
        .is_empty()
    );

    let python_tag = run(SearchOptions {
        tags: vec!["PYTHON".into()],
        ..Default::default()
    });
    assert!(python_tag.iter().all(|(id, _)| id == old_python.id()) && python_tag.len() == 2);
    assert_eq!(
        run(SearchOptions {
            tags: vec!["work".into()],
            ..Default::default()
        })
        .len(),
        5
    );

    let recent = run(SearchOptions {
        since: Some(at(50)),
        ..Default::default()
    });
    assert!(recent.iter().all(|(id, _)| id == new_rust.id()) && recent.len() == 3);
    let early = run(SearchOptions {
        until: Some(at(50)),
        ..Default::default()
    });
    assert!(early.iter().all(|(id, _)| id == old_python.id()) && early.len() == 2);

    let fragments = run(SearchOptions {
        kind: Some(DocKind::Fragment),
        ..Default::default()
    });
    assert_eq!(fragments.len(), 3);
    assert!(fragments.contains(&(
        new_rust.id().to_string(),
        Some(FragmentRef::Todo {
            message: 1,
            item: 0
        })
    )));
    let dreams_only = run(SearchOptions {
        kind: Some(DocKind::Dream),
        ..Default::default()
    });
    assert!(dreams_only.iter().all(|(_, f)| f.is_none()) && dreams_only.len() == 2);

    assert_eq!(
        index
            .search(
                "parse",
                &SearchOptions {
                    limit: 2,
                    ..Default::default()
                },
                now()
            )
            .len(),
        2
    );
    assert_eq!(
        index
            .search(
                "parse",
                &SearchOptions {
                    limit: usize::MAX,
                    ..Default::default()
                },
                now()
            )
            .len(),
        5
    );
    assert!(
        index
            .search(
                "parse",
                &SearchOptions {
                    limit: 0,
                    ..Default::default()
                },
                now()
            )
            .is_empty()
    );
    let listing = index.search(
        "",
        &SearchOptions {
            kind: Some(DocKind::Dream),
            ..Default::default()
        },
        now(),
    );
    assert_eq!(
        listing
            .iter()
            .map(|h| h.dream_id.as_str())
            .collect::<Vec<_>>(),
        [new_rust.id(), old_python.id()]
    );
}

#[test]
fn highlight_spans_point_at_the_matched_text() {
    let long_prose = format!(
        "{} Finally, the Database connection pool needs a DatabaseConnection wrapper and 数据库连接 support.",
        "Some unrelated introduction text. ".repeat(20)
    );
    let subject = dream("h", "Pools").message(question(&long_prose)).build();
    let index = index_of(std::slice::from_ref(&subject));
    let query = "database conn";
    let hit = &search(&index, query)[0];
    let snippet = hit
        .snippet(&subject, query, 120)
        .expect("snippet of its own dream");
    assert!(
        snippet.text.starts_with('…'),
        "cut to the match: {snippet:?}"
    );
    assert!(snippet.text.chars().count() <= 122);
    let marked: Vec<&str> = snippet
        .spans
        .iter()
        .map(|s| &snippet.text[s.clone()])
        .collect();
    assert_eq!(
        marked,
        ["Database", "connection", "DatabaseConnection"],
        "{snippet:?}"
    );

    let cjk = dreamcatcher_search::snippet(&long_prose, "数据库", 200);
    let marked: Vec<&str> = cjk.spans.iter().map(|s| &cjk.text[s.clone()]).collect();
    assert_eq!(marked, ["数据库"]);

    let other = dream("other", "x").build();
    assert!(hit.snippet(&other, query, 120).is_none());
    let title_spans = dreamcatcher_search::highlight("Connection pools", query);
    assert_eq!(title_spans, vec![0..10]);
}

#[test]
fn code_snippets_mark_identifier_parts() {
    let subject = dream("c", "Code")
        .message(answer(
            "",
            vec![code(
                "typescript",
                "const fetchUserName = async () => {\n  return api.get('/user');\n};",
            )],
        ))
        .build();
    let index = index_of(std::slice::from_ref(&subject));
    let hit = search(&index, "user")
        .into_iter()
        .find(|h| h.fragment.is_some())
        .unwrap();
    let snippet = hit.snippet(&subject, "user", 200).unwrap();
    assert_eq!(
        snippet.text,
        "const fetchUserName = async () => { return api.get('/user'); };"
    );
    let marked: Vec<&str> = snippet
        .spans
        .iter()
        .map(|s| &snippet.text[s.clone()])
        .collect();
    assert_eq!(marked, ["User", "user"]);
}

fn suggestion_library() -> Vec<Dream> {
    let mut dreams = Vec::new();
    for i in 0..30 {
        dreams.push(
            dream(&format!("s{i}"), &format!("Retry with backoff {i}"))
                .tags(&["http", "retry"])
                .usage(
                    if i % 2 == 0 { 20 } else { 0 },
                    if i % 3 == 0 { Some(98) } else { None },
                )
                .message(answer(
                    "Retry failed requests with exponential backoff.",
                    vec![code(
                        if i % 2 == 0 { "python" } else { "ruby" },
                        "def retry_request(url, attempts): backoff = 2 ** attempts",
                    )],
                ))
                .build(),
        );
    }
    dreams.push(
        dream("weak", "Unrelated cooking")
            .message(answer(
                "A recipe mentions a request for more salt.",
                vec![code("python", "salt = 2")],
            ))
            .build(),
    );
    dreams
}

#[test]
fn suggestions_respect_minimum_limit_and_range() {
    let dreams = suggestion_library();
    let index = index_of(&dreams);
    let context = SuggestionContext {
        current_task: Some("retry http request with backoff".into()),
        language: Some("python".into()),
        keywords: vec!["retry".into(), "backoff".into(), "http".into()],
        ..SuggestionContext::default()
    };
    assert_eq!((context.min_score, context.limit), (0.6, 10));
    let suggestions = index.suggest(&context, now());
    assert_eq!(
        suggestions.len(),
        10,
        "30 candidates qualify, the limit is 10"
    );
    assert!(
        suggestions.iter().all(|s| (0.6..=1.0).contains(&s.score)),
        "{suggestions:?}"
    );
    assert!(suggestions.windows(2).all(|w| w[0].score >= w[1].score));
    assert!(
        suggestions.iter().all(|s| s.dream_id != dreams[30].id()),
        "weak match excluded"
    );

    let everything = index.suggest(
        &SuggestionContext {
            limit: 1000,
            min_score: 0.0,
            ..context.clone()
        },
        now(),
    );
    let weak = everything
        .iter()
        .find(|s| s.dream_id == dreams[30].id())
        .expect("weak match is a candidate");
    assert!(weak.score < 0.6, "{weak:?}");
    assert!(everything.iter().all(|s| (0.0..=1.0).contains(&s.score)));
    let high_bar = index.suggest(
        &SuggestionContext {
            min_score: 0.95,
            ..context.clone()
        },
        now(),
    );
    assert!(high_bar.iter().all(|s| s.score >= 0.95));
    assert!(high_bar.len() < everything.len());
    assert!(
        index
            .suggest(&SuggestionContext::default(), now())
            .is_empty()
    );
}

#[test]
fn suggestion_language_match_adds_its_boost() {
    let dreams = suggestion_library();
    let index = index_of(&dreams[..2]);
    let context = SuggestionContext {
        current_task: Some("retry request backoff".into()),
        language: Some("Python".into()),
        min_score: 0.0,
        limit: 10,
        ..SuggestionContext::default()
    };
    let suggestions = index.suggest(&context, now());
    let python = suggestions
        .iter()
        .find(|s| s.language.as_deref() == Some("python"))
        .unwrap();
    let ruby = suggestions
        .iter()
        .find(|s| s.language.as_deref() == Some("ruby"))
        .unwrap();
    assert_eq!(python.signals.language, 0.2);
    assert_eq!(ruby.signals.language, 0.0);
    assert!(python.score > ruby.score);
    // dreams[0]: usage 20 and used 2 days ago; dreams[1]: never used.
    assert!(
        (python.signals.usage - 0.149_786).abs() < 1e-3,
        "{python:?}"
    );
    assert_eq!(python.signals.recency, 0.1);
    assert_eq!((ruby.signals.usage, ruby.signals.recency), (0.0, 0.0));
    let expected = 0.5 * python.signals.text
        + python.signals.language
        + python.signals.keywords
        + python.signals.usage
        + python.signals.recency;
    assert!((python.score - expected.min(1.0)).abs() < 1e-6);
}

#[test]
fn suggestion_keywords_match_tags_and_titles() {
    let tagged = dream("t", "Connection pooling")
        .tags(&["postgres-pool"])
        .message(question("pool sizing for postgres"))
        .build();
    let index = index_of(&[tagged]);
    let context = SuggestionContext {
        keywords: vec![
            "postgres".into(),
            "connection".into(),
            "pool".into(),
            "sizing".into(),
        ],
        min_score: 0.0,
        ..SuggestionContext::default()
    };
    let suggestion = &index.suggest(&context, now())[0];
    // "postgres" and "pool" are words of the tag, "connection" of the title; "sizing" is in
    // neither: three matches, the 0.3 cap.
    assert!(
        (suggestion.signals.keywords - 0.3).abs() < 1e-6,
        "{suggestion:?}"
    );
}

/// However an index got to its contents (bulk loads with repeated ids, single upserts,
/// replacements, removals, base rebuilds), it answers exactly like one built from scratch.
#[test]
fn churned_index_answers_like_a_fresh_one() {
    let make = |i: usize, version: usize| {
        let words: String = (0..50)
            .map(|w| format!("term{} ", (i * 31 + w * 7 + version) % 3000))
            .collect();
        dream(&format!("c{i}"), &format!("Churn {i} v{version}"))
            .day((i % 60) as i64)
            .tags(if i.is_multiple_of(3) {
                &["even"]
            } else {
                &["odd"]
            })
            .message(answer(
                &words,
                vec![code(
                    "rust",
                    &format!("fn churn_{i}_{version}() {{ shared_call(); }}"),
                )],
            ))
            .build()
    };
    let mut churned = SearchIndex::new();
    let first: Vec<Dream> = (0..700)
        .map(|i| make(i, 0))
        .chain((0..100).map(|i| make(i, 1)))
        .collect();
    churned.upsert_dreams(&first);
    for i in (0..700).step_by(3) {
        churned.remove_dream(make(i, 0).id());
    }
    for i in (0..700).step_by(7) {
        churned.upsert_dream(&make(i, 2));
    }
    churned.upsert_dreams(&(700..900).map(|i| make(i, 0)).collect::<Vec<_>>());

    let mut survivors: Vec<Dream> = Vec::new();
    for i in 0..900 {
        let version = if i < 700 && i % 7 == 0 {
            2
        } else if i < 700 && i % 3 == 0 {
            continue;
        } else if i < 100 {
            1
        } else {
            0
        };
        survivors.push(make(i, version));
    }
    let mut fresh = SearchIndex::new();
    fresh.upsert_dreams(&survivors);
    assert_eq!(churned.len(), fresh.len());
    let options = SearchOptions {
        limit: 40,
        ..SearchOptions::default()
    };
    for query in [
        "term5",
        "term12 term900",
        "term1",
        "churn",
        "shared_call",
        "churn_21_2",
        "even term3",
        "ter",
        "",
    ] {
        assert_eq!(
            churned.search(query, &options, now()),
            fresh.search(query, &options, now()),
            "{query}"
        );
    }
    let tagged = SearchOptions {
        tags: vec!["even".into()],
        limit: 100,
        ..SearchOptions::default()
    };
    assert_eq!(
        churned.search("term7", &tagged, now()),
        fresh.search("term7", &tagged, now())
    );
}

/// In a library of 100+ documents a keyword most documents contain is left out of the text
/// relevance, but it still counts when a title holds it.
#[test]
fn common_keywords_still_match_titles() {
    let mut dreams: Vec<Dream> = (0..120)
        .map(|i| {
            dream(&format!("k{i}"), &format!("Note {i}"))
                .message(question("a common remark"))
                .build()
        })
        .collect();
    let titled = dream("t", "Common pitfalls")
        .message(question("a common remark about pitfalls"))
        .build();
    dreams.push(titled.clone());
    let index = index_of(&dreams);
    let context = SuggestionContext {
        current_task: Some("pitfalls".into()),
        keywords: vec!["common".into()],
        min_score: 0.0,
        ..SuggestionContext::default()
    };
    let suggestions = index.suggest(&context, now());
    let best = &suggestions[0];
    assert_eq!(best.dream_id, titled.id());
    assert!((best.signals.keywords - 0.1).abs() < 1e-6, "{best:?}");
}
