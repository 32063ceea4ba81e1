//! What `GET /metrics` reports, in the Prometheus (OpenMetrics) text format.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// The content type of [`Metrics::render`].
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: String,
    /// The matched route template (`/api/v1/dreams/{id}`), never the raw path, so ids do
    /// not each make a series.
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabels {
    pub result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ErrorLabels {
    /// `http`, `websocket`, `storage`, `orchestrator`, `panic`.
    pub source: &'static str,
    pub code: &'static str,
}

fn duration_histogram() -> Histogram {
    // 0.5 ms … ~16 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

pub struct Metrics {
    registry: Registry,
    pub websocket_connections: Gauge,
    pub sync_operations: Family<ResultLabels, Counter>,
    pub events_published: Counter,
    pub request_duration: Family<RequestLabels, Histogram, fn() -> Histogram>,
    pub errors: Family<ErrorLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("dreamcatcher");
        let websocket_connections = Gauge::default();
        registry.register(
            "websocket_connections",
            "Open WebSocket connections",
            websocket_connections.clone(),
        );
        let sync_operations = Family::<ResultLabels, Counter>::default();
        registry.register(
            "sync_operations",
            "Sync operations processed, by result (applied, duplicate, conflict, rejected)",
            sync_operations.clone(),
        );
        let events_published = Counter::default();
        registry.register(
            "events_published",
            "Events appended to users' streams",
            events_published.clone(),
        );
        let request_duration =
            Family::<RequestLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                duration_histogram,
            );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request durations, by method, route and status",
            request_duration.clone(),
        );
        let errors = Family::<ErrorLabels, Counter>::default();
        registry.register(
            "errors",
            "Errors, by where they happened and their code",
            errors.clone(),
        );
        Metrics {
            registry,
            websocket_connections,
            sync_operations,
            events_published,
            request_duration,
            errors,
        }
    }

    pub fn count_outcome(&self, outcome: &dreamcatcher_sync::OperationOutcome) {
        use dreamcatcher_sync::OperationOutcome;
        let result = match outcome {
            OperationOutcome::Applied { .. } => "applied",
            OperationOutcome::Duplicate => "duplicate",
            OperationOutcome::Conflict { .. } => "conflict",
            OperationOutcome::Rejected { .. } => "rejected",
        };
        self.sync_operations
            .get_or_create(&ResultLabels { result })
            .inc();
    }

    pub fn error(&self, source: &'static str, code: &'static str) {
        self.errors
            .get_or_create(&ErrorLabels { source, code })
            .inc();
    }

    pub fn request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        self.request_duration
            .get_or_create(&RequestLabels {
                method: method.to_string(),
                route: route.to_string(),
                status,
            })
            .observe(elapsed.as_secs_f64());
    }

    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}
