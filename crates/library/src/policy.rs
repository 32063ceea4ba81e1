//! Capture decisions that do not touch storage: what an answer from the site's JSON route
//! means, when the page must be read instead, how a selection or a single answer becomes a
//! dream, and the sentence shown in the page afterwards.

use chrono::{DateTime, Utc};

use dreamcatcher_model::{CodeOrigin, Conversation, Message, Role, Site, Timestamp, content_key};

use crate::api::{ApiError, CaptureOutcome, CaptureRoute, ErrorCode, FetchOutcome};

/// What to do with the site's JSON route's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonRoute {
    /// The conversation JSON arrived: parse it.
    Body(String),
    /// The route failed in a way the page can make up for: read the page (the reason is
    /// reported beside the result).
    ReadPage { reason: String },
    /// The capture cannot succeed now, with the reason to show.
    Fail(ApiError),
}

/// Decides what the content script's JSON-route outcome means for the capture.
pub fn classify_fetch(site: Site, outcome: &FetchOutcome, now: Timestamp) -> JsonRoute {
    let host = site_host(site);
    match outcome.status {
        200..=299 => match &outcome.body {
            Some(body) if outcome.step == "conversation" && !body.trim().is_empty() => {
                JsonRoute::Body(body.clone())
            }
            _ if outcome.step == "session" => JsonRoute::Fail(not_logged_in(host, outcome)),
            _ => JsonRoute::ReadPage {
                reason: format!(
                    "{host} answered the {} request without the conversation ({})",
                    outcome.step,
                    outcome.error.as_deref().unwrap_or("empty body")
                ),
            },
        },
        401 | 403 => JsonRoute::Fail(not_logged_in(host, outcome)),
        429 => {
            let retry_after = outcome
                .retry_after
                .as_deref()
                .and_then(|value| retry_after_secs(value, now));
            let wait = match retry_after {
                Some(secs) => format!("try again in {}", human_duration(secs)),
                None => "try again in a few minutes".to_string(),
            };
            JsonRoute::Fail(ApiError {
                code: ErrorCode::RateLimited,
                message: format!("Rate-limited by {host}: {wait}."),
                retry_after_secs: retry_after,
            })
        }
        0 => JsonRoute::ReadPage {
            reason: format!(
                "the {} request to {host} did not complete ({})",
                outcome.step,
                outcome.error.as_deref().unwrap_or("network error")
            ),
        },
        status => JsonRoute::ReadPage {
            reason: format!(
                "{host} answered the {} request with HTTP {status}",
                outcome.step
            ),
        },
    }
}

fn not_logged_in(host: &str, outcome: &FetchOutcome) -> ApiError {
    let detail = match (outcome.status, outcome.error.as_deref()) {
        (401 | 403, _) => format!("HTTP {} on the {} request", outcome.status, outcome.step),
        (_, Some(error)) => error.to_string(),
        _ => format!("no session from the {} request", outcome.step),
    };
    ApiError::new(
        ErrorCode::NotLoggedIn,
        format!("Not logged in to {host} ({detail}): log in and capture again."),
    )
}

pub fn site_host(site: Site) -> &'static str {
    match site {
        Site::Chatgpt => "chatgpt.com",
        Site::Claude => "claude.ai",
    }
}

/// Seconds to wait from a `Retry-After` header: delay-seconds or an HTTP date.
pub fn retry_after_secs(value: &str, now: Timestamp) -> Option<u64> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(secs);
    }
    let at = DateTime::parse_from_rfc2822(value)
        .ok()?
        .with_timezone(&Utc);
    Some((at - now).num_seconds().max(0) as u64)
}

fn human_duration(secs: u64) -> String {
    match secs {
        0..=1 => "a second".to_string(),
        2..=89 => format!("{secs} seconds"),
        90..=5399 => format!("{} minutes", secs.div_ceil(60)),
        _ => format!("{} hours", secs.div_ceil(3600)),
    }
}

fn plural(count: u32, one: &str, many: &str) -> String {
    if count == 1 {
        format!("1 {one}")
    } else {
        format!("{count} {many}")
    }
}

/// The line shown in the page: "Captured: 42 messages, 7 code blocks (from the site's data)".
pub fn capture_summary(
    messages: u32,
    code_blocks: u32,
    route: &CaptureRoute,
    outcome: CaptureOutcome,
    warning: Option<&str>,
) -> String {
    let mut line = format!(
        "Captured: {}, {} ({})",
        plural(messages, "message", "messages"),
        plural(code_blocks, "code block", "code blocks"),
        route.describe()
    );
    match outcome {
        CaptureOutcome::Added => {}
        CaptureOutcome::Updated => line.push_str(" — updated the saved copy"),
        CaptureOutcome::Unchanged => line.push_str(" — already saved, nothing changed"),
    }
    if let Some(warning) = warning {
        line.push_str(". ");
        line.push_str(warning);
    }
    line
}

/// The route a stored conversation came through.
pub fn route_of(conversation: &Conversation) -> CaptureRoute {
    match &conversation.source {
        dreamcatcher_model::CaptureSource::Page { layout } => CaptureRoute::Page {
            layout: layout.clone(),
        },
        dreamcatcher_model::CaptureSource::WebApi => CaptureRoute::SiteData,
        dreamcatcher_model::CaptureSource::Export => CaptureRoute::Export,
        dreamcatcher_model::CaptureSource::Other => CaptureRoute::Other,
    }
}

/// A selection saved from the context menu: one dream per distinct snippet (saving the same
/// text twice updates it), holding the text as one code block of origin `selection`.
pub fn selection_conversation(
    site: Site,
    url: &str,
    page_title: &str,
    text: &str,
) -> Result<Conversation, ApiError> {
    let text = text.trim_matches(|c| c == '\n' || c == '\r');
    if text.trim().is_empty() {
        return Err(ApiError::new(
            ErrorCode::Empty,
            "Nothing is selected: select some text and try again.",
        ));
    }
    let key = content_key(text);
    let first_line = text
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .unwrap_or("Selection");
    let title: String = first_line.chars().take(80).collect();
    let mut conversation = Conversation::new(site, Some(format!("selection:{key}")), title);
    conversation.url = Some(url.to_string());
    let fence = "`".repeat(longest_backtick_run(text).max(2) + 1);
    let mut message = Message::new(Role::Assistant, format!("{fence}\n{text}\n{fence}\n"));
    let mut block = dreamcatcher_fragments::code_block("", text, CodeOrigin::Selection);
    if !page_title.trim().is_empty() {
        block.title = Some(page_title.trim().to_string());
    }
    message.fragments.code_blocks.push(block);
    conversation.messages.push(message);
    Ok(conversation)
}

fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

/// Turns a page capture of one exchange into a dream of its own: the last answer and the
/// prompt before it, with an id derived from the conversation's and the answer's, so
/// capturing that answer again updates it and never touches the whole conversation's dream.
pub fn answer_conversation(
    mut conversation: Conversation,
    site_id: &str,
    answer_key: &str,
) -> Result<Conversation, ApiError> {
    let answer_at = conversation
        .messages
        .iter()
        .rposition(|m| m.role == Role::Assistant)
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::LayoutNotRecognised,
                "No answer was found around the clicked button.",
            )
        })?;
    let prompt_at = conversation.messages[..answer_at]
        .iter()
        .rposition(|m| m.role == Role::User);
    let mut kept = Vec::with_capacity(2);
    let mut messages = std::mem::take(&mut conversation.messages);
    messages.truncate(answer_at + 1);
    let answer = messages.pop();
    if let Some(prompt) = prompt_at.and_then(|at| messages.get(at)) {
        kept.push(prompt.clone());
    }
    kept.extend(answer);
    let key = answer_key.trim();
    let key = if key.is_empty() {
        kept.last()
            .map(|m| content_key(&m.markdown))
            .unwrap_or_default()
    } else {
        key.to_string()
    };
    conversation.messages = kept;
    conversation.site_id = Some(format!("{site_id}#answer:{key}"));
    let base = if conversation.title.trim().is_empty() {
        "Answer"
    } else {
        conversation.title.trim()
    };
    conversation.title = format!("{base} — one answer");
    conversation.assign_id();
    Ok(conversation)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> Timestamp {
        Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap()
    }

    fn outcome(step: &str, status: u16) -> FetchOutcome {
        FetchOutcome {
            step: step.into(),
            status,
            retry_after: None,
            body: None,
            error: None,
        }
    }

    #[test]
    fn rate_limit_reports_the_retry_time_from_either_header_form() {
        let mut limited = outcome("conversation", 429);
        limited.retry_after = Some("120".into());
        match classify_fetch(Site::Chatgpt, &limited, now()) {
            JsonRoute::Fail(error) => {
                assert_eq!(error.code, ErrorCode::RateLimited);
                assert_eq!(error.retry_after_secs, Some(120));
                assert_eq!(
                    error.message,
                    "Rate-limited by chatgpt.com: try again in 2 minutes."
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            retry_after_secs("Sat, 21 Nov 2026 12:00:30 GMT", now()),
            Some(30)
        );
        assert_eq!(
            retry_after_secs("Sat, 21 Nov 2026 11:00:00 GMT", now()),
            Some(0)
        );
        assert_eq!(retry_after_secs("soon", now()), None);
    }

    #[test]
    fn unauthorised_or_missing_session_means_not_logged_in() {
        for case in [
            outcome("conversation", 401),
            outcome("organizations", 403),
            outcome("session", 200),
        ] {
            match classify_fetch(Site::Claude, &case, now()) {
                JsonRoute::Fail(error) => {
                    assert_eq!(error.code, ErrorCode::NotLoggedIn, "{case:?}")
                }
                other => panic!("{case:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn server_and_network_failures_fall_back_to_the_page() {
        match classify_fetch(Site::Claude, &outcome("conversation", 500), now()) {
            JsonRoute::ReadPage { reason } => assert_eq!(
                reason,
                "claude.ai answered the conversation request with HTTP 500"
            ),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            classify_fetch(Site::Claude, &outcome("conversation", 0), now()),
            JsonRoute::ReadPage { .. }
        ));
        let mut ok = outcome("conversation", 200);
        ok.body = Some("{}".into());
        assert_eq!(
            classify_fetch(Site::Claude, &ok, now()),
            JsonRoute::Body("{}".into())
        );
    }

    #[test]
    fn summary_line_counts_and_names_the_route() {
        assert_eq!(
            capture_summary(42, 7, &CaptureRoute::SiteData, CaptureOutcome::Added, None),
            "Captured: 42 messages, 7 code blocks (from the site's data)"
        );
        assert_eq!(
            capture_summary(
                1,
                1,
                &CaptureRoute::Page { layout: "x".into() },
                CaptureOutcome::Updated,
                None
            ),
            "Captured: 1 message, 1 code block (from the page) — updated the saved copy"
        );
    }

    #[test]
    fn selection_is_fenced_safely_and_keyed_by_content() {
        let text = "```rust\nfn main() {}\n```";
        let a =
            selection_conversation(Site::Chatgpt, "https://chatgpt.com/c/1", "T", text).unwrap();
        let b = selection_conversation(
            Site::Chatgpt,
            "https://chatgpt.com/c/2",
            "T",
            &format!("\n{text}\n"),
        )
        .unwrap();
        assert_eq!(a.id, b.id);
        let message = &a.messages[0];
        assert!(message.markdown.starts_with("````\n"));
        assert_eq!(message.fragments.code_blocks[0].code, text);
        assert_eq!(
            message.fragments.code_blocks[0].origin,
            CodeOrigin::Selection
        );
        assert!(selection_conversation(Site::Claude, "u", "", "  \n ").is_err());
    }

    #[test]
    fn an_answer_gets_its_own_id_and_keeps_its_prompt() {
        let mut conversation = Conversation::new(Site::Claude, Some("conv".into()), "Topic");
        conversation.messages.push(Message::new(Role::User, "q"));
        conversation
            .messages
            .push(Message::new(Role::Assistant, "a"));
        let whole_id = conversation.id.clone();
        let answer = answer_conversation(conversation.clone(), "conv", "7").unwrap();
        assert_ne!(answer.id, whole_id);
        assert_eq!(answer.messages.len(), 2);
        assert_eq!(answer.title, "Topic — one answer");
        assert_eq!(
            answer.id,
            answer_conversation(conversation, "conv", "7").unwrap().id
        );
    }
}
