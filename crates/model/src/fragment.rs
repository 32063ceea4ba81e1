use serde::{Deserialize, Serialize};

/// Everything reusable pulled out of one message. Flattened into the message's JSON, so a
/// message carries `code_blocks`, `todos`, `hints` and `links` keys directly.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fragments {
    #[serde(default)]
    pub code_blocks: Vec<CodeBlock>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub todos: Vec<TodoItem>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hints: Vec<Hint>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
}

impl Fragments {
    pub fn is_empty(&self) -> bool {
        self.code_blocks.is_empty()
            && self.todos.is_empty()
            && self.hints.is_empty()
            && self.links.is_empty()
    }
}

/// Where a code block came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeOrigin {
    /// A fenced or indented block in the message's Markdown.
    #[default]
    Fence,
    /// A Claude artifact (`tool_use` block) or a ChatGPT canvas document.
    Artifact,
    /// Text the user selected on a page and saved.
    Selection,
}

/// A code block, exact to the character.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeBlock {
    /// Normalised language name (`python`, `javascript`, `bash`, …); empty when unknown.
    #[serde(default)]
    pub language: String,
    /// The language was guessed from the code, not stated by the source.
    #[serde(default, skip_serializing_if = "is_false")]
    pub language_guessed: bool,
    pub code: String,
    #[serde(default)]
    pub line_count: u32,
    /// Hash of the code with whitespace differences removed: equal keys ⇒ the same snippet.
    #[serde(default)]
    pub content_key: String,
    /// An artifact's title, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default)]
    pub origin: CodeOrigin,
}

fn is_false(value: &bool) -> bool {
    !*value
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum TodoMarker {
    Todo,
    Fixme,
    Hack,
    /// An unchecked Markdown task-list item (`- [ ] …`): an action item.
    Task,
}

/// A TODO/FIXME/HACK comment or an open action item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TodoItem {
    pub marker: TodoMarker,
    pub text: String,
    /// 1-based line: within the code block when `code_block` is set, else within the message.
    pub line: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_block: Option<usize>,
}

/// A "potential issue" noticed in code (the seed's heuristics): advice, not a verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hint {
    pub description: String,
    /// 1-based line within the code block.
    pub line: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_block: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub url: String,
    #[serde(default)]
    pub text: String,
}
