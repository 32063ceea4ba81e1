//! The page generations Dreamcatcher can read, as data. Adding a generation = one entry here
//! plus its fixture in tests/fixtures/pages/. Facts come from docs/sites.md.
//!
//! A layout is chosen when all its `detect` selectors match somewhere and it finds messages.
//! Layouts are tried as their detection completes while scanning the page; when several
//! complete at once, table order decides, so specific entries come before looser ones
//! (`article` turns before any-tag turns).

use dreamcatcher_model::{Role, Site};

/// One page generation of one site.
#[derive(Debug)]
pub(crate) struct Layout {
    pub name: &'static str,
    pub site: Site,
    /// Each must match some element for the page to be of this generation.
    pub detect: &'static [&'static str],
    /// The element holding one turn (a prompt, an answer or both); `None` when messages sit
    /// directly in the thread.
    pub turn: Option<&'static str>,
    /// A numeric attribute giving a turn's place in a virtual list, whose rows the DOM may
    /// hold out of order.
    pub turn_order: Option<&'static str>,
    pub messages: &'static [MessageRule],
    /// Consecutive answer blocks inside one turn are one answer (a reply split around a
    /// "Thought for …" button).
    pub merge_answer_blocks: bool,
}

/// How one kind of message is found and read.
#[derive(Debug)]
pub(crate) struct MessageRule {
    pub role: Role,
    pub select: &'static str,
    /// The parts of the body, gathered in document order; when none is found the element
    /// itself is read as `fallback` (or the message is empty).
    pub parts: &'static [Part],
    pub fallback: Option<Content>,
}

#[derive(Debug)]
pub(crate) struct Part {
    pub select: &'static str,
    pub content: Content,
}

/// How a body part becomes text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Content {
    /// Rendered answer HTML → Markdown (code fences, tables, math).
    Markdown,
    /// Text typed by the user, kept as written.
    PlainText,
    /// A card standing for something not on the page (an artifact): its title as text.
    Title,
}

/// Attributes carrying the site's message id, looked up on the message and its ancestors.
pub(crate) const MESSAGE_ID_ATTRIBUTES: [&str; 2] =
    ["data-message-id", "data-chatgpt-selection-message-id"];
/// Attribute naming the model that wrote an answer.
pub(crate) const MODEL_ATTRIBUTE: &str = "data-message-model-slug";
/// `="true"` on a message or its nearest marked ancestor: still being written.
pub(crate) const STREAMING_ATTRIBUTE: &str = "data-is-streaming";
/// Class ChatGPT puts on an answer's markdown root while it is being written.
pub(crate) const STREAMING_CLASS: &str = "result-streaming";
/// Regions that hold chat-like markup but are never the conversation (sidebars, history).
pub(crate) const NEVER_CONVERSATION: [&str; 3] =
    ["nav", "aside", "[data-app-action-sidebar-scroll]"];

const CHATGPT_USER_TEXT: &[Part] = &[Part {
    select: ".whitespace-pre-wrap",
    content: Content::PlainText,
}];

pub(crate) const LAYOUTS: &[Layout] = &[
    // 2026-09: a turn holds a prompt and its answer; role attributes and turn numbers are gone.
    Layout {
        name: "chatgpt-2026-09",
        site: Site::Chatgpt,
        detect: &["div[data-turn-key]", "[data-user-message-bubble]"],
        turn: Some("div[data-turn-key]"),
        turn_order: None,
        messages: &[
            MessageRule {
                role: Role::User,
                select: "[data-user-message-bubble]",
                parts: CHATGPT_USER_TEXT,
                fallback: Some(Content::PlainText),
            },
            MessageRule {
                role: Role::Assistant,
                select: r#"div[data-markdown-text-style="assistant-message"]"#,
                parts: &[],
                fallback: Some(Content::Markdown),
            },
        ],
        merge_answer_blocks: true,
    },
    // 2024-12 → 2026-02: article turns, one message block each.
    Layout {
        name: "chatgpt-2024-12",
        site: Site::Chatgpt,
        detect: &[
            r#"article[data-testid^="conversation-turn-"]"#,
            "[data-message-author-role]",
        ],
        turn: Some(r#"article[data-testid^="conversation-turn-"]"#),
        turn_order: None,
        messages: CHATGPT_ROLE_BLOCKS,
        merge_answer_blocks: true,
    },
    // 2026-04 → 2026-08: section turns (`[data-turn-id]`); an answer may be several blocks.
    // Any element carrying the turn test id is accepted: reduced copies of these pages use div.
    Layout {
        name: "chatgpt-2026-04",
        site: Site::Chatgpt,
        detect: &[
            r#"[data-testid^="conversation-turn-"]"#,
            "[data-message-author-role]",
        ],
        turn: Some(r#"[data-testid^="conversation-turn-"]"#),
        turn_order: None,
        messages: CHATGPT_ROLE_BLOCKS,
        merge_answer_blocks: true,
    },
    // 2026-10 "hub": a virtual list of transcript rows.
    Layout {
        name: "claude-2026-10",
        site: Site::Claude,
        detect: &[r#"[data-testid="transcript-row"]"#],
        turn: Some(r#"[data-testid="transcript-row"]"#),
        turn_order: Some("data-index"),
        messages: &[
            MessageRule {
                role: Role::User,
                select: r#"[data-testid="user-message"]"#,
                parts: &[],
                fallback: Some(Content::PlainText),
            },
            MessageRule {
                role: Role::Assistant,
                select: r#"[data-testid="assistant-message"]"#,
                // Thinking/status rows (`[data-cds="TurnStatus"]`) sit outside the prose.
                parts: &[Part {
                    select: r#"[data-cds="Prose"] .standard-markdown"#,
                    content: Content::Markdown,
                }],
                fallback: None,
            },
        ],
        merge_answer_blocks: false,
    },
    // 2025 → 2026-08: no turn containers; answers are `.font-claude-response` inside
    // `div[data-is-streaming]`, their status rows outside `.standard-markdown`.
    Layout {
        name: "claude-2025",
        site: Site::Claude,
        detect: &[".font-claude-response"],
        turn: None,
        turn_order: None,
        messages: &[
            MessageRule {
                role: Role::User,
                select: r#"[data-testid="user-message"]"#,
                parts: &[],
                fallback: Some(Content::PlainText),
            },
            MessageRule {
                role: Role::Assistant,
                select: ".font-claude-response",
                parts: &[
                    Part {
                        select: ".standard-markdown",
                        content: Content::Markdown,
                    },
                    Part {
                        select: ".progressive-markdown",
                        content: Content::Markdown,
                    },
                    Part {
                        select: ".artifact-block-cell",
                        content: Content::Title,
                    },
                ],
                fallback: None,
            },
        ],
        merge_answer_blocks: false,
    },
    // 2024: `.font-claude-message` answers rendered straight into the element.
    Layout {
        name: "claude-2024",
        site: Site::Claude,
        detect: &[".font-claude-message"],
        turn: None,
        turn_order: None,
        messages: &[
            MessageRule {
                role: Role::User,
                select: r#"[data-testid="user-message"]"#,
                parts: &[],
                fallback: Some(Content::PlainText),
            },
            MessageRule {
                role: Role::Assistant,
                select: "div.font-claude-message",
                parts: &[],
                fallback: Some(Content::Markdown),
            },
        ],
        merge_answer_blocks: false,
    },
];

const CHATGPT_ROLE_BLOCKS: &[MessageRule] = &[
    MessageRule {
        role: Role::User,
        select: r#"[data-message-author-role="user"]"#,
        parts: CHATGPT_USER_TEXT,
        fallback: Some(Content::PlainText),
    },
    MessageRule {
        role: Role::Assistant,
        select: r#"[data-message-author-role="assistant"]"#,
        parts: &[Part {
            select: ".markdown",
            content: Content::Markdown,
        }],
        fallback: None,
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::html::select::Selector;

    #[test]
    fn every_selector_in_the_table_parses() {
        let all = LAYOUTS.iter().flat_map(|layout| {
            let rules = layout.messages.iter().flat_map(|rule| {
                std::iter::once(rule.select).chain(rule.parts.iter().map(|part| part.select))
            });
            layout
                .detect
                .iter()
                .copied()
                .chain(layout.turn)
                .chain(rules)
        });
        for text in all.chain(NEVER_CONVERSATION) {
            assert!(Selector::parse(text).is_ok(), "{text}");
        }
    }

    #[test]
    fn detection_selectors_need_no_ancestors() {
        // detect() tests them in a flat pass over the nodes, without ancestors: one compound
        // each, so no combinator (space or `>`) outside an attribute's brackets.
        for layout in LAYOUTS {
            for text in layout.detect {
                let mut depth = 0;
                for ch in text.chars() {
                    match ch {
                        '[' => depth += 1,
                        ']' => depth -= 1,
                        ' ' | '>' | ',' => assert!(depth > 0, "{}: {text}", layout.name),
                        _ => {}
                    }
                }
            }
        }
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<_> = LAYOUTS.iter().map(|l| l.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), LAYOUTS.len());
    }
}
