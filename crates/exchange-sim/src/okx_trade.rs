//! OKX v5 trading endpoints, as documented (okx.com/docs-v5): get balance (Read, 10 requests per
//! 2 s per user), place and cancel order (Trade, 60 per 2 s per user and instrument), funds
//! transfer ("Only API keys with Trade privilege", 2 per second per user and currency) and
//! withdrawal (Withdraw, 6 per second per user). They authenticate as every OKX endpoint
//! (`okx::authenticate`: headers, 30 s window, demo environment, passphrase, signature, IP).
//!
//! Order-level refusals come as OKX sends them: `code` "1" with the reason in `data[0].sCode`.

use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::okx::{error, ok, rate_limited};
use crate::reply::Reply;
use crate::seed::{Permission, SimKey};
use crate::state::{lock, Shared};
use crate::trading::{is_amount, FundsKind, OrderKind, OrderRef, SimOrder, SimWithdrawal, HOLDINGS, HOLDINGS_USD};
use crate::verify::Req;

const ORDER_TYPES: [&str; 8] =
    ["market", "limit", "post_only", "fok", "ioc", "optimal_limit_ioc", "mmp", "mmp_and_post_only"];
const TRADE_MODES: [&str; 4] = ["cash", "cross", "isolated", "spot_isolated"];
/// The currency fields a spot-mode account leaves empty.
const INAPPLICABLE: [&str; 19] = [
    "liab",
    "uplLiab",
    "crossLiab",
    "isoLiab",
    "mgnRatio",
    "imr",
    "mmr",
    "interest",
    "maxLoan",
    "borrowFroz",
    "notionalLever",
    "isoUpl",
    "spotInUseAmt",
    "clSpotInUseAmt",
    "maxSpotInUse",
    "openAvgPx",
    "accAvgPx",
    "spotUpl",
    "spotUplRatio",
];
/// `from` / `to` of a transfer: 6 the funding account, 18 the trading account.
const ACCOUNTS: [&str; 2] = ["6", "18"];

fn no_permission() -> Reply {
    error(200, "50120", "This API key doesn't have permission to use this function")
}

fn empty(name: &str) -> Reply {
    error(400, "50014", &format!("Parameter {name} can not be empty."))
}

fn param_error(name: &str) -> Reply {
    error(400, "51000", &format!("Parameter {name} error"))
}

/// `code` "1" ("Operation failed."), the order-level reason in `sCode` / `sMsg`.
fn operation_failed(req: &Req, row: Value, s_code: &str, s_msg: &str) -> Reply {
    let mut row = row;
    row["sCode"] = json!(s_code);
    row["sMsg"] = json!(s_msg);
    row["ts"] = json!(req.now_ms().to_string());
    Reply::json(200, "1", json!({"code": "1", "msg": "Operation failed.", "data": [row]}))
}

/// A POST body: a JSON object, or OKX's 50000 / 50002.
fn body(req: &Req) -> Result<Map<String, Value>, Reply> {
    if req.body.trim().is_empty() {
        return Err(error(400, "50000", "Body for POST request cannot be empty."));
    }
    match serde_json::from_str::<Value>(&req.body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(error(400, "50002", "JSON syntax error")),
    }
}

/// A string field (numbers are taken as their text, as OKX's parser does).
fn text(body: &Map<String, Value>, name: &str) -> Option<String> {
    match body.get(name)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn required(body: &Map<String, Value>, name: &str) -> Result<String, Reply> {
    text(body, name).ok_or_else(|| empty(name))
}

/// `reduceOnly`: `true` / `false`, as a boolean or its text.
fn flag(body: &Map<String, Value>, name: &str) -> Result<bool, Reply> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(s)) if s == "true" || s == "false" => Ok(s == "true"),
        Some(_) => Err(param_error(name)),
    }
}

/// `GET /api/v5/public/instruments?instType=…` (public): one spot market, BTC-USDT, in the shape
/// CCXT's `fetch_markets` parses; the other instrument types have none here.
pub(crate) fn instruments(req: &Req) -> Reply {
    let spot = req.query.split('&').any(|p| p == "instType=SPOT");
    let rows = if spot {
        vec![json!({
            "instType": "SPOT", "instId": "BTC-USDT", "uly": "", "instFamily": "", "category": "1",
            "baseCcy": "BTC", "quoteCcy": "USDT", "settleCcy": "", "ctVal": "", "ctMult": "", "ctValCcy": "",
            "optType": "", "stk": "", "listTime": "1548133413000", "expTime": "", "lever": "10",
            "tickSz": "0.1", "lotSz": "0.00000001", "minSz": "0.00001", "ctType": "", "alias": "",
            "state": "live", "maxLmtSz": "9999999999", "maxMktSz": "1000000", "maxTwapSz": "", "maxIcebergSz": "",
            "maxTriggerSz": "", "maxStopSz": "", "ruleType": "normal"
        })]
    } else {
        Vec::new()
    };
    ok(Value::Array(rows))
}

/// `GET /api/v5/asset/currencies`: the coins of the fixed holdings, each on one chain, as CCXT's
/// `fetch_currencies` reads them (its `load_markets` asks for them first when it holds a key).
pub(crate) fn currencies(sim: &Shared, _req: &Req, key: &SimKey) -> Reply {
    if !key.has(Permission::Read) {
        return no_permission();
    }
    if !lock(sim).allow("okx:asset/currencies", &key.uid, 6, Duration::from_secs(1)) {
        return rate_limited();
    }
    let rows: Vec<Value> = HOLDINGS
        .iter()
        .map(|h| {
            let chain = if h.coin == "BTC" { "BTC-Bitcoin".to_owned() } else { format!("{}-TRC20", h.coin) };
            json!({
                "ccy": h.coin, "name": h.coin, "chain": chain, "canDep": true, "canWd": true, "canInternal": true,
                "minDep": "0.00000001", "minWd": "0.001", "maxWd": "500", "wdTickSz": "8", "wdQuota": "10000000",
                "usedWdQuota": "0", "fee": "0.0002", "minFee": "0.0002", "maxFee": "0.0004", "mainNet": true,
                "needTag": false, "minDepArrivalConfirm": "1", "minWdUnlockConfirm": "2", "depQuotaFixed": "",
                "usedDepQuotaFixed": "", "depQuoteDailyLayer2": "", "logoLink": "", "ctAddr": "", "burningFeeRate": ""
            })
        })
        .collect();
    ok(Value::Array(rows))
}

/// `GET /api/v5/account/balance`: the fixed holdings, shaped as a spot-mode account's.
pub(crate) fn balance(sim: &Shared, req: &Req, key: &SimKey) -> Reply {
    if !key.has(Permission::Read) {
        return no_permission();
    }
    if !lock(sim).allow("okx:account/balance", &key.uid, 10, Duration::from_secs(2)) {
        return rate_limited();
    }
    let now = req.now_ms().to_string();
    let details: Vec<Value> = HOLDINGS
        .iter()
        .map(|h| {
            let mut row = json!({
                "ccy": h.coin, "eq": h.amount, "cashBal": h.amount, "availBal": h.amount, "availEq": h.amount,
                "spotBal": h.amount, "frozenBal": "0", "ordFrozen": "0", "eqUsd": h.usd, "disEq": h.usd, "uTime": now,
                "isoEq": "0", "fixedBal": "0", "upl": "0", "rewardBal": "0", "twap": "0", "frpType": "0",
                "stgyEq": "0", "spotIsoBal": "0", "smtSyncEq": "0", "spotCopyTradingEq": "0", "colRes": "0",
                "colBorrAutoConversion": "0", "collateralEnabled": false, "autoLendStatus": "off", "autoLendMtAmt": "0"
            });
            // OKX: '"" will be returned for inapplicable fields under the current account level.'
            for name in INAPPLICABLE {
                row[name] = json!("");
            }
            row
        })
        .collect();
    ok(json!([{
        "uTime": now, "totalEq": HOLDINGS_USD, "isoEq": "", "adjEq": HOLDINGS_USD, "availEq": "", "ordFroz": "0",
        "imr": "0", "mmr": "0", "borrowFroz": "0", "mgnRatio": "", "notionalUsd": "0", "notionalUsdForBorrow": "0",
        "notionalUsdForSwap": "", "notionalUsdForFutures": "", "notionalUsdForOption": "0", "upl": "",
        "delta": "", "deltaLever": "", "deltaNeutralStatus": "0", "details": details
    }]))
}

/// `POST /api/v5/trade/order`.
pub(crate) fn place_order(sim: &Shared, req: &Req, key: &SimKey) -> Reply {
    if !key.has(Permission::Trade) {
        return no_permission();
    }
    let body = match body(req) {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    let fields = ["instId", "tdMode", "side", "ordType", "sz"].map(|name| required(&body, name));
    let [inst_id, td_mode, side, ord_type, sz] = match fields {
        [Ok(a), Ok(b), Ok(c), Ok(d), Ok(e)] => [a, b, c, d, e],
        fields => return fields.into_iter().find_map(Result::err).unwrap_or_else(|| empty("instId")),
    };
    let reduce_only = match flag(&body, "reduceOnly") {
        Ok(reduce_only) => reduce_only,
        Err(reply) => return reply,
    };
    if !TRADE_MODES.contains(&td_mode.as_str()) {
        return param_error("tdMode");
    }
    if side != "buy" && side != "sell" {
        return param_error("side");
    }
    if !ORDER_TYPES.contains(&ord_type.as_str()) {
        return param_error("ordType");
    }
    if !is_amount(&sz) {
        return param_error("sz");
    }
    let px = text(&body, "px");
    if ord_type != "market" && ord_type != "optimal_limit_ioc" && !px.as_deref().is_some_and(is_amount) {
        return param_error("px");
    }
    let mut state = lock(sim);
    if !state.allow("okx:trade/order", &format!("{}/{inst_id}", key.uid), 60, Duration::from_secs(2)) {
        return rate_limited();
    }
    let client_id = text(&body, "clOrdId");
    let tag = text(&body, "tag").unwrap_or_default();
    let row = json!({"clOrdId": client_id.clone().unwrap_or_default(), "ordId": "", "tag": tag});
    // "Only applicable to MARGIN orders, and FUTURES/SWAP orders in net mode": never to a cash
    // (spot) order. What OKX answers for one is UNCONFIRMED; the simulator refuses it.
    if reduce_only && td_mode == "cash" {
        return operation_failed(req, row, "51205", "Reduce Only is not available.");
    }
    // 18 digits, as OKX's order ids look.
    let ord_id = (700_000_000_000_000_000 + state.books.next_id()).to_string();
    let order = SimOrder {
        exchange: key.exchange,
        api_key: key.api_key.clone(),
        kind: OrderKind::Order,
        order_id: ord_id.clone(),
        symbol: inst_id,
        market: td_mode,
        side,
        qty: sz,
        price: px,
        reduce_only,
    };
    state.books.place(key, order, client_id.clone());
    let micros = (req.now.timestamp_micros()).to_string();
    Reply::json(
        200,
        "0",
        json!({"code": "0", "msg": "", "data": [{
            "clOrdId": client_id.unwrap_or_default(), "ordId": ord_id, "tag": tag, "ts": req.now_ms().to_string(),
            "sCode": "0", "sMsg": "Order placed"
        }], "inTime": micros, "outTime": micros}),
    )
}

/// `POST /api/v5/trade/batch-orders`: up to 20 orders, each as `/trade/order` takes one (CCXT's
/// `create_order` sends even a single order this way). `data` holds one row per order; the code is
/// "0" when all were placed, "1" when none, "2" when some were.
pub(crate) fn place_batch(sim: &Shared, req: &Req, key: &SimKey) -> Reply {
    let items = match serde_json::from_str::<Value>(&req.body) {
        Ok(Value::Array(items)) if (1..=20).contains(&items.len()) => items,
        _ => return param_error("body"),
    };
    let mut rows = Vec::new();
    let mut placed = 0;
    for item in &items {
        let one = Req {
            method: req.method.clone(),
            path: req.path.clone(),
            query: req.query.clone(),
            headers: req.headers.clone(),
            body: item.to_string(),
            peer: req.peer,
            now: req.now,
        };
        let reply = place_order(sim, &one, key);
        let answer: Value = serde_json::from_str(&reply.body).unwrap_or_default();
        // An answer for the whole request (no permission, rate limit) stands for the batch.
        let Some(row) = answer["data"].as_array().and_then(|d| d.first()).cloned() else { return reply };
        if row["sCode"] == "0" {
            placed += 1;
        }
        rows.push(row);
    }
    let (code, msg) = match placed {
        n if n == items.len() => ("0", ""),
        0 => ("1", "All operations failed"),
        _ => ("2", "Batch operation partially succeeded"),
    };
    Reply::json(200, code, json!({"code": code, "msg": msg, "data": rows}))
}

/// `POST /api/v5/trade/cancel-order`: by `ordId` (first, as documented) or `clOrdId`.
pub(crate) fn cancel_order(sim: &Shared, req: &Req, key: &SimKey) -> Reply {
    if !key.has(Permission::Trade) {
        return no_permission();
    }
    let body = match body(req) {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    let inst_id = match required(&body, "instId") {
        Ok(inst_id) => inst_id,
        Err(reply) => return reply,
    };
    let (ord_id, client_id) = (text(&body, "ordId"), text(&body, "clOrdId"));
    let which = match (&ord_id, &client_id) {
        (Some(id), _) => OrderRef::Id(id),
        (None, Some(id)) => OrderRef::ClientId(id),
        (None, None) => return error(400, "50015", "Either parameter ordId or clOrdId is required"),
    };
    let mut state = lock(sim);
    if !state.allow("okx:trade/cancel-order", &format!("{}/{inst_id}", key.uid), 60, Duration::from_secs(2)) {
        return rate_limited();
    }
    let row = json!({"clOrdId": client_id.clone().unwrap_or_default(), "ordId": ord_id.clone().unwrap_or_default()});
    match state.books.cancel(key, &inst_id, None, which) {
        Some(cancelled) => {
            let micros = req.now.timestamp_micros().to_string();
            Reply::json(
                200,
                "0",
                json!({"code": "0", "msg": "", "data": [{
                    "clOrdId": client_id.unwrap_or_default(), "ordId": cancelled.order_id,
                    "ts": req.now_ms().to_string(), "sCode": "0", "sMsg": ""
                }], "inTime": micros, "outTime": micros}),
            )
        }
        None => operation_failed(
            req,
            row,
            "51400",
            "Order cancellation failed as the order has been filled, canceled or does not exist.",
        ),
    }
}

/// `POST /api/v5/asset/withdrawal`: `dest` 3 (internal) or 4 (on-chain) to `toAddr`.
pub(crate) fn withdrawal(sim: &Shared, req: &Req, key: &SimKey) -> Reply {
    if !key.has(Permission::Withdraw) {
        return no_permission();
    }
    let body = match body(req) {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    let fields = ["ccy", "amt", "dest", "toAddr"].map(|name| required(&body, name));
    let [ccy, amt, dest, to_addr] = match fields {
        [Ok(a), Ok(b), Ok(c), Ok(d)] => [a, b, c, d],
        fields => return fields.into_iter().find_map(Result::err).unwrap_or_else(|| empty("ccy")),
    };
    if !is_amount(&amt) {
        return param_error("amt");
    }
    if dest != "3" && dest != "4" {
        return param_error("dest");
    }
    let mut state = lock(sim);
    if !state.allow("okx:asset/withdrawal", &key.uid, 6, Duration::from_secs(1)) {
        return rate_limited();
    }
    let wd_id = (60_000_000 + state.books.next_id()).to_string();
    state.books.record_funds(SimWithdrawal {
        exchange: key.exchange,
        api_key: key.api_key.clone(),
        kind: FundsKind::Withdrawal,
        id: wd_id.clone(),
        coin: ccy.clone(),
        amount: amt.clone(),
        to: to_addr,
    });
    ok(json!([{
        "amt": amt, "wdId": wd_id, "ccy": ccy, "clientId": text(&body, "clientId").unwrap_or_default(),
        "chain": text(&body, "chain").unwrap_or_default()
    }]))
}

/// `POST /api/v5/asset/transfer`: between the funding (6) and trading (18) accounts; types 1, 2
/// and 4 (to or from a sub-account) need `subAcct`.
pub(crate) fn transfer(sim: &Shared, req: &Req, key: &SimKey) -> Reply {
    if !key.has(Permission::Trade) {
        return no_permission();
    }
    let body = match body(req) {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    let fields = ["ccy", "amt", "from", "to"].map(|name| required(&body, name));
    let [ccy, amt, from, to] = match fields {
        [Ok(a), Ok(b), Ok(c), Ok(d)] => [a, b, c, d],
        fields => return fields.into_iter().find_map(Result::err).unwrap_or_else(|| empty("ccy")),
    };
    if !is_amount(&amt) {
        return param_error("amt");
    }
    for (name, account) in [("from", &from), ("to", &to)] {
        if !ACCOUNTS.contains(&account.as_str()) {
            return param_error(name);
        }
    }
    let kind = text(&body, "type").unwrap_or_else(|| "0".to_owned());
    if !["0", "1", "2", "3", "4"].contains(&kind.as_str()) {
        return param_error("type");
    }
    let sub_account = text(&body, "subAcct");
    if ["1", "2", "4"].contains(&kind.as_str()) && sub_account.is_none() {
        return empty("subAcct");
    }
    let mut state = lock(sim);
    if !state.allow("okx:asset/transfer", &format!("{}/{ccy}", key.uid), 2, Duration::from_secs(1)) {
        return rate_limited();
    }
    let trans_id = (750_000_000 + state.books.next_id()).to_string();
    state.books.record_funds(SimWithdrawal {
        exchange: key.exchange,
        api_key: key.api_key.clone(),
        kind: FundsKind::Transfer,
        id: trans_id.clone(),
        coin: ccy.clone(),
        amount: amt.clone(),
        to: match &sub_account {
            Some(sub) if kind == "1" => format!("{sub}:{to}"),
            _ => to.clone(),
        },
    });
    ok(json!([{
        "transId": trans_id, "ccy": ccy, "clientId": text(&body, "clientId").unwrap_or_default(),
        "from": from, "amt": amt, "to": to
    }]))
}
