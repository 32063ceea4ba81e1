//! Each user's search index and dream summaries, kept in memory for listing and search.
//!
//! Built from the database on first use (the service warms every user at start) and then
//! kept current by replaying the user's event stream from the last cursor it applied:
//! after every write on this instance, and before every listing, so that writes made by
//! other instances sharing a PostgreSQL database are seen too.

use std::collections::HashMap;
use std::sync::{Arc, Mutex as SyncMutex, PoisonError};

use dreamcatcher_model::{Dream, Site, Timestamp};
use dreamcatcher_search::{DocKind, FragmentRef, SearchIndex, SearchOptions};
use dreamcatcher_sync::server::StoredDreamState;
use dreamcatcher_sync::{Cursor, Revision, ServerEvent};
use serde::Serialize;
use tokio::sync::Mutex;

use crate::db::{Database, StoreError, accounts, dreams};

/// Events read per query while catching up.
const CATCH_UP_PAGE: usize = 500;

/// A dream as listed: everything but the messages.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DreamSummary {
    pub id: String,
    pub title: String,
    pub site: Site,
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    pub tags: Vec<String>,
    pub notes: String,
    pub revision: Revision,
    pub captured_at: Timestamp,
    pub updated_at: Timestamp,
    /// The conversation's own dates, when the site gave them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversation_created_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversation_updated_at: Option<Timestamp>,
    pub message_count: usize,
    pub code_block_count: usize,
    /// Languages of its code blocks, each once, in order of appearance.
    pub languages: Vec<String>,
    /// Set on a conflict copy: the dream it was copied from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conflict_of: Option<String>,
}

impl DreamSummary {
    pub fn new(dream: &Dream, revision: Revision, conflict_of: Option<String>) -> Self {
        let conversation = &dream.conversation;
        let mut languages: Vec<String> = Vec::new();
        for block in conversation
            .messages
            .iter()
            .flat_map(|message| &message.fragments.code_blocks)
        {
            if !block.language.is_empty() && !languages.contains(&block.language) {
                languages.push(block.language.clone());
            }
        }
        DreamSummary {
            id: dream.id().to_string(),
            title: conversation.title.clone(),
            site: conversation.site,
            url: conversation.url.clone(),
            model: conversation.model.clone(),
            tags: dream.tags.clone(),
            notes: dream.notes.clone(),
            revision,
            captured_at: dream.captured_at,
            updated_at: dream.updated_at,
            conversation_created_at: conversation.created_at,
            conversation_updated_at: conversation.updated_at,
            message_count: conversation.messages.len(),
            code_block_count: conversation.code_block_count(),
            languages,
            conflict_of,
        }
    }
}

/// One listed dream; `score` and `matched` only for a search.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ListItem {
    #[serde(flatten)]
    pub summary: DreamSummary,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f32>,
    /// The best-matching fragment, when a fragment matched better than the dream's text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matched: Option<FragmentRef>,
}

/// What to list: filters, an optional search query, and the page.
#[derive(Debug, Clone, Default)]
pub struct ListRequest {
    pub query: Option<String>,
    pub site: Option<Site>,
    pub language: Option<String>,
    pub tags: Vec<String>,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
    pub offset: usize,
    pub limit: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ListPage {
    pub items: Vec<ListItem>,
    pub total: usize,
    /// Offset of the next page, when there is one.
    pub next_offset: Option<usize>,
}

#[derive(Default)]
struct UserLibrary {
    loaded: bool,
    /// The last event applied.
    cursor: Cursor,
    index: SearchIndex,
    summaries: HashMap<String, DreamSummary>,
}

impl UserLibrary {
    fn load(&mut self, cursor: Cursor, states: &[StoredDreamState]) {
        let mut index = SearchIndex::new();
        let mut summaries = HashMap::with_capacity(states.len());
        let live: Vec<(&Dream, &StoredDreamState)> = states
            .iter()
            .filter_map(|state| state.live_dream().map(|dream| (dream, state)))
            .collect();
        index.upsert_dreams(live.iter().map(|(dream, _)| *dream));
        for (dream, state) in live {
            summaries.insert(
                dream.id().to_string(),
                DreamSummary::new(dream, state.revision, state.conflict_of.clone()),
            );
        }
        *self = UserLibrary {
            loaded: true,
            cursor,
            index,
            summaries,
        };
    }

    fn apply(&mut self, event: &ServerEvent) {
        match event {
            ServerEvent::DreamUpdated {
                dream,
                revision,
                conflict_of,
            } => {
                self.index.upsert_dream(dream);
                self.summaries.insert(
                    dream.id().to_string(),
                    DreamSummary::new(dream, *revision, conflict_of.clone()),
                );
            }
            ServerEvent::DreamDeleted { dream_id, .. } => {
                self.index.remove_dream(dream_id);
                self.summaries.remove(dream_id);
            }
            ServerEvent::ProjectCreated { .. } | ServerEvent::ImplementationCompleted { .. } => {}
        }
    }

    fn list(&self, request: &ListRequest, now: Timestamp) -> ListPage {
        let query = request.query.as_deref().map(str::trim).unwrap_or_default();
        let searching = !query.is_empty();
        let options = SearchOptions {
            limit: self.index.len().max(1),
            site: request.site,
            language: request.language.clone(),
            tags: request.tags.clone(),
            since: request.since,
            until: request.until,
            // A search also ranks fragments (code, TODOs), each counting for its dream.
            kind: (!searching).then_some(DocKind::Dream),
        };
        let hits = self.index.search(query, &options, now);
        let mut seen = std::collections::HashSet::new();
        let ranked: Vec<ListItem> = hits
            .into_iter()
            .filter(|hit| seen.insert(hit.dream_id.clone()))
            .filter_map(|hit| {
                let summary = self.summaries.get(&hit.dream_id)?.clone();
                Some(ListItem {
                    summary,
                    score: searching.then_some(hit.score),
                    matched: hit.fragment,
                })
            })
            .collect();
        let total = ranked.len();
        let end = request.offset.saturating_add(request.limit).min(total);
        let items = ranked
            .into_iter()
            .skip(request.offset)
            .take(request.limit)
            .collect();
        ListPage {
            items,
            total,
            next_offset: (end < total).then_some(end),
        }
    }
}

/// Every user's library on this instance.
#[derive(Default)]
pub struct Libraries {
    users: SyncMutex<HashMap<i64, Arc<Mutex<UserLibrary>>>>,
}

impl Libraries {
    fn library(&self, user: i64) -> Arc<Mutex<UserLibrary>> {
        // Held only for a map lookup, so a poisoned lock is intact.
        let mut users = self.users.lock().unwrap_or_else(PoisonError::into_inner);
        users.entry(user).or_default().clone()
    }

    async fn caught_up(
        &self,
        db: &Database,
        user: i64,
    ) -> Result<tokio::sync::OwnedMutexGuard<UserLibrary>, StoreError> {
        let mut library = self.library(user).lock_owned().await;
        let mut pooled = db.acquire().await?;
        let mut conn = pooled.conn();
        if !library.loaded {
            // The cursor first: events after it replay onto whatever the read finds.
            let cursor = dreams::latest_cursor(&mut conn, user).await?;
            let states = dreams::live_dreams(&mut conn, user).await?;
            library.load(cursor, &states);
        }
        loop {
            let events =
                dreams::events_after(&mut conn, user, library.cursor, CATCH_UP_PAGE).await?;
            let Some(last) = events.last().map(|event| event.cursor) else {
                break;
            };
            for event in &events {
                library.apply(&event.event);
            }
            library.cursor = last;
        }
        Ok(library)
    }

    /// Brings the user's library up to date with the database.
    pub async fn refresh(&self, db: &Database, user: i64) -> Result<(), StoreError> {
        self.caught_up(db, user).await.map(drop)
    }

    /// Loads every user's library (at start, so the first search is not the slow one).
    pub async fn warm_all(&self, db: &Database) -> Result<usize, StoreError> {
        let users = {
            let mut pooled = db.acquire().await?;
            accounts::user_ids(&mut pooled.conn()).await?
        };
        for user in &users {
            self.refresh(db, *user).await?;
        }
        Ok(users.len())
    }

    pub async fn list(
        &self,
        db: &Database,
        user: i64,
        request: &ListRequest,
        now: Timestamp,
    ) -> Result<ListPage, StoreError> {
        let library = self.caught_up(db, user).await?;
        Ok(library.list(request, now))
    }
}
