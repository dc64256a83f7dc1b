//! Is a value a credential or a decoy? The exchange shapes come from [`crate::validate::credentials`]
//! itself, so the scanner and the "Add key" form agree; on top of them sit the checks for values that
//! have the right shape but are obviously not real (placeholders, repeated or sequential characters).

use secrecy::SecretString;

use crate::model::Exchange;
use crate::validate::{self, Field};

/// Stand-ins for the part that is not being checked, so one part can be tested alone with the same
/// rules as a full set: the adapter's well-shaped sample. They never leave this module.
fn dummies(exchange: Exchange) -> (&'static str, &'static str, Option<&'static str>) {
    exchange.profile().scan.sample
}

fn s(v: &str) -> SecretString {
    SecretString::from(v.to_owned())
}

/// The API key has the exchange's shape and does not look made up.
pub(crate) fn key_ok(exchange: Exchange, key: &str) -> bool {
    let (_, secret, pass) = dummies(exchange);
    let shaped = match validate::credentials(exchange, &s(key), &s(secret), pass.map(s).as_ref()) {
        Ok(()) => true,
        Err(e) => e.field != Field::ApiKey,
    };
    shaped && !looks_fake(key)
}

/// The secret has the exchange's shape and does not look made up.
pub(crate) fn secret_ok(exchange: Exchange, secret: &str) -> bool {
    let (key, _, pass) = dummies(exchange);
    let shaped = match validate::credentials(exchange, &s(key), &s(secret), pass.map(s).as_ref()) {
        Ok(()) => true,
        Err(e) => e.field != Field::ApiSecret,
    };
    shaped && !looks_fake(secret)
}

/// An OKX passphrase is anything the user chose, up to 64 characters; only placeholders are refused.
pub(crate) fn passphrase_ok(pass: &str) -> bool {
    let p = pass.trim();
    let lower = p.to_ascii_lowercase();
    let template = p.starts_with('$') || p.starts_with('<') || p.starts_with('{') || p.contains("${");
    let words = ["your", "xxx", "changeme", "change_me", "placeholder", "example", "***", "..."];
    !p.is_empty()
        && p.chars().count() <= 64
        && !p.chars().any(char::is_whitespace)
        && !template
        && !words.iter().any(|w| lower.contains(w))
        && !["passphrase", "password", "secret", "pass", "none", "null"].contains(&lower.as_str())
}

/// The exchange a generic `API_KEY` / `API_SECRET` pair belongs to, from the values' shapes alone.
/// Only distinctive shapes count (each adapter's `distinctive_shape`: OKX's UUID + 32 hex with a
/// passphrase, Binance's 64 + 64, Bybit's usual 18 + 36), and they exclude each other.
pub(crate) fn exchange_by_shape(key: &str, secret: &str, has_passphrase: bool) -> Option<Exchange> {
    Exchange::ALL
        .into_iter()
        .find(|&e| e.adapter().distinctive_shape(key, secret, has_passphrase) && key_ok(e, key) && secret_ok(e, secret))
}

const PLACEHOLDER_WORDS: &[&str] = &[
    "your",
    "xxx",
    "example",
    "changeme",
    "change_me",
    "change-me",
    "placeholder",
    "dummy",
    "sample",
    "redacted",
    "insert",
    "replace",
    "secret",
    "apikey",
    "api_key",
    "passphrase",
    "password",
    "todo",
    "fixme",
    "***",
    "...",
    "…",
];

/// Template syntax and the words people put in examples instead of a real value.
pub(crate) fn is_placeholder(v: &str) -> bool {
    let t = v.trim();
    if t.is_empty() {
        return true;
    }
    if t.starts_with('$') || t.starts_with('<') || t.starts_with('{') || t.starts_with('%') || t.contains("${") {
        return true;
    }
    let lower = t.to_ascii_lowercase();
    PLACEHOLDER_WORDS.iter().any(|w| lower.contains(w))
}

/// Right length and alphabet, but made up: placeholders, few distinct characters, long runs of one
/// character, or a long ascending/descending sequence such as `abcdef` or `123456`.
pub(crate) fn looks_fake(v: &str) -> bool {
    if is_placeholder(v) {
        return true;
    }
    let chars: Vec<char> = v.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect();
    let mut distinct = chars.clone();
    distinct.sort_unstable();
    distinct.dedup();
    // Random hex of 32 characters has about 14 distinct; random alphanumerics far more.
    if distinct.len() < (chars.len() / 4).clamp(4, 8) {
        return true;
    }
    let (mut run, mut up, mut down) = (1, 1, 1);
    for w in chars.windows(2) {
        let (a, b) = (w[0] as u32, w[1] as u32);
        run = if a == b { run + 1 } else { 1 };
        up = if b == a + 1 { up + 1 } else { 1 };
        down = if a == b + 1 { down + 1 } else { 1 };
        if run >= 5 || up >= 6 || down >= 6 {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    const OKX_KEY: &str = "8f3b6c1e-5a7d-4e29-b0c4-93d2e6f1a875";
    const OKX_SECRET: &str = "7E1A9C34B08D52F6E3A1C97B4D0F28E5";
    const BN: &str = "q7Lm2XkR9vT4pW8sN3bY6cF1hJ5gD0aZeU2iO7rK4tQ9wE3yS8uP1nM6lB5vC0xH";

    #[test]
    fn real_looking_values_pass() {
        assert!(key_ok(Exchange::Okx, OKX_KEY));
        assert!(secret_ok(Exchange::Okx, OKX_SECRET));
        assert!(key_ok(Exchange::Binance, BN));
        assert!(key_ok(Exchange::Bybit, "Kq3Zt8WmR2xVn5LpJ7"));
        assert_eq!(exchange_by_shape(OKX_KEY, OKX_SECRET, true), Some(Exchange::Okx));
        assert_eq!(exchange_by_shape(OKX_KEY, OKX_SECRET, false), None, "a UUID with no passphrase is no OKX key");
    }

    #[test]
    fn decoys_fail() {
        for v in ["your-api-key", "xxxxxxxxxxxxxxxxxx", "${BINANCE_API_KEY}", "<secret>", "changeme", ""] {
            assert!(!key_ok(Exchange::Bybit, v), "{v}");
        }
        assert!(!key_ok(Exchange::Bybit, "AAAAAAAAAAAAAAAAAA"));
        assert!(!key_ok(Exchange::Bybit, "abcdefghijklmnopqr"));
        assert!(!secret_ok(Exchange::Okx, "00000000000000000000000000000000"));
        assert!(!passphrase_ok("your_passphrase"));
        assert!(passphrase_ok("Tr4d3!ng-Bot"));
    }
}
