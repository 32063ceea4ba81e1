//! Language names: normalising the labels sources state, and guessing when they state none.

/// Turns a source-stated language label into one canonical lowercase name, or `""` when the
/// label names no language.
///
/// Accepts what the chat sites and Markdown writers put there: fence info strings
/// (`rust,ignore`, `python title="x.py"`, `{.python}`), HTML classes (`language-js`,
/// `hljs lang-py`), header text with button labels stuck on (`python Copy`, `pythonCopy code`),
/// file names (`main.rs`, `src/app.tsx`, `Dockerfile`). Aliases map to one name (`py`,
/// `python3` → `python`; `sh`, `zsh`, `console` → `bash`; `c++` → `cpp`; …). A label that is
/// not in the table but looks like a language name (`zig`, `nim`, `mermaid`) is kept as is,
/// lowercased, so nothing the source said is lost. Labels that say "no language" (`text`,
/// `plaintext`, `Copy code`, `output`) give `""`.
///
/// `jsx` and `tsx` stay distinct from `javascript` and `typescript`: they need their own
/// highlighter grammar and file extension, and folding them into the base language later is
/// trivial while telling them apart again is not.
pub fn normalize_language(label: &str) -> String {
    let lowered = label.trim().to_lowercase();
    let token = label_token(&lowered);
    if let Some(canonical) = canonical_name(token) {
        return canonical.to_string();
    }
    if let Some(canonical) = strip_button_text(token).and_then(canonical_name) {
        return canonical.to_string();
    }
    if let Some(canonical) = file_name_language(token) {
        return canonical.to_string();
    }
    if looks_like_language_name(token) {
        return token.to_string();
    }
    String::new()
}

/// The part of a lowercased label that can name the language.
fn label_token(lowered: &str) -> &str {
    // A class list ("hljs language-python") names the language after the prefix.
    let from_class = ["language-", "lang-"]
        .iter()
        .find_map(|prefix| lowered.find(prefix).map(|at| &lowered[at + prefix.len()..]));
    let rest = from_class.unwrap_or(lowered);
    let rest = rest.trim_start_matches(|c: char| c == '{' || c == '.' || c.is_whitespace());
    let end = rest
        .find(|c: char| c.is_whitespace() || ",;{}()[]:=`\"'".contains(c))
        .unwrap_or(rest.len());
    &rest[..end]
}

/// "pythoncopy" (a header label glued to its copy button) → "python".
fn strip_button_text(token: &str) -> Option<&str> {
    ["copycode", "copy"]
        .iter()
        .find_map(|suffix| token.strip_suffix(suffix))
        .filter(|rest| !rest.is_empty())
}

/// `main.rs`, `src/App.tsx`, `Dockerfile.dev` → the language of the file.
fn file_name_language(token: &str) -> Option<&'static str> {
    let name = token.rsplit(['/', '\\']).next().unwrap_or(token);
    let (stem, extension) = name.rsplit_once('.')?;
    canonical_name(extension)
        .filter(|_| !stem.is_empty())
        .or_else(|| canonical_name(stem))
}

/// An unlisted label worth keeping: a short identifier such as `zig`, `mermaid`, `f#`.
fn looks_like_language_name(token: &str) -> bool {
    (2..=24).contains(&token.len())
        && token.starts_with(|c: char| c.is_ascii_alphabetic())
        && token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+#-_".contains(c))
        && !is_no_language(token)
}

/// Labels that say the block is not in any language.
fn is_no_language(token: &str) -> bool {
    matches!(
        token,
        "text"
            | "txt"
            | "plain"
            | "plaintext"
            | "plain-text"
            | "none"
            | "nohighlight"
            | "no-highlight"
            | "copy"
            | "copycode"
            | "code"
            | "edit"
            | "output"
            | "result"
            | "raw"
            | "auto"
            | "default"
            | "undefined"
            | "null"
            | "unknown"
            | "example"
    )
}

/// The alias table. Every canonical name maps to itself so a canonical label passes through.
fn canonical_name(token: &str) -> Option<&'static str> {
    Some(match token {
        "python" | "py" | "python3" | "py3" | "python2" | "ipython" | "pycon" | "pyw" | "gyp" => {
            "python"
        }
        "javascript" | "js" | "node" | "nodejs" | "mjs" | "cjs" | "ecmascript" => "javascript",
        "jsx" => "jsx",
        "typescript" | "ts" | "mts" | "cts" => "typescript",
        "tsx" => "tsx",
        "bash" | "sh" | "shell" | "zsh" | "ksh" | "console" | "shellsession" | "shell-session"
        | "terminal" | "shell-script" | "bashrc" | "zshrc" => "bash",
        "fish" => "fish",
        "powershell" | "ps1" | "psm1" | "pwsh" | "posh" => "powershell",
        "batch" | "bat" | "cmd" | "dos" => "batch",
        "rust" | "rs" => "rust",
        "go" | "golang" => "go",
        "c" | "h" => "c",
        "cpp" | "c++" | "cxx" | "cc" | "hpp" | "hxx" | "hh" | "h++" => "cpp",
        "csharp" | "c#" | "cs" | "dotnet" => "csharp",
        "fsharp" | "f#" | "fs" | "fsx" => "fsharp",
        "vbnet" | "vb" | "vb.net" => "vbnet",
        "java" => "java",
        "kotlin" | "kt" | "kts" => "kotlin",
        "scala" | "sc" => "scala",
        "groovy" | "gradle" => "groovy",
        "clojure" | "clj" | "cljs" | "cljc" | "edn" => "clojure",
        "swift" => "swift",
        "objectivec" | "objective-c" | "objc" | "obj-c" | "mm" => "objectivec",
        "dart" => "dart",
        "php" | "php8" | "php7" => "php",
        "ruby" | "rb" | "gemspec" | "rake" | "gemfile" => "ruby",
        "elixir" | "ex" | "exs" => "elixir",
        "erlang" | "erl" | "hrl" => "erlang",
        "haskell" | "hs" => "haskell",
        "ocaml" | "ml" | "mli" => "ocaml",
        "elm" => "elm",
        "lua" => "lua",
        "perl" | "pl" | "pm" => "perl",
        "r" | "rscript" => "r",
        "julia" | "jl" => "julia",
        "matlab" | "octave" => "matlab",
        "zig" => "zig",
        "nim" => "nim",
        "solidity" | "sol" => "solidity",
        "sql" | "mysql" | "postgresql" | "postgres" | "psql" | "pgsql" | "plsql" | "plpgsql"
        | "sqlite" | "tsql" | "mssql" => "sql",
        "graphql" | "gql" => "graphql",
        "html" | "htm" | "xhtml" => "html",
        "xml" | "svg" | "xsd" | "xsl" | "plist" | "csproj" => "xml",
        "css" => "css",
        "scss" => "scss",
        "sass" => "sass",
        "less" => "less",
        "vue" => "vue",
        "svelte" => "svelte",
        "json" | "jsonc" | "json5" | "jsonl" | "ndjson" | "geojson" => "json",
        "yaml" | "yml" => "yaml",
        "toml" => "toml",
        "ini" | "cfg" | "editorconfig" => "ini",
        "markdown" | "md" | "mkd" | "mdown" => "markdown",
        "dockerfile" | "docker" | "containerfile" => "dockerfile",
        "makefile" | "make" | "mk" | "mak" => "makefile",
        "cmake" | "cmakelists" => "cmake",
        "nginx" | "nginxconf" => "nginx",
        "hcl" | "terraform" | "tf" | "tfvars" => "hcl",
        "protobuf" | "proto" => "protobuf",
        "diff" | "patch" => "diff",
        "latex" | "tex" => "latex",
        "nix" => "nix",
        "assembly" | "asm" | "nasm" | "x86asm" | "s" => "assembly",
        "wasm" | "wat" => "wasm",
        "vim" | "vimscript" | "viml" => "vim",
        "regex" | "regexp" => "regex",
        "csv" => "csv",
        _ => return None,
    })
}

/// How much of a block the guess looks at: enough to decide, bounded for huge blocks.
const GUESS_MAX_LINES: usize = 200;
const GUESS_MAX_BYTES: usize = 16 * 1024;
/// Larger JSON-looking blocks are not fully validated; their opening decides.
const JSON_MAX_VALIDATED_BYTES: usize = 256 * 1024;
/// A guess needs at least this much evidence, and this lead over the runner-up.
const MIN_SCORE: u32 = 3;
const MIN_LEAD: u32 = 2;

/// Guesses the language of code whose source stated none; `None` when unsure.
///
/// Decisive openings first (a shebang, `<?php`, `<?xml`, `<!DOCTYPE html>`, a whole block that
/// parses as a JSON object or array), then per-line evidence (`def …:`, `fn main`,
/// `#include`, `package main`, `console.log(`, `SELECT … `, `$ ` prompts, …) scored per
/// language; the best must reach a minimum and lead the runner-up clearly. YAML (`key: value`
/// lines) is the fallback when no language scored.
pub fn guess_language(code: &str) -> Option<&'static str> {
    let trimmed = code.trim();
    if trimmed.is_empty() {
        return None;
    }
    if let Some(language) = decisive_opening(trimmed) {
        return Some(language);
    }
    if is_json(trimmed) {
        return Some("json");
    }
    let mut evidence = Evidence::default();
    let mut previous_line = "";
    let mut bytes_seen = 0;
    for line in code.lines().take(GUESS_MAX_LINES) {
        bytes_seen += line.len() + 1;
        score_line(line, previous_line, &mut evidence);
        if !line.trim().is_empty() {
            previous_line = line;
        }
        if bytes_seen > GUESS_MAX_BYTES {
            break;
        }
    }
    evidence
        .decide()
        .or_else(|| looks_like_yaml(code).then_some("yaml"))
}

fn decisive_opening(trimmed: &str) -> Option<&'static str> {
    let first_line = trimmed.lines().next().unwrap_or("").trim();
    if let Some(interpreter) = first_line.strip_prefix("#!") {
        return shebang_language(interpreter);
    }
    if starts_with_ignore_case(first_line, "<?php") {
        return Some("php");
    }
    if starts_with_ignore_case(first_line, "<?xml") {
        return Some("xml");
    }
    if starts_with_ignore_case(first_line, "<!doctype html")
        || starts_with_ignore_case(first_line, "<html")
    {
        return Some("html");
    }
    None
}

fn shebang_language(interpreter: &str) -> Option<&'static str> {
    // "/usr/bin/env python3 -u" → "python3"; "/bin/bash" → "bash".
    let mut words = interpreter.split_whitespace();
    let mut program = words.next()?.rsplit('/').next()?;
    if program == "env" {
        program = words.find(|word| !word.starts_with('-'))?;
    }
    let program = program.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
    Some(match program {
        "python" | "pypy" => "python",
        "node" | "nodejs" => "javascript",
        "deno" | "ts-node" | "tsx" | "bun" => "typescript",
        "bash" | "sh" | "zsh" | "ksh" | "dash" => "bash",
        "fish" => "fish",
        "ruby" => "ruby",
        "perl" => "perl",
        "php" => "php",
        "elixir" => "elixir",
        "lua" => "lua",
        "pwsh" => "powershell",
        "rscript" | "Rscript" => "r",
        _ => return None,
    })
}

/// A block that is a whole JSON object or array (scalars alone are too ambiguous).
fn is_json(trimmed: &str) -> bool {
    let bracketed = (trimmed.starts_with('{') && trimmed.ends_with('}'))
        || (trimmed.starts_with('[') && trimmed.ends_with(']'));
    if !bracketed {
        return false;
    }
    if trimmed.len() <= JSON_MAX_VALIDATED_BYTES {
        return serde_json::from_str::<serde::de::IgnoredAny>(trimmed).is_ok();
    }
    // Too large to validate cheaply: a quoted key on the first content line decides.
    trimmed[1..]
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .is_some_and(|line| line.starts_with('"') && line.contains("\":"))
}

/// Languages the guess can name. The index is the evidence slot.
const CANDIDATES: [&str; 26] = [
    "python",
    "javascript",
    "typescript",
    "rust",
    "go",
    "c",
    "cpp",
    "java",
    "csharp",
    "kotlin",
    "swift",
    "php",
    "ruby",
    "elixir",
    "bash",
    "sql",
    "html",
    "css",
    "scss",
    "dockerfile",
    "makefile",
    "toml",
    "lua",
    "haskell",
    "powershell",
    "zig",
];

fn slot(language: &str) -> usize {
    CANDIDATES.iter().position(|c| *c == language).unwrap_or(0)
}

#[derive(Default)]
struct Evidence {
    scores: [u32; CANDIDATES.len()],
    /// JSX markup (`className=`) seen: a JavaScript/TypeScript winner becomes jsx/tsx.
    jsx_markup: bool,
}

impl Evidence {
    fn add(&mut self, language: &str, points: u32) {
        if let Some(score) = self.scores.get_mut(slot(language)) {
            *score += points;
        }
    }

    fn score(&self, language: &str) -> u32 {
        self.scores.get(slot(language)).copied().unwrap_or(0)
    }

    fn decide(mut self) -> Option<&'static str> {
        // Supersets inherit their base language's evidence once their own shows up.
        for (superset, base) in [("typescript", "javascript"), ("cpp", "c"), ("scss", "css")] {
            if self.score(superset) > 0 {
                let inherited = self.score(base);
                self.add(superset, inherited);
            }
        }
        let mut best = (0, CANDIDATES[0]);
        let mut runner_up = 0;
        for (score, language) in self.scores.iter().zip(CANDIDATES) {
            if *score > best.0 {
                runner_up = best.0;
                best = (*score, language);
            } else if *score > runner_up {
                runner_up = *score;
            }
        }
        let (best_score, best) = best;
        if best_score < MIN_SCORE || best_score < runner_up + MIN_LEAD {
            return None;
        }
        Some(match (best, self.jsx_markup) {
            ("javascript" | "html", true) if self.score("javascript") > 0 => "jsx",
            ("typescript", true) => "tsx",
            _ => best,
        })
    }
}

/// Adds the evidence one line gives. `previous` is the last non-blank line before it.
fn score_line(raw: &str, previous: &str, evidence: &mut Evidence) {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return;
    }
    let line = &Line::new(trimmed);
    score_python(line, evidence);
    score_javascript_family(line, evidence);
    score_rust(line, evidence);
    score_go_and_swift(line, evidence);
    score_c_family(line, evidence);
    score_jvm_and_dotnet(line, evidence);
    score_php_ruby_elixir(line, evidence);
    score_shell(line, evidence);
    score_sql(line, evidence);
    score_markup_and_config(raw, line, previous, evidence);
    score_others(line, evidence);
}

fn score_python(line: &Line<'_>, evidence: &mut Evidence) {
    let ends_block = line.ends_with(':');
    if line.starts_with("def ") && ends_block {
        evidence.add("python", 3);
    }
    if line.starts_with("async def ") {
        evidence.add("python", 4);
    }
    if line.starts_with("from ") && line.contains(" import ") {
        evidence.add("python", 4);
    }
    if line.starts_with("import ")
        && !line.ends_with(';')
        && !line.text.contains(['"', '\'', '{', '('])
        && !line.contains(" from ")
    {
        evidence.add("python", 3);
    }
    if line.starts_with("class ") && ends_block {
        evidence.add("python", 3);
    }
    if line.starts_with("elif ") || line.contains("__name__ ==") || line.starts_with(">>> ") {
        evidence.add("python", 4);
    }
    if line.text == "else:" || line.text == "try:" || (line.starts_with("except") && ends_block) {
        evidence.add("python", 3);
    }
    if line.contains("self.") || line.starts_with("print(") {
        evidence.add("python", 1);
    }
}

fn score_javascript_family(line: &Line<'_>, evidence: &mut Evidence) {
    if line.contains("console.log(") || line.contains("console.error(") {
        evidence.add("javascript", 3);
    }
    if line.starts_with("function ") || line.starts_with("export function ") {
        evidence.add("javascript", 3);
    }
    if line.starts_with("async function ") || line.starts_with("module.exports") {
        evidence.add("javascript", 4);
    }
    if ["const ", "let ", "var "]
        .iter()
        .any(|k| line.starts_with(k))
        && line.contains(" = ")
    {
        evidence.add("javascript", 1);
    }
    if line.contains("=> {") || line.contains(") =>") || line.ends_with("=>") {
        evidence.add("javascript", 2);
    }
    if line.contains("require(") || line.starts_with("export ") || line.contains("document.") {
        evidence.add("javascript", 2);
    }
    if line.contains("===") || line.contains("!==") {
        evidence.add("javascript", 2);
    }
    if line.starts_with("import ") && (line.contains(" from '") || line.contains(" from \"")) {
        evidence.add("javascript", 4);
    }
    if line.contains("className=") {
        evidence.jsx_markup = true;
        evidence.add("javascript", 2);
    }
    if line.starts_with("interface ") || line.starts_with("export interface ") {
        evidence.add("typescript", 3);
    }
    if line.starts_with("type ") && line.contains(" = ") && !line.contains("::") {
        evidence.add("typescript", 3);
    }
    if [": string", ": number", ": boolean", "import type "]
        .iter()
        .any(|t| line.contains(t))
    {
        evidence.add("typescript", 3);
    }
}

fn score_rust(line: &Line<'_>, evidence: &mut Evidence) {
    let function = [
        "fn ",
        "pub fn ",
        "pub(crate) fn ",
        "async fn ",
        "pub async fn ",
        "unsafe fn ",
    ]
    .iter()
    .any(|k| line.starts_with(k));
    if function
        || line.starts_with("let mut ")
        || line.starts_with("impl ")
        || line.starts_with("impl<")
    {
        evidence.add("rust", 4);
    }
    if line.starts_with("use ") && line.contains("::") && line.ends_with(';') {
        evidence.add("rust", 4);
    }
    if line.starts_with("#[") || line.starts_with("#![") {
        evidence.add("rust", 4);
    }
    if [
        "pub struct ",
        "pub enum ",
        "pub trait ",
        "trait ",
        "pub mod ",
        "mod ",
    ]
    .iter()
    .any(|k| line.starts_with(k))
    {
        evidence.add("rust", 4);
    }
    if [
        "println!(",
        "vec![",
        "format!(",
        "macro_rules!",
        "-> Result<",
        "-> Option<",
        "&self",
        "&mut ",
    ]
    .iter()
    .any(|t| line.contains(t))
    {
        evidence.add("rust", 3);
    }
}

fn score_go_and_swift(line: &Line<'_>, evidence: &mut Evidence) {
    if let Some(name) = line.strip_prefix("package ") {
        // Go names a package by one plain word; Java, Kotlin and Scala use dotted paths.
        if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            evidence.add("go", 5);
        }
    }
    if line.starts_with("func ") {
        // Swift declares return types with `->`; Go never does.
        evidence.add(if line.contains("->") { "swift" } else { "go" }, 4);
    }
    if line.starts_with("import (") || line.contains("fmt.") || line.starts_with("if err != nil") {
        evidence.add("go", 4);
    }
    if line.contains(" := ") {
        evidence.add("go", 2);
    }
    if [
        "import SwiftUI",
        "import UIKit",
        "import Foundation",
        "var body: some View",
    ]
    .iter()
    .any(|t| line.starts_with(t))
    {
        evidence.add("swift", 6);
    }
    if line.starts_with("guard ") || line.starts_with("@State ") {
        evidence.add("swift", 3);
    }
}

fn score_c_family(line: &Line<'_>, evidence: &mut Evidence) {
    if line.starts_with("#include") {
        let c_header = line.contains(".h>") || line.contains(".h\"");
        evidence.add(if c_header { "c" } else { "cpp" }, 4);
    }
    if [
        "std::",
        "cout <<",
        "cin >>",
        "template<",
        "template <",
        "using namespace ",
    ]
    .iter()
    .any(|t| line.contains(t))
    {
        evidence.add("cpp", 4);
    }
    if line.starts_with("int main(") || line.starts_with("#define ") {
        evidence.add("c", 3);
    }
    if line.contains("printf(") || line.contains("malloc(") {
        evidence.add("c", 2);
    }
}

fn score_jvm_and_dotnet(line: &Line<'_>, evidence: &mut Evidence) {
    if [
        "public static void main",
        "System.out.print",
        "import java.",
        "import javax.",
    ]
    .iter()
    .any(|t| line.contains(t))
    {
        evidence.add("java", 5);
    }
    if line.starts_with("package ") && line.ends_with(';') {
        evidence.add("java", 4);
    }
    if line.starts_with("public class ") || line.starts_with("@Override") {
        evidence.add("java", 2);
    }
    if [
        "using System",
        "Console.Write",
        "{ get; set; }",
        "public async Task",
    ]
    .iter()
    .any(|t| line.contains(t))
    {
        evidence.add("csharp", 5);
    }
    if line.contains("static void Main") {
        evidence.add("csharp", 4);
    }
    if line.starts_with("namespace ") && !line.contains("\\") {
        evidence.add("csharp", 2);
    }
    let kotlin_fun = [
        "fun ",
        "private fun ",
        "override fun ",
        "suspend fun ",
        "internal fun ",
    ]
    .iter()
    .any(|k| line.starts_with(k));
    if kotlin_fun {
        evidence.add("kotlin", 4);
    }
    if line.starts_with("val ") {
        evidence.add("kotlin", 2);
    }
}

fn score_php_ruby_elixir(line: &Line<'_>, evidence: &mut Evidence) {
    if line.contains("$this->") || (line.starts_with("namespace ") && line.contains("\\")) {
        evidence.add("php", 5);
    }
    if line.starts_with("use ") && line.contains("\\") {
        evidence.add("php", 4);
    }
    if line.contains("function ") && line.contains("($") {
        evidence.add("php", 6);
    }
    if line.starts_with("echo ") && line.contains("$") {
        evidence.add("php", 3);
    }
    if let Some(signature) = line.strip_prefix("def ") {
        if signature.ends_with(" do") || signature.contains(", do:") {
            evidence.add("elixir", 4);
        } else if !signature.ends_with([':', '(', ',', '{']) && !signature.contains('=') {
            evidence.add("ruby", 2);
        }
    }
    if line.starts_with("puts ") || line.starts_with("require '") || line.starts_with("require \"")
    {
        evidence.add("ruby", 3);
    }
    if line.starts_with("attr_accessor")
        || line.starts_with("attr_reader")
        || line.contains(" do |")
    {
        evidence.add("ruby", 4);
    }
    if line.starts_with("defmodule ") {
        evidence.add("elixir", 6);
    }
    if line.starts_with("defp ")
        || line.starts_with("iex>")
        || line.contains("IO.puts")
        || line.contains("IO.inspect")
    {
        evidence.add("elixir", 4);
    }
    if line.starts_with("|>") || line.starts_with("@spec ") || line.starts_with("@moduledoc") {
        evidence.add("elixir", 3);
    }
    if line.text == "end" {
        for language in ["ruby", "elixir", "lua"] {
            evidence.add(language, 1);
        }
    }
}

/// Commands that open a typical shell line.
const SHELL_COMMANDS: [&str; 36] = [
    "sudo",
    "apt",
    "apt-get",
    "brew",
    "npm",
    "npx",
    "yarn",
    "pnpm",
    "pip",
    "pip3",
    "cargo",
    "git",
    "cd",
    "mkdir",
    "ls",
    "cp",
    "mv",
    "rm",
    "chmod",
    "chown",
    "curl",
    "wget",
    "docker",
    "kubectl",
    "source",
    "cat",
    "grep",
    "sed",
    "awk",
    "tar",
    "ssh",
    "systemctl",
    "rustup",
    "touch",
    "uv",
    "conda",
];

fn score_shell(line: &Line<'_>, evidence: &mut Evidence) {
    if line.starts_with("$ ") {
        evidence.add("bash", 3);
    }
    let command_line = line.strip_prefix("$ ").unwrap_or(line);
    let mut words = command_line.split_whitespace();
    let first = words.next().unwrap_or("");
    if SHELL_COMMANDS.contains(&first)
        && words
            .next()
            .is_some_and(|w| !w.starts_with(['=', '(', '.']))
    {
        evidence.add("bash", 2);
    }
    let exports_variable = line.strip_prefix("export ").is_some_and(|rest| {
        rest.starts_with(|c: char| c.is_ascii_uppercase()) && rest.contains('=')
    });
    if exports_variable {
        evidence.add("bash", 3);
    }
    if matches!(line.text, "fi" | "done" | "esac" | "then")
        || line.starts_with("if [")
        || line.starts_with("echo \"$")
    {
        evidence.add("bash", 3);
    }
    if [
        "Write-Host",
        "Write-Output",
        "Get-ChildItem",
        "Set-Location",
        "$env:",
    ]
    .iter()
    .any(|t| line.contains(t))
    {
        evidence.add("powershell", 5);
    }
}

fn score_sql(line: &Line<'_>, evidence: &mut Evidence) {
    let strong = [
        "insert into ",
        "create table ",
        "delete from ",
        "alter table ",
        "create index ",
        "drop table ",
    ];
    if strong.iter().any(|k| starts_with_ignore_case(line, k)) {
        evidence.add("sql", 5);
    }
    if starts_with_ignore_case(line, "select ") {
        evidence.add("sql", 3);
    }
    if starts_with_ignore_case(line, "update ") && contains_ignore_case(line, " set ") {
        evidence.add("sql", 4);
    }
    if starts_with_ignore_case(line, "where ")
        || starts_with_ignore_case(line, "group by ")
        || starts_with_ignore_case(line, "order by ")
    {
        evidence.add("sql", 2);
    }
    // Both SQL and Dockerfiles open lines with FROM; the other lines tell them apart.
    if line.starts_with("FROM ") || (line.starts_with("from ") && !line.contains(" import ")) {
        evidence.add("sql", 1);
        evidence.add("dockerfile", 1);
    }
}

fn score_markup_and_config(raw: &str, line: &Line<'_>, previous: &str, evidence: &mut Evidence) {
    if let Some(tag) = line.strip_prefix("</").or_else(|| line.strip_prefix('<')) {
        let name_end = tag
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(tag.len());
        if HTML_TAGS.contains(&&tag[..name_end]) {
            evidence.add("html", 3);
        }
    }
    if ["@media", "@keyframes", "@font-face", "@import url"]
        .iter()
        .any(|k| line.starts_with(k))
    {
        evidence.add("css", 4);
    }
    if line.starts_with("@mixin") || line.starts_with("@include ") {
        evidence.add("scss", 4);
    }
    if is_css_declaration(line) {
        evidence.add("css", 2);
    }
    for instruction in [
        "RUN ",
        "WORKDIR ",
        "CMD [",
        "ENTRYPOINT ",
        "EXPOSE ",
        "COPY --",
    ] {
        if line.starts_with(instruction) {
            evidence.add("dockerfile", 4);
        }
    }
    if line.starts_with(".PHONY") {
        evidence.add("makefile", 6);
    }
    if raw.starts_with('\t') && is_make_rule(previous) {
        evidence.add("makefile", 3);
    }
    if is_toml_table_header(line) {
        evidence.add("toml", 2);
    }
}

/// `display: flex;`: a property with a hyphen or a common name, ending in `;`.
fn is_css_declaration(line: &str) -> bool {
    const COMMON: [&str; 12] = [
        "color",
        "margin",
        "padding",
        "display",
        "width",
        "height",
        "background",
        "border",
        "position",
        "top",
        "left",
        "transition",
    ];
    let Some((property, value)) = line.split_once(':') else {
        return false;
    };
    line.ends_with(';')
        && !value.trim().is_empty()
        && property.chars().all(|c| c.is_ascii_lowercase() || c == '-')
        && (property.contains('-') || COMMON.contains(&property))
}

/// `target: dependencies` at the start of a line.
fn is_make_rule(line: &str) -> bool {
    let Some((target, rest)) = line.split_once(':') else {
        return false;
    };
    !target.is_empty()
        && !line.starts_with([' ', '\t'])
        && !rest.starts_with('=')
        && target
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.%/-$()".contains(c))
}

/// `[package]`, `[tool.poetry]`, `[[bin]]`.
fn is_toml_table_header(line: &str) -> bool {
    let inner = line.trim_start_matches('[').trim_end_matches(']');
    line.starts_with('[')
        && line.ends_with(']')
        && !inner.is_empty()
        && inner
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
        && inner.contains(|c: char| c.is_ascii_alphabetic())
}

fn score_others(line: &Line<'_>, evidence: &mut Evidence) {
    if line.starts_with("local ") {
        evidence.add("lua", 4);
    }
    if line.starts_with("module ") && line.ends_with(" where")
        || line.starts_with("import qualified ")
        || line.text == "main = do"
    {
        evidence.add("haskell", 5);
    }
    if line.contains("@import(\"") {
        evidence.add("zig", 6);
    }
}

const HTML_TAGS: [&str; 40] = [
    "html", "head", "body", "div", "span", "p", "a", "ul", "ol", "li", "section", "article",
    "header", "footer", "nav", "main", "button", "form", "input", "label", "select", "table", "tr",
    "td", "th", "img", "script", "style", "link", "meta", "title", "h1", "h2", "h3", "textarea",
    "template", "br", "hr", "strong", "em",
];

/// A trimmed line with the set of ASCII bytes in it: a substring search is skipped when one of
/// the pattern's bytes is absent, which spares most of the ~70 searches per line.
struct Line<'a> {
    text: &'a str,
    ascii: u128,
}

impl<'a> Line<'a> {
    fn new(text: &'a str) -> Self {
        let ascii = text
            .bytes()
            .filter(|byte| byte.is_ascii())
            .fold(0u128, |set, byte| set | (1u128 << byte));
        Line { text, ascii }
    }

    fn contains(&self, pattern: &str) -> bool {
        let possible = pattern
            .bytes()
            .all(|byte| !byte.is_ascii() || self.ascii & (1u128 << byte) != 0);
        possible && self.text.contains(pattern)
    }
}

impl std::ops::Deref for Line<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        self.text
    }
}

/// Mostly `key: value` / `- item` lines, with at least two lines and one key.
fn looks_like_yaml(code: &str) -> bool {
    let mut yaml_lines = 0usize;
    let mut other_lines = 0usize;
    let mut keys = 0usize;
    for line in code.lines().take(GUESS_MAX_LINES) {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line == "---" {
            continue;
        }
        let item = line.strip_prefix("- ").map(str::trim);
        let candidate = item.unwrap_or(line);
        if is_yaml_key_line(candidate) {
            keys += 1;
            yaml_lines += 1;
        } else if item.is_some() && !candidate.ends_with(';') {
            yaml_lines += 1;
        } else {
            other_lines += 1;
        }
    }
    keys >= 1 && yaml_lines >= 2 && other_lines * 10 <= yaml_lines
}

fn is_yaml_key_line(line: &str) -> bool {
    let Some((key, value)) = line.split_once(':') else {
        return false;
    };
    let key = key.trim_matches(['"', '\'']);
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || "_-./".contains(c))
        && (value.is_empty() || value.starts_with(' '))
        && !value.trim_end().ends_with([';', '{', ','])
}

pub(crate) fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.as_bytes()
        .get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
}

pub(crate) fn contains_ignore_case(text: &str, needle: &str) -> bool {
    let needle = needle.as_bytes();
    !needle.is_empty()
        && text
            .as_bytes()
            .windows(needle.len())
            .any(|window| window.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_map_to_canonical_names() {
        let cases = [
            ("py", "python"),
            ("Python3", "python"),
            ("js", "javascript"),
            ("node", "javascript"),
            ("jsx", "jsx"),
            ("tsx", "tsx"),
            ("ts", "typescript"),
            ("sh", "bash"),
            ("shell", "bash"),
            ("zsh", "bash"),
            ("console", "bash"),
            ("shellsession", "bash"),
            ("rs", "rust"),
            ("golang", "go"),
            ("c++", "cpp"),
            ("C++", "cpp"),
            ("cxx", "cpp"),
            ("c#", "csharp"),
            ("cs", "csharp"),
            ("CSharp", "csharp"),
            ("yml", "yaml"),
            ("md", "markdown"),
            ("ex", "elixir"),
            ("exs", "elixir"),
            ("rb", "ruby"),
            ("kt", "kotlin"),
            ("Dockerfile", "dockerfile"),
            ("Makefile", "makefile"),
            ("JSON", "json"),
            ("html", "html"),
            ("sql", "sql"),
            ("toml", "toml"),
            ("swift", "swift"),
            ("php", "php"),
            ("Objective-C", "objectivec"),
        ];
        for (label, expected) in cases {
            assert_eq!(normalize_language(label), expected, "label {label:?}");
        }
    }

    #[test]
    fn labels_without_a_language_are_empty() {
        for label in [
            "",
            "  ",
            "Copy code",
            "copy",
            "plaintext",
            "text",
            "txt",
            "Plain Text",
            "output",
            "{}",
            "123",
        ] {
            assert_eq!(normalize_language(label), "", "label {label:?}");
        }
    }

    #[test]
    fn class_forms_and_trailing_junk_are_tolerated() {
        assert_eq!(normalize_language("language-python"), "python");
        assert_eq!(normalize_language("hljs language-js"), "javascript");
        assert_eq!(normalize_language("lang-rs"), "rust");
        assert_eq!(normalize_language("python Copy"), "python");
        assert_eq!(normalize_language("pythonCopy code"), "python");
        assert_eq!(normalize_language("bashCopy"), "bash");
        assert_eq!(normalize_language("rust,ignore"), "rust");
        assert_eq!(normalize_language("python title=\"app.py\""), "python");
        assert_eq!(normalize_language("{.python .numberLines}"), "python");
        assert_eq!(normalize_language("  TypeScript  "), "typescript");
    }

    #[test]
    fn file_names_give_their_language() {
        assert_eq!(normalize_language("main.rs"), "rust");
        assert_eq!(normalize_language("src/components/App.tsx"), "tsx");
        assert_eq!(normalize_language("Dockerfile.dev"), "dockerfile");
        assert_eq!(normalize_language("notes.unknownext"), "");
    }

    #[test]
    fn unlisted_language_names_are_kept() {
        assert_eq!(normalize_language("Mermaid"), "mermaid");
        assert_eq!(normalize_language("gleam"), "gleam");
        assert_eq!(normalize_language("x"), "");
        assert_eq!(normalize_language("héllo"), "");
    }

    fn guess(code: &str) -> Option<&'static str> {
        guess_language(code)
    }

    #[test]
    fn shebangs_decide() {
        assert_eq!(guess("#!/usr/bin/env python3\nprint(1)\n"), Some("python"));
        assert_eq!(guess("#!/bin/bash\nls\n"), Some("bash"));
        assert_eq!(guess("#!/usr/bin/env node\n"), Some("javascript"));
        assert_eq!(guess("#!/usr/bin/env -S deno run\n"), Some("typescript"));
        assert_eq!(guess("#!/usr/bin/ruby\n"), Some("ruby"));
        assert_eq!(guess("#!/opt/strange-thing\n"), None);
    }

    #[test]
    fn python_is_recognised() {
        assert_eq!(guess("def add(a, b):\n    return a + b\n"), Some("python"));
        assert_eq!(guess("import os\n"), Some("python"));
        assert_eq!(
            guess("from pathlib import Path\nPath('.').exists()\n"),
            Some("python")
        );
    }

    #[test]
    fn javascript_and_typescript_are_recognised() {
        assert_eq!(
            guess("function greet(name) {\n  return 'hi ' + name;\n}\n"),
            Some("javascript")
        );
        assert_eq!(guess("const double = (x) => x * 2;\n"), Some("javascript"));
        assert_eq!(guess("import React from 'react';\n"), Some("javascript"));
        assert_eq!(
            guess("interface User {\n  name: string;\n}\n"),
            Some("typescript")
        );
        assert_eq!(
            guess("const App = () => {\n  return <div className=\"app\">hi</div>;\n};\n"),
            Some("jsx")
        );
    }

    #[test]
    fn compiled_languages_are_recognised() {
        assert_eq!(
            guess("fn main() {\n    println!(\"hi\");\n}\n"),
            Some("rust")
        );
        assert_eq!(
            guess("package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(1)\n}\n"),
            Some("go")
        );
        assert_eq!(
            guess("#include <stdio.h>\nint main(void) { return 0; }\n"),
            Some("c")
        );
        assert_eq!(
            guess("#include <iostream>\nint main() { std::cout << 1; }\n"),
            Some("cpp")
        );
        assert_eq!(
            guess(
                "public class Main {\n  public static void main(String[] args) {\n    System.out.println(1);\n  }\n}\n"
            ),
            Some("java")
        );
        assert_eq!(
            guess("using System;\nConsole.WriteLine(\"hi\");\n"),
            Some("csharp")
        );
        assert_eq!(
            guess("fun main() {\n    println(\"hi\")\n}\n"),
            Some("kotlin")
        );
        assert_eq!(guess("import SwiftUI\n"), Some("swift"));
    }

    #[test]
    fn scripting_languages_are_recognised() {
        assert_eq!(guess("<?php\necho 'hi';\n"), Some("php"));
        assert_eq!(
            guess("defmodule Hello do\n  def world, do: :ok\nend\n"),
            Some("elixir")
        );
        assert_eq!(
            guess("class Dog < Animal\n  attr_accessor :name\nend\n"),
            Some("ruby")
        );
        assert_eq!(guess("$ npm install\n$ npm test\n"), Some("bash"));
        assert_eq!(guess("local x = 1\nprint(x)\n"), Some("lua"));
    }

    #[test]
    fn data_and_markup_are_recognised() {
        assert_eq!(
            guess("SELECT id, name FROM users WHERE id = 1;\n"),
            Some("sql")
        );
        assert_eq!(
            guess("{\n  \"a\": [1, 2],\n  \"b\": null\n}\n"),
            Some("json")
        );
        assert_eq!(guess("[{\"a\": 1}]"), Some("json"));
        assert_eq!(
            guess("name: app\nversion: 1.0\nitems:\n  - one\n  - two\n"),
            Some("yaml")
        );
        assert_eq!(
            guess("<div class=\"x\">\n  <p>Hello</p>\n</div>\n"),
            Some("html")
        );
        assert_eq!(guess("<!DOCTYPE html>\n<html></html>\n"), Some("html"));
        assert_eq!(guess("<?xml version=\"1.0\"?>\n<a/>\n"), Some("xml"));
        assert_eq!(
            guess(".box {\n  display: flex;\n  margin-top: 4px;\n}\n"),
            Some("css")
        );
        assert_eq!(
            guess("FROM node:20\nWORKDIR /app\nRUN npm ci\n"),
            Some("dockerfile")
        );
        assert_eq!(guess(".PHONY: all\nall:\n\tcc main.c\n"), Some("makefile"));
        assert_eq!(
            guess("[package]\nname = \"x\"\n[dependencies]\n"),
            Some("toml")
        );
    }

    #[test]
    fn unsure_guesses_are_none() {
        assert_eq!(guess(""), None);
        assert_eq!(guess("hello world\nthis is just text\n"), None);
        assert_eq!(guess("x = 1\n"), None);
        assert_eq!(guess("{ not json"), None);
        assert_eq!(guess("[1, 2"), None);
        assert_eq!(guess("Note: this is prose.\n"), None);
        // One weak hint each for two languages: no lead, no guess.
        assert_eq!(guess("end\n"), None);
    }
}
