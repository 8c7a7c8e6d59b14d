//! The application: shared state, start-up and serving.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::auth::{Issuer, Minter, OrgDirectory, Verifier, issuers};
use crate::config::{Config, Environment};
use crate::domain::access::{READ_SCOPES, Scope};
use crate::governance::documents::TrustedDocuments;
use crate::governance::pii_log::PiiLog;
use crate::graphql::{self, AppSchema, context::Provinces};
use crate::store::{Store, connect, organizations};

/// State shared by every request.
#[derive(Clone)]
pub struct AppState {
    /// The configuration the service started with.
    pub config: Arc<Config>,
    /// The database.
    pub store: Store,
    /// The GraphQL schema (with the store and reference data attached).
    pub schema: AppSchema,
    /// Token verification against the trusted issuers.
    pub verifier: Arc<Verifier>,
    /// Development token minting (absent when issuers come from a file).
    pub minter: Option<Arc<Minter>>,
    /// Organisation codes to ids, cached.
    pub orgs: Arc<OrgDirectory>,
    /// Prometheus metrics.
    pub metrics: Arc<crate::http::metrics::Metrics>,
    /// The playground page, rendered once.
    pub playground: Arc<String>,
    /// Planned reads (and the documents validated for them).
    pub planner: Arc<graphql::plan::Planner>,
    /// Each organisation's trusted documents and mode, in memory.
    pub documents: Arc<TrustedDocuments>,
    /// The personal-data access log's writer.
    pub pii: Arc<PiiLog>,
    /// Exports: settings, the worker's wake-up, metrics.
    pub exports: Arc<crate::exports::Exports>,
}

/// A start-up failure.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StartError(pub String);

impl AppState {
    /// Connects, migrates, optionally loads demo data, and builds the state.
    pub async fn build(config: Config) -> Result<AppState, StartError> {
        let db = connect::connect(&config.database)
            .await
            .map_err(|e| StartError(format!("cannot open the database: {e}")))?;
        connect::migrate(&db).await.map_err(|e| StartError(format!("migrations failed: {e}")))?;
        let store = Store::new(db);
        if config.demo_data {
            match crate::demo::seed(&store.db).await {
                Ok(true) => tracing::info!("loaded the demo data"),
                Ok(false) => {}
                Err(e) => return Err(StartError(format!("loading the demo data failed: {e}"))),
            }
        }
        let provinces = organizations::provinces(&store).await.map_err(|e| StartError(format!("{e:?}")))?;
        let provinces = Arc::new(Provinces { by_code: provinces.into_iter().map(|p| (p.code.clone(), p)).collect() });
        let (verifier, minter) = auth_setup(&config)?;
        let playground = playground_page(&config, minter.as_deref());
        let orgs = Arc::new(OrgDirectory::new(store.clone()));
        let metrics =
            Arc::new(crate::http::metrics::Metrics::new(&store.feed).map_err(|e| StartError(format!("metrics: {e}")))?);
        let documents = Arc::new(TrustedDocuments::new(metrics.untrusted.clone()));
        documents.reload(&store).await.map_err(|e| StartError(format!("loading the trusted documents: {e:?}")))?;
        // The access log writes through a small pool of its own: it never
        // takes a connection a request waits for.
        let pii_store = store
            .background(&config.database)
            .await
            .map_err(|e| StartError(format!("cannot open the database: {e}")))?;
        let pii = PiiLog::start(pii_store);
        let exports = crate::exports::Exports::new(config.exports, metrics.exports.clone());
        Ok(AppState {
            schema: graphql::build(
                store.clone(),
                provinces,
                orgs.clone(),
                graphql::Services {
                    webhooks: Arc::new(config.webhooks.clone()),
                    live: graphql::live::Registry::new(config.subscriptions.per_org, config.subscriptions.event_cost),
                    limits: Arc::new(config.limits),
                    governance: crate::governance::Governance { documents: documents.clone(), pii: pii.clone() },
                    exports: exports.clone(),
                },
            ),
            exports,
            documents,
            pii,
            orgs,
            config: Arc::new(config),
            store,
            verifier,
            minter,
            metrics,
            playground: Arc::new(playground),
            planner: Arc::new(graphql::plan::Planner::new()),
        })
    }
}

/// The verifier of the trusted issuers, and the development minter when the
/// development issuer is the one trusted.
pub fn auth_setup(config: &Config) -> Result<(Arc<Verifier>, Option<Arc<Minter>>), StartError> {
    let production = config.environment == Environment::Production;
    if let Some(path) = &config.trusted_issuers_file {
        let issuers = issuers::load(path, !production).map_err(|e| StartError(e.to_string()))?;
        return Ok((Arc::new(Verifier::new(issuers, config.jwt_leeway)), None));
    }
    let Some(secret) = config.jwt_secret.as_ref().filter(|_| !production) else {
        return Err(StartError("no trusted issuers: set TRUSTED_ISSUERS_FILE".into()));
    };
    let issuer = Issuer::development(&config.jwt_issuer, &config.jwt_audience, secret.expose());
    Ok((
        Arc::new(Verifier::new(vec![issuer], config.jwt_leeway)),
        Some(Arc::new(Minter::new(secret, &config.jwt_issuer, &config.jwt_audience))),
    ))
}

/// The playground page; in development its headers editor starts with a
/// read-only demo token.
fn playground_page(config: &Config, minter: Option<&Minter>) -> String {
    if !crate::http::playground::BUNDLED {
        tracing::warn!("the GraphiQL playground was built without npm: it loads its assets from a CDN");
    }
    let mut headers = None;
    if config.environment == Environment::Development
        && let Some(minter) = minter
    {
        let ttl = std::time::Duration::from_secs(30 * 24 * 3600);
        if let Ok(token) = minter.mint("FOUNDATION", &READ_SCOPES, ttl, "playground-demo") {
            headers = Some(
                serde_json::to_string_pretty(&serde_json::json!({ "Authorization": format!("Bearer {token}") }))
                    .unwrap_or_default(),
            );
        }
    }
    crate::http::playground::page(headers.as_deref())
}

/// A bound, ready-to-serve application.
pub struct Application {
    listener: TcpListener,
    state: AppState,
}

impl Application {
    /// Builds the state and binds `config.bind_addr` (port 0 picks a free port).
    pub async fn build(config: Config) -> Result<Application, StartError> {
        let bind = config.bind_addr;
        let state = AppState::build(config).await?;
        let listener =
            TcpListener::bind(bind).await.map_err(|e| StartError(format!("cannot listen on {bind}: {e}")))?;
        Ok(Application { listener, state })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// The shared state (tests mint tokens with it).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until SIGINT or SIGTERM, letting in-flight requests finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        spawn_housekeeping(
            self.state.store.clone(),
            self.state.config.webhooks.log_retention,
            self.state.config.governance,
        );
        spawn_background(&self.state).await?;
        let pii = self.state.pii.clone();
        let router = crate::http::router::router(self.state);
        let served = axum::serve(self.listener, router).with_graceful_shutdown(shutdown_signal()).await;
        // The reads answered before shutdown are in the access log.
        pii.flush().await;
        served
    }

    /// Serves until `stop` resolves (tests).
    pub async fn run_until(self, stop: impl std::future::Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        spawn_background(&self.state).await?;
        let router = crate::http::router::router(self.state);
        axum::serve(self.listener, router).with_graceful_shutdown(stop).await
    }
}

/// The work a serving process does besides answering requests: moving the
/// change feed, and delivering webhooks (unless `WEBHOOK_DELIVERY=false`).
async fn spawn_background(state: &AppState) -> std::io::Result<()> {
    let store = state.store.background(&state.config.database).await.map_err(std::io::Error::other)?;
    state.documents.clone().spawn_refresh(store.clone());
    crate::feed::tasks::spawn(store.clone(), state.config.database.clone());
    // Exports: this replica's worker (runs queued exports) and janitor.
    crate::exports::spawn(crate::exports::Context {
        schema: state.schema.clone(),
        store: state.store.background(&state.config.database).await.map_err(std::io::Error::other)?,
        database: state.config.database.clone(),
        batch_window: state.config.batch_window,
        orgs: state.orgs.clone(),
        pii: state.pii.clone(),
        exports: state.exports.clone(),
    });
    if state.config.webhooks.deliver {
        let settings = Arc::new(state.config.webhooks.clone());
        match crate::webhooks::dispatcher::Dispatcher::new(store, state.schema.clone(), state.orgs.clone(), settings) {
            Ok(dispatcher) => {
                tokio::spawn(dispatcher.run());
            }
            Err(e) => tracing::error!("webhook delivery is off: {e}"),
        }
    }
    Ok(())
}

/// Deletes idempotency keys, webhook delivery-log entries and personal-data
/// access-log entries past their retention, hourly (the access log's purges
/// are recorded in `audit_purges`).
fn spawn_housekeeping(
    store: crate::store::Store,
    webhook_log_retention: std::time::Duration,
    governance: crate::config::GovernanceSettings,
) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            every.tick().await;
            match crate::store::idempotency::purge_expired(&store).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(deleted = n, "purged expired idempotency keys"),
                Err(e) => tracing::warn!(code = e.code(), "purging idempotency keys failed"),
            }
            match crate::store::webhooks::purge_log(&store, webhook_log_retention).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(deleted = n, "purged expired webhook delivery-log entries"),
                Err(e) => tracing::warn!(code = e.code(), "purging the webhook delivery log failed"),
            }
            match crate::store::pii_log::purge(&store, governance.pii_log_retention).await {
                Ok(None) => {}
                Ok(Some(purge)) => tracing::info!(
                    deleted = purge.deleted, cutoff = %purge.cutoff, "purged personal-data access-log entries past their retention"
                ),
                Err(e) => tracing::warn!(code = e.code(), "purging the personal-data access log failed"),
            }
        }
    });
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

/// Prints a ready-to-paste demo token for each partner (development only).
pub fn demo_tokens(state: &AppState) -> Vec<(String, String)> {
    let Some(minter) = &state.minter else {
        return Vec::new();
    };
    let ttl = std::time::Duration::from_secs(24 * 3600);
    ["FOUNDATION", "CDD", "GSB", "VILLAGE_FUND"]
        .into_iter()
        .filter_map(|org| {
            let scopes: Vec<Scope> =
                Scope::ALL.into_iter().filter(|s| org == "CDD" || *s != Scope::CommunitiesClassify).collect();
            minter.mint(org, &scopes, ttl, &format!("demo-{}", org.to_lowercase())).ok().map(|t| (org.to_owned(), t))
        })
        .collect()
}
