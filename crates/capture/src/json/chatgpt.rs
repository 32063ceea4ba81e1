//! ChatGPT's conversation JSON: the `/backend-api/conversation/{id}` response and each entry
//! of the official export's `conversations.json` (the same node tree).
//!
//! Only the active branch is kept: the path from `current_node` up through `parent`,
//! reversed. Hidden, empty-system and unshown tool nodes are dropped, and the run of
//! assistant and tool nodes that answers one prompt (text → code → output → text) becomes
//! one assistant message.

use std::collections::{HashMap, HashSet};

use dreamcatcher_fragments::code_block;
use dreamcatcher_model::{
    Attachment, CaptureSource, CodeBlock, CodeOrigin, Conversation, Message, Role, Site, Timestamp,
};
use serde::Deserialize;
use serde_json::Value;

use super::markdown::{artifact_mention, convert_math, fence};
use super::path::JsonPath;
use super::values::{flexible_time, null_default};
use super::{JsonError, SiteJson, parse_site_at, site_conversation};

/// Reads one ChatGPT conversation object. Use [`CaptureSource::WebApi`] for the API's
/// response and [`CaptureSource::Export`] for an entry of `conversations.json`.
pub fn parse_conversation(json: &str, source: CaptureSource) -> Result<Conversation, JsonError> {
    parse_site_at::<ChatgptJson>(json, &JsonPath::root(), source)
}

/// This site's conversation JSON, for the readers in the parent module.
pub(crate) struct ChatgptJson;

/// The conversation's URL on chatgpt.com.
pub fn conversation_url(site_id: &str) -> String {
    format!("https://chatgpt.com/c/{site_id}")
}

#[derive(Deserialize)]
pub(crate) struct RawConversation {
    #[serde(default)]
    title: Option<String>,
    #[serde(default, deserialize_with = "flexible_time")]
    create_time: Option<Timestamp>,
    #[serde(default, deserialize_with = "flexible_time")]
    update_time: Option<Timestamp>,
    #[serde(deserialize_with = "null_default")]
    mapping: HashMap<String, Node>,
    #[serde(default)]
    current_node: Option<String>,
    #[serde(default)]
    conversation_id: Option<String>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    default_model_slug: Option<String>,
}

#[derive(Deserialize)]
struct Node {
    #[serde(default)]
    message: Option<RawMessage>,
    #[serde(default)]
    parent: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    children: Vec<String>,
}

#[derive(Deserialize)]
struct RawMessage {
    #[serde(default)]
    id: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    author: Author,
    #[serde(default, deserialize_with = "flexible_time")]
    create_time: Option<Timestamp>,
    #[serde(default, deserialize_with = "null_default")]
    content: Content,
    #[serde(default, deserialize_with = "null_default")]
    metadata: Metadata,
    #[serde(default)]
    recipient: Option<String>,
    #[serde(default)]
    channel: Option<String>,
}

#[derive(Deserialize, Default)]
struct Author {
    #[serde(default)]
    role: Option<String>,
}

#[derive(Deserialize, Default)]
struct Content {
    #[serde(default)]
    content_type: Option<String>,
    /// Strings, or objects for images and audio in `multimodal_text`.
    #[serde(default, deserialize_with = "null_default")]
    parts: Vec<Value>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    language: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    thoughts: Vec<Thought>,
    /// `reasoning_recap`'s line ("Thought for 12s"); other types use the key differently.
    #[serde(default)]
    content: Option<Value>,
}

#[derive(Deserialize)]
struct Thought {
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    content: Option<String>,
}

#[derive(Deserialize, Default)]
struct Metadata {
    #[serde(default)]
    is_visually_hidden_from_conversation: Option<bool>,
    #[serde(default)]
    model_slug: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    attachments: Vec<Value>,
    #[serde(default)]
    aggregate_result: Option<AggregateResult>,
}

/// What the code interpreter returned besides text: the images it displayed.
#[derive(Deserialize)]
struct AggregateResult {
    #[serde(default, deserialize_with = "null_default")]
    messages: Vec<Value>,
}

impl SiteJson for ChatgptJson {
    type Raw = RawConversation;

    fn convert(
        raw: RawConversation,
        at: &JsonPath,
        source: CaptureSource,
    ) -> Result<Conversation, JsonError> {
        let path = active_branch(&raw, at)?;
        let mut answer: Option<Answer> = None;
        let mut messages = Vec::new();
        let mut model = None;
        for node_id in path {
            let Some(message) = raw
                .mapping
                .get(node_id)
                .and_then(|node| node.message.as_ref())
            else {
                continue;
            };
            if message.metadata.is_visually_hidden_from_conversation == Some(true) {
                continue;
            }
            match message.author.role.as_deref() {
                Some("user") => {
                    if let Some(done) = answer.take().and_then(Answer::finish) {
                        messages.push(done);
                    }
                    if let Some(prompt) = user_message(message) {
                        messages.push(prompt);
                    }
                }
                Some("assistant") => {
                    if let Some(slug) = message
                        .metadata
                        .model_slug
                        .as_deref()
                        .filter(|s| !s.is_empty())
                    {
                        model = Some(slug.to_string());
                    }
                    answer
                        .get_or_insert_with(|| Answer::start(message))
                        .add_assistant(message);
                }
                Some("tool") => answer
                    .get_or_insert_with(|| Answer::start(message))
                    .add_tool(message),
                // System messages (instructions, context) are never shown in the conversation.
                _ => {}
            }
        }
        if let Some(done) = answer.and_then(Answer::finish) {
            messages.push(done);
        }

        let site_id = raw.conversation_id.or(raw.id);
        let mut conversation = site_conversation(Site::Chatgpt, site_id, raw.title, messages);
        conversation.url = conversation.site_id.as_deref().map(conversation_url);
        conversation.created_at = raw.create_time;
        conversation.updated_at = raw.update_time;
        conversation.model = model.or(raw.default_model_slug.filter(|s| !s.is_empty()));
        conversation.source = source;
        Ok(crate::finish_conversation(conversation))
    }
}

/// The node ids of the visible conversation, oldest first.
fn active_branch<'a>(raw: &'a RawConversation, at: &JsonPath) -> Result<Vec<&'a str>, JsonError> {
    let mapping_path = at.key("mapping");
    let (start, named_by) = match raw.current_node.as_deref() {
        Some(id) => (id, "`current_node`".to_string()),
        None => match newest_leaf(&raw.mapping) {
            Some(id) => (id, "the newest leaf".to_string()),
            None => return Ok(Vec::new()),
        },
    };
    let mut branch = Vec::new();
    let mut seen = HashSet::new();
    let mut next = Some((start, named_by, at.key("current_node")));
    while let Some((id, named_by, referenced_at)) = next {
        if !seen.insert(id) {
            return Err(JsonError::Cycle {
                path: mapping_path.id_key(id).to_string(),
                node: id.to_string(),
            });
        }
        let Some(node) = raw.mapping.get(id) else {
            return Err(JsonError::MissingNode {
                path: referenced_at.to_string(),
                node: id.to_string(),
                referenced_by: named_by,
            });
        };
        branch.push(id);
        next = node.parent.as_deref().map(|parent| {
            (
                parent,
                format!("the parent of node `{id}`"),
                mapping_path.id_key(id).key("parent"),
            )
        });
    }
    branch.reverse();
    Ok(branch)
}

/// Without `current_node`, the branch the site shows by default: from the root, always the
/// last (newest) child. The root is chosen by smallest id so the choice is repeatable.
fn newest_leaf(mapping: &HashMap<String, Node>) -> Option<&str> {
    let mut id = mapping
        .iter()
        .filter(|(_, node)| node.parent.is_none())
        .map(|(id, _)| id.as_str())
        .min()?;
    let mut seen = HashSet::new();
    while seen.insert(id) {
        match mapping.get(id).and_then(|node| {
            node.children
                .iter()
                .rev()
                .find(|c| mapping.contains_key(c.as_str()))
        }) {
            Some(child) => id = child,
            None => break,
        }
    }
    Some(id)
}

fn user_message(message: &RawMessage) -> Option<Message> {
    let mut blocks = Vec::new();
    match message.content.content_type.as_deref() {
        Some("text") | Some("multimodal_text") | None => {
            push_parts(&mut blocks, &message.content.parts, false)
        }
        // Custom instructions and other context the user never sees as a message.
        _ => return None,
    }
    let attachments = attachments(&message.metadata.attachments);
    let markdown = blocks.join("\n\n");
    if markdown.trim().is_empty() && attachments.is_empty() {
        return None;
    }
    let mut prompt = Message::new(Role::User, markdown);
    prompt.id = message.id.clone();
    prompt.created_at = message.create_time;
    prompt.attachments = attachments;
    Some(prompt)
}

/// Text parts as they are (math converted in answers) and images as `![image](file-id)`.
fn push_parts(blocks: &mut Vec<String>, parts: &[Value], answer: bool) {
    for part in parts {
        match part {
            Value::String(text) if !text.trim().is_empty() => {
                let text = text.trim_end();
                blocks.push(if answer {
                    convert_math(text)
                } else {
                    text.to_string()
                });
            }
            Value::Object(object) => match object.get("content_type").and_then(Value::as_str) {
                Some("image_asset_pointer") => {
                    if let Some(pointer) = object.get("asset_pointer").and_then(Value::as_str) {
                        blocks.push(image_note(pointer));
                    }
                }
                Some("audio_transcription") => {
                    if let Some(text) = object
                        .get("text")
                        .and_then(Value::as_str)
                        .filter(|t| !t.trim().is_empty())
                    {
                        blocks.push(text.to_string());
                    }
                }
                _ => {}
            },
            _ => {}
        }
    }
}

/// `file-service://file-abc` and `sediment://file_abc` name files on the site's servers;
/// the note keeps the file id so the image can be told apart and looked up.
fn image_note(pointer: &str) -> String {
    let file_id = pointer.rsplit("://").next().unwrap_or(pointer);
    format!("![image]({})", file_id.replace([' ', '(', ')'], ""))
}

fn attachments(entries: &[Value]) -> Vec<Attachment> {
    entries
        .iter()
        .filter_map(|entry| {
            let field = |key: &str| entry.get(key).and_then(Value::as_str).map(str::to_string);
            let name = field("name").or_else(|| field("id"))?;
            Some(Attachment {
                name,
                mime_type: field("mime_type").or_else(|| field("mimeType")),
                extracted_text: None,
                size_bytes: entry.get("size").and_then(Value::as_u64),
            })
        })
        .collect()
}

/// The assistant and tool nodes answering one prompt, gathered into one message.
struct Answer {
    id: Option<String>,
    created_at: Option<Timestamp>,
    blocks: Vec<String>,
    thoughts: Vec<String>,
    recaps: Vec<String>,
    artifacts: Vec<CodeBlock>,
}

impl Answer {
    fn start(first: &RawMessage) -> Self {
        Answer {
            id: first.id.clone(),
            created_at: first.create_time,
            blocks: Vec::new(),
            thoughts: Vec::new(),
            recaps: Vec::new(),
            artifacts: Vec::new(),
        }
    }

    fn add_assistant(&mut self, message: &RawMessage) {
        let content = &message.content;
        let recipient = message.recipient.as_deref().unwrap_or("all");
        match content.content_type.as_deref() {
            Some("text") | Some("multimodal_text") => {
                if message.channel.as_deref() == Some("analysis") {
                    let mut reasoning = Vec::new();
                    push_parts(&mut reasoning, &content.parts, false);
                    self.thoughts.extend(reasoning);
                } else if recipient == "all" {
                    push_parts(&mut self.blocks, &content.parts, true);
                }
                // Text addressed to a tool (memory, image generation, search) is a call the
                // site does not show.
            }
            Some("code") => {
                let code = content.text.as_deref().unwrap_or("");
                if recipient.starts_with("canmore.create_textdoc") {
                    self.add_canvas(code);
                } else if recipient == "all" || recipient.starts_with("python") {
                    let language = content
                        .language
                        .as_deref()
                        .filter(|l| !l.is_empty() && *l != "unknown")
                        .or(recipient.starts_with("python").then_some("python"))
                        .unwrap_or("");
                    if !code.trim().is_empty() {
                        self.blocks.push(fence(language, code));
                    }
                }
            }
            Some("thoughts") => {
                for thought in &content.thoughts {
                    let text = [thought.summary.as_deref(), thought.content.as_deref()]
                        .into_iter()
                        .flatten()
                        .map(str::trim)
                        .filter(|t| !t.is_empty())
                        .collect::<Vec<_>>()
                        .join("\n\n");
                    if !text.is_empty() {
                        self.thoughts.push(text);
                    }
                }
            }
            Some("reasoning_recap") => {
                if let Some(recap) = content
                    .content
                    .as_ref()
                    .and_then(Value::as_str)
                    .filter(|t| !t.trim().is_empty())
                {
                    self.recaps.push(recap.trim().to_string());
                }
            }
            Some("execution_output") => self.add_output(message),
            // Browsing status, quotes and errors are the site's chrome around the answer.
            _ => {}
        }
    }

    fn add_tool(&mut self, message: &RawMessage) {
        match message.content.content_type.as_deref() {
            Some("execution_output") => self.add_output(message),
            // Generated images (DALL·E and the image tool) come back as tool multimodal text.
            Some("multimodal_text") => push_parts(&mut self.blocks, &message.content.parts, true),
            _ => {}
        }
    }

    /// Code interpreter output: the text as an `output` block, then each displayed image.
    fn add_output(&mut self, message: &RawMessage) {
        let text = message.content.text.as_deref().unwrap_or("");
        let shown: Vec<&str> = text
            .lines()
            .filter(|line| line.trim() != "<<ImageDisplayed>>")
            .collect();
        let shown = shown.join("\n");
        if !shown.trim().is_empty() {
            self.blocks.push(fence("output", shown.trim_matches('\n')));
        }
        let images = message
            .metadata
            .aggregate_result
            .iter()
            .flat_map(|result| &result.messages);
        for image in images {
            if image.get("message_type").and_then(Value::as_str) == Some("image")
                && let Some(url) = image.get("image_url").and_then(Value::as_str)
            {
                self.blocks.push(image_note(url));
            }
        }
    }

    /// A canvas document (`canmore.create_textdoc`): its JSON carries name, type and content.
    fn add_canvas(&mut self, call: &str) {
        let Ok(document) = serde_json::from_str::<Value>(call) else {
            return;
        };
        let Some(content) = document.get("content").and_then(Value::as_str) else {
            return;
        };
        let name = document.get("name").and_then(Value::as_str);
        let kind = document.get("type").and_then(Value::as_str).unwrap_or("");
        let language =
            kind.strip_prefix("code/")
                .unwrap_or(if kind == "document" { "markdown" } else { "" });
        let mut block = code_block(language, content, CodeOrigin::Artifact);
        block.title = name.map(str::to_string);
        self.blocks
            .push(artifact_mention("Canvas", name, &block.language));
        self.artifacts.push(block);
    }

    fn finish(self) -> Option<Message> {
        let markdown = self.blocks.join("\n\n");
        let thinking = if self.thoughts.is_empty() {
            self.recaps.join("\n")
        } else {
            self.thoughts.join("\n\n")
        };
        if markdown.trim().is_empty() && thinking.is_empty() && self.artifacts.is_empty() {
            return None;
        }
        let mut message = Message::new(Role::Assistant, markdown);
        message.id = self.id;
        message.created_at = self.created_at;
        message.thinking = (!thinking.is_empty()).then_some(thinking);
        message.fragments.code_blocks = self.artifacts;
        Some(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(
        id: &str,
        parent: Option<&str>,
        role: &str,
        recipient: &str,
        extra: &str,
        content: &str,
    ) -> String {
        let parent = parent.map_or("null".to_string(), |p| format!("\"{p}\""));
        format!(
            r#""{id}": {{"parent": {parent}, "message": {{"id": "{id}", "author": {{"role": "{role}"}},
               "recipient": "{recipient}", {extra} "content": {content}}}}}"#
        )
    }

    fn conversation(nodes: &[String], current: &str) -> Conversation {
        let json = format!(
            r#"{{"id": "x", "current_node": "{current}", "mapping": {{{}}}}}"#,
            nodes.join(",")
        );
        parse_conversation(&json, CaptureSource::WebApi).unwrap()
    }

    #[test]
    fn analysis_channel_is_thinking_and_tool_calls_are_hidden() {
        let c = conversation(
            &[
                node(
                    "u",
                    None,
                    "user",
                    "all",
                    "",
                    r#"{"content_type": "text", "parts": ["Draw a cat"]}"#,
                ),
                node(
                    "r",
                    Some("u"),
                    "assistant",
                    "all",
                    r#""channel": "analysis","#,
                    r#"{"content_type": "text", "parts": ["Plan the drawing."]}"#,
                ),
                node(
                    "s",
                    Some("r"),
                    "assistant",
                    "web.run",
                    "",
                    r#"{"content_type": "code", "language": "json", "text": "{\"q\": \"cats\"}"}"#,
                ),
                node(
                    "i",
                    Some("s"),
                    "tool",
                    "all",
                    "",
                    r#"{"content_type": "multimodal_text", "parts": [{"content_type": "image_asset_pointer", "asset_pointer": "sediment://file_cat"}]}"#,
                ),
                node(
                    "t",
                    Some("i"),
                    "assistant",
                    "all",
                    r#""channel": "final","#,
                    r#"{"content_type": "text", "parts": ["Here is your cat."]}"#,
                ),
            ],
            "t",
        );
        assert_eq!(c.messages.len(), 2);
        let answer = &c.messages[1];
        assert_eq!(answer.markdown, "![image](file_cat)\n\nHere is your cat.");
        assert_eq!(answer.thinking.as_deref(), Some("Plan the drawing."));
        assert_eq!(answer.id.as_deref(), Some("r"));
    }

    #[test]
    fn a_recap_alone_is_the_thinking_and_empty_answers_vanish() {
        let c = conversation(
            &[
                node(
                    "u",
                    None,
                    "user",
                    "all",
                    "",
                    r#"{"content_type": "text", "parts": ["Hi"]}"#,
                ),
                node(
                    "r",
                    Some("u"),
                    "assistant",
                    "all",
                    "",
                    r#"{"content_type": "reasoning_recap", "content": "Thought for 2s"}"#,
                ),
                node(
                    "a",
                    Some("r"),
                    "assistant",
                    "all",
                    "",
                    r#"{"content_type": "text", "parts": ["Hello"]}"#,
                ),
                node(
                    "u2",
                    Some("a"),
                    "user",
                    "all",
                    "",
                    r#"{"content_type": "text", "parts": ["And?"]}"#,
                ),
                node(
                    "b",
                    Some("u2"),
                    "assistant",
                    "all",
                    "",
                    r#"{"content_type": "tether_quote", "text": "quoted"}"#,
                ),
            ],
            "b",
        );
        assert_eq!(
            c.messages.len(),
            3,
            "the quote-only answer is not a message"
        );
        assert_eq!(c.messages[1].thinking.as_deref(), Some("Thought for 2s"));
        assert_eq!(c.title, "Hi", "untitled: from the first prompt");
    }

    #[test]
    fn code_keeps_its_stated_language_and_backticks() {
        let c = conversation(
            &[
                node(
                    "u",
                    None,
                    "user",
                    "all",
                    "",
                    r#"{"content_type": "text", "parts": ["Show"]}"#,
                ),
                node(
                    "a",
                    Some("u"),
                    "assistant",
                    "python",
                    "",
                    r#"{"content_type": "code", "language": "python3", "text": "s = '```'\n"}"#,
                ),
            ],
            "a",
        );
        assert_eq!(c.messages[1].markdown, "````python3\ns = '```'\n````");
    }
}
