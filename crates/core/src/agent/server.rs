//! The agent's listener: HTTP/1.1 on a loopback address only, `/<exchange>/<the exchange's path>`,
//! and the audit flush every minute and at shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;

use super::{Agent, AgentError};
use crate::exchange::agent_scheme::Incoming;

/// How often the counted requests and refusals go to the audit log.
pub const FLUSH_EVERY: Duration = Duration::from_secs(60);

/// Binds `addr`, which must be a loopback address.
pub async fn bind(addr: SocketAddr) -> Result<tokio::net::TcpListener, AgentError> {
    if !addr.ip().is_loopback() {
        return Err(AgentError::NotLoopback(addr.ip().to_string()));
    }
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| AgentError::Listen { addr: addr.to_string(), detail: e.to_string() })
}

/// Serves until `shutdown` completes, then writes the last counts to the audit log.
pub async fn serve(
    agent: Arc<Agent>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), AgentError> {
    let flusher = {
        let agent = agent.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(FLUSH_EVERY);
            tick.tick().await;
            loop {
                tick.tick().await;
                flush_off_workers(&agent).await;
            }
        })
    };
    let app = Router::new().route("/{exchange}/{*rest}", any(handle)).with_state(agent.clone());
    let served = axum::serve(listener, app).with_graceful_shutdown(shutdown).await;
    flusher.abort();
    flush_off_workers(&agent).await;
    served.map_err(|e| AgentError::Failed(format!("the signing agent stopped: {e}")))
}

/// The flush waits on SQLite and a keychain call: on the blocking pool, so requests keep flowing.
async fn flush_off_workers(agent: &Arc<Agent>) {
    let agent = agent.clone();
    if let Err(e) = tokio::task::spawn_blocking(move || agent.flush_audit()).await {
        tracing::warn!(error = %e, "signing agent: the audit flush did not run");
    }
}

async fn handle(
    State(agent): State<Arc<Agent>>,
    Path((exchange, rest)): Path<(String, String)>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(body) = String::from_utf8(body.to_vec()) else {
        return (StatusCode::BAD_REQUEST, "Latchkey agent: the request body is not UTF-8 text").into_response();
    };
    let req = Incoming {
        method: method.as_str().to_owned(),
        path: format!("/{rest}"),
        query: query.unwrap_or_default(),
        headers: headers
            .iter()
            .filter_map(|(n, v)| v.to_str().ok().map(|v| (n.as_str().to_owned(), v.to_owned())))
            .collect(),
        body,
    };
    let answer = agent.handle(&exchange, req).await;
    let mut response = Response::new(axum::body::Body::from(answer.body));
    *response.status_mut() = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::BAD_GATEWAY);
    if let Some(ct) = answer.content_type.and_then(|c| c.parse().ok()) {
        response.headers_mut().insert(axum::http::header::CONTENT_TYPE, ct);
    }
    response
}
