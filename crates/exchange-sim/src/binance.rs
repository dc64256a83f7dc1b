//! Binance as documented: `X-MBX-APIKEY`, `timestamp` + `recvWindow` (≤ 60000) with
//! `timestamp < server + 1000 && server − timestamp ≤ recvWindow`, and
//! hex(HMAC-SHA256(secret, queryString + body)) without the `signature` parameter itself.

use std::collections::HashMap;
use std::time::Duration;

use axum::http::Method;
use serde_json::{json, Value};

use crate::binance_trade;
use crate::reply::Reply;
use crate::seed::{Permission, SimExchange, SimKey};
use crate::state::{lock, Shared, SimState};
use crate::sub_keys::{fresh_hex, parse_ips};
use crate::venue::Venue;
use crate::verify::{hmac_sha256, ip_allowed, Req};

const BINANCE: SimExchange = SimExchange::Binance;
/// Simulator-only code. Binance documents no code for "this sub-account key does not exist"
/// (UNCONFIRMED); the simulator uses this one, which no exchange uses, and the client must not
/// take it as proof of anything.
pub const SUB_KEY_NOT_FOUND: i64 = -13001;
/// Simulator-only code, for an `email` that is not one of the caller's sub-accounts (UNCONFIRMED).
pub const SUB_ACCOUNT_NOT_FOUND: i64 = -13002;
/// `ipAddress`: at most 500 characters.
const MAX_IP_CHARS: usize = 500;

pub(crate) fn error(status: u16, code: i64, msg: &str) -> Reply {
    Reply::json(status, code.to_string(), json!({"code": code, "msg": msg}))
}

pub(crate) fn ok(body: Value) -> Reply {
    Reply::json(200, "0", body)
}

/// The Binance venue.
pub(crate) struct Binance;

impl Venue for Binance {
    fn exchange(&self) -> SimExchange {
        BINANCE
    }

    fn prefixes(&self) -> &'static [&'static str] {
        &["/api/v3/", "/sapi/", "/fapi/v1/exchangeInfo", "/dapi/v1/exchangeInfo"]
    }

    fn handle(&self, sim: &Shared, req: &Req) -> Reply {
        handle(sim, req)
    }

    fn rate_limit_reply(&self, _req: &Req) -> Reply {
        rate_limited()
    }
}

pub(crate) fn rate_limited() -> Reply {
    error(429, -1003, "Too many requests; please use the websocket for live updates.").with_header("retry-after", "1")
}

fn handle(sim: &Shared, req: &Req) -> Reply {
    match (&req.method, req.path.as_str()) {
        (&Method::GET, "/api/v3/time") => ok(json!({"serverTime": req.now_ms()})),
        (&Method::GET, "/api/v3/exchangeInfo") => binance_trade::exchange_info(req),
        // USDⓈ-M and COIN-M futures: no markets (CCXT's `load_markets` asks for them too).
        (&Method::GET, "/fapi/v1/exchangeInfo" | "/dapi/v1/exchangeInfo") => ok(
            json!({"timezone": "UTC", "serverTime": req.now_ms(), "rateLimits": [], "exchangeFilters": [], "symbols": []}),
        ),
        (&Method::GET, "/sapi/v1/capital/config/getall") => with_peer(sim, req, binance_trade::coins),
        (&Method::GET, "/sapi/v1/margin/allPairs" | "/sapi/v1/margin/isolated/allPairs") => {
            with_peer(sim, req, binance_trade::no_margin_pairs)
        }
        (&Method::GET, "/sapi/v1/account/apiRestrictions") => match authenticate(sim, req) {
            Ok((key, _)) => api_restrictions(sim, req, &key),
            Err(reply) => reply,
        },
        (&Method::DELETE, "/sapi/v1/sub-account/subAccountApi") => match authenticate(sim, req) {
            Ok((key, params)) => delete_sub_key(sim, &key, &params),
            Err(reply) => reply,
        },
        (&Method::GET, "/sapi/v1/sub-account/list") => with_key(sim, req, list_sub_accounts),
        (&Method::POST, "/sapi/v1/sub-account/subAccountApi") => with_key(sim, req, create_sub_key),
        (&Method::GET, "/sapi/v1/sub-account/subAccountApi") => with_key(sim, req, list_sub_keys),
        (&Method::POST, "/sapi/v1/sub-account/subAccountApiPermission") => with_key(sim, req, set_permissions),
        (&Method::POST, "/sapi/v2/sub-account/subAccountApi/ipRestriction") => with_key(sim, req, add_ips),
        (&Method::DELETE, "/sapi/v1/sub-account/subAccountApi/ipRestriction/ipList") => with_key(sim, req, remove_ips),
        (&Method::GET, "/api/v3/account") => with_peer(sim, req, binance_trade::account),
        (&Method::POST, "/api/v3/order") => with_peer(sim, req, binance_trade::new_order),
        (&Method::DELETE, "/api/v3/order") => with_peer(sim, req, binance_trade::cancel_order),
        (&Method::POST, "/sapi/v1/capital/withdraw/apply") => with_peer(sim, req, binance_trade::withdraw),
        _ => Reply::not_found(),
    }
}

pub(crate) type Params = HashMap<String, String>;

/// For the endpoints whose request weight counts against the caller's IP as well.
fn with_peer(sim: &Shared, req: &Req, action: fn(&Shared, &Req, &SimKey, &Params) -> Reply) -> Reply {
    match authenticate(sim, req) {
        Ok((key, params)) => action(sim, req, &key, &params),
        Err(reply) => reply,
    }
}

fn with_key(sim: &Shared, req: &Req, action: fn(&Shared, &SimKey, &Params) -> Reply) -> Reply {
    match authenticate(sim, req) {
        Ok((key, params)) => action(sim, &key, &params),
        Err(reply) => reply,
    }
}

/// A query string or form body without its `signature` pair, plus that signature.
fn split_signature(raw: &str) -> (String, Option<String>) {
    let mut signature = None;
    let kept: Vec<&str> = raw
        .split('&')
        .filter(|pair| match pair.strip_prefix("signature=") {
            Some(sig) => {
                signature = Some(sig.to_owned());
                false
            }
            None => !pair.is_empty(),
        })
        .collect();
    (kept.join("&"), signature)
}

fn authenticate(sim: &Shared, req: &Req) -> Result<(SimKey, HashMap<String, String>), Reply> {
    let api_key = req.header("X-MBX-APIKEY").ok_or_else(|| error(401, -2014, "API-key format invalid."))?;
    let (query, query_sig) = split_signature(&req.query);
    let (body, body_sig) = split_signature(&req.body);
    let params: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
        .chain(url::form_urlencoded::parse(body.as_bytes()))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let signature = query_sig.or(body_sig).ok_or_else(|| {
        error(400, -1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.")
    })?;
    let timestamp = params.get("timestamp").and_then(|t| t.parse::<i64>().ok()).ok_or_else(|| {
        error(400, -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.")
    })?;
    let recv_window = match params.get("recvWindow") {
        None => 5000.0,
        Some(text) => text.parse::<f64>().map_err(|_| error(400, -1102, "Parameter 'recvWindow' was malformed."))?,
    };
    if recv_window > 60000.0 {
        return Err(error(400, -1131, "recvWindow must be less than 60000"));
    }
    // Binance accepts microsecond timestamps too.
    let timestamp_ms = if timestamp > 10_000_000_000_000 { timestamp / 1000 } else { timestamp };
    let server = req.now_ms();
    if timestamp_ms >= server + 1000 {
        return Err(error(400, -1021, "Timestamp for this request was 1000ms ahead of the server's time."));
    }
    if (server - timestamp_ms) as f64 > recv_window {
        return Err(error(400, -1021, "Timestamp for this request is outside of the recvWindow."));
    }
    let key = lock(sim).find(BINANCE, api_key).filter(|k| !k.is_expired(req.now)).ok_or_else(key_ip_or_permission)?;
    let expected = hex::encode(hmac_sha256(&key.secret, &format!("{query}{body}")));
    // "HMAC signatures are case-insensitive."
    if !signature.eq_ignore_ascii_case(&expected) {
        return Err(error(400, -1022, "Signature for this request is not valid."));
    }
    if !ip_allowed(&key, req.peer) {
        return Err(key_ip_or_permission());
    }
    Ok((key, params))
}

/// The request weight every endpoint counts against the caller's IP: 6,000 per minute.
pub(crate) fn ip_weight(state: &mut SimState, req: &Req, weight: usize) -> bool {
    state.allow_weighted("binance:ip-weight", &req.peer.to_string(), weight, 6000, Duration::from_secs(60))
}

pub(crate) fn key_ip_or_permission() -> Reply {
    error(401, -2015, "Invalid API-key, IP, or permissions for action.")
}

fn api_restrictions(sim: &Shared, req: &Req, key: &SimKey) -> Reply {
    if !ip_weight(&mut lock(sim), req, 1) {
        return rate_limited();
    }
    let trade = key.has(Permission::Trade);
    let transfer = key.has(Permission::Transfer);
    ok(json!({
        "ipRestrict": !key.ips.is_empty(),
        "createTime": key.created_at.map(|t| t.timestamp_millis()).unwrap_or_default(),
        "enableReading": key.has(Permission::Read),
        "enableWithdrawals": key.has(Permission::Withdraw),
        "enableInternalTransfer": transfer,
        "enableMargin": false,
        "enableFutures": false,
        "permitsUniversalTransfer": transfer,
        "enableVanillaOptions": false,
        "enableFixApiTrade": false,
        "enableFixReadOnly": key.has(Permission::Read),
        "enableSpotAndMarginTrading": trade,
        "enablePortfolioMarginTrading": false
    }))
}

/// Master account, TRADE: deletes one of its sub-accounts' keys, named by email and API key.
fn delete_sub_key(sim: &Shared, caller: &SimKey, params: &HashMap<String, String>) -> Reply {
    if !caller.is_master() || !caller.has(Permission::Trade) {
        return key_ip_or_permission();
    }
    let mut state = lock(sim);
    // Weight(UID) 3000: about one call per second per account.
    if !state.allow("binance:delete-sub-api", &caller.uid, 1, Duration::from_secs(1)) {
        return rate_limited();
    }
    let (Some(email), Some(api_key)) = (params.get("email"), params.get("subAccountApiKey")) else {
        return error(
            400,
            -1102,
            "Mandatory parameter 'email' or 'subAccountApiKey' was not sent, was empty/null, or malformed.",
        );
    };
    let owned = state.keys.iter().any(|k| {
        k.exchange == BINANCE
            && &k.api_key == api_key
            && k.parent_uid.as_deref() == Some(caller.uid.as_str())
            && k.sub_account.as_ref() == Some(email)
    });
    if !owned {
        return error(
            400,
            SUB_KEY_NOT_FOUND,
            "Simulator: no such key of this sub-account (Binance documents no code for this)",
        );
    }
    state.remove(BINANCE, api_key);
    ok(json!({}))
}

pub(crate) fn missing(name: &str) -> Reply {
    error(400, -1102, &format!("Mandatory parameter '{name}' was not sent, was empty/null, or malformed."))
}

fn flag(params: &Params, name: &str) -> bool {
    params.get(name).is_some_and(|v| v == "true")
}

/// Weight(UID) 3000 for every sub-account key endpoint, so about one call per second per account;
/// master accounts only.
fn master_call(state: &mut SimState, caller: &SimKey, route: &str) -> Result<(), Reply> {
    if !caller.is_master() {
        return Err(key_ip_or_permission());
    }
    if !state.allow(route, &caller.uid, 1, Duration::from_secs(1)) {
        return Err(rate_limited());
    }
    Ok(())
}

/// The caller's sub-account named by `email`.
fn sub_email(state: &SimState, caller: &SimKey, params: &Params) -> Result<String, Reply> {
    let email = params.get("email").filter(|e| !e.is_empty()).ok_or_else(|| missing("email"))?;
    state.sub_of(BINANCE, &caller.uid, |s| &s.name == email).map(|s| s.name).ok_or_else(|| {
        error(400, SUB_ACCOUNT_NOT_FOUND, "Simulator: no such sub-account (Binance documents no code for this)")
    })
}

/// The caller's sub-account key named by `email` and `subAccountApiKey`.
fn owned_key<'a>(state: &'a mut SimState, caller: &SimKey, params: &Params) -> Result<&'a mut SimKey, Reply> {
    let email = sub_email(state, caller, params)?;
    let api_key = params.get("subAccountApiKey").ok_or_else(|| missing("subAccountApiKey"))?;
    let uid = caller.uid.clone();
    state
        .find_mut(BINANCE, api_key)
        .filter(|k| k.parent_uid.as_deref() == Some(uid.as_str()) && k.sub_account.as_deref() == Some(email.as_str()))
        .ok_or_else(|| {
            error(
                400,
                SUB_KEY_NOT_FOUND,
                "Simulator: no such key of this sub-account (Binance documents no code for this)",
            )
        })
}

fn key_flags(key: &SimKey) -> Value {
    json!({
        "apiKey": key.api_key, "apiName": key.label, "canTrade": key.has(Permission::Trade),
        "canMarginLoanRepay": false, "canFuturesTrade": false, "canVanillaOptions": false,
        "canUniversalTransfer": key.has(Permission::Transfer),
        "status": if key.ips.is_empty() { 1 } else { 2 }, "ipList": key.ips,
        "createTime": key.created_at.map(|t| t.timestamp_millis()).unwrap_or_default()
    })
}

/// `GET /sapi/v1/sub-account/list`.
fn list_sub_accounts(sim: &Shared, caller: &SimKey, _params: &Params) -> Reply {
    if !caller.is_master() {
        return key_ip_or_permission();
    }
    let rows: Vec<Value> = lock(sim)
        .subs_of(BINANCE, &caller.uid)
        .into_iter()
        .map(|s| {
            json!({"email": s.name, "isFreeze": s.frozen, "createTime": 1689744671462_i64,
                        "isManagedSubAccount": false, "isAssetManagementSubAccount": false})
        })
        .collect();
    ok(json!({"subAccounts": rows}))
}

/// `status`: 1 unrestricted, 2 trusted IPs only (then `ipAddress` is required), 3 a third party's
/// (not simulated).
fn ips_for_status(params: &Params) -> Result<Vec<String>, Reply> {
    match params.get("status").map(String::as_str) {
        Some("1") => Ok(Vec::new()),
        Some("2") => {
            let list = params.get("ipAddress").filter(|l| !l.is_empty()).ok_or_else(|| missing("ipAddress"))?;
            if list.len() > MAX_IP_CHARS {
                return Err(error(400, -1130, "Data sent for parameter 'ipAddress' is not valid."));
            }
            parse_ips(list).ok_or_else(|| error(400, -1130, "Data sent for parameter 'ipAddress' is not valid."))
        }
        _ => Err(missing("status")),
    }
}

/// `POST /sapi/v1/sub-account/subAccountApi`: no withdraw flag exists; `secretKey` is returned
/// only here.
fn create_sub_key(sim: &Shared, caller: &SimKey, params: &Params) -> Reply {
    // TRADE security, as the delete endpoint: a master key with trading enabled.
    if !caller.has(Permission::Trade) {
        return key_ip_or_permission();
    }
    let mut state = lock(sim);
    if let Err(reply) = master_call(&mut state, caller, "binance:subAccountApi:post") {
        return reply;
    }
    let email = match sub_email(&state, caller, params) {
        Ok(email) => email,
        Err(reply) => return reply,
    };
    let Some(name) = params.get("apiName").filter(|n| !n.trim().is_empty()) else { return missing("apiName") };
    let ips = match ips_for_status(params) {
        Ok(ips) => ips,
        Err(reply) => return reply,
    };
    let mut permissions = vec![Permission::Read];
    if flag(params, "canTrade") || flag(params, "canFuturesTrade") || flag(params, "canMarginLoanRepay") {
        permissions.push(Permission::Trade);
    }
    if flag(params, "canUniversalTransfer") {
        permissions.push(Permission::Transfer);
    }
    let uid = state.sub_of(BINANCE, &caller.uid, |s| s.name == email).map(|s| s.uid).unwrap_or_default();
    // 64 and 64 letters and digits, as Binance's keys look.
    let (api_key, secret) = (fresh_hex(&mut state, "binance-key"), fresh_hex(&mut state, "binance-secret"));
    let key = SimKey {
        exchange: BINANCE,
        api_key,
        secret: secret.clone(),
        passphrase: None,
        label: name.clone(),
        permissions,
        ips,
        uid,
        parent_uid: Some(caller.uid.clone()),
        sub_account: Some(email),
        created_at: Some(chrono::Utc::now()),
        expires_at: None,
        expires_in_days: None,
        demo: false,
        frozen: false,
    };
    let mut answer = key_flags(&key);
    answer["secretKey"] = json!(secret);
    state.keys.push(key);
    ok(answer)
}

/// `GET /sapi/v1/sub-account/subAccountApi`: the sub-account's keys, never a secret.
fn list_sub_keys(sim: &Shared, caller: &SimKey, params: &Params) -> Reply {
    let mut state = lock(sim);
    if let Err(reply) = master_call(&mut state, caller, "binance:subAccountApi:get") {
        return reply;
    }
    let email = match sub_email(&state, caller, params) {
        Ok(email) => email,
        Err(reply) => return reply,
    };
    let only = params.get("subAccountApiKey");
    let rows: Vec<Value> = state
        .snapshot()
        .sub_keys(&caller.uid, &email)
        .into_iter()
        .filter(|k| k.exchange == BINANCE && only.is_none_or(|a| *a == k.api_key))
        .map(key_flags)
        .collect();
    ok(json!({"rows": rows}))
}

/// `POST /sapi/v1/sub-account/subAccountApiPermission`: the can* flags passed, absent ones false.
fn set_permissions(sim: &Shared, caller: &SimKey, params: &Params) -> Reply {
    if !caller.has(Permission::Trade) {
        return key_ip_or_permission();
    }
    let mut state = lock(sim);
    if let Err(reply) = master_call(&mut state, caller, "binance:subAccountApiPermission") {
        return reply;
    }
    let key = match owned_key(&mut state, caller, params) {
        Ok(key) => key,
        Err(reply) => return reply,
    };
    let mut permissions = vec![Permission::Read];
    if flag(params, "canTrade") || flag(params, "canFuturesTrade") || flag(params, "canMarginLoanRepay") {
        permissions.push(Permission::Trade);
    }
    if flag(params, "canUniversalTransfer") {
        permissions.push(Permission::Transfer);
    }
    key.permissions = permissions;
    ok(key_flags(key))
}

/// `POST /sapi/v2/sub-account/subAccountApi/ipRestriction`: the calling key needs "Enable Spot &
/// Margin Trading". `status` 1 lifts the restriction; 2 adds `ipAddress` to the list (the
/// documentation does not say whether it replaces; the simulator adds, the stricter case for a
/// client that means to set an exact list).
fn add_ips(sim: &Shared, caller: &SimKey, params: &Params) -> Reply {
    if !caller.has(Permission::Trade) {
        return key_ip_or_permission();
    }
    let mut state = lock(sim);
    if let Err(reply) = master_call(&mut state, caller, "binance:ipRestriction:post") {
        return reply;
    }
    let ips = match ips_for_status(params) {
        Ok(ips) => ips,
        Err(reply) => return reply,
    };
    let key = match owned_key(&mut state, caller, params) {
        Ok(key) => key,
        Err(reply) => return reply,
    };
    if ips.is_empty() {
        key.ips.clear();
    }
    for ip in ips {
        if !key.ips.contains(&ip) {
            key.ips.push(ip);
        }
    }
    let status = if key.ips.is_empty() { "1" } else { "2" };
    ok(
        json!({"status": status, "ipList": key.ips, "updateTime": chrono::Utc::now().timestamp_millis(), "apiKey": key.api_key}),
    )
}

/// `DELETE /sapi/v1/sub-account/subAccountApi/ipRestriction/ipList`: removes `ipAddress` entries.
fn remove_ips(sim: &Shared, caller: &SimKey, params: &Params) -> Reply {
    if !caller.has(Permission::Trade) {
        return key_ip_or_permission();
    }
    let mut state = lock(sim);
    if let Err(reply) = master_call(&mut state, caller, "binance:ipRestriction:delete") {
        return reply;
    }
    let Some(gone) = params.get("ipAddress").and_then(|l| parse_ips(l)) else { return missing("ipAddress") };
    let key = match owned_key(&mut state, caller, params) {
        Ok(key) => key,
        Err(reply) => return reply,
    };
    key.ips.retain(|ip| !gone.contains(ip));
    ok(json!({"ipList": key.ips, "updateTime": chrono::Utc::now().timestamp_millis(), "apiKey": key.api_key}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_pair_is_cut_out_wherever_it_is() {
        assert_eq!(split_signature("a=1&signature=ff&b=2"), ("a=1&b=2".to_owned(), Some("ff".to_owned())));
        assert_eq!(split_signature("a=1"), ("a=1".to_owned(), None));
        assert_eq!(split_signature(""), (String::new(), None));
    }
}
