//! "Create a new key for a bot" in the real window: from the Add key wizard, a master key the user
//! added creates a key in one of its sub-accounts (listed by exchange-sim), bound to the bot's IP,
//! read and trade, one 2FA code. The new key's card appears; the master's card says it manages one
//! key; the simulator holds the new key with exactly what was chosen, and no secret reached the page.
#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;

use chrono::Utc;
use latchkey_core::audit::{Action, Event, Outcome};
use latchkey_core::keychain::{Keychain, SecretStore};
use latchkey_core::model::{Environment, Exchange, KeyRecord, Permission};
use latchkey_core::secret::Credentials;
use latchkey_core::store::Store;
use support::{fresh_work, oathtool_code, Driver, Sim};

const SERVICE: &str = "latchkey-e2e-mint";

/// The master key, as the wizard would have saved it (IP-bound, read and trade).
fn seed_master(data_dir: &Path, base_url: &str) {
    let store = Store::open_in(data_dir).unwrap();
    let master = KeyRecord {
        environment: Environment::Custom { base_url: base_url.to_owned() },
        key_hint: "5d1e…8d7e".into(),
        permissions: vec![Permission::Read, Permission::Trade],
        ip_whitelist: vec!["127.0.0.1".into()],
        verified_at: Some(Utc::now()),
        ..KeyRecord::sample(Exchange::Okx, "e2e-okx-master", Utc::now(), 365)
    };
    let credentials = Credentials::new(
        "5d1e7c2a-8b4f-4e3a-9c6d-2f1a0b9c8d7e",
        "7A6B5C4D3E2F10011223344556677889",
        Some("Master-Pass-2026!"),
    );
    Keychain::new(SERVICE).put(master.id, "master", &credentials).unwrap();
    let event = Event {
        at: Utc::now(),
        action: Action::Add,
        key_id: Some(master.id),
        label: Some(&master.label),
        outcome: Outcome::Ok,
        detail: String::new(),
    };
    store.insert_key(&master, &event).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "drives the real app window: run scripts/test-all.sh"]
async fn a_bot_key_is_minted_through_the_wizard() {
    let (_work, data_dir) = fresh_work("mint");
    let sim = Sim::start(&support::seed_file());
    seed_master(&data_dir, &sim.base_url);
    let mut d =
        Driver::launch("mint", &[("LATCHKEY_DATA_DIR", &data_dir), ("LATCHKEY_KEYCHAIN_SERVICE", Path::new(SERVICE))])
            .await;
    let secret = d.enrol_2fa().await;

    d.click("#add-key").await;
    d.click("#wizard-mint").await;
    d.wait_for("#mint-dialog").await;
    // The one master is chosen; the exchange lists its sub-accounts.
    d.wait_for("#mint-sub-account option[value=e2e-grid-sub]").await;
    d.type_into("#mint-ips", "127.0.0.1").await;
    d.type_into("#mint-label", "e2e-minted").await;
    d.type_into("#mint-code", &oathtool_code(&secret, 1)).await;
    d.screenshot("mint-dialog").await;
    d.click("#mint-create").await;
    let done = d.wait_for("#mint-result:not([hidden])").await;
    let text = done.text().await.unwrap();
    assert!(text.starts_with("Created “e2e-minted”") && text.contains("its secret is in the keychain"), "{text}");
    d.screenshot("mint-done").await;
    d.click("#mint-cancel").await;

    d.wait_for("[data-testid=key-card][data-label=\"e2e-minted\"]").await;
    let manages = d.wait_for("[data-testid=key-card][data-label=\"e2e-okx-master\"] .manages-keys").await;
    assert_eq!(manages.text().await.unwrap(), "Manages 1 key");
    d.wait_for("[data-testid=key-card][data-label=\"e2e-minted\"] .next-auto-rotation").await;
    d.screenshot("minted-card").await;

    let state = sim.state();
    let made = state["keys"].as_array().unwrap().iter().find(|k| k["label"] == "e2e-minted").cloned();
    let made = made.unwrap_or_else(|| panic!("the simulator holds the new key: {state}"));
    assert_eq!(made["subAccount"], "e2e-grid-sub");
    assert_eq!(made["permissions"], serde_json::json!(["read", "trade"]));
    assert_eq!(made["ips"], serde_json::json!(["127.0.0.1"]));
    d.quit().await;
}
