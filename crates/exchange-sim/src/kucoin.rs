//! KuCoin as documented: `KC-API-*` headers, ms timestamps within 5 s, the passphrase as
//! Base64(HMAC-SHA256(secret, passphrase)) for v2/v3 keys, and
//! Base64(HMAC-SHA256(secret, ts + METHOD + path + ?rawQuery + body)) with the query *decoded*
//! (the official SDK signs `k=v&…` before URL-encoding).

use std::collections::HashMap;
use std::time::Duration;

use axum::http::Method;
use base64::Engine as _;
use serde_json::{json, Map, Value};

use crate::reply::Reply;
use crate::seed::{Permission, SimExchange, SimKey};
use crate::state::{lock, Shared, SimState};
use crate::sub_keys::{fresh_hex, parse_ips};
use crate::venue::Venue;
use crate::verify::{hmac_sha256, ip_allowed, Req};

const KUCOIN: SimExchange = SimExchange::Kucoin;
const OK: &str = "200000";
/// "KC-API-TIMESTAMP Invalid -- Time differs from server time by more than 5 seconds".
const WINDOW_MS: i64 = 5_000;
/// Simulator-only code: KuCoin documents none for a key that is not one of that sub-account's
/// (UNCONFIRMED). Never 400003: that code is about the *calling* key.
pub const SUB_ACCOUNT_KEY_NOT_FOUND: &str = "-13001";
/// Simulator-only code, for a `subName` that is not one of the caller's sub-accounts (UNCONFIRMED).
pub const SUB_ACCOUNT_NOT_FOUND: &str = "-13002";
/// Simulator-only code, for a sub key's passphrase that does not match (UNCONFIRMED). Never
/// 400004: that code is about the calling key's passphrase header.
pub const SUB_KEY_PASSPHRASE_WRONG: &str = "-13003";
/// "You may add up to 20 IPs."
const MAX_IPS: usize = 20;
/// The Management pool: 2000 weight per 30 s per UID at VIP0, counted here in units of 10.
const POOL_UNITS: usize = 200;
const POOL_WINDOW: Duration = Duration::from_secs(30);
/// The permissions a master may grant a sub key.
const GRANTABLE: [&str; 5] = ["General", "Spot", "Futures", "Margin", "InnerTransfer"];

fn error(status: u16, code: &str, msg: &str) -> Reply {
    Reply::json(status, code, json!({"code": code, "msg": msg}))
}

fn ok(data: Value) -> Reply {
    Reply::json(200, OK, json!({"code": OK, "data": data}))
}

fn rate_limited() -> Reply {
    error(429, "429000", "Too Many Requests")
}

fn param_error(detail: &str) -> Reply {
    error(400, "400100", detail)
}

/// The KuCoin venue.
pub(crate) struct Kucoin;

impl Venue for Kucoin {
    fn exchange(&self) -> SimExchange {
        KUCOIN
    }

    fn prefixes(&self) -> &'static [&'static str] {
        &["/api/v1/", "/api/v2/sub/"]
    }

    fn handle(&self, sim: &Shared, req: &Req) -> Reply {
        handle(sim, req)
    }

    fn rate_limit_reply(&self, _req: &Req) -> Reply {
        rate_limited()
    }
}

fn handle(sim: &Shared, req: &Req) -> Reply {
    let action: fn(&Shared, &Req, &SimKey) -> Reply = match (&req.method, req.path.as_str()) {
        (&Method::GET, "/api/v1/timestamp") => return ok(json!(req.now_ms())),
        (&Method::GET, "/api/v1/user/api-key") => api_key_info,
        (&Method::GET, "/api/v2/sub/user") => list_sub_accounts,
        (&Method::POST, "/api/v1/sub/api-key") => create_sub_key,
        (&Method::GET, "/api/v1/sub/api-key") => list_sub_keys,
        (&Method::DELETE, "/api/v1/sub/api-key") => delete_sub_key,
        (&Method::POST, "/api/v1/sub/api-key/update") => modify_sub_key,
        _ => return Reply::not_found(),
    };
    match authenticate(sim, req) {
        Ok(key) => action(sim, req, &key),
        Err(reply) => reply,
    }
}

/// The query as KuCoin signs it: decoded, `k=v` joined by `&`, in the order sent.
fn raw_query(query: &str) -> String {
    url::form_urlencoded::parse(query.as_bytes()).map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

fn b64_hmac(secret: &str, message: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(hmac_sha256(secret, message))
}

/// Headers, timestamp window, key, frozen account, signature, passphrase, IP: in that order.
fn authenticate(sim: &Shared, req: &Req) -> Result<SimKey, Reply> {
    let missing = || {
        error(
            401,
            "400001",
            "Any of KC-API-KEY, KC-API-SIGN, KC-API-TIMESTAMP, KC-API-PASSPHRASE is missing in your request header.",
        )
    };
    let api_key = req.header("KC-API-KEY").ok_or_else(missing)?;
    let sign = req.header("KC-API-SIGN").ok_or_else(missing)?;
    let timestamp = req.header("KC-API-TIMESTAMP").ok_or_else(missing)?;
    let passphrase = req.header("KC-API-PASSPHRASE").ok_or_else(missing)?;
    let sent_at = timestamp.parse::<i64>().map_err(|_| error(401, "400002", "KC-API-TIMESTAMP Invalid"))?;
    if (req.now_ms() - sent_at).abs() > WINDOW_MS {
        return Err(error(
            401,
            "400002",
            "KC-API-TIMESTAMP Invalid -- Time differs from server time by more than 5 seconds",
        ));
    }
    let key = lock(sim)
        .find(KUCOIN, api_key)
        .filter(|k| !k.is_expired(req.now))
        .ok_or_else(|| error(401, "400003", "KC-API-KEY not exists"))?;
    if key.frozen {
        return Err(error(401, "411100", "User is frozen"));
    }
    let endpoint =
        if req.query.is_empty() { req.path.clone() } else { format!("{}?{}", req.path, raw_query(&req.query)) };
    let expected = b64_hmac(&key.secret, &format!("{timestamp}{}{endpoint}{}", req.method.as_str(), req.body));
    if sign != expected {
        return Err(error(401, "400005", "Signature error"));
    }
    // The signature first: a wrong secret spoils the signed passphrase too (which KuCoin checks
    // first is UNCONFIRMED). v2 and v3 keys sign the passphrase; v1 keys sent it as typed.
    let stored = key.passphrase.clone().unwrap_or_default();
    let expected_passphrase = match req.header("KC-API-KEY-VERSION") {
        Some("2" | "3") => b64_hmac(&key.secret, &stored),
        _ => stored,
    };
    if passphrase != expected_passphrase {
        return Err(error(401, "400004", "Invalid KC-API-PASSPHRASE"));
    }
    if !ip_allowed(&key, req.peer) {
        return Err(error(401, "400006", "The requested IP address is not in the API whitelist"));
    }
    Ok(key)
}

/// Spends `weight` from the caller's Management pool.
fn spend(state: &mut SimState, uid: &str, weight: usize) -> bool {
    (0..weight / 10).all(|_| state.allow("kucoin:management", uid, POOL_UNITS, POOL_WINDOW))
}

fn permission_field(key: &SimKey) -> String {
    let mut names = vec!["General"];
    if key.has(Permission::Trade) {
        names.extend(["Spot", "Futures"]);
    }
    if key.has(Permission::Transfer) {
        names.push("InnerTransfer");
    }
    // Not among the documented values of user/api-key (UNCONFIRMED how KuCoin names it there).
    if key.has(Permission::Withdraw) {
        names.push("Withdrawal");
    }
    names.join(",")
}

/// The key's own read masks its IPs, as the documented example does ("203.**.154").
fn masked_ips(key: &SimKey) -> String {
    let mask = |ip: &String| match ip.split('.').collect::<Vec<_>>().as_slice() {
        [first, _, _, last] => format!("{first}.**.{last}"),
        _ => "**".to_owned(),
    };
    key.ips.iter().map(mask).collect::<Vec<_>>().join(",")
}

/// `GET /api/v1/user/api-key`: master and sub keys; weight 20.
fn api_key_info(sim: &Shared, _req: &Req, key: &SimKey) -> Reply {
    if !spend(&mut lock(sim), &key.uid, 20) {
        return rate_limited();
    }
    let mut data = json!({
        "remark": key.label, "apiKey": key.api_key, "apiVersion": 3, "permission": permission_field(key),
        "ipWhitelist": masked_ips(key), "createdAt": key.created_at.map(|t| t.timestamp_millis()).unwrap_or_default(),
        "uid": key.uid.parse::<i64>().unwrap_or_default(), "isMaster": key.is_master(),
    });
    if let Some(sub) = &key.sub_account {
        data["subName"] = json!(sub);
    }
    ok(data)
}

/// The sub-account endpoints: a master account's key ("x-api-permission: General").
fn master_only(state: &mut SimState, caller: &SimKey, weight: usize) -> Result<(), Reply> {
    if !caller.is_master() || !caller.has(Permission::Read) {
        return Err(error(401, "400007", "Access Denied"));
    }
    if !spend(state, &caller.uid, weight) {
        return Err(rate_limited());
    }
    Ok(())
}

fn query_params(req: &Req) -> HashMap<String, String> {
    url::form_urlencoded::parse(req.query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

fn body_object(req: &Req) -> Option<Map<String, Value>> {
    serde_json::from_str::<Value>(&req.body).ok()?.as_object().cloned()
}

/// `GET /api/v2/sub/user?currentPage=&pageSize=`: paged, at most 100 a page; weight 20.
fn list_sub_accounts(sim: &Shared, req: &Req, caller: &SimKey) -> Reply {
    let mut state = lock(sim);
    if let Err(reply) = master_only(&mut state, caller, 20) {
        return reply;
    }
    let params = query_params(req);
    let number = |name: &str, default: usize| params.get(name).map_or(Some(default), |v| v.parse::<usize>().ok());
    let (Some(page), Some(size)) = (number("currentPage", 1), number("pageSize", 10)) else {
        return param_error("currentPage and pageSize are integers");
    };
    if page == 0 || !(1..=100).contains(&size) {
        return param_error("pageSize is 1 to 100");
    }
    let subs = state.subs_of(KUCOIN, &caller.uid);
    let items: Vec<Value> = subs
        .iter()
        .skip((page - 1) * size)
        .take(size)
        .map(|s| {
            json!({
                "userId": format!("u{}", s.uid), "uid": s.uid.parse::<i64>().unwrap_or_default(), "subName": s.name,
                "status": if s.frozen { 3 } else { 2 }, "type": 0, "access": "All", "createdAt": 1668562696000_i64,
                "remarks": "", "tradeTypes": ["Spot", "Futures", "Margin"], "openedTradeTypes": ["Spot"], "hostedStatus": null
            })
        })
        .collect();
    ok(json!({
        "currentPage": page, "pageSize": size, "totalNum": subs.len(), "totalPage": subs.len().div_ceil(size), "items": items
    }))
}

/// `permission`: a comma list of General, Spot, Futures, Margin, InnerTransfer ("General" when absent).
fn parse_permission(text: Option<&str>) -> Result<Vec<Permission>, Reply> {
    let mut permissions = vec![Permission::Read];
    for name in text.unwrap_or("General").split(',').map(str::trim).filter(|n| !n.is_empty()) {
        match GRANTABLE.iter().find(|g| g.eq_ignore_ascii_case(name)) {
            Some(&"General") => {}
            Some(&"InnerTransfer") => permissions.push(Permission::Transfer),
            Some(_) => permissions.push(Permission::Trade),
            None => return Err(param_error(&format!("permission {name} cannot be granted to a sub-account key"))),
        }
    }
    permissions.sort_by_key(|p| *p as u8);
    permissions.dedup();
    Ok(permissions)
}

fn parse_ip_field(value: Option<&Value>) -> Result<Vec<String>, Reply> {
    let text = match value {
        None | Some(Value::Null) => "",
        Some(Value::String(s)) => s.as_str(),
        Some(_) => return Err(param_error("ipWhitelist is a comma-separated string")),
    };
    match parse_ips(text) {
        Some(ips) if ips.len() <= MAX_IPS => Ok(ips),
        Some(_) => Err(param_error("You may add up to 20 IPs")),
        None => Err(param_error("ipWhitelist holds an entry that is not an IP address")),
    }
}

/// `expire`: -1 (never, the default), 30, 90, 180 or 360 days.
fn parse_expire(value: Option<&Value>) -> Result<Option<i64>, Reply> {
    let text = match value {
        None => return Ok(None),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(_) => return Err(param_error("expire is -1, 30, 90, 180 or 360")),
    };
    match text.as_str() {
        "-1" => Ok(None),
        "30" | "90" | "180" | "360" => Ok(text.parse().ok()),
        _ => Err(param_error("expire is -1, 30, 90, 180 or 360")),
    }
}

/// 7 to 32 characters without spaces.
fn passphrase_ok(passphrase: &str) -> bool {
    (7..=32).contains(&passphrase.chars().count()) && !passphrase.chars().any(char::is_whitespace)
}

fn key_row(key: &SimKey) -> Value {
    json!({
        "subName": key.sub_account, "remark": key.label, "apiKey": key.api_key, "apiVersion": 3,
        "permission": permission_field(key), "ipWhitelist": key.ips.join(","),
        "createdAt": key.created_at.map(|t| t.timestamp_millis()).unwrap_or_default(),
        "uid": key.uid.parse::<i64>().unwrap_or_default(), "isMaster": false
    })
}

/// `POST /api/v1/sub/api-key`: weight 20; the answer is the only one that carries the secret.
fn create_sub_key(sim: &Shared, req: &Req, caller: &SimKey) -> Reply {
    let mut state = lock(sim);
    if let Err(reply) = master_only(&mut state, caller, 20) {
        return reply;
    }
    let Some(body) = body_object(req) else { return param_error("the body is not a JSON object") };
    let text = |name: &str| body.get(name).and_then(Value::as_str).map(str::to_owned);
    let Some(sub_name) = text("subName").filter(|s| !s.is_empty()) else { return param_error("subName is required") };
    let Some(passphrase) = text("passphrase").filter(|p| passphrase_ok(p)) else {
        return param_error("passphrase must contain 7-32 characters and no spaces");
    };
    let Some(remark) = text("remark").filter(|r| (1..=24).contains(&r.chars().count())) else {
        return param_error("remark is 1-24 characters");
    };
    let permissions = match parse_permission(body.get("permission").and_then(Value::as_str)) {
        Ok(p) => p,
        Err(reply) => return reply,
    };
    let ips = match parse_ip_field(body.get("ipWhitelist")) {
        Ok(ips) => ips,
        Err(reply) => return reply,
    };
    let expire_days = match parse_expire(body.get("expire")) {
        Ok(days) => days,
        Err(reply) => return reply,
    };
    let Some(sub) = state.sub_of(KUCOIN, &caller.uid, |s| s.name == sub_name) else {
        return error(400, SUB_ACCOUNT_NOT_FOUND, "Simulator: no such sub-account (KuCoin documents no code for this)");
    };
    // 24 hex digits and a UUID, as KuCoin's keys look.
    let api_key = fresh_hex(&mut state, "kucoin-key")[..24].to_owned();
    let hex = fresh_hex(&mut state, "kucoin-secret");
    let secret = format!("{}-{}-4{}-8{}-{}", &hex[..8], &hex[8..12], &hex[13..16], &hex[17..20], &hex[20..32]);
    let key = SimKey {
        exchange: KUCOIN,
        api_key,
        secret: secret.clone(),
        passphrase: Some(passphrase.clone()),
        label: remark,
        permissions,
        ips,
        uid: sub.uid.clone(),
        parent_uid: Some(caller.uid.clone()),
        sub_account: Some(sub.name.clone()),
        created_at: Some(req.now),
        expires_at: expire_days.map(|d| req.now + chrono::Duration::days(d)),
        expires_in_days: None,
        demo: false,
        frozen: false,
    };
    let mut data = key_row(&key);
    data["apiSecret"] = json!(secret);
    data["passphrase"] = json!(passphrase);
    state.keys.push(key);
    ok(data)
}

/// `GET /api/v1/sub/api-key?subName=&apiKey=`: weight 20; never the secret.
fn list_sub_keys(sim: &Shared, req: &Req, caller: &SimKey) -> Reply {
    let mut state = lock(sim);
    if let Err(reply) = master_only(&mut state, caller, 20) {
        return reply;
    }
    let params = query_params(req);
    let Some(sub_name) = params.get("subName").filter(|s| !s.is_empty()) else {
        return param_error("subName is required");
    };
    if state.sub_of(KUCOIN, &caller.uid, |s| &s.name == sub_name).is_none() {
        return error(400, SUB_ACCOUNT_NOT_FOUND, "Simulator: no such sub-account (KuCoin documents no code for this)");
    }
    let only = params.get("apiKey");
    let rows: Vec<Value> = state
        .snapshot()
        .sub_keys(&caller.uid, sub_name)
        .into_iter()
        .filter(|k| k.exchange == KUCOIN && only.is_none_or(|a| *a == k.api_key))
        .map(key_row)
        .collect();
    ok(json!(rows))
}

/// The caller's sub key named by `sub_name` and `api_key`, proved by that key's own passphrase.
fn owned_sub_key<'a>(
    state: &'a mut SimState,
    caller: &SimKey,
    sub_name: &str,
    api_key: &str,
    passphrase: &str,
) -> Result<&'a mut SimKey, Reply> {
    let caller_uid = caller.uid.clone();
    let key = state
        .find_mut(KUCOIN, api_key)
        .filter(|k| k.parent_uid.as_deref() == Some(caller_uid.as_str()) && k.sub_account.as_deref() == Some(sub_name))
        .ok_or_else(|| {
            error(
                400,
                SUB_ACCOUNT_KEY_NOT_FOUND,
                "Simulator: no such key in this sub-account (KuCoin documents no code for this)",
            )
        })?;
    if key.passphrase.as_deref() != Some(passphrase) {
        return Err(error(
            400,
            SUB_KEY_PASSPHRASE_WRONG,
            "Simulator: that is not this key's passphrase (KuCoin documents no code for this)",
        ));
    }
    Ok(key)
}

/// `DELETE /api/v1/sub/api-key?apiKey=&subName=&passphrase=`: weight 30; the key's passphrase is required.
fn delete_sub_key(sim: &Shared, req: &Req, caller: &SimKey) -> Reply {
    let mut state = lock(sim);
    if let Err(reply) = master_only(&mut state, caller, 30) {
        return reply;
    }
    let params = query_params(req);
    let (Some(api_key), Some(sub_name), Some(passphrase)) =
        (params.get("apiKey"), params.get("subName"), params.get("passphrase"))
    else {
        return param_error("apiKey, subName and passphrase are required");
    };
    if let Err(reply) = owned_sub_key(&mut state, caller, sub_name, api_key, passphrase) {
        return reply;
    }
    state.remove(KUCOIN, api_key);
    ok(json!({"subName": sub_name, "apiKey": api_key}))
}

/// `POST /api/v1/sub/api-key/update`: weight 30; `subName`, `apiKey` and the key's `passphrase`
/// required; `permission`, `ipWhitelist` (the list replaces the key's) and `expire` when passed.
fn modify_sub_key(sim: &Shared, req: &Req, caller: &SimKey) -> Reply {
    let mut state = lock(sim);
    if let Err(reply) = master_only(&mut state, caller, 30) {
        return reply;
    }
    let Some(body) = body_object(req) else { return param_error("the body is not a JSON object") };
    let text = |name: &str| body.get(name).and_then(Value::as_str).map(str::to_owned);
    let (Some(sub_name), Some(api_key), Some(passphrase)) = (text("subName"), text("apiKey"), text("passphrase"))
    else {
        return param_error("subName, apiKey and passphrase are required");
    };
    let permissions = match body.get("permission").map(|p| parse_permission(p.as_str())).transpose() {
        Ok(p) => p,
        Err(reply) => return reply,
    };
    let ips = match body.get("ipWhitelist").map(|v| parse_ip_field(Some(v))).transpose() {
        Ok(ips) => ips,
        Err(reply) => return reply,
    };
    let expire = match body.get("expire").map(|v| parse_expire(Some(v))).transpose() {
        Ok(expire) => expire,
        Err(reply) => return reply,
    };
    let now = req.now;
    let key = match owned_sub_key(&mut state, caller, &sub_name, &api_key, &passphrase) {
        Ok(key) => key,
        Err(reply) => return reply,
    };
    if let Some(permissions) = permissions {
        key.permissions = permissions;
    }
    if let Some(ips) = ips {
        key.ips = ips;
    }
    if let Some(days) = expire {
        key.expires_at = days.map(|d| now + chrono::Duration::days(d));
    }
    ok(
        json!({"subName": sub_name, "apiKey": api_key, "permission": permission_field(key), "ipWhitelist": key.ips.join(",")}),
    )
}
