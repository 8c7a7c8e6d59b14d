//! Test support: start the real service on a free port, on a fresh SQLite
//! file or a fresh PostgreSQL schema, and talk to it over HTTP with real
//! HS256 tokens.

pub mod process;
pub mod receiver;

use std::time::Duration;

use api::app::Application;
use api::auth::Minter;
use api::config::{Config, Environment, Secret};
use api::domain::access::Scope;
use api::store::connect::DbSettings;
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};

/// The database engine a test runs on.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The secret the test service verifies with.
pub const SECRET: &str = "test-secret-0123456789abcdef-0123456789abcdef";
/// The issuer the test service trusts.
pub const ISSUER: &str = "test-issuer";
/// The audience the test service accepts.
pub const AUDIENCE: &str = "partner-records-api";

/// Every scope's name.
pub fn all_scopes() -> Vec<&'static str> {
    Scope::ALL.iter().map(|s| s.as_str()).collect()
}

/// The PostgreSQL server the tests use.
pub fn postgres_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// Creates a fresh PostgreSQL schema and returns its name, or `None` when
/// PostgreSQL is unreachable outside CI (with CI=true that is a failure).
pub async fn postgres_schema() -> Option<String> {
    let url = postgres_url();
    let admin = match Database::connect(&url).await {
        Ok(admin) => admin,
        Err(e) => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("PostgreSQL is required when CI=true but {url} is unreachable: {e}");
            }
            eprintln!("skipping a PostgreSQL test: {url} is unreachable ({e})");
            return None;
        }
    };
    let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
    admin.execute_unprepared(&format!("CREATE SCHEMA {schema}")).await.expect("create schema");
    admin.close().await.ok();
    Some(schema)
}

/// A token for `org` with `scopes`, signed for the test issuer.
pub fn token_for(org: &str, scopes: &[&str]) -> String {
    let scopes: Vec<Scope> = scopes.iter().filter_map(|s| Scope::parse(s)).collect();
    Minter::new(&Secret::new(SECRET), ISSUER, AUDIENCE)
        .mint(org, &scopes, Duration::from_secs(3600), &format!("test-{}", org.to_lowercase()))
        .expect("mint")
}

/// Like [`token_for`], valid for `ttl` only.
pub fn token_with_ttl(org: &str, scopes: &[&str], ttl: Duration) -> String {
    let scopes: Vec<Scope> = scopes.iter().filter_map(|s| Scope::parse(s)).collect();
    Minter::new(&Secret::new(SECRET), ISSUER, AUDIENCE)
        .mint(org, &scopes, ttl, &format!("test-{}", org.to_lowercase()))
        .expect("mint")
}

/// A running service.
pub struct TestApp {
    /// Base URL, e.g. http://127.0.0.1:41234.
    pub base: String,
    /// The HTTP client.
    pub client: reqwest::Client,
    /// The engine.
    pub backend: Backend,
    /// The database URL and schema, for direct SQL checks.
    pub db: DbSettings,
    tokens: Minter,
    statements: std::sync::Arc<std::sync::atomic::AtomicU64>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl TestApp {
    /// Starts the service with demo data on `backend`. `None` when PostgreSQL
    /// is unreachable outside CI (with CI=true that is a failure).
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        TestApp::spawn_with(backend, |_| {}).await
    }

    /// Like [`TestApp::spawn`], with a change to the configuration.
    pub async fn spawn_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> Option<TestApp> {
        let db = match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join("partner-records-tests");
                std::fs::create_dir_all(&dir).ok()?;
                let file = dir.join(format!("{}.db", uuid::Uuid::new_v4()));
                settings(format!("sqlite://{}?mode=rwc", file.display()), None)
            }
            Backend::Postgres => settings(postgres_url(), Some(postgres_schema().await?)),
        };
        let mut config = Config {
            environment: Environment::Development,
            bind_addr: "127.0.0.1:0".parse().expect("addr"),
            database: db.clone(),
            data_dir: std::env::temp_dir().join("partner-records-tests"),
            trusted_issuers_file: None,
            jwt_secret: Some(Secret::new(SECRET)),
            jwt_issuer: ISSUER.into(),
            jwt_audience: AUDIENCE.into(),
            jwt_leeway: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            body_limit: 1_048_576,
            batch_window: Duration::from_millis(2),
            limits: api::graphql::limits::Limits::default(),
            batch_limit: 10,
            cors_origins: vec!["https://app.partner.example".into()],
            demo_data: true,
            webhooks: api::config::WebhookSettings {
                allow_loopback: true,
                connect_timeout: Duration::from_millis(500),
                timeout: Duration::from_secs(2),
                retry_base: Duration::from_millis(100),
                retry_max: Duration::from_secs(1),
                lease: Duration::from_secs(10),
                ..Default::default()
            },
            subscriptions: api::config::SubscriptionSettings::default(),
            governance: api::config::GovernanceSettings::default(),
            exports: api::config::ExportSettings::default(),
        };
        adjust(&mut config);
        let app = Application::build(config).await.expect("the service starts");
        let base = format!("http://{}", app.local_addr());
        let statements = app.state().store.statements.clone();
        let tokens = Minter::new(&Secret::new(SECRET), ISSUER, AUDIENCE);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(app.run_until(async move {
            let _ = rx.await;
        }));
        Some(TestApp { base, client: reqwest::Client::new(), backend, db, tokens, statements, stop: Some(tx) })
    }

    /// A token for `org` with `scopes`.
    pub fn token(&self, org: &str, scopes: &[&str]) -> String {
        let scopes: Vec<Scope> = scopes.iter().filter_map(|s| Scope::parse(s)).collect();
        self.tokens.mint(org, &scopes, Duration::from_secs(600), &format!("test-{}", org.to_lowercase())).expect("mint")
    }

    /// How many SQL statements the service has run so far.
    pub fn statements(&self) -> u64 {
        self.statements.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// A token for `org` with every scope.
    pub fn full(&self, org: &str) -> String {
        self.token(org, &all_scopes())
    }

    /// POSTs a GraphQL request; returns the HTTP status and the JSON body.
    pub async fn post(&self, token: Option<&str>, query: &str, variables: Value) -> (u16, Value) {
        let mut request = self.client.post(format!("{}/graphql", self.base)).json(&json!({
            "query": query,
            "variables": variables,
        }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("the service answers");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// POSTs a GraphQL request with `token`; returns the JSON body.
    pub async fn gql(&self, token: &str, query: &str, variables: Value) -> Value {
        self.post(Some(token), query, variables).await.1
    }

    /// Runs a query that must succeed; returns `data`.
    pub async fn ok(&self, token: &str, query: &str, variables: Value) -> Value {
        let body = self.gql(token, query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    /// Waits until every committed change has its place in the feed.
    pub async fn settle_feed(&self) {
        settle_feed(&self.db).await;
    }

    /// Opens a direct database connection (for SQL checks).
    pub async fn sql(&self) -> sea_orm::DatabaseConnection {
        api::store::connect::connect(&self.db).await.expect("connect")
    }

    /// Runs the real `api` binary with `args` on this service's database
    /// (its command line, beside the running service); returns what it
    /// printed, and fails the test if it failed.
    pub fn cli(&self, args: &[&str]) -> String {
        let mut command = std::process::Command::new(process::api_binary());
        command
            .args(args)
            .env("APP_ENV", "development")
            .env("DEMO_DATA", "false")
            .env("DATABASE_URL", &self.db.url)
            .env("JWT_SECRET", SECRET);
        if let Some(schema) = &self.db.schema {
            command.env("DATABASE_SCHEMA", schema);
        }
        let output = command.output().expect("the api binary runs");
        assert!(output.status.success(), "api {args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).expect("UTF-8")
    }

    /// The global id of the record with `code` (`kind`: community, mou, programme, curriculum).
    pub async fn id_of(&self, kind: &str, code: &str) -> String {
        let query = format!("query($c: String) {{ {kind}(code: $c) {{ id }} }}");
        let data = self.ok(&self.full("FOUNDATION"), &query, json!({ "c": code })).await;
        data[kind]["id"].as_str().unwrap_or_else(|| panic!("no {kind} {code}: {data}")).to_owned()
    }
}

/// Waits until every committed change event has its feed position (on
/// PostgreSQL the sequencer numbers them just after commit; SQLite numbers
/// them as they are written). Panics after 20 s.
pub async fn settle_feed(db: &DbSettings) {
    let conn = api::store::connect::connect(db).await.expect("connect");
    let started = std::time::Instant::now();
    loop {
        let pending = api::feed::sequencer::pending(&conn).await.expect("count the inbox");
        if pending == 0 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "{pending} events still wait for a feed position");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    conn.close().await.ok();
}

/// Settings of the test PostgreSQL database, on `schema`.
pub fn pg_settings(schema: &str) -> DbSettings {
    settings(postgres_url(), Some(schema.to_owned()))
}

/// Database settings for `url` (and a PostgreSQL `schema`), as the test service uses.
pub fn settings(url: String, schema: Option<String>) -> DbSettings {
    DbSettings {
        url,
        max_connections: 5,
        acquire_timeout: Duration::from_secs(5),
        statement_timeout: Duration::from_secs(30),
        schema,
    }
}

/// The `extensions.code` of the first error of a response.
pub fn code(body: &Value) -> String {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or("<none>").to_owned()
}

/// Declares each async test function `name(app: TestApp)` twice: as
/// `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! on_both {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let app = black_box_tests::TestApp::spawn(black_box_tests::Backend::Sqlite).await.expect("sqlite");
                    super::$name(app).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if let Some(app) = black_box_tests::TestApp::spawn(black_box_tests::Backend::Postgres).await {
                        super::$name(app).await;
                    }
                }
            }
        )+
    };
}
