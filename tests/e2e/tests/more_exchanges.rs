//! The exchanges beyond the first three, in the real window: the wizard's exchange step says what
//! Latchkey can do at each before anything is pasted (from the adapters' capabilities), and a
//! KuCoin key and a Kraken key are added through it, checked against exchange-sim (KuCoin's
//! signature and passphrase, Kraken's API-Sign and nonce), with their permissions on their cards.

mod support;

use support::{fresh_work, Driver, Sim, WizardKey};

const KUCOIN: WizardKey<'static> = WizardKey {
    exchange: "kucoin",
    api_key: "6705f5c311545b000157e2e1",
    secret: "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
    passphrase: Some("E2eKucoin2026"),
    label: "e2e-kucoin-bot",
};
const KRAKEN: WizardKey<'static> = WizardKey {
    exchange: "kraken",
    api_key: "kcSVllS0+ZajuHGBFVohoe5ozyxo8OzbX/KxQJi+j6BRBUChSelrKsll",
    secret: "YP/yQuUbi2wFnvFBqN2fb56nKhRRqyT6ltWBhs+tJq8UOgfmwfoK/C2Dkjvwi3ZlDczyy5vMlrKz7xGLsuVh7A==",
    passphrase: None,
    label: "e2e-kraken-bot",
};

#[tokio::test(flavor = "multi_thread")]
#[ignore = "drives the real app window: run scripts/test-all.sh"]
async fn keys_of_the_new_exchanges_are_added_through_the_wizard() {
    let (_work, data_dir) = fresh_work("more_exchanges");
    let sim = Sim::start(&support::seed_file());
    let mut d = Driver::launch(
        "more_exchanges",
        &[
            ("LATCHKEY_DATA_DIR", &data_dir),
            ("LATCHKEY_KEYCHAIN_SERVICE", std::path::Path::new("latchkey-e2e-more-exchanges")),
        ],
    )
    .await;
    d.note_secret(KUCOIN.secret);
    d.note_secret(KRAKEN.secret);
    d.note_secret(KUCOIN.passphrase.unwrap_or_default());

    // What each exchange allows, said on its card before a key is pasted.
    d.click("#add-first-key").await;
    d.wait_for("#wizard[data-step=exchange]").await;
    let caps = d.text("#exchange-kucoin-caps").await;
    assert!(caps.contains("permissions and IP whitelist"), "{caps}");
    assert!(caps.contains("through the master key"), "{caps}");
    assert!(caps.contains("rotated automatically through a master key"), "{caps}");
    let kraken = d.text("#exchange-kraken-caps").await;
    assert!(kraken.contains("a checklist for the exchange's API page"), "Kraken has no key API: {kraken}");
    assert!(kraken.contains("rotation by hand"), "{kraken}");
    let gate = d.text("#exchange-gate-caps").await;
    assert!(gate.contains("does not say what the key may do"), "Gate's inspection has no permissions: {gate}");
    d.screenshot("wizard-exchange-capabilities").await;
    d.click("#wizard-cancel").await;
    d.wait_until("the wizard closed", "return !document.querySelector('#wizard')", 10).await;

    d.add_key_via_wizard(&KUCOIN, &sim.base_url).await;
    let card = format!("[data-testid=key-card][data-label=\"{}\"]", KUCOIN.label);
    let text = d.text(&card).await;
    assert!(text.contains("KuCoin"), "{text}");
    assert!(text.contains("Read") && text.contains("Trade"), "the permissions KuCoin reported: {text}");
    assert!(text.contains("127.0.0.1"), "its IP whitelist: {text}");
    d.screenshot("kucoin-key-added").await;

    // Kraken: checked with GetApiKeyInfo (its nonce reserved in the store), and the key's own
    // validUntil is its rotation due date.
    d.add_key_via_wizard(&KRAKEN, &sim.base_url).await;
    let card = format!("[data-testid=key-card][data-label=\"{}\"]", KRAKEN.label);
    let text = d.text(&card).await;
    assert!(text.contains("Kraken") && text.contains("Trade"), "{text}");
    d.screenshot("kraken-key-added").await;
    d.quit().await;

    let state = sim.state();
    let checked = state["requests"]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .any(|r| r["path"].as_str().is_some_and(|p| p.starts_with("/api/v1/user/api-key")) && r["status"] == 200);
    assert!(checked, "the wizard's check was a signed KuCoin read the simulator accepted: {state}");
}
