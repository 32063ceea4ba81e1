//! Turning text into index terms, the same way for documents and queries.
//!
//! - Letters and digits form words; everything is lowercased and Latin diacritics are folded
//!   (`Café` → `cafe`, `Straße` → `strasse`).
//! - Code-aware: a word written `snake_case`, `camelCase` or `PascalCase` yields its parts
//!   (`get`, `user`, `name`) and itself whole (`getusername`, `get_user_name`); words joined by
//!   `.` `:` `/` `-` (`std::fs::read`, `src/lib.rs`, `foo.bar`) yield each word and the whole
//!   joined form.
//! - Han, Kana and Hangul runs, which are written without spaces, yield overlapping character
//!   bigrams (a lone character yields itself), so any two adjacent characters of a text are a
//!   term and a two-character query finds its text.

use std::ops::Range;

/// Longer terms (hashes, base64 blobs) are not searchable and would only grow the dictionary.
pub(crate) const MAX_TERM_BYTES: usize = 64;

/// How a term relates to the text it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TermRole {
    /// A word, or one part of a compound word.
    Part,
    /// A compound word kept whole (`getusername`, `std::fs::read`), next to its parts.
    Whole,
    /// A bigram (or lone character) of a Han/Kana/Hangul run.
    Cjk,
}

/// Calls `emit(term, source_byte_range, role)` for each term of `text`, in text order (a
/// compound's parts come before its whole forms). `buffer` is scratch space, reused so that
/// tokenising allocates nothing per term.
pub(crate) fn tokenize(
    text: &str,
    buffer: &mut String,
    emit: &mut impl FnMut(&str, Range<usize>, TermRole),
) {
    let bytes = text.as_bytes();
    let mut position = 0;
    while let Some(&byte) = bytes.get(position) {
        if byte < 0x80 && ascii_class(byte) & WORD == 0 {
            position += 1;
            continue;
        }
        let Some((ch, length)) = char_at(text, position) else {
            break;
        };
        if is_word_char(ch) {
            let end = compound_end(text, position);
            emit_compound(text, position..end, buffer, emit);
            position = end;
        } else if is_cjk(ch) {
            let end = scan_while(text, position, is_cjk);
            emit_cjk_run(text, position..end, emit);
            position = end;
        } else {
            position += length;
        }
    }
}

const WORD: u8 = 1;
const JOINER: u8 = 2;
const UPPER: u8 = 4;
const LOWER_OR_DIGIT: u8 = 8;

/// Character classes of ASCII, looked up instead of decoded: most text is ASCII.
const ASCII_CLASSES: [u8; 128] = ascii_classes();

const fn ascii_classes() -> [u8; 128] {
    let mut classes = [0u8; 128];
    let mut byte = 0;
    while byte < 128 {
        let b = byte as u8;
        classes[byte] = match b {
            b'A'..=b'Z' => WORD | UPPER,
            b'a'..=b'z' | b'0'..=b'9' => WORD | LOWER_OR_DIGIT,
            b'_' => WORD,
            b'.' | b':' | b'/' | b'-' => JOINER,
            _ => 0,
        };
        byte += 1;
    }
    classes
}

#[inline]
fn ascii_class(byte: u8) -> u8 {
    ASCII_CLASSES.get(usize::from(byte)).copied().unwrap_or(0)
}

/// End of the run of word characters starting at `start`.
#[inline]
fn scan_word(text: &str, start: usize) -> usize {
    let bytes = text.as_bytes();
    let mut at = start;
    loop {
        match bytes.get(at) {
            Some(&byte) if byte < 0x80 => {
                if ascii_class(byte) & WORD == 0 {
                    return at;
                }
                at += 1;
            }
            Some(_) => match char_at(text, at) {
                Some((ch, length)) if is_word_char(ch) => at += length,
                _ => return at,
            },
            None => return at,
        }
    }
}

/// The character starting at byte `at` and its length; ASCII without decoding.
#[inline]
fn char_at(text: &str, at: usize) -> Option<(char, usize)> {
    let byte = *text.as_bytes().get(at)?;
    if byte < 0x80 {
        return Some((char::from(byte), 1));
    }
    let ch = text.get(at..)?.chars().next()?;
    Some((ch, ch.len_utf8()))
}

#[inline]
fn scan_while(text: &str, start: usize, keep: impl Fn(char) -> bool) -> usize {
    let mut at = start;
    while let Some((ch, length)) = char_at(text, at) {
        if !keep(ch) {
            break;
        }
        at += length;
    }
    at
}

/// End of the compound word starting at `start`: word characters, possibly joined by short
/// runs of joiners that are followed by another word character.
fn compound_end(text: &str, start: usize) -> usize {
    let mut end = scan_word(text, start);
    loop {
        let joiners_end = scan_while(text, end, is_joiner);
        let joiner_chars = joiners_end - end;
        if joiner_chars == 0 || joiner_chars > 3 {
            return end;
        }
        match char_at(text, joiners_end) {
            Some((next, _)) if is_word_char(next) => end = scan_word(text, joiners_end),
            _ => return end,
        }
    }
}

fn emit_cjk_run(
    text: &str,
    run: Range<usize>,
    emit: &mut impl FnMut(&str, Range<usize>, TermRole),
) {
    let slice = &text[run.clone()];
    let mut chars = slice
        .char_indices()
        .map(|(offset, c)| (run.start + offset, c))
        .peekable();
    let Some(&(_, first)) = chars.peek() else {
        return;
    };
    if first.len_utf8() == slice.len() {
        emit(slice, run, TermRole::Cjk);
        return;
    }
    while let Some((start, ch)) = chars.next() {
        let Some(&(next_start, next)) = chars.peek() else {
            break;
        };
        let end = next_start + next.len_utf8();
        debug_assert_eq!(start + ch.len_utf8(), next_start);
        emit(&text[start..end], start..end, TermRole::Cjk);
    }
}

fn emit_compound(
    text: &str,
    compound: Range<usize>,
    buffer: &mut String,
    emit: &mut impl FnMut(&str, Range<usize>, TermRole),
) {
    if text
        .as_bytes()
        .get(compound.clone())
        .is_some_and(<[u8]>::is_ascii)
    {
        emit_ascii_compound(text, compound, buffer, emit);
    } else {
        emit_compound_chars(text, compound, buffer, emit);
    }
}

/// `emit_compound` for ASCII text in one pass over its bytes (most text is ASCII, and this
/// is the indexer's inner loop); `emit_compound_chars` is the reference it must agree with.
fn emit_ascii_compound(
    text: &str,
    compound: Range<usize>,
    buffer: &mut String,
    emit: &mut impl FnMut(&str, Range<usize>, TermRole),
) {
    let bytes = text.as_bytes().get(compound.clone()).unwrap_or_default();
    let base = compound.start;
    let mut emit_ascii = |range: Range<usize>, upper: bool, role: TermRole| {
        let Some(raw) = text.get(base + range.start..base + range.end) else {
            return;
        };
        if raw.is_empty() || raw.len() > MAX_TERM_BYTES {
            return;
        }
        if upper {
            buffer.clear();
            buffer.push_str(raw);
            buffer.make_ascii_lowercase();
            emit(buffer, base + range.start..base + range.end, role);
        } else {
            emit(raw, base + range.start..base + range.end, role);
        }
    };
    let mut segments = 0;
    let mut compound_upper = false;
    let mut segment: Option<usize> = None;
    let (mut segment_parts, mut segment_underscore, mut segment_upper) = (0, false, false);
    let mut part: Option<usize> = None;
    let mut part_upper = false;
    for position in 0..=bytes.len() {
        let byte = bytes.get(position).copied();
        let class = byte.map_or(0, ascii_class);
        if class & WORD != 0 {
            if segment.is_none() {
                segment = Some(position);
                (segment_parts, segment_underscore, segment_upper) = (0, false, false);
            }
            if byte == Some(b'_') {
                segment_underscore = true;
                if let Some(start) = part.take() {
                    segment_parts += 1;
                    emit_ascii(start..position, part_upper, TermRole::Part);
                }
                continue;
            }
            let upper = class & UPPER != 0;
            match part {
                Some(start) if upper => {
                    let before = position
                        .checked_sub(1)
                        .and_then(|p| bytes.get(p))
                        .map_or(0, |&b| ascii_class(b));
                    let next_is_lower = bytes.get(position + 1).is_some_and(u8::is_ascii_lowercase);
                    if before & LOWER_OR_DIGIT != 0 || (before & UPPER != 0 && next_is_lower) {
                        segment_parts += 1;
                        emit_ascii(start..position, part_upper, TermRole::Part);
                        part = Some(position);
                        part_upper = false;
                    }
                }
                Some(_) => {}
                None => {
                    part = Some(position);
                    part_upper = false;
                }
            }
            part_upper |= upper;
            segment_upper |= upper;
        } else {
            if let Some(start) = part.take() {
                segment_parts += 1;
                emit_ascii(start..position, part_upper, TermRole::Part);
            }
            if let Some(start) = segment.take() {
                segments += 1;
                compound_upper |= segment_upper;
                if segment_parts > 1 || (segment_parts == 1 && segment_underscore) {
                    emit_ascii(start..position, segment_upper, TermRole::Whole);
                }
            }
        }
    }
    if segments > 1 {
        emit_ascii(0..bytes.len(), compound_upper, TermRole::Whole);
    }
}

fn emit_compound_chars(
    text: &str,
    compound: Range<usize>,
    buffer: &mut String,
    emit: &mut impl FnMut(&str, Range<usize>, TermRole),
) {
    let mut segments = 0;
    let mut position = compound.start;
    while position < compound.end {
        let segment_end = scan_word(&text[..compound.end], position);
        if segment_end > position {
            segments += 1;
            emit_segment(text, position..segment_end, buffer, emit);
        }
        position = scan_while(&text[..compound.end], segment_end, is_joiner);
    }
    if segments > 1 {
        emit_folded(
            &text[compound.clone()],
            compound,
            TermRole::Whole,
            buffer,
            emit,
        );
    }
}

/// One joiner-free word: its camel/snake parts, then itself whole when it has several parts
/// or underscores (`__init__` is searchable as written).
fn emit_segment(
    text: &str,
    segment: Range<usize>,
    buffer: &mut String,
    emit: &mut impl FnMut(&str, Range<usize>, TermRole),
) {
    let word = &text[segment.clone()];
    let mut parts = 0;
    let mut part_start: Option<usize> = None;
    let mut previous: Option<char> = None;
    let mut offset = 0;
    while let Some((ch, length)) = char_at(word, offset) {
        if ch == '_' {
            if let Some(start) = part_start.take() {
                parts += 1;
                emit_part(
                    text,
                    segment.start + start..segment.start + offset,
                    buffer,
                    emit,
                );
            }
        } else {
            if let (Some(start), Some(before)) = (part_start, previous) {
                let next = char_at(word, offset + length).map(|(c, _)| c);
                if is_camel_boundary(before, ch, next) {
                    parts += 1;
                    emit_part(
                        text,
                        segment.start + start..segment.start + offset,
                        buffer,
                        emit,
                    );
                    part_start = Some(offset);
                }
            }
            if part_start.is_none() {
                part_start = Some(offset);
            }
        }
        previous = Some(ch);
        offset += length;
    }
    if let Some(start) = part_start {
        parts += 1;
        emit_part(text, segment.start + start..segment.end, buffer, emit);
    }
    if parts > 1 || (parts == 1 && word.contains('_')) {
        emit_folded(word, segment, TermRole::Whole, buffer, emit);
    }
}

fn emit_part(
    text: &str,
    part: Range<usize>,
    buffer: &mut String,
    emit: &mut impl FnMut(&str, Range<usize>, TermRole),
) {
    emit_folded(&text[part.clone()], part, TermRole::Part, buffer, emit);
}

/// `getUser` → get|User, `HTTPServer` → HTTP|Server, `base64Encode` → base64|Encode.
fn is_camel_boundary(before: char, ch: char, next: Option<char>) -> bool {
    if !ch.is_uppercase() {
        return false;
    }
    if before.is_lowercase() || before.is_numeric() {
        return true;
    }
    before.is_uppercase() && next.is_some_and(char::is_lowercase)
}

fn emit_folded(
    raw: &str,
    range: Range<usize>,
    role: TermRole,
    buffer: &mut String,
    emit: &mut impl FnMut(&str, Range<usize>, TermRole),
) {
    if raw.is_empty() || raw.len() > MAX_TERM_BYTES * 4 {
        return;
    }
    if raw.bytes().all(|b| b < 0x80 && !b.is_ascii_uppercase()) {
        if raw.len() <= MAX_TERM_BYTES {
            emit(raw, range, role);
        }
        return;
    }
    buffer.clear();
    fold_into(raw, buffer);
    if !buffer.is_empty() && buffer.len() <= MAX_TERM_BYTES {
        emit(buffer, range, role);
    }
}

/// Lowercases and folds Latin diacritics; combining marks are dropped.
pub(crate) fn fold_into(raw: &str, out: &mut String) {
    if raw.is_ascii() {
        let start = out.len();
        out.push_str(raw);
        if let Some(added) = out.get_mut(start..) {
            added.make_ascii_lowercase();
        }
        return;
    }
    for ch in raw.chars() {
        if ch.is_ascii() {
            out.push(ch.to_ascii_lowercase());
        } else if is_combining_mark(ch) {
            continue;
        } else if let Some(folded) = fold_latin(ch) {
            out.push_str(folded);
        } else {
            out.extend(ch.to_lowercase());
        }
    }
}

/// A case- and diacritic-insensitive form of a whole string, for comparing tags and languages.
pub(crate) fn fold(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    fold_into(raw.trim(), &mut out);
    out
}

/// Base letters of U+00C0..=U+017F, lowercase, 16 per row; `#` marks a letter folded to two
/// letters and `*` a symbol left alone.
const LATIN_FOLDS: &str = concat!(
    "aaaaaa#ceeeeiiii", // U+00C0
    "dnooooo*ouuuuy##", // U+00D0
    "aaaaaa#ceeeeiiii", // U+00E0
    "dnooooo*ouuuuy#y", // U+00F0
    "aaaaaaccccccccdd", // U+0100
    "ddeeeeeeeeeegggg", // U+0110
    "gggghhhhiiiiiiii", // U+0120
    "ii##jjkkklllllll", // U+0130
    "lllnnnnnnnnnoooo", // U+0140
    "oo##rrrrrrssssss", // U+0150
    "ssttttttuuuuuuuu", // U+0160
    "uuuuwwyyyzzzzzzs", // U+0170
);

fn fold_latin(ch: char) -> Option<&'static str> {
    const LETTERS: [&str; 26] = [
        "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r",
        "s", "t", "u", "v", "w", "x", "y", "z",
    ];
    let code = ch as u32;
    let index = code.checked_sub(0xC0)? as usize;
    match *LATIN_FOLDS.as_bytes().get(index)? {
        b'#' => Some(match code {
            0xC6 | 0xE6 => "ae",
            0xDE | 0xFE => "th",
            0xDF => "ss",
            0x132 | 0x133 => "ij",
            _ => "oe",
        }),
        letter @ b'a'..=b'z' => LETTERS.get(usize::from(letter - b'a')).copied(),
        _ => None,
    }
}

fn is_combining_mark(ch: char) -> bool {
    matches!(ch as u32, 0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

#[inline]
pub(crate) fn is_word_char(ch: char) -> bool {
    if ch.is_ascii() {
        return ascii_class(ch as u8) & WORD != 0;
    }
    (ch.is_alphanumeric() && !is_cjk(ch)) || is_combining_mark(ch)
}

#[inline]
fn is_joiner(ch: char) -> bool {
    matches!(ch, '.' | ':' | '/' | '-')
}

/// Han, Hiragana, Katakana and Hangul: scripts written without spaces between words.
pub(crate) fn is_cjk(ch: char) -> bool {
    matches!(ch as u32,
        0x1100..=0x11FF       // Hangul Jamo
        | 0x2E80..=0x2FDF     // CJK radicals
        | 0x3005..=0x3007     // 々 〆 〇
        | 0x3040..=0x30FF     // Hiragana, Katakana
        | 0x3130..=0x318F     // Hangul compatibility Jamo
        | 0x31F0..=0x31FF     // Katakana phonetic extensions
        | 0x3400..=0x4DBF     // CJK extension A
        | 0x4E00..=0x9FFF     // CJK unified ideographs
        | 0xA960..=0xA97F     // Hangul Jamo extended-A
        | 0xAC00..=0xD7FF     // Hangul syllables, Jamo extended-B
        | 0xF900..=0xFAFF     // CJK compatibility ideographs
        | 0xFF66..=0xFF9F     // halfwidth Katakana
        | 0x20000..=0x3134F   // CJK extensions B–G
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(text: &str) -> Vec<(String, TermRole)> {
        let mut out = Vec::new();
        let mut buffer = String::new();
        tokenize(text, &mut buffer, &mut |term, range, role| {
            assert!(text.is_char_boundary(range.start) && text.is_char_boundary(range.end));
            out.push((term.to_string(), role));
        });
        out
    }

    fn words(text: &str) -> Vec<String> {
        terms(text).into_iter().map(|(t, _)| t).collect()
    }

    #[test]
    fn prose_is_lowercased_and_folded() {
        assert_eq!(
            words("Café Straße, naïve ÆON!"),
            ["cafe", "strasse", "naive", "aeon"]
        );
        assert_eq!(words("cafe\u{301}s"), ["cafes"]);
    }

    #[test]
    fn camel_and_snake_case_split_and_kept_whole() {
        assert_eq!(words("getUserName"), ["get", "user", "name", "getusername"]);
        assert_eq!(
            words("get_user_name"),
            ["get", "user", "name", "get_user_name"]
        );
        assert_eq!(words("HTTPServer"), ["http", "server", "httpserver"]);
        assert_eq!(words("base64Encode"), ["base64", "encode", "base64encode"]);
        assert_eq!(words("__init__"), ["init", "__init__"]);
        assert_eq!(words("plain"), ["plain"]);
    }

    #[test]
    fn paths_and_dotted_names_split_and_kept_whole() {
        assert_eq!(
            words("std::fs::read"),
            ["std", "fs", "read", "std::fs::read"]
        );
        assert_eq!(words("src/lib.rs"), ["src", "lib", "rs", "src/lib.rs"]);
        assert_eq!(
            words("self.read_to_string()"),
            [
                "self",
                "read",
                "to",
                "string",
                "read_to_string",
                "self.read_to_string"
            ]
        );
        assert_eq!(words("end. Next"), ["end", "next"]);
        assert_eq!(words("wait..."), ["wait"]);
    }

    #[test]
    fn cjk_runs_become_bigrams() {
        assert_eq!(words("数据库连接"), ["数据", "据库", "库连", "连接"]);
        assert_eq!(words("用 Rust 写"), ["用", "rust", "写"]);
        assert_eq!(
            words("データベース"),
            ["デー", "ータ", "タベ", "ベー", "ース"]
        );
        assert_eq!(words("한국어"), ["한국", "국어"]);
        let roles: Vec<TermRole> = terms("数据 x").into_iter().map(|(_, r)| r).collect();
        assert_eq!(roles, [TermRole::Cjk, TermRole::Part]);
    }

    #[test]
    fn latin_fold_table_covers_its_range() {
        assert_eq!(LATIN_FOLDS.len(), 0x180 - 0xC0);
        let mut out = String::new();
        fold_into("ÀÇÐÑØÝàçðñøýÿĀČĐĞĦİıĲŁŃŐŒŘŠŢŰŴŶŸŽſ×", &mut out);
        assert_eq!(out, "acdnoyacdnoyyacdghiiijlnooerstuwyyzs×");
    }

    proptest::proptest! {
        #[test]
        fn ascii_fast_path_splits_like_the_general_one(text in "[A-Za-z0-9_][A-Za-z0-9_.:/ -]{0,40}") {
            let compound = 0..compound_end(&text, 0);
            let collect = |ascii: bool| {
                let mut out = Vec::new();
                let mut buffer = String::new();
                let mut emit = |term: &str, range: Range<usize>, role: TermRole| out.push((term.to_string(), range, role));
                if ascii {
                    emit_ascii_compound(&text, compound.clone(), &mut buffer, &mut emit);
                } else {
                    emit_compound_chars(&text, compound.clone(), &mut buffer, &mut emit);
                }
                out
            };
            proptest::prop_assert_eq!(collect(true), collect(false));
        }
    }

    #[test]
    fn overlong_terms_are_skipped() {
        let blob = "a".repeat(MAX_TERM_BYTES + 1);
        assert!(words(&blob).is_empty());
        assert_eq!(words(&format!("{blob}.ok")), ["ok"]);
    }
}
