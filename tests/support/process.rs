//! The service as a separate OS process (the real `api` binary), for tests
//! of several instances on one database, of faults and of shutdown.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{AUDIENCE, ISSUER, SECRET};

/// A running `api serve` process.
pub struct ServerProcess {
    /// Base URL.
    pub base: String,
    /// The process.
    pub child: Child,
    /// Its log (stdout and stderr).
    pub log: PathBuf,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `api` binary, built if it is not there yet.
pub fn api_binary() -> PathBuf {
    if let Ok(path) = std::env::var("API_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe.parent().and_then(|d| d.parent()).expect("target dir").to_path_buf();
    let binary = dir.join("api");
    if !binary.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status =
            Command::new(cargo).args(["build", "-q", "-p", "api", "--bin", "api"]).status().expect("cargo build");
        assert!(status.success(), "building the api binary failed");
    }
    binary
}

/// A free port on 127.0.0.1.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

impl ServerProcess {
    /// Starts `api serve` on the PostgreSQL `schema` with `env` added, and
    /// waits until `/readyz` answers 200.
    pub async fn start(schema: &str, env: &[(&str, &str)]) -> ServerProcess {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("server-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("dir");
        let log = dir.join("server.log");
        let file = std::fs::File::create(&log).expect("log");
        let mut command = Command::new(api_binary());
        command
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("APP_ENV", "development")
            .env("BIND_ADDR", format!("127.0.0.1:{port}"))
            .env("DATABASE_URL", crate::postgres_url())
            .env("DATABASE_SCHEMA", schema)
            .env("DATA_DIR", &dir)
            .env("JWT_SECRET", SECRET)
            .env("JWT_ISSUER", ISSUER)
            .env("JWT_AUDIENCE", AUDIENCE)
            .env("DEMO_DATA", "false")
            .env("RUST_LOG", "info")
            .current_dir(&dir)
            .stdout(Stdio::from(file.try_clone().expect("log")))
            .stderr(Stdio::from(file));
        for (k, v) in env {
            command.env(k, v);
        }
        let child = command.spawn().expect("start api");
        let server = ServerProcess { base: format!("http://127.0.0.1:{port}"), child, log };
        let client = reqwest::Client::new();
        let started = Instant::now();
        loop {
            if let Ok(r) = client.get(format!("{}/readyz", server.base)).send().await
                && r.status().is_success()
            {
                return server;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the server did not become ready: {}",
                server.log_text()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// What the process has logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// Posts a GraphQL request to the instance at `base`; `null` when it does
/// not answer (one is killed on purpose).
pub async fn gql(base: &str, token: &str, query: &str, variables: serde_json::Value) -> serde_json::Value {
    let sent = reqwest::Client::new()
        .post(format!("{base}/graphql"))
        .bearer_auth(token)
        .json(&serde_json::json!({ "query": query, "variables": variables }))
        .send()
        .await;
    match sent {
        Ok(response) => response.json().await.unwrap_or(serde_json::Value::Null),
        Err(_) => serde_json::Value::Null,
    }
}
