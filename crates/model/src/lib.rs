//! The one definition of what Dreamcatcher keeps: conversations captured from chat sites,
//! their messages, the reusable fragments pulled out of them, and the user's dreams.
//!
//! Every other crate (capture, fragments, search, sync, the CLI, the service and the
//! extension) uses these types, so the JSON below is the wire and storage format everywhere.
//!
//! # JSON shape
//!
//! ```json
//! {
//!   "id": "dc-3f2a…",                      // stable: same conversation ⇒ same id
//!   "site": "chatgpt",                     // "chatgpt" | "claude"
//!   "site_id": "6650f1c2-…",               // the site's own id, when known
//!   "title": "Elixir hello world",
//!   "url": "https://chatgpt.com/c/6650f1c2-…",
//!   "created_at": "2026-05-01T10:00:00Z",  // RFC 3339, omitted when unknown
//!   "updated_at": "2026-05-01T10:05:00Z",
//!   "model": "gpt-5",
//!   "source": {"kind": "page", "layout": "chatgpt-2026-04"},  // or {"kind":"web_api"} / {"kind":"export"}
//!   "messages": [{
//!     "id": "aaa-…", "role": "assistant", "markdown": "Here is…",
//!     "thinking": "…", "streaming": false,
//!     "attachments": [{"name": "notes.txt", "mime_type": "text/plain", "extracted_text": "…"}],
//!     "code_blocks": [{"language": "python", "language_guessed": false, "code": "print(1)\n",
//!                      "line_count": 1, "content_key": "…", "origin": "fence"}],
//!     "todos": [{"marker": "TODO", "text": "handle errors", "line": 3, "code_block": 0}],
//!     "hints": [{"description": "Console.log statement in production code", "line": 2, "code_block": 0}],
//!     "links": [{"url": "https://…", "text": "docs"}]
//!   }]
//! }
//! ```
//!
//! Empty lists and absent optional fields are omitted when serialising and default when
//! reading, so older and newer records read the same way.

mod dream;
mod fragment;
mod id;

pub use dream::Dream;
pub use fragment::{CodeBlock, CodeOrigin, Fragments, Hint, Link, TodoItem, TodoMarker};
pub use id::{content_key, conversation_id, is_conversation_id};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// An instant, always UTC, serialised as RFC 3339.
pub type Timestamp = DateTime<Utc>;

/// The chat site a conversation came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Site {
    Chatgpt,
    Claude,
}

impl Site {
    pub fn as_str(self) -> &'static str {
        match self {
            Site::Chatgpt => "chatgpt",
            Site::Claude => "claude",
        }
    }

    pub fn parse(name: &str) -> Option<Site> {
        match name.to_ascii_lowercase().as_str() {
            "chatgpt" | "openai" => Some(Site::Chatgpt),
            "claude" | "anthropic" => Some(Site::Claude),
            _ => None,
        }
    }
}

impl std::fmt::Display for Site {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who wrote a message. Tool and system turns are folded into the assistant's answer or
/// skipped by capture, so only these two remain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
}

/// Which route a capture took, so the user can be told (and tests can check) whether the
/// whole conversation came from the site's JSON or was read off the page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CaptureSource {
    /// Read from the rendered page; `layout` names the page generation recognised.
    Page { layout: String },
    /// The site's own conversation JSON (`/backend-api/conversation/{id}`, Claude's tree API).
    WebApi,
    /// An entry of an official data export (`conversations.json`).
    Export,
    /// Entered another way (a text selection, an import of Dreamcatcher's own JSON).
    #[default]
    Other,
}

/// One conversation as captured, independent of the site and route it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    /// Stable id: see [`conversation_id`].
    pub id: String,
    pub site: Site,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_id: Option<String>,
    #[serde(default)]
    pub title: String,
    /// Always present in JSON (`null` when unknown): consumers rely on the key.
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default)]
    pub source: CaptureSource,
    #[serde(default)]
    pub messages: Vec<Message>,
}

impl Conversation {
    /// A conversation with no messages yet, its id derived from the site's id when known.
    pub fn new(site: Site, site_id: Option<String>, title: impl Into<String>) -> Self {
        let title = title.into();
        let id = conversation_id(site, site_id.as_deref(), &title, "");
        Conversation {
            id,
            site,
            site_id,
            title,
            url: None,
            created_at: None,
            updated_at: None,
            model: None,
            source: CaptureSource::Other,
            messages: Vec::new(),
        }
    }

    /// Recomputes the stable id from the site id, or from the title and first prompt when
    /// the site id is unknown. Call after the messages are filled in.
    pub fn assign_id(&mut self) {
        let first_prompt = self
            .messages
            .iter()
            .find(|m| m.role == Role::User)
            .map(|m| m.markdown.as_str())
            .unwrap_or("");
        self.id = conversation_id(self.site, self.site_id.as_deref(), &self.title, first_prompt);
    }

    pub fn code_block_count(&self) -> usize {
        self.messages.iter().map(|m| m.fragments.code_blocks.len()).sum()
    }

    /// True when any message was still being written when it was captured.
    pub fn is_streaming(&self) -> bool {
        self.messages.iter().any(|m| m.streaming)
    }
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// The site's own message id, when the route exposes one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub role: Role,
    /// The visible text as Markdown (code fences, GFM tables, `$tex$` math).
    #[serde(default)]
    pub markdown: String,
    /// Reasoning the model showed apart from its answer; never mixed into `markdown`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Timestamp>,
    /// The message was still being generated when captured: not final.
    #[serde(default, skip_serializing_if = "is_false")]
    pub streaming: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    #[serde(flatten)]
    pub fragments: Fragments,
}

impl Message {
    pub fn new(role: Role, markdown: impl Into<String>) -> Self {
        Message {
            id: None,
            role,
            markdown: markdown.into(),
            thinking: None,
            created_at: None,
            streaming: false,
            attachments: Vec::new(),
            fragments: Fragments::default(),
        }
    }
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// A file or image the user attached, with the text the site extracted from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extracted_text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
}
