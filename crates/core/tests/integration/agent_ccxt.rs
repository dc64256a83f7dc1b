//! Real CCXT (4.5.90, from PyPI) as the bot, through the signing agent to exchange-sim, for OKX,
//! Bybit and Binance: one CCXT instance per bot (tests/bots/ccxt_bot.py, driven line by line)
//! lives across a rotation and an emergency revoke.
//!
//! Needs python3 with ccxt on PYTHONPATH (installed by `.ci/run`); without it the test says so and
//! checks nothing, unless `LATCHKEY_REQUIRE_CCXT=1` makes a missing ccxt a failure.
#![allow(clippy::unwrap_used)]

use std::process::Command;

use chrono::Utc;
use latchkey_core::audit::{Action, Event, Outcome};
use latchkey_core::model::{Exchange, KeyRecord, KeyStatus};
use latchkey_core::revoke::{no_progress, Selection};
use secrecy::ExposeSecret;
use serde_json::Value;

use crate::agent::World;
use crate::exchange_support::line_bot::{assert_ok, LineBot};
use crate::exchange_support::{creds, python_can_import, seed_key};

fn ccxt_available() -> bool {
    python_can_import("ccxt", "LATCHKEY_REQUIRE_CCXT", "the CCXT-through-the-agent test")
}

/// One CCXT instance, as a bot process.
fn start_bot(exchange: Exchange, base: &str, key: &str, secret: &str, passphrase: Option<&str>) -> LineBot {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/bots/ccxt_bot.py");
    let mut cmd = Command::new("python3");
    cmd.arg(script).args(["--exchange", exchange.as_str(), "--base", base, "--key", key, "--secret", secret]);
    if let Some(p) = passphrase {
        cmd.args(["--passphrase", p]);
    }
    LineBot::spawn(cmd)
}

/// Refused by a non-retryable CCXT error (never a NetworkError such as DDoSProtection).
fn assert_refused(answer: &Value) {
    assert_eq!(answer["ok"], false, "{answer}");
    assert_eq!(answer["retryable"], false, "a bot must not retry this: {answer}");
}

async fn through_the_agent(exchange: Exchange, first: &str, next: &str) {
    let w = World::new().await;
    let key = w.hold(first, "bot", false).await;
    let (endpoint, placeholder) = w.bot("bot", "ccxt", false);
    let (pk, ps) = (placeholder.api_key.expose_secret(), placeholder.api_secret.expose_secret());
    let pp = placeholder.passphrase.as_ref().map(|p| p.expose_secret().to_owned());
    let mut bot = start_bot(exchange, &endpoint.base_url, pk, ps, pp.as_deref());

    // Balance and an order, signed by the agent with the real key.
    assert_ok(&bot.ask("balance"));
    assert_ok(&bot.ask("order"));
    let real = seed_key(first).api_key;
    let orders = w.sim.state().orders;
    assert!(orders.iter().any(|o| o.api_key == real), "the exchange got the order from the real key: {orders:?}");

    // A withdrawal: refused by the agent (the key itself may withdraw), nothing reaches the exchange.
    let withdraw = bot.ask("withdraw");
    assert_refused(&withdraw);
    assert!(w.sim.state().withdrawals.is_empty(), "no withdrawal reached the exchange");

    // Another local process that knows the placeholder key but not its secret.
    let mut forger = start_bot(exchange, &endpoint.base_url, pk, "not-the-placeholder-secret", pp.as_deref());
    let forged = forger.ask("balance");
    assert_refused(&forged);
    assert_eq!(forged["error"], "AuthenticationError", "{forged}");

    // A rotation: the label names another key now; the same CCXT instance keeps working.
    let event = Event {
        at: Utc::now(),
        action: Action::Rotate,
        key_id: Some(key.id),
        label: Some("bot"),
        outcome: Outcome::Ok,
        detail: String::new(),
    };
    let mut rotated = KeyRecord::sample(exchange, "bot", Utc::now(), 90);
    rotated.environment = key.environment.clone();
    rotated.replaces = Some(key.id);
    latchkey_core::keychain::SecretStore::put(w.secrets.as_ref(), rotated.id, "bot", &creds(&seed_key(next))).unwrap();
    w.store.replace_key(key.id, "bot (old)", &rotated, &event).unwrap();
    assert_ok(&bot.ask("balance"));
    assert_ok(&bot.ask("order"));
    let new_real = seed_key(next).api_key;
    assert!(w.sim.state().orders.iter().any(|o| o.api_key == new_real), "after the rotation the new key trades");

    // Emergency revoke: the bot's next request fails at once, non-retryably.
    let engine =
        crate::revoke_support::engine(w.store.clone(), w.secrets.clone(), crate::revoke_support::fast_config());
    engine.emergency_revoke("REVOKE", Selection::Keys(vec![rotated.id]), Utc::now(), no_progress()).await.unwrap();
    assert_ne!(w.store.get_key(rotated.id).unwrap().unwrap().status, KeyStatus::Active);
    let after = bot.ask("balance");
    assert_refused(&after);
    assert_eq!(after["error"], "AuthenticationError", "{after}");
    drop(bot);
    drop(forger);
    w.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn okx_through_the_agent_with_ccxt() {
    if ccxt_available() {
        through_the_agent(Exchange::Okx, "okx-bot-withdraw", "okx-bot-trade").await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn bybit_through_the_agent_with_ccxt() {
    if ccxt_available() {
        through_the_agent(Exchange::Bybit, "bybit-bot-withdraw", "bybit-bot-trade").await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn binance_through_the_agent_with_ccxt() {
    if ccxt_available() {
        through_the_agent(Exchange::Binance, "binance-bot-withdraw", "binance-bot-trade").await;
    }
}

/// The agent under load: 4 CCXT bots (one key each, over the three exchanges) at 50 requests/s
/// for 60 s, alternating a balance read and an order: 12,000 requests, none refused, none
/// mis-signed (the simulator checks every real signature and answers nothing but 200).
#[tokio::test(flavor = "multi_thread")]
async fn four_bots_at_200_requests_a_second_for_a_minute() {
    if !ccxt_available() {
        return;
    }
    let w = World::new().await;
    w.sim.set_rate_limits(false);
    let mut bots = Vec::new();
    for (i, (seed, exchange)) in [
        ("okx-bot-trade", Exchange::Okx),
        ("bybit-bot-trade", Exchange::Bybit),
        ("binance-bot-trade", Exchange::Binance),
        ("okx-bot-withdraw", Exchange::Okx),
    ]
    .into_iter()
    .enumerate()
    {
        let label = format!("load-{i}");
        w.hold(seed, &label, false).await;
        let (endpoint, p) = w.bot(&label, &format!("load-bot-{i}"), false);
        let pass = p.passphrase.as_ref().map(|s| s.expose_secret().to_owned());
        bots.push(start_bot(
            exchange,
            &endpoint.base_url,
            p.api_key.expose_secret(),
            p.api_secret.expose_secret(),
            pass.as_deref(),
        ));
    }
    w.sim.clear_requests();
    // All four at once: each bot's `loop` paces itself at 50/s.
    for bot in &mut bots {
        bot.send("loop 3000 50");
    }
    for bot in &mut bots {
        let answer = bot.answer("loop 3000 50");
        assert_eq!(answer["ok"], 3000, "every request answered ok: {}", answer["errors"]);
    }
    let state = w.sim.state();
    let totals = state.request_totals;
    // Besides the bots' requests, the agent's own public server-time reads (its clock sync).
    let signed = state.requests.iter().filter(|r| !r.path.ends_with("/time")).count();
    assert_eq!(signed, 12_000, "every bot request reached the exchange once");
    assert_eq!(
        totals.by_status.keys().copied().collect::<Vec<u16>>(),
        [200],
        "none refused, none mis-signed: {totals:?}"
    );
    drop(bots);
    w.stop().await;
}
