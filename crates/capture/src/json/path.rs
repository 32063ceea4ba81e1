//! JSON paths for error messages: `[3].mapping["aaa-1"].message.content`.

use std::fmt::{self, Write};

use serde_path_to_error::{Path, Segment};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct JsonPath(String);

impl JsonPath {
    /// The top of the input.
    pub(crate) fn root() -> Self {
        JsonPath(String::new())
    }

    pub(crate) fn index(&self, index: usize) -> Self {
        let mut path = self.clone();
        // Writing to a String cannot fail.
        let _ = write!(path.0, "[{index}]");
        path
    }

    pub(crate) fn key(&self, key: &str) -> Self {
        let mut path = self.clone();
        path.push_key(key, false);
        path
    }

    /// A key of a dictionary (a node id in `mapping`), always written `["key"]` so ids read
    /// apart from field names.
    pub(crate) fn id_key(&self, key: &str) -> Self {
        let mut path = self.clone();
        path.push_key(key, true);
        path
    }

    /// This path followed by the path serde recorded inside the value.
    pub(crate) fn join(&self, inner: &Path) -> Self {
        let mut path = self.clone();
        let mut in_mapping = false;
        for segment in inner.iter() {
            match segment {
                Segment::Seq { index } => {
                    let _ = write!(path.0, "[{index}]");
                }
                Segment::Map { key } | Segment::Enum { variant: key } => {
                    path.push_key(key, in_mapping)
                }
                Segment::Unknown => path.0.push_str("[?]"),
            }
            in_mapping = matches!(segment, Segment::Map { key } if key == "mapping");
        }
        path
    }

    /// Plain identifiers read as `.key`; anything else (ids with dashes, spaces, quotes) as
    /// `["key"]`, quoted the JSON way so the path can be pasted into jq.
    fn push_key(&mut self, key: &str, always_quoted: bool) {
        let plain = !always_quoted
            && !key.is_empty()
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !key.starts_with(|c: char| c.is_ascii_digit());
        if plain {
            if !self.0.is_empty() {
                self.0.push('.');
            }
            self.0.push_str(key);
        } else {
            let quoted = serde_json::to_string(key).unwrap_or_else(|_| format!("\"{key}\""));
            let _ = write!(self.0, "[{quoted}]");
        }
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("the top level")
        } else {
            f.write_str(&self.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_indexes_read_like_jq() {
        let path = JsonPath::root()
            .index(3)
            .key("mapping")
            .key("aaa-1")
            .key("message");
        assert_eq!(path.to_string(), r#"[3].mapping["aaa-1"].message"#);
        assert_eq!(
            JsonPath::root().key("mapping").id_key("abc").to_string(),
            r#"mapping["abc"]"#
        );
        assert_eq!(JsonPath::root().key("title").to_string(), "title");
        assert_eq!(JsonPath::root().to_string(), "the top level");
        assert_eq!(JsonPath::root().key("a\"b").to_string(), r#"["a\"b"]"#);
    }
}
