//! OKX v5 as documented: `OK-ACCESS-*` headers, ISO-8601 ms timestamps valid for 30 s, the plain
//! passphrase, Base64(HMAC-SHA256(secret, ts + METHOD + requestPath + body)).

use std::time::Duration;

use axum::http::Method;
use base64::Engine as _;
use chrono::DateTime;
use serde_json::{json, Value};

use crate::okx_trade;
use crate::reply::Reply;
use crate::seed::{Permission, SimExchange, SimKey};
use crate::state::{lock, Shared};
use crate::sub_keys::{fresh_hex, parse_ips};
use crate::venue::Venue;
use crate::verify::{hmac_sha256, ip_allowed, Req};

const OKX: SimExchange = SimExchange::Okx;
const EXPIRY_MS: i64 = 30_000;
/// Simulator-only code. OKX documents no code for "no such sub-account" or "that key is not one of
/// this sub-account's" on `delete-apikey` (UNCONFIRMED), so the simulator answers this one, which
/// no exchange uses. Never 50119: that code is about the *calling* key.
pub const SUB_ACCOUNT_KEY_NOT_FOUND: &str = "-13001";
/// Simulator-only code, for a `subAcct` that is not one of the caller's sub-accounts: OKX
/// documents none (UNCONFIRMED).
pub const SUB_ACCOUNT_NOT_FOUND: &str = "-13002";
/// "Support up to 20 addresses" (create and modify).
const MAX_IPS: usize = 20;

pub(crate) fn error(status: u16, code: &str, msg: &str) -> Reply {
    Reply::json(status, code, json!({"code": code, "msg": msg, "data": []}))
}

pub(crate) fn ok(data: Value) -> Reply {
    Reply::json(200, "0", json!({"code": "0", "msg": "", "data": data}))
}

pub(crate) fn rate_limited() -> Reply {
    error(429, "50011", "Too Many Requests").with_header("retry-after", "1")
}

/// The OKX venue.
pub(crate) struct Okx;

impl Venue for Okx {
    fn exchange(&self) -> SimExchange {
        OKX
    }

    fn prefixes(&self) -> &'static [&'static str] {
        &["/api/v5/"]
    }

    fn handle(&self, sim: &Shared, req: &Req) -> Reply {
        handle(sim, req)
    }

    fn rate_limit_reply(&self, _req: &Req) -> Reply {
        rate_limited()
    }
}

fn handle(sim: &Shared, req: &Req) -> Reply {
    match (&req.method, req.path.as_str()) {
        (&Method::GET, "/api/v5/public/instruments") => okx_trade::instruments(req),
        (&Method::GET, "/api/v5/public/time") => ok(json!([{"ts": req.now_ms().to_string()}])),
        (&Method::GET, "/api/v5/account/config") => match authenticate(sim, req) {
            Ok(key) => account_config(sim, &key),
            Err(reply) => reply,
        },
        (&Method::POST, "/api/v5/users/subaccount/delete-apikey") => match authenticate(sim, req) {
            Ok(key) => delete_sub_key(sim, req, &key),
            Err(reply) => reply,
        },
        (&Method::GET, "/api/v5/users/subaccount/list") => with_key(sim, req, list_sub_accounts),
        (&Method::POST, "/api/v5/users/subaccount/apikey") => with_key(sim, req, create_sub_key),
        (&Method::GET, "/api/v5/users/subaccount/apikey") => with_key(sim, req, query_sub_keys),
        (&Method::POST, "/api/v5/users/subaccount/modify-apikey") => with_key(sim, req, modify_sub_key),
        (&Method::GET, "/api/v5/account/balance") => with_key(sim, req, okx_trade::balance),
        (&Method::GET, "/api/v5/asset/currencies") => with_key(sim, req, okx_trade::currencies),
        (&Method::POST, "/api/v5/trade/order") => with_key(sim, req, okx_trade::place_order),
        (&Method::POST, "/api/v5/trade/batch-orders") => with_key(sim, req, okx_trade::place_batch),
        (&Method::POST, "/api/v5/trade/cancel-order") => with_key(sim, req, okx_trade::cancel_order),
        (&Method::POST, "/api/v5/asset/withdrawal") => with_key(sim, req, okx_trade::withdrawal),
        (&Method::POST, "/api/v5/asset/transfer") => with_key(sim, req, okx_trade::transfer),
        _ => Reply::not_found(),
    }
}

fn with_key(sim: &Shared, req: &Req, action: fn(&Shared, &Req, &SimKey) -> Reply) -> Reply {
    match authenticate(sim, req) {
        Ok(key) => action(sim, req, &key),
        Err(reply) => reply,
    }
}

/// Header checks in the documented order, then key, environment, passphrase, signature and IP.
pub(crate) fn authenticate(sim: &Shared, req: &Req) -> Result<SimKey, Reply> {
    let api_key = req
        .header("OK-ACCESS-KEY")
        .ok_or_else(|| error(401, "50103", "Request header OK-ACCESS-KEY cannot be empty."))?;
    let passphrase = req
        .header("OK-ACCESS-PASSPHRASE")
        .ok_or_else(|| error(401, "50104", "Request header OK-ACCESS-PASSPHRASE cannot be empty."))?;
    let sign = req
        .header("OK-ACCESS-SIGN")
        .ok_or_else(|| error(401, "50106", "Request header OK-ACCESS-SIGN cannot be empty."))?;
    let timestamp = req
        .header("OK-ACCESS-TIMESTAMP")
        .ok_or_else(|| error(401, "50107", "Request header OK-ACCESS-TIMESTAMP cannot be empty."))?;

    let sent_at = parse_timestamp(timestamp).ok_or_else(|| error(401, "50112", "Invalid OK-ACCESS-TIMESTAMP."))?;
    if (req.now_ms() - sent_at).abs() > EXPIRY_MS {
        return Err(error(401, "50102", "Timestamp request expired."));
    }
    let key = {
        let state = lock(sim);
        match state.find(OKX, api_key).filter(|k| !k.is_expired(req.now)) {
            Some(key) => key,
            // The calling key: one deleted here "doesn't exist", any other is invalid.
            None if state.was_deleted(OKX, api_key) => return Err(error(401, "50119", "API key doesn't exist.")),
            None => return Err(error(401, "50111", "Invalid OK-ACCESS-KEY.")),
        }
    };
    if key.frozen {
        return Err(error(401, "50100", "API frozen, please contact customer service."));
    }
    let simulated = req.header("x-simulated-trading") == Some("1");
    if simulated != key.demo {
        return Err(error(401, "50101", "APIKey does not match current environment."));
    }
    if key.passphrase.as_deref() != Some(passphrase) {
        return Err(error(401, "50105", "Invalid OK-ACCESS-PASSPHRASE."));
    }
    let request_path = if req.query.is_empty() { req.path.clone() } else { format!("{}?{}", req.path, req.query) };
    let prehash = format!("{timestamp}{}{request_path}{}", req.method.as_str(), req.body);
    let expected = base64::engine::general_purpose::STANDARD.encode(hmac_sha256(&key.secret, &prehash));
    if sign != expected {
        return Err(error(401, "50113", "Invalid signature."));
    }
    if !ip_allowed(&key, req.peer) {
        return Err(error(401, "50110", "Your IP is not in the IP whitelist of this API key."));
    }
    Ok(key)
}

/// Exactly `YYYY-MM-DDTHH:MM:SS.mmmZ`, as the docs show.
fn parse_timestamp(text: &str) -> Option<i64> {
    let shaped = text.len() == 24 && text.ends_with('Z') && text.as_bytes().get(19) == Some(&b'.');
    shaped.then(|| DateTime::parse_from_rfc3339(text).ok()).flatten().map(|t| t.timestamp_millis())
}

fn perm_field(key: &SimKey) -> String {
    let mut perms = vec!["read_only"];
    if key.has(Permission::Withdraw) {
        perms.push("withdraw");
    }
    if key.has(Permission::Trade) {
        perms.push("trade");
    }
    perms.join(",")
}

fn account_config(sim: &Shared, key: &SimKey) -> Reply {
    if !lock(sim).allow("okx:account/config", &key.uid, 5, Duration::from_secs(2)) {
        return rate_limited();
    }
    let main_uid = key.parent_uid.clone().unwrap_or_else(|| key.uid.clone());
    ok(json!([{
        "acctLv": "2", "acctStpMode": "cancel_maker", "autoLoan": false, "ctIsoMode": "automatic",
        "enableSpotBorrow": false, "greeksType": "PA", "feeType": "0",
        "ip": key.ips.join(","), "type": if key.is_master() { "0" } else { "1" }, "kycLv": "3",
        "label": key.label, "level": "Lv1", "levelTmp": "", "liquidationGear": "-1", "mainUid": main_uid,
        "mgnIsoMode": "automatic", "opAuth": "1", "perm": perm_field(key), "posMode": "long_short_mode",
        "roleType": "0", "spotBorrowAutoRepay": false, "spotOffsetType": "", "spotRoleType": "0",
        "spotTraderInsts": [], "traderInsts": [], "uid": key.uid, "settleCcy": "USDC", "settleCcyList": ["USD", "USDC", "USDG"]
    }]))
}

/// Master accounts only, Trade permission, an IP-bound key, 1 request per second per user.
fn delete_sub_key(sim: &Shared, req: &Req, caller: &SimKey) -> Reply {
    if caller.demo {
        return error(200, "50038", "This feature is unavailable in demo trading.");
    }
    if !caller.is_master() {
        return error(200, "50030", "You don't have permission to use this API endpoint.");
    }
    if !caller.has(Permission::Trade) {
        return error(200, "50120", "API key doesn't have permission.");
    }
    if caller.ips.is_empty() {
        return error(200, "50035", "This endpoint requires that APIKey must be bound to IP.");
    }
    let mut state = lock(sim);
    if !state.allow("okx:delete-apikey", &caller.uid, 1, Duration::from_secs(1)) {
        return rate_limited();
    }
    let body: Value = serde_json::from_str(&req.body).unwrap_or(Value::Null);
    let (Some(sub_account), Some(api_key)) = (body["subAcct"].as_str(), body["apiKey"].as_str()) else {
        return error(200, "51000", "Parameter subAcct or apiKey error.");
    };
    let target = state.keys.iter().find(|k| {
        k.exchange == OKX
            && k.api_key == api_key
            && k.parent_uid.as_deref() == Some(caller.uid.as_str())
            && k.sub_account.as_deref() == Some(sub_account)
    });
    if target.is_none() {
        return error(
            200,
            SUB_ACCOUNT_KEY_NOT_FOUND,
            "Simulator: no such key in this sub-account (OKX documents no code for this)",
        );
    }
    state.remove(OKX, api_key);
    ok(json!([{"subAcct": sub_account}]))
}

/// "Applies to master accounts only" (every sub-account endpoint); the write endpoints also need
/// Trade and an IP-bound master key.
fn master_only(caller: &SimKey, write: bool) -> Result<(), Reply> {
    if caller.demo {
        return Err(error(200, "50038", "This feature is unavailable in demo trading."));
    }
    if !caller.is_master() {
        return Err(error(200, "50030", "You don't have permission to use this API endpoint."));
    }
    if write && !caller.has(Permission::Trade) {
        return Err(error(200, "50120", "API key doesn't have permission."));
    }
    if write && caller.ips.is_empty() {
        return Err(error(200, "50035", "This endpoint requires that APIKey must be bound to IP."));
    }
    Ok(())
}

fn query_params(req: &Req) -> std::collections::HashMap<String, String> {
    url::form_urlencoded::parse(req.query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

fn param_error(name: &str) -> Reply {
    error(200, "51000", &format!("Parameter {name} error"))
}

/// `GET /api/v5/users/subaccount/list`: 20 requests per 2 s, Read, master only.
fn list_sub_accounts(sim: &Shared, req: &Req, caller: &SimKey) -> Reply {
    if let Err(reply) = master_only(caller, false) {
        return reply;
    }
    let mut state = lock(sim);
    if !state.allow("okx:subaccount/list", &caller.uid, 20, Duration::from_secs(2)) {
        return rate_limited();
    }
    let wanted = query_params(req).get("subAcct").cloned();
    let rows: Vec<Value> = state
        .subs_of(OKX, &caller.uid)
        .into_iter()
        .filter(|s| wanted.as_ref().is_none_or(|w| *w == s.name))
        .map(|s| {
            json!({
                "canTransOut": true, "enable": !s.frozen, "frozenFunc": [], "gAuth": false, "label": "",
                "mobile": "", "subAcct": s.name, "ts": "1659334756000", "type": "1", "uid": s.uid,
                "subAcctLv": "1", "firstLvSubAcct": s.name, "ifDma": false
            })
        })
        .collect();
    ok(json!(rows))
}

/// Letters, digits and specials, 8 to 32 long, with at least one of each kind and both cases.
fn passphrase_ok(passphrase: &str) -> bool {
    let chars = passphrase.chars();
    (8..=32).contains(&passphrase.chars().count())
        && chars.clone().all(|c| c.is_ascii_graphic())
        && chars.clone().any(|c| c.is_ascii_digit())
        && chars.clone().any(|c| c.is_ascii_uppercase())
        && chars.clone().any(|c| c.is_ascii_lowercase())
        && chars.clone().any(|c| c.is_ascii_punctuation())
}

/// `perm`: `read_only` and/or `trade`; withdraw is not offered for sub-account keys.
fn parse_perm(perm: &str) -> Option<Vec<Permission>> {
    let mut permissions = vec![Permission::Read];
    for part in perm.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part {
            "read_only" => {}
            "trade" => permissions.push(Permission::Trade),
            _ => return None,
        }
    }
    Some(permissions)
}

fn parse_ip_param(ip: &str) -> Result<Vec<String>, Reply> {
    match parse_ips(ip) {
        Some(ips) if ips.len() <= MAX_IPS => Ok(ips),
        _ => Err(param_error("ip")),
    }
}

fn body_of(req: &Req) -> Value {
    serde_json::from_str(&req.body).unwrap_or(Value::Null)
}

/// `POST /api/v5/users/subaccount/apikey`: master only, IP-bound with Trade, 1 request/s. The
/// answer is the only one that carries the secret key.
fn create_sub_key(sim: &Shared, req: &Req, caller: &SimKey) -> Reply {
    if let Err(reply) = master_only(caller, true) {
        return reply;
    }
    let mut state = lock(sim);
    if !state.allow("okx:subaccount/apikey", &caller.uid, 1, Duration::from_secs(1)) {
        return rate_limited();
    }
    let body = body_of(req);
    let text = |name: &str| body[name].as_str().map(str::to_owned);
    let Some(sub_account) = text("subAcct").filter(|s| !s.is_empty()) else { return param_error("subAcct") };
    let Some(label) = text("label").filter(|l| !l.trim().is_empty()) else { return param_error("label") };
    let Some(passphrase) = text("passphrase").filter(|p| passphrase_ok(p)) else {
        return param_error("passphrase");
    };
    let Some(permissions) = parse_perm(&text("perm").unwrap_or_default()) else { return param_error("perm") };
    let ips = match parse_ip_param(&text("ip").unwrap_or_default()) {
        Ok(ips) => ips,
        Err(reply) => return reply,
    };
    let Some(sub) = state.sub_of(OKX, &caller.uid, |s| s.name == sub_account) else {
        return error(200, SUB_ACCOUNT_NOT_FOUND, "Simulator: no such sub-account (OKX documents no code for this)");
    };
    // A UUID and 32 upper-case hex digits, as OKX's keys look.
    let hex = fresh_hex(&mut state, "okx-key");
    let api_key = format!("{}-{}-4{}-8{}-{}", &hex[..8], &hex[8..12], &hex[13..16], &hex[17..20], &hex[20..32]);
    let secret = fresh_hex(&mut state, "okx-secret")[..32].to_uppercase();
    let key = SimKey {
        exchange: OKX,
        api_key: api_key.clone(),
        secret: secret.clone(),
        passphrase: Some(passphrase.clone()),
        label: label.clone(),
        permissions,
        ips,
        uid: sub.uid.clone(),
        parent_uid: Some(caller.uid.clone()),
        sub_account: Some(sub.name.clone()),
        created_at: Some(req.now),
        expires_at: None,
        expires_in_days: None,
        demo: false,
        frozen: false,
    };
    let answer = json!([{
        "subAcct": sub.name, "label": label, "apiKey": api_key, "secretKey": secret, "passphrase": passphrase,
        "perm": perm_field(&key), "ip": key.ips.join(","), "ts": req.now_ms().to_string()
    }]);
    state.keys.push(key);
    ok(answer)
}

fn key_row(key: &SimKey) -> Value {
    let ts = key.created_at.map(|t| t.timestamp_millis()).unwrap_or_default().to_string();
    json!({"label": key.label, "apiKey": key.api_key, "perm": perm_field(key), "ip": key.ips.join(","), "ts": ts})
}

/// `GET /api/v5/users/subaccount/apikey`: 20 requests per 2 s, Read; never the secret.
fn query_sub_keys(sim: &Shared, req: &Req, caller: &SimKey) -> Reply {
    if let Err(reply) = master_only(caller, false) {
        return reply;
    }
    let mut state = lock(sim);
    if !state.allow("okx:subaccount/apikey:get", &caller.uid, 20, Duration::from_secs(2)) {
        return rate_limited();
    }
    let params = query_params(req);
    let Some(sub_account) = params.get("subAcct").filter(|s| !s.is_empty()) else { return param_error("subAcct") };
    if state.sub_of(OKX, &caller.uid, |s| &s.name == sub_account).is_none() {
        return error(200, SUB_ACCOUNT_NOT_FOUND, "Simulator: no such sub-account (OKX documents no code for this)");
    }
    let only = params.get("apiKey");
    let rows: Vec<Value> = state
        .snapshot()
        .sub_keys(&caller.uid, sub_account)
        .into_iter()
        .filter(|k| k.exchange == OKX && only.is_none_or(|a| *a == k.api_key))
        .map(key_row)
        .collect();
    ok(json!(rows))
}

/// `POST /api/v5/users/subaccount/modify-apikey`: each of `label`, `perm`, `ip` passed is reset to
/// the value passed (`ip: ""` unbinds every IP); what is not passed stays.
fn modify_sub_key(sim: &Shared, req: &Req, caller: &SimKey) -> Reply {
    if let Err(reply) = master_only(caller, true) {
        return reply;
    }
    let mut state = lock(sim);
    if !state.allow("okx:subaccount/modify-apikey", &caller.uid, 1, Duration::from_secs(1)) {
        return rate_limited();
    }
    let body = body_of(req);
    let (Some(sub_account), Some(api_key)) = (body["subAcct"].as_str(), body["apiKey"].as_str()) else {
        return error(200, "51000", "Parameter subAcct or apiKey error.");
    };
    let perm = match body["perm"].as_str().map(parse_perm) {
        Some(None) => return param_error("perm"),
        Some(Some(p)) => Some(p),
        None => None,
    };
    let ips = match body["ip"].as_str().map(parse_ip_param) {
        Some(Err(reply)) => return reply,
        Some(Ok(ips)) => Some(ips),
        None => None,
    };
    let label = body["label"].as_str().map(str::to_owned);
    let caller_uid = caller.uid.clone();
    let Some(key) = state.find_mut(OKX, api_key).filter(|k| {
        k.parent_uid.as_deref() == Some(caller_uid.as_str()) && k.sub_account.as_deref() == Some(sub_account)
    }) else {
        return error(
            200,
            SUB_ACCOUNT_KEY_NOT_FOUND,
            "Simulator: no such key in this sub-account (OKX documents no code for this)",
        );
    };
    if let Some(permissions) = perm {
        key.permissions = permissions;
    }
    if let Some(ips) = ips {
        key.ips = ips;
    }
    if let Some(label) = label {
        key.label = label;
    }
    let mut row = key_row(key);
    row["subAcct"] = json!(sub_account);
    ok(json!([row]))
}
