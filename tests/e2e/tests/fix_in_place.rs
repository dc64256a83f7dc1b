//! A finding fixed in place in the real window: an OKX bot key without an IP whitelist, whose
//! master Latchkey holds, shows "Bind to these IPs…" beside the finding; one 2FA code later the
//! simulator has the key bound to the address typed, the card's finding is gone and its IP shown.
//! Then, as Latchkey holds its master: automatic rotation turned on from Edit, and "Rotate…"
//! replacing the key through the master with one code.
#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;
use std::sync::Arc;

use chrono::Utc;
use latchkey_core::audit::{Action, Event, Outcome};
use latchkey_core::exchange::{ClientConfig, Endpoint, ExchangeClient, SystemClock};
use latchkey_core::keychain::{Keychain, SecretStore};
use latchkey_core::model::{Environment, Exchange, KeyRecord, Permission};
use latchkey_core::secret::Credentials;
use latchkey_core::store::Store;
use support::{fresh_work, oathtool_code, Driver, Sim};

const SERVICE: &str = "latchkey-e2e-fix";
const OPEN_KEY: &str = "7f3a9e4c-ad6b-4a5c-9e8f-4b3c2d1e0f9a";

fn event(key: &KeyRecord) -> Event<'_> {
    Event {
        at: Utc::now(),
        action: Action::Add,
        key_id: Some(key.id),
        label: Some(&key.label),
        outcome: Outcome::Ok,
        detail: String::new(),
    }
}

/// The master, and the bot key as the wizard saved it (checked with the exchange, so its findings
/// are known), linked to the master and its sub-account.
async fn seed(data_dir: &Path, base_url: &str) {
    let store = Store::open_in(data_dir).unwrap();
    let keychain = Keychain::new(SERVICE);
    let environment = Environment::Custom { base_url: base_url.to_owned() };
    let master = KeyRecord {
        environment: environment.clone(),
        key_hint: "5d1e…8d7e".into(),
        permissions: vec![Permission::Read, Permission::Trade],
        ip_whitelist: vec!["127.0.0.1".into()],
        verified_at: Some(Utc::now()),
        ..KeyRecord::sample(Exchange::Okx, "e2e-okx-master", Utc::now(), 365)
    };
    keychain
        .put(
            master.id,
            "master",
            &Credentials::new(
                "5d1e7c2a-8b4f-4e3a-9c6d-2f1a0b9c8d7e",
                "7A6B5C4D3E2F10011223344556677889",
                Some("Master-Pass-2026!"),
            ),
        )
        .unwrap();
    store.insert_key(&master, &event(&master)).unwrap();
    let credentials = Credentials::new(OPEN_KEY, "9C8D7E6F5A4B30112233445566778899", Some("Open-Pass-2026!"));
    let client = ExchangeClient::new(ClientConfig::default(), Arc::new(SystemClock)).unwrap();
    let inspection = client.inspect(&Endpoint::new(Exchange::Okx, &environment).unwrap(), &credentials).await.unwrap();
    let open = KeyRecord {
        environment,
        key_hint: "7f3a…0f9a".into(),
        permissions: inspection.permissions.clone(),
        ip_whitelist: inspection.ip_whitelist.clone(),
        inspection: Some(inspection),
        verified_at: Some(Utc::now()),
        master_key_id: Some(master.id),
        sub_account: Some("e2e-grid-sub".into()),
        ..KeyRecord::sample(Exchange::Okx, "e2e-open-bot", Utc::now(), 90)
    };
    keychain.put(open.id, "open", &credentials).unwrap();
    store.insert_key(&open, &event(&open)).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "drives the real app window: run scripts/test-all.sh"]
async fn no_ip_whitelist_is_fixed_with_its_button() {
    let (_work, data_dir) = fresh_work("fix-in-place");
    let sim = Sim::start(&support::seed_file());
    seed(&data_dir, &sim.base_url).await;
    let mut d = Driver::launch(
        "fix-in-place",
        &[("LATCHKEY_DATA_DIR", &data_dir), ("LATCHKEY_KEYCHAIN_SERVICE", Path::new(SERVICE))],
    )
    .await;
    let secret = d.enrol_2fa().await;
    let card = "[data-testid=key-card][data-label=\"e2e-open-bot\"]";
    let before = d.text(&format!("{card} .findings")).await;
    assert!(before.contains("works from any IP address"), "the finding is shown: {before}");
    d.screenshot("finding-with-fix").await;
    d.click(&format!("{card} .fix-bind_ips")).await;
    d.wait_for("#fix-dialog").await;
    d.type_into("#fix-ips", "127.0.0.1").await;
    d.type_into("#fix-code", &oathtool_code(&secret, 1)).await;
    d.click("#fix-apply").await;
    let done = d.wait_for("#fix-result:not([hidden])").await;
    let text = done.text().await.unwrap();
    assert!(text.starts_with("Fixed"), "{text}");
    d.screenshot("fixed").await;
    d.click("#fix-cancel").await;

    let state = sim.state();
    let key = state["keys"].as_array().unwrap().iter().find(|k| k["apiKey"] == OPEN_KEY).cloned().unwrap();
    assert_eq!(key["ips"], serde_json::json!(["127.0.0.1"]), "bound at the exchange");
    d.wait_until(
        "the finding gone from the card",
        &format!("return !(document.querySelector('{card} .findings')?.textContent ?? '').toLowerCase().includes('works from any ip address')"),
        10,
    )
    .await;
    let ips = d.text(&format!("{card} .key-ips")).await;
    assert!(ips.contains("127.0.0.1"), "{ips}");

    // Latchkey holds the key's master, so the key can rotate by itself: Edit offers the switch,
    // and turning it on takes a code.
    d.click(&format!("{card} .edit-key")).await;
    d.click("#edit-auto-rotate").await;
    let code = d.recovery_code();
    d.type_into("#edit-code", &code).await;
    d.click("#edit-save").await;
    d.wait_for(&format!("{card} .next-auto-rotation")).await;
    d.screenshot("auto-rotation-on").await;

    // "Rotate…" asks for no new credentials: one code, and the replacement is made through the
    // master, the old key deleted and proven dead.
    d.click(&format!("{card} .rotate-key")).await;
    d.wait_for("#rotate-now-dialog").await;
    let code = d.recovery_code();
    d.type_into("#rotate-now-code", &code).await;
    d.click("#rotate-now-go").await;
    let done = d.wait_for("#rotate-now-result:not([hidden])").await;
    let text = done.text().await.unwrap();
    assert!(text.starts_with("Rotated: the new key is") && text.contains("the old key is deleted"), "{text}");
    d.screenshot("rotated-through-master").await;
    d.click("#rotate-now-cancel").await;
    d.wait_for(&format!("{card} .key-history")).await;
    let manages = d.text("[data-testid=key-card][data-label=\"e2e-okx-master\"] .manages-keys").await;
    assert_eq!(manages, "Manages 1 key", "the revoked old key is history, not a managed key");

    let state = sim.state();
    let keys = state["keys"].as_array().unwrap();
    assert!(keys.iter().all(|k| k["apiKey"] != OPEN_KEY), "the old key is gone at the exchange: {state}");
    // Latchkey names the keys it creates `lk` + part of the new key's id, to find them after a crash.
    let new = keys
        .iter()
        .find(|k| k["subAccount"] == "e2e-grid-sub" && k["label"].as_str().is_some_and(|l| l.starts_with("lk")))
        .cloned();
    let new = new.unwrap_or_else(|| panic!("a replacement in the same sub-account: {state}"));
    assert_eq!(new["ips"], serde_json::json!(["127.0.0.1"]), "with the same IP whitelist");
    assert_eq!(new["permissions"], key["permissions"], "and the same permissions");
    d.quit().await;
}
