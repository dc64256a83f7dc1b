//! Gate APIv4 as documented: headers `KEY`, `Timestamp` (seconds, within 60 s), `SIGN` =
//! hex(HMAC-SHA512(secret, METHOD\n/api/v4/path\nquery\nhex(SHA512(body))\nTimestamp)), errors as
//! `{"label","message"}`; sub-account key paths carry the sub-account's user ID and the key.

use std::time::Duration;

use axum::http::Method;
use hmac::{Hmac, Mac};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha512};

use crate::reply::Reply;
use crate::seed::{Permission, SimExchange, SimKey};
use crate::state::{lock, Shared, SimState};
use crate::sub_keys::fresh_hex;
use crate::venue::Venue;
use crate::verify::{ip_allowed, Req};

const GATE: SimExchange = SimExchange::Gate;
/// "The gap between the Timestamp and the server time must not exceed 60 seconds."
const WINDOW_S: f64 = 60.0;
/// Simulator-only label: Gate documents none for a key that is not one of that sub-account's
/// (UNCONFIRMED). Never INVALID_KEY: that label is about the *calling* key.
pub const SUB_KEY_NOT_FOUND: &str = "SIM_SUB_KEY_NOT_FOUND";
/// Simulator-only label for a sub-account past "Each account can create 20 API keys" (the docs
/// also say 5 with separate permissions: UNCONFIRMED which; the label itself is not documented).
pub const TOO_MANY_KEYS: &str = "SIM_TOO_MANY_KEYS";
const MAX_KEYS: usize = 20;
const MAX_IPS: usize = 20;
/// Sub-account endpoints: 80 requests per 10 s per endpoint per UID.
const SUB_LIMIT: usize = 80;
const SUB_WINDOW: Duration = Duration::from_secs(10);
/// The permission groups a sub key may be given.
const GROUPS: [&str; 12] = [
    "wallet", "spot", "futures", "delivery", "earn", "custody", "options", "account", "loan", "margin", "unified",
    "copy",
];

fn error(status: u16, label: &str, message: &str) -> Reply {
    Reply::json(status, label, json!({"label": label, "message": message}))
}

fn ok(data: Value) -> Reply {
    Reply::json(200, "200", data)
}

fn rate_limited() -> Reply {
    error(429, "TOO_MANY_REQUESTS", "Too many requests")
}

fn invalid(message: &str) -> Reply {
    error(400, "INVALID_PARAM_VALUE", message)
}

/// The Gate venue.
pub(crate) struct Gate;

impl Venue for Gate {
    fn exchange(&self) -> SimExchange {
        GATE
    }

    fn prefixes(&self) -> &'static [&'static str] {
        &["/api/v4/"]
    }

    fn handle(&self, sim: &Shared, req: &Req) -> Reply {
        handle(sim, req)
    }

    fn rate_limit_reply(&self, _req: &Req) -> Reply {
        rate_limited()
    }
}

/// What a path names.
enum Route<'a> {
    Detail,
    SubAccounts,
    Keys(&'a str),
    Key(&'a str, &'a str),
    Lock(&'a str, bool),
}

fn route(path: &str) -> Option<Route<'_>> {
    let rest = path.strip_prefix("/api/v4/")?;
    let parts: Vec<&str> = rest.split('/').collect();
    Some(match parts.as_slice() {
        ["account", "detail"] => Route::Detail,
        ["sub_accounts"] => Route::SubAccounts,
        ["sub_accounts", uid, "keys"] => Route::Keys(uid),
        ["sub_accounts", uid, "keys", key] => Route::Key(uid, key),
        ["sub_accounts", uid, "lock"] => Route::Lock(uid, true),
        ["sub_accounts", uid, "unlock"] => Route::Lock(uid, false),
        _ => return None,
    })
}

fn handle(sim: &Shared, req: &Req) -> Reply {
    if req.method == Method::GET && req.path == "/api/v4/spot/time" {
        return ok(json!({"server_time": req.now_ms()}));
    }
    let Some(route) = route(&req.path) else { return Reply::not_found() };
    let caller = match authenticate(sim, req) {
        Ok(key) => key,
        Err(reply) => return reply,
    };
    let mut state = lock(sim);
    match (&req.method, route) {
        (&Method::GET, Route::Detail) => detail(&caller),
        (&Method::GET, Route::SubAccounts) => list_sub_accounts(&mut state, &caller),
        (&Method::GET, Route::Keys(uid)) => list_keys(&mut state, &caller, uid),
        (&Method::POST, Route::Keys(uid)) => create_key(&mut state, req, &caller, uid),
        (&Method::GET, Route::Key(uid, key)) => get_key(&mut state, &caller, uid, key),
        (&Method::PUT, Route::Key(uid, key)) => update_key(&mut state, req, &caller, uid, key),
        (&Method::DELETE, Route::Key(uid, key)) => delete_key(&mut state, &caller, uid, key),
        (&Method::POST, Route::Lock(uid, locked)) => lock_sub(&mut state, &caller, uid, locked),
        _ => Reply::not_found(),
    }
}

fn sha512_hex(text: &str) -> String {
    hex::encode(Sha512::digest(text.as_bytes()))
}

fn hmac_sha512_hex(secret: &str, message: &str) -> String {
    let mut mac = <Hmac<Sha512> as Mac>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(message.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The query as the official SDK signs it: decoded (`unquote_plus`), in the order sent.
fn decoded_query(query: &str) -> String {
    url::form_urlencoded::parse(query.as_bytes()).map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

/// Headers, timestamp window, key, signature, IP, locked key: in that order.
fn authenticate(sim: &Shared, req: &Req) -> Result<SimKey, Reply> {
    let missing = || error(401, "MISSING_REQUIRED_HEADER", "Missing required header: KEY, Timestamp or SIGN");
    let api_key = req.header("KEY").ok_or_else(missing)?;
    let timestamp = req.header("Timestamp").ok_or_else(missing)?;
    let sign = req.header("SIGN").ok_or_else(missing)?;
    let sent = timestamp.parse::<f64>().map_err(|_| error(401, "REQUEST_EXPIRED", "Invalid Timestamp"))?;
    if (req.now_ms() as f64 / 1000.0 - sent).abs() > WINDOW_S {
        return Err(error(401, "REQUEST_EXPIRED", "Request Timestamp is far from the server time"));
    }
    let key = lock(sim)
        .find(GATE, api_key)
        .filter(|k| !k.is_expired(req.now))
        .ok_or_else(|| error(401, "INVALID_KEY", "Invalid key provided"))?;
    let prehash = format!(
        "{}\n{}\n{}\n{}\n{timestamp}",
        req.method.as_str(),
        req.path,
        decoded_query(&req.query),
        sha512_hex(&req.body)
    );
    if sign != hmac_sha512_hex(&key.secret, &prehash) {
        return Err(error(401, "INVALID_SIGNATURE", "Signature mismatch"));
    }
    if !ip_allowed(&key, req.peer) {
        return Err(error(403, "IP_FORBIDDEN", "Request IP not in whitelist"));
    }
    if key.frozen {
        return Err(error(403, "ACCOUNT_LOCKED", "Account is locked"));
    }
    Ok(key)
}

/// `GET /account/detail`: the IP whitelist and the key's mode; no permissions, no main/sub flag.
fn detail(key: &SimKey) -> Reply {
    ok(json!({
        "user_id": key.uid.parse::<i64>().unwrap_or_default(), "ip_whitelist": key.ips, "currency_pairs": [],
        "key": {"mode": 1}, "tier": 0, "copy_trading_role": 0
    }))
}

/// The sub-account endpoints: a main account's key; the writes also a key that is not read-only.
fn main_only(state: &mut SimState, caller: &SimKey, route: &str, write: bool) -> Result<(), Reply> {
    if !caller.is_master() {
        return Err(error(403, "FORBIDDEN", "Sub-accounts cannot manage sub-accounts"));
    }
    if write && !caller.has(Permission::Trade) {
        return Err(error(403, "READ_ONLY", "API key is read-only"));
    }
    if !state.allow(route, &caller.uid, SUB_LIMIT, SUB_WINDOW) {
        return Err(rate_limited());
    }
    Ok(())
}

/// `GET /sub_accounts`.
fn list_sub_accounts(state: &mut SimState, caller: &SimKey) -> Reply {
    if let Err(reply) = main_only(state, caller, "gate:sub_accounts", false) {
        return reply;
    }
    let rows: Vec<Value> = state
        .subs_of(GATE, &caller.uid)
        .iter()
        .map(|s| {
            json!({"remark": "", "login_name": s.name, "user_id": s.uid.parse::<i64>().unwrap_or_default(),
                   "state": if s.frozen { 2 } else { 1 }, "type": 1, "create_time": 1_700_000_000})
        })
        .collect();
    ok(json!(rows))
}

fn perms_of(key: &SimKey) -> Value {
    let read_only = !key.has(Permission::Trade);
    let mut perms: Vec<Value> =
        ["spot", "futures"].iter().map(|n| json!({"name": n, "read_only": read_only})).collect();
    if key.has(Permission::Transfer) {
        perms.push(json!({"name": "wallet", "read_only": false}));
    }
    json!(perms)
}

fn key_row(key: &SimKey) -> Value {
    let created = key.created_at.map(|t| t.timestamp()).unwrap_or_default();
    json!({
        "user_id": key.uid.parse::<i64>().unwrap_or_default(), "mode": 1, "name": key.label, "perms": perms_of(key),
        "ip_whitelist": key.ips, "key": key.api_key, "state": if key.frozen { 2 } else { 1 },
        "created_at": created, "updated_at": created, "last_access": created
    })
}

/// `perms[{name, read_only}]`: known groups only; "no value will be cleared".
fn parse_perms(value: Option<&Value>) -> Result<Vec<Permission>, Reply> {
    let mut permissions = Vec::new();
    for perm in value.and_then(Value::as_array).into_iter().flatten() {
        let Some(name) = perm["name"].as_str().filter(|n| GROUPS.contains(n)) else {
            return Err(invalid("perms: unknown permission group"));
        };
        permissions.push(Permission::Read);
        if perm["read_only"].as_bool() != Some(true) {
            permissions.push(if name == "wallet" { Permission::Transfer } else { Permission::Trade });
        }
    }
    permissions.sort_by_key(|p| *p as u8);
    permissions.dedup();
    Ok(permissions)
}

/// `ip_whitelist`: a list of IP addresses, at most 20; "cleared if no value is passed".
fn parse_ip_list(value: Option<&Value>) -> Result<Vec<String>, Reply> {
    let Some(list) = value else { return Ok(Vec::new()) };
    let items = list.as_array().ok_or_else(|| invalid("ip_whitelist is a list"))?;
    let ips: Vec<String> = items.iter().filter_map(Value::as_str).map(|s| s.trim().to_owned()).collect();
    if ips.len() != items.len() || ips.iter().any(|ip| ip.parse::<std::net::IpAddr>().is_err()) {
        return Err(invalid("ip_whitelist holds an entry that is not an IP address"));
    }
    if ips.len() > MAX_IPS {
        return Err(invalid("at most 20 IP addresses per key"));
    }
    Ok(ips)
}

fn body_object(req: &Req) -> Option<Map<String, Value>> {
    serde_json::from_str::<Value>(&req.body).ok()?.as_object().cloned()
}

/// The caller's sub-account with this user ID.
fn owned_sub(state: &SimState, caller: &SimKey, uid: &str) -> Result<crate::seed::SimSubAccount, Reply> {
    state
        .sub_of(GATE, &caller.uid, |s| s.uid == uid)
        .ok_or_else(|| error(400, "SUB_ACCOUNT_NOT_FOUND", "Sub account not found"))
}

fn sub_keys<'a>(state: &'a SimState, caller: &SimKey, uid: &str) -> Vec<&'a SimKey> {
    state
        .keys
        .iter()
        .filter(|k| {
            k.exchange == GATE
                && k.parent_uid.as_deref() == Some(caller.uid.as_str())
                && k.sub_account.as_deref() == Some(uid)
        })
        .collect()
}

/// `GET /sub_accounts/{user_id}/keys`: never the secret.
fn list_keys(state: &mut SimState, caller: &SimKey, uid: &str) -> Reply {
    if let Err(reply) =
        main_only(state, caller, "gate:keys:get", false).and_then(|_| owned_sub(state, caller, uid).map(|_| ()))
    {
        return reply;
    }
    ok(json!(sub_keys(state, caller, uid).into_iter().map(key_row).collect::<Vec<_>>()))
}

/// `POST /sub_accounts/{user_id}/keys`: the answer is the only one that carries the secret.
fn create_key(state: &mut SimState, req: &Req, caller: &SimKey, uid: &str) -> Reply {
    if let Err(reply) = main_only(state, caller, "gate:keys:post", true) {
        return reply;
    }
    let sub = match owned_sub(state, caller, uid) {
        Ok(sub) => sub,
        Err(reply) => return reply,
    };
    let Some(body) = body_object(req) else { return invalid("the body is not a JSON object") };
    if !matches!(body.get("mode").and_then(Value::as_i64), None | Some(1 | 2)) {
        return invalid("mode is 1 (classic) or 2 (portfolio)");
    }
    let permissions = match parse_perms(body.get("perms")) {
        Ok(p) if !p.is_empty() => p,
        Ok(_) => return invalid("perms is required"),
        Err(reply) => return reply,
    };
    let ips = match parse_ip_list(body.get("ip_whitelist")) {
        Ok(ips) => ips,
        Err(reply) => return reply,
    };
    if sub_keys(state, caller, uid).len() >= MAX_KEYS {
        return error(400, TOO_MANY_KEYS, "Simulator: this sub-account holds 20 keys (the label is not Gate's)");
    }
    let api_key = fresh_hex(state, "gate-key")[..32].to_owned();
    let secret = fresh_hex(state, "gate-secret");
    let key = SimKey {
        exchange: GATE,
        api_key,
        secret: secret.clone(),
        passphrase: None,
        label: body.get("name").and_then(Value::as_str).unwrap_or_default().to_owned(),
        permissions,
        ips,
        uid: sub.uid.clone(),
        parent_uid: Some(caller.uid.clone()),
        sub_account: Some(sub.uid.clone()),
        created_at: Some(req.now),
        expires_at: None,
        expires_in_days: None,
        demo: false,
        frozen: false,
    };
    let mut row = key_row(&key);
    row["secret"] = json!(secret);
    state.keys.push(key);
    ok(row)
}

fn owned_key<'a>(state: &'a mut SimState, caller: &SimKey, uid: &str, api_key: &str) -> Result<&'a mut SimKey, Reply> {
    let caller_uid = caller.uid.clone();
    state
        .find_mut(GATE, api_key)
        .filter(|k| k.parent_uid.as_deref() == Some(caller_uid.as_str()) && k.sub_account.as_deref() == Some(uid))
        .ok_or_else(|| {
            error(
                404,
                SUB_KEY_NOT_FOUND,
                "Simulator: no such key in this sub-account (Gate documents no label for this)",
            )
        })
}

/// `GET /sub_accounts/{user_id}/keys/{key}`.
fn get_key(state: &mut SimState, caller: &SimKey, uid: &str, api_key: &str) -> Reply {
    if let Err(reply) = main_only(state, caller, "gate:key:get", false) {
        return reply;
    }
    match owned_key(state, caller, uid, api_key) {
        Ok(key) => ok(key_row(key)),
        Err(reply) => reply,
    }
}

/// `PUT /sub_accounts/{user_id}/keys/{key}`: `perms` and `ip_whitelist` are set to what is sent,
/// and each is cleared when left out; `name` is kept when left out (UNCONFIRMED).
fn update_key(state: &mut SimState, req: &Req, caller: &SimKey, uid: &str, api_key: &str) -> Reply {
    if let Err(reply) = main_only(state, caller, "gate:key:put", true) {
        return reply;
    }
    let Some(body) = body_object(req) else { return invalid("the body is not a JSON object") };
    let (permissions, ips) = match (parse_perms(body.get("perms")), parse_ip_list(body.get("ip_whitelist"))) {
        (Ok(p), Ok(ips)) => (p, ips),
        (Err(reply), _) | (_, Err(reply)) => return reply,
    };
    let key = match owned_key(state, caller, uid, api_key) {
        Ok(key) => key,
        Err(reply) => return reply,
    };
    key.permissions = permissions;
    key.ips = ips;
    if let Some(name) = body.get("name").and_then(Value::as_str) {
        key.label = name.to_owned();
    }
    Reply::raw(204, "204", "", "application/json")
}

/// `DELETE /sub_accounts/{user_id}/keys/{key}` → 204.
fn delete_key(state: &mut SimState, caller: &SimKey, uid: &str, api_key: &str) -> Reply {
    if let Err(reply) = main_only(state, caller, "gate:key:delete", true) {
        return reply;
    }
    if let Err(reply) = owned_key(state, caller, uid, api_key) {
        return reply;
    }
    state.remove(GATE, api_key);
    Reply::raw(204, "204", "", "application/json")
}

/// `POST /sub_accounts/{user_id}/lock|unlock` → 204: a locked sub-account's keys are refused.
fn lock_sub(state: &mut SimState, caller: &SimKey, uid: &str, locked: bool) -> Reply {
    if let Err(reply) =
        main_only(state, caller, "gate:lock", true).and_then(|_| owned_sub(state, caller, uid).map(|_| ()))
    {
        return reply;
    }
    for sub in state.sub_accounts.iter_mut().filter(|s| s.exchange == GATE && s.uid == uid) {
        sub.frozen = locked;
    }
    for key in state.keys.iter_mut().filter(|k| k.exchange == GATE && k.sub_account.as_deref() == Some(uid)) {
        key.frozen = locked;
    }
    Reply::raw(204, "204", "", "application/json")
}
