//! Rotation reminders reach the desktop: a data dir seeded with an overdue Bybit key, the app
//! launched, and the session bus shows `org.freedesktop.Notifications.Notify` with the key's label.
//! Then the key is rotated through the guided dialog against exchange-sim: the old key offered as its
//! own replacement is refused; with a new key, the old one is gone at the exchange and the new one
//! carries the label with a fresh due date and the history.

mod support;

use std::sync::Arc;

use chrono::{Duration, Utc};
use latchkey_core::exchange::{ClientConfig, Endpoint, ExchangeClient, SystemClock};
use latchkey_core::keychain::Keychain;
use latchkey_core::model::{Environment, Exchange};
use latchkey_core::secret::Credentials;
use latchkey_core::store::Store;
use latchkey_core::vault::{NewKey, Vault};
use support::{fresh_work, Driver, NotifyMonitor, Sim};

const OLD_KEY: &str = "E2EbybitOldKey0003";
const OLD_SECRET: &str = "E2EbybitOldSecretAbcdefGhijklmnop123";
const NEW_KEY: &str = "E2EbybitNewKey0004";
const NEW_SECRET: &str = "E2EbybitNewSecretAbcdefGhijklmnop123";
const LABEL: &str = "bybit-bot";

/// What a user who added the key 100 days ago would have: the keychain item and the metadata row.
async fn seed_overdue_key(data_dir: &std::path::Path, service: &str, base_url: &str) {
    let vault = Vault::new(Arc::new(Store::open_in(data_dir).expect("store")), Arc::new(Keychain::new(service)));
    let environment = Environment::Custom { base_url: base_url.to_owned() };
    let new = NewKey {
        exchange: Exchange::Bybit,
        label: LABEL.into(),
        environment: environment.clone(),
        credentials: Credentials::new(OLD_KEY, OLD_SECRET, None),
        rotation_days: Some(30),
    };
    let checked = vault.validate(new).expect("valid");
    let client = ExchangeClient::new(ClientConfig::default(), Arc::new(SystemClock)).expect("client");
    let endpoint = Endpoint::new(Exchange::Bybit, &environment).expect("endpoint");
    let inspection = client.inspect(&endpoint, &checked.credentials).await.expect("the simulator knows the key");
    vault.insert(checked, Some(inspection), Utc::now() - Duration::days(100)).expect("seeded");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "drives the real app window: run scripts/test-all.sh"]
async fn overdue_key_is_notified_then_rotated() {
    let (work, data_dir) = fresh_work("reminders");
    let sim = Sim::start(&support::seed_file());
    let service = "latchkey-e2e-remind";
    seed_overdue_key(&data_dir, service, &sim.base_url).await;

    let monitor = NotifyMonitor::start(work.join("notify.log"));
    let mut d = Driver::launch(
        "reminders",
        &[("LATCHKEY_DATA_DIR", &data_dir), ("LATCHKEY_KEYCHAIN_SERVICE", std::path::Path::new(service))],
    )
    .await;
    let seen = monitor.wait_for(LABEL, 20);
    assert!(seen.contains("Rotate your Bybit key 'bybit-bot'") && seen.contains("overdue by 70 days"), "{seen}");
    let card = format!("[data-testid=key-card][data-label=\"{LABEL}\"]");
    d.wait_for(&format!("{card} .rotation-badge[data-state=overdue]")).await;
    d.screenshot("overdue-key").await;

    // Rotate it: the new key (read and trade, no withdraw) replaces the old one, which is deleted
    // at the exchange because it may delete itself (Bybit master key with withdraw permission).
    let secret = d.enrol_2fa().await;
    d.click(&format!("{card} .rotate-key")).await;
    d.wait_for("#rotate-dialog[data-step=credentials]").await;
    // The old key itself as its "replacement" is refused before anything is saved or deleted.
    d.type_into("#rotate-api-key", OLD_KEY).await;
    d.type_into("#rotate-api-secret", OLD_SECRET).await;
    d.click("#rotate-next").await;
    d.wait_for("#rotate-check[data-state=failed]").await;
    let refused = d.text("#rotate-verify-error").await;
    assert!(refused.contains("same API key") && refused.contains("Create a new API key on Bybit first"), "{refused}");
    d.screenshot("rotate-same-key").await;
    d.click("#rotate-fix-field").await;
    d.wait_for("#rotate-dialog[data-step=credentials]").await;
    d.type_into("#rotate-api-key", NEW_KEY).await;
    d.type_into("#rotate-api-secret", NEW_SECRET).await;
    d.click("#rotate-next").await;
    d.wait_for("#rotate-check[data-state=ok]").await;
    d.wait_for(".change[data-code=removes_permission]").await;
    d.screenshot("rotate-check").await;
    d.click("#rotate-next").await;
    d.wait_for("#rotate-dialog[data-step=confirm]").await;
    d.type_into("#guard-code", &support::oathtool_code(&secret, 1)).await;
    d.click("#rotate-confirm").await;
    d.wait_for("#rotate-dialog[data-step=result]").await;
    d.screenshot("rotate-result").await;
    d.wait_for("#rotate-dialog #revoke-report .report-item[data-outcome=revoked]").await;
    d.click("#rotate-done").await;
    d.wait_for(&format!("{card} .key-history")).await;
    let badge = d.text(&format!("{card} .rotation-badge")).await;
    assert!(badge.contains("rotate in 30 days"), "the rotation reset the due date: {badge:?}");
    d.screenshot("rotated-key").await;
    d.quit().await;

    let state = sim.state();
    let keys: Vec<&str> = state["keys"].as_array().expect("keys").iter().filter_map(|k| k["apiKey"].as_str()).collect();
    assert!(!keys.contains(&OLD_KEY), "the old key was deleted at the exchange");
    assert!(keys.contains(&NEW_KEY), "the new key is untouched");
}
