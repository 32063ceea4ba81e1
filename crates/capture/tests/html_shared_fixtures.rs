//! HTML → Markdown on the real page captures in the shared fixtures (skipped when absent).

use std::path::PathBuf;

use dreamcatcher_capture::html;

fn shared(relative: &str) -> Option<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures")
        .join(relative);
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(_) => {
            println!("skipping: shared fixture {} is absent", path.display());
            None
        }
    }
}

/// The fenced block with `info` in `markdown`, fences included.
fn fenced_block<'m>(markdown: &'m str, info: &str) -> Option<&'m str> {
    let open = format!("```{info}\n");
    let start = markdown.find(&open)?;
    let end = markdown.get(start + open.len()..)?.find("\n```")? + start + open.len() + 4;
    markdown.get(start..end)
}

fn collapse_blank_lines(text: &str) -> String {
    let mut out = text.to_string();
    while out.contains("\n\n\n") {
        out = out.replace("\n\n\n", "\n\n");
    }
    out
}

/// The `pre[data-start][data-end]` span of the first code block: the length of the
/// Markdown source ChatGPT rendered it from.
fn source_span(page: &str) -> usize {
    let start = page.find("data-start=\"").expect("data-start") + "data-start=\"".len();
    let start_value: usize = page[start..]
        .split('"')
        .next()
        .and_then(|v| v.parse().ok())
        .expect("number");
    let end = page.find("data-end=\"").expect("data-end") + "data-end=\"".len();
    let end_value: usize = page[end..]
        .split('"')
        .next()
        .and_then(|v| v.parse().ok())
        .expect("number");
    end_value - start_value
}

#[test]
fn chatgpt_codemirror_block_matches_the_expected_python_block() {
    let (Some(page), Some(expected)) = (
        shared("chatgpt/2026-03-codemirror-block.html"),
        shared("chatgpt/2026-03-codemirror-block.expected.md"),
    ) else {
        return;
    };
    let markdown = html::html_to_markdown(&page);
    let ours = fenced_block(&markdown, "python").expect("a python block in our output");
    let theirs = fenced_block(&expected, "python").expect("a python block in the expected file");
    // The expected file (from another converter) squeezes the two blank lines before
    // `for num …` into one; the block's source span proves there were two.
    assert_eq!(collapse_blank_lines(ours), theirs);
    assert!(ours.contains("a, b = b, a + b\n\n\nfor num in"));
    let pre_start = page.find("<pre").expect("a pre");
    assert_eq!(ours.len(), source_span(&page[pre_start..]));
    assert!(markdown.contains("This uses Python's `yield` keyword to lazily produce each number."));
    assert!(!markdown.contains("Run") && !markdown.contains("Copy"));
}

#[test]
fn chatgpt_page_with_codemirror_katex_table_and_citation() {
    let Some(page) = shared("chatgpt/2026-05-codemirror-katex-table.html") else {
        return;
    };
    let markdown = html::html_to_markdown(&page);
    let block = fenced_block(&markdown, "elixir").expect("an elixir block");
    assert_eq!(
        block,
        "```elixir\ndefmodule Hello do\n  def world do\n    IO.puts(\"Hello, world!\")\n  end\nend\n\nHello.world()\n```"
    );
    let pre_start = page
        .find("<pre\n")
        .or_else(|| page.find("<pre "))
        .expect("a pre");
    assert_eq!(block.len(), source_span(&page[pre_start..]));
    assert!(markdown.contains(
        "| Country | Median Monthly Wage (USD approx.) | Avg Work Hours / Week | Paid Leave Days | Union Membership Rate |\n| --- | --: | --: | --: | --: |\n| Denmark |"
    ));
    assert!(markdown.contains("$e^{i\\pi}+1=0$"));
    assert!(markdown.contains("[deadrat.in](https://www.deadrat.in/?utm_source=chatgpt.com)"));
    assert!(markdown.contains("This paragraph contains **bold text**, _italic text_"));
}

#[test]
fn chatgpt_citation_pills_become_links() {
    let Some(page) = shared("chatgpt/2026-06-citations.html") else {
        return;
    };
    let markdown = html::html_to_markdown(&page);
    assert_eq!(
        markdown.matches("?utm_source=chatgpt.com)").count(),
        9,
        "{markdown}"
    );
    assert!(markdown.contains("[US EPA](https://www.epa.gov/indoor-air-quality-iaq/guide-air-cleaners-home?utm_source=chatgpt.com)"));
    assert!(markdown.contains("[US EPA Reddit](https://www.epa.gov/"));
    assert!(!markdown.contains("+1") && !markdown.contains("+2"));
    assert!(
        markdown.contains(
            "#### 1. **CADR (Clean Air Delivery Rate) — the most important specification**"
        )
    );
}

#[test]
fn claude_code_block_keeps_language_without_the_label() {
    let Some(page) = shared("claude/2026-05-code-block.html") else {
        return;
    };
    let markdown = html::html_to_markdown(&page);
    let block = fenced_block(&markdown, "elixir").expect("an elixir block");
    assert!(block.starts_with(
        "```elixir\ndefmodule Hello do\n  def world, do: IO.puts(\"Hello, World!\")\nend\n"
    ));
    assert!(
        !markdown.lines().any(|line| line.trim() == "elixir"),
        "label leaked:\n{markdown}"
    );
    assert!(markdown.contains("$$\ne^{i\\pi} + 1 = 0\n$$"));
}
