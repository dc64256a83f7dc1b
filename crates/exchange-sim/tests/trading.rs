#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

//! The trading endpoints of OKX, Bybit and Binance (balance, order, cancel, withdraw, transfer):
//! requests signed independently (tests/independent_sign.py) are accepted and recorded, and the
//! documented refusals come back for a wrong signature, a missing permission and a withdrawal
//! without the Withdraw permission. Then real CCXT as a bot (tests/bots/ccxt_bot.py) trades against
//! the simulator on each exchange.

use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use exchange_sim::{FundsKind, OrderKind, Seed, Sim, SimKey, Snapshot};
use serde_json::{json, Value};

mod support;
use support::{code, key, send, send_signed, sign, spec, spec_json};

/// The same key with a secret it was not issued: its signatures are wrong.
fn wrong_secret(label: &str) -> SimKey {
    let mut key = key(label);
    key.secret = key.secret.chars().rev().collect();
    key
}

fn orders_of<'a>(state: &'a Snapshot, api_key: &str) -> Vec<&'a exchange_sim::SimOrder> {
    state.orders.iter().filter(|o| o.api_key == api_key).collect()
}

#[tokio::test]
async fn okx_balance_order_cancel_withdrawal_and_transfer() {
    let sim = Sim::start(Seed::example()).await.unwrap();
    let url = sim.base_url();
    let bot = key("okx-bot-withdraw");

    let (status, answer) = send(&url, spec(&bot, "GET", "/api/v5/account/balance", json!([]))).await;
    assert_eq!((status, code(&answer)), (200, "0".to_owned()), "{answer}");
    let usdt = answer["data"][0]["details"].as_array().unwrap().iter().find(|d| d["ccy"] == "USDT").unwrap();
    assert_eq!((usdt["availBal"].as_str(), usdt["cashBal"].as_str()), (Some("10000"), Some("10000")));
    assert_eq!(answer["data"][0]["totalEq"], "42500");

    let order = json!([
        ["instId", "BTC-USDT"],
        ["tdMode", "cash"],
        ["side", "buy"],
        ["ordType", "limit"],
        ["sz", "0.001"],
        ["px", "20000"],
        ["clOrdId", "bot1"]
    ]);
    let (status, answer) = send(&url, spec(&bot, "POST", "/api/v5/trade/order", order)).await;
    assert_eq!((status, code(&answer)), (200, "0".to_owned()), "{answer}");
    let placed = &answer["data"][0];
    assert_eq!((placed["sCode"].as_str(), placed["clOrdId"].as_str()), (Some("0"), Some("bot1")));
    let ord_id = placed["ordId"].as_str().unwrap().to_owned();
    let state = sim.state();
    let recorded = orders_of(&state, &bot.api_key);
    assert_eq!(recorded.len(), 1);
    let o = recorded[0];
    assert_eq!(
        (o.kind, o.order_id.as_str(), o.symbol.as_str(), o.side.as_str(), o.qty.as_str(), o.reduce_only),
        (OrderKind::Order, ord_id.as_str(), "BTC-USDT", "buy", "0.001", false)
    );

    // Reduce-only is for margin (and futures / swap) orders, not cash ones.
    let reduce = |td_mode: &str| {
        json!({"instId": "BTC-USDT", "tdMode": td_mode, "side": "buy", "ordType": "limit", "sz": "0.001",
               "px": "20000", "reduceOnly": true})
    };
    let (_, answer) = send(&url, spec_json(&bot, "/api/v5/trade/order", reduce("cash"))).await;
    assert_eq!((code(&answer), answer["data"][0]["sCode"].as_str()), ("1".to_owned(), Some("51205")), "{answer}");
    let (_, answer) = send(&url, spec_json(&bot, "/api/v5/trade/order", reduce("cross"))).await;
    assert_eq!(code(&answer), "0", "{answer}");
    assert!(sim.state().orders.last().unwrap().reduce_only);

    let cancel = json!([["instId", "BTC-USDT"], ["ordId", ord_id.as_str()]]);
    let (_, answer) = send(&url, spec(&bot, "POST", "/api/v5/trade/cancel-order", cancel.clone())).await;
    assert_eq!((code(&answer), answer["data"][0]["ordId"].as_str()), ("0".to_owned(), Some(ord_id.as_str())));
    let last = sim.state().orders.last().unwrap().clone();
    assert_eq!((last.kind, last.order_id.as_str()), (OrderKind::Cancel, ord_id.as_str()));
    let (_, answer) = send(&url, spec(&bot, "POST", "/api/v5/trade/cancel-order", cancel)).await;
    assert_eq!((code(&answer), answer["data"][0]["sCode"].as_str()), ("1".to_owned(), Some("51400")), "once only");

    let withdrawal = json!([
        ["ccy", "USDT"],
        ["amt", "1"],
        ["dest", "4"],
        ["toAddr", "TXLAQ63Xg1NAzckPwKHvzw7CSEmLMEqcdj"],
        ["chain", "USDT-TRC20"]
    ]);
    let (_, answer) = send(&url, spec(&bot, "POST", "/api/v5/asset/withdrawal", withdrawal)).await;
    assert_eq!(code(&answer), "0", "{answer}");
    let wd_id = answer["data"][0]["wdId"].as_str().unwrap().to_owned();
    let transfer = json!([["ccy", "USDT"], ["amt", "5"], ["from", "6"], ["to", "18"]]);
    let (_, answer) = send(&url, spec(&bot, "POST", "/api/v5/asset/transfer", transfer)).await;
    assert_eq!(code(&answer), "0", "{answer}");
    let state = sim.state();
    let moved: Vec<(FundsKind, &str, &str, &str)> =
        state.withdrawals.iter().map(|w| (w.kind, w.coin.as_str(), w.amount.as_str(), w.to.as_str())).collect();
    assert_eq!(
        moved,
        vec![
            (FundsKind::Withdrawal, "USDT", "1", "TXLAQ63Xg1NAzckPwKHvzw7CSEmLMEqcdj"),
            (FundsKind::Transfer, "USDT", "5", "18")
        ]
    );
    assert_eq!(state.withdrawals[0].id, wd_id);
    assert!(!serde_json::to_string(&state).unwrap().contains(&bot.secret), "the state shows no secret");
}

#[tokio::test]
async fn okx_refuses_bad_signatures_missing_permissions_and_withdrawals_without_withdraw() {
    let sim = Sim::start(Seed::example()).await.unwrap();
    let url = sim.base_url();
    let order = json!([
        ["instId", "BTC-USDT"],
        ["tdMode", "cash"],
        ["side", "buy"],
        ["ordType", "limit"],
        ["sz", "0.001"],
        ["px", "20000"]
    ]);

    let (status, answer) =
        send(&url, spec(&wrong_secret("okx-bot-trade"), "POST", "/api/v5/trade/order", order.clone())).await;
    assert_eq!((status, code(&answer)), (401, "50113".to_owned()), "{answer}");
    let (status, answer) = send(&url, spec(&key("okx-read-only"), "POST", "/api/v5/trade/order", order.clone())).await;
    assert_eq!((status, code(&answer)), (200, "50120".to_owned()), "a read-only key places no order: {answer}");
    let cancel = json!([["instId", "BTC-USDT"], ["ordId", "1"]]);
    let (_, answer) = send(&url, spec(&key("okx-read-only"), "POST", "/api/v5/trade/cancel-order", cancel)).await;
    assert_eq!(code(&answer), "50120");
    let withdrawal =
        json!([["ccy", "USDT"], ["amt", "1"], ["dest", "4"], ["toAddr", "TXLAQ63Xg1NAzckPwKHvzw7CSEmLMEqcdj"]]);
    let (_, answer) = send(&url, spec(&key("okx-bot-trade"), "POST", "/api/v5/asset/withdrawal", withdrawal)).await;
    assert_eq!(code(&answer), "50120", "a trade key withdraws nothing: {answer}");
    let transfer = json!([["ccy", "USDT"], ["amt", "1"], ["from", "6"], ["to", "18"]]);
    let (_, answer) = send(&url, spec(&key("okx-read-only"), "POST", "/api/v5/asset/transfer", transfer)).await;
    assert_eq!(code(&answer), "50120", "transfers need Trade: {answer}");

    // Parameters, and the demo environment as every OKX endpoint checks it.
    let no_size =
        json!([["instId", "BTC-USDT"], ["tdMode", "cash"], ["side", "buy"], ["ordType", "limit"], ["px", "1"]]);
    let (status, answer) = send(&url, spec(&key("okx-bot-trade"), "POST", "/api/v5/trade/order", no_size)).await;
    assert_eq!((status, code(&answer)), (400, "50014".to_owned()), "{answer}");
    let mut demo = spec(&key("okx-demo"), "POST", "/api/v5/trade/order", order.clone());
    let (_, answer) = send(&url, demo.clone()).await;
    assert_eq!(code(&answer), "0", "a demo key trades in demo: {answer}");
    demo["simulated"] = json!(false);
    let (_, answer) = send(&url, demo).await;
    assert_eq!(code(&answer), "50101", "and only there: {answer}");

    let state = sim.state();
    assert_eq!(state.orders.len(), 1, "only the demo order was taken: {:?}", state.orders);
    assert!(state.withdrawals.is_empty());
}

#[tokio::test]
async fn bybit_balance_order_cancel_withdrawal_and_transfer() {
    let sim = Sim::start(Seed::example()).await.unwrap();
    let url = sim.base_url();
    let bot = key("bybit-bot-withdraw");

    let balance = json!([["accountType", "UNIFIED"]]);
    let (status, answer) = send(&url, spec(&bot, "GET", "/v5/account/wallet-balance", balance)).await;
    assert_eq!((status, code(&answer)), (200, "0".to_owned()), "{answer}");
    let account = &answer["result"]["list"][0];
    let btc = account["coin"].as_array().unwrap().iter().find(|c| c["coin"] == "BTC").unwrap();
    assert_eq!((account["accountType"].as_str(), btc["walletBalance"].as_str()), (Some("UNIFIED"), Some("0.5")));

    let order = |category: &str, reduce: bool| {
        json!({"category": category, "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit", "qty": "0.001",
               "price": "20000", "reduceOnly": reduce, "orderLinkId": "bot-1"})
    };
    let (_, answer) = send(&url, spec_json(&bot, "/v5/order/create", order("spot", false))).await;
    assert_eq!(code(&answer), "0", "{answer}");
    let order_id = answer["result"]["orderId"].as_str().unwrap().to_owned();
    assert_eq!(answer["result"]["orderLinkId"], "bot-1");
    let o = sim.state().orders.last().unwrap().clone();
    assert_eq!(
        (o.kind, o.order_id.as_str(), o.symbol.as_str(), o.market.as_str(), o.side.as_str(), o.api_key.as_str()),
        (OrderKind::Order, order_id.as_str(), "BTCUSDT", "spot", "Buy", bot.api_key.as_str())
    );
    let (_, answer) = send(&url, spec_json(&bot, "/v5/order/create", order("spot", true))).await;
    assert_eq!(code(&answer), "10001", "reduce-only is for derivatives: {answer}");
    let (_, answer) = send(&url, spec_json(&bot, "/v5/order/create", order("linear", true))).await;
    assert_eq!(code(&answer), "0", "{answer}");
    assert!(sim.state().orders.last().unwrap().reduce_only);

    // A cancel names the order's category: the spot order is not a linear one.
    let cancel = |category: &str| json!({"category": category, "symbol": "BTCUSDT", "orderId": order_id});
    let (_, answer) = send(&url, spec_json(&bot, "/v5/order/cancel", cancel("linear"))).await;
    assert_eq!(code(&answer), "110001", "{answer}");
    let (_, answer) = send(&url, spec_json(&bot, "/v5/order/cancel", cancel("spot"))).await;
    assert_eq!((code(&answer), answer["result"]["orderId"].as_str()), ("0".to_owned(), Some(order_id.as_str())));
    let (_, answer) = send(&url, spec_json(&bot, "/v5/order/cancel", cancel("spot"))).await;
    assert_eq!(code(&answer), "170213", "once only: {answer}");
    assert_eq!(sim.state().orders.last().unwrap().kind, OrderKind::Cancel);

    let withdrawal = json!({"coin": "USDT", "chain": "TRX", "address": "TXLAQ63Xg1NAzckPwKHvzw7CSEmLMEqcdj",
                            "amount": "1", "timestamp": 1_796_000_000_000_i64, "accountType": "FUND"});
    let (_, answer) = send(&url, spec_json(&bot, "/v5/asset/withdraw/create", withdrawal.clone())).await;
    assert_eq!(code(&answer), "0", "{answer}");
    assert!(answer["result"]["id"].as_str().is_some_and(|id| !id.is_empty()));
    let (_, answer) = send(&url, spec_json(&bot, "/v5/asset/withdraw/create", withdrawal)).await;
    assert_eq!(code(&answer), "10006", "one withdrawal per coin and chain every 10 s: {answer}");
    let transfer = json!({"transferId": "42c0cfb0-6bca-c242-bc76-4e6df6cbcb16", "coin": "USDT", "amount": "2",
                          "fromAccountType": "FUND", "toAccountType": "UNIFIED"});
    let (_, answer) = send(&url, spec_json(&bot, "/v5/asset/transfer/inter-transfer", transfer)).await;
    assert_eq!((code(&answer), answer["result"]["status"].as_str()), ("0".to_owned(), Some("SUCCESS")), "{answer}");
    let kinds: Vec<FundsKind> = sim.state().withdrawals.iter().map(|w| w.kind).collect();
    assert_eq!(kinds, vec![FundsKind::Withdrawal, FundsKind::Transfer]);
}

#[tokio::test]
async fn bybit_refuses_bad_signatures_missing_permissions_and_withdrawals_without_withdraw() {
    let sim = Sim::start(Seed::example()).await.unwrap();
    let url = sim.base_url();
    let order = json!({"category": "spot", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit", "qty": "0.001",
                       "price": "20000"});
    let (status, answer) =
        send(&url, spec_json(&wrong_secret("bybit-bot-trade"), "/v5/order/create", order.clone())).await;
    assert_eq!((status, code(&answer)), (401, "10004".to_owned()), "{answer}");
    let (_, answer) = send(&url, spec_json(&key("bybit-bot-read"), "/v5/order/create", order.clone())).await;
    assert_eq!(code(&answer), "10005", "a read-only key places no order: {answer}");
    let withdrawal = json!({"coin": "USDT", "chain": "TRX", "address": "TXLAQ63Xg1NAzckPwKHvzw7CSEmLMEqcdj",
                            "amount": "1", "timestamp": 1_796_000_000_000_i64, "accountType": "FUND"});
    let (_, answer) = send(&url, spec_json(&key("bybit-bot-trade"), "/v5/asset/withdraw/create", withdrawal)).await;
    assert_eq!(code(&answer), "10005", "a trade key withdraws nothing: {answer}");
    let transfer = json!({"transferId": "x", "coin": "USDT", "amount": "1", "fromAccountType": "FUND",
                          "toAccountType": "UNIFIED"});
    let (_, answer) =
        send(&url, spec_json(&key("bybit-bot-trade"), "/v5/asset/transfer/inter-transfer", transfer)).await;
    assert_eq!(code(&answer), "10005", "transfers need Account Transfer: {answer}");
    let (_, answer) = send(&url, spec(&key("bybit-bot-trade"), "GET", "/v5/account/wallet-balance", json!([]))).await;
    assert_eq!(code(&answer), "10001", "accountType is required: {answer}");
    let state = sim.state();
    assert!(state.orders.is_empty() && state.withdrawals.is_empty());
}

/// What CCXT's `load_markets` and Freqtrade's live start-up read on Bybit before they trade: the
/// instruments (public), then the coin list and the account's information, signed and checked as
/// every Bybit endpoint is.
#[tokio::test]
async fn bybit_answers_the_start_up_reads_and_checks_their_signatures() {
    let sim = Sim::start(Seed::example()).await.unwrap();
    let url = sim.base_url();
    let get = |query: &str| reqwest::get(format!("{url}/v5/market/instruments-info?{query}"));
    let spot: Value = get("category=spot").await.unwrap().json().await.unwrap();
    assert_eq!(code(&spot), "0", "{spot}");
    let market = &spot["result"]["list"][0];
    assert_eq!((market["symbol"].as_str(), market["status"].as_str()), (Some("BTCUSDT"), Some("Trading")));
    let linear: Value = get("category=linear&limit=1000").await.unwrap().json().await.unwrap();
    assert_eq!(linear["result"]["list"], json!([]), "{linear}");
    let none: Value = get("").await.unwrap().json().await.unwrap();
    assert_eq!(code(&none), "10001", "category is required: {none}");

    let trader = key("bybit-bot-trade");
    let (_, coins) = send(&url, spec(&trader, "GET", "/v5/asset/coin/query-info", json!([]))).await;
    assert_eq!(code(&coins), "0", "{coins}");
    let names: Vec<&str> =
        coins["result"]["rows"].as_array().unwrap().iter().filter_map(|r| r["coin"].as_str()).collect();
    assert_eq!(names, ["USDT", "BTC"]);
    let (_, account) = send(&url, spec(&trader, "GET", "/v5/account/info", json!([]))).await;
    assert_eq!((code(&account), account["result"]["unifiedMarginStatus"].as_i64()), ("0".to_owned(), Some(5)));
    for path in ["/v5/asset/coin/query-info", "/v5/account/info"] {
        let (status, answer) = send(&url, spec(&wrong_secret("bybit-bot-trade"), "GET", path, json!([]))).await;
        assert_eq!((status, code(&answer)), (401, "10004".to_owned()), "{path}: {answer}");
    }
}

#[tokio::test]
async fn binance_account_order_cancel_and_withdrawal() {
    let sim = Sim::start(Seed::example()).await.unwrap();
    let url = sim.base_url();
    let bot = key("binance-bot-withdraw");

    let (status, answer) = send(&url, spec(&bot, "GET", "/api/v3/account", json!([]))).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!((answer["canTrade"].as_bool(), answer["canWithdraw"].as_bool()), (Some(true), Some(true)));
    let usdt = answer["balances"].as_array().unwrap().iter().find(|b| b["asset"] == "USDT").unwrap();
    assert_eq!(usdt["free"], "10000.00000000");

    // All parameters in the form body.
    let order = json!([
        ["symbol", "BTCUSDT"],
        ["side", "BUY"],
        ["type", "LIMIT"],
        ["timeInForce", "GTC"],
        ["quantity", "0.001"],
        ["price", "20000"]
    ]);
    let (status, answer) = send(&url, spec(&bot, "POST", "/api/v3/order", order)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!((answer["status"].as_str(), answer["fills"].as_array().map(Vec::len)), (Some("NEW"), Some(0)));
    let first = answer["orderId"].as_i64().unwrap();

    // Some in the query, the rest in the body: signed over the query string then the body.
    let mut mixed = spec(
        &bot,
        "POST",
        "/api/v3/order",
        json!([["quantity", "0.002"], ["price", "21000"], ["newOrderRespType", "ACK"]]),
    );
    mixed["queryParams"] = json!([["symbol", "BTCUSDT"], ["side", "BUY"], ["type", "LIMIT"], ["timeInForce", "GTC"]]);
    let (status, answer) = send(&url, mixed).await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer.get("status").is_none(), "ACK has no status: {answer}");
    let o = sim.state().orders.last().unwrap().clone();
    assert_eq!((o.qty.as_str(), o.price.as_deref(), o.symbol.as_str()), ("0.002", Some("21000"), "BTCUSDT"));

    let mut cancel = spec(&bot, "DELETE", "/api/v3/order", json!([]));
    cancel["queryParams"] = json!([["symbol", "BTCUSDT"], ["orderId", first.to_string()]]);
    let (status, answer) = send(&url, cancel.clone()).await;
    assert_eq!((status, answer["status"].as_str(), answer["orderId"].as_i64()), (200, Some("CANCELED"), Some(first)));
    let (status, answer) = send(&url, cancel).await;
    assert_eq!((status, code(&answer)), (400, "-2011".to_owned()), "once only: {answer}");

    let withdrawal = json!([
        ["coin", "USDT"],
        ["network", "TRX"],
        ["address", "TXLAQ63Xg1NAzckPwKHvzw7CSEmLMEqcdj"],
        ["amount", "1"]
    ]);
    let (status, answer) = send(&url, spec(&bot, "POST", "/sapi/v1/capital/withdraw/apply", withdrawal)).await;
    assert_eq!(status, 200, "{answer}");
    let state = sim.state();
    assert_eq!(state.withdrawals.len(), 1);
    assert_eq!(state.withdrawals[0].id, answer["id"].as_str().unwrap());
    let kinds: Vec<OrderKind> = orders_of(&state, &bot.api_key).iter().map(|o| o.kind).collect();
    assert_eq!(kinds, vec![OrderKind::Order, OrderKind::Order, OrderKind::Cancel]);
}

#[tokio::test]
async fn binance_refuses_bad_signatures_missing_permissions_and_withdrawals_without_withdraw() {
    let sim = Sim::start(Seed::example()).await.unwrap();
    let url = sim.base_url();
    let order = json!([
        ["symbol", "BTCUSDT"],
        ["side", "BUY"],
        ["type", "LIMIT"],
        ["timeInForce", "GTC"],
        ["quantity", "0.001"],
        ["price", "20000"]
    ]);
    let (status, answer) =
        send(&url, spec(&wrong_secret("binance-bot-trade"), "POST", "/api/v3/order", order.clone())).await;
    assert_eq!((status, code(&answer)), (400, "-1022".to_owned()), "{answer}");
    let (status, answer) = send(&url, spec(&key("binance-read-only"), "POST", "/api/v3/order", order)).await;
    assert_eq!((status, code(&answer)), (401, "-2015".to_owned()), "a read-only key places no order: {answer}");
    let withdrawal = json!([["coin", "USDT"], ["address", "TXLAQ63Xg1NAzckPwKHvzw7CSEmLMEqcdj"], ["amount", "1"]]);
    let (status, answer) =
        send(&url, spec(&key("binance-bot-trade"), "POST", "/sapi/v1/capital/withdraw/apply", withdrawal)).await;
    assert_eq!((status, code(&answer)), (401, "-1002".to_owned()), "a trade key withdraws nothing: {answer}");
    let no_price = json!([
        ["symbol", "BTCUSDT"],
        ["side", "BUY"],
        ["type", "LIMIT"],
        ["timeInForce", "GTC"],
        ["quantity", "0.001"]
    ]);
    let (status, answer) = send(&url, spec(&key("binance-bot-trade"), "POST", "/api/v3/order", no_price)).await;
    assert_eq!((status, code(&answer)), (400, "-1102".to_owned()), "{answer}");
    let state = sim.state();
    assert!(state.orders.is_empty() && state.withdrawals.is_empty());
}

/// OKX's balance allows 10 requests per 2 s per account; with rate limits off (for load runs) it
/// takes any number, and the request totals count every answer.
#[tokio::test]
async fn rate_limits_apply_until_turned_off() {
    let sim = Sim::start(Seed::example()).await.unwrap();
    let url = sim.base_url();
    let bot = key("okx-bot-trade");
    // Signed first, sent together: spawning the signer takes longer than the window allows.
    let signed: Vec<Value> = (0..11).map(|_| sign(&spec(&bot, "GET", "/api/v5/account/balance", json!([])))).collect();
    let mut codes = Vec::new();
    for request in &signed {
        let (status, answer) = send_signed(&url, request).await;
        codes.push((status, code(&answer)));
    }
    assert_eq!(codes[..10], vec![(200, "0".to_owned()); 10]);
    assert_eq!(codes[10], (429, "50011".to_owned()));
    assert!(sim.state().rate_limits);

    sim.set_rate_limits(false);
    for _ in 0..12 {
        let (status, answer) = send(&url, spec(&bot, "GET", "/api/v5/account/balance", json!([]))).await;
        assert_eq!((status, code(&answer)), (200, "0".to_owned()));
    }
    let state = sim.state();
    assert!(!state.rate_limits);
    assert_eq!(state.request_totals.total, 23);
    assert_eq!(state.request_totals.by_status.get(&429), Some(&1));

    // The seed's switch.
    let unlimited = Sim::start(Seed { no_rate_limits: true, ..Seed::example() }).await.unwrap();
    assert!(!unlimited.state().rate_limits);
}

/// Real CCXT (python3 with ccxt; 4.5.90 was used) as a bot: tests/bots/ccxt_bot.py, one command a
/// line, one JSON answer a line.
struct Bot {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Bot {
    fn start(exchange: &str, base_url: &str, key: &SimKey, demo: bool) -> Bot {
        let script = format!("{}/../../tests/bots/ccxt_bot.py", std::env::var("CARGO_MANIFEST_DIR").unwrap());
        let mut args = vec![
            script,
            "--exchange".to_owned(),
            exchange.to_owned(),
            "--base".to_owned(),
            base_url.to_owned(),
            "--key".to_owned(),
            key.api_key.clone(),
            "--secret".to_owned(),
            key.secret.clone(),
        ];
        if let Some(passphrase) = &key.passphrase {
            args.extend(["--passphrase".to_owned(), passphrase.clone()]);
        }
        if demo {
            args.push("--demo".to_owned());
        }
        let mut child =
            Command::new("python3").args(&args).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Bot { child, stdin, stdout }
    }

    /// Blocks until the answer: the simulator serves from the runtime's worker threads.
    fn ask(&mut self, line: &str) -> Value {
        writeln!(self.stdin, "{line}").unwrap();
        let mut answer = String::new();
        self.stdout.read_line(&mut answer).unwrap();
        let answer: Value =
            serde_json::from_str(&answer).unwrap_or_else(|e| panic!("{line}: not one JSON line ({e}): {answer:?}"));
        assert_eq!(answer["cmd"], line, "{answer}");
        answer
    }

    fn quit(mut self) {
        assert_eq!(self.ask("quit")["ok"], true);
        assert!(self.child.wait().unwrap().success());
    }
}

impl Drop for Bot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn ok_result(answer: &Value) -> &Value {
    assert_eq!(answer["ok"], true, "{answer}");
    &answer["result"]
}

/// A refusal as CCXT raised it: the class, and that it is not worth retrying.
fn refusal(answer: &Value) -> (&str, bool) {
    assert_eq!(answer["ok"], false, "{answer}");
    (answer["error"].as_str().unwrap(), answer["retryable"].as_bool().unwrap())
}

fn loop_ok(answer: &Value, count: u64) {
    assert_eq!((answer["ok"].as_u64(), &answer["errors"]), (Some(count), &json!({})), "{answer}");
    assert_eq!(answer["latencies_ms"].as_array().unwrap().len() as u64, count);
}

fn has_ccxt() -> bool {
    let found = Command::new("python3").args(["-c", "import ccxt"]).output().is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("LATCHKEY_REQUIRE_CCXT").is_none(),
            "LATCHKEY_REQUIRE_CCXT is set but python3 cannot import ccxt"
        );
        eprintln!("SKIPPED ccxt_bot_trades_on_each_exchange: python3 cannot import ccxt (pip install ccxt==4.5.90)");
    }
    found
}

/// Without ccxt the test says so and checks nothing, unless `LATCHKEY_REQUIRE_CCXT=1` makes a
/// missing ccxt a failure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ccxt_bot_trades_on_each_exchange() {
    if !has_ccxt() {
        return;
    }
    let sim = Sim::start(Seed::example()).await.unwrap();
    let url = sim.base_url();

    // OKX. The loop first: its 10 balance calls are all OKX allows in 2 s, so the next one is
    // refused, and CCXT takes the 429 as RateLimitExceeded.
    let trader = key("okx-bot-trade");
    let mut bot = Bot::start("okx", &url, &trader, false);
    loop_ok(&bot.ask("loop 20 50"), 20);
    let limited = bot.ask("loop 2 50");
    assert_eq!((limited["ok"].as_u64(), &limited["errors"]), (Some(1), &json!({"RateLimitExceeded": 1})), "{limited}");
    sim.set_rate_limits(false);
    let balance = bot.ask("balance");
    assert_eq!(ok_result(&balance)["data"][0]["details"][0]["ccy"], "USDT");
    let placed = bot.ask("order");
    let ord_id = ok_result(&placed)["data"][0]["ordId"].as_str().unwrap().to_owned();
    let state = sim.state();
    assert!(orders_of(&state, &trader.api_key).iter().any(|o| o.order_id == ord_id && o.kind == OrderKind::Order));
    ok_result(&bot.ask(&format!("cancel {ord_id}")));
    let last = sim.state().orders.last().unwrap().clone();
    assert_eq!((last.kind, last.order_id), (OrderKind::Cancel, ord_id.clone()));
    assert_eq!(refusal(&bot.ask(&format!("cancel {ord_id}"))), ("OrderNotFound", false));
    let reduce = bot.ask("order reduce");
    assert_eq!(ok_result(&reduce)["code"], "0");
    assert!(sim.state().orders.last().unwrap().reduce_only);
    let withdraw = bot.ask("withdraw");
    assert_eq!(refusal(&withdraw), ("ExchangeError", false));
    assert!(withdraw["message"].as_str().unwrap().contains("50120"), "{withdraw}");
    assert_eq!(ok_result(&bot.ask("transfer"))["code"], "0", "OKX transfers need Trade only");
    loop_ok(&bot.ask("loop 20 50"), 20);
    bot.quit();
    sim.set_rate_limits(true);

    // OKX demo trading: sandbox mode's x-simulated-trading header survives the URL override.
    let demo_key = key("okx-demo");
    let mut demo = Bot::start("okx", &url, &demo_key, true);
    ok_result(&demo.ask("order"));
    demo.quit();
    let mut not_demo = Bot::start("okx", &url, &demo_key, false);
    let refused = not_demo.ask("balance");
    assert_eq!(refusal(&refused), ("AuthenticationError", false));
    assert!(refused["message"].as_str().unwrap().contains("50101"), "{refused}");
    not_demo.quit();

    // Bybit.
    let trader = key("bybit-bot-trade");
    let mut bot = Bot::start("bybit", &url, &trader, false);
    let balance = bot.ask("balance");
    assert_eq!(ok_result(&balance)["result"]["list"][0]["accountType"], "UNIFIED");
    let placed = bot.ask("order");
    let order_id = ok_result(&placed)["result"]["orderId"].as_str().unwrap().to_owned();
    assert!(orders_of(&sim.state(), &trader.api_key).iter().any(|o| o.order_id == order_id && o.market == "spot"));
    assert_eq!(ok_result(&bot.ask(&format!("cancel {order_id}")))["retCode"], 0);
    assert_eq!(sim.state().orders.last().unwrap().kind, OrderKind::Cancel);
    let reduce = bot.ask("order reduce");
    let reduce_id = ok_result(&reduce)["result"]["orderId"].as_str().unwrap().to_owned();
    ok_result(&bot.ask(&format!("cancel {reduce_id}")));
    let withdraw = bot.ask("withdraw");
    assert_eq!(refusal(&withdraw), ("PermissionDenied", false));
    assert!(withdraw["message"].as_str().unwrap().contains("10005"), "{withdraw}");
    loop_ok(&bot.ask("loop 20 50"), 20);
    bot.quit();

    // Binance.
    let trader = key("binance-bot-trade");
    let mut bot = Bot::start("binance", &url, &trader, false);
    let balance = bot.ask("balance");
    assert_eq!(ok_result(&balance)["canWithdraw"], false);
    let placed = bot.ask("order");
    let order_id = ok_result(&placed)["orderId"].as_i64().unwrap().to_string();
    assert!(orders_of(&sim.state(), &trader.api_key).iter().any(|o| o.order_id == order_id));
    assert_eq!(ok_result(&bot.ask(&format!("cancel {order_id}")))["status"], "CANCELED");
    assert_eq!(refusal(&bot.ask("order reduce")), ("NotSupported", false), "Binance spot has no reduceOnly");
    let withdraw = bot.ask("withdraw");
    assert_eq!(refusal(&withdraw), ("AuthenticationError", false));
    assert!(withdraw["message"].as_str().unwrap().contains("-1002"), "{withdraw}");
    loop_ok(&bot.ask("loop 20 50"), 20);
    bot.quit();

    let state = sim.state();
    assert!(state.withdrawals.iter().all(|w| w.kind == FundsKind::Transfer), "no withdrawal went through");
    let refused: Vec<&str> = state
        .requests
        .iter()
        .filter(|r| r.code == "50113" || r.code == "10004" || r.code == "-1022")
        .map(|r| r.path.as_str())
        .collect();
    assert!(refused.is_empty(), "no CCXT signature was refused: {refused:?}");
}
