//! Property tests: no input makes the converter panic, and markup, however broken, never
//! loses the text of elements that show text.

use dreamcatcher_capture::html;
use proptest::prelude::*;

/// Markup pieces of real and broken HTML, including what `tl` alone misreads.
const MARKUP: &[&str] = &[
    "<div>",
    "</div>",
    "<p>",
    "</p>",
    "<span>",
    "</span>",
    "</span\n>",
    "<b>",
    "</b>",
    "<i>",
    "</i>",
    "<em>",
    "</em>",
    "<strong>",
    "</strong>",
    "<a href=\"https://e.org/x\">",
    "<a href=/x/y>",
    "</a>",
    "<ul>",
    "</ul>",
    "<ol start=\"3\">",
    "</ol>",
    "<li>",
    "</li>",
    "<blockquote>",
    "</blockquote>",
    "<h2>",
    "</h2>",
    "<h7>",
    "<pre>",
    "</pre>",
    "<code class=\"language-rs\">",
    "</code>",
    "<table>",
    "</table>",
    "<thead>",
    "<tbody>",
    "<tr>",
    "</tr>",
    "<td>",
    "</td>",
    "<th align=right>",
    "<caption>",
    "<br>",
    "<br/>",
    "</br>",
    "<hr>",
    "<img src=\"a.png\" alt=\"alt\">",
    "<img>",
    "<del>",
    "</del>",
    "<input type=checkbox checked>",
    "<span class=\"katex\">",
    "<span class=\"katex-display\">",
    "<annotation encoding=\"application/x-tex\">",
    "</annotation>",
    "<div class=\"cm-content\">",
    "<span data-testid=\"webpage-citation-pill\">",
    "<div class=\"whitespace-pre-wrap\">",
    "<DIV>",
    "</DIV>",
    "<P>",
    "<!-- c -->",
    "<!---->",
    "<!-->",
    "<!DOCTYPE html>",
    "<?xml?>",
    "<![CDATA[x]]>",
    "<script>",
    "</script>",
    "<style>",
    "<svg>",
    "</svg>",
    "<button>",
    "</button>",
    "<template>",
    "</template>",
    "<textarea>",
    "<",
    ">",
    "&",
    "&amp;",
    "&lt;",
    "&nbsp;",
    "&#x27;",
    "&bogus;",
    "\n",
    "  ",
    "\t",
    "*",
    "_",
    "`",
    "```",
    "[",
    "]",
    "#",
    "1.",
    "-",
    "|",
    "$",
    "\\",
    "é",
    "日本",
];

fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            3 => prop::sample::select(MARKUP).prop_map(str::to_string),
            1 => "[a-z]{1,8}",
            1 => "[ -~]{0,12}",
        ],
        0..120,
    )
    .prop_map(|pieces| pieces.concat())
}

/// Elements that show their text, opened and closed in any order, with unique words.
const VISIBLE: &[(&str, &str)] = &[
    ("<div>", "</div>"),
    ("<p>", "</p>"),
    ("<span>", "</span\n>"),
    ("<b>", "</b>"),
    ("<em>", "</em>"),
    ("<del>", "</del>"),
    ("<a href=\"https://e.org/\">", "</a>"),
    ("<ul>", "</ul>"),
    ("<ol>", "</ol>"),
    ("<li>", "</li>"),
    ("<blockquote>", "</blockquote>"),
    ("<h3>", "</h3>"),
    ("<pre>", "</pre>"),
    ("<code>", "</code>"),
    ("<table>", "</table>"),
    ("<tbody>", "</tbody>"),
    ("<tr>", "</tr>"),
    ("<td>", "</td>"),
    ("<th>", "</th>"),
    ("<section>", "</section>"),
    ("<sup>", "</sup>"),
    ("<div class=\"whitespace-pre-wrap\">", "</div>"),
];

#[derive(Debug, Clone)]
enum Piece {
    Open(usize),
    Close(usize),
    Word,
    Break,
    Comment,
}

fn visible_soup() -> impl Strategy<Value = Vec<Piece>> {
    prop::collection::vec(
        prop_oneof![
            3 => (0..VISIBLE.len()).prop_map(Piece::Open),
            2 => (0..VISIBLE.len()).prop_map(Piece::Close),
            3 => Just(Piece::Word),
            1 => Just(Piece::Break),
            1 => Just(Piece::Comment),
        ],
        0..80,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_strings_never_panic(input in any::<String>()) {
        let _ = html::html_to_markdown(&input);
    }

    #[test]
    fn tag_soup_never_panics(input in soup()) {
        let markdown = html::html_to_markdown(&input);
        // Idempotent enough to feed back in: the output is text, never markup we choke on.
        let _ = html::html_to_markdown(&markdown);
    }

    #[test]
    fn broken_markup_keeps_every_visible_word(pieces in visible_soup()) {
        let mut input = String::new();
        let mut words = Vec::new();
        for piece in &pieces {
            match piece {
                Piece::Open(i) => input.push_str(VISIBLE[*i].0),
                Piece::Close(i) => input.push_str(VISIBLE[*i].1),
                Piece::Word => {
                    let word = format!("w{}x", words.len());
                    input.push(' ');
                    input.push_str(&word);
                    input.push(' ');
                    words.push(word);
                }
                Piece::Break => input.push_str("<br/>"),
                Piece::Comment => input.push_str("<!-- hidden -->"),
            }
        }
        let markdown = html::html_to_markdown(&input);
        for word in &words {
            prop_assert!(markdown.contains(word.as_str()), "{word} lost\ninput: {input:?}\noutput: {markdown:?}");
        }
        prop_assert!(!markdown.contains("hidden"));
    }
}

/// Hostile shapes that would be quadratic or overflow a recursive walker.
#[test]
fn pathological_nesting_finishes_and_keeps_text() {
    let depth = 50_000;
    let shapes = [
        ("<div>", "</div>"),
        ("<blockquote>", ""),
        ("<ul><li>", ""),
        ("<li>", ""),
        ("<b><i>", ""),
        ("<a href=x>", ""),
        ("<span class=\"katex\">", ""),
        ("<table><tr><td>", ""),
        ("<p>", ""),
        ("<h1>", "</h2>"),
    ];
    for (open, close) in shapes {
        let input = format!("{}deep text{}", open.repeat(depth), close.repeat(depth));
        let markdown = html::html_to_markdown(&input);
        assert!(
            markdown.contains("deep text"),
            "{open}: {:?}",
            &markdown[..markdown.len().min(200)]
        );
    }
    let siblings = "<li><ul><li>x</li></ul>".repeat(20_000);
    assert_eq!(
        html::html_to_markdown(&format!("<ul>{siblings}</ul>"))
            .matches('x')
            .count(),
        20_000
    );
    let lone = "a < b ".repeat(100_000);
    assert!(html::html_to_markdown(&lone).starts_with("a \\< b a \\< b"));
}
