#![no_main]
//! Any bytes as an input file (conversation JSON, export, zip): detection and the JSON
//! parsers must return a value or an error, never panic.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = dreamcatcher_capture::input::parse_bytes(data, &Default::default());
});
