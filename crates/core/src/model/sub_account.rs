//! Sub-accounts and their keys, as a master key manages them through its exchange's API
//! (exchange-keys.md: OKX, Bybit and Binance let a master create, list, modify and delete the keys
//! of its sub-accounts). Exchange-neutral: each adapter reads and writes its exchange's shapes.

use std::fmt;

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::Serialize;

use super::{KeyId, Permission};
use crate::secret::{key_hint, Credentials};

/// One sub-account of a master account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubAccount {
    /// What the sub-account key endpoints take to name it: OKX's `subAcct`, Bybit's sub UID,
    /// Binance's sub-account email. Stored as the key's `sub_account`.
    pub id: String,
    /// What people call it: OKX's name, Bybit's username, Binance's email.
    pub name: String,
    pub uid: Option<String>,
    /// Frozen (OKX `enable: false`, Bybit status 4, Binance `isFreeze`).
    pub frozen: bool,
}

impl SubAccount {
    /// Whether the user means this one by `text`: its id, name or uid, exactly.
    pub fn is_named(&self, text: &str) -> bool {
        let text = text.trim();
        self.id == text || self.name == text || self.uid.as_deref() == Some(text)
    }
}

/// One key of a sub-account, as the master's listing shows it: never a secret.
pub struct SubKey {
    pub api_key: SecretString,
    /// OKX `label`, Bybit `note`, Binance `apiName`.
    pub label: String,
    pub permissions: Vec<Permission>,
    pub ip_whitelist: Vec<String>,
    pub created_at: Option<DateTime<Utc>>,
    /// The exchange's own id for the key, where its key calls name keys by it (Deribit's `id`).
    pub id: Option<String>,
}

impl fmt::Debug for SubKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubKey")
            .field("api_key", &key_hint(&self.api_key))
            .field("label", &self.label)
            .field("permissions", &self.permissions)
            .field("ip_whitelist", &self.ip_whitelist)
            .finish()
    }
}

/// A key to create in a sub-account. Withdraw is never asked for: none of the three exchanges
/// grants it to sub-account keys, and a bot key should not hold it anyway.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubKeySpec {
    /// The sub-account's [`SubAccount::id`].
    pub sub_account: String,
    pub label: String,
    pub settings: SubKeySettings,
    /// Days until the exchange itself expires the key, one of the lifetimes the exchange offers;
    /// `None`: never.
    pub expire_days: Option<u32>,
}

/// A sub-account key's permissions and IP whitelist: always the whole setting, never a change to
/// it, because an update replaces what it names (OKX) or even what it leaves out (Bybit:
/// `readOnly` defaults to read-write and no `ips` means no binding).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubKeySettings {
    /// [`Permission::Read`] and [`Permission::Trade`] only.
    pub permissions: Vec<Permission>,
    /// Empty: not bound to IPs (which the exchanges punish: see the adapters' `no_ip_whitelist`).
    pub ip_whitelist: Vec<String>,
}

impl SubKeySettings {
    pub fn trades(&self) -> bool {
        self.permissions.contains(&Permission::Trade)
    }
}

/// What a create answered: the new key's credentials (the secret, and OKX's passphrase, arrive
/// here once and are never shown again by the exchange) and what the key was given.
pub struct CreatedSubKey {
    pub credentials: Credentials,
    pub label: String,
    pub permissions: Vec<Permission>,
    pub ip_whitelist: Vec<String>,
}

impl fmt::Debug for CreatedSubKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreatedSubKey")
            .field("credentials", &self.credentials)
            .field("label", &self.label)
            .field("permissions", &self.permissions)
            .field("ip_whitelist", &self.ip_whitelist)
            .finish()
    }
}

/// A key Latchkey minted through a master key: which master, which sub-account, the label it has
/// on the exchange (what a create that timed out is looked for by), and whether it rotates itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MintRecord {
    pub key_id: KeyId,
    pub master_key_id: KeyId,
    /// The [`SubAccount::id`].
    pub sub_account: String,
    pub exchange_label: String,
    /// "Rotate automatically" (stored for the rotation engine; `--auto-rotate`).
    pub auto_rotate: bool,
    pub minted_at: DateTime<Utc>,
    /// When the new key's own signed read succeeded; `None`: not verified.
    pub verified_at: Option<DateTime<Utc>>,
}
