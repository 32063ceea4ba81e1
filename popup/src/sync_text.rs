//! What connected mode says: the sync state in words, the header chip, a dream's
//! implementation status, and which failure actions the pages can carry out.

use dreamcatcher_library::api::{Implementation, ImplementationState, SyncOverview};

use crate::markdown::sanitize_url;

/// The state as a phrase for the settings page's status block.
pub fn state_words(state: &str) -> &'static str {
    match state {
        "connected" => "Connected and up to date",
        "syncing" => "Syncing",
        "connecting" => "Connecting…",
        "error" => "Sync failed",
        _ => "Offline",
    }
}

/// The header chip's label: short, with the pending count where it matters.
pub fn chip_label(overview: &SyncOverview) -> String {
    let pending = overview.pending_operations;
    match overview.state.as_str() {
        "connected" if pending == 0 => "Synced".into(),
        "connected" | "syncing" => format!("Syncing… {pending} pending"),
        "connecting" => "Connecting…".into(),
        "error" if pending == 0 => "Sync error".into(),
        "error" => format!("Sync error — {pending} pending"),
        _ if pending == 0 => "Offline".into(),
        _ => format!("Offline — {pending} pending"),
    }
}

/// What follows the pending count in the status block: "3 changes waiting to be sent".
pub fn pending_words(pending: u32) -> &'static str {
    if pending == 1 { "change waiting to be sent" } else { "changes waiting to be sent" }
}

/// The form field a worker error names first (`pairing_code: …`), and the rest of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormField {
    ServerUrl,
    PairingCode,
    DeviceName,
}

/// Splits a worker error into the field it is about (when it names one) and the message.
pub fn field_error(message: &str) -> (Option<FormField>, String) {
    let fields = [
        ("server_url:", FormField::ServerUrl),
        ("pairing_code:", FormField::PairingCode),
        ("device_name:", FormField::DeviceName),
    ];
    for (prefix, field) in fields {
        if let Some(rest) = message.strip_prefix(prefix) {
            return (Some(field), capitalised(rest.trim()));
        }
    }
    (None, message.to_string())
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// What a failure's action button does, for the labels the pages can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureAction {
    /// Connect now ("sync now").
    Retry,
    /// A new pairing code is needed: the pairing-code field gets the focus.
    Reauthorize,
    /// Stop showing the failure; captures stay on this device meanwhile.
    WorkOffline,
}

/// The action behind a label of the integration spec's §8.4; `None` for advice the user
/// follows outside the extension ("Check Network Settings").
pub fn failure_action(label: &str) -> Option<FailureAction> {
    match label {
        "Retry Connection" | "Retry in a few moments" => Some(FailureAction::Retry),
        "Re-authorize Connection" => Some(FailureAction::Reauthorize),
        "Work Offline" => Some(FailureAction::WorkOffline),
        _ => None,
    }
}

/// The `data-state` value of an implementation.
pub fn implementation_key(state: ImplementationState) -> &'static str {
    match state {
        ImplementationState::Requested => "requested",
        ImplementationState::InProgress => "in_progress",
        ImplementationState::Completed => "completed",
        ImplementationState::Failed => "failed",
    }
}

/// Whether PipelineOS is still working on it (the dream view keeps asking).
pub fn implementation_active(implementation: Option<&Implementation>) -> bool {
    implementation.is_some_and(|i| matches!(i.state, ImplementationState::Requested | ImplementationState::InProgress))
}

fn text_field<'a>(value: Option<&'a serde_json::Value>, keys: &[&str]) -> Option<&'a str> {
    let object = value?.as_object()?;
    keys.iter()
        .filter_map(|key| object.get(*key).and_then(serde_json::Value::as_str))
        .map(str::trim)
        .find(|text| !text.is_empty())
}

/// The status line of a dream sent to PipelineOS.
pub fn implementation_line(implementation: &Implementation) -> String {
    let project = implementation.project.as_ref();
    let result = implementation.result.as_ref();
    match implementation.state {
        ImplementationState::Requested => "Sent — waiting for PipelineOS".into(),
        ImplementationState::InProgress => match text_field(project, &["id"]) {
            Some(id) => format!("PipelineOS is implementing it (project {id})"),
            None => "PipelineOS is implementing it".into(),
        },
        ImplementationState::Completed => match text_field(result, &["summary", "message"]) {
            Some(summary) => format!("Implemented: {summary}"),
            None => "Implemented".into(),
        },
        ImplementationState::Failed => {
            let reason = text_field(result, &["error", "message", "reason"])
                .or_else(|| text_field(project, &["forward_error", "message"]))
                .unwrap_or("PipelineOS gave no reason");
            format!("Failed: {reason}")
        }
    }
}

/// The result's link (`url`, else `pull_request`), only when it is an absolute http(s) URL.
pub fn implementation_link(implementation: &Implementation) -> Option<String> {
    let url = text_field(implementation.result.as_ref(), &["url", "pull_request"])?;
    sanitize_url(url).filter(|safe| !safe.to_ascii_lowercase().starts_with("mailto:"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use dreamcatcher_library::api::Mode;
    use serde_json::json;

    fn overview(state: &str, pending: u32) -> SyncOverview {
        SyncOverview {
            mode: Mode::Connected,
            server_url: None,
            device_name: None,
            state: state.into(),
            pending_operations: pending,
            last_synced_at: None,
            next_retry_at: None,
            failure: None,
            notices: Vec::new(),
        }
    }

    fn implementation(state: ImplementationState, project: Option<serde_json::Value>, result: Option<serde_json::Value>) -> Implementation {
        Implementation { state, updated_at: chrono::DateTime::default(), project, result }
    }

    #[test]
    fn chip_says_where_sync_stands() {
        assert_eq!(chip_label(&overview("connected", 0)), "Synced");
        assert_eq!(chip_label(&overview("syncing", 12)), "Syncing… 12 pending");
        assert_eq!(chip_label(&overview("connected", 2)), "Syncing… 2 pending");
        assert_eq!(chip_label(&overview("offline", 3)), "Offline — 3 pending");
        assert_eq!(chip_label(&overview("offline", 0)), "Offline");
        assert_eq!(chip_label(&overview("connecting", 3)), "Connecting…");
        assert_eq!(chip_label(&overview("error", 3)), "Sync error — 3 pending");
        assert_eq!(chip_label(&overview("error", 0)), "Sync error");
        assert_eq!(state_words("error"), "Sync failed");
        assert_eq!(state_words("something new"), "Offline");
        assert_eq!(pending_words(1), "change waiting to be sent");
        assert_eq!(pending_words(0), "changes waiting to be sent");
    }

    #[test]
    fn worker_errors_name_their_field() {
        assert_eq!(
            field_error("pairing_code: PipelineOS did not accept the code: expired"),
            (Some(FormField::PairingCode), "PipelineOS did not accept the code: expired".into())
        );
        assert_eq!(
            field_error("server_url: enter the address."),
            (Some(FormField::ServerUrl), "Enter the address.".into())
        );
        assert_eq!(field_error("Network connectivity issue …"), (None, "Network connectivity issue …".into()));
    }

    #[test]
    fn only_some_failure_actions_are_buttons() {
        assert_eq!(failure_action("Retry Connection"), Some(FailureAction::Retry));
        assert_eq!(failure_action("Re-authorize Connection"), Some(FailureAction::Reauthorize));
        assert_eq!(failure_action("Work Offline"), Some(FailureAction::WorkOffline));
        assert_eq!(failure_action("Check Network Settings"), None);
    }

    #[test]
    fn implementation_lines() {
        let requested = implementation(ImplementationState::Requested, Some(json!({"id": "prj-1"})), None);
        assert_eq!(implementation_line(&requested), "Sent — waiting for PipelineOS");
        assert!(implementation_active(Some(&requested)));
        let working = implementation(ImplementationState::InProgress, Some(json!({"id": "prj-1a"})), None);
        assert_eq!(implementation_line(&working), "PipelineOS is implementing it (project prj-1a)");
        let done = implementation(
            ImplementationState::Completed,
            None,
            Some(json!({"status": "succeeded", "pull_request": "https://example.org/pr/1"})),
        );
        assert_eq!(implementation_line(&done), "Implemented");
        assert_eq!(implementation_link(&done).as_deref(), Some("https://example.org/pr/1"));
        assert!(!implementation_active(Some(&done)));
        assert!(!implementation_active(None));
        let failed = implementation(ImplementationState::Failed, None, Some(json!({"error": "tests failed"})));
        assert_eq!(implementation_line(&failed), "Failed: tests failed");
        let unexplained = implementation(ImplementationState::Failed, None, None);
        assert_eq!(implementation_line(&unexplained), "Failed: PipelineOS gave no reason");
    }

    #[test]
    fn only_http_links_from_results() {
        let with = |result| implementation(ImplementationState::Completed, None, Some(result));
        assert_eq!(implementation_link(&with(json!({"url": "javascript:alert(1)"}))), None);
        assert_eq!(implementation_link(&with(json!({"url": "data:text/html,x"}))), None);
        assert_eq!(implementation_link(&with(json!({"url": 7}))), None);
        assert_eq!(implementation_link(&with(json!({"url": "mailto:a@b.org"}))), None);
        assert_eq!(
            implementation_link(&with(json!({"url": "http://localhost:3000/p/1", "pull_request": "https://x.org"}))).as_deref(),
            Some("http://localhost:3000/p/1")
        );
    }
}
