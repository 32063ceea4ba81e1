//! Makes HTML safe to hand to `tl`, which is fast but not a spec tree builder. Without this
//! pass `tl` loses or misplaces text on input browsers read fine:
//! - an end tag with whitespace (`</span\n>`, common in pretty-printed captures) or in
//!   another case than its start tag is ignored, so the element swallows what follows;
//! - an end tag that does not close the innermost open element is ignored (`<b><p>x</b>`),
//!   and implied end tags (`<li>a<li>b`, `<p>a<p>b`, `<td>a<td>b`) do not exist;
//! - `<br/>` (no space) is read as an element named `br/` that contains the rest of the page;
//!   an unquoted attribute value with `/` aborts the tag;
//! - `<` inside `<script>`/`<style>`/`<textarea>`/`<title>` content is read as a tag, and a
//!   lone `<` in text (`a < b`) starts a tag that eats the text after it;
//! - `<!DOCTYPE …>` with an identifier and `<![CDATA[…]]>` leave junk text behind.
//!
//! [`repair`] rewrites only those spots and returns the input borrowed when there are none,
//! which is the usual case for browser-serialized pages. The rewrite keeps every text
//! character; it changes only markup: end tags are written in their start tag's spelling,
//! missing ones are inserted where a browser would close the element, stray ones are
//! dropped, and `<` in raw text or in a lone position becomes `&lt;`.

use std::borrow::Cow;

use super::dom::{lookup, name_key, sorted};

/// End tags are looked for at most this far down the open-element stack: bounds the work
/// on hostile input (thousands of unclosed elements followed by stray end tags).
const SEARCH_LIMIT: usize = 256;

/// Repairs `html` for `tl` (see the module docs). Borrowed when nothing needed repair.
pub fn repair(html: &str) -> Cow<'_, str> {
    let mut repairer = Repairer {
        src: html,
        bytes: html.as_bytes(),
        out: None,
        copied: 0,
        stack: Vec::new(),
        open_counts: OpenCounts::default(),
    };
    repairer.run();
    repairer.finish()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Group {
    Paragraph,
    ListItem,
    DefinitionItem,
    Row,
    Cell,
    TableSection,
    Table,
    Anchor,
    Option,
    /// Ends the search for an open `<p>` or list item (spec: scope boundaries).
    Boundary,
    /// Closes an open `<p>` when it starts.
    ClosesParagraph,
    /// `address`, `div`: close a `<p>` but do not stop the search for an open `<li>`.
    TransparentBlock,
    Other,
}

/// What the repair pass needs to know about a tag name.
#[derive(Clone, Copy)]
struct Class {
    group: Group,
    void: bool,
    raw_text: bool,
}

impl Class {
    const fn of(group: Group) -> Class {
        Class {
            group,
            void: false,
            raw_text: false,
        }
    }
}

const VOID: Class = Class {
    group: Group::Other,
    void: true,
    raw_text: false,
};
const RAW_TEXT: Class = Class {
    group: Group::Other,
    void: false,
    raw_text: true,
};

static CLASSES: [(u128, Class); 80] = sorted([
    (name_key(b"div"), Class::of(Group::TransparentBlock)),
    (name_key(b"address"), Class::of(Group::TransparentBlock)),
    (name_key(b"p"), Class::of(Group::Paragraph)),
    (name_key(b"li"), Class::of(Group::ListItem)),
    (name_key(b"dt"), Class::of(Group::DefinitionItem)),
    (name_key(b"dd"), Class::of(Group::DefinitionItem)),
    (name_key(b"tr"), Class::of(Group::Row)),
    (name_key(b"td"), Class::of(Group::Cell)),
    (name_key(b"th"), Class::of(Group::Cell)),
    (name_key(b"thead"), Class::of(Group::TableSection)),
    (name_key(b"tbody"), Class::of(Group::TableSection)),
    (name_key(b"tfoot"), Class::of(Group::TableSection)),
    (name_key(b"table"), Class::of(Group::Table)),
    (name_key(b"a"), Class::of(Group::Anchor)),
    (name_key(b"option"), Class::of(Group::Option)),
    (name_key(b"optgroup"), Class::of(Group::Option)),
    (name_key(b"button"), Class::of(Group::Boundary)),
    (name_key(b"caption"), Class::of(Group::Boundary)),
    (name_key(b"html"), Class::of(Group::Boundary)),
    (name_key(b"template"), Class::of(Group::Boundary)),
    (name_key(b"object"), Class::of(Group::Boundary)),
    (name_key(b"marquee"), Class::of(Group::Boundary)),
    (name_key(b"applet"), Class::of(Group::Boundary)),
    (name_key(b"svg"), Class::of(Group::Boundary)),
    (name_key(b"math"), Class::of(Group::Boundary)),
    (name_key(b"article"), Class::of(Group::ClosesParagraph)),
    (name_key(b"aside"), Class::of(Group::ClosesParagraph)),
    (name_key(b"blockquote"), Class::of(Group::ClosesParagraph)),
    (name_key(b"center"), Class::of(Group::ClosesParagraph)),
    (name_key(b"details"), Class::of(Group::ClosesParagraph)),
    (name_key(b"dialog"), Class::of(Group::ClosesParagraph)),
    (name_key(b"dir"), Class::of(Group::ClosesParagraph)),
    (name_key(b"dl"), Class::of(Group::ClosesParagraph)),
    (name_key(b"fieldset"), Class::of(Group::ClosesParagraph)),
    (name_key(b"figcaption"), Class::of(Group::ClosesParagraph)),
    (name_key(b"figure"), Class::of(Group::ClosesParagraph)),
    (name_key(b"footer"), Class::of(Group::ClosesParagraph)),
    (name_key(b"form"), Class::of(Group::ClosesParagraph)),
    (name_key(b"h1"), Class::of(Group::ClosesParagraph)),
    (name_key(b"h2"), Class::of(Group::ClosesParagraph)),
    (name_key(b"h3"), Class::of(Group::ClosesParagraph)),
    (name_key(b"h4"), Class::of(Group::ClosesParagraph)),
    (name_key(b"h5"), Class::of(Group::ClosesParagraph)),
    (name_key(b"h6"), Class::of(Group::ClosesParagraph)),
    (name_key(b"header"), Class::of(Group::ClosesParagraph)),
    (name_key(b"hgroup"), Class::of(Group::ClosesParagraph)),
    (name_key(b"main"), Class::of(Group::ClosesParagraph)),
    (name_key(b"menu"), Class::of(Group::ClosesParagraph)),
    (name_key(b"nav"), Class::of(Group::ClosesParagraph)),
    (name_key(b"ol"), Class::of(Group::ClosesParagraph)),
    (name_key(b"pre"), Class::of(Group::ClosesParagraph)),
    (name_key(b"section"), Class::of(Group::ClosesParagraph)),
    (name_key(b"summary"), Class::of(Group::ClosesParagraph)),
    (name_key(b"ul"), Class::of(Group::ClosesParagraph)),
    (name_key(b"search"), Class::of(Group::ClosesParagraph)),
    (name_key(b"listing"), Class::of(Group::ClosesParagraph)),
    (name_key(b"area"), VOID),
    (name_key(b"base"), VOID),
    (name_key(b"br"), VOID),
    (name_key(b"col"), VOID),
    (name_key(b"embed"), VOID),
    (name_key(b"img"), VOID),
    (name_key(b"input"), VOID),
    (name_key(b"keygen"), VOID),
    (name_key(b"link"), VOID),
    (name_key(b"meta"), VOID),
    (name_key(b"param"), VOID),
    (name_key(b"source"), VOID),
    (name_key(b"track"), VOID),
    (name_key(b"wbr"), VOID),
    (name_key(b"script"), RAW_TEXT),
    (name_key(b"style"), RAW_TEXT),
    (name_key(b"textarea"), RAW_TEXT),
    (name_key(b"title"), RAW_TEXT),
    (name_key(b"iframe"), RAW_TEXT),
    (name_key(b"noembed"), RAW_TEXT),
    (name_key(b"noframes"), RAW_TEXT),
    (name_key(b"noscript"), RAW_TEXT),
    (
        name_key(b"hr"),
        Class {
            group: Group::ClosesParagraph,
            void: true,
            raw_text: false,
        },
    ),
    (
        name_key(b"xmp"),
        Class {
            group: Group::ClosesParagraph,
            void: false,
            raw_text: true,
        },
    ),
]);

fn classify(name: &[u8]) -> Class {
    lookup(&CLASSES, name).unwrap_or(Class::of(Group::Other))
}

/// Bytes that end a plain run inside a start tag.
static TAG_SPECIAL: [bool; 256] = {
    let mut table = [false; 256];
    table[b'>' as usize] = true;
    table[b'/' as usize] = true;
    table[b'=' as usize] = true;
    table[b'"' as usize] = true;
    table[b'\'' as usize] = true;
    table
};

/// The bytes `tl` accepts in a tag name, minus `/` (which `tl` also takes, wrongly).
static NAME_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        let b = byte as u8;
        table[byte] = b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':' | b'+');
        byte += 1;
    }
    table
};

fn is_name_byte(byte: u8) -> bool {
    NAME_BYTES[usize::from(byte)]
}

fn is_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')
}

/// How many elements of a kind are open: lets a start tag skip the stack search for an
/// element to close implicitly when there is none.
#[derive(Default)]
struct OpenCounts {
    paragraphs: usize,
    list_items: usize,
    definition_items: usize,
    rows: usize,
    cells: usize,
    sections: usize,
    anchors: usize,
    options: usize,
}

impl OpenCounts {
    fn slot(&mut self, group: Group) -> Option<&mut usize> {
        match group {
            Group::Paragraph => Some(&mut self.paragraphs),
            Group::ListItem => Some(&mut self.list_items),
            Group::DefinitionItem => Some(&mut self.definition_items),
            Group::Row => Some(&mut self.rows),
            Group::Cell => Some(&mut self.cells),
            Group::TableSection => Some(&mut self.sections),
            Group::Anchor => Some(&mut self.anchors),
            Group::Option => Some(&mut self.options),
            _ => None,
        }
    }

    fn count(&mut self, group: Group) -> usize {
        self.slot(group).map_or(0, |count| *count)
    }
}

struct OpenElement {
    /// The start tag's name as written (byte range in the source).
    name_start: usize,
    name_end: usize,
    group: Group,
}

struct Repairer<'a> {
    src: &'a str,
    bytes: &'a [u8],
    /// The rewritten document, created at the first change.
    out: Option<String>,
    /// Source bytes before this offset are already in `out` (or unchanged, when `out` is None).
    copied: usize,
    stack: Vec<OpenElement>,
    open_counts: OpenCounts,
}

/// A parsed start tag.
struct StartTag {
    name_end: usize,
    /// Offset just past the closing `>`.
    end: usize,
    self_closing: bool,
    /// `tl` would misread it: it must be rewritten in canonical form.
    needs_rewrite: bool,
}

impl<'a> Repairer<'a> {
    fn finish(mut self) -> Cow<'a, str> {
        match self.out.take() {
            None => Cow::Borrowed(self.src),
            Some(mut out) => {
                out.push_str(self.src.get(self.copied..).unwrap_or(""));
                Cow::Owned(out)
            }
        }
    }

    /// Replaces source bytes `start..end` with `with` in the output.
    fn replace(&mut self, start: usize, end: usize, with: &str) {
        let src = self.src;
        let out = self
            .out
            .get_or_insert_with(|| String::with_capacity(src.len() + src.len() / 64 + 16));
        out.push_str(src.get(self.copied..start).unwrap_or(""));
        out.push_str(with);
        self.copied = end;
    }

    fn name(&self, element: &OpenElement) -> &'a str {
        self.src
            .get(element.name_start..element.name_end)
            .unwrap_or("")
    }

    fn run(&mut self) {
        let mut pos = 0;
        while let Some(offset) = memchr::memchr(b'<', self.bytes.get(pos..).unwrap_or(&[])) {
            let at = pos + offset;
            pos = self.markup(at);
        }
    }

    /// Handles the markup starting with `<` at `at`; returns where scanning resumes.
    fn markup(&mut self, at: usize) -> usize {
        let next = self.bytes.get(at + 1).copied();
        match next {
            Some(byte) if byte.is_ascii_alphabetic() => self.start_tag(at),
            Some(b'/') => self.end_tag(at),
            Some(b'!') => self.declaration(at),
            Some(b'?') => self.drop_to_gt(at),
            _ => {
                self.replace(at, at + 1, "&lt;");
                at + 1
            }
        }
    }

    fn drop_to_gt(&mut self, at: usize) -> usize {
        let end = memchr(b'>', self.bytes.get(at..).unwrap_or(&[]))
            .map_or(self.bytes.len(), |i| at + i + 1);
        self.replace(at, end, "");
        end
    }

    fn declaration(&mut self, at: usize) -> usize {
        let rest = self.bytes.get(at..).unwrap_or(&[]);
        if rest.starts_with(b"<!--") {
            let browser_end = if rest.starts_with(b"<!-->") {
                Some(at + 5)
            } else if rest.starts_with(b"<!--->") {
                Some(at + 6)
            } else {
                memmem(rest.get(4..).unwrap_or(&[]), b"-->").map(|i| at + 4 + i + 3)
            };
            let Some(end) = browser_end else {
                // An unclosed comment runs to the end, as in browsers.
                return self.bytes.len();
            };
            if tl_comment_end(self.bytes, at) != Some(end) {
                self.replace(at, end, "");
            }
            return end;
        }
        // `tl` understands exactly `<!DOCTYPE html>`; anything else here is a bogus comment.
        let end = memchr(b'>', rest).map_or(self.bytes.len(), |i| at + i + 1);
        let is_plain_doctype = self
            .bytes
            .get(at..end)
            .is_some_and(|tag| tag.eq_ignore_ascii_case(b"<!doctype html>"));
        if !is_plain_doctype {
            self.replace(at, end, "");
        }
        end
    }

    fn parse_start_tag(&self, at: usize) -> Option<StartTag> {
        let bytes = self.bytes;
        let mut i = at + 1;
        while bytes.get(i).is_some_and(|b| is_name_byte(*b)) {
            i += 1;
        }
        let name_end = i;
        if let Some(tag) = self.parse_plain_start_tag(name_end) {
            return Some(tag);
        }
        let mut needs_rewrite = bytes.get(i) == Some(&b'/');
        let mut self_closing = false;
        loop {
            let byte = *bytes.get(i)?;
            match byte {
                b'>' => {
                    return Some(StartTag {
                        name_end,
                        end: i + 1,
                        self_closing,
                        needs_rewrite,
                    });
                }
                b'/' => {
                    if bytes.get(i + 1) == Some(&b'>') {
                        self_closing = true;
                        // `tl` reads a `/` that touches a bare word into that word.
                        let previous = bytes.get(i.wrapping_sub(1)).copied().unwrap_or(b' ');
                        if !is_space(previous) && previous != b'"' && previous != b'\'' {
                            needs_rewrite = true;
                        }
                    } else {
                        needs_rewrite = true;
                    }
                    i += 1;
                }
                byte if is_space(byte) => i += 1,
                _ => {
                    self_closing = false;
                    // Attribute name, then an optional value.
                    while bytes
                        .get(i)
                        .is_some_and(|b| !is_space(*b) && !matches!(b, b'/' | b'>' | b'='))
                    {
                        i += 1;
                    }
                    let mut j = i;
                    while bytes.get(j).is_some_and(|b| is_space(*b)) {
                        j += 1;
                    }
                    if bytes.get(j) != Some(&b'=') {
                        continue;
                    }
                    j += 1;
                    while bytes.get(j).is_some_and(|b| is_space(*b)) {
                        j += 1;
                    }
                    match bytes.get(j) {
                        Some(quote @ (b'"' | b'\'')) => {
                            let close = memchr(*quote, bytes.get(j + 1..)?)?;
                            i = j + 1 + close + 1;
                        }
                        _ => {
                            let start = j;
                            while bytes.get(j).is_some_and(|b| !is_space(*b) && *b != b'>') {
                                j += 1;
                            }
                            // `tl` ends an unquoted value at `/` and then fails on the tag.
                            if bytes
                                .get(start..j)
                                .is_some_and(|value| value.contains(&b'/'))
                            {
                                needs_rewrite = true;
                            }
                            i = j;
                        }
                    }
                }
            }
        }
    }

    /// The common case, by whole-chunk searches: attributes with quoted values only, `/`
    /// nowhere outside them except a final `/>`. None means: parse byte by byte.
    fn parse_plain_start_tag(&self, name_end: usize) -> Option<StartTag> {
        let bytes = self.bytes;
        let mut i = name_end;
        if !bytes.get(i).is_some_and(|b| is_space(*b) || *b == b'>') {
            return None;
        }
        // Where the current run of unquoted bytes (names, spaces, `=`) began.
        let mut unquoted_start = i;
        let mut slash = None;
        loop {
            let byte = *bytes.get(i)?;
            if !TAG_SPECIAL[usize::from(byte)] {
                i += 1;
                continue;
            }
            match byte {
                b'>' => {
                    let self_closing = match slash {
                        None => false,
                        // One `/` just before `>`, after a quote or a space: `tl` agrees.
                        Some(at) => {
                            let tail = bytes.get(at + 1..i)?;
                            let before = bytes.get(unquoted_start..at)?;
                            if !tail.iter().all(|b| is_space(*b))
                                || before.last().is_some_and(|b| !is_space(*b))
                            {
                                return None;
                            }
                            true
                        }
                    };
                    return Some(StartTag {
                        name_end,
                        end: i + 1,
                        self_closing,
                        needs_rewrite: false,
                    });
                }
                b'/' => {
                    if slash.is_some() {
                        return None;
                    }
                    slash = Some(i);
                    i += 1;
                }
                b'=' => {
                    // Only a quoted value is plain.
                    i += 1;
                    while bytes.get(i).is_some_and(|b| is_space(*b)) {
                        i += 1;
                    }
                    let quote = *bytes.get(i)?;
                    if slash.is_some() || (quote != b'"' && quote != b'\'') {
                        return None;
                    }
                    let close = memchr::memchr(quote, bytes.get(i + 1..)?)?;
                    i += 1 + close + 1;
                    if !bytes
                        .get(i)
                        .is_some_and(|b| is_space(*b) || *b == b'>' || *b == b'/')
                    {
                        return None;
                    }
                    unquoted_start = i;
                }
                // A quote not after `=`.
                _ => return None,
            }
        }
    }

    /// Writes the tag at `at` in a form `tl` reads correctly: name, then each attribute with
    /// a double-quoted value.
    fn rewrite_start_tag(&mut self, at: usize, tag: &StartTag, self_closing: bool) {
        let bytes = self.bytes;
        let mut text = String::with_capacity(tag.end - at + 8);
        text.push('<');
        text.push_str(self.src.get(at + 1..tag.name_end).unwrap_or(""));
        let mut i = tag.name_end;
        let end = tag.end.saturating_sub(1);
        while i < end {
            let byte = bytes.get(i).copied().unwrap_or(b'>');
            if is_space(byte) || byte == b'/' {
                i += 1;
                continue;
            }
            let name_start = i;
            while i < end
                && bytes
                    .get(i)
                    .is_some_and(|b| !is_space(*b) && !matches!(b, b'/' | b'='))
            {
                i += 1;
            }
            let name = self.src.get(name_start..i).unwrap_or("");
            let mut j = i;
            while j < end && bytes.get(j).is_some_and(|b| is_space(*b)) {
                j += 1;
            }
            text.push(' ');
            text.push_str(name);
            if bytes.get(j) != Some(&b'=') || j >= end {
                continue;
            }
            j += 1;
            while j < end && bytes.get(j).is_some_and(|b| is_space(*b)) {
                j += 1;
            }
            let (value_start, value_end, resume) = match bytes.get(j) {
                Some(quote @ (b'"' | b'\'')) => {
                    let close = memchr(*quote, bytes.get(j + 1..end).unwrap_or(&[]))
                        .map_or(end, |c| j + 1 + c);
                    (j + 1, close, close + 1)
                }
                _ => {
                    let start = j;
                    while j < end && bytes.get(j).is_some_and(|b| !is_space(*b)) {
                        j += 1;
                    }
                    (start, j, j)
                }
            };
            text.push_str("=\"");
            for ch in self.src.get(value_start..value_end).unwrap_or("").chars() {
                match ch {
                    '"' => text.push_str("&quot;"),
                    _ => text.push(ch),
                }
            }
            text.push('"');
            i = resume;
        }
        text.push_str(if self_closing { " />" } else { ">" });
        self.replace(at, tag.end, &text);
    }

    fn start_tag(&mut self, at: usize) -> usize {
        let Some(tag) = self.parse_start_tag(at) else {
            // EOF inside the tag: browsers drop it, and so does `tl`.
            return self.bytes.len();
        };
        let name_start = at + 1;
        let name = self.bytes.get(name_start..tag.name_end).unwrap_or(&[]);
        let class = classify(name);
        let (group, void) = (class.group, class.void);
        // `tl` knows void elements only in lowercase: mark other spellings self-closing.
        let void_needs_slash = void && !tag.self_closing && name.iter().any(u8::is_ascii_uppercase);
        self.close_implied(at, group);
        if tag.needs_rewrite || void_needs_slash {
            self.rewrite_start_tag(at, &tag, tag.self_closing || void);
        }
        if void || tag.self_closing {
            return tag.end;
        }
        if class.raw_text {
            return self.raw_text(tag.end, name_start, tag.name_end);
        }
        if let Some(count) = self.open_counts.slot(group) {
            *count += 1;
        }
        self.stack.push(OpenElement {
            name_start,
            name_end: tag.name_end,
            group,
        });
        tag.end
    }

    /// Content of a raw-text element starting at `from`: `<` escaped so `tl` sees no tags,
    /// end tag written in the start tag's spelling.
    fn raw_text(&mut self, from: usize, name_start: usize, name_end: usize) -> usize {
        let name = self.bytes.get(name_start..name_end).unwrap_or(&[]);
        let mut search = from;
        let (content_end, tag_end) = loop {
            match memmem(self.bytes.get(search..).unwrap_or(&[]), b"</") {
                None => break (self.bytes.len(), None),
                Some(i) => {
                    let lt = search + i;
                    let after = lt + 2 + name.len();
                    let matches = self
                        .bytes
                        .get(lt + 2..after)
                        .is_some_and(|n| n.eq_ignore_ascii_case(name))
                        && self
                            .bytes
                            .get(after)
                            .is_none_or(|b| is_space(*b) || matches!(b, b'/' | b'>'));
                    if matches {
                        let gt = memchr(b'>', self.bytes.get(after..).unwrap_or(&[]))
                            .map_or(self.bytes.len(), |g| after + g + 1);
                        break (lt, Some(gt));
                    }
                    search = lt + 2;
                }
            }
        };
        let mut at = from;
        while let Some(i) = memchr(b'<', self.bytes.get(at..content_end).unwrap_or(&[])) {
            self.replace(at + i, at + i + 1, "&lt;");
            at += i + 1;
        }
        let Some(tag_end) = tag_end else {
            return self.bytes.len();
        };
        let canonical_len = 3 + name.len();
        if tag_end - content_end != canonical_len
            || self
                .bytes
                .get(content_end + 2..content_end + 2 + name.len())
                != Some(name)
        {
            let close = format!("</{}>", self.src.get(name_start..name_end).unwrap_or(""));
            self.replace(content_end, tag_end, &close);
        }
        tag_end
    }

    /// Before a start tag of `group` at `at`, closes what a browser closes implicitly.
    fn close_implied(&mut self, at: usize, group: Group) {
        match group {
            Group::ListItem => self.close_open(at, Group::ListItem, |g| {
                matches!(
                    g,
                    Group::Paragraph | Group::TransparentBlock | Group::Other | Group::Anchor
                )
            }),
            Group::DefinitionItem => self.close_open(at, Group::DefinitionItem, |g| {
                matches!(
                    g,
                    Group::Paragraph | Group::TransparentBlock | Group::Other | Group::Anchor
                )
            }),
            Group::Cell => self.close_open(at, Group::Cell, |g| {
                !matches!(
                    g,
                    Group::Row | Group::TableSection | Group::Table | Group::Boundary
                )
            }),
            Group::Row => self.close_open(at, Group::Row, |g| {
                !matches!(g, Group::TableSection | Group::Table | Group::Boundary)
            }),
            Group::TableSection => self.close_open(at, Group::TableSection, |g| {
                !matches!(g, Group::Table | Group::Boundary)
            }),
            Group::Anchor => self.close_open(at, Group::Anchor, |g| {
                !matches!(g, Group::Table | Group::Cell | Group::Boundary)
            }),
            Group::Option => self.close_open(at, Group::Option, |g| g != Group::Boundary),
            _ => {}
        }
        if matches!(
            group,
            Group::Paragraph
                | Group::ClosesParagraph
                | Group::TransparentBlock
                | Group::ListItem
                | Group::DefinitionItem
                | Group::Table
        ) {
            self.close_open(at, Group::Paragraph, |g| {
                !matches!(g, Group::Boundary | Group::Table | Group::Cell)
            });
        }
    }

    /// Closes the nearest open element of `target` group, and everything above it, if it is
    /// found before an element for which `passable` is false.
    fn close_open(&mut self, at: usize, target: Group, passable: impl Fn(Group) -> bool) {
        if self.open_counts.count(target) == 0 {
            return;
        }
        let mut found = None;
        for (depth, open) in self.stack.iter().rev().take(SEARCH_LIMIT).enumerate() {
            if open.group == target {
                found = Some(depth);
                break;
            }
            if !passable(open.group) {
                break;
            }
        }
        if let Some(depth) = found {
            let mut closes = String::new();
            self.pop_into(depth + 1, &mut closes);
            self.replace(at, at, &closes);
        }
    }

    /// Pops `count` open elements, appending their end tags to `closes`.
    fn pop_into(&mut self, count: usize, closes: &mut String) {
        for _ in 0..count {
            let Some(open) = self.stack.pop() else { return };
            if let Some(slot) = self.open_counts.slot(open.group) {
                *slot = slot.saturating_sub(1);
            }
            closes.push_str("</");
            closes.push_str(self.name(&open));
            closes.push('>');
        }
    }

    fn end_tag(&mut self, at: usize) -> usize {
        let bytes = self.bytes;
        let name_start = at + 2;
        if !bytes.get(name_start).is_some_and(u8::is_ascii_alphabetic) {
            // `</>` and `</ 3…>` are dropped by browsers.
            return self.drop_to_gt(at);
        }
        let mut name_end = name_start;
        while bytes.get(name_end).is_some_and(|b| is_name_byte(*b)) {
            name_end += 1;
        }
        let gt = if bytes.get(name_end) == Some(&b'>') {
            Some(0)
        } else {
            memchr(b'>', bytes.get(name_end..).unwrap_or(&[]))
        };
        let Some(gt) = gt else {
            self.replace(at, bytes.len(), "");
            return bytes.len();
        };
        let end = name_end + gt + 1;
        let name = bytes.get(name_start..name_end).unwrap_or(&[]);
        // The usual case: `</name>` closing the innermost element, spelled the same.
        let closes_innermost = self
            .stack
            .last()
            .is_some_and(|open| bytes.get(open.name_start..open.name_end) == Some(name));
        if gt == 0 && closes_innermost {
            let slot = self
                .stack
                .pop()
                .and_then(|open| self.open_counts.slot(open.group));
            if let Some(slot) = slot {
                *slot = slot.saturating_sub(1);
            }
            return end;
        }
        let group = classify(name).group;
        let table_part = matches!(
            group,
            Group::Table | Group::TableSection | Group::Row | Group::Cell
        );
        let mut found = None;
        for (depth, open) in self.stack.iter().rev().take(SEARCH_LIMIT).enumerate() {
            let open_name = self
                .bytes
                .get(open.name_start..open.name_end)
                .unwrap_or(&[]);
            if open_name.eq_ignore_ascii_case(name) {
                found = Some(depth);
                break;
            }
            // An end tag does not reach out of a table cell or other scope boundary.
            if !table_part && matches!(open.group, Group::Table | Group::Cell | Group::Boundary) {
                break;
            }
        }
        match found {
            Some(0) => {
                let open_name = self
                    .stack
                    .last()
                    .map(|open| (open.name_start, open.name_end));
                let exact = open_name.is_some_and(|(s, e)| {
                    end == name_end + 1 && self.bytes.get(s..e) == Some(name)
                });
                let mut closes = String::new();
                self.pop_into(1, &mut closes);
                if !exact {
                    self.replace(at, end, &closes);
                }
            }
            Some(depth) => {
                let mut closes = String::new();
                self.pop_into(depth + 1, &mut closes);
                self.replace(at, end, &closes);
            }
            None => {
                // Browsers read a stray `</br>` as `<br>` and a stray `</p>` as `<p></p>`.
                let with = if name.eq_ignore_ascii_case(b"br") {
                    "<br>"
                } else if name.eq_ignore_ascii_case(b"p") {
                    "<p></p>"
                } else {
                    ""
                };
                self.replace(at, end, with);
            }
        }
        end
    }
}

/// Bytes looked at one by one before handing a search to `memchr`: the distances in
/// markup are mostly short, where a plain loop beats the vectorised search's setup.
const SHORT_SCAN: usize = 24;

fn memchr(needle: u8, haystack: &[u8]) -> Option<usize> {
    let (head, tail) = haystack.split_at(haystack.len().min(SHORT_SCAN));
    match head.iter().position(|&b| b == needle) {
        Some(i) => Some(i),
        None => memchr::memchr(needle, tail).map(|i| i + SHORT_SCAN),
    }
}

fn memmem(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

/// Where `tl` ends the comment that starts at `at` (`<!--`): it looks for `--` followed by
/// `>`, but after a `--` that is not followed by `>` it skips one more byte.
fn tl_comment_end(bytes: &[u8], at: usize) -> Option<usize> {
    let mut i = at + 2;
    while i < bytes.len() {
        if bytes.get(i..i + 2) == Some(b"--") {
            i += 2;
            if bytes.get(i) == Some(&b'>') {
                return Some(i + 1);
            }
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repaired(html: &str) -> String {
        repair(html).into_owned()
    }

    #[test]
    fn clean_markup_is_borrowed() {
        let html = r#"<!DOCTYPE html><div class="a" data-x='1 > 0'><p>x<br>y<img src="a.png" /></p><!-- note --></div>"#;
        assert!(matches!(repair(html), Cow::Borrowed(_)));
    }

    #[test]
    fn end_tags_take_their_start_tag_spelling() {
        assert_eq!(repaired("<span\n>a</span\n>b"), "<span\n>a</span>b");
        assert_eq!(repaired("<DIV>a</div>"), "<DIV>a</DIV>");
        assert_eq!(repaired("<p>a</p class=x>"), "<p>a</p>");
    }

    #[test]
    fn slashes_tl_would_misread_are_rewritten() {
        assert_eq!(repaired("a<br/>b"), "a<br />b");
        assert_eq!(repaired("<a href=/x/y>t</a>"), r#"<a href="/x/y">t</a>"#);
        assert_eq!(repaired(r#"<div hidden/>x"#), r#"<div hidden />x"#);
        assert_eq!(repaired("<BR>x"), "<BR />x");
        assert_eq!(
            repaired(r#"<img alt='say "hi"' src=a/b.png>"#),
            r#"<img alt="say &quot;hi&quot;" src="a/b.png" />"#
        );
    }

    #[test]
    fn implied_end_tags_are_inserted() {
        assert_eq!(
            repaired("<ul><li>a<li>b</ul>"),
            "<ul><li>a</li><li>b</li></ul>"
        );
        assert_eq!(repaired("<p>a<p>b"), "<p>a</p><p>b");
        assert_eq!(repaired("<p>a<div>b</div>"), "<p>a</p><div>b</div>");
        assert_eq!(
            repaired("<table><tr><td>a<td>b<tr><td>c</table>"),
            "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>"
        );
        assert_eq!(repaired("<li><div>a<li>b"), "<li><div>a</div></li><li>b");
        assert_eq!(
            repaired("<a href=\"1\">x<a href=\"2\">y</a>"),
            "<a href=\"1\">x</a><a href=\"2\">y</a>"
        );
    }

    #[test]
    fn misnested_and_stray_end_tags() {
        assert_eq!(repaired("<b><i>x</b>y</i>"), "<b><i>x</i></b>y");
        assert_eq!(repaired("a</span>b"), "ab");
        assert_eq!(repaired("a</br>b"), "a<br>b");
        assert_eq!(repaired("a</p>b"), "a<p></p>b");
        assert_eq!(
            repaired("<table><tr><td><div>x</td></tr></table>"),
            "<table><tr><td><div>x</div></td></tr></table>"
        );
        // An end tag does not reach out of a cell.
        assert_eq!(
            repaired("<div><table><tr><td>x</div>y</td>"),
            "<div><table><tr><td>xy</td>"
        );
    }

    #[test]
    fn raw_text_and_lone_angle_brackets() {
        assert_eq!(
            repaired("<script>if (a<b) x()</script><p>t</p>"),
            "<script>if (a&lt;b) x()</script><p>t</p>"
        );
        assert_eq!(repaired("<style>a>b{}</STYLE >x"), "<style>a>b{}</style>x");
        assert_eq!(
            repaired("<textarea><p>draft</textarea>"),
            "<textarea>&lt;p>draft</textarea>"
        );
        assert_eq!(
            repaired("3 < 5 and 1<2 <= x"),
            "3 &lt; 5 and 1&lt;2 &lt;= x"
        );
    }

    #[test]
    fn declarations_and_bogus_comments() {
        assert_eq!(repaired("<!DOCTYPE html PUBLIC \"x\">a"), "a");
        assert_eq!(repaired("<?xml version=\"1.0\"?>a"), "a");
        assert_eq!(repaired("a<![CDATA[x]]>b"), "ab");
        // `tl` misreads `<!---->` but not `<!-->`.
        assert_eq!(repaired("a<!---->b<!-->c"), "ab<!-->c");
        assert_eq!(repaired("a<!-- x -->b"), "a<!-- x -->b");
        assert_eq!(repaired("a</>b</ 3>c"), "abc");
    }

    #[test]
    fn tl_reads_the_repaired_tree() {
        let source = repair("<ul><li>a<li>b</ul><p>c<br/>d</p>");
        let dom = tl::parse(&source, tl::ParserOptions::default()).expect("parses");
        assert_eq!(dom.children().len(), 2, "ul and p at the top level");
    }
}
