//! Locking a whole sub-account through its master: the emergency stop for every key (and login)
//! of that sub-account at once, where the exchange's API has one (Gate: `POST
//! /sub_accounts/{user_id}/lock`; Bybit: "Freeze Sub UID", `POST /v5/user/frozen-sub-member`).
//! It stops keys Latchkey does not hold too, and only the
//! exchange's unlock (or its website) undoes it, so it is a guarded action: a 2FA code when 2FA is
//! set up (a wrong one counts toward the backoff), checked in Rust, and audited either way.
//!
//! A locked sub-account's keys are refused with "account locked", which proves nothing about a
//! key being deleted: the keys stay in Latchkey as they are, and revoke still deletes them.

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::Serialize;

use crate::audit::{Action, Event, Outcome};
use crate::exchange::{Endpoint, ExchangeClient, ExchangeError, MasterKey};
use crate::guard::{Guard, GuardError};
use crate::model::{Exchange, KeyId, KeyRecord, KeyStatus};
use crate::vault::Vault;

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("{exchange}'s API cannot lock a whole sub-account. Freeze it on {exchange}'s website ({page}), and revoke its keys in Latchkey.")]
    NotOffered { exchange: Exchange, page: &'static str },

    #[error("'{label}' is not a sub-account key whose master Latchkey holds, so Latchkey cannot lock its sub-account. Lock it on {exchange}'s website.")]
    NoMaster { label: String, exchange: Exchange },

    #[error("The master '{label}' is {status}: only a master in use can lock a sub-account. Lock it on the exchange's website.")]
    MasterNotUsable { label: String, status: String },

    #[error("Locking a sub-account stops every key of it at the exchange, so it needs a 2FA code: enter the code your authenticator app shows.")]
    CodeNeeded,

    #[error(transparent)]
    Exchange(#[from] ExchangeError),

    #[error(transparent)]
    Guard(#[from] GuardError),

    #[error(transparent)]
    Core(#[from] crate::Error),
}

impl LockError {
    /// A stable name for `--json`, the UI and the bad-input table.
    pub fn kind(&self) -> crate::error::ErrorCode {
        use crate::error::ErrorCode;
        match self {
            LockError::NotOffered { .. } | LockError::NoMaster { .. } => ErrorCode::NotAvailable,
            LockError::MasterNotUsable { .. } => ErrorCode::KeyNotUsable,
            LockError::CodeNeeded => ErrorCode::CodeNeeded,
            LockError::Exchange(e) => e.kind(),
            LockError::Guard(g) => g.kind(),
            LockError::Core(crate::Error::Keychain(_)) => ErrorCode::Keychain,
            LockError::Core(_) => ErrorCode::Storage,
        }
    }
}

/// What will be locked, before any call or code.
#[derive(Debug)]
pub struct LockPlan {
    pub record: KeyRecord,
    pub master: KeyRecord,
    pub sub_account: String,
    pub needs_code: bool,
}

/// What was locked: the sub-account and the keys of it Latchkey holds.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Locked {
    pub exchange: Exchange,
    pub sub_account: String,
    pub master: String,
    /// The labels of the sub-account's keys in Latchkey (all of them stop, these and any other).
    pub keys: Vec<String>,
    pub unguarded: bool,
}

pub struct Locker<'a> {
    vault: &'a Vault,
    guard: &'a Guard,
    client: &'a ExchangeClient,
    exchange_code: Option<SecretString>,
}

impl<'a> Locker<'a> {
    pub fn new(vault: &'a Vault, guard: &'a Guard, client: &'a ExchangeClient) -> Self {
        Locker { vault, guard, client, exchange_code: None }
    }

    /// The exchange's own 2FA code, where it asks for one.
    pub fn exchange_code(mut self, code: Option<&str>) -> Self {
        self.exchange_code = crate::secret::exchange_code(code);
        self
    }

    /// Checks that the key's sub-account can be locked, and whether a code is needed.
    pub fn plan(&self, id: KeyId, now: DateTime<Utc>) -> Result<LockPlan, LockError> {
        let record = self.vault.get(id)?;
        let exchange = record.exchange;
        if !ExchangeClient::can_lock_sub_accounts(exchange) {
            return Err(LockError::NotOffered {
                exchange,
                page: crate::exchange::api_management_page(exchange, false),
            });
        }
        let no_master = || LockError::NoMaster { label: record.label.clone(), exchange };
        let (Some(master_id), Some(sub_account)) =
            (record.master_key_id, record.sub_account.clone().filter(|s| !s.trim().is_empty()))
        else {
            return Err(no_master());
        };
        let master = self.vault.get(master_id)?;
        if master.status != KeyStatus::Active {
            return Err(LockError::MasterNotUsable {
                label: master.label.clone(),
                status: master.status.describe(master.exchange).to_lowercase(),
            });
        }
        let needs_code = self.guard.status(now)?.enrolled;
        Ok(LockPlan { record, master, sub_account, needs_code })
    }

    /// Locks the sub-account of key `id` through its master, after the code.
    pub async fn lock(&self, id: KeyId, code: Option<&str>, now: DateTime<Utc>) -> Result<Locked, LockError> {
        let plan = self.plan(id, now)?;
        let unguarded = if plan.needs_code {
            self.guard.verify(code.ok_or(LockError::CodeNeeded)?, now)?;
            false
        } else {
            true
        };
        let endpoint = Endpoint::new(plan.master.exchange, &plan.master.environment)?;
        let credentials = self.vault.credentials(plan.master.id)?;
        let master =
            MasterKey { endpoint: &endpoint, credentials: &credentials, exchange_code: self.exchange_code.as_ref() };
        let answer = self.client.lock_sub_account(master, &plan.sub_account).await;
        drop(credentials);
        let detail = format!(
            "sub-account '{}' through master '{}'{}",
            plan.sub_account,
            plan.master.label,
            if unguarded { " without 2FA (not set up)" } else { "" }
        );
        let outcome = if answer.is_ok() { Outcome::Ok } else { Outcome::Failed };
        let detail = match &answer {
            Ok(()) => detail,
            Err(e) => format!("{detail}: {e}"),
        };
        let event = Event {
            at: now,
            action: Action::LockSubAccount,
            key_id: Some(plan.record.id),
            label: Some(&plan.record.label),
            outcome,
            detail,
        };
        if let Err(e) = self.vault.store().record(&event) {
            tracing::warn!(error = %e, "the sub-account lock could not be audited");
        }
        answer?;
        let keys = self
            .vault
            .store()
            .list_keys()?
            .into_iter()
            .filter(|k| k.master_key_id == Some(plan.master.id) && k.sub_account.as_deref() == Some(&plan.sub_account))
            .filter(|k| k.status != KeyStatus::Revoked)
            .map(|k| k.label)
            .collect();
        Ok(Locked {
            exchange: plan.record.exchange,
            sub_account: plan.sub_account,
            master: plan.master.label,
            keys,
            unguarded,
        })
    }
}
