//! Deribit, whose accounts with security keys answer key calls with a challenge for Deribit's own
//! 2FA code, in the real window: the wizard asks for that code when Deribit does (Latchkey never
//! stores Deribit's seed), checks the master with it and saves it; then "Create a new key for a
//! bot" asks for it again for the master's listing and mints a key in the master's own account,
//! bound to the bot's IP, read and trade. exchange-sim accepts the code `000000` for its accounts
//! with security keys.
#![allow(clippy::unwrap_used)]

mod support;

use support::{fresh_work, Driver, Sim};

const MASTER_KEY: &str = "e2ed3b17";
const MASTER_SECRET: &str = "Zq3vB8mN1xR5tY7uK2pL9sD4fG6hJ0aWcE3rT5yU8iO";
const DERIBIT_CODE: &str = "000000";

#[tokio::test(flavor = "multi_thread")]
#[ignore = "drives the real app window: run scripts/test-all.sh"]
async fn the_exchanges_own_code_is_asked_for_when_the_exchange_asks() {
    let (_work, data_dir) = fresh_work("exchange_code");
    let sim = Sim::start(&support::seed_file());
    let mut d = Driver::launch(
        "exchange_code",
        &[
            ("LATCHKEY_DATA_DIR", &data_dir),
            ("LATCHKEY_KEYCHAIN_SERVICE", std::path::Path::new("latchkey-e2e-exchange-code")),
        ],
    )
    .await;
    d.note_secret(MASTER_SECRET);

    // The wizard: Deribit asks for its code at the check; the field appears, the check passes.
    d.click("#add-first-key").await;
    d.wait_for("#wizard[data-step=exchange]").await;
    d.click("input[name=exchange][value=deribit]").await;
    d.click("#wizard-next").await;
    d.wait_for("#wizard[data-step=credentials]").await;
    d.type_into("#api-key", MASTER_KEY).await;
    d.type_into("#api-secret", MASTER_SECRET).await;
    d.click("#wizard-next").await;
    d.wait_for("#wizard[data-step=details]").await;
    d.type_into("#label", "e2e-deribit-master").await;
    d.click("#environment option[value=custom]").await;
    d.type_into("#base-url", &sim.base_url).await;
    d.click("#wizard-next").await;
    d.wait_for("#verify-result[data-state=failed]").await;
    let asked = d.text("#verify-error").await;
    assert!(asked.contains("Deribit asks for its own two-factor code"), "{asked}");
    let label = d.text("#wizard-exchange-code-row label").await;
    assert_eq!(label, "Deribit’s own 2FA code");
    d.screenshot("wizard-asks-for-deribits-code").await;
    d.type_into("#wizard-exchange-code", DERIBIT_CODE).await;
    d.click("#wizard-retry-verify").await;
    d.wait_for("#verify-result[data-state=ok]").await;
    let permissions = d.text("#verify-permissions").await;
    assert!(permissions.contains("Withdraw"), "account:read_write reads as withdrawal-class: {permissions}");
    d.screenshot("wizard-verified-with-the-code").await;
    d.click("#wizard-save").await;
    d.skip_2fa_step().await;
    d.wait_for("[data-testid=key-card][data-label=\"e2e-deribit-master\"]").await;

    // Minting: the master's listing asks again; the code goes with the listing and the create.
    d.click("#add-key").await;
    d.click("#wizard-mint").await;
    d.wait_for("#mint-dialog").await;
    d.wait_for("#mint-exchange-code-row:not([hidden])").await;
    let asked = d.text("#mint-error").await;
    assert!(asked.contains("two-factor code"), "{asked}");
    d.type_into("#mint-exchange-code", &format!("{DERIBIT_CODE}\u{E007}")).await;
    d.wait_for("#mint-sub-account option[value=account]").await;
    d.type_into("#mint-ips", "127.0.0.1").await;
    d.type_into("#mint-label", "e2e-deribit-bot").await;
    d.screenshot("mint-with-deribits-code").await;
    d.click("#mint-create").await;
    let done = d.wait_for("#mint-result:not([hidden])").await;
    let text = done.text().await.unwrap();
    assert!(text.starts_with("Created “e2e-deribit-bot”"), "{text}");
    d.click("#mint-cancel").await;
    d.wait_for("[data-testid=key-card][data-label=\"e2e-deribit-bot\"]").await;
    d.screenshot("deribit-bot-key-card").await;
    d.quit().await;

    let state = sim.state();
    let made = state["keys"].as_array().unwrap().iter().find(|k| k["label"] == "e2e_deribit_bot").cloned();
    let made = made.unwrap_or_else(|| panic!("the simulator holds the new key under Deribit's name rule: {state}"));
    assert_eq!(made["uid"], "e2e-deribit-2fa", "in the master's own account");
    assert_eq!(made["permissions"], serde_json::json!(["read", "trade"]));
    assert_eq!(made["ips"], serde_json::json!(["127.0.0.1"]));
}
