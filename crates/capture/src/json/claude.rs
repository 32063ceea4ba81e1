//! Claude's conversation JSON: the web API tree (`?tree=True&rendering_mode=messages`) and
//! each entry of the official export's `conversations.json`.
//!
//! The answer is the `text` blocks only: the top-level `text` mixes thinking and answer, so
//! it is used only when a message has no `content` blocks. `thinking` blocks go to
//! `Message::thinking`; artifacts (`tool_use` with `input.content`) become code-block
//! fragments with a mention line in the Markdown.

use std::collections::{HashMap, HashSet};

use dreamcatcher_fragments::code_block;
use dreamcatcher_model::{
    Attachment, CaptureSource, CodeBlock, CodeOrigin, Conversation, Message, Role, Site, Timestamp,
};
use serde::Deserialize;
use serde_json::Value;

use super::markdown::{artifact_mention, convert_math};
use super::path::JsonPath;
use super::values::{flexible_time, null_default};
use super::{JsonError, SiteJson, parse_site_at, site_conversation};

/// The parent id Claude gives the first message of a conversation.
const ROOT_PARENT: &str = "00000000-0000-4000-8000-000000000000";

/// Reads one Claude conversation object. Use [`CaptureSource::WebApi`] for the tree API's
/// response and [`CaptureSource::Export`] for an entry of `conversations.json`.
pub fn parse_conversation(json: &str, source: CaptureSource) -> Result<Conversation, JsonError> {
    parse_site_at::<ClaudeJson>(json, &JsonPath::root(), source)
}

/// This site's conversation JSON, for the readers in the parent module.
pub(crate) struct ClaudeJson;

/// The conversation's URL on claude.ai.
pub fn conversation_url(uuid: &str) -> String {
    format!("https://claude.ai/chat/{uuid}")
}

#[derive(Deserialize)]
pub(crate) struct RawConversation {
    #[serde(default)]
    uuid: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default, deserialize_with = "flexible_time")]
    created_at: Option<Timestamp>,
    #[serde(default, deserialize_with = "flexible_time")]
    updated_at: Option<Timestamp>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    current_leaf_message_uuid: Option<String>,
    #[serde(deserialize_with = "null_default")]
    chat_messages: Vec<RawMessage>,
}

#[derive(Deserialize)]
struct RawMessage {
    #[serde(default)]
    uuid: Option<String>,
    #[serde(default)]
    parent_message_uuid: Option<String>,
    #[serde(default)]
    sender: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    content: Vec<Block>,
    #[serde(default, deserialize_with = "null_default")]
    attachments: Vec<RawAttachment>,
    #[serde(default, deserialize_with = "null_default")]
    files: Vec<Value>,
    #[serde(default, deserialize_with = "flexible_time")]
    created_at: Option<Timestamp>,
}

#[derive(Deserialize)]
struct Block {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    thinking: Option<String>,
    /// A tool's arguments; any shape, read field by field.
    #[serde(default)]
    input: Option<Value>,
}

#[derive(Deserialize)]
struct RawAttachment {
    #[serde(default)]
    file_name: Option<String>,
    #[serde(default)]
    file_type: Option<String>,
    #[serde(default)]
    file_size: Option<Value>,
    #[serde(default)]
    extracted_content: Option<String>,
}

impl SiteJson for ClaudeJson {
    type Raw = RawConversation;

    fn convert(
        raw: RawConversation,
        at: &JsonPath,
        source: CaptureSource,
    ) -> Result<Conversation, JsonError> {
        let branch = active_branch(&raw, at)?;
        let messages: Vec<Message> = branch
            .into_iter()
            .filter_map(|index| raw.chat_messages.get(index))
            .filter_map(message)
            .collect();

        let mut conversation = site_conversation(Site::Claude, raw.uuid, raw.name, messages);
        conversation.url = conversation.site_id.as_deref().map(conversation_url);
        conversation.created_at = raw.created_at;
        conversation.updated_at = raw.updated_at;
        conversation.model = raw.model.filter(|m| !m.is_empty());
        conversation.source = source;
        Ok(crate::finish_conversation(conversation))
    }
}

/// Indexes into `chat_messages` of the visible conversation, oldest first.
///
/// With `current_leaf_message_uuid`: the path from that leaf up through the parents. Without
/// it (exports), the list order, unless the parent links branch: then the path up from the
/// last message, the newest one.
fn active_branch(raw: &RawConversation, at: &JsonPath) -> Result<Vec<usize>, JsonError> {
    let messages = &raw.chat_messages;
    let by_uuid: HashMap<&str, usize> = messages
        .iter()
        .enumerate()
        .filter_map(|(i, m)| m.uuid.as_deref().map(|uuid| (uuid, i)))
        .collect();
    let leaf = raw
        .current_leaf_message_uuid
        .as_deref()
        .filter(|uuid| !uuid.is_empty());
    let start = match leaf {
        Some(uuid) => match by_uuid.get(uuid) {
            Some(&index) => index,
            None => {
                return Err(JsonError::MissingNode {
                    path: at.key("current_leaf_message_uuid").to_string(),
                    node: uuid.to_string(),
                    referenced_by: "`current_leaf_message_uuid`".to_string(),
                });
            }
        },
        None if branches(messages) => messages.len().saturating_sub(1),
        None => return Ok((0..messages.len()).collect()),
    };
    let mut branch = Vec::new();
    let mut seen = HashSet::new();
    let mut index = start;
    loop {
        let here = at.key("chat_messages").index(index);
        if !seen.insert(index) {
            return Err(JsonError::Cycle {
                path: here.to_string(),
                node: uuid_of(messages, index),
            });
        }
        branch.push(index);
        let parent = messages
            .get(index)
            .and_then(|m| m.parent_message_uuid.as_deref())
            .filter(|p| !is_root(p));
        let Some(parent) = parent else { break };
        match by_uuid.get(parent) {
            Some(&next) => index = next,
            None => {
                return Err(JsonError::MissingNode {
                    path: here.key("parent_message_uuid").to_string(),
                    node: parent.to_string(),
                    referenced_by: format!("the parent of message `{}`", uuid_of(messages, index)),
                });
            }
        }
    }
    branch.reverse();
    Ok(branch)
}

fn uuid_of(messages: &[RawMessage], index: usize) -> String {
    messages
        .get(index)
        .and_then(|m| m.uuid.clone())
        .unwrap_or_else(|| format!("#{index}"))
}

fn is_root(parent: &str) -> bool {
    parent.is_empty() || parent == ROOT_PARENT || parent.chars().all(|c| c == '0' || c == '-')
}

/// True when some message has two children: the list then holds abandoned branches.
fn branches(messages: &[RawMessage]) -> bool {
    let mut parents = HashSet::new();
    messages
        .iter()
        .filter_map(|m| m.parent_message_uuid.as_deref())
        .filter(|p| !is_root(p))
        .any(|parent| !parents.insert(parent))
}

fn message(raw: &RawMessage) -> Option<Message> {
    let role = match raw.sender.as_deref() {
        Some("human") | Some("user") => Role::User,
        Some("assistant") => Role::Assistant,
        _ => return None,
    };
    let mut blocks: Vec<String> = Vec::new();
    let mut thinking: Vec<String> = Vec::new();
    let mut artifacts: Vec<CodeBlock> = Vec::new();
    let answer = role == Role::Assistant;
    for block in &raw.content {
        match block.kind.as_deref() {
            Some("text") => {
                if let Some(text) = block.text.as_deref().filter(|t| !t.trim().is_empty()) {
                    blocks.push(if answer {
                        convert_math(text)
                    } else {
                        text.to_string()
                    });
                }
            }
            Some("thinking") => {
                if let Some(text) = block
                    .thinking
                    .as_deref()
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                {
                    thinking.push(text.to_string());
                }
            }
            Some("tool_use") => {
                if let Some(input) = &block.input {
                    add_artifact(input, &mut blocks, &mut artifacts);
                }
            }
            // Tool results and other blocks are the site's working, not the conversation.
            _ => {}
        }
    }
    if raw.content.is_empty()
        && let Some(text) = raw.text.as_deref().filter(|t| !t.trim().is_empty())
    {
        blocks.push(if answer {
            convert_math(text)
        } else {
            text.to_string()
        });
    }
    let attachments = attachments(raw);
    let markdown = blocks.join("\n\n");
    if markdown.trim().is_empty()
        && thinking.is_empty()
        && artifacts.is_empty()
        && attachments.is_empty()
    {
        return None;
    }
    let mut message = Message::new(role, markdown);
    message.id = raw.uuid.clone();
    message.created_at = raw.created_at;
    message.thinking = (!thinking.is_empty()).then(|| thinking.join("\n\n"));
    message.attachments = attachments;
    message.fragments.code_blocks = artifacts;
    Some(message)
}

/// An artifact call: `create`/`rewrite` carry the whole content; an `update` carries only an
/// edit, which is mentioned but has no code of its own to keep.
fn add_artifact(input: &Value, blocks: &mut Vec<String>, artifacts: &mut Vec<CodeBlock>) {
    let field = |key: &str| input.get(key).and_then(Value::as_str);
    let title = field("title");
    match field("content") {
        Some(content) => {
            let language = field("language")
                .filter(|l| !l.trim().is_empty())
                .unwrap_or_else(|| language_of_type(field("type").unwrap_or("")));
            let mut block = code_block(language, content, CodeOrigin::Artifact);
            block.title = title.map(str::to_string);
            blocks.push(artifact_mention("Artifact", title, &block.language));
            artifacts.push(block);
        }
        None if field("command") == Some("update") => blocks.push(artifact_mention(
            "Artifact updated",
            title.or(field("id")),
            "",
        )),
        None => {}
    }
}

/// The language an artifact type implies when `input.language` is absent.
fn language_of_type(kind: &str) -> &'static str {
    match kind {
        "text/markdown" => "markdown",
        "text/html" => "html",
        "image/svg+xml" => "svg",
        "application/vnd.ant.react" => "jsx",
        "application/vnd.ant.mermaid" => "mermaid",
        _ => "",
    }
}

/// `attachments` carry the text Claude extracted; `files` are uploads (images, PDFs), listed
/// unless the same name is already an attachment.
fn attachments(raw: &RawMessage) -> Vec<Attachment> {
    let mut list: Vec<Attachment> = raw
        .attachments
        .iter()
        .map(|a| Attachment {
            name: a.file_name.clone().unwrap_or_default(),
            mime_type: a.file_type.clone().filter(|t| !t.is_empty()),
            extracted_text: a.extracted_content.clone(),
            size_bytes: a.file_size.as_ref().and_then(|s| {
                s.as_u64()
                    .or_else(|| s.as_str().and_then(|s| s.parse().ok()))
            }),
        })
        .collect();
    for file in &raw.files {
        let Some(name) = file.get("file_name").and_then(Value::as_str) else {
            continue;
        };
        if list.iter().all(|a| a.name != name) {
            list.push(Attachment {
                name: name.to_string(),
                mime_type: None,
                extracted_text: None,
                size_bytes: None,
            });
        }
    }
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Conversation {
        parse_conversation(json, CaptureSource::Export).unwrap()
    }

    #[test]
    fn without_a_leaf_a_branching_list_follows_the_newest_message() {
        let c = parse(
            r#"{"uuid": "x", "chat_messages": [
                {"uuid": "m1", "parent_message_uuid": "00000000-0000-4000-8000-000000000000", "sender": "human", "text": "Q"},
                {"uuid": "m2", "parent_message_uuid": "m1", "sender": "assistant", "text": "old"},
                {"uuid": "m3", "parent_message_uuid": "m1", "sender": "assistant", "text": "new"}]}"#,
        );
        let texts: Vec<&str> = c.messages.iter().map(|m| m.markdown.as_str()).collect();
        assert_eq!(texts, ["Q", "new"]);
    }

    #[test]
    fn without_a_leaf_a_straight_list_is_kept_in_order() {
        let c = parse(
            r#"{"uuid": "x", "chat_messages": [
                {"uuid": "m1", "sender": "human", "text": "Q"},
                {"uuid": "m2", "sender": "assistant", "text": "A"},
                {"uuid": "m3", "sender": "human", "text": "Q2"}]}"#,
        );
        assert_eq!(c.messages.len(), 3);
    }

    #[test]
    fn artifact_language_from_its_type() {
        let c = parse(
            r#"{"uuid": "x", "chat_messages": [{"uuid": "m", "sender": "assistant", "content": [
                {"type": "tool_use", "name": "artifacts", "input": {"type": "text/markdown", "title": "Notes", "content": "- a\n"}},
                {"type": "tool_use", "name": "web_search", "input": {"query": "rust"}}]}]}"#,
        );
        let block = &c.messages[0].fragments.code_blocks[0];
        assert_eq!(
            (block.language.as_str(), block.title.as_deref()),
            ("markdown", Some("Notes"))
        );
        assert_eq!(c.messages[0].markdown, "*Artifact: Notes (markdown)*");
    }

    #[test]
    fn unknown_senders_and_empty_messages_are_dropped() {
        let c = parse(
            r#"{"uuid": "x", "name": null, "chat_messages": [
                {"uuid": "m0", "sender": "system", "text": "rules"},
                {"uuid": "m1", "sender": "human", "content": [], "text": "  "},
                {"uuid": "m2", "sender": "human", "content": null, "text": "Real question"}]}"#,
        );
        assert_eq!(c.messages.len(), 1);
        assert_eq!(c.title, "Real question");
    }
}
