//! The list's filters: what the user picked, turned into the filter the worker applies.

use chrono::Duration;
use dreamcatcher_library::api::{DreamFilter, DreamSummary};
use dreamcatcher_model::{Site, Timestamp};

/// How far back the "Date" filter reaches (by last update, as the list is ordered).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DateRange {
    #[default]
    AnyTime,
    LastDay,
    LastWeek,
    LastMonth,
    LastYear,
}

impl DateRange {
    pub const ALL: [DateRange; 5] =
        [DateRange::AnyTime, DateRange::LastDay, DateRange::LastWeek, DateRange::LastMonth, DateRange::LastYear];

    pub fn label(self) -> &'static str {
        match self {
            DateRange::AnyTime => "Any time",
            DateRange::LastDay => "Last 24 hours",
            DateRange::LastWeek => "Last 7 days",
            DateRange::LastMonth => "Last 30 days",
            DateRange::LastYear => "Last 12 months",
        }
    }

    /// The value of the `<option>` that stands for it.
    pub fn key(self) -> &'static str {
        match self {
            DateRange::AnyTime => "",
            DateRange::LastDay => "day",
            DateRange::LastWeek => "week",
            DateRange::LastMonth => "month",
            DateRange::LastYear => "year",
        }
    }

    pub fn from_key(key: &str) -> DateRange {
        DateRange::ALL.into_iter().find(|range| range.key() == key).unwrap_or_default()
    }

    /// The earliest update time it lets through, relative to `now`.
    pub fn since(self, now: Timestamp) -> Option<Timestamp> {
        let span = match self {
            DateRange::AnyTime => return None,
            DateRange::LastDay => Duration::days(1),
            DateRange::LastWeek => Duration::days(7),
            DateRange::LastMonth => Duration::days(30),
            DateRange::LastYear => Duration::days(365),
        };
        now.checked_sub_signed(span)
    }
}

/// What the filter bar holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    pub site: Option<Site>,
    pub language: Option<String>,
    pub tag: Option<String>,
    pub date: DateRange,
}

impl Filters {
    /// How many filters are set (shown on the filter button).
    pub fn active_count(&self) -> usize {
        usize::from(self.site.is_some())
            + usize::from(self.language.is_some())
            + usize::from(self.tag.is_some())
            + usize::from(self.date != DateRange::AnyTime)
    }

    /// The worker's filter, the date range fixed against `now`.
    pub fn to_dream_filter(&self, now: Timestamp) -> DreamFilter {
        DreamFilter {
            site: self.site,
            language: self.language.clone(),
            tag: self.tag.clone(),
            since: self.date.since(now),
            ..DreamFilter::default()
        }
    }
}

/// Whether a dream passes a filter, as the worker decides it. Languages and tags compare
/// without regard to ASCII case.
pub fn accepts(filter: &DreamFilter, dream: &DreamSummary) -> bool {
    filter.site.is_none_or(|site| site == dream.site)
        && filter.language.as_deref().is_none_or(|l| dream.languages.iter().any(|x| x.eq_ignore_ascii_case(l)))
        && filter.tag.as_deref().is_none_or(|t| dream.tags.iter().any(|x| x.eq_ignore_ascii_case(t)))
        && filter.since.is_none_or(|since| dream.updated_at >= since)
        && filter.until.is_none_or(|until| dream.updated_at < until)
        && (!filter.unopened_only || !dream.opened)
}

/// An option value of a select: empty means "any".
pub fn option_value(value: &str) -> Option<String> {
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use dreamcatcher_library::api::CaptureRoute;

    fn now() -> Timestamp {
        chrono::Utc.with_ymd_and_hms(2026, 5, 1, 12, 0, 0).single().unwrap_or_default()
    }

    fn at(days_ago: i64) -> Timestamp {
        now() - Duration::days(days_ago)
    }

    fn dream(site: Site, languages: &[&str], tags: &[&str], days_ago: i64) -> DreamSummary {
        DreamSummary {
            id: "dc-1".into(),
            site,
            title: "t".into(),
            url: None,
            captured_at: at(days_ago),
            updated_at: at(days_ago),
            message_count: 2,
            code_block_count: languages.len() as u32,
            languages: languages.iter().map(|s| s.to_string()).collect(),
            tags: tags.iter().map(|s| s.to_string()).collect(),
            opened: true,
            usage_count: 0,
            preview: String::new(),
            route: CaptureRoute::Other,
        }
    }

    #[test]
    fn no_filters_accept_everything() {
        let filter = Filters::default().to_dream_filter(now());
        assert_eq!(filter, DreamFilter::default());
        assert!(accepts(&filter, &dream(Site::Claude, &[], &[], 4000)));
    }

    #[test]
    fn each_filter_narrows() {
        let filters = Filters {
            site: Some(Site::Chatgpt),
            language: Some("rust".into()),
            tag: Some("WORK".into()),
            date: DateRange::LastWeek,
        };
        assert_eq!(filters.active_count(), 4);
        let filter = filters.to_dream_filter(now());
        assert_eq!(filter.since, Some(at(7)));
        assert!(accepts(&filter, &dream(Site::Chatgpt, &["python", "Rust"], &["work"], 6)));
        assert!(!accepts(&filter, &dream(Site::Claude, &["rust"], &["work"], 6)));
        assert!(!accepts(&filter, &dream(Site::Chatgpt, &["python"], &["work"], 6)));
        assert!(!accepts(&filter, &dream(Site::Chatgpt, &["rust"], &[], 6)));
        assert!(!accepts(&filter, &dream(Site::Chatgpt, &["rust"], &["work"], 8)));
    }

    #[test]
    fn date_ranges_round_trip_through_option_keys() {
        for range in DateRange::ALL {
            assert_eq!(DateRange::from_key(range.key()), range);
        }
        assert_eq!(DateRange::from_key("nonsense"), DateRange::AnyTime);
        assert_eq!(DateRange::LastDay.since(now()), Some(at(1)));
        assert_eq!(DateRange::AnyTime.since(now()), None);
    }

    #[test]
    fn empty_option_means_any() {
        assert_eq!(option_value(""), None);
        assert_eq!(option_value(" rust "), Some("rust".into()));
    }
}
