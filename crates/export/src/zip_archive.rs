use std::collections::HashSet;
use std::io::{Cursor, Write};

use dreamcatcher_model::Dream;
use thiserror::Error;
use zip::write::SimpleFileOptions;

use crate::{dream_markdown, file_stem, write_library_json};

#[derive(Debug, Error)]
pub enum ZipExportError {
    #[error("could not write the zip archive: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error("could not write the zip archive: {0}")]
    Io(#[from] std::io::Error),
}

/// A zip of everything: `dreamcatcher.json` (re-importable, lossless) and one Markdown file
/// per dream under `markdown/`.
pub fn write_zip(dreams: &[Dream]) -> Result<Vec<u8>, ZipExportError> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    writer.start_file("dreamcatcher.json", options)?;
    writer.write_all(write_library_json(dreams).as_bytes())?;
    let mut used = HashSet::new();
    for dream in dreams {
        let stem = file_stem(&dream.conversation);
        let mut name = format!("markdown/{stem}.md");
        let mut n = 2;
        while !used.insert(name.clone()) {
            name = format!("markdown/{stem}-{n}.md");
            n += 1;
        }
        writer.start_file(name, options)?;
        writer.write_all(dream_markdown(dream).as_bytes())?;
    }
    Ok(writer.finish()?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use dreamcatcher_model::{Conversation, Site};
    use std::io::Read;

    #[test]
    fn zip_holds_library_and_markdown() {
        let now = chrono::Utc.timestamp_opt(5, 0).unwrap();
        let dreams: Vec<Dream> = (0..3)
            .map(|i| Dream::captured(Conversation::new(Site::Chatgpt, Some(format!("id{i}")), "Same title"), now))
            .collect();
        let bytes = write_zip(&dreams).unwrap();
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        assert_eq!(archive.len(), 4);
        let mut json = String::new();
        archive.by_name("dreamcatcher.json").unwrap().read_to_string(&mut json).unwrap();
        assert_eq!(crate::parse_library_json(&json).unwrap(), dreams);
        let names: HashSet<String> = archive.file_names().map(str::to_string).collect();
        assert_eq!(names.iter().filter(|n| n.starts_with("markdown/same-title-")).count(), 3);
    }
}
