//! What the signing agent ([`crate::agent`]) needs of an exchange: how a request names its key,
//! how the exchange checks a signature (so the agent can check the bot's placeholder signature the
//! same way), how to sign the same bytes again with the real key, which endpoints move money out or
//! manage keys, and how the exchange itself says "no" so a bot's library does not retry.
//!
//! One implementation per exchange, beside its adapter (`okx/agent.rs`, …). Pure functions: the
//! agent passes the clock.

use secrecy::SecretString;
use zeroize::Zeroizing;

/// A bot's request as the agent received it, the agent's own path prefix already removed.
#[derive(Clone)]
pub struct Incoming {
    pub method: String,
    /// e.g. `/api/v5/account/balance`.
    pub path: String,
    /// The raw query string exactly as sent, without `?`.
    pub query: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    /// The raw body exactly as sent.
    pub body: String,
}

/// Header values (keys, signatures, the passphrase) and the body are left out.
impl std::fmt::Debug for Incoming {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("Incoming")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("headers", &names)
            .field("body_bytes", &self.body.len())
            .finish_non_exhaustive()
    }
}

impl Incoming {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }
}

/// The request to send to the exchange: the same bytes, stamped and signed with the real key.
#[derive(Debug)]
pub struct Outgoing {
    /// Path and query, e.g. `/api/v3/account?timestamp=…&signature=…`.
    pub path_and_query: String,
    /// Only the headers the exchange's authentication needs (the agent adds content-type); the
    /// values carry the real key, so they are zeroized and sent marked sensitive.
    pub headers: Vec<(&'static str, Zeroizing<String>)>,
    pub body: String,
}

/// The credentials a request is checked or signed with: a bot's placeholder set or the real key's.
pub struct SigningKey<'a> {
    pub api_key: &'a SecretString,
    pub secret: &'a SecretString,
    pub passphrase: Option<&'a SecretString>,
}

/// Why the agent refuses a request, before or instead of forwarding it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No placeholder key, or one Latchkey did not issue (or revoked): the caller is not a bot.
    UnknownKey(String),
    /// A known placeholder key with a wrong signature or passphrase.
    BadSignature(String),
    /// The timestamp is outside the exchange's window (a replayed or delayed request).
    Stale(String),
    /// The key's policy refuses this endpoint, symbol or rate.
    Forbidden(String),
    /// The key behind the bot is revoked, quarantined, halted or not for bots.
    KeyUnusable(String),
    /// Demo request for a live key, or the other way round.
    WrongEnvironment(String),
}

impl Refusal {
    pub fn reason(&self) -> &str {
        match self {
            Refusal::UnknownKey(r)
            | Refusal::BadSignature(r)
            | Refusal::Stale(r)
            | Refusal::Forbidden(r)
            | Refusal::KeyUnusable(r)
            | Refusal::WrongEnvironment(r) => r,
        }
    }

    /// A short stable word for counters and the audit log.
    pub fn kind(&self) -> &'static str {
        match self {
            Refusal::UnknownKey(_) => "unknown-key",
            Refusal::BadSignature(_) => "bad-signature",
            Refusal::Stale(_) => "stale",
            Refusal::Forbidden(_) => "forbidden",
            Refusal::KeyUnusable(_) => "key-unusable",
            Refusal::WrongEnvironment(_) => "wrong-environment",
        }
    }
}

/// What an endpoint is, for the policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// Never through the agent, whatever the key may do: withdrawals, transfers, sub-accounts,
    /// API-key management. The text says which.
    AlwaysRefused(&'static str),
    /// Places or amends an order (counts toward the order cap; symbols checked).
    Order,
    /// Cancels orders (allowed while draining).
    Cancel,
    /// Anything else: reads, account settings.
    Other,
}

/// The exchange's answer to a refused request: its own status and error body.
pub struct RefusalAnswer {
    pub status: u16,
    pub body: String,
}

/// What a placeholder set looks like for an exchange: shaped like its real keys, so bots and
/// their config checks (Latchkey's own wizard among them) take it.
#[derive(Clone, Copy, Debug)]
pub struct PlaceholderShape {
    /// The key from 32 random bytes.
    pub key: fn(&[u8; 32]) -> String,
    /// How many hex digits of the derived secret, and whether upper case.
    pub secret_hex_digits: usize,
    pub secret_upper: bool,
    pub passphrase: bool,
}

/// A UUID-shaped key (8-4-4-4-12 hex digits) from the first 16 bytes.
pub(crate) fn uuid_key(random: &[u8; 32]) -> String {
    let h = hex::encode(&random[..16]);
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

/// `digits` hex digits of `random`.
pub(crate) fn hex_key(random: &[u8; 32], digits: usize) -> String {
    hex::encode(random)[..digits].to_owned()
}

pub(crate) trait AgentScheme: Send + Sync {
    fn placeholder_shape(&self) -> PlaceholderShape;

    /// The API key the request names (the bot's placeholder key).
    fn caller_key<'a>(&self, req: &'a Incoming) -> Option<&'a str>;

    /// Checks the request's signature and timestamp as the exchange checks them, with `key`.
    fn verify(&self, req: &Incoming, key: &SigningKey<'_>, now_ms: i64) -> Result<(), Refusal>;

    /// Whether the request asks for the exchange's demo environment (OKX `x-simulated-trading`).
    fn wants_demo(&self, _req: &Incoming) -> bool {
        false
    }

    /// The same request stamped at `now_ms` and signed with `key`; `demo` adds the exchange's demo
    /// marker where it has one.
    fn resign(&self, req: &Incoming, key: &SigningKey<'_>, now_ms: i64, demo: bool) -> Result<Outgoing, Refusal>;

    fn route(&self, method: &str, path: &str) -> Route;

    /// The symbols an order or cancel names (for an allow-list).
    fn symbols(&self, req: &Incoming) -> Vec<String>;

    /// Whether an order only reduces a position (allowed while draining).
    fn reduce_only(&self, req: &Incoming) -> bool;

    /// The exchange's own non-retryable answer for `refusal`.
    fn refusal_answer(&self, refusal: &Refusal) -> RefusalAnswer;

    /// Public market data (a GET naming no key, on the exchange's public paths), which bots load
    /// before they trade (CCXT's `load_markets`) and which CCXT sends to the same URL as the
    /// signed requests on some exchanges (OKX): passed through unsigned and unchanged, as the
    /// request to send, with `demo`'s marker where the exchange has one. `None`: not such a request.
    fn public_read(&self, _req: &Incoming, _demo: bool) -> Option<Outgoing> {
        None
    }
}

/// [`AgentScheme::public_read`] for an exchange whose public data lives under `prefixes`.
pub(crate) fn public_get(req: &Incoming, named_key: bool, prefixes: &[&str]) -> Option<Outgoing> {
    let public = req.method.eq_ignore_ascii_case("GET")
        && !named_key
        && req.body.is_empty()
        && prefixes.iter().any(|p| req.path.starts_with(p))
        && !req.path.contains("..");
    public.then(|| Outgoing {
        path_and_query: if req.query.is_empty() { req.path.clone() } else { format!("{}?{}", req.path, req.query) },
        headers: Vec::new(),
        body: String::new(),
    })
}

/// `query` without its `signature=` parameter, and that parameter's value: the bytes otherwise
/// untouched, so what was signed is signed again exactly.
pub(crate) fn split_param<'a>(query: &'a str, name: &str) -> (String, Option<&'a str>) {
    let mut kept = Vec::new();
    let mut found = None;
    for part in query.split('&').filter(|p| !p.is_empty()) {
        match part.split_once('=') {
            Some((k, v)) if k == name && found.is_none() => found = Some(v),
            _ => kept.push(part),
        }
    }
    (kept.join("&"), found)
}

/// `query` with the value of parameter `name` replaced (the first occurrence), or `None` when
/// the parameter is absent.
pub(crate) fn replace_param(query: &str, name: &str, value: &str) -> Option<String> {
    let mut replaced = false;
    let parts: Vec<String> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|part| match part.split_once('=') {
            Some((k, _)) if k == name && !replaced => {
                replaced = true;
                format!("{k}={value}")
            }
            _ => part.to_owned(),
        })
        .collect();
    replaced.then(|| parts.join("&"))
}

/// The decoded value of form parameter `name` in `query` or `body`.
pub(crate) fn form_param(query: &str, body: &str, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query.as_bytes())
        .chain(url::form_urlencoded::parse(body.as_bytes()))
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// A string or number field of a JSON body, as text.
pub(crate) fn json_field(body: &str, name: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    match value.get(name)? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Constant-time comparison of two signatures as text.
pub(crate) fn same_signature(given: &str, expected: &str) -> bool {
    use subtle::ConstantTimeEq;
    given.len() == expected.len() && bool::from(given.as_bytes().ct_eq(expected.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_comes_out_and_the_rest_stays_byte_exact() {
        let (rest, sig) = split_param("symbol=BTC%2FUSDT&timestamp=1&signature=ab12", "signature");
        assert_eq!(rest, "symbol=BTC%2FUSDT&timestamp=1");
        assert_eq!(sig, Some("ab12"));
        assert_eq!(split_param("a=1", "signature"), ("a=1".to_owned(), None));
        assert_eq!(replace_param("a=1&timestamp=5&b=2", "timestamp", "9").as_deref(), Some("a=1&timestamp=9&b=2"));
        assert_eq!(replace_param("a=1", "timestamp", "9"), None);
    }

    #[test]
    fn params_are_read_from_query_body_and_json() {
        assert_eq!(form_param("symbol=BTCUSDT", "", "symbol").as_deref(), Some("BTCUSDT"));
        assert_eq!(form_param("", "side=BUY&symbol=ETH%2FUSDT", "symbol").as_deref(), Some("ETH/USDT"));
        assert_eq!(json_field(r#"{"instId":"BTC-USDT","reduceOnly":true}"#, "reduceOnly").as_deref(), Some("true"));
        assert_eq!(json_field("not json", "instId"), None);
        assert!(same_signature("abc", "abc"));
        assert!(!same_signature("abc", "abd"));
        assert!(!same_signature("abc", "abcd"));
        let req = Incoming {
            method: "GET".into(),
            path: "/api/v5/account/balance".into(),
            query: String::new(),
            headers: vec![("ok-access-passphrase".into(), "Placeholder-Pass-1!".into())],
            body: "{}".into(),
        };
        let shown = format!("{req:?}");
        assert!(shown.contains("ok-access-passphrase") && !shown.contains("Placeholder-Pass-1!"), "{shown}");
    }
}
