//! The settings page: mode and server, capture options, and the user's data.

use dreamcatcher_library::api::{ConnectionTest, ExportScope, FailureReport, Mode, Settings, Stats, SyncOverview};
use dreamcatcher_model::Site;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::backend::{BackendHandle, Shortcut};
use crate::browser;
use crate::format::{self, relative_time};
use crate::sync_text::{FailureAction, FormField, failure_action, field_error, pending_words, state_words};
use crate::ui::shared::{ExportControl, SYNC_POLL, poll_while_mounted, site_label};
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
    let sync = RwSignal::new(None::<SyncOverview>);
    let handle = backend;
    poll_while_mounted(SYNC_POLL, move || load_sync(handle, sync));
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
                    // Saving Standalone ends a pairing: the status shows it at once.
                    load_sync(handle, sync);
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
                <ModeSection
                    draft=draft
                    saved=saved
                    url_text=url_text
                    url_error=Signal::derive(move || url_check().err().map(|e| e.to_string()))
                    sync=sync
                />
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

/// The settings as the worker now has them, after pairing or unpairing changed the mode:
/// the form takes the new mode and address and keeps its other unsaved edits.
async fn reload_settings(backend: BackendHandle, saved: RwSignal<Option<Settings>>, draft: RwSignal<Settings>, url_text: RwSignal<String>) {
    if let Ok(stored) = backend.get().settings().await {
        url_text.set(stored.server_url.clone().unwrap_or_default());
        draft.update(|d| {
            d.mode = stored.mode;
            d.server_url = stored.server_url.clone();
        });
        saved.set(Some(stored));
    }
}

/// Asks where sync stands; a failed read keeps what is shown (the next poll tries again).
fn load_sync(backend: BackendHandle, sync: RwSignal<Option<SyncOverview>>) {
    let backend = backend.get();
    spawn_local(async move {
        if let Ok(overview) = backend.sync_status().await {
            sync.try_set(Some(overview));
        }
    });
}

const DEFAULT_DEVICE_NAME: &str = "Chrome on this computer";

#[component]
fn ModeSection(
    draft: RwSignal<Settings>,
    saved: RwSignal<Option<Settings>>,
    url_text: RwSignal<String>,
    url_error: Signal<Option<String>>,
    sync: RwSignal<Option<SyncOverview>>,
) -> impl IntoView {
    let backend = BackendHandle::from_context();
    let code_text = RwSignal::new(String::new());
    let device_text = RwSignal::new(DEFAULT_DEVICE_NAME.to_string());
    let code_ref = NodeRef::<leptos::html::Input>::new();
    let busy = RwSignal::new(false);
    let pair_error = RwSignal::new(None::<(Option<FormField>, String)>);
    let pair_status = RwSignal::new(String::new());
    let test_outcome = RwSignal::new(None::<Result<ConnectionTest, String>>);
    let testing = RwSignal::new(false);
    let paired = move || sync.with(|s| s.as_ref().is_some_and(|s| s.device_name.is_some()));
    let code_check = move || {
        let text = code_text.get();
        if text.trim().is_empty() { None } else { Some(pairing_code(&text)) }
    };
    let error_for = move |field: FormField| {
        pair_error.with(|e| e.as_ref().filter(|(f, _)| *f == Some(field)).map(|(_, text)| text.clone()))
    };
    let typed_url = move || {
        let text = url_text.get();
        if text.trim().is_empty() { None } else { server_url(&text).ok() }
    };
    let can_pair = move || !busy.get() && typed_url().is_some() && matches!(code_check(), Some(Ok(_)));
    let can_test = move || !testing.get() && url_error.get().is_none() && (typed_url().is_some() || paired());

    let pair = move |_| {
        let (Some(url), Some(Ok(code))) = (typed_url(), code_check()) else { return };
        let device = device_text.get_untracked();
        busy.set(true);
        pair_error.set(None);
        pair_status.set("Pairing…".into());
        spawn_local(async move {
            match backend.get().pair(url, code, device).await {
                Ok(overview) => {
                    sync.set(Some(overview));
                    code_text.set(String::new());
                    pair_status.set("Paired: this browser now syncs with PipelineOS.".into());
                    reload_settings(backend, saved, draft, url_text).await;
                }
                Err(error) => {
                    pair_status.set(String::new());
                    pair_error.set(Some(field_error(&error.to_string())));
                }
            }
            busy.set(false);
        });
    };
    let test = move |_| {
        let url = typed_url();
        testing.set(true);
        test_outcome.set(None);
        spawn_local(async move {
            let outcome = backend.get().test_connection(url).await.map_err(|e| field_error(&e.to_string()).1);
            test_outcome.set(Some(outcome));
            testing.set(false);
        });
    };
    let sync_now = move || {
        spawn_local(async move {
            match backend.get().sync_now().await {
                Ok(overview) => sync.set(Some(overview)),
                Err(error) => pair_status.set(error.to_string()),
            }
        });
    };
    let unpair = move |_| {
        busy.set(true);
        spawn_local(async move {
            match backend.get().unpair().await {
                Ok(overview) => {
                    sync.set(Some(overview));
                    pair_status.set("Unpaired: this browser is standalone again; your library and unsent changes stay here.".into());
                    reload_settings(backend, saved, draft, url_text).await;
                }
                Err(error) => pair_status.set(error.to_string()),
            }
            busy.set(false);
        });
    };
    let reauthorize = move || {
        pair_status.set("Enter a new pairing code from `dreamcatcher-server pair NAME`, then press Pair.".into());
        if let Some(input) = code_ref.get() {
            let _ = input.focus();
        }
    };
    let mode_radio = move |mode: Mode, label: &'static str, detail: &'static str, enabled: Signal<bool>| {
        view! {
            <label class="choice" class:disabled=move || !enabled.get()>
                <input
                    type="radio"
                    name="mode"
                    disabled=move || !enabled.get()
                    prop:checked=move || draft.with(|d| d.mode == mode)
                    on:change=move |_| draft.update(|d| d.mode = mode)
                />
                <span><strong>{label}</strong>" — "{detail}</span>
            </label>
        }
    };
    let leaving = move || paired() && draft.with(|d| d.mode == Mode::Standalone);
    view! {
        <section aria-labelledby="mode-heading">
            <h2 id="mode-heading">"Mode"</h2>
            <fieldset>
                <legend class="visually-hidden">"Mode"</legend>
                {mode_radio(Mode::Standalone, "Standalone", "your library stays in this browser.", Signal::derive(|| true))}
                {mode_radio(Mode::Connected, "Connected", "sync with a PipelineOS server.", Signal::derive(paired))}
            </fieldset>
            <p class="note" class:warning=leaving>
                {move || {
                    if leaving() {
                        "Saving with Standalone chosen ends the pairing: this browser forgets its token. Your library and unsent changes stay here and are sent if you pair again."
                    } else if paired() {
                        "To stop syncing, press Unpair (or choose Standalone and save). Your library and unsent changes stay in this browser."
                    } else {
                        "Connected mode starts when you pair: enter your server's address and the code printed by “dreamcatcher-server pair NAME”, then press Pair."
                    }
                }}
            </p>
            <SyncStatusBlock sync=sync on_retry=Callback::new(move |()| sync_now()) on_reauthorize=Callback::new(move |()| reauthorize()) />
            <div class="field">
                <label for="server-url">"PipelineOS server URL"</label>
                <input
                    id="server-url"
                    type="url"
                    inputmode="url"
                    spellcheck="false"
                    placeholder="https://pipelineos.example.com"
                    aria-describedby="server-url-message"
                    aria-invalid=move || (url_error.get().is_some() || error_for(FormField::ServerUrl).is_some()).to_string()
                    prop:value=move || url_text.get()
                    on:input=move |ev| {
                        url_text.set(event_target_value(&ev));
                        pair_error.set(None);
                    }
                />
                <p
                    id="server-url-message"
                    class="field-message"
                    class:error=move || url_error.get().or_else(|| error_for(FormField::ServerUrl)).is_some()
                >
                    {move || {
                        url_error
                            .get()
                            .or_else(|| error_for(FormField::ServerUrl))
                            .unwrap_or_else(|| "https://, or http:// for a server on this computer.".into())
                    }}
                </p>
            </div>
            <div class="field">
                <label for="pairing-code">"Pairing code"</label>
                <input
                    id="pairing-code"
                    node_ref=code_ref
                    autocomplete="off"
                    spellcheck="false"
                    placeholder="K7QM-4XZP"
                    aria-describedby="pairing-code-message"
                    aria-invalid=move || (matches!(code_check(), Some(Err(_))) || error_for(FormField::PairingCode).is_some()).to_string()
                    prop:value=move || code_text.get()
                    on:input=move |ev| {
                        code_text.set(event_target_value(&ev));
                        pair_error.set(None);
                    }
                />
                <p
                    id="pairing-code-message"
                    class="field-message"
                    class:error=move || matches!(code_check(), Some(Err(_))) || error_for(FormField::PairingCode).is_some()
                >
                    {move || match (code_check(), error_for(FormField::PairingCode)) {
                        (Some(Err(error)), _) => error.to_string(),
                        (_, Some(refused)) => refused,
                        (Some(Ok(code)), None) => format!("Code {code} looks right."),
                        (None, None) => "Printed on the server by “dreamcatcher-server pair NAME”; valid for a few minutes.".into(),
                    }}
                </p>
            </div>
            <div class="field">
                <label for="device-name">"This browser's name"</label>
                <input
                    id="device-name"
                    autocomplete="off"
                    aria-describedby="device-name-message"
                    aria-invalid=move || error_for(FormField::DeviceName).is_some().to_string()
                    prop:value=move || device_text.get()
                    on:input=move |ev| {
                        device_text.set(event_target_value(&ev));
                        pair_error.set(None);
                    }
                />
                <p id="device-name-message" class="field-message" class:error=move || error_for(FormField::DeviceName).is_some()>
                    {move || error_for(FormField::DeviceName).unwrap_or_else(|| "How PipelineOS lists this browser among your devices.".into())}
                </p>
            </div>
            {move || {
                pair_error
                    .get()
                    .filter(|(field, _)| field.is_none())
                    .map(|(_, message)| view! { <p id="pair-error" class="error" role="alert">{message}</p> })
            }}
            <div class="row-actions">
                <button id="pair-button" type="button" class="primary" on:click=pair disabled=move || !can_pair()>"Pair"</button>
                <button id="test-connection" type="button" on:click=test disabled=move || !can_test()>"Test connection"</button>
                <Show when=paired>
                    <button id="sync-now" type="button" on:click=move |_| sync_now()>"Sync now"</button>
                    <button id="unpair-button" type="button" class="danger" on:click=unpair disabled=move || busy.get()>"Unpair"</button>
                </Show>
                <span class="field-message" role="status">
                    {move || if testing.get() { "Testing…".to_string() } else { pair_status.get() }}
                </span>
            </div>
            {move || test_outcome.get().map(|outcome| view! { <TestResult outcome=outcome /> })}
        </section>
    }
}

/// Where sync stands: paired server and device, state, pending changes, last sync, the
/// failure with its actions, and notices. The failure texts come from the worker verbatim.
#[component]
fn SyncStatusBlock(sync: RwSignal<Option<SyncOverview>>, on_retry: Callback<()>, on_reauthorize: Callback<()>) -> impl IntoView {
    let state = Memo::new(move |_| sync.with(|s| s.as_ref().map(|s| s.state.clone()).unwrap_or_else(|| "offline".into())));
    // Memos, so a poll that changes nothing leaves the failure (and its alert) in place.
    let failure = Memo::new(move |_| sync.with(|s| s.as_ref().and_then(|s| s.failure.clone())));
    let notices = Memo::new(move |_| sync.with(|s| s.as_ref().map(|s| s.notices.clone()).unwrap_or_default()));
    let dismissed = RwSignal::new(None::<FailureReport>);
    let facts = move || {
        sync.get().map(|overview| {
            let pending = overview.pending_operations;
            let last = overview
                .last_synced_at
                .map(|at| relative_time(at, browser::now()))
                .unwrap_or_else(|| "not yet".into());
            match overview.device_name {
                Some(device) => view! {
                    <p class="sync-state"><strong>{state_words(&overview.state)}</strong></p>
                    <dl class="sync-facts">
                        <dt>"Server"</dt>
                        <dd class="sync-server">{overview.server_url.unwrap_or_default()}</dd>
                        <dt>"This browser"</dt>
                        <dd class="sync-device">{device}</dd>
                        <dt>"Pending changes"</dt>
                        <dd><span id="sync-pending">{pending}</span>" "{pending_words(pending)}</dd>
                        <dt>"Last synced"</dt>
                        <dd class="sync-last">{last}</dd>
                    </dl>
                }
                .into_any(),
                None => view! {
                    <p class="sync-state"><strong>"Not paired"</strong>" — nothing is sent anywhere."</p>
                    <p class="sync-facts">
                        "Changes waiting for the next pairing: "<span id="sync-pending">{pending}</span>
                    </p>
                }
                .into_any(),
            }
        })
    };
    let failure_view = move || {
        let report = failure.get()?;
        if dismissed.with(|d| d.as_ref() == Some(&report)) {
            return None;
        }
        let dismiss = report.clone();
        let (buttons, advice): (Vec<String>, Vec<String>) = report.actions.iter().cloned().partition(|label| failure_action(label).is_some());
        let buttons = buttons
            .into_iter()
            .map(|label| {
                let action = failure_action(&label);
                let dismiss = dismiss.clone();
                view! {
                    <button type="button" class="failure-action" on:click=move |_| match action {
                        Some(FailureAction::Retry) => on_retry.run(()),
                        Some(FailureAction::Reauthorize) => on_reauthorize.run(()),
                        Some(FailureAction::WorkOffline) => dismissed.set(Some(dismiss.clone())),
                        None => {}
                    }>{label}</button>
                }
            })
            .collect_view();
        let advice = (!advice.is_empty()).then(|| {
            view! {
                <ul class="failure-advice" aria-label="Also worth checking">
                    {advice.into_iter().map(|label| view! { <li>{label}</li> }).collect_view()}
                </ul>
            }
        });
        let detail = (!report.detail.is_empty()).then(|| view! { <p class="failure-detail">{report.detail.clone()}</p> });
        Some(view! {
            <div class="sync-failure" role="alert">
                <strong class="failure-title">{report.title.clone()}</strong>
                <p class="failure-message">{report.message.clone()}</p>
                {detail}
                <div class="row-actions failure-actions">{buttons}</div>
                {advice}
            </div>
        })
    };
    let hidden_note = move || {
        let report = failure.get()?;
        dismissed.with(|d| d.as_ref() == Some(&report)).then(|| {
            view! { <p class="field-message">"Working offline: captures stay in this browser and sync resumes by itself when PipelineOS answers."</p> }
        })
    };
    view! {
        <div id="sync-status" class="sync-status" data-state=move || state.get()>
            {facts}
            {failure_view}
            {hidden_note}
            {move || {
                let list = notices.get();
                (!list.is_empty()).then(|| view! {
                    <ul id="sync-notices" class="sync-notices" aria-label="Sync notices">
                        {list.into_iter().map(|notice| view! { <li>{notice}</li> }).collect_view()}
                    </ul>
                })
            }}
        </div>
    }
}

/// What "Test connection" found: each step, and the failure when one stopped it.
#[component]
fn TestResult(outcome: Result<ConnectionTest, String>) -> impl IntoView {
    match outcome {
        Ok(test) => {
            let failure = test.failure.map(|report| {
                let detail = (!report.detail.is_empty()).then(|| view! { <p class="failure-detail">{report.detail}</p> });
                view! {
                    <div class="sync-failure">
                        <strong class="failure-title">{report.title}</strong>
                        <p class="failure-message">{report.message}</p>
                        {detail}
                    </div>
                }
            });
            let headline = if test.ok { "Connection works." } else { "Connection failed." };
            view! {
                <div id="test-result" class="test-result" data-ok=test.ok.to_string() role="status">
                    <p><strong>{headline}</strong></p>
                    <ul class="test-steps">{test.steps.into_iter().map(|step| view! { <li>{step}</li> }).collect_view()}</ul>
                    {failure}
                </div>
            }
            .into_any()
        }
        Err(message) => view! {
            <div id="test-result" class="test-result" data-ok="false" role="alert">
                <p class="error">{message}</p>
            </div>
        }
        .into_any(),
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
