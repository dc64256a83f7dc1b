//! How the "Add key" form asks for an exchange's key, as data: the words the form shows for it and
//! the shape rules its fields follow, with the messages a wrong shape gets. Each adapter's
//! [`Profile::form`] holds them; [`check`] is Rust's check of a credential set against them, and
//! [`ExchangeForm`] is what the UI reads (`ui/src/api/generated/exchanges.json`, written by the
//! desktop crate's `ipc_contract` test), so the UI and Rust judge a credential by the same rules and
//! the UI names no exchange.

use serde::Serialize;
use ts_rs::TS;

use super::adapter::{Capabilities, ExpiryRule, Profile};
use crate::model::{Exchange, Permission};
use crate::validate::{invalid, Field, Invalid};

/// The form's words and rules for one exchange.
#[derive(Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Form {
    /// The indefinite article before the name: "an" OKX key, "a" Bybit key.
    pub article: &'static str,
    /// What a key of this exchange consists of, under its name on the exchange choice.
    pub blurb: &'static str,
    pub api_key: CredentialForm,
    pub api_secret: CredentialForm,
    /// `None`: the exchange's keys have no passphrase.
    pub passphrase: Option<PassphraseForm>,
}

/// One credential input.
#[derive(Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CredentialForm {
    /// What the empty input shows; `None`: nothing.
    pub placeholder: Option<&'static str>,
    /// The help line under the input; `None`: the form's generic one.
    pub hint: Option<&'static str>,
    pub shape: Shape,
    /// The refusal of a value of the wrong shape (after the shared checks: non-empty, no
    /// whitespace, key and secret differ).
    pub message: &'static str,
}

/// The passphrase chosen when the key was created.
#[derive(Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PassphraseForm {
    /// At most this many characters (not bytes).
    pub max_chars: usize,
    /// The refusal of a missing passphrase.
    pub missing: &'static str,
    /// The refusal of one longer than `max_chars`.
    pub too_long: &'static str,
}

/// The shape of a credential.
#[derive(Debug, Serialize, TS)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Shape {
    /// Between `min` and `max` characters (inclusive), all from `charset`.
    Length { min: usize, max: usize, charset: Charset },
    /// Groups of exactly these sizes, joined by `separator`, all from `charset` (a UUID: 8-4-4-4-12
    /// hex digits joined by `-`).
    Groups { sizes: &'static [usize], separator: char, charset: Charset },
}

/// The characters a credential is made of (ASCII only).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum Charset {
    /// 0-9, a-f, A-F.
    Hex,
    /// Letters and digits.
    Alnum,
    /// Standard Base64: letters, digits, `+`, `/` and `=` padding (Kraken's keys and secrets).
    Base64,
    /// Letters, digits, `-` and `_` (URL-safe Base64: Deribit's client secrets).
    Token,
}

impl Charset {
    fn allows(self, c: char) -> bool {
        match self {
            Charset::Hex => c.is_ascii_hexdigit(),
            Charset::Alnum => c.is_ascii_alphanumeric(),
            Charset::Base64 => c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='),
            Charset::Token => c.is_ascii_alphanumeric() || matches!(c, '-' | '_'),
        }
    }

    fn all(self, s: &str) -> bool {
        s.chars().all(|c| self.allows(c))
    }
}

impl Shape {
    /// Whether `value` (already trimmed) has this shape.
    pub fn matches(&self, value: &str) -> bool {
        match *self {
            // The charsets are ASCII, so bytes are characters once the charset has passed.
            Shape::Length { min, max, charset } => charset.all(value) && (min..=max).contains(&value.len()),
            Shape::Groups { sizes, separator, charset } => {
                let groups: Vec<&str> = value.split(separator).collect();
                groups.len() == sizes.len() && groups.iter().zip(sizes).all(|(g, &n)| g.len() == n && charset.all(g))
            }
        }
    }
}

/// The exchange's own shape rules for a credential set, after the shared checks in
/// [`crate::validate::credentials`]: key, then secret, then passphrase.
pub(crate) fn check(form: &Form, key: &str, secret: &str, passphrase: Option<&str>) -> Result<(), Invalid> {
    if !form.api_key.shape.matches(key) {
        return Err(invalid(Field::ApiKey, form.api_key.message));
    }
    if !form.api_secret.shape.matches(secret) {
        return Err(invalid(Field::ApiSecret, form.api_secret.message));
    }
    if let Some(rule) = &form.passphrase {
        match passphrase {
            None => return Err(invalid(Field::Passphrase, rule.missing)),
            Some(p) if p.chars().count() > rule.max_chars => return Err(invalid(Field::Passphrase, rule.too_long)),
            Some(_) => {}
        }
    }
    Ok(())
}

/// What the UI knows about an exchange, built from its adapter's profile: the "Add key" form's
/// words and rules, and the capabilities the UI tells the user about.
#[derive(Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ExchangeForm {
    pub id: Exchange,
    /// What people call it: "OKX".
    pub name: &'static str,
    /// The live host, an example of a base URL.
    pub live_url: &'static str,
    #[serde(flatten)]
    #[ts(flatten)]
    pub form: &'static Form,
    pub capabilities: CapabilitySummary,
}

/// The capabilities the UI shows, in its words.
#[derive(Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CapabilitySummary {
    /// What Latchkey can read about a key of this exchange, in one line.
    pub inspect: String,
    /// How an emergency revoke reaches a key of this exchange, in one line.
    pub revoke: String,
    /// What Latchkey can do with bot keys here through a master key, in one line.
    pub automation: String,
    /// The exchange deletes idle keys without an IP whitelist: after how many days, which
    /// permissions; `None`: no such rule.
    pub idle_expiry: Option<IdleExpiry>,
    /// The lifetimes (days) a bot key minted here may be given, after which the exchange itself
    /// retires it; empty: none offered (KuCoin: 30, 90, 180, 360).
    pub key_lifetimes: &'static [u32],
}

#[derive(Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct IdleExpiry {
    pub days: i64,
    pub permissions: &'static [Permission],
}

impl ExchangeForm {
    pub fn of(exchange: Exchange) -> ExchangeForm {
        let profile: &'static Profile = exchange.profile();
        let caps = &profile.capabilities;
        ExchangeForm {
            id: exchange,
            name: profile.name,
            live_url: profile.environments.live_url,
            form: &profile.form,
            capabilities: CapabilitySummary {
                inspect: inspect_summary(caps, exchange.reports_permissions()).to_owned(),
                revoke: revoke_summary(caps).to_owned(),
                automation: automation_summary(caps).to_owned(),
                idle_expiry: caps.expiry.into_iter().flatten().find_map(|rule| match *rule {
                    ExpiryRule::IdleWithoutIp { days, permissions } => Some(IdleExpiry { days, permissions }),
                    _ => None,
                }),
                key_lifetimes: profile.sub_keys.as_ref().map_or(&[], |facts| facts.lifetimes),
            },
        }
    }

    /// Every exchange's, in the order lists show them.
    pub fn all() -> Vec<ExchangeForm> {
        Exchange::ALL.into_iter().map(ExchangeForm::of).collect()
    }
}

fn inspect_summary(caps: &Capabilities, reports_permissions: bool) -> &'static str {
    match (caps.inspect.is_yes(), reports_permissions) {
        (true, true) => "Checks: the key's permissions and IP whitelist, with the exchange",
        (true, false) => "Checks: the key's IP whitelist; the exchange's API does not say what the key may do",
        (false, _) => "Checks: none (the exchange's API cannot tell what a key may do)",
    }
}

fn automation_summary(caps: &Capabilities) -> &'static str {
    let creates = caps.create_sub_key.is_yes();
    let fixes = caps.modify_sub_key_ips.is_yes() || caps.modify_sub_key_permissions.is_yes();
    match (creates, caps.delete_sub_key.is_some(), fixes) {
        (true, true, _) => "Bot keys: created, fixed and rotated automatically through a master key",
        (true, false, _) => {
            "Bot keys: created and fixed through a master key; the old key of a rotation is deleted on the website"
        }
        (false, _, true) => "Bot keys: fixed through a master key; rotation by hand, with reminders",
        (false, _, false) => "Bot keys: rotation by hand, with reminders",
    }
}

fn revoke_summary(caps: &Capabilities) -> &'static str {
    match (&caps.delete_self, &caps.delete_sub_key) {
        (Some(_), Some(_)) => "Emergency revoke: the key deletes itself, or its master key does",
        (Some(_), None) => "Emergency revoke: the key deletes itself",
        (None, Some(_)) => "Emergency revoke: through the master key of a sub-account key",
        (None, None) => "Emergency revoke: a checklist for the exchange's API page",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UUID: Shape = Shape::Groups { sizes: &[8, 4, 4, 4, 12], separator: '-', charset: Charset::Hex };

    #[test]
    fn shapes() {
        assert!(UUID.matches("37c541a1-1234-4abc-9def-10fe7a038418"));
        assert!(!UUID.matches("37c541a112344abc9def10fe7a038418"), "the hyphenated form only");
        assert!(!UUID.matches("37c541a1-1234-4abc-9def-10fe7a03841g"));
        assert!(!UUID.matches("37c541a1-1234-4abc-9def-10fe7a038418-"));
        let len = Shape::Length { min: 2, max: 3, charset: Charset::Alnum };
        assert!(len.matches("ab") && len.matches("a1B") && !len.matches("a") && !len.matches("abcd"));
        assert!(!len.matches("a-"), "charset");
        assert!(!len.matches("é"), "two bytes, but not a letter of the charset");
    }

    #[test]
    fn every_exchange_has_a_form_that_its_own_sample_passes() {
        for exchange in Exchange::ALL {
            let profile = exchange.profile();
            let (key, secret, passphrase) = profile.scan.sample;
            assert_eq!(check(&profile.form, key, secret, passphrase), Ok(()), "{exchange:?}");
            assert_eq!(profile.form.passphrase.is_some(), exchange.needs_passphrase());
            let view = serde_json::to_value(ExchangeForm::of(exchange)).unwrap();
            assert_eq!(view["id"], exchange.as_str());
            assert!(view["apiKey"]["shape"]["kind"].is_string(), "{view}");
        }
    }
}
