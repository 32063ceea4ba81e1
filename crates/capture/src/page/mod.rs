//! Chat pages (saved or rendered HTML) → [`Conversation`].
//!
//! Each page generation of each site is one entry of the layout table (`layouts.rs`), read by
//! one engine (`extract.rs`). A page no entry recognises, or whose containers are there but
//! whose messages are not, is an error naming what was looked for: never a half capture.
//!
//! Pages keep only the mounted part of a long chat (virtual lists): the web-API route is the
//! complete one; this route serves the capture button's fallback and saved pages.

mod dom;
mod extract;
mod layouts;
mod meta;

use dreamcatcher_model::{CaptureSource, Conversation, Role, Site};
use thiserror::Error;

use crate::html;
use layouts::{LAYOUTS, Layout};

/// Why a page could not be captured.
#[derive(Debug, Error)]
pub enum PageError {
    #[error("page HTML is empty")]
    Empty,
    #[error("page HTML could not be parsed: {0}")]
    Html(#[from] html::HtmlError),
    #[error("no supported {site} chat layout found; looked for: {looked_for}")]
    LayoutNotRecognised {
        site: &'static str,
        looked_for: String,
    },
    #[error(
        "page matches layout {layout} ({matched}) but no messages were found in it; looked for {looked_for}"
    )]
    NoMessages {
        layout: &'static str,
        matched: String,
        looked_for: String,
    },
    #[error(
        "page matches layout {layout}: found {found} {found_role} message(s) but no {missing_role} message; looked for {looked_for}"
    )]
    OneSided {
        layout: &'static str,
        found: usize,
        found_role: &'static str,
        missing_role: &'static str,
        looked_for: String,
    },
    #[error(
        "layout {layout}: selector `{selector}` is invalid at byte {offset}: expected {expected}"
    )]
    BadSelector {
        layout: &'static str,
        selector: &'static str,
        offset: usize,
        expected: &'static str,
    },
}

/// The page generations this module reads (name and site), in table order.
pub fn layouts() -> impl Iterator<Item = (&'static str, Site)> {
    LAYOUTS.iter().map(|layout| (layout.name, layout.site))
}

/// Reads a chat page into a conversation.
///
/// `url` is the page's address when known (else the page's canonical link or `og:url` is
/// used); it gives the site's conversation id. `site_hint` (or the URL's host) limits
/// detection to that site's layouts.
pub fn parse_page(
    html: &str,
    url: Option<&str>,
    site_hint: Option<Site>,
) -> Result<Conversation, PageError> {
    if html.trim().is_empty() {
        return Err(PageError::Empty);
    }
    let source = html::repair(html);
    let vdom = html::parse(&source)?;
    let parser = vdom.parser();
    let roots = vdom.children();

    let head = meta::head_facts(parser, roots);
    let url = url
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_owned)
        .or(head.canonical)
        .or(head.og_url);
    let site_filter = site_hint.or_else(|| url.as_deref().and_then(meta::site_of_url));
    let candidates: Vec<&'static Layout> = LAYOUTS
        .iter()
        .filter(|layout| site_filter.is_none_or(|site| layout.site == site))
        .collect();

    let mut first_failure = None;
    let mut detector = extract::Detector::new(candidates.clone())?;
    while let Some(layout) = detector.next(parser, vdom.nodes().len()) {
        match extract::extract(parser, roots, layout) {
            Ok(extraction) => {
                let site = site_filter.unwrap_or(layout.site);
                let site_id = url.as_deref().and_then(|u| meta::site_id_from_url(u, site));
                let title = head
                    .title
                    .as_deref()
                    .and_then(meta::clean_title)
                    .unwrap_or_else(|| {
                        let prompt = extraction.messages.iter().find(|m| m.role == Role::User);
                        meta::title_from_prompt(
                            prompt.map(|m| m.markdown.as_str()).unwrap_or_default(),
                        )
                    });
                let mut conversation = Conversation::new(site, site_id, title);
                conversation.url = url;
                conversation.model = extraction.model;
                conversation.source = CaptureSource::Page {
                    layout: layout.name.to_owned(),
                };
                conversation.messages = extraction.messages;
                return Ok(crate::finish_conversation(conversation));
            }
            Err(error) => {
                first_failure.get_or_insert(error);
            }
        }
    }
    Err(
        first_failure.unwrap_or_else(|| PageError::LayoutNotRecognised {
            site: site_filter.map_or("ChatGPT or Claude", |site| match site {
                Site::Chatgpt => "ChatGPT",
                Site::Claude => "Claude",
            }),
            looked_for: candidates
                .iter()
                .map(|layout| format!("{} ({})", layout.name, layout.detect.join(" + ")))
                .collect::<Vec<_>>()
                .join("; "),
        }),
    )
}
