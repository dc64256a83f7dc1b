//! Binance spot trading endpoints, as documented (developers.binance.com): account information
//! (USER_DATA, weight 20), new order and cancel order (TRADE, weight 1; at most 100 new orders
//! per 10 s per account) and withdraw (`/sapi/v1/capital/withdraw/apply`, the key's withdrawal
//! permission). They authenticate as every Binance endpoint (`binance::authenticate`: API key,
//! `timestamp` / `recvWindow`, HMAC over the query string followed by the body, IP), so the
//! parameters may come in the query, the form body, or both. Weights count against the caller's
//! IP, 6,000 per minute, as the key endpoints do. For clients that load markets before they trade
//! (CCXT's `load_markets`, Freqtrade's start-up): the public `exchangeInfo` (BTCUSDT only), the
//! coin list and the (empty) margin pairs.

use std::time::Duration;

use serde_json::{json, Value};

use crate::binance::{error, ip_weight, key_ip_or_permission, missing, ok, rate_limited, Params};
use crate::reply::Reply;
use crate::seed::{Permission, SimKey};
use crate::state::{lock, Shared};
use crate::trading::{is_amount, FundsKind, OrderKind, OrderRef, SimOrder, SimWithdrawal, HOLDINGS};
use crate::verify::Req;

/// "Unfilled Order Count" per account: 100 per 10 s (the exchange's `ORDERS` limit).
const ORDERS_PER_10S: usize = 100;

/// Binance writes amounts with 8 decimals.
fn eight_decimals(amount: &str) -> String {
    let (whole, fraction) = amount.split_once('.').unwrap_or((amount, ""));
    format!("{whole}.{fraction:0<8}")
}

fn param<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    params.get(name).map(String::as_str).filter(|v| !v.is_empty())
}

fn illegal(name: &str) -> Reply {
    error(
        400,
        -1100,
        &format!(
            "Illegal characters found in parameter '{name}'; legal range is '^([0-9]{{1,20}})(\\.[0-9]{{1,20}})?$'."
        ),
    )
}

/// `GET /api/v3/account`: the fixed holdings and what the key may do.
pub(crate) fn account(sim: &Shared, req: &Req, key: &SimKey, _params: &Params) -> Reply {
    if !key.has(Permission::Read) {
        return key_ip_or_permission();
    }
    if !ip_weight(&mut lock(sim), req, 20) {
        return rate_limited();
    }
    let balances: Vec<Value> = HOLDINGS
        .iter()
        .map(|h| json!({"asset": h.coin, "free": eight_decimals(h.amount), "locked": "0.00000000"}))
        .collect();
    ok(json!({
        "makerCommission": 10, "takerCommission": 10, "buyerCommission": 0, "sellerCommission": 0,
        "commissionRates": {"maker": "0.00100000", "taker": "0.00100000", "buyer": "0.00000000", "seller": "0.00000000"},
        "canTrade": key.has(Permission::Trade), "canWithdraw": key.has(Permission::Withdraw), "canDeposit": true,
        "brokered": false, "requireSelfTradePrevention": false, "preventSor": false,
        "updateTime": req.now_ms(), "accountType": "SPOT", "balances": balances, "permissions": ["SPOT"],
        "uid": key.uid.parse::<i64>().unwrap_or_default()
    }))
}

/// `GET /api/v3/exchangeInfo` (public, weight 20): one market, BTCUSDT, with Binance's filters, so
/// a client that loads markets before it trades (CCXT's `load_markets`, Freqtrade at start-up)
/// can place the order the other tests place (0.001 BTC at 20000).
pub(crate) fn exchange_info(req: &Req) -> Reply {
    ok(json!({
        "timezone": "UTC", "serverTime": req.now_ms(), "rateLimits": [], "exchangeFilters": [],
        "symbols": [{
            "symbol": "BTCUSDT", "status": "TRADING", "baseAsset": "BTC", "baseAssetPrecision": 8,
            "quoteAsset": "USDT", "quotePrecision": 8, "quoteAssetPrecision": 8, "baseCommissionPrecision": 8,
            "quoteCommissionPrecision": 8,
            "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"],
            "icebergAllowed": true, "ocoAllowed": true, "otoAllowed": true, "quoteOrderQtyMarketAllowed": true,
            "allowTrailingStop": true, "cancelReplaceAllowed": true, "isSpotTradingAllowed": true,
            "isMarginTradingAllowed": false,
            "filters": [
                {"filterType": "PRICE_FILTER", "minPrice": "0.01000000", "maxPrice": "1000000.00000000", "tickSize": "0.01000000"},
                {"filterType": "LOT_SIZE", "minQty": "0.00001000", "maxQty": "9000.00000000", "stepSize": "0.00001000"},
                {"filterType": "NOTIONAL", "minNotional": "5.00000000", "applyMinToMarket": true,
                 "maxNotional": "9000000.00000000", "applyMaxToMarket": false, "avgPriceMins": 5}
            ],
            "permissions": [], "permissionSets": [["SPOT"]], "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
            "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"]
        }]
    }))
}

/// `GET /sapi/v1/capital/config/getall` (USER_DATA, weight 10): the coins of the fixed holdings,
/// each on one network, as CCXT's `fetch_currencies` reads them.
pub(crate) fn coins(sim: &Shared, req: &Req, key: &SimKey, _params: &Params) -> Reply {
    if !key.has(Permission::Read) {
        return key_ip_or_permission();
    }
    if !ip_weight(&mut lock(sim), req, 10) {
        return rate_limited();
    }
    let coins: Vec<Value> = HOLDINGS
        .iter()
        .map(|h| {
            let network = if h.coin == "BTC" { "BTC" } else { "TRX" };
            json!({
                "coin": h.coin, "name": h.coin, "depositAllEnable": true, "withdrawAllEnable": true,
                "free": eight_decimals(h.amount), "locked": "0", "freeze": "0", "withdrawing": "0",
                "trading": true, "isLegalMoney": false,
                "networkList": [{
                    "network": network, "coin": h.coin, "name": network, "isDefault": true,
                    "depositEnable": true, "withdrawEnable": true, "withdrawFee": "1", "withdrawMin": "10",
                    "withdrawMax": "9999999", "withdrawIntegerMultiple": "0.00000001", "minConfirm": 1
                }]
            })
        })
        .collect();
    ok(Value::Array(coins))
}

/// `GET /sapi/v1/margin/allPairs` and `/sapi/v1/margin/isolated/allPairs`: none, the simulator
/// has no margin account (CCXT reads both in `load_markets` when it holds a key).
pub(crate) fn no_margin_pairs(sim: &Shared, req: &Req, key: &SimKey, _params: &Params) -> Reply {
    if !key.has(Permission::Read) {
        return key_ip_or_permission();
    }
    if !ip_weight(&mut lock(sim), req, 1) {
        return rate_limited();
    }
    ok(json!([]))
}

/// `POST /api/v3/order`: answered as `newOrderRespType` asks (`FULL` by default for LIMIT and
/// MARKET, `ACK` for the others). A LIMIT order stays open (`NEW`): nothing fills.
pub(crate) fn new_order(sim: &Shared, req: &Req, key: &SimKey, params: &Params) -> Reply {
    if !key.has(Permission::Trade) {
        return key_ip_or_permission();
    }
    let (Some(symbol), Some(side), Some(kind)) =
        (param(params, "symbol"), param(params, "side"), param(params, "type"))
    else {
        let name = ["symbol", "side", "type"].into_iter().find(|n| param(params, n).is_none()).unwrap_or("symbol");
        return missing(name);
    };
    if side != "BUY" && side != "SELL" {
        return error(400, -1117, "Invalid side.");
    }
    let types = ["LIMIT", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT", "LIMIT_MAKER"];
    if !types.contains(&kind) {
        return error(400, -1116, "Invalid orderType.");
    }
    let quantity = param(params, "quantity");
    let price = param(params, "price");
    let time_in_force = param(params, "timeInForce");
    if kind == "LIMIT" {
        for (name, value) in [("timeInForce", time_in_force), ("quantity", quantity), ("price", price)] {
            if value.is_none() {
                return missing(name);
            }
        }
    }
    if time_in_force.is_some_and(|t| !["GTC", "IOC", "FOK"].contains(&t)) {
        return error(400, -1115, "Invalid timeInForce.");
    }
    let Some(quantity) = quantity.or(param(params, "quoteOrderQty")) else { return missing("quantity") };
    for (name, value) in [("quantity", Some(quantity)), ("price", price)] {
        if value.is_some_and(|v| !is_amount(v)) {
            return illegal(name);
        }
    }
    let mut state = lock(sim);
    if !ip_weight(&mut state, req, 1) {
        return rate_limited();
    }
    if !state.allow("binance:orders", &key.uid, ORDERS_PER_10S, Duration::from_secs(10)) {
        // "you will receive a 429 error without the Retry-After header".
        return error(429, -1015, "Too many new orders; current limit is 100 orders per TEN_SECOND.");
    }
    let number = 8_000_000 + state.books.next_id();
    let client_id = param(params, "newClientOrderId").map(str::to_owned).unwrap_or_else(|| format!("sim{number:019}"));
    let order = SimOrder {
        exchange: key.exchange,
        api_key: key.api_key.clone(),
        kind: OrderKind::Order,
        order_id: number.to_string(),
        symbol: symbol.to_owned(),
        market: String::new(),
        side: side.to_owned(),
        qty: quantity.to_owned(),
        price: price.map(str::to_owned),
        reduce_only: false,
    };
    state.books.place(key, order, Some(client_id.clone()));
    let now = req.now_ms();
    let mut answer = json!({
        "symbol": symbol, "orderId": number, "orderListId": -1, "clientOrderId": client_id, "transactTime": now
    });
    let default_type = if kind == "LIMIT" || kind == "MARKET" { "FULL" } else { "ACK" };
    let resp_type = param(params, "newOrderRespType").unwrap_or(default_type);
    if resp_type != "ACK" {
        let more = json!({
            "price": eight_decimals(price.unwrap_or("0")), "origQty": eight_decimals(quantity),
            "executedQty": "0.00000000", "origQuoteOrderQty": "0.00000000", "cummulativeQuoteQty": "0.00000000",
            "status": "NEW", "timeInForce": time_in_force.unwrap_or("GTC"), "type": kind, "side": side,
            "workingTime": now, "selfTradePreventionMode": "EXPIRE_MAKER"
        });
        if let (Some(answer), Some(more)) = (answer.as_object_mut(), more.as_object()) {
            answer.extend(more.clone());
        }
        if resp_type == "FULL" {
            answer["fills"] = json!([]);
        }
    }
    ok(answer)
}

/// `DELETE /api/v3/order`: by `orderId` (searched first, as documented) or `origClientOrderId`.
pub(crate) fn cancel_order(sim: &Shared, req: &Req, key: &SimKey, params: &Params) -> Reply {
    if !key.has(Permission::Trade) {
        return key_ip_or_permission();
    }
    let Some(symbol) = param(params, "symbol") else { return missing("symbol") };
    let which = match (param(params, "orderId"), param(params, "origClientOrderId")) {
        (Some(id), _) => OrderRef::Id(id),
        (None, Some(id)) => OrderRef::ClientId(id),
        (None, None) => {
            return error(400, -1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!")
        }
    };
    let mut state = lock(sim);
    if !ip_weight(&mut state, req, 1) {
        return rate_limited();
    }
    let Some(cancelled) = state.books.cancel(key, symbol, None, which) else {
        return error(400, -2011, "Unknown order sent.");
    };
    let number = 8_000_000 + state.books.next_id();
    ok(json!({
        "symbol": symbol, "origClientOrderId": param(params, "origClientOrderId").unwrap_or_default(),
        "orderId": cancelled.order_id.parse::<i64>().unwrap_or_default(), "orderListId": -1,
        "clientOrderId": param(params, "newClientOrderId").map(str::to_owned).unwrap_or_else(|| format!("sim{number:019}")),
        "transactTime": req.now_ms(), "price": eight_decimals(cancelled.price.as_deref().unwrap_or("0")),
        "origQty": eight_decimals(&cancelled.qty), "executedQty": "0.00000000", "origQuoteOrderQty": "0.00000000",
        "cummulativeQuoteQty": "0.00000000", "status": "CANCELED", "timeInForce": "GTC", "type": "LIMIT",
        "side": cancelled.side, "selfTradePreventionMode": "EXPIRE_MAKER"
    }))
}

/// `POST /sapi/v1/capital/withdraw/apply`: a key without withdrawals enabled gets -1002, as
/// Binance answers it (binance/binance-connector-js#82).
pub(crate) fn withdraw(sim: &Shared, req: &Req, key: &SimKey, params: &Params) -> Reply {
    if !key.has(Permission::Withdraw) {
        return error(401, -1002, "You are not authorized to execute this request.");
    }
    let (Some(coin), Some(address), Some(amount)) =
        (param(params, "coin"), param(params, "address"), param(params, "amount"))
    else {
        let name = ["coin", "address", "amount"].into_iter().find(|n| param(params, n).is_none()).unwrap_or("coin");
        return missing(name);
    };
    if !is_amount(amount) {
        return illegal("amount");
    }
    let mut state = lock(sim);
    if !ip_weight(&mut state, req, 1) {
        return rate_limited();
    }
    // 32 hex digits, as Binance's withdrawal ids look.
    let id = format!("{:032x}", 0x7213_fea8_e94b_4a55_93d5_0723_7e5a_0000_u128 + u128::from(state.books.next_id()));
    state.books.record_funds(SimWithdrawal {
        exchange: key.exchange,
        api_key: key.api_key.clone(),
        kind: FundsKind::Withdrawal,
        id: id.clone(),
        coin: coin.to_owned(),
        amount: amount.to_owned(),
        to: address.to_owned(),
    });
    ok(json!({"id": id}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_have_eight_decimals() {
        assert_eq!(eight_decimals("0.5"), "0.50000000");
        assert_eq!(eight_decimals("10000"), "10000.00000000");
    }
}
