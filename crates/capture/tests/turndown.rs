//! turndown's own test suite (index.html) and its GFM plugin's (gfm.html), run against our
//! converter. Cases with default options run (the GFM plugin counts as default: we always
//! emit GFM), and so do cases whose options only pick the style we always use (ATX
//! headings, ``` fences). The cases where we differ on purpose are listed below with the
//! reason; the test fails when any other case fails, and when a listed case passes (so the
//! list stays true).

use std::collections::BTreeMap;
use std::path::PathBuf;

use dreamcatcher_capture::html::{self, select};

/// (file, case name, why our output differs on purpose)
const KNOWN_DIFFERENCES: &[(&str, &str, &str)] = &[
    (
        "index.html",
        "h1",
        "ATX headings (`#`), not setext underlines",
    ),
    (
        "index.html",
        "h2",
        "ATX headings (`##`), not setext underlines",
    ),
    (
        "index.html",
        "pre/code block",
        "fenced code blocks (keep the language), not indented",
    ),
    (
        "index.html",
        "multiple pre/code blocks",
        "fenced code blocks, not indented",
    ),
    (
        "index.html",
        "pre/code block with multiple new lines",
        "fenced code blocks, not indented",
    ),
    (
        "index.html",
        "pre/code with comment",
        "fenced code blocks, not indented",
    ),
    (
        "index.html",
        "not escaping within code",
        "fenced code blocks, not indented",
    ),
    (
        "index.html",
        "escaping ~~~",
        "a bare <pre> is a code block for us (fenced), not escaped text",
    ),
    (
        "index.html",
        "html in blockquote",
        "ATX heading and fenced code; no trailing space on the blank `>` line",
    ),
    (
        "index.html",
        "ol with content",
        "blank lines inside list items carry no indentation spaces",
    ),
    (
        "index.html",
        "ul with paragraph",
        "blank lines inside list items carry no indentation spaces",
    ),
    (
        "index.html",
        "ol with paragraphs",
        "blank lines inside list items carry no indentation spaces",
    ),
    (
        "index.html",
        "ul with blockquote",
        "blank lines inside list items carry no indentation spaces",
    ),
    (
        "index.html",
        "blockquote",
        "blank quote lines are `>` without a trailing space",
    ),
    (
        "index.html",
        "nested blockquotes",
        "blank quote lines are `>` without a trailing space",
    ),
    (
        "gfm.html",
        "strike",
        "`~~` strikethrough: single `~` is subscript for some renderers",
    ),
    (
        "gfm.html",
        "s",
        "`~~` strikethrough: single `~` is subscript for some renderers",
    ),
    (
        "gfm.html",
        "del",
        "`~~` strikethrough: single `~` is subscript for some renderers",
    ),
    (
        "gfm.html",
        "non-definitive heading row (not converted)",
        "never raw HTML: the first row becomes the header",
    ),
    (
        "gfm.html",
        "non-definitive heading row with th (not converted)",
        "never raw HTML: the first row becomes the header",
    ),
];

struct Outcome {
    file: &'static str,
    name: String,
    /// Run with default options (not only options naming our own style).
    default_options: bool,
    expected: String,
    actual: String,
}

fn suite_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/suites/turndown")
}

/// Whether a case's options are the defaults, or only choose the style we always emit.
fn runs_with_our_style(options: &str) -> bool {
    let options = options.trim();
    if options.is_empty() {
        return true;
    }
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(options)
    else {
        return false;
    };
    map.iter().all(|(key, value)| {
        matches!(
            (key.as_str(), value.as_str()),
            ("headingStyle", Some("atx"))
                | ("codeBlockStyle", Some("fenced"))
                | ("fence", Some("```"))
        )
    })
}

fn run_file(file: &'static str, outcomes: &mut Vec<Outcome>) -> usize {
    let path = suite_dir().join(file);
    let source = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let repaired = html::repair(&source);
    let dom = html::parse(&repaired).expect("the suite parses");
    let parser = dom.parser();
    let case_selector = select::Selector::parse("div.case[data-name]").expect("selector");
    let input_selector = select::Selector::parse(".input").expect("selector");
    let expected_selector = select::Selector::parse("pre.expected").expect("selector");
    let mut skipped = 0;
    for case in select::select_all(parser, dom.children(), &case_selector) {
        let tag = html::dom::element(parser, case).expect("an element");
        let name = html::dom::attr(tag, "data-name")
            .unwrap_or_default()
            .into_owned();
        let options = html::dom::attr(tag, "data-options").unwrap_or_default();
        if !runs_with_our_style(&options) {
            skipped += 1;
            continue;
        }
        let input = select::select_within(parser, case, &input_selector);
        let expected = select::select_within(parser, case, &expected_selector);
        let (Some(&input), Some(&expected)) = (input.first(), expected.first()) else {
            panic!("{file}: case {name:?} has no .input or pre.expected");
        };
        let expected_text = html::text_content(parser, expected);
        let expected_text = expected_text
            .strip_prefix('\n')
            .unwrap_or(&expected_text)
            .to_string();
        outcomes.push(Outcome {
            file,
            name,
            default_options: options.trim().is_empty(),
            expected: expected_text,
            actual: html::node_to_markdown(parser, input),
        });
    }
    skipped
}

#[test]
fn turndown_suite() {
    if !suite_dir().exists() {
        println!(
            "skipping the turndown suite: {} is absent",
            suite_dir().display()
        );
        return;
    }
    let mut outcomes = Vec::new();
    let skipped = run_file("index.html", &mut outcomes) + run_file("gfm.html", &mut outcomes);
    let known: BTreeMap<(&str, &str), &str> = KNOWN_DIFFERENCES
        .iter()
        .map(|(file, name, reason)| ((*file, *name), *reason))
        .collect();

    let total = outcomes.len();
    let passed = outcomes.iter().filter(|o| o.expected == o.actual).count();
    println!("turndown: {passed}/{total} passed ({skipped} cases with other options not run)");
    let defaults: Vec<&Outcome> = outcomes.iter().filter(|o| o.default_options).collect();
    let default_passed = defaults.iter().filter(|o| o.expected == o.actual).count();
    println!(
        "  default options: {default_passed}/{}; options naming our style (ATX, ``` fences): {}/{}",
        defaults.len(),
        passed - default_passed,
        total - defaults.len()
    );

    let mut unexpected = Vec::new();
    for outcome in &outcomes {
        let listed = known.get(&(outcome.file, outcome.name.as_str()));
        let pass = outcome.expected == outcome.actual;
        match (pass, listed) {
            (false, Some(reason)) => println!(
                "  differs on purpose: {} / {:?}: {reason}",
                outcome.file, outcome.name
            ),
            (false, None) => {
                println!(
                    "  FAILED {} / {:?}\n    expected: {:?}\n    actual:   {:?}",
                    outcome.file, outcome.name, outcome.expected, outcome.actual
                );
                unexpected.push(format!("{} / {} fails", outcome.file, outcome.name));
            }
            (true, Some(_)) => unexpected.push(format!(
                "{} / {} is listed as a known difference but passes: remove it from the list",
                outcome.file, outcome.name
            )),
            (true, None) => {}
        }
    }
    for (file, name) in known.keys() {
        if !outcomes.iter().any(|o| o.file == *file && o.name == *name) {
            unexpected.push(format!("{file} / {name} is listed but was not run"));
        }
    }
    assert!(
        unexpected.is_empty(),
        "turndown suite: {}",
        unexpected.join("; ")
    );
}
