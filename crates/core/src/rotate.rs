//! A guided rotation, the same for the app and any other caller: check the new key (a different key
//! than the old one, and what its exchange says), save it under the old key's label, wait until the
//! bots running with the old key moved to the new one (or the grace period is over), then retire
//! the old key through the revoke engine. The 2FA code was checked by the caller ([`Verified`]).

use std::time::Duration;

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::exchange::{Endpoint, ExchangeClient, ExchangeError};
use crate::guard::Verified;
use crate::handover::{self, Handover};
use crate::model::KeyInspection;
use crate::model::{KeyId, KeyRecord};
use crate::revoke::{no_progress, RevokeEngine, RevokeError, RevokeReport};
use crate::secret::Credentials;
use crate::servers::{self, HostsHandover};
use crate::task::blocking;
use crate::vault::{same_key, Vault};
use crate::Error;

#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    #[error(transparent)]
    Key(#[from] Error),
    #[error(transparent)]
    Exchange(#[from] ExchangeError),
    #[error(transparent)]
    Revoke(#[from] RevokeError),
    /// The new key is saved, but the bots on servers could not be given it: the old key stays.
    #[error("The new key is saved under '{label}', but OpenBao did not take it: {error} The old key stays live, so the bots on servers keep working: when OpenBao answers, run `latchkey deliver {label}`, then revoke the old key.")]
    ServersBehind { label: String, error: crate::servers::ServerError },
}

/// What the user entered for the rotation of `old`.
#[derive(Debug)]
pub struct Replacement {
    pub old: KeyId,
    pub credentials: Credentials,
    /// Ask the exchange about the new key first; `false` only when the user chose not to.
    pub verify: bool,
    /// How long the bots running with the old key (`latchkey run`) get to move to the new one.
    pub grace: Duration,
}

#[derive(Debug)]
pub struct Rotated {
    pub key: KeyRecord,
    /// Whether the bots that held the old key moved before it was retired.
    pub handover: Handover,
    /// The same for the hosts reading it through OpenBao (`None`: it was not delivered).
    pub hosts: Option<HostsHandover>,
    pub report: RevokeReport,
}

/// What the exchange says about the new key must not describe the old one either: the same
/// creation time on the same account under the same note is the same key at the exchange, whatever
/// was typed (e.g. the old key's secret is missing here, so the API keys could not be compared).
pub fn check_not_the_same(old: &KeyRecord, new: &KeyInspection) -> Result<(), Error> {
    let Some(before) = old.inspection.as_ref() else { return Ok(()) };
    let same = before.created_at.is_some()
        && before.created_at == new.created_at
        && before.account_uid == new.account_uid
        && before.label == new.label;
    if same {
        return Err(same_key(old).into());
    }
    Ok(())
}

/// Checks the new credentials for `old` and, when `verify`, asks the exchange about them; nothing
/// is stored. The wizard's check step and [`rotate`] both go through here.
pub async fn check(
    vault: &Arc<Vault>,
    client: &ExchangeClient,
    old: KeyId,
    raw: Credentials,
    verify: bool,
) -> Result<(KeyRecord, Credentials, Option<KeyInspection>), RotateError> {
    let v = vault.clone();
    let (record, credentials) = blocking(move || v.validate_replacement(old, &raw)).await?;
    if !verify {
        return Ok((record, credentials, None));
    }
    let endpoint = Endpoint::new(record.exchange, &record.environment)?;
    let inspection = client.inspect(&endpoint, &credentials).await?;
    check_not_the_same(&record, &inspection)?;
    Ok((record, credentials, Some(inspection)))
}

/// Saves the new key, then retires the old one at the exchange where its API allows it (else the
/// report carries the checklist). Refuses a "new" key that is the old key, before anything is saved.
pub async fn rotate(
    vault: &Arc<Vault>,
    client: &ExchangeClient,
    engine: &RevokeEngine,
    proof: Verified,
    replacement: Replacement,
    now: DateTime<Utc>,
) -> Result<Rotated, RotateError> {
    let Replacement { old, credentials, verify, grace } = replacement;
    let (record, credentials, inspection) = check(vault, client, old, credentials, verify).await?;
    let v = vault.clone();
    let key = blocking(move || v.replace(&record, credentials, inspection, now)).await?;
    // The old key still works until it is retired: the bots that hold it, here and on servers,
    // get the time to move.
    let local = handover::wait_until_moved(vault.store(), old, grace, HANDOVER_POLL, chrono::Utc::now);
    let on_servers = async {
        match engine.servers() {
            Some(servers) => {
                servers::handover::hand_over(servers, old, key.id, &key.label, grace, || engine.now()).await
            }
            None => Ok(None),
        }
    };
    let (handover, hosts) = tokio::join!(local, on_servers);
    let handover = handover?;
    let hosts = hosts.map_err(|error| RotateError::ServersBehind { label: key.label.clone(), error })?;
    if let Handover::GraceOver { still } = &handover {
        tracing::warn!(bots = still.len(), "the grace period is over; retiring the old key while bots still hold it");
    }
    if let Some(HostsHandover::GraceOver { still, .. }) = &hosts {
        tracing::warn!(hosts = still.len(), "the grace period is over; retiring the old key while hosts still hold it");
    }
    let report = engine.retire_replaced(proof, old, no_progress()).await?;
    if let (Some(servers), Some(_)) = (engine.servers(), &hosts) {
        // Best effort: the versions are bounded anyway, and the audit says if this failed.
        let _ = servers.retire_old_versions(&key, engine.now()).await;
    }
    Ok(Rotated { key, handover, hosts, report })
}

/// How often the wait for the bots looks again: a run moves within its own poll (about a second).
const HANDOVER_POLL: Duration = Duration::from_millis(250);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AccountKind;
    use crate::model::Exchange;
    use chrono::TimeZone;

    fn inspection(created: Option<DateTime<Utc>>, uid: &str, note: &str) -> KeyInspection {
        KeyInspection {
            exchange: Exchange::Bybit,
            permissions: vec![crate::model::Permission::Read],
            ip_restricted: false,
            ip_whitelist: vec![],
            expires_at: None,
            created_at: created,
            account_kind: AccountKind::Master,
            account_uid: Some(uid.into()),
            master_uid: None,
            label: Some(note.into()),
            demo: false,
        }
    }

    #[test]
    fn the_exchange_describing_the_old_key_refuses_the_rotation() {
        let created = Utc.with_ymd_and_hms(2026, 10, 1, 8, 0, 0).unwrap();
        let old = KeyRecord {
            inspection: Some(inspection(Some(created), "1448939", "grid")),
            ..KeyRecord::sample(Exchange::Bybit, "grid-bot", created, 90)
        };
        let err = check_not_the_same(&old, &inspection(Some(created), "1448939", "grid")).unwrap_err();
        assert!(err.to_string().contains("same API key as 'grid-bot'"), "{err}");
        let later = created + chrono::Duration::seconds(1);
        assert!(check_not_the_same(&old, &inspection(Some(later), "1448939", "grid")).is_ok(), "created later");
        assert!(check_not_the_same(&old, &inspection(Some(created), "1449001", "grid")).is_ok(), "another account");
        assert!(check_not_the_same(&old, &inspection(None, "1448939", "grid")).is_ok(), "no creation time: no verdict");
        let unverified = KeyRecord { inspection: None, ..old };
        assert!(check_not_the_same(&unverified, &inspection(Some(created), "1448939", "grid")).is_ok());
    }
}
