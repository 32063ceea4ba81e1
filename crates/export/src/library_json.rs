use dreamcatcher_model::Dream;
use serde::{Deserialize, Serialize};
use thiserror::Error;

pub const LIBRARY_FORMAT: &str = "dreamcatcher-library";
pub const LIBRARY_VERSION: u32 = 1;

#[derive(Serialize)]
struct LibraryOut<'a> {
    format: &'static str,
    version: u32,
    dreams: &'a [Dream],
}

#[derive(Deserialize)]
struct LibraryIn {
    format: String,
    version: u32,
    dreams: Vec<Dream>,
}

#[derive(Debug, Error)]
pub enum LibraryJsonError {
    #[error("not a Dreamcatcher library export: {0}")]
    Syntax(#[from] serde_json::Error),
    #[error("format is {found:?}, expected {LIBRARY_FORMAT:?}")]
    WrongFormat { found: String },
    #[error("library export version {found} is newer than this Dreamcatcher reads ({LIBRARY_VERSION})")]
    NewerVersion { found: u32 },
}

/// Everything in the library, with the user's tags, notes and usage: importing it back gives
/// the same library.
pub fn write_library_json(dreams: &[Dream]) -> String {
    serde_json::to_string_pretty(&LibraryOut { format: LIBRARY_FORMAT, version: LIBRARY_VERSION, dreams })
        .unwrap_or_default()
}

pub fn parse_library_json(text: &str) -> Result<Vec<Dream>, LibraryJsonError> {
    let library: LibraryIn = serde_json::from_str(text)?;
    if library.format != LIBRARY_FORMAT {
        return Err(LibraryJsonError::WrongFormat { found: library.format });
    }
    if library.version > LIBRARY_VERSION {
        return Err(LibraryJsonError::NewerVersion { found: library.version });
    }
    Ok(library.dreams)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use dreamcatcher_model::{Conversation, Message, Role, Site};

    #[test]
    fn round_trips_user_fields() {
        let mut conversation = Conversation::new(Site::Claude, Some("c".into()), "T");
        conversation.messages.push(Message::new(Role::User, "<script>x</script>"));
        let mut dream = Dream::captured(conversation, chrono::Utc.timestamp_opt(5, 0).unwrap());
        dream.tags = vec!["a".into()];
        dream.notes = "n".into();
        dream.usage_count = 3;
        let text = write_library_json(std::slice::from_ref(&dream));
        assert_eq!(parse_library_json(&text).unwrap(), vec![dream]);
    }

    #[test]
    fn rejects_other_documents_clearly() {
        let err = parse_library_json(r#"{"format":"other","version":1,"dreams":[]}"#).unwrap_err();
        assert_eq!(err.to_string(), "format is \"other\", expected \"dreamcatcher-library\"");
        let err = parse_library_json(r#"{"format":"dreamcatcher-library","version":9,"dreams":[]}"#).unwrap_err();
        assert!(err.to_string().contains("version 9"));
        assert!(parse_library_json("[1,").is_err());
    }
}
