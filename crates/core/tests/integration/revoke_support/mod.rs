// Shared by the revoke_* integration tests (included with `mod`).
#![allow(dead_code, clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use exchange_sim::{Seed, Sim, SimHandle, SimKey};
use latchkey_core::exchange::{ClientConfig, ExchangeClient, SystemClock};
use latchkey_core::guard::{totp, Guard, GuardConfig, GuardSecretStore, HashCost};
use latchkey_core::keychain::memory::MemoryStore;
use latchkey_core::keychain::SecretStore;
use latchkey_core::model::{Environment, Exchange, KeyId, KeyRecord, KeyStatus};
use latchkey_core::revoke::{Progress, ProgressEvent, RevokeConfig, RevokeEngine};
use latchkey_core::secret::Credentials;
use latchkey_core::store::Store;
use secrecy::SecretSlice;

pub struct Env {
    pub dir: tempfile::TempDir,
    pub sim: SimHandle,
    pub secrets: Arc<MemoryStore>,
    pub store: Arc<Store>,
    pub engine: RevokeEngine,
    pub totp: SecretSlice<u8>,
    /// The guard's clock: each code is asked for at a new 30 s step.
    pub now: Mutex<DateTime<Utc>>,
}

pub fn fast_config() -> RevokeConfig {
    RevokeConfig {
        request_timeout: Duration::from_millis(400),
        max_attempts: 3,
        backoff_base: Duration::from_millis(20),
        backoff_max: Duration::from_millis(100),
        max_retry_after: Duration::from_secs(2),
        ..RevokeConfig::default()
    }
}

pub fn engine(store: Arc<Store>, secrets: Arc<MemoryStore>, config: RevokeConfig) -> RevokeEngine {
    let guard = Arc::new(Guard::new(
        store.clone(),
        secrets.clone(),
        GuardConfig { recovery_cost: HashCost::fast_for_tests(), ..Default::default() },
    ));
    // The engine does its own Retry-After handling, so the client returns 429s at once.
    let client = ExchangeClient::new(
        ClientConfig { timeout: Duration::from_secs(5), max_retry_after: Duration::ZERO, recv_window_ms: 5000 },
        Arc::new(SystemClock),
    )
    .unwrap();
    RevokeEngine::new(store, secrets, guard, Arc::new(client), Arc::new(SystemClock), config)
}

impl Env {
    pub async fn new(config: RevokeConfig) -> Env {
        Env::with_guard(config, true).await
    }

    /// An app where 2FA was never set up (`totp` then matches no enrolled secret).
    pub async fn without_2fa(config: RevokeConfig) -> Env {
        Env::with_guard(config, false).await
    }

    async fn with_guard(config: RevokeConfig, enrolled: bool) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let sim = Sim::start(Seed::example()).await.unwrap();
        let secrets = Arc::new(MemoryStore::default());
        let store = Arc::new(Store::open_in(dir.path()).unwrap());
        let now = Utc.with_ymd_and_hms(2026, 11, 24, 9, 30, 0).unwrap();
        let guard = Guard::new(
            store.clone(),
            secrets.clone(),
            GuardConfig { recovery_cost: HashCost::fast_for_tests(), ..Default::default() },
        );
        let e = guard.begin_enrollment(None, now).unwrap();
        use secrecy::ExposeSecret;
        let totp = totp::from_base32(e.secret_base32.expose_secret()).unwrap();
        if enrolled {
            guard.confirm_enrollment(&totp::code_at_step(&totp, totp::step_of(now.timestamp())).unwrap(), now).unwrap();
            assert!(secrets.get_totp().unwrap().is_some());
        } else {
            guard.cancel_enrollment(now).unwrap();
        }
        let engine = engine(store.clone(), secrets.clone(), config);
        Env { dir, sim, secrets, store, engine, totp, now: Mutex::new(now) }
    }

    /// A fresh valid code and the time it is valid at.
    pub fn code(&self) -> (String, DateTime<Utc>) {
        let mut now = self.now.lock().unwrap();
        *now += chrono::Duration::seconds(30);
        let code = totp::code_at_step(&self.totp, totp::step_of(now.timestamp())).unwrap();
        (code.to_string(), *now)
    }

    /// Adds a seed key to Latchkey (metadata + secret), optionally linked to its master.
    pub fn add(&self, label: &str, master: Option<KeyId>, sub_account: Option<&str>) -> KeyId {
        let key = seed_key(label);
        self.add_sim_key(&key, master, sub_account)
    }

    pub fn add_sim_key(&self, key: &SimKey, master: Option<KeyId>, sub_account: Option<&str>) -> KeyId {
        let record = record(key, &self.sim.base_url(), master, sub_account);
        let creds = Credentials::new(&key.api_key, &key.secret, key.passphrase.as_deref());
        self.secrets.put(record.id, "test", &creds).unwrap();
        let event = latchkey_core::audit::Event {
            at: Utc::now(),
            action: latchkey_core::audit::Action::Add,
            key_id: Some(record.id),
            label: Some(&record.label),
            outcome: latchkey_core::audit::Outcome::Ok,
            detail: String::new(),
        };
        self.store.insert_key(&record, &event).unwrap();
        record.id
    }

    pub fn status(&self, id: KeyId) -> KeyStatus {
        self.store.get_key(id).unwrap().unwrap().status
    }
}

pub fn record(key: &SimKey, base_url: &str, master: Option<KeyId>, sub_account: Option<&str>) -> KeyRecord {
    KeyRecord {
        environment: Environment::Custom { base_url: base_url.to_owned() },
        key_hint: format!("{}…", &key.api_key[..4]),
        master_key_id: master,
        sub_account: sub_account.map(str::to_owned),
        // As the wizard saves a key: checked with the exchange from this computer.
        verified_at: Some(Utc::now()),
        ..KeyRecord::sample(key.exchange.id().parse::<Exchange>().unwrap(), &key.label, Utc::now(), 90)
    }
}

pub fn seed_key(label: &str) -> SimKey {
    Seed::example().keys.into_iter().find(|k| k.label == label).unwrap_or_else(|| panic!("no seed key {label}"))
}

/// Collects progress events for assertions.
pub fn recorder() -> (Progress, Arc<Mutex<Vec<ProgressEvent>>>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    (Arc::new(move |e| sink.lock().unwrap().push(e)), events)
}

impl Env {
    /// Adds a simulator key the way the wizard does: validated, inspected at the exchange, saved.
    pub async fn add_inspected(
        &self,
        vault: &latchkey_core::vault::Vault,
        client: &ExchangeClient,
        key: &SimKey,
        label: &str,
    ) -> KeyId {
        let new = latchkey_core::vault::NewKey {
            exchange: crate::exchange_support::exchange(key),
            label: label.into(),
            environment: Environment::Custom { base_url: self.sim.base_url() },
            credentials: crate::exchange_support::creds(key),
            rotation_days: None,
        };
        let checked = vault.validate(new).unwrap();
        let endpoint = latchkey_core::exchange::Endpoint::new(checked.exchange, &checked.environment).unwrap();
        let inspection = client.inspect(&endpoint, &checked.credentials).await.unwrap();
        vault.insert(checked, Some(inspection), Utc::now()).unwrap().id
    }

    /// What a guarded action gets after the user typed a valid code.
    pub fn proof(&self) -> latchkey_core::guard::Verified {
        let guard = Guard::new(
            self.store.clone(),
            self.secrets.clone(),
            GuardConfig { recovery_cost: HashCost::fast_for_tests(), ..Default::default() },
        );
        let (code, now) = self.code();
        guard.verify_for_action(&code, now).unwrap()
    }
}
