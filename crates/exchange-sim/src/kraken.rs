//! Kraken spot REST as documented: private calls are form-encoded POSTs with `API-Key` and
//! `API-Sign` = Base64(HMAC-SHA512(Base64Decode(secret), path + SHA256(nonce + POST data))), and a
//! `nonce` that must be larger than the key's last one ("EAPI:Invalid nonce" otherwise; the
//! simulator's keys have no nonce window). Answers `{"error":[…],"result":{…}}` with HTTP 200.
//! No key-management endpoint: Kraken has none for spot keys.

use std::time::Duration;

use axum::http::Method;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::{Digest, Sha256, Sha512};

use crate::reply::Reply;
use crate::seed::{Permission, SimExchange, SimKey};
use crate::state::{lock, Shared};
use crate::venue::Venue;
use crate::verify::{ip_allowed, Req};

const KRAKEN: SimExchange = SimExchange::Kraken;

fn error(message: &str) -> Reply {
    Reply::json(200, message, json!({"error": [message]}))
}

fn ok(result: Value) -> Reply {
    Reply::json(200, "ok", json!({"error": [], "result": result}))
}

/// The Kraken venue.
pub(crate) struct Kraken;

impl Venue for Kraken {
    fn exchange(&self) -> SimExchange {
        KRAKEN
    }

    fn prefixes(&self) -> &'static [&'static str] {
        &["/0/"]
    }

    fn handle(&self, sim: &Shared, req: &Req) -> Reply {
        match (&req.method, req.path.as_str()) {
            (&Method::GET, "/0/public/Time") => {
                let now = req.now;
                ok(json!({"unixtime": now.timestamp(), "rfc1123": now.to_rfc2822()}))
            }
            (&Method::POST, "/0/private/GetApiKeyInfo") => match authenticate(sim, req) {
                Ok(key) => api_key_info(sim, &key),
                Err(reply) => reply,
            },
            _ => Reply::not_found(),
        }
    }

    fn rate_limit_reply(&self, _req: &Req) -> Reply {
        error("EAPI:Rate limit exceeded")
    }
}

/// The documented signature, written from Kraken's guide (not from Latchkey's signer).
fn expected_sign(secret: &str, path: &str, nonce: &str, body: &str) -> Option<String> {
    let key = base64::engine::general_purpose::STANDARD.decode(secret).ok()?;
    let mut mac = <Hmac<Sha512> as Mac>::new_from_slice(&key).ok()?;
    mac.update(path.as_bytes());
    mac.update(&Sha256::digest(format!("{nonce}{body}").as_bytes()));
    Some(base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()))
}

/// Key, signature, nonce (larger than the key's last; only an accepted call moves it), then the
/// key's validity and IP allow-list.
fn authenticate(sim: &Shared, req: &Req) -> Result<SimKey, Reply> {
    let api_key = req.header("API-Key").ok_or_else(|| error("EAPI:Invalid key"))?;
    let key = lock(sim).find(KRAKEN, api_key).ok_or_else(|| error("EAPI:Invalid key"))?;
    let nonce_text = url::form_urlencoded::parse(req.body.as_bytes())
        .find(|(name, _)| name == "nonce")
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default();
    let sign = req.header("API-Sign").unwrap_or_default();
    if expected_sign(&key.secret, &req.path, &nonce_text, &req.body).as_deref() != Some(sign) {
        return Err(error("EAPI:Invalid signature"));
    }
    let nonce: u64 = nonce_text.parse().map_err(|_| error("EAPI:Invalid nonce"))?;
    {
        let mut state = lock(sim);
        let last = state.nonces.entry((KRAKEN, key.api_key.clone())).or_insert(0);
        if nonce <= *last {
            return Err(error("EAPI:Invalid nonce"));
        }
        *last = nonce;
    }
    // Past its `validUntil`, a key no longer works: the simulator answers as for a deleted key
    // (Kraken's answer for an expired key is UNCONFIRMED).
    if key.is_expired(req.now) {
        return Err(error("EAPI:Invalid key"));
    }
    // The IP error's own string is UNCONFIRMED; Kraken is reported to answer this one.
    if !ip_allowed(&key, req.peer) {
        return Err(error("EGeneral:Permission denied"));
    }
    // The Starter tier's counter: at most 15, decaying by 0.33 a second (about 15 per 45 s).
    if !lock(sim).allow("kraken:private", &key.api_key, 15, Duration::from_secs(45)) {
        return Err(error("EAPI:Rate limit exceeded"));
    }
    Ok(key)
}

/// The permission strings of the key's grants.
fn permissions(key: &SimKey) -> Vec<&'static str> {
    let mut out = vec!["query-funds", "query-open-trades", "query-closed-trades", "query-ledger-entries"];
    if key.has(Permission::Trade) {
        out.extend(["modify-trades", "close-trades", "create-ws-token"]);
    }
    if key.has(Permission::Withdraw) {
        out.push("withdraw-funds");
    }
    out
}

fn api_key_info(sim: &Shared, key: &SimKey) -> Reply {
    let seconds = |at: Option<chrono::DateTime<chrono::Utc>>| at.map_or("0".to_owned(), |t| t.timestamp().to_string());
    let nonce = lock(sim).nonces.get(&(KRAKEN, key.api_key.clone())).copied().unwrap_or_default();
    ok(json!({
        "apiKeyName": key.label,
        "apiKey": key.api_key,
        "nonce": nonce.to_string(),
        "nonceWindow": 0,
        "permissions": permissions(key),
        "iban": "AA88 N84G WOAK NMOI",
        "validUntil": seconds(key.expires_at),
        "queryFrom": "0",
        "queryTo": "0",
        "createdTime": seconds(key.created_at),
        "modifiedTime": seconds(key.created_at),
        "ipAllowlist": key.ips,
        "lastUsed": null,
    }))
}
