//! Startup reconciliation in the real window: a keychain item whose row is gone (the database was
//! moved aside) is offered at start and restored to the list with what the exchange says about it.

mod support;

use std::sync::Arc;

use chrono::Utc;
use latchkey_core::exchange::{ClientConfig, Endpoint, ExchangeClient, SystemClock};
use latchkey_core::keychain::Keychain;
use latchkey_core::model::{Environment, Exchange};
use latchkey_core::secret::Credentials;
use latchkey_core::store::Store;
use latchkey_core::vault::{NewKey, Vault};
use support::{env_path, Driver, Sim};

const KEY: &str = "E2EbybitMaster0001";
const SECRET: &str = "E2EbybitSecretAbcdefGhijklmnop123456";

#[tokio::test(flavor = "multi_thread")]
#[ignore = "drives the real app window: run scripts/test-all.sh"]
async fn a_keychain_item_without_its_row_is_offered_and_restored() {
    let work = env_path("LATCHKEY_E2E_WORK").join("orphans");
    let _ = std::fs::remove_dir_all(&work);
    let sim = Sim::start(&support::seed_file());
    let service = "latchkey-e2e-orphans";
    let environment = Environment::Custom { base_url: sim.base_url.clone() };
    // What the user had: the key saved (keychain item and row) in the old data dir.
    let old_dir = work.join("old-data");
    let vault = Vault::new(Arc::new(Store::open_in(&old_dir).expect("store")), Arc::new(Keychain::new(service)));
    let new = NewKey {
        exchange: Exchange::Bybit,
        label: "wallet-bot".into(),
        environment: environment.clone(),
        credentials: Credentials::new(KEY, SECRET, None),
        rotation_days: Some(90),
    };
    let checked = vault.validate(new).expect("valid");
    let client = ExchangeClient::new(ClientConfig::default(), Arc::new(SystemClock)).expect("client");
    let endpoint = Endpoint::new(Exchange::Bybit, &environment).expect("endpoint");
    let inspection = client.inspect(&endpoint, &checked.credentials).await.expect("the simulator knows the key");
    let kept = vault.insert(checked, Some(inspection), Utc::now()).expect("saved");

    // The database was moved aside: the app starts on a fresh data dir, the keychain is the same.
    let data_dir = work.join("data");
    std::fs::create_dir_all(&data_dir).expect("data dir");
    let mut d = Driver::launch(
        "orphans",
        &[("LATCHKEY_DATA_DIR", &data_dir), ("LATCHKEY_KEYCHAIN_SERVICE", std::path::Path::new(service))],
    )
    .await;
    let item = format!("#orphans-dialog .orphan-item[data-id=\"{}\"]", kept.id);
    d.wait_for(&item).await;
    let text = d.text(&item).await;
    assert!(text.contains("wallet-bot") && text.contains("Bybit") && text.contains("E2Eb…0001"), "{text}");
    assert!(!text.contains(SECRET));
    d.screenshot("orphan-offered").await;
    d.click(&format!("{item} .orphan-restore")).await;
    d.wait_for(&format!("{item}[data-state=restored]")).await;
    d.click("#orphans-later").await;
    let card = "[data-testid=key-card][data-label=\"wallet-bot\"]";
    d.wait_for(&format!("{card} .permission[data-permission=withdraw]")).await;
    d.wait_for(&format!("{card} .key-status[data-status=active]")).await;
    d.screenshot("orphan-restored").await;
    d.quit().await;
    let restored = Vault::new(Arc::new(Store::open_in(&data_dir).expect("store")), Arc::new(Keychain::new(service)));
    let record = restored.get(kept.id).expect("the row is back under the item's id");
    assert_eq!((record.label.as_str(), record.exchange), ("wallet-bot", Exchange::Bybit));
    assert!(record.verified_at.is_some(), "checked with the exchange on restore");
}
