//! An exchange's HTTP answer, as the client reads it after the network.
//!
//! Input: a first line `STATUS [RETRY-AFTER]` (e.g. `401` or `429 Wed, 21 Oct 2015 07:28:30 GMT`),
//! then the body. Properties:
//! - nothing panics: envelope, inspection, revoke, server time, `Retry-After`;
//! - every documented error code maps to its typed error, carrying that code (an independent table
//!   here, so a changed mapping in core fails loudly), and a rate limit carries the `Retry-After`;
//! - success only for the exchange's success envelope;
//! - a revoke is "already revoked" exactly for the exchange's "key does not exist" code;
//! - an inspection is normalised (sorted, deduplicated permissions, the right exchange and demo
//!   flag, a whitelist only where the exchange gives one) and survives a JSON round trip;
//! - no value of a secret-named field in the answer (`apiKey`, `secret`, `passphrase`, …) reaches
//!   an error message, an inspection or a revoke outcome, nor the Debug of a listed or created
//!   sub-account key (issue 13);
//! - the sub-account calls' parsers (sub-accounts, a page of sub keys, a created key) never panic,
//!   and a created key holds exactly the secret the answer carried.

use std::time::Duration;

use chrono::{DateTime, Utc};
use latchkey_core::exchange::fuzzing::{self, Answer};
use latchkey_core::exchange::{ExchangeError, ProofVerdict};
use latchkey_core::model::{AccountKind, Exchange, KeyInspection};
use serde_json::Value;

use crate::{distinctive, head_line};

/// The documented codes, as the exchanges' API references list them, and the error kind each must
/// become.
fn documented(exchange: Exchange, code: &str) -> Option<&'static str> {
    Some(match (exchange, code) {
        (Exchange::Okx, "50100") => "key_frozen",
        (Exchange::Okx, "50101") => "wrong_environment",
        (Exchange::Okx, "50102") => "clock_skew",
        (Exchange::Okx, "50105") => "wrong_passphrase",
        (Exchange::Okx, "50110") => "ip_not_allowed",
        (Exchange::Okx, "50111" | "50114" | "50119") => "invalid_key",
        (Exchange::Okx, "50113") => "bad_signature",
        (Exchange::Okx, "50120" | "50030") => "permission_denied",
        (Exchange::Okx, "50035") => "ip_binding_required",
        (Exchange::Okx, "50011") => "rate_limited",
        (Exchange::Okx, "50038") => "not_available",
        (Exchange::Bybit, "10002") => "clock_skew",
        (Exchange::Bybit, "10003" | "10007") => "invalid_key",
        (Exchange::Bybit, "10004") => "bad_signature",
        (Exchange::Bybit, "10005") => "permission_denied",
        (Exchange::Bybit, "10006") => "rate_limited",
        (Exchange::Bybit, "10010") => "ip_not_allowed",
        (Exchange::Bybit, "33004" | "-2015") => "key_expired",
        (Exchange::Binance, "-1002") => "permission_denied",
        (Exchange::Binance, "-1003") => "rate_limited",
        (Exchange::Binance, "-1021") => "clock_skew",
        (Exchange::Binance, "-1022") => "bad_signature",
        (Exchange::Binance, "-2014") => "invalid_key",
        (Exchange::Binance, "-2015") => "key_ip_or_permission",
        (Exchange::Kucoin, "400002") => "clock_skew",
        (Exchange::Kucoin, "400003") => "invalid_key",
        (Exchange::Kucoin, "400004") => "wrong_passphrase",
        (Exchange::Kucoin, "400005") => "bad_signature",
        (Exchange::Kucoin, "400006") => "ip_not_allowed",
        (Exchange::Kucoin, "400007") => "permission_denied",
        (Exchange::Kucoin, "411100") => "key_frozen",
        (Exchange::Kucoin, "429000") => "rate_limited",
        (Exchange::Gate, "INVALID_KEY" | "INVALID_CREDENTIALS") => "invalid_key",
        (Exchange::Gate, "INVALID_SIGNATURE") => "bad_signature",
        (Exchange::Gate, "REQUEST_EXPIRED") => "clock_skew",
        (Exchange::Gate, "IP_FORBIDDEN") => "ip_not_allowed",
        (Exchange::Gate, "READ_ONLY" | "FORBIDDEN") => "permission_denied",
        (Exchange::Gate, "ACCOUNT_LOCKED") => "key_frozen",
        (Exchange::Gate, "TOO_MANY_REQUESTS") => "rate_limited",
        (Exchange::Bitget, "40006" | "40037") => "invalid_key",
        (Exchange::Bitget, "40009") => "bad_signature",
        (Exchange::Bitget, "40036" | "40012") => "wrong_passphrase",
        (Exchange::Bitget, "40038" | "40018") => "ip_not_allowed",
        (Exchange::Bitget, "40014") => "permission_denied",
        (Exchange::Bitget, "40008" | "40005") => "clock_skew",
        (Exchange::Bitget, "429" | "429000") => "rate_limited",
        (Exchange::Kraken, "EAPI:Invalid key") => "invalid_key",
        (Exchange::Kraken, "EAPI:Invalid signature") => "bad_signature",
        (Exchange::Kraken, "EAPI:Invalid nonce") => "invalid_nonce",
        (Exchange::Kraken, "EGeneral:Permission denied") => "permission_denied",
        (Exchange::Kraken, "EAPI:Rate limit exceeded" | "EGeneral:Temporary lockout") => "rate_limited",
        (Exchange::Deribit, "13004") => "invalid_key",
        (Exchange::Deribit, "13009") => "bad_signature",
        (Exchange::Deribit, "13021" | "13403") => "permission_denied",
        (Exchange::Deribit, "10028") => "rate_limited",
        _ => return None,
    })
}

/// "This key does not exist" when deleting a key.
/// The invalid-key refusals of a key's own read that prove the key gone (issue 10, item 2).
/// What proves a key gone when nothing rules out an IP refusal (Binance's -2015 says "unknown
/// key, IP or permission" in one code, so alone it proves nothing).
fn proof_codes(exchange: Exchange) -> &'static [&'static str] {
    match exchange {
        Exchange::Okx => &["50111", "50119"],
        Exchange::Bybit => &["10003"],
        Exchange::Binance => &["-2014"],
        Exchange::Kucoin => &["400003"],
        Exchange::Gate => &["INVALID_KEY"],
        Exchange::Kraken => &["EAPI:Invalid key"],
        Exchange::Bitget => &["40006", "40037"],
        Exchange::Deribit => &["13004"],
    }
}

/// The code of a successful answer; `None`: success is any HTTP 2xx (Binance, Gate).
fn success_code(exchange: Exchange) -> Option<&'static str> {
    match exchange {
        Exchange::Okx | Exchange::Bybit => Some("0"),
        Exchange::Kucoin => Some("200000"),
        Exchange::Bitget => Some("00000"),
        // Kraken: an empty `error` list; Deribit: a JSON-RPC `result` (no code either way).
        Exchange::Binance | Exchange::Gate | Exchange::Kraken | Exchange::Deribit => None,
    }
}

fn code_field(exchange: Exchange) -> &'static str {
    match exchange {
        Exchange::Okx | Exchange::Binance | Exchange::Kucoin | Exchange::Bitget => "code",
        Exchange::Bybit => "retCode",
        Exchange::Gate => "label",
        // Kraken's are strings in the `error` list, Deribit's under `error.code` (see `check`).
        Exchange::Kraken | Exchange::Deribit => "error",
    }
}

/// The exchange's code as text, the way the exchanges mix strings and numbers.
fn code_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn is_transport_status(status: u16) -> bool {
    (500..=599).contains(&status) || status == 429 || status == 418
}

const SECRET_NAMES: [&str; 7] = ["apikey", "secret", "secretkey", "apisecret", "passphrase", "password", "privatekey"];

fn secret_named(key: &str) -> bool {
    let plain: String = key.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_ascii_lowercase();
    SECRET_NAMES.contains(&plain.as_str())
}

/// Values of secret-named fields (`secrets`) and every other string and key (`rest`).
fn split_strings(value: &Value, secrets: &mut Vec<String>, rest: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                rest.push(k.clone());
                match v {
                    Value::String(s) if secret_named(k) => secrets.push(s.clone()),
                    _ => split_strings(v, secrets, rest),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| split_strings(v, secrets, rest)),
        Value::String(s) => rest.push(s.clone()),
        Value::Number(n) => rest.push(n.to_string()),
        Value::Bool(_) | Value::Null => {}
    }
}

fn check_error(exchange: Exchange, answer: &Answer<'_>, err: &ExchangeError) {
    if let ExchangeError::RateLimited { exchange: e, retry_after } = err {
        assert_eq!(*e, exchange);
        assert_eq!(*retry_after, answer.retry_after, "a rate limit keeps the Retry-After");
    }
    let message = err.to_string();
    assert!(!message.is_empty());
    if let Some(code) = err.code() {
        assert!(message.contains(code), "the message names the code: {message}");
    }
}

fn check_inspection(exchange: Exchange, demo: bool, inspection: &KeyInspection) {
    assert_eq!(inspection.exchange, exchange);
    assert_eq!(inspection.demo, demo);
    assert!(inspection.permissions.windows(2).all(|w| w[0] < w[1]), "sorted, no duplicates");
    match exchange {
        Exchange::Binance => assert!(inspection.ip_whitelist.is_empty(), "Binance gives no list"),
        // A masked list (the key's own read) says bound, not to which IPs.
        Exchange::Kucoin => assert!(inspection.ip_restricted || inspection.ip_whitelist.is_empty()),
        _ => assert_eq!(inspection.ip_restricted, !inspection.ip_whitelist.is_empty()),
    }
    assert!(inspection.ip_whitelist.iter().all(|ip| !ip.trim().is_empty()), "no blank IP entry");
    if exchange == Exchange::Bybit {
        assert!(!inspection.ip_whitelist.iter().any(|ip| ip == "*"), "Bybit's '*' means any IP");
    }
    if inspection.account_kind != AccountKind::Sub {
        assert_eq!(inspection.master_uid, None, "a master uid only for sub keys");
    }
    let json = serde_json::to_string(inspection).unwrap();
    let back: KeyInspection = serde_json::from_str(&json).unwrap();
    assert_eq!(&back, inspection, "the inspection crosses to the UI unchanged");
}

pub fn check(exchange: Exchange, data: &[u8]) {
    let (head, body) = head_line(data);
    let head = String::from_utf8_lossy(head);
    let (status, header) = head.split_once(' ').unwrap_or((&head, ""));
    let status: u16 = status.trim().parse().unwrap_or(200);
    let now: DateTime<Utc> = DateTime::from_timestamp(1_790_000_000, 0).unwrap();
    let retry_after = fuzzing::retry_after(header, now);
    if let Ok(secs) = header.trim().parse::<u64>() {
        assert_eq!(retry_after, Some(Duration::from_secs(secs)));
    }
    let answer = Answer { status, retry_after, body };
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let mut outputs: Vec<String> = Vec::new();

    // The envelope and the error-code mapping.
    let interpreted = fuzzing::interpret(exchange, &answer);
    // Gate's label is text only.
    let code = parsed.as_ref().and_then(|v| match exchange {
        Exchange::Gate => v["label"].as_str().map(str::to_owned),
        // Kraken's errors are the list's entries that start with E (W: warnings).
        Exchange::Kraken => v["error"]
            .as_array()
            .and_then(|list| list.iter().filter_map(Value::as_str).find(|e| e.starts_with('E')))
            .map(str::to_owned),
        Exchange::Deribit => code_text(&v["error"]["code"]),
        _ => code_text(&v[code_field(exchange)]),
    });
    let empty = body.iter().all(u8::is_ascii_whitespace);
    match &interpreted {
        Ok(_) => match success_code(exchange) {
            None => {
                assert!((200..300).contains(&status), "{exchange} success is HTTP 2xx");
                assert!(parsed.is_some() || (exchange == Exchange::Gate && empty), "success needs a JSON body");
            }
            Some(ok) => {
                assert!(parsed.is_some(), "success needs a JSON body");
                assert_eq!(code.as_deref(), Some(ok), "success is code {ok}");
            }
        },
        Err(err) => {
            check_error(exchange, &answer, err);
            outputs.push(err.to_string());
            let mapped = match success_code(exchange) {
                None => !is_transport_status(status) && !(200..300).contains(&status),
                Some(_) => status < 500,
            };
            if let (true, Some(code)) = (mapped, code.as_deref()) {
                match documented(exchange, code) {
                    Some(kind) => {
                        assert_eq!(err.kind(), kind, "{exchange} code {code}");
                        if !matches!(kind, "rate_limited" | "not_available") {
                            assert_eq!(err.code(), Some(code), "the error carries the exchange's code");
                        }
                    }
                    None if !is_transport_status(status) && Some(code) != success_code(exchange) => {
                        assert_eq!(err.kind(), "rejected", "{exchange} code {code}");
                        // Kraken's code is its whole error text, shortened to 160 characters for
                        // the message like any exchange text.
                        let shown: String = if exchange == Exchange::Kraken {
                            code.chars().take(160).collect()
                        } else {
                            code.to_owned()
                        };
                        assert_eq!(err.code(), Some(shown.as_str()));
                    }
                    None => {}
                }
            }
        }
    }

    // Key inspection, live and demo.
    for demo in [false, true] {
        match fuzzing::inspect(exchange, &answer, demo) {
            Ok(inspection) => {
                assert!(interpreted.is_ok());
                check_inspection(exchange, demo, &inspection);
                outputs.push(serde_json::to_string(&inspection).unwrap());
            }
            Err(err) => {
                check_error(exchange, &answer, &err);
                outputs.push(err.to_string());
            }
        }
    }

    // Revocation proof: proved only by an invalid-key refusal, still live only on success.
    match fuzzing::revoke_proof(exchange, &answer) {
        ProofVerdict::Proved => {
            let err = interpreted.as_ref().err().expect("proved only on an error");
            assert!(err.code().is_some_and(|c| proof_codes(exchange).contains(&c)), "{err}");
        }
        ProofVerdict::StillLive => assert!(interpreted.is_ok()),
        ProofVerdict::NotProved(err) => {
            // A proof code stays unproved only where it also means "wrong host" and the key's
            // host is not known (revoke_proof asks with nothing known).
            let proof_code = err.code().is_some_and(|c| proof_codes(exchange).contains(&c));
            assert!(!proof_code || fuzzing::proof_needs_known_host(exchange, &err), "{err}");
            outputs.push(err.to_string());
        }
    }

    // The exchange's clock.
    match fuzzing::server_time(exchange, &answer) {
        Ok(_) => assert!(interpreted.is_ok()),
        Err(err) => outputs.push(err.to_string()),
    }

    // A master's sub-account calls (issue 13).
    match fuzzing::sub_accounts(exchange, &answer) {
        Ok(accounts) => outputs.extend(accounts.iter().map(|a| format!("{a:?}"))),
        Err(err) => outputs.push(err.to_string()),
    }
    match fuzzing::sub_keys(exchange, &answer) {
        Ok((keys, _cursor)) => outputs.extend(keys.iter().map(|k| format!("{k:?}"))),
        Err(err) => outputs.push(err.to_string()),
    }
    match fuzzing::created_sub_key(exchange, &answer, Some("Gen-Pass-2026")) {
        Ok(created) => {
            use secrecy::ExposeSecret;
            let field = match exchange {
                Exchange::Bybit | Exchange::Gate => "secret",
                Exchange::Kucoin => "apiSecret",
                Exchange::Okx | Exchange::Binance | Exchange::Bitget => "secretKey",
                Exchange::Deribit => "client_secret",
                // No sub-key API: a created key never parses.
                Exchange::Kraken => "secret",
            };
            let data = parsed.as_ref().map(|v| match exchange {
                Exchange::Okx => &v["data"][0],
                Exchange::Bybit => &v["result"],
                Exchange::Kucoin | Exchange::Bitget => &v["data"],
                Exchange::Deribit => &v["result"],
                Exchange::Binance | Exchange::Gate | Exchange::Kraken => v,
            });
            let sent = data.and_then(|d| d[field].as_str());
            assert_eq!(Some(created.credentials.api_secret.expose_secret()), sent, "the answer's secret, as it came");
            outputs.push(format!("{created:?}"));
        }
        Err(err) => outputs.push(err.to_string()),
    }

    // Nothing from a secret-named field comes out.
    if let Some(value) = &parsed {
        let (mut secrets, mut rest) = (Vec::new(), Vec::new());
        split_strings(value, &mut secrets, &mut rest);
        for secret in secrets.iter().filter(|s| distinctive(s)) {
            if rest.iter().any(|r| r.contains(secret.as_str())) {
                continue;
            }
            for out in &outputs {
                assert!(!out.contains(secret.as_str()), "a secret-named field's value came out: {out}");
            }
        }
    }
}
