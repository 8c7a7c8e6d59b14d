//! Configuration, read once at start-up from the environment (and a `.env`
//! file if present). Every variable is listed here and in the README.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::store::connect::DbSettings;

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

/// Generated development secrets start with this, so production can refuse them.
pub const DEV_SECRET_PREFIX: &str = "dev-";

/// The smallest `JWT_SECRET` production accepts, in bytes.
pub const MIN_SECRET_BYTES: usize = 32;

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
    /// `JWT_SECRET`: the HS256 secret.
    pub jwt_secret: Secret,
    /// `JWT_ISSUER`: the `iss` tokens must carry (default `partner-records`).
    pub jwt_issuer: String,
    /// `JWT_AUDIENCE`: the `aud` tokens must carry (default `partner-records-api`).
    pub jwt_audience: String,
    /// `JWT_LEEWAY_SECS`: clock skew allowed on `exp`/`nbf` (default 5 s, at most 60).
    pub jwt_leeway: Duration,
    /// `REQUEST_TIMEOUT_SECS`: the most a request may take (default 30 s).
    pub request_timeout: Duration,
    /// `BODY_LIMIT_BYTES`: the largest request body (default 1 MB).
    pub body_limit: usize,
    /// `BATCH_WINDOW_MS`: how long batch loaders gather keys before querying (default 2 ms).
    pub batch_window: Duration,
    /// `DEMO_DATA`: load the demo data on first start (default: on in development, never in production).
    pub demo_data: bool,
}

/// A configuration problem, reported before the service starts.
#[derive(Debug)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

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
        let jwt_secret = match (environment, var("JWT_SECRET")) {
            (Environment::Production, None) => {
                return Err(ConfigError("production needs JWT_SECRET (32 bytes or more)".into()));
            }
            (Environment::Production, Some(s)) => {
                check_production_secret(&s, &data_dir)?;
                Secret::new(s)
            }
            (Environment::Development, Some(s)) => Secret::new(s),
            (Environment::Development, None) => Secret::new(development_secret(&data_dir)?),
        };
        let leeway: u64 = parsed("JWT_LEEWAY_SECS", 5)?;
        if leeway > 60 {
            return Err(ConfigError("JWT_LEEWAY_SECS may be at most 60".into()));
        }
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
            jwt_secret,
            jwt_issuer: var("JWT_ISSUER").unwrap_or_else(|| "partner-records".into()),
            jwt_audience: var("JWT_AUDIENCE").unwrap_or_else(|| "partner-records-api".into()),
            jwt_leeway: Duration::from_secs(leeway),
            request_timeout: Duration::from_secs(parsed("REQUEST_TIMEOUT_SECS", 30)?),
            body_limit: parsed("BODY_LIMIT_BYTES", 1_048_576)?,
            batch_window: Duration::from_millis(parsed("BATCH_WINDOW_MS", 2)?),
            demo_data,
        })
    }
}

fn check_production_secret(secret: &str, data_dir: &std::path::Path) -> Result<(), ConfigError> {
    if secret.len() < MIN_SECRET_BYTES {
        return Err(ConfigError(format!("JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes in production")));
    }
    let generated = std::fs::read_to_string(data_dir.join("jwt-secret")).ok();
    if secret.starts_with(DEV_SECRET_PREFIX) || generated.as_deref().map(str::trim) == Some(secret) {
        return Err(ConfigError("JWT_SECRET is a development secret; production refuses it".into()));
    }
    let distinct: std::collections::HashSet<char> = secret.chars().collect();
    if distinct.len() < 8 {
        return Err(ConfigError("JWT_SECRET is too weak (too few distinct characters)".into()));
    }
    Ok(())
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
