//! Markdown escaping of text, link destinations and titles, following turndown's rules so
//! that text survives a Markdown round trip, plus `<` (so captured text can never turn into
//! a live HTML tag) and `&` before something that reads as an entity.

/// Bytes escaped wherever they appear in text.
const fn special_bytes() -> [bool; 256] {
    let mut table = [false; 256];
    table[b'\\' as usize] = true;
    table[b'*' as usize] = true;
    table[b'_' as usize] = true;
    table[b'`' as usize] = true;
    table[b'[' as usize] = true;
    table[b']' as usize] = true;
    table[b'<' as usize] = true;
    table[b'&' as usize] = true;
    table
}

static SPECIAL: [bool; 256] = special_bytes();

/// Appends `word` (text without ASCII whitespace) escaped. `line_start` says the word begins
/// a line, where `#`, `>`, `-`, `+`, `=`, `~~~` and `1.` would start a block.
#[cfg(test)]
fn push_word(out: &mut String, word: &str, line_start: bool) {
    let consumed = if line_start {
        push_line_start(out, word)
    } else {
        0
    };
    push_escaped(out, word.get(consumed..).unwrap_or(""));
}

/// Escapes what would make `word` (the first word on a line) a block marker; returns how
/// many of its bytes were written (the rest still needs [`push_escaped`]-style escaping).
pub(crate) fn push_line_start(out: &mut String, word: &str) -> usize {
    let bytes = word.as_bytes();
    match bytes.first() {
        Some(b'-' | b'>' | b'=') => {
            out.push('\\');
            out.push_str(word.get(..1).unwrap_or(""));
            1
        }
        Some(b'+') if bytes.len() == 1 => {
            out.push_str("\\+");
            1
        }
        Some(b'#') if bytes.len() <= 6 && bytes.iter().all(|&b| b == b'#') => {
            out.push('\\');
            out.push_str(word);
            word.len()
        }
        Some(b'~') if word.starts_with("~~~") => {
            out.push('\\');
            0
        }
        Some(b'0'..=b'9') => {
            let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
            let is_marker = digits + 1 == bytes.len() && matches!(bytes.last(), Some(b'.' | b')'));
            if is_marker {
                out.push_str(word.get(..digits).unwrap_or(""));
                out.push('\\');
                digits
            } else {
                0
            }
        }
        _ => 0,
    }
}

/// Whether `byte` may need a backslash in text (see [`needs_escape`]).
pub(crate) fn is_special(byte: u8) -> bool {
    SPECIAL[usize::from(byte)]
}

/// Whether the special byte at `at` needs a backslash: always, except `&` that does not
/// start something that reads as a character reference.
pub(crate) fn needs_escape(bytes: &[u8], at: usize) -> bool {
    bytes.get(at) != Some(&b'&') || starts_entity(bytes.get(at + 1..).unwrap_or(&[]))
}

/// Appends `text` with the inline Markdown specials escaped.
pub(crate) fn push_escaped(out: &mut String, text: &str) {
    let bytes = text.as_bytes();
    let mut copied = 0;
    for (i, &byte) in bytes.iter().enumerate() {
        if is_special(byte) && needs_escape(bytes, i) {
            out.push_str(text.get(copied..i).unwrap_or(""));
            out.push('\\');
            copied = i;
        }
    }
    out.push_str(text.get(copied..).unwrap_or(""));
}

/// Whether the bytes after an `&` read as a character reference (`amp;`, `#39;`, `#x27;`).
fn starts_entity(after: &[u8]) -> bool {
    let body = after.iter().take(33).position(|&b| b == b';');
    let Some(end) = body else { return false };
    let Some(name) = after.get(..end) else {
        return false;
    };
    match name {
        [b'#', b'x' | b'X', hex @ ..] => !hex.is_empty() && hex.iter().all(u8::is_ascii_hexdigit),
        [b'#', digits @ ..] => !digits.is_empty() && digits.iter().all(u8::is_ascii_digit),
        [first, rest @ ..] => {
            first.is_ascii_alphabetic() && rest.iter().all(u8::is_ascii_alphanumeric)
        }
        [] => false,
    }
}

/// A link or image destination: `<…>` when it has spaces, else parentheses escaped.
pub(crate) fn push_destination(out: &mut String, url: &str) {
    let url = url.trim_matches(|c: char| c.is_ascii_whitespace());
    if url.bytes().any(|b| b == b' ' || b.is_ascii_control()) {
        out.push('<');
        for ch in url.chars() {
            match ch {
                '<' | '>' => {
                    out.push('\\');
                    out.push(ch);
                }
                '\n' | '\r' => {}
                _ => out.push(ch),
            }
        }
        out.push('>');
    } else {
        for ch in url.chars() {
            if matches!(ch, '(' | ')') {
                out.push('\\');
            }
            out.push(ch);
        }
    }
}

/// Turndown's attribute cleaning: runs of newlines (and the whitespace after them) become
/// one newline.
pub(crate) fn clean_attribute(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(ch) = chars.next() {
        if ch == '\n' {
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            out.push('\n');
        } else {
            out.push(ch);
        }
    }
    out
}

/// ` "title"` with quotes escaped, or nothing for an empty title.
pub(crate) fn push_title(out: &mut String, title: &str) {
    let title = clean_attribute(title);
    if title.is_empty() {
        return;
    }
    out.push_str(" \"");
    for ch in title.chars() {
        if ch == '"' {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('"');
}

/// Whether a URL uses a scheme that runs code or embeds data (`javascript:`, `vbscript:`,
/// `data:`); browsers ignore tabs and newlines inside the scheme, so this does too.
pub(crate) fn is_unsafe_url(url: &str) -> bool {
    let mut scheme = [0u8; 11];
    let letters = url
        .bytes()
        .filter(|b| !b.is_ascii_whitespace() && !b.is_ascii_control());
    for (len, byte) in letters.enumerate() {
        if byte == b':' {
            let scheme = scheme.get(..len).unwrap_or(&[]);
            return matches!(scheme, b"javascript" | b"vbscript" | b"data");
        }
        let Some(slot) = scheme.get_mut(len) else {
            return false;
        };
        *slot = byte.to_ascii_lowercase();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(text: &str, line_start: bool) -> String {
        let mut out = String::new();
        push_word(&mut out, text, line_start);
        out
    }

    #[test]
    fn escapes_inline_specials_everywhere() {
        assert_eq!(word("*a_b*", false), "\\*a\\_b\\*");
        assert_eq!(word("`[x]`", false), "\\`\\[x\\]\\`");
        assert_eq!(word("<script>", false), "\\<script>");
        assert_eq!(word("a\\b", false), "a\\\\b");
    }

    #[test]
    fn escapes_ampersand_only_before_an_entity() {
        assert_eq!(word("AT&T", false), "AT&T");
        assert_eq!(word("&amp;", false), "\\&amp;");
        assert_eq!(word("&#39;", false), "\\&#39;");
        assert_eq!(word("&#x;", false), "&#x;");
    }

    #[test]
    fn escapes_block_markers_only_at_line_start() {
        assert_eq!(word("1984.", true), "1984\\.");
        assert_eq!(word("1984.", false), "1984.");
        assert_eq!(word("1)", true), "1\\)");
        assert_eq!(word("1984.George", true), "1984.George");
        assert_eq!(word("###", true), "\\###");
        assert_eq!(word("#hash", true), "#hash");
        assert_eq!(word("-x", true), "\\-x");
        assert_eq!(word("+", true), "\\+");
        assert_eq!(word("+1", true), "+1");
        assert_eq!(word(">quote", true), "\\>quote");
        assert_eq!(word("===", true), "\\===");
        assert_eq!(word("~~~x", true), "\\~~~x");
    }

    #[test]
    fn destinations_and_titles() {
        let mut out = String::new();
        push_destination(&mut out, "http://x/a b");
        assert_eq!(out, "<http://x/a b>");
        out.clear();
        push_destination(&mut out, "logo.png?(q)");
        assert_eq!(out, "logo.png?\\(q\\)");
        out.clear();
        push_title(&mut out, "a \"b\"\n   \n c");
        assert_eq!(out, " \"a \\\"b\\\"\nc\"");
    }

    #[test]
    fn unsafe_schemes() {
        assert!(is_unsafe_url("javascript:alert(1)"));
        assert!(is_unsafe_url(" Java\tScript:alert(1)"));
        assert!(is_unsafe_url("data:text/html,x"));
        assert!(!is_unsafe_url("https://example.com/javascript:"));
        assert!(!is_unsafe_url("/relative/path"));
    }
}
