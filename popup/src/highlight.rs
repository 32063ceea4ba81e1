//! Splitting a search result's text into plain and matched segments, from the byte spans
//! the worker reports. The views show each segment as a text node, matched ones inside
//! `<mark>`: the text is never parsed as markup.

use serde::{Deserialize, Serialize};

/// Text with the byte ranges (`start..end`) a search matched in it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Highlighted {
    pub text: String,
    #[serde(default)]
    pub spans: Vec<(usize, usize)>,
}

impl Highlighted {
    pub fn plain(text: impl Into<String>) -> Self {
        Highlighted { text: text.into(), spans: Vec::new() }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment<'a> {
    pub text: &'a str,
    pub marked: bool,
}

/// The segments of `text` in order, matched spans marked. Spans may come unsorted,
/// overlapping, out of range or inside a UTF-8 character (the index and the text can
/// disagree after an edit): they are sorted, merged, clamped and widened to character
/// boundaries, so the output always covers the text exactly once.
pub fn segments<'a>(text: &'a str, spans: &[(usize, usize)]) -> Vec<Segment<'a>> {
    let mut ranges: Vec<(usize, usize)> = spans
        .iter()
        .map(|&(start, end)| (floor_boundary(text, start), ceil_boundary(text, end)))
        .filter(|(start, end)| start < end)
        .collect();
    ranges.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
    for (start, end) in ranges {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    let mut out = Vec::with_capacity(merged.len() * 2 + 1);
    let mut cursor = 0;
    for (start, end) in merged {
        if let Some(plain) = text.get(cursor..start).filter(|s| !s.is_empty()) {
            out.push(Segment { text: plain, marked: false });
        }
        if let Some(marked) = text.get(start..end) {
            out.push(Segment { text: marked, marked: true });
        }
        cursor = end;
    }
    if let Some(rest) = text.get(cursor..).filter(|s| !s.is_empty()) {
        out.push(Segment { text: rest, marked: false });
    }
    out
}

fn floor_boundary(text: &str, index: usize) -> usize {
    let mut index = index.min(text.len());
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

fn ceil_boundary(text: &str, index: usize) -> usize {
    let mut index = index.min(text.len());
    while !text.is_char_boundary(index) {
        index += 1;
    }
    index
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(segments: &[Segment<'_>]) -> String {
        segments
            .iter()
            .map(|s| if s.marked { format!("[{}]", s.text) } else { s.text.to_string() })
            .collect()
    }

    #[test]
    fn marks_spans_in_order() {
        let text = "rust async runtime";
        assert_eq!(render(&segments(text, &[(11, 18), (0, 4)])), "[rust] async [runtime]");
    }

    #[test]
    fn overlapping_and_adjacent_spans_merge() {
        assert_eq!(render(&segments("abcdef", &[(1, 3), (2, 4), (4, 5)])), "a[bcde]f");
    }

    #[test]
    fn out_of_range_and_empty_spans_are_harmless() {
        assert_eq!(render(&segments("abc", &[(2, 99), (5, 9), (1, 1), (3, 0)])), "ab[c]");
        assert_eq!(render(&segments("", &[(0, 3)])), "");
    }

    #[test]
    fn spans_inside_a_character_widen_to_it() {
        // "é" is two bytes (1..3); a span 2..3 starts inside it.
        let text = "céline 東京";
        let segs = segments(text, &[(2, 3), (9, 10)]);
        assert_eq!(render(&segs), "c[é]line [東]京");
        assert_eq!(segs.iter().map(|s| s.text).collect::<String>(), text);
    }

    #[test]
    fn no_spans_is_one_plain_segment() {
        assert_eq!(segments("hello", &[]), vec![Segment { text: "hello", marked: false }]);
    }
}
