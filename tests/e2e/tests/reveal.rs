//! Reveal and copy a secret in the real window: enrol 2FA, add an OKX key, reveal it with a wrong
//! code (refused, nothing shown) then a right one (all three parts shown, then gone when the timer
//! runs out), copy its secret (on the X11 clipboard, read back with `xclip`) and see the clipboard
//! cleared after the TTL. The app runs with `LATCHKEY_SECRET_TTL_SECS=3` so the test waits 3 s, not 30.

mod support;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use support::{clipboard, fresh_work, oathtool_code, Driver, Sim, WizardKey};

const OKX: WizardKey = WizardKey {
    exchange: "okx",
    api_key: "3c8a7b6d-1e2f-4a5b-9c8d-7e6f5a4b3c2d",
    secret: "0F1E2D3C4B5A69788796A5B4C3D2E1F0",
    passphrase: Some("Second-Pass-2026"),
    label: "okx-reveal",
};
const TTL_SECS: u64 = 3;

fn unix_secs() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock after 1970").as_secs_f64()
}

/// TOTP codes for successive guarded actions. Each accepted step works once and the guard accepts
/// ±1 step, so action n uses step `first + n`; when that is two steps ahead of the clock, wait for
/// the clock to move on first.
struct Codes<'a> {
    secret: &'a str,
    next_step: i64,
}

impl<'a> Codes<'a> {
    fn new(secret: &'a str) -> Self {
        Codes { secret, next_step: (unix_secs() / 30.0).floor() as i64 }
    }

    fn next(&mut self) -> String {
        loop {
            let now = unix_secs();
            let step = (now / 30.0).floor() as i64;
            // Not within a second of a step boundary: `oathtool` must see the same step we do.
            let near_boundary = now - (step as f64) * 30.0 > 29.0;
            // A slow machine may have let the clock run past our step: a code more than one step
            // old is refused, so skip ahead (steps only need to increase).
            self.next_step = self.next_step.max(step);
            if step + 1 >= self.next_step && !near_boundary {
                let code = oathtool_code(self.secret, self.next_step - step);
                self.next_step += 1;
                return code;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

/// The copy notice's text once the copy is done; fails with the dialog's message if it refused.
async fn copy_outcome(d: &Driver) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let seen = d
            .js("const e = document.querySelector('#copy-dialog [data-error-for=code]:not([hidden]), #copy-dialog .dialog-error:not([hidden])'); \
                 return { notices: window.__notices, error: e ? e.textContent : null };")
            .await;
        if let Some(first) = seen["notices"].as_array().and_then(|n| n.first()).and_then(|n| n.as_str()) {
            return first.to_owned();
        }
        if let Some(error) = seen["error"].as_str() {
            panic!("copy refused: {error:?}");
        }
        assert!(Instant::now() < deadline, "no copy notice and no error within 20 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn page_source(d: &Driver) -> String {
    d.client.source().await.expect("page source")
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "drives the real app window: run scripts/test-all.sh"]
async fn reveal_and_copy_a_secret() {
    let (_, data_dir) = fresh_work("reveal");
    let sim = Sim::start(&support::seed_file());
    let service = "latchkey-e2e-reveal";
    let ttl = TTL_SECS.to_string();
    let mut d = Driver::launch(
        "reveal",
        &[
            ("LATCHKEY_DATA_DIR", &data_dir),
            ("LATCHKEY_KEYCHAIN_SERVICE", std::path::Path::new(service)),
            ("LATCHKEY_SECRET_TTL_SECS", std::path::Path::new(&ttl)),
        ],
    )
    .await;

    // A setup begun and cancelled is dropped in Rust, not just hidden: the audit log says so, and
    // the next setup gets a new secret.
    d.click("#open-2fa").await;
    d.wait_for("#enroll-dialog svg, #enroll-dialog img").await;
    let abandoned = d.read_totp_secret().await;
    d.click("#enroll-cancel").await;
    let store = latchkey_core::store::Store::open_in(&data_dir).expect("the app's store");
    let cancelled = || {
        store.audit_log(20).expect("audit").iter().any(|e| e.action == "guard_enroll" && e.detail.contains("cancelled"))
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cancelled() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(cancelled(), "Cancel reached Rust: the begun setup was dropped and audited");
    drop(store);

    // Enrol 2FA: the secret from the page, the first code from oathtool.
    d.click("#open-2fa").await;
    d.wait_for("#enroll-dialog svg, #enroll-dialog img").await;
    let secret = d.read_totp_secret().await;
    assert_ne!(secret, abandoned, "a new setup, a new secret");
    let mut codes = Codes::new(&secret);
    d.type_into("#enroll-code", &codes.next()).await;
    d.click("#enroll-confirm").await;
    d.note_recovery_codes().await;
    d.click("#recovery-done").await;
    // The audit screen checks the log's end against its anchor in the real keychain.
    d.click("#open-audit").await;
    d.wait_for("#audit-chain[data-ok=true]").await;
    let anchor = d.js("return document.querySelector('#audit-chain').dataset.anchor").await;
    assert_eq!(anchor.as_str(), Some("matches"), "every entry the app wrote moved the anchor");
    d.click("#close-audit").await;

    d.add_key_via_wizard(&OKX, &sim.base_url).await;
    let card = format!("[data-testid=key-card][data-label=\"{}\"]", OKX.label);
    assert!(!page_source(&d).await.contains(OKX.secret), "the dashboard never holds the secret");

    // Reveal with a wrong code: refused under the field, nothing shown.
    d.click(&format!("{card} .reveal-key")).await;
    d.wait_for("#reveal-dialog").await;
    d.type_into("#guard-code", "000000").await;
    d.click("#reveal-confirm").await;
    let err = d.text("[data-error-for=code]:not([hidden])").await;
    assert!(err.to_lowercase().contains("code"), "wrong code explained: {err:?}");
    let shown = d.js("return document.querySelectorAll('.revealed-secret, .revealed-value').length").await;
    assert_eq!(shown.as_u64(), Some(0), "nothing revealed on a wrong code");
    assert!(!page_source(&d).await.contains(OKX.secret));
    d.screenshot("reveal-wrong-code").await;

    // The right code: all three parts, with the countdown.
    d.type_into("#guard-code", &codes.next()).await;
    d.click("#reveal-confirm").await;
    d.wait_for(".revealed-secret").await;
    let shown_at = Instant::now();
    assert_eq!(d.text(".revealed-value[data-part=apiKey]").await, OKX.api_key);
    assert_eq!(d.text(".revealed-value[data-part=apiSecret]").await, OKX.secret);
    assert_eq!(Some(d.text(".revealed-value[data-part=passphrase]").await.as_str()), OKX.passphrase);
    let countdown = d.text(".reveal-countdown").await;
    assert!(
        countdown.parse::<u64>().is_ok_and(|s| (1..=TTL_SECS).contains(&s)),
        "countdown from the TTL: {countdown:?}"
    );
    d.screenshot("revealed").await;
    // Gone from the page once the TTL has run out.
    loop {
        let left = d.js("return document.querySelectorAll('.revealed-secret, .revealed-value').length").await;
        if left.as_u64() == Some(0) {
            break;
        }
        assert!(shown_at.elapsed() < Duration::from_secs(TTL_SECS + 5), "the revealed secret is still shown");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(shown_at.elapsed() >= Duration::from_secs(TTL_SECS - 1), "hidden after the TTL, not at once");
    let source = page_source(&d).await;
    assert!(!source.contains(OKX.secret) && !source.contains(OKX.api_key), "no secret left in the page");
    d.screenshot("reveal-hidden").await;

    // Copy the secret: the code, then the clipboard holds it; after the TTL it does not.
    let before = clipboard();
    assert!(!before.contains(OKX.secret));
    d.click(&format!("{card} .copy-menu summary")).await;
    d.click(&format!("{card} .copy-secret[data-part=apiSecret]")).await;
    d.wait_for("#copy-dialog").await;
    // The notice lives only TTL seconds: record it as it is added rather than poll for it.
    d.js("window.__notices = []; new MutationObserver((ms) => ms.forEach((m) => m.addedNodes.forEach((n) => { \
          if (n.id === 'copy-notice') window.__notices.push(n.textContent); }))).observe(document.body, { childList: true }); \
          return true;")
        .await;
    d.type_into("#guard-code", &codes.next()).await;
    d.click("#copy-confirm").await;
    let notice = copy_outcome(&d).await;
    let copied_at = Instant::now();
    assert!(notice.contains(&format!("Copied — clipboard clears in {TTL_SECS} s")), "{notice:?}");
    assert_eq!(clipboard(), OKX.secret, "the secret is on the system clipboard");
    assert!(!page_source(&d).await.contains(OKX.secret), "copying never sends the secret to the page");
    // Let WebKit paint the closed menu and the notice before the snapshot.
    tokio::time::sleep(Duration::from_millis(300)).await;
    d.screenshot("copied").await;
    loop {
        if !clipboard().contains(OKX.secret) {
            break;
        }
        assert!(copied_at.elapsed() < Duration::from_secs(TTL_SECS + 5), "the clipboard still holds the secret");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(copied_at.elapsed() >= Duration::from_secs(TTL_SECS - 1), "cleared after the TTL, not at once");
    d.quit().await;
    println!("reveal e2e: revealed for {TTL_SECS} s, clipboard cleared after {:?}", copied_at.elapsed());
}
