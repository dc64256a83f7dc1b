//! The seed file: the keys the simulator knows at start.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SimExchange {
    Okx,
    Bybit,
    Binance,
    Kucoin,
    Gate,
    Kraken,
    Bitget,
    Deribit,
}

impl SimExchange {
    /// The exchange's id, as the seed file and Latchkey name it (`okx`).
    pub fn id(self) -> String {
        serde_json::to_value(self).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Permission {
    Read,
    Trade,
    Withdraw,
    Transfer,
}

/// One API key. Master keys have no `parentUid`; sub-account keys name their master account's uid
/// and, for OKX and Binance, the sub-account's name or email the master's API uses.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SimKey {
    pub exchange: SimExchange,
    pub api_key: String,
    /// Never shown in the state snapshot.
    #[serde(skip_serializing, default)]
    pub secret: String,
    #[serde(skip_serializing, default)]
    pub passphrase: Option<String>,
    #[serde(default)]
    pub label: String,
    pub permissions: Vec<Permission>,
    /// The IPs the key is bound to; empty = any IP.
    #[serde(default)]
    pub ips: Vec<String>,
    pub uid: String,
    #[serde(default)]
    pub parent_uid: Option<String>,
    /// OKX and KuCoin sub-account name, Binance sub-account email, Gate sub-account user ID.
    #[serde(default)]
    pub sub_account: Option<String>,
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
    /// Relative expiry, resolved when the simulator starts, so seed files do not go stale.
    #[serde(default, skip_serializing)]
    pub expires_in_days: Option<i64>,
    /// An OKX demo-trading key (accepted only with `x-simulated-trading: 1`).
    #[serde(default)]
    pub demo: bool,
    #[serde(default)]
    pub frozen: bool,
}

impl SimKey {
    pub fn is_master(&self) -> bool {
        self.parent_uid.is_none()
    }

    pub fn has(&self, permission: Permission) -> bool {
        self.permissions.contains(&permission)
    }

    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }
}

/// A sub-account of a master account, named as the master's API names it: OKX's `subAcct`,
/// Bybit's `username` (its `uid` is the `subuid`), Binance's email.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SimSubAccount {
    pub exchange: SimExchange,
    pub uid: String,
    pub parent_uid: String,
    pub name: String,
    #[serde(default)]
    pub frozen: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Seed {
    pub keys: Vec<SimKey>,
    /// The sub-accounts the masters' APIs list and create keys for.
    #[serde(default)]
    pub sub_accounts: Vec<SimSubAccount>,
    /// `"noRateLimits": true` turns every rate limit off (as `exchange-sim --no-rate-limits`
    /// does): for load runs far above what the exchanges allow one account.
    #[serde(default)]
    pub no_rate_limits: bool,
}

impl Seed {
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The example seed shipped with the crate (`seed.example.json`).
    pub fn example() -> Self {
        // The file is compiled in and checked by a test, so parsing cannot fail at run time.
        Seed::from_json(include_str!("../seed.example.json")).unwrap_or_default()
    }

    pub(crate) fn resolve(mut self, now: DateTime<Utc>) -> Self {
        for key in &mut self.keys {
            if let Some(days) = key.expires_in_days.take() {
                key.expires_at = Some(now + Duration::days(days));
            }
            key.created_at.get_or_insert(now - Duration::days(30));
        }
        self
    }
}
