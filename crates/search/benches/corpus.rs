//! A deterministic synthetic library for measuring the index: dreams whose fragments are
//! ~660 bytes each (a code block and the prose around it), in English, Chinese, Japanese and
//! Korean, plus a fixed query set with the document each query is meant to find.
//!
//! Shared by `benches/search.rs` and `examples/measure.rs`. Invented text only.
#![allow(dead_code)]

use chrono::TimeZone;
use dreamcatcher_model::{CodeBlock, CodeOrigin, Conversation, Dream, Message, Role, Site, Timestamp};
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
    "the", "a", "to", "of", "and", "in", "is", "it", "you", "that", "for", "this", "with", "on", "as", "be", "can",
    "we", "if", "or", "not", "are", "by", "from", "use", "when", "your", "will", "then", "each", "so", "but", "have",
    "here", "into", "which", "should", "also", "more", "only", "one", "all", "new", "first", "make", "like", "just",
    "how", "what", "way", "need", "sure", "call", "works", "instead", "because", "example", "simple", "case", "note",
    "without", "before", "after", "again", "every", "another", "value", "values", "return", "returns", "change",
];

const TECH: &[&str] = &[
    "function", "request", "response", "server", "client", "error", "handler", "config", "cache", "token", "user",
    "file", "path", "query", "database", "connection", "pool", "retry", "timeout", "parser", "stream", "buffer",
    "thread", "async", "await", "promise", "future", "channel", "socket", "header", "payload", "json", "schema",
    "index", "search", "table", "column", "record", "session", "state", "store", "event", "message", "queue",
    "worker", "task", "job", "batch", "logger", "metric", "trace", "span", "context", "option", "result", "vector",
    "string", "number", "array", "map", "list", "set", "key", "hash", "sort", "filter", "reduce", "iterator",
    "closure", "module", "package", "import", "export", "build", "deploy", "container", "image", "volume", "network",
    "route", "router", "middleware", "auth", "login", "password", "secret", "certificate", "proxy", "upload",
    "download", "render", "component", "props", "hook", "effect", "layout", "style", "theme", "button", "input",
    "form", "validate", "validator", "encode", "decode", "serialize", "parse", "format", "convert", "merge", "split",
    "spawn", "spawning", "blocking", "runtime", "executor", "scheduler", "signal", "process", "command", "shell",
];

const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ver", "zan", "tor", "bel", "quo", "rix", "dun", "sel", "pra", "gon", "fyl", "wes", "nar", "oth",
    "cly", "vin", "dra", "mek", "sul", "tai", "bro", "jex", "lum", "pev", "hox", "ru", "ti", "ne", "sa", "vo", "ke",
];

const LANGUAGES: &[&str] = &["python", "rust", "javascript", "typescript", "go", "bash", "sql", "java"];

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
        let han_words = (0..6_000).map(|_| (0..2).map(|_| han(rng)).collect()).collect();
        let katakana_words = (0..3_000)
            .map(|_| {
                let length = 3 + rng.below(3);
                (0..length).map(|_| char::from_u32(0x30A2 + rng.below(80) as u32).unwrap_or('ア')).collect()
            })
            .collect();
        let hangul_words = (0..5_000)
            .map(|_| {
                let length = 2 + rng.below(2);
                (0..length).map(|_| char::from_u32(0xAC00 + rng.skewed(2400) as u32 * 4).unwrap_or('가')).collect()
            })
            .collect();
        let mut vocabulary =
            Vocabulary { pseudo, identifiers: Vec::new(), apis: Vec::new(), han_words, katakana_words, hangul_words };
        vocabulary.identifiers = (0..30_000)
            .map(|_| (0..2 + rng.below(2)).map(|_| vocabulary.name_part(rng)).collect())
            .collect();
        vocabulary.apis = (0..4_000).map(|_| (vocabulary.name_part(rng), vocabulary.name_part(rng))).collect();
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
                    "sql" => format!("  SELECT {variable}, {function} FROM {module} WHERE id = $1\n"),
                    "bash" => format!("  {module} --{function} \"${argument}\" | grep {variable}\n"),
                    _ => format!("    const {variable} = await {module}.{function}({argument});\n"),
                },
                2 => format!("    if {variable}.{function}() {{ return {}; }}\n", rng.pick(&locals)),
                3 => format!("    {function}({variable}, {});\n", self.pooled_identifier(rng, camel)),
                _ => format!("    load(\"src/{module}/{}.rs\");\n", TECH[rng.skewed(TECH.len())]),
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

pub const QUERY_KINDS: [QueryKind; 4] = [QueryKind::Exact, QueryKind::Prefix, QueryKind::Cjk, QueryKind::Identifier];

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
        hits.iter().any(|h| h.dream_id == self.dream_id && h.fragment == self.fragment)
    }
}

pub struct Corpus {
    pub dreams: Vec<Dream>,
    pub queries: Vec<Query>,
    pub fragments: usize,
    pub fragment_bytes: usize,
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
        let site = if rng.chance(60) { Site::Chatgpt } else { Site::Claude };
        let mut conversation = Conversation::new(site, Some(format!("bench-{}", dreams.len())), title);
        conversation.updated_at = Some(now() - chrono::Duration::days(rng.below(400) as i64));
        conversation.messages.push(Message::new(Role::User, vocabulary.prose(&mut rng, script, 80)));
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
        let mut dream = Dream::captured(conversation, now() - chrono::Duration::days(rng.below(400) as i64));
        if rng.chance(30) {
            dream.tags = (0..1 + rng.below(2)).map(|_| TECH[rng.skewed(TECH.len())].to_string()).collect();
        }
        dream.usage_count = rng.skewed(30) as u32;
        dreams.push(dream);
        scripts.push(script);
    }
    let queries = make_queries(&mut rng, &dreams, &scripts, queries_per_kind);
    Corpus { dreams, queries, fragments: made, fragment_bytes }
}

fn words_of(code: &str) -> Vec<&str> {
    code.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).filter(|w| w.len() >= 4).collect()
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

fn make_queries(rng: &mut Rng, dreams: &[Dream], scripts: &[Script], per_kind: usize) -> Vec<Query> {
    // How many code blocks use each word: queries are made of the target's rarer words, as a
    // person recalls what was distinctive about a snippet.
    let mut frequency: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for dream in dreams {
        for message in &dream.conversation.messages {
            for block in &message.fragments.code_blocks {
                let mut seen: Vec<&str> = words_of(&block.code);
                seen.sort_unstable();
                seen.dedup();
                for word in seen {
                    *frequency.entry(word).or_default() += 1;
                }
            }
        }
    }
    let mut queries = Vec::new();
    for kind in QUERY_KINDS {
        let mut made = 0;
        let mut attempts = 0;
        while made < per_kind && attempts < per_kind * 100 {
            attempts += 1;
            let dream_index = rng.below(dreams.len());
            let dream = &dreams[dream_index];
            let cjk_dream = scripts[dream_index] != Script::English;
            if (kind == QueryKind::Cjk) != cjk_dream && kind == QueryKind::Cjk {
                continue;
            }
            let messages = &dream.conversation.messages;
            let message_index = 1 + rng.below(messages.len() - 1);
            let Some(block) = messages[message_index].fragments.code_blocks.first() else { continue };
            let fragment = Some(FragmentRef::Code { message: message_index as u32, block: 0 });
            let text = match kind {
                QueryKind::Exact | QueryKind::Prefix => {
                    let mut words: Vec<&str> = words_of(&block.code)
                        .into_iter()
                        .filter(|w| w.chars().all(|c| c.is_ascii_lowercase()))
                        .collect();
                    words.sort_unstable();
                    words.dedup();
                    words.sort_by_key(|w| frequency.get(w).copied().unwrap_or(0));
                    words.truncate(6);
                    if words.len() < 2 {
                        continue;
                    }
                    let first = *rng.pick(&words);
                    let second = *rng.pick(&words);
                    if first == second || (kind == QueryKind::Prefix && second.len() < 5) {
                        continue;
                    }
                    if kind == QueryKind::Prefix {
                        let cut = 3 + rng.below(3).min(second.len() - 4);
                        format!("{first} {}", &second[..cut])
                    } else {
                        format!("{first} {second}")
                    }
                }
                QueryKind::Identifier => {
                    let mut identifiers: Vec<&str> = block
                        .code
                        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                        .filter(|w| w.contains('_') || w.chars().skip(1).any(|c| c.is_uppercase()))
                        .collect();
                    identifiers.sort_unstable();
                    identifiers.dedup();
                    identifiers.sort_by_key(|w| frequency.get(w).copied().unwrap_or(0));
                    identifiers.truncate(3);
                    if identifiers.is_empty() {
                        continue;
                    }
                    let identifier = *rng.pick(&identifiers);
                    if rng.chance(50) { identifier.to_string() } else { swap_case_style(identifier) }
                }
                QueryKind::Cjk => {
                    let chars: Vec<char> = block.code.chars().collect();
                    let length = 3 + rng.below(2);
                    let starts: Vec<usize> = (0..chars.len().saturating_sub(length))
                        .filter(|&s| chars[s..s + length].iter().all(|&c| is_cjk(c)))
                        .collect();
                    if starts.is_empty() {
                        continue;
                    }
                    let start = *rng.pick(&starts);
                    chars[start..start + length].iter().collect()
                }
            };
            queries.push(Query { text, kind, dream_id: dream.id().to_string(), fragment });
            made += 1;
        }
    }
    queries
}
