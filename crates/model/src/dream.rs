use serde::{Deserialize, Serialize};

use crate::{Conversation, Timestamp};

/// A conversation in the user's library, with what the user added to it. Capture never
/// touches the user's fields: a recapture replaces only `conversation`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dream {
    pub conversation: Conversation,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub notes: String,
    pub captured_at: Timestamp,
    /// When the dream last changed (capture, recapture or the user's edit).
    pub updated_at: Timestamp,
    /// Times the user copied or opened a fragment of it: the scorer's usage signal.
    #[serde(default)]
    pub usage_count: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<Timestamp>,
    /// The user has opened it since it was captured (the badge counts the rest).
    #[serde(default)]
    pub opened: bool,
}

impl Dream {
    pub fn id(&self) -> &str {
        &self.conversation.id
    }

    /// A new dream for a first capture.
    pub fn captured(conversation: Conversation, now: Timestamp) -> Self {
        Dream {
            conversation,
            tags: Vec::new(),
            notes: String::new(),
            captured_at: now,
            updated_at: now,
            usage_count: 0,
            last_used_at: None,
            opened: false,
        }
    }

    /// Replaces the captured conversation, keeping the user's tags, notes and usage.
    pub fn recaptured(&self, conversation: Conversation, now: Timestamp) -> Self {
        Dream {
            conversation,
            updated_at: now,
            opened: false,
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Message, Role, Site};
    use chrono::TimeZone;

    #[test]
    fn recapture_keeps_user_fields() {
        let t0 = chrono::Utc.timestamp_opt(1_700_000_000, 0).unwrap();
        let t1 = chrono::Utc.timestamp_opt(1_700_000_100, 0).unwrap();
        let mut first = Conversation::new(Site::Claude, Some("c1".into()), "One");
        first.messages.push(Message::new(Role::User, "hi"));
        let mut dream = Dream::captured(first.clone(), t0);
        dream.tags.push("rust".into());
        dream.notes = "keep".into();
        let mut second = first;
        second.messages.push(Message::new(Role::Assistant, "hello"));
        let updated = dream.recaptured(second, t1);
        assert_eq!(updated.tags, vec!["rust".to_string()]);
        assert_eq!(updated.notes, "keep");
        assert_eq!(updated.captured_at, t0);
        assert_eq!(updated.updated_at, t1);
        assert_eq!(updated.conversation.messages.len(), 2);
    }

    #[test]
    fn message_json_has_cli_keys() {
        let mut message = Message::new(Role::Assistant, "x");
        message.fragments.code_blocks.push(crate::CodeBlock {
            language: "python".into(),
            language_guessed: false,
            code: "print(1)\n".into(),
            line_count: 1,
            content_key: crate::content_key("print(1)"),
            title: None,
            origin: crate::CodeOrigin::Fence,
        });
        let json = serde_json::to_value(&message).unwrap();
        assert_eq!(json["role"], "assistant");
        assert_eq!(json["code_blocks"][0]["language"], "python");
        assert_eq!(json["code_blocks"][0]["code"], "print(1)\n");
        let back: Message = serde_json::from_value(json).unwrap();
        assert_eq!(back, message);
    }
}
