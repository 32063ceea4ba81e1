//! Which pages the extension works on, and the selectors the content script uses there.
//!
//! The layout names match the capture crate's page table, so a capture report names the same
//! generation whichever side recognised it. A new page generation is one entry here (for the
//! buttons and scrolling) plus one in the capture crate (for reading).

use dreamcatcher_model::Site;

use crate::api::LayoutAnchors;

/// Hosts the extension runs on, and the site each belongs to.
const HOSTS: [(&str, Site); 3] = [
    ("chatgpt.com", Site::Chatgpt),
    ("chat.openai.com", Site::Chatgpt),
    ("claude.ai", Site::Claude),
];

/// The parts of a URL this crate needs, without pulling in a full URL parser.
struct UrlParts<'a> {
    host: &'a str,
    path: &'a str,
}

fn split_url(url: &str) -> Option<UrlParts<'_>> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let end_of_authority = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end_of_authority);
    let host_and_port = authority.rsplit('@').next().unwrap_or(authority);
    let host = host_and_port.split(':').next().unwrap_or(host_and_port);
    let path_end = tail.find(['?', '#']).unwrap_or(tail.len());
    Some(UrlParts {
        host,
        path: &tail[..path_end],
    })
}

/// The supported site a URL belongs to (any page of it).
pub fn site_of_url(url: &str) -> Option<Site> {
    let parts = split_url(url)?;
    let host = parts.host.to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    HOSTS
        .iter()
        .find(|(known, _)| *known == host)
        .map(|(_, site)| *site)
}

/// The site and the site's conversation id, when the URL is a conversation page:
/// `chatgpt.com/c/<id>` (also under `/g/<gpt>/` and `/project/…/`) or `claude.ai/chat/<id>`.
pub fn conversation_of_url(url: &str) -> Option<(Site, String)> {
    let site = site_of_url(url)?;
    let path = split_url(url)?.path;
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let marker = match site {
        Site::Chatgpt => "c",
        Site::Claude => "chat",
    };
    let position = segments.iter().rposition(|segment| *segment == marker)?;
    let id = segments.get(position + 1)?;
    let valid = !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    valid.then(|| (site, (*id).to_string()))
}

/// Regions holding chat-like markup that is never the open conversation.
const NEVER_CONVERSATION: &str = "nav, aside, [data-app-action-sidebar-scroll]";

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| (*v).to_string()).collect()
}

/// The layouts of a site, newest first.
pub fn layouts(site: Site) -> Vec<LayoutAnchors> {
    match site {
        Site::Chatgpt => vec![
            LayoutAnchors {
                name: "chatgpt-2026-09".into(),
                detect: "div[data-turn-key]".into(),
                turn: Some("div[data-turn-key]".into()),
                turn_key_attributes: strings(&["data-turn-key"]),
                assistant_message: r#"div[data-markdown-text-style="assistant-message"]"#.into(),
                user_message: "[data-user-message-bubble]".into(),
                streaming: r#".result-streaming, [data-is-streaming="true"]"#.into(),
                scroller: Some("[data-app-action-timeline-scroll]".into()),
                ignore_inside: Some(NEVER_CONVERSATION.into()),
                reversed_scroll: true,
            },
            LayoutAnchors {
                name: "chatgpt-2024-12".into(),
                detect: r#"article[data-testid^="conversation-turn-"]"#.into(),
                turn: Some(r#"article[data-testid^="conversation-turn-"]"#.into()),
                turn_key_attributes: strings(&["data-testid"]),
                assistant_message: r#"[data-message-author-role="assistant"]"#.into(),
                user_message: r#"[data-message-author-role="user"]"#.into(),
                streaming: ".result-streaming".into(),
                scroller: None,
                ignore_inside: Some(NEVER_CONVERSATION.into()),
                reversed_scroll: false,
            },
            LayoutAnchors {
                name: "chatgpt-2026-04".into(),
                detect: r#"[data-testid^="conversation-turn-"]"#.into(),
                turn: Some(r#"[data-testid^="conversation-turn-"]"#.into()),
                turn_key_attributes: strings(&["data-turn-id", "data-testid"]),
                assistant_message: r#"[data-message-author-role="assistant"]"#.into(),
                user_message: r#"[data-message-author-role="user"]"#.into(),
                streaming: ".result-streaming".into(),
                scroller: None,
                ignore_inside: Some(NEVER_CONVERSATION.into()),
                reversed_scroll: false,
            },
        ],
        Site::Claude => vec![
            LayoutAnchors {
                name: "claude-2026-10".into(),
                detect: r#"[data-testid="transcript-row"]"#.into(),
                turn: Some(r#"[data-testid="transcript-row"]"#.into()),
                turn_key_attributes: strings(&["data-index"]),
                assistant_message: r#"[data-testid="assistant-message"]"#.into(),
                user_message: r#"[data-testid="user-message"]"#.into(),
                streaming: r#"[data-is-streaming="true"]"#.into(),
                scroller: None,
                ignore_inside: Some(NEVER_CONVERSATION.into()),
                reversed_scroll: false,
            },
            LayoutAnchors {
                name: "claude-2025".into(),
                detect: ".font-claude-response".into(),
                turn: None,
                turn_key_attributes: Vec::new(),
                assistant_message: ".font-claude-response".into(),
                user_message: r#"[data-testid="user-message"]"#.into(),
                streaming: r#"[data-is-streaming="true"]"#.into(),
                scroller: None,
                ignore_inside: Some(NEVER_CONVERSATION.into()),
                reversed_scroll: false,
            },
            LayoutAnchors {
                name: "claude-2024".into(),
                detect: ".font-claude-message".into(),
                turn: None,
                turn_key_attributes: Vec::new(),
                assistant_message: "div.font-claude-message".into(),
                user_message: r#"[data-testid="user-message"]"#.into(),
                streaming: r#"[data-is-streaming="true"]"#.into(),
                scroller: None,
                ignore_inside: Some(NEVER_CONVERSATION.into()),
                reversed_scroll: false,
            },
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversation_urls_of_every_host() {
        assert_eq!(
            conversation_of_url("https://chatgpt.com/c/6650f1c2-aa?model=x#top"),
            Some((Site::Chatgpt, "6650f1c2-aa".into()))
        );
        assert_eq!(
            conversation_of_url("https://chat.openai.com:8443/g/g-abc/c/abc_1"),
            Some((Site::Chatgpt, "abc_1".into()))
        );
        assert_eq!(
            conversation_of_url("https://claude.ai/chat/0b1e-77"),
            Some((Site::Claude, "0b1e-77".into()))
        );
    }

    #[test]
    fn other_pages_are_not_conversations() {
        assert_eq!(conversation_of_url("https://chatgpt.com/"), None);
        assert_eq!(conversation_of_url("https://claude.ai/new"), None);
        assert_eq!(conversation_of_url("https://claude.ai/chat/"), None);
        assert_eq!(
            conversation_of_url("https://evil.example/chat/x?u=https://claude.ai/chat/1"),
            None
        );
        assert_eq!(
            conversation_of_url("https://claude.ai.evil.example/chat/x"),
            None
        );
        assert_eq!(conversation_of_url("https://claude.ai/chat/<script>"), None);
        assert_eq!(
            site_of_url("https://www.chatgpt.com/gpts"),
            Some(Site::Chatgpt)
        );
        assert_eq!(site_of_url("not a url"), None);
    }

    #[test]
    fn every_site_has_layouts_with_unique_names() {
        let mut names: Vec<String> = [Site::Chatgpt, Site::Claude]
            .into_iter()
            .flat_map(layouts)
            .map(|l| l.name)
            .collect();
        let count = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), count);
        assert!(
            layouts(Site::Claude)
                .iter()
                .all(|l| !l.assistant_message.is_empty())
        );
    }
}
