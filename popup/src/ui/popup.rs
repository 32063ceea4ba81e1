//! The popup dashboard: search, filters, related dreams, the list, a dream, import/export.

use std::rc::Rc;
use std::time::Duration;

use dreamcatcher_library::api::{ExportScope, Facets, ImportProgress, ImportSummary, Mode, SearchHit, Stats, SyncOverview};
use dreamcatcher_model::Site;
use leptos::ev::KeyboardEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

use crate::backend::BackendHandle;
use crate::browser;
use crate::filters::{DateRange, Filters, option_value};
use crate::format;
use crate::ui::dream_view::DreamView;
use crate::ui::list::{DreamList, ListState, ListStatus};
use crate::sync_text::chip_label;
use crate::ui::shared::{ExportControl, SYNC_POLL, poll_while_mounted, site_label};

/// How long the search waits after the last key before asking the worker.
const SEARCH_PAUSE: Duration = Duration::from_millis(150);
/// How long a message (and its Undo) stays up.
const SNACK_DURATION: Duration = Duration::from_secs(8);

/// A short message at the bottom, optionally with Undo.
#[derive(Debug, Clone, PartialEq)]
pub struct Snack {
    serial: u64,
    pub text: String,
    pub undo_token: Option<String>,
}

/// An import in progress or just finished.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ImportState {
    pub file_name: String,
    pub progress: Option<ImportProgress>,
    pub summary: Option<ImportSummary>,
    pub error: Option<String>,
}

/// The popup's shared state, provided as context to every part of it.
#[derive(Clone, Copy)]
pub struct PopupState {
    pub backend: BackendHandle,
    pub list: ListState,
    pub open_id: RwSignal<Option<String>>,
    pub snack: RwSignal<Option<Snack>>,
    pub facets: RwSignal<Option<Facets>>,
    pub stats: RwSignal<Option<Stats>>,
    pub related: RwSignal<Vec<SearchHit>>,
    pub import: RwSignal<Option<ImportState>>,
    /// Where sync stands (read every few seconds while the popup is open).
    pub sync: RwSignal<Option<SyncOverview>>,
    snack_serial: StoredValue<u64>,
}

impl PopupState {
    pub fn new(backend: BackendHandle) -> Self {
        PopupState {
            backend,
            list: ListState::default(),
            open_id: RwSignal::new(None),
            snack: RwSignal::new(None),
            facets: RwSignal::new(None),
            stats: RwSignal::new(None),
            related: RwSignal::new(Vec::new()),
            import: RwSignal::new(None),
            sync: RwSignal::new(None),
            snack_serial: StoredValue::new(0),
        }
    }

    pub fn open_dream(self, id: String) {
        self.open_id.set(Some(id));
    }

    pub fn close_dream(self) {
        self.open_id.set(None);
        focus_list();
    }

    /// Shows a message; a newer one replaces it, and it goes away by itself.
    pub fn show_snack(self, text: String, undo_token: Option<String>) {
        let serial = self.snack_serial.get_value() + 1;
        self.snack_serial.set_value(serial);
        self.snack.set(Some(Snack { serial, text, undo_token }));
        set_timeout(
            move || {
                if self.snack.with_untracked(|s| s.as_ref().map(|s| s.serial)) == Some(serial) {
                    self.snack.set(None);
                }
            },
            SNACK_DURATION,
        );
    }

    pub fn notify(self, text: String) {
        self.show_snack(text, None);
    }

    /// Deletes at once (a closed popup must not lose or revive a deletion) and offers Undo.
    pub fn delete_dream(self, id: String) {
        let backend = self.backend.get();
        spawn_local(async move {
            match backend.delete(id).await {
                Ok(deleted) => {
                    if self.open_id.get_untracked().as_deref() == Some(deleted.id.as_str()) {
                        self.close_dream();
                    }
                    self.show_snack(format!("Deleted “{}”", deleted.title), Some(deleted.undo_token));
                    self.after_change();
                }
                Err(error) => self.notify(error.to_string()),
            }
        });
    }

    pub fn undo_delete(self, undo_token: String) {
        let backend = self.backend.get();
        spawn_local(async move {
            match backend.undo_delete(undo_token).await {
                Ok(()) => {
                    self.show_snack("Restored".into(), None);
                    self.after_change();
                }
                Err(error) => self.notify(error.to_string()),
            }
        });
    }

    /// The library changed: list, counts and menus are read again.
    pub fn after_change(self) {
        self.list.reload(self.backend, false);
        self.refresh_stats();
        self.refresh_facets();
    }

    pub fn refresh_stats(self) {
        let backend = self.backend.get();
        spawn_local(async move {
            if let Ok(stats) = backend.stats().await {
                self.stats.set(Some(stats));
            }
        });
    }

    pub fn refresh_facets(self) {
        let backend = self.backend.get();
        spawn_local(async move {
            if let Ok(facets) = backend.facets().await {
                self.facets.set(Some(facets));
            }
        });
    }

    fn refresh_sync(self) {
        let backend = self.backend.get();
        spawn_local(async move {
            // A failed read keeps the last state shown; the next poll asks again.
            if let Ok(overview) = backend.sync_status().await {
                self.sync.try_set(Some(overview));
            }
        });
    }

    pub fn open_settings(self) {
        let backend = self.backend.get();
        spawn_local(async move {
            if let Err(error) = backend.open_settings().await {
                self.notify(error.to_string());
            }
        });
    }

    fn load_related(self) {
        let backend = self.backend.get();
        spawn_local(async move {
            // Not on a chat tab, or the worker cannot tell: the section stays hidden.
            if let Ok(hits) = backend.related_to_active_tab().await {
                self.related.set(hits);
            }
        });
    }

    fn import_file(self, file: web_sys::File) {
        let backend = self.backend.get();
        let file_name = file.name();
        self.import.set(Some(ImportState { file_name: file_name.clone(), ..ImportState::default() }));
        spawn_local(async move {
            let bytes = match browser::file_bytes(&file).await {
                Ok(bytes) => bytes,
                Err(error) => {
                    self.import.update(|s| {
                        if let Some(s) = s {
                            s.error = Some(format!("Could not read {file_name}: {error}"));
                        }
                    });
                    return;
                }
            };
            let progress = Rc::new(move |report: ImportProgress| {
                self.import.update(|s| {
                    if let Some(s) = s {
                        s.progress = Some(report);
                    }
                });
            });
            let outcome = backend.import(file_name, bytes, progress).await;
            self.import.update(|s| {
                if let Some(s) = s {
                    match outcome {
                        Ok(summary) => s.summary = Some(summary),
                        Err(error) => s.error = Some(error.to_string()),
                    }
                }
            });
            self.after_change();
        });
    }
}

fn focus_list() {
    let list = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector(".list").ok().flatten())
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(list) = list {
        let _ = list.focus();
    }
}

#[component]
pub fn PopupApp() -> impl IntoView {
    let backend = BackendHandle::from_context();
    let app = PopupState::new(backend);
    provide_context(app);

    // The query and filters decide the list: any change reloads it from the top.
    Effect::new(move |_| {
        app.list.query.track();
        app.list.filters.track();
        untrack(|| app.list.reload(backend, true));
    });
    // The first page of the list is what the user waits for, and the worker answers one
    // request at a time: counts, filter menus and related dreams are asked for after it.
    let secondary_loaded = StoredValue::new(false);
    Effect::new(move |_| {
        let first_page_done = !matches!(app.list.status.get(), ListStatus::Loading);
        if first_page_done && !secondary_loaded.get_value() {
            secondary_loaded.set_value(true);
            app.refresh_stats();
            app.refresh_facets();
            app.load_related();
        }
    });
    poll_while_mounted(SYNC_POLL, move || app.refresh_sync());

    let typed = RwSignal::new(String::new());
    let filters_open = RwSignal::new(false);
    let search_ref = NodeRef::<leptos::html::Input>::new();
    let on_search = move |ev| {
        let text = event_target_value(&ev);
        typed.set(text.clone());
        set_timeout(
            move || {
                // Enter may have searched for it already: the same query again would reload
                // the list and undo the scrolling done since.
                if typed.get_untracked() == text && app.list.query.get_untracked() != text {
                    app.list.query.set(text);
                }
            },
            SEARCH_PAUSE,
        );
    };
    let on_search_key = move |ev: KeyboardEvent| match ev.key().as_str() {
        "ArrowDown" => {
            ev.prevent_default();
            if app.list.total.get_untracked() > 0 {
                app.list.selected.set(Some(0));
            }
            focus_list();
        }
        "Enter" => {
            // Search now rather than after the pause.
            let text = typed.get_untracked();
            if app.list.query.get_untracked() != text {
                app.list.query.set(text);
            }
        }
        _ => {}
    };
    let open_settings = move |_| app.open_settings();
    let dream_open = move || app.open_id.with(Option::is_some);

    view! {
        <div class="popup">
            <div class="main" inert=dream_open aria-hidden=move || dream_open().then_some("true")>
                <header class="top">
                    <input
                        type="search"
                        class="search"
                        node_ref=search_ref
                        placeholder="Search dreams"
                        aria-label="Search dreams"
                        autofocus=true
                        prop:value=move || typed.get()
                        on:input=on_search
                        on:keydown=on_search_key
                    />
                    <button
                        type="button"
                        class="filter-toggle"
                        aria-expanded=move || filters_open.get().to_string()
                        aria-controls="filters"
                        on:click=move |_| filters_open.update(|open| *open = !*open)
                    >
                        {move || match app.list.filters.with(Filters::active_count) {
                            0 => "Filters".to_string(),
                            n => format!("Filters ({n})"),
                        }}
                    </button>
                    <SyncChip />
                    <button type="button" class="icon" aria-label="Settings" title="Settings" on:click=open_settings>
                        "⚙"
                    </button>
                </header>
                <Show when=move || filters_open.get()>
                    <FilterBar />
                </Show>
                <RelatedSection />
                <StatusLine />
                <DreamList />
                <Footer />
            </div>
            {move || app.open_id.get().map(|id| view! { <DreamView id=id /> })}
            <ImportPanel />
            <SnackBar />
        </div>
    }
}

/// Where sync stands, in connected mode only; opens the settings, where the details are.
#[component]
fn SyncChip() -> impl IntoView {
    let app = expect_context::<PopupState>();
    let shown = Memo::new(move |_| app.sync.get().filter(|overview| overview.mode == Mode::Connected));
    move || {
        shown.get().map(|overview| {
            let title = overview
                .failure
                .as_ref()
                .map(|failure| format!("{}: {}", failure.title, failure.message))
                .unwrap_or_else(|| match overview.last_synced_at {
                    Some(at) => format!("Last synced {}; open the settings for details", format::relative_time(at, browser::now())),
                    None => "Not synced yet; open the settings for details".into(),
                });
            view! {
                <button
                    id="sync-chip"
                    type="button"
                    class="sync-chip"
                    data-state=overview.state.clone()
                    title=title
                    on:click=move |_| app.open_settings()
                >
                    {chip_label(&overview)}
                </button>
            }
        })
    }
}

#[component]
fn FilterBar() -> impl IntoView {
    let app = expect_context::<PopupState>();
    let filters = app.list.filters;
    let current = move || filters.get();
    let facet_options = move |pick: fn(&Facets) -> Vec<String>, selected: Option<String>| {
        app.facets
            .with(|f| f.as_ref().map(pick).unwrap_or_default())
            .into_iter()
            .map(|value| {
                let is_selected = selected.as_deref() == Some(value.as_str());
                view! { <option value=value.clone() selected=is_selected>{value.clone()}</option> }
            })
            .collect_view()
    };
    view! {
        <div class="filters" id="filters" role="group" aria-label="Filters">
            <label>
                "Site"
                <select on:change=move |ev| {
                    let site = Site::parse(&event_target_value(&ev));
                    filters.update(|f| f.site = site);
                }>
                    <option value="" selected=move || current().site.is_none()>"All"</option>
                    {[Site::Chatgpt, Site::Claude]
                        .into_iter()
                        .map(|site| view! {
                            <option value=site.as_str() selected=move || current().site == Some(site)>{site_label(site)}</option>
                        })
                        .collect_view()}
                </select>
            </label>
            <label>
                "Language"
                <select on:change=move |ev| {
                    let language = option_value(&event_target_value(&ev));
                    filters.update(|f| f.language = language);
                }>
                    <option value="">"Any"</option>
                    {move || facet_options(|f| f.languages.iter().map(|c| c.value.clone()).collect(), current().language)}
                </select>
            </label>
            <label>
                "Tag"
                <select on:change=move |ev| {
                    let tag = option_value(&event_target_value(&ev));
                    filters.update(|f| f.tag = tag);
                }>
                    <option value="">"Any"</option>
                    {move || facet_options(|f| f.tags.iter().map(|c| c.value.clone()).collect(), current().tag)}
                </select>
            </label>
            <label>
                "Date"
                <select on:change=move |ev| {
                    let date = DateRange::from_key(&event_target_value(&ev));
                    filters.update(|f| f.date = date);
                }>
                    {DateRange::ALL
                        .into_iter()
                        .map(|range| view! {
                            <option value=range.key() selected=move || current().date == range>{range.label()}</option>
                        })
                        .collect_view()}
                </select>
            </label>
            <button type="button" class="link" on:click=move |_| filters.set(Filters::default())>
                "Clear"
            </button>
        </div>
    }
}

#[component]
fn RelatedSection() -> impl IntoView {
    let app = expect_context::<PopupState>();
    move || {
        let hits = app.related.get();
        (!hits.is_empty()).then(|| {
            let count = hits.len();
            let items = hits
                .into_iter()
                .map(|hit| {
                    let id = hit.dream.id.clone();
                    let score = format!("{}%", (hit.score * 100.0).round() as u32);
                    view! {
                        <li>
                            <button type="button" class="related-item" on:click=move |_| app.open_dream(id.clone())>
                                <span class="related-title">{hit.dream.title}</span>
                                <span class="score" title="Relevance">{score}</span>
                            </button>
                        </li>
                    }
                })
                .collect_view();
            view! {
                <details class="related" open=true>
                    <summary>{format!("Related to this page ({count})")}</summary>
                    <ul>{items}</ul>
                </details>
            }
        })
    }
}

#[component]
fn StatusLine() -> impl IntoView {
    let app = expect_context::<PopupState>();
    let list = app.list;
    let text = move || {
        let total = list.total.get();
        let query = list.query.get();
        let query = query.trim();
        match list.status.get() {
            ListStatus::Failed(error) => return (true, error),
            ListStatus::Loading if total == 0 => return (false, "Loading…".into()),
            _ => {}
        }
        let line = if !query.is_empty() {
            match (total, list.capped.get()) {
                (0, _) => format!("No results for “{query}”"),
                (1, false) => format!("1 result for “{query}”"),
                (n, false) => format!("{} results for “{query}”", format::count(n)),
                (n, true) => format!("The best {} results for “{query}”", format::count(n)),
            }
        } else if total == 0 && list.filters.with(|f| f.active_count() > 0) {
            "No dreams match these filters".into()
        } else if total == 0 {
            "No dreams yet. Open a ChatGPT or Claude conversation and press Capture.".into()
        } else if total == 1 {
            "1 dream".into()
        } else {
            format!("{} dreams", format::count(total))
        };
        (false, line)
    };
    view! {
        <p class="status-line" class:error=move || text().0 role="status" aria-live="polite">
            {move || text().1}
        </p>
    }
}

#[component]
fn Footer() -> impl IntoView {
    let app = expect_context::<PopupState>();
    let storage = move || {
        app.stats.get().map(|stats| match (stats.storage_used_bytes, stats.storage_quota_bytes) {
            (Some(used), Some(quota)) if quota > 0 => {
                format!("Storage used: {} of {}", format::bytes(used), format::bytes(quota))
            }
            (Some(used), _) => format!("Storage used: {}", format::bytes(used)),
            _ => format!("{} dreams stored", format::count(stats.dreams as usize)),
        })
    };
    let on_file = move |ev: leptos::ev::Event| {
        let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else {
            return;
        };
        if let Some(file) = input.files().and_then(|files| files.get(0)) {
            app.import_file(file);
        }
        // Picking the same file again must fire `change` again.
        input.set_value("");
    };
    view! {
        <footer class="bottom">
            <div class="footer-actions">
                <label class="button">
                    "Import…"
                    <input
                        type="file"
                        class="visually-hidden"
                        accept=".json,.zip,application/json,application/zip"
                        aria-label="Import a ChatGPT, Claude or Dreamcatcher export"
                        on:change=on_file
                    />
                </label>
                <ExportControl scope=ExportScope::All label="Export all" />
            </div>
            <p class="storage">{storage}</p>
        </footer>
    }
}

/// The sentence under the progress bar.
fn progress_text(progress: Option<&ImportProgress>) -> String {
    match progress {
        None => "Reading the file…".into(),
        Some(p) if p.conversations_total > 0 => format!(
            "Importing {} of {} conversations",
            format::count(p.conversations_done as usize),
            format::count(p.conversations_total as usize)
        ),
        Some(p) if p.bytes_received < p.total_bytes => {
            format!("Sending {} of {}", format::bytes(p.bytes_received), format::bytes(p.total_bytes))
        }
        Some(_) => "Reading conversations…".into(),
    }
}

#[component]
fn ImportPanel() -> impl IntoView {
    let app = expect_context::<PopupState>();
    move || {
        app.import.get().map(|state| {
            let finished = state.error.is_some() || state.summary.is_some();
            let body = if let Some(error) = state.error {
                view! { <p class="error" role="alert">{error}</p> }.into_any()
            } else if let Some(summary) = state.summary {
                let skipped_count = summary.skipped.len();
                let skipped = summary
                    .skipped
                    .into_iter()
                    .take(50)
                    .map(|s| view! { <li><strong>{s.item}</strong>": "{s.reason}</li> })
                    .collect_view();
                view! {
                    <p class="summary" role="status">
                        {format!(
                            "Added {} · Updated {} · Already there {} · Skipped {}",
                            summary.added, summary.updated, summary.unchanged, skipped_count
                        )}
                    </p>
                    {(skipped_count > 0).then(|| view! {
                        <ul class="skipped" aria-label="Skipped">{skipped}</ul>
                        {(skipped_count > 50).then(|| format!("…and {} more", skipped_count - 50))}
                    })}
                }
                .into_any()
            } else {
                let (value, max) = match &state.progress {
                    Some(p) if p.conversations_total > 0 => (u64::from(p.conversations_done), u64::from(p.conversations_total)),
                    Some(p) if p.total_bytes > 0 => (p.bytes_received, p.total_bytes),
                    _ => (0, 1),
                };
                view! {
                    <progress max=max value=value aria-label="Import progress"></progress>
                    <p role="status">{progress_text(state.progress.as_ref())}</p>
                }
                .into_any()
            };
            view! {
                <div class="import-panel" role="dialog" aria-label="Import">
                    <h2>{format!("Import {}", state.file_name)}</h2>
                    {body}
                    <button type="button" disabled=!finished on:click=move |_| app.import.set(None)>
                        "Close"
                    </button>
                </div>
            }
        })
    }
}

#[component]
fn SnackBar() -> impl IntoView {
    let app = expect_context::<PopupState>();
    view! {
        <div class="snackbar-slot" role="status" aria-live="polite">
            {move || {
                app.snack.get().map(|snack| {
                    let undo = snack.undo_token.map(|token| {
                        let token = StoredValue::new(token);
                        view! {
                            <button type="button" class="undo" on:click=move |_| {
                                app.snack.set(None);
                                app.undo_delete(token.get_value());
                            }>"Undo"</button>
                        }
                    });
                    view! {
                        <div class="snackbar">
                            <span class="snack-text">{snack.text}</span>
                            {undo}
                            <button type="button" class="icon" aria-label="Dismiss" on:click=move |_| app.snack.set(None)>
                                "×"
                            </button>
                        </div>
                    }
                })
            }}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(bytes: u64, total_bytes: u64, done: u32, total: u32) -> ImportProgress {
        ImportProgress {
            import_id: "i".into(),
            bytes_received: bytes,
            total_bytes,
            conversations_done: done,
            conversations_total: total,
            summary: None,
            error: None,
        }
    }

    #[test]
    fn import_progress_reads_plainly() {
        assert_eq!(progress_text(None), "Reading the file…");
        assert_eq!(progress_text(Some(&report(1_500_000, 4_000_000, 0, 0))), "Sending 1.5 MB of 4.0 MB");
        assert_eq!(progress_text(Some(&report(4, 4, 0, 0))), "Reading conversations…");
        assert_eq!(progress_text(Some(&report(4, 4, 120, 1200))), "Importing 120 of 1,200 conversations");
    }
}
