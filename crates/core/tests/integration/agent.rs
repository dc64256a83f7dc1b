//! The signing agent over real HTTP: Latchkey's own exchange client plays the bot with the
//! placeholder credentials and the agent's URL as its base URL; the agent checks the placeholder
//! signature, re-signs with the real key and forwards to exchange-sim, which checks the real
//! signature as the exchange does. (CCXT as the bot: the exchange-sim and e2e tests.)
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use chrono::Utc;
use latchkey_core::agent::{self, server, Agent, AgentBots, AgentPolicy};
use latchkey_core::audit::{Action, Event, Outcome};
use latchkey_core::exchange::{Endpoint, ExchangeClient, MasterKey};
use latchkey_core::keychain::memory::MemoryStore;
use latchkey_core::keychain::SecretStore;
use latchkey_core::model::{Environment, Exchange, KeyInspection, KeyRecord, KeyStatus};
use latchkey_core::secret::Credentials;
use latchkey_core::store::Store;

use crate::exchange_support::{client, creds, seed_key, sim};

pub(crate) struct World {
    pub(crate) _dir: tempfile::TempDir,
    pub(crate) store: Arc<Store>,
    pub(crate) secrets: Arc<MemoryStore>,
    pub(crate) bots: AgentBots,
    pub(crate) agent_url: String,
    pub(crate) sim: exchange_sim::SimHandle,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    served: Option<tokio::task::JoinHandle<()>>,
}

impl World {
    pub(crate) async fn new() -> World {
        let sim = sim().await;
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open_in(dir.path()).unwrap());
        let secrets = Arc::new(MemoryStore::default());
        let bots = AgentBots::new(store.clone(), secrets.clone());
        let root = agent::placeholders::root_secret(secrets.as_ref()).unwrap();
        // The agent's own connection, as `latchkey agent` opens it.
        let own = Arc::new(Store::open(store.path()).unwrap());
        let agent = Arc::new(
            Agent::new(own, secrets.clone(), root, Arc::new(client()), Arc::new(latchkey_core::exchange::SystemClock))
                .unwrap(),
        );
        let listener = server::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let agent_url = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = tokio::spawn(async move {
            server::serve(agent, listener, async move { drop(stopped.await) }).await.unwrap();
        });
        World { _dir: dir, store, secrets, bots, agent_url, sim, stop: Some(stop), served: Some(served) }
    }

    /// A key of the simulator's seed under `label`, as Latchkey holds it.
    /// A demo key is verified in the demo environment first, as the wizard does.
    pub(crate) async fn hold(&self, seed_label: &str, label: &str, demo: bool) -> KeyRecord {
        let seed = seed_key(seed_label);
        let exchange: Exchange = seed.exchange.id().parse().unwrap();
        let mut record = KeyRecord::sample(exchange, label, Utc::now(), 90);
        record.environment = Environment::Custom { base_url: self.sim.base_url() };
        if demo {
            let demo_env = Endpoint::custom_demo(exchange, &self.sim.base_url()).unwrap();
            let inspection: KeyInspection = client().inspect(&demo_env, &creds(&seed)).await.unwrap();
            assert!(inspection.demo);
            record.inspection = Some(inspection);
        }
        let event = Event {
            at: Utc::now(),
            action: Action::Add,
            key_id: Some(record.id),
            label: Some(label),
            outcome: Outcome::Ok,
            detail: String::new(),
        };
        self.store.insert_key(&record, &event).unwrap();
        self.secrets.put(record.id, label, &creds(&seed)).unwrap();
        record
    }

    /// The bot's view: the agent's URL for the exchange, the placeholders as its credentials.
    pub(crate) fn bot(&self, label: &str, name: &str, demo: bool) -> (Endpoint, Credentials) {
        let issued = self.bots.issue(label, name, Utc::now()).unwrap();
        let (key, secret, passphrase) = agent::exposed(&issued.placeholder);
        let base_url = format!("{}/{}", self.agent_url, issued.bot.exchange.as_str());
        let endpoint = if demo {
            Endpoint::custom_demo(issued.bot.exchange, &base_url).unwrap()
        } else {
            Endpoint::new(issued.bot.exchange, &Environment::Custom { base_url }).unwrap()
        };
        (endpoint, Credentials::new(&key, &secret, passphrase.as_deref()))
    }

    /// No OpenBao set up: revoking this machine's bots never asks it.
    pub(crate) fn servers(&self) -> latchkey_core::servers::Servers {
        let vault = Arc::new(latchkey_core::vault::Vault::new(self.store.clone(), self.secrets.clone()));
        latchkey_core::servers::Servers::new(self.store.clone(), vault, self.secrets.clone())
    }

    pub(crate) async fn stop(mut self) {
        self.stop.take().unwrap().send(()).unwrap();
        self.served.take().unwrap().await.unwrap();
    }
}

fn bot_client() -> ExchangeClient {
    client()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bot_reads_through_the_agent_and_follows_a_rotation_without_a_restart() {
    let w = World::new().await;
    let first = w.hold("okx-sub-bot", "grid", false).await;
    let (endpoint, placeholder) = w.bot("grid", "grid-bot", false);

    let seen = bot_client().inspect(&endpoint, &placeholder).await.unwrap();
    assert_eq!(seen.label.as_deref(), Some("okx-sub-bot"), "the exchange saw the real key");
    let real = seed_key("okx-sub-bot").api_key;
    assert!(w.sim.state().requests_to("/api/v5/account/config").iter().all(|r| r.status == 200));

    // A rotation: the label now names another key; the same placeholder follows at once.
    let event = Event {
        at: Utc::now(),
        action: Action::Rotate,
        key_id: Some(first.id),
        label: Some("grid"),
        outcome: Outcome::Ok,
        detail: String::new(),
    };
    let seed = seed_key("okx-read-only");
    let mut next = KeyRecord::sample(Exchange::Okx, "grid", Utc::now(), 90);
    next.environment = first.environment.clone();
    next.replaces = Some(first.id);
    w.secrets.put(next.id, "grid", &creds(&seed)).unwrap();
    w.store.replace_key(first.id, "grid (old)", &next, &event).unwrap();
    let after = bot_client().inspect(&endpoint, &placeholder).await.unwrap();
    assert_eq!(after.label.as_deref(), Some("okx-read-only"), "the agent signs with the new key now");
    assert_ne!(seed.api_key, real);
    w.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_placeholders_revoked_bots_and_halted_keys_are_refused_in_the_exchanges_words() {
    let w = World::new().await;
    let key = w.hold("okx-sub-bot", "grid", false).await;
    let (endpoint, placeholder) = w.bot("grid", "grid-bot", false);
    let before = w.sim.state().requests.len();

    // A local process with a made-up secret for the issued key: OKX's invalid-signature code.
    let forged = Credentials::new(
        secrecy::ExposeSecret::expose_secret(&placeholder.api_key),
        "not-the-secret",
        placeholder.passphrase.as_ref().map(secrecy::ExposeSecret::expose_secret),
    );
    let err = bot_client().inspect(&endpoint, &forged).await.unwrap_err();
    assert_eq!(err.code(), Some("50113"), "{err}");
    // The real key's own credentials are not a bot's either.
    let err = bot_client().inspect(&endpoint, &creds(&seed_key("okx-sub-bot"))).await.unwrap_err();
    assert_eq!(err.code(), Some("50111"), "{err}");
    assert_eq!(w.sim.state().requests.len(), before, "nothing refused reached the exchange");

    // Halted by an emergency revoke: refused from the next request, before the exchange hears.
    bot_client().inspect(&endpoint, &placeholder).await.unwrap();
    agent::halt_keys(&w.store, &[key.id], Utc::now()).unwrap();
    let sent = w.sim.state().requests.len();
    let err = bot_client().inspect(&endpoint, &placeholder).await.unwrap_err();
    assert_eq!(err.code(), Some("50111"), "{err}");
    assert_eq!(w.sim.state().requests.len(), sent, "the halted key's request never reached the exchange");

    // A bot revoked on its own.
    let _other = w.hold("okx-read-only", "spare", false).await;
    let (spare_endpoint, spare) = w.bot("spare", "spare-bot", false);
    bot_client().inspect(&spare_endpoint, &spare).await.unwrap();
    w.bots.revoke_bot(&w.servers(), "spare-bot", Utc::now()).await.unwrap();
    let err = bot_client().inspect(&spare_endpoint, &spare).await.unwrap_err();
    assert_eq!(err.code(), Some("50111"), "{err}");

    // A bot issued for a server's agent (`agent issue --host`) is that agent's alone: this
    // machine's agent refuses it even with the right signature.
    let _third = w.hold("okx-read-only", "on-vps", false).await;
    let (vps_endpoint, vps) = w.bot("on-vps", "vps-bot", false);
    bot_client().inspect(&vps_endpoint, &vps).await.unwrap();
    let row = "agent-bot vps-bot";
    let mut record: agent::BotRecord = w.store.setting(row).unwrap().unwrap();
    record.host = Some("vps1".into());
    w.store.set_setting(row, &record).unwrap();
    let sent = w.sim.state().requests.len();
    let err = bot_client().inspect(&vps_endpoint, &vps).await.unwrap_err();
    assert_eq!(err.code(), Some("50111"), "{err}");
    assert_eq!(w.sim.state().requests.len(), sent, "it never reached the exchange");
    w.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn demo_requests_get_the_demo_key_and_never_the_live_one() {
    let w = World::new().await;
    w.hold("okx-demo", "paper", true).await;
    w.hold("okx-sub-bot", "live", false).await;
    let (demo_endpoint, demo_bot) = w.bot("paper", "paper-bot", true);
    let seen = bot_client().inspect(&demo_endpoint, &demo_bot).await.unwrap();
    assert!(seen.demo, "forwarded with x-simulated-trading to the demo key");

    // A live key's bot asking for demo trading, and a demo key's bot asking for live: refused.
    let (live_endpoint, live_bot) = w.bot("live", "live-bot", false);
    let live_as_demo = Endpoint::custom_demo(Exchange::Okx, &live_endpoint.base_url).unwrap();
    let err = bot_client().inspect(&live_as_demo, &live_bot).await.unwrap_err();
    assert_eq!(err.code(), Some("50101"), "{err}");
    let demo_as_live =
        Endpoint::new(Exchange::Okx, &Environment::Custom { base_url: demo_endpoint.base_url.clone() }).unwrap();
    let err = bot_client().inspect(&demo_as_live, &demo_bot).await.unwrap_err();
    assert_eq!(err.code(), Some("50101"), "{err}");
    w.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn key_management_never_passes_and_the_audit_log_counts_per_bot() {
    let w = World::new().await;
    w.hold("bybit-sub-trade", "bybit-bot", false).await;
    w.hold("binance-read-only", "binance-bot", false).await;
    let (bybit, bybit_bot) = w.bot("bybit-bot", "b1", false);
    let (binance, binance_bot) = w.bot("binance-bot", "b2", false);
    // Sub-account management (Bybit's sub-account list) and Binance's inspection call
    // (apiRestrictions): refused with each exchange's permission code, never forwarded.
    let before = w.sim.state().requests.len();
    let err = bot_client().list_sub_accounts(MasterKey::unattended(&bybit, &bybit_bot)).await.unwrap_err();
    assert_eq!(err.code(), Some("10005"), "{err}");
    let err = bot_client().inspect(&binance, &binance_bot).await.unwrap_err();
    assert_eq!(err.code(), Some("-1002"), "{err}");
    assert_eq!(w.sim.state().requests.len(), before);

    // A policy cannot open them either, and allow-lists narrow what is left.
    w.bots
        .set_policy(
            "bybit-bot",
            &AgentPolicy { endpoints: Some(vec!["/v5/user/query-sub-members".into()]), ..Default::default() },
            Utc::now(),
        )
        .unwrap();
    let err = bot_client().list_sub_accounts(MasterKey::unattended(&bybit, &bybit_bot)).await.unwrap_err();
    assert_eq!(err.code(), Some("10005"), "{err}");
    assert_eq!(w.sim.state().requests.len(), before);

    // Bybit's own key information (/v5/user/query-api, which Freqtrade reads at start-up) is a
    // signed read: it reaches the exchange with the real key.
    w.bots.set_policy("bybit-bot", &AgentPolicy::default(), Utc::now()).unwrap();
    let seen = bot_client().inspect(&bybit, &bybit_bot).await.unwrap();
    assert_eq!(seen.label.as_deref(), Some("bybit-sub-trade"), "the exchange saw the real key");

    let store = w.store.clone();
    w.stop().await;
    let log = store.audit_log(50).unwrap();
    let refusals: Vec<_> = log.iter().filter(|e| e.action == Action::AgentRefusal).collect();
    assert!(
        refusals.iter().any(|e| e.detail.contains("bot 'b1': GET /v5/user/query-sub-members ×2 refused")),
        "one aggregated entry per bot, endpoint and reason: {refusals:?}"
    );
    assert!(refusals.iter().any(|e| e.detail.contains("bot 'b2'")), "{refusals:?}");
    assert!(log.iter().any(|e| e.action == Action::AgentIssue));
    assert_eq!(store.get_key(store.list_keys().unwrap()[0].id).unwrap().unwrap().status, KeyStatus::Active);
}

#[tokio::test(flavor = "multi_thread")]
async fn after_an_emergency_revoke_the_bots_next_request_fails_at_once() {
    use latchkey_core::revoke::{no_progress, Selection};
    let w = World::new().await;
    let key = w.hold("okx-sub-bot", "grid", false).await;
    let (endpoint, placeholder) = w.bot("grid", "grid-bot", false);
    bot_client().inspect(&endpoint, &placeholder).await.unwrap();

    // 2FA is not set up here, so the typed phrase confirms the revoke (as in the app).
    let engine =
        crate::revoke_support::engine(w.store.clone(), w.secrets.clone(), crate::revoke_support::fast_config());
    engine.emergency_revoke("REVOKE", Selection::Keys(vec![key.id]), Utc::now(), no_progress()).await.unwrap();
    assert_ne!(w.store.get_key(key.id).unwrap().unwrap().status, KeyStatus::Active);
    let sent = w.sim.state().requests.len();
    let err = bot_client().inspect(&endpoint, &placeholder).await.unwrap_err();
    assert_eq!(err.code(), Some("50111"), "{err}");
    assert_eq!(w.sim.state().requests.len(), sent, "refused by the agent, not by the exchange");
    w.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_exchange_answer_over_one_mib_is_not_relayed() {
    use exchange_sim::{Fault, FaultKind};
    let w = World::new().await;
    w.hold("okx-sub-bot", "grid", false).await;
    let (endpoint, placeholder) = w.bot("grid", "grid-bot", false);
    let cap = latchkey_core::exchange::MAX_ANSWER_BYTES;
    w.sim.set_fault(Fault::new(FaultKind::HugeBody { bytes: cap + 1 }).times(20));
    let err = bot_client().inspect(&endpoint, &placeholder).await.unwrap_err();
    // Relayed, the bot's own client would have refused the body itself ("larger than 1024 KiB");
    // the agent answers 502 in its place.
    assert_ne!(err.kind(), "unexpected_response", "{err}");
    assert!(!err.to_string().contains("larger than"), "{err}");
    w.sim.clear_faults();
    bot_client().inspect(&endpoint, &placeholder).await.unwrap();
    w.stop().await;
}

/// Bots load public market data before they trade (CCXT's `load_markets`), and CCXT sends OKX's
/// to the same URL as the signed requests: the agent passes GETs that name no key on the
/// exchange's public paths through unsigned, to where its bots' keys go; everything else unsigned
/// is refused as before, and nothing refused reaches the exchange.
#[tokio::test(flavor = "multi_thread")]
async fn public_market_data_passes_through_unsigned_and_nothing_else_does() {
    let w = World::new().await;
    let http = reqwest::Client::new();
    let get = |path: &str| http.get(format!("{}{path}", w.agent_url)).send();
    // No bot on OKX yet: the agent cannot tell where OKX's public data would come from.
    let none = get("/okx/api/v5/public/time").await.unwrap();
    let text = none.text().await.unwrap();
    assert!(text.contains("says where its public market data comes from"), "{text}");

    w.hold("okx-bot-trade", "okx-bot", false).await;
    w.bot("okx-bot", "okx-b", false);
    w.hold("bybit-bot-trade", "bybit-bot", false).await;
    w.bot("bybit-bot", "bybit-b", false);
    w.hold("binance-bot-trade", "binance-bot", false).await;
    w.bot("binance-bot", "binance-b", false);
    w.sim.clear_requests();
    for path in ["/okx/api/v5/public/time", "/bybit/v5/market/time"] {
        let r = get(path).await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert!(body.to_string().contains('1'), "{path}: the exchange's own answer: {body}");
    }
    // Binance: a client that sends its key on public requests too (NautilusTrader) still passes.
    let r = http
        .get(format!("{}/binance/api/v3/time", w.agent_url))
        .header("X-MBX-APIKEY", "not-a-key-latchkey-issued")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.json::<serde_json::Value>().await.unwrap()["serverTime"].is_number());
    let reached: Vec<String> = w.sim.state().requests.iter().map(|r| r.path.clone()).collect();
    for path in ["/api/v5/public/time", "/v5/market/time", "/api/v3/time"] {
        assert!(reached.iter().any(|p| p == path), "{path} reached the exchange: {reached:?}");
    }

    // Unsigned private reads, writes on public paths and signed-looking public reads: refused.
    let sent = w.sim.state().requests.len();
    let private = get("/okx/api/v5/account/balance").await.unwrap().text().await.unwrap();
    assert!(private.contains("50111"), "{private}");
    let post = http.post(format!("{}/okx/api/v5/public/time", w.agent_url)).send().await.unwrap();
    assert!(post.text().await.unwrap().contains("50111"));
    let odd = get("/okx/api/v5/public/../account/balance").await.unwrap();
    assert_ne!(odd.status(), 200);
    let signed = http
        .get(format!("{}/binance/api/v3/ticker/price?symbol=BTCUSDT&signature=abc", w.agent_url))
        .send()
        .await
        .unwrap();
    assert_ne!(signed.status(), 200, "a signed request is the bot's, checked as such");
    assert_eq!(w.sim.state().requests.len(), sent, "nothing refused reached the exchange");
    w.stop().await;
}
