//! What the browser benchmark (tests/bench) calls on our side: the extension worker's capture
//! path (page HTML → Conversation, as `dreamcatcher-library` runs it for a page capture), the
//! HTML → Markdown converter alone (for turndown's suite), and the search index (build from
//! fragments, snapshot, restore, query). Benchmark-only: nothing here ships.

use chrono::{DateTime, Utc};
use dreamcatcher_model::{Conversation, Dream, Message, Role, Site};
use dreamcatcher_search::{SearchIndex, SearchOptions};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

fn site_of(url: &str) -> Site {
    if url.contains("claude.ai") {
        Site::Claude
    } else {
        Site::Chatgpt
    }
}

fn timestamp(millis: f64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(millis as i64).unwrap_or_default()
}

fn error(what: &str, detail: impl std::fmt::Display) -> JsError {
    JsError::new(&format!("{what}: {detail}"))
}

/// Counts that let the harness check a capture without moving the whole conversation.
#[derive(Serialize)]
struct CaptureCounts {
    messages: usize,
    code_blocks: usize,
    markdown_bytes: usize,
}

/// The page route of the worker's capture request: `parse_page` with the tab's URL and its
/// site (fragments extracted, id assigned). Returns the counts as JSON.
#[wasm_bindgen]
pub fn capture_page(html: &str, url: &str) -> Result<String, JsError> {
    let conversation = parse(html, url)?;
    let counts = CaptureCounts {
        messages: conversation.messages.len(),
        code_blocks: conversation.code_block_count(),
        markdown_bytes: conversation.messages.iter().map(|m| m.markdown.len()).sum(),
    };
    serde_json::to_string(&counts).map_err(|e| error("capture counts", e))
}

/// The same capture, returning the whole Conversation as JSON (for the output checks).
#[wasm_bindgen]
pub fn capture_page_json(html: &str, url: &str) -> Result<String, JsError> {
    serde_json::to_string(&parse(html, url)?).map_err(|e| error("conversation JSON", e))
}

fn parse(html: &str, url: &str) -> Result<Conversation, JsError> {
    dreamcatcher_capture::page::parse_page(html, Some(url), Some(site_of(url)))
        .map_err(|e| error(&format!("page capture of {url}"), e))
}

/// The converter alone, on an HTML fragment (turndown's suite cases).
#[wasm_bindgen]
pub fn html_to_markdown(html: &str) -> String {
    dreamcatcher_capture::html::html_to_markdown(html)
}

/// One searchable fragment as the harness generates it; the peers index the same records.
#[derive(Deserialize)]
struct Fragment {
    /// Fragments with the same conversation number belong to one dream.
    conversation: u32,
    title: String,
    #[serde(default)]
    language: String,
    prose: String,
    #[serde(default)]
    code: String,
}

/// Dreams built from fragments (outside the timed build) and the index over them.
#[wasm_bindgen]
pub struct BenchIndex {
    dreams: Vec<Dream>,
    index: SearchIndex,
    now: DateTime<Utc>,
}

#[wasm_bindgen]
impl BenchIndex {
    /// Turns a JSON array of fragments into dreams: one per conversation number, one
    /// assistant message per fragment (its prose, then its code fenced), fragments extracted
    /// the way every capture route does. `now_ms` is the clock the scorer's recency uses.
    #[wasm_bindgen(constructor)]
    pub fn new(fragments_json: &str, now_ms: f64) -> Result<BenchIndex, JsError> {
        let fragments: Vec<Fragment> =
            serde_json::from_str(fragments_json).map_err(|e| error("fragments JSON", e))?;
        let now = timestamp(now_ms);
        let mut dreams: Vec<Dream> = Vec::new();
        let mut current: Option<(u32, Conversation)> = None;
        for fragment in fragments {
            if current
                .as_ref()
                .is_none_or(|(number, _)| *number != fragment.conversation)
            {
                if let Some((_, done)) = current.take() {
                    dreams.push(Dream::captured(
                        dreamcatcher_capture::finish_conversation(done),
                        now,
                    ));
                }
                let mut conversation = Conversation::new(
                    Site::Chatgpt,
                    Some(format!("bench-{}", fragment.conversation)),
                    fragment.title.clone(),
                );
                conversation.updated_at = Some(now);
                current = Some((fragment.conversation, conversation));
            }
            let markdown = if fragment.code.is_empty() {
                fragment.prose
            } else {
                format!(
                    "{}\n\n```{}\n{}\n```\n",
                    fragment.prose, fragment.language, fragment.code
                )
            };
            if let Some((_, conversation)) = current.as_mut() {
                conversation
                    .messages
                    .push(Message::new(Role::Assistant, markdown));
            }
        }
        if let Some((_, done)) = current.take() {
            dreams.push(Dream::captured(
                dreamcatcher_capture::finish_conversation(done),
                now,
            ));
        }
        Ok(BenchIndex {
            dreams,
            index: SearchIndex::new(),
            now,
        })
    }

    /// Indexes every dream into a fresh index (the timed build).
    pub fn build(&mut self) {
        let mut index = SearchIndex::new();
        index.upsert_dreams(&self.dreams);
        self.index = index;
    }

    /// Documents in the index (dreams and their fragments).
    pub fn documents(&self) -> usize {
        self.index.len()
    }

    pub fn code_blocks(&self) -> usize {
        self.dreams
            .iter()
            .map(|d| d.conversation.code_block_count())
            .sum()
    }

    /// The serialised index, as the worker saves it.
    pub fn snapshot(&self) -> Vec<u8> {
        self.index.to_snapshot()
    }

    /// Replaces the index with one restored from a snapshot.
    pub fn restore(&mut self, bytes: &[u8]) -> Result<(), JsError> {
        self.index = SearchIndex::from_snapshot(bytes).map_err(|e| error("snapshot", e))?;
        Ok(())
    }

    /// Ranked results, as "dream id" or "dream id#fragment" strings.
    pub fn search(&self, query: &str, limit: usize) -> Vec<String> {
        let options = SearchOptions {
            limit,
            ..SearchOptions::default()
        };
        self.index
            .search(query, &options, self.now)
            .into_iter()
            .map(|hit| match hit.fragment {
                Some(fragment) => format!("{}#{fragment:?}", hit.dream_id),
                None => hit.dream_id,
            })
            .collect()
    }
}
