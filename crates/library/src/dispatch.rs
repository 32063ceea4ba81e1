//! Answers [`Request`]s: the whole service-worker API, testable without a browser. The worker
//! adds only what needs the browser (storage estimate, badge, running imports in the
//! background).

use dreamcatcher_model::{CaptureSource, Conversation, Site, Timestamp};

use crate::anchors::{conversation_of_url, layouts, site_of_url};
use crate::api::{
    ApiError, CaptureReport, CaptureRoute, ErrorCode, PageAnchors, PageSnapshot, Request, Response,
};
use crate::library::{Library, base64_decode};
use crate::policy::{
    JsonRoute, answer_conversation, capture_summary, classify_fetch, route_of,
    selection_conversation, site_host,
};
use crate::store::DreamStore;

/// The seed's defaults for "related to this page".
const RELATED_MIN_SCORE: f32 = 0.6;
const RELATED_LIMIT: u32 = 10;
/// Most rows one list or search request returns.
const MAX_PAGE: u32 = 500;

fn not_a_conversation(url: &str) -> ApiError {
    ApiError::new(
        ErrorCode::NotAConversation,
        format!("{url} is not a conversation page of chatgpt.com, chat.openai.com or claude.ai."),
    )
}

impl<S: DreamStore> Library<S> {
    /// Answers one request; failures come back as [`Response::Error`].
    pub async fn handle(&mut self, request: Request, now: Timestamp) -> Response {
        match self.answer(request, now).await {
            Ok(response) => response,
            Err(error) => Response::Error(error),
        }
    }

    /// True for requests that may change what is stored (the worker then refreshes the badge).
    pub fn changes_library(request: &Request) -> bool {
        !matches!(
            request,
            Request::PageAnchors { .. }
                | Request::ListDreams { .. }
                | Request::GetDream { .. }
                | Request::Search { .. }
                | Request::Suggest { .. }
                | Request::Related { .. }
                | Request::GetFragment { .. }
                | Request::ListFragments { .. }
                | Request::Facets
                | Request::Stats
                | Request::Export { .. }
                | Request::ImportBegin { .. }
                | Request::ImportStatus { .. }
                | Request::GetSettings
                | Request::SyncStatus
                | Request::TestConnection { .. }
        )
    }

    async fn answer(&mut self, request: Request, now: Timestamp) -> Result<Response, ApiError> {
        match request {
            Request::PageAnchors { url } => self.page_anchors(&url).map(Response::PageAnchors),
            Request::Capture {
                url,
                site_json,
                page,
                ..
            } => self.capture_conversation(&url, site_json, page, now).await,
            Request::CaptureAnswer {
                url,
                html,
                answer_key,
            } => {
                let (site, site_id) =
                    conversation_of_url(&url).ok_or_else(|| not_a_conversation(&url))?;
                self.ensure_enabled(site)?;
                let page = parse_page(&html, &url, site)?;
                let answer = answer_conversation(page, &site_id, &answer_key)?;
                self.store_capture(answer, None, None, now).await
            }
            Request::CaptureSelection {
                url,
                page_title,
                text,
            } => {
                let site = site_of_url(&url).ok_or_else(|| not_a_conversation(&url))?;
                let conversation = selection_conversation(site, &url, &page_title, &text)?;
                self.store_capture(conversation, None, None, now).await
            }
            Request::ListDreams {
                offset,
                limit,
                filter,
            } => self
                .list(offset, limit.min(MAX_PAGE), &filter)
                .await
                .map(Response::DreamPage),
            Request::GetDream { id } => self.dream_response(&id).await,
            Request::Search {
                query,
                offset,
                limit,
                filter,
            } => {
                let page = self
                    .search(&query, offset, limit.min(MAX_PAGE), &filter, now)
                    .await?;
                Ok(Response::SearchResults {
                    hits: page.hits,
                    total: page.total,
                    offset: page.offset,
                    total_capped: page.total_capped,
                })
            }
            Request::Suggest { prefix, limit } => Ok(Response::Suggestions {
                words: self.suggest(&prefix, limit.min(50), now).await?,
            }),
            Request::Related {
                url,
                min_score,
                limit,
            } => {
                let min_score = min_score.unwrap_or(RELATED_MIN_SCORE);
                let limit = limit.unwrap_or(RELATED_LIMIT).min(MAX_PAGE);
                let (dream_id, hits) = self.related(&url, min_score, limit, now).await?;
                Ok(Response::Related { dream_id, hits })
            }
            Request::GetFragment { content_key } => {
                self.fragment(&content_key).await.map(Response::Fragment)
            }
            Request::ListFragments {
                offset,
                limit,
                language,
            } => self
                .fragments(offset, limit.min(MAX_PAGE), language.as_deref())
                .await
                .map(Response::FragmentPage),
            Request::Facets => self.facets().await.map(Response::Facets),
            Request::Stats => self.stats().await.map(Response::Stats),
            Request::SetTags { id, tags } => {
                self.set_tags(&id, tags, now).await?;
                self.dream_response(&id).await
            }
            Request::SetNotes { id, notes } => {
                self.set_notes(&id, notes, now).await?;
                self.dream_response(&id).await
            }
            Request::MarkOpened { id } => {
                self.mark_opened(&id, now).await.map(|_| Response::Done)
            }
            Request::RecordUsage { id } => {
                self.record_usage(&id, now).await.map(|_| Response::Done)
            }
            Request::DeleteDream { id } => {
                let entry = self.delete(&id, now).await?;
                Ok(Response::Deleted {
                    id,
                    title: entry.dream.conversation.title.clone(),
                    undo_token: entry.undo_token,
                })
            }
            Request::UndoDelete { undo_token } => {
                let dream = self.undo_delete(&undo_token, now).await?;
                Ok(Response::Restored {
                    id: dream.id().to_string(),
                })
            }
            Request::DeleteAll { confirm } => {
                if !confirm {
                    return Err(ApiError::new(
                        ErrorCode::InvalidRequest,
                        "confirm: deleting everything needs confirm: true.",
                    ));
                }
                let (dreams, fragments) = self.delete_all(now).await?;
                Ok(Response::AllDeleted { dreams, fragments })
            }
            Request::Export { scope, format } => {
                self.export(&scope, format).await.map(Response::Exported)
            }
            Request::ImportBegin {
                file_name,
                total_bytes,
            } => Ok(Response::ImportStarted {
                import_id: self.import_begin(&file_name, total_bytes),
            }),
            Request::ImportChunk {
                import_id,
                data_base64,
                last,
            } => {
                let data = base64_decode(&data_base64)?;
                self.import_chunk(&import_id, &data, last)
                    .map(Response::ImportProgress)
            }
            Request::ImportStatus { import_id } => {
                self.import_status(&import_id).map(Response::ImportProgress)
            }
            Request::GetSettings => Ok(Response::Settings(self.settings().clone())),
            Request::SaveSettings { settings } => {
                self.save_settings(settings).await.map(Response::Settings)
            }
            Request::SyncStatus => Ok(Response::SyncOverview(self.sync_overview(None).await?)),
            Request::Unpair => {
                self.unpair().await?;
                Ok(Response::SyncOverview(self.sync_overview(None).await?))
            }
            Request::Pair { .. }
            | Request::TestConnection { .. }
            | Request::SyncNow
            | Request::SendToPipeline { .. } => Err(ApiError::new(
                ErrorCode::Unsupported,
                "Connected mode needs the service worker's network access; this library \
                 answers only what is stored.",
            )),
        }
    }

    async fn dream_response(&self, id: &str) -> Result<Response, ApiError> {
        let stored = self.get_stored(id).await?;
        Ok(Response::Dream {
            dream: stored.dream,
            implementation: stored.implementation,
        })
    }

    fn ensure_enabled(&self, site: Site) -> Result<(), ApiError> {
        if self.settings().capture_sites.contains(&site) {
            Ok(())
        } else {
            Err(ApiError::new(
                ErrorCode::Disabled,
                format!(
                    "Capture is turned off for {} in Dreamcatcher's settings.",
                    site_host(site)
                ),
            ))
        }
    }

    fn page_anchors(&self, url: &str) -> Result<PageAnchors, ApiError> {
        let (site, conversation_site_id) =
            conversation_of_url(url).ok_or_else(|| not_a_conversation(url))?;
        self.ensure_enabled(site)?;
        Ok(PageAnchors {
            site,
            conversation_site_id,
            layouts: layouts(site),
            show_page_button: self.settings().show_page_button,
            show_answer_buttons: self.settings().show_answer_buttons,
        })
    }

    /// The whole-conversation capture: the site's JSON when it came, else the page.
    async fn capture_conversation(
        &mut self,
        url: &str,
        site_json: Option<crate::api::FetchOutcome>,
        page: Option<PageSnapshot>,
        now: Timestamp,
    ) -> Result<Response, ApiError> {
        let (site, site_id) = conversation_of_url(url).ok_or_else(|| not_a_conversation(url))?;
        self.ensure_enabled(site)?;
        let mut fallback_reason = None;
        if let Some(outcome) = &site_json {
            match classify_fetch(site, outcome, now) {
                JsonRoute::Body(body) => match read_site_json(&body, site, &site_id) {
                    Ok(conversation) => {
                        return self.store_capture(conversation, None, None, now).await;
                    }
                    Err(reason) => fallback_reason = Some(reason),
                },
                JsonRoute::ReadPage { reason } => fallback_reason = Some(reason),
                JsonRoute::Fail(error) => return Err(error),
            }
        }
        let Some(page) = page else {
            let reason =
                fallback_reason.unwrap_or_else(|| "the site's data was not fetched".to_string());
            return Ok(Response::NeedPage { reason });
        };
        let conversation = parse_page(&page.html, url, site)?;
        let warning = (!page.reached_top).then_some(
            "Could not scroll to the start of the thread: older messages may be missing.",
        );
        self.store_capture(conversation, fallback_reason, warning, now)
            .await
    }

    async fn store_capture(
        &mut self,
        conversation: Conversation,
        fallback_reason: Option<String>,
        warning: Option<&str>,
        now: Timestamp,
    ) -> Result<Response, ApiError> {
        if conversation.messages.is_empty() {
            return Err(ApiError::new(
                ErrorCode::Empty,
                "The conversation has no messages yet: nothing was saved.",
            ));
        }
        if conversation.is_streaming() {
            return Err(ApiError::new(
                ErrorCode::StillStreaming,
                "An answer is still being written: capture again when it has finished.",
            ));
        }
        let route = route_of(&conversation);
        let summary = self.capture(vec![conversation], now).await?;
        let captured = summary
            .captured
            .into_iter()
            .next()
            .ok_or_else(|| ApiError::new(ErrorCode::Internal, "the capture stored nothing"))?;
        let conversation = &captured.dream.conversation;
        let messages = conversation.messages.len() as u32;
        let code_blocks = conversation.code_block_count() as u32;
        let summary_line = match route {
            CaptureRoute::Other => format!(
                "Saved the selection as a fragment ({} characters)",
                conversation
                    .messages
                    .iter()
                    .flat_map(|m| &m.fragments.code_blocks)
                    .map(|b| b.code.chars().count())
                    .sum::<usize>()
            ),
            _ => capture_summary(messages, code_blocks, &route, captured.outcome, warning),
        };
        Ok(Response::Captured(CaptureReport {
            dream_id: captured.dream.id().to_string(),
            title: conversation.title.clone(),
            outcome: captured.outcome,
            messages,
            code_blocks,
            route,
            fallback_reason,
            summary: summary_line,
        }))
    }
}

/// Reads the site's conversation JSON, checking it is the conversation of the page.
fn read_site_json(body: &str, site: Site, site_id: &str) -> Result<Conversation, String> {
    let conversation = dreamcatcher_capture::json::parse_conversation(body, CaptureSource::WebApi)
        .map_err(|error| format!("the site's data could not be read ({error})"))?;
    let same = conversation.site == site
        && conversation
            .site_id
            .as_deref()
            .is_some_and(|id| id.eq_ignore_ascii_case(site_id));
    if !same {
        return Err(format!(
            "the site's data is for conversation {:?}, not the open one ({site_id})",
            conversation.site_id.unwrap_or_default()
        ));
    }
    if conversation.messages.is_empty() {
        return Err("the site's data holds no messages".to_string());
    }
    Ok(conversation)
}

fn parse_page(html: &str, url: &str, site: Site) -> Result<Conversation, ApiError> {
    dreamcatcher_capture::page::parse_page(html, Some(url), Some(site)).map_err(|error| {
        ApiError::new(
            ErrorCode::LayoutNotRecognised,
            format!(
                "Page layout not recognised on {}: {error}. Nothing was saved.",
                site_host(site)
            ),
        )
    })
}
