//! Editing a key's base URL in the real window (issue 11, item 4). A Bybit key that can delete
//! itself is stored with a base URL that no longer answers (the proxy it was added through is
//! gone), so Emergency revoke cannot reach it and quarantines it. The user opens Edit on its card,
//! sees the current values, fixes the base URL to the simulator's, enters a 2FA code, and the
//! dialog shows the key re-verified at the new address: it still works there, so it stays
//! quarantined (never "fine"). "Retry revoke" then reaches the exchange and proves it revoked.

mod support;

use std::sync::Arc;

use latchkey_core::exchange::{ClientConfig, Endpoint, ExchangeClient, SystemClock};
use latchkey_core::keychain::Keychain;
use latchkey_core::model::{Environment, Exchange};
use latchkey_core::secret::Credentials;
use latchkey_core::store::Store;
use latchkey_core::vault::{NewKey, Vault};
use support::{fresh_work, oathtool_code, Driver, Sim};

/// The seed's Bybit master (read, trade, withdraw): Bybit lets it delete itself.
const WALLET_KEY: &str = "E2EbybitMaster0001";
const WALLET_SECRET: &str = "E2EbybitSecretAbcdefGhijklmnop123456";
const LABEL: &str = "bybit-wallet";
/// A closed port on loopback: nothing answers there.
const DEAD_URL: &str = "http://127.0.0.1:9";

/// The key as it was saved: verified (its permissions known), its base URL now dead.
async fn seed(data_dir: &std::path::Path, service: &str, sim_url: &str) {
    let vault = Vault::new(Arc::new(Store::open_in(data_dir).expect("store")), Arc::new(Keychain::new(service)));
    let client = ExchangeClient::new(ClientConfig::default(), Arc::new(SystemClock)).expect("client");
    let at_sim = Environment::Custom { base_url: sim_url.to_owned() };
    let endpoint = Endpoint::new(Exchange::Bybit, &at_sim).expect("endpoint");
    let credentials = Credentials::new(WALLET_KEY, WALLET_SECRET, None);
    let inspection = client.inspect(&endpoint, &credentials).await.expect("the simulator knows the key");
    let new = NewKey {
        exchange: Exchange::Bybit,
        label: LABEL.into(),
        environment: Environment::Custom { base_url: DEAD_URL.into() },
        credentials,
        rotation_days: Some(90),
    };
    let checked = vault.validate(new).expect("valid");
    vault.insert(checked, Some(inspection), chrono::Utc::now()).expect("seeded");
}

fn sim_has_key(sim: &Sim, api_key: &str) -> bool {
    sim.state()["keys"].as_array().is_some_and(|keys| keys.iter().any(|k| k["apiKey"] == api_key))
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "drives the real app window: run scripts/test-all.sh"]
async fn editing_a_quarantined_keys_base_url_reverifies_it() {
    let (_, data_dir) = fresh_work("edit-key");
    let sim = Sim::start(&support::seed_file());
    let service = "latchkey-e2e-edit-key";
    seed(&data_dir, service, &sim.base_url).await;
    let mut d = Driver::launch(
        "edit-key",
        &[("LATCHKEY_DATA_DIR", &data_dir), ("LATCHKEY_KEYCHAIN_SERVICE", std::path::Path::new(service))],
    )
    .await;
    d.note_secret(WALLET_SECRET);
    let card = format!("[data-testid=key-card][data-label=\"{LABEL}\"]");
    d.wait_for(&card).await;

    // 2FA, keeping the recovery codes: each guarded step below needs a code of its own.
    d.click("#open-2fa").await;
    d.wait_for("#enroll-dialog svg, #enroll-dialog img").await;
    let secret = d.read_totp_secret().await;
    d.type_into("#enroll-code", &oathtool_code(&secret, 0)).await;
    d.click("#enroll-confirm").await;
    assert_eq!(d.note_recovery_codes().await, 10);
    let recovery = d
        .js("return [...document.querySelectorAll('#recovery-codes .recovery-code')].map((e) => e.textContent.trim())")
        .await;
    let recovery: Vec<String> = serde_json::from_value(recovery).expect("codes are strings");
    d.click("#recovery-done").await;

    // Emergency revoke cannot reach the dead address: the key is quarantined.
    d.click("#emergency-revoke").await;
    d.wait_for("#revoke-dialog .plan-item[data-action=remote]").await;
    d.type_into("#guard-code", &oathtool_code(&secret, 1)).await;
    d.click("#revoke-confirm").await;
    d.wait_for(".report-item[data-outcome=quarantined]").await;
    d.click("#revoke-done").await;
    d.wait_for(&format!("{card}.status-quarantined")).await;
    assert!(sim_has_key(&sim, WALLET_KEY), "still live at the exchange");

    // Edit: the dialog opens with the key's current values.
    d.click(&format!("{card} .edit-key")).await;
    d.wait_for("#edit-dialog").await;
    let value = |sel: &str| format!("return document.querySelector('{sel}').value");
    assert_eq!(d.js(&value("#edit-label")).await, LABEL);
    assert_eq!(d.js(&value("#edit-environment")).await, "custom");
    assert_eq!(d.js(&value("#edit-base-url")).await, DEAD_URL);
    // A bad URL is refused under its field, as in the wizard, before anything is sent.
    d.type_into("#edit-base-url", "http://bybit.example.com").await;
    d.click("#edit-save").await;
    let err = d.text("#edit-error-baseUrl").await;
    assert!(err.contains("Use https"), "{err:?}");
    // The simulator's address; a move asks for the code.
    d.type_into("#edit-base-url", &sim.base_url).await;
    d.wait_for("#edit-move-note:not([hidden])").await;
    d.type_into("#edit-code", &recovery[0]).await;
    d.click("#edit-save").await;
    d.wait_for("#edit-result[data-outcome=verified]").await;
    let result = d.text("#edit-result").await;
    assert!(result.contains("Bybit answered at the new address") && result.contains("stays quarantined"), "{result:?}");
    d.screenshot("edit-key-reverified").await;
    d.click("#edit-cancel").await;
    d.wait_until("the edit dialog closed", "return !document.getElementById('edit-dialog');", 10).await;

    // The card: still quarantined (a key that still works is never shown as fine), at its new address.
    d.wait_for(&format!("{card}.status-quarantined")).await;
    let title = d.js(&format!("return document.querySelector('{card} .key-env').title")).await;
    assert_eq!(title, sim.base_url.as_str());

    // Retry revoke now reaches the exchange and proves the key revoked.
    d.click(&format!("{card} .retry-revoke")).await;
    d.wait_for("#retry-dialog").await;
    d.type_into("#guard-code", &recovery[1]).await;
    d.click("#retry-confirm").await;
    d.wait_for(".report-item[data-outcome=revoked]").await;
    d.click("#revoke-done").await;
    d.wait_for(&format!("#revoked-keys [data-label=\"{LABEL}\"]")).await;
    assert!(!sim_has_key(&sim, WALLET_KEY), "deleted at the exchange");
    d.quit().await;
}
