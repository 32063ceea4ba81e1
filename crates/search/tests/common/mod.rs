//! Builders for small invented dreams.
#![allow(dead_code)]

use chrono::TimeZone;
use dreamcatcher_model::{
    CodeBlock, CodeOrigin, Conversation, Dream, Message, Role, Site, Timestamp, TodoItem,
    TodoMarker,
};

pub fn at(day: i64) -> Timestamp {
    chrono::Utc
        .timestamp_opt(1_760_000_000 + day * 86_400, 0)
        .unwrap()
}

pub fn now() -> Timestamp {
    at(100)
}

pub fn code(language: &str, code: &str) -> CodeBlock {
    CodeBlock {
        language: language.to_string(),
        language_guessed: false,
        code: code.to_string(),
        line_count: code.lines().count() as u32,
        content_key: dreamcatcher_model::content_key(code),
        title: None,
        origin: CodeOrigin::Fence,
    }
}

pub fn titled(mut block: CodeBlock, title: &str) -> CodeBlock {
    block.title = Some(title.to_string());
    block
}

pub fn todo(text: &str) -> TodoItem {
    TodoItem {
        marker: TodoMarker::Todo,
        text: text.to_string(),
        line: 1,
        code_block: None,
    }
}

/// An assistant message with prose and code blocks (the fences also in its Markdown).
pub fn answer(prose: &str, blocks: Vec<CodeBlock>) -> Message {
    let mut markdown = prose.to_string();
    for block in &blocks {
        markdown.push_str(&format!("\n\n```{}\n{}\n```\n", block.language, block.code));
    }
    let mut message = Message::new(Role::Assistant, markdown);
    message.fragments.code_blocks = blocks;
    message
}

pub fn question(prose: &str) -> Message {
    Message::new(Role::User, prose)
}

pub struct DreamBuilder {
    dream: Dream,
}

pub fn dream(site_id: &str, title: &str) -> DreamBuilder {
    let conversation = Conversation::new(Site::Chatgpt, Some(site_id.to_string()), title);
    DreamBuilder {
        dream: Dream::captured(conversation, at(0)),
    }
}

impl DreamBuilder {
    pub fn site(mut self, site: Site) -> Self {
        let id = dreamcatcher_model::conversation_id(
            site,
            self.dream.conversation.site_id.as_deref(),
            "",
            "",
        );
        self.dream.conversation.site = site;
        self.dream.conversation.id = id;
        self
    }
    pub fn message(mut self, message: Message) -> Self {
        self.dream.conversation.messages.push(message);
        self
    }
    pub fn tags(mut self, tags: &[&str]) -> Self {
        self.dream.tags = tags.iter().map(|t| t.to_string()).collect();
        self
    }
    pub fn notes(mut self, notes: &str) -> Self {
        self.dream.notes = notes.to_string();
        self
    }
    pub fn day(mut self, day: i64) -> Self {
        self.dream.conversation.updated_at = Some(at(day));
        self
    }
    pub fn usage(mut self, count: u32, last_used_day: Option<i64>) -> Self {
        self.dream.usage_count = count;
        self.dream.last_used_at = last_used_day.map(at);
        self
    }
    pub fn todos(mut self, todos: Vec<TodoItem>) -> Self {
        let mut message = Message::new(Role::Assistant, "Next steps");
        message.fragments.todos = todos;
        self.dream.conversation.messages.push(message);
        self
    }
    pub fn build(self) -> Dream {
        self.dream
    }
}
