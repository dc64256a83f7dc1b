//! Which variable and field names hold exchange credentials. One rule set serves `.env` files, shell
//! history, TOML, YAML and JSON: a name is cut into words (`OKX_API_KEY`, `okx.api_key`,
//! `exchange.secret`, `apiKey` all work), the words name the exchange, the part (key, secret,
//! passphrase) and a scope that keeps `BOT1_OKX_…` apart from `BOT2_OKX_…`.

use crate::model::Exchange;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Role {
    Key,
    Secret,
    Passphrase,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NameClass {
    pub exchange: Option<Exchange>,
    pub role: Role,
    /// The words that are not the part's own (`OKX`, `BOT1 OKX`, `FREQTRADE EXCHANGE`).
    pub scope: String,
}

/// Words of a name: split on anything not alphanumeric and on camelCase, upper-cased.
pub(crate) fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        cur.push(c.to_ascii_uppercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The exchange a word or a ccxt id names. Binance US is another exchange with other keys.
pub(crate) fn exchange_word(word: &str) -> Option<Exchange> {
    let word = word.to_ascii_uppercase();
    Exchange::ALL.into_iter().find(|e| e.profile().scan.names.contains(&word.as_str()))
}

/// Words around a generic name that still mean "the exchange credentials of this bot".
const GENERIC_SCOPES: &[&str] =
    &["EXCHANGE", "EXCHANGES", "FREQTRADE", "CCXT", "BOT", "TRADING", "TRADER", "TRADE", "CREDENTIALS", "AUTH"];
/// Words that say the value is about the key, not the key itself (`OKX_API_KEY_FILE`, `…_URL`).
const STOP_WORDS: &[&str] = &[
    "URL", "URI", "FILE", "PATH", "NAME", "TYPE", "ID", "IDS", "HINT", "HASH", "LEN", "LENGTH", "MASK", "HEADER",
    "VERSION", "ENV", "PUBLIC", "PRIVATE", "PEM", "RSA", "ED25519", "HOST", "PORT", "EXPIRY", "EXPIRES", "LABEL",
];
const FILLER: &[&str] = &["API", "V5", "V3", "ACCESS"];

pub(crate) fn classify(name: &str) -> Option<NameClass> {
    let words = words(name);
    if words.is_empty() || words.iter().any(|w| STOP_WORDS.contains(&w.as_str())) {
        return None;
    }
    let has = |w: &str| words.iter().any(|x| x == w);
    let role = if has("PASSPHRASE") || has("PASSWORD") || has("PASS") || has("PWD") {
        Role::Passphrase
    } else if has("SECRET") || has("SECRETKEY") {
        Role::Secret
    } else if has("KEY") || has("APIKEY") {
        Role::Key
    } else {
        return None;
    };
    let role_words = ["PASSPHRASE", "PASSWORD", "PASS", "PWD", "SECRET", "SECRETKEY", "KEY", "APIKEY"];
    let scope_words: Vec<&str> =
        words.iter().map(String::as_str).filter(|w| !role_words.contains(w) && !FILLER.contains(w)).collect();
    let exchanges: Vec<Exchange> = scope_words.iter().filter_map(|w| exchange_word(w)).collect();
    let exchange = match exchanges.as_slice() {
        [] => None,
        [first, rest @ ..] if rest.iter().all(|e| e == first) => Some(*first),
        _ => return None,
    };
    if exchange.is_none() {
        // A generic name: only with words that point at an exchange bot, or an explicit API word
        // (`API_KEY`, `API_SECRET`, `API_PASSPHRASE`), or a bare `PASSPHRASE`. This leaves out
        // `SECRET_KEY` (Django), `STRIPE_API_KEY`, `PASSWORD`.
        if !scope_words.iter().all(|w| GENERIC_SCOPES.contains(w)) {
            return None;
        }
        let api = has("API") || has("APIKEY");
        let bare_passphrase = role == Role::Passphrase && has("PASSPHRASE");
        if scope_words.is_empty() && !api && !bare_passphrase {
            return None;
        }
    }
    Some(NameClass { exchange, role, scope: scope_words.join(" ") })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(name: &str) -> Option<(Option<Exchange>, Role, String)> {
        classify(name).map(|n| (n.exchange, n.role, n.scope))
    }

    #[test]
    fn bot_names() {
        assert_eq!(c("OKX_API_KEY"), Some((Some(Exchange::Okx), Role::Key, "OKX".into())));
        assert_eq!(c("OKX_SECRET_KEY"), Some((Some(Exchange::Okx), Role::Secret, "OKX".into())));
        assert_eq!(c("OKX_PASSPHRASE"), Some((Some(Exchange::Okx), Role::Passphrase, "OKX".into())));
        assert_eq!(c("okx_api_key").map(|x| x.1), Some(Role::Key));
        assert_eq!(c("BINANCE_SECRET_KEY").map(|x| x.1), Some(Role::Secret));
        assert_eq!(c("BOT1_BYBIT_API_SECRET"), Some((Some(Exchange::Bybit), Role::Secret, "BOT1 BYBIT".into())));
        assert_eq!(c("exchange.secret"), Some((None, Role::Secret, "EXCHANGE".into())));
        assert_eq!(c("FREQTRADE__EXCHANGE__KEY").map(|x| x.1), Some(Role::Key));
        assert_eq!(c("apiKey"), Some((None, Role::Key, String::new())));
        assert_eq!(c("API_SECRET").map(|x| x.1), Some(Role::Secret));
    }

    #[test]
    fn other_names() {
        for n in ["SECRET_KEY", "STRIPE_API_KEY", "PASSWORD", "OKX_API_KEY_FILE", "BINANCE_API_URL", "secret", "KEY"] {
            assert_eq!(c(n), None, "{n}");
        }
    }
}
