//! Bitget v2 as documented: `ACCESS-*` headers, ms timestamps, the passphrase as typed,
//! Base64(HMAC-SHA256(secret, timestamp + METHOD + requestPath[?query] + body)); demo keys only
//! with `paptrading: 1`. A main-account key bound to IPs lists its virtual sub-accounts and
//! creates, lists and modifies their keys; there is no delete (none is documented).

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use axum::http::Method;
use base64::Engine as _;
use serde_json::{json, Value};

use crate::reply::Reply;
use crate::seed::{Permission, SimExchange, SimKey};
use crate::state::{lock, Shared};
use crate::sub_keys::fresh_hex;
use crate::venue::Venue;
use crate::verify::{hmac_sha256, ip_allowed, Req};

const BITGET: SimExchange = SimExchange::Bitget;
/// The window is UNCONFIRMED (40008 "Request timestamp expired" exists); 30 s is what clients
/// commonly assume, so the simulator holds them to it.
const EXPIRY_MS: i64 = 30_000;
/// Simulator-only code: Bitget documents none for "that sub-account is not yours" or "no such
/// key in it" (UNCONFIRMED). Never 40037: that code is about the calling key.
pub const NOT_YOURS: &str = "-13001";
/// Simulator-only code for the documented cap: "Every sub-account can create up to 10 API Key".
pub const TOO_MANY_KEYS: &str = "-13003";
const MAX_IPS: usize = 30;
const MAX_KEYS: usize = 10;

fn error(status: u16, code: &str, msg: &str) -> Reply {
    Reply::json(status, code, json!({"code": code, "msg": msg, "requestTime": 0, "data": null}))
}

fn ok(data: Value) -> Reply {
    Reply::json(200, "00000", json!({"code": "00000", "msg": "success", "requestTime": 0, "data": data}))
}

fn rate_limited() -> Reply {
    error(429, "429", "Too Many Requests").with_header("retry-after", "1")
}

fn param_error(name: &str) -> Reply {
    error(400, "40034", &format!("Parameter {name} error"))
}

/// The Bitget venue.
pub(crate) struct Bitget;

impl Venue for Bitget {
    fn exchange(&self) -> SimExchange {
        BITGET
    }

    fn prefixes(&self) -> &'static [&'static str] {
        &["/api/v2/spot/", "/api/v2/user/", "/api/v2/public/"]
    }

    fn handle(&self, sim: &Shared, req: &Req) -> Reply {
        let action: fn(&Shared, &Req, &SimKey) -> Reply = match (&req.method, req.path.as_str()) {
            (&Method::GET, "/api/v2/public/time") => return ok(json!({"serverTime": req.now_ms().to_string()})),
            (&Method::GET, "/api/v2/spot/account/info") => account_info,
            (&Method::GET, "/api/v2/user/virtual-subaccount-list") => list_sub_accounts,
            (&Method::GET, "/api/v2/user/virtual-subaccount-apikey-list") => list_sub_keys,
            (&Method::POST, "/api/v2/user/create-virtual-subaccount-apikey") => create_sub_key,
            (&Method::POST, "/api/v2/user/modify-virtual-subaccount-apikey") => modify_sub_key,
            _ => return Reply::not_found(),
        };
        match authenticate(sim, req) {
            Ok(key) => action(sim, req, &key),
            Err(reply) => reply,
        }
    }

    fn rate_limit_reply(&self, _req: &Req) -> Reply {
        rate_limited()
    }
}

/// Headers, timestamp, key (and its environment), passphrase, signature, then IP.
fn authenticate(sim: &Shared, req: &Req) -> Result<SimKey, Reply> {
    let header = |name| req.header(name).ok_or_else(|| error(400, "40001", &format!("{name} is empty")));
    let api_key = header("ACCESS-KEY")?;
    let sign = header("ACCESS-SIGN")?;
    let timestamp = header("ACCESS-TIMESTAMP")?;
    let passphrase = header("ACCESS-PASSPHRASE")?;
    let sent_at: i64 = timestamp.parse().map_err(|_| error(400, "40005", "Invalid ACCESS_TIMESTAMP"))?;
    if (req.now_ms() - sent_at).abs() > EXPIRY_MS {
        return Err(error(400, "40008", "Request timestamp expired"));
    }
    let key = {
        let state = lock(sim);
        match state.find(BITGET, api_key) {
            Some(key) => key,
            None if state.was_deleted(BITGET, api_key) => return Err(error(400, "40037", "Apikey does not exist")),
            None => return Err(error(400, "40006", "Invalid ACCESS_KEY")),
        }
    };
    // A demo key on live or a live key on demo: Bitget's answer is UNCONFIRMED; the key is not
    // one of that environment's, so the simulator says it does not know it.
    if (req.header("paptrading") == Some("1")) != key.demo {
        return Err(error(400, "40006", "Invalid ACCESS_KEY"));
    }
    if key.passphrase.as_deref() != Some(passphrase) {
        return Err(error(400, "40036", "Passphrase error"));
    }
    let request_path = if req.query.is_empty() { req.path.clone() } else { format!("{}?{}", req.path, req.query) };
    let prehash = format!("{timestamp}{}{request_path}{}", req.method.as_str(), req.body);
    if base64::engine::general_purpose::STANDARD.encode(hmac_sha256(&key.secret, &prehash)) != sign {
        return Err(error(400, "40009", "sign signature error"));
    }
    if !ip_allowed(&key, req.peer) {
        return Err(error(400, "40038", "current ip is not in the apikey ip whitelist"));
    }
    Ok(key)
}

fn authorities(key: &SimKey) -> Vec<&'static str> {
    let mut codes = vec!["coor", "cpor", "stor", "smor", "wtor"];
    if key.has(Permission::Trade) {
        codes.extend(["coow", "cpow", "stow", "smow"]);
    }
    if key.has(Permission::Transfer) {
        codes.push("wtow");
    }
    if key.has(Permission::Withdraw) {
        codes.push("wwow");
    }
    codes
}

/// 1 request/s per UID.
fn account_info(sim: &Shared, _req: &Req, key: &SimKey) -> Reply {
    if !lock(sim).allow("bitget:account/info", &key.uid, 1, Duration::from_secs(1)) {
        return rate_limited();
    }
    let parent: i64 = key.parent_uid.as_deref().unwrap_or(&key.uid).parse().unwrap_or_default();
    ok(json!({
        "userId": key.uid, "inviterId": "0", "ips": key.ips.join(","), "authorities": authorities(key),
        "parentId": parent, "traderType": "not_trader", "channelCode": "", "channel": "", "regisTime": "1653287983475"
    }))
}

/// "Only supports API Key calls from the main account, and the API Key needs to be bound to an IP
/// address" (the key endpoints); the sub-account list asks only for the main account. The code
/// for either refusal is UNCONFIRMED: the simulator answers 40014, "Incorrect permissions".
fn main_account(caller: &SimKey, ip_bound: bool) -> Result<(), Reply> {
    if !caller.is_master() {
        return Err(error(400, "40014", "Incorrect permissions: main account only"));
    }
    if ip_bound && caller.ips.is_empty() {
        return Err(error(400, "40014", "Incorrect permissions: the API key must be bound to an IP address"));
    }
    Ok(())
}

fn query_params(req: &Req) -> HashMap<String, String> {
    url::form_urlencoded::parse(req.query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

/// `GET /api/v2/user/virtual-subaccount-list`: 1 request/s.
fn list_sub_accounts(sim: &Shared, _req: &Req, caller: &SimKey) -> Reply {
    if let Err(reply) = main_account(caller, false) {
        return reply;
    }
    let mut state = lock(sim);
    if !state.allow("bitget:virtual-subaccount-list", &caller.uid, 1, Duration::from_secs(1)) {
        return rate_limited();
    }
    let rows: Vec<Value> = state
        .subs_of(BITGET, &caller.uid)
        .into_iter()
        .map(|s| {
            json!({
                "subAccountUid": s.uid, "subAccountName": s.name, "status": if s.frozen { "freeze" } else { "normal" },
                "permList": ["read", "spot_trade", "contract_trade"], "label": "", "cTime": "1653287983475",
                "uTime": "1682660169573"
            })
        })
        .collect();
    ok(json!({"endId": rows.len(), "subAccountList": rows}))
}

fn perm_list(key: &SimKey) -> Vec<&'static str> {
    let mut list = Vec::new();
    if key.has(Permission::Read) {
        list.push("read");
    }
    if key.has(Permission::Trade) {
        list.extend(["spot_trade", "contract_trade"]);
    }
    if key.has(Permission::Transfer) {
        list.push("transfer");
    }
    list
}

fn key_row(key: &SimKey) -> Value {
    json!({
        "subAccountUid": key.sub_account, "label": key.label, "subAccountApiKey": key.api_key,
        "permList": perm_list(key), "ipList": key.ips
    })
}

/// `GET /api/v2/user/virtual-subaccount-apikey-list`: 5 requests/s; never the secret.
fn list_sub_keys(sim: &Shared, req: &Req, caller: &SimKey) -> Reply {
    if let Err(reply) = main_account(caller, true) {
        return reply;
    }
    let mut state = lock(sim);
    if !state.allow("bitget:apikey-list", &caller.uid, 5, Duration::from_secs(1)) {
        return rate_limited();
    }
    let Some(sub) = query_params(req).get("subAccountUid").cloned() else { return param_error("subAccountUid") };
    if state.sub_of(BITGET, &caller.uid, |s| s.uid == sub).is_none() {
        return error(400, NOT_YOURS, "Simulator: no such sub-account of this main account");
    }
    let rows: Vec<Value> = state.snapshot().sub_keys(&caller.uid, &sub).into_iter().map(key_row).collect();
    ok(json!(rows))
}

/// `permList`: the documented names; `None` for any other.
fn parse_perm_list(value: &Value) -> Option<Vec<Permission>> {
    let mut permissions = Vec::new();
    for name in value.as_array()? {
        match name.as_str()? {
            "read" => permissions.push(Permission::Read),
            "spot_trade" | "margin_trade" | "contract_trade" => permissions.push(Permission::Trade),
            "transfer" => permissions.push(Permission::Transfer),
            _ => return None,
        }
    }
    permissions.dedup();
    Some(permissions)
}

/// `ipList`: at most 30 IP addresses; left out, the whitelist is empty.
fn parse_ip_list(value: &Value) -> Option<Vec<String>> {
    if value.is_null() {
        return Some(Vec::new());
    }
    let ips: Option<Vec<String>> = value
        .as_array()?
        .iter()
        .map(|ip| ip.as_str().filter(|s| s.parse::<IpAddr>().is_ok()).map(str::to_owned))
        .collect();
    ips.filter(|ips| ips.len() <= MAX_IPS)
}

/// "Passcode English letters of 8-32 characters + numbers".
fn passphrase_ok(passphrase: &str) -> bool {
    (8..=32).contains(&passphrase.len()) && passphrase.chars().all(|c| c.is_ascii_alphanumeric())
}

fn body_of(req: &Req) -> Value {
    serde_json::from_str(&req.body).unwrap_or(Value::Null)
}

/// `POST /api/v2/user/create-virtual-subaccount-apikey`: 5/s; the answer is the only one with
/// the secret.
fn create_sub_key(sim: &Shared, req: &Req, caller: &SimKey) -> Reply {
    if let Err(reply) = main_account(caller, true) {
        return reply;
    }
    let mut state = lock(sim);
    if !state.allow("bitget:apikey-write", &caller.uid, 5, Duration::from_secs(1)) {
        return rate_limited();
    }
    let body = body_of(req);
    let Some(sub) = body["subAccountUid"].as_str().map(str::to_owned) else { return param_error("subAccountUid") };
    let Some(passphrase) = body["passphrase"].as_str().filter(|p| passphrase_ok(p)).map(str::to_owned) else {
        return param_error("passphrase");
    };
    let Some(label) = body["label"].as_str().filter(|l| !l.is_empty() && l.chars().count() <= 20) else {
        return param_error("label");
    };
    let none = json!([]);
    let Some(permissions) = parse_perm_list(if body["permList"].is_null() { &none } else { &body["permList"] }) else {
        return param_error("permList");
    };
    let Some(ips) = parse_ip_list(&body["ipList"]) else { return param_error("ipList") };
    if state.sub_of(BITGET, &caller.uid, |s| s.uid == sub).is_none() {
        return error(400, NOT_YOURS, "Simulator: no such sub-account of this main account");
    }
    if state.snapshot().sub_keys(&caller.uid, &sub).len() >= MAX_KEYS {
        return error(400, TOO_MANY_KEYS, "Simulator: a sub-account holds at most 10 API keys");
    }
    let api_key = format!("bg_{}", &fresh_hex(&mut state, "bitget-key")[..32]);
    let secret = fresh_hex(&mut state, "bitget-secret");
    let key = SimKey {
        exchange: BITGET,
        api_key,
        secret,
        passphrase: Some(passphrase),
        label: label.to_owned(),
        permissions,
        ips,
        uid: sub.clone(),
        parent_uid: Some(caller.uid.clone()),
        sub_account: Some(sub),
        created_at: Some(req.now),
        expires_at: None,
        expires_in_days: None,
        demo: false,
        frozen: false,
    };
    let mut answer = key_row(&key);
    answer["secretKey"] = json!(key.secret);
    state.keys.push(key);
    ok(answer)
}

/// `POST /api/v2/user/modify-virtual-subaccount-apikey`: `label` and `passphrase` required (the
/// simulator holds the passphrase to the key's own: whether Bitget checks or sets it is
/// UNCONFIRMED), `ipList` left out empties the whitelist, `permList` left out keeps the
/// permissions and empty removes them.
fn modify_sub_key(sim: &Shared, req: &Req, caller: &SimKey) -> Reply {
    if let Err(reply) = main_account(caller, true) {
        return reply;
    }
    let mut state = lock(sim);
    if !state.allow("bitget:apikey-write", &caller.uid, 5, Duration::from_secs(1)) {
        return rate_limited();
    }
    let body = body_of(req);
    let (Some(sub), Some(api_key)) = (body["subAccountUid"].as_str(), body["subAccountApiKey"].as_str()) else {
        return param_error("subAccountUid");
    };
    let Some(label) = body["label"].as_str().filter(|l| !l.is_empty() && l.chars().count() <= 20) else {
        return param_error("label");
    };
    let Some(passphrase) = body["passphrase"].as_str() else { return param_error("passphrase") };
    let permissions = match &body["permList"] {
        Value::Null => None,
        list => match parse_perm_list(list) {
            Some(p) => Some(p),
            None => return param_error("permList"),
        },
    };
    let Some(ips) = parse_ip_list(&body["ipList"]) else { return param_error("ipList") };
    let caller_uid = caller.uid.clone();
    let Some(key) = state
        .find_mut(BITGET, api_key)
        .filter(|k| k.parent_uid.as_deref() == Some(caller_uid.as_str()) && k.sub_account.as_deref() == Some(sub))
    else {
        return error(400, NOT_YOURS, "Simulator: no such key in this sub-account");
    };
    if key.passphrase.as_deref() != Some(passphrase) {
        return error(400, "40036", "Passphrase error");
    }
    key.label = label.to_owned();
    key.ips = ips;
    if let Some(permissions) = permissions {
        key.permissions = permissions;
    }
    let mut answer = key_row(key);
    answer["secretKey"] = json!("");
    ok(answer)
}
