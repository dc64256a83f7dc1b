//! Binance through the signing agent: the key in `X-MBX-APIKEY`, `signature` = hex(HMAC-SHA256(
//! secret, query + body)) as a parameter of the query or the body, `timestamp` (ms, or µs) valid
//! within `recvWindow` (default 5000 ms) and at most 1000 ms ahead.
//!
//! Binance's signature does not cover the path, so the agent's path rules are what keep a bot off
//! the withdrawal endpoints; multiplexed endpoints are matched by path, never by parameters alone.

use secrecy::ExposeSecret;
use zeroize::Zeroizing;

use super::binance_sign;
use crate::exchange::agent_scheme::{
    form_param, hex_key, public_get, replace_param, same_signature, split_param, AgentScheme, Incoming, Outgoing,
    PlaceholderShape, Refusal, RefusalAnswer, Route, SigningKey,
};

const DEFAULT_RECV_WINDOW_MS: f64 = 5000.0;

pub(crate) struct BinanceAgent;

/// The query and the body without their `signature`, and the signature with where it was.
struct Unsigned<'a> {
    query: String,
    body: String,
    signature: Option<&'a str>,
    in_body: bool,
}

/// A second `signature` in the same part would be signed over and forwarded: refused instead.
fn unsigned(req: &Incoming) -> Result<Unsigned<'_>, Refusal> {
    let (query, query_sig) = split_param(&req.query, "signature");
    let (body, body_sig) = split_param(&req.body, "signature");
    if split_param(&query, "signature").1.is_some() || split_param(&body, "signature").1.is_some() {
        return Err(Refusal::BadSignature("the request carries more than one signature".into()));
    }
    Ok(Unsigned { query, body, in_body: query_sig.is_none() && body_sig.is_some(), signature: query_sig.or(body_sig) })
}

impl AgentScheme for BinanceAgent {
    fn placeholder_shape(&self) -> PlaceholderShape {
        PlaceholderShape { key: |r| hex_key(r, 64), secret_hex_digits: 64, secret_upper: false, passphrase: false }
    }

    fn caller_key<'a>(&self, req: &'a Incoming) -> Option<&'a str> {
        req.header("X-MBX-APIKEY")
    }

    /// Some clients (NautilusTrader) send their key on public requests too: what makes a Binance
    /// request private is its signature, so an unsigned one on a market-data path passes without
    /// the key header.
    fn public_read(&self, req: &Incoming, _demo: bool) -> Option<Outgoing> {
        let signed = split_param(&req.query, "signature").1.is_some();
        public_get(
            req,
            signed,
            &[
                "/api/v3/exchangeInfo",
                "/api/v3/ping",
                "/api/v3/time",
                "/api/v3/depth",
                "/api/v3/trades",
                "/api/v3/aggTrades",
                "/api/v3/klines",
                "/api/v3/uiKlines",
                "/api/v3/avgPrice",
                "/api/v3/ticker",
            ],
        )
    }

    fn verify(&self, req: &Incoming, key: &SigningKey<'_>, now_ms: i64) -> Result<(), Refusal> {
        let parts = unsigned(req)?;
        let signature =
            parts.signature.ok_or_else(|| Refusal::BadSignature("the request carries no signature".into()))?;
        let timestamp: i64 = form_param(&parts.query, &parts.body, "timestamp")
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| Refusal::Stale("the request carries no timestamp".into()))?;
        let window = match form_param(&parts.query, &parts.body, "recvWindow") {
            None => DEFAULT_RECV_WINDOW_MS,
            Some(text) => text.parse().map_err(|_| Refusal::Stale(format!("recvWindow {text:?} is not a number")))?,
        };
        let timestamp_ms = if timestamp > 10_000_000_000_000 { timestamp / 1000 } else { timestamp };
        if timestamp_ms >= now_ms + 1000 || (now_ms - timestamp_ms) as f64 > window {
            return Err(Refusal::Stale("the request's timestamp is outside its recvWindow".into()));
        }
        let expected = binance_sign(key.secret, &parts.query, &parts.body);
        // "HMAC signatures are case-insensitive."
        if same_signature(&signature.to_ascii_lowercase(), &expected) {
            Ok(())
        } else {
            Err(Refusal::BadSignature("the signature does not match the placeholder secret".into()))
        }
    }

    fn resign(&self, req: &Incoming, key: &SigningKey<'_>, now_ms: i64, _demo: bool) -> Result<Outgoing, Refusal> {
        let mut parts = unsigned(req)?;
        let stamp = now_ms.to_string();
        if let Some(q) = replace_param(&parts.query, "timestamp", &stamp) {
            parts.query = q;
        } else if let Some(b) = replace_param(&parts.body, "timestamp", &stamp) {
            parts.body = b;
        } else {
            return Err(Refusal::Stale("the request carries no timestamp".into()));
        }
        let signature = binance_sign(key.secret, &parts.query, &parts.body);
        let append = |part: &str| {
            if part.is_empty() {
                format!("signature={signature}")
            } else {
                format!("{part}&signature={signature}")
            }
        };
        let (query, body) =
            if parts.in_body { (parts.query.clone(), append(&parts.body)) } else { (append(&parts.query), parts.body) };
        Ok(Outgoing {
            path_and_query: if query.is_empty() { req.path.clone() } else { format!("{}?{query}", req.path) },
            // EXPOSE: the real key goes only into the request to Binance, sent as sensitive.
            headers: vec![("X-MBX-APIKEY", Zeroizing::new(key.api_key.expose_secret().to_owned()))],
            body,
        })
    }

    fn route(&self, method: &str, path: &str) -> Route {
        let lower = path.to_ascii_lowercase();
        let write = !method.eq_ignore_ascii_case("GET");
        if lower.contains("/withdraw") {
            return Route::AlwaysRefused("withdrawals");
        }
        if lower.contains("transfer") || (write && lower.starts_with("/sapi/v1/capital/")) {
            return Route::AlwaysRefused("transfers and funding changes");
        }
        if lower.contains("sub-account") || lower.contains("subaccount") || lower.contains("/broker/") {
            return Route::AlwaysRefused("sub-account management");
        }
        if lower.contains("apirestrictions") || lower.contains("iprestriction") || lower.contains("/apikey") {
            return Route::AlwaysRefused("API-key management");
        }
        let order_path = lower.ends_with("/order")
            || lower.contains("/order/")
            || lower.contains("/orderlist")
            || lower.ends_with("/batchorders")
            || lower.ends_with("/openorders");
        match (order_path, method.to_ascii_uppercase().as_str()) {
            (true, "DELETE") => Route::Cancel,
            (true, "POST" | "PUT") => Route::Order,
            _ => Route::Other,
        }
    }

    fn symbols(&self, req: &Incoming) -> Vec<String> {
        form_param(&req.query, &req.body, "symbol").into_iter().collect()
    }

    fn reduce_only(&self, req: &Incoming) -> bool {
        form_param(&req.query, &req.body, "reduceOnly").is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    fn refusal_answer(&self, refusal: &Refusal) -> RefusalAnswer {
        // Never 403 (CCXT's DDoSProtection, which bots retry), and never -2015: once a bot has
        // made one good private call, CCXT turns -2015 into DDoSProtection too
        // (`hasAlreadyAuthenticatedSuccessfully`). -2014 and -1002 map to AuthenticationError and
        // PermissionDenied, -1022 and -1021 to non-retryable errors.
        let (status, code) = match refusal {
            Refusal::UnknownKey(_) | Refusal::KeyUnusable(_) | Refusal::WrongEnvironment(_) => (401, -2014),
            Refusal::BadSignature(_) => (400, -1022),
            Refusal::Stale(_) => (400, -1021),
            Refusal::Forbidden(_) => (401, -1002),
        };
        let msg = format!("Latchkey agent: {}", refusal.reason());
        RefusalAnswer { status, body: serde_json::json!({"code": code, "msg": msg}).to_string() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    fn s(v: &str) -> SecretString {
        SecretString::from(v.to_owned())
    }

    fn with_sig(secret: &SecretString, query: &str, body: &str, sig_in_body: bool) -> Incoming {
        let sig = binance_sign(secret, query, body);
        let (query, body) = if sig_in_body {
            (query.to_owned(), format!("{body}&signature={sig}"))
        } else {
            (format!("{query}&signature={sig}"), body.to_owned())
        };
        Incoming {
            method: "POST".into(),
            path: "/api/v3/order".into(),
            query,
            headers: vec![("x-mbx-apikey".into(), "lk-placeholder".into())],
            body,
        }
    }

    #[test]
    fn a_placeholder_signature_is_checked_as_binance_checks_it_and_the_request_is_signed_again() {
        let (pk, ps) = (s("lk-placeholder"), s("placeholder-secret"));
        let placeholder = SigningKey { api_key: &pk, secret: &ps, passphrase: None };
        let now = 1_764_590_400_000;
        let body = format!("symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.01&price=1&timestamp={}", now - 200);
        let req = with_sig(&ps, "", &body, true);
        assert_eq!(BinanceAgent.caller_key(&req), Some("lk-placeholder"));
        BinanceAgent.verify(&req, &placeholder, now).expect("verifies");
        assert!(matches!(BinanceAgent.verify(&req, &placeholder, now + 6000), Err(Refusal::Stale(_))));
        let wrong = s("nope");
        let wrong_key = SigningKey { api_key: &pk, secret: &wrong, passphrase: None };
        assert!(matches!(BinanceAgent.verify(&req, &wrong_key, now), Err(Refusal::BadSignature(_))));

        let (rk, rs) = (s("real-key"), s("real-secret"));
        let real = SigningKey { api_key: &rk, secret: &rs, passphrase: None };
        let out = BinanceAgent.resign(&req, &real, now, false).unwrap();
        let restamped = format!("symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.01&price=1&timestamp={now}");
        assert_eq!(out.body, format!("{restamped}&signature={}", binance_sign(&rs, "", &restamped)));
        assert_eq!(out.path_and_query, "/api/v3/order");
        assert_eq!(out.headers[0].1.as_str(), "real-key");

        // A GET signed in the query is re-signed in the query.
        let get = Incoming {
            method: "GET".into(),
            path: "/api/v3/account".into(),
            ..with_sig(&ps, &format!("timestamp={}", now - 5), "", false)
        };
        BinanceAgent.verify(&get, &placeholder, now).expect("verifies");
        let out = BinanceAgent.resign(&get, &real, now, false).unwrap();
        let q = format!("timestamp={now}");
        assert_eq!(out.path_and_query, format!("/api/v3/account?{q}&signature={}", binance_sign(&rs, &q, "")));
    }

    #[test]
    fn money_out_and_key_management_are_always_refused() {
        for (m, p) in [
            ("POST", "/sapi/v1/capital/withdraw/apply"),
            ("POST", "/sapi/v1/asset/transfer"),
            ("POST", "/sapi/v1/sub-account/transfer/subToMaster"),
            ("GET", "/sapi/v1/sub-account/list"),
            ("GET", "/sapi/v1/account/apiRestrictions"),
            ("POST", "/sapi/v2/sub-account/subAccountApi/ipRestriction"),
        ] {
            assert!(matches!(BinanceAgent.route(m, p), Route::AlwaysRefused(_)), "{m} {p}");
        }
        assert_eq!(BinanceAgent.route("GET", "/api/v3/account"), Route::Other);
        assert_eq!(BinanceAgent.route("POST", "/api/v3/order"), Route::Order);
        assert_eq!(BinanceAgent.route("DELETE", "/api/v3/order"), Route::Cancel);
        assert_eq!(BinanceAgent.route("GET", "/api/v3/order"), Route::Other);
    }
}
