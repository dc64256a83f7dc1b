//! The feature users buy Latchkey for, in the real window: enrol 2FA (the secret read from the page,
//! codes computed by `oathtool`), add a Bybit key (revocable through its API) and an OKX master key
//! (no API revoke), press Emergency revoke, enter one code, and find the Bybit key deleted at the
//! exchange simulator and proved revoked, its secret gone from the keychain, and the OKX key "still
//! live" in red (blocked, secret kept) with a checklist for OKX's website; then delete it "on the
//! website" (the simulator), press "I deleted it — confirm", and find it proved revoked and wiped.

mod support;

use std::process::Command;

use support::{fresh_work, oathtool_code, Driver, Sim, WizardKey};

const BYBIT: WizardKey = WizardKey {
    exchange: "bybit",
    api_key: "E2EbybitMaster0001",
    secret: "E2EbybitSecretAbcdefGhijklmnop123456",
    passphrase: None,
    label: "bybit-wallet",
};
const OKX: WizardKey = WizardKey {
    exchange: "okx",
    api_key: "3c8a7b6d-1e2f-4a5b-9c8d-7e6f5a4b3c2d",
    secret: "0F1E2D3C4B5A69788796A5B4C3D2E1F0",
    passphrase: Some("Second-Pass-2026"),
    label: "okx-master",
};

fn sim_has_key(sim: &Sim, api_key: &str) -> bool {
    let state = sim.state();
    state["keys"].as_array().is_some_and(|keys| keys.iter().any(|k| k["apiKey"] == api_key))
}

fn keychain_dump(service: &str) -> String {
    let out = Command::new("secret-tool")
        .args(["search", "--all", "--unlock", "service", service])
        .output()
        .expect("secret-tool");
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "drives the real app window: run scripts/test-all.sh"]
async fn enrol_2fa_then_emergency_revoke() {
    let (_, data_dir) = fresh_work("revoke");
    let sim = Sim::start(&support::seed_file());
    let service = "latchkey-e2e-revoke";
    let mut d = Driver::launch(
        "revoke",
        &[("LATCHKEY_DATA_DIR", &data_dir), ("LATCHKEY_KEYCHAIN_SERVICE", std::path::Path::new(service))],
    )
    .await;

    // Enrol 2FA: scan-or-type secret read from the page, first code from oathtool.
    d.click("#open-2fa").await;
    d.wait_for("#enroll-dialog svg, #enroll-dialog img").await;
    let secret = d.read_totp_secret().await;
    assert_eq!(secret.len(), 32, "160-bit secret in base32");
    d.screenshot("enroll-2fa").await;
    d.type_into("#enroll-code", &oathtool_code(&secret, 0)).await;
    d.click("#enroll-confirm").await;
    assert_eq!(d.note_recovery_codes().await, 10, "ten recovery codes, shown once");
    let recovery = d
        .js("return [...document.querySelectorAll('#recovery-codes .recovery-code')].map((e) => e.textContent.trim())")
        .await;
    let recovery: Vec<String> = serde_json::from_value(recovery).expect("codes are strings");
    d.screenshot("recovery-codes").await;
    d.click("#recovery-done").await;

    // Two keys, each verified against the simulator.
    d.add_key_via_wizard(&BYBIT, &sim.base_url).await;
    d.add_key_via_wizard(&OKX, &sim.base_url).await;
    assert!(sim_has_key(&sim, BYBIT.api_key) && sim_has_key(&sim, OKX.api_key));
    let before = keychain_dump(service);
    assert!(before.contains(BYBIT.secret) && before.contains(OKX.secret), "both secrets stored");
    d.screenshot("dashboard-two-keys").await;

    // Emergency revoke: the plan says what will happen to each key.
    d.click("#emergency-revoke").await;
    d.wait_for("#revoke-dialog").await;
    d.wait_for(".plan-item[data-action=remote]").await;
    d.wait_for(".plan-item[data-action=manual]").await;
    // A wrong code changes nothing.
    d.type_into("#guard-code", "000000").await;
    d.click("#revoke-confirm").await;
    let err = d.text("[data-error-for=code]").await;
    assert!(err.to_lowercase().contains("code"), "wrong code explained: {err:?}");
    assert!(sim_has_key(&sim, BYBIT.api_key), "nothing revoked on a wrong code");
    d.screenshot("revoke-plan").await;
    // The next step's code (the enrolment used this step's).
    d.type_into("#guard-code", &oathtool_code(&secret, 1)).await;
    d.click("#revoke-confirm").await;

    // The report: Bybit revoked through its API and proved; OKX still live, with a checklist.
    d.wait_for("#revoke-report").await;
    d.wait_for(".report-item[data-outcome=revoked]").await;
    d.wait_for(".report-item[data-outcome=manual]").await;
    let proof = d.text(".report-item[data-outcome=revoked] .report-proof").await;
    assert!(proof.starts_with("Bybit: proved revoked at "), "{proof:?}");
    let checklist = d.text("#revoke-checklist").await;
    assert!(checklist.contains("okx.com"), "checklist links OKX's API page: {checklist:?}");
    d.screenshot("revoke-report").await;
    d.click("#save-report").await;
    // The line is in the page from the start, hidden and empty, until the save answers.
    d.wait_until(
        "the saved report's path is shown",
        "return (document.querySelector('#saved-report-path')?.textContent ?? '').includes('/');",
        20,
    )
    .await;
    let shown = d.text("#saved-report-path").await;
    // "Saved to /…/revoke-<job>.txt": the path starts at the first slash.
    let path = shown.get(shown.find('/').unwrap_or(0)..).unwrap_or_default().trim().to_owned();
    let saved = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("report at {path:?}: {e}"));
    assert!(saved.contains(BYBIT.label) && saved.contains(OKX.label) && saved.contains("okx.com"));
    for s in [BYBIT.secret, OKX.secret, BYBIT.api_key, OKX.api_key] {
        assert!(!saved.contains(s), "the saved report holds no secret");
    }
    assert!(!sim_has_key(&sim, BYBIT.api_key), "the Bybit key was deleted at the exchange");
    assert!(sim_has_key(&sim, OKX.api_key), "OKX has no API revoke for a master key: it is on the checklist");
    let after = keychain_dump(service);
    assert!(!after.contains(BYBIT.secret), "the proved key's secret is wiped");
    assert!(after.contains(OKX.secret), "a still-live key keeps its secret, for the proof later");

    // Issue 10, item 13: the card says "still live" in red, the header counts it.
    d.click("#revoke-done").await;
    let okx_card = format!("[data-testid=key-card][data-label=\"{}\"]", OKX.label);
    let title = d.text(&format!("{okx_card} .still-live-title")).await;
    assert_eq!(title, "Still live at OKX — delete it on the website");
    assert_eq!(d.text("#still-live-count").await, "1 key still live");
    d.screenshot("still-live-card").await;

    // Deleted on the website; "I deleted it — confirm" proves it with the key's own call, then wipes.
    sim.delete_key(OKX.api_key);
    d.click(&format!("{okx_card} .confirm-deleted")).await;
    d.wait_for("#confirm-deleted-dialog").await;
    d.type_into("#guard-code", &recovery[0]).await;
    d.click("#confirm-deleted-confirm").await;
    d.wait_for(".report-item[data-outcome=already_revoked]").await;
    let proof = d.text(".report-item[data-outcome=already_revoked] .report-proof").await;
    assert!(proof.starts_with("OKX: proved revoked at "), "{proof:?}");
    d.click("#revoke-done").await;
    // The list is read again after the dialog closes: nothing still live any more.
    d.wait_for("#still-live-count[hidden]").await;
    d.wait_for(&format!("#revoked-keys [data-label=\"{}\"]", OKX.label)).await;
    d.quit().await;

    let after = keychain_dump(service);
    assert!(!after.contains(BYBIT.secret) && !after.contains(OKX.secret), "both secrets wiped from the keychain");
    println!("revoke e2e: report saved at {path}");
}
