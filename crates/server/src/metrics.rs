//! `/metrics` in the Prometheus text format (the `prometheus-client`
//! crate): requests by operation and outcome, latency, in-flight requests,
//! WebSockets and subscriptions, authentication failures and rate-limited
//! requests, counted as they happen; the log's appends, groups and flush
//! time, the projector's position and lag, the response cache, sizes on
//! disk and build info, read at each scrape.
//!
//! Operation names come from clients: a name is a label only if it looks
//! like one (letters, digits, `_`, at most 64) and only the first
//! [`MAX_OPERATIONS`] distinct names get their own series; the rest are
//! `other`, so no client can grow the series without bound.

use crate::cache::ResponseCache;
use chitieu_graphql::App;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::collections::HashSet;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Distinct operation names with series of their own.
pub const MAX_OPERATIONS: usize = 200;

/// A request's operation and how it ended.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The operation name (`anonymous`, `batch`, `other`).
    pub operation: String,
    /// `ok`, or the first error's code.
    pub outcome: String,
}

/// A request's operation.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OperationLabel {
    /// The operation name.
    pub operation: String,
}

/// Set on a response by the handlers: the operation it ran and how it
/// ended, for the metrics layer to count.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The operation name, as a label.
    pub operation: String,
    /// `ok` or an error code.
    pub code: String,
}

/// The server's metrics.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<OperationLabel, Histogram>,
    /// Requests being answered now.
    pub in_flight: Gauge,
    /// Open WebSocket connections.
    pub websockets: Gauge,
    /// Refused tokens.
    pub auth_failures: Counter,
    /// Requests refused for too many failed authentications.
    pub rate_limited: Counter,
    operations: Mutex<HashSet<String>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

/// What is read at each scrape.
struct State {
    app: App,
    cache: Arc<ResponseCache>,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("State")
    }
}

fn counter(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    value: u64,
) -> Result<(), std::fmt::Error> {
    let metric = ConstCounter::new(value);
    metric.encode(encoder.encode_descriptor(name, help, None, metric.metric_type())?)
}

fn gauge(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    value: i64,
) -> Result<(), std::fmt::Error> {
    let metric = ConstGauge::new(value);
    metric.encode(encoder.encode_descriptor(name, help, None, metric.metric_type())?)
}

fn gauge_f(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    value: f64,
) -> Result<(), std::fmt::Error> {
    let metric = ConstGauge::new(value);
    metric.encode(encoder.encode_descriptor(name, help, None, metric.metric_type())?)
}

fn signed(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Collector for State {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let log = self.app.service.log_stats();
        let stats = &log.commits;
        counter(
            &mut encoder,
            "chitieu_log_appends",
            "Appends submitted to the log (accepted, refused or replayed).",
            stats.appends,
        )?;
        counter(
            &mut encoder,
            "chitieu_log_groups",
            "Groups of appends written together.",
            stats.groups,
        )?;
        counter(
            &mut encoder,
            "chitieu_log_flushes",
            "Flushes to disk (embedded log) or commits (PostgreSQL).",
            stats.flushes,
        )?;
        let flush_seconds = ConstCounter::new(stats.flush_micros as f64 / 1e6);
        flush_seconds.encode(encoder.encode_descriptor(
            "chitieu_log_flush_seconds",
            "Time spent making groups durable; divided by chitieu_log_flushes_total, the mean flush latency.",
            None,
            flush_seconds.metric_type(),
        )?)?;
        let head = self.app.service.head().position;
        let projector = self.app.read.projector();
        let projected = projector.position();
        gauge(
            &mut encoder,
            "chitieu_log_head_position",
            "Position of the log's last event.",
            signed(head),
        )?;
        gauge(
            &mut encoder,
            "chitieu_projector_position",
            "Position the read models have reached.",
            signed(projected),
        )?;
        gauge(
            &mut encoder,
            "chitieu_projector_lag_events",
            "Events the read models are behind the log.",
            signed(head.saturating_sub(projected)),
        )?;
        // How long the oldest event not yet projected has waited.
        let lag_seconds = if projected < head {
            self.app
                .service
                .events(projected + 1, 1)
                .ok()
                .and_then(|r| r.into_iter().next())
                .map_or(0.0, |r| {
                    (chrono::Utc::now() - r.recorded_at)
                        .num_milliseconds()
                        .max(0) as f64
                        / 1e3
                })
        } else {
            0.0
        };
        gauge_f(
            &mut encoder,
            "chitieu_projector_lag_seconds",
            "How long the oldest event the read models have not reached has waited.",
            lag_seconds,
        )?;
        gauge(
            &mut encoder,
            "chitieu_projector_failed",
            "1 when a storage fault stopped the projector (see /readyz).",
            i64::from(projector.failure().is_some()),
        )?;
        let counts = &self.cache.counts;
        counter(
            &mut encoder,
            "chitieu_response_cache_hits",
            "Responses served from the response cache.",
            counts.hits.load(Relaxed),
        )?;
        counter(
            &mut encoder,
            "chitieu_response_cache_misses",
            "Cacheable queries the cache could not answer.",
            counts.misses.load(Relaxed),
        )?;
        counter(
            &mut encoder,
            "chitieu_response_cache_evictions",
            "Responses dropped from the cache (the log moved, or it was full).",
            counts.evictions.load(Relaxed),
        )?;
        gauge(
            &mut encoder,
            "chitieu_websocket_subscriptions",
            "Subscriptions running now.",
            chitieu_graphql::subscription::ACTIVE_SUBSCRIPTIONS.load(Relaxed),
        )?;
        if let Some(bytes) = log.size_on_disk {
            gauge(
                &mut encoder,
                "chitieu_log_size_bytes",
                "The log's size on disk (this node's copy, for a shared log).",
                signed(bytes),
            )?;
        }
        if let Ok(bytes) = projector.size_on_disk() {
            gauge(
                &mut encoder,
                "chitieu_read_models_size_bytes",
                "The read models' size on disk.",
                signed(bytes),
            )?;
        }
        let info = ConstGauge::new(1i64);
        let described = log.description.clone();
        let kind = described.split_whitespace().next().unwrap_or("unknown");
        let labels = [("version", env!("CARGO_PKG_VERSION")), ("log", kind)];
        let mut family = encoder.encode_descriptor(
            "chitieu_build_info",
            "The running build.",
            None,
            info.metric_type(),
        )?;
        info.encode(family.encode_family(&labels)?)?;
        Ok(())
    }
}

impl Metrics {
    /// Metrics for a server of `app`, reading `cache` at each scrape.
    pub fn new(app: App, cache: Arc<ResponseCache>) -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "chitieu_graphql_requests",
            "GraphQL requests by operation name and outcome (ok, or the first error's code)",
            requests.clone(),
        );
        let latency = Family::<OperationLabel, Histogram>::new_with_constructor(|| {
            Histogram::new([
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                10.0,
            ])
        });
        registry.register(
            "chitieu_graphql_request_duration_seconds",
            "Time to answer a GraphQL request, by operation name",
            latency.clone(),
        );
        let in_flight = Gauge::default();
        registry.register(
            "chitieu_graphql_in_flight",
            "GraphQL requests being answered now",
            in_flight.clone(),
        );
        let websockets = Gauge::default();
        registry.register(
            "chitieu_websocket_connections",
            "Open WebSocket connections",
            websockets.clone(),
        );
        let auth_failures = Counter::default();
        registry.register(
            "chitieu_auth_failures",
            "Refused tokens (unknown, revoked, expired, malformed)",
            auth_failures.clone(),
        );
        let rate_limited = Counter::default();
        registry.register(
            "chitieu_rate_limited",
            "Requests refused with 429 after too many failed authentications",
            rate_limited.clone(),
        );
        registry.register_collector(Box::new(State { app, cache }));
        Metrics {
            registry,
            requests,
            latency,
            in_flight,
            websockets,
            auth_failures,
            rate_limited,
            operations: Mutex::new(HashSet::new()),
        }
    }

    /// The label for a client's operation name.
    pub fn operation_label(&self, name: Option<&str>) -> String {
        let Some(name) = name.filter(|n| !n.is_empty()) else {
            return "anonymous".into();
        };
        let plausible =
            name.len() <= 64 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !plausible {
            return "other".into();
        }
        let Ok(mut known) = self.operations.lock() else {
            return "other".into();
        };
        if known.contains(name) || known.len() < MAX_OPERATIONS {
            known.insert(name.to_owned());
            name.to_owned()
        } else {
            "other".into()
        }
    }

    /// Counts one answered request.
    pub fn observe(&self, outcome: &Outcome, took: Duration) {
        self.requests
            .get_or_create(&RequestLabels {
                operation: outcome.operation.clone(),
                outcome: outcome.code.clone(),
            })
            .inc();
        self.latency
            .get_or_create(&OperationLabel {
                operation: outcome.operation.clone(),
            })
            .observe(took.as_secs_f64());
    }

    /// The exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}
