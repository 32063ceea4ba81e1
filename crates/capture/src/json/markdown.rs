//! Markdown written by the JSON readers: fences around code, `$…$` math, titles.

use std::ops::Range;

use pulldown_cmark::{Event, Parser, Tag};

/// A fenced code block that survives any backticks inside the code: the fence is one
/// backtick longer than the longest run in the code. Line endings become `\n`.
pub(crate) fn fence(info: &str, code: &str) -> String {
    let code = code.replace("\r\n", "\n");
    let code = code.strip_suffix('\n').unwrap_or(&code);
    let mut longest = 0usize;
    let mut run = 0usize;
    for ch in code.chars() {
        run = if ch == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let ticks = "`".repeat(longest.max(2) + 1);
    let info = info.trim().replace(['`', '\n', '\r'], "");
    format!("{ticks}{info}\n{code}\n{ticks}")
}

/// ChatGPT writes TeX as `\( … \)` and `\[ … \]`; Markdown tools read `$…$` and `$$…$$`.
/// Code spans and fenced/indented code are left exactly as they are.
pub(crate) fn convert_math(text: &str) -> String {
    if !text.contains("\\(") && !text.contains("\\[") {
        return text.to_string();
    }
    let code = code_ranges(text);
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0usize;
    // Code ranges come in document order and never overlap: `next_code` is the first one
    // not yet behind `i`.
    let mut next_code = 0usize;
    let mut i = 0usize;
    while i + 1 < bytes.len() {
        while code.get(next_code).is_some_and(|r| r.end <= i) {
            next_code += 1;
        }
        if let Some(range) = code.get(next_code).filter(|r| r.start <= i) {
            i = range.end;
            continue;
        }
        let opens = bytes[i] == b'\\' && matches!(bytes[i + 1], b'(' | b'[') && !escaped(bytes, i);
        if !opens {
            i += 1;
            continue;
        }
        let display = bytes[i + 1] == b'[';
        let closing = if display { "\\]" } else { "\\)" };
        let inner_start = i + 2;
        let Some(found) = text.get(inner_start..).and_then(|rest| rest.find(closing)) else {
            i += 2;
            continue;
        };
        let inner_end = inner_start + found;
        let crosses_code = code.get(next_code).is_some_and(|r| r.start < inner_end + 2);
        let inner = text.get(inner_start..inner_end).unwrap_or("");
        let trimmed = inner.trim();
        // Inline math never spans a paragraph break; such a match is two stray delimiters.
        if crosses_code || trimmed.is_empty() || (!display && inner.contains("\n\n")) {
            i += 2;
            continue;
        }
        out.push_str(text.get(copied..i).unwrap_or(""));
        if display && inner.contains('\n') {
            out.push_str("$$\n");
            out.push_str(trimmed);
            out.push_str("\n$$");
        } else if display {
            out.push_str("$$");
            out.push_str(trimmed);
            out.push_str("$$");
        } else {
            out.push('$');
            out.push_str(trimmed);
            out.push('$');
        }
        i = inner_end + 2;
        copied = i;
    }
    out.push_str(text.get(copied..).unwrap_or(""));
    out
}

/// True when the backslash at `at` is itself escaped by an odd run of backslashes before it.
fn escaped(bytes: &[u8], at: usize) -> bool {
    let run = bytes[..at]
        .iter()
        .rev()
        .take_while(|&&b| b == b'\\')
        .count();
    run % 2 == 1
}

/// Byte ranges of code spans and code blocks, as a CommonMark parser sees them.
fn code_ranges(text: &str) -> Vec<Range<usize>> {
    let mut ranges = Vec::new();
    for (event, range) in Parser::new(text).into_offset_iter() {
        match event {
            Event::Code(_) | Event::Start(Tag::CodeBlock(_)) => ranges.push(range),
            _ => {}
        }
    }
    ranges
}

/// A title for an untitled conversation: the first line of the first prompt, cut at a word
/// boundary near 80 characters.
pub(crate) fn title_from_prompt(prompt: &str) -> String {
    const MAX_CHARS: usize = 80;
    let line = prompt
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let words: Vec<&str> = line.split_whitespace().collect();
    let mut title = String::new();
    for word in words {
        let needed = title.chars().count() + usize::from(!title.is_empty()) + word.chars().count();
        if needed > MAX_CHARS {
            if title.is_empty() {
                title = word.chars().take(MAX_CHARS).collect();
            }
            title.push('…');
            return title;
        }
        if !title.is_empty() {
            title.push(' ');
        }
        title.push_str(word);
    }
    title
}

/// The line that stands in the Markdown where an artifact or canvas document was, so the
/// reader sees where it belongs; the code itself is kept as a fragment.
pub(crate) fn artifact_mention(kind: &str, title: Option<&str>, language: &str) -> String {
    let name = title
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(escape_inline)
        .unwrap_or_else(|| "untitled".to_string());
    if language.is_empty() {
        format!("*{kind}: {name}*")
    } else {
        format!("*{kind}: {name} ({})*", escape_inline(language))
    }
}

/// Escapes what would otherwise turn plain text into Markdown syntax inside a line.
fn escape_inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' | '$' => {
                out.push('\\');
                out.push(ch);
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(ch),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fences_outgrow_backticks_in_the_code() {
        assert_eq!(fence("python", "print(1)\r\n"), "```python\nprint(1)\n```");
        assert_eq!(fence("md", "a\n```\nb"), "````md\na\n```\nb\n````");
    }

    #[test]
    fn math_delimiters_become_dollars() {
        assert_eq!(
            convert_math(r"Area \( \pi r^2 \) here"),
            r"Area $\pi r^2$ here"
        );
        assert_eq!(
            convert_math("So:\n\\[\nE = mc^2\n\\]\nok"),
            "So:\n$$\nE = mc^2\n$$\nok"
        );
        assert_eq!(convert_math(r"\[ a \] and \(b\)"), r"$$a$$ and $b$");
    }

    #[test]
    fn math_in_code_is_left_alone() {
        let text = "Use `\\(x\\)` or\n\n```\nre = r\"\\(a\\)\"\n```\n\nthen \\(y\\)";
        assert_eq!(
            convert_math(text),
            "Use `\\(x\\)` or\n\n```\nre = r\"\\(a\\)\"\n```\n\nthen $y$"
        );
    }

    #[test]
    fn stray_or_escaped_delimiters_stay() {
        assert_eq!(convert_math(r"a \( b"), r"a \( b");
        assert_eq!(convert_math(r"a \\(b\\)"), r"a \\(b\\)");
        assert_eq!(convert_math("\\( a\n\nb \\)"), "\\( a\n\nb \\)");
        assert_eq!(convert_math(r"\(\)"), r"\(\)");
    }

    #[test]
    fn titles_come_from_the_first_line() {
        assert_eq!(
            title_from_prompt("\n  Summarise the log.\nMore"),
            "Summarise the log."
        );
        let long = "word ".repeat(40);
        let title = title_from_prompt(&long);
        assert!(
            title.ends_with('…') && title.chars().count() <= 81,
            "{title}"
        );
        assert_eq!(title_from_prompt(""), "");
    }

    #[test]
    fn mentions_escape_markdown() {
        assert_eq!(
            artifact_mention("Artifact", Some("a*b_c"), "go"),
            r"*Artifact: a\*b\_c (go)*"
        );
        assert_eq!(
            artifact_mention("Artifact", None, ""),
            "*Artifact: untitled*"
        );
    }
}
