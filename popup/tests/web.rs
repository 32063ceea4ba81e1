//! Component tests in a real browser (headless Chromium through chromedriver), against the
//! in-memory backend. Run with `./run-wasm-tests.sh`.
#![cfg(target_arch = "wasm32")]
#![cfg(feature = "demo")]

use std::rc::Rc;

use chrono::TimeZone;
use dreamcatcher_popup::memory::{InMemoryBackend, sample_library};
use dreamcatcher_popup::{Page, mount};
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
