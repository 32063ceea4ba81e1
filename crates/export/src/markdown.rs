use std::fmt::Write;

use dreamcatcher_model::{CaptureSource, CodeOrigin, Conversation, Dream, Message, Role, Timestamp};

/// A dream as Markdown: front matter with the user's tags and capture time, then the body.
pub fn dream_markdown(dream: &Dream) -> String {
    render(&dream.conversation, &dream.tags, Some(dream.captured_at), &dream.notes)
}

/// A conversation as Markdown, for conversations not (yet) in a library.
pub fn conversation_markdown(conversation: &Conversation) -> String {
    render(conversation, &[], None, "")
}

fn render(conversation: &Conversation, tags: &[String], captured_at: Option<Timestamp>, notes: &str) -> String {
    let mut out = String::with_capacity(
        conversation.messages.iter().map(|m| m.markdown.len() + 32).sum::<usize>() + 512,
    );
    front_matter(&mut out, conversation, tags, captured_at);
    let title = display_title(conversation);
    let _ = writeln!(out, "# {}\n", title.replace('\n', " "));
    if !notes.trim().is_empty() {
        out.push_str("> **Notes**\n");
        quote_lines(&mut out, notes);
        out.push('\n');
    }
    for message in &conversation.messages {
        render_message(&mut out, message);
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

fn display_title(conversation: &Conversation) -> &str {
    if conversation.title.trim().is_empty() { "Untitled conversation" } else { conversation.title.trim() }
}

fn front_matter(out: &mut String, conversation: &Conversation, tags: &[String], captured_at: Option<Timestamp>) {
    out.push_str("---\n");
    yaml_field(out, "title", display_title(conversation));
    yaml_field(out, "site", conversation.site.as_str());
    if let Some(url) = &conversation.url {
        yaml_field(out, "url", url);
    }
    yaml_field(out, "id", &conversation.id);
    for (key, time) in [
        ("created", conversation.created_at),
        ("updated", conversation.updated_at),
        ("captured", captured_at),
    ] {
        if let Some(time) = time {
            let _ = writeln!(out, "{key}: {}", time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        }
    }
    if let Some(model) = &conversation.model {
        yaml_field(out, "model", model);
    }
    out.push_str("tags: [");
    for (i, tag) in tags.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&yaml_string(tag));
    }
    out.push_str("]\n");
    let _ = writeln!(out, "messages: {}", conversation.messages.len());
    let _ = writeln!(out, "code_blocks: {}", conversation.code_block_count());
    let source = match &conversation.source {
        CaptureSource::Page { layout } => format!("page ({layout})"),
        CaptureSource::WebApi => "web_api".to_string(),
        CaptureSource::Export => "export".to_string(),
        CaptureSource::Other => "other".to_string(),
    };
    yaml_field(out, "source", &source);
    out.push_str("---\n\n");
}

fn yaml_field(out: &mut String, key: &str, value: &str) {
    let _ = writeln!(out, "{key}: {}", yaml_string(value));
}

/// A JSON string literal is a valid YAML double-quoted scalar, and JSON escaping covers every
/// character YAML would otherwise misread (quotes, backslashes, control characters).
fn yaml_string(value: &str) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| String::from("\"\""))
}

fn render_message(out: &mut String, message: &Message) {
    let heading = match message.role {
        Role::User => "User",
        Role::Assistant => "Assistant",
    };
    let _ = writeln!(out, "## {heading}\n");
    if message.streaming {
        out.push_str("_(still being written when captured)_\n\n");
    }
    if let Some(thinking) = message.thinking.as_deref().filter(|t| !t.trim().is_empty()) {
        out.push_str("> **Thinking**\n>\n");
        quote_lines(out, thinking);
        out.push('\n');
    }
    let body = message.markdown.trim_end();
    if !body.is_empty() {
        out.push_str(body);
        out.push_str("\n\n");
    }
    for block in message.fragments.code_blocks.iter().filter(|b| b.origin == CodeOrigin::Artifact) {
        let title = block.title.as_deref().unwrap_or("Artifact");
        let _ = writeln!(out, "**Artifact: {}**\n", title.replace('\n', " "));
        fenced(out, &block.language, &block.code);
    }
    for attachment in &message.attachments {
        let _ = write!(out, "**Attachment: {}**", attachment.name.replace('\n', " "));
        if let Some(mime) = &attachment.mime_type {
            let _ = write!(out, " ({mime})");
        }
        out.push_str("\n\n");
        if let Some(text) = attachment.extracted_text.as_deref().filter(|t| !t.trim().is_empty()) {
            fenced(out, "text", text);
        }
    }
}

fn quote_lines(out: &mut String, text: &str) {
    for line in text.trim_end().lines() {
        if line.is_empty() {
            out.push_str(">\n");
        } else {
            let _ = writeln!(out, "> {line}");
        }
    }
}

/// A fence longer than any backtick run inside the code, so the code stays exact.
fn fenced(out: &mut String, language: &str, code: &str) {
    let longest_run = code
        .split(|c| c != '`')
        .map(str::len)
        .max()
        .unwrap_or(0);
    let fence = "`".repeat(longest_run.max(2) + 1);
    let _ = writeln!(out, "{fence}{language}");
    out.push_str(code);
    if !code.ends_with('\n') {
        out.push('\n');
    }
    let _ = writeln!(out, "{fence}\n");
}

/// A file name stem that is safe on every file system and unique per conversation: a slug
/// of the title plus the end of the stable id.
pub fn file_stem(conversation: &Conversation) -> String {
    let mut slug = String::new();
    let mut last_dash = true;
    for ch in display_title(conversation).chars() {
        if ch.is_alphanumeric() {
            slug.extend(ch.to_lowercase());
            last_dash = false;
        } else if !last_dash {
            slug.push('-');
            last_dash = true;
        }
        if slug.chars().count() >= 60 {
            break;
        }
    }
    let slug = slug.trim_end_matches('-');
    let id_tail: String = {
        let chars: Vec<char> = conversation.id.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
        chars[chars.len().saturating_sub(8)..].iter().collect()
    };
    if slug.is_empty() { format!("conversation-{id_tail}") } else { format!("{slug}-{id_tail}") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use dreamcatcher_model::{Attachment, CodeBlock, Site};

    fn sample() -> Conversation {
        let mut conversation = Conversation::new(Site::Chatgpt, Some("abc".into()), "Say \"hi\": a test");
        conversation.url = Some("https://chatgpt.com/c/abc".into());
        conversation.created_at = chrono::Utc.timestamp_opt(1_700_000_000, 0).single();
        conversation.source = CaptureSource::Page { layout: "chatgpt-2026-09".into() };
        conversation.messages.push(Message::new(Role::User, "How do I print?"));
        let mut answer = Message::new(Role::Assistant, "Use this:\n\n```python\nprint(\"```\")\n```\n");
        answer.thinking = Some("Simple.\n\nVery.".into());
        answer.fragments.code_blocks.push(CodeBlock {
            language: "rust".into(),
            language_guessed: false,
            code: "let x = \"````\";".into(),
            line_count: 1,
            content_key: String::new(),
            title: Some("Snippet".into()),
            origin: CodeOrigin::Artifact,
        });
        answer.attachments.push(Attachment {
            name: "notes.txt".into(),
            mime_type: Some("text/plain".into()),
            extracted_text: Some("hello".into()),
            size_bytes: None,
        });
        conversation.messages.push(answer);
        conversation
    }

    #[test]
    fn front_matter_is_quoted_and_complete() {
        let dream = Dream::captured(sample(), chrono::Utc.timestamp_opt(1_700_000_500, 0).unwrap());
        let mut dream = dream;
        dream.tags = vec!["py".into(), "a: b".into()];
        let md = dream_markdown(&dream);
        assert!(md.starts_with("---\ntitle: \"Say \\\"hi\\\": a test\"\nsite: \"chatgpt\"\n"), "{md}");
        assert!(md.contains("\ncreated: 2023-11-14T22:13:20Z\n"));
        assert!(md.contains("\ncaptured: 2023-11-14T22:21:40Z\n"));
        assert!(md.contains("\ntags: [\"py\", \"a: b\"]\n"));
        assert!(md.contains("\nmessages: 2\n"));
        assert!(md.contains("\nsource: \"page (chatgpt-2026-09)\"\n"));
    }

    #[test]
    fn body_keeps_code_and_separates_thinking() {
        let md = conversation_markdown(&sample());
        assert!(md.contains("## User\n\nHow do I print?\n\n## Assistant\n\n> **Thinking**\n>\n> Simple.\n>\n> Very.\n\nUse this:\n\n```python\nprint(\"```\")\n```\n"));
        assert!(md.contains("**Artifact: Snippet**\n\n`````rust\nlet x = \"````\";\n`````\n"));
        assert!(md.contains("**Attachment: notes.txt** (text/plain)\n\n```text\nhello\n```"));
        assert!(!md.ends_with("\n\n"));
    }

    #[test]
    fn file_stems_are_safe() {
        let conversation = sample();
        let stem = file_stem(&conversation);
        assert!(stem.starts_with("say-hi-a-test-"), "{stem}");
        assert!(stem.chars().all(|c| c.is_alphanumeric() || c == '-'));
        let untitled = Conversation::new(Site::Claude, Some("z".into()), "../../etc");
        assert!(file_stem(&untitled).starts_with("etc-"));
        let empty = Conversation::new(Site::Claude, Some("z".into()), "");
        assert!(file_stem(&empty).starts_with("untitled-conversation-"));
    }
}
