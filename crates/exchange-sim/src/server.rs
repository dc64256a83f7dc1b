//! The HTTP server: routes exchange paths to their exchange's [`crate::venue::Venue`], applies
//! pending faults, records each request, and serves the `/__sim/*` control endpoints.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::Utc;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::fault::{Fault, FaultKind};
use crate::reply::Reply;
use crate::seed::{Seed, SimKey};
use crate::state::{lock, RequestRecord, Shared, SimState, Snapshot};
use crate::venue;
use crate::verify::Req;

/// How long a `Hang` fault holds a request before giving up.
const HANG_FOR: Duration = Duration::from_secs(60);

pub struct Sim;

impl Sim {
    /// Starts on 127.0.0.1 with a free port.
    pub async fn start(seed: Seed) -> std::io::Result<SimHandle> {
        Sim::start_on(seed, SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0)).await
    }

    pub async fn start_on(seed: Seed, addr: SocketAddr) -> std::io::Result<SimHandle> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let seed = seed.resolve(Utc::now());
        let mut state = SimState::new(seed.keys, seed.sub_accounts);
        state.no_rate_limits = seed.no_rate_limits;
        let shared: Shared = Arc::new(Mutex::new(state));
        let app = router(shared.clone()).into_make_service_with_connect_info::<SocketAddr>();
        let task = tokio::spawn(async move {
            // The server ends only when the handle aborts it.
            let _ = axum::serve(listener, app).await;
        });
        Ok(SimHandle { addr, shared, task })
    }
}

/// A running simulator. Dropping it stops the server.
pub struct SimHandle {
    addr: SocketAddr,
    shared: Shared,
    task: JoinHandle<()>,
}

impl SimHandle {
    /// e.g. `http://127.0.0.1:41234`: the base URL for every simulated exchange.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn state(&self) -> Snapshot {
        lock(&self.shared).snapshot()
    }

    pub fn set_fault(&self, fault: Fault) {
        lock(&self.shared).faults.push(fault);
    }

    pub fn clear_faults(&self) {
        lock(&self.shared).faults.clear();
    }

    pub fn add_key(&self, key: SimKey) {
        lock(&self.shared).keys.push(key);
    }

    /// What a user deleting the key on the exchange's website does: the key is gone.
    pub fn delete_key(&self, api_key: &str) -> bool {
        let mut state = lock(&self.shared);
        let exchange = state.keys.iter().find(|k| k.api_key == api_key).map(|k| k.exchange);
        exchange.is_some_and(|e| state.remove(e, api_key))
    }

    /// Empties the request log and its totals.
    pub fn clear_requests(&self) {
        lock(&self.shared).clear_requests();
    }

    /// Turns every rate limit on or off while the simulator runs.
    pub fn set_rate_limits(&self, on: bool) {
        lock(&self.shared).no_rate_limits = !on;
    }

    pub fn shutdown(self) {
        self.task.abort();
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn router(shared: Shared) -> Router {
    Router::new()
        .route("/__sim/state", get(state))
        .route("/__sim/fault", axum::routing::post(set_fault).delete(clear_faults))
        .route("/__sim/delete-key", axum::routing::post(delete_key))
        .fallback(exchange_api)
        .with_state(shared)
}

async fn state(State(sim): State<Shared>) -> Json<Snapshot> {
    Json(lock(&sim).snapshot())
}

async fn set_fault(State(sim): State<Shared>, Json(fault): Json<Fault>) -> axum::http::StatusCode {
    lock(&sim).faults.push(fault);
    axum::http::StatusCode::NO_CONTENT
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeleteKey {
    api_key: String,
}

/// `POST /__sim/delete-key {"apiKey": …}`: the key deleted "on the website" (for e2e tests).
async fn delete_key(State(sim): State<Shared>, Json(body): Json<DeleteKey>) -> axum::http::StatusCode {
    let mut state = lock(&sim);
    let exchange = state.keys.iter().find(|k| k.api_key == body.api_key).map(|k| k.exchange);
    match exchange {
        Some(e) if state.remove(e, &body.api_key) => axum::http::StatusCode::NO_CONTENT,
        _ => axum::http::StatusCode::NOT_FOUND,
    }
}

async fn clear_faults(State(sim): State<Shared>) -> axum::http::StatusCode {
    lock(&sim).faults.clear();
    axum::http::StatusCode::NO_CONTENT
}

async fn exchange_api(
    State(sim): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let venue = venue::for_path(&path);
    let (fault, after_acting) = match lock(&sim).take_fault(method.as_str(), &path) {
        Some((kind, after)) => (Some(kind), after),
        None => (None, false),
    };
    if let Some(FaultKind::Latency { ms }) = fault {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    if fault == Some(FaultKind::Hang) && !after_acting {
        tokio::time::sleep(HANG_FOR).await;
    }
    let req = Req {
        method: method.clone(),
        path: path.clone(),
        query: uri.query().unwrap_or_default().to_owned(),
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        peer: peer.ip(),
        // Read after any injected delay, as a real server would.
        now: Utc::now(),
    };
    let pad_to = match fault {
        Some(FaultKind::HugeBody { bytes }) => Some(bytes),
        _ => None,
    };
    let acted = match (&fault, venue) {
        (Some(FaultKind::Hang | FaultKind::ServerError { .. }), Some(venue)) if after_acting => {
            let answer = venue.handle(&sim, &req);
            Some(answer.code)
        }
        _ => None,
    };
    if acted.is_some() && fault == Some(FaultKind::Hang) {
        tokio::time::sleep(HANG_FOR).await;
    }
    let reply = match (fault, venue) {
        (Some(FaultKind::Hang), _) => Reply::raw(504, "fault:hang", "Gateway Timeout", "text/plain"),
        (Some(FaultKind::ServerError { status }), _) => {
            Reply::raw(status, "fault:serverError", format!("<html><body><h1>{status}</h1></body></html>"), "text/html")
        }
        (Some(FaultKind::MalformedJson), _) => {
            Reply::raw(200, "fault:malformedJson", r#"{"code":"0","data":[{"perm":"#, "application/json")
        }
        (Some(FaultKind::RateLimited { retry_after_secs }), Some(venue)) => {
            let mut reply = venue.rate_limit_reply(&req);
            reply.status = 429;
            reply.code = "fault:rateLimited".to_owned();
            reply.headers.retain(|(name, _)| *name != "retry-after");
            reply.with_header("retry-after", retry_after_secs.to_string())
        }
        (_, Some(venue)) => venue.handle(&sim, &req),
        (_, None) => Reply::not_found(),
    };
    let mut reply = match pad_to {
        Some(bytes) => reply.padded_to(bytes),
        None => reply,
    };
    if let Some(code) = acted {
        // The log shows both: what the exchange did, and the answer the client got instead.
        reply.code = format!("{code}+{}", reply.code);
    }
    static FIRST: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    let at_ms = u64::try_from(FIRST.get_or_init(std::time::Instant::now).elapsed().as_millis()).unwrap_or(u64::MAX);
    lock(&sim).record(RequestRecord {
        method: method.to_string(),
        path,
        exchange: venue.map(|v| v.exchange()),
        status: reply.status,
        code: reply.code.clone(),
        at_ms,
    });
    reply.into_response()
}
