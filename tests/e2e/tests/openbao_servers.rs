//! Keys for bots on servers in the real window, against a real `bao server -dev`: the server set up
//! in Settings by typing (a token), "Test connection", a key delivered from its card with a 2FA
//! code, a host added for it (another code; its role-id and wrapped secret-id shown once), then the
//! host signs in and reads the key as a server would, and its last read shows on the card. The
//! token typed is on the leak scan's list: it must reach no file and no IPC reply.
#![allow(clippy::unwrap_used)]

mod support;

#[path = "../../../crates/core/tests/integration/openbao_support/mod.rs"]
mod openbao_support;

use std::path::Path;

use chrono::Utc;
use latchkey_core::audit::{Action, Event, Outcome};
use latchkey_core::keychain::{Keychain, SecretStore};
use latchkey_core::model::{Environment, Exchange, KeyRecord, Permission};
use latchkey_core::secret::Credentials;
use latchkey_core::servers::{BaoClient, ReadRecord, ServerError};
use latchkey_core::store::Store;
use openbao_support::DevServer;
use secrecy::{ExposeSecret, SecretString};
use support::{fresh_work, oathtool_code, Driver};

const SERVICE: &str = "latchkey-e2e-openbao";
const LABEL: &str = "e2e-bao-bot";
const API_SECRET: &str = "9F8E7D6C5B4A39281706F5E4D3C2B1A0";

/// A key bots may use, as the wizard would have saved it.
fn seed_key(data_dir: &Path) {
    let store = Store::open_in(data_dir).unwrap();
    let key = KeyRecord {
        environment: Environment::Custom { base_url: "http://127.0.0.1:9".into() },
        key_hint: "b0a1…e2f3".into(),
        permissions: vec![Permission::Read, Permission::Trade],
        ip_whitelist: vec!["203.0.113.7".into()],
        verified_at: Some(Utc::now()),
        bots_allowed: true,
        ..KeyRecord::sample(Exchange::Bybit, LABEL, Utc::now(), 90)
    };
    let credentials = Credentials::new("B0A1C2D3E4F5A6B7E2F3", API_SECRET, None);
    Keychain::new(SERVICE).put(key.id, LABEL, &credentials).unwrap();
    let event = Event {
        at: Utc::now(),
        action: Action::Add,
        key_id: Some(key.id),
        label: Some(&key.label),
        outcome: Outcome::Ok,
        detail: String::new(),
    };
    store.insert_key(&key, &event).unwrap();
}

/// The servers part sits below the fold of Settings: WebKitWebDriver's clear and click refuse an
/// element out of view, so it is scrolled there first.
async fn shown(d: &Driver, css: &str) -> String {
    d.wait_for(css).await;
    let script = format!(
        "document.querySelector({}).scrollIntoView({{ block: 'center' }}); return true",
        serde_json::to_string(css).unwrap()
    );
    d.js(&script).await;
    css.to_owned()
}

const CARD: &str = "[data-testid=key-card][data-label=\"e2e-bao-bot\"]";

#[tokio::test(flavor = "multi_thread")]
#[ignore = "drives the real app window: run scripts/test-all.sh"]
async fn a_key_delivered_from_its_card_shows_the_hosts_last_read() {
    let test = "a_key_delivered_from_its_card_shows_the_hosts_last_read";
    let Some(bao) = DevServer::start(test).await else { return };
    let (status, reply) =
        bao.admin(reqwest::Method::POST, "sys/auth/approle", Some(serde_json::json!({ "type": "approle" }))).await;
    assert_eq!(status, 204, "approle enabled: {reply}");
    let (_work, data_dir) = fresh_work("openbao");
    seed_key(&data_dir);
    let mut d = Driver::launch(
        "openbao",
        &[("LATCHKEY_DATA_DIR", &data_dir), ("LATCHKEY_KEYCHAIN_SERVICE", Path::new(SERVICE))],
    )
    .await;
    d.note_secret(API_SECRET);
    let totp = d.enrol_2fa().await;
    d.wait_for(CARD).await;

    // Settings → Servers (OpenBao), typed as a user would.
    d.click("#open-settings").await;
    d.wait_for("#servers-addr").await;
    d.type_into(&shown(&d, "#servers-addr").await, &bao.addr).await;
    d.type_into(&shown(&d, "#servers-credential").await, &bao.root).await;
    d.click(&shown(&d, "#servers-save").await).await;
    let saved = d.wait_for("#servers-result:not([hidden])").await.text().await.unwrap();
    assert!(saved.starts_with("Server saved"), "{saved}");
    let field = d.js("return document.getElementById('servers-credential').value").await;
    assert_eq!(field, "", "the token field is blanked once saved");
    d.click(&shown(&d, "#servers-test").await).await;
    d.wait_until(
        "the test's report",
        "return (document.getElementById('servers-result')?.textContent ?? '').includes('Connected to OpenBao')",
        30,
    )
    .await;
    let report = d.text("#servers-result").await;
    assert!(report.contains(&bao.addr) && report.contains("secret/data/latchkey/<label>"), "{report}");
    d.wait_for("#server-hosts-status").await;
    d.screenshot("servers-settings").await;

    // Deliver from the card, with a code.
    d.click(&shown(&d, "#close-settings").await).await;
    d.click_until_shown(&shown(&d, &format!("{CARD} .deliver-key")).await, "#deliver-dialog").await;
    d.type_into("#deliver-dialog #guard-code", &oathtool_code(&totp, 1)).await;
    d.screenshot("deliver-dialog").await;
    d.click("#deliver-confirm").await;
    d.wait_for(&format!("{CARD} .undeliver-key")).await;
    let row = d.text(&format!("{CARD} [data-testid=key-servers]")).await;
    assert!(row.contains("On servers · version 1") && row.contains("No host can read it yet"), "{row}");
    let on_server = bao.client().read_version(LABEL, None).await.unwrap();
    assert_eq!((on_server.version, on_server.credentials.api_secret.expose_secret()), (1, API_SECRET));

    // Add a host for it in Settings (a recovery code: this 30 s step's code was used).
    d.click("#open-settings").await;
    d.click(&shown(&d, "#add-host").await).await;
    d.wait_for("#add-host-dialog").await;
    d.type_into("#host-name", "vps-1").await;
    d.click(&shown(&d, &format!(".host-key[data-label=\"{LABEL}\"]")).await).await;
    let code = d.recovery_code();
    d.type_into("#add-host-dialog #guard-code", &code).await;
    d.click("#add-host-confirm").await;
    d.wait_for("#enrolment-dialog").await;
    let role_id = d.text("#enrolment-role-id").await;
    let wrapped = d.text("#enrolment-secret-id").await;
    let run_line = d.text("#enrolment-run-line").await;
    assert!(run_line.starts_with("latchkey run --from openbao") && run_line.contains(&role_id), "{run_line}");
    assert!(!run_line.contains(&wrapped), "the secret-id goes in a file, not on the command line");
    d.screenshot("host-enrolment").await;
    d.click("#enrolment-done").await;
    d.wait_for("#server-hosts [data-host=\"vps-1\"]").await;
    let script = format!("return document.body.innerHTML.includes({})", serde_json::to_string(&wrapped).unwrap());
    assert_eq!(
        d.js(&script).await,
        serde_json::Value::Bool(false),
        "the wrapped secret-id left the page with its dialog"
    );

    // The host reads the key as `latchkey run --from openbao` would, and records the read.
    let host = BaoClient::host_sign_in(bao.settings(), &role_id, SecretString::from(wrapped)).await.unwrap();
    let got = host.read_version(LABEL, None).await.unwrap();
    assert_eq!(got.credentials.api_secret.expose_secret(), API_SECRET);
    let me = host.host_identity().await.unwrap();
    let now = Utc::now();
    let record = ReadRecord { version: got.version, read_at: now, seen_at: now, accessor: Some(me.accessor) };
    host.record_read("vps-1", LABEL, &record).await.unwrap();

    // Back on the keys, the card asks OpenBao again and shows the read.
    d.click(&shown(&d, "#close-settings").await).await;
    d.wait_until(
        "the host's read on the card",
        r#"return (document.querySelector('[data-testid=key-card][data-label="e2e-bao-bot"] .host-read[data-host="vps-1"]')?.textContent ?? '') === 'vps-1 · read just now'"#,
        30,
    )
    .await;
    d.screenshot("card-host-read").await;

    // Removing needs no code (it only narrows where keys go): the key leaves the server, and the
    // removed host's token reads nothing more.
    d.click(&shown(&d, &format!("{CARD} .undeliver-key")).await).await;
    d.click("#undeliver-dialog-confirm").await;
    d.wait_for(&format!("{CARD} .deliver-key")).await;
    let gone = bao.client().read_version(LABEL, None).await;
    assert!(matches!(gone, Err(ServerError::NotFound { .. })), "every version destroyed: {gone:?}");
    d.click("#open-settings").await;
    d.click(&shown(&d, "#server-hosts [data-host=\"vps-1\"] .remove-host").await).await;
    d.click("#remove-host-dialog-confirm").await;
    d.wait_until(
        "the host list without vps-1",
        "return !!document.getElementById('server-hosts') && !document.querySelector('#server-hosts [data-host=\"vps-1\"]') && document.getElementById('server-hosts').getAttribute('aria-busy') === null",
        30,
    )
    .await;
    let refused = host.record_read("vps-1", LABEL, &record).await;
    assert!(refused.is_err(), "the removed host's token writes nothing: {refused:?}");
    d.screenshot("host-removed").await;
    d.quit().await;
}
