#![no_main]
//! Any bytes as a chat page: the page parser and HTML→Markdown converter must return a
//! value or an error, never panic.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(html) = std::str::from_utf8(data) {
        let _ = dreamcatcher_capture::page::parse_page(html, None, None);
        let _ = dreamcatcher_capture::html::html_to_markdown(html);
    }
});
