//! GET /graphql/ws: live subscriptions over WebSocket with the
//! `graphql-transport-ws` protocol (and the older `graphql-ws`).
//!
//! The token travels in `connection_init`'s payload, as
//! `{"Authorization": "Bearer <jwt>"}` (or `{"token": "<jwt>"}`), and is
//! verified like a request's. A refused token closes the socket with 4403
//! (Forbidden), as the protocol says; so does the token's expiry, so a
//! subscription never outlives the right to read it.

use std::sync::{Arc, Mutex};

use async_graphql::Data;
use std::str::FromStr;

use async_graphql::http::{WebSocket, WebSocketProtocols, WsMessage};
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt, future};

use crate::app::AppState;
use crate::auth;
use crate::domain::access::Actor;
use crate::graphql::nulls::Propagating;
use crate::store::loaders::Loaders;

/// The close code for a refused or expired token.
pub const FORBIDDEN: u16 = 4403;

/// Upgrades to a WebSocket that serves subscriptions; 400 unless the client
/// offers a GraphQL WebSocket protocol.
pub async fn upgrade(State(state): State<AppState>, headers: HeaderMap, ws: WebSocketUpgrade) -> Response {
    let protocol = headers
        .get(axum::http::header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .and_then(|offered| offered.split(',').find_map(|p| WebSocketProtocols::from_str(p.trim()).ok()));
    let Some(protocol) = protocol else {
        return (StatusCode::BAD_REQUEST, "offer the graphql-transport-ws WebSocket protocol").into_response();
    };
    ws.protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS).on_upgrade(move |socket| serve(state, socket, protocol))
}

/// Verifies the token in a `connection_init` payload.
async fn authenticate(state: &AppState, payload: &serde_json::Value) -> Result<Actor, String> {
    let header = payload
        .get("Authorization")
        .or_else(|| payload.get("authorization"))
        .and_then(|v| v.as_str())
        .map(str::to_owned)
        .or_else(|| payload.get("token").and_then(|v| v.as_str()).map(|t| format!("Bearer {t}")));
    let token = auth::bearer(header.as_deref()).map_err(|e| e.message())?;
    let verified = state.verifier.verify(token).await.map_err(|e| {
        tracing::info!(code = e.code(), token_sha256 = %auth::token_fingerprint(token), "websocket token refused");
        e.message()
    })?;
    auth::actor(verified, &state.orgs).await.map_err(|e| e.message())
}

async fn serve(state: AppState, socket: axum::extract::ws::WebSocket, protocol: WebSocketProtocols) {
    let (sink, stream) = socket.split();
    let input = stream.take_while(|res| future::ready(res.is_ok())).filter_map(|msg| {
        future::ready(match msg {
            Ok(msg @ (Message::Text(_) | Message::Binary(_))) => Some(msg.into_data()),
            _ => None,
        })
    });
    // Set when connection_init was refused (so its close code becomes 4403)
    // and, once accepted, the token's expiry.
    let refused = Arc::new(Mutex::new(false));
    let (expiry_tx, mut expiry) = tokio::sync::watch::channel(None::<chrono::DateTime<chrono::Utc>>);
    let init_state = state.clone();
    let init_refused = refused.clone();
    let on_init = move |payload: serde_json::Value| async move {
        match authenticate(&init_state, &payload).await {
            Ok(actor) => {
                let _ = expiry_tx.send(Some(actor.expires_at));
                let mut data = Data::default();
                data.insert(Loaders::uncached(&init_state.store.db, init_state.config.batch_window));
                data.insert(actor);
                Ok(data)
            }
            Err(message) => {
                if let Ok(mut flag) = init_refused.lock() {
                    *flag = true;
                }
                Err(async_graphql::Error::new(message))
            }
        }
    };
    let messages = WebSocket::new(Propagating(state.schema.clone()), input, protocol).on_connection_init(on_init);
    futures_util::pin_mut!(messages, sink);
    loop {
        let expires = *expiry.borrow_and_update();
        let until_expiry = async {
            match expires {
                Some(at) => {
                    let left = (at - chrono::Utc::now()).to_std().unwrap_or_default();
                    tokio::time::sleep(left).await;
                }
                None => future::pending::<()>().await,
            }
        };
        let outgoing = tokio::select! {
            message = messages.next() => match message {
                Some(WsMessage::Text(text)) => Message::Text(text.into()),
                Some(WsMessage::Close(code, reason)) => {
                    let refused = refused.lock().map(|f| *f).unwrap_or(false);
                    let code = if refused && code == 1002 { FORBIDDEN } else { code };
                    let reason = if refused { format!("Forbidden: {reason}") } else { reason };
                    let _ = sink.send(close(code, &reason)).await;
                    break;
                }
                None => break,
            },
            _ = until_expiry => {
                let _ = sink.send(close(FORBIDDEN, "Forbidden: the token expired")).await;
                break;
            }
            _ = expiry.changed() => continue,
        };
        if sink.send(outgoing).await.is_err() {
            break;
        }
    }
}

fn close(code: u16, reason: &str) -> Message {
    // A close reason may be at most 123 bytes.
    let mut reason: String = reason.to_owned();
    while reason.len() > 123 {
        reason.pop();
    }
    Message::Close(Some(CloseFrame { code, reason: reason.into() }))
}
