// Shared by the exchange_* integration tests (included with `mod`, not a test target of its own).
#![allow(dead_code, clippy::unwrap_used)]

pub mod line_bot;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use exchange_sim::{Seed, Sim, SimHandle, SimKey};
use latchkey_core::exchange::{ClientConfig, Clock, Endpoint, ExchangeClient};
use latchkey_core::model::Exchange;
use latchkey_core::secret::Credentials;

/// The real clock, shifted: a computer whose clock is off.
pub struct SkewedClock(pub chrono::Duration);

impl Clock for SkewedClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.0
    }
}

pub fn client_with(config: ClientConfig, skew: chrono::Duration) -> ExchangeClient {
    ExchangeClient::new(config, Arc::new(SkewedClock(skew))).unwrap()
}

/// Short timeout, no waiting on Retry-After: tests stay fast and see the raw outcome.
pub fn client() -> ExchangeClient {
    client_with(
        ClientConfig { timeout: Duration::from_secs(3), max_retry_after: Duration::ZERO, recv_window_ms: 5000 },
        chrono::Duration::zero(),
    )
}

pub async fn sim() -> SimHandle {
    Sim::start(Seed::example()).await.unwrap()
}

pub fn seed_key(label: &str) -> SimKey {
    Seed::example().keys.into_iter().find(|k| k.label == label).unwrap_or_else(|| panic!("no seed key {label}"))
}

pub fn exchange(key: &SimKey) -> Exchange {
    key.exchange.id().parse::<Exchange>().unwrap()
}

pub fn creds(key: &SimKey) -> Credentials {
    Credentials::new(&key.api_key, &key.secret, key.passphrase.as_deref())
}

pub fn endpoint(sim: &SimHandle, exchange: Exchange) -> Endpoint {
    Endpoint::new(exchange, &latchkey_core::model::Environment::Custom { base_url: sim.base_url() }).unwrap()
}

/// An extra key for one test, derived from a seed key.
pub fn variant(label: &str, api_key: &str, change: impl FnOnce(&mut SimKey)) -> SimKey {
    let mut key = seed_key(label);
    key.api_key = api_key.to_owned();
    key.label = format!("{label}-variant");
    change(&mut key);
    key
}

/// Whether `python3` can run `import <modules>` (a bot's package, installed by scripts/test-all.sh).
/// Without it a test says so and checks nothing, unless `require_var` is set: then it fails.
pub fn python_can_import(modules: &str, require_var: &str, what: &str) -> bool {
    let found = std::process::Command::new("python3")
        .args(["-c", &format!("import {modules}")])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(std::env::var_os(require_var).is_none(), "{require_var}=1 but python3 cannot import {modules}");
        eprintln!("{modules} is not installed: {what} checks nothing (see scripts/requirements/)");
    }
    found
}
