//! The running service: shared state, the router with its layers, start and stop.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, Method, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::trace::TraceLayer;

use crate::accounts::{hex, random_bytes, secret_hash};
use crate::api;
use crate::api::changes::IDEMPOTENCY_KEY_HEADER;
use crate::config::ServerConfig;
use crate::db::accounts::{self, Identity};
use crate::db::{Committed, Database, StoreError};
use crate::error::{ApiError, ErrorCode};
use crate::hub::{self, Hub};
use crate::library::Libraries;
use crate::metrics::Metrics;
use crate::ratelimit::{KeyedLimiter, Limiters};
use crate::ws;

pub struct AppState {
    pub config: ServerConfig,
    pub db: Database,
    pub hub: Arc<Hub>,
    pub libraries: Libraries,
    pub metrics: Metrics,
    pub limiters: Limiters,
    pub http: reqwest::Client,
    /// Turns true when the service is stopping.
    pub shutdown: watch::Receiver<bool>,
    /// Users whose search index is behind their events (see [`refresh_libraries`]).
    stale_libraries: mpsc::UnboundedSender<i64>,
}

pub type SharedState = Arc<AppState>;

impl AppState {
    /// The device a token belongs to, unless unknown or revoked.
    pub async fn authenticate(&self, token: &str) -> Result<Option<Identity>, StoreError> {
        let mut pooled = self.db.acquire().await?;
        accounts::identity_by_token_hash(&mut pooled.conn(), &secret_hash(token)).await
    }

    /// `Err(wait)` when the device is over its rate limit.
    pub fn check_device_rate(&self, device_id: i64) -> Result<(), Duration> {
        match &self.limiters.devices {
            Some(limiter) => limiter.check(&device_id),
            None => Ok(()),
        }
    }

    /// After a commit that recorded events: wake the users' connections here (other
    /// instances were notified by the commit) and have their libraries brought up to
    /// date in the background: indexing is not on the way to an acknowledgement, and a
    /// listing catches up by itself anyway.
    pub fn after_commit(&self, committed: Committed) {
        self.metrics.events_published.inc_by(committed.events);
        for user in committed.users_with_events {
            self.hub.notify(user);
            // Fails only when the service is stopping, when indexing no longer matters.
            let _ = self.stale_libraries.send(user);
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot build the HTTP client: {0}")]
    HttpClient(#[from] reqwest::Error),
    #[error(transparent)]
    Random(#[from] crate::accounts::AccountError),
}

/// A service started by [`start`].
pub struct RunningServer {
    /// The address it listens on (the port chosen when the configuration said 0).
    pub addr: SocketAddr,
    pub state: SharedState,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<std::io::Result<()>>,
}

impl RunningServer {
    /// Stops accepting requests, closes WebSocket connections, waits for requests in
    /// flight, and closes the database.
    pub async fn stop(self) -> std::io::Result<()> {
        let _ = self.shutdown.send(true);
        self.wait().await
    }

    /// Waits until the service stops (after [`stop`](Self::stop) or a failure).
    pub async fn wait(self) -> std::io::Result<()> {
        let result = match self.task.await {
            Ok(result) => result,
            Err(error) => Err(std::io::Error::other(error)),
        };
        self.state.db.close().await;
        result
    }

    /// A handle that stops the service from elsewhere (a signal handler).
    pub fn stopper(&self) -> watch::Sender<bool> {
        self.shutdown.clone()
    }
}

/// Opens the database (migrating it), loads every user's search index, and starts
/// serving on `config.listen`.
pub async fn start(config: ServerConfig) -> Result<RunningServer, StartError> {
    let instance_id = hex(&random_bytes::<8>()?);
    let db = Database::open(&config.database, &instance_id).await?;
    let libraries = Libraries::default();
    let users = libraries.warm_all(&db).await?;
    tracing::info!(backend = db.backend_name(), users, "database ready");
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| StartError::Listen {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| StartError::Listen {
        addr: config.listen,
        source,
    })?;
    let (shutdown_sender, shutdown) = watch::channel(false);
    let http = reqwest::Client::builder()
        .timeout(config.orchestrator_timeout)
        .build()?;
    let limiters = Limiters {
        devices: config.rate_limit.map(KeyedLimiter::new),
        pairing: KeyedLimiter::new(config.pairing_rate_limit),
    };
    let hub = Arc::new(Hub::default());
    let (stale_libraries, stale_receiver) = mpsc::unbounded_channel();
    let state = Arc::new(AppState {
        stale_libraries,
        config,
        db,
        hub: hub.clone(),
        libraries,
        metrics: Metrics::new(),
        limiters,
        http,
        shutdown: shutdown.clone(),
    });

    if let Some(url) = state.db.postgres_url() {
        tokio::spawn(hub::listen_postgres(
            url.to_string(),
            instance_id.clone(),
            hub,
            shutdown.clone(),
        ));
    }
    tokio::spawn(forget_idle_buckets(state.clone(), shutdown.clone()));
    tokio::spawn(refresh_libraries(
        state.clone(),
        stale_receiver,
        shutdown.clone(),
    ));

    let app = router(state.clone());
    let mut stop = shutdown.clone();
    let task = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = stop.wait_for(|stop| *stop).await;
        })
        .await
    });
    tracing::info!(%addr, "listening");
    Ok(RunningServer {
        addr,
        state,
        shutdown: shutdown_sender,
        task,
    })
}

/// Brings stale libraries up to date, each once per batch of wake-ups however many
/// commits it had meanwhile.
async fn refresh_libraries(
    state: SharedState,
    mut stale: mpsc::UnboundedReceiver<i64>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let first = tokio::select! {
            user = stale.recv() => match user {
                Some(user) => user,
                None => return,
            },
            _ = shutdown.wait_for(|stop| *stop) => return,
        };
        let mut users = BTreeSet::from([first]);
        while let Ok(user) = stale.try_recv() {
            users.insert(user);
        }
        for user in users {
            if let Err(error) = state.libraries.refresh(&state.db, user).await {
                // The next listing catches up instead.
                tracing::warn!(%error, user, "could not refresh the search index");
                state.metrics.error("storage", "index_refresh");
            }
        }
    }
}

async fn forget_idle_buckets(state: SharedState, mut shutdown: watch::Receiver<bool>) {
    let mut every_minute = tokio::time::interval(Duration::from_secs(60));
    loop {
        tokio::select! {
            _ = every_minute.tick() => {
                if let Some(devices) = &state.limiters.devices {
                    devices.forget_idle();
                }
                state.limiters.pairing.forget_idle();
            }
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
    }
}

/// Lets the extension's service worker and options page (a `chrome-extension://` origin)
/// call the API without host permissions. Any origin is fine: requests carry a bearer
/// token, never cookies, so no credentials mode and nothing ambient to steal.
fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::any())
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static(IDEMPOTENCY_KEY_HEADER),
        ])
        // The extension backs off on 429/503 by this header.
        .expose_headers([header::RETRY_AFTER])
        .max_age(Duration::from_secs(3600))
}

pub fn router(state: SharedState) -> Router {
    Router::new()
        .route("/metrics", get(api::ops::metrics))
        .route("/ws/dreamcatcher", get(ws::handler))
        .merge(cors_routes())
        .fallback(api::ops::not_found)
        .method_not_allowed_fallback(api::ops::method_not_allowed)
        .layer(CatchPanicLayer::custom(api::ops::panic_response))
        .layer(middleware::from_fn_with_state(state.clone(), track_request))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// The routes a browser may call cross-origin.
fn cors_routes() -> Router<SharedState> {
    Router::new()
        .route("/health", get(api::ops::health))
        .route("/ready", get(api::ops::ready))
        .route("/api/v1/pair", post(api::pair::pair))
        .route("/api/v1/conversations/capture", post(api::dreams::capture))
        .route("/api/v1/dreams/import", post(api::import::import))
        .route("/api/v1/dreams", get(api::dreams::list))
        .route(
            "/api/v1/dreams/{id}",
            get(api::dreams::get_dream)
                .patch(api::dreams::patch_dream)
                .delete(api::dreams::delete_dream),
        )
        .route(
            "/api/v1/dreams/{id}/implement",
            post(api::implement::implement).get(api::implement::implement),
        )
        .route(
            "/api/v1/dreams/{id}/implementation",
            post(api::implement::report),
        )
        // Before the layer, so that a preflight for a route without OPTIONS reaches it.
        .method_not_allowed_fallback(api::ops::method_not_allowed)
        .layer(cors())
}

/// Times every request (by route template), counts error codes, and bounds how long a
/// request may take.
async fn track_request(
    State(state): State<SharedState>,
    matched: Option<MatchedPath>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = matched
        .as_ref()
        .map_or("unmatched", MatchedPath::as_str)
        .to_string();
    let response = match tokio::time::timeout(state.config.request_timeout, next.run(request)).await
    {
        Ok(response) => response,
        Err(_) => {
            ApiError::unavailable("the request took too long and was abandoned").into_response()
        }
    };
    state.metrics.request(
        method.as_str(),
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
    if let Some(ErrorCode(code)) = response.extensions().get::<ErrorCode>() {
        state.metrics.error("http", code);
    }
    response
}
