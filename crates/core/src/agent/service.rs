//! One request through the agent: find the bot by its placeholder key, check its signature as the
//! exchange would, refuse by state and policy, re-stamp and re-sign the same bytes with the real
//! key, forward, and hand back the exchange's answer unchanged.
//!
//! What it knows of bots, keys, halts and policies is re-read whenever the database changed
//! (SQLite's `data_version`, checked on every request at no disk cost): a rotation, a revoke or a
//! bot revoked in the app or the CLI applies from the next request on.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use secrecy::SecretSlice;

use super::audit_counts::Counts;
use super::placeholders::{derive_placeholder, key_sha256, BotRecord, BOT_PREFIX};
use super::policy::{AgentPolicy, OrderCounter, POLICY_PREFIX};
use super::{AgentError, HALT_PREFIX};
use crate::exchange::agent_scheme::{AgentScheme, Incoming, Refusal, Route, SigningKey};
use crate::exchange::{Clock, Endpoint, ExchangeClient};
use crate::keychain::SecretStore;
use crate::model::{Environment, Exchange, KeyId, KeyRecord, KeyStatus};
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

#[derive(Default)]
struct Known {
    version: Option<i64>,
    /// By the SHA-256 of the placeholder key.
    bots: HashMap<String, BotRecord>,
    /// The active key of each label.
    keys: HashMap<String, KeyRecord>,
    masters: HashSet<KeyId>,
    halted: HashSet<KeyId>,
    /// Labels draining until then: cancels, reads and reduce-only orders only.
    draining: HashMap<String, chrono::DateTime<Utc>>,
    policies: HashMap<String, AgentPolicy>,
}

pub struct Agent {
    store: Arc<Store>,
    /// Its own connection for the counts' audit entries: the request path checks `store` on every
    /// request, and a flush's keychain anchor call must not make requests wait on it.
    audit_store: Store,
    secrets: Arc<dyn SecretStore>,
    root: SecretSlice<u8>,
    exchange: Arc<ExchangeClient>,
    /// Stamps, freshness windows and drain ends: the same clock the exchange client reads.
    clock: Arc<dyn Clock>,
    http: reqwest::Client,
    known: Mutex<Known>,
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

/// A demo/testnet key: its environment says so, or the exchange said so when it was verified.
fn is_demo(key: &KeyRecord) -> bool {
    matches!(key.environment, Environment::Demo) || key.inspection.as_ref().is_some_and(|i| i.demo)
}

impl Agent {
    /// `store` should be this agent's own connection, so other connections' writes (the app's,
    /// the CLI's) show in its `data_version`.
    pub fn new(
        store: Arc<Store>,
        secrets: Arc<dyn SecretStore>,
        root: SecretSlice<u8>,
        exchange: Arc<ExchangeClient>,
        clock: Arc<dyn Clock>,
    ) -> Result<Agent, AgentError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .pool_max_idle_per_host(64)
            .build()
            .map_err(|e| AgentError::Failed(format!("could not set up the HTTP client: {e}")))?;
        let audit_store = store.open_sibling()?;
        Ok(Agent {
            audit_store,
            store,
            secrets,
            root,
            exchange,
            clock,
            http,
            known: Mutex::default(),
            credentials: Mutex::default(),
            offsets: Mutex::default(),
            orders: Mutex::default(),
            counts: Mutex::default(),
        })
    }

    fn refresh(&self) -> Result<(), AgentError> {
        let version = self.store.data_version()?;
        if lock(&self.known).version == Some(version) {
            return Ok(());
        }
        let all = self.store.list_keys()?;
        let masters: HashSet<KeyId> = all.iter().filter_map(|k| k.master_key_id).collect();
        let keys = all.into_iter().filter(|k| k.status == KeyStatus::Active).map(|k| (k.label.clone(), k)).collect();
        let bots = self
            .store
            .settings_with_prefix::<BotRecord>(BOT_PREFIX)?
            .into_iter()
            .map(|(_, b)| (b.key_sha256.clone(), b))
            .collect();
        let halted = self
            .store
            .settings_with_prefix::<chrono::DateTime<Utc>>(HALT_PREFIX)?
            .into_iter()
            .filter_map(|(name, _)| name[HALT_PREFIX.len()..].parse().ok())
            .collect();
        let draining = self
            .store
            .settings_with_prefix::<chrono::DateTime<Utc>>(super::DRAIN_PREFIX)?
            .into_iter()
            .map(|(name, until)| (name[super::DRAIN_PREFIX.len()..].to_owned(), until))
            .collect();
        let policies = self
            .store
            .settings_with_prefix::<AgentPolicy>(POLICY_PREFIX)?
            .into_iter()
            .map(|(name, p)| (name[POLICY_PREFIX.len()..].to_owned(), p))
            .collect();
        *lock(&self.known) = Known { version: Some(version), bots, keys, masters, halted, draining, policies };
        Ok(())
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
    ) -> Result<(String, KeyRecord, Arc<Credentials>), (Option<String>, Refusal)> {
        if let Err(e) = self.refresh() {
            tracing::warn!(error = %e, "signing agent: could not read the store");
            return Err((None, Refusal::KeyUnusable("Latchkey could not read its database".into())));
        }
        let caller =
            scheme.caller_key(req).ok_or((None, Refusal::UnknownKey("the request names no API key".into())))?;
        let sha = key_sha256(caller);
        let (bot, key, policy, master, draining) = {
            let known = lock(&self.known);
            let bot =
                known.bots.get(&sha).filter(|b| b.exchange == exchange).cloned().ok_or((
                    None,
                    Refusal::UnknownKey("this API key was not issued by Latchkey, or was revoked".into()),
                ))?;
            let key = known.keys.get(&bot.label).cloned();
            let master = key.as_ref().is_some_and(|k| known.masters.contains(&k.id));
            let halted = key.as_ref().is_some_and(|k| known.halted.contains(&k.id));
            let policy = known.policies.get(&bot.label).cloned().unwrap_or_default();
            let draining = known.draining.get(&bot.label).is_some_and(|until| *until > self.clock.now());
            let key = match key {
                None => Err(format!("key '{}' is not active in Latchkey (revoked, quarantined or removed)", bot.label)),
                Some(_) if halted => Err(format!("key '{}' is being revoked", bot.label)),
                Some(k) => Ok(k),
            };
            (bot, key, policy, master, draining)
        };
        let name = Some(bot.name.clone());
        let placeholder = derive_placeholder(&self.root, caller, &scheme.placeholder_shape());
        let signing = SigningKey {
            api_key: &placeholder.api_key,
            secret: &placeholder.secret,
            passphrase: placeholder.passphrase.as_ref(),
        };
        scheme.verify(req, &signing, self.clock.now().timestamp_millis()).map_err(|r| (name.clone(), r))?;
        let key = key.map_err(|r| (name.clone(), Refusal::KeyUnusable(r)))?;
        if master || !key.bots_allowed {
            let why = format!(
                "key '{}' is not allowed for bots (\"Bots may use this key\" is off, or it is a master)",
                key.label
            );
            return Err((name, Refusal::KeyUnusable(why)));
        }
        if scheme.wants_demo(req) != is_demo(&key) {
            let (asked, is) = if is_demo(&key) { ("live", "demo") } else { ("demo", "live") };
            return Err((
                name,
                Refusal::WrongEnvironment(format!(
                    "the request is for {asked} trading but key '{}' is a {is} key",
                    key.label
                )),
            ));
        }
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
        let credentials = self.credentials(&key).await.map_err(|r| (name.clone(), r))?;
        Ok((bot.name, key, credentials))
    }

    async fn credentials(&self, key: &KeyRecord) -> Result<Arc<Credentials>, Refusal> {
        if let Some(c) = lock(&self.credentials).get(&key.id) {
            return Ok(c.clone());
        }
        let secrets = self.secrets.clone();
        let id = key.id;
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
        let active: HashSet<KeyId> = lock(&self.known).keys.values().map(|k| k.id).collect();
        cache.retain(|id, _| active.contains(id));
        cache.insert(key.id, credentials.clone());
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
        key: &KeyRecord,
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
        let out = match scheme.resign(req, &real, now_ms, is_demo(key)) {
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
        if let Err(e) = self.refresh() {
            tracing::warn!(error = %e, "signing agent: could not read the store");
            return Err(Refusal::KeyUnusable("Latchkey could not read its database".into()));
        }
        let mut targets: Vec<Endpoint> = {
            let known = lock(&self.known);
            known
                .bots
                .values()
                .filter(|b| b.exchange == exchange)
                .filter_map(|b| known.keys.get(&b.label))
                .filter(|k| is_demo(k) == demo)
                .filter_map(|k| Endpoint::new(k.exchange, &k.environment).ok())
                .collect()
        };
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
        if let Err(e) = super::audit_counts::flush(&self.counts, &self.audit_store, self.clock.now()) {
            tracing::warn!(error = %e, "signing agent: could not write its counts to the audit log; kept for the next flush");
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
