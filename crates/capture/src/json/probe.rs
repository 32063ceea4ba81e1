//! A quick look at a JSON value's top-level keys to decide which reader gets it.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// Which conversation format a JSON value is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Shape {
    Chatgpt,
    Claude,
    Dreamcatcher,
    /// Not a conversation; says what was found instead ("an object with keys `a`, `b`").
    Other(String),
}

#[derive(Debug)]
pub(crate) struct Probe {
    pub shape: Shape,
    /// `title` (ChatGPT, Dreamcatcher) or `name` (Claude), when a string.
    pub title: Option<String>,
}

/// How many key names an "unknown object" message lists.
const KEYS_SHOWN: usize = 6;

impl<'de> Deserialize<'de> for Probe {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ProbeVisitor)
    }
}

struct ProbeVisitor;

fn other(found: &str) -> Probe {
    Probe {
        shape: Shape::Other(found.to_string()),
        title: None,
    }
}

impl<'de> Visitor<'de> for ProbeVisitor {
    type Value = Probe;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Probe, A::Error> {
        let (mut mapping, mut chat_messages, mut site, mut messages) = (false, false, false, false);
        let mut title = None;
        let mut keys = Vec::new();
        let mut key_count = 0usize;
        while let Some(key) = map.next_key::<String>()? {
            key_count += 1;
            match key.as_str() {
                "mapping" => mapping = true,
                "chat_messages" => chat_messages = true,
                "site" => site = true,
                "messages" => messages = true,
                _ => {}
            }
            if key == "title" || (key == "name" && title.is_none()) {
                title = map.next_value::<MaybeString>()?.0.or(title);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
            if keys.len() < KEYS_SHOWN {
                keys.push(key);
            }
        }
        let shape = if mapping {
            Shape::Chatgpt
        } else if chat_messages {
            Shape::Claude
        } else if site && messages {
            Shape::Dreamcatcher
        } else if key_count == 0 {
            Shape::Other("an empty object".to_string())
        } else {
            let listed: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
            let more = if key_count > keys.len() {
                format!(", … ({key_count} keys)")
            } else {
                String::new()
            };
            Shape::Other(format!("an object with keys {}{more}", listed.join(", ")))
        };
        Ok(Probe { shape, title })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Probe, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(other("an array"))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Probe, E> {
        Ok(other("a string"))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Probe, E> {
        Ok(other("a boolean"))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Probe, E> {
        Ok(other("a number"))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Probe, E> {
        Ok(other("a number"))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Probe, E> {
        Ok(other("a number"))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Probe, E> {
        Ok(other("null"))
    }
}

/// A string value, or nothing when the value is of any other type.
struct MaybeString(Option<String>);

impl<'de> Deserialize<'de> for MaybeString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(MaybeStringVisitor)
    }
}

struct MaybeStringVisitor;

impl<'de> Visitor<'de> for MaybeStringVisitor {
    type Value = MaybeString;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<MaybeString, E> {
        Ok(MaybeString(Some(value.to_string())))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<MaybeString, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(MaybeString(None))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<MaybeString, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(MaybeString(None))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<MaybeString, E> {
        Ok(MaybeString(None))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<MaybeString, E> {
        Ok(MaybeString(None))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<MaybeString, E> {
        Ok(MaybeString(None))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<MaybeString, E> {
        Ok(MaybeString(None))
    }

    fn visit_unit<E: de::Error>(self) -> Result<MaybeString, E> {
        Ok(MaybeString(None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(json: &str) -> Probe {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn keys_decide_the_shape() {
        assert_eq!(probe(r#"{"title":"T","mapping":{}}"#).shape, Shape::Chatgpt);
        assert_eq!(
            probe(r#"{"name":"N","chat_messages":[]}"#).title.as_deref(),
            Some("N")
        );
        assert_eq!(
            probe(r#"{"site":"claude","messages":[],"id":"x"}"#).shape,
            Shape::Dreamcatcher
        );
        assert_eq!(probe("[1,2]").shape, Shape::Other("an array".into()));
        let Shape::Other(found) = probe(r#"{"a":1,"b":{"c":[1]}}"#).shape else {
            panic!()
        };
        assert_eq!(found, "an object with keys `a`, `b`");
    }

    #[test]
    fn a_title_of_another_type_is_ignored() {
        let p = probe(r#"{"title":{"x":1},"mapping":{}}"#);
        assert_eq!(p.title, None);
        assert_eq!(p.shape, Shape::Chatgpt);
    }
}
