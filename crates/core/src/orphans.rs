//! Startup reconciliation: keychain items of Latchkey's namespace that no row describes (a crash
//! between the keychain write and the row, or a database moved aside after damage). Each one is
//! offered back: restored to the list (re-inspected at its exchange so it gets its real permissions)
//! or deleted (with a 2FA code when 2FA is set up).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::exchange::{Endpoint, ExchangeClient, ExchangeError};
use crate::guard::{Guard, GuardError};
use crate::keychain::KeyItem;
use crate::model::{Environment, Exchange, KeyId, KeyRecord, DEFAULT_ROTATION_DAYS};
use crate::secret::{key_hint, Credentials};
use crate::task::blocking;
use crate::validate::{self, Field, Invalid};
use crate::vault::{ValidatedKey, Vault};
use crate::watch;
use crate::Error;
use ts_rs::TS;

/// An orphaned item as the dialog and `latchkey orphans` show it: no secret, only what the item
/// records about itself (nothing, for items written before Latchkey recorded it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Orphan {
    pub id: KeyId,
    pub exchange: Option<Exchange>,
    pub environment: Option<Environment>,
    pub label: Option<String>,
    /// The masked key hint, e.g. `a1b2…9z0y`; `None` when the item could not be read.
    pub key_hint: Option<String>,
}

/// What the user says about an orphan whose item does not record it (or wants to change).
#[derive(Clone, Debug, Default)]
pub struct RestoreAnswers {
    pub exchange: Option<Exchange>,
    pub environment: Option<Environment>,
    pub label: Option<String>,
}

#[derive(Debug)]
pub struct Restored {
    pub record: KeyRecord,
    /// Why the key could not be checked with its exchange, when it could not (it is restored
    /// unverified, or marked rejected when the exchange refused the key itself).
    pub warning: Option<ExchangeError>,
}

#[derive(Debug, thiserror::Error)]
pub enum OrphanError {
    #[error(transparent)]
    Key(#[from] Error),
    #[error(transparent)]
    Guard(#[from] GuardError),
    #[error(transparent)]
    Exchange(#[from] ExchangeError),
    #[error("There is no keychain item {0} without a key on the list any more: refresh and look again.")]
    NotAnOrphan(KeyId),
}

impl From<Invalid> for OrphanError {
    fn from(e: Invalid) -> Self {
        OrphanError::Key(e.into())
    }
}

/// Every orphaned item, with its masked hint (one keychain read each: this runs once at start).
pub fn find(vault: &Vault) -> Result<Vec<Orphan>, Error> {
    let items = vault.orphans()?;
    Ok(items.into_iter().map(|item| describe(vault, item)).collect())
}

fn describe(vault: &Vault, item: KeyItem) -> Orphan {
    let key_hint = vault.orphan_credentials(item.id).ok().map(|c| key_hint(&c.api_key));
    let info = item.info;
    Orphan {
        id: item.id,
        exchange: info.as_ref().map(|i| i.exchange),
        environment: info.as_ref().map(|i| i.environment.clone()),
        label: info.map(|i| i.label).filter(|l| !l.is_empty()),
        key_hint,
    }
}

/// The only exchange whose key shape these credentials fit, if exactly one does (an OKX key
/// carries a passphrase; Bybit and Binance keys differ in length).
pub fn guess_exchange(credentials: &Credentials) -> Option<Exchange> {
    let fits: Vec<Exchange> = Exchange::ALL
        .into_iter()
        .filter(|e| validate::checked_credentials(*e, credentials).is_ok())
        .filter(|e| e.needs_passphrase() == credentials.passphrase.is_some())
        .collect();
    match fits.as_slice() {
        [only] => Some(*only),
        _ => None,
    }
}

/// Restores an orphan: exchange, environment and label come from the user's answers, else from
/// the item, else (exchange only) from the key's shape; the environment defaults to live. The key
/// is then inspected at its exchange: an answer gives it its real permissions, an invalid-key
/// answer marks it rejected, any other failure restores it unverified and says why.
pub async fn restore(
    vault: &Arc<Vault>,
    client: &ExchangeClient,
    id: KeyId,
    answers: RestoreAnswers,
    now: DateTime<Utc>,
) -> Result<Restored, OrphanError> {
    let v = vault.clone();
    let (orphan, raw) = blocking(move || {
        let item = v.orphans()?.into_iter().find(|i| i.id == id);
        let Some(item) = item else { return Ok(None) };
        let creds = v.orphan_credentials(id)?;
        Ok(Some((item, creds)))
    })
    .await?
    .ok_or(OrphanError::NotAnOrphan(id))?;
    let info = orphan.info;
    let exchange =
        answers.exchange.or(info.as_ref().map(|i| i.exchange)).or_else(|| guess_exchange(&raw)).ok_or_else(|| {
            Invalid {
                field: Field::Exchange,
                message: format!(
                    "This keychain item does not say which exchange its key belongs to: choose {}.",
                    Exchange::listed(Exchange::display_name)
                ),
            }
        })?;
    let environment = validate::environment(
        answers.environment.or(info.as_ref().map(|i| i.environment.clone())).unwrap_or(Environment::Live),
    )?;
    let credentials = validate::checked_credentials(exchange, &raw)?;
    drop(raw);
    let label = answers
        .label
        .or(info.map(|i| i.label).filter(|l| !l.trim().is_empty()))
        .unwrap_or_else(|| format!("restored-{}-{}", exchange.as_str(), short_id(id)));
    let label = validate::label(&label)?;
    if vault.store().label_taken(&label)? {
        return Err(Invalid {
            field: Field::Label,
            message: format!(
                "A key labelled '{label}' is already on the list: choose another label for the restored key."
            ),
        }
        .into());
    }
    let endpoint = Endpoint::new(exchange, &environment)?;
    let answer = client.inspect(&endpoint, &credentials).await;
    let (inspection, warning) = match answer {
        Ok(i) => (Some(i), None),
        Err(e) => (None, Some(e)),
    };
    let key = ValidatedKey { exchange, label, environment, credentials, rotation_days: DEFAULT_ROTATION_DAYS };
    let v = vault.clone();
    let rejected = warning.as_ref().filter(|e| watch::is_rejection(e)).map(|e| e.to_string());
    let record = blocking(move || {
        let record = v.adopt(id, key, inspection, now)?;
        match rejected {
            Some(detail) => Ok(v.record_rejection(id, &detail, now)?.0),
            None => Ok(record),
        }
    })
    .await?;
    Ok(Restored { record, warning })
}

/// Deletes an orphaned item. A 2FA code is needed when 2FA is set up (checked here, and counted
/// like every other try); without 2FA the item goes at once.
pub fn delete(
    vault: &Vault,
    guard: &Guard,
    id: KeyId,
    code: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), OrphanError> {
    if !vault.orphans()?.iter().any(|i| i.id == id) {
        return Err(OrphanError::NotAnOrphan(id));
    }
    if guard.status(now)?.enrolled {
        guard.verify(code.unwrap_or_default(), now)?;
    }
    vault.delete_orphan(id, now)?;
    Ok(())
}

fn short_id(id: KeyId) -> String {
    id.to_string().chars().take(8).collect()
}
