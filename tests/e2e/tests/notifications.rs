//! Issue 11, item 6: notifications that match what they say, and keys from the CLI seen at once.
//!
//! A stand-in notification server owns `org.freedesktop.Notifications` on the test session's bus
//! (the session has none): it answers `Notify` with an id and can click a button by sending the
//! spec's `ActionInvoked` signal, as GNOME or KDE would. `dbus-monitor` records the real `Notify`
//! calls besides. An overdue key is notified as critical with "Rotate…" and "Snooze 1 day";
//! Snooze snoozes it (the card says so). A key the CLI adds while the app runs shows up in the
//! list, and an overdue key another process adds is notified within the minute, not at the
//! reminder timer's next 15-minute nap; its "Rotate…" opens the rotation for that key.

mod support;

use std::collections::HashMap;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use latchkey_core::exchange::{ClientConfig, Endpoint, ExchangeClient, SystemClock};
use latchkey_core::keychain::Keychain;
use latchkey_core::model::{Environment, Exchange};
use latchkey_core::secret::Credentials;
use latchkey_core::store::Store;
use latchkey_core::vault::{NewKey, Vault};
use support::{env_path, fresh_work, Driver, NotifyMonitor, Sim};
use zbus::zvariant::OwnedValue;

const PATH: &str = "/org/freedesktop/Notifications";
const IFACE: &str = "org.freedesktop.Notifications";

/// One `Notify` call as the server received it.
#[derive(Clone, Debug)]
struct Shown {
    id: u32,
    body: String,
    actions: Vec<String>,
    urgency: Option<u8>,
}

#[derive(Default)]
struct Server {
    shown: Arc<Mutex<Vec<Shown>>>,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Server {
    fn get_capabilities(&self) -> Vec<String> {
        vec!["actions".into(), "body".into()]
    }

    #[allow(clippy::too_many_arguments)]
    fn notify(
        &self,
        _app_name: String,
        _replaces_id: u32,
        _app_icon: String,
        _summary: String,
        body: String,
        actions: Vec<String>,
        hints: HashMap<String, OwnedValue>,
        _expire_timeout: i32,
    ) -> u32 {
        let mut shown = self.shown.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let id = u32::try_from(shown.len()).unwrap_or(u32::MAX) + 1;
        let urgency = hints.get("urgency").and_then(|v| u8::try_from(v).ok());
        shown.push(Shown { id, body, actions, urgency });
        id
    }

    fn close_notification(&self, _id: u32) {}

    fn get_server_information(&self) -> (String, String, String, String) {
        ("latchkey-e2e".into(), "latchkey".into(), "1".into(), "1.2".into())
    }
}

struct NotificationServer {
    conn: zbus::blocking::Connection,
    shown: Arc<Mutex<Vec<Shown>>>,
}

impl NotificationServer {
    fn start() -> NotificationServer {
        let server = Server::default();
        let shown = server.shown.clone();
        let conn = zbus::blocking::connection::Builder::session()
            .and_then(|b| b.name(IFACE))
            .and_then(|b| b.serve_at(PATH, server))
            .and_then(|b| b.build())
            .expect("the test session's bus takes the notification server");
        NotificationServer { conn, shown }
    }

    /// Waits up to `secs` for a notification whose body contains `needle`.
    fn wait_for(&self, needle: &str, secs: u64) -> Shown {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let shown = self.shown.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
            if let Some(s) = shown.iter().find(|s| s.body.contains(needle)) {
                return s.clone();
            }
            assert!(
                Instant::now() < deadline,
                "no notification containing {needle:?} within {secs} s; shown: {shown:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The user clicks `action` on notification `id`.
    fn click(&self, id: u32, action: &str) {
        self.conn.emit_signal(None::<&str>, PATH, IFACE, "ActionInvoked", &(id, action)).expect("ActionInvoked sent");
    }
}

/// A key added by another process (as the CLI or a user 100 days ago would have): the keychain
/// item and the metadata row, checked with the simulator.
async fn add_key(
    data_dir: &std::path::Path,
    service: &str,
    base_url: &str,
    label: &str,
    key: (&str, &str),
    age_days: i64,
) {
    let vault = Vault::new(Arc::new(Store::open_in(data_dir).expect("store")), Arc::new(Keychain::new(service)));
    let environment = Environment::Custom { base_url: base_url.to_owned() };
    let new = NewKey {
        exchange: Exchange::Bybit,
        label: label.into(),
        environment: environment.clone(),
        credentials: Credentials::new(key.0, key.1, None),
        rotation_days: Some(30),
    };
    let checked = vault.validate(new).expect("valid");
    let client = ExchangeClient::new(ClientConfig::default(), Arc::new(SystemClock)).expect("client");
    let endpoint = Endpoint::new(Exchange::Bybit, &environment).expect("endpoint");
    let inspection = client.inspect(&endpoint, &checked.credentials).await.expect("the simulator knows the key");
    vault.insert(checked, Some(inspection), Utc::now() - chrono::Duration::days(age_days)).expect("added");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "drives the real app window: run scripts/test-all.sh"]
async fn notifications_carry_urgency_and_working_buttons_and_cli_keys_show_up_at_once() {
    let (work, data_dir) = fresh_work("notifications");
    let sim = Sim::start(&support::seed_file());
    let service = "latchkey-e2e-notify";
    add_key(
        &data_dir,
        service,
        &sim.base_url,
        "e2e-bybit-old",
        ("E2EbybitOldKey0003", "E2EbybitOldSecretAbcdefGhijklmnop123"),
        100,
    )
    .await;

    let server = NotificationServer::start();
    let monitor = NotifyMonitor::start(work.join("notify.log"));
    let mut d = Driver::launch(
        "notifications",
        &[("LATCHKEY_DATA_DIR", &data_dir), ("LATCHKEY_KEYCHAIN_SERVICE", std::path::Path::new(service))],
    )
    .await;

    // Overdue: critical, with the card's own two buttons.
    let overdue = server.wait_for("Rotate your Bybit key 'e2e-bybit-old' — overdue by 70 days", 20);
    assert_eq!(overdue.urgency, Some(2), "overdue is critical: {overdue:?}");
    assert_eq!(overdue.actions, ["default", "Open Latchkey", "rotate", "Rotate…", "snooze", "Snooze 1 day"]);
    // The real call on the bus says the same.
    let seen = monitor.wait_for("e2e-bybit-old", 5);
    let urgency = seen.find("string \"urgency\"").map(|at| &seen[at..(at + 80).min(seen.len())]);
    assert!(urgency.is_some_and(|u| u.contains("byte 2")), "the urgency hint is critical: {seen}");
    assert!(seen.contains("string \"Snooze 1 day\"") && seen.contains("string \"Rotate…\""), "{seen}");

    // "Snooze 1 day" does what the card's button does: the card shows it snoozed.
    let card = |label: &str| format!("[data-testid=key-card][data-label=\"{label}\"]");
    d.wait_for(&format!("{} .rotation-badge[data-state=overdue]", card("e2e-bybit-old"))).await;
    server.click(overdue.id, "snooze");
    d.wait_for(&format!("{} .snoozed-until", card("e2e-bybit-old"))).await;
    let log = Store::open_in(&data_dir).expect("store").audit_log(20).expect("audit");
    assert_eq!(log.iter().filter(|e| e.action == "snooze").count(), 1, "snoozed once, audited: {log:?}");
    d.screenshot("snoozed-from-notification").await;

    // The CLI adds a key while the app runs: the list shows it without a restart or a click.
    let cli = env_path("LATCHKEY_APP_BIN").with_file_name("latchkey");
    let out = Command::new(&cli)
        .args(["add", "--exchange", "okx", "--label", "e2e-okx-second", "--env", "custom", "--base-url", &sim.base_url])
        .env("LATCHKEY_DATA_DIR", &data_dir)
        .env("LATCHKEY_KEYCHAIN_SERVICE", service)
        .env("LATCHKEY_API_KEY", "3c8a7b6d-1e2f-4a5b-9c8d-7e6f5a4b3c2d")
        .env("LATCHKEY_API_SECRET", "0F1E2D3C4B5A69788796A5B4C3D2E1F0")
        .env("LATCHKEY_API_PASSPHRASE", "Second-Pass-2026")
        .output()
        .expect("the CLI runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let added = Instant::now();
    let shows = format!("return !!document.querySelector('{}');", card("e2e-okx-second").replace('\'', "\\'"));
    d.wait_until("the key the CLI added is listed", &shows, 60).await;
    println!("notifications e2e: the CLI's key was listed after {:?}", added.elapsed());

    // An overdue key from another process is reminded of within the minute; its "Rotate…" opens
    // the guided rotation for that key.
    add_key(
        &data_dir,
        service,
        &sim.base_url,
        "e2e-bybit-wallet",
        ("E2EbybitMaster0001", "E2EbybitSecretAbcdefGhijklmnop123456"),
        100,
    )
    .await;
    let added = Instant::now();
    let wallet = server.wait_for("Rotate your Bybit key 'e2e-bybit-wallet'", 60);
    println!("notifications e2e: the other process's overdue key was notified after {:?}", added.elapsed());
    assert_eq!(wallet.urgency, Some(2));
    // A person clicks long after the app began listening for the click; a test could click
    // before that, so it clicks until the dialog opens (the app acts on one click only).
    let opened = "return !!document.querySelector('#rotate-dialog[data-step=credentials]');";
    let deadline = Instant::now() + Duration::from_secs(15);
    while d.js(opened).await != serde_json::Value::Bool(true) {
        if Instant::now() > deadline {
            d.screenshot("rotate-not-opened").await;
            panic!("Rotate… did not open the rotation of the notified key within 15 s");
        }
        server.click(wallet.id, "rotate");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let title = d.text("#rotate-title").await;
    assert!(title.contains("e2e-bybit-wallet"), "the rotation of the notified key: {title}");
    d.screenshot("rotate-from-notification").await;
    d.quit().await;
}
