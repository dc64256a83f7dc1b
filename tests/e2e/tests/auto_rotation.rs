//! Zero-touch rotation: a bot key Latchkey minted through its master, with "rotate automatically"
//! on and its date past, is rotated by the tray-resident app with no window open. The session bus
//! shows the `Notify` call naming the key; exchange-sim shows the old key deleted and a new one in
//! the same sub-account with the same permissions and IP whitelist; the store has the new key
//! under the label, still rotating by itself.

#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use latchkey_core::audit::{Action, Event, Outcome};
use latchkey_core::keychain::{Keychain, SecretStore};
use latchkey_core::model::{Environment, Exchange, KeyRecord, KeyStatus, MintRecord, Permission};
use latchkey_core::secret::Credentials;
use latchkey_core::store::Store;
use secrecy::ExposeSecret;
use support::{env_path, fresh_work, NotifyMonitor, Sim};

const SERVICE: &str = "latchkey-e2e-autorotate";
const MASTER_KEY: &str = "5d1e7c2a-8b4f-4e3a-9c6d-2f1a0b9c8d7e";
const GRID_KEY: &str = "6e2f8d3b-9c5a-4f4b-8d7e-3a2b1c0d9e8f";
const LABEL: &str = "e2e-grid";

/// The tray start (`--tray` becomes latchkey-resident), ended however the test ends: a failed
/// assertion must not leave it running into the next test.
struct Resident(std::process::Child);

impl Drop for Resident {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

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

/// What a user who minted the bot key 40 days ago (30-day policy, automatic rotation on) has.
fn seed(data_dir: &Path, base_url: &str) -> KeyRecord {
    let store = Store::open_in(data_dir).expect("store");
    let keychain = Keychain::new(SERVICE);
    let environment = Environment::Custom { base_url: base_url.to_owned() };
    let minted = Utc::now() - chrono::Duration::days(40);
    let master = KeyRecord {
        environment: environment.clone(),
        key_hint: "5d1e…8d7e".into(),
        permissions: vec![Permission::Read, Permission::Trade],
        ip_whitelist: vec!["127.0.0.1".into()],
        verified_at: Some(minted),
        bots_allowed: false,
        ..KeyRecord::sample(Exchange::Okx, "e2e-okx-master", minted, 365)
    };
    keychain
        .put(
            master.id,
            "master",
            &Credentials::new(MASTER_KEY, "7A6B5C4D3E2F10011223344556677889", Some("Master-Pass-2026!")),
        )
        .unwrap();
    store.insert_key(&master, &event(&master)).unwrap();
    let grid = KeyRecord {
        environment,
        key_hint: "6e2f…9e8f".into(),
        permissions: vec![Permission::Read, Permission::Trade],
        ip_whitelist: vec!["127.0.0.1".into()],
        verified_at: Some(minted),
        master_key_id: Some(master.id),
        sub_account: Some("e2e-grid-sub".into()),
        ..KeyRecord::sample(Exchange::Okx, LABEL, minted, 30)
    };
    keychain
        .put(grid.id, LABEL, &Credentials::new(GRID_KEY, "8B7C6D5E4F3A20112233445566778899", Some("Grid-Pass-2026!")))
        .unwrap();
    let mint = MintRecord {
        key_id: grid.id,
        master_key_id: master.id,
        sub_account: "e2e-grid-sub".into(),
        exchange_label: LABEL.into(),
        auto_rotate: true,
        minted_at: minted,
        verified_at: Some(minted),
    };
    store.insert_minted_key(&grid, &mint, &event(&grid)).unwrap();
    grid
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "drives the real app (tray, no window): run scripts/test-all.sh"]
async fn a_due_bot_key_is_rotated_by_the_tray_with_the_window_closed() {
    let (work, data_dir) = fresh_work("auto-rotation");
    let sim = Sim::start(&support::seed_file());
    let old = seed(&data_dir, &sim.base_url);
    let monitor = NotifyMonitor::start(work.join("notify.log"));
    let mut app = Resident(
        Command::new(env_path("LATCHKEY_APP_BIN"))
            .arg("--tray")
            .env("LATCHKEY_DATA_DIR", &data_dir)
            .env("LATCHKEY_KEYCHAIN_SERVICE", SERVICE)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(work.join("app.log")).expect("log"))
            .spawn()
            .expect("the app starts"),
    );

    let seen = monitor.wait_for(&format!("Rotated '{LABEL}' automatically"), 60);
    assert!(seen.contains("the old key is deleted"), "{seen}");
    assert!(!seen.contains("Rotate your"), "a key that rotates by itself gets no reminder to rotate it: {seen}");

    // At the exchange: the old key gone; one new key in the sub-account, as the old one was set.
    let state = sim.state();
    let keys = state["keys"].as_array().expect("keys");
    assert!(!keys.iter().any(|k| k["apiKey"] == GRID_KEY), "the old key is deleted at the exchange");
    let made: Vec<&serde_json::Value> =
        keys.iter().filter(|k| k["label"].as_str().is_some_and(|l| l.starts_with("lk"))).collect();
    let [new] = made.as_slice() else { panic!("one new key in the sub-account: {made:?}") };
    assert_eq!(new["subAccount"], "e2e-grid-sub");
    assert_eq!(new["permissions"], serde_json::json!(["read", "trade"]), "the same permissions, never withdraw");
    assert_eq!(new["ips"], serde_json::json!(["127.0.0.1"]), "the same IP whitelist");

    // Here: the new key under the label, its secret in the keychain, rotating by itself again.
    let store = Arc::new(Store::open_in(&data_dir).unwrap());
    let deadline = Instant::now() + Duration::from_secs(20);
    let current = loop {
        let keys = store.list_keys().unwrap();
        if let Some(k) = keys.iter().find(|k| k.label == LABEL && k.status == KeyStatus::Active && k.id != old.id) {
            break k.clone();
        }
        assert!(Instant::now() < deadline, "the new key is not in the store: {keys:?}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(current.replaces, Some(old.id));
    let secret = Keychain::new(SERVICE).get(current.id).unwrap().expect("the new secret is in the keychain");
    assert_eq!(
        new["apiKey"].as_str(),
        Some(secret.api_key.expose_secret()),
        "the key at the exchange is the one Latchkey holds"
    );
    assert!(store.minted(current.id).unwrap().is_some_and(|m| m.auto_rotate), "the new key rotates by itself too");
    assert_eq!(store.get_key(old.id).unwrap().unwrap().status, KeyStatus::Revoked, "the old key is proved gone");

    let _ = Command::new("kill").args(["-TERM", &app.0.id().to_string()]).status();
    let _ = app.0.wait();
}
