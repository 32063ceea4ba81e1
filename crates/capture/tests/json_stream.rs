//! Streaming an export: one item at a time, early stop, progress, zip, read failures.

use std::cell::RefCell;
use std::io::{Cursor, Read, Write};
use std::ops::ControlFlow;

use dreamcatcher_capture::json::JsonError;
use dreamcatcher_capture::{
    CaptureError, ExportItem, ParseOptions, ProgressReader, parse_bytes, parse_input,
    stream_export, stream_zip,
};
use dreamcatcher_model::Conversation;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/json/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Hands out at most `chunk` bytes per read, like a slow pipe.
struct Trickle<'a> {
    bytes: &'a [u8],
    chunk: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.bytes.len().min(self.chunk).min(buf.len());
        buf[..n].copy_from_slice(&self.bytes[..n]);
        self.bytes = &self.bytes[n..];
        Ok(n)
    }
}

fn collect(
    reader: impl Read,
) -> (
    Vec<Conversation>,
    Vec<String>,
    dreamcatcher_capture::ExportSummary,
) {
    let mut conversations = Vec::new();
    let mut skipped = Vec::new();
    let summary = stream_export(reader, &ParseOptions::default(), |item| {
        match item {
            ExportItem::Conversation(c) => conversations.push(c),
            ExportItem::Skipped(s) => skipped.push(s.to_string()),
        }
        ControlFlow::Continue(())
    })
    .unwrap();
    (conversations, skipped, summary)
}

#[test]
fn streaming_gives_what_parse_bytes_gives() {
    for name in [
        "chatgpt-export.json",
        "claude-export.json",
        "dreamcatcher.json",
        "chatgpt-api.json",
        "claude-api-tree.json",
    ] {
        let bytes = fixture(name);
        let expected = parse_bytes(&bytes, &ParseOptions::default()).unwrap();
        for chunk in [1, 7, 4096] {
            let (conversations, skipped, summary) = collect(Trickle {
                bytes: &bytes,
                chunk,
            });
            assert_eq!(
                conversations, expected,
                "{name} read {chunk} bytes at a time"
            );
            assert!(skipped.is_empty());
            assert_eq!(summary.conversations, expected.len());
            assert_eq!(summary.bytes_read, bytes.len() as u64, "{name}");
        }
    }
}

#[test]
fn a_byte_order_mark_and_leading_space_are_fine() {
    let mut bytes = b"\xEF\xBB\xBF \n\t".to_vec();
    bytes.extend(fixture("claude-export.json"));
    let (conversations, _, summary) = collect(Trickle {
        bytes: &bytes,
        chunk: 1,
    });
    assert_eq!(conversations.len(), 2);
    assert_eq!(summary.bytes_read, bytes.len() as u64);
    assert_eq!(
        parse_bytes(&bytes, &ParseOptions::default()).unwrap(),
        conversations
    );

    // Offsets count the mark too, in memory and streamed alike.
    let export = b"\xEF\xBB\xBF[{\"x\": 1}]";
    let in_memory = parse_input(export, &ParseOptions::default()).unwrap();
    assert_eq!(in_memory.skipped[0].byte_offset, 4);
    let mut streamed = None;
    stream_export(&export[..], &ParseOptions::default(), |item| {
        if let ExportItem::Skipped(entry) = item {
            streamed = Some(entry.byte_offset);
        }
        ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(streamed, Some(4));
}

#[test]
fn skipped_entries_match_the_in_memory_reader() {
    let good = String::from_utf8(fixture("claude-api-tree.json")).unwrap();
    let export = format!("[{good}, {{\"chat_messages\": 3, \"name\": \"Bad one\"}}, 17, {good}]");
    let (conversations, skipped, summary) = collect(Trickle {
        bytes: export.as_bytes(),
        chunk: 3,
    });
    assert_eq!(conversations.len(), 2);
    assert_eq!(
        (summary.entries, summary.conversations, summary.skipped),
        (4, 2, 2)
    );
    let in_memory = parse_input(export.as_bytes(), &ParseOptions::default()).unwrap();
    let expected: Vec<String> = in_memory.skipped.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        skipped, expected,
        "same indexes, offsets, titles and reasons"
    );
    let offset = export.find("{\"chat_messages\": 3").unwrap();
    assert!(
        skipped[0].starts_with(&format!(
            "entry [1] \"Bad one\" at byte {offset} skipped: unexpected data at [1].chat_messages"
        )),
        "{}",
        skipped[0]
    );
}

#[test]
fn the_callback_can_stop_the_import() {
    let bytes = fixture("chatgpt-export.json");
    let mut seen = 0;
    let summary = stream_export(&bytes[..], &ParseOptions::default(), |_| {
        seen += 1;
        ControlFlow::Break(())
    })
    .unwrap();
    assert_eq!(seen, 1);
    assert!(summary.stopped);
    assert_eq!((summary.entries, summary.conversations), (1, 1));
    assert!(summary.bytes_read < bytes.len() as u64);
}

#[test]
fn a_truncated_stream_is_an_error_after_the_good_entries() {
    let bytes = fixture("chatgpt-export.json");
    let second = bytes.windows(4).rposition(|w| w == b"\n {\n").unwrap();
    let cut = &bytes[..second + 200];
    let mut seen = 0;
    let result = stream_export(cut, &ParseOptions::default(), |_| {
        seen += 1;
        ControlFlow::Continue(())
    });
    assert_eq!(seen, 1, "the entry before the cut was handed over");
    assert!(
        matches!(result, Err(CaptureError::Json(JsonError::Truncated { .. }))),
        "{result:?}"
    );
}

#[test]
fn a_failing_reader_is_reported_with_the_bytes_read() {
    struct Failing<'a>(&'a [u8]);
    impl Read for Failing<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0.is_empty() {
                return Err(std::io::Error::other("disk went away"));
            }
            let n = self.0.len().min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }
    let bytes = fixture("chatgpt-export.json");
    let result = stream_export(Failing(&bytes[..1000]), &ParseOptions::default(), |_| {
        ControlFlow::Continue(())
    });
    let Err(CaptureError::Json(JsonError::Read { bytes_read, source })) = result else {
        panic!("{result:?}")
    };
    assert_eq!(bytes_read, 1000);
    assert_eq!(source.to_string(), "disk went away");
}

#[test]
fn progress_reports_every_byte() {
    let bytes = fixture("claude-export.json");
    let reports = RefCell::new(Vec::new());
    let reader = ProgressReader::new(
        Trickle {
            bytes: &bytes,
            chunk: 100,
        },
        |position| reports.borrow_mut().push(position),
    );
    let summary = stream_export(reader, &ParseOptions::default(), |_| {
        ControlFlow::Continue(())
    })
    .unwrap();
    let reports = reports.into_inner();
    assert_eq!(reports.last().copied(), Some(bytes.len() as u64));
    assert!(
        reports.windows(2).all(|w| w[0] <= w[1]),
        "never goes backwards"
    );
    assert_eq!(summary.conversations, 2);
}

#[test]
fn a_zip_is_streamed_from_a_seekable_reader() {
    let export = fixture("chatgpt-export.json");
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    writer.start_file("conversations.json", options).unwrap();
    writer.write_all(&export).unwrap();
    let archive = writer.finish().unwrap().into_inner();

    let mut last_position = 0;
    let reader = ProgressReader::new(Cursor::new(&archive), |p| last_position = p);
    let mut titles = Vec::new();
    let summary = stream_zip(reader, &ParseOptions::default(), |item| {
        if let ExportItem::Conversation(c) = item {
            titles.push(c.title);
        }
        ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(
        titles,
        [
            "Mean of a list",
            "Explain a race condition in one sentence."
        ]
    );
    assert_eq!(
        summary.bytes_read,
        export.len() as u64,
        "counted in uncompressed JSON"
    );
    assert!(last_position > 0);

    // Without seeking, a zip is refused with a pointer to stream_zip.
    let result = stream_export(&archive[..], &ParseOptions::default(), |_| {
        ControlFlow::Continue(())
    });
    assert!(
        matches!(&result, Err(CaptureError::UnknownFormat { found }) if found.contains("stream_zip")),
        "{result:?}"
    );
}

#[test]
fn streaming_other_inputs() {
    let empty = stream_export(&b"   "[..], &ParseOptions::default(), |_| {
        ControlFlow::Continue(())
    });
    assert!(matches!(empty, Err(CaptureError::Empty)));
    let binary = stream_export(&b"\x00\x01\x02"[..], &ParseOptions::default(), |_| {
        ControlFlow::Continue(())
    });
    assert!(
        matches!(binary, Err(CaptureError::Binary { offset: 0, .. })),
        "{binary:?}"
    );
    let page = stream_export(
        &b"<html><body>nothing</body></html>"[..],
        &ParseOptions::default(),
        |_| ControlFlow::Continue(()),
    );
    assert!(matches!(page, Err(CaptureError::Page(_))), "{page:?}");
}
