//! Real NautilusTrader (1.221.0, from PyPI) as the bot, through the signing agent to exchange-sim:
//! its own Binance spot HTTP client, built by tests/bots/nautilus_bot.py from a
//! `BinanceExecClientConfig` whose `base_url_http` is the agent's URL, as NautilusTrader's execution
//! client factory builds it. NautilusTrader signs (HMAC-SHA256 over the query string) and sends
//! every parameter in the query string, POST and DELETE included; the agent checks that signature,
//! re-signs with the real key and forwards.
//!
//! No trading node runs: NautilusTrader's Binance execution client also opens the user-data
//! WebSocket at connect, which the simulator does not serve. The calls are the ones that client
//! makes over HTTP: the account information at connect, a limit order, its cancel.
//!
//! Needs python3 with nautilus_trader (scripts/requirements/nautilus.txt, installed by
//! scripts/test-all.sh into its own directory, named by `LATCHKEY_NAUTILUS_DIR`: the bot runs with
//! that directory alone as its PYTHONPATH, since Freqtrade's pandas 3 and NautilusTrader's pandas 2
//! do not share one path). Without `LATCHKEY_NAUTILUS_DIR` the bot gets the test's own PYTHONPATH.
//! Without nautilus_trader the test says so and checks nothing, unless
//! `LATCHKEY_REQUIRE_NAUTILUS=1` makes a missing install a failure.
#![allow(clippy::unwrap_used)]

use std::process::{Command, Stdio};

use exchange_sim::OrderKind;
use latchkey_core::model::Exchange;
use secrecy::ExposeSecret;

use crate::agent::World;
use crate::exchange_support::line_bot::{assert_ok, LineBot};
use crate::exchange_support::seed_key;

/// `python3` with NautilusTrader's own directory as its path, where test-all.sh names one.
fn python() -> Command {
    let mut python = Command::new("python3");
    if let Some(dir) = std::env::var_os("LATCHKEY_NAUTILUS_DIR") {
        python.env("PYTHONPATH", dir);
    }
    python
}

fn nautilus_available() -> bool {
    let found = python()
        .args(["-c", "import nautilus_trader.adapters.binance"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var_os("LATCHKEY_REQUIRE_NAUTILUS").is_none(),
            "LATCHKEY_REQUIRE_NAUTILUS=1 but python3 cannot import nautilus_trader.adapters.binance"
        );
        eprintln!(
            "nautilus_trader is not installed: the NautilusTrader test checks nothing (see scripts/requirements/)"
        );
    }
    found
}

/// One NautilusTrader Binance spot HTTP client, as a bot process, with `base_url_http` and the
/// key and secret it is given.
fn start_bot(base_url_http: &str, key: &str, secret: &str) -> LineBot {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/bots/nautilus_bot.py");
    let mut cmd = python();
    cmd.arg(script).args(["--base-url-http", base_url_http, "--api-key", key, "--api-secret", secret]);
    let mut bot = LineBot::spawn(cmd);
    let started = bot.answer("start");
    assert_eq!(started["ok"], true, "{started}");
    assert_eq!(started["result"]["base_url"], base_url_http, "{started}");
    bot
}

/// The balance, a limit buy and its cancel from NautilusTrader's client, signed by the agent with
/// the real key (the exchange got the order and the cancel from it); a wrong placeholder secret is
/// refused by the agent in Binance's words (-1022), and nothing from it reaches the exchange.
#[tokio::test(flavor = "multi_thread")]
async fn binance_through_the_agent_with_nautilus_trader() {
    if !nautilus_available() {
        return;
    }
    let w = World::new().await;
    w.hold("binance-bot-trade", "bot", false).await;
    let (endpoint, placeholder) = w.bot("bot", "nautilus", false);
    assert_eq!(endpoint.exchange, Exchange::Binance);
    let (pk, ps) = (placeholder.api_key.expose_secret(), placeholder.api_secret.expose_secret());
    let real = seed_key("binance-bot-trade").api_key;
    let mut bot = start_bot(&endpoint.base_url, pk, ps);

    // GET /api/v3/account, as NautilusTrader's spot execution client reads it at connect.
    let balance = bot.ask("balance");
    assert_ok(&balance);
    assert_eq!(balance["result"]["canTrade"], true, "{balance}");
    assert_eq!(balance["result"]["balances"]["USDT"]["free"], "10000.00000000", "{balance}");
    let account = w.sim.state().requests.into_iter().find(|r| r.path == "/api/v3/account");
    assert_eq!(account.map(|r| r.status), Some(200), "the account came through the agent with the real key");

    // POST /api/v3/order, every parameter and the signature in the query string.
    let order = bot.ask("order");
    assert_ok(&order);
    assert_eq!(order["result"]["status"], "NEW", "{order}");
    assert_eq!(order["result"]["clientOrderId"], "O-nautilus-bot-1", "{order}");
    let placed = w.sim.state().orders.into_iter().find(|o| o.kind == OrderKind::Order).unwrap();
    assert_eq!(placed.api_key, real, "the exchange got the order from the real key");
    assert_eq!(
        (placed.symbol.as_str(), placed.side.as_str(), placed.qty.as_str(), placed.price.as_deref()),
        ("BTCUSDT", "BUY", "0.001", Some("20000"))
    );

    // DELETE /api/v3/order by the exchange's order id.
    let id = order["result"]["orderId"].as_i64().unwrap();
    let cancel = bot.ask(&format!("cancel {id}"));
    assert_ok(&cancel);
    assert_eq!(cancel["result"]["status"], "CANCELED", "{cancel}");
    let cancelled = w.sim.state().orders.into_iter().find(|o| o.kind == OrderKind::Cancel).unwrap();
    assert_eq!((cancelled.api_key, cancelled.order_id), (real, id.to_string()), "cancelled with the real key");

    // Another local process that knows the placeholder key but not its secret.
    let before = w.sim.state().request_totals.total;
    let mut forger = start_bot(&endpoint.base_url, pk, "not-the-placeholder-secret");
    for line in ["balance", "order"] {
        let forged = forger.ask(line);
        assert_eq!(forged["ok"], false, "{forged}");
        assert_eq!(forged["error"], "BinanceClientError", "{forged}");
        // Binance's answer to a bad signature: HTTP 400 with -1022, a client error NautilusTrader
        // does not treat as the server's (BinanceServerError is for 5xx).
        assert_eq!(forged["status"], 400, "{forged}");
        assert_eq!(forged["message"]["code"], -1022, "{forged}");
    }
    assert_eq!(w.sim.state().request_totals.total, before, "nothing reached the exchange from the forger");
    drop(forger);
    drop(bot);
    w.stop().await;
}
