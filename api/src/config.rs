//! Configuration, read once at start-up from the environment (and a `.env`
//! file if present). Every variable is listed here and in the README.
//!
//! This module depends on nothing else in the crate: the settings it reads
//! (the database's, the query limits and the budget) are defined here, and
//! the modules that use them re-export them.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Whether the service runs for development or production.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Environment {
    /// Generated secret, demo data, demo tokens printed.
    Development,
    /// No demo data; a strong `JWT_SECRET` is required.
    Production,
}

/// A secret that is never printed by `Debug`.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    /// The secret's bytes, for signing and verifying.
    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Generated development secrets start with this, so they are easy to recognise.
pub const DEV_SECRET_PREFIX: &str = "dev-";

/// Everything the service needs to start.
#[derive(Clone, Debug)]
pub struct Config {
    /// `APP_ENV`: `development` (default) or `production`.
    pub environment: Environment,
    /// `BIND_ADDR`: where to listen (default `127.0.0.1:8000`; port 0 picks one).
    pub bind_addr: SocketAddr,
    /// Database settings (`DATABASE_URL`, `DB_MAX_CONNECTIONS`,
    /// `DB_ACQUIRE_TIMEOUT_MS`, `DB_STATEMENT_TIMEOUT_MS`).
    pub database: DbSettings,
    /// `DATA_DIR`: where the default SQLite file and the development secret live (default `./data`).
    pub data_dir: PathBuf,
    /// `TRUSTED_ISSUERS_FILE`: the TOML file of trusted issuers (required in
    /// production). Without it, development trusts only its own HS256 issuer.
    pub trusted_issuers_file: Option<PathBuf>,
    /// `JWT_SECRET`: the development issuer's HS256 secret (generated under
    /// `DATA_DIR` if unset). `None` in production, which refuses HS256.
    pub jwt_secret: Option<Secret>,
    /// `JWT_ISSUER`: the development issuer's `iss` (default `partner-records`).
    pub jwt_issuer: String,
    /// `JWT_AUDIENCE`: the development issuer's `aud` (default `partner-records-api`).
    pub jwt_audience: String,
    /// `JWT_LEEWAY_SECS`: clock skew allowed on `exp`/`nbf` for every issuer (default 5 s, at most 30).
    pub jwt_leeway: Duration,
    /// `REQUEST_TIMEOUT_SECS`: the most a request may take (default 30 s).
    pub request_timeout: Duration,
    /// `BODY_LIMIT_BYTES`: the largest request body (default 1 MB).
    pub body_limit: usize,
    /// `BATCH_WINDOW_MS`: how long batch loaders gather keys before querying (default 2 ms).
    pub batch_window: Duration,
    /// Query limits and the per-organisation cost budget (`LIMIT_DEPTH`,
    /// `LIMIT_COMPLEXITY`, `LIMIT_ALIASES`, `LIMIT_ROOT_FIELDS`, `COST_BUDGET`,
    /// `COST_REFILL_PER_SEC`).
    pub limits: Limits,
    /// `LIMIT_BATCH`: the most operations in one batched request (default 10).
    pub batch_limit: usize,
    /// `CORS_ALLOWED_ORIGINS`: comma-separated origins whose browser apps may
    /// call the API (default: none; same-origin only).
    pub cors_origins: Vec<String>,
    /// `DEMO_DATA`: load the demo data on first start (default: on in development, never in production).
    pub demo_data: bool,
    /// Webhook delivery.
    pub webhooks: WebhookSettings,
    /// Live subscriptions over WebSocket.
    pub subscriptions: SubscriptionSettings,
    /// Governance: how long the personal-data access log is kept.
    pub governance: GovernanceSettings,
    /// Exports: how long results are kept, and how large they may grow.
    pub exports: ExportSettings,
}

/// Exports (`startExport`): their limits and how long results are kept.
#[derive(Copy, Clone, Debug)]
pub struct ExportSettings {
    /// How long a completed export can be downloaded (`EXPORT_TTL_HOURS`,
    /// default 168: 7 days); then its data is removed and it is `EXPIRED`.
    pub ttl: Duration,
    /// The largest export in bytes (`EXPORT_MAX_BYTES`, default 512 MiB);
    /// past it the export fails with `EXPORT_TOO_LARGE`.
    pub max_bytes: u64,
    /// The most objects (lines) in one export (`EXPORT_MAX_OBJECTS`,
    /// default 5,000,000); past it the export fails with `EXPORT_TOO_LARGE`.
    pub max_objects: u64,
    /// How many exports one replica runs at a time (`EXPORT_MAX_CONCURRENT`,
    /// default 2); more wait, queued, for a free runner on any replica. 0:
    /// this replica runs none (others run what it accepts).
    pub max_concurrent: usize,
    /// An export whose runner has not reported (it does after every page)
    /// for this long is failed as `INTERRUPTED` by any replica's janitor
    /// (`EXPORT_STALE_SECS`, default 120).
    pub stale_after: Duration,
}

impl Default for ExportSettings {
    fn default() -> Self {
        ExportSettings {
            ttl: Duration::from_secs(7 * 24 * 3600),
            max_bytes: 512 * 1024 * 1024,
            max_objects: 5_000_000,
            max_concurrent: 2,
            stale_after: Duration::from_secs(120),
        }
    }
}

/// How long governance records are kept.
#[derive(Copy, Clone, Debug)]
pub struct GovernanceSettings {
    /// How long entries of the personal-data access log are kept
    /// (`PII_LOG_RETENTION_DAYS`, default 400: a year and the month a
    /// partner's yearly audit takes); older ones are purged hourly.
    pub pii_log_retention: Duration,
}

impl Default for GovernanceSettings {
    fn default() -> Self {
        GovernanceSettings { pii_log_retention: Duration::from_secs(400 * 24 * 3600) }
    }
}

/// How webhooks are delivered.
#[derive(Clone, Debug)]
pub struct WebhookSettings {
    /// Whether this process delivers (`WEBHOOK_DELIVERY`); replicas that
    /// deliver share the work through leases in the database.
    pub deliver: bool,
    /// Allow `http://` and loopback URLs (`WEBHOOK_ALLOW_LOOPBACK_URLS`;
    /// development and tests only, refused in production).
    pub allow_loopback: bool,
    /// Connect timeout of one delivery (`WEBHOOK_CONNECT_TIMEOUT_MS`).
    pub connect_timeout: Duration,
    /// Total timeout of one delivery (`WEBHOOK_TIMEOUT_MS`).
    pub timeout: Duration,
    /// Most deliveries in flight in this process (`WEBHOOK_MAX_CONCURRENT`).
    pub max_concurrent: usize,
    /// First retry delay (`WEBHOOK_RETRY_BASE_MS`); it doubles per attempt, with jitter.
    pub retry_base: Duration,
    /// Longest retry delay (`WEBHOOK_RETRY_MAX_MS`).
    pub retry_max: Duration,
    /// How long an event is retried before the subscription is paused as
    /// failing (`WEBHOOK_RETRY_HORIZON_SECS`, default 3 days).
    pub horizon: Duration,
    /// How long a replica holds a subscription's lease (`WEBHOOK_LEASE_SECS`).
    pub lease: Duration,
    /// How long delivery attempts are kept in the log (`WEBHOOK_LOG_RETENTION_DAYS`).
    pub log_retention: Duration,
    /// How long a rotated secret keeps signing by default (`WEBHOOK_SECRET_OVERLAP_SECS`).
    pub secret_overlap: Duration,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            deliver: true,
            allow_loopback: false,
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(15),
            max_concurrent: 16,
            retry_base: Duration::from_secs(5),
            retry_max: Duration::from_secs(3600),
            horizon: Duration::from_secs(3 * 24 * 3600),
            lease: Duration::from_secs(60),
            log_retention: Duration::from_secs(30 * 24 * 3600),
            secret_overlap: Duration::from_secs(24 * 3600),
        }
    }
}

/// Limits of live subscriptions.
#[derive(Clone, Debug)]
pub struct SubscriptionSettings {
    /// Most open subscriptions per organisation in this process (`SUBSCRIPTIONS_PER_ORG`).
    pub per_org: usize,
    /// Budget points one delivered event costs (`SUBSCRIPTION_EVENT_COST`).
    pub event_cost: f64,
}

impl Default for SubscriptionSettings {
    fn default() -> Self {
        SubscriptionSettings { per_org: 10, event_cost: 1.0 }
    }
}

/// How to reach the database.
#[derive(Clone, Debug)]
pub struct DbSettings {
    /// `sqlite://path?mode=rwc` or `postgres://...`.
    pub url: String,
    /// Most pooled connections.
    pub max_connections: u32,
    /// How long a request waits for a pooled connection before failing.
    pub acquire_timeout: Duration,
    /// PostgreSQL `statement_timeout`, so a slow query cannot hold a connection forever.
    pub statement_timeout: Duration,
    /// PostgreSQL schema to use (tests give each test its own).
    pub schema: Option<String>,
}

/// The limits, from configuration.
#[derive(Copy, Clone, Debug)]
pub struct Limits {
    /// Deepest field nesting (`LIMIT_DEPTH`).
    pub depth: usize,
    /// Highest estimated cost (`LIMIT_COMPLEXITY`).
    pub complexity: usize,
    /// Most aliased fields (`LIMIT_ALIASES`).
    pub aliases: usize,
    /// Most root fields (`LIMIT_ROOT_FIELDS`).
    pub root_fields: usize,
    /// The per-organisation budget (`COST_BUDGET`, `COST_REFILL_PER_SEC`); `None` turns it off.
    pub budget: Option<Budget>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            depth: 12,
            complexity: 5_000,
            aliases: 30,
            root_fields: 20,
            budget: Some(Budget { capacity: 100_000.0, refill_per_sec: 2_000.0 }),
        }
    }
}

/// A budget's shape.
#[derive(Copy, Clone, Debug)]
pub struct Budget {
    /// The most points an organisation can hold (and spend in a burst).
    pub capacity: f64,
    /// Points restored per second.
    pub refill_per_sec: f64,
}

/// A configuration problem, reported before the service starts.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn parsed<T: std::str::FromStr>(name: &str, default: T) -> Result<T, ConfigError> {
    match var(name) {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|_| ConfigError(format!("{name}={v} is not valid"))),
    }
}

impl Config {
    /// Reads the configuration from the environment (after loading `.env`).
    pub fn from_env() -> Result<Config, ConfigError> {
        let _ = dotenvy::dotenv();
        let environment = match var("APP_ENV").as_deref().map(str::to_lowercase).as_deref() {
            None | Some("development") | Some("dev") => Environment::Development,
            Some("production") | Some("prod") => Environment::Production,
            Some(other) => return Err(ConfigError(format!("APP_ENV={other}: use development or production"))),
        };
        let data_dir = PathBuf::from(var("DATA_DIR").unwrap_or_else(|| "data".into()));
        let url = match var("DATABASE_URL") {
            Some(url) => url,
            None => {
                std::fs::create_dir_all(&data_dir)
                    .map_err(|e| ConfigError(format!("cannot create {}: {e}", data_dir.display())))?;
                format!("sqlite://{}?mode=rwc", data_dir.join("records.db").display())
            }
        };
        let trusted_issuers_file = var("TRUSTED_ISSUERS_FILE").map(PathBuf::from);
        let jwt_secret = match environment {
            Environment::Production => {
                if trusted_issuers_file.is_none() {
                    return Err(ConfigError(
                        "production needs TRUSTED_ISSUERS_FILE (RS256, ES256 or EdDSA keys)".into(),
                    ));
                }
                if var("JWT_SECRET").is_some() {
                    return Err(ConfigError("JWT_SECRET is set, but production refuses HS256: remove it".into()));
                }
                None
            }
            Environment::Development if trusted_issuers_file.is_some() => var("JWT_SECRET").map(Secret::new),
            Environment::Development => {
                Some(Secret::new(var("JWT_SECRET").map_or_else(|| development_secret(&data_dir), Ok)?))
            }
        };
        let leeway: u64 = parsed("JWT_LEEWAY_SECS", 5)?;
        if leeway > 30 {
            return Err(ConfigError("JWT_LEEWAY_SECS may be at most 30".into()));
        }
        let webhooks = webhook_settings(environment)?;
        let subscriptions = SubscriptionSettings {
            per_org: parsed("SUBSCRIPTIONS_PER_ORG", SubscriptionSettings::default().per_org)?,
            event_cost: parsed("SUBSCRIPTION_EVENT_COST", SubscriptionSettings::default().event_cost)?,
        };
        let demo_default = environment == Environment::Development;
        let demo_data = parsed("DEMO_DATA", demo_default)? && environment == Environment::Development;
        Ok(Config {
            environment,
            bind_addr: parsed("BIND_ADDR", SocketAddr::from(([127, 0, 0, 1], 8000)))?,
            database: DbSettings {
                max_connections: parsed("DB_MAX_CONNECTIONS", if url.starts_with("sqlite:") { 4 } else { 10 })?,
                acquire_timeout: Duration::from_millis(parsed("DB_ACQUIRE_TIMEOUT_MS", 3000)?),
                statement_timeout: Duration::from_millis(parsed("DB_STATEMENT_TIMEOUT_MS", 10_000)?),
                schema: var("DATABASE_SCHEMA"),
                url,
            },
            data_dir,
            trusted_issuers_file,
            jwt_secret,
            jwt_issuer: var("JWT_ISSUER").unwrap_or_else(|| "partner-records".into()),
            jwt_audience: var("JWT_AUDIENCE").unwrap_or_else(|| "partner-records-api".into()),
            jwt_leeway: Duration::from_secs(leeway),
            request_timeout: Duration::from_secs(parsed("REQUEST_TIMEOUT_SECS", 30)?),
            body_limit: parsed("BODY_LIMIT_BYTES", 1_048_576)?,
            batch_window: Duration::from_millis(parsed("BATCH_WINDOW_MS", 2)?),
            limits: limits()?,
            batch_limit: parsed("LIMIT_BATCH", 10)?,
            cors_origins: var("CORS_ALLOWED_ORIGINS")
                .map(|v| v.split(',').map(|o| o.trim().to_owned()).filter(|o| !o.is_empty()).collect())
                .unwrap_or_default(),
            demo_data,
            webhooks,
            subscriptions,
            governance: GovernanceSettings {
                pii_log_retention: Duration::from_secs(parsed("PII_LOG_RETENTION_DAYS", 400u64)?.max(1) * 24 * 3600),
            },
            exports: export_settings()?,
        })
    }
}

fn webhook_settings(environment: Environment) -> Result<WebhookSettings, ConfigError> {
    let d = WebhookSettings::default();
    let ms = |name: &str, default: Duration| -> Result<Duration, ConfigError> {
        Ok(Duration::from_millis(parsed(name, default.as_millis() as u64)?))
    };
    let secs = |name: &str, default: Duration| -> Result<Duration, ConfigError> {
        Ok(Duration::from_secs(parsed(name, default.as_secs())?))
    };
    let settings = WebhookSettings {
        deliver: parsed("WEBHOOK_DELIVERY", d.deliver)?,
        allow_loopback: parsed("WEBHOOK_ALLOW_LOOPBACK_URLS", d.allow_loopback)?,
        connect_timeout: ms("WEBHOOK_CONNECT_TIMEOUT_MS", d.connect_timeout)?,
        timeout: ms("WEBHOOK_TIMEOUT_MS", d.timeout)?,
        max_concurrent: parsed("WEBHOOK_MAX_CONCURRENT", d.max_concurrent)?,
        retry_base: ms("WEBHOOK_RETRY_BASE_MS", d.retry_base)?,
        retry_max: ms("WEBHOOK_RETRY_MAX_MS", d.retry_max)?,
        horizon: secs("WEBHOOK_RETRY_HORIZON_SECS", d.horizon)?,
        lease: secs("WEBHOOK_LEASE_SECS", d.lease)?,
        log_retention: Duration::from_secs(parsed("WEBHOOK_LOG_RETENTION_DAYS", 30u64)? * 24 * 3600),
        secret_overlap: secs("WEBHOOK_SECRET_OVERLAP_SECS", d.secret_overlap)?,
    };
    if settings.allow_loopback && environment == Environment::Production {
        return Err(ConfigError(
            "WEBHOOK_ALLOW_LOOPBACK_URLS is for development and tests: production refuses it".into(),
        ));
    }
    if settings.max_concurrent == 0 || settings.timeout < settings.connect_timeout || settings.lease <= settings.timeout
    {
        return Err(ConfigError(
            "webhooks: WEBHOOK_MAX_CONCURRENT must be positive, WEBHOOK_TIMEOUT_MS at least the connect timeout, \
             and WEBHOOK_LEASE_SECS longer than WEBHOOK_TIMEOUT_MS"
                .into(),
        ));
    }
    Ok(settings)
}

fn export_settings() -> Result<ExportSettings, ConfigError> {
    let d = ExportSettings::default();
    let settings = ExportSettings {
        ttl: Duration::from_secs(parsed("EXPORT_TTL_HOURS", d.ttl.as_secs() / 3600)? * 3600),
        max_bytes: parsed("EXPORT_MAX_BYTES", d.max_bytes)?,
        max_objects: parsed("EXPORT_MAX_OBJECTS", d.max_objects)?,
        max_concurrent: parsed("EXPORT_MAX_CONCURRENT", d.max_concurrent)?,
        stale_after: Duration::from_secs(parsed("EXPORT_STALE_SECS", d.stale_after.as_secs())?),
    };
    // EXPORT_MAX_CONCURRENT may be 0: a replica that runs no exports (the
    // others run what it accepts).
    if settings.ttl.is_zero() || settings.max_bytes == 0 || settings.stale_after.is_zero() {
        return Err(ConfigError("EXPORT_TTL_HOURS, EXPORT_MAX_BYTES and EXPORT_STALE_SECS must be positive".into()));
    }
    Ok(settings)
}

fn limits() -> Result<Limits, ConfigError> {
    let d = Limits::default();
    let default_budget = d.budget.unwrap_or(Budget { capacity: 0.0, refill_per_sec: 0.0 });
    let capacity: f64 = parsed("COST_BUDGET", default_budget.capacity)?;
    let refill: f64 = parsed("COST_REFILL_PER_SEC", default_budget.refill_per_sec)?;
    let limits = Limits {
        depth: parsed("LIMIT_DEPTH", d.depth)?,
        complexity: parsed("LIMIT_COMPLEXITY", d.complexity)?,
        aliases: parsed("LIMIT_ALIASES", d.aliases)?,
        root_fields: parsed("LIMIT_ROOT_FIELDS", d.root_fields)?,
        budget: (capacity > 0.0).then_some(Budget { capacity, refill_per_sec: refill }),
    };
    if limits.budget.is_some_and(|b| b.capacity < limits.complexity as f64 || b.refill_per_sec <= 0.0) {
        return Err(ConfigError(
            "COST_BUDGET must be at least LIMIT_COMPLEXITY, and COST_REFILL_PER_SEC positive".into(),
        ));
    }
    Ok(limits)
}

/// The development secret kept under the data folder, generated once.
fn development_secret(data_dir: &std::path::Path) -> Result<String, ConfigError> {
    let path = data_dir.join("jwt-secret");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        return Ok(existing.trim().to_owned());
    }
    std::fs::create_dir_all(data_dir).map_err(|e| ConfigError(format!("cannot create {}: {e}", data_dir.display())))?;
    let bytes: [u8; 32] = rand::random();
    let secret = format!("{DEV_SECRET_PREFIX}{}", hex::encode(bytes));
    std::fs::write(&path, &secret).map_err(|e| ConfigError(format!("cannot write {}: {e}", path.display())))?;
    Ok(secret)
}
