//! The settings page: mode and server, capture options, and the user's data.

use dreamcatcher_library::api::{ExportScope, Mode, Settings, Stats};
use dreamcatcher_model::Site;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::backend::{BackendHandle, Shortcut};
use crate::format;
use crate::ui::shared::{ExportControl, site_label};
use crate::validate::{DELETE_CONFIRMATION, delete_confirmed, pairing_code, server_url};

/// Which hosts each site's switch covers (shown next to it).
fn site_hosts(site: Site) -> &'static str {
    match site {
        Site::Chatgpt => "chatgpt.com, chat.openai.com",
        Site::Claude => "claude.ai",
    }
}

/// What the line beside "Save settings" says: the last save's outcome, until the form is
/// changed again after a successful save.
fn save_line(last_save: &str, dirty: bool) -> String {
    if dirty && last_save == SAVED { "Unsaved changes".into() } else { last_save.to_string() }
}

const SAVED: &str = "Saved";

#[component]
pub fn OptionsApp() -> impl IntoView {
    let backend = BackendHandle::from_context();
    let saved = RwSignal::new(None::<Settings>);
    let draft = RwSignal::new(Settings::default());
    let url_text = RwSignal::new(String::new());
    let load_error = RwSignal::new(None::<String>);
    let save_status = RwSignal::new(String::new());
    {
        let backend = backend.get();
        spawn_local(async move {
            match backend.settings().await {
                Ok(settings) => {
                    url_text.set(settings.server_url.clone().unwrap_or_default());
                    draft.set(settings.clone());
                    saved.set(Some(settings));
                }
                Err(error) => load_error.set(Some(error.to_string())),
            }
        });
    }
    // An empty address is fine (nothing to connect to yet); a typed one must be valid.
    let url_check = move || {
        let text = url_text.get();
        if text.trim().is_empty() { Ok(None) } else { server_url(&text).map(Some) }
    };
    let pending = move || {
        let mut next = draft.get();
        next.server_url = url_check().ok().flatten();
        next
    };
    let dirty = move || saved.get().is_some_and(|s| s != pending());
    let save = move |_| {
        let settings = pending();
        let backend = backend.get();
        save_status.set("Saving…".into());
        spawn_local(async move {
            match backend.save_settings(settings).await {
                Ok(stored) => {
                    url_text.set(stored.server_url.clone().unwrap_or_default());
                    draft.set(stored.clone());
                    saved.set(Some(stored));
                    save_status.set(SAVED.into());
                }
                Err(error) => save_status.set(error.to_string()),
            }
        });
    };

    view! {
        <main class="options">
            <h1>"Dreamcatcher settings"</h1>
            {move || load_error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            // The form appears once the stored settings are in, so nothing typed is overwritten.
            <Show
                when=move || saved.with(Option::is_some)
                fallback=move || (load_error.with(Option::is_none)).then(|| view! { <p>"Loading settings…"</p> })
            >
                <ModeSection draft=draft url_text=url_text url_error=Signal::derive(move || url_check().err().map(|e| e.to_string())) />
                <CaptureSection draft=draft />
                <div class="save-bar">
                    <button
                        type="button"
                        class="primary"
                        on:click=save
                        disabled=move || !dirty() || url_check().is_err()
                    >
                        "Save settings"
                    </button>
                    <span role="status">{move || save_line(&save_status.get(), dirty())}</span>
                </div>
            </Show>
            <DataSection />
        </main>
    }
}

#[component]
fn ModeSection(draft: RwSignal<Settings>, url_text: RwSignal<String>, url_error: Signal<Option<String>>) -> impl IntoView {
    let backend = BackendHandle::from_context();
    let available = backend.get().connected_mode_available();
    let code_text = RwSignal::new(String::new());
    let code_check = move || {
        let text = code_text.get();
        if text.trim().is_empty() { None } else { Some(pairing_code(&text)) }
    };
    let test_status = RwSignal::new(String::new());
    let can_test = move || available && url_error.get().is_none() && !url_text.get().trim().is_empty() && matches!(code_check(), Some(Ok(_)));
    let test = move |_| {
        let Some(Ok(code)) = code_check() else { return };
        let url = url_text.get_untracked();
        let Ok(url) = server_url(&url) else { return };
        let backend = backend.get();
        test_status.set("Connecting…".into());
        spawn_local(async move {
            match backend.pair(url, code).await {
                Ok(()) => test_status.set("Connected: this browser is paired with the server.".into()),
                Err(error) => test_status.set(error.to_string()),
            }
        });
    };
    let mode_radio = move |mode: Mode, label: &'static str, detail: &'static str, enabled: bool| {
        view! {
            <label class="choice" class:disabled=!enabled>
                <input
                    type="radio"
                    name="mode"
                    disabled=!enabled
                    prop:checked=move || draft.with(|d| d.mode == mode)
                    on:change=move |_| draft.update(|d| d.mode = mode)
                />
                <span><strong>{label}</strong>" — "{detail}</span>
            </label>
        }
    };
    view! {
        <section aria-labelledby="mode-heading">
            <h2 id="mode-heading">"Mode"</h2>
            <fieldset>
                <legend class="visually-hidden">"Mode"</legend>
                {mode_radio(Mode::Standalone, "Standalone", "your library stays in this browser.", true)}
                {mode_radio(Mode::Connected, "Connected", "sync with a PipelineOS server.", available)}
            </fieldset>
            {(!available).then(|| view! {
                <p class="note">
                    "Connected mode is not available in this version yet. You can enter your server's address now: it is checked and saved, and pairing will work once sync is built. Nothing leaves this browser until then."
                </p>
            })}
            <div class="field">
                <label for="server-url">"PipelineOS server URL"</label>
                <input
                    id="server-url"
                    type="url"
                    inputmode="url"
                    spellcheck="false"
                    placeholder="https://pipelineos.example.com"
                    aria-describedby="server-url-message"
                    aria-invalid=move || url_error.get().is_some().to_string()
                    prop:value=move || url_text.get()
                    on:input=move |ev| url_text.set(event_target_value(&ev))
                />
                <p id="server-url-message" class="field-message" class:error=move || url_error.get().is_some()>
                    {move || url_error.get().unwrap_or_else(|| "https://, or http:// for a server on this computer.".into())}
                </p>
            </div>
            <div class="field">
                <label for="pairing-code">"Pairing code"</label>
                <input
                    id="pairing-code"
                    autocomplete="off"
                    spellcheck="false"
                    placeholder="K7QM-4XZP"
                    aria-describedby="pairing-code-message"
                    aria-invalid=move || matches!(code_check(), Some(Err(_))).to_string()
                    prop:value=move || code_text.get()
                    on:input=move |ev| code_text.set(event_target_value(&ev))
                />
                <p id="pairing-code-message" class="field-message" class:error=move || matches!(code_check(), Some(Err(_)))>
                    {move || match code_check() {
                        Some(Err(error)) => error.to_string(),
                        Some(Ok(code)) => format!("Code {code} looks right."),
                        None => "Printed on the server by “dreamcatcher-server pair NAME”; valid for a few minutes.".into(),
                    }}
                </p>
            </div>
            <div class="row-actions">
                <button type="button" on:click=test disabled=move || !can_test()>"Test connection"</button>
                <span class="field-message" role="status">
                    {move || {
                        if available {
                            test_status.get()
                        } else {
                            "Testing needs connected mode, which is not built yet.".into()
                        }
                    }}
                </span>
            </div>
        </section>
    }
}

#[component]
fn CaptureSection(draft: RwSignal<Settings>) -> impl IntoView {
    let backend = BackendHandle::from_context();
    let shortcuts = RwSignal::new(None::<Result<Vec<Shortcut>, String>>);
    {
        let backend = backend.get();
        spawn_local(async move {
            shortcuts.set(Some(backend.shortcuts().await.map_err(|e| e.to_string())));
        });
    }
    let open_shortcuts = move |_| {
        let backend = backend.get();
        spawn_local(async move {
            let _ = backend.open_tab("chrome://extensions/shortcuts".into()).await;
        });
    };
    let site_switch = move |site: Site| {
        view! {
            <label class="choice">
                <input
                    type="checkbox"
                    prop:checked=move || draft.with(|d| d.capture_sites.contains(&site))
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        draft.update(|d| {
                            d.capture_sites.retain(|s| *s != site);
                            if on {
                                d.capture_sites.push(site);
                                d.capture_sites.sort();
                            }
                        });
                    }
                />
                <span><strong>{site_label(site)}</strong>" ("{site_hosts(site)}")"</span>
            </label>
        }
    };
    view! {
        <section aria-labelledby="capture-heading">
            <h2 id="capture-heading">"Capture"</h2>
            <div class="shortcuts">
                {move || match shortcuts.get() {
                    None => view! { <p>"Reading keyboard shortcuts…"</p> }.into_any(),
                    Some(Err(error)) => view! { <p class="field-message">{format!("Keyboard shortcuts unavailable: {error}")}</p> }.into_any(),
                    Some(Ok(list)) => view! {
                        <ul class="shortcut-list">
                            {list.into_iter().map(|s| {
                                let keys = if s.keys.is_empty() { "not set".to_string() } else { s.keys };
                                view! { <li>{s.description}": "<kbd>{keys}</kbd></li> }
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                }}
                <button type="button" class="link" on:click=open_shortcuts>"Change shortcuts"</button>
            </div>
            <fieldset>
                <legend>"Capture on these sites"</legend>
                {site_switch(Site::Chatgpt)}
                {site_switch(Site::Claude)}
            </fieldset>
            <label class="choice">
                <input
                    type="checkbox"
                    prop:checked=move || draft.with(|d| d.show_page_button)
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        draft.update(|d| d.show_page_button = on);
                    }
                />
                <span>"Show the Capture button on chat pages"</span>
            </label>
            <label class="choice">
                <input
                    type="checkbox"
                    prop:checked=move || draft.with(|d| d.show_answer_buttons)
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        draft.update(|d| d.show_answer_buttons = on);
                    }
                />
                <span>"Show “Capture this answer” on each answer"</span>
            </label>
        </section>
    }
}

#[component]
fn DataSection() -> impl IntoView {
    let backend = BackendHandle::from_context();
    let stats = RwSignal::new(None::<Stats>);
    let confirmation = RwSignal::new(String::new());
    let delete_status = RwSignal::new(String::new());
    let load_stats = move || {
        let backend = backend.get();
        spawn_local(async move {
            if let Ok(loaded) = backend.stats().await {
                stats.set(Some(loaded));
            }
        });
    };
    load_stats();
    let delete_all = move |_| {
        if !delete_confirmed(&confirmation.get_untracked()) {
            return;
        }
        let backend = backend.get();
        delete_status.set("Deleting…".into());
        spawn_local(async move {
            match backend.delete_all().await {
                Ok(deleted) => {
                    confirmation.set(String::new());
                    delete_status.set(format::deleted_everything(deleted.dreams, deleted.fragments));
                    load_stats();
                }
                Err(error) => delete_status.set(error.to_string()),
            }
        });
    };
    let summary = move || {
        stats.get().map(|s| {
            let storage = match (s.storage_used_bytes, s.storage_quota_bytes) {
                (Some(used), Some(quota)) if quota > 0 => format!("{} used of {}", format::bytes(used), format::bytes(quota)),
                (Some(used), _) => format!("{} used", format::bytes(used)),
                _ => "storage use unknown".into(),
            };
            format!(
                "{} dreams, {} fragments; {}.",
                format::count(s.dreams as usize),
                format::count(s.fragments as usize),
                storage
            )
        })
    };
    view! {
        <section aria-labelledby="data-heading">
            <h2 id="data-heading">"Data"</h2>
            <p>{summary}</p>
            <div class="row-actions">
                <ExportControl scope=ExportScope::All label="Export everything" />
            </div>
            <div class="danger-zone">
                <h3>"Delete everything"</h3>
                <p>"Removes every dream and fragment from this browser. Export first if you may want them back."</p>
                <label for="delete-confirm">{format!("Type {DELETE_CONFIRMATION} to confirm")}</label>
                <div class="row-actions">
                    <input
                        id="delete-confirm"
                        autocomplete="off"
                        spellcheck="false"
                        prop:value=move || confirmation.get()
                        on:input=move |ev| confirmation.set(event_target_value(&ev))
                    />
                    <button
                        type="button"
                        class="danger"
                        disabled=move || !delete_confirmed(&confirmation.get())
                        on:click=delete_all
                    >
                        "Delete everything"
                    </button>
                </div>
                <p role="status">{move || delete_status.get()}</p>
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::save_line;

    #[test]
    fn saved_gives_way_to_unsaved_changes() {
        assert_eq!(save_line("Saved", false), "Saved");
        assert_eq!(save_line("Saved", true), "Unsaved changes");
        assert_eq!(save_line("Saving…", true), "Saving…");
        assert_eq!(save_line("server_url: bad", true), "server_url: bad");
        assert_eq!(save_line("", true), "");
    }
}
