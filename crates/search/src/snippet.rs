//! Snippets and highlight spans, computed from the document text the caller holds.
//!
//! The index keeps no document bodies (that is what keeps snapshots small); a hit names its
//! dream and fragment, and the caller, who stores dreams anyway, passes the dream back here.

use std::ops::Range;

use dreamcatcher_model::Dream;
use serde::{Deserialize, Serialize};

use crate::index::{DocKind, FragmentRef, dream_prose};
use crate::query::SearchHit;
use crate::tokenize::{TermRole, tokenize};

/// A short excerpt of a document with the query's matches marked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snippet {
    /// Whitespace runs collapsed to one space; `…` marks text cut at either end.
    pub text: String,
    /// Byte ranges of `text` to highlight: sorted, disjoint, on char boundaries.
    pub spans: Vec<Range<usize>>,
}

/// Matches a query's terms in text the way the index does (the last term also as a prefix).
#[derive(Debug, Clone)]
pub struct Highlighter {
    exact: Vec<String>,
    prefixes: Vec<String>,
}

impl Highlighter {
    pub fn new(query: &str) -> Highlighter {
        let mut highlighter = Highlighter {
            exact: Vec::new(),
            prefixes: Vec::new(),
        };
        let mut buffer = String::new();
        tokenize(query, &mut buffer, &mut |term, range, role| {
            // A lone letter being typed would mark every word starting with it; the index
            // takes such a prefix as typed too.
            let completing =
                range.end == query.len() && (term.chars().count() > 1 || role == TermRole::Cjk);
            let list = if completing {
                &mut highlighter.prefixes
            } else {
                &mut highlighter.exact
            };
            if !list.iter().any(|t| t == term) {
                list.push(term.to_string());
            }
        });
        highlighter
    }

    fn matches(&self, term: &str) -> bool {
        self.exact.iter().any(|t| t == term)
            || self.prefixes.iter().any(|p| term.starts_with(p.as_str()))
    }

    /// Byte ranges of `text` matching the query: sorted, merged, on char boundaries.
    pub fn spans(&self, text: &str) -> Vec<Range<usize>> {
        let mut spans = Vec::new();
        let mut buffer = String::new();
        tokenize(text, &mut buffer, &mut |term, range, _| {
            if self.matches(term) {
                spans.push(range);
            }
        });
        merge(spans)
    }

    /// An excerpt of at most `max_chars` characters around the first match (or from the
    /// start when nothing matches), with the matches inside it marked.
    pub fn snippet(&self, text: &str, max_chars: usize) -> Snippet {
        let max_chars = max_chars.max(16);
        let first = self.first_match(text);
        let start = match first {
            Some(found) => window_start(text, found.start, max_chars / 4),
            None => 0,
        };
        let start = skip_whitespace(text, start);
        let mut out = String::new();
        let mut offsets: Vec<(usize, usize)> = Vec::new();
        if start > 0 {
            out.push('…');
        }
        let mut chars = 0;
        let mut end = text.len();
        let mut pending_space = false;
        for (offset, ch) in text[start..].char_indices() {
            let position = start + offset;
            if ch.is_whitespace() {
                pending_space = true;
                continue;
            }
            let needed = if pending_space { 2 } else { 1 };
            if chars + needed > max_chars {
                end = position;
                break;
            }
            if pending_space {
                out.push(' ');
                chars += 1;
                pending_space = false;
            }
            offsets.push((position, out.len()));
            out.push(ch);
            chars += 1;
        }
        let body_end = out.len();
        if end < text.len() {
            out.push('…');
        }
        let scan_end = text[end..]
            .find(char::is_whitespace)
            .map_or(text.len(), |o| end + o);
        // `offsets` holds (source byte, output byte) of every character copied, in order.
        let output_start = |source: usize| {
            let index = offsets.partition_point(|&(s, _)| s < source);
            offsets.get(index).map(|o| o.1)
        };
        let output_end = |source: usize| {
            let index = offsets.partition_point(|&(s, _)| s < source);
            let &(_, at) = offsets.get(index.checked_sub(1)?)?;
            Some(at + out[at..].chars().next()?.len_utf8())
        };
        let spans = self
            .spans(&text[start..scan_end])
            .into_iter()
            .map(|span| (start + span.start).min(end)..(start + span.end).min(end))
            .filter_map(|span| Some(output_start(span.start)?..output_end(span.end)?))
            .filter(|span| span.start < span.end && span.end <= body_end)
            .collect();
        Snippet { text: out, spans }
    }

    fn first_match(&self, text: &str) -> Option<Range<usize>> {
        let mut first = None;
        let mut buffer = String::new();
        tokenize(text, &mut buffer, &mut |term, range, _| {
            if first.is_none() && self.matches(term) {
                first = Some(range);
            }
        });
        first
    }

    fn has_match(&self, text: &str) -> bool {
        self.first_match(text).is_some()
    }
}

fn merge(mut spans: Vec<Range<usize>>) -> Vec<Range<usize>> {
    spans.sort_unstable_by_key(|s| (s.start, s.end));
    let mut merged: Vec<Range<usize>> = Vec::with_capacity(spans.len());
    for span in spans {
        match merged.last_mut() {
            Some(last) if span.start <= last.end => last.end = last.end.max(span.end),
            _ => merged.push(span),
        }
    }
    merged
}

/// Up to `lead` characters before `position`, starting after a whitespace when there is one.
fn window_start(text: &str, position: usize, lead: usize) -> usize {
    let before = &text[..position];
    let Some((offset, _)) = before.char_indices().rev().nth(lead.saturating_sub(1)) else {
        return 0;
    };
    match before[offset..].find(char::is_whitespace) {
        Some(space) => offset + space,
        None => offset,
    }
}

fn skip_whitespace(text: &str, position: usize) -> usize {
    text[position..]
        .find(|c: char| !c.is_whitespace())
        .map_or(text.len(), |o| position + o)
}

/// Highlight spans of `query`'s matches in `text` (for titles, say).
pub fn highlight(text: &str, query: &str) -> Vec<Range<usize>> {
    Highlighter::new(query).spans(text)
}

/// An excerpt of `text` around the first match of `query`, of at most `max_chars` characters.
pub fn snippet(text: &str, query: &str, max_chars: usize) -> Snippet {
    Highlighter::new(query).snippet(text, max_chars)
}

impl SearchHit {
    /// The snippet of this hit's document, from its `dream` (the one named by `dream_id`):
    /// the code of a code block, a TODO's text, or for a dream its prose or notes, whichever
    /// matches first. `None` when `dream` is another dream or no longer has the fragment.
    pub fn snippet(&self, dream: &Dream, query: &str, max_chars: usize) -> Option<Snippet> {
        if dream.id() != self.dream_id {
            return None;
        }
        let highlighter = Highlighter::new(query);
        let text = match (self.kind, self.fragment) {
            (DocKind::Dream, _) | (DocKind::Fragment, None) => {
                let prose = dream_prose(dream).collect::<Vec<_>>().join("\n");
                if !highlighter.has_match(&prose) && highlighter.has_match(&dream.notes)
                    || prose.trim().is_empty()
                {
                    dream.notes.clone()
                } else {
                    prose
                }
            }
            (DocKind::Fragment, Some(fragment)) => {
                let message = dream
                    .conversation
                    .messages
                    .get(fragment.message() as usize)?;
                match fragment {
                    FragmentRef::Code { block, .. } => message
                        .fragments
                        .code_blocks
                        .get(block as usize)?
                        .code
                        .clone(),
                    FragmentRef::Todo { item, .. } => {
                        message.fragments.todos.get(item as usize)?.text.clone()
                    }
                }
            }
        };
        Some(highlighter.snippet(&text, max_chars))
    }
}
