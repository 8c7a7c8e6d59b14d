//! Prometheus metrics at `/metrics`: requests by operation, organisation
//! and outcome, latency histograms, database pool use and SQL statements.
//!
//! Label values are bounded: operation names are cut to 64 characters of
//! `[A-Za-z0-9_]` (else `other`), organisations are partner codes, and the
//! outcome is `ok` or an error code.

use std::time::Duration;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder};

use crate::app::AppState;

/// The service's metrics.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool_size: IntGauge,
    pool_idle: IntGauge,
    statements: IntGauge,
    /// Operations an organisation ran (mode `LOG`) or was refused (mode
    /// `ENFORCE`) without having registered them.
    pub untrusted: IntCounterVec,
    /// Exports started, completed, failed and canceled.
    pub exports: IntCounterVec,
}

impl Metrics {
    /// Registers every metric.
    pub fn new(feed: &crate::feed::Signals) -> Result<Metrics, prometheus::Error> {
        let registry = Registry::new();
        registry.register(Box::new(feed.delay.clone()))?;
        registry.register(Box::new(feed.leader.clone()))?;
        let requests = IntCounterVec::new(
            Opts::new("graphql_requests_total", "GraphQL requests by operation name, organisation and outcome"),
            &["operation", "org", "outcome"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new("graphql_request_duration_seconds", "GraphQL request latency by operation name")
                .buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
            &["operation"],
        )?;
        let pool_size = IntGauge::new("db_pool_connections", "Open database connections in the pool")?;
        let pool_idle = IntGauge::new("db_pool_idle_connections", "Idle database connections in the pool")?;
        let statements = IntGauge::new("db_statements_total", "SQL statements run by this process")?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(pool_size.clone()))?;
        registry.register(Box::new(pool_idle.clone()))?;
        registry.register(Box::new(statements.clone()))?;
        let untrusted = IntCounterVec::new(
            Opts::new(
                "graphql_untrusted_operations_total",
                "Operations an organisation sent without having registered them, by organisation, operation name and mode",
            ),
            &["org", "operation", "mode"],
        )?;
        registry.register(Box::new(untrusted.clone()))?;
        let exports = IntCounterVec::new(
            Opts::new("exports_total", "Exports by event: started, completed, failed, canceled"),
            &["event"],
        )?;
        registry.register(Box::new(exports.clone()))?;
        Ok(Metrics { registry, requests, latency, pool_size, pool_idle, statements, untrusted, exports })
    }

    /// Records one GraphQL request.
    pub fn observe(&self, operation: Option<&str>, org: &str, outcome: &str, took: Duration) {
        let operation = label(operation);
        self.requests.with_label_values(&[operation.as_str(), org, outcome]).inc();
        self.latency.with_label_values(&[operation.as_str()]).observe(took.as_secs_f64());
    }
}

/// A bounded label for a client-chosen operation name.
pub(crate) fn label(operation: Option<&str>) -> String {
    match operation {
        None => "anonymous".to_owned(),
        Some(name) if name.len() <= 64 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {
            name.to_owned()
        }
        Some(_) => "other".to_owned(),
    }
}

/// GET /metrics, in the Prometheus text format.
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let m = &state.metrics;
    // The pool getters panic on the other engine: ask by backend.
    let (size, idle) = match state.store.backend() {
        sea_orm::DbBackend::Postgres => {
            let pool = state.store.db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => {
            let pool = state.store.db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
    };
    m.pool_size.set(i64::from(size));
    m.pool_idle.set(idle as i64);
    m.statements.set(state.store.statements.load(std::sync::atomic::Ordering::Relaxed) as i64);
    let mut body = Vec::new();
    let _ = TextEncoder::new().encode(&m.registry.gather(), &mut body);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}
