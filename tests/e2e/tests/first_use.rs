//! Issue 11, items 1 and 5, in the real window against the exchange simulator and the real
//! keychain: a new user's first key. Cancel and Escape ask before throwing away typed credentials;
//! after the first key is saved the wizard's last step is 2FA enrolment (screenshot in
//! docs/first-use-enrolment.png), finished there with an authenticator's code. Without 2FA (the
//! explicit skip), the header keeps an undismissable reminder at 800×600 and Emergency revoke still
//! runs after typing REVOKE, proved at the exchange and audited as unguarded.

mod support;

use std::path::{Path, PathBuf};

use support::{fresh_work, oathtool_code, Driver, Sim, WizardKey};

const BYBIT: WizardKey = WizardKey {
    exchange: "bybit",
    api_key: "E2EbybitMaster0001",
    secret: "E2EbybitSecretAbcdefGhijklmnop123456",
    passphrase: None,
    label: "bybit-wallet",
};

const ESCAPE: &str = "\u{e00c}";

fn sim_has_key(sim: &Sim, api_key: &str) -> bool {
    let state = sim.state();
    state["keys"].as_array().is_some_and(|keys| keys.iter().any(|k| k["apiKey"] == api_key))
}

fn docs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs")
}

async fn launch(name: &str, data_dir: &Path) -> Driver {
    Driver::launch(
        name,
        &[("LATCHKEY_DATA_DIR", data_dir), ("LATCHKEY_KEYCHAIN_SERVICE", Path::new(&format!("latchkey-e2e-{name}")))],
    )
    .await
}

/// Exchange, credentials, details (the simulator as a custom base URL), verified, saved.
async fn fill_and_save(d: &Driver, base_url: &str) {
    d.click("#add-key").await;
    d.wait_for("#wizard[data-step=exchange]").await;
    d.click("input[name=exchange][value=bybit]").await;
    d.click("#wizard-next").await;
    d.wait_for("#wizard[data-step=credentials]").await;
    d.type_into("#api-key", BYBIT.api_key).await;
    d.type_into("#api-secret", BYBIT.secret).await;
    d.click("#wizard-next").await;
    d.wait_for("#wizard[data-step=details]").await;
    d.type_into("#label", BYBIT.label).await;
    d.click("#environment option[value=custom]").await;
    d.type_into("#base-url", base_url).await;
    d.click("#wizard-next").await;
    d.wait_for("#verify-result[data-state=ok]").await;
    d.click("#wizard-save").await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "drives the real app window: run scripts/test-all.sh"]
async fn cancel_asks_first_then_the_first_key_ends_with_2fa_enrolment_in_the_wizard() {
    let (_, data_dir) = fresh_work("first_use");
    let sim = Sim::start(&support::seed_file());
    let mut d = launch("first_use", &data_dir).await;
    d.wait_for("#empty-state").await;

    // Item 5: typed credentials are not thrown away without asking.
    d.click("#add-first-key").await;
    d.click("input[name=exchange][value=bybit]").await;
    d.click("#wizard-next").await;
    d.type_into("#api-key", BYBIT.api_key).await;
    d.type_into("#api-secret", BYBIT.secret).await;
    d.click("#wizard-cancel").await;
    d.wait_for("#discard-dialog[role=alertdialog]").await;
    d.screenshot("wizard-discard-prompt").await;
    d.click("#discard-dialog-cancel").await;
    d.wait_until(
        "Keep editing keeps what was typed",
        &format!(
            "return !document.querySelector('#discard-dialog') && document.querySelector('#api-secret')?.value === '{}'",
            BYBIT.secret
        ),
        5,
    )
    .await;
    // Escape asks too; Discard then closes the wizard with nothing saved.
    d.wait_for("#api-secret").await.send_keys(ESCAPE).await.expect("Escape");
    d.wait_for("#discard-dialog").await;
    d.click("#discard-dialog-confirm").await;
    d.wait_until("the wizard is gone", "return !document.querySelector('#wizard')", 5).await;
    d.wait_for("#empty-state").await;

    // Item 1: the first key, then 2FA as the wizard's last step (announced in the step list).
    fill_and_save(&d, &sim.base_url).await;
    d.wait_for("#wizard[data-step='2fa'] #enroll-qr svg").await;
    d.wait_for("#wizard .steps li[data-for='2fa'].current").await;
    d.wait_until(
        "no Cancel on the 2FA step: only enrolment or the explicit skip end it",
        "return !document.querySelector('#wizard-cancel') && !document.querySelector('#enroll-cancel') \
           && !!document.querySelector('#skip-2fa[disabled]') && !document.querySelector('#enroll-dialog')",
        5,
    )
    .await;
    let secret = d.read_totp_secret().await;
    let shot = d.screenshot("first-use-enrolment").await;
    std::fs::copy(&shot, docs_dir().join("first-use-enrolment.png")).expect("copy the screenshot to docs/");
    // Escape does not leave silently.
    d.wait_for("#enroll-code").await.send_keys(ESCAPE).await.expect("Escape");
    d.wait_until(
        "Escape moved to the skip choice",
        "return document.activeElement?.id === 'skip-2fa-accept' && !!document.querySelector(\"#wizard[data-step='2fa']\")",
        5,
    )
    .await;
    d.type_into("#enroll-code", &oathtool_code(&secret, 0)).await;
    d.click("#enroll-confirm").await;
    assert_eq!(d.note_recovery_codes().await, 10, "ten recovery codes, shown once, in the wizard");
    d.click("#recovery-done").await;
    d.wait_until(
        "2FA is on and the wizard closed",
        "return !document.querySelector('#wizard') && document.querySelector('#open-2fa')?.dataset.enrolled === 'true' \
           && document.querySelector('#enroll-banner')?.hidden === true",
        10,
    )
    .await;
    d.wait_for(&format!("[data-testid=key-card][data-label=\"{}\"]", BYBIT.label)).await;
    assert!(sim_has_key(&sim, BYBIT.api_key));
    d.quit().await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "drives the real app window: run scripts/test-all.sh"]
async fn without_2fa_the_header_reminds_and_typing_revoke_revokes() {
    let (_, data_dir) = fresh_work("first_use_skip");
    let sim = Sim::start(&support::seed_file());
    let mut d = launch("first_use_skip", &data_dir).await;
    d.client.set_window_size(800, 600).await.expect("set the window to 800×600");
    d.wait_for("#empty-state").await;

    fill_and_save(&d, &sim.base_url).await;
    d.wait_for("#wizard[data-step='2fa'] #totp-secret").await;
    // Skipping needs the acceptance ticked first.
    d.click("#skip-2fa-accept").await;
    d.click("#skip-2fa").await;
    d.wait_until("the wizard closed", "return !document.querySelector('#wizard')", 10).await;

    // The reminder is in the sticky header, on screen, with no way to dismiss it.
    d.wait_until(
        "the header's reminder is shown, on screen, undismissable",
        "const r = document.querySelector('header.app-header #enroll-banner');
         if (!r || r.hidden) return false;
         const b = r.getBoundingClientRect();
         return b.bottom <= window.innerHeight && b.top >= 0 && !document.querySelector('#enroll-banner-dismiss')
           && document.querySelector('#emergency-revoke').getBoundingClientRect().bottom <= b.top;",
        5,
    )
    .await;
    d.screenshot("header-reminder-800x600").await;

    // Emergency revoke without 2FA: the typed confirmation, then the real revoke at the exchange.
    d.click("#emergency-revoke").await;
    d.wait_for("#revoke-dialog #revoke-needs-2fa").await;
    d.type_into("#guard-phrase", "REVOKE").await;
    d.screenshot("revoke-typed-confirmation").await;
    d.click("#revoke-confirm").await;
    d.wait_for("#revoke-report .report-item[data-outcome=revoked]").await;
    assert!(!sim_has_key(&sim, BYBIT.api_key), "revoked at the simulator");
    d.click("#revoke-done").await;

    // The audit screen shows the run as unguarded, and the choice to skip 2FA.
    d.click("#open-audit").await;
    d.wait_for("#audit-view").await;
    d.wait_until(
        "the audit log names the skip and the unguarded revoke",
        "return !!document.querySelector('[data-action=guard_skip][data-outcome=ok]')
           && !!document.querySelector('[data-action=unguarded][data-outcome=ok]')",
        10,
    )
    .await;
    d.quit().await;
}
