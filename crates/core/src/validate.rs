//! Checks on what the user types, with messages a person understands. Nothing here echoes a secret
//! back: messages describe the shape that was expected, never the value that was given.

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use crate::model::{Environment, Exchange};
use crate::secret::Credentials;
use ts_rs::TS;

/// Which input a validation message belongs to, so the UI can show it inline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum Field {
    Exchange,
    Label,
    ApiKey,
    ApiSecret,
    Passphrase,
    RotationDays,
    BaseUrl,
    DefaultRotationDays,
    DueSoonDays,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Invalid {
    pub field: Field,
    pub message: String,
}

pub(crate) fn invalid(field: Field, message: impl Into<String>) -> Invalid {
    Invalid { field, message: message.into() }
}

pub const LABEL_MAX_CHARS: usize = 64;
pub const ROTATION_DAYS_MAX: u32 = 3650;

pub fn label(raw: &str) -> Result<String, Invalid> {
    let label = raw.trim();
    let chars = label.chars().count();
    if chars == 0 {
        return Err(invalid(Field::Label, label_missing()));
    }
    if chars > LABEL_MAX_CHARS {
        return Err(invalid(
            Field::Label,
            format!("The label is {chars} characters long; keep it to {LABEL_MAX_CHARS}."),
        ));
    }
    if label.chars().any(char::is_control) {
        return Err(invalid(Field::Label, "The label cannot contain control characters such as tabs or line breaks."));
    }
    Ok(label.to_owned())
}

/// The examples in these messages come from the first exchange's adapter (the UI words its own
/// checks the same way, from the same data).
fn label_missing() -> String {
    format!("Give the key a label, e.g. '{}-bot-main'.", Exchange::ALL[0].as_str())
}

fn base_url_unreadable() -> String {
    format!("Enter a full base URL such as {}.", Exchange::ALL[0].profile().environments.live_url)
}

/// The refusal of a label another key in use already has (labels are unique ignoring case).
pub fn label_in_use(label: &str) -> Invalid {
    invalid(Field::Label, format!("A key labelled '{label}' already exists: choose another label."))
}

pub fn rotation_days(days: u32) -> Result<u32, Invalid> {
    if (1..=ROTATION_DAYS_MAX).contains(&days) {
        Ok(days)
    } else {
        Err(invalid(
            Field::RotationDays,
            format!("Choose a rotation period between 1 and {ROTATION_DAYS_MAX} days (90 is a good default)."),
        ))
    }
}

/// A custom base URL must be https, except on loopback for the local simulator: signed requests
/// never travel in clear text.
pub fn environment(env: Environment) -> Result<Environment, Invalid> {
    let Environment::Custom { base_url } = env else { return Ok(env) };
    // Spaces and slashes in any order at the end ("https://x.com/ /"), so the stored URL is a fixed point.
    let trimmed = base_url.trim().trim_end_matches(|c: char| c == '/' || c.is_whitespace());
    let url = url::Url::parse(trimmed).map_err(|_| invalid(Field::BaseUrl, base_url_unreadable()))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" if url.host().is_some() => {}
        "http" if loopback => {}
        "http" => {
            return Err(invalid(
                Field::BaseUrl,
                "Use https: plain http is only allowed for a local simulator on 127.0.0.1, ::1 or localhost.",
            ))
        }
        _ => return Err(invalid(Field::BaseUrl, "Enter a base URL that starts with https://.")),
    }
    if !url.username().is_empty() || url.password().is_some() || url.query().is_some() {
        return Err(invalid(Field::BaseUrl, "The base URL cannot carry a user name, password or query string."));
    }
    Ok(Environment::Custom { base_url: trimmed.to_owned() })
}

/// A credential with surrounding whitespace removed: copying from a web page often adds some.
pub fn trimmed(secret: &SecretString) -> SecretString {
    // EXPOSE: trimmed into a new secret; the old one is zeroized when the caller drops it.
    SecretString::from(secret.expose_secret().trim().to_owned())
}

/// Trimmed copies of the credentials (an empty passphrase becomes none), checked for `exchange`.
pub fn checked_credentials(exchange: Exchange, raw: &Credentials) -> Result<Credentials, Invalid> {
    let creds = Credentials {
        api_key: trimmed(&raw.api_key),
        api_secret: trimmed(&raw.api_secret),
        // EXPOSE: emptiness check only.
        passphrase: raw.passphrase.as_ref().map(trimmed).filter(|p| !p.expose_secret().is_empty()),
    };
    credentials(exchange, &creds.api_key, &creds.api_secret, creds.passphrase.as_ref())?;
    Ok(creds)
}

/// The shape checks: the shared ones here, then the exchange's own (its adapter's
/// `form`, which the UI's checks read too). They catch the common paste mistakes (wrong field, missing
/// passphrase, a key from another exchange) before any network call.
pub fn credentials(
    exchange: Exchange,
    api_key: &SecretString,
    api_secret: &SecretString,
    passphrase: Option<&SecretString>,
) -> Result<(), Invalid> {
    // EXPOSE: inspected for length and character classes only; never copied into a message.
    let (key, secret) = (api_key.expose_secret(), api_secret.expose_secret());
    let passphrase = passphrase.map(|p| p.expose_secret()).filter(|p| !p.is_empty());
    let name = exchange.display_name();

    if key.is_empty() {
        return Err(invalid(Field::ApiKey, format!("Paste the API key from {name}.")));
    }
    if secret.is_empty() {
        return Err(invalid(Field::ApiSecret, format!("Paste the secret key {name} showed when the key was created.")));
    }
    if key.chars().any(char::is_whitespace) {
        return Err(invalid(Field::ApiKey, "The API key contains spaces or line breaks: paste it again on its own."));
    }
    if secret.chars().any(char::is_whitespace) {
        return Err(invalid(Field::ApiSecret, "The secret contains spaces or line breaks: paste it again on its own."));
    }
    if key == secret {
        return Err(invalid(
            Field::ApiSecret,
            "The secret is the same as the API key: paste the secret key into this field.",
        ));
    }
    // The exchange's own shape rules, from its adapter's form.
    crate::exchange::form::check(&exchange.profile().form, key, secret, passphrase)?;
    if !exchange.needs_passphrase() && passphrase.is_some() {
        return Err(invalid(Field::Passphrase, format!("{name} keys have no passphrase: leave this field empty.")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> SecretString {
        SecretString::from(v.to_owned())
    }

    const OKX_KEY: &str = "37c541a1-1234-4abc-9def-10fe7a038418";
    const OKX_SECRET: &str = "22582BD0CFF14C41EDBF1AB98506286D";

    #[test]
    fn labels() {
        assert_eq!(label("  bot main  ").unwrap(), "bot main");
        assert_eq!(label("").unwrap_err().field, Field::Label);
        assert_eq!(label("   ").unwrap_err().field, Field::Label);
        assert!(label(&"é".repeat(64)).is_ok(), "64 characters, not bytes");
        assert!(label(&"x".repeat(65)).unwrap_err().message.contains("65 characters"));
        assert!(label("a\tb").is_err());
    }

    #[test]
    fn rotation_bounds() {
        assert!(rotation_days(0).is_err());
        assert_eq!(rotation_days(1), Ok(1));
        assert_eq!(rotation_days(3650), Ok(3650));
        assert_eq!(rotation_days(3651).unwrap_err().field, Field::RotationDays);
    }

    #[test]
    fn base_urls() {
        let c = |u: &str| environment(Environment::Custom { base_url: u.into() });
        assert_eq!(c(" https://eu.okx.com/ ").unwrap(), Environment::Custom { base_url: "https://eu.okx.com".into() });
        assert!(c("http://127.0.0.1:8080").is_ok());
        assert!(c("http://[::1]:8080").is_ok());
        assert!(c("http://localhost:8080").is_ok());
        assert!(c("http://eu.okx.com").unwrap_err().message.contains("https"));
        assert!(c("http://127.0.0.1.evil.com").is_err());
        assert!(c("ftp://x").is_err());
        assert!(c("okx.com").is_err());
        assert!(c("https://user:pw@okx.com").is_err());
        assert_eq!(environment(Environment::Live), Ok(Environment::Live));
        // Found by fuzz/add_key_input: a slash after trailing spaces left the spaces in the stored URL.
        for messy in ["https://eu.okx.com/\t/", "https://eu.okx.com / /", "https://eu.okx.com\n/"] {
            assert_eq!(c(messy).unwrap(), Environment::Custom { base_url: "https://eu.okx.com".into() }, "{messy:?}");
        }
    }

    #[test]
    fn okx_shapes() {
        let ok = credentials(Exchange::Okx, &s(OKX_KEY), &s(OKX_SECRET), Some(&s("Passphrase1!")));
        assert_eq!(ok, Ok(()));
        let no_pass = credentials(Exchange::Okx, &s(OKX_KEY), &s(OKX_SECRET), None).unwrap_err();
        assert_eq!(no_pass.field, Field::Passphrase);
        let empty_pass = credentials(Exchange::Okx, &s(OKX_KEY), &s(OKX_SECRET), Some(&s(""))).unwrap_err();
        assert_eq!(empty_pass.field, Field::Passphrase);
        let bad_key = credentials(Exchange::Okx, &s("abc"), &s(OKX_SECRET), Some(&s("p"))).unwrap_err();
        assert_eq!(bad_key.field, Field::ApiKey);
        let bad_secret = credentials(Exchange::Okx, &s(OKX_KEY), &s("zz"), Some(&s("p"))).unwrap_err();
        assert_eq!(bad_secret.field, Field::ApiSecret);
    }

    #[test]
    fn binance_and_bybit_have_no_passphrase() {
        let bk = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
        let bs = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
        assert_eq!(credentials(Exchange::Binance, &s(bk), &s(bs), None), Ok(()));
        let e = credentials(Exchange::Binance, &s(bk), &s(bs), Some(&s("x"))).unwrap_err();
        assert_eq!(e.field, Field::Passphrase);
        assert!(e.message.contains("leave this field empty"));
        assert_eq!(credentials(Exchange::Bybit, &s("XXXXXXXXXXXXXXXXXX"), &s("Y".repeat(36).as_str()), None), Ok(()));
        assert_eq!(
            credentials(Exchange::Bybit, &s("short"), &s("Y".repeat(36).as_str()), None).unwrap_err().field,
            Field::ApiKey
        );
    }

    #[test]
    fn messages_never_echo_the_secret() {
        let secret = "MY-VERY-SECRET-VALUE with space";
        for ex in Exchange::ALL {
            let e = credentials(ex, &s(OKX_KEY), &s(secret), Some(&s("p"))).unwrap_err();
            assert!(!e.message.contains("MY-VERY-SECRET"), "{}", e.message);
        }
    }

    #[test]
    fn swapped_or_spaced_fields_are_caught() {
        let e = credentials(Exchange::Binance, &s("a b"), &s("c"), None).unwrap_err();
        assert_eq!(e.field, Field::ApiKey);
        let e = credentials(Exchange::Bybit, &s("SAMESAMESAME"), &s("SAMESAMESAME"), None).unwrap_err();
        assert!(e.message.contains("same as the API key"));
        assert_eq!(trimmed(&s("  k \n")).expose_secret(), "k");
    }
}
