//! The shared export fixtures (real ChatGPT export, synthetic API and export shapes) through
//! `parse_bytes`. Skipped, with a printed line, when ../shared/fixtures is absent.

use std::path::PathBuf;

use dreamcatcher_capture::{ParseOptions, parse_bytes};
use dreamcatcher_model::{CaptureSource, CodeOrigin, Conversation, Role, Site};

fn shared_export(name: &str) -> Option<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/exports");
    if !dir.is_dir() {
        println!("skipped: {} is absent", dir.display());
        return None;
    }
    Some(std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}")))
}

fn parse(name: &str) -> Option<Vec<Conversation>> {
    let bytes = shared_export(name)?;
    Some(parse_bytes(&bytes, &ParseOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}")))
}

fn roles(conversation: &Conversation) -> Vec<Role> {
    conversation.messages.iter().map(|m| m.role).collect()
}

#[test]
fn chatgpt_code_interpreter_export() {
    let Some(conversations) = parse("chatgpt-2023-09-code-interpreter.json") else {
        return;
    };
    assert_eq!(conversations.len(), 1);
    let c = &conversations[0];
    assert_eq!(c.site, Site::Chatgpt);
    assert_eq!(c.source, CaptureSource::Export);
    assert_eq!(c.title, "Average Distance in U(0,1)");
    assert_eq!(
        c.site_id.as_deref(),
        Some("966da5c4-5bb7-4e4d-ab6d-a7316b96266e")
    );
    assert_eq!(
        c.url.as_deref(),
        Some("https://chatgpt.com/c/966da5c4-5bb7-4e4d-ab6d-a7316b96266e")
    );
    assert_eq!(c.model.as_deref(), Some("gpt-4-code-interpreter"));
    assert_eq!(
        c.created_at.map(|t| t.to_rfc3339()).as_deref(),
        Some("2023-09-21T19:57:53.968528+00:00")
    );

    // 45 nodes: a null root, two hidden system nodes, then 8 prompts, each answered by a run of
    // assistant text, code and tool output that must become one answer.
    let expected: Vec<Role> = [Role::User, Role::Assistant]
        .into_iter()
        .cycle()
        .take(16)
        .collect();
    assert_eq!(roles(c), expected);
    assert!(
        c.messages[0]
            .markdown
            .starts_with("given two random independent variables")
    );
    assert!(c.messages.iter().all(|m| !m.markdown.trim().is_empty()));

    let first_answer = &c.messages[1].markdown;
    // code (recipient python) → python fence; execution_output → output fence, in order.
    let code = first_answer
        .find("```python\nfrom sympy import symbols, integrate, Abs\n")
        .expect("code fence");
    let output = first_answer
        .find("```output\n0\n```")
        .expect("output fence");
    let closing = first_answer
        .find("The average distance between $x$ and $y$")
        .expect("closing text");
    assert!(code < output && output < closing, "{first_answer}");
    assert_eq!(first_answer.matches("```python").count(), 3);
    assert_eq!(first_answer.matches("```output").count(), 3);
    assert!(
        !first_answer.contains('\r'),
        "CRLF code lines are normalised"
    );

    // \( \) and \[ \] → $ and $$.
    assert!(first_answer.contains("$U(0,1)$"));
    assert!(
        first_answer.contains("$$\nE[|x-y|] = \\int_0^1 \\int_0^1 |x-y| \\, dx \\, dy\n$$"),
        "{first_answer}"
    );
    for message in &c.messages {
        if message.role == Role::Assistant {
            assert!(!message.markdown.contains("\\("), "{}", message.markdown);
            assert!(!message.markdown.contains("\\["), "{}", message.markdown);
        }
    }

    // Plots the interpreter displayed are noted by file id; the placeholder text is gone.
    let plot_answer = &c.messages[3].markdown;
    assert!(
        plot_answer.contains("![image](c18959c4-6a9f-4f43-a908-5b9c5e500446)"),
        "{plot_answer}"
    );
    assert!(
        !c.messages
            .iter()
            .any(|m| m.markdown.contains("<<ImageDisplayed>>"))
    );
    // The reset notice is real tool output and stays.
    assert!(
        c.messages[9]
            .markdown
            .contains("```output\nCode execution state reset.\n```")
    );

    // The fences reach the fragments.
    let python_blocks = c.messages[1]
        .fragments
        .code_blocks
        .iter()
        .filter(|b| b.language == "python")
        .count();
    assert_eq!(python_blocks, 3);
}

#[test]
fn chatgpt_api_keeps_only_the_active_branch() {
    let Some(conversations) = parse("chatgpt-api-branch-synthetic.json") else {
        return;
    };
    let c = &conversations[0];
    assert_eq!(c.source, CaptureSource::WebApi);
    assert_eq!(c.model.as_deref(), Some("gpt-5"));
    assert_eq!(
        roles(c),
        [Role::User, Role::Assistant, Role::User, Role::Assistant]
    );
    let ids: Vec<_> = c
        .messages
        .iter()
        .map(|m| m.id.as_deref().unwrap_or(""))
        .collect();
    assert_eq!(ids, ["u1", "a2", "u2", "a3"]);
    assert!(
        c.messages[1]
            .markdown
            .starts_with("Use ORDER BY with LIMIT:")
    );
    assert!(c.messages[1].markdown.ends_with("Math: $O(\\log n)$."));
    assert!(
        !c.messages
            .iter()
            .any(|m| m.markdown.contains("regenerated away"))
    );
    // The hidden, empty system node is not a message.
    assert!(c.messages.iter().all(|m| !m.markdown.is_empty()));
    // code → execution_output → text: one answer.
    assert_eq!(
        c.messages[3].markdown,
        "```python\nrows = db.execute('SELECT id FROM dreams ORDER BY created_at DESC LIMIT 5').fetchall()\n\
         print(len(rows))\n```\n\n```output\n5\n```\n\nIt printed `5`, so the query works."
    );
}

#[test]
fn claude_api_tree_active_branch_thinking_and_artifact() {
    let Some(conversations) = parse("claude-api-tree-synthetic.json") else {
        return;
    };
    let c = &conversations[0];
    assert_eq!(c.site, Site::Claude);
    assert_eq!(c.source, CaptureSource::WebApi);
    assert_eq!(
        c.url.as_deref(),
        Some("https://claude.ai/chat/9b1e0000-2222-4a2a-8b2b-000000000001")
    );
    assert_eq!(c.model.as_deref(), Some("claude-sonnet-4-5"));
    let ids: Vec<_> = c
        .messages
        .iter()
        .map(|m| m.id.as_deref().unwrap_or(""))
        .collect();
    assert_eq!(
        ids,
        ["c-0001", "c-0003", "c-0004"],
        "c-0002 is the abandoned branch"
    );
    assert!(!c.messages.iter().any(|m| m.markdown.contains("abandoned")));

    let answer = &c.messages[1];
    assert_eq!(
        answer.thinking.as_deref(),
        Some("Need context cancellation.")
    );
    assert!(!answer.markdown.contains("Need context cancellation"));
    assert!(
        answer
            .markdown
            .starts_with("Here is a context-aware version:")
    );
    assert!(answer.markdown.contains("*Artifact: retry.go (go)*"));

    let artifact = answer
        .fragments
        .code_blocks
        .iter()
        .find(|b| b.origin == CodeOrigin::Artifact)
        .expect("artifact");
    assert_eq!(artifact.title.as_deref(), Some("retry.go"));
    assert_eq!(artifact.language, "go");
    assert_eq!(artifact.code, "package retry\n\n// TODO: add jitter\n");
    // The fenced Go code in the text is a fragment too, apart from the artifact.
    assert!(
        answer
            .fragments
            .code_blocks
            .iter()
            .any(|b| b.origin == CodeOrigin::Fence && b.language == "go")
    );
}

#[test]
fn claude_export_thinking_attachment_and_untitled() {
    let Some(conversations) = parse("claude-export-synthetic.json") else {
        return;
    };
    assert_eq!(conversations.len(), 2);
    let first = &conversations[0];
    assert_eq!(first.source, CaptureSource::Export);
    assert_eq!(first.title, "Dedupe captured snippets");
    assert_eq!(roles(first), [Role::User, Role::Assistant]);
    let answer = &first.messages[1];
    // The top-level `text` mixes thinking into the answer; the `text` blocks do not.
    assert!(
        answer.markdown.starts_with("Normalize, then hash:"),
        "{}",
        answer.markdown
    );
    assert!(!answer.markdown.contains("The user wants a stable key"));
    assert_eq!(
        answer.thinking.as_deref(),
        Some("The user wants a stable key for snippets.")
    );
    assert_eq!(answer.fragments.code_blocks.len(), 1);
    assert_eq!(answer.fragments.code_blocks[0].language, "rust");

    let second = &conversations[1];
    assert_eq!(
        second.title, "Summarise the attached log.",
        "untitled: titled from the first prompt"
    );
    let attachments = &second.messages[0].attachments;
    assert_eq!(
        attachments.len(),
        1,
        "the file of the same name is not listed twice"
    );
    assert_eq!(attachments[0].name, "sync.log");
    assert_eq!(attachments[0].mime_type.as_deref(), Some("text/plain"));
    assert_eq!(attachments[0].size_bytes, Some(120));
    assert_eq!(
        attachments[0].extracted_text.as_deref(),
        Some("WARN reconnect attempt 3\nERROR 429 too many requests")
    );
    assert_eq!(
        second.created_at.map(|t| t.to_rfc3339()).as_deref(),
        Some("2026-11-19T12:00:00+00:00")
    );
}

#[test]
fn the_api_object_inside_an_export_array_gets_the_same_id() {
    let Some(api) = shared_export("chatgpt-api-branch-synthetic.json") else {
        return;
    };
    let mut export = b"[".to_vec();
    export.extend_from_slice(&api);
    export.push(b']');
    let from_api = parse_bytes(&api, &ParseOptions::default()).unwrap();
    let from_export = parse_bytes(&export, &ParseOptions::default()).unwrap();
    assert_eq!(from_api[0].id, from_export[0].id);
    assert_eq!(from_export[0].source, CaptureSource::Export);
    assert_eq!(from_api[0].messages, from_export[0].messages);
}
