//! Splitting code lines into code and comments, per language family, so TODO markers are
//! read from comments only and hints from code only.
//!
//! This is a line scanner, not a parser: it follows string literals within a line (so `//`
//! inside `"http://…"` is not a comment) and block comments across lines. Strings spanning
//! lines (template literals, triple quotes) are not followed; the cost of that is a missed
//! TODO or hint, never a false one from a string's contents being taken as a comment.

/// A line-comment opener.
struct LineOpener {
    token: &'static [u8],
    /// Counts only at the start of the line or after whitespace (`#` in shell, where `$#`
    /// and `a#b` are not comments; `-- ` where `--flag` is not).
    after_space: bool,
}

/// How one family of languages writes comments and strings.
pub(crate) struct Syntax {
    line: &'static [LineOpener],
    block: &'static [(&'static [u8], &'static [u8])],
    quotes: &'static [u8],
}

const SLASHES: LineOpener = LineOpener {
    token: b"//",
    after_space: false,
};
const HASH: LineOpener = LineOpener {
    token: b"#",
    after_space: true,
};
const DASHES: LineOpener = LineOpener {
    token: b"--",
    after_space: true,
};
const C_BLOCK: (&[u8], &[u8]) = (b"/*", b"*/");
const HTML_BLOCK: (&[u8], &[u8]) = (b"<!--", b"-->");

static C_LIKE: Syntax = Syntax {
    line: &[SLASHES],
    block: &[C_BLOCK],
    quotes: b"\"'`",
};
/// Rust: `'` opens lifetimes and labels far more often than char literals.
static RUST: Syntax = Syntax {
    line: &[SLASHES],
    block: &[C_BLOCK],
    quotes: b"\"",
};
static CSS: Syntax = Syntax {
    line: &[],
    block: &[C_BLOCK],
    quotes: b"\"'",
};
static SCSS: Syntax = Syntax {
    line: &[SLASHES],
    block: &[C_BLOCK],
    quotes: b"\"'",
};
static PHP: Syntax = Syntax {
    line: &[SLASHES, HASH],
    block: &[C_BLOCK],
    quotes: b"\"'",
};
static HASH_COMMENTS: Syntax = Syntax {
    line: &[HASH],
    block: &[],
    quotes: b"\"'`",
};
/// YAML and TOML: apostrophes in plain values ("it's") must not open strings.
static HASH_DATA: Syntax = Syntax {
    line: &[HASH],
    block: &[],
    quotes: b"\"",
};
static SQL: Syntax = Syntax {
    line: &[DASHES],
    block: &[C_BLOCK],
    quotes: b"'\"",
};
static DASH_COMMENTS: Syntax = Syntax {
    line: &[DASHES],
    block: &[(b"{-", b"-}")],
    quotes: b"\"",
};
static LUA: Syntax = Syntax {
    line: &[DASHES],
    block: &[(b"--[[", b"]]")],
    quotes: b"\"'",
};
static MARKUP: Syntax = Syntax {
    line: &[LineOpener {
        token: b"//",
        after_space: true,
    }],
    block: &[HTML_BLOCK, C_BLOCK],
    quotes: b"\"",
};
/// Unknown language: every common form, each only where it cannot be ordinary code text.
static ANY: Syntax = Syntax {
    line: &[
        LineOpener {
            token: b"//",
            after_space: true,
        },
        HASH,
        LineOpener {
            token: b"-- ",
            after_space: true,
        },
    ],
    block: &[HTML_BLOCK, C_BLOCK],
    quotes: b"\"",
};

/// HTML comments only: for the HTML that Markdown prose may hold.
static HTML_ONLY: Syntax = Syntax {
    line: &[],
    block: &[HTML_BLOCK],
    quotes: b"",
};

pub(crate) fn html_comment_syntax() -> &'static Syntax {
    &HTML_ONLY
}

/// The comment syntax of a normalised language name.
pub(crate) fn syntax_for(language: &str) -> &'static Syntax {
    match language {
        "javascript" | "typescript" | "jsx" | "tsx" | "java" | "c" | "cpp" | "csharp" | "go"
        | "kotlin" | "swift" | "dart" | "scala" | "groovy" | "solidity" | "zig" | "objectivec"
        | "fsharp" | "protobuf" => &C_LIKE,
        "rust" => &RUST,
        "css" => &CSS,
        "scss" | "less" | "sass" => &SCSS,
        "php" => &PHP,
        "python" | "ruby" | "bash" | "perl" | "r" | "elixir" | "dockerfile" | "makefile"
        | "powershell" | "nim" | "julia" | "cmake" | "fish" | "graphql" | "nix" | "hcl" => {
            &HASH_COMMENTS
        }
        "yaml" | "toml" | "ini" => &HASH_DATA,
        "sql" => &SQL,
        "haskell" | "elm" => &DASH_COMMENTS,
        "lua" => &LUA,
        "html" | "xml" | "markdown" | "vue" | "svelte" => &MARKUP,
        _ => &ANY,
    }
}

/// One line split into its code (comments removed) and its comments' texts.
#[derive(Default)]
pub(crate) struct SplitLine<'a> {
    /// The code parts joined; a removed comment leaves one space.
    pub code: String,
    /// Each comment's text, without its opener and closer.
    pub comments: Vec<&'a str>,
}

impl SplitLine<'_> {
    pub fn has_comment(&self) -> bool {
        !self.comments.is_empty()
    }
}

/// Scans the lines of one block in order, carrying open block comments across lines.
pub(crate) struct CommentScanner {
    syntax: &'static Syntax,
    /// Bytes that can start a quote or a comment: every other byte is skipped at once.
    significant: [bool; 256],
    /// The closer of the block comment the previous line left open.
    open_block: Option<&'static [u8]>,
}

impl CommentScanner {
    pub fn new(syntax: &'static Syntax) -> Self {
        let mut significant = [false; 256];
        let first_bytes = syntax
            .quotes
            .iter()
            .chain(syntax.line.iter().filter_map(|opener| opener.token.first()))
            .chain(syntax.block.iter().filter_map(|(open, _)| open.first()));
        for byte in first_bytes {
            significant[usize::from(*byte)] = true;
        }
        CommentScanner {
            syntax,
            significant,
            open_block: None,
        }
    }

    /// Splits `line` into `out`, reusing its buffers.
    pub fn split<'a>(&mut self, line: &'a str, out: &mut SplitLine<'a>) {
        out.code.clear();
        out.comments.clear();
        let bytes = line.as_bytes();
        let mut at = 0;
        let mut code_start = 0;
        let mut quote: Option<u8> = None;
        while at < bytes.len() {
            if let Some(closer) = self.open_block {
                // Every position handed around here follows an ASCII token, so it is a char
                // boundary; `get` keeps that from ever panicking all the same.
                let rest = bytes.get(at..).unwrap_or_default();
                match find(rest, closer) {
                    Some(offset) => {
                        out.comments
                            .push(line.get(at..at + offset).unwrap_or_default());
                        at += offset + closer.len();
                        code_start = at;
                        self.open_block = None;
                        continue;
                    }
                    None => {
                        out.comments.push(line.get(at..).unwrap_or_default());
                        return;
                    }
                }
            }
            let rest = bytes.get(at..).unwrap_or_default();
            if let Some(open_quote) = quote {
                // Inside a string only its closing quote and escapes matter.
                match rest.iter().position(|b| *b == open_quote || *b == b'\\') {
                    Some(skip) if rest.get(skip) == Some(&b'\\') => at += skip + 2,
                    Some(skip) => {
                        quote = None;
                        at += skip + 1;
                    }
                    None => break,
                }
                continue;
            }
            // Elsewhere only bytes that can open a string or a comment matter.
            let Some(skip) = rest.iter().position(|b| self.significant[usize::from(*b)]) else {
                break;
            };
            at += skip;
            let byte = bytes[at];
            if self.syntax.quotes.contains(&byte) {
                quote = Some(byte);
                at += 1;
                continue;
            }
            let rest = &bytes[at..];
            if let Some((opener, closer)) = self
                .syntax
                .block
                .iter()
                .find(|(open, _)| rest.starts_with(open))
            {
                push_code(out, line, code_start, at);
                self.open_block = Some(closer);
                at += opener.len();
                continue;
            }
            let space_before = at == 0 || bytes[at - 1].is_ascii_whitespace();
            if let Some(opener) = self.syntax.line.iter().find(|opener| {
                rest.starts_with(opener.token) && (space_before || !opener.after_space)
            }) {
                push_code(out, line, code_start, at);
                out.comments
                    .push(line.get(at + opener.token.len()..).unwrap_or_default());
                return;
            }
            at += 1;
        }
        push_code(out, line, code_start, bytes.len());
    }
}

fn push_code(out: &mut SplitLine<'_>, line: &str, start: usize, end: usize) {
    let part = line.get(start..end).unwrap_or_default();
    if part.is_empty() {
        return;
    }
    if !out.code.is_empty() {
        out.code.push(' ');
    }
    out.code.push_str(part);
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split_all(language: &str, code: &str) -> Vec<(String, Vec<String>)> {
        let mut scanner = CommentScanner::new(syntax_for(language));
        let mut out = SplitLine::default();
        code.lines()
            .map(|line| {
                scanner.split(line, &mut out);
                (
                    out.code.clone(),
                    out.comments.iter().map(|c| c.to_string()).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn line_comments_are_split_off() {
        let lines = split_all("javascript", "let a = 1; // note\n");
        assert_eq!(lines[0].0, "let a = 1; ");
        assert_eq!(lines[0].1, vec![" note".to_string()]);
    }

    #[test]
    fn strings_hide_comment_openers() {
        let lines = split_all("javascript", "fetch(\"http://x/*y\"); // real\n");
        assert_eq!(lines[0].0, "fetch(\"http://x/*y\"); ");
        assert_eq!(lines[0].1, vec![" real".to_string()]);
        let lines = split_all("python", "s = 'a # b'  # c\n");
        assert_eq!(lines[0].1, vec![" c".to_string()]);
    }

    #[test]
    fn block_comments_span_lines() {
        let lines = split_all("c", "a /* one\n * two\n three */ b\n");
        assert_eq!(lines[0], ("a ".to_string(), vec![" one".to_string()]));
        assert_eq!(lines[1], (String::new(), vec![" * two".to_string()]));
        assert_eq!(lines[2], (" b".to_string(), vec![" three ".to_string()]));
    }

    #[test]
    fn hash_needs_space_before_it_in_shell() {
        let lines = split_all("bash", "echo $# a#b # note\n");
        assert_eq!(lines[0].0, "echo $# a#b ");
        assert_eq!(lines[0].1, vec![" note".to_string()]);
    }

    #[test]
    fn python_floor_division_is_code() {
        let lines = split_all("python", "half = n // 2\n");
        assert_eq!(lines[0].0, "half = n // 2");
        assert!(lines[0].1.is_empty());
    }

    #[test]
    fn multibyte_text_never_breaks_the_scan() {
        let lines = split_all("", "é\"ü\\é // ß\n€ /* ü */ x # ç\n");
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1].1, vec![" ü ".to_string(), " ç".to_string()]);
    }
}
