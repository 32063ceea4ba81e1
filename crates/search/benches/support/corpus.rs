//! A deterministic synthetic library for measuring the index: dreams whose fragments are
//! ~660 bytes each (a code block and the prose around it), in English, Chinese, Japanese and
//! Korean, plus a fixed query set with the document each query is meant to find.
//!
//! Shared by `benches/search.rs` and `examples/measure.rs`. Invented text only.
//!
//! Code blocks are functions with a fresh name, a few local names drawn (skewed towards the
//! common ones) from a pool of 30,000 compound identifiers, library calls from a pool of
//! 4,000, paths and comments; prose mixes common English, technical words and 40,000
//! invented words. A third of the dreams are Chinese, Japanese or Korean.
#![allow(dead_code)]

use chrono::TimeZone;
use dreamcatcher_model::{
    CodeBlock, CodeOrigin, Conversation, Dream, Message, Role, Site, Timestamp,
};
use dreamcatcher_search::{FragmentRef, SearchHit};

/// SplitMix64: tiny, fast and good enough for test data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    /// Index in 0..n, skewed towards 0 like word frequencies (roughly Zipfian).
    pub fn skewed(&mut self, n: usize) -> usize {
        let u = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        (((n as f64 + 1.0).powf(u) - 1.0) as usize).min(n.saturating_sub(1))
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const COMMON: &[&str] = &[
    "the", "a", "to", "of", "and", "in", "is", "it", "you", "that", "for", "this", "with", "on",
    "as", "be", "can", "we", "if", "or", "not", "are", "by", "from", "use", "when", "your", "will",
    "then", "each", "so", "but", "have", "here", "into", "which", "should", "also", "more", "only",
    "one", "all", "new", "first", "make", "like", "just", "how", "what", "way", "need", "sure",
    "call", "works", "instead", "because", "example", "simple", "case", "note", "without",
    "before", "after", "again", "every", "another", "value", "values", "return", "returns",
    "change",
];

const TECH: &[&str] = &[
    "function",
    "request",
    "response",
    "server",
    "client",
    "error",
    "handler",
    "config",
    "cache",
    "token",
    "user",
    "file",
    "path",
    "query",
    "database",
    "connection",
    "pool",
    "retry",
    "timeout",
    "parser",
    "stream",
    "buffer",
    "thread",
    "async",
    "await",
    "promise",
    "future",
    "channel",
    "socket",
    "header",
    "payload",
    "json",
    "schema",
    "index",
    "search",
    "table",
    "column",
    "record",
    "session",
    "state",
    "store",
    "event",
    "message",
    "queue",
    "worker",
    "task",
    "job",
    "batch",
    "logger",
    "metric",
    "trace",
    "span",
    "context",
    "option",
    "result",
    "vector",
    "string",
    "number",
    "array",
    "map",
    "list",
    "set",
    "key",
    "hash",
    "sort",
    "filter",
    "reduce",
    "iterator",
    "closure",
    "module",
    "package",
    "import",
    "export",
    "build",
    "deploy",
    "container",
    "image",
    "volume",
    "network",
    "route",
    "router",
    "middleware",
    "auth",
    "login",
    "password",
    "secret",
    "certificate",
    "proxy",
    "upload",
    "download",
    "render",
    "component",
    "props",
    "hook",
    "effect",
    "layout",
    "style",
    "theme",
    "button",
    "input",
    "form",
    "validate",
    "validator",
    "encode",
    "decode",
    "serialize",
    "parse",
    "format",
    "convert",
    "merge",
    "split",
    "spawn",
    "spawning",
    "blocking",
    "runtime",
    "executor",
    "scheduler",
    "signal",
    "process",
    "command",
    "shell",
];

const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ver", "zan", "tor", "bel", "quo", "rix", "dun", "sel", "pra", "gon", "fyl",
    "wes", "nar", "oth", "cly", "vin", "dra", "mek", "sul", "tai", "bro", "jex", "lum", "pev",
    "hox", "ru", "ti", "ne", "sa", "vo", "ke",
];

const LANGUAGES: &[&str] = &[
    "python",
    "rust",
    "javascript",
    "typescript",
    "go",
    "bash",
    "sql",
    "java",
];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Script {
    English,
    Chinese,
    Japanese,
    Korean,
}

/// Word sources, built once from the seed.
pub struct Vocabulary {
    pseudo: Vec<String>,
    /// Compound names (as snake_case parts) that code reuses, most of them rarely.
    identifiers: Vec<Vec<String>>,
    /// `module` + `function` pairs standing for library calls.
    apis: Vec<(String, String)>,
    han_words: Vec<String>,
    katakana_words: Vec<String>,
    hangul_words: Vec<String>,
}

fn han(rng: &mut Rng) -> char {
    // 3,000 of the unified ideographs (which are mostly real, if sometimes rare, characters).
    char::from_u32(0x4E00 + (rng.skewed(3000) as u32) * 7).unwrap_or('中')
}

impl Vocabulary {
    pub fn new(rng: &mut Rng) -> Vocabulary {
        let pseudo = (0..40_000)
            .map(|_| {
                let parts = 2 + rng.below(2);
                (0..parts).map(|_| *rng.pick(SYLLABLES)).collect::<String>()
            })
            .collect();
        let han_words = (0..6_000)
            .map(|_| (0..2).map(|_| han(rng)).collect())
            .collect();
        let katakana_words = (0..3_000)
            .map(|_| {
                let length = 3 + rng.below(3);
                (0..length)
                    .map(|_| char::from_u32(0x30A2 + rng.below(80) as u32).unwrap_or('ア'))
                    .collect()
            })
            .collect();
        let hangul_words = (0..5_000)
            .map(|_| {
                let length = 2 + rng.below(2);
                (0..length)
                    .map(|_| char::from_u32(0xAC00 + rng.skewed(2400) as u32 * 4).unwrap_or('가'))
                    .collect()
            })
            .collect();
        let mut vocabulary = Vocabulary {
            pseudo,
            identifiers: Vec::new(),
            apis: Vec::new(),
            han_words,
            katakana_words,
            hangul_words,
        };
        vocabulary.identifiers = (0..30_000)
            .map(|_| {
                (0..2 + rng.below(2))
                    .map(|_| vocabulary.name_part(rng))
                    .collect()
            })
            .collect();
        vocabulary.apis = (0..4_000)
            .map(|_| (vocabulary.name_part(rng), vocabulary.name_part(rng)))
            .collect();
        vocabulary
    }

    fn english_word(&self, rng: &mut Rng) -> String {
        match rng.below(10) {
            0..=4 => COMMON[rng.skewed(COMMON.len())].to_string(),
            5..=7 => TECH[rng.skewed(TECH.len())].to_string(),
            _ => self.pseudo[rng.skewed(self.pseudo.len())].clone(),
        }
    }

    /// A name part for identifiers: technical words and invented ones.
    fn name_part(&self, rng: &mut Rng) -> String {
        if rng.chance(55) {
            TECH[rng.skewed(TECH.len())].to_string()
        } else {
            self.pseudo[rng.skewed(self.pseudo.len())].clone()
        }
    }

    /// Roughly `bytes` of prose in `script`.
    pub fn prose(&self, rng: &mut Rng, script: Script, bytes: usize) -> String {
        let mut out = String::new();
        while out.len() < bytes {
            match script {
                Script::English => {
                    if !out.is_empty() {
                        out.push(' ');
                    }
                    out.push_str(&self.english_word(rng));
                    if rng.chance(8) {
                        out.push('.');
                    }
                }
                Script::Chinese => {
                    out.push_str(&self.han_words[rng.skewed(self.han_words.len())]);
                    if rng.chance(10) {
                        out.push('，');
                    }
                    if rng.chance(6) {
                        out.push_str(&format!(" {} ", TECH[rng.skewed(TECH.len())]));
                    }
                }
                Script::Japanese => {
                    if rng.chance(50) {
                        out.push_str(&self.katakana_words[rng.skewed(self.katakana_words.len())]);
                    } else {
                        out.push_str(&self.han_words[rng.skewed(self.han_words.len())]);
                    }
                    out.push(*rng.pick(&['の', 'を', 'に', 'は', 'で', 'が']));
                    if rng.chance(8) {
                        out.push('。');
                    }
                }
                Script::Korean => {
                    if !out.is_empty() {
                        out.push(' ');
                    }
                    out.push_str(&self.hangul_words[rng.skewed(self.hangul_words.len())]);
                }
            }
        }
        out
    }

    fn styled(parts: &[String], camel: bool) -> String {
        if !camel {
            return parts.join("_");
        }
        let mut out = String::new();
        for (i, part) in parts.iter().enumerate() {
            let mut chars = part.chars();
            if let Some(first) = chars.next() {
                if i == 0 {
                    out.push(first);
                } else {
                    out.extend(first.to_uppercase());
                }
                out.push_str(chars.as_str());
            }
        }
        out
    }

    /// A name code reuses: drawn from the shared pool, common ones far more often.
    fn pooled_identifier(&self, rng: &mut Rng, camel: bool) -> String {
        Self::styled(&self.identifiers[rng.skewed(self.identifiers.len())], camel)
    }

    /// A fresh name, as a function being written gets.
    fn fresh_identifier(&self, rng: &mut Rng, camel: bool) -> String {
        let parts: Vec<String> = (0..2 + rng.below(2)).map(|_| self.name_part(rng)).collect();
        Self::styled(&parts, camel)
    }

    /// About `bytes` of plausible code in `language`, comments in `script`: a function with a
    /// fresh name, a few local names reused across its lines, library calls and comments.
    pub fn code(&self, rng: &mut Rng, language: &str, script: Script, bytes: usize) -> String {
        let camel = matches!(language, "javascript" | "typescript" | "java" | "go");
        let comment = match language {
            "python" | "bash" => "#",
            "sql" => "--",
            _ => "//",
        };
        let mut out = String::new();
        let name = self.fresh_identifier(rng, camel);
        let argument = self.pooled_identifier(rng, camel);
        let locals: Vec<String> = (0..3).map(|_| self.pooled_identifier(rng, camel)).collect();
        out.push_str(&match language {
            "python" => format!("def {name}({argument}, retries=3):\n"),
            "rust" => format!("pub fn {name}({argument}: &str) -> Result<Config, Error> {{\n"),
            "javascript" | "typescript" => format!("export async function {name}({argument}) {{\n"),
            "go" => format!("func {name}({argument} string) error {{\n"),
            "bash" => format!("{name}() {{\n"),
            "sql" => format!("CREATE VIEW {name} AS\n"),
            _ => format!("public Result {name}(String {argument}) {{\n"),
        });
        while out.len() < bytes {
            let variable = rng.pick(&locals).clone();
            let (module, function) = &self.apis[rng.skewed(self.apis.len())];
            let function = Self::styled(std::slice::from_ref(function), camel);
            let line = match rng.below(5) {
                0 => format!("    {comment} {}\n", self.prose(rng, script, 40)),
                1 => match language {
                    "rust" => format!("    let {variable} = {module}::{function}(&{argument})?;\n"),
                    "python" => format!("    {variable} = {module}.{function}({argument})\n"),
                    "sql" => {
                        format!("  SELECT {variable}, {function} FROM {module} WHERE id = $1\n")
                    }
                    "bash" => {
                        format!("  {module} --{function} \"${argument}\" | grep {variable}\n")
                    }
                    _ => format!("    const {variable} = await {module}.{function}({argument});\n"),
                },
                2 => format!(
                    "    if {variable}.{function}() {{ return {}; }}\n",
                    rng.pick(&locals)
                ),
                3 => format!(
                    "    {function}({variable}, {});\n",
                    self.pooled_identifier(rng, camel)
                ),
                _ => format!(
                    "    load(\"src/{module}/{}.rs\");\n",
                    TECH[rng.skewed(TECH.len())]
                ),
            };
            out.push_str(&line);
        }
        out.push_str("}\n");
        out
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum QueryKind {
    /// Two whole words of the target.
    Exact,
    /// The same with the last word cut to its first 3-5 characters (typing).
    Prefix,
    /// Three or four adjacent characters of the target's Chinese/Japanese/Korean text.
    Cjk,
    /// One identifier of the target, as written or in the other case style.
    Identifier,
}

pub const QUERY_KINDS: [QueryKind; 4] = [
    QueryKind::Exact,
    QueryKind::Prefix,
    QueryKind::Cjk,
    QueryKind::Identifier,
];

impl QueryKind {
    pub fn name(self) -> &'static str {
        match self {
            QueryKind::Exact => "exact words",
            QueryKind::Prefix => "prefix",
            QueryKind::Cjk => "CJK",
            QueryKind::Identifier => "code identifier",
        }
    }
}

pub struct Query {
    pub text: String,
    pub kind: QueryKind,
    pub dream_id: String,
    pub fragment: Option<FragmentRef>,
}

impl Query {
    /// The query "answers" when its target is among the hits.
    pub fn answered_by(&self, hits: &[SearchHit]) -> bool {
        hits.iter()
            .any(|h| h.dream_id == self.dream_id && h.fragment == self.fragment)
    }
}

pub struct Corpus {
    pub dreams: Vec<Dream>,
    pub queries: Vec<Query>,
    pub fragments: usize,
    pub fragment_bytes: usize,
}

impl Corpus {
    /// The language of the code block a query targets.
    pub fn language_of(&self, query: &Query) -> Option<&str> {
        let dream = self.dreams.iter().find(|d| d.id() == query.dream_id)?;
        let Some(FragmentRef::Code { message, block }) = query.fragment else {
            return None;
        };
        let message = dream.conversation.messages.get(message as usize)?;
        Some(
            message
                .fragments
                .code_blocks
                .get(block as usize)?
                .language
                .as_str(),
        )
    }
}

pub fn now() -> Timestamp {
    chrono::Utc.timestamp_opt(1_780_000_000, 0).unwrap()
}

/// Dreams totalling `fragments` code-block fragments, and `queries_per_kind` queries of each kind.
pub fn generate(fragments: usize, queries_per_kind: usize, seed: u64) -> Corpus {
    let mut rng = Rng::new(seed);
    let vocabulary = Vocabulary::new(&mut rng);
    let mut dreams = Vec::new();
    let mut scripts = Vec::new();
    let mut made = 0;
    let mut fragment_bytes = 0;
    while made < fragments {
        let script = match rng.below(100) {
            0..=64 => Script::English,
            65..=84 => Script::Chinese,
            85..=94 => Script::Japanese,
            _ => Script::Korean,
        };
        let title = match script {
            Script::English => vocabulary.prose(&mut rng, Script::English, 28),
            other => vocabulary.prose(&mut rng, other, 12),
        };
        let site = if rng.chance(60) {
            Site::Chatgpt
        } else {
            Site::Claude
        };
        let mut conversation =
            Conversation::new(site, Some(format!("bench-{}", dreams.len())), title);
        conversation.updated_at = Some(now() - chrono::Duration::days(rng.below(400) as i64));
        conversation.messages.push(Message::new(
            Role::User,
            vocabulary.prose(&mut rng, script, 80),
        ));
        let count = (1 + rng.below(9)).min(fragments - made);
        for _ in 0..count {
            let language = *rng.pick(LANGUAGES);
            let prose = vocabulary.prose(&mut rng, script, 200);
            let code = vocabulary.code(&mut rng, language, script, 440);
            fragment_bytes += prose.len() + code.len();
            let markdown = format!("{prose}\n\n```{language}\n{code}```\n");
            let mut message = Message::new(Role::Assistant, markdown);
            message.fragments.code_blocks.push(CodeBlock {
                language: language.to_string(),
                language_guessed: false,
                line_count: code.lines().count() as u32,
                content_key: String::new(),
                title: None,
                origin: CodeOrigin::Fence,
                code,
            });
            conversation.messages.push(message);
        }
        made += count;
        let mut dream = Dream::captured(
            conversation,
            now() - chrono::Duration::days(rng.below(400) as i64),
        );
        if rng.chance(30) {
            dream.tags = (0..1 + rng.below(2))
                .map(|_| TECH[rng.skewed(TECH.len())].to_string())
                .collect();
        }
        dream.usage_count = rng.skewed(30) as u32;
        dreams.push(dream);
        scripts.push(script);
    }
    let queries = make_queries(&mut rng, &dreams, &scripts, queries_per_kind);
    Corpus {
        dreams,
        queries,
        fragments: made,
        fragment_bytes,
    }
}

/// Lowercased alphanumeric runs, the way a person would type a word they saw (identifiers
/// are split at `_`, `.` and case changes).
fn typed_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    for run in text.split(|c: char| !c.is_ascii_alphanumeric()) {
        let mut current = String::new();
        let mut previous_lower = false;
        for c in run.chars() {
            if c.is_ascii_uppercase() && previous_lower && !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
            current.push(c.to_ascii_lowercase());
        }
        if !current.is_empty() {
            words.push(current);
        }
    }
    words
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3040..=0x30FF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF)
}

fn swap_case_style(identifier: &str) -> String {
    if identifier.contains('_') {
        let mut out = String::new();
        for (i, part) in identifier.split('_').enumerate() {
            let mut chars = part.chars();
            match (i, chars.next()) {
                (0, Some(first)) => out.push(first),
                (_, Some(first)) => out.extend(first.to_uppercase()),
                _ => {}
            }
            out.push_str(chars.as_str());
        }
        out
    } else {
        let mut out = String::new();
        for c in identifier.chars() {
            if c.is_uppercase() {
                out.push('_');
                out.extend(c.to_lowercase());
            } else {
                out.push(c);
            }
        }
        out
    }
}

/// The searchable text of every document the index will hold (each code block, and each
/// dream's title and prose), for checking that a query matches only its target.
struct Documents<'a> {
    texts: Vec<String>,
    /// Code block documents: (dream index, message index) → document number.
    blocks: std::collections::HashMap<(usize, usize), usize>,
    _dreams: std::marker::PhantomData<&'a Dream>,
}

impl<'a> Documents<'a> {
    fn new(dreams: &'a [Dream]) -> Documents<'a> {
        let mut texts = Vec::new();
        let mut blocks = std::collections::HashMap::new();
        for (d, dream) in dreams.iter().enumerate() {
            let mut prose = dream.conversation.title.clone();
            for (m, message) in dream.conversation.messages.iter().enumerate() {
                prose.push('\n');
                prose.push_str(message.markdown.split("```").next().unwrap_or(""));
                if let Some(block) = message.fragments.code_blocks.first() {
                    blocks.insert((d, m), texts.len());
                    texts.push(block.code.clone());
                }
            }
            texts.push(prose);
        }
        Documents {
            texts,
            blocks,
            _dreams: std::marker::PhantomData,
        }
    }
}

/// Which documents contain each typed word.
fn word_postings(documents: &Documents<'_>) -> std::collections::BTreeMap<String, Vec<u32>> {
    let mut map: std::collections::BTreeMap<String, Vec<u32>> = std::collections::BTreeMap::new();
    for (number, text) in documents.texts.iter().enumerate() {
        for word in typed_words(text) {
            let list = map.entry(word).or_default();
            if list.last() != Some(&(number as u32)) {
                list.push(number as u32);
            }
        }
    }
    map
}

fn intersect(a: &[u32], b: &[u32]) -> Vec<u32> {
    a.iter()
        .filter(|x| b.binary_search(x).is_ok())
        .copied()
        .collect()
}

/// Queries that exactly one document answers fully: every word (or the prefix, or the CJK
/// characters in a row) occurs in the target and in no other document together, so "answered"
/// measures whether ranking puts that document in the top 10.
fn make_queries(
    rng: &mut Rng,
    dreams: &[Dream],
    _scripts: &[Script],
    per_kind: usize,
) -> Vec<Query> {
    let documents = Documents::new(dreams);
    let words = word_postings(&documents);
    let mut cjk_runs: std::collections::HashMap<String, (u32, usize)> =
        std::collections::HashMap::new();
    for (number, text) in documents.texts.iter().enumerate() {
        let chars: Vec<char> = text.chars().collect();
        for length in [3, 4] {
            let mut seen = std::collections::HashSet::new();
            for window in chars
                .windows(length)
                .filter(|w| w.iter().all(|&c| is_cjk(c)))
            {
                let run: String = window.iter().collect();
                if seen.insert(run.clone()) {
                    let entry = cjk_runs.entry(run).or_insert((0, number));
                    entry.0 += 1;
                }
            }
        }
    }
    let mut block_list: Vec<(&(usize, usize), &usize)> = documents.blocks.iter().collect();
    block_list.sort_unstable();

    let mut queries = Vec::new();
    for kind in QUERY_KINDS {
        let mut made = 0;
        let mut attempts = 0;
        while made < per_kind && attempts < per_kind * 200 {
            attempts += 1;
            let &(&(dream_index, message_index), &number) = rng.pick(&block_list);
            let target = number as u32;
            let code = &documents.texts[number];
            let own: Vec<String> = {
                let mut own = typed_words(code);
                own.sort_unstable();
                own.dedup();
                own.retain(|w| w.len() >= 3 && w.chars().any(|c| c.is_ascii_alphabetic()));
                own
            };
            let text = match kind {
                QueryKind::Exact | QueryKind::Prefix => {
                    if own.len() < 2 {
                        continue;
                    }
                    let first = rng.pick(&own).clone();
                    let second = rng.pick(&own).clone();
                    if first == second {
                        continue;
                    }
                    let with_first = &words[&first];
                    if kind == QueryKind::Exact {
                        if intersect(with_first, &words[&second]) != [target] {
                            continue;
                        }
                        format!("{first} {second}")
                    } else {
                        if second.len() < 5 {
                            continue;
                        }
                        let cut = 3 + rng.below(3).min(second.len() - 4);
                        let prefix = &second[..cut];
                        let mut completing: Vec<u32> = words
                            .range(prefix.to_string()..)
                            .take_while(|(w, _)| w.starts_with(prefix))
                            .flat_map(|(_, d)| d.iter().copied())
                            .collect();
                        completing.sort_unstable();
                        completing.dedup();
                        if intersect(with_first, &completing) != [target] {
                            continue;
                        }
                        format!("{first} {prefix}")
                    }
                }
                QueryKind::Identifier => {
                    let identifiers: Vec<&str> = code
                        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                        .filter(|w| w.contains('_') || w.chars().skip(1).any(|c| c.is_uppercase()))
                        .collect();
                    if identifiers.is_empty() {
                        continue;
                    }
                    let identifier = *rng.pick(&identifiers);
                    let parts = typed_words(identifier);
                    let mut holders: Option<Vec<u32>> = None;
                    for part in &parts {
                        let with_part = words.get(part).cloned().unwrap_or_default();
                        holders = Some(match holders {
                            None => with_part,
                            Some(so_far) => intersect(&so_far, &with_part),
                        });
                    }
                    if holders.as_deref() != Some(&[target][..]) {
                        continue;
                    }
                    if rng.chance(50) {
                        identifier.to_string()
                    } else {
                        swap_case_style(identifier)
                    }
                }
                QueryKind::Cjk => {
                    let chars: Vec<char> = code.chars().collect();
                    let length = 3 + rng.below(2);
                    let unique: Vec<String> = chars
                        .windows(length)
                        .filter(|w| w.iter().all(|&c| is_cjk(c)))
                        .map(|w| w.iter().collect::<String>())
                        .filter(|run| cjk_runs.get(run).is_some_and(|&(count, _)| count == 1))
                        .collect();
                    if unique.is_empty() {
                        continue;
                    }
                    rng.pick(&unique).clone()
                }
            };
            let fragment = Some(FragmentRef::Code {
                message: message_index as u32,
                block: 0,
            });
            queries.push(Query {
                text,
                kind,
                dream_id: dreams[dream_index].id().to_string(),
                fragment,
            });
            made += 1;
        }
    }
    queries
}
