//! Small pieces both pages use.

use std::time::Duration;

use base64::Engine as _;
use dreamcatcher_library::api::{ExportFormat, ExportScope, ExportedFile};
use dreamcatcher_model::Site;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::backend::BackendHandle;
use crate::browser;
use crate::highlight::segments;

/// How often the pages ask where sync stands while they are open.
pub const SYNC_POLL: Duration = Duration::from_secs(2);

/// Calls `tick` now and then every `period` until the calling component is unmounted.
pub fn poll_while_mounted(period: Duration, tick: impl Fn() + 'static) {
    tick();
    if let Ok(handle) = set_interval_with_handle(tick, period) {
        on_cleanup(move || handle.clear());
    }
}

pub fn site_label(site: Site) -> &'static str {
    match site {
        Site::Chatgpt => "ChatGPT",
        Site::Claude => "Claude",
    }
}

/// Text with its matched parts in `<mark>`: text nodes only, never parsed.
pub fn highlighted(text: &str, spans: &[(usize, usize)]) -> Vec<AnyView> {
    segments(text, spans)
        .into_iter()
        .map(|segment| {
            let text = segment.text.to_string();
            if segment.marked { view! { <mark>{text}</mark> }.into_any() } else { text.into_any() }
        })
        .collect()
}

/// The bytes of an exported file: text as UTF-8, binary formats decoded from base64.
pub fn exported_bytes(file: &ExportedFile) -> Result<Vec<u8>, String> {
    match (&file.text, &file.base64) {
        (Some(text), _) => Ok(text.as_bytes().to_vec()),
        (None, Some(encoded)) => base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|e| format!("The exported file {} could not be decoded: {e}", file.file_name)),
        (None, None) => Err(format!("The exported file {} came back empty.", file.file_name)),
    }
}

fn format_from_key(key: &str) -> ExportFormat {
    match key {
        "json" => ExportFormat::Json,
        "zip" => ExportFormat::Zip,
        _ => ExportFormat::Markdown,
    }
}

/// A format menu and a button that exports `scope` and offers the file as a download.
#[component]
pub fn ExportControl(scope: ExportScope, label: &'static str) -> impl IntoView {
    let backend = BackendHandle::from_context();
    let format = RwSignal::new(ExportFormat::Markdown);
    let busy = RwSignal::new(false);
    let status = RwSignal::new(String::new());
    let scope = StoredValue::new(scope);
    let export = move |_| {
        busy.set(true);
        status.set("Preparing…".into());
        let backend = backend.get();
        let scope = scope.get_value();
        let format = format.get_untracked();
        spawn_local(async move {
            let outcome = match backend.export(scope, format).await {
                Ok(file) => exported_bytes(&file)
                    .and_then(|bytes| browser::download(&file.file_name, &file.mime_type, &bytes))
                    .map(|()| format!("Saved {}", file.file_name)),
                Err(error) => Err(error.to_string()),
            };
            status.set(outcome.unwrap_or_else(|error| error));
            busy.set(false);
        });
    };
    view! {
        <span class="export">
            <select
                aria-label="Export format"
                on:change=move |ev| format.set(format_from_key(&event_target_value(&ev)))
            >
                <option value="markdown">"Markdown"</option>
                <option value="json">"JSON"</option>
                <option value="zip">"Zip"</option>
            </select>
            <button type="button" on:click=export disabled=move || busy.get()>
                {label}
            </button>
            <span class="export-status" role="status">
                {move || status.get()}
            </span>
        </span>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: Option<&str>, base64: Option<&str>) -> ExportedFile {
        ExportedFile {
            file_name: "x".into(),
            mime_type: "application/zip".into(),
            text: text.map(str::to_string),
            base64: base64.map(str::to_string),
        }
    }

    #[test]
    fn exported_files_decode() {
        assert_eq!(exported_bytes(&file(Some("é"), None)), Ok("é".as_bytes().to_vec()));
        assert_eq!(exported_bytes(&file(None, Some("UEsDBA=="))), Ok(vec![0x50, 0x4b, 3, 4]));
        assert!(exported_bytes(&file(None, Some("not base64!"))).is_err());
        assert!(exported_bytes(&file(None, None)).is_err());
    }
}
