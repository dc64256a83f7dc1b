//! Issue 11, items 2 and 3, in the real window at 800×600 with twelve keys: scrolled to the bottom
//! of the list, the Emergency revoke button is still on screen and clickable (the header is
//! sticky); in the dialog the "Revoke 12 keys" button is on screen (the list scrolls, not the
//! button); while Bybit answers slowly, a visible counter and bar count the eleven OKX keys (no API
//! revoke) finished while the one Bybit key that can delete itself is being revoked — it went
//! first, and none of them waited for it.

mod support;

use std::sync::Arc;

use latchkey_core::exchange::{ClientConfig, Endpoint, ExchangeClient, SystemClock};
use latchkey_core::guard::{Guard, GuardConfig, HashCost};
use latchkey_core::keychain::Keychain;
use latchkey_core::model::{Environment, Exchange};
use latchkey_core::secret::Credentials;
use latchkey_core::store::Store;
use latchkey_core::vault::{NewKey, Vault};
use secrecy::ExposeSecret;
use support::{fresh_work, oathtool_code, Driver, Sim};

/// The seed's Bybit master: holds the withdraw permission, so it can delete itself.
const WALLET_KEY: &str = "E2EbybitMaster0001";
const WALLET_SECRET: &str = "E2EbybitSecretAbcdefGhijklmnop123456";
const OKX_KEYS: usize = 11;

fn okx_credentials(i: usize) -> (String, String) {
    (format!("3c8a7b6d-1e2f-4a5b-9c8d-7e6f5a4b{i:04x}"), format!("0F1E2D3C4B5A69788796A5B4C3D2{i:04X}"))
}

/// Twelve keys straight into the data dir and keychain the app will use: the Bybit wallet key as
/// the wizard saves it (inspected at the simulator), and eleven OKX master keys, which no API can
/// revoke.
async fn seed(data_dir: &std::path::Path, service: &str, base_url: &str) {
    let vault = Vault::new(Arc::new(Store::open_in(data_dir).expect("store")), Arc::new(Keychain::new(service)));
    let environment = Environment::Custom { base_url: base_url.to_owned() };
    let client = ExchangeClient::new(ClientConfig::default(), Arc::new(SystemClock)).expect("client");
    let new = |exchange, label: String, credentials| NewKey {
        exchange,
        label,
        environment: environment.clone(),
        credentials,
        rotation_days: Some(90),
    };
    let now = chrono::Utc::now();
    let checked = vault
        .validate(new(Exchange::Bybit, "bybit-wallet".into(), Credentials::new(WALLET_KEY, WALLET_SECRET, None)))
        .expect("valid");
    let endpoint = Endpoint::new(Exchange::Bybit, &environment).expect("endpoint");
    let inspection = client.inspect(&endpoint, &checked.credentials).await.expect("the simulator knows the key");
    vault.insert(checked, Some(inspection), now).expect("seeded");
    for i in 0..OKX_KEYS {
        let (key, secret) = okx_credentials(i);
        let creds = Credentials::new(&key, &secret, Some("Desk-Pass-2026"));
        let checked = vault.validate(new(Exchange::Okx, format!("okx-desk-{i:02}"), creds)).expect("valid");
        vault.insert(checked, None, now).expect("seeded");
    }
}

/// 2FA set up in the same data dir and keychain (enrolment through the window is revoke.rs's
/// business); returns the TOTP secret. The recovery codes are never used here, so they are hashed
/// cheaply.
fn seed_2fa(data_dir: &std::path::Path, service: &str) -> String {
    let store = Arc::new(Store::open_in(data_dir).expect("store"));
    let config = GuardConfig { recovery_cost: HashCost::fast_for_tests(), ..Default::default() };
    let guard = Guard::new(store, Arc::new(Keychain::new(service)), config);
    let now = chrono::Utc::now();
    // A seed a previous run left in this session's keychain is replaced.
    let enrollment = guard.begin_enrollment_destroying_old_seed(now).expect("begin 2FA");
    let secret = enrollment.secret_base32.expose_secret().to_owned();
    guard.confirm_enrollment(&oathtool_code(&secret, 0), now).expect("confirm 2FA");
    secret
}

/// True when the element is inside the viewport and is what a click at its centre would hit.
fn on_screen(css: &str) -> String {
    format!(
        "const el = document.querySelector({css:?}); if (!el) return 'missing';
         const r = el.getBoundingClientRect();
         const inside = r.width > 0 && r.height > 0 && r.top >= 0 && r.left >= 0
           && r.bottom <= window.innerHeight && r.right <= window.innerWidth;
         const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
         return inside && !!hit && (hit === el || el.contains(hit))
           || JSON.stringify({{ top: r.top, bottom: r.bottom, left: r.left, right: r.right,
                viewport: [window.innerWidth, window.innerHeight], hit: hit && (hit.id || hit.className) }});"
    )
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "drives the real app window: run scripts/test-all.sh"]
async fn emergency_revoke_stays_in_reach_at_800x600_and_shows_its_progress() {
    let (_, data_dir) = fresh_work("revoke-reach");
    let sim = Sim::start(&support::seed_file());
    let service = "latchkey-e2e-revoke-reach";
    seed(&data_dir, service, &sim.base_url).await;
    let secret = seed_2fa(&data_dir, service);
    let mut d = Driver::launch(
        "revoke-reach",
        &[("LATCHKEY_DATA_DIR", &data_dir), ("LATCHKEY_KEYCHAIN_SERVICE", std::path::Path::new(service))],
    )
    .await;
    d.note_secret(WALLET_SECRET);
    for i in 0..OKX_KEYS {
        d.note_secret(&okx_credentials(i).1);
    }
    d.note_secret(&secret);

    d.client.set_window_size(800, 600).await.expect("set the window to 800×600");
    d.wait_until(
        "the window is 800×600",
        "return window.outerWidth <= 800 && window.outerHeight <= 600 && window.innerWidth > 700",
        15,
    )
    .await;
    d.wait_until(
        "twelve cards are shown",
        "return document.querySelectorAll('[data-testid=key-card]').length === 12",
        15,
    )
    .await;

    // Scrolled to the very bottom, the header and its red button are still there, clickable.
    // Scrolled again on each try: the list may still be growing while the page settles.
    d.wait_until(
        "the list is scrolled to its bottom",
        "const s = document.scrollingElement; s.scrollTop = s.scrollHeight;
         return s.scrollTop > 200 && Math.abs(s.scrollTop + window.innerHeight - s.scrollHeight) < 2",
        15,
    )
    .await;
    d.wait_until("Emergency revoke is on screen at the bottom of the list", &on_screen("#emergency-revoke"), 15).await;
    d.screenshot("dashboard-12-keys-scrolled").await;
    // Clicked where it is on screen (a WebDriver click would scroll it into view first).
    let clicked = d
        .js("const r = document.querySelector('#emergency-revoke').getBoundingClientRect();
             const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
             hit.click(); return hit.closest('#emergency-revoke') !== null")
        .await;
    assert_eq!(clicked, serde_json::Value::Bool(true), "the point under the button is the button");

    // The dialog with twelve keys: the list scrolls, the confirm button stays on screen.
    d.wait_for("#revoke-dialog[data-phase=plan]").await;
    d.wait_until("twelve keys are planned", "return document.querySelectorAll('.plan-item').length === 12", 15).await;
    assert_eq!(d.text("#revoke-confirm").await, "Revoke 12 keys");
    d.wait_until("the confirm button is on screen", &on_screen("#revoke-confirm"), 15).await;
    d.wait_until("the code field is on screen", &on_screen("#guard-code"), 15).await;
    d.wait_until(
        "the key list scrolls inside the dialog",
        "const l = document.querySelector('#revoke-plan'); return l.scrollHeight > l.clientHeight",
        15,
    )
    .await;
    d.screenshot("revoke-plan-12-keys").await;

    // Bybit answers slowly from now on: three calls of 2.5 s for the wallet key's revoke.
    sim.set_latency(2500);
    d.type_into("#guard-code", &oathtool_code(&secret, 1)).await;
    d.click("#revoke-confirm").await;
    d.wait_for("#revoke-dialog[data-phase=running]").await;
    // Mid-progress: the eleven OKX keys are finished (still live: blocked, delete on the website)
    // while the Bybit key's revoke is under way; the counter and the bar say so, on screen.
    d.wait_until(
        "eleven of twelve keys are finished while the Bybit key is being revoked",
        "return document.querySelector('#revoke-counter')?.textContent === '11 of 12 keys finished'
           && document.querySelector('#revoke-meter')?.value === 11
           && document.querySelector('#revoke-progress [data-stage=remote_started] .plan-name')?.textContent.startsWith('bybit-wallet')",
        20,
    )
    .await;
    d.wait_until("the counter is on screen", &on_screen("#revoke-counter"), 5).await;
    let shot = d.screenshot("revoke-progress").await;
    println!("revoke-reach e2e: mid-progress screenshot at {}", shot.display());

    // The report: the Bybit key proved revoked, the OKX keys still live; Close on screen.
    d.wait_until(
        "the report is shown",
        "return !!document.querySelector('#revoke-report') && document.querySelectorAll('.report-item').length === 12",
        40,
    )
    .await;
    d.wait_for(".report-item[data-outcome=revoked]").await;
    let manual = d.js("return document.querySelectorAll('.report-item[data-outcome=manual]').length").await;
    assert_eq!(manual, serde_json::json!(OKX_KEYS));
    d.wait_until("Close is on screen", &on_screen("#revoke-done"), 5).await;
    d.screenshot("revoke-report-12-keys").await;
    d.quit().await;
}
