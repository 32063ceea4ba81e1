use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

use dreamcatcher_model::{Conversation, Dream, Site};
use dreamcatcher_search::{SearchIndex, SearchOptions};

use crate::ExportFormat;
use crate::failure::Failure;
use crate::source::read_conversations;

fn stdout_failure(error: io::Error) -> Failure {
    Failure { subject: "standard output".to_string(), message: error.to_string() }
}

/// Prints a JSON array of the conversations in `file`, one element at a time. Nothing is
/// printed for a file that fails before its first conversation.
pub fn parse(file: &Path, site: Option<Site>) -> Result<(), Failure> {
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut first = true;
    read_conversations(file, site, |conversation| {
        out.write_all(if first { b"[\n" } else { b",\n" }).map_err(stdout_failure)?;
        first = false;
        serde_json::to_writer(&mut out, &conversation).map_err(|error| Failure::at(file, error))
    })?;
    out.write_all(if first { b"[]\n" } else { b"\n]\n" }).map_err(stdout_failure)?;
    out.flush().map_err(stdout_failure)
}

/// One file per conversation in `out`: Markdown with YAML front matter, or the model's JSON.
pub fn export(file: &Path, out: &Path, format: ExportFormat, site: Option<Site>) -> Result<(), Failure> {
    fs::create_dir_all(out).map_err(|error| Failure::at(out, format!("cannot create the folder: {error}")))?;
    let mut used: HashSet<String> = HashSet::new();
    let summary = read_conversations(file, site, |conversation| {
        let (extension, text) = match format {
            ExportFormat::Markdown => ("md", dreamcatcher_export::conversation_markdown(&conversation)),
            ExportFormat::Json => (
                "json",
                serde_json::to_string_pretty(&conversation).map_err(|error| Failure::at(file, error))?,
            ),
        };
        let stem = dreamcatcher_export::file_stem(&conversation);
        let mut name = format!("{stem}.{extension}");
        let mut n = 2;
        while !used.insert(name.clone()) {
            name = format!("{stem}-{n}.{extension}");
            n += 1;
        }
        let target = out.join(&name);
        fs::write(&target, text).map_err(|error| Failure::at(&target, format!("cannot write: {error}")))
    })?;
    let skipped = if summary.skipped > 0 { format!(" ({} entries skipped)", summary.skipped) } else { String::new() };
    eprintln!("Wrote {} files to {}{skipped}", summary.conversations, out.display());
    Ok(())
}

/// Ranks the conversations and fragments of every file against `query`.
pub fn search(files: &[PathBuf], query: &str, limit: usize) -> Result<(), Failure> {
    if query.trim().is_empty() {
        return Err(Failure { subject: "search".to_string(), message: "the query is empty".to_string() });
    }
    let now = chrono::Utc::now();
    let mut index = SearchIndex::new();
    let mut dreams: HashMap<String, (Dream, PathBuf)> = HashMap::new();
    for file in files {
        read_conversations(file, None, |conversation: Conversation| {
            let dream = Dream::captured(conversation, now);
            index.upsert_dream(&dream);
            dreams.insert(dream.id().to_string(), (dream, file.clone()));
            Ok(())
        })?;
    }
    let options = SearchOptions { limit, ..SearchOptions::default() };
    let hits = index.search(query, &options, now);
    let stdout = io::stdout();
    let color = stdout.is_terminal();
    let mut out = stdout.lock();
    if hits.is_empty() {
        writeln!(out, "No results for {query:?} in {} conversations.", dreams.len()).map_err(stdout_failure)?;
        return Ok(());
    }
    for (rank, hit) in hits.iter().enumerate() {
        let Some((dream, path)) = dreams.get(&hit.dream_id) else { continue };
        let what = match (&hit.language, hit.fragment) {
            (Some(language), Some(_)) if !language.is_empty() => format!("{language} code"),
            (_, Some(_)) => "fragment".to_string(),
            _ => "conversation".to_string(),
        };
        writeln!(out, "{:>2}. {:.2}  {}  [{}, {}]  {}", rank + 1, hit.score, hit.title, hit.site, what, path.display())
            .map_err(stdout_failure)?;
        if let Some(snippet) = hit.snippet(dream, query, 160) {
            writeln!(out, "    {}", marked(&snippet.text, &snippet.spans, color)).map_err(stdout_failure)?;
        }
    }
    Ok(())
}

/// The snippet with its matches shown: bold on a terminal, «…» otherwise.
fn marked(text: &str, spans: &[std::ops::Range<usize>], color: bool) -> String {
    let (open, close) = if color { ("\x1b[1m", "\x1b[0m") } else { ("«", "»") };
    let mut out = String::with_capacity(text.len() + spans.len() * 8);
    let mut at = 0;
    for span in spans {
        let (Some(before), Some(matched)) = (text.get(at..span.start), text.get(span.clone())) else { continue };
        out.push_str(before);
        out.push_str(open);
        out.push_str(matched);
        out.push_str(close);
        at = span.end;
    }
    out.push_str(text.get(at..).unwrap_or(""));
    out.replace('\n', " ")
}
