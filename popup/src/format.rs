//! Numbers and dates as people read them.

use chrono::Datelike;
use dreamcatcher_model::Timestamp;

/// Bytes in decimal units, one decimal place from kilobytes up: "812 bytes", "12.3 MB".
pub fn bytes(count: u64) -> String {
    const UNITS: [&str; 5] = ["KB", "MB", "GB", "TB", "PB"];
    if count < 1000 {
        return if count == 1 { "1 byte".into() } else { format!("{count} bytes") };
    }
    // Integer tenths: float formatting would add kilobytes of code to the module.
    let mut scale: u64 = 1;
    let mut unit = "B";
    for next in UNITS {
        if count / scale < 1000 {
            break;
        }
        scale = scale.saturating_mul(1000);
        unit = next;
    }
    let tenths = (u128::from(count) * 10 + u128::from(scale) / 2) / u128::from(scale);
    format!("{}.{} {unit}", tenths / 10, tenths % 10)
}

/// A count with thousands separators: 10000 → "10,000".
pub fn count(value: usize) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// "1 message", "2 messages": a count and its noun.
pub fn counted(value: usize, singular: &str, plural: &str) -> String {
    if value == 1 { format!("1 {singular}") } else { format!("{} {plural}", count(value)) }
}

/// What "delete everything" reports: "Deleted 12 dreams and 30 fragments."
pub fn deleted_everything(dreams: u32, fragments: u32) -> String {
    if dreams == 0 && fragments == 0 {
        return "There was nothing to delete.".into();
    }
    format!(
        "Deleted {} and {}.",
        counted(dreams as usize, "dream", "dreams"),
        counted(fragments as usize, "fragment", "fragments")
    )
}

/// "just now", "5 min ago", "3 h ago", "yesterday", "4 days ago", then the date.
pub fn relative_time(then: Timestamp, now: Timestamp) -> String {
    let seconds = (now - then).num_seconds();
    match seconds {
        i64::MIN..=59 => "just now".into(),
        60..=3599 => format!("{} min ago", seconds / 60),
        3600..=86_399 => format!("{} h ago", seconds / 3600),
        86_400..=172_799 => "yesterday".into(),
        172_800..=604_799 => format!("{} days ago", seconds / 86_400),
        _ => {
            const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
            let month = MONTHS.get(then.month0() as usize).copied().unwrap_or("");
            format!("{} {month} {}", then.day(), then.year())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    #[test]
    fn bytes_read_plainly() {
        assert_eq!(bytes(0), "0 bytes");
        assert_eq!(bytes(1), "1 byte");
        assert_eq!(bytes(999), "999 bytes");
        assert_eq!(bytes(12_345_678), "12.3 MB");
        assert_eq!(bytes(2_000_000_000), "2.0 GB");
        assert_eq!(bytes(999_949), "999.9 KB");
        assert_eq!(bytes(1_000), "1.0 KB");
        assert_eq!(bytes(u64::MAX), "18446.7 PB");
    }

    #[test]
    fn counts_group_thousands() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(10_000), "10,000");
        assert_eq!(count(1_234_567), "1,234,567");
    }

    #[test]
    fn counted_nouns_agree() {
        assert_eq!(counted(1, "code block", "code blocks"), "1 code block");
        assert_eq!(counted(0, "code block", "code blocks"), "0 code blocks");
        assert_eq!(counted(1200, "dream", "dreams"), "1,200 dreams");
    }

    #[test]
    fn delete_everything_reports_what_went() {
        assert_eq!(deleted_everything(12, 1), "Deleted 12 dreams and 1 fragment.");
        assert_eq!(deleted_everything(1, 0), "Deleted 1 dream and 0 fragments.");
        assert_eq!(deleted_everything(0, 0), "There was nothing to delete.");
    }

    #[test]
    fn relative_times() {
        let now = chrono::Utc.with_ymd_and_hms(2026, 5, 10, 12, 0, 0).single().unwrap_or_default();
        assert_eq!(relative_time(now + Duration::seconds(30), now), "just now");
        assert_eq!(relative_time(now - Duration::minutes(5), now), "5 min ago");
        assert_eq!(relative_time(now - Duration::hours(3), now), "3 h ago");
        assert_eq!(relative_time(now - Duration::hours(30), now), "yesterday");
        assert_eq!(relative_time(now - Duration::days(4), now), "4 days ago");
        assert_eq!(relative_time(now - Duration::days(40), now), "31 Mar 2026");
    }
}
