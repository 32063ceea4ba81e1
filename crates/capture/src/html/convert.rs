//! The tree walk: turns `tl` nodes into Markdown through a [`Writer`]. The walk keeps an
//! explicit stack of open elements (no recursion), so nesting depth cannot overflow the
//! call stack.

use tl::{HTMLTag, Node, NodeHandle, Parser};

use super::code;
use super::dom::{self, Kind};
use super::escape;
use super::writer::{Break, Writer};

/// What to do when an element's children are done.
enum Exit {
    Nothing,
    Block,
    /// A table part or block inside single-line content: keep words apart.
    Spaced,
    Heading(u8),
    Emphasis,
    Strong,
    Strike,
    Link(NodeHandle),
    List {
        ordered: bool,
        next_number: u64,
        in_item: bool,
    },
    Item {
        prefixed: bool,
    },
    Quote {
        prefixed: bool,
    },
}

struct Frame {
    element: NodeHandle,
    /// Index of the next child to visit.
    next: usize,
    exit: Exit,
    /// The `keep_newlines` state to restore on exit, when this element changed it.
    restore_newlines: Option<bool>,
}

#[derive(Default)]
struct Depths {
    emphasis: u32,
    strong: u32,
    strike: u32,
    link: u32,
    /// Inside a ChatGPT citation pill's link.
    citation: u32,
}

pub(crate) struct Converter<'p, 'a> {
    parser: &'p Parser<'a>,
    writer: Writer,
    frames: Vec<Frame>,
    /// Writers for table cells, kept for reuse.
    spare_writers: Vec<Writer>,
    depths: Depths,
    /// Inside `white-space: pre-wrap` text (Tailwind `whitespace-pre*` classes).
    keep_newlines: bool,
    /// Last node id of the outermost math element found to have no TeX source: math nested
    /// in it has none either, so it is not searched again.
    no_tex_until: u32,
}

/// One rendered table cell.
struct Cell {
    text: std::ops::Range<usize>,
    span: usize,
    /// The `td`/`th`, for the header row's alignment.
    element: NodeHandle,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Align {
    None,
    Left,
    Center,
    Right,
}

impl<'p, 'a> Converter<'p, 'a> {
    pub(crate) fn new(parser: &'p Parser<'a>, capacity: usize) -> Self {
        Converter {
            parser,
            writer: Writer::new(capacity),
            frames: Vec::new(),
            spare_writers: Vec::new(),
            depths: Depths::default(),
            keep_newlines: false,
            no_tex_until: 0,
        }
    }

    pub(crate) fn finish(self) -> String {
        self.writer.finish()
    }

    /// Converts `node` and everything inside it.
    pub(crate) fn convert(&mut self, node: NodeHandle) {
        let base = self.frames.len();
        self.visit(node);
        self.run(base);
    }

    fn convert_children(&mut self, element: NodeHandle) {
        let base = self.frames.len();
        self.push(element, Exit::Nothing, None);
        self.run(base);
    }

    /// Processes frames until the stack is back to `base` entries.
    fn run(&mut self, base: usize) {
        while self.frames.len() > base {
            let Some(frame) = self.frames.last_mut() else {
                break;
            };
            match dom::child_at(self.parser, frame.element, frame.next) {
                Some(child) => {
                    frame.next += 1;
                    self.visit(child);
                }
                None => {
                    if let Some(frame) = self.frames.pop() {
                        self.leave(frame);
                    }
                }
            }
        }
    }

    fn visit(&mut self, handle: NodeHandle) {
        let parser = self.parser;
        match handle.get(parser) {
            Some(Node::Raw(raw)) => {
                let text = dom::decode_bytes(raw.as_bytes());
                if self.depths.citation > 0 {
                    // A pill shows source names and "+2"-style counters of further sources.
                    if is_source_counter(&text) {
                        return;
                    }
                    self.writer.space();
                }
                self.writer.text(&text, self.keep_newlines);
            }
            Some(Node::Tag(tag)) => self.enter(handle, tag),
            _ => {}
        }
    }

    fn push(&mut self, element: NodeHandle, exit: Exit, restore_newlines: Option<bool>) {
        self.frames.push(Frame {
            element,
            next: 0,
            exit,
            restore_newlines,
        });
    }

    fn enter(&mut self, handle: NodeHandle, tag: &'p HTMLTag<'a>) {
        let kind = dom::kind_of(dom::tag_name(tag));
        if kind == Kind::Drop {
            return;
        }
        let classes = ClassFlags::of(dom::class_bytes(tag));
        if classes.katex_mathml {
            // The screen-reader copy; reached only when the TeX source was missing.
            return;
        }
        if (classes.katex || classes.katex_display) && self.math(handle, classes.katex_display) {
            return;
        }
        let single_line = self.writer.single_line > 0;
        let exit = match kind {
            Kind::Drop => return,
            Kind::Math => {
                let display = dom::attr_raw(tag, "display") == Some(b"block".as_slice());
                if self.math(handle, display) {
                    return;
                }
                Exit::Nothing
            }
            Kind::Block | Kind::Paragraph | Kind::Caption | Kind::TableSection | Kind::Row => {
                if kind == Kind::Block && self.is_code_label(tag) {
                    return;
                }
                if single_line {
                    self.writer.space();
                    Exit::Spaced
                } else {
                    self.writer.request(Break::Paragraph);
                    Exit::Block
                }
            }
            Kind::Cell => {
                self.writer.space();
                Exit::Spaced
            }
            Kind::Heading(level) if !single_line => {
                self.writer.request(Break::Paragraph);
                self.writer.open_inline();
                self.writer.single_line += 1;
                Exit::Heading(level)
            }
            Kind::Heading(_) => {
                self.writer.space();
                Exit::Spaced
            }
            Kind::Blockquote
            | Kind::List { .. }
            | Kind::Item
            | Kind::Table
            | Kind::Rule
            | Kind::Pre
                if single_line =>
            {
                self.writer.space();
                if kind == Kind::Pre {
                    self.code_block(handle);
                    self.writer.space();
                    return;
                }
                Exit::Spaced
            }
            Kind::Blockquote => {
                self.writer.request(Break::Paragraph);
                Exit::Quote {
                    prefixed: self.writer.push_prefix("> ", None),
                }
            }
            Kind::List { ordered } => {
                let in_item = matches!(
                    self.frames.last(),
                    Some(Frame {
                        exit: Exit::Item { .. },
                        ..
                    })
                );
                self.writer.request(if in_item {
                    Break::Line
                } else {
                    Break::Paragraph
                });
                let start = dom::attr(tag, "start")
                    .and_then(|s| s.trim().parse::<u64>().ok())
                    .unwrap_or(1)
                    .min(999_999_999);
                Exit::List {
                    ordered,
                    next_number: start,
                    in_item,
                }
            }
            Kind::Item => self.start_item(),
            Kind::Pre => {
                self.code_block(handle);
                return;
            }
            Kind::Table => {
                self.table(handle);
                return;
            }
            Kind::Rule => {
                self.writer.request(Break::Paragraph);
                self.writer.write("* * *");
                self.writer.request(Break::Paragraph);
                return;
            }
            Kind::Emphasis if self.depths.emphasis == 0 => {
                self.depths.emphasis += 1;
                self.writer.open_inline();
                Exit::Emphasis
            }
            Kind::Strong if self.depths.strong == 0 => {
                self.depths.strong += 1;
                self.writer.open_inline();
                Exit::Strong
            }
            Kind::Strike if self.depths.strike == 0 => {
                self.depths.strike += 1;
                self.writer.open_inline();
                Exit::Strike
            }
            Kind::Link if self.depths.link == 0 && usable_link(tag) => {
                self.depths.link += 1;
                if self.in_citation_pill() {
                    self.depths.citation += 1;
                }
                self.writer.open_inline();
                self.writer.single_line += 1;
                Exit::Link(handle)
            }
            Kind::Code => {
                self.inline_code(handle);
                return;
            }
            Kind::Image => {
                self.image(tag);
                return;
            }
            Kind::Break => {
                if single_line {
                    self.writer.space();
                } else {
                    self.writer.request(Break::Hard);
                }
                return;
            }
            Kind::Input => {
                if dom::attr(tag, "type").is_some_and(|t| t.eq_ignore_ascii_case("checkbox")) {
                    self.writer.write(if dom::has_attr(tag, "checked") {
                        "[x]"
                    } else {
                        "[ ]"
                    });
                    self.writer.space();
                }
                return;
            }
            Kind::Emphasis | Kind::Strong | Kind::Strike | Kind::Link | Kind::Inline => {
                Exit::Nothing
            }
        };
        let restore_newlines = self.whitespace_mode(classes);
        self.push(handle, exit, restore_newlines);
    }

    fn restore(&mut self, restore_newlines: Option<bool>) {
        if let Some(keep) = restore_newlines {
            self.keep_newlines = keep;
        }
    }

    /// Tailwind's `whitespace-pre*` classes keep newlines; returns the state to restore.
    fn whitespace_mode(&mut self, classes: ClassFlags) -> Option<bool> {
        let keep = classes.keep_newlines?;
        Some(std::mem::replace(&mut self.keep_newlines, keep))
    }

    fn start_item(&mut self) -> Exit {
        let mut marker = String::from("*   ");
        if let Some(Frame {
            exit:
                Exit::List {
                    ordered: true,
                    next_number,
                    ..
                },
            ..
        }) = self.frames.last_mut()
        {
            marker = format!("{next_number}.  ");
            *next_number = next_number.saturating_add(1);
        }
        let indent = " ".repeat(marker.len());
        let prefixed = self.writer.push_prefix(&indent, Some(marker));
        if prefixed {
            self.writer.start_item();
        } else {
            self.writer.request(Break::Line);
        }
        Exit::Item { prefixed }
    }

    fn leave(&mut self, frame: Frame) {
        self.restore(frame.restore_newlines);
        match frame.exit {
            Exit::Nothing => {}
            Exit::Block => self.writer.request(Break::Paragraph),
            Exit::Spaced => self.writer.space(),
            Exit::Heading(level) => {
                self.writer.single_line = self.writer.single_line.saturating_sub(1);
                let start = self.writer.close_inline();
                if !self.writer.out.get(start..).unwrap_or("").trim().is_empty() {
                    let marker = format!("{} ", "#".repeat(usize::from(level)));
                    self.writer.insert(start, &marker);
                }
                self.writer.request(Break::Paragraph);
            }
            Exit::Emphasis => {
                self.depths.emphasis -= 1;
                let start = self.writer.close_inline();
                let delimiter = if self.is_intraword(start) { "*" } else { "_" };
                self.wrap(start, delimiter, delimiter);
            }
            Exit::Strong => {
                self.depths.strong -= 1;
                let start = self.writer.close_inline();
                self.wrap(start, "**", "**");
            }
            Exit::Strike => {
                self.depths.strike -= 1;
                let start = self.writer.close_inline();
                self.wrap(start, "~~", "~~");
            }
            Exit::Link(handle) => {
                self.depths.link -= 1;
                self.depths.citation = self.depths.citation.saturating_sub(1);
                self.writer.single_line = self.writer.single_line.saturating_sub(1);
                let start = self.writer.close_inline();
                let mut close = String::from("](");
                if let Some(tag) = dom::element(self.parser, handle) {
                    let href = dom::attr(tag, "href").unwrap_or_default();
                    escape::push_destination(&mut close, &href);
                    if let Some(title) = dom::attr(tag, "title") {
                        escape::push_title(&mut close, &title);
                    }
                }
                close.push(')');
                self.wrap(start, "[", &close);
            }
            Exit::List { in_item, .. } => {
                let last_in_item = in_item && self.rest_is_blank();
                self.writer.request(if last_in_item {
                    Break::Line
                } else {
                    Break::Paragraph
                });
            }
            Exit::Item { prefixed } => {
                if prefixed {
                    self.writer.pop_prefix();
                }
                self.writer.end_item();
                self.writer.request(Break::Line);
            }
            Exit::Quote { prefixed } => {
                if prefixed {
                    self.writer.pop_prefix();
                }
                self.writer.request(Break::Paragraph);
            }
        }
    }

    /// Puts `open`/`close` around the content written since `start`, leaving its leading and
    /// trailing whitespace outside (as turndown does); blank content gets no delimiters.
    fn wrap(&mut self, start: usize, open: &str, close: &str) {
        let content = self.writer.out.get(start..).unwrap_or("");
        let trimmed_start = content.trim_start();
        if trimmed_start.is_empty() {
            return;
        }
        let lead = content.len() - trimmed_start.len();
        let trail = trimmed_start.len() - trimmed_start.trim_end().len();
        let end = self.writer.out.len() - trail;
        self.writer.insert(end, close);
        self.writer.insert(start + lead, open);
    }

    /// `_` cannot open or close emphasis inside a word: use `*` when a letter or digit is
    /// right before the content or right after the element.
    fn is_intraword(&self, start: usize) -> bool {
        let content = self.writer.out.get(start..).unwrap_or("");
        let lead = content.len() - content.trim_start().len();
        let before = self
            .writer
            .out
            .get(..start + lead)
            .and_then(|s| s.chars().next_back());
        if before.is_some_and(char::is_alphanumeric) {
            return true;
        }
        if content.ends_with(char::is_whitespace) {
            // The trailing whitespace stays outside: the delimiter is followed by it.
            return false;
        }
        let Some(parent) = self.frames.last() else {
            return false;
        };
        match dom::child_at(self.parser, parent.element, parent.next)
            .and_then(|h| h.get(self.parser))
        {
            Some(Node::Raw(raw)) => dom::decode_bytes(raw.as_bytes())
                .chars()
                .next()
                .is_some_and(char::is_alphanumeric),
            _ => false,
        }
    }

    /// ChatGPT's `span[data-testid="webpage-citation-pill"]` around the link being opened.
    fn in_citation_pill(&self) -> bool {
        self.frames
            .last()
            .and_then(|frame| dom::element(self.parser, frame.element))
            .and_then(|parent| dom::attr_raw(parent, "data-testid"))
            .is_some_and(|testid| testid == b"webpage-citation-pill")
    }

    /// Whether the siblings after the current element (in the parent frame) are blank.
    fn rest_is_blank(&self) -> bool {
        let Some(parent) = self.frames.last() else {
            return true;
        };
        dom::children_from(self.parser, parent.element, parent.next).all(|h| {
            match h.get(self.parser) {
                Some(Node::Raw(raw)) => raw.as_bytes().iter().all(|b| b.is_ascii_whitespace()),
                Some(Node::Comment(_)) => true,
                _ => false,
            }
        })
    }

    fn image(&mut self, tag: &HTMLTag<'_>) {
        let src = dom::attr(tag, "src").unwrap_or_default();
        let alt = escape::clean_attribute(&dom::attr(tag, "alt").unwrap_or_default());
        if src.trim().is_empty() || escape::is_unsafe_url(&src) {
            self.writer.text(&alt, false);
            return;
        }
        self.writer.flush();
        let out = &mut self.writer.out;
        out.push_str("![");
        escape::push_escaped(out, &alt);
        out.push_str("](");
        escape::push_destination(out, &src);
        if let Some(title) = dom::attr(tag, "title") {
            escape::push_title(out, &title);
        }
        out.push(')');
    }

    fn inline_code(&mut self, handle: NodeHandle) {
        let raw = dom::text_content(self.parser, handle);
        let collapsible = |c: char| c.is_ascii() && super::writer::is_collapsible(c as u8);
        let mut content = String::with_capacity(raw.len());
        for word in raw.split(collapsible).filter(|word| !word.is_empty()) {
            if !content.is_empty() {
                content.push(' ');
            }
            content.push_str(word);
        }
        if raw.starts_with(collapsible) || (content.is_empty() && !raw.is_empty()) {
            self.writer.space();
        }
        if content.is_empty() {
            return;
        }
        self.write_code_span(&content);
        if raw.ends_with(collapsible) {
            self.writer.space();
        }
    }

    /// `` `content` `` with a delimiter longer than any backtick run inside, padded when
    /// the content starts or ends with a backtick.
    fn write_code_span(&mut self, content: &str) {
        let delimiter = "`".repeat(backtick_delimiter_len(content));
        let pad = if content.starts_with('`') || content.ends_with('`') {
            " "
        } else {
            ""
        };
        self.writer.flush();
        let out = &mut self.writer.out;
        out.push_str(&delimiter);
        out.push_str(pad);
        out.push_str(content);
        out.push_str(pad);
        out.push_str(&delimiter);
    }

    /// KaTeX or MathML with its TeX source: `$tex$`, or a `$$` block for display math.
    /// Returns false when there is no TeX source (the caller then converts the element's
    /// text).
    fn math(&mut self, handle: NodeHandle, display: bool) -> bool {
        if handle.get_inner() <= self.no_tex_until {
            return false;
        }
        let Some(tex) = tex_source(self.parser, handle) else {
            self.no_tex_until = dom::subtree_end(self.parser, handle);
            return false;
        };
        let tex = tex.trim();
        if tex.is_empty() {
            return true;
        }
        if display && self.writer.single_line == 0 {
            self.writer.request(Break::Paragraph);
            self.writer.write("$$");
            for line in tex.lines() {
                self.writer.newline(line.trim().is_empty());
                self.writer.out.push_str(line);
            }
            self.writer.newline(false);
            self.writer.out.push_str("$$");
            self.writer.request(Break::Paragraph);
        } else {
            let fence = if display { "$$" } else { "$" };
            self.writer.write(fence);
            let mut words = tex.split_whitespace();
            if let Some(first) = words.next() {
                self.writer.out.push_str(first);
            }
            for word in words {
                self.writer.out.push(' ');
                self.writer.out.push_str(word);
            }
            self.writer.out.push_str(fence);
        }
        true
    }

    fn code_block(&mut self, handle: NodeHandle) {
        let parent = self
            .frames
            .last()
            .and_then(|frame| dom::element(self.parser, frame.element));
        if self.writer.single_line > 0 {
            // Inline code inside a heading, cell or link: all the block's text, label too.
            let text = dom::text_content(self.parser, handle);
            let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
            if !flat.is_empty() {
                self.write_code_span(&flat);
            }
            return;
        }
        let block = code::extract(self.parser, handle, parent);
        if block.code.trim().is_empty() {
            return;
        }
        let code = block.code.strip_suffix('\n').unwrap_or(&block.code);
        let fence = "`".repeat(code::fence_len(code));
        self.writer.request(Break::Paragraph);
        self.writer.write(&fence);
        if let Some(language) = &block.language {
            self.writer.out.push_str(language);
        }
        for line in code.split('\n') {
            self.writer.newline(line.is_empty());
            self.writer.out.push_str(line);
        }
        self.writer.newline(false);
        self.writer.out.push_str(&fence);
        self.writer.request(Break::Paragraph);
    }

    /// Claude puts the language as a lone label `<div>` before the code block; that label
    /// is dropped when it names the language of the code block that follows.
    fn is_code_label(&self, tag: &HTMLTag<'_>) -> bool {
        let children = tag.children();
        let [only] = children.top().as_slice() else {
            return false;
        };
        let Some(Node::Raw(raw)) = only.get(self.parser) else {
            return false;
        };
        let label = dom::decode_bytes(raw.as_bytes());
        let label = label.trim();
        if label.is_empty() || label.len() > 40 || label.contains(char::is_whitespace) {
            return false;
        }
        let Some(parent) = self.frames.last() else {
            return false;
        };
        let parent_element = dom::element(self.parser, parent.element);
        let next_element = dom::children_from(self.parser, parent.element, parent.next)
            .find(|h| dom::element(self.parser, *h).is_some());
        let Some(next) = next_element else {
            return false;
        };
        let Some(next_tag) = dom::element(self.parser, next) else {
            return false;
        };
        let (pre, pre_parent) = if dom::is_tag(next_tag, "pre") {
            (next, parent_element)
        } else {
            match dom::child_elements(self.parser, next).next() {
                Some((child, child_tag)) if dom::is_tag(child_tag, "pre") => {
                    (child, Some(next_tag))
                }
                _ => return false,
            }
        };
        code::language(self.parser, pre, pre_parent)
            .is_some_and(|language| language.eq_ignore_ascii_case(label))
    }

    fn table(&mut self, table: NodeHandle) {
        let mut text = String::new();
        let mut cells: Vec<Cell> = Vec::new();
        // Row boundaries as ranges into `cells`.
        let mut rows: Vec<std::ops::Range<usize>> = Vec::new();
        let mut caption = None;
        let parser = self.parser;
        for child in dom::children(parser, table) {
            let Some(child_tag) = dom::element(parser, child) else {
                self.foster(child);
                continue;
            };
            match dom::kind_of(dom::tag_name(child_tag)) {
                Kind::TableSection => {
                    let mut loose = cells.len();
                    for row in dom::children(parser, child) {
                        let Some(row_tag) = dom::element(parser, row) else {
                            self.foster(row);
                            continue;
                        };
                        match dom::kind_of(dom::tag_name(row_tag)) {
                            Kind::Row => {
                                if loose < cells.len() {
                                    rows.push(loose..cells.len());
                                }
                                self.table_row(row, &mut text, &mut cells, &mut rows);
                                loose = cells.len();
                            }
                            Kind::Cell => self.table_cell(row, row_tag, &mut text, &mut cells),
                            _ => self.foster(row),
                        }
                    }
                    if loose < cells.len() {
                        rows.push(loose..cells.len());
                    }
                }
                Kind::Row => self.table_row(child, &mut text, &mut cells, &mut rows),
                Kind::Cell => {
                    let start = cells.len();
                    self.table_cell(child, child_tag, &mut text, &mut cells);
                    rows.push(start..cells.len());
                }
                Kind::Caption => {
                    let start = text.len();
                    self.render_cell(child, &mut text);
                    caption = Some(start..text.len());
                }
                _ => self.foster(child),
            }
        }
        if let Some(caption) = caption.filter(|c| !c.is_empty()) {
            self.writer.request(Break::Paragraph);
            self.writer.text(text.get(caption).unwrap_or(""), false);
        }
        rows.retain(|row| {
            cells
                .get(row.clone())
                .unwrap_or(&[])
                .iter()
                .any(|cell| !cell.text.is_empty())
        });
        let Some(header) = rows.first().cloned() else {
            return;
        };
        let columns = rows
            .iter()
            .map(|row| {
                cells
                    .get(row.clone())
                    .unwrap_or(&[])
                    .iter()
                    .map(|c| c.span)
                    .sum::<usize>()
            })
            .max()
            .unwrap_or(0)
            .max(1);
        self.writer.request(Break::Paragraph);
        self.writer.flush();
        for (index, row) in rows.iter().enumerate() {
            if index > 0 {
                self.writer.newline(false);
            }
            self.write_row(cells.get(row.clone()).unwrap_or(&[]), &text, columns);
            if index == 0 {
                self.writer.newline(false);
                let mut aligns = cells
                    .get(header.clone())
                    .unwrap_or(&[])
                    .iter()
                    .flat_map(|cell| {
                        let align =
                            dom::element(self.parser, cell.element).map_or(Align::None, cell_align);
                        std::iter::once(align)
                            .chain(std::iter::repeat_n(Align::None, cell.span - 1))
                    });
                let out = &mut self.writer.out;
                out.push('|');
                for _ in 0..columns {
                    out.push_str(match aligns.next().unwrap_or(Align::None) {
                        Align::None => " --- |",
                        Align::Left => " :-- |",
                        Align::Center => " :-: |",
                        Align::Right => " --: |",
                    });
                }
            }
        }
        self.writer.request(Break::Paragraph);
    }

    /// Content of a table outside its cells: browsers move it out in front of the table,
    /// and since the table is written once collected, converting it now does the same.
    fn foster(&mut self, node: NodeHandle) {
        let base = self.frames.len();
        self.visit(node);
        self.run(base);
    }

    fn write_row(&mut self, row: &[Cell], text: &str, columns: usize) {
        let out = &mut self.writer.out;
        out.push('|');
        let mut written = 0;
        for cell in row {
            out.push(' ');
            out.push_str(text.get(cell.text.clone()).unwrap_or(""));
            out.push_str(" |");
            for _ in 1..cell.span {
                out.push_str("  |");
            }
            written += cell.span;
        }
        for _ in written..columns {
            out.push_str("  |");
        }
    }

    fn table_row(
        &mut self,
        row: NodeHandle,
        text: &mut String,
        cells: &mut Vec<Cell>,
        rows: &mut Vec<std::ops::Range<usize>>,
    ) {
        let start = cells.len();
        let parser = self.parser;
        for cell in dom::children(parser, row) {
            match dom::element(parser, cell) {
                Some(cell_tag) if dom::kind_of(dom::tag_name(cell_tag)) == Kind::Cell => {
                    self.table_cell(cell, cell_tag, text, cells);
                }
                _ => self.foster(cell),
            }
        }
        rows.push(start..cells.len());
    }

    fn table_cell(
        &mut self,
        cell: NodeHandle,
        tag: &'p HTMLTag<'a>,
        text: &mut String,
        cells: &mut Vec<Cell>,
    ) {
        let start = text.len();
        self.render_cell(cell, text);
        let span = dom::attr_raw(tag, "colspan")
            .and_then(|s| std::str::from_utf8(s).ok())
            .and_then(|s| s.trim().parse::<usize>().ok())
            .unwrap_or(1)
            .clamp(1, 64);
        cells.push(Cell {
            text: start..text.len(),
            span,
            element: cell,
        });
    }

    /// Renders an element's content as one line of Markdown with `|` escaped, appended to
    /// `text`.
    fn render_cell(&mut self, cell: NodeHandle, text: &mut String) {
        let mut cell_writer = self.spare_writers.pop().unwrap_or_else(|| Writer::new(64));
        cell_writer.reset(1);
        std::mem::swap(&mut self.writer, &mut cell_writer);
        let keep_newlines = std::mem::replace(&mut self.keep_newlines, false);
        self.convert_children(cell);
        self.keep_newlines = keep_newlines;
        std::mem::swap(&mut self.writer, &mut cell_writer);
        let cell = cell_writer.out.trim();
        let mut copied = 0;
        for (i, byte) in cell.bytes().enumerate() {
            let replacement = match byte {
                b'|' => "\\|",
                b'\n' | b'\r' => " ",
                _ => continue,
            };
            text.push_str(cell.get(copied..i).unwrap_or(""));
            text.push_str(replacement);
            copied = i + 1;
        }
        text.push_str(cell.get(copied..).unwrap_or(""));
        self.spare_writers.push(cell_writer);
    }
}

/// The class names the converter reacts to, found in one pass over the class attribute.
#[derive(Clone, Copy, Default)]
struct ClassFlags {
    katex: bool,
    katex_display: bool,
    katex_mathml: bool,
    /// Some(true) for Tailwind's `whitespace-pre*`, Some(false) for `whitespace-normal`.
    keep_newlines: Option<bool>,
}

impl ClassFlags {
    fn of(classes: &[u8]) -> ClassFlags {
        let mut flags = ClassFlags::default();
        for token in classes.split(u8::is_ascii_whitespace) {
            match token.first() {
                Some(b'k') => match token {
                    b"katex" => flags.katex = true,
                    b"katex-display" => flags.katex_display = true,
                    b"katex-mathml" => flags.katex_mathml = true,
                    _ => {}
                },
                Some(b'w') => match token {
                    b"whitespace-pre"
                    | b"whitespace-pre-wrap"
                    | b"whitespace-pre-line"
                    | b"whitespace-break-spaces" => flags.keep_newlines = Some(true),
                    b"whitespace-normal" | b"whitespace-nowrap" => {
                        flags.keep_newlines = Some(false)
                    }
                    _ => {}
                },
                _ => {}
            }
        }
        flags
    }
}

fn is_source_counter(text: &str) -> bool {
    text.trim()
        .strip_prefix('+')
        .is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
}

fn usable_link(tag: &HTMLTag<'_>) -> bool {
    dom::attr(tag, "href")
        .is_some_and(|href| !href.trim().is_empty() && !escape::is_unsafe_url(&href))
}

/// A header cell's alignment, from `align` or the `text-align` in its style.
fn cell_align(tag: &HTMLTag<'_>) -> Align {
    let value = match dom::attr_raw(tag, "align") {
        Some(align) => align.trim_ascii(),
        None => {
            let Some(style) = dom::attr_raw(tag, "style") else {
                return Align::None;
            };
            let Some(at) = memchr::memmem::find(style, b"text-align") else {
                return Align::None;
            };
            let rest = style
                .get(at + b"text-align".len()..)
                .unwrap_or(&[])
                .trim_ascii_start();
            let rest = rest.strip_prefix(b":").unwrap_or(&[]).trim_ascii_start();
            let end = rest
                .iter()
                .position(|b| *b == b';' || b.is_ascii_whitespace())
                .unwrap_or(rest.len());
            rest.get(..end).unwrap_or(&[])
        }
    };
    let mut lower = [0u8; 6];
    let Some(slot) = lower.get_mut(..value.len()) else {
        return Align::None;
    };
    slot.copy_from_slice(value);
    slot.make_ascii_lowercase();
    match &*slot {
        b"left" | b"start" => Align::Left,
        b"center" => Align::Center,
        b"right" | b"end" => Align::Right,
        _ => Align::None,
    }
}

/// The shortest backtick run that does not occur in `content`.
fn backtick_delimiter_len(content: &str) -> usize {
    let mut runs = [false; 16];
    let mut run = 0usize;
    for byte in content.bytes().chain(std::iter::once(b' ')) {
        if byte == b'`' {
            run += 1;
        } else {
            if let Some(seen) = runs.get_mut(run) {
                *seen = true;
            }
            run = 0;
        }
    }
    (1..runs.len())
        .find(|&n| !runs.get(n).copied().unwrap_or(false))
        .unwrap_or(runs.len())
}

/// The TeX in `annotation[encoding="application/x-tex"]` inside `handle`.
fn tex_source(parser: &Parser<'_>, handle: NodeHandle) -> Option<String> {
    dom::descendants(parser, handle).find_map(|node| {
        let tag = dom::element(parser, node)?;
        let is_tex = dom::is_tag(tag, "annotation")
            && dom::attr_raw(tag, "encoding")
                .is_some_and(|e| e.eq_ignore_ascii_case(b"application/x-tex"));
        is_tex.then(|| dom::text_content(parser, node))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backtick_delimiters() {
        assert_eq!(backtick_delimiter_len("plain"), 1);
        assert_eq!(backtick_delimiter_len("a ` b"), 2);
        assert_eq!(backtick_delimiter_len("a ``` b"), 1);
        assert_eq!(backtick_delimiter_len("` `` ```"), 4);
    }
}
