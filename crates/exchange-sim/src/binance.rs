//! Binance as documented: `X-MBX-APIKEY`, `timestamp` + `recvWindow` (≤ 60000) with
//! `timestamp < server + 1000 && server − timestamp ≤ recvWindow`, and
//! hex(HMAC-SHA256(secret, queryString + body)) without the `signature` parameter itself.

use std::collections::HashMap;
use std::time::Duration;

use axum::http::Method;
use serde_json::{json, Value};

use crate::reply::Reply;
use crate::seed::{Permission, SimExchange, SimKey};
use crate::state::{lock, Shared};
use crate::venue::Venue;
use crate::verify::{hmac_sha256, ip_allowed, Req};

const BINANCE: SimExchange = SimExchange::Binance;
/// Simulator-only code. Binance documents no code for "this sub-account key does not exist"
/// (UNCONFIRMED); the simulator uses this one, which no exchange uses, and the client must not
/// take it as proof of anything.
pub const SUB_KEY_NOT_FOUND: i64 = -13001;

fn error(status: u16, code: i64, msg: &str) -> Reply {
    Reply::json(status, code.to_string(), json!({"code": code, "msg": msg}))
}

fn ok(body: Value) -> Reply {
    Reply::json(200, "0", body)
}

/// The Binance venue.
pub(crate) struct Binance;

impl Venue for Binance {
    fn exchange(&self) -> SimExchange {
        BINANCE
    }

    fn prefixes(&self) -> &'static [&'static str] {
        &["/api/v3/", "/sapi/"]
    }

    fn handle(&self, sim: &Shared, req: &Req) -> Reply {
        handle(sim, req)
    }

    fn rate_limit_reply(&self, _req: &Req) -> Reply {
        rate_limited()
    }
}

fn rate_limited() -> Reply {
    error(429, -1003, "Too many requests; please use the websocket for live updates.").with_header("retry-after", "1")
}

fn handle(sim: &Shared, req: &Req) -> Reply {
    match (&req.method, req.path.as_str()) {
        (&Method::GET, "/api/v3/time") => ok(json!({"serverTime": req.now_ms()})),
        (&Method::GET, "/sapi/v1/account/apiRestrictions") => match authenticate(sim, req) {
            Ok((key, _)) => api_restrictions(sim, req, &key),
            Err(reply) => reply,
        },
        (&Method::DELETE, "/sapi/v1/sub-account/subAccountApi") => match authenticate(sim, req) {
            Ok((key, params)) => delete_sub_key(sim, &key, &params),
            Err(reply) => reply,
        },
        _ => Reply::not_found(),
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

fn key_ip_or_permission() -> Reply {
    error(401, -2015, "Invalid API-key, IP, or permissions for action.")
}

fn api_restrictions(sim: &Shared, req: &Req, key: &SimKey) -> Reply {
    if !lock(sim).allow("binance:ip-weight", &req.peer.to_string(), 6000, Duration::from_secs(60)) {
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
