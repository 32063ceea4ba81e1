//! One dream: the conversation, its tags and notes, and what can be done with it.

use dreamcatcher_library::api::{ExportScope, Implementation, Mode};
use dreamcatcher_model::{CodeOrigin, Dream, Message, Role};
use leptos::ev::KeyboardEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::browser;
use crate::format::{counted, relative_time};
use crate::markdown::{render, sanitize_url};
use crate::ui::markdown_view::{CodeBlockView, render_nodes};
use crate::ui::popup::PopupState;
use crate::sync_text::{implementation_active, implementation_key, implementation_line, implementation_link};
use crate::ui::shared::{ExportControl, SYNC_POLL, poll_while_mounted, site_label};

#[component]
pub fn DreamView(id: String) -> impl IntoView {
    let app = expect_context::<PopupState>();
    let dream = RwSignal::new(None::<Dream>);
    let implementation = RwSignal::new(None::<Implementation>);
    let error = RwSignal::new(None::<String>);
    let back_ref = NodeRef::<leptos::html::Button>::new();
    let poll_id = StoredValue::new(id.clone());
    // While PipelineOS works on it, the status is read again so it changes before the eyes.
    poll_while_mounted(SYNC_POLL, move || {
        if !implementation.with_untracked(|i| implementation_active(i.as_ref())) {
            return;
        }
        let backend = app.backend.get();
        let id = poll_id.get_value();
        spawn_local(async move {
            if let Ok(record) = backend.dream(id).await {
                implementation.try_set(record.implementation);
            }
        });
    });
    {
        let backend = app.backend.get();
        spawn_local(async move {
            match backend.dream(id.clone()).await {
                Ok(record) => {
                    let loaded = record.dream;
                    let first_open = !loaded.opened;
                    implementation.set(record.implementation);
                    dream.set(Some(loaded));
                    if first_open && backend.mark_opened(id.clone()).await.is_ok() {
                        app.list.patch(&id, |summary| summary.opened = true);
                        app.refresh_stats();
                    }
                }
                Err(failure) => error.set(Some(failure.to_string())),
            }
        });
    }
    Effect::new(move |_| {
        if let Some(button) = back_ref.get() {
            let _ = button.focus();
        }
    });
    let on_keydown = move |ev: KeyboardEvent| {
        if ev.key() == "Escape" {
            ev.prevent_default();
            app.close_dream();
        }
    };
    view! {
        <section class="dream-view" role="dialog" aria-modal="true" aria-labelledby="dream-title" on:keydown=on_keydown>
            <header class="dream-head">
                <button type="button" class="icon back" node_ref=back_ref aria-label="Back to the list" on:click=move |_| app.close_dream()>
                    "←"
                </button>
                <h2 id="dream-title">
                    {move || dream.with(|d| d.as_ref().map(|d| d.conversation.title.clone())).unwrap_or_else(|| "Loading…".into())}
                </h2>
            </header>
            {move || error.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
            {move || dream.get().map(|d| view! { <DreamBody dream=d implementation=implementation /> })}
        </section>
    }
}

#[component]
fn DreamBody(dream: Dream, implementation: RwSignal<Option<Implementation>>) -> impl IntoView {
    let app = expect_context::<PopupState>();
    let id = dream.id().to_string();
    let conversation = dream.conversation;
    let original = conversation.url.as_deref().and_then(sanitize_url).filter(|u| u.starts_with("http"));
    let meta = format!(
        "{} · {} · {} · {}",
        site_label(conversation.site),
        relative_time(dream.updated_at, browser::now()),
        counted(conversation.messages.len(), "message", "messages"),
        counted(conversation.code_block_count(), "code block", "code blocks")
    );
    let open_original = original.map(|url| {
        let url = StoredValue::new(url);
        view! {
            <button type="button" on:click=move |_| {
                let backend = app.backend.get();
                let url = url.get_value();
                spawn_local(async move {
                    if let Err(error) = backend.open_tab(url).await {
                        app.notify(error.to_string());
                    }
                });
            } title="Open the original conversation in a new tab">"Open chat"</button>
        }
    });
    let delete_id = StoredValue::new(id.clone());
    let messages: Vec<AnyView> = conversation
        .messages
        .into_iter()
        .map(|message| view! { <MessageView message=message dream_id=id.clone() /> }.into_any())
        .collect();
    view! {
        <div class="dream-body">
            <p class="meta">{meta}</p>
            <div class="actions">
                {open_original}
                <ExportControl scope=ExportScope::Dream { id: id.clone() } label="Export" />
                <button type="button" class="danger" on:click=move |_| app.delete_dream(delete_id.get_value())>
                    "Delete"
                </button>
            </div>
            <PipelineControl id=id.clone() implementation=implementation />
            <TagsEditor id=id.clone() tags=dream.tags />
            <NotesEditor id=id.clone() notes=dream.notes />
            <div class="messages">{messages}</div>
        </div>
    }
}

/// "Send to PipelineOS" (in connected mode) and where the implementation stands.
#[component]
fn PipelineControl(id: String, implementation: RwSignal<Option<Implementation>>) -> impl IntoView {
    let app = expect_context::<PopupState>();
    let id = StoredValue::new(id);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let connected = move || app.sync.with(|s| s.as_ref().is_some_and(|s| s.mode == Mode::Connected));
    let send = move |_| {
        busy.set(true);
        error.set(None);
        let backend = app.backend.get();
        let id = id.get_value();
        spawn_local(async move {
            match backend.send_to_pipeline(id).await {
                Ok(record) => implementation.set(record.implementation),
                Err(failure) => error.set(Some(failure.to_string())),
            }
            busy.set(false);
        });
    };
    let status = move || {
        implementation.get().map(|current| {
            // Only an absolute http(s) URL becomes a link; the rest of the result stays text.
            let link = implementation_link(&current).map(|url| {
                view! { " " <a href=url.clone() target="_blank" rel="noopener noreferrer">{url.clone()}</a> }
            });
            view! {
                <p id="implementation-status" class="implementation-status" data-state=implementation_key(current.state)>
                    {implementation_line(&current)}
                    {link}
                </p>
            }
        })
    };
    view! {
        <div class="pipeline">
            <Show when=connected>
                <button
                    id="send-to-pipeline"
                    type="button"
                    on:click=send
                    disabled=move || busy.get() || implementation.with(|i| implementation_active(i.as_ref()))
                    title="Ask PipelineOS to implement what this conversation describes"
                >
                    "Send to PipelineOS"
                </button>
            </Show>
            {status}
            {move || error.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
        </div>
    }
}

#[component]
fn MessageView(message: Message, dream_id: String) -> impl IntoView {
    let (role_class, role_label) = match message.role {
        Role::User => ("message user", "You"),
        Role::Assistant => ("message assistant", "Assistant"),
    };
    let body = render_nodes(render(&message.markdown), &dream_id);
    // Artifacts and saved selections are not in the Markdown: shown after it.
    let extra_code: Vec<AnyView> = message
        .fragments
        .code_blocks
        .into_iter()
        .filter(|block| block.origin != CodeOrigin::Fence)
        .map(|block| {
            view! { <CodeBlockView language=block.language code=block.code title=block.title dream_id=dream_id.clone() /> }
                .into_any()
        })
        .collect();
    let thinking = message.thinking.filter(|t| !t.trim().is_empty()).map(|text| {
        view! {
            <details class="thinking">
                <summary>"Reasoning"</summary>
                <p class="thinking-text">{text}</p>
            </details>
        }
    });
    let attachments = (!message.attachments.is_empty()).then(|| {
        let names = message.attachments.into_iter().map(|a| view! { <li>{a.name}</li> }).collect_view();
        view! { <ul class="attachments" aria-label="Attachments">{names}</ul> }
    });
    view! {
        <article class=role_class>
            <div class="role">{role_label}{message.streaming.then_some(" (unfinished)")}</div>
            {thinking}
            <div class="md">{body}</div>
            {extra_code}
            {attachments}
        </article>
    }
}

/// Splits what was typed in the tag box into tags (commas separate them).
fn typed_tags(text: &str) -> Vec<String> {
    text.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_string).collect()
}

#[component]
fn TagsEditor(id: String, tags: Vec<String>) -> impl IntoView {
    let app = expect_context::<PopupState>();
    let tags = RwSignal::new(tags);
    let draft = RwSignal::new(String::new());
    let id = StoredValue::new(id);
    let save = move |next: Vec<String>| {
        let backend = app.backend.get();
        let id = id.get_value();
        spawn_local(async move {
            match backend.set_tags(id.clone(), next).await {
                Ok(saved) => {
                    let saved_tags = saved.tags.clone();
                    tags.set(saved.tags);
                    app.list.patch(&id, |summary| summary.tags = saved_tags.clone());
                    app.refresh_facets();
                }
                Err(error) => app.notify(error.to_string()),
            }
        });
    };
    let add = move || {
        let added = typed_tags(&draft.get_untracked());
        if added.is_empty() {
            return;
        }
        let mut next = tags.get_untracked();
        for tag in added {
            if !next.iter().any(|t| t.eq_ignore_ascii_case(&tag)) {
                next.push(tag);
            }
        }
        draft.set(String::new());
        save(next);
    };
    let on_keydown = move |ev: KeyboardEvent| {
        if ev.key() == "Enter" || ev.key() == "," {
            ev.prevent_default();
            add();
        }
    };
    view! {
        <div class="tags" role="group" aria-label="Tags">
            <For
                each=move || tags.get()
                key=|tag| tag.clone()
                children=move |tag| {
                    let remove_label = format!("Remove tag {tag}");
                    let removed = tag.clone();
                    view! {
                        <span class="tag">
                            {tag}
                            <button type="button" class="tag-remove" aria-label=remove_label on:click=move |_| {
                                save(tags.get_untracked().into_iter().filter(|t| *t != removed).collect());
                            }>"×"</button>
                        </span>
                    }
                }
            />
            <input
                class="tag-input"
                placeholder="Add tag"
                aria-label="Add a tag (Enter to add)"
                prop:value=move || draft.get()
                on:input=move |ev| draft.set(event_target_value(&ev))
                on:keydown=on_keydown
                on:blur=move |_| add()
            />
        </div>
    }
}

#[component]
fn NotesEditor(id: String, notes: String) -> impl IntoView {
    let app = expect_context::<PopupState>();
    let saved = RwSignal::new(notes.clone());
    let draft = RwSignal::new(notes);
    let status = RwSignal::new("");
    let id = StoredValue::new(id);
    let save = move |_| {
        let backend = app.backend.get();
        let text = draft.get_untracked();
        let id = id.get_value();
        status.set("Saving…");
        spawn_local(async move {
            match backend.set_notes(id, text).await {
                Ok(dream) => {
                    saved.set(dream.notes);
                    status.set("Saved");
                }
                Err(error) => {
                    status.set("");
                    app.notify(error.to_string());
                }
            }
        });
    };
    view! {
        <div class="notes">
            <label for="dream-notes">"Notes"</label>
            <textarea
                id="dream-notes"
                rows="2"
                placeholder="Your notes about this dream"
                prop:value=move || draft.get()
                on:input=move |ev| {
                    draft.set(event_target_value(&ev));
                    status.set("");
                }
            ></textarea>
            <div class="notes-bar">
                <button type="button" on:click=save disabled=move || draft.get() == saved.get()>
                    "Save notes"
                </button>
                <span role="status">{move || status.get()}</span>
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::typed_tags;

    #[test]
    fn tags_split_on_commas() {
        assert_eq!(typed_tags(" rust, async ,,"), vec!["rust".to_string(), "async".to_string()]);
        assert!(typed_tags(" , ").is_empty());
    }
}
