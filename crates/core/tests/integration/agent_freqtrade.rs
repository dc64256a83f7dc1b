//! Real Freqtrade (2026.9, from PyPI, on CCXT 4.5.90) as the bot, through the signing agent to
//! exchange-sim: its own exchange object, built by tests/bots/freqtrade_bot.py from a config.json
//! as `freqtrade trade` builds it (markets loaded and checked at start-up, `dry_run: false`), with
//! the `ccxt_config` `urls` override pointing CCXT's private endpoints at the agent.
//!
//! At start-up Freqtrade loads the markets through CCXT's public endpoints, which carry no API key.
//! Binance's public and private endpoints have separate CCXT URLs, so its public ones stay with the
//! exchange (here the simulator); OKX and Bybit have one host for both, so their market load goes
//! through the agent, which passes public market data through unsigned. Bybit's live start-up also
//! reads the key's own information (`/v5/user/query-api`, a signed read the agent lets through)
//! and the account's (`/v5/account/info`), for CCXT's `is_unified_enabled`.
//!
//! Freqtrade has no withdrawal call: the agent's refusal of withdrawals is covered by the CCXT
//! test (agent_ccxt.rs), not here.
//!
//! Needs python3 with freqtrade on PYTHONPATH (scripts/requirements/freqtrade.txt, installed by
//! scripts/test-all.sh); without it the test says so and checks nothing, unless
//! `LATCHKEY_REQUIRE_FREQTRADE=1` makes a missing freqtrade a failure.
#![allow(clippy::unwrap_used)]

use std::process::Command;

use latchkey_core::model::Exchange;
use secrecy::ExposeSecret;
use serde_json::{json, Value};

use crate::agent::World;
use crate::exchange_support::line_bot::{assert_ok, LineBot};
use crate::exchange_support::{python_can_import, seed_key};

fn freqtrade_available() -> bool {
    python_can_import("freqtrade.exchange, freqtrade.resolvers", "LATCHKEY_REQUIRE_FREQTRADE", "the Freqtrade test")
}

/// A user's config.json for a live spot bot trading BTC/USDT, around its `exchange` block.
fn spot_config(mut exchange: Value) -> Value {
    exchange["pair_whitelist"] = json!(["BTC/USDT"]);
    // Freqtrade's websocket candles are public data, from the exchange itself, never through the
    // agent; the simulator serves none (and a Freqtrade whose start fails hangs in closing them).
    exchange["enable_ws"] = json!(false);
    json!({
        "dry_run": false,
        "trading_mode": "spot",
        "stake_currency": "USDT",
        "timeframe": "5m",
        "entry_pricing": {"price_side": "same", "use_order_book": true, "order_book_top": 1},
        "exit_pricing": {"price_side": "same", "use_order_book": true, "order_book_top": 1},
        "exchange": exchange,
    })
}

/// Binance: the placeholders as the key, CCXT's private URLs at the agent, its public ones at
/// `public` (the exchange; here the simulator).
fn binance_config(agent: &str, public: &str, key: &str, secret: &str) -> Value {
    let urls = json!({"api": {
        "private": format!("{agent}/api/v3"),
        "sapi": format!("{agent}/sapi/v1"),
        "public": format!("{public}/api/v3"),
        "fapiPublic": format!("{public}/fapi/v1"),
        "dapiPublic": format!("{public}/dapi/v1"),
    }});
    spot_config(json!({"name": "binance", "key": key, "secret": secret, "ccxt_config": {"urls": urls}}))
}

/// OKX, where CCXT has one URL for public and private endpoints alike: the agent.
fn okx_config(agent: &str, key: &str, secret: &str, passphrase: &str) -> Value {
    spot_config(json!({
        "name": "okx", "key": key, "secret": secret, "password": passphrase,
        "ccxt_config": {"urls": {"api": {"rest": agent}}},
    }))
}

/// Bybit: CCXT's API URLs (five names, one host) all at the agent, which passes the public market
/// data through unsigned.
fn bybit_config(agent: &str, key: &str, secret: &str) -> Value {
    let urls: serde_json::Map<String, Value> =
        ["spot", "futures", "v2", "public", "private"].iter().map(|name| (name.to_string(), json!(agent))).collect();
    spot_config(json!({"name": "bybit", "key": key, "secret": secret, "ccxt_config": {"urls": {"api": urls}}}))
}

/// One Freqtrade exchange object, as a bot process, with its config's folder.
struct Bot {
    line: LineBot,
    _dir: tempfile::TempDir,
}

impl Bot {
    /// Starts the bot on `config` and returns it with its start-up answer.
    fn start(config: &Value) -> (Bot, Value) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, serde_json::to_vec_pretty(config).unwrap()).unwrap();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/bots/freqtrade_bot.py");
        let mut cmd = Command::new("python3");
        cmd.arg(script).arg("--config").arg(&path);
        let mut line = LineBot::spawn(cmd);
        let started = line.answer("start");
        (Bot { line, _dir: dir }, started)
    }

    fn ask(&mut self, line: &str) -> Value {
        self.line.ask(line)
    }
}

/// Balance, a limit buy and its cancel, signed by the agent with the real key of `seed` (the
/// exchange got the order from that key): returns the balance answer.
fn balance_order_and_cancel(w: &World, bot: &mut Bot, seed: &str) -> Value {
    let balances = bot.ask("balance");
    assert_ok(&balances);
    let order = bot.ask("order");
    assert_ok(&order);
    assert_eq!(order["result"]["status"], "open", "{order}");
    let real = seed_key(seed).api_key;
    let orders = w.sim.state().orders;
    assert!(orders.iter().any(|o| o.api_key == real), "the exchange got the order from the real key: {orders:?}");
    let id = order["result"]["id"].as_str().unwrap().to_owned();
    assert_ok(&bot.ask(&format!("cancel {id}")));
    balances
}

/// Another local process that knows the placeholder key but not its secret (`forged_config`
/// holds a wrong one): Freqtrade does not start, on CCXT's AuthenticationError (the agent's
/// refusal), never a NetworkError, and nothing reaches the exchange from it.
fn a_wrong_secret_stops_freqtrade(w: &World, forged_config: &Value) {
    let orders_before = w.sim.state().orders.len();
    let (forger, forged) = Bot::start(forged_config);
    assert_eq!(forged["ok"], false, "{forged}");
    assert_eq!(forged["ccxt_error"], "AuthenticationError", "{forged}");
    assert_eq!(forged["retryable"], false, "a bot must not retry this: {forged}");
    assert_eq!(w.sim.state().orders.len(), orders_before, "nothing reached the exchange from the forger");
    drop(forger);
}

#[tokio::test(flavor = "multi_thread")]
async fn binance_through_the_agent_with_freqtrade() {
    if !freqtrade_available() {
        return;
    }
    let w = World::new().await;
    w.hold("binance-bot-trade", "bot", false).await;
    let (endpoint, placeholder) = w.bot("bot", "freqtrade", false);
    assert_eq!(endpoint.exchange, Exchange::Binance);
    let (pk, ps) = (placeholder.api_key.expose_secret(), placeholder.api_secret.expose_secret());
    let sim = w.sim.base_url();

    // Start-up: markets loaded (the public ones from the exchange, the coin list through the
    // agent, signed with the real key), the config checked against them.
    let (mut bot, started) = Bot::start(&binance_config(&endpoint.base_url, &sim, pk, ps));
    assert_ok(&started);
    assert_eq!(started["result"]["markets"], 1, "{started}");
    let coins = w.sim.state().requests.into_iter().find(|r| r.path == "/sapi/v1/capital/config/getall");
    assert_eq!(coins.map(|r| r.status), Some(200), "the coin list came through the agent with the real key");

    // Balance, an order and its cancel, signed by the agent with the real key.
    let balances = balance_order_and_cancel(&w, &mut bot, "binance-bot-trade");
    assert_eq!(balances["result"]["USDT"]["total"], 10000.0, "{balances}");

    a_wrong_secret_stops_freqtrade(&w, &binance_config(&endpoint.base_url, &sim, pk, "not-the-placeholder-secret"));
    drop(bot);
    w.stop().await;
}

/// OKX, where CCXT has one URL for public and private endpoints: Freqtrade's start-up market load
/// (`GET /api/v5/public/instruments`, unsigned) passes through the agent unsigned; its balance and
/// order are signed by the agent with the real key; a wrong placeholder secret stops it non-retryably.
#[tokio::test(flavor = "multi_thread")]
async fn okx_through_the_agent_with_freqtrade() {
    if !freqtrade_available() {
        return;
    }
    let w = World::new().await;
    w.hold("okx-bot-trade", "bot", false).await;
    let (endpoint, placeholder) = w.bot("bot", "freqtrade", false);
    let pp = placeholder.passphrase.as_ref().map(|p| p.expose_secret().to_owned()).unwrap();
    let (pk, ps) = (placeholder.api_key.expose_secret(), placeholder.api_secret.expose_secret());
    let (mut bot, started) = Bot::start(&okx_config(&endpoint.base_url, pk, ps, &pp));
    assert_ok(&started);
    assert_eq!(started["result"]["markets"], 1, "{started}");
    let markets = w.sim.state().requests.into_iter().filter(|r| r.path == "/api/v5/public/instruments").count();
    assert!(markets >= 1, "the market load reached the exchange through the agent");

    balance_order_and_cancel(&w, &mut bot, "okx-bot-trade");
    a_wrong_secret_stops_freqtrade(&w, &okx_config(&endpoint.base_url, pk, "not-the-placeholder-secret", &pp));
    drop(bot);
    w.stop().await;
}

/// Bybit: the start-up's market load passes through the agent unsigned; the key's own information
/// (`GET /v5/user/query-api`) and the account's (`/v5/account/info`), which CCXT reads for
/// Freqtrade's live start-up, and the balance, order and cancel are signed by the agent with the
/// real key; a wrong placeholder secret stops Freqtrade non-retryably.
#[tokio::test(flavor = "multi_thread")]
async fn bybit_through_the_agent_with_freqtrade() {
    if !freqtrade_available() {
        return;
    }
    let w = World::new().await;
    w.hold("bybit-bot-trade", "bot", false).await;
    let (endpoint, placeholder) = w.bot("bot", "freqtrade", false);
    assert_eq!(endpoint.exchange, Exchange::Bybit);
    let (pk, ps) = (placeholder.api_key.expose_secret(), placeholder.api_secret.expose_secret());
    let (mut bot, started) = Bot::start(&bybit_config(&endpoint.base_url, pk, ps));
    assert_ok(&started);
    assert_eq!(started["result"]["markets"], 1, "{started}");
    // Accepted by the exchange (HTTP 200, retCode 0): signed with the real key.
    let requests = w.sim.state().requests;
    let answered = |path: &str| requests.iter().find(|r| r.path == path).map(|r| (r.status, r.code.clone()));
    assert!(requests.iter().any(|r| r.path == "/v5/market/instruments-info"), "the market load reached the exchange");
    for path in ["/v5/asset/coin/query-info", "/v5/user/query-api", "/v5/account/info"] {
        assert_eq!(answered(path), Some((200, "0".to_owned())), "{path}");
    }

    let balances = balance_order_and_cancel(&w, &mut bot, "bybit-bot-trade");
    assert_eq!(balances["result"]["USDT"]["total"], 10000.0, "{balances}");
    a_wrong_secret_stops_freqtrade(&w, &bybit_config(&endpoint.base_url, pk, "not-the-placeholder-secret"));
    drop(bot);
    w.stop().await;
}
