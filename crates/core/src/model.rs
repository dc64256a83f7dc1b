//! The key model: what Latchkey knows about a key apart from its secret parts.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

mod inspection;
mod readiness;
mod sub_account;
pub(crate) use inspection::normalized;
pub use inspection::{AccountKind, KeyInspection};
pub use readiness::{MasterReadiness, Missing, Need, Prerequisite, Readiness};
pub use sub_account::{CreatedSubKey, MintRecord, SubAccount, SubKey, SubKeySettings, SubKeySpec};

/// A key's identity: a random UUID, also the keychain item's account name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(transparent)]
pub struct KeyId(pub uuid::Uuid);

impl KeyId {
    pub fn random() -> Self {
        KeyId(uuid::Uuid::new_v4())
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for KeyId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        uuid::Uuid::parse_str(s).map(KeyId)
    }
}

/// Which exchange a key belongs to. Only the identity lives here: names, hosts, rules and
/// capabilities come from the exchange's adapter (`exchange::registry`: `as_str`, `display_name`,
/// `Display`, `FromStr`, `ALL`, `capabilities`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum Exchange {
    Okx,
    Bybit,
    Binance,
    Kucoin,
    Gate,
    Kraken,
    Bitget,
    Deribit,
}

/// Where a key lives: the exchange's live system, its demo/testnet, or a custom base URL (a proxy,
/// a regional host, or the local exchange simulator).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Environment {
    Live,
    Demo,
    Custom {
        #[serde(rename = "baseUrl")]
        base_url: String,
    },
}

/// What a key may do, as the exchange last reported it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum Permission {
    Read,
    Trade,
    Withdraw,
    Transfer,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum KeyStatus {
    Active,
    /// A remote revoke failed: the secret is kept for a retry, but the key must not be used.
    Quarantined,
    /// Proved revoked at the exchange (see `KeyRecord::revoked_at`), secret wiped.
    Revoked,
    /// The exchange's API cannot revoke it: it still works there, so the user deletes it on the
    /// website and confirms. Blocked from use; the secret is kept for the proof that it is gone.
    #[serde(rename = "still_live")]
    StillLive,
    /// Still live at the exchange, and its secret wiped here on the user's request: only deleting
    /// it on the website ends it. Blocked from use.
    #[serde(rename = "still_live_wiped")]
    StillLiveWiped,
    /// The exchange answered the key's own signed read with an invalid-key or expired-key error:
    /// deleted on the website, or expired. Not refreshed as verified; shown until re-checked.
    Rejected,
}

impl KeyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "active",
            KeyStatus::Quarantined => "quarantined",
            KeyStatus::Revoked => "revoked",
            KeyStatus::StillLive => "still_live",
            KeyStatus::StillLiveWiped => "still_live_wiped",
            KeyStatus::Rejected => "rejected",
        }
    }

    /// What the dashboard, `list` and `status` say, e.g. "Rejected by Bybit (deleted or expired?)".
    pub fn describe(self, exchange: Exchange) -> String {
        match self {
            KeyStatus::Active => "Active".to_owned(),
            KeyStatus::Quarantined => "Quarantined".to_owned(),
            KeyStatus::Revoked => "Revoked".to_owned(),
            KeyStatus::StillLive => format!("Still live at {exchange} — delete it on the website"),
            KeyStatus::StillLiveWiped => {
                format!("Still live at {exchange} (secret wiped here) — delete it on the website")
            }
            KeyStatus::Rejected => format!("Rejected by {exchange} (deleted or expired?)"),
        }
    }

    pub const ALL: [KeyStatus; 6] = [
        KeyStatus::Active,
        KeyStatus::Quarantined,
        KeyStatus::Revoked,
        KeyStatus::StillLive,
        KeyStatus::StillLiveWiped,
        KeyStatus::Rejected,
    ];

    pub fn parse(s: &str) -> Option<Self> {
        KeyStatus::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Still works at the exchange although Latchkey gave it up: the user must delete it there.
    pub fn is_still_live(self) -> bool {
        matches!(self, KeyStatus::StillLive | KeyStatus::StillLiveWiped)
    }
}

pub const DEFAULT_ROTATION_DAYS: u32 = 90;

/// One key's metadata. This is all the dashboard ever needs, so drawing the list never touches the
/// keychain. Serializable because it crosses to the UI: it must never grow a secret field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct KeyRecord {
    pub id: KeyId,
    pub exchange: Exchange,
    pub label: String,
    pub environment: Environment,
    /// e.g. `a1b2…9z0y`: enough to recognise the key, never enough to use it.
    pub key_hint: String,
    pub created_at: DateTime<Utc>,
    pub rotated_at: DateTime<Utc>,
    pub verified_at: Option<DateTime<Utc>>,
    pub rotation_days: u32,
    pub permissions: Vec<Permission>,
    pub ip_whitelist: Vec<String>,
    pub status: KeyStatus,
    /// What the exchange said about the key when it was last checked; `None` if never verified.
    #[serde(default)]
    pub inspection: Option<KeyInspection>,
    /// The key that can revoke this one through the exchange's API (its master account's key).
    #[serde(default)]
    pub master_key_id: Option<KeyId>,
    /// The sub-account as the master's API names it: OKX `subAcct`, Binance sub-account email.
    #[serde(default)]
    pub sub_account: Option<String>,
    /// Reminders for this key are silenced until then.
    #[serde(default)]
    pub snoozed_until: Option<DateTime<Utc>>,
    /// When the last rotation reminder for this key was sent.
    #[serde(default)]
    pub reminded_at: Option<DateTime<Utc>>,
    /// The key this one replaced in a rotation.
    #[serde(default)]
    pub replaces: Option<KeyId>,
    /// "Bots may use this key": `latchkey run` hands it out only when set. Never set on a master
    /// of other keys (see `bots`).
    #[serde(default)]
    pub bots_allowed: bool,
    /// When a signed call with the key's own credentials proved it revoked at the exchange.
    #[serde(default)]
    pub revoked_at: Option<DateTime<Utc>>,
}

impl KeyRecord {
    /// A demo/testnet key: its environment says so, or the exchange said so when it was verified.
    pub fn is_demo(&self) -> bool {
        matches!(self.environment, Environment::Demo) || self.inspection.as_ref().is_some_and(|i| i.demo)
    }

    /// A plain active key for tests, examples and benchmarks; adjust fields with struct update
    /// syntax (`KeyRecord { status: KeyStatus::Revoked, ..KeyRecord::sample(…) }`).
    #[cfg(any(test, feature = "testing"))]
    pub fn sample(exchange: Exchange, label: &str, rotated_at: DateTime<Utc>, rotation_days: u32) -> KeyRecord {
        KeyRecord {
            id: KeyId::random(),
            exchange,
            label: label.to_owned(),
            environment: Environment::Live,
            key_hint: "abcd…wxyz".to_owned(),
            created_at: rotated_at,
            rotated_at,
            verified_at: None,
            rotation_days,
            permissions: Vec::new(),
            ip_whitelist: Vec::new(),
            status: KeyStatus::Active,
            inspection: None,
            master_key_id: None,
            sub_account: None,
            snoozed_until: None,
            reminded_at: None,
            replaces: None,
            bots_allowed: true,
            revoked_at: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exchange_names_parse_both_ways() {
        for e in Exchange::ALL {
            assert_eq!(e.as_str().parse::<Exchange>(), Ok(e));
            assert_eq!(e.display_name().parse::<Exchange>(), Ok(e));
        }
        assert!("nosuchx".parse::<Exchange>().unwrap_err().contains("choose okx, bybit, binance"));
    }

    #[test]
    fn environment_json_shape_is_what_the_ui_reads() {
        let custom = Environment::Custom { base_url: "http://127.0.0.1:9000".into() };
        assert_eq!(serde_json::to_string(&custom).unwrap(), r#"{"kind":"custom","baseUrl":"http://127.0.0.1:9000"}"#);
        assert_eq!(serde_json::to_string(&Environment::Demo).unwrap(), r#"{"kind":"demo"}"#);
        let back: Environment = serde_json::from_str(r#"{"kind":"live"}"#).unwrap();
        assert_eq!(back, Environment::Live);
    }

    #[test]
    fn status_names_round_trip() {
        for s in KeyStatus::ALL {
            assert_eq!(KeyStatus::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), serde_json::json!(s.as_str()), "the UI reads as_str");
        }
        assert_eq!(KeyStatus::parse("deleted"), None);
    }
}
