//! OKX through the signing agent: `OK-ACCESS-*` headers, Base64(HMAC-SHA256(secret, timestamp +
//! METHOD + requestPath + body)) with the query in requestPath, timestamps valid for 30 s, the
//! passphrase sent as typed, and `x-simulated-trading: 1` for demo keys.

use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use serde_json::Value;
use zeroize::Zeroizing;

use super::{okx_sign, okx_timestamp};
use crate::exchange::agent_scheme::{
    public_get, same_signature, uuid_key, AgentScheme, Incoming, Outgoing, PlaceholderShape, Refusal, RefusalAnswer,
    Route, SigningKey,
};

/// "Timestamp request expired" beyond this.
const WINDOW_MS: i64 = 30_000;

pub(crate) struct OkxAgent;

fn request_path(req: &Incoming) -> String {
    if req.query.is_empty() {
        req.path.clone()
    } else {
        format!("{}?{}", req.path, req.query)
    }
}

impl AgentScheme for OkxAgent {
    fn placeholder_shape(&self) -> PlaceholderShape {
        PlaceholderShape { key: uuid_key, secret_hex_digits: 32, secret_upper: true, passphrase: true }
    }

    fn caller_key<'a>(&self, req: &'a Incoming) -> Option<&'a str> {
        req.header("OK-ACCESS-KEY")
    }

    fn verify(&self, req: &Incoming, key: &SigningKey<'_>, now_ms: i64) -> Result<(), Refusal> {
        let (Some(sign), Some(timestamp), Some(passphrase)) =
            (req.header("OK-ACCESS-SIGN"), req.header("OK-ACCESS-TIMESTAMP"), req.header("OK-ACCESS-PASSPHRASE"))
        else {
            return Err(Refusal::BadSignature("OK-ACCESS-SIGN, -TIMESTAMP and -PASSPHRASE are all required".into()));
        };
        let sent = DateTime::parse_from_rfc3339(timestamp)
            .map_err(|_| Refusal::Stale(format!("OK-ACCESS-TIMESTAMP {timestamp:?} is not an ISO-8601 time")))?;
        if (now_ms - sent.with_timezone(&Utc).timestamp_millis()).abs() > WINDOW_MS {
            return Err(Refusal::Stale("the request's timestamp is more than 30 s away from the agent's clock".into()));
        }
        // EXPOSE: compared in constant time with the placeholder passphrase Latchkey issued.
        let expected_passphrase = key.passphrase.map(|p| p.expose_secret()).unwrap_or_default();
        if !same_signature(passphrase, expected_passphrase) {
            return Err(Refusal::BadSignature("wrong passphrase for this placeholder key".into()));
        }
        let expected = okx_sign(key.secret, timestamp, &req.method, &request_path(req), &req.body);
        if same_signature(sign, &expected) {
            Ok(())
        } else {
            Err(Refusal::BadSignature("the signature does not match the placeholder secret".into()))
        }
    }

    fn wants_demo(&self, req: &Incoming) -> bool {
        req.header("x-simulated-trading") == Some("1")
    }

    fn public_read(&self, req: &Incoming, demo: bool) -> Option<Outgoing> {
        let mut out = public_get(req, self.caller_key(req).is_some(), &["/api/v5/public/", "/api/v5/market/"])?;
        if demo {
            out.headers.push(("x-simulated-trading", Zeroizing::new("1".to_owned())));
        }
        Some(out)
    }

    fn resign(&self, req: &Incoming, key: &SigningKey<'_>, now_ms: i64, demo: bool) -> Result<Outgoing, Refusal> {
        let at = DateTime::<Utc>::from_timestamp_millis(now_ms).unwrap_or_else(Utc::now);
        let timestamp = okx_timestamp(at);
        let path_and_query = request_path(req);
        let sign = okx_sign(key.secret, &timestamp, &req.method, &path_and_query, &req.body);
        let passphrase = key.passphrase.ok_or_else(|| Refusal::KeyUnusable("the OKX key has no passphrase".into()))?;
        let mut headers = vec![
            // EXPOSE: the real key and passphrase go only into the request to OKX, sent as sensitive.
            ("OK-ACCESS-KEY", Zeroizing::new(key.api_key.expose_secret().to_owned())),
            ("OK-ACCESS-SIGN", Zeroizing::new(sign)),
            ("OK-ACCESS-TIMESTAMP", Zeroizing::new(timestamp)),
            ("OK-ACCESS-PASSPHRASE", Zeroizing::new(passphrase.expose_secret().to_owned())),
        ];
        if demo {
            headers.push(("x-simulated-trading", Zeroizing::new("1".to_owned())));
        }
        Ok(Outgoing { path_and_query, headers, body: req.body.clone() })
    }

    fn route(&self, method: &str, path: &str) -> Route {
        let write = !method.eq_ignore_ascii_case("GET");
        // Classed case-folded: a server that routes without regard to case must not get
        // `/API/V5/ASSET/WITHDRAWAL` as an unlisted path.
        let lower = path.to_ascii_lowercase();
        match lower.as_str() {
            p if p.starts_with("/api/v5/asset/withdrawal") || p.starts_with("/api/v5/asset/cancel-withdrawal") => {
                Route::AlwaysRefused("withdrawals")
            }
            p if write && p.starts_with("/api/v5/asset/") => {
                Route::AlwaysRefused("transfers and funding-account changes")
            }
            p if p.starts_with("/api/v5/users/") || p.starts_with("/api/v5/account/subaccount/") => {
                Route::AlwaysRefused("sub-account and API-key management")
            }
            p if p.starts_with("/api/v5/broker/") => Route::AlwaysRefused("broker sub-account management"),
            "/api/v5/trade/cancel-order"
            | "/api/v5/trade/cancel-batch-orders"
            | "/api/v5/trade/cancel-algos"
            | "/api/v5/trade/mass-cancel"
            | "/api/v5/trade/close-position" => Route::Cancel,
            p if write && p.starts_with("/api/v5/trade/") => Route::Order,
            _ => Route::Other,
        }
    }

    fn symbols(&self, req: &Incoming) -> Vec<String> {
        let Ok(value) = serde_json::from_str::<Value>(&req.body) else { return Vec::new() };
        let items = match value {
            Value::Array(items) => items,
            one => vec![one],
        };
        items.iter().filter_map(|i| i.get("instId").and_then(Value::as_str).map(str::to_owned)).collect()
    }

    fn reduce_only(&self, req: &Incoming) -> bool {
        let Ok(value) = serde_json::from_str::<Value>(&req.body) else { return false };
        let items = match value {
            Value::Array(items) => items,
            one => vec![one],
        };
        !items.is_empty()
            && items.iter().all(|i| {
                matches!(i.get("reduceOnly"), Some(Value::Bool(true)))
                    || i.get("reduceOnly").and_then(Value::as_str) == Some("true")
            })
    }

    fn refusal_answer(&self, refusal: &Refusal) -> RefusalAnswer {
        // Codes CCXT maps to AuthenticationError / InvalidNonce, or leaves as a plain
        // ExchangeError (50030): none of them is retried as a network problem.
        let (status, code) = match refusal {
            Refusal::UnknownKey(_) | Refusal::KeyUnusable(_) => (401, "50111"),
            Refusal::BadSignature(_) => (401, "50113"),
            Refusal::Stale(_) => (401, "50102"),
            Refusal::WrongEnvironment(_) => (401, "50101"),
            Refusal::Forbidden(_) => (200, "50030"),
        };
        let msg = format!("Latchkey agent: {}", refusal.reason());
        RefusalAnswer { status, body: serde_json::json!({"code": code, "msg": msg, "data": []}).to_string() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    fn s(v: &str) -> SecretString {
        SecretString::from(v.to_owned())
    }

    fn signed(key: &SigningKey<'_>, at_ms: i64, method: &str, path: &str, query: &str, body: &str) -> Incoming {
        let bare = Incoming {
            method: method.into(),
            path: path.into(),
            query: query.into(),
            headers: vec![],
            body: body.into(),
        };
        let out = OkxAgent.resign(&bare, key, at_ms, false).unwrap();
        Incoming { headers: out.headers.iter().map(|(n, v)| (n.to_ascii_lowercase(), v.to_string())).collect(), ..bare }
    }

    #[test]
    fn a_placeholder_signature_is_checked_as_okx_checks_it_and_the_request_is_signed_again() {
        let (pk, ps, pp) = (s("lk-placeholder"), s("placeholder-secret"), s("placeholder-pass"));
        let placeholder = SigningKey { api_key: &pk, secret: &ps, passphrase: Some(&pp) };
        let now = 1_764_590_400_123;
        let body = r#"{"instId":"BTC-USDT","tdMode":"cash","side":"buy","ordType":"limit","sz":"0.01","px":"1"}"#;
        let req = signed(&placeholder, now - 2000, "POST", "/api/v5/trade/order", "", body);
        assert_eq!(OkxAgent.caller_key(&req), Some("lk-placeholder"));
        OkxAgent.verify(&req, &placeholder, now).expect("the placeholder signature verifies");
        assert!(matches!(OkxAgent.verify(&req, &placeholder, now + 31_000), Err(Refusal::Stale(_))));
        let (wrong, other) = (s("other-secret"), s("x"));
        let wrong_key = SigningKey { api_key: &pk, secret: &wrong, passphrase: Some(&pp) };
        assert!(matches!(OkxAgent.verify(&req, &wrong_key, now), Err(Refusal::BadSignature(_))));
        let wrong_pass = SigningKey { api_key: &pk, secret: &ps, passphrase: Some(&other) };
        assert!(matches!(OkxAgent.verify(&req, &wrong_pass, now), Err(Refusal::BadSignature(_))));

        // Re-signed with the real key at the agent's time: the body byte for byte, OKX's formula.
        let (rk, rs, rp) = (s("real-key"), s("22582BD0CFF14C41EDBF1AB98506286D"), s("real-pass"));
        let real = SigningKey { api_key: &rk, secret: &rs, passphrase: Some(&rp) };
        let out = OkxAgent.resign(&req, &real, now, true).unwrap();
        assert_eq!(out.body, body);
        let header = |n: &str| out.headers.iter().find(|(h, _)| *h == n).map(|(_, v)| v.as_str().to_owned());
        assert_eq!(header("OK-ACCESS-KEY").as_deref(), Some("real-key"));
        assert_eq!(header("OK-ACCESS-PASSPHRASE").as_deref(), Some("real-pass"));
        assert_eq!(header("x-simulated-trading").as_deref(), Some("1"));
        let ts = header("OK-ACCESS-TIMESTAMP").unwrap();
        assert_eq!(ts, "2025-12-01T12:00:00.123Z");
        assert_eq!(header("OK-ACCESS-SIGN").unwrap(), okx_sign(&rs, &ts, "POST", "/api/v5/trade/order", body));
    }

    #[test]
    fn money_out_and_key_management_are_always_refused() {
        for (m, p) in [
            ("POST", "/api/v5/asset/withdrawal"),
            ("POST", "/api/v5/asset/transfer"),
            ("POST", "/api/v5/users/subaccount/apikey"),
            ("GET", "/api/v5/users/subaccount/list"),
            ("POST", "/API/V5/ASSET/WITHDRAWAL"),
            ("POST", "/Api/v5/Users/subaccount/apikey"),
        ] {
            assert!(matches!(OkxAgent.route(m, p), Route::AlwaysRefused(_)), "{m} {p}");
        }
        assert_eq!(OkxAgent.route("GET", "/api/v5/asset/balances"), Route::Other);
        assert_eq!(OkxAgent.route("POST", "/api/v5/trade/order"), Route::Order);
        assert_eq!(OkxAgent.route("POST", "/api/v5/trade/cancel-order"), Route::Cancel);
        let req = Incoming {
            method: "POST".into(),
            path: "/api/v5/trade/batch-orders".into(),
            query: String::new(),
            headers: vec![],
            body: r#"[{"instId":"BTC-USDT","reduceOnly":true},{"instId":"ETH-USDT","reduceOnly":true}]"#.into(),
        };
        assert_eq!(OkxAgent.symbols(&req), ["BTC-USDT", "ETH-USDT"]);
        assert!(OkxAgent.reduce_only(&req));
    }
}
