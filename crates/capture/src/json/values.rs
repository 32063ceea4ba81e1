//! Lenient readers for the sites' field values: the sites write `null` where a list is
//! expected and dates as float seconds or RFC 3339 strings, and neither should cost a
//! conversation.

use std::fmt;

use chrono::{DateTime, Utc};
use dreamcatcher_model::Timestamp;
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// `null` reads as the type's default (an empty list, an empty map).
pub(crate) fn null_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// A date as float/integer Unix seconds or an RFC 3339 string; `null`, an unreadable string
/// or any other type reads as unknown rather than failing the conversation.
pub(crate) fn flexible_time<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Timestamp>, D::Error> {
    deserializer.deserialize_any(TimeVisitor)
}

struct TimeVisitor;

impl<'de> Visitor<'de> for TimeVisitor {
    type Value = Option<Timestamp>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a date (Unix seconds or RFC 3339)")
    }

    fn visit_f64<E: de::Error>(self, seconds: f64) -> Result<Self::Value, E> {
        Ok(from_unix_seconds(seconds))
    }

    fn visit_i64<E: de::Error>(self, seconds: i64) -> Result<Self::Value, E> {
        Ok(DateTime::from_timestamp(seconds, 0))
    }

    fn visit_u64<E: de::Error>(self, seconds: u64) -> Result<Self::Value, E> {
        Ok(i64::try_from(seconds)
            .ok()
            .and_then(|s| DateTime::from_timestamp(s, 0)))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        Ok(parse_rfc3339(text)
            .or_else(|| text.trim().parse::<f64>().ok().and_then(from_unix_seconds)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

pub(crate) fn from_unix_seconds(seconds: f64) -> Option<Timestamp> {
    if !seconds.is_finite() {
        return None;
    }
    let whole = seconds.floor();
    // Microsecond rounding: the sites store microseconds, and f64 noise below that is not data.
    let micros = (((seconds - whole) * 1e6).round() as u32).min(999_999);
    if whole < i64::MIN as f64 || whole > i64::MAX as f64 {
        return None;
    }
    DateTime::from_timestamp(whole as i64, micros * 1000)
}

pub(crate) fn parse_rfc3339(text: &str) -> Option<Timestamp> {
    DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct Dated {
        #[serde(default, deserialize_with = "flexible_time")]
        at: Option<Timestamp>,
    }

    fn at(json: &str) -> Option<String> {
        serde_json::from_str::<Dated>(json)
            .unwrap()
            .at
            .map(|t| t.to_rfc3339())
    }

    #[test]
    fn dates_in_every_spelling() {
        assert_eq!(
            at(r#"{"at":1763629200.5}"#).as_deref(),
            Some("2025-11-20T09:00:00.500+00:00")
        );
        assert_eq!(
            at(r#"{"at":1763629200}"#).as_deref(),
            Some("2025-11-20T09:00:00+00:00")
        );
        assert_eq!(
            at(r#"{"at":"2026-11-18T08:00:01.000000Z"}"#).as_deref(),
            Some("2026-11-18T08:00:01+00:00")
        );
        assert_eq!(at(r#"{"at":null}"#), None);
        assert_eq!(at(r#"{}"#), None);
        assert_eq!(at(r#"{"at":"yesterday"}"#), None);
        assert_eq!(at(r#"{"at":{"x":[1]}}"#), None);
        assert_eq!(at(r#"{"at":1e300}"#), None);
    }
}
