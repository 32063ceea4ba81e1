//! The Markdown output buffer. Content streams into one `String`; what cannot be known until
//! later is kept pending instead of being written and fixed up:
//! - whitespace between words (a single space, dropped at line starts and block ends),
//! - breaks between blocks (a newline or a blank line, dropped at the start and the end),
//! - line prefixes of containers (`> `, list indentation) and list markers, written when a
//!   line gets content.
//!
//! Inline constructs whose delimiters depend on their content (emphasis, links, headings)
//! record where their content starts and insert the delimiters when they close; only that
//! element's own content moves, so the cost stays linear in practice.

use super::escape;

/// Containers deeper than this add no more indentation (hostile nesting would otherwise
/// make every line as long as the nesting is deep).
const MAX_PREFIXES: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Break {
    None,
    /// A hard line break (`<br>`): two spaces and a newline.
    Hard,
    /// A plain newline (between list items).
    Line,
    /// A blank line (between blocks).
    Paragraph,
}

struct Prefix {
    /// Bytes this container adds to `Writer::continuation`.
    len: usize,
    /// A list marker waiting for the item's first line.
    marker: Option<String>,
}

pub(crate) struct Writer {
    pub(crate) out: String,
    /// Concatenated line prefixes of the open containers.
    continuation: String,
    prefixes: Vec<Prefix>,
    /// Containers past `MAX_PREFIXES`, tracked only to pop in step.
    overflow: usize,
    markers_pending: usize,
    pending: Break,
    /// Length of `continuation` that a pending blank line may use: containers opened after
    /// the break was requested do not mark the blank line before them.
    blank_prefix_len: usize,
    space: bool,
    /// `out.len()` right after the current line's prefix.
    line_start: usize,
    /// A list item has not written content yet: block breaks would push it off its marker.
    item_start: bool,
    /// Inside a heading, table cell or link: breaks become spaces.
    pub(crate) single_line: u32,
    /// Content starts of the open inline constructs.
    open: Vec<usize>,
}

impl Writer {
    pub(crate) fn new(capacity: usize) -> Writer {
        Writer {
            out: String::with_capacity(capacity),
            continuation: String::new(),
            prefixes: Vec::new(),
            overflow: 0,
            markers_pending: 0,
            pending: Break::None,
            blank_prefix_len: 0,
            space: false,
            line_start: 0,
            item_start: false,
            single_line: 0,
            open: Vec::new(),
        }
    }

    /// Empties the writer for reuse, keeping its allocations.
    pub(crate) fn reset(&mut self, single_line: u32) {
        self.out.clear();
        self.continuation.clear();
        self.prefixes.clear();
        self.overflow = 0;
        self.markers_pending = 0;
        self.pending = Break::None;
        self.blank_prefix_len = 0;
        self.space = false;
        self.line_start = 0;
        self.item_start = false;
        self.single_line = single_line;
        self.open.clear();
    }

    /// Asks for a break before the next content.
    pub(crate) fn request(&mut self, wanted: Break) {
        if self.single_line > 0 {
            // Breaks asked for inside a heading, cell or link text keep words apart only;
            // one pending from before it opened is still written in front of it.
            self.space = true;
            return;
        }
        if self.item_start {
            return;
        }
        self.set_break(wanted);
    }

    fn set_break(&mut self, wanted: Break) {
        if self.pending == Break::None {
            self.blank_prefix_len = self.continuation.len();
        }
        self.pending = if self.pending == Break::Hard && wanted == Break::Hard {
            // Two `<br>` in a row: a blank line, as the browser shows it.
            Break::Paragraph
        } else {
            self.pending.max(wanted)
        };
    }

    /// Asks for a space before the next content.
    pub(crate) fn space(&mut self) {
        self.space = true;
    }

    /// Writes the pending break, prefix and space: the next bytes are content.
    pub(crate) fn flush(&mut self) {
        if self.pending != Break::None {
            let pending = std::mem::replace(&mut self.pending, Break::None);
            {
                let before = self.out.len();
                if !self.out.is_empty() {
                    match pending {
                        Break::Hard => self.out.push_str("  \n"),
                        Break::Line => self.out.push('\n'),
                        Break::Paragraph => {
                            self.out.push('\n');
                            let limit = self.blank_prefix_len.min(self.continuation.len());
                            let blank = self.continuation.get(..limit).unwrap_or("").trim_end();
                            self.out.push_str(blank);
                            self.out.push('\n');
                        }
                        Break::None => {}
                    }
                }
                self.write_line_prefix();
                let after = self.out.len();
                if after != before {
                    for start in &mut self.open {
                        if *start == before {
                            *start = after;
                        }
                    }
                }
                self.space = false;
            }
        }
        if self.space {
            self.space = false;
            if self.out.len() != self.line_start {
                self.out.push(' ');
            }
        }
        self.item_start = false;
    }

    fn write_line_prefix(&mut self) {
        if self.markers_pending == 0 {
            self.out.push_str(&self.continuation);
        } else {
            let mut offset = 0;
            for prefix in &mut self.prefixes {
                let end = offset + prefix.len;
                match prefix.marker.take() {
                    Some(marker) => self.out.push_str(&marker),
                    None => self
                        .out
                        .push_str(self.continuation.get(offset..end).unwrap_or("")),
                }
                offset = end;
            }
            self.markers_pending = 0;
        }
        self.line_start = self.out.len();
    }

    /// Starts a new line inside a multi-line block (code, table, display math) that has
    /// already flushed; `empty` lines get the prefix without trailing spaces.
    pub(crate) fn newline(&mut self, empty: bool) {
        self.out.push('\n');
        if empty {
            self.out.push_str(self.continuation.trim_end());
        } else {
            self.out.push_str(&self.continuation);
        }
        self.line_start = self.out.len();
    }

    /// Writes markup (not escaped) as content.
    pub(crate) fn write(&mut self, markup: &str) {
        self.flush();
        self.out.push_str(markup);
    }

    /// Writes text: ASCII whitespace collapses to single spaces (newlines become line
    /// breaks when `keep_newlines`), everything else is escaped. Runs of words separated by
    /// single spaces are copied in one piece.
    pub(crate) fn text(&mut self, text: &str, keep_newlines: bool) {
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            // Whitespace: pending until the next word.
            let whitespace_start = i;
            let mut newlines = 0;
            while let Some(&byte) = bytes.get(i).filter(|b| is_collapsible(**b)) {
                newlines += usize::from(byte == b'\n');
                i += 1;
            }
            if newlines > 0 && keep_newlines {
                self.request(if newlines > 1 {
                    Break::Paragraph
                } else {
                    Break::Hard
                });
            } else if i > whitespace_start {
                self.space = true;
            }
            if i >= bytes.len() {
                break;
            }
            self.flush();
            let mut copied = i;
            if self.single_line == 0 && self.out.len() == self.line_start {
                let word_end = bytes
                    .get(i..)
                    .and_then(|rest| rest.iter().position(|b| is_collapsible(*b)))
                    .map_or(bytes.len(), |end| i + end);
                copied =
                    i + escape::push_line_start(&mut self.out, text.get(i..word_end).unwrap_or(""));
            }
            // Words and single spaces between them, escaping as we go.
            while let Some(&byte) = bytes.get(i) {
                if escape::is_special(byte) {
                    if escape::needs_escape(bytes, i) {
                        self.out.push_str(text.get(copied..i).unwrap_or(""));
                        self.out.push('\\');
                        copied = i;
                    }
                } else if is_collapsible(byte) {
                    let single_space =
                        byte == b' ' && bytes.get(i + 1).is_some_and(|next| !is_collapsible(*next));
                    if !single_space {
                        break;
                    }
                }
                i += 1;
            }
            self.out.push_str(text.get(copied..i).unwrap_or(""));
        }
    }

    /// Opens a container that prefixes its lines (`> `, list indentation); `marker` replaces
    /// the prefix on the first line. Returns false past the nesting limit (nothing opened).
    pub(crate) fn push_prefix(&mut self, continuation: &str, marker: Option<String>) -> bool {
        if self.prefixes.len() >= MAX_PREFIXES {
            self.overflow += 1;
            return false;
        }
        self.continuation.push_str(continuation);
        if marker.is_some() {
            self.markers_pending += 1;
        }
        self.prefixes.push(Prefix {
            len: continuation.len(),
            marker,
        });
        true
    }

    pub(crate) fn pop_prefix(&mut self) {
        if self.overflow > 0 {
            self.overflow -= 1;
            return;
        }
        if let Some(prefix) = self.prefixes.pop() {
            if prefix.marker.is_some() {
                self.markers_pending = self.markers_pending.saturating_sub(1);
            }
            let keep = self.continuation.len().saturating_sub(prefix.len);
            self.continuation.truncate(keep);
            self.blank_prefix_len = self.blank_prefix_len.min(keep);
        }
    }

    /// A list item opens: a new line, and no blank line before its first content.
    pub(crate) fn start_item(&mut self) {
        self.set_break(Break::Line);
        self.item_start = true;
    }

    pub(crate) fn end_item(&mut self) {
        self.item_start = false;
    }

    pub(crate) fn open_inline(&mut self) {
        self.open.push(self.out.len());
    }

    /// Closes the innermost inline construct; returns where its content starts.
    pub(crate) fn close_inline(&mut self) -> usize {
        self.open
            .pop()
            .unwrap_or(self.out.len())
            .min(self.out.len())
    }

    /// Inserts `markup` at byte `at` (a char boundary inside the open content).
    pub(crate) fn insert(&mut self, at: usize, markup: &str) {
        if !self.out.is_char_boundary(at) {
            return;
        }
        self.out.insert_str(at, markup);
        if at < self.line_start {
            self.line_start += markup.len();
        }
        for start in &mut self.open {
            if *start > at {
                *start += markup.len();
            }
        }
    }

    /// The finished Markdown, without trailing whitespace.
    pub(crate) fn finish(mut self) -> String {
        let end = self.out.trim_end().len();
        self.out.truncate(end);
        self.out
    }
}

/// Whitespace that HTML collapses (not NBSP and other Unicode spaces, which are content).
pub(crate) fn is_collapsible(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breaks_are_written_only_between_content() {
        let mut writer = Writer::new(0);
        writer.request(Break::Paragraph);
        writer.text("  a  ", false);
        writer.request(Break::Paragraph);
        writer.text(" b", false);
        writer.request(Break::Paragraph);
        assert_eq!(writer.finish(), "a\n\nb");
    }

    #[test]
    fn markers_and_prefixes() {
        let mut writer = Writer::new(0);
        writer.push_prefix("> ", None);
        writer.request(Break::Paragraph);
        writer.push_prefix("    ", Some("*   ".into()));
        writer.start_item();
        writer.text("one", false);
        writer.request(Break::Paragraph);
        writer.text("two", false);
        writer.pop_prefix();
        writer.pop_prefix();
        assert_eq!(writer.finish(), "> *   one\n>\n>     two");
    }

    #[test]
    fn two_hard_breaks_make_a_blank_line() {
        let mut writer = Writer::new(0);
        writer.text("a", false);
        writer.request(Break::Hard);
        writer.text("b", false);
        writer.request(Break::Hard);
        writer.request(Break::Hard);
        writer.text("c", false);
        assert_eq!(writer.finish(), "a  \nb\n\nc");
    }

    #[test]
    fn insert_shifts_open_starts_after_it() {
        let mut writer = Writer::new(0);
        writer.text("x", false);
        writer.open_inline();
        writer.open_inline();
        writer.text(" y", false);
        let inner = writer.close_inline();
        writer.insert(inner, "[");
        let outer = writer.close_inline();
        assert_eq!(outer, 1);
        assert_eq!(writer.finish(), "x[ y");
    }
}
