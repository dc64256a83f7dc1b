//! Deribit v2 as documented: JSON-RPC over HTTP GET, `Authorization: deri-hmac-sha256
//! id=…,ts=…,sig=…,nonce=…` with sig = hex(HMAC-SHA256(secret, ts\nnonce\nGET\nURI\nbody\n)), ts
//! within 60 s. `private/list_api_keys` (scope account:read) lists the account's keys;
//! `private/remove_api_key`, `private/disable_api_key` and `private/edit_api_key`
//! (account:read_write) act on any of them, the caller's own included; `private/create_api_key`
//! makes one in the caller's account (no IP whitelist: the edit sets it). An account with security keys (the simulator's convention: a uid
//! ending in `-2fa`) answers those with a challenge until `authorization_data` and the
//! `challenge` come back.

use std::collections::HashMap;

use axum::http::Method;
use serde_json::{json, Value};

use crate::reply::Reply;
use crate::seed::{Permission, SimExchange, SimKey};
use crate::state::{lock, Shared};
use crate::sub_keys::fresh_hex;
use crate::venue::Venue;
use crate::verify::{hmac_sha256, ip_allowed, Req};

const DERIBIT: SimExchange = SimExchange::Deribit;
const WINDOW_MS: i64 = 60_000;
/// The simulator's authenticator: the code its 2FA accounts accept.
pub const SIM_TFA_CODE: &str = "000000";

fn error(status: u16, code: i64, message: &str) -> Reply {
    Reply::json(status, code.to_string(), json!({"jsonrpc": "2.0", "error": {"code": code, "message": message}}))
}

fn ok(result: Value) -> Reply {
    Reply::json(200, "ok", json!({"jsonrpc": "2.0", "result": result, "testnet": false}))
}

/// The Deribit venue.
pub(crate) struct Deribit;

impl Venue for Deribit {
    fn exchange(&self) -> SimExchange {
        DERIBIT
    }

    fn prefixes(&self) -> &'static [&'static str] {
        &["/api/v2/private/", "/api/v2/public/get_time"]
    }

    fn handle(&self, sim: &Shared, req: &Req) -> Reply {
        if req.method != Method::GET {
            return Reply::not_found();
        }
        if req.path == "/api/v2/public/get_time" {
            return ok(json!(req.now_ms()));
        }
        let key = match authenticate(sim, req) {
            Ok(key) => key,
            Err(reply) => return reply,
        };
        let params: HashMap<String, String> =
            url::form_urlencoded::parse(req.query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        match req.path.as_str() {
            "/api/v2/private/list_api_keys" => with_tfa(sim, &key, &params, list_api_keys),
            "/api/v2/private/remove_api_key" => with_tfa(sim, &key, &params, remove_api_key),
            "/api/v2/private/disable_api_key" => with_tfa(sim, &key, &params, disable_api_key),
            "/api/v2/private/create_api_key" => with_tfa(sim, &key, &params, create_api_key),
            "/api/v2/private/edit_api_key" => with_tfa(sim, &key, &params, edit_api_key),
            _ => Reply::not_found(),
        }
    }

    fn rate_limit_reply(&self, _req: &Req) -> Reply {
        error(429, 10028, "too_many_requests")
    }
}

/// `id=…,ts=…,sig=…,nonce=…` after the scheme name.
fn authorization(req: &Req) -> Option<HashMap<String, String>> {
    let value = req.header("Authorization")?.strip_prefix("deri-hmac-sha256 ")?;
    Some(value.split(',').filter_map(|part| part.split_once('=')).map(|(k, v)| (k.to_owned(), v.to_owned())).collect())
}

/// Credentials, timestamp window, signature, a nonce not seen with this ts, then the IP whitelist.
fn authenticate(sim: &Shared, req: &Req) -> Result<SimKey, Reply> {
    let unauthorized = || error(400, 13009, "unauthorized");
    let auth = authorization(req).ok_or_else(unauthorized)?;
    let (Some(id), Some(ts), Some(sig), Some(nonce)) =
        (auth.get("id"), auth.get("ts"), auth.get("sig"), auth.get("nonce"))
    else {
        return Err(unauthorized());
    };
    let key = lock(sim).find(DERIBIT, id).ok_or_else(|| error(400, 13004, "invalid_credentials"))?;
    let sent_at: i64 = ts.parse().map_err(|_| unauthorized())?;
    if (req.now_ms() - sent_at).abs() > WINDOW_MS {
        return Err(unauthorized());
    }
    let uri = if req.query.is_empty() { req.path.clone() } else { format!("{}?{}", req.path, req.query) };
    let string_to_sign = format!("{ts}\n{nonce}\n{}\n{uri}\n{}\n", req.method.as_str(), req.body);
    if hex::encode(hmac_sha256(&key.secret, &string_to_sign)) != *sig {
        return Err(unauthorized());
    }
    {
        let mut state = lock(sim);
        let seen = state.nonces.entry((DERIBIT, format!("{id}/{ts}/{nonce}"))).or_insert(0);
        if *seen > 0 {
            return Err(unauthorized());
        }
        *seen = 1;
    }
    // A disabled key's answer is UNCONFIRMED: never the invalid-credentials code, which Latchkey
    // takes as proof that a key is gone (a disabled key can be enabled again).
    if key.frozen {
        return Err(error(400, 13021, "forbidden"));
    }
    // The IP refusal's code is UNCONFIRMED: the simulator answers 13021 forbidden.
    if !ip_allowed(&key, req.peer) {
        return Err(error(400, 13021, "forbidden"));
    }
    Ok(key)
}

fn max_scope(key: &SimKey) -> String {
    let trade = if key.has(Permission::Trade) { "read_write" } else { "read" };
    let (wallet, account) = if key.has(Permission::Withdraw) { ("read_write", "read_write") } else { ("read", "read") };
    format!("account:{account} trade:{trade} wallet:{wallet} block_trade:read")
}

/// "TFA required": an account with security keys answers with a challenge first.
fn with_tfa(
    sim: &Shared,
    key: &SimKey,
    params: &HashMap<String, String>,
    action: fn(&Shared, &SimKey, &HashMap<String, String>) -> Reply,
) -> Reply {
    if key.uid.ends_with("-2fa") {
        let challenge = format!("challenge-{}", key.api_key);
        let answered = params.get("authorization_data").map(String::as_str) == Some(SIM_TFA_CODE)
            && params.get("challenge") == Some(&challenge);
        if !answered {
            return ok(json!({
                "security_key_authorization_required": true, "challenge": challenge, "rp_id": "deribit.com",
                "security_keys": [{"type": "tfa", "name": "tfa"}]
            }));
        }
    }
    action(sim, key, params)
}

fn row(key: &SimKey, id: usize) -> Value {
    json!({
        "id": id, "client_id": key.api_key, "name": key.label, "max_scope": max_scope(key), "enabled": !key.frozen,
        "ip_whitelist": key.ips, "timestamp": key.created_at.map(|t| t.timestamp_millis()).unwrap_or_default(),
        "enabled_features": [], "public_key": "", "default": false
    })
}

/// The account's keys (the caller's uid), numbered by their place in the key store.
/// The account's keys with their ids. A key's id is fixed for its life, as Deribit's are (not its
/// place in the store: keys of other exchanges deleted meanwhile would shift it, and a remove
/// between a listing and its `remove_api_key` would name another key).
fn account_keys(sim: &Shared, key: &SimKey) -> Vec<(usize, SimKey)> {
    let state = lock(sim);
    state.keys.iter().filter(|k| k.exchange == DERIBIT && k.uid == key.uid).map(|k| (key_id(k), k.clone())).collect()
}

/// Deribit's client ids are 8 hex digits: the id is that number (a stand-in for the exchange's own).
fn key_id(key: &SimKey) -> usize {
    usize::from_str_radix(&key.api_key, 16)
        .unwrap_or_else(|_| key.api_key.bytes().fold(7usize, |h, b| h.wrapping_mul(31).wrapping_add(usize::from(b))))
}

fn list_api_keys(sim: &Shared, key: &SimKey, _params: &HashMap<String, String>) -> Reply {
    let rows: Vec<Value> = account_keys(sim, key).iter().map(|(id, k)| row(k, *id)).collect();
    ok(json!(rows))
}

/// The account's key named by `id`, if the caller may change it (account:read_write).
fn target(sim: &Shared, key: &SimKey, params: &HashMap<String, String>) -> Result<SimKey, Reply> {
    if !key.has(Permission::Withdraw) {
        return Err(error(400, 13403, "scope_exceeded"));
    }
    let id: usize = params.get("id").and_then(|id| id.parse().ok()).ok_or_else(|| error(400, 11050, "bad_request"))?;
    account_keys(sim, key)
        .into_iter()
        .find(|(i, _)| *i == id)
        .map(|(_, k)| k)
        .ok_or_else(|| error(400, 11050, "bad_request"))
}

fn remove_api_key(sim: &Shared, key: &SimKey, params: &HashMap<String, String>) -> Reply {
    match target(sim, key, params) {
        Ok(target) => {
            lock(sim).remove(DERIBIT, &target.api_key);
            ok(json!("ok"))
        }
        Err(reply) => reply,
    }
}

fn disable_api_key(sim: &Shared, key: &SimKey, params: &HashMap<String, String>) -> Reply {
    match target(sim, key, params) {
        Ok(target) => {
            let mut state = lock(sim);
            let Some(k) = state.find_mut(DERIBIT, &target.api_key) else { return error(400, 11050, "bad_request") };
            k.frozen = true;
            let answer = row(k, params.get("id").and_then(|i| i.parse().ok()).unwrap_or_default());
            ok(answer)
        }
        Err(reply) => reply,
    }
}

/// `max_scope` as Deribit takes it, space-separated `area:access` pairs: the simulator's
/// permissions (account or wallet read_write count as Withdraw: such a key withdraws or makes keys
/// that do). `None`: a pair Deribit would refuse.
fn scope_permissions(max_scope: &str) -> Option<Vec<Permission>> {
    let mut permissions = vec![Permission::Read];
    for pair in max_scope.split_whitespace() {
        let (area, access) = pair.split_once(':')?;
        if !matches!(area, "account" | "trade" | "wallet" | "block_trade" | "block_rfq")
            || !matches!(access, "none" | "read" | "read_write")
        {
            return None;
        }
        match (area, access) {
            ("trade", "read_write") => permissions.push(Permission::Trade),
            ("account" | "wallet", "read_write") => permissions.push(Permission::Withdraw),
            _ => {}
        }
    }
    permissions.dedup();
    Some(permissions)
}

/// "only letters, numbers and underscores allowed; maximum length - 16 characters".
fn name_ok(name: &str) -> bool {
    name.len() <= 16 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn create_api_key(sim: &Shared, key: &SimKey, params: &HashMap<String, String>) -> Reply {
    if !key.has(Permission::Withdraw) {
        return error(400, 13403, "scope_exceeded");
    }
    let Some(permissions) = params.get("max_scope").and_then(|s| scope_permissions(s)) else {
        return error(400, -32602, "Invalid params");
    };
    let name = params.get("name").cloned().unwrap_or_default();
    if !name_ok(&name) {
        return error(400, -32602, "Invalid params");
    }
    let mut state = lock(sim);
    // 8 hex digits and 43 URL-safe characters, as Deribit's client ids and secrets look.
    let client_id = fresh_hex(&mut state, "deribit-id")[..8].to_owned();
    let secret = fresh_hex(&mut state, "deribit-secret")[..43].to_owned();
    let created = SimKey {
        exchange: DERIBIT,
        api_key: client_id,
        secret: secret.clone(),
        passphrase: None,
        label: name,
        permissions,
        ips: Vec::new(),
        uid: key.uid.clone(),
        parent_uid: key.parent_uid.clone(),
        sub_account: key.sub_account.clone(),
        created_at: Some(chrono::Utc::now()),
        expires_at: None,
        expires_in_days: None,
        demo: key.demo,
        frozen: false,
    };
    let mut answer = row(&created, key_id(&created));
    answer["client_secret"] = json!(secret);
    state.keys.push(created);
    ok(answer)
}

/// `id` and `max_scope` (required: what it leaves out becomes none), `name`, `ip_whitelist` as a
/// JSON array; the list given replaces the key's.
fn edit_api_key(sim: &Shared, key: &SimKey, params: &HashMap<String, String>) -> Reply {
    let target = match target(sim, key, params) {
        Ok(target) => target,
        Err(reply) => return reply,
    };
    let Some(permissions) = params.get("max_scope").and_then(|s| scope_permissions(s)) else {
        return error(400, -32602, "Invalid params");
    };
    let ips = match params.get("ip_whitelist").map(|list| serde_json::from_str::<Vec<String>>(list)) {
        None => None,
        Some(Ok(ips)) if ips.iter().all(|ip| ip.parse::<std::net::IpAddr>().is_ok()) => Some(ips),
        Some(_) => return error(400, -32602, "Invalid params"),
    };
    if params.get("name").is_some_and(|n| !name_ok(n)) {
        return error(400, -32602, "Invalid params");
    }
    let mut state = lock(sim);
    let Some(k) = state.find_mut(DERIBIT, &target.api_key) else { return error(400, 11050, "bad_request") };
    k.permissions = permissions;
    if let Some(ips) = ips {
        k.ips = ips;
    }
    if let Some(name) = params.get("name") {
        k.label = name.clone();
    }
    let answer = row(k, key_id(k));
    ok(answer)
}
