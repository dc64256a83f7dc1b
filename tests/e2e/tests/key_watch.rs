//! The daily look at every key reaches the desktop without anyone pressing Re-check: a data dir
//! seeded with two Bybit keys last looked at two days ago, one deleted at the exchange since and one
//! given a withdraw permission since; the app is launched and the session bus shows
//! `org.freedesktop.Notifications.Notify` for both. The cards and the audit log say the same.

mod support;

use std::sync::Arc;

use chrono::{Duration, Utc};
use latchkey_core::exchange::{ClientConfig, Endpoint, ExchangeClient, SystemClock};
use latchkey_core::keychain::Keychain;
use latchkey_core::model::{Environment, Exchange, Permission};
use latchkey_core::secret::Credentials;
use latchkey_core::store::Store;
use latchkey_core::vault::{NewKey, Vault};
use support::{fresh_work, Driver, NotifyMonitor, Sim};

/// The seed's Bybit master: read, trade and withdraw, bound to 127.0.0.1.
const WALLET_KEY: &str = "E2EbybitMaster0001";
const WALLET_SECRET: &str = "E2EbybitSecretAbcdefGhijklmnop123456";
/// A key Bybit no longer knows (deleted on the website): the simulator has never heard of it.
const GONE_KEY: &str = "E2EbybitGoneKey0009";
const GONE_SECRET: &str = "E2EbybitGoneSecretAbcdefGhijklmnop99";

async fn seed(data_dir: &std::path::Path, service: &str, base_url: &str) {
    let vault = Vault::new(Arc::new(Store::open_in(data_dir).expect("store")), Arc::new(Keychain::new(service)));
    let environment = Environment::Custom { base_url: base_url.to_owned() };
    let client = ExchangeClient::new(ClientConfig::default(), Arc::new(SystemClock)).expect("client");
    let endpoint = Endpoint::new(Exchange::Bybit, &environment).expect("endpoint");
    let two_days_ago = Utc::now() - Duration::days(2);
    let new = |label: &str, key: &str, secret: &str| NewKey {
        exchange: Exchange::Bybit,
        label: label.into(),
        environment: environment.clone(),
        credentials: Credentials::new(key, secret, None),
        rotation_days: Some(90),
    };

    // Two days ago the wallet key could not withdraw; since then someone turned withdrawals on.
    let checked = vault.validate(new("wallet-bot", WALLET_KEY, WALLET_SECRET)).expect("valid");
    let mut inspection = client.inspect(&endpoint, &checked.credentials).await.expect("the simulator knows the key");
    assert!(inspection.has(Permission::Withdraw), "the seed key can withdraw");
    inspection.permissions.retain(|p| *p != Permission::Withdraw);
    vault.insert(checked, Some(inspection.clone()), two_days_ago).expect("seeded");

    // Two days ago this key worked (as the wallet key's twin); since then it was deleted on
    // Bybit's website, so the simulator does not know it.
    let checked = vault.validate(new("gone-bot", GONE_KEY, GONE_SECRET)).expect("valid");
    vault.insert(checked, Some(inspection), two_days_ago).expect("seeded");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "drives the real app window: run scripts/test-all.sh"]
async fn changed_and_deleted_keys_are_found_in_the_background_and_notified() {
    let (work, data_dir) = fresh_work("key-watch");
    let sim = Sim::start(&support::seed_file());
    let service = "latchkey-e2e-watch";
    seed(&data_dir, service, &sim.base_url).await;

    let monitor = NotifyMonitor::start(work.join("notify.log"));
    let mut d = Driver::launch(
        "key-watch",
        &[("LATCHKEY_DATA_DIR", &data_dir), ("LATCHKEY_KEYCHAIN_SERVICE", std::path::Path::new(service))],
    )
    .await;
    d.note_secret(GONE_SECRET);
    // The first look waits 10 s after start; then one signed read per key, 0.5 s apart on Bybit.
    let seen = monitor.wait_for("gone-bot", 40);
    assert!(seen.contains("Bybit no longer accepts your key 'gone-bot'"), "{seen}");
    let seen = monitor.wait_for("wallet-bot", 10);
    assert!(seen.contains("Your Bybit key 'wallet-bot' can now withdraw funds"), "{seen}");
    assert!(!seen.contains(GONE_SECRET) && !seen.contains(WALLET_SECRET), "no secret in a notification");

    // The list shows it once it is drawn again (here: through the audit log and back).
    d.click("#open-audit").await;
    d.wait_for("#audit-view").await;
    let audit = d.text("#audit-view").await;
    assert!(audit.contains("rejected by Bybit") && audit.contains("gained_withdraw"), "{audit}");
    d.click("#open-audit").await;
    let gone = "[data-testid=key-card][data-label=\"gone-bot\"]";
    d.wait_for(&format!("{gone} .key-status[data-status=rejected]")).await;
    let status = d.text(&format!("{gone} .key-status")).await;
    assert_eq!(status, "Rejected by Bybit (deleted or expired?)");
    let verified = d.text(&format!("{gone} .key-verified")).await;
    assert!(verified.contains("2 days ago"), "a refusal does not refresh the verified date: {verified:?}");
    d.wait_for("[data-testid=key-card][data-label=\"wallet-bot\"] .permission[data-permission=withdraw]").await;
    d.screenshot("rejected-and-changed").await;
    d.quit().await;
}
