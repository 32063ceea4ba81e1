//! The walk over one message's Markdown events.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
use std::ops::Range;

use dreamcatcher_model::{CodeOrigin, Fragments, Link, TodoItem, TodoMarker};
use pulldown_cmark::{CodeBlockKind, Event, LinkType, Options, Parser, Tag, TagEnd};

use crate::comments::{CommentScanner, SplitLine, html_comment_syntax};
use crate::todos::{comment_todo, prose_todo};

pub(crate) fn extract(markdown: &str) -> Fragments {
    let text = unify_line_ends(markdown);
    let lines = LineCounter::new(&text);
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_FOOTNOTES;
    let mut walk = Walk::new(lines);
    for (event, range) in Parser::new_ext(&text, options).into_offset_iter() {
        walk.event(event, range);
    }
    walk.finish()
}

/// CRLF and lone CR become LF, so offsets, line numbers and code text agree.
fn unify_line_ends(markdown: &str) -> Cow<'_, str> {
    if markdown.contains('\r') {
        Cow::Owned(markdown.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        Cow::Borrowed(markdown)
    }
}

/// Byte offset → 1-based line number, counted from the last offset asked about: events come
/// in document order, so the whole walk counts each line end about once.
struct LineCounter<'a> {
    text: &'a [u8],
    offset: usize,
    line: u32,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> Self {
        LineCounter {
            text: text.as_bytes(),
            offset: 0,
            line: 1,
        }
    }

    fn line_of(&mut self, offset: usize) -> u32 {
        let offset = offset.min(self.text.len());
        let (from, to) = (self.offset.min(offset), self.offset.max(offset));
        let between = self.text.get(from..to).unwrap_or_default();
        let line_ends =
            u32::try_from(memchr::memchr_iter(b'\n', between).count()).unwrap_or(u32::MAX);
        self.line = if offset >= self.offset {
            self.line.saturating_add(line_ends)
        } else {
            self.line.saturating_sub(line_ends)
        };
        self.offset = offset;
        self.line
    }
}

type FixedHasher = BuildHasherDefault<DefaultHasher>;

struct PendingCode {
    label: String,
    text: String,
}

struct PendingLink {
    url: String,
    text: String,
}

/// The prose of one source line, gathered across inline events.
#[derive(Default)]
struct ProseLine {
    line: u32,
    text: String,
    /// Byte ranges of `text` that were inline code.
    code_spans: Vec<Range<usize>>,
}

/// An unchecked task item whose text is being gathered.
struct PendingTask {
    line: u32,
    text: String,
}

struct Walk<'a> {
    lines: LineCounter<'a>,
    fragments: Fragments,
    code: Option<PendingCode>,
    link: Option<PendingLink>,
    image_depth: usize,
    prose: ProseLine,
    task: Option<PendingTask>,
    html_comments: CommentScanner,
    /// Hash of each kept link's URL → its index in `fragments.links` (URLs are not copied).
    /// Fixed-key hashing: the walk has no randomness, so every run is the same.
    url_hashes: HashMap<u64, usize, FixedHasher>,
    url_hasher: FixedHasher,
    url_finder: linkify::LinkFinder,
}

impl<'a> Walk<'a> {
    fn new(lines: LineCounter<'a>) -> Self {
        let mut url_finder = linkify::LinkFinder::new();
        url_finder.kinds(&[linkify::LinkKind::Url]);
        Walk {
            lines,
            fragments: Fragments::default(),
            code: None,
            link: None,
            image_depth: 0,
            prose: ProseLine::default(),
            task: None,
            html_comments: CommentScanner::new(html_comment_syntax()),
            url_hashes: HashMap::default(),
            url_hasher: FixedHasher::default(),
            url_finder,
        }
    }

    fn event(&mut self, event: Event<'_>, range: Range<usize>) {
        match event {
            Event::Start(Tag::CodeBlock(kind)) => {
                self.end_block();
                let label = match kind {
                    CodeBlockKind::Fenced(info) => info.into_string(),
                    CodeBlockKind::Indented => String::new(),
                };
                self.code = Some(PendingCode {
                    label,
                    text: String::new(),
                });
            }
            Event::End(TagEnd::CodeBlock) => self.finish_code_block(),
            Event::Text(text) if self.code.is_some() => {
                if let Some(code) = self.code.as_mut() {
                    code.text.push_str(&text);
                }
            }
            Event::Start(Tag::Image { .. }) => self.image_depth += 1,
            Event::End(TagEnd::Image) => self.image_depth = self.image_depth.saturating_sub(1),
            _ if self.image_depth > 0 => {}
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                ..
            }) => {
                let url = match link_type {
                    LinkType::Email => format!("mailto:{dest_url}"),
                    _ => dest_url.into_string(),
                };
                self.link = Some(PendingLink {
                    url,
                    text: String::new(),
                });
            }
            Event::End(TagEnd::Link) => {
                if let Some(link) = self.link.take() {
                    self.add_link(link.url, link.text.trim().to_string());
                }
            }
            Event::Text(text) => {
                if self.link.is_none() {
                    self.find_bare_urls(&text);
                }
                self.inline_text(&text, range.start, false);
            }
            Event::Code(code) => self.inline_text(&code, range.start, true),
            Event::SoftBreak | Event::HardBreak => {
                self.flush_prose();
                self.append_to_link_and_task(" ");
            }
            Event::TaskListMarker(checked) => {
                self.flush_prose();
                self.finish_task();
                if !checked {
                    let line = self.lines.line_of(range.start);
                    self.task = Some(PendingTask {
                        line,
                        text: String::new(),
                    });
                }
            }
            Event::Html(html) | Event::InlineHtml(html) => {
                self.html_comment_todos(&html, range.start)
            }
            Event::Start(tag) if !is_inline(&tag) => {
                // A task's paragraph opens just before its marker: keep waiting for its text.
                if !matches!(tag, Tag::Paragraph) {
                    self.end_block();
                } else {
                    self.flush_prose();
                }
            }
            Event::End(tag_end) if !is_inline_end(tag_end) => self.end_block(),
            _ => {}
        }
    }

    fn finish(mut self) -> Fragments {
        self.end_block();
        if self.code.is_some() {
            self.finish_code_block();
        }
        self.fragments
    }

    fn finish_code_block(&mut self) {
        let Some(PendingCode { label, mut text }) = self.code.take() else {
            return;
        };
        if text.trim().is_empty() {
            return;
        }
        if !text.ends_with('\n') {
            text.push('\n');
        }
        let block = crate::owned_code_block(&label, text, CodeOrigin::Fence);
        crate::push_code_block(&mut self.fragments, block);
    }

    fn inline_text(&mut self, text: &str, offset: usize, is_code: bool) {
        if self.prose.text.is_empty() {
            self.prose.line = self.lines.line_of(offset);
        }
        let start = self.prose.text.len();
        self.prose.text.push_str(text);
        if is_code {
            self.prose.code_spans.push(start..self.prose.text.len());
        }
        self.append_to_link_and_task(text);
    }

    fn append_to_link_and_task(&mut self, text: &str) {
        if let Some(link) = self.link.as_mut() {
            link.text.push_str(text);
        }
        if let Some(task) = self.task.as_mut() {
            task.text.push_str(text);
        }
    }

    /// A block boundary: the current prose line and any task item end here.
    fn end_block(&mut self) {
        self.flush_prose();
        self.finish_task();
    }

    fn flush_prose(&mut self) {
        let on_task_line = self
            .task
            .as_ref()
            .is_some_and(|task| task.line == self.prose.line);
        if !self.prose.text.is_empty()
            && !on_task_line
            && let Some((marker, text)) = prose_todo(&self.prose.text, &self.prose.code_spans)
        {
            self.fragments.todos.push(TodoItem {
                marker,
                text,
                line: self.prose.line,
                code_block: None,
            });
        }
        // Cleared, not replaced: the buffers are reused for every line of prose.
        self.prose.text.clear();
        self.prose.code_spans.clear();
    }

    fn finish_task(&mut self) {
        let Some(task) = self.task.take() else {
            return;
        };
        let text = collapse_spaces(&task.text);
        if !text.is_empty() {
            self.fragments.todos.push(TodoItem {
                marker: TodoMarker::Task,
                text,
                line: task.line,
                code_block: None,
            });
        }
    }

    /// `<!-- TODO: … -->` in HTML blocks and inline HTML.
    fn html_comment_todos(&mut self, html: &str, offset: usize) {
        let first_line = self.lines.line_of(offset);
        let mut split = SplitLine::default();
        for (line, text) in (first_line..=u32::MAX).zip(html.split('\n')) {
            self.html_comments.split(text, &mut split);
            if let Some((marker, todo)) = split
                .comments
                .iter()
                .find_map(|comment| comment_todo(comment))
            {
                self.fragments.todos.push(TodoItem {
                    marker,
                    text: todo,
                    line,
                    code_block: None,
                });
            }
        }
    }

    fn find_bare_urls(&mut self, text: &str) {
        if !text.contains("://") {
            return;
        }
        let urls: Vec<&str> = self
            .url_finder
            .links(text)
            .map(|link| link.as_str())
            .collect();
        for url in urls {
            if url.starts_with("http://") || url.starts_with("https://") {
                self.add_link(url.to_string(), url.to_string());
            }
        }
    }

    fn add_link(&mut self, url: String, text: String) {
        if url.is_empty() {
            return;
        }
        let links = &self.fragments.links;
        let hash = self.url_hasher.hash_one(&url);
        let seen = match self.url_hashes.get(&hash) {
            Some(&index) if links.get(index).is_some_and(|link| link.url == url) => true,
            // Two URLs with one hash: rare enough for a plain scan.
            Some(_) => links.iter().any(|link| link.url == url),
            None => false,
        };
        if !seen {
            self.url_hashes.entry(hash).or_insert(links.len());
            self.fragments.links.push(Link { url, text });
        }
    }
}

fn collapse_spaces(text: &str) -> String {
    let mut collapsed = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !collapsed.is_empty() {
            collapsed.push(' ');
        }
        collapsed.push_str(word);
    }
    collapsed
}

/// Tags that live inside a line of prose rather than opening a block.
fn is_inline(tag: &Tag<'_>) -> bool {
    matches!(
        tag,
        Tag::Emphasis
            | Tag::Strong
            | Tag::Strikethrough
            | Tag::Superscript
            | Tag::Subscript
            | Tag::Link { .. }
            | Tag::Image { .. }
    )
}

fn is_inline_end(tag: TagEnd) -> bool {
    matches!(
        tag,
        TagEnd::Emphasis
            | TagEnd::Strong
            | TagEnd::Strikethrough
            | TagEnd::Superscript
            | TagEnd::Subscript
            | TagEnd::Link
            | TagEnd::Image
    )
}
