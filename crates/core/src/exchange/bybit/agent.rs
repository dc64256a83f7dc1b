//! Bybit v5 through the signing agent: `X-BAPI-*` headers, hex(HMAC-SHA256(secret, timestamp +
//! apiKey + recvWindow + payload)) where the payload is the query for GET and the body otherwise;
//! accepted when `server − recvWindow ≤ timestamp < server + 1000`.

use secrecy::ExposeSecret;
use serde_json::Value;
use zeroize::Zeroizing;

use super::bybit_sign;
use crate::exchange::agent_scheme::{
    hex_key, json_field, public_get, same_signature, AgentScheme, Incoming, Outgoing, PlaceholderShape, Refusal,
    RefusalAnswer, Route, SigningKey,
};

const DEFAULT_RECV_WINDOW: u32 = 5000;

pub(crate) struct BybitAgent;

fn payload(req: &Incoming) -> &str {
    if req.method.eq_ignore_ascii_case("GET") {
        &req.query
    } else {
        &req.body
    }
}

fn recv_window(req: &Incoming) -> Result<u32, Refusal> {
    match req.header("X-BAPI-RECV-WINDOW") {
        None => Ok(DEFAULT_RECV_WINDOW),
        Some(text) => text.parse().map_err(|_| Refusal::Stale(format!("X-BAPI-RECV-WINDOW {text:?} is not a number"))),
    }
}

impl AgentScheme for BybitAgent {
    fn placeholder_shape(&self) -> PlaceholderShape {
        PlaceholderShape { key: |r| hex_key(r, 18), secret_hex_digits: 36, secret_upper: false, passphrase: false }
    }

    fn caller_key<'a>(&self, req: &'a Incoming) -> Option<&'a str> {
        req.header("X-BAPI-API-KEY")
    }

    fn public_read(&self, req: &Incoming, _demo: bool) -> Option<Outgoing> {
        public_get(req, self.caller_key(req).is_some(), &["/v5/market/"])
    }

    fn verify(&self, req: &Incoming, key: &SigningKey<'_>, now_ms: i64) -> Result<(), Refusal> {
        let (Some(sign), Some(timestamp)) = (req.header("X-BAPI-SIGN"), req.header("X-BAPI-TIMESTAMP")) else {
            return Err(Refusal::BadSignature("X-BAPI-SIGN and X-BAPI-TIMESTAMP are required".into()));
        };
        let ts: i64 =
            timestamp.parse().map_err(|_| Refusal::Stale(format!("X-BAPI-TIMESTAMP {timestamp:?} is not a number")))?;
        let window = recv_window(req)?;
        if !(now_ms - i64::from(window) <= ts && ts < now_ms + 1000) {
            return Err(Refusal::Stale("the request's timestamp is outside its recv window".into()));
        }
        // The header text as sent: Bybit signs the window's text, not a re-formatted number.
        let window_text = req.header("X-BAPI-RECV-WINDOW").map(str::to_owned).unwrap_or_default();
        let expected = bybit_sign_text(key, timestamp, &window_text, payload(req));
        if same_signature(&sign.to_ascii_lowercase(), &expected) {
            Ok(())
        } else {
            Err(Refusal::BadSignature("the signature does not match the placeholder secret".into()))
        }
    }

    fn resign(&self, req: &Incoming, key: &SigningKey<'_>, now_ms: i64, _demo: bool) -> Result<Outgoing, Refusal> {
        let window = recv_window(req)?;
        let sign = bybit_sign(key.secret, now_ms, key.api_key, window, payload(req));
        let path_and_query =
            if req.query.is_empty() { req.path.clone() } else { format!("{}?{}", req.path, req.query) };
        Ok(Outgoing {
            path_and_query,
            headers: vec![
                // EXPOSE: the real key goes only into the request to Bybit, sent as sensitive.
                ("X-BAPI-API-KEY", Zeroizing::new(key.api_key.expose_secret().to_owned())),
                ("X-BAPI-SIGN", Zeroizing::new(sign)),
                ("X-BAPI-TIMESTAMP", Zeroizing::new(now_ms.to_string())),
                ("X-BAPI-RECV-WINDOW", Zeroizing::new(window.to_string())),
            ],
            body: req.body.clone(),
        })
    }

    fn route(&self, method: &str, path: &str) -> Route {
        let write = !method.eq_ignore_ascii_case("GET");
        // The calling key's own information, read-only: Bybit's answer holds no secret (its
        // `secret` is empty; it does name the real API key, its permissions and IPs), and CCXT's
        // `is_unified_enabled` reads it at every live Freqtrade start-up. Only GET, only this
        // path exactly as spelled.
        if !write && path == "/v5/user/query-api" {
            return Route::Other;
        }
        // Bybit signs no path, so `//v5/user/…` or `/V5/USER/…` is signed as well as the real
        // spelling: it is classed as the path a server folding case or empty segments would read.
        match canonical(path).as_str() {
            p if p.starts_with("/v5/asset/withdraw") => Route::AlwaysRefused("withdrawals"),
            p if write && p.starts_with("/v5/asset/") => Route::AlwaysRefused("transfers and asset changes"),
            p if p.starts_with("/v5/user/") => Route::AlwaysRefused("sub-account and API-key management"),
            p if p.starts_with("/v5/broker/") => Route::AlwaysRefused("broker sub-account management"),
            "/v5/order/cancel" | "/v5/order/cancel-all" | "/v5/order/cancel-batch" => Route::Cancel,
            p if write && p.starts_with("/v5/order/") => Route::Order,
            _ => Route::Other,
        }
    }

    fn symbols(&self, req: &Incoming) -> Vec<String> {
        let Ok(value) = serde_json::from_str::<Value>(&req.body) else { return Vec::new() };
        let requests = value.get("request").and_then(Value::as_array).cloned().unwrap_or_else(|| vec![value.clone()]);
        requests.iter().filter_map(|r| r.get("symbol").and_then(Value::as_str).map(str::to_owned)).collect()
    }

    fn reduce_only(&self, req: &Incoming) -> bool {
        json_field(&req.body, "reduceOnly").as_deref() == Some("true")
    }

    fn refusal_answer(&self, refusal: &Refusal) -> RefusalAnswer {
        // Bybit answers HTTP 200 with a retCode; CCXT maps 10003/10004 to AuthenticationError,
        // 10002 to InvalidNonce and 10005 to PermissionDenied.
        let code = match refusal {
            Refusal::UnknownKey(_) | Refusal::KeyUnusable(_) | Refusal::WrongEnvironment(_) => 10003,
            Refusal::BadSignature(_) => 10004,
            Refusal::Stale(_) => 10002,
            Refusal::Forbidden(_) => 10005,
        };
        let msg = format!("Latchkey agent: {}", refusal.reason());
        let body = serde_json::json!({"retCode": code, "retMsg": msg, "result": {}, "retExtInfo": {}, "time": 0});
        RefusalAnswer { status: 200, body: body.to_string() }
    }
}

/// `path` in lower case, without empty segments: `//V5//User/x` is `/v5/user/x`.
fn canonical(path: &str) -> String {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    format!("/{}", segments.join("/")).to_ascii_lowercase()
}

/// Bybit's signature with the recv window exactly as the header spelled it (empty when absent).
fn bybit_sign_text(key: &SigningKey<'_>, timestamp: &str, window: &str, payload: &str) -> String {
    // EXPOSE: the placeholder key is part of Bybit's string to sign.
    let prehash = format!("{timestamp}{}{window}{payload}", key.api_key.expose_secret());
    hex::encode(crate::exchange::sign::hmac_sha256(key.secret, prehash.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    fn s(v: &str) -> SecretString {
        SecretString::from(v.to_owned())
    }

    #[test]
    fn a_placeholder_signature_is_checked_as_bybit_checks_it_and_the_request_is_signed_again() {
        let (pk, ps) = (s("lkplaceholder"), s("placeholder-secret"));
        let placeholder = SigningKey { api_key: &pk, secret: &ps, passphrase: None };
        let now = 1_764_590_400_000;
        let body =
            r#"{"category":"spot","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":"0.01","price":"1"}"#;
        let bare = |headers| Incoming {
            method: "POST".into(),
            path: "/v5/order/create".into(),
            query: String::new(),
            headers,
            body: body.into(),
        };
        let signed = BybitAgent.resign(&bare(vec![]), &placeholder, now - 100, false).unwrap();
        let req = bare(signed.headers.iter().map(|(n, v)| (n.to_ascii_lowercase(), v.to_string())).collect());
        BybitAgent.verify(&req, &placeholder, now).expect("verifies");
        assert!(matches!(BybitAgent.verify(&req, &placeholder, now + 6000), Err(Refusal::Stale(_))));
        let wrong = s("nope");
        let wrong_key = SigningKey { api_key: &pk, secret: &wrong, passphrase: None };
        assert!(matches!(BybitAgent.verify(&req, &wrong_key, now), Err(Refusal::BadSignature(_))));

        let (rk, rs) = (s("XXXXXXXXXX"), s("test-secret"));
        let real = SigningKey { api_key: &rk, secret: &rs, passphrase: None };
        let out = BybitAgent.resign(&req, &real, now, false).unwrap();
        assert_eq!(out.body, body);
        let header = |n: &str| out.headers.iter().find(|(h, _)| *h == n).map(|(_, v)| v.as_str().to_owned()).unwrap();
        assert_eq!(header("X-BAPI-API-KEY"), "XXXXXXXXXX");
        assert_eq!(header("X-BAPI-TIMESTAMP"), now.to_string());
        assert_eq!(header("X-BAPI-SIGN"), bybit_sign(&rs, now, &rk, 5000, body));
        assert_eq!(BybitAgent.symbols(&req), ["BTCUSDT"]);
    }

    #[test]
    fn money_out_and_key_management_are_always_refused_but_the_keys_own_info_is_a_read() {
        for (m, p) in [
            ("POST", "/v5/asset/withdraw/create"),
            ("POST", "/v5/asset/transfer/inter-transfer"),
            ("POST", "/v5/user/create-sub-api"),
            ("POST", "/v5/user/update-api"),
            ("POST", "/v5/user/update-sub-api"),
            ("POST", "/v5/user/delete-api"),
            ("POST", "/v5/user/delete-sub-api"),
            ("POST", "/v5/user/frozen-sub-member"),
            ("GET", "/v5/user/sub-apikeys"),
            ("GET", "/v5/user/query-sub-members"),
            // query-api passes as a read only: no other method, no other spelling of its path.
            ("POST", "/v5/user/query-api"),
            ("PUT", "/v5/user/query-api"),
            ("DELETE", "/v5/user/query-api"),
            ("HEAD", "/v5/user/query-api"),
            ("GET", "/v5/user/query-api/"),
            ("GET", "/v5/user/query-api-x"),
            ("GET", "//v5/user/query-api"),
            // Bybit signs no path: other spellings are classed as the path they could be read as.
            ("POST", "//v5/user/create-sub-api"),
            ("POST", "/v5//user/update-sub-api"),
            ("POST", "/V5/USER/DELETE-API"),
            ("POST", "//v5/asset/withdraw/create"),
            ("POST", "/v5/Asset/Transfer/inter-transfer"),
        ] {
            assert!(matches!(BybitAgent.route(m, p), Route::AlwaysRefused(_)), "{m} {p}");
        }
        // The key's own information (no secret in it), which CCXT reads at Freqtrade's start-up.
        assert_eq!(BybitAgent.route("GET", "/v5/user/query-api"), Route::Other);
        assert_eq!(BybitAgent.route("GET", "/v5/account/wallet-balance"), Route::Other);
        assert_eq!(BybitAgent.route("POST", "/v5/order/create"), Route::Order);
        assert_eq!(BybitAgent.route("POST", "/v5/order/cancel"), Route::Cancel);
        assert_eq!(BybitAgent.route("POST", "//v5/order/create"), Route::Order);
        assert_eq!(BybitAgent.route("POST", "/V5/ORDER/CANCEL"), Route::Cancel);
    }
}
