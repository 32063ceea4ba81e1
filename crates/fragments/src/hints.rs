//! "Potential issue" hints on code: advice, not verdicts.
//!
//! Each rule matches one precise pattern, in code only (comments removed, strings kept), and
//! only in the languages where the pattern means what the hint says (an unknown language gets
//! every rule). A rule fires at most once per line. A cheap pass over each line's words first
//! rules out the lines no rule can match.
//!
//! | rule | why it is worth a hint | languages |
//! |---|---|---|
//! | [`CONSOLE_LOG`] `console.log(` | the seed's rule: debug output left in | JS family, HTML |
//! | [`GENERIC_ERROR`] `throw new Error()`, `throw ""`, `raise Exception` with no message | the seed's rule: the error says nothing | all |
//! | [`DEBUGGER`] `debugger;` | pauses every user's browser with devtools open | JS family, HTML |
//! | [`EMPTY_CATCH`] `catch (e) {}` (one line, or `{` then `}` on the next) with no comment inside | failures vanish silently | languages with `catch` |
//! | [`EXCEPT_PASS`] `except …:` whose only statement is `pass`, no comment | same, in Python | Python |
//! | [`MUTABLE_DEFAULT`] `def f(x=[])`, `={}`, `=list()`, `=dict()`, `=set()` | one object shared by every call: a classic bug | Python |
//! | [`EVAL`] `eval(` as a free function (not `.eval(`, `literal_eval(`) | runs arbitrary text as code | JS family, Python, PHP, Ruby |
//! | [`PLACEHOLDER`] `todo!(` / `unimplemented!(` | compiles, then panics when reached | Rust |
//! | [`SQL_FORMATTING`] `execute(`/`.query(`/`.raw(` given an f-string, template literal, `%`, `.format(` or `+` building SQL | SQL injection | all |
//! | [`SECRET`] AWS `AKIA…`, OpenAI/Anthropic `sk-…`, GitHub `ghp_…`, Slack `xoxb-…`, Google `AIza…` keys, `-----BEGIN … PRIVATE KEY-----` | a live credential in a saved snippet | all (comments included) |
//! | [`TLS_DISABLED`] `verify=False`, `rejectUnauthorized: false`, `InsecureSkipVerify: true`, `NODE_TLS_REJECT_UNAUTHORIZED=0`, `curl -k` | man-in-the-middle | all |
//! | [`GETS`] `gets(` | cannot bound its input; removed from C11 | C, C++ |
//! | [`CHMOD_777`] `chmod 777`, `chmod -R 0777`, `a+rwx` | anyone on the machine can change the file | all |
//!
//! Deliberately left out: `.unwrap()` in Rust and `==` in JavaScript (idiomatic in examples and
//! tests, so mostly noise), `curl … | sh` (the documented way to install many tools).

use dreamcatcher_model::Hint;

use crate::comments::SplitLine;
use crate::language::contains_ignore_case;

pub const CONSOLE_LOG: &str = "Console.log statement in production code";
pub const GENERIC_ERROR: &str = "Generic error thrown without message";
pub const DEBUGGER: &str = "Debugger statement left in code";
pub const EMPTY_CATCH: &str = "Empty catch block silently swallows errors";
pub const EXCEPT_PASS: &str = "Exception silently swallowed by except: pass";
pub const MUTABLE_DEFAULT: &str = "Mutable default argument is shared between calls";
pub const EVAL: &str = "eval() runs arbitrary code";
pub const PLACEHOLDER: &str = "Unfinished code: todo!()/unimplemented!() panics when reached";
pub const SQL_FORMATTING: &str = "SQL query built by string formatting (injection risk)";
pub const SECRET: &str = "Possible secret (API key or private key) in code";
pub const TLS_DISABLED: &str = "TLS certificate verification disabled";
pub const GETS: &str = "gets() cannot limit its input (buffer overflow)";
pub const CHMOD_777: &str = "World-writable permissions (chmod 777)";

/// Which rule groups apply to a block's language.
#[derive(Clone, Copy)]
struct Applies {
    javascript: bool,
    python: bool,
    rust: bool,
    c: bool,
    catch: bool,
    eval: bool,
}

impl Applies {
    fn for_language(language: &str) -> Self {
        let javascript = matches!(
            language,
            "" | "javascript" | "typescript" | "jsx" | "tsx" | "html" | "vue" | "svelte"
        );
        let python = matches!(language, "" | "python");
        Applies {
            javascript,
            python,
            rust: matches!(language, "" | "rust"),
            c: matches!(language, "" | "c" | "cpp" | "objectivec"),
            catch: javascript
                || matches!(
                    language,
                    "java"
                        | "csharp"
                        | "cpp"
                        | "kotlin"
                        | "swift"
                        | "dart"
                        | "php"
                        | "scala"
                        | "groovy"
                ),
            eval: javascript || python || matches!(language, "php" | "ruby"),
        }
    }
}

/// Where a Python `except` body stands while its lines are read.
#[derive(Clone, Copy)]
enum ExceptBody {
    None,
    /// `except …:` seen at this indentation; its first statement is next.
    Opened {
        line: u32,
        indent: usize,
    },
    /// The first statement was a bare `pass`; the body is only that if the next line dedents.
    OnlyPass {
        line: u32,
        indent: usize,
    },
}

/// Runs the rules over one code block's lines in order.
pub(crate) struct HintScanner {
    applies: Applies,
    code_block: usize,
    /// A `catch … {` line whose block may close on the next line.
    open_catch: Option<u32>,
    except_body: ExceptBody,
}

impl HintScanner {
    pub fn new(language: &str, code_block: usize) -> Self {
        HintScanner {
            applies: Applies::for_language(language),
            code_block,
            open_catch: None,
            except_body: ExceptBody::None,
        }
    }

    /// Checks one line (`number` 1-based; `raw` as written, `split` its code and comments).
    pub fn line(&mut self, number: u32, raw: &str, split: &SplitLine<'_>, hints: &mut Vec<Hint>) {
        if raw.trim().is_empty() {
            return;
        }
        let code = split.code.trim();
        let mut found: Vec<&'static str> = Vec::new();
        self.continue_open_catch(code, split.has_comment(), hints);
        if self.applies.python {
            self.continue_except(number, raw, code, split.has_comment(), hints);
        }
        let keywords = Keywords::of(raw);
        if !code.is_empty() && keywords.any() {
            self.check_code(number, code, keywords, split.has_comment(), &mut found);
        }
        if keywords.has(Keywords::SECRET) && has_secret(raw) {
            found.push(SECRET);
        }
        hints.extend(found.into_iter().map(|description| Hint {
            description: description.to_string(),
            line: number,
            code_block: Some(self.code_block),
        }));
    }

    /// Reports what the end of the block settles (an `except:` body that was only `pass`).
    pub fn finish(&mut self, hints: &mut Vec<Hint>) {
        if let ExceptBody::OnlyPass { line, .. } = self.except_body {
            self.push(line, EXCEPT_PASS, hints);
        }
        self.except_body = ExceptBody::None;
        self.open_catch = None;
    }

    fn push(&self, line: u32, description: &str, hints: &mut Vec<Hint>) {
        hints.push(Hint {
            description: description.to_string(),
            line,
            code_block: Some(self.code_block),
        });
    }

    fn check_code(
        &mut self,
        number: u32,
        code: &str,
        keywords: Keywords,
        has_comment: bool,
        found: &mut Vec<&'static str>,
    ) {
        let applies = self.applies;
        let has = |keyword| keywords.has(keyword);
        if applies.javascript
            && has(Keywords::CONSOLE)
            && find_call(code, "console.log(", &['.']).is_some()
        {
            found.push(CONSOLE_LOG);
        }
        if has(Keywords::THROW) && throws_generic_error(code) {
            found.push(GENERIC_ERROR);
        }
        if applies.javascript
            && has(Keywords::DEBUGGER)
            && (code == "debugger" || code.starts_with("debugger;"))
        {
            found.push(DEBUGGER);
        }
        if applies.catch && has(Keywords::CATCH) {
            match catch_block(code) {
                CatchBlock::EmptyOnOneLine if !has_comment => found.push(EMPTY_CATCH),
                CatchBlock::Opens if !has_comment => self.open_catch = Some(number),
                _ => {}
            }
        }
        if applies.python && has(Keywords::DEF) && has_mutable_default(code) {
            found.push(MUTABLE_DEFAULT);
        }
        if applies.eval && has(Keywords::EVAL) && find_call(code, "eval(", &[]).is_some() {
            found.push(EVAL);
        }
        if applies.rust
            && has(Keywords::PLACEHOLDER)
            && (find_call(code, "todo!(", &[]).is_some()
                || find_call(code, "unimplemented!(", &[]).is_some())
        {
            found.push(PLACEHOLDER);
        }
        if has(Keywords::SQL) && builds_sql_by_formatting(code) {
            found.push(SQL_FORMATTING);
        }
        if has(Keywords::TLS) && disables_tls_verification(code) {
            found.push(TLS_DISABLED);
        }
        if applies.c && has(Keywords::GETS) && find_call(code, "gets(", &[]).is_some() {
            found.push(GETS);
        }
        if has(Keywords::CHMOD) && makes_world_writable(code) {
            found.push(CHMOD_777);
        }
    }

    fn continue_open_catch(&mut self, code: &str, has_comment: bool, hints: &mut Vec<Hint>) {
        if let Some(line) = self.open_catch.take()
            && !has_comment
            && code.starts_with('}')
        {
            self.push(line, EMPTY_CATCH, hints);
        }
    }

    fn continue_except(
        &mut self,
        number: u32,
        raw: &str,
        code: &str,
        has_comment: bool,
        hints: &mut Vec<Hint>,
    ) {
        let indent = raw.len() - raw.trim_start().len();
        self.except_body = match self.except_body {
            ExceptBody::Opened {
                line,
                indent: except_indent,
            } if code == "pass" && !has_comment => ExceptBody::OnlyPass {
                line,
                indent: except_indent,
            },
            ExceptBody::OnlyPass {
                line,
                indent: except_indent,
            } => {
                if indent <= except_indent {
                    self.push(line, EXCEPT_PASS, hints);
                }
                ExceptBody::None
            }
            _ => ExceptBody::None,
        };
        let Some(clause) = code.strip_prefix("except") else {
            return;
        };
        if !clause.starts_with([' ', ':', '(']) || has_comment {
            return;
        }
        let one_line_pass = clause
            .strip_suffix("pass")
            .is_some_and(|head| head.trim_end().ends_with(':'));
        if one_line_pass {
            self.push(number, EXCEPT_PASS, hints);
        } else if clause.ends_with(':') {
            self.except_body = ExceptBody::Opened {
                line: number,
                indent,
            };
        }
    }
}

/// The words a line holds that some rule starts from, found in one pass so that the rules'
/// own (costlier) searches run only on the few lines that can match.
#[derive(Clone, Copy)]
struct Keywords(u16);

impl Keywords {
    const CONSOLE: u16 = 1;
    const THROW: u16 = 1 << 1;
    const DEBUGGER: u16 = 1 << 2;
    const CATCH: u16 = 1 << 3;
    const DEF: u16 = 1 << 4;
    const EVAL: u16 = 1 << 5;
    const PLACEHOLDER: u16 = 1 << 6;
    const SQL: u16 = 1 << 7;
    const TLS: u16 = 1 << 8;
    const GETS: u16 = 1 << 9;
    const CHMOD: u16 = 1 << 10;
    const SECRET: u16 = 1 << 11;

    fn of(line: &str) -> Self {
        let bytes = line.as_bytes();
        let mut found = 0;
        let mut at = 0;
        while let Some(start) = bytes
            .get(at..)
            .and_then(|rest| rest.iter().position(is_word_byte))
        {
            let word_start = at + start;
            let rest = bytes.get(word_start..).unwrap_or_default();
            let length = rest
                .iter()
                .position(|byte| !is_word_byte(byte))
                .unwrap_or(rest.len());
            found |= Self::of_word(rest.get(..length).unwrap_or_default());
            at = word_start + length;
        }
        Keywords(found)
    }

    fn of_word(word: &[u8]) -> u16 {
        // Most words start with a letter no keyword starts with: one comparison settles them.
        let Some(first) = word.first() else {
            return 0;
        };
        if !KEYWORD_FIRST_BYTES[usize::from(*first)] {
            return 0;
        }
        match word {
            b"console" => Self::CONSOLE,
            b"throw" | b"raise" => Self::THROW,
            b"debugger" => Self::DEBUGGER,
            b"catch" => Self::CATCH,
            b"def" => Self::DEF,
            b"eval" => Self::EVAL,
            b"todo" | b"unimplemented" => Self::PLACEHOLDER,
            b"execute" | b"executemany" | b"query" | b"raw" => Self::SQL,
            b"verify"
            | b"rejectUnauthorized"
            | b"InsecureSkipVerify"
            | b"NODE_TLS_REJECT_UNAUTHORIZED"
            | b"curl" => Self::TLS,
            b"gets" => Self::GETS,
            b"chmod" => Self::CHMOD,
            b"sk" | b"xoxb" | b"BEGIN" => Self::SECRET,
            _ if [b"AKIA".as_slice(), b"AIza", b"ghp_", b"github_pat_"]
                .iter()
                .any(|prefix| word.starts_with(prefix)) =>
            {
                Self::SECRET
            }
            _ => 0,
        }
    }

    fn any(self) -> bool {
        self.0 != 0
    }

    fn has(self, keyword: u16) -> bool {
        self.0 & keyword != 0
    }
}

fn is_word_byte(byte: &u8) -> bool {
    WORD_BYTES[usize::from(*byte)]
}

const WORD_BYTES: [bool; 256] =
    byte_table(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz");
const KEYWORD_FIRST_BYTES: [bool; 256] = byte_table(b"ABINcdegqrstuvx");

const fn byte_table(members: &[u8]) -> [bool; 256] {
    let mut table = [false; 256];
    let mut index = 0;
    while index < members.len() {
        table[members[index] as usize] = true;
        index += 1;
    }
    table
}

/// The byte offset of `call` in `code` where it is not the tail of a longer name
/// (`fgets(` is not `gets(`). `allowed_before` lists punctuation that may precede it.
fn find_call(code: &str, call: &str, allowed_before: &[char]) -> Option<usize> {
    code.match_indices(call).map(|(at, _)| at).find(|&at| {
        code.get(..at)
            .and_then(|before| before.chars().next_back())
            .is_none_or(|c| {
                allowed_before.contains(&c) || !(c.is_alphanumeric() || "_.$:".contains(c))
            })
    })
}

fn throws_generic_error(code: &str) -> bool {
    const EMPTY_THROWS: [&str; 6] = [
        "throw new Error()",
        "throw new Error('')",
        "throw new Error(\"\")",
        "throw new Error(``)",
        "throw \"\"",
        "throw ''",
    ];
    if EMPTY_THROWS.iter().any(|pattern| code.contains(pattern)) {
        return true;
    }
    code.strip_prefix("raise Exception")
        .is_some_and(|rest| matches!(rest.trim_end(), "" | "()" | "('')" | "(\"\")"))
}

enum CatchBlock {
    No,
    EmptyOnOneLine,
    Opens,
}

/// A `catch` clause on this line: empty `{}` here, or opening its block at the line's end.
fn catch_block(code: &str) -> CatchBlock {
    let Some(at) = find_call(code, "catch", &['}']) else {
        return CatchBlock::No;
    };
    let mut rest = code
        .get(at + "catch".len()..)
        .unwrap_or_default()
        .trim_start();
    if rest.starts_with('(') {
        let Some(close) = matching_paren(rest) else {
            return CatchBlock::No;
        };
        rest = rest.get(close + 1..).unwrap_or_default().trim_start();
    }
    let Some(body) = rest.strip_prefix('{') else {
        return CatchBlock::No;
    };
    let body = body.trim_start();
    if body.is_empty() {
        CatchBlock::Opens
    } else if body.starts_with('}') {
        CatchBlock::EmptyOnOneLine
    } else {
        CatchBlock::No
    }
}

/// The index of the `)` closing the `(` that opens `text`.
fn matching_paren(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (at, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(at);
                }
            }
            _ => {}
        }
    }
    None
}

fn has_mutable_default(code: &str) -> bool {
    if !(code.starts_with("def ") || code.starts_with("async def ")) {
        return false;
    }
    let compact: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let Some(open) = compact.find('(') else {
        return false;
    };
    let parameters = compact.get(open..).unwrap_or_default();
    ["=[]", "={}", "=list()", "=dict()", "=set()"]
        .iter()
        .any(|default| parameters.contains(default))
}

fn builds_sql_by_formatting(code: &str) -> bool {
    ["execute(", "executemany(", ".query(", ".raw("]
        .iter()
        .any(|call| {
            code.match_indices(call).any(|(at, _)| {
                let argument = code.get(at + call.len()..).unwrap_or_default().trim_start();
                let mentions_sql = ["select ", "insert ", "update ", "delete "]
                    .iter()
                    .any(|keyword| contains_ignore_case(argument, keyword));
                let interpolated = ((argument.starts_with("f\"") || argument.starts_with("f'"))
                    && argument.contains('{'))
                    || (argument.starts_with('`') && argument.contains("${"))
                    || ["\" %", "' %", ".format(", "\" +", "' +", "+ \"", "+ '"]
                        .iter()
                        .any(|joint| argument.contains(joint));
                mentions_sql && interpolated
            })
        })
}

fn disables_tls_verification(code: &str) -> bool {
    const SETTINGS: [&str; 6] = [
        "verify=False",
        "verify = False",
        "rejectUnauthorized: false",
        "rejectUnauthorized:false",
        "InsecureSkipVerify: true",
        "InsecureSkipVerify:true",
    ];
    if SETTINGS.iter().any(|setting| code.contains(setting)) {
        return true;
    }
    if let Some(at) = code.find("NODE_TLS_REJECT_UNAUTHORIZED") {
        let value = code.get(at..).unwrap_or_default();
        if value.contains("=0")
            || value.contains("= 0")
            || value.contains("'0'")
            || value.contains("\"0\"")
        {
            return true;
        }
    }
    let command = code.strip_prefix("$ ").unwrap_or(code);
    let mut words = command.split_whitespace();
    words.next() == Some("curl") && words.any(|word| word == "-k" || word == "--insecure")
}

fn makes_world_writable(code: &str) -> bool {
    code.match_indices("chmod ").any(|(at, _)| {
        let starts_word = code
            .get(..at)
            .and_then(|before| before.chars().next_back())
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '.'));
        starts_word
            && code
                .get(at + "chmod ".len()..)
                .unwrap_or_default()
                .split_whitespace()
                .find(|word| !word.starts_with('-'))
                .is_some_and(|mode| {
                    matches!(
                        mode.trim_matches(['"', '\'']),
                        "777" | "0777" | "a+rwx" | "ugo+rwx"
                    )
                })
    })
}

/// A key format: its prefix, the minimum length after it, the characters allowed after it.
type KeyShape = (&'static str, usize, fn(char) -> bool);

/// Credential formats whose shape alone identifies them.
fn has_secret(line: &str) -> bool {
    if line.contains("-----BEGIN ") && line.contains("PRIVATE KEY-----") {
        return true;
    }
    let token_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let keys: [KeyShape; 6] = [
        ("AKIA", 16, |c| c.is_ascii_uppercase() || c.is_ascii_digit()),
        ("sk-", 20, |c| {
            c.is_ascii_alphanumeric() || c == '_' || c == '-'
        }),
        ("ghp_", 30, |c| c.is_ascii_alphanumeric()),
        ("github_pat_", 30, |c| c.is_ascii_alphanumeric() || c == '_'),
        ("xoxb-", 20, |c| c.is_ascii_alphanumeric() || c == '-'),
        ("AIza", 35, |c| {
            c.is_ascii_alphanumeric() || c == '_' || c == '-'
        }),
    ];
    keys.iter().any(|(prefix, min_len, allowed)| {
        line.match_indices(prefix).any(|(at, _)| {
            let starts_token = line
                .get(..at)
                .and_then(|before| before.chars().next_back())
                .is_none_or(|c| !token_char(c));
            let tail: String = line
                .get(at + prefix.len()..)
                .unwrap_or_default()
                .chars()
                .take_while(|c| allowed(*c))
                .collect();
            // Real keys mix letters and digits; "sk-your-api-key-goes-here" does not.
            starts_token
                && tail.len() >= *min_len
                && tail.chars().any(|c| c.is_ascii_digit())
                && tail.chars().any(|c| c.is_ascii_alphabetic())
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comments::{CommentScanner, syntax_for};

    fn hints(language: &str, code: &str) -> Vec<(String, u32)> {
        let mut comments = CommentScanner::new(syntax_for(language));
        let mut scanner = HintScanner::new(language, 0);
        let mut split = SplitLine::default();
        let mut out = Vec::new();
        for (number, line) in (1..=u32::MAX).zip(code.lines()) {
            comments.split(line, &mut split);
            scanner.line(number, line, &split, &mut out);
        }
        scanner.finish(&mut out);
        out.into_iter().map(|h| (h.description, h.line)).collect()
    }

    fn one(description: &str, line: u32) -> Vec<(String, u32)> {
        vec![(description.to_string(), line)]
    }

    #[test]
    fn console_log_in_code_but_not_in_comments() {
        assert_eq!(
            hints("javascript", "let a = 1;\nconsole.log(a);\n"),
            one(CONSOLE_LOG, 2)
        );
        assert_eq!(hints("javascript", "// console.log(a);\n"), vec![]);
        assert_eq!(hints("javascript", "/*\nconsole.log(a);\n*/\n"), vec![]);
        assert_eq!(hints("typescript", "x(); /* console.log(a) */\n"), vec![]);
        assert_eq!(
            hints("", "console.log('unknown language too')\n"),
            one(CONSOLE_LOG, 1)
        );
        assert_eq!(hints("python", "print('console.log(x)')\n"), vec![]);
        assert_eq!(hints("javascript", "myconsole.log(1)\n"), vec![]);
    }

    #[test]
    fn generic_errors() {
        assert_eq!(
            hints("javascript", "throw new Error();\n"),
            one(GENERIC_ERROR, 1)
        );
        assert_eq!(hints("javascript", "throw \"\";\n"), one(GENERIC_ERROR, 1));
        assert_eq!(
            hints("python", "if x:\n    raise Exception\n"),
            one(GENERIC_ERROR, 2)
        );
        assert_eq!(
            hints("javascript", "throw new Error('bad input');\n"),
            vec![]
        );
        assert_eq!(hints("python", "raise Exception('bad input')\n"), vec![]);
        assert_eq!(hints("python", "raise ExceptionGroup('x', [])\n"), vec![]);
    }

    #[test]
    fn debugger_statement() {
        assert_eq!(
            hints("javascript", "function f() {\n  debugger;\n}\n"),
            one(DEBUGGER, 2)
        );
        assert_eq!(
            hints("javascript", "// debugger;\nconst debuggerEnabled = 1;\n"),
            vec![]
        );
        assert_eq!(hints("python", "debugger\n"), vec![]);
    }

    #[test]
    fn empty_catch_blocks() {
        assert_eq!(
            hints("javascript", "try { go(); } catch (e) {}\n"),
            one(EMPTY_CATCH, 1)
        );
        assert_eq!(
            hints("java", "try {\n  go();\n} catch (IOException e) {\n}\n"),
            one(EMPTY_CATCH, 3)
        );
        assert_eq!(
            hints("swift", "do { try go() } catch { }\n"),
            one(EMPTY_CATCH, 1)
        );
        assert_eq!(
            hints(
                "javascript",
                "} catch (e) {\n  // expected when offline\n}\n"
            ),
            vec![]
        );
        assert_eq!(
            hints("javascript", "} catch (e) { /* ignore */ }\n"),
            vec![]
        );
        assert_eq!(
            hints("javascript", "} catch (e) {\n  report(e);\n}\n"),
            vec![]
        );
        assert_eq!(hints("python", "catch (e) {}\n"), vec![]);
    }

    #[test]
    fn except_pass() {
        assert_eq!(
            hints("python", "try:\n    go()\nexcept Exception:\n    pass\n"),
            one(EXCEPT_PASS, 3)
        );
        assert_eq!(
            hints("python", "try:\n    go()\nexcept:\n    pass\nnext()\n"),
            one(EXCEPT_PASS, 3)
        );
        assert_eq!(
            hints("python", "try: go()\nexcept ValueError: pass\n"),
            one(EXCEPT_PASS, 2)
        );
        assert_eq!(
            hints(
                "python",
                "except KeyError:\n    # missing is fine\n    pass\n"
            ),
            vec![]
        );
        assert_eq!(
            hints("python", "except KeyError:\n    pass\n    log()\n"),
            vec![]
        );
        assert_eq!(
            hints("python", "except KeyError:\n    return None\n"),
            vec![]
        );
    }

    #[test]
    fn mutable_defaults() {
        assert_eq!(
            hints("python", "def add(item, into=[]):\n    into.append(item)\n"),
            one(MUTABLE_DEFAULT, 1)
        );
        assert_eq!(
            hints("python", "def f(opts: dict = {}) -> None:\n    pass\n"),
            one(MUTABLE_DEFAULT, 1)
        );
        assert_eq!(
            hints("python", "def add(item, into=None):\n    pass\n"),
            vec![]
        );
        assert_eq!(hints("python", "x = f(a=[])\n"), vec![]);
    }

    #[test]
    fn eval_as_a_free_function_only() {
        assert_eq!(hints("python", "result = eval(user_input)\n"), one(EVAL, 1));
        assert_eq!(hints("javascript", "eval(code);\n"), one(EVAL, 1));
        assert_eq!(
            hints("python", "model.eval()\nast.literal_eval(s)\n"),
            vec![]
        );
        assert_eq!(hints("rust", "eval(x);\n"), vec![]);
    }

    #[test]
    fn rust_placeholders() {
        assert_eq!(
            hints("rust", "fn f() -> u32 {\n    todo!()\n}\n"),
            one(PLACEHOLDER, 2)
        );
        assert_eq!(
            hints("rust", "unimplemented!(\"later\")\n"),
            one(PLACEHOLDER, 1)
        );
        assert_eq!(
            hints("rust", "// todo!() here later\nlet my_todo!(x);\n"),
            vec![]
        );
    }

    #[test]
    fn sql_built_by_formatting() {
        assert_eq!(
            hints(
                "python",
                "cur.execute(f\"SELECT * FROM users WHERE id = {uid}\")\n"
            ),
            one(SQL_FORMATTING, 1)
        );
        assert_eq!(
            hints(
                "javascript",
                "db.query(`DELETE FROM t WHERE id = ${id}`);\n"
            ),
            one(SQL_FORMATTING, 1)
        );
        assert_eq!(
            hints(
                "python",
                "cur.execute(\"SELECT * FROM t WHERE id = %s\" % uid)\n"
            ),
            one(SQL_FORMATTING, 1)
        );
        assert_eq!(
            hints(
                "python",
                "cur.execute(\"SELECT * FROM t WHERE id = %s\", (uid,))\n"
            ),
            vec![]
        );
        assert_eq!(
            hints(
                "javascript",
                "db.query('SELECT * FROM t WHERE id = $1', [id]);\n"
            ),
            vec![]
        );
    }

    #[test]
    fn secrets_by_shape() {
        assert_eq!(
            hints("python", "KEY = \"AKIAIOSFODNN7EXAMPLE\"\n"),
            one(SECRET, 1)
        );
        assert_eq!(
            hints("", "OPENAI_API_KEY=sk-proj-4f9aB2c8D1e7F0g3H6i5J\n"),
            one(SECRET, 1)
        );
        assert_eq!(
            hints("", "-----BEGIN RSA PRIVATE KEY-----\n"),
            one(SECRET, 1)
        );
        assert_eq!(
            hints("", "OPENAI_API_KEY=sk-your-api-key-goes-here\n"),
            vec![]
        );
        assert_eq!(hints("", "task-1234567890abcdefghijk\n"), vec![]);
        assert_eq!(hints("", "-----BEGIN PUBLIC KEY-----\n"), vec![]);
    }

    #[test]
    fn tls_verification_disabled() {
        assert_eq!(
            hints("python", "requests.get(url, verify=False)\n"),
            one(TLS_DISABLED, 1)
        );
        assert_eq!(
            hints(
                "javascript",
                "new https.Agent({ rejectUnauthorized: false });\n"
            ),
            one(TLS_DISABLED, 1)
        );
        assert_eq!(
            hints("go", "&tls.Config{InsecureSkipVerify: true}\n"),
            one(TLS_DISABLED, 1)
        );
        assert_eq!(
            hints("bash", "curl -k https://example.test\n"),
            one(TLS_DISABLED, 1)
        );
        assert_eq!(hints("python", "requests.get(url, verify=True)\n"), vec![]);
        assert_eq!(hints("bash", "curl -L https://example.test\n"), vec![]);
    }

    #[test]
    fn gets_in_c_only() {
        assert_eq!(hints("c", "char b[8];\ngets(b);\n"), one(GETS, 2));
        assert_eq!(hints("c", "fgets(b, sizeof b, stdin);\n"), vec![]);
        assert_eq!(hints("ruby", "gets(nil)\n"), vec![]);
    }

    #[test]
    fn chmod_777() {
        assert_eq!(
            hints("bash", "sudo chmod -R 777 /var/www\n"),
            one(CHMOD_777, 1)
        );
        assert_eq!(
            hints("dockerfile", "RUN chmod 0777 /data\n"),
            one(CHMOD_777, 1)
        );
        assert_eq!(
            hints("bash", "chmod 755 script.sh\n# chmod 777 is wrong\n"),
            vec![]
        );
    }

    #[test]
    fn each_rule_fires_once_per_line() {
        assert_eq!(
            hints("javascript", "console.log(1); console.log(2);\n"),
            one(CONSOLE_LOG, 1)
        );
    }
}
