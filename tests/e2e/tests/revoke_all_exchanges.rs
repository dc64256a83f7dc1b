//! Emergency revoke over a mix of all eight exchanges, in the real window: masters and bot keys in
//! their sub-accounts where the exchange has them, single keys where it does not (as the wizard saved
//! them, checked with the exchange), one code, and the report gives each key its own exchange's
//! outcome: bot keys deleted through their masters and proved revoked by their own refused read,
//! keys that delete themselves (a Bybit master with Transfer, a Deribit key with account:read_write),
//! and what no API can delete (the other masters, Bitget's keys, Kraken's) on the checklist for its
//! exchange's website.

#![allow(clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::Utc;
use latchkey_core::audit::{Action, Event, Outcome};
use latchkey_core::exchange::{ClientConfig, Endpoint, ExchangeClient, SystemClock};
use latchkey_core::keychain::{Keychain, SecretStore};
use latchkey_core::model::{Environment, Exchange, KeyId, KeyRecord};
use latchkey_core::secret::Credentials;
use latchkey_core::store::Store;
use serde_json::Value;
use support::{fresh_work, oathtool_code, Driver, Sim};

const SERVICE: &str = "latchkey-e2e-revoke-all";

/// Each key, in the order stored: its label in the simulator's example seed, its master's label and
/// sub-account where it is a bot key, and the report's outcome for it.
type SeededKey = (&'static str, Option<(&'static str, Option<&'static str>)>, &'static str);
const KEYS: &[SeededKey] = &[
    ("okx-master-ip-bound", None, "manual"),
    ("okx-sub-bot", Some(("okx-master-ip-bound", Some("bot-sub-1"))), "revoked"),
    // A Bybit master holding Transfer deletes itself.
    ("bybit-master-wallet", None, "revoked"),
    ("bybit-sub-trade", Some(("bybit-master-wallet", None)), "revoked"),
    ("binance-master", None, "manual"),
    ("binance-sub-withdraw", Some(("binance-master", Some("bot-sub-1@example.com"))), "revoked"),
    ("kucoin-master", None, "manual"),
    ("kucoin-sub-bot", Some(("kucoin-master", Some("kcbot01"))), "revoked"),
    ("gate-master", None, "manual"),
    ("gate-sub-bot", Some(("gate-master", Some("10002"))), "revoked"),
    // Bitget documents no delete for any key: both on the checklist.
    ("bitget-master-ip-bound", None, "manual"),
    ("bitget-sub-bot", Some(("bitget-master-ip-bound", Some("6000000101"))), "manual"),
    // Kraken has no key API; a Deribit key with account:read_write removes itself.
    ("kraken-read-only", None, "manual"),
    ("deribit-full", None, "revoked"),
];

fn example_seed() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../crates/exchange-sim/seed.example.json")
}

fn seed_key<'a>(seed: &'a Value, label: &str) -> &'a Value {
    let keys = seed["keys"].as_array().expect("keys");
    keys.iter().find(|k| k["label"] == label).unwrap_or_else(|| panic!("{label} in the example seed"))
}

/// Stores the key as the wizard would after checking it with the exchange; returns its id.
async fn store_checked(
    store: &Store,
    client: &ExchangeClient,
    key: &Value,
    base_url: &str,
    master: Option<(KeyId, Option<&str>)>,
) -> KeyId {
    let exchange: Exchange = key["exchange"].as_str().unwrap().parse().unwrap();
    let environment = Environment::Custom { base_url: base_url.to_owned() };
    let credentials =
        Credentials::new(key["apiKey"].as_str().unwrap(), key["secret"].as_str().unwrap(), key["passphrase"].as_str());
    let inspection = client.inspect(&Endpoint::new(exchange, &environment).unwrap(), &credentials).await.unwrap();
    let api_key = key["apiKey"].as_str().unwrap();
    let record = KeyRecord {
        environment,
        key_hint: format!("{}…{}", &api_key[..4], &api_key[api_key.len() - 4..]),
        permissions: inspection.permissions.clone(),
        ip_whitelist: inspection.ip_whitelist.clone(),
        inspection: Some(inspection),
        verified_at: Some(Utc::now()),
        master_key_id: master.map(|(id, _)| id),
        sub_account: master.and_then(|(_, sub)| sub.map(str::to_owned)),
        ..KeyRecord::sample(exchange, key["label"].as_str().unwrap(), Utc::now(), 90)
    };
    Keychain::new(SERVICE).put(record.id, "seeded", &credentials).unwrap();
    let event = Event {
        at: Utc::now(),
        action: Action::Add,
        key_id: Some(record.id),
        label: Some(&record.label),
        outcome: Outcome::Ok,
        detail: String::new(),
    };
    store.insert_key(&record, &event).unwrap();
    record.id
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "drives the real app window: run scripts/test-all.sh"]
async fn emergency_revoke_over_every_exchange() {
    let (_work, data_dir) = fresh_work("revoke-all");
    let sim = Sim::start(&example_seed());
    let seed: Value = serde_json::from_str(&std::fs::read_to_string(example_seed()).unwrap()).unwrap();
    {
        let store = Store::open_in(&data_dir).unwrap();
        let client = ExchangeClient::new(ClientConfig::default(), Arc::new(SystemClock)).unwrap();
        let mut ids = std::collections::HashMap::new();
        for (label, master, _) in KEYS {
            let master = master.map(|(m, sub)| (ids[m], sub));
            let id = store_checked(&store, &client, seed_key(&seed, label), &sim.base_url, master).await;
            ids.insert(*label, id);
        }
    }
    let mut d = Driver::launch(
        "revoke-all",
        &[("LATCHKEY_DATA_DIR", &data_dir), ("LATCHKEY_KEYCHAIN_SERVICE", Path::new(SERVICE))],
    )
    .await;
    for (label, _, _) in KEYS {
        let key = seed_key(&seed, label);
        for part in ["secret", "passphrase"] {
            if let Some(value) = key[part].as_str() {
                d.note_secret(value);
            }
        }
    }
    let secret = d.enrol_2fa().await;

    d.click("#emergency-revoke").await;
    d.wait_for("#revoke-dialog .plan-item[data-action=remote]").await;
    d.screenshot("revoke-all-plan").await;
    d.type_into("#guard-code", &oathtool_code(&secret, 1)).await;
    d.click("#revoke-confirm").await;
    d.wait_for("#revoke-report").await;
    d.wait_until(
        "every key of the report has its outcome",
        &format!(
            "return document.querySelectorAll('#revoke-report .report-item[data-outcome]').length === {}",
            KEYS.len()
        ),
        60,
    )
    .await;
    d.screenshot("revoke-all-report").await;

    let outcome_of = |label: &str| {
        format!(
            "return document.querySelector('#revoke-report .report-item[data-label=\"{label}\"]')?.dataset.outcome ?? null"
        )
    };
    let state = sim.state();
    let live = |label: &str| {
        let api_key = seed_key(&seed, label)["apiKey"].as_str().unwrap().to_owned();
        state["keys"].as_array().unwrap().iter().any(|k| k["apiKey"] == api_key.as_str())
    };
    let mut exchanges = std::collections::BTreeSet::new();
    for (label, _, expected) in KEYS {
        let line = d
            .js(&format!("return document.querySelector('#revoke-report .report-item[data-label=\"{label}\"]')?.textContent ?? ''"))
            .await;
        let log: Vec<String> = state["requests"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["exchange"] == seed_key(&seed, label)["exchange"])
            .map(|r| format!("{} {} {}", r["method"], r["path"], r["code"]))
            .collect();
        assert_eq!(d.js(&outcome_of(label)).await, *expected, "{label}: {line}\n{log:#?}");
        assert_eq!(live(label), *expected == "manual", "{label} at the exchange");
        exchanges.insert(seed_key(&seed, label)["exchange"].as_str().unwrap().to_owned());
    }
    assert_eq!(exchanges.len(), Exchange::ALL.len(), "every exchange Latchkey knows is in the mix");
    let checklist = d.text("#revoke-checklist").await;
    for site in ["okx.com", "binance.com", "kucoin.com", "gate.io", "bitget.com", "kraken.com"] {
        assert!(checklist.contains(site), "the checklist links {site}: {checklist}");
    }
    d.quit().await;
}
