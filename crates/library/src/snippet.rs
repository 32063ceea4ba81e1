//! The text shown under a search result, with the query's words marked.

use dreamcatcher_model::Dream;

use crate::api::Highlight;
use crate::index::words;

const CONTEXT_BYTES: usize = 90;

/// The message that matches best, a window of its text around the first match, and the byte
/// ranges of every query word (or word prefix) inside that window.
pub fn snippet(dream: &Dream, query: &str) -> (Option<u32>, String, Vec<Highlight>) {
    let terms: Vec<String> = words(query).collect();
    let messages = &dream.conversation.messages;
    let best = messages
        .iter()
        .enumerate()
        .map(|(index, message)| (index, find_all(&message.markdown, &terms).len()))
        .filter(|(_, count)| *count > 0)
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0)));
    let (message_index, text) = match best {
        Some((index, _)) => (
            Some(index as u32),
            messages.get(index).map_or("", |m| m.markdown.as_str()),
        ),
        None => (None, dream.conversation.title.as_str()),
    };
    let matches = find_all(text, &terms);
    let first = matches.first().map_or(0, |m| m.0);
    let start = floor_boundary(text, first.saturating_sub(CONTEXT_BYTES));
    let end = floor_boundary(text, (first + CONTEXT_BYTES * 2).min(text.len()));
    let window = text.get(start..end).unwrap_or("");
    let highlights = matches
        .into_iter()
        .filter(|(s, e)| *s >= start && *e <= end)
        .map(|(s, e)| Highlight {
            start: (s - start) as u32,
            end: (e - start) as u32,
        })
        .collect();
    (message_index, window.to_string(), highlights)
}

fn floor_boundary(text: &str, mut at: usize) -> usize {
    while at > 0 && !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// Byte ranges where a word of the text starts with one of the terms (case-insensitive).
fn find_all(text: &str, terms: &[String]) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    let mut word_start: Option<usize> = None;
    let check = |start: usize, end: usize, found: &mut Vec<(usize, usize)>| {
        let Some(word) = text.get(start..end) else {
            return;
        };
        let lower = word.to_lowercase();
        if let Some(term) = terms
            .iter()
            .filter(|t| lower.starts_with(t.as_str()))
            .max_by_key(|t| t.len())
        {
            // Highlight the matched prefix when lowercasing kept the length, else the word.
            let matched = if lower.len() == word.len() {
                term.len()
            } else {
                word.len()
            };
            found.push((start, start + matched));
        }
    };
    for (at, ch) in text.char_indices() {
        match (ch.is_alphanumeric(), word_start) {
            (true, None) => word_start = Some(at),
            (false, Some(start)) => {
                check(start, at, &mut found);
                word_start = None;
            }
            _ => {}
        }
    }
    if let Some(start) = word_start {
        check(start, text.len(), &mut found);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use dreamcatcher_model::{Conversation, Message, Role, Site};

    #[test]
    fn highlights_point_at_the_query_words_in_the_best_message() {
        let mut conversation = Conversation::new(Site::Claude, Some("x".into()), "Title");
        conversation
            .messages
            .push(Message::new(Role::User, "tokio once"));
        conversation.messages.push(Message::new(
            Role::Assistant,
            "Use Tokio: tokio::spawn runs tasks.",
        ));
        let dream = Dream::captured(conversation, chrono::Utc.timestamp_opt(0, 0).unwrap());
        let (index, text, highlights) = snippet(&dream, "tokio spa");
        assert_eq!(index, Some(1));
        let marked: Vec<&str> = highlights
            .iter()
            .map(|h| &text[h.start as usize..h.end as usize])
            .collect();
        assert_eq!(marked, vec!["Tokio", "tokio", "spa"]);
    }
}
