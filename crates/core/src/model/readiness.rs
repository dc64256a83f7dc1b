//! Master readiness: whether a key can manage its sub-accounts' keys on its exchange and, if not,
//! what exactly is missing, each in a sentence the user can act on. The facts (what each exchange
//! asks of a master key) are the adapters' data; the exchange layer's `master_readiness` computes
//! the verdict from the key's inspection.

use serde::Serialize;

use super::{Exchange, Permission};

/// Something an exchange asks of a key before it may manage sub-account keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prerequisite {
    pub need: Need,
    /// What to tell the user when the key lacks it: what is missing and what to do.
    pub missing: &'static str,
    /// What to tell the user when the inspection cannot say (Binance does not report the account
    /// kind); `None` when the inspection always says.
    pub unknown: Option<&'static str>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "need", content = "permissions", rename_all = "snake_case")]
pub enum Need {
    /// The key belongs to the master (main) account, not to a sub-account.
    MasterAccount,
    /// The key is bound to IP addresses.
    IpBound,
    /// The key holds at least one of these permissions.
    AnyPermission(&'static [Permission]),
}

/// One prerequisite the key does not meet (or that its inspection cannot confirm).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Missing {
    #[serde(flatten)]
    pub need: Need,
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Readiness {
    /// Every prerequisite is met: the key can manage sub-account keys.
    Ready,
    /// At least one prerequisite is not met ([`MasterReadiness::missing`]).
    NotReady,
    /// None is known to be missing, but the inspection cannot confirm them all
    /// ([`MasterReadiness::unconfirmed`]): the exchange's answer to the first call decides.
    Unconfirmed,
    /// The exchange's API cannot manage sub-account keys at all.
    Unsupported,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MasterReadiness {
    pub exchange: Exchange,
    pub readiness: Readiness,
    pub missing: Vec<Missing>,
    pub unconfirmed: Vec<Missing>,
}

impl MasterReadiness {
    pub fn is_ready(&self) -> bool {
        self.readiness == Readiness::Ready
    }

    /// Every sentence, missing ones first: what a refusal message or the card lists.
    pub fn messages(&self) -> Vec<&str> {
        self.missing.iter().chain(&self.unconfirmed).map(|m| m.message.as_str()).collect()
    }
}
