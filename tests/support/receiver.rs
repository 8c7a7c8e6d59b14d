//! A webhook receiver on 127.0.0.1 for tests: records every POST (headers
//! and body) and answers with the status it is told to.

use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use tokio::sync::Mutex;

/// One received POST.
#[derive(Clone, Debug)]
pub struct Received {
    /// `webhook-id`.
    pub id: String,
    /// `webhook-timestamp`.
    pub timestamp: String,
    /// `webhook-signature`.
    pub signature: String,
    /// The raw body.
    pub body: Bytes,
}

impl Received {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

#[derive(Clone, Default)]
struct Shared {
    status: Arc<AtomicU16>,
    received: Arc<Mutex<Vec<Received>>>,
}

/// A running receiver.
pub struct Receiver {
    /// Its URL (`http://127.0.0.1:PORT/hook`).
    pub url: String,
    shared: Shared,
}

impl Receiver {
    /// Starts a receiver that answers 204.
    pub async fn start() -> Receiver {
        let shared = Shared::default();
        shared.status.store(204, Ordering::SeqCst);
        let app = axum::Router::new().route("/hook", axum::routing::post(hook)).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver { url, shared }
    }

    /// Answers `status` from now on.
    pub fn answer(&self, status: u16) {
        self.shared.status.store(status, Ordering::SeqCst);
    }

    /// Everything received so far.
    pub async fn received(&self) -> Vec<Received> {
        self.shared.received.lock().await.clone()
    }

    /// Waits (up to 20 s) until `n` POSTs have arrived; returns them all.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        let started = std::time::Instant::now();
        loop {
            let got = self.received().await;
            if got.len() >= n {
                return got;
            }
            assert!(started.elapsed() < std::time::Duration::from_secs(20), "only {} of {n} deliveries", got.len());
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
    }
}

async fn hook(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    shared.received.lock().await.push(Received {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body,
    });
    StatusCode::from_u16(shared.status.load(Ordering::SeqCst)).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// Verifies a delivery's signature with `secret` the way the Standard
/// Webhooks specification defines it (written here from the spec, not with
/// the service's code).
pub fn verify(secret: &str, r: &Received) -> bool {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use hmac::{Hmac, Mac};
    let Some(key) = secret.strip_prefix("whsec_").and_then(|k| STANDARD.decode(k).ok()) else { return false };
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).expect("key");
    mac.update(format!("{}.{}.", r.id, r.timestamp).as_bytes());
    mac.update(&r.body);
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    r.signature.split(' ').any(|s| s == expected)
}
