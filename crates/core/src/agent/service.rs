//! One request through the agent: find the bot by its placeholder key, check its signature as the
//! exchange would, refuse by state and policy, re-stamp and re-sign the same bytes with the real
//! key, forward, and hand back the exchange's answer unchanged.
//!
//! What it knows of bots, keys, halts and policies is re-read whenever the database changed
//! (SQLite's `data_version`, checked on every request at no disk cost): a rotation, a revoke or a
//! bot revoked in the app or the CLI applies from the next request on. On a server the same comes
//! from OpenBao through a [`Mirror`], which swaps in a new snapshot when a look found a change.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use secrecy::{SecretSlice, SecretString};

use super::audit_counts::Counts;
use super::known::{KeySecret, Known, KnownKey};
use super::mirror::Mirror;
use super::placeholders::{derive_placeholder, key_sha256, Placeholder};
use super::policy::OrderCounter;
use super::AgentError;
use crate::exchange::agent_scheme::{AgentScheme, Incoming, Refusal, Route, SigningKey};
use crate::exchange::{Clock, Endpoint, ExchangeClient};
use crate::keychain::SecretStore;
use crate::model::{Exchange, KeyId};
use crate::secret::Credentials;
use crate::store::Store;

/// How long a measured clock offset to an exchange is trusted.
const OFFSET_TTL: Duration = Duration::from_secs(600);

/// The answer the bot gets: the exchange's, or the agent's refusal in the exchange's shape.
#[derive(Debug)]
pub struct AgentAnswer {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

/// This machine's database and keychain (the tray's agent, `latchkey agent`).
struct Local {
    store: Arc<Store>,
    /// Its own connection for the counts' audit entries: the request path checks `store` on every
    /// request, and a flush's keychain anchor call must not make requests wait on it.
    audit_store: Store,
    secrets: Arc<dyn SecretStore>,
    root: SecretSlice<u8>,
    known: Mutex<Arc<Known>>,
}

/// Where the agent's bots and keys come from.
enum Source {
    Local(Box<Local>),
    /// A server's OpenBao, mirrored in memory (`latchkey agent --from openbao`).
    Mirror(Arc<Mirror>),
}

pub struct Agent {
    source: Source,
    exchange: Arc<ExchangeClient>,
    /// Stamps, freshness windows and drain ends: the same clock the exchange client reads.
    clock: Arc<dyn Clock>,
    http: reqwest::Client,
    /// The real credentials by key id: read from the keychain once per key (a rotation is a new id).
    credentials: Mutex<HashMap<KeyId, Arc<Credentials>>>,
    /// By exchange and base URL (the simulator serves several exchanges on one).
    offsets: Mutex<HashMap<(Exchange, String), (i64, Instant)>>,
    orders: Mutex<OrderCounter>,
    pub(crate) counts: Mutex<Counts>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn http_client() -> Result<reqwest::Client, AgentError> {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .pool_max_idle_per_host(64)
        .build()
        .map_err(|e| AgentError::Failed(format!("could not set up the HTTP client: {e}")))
}

impl Agent {
    /// The agent of this machine. `store` should be this agent's own connection, so other
    /// connections' writes (the app's, the CLI's) show in its `data_version`.
    pub fn new(
        store: Arc<Store>,
        secrets: Arc<dyn SecretStore>,
        root: SecretSlice<u8>,
        exchange: Arc<ExchangeClient>,
        clock: Arc<dyn Clock>,
    ) -> Result<Agent, AgentError> {
        let audit_store = store.open_sibling()?;
        let source = Source::Local(Box::new(Local { audit_store, store, secrets, root, known: Mutex::default() }));
        Agent::with_source(source, exchange, clock)
    }

    /// A server's agent, serving what `mirror` holds of OpenBao.
    pub fn mirrored(
        mirror: Arc<Mirror>,
        exchange: Arc<ExchangeClient>,
        clock: Arc<dyn Clock>,
    ) -> Result<Agent, AgentError> {
        Agent::with_source(Source::Mirror(mirror), exchange, clock)
    }

    fn with_source(source: Source, exchange: Arc<ExchangeClient>, clock: Arc<dyn Clock>) -> Result<Agent, AgentError> {
        Ok(Agent {
            source,
            exchange,
            clock,
            http: http_client()?,
            credentials: Mutex::default(),
            offsets: Mutex::default(),
            orders: Mutex::default(),
            counts: Mutex::default(),
        })
    }

    /// The current snapshot: rebuilt from the database when it changed, or the mirror's.
    fn known(&self) -> Result<Arc<Known>, AgentError> {
        match &self.source {
            Source::Mirror(mirror) => Ok(mirror.current()),
            Source::Local(local) => {
                let stamp = local.store.data_version()?;
                let current = lock(&local.known).clone();
                if current.stamp == Some(stamp) {
                    return Ok(current);
                }
                let fresh = Arc::new(Known::from_store(&local.store, stamp)?);
                *lock(&local.known) = fresh.clone();
                Ok(fresh)
            }
        }
    }

    /// Handles one request for `exchange_id` (the first segment of the agent's URL path).
    pub async fn handle(&self, exchange_id: &str, req: Incoming) -> AgentAnswer {
        let Some((exchange, scheme)) =
            exchange_id.parse::<Exchange>().ok().and_then(|e| e.adapter().agent_scheme().map(|s| (e, s)))
        else {
            let msg = format!(
                "The Latchkey agent serves no exchange called '{exchange_id}' here: use the base URL `latchkey agent issue` printed."
            );
            return AgentAnswer { status: 404, content_type: Some("text/plain".into()), body: msg.into_bytes() };
        };
        let endpoint_name = format!("{} {}", req.method.to_ascii_uppercase(), req.path);
        if let Err(refusal) = plain_path(&req.path) {
            lock(&self.counts).refusal("(unknown caller)", &endpoint_name, &refusal);
            return self.own_error(scheme, refusal);
        }
        let demo = scheme.wants_demo(&req);
        if let Some(out) = scheme.public_read(&req, demo) {
            let answer = self.forward_public(exchange, scheme, &req, out, demo).await;
            return match answer {
                Ok(answer) => {
                    lock(&self.counts).request("(public market data)", &endpoint_name);
                    answer
                }
                Err(refusal) => {
                    lock(&self.counts).refusal("(public market data)", &endpoint_name, &refusal);
                    self.own_error(scheme, refusal)
                }
            };
        }
        match self.admit(exchange, scheme, &req).await {
            Ok((bot, key, credentials)) => {
                let answer = self.forward(scheme, &req, &key, &credentials).await;
                lock(&self.counts).request(&bot, &endpoint_name);
                answer
            }
            Err((bot, refusal)) => {
                lock(&self.counts).refusal(bot.as_deref().unwrap_or("(unknown caller)"), &endpoint_name, &refusal);
                let refused = scheme.refusal_answer(&refusal);
                AgentAnswer {
                    status: refused.status,
                    content_type: Some("application/json".into()),
                    body: refused.body.into_bytes(),
                }
            }
        }
    }

    /// The bot, its key and the key's credentials, or the refusal (with the bot's name once known).
    async fn admit(
        &self,
        exchange: Exchange,
        scheme: &dyn AgentScheme,
        req: &Incoming,
    ) -> Result<(String, KnownKey, Arc<Credentials>), (Option<String>, Refusal)> {
        let known = self.known().map_err(|e| {
            tracing::warn!(error = %e, "signing agent: could not read what it serves");
            (None, Refusal::KeyUnusable("Latchkey could not read its database".into()))
        })?;
        let caller =
            scheme.caller_key(req).ok_or((None, Refusal::UnknownKey("the request names no API key".into())))?;
        let sha = key_sha256(caller);
        let bot = known
            .bots
            .get(&sha)
            .filter(|b| b.exchange == exchange)
            .ok_or((None, Refusal::UnknownKey("this API key was not issued by Latchkey, or was revoked".into())))?;
        let name = Some(bot.name.clone());
        let shape = scheme.placeholder_shape();
        let placeholder = match (&bot.given, &self.source) {
            (Some(given), _) => Placeholder {
                api_key: SecretString::from(caller.to_owned()),
                secret: given.secret.clone(),
                passphrase: given.passphrase.clone(),
            },
            (None, Source::Local(local)) => derive_placeholder(&local.root, caller, &shape),
            (None, Source::Mirror(_)) => {
                return Err((name, Refusal::UnknownKey("this bot has no placeholder secret on this server".into())))
            }
        };
        let signing = SigningKey {
            api_key: &placeholder.api_key,
            secret: &placeholder.secret,
            passphrase: placeholder.passphrase.as_ref(),
        };
        scheme.verify(req, &signing, self.clock.now().timestamp_millis()).map_err(|r| (name.clone(), r))?;
        // Only a caller whose signature checked out learns the key's state.
        let key = known.keys.get(&bot.label).cloned().ok_or_else(|| {
            let why = format!("key '{}' is not active in Latchkey (revoked, quarantined or removed)", bot.label);
            (name.clone(), Refusal::KeyUnusable(why))
        })?;
        if let Some(why) = &key.refused {
            return Err((name, Refusal::KeyUnusable(why.clone())));
        }
        if scheme.wants_demo(req) != key.demo {
            let (asked, is) = if key.demo { ("live", "demo") } else { ("demo", "live") };
            return Err((
                name,
                Refusal::WrongEnvironment(format!(
                    "the request is for {asked} trading but key '{}' is a {is} key",
                    key.label
                )),
            ));
        }
        let policy = known.policies.get(&bot.label).cloned().unwrap_or_default();
        let draining = known.draining.get(&bot.label).is_some_and(|until| *until > self.clock.now());
        let route = scheme.route(&req.method, &req.path);
        policy.check(route, &req.method, &req.path, &scheme.symbols(req)).map_err(|r| (name.clone(), r))?;
        if draining && route == Route::Order && !scheme.reduce_only(req) {
            let why =
                format!("key '{}' is draining before a revoke: only cancels and reduce-only orders pass", key.label);
            return Err((name, Refusal::Forbidden(why)));
        }
        if let (Route::Order, Some(cap)) = (route, policy.orders_per_minute) {
            lock(&self.orders).admit(&key.label, cap, Instant::now()).map_err(|r| (name.clone(), r))?;
        }
        let credentials = self.credentials(&key, &known).await.map_err(|r| (name.clone(), r))?;
        Ok((bot.name.clone(), key, credentials))
    }

    async fn credentials(&self, key: &KnownKey, known: &Known) -> Result<Arc<Credentials>, Refusal> {
        let (id, secrets) = match (&key.secret, &self.source) {
            (KeySecret::Held(c), _) => return Ok(c.clone()),
            (KeySecret::Keychain(id), Source::Local(local)) => (*id, local.secrets.clone()),
            (KeySecret::Keychain(_), Source::Mirror(_)) | (KeySecret::Gone, _) => {
                return Err(Refusal::KeyUnusable(format!("key '{}' has no secret here", key.label)))
            }
        };
        if let Some(c) = lock(&self.credentials).get(&id) {
            return Ok(c.clone());
        }
        let read = tokio::task::spawn_blocking(move || secrets.get(id)).await;
        let credentials = match read {
            Ok(Ok(Some(c))) => Arc::new(c),
            Ok(Ok(None)) => {
                return Err(Refusal::KeyUnusable(format!("key '{}' has no secret in the keychain", key.label)))
            }
            Ok(Err(e)) => return Err(Refusal::KeyUnusable(format!("the keychain could not be read: {e}"))),
            Err(_) => return Err(Refusal::KeyUnusable("the keychain read was interrupted".into())),
        };
        let mut cache = lock(&self.credentials);
        // Keep only the credentials of keys still active: a rotated-away key's secret leaves memory.
        let active = known.keychain_ids();
        cache.retain(|id, _| active.contains(id));
        cache.insert(id, credentials.clone());
        Ok(credentials)
    }

    /// The exchange's clock minus ours for `endpoint`, measured at most every 10 minutes.
    async fn offset_ms(&self, endpoint: &Endpoint) -> i64 {
        if let Some((offset, at)) = lock(&self.offsets).get(&(endpoint.exchange, endpoint.base_url.clone())) {
            if at.elapsed() < OFFSET_TTL {
                return *offset;
            }
        }
        let before = self.clock.now();
        let offset = match self.exchange.server_time(endpoint).await {
            Ok(server) => {
                let after = self.clock.now();
                let midpoint = before + (after - before) / 2;
                (server - midpoint).num_milliseconds()
            }
            Err(e) => {
                tracing::warn!(error = %e, "signing agent: no server time; signing with the local clock");
                0
            }
        };
        lock(&self.offsets).insert((endpoint.exchange, endpoint.base_url.clone()), (offset, Instant::now()));
        offset
    }

    async fn forward(
        &self,
        scheme: &dyn AgentScheme,
        req: &Incoming,
        key: &KnownKey,
        credentials: &Credentials,
    ) -> AgentAnswer {
        let endpoint = match Endpoint::new(key.exchange, &key.environment) {
            Ok(e) => e,
            Err(e) => return self.own_error(scheme, Refusal::KeyUnusable(e.to_string())),
        };
        let now_ms = self.clock.now().timestamp_millis() + self.offset_ms(&endpoint).await;
        let real = SigningKey {
            api_key: &credentials.api_key,
            secret: &credentials.api_secret,
            passphrase: credentials.passphrase.as_ref(),
        };
        let out = match scheme.resign(req, &real, now_ms, key.demo) {
            Ok(out) => out,
            Err(refusal) => return self.own_error(scheme, refusal),
        };
        self.send(scheme, req, &endpoint, out).await
    }

    /// Public market data, passed through unsigned to where the exchange's bots' keys go (one
    /// place: their keys' environment, live or demo as the request asks).
    async fn forward_public(
        &self,
        exchange: Exchange,
        scheme: &dyn AgentScheme,
        req: &Incoming,
        out: crate::exchange::agent_scheme::Outgoing,
        demo: bool,
    ) -> Result<AgentAnswer, Refusal> {
        let known = self.known().map_err(|e| {
            tracing::warn!(error = %e, "signing agent: could not read what it serves");
            Refusal::KeyUnusable("Latchkey could not read its database".into())
        })?;
        let mut targets: Vec<Endpoint> = known
            .bots
            .values()
            .filter(|b| b.exchange == exchange)
            .filter_map(|b| known.keys.get(&b.label))
            .filter(|k| k.demo == demo)
            .filter_map(|k| Endpoint::new(k.exchange, &k.environment).ok())
            .collect();
        targets.sort_by(|a, b| a.base_url.cmp(&b.base_url));
        targets.dedup_by(|a, b| a.base_url == b.base_url);
        let kind = if demo { "demo" } else { "live" };
        match targets.as_slice() {
            [endpoint] => Ok(self.send(scheme, req, endpoint, out).await),
            [] => Err(Refusal::KeyUnusable(format!(
                "no {kind} key with a bot on {exchange} says where its public market data comes from"
            ))),
            _ => Err(Refusal::KeyUnusable(format!(
                "the bots' {kind} keys on {exchange} go to different places, so public market data has no one source: give the bot the exchange's own URL for public data"
            ))),
        }
    }

    /// Sends `out` to `endpoint` and hands back the exchange's answer (at most 1 MiB of it).
    async fn send(
        &self,
        scheme: &dyn AgentScheme,
        req: &Incoming,
        endpoint: &Endpoint,
        out: crate::exchange::agent_scheme::Outgoing,
    ) -> AgentAnswer {
        let Ok(method) = reqwest::Method::from_bytes(req.method.to_ascii_uppercase().as_bytes()) else {
            return self.own_error(scheme, Refusal::BadSignature(format!("unknown method {}", req.method)));
        };
        let mut request = self.http.request(method, endpoint.url(&out.path_and_query));
        for (name, value) in &out.headers {
            if let Ok(mut v) = reqwest::header::HeaderValue::from_str(value) {
                v.set_sensitive(true);
                request = request.header(*name, v);
            }
        }
        if let Some(ct) = req.header("content-type") {
            request = request.header("content-type", ct);
        }
        if !out.body.is_empty() {
            request = request.body(out.body);
        }
        match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let content_type =
                    response.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_owned);
                match capped_body(response).await {
                    Ok(body) => AgentAnswer { status, content_type, body },
                    Err(Some(e)) => network_error(&e),
                    Err(None) => too_big_answer(),
                }
            }
            Err(e) => network_error(&e),
        }
    }

    /// Writes the counted requests and refusals to the audit log (aggregated). Blocks on SQLite
    /// and the keychain: call it off the async workers.
    pub fn flush_audit(&self) {
        if lock(&self.counts).is_empty() {
            return;
        }
        match &self.source {
            Source::Local(local) => {
                if let Err(e) = super::audit_counts::flush(&self.counts, &local.audit_store, self.clock.now()) {
                    tracing::warn!(error = %e, "signing agent: could not write its counts to the audit log; kept for the next flush");
                }
            }
            Source::Mirror(mirror) => {
                for line in super::audit_counts::take_lines(&self.counts, self.clock.now()) {
                    mirror.report(&line);
                }
            }
        }
    }

    fn own_error(&self, scheme: &dyn AgentScheme, refusal: Refusal) -> AgentAnswer {
        let refused = scheme.refusal_answer(&refusal);
        AgentAnswer {
            status: refused.status,
            content_type: Some("application/json".into()),
            body: refused.body.into_bytes(),
        }
    }
}

/// Only plain paths are forwarded. The policy classes a request by its path as sent; a server that
/// merges `//`, resolves `.`/`..` or decodes `%2F` before routing could act on a path the policy
/// read as another (`/api/v5//asset/withdrawal`), signed with the real key. No bot sends these.
fn plain_path(path: &str) -> Result<(), Refusal> {
    let odd = path.strip_prefix('/').is_none_or(|rest| {
        rest.split('/').any(|seg| seg.is_empty() || seg == "." || seg == "..")
            || path.contains(['%', '\\', ';'])
            || path.chars().any(|c| c.is_control() || c.is_whitespace())
    });
    if odd {
        return Err(Refusal::Forbidden(
            "the path has an empty, '.' or '..' segment, or an escape: the agent forwards only plain paths (check the bot's base URL has no trailing '/')".into(),
        ));
    }
    Ok(())
}

/// The exchange could not be reached: a gateway error, which bots rightly treat as retryable.
/// The exchange's body, given up on past the client's cap (`MAX_ANSWER_BYTES`): no exchange answer
/// a bot needs comes near it, and a bigger one (a broken proxy, a hostile custom URL) must not fill
/// the agent's memory. `Err(None)`: too big.
async fn capped_body(mut response: reqwest::Response) -> Result<Vec<u8>, Option<reqwest::Error>> {
    let cap = crate::exchange::MAX_ANSWER_BYTES;
    if response.content_length().is_some_and(|n| n > cap as u64) {
        return Err(None);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(Some)? {
        if body.len() + chunk.len() > cap {
            return Err(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn too_big_answer() -> AgentAnswer {
    let msg = format!(
        "Latchkey agent: the exchange's answer was larger than {} KiB and was not relayed",
        crate::exchange::MAX_ANSWER_BYTES / 1024
    );
    AgentAnswer { status: 502, content_type: Some("text/plain".into()), body: msg.into_bytes() }
}

fn network_error(e: &reqwest::Error) -> AgentAnswer {
    let msg = format!(
        "Latchkey agent: the exchange could not be reached ({})",
        if e.is_timeout() { "timeout" } else { "connection failed" }
    );
    AgentAnswer { status: 502, content_type: Some("text/plain".into()), body: msg.into_bytes() }
}

#[cfg(test)]
mod tests {
    use super::plain_path;

    #[test]
    fn only_plain_paths_are_forwarded() {
        for ok in
            ["/api/v5/account/balance", "/v5/order/create", "/api/v3/openOrders", "/sapi/v1/asset/get-funding-asset"]
        {
            assert!(plain_path(ok).is_ok(), "{ok}");
        }
        for odd in [
            "/api/v5//asset/withdrawal",
            "//api/v5/asset/withdrawal",
            "/api/v5/trade/../asset/withdrawal",
            "/api/v5/./asset/withdrawal",
            "/api/v5/asset%2Fwithdrawal",
            "/api/v5/trade\\..\\asset",
            "/api/v5/trade;x",
            "/api/v5/trade/",
            "/api/v5/tr ade",
            "api/v5/trade",
            "",
        ] {
            assert!(plain_path(odd).is_err(), "{odd:?}");
        }
    }
}
