//! CSS-style selectors over `tl` trees, for the page-layout modules: a page generation's
//! selectors can then be plain strings in a table. `tl`'s own `query_selector` has no
//! attribute prefix/suffix tests and no child combinator.
//!
//! Supported syntax (a CSS subset):
//! - type `div` (any case) or `*`; `#id`; `.class` (one whole class name);
//! - attributes: `[a]` present, `[a=v]` equal, `[a^=v]` prefix, `[a$=v]` suffix,
//!   `[a*=v]` substring, `[a~=v]` one of its space-separated words, `[a|=v]` `v` or `v-…`;
//!   values bare or in `"…"`/`'…'`; compared after entity decoding, case-sensitively;
//! - combinators: descendant (space) and child (`>`); selector lists with `,`;
//! - `\` escapes the next character in names (`.md\:px-4`).
//!
//! Matching needs an element's ancestors: [`select_all`] tracks them while walking, and
//! [`ParentMap`] gives them for any node of a document.
//!
//! ```
//! use dreamcatcher_capture::html::{parse, select::{select_all, Selector}};
//!
//! let dom = parse(r#"<section data-testid="conversation-turn-2"><div data-message-author-role="assistant"><div class="markdown prose">Hi</div></div></section>"#).unwrap();
//! let body = Selector::parse(r#"section[data-testid^="conversation-turn-"] [data-message-author-role=assistant] > .markdown"#).unwrap();
//! let found = select_all(dom.parser(), dom.children(), &body);
//! assert_eq!(found.len(), 1);
//! ```

use std::str::FromStr;

use tl::{HTMLTag, NodeHandle, Parser};

use super::dom;

/// A parsed selector list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    alternatives: Vec<Complex>,
}

/// A selector that could not be parsed: where and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid selector {selector:?} at byte {offset}: expected {expected}")]
pub struct SelectorError {
    pub selector: String,
    pub offset: usize,
    pub expected: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Complex {
    /// The compound the element itself must match.
    subject: Compound,
    /// The rest, nearest first: each with the combinator that links it to the one before.
    ancestors: Vec<(Combinator, Compound)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Combinator {
    Descendant,
    Child,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Compound {
    tag: Option<String>,
    id: Option<String>,
    classes: Vec<String>,
    attributes: Vec<AttributeTest>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct AttributeTest {
    name: String,
    op: AttributeOp,
    value: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AttributeOp {
    Present,
    Equals,
    Prefix,
    Suffix,
    Contains,
    Word,
    DashPrefix,
}

impl Selector {
    /// Parses a selector list (see the module docs for the syntax).
    pub fn parse(selector: &str) -> Result<Selector, SelectorError> {
        SelectorParser {
            text: selector,
            pos: 0,
        }
        .selector_list()
    }

    /// Whether `element` matches, given its ancestors (outermost first). Non-elements never
    /// match.
    pub fn matches(
        &self,
        parser: &Parser<'_>,
        element: NodeHandle,
        ancestors: &[NodeHandle],
    ) -> bool {
        let Some(tag) = dom::element(parser, element) else {
            return false;
        };
        self.matches_tag(parser, tag, ancestors)
    }

    fn matches_tag(
        &self,
        parser: &Parser<'_>,
        tag: &HTMLTag<'_>,
        ancestors: &[NodeHandle],
    ) -> bool {
        self.alternatives.iter().any(|complex| {
            complex.subject.matches(tag) && matches_ancestors(parser, ancestors, &complex.ancestors)
        })
    }
}

impl FromStr for Selector {
    type Err = SelectorError;

    fn from_str(selector: &str) -> Result<Self, Self::Err> {
        Selector::parse(selector)
    }
}

fn matches_ancestors(
    parser: &Parser<'_>,
    ancestors: &[NodeHandle],
    parts: &[(Combinator, Compound)],
) -> bool {
    let Some(((combinator, compound), rest)) = parts.split_first() else {
        return true;
    };
    let matches_at = |index: usize| {
        ancestors
            .get(index)
            .and_then(|handle| dom::element(parser, *handle))
            .is_some_and(|tag| compound.matches(tag))
            && matches_ancestors(parser, ancestors.get(..index).unwrap_or(&[]), rest)
    };
    match combinator {
        Combinator::Child => ancestors.len().checked_sub(1).is_some_and(matches_at),
        Combinator::Descendant => (0..ancestors.len()).rev().any(matches_at),
    }
}

impl Compound {
    fn matches(&self, tag: &HTMLTag<'_>) -> bool {
        if self
            .tag
            .as_ref()
            .is_some_and(|name| !dom::is_tag(tag, name))
        {
            return false;
        }
        if let Some(id) = &self.id {
            let actual = tag
                .attributes()
                .id()
                .map(|raw| dom::decode_bytes(raw.as_bytes()));
            if actual.as_deref() != Some(id.as_str()) {
                return false;
            }
        }
        self.classes.iter().all(|class| dom::has_class(tag, class))
            && self.attributes.iter().all(|test| test.matches(tag))
    }
}

impl AttributeTest {
    fn matches(&self, tag: &HTMLTag<'_>) -> bool {
        let Some(actual) = dom::attr(tag, &self.name) else {
            return false;
        };
        let expected = self.value.as_str();
        match self.op {
            AttributeOp::Present => true,
            AttributeOp::Equals => actual == expected,
            AttributeOp::Prefix => !expected.is_empty() && actual.starts_with(expected),
            AttributeOp::Suffix => !expected.is_empty() && actual.ends_with(expected),
            AttributeOp::Contains => !expected.is_empty() && actual.contains(expected),
            AttributeOp::Word => actual.split_ascii_whitespace().any(|word| word == expected),
            AttributeOp::DashPrefix => {
                actual == expected
                    || actual
                        .strip_prefix(expected)
                        .is_some_and(|rest| rest.starts_with('-'))
            }
        }
    }
}

struct SelectorParser<'s> {
    text: &'s str,
    pos: usize,
}

impl SelectorParser<'_> {
    fn error(&self, expected: &'static str) -> SelectorError {
        SelectorError {
            selector: self.text.to_string(),
            offset: self.pos,
            expected,
        }
    }

    fn peek(&self) -> Option<char> {
        self.text
            .get(self.pos..)
            .and_then(|rest| rest.chars().next())
    }

    fn bump(&mut self) -> Option<char> {
        let ch = self.peek()?;
        self.pos += ch.len_utf8();
        Some(ch)
    }

    fn skip_spaces(&mut self) -> bool {
        let start = self.pos;
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
        self.pos > start
    }

    fn selector_list(mut self) -> Result<Selector, SelectorError> {
        let mut alternatives = Vec::new();
        loop {
            self.skip_spaces();
            alternatives.push(self.complex()?);
            self.skip_spaces();
            match self.bump() {
                None => return Ok(Selector { alternatives }),
                Some(',') => {}
                Some(_) => {
                    self.pos -= 1;
                    return Err(self.error("`,`, a combinator or the end"));
                }
            }
        }
    }

    fn complex(&mut self) -> Result<Complex, SelectorError> {
        let mut compounds = vec![self.compound()?];
        let mut combinators = Vec::new();
        loop {
            let spaced = self.skip_spaces();
            let combinator = match self.peek() {
                Some('>') => {
                    self.bump();
                    self.skip_spaces();
                    Combinator::Child
                }
                Some(',') | None => break,
                Some(_) if spaced => Combinator::Descendant,
                Some(_) => return Err(self.error("a combinator")),
            };
            combinators.push(combinator);
            compounds.push(self.compound()?);
        }
        let subject = compounds.pop().unwrap_or_default();
        let ancestors = combinators
            .into_iter()
            .rev()
            .zip(compounds.into_iter().rev())
            .collect();
        Ok(Complex { subject, ancestors })
    }

    fn compound(&mut self) -> Result<Compound, SelectorError> {
        let start = self.pos;
        let mut compound = Compound::default();
        match self.peek() {
            Some('*') => {
                self.bump();
            }
            Some(ch) if is_name_char(ch) => compound.tag = Some(self.name()?.to_ascii_lowercase()),
            _ => {}
        }
        loop {
            match self.peek() {
                Some('#') => {
                    self.bump();
                    compound.id = Some(self.name()?);
                }
                Some('.') => {
                    self.bump();
                    compound.classes.push(self.name()?);
                }
                Some('[') => {
                    self.bump();
                    compound.attributes.push(self.attribute()?);
                }
                Some(':') => return Err(self.error("no pseudo-class (not supported)")),
                _ => break,
            }
        }
        if self.pos == start {
            return Err(self.error("a type, `*`, `#id`, `.class` or `[attribute]`"));
        }
        Ok(compound)
    }

    fn name(&mut self) -> Result<String, SelectorError> {
        let mut name = String::new();
        while let Some(ch) = self.peek() {
            if ch == '\\' {
                self.bump();
                match self.bump() {
                    Some(escaped) => name.push(escaped),
                    None => return Err(self.error("a character after `\\`")),
                }
            } else if is_name_char(ch) {
                self.bump();
                name.push(ch);
            } else {
                break;
            }
        }
        if name.is_empty() {
            return Err(self.error("a name"));
        }
        Ok(name)
    }

    fn attribute(&mut self) -> Result<AttributeTest, SelectorError> {
        self.skip_spaces();
        let mut name = self.name()?;
        while self.peek() == Some(':') {
            self.bump();
            name.push(':');
            name.push_str(&self.name()?);
        }
        self.skip_spaces();
        let op = match self.bump() {
            Some(']') => {
                return Ok(AttributeTest {
                    name,
                    op: AttributeOp::Present,
                    value: String::new(),
                });
            }
            Some('=') => AttributeOp::Equals,
            Some(symbol @ ('^' | '$' | '*' | '~' | '|')) if self.peek() == Some('=') => {
                self.bump();
                match symbol {
                    '^' => AttributeOp::Prefix,
                    '$' => AttributeOp::Suffix,
                    '*' => AttributeOp::Contains,
                    '~' => AttributeOp::Word,
                    _ => AttributeOp::DashPrefix,
                }
            }
            _ => return Err(self.error("`]`, `=`, `^=`, `$=`, `*=`, `~=` or `|=`")),
        };
        self.skip_spaces();
        let value = match self.peek() {
            Some(quote @ ('"' | '\'')) => {
                self.bump();
                let mut value = String::new();
                loop {
                    match self.bump() {
                        Some('\\') => match self.bump() {
                            Some(ch) => value.push(ch),
                            None => return Err(self.error("a character after `\\`")),
                        },
                        Some(ch) if ch == quote => break,
                        Some(ch) => value.push(ch),
                        None => return Err(self.error("a closing quote")),
                    }
                }
                value
            }
            _ => self.name()?,
        };
        self.skip_spaces();
        if self.bump() != Some(']') {
            return Err(self.error("`]`"));
        }
        Ok(AttributeTest { name, op, value })
    }
}

fn is_name_char(ch: char) -> bool {
    ch.is_alphanumeric() || ch == '-' || ch == '_' || !ch.is_ascii()
}

/// Elements matching `selector` among `roots` and everything inside them, in document
/// order. Ancestor tests see only ancestors within `roots`' subtrees: pass a document's
/// top-level nodes (`dom.children()`) to search the whole document.
pub fn select_all(
    parser: &Parser<'_>,
    roots: &[NodeHandle],
    selector: &Selector,
) -> Vec<NodeHandle> {
    let mut found = Vec::new();
    walk(parser, roots, &mut |handle, tag, ancestors| {
        if selector.matches_tag(parser, tag, ancestors) {
            found.push(handle);
        }
        true
    });
    found
}

/// The first element matching `selector` among `roots` and everything inside them.
pub fn select_first(
    parser: &Parser<'_>,
    roots: &[NodeHandle],
    selector: &Selector,
) -> Option<NodeHandle> {
    let mut found = None;
    walk(parser, roots, &mut |handle, tag, ancestors| {
        if selector.matches_tag(parser, tag, ancestors) {
            found = Some(handle);
            return false;
        }
        true
    });
    found
}

/// Elements inside `element` (not itself) matching `selector`; `element` counts as an
/// ancestor for combinators, its own ancestors are not seen.
pub fn select_within(
    parser: &Parser<'_>,
    element: NodeHandle,
    selector: &Selector,
) -> Vec<NodeHandle> {
    let mut found = Vec::new();
    walk(
        parser,
        std::slice::from_ref(&element),
        &mut |handle, tag, ancestors| {
            if handle != element && selector.matches_tag(parser, tag, ancestors) {
                found.push(handle);
            }
            true
        },
    );
    found
}

/// Visits every element under `roots` (roots included) in document order with its
/// ancestors (outermost first); stops when `visit` returns false. Iterative: any depth.
pub fn walk(
    parser: &Parser<'_>,
    roots: &[NodeHandle],
    visit: &mut dyn FnMut(NodeHandle, &HTMLTag<'_>, &[NodeHandle]) -> bool,
) {
    let mut ancestors: Vec<NodeHandle> = Vec::new();
    // Next child index of each ancestor.
    let mut next: Vec<usize> = Vec::new();
    for &root in roots {
        let Some(tag) = dom::element(parser, root) else {
            continue;
        };
        if !visit(root, tag, &[]) {
            return;
        }
        ancestors.push(root);
        next.push(0);
        while let (Some(&parent), Some(index)) = (ancestors.last(), next.last_mut()) {
            let Some(child) = dom::child_at(parser, parent, *index) else {
                ancestors.pop();
                next.pop();
                continue;
            };
            *index += 1;
            let Some(tag) = dom::element(parser, child) else {
                continue;
            };
            if !visit(child, tag, &ancestors) {
                return;
            }
            ancestors.push(child);
            next.push(0);
        }
    }
}

/// Parent links for every node of a document, for walking up (`closest`) from a node
/// found elsewhere.
#[derive(Debug, Clone)]
pub struct ParentMap {
    parents: Vec<Option<NodeHandle>>,
}

impl ParentMap {
    /// Builds the map in one pass over the document's nodes.
    pub fn new(dom: &tl::VDom<'_>) -> ParentMap {
        let nodes = dom.nodes();
        let mut parents = vec![None; nodes.len()];
        for (index, node) in nodes.iter().enumerate() {
            let Some(tag) = node.as_tag() else { continue };
            let Ok(parent) = u32::try_from(index) else {
                break;
            };
            let children = tag.children();
            for child in children.top().as_slice() {
                if let Some(slot) = parents.get_mut(child.get_inner() as usize) {
                    *slot = Some(NodeHandle::new(parent));
                }
            }
        }
        ParentMap { parents }
    }

    /// The element containing `node`.
    pub fn parent(&self, node: NodeHandle) -> Option<NodeHandle> {
        self.parents
            .get(node.get_inner() as usize)
            .copied()
            .flatten()
    }

    /// `node`'s ancestors, outermost first.
    pub fn ancestors(&self, node: NodeHandle) -> Vec<NodeHandle> {
        let mut chain = Vec::new();
        let mut current = self.parent(node);
        while let Some(parent) = current {
            chain.push(parent);
            current = self.parent(parent);
        }
        chain.reverse();
        chain
    }

    /// Whether `node` matches `selector`, with its real ancestors.
    pub fn matches(&self, parser: &Parser<'_>, node: NodeHandle, selector: &Selector) -> bool {
        selector.matches(parser, node, &self.ancestors(node))
    }

    /// The nearest of `node` and its ancestors that matches `selector`.
    pub fn closest(
        &self,
        parser: &Parser<'_>,
        node: NodeHandle,
        selector: &Selector,
    ) -> Option<NodeHandle> {
        let chain = self.ancestors(node);
        std::iter::once(node)
            .chain(chain.iter().rev().copied())
            .enumerate()
            .find(|(depth, candidate)| {
                let above = chain.get(..chain.len() - depth).unwrap_or(&[]);
                selector.matches(parser, *candidate, above)
            })
            .map(|(_, candidate)| candidate)
    }
}
