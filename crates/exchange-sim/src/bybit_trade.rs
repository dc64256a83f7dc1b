//! Bybit v5 trading endpoints, as documented (bybit-exchange.github.io/docs/v5): wallet balance
//! (50/s per UID), create and cancel order (Spot or Contract trade permission; spot 20/s, other
//! categories 10/s per UID), withdraw (master keys with Withdrawal only; 5/s, and one withdrawal
//! per coin and chain every 10 s) and internal transfer (Account Transfer; 60 per minute). They
//! authenticate as every Bybit endpoint (`bybit::authenticate`: headers, receive window,
//! signature, IP, frozen sub UID). Bybit answers HTTP 200 with its `retCode`, refusals included.
//! Also what CCXT's `load_markets` and Freqtrade's live start-up read first: the instruments
//! (public), the coin list (5/s per UID) and the account's information (50/s per UID).

use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::bybit::{answer, body_object, error, rate_limited};
use crate::reply::Reply;
use crate::seed::{Permission, SimKey};
use crate::state::{lock, Shared};
use crate::trading::{is_amount, FundsKind, OrderKind, OrderRef, SimOrder, SimWithdrawal, HOLDINGS, HOLDINGS_USD};
use crate::verify::Req;

const CATEGORIES: [&str; 4] = ["spot", "linear", "inverse", "option"];
/// The account types of a unified account's transfers.
const ACCOUNT_TYPES: [&str; 6] = ["UNIFIED", "FUND", "CONTRACT", "SPOT", "OPTION", "INVESTMENT"];

fn denied(req: &Req) -> Reply {
    error(req, 200, 10005, "Permission denied, please check your API key permissions.")
}

fn params_error(req: &Req, detail: &str) -> Reply {
    error(req, 200, 10001, &format!("params error: {detail}"))
}

fn success(req: &Req, result: Value) -> Reply {
    answer(200, 0, "OK", result, req.now_ms())
}

/// A string field (numbers taken as their text).
fn text(body: &Map<String, Value>, name: &str) -> Option<String> {
    match body.get(name)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The body's required fields in order, or the params error naming the first one missing.
fn required<const N: usize>(req: &Req, body: &Map<String, Value>, names: [&str; N]) -> Result<[String; N], Reply> {
    let mut values = Vec::with_capacity(N);
    for name in names {
        values.push(text(body, name).ok_or_else(|| params_error(req, &format!("{name} is required")))?);
    }
    values.try_into().map_err(|_| params_error(req, "the body"))
}

fn object(req: &Req) -> Result<Map<String, Value>, Reply> {
    body_object(req).ok_or_else(|| params_error(req, "the body is not a JSON object"))
}

/// Documented per category: spot 20/s, the others 10/s, per UID.
fn order_limit(category: &str) -> usize {
    if category == "spot" {
        20
    } else {
        10
    }
}

/// One query parameter of a GET.
fn query_param(req: &Req, name: &str) -> Option<String> {
    url::form_urlencoded::parse(req.query.as_bytes()).find(|(n, _)| n == name).map(|(_, v)| v.into_owned())
}

/// `GET /v5/market/instruments-info?category=…` (public): one spot market, BTCUSDT, in the shape
/// CCXT's `fetch_markets` parses, so the order the other tests place (0.001 BTC at 20000) fits
/// it; the other categories have none here.
pub(crate) fn instruments(req: &Req) -> Reply {
    let Some(category) = query_param(req, "category") else { return params_error(req, "category is required") };
    if !CATEGORIES.contains(&category.as_str()) {
        return params_error(req, "category must be linear, inverse, spot or option");
    }
    let list = if category == "spot" {
        json!([{
            "symbol": "BTCUSDT", "baseCoin": "BTC", "quoteCoin": "USDT", "innovation": "0", "status": "Trading",
            "marginTrading": "utaOnly", "stTag": "0",
            "lotSizeFilter": {"basePrecision": "0.000001", "quotePrecision": "0.00000001", "minOrderQty": "0.000048",
                              "maxOrderQty": "71.73956243", "minOrderAmt": "1", "maxOrderAmt": "2000000"},
            "priceFilter": {"tickSize": "0.01"},
            "riskParameters": {"priceLimitRatioX": "0.01", "priceLimitRatioY": "0.02"}
        }])
    } else {
        json!([])
    };
    success(req, json!({"category": category, "list": list, "nextPageCursor": ""}))
}

/// `GET /v5/asset/coin/query-info` (5/s per UID): the coins of the fixed holdings, each on one
/// chain, as CCXT's `fetch_currencies` reads them (its `load_markets` asks for them first when it
/// holds a key).
pub(crate) fn coin_info(sim: &Shared, req: &Req, key: &SimKey) -> Reply {
    if !key.has(Permission::Read) {
        return denied(req);
    }
    if !lock(sim).allow("bybit:coin/query-info", &key.uid, 5, Duration::from_secs(1)) {
        return rate_limited(req);
    }
    let asked = query_param(req, "coin");
    let rows: Vec<Value> = HOLDINGS
        .iter()
        .filter(|h| asked.as_deref().is_none_or(|c| c == h.coin))
        .map(|h| {
            let (chain, chain_type) = if h.coin == "BTC" { ("BTC", "BTC") } else { ("TRX", "TRC20") };
            json!({
                "name": h.coin, "coin": h.coin, "remainAmount": "150",
                "chains": [{
                    "chainType": chain_type, "confirmation": "1", "withdrawFee": "0.0005", "depositMin": "0",
                    "withdrawMin": "0.001", "chain": chain, "chainDeposit": "1", "chainWithdraw": "1",
                    "minAccuracy": "8", "withdrawPercentageFee": "0", "contractAddress": ""
                }]
            })
        })
        .collect();
    success(req, json!({"rows": rows}))
}

/// `GET /v5/account/info` (50/s per UID): a unified (UTA 2.0) account in regular margin mode, as
/// CCXT's `is_unified_enabled` reads it with the key's own information (`/v5/user/query-api`).
pub(crate) fn account_info(sim: &Shared, req: &Req, key: &SimKey) -> Reply {
    if !key.has(Permission::Read) {
        return denied(req);
    }
    if !lock(sim).allow("bybit:account/info", &key.uid, 50, Duration::from_secs(1)) {
        return rate_limited(req);
    }
    success(
        req,
        json!({
            "marginMode": "REGULAR_MARGIN", "updatedTime": "1697078946000", "unifiedMarginStatus": 5,
            "dcpStatus": "OFF", "timeWindow": 0, "smpGroup": 0, "isMasterTrader": false, "spotHedgingStatus": "OFF"
        }),
    )
}

/// `GET /v5/account/wallet-balance?accountType=UNIFIED`: the fixed holdings.
pub(crate) fn wallet_balance(sim: &Shared, req: &Req, key: &SimKey) -> Reply {
    if !key.has(Permission::Read) {
        return denied(req);
    }
    let account_type = url::form_urlencoded::parse(req.query.as_bytes())
        .find(|(name, _)| name == "accountType")
        .map(|(_, value)| value.into_owned());
    match account_type.as_deref() {
        Some("UNIFIED") => {}
        Some(_) => return params_error(req, "accountType only supports UNIFIED"),
        None => return params_error(req, "accountType is required"),
    }
    if !lock(sim).allow("bybit:wallet-balance", &key.uid, 50, Duration::from_secs(1)) {
        return rate_limited(req);
    }
    let coins: Vec<Value> = HOLDINGS
        .iter()
        .map(|h| {
            json!({
                "coin": h.coin, "equity": h.amount, "usdValue": h.usd, "walletBalance": h.amount, "locked": "0",
                "availableToWithdraw": "", "availableToBorrow": "", "bonus": "0", "accruedInterest": "0",
                "totalOrderIM": "0", "totalPositionIM": "0", "totalPositionMM": "0", "unrealisedPnl": "0",
                "cumRealisedPnl": "0", "borrowAmount": "0", "spotHedgingQty": "0", "marginCollateral": true,
                "collateralSwitch": true, "spotBorrow": "0"
            })
        })
        .collect();
    success(
        req,
        json!({"list": [{
            "accountType": "UNIFIED", "totalEquity": HOLDINGS_USD, "totalWalletBalance": HOLDINGS_USD,
            "totalMarginBalance": HOLDINGS_USD, "totalAvailableBalance": HOLDINGS_USD, "totalPerpUPL": "0",
            "totalInitialMargin": "0", "totalInitialMarginByMp": "0", "totalMaintenanceMargin": "0",
            "totalMaintenanceMarginByMp": "0", "accountIMRate": "0", "accountIMRateByMp": "0", "accountMMRate": "0",
            "accountMMRateByMp": "0", "accountLTV": "0", "coin": coins
        }]}),
    )
}

/// `POST /v5/order/create`.
pub(crate) fn create_order(sim: &Shared, req: &Req, key: &SimKey) -> Reply {
    if !key.has(Permission::Trade) {
        return denied(req);
    }
    let body = match object(req) {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    let [category, symbol, side, order_type, qty] =
        match required(req, &body, ["category", "symbol", "side", "orderType", "qty"]) {
            Ok(fields) => fields,
            Err(reply) => return reply,
        };
    if !CATEGORIES.contains(&category.as_str()) {
        return params_error(req, "category must be linear, inverse, spot or option");
    }
    if side != "Buy" && side != "Sell" {
        return params_error(req, "side must be Buy or Sell");
    }
    if order_type != "Limit" && order_type != "Market" {
        return params_error(req, "orderType must be Limit or Market");
    }
    if !is_amount(&qty) {
        return params_error(req, "qty");
    }
    let price = text(&body, "price");
    if order_type == "Limit" && !price.as_deref().is_some_and(is_amount) {
        return params_error(req, "price is required for a Limit order");
    }
    let reduce_only = match body.get("reduceOnly") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return params_error(req, "reduceOnly must be a boolean"),
    };
    // "Valid for linear, inverse & option": what Bybit answers for a spot one is UNCONFIRMED; the
    // simulator refuses it.
    if reduce_only && category == "spot" {
        return params_error(req, "reduceOnly is valid for linear, inverse and option only");
    }
    let mut state = lock(sim);
    if !state.allow(&format!("bybit:order/{category}"), &key.uid, order_limit(&category), Duration::from_secs(1)) {
        return rate_limited(req);
    }
    // 19 digits, as Bybit's order ids look.
    let order_id = (1_321_003_749_386_327_552 + state.books.next_id()).to_string();
    let link_id = text(&body, "orderLinkId");
    let order = SimOrder {
        exchange: key.exchange,
        api_key: key.api_key.clone(),
        kind: OrderKind::Order,
        order_id: order_id.clone(),
        symbol,
        market: category,
        side,
        qty,
        price,
        reduce_only,
    };
    state.books.place(key, order, link_id.clone());
    success(req, json!({"orderId": order_id, "orderLinkId": link_id.unwrap_or_default()}))
}

/// `POST /v5/order/cancel`: by `orderId` (first) or `orderLinkId`, in the order's category.
pub(crate) fn cancel_order(sim: &Shared, req: &Req, key: &SimKey) -> Reply {
    if !key.has(Permission::Trade) {
        return denied(req);
    }
    let body = match object(req) {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    let [category, symbol] = match required(req, &body, ["category", "symbol"]) {
        Ok(fields) => fields,
        Err(reply) => return reply,
    };
    if !CATEGORIES.contains(&category.as_str()) {
        return params_error(req, "category must be linear, inverse, spot or option");
    }
    let (order_id, link_id) = (text(&body, "orderId"), text(&body, "orderLinkId"));
    let which = match (&order_id, &link_id) {
        (Some(id), _) => OrderRef::Id(id),
        (None, Some(id)) => OrderRef::ClientId(id),
        (None, None) => return params_error(req, "orderId or orderLinkId is required"),
    };
    let mut state = lock(sim);
    if !state.allow(&format!("bybit:cancel/{category}"), &key.uid, order_limit(&category), Duration::from_secs(1)) {
        return rate_limited(req);
    }
    match state.books.cancel(key, &symbol, Some(&category), which) {
        Some(cancelled) => {
            success(req, json!({"orderId": cancelled.order_id, "orderLinkId": link_id.unwrap_or_default()}))
        }
        // Spot trading's code, and the unified account's for the other categories.
        None if category == "spot" => error(req, 200, 170213, "Order does not exist."),
        None => error(req, 200, 110001, "Order does not exist"),
    }
}

/// `POST /v5/asset/withdraw/create`: "Request by the master UID's api key only".
pub(crate) fn withdraw(sim: &Shared, req: &Req, key: &SimKey) -> Reply {
    if !key.is_master() || !key.has(Permission::Withdraw) {
        return denied(req);
    }
    let body = match object(req) {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    let [coin, address, amount, _timestamp, account_type] =
        match required(req, &body, ["coin", "address", "amount", "timestamp", "accountType"]) {
            Ok(fields) => fields,
            Err(reply) => return reply,
        };
    if !is_amount(&amount) {
        return params_error(req, "amount");
    }
    if !["FUND", "UTA", "FUND,UTA", "SPOT"].contains(&account_type.as_str()) {
        return params_error(req, "accountType must be FUND, UTA, FUND,UTA or SPOT");
    }
    let chain = text(&body, "chain").unwrap_or_default();
    let mut state = lock(sim);
    if !state.allow("bybit:withdraw/create", &key.uid, 5, Duration::from_secs(1))
        || !state.allow("bybit:withdraw/coin-chain", &format!("{}/{coin}/{chain}", key.uid), 1, Duration::from_secs(10))
    {
        return rate_limited(req);
    }
    let id = (10_000_000 + state.books.next_id()).to_string();
    state.books.record_funds(SimWithdrawal {
        exchange: key.exchange,
        api_key: key.api_key.clone(),
        kind: FundsKind::Withdrawal,
        id: id.clone(),
        coin,
        amount,
        to: address,
    });
    success(req, json!({"id": id}))
}

/// `POST /v5/asset/transfer/inter-transfer`: between two account types of the same UID.
pub(crate) fn inter_transfer(sim: &Shared, req: &Req, key: &SimKey) -> Reply {
    if !key.has(Permission::Transfer) {
        return denied(req);
    }
    let body = match object(req) {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    let [transfer_id, coin, amount, from, to] =
        match required(req, &body, ["transferId", "coin", "amount", "fromAccountType", "toAccountType"]) {
            Ok(fields) => fields,
            Err(reply) => return reply,
        };
    if !is_amount(&amount) {
        return params_error(req, "amount");
    }
    if !ACCOUNT_TYPES.contains(&from.as_str()) || !ACCOUNT_TYPES.contains(&to.as_str()) || from == to {
        return params_error(req, "fromAccountType and toAccountType must be two different account types");
    }
    let mut state = lock(sim);
    if !state.allow("bybit:inter-transfer", &key.uid, 60, Duration::from_secs(60)) {
        return rate_limited(req);
    }
    state.books.record_funds(SimWithdrawal {
        exchange: key.exchange,
        api_key: key.api_key.clone(),
        kind: FundsKind::Transfer,
        id: transfer_id.clone(),
        coin,
        amount,
        to,
    });
    success(req, json!({"transferId": transfer_id, "status": "SUCCESS"}))
}
