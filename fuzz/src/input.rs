//! The "add a key" form: label, API key, secret, passphrase and a custom base URL, as typed.
//!
//! Input: lines `exchange`, `label`, `api key`, `secret`, `passphrase`, `base URL`. Properties:
//! - no validation message ever contains what was typed into a credential field (messages describe
//!   the expected shape, never the value);
//! - what passes is what the exchange's shape allows (no whitespace, key ≠ secret, passphrase only
//!   for OKX), and trimming then validating is the same as validating the trimmed values;
//! - a label is accepted trimmed, 1 to 64 characters, without control characters;
//! - a custom base URL is accepted only as https (or http on loopback) without credentials or a
//!   query, and accepting it again gives the same URL.

use std::sync::LazyLock;

use latchkey_core::model::{Environment, Exchange};
use latchkey_core::secret::Credentials;
use latchkey_core::validate;
use secrecy::{ExposeSecret, SecretString};

/// Every message the credential checks can give, from inputs that reach each branch.
static KNOWN_MESSAGES: LazyLock<Vec<String>> = LazyLock::new(|| {
    let samples = [
        "",
        "a b",
        "ab",
        "37c541a1-0000-4000-8000-10fe7a038418",
        "0123456789abcdef0123456789ABCDEF",
        "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
        "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j",
        "XXXXXXXXXXXXXXXXXX",
        "YYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYY",
    ];
    let long_pass = "p".repeat(65);
    let mut out = Vec::new();
    for exchange in Exchange::ALL {
        for key in samples {
            for secret in samples {
                for pass in [None, Some("pass"), Some(long_pass.as_str())] {
                    let creds = Credentials::new(key, secret, pass);
                    if let Err(e) = validate::checked_credentials(exchange, &creds) {
                        out.push(e.message);
                    }
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
});

fn line(lines: &[&str], i: usize) -> String {
    lines.get(i).copied().unwrap_or_default().to_owned()
}

pub fn check(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let lines: Vec<&str> = text.split('\n').collect();
    let exchange = line(&lines, 0).trim().parse::<Exchange>().unwrap_or(Exchange::Okx);
    let (label, key, secret, pass, base_url) =
        (line(&lines, 1), line(&lines, 2), line(&lines, 3), line(&lines, 4), line(&lines, 5));

    // Credentials.
    let raw = Credentials::new(&key, &secret, Some(pass.as_str()).filter(|p| !p.is_empty()));
    let checked = validate::checked_credentials(exchange, &raw);
    match &checked {
        Err(e) => {
            for value in [&key, &secret, &pass] {
                let value = value.trim();
                if value.chars().count() >= 4 && e.message.contains(value) {
                    assert!(
                        KNOWN_MESSAGES.iter().any(|m| m.contains(value)),
                        "a validation message echoed a typed value: {}",
                        e.message
                    );
                }
            }
        }
        Ok(creds) => {
            let (k, s) = (creds.api_key.expose_secret(), creds.api_secret.expose_secret());
            assert!(!k.is_empty() && !s.is_empty() && k != s);
            assert!(!k.chars().chain(s.chars()).any(char::is_whitespace));
            assert_eq!((k, s), (key.trim(), secret.trim()));
            assert_eq!(creds.passphrase.is_some(), exchange.needs_passphrase());
            let again = validate::credentials(exchange, &creds.api_key, &creds.api_secret, creds.passphrase.as_ref());
            assert!(again.is_ok(), "checked credentials pass again");
        }
    }
    let trimmed = |v: &str| SecretString::from(v.trim().to_owned());
    let pass_trimmed = trimmed(&pass);
    let direct = validate::credentials(
        exchange,
        &trimmed(&key),
        &trimmed(&secret),
        Some(&pass_trimmed).filter(|p| !p.expose_secret().is_empty()),
    );
    assert_eq!(direct.err(), checked.err(), "trim then check is what checked_credentials does");

    // Label.
    match validate::label(&label) {
        Ok(l) => {
            assert_eq!(l, label.trim());
            assert!((1..=validate::LABEL_MAX_CHARS).contains(&l.chars().count()));
            assert!(!l.chars().any(char::is_control));
            assert_eq!(validate::label(&l), Ok(l.clone()));
        }
        Err(e) => assert!(!e.message.is_empty()),
    }

    // Custom base URL.
    if let Ok(Environment::Custom { base_url: url }) =
        validate::environment(Environment::Custom { base_url: base_url.clone() })
    {
        let parsed = url::Url::parse(&url).expect("an accepted base URL parses");
        assert!(matches!(parsed.scheme(), "https" | "http"));
        assert!(parsed.username().is_empty() && parsed.password().is_none() && parsed.query().is_none());
        if parsed.scheme() == "http" {
            let host = parsed.host_str().unwrap_or_default();
            assert!(
                host == "localhost" || host.starts_with("127.") || host == "[::1]",
                "plain http off loopback: {url}"
            );
        }
        let again = validate::environment(Environment::Custom { base_url: url.clone() });
        assert_eq!(again.ok(), Some(Environment::Custom { base_url: url }), "accepting twice changes nothing");
    }
}
