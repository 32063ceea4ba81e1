//! The one engine every layout runs through: detection, segmentation into turns and
//! messages, body assembly, merging of split answers.

use dreamcatcher_model::{Message, Role};
use tl::{HTMLTag, NodeHandle, Parser};

use super::PageError;
use super::dom::{self, Step};
use super::layouts::{
    Content, Layout, MESSAGE_ID_ATTRIBUTES, MODEL_ATTRIBUTE, NEVER_CONVERSATION,
    STREAMING_ATTRIBUTE, STREAMING_CLASS,
};
use crate::html::dom::{element, has_class};
use crate::html::select::Selector;

/// The messages read from a page with one layout.
#[derive(Debug)]
pub(crate) struct Extraction {
    pub messages: Vec<Message>,
    pub model: Option<String>,
}

/// Name used in errors for the selectors every layout shares.
const SHARED: &str = "shared";

fn compile(layout: &'static str, text: &'static str) -> Result<Selector, PageError> {
    Selector::parse(text).map_err(|error| PageError::BadSelector {
        layout,
        selector: text,
        offset: error.offset,
        expected: error.expected,
    })
}

fn compile_all(layout: &'static str, texts: &[&'static str]) -> Result<Vec<Selector>, PageError> {
    texts.iter().map(|text| compile(layout, text)).collect()
}

fn matches_any(
    selectors: &[Selector],
    parser: &Parser<'_>,
    handle: NodeHandle,
    ancestors: &[NodeHandle],
) -> bool {
    selectors
        .iter()
        .any(|selector| selector.matches(parser, handle, ancestors))
}

/// Finds the layouts whose detection selectors all match, scanning the parsed nodes only as
/// far as needed: the page's own layout usually shows in its first turn. Detection selectors
/// need no ancestors (a unit test holds the table to that), so the scan is flat.
pub(crate) struct Detector<'l> {
    candidates: Vec<&'l Layout>,
    /// (candidate index, selector, found yet)
    tests: Vec<(usize, Selector, bool)>,
    returned: Vec<bool>,
    next_node: usize,
}

impl<'l> Detector<'l> {
    pub(crate) fn new(candidates: Vec<&'l Layout>) -> Result<Self, PageError> {
        let mut tests = Vec::new();
        for (index, layout) in candidates.iter().enumerate() {
            for text in layout.detect {
                tests.push((index, compile(layout.name, text)?, false));
            }
        }
        let returned = vec![false; candidates.len()];
        Ok(Detector {
            candidates,
            tests,
            returned,
            next_node: 0,
        })
    }

    /// The next detected layout not returned yet: among those complete so far, the first in
    /// table order (ties keep specific layouts ahead of looser ones).
    pub(crate) fn next(&mut self, parser: &Parser<'_>, node_count: usize) -> Option<&'l Layout> {
        loop {
            let complete = (0..self.candidates.len()).find(|&index| {
                !self.returned.get(index).copied().unwrap_or(true)
                    && self
                        .tests
                        .iter()
                        .filter(|(i, _, _)| *i == index)
                        .all(|(_, _, found)| *found)
            });
            if let Some(index) = complete {
                if let Some(done) = self.returned.get_mut(index) {
                    *done = true;
                }
                return self.candidates.get(index).copied();
            }
            if !self.scan_until_found(parser, node_count) {
                return None;
            }
        }
    }

    /// Scans on until some test turns true; false at the end of the document.
    fn scan_until_found(&mut self, parser: &Parser<'_>, node_count: usize) -> bool {
        while self.next_node < node_count {
            let Ok(index) = u32::try_from(self.next_node) else {
                return false;
            };
            self.next_node += 1;
            let handle = NodeHandle::new(index);
            if element(parser, handle).is_none() {
                continue;
            }
            let mut any = false;
            for (_, selector, found) in self.tests.iter_mut().filter(|(_, _, found)| !*found) {
                if selector.matches(parser, handle, &[]) {
                    *found = true;
                    any = true;
                }
            }
            if any {
                return true;
            }
        }
        false
    }
}

struct CompiledRule {
    role: Role,
    select: Selector,
    parts: Vec<(Selector, Content)>,
    fallback: Option<Content>,
}

/// A message element found on the page, before its body is read.
struct Found {
    rule: usize,
    handle: NodeHandle,
    turn: usize,
    streaming: bool,
    id: Option<String>,
    model: Option<String>,
}

/// Reads the page with `layout`. Fails when the layout's containers are there but yield no
/// messages, or only one side of a conversation: a half capture is never a success.
pub(crate) fn extract(
    parser: &Parser<'_>,
    roots: &[NodeHandle],
    layout: &'static Layout,
) -> Result<Extraction, PageError> {
    let never = compile_all(SHARED, &NEVER_CONVERSATION)?;
    let turn = layout
        .turn
        .map(|text| compile(layout.name, text))
        .transpose()?;
    let rules = layout
        .messages
        .iter()
        .map(|rule| {
            Ok(CompiledRule {
                role: rule.role,
                select: compile(layout.name, rule.select)?,
                parts: rule
                    .parts
                    .iter()
                    .map(|part| Ok((compile(layout.name, part.select)?, part.content)))
                    .collect::<Result<_, PageError>>()?,
                fallback: rule.fallback,
            })
        })
        .collect::<Result<Vec<_>, PageError>>()?;

    let (found, turn_count) = segment(parser, roots, layout, turn.as_ref(), &rules, &never);

    let mut messages: Vec<(Message, usize)> = Vec::new();
    let mut model = None;
    for item in found {
        let Some(rule) = rules.get(item.rule) else {
            continue;
        };
        let (markdown, streaming_class) = read_body(parser, &item, rule, &never);
        let mut message = Message::new(rule.role, markdown);
        message.id = item.id;
        message.streaming = item.streaming || streaming_class;
        if rule.role == Role::Assistant && item.model.is_some() {
            model = item.model;
        }
        let merge_into = messages.last_mut().filter(|(previous, turn)| {
            layout.merge_answer_blocks
                && layout.turn.is_some()
                && *turn == item.turn
                && previous.role == Role::Assistant
                && message.role == Role::Assistant
        });
        match merge_into {
            Some((previous, _)) => {
                if !message.markdown.is_empty() {
                    if !previous.markdown.is_empty() {
                        previous.markdown.push_str("\n\n");
                    }
                    previous.markdown.push_str(&message.markdown);
                }
                previous.streaming |= message.streaming;
                if previous.id.is_none() {
                    previous.id = message.id;
                }
            }
            None => messages.push((message, item.turn)),
        }
    }
    let messages: Vec<Message> = messages
        .into_iter()
        .map(|(message, _)| message)
        .filter(|message| message.streaming || !message.markdown.trim().is_empty())
        .collect();

    check_complete(layout, turn_count, &messages)?;
    Ok(Extraction { messages, model })
}

/// One walk over the page: turns (when the layout has them) and the message elements in
/// them, in reading order. Returns the messages found and the number of turns.
fn segment(
    parser: &Parser<'_>,
    roots: &[NodeHandle],
    layout: &Layout,
    turn: Option<&Selector>,
    rules: &[CompiledRule],
    never: &[Selector],
) -> (Vec<Found>, Option<usize>) {
    let mut found = Vec::new();
    let mut turns: Vec<NodeHandle> = Vec::new();
    // Turns still open at this point of the walk, innermost last: (depth, turn index).
    let mut open_turns: Vec<(usize, usize)> = Vec::new();
    dom::walk(parser, roots, &mut |handle, element, ancestors| {
        let depth = ancestors.len();
        while open_turns
            .last()
            .is_some_and(|(open_depth, _)| *open_depth >= depth)
        {
            open_turns.pop();
        }
        if dom::is_chrome(element) || matches_any(never, parser, handle, ancestors) {
            return Step::SkipChildren;
        }
        let current_turn = match turn {
            None => 0,
            Some(turn) => {
                if turn.matches(parser, handle, ancestors) {
                    open_turns.push((depth, turns.len()));
                    turns.push(handle);
                }
                match open_turns.last() {
                    Some((_, index)) => *index,
                    None => return Step::Descend,
                }
            }
        };
        if let Some(rule) = rules
            .iter()
            .position(|rule| rule.select.matches(parser, handle, ancestors))
        {
            let nearest = |name: &str| {
                let outer = ancestors
                    .iter()
                    .rev()
                    .filter_map(|&a| crate::html::dom::element(parser, a));
                std::iter::once(element)
                    .chain(outer)
                    .find_map(|candidate| dom::attribute(candidate, name))
            };
            found.push(Found {
                rule,
                handle,
                turn: current_turn,
                streaming: nearest(STREAMING_ATTRIBUTE).is_some_and(|v| v.trim() == "true"),
                id: MESSAGE_ID_ATTRIBUTES.iter().find_map(|name| nearest(name)),
                model: dom::attribute(element, MODEL_ATTRIBUTE),
            });
            // A message holds no other message (html::repair closes elements where a
            // browser would), and its body is read on its own.
            return Step::SkipChildren;
        }
        Step::Descend
    });
    if let Some(attribute) = layout.turn_order {
        let positions: Option<Vec<u64>> = turns
            .iter()
            .map(|&handle| {
                element(parser, handle)
                    .and_then(|turn| dom::attribute(turn, attribute))
                    .and_then(|value| value.trim().parse().ok())
            })
            .collect();
        if let Some(positions) = positions {
            found.sort_by_key(|item| positions.get(item.turn).copied().unwrap_or(u64::MAX));
        }
    }
    (found, turn.map(|_| turns.len()))
}

/// The message's Markdown, and whether a body part carried the streaming class.
fn read_body(
    parser: &Parser<'_>,
    item: &Found,
    rule: &CompiledRule,
    never: &[Selector],
) -> (String, bool) {
    let render = |content: Content, handle: NodeHandle| -> String {
        match content {
            Content::Markdown => crate::html::node_to_markdown(parser, handle)
                .trim_end()
                .to_owned(),
            Content::PlainText => dom::plain_text(parser, handle),
            Content::Title => dom::first_text(parser, handle).unwrap_or_default(),
        }
    };
    let has_streaming_class = |element: &HTMLTag<'_>| has_class(element, STREAMING_CLASS);
    let mut pieces: Vec<String> = Vec::new();
    let mut streaming = false;
    let mut any_part = false;
    if !rule.parts.is_empty() {
        let root = item.handle.get_inner();
        dom::walk(parser, &[item.handle], &mut |handle, element, ancestors| {
            let is_root = handle.get_inner() == root;
            if (!is_root && dom::is_chrome(element))
                || matches_any(never, parser, handle, ancestors)
            {
                return Step::SkipChildren;
            }
            let part = rule
                .parts
                .iter()
                .find(|(select, _)| select.matches(parser, handle, ancestors));
            if let Some((_, content)) = part {
                any_part = true;
                streaming |= has_streaming_class(element);
                pieces.push(render(*content, handle));
                return Step::SkipChildren;
            }
            Step::Descend
        });
    }
    if !any_part && let Some(fallback) = rule.fallback {
        streaming |= element(parser, item.handle).is_some_and(has_streaming_class);
        pieces.push(render(fallback, item.handle));
    }
    pieces.retain(|piece| !piece.trim().is_empty());
    (pieces.join("\n\n"), streaming)
}

/// A page whose containers are there but whose messages are not, or that shows several
/// prompts and no answer (or the reverse), means the layout changed under us.
fn check_complete(
    layout: &Layout,
    turns: Option<usize>,
    messages: &[Message],
) -> Result<(), PageError> {
    let looked_for = || {
        layout
            .messages
            .iter()
            .map(|rule| {
                let parts: Vec<&str> = rule.parts.iter().map(|part| part.select).collect();
                if parts.is_empty() {
                    format!("`{}`", rule.select)
                } else {
                    format!("`{}` → `{}`", rule.select, parts.join("`, `"))
                }
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    if messages.is_empty() {
        let matched = match (turns, layout.turn) {
            (Some(count), Some(turn)) => format!("{count} turn(s) `{turn}`"),
            _ => layout
                .detect
                .iter()
                .map(|d| format!("`{d}`"))
                .collect::<Vec<_>>()
                .join(", "),
        };
        return Err(PageError::NoMessages {
            layout: layout.name,
            matched,
            looked_for: looked_for(),
        });
    }
    let count = |role: Role| messages.iter().filter(|m| m.role == role).count();
    let (users, answers) = (count(Role::User), count(Role::Assistant));
    let one_sided = match (users, answers) {
        (u, 0) if u >= 2 => Some((Role::User, u, Role::Assistant)),
        (0, a) if a >= 2 => Some((Role::Assistant, a, Role::User)),
        _ => None,
    };
    if let Some((found_role, found, missing_role)) = one_sided {
        return Err(PageError::OneSided {
            layout: layout.name,
            found,
            found_role: role_name(found_role),
            missing_role: role_name(missing_role),
            looked_for: looked_for(),
        });
    }
    Ok(())
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::User => "user",
        Role::Assistant => "assistant",
    }
}
