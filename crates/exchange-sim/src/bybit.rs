//! Bybit v5 as documented: `X-BAPI-*` headers, `server − recvWindow ≤ timestamp < server + 1000`,
//! lowercase hex(HMAC-SHA256(secret, timestamp + apiKey + recvWindow + queryString|jsonBody)).

use std::time::Duration;

use axum::http::Method;
use serde_json::{json, Map, Value};

use crate::bybit_trade;
use crate::reply::Reply;
use crate::seed::{Permission, SimExchange, SimKey};
use crate::state::{lock, Shared};
use crate::sub_keys::{fresh_hex, parse_ips};
use crate::venue::Venue;
use crate::verify::{hmac_sha256, ip_allowed, Req};

const BYBIT: SimExchange = SimExchange::Bybit;
/// Simulator-only code. Bybit documents no "sub key not found" code for `delete-sub-api`
/// (UNCONFIRMED), so the simulator answers this one, which no exchange uses. Never 10003: that
/// code is about the *calling* key (and is also sent for a key used on the wrong host).
pub const SUB_KEY_NOT_FOUND: i64 = -13001;
/// Simulator-only code, for a `subuid` / `subMemberId` that is not one of the caller's
/// sub-accounts: Bybit documents none (UNCONFIRMED).
pub const SUB_ACCOUNT_NOT_FOUND: i64 = -13002;
/// Simulator-only code, for a key of a frozen sub UID: what Bybit answers it is UNCONFIRMED. Never
/// 10003 (which Latchkey takes as proof a key is gone): a frozen key comes back when unfrozen.
pub const SUB_UID_FROZEN: i64 = -13003;
const DEFAULT_RECV_WINDOW: i64 = 5000;

pub(crate) fn answer(status: u16, code: i64, msg: &str, result: Value, time: i64) -> Reply {
    Reply::json(
        status,
        code.to_string(),
        json!({"retCode": code, "retMsg": msg, "result": result, "retExtInfo": {}, "time": time}),
    )
}

pub(crate) fn error(req: &Req, status: u16, code: i64, msg: &str) -> Reply {
    answer(status, code, msg, json!({}), req.now_ms())
}

pub(crate) fn rate_limited(req: &Req) -> Reply {
    error(req, 200, 10006, "Too many visits. Exceeded the API Rate Limit.")
}

/// The Bybit venue.
pub(crate) struct Bybit;

impl Venue for Bybit {
    fn exchange(&self) -> SimExchange {
        BYBIT
    }

    fn prefixes(&self) -> &'static [&'static str] {
        &["/v5/"]
    }

    fn handle(&self, sim: &Shared, req: &Req) -> Reply {
        handle(sim, req)
    }

    fn rate_limit_reply(&self, req: &Req) -> Reply {
        rate_limited(req)
    }
}

fn handle(sim: &Shared, req: &Req) -> Reply {
    match (&req.method, req.path.as_str()) {
        (&Method::GET, "/v5/market/time") => {
            let ns = req.now.timestamp_nanos_opt().unwrap_or_default();
            let result = json!({"timeSecond": req.now.timestamp().to_string(), "timeNano": ns.to_string()});
            answer(200, 0, "OK", result, req.now_ms())
        }
        (&Method::GET, "/v5/user/query-api") => with_key(sim, req, query_api),
        (&Method::POST, "/v5/user/delete-api") => with_key(sim, req, delete_self),
        (&Method::POST, "/v5/user/delete-sub-api") => with_key(sim, req, delete_sub_key),
        (&Method::GET, "/v5/user/query-sub-members") => with_key(sim, req, list_sub_members),
        (&Method::POST, "/v5/user/create-sub-api") => with_key(sim, req, create_sub_key),
        (&Method::GET, "/v5/user/sub-apikeys") => with_key(sim, req, list_sub_keys),
        (&Method::POST, "/v5/user/update-sub-api") => with_key(sim, req, update_sub_key),
        (&Method::POST, "/v5/user/frozen-sub-member") => with_key(sim, req, freeze_sub_member),
        (&Method::GET, "/v5/market/instruments-info") => bybit_trade::instruments(req),
        (&Method::GET, "/v5/asset/coin/query-info") => with_key(sim, req, bybit_trade::coin_info),
        (&Method::GET, "/v5/account/info") => with_key(sim, req, bybit_trade::account_info),
        (&Method::GET, "/v5/account/wallet-balance") => with_key(sim, req, bybit_trade::wallet_balance),
        (&Method::POST, "/v5/order/create") => with_key(sim, req, bybit_trade::create_order),
        (&Method::POST, "/v5/order/cancel") => with_key(sim, req, bybit_trade::cancel_order),
        (&Method::POST, "/v5/asset/withdraw/create") => with_key(sim, req, bybit_trade::withdraw),
        (&Method::POST, "/v5/asset/transfer/inter-transfer") => with_key(sim, req, bybit_trade::inter_transfer),
        _ => Reply::not_found(),
    }
}

fn with_key(sim: &Shared, req: &Req, action: fn(&Shared, &Req, &SimKey) -> Reply) -> Reply {
    match authenticate(sim, req) {
        Ok(key) => action(sim, req, &key),
        Err(reply) => reply,
    }
}

fn authenticate(sim: &Shared, req: &Req) -> Result<SimKey, Reply> {
    let api_key = req.header("X-BAPI-API-KEY").ok_or_else(|| error(req, 401, 10003, "API key is invalid."))?;
    let sign = req.header("X-BAPI-SIGN").ok_or_else(|| error(req, 401, 10004, "error sign! origin_string[]"))?;
    let timestamp_text = req
        .header("X-BAPI-TIMESTAMP")
        .ok_or_else(|| error(req, 200, 10002, "invalid request, please check your timestamp."))?;
    let recv_window_text = req.header("X-BAPI-RECV-WINDOW").unwrap_or("5000");
    let (Ok(timestamp), Ok(recv_window)) = (timestamp_text.parse::<i64>(), recv_window_text.parse::<i64>()) else {
        return Err(error(req, 200, 10002, "invalid request, please check your server timestamp or recv_window param"));
    };
    let server = req.now_ms();
    let recv_window = if recv_window > 0 { recv_window } else { DEFAULT_RECV_WINDOW };
    if !(server - recv_window <= timestamp && timestamp < server + 1000) {
        let msg = format!("invalid request, please check your server timestamp or recv_window param. req_timestamp[{timestamp}],server_timestamp[{server}],recv_window[{recv_window}]");
        return Err(error(req, 200, 10002, &msg));
    }
    let key = lock(sim).find(BYBIT, api_key).ok_or_else(|| error(req, 401, 10003, "API key is invalid."))?;
    if key.is_expired(req.now) {
        return Err(error(req, 401, 33004, "Your api key has expired."));
    }
    let payload = if req.method == Method::GET { req.query.as_str() } else { req.body.as_str() };
    let expected =
        hex::encode(hmac_sha256(&key.secret, &format!("{timestamp_text}{api_key}{recv_window_text}{payload}")));
    if sign != expected {
        return Err(error(req, 401, 10004, "error sign! origin_string[...]"));
    }
    if !ip_allowed(&key, req.peer) {
        return Err(error(req, 401, 10010, "Unmatched IP, please check your API key's bound IP addresses."));
    }
    if key.frozen {
        return Err(error(
            req,
            200,
            SUB_UID_FROZEN,
            "Simulator: this key's sub UID is frozen (Bybit documents no code)",
        ));
    }
    Ok(key)
}

/// `POST /v5/user/frozen-sub-member` `{"subuid": …, "frozen": 0|1}`: master keys with Account
/// Transfer, Subaccount Transfer or Withdrawal only; the sub UID's keys are refused while frozen.
fn freeze_sub_member(sim: &Shared, req: &Req, caller: &SimKey) -> Reply {
    if !caller.is_master() || !(caller.has(Permission::Transfer) || caller.has(Permission::Withdraw)) {
        return error(req, 200, 10005, "Permission denied, please check your API key permissions.");
    }
    let Some(body) = body_object(req) else {
        return error(req, 200, 10001, "params error: the body is not a JSON object");
    };
    let uid =
        body.get("subuid").and_then(|v| v.as_u64().map(|n| n.to_string()).or_else(|| v.as_str().map(str::to_owned)));
    let (Some(uid), Some(frozen)) = (uid, body.get("frozen").and_then(Value::as_i64).filter(|f| *f == 0 || *f == 1))
    else {
        return error(req, 200, 10001, "params error: subuid and frozen (0 or 1) are required");
    };
    let mut state = lock(sim);
    if state.sub_of(BYBIT, &caller.uid, |s| s.uid == uid).is_none() {
        return error(req, 200, SUB_ACCOUNT_NOT_FOUND, "Simulator: no such sub UID of this master");
    }
    for sub in state.sub_accounts.iter_mut().filter(|s| s.exchange == BYBIT && s.uid == uid) {
        sub.frozen = frozen == 1;
    }
    for key in state.keys.iter_mut().filter(|k| k.exchange == BYBIT && k.uid == uid) {
        key.frozen = frozen == 1;
    }
    answer(200, 0, "", json!({}), req.now_ms())
}

fn permissions(key: &SimKey) -> Value {
    let trade = key.has(Permission::Trade);
    let list = |on: bool, items: &[&str]| if on { json!(items) } else { json!([]) };
    let mut wallet = Vec::new();
    if key.has(Permission::Transfer) {
        wallet.extend(["AccountTransfer", "SubMemberTransfer"]);
    }
    if key.has(Permission::Withdraw) {
        wallet.push("Withdraw");
    }
    json!({
        "ContractTrade": list(trade, &["Order", "Position"]), "Spot": list(trade, &["SpotTrade"]),
        "Wallet": wallet, "Options": list(trade, &["OptionsTrade"]), "Derivatives": list(trade, &["DerivativesTrade"]),
        "Exchange": ["ExchangeHistory"], "Earn": [], "BlockTrade": [], "Affiliate": [], "NFT": [], "CopyTrading": []
    })
}

fn query_api(sim: &Shared, req: &Req, key: &SimKey) -> Reply {
    if !lock(sim).allow("bybit:query-api", &key.uid, 10, Duration::from_secs(1)) {
        return rate_limited(req);
    }
    let read_only = !(key.has(Permission::Trade) || key.has(Permission::Withdraw) || key.has(Permission::Transfer));
    let expires = key
        .expires_at
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned());
    let deadline_day = key.expires_at.map(|t| (t - req.now).num_days()).unwrap_or(-2);
    let created = key.created_at.unwrap_or(req.now).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let ips: Value = if key.ips.is_empty() { json!(["*"]) } else { json!(key.ips) };
    let result = json!({
        "id": "2208369", "note": key.label, "apiKey": key.api_key, "readOnly": if read_only { 1 } else { 0 }, "secret": "",
        "permissions": permissions(key), "ips": ips, "type": 1, "deadlineDay": deadline_day, "expiredAt": expires,
        "createdAt": created, "uta": 1, "userID": key.uid.parse::<i64>().unwrap_or_default(), "isMaster": key.is_master(),
        "parentUid": key.parent_uid.clone().unwrap_or_else(|| "0".to_owned()), "kycLevel": "LEVEL_1", "kycRegion": "MYS"
    });
    answer(200, 0, "", result, req.now_ms())
}

pub(crate) fn body_object(req: &Req) -> Option<Map<String, Value>> {
    if req.body.trim().is_empty() {
        return Some(Map::new());
    }
    serde_json::from_str::<Value>(&req.body).ok()?.as_object().cloned()
}

/// Master keys only, holding Account Transfer, Subaccount Transfer or Withdrawal.
fn delete_self(sim: &Shared, req: &Req, key: &SimKey) -> Reply {
    if !lock(sim).allow("bybit:delete-api", &key.uid, 5, Duration::from_secs(1)) {
        return rate_limited(req);
    }
    if body_object(req).is_none() {
        return error(req, 200, 10001, "params error: the body is not a JSON object");
    }
    if !key.is_master() || !(key.has(Permission::Transfer) || key.has(Permission::Withdraw)) {
        return error(req, 200, 10005, "Permission denied, please check your API key permissions.");
    }
    lock(sim).remove(BYBIT, &key.api_key);
    answer(200, 0, "", json!({}), req.now_ms())
}

/// A master names the sub key in `apikey`; a sub key deletes itself and must not pass one.
fn delete_sub_key(sim: &Shared, req: &Req, caller: &SimKey) -> Reply {
    if !lock(sim).allow("bybit:delete-sub-api", &caller.uid, 5, Duration::from_secs(1)) {
        return rate_limited(req);
    }
    let Some(body) = body_object(req) else {
        return error(req, 200, 10001, "params error: the body is not a JSON object");
    };
    let named = body.get("apikey").and_then(Value::as_str).filter(|k| !k.is_empty());
    if caller.is_master() {
        let Some(target) = named else {
            return error(req, 200, 10001, "params error: apikey is required for a master key");
        };
        if !(caller.has(Permission::Transfer) || caller.has(Permission::Withdraw)) {
            return error(req, 200, 10005, "Permission denied, please check your API key permissions.");
        }
        let mut state = lock(sim);
        let owned = state.keys.iter().any(|k| {
            k.exchange == BYBIT && k.api_key == target && k.parent_uid.as_deref() == Some(caller.uid.as_str())
        });
        if !owned {
            return error(
                req,
                200,
                SUB_KEY_NOT_FOUND,
                "Simulator: no such sub key of this master (Bybit documents no code for this)",
            );
        }
        state.remove(BYBIT, target);
    } else {
        if named.is_some() {
            return error(req, 200, 10001, "params error: a sub key deleting itself must not pass apikey");
        }
        if !caller.has(Permission::Transfer) {
            return error(req, 200, 10005, "Permission denied, please check your API key permissions.");
        }
        lock(sim).remove(BYBIT, &caller.api_key);
    }
    answer(200, 0, "", json!({}), req.now_ms())
}

/// A master key holding Account Transfer, Subaccount Transfer or Withdrawal: what query-sub-members,
/// create-sub-api and (for a master) update-sub-api ask of the caller.
fn master_with_transfer(req: &Req, caller: &SimKey) -> Result<(), Reply> {
    if !caller.is_master() || !(caller.has(Permission::Transfer) || caller.has(Permission::Withdraw)) {
        return Err(error(req, 200, 10005, "Permission denied, please check your API key permissions."));
    }
    Ok(())
}

fn params_error(req: &Req, detail: &str) -> Reply {
    error(req, 200, 10001, &format!("params error: {detail}"))
}

fn no_such_sub(req: &Req) -> Reply {
    error(
        req,
        200,
        SUB_ACCOUNT_NOT_FOUND,
        "Simulator: no such sub UID of this master (Bybit documents no code for this)",
    )
}

/// `GET /v5/user/query-sub-members`.
fn list_sub_members(sim: &Shared, req: &Req, caller: &SimKey) -> Reply {
    if let Err(reply) = master_with_transfer(req, caller) {
        return reply;
    }
    let mut state = lock(sim);
    if !state.allow("bybit:query-sub-members", &caller.uid, 10, Duration::from_secs(1)) {
        return rate_limited(req);
    }
    let members: Vec<Value> = state
        .subs_of(BYBIT, &caller.uid)
        .into_iter()
        .map(|s| {
            json!({"uid": s.uid, "username": s.name, "memberType": 1, "status": if s.frozen { 4 } else { 1 },
                   "remark": "", "accountMode": 5})
        })
        .collect();
    answer(200, 0, "", json!({"subMembers": members}), req.now_ms())
}

/// `readOnly` and `permissions` as the create and update calls send them. Withdraw is never
/// granted to a sub key; Wallet holds only the two transfer entries.
fn parse_permissions(read_only: i64, permissions: &Map<String, Value>) -> Result<Vec<Permission>, String> {
    let mut granted = vec![Permission::Read];
    for (group, entries) in permissions {
        let entries: Vec<&str> = entries.as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        match group.as_str() {
            "Wallet" => {
                if entries.iter().any(|e| !["AccountTransfer", "SubMemberTransferList"].contains(e)) {
                    return Err("Wallet takes AccountTransfer and SubMemberTransferList only".to_owned());
                }
                if !entries.is_empty() && read_only == 0 {
                    granted.push(Permission::Transfer);
                }
            }
            "ContractTrade" | "Spot" | "Options" | "Derivatives" | "CopyTrading" => {
                if !entries.is_empty() && read_only == 0 {
                    granted.push(Permission::Trade);
                }
            }
            "Exchange" | "Earn" | "BlockTrade" | "NFT" | "Affiliate" => {}
            other => return Err(format!("unknown permission type {other}")),
        }
    }
    granted.dedup();
    Ok(granted)
}

/// `ips`: a comma list; absent or `*` means no binding.
fn parse_ips_field(value: Option<&Value>) -> Result<Vec<String>, String> {
    match value.and_then(Value::as_str).map(str::trim) {
        None | Some("*") | Some("") => Ok(Vec::new()),
        Some(list) => parse_ips(list).ok_or_else(|| "ips must be IP addresses".to_owned()),
    }
}

fn int_field(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn key_answer(key: &SimKey, secret: &str) -> Value {
    let read_only = !(key.has(Permission::Trade) || key.has(Permission::Transfer));
    json!({"id": "16651283", "note": key.label, "apiKey": key.api_key, "readOnly": if read_only { 1 } else { 0 },
           "secret": secret, "permissions": permissions(key)})
}

/// `POST /v5/user/create-sub-api`: 1 request/s; the answer is the only one that carries the secret.
fn create_sub_key(sim: &Shared, req: &Req, caller: &SimKey) -> Reply {
    if let Err(reply) = master_with_transfer(req, caller) {
        return reply;
    }
    let mut state = lock(sim);
    if !state.allow("bybit:create-sub-api", &caller.uid, 1, Duration::from_secs(1)) {
        return rate_limited(req);
    }
    let Some(body) = body_object(req) else { return params_error(req, "the body is not a JSON object") };
    let Some(subuid) = int_field(body.get("subuid")) else { return params_error(req, "subuid is required") };
    let Some(read_only) = int_field(body.get("readOnly")).filter(|r| *r == 0 || *r == 1) else {
        return params_error(req, "readOnly is required (0 or 1)");
    };
    let Some(asked) = body.get("permissions").and_then(Value::as_object).filter(|p| !p.is_empty()) else {
        return params_error(req, "permissions is required");
    };
    let granted = match parse_permissions(read_only, asked) {
        Ok(granted) => granted,
        Err(detail) => return params_error(req, &detail),
    };
    let ips = match parse_ips_field(body.get("ips")) {
        Ok(ips) => ips,
        Err(detail) => return params_error(req, &detail),
    };
    let Some(sub) = state.sub_of(BYBIT, &caller.uid, |s| s.uid == subuid.to_string()) else {
        return no_such_sub(req);
    };
    // 18 and 36 letters and digits, as Bybit's keys look.
    let api_key = fresh_hex(&mut state, "bybit-key")[..18].to_uppercase();
    let secret = fresh_hex(&mut state, "bybit-secret")[..36].to_uppercase();
    let key = SimKey {
        exchange: BYBIT,
        api_key,
        secret: secret.clone(),
        passphrase: None,
        label: body.get("note").and_then(Value::as_str).unwrap_or_default().to_owned(),
        permissions: granted,
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
    let result = key_answer(&key, &secret);
    state.keys.push(key);
    answer(200, 0, "", result, req.now_ms())
}

/// `GET /v5/user/sub-apikeys?subMemberId=`: master only, 10/s; the secret shows as `******`.
fn list_sub_keys(sim: &Shared, req: &Req, caller: &SimKey) -> Reply {
    if !caller.is_master() {
        return error(req, 200, 10005, "Permission denied, please check your API key permissions.");
    }
    let mut state = lock(sim);
    if !state.allow("bybit:sub-apikeys", &caller.uid, 10, Duration::from_secs(1)) {
        return rate_limited(req);
    }
    let params: Map<String, Value> = url::form_urlencoded::parse(req.query.as_bytes())
        .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
        .collect();
    let Some(member) = params.get("subMemberId").and_then(Value::as_str) else {
        return params_error(req, "subMemberId is required");
    };
    let Some(sub) = state.sub_of(BYBIT, &caller.uid, |s| s.uid == member) else { return no_such_sub(req) };
    // `limit` in [1, 20], default 20; the cursor here is the offset of the page.
    let limit = match params.get("limit").and_then(Value::as_str).map(str::parse::<usize>) {
        None => 20,
        Some(Ok(n)) if (1..=20).contains(&n) => n,
        Some(_) => return params_error(req, "limit must be 1 to 20"),
    };
    let offset = params.get("cursor").and_then(Value::as_str).and_then(|c| c.parse::<usize>().ok()).unwrap_or(0);
    let keys: Vec<&SimKey> = state
        .keys
        .iter()
        .filter(|k| k.exchange == BYBIT && k.uid == sub.uid && k.parent_uid.as_deref() == Some(caller.uid.as_str()))
        .collect();
    let next = if offset + limit < keys.len() { (offset + limit).to_string() } else { String::new() };
    let rows: Vec<Value> = keys
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|k| {
            let ips: Value = if k.ips.is_empty() { json!(["*"]) } else { json!(k.ips) };
            let created = k.created_at.unwrap_or(req.now).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            let read_only = !(k.has(Permission::Trade) || k.has(Permission::Transfer));
            json!({"id": "24828209", "ips": ips, "apiKey": k.api_key, "note": k.label, "status": if k.ips.is_empty() { 3 } else { 1 },
                   "expiredAt": "", "createdAt": created, "type": 1, "permissions": permissions(k), "secret": "******",
                   "readOnly": read_only, "deadlineDay": if k.ips.is_empty() { 90 } else { -2 }, "flag": "hmac"})
        })
        .collect();
    answer(200, 0, "", json!({"result": rows, "nextPageCursor": next}), req.now_ms())
}

/// `POST /v5/user/update-sub-api`, as its documentation reads: `readOnly` defaults to 0 and an
/// absent `ips` means "no bind", so a caller that leaves them out changes them; `permissions`
/// absent leaves them. A master names the key in `apikey`; a sub key updates itself.
fn update_sub_key(sim: &Shared, req: &Req, caller: &SimKey) -> Reply {
    let mut state = lock(sim);
    if !state.allow("bybit:update-sub-api", &caller.uid, 5, Duration::from_secs(1)) {
        return rate_limited(req);
    }
    let Some(body) = body_object(req) else { return params_error(req, "the body is not a JSON object") };
    let named = body.get("apikey").and_then(Value::as_str).filter(|k| !k.is_empty());
    let target = if caller.is_master() {
        if !(caller.has(Permission::Transfer) || caller.has(Permission::Withdraw)) {
            return error(req, 200, 10005, "Permission denied, please check your API key permissions.");
        }
        let Some(target) = named else { return params_error(req, "apikey is required for a master key") };
        let owned = state.find(BYBIT, target).is_some_and(|k| k.parent_uid.as_deref() == Some(caller.uid.as_str()));
        if !owned {
            return error(
                req,
                200,
                SUB_KEY_NOT_FOUND,
                "Simulator: no such sub key of this master (Bybit documents no code for this)",
            );
        }
        target.to_owned()
    } else {
        if named.is_some() {
            return params_error(req, "a sub key updating itself must not pass apikey");
        }
        if !caller.has(Permission::Transfer) {
            return error(req, 200, 10005, "Permission denied, please check your API key permissions.");
        }
        caller.api_key.clone()
    };
    let read_only = match body.get("readOnly") {
        None => 0,
        Some(value) => match int_field(Some(value)).filter(|r| *r == 0 || *r == 1) {
            Some(r) => r,
            None => return params_error(req, "readOnly must be 0 or 1"),
        },
    };
    let ips = match parse_ips_field(body.get("ips")) {
        Ok(ips) => ips,
        Err(detail) => return params_error(req, &detail),
    };
    let granted = match body.get("permissions").and_then(Value::as_object) {
        Some(asked) => match parse_permissions(read_only, asked) {
            Ok(granted) => Some(granted),
            Err(detail) => return params_error(req, &detail),
        },
        None => None,
    };
    let Some(key) = state.find_mut(BYBIT, &target) else { return no_such_sub(req) };
    match granted {
        Some(granted) => key.permissions = granted,
        None if read_only == 1 => key.permissions = vec![Permission::Read],
        None => {}
    }
    key.ips = ips;
    let mut result = key_answer(key, "");
    result["ips"] = if key.ips.is_empty() { json!(["*"]) } else { json!(key.ips) };
    answer(200, 0, "", result, req.now_ms())
}
