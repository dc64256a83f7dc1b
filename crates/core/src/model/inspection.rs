//! What an exchange says about the calling key, in one shape for every exchange. It crosses to the
//! UI, so it holds no secret: not even the API key itself.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Exchange, Permission};
use ts_rs::TS;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum AccountKind {
    Master,
    Sub,
    /// The exchange does not say (Binance's apiRestrictions).
    Unknown,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct KeyInspection {
    pub exchange: Exchange,
    /// Sorted and without duplicates. `Read` is listed whenever the key can read.
    pub permissions: Vec<Permission>,
    /// Whether the key only works from whitelisted IPs. Binance reports this flag but not the list,
    /// so `ip_whitelist` may be empty while this is true.
    pub ip_restricted: bool,
    pub ip_whitelist: Vec<String>,
    /// When the exchange will invalidate the key, if it says (Bybit `expiredAt`).
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: Option<DateTime<Utc>>,
    pub account_kind: AccountKind,
    pub account_uid: Option<String>,
    /// The master account's uid, for sub-account keys.
    pub master_uid: Option<String>,
    /// The key's note on the exchange (OKX `label`, Bybit `note`).
    pub label: Option<String>,
    /// Inspected in a demo/testnet environment.
    pub demo: bool,
}

impl KeyInspection {
    pub fn is_master(&self) -> Option<bool> {
        match self.account_kind {
            AccountKind::Master => Some(true),
            AccountKind::Sub => Some(false),
            AccountKind::Unknown => None,
        }
    }

    pub fn has(&self, permission: Permission) -> bool {
        self.permissions.contains(&permission)
    }

    /// Read-only: no permission beyond reading. Never where the exchange does not report the
    /// key's permissions (Gate): unknown is not read-only.
    pub fn is_read_only(&self) -> bool {
        self.permissions_known() && self.permissions.iter().all(|p| *p == Permission::Read)
    }

    /// Whether the exchange's inspection reports the key's permissions at all.
    pub fn permissions_known(&self) -> bool {
        self.exchange.reports_permissions()
    }
}

/// Sorted and without duplicates, as [`KeyInspection::permissions`] holds them.
pub(crate) fn normalized(mut permissions: Vec<Permission>) -> Vec<Permission> {
    permissions.sort();
    permissions.dedup();
    permissions
}
