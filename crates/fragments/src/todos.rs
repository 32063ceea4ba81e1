//! TODO / FIXME / HACK markers, in code comments and in prose.
//!
//! In a comment the marker must open the comment's text (after decoration such as `*` or
//! `///`), in any case, followed by `:`, a space or a `(owner)` annotation: `// todo handle
//! errors`, `# FIXME: …`, `/* HACK(ann): … */`. That is the seed's rule
//! (`(?:\/\/|#|\/\*)\s*TODO:?\s*(.+)`) widened to FIXME/HACK and to `--`/`<!--` comments.
//!
//! Prose is stricter, because the words also occur in ordinary sentences ("a todo list app",
//! "this is a hack: …"): the marker must stand as its own word followed by `:` (optionally
//! after emphasis or an annotation: `**TODO**: …`, `FIXME(bob): …`), be written in capitals
//! unless it opens the line (`Todo: …`), and not be inside inline code.

use std::ops::Range;

use dreamcatcher_model::TodoMarker;

use crate::language::starts_with_ignore_case;

const MARKERS: [(&str, TodoMarker); 3] = [
    ("todo", TodoMarker::Todo),
    ("fixme", TodoMarker::Fixme),
    ("hack", TodoMarker::Hack),
];

/// The marker opening a comment's text, with the rest of the text.
pub(crate) fn comment_todo(comment: &str) -> Option<(TodoMarker, String)> {
    let text = comment.trim_start_matches(|c: char| c.is_whitespace() || "*/!#-;".contains(c));
    let (marker, after) = MARKERS.iter().find_map(|(word, marker)| {
        starts_with_ignore_case(text, word)
            .then(|| (*marker, text.get(word.len()..).unwrap_or_default()))
    })?;
    if !after.starts_with(|c: char| c == ':' || c == '(' || c.is_whitespace()) {
        return None;
    }
    let body = skip_annotation(after)
        .trim_start_matches(|c: char| c == ':' || c == '-' || c.is_whitespace())
        .trim_end();
    (!body.is_empty()).then(|| (marker, body.to_string()))
}

/// The first `MARKER:` in one line of prose, skipping any inside inline code (`spans` are
/// byte ranges of `text` that were inline code).
///
/// Driven by the colons, which are few, and reading each marker back from its colon, so a
/// line costs one byte search and no allocation.
pub(crate) fn prose_todo(text: &str, spans: &[Range<usize>]) -> Option<(TodoMarker, String)> {
    memchr::memchr_iter(b':', text.as_bytes()).find_map(|colon| {
        let before = text.get(..colon)?;
        let before = before.trim_end_matches(['*', '_']);
        let before = strip_trailing_annotation(before).trim_end_matches(['*', '_']);
        let (at, marker) = MARKERS.iter().find_map(|(word, marker)| {
            let at = before.len().checked_sub(word.len())?;
            let candidate = before.get(at..)?;
            candidate
                .eq_ignore_ascii_case(word)
                .then_some((at, *marker))
        })?;
        if spans.iter().any(|span| span.contains(&at)) || !word_starts_at(text, at) {
            return None;
        }
        let written = before.get(at..)?;
        let capitals = !written.contains(|c: char| c.is_ascii_lowercase());
        let opens_line = before
            .get(..at)?
            .trim_matches(|c: char| c.is_whitespace() || c == '*' || c == '_')
            .is_empty();
        if !capitals && !opens_line {
            return None;
        }
        let body = text
            .get(colon + 1..)?
            .trim_matches(|c: char| c.is_whitespace() || c == '*' || c == '_');
        (!body.is_empty()).then(|| (marker, body.to_string()))
    })
}

/// `TODO(owner)` → `TODO`; anything else unchanged.
fn strip_trailing_annotation(text: &str) -> &str {
    match text
        .strip_suffix(')')
        .and_then(|inner| inner.rsplit_once('('))
    {
        Some((head, _)) => head,
        None => text,
    }
}

/// True when no letter, digit or underscore runs into `text` at byte `at` from the left.
fn word_starts_at(text: &str, at: usize) -> bool {
    text.get(..at)
        .and_then(|before| before.chars().next_back())
        .is_none_or(|c| !(c.is_alphanumeric() || c == '_'))
}

/// `(owner): rest` → `: rest`; anything else unchanged.
fn skip_annotation(text: &str) -> &str {
    match text
        .strip_prefix('(')
        .and_then(|inner| inner.split_once(')'))
    {
        Some((_, rest)) => rest,
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comment_markers_in_any_case_with_colon_or_space() {
        assert_eq!(
            comment_todo(" TODO: handle errors"),
            Some((TodoMarker::Todo, "handle errors".into()))
        );
        assert_eq!(
            comment_todo(" todo handle errors"),
            Some((TodoMarker::Todo, "handle errors".into()))
        );
        assert_eq!(
            comment_todo(" FIXME - off by one"),
            Some((TodoMarker::Fixme, "off by one".into()))
        );
        assert_eq!(
            comment_todo("/ HACK(ann): skip"),
            Some((TodoMarker::Hack, "skip".into()))
        );
        assert_eq!(
            comment_todo(" * TODO: in a doc block"),
            Some((TodoMarker::Todo, "in a doc block".into()))
        );
    }

    #[test]
    fn comment_words_that_only_start_like_markers_are_not_todos() {
        assert_eq!(comment_todo(" todos are tracked elsewhere"), None);
        assert_eq!(comment_todo(" hacky but works"), None);
        assert_eq!(comment_todo(" call the TODO API"), None);
        assert_eq!(comment_todo(" TODO:"), None);
    }

    #[test]
    fn prose_needs_the_colon_form() {
        assert_eq!(
            prose_todo("TODO: write tests", &[]),
            Some((TodoMarker::Todo, "write tests".into()))
        );
        assert_eq!(
            prose_todo("Next step — TODO: ship", &[]),
            Some((TodoMarker::Todo, "ship".into()))
        );
        assert_eq!(
            prose_todo("Todo: ship", &[]),
            Some((TodoMarker::Todo, "ship".into()))
        );
        assert_eq!(prose_todo("Next step — todo: ship", &[]), None);
        assert_eq!(
            prose_todo("**FIXME**: the parser", &[]),
            Some((TodoMarker::Fixme, "the parser".into()))
        );
        assert_eq!(prose_todo("Todo list app: a tutorial", &[]), None);
        assert_eq!(prose_todo("Build a TODO app", &[]), None);
        assert_eq!(prose_todo("This is a hack: it works", &[]), None);
        assert_eq!(prose_todo("mytodo: no", &[]), None);
    }

    #[test]
    fn prose_markers_inside_inline_code_are_skipped() {
        let text = "Search for TODO: comments";
        let at = text.find("TODO").unwrap_or_default();
        let span = at..at + 5;
        assert_eq!(prose_todo(text, std::slice::from_ref(&span)), None);
    }
}
