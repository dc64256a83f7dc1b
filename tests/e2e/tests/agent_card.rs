//! The signing agent from a key's card, in the real window: enrol 2FA, add an OKX key, open
//! "Signing agent…", issue placeholders for a bot (a wrong code first: nothing issued), copy each
//! part (read back from the X11 clipboard with `xclip`; never in the page), then use them as a bot
//! would: through the agent the tray part of Latchkey runs, to the simulator, which sees the real
//! key. Revoking the bot from the same dialog makes the agent refuse it at once.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use latchkey_core::exchange::{ClientConfig, Endpoint, ExchangeClient, SystemClock};
use latchkey_core::model::{Environment, Exchange};
use latchkey_core::secret::Credentials;
use support::{clipboard, fresh_work, oathtool_code, Driver, Sim, WizardKey};

const OKX: WizardKey = WizardKey {
    exchange: "okx",
    api_key: "6e2f8d3b-9c5a-4f4b-8d7e-3a2b1c0d9e8f",
    secret: "8B7C6D5E4F3A20112233445566778899",
    passphrase: Some("Grid-Pass-2026!"),
    label: "okx-agent",
};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("addr").port()
}

/// Clicks one Copy button and returns what the clipboard then holds (Rust puts it there).
async fn copy_part(d: &Driver, part: &str, before: &str) -> String {
    d.click(&format!("#agent-issued .copy-placeholder[data-part={part}]")).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = clipboard();
        if !now.is_empty() && now != before {
            return now;
        }
        let error = d.js("const e = document.querySelector('#agent-issued .card-error:not([hidden])'); return e ? e.textContent : null").await;
        assert!(error.is_null(), "copying the {part} failed: {error}");
        assert!(Instant::now() < deadline, "the {part} did not reach the clipboard within 10 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn client() -> ExchangeClient {
    ExchangeClient::new(ClientConfig::default(), Arc::new(SystemClock)).expect("an HTTP client")
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "drives the real app window: run scripts/test-all.sh"]
async fn a_bot_gets_placeholders_from_the_key_card_and_trades_through_the_agent() {
    let (_, data_dir) = fresh_work("agent-card");
    let sim = Sim::start(&support::seed_file());
    let listen = format!("127.0.0.1:{}", free_port());
    let mut d = Driver::launch(
        "agent-card",
        &[
            ("LATCHKEY_DATA_DIR", &data_dir),
            ("LATCHKEY_KEYCHAIN_SERVICE", std::path::Path::new("latchkey-e2e-agent-card")),
            ("LATCHKEY_AGENT_LISTEN", std::path::Path::new(&listen)),
        ],
    )
    .await;
    let totp = d.enrol_2fa().await;
    d.add_key_via_wizard(&OKX, &sim.base_url).await;
    let card = format!("[data-testid=key-card][data-label=\"{}\"]", OKX.label);

    d.click(&format!("{card} .agent-key")).await;
    d.wait_for("#agent-dialog .agent-bots-empty").await;
    d.type_into("#agent-bot-name", "e2e-grid-bot").await;
    // A wrong code: refused under the field, nothing issued.
    d.type_into("#guard-code", "000000").await;
    d.click("#agent-issue").await;
    let err = d.text("#agent-dialog [data-error-for=code]:not([hidden])").await;
    assert!(err.to_lowercase().contains("code"), "wrong code explained: {err:?}");
    let store = latchkey_core::store::Store::open_in(&data_dir).expect("the app's store");
    let issued = || store.audit_log(50).expect("audit").iter().filter(|e| e.action == "agent_issue").count();
    assert_eq!(issued(), 0, "nothing issued on a wrong code");
    d.screenshot("agent-dialog").await;

    d.type_into("#guard-code", &oathtool_code(&totp, 1)).await;
    d.click("#agent-issue").await;
    d.wait_for("#agent-issued").await;
    assert_eq!(d.text("#agent-base-url").await, format!("http://{listen}/okx"));
    let hint = d.text("#agent-key-hint").await;
    assert_eq!(issued(), 1, "the issue is in the audit log");

    let base_url = copy_part(&d, "baseUrl", "").await;
    assert_eq!(base_url, format!("http://{listen}/okx"));
    let key = copy_part(&d, "apiKey", &base_url).await;
    let secret = copy_part(&d, "secret", &key).await;
    let passphrase = copy_part(&d, "passphrase", &secret).await;
    for v in [&key, &secret, &passphrase] {
        d.note_secret(v);
    }
    assert!(key.len() == 36 && key != OKX.api_key, "an OKX-shaped placeholder key, not the real one: {key}");
    assert_eq!(hint, format!("{}…{}", &key[..4], &key[key.len() - 4..]), "the page's hint is of that key");
    assert!(secret != OKX.secret && Some(passphrase.as_str()) != OKX.passphrase);
    let env_lines = copy_part(&d, "envLines", &passphrase).await;
    assert!(env_lines.contains(&format!("API_SECRET={secret}\n")), "the .env lines hold the same placeholders");
    let source = d.client.source().await.expect("page source");
    for v in [&key, &secret, &passphrase] {
        assert!(!source.contains(v.as_str()), "the placeholders never reach the page");
    }
    assert!(!source.contains(OKX.secret), "nor the real secret");
    tokio::time::sleep(Duration::from_millis(300)).await;
    d.screenshot("agent-issued").await;
    d.click("#agent-issued-done").await;

    // As a bot: the agent in Latchkey's tray part starts once a bot exists, and signs with the real key.
    let endpoint = Endpoint::new(Exchange::Okx, &Environment::Custom { base_url: base_url.clone() }).expect("endpoint");
    let placeholders = Credentials::new(&key, &secret, Some(&passphrase));
    let deadline = Instant::now() + Duration::from_secs(20);
    let seen = loop {
        match client().inspect(&endpoint, &placeholders).await {
            Ok(seen) => break seen,
            Err(e) => {
                assert!(Instant::now() < deadline, "the agent did not answer within 20 s: {e}");
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
    };
    assert_eq!(seen.label.as_deref(), Some("e2e-okx-grid"), "the exchange saw the real key");

    // Revoked from the card: the agent refuses the bot from its next request.
    d.click(&format!("{card} .agent-key")).await;
    d.click("#agent-dialog .revoke-agent-bot[data-bot=e2e-grid-bot]").await;
    d.wait_for("#agent-dialog .agent-bots-empty:not([hidden])").await;
    let err = client().inspect(&endpoint, &placeholders).await.expect_err("a revoked bot is refused");
    assert_eq!(err.code(), Some("50111"), "{err}");
    d.click("#agent-cancel").await;
    d.quit().await;
    println!("agent card e2e: placeholders issued, used through {listen}, revoked");
}
