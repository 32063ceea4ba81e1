//! Conversation JSON: the sites' web APIs and official exports.
//!
//! - [`chatgpt`]: `/backend-api/conversation/{id}` and each entry of ChatGPT's
//!   `conversations.json` (the same node tree).
//! - [`claude`]: the web API tree (`?tree=True`) and each entry of Claude's `conversations.json`.
//! - [`parse_conversation`]: one JSON object of either site (or Dreamcatcher's own), detected
//!   by its keys.
//! - the entries of an export array, one at a time, each read on its own so one broken entry
//!   does not spoil the others (used by [`crate::input`], which callers go through).

pub mod chatgpt;
pub mod claude;
mod export;
mod markdown;
mod path;
mod probe;
mod values;

pub(crate) use export::{CountingReader, for_each_entry, for_each_entry_in_slice};
pub use export::{ExportItem, SkippedEntry};

use dreamcatcher_model::{CaptureSource, Conversation, Message, Role, Site, is_conversation_id};
use thiserror::Error;

use path::JsonPath;
use probe::{Probe, Shape};

/// Why conversation JSON could not be read. `path` is a JSON path from the top of the input
/// (`[3].mapping["aaa-1"].message.content` for the fourth entry of an export);
/// `line`/`column` count from the start of the conversation's own JSON (for a syntax error,
/// from the start of the input).
#[derive(Debug, Error)]
pub enum JsonError {
    #[error("invalid JSON at line {line}, column {column}: {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("the JSON ends early at line {line}, column {column}: the input looks truncated")]
    Truncated { line: usize, column: usize },
    #[error(
        "unexpected data at {path}: {message} (line {line}, column {column} of the conversation's JSON)"
    )]
    Shape {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "{path} is not a conversation: found {found}; expected a ChatGPT conversation \
         (with `mapping`), a Claude conversation (with `chat_messages`) or Dreamcatcher \
         conversations (with `site` and `messages`)"
    )]
    NotAConversation { path: String, found: String },
    #[error("{path}: {id:?} is not a Dreamcatcher id (`dc-` and 32 lowercase hex digits)")]
    BadId { path: String, id: String },
    #[error("{path}: node `{node}` is not in the conversation (named by {referenced_by})")]
    MissingNode {
        path: String,
        node: String,
        referenced_by: String,
    },
    #[error("{path}: the chain of parents loops back to node `{node}`")]
    Cycle { path: String, node: String },
    #[error("reading the input failed after {bytes_read} bytes: {source}")]
    Read {
        bytes_read: u64,
        source: std::io::Error,
    },
}

impl JsonError {
    /// Wraps a serde error met while reading a conversation found at `at`.
    fn from_serde(error: serde_path_to_error::Error<serde_json::Error>, at: &JsonPath) -> Self {
        let path = at.join(error.path());
        let inner = error.into_inner();
        Self::from_json(inner, Some(path))
    }

    /// Classifies a serde_json error: truncated input, broken syntax, or valid JSON of the
    /// wrong shape (which needs `path` to say where).
    pub(crate) fn from_json(error: serde_json::Error, path: Option<JsonPath>) -> Self {
        let (line, column) = (error.line(), error.column());
        match error.classify() {
            serde_json::error::Category::Eof => JsonError::Truncated { line, column },
            serde_json::error::Category::Data => JsonError::Shape {
                path: path
                    .map(|p| p.to_string())
                    .unwrap_or_else(|| JsonPath::root().to_string()),
                line,
                column,
                message: message_without_position(&error),
            },
            serde_json::error::Category::Syntax | serde_json::error::Category::Io => {
                JsonError::Syntax {
                    line,
                    column,
                    message: message_without_position(&error),
                }
            }
        }
    }
}

/// serde_json appends " at line L column C" to its messages; the variants carry those apart.
fn message_without_position(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    text.strip_suffix(&suffix)
        .map(str::to_string)
        .unwrap_or(text)
}

/// Reads one conversation object of either site, or one Dreamcatcher conversation, deciding
/// by its keys. Site JSON is marked `source` (use [`CaptureSource::WebApi`] for the sites'
/// API responses); a Dreamcatcher conversation keeps the source it was saved with.
pub fn parse_conversation(json: &str, source: CaptureSource) -> Result<Conversation, JsonError> {
    parse_object(json, &JsonPath::root(), source)
        .map(|(conversation, _)| conversation)
        .map_err(|(_, error)| error)
}

/// The reader a conversation object went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Chatgpt,
    Claude,
    Dreamcatcher,
}

/// An object that failed: its title when one was readable (to name a skipped export entry)
/// and why.
type Failure = (Option<String>, JsonError);

/// Reads one object found at `at`, deciding its kind by its keys.
fn parse_object(
    json: &str,
    at: &JsonPath,
    source: CaptureSource,
) -> Result<(Conversation, Kind), Failure> {
    let probe: Probe = serde_json::from_str(json)
        .map_err(|e| (None, JsonError::from_json(e, Some(at.clone()))))?;
    let title = probe.title;
    let result = match probe.shape {
        Shape::Chatgpt => {
            parse_site_at::<chatgpt::ChatgptJson>(json, at, source).map(|c| (c, Kind::Chatgpt))
        }
        Shape::Claude => {
            parse_site_at::<claude::ClaudeJson>(json, at, source).map(|c| (c, Kind::Claude))
        }
        Shape::Dreamcatcher => read_dreamcatcher(json, at).map(|c| (c, Kind::Dreamcatcher)),
        Shape::Other(found) => Err(JsonError::NotAConversation {
            path: at.to_string(),
            found,
        }),
    };
    result.map_err(|error| (title, error))
}

/// Reads an export entry. Entries are nearly always all of one kind, so the entry is first
/// read straight as the kind of the one before, skipping the key probe; anything short of a
/// clean success takes the full path, which finds the kind and explains a failure.
fn parse_entry(
    json: &str,
    at: &JsonPath,
    previous: Option<Kind>,
) -> Result<(Conversation, Kind), Failure> {
    let source = CaptureSource::Export;
    let direct = match previous {
        Some(Kind::Chatgpt) => {
            parse_site_if_shaped::<chatgpt::ChatgptJson>(json, at, source.clone())
        }
        Some(Kind::Claude) => parse_site_if_shaped::<claude::ClaudeJson>(json, at, source.clone()),
        Some(Kind::Dreamcatcher) => serde_json::from_str::<Conversation>(json)
            .ok()
            .filter(|c| is_conversation_id(&c.id)),
        None => None,
    };
    match (direct, previous) {
        (Some(conversation), Some(kind)) => Ok((conversation, kind)),
        _ => parse_object(json, at, source),
    }
}

/// A conversation of `site` from what its JSON gave: id and title trimmed (empty ones
/// dropped), the title taken from the first prompt when the site had none.
pub(crate) fn site_conversation(
    site: Site,
    site_id: Option<String>,
    title: Option<String>,
    messages: Vec<Message>,
) -> Conversation {
    let site_id = site_id
        .map(|id| id.trim().to_string())
        .filter(|id| !id.is_empty());
    let mut title = title.map(|t| t.trim().to_string()).unwrap_or_default();
    if title.is_empty() {
        let first_prompt = messages
            .iter()
            .find(|m| m.role == Role::User)
            .map(|m| m.markdown.as_str())
            .unwrap_or("");
        title = markdown::title_from_prompt(first_prompt);
    }
    let mut conversation = Conversation::new(site, site_id, title);
    conversation.messages = messages;
    conversation
}

/// One site's conversation JSON: its serde shape and the conversion to the model.
pub(crate) trait SiteJson {
    type Raw: serde::de::DeserializeOwned;

    fn convert(
        raw: Self::Raw,
        at: &JsonPath,
        source: CaptureSource,
    ) -> Result<Conversation, JsonError>;
}

/// Reads one conversation of site `S` at `at`, saying where the JSON does not fit.
pub(crate) fn parse_site_at<S: SiteJson>(
    json: &str,
    at: &JsonPath,
    source: CaptureSource,
) -> Result<Conversation, JsonError> {
    let raw: S::Raw = read_typed(json, at)?;
    S::convert(raw, at, source)
}

/// Reads the object when it has site `S`'s shape and converts cleanly; `None` otherwise
/// (the caller then finds out why the slow way).
fn parse_site_if_shaped<S: SiteJson>(
    json: &str,
    at: &JsonPath,
    source: CaptureSource,
) -> Option<Conversation> {
    let raw: S::Raw = serde_json::from_str(json).ok()?;
    S::convert(raw, at, source).ok()
}

/// Deserialises `json` as `T`, reporting the JSON path of any mismatch.
///
/// Tracking the path slows every value down and mismatches are rare: the plain reader goes
/// first, and only a failure is read again to find where.
/// A conversation Dreamcatcher saved. Its id is kept (it is the dream's key, tags and notes
/// follow it), so it must be one Dreamcatcher makes.
fn read_dreamcatcher(json: &str, at: &JsonPath) -> Result<Conversation, JsonError> {
    let conversation: Conversation = read_typed(json, at)?;
    if is_conversation_id(&conversation.id) {
        return Ok(conversation);
    }
    Err(JsonError::BadId {
        path: at.key("id").to_string(),
        id: conversation.id.chars().take(80).collect(),
    })
}

fn read_typed<T: serde::de::DeserializeOwned>(json: &str, at: &JsonPath) -> Result<T, JsonError> {
    serde_json::from_str(json).or_else(|_| {
        let mut deserializer = serde_json::Deserializer::from_str(json);
        serde_path_to_error::deserialize(&mut deserializer)
            .map_err(|error| JsonError::from_serde(error, at))
    })
}
