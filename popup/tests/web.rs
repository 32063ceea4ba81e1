//! Component tests in a real browser (headless Chromium through chromedriver), against the
//! in-memory backend. Run with `./run-wasm-tests.sh`.
#![cfg(target_arch = "wasm32")]
#![cfg(feature = "demo")]

use std::rc::Rc;

use chrono::TimeZone;
use dreamcatcher_popup::memory::{InMemoryBackend, sample_library};
use dreamcatcher_popup::{Page, mount};
use dreamcatcher_sync::FailureKind;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Document, Element, HtmlElement, HtmlInputElement};

wasm_bindgen_test_configure!(run_in_browser);

const CSS: &str = include_str!("../static/popup.css");

fn document() -> Document {
    web_sys::window().and_then(|w| w.document()).expect("a document")
}

/// A fresh popup-sized container with the real stylesheet, and the page mounted in it.
fn mount_page(page: Page, backend: Rc<InMemoryBackend>) -> (HtmlElement, impl Drop) {
    let doc = document();
    if doc.get_element_by_id("test-css").is_none() {
        let style = doc.create_element("style").expect("style");
        style.set_id("test-css");
        style.set_text_content(Some(CSS));
        doc.head().expect("head").append_child(&style).expect("append style");
    }
    let body = doc.body().expect("body");
    while let Some(child) = body.first_element_child() {
        if child.tag_name() == "DIV" {
            child.remove();
        } else {
            break;
        }
    }
    let host: HtmlElement = doc.create_element("div").expect("div").unchecked_into();
    host.set_attribute("style", "width:400px;height:580px;position:relative;overflow:hidden").expect("style");
    body.append_child(&host).expect("append host");
    let handle = mount(host.clone(), page, backend);
    (host.clone(), Unmount(Some(handle), host))
}

struct Unmount<T>(Option<T>, HtmlElement);

impl<T> Drop for Unmount<T> {
    fn drop(&mut self) {
        drop(self.0.take());
        self.1.remove();
    }
}

async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .expect("window")
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .expect("timeout");
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.expect("sleep");
}

/// Waits (up to 3 s) until `ready` holds, then returns; panics with `what` otherwise.
async fn wait_for(what: &str, mut ready: impl FnMut() -> bool) {
    for _ in 0..150 {
        if ready() {
            return;
        }
        sleep(20).await;
    }
    panic!("timed out waiting for {what}");
}

fn all(host: &HtmlElement, selector: &str) -> Vec<Element> {
    let list = host.query_selector_all(selector).expect("selector");
    (0..list.length()).filter_map(|i| list.item(i)).filter_map(|n| n.dyn_into::<Element>().ok()).collect()
}

fn one(host: &HtmlElement, selector: &str) -> Option<HtmlElement> {
    host.query_selector(selector).ok().flatten().and_then(|e| e.dyn_into::<HtmlElement>().ok())
}

fn text(host: &HtmlElement, selector: &str) -> String {
    one(host, selector).and_then(|e| e.text_content()).unwrap_or_default()
}

fn type_into(input: &HtmlElement, value: &str) {
    let input: &HtmlInputElement = input.unchecked_ref();
    input.set_value(value);
    let event = web_sys::Event::new_with_event_init_dict("input", &{
        let init = web_sys::EventInit::new();
        init.set_bubbles(true);
        init
    })
    .expect("event");
    input.dispatch_event(&event).expect("dispatch");
}

fn now() -> dreamcatcher_model::Timestamp {
    chrono::Utc.with_ymd_and_hms(2026, 5, 1, 12, 0, 0).single().expect("date")
}

fn library(count: usize) -> Rc<InMemoryBackend> {
    Rc::new(InMemoryBackend::new(sample_library(count, now())))
}

#[wasm_bindgen_test]
async fn ten_thousand_dreams_render_only_a_window_of_rows() {
    let (host, _page) = mount_page(Page::Popup, library(10_000));
    wait_for("the first page", || text(&host, ".status-line") == "10,000 dreams").await;
    wait_for("loaded rows", || all(&host, ".row:not(.placeholder)").len() > 5).await;
    let rows = all(&host, ".row").len();
    assert!((6..40).contains(&rows), "{rows} rows in the DOM for 10,000 dreams");

    // Jump to the middle: the rows there appear (fetched page by page), still only a window.
    let list = one(&host, ".list").expect("list");
    list.set_scroll_top(64 * 5_000);
    list.dispatch_event(&web_sys::Event::new("scroll").expect("event")).expect("scroll");
    wait_for("rows around 5,000", || {
        one(&host, "#row-5000").is_some_and(|row| !row.class_name().contains("placeholder"))
    })
    .await;
    let rows = all(&host, ".row");
    assert!(rows.len() < 40, "{} rows after scrolling", rows.len());
    assert!(one(&host, "#row-0").is_none(), "the first row left the DOM");
}

#[wasm_bindgen_test]
async fn keyboard_moves_the_selection_and_opens_a_dream() {
    let (host, _page) = mount_page(Page::Popup, library(100));
    wait_for("rows", || all(&host, ".row:not(.placeholder)").len() > 5).await;
    let list = one(&host, ".list").expect("list");
    list.focus().expect("focus");
    for key in ["ArrowDown", "ArrowDown", "ArrowDown"] {
        let init = web_sys::KeyboardEventInit::new();
        init.set_key(key);
        init.set_bubbles(true);
        let event = web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).expect("key");
        list.dispatch_event(&event).expect("dispatch");
    }
    wait_for("third row selected", || list.get_attribute("aria-activedescendant").as_deref() == Some("row-2")).await;
    assert_eq!(one(&host, "#row-2").and_then(|r| r.get_attribute("aria-selected")).as_deref(), Some("true"));
    let init = web_sys::KeyboardEventInit::new();
    init.set_key("Enter");
    init.set_bubbles(true);
    let enter = web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).expect("key");
    list.dispatch_event(&enter).expect("dispatch");
    wait_for("the dream view", || text(&host, ".dream-view .meta").contains("messages")).await;
}

#[wasm_bindgen_test]
async fn search_highlights_matches_as_text() {
    let (host, _page) = mount_page(Page::Popup, library(400));
    wait_for("rows", || all(&host, ".row:not(.placeholder)").len() > 5).await;
    type_into(&one(&host, ".search").expect("search box"), "grid");
    wait_for("results", || text(&host, ".status-line").contains("results for “grid”")).await;
    let marks = all(&host, ".row mark");
    assert!(!marks.is_empty(), "matches are marked");
    for mark in &marks {
        assert_eq!(mark.text_content().unwrap_or_default().to_lowercase(), "grid");
        assert_eq!(mark.child_element_count(), 0, "a mark holds text only");
    }
    let titles = all(&host, ".row .row-title");
    assert!(titles.iter().all(|t| t.text_content().unwrap_or_default().to_lowercase().contains("grid")));
}

#[wasm_bindgen_test]
async fn delete_then_undo_puts_the_dream_back() {
    let backend = library(30);
    let (host, _page) = mount_page(Page::Popup, backend.clone());
    wait_for("rows", || all(&host, ".row:not(.placeholder)").len() > 5).await;
    let first = one(&host, "#row-0").expect("first row");
    let title = first.query_selector(".row-title").ok().flatten().and_then(|t| t.text_content()).unwrap_or_default();
    first.click();
    wait_for("the dream view", || one(&host, ".dream-view .danger").is_some()).await;
    one(&host, ".dream-view .danger").expect("delete button").click();
    wait_for("the deletion", || backend.len() == 29).await;
    wait_for("the snackbar", || text(&host, ".snackbar").contains("Deleted")).await;
    assert!(one(&host, ".dream-view").is_none(), "the view closed after deleting");
    wait_for("the list without it", || text(&host, ".status-line") == "29 dreams").await;

    one(&host, ".snackbar .undo").expect("undo button").click();
    wait_for("the restore", || backend.len() == 30).await;
    wait_for("the list with it", || text(&host, ".status-line") == "30 dreams").await;
    wait_for("its row back on top", || text(&host, "#row-0 .row-title") == title).await;
}

#[wasm_bindgen_test]
async fn captured_html_and_scripts_show_as_text() {
    let (host, _page) = mount_page(Page::Popup, library(5));
    wait_for("rows", || all(&host, ".row:not(.placeholder)").len() == 5).await;
    one(&host, "#row-0").expect("first row").click();
    wait_for("messages", || !all(&host, ".dream-view .message").is_empty()).await;
    let view = one(&host, ".dream-view").expect("dream view");
    assert!(all(&view, "img").is_empty(), "no image element was created");
    assert!(all(&view, "script").is_empty(), "no script element was created");
    let shown = view.text_content().unwrap_or_default();
    assert!(shown.contains("<img src=x onerror=alert(1)>"), "the HTML shows as text");
    assert!(shown.contains("<script>alert('hi')</script>"));
    for link in all(&view, "a") {
        let href = link.get_attribute("href").unwrap_or_default();
        assert!(href.starts_with("https://"), "unsafe link kept: {href}");
    }
    assert!(!all(&view, ".dead-link").is_empty(), "the javascript: link lost its href");
    assert!(!all(&view, ".code .copy").is_empty(), "code blocks have a Copy button");
    assert_eq!(text(&view, ".code .lang"), "rust");
    assert!(one(&host, "#send-to-pipeline").is_none(), "no Send to PipelineOS in standalone mode");
}

#[wasm_bindgen_test]
async fn settings_validate_and_guard_deletion() {
    let backend = library(3);
    let (host, _page) = mount_page(Page::Options, backend.clone());
    wait_for("the form", || one(&host, "#server-url").is_some()).await;
    type_into(&one(&host, "#server-url").expect("url"), "ftp://example.com");
    wait_for("the URL error", || text(&host, "#server-url-message").contains("http:// or https://")).await;
    type_into(&one(&host, "#pairing-code").expect("code"), "k7qm-4xzp");
    wait_for("the code check", || text(&host, "#pairing-code-message").contains("K7QM4XZP")).await;
    let test_button = all(&host, "button").into_iter().find(|b| b.text_content().as_deref() == Some("Test connection"));
    assert!(test_button.is_some_and(|b| b.has_attribute("disabled")), "no fake connection test");

    let delete: HtmlElement = all(&host, "button.danger").into_iter().next().expect("delete").unchecked_into();
    assert!(delete.has_attribute("disabled"));
    type_into(&one(&host, "#delete-confirm").expect("confirm"), "delete");
    sleep(50).await;
    assert!(delete.has_attribute("disabled"), "lower case does not confirm");
    type_into(&one(&host, "#delete-confirm").expect("confirm"), "DELETE");
    wait_for("the button to enable", || !delete.has_attribute("disabled")).await;
    delete.click();
    wait_for("everything deleted", || backend.is_empty()).await;
}

fn button_labelled(host: &HtmlElement, selector: &str, label: &str) -> Option<HtmlElement> {
    all(host, selector)
        .into_iter()
        .find(|b| b.text_content().as_deref() == Some(label))
        .and_then(|b| b.dyn_into::<HtmlElement>().ok())
}

fn attribute(host: &HtmlElement, selector: &str, name: &str) -> String {
    one(host, selector).and_then(|e| e.get_attribute(name)).unwrap_or_default()
}

/// Waits up to 5 s: the pages read the sync status every 2 s.
async fn wait_for_poll(what: &str, mut ready: impl FnMut() -> bool) {
    for _ in 0..250 {
        if ready() {
            return;
        }
        sleep(20).await;
    }
    panic!("timed out waiting for {what}");
}

fn paired(count: usize) -> Rc<InMemoryBackend> {
    Rc::new(InMemoryBackend::new(sample_library(count, now())).with_pairing("https://pipelineos.example.com", "Work laptop"))
}

#[wasm_bindgen_test]
async fn pairing_refuses_a_wrong_code_then_pairs_tests_and_unpairs() {
    let backend = library(3);
    let (host, _page) = mount_page(Page::Options, backend.clone());
    wait_for("the form", || one(&host, "#device-name").is_some()).await;
    let device: HtmlInputElement = one(&host, "#device-name").expect("device name").unchecked_into();
    assert_eq!(device.value(), "Chrome on this computer");
    wait_for("the status", || text(&host, "#sync-status").contains("Not paired")).await;
    assert!(one(&host, "#unpair-button").is_none() && one(&host, "#sync-now").is_none());
    let pair = one(&host, "#pair-button").expect("pair button");
    assert!(pair.has_attribute("disabled"), "nothing to pair with yet");

    type_into(&one(&host, "#server-url").expect("url"), "https://pipelineos.example.com/");
    type_into(&one(&host, "#pairing-code").expect("code"), "ZZZZZ-99999");
    wait_for("the pair button", || !pair.has_attribute("disabled")).await;
    pair.click();
    wait_for("the refusal", || text(&host, "#pairing-code-message").contains("PipelineOS did not accept the code")).await;
    assert!(attribute(&host, "#pairing-code-message", "class").contains("error"));
    assert_eq!(attribute(&host, "#pairing-code", "aria-invalid"), "true");
    assert_eq!(attribute(&host, "#sync-status", "data-state"), "offline");

    type_into(&one(&host, "#pairing-code").expect("code"), "abcde-12345");
    type_into(&one(&host, "#device-name").expect("device"), "Test browser");
    wait_for("the error to clear", || !text(&host, "#pairing-code-message").contains("did not accept")).await;
    pair.click();
    wait_for("the pairing", || attribute(&host, "#sync-status", "data-state") == "connected").await;
    let status = text(&host, "#sync-status");
    assert!(status.contains("https://pipelineos.example.com") && status.contains("Test browser"), "{status}");
    assert!(status.contains("Connected and up to date"), "{status}");
    assert_eq!(text(&host, "#sync-pending"), "0");
    let connected: HtmlInputElement = all(&host, "input[name=mode]").get(1).cloned().expect("connected radio").unchecked_into();
    wait_for("connected mode chosen", || connected.checked() && !connected.disabled()).await;
    assert!(one(&host, "#sync-now").is_some());

    one(&host, "#test-connection").expect("test").click();
    wait_for("the test result", || attribute(&host, "#test-result", "data-ok") == "true").await;
    assert!(text(&host, "#test-result").contains("token is accepted"));

    // Choosing Standalone and saving ends the pairing, and the page says so first.
    let standalone: HtmlInputElement = all(&host, "input[name=mode]").first().cloned().expect("standalone radio").unchecked_into();
    standalone.click();
    wait_for("the warning", || text(&host, ".note").contains("Saving with Standalone chosen ends the pairing")).await;
    button_labelled(&host, "button", "Save settings").expect("save").click();
    wait_for("the pairing to end", || text(&host, "#sync-status").contains("Not paired")).await;
    assert!(one(&host, "#unpair-button").is_none());

    type_into(&one(&host, "#pairing-code").expect("code"), "ABCDE12345");
    wait_for("the pair button", || !pair.has_attribute("disabled")).await;
    pair.click();
    wait_for("the second pairing", || one(&host, "#unpair-button").is_some()).await;
    one(&host, "#unpair-button").expect("unpair").click();
    wait_for("the unpairing", || text(&host, "#sync-status").contains("Not paired")).await;
    assert!(one(&host, "#unpair-button").is_none());
    wait_for("standalone chosen", || !connected.checked() && connected.disabled()).await;
    assert!(text(&host, ".row-actions > [role=status]").contains("Unpaired"));
}

#[wasm_bindgen_test]
async fn the_status_shows_failures_verbatim_with_their_actions() {
    let backend = paired(3);
    backend.set_sync_failure(Some(FailureKind::Network));
    backend.queue_changes(4);
    backend.push_sync_notice("Kept both versions of “Notes”: it changed here and on PipelineOS.");
    let (host, _page) = mount_page(Page::Options, backend.clone());
    wait_for("the failure", || attribute(&host, "#sync-status", "data-state") == "error").await;
    assert_eq!(text(&host, "#sync-status .sync-failure .failure-title"), FailureKind::Network.title());
    assert_eq!(text(&host, "#sync-status .sync-failure .failure-message"), FailureKind::Network.user_message());
    let labels: Vec<String> = all(&host, "#sync-status .sync-failure button").iter().filter_map(|b| b.text_content()).collect();
    assert_eq!(labels, ["Retry Connection", "Work Offline"]);
    assert!(text(&host, "#sync-status .failure-advice").contains("Check Network Settings"));
    assert_eq!(text(&host, "#sync-pending"), "4");
    assert!(text(&host, "#sync-notices").contains("Kept both versions of “Notes”"));
    one(&host, "#test-connection").expect("test").click();
    wait_for("the failed test", || attribute(&host, "#test-result", "data-ok") == "false").await;
    assert_eq!(text(&host, "#test-result .failure-title"), FailureKind::Network.title());

    button_labelled(&host, "#sync-status .sync-failure button", "Retry Connection").expect("retry").click();
    wait_for("the retry", || backend.sync_now_calls.get() == 1).await;
    wait_for("the recovery", || attribute(&host, "#sync-status", "data-state") == "connected").await;
    assert!(one(&host, "#sync-status .sync-failure").is_none());

    backend.set_sync_failure(Some(FailureKind::Authentication));
    wait_for_poll("the authentication failure", || text(&host, "#sync-status .failure-title") == "Authentication failed").await;
    button_labelled(&host, "#sync-status .sync-failure button", "Re-authorize Connection").expect("re-authorize").click();
    let focused = document().active_element().map(|e| e.id()).unwrap_or_default();
    assert_eq!(focused, "pairing-code");

    backend.set_sync_failure(Some(FailureKind::Unavailable));
    wait_for_poll("the outage", || text(&host, "#sync-status .failure-title") == "Service unavailable").await;
    button_labelled(&host, "#sync-status .sync-failure button", "Work Offline").expect("work offline").click();
    wait_for("the failure to step aside", || one(&host, "#sync-status .sync-failure").is_none()).await;
    assert!(text(&host, "#sync-status").contains("Working offline"));
}

#[wasm_bindgen_test]
async fn the_sync_chip_follows_the_state_in_connected_mode_only() {
    let (host, page) = mount_page(Page::Popup, library(5));
    wait_for("rows", || all(&host, ".row:not(.placeholder)").len() == 5).await;
    sleep(100).await;
    assert!(one(&host, "#sync-chip").is_none(), "no chip in standalone mode");
    drop(page);

    let backend = paired(5);
    let (host, _page) = mount_page(Page::Popup, backend.clone());
    wait_for("the chip", || text(&host, "#sync-chip") == "Synced").await;
    assert_eq!(attribute(&host, "#sync-chip", "data-state"), "connected");
    backend.set_offline(true);
    backend.queue_changes(3);
    wait_for_poll("offline", || text(&host, "#sync-chip") == "Offline — 3 pending").await;
    assert_eq!(attribute(&host, "#sync-chip", "data-state"), "offline");
    backend.set_offline(false);
    backend.set_sync_failure(Some(FailureKind::ServerNotRunning));
    wait_for_poll("the error", || text(&host, "#sync-chip").starts_with("Sync error")).await;
    assert_eq!(attribute(&host, "#sync-chip", "data-state"), "error");
    assert!(attribute(&host, "#sync-chip", "title").contains(FailureKind::ServerNotRunning.user_message()));
    one(&host, "#sync-chip").expect("chip").click();
    wait_for("the settings to open", || backend.settings_opened.get() == 1).await;
}

#[wasm_bindgen_test]
async fn send_to_pipeline_reports_progress_live() {
    let backend = paired(5);
    // A change not yet sent: PipelineOS does not have the dream yet.
    backend.set_offline(true);
    backend.queue_changes(1);
    let (host, _page) = mount_page(Page::Popup, backend.clone());
    wait_for("rows", || all(&host, ".row:not(.placeholder)").len() == 5).await;
    one(&host, "#row-0").expect("first row").click();
    wait_for("the send button", || one(&host, "#send-to-pipeline").is_some()).await;
    assert!(one(&host, "#implementation-status").is_none());
    one(&host, "#send-to-pipeline").expect("send").click();
    wait_for("the refusal", || text(&host, ".pipeline [role=alert]").contains("has not reached PipelineOS yet")).await;

    backend.set_offline(false);
    wait_for_poll("the sync", || text(&host, "#sync-chip") == "Synced").await;
    one(&host, "#send-to-pipeline").expect("send").click();
    // The view's own 2 s poll may already have moved it on by the time this looks.
    wait_for("the request", || one(&host, "#implementation-status").is_some()).await;
    let state = attribute(&host, "#implementation-status", "data-state");
    assert!(matches!(state.as_str(), "requested" | "in_progress"), "unexpected state {state}");
    if state == "requested" {
        assert_eq!(text(&host, "#implementation-status"), "Sent — waiting for PipelineOS");
        assert!(one(&host, "#send-to-pipeline").is_some_and(|b| b.has_attribute("disabled")));
    }
    assert!(one(&host, ".pipeline [role=alert]").is_none(), "the old error is gone");
    wait_for_poll("the project", || attribute(&host, "#implementation-status", "data-state") == "in_progress").await;
    assert_eq!(text(&host, "#implementation-status"), "PipelineOS is implementing it (project prj-demo0001)");
    wait_for_poll("the result", || attribute(&host, "#implementation-status", "data-state") == "completed").await;
    assert!(text(&host, "#implementation-status").starts_with("Implemented: Implemented “"));
    let link = one(&host, "#implementation-status a").expect("result link");
    assert_eq!(link.get_attribute("href").as_deref(), Some("https://example.org/pipelineos/pull/1"));
}
