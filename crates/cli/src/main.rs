//! `dreamcatcher`: parse saved chat pages, conversation JSON and official exports; export
//! them as Markdown or JSON; search them. Every failure is one line naming the file.

mod commands;
mod failure;
mod source;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use dreamcatcher_model::Site;

#[derive(Parser)]
#[command(name = "dreamcatcher", version, about = "Keep what you worked out in AI chats")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the conversations in FILE as a JSON array.
    Parse {
        /// A saved page (.html), a conversation JSON, an official export (.json or .zip).
        file: PathBuf,
        /// The chat site, when it cannot be told from the content.
        #[arg(long, value_enum)]
        site: Option<SiteArg>,
    },
    /// Write one file per conversation in FILE into DIR.
    Export {
        file: PathBuf,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, value_enum, default_value = "markdown")]
        format: ExportFormat,
        #[arg(long, value_enum)]
        site: Option<SiteArg>,
    },
    /// Rank the conversations and code in FILEs against a query: `search FILE… -- "query"`.
    Search {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[arg(last = true, required = true)]
        query: Vec<String>,
        /// How many results to show.
        #[arg(long, default_value_t = 10)]
        limit: usize,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum SiteArg {
    Chatgpt,
    Claude,
}

impl From<SiteArg> for Site {
    fn from(site: SiteArg) -> Site {
        match site {
            SiteArg::Chatgpt => Site::Chatgpt,
            SiteArg::Claude => Site::Claude,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    Markdown,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Parse { file, site } => commands::parse(&file, site.map(Site::from)),
        Command::Export { file, out, format, site } => commands::export(&file, &out, format, site.map(Site::from)),
        Command::Search { files, query, limit } => commands::search(&files, &query.join(" "), limit),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("dreamcatcher: {failure}");
            ExitCode::FAILURE
        }
    }
}
