//! The virtualised dream list: only the rows in view (plus a few) exist in the DOM, and only
//! the pages of rows those rows need are asked of the worker, for the browse list and for
//! search results alike.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use dreamcatcher_library::api::{DreamFilter, DreamSummary, Highlight, SearchHit};
use leptos::ev::KeyboardEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::backend::{Backend, BackendHandle};
use crate::browser;
use crate::filters::Filters;
use crate::format::relative_time;
use crate::highlight::Highlighted;
use crate::ui::popup::PopupState;
use crate::ui::shared::{highlighted, site_label};
use crate::virtual_list::{pages_for, row_after_key, scroll_to_reveal, visible_rows};

/// Fixed row height (px): the window arithmetic depends on it; the CSS uses the same value.
pub const ROW_PIXELS: u32 = 64;
const ROW_HEIGHT: f64 = ROW_PIXELS as f64;
/// Rows per request to the worker.
pub const PAGE_SIZE: usize = 50;
/// Extra rows rendered above and below the visible ones.
const OVERSCAN: usize = 6;
/// One row: the dream's summary, the text shown under its title, and the search's matches
/// in the title.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub summary: DreamSummary,
    pub snippet: Highlighted,
    pub title_spans: Vec<(usize, usize)>,
}

fn spans(highlights: &[Highlight]) -> Vec<(usize, usize)> {
    highlights.iter().map(|h| (h.start as usize, h.end as usize)).collect()
}

impl Row {
    fn from_summary(summary: DreamSummary) -> Row {
        let snippet = Highlighted::plain(summary.preview.clone());
        Row { summary, snippet, title_spans: Vec::new() }
    }

    fn from_hit(hit: SearchHit) -> Row {
        let snippet = Highlighted { spans: spans(&hit.highlights), text: hit.snippet };
        Row { title_spans: spans(&hit.title_highlights), summary: hit.dream, snippet }
    }
}

/// One page of rows as the worker answered it.
struct LoadedPage {
    total: usize,
    /// Search only: more dreams match than the ranking holds.
    capped: bool,
    rows: Vec<Row>,
}

/// Asks for page `page` of the browse list (empty query) or of the search results.
async fn load_page(backend: &dyn Backend, query: &str, filter: DreamFilter, page: usize) -> Result<LoadedPage, String> {
    let offset = u32::try_from(page * PAGE_SIZE).unwrap_or(u32::MAX);
    if query.is_empty() {
        let answer = backend.list_dreams(offset, PAGE_SIZE as u32, filter).await.map_err(|e| e.to_string())?;
        Ok(LoadedPage {
            total: answer.total as usize,
            capped: false,
            rows: answer.items.into_iter().map(Row::from_summary).collect(),
        })
    } else {
        let answer =
            backend.search(query.to_string(), offset, PAGE_SIZE as u32, filter).await.map_err(|e| e.to_string())?;
        Ok(LoadedPage {
            total: answer.total as usize,
            capped: answer.total_capped,
            rows: answer.hits.into_iter().map(Row::from_hit).collect(),
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ListStatus {
    Loading,
    Ready,
    Failed(String),
}

/// Everything the list shows, as signals (copyable into any handler).
#[derive(Clone, Copy)]
pub struct ListState {
    /// The search text, committed after the typing pause.
    pub query: RwSignal<String>,
    pub filters: RwSignal<Filters>,
    pub total: RwSignal<usize>,
    /// The search matched more dreams than `total` (its ranking stops at a cap).
    pub capped: RwSignal<bool>,
    /// Loaded pages of rows, by page number.
    pub pages: RwSignal<HashMap<usize, Vec<Row>>>,
    pub status: RwSignal<ListStatus>,
    pub selected: RwSignal<Option<usize>>,
    pub scroll_top: RwSignal<f64>,
    pub viewport_height: RwSignal<f64>,
    /// Bumped whenever the loaded rows are replaced, so rendered rows are rebuilt.
    version: RwSignal<u64>,
    /// Answers to older requests than the latest reload are dropped.
    generation: StoredValue<u64>,
    in_flight: StoredValue<HashSet<usize>>,
}

impl Default for ListState {
    fn default() -> Self {
        ListState {
            query: RwSignal::new(String::new()),
            filters: RwSignal::new(Filters::default()),
            total: RwSignal::new(0),
            capped: RwSignal::new(false),
            pages: RwSignal::new(HashMap::new()),
            status: RwSignal::new(ListStatus::Loading),
            selected: RwSignal::new(None),
            scroll_top: RwSignal::new(0.0),
            viewport_height: RwSignal::new(0.0),
            version: RwSignal::new(0),
            generation: StoredValue::new(0),
            in_flight: StoredValue::new(HashSet::new()),
        }
    }
}

fn row_in(pages: &HashMap<usize, Vec<Row>>, index: usize) -> Option<Row> {
    pages.get(&(index / PAGE_SIZE)).and_then(|page| page.get(index % PAGE_SIZE)).cloned()
}

impl ListState {
    pub fn searching(&self) -> bool {
        !self.query.with(|q| q.trim().is_empty())
    }

    pub fn row_untracked(&self, index: usize) -> Option<Row> {
        self.pages.with_untracked(|pages| row_in(pages, index))
    }

    fn visible_untracked(&self) -> Range<usize> {
        visible_rows(
            self.scroll_top.get_untracked(),
            self.viewport_height.get_untracked(),
            ROW_HEIGHT,
            self.total.get_untracked(),
            OVERSCAN,
        )
    }

    /// Asks again for what is shown: from the top for a new query or filter, at the same
    /// position after a change (delete, undo, import), keeping the old rows until the new
    /// ones arrive so nothing flickers.
    pub fn reload(self, backend: BackendHandle, from_top: bool) {
        let generation = self.generation.get_value() + 1;
        self.generation.set_value(generation);
        self.in_flight.set_value(HashSet::new());
        if from_top {
            self.scroll_top.set(0.0);
            self.selected.set(None);
        }
        self.status.set(ListStatus::Loading);
        let query = self.query.get_untracked().trim().to_string();
        let filter = self.filters.get_untracked().to_dream_filter(browser::now());
        let rows = if from_top { 0..1 } else { self.visible_untracked() };
        let backend = backend.get();
        spawn_local(async move {
            let mut loaded = HashMap::new();
            let mut total = 0;
            let mut capped = false;
            let mut failure = None;
            for page in pages_for(&rows, PAGE_SIZE).chain(if rows.is_empty() { 0..1 } else { 0..0 }) {
                match load_page(backend.as_ref(), &query, filter.clone(), page).await {
                    Ok(answer) => {
                        total = answer.total;
                        capped = answer.capped;
                        loaded.insert(page, answer.rows);
                    }
                    Err(error) => {
                        failure = Some(error);
                        break;
                    }
                }
            }
            if self.generation.get_value() != generation {
                return;
            }
            match failure {
                None => {
                    self.total.set(total);
                    self.capped.set(capped);
                    self.pages.set(loaded);
                    self.version.update(|v| *v += 1);
                    self.selected.update(|s| *s = s.filter(|i| *i < total));
                    self.status.set(ListStatus::Ready);
                }
                Some(error) => self.status.set(ListStatus::Failed(error)),
            }
        });
    }

    /// Loads the pages the given rows need and nobody has asked for yet.
    fn fetch_missing(self, backend: BackendHandle, rows: Range<usize>) {
        let missing: Vec<usize> =
            self.pages.with(|pages| pages_for(&rows, PAGE_SIZE).filter(|p| !pages.contains_key(p)).collect());
        for page in missing {
            if self.in_flight.with_value(|f| f.contains(&page)) {
                continue;
            }
            self.in_flight.update_value(|f| {
                f.insert(page);
            });
            let generation = self.generation.get_value();
            let query = self.query.get_untracked().trim().to_string();
            let filter = self.filters.get_untracked().to_dream_filter(browser::now());
            let backend = backend.get();
            spawn_local(async move {
                let answer = load_page(backend.as_ref(), &query, filter, page).await;
                if self.generation.get_value() != generation {
                    return;
                }
                self.in_flight.update_value(|f| {
                    f.remove(&page);
                });
                match answer {
                    Ok(answer) => {
                        self.total.set(answer.total);
                        self.capped.set(answer.capped);
                        self.pages.update(|pages| {
                            pages.insert(page, answer.rows);
                        });
                    }
                    Err(error) => self.status.set(ListStatus::Failed(error)),
                }
            });
        }
    }

    /// Changes a loaded row in place (the dream was opened, its tags edited).
    pub fn patch(self, id: &str, change: impl Fn(&mut DreamSummary)) {
        self.pages.update(|pages| {
            for row in pages.values_mut().flatten().filter(|row| row.summary.id == id) {
                change(&mut row.summary);
            }
        });
    }
}

/// The height the list really has on screen; without a laid-out height (no stylesheet yet,
/// or hidden) the window's height bounds it, so the list never renders every row.
fn measured_height(element: &web_sys::HtmlElement) -> f64 {
    let window_height = web_sys::window()
        .and_then(|w| w.inner_height().ok())
        .and_then(|h| h.as_f64())
        .unwrap_or(600.0);
    let height = f64::from(element.client_height());
    if height > 0.0 { height.min(window_height) } else { window_height }
}

#[component]
pub fn DreamList() -> impl IntoView {
    let app = expect_context::<PopupState>();
    let list = app.list;
    let list_ref = NodeRef::<leptos::html::Div>::new();
    let visible = Memo::new(move |_| {
        visible_rows(list.scroll_top.get(), list.viewport_height.get(), ROW_HEIGHT, list.total.get(), OVERSCAN)
    });

    Effect::new(move |_| {
        if let Some(element) = list_ref.get() {
            list.viewport_height.set(measured_height(&element));
        }
    });
    let resize = window_event_listener(leptos::ev::resize, move |_| {
        if let Some(element) = list_ref.get_untracked() {
            list.viewport_height.set(measured_height(&element));
        }
    });
    on_cleanup(move || resize.remove());
    // A position set from code (reload from the top, keyboard) moves the element too.
    Effect::new(move |_| {
        let top = list.scroll_top.get();
        if let Some(element) = list_ref.get_untracked()
            && (f64::from(element.scroll_top()) - top).abs() >= 1.0
        {
            element.set_scroll_top(top as i32);
        }
    });
    Effect::new(move |_| list.fetch_missing(app.backend, visible.get()));

    let on_scroll = move |_| {
        if let Some(element) = list_ref.get_untracked() {
            list.scroll_top.set(f64::from(element.scroll_top()));
        }
    };
    let on_keydown = move |ev: KeyboardEvent| {
        let key = ev.key();
        let total = list.total.get_untracked();
        let viewport = list.viewport_height.get_untracked();
        let rows_per_page = (viewport / ROW_HEIGHT).floor().max(1.0) as usize;
        if let Some(next) = row_after_key(&key, list.selected.get_untracked(), total, rows_per_page) {
            ev.prevent_default();
            list.selected.set(Some(next));
            let top = scroll_to_reveal(next, list.scroll_top.get_untracked(), viewport, ROW_HEIGHT);
            list.scroll_top.set(top);
            return;
        }
        let selected_row = list.selected.get_untracked().and_then(|i| list.row_untracked(i));
        match (key.as_str(), selected_row) {
            ("Enter", Some(row)) => {
                ev.prevent_default();
                app.open_dream(row.summary.id);
            }
            ("Delete", Some(row)) => {
                ev.prevent_default();
                app.delete_dream(row.summary.id);
            }
            _ => {}
        }
    };
    let rows = move || {
        let range = visible.get();
        let version = list.version.get();
        list.pages.with(|pages| range.map(|i| (version, i, row_in(pages, i))).collect::<Vec<_>>())
    };

    view! {
        <div
            class="list"
            node_ref=list_ref
            role="listbox"
            tabindex="0"
            aria-label="Dreams"
            aria-busy=move || (list.status.get() == ListStatus::Loading).to_string()
            aria-activedescendant=move || list.selected.get().map(|i| format!("row-{i}"))
            on:scroll=on_scroll
            on:keydown=on_keydown
        >
            <div class="list-spacer" style:height=move || format!("{}px", list.total.get() as u64 * u64::from(ROW_PIXELS))>
                <For
                    each=rows
                    key=|(version, index, row)| {
                        (*version, *index, row.as_ref().map(|r| (r.summary.id.clone(), r.summary.opened, r.summary.tags.clone())))
                    }
                    children=move |(_, index, row)| view! { <RowView index=index row=row /> }
                />
            </div>
        </div>
    }
}

#[component]
fn RowView(index: usize, row: Option<Row>) -> impl IntoView {
    let app = expect_context::<PopupState>();
    let position = format!("transform:translateY({}px)", index as u64 * u64::from(ROW_PIXELS));
    let id_attr = format!("row-{index}");
    let selected = move || app.list.selected.get() == Some(index);
    let Some(row) = row else {
        return view! {
            <div class="row placeholder" id=id_attr role="option" aria-selected="false" aria-busy="true" style=position>
                <span class="row-title">"Loading…"</span>
            </div>
        }
        .into_any();
    };
    let summary = row.summary;
    let title = highlighted(&summary.title, &row.title_spans);
    let snippet = highlighted(&row.snippet.text, &row.snippet.spans);
    let site = summary.site;
    let when = relative_time(summary.updated_at, browser::now());
    let languages = summary.languages.iter().take(2).cloned().collect::<Vec<_>>().join(", ");
    let tags = summary.tags.iter().take(3).map(|t| format!("#{t}")).collect::<Vec<_>>().join(" ");
    let unopened = !summary.opened;
    let id = summary.id;
    view! {
        <div
            class="row"
            class:selected=selected
            class:unopened=unopened
            id=id_attr
            role="option"
            aria-selected=move || selected().to_string()
            style=position
            on:click=move |_| {
                app.list.selected.set(Some(index));
                app.open_dream(id.clone());
            }
        >
            <div class="row-title">
                {unopened.then(|| view! { <span class="new-dot" title="Not opened yet"></span><span class="visually-hidden">"New: "</span> })}
                {title}
            </div>
            <div class="row-snippet">{snippet}</div>
            <div class="row-meta">
                <span class=format!("site site-{}", site.as_str())>{site_label(site)}</span>
                <span>{when}</span>
                {(!languages.is_empty()).then(|| view! { <span class="langs">{languages}</span> })}
                {(!tags.is_empty()).then(|| view! { <span class="row-tags">{tags}</span> })}
            </div>
        </div>
    }
    .into_any()
}
