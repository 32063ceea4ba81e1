//! The list row of a dream, and list filtering.

use std::collections::HashMap;

use dreamcatcher_model::{Dream, Role};

use crate::api::{DreamFilter, DreamSummary, FacetCount};
use crate::policy::route_of;

const PREVIEW_CHARS: usize = 200;

/// The row the popup's list shows for a dream.
pub fn summarize(dream: &Dream) -> DreamSummary {
    let conversation = &dream.conversation;
    let mut language_counts: HashMap<&str, u32> = HashMap::new();
    for block in conversation
        .messages
        .iter()
        .flat_map(|m| &m.fragments.code_blocks)
    {
        if !block.language.is_empty() {
            *language_counts.entry(block.language.as_str()).or_default() += 1;
        }
    }
    let mut languages: Vec<(&str, u32)> = language_counts.into_iter().collect();
    languages.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let preview_source = conversation
        .messages
        .iter()
        .find(|m| m.role == Role::User)
        .or_else(|| conversation.messages.first())
        .map(|m| m.markdown.as_str())
        .unwrap_or("");
    DreamSummary {
        id: dream.id().to_string(),
        site: conversation.site,
        title: conversation.title.clone(),
        url: conversation.url.clone(),
        captured_at: dream.captured_at,
        updated_at: dream.updated_at,
        message_count: conversation.messages.len() as u32,
        code_block_count: conversation.code_block_count() as u32,
        languages: languages
            .into_iter()
            .map(|(name, _)| name.to_string())
            .collect(),
        tags: dream.tags.clone(),
        opened: dream.opened,
        usage_count: dream.usage_count,
        preview: preview(preview_source),
        route: route_of(conversation),
    }
}

fn preview(text: &str) -> String {
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.chars().count() <= PREVIEW_CHARS {
        return collapsed;
    }
    let mut cut: String = collapsed.chars().take(PREVIEW_CHARS).collect();
    cut.push('…');
    cut
}

/// True when the summary passes every filter that is set.
pub fn matches(summary: &DreamSummary, filter: &DreamFilter) -> bool {
    filter.site.is_none_or(|site| summary.site == site)
        && filter.language.as_deref().is_none_or(|language| {
            summary
                .languages
                .iter()
                .any(|l| l.eq_ignore_ascii_case(language))
        })
        && filter
            .tag
            .as_deref()
            .is_none_or(|tag| summary.tags.iter().any(|t| t.eq_ignore_ascii_case(tag)))
        && filter.since.is_none_or(|since| summary.updated_at >= since)
        && filter.until.is_none_or(|until| summary.updated_at < until)
        && (!filter.unopened_only || !summary.opened)
}

/// Values and counts, most frequent first, then alphabetical.
pub fn facet<'a>(values: impl Iterator<Item = &'a str>) -> Vec<FacetCount> {
    let mut counts: HashMap<&str, u32> = HashMap::new();
    for value in values {
        *counts.entry(value).or_default() += 1;
    }
    let mut facets: Vec<FacetCount> = counts
        .into_iter()
        .map(|(value, count)| FacetCount {
            value: value.to_string(),
            count,
        })
        .collect();
    facets.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
    facets
}

/// Tags as the user meant them: trimmed, no empties, no case-insensitive duplicates.
pub fn normalize_tags(tags: Vec<String>) -> Vec<String> {
    let mut kept: Vec<String> = Vec::new();
    for tag in tags {
        let tag: String = tag
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .chars()
            .take(64)
            .collect();
        if !tag.is_empty() && !kept.iter().any(|k| k.eq_ignore_ascii_case(&tag)) {
            kept.push(tag);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use dreamcatcher_model::{Conversation, Message, Site};

    #[test]
    fn summary_counts_languages_and_previews_the_first_prompt() {
        let mut conversation = Conversation::new(Site::Claude, Some("x".into()), "T");
        conversation
            .messages
            .push(Message::new(Role::User, "  how   do I\nparse? "));
        let mut answer = Message::new(Role::Assistant, "a");
        for (language, code) in [("rust", "a"), ("python", "b"), ("rust", "c"), ("", "d")] {
            answer
                .fragments
                .code_blocks
                .push(dreamcatcher_fragments::code_block(
                    language,
                    code,
                    dreamcatcher_model::CodeOrigin::Fence,
                ));
        }
        conversation.messages.push(answer);
        let dream = Dream::captured(conversation, chrono::Utc.timestamp_opt(10, 0).unwrap());
        let summary = summarize(&dream);
        assert_eq!(summary.languages, vec!["rust", "python"]);
        assert_eq!(summary.code_block_count, 4);
        assert_eq!(summary.preview, "how do I parse?");
        assert!(matches(
            &summary,
            &DreamFilter {
                language: Some("Rust".into()),
                ..DreamFilter::default()
            }
        ));
        assert!(!matches(
            &summary,
            &DreamFilter {
                site: Some(Site::Chatgpt),
                ..DreamFilter::default()
            }
        ));
    }

    #[test]
    fn tags_are_trimmed_and_deduplicated() {
        let tags = normalize_tags(vec![
            " Rust ".into(),
            "rust".into(),
            "".into(),
            "web  dev".into(),
        ]);
        assert_eq!(tags, vec!["Rust", "web dev"]);
    }
}
