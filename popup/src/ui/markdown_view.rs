//! Markdown nodes → elements and text nodes. Nothing is set as HTML: captured text can only
//! ever become text.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::backend::BackendHandle;
use crate::browser;
use crate::markdown::{ElementKind, Node};

/// The views of `nodes`; `dream_id` is credited when code is copied.
pub fn render_nodes(nodes: Vec<Node>, dream_id: &str) -> Vec<AnyView> {
    nodes.into_iter().map(|node| render_node(node, dream_id)).collect()
}

fn render_node(node: Node, dream_id: &str) -> AnyView {
    match node {
        Node::Text(text) => text.into_any(),
        Node::RawHtml(html) => view! { <span class="raw-html">{html}</span> }.into_any(),
        Node::InlineCode(code) => view! { <code>{code}</code> }.into_any(),
        Node::SoftBreak => " ".into_any(),
        Node::HardBreak => view! { <br /> }.into_any(),
        Node::Rule => view! { <hr /> }.into_any(),
        Node::TaskMarker { checked } => {
            view! { <input type="checkbox" disabled=true checked=checked aria-label="Task" /> }.into_any()
        }
        Node::CodeBlock { language, code } => {
            view! { <CodeBlockView language=language code=code title=None dream_id=dream_id.to_string() /> }.into_any()
        }
        Node::Link { href: Some(href), title, children } => view! {
            <a href=href title=title target="_blank" rel="noopener noreferrer">
                {render_nodes(children, dream_id)}
            </a>
        }
        .into_any(),
        Node::Link { href: None, children, .. } => view! {
            <span class="dead-link" title="Link not kept: only http(s) and mailto links open from here">
                {render_nodes(children, dream_id)}
            </span>
        }
        .into_any(),
        Node::Image { href, alt } => {
            let label = if alt.is_empty() { "image".to_string() } else { format!("image: {alt}") };
            match href {
                Some(href) => view! {
                    <a class="image-link" href=href target="_blank" rel="noopener noreferrer">{label}</a>
                }
                .into_any(),
                None => view! { <span class="image-link">{label}</span> }.into_any(),
            }
        }
        Node::Element { kind, children } => render_element(kind, render_nodes(children, dream_id)),
    }
}

fn render_element(kind: ElementKind, children: Vec<AnyView>) -> AnyView {
    match kind {
        ElementKind::Paragraph => view! { <p>{children}</p> }.into_any(),
        // The dream's title is the page's h2: message headings start below it.
        ElementKind::Heading(1) => view! { <h3>{children}</h3> }.into_any(),
        ElementKind::Heading(2) => view! { <h4>{children}</h4> }.into_any(),
        ElementKind::Heading(3) => view! { <h5>{children}</h5> }.into_any(),
        ElementKind::Heading(_) => view! { <h6>{children}</h6> }.into_any(),
        ElementKind::BlockQuote => view! { <blockquote>{children}</blockquote> }.into_any(),
        ElementKind::OrderedList { start } => view! { <ol start=start>{children}</ol> }.into_any(),
        ElementKind::BulletList => view! { <ul>{children}</ul> }.into_any(),
        ElementKind::ListItem => view! { <li>{children}</li> }.into_any(),
        ElementKind::Emphasis => view! { <em>{children}</em> }.into_any(),
        ElementKind::Strong => view! { <strong>{children}</strong> }.into_any(),
        ElementKind::Strikethrough => view! { <del>{children}</del> }.into_any(),
        ElementKind::Table => view! {
            <div class="table-wrap">
                <table>{children}</table>
            </div>
        }
        .into_any(),
        ElementKind::TableHead => view! { <thead><tr>{children}</tr></thead> }.into_any(),
        ElementKind::TableRow => view! { <tr>{children}</tr> }.into_any(),
        ElementKind::TableCell => view! { <td>{children}</td> }.into_any(),
        ElementKind::RawBlock => view! { <p class="raw-html raw-block">{children}</p> }.into_any(),
        ElementKind::Group => view! { <div>{children}</div> }.into_any(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CopyState {
    Idle,
    Copied,
    Failed,
}

/// A code block with its language and a Copy button.
#[component]
pub fn CodeBlockView(language: String, code: String, title: Option<String>, dream_id: String) -> impl IntoView {
    let backend = BackendHandle::from_context();
    let state = RwSignal::new(CopyState::Idle);
    let label = match (title, language.is_empty()) {
        (Some(title), true) => title,
        (Some(title), false) => format!("{title} · {language}"),
        (None, true) => "text".to_string(),
        (None, false) => language,
    };
    let copy_label = format!("Copy {label} code");
    let source = StoredValue::new((code.clone(), dream_id));
    let copy = move |_| {
        let (code, dream_id) = source.get_value();
        let backend = backend.get();
        spawn_local(async move {
            match browser::copy_to_clipboard(&code).await {
                Ok(()) => {
                    state.set(CopyState::Copied);
                    // The usage signal is best effort: the copy itself already worked.
                    let _ = backend.record_usage(dream_id).await;
                }
                Err(_) => state.set(CopyState::Failed),
            }
            browser::sleep(2000).await;
            state.set(CopyState::Idle);
        });
    };
    view! {
        <figure class="code">
            <figcaption>
                <span class="lang">{label}</span>
                <button type="button" class="copy" aria-label=copy_label on:click=copy>
                    {move || match state.get() {
                        CopyState::Idle => "Copy",
                        CopyState::Copied => "Copied",
                        CopyState::Failed => "Copy failed",
                    }}
                </button>
            </figcaption>
            <pre><code>{code}</code></pre>
        </figure>
    }
}
