#![no_main]
//! Any text as message Markdown: fragment extraction never panics.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(markdown) = std::str::from_utf8(data) {
        let _ = dreamcatcher_fragments::extract(markdown);
    }
});
