//! A 50 MB export, generated as it is read (never stored), streams with memory bounded by one
//! entry: measured with a counting allocator. Alone in its test binary so no other test's
//! allocations count.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Read;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicUsize, Ordering};

use dreamcatcher_capture::{ExportItem, ParseOptions, stream_export};
use dreamcatcher_model::{Role, Site};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        unsafe { System.dealloc(pointer, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// An export of `entries` conversations written on demand: ChatGPT entries with a small
/// tree, every fifth a Claude one, about 10 KB each.
struct GeneratedExport {
    entries: usize,
    next: usize,
    pending: Vec<u8>,
    at: usize,
    closed: bool,
}

impl GeneratedExport {
    fn new(entries: usize) -> Self {
        GeneratedExport {
            entries,
            next: 0,
            pending: b"[".to_vec(),
            at: 0,
            closed: false,
        }
    }

    fn entry(index: usize) -> String {
        let filler = format!("Invented paragraph {index} about capture and search. ").repeat(40);
        if index % 5 == 4 {
            return format!(
                r#"{{"uuid":"gen-{index}","name":"Claude {index}","chat_messages":[
                {{"uuid":"h{index}","sender":"human","text":"Question {index}","content":[{{"type":"text","text":"Question {index}"}}]}},
                {{"uuid":"a{index}","sender":"assistant","content":[{{"type":"thinking","thinking":"{filler}"}},{{"type":"text","text":"Answer {index}\n\n```rust\nfn f() -> usize {{ {index} }}\n```\n\n{filler}"}}]}}]}}"#
            );
        }
        format!(
            r#"{{"title":"ChatGPT {index}","create_time":1767225600.5,"conversation_id":"gen-{index}","current_node":"a","mapping":{{
            "r":{{"message":null,"parent":null,"children":["u"]}},
            "u":{{"message":{{"id":"u","author":{{"role":"user"}},"content":{{"content_type":"text","parts":["Question {index}: {filler}"]}},"metadata":{{}}}},"parent":"r","children":["c"]}},
            "c":{{"message":{{"id":"c","author":{{"role":"assistant"}},"recipient":"python","content":{{"content_type":"code","language":"unknown","text":"print({index})"}},"metadata":{{"model_slug":"gpt-4o"}}}},"parent":"u","children":["o"]}},
            "o":{{"message":{{"id":"o","author":{{"role":"tool"}},"content":{{"content_type":"execution_output","text":"{index}"}},"metadata":{{}}}},"parent":"c","children":["a"]}},
            "a":{{"message":{{"id":"a","author":{{"role":"assistant"}},"content":{{"content_type":"text","parts":["Answer \\({index}\\). {filler}"]}},"metadata":{{}}}},"parent":"o","children":[]}}}}}}"#
        )
    }
}

impl Read for GeneratedExport {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.at == self.pending.len() {
            self.pending.clear();
            self.at = 0;
            if self.next < self.entries {
                if self.next > 0 {
                    self.pending.push(b',');
                }
                self.pending
                    .extend_from_slice(Self::entry(self.next).as_bytes());
                self.next += 1;
            } else if !self.closed {
                self.pending.push(b']');
                self.closed = true;
            } else {
                return Ok(0);
            }
        }
        let n = (self.pending.len() - self.at).min(buf.len());
        buf[..n].copy_from_slice(&self.pending[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[test]
fn fifty_megabytes_stream_in_bounded_memory() {
    const MIB: usize = 1024 * 1024;
    let entry_size = GeneratedExport::entry(0).len();
    let entries = 50 * MIB / entry_size + 1;

    let baseline = LIVE.load(Ordering::Relaxed);
    PEAK.store(baseline, Ordering::Relaxed);
    let (mut chatgpt, mut claude, mut largest_entry_seen) = (0usize, 0usize, 0usize);
    let summary = stream_export(
        GeneratedExport::new(entries),
        &ParseOptions::default(),
        |item| {
            let ExportItem::Conversation(conversation) = item else {
                panic!("generated entries are all valid")
            };
            assert_eq!(conversation.messages.len(), 2);
            assert_eq!(conversation.messages[0].role, Role::User);
            match conversation.site {
                Site::Chatgpt => chatgpt += 1,
                Site::Claude => claude += 1,
            }
            largest_entry_seen = largest_entry_seen.max(conversation.messages[1].markdown.len());
            // The conversation is dropped here: the import would store it and move on.
            ControlFlow::Continue(())
        },
    )
    .unwrap();
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(baseline);

    assert_eq!(summary.conversations, entries);
    assert_eq!(chatgpt + claude, entries);
    assert!(claude > 0 && chatgpt > claude);
    assert!(
        summary.bytes_read >= 50 * MIB as u64,
        "{} bytes",
        summary.bytes_read
    );
    println!(
        "streamed {} bytes, {entries} entries of ~{entry_size} B; peak extra heap {peak} B",
        summary.bytes_read
    );
    // One entry and its conversation are tens of KB, the read buffer 64 KB: holding the
    // export, or even a fraction of the conversations, would be tens of MB.
    assert!(
        peak < 2 * MIB,
        "peak extra heap {peak} B while streaming 50 MB"
    );
    assert!(largest_entry_seen > 0);
}
