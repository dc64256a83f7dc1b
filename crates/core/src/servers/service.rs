//! What the CLI and (later) the app call: the saved settings and keychain credential put
//! together, and deliver/undeliver for keys in the vault, with the same rules as `latchkey run`
//! (an active key, allowed for bots, never a master) and an audit entry for each.
//!
//! Latchkey remembers per path the version it wrote last, so the next write expects exactly that
//! version: a write by anyone else in between is a CAS conflict, never overwritten. By path, not by
//! key: a rotation's new key (a new id under the same label) continues the same path's versions.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::audit::{Action, Event, Outcome};
use crate::model::{KeyId, KeyRecord};
use crate::servers::credential::ServerSecretStore;
use crate::servers::kv::{fingerprint, label_segment};
use crate::servers::{BaoClient, ConnectionReport, Delivered, DeliveryMeta, Expect, ServerError, ServerSettings};
use crate::store::Store;
use crate::vault::Vault;

const DELIVERIES: &str = "openbao-deliveries";
/// How `bots::check_run` names the receiver in its refusals.
const RECEIVER: &str = "OpenBao (bots on servers)";

/// What Latchkey wrote last at one path.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryRecord {
    /// The key it wrote there last.
    pub key_id: KeyId,
    pub label: String,
    pub version: u64,
    pub fingerprint: String,
    pub delivered_at: DateTime<Utc>,
}

/// The result of one `deliver`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "outcome")]
pub enum DeliveryOutcome {
    /// A new version was written.
    Delivered { label: String, path: String, version: u64 },
    /// The server already holds this key as the version Latchkey wrote last: nothing written.
    UpToDate { label: String, path: String, version: u64 },
}

pub struct Servers {
    store: Arc<Store>,
    vault: Arc<Vault>,
    secrets: Arc<dyn ServerSecretStore>,
}

impl Servers {
    pub fn new(store: Arc<Store>, vault: Arc<Vault>, secrets: Arc<dyn ServerSecretStore>) -> Self {
        Servers { store, vault, secrets }
    }

    pub fn settings(&self) -> Result<Option<ServerSettings>, ServerError> {
        Ok(ServerSettings::load(&self.store)?)
    }

    /// Checks the settings and the credential (a client is built from them), then keeps the
    /// settings in the store and the credential in the keychain.
    pub fn configure(&self, settings: ServerSettings, secret: SecretString) -> Result<ServerSettings, ServerError> {
        let client = BaoClient::new(settings, secret.clone())?;
        self.secrets.put_server_secret(&secret)?;
        client.settings().clone().save(&self.store)
    }

    /// A client from the saved settings and credential.
    pub fn client(&self) -> Result<BaoClient, ServerError> {
        let settings = self.settings()?.ok_or(ServerError::NotConfigured)?;
        let secret = self.secrets.get_server_secret()?.ok_or(ServerError::NotConfigured)?;
        BaoClient::new(settings, secret)
    }

    pub async fn test(&self) -> Result<ConnectionReport, ServerError> {
        self.client()?.test_connection().await
    }

    /// By `<addr> <mount>/data/<prefix>/<label>`: another server or prefix starts afresh.
    pub fn deliveries(&self) -> Result<BTreeMap<String, DeliveryRecord>, ServerError> {
        Ok(self.store.setting(DELIVERIES)?.unwrap_or_default())
    }

    fn save_deliveries(&self, all: &BTreeMap<String, DeliveryRecord>) -> Result<(), ServerError> {
        Ok(self.store.set_setting(DELIVERIES, all)?)
    }

    fn record_key(client: &BaoClient, label: &str) -> String {
        format!("{} {}", client.settings().addr, client.settings().path(super::PathKind::Data, label.trim()))
    }

    /// Refuses what `latchkey run` would refuse, before any secret is read.
    fn deliverable(&self, id: KeyId) -> Result<KeyRecord, ServerError> {
        let key = self.vault.get(id)?;
        if key.status != crate::model::KeyStatus::Active {
            return Err(crate::bots::BotsError::NotUsable { label: key.label, status: key.status.as_str() }.into());
        }
        let subs = self.store.sub_key_count(id)?;
        crate::bots::check_run(&key, subs, RECEIVER)?;
        label_segment(&key.label)?;
        Ok(key)
    }

    /// What [`Servers::deliver`] and [`Servers::add_host`] refuse a key for, without touching the
    /// server: the app asks before it spends a 2FA code.
    pub fn check_deliverable(&self, id: KeyId) -> Result<(), ServerError> {
        self.deliverable(id).map(|_| ())
    }

    /// Writes the key to the server as a new version (or finds it already there), audited.
    pub async fn deliver(&self, id: KeyId, now: DateTime<Utc>) -> Result<DeliveryOutcome, ServerError> {
        let key = self.deliverable(id)?;
        let client = self.client()?;
        let result = self.deliver_with(&client, &key, now).await;
        let (outcome, detail) = match &result {
            Ok(DeliveryOutcome::Delivered { path, version, .. }) => (
                Outcome::Ok,
                format!("delivered to OpenBao at {} as {path}, version {version}", client.settings().addr),
            ),
            Ok(DeliveryOutcome::UpToDate { .. }) => return result,
            Err(e) => (Outcome::Failed, format!("delivery to OpenBao at {} failed: {e}", client.settings().addr)),
        };
        self.audit(Action::Deliver, &key, outcome, detail, now);
        result
    }

    async fn deliver_with(
        &self,
        client: &BaoClient,
        key: &KeyRecord,
        now: DateTime<Utc>,
    ) -> Result<DeliveryOutcome, ServerError> {
        let credentials = self.vault.credentials(key.id)?;
        let meta = DeliveryMeta::for_key(key, &credentials, now);
        let mut all = self.deliveries()?;
        let label = key.label.trim().to_owned();
        let record = Self::record_key(client, &label);
        let last = all.get(&record).cloned();
        let path = client.settings().path(super::PathKind::Data, &label);
        if let Some(last) = &last {
            let on_server = client.current_version(&label).await?;
            let same = on_server.as_ref().is_some_and(|v| {
                v.current == last.version && v.custom_metadata.get("fingerprint") == Some(&meta.fingerprint)
            });
            if same && last.fingerprint == fingerprint(&credentials) {
                return Ok(DeliveryOutcome::UpToDate { label, path, version: last.version });
            }
        }
        let expect = last.map_or(Expect::Absent, |r| Expect::Version(r.version));
        let Delivered { path, version } = client.deliver(&label, &credentials, &meta, expect).await?;
        all.insert(
            record,
            DeliveryRecord {
                key_id: key.id,
                label: label.clone(),
                version,
                fingerprint: meta.fingerprint.clone(),
                delivered_at: now,
            },
        );
        self.save_deliveries(&all)?;
        Ok(DeliveryOutcome::Delivered { label, path, version })
    }

    /// Destroys every version and the metadata of the key on the server, audited. `false` when
    /// the server held nothing for it.
    pub async fn undeliver(&self, id: KeyId, now: DateTime<Utc>) -> Result<bool, ServerError> {
        let key = self.vault.get(id)?;
        let client = self.client()?;
        let result = client.destroy_all(&key.label).await;
        let (outcome, detail) = match &result {
            Ok(true) => (Outcome::Ok, format!("every version destroyed on OpenBao at {}", client.settings().addr)),
            Ok(false) => (Outcome::Ok, format!("nothing was stored on OpenBao at {}", client.settings().addr)),
            Err(e) => (Outcome::Failed, format!("removal from OpenBao at {} failed: {e}", client.settings().addr)),
        };
        if result.is_ok() {
            let mut all = self.deliveries()?;
            if all.remove(&Self::record_key(&client, &key.label)).is_some() {
                self.save_deliveries(&all)?;
            }
        }
        self.audit(Action::Undeliver, &key, outcome, detail, now);
        result
    }

    /// Enrols a host that may read exactly these keys (each one `deliver` would accept), audited
    /// per key.
    pub async fn add_host(
        &self,
        name: &str,
        ids: &[KeyId],
        now: DateTime<Utc>,
    ) -> Result<crate::servers::HostEnrolment, ServerError> {
        let keys = ids.iter().map(|id| self.deliverable(*id)).collect::<Result<Vec<_>, _>>()?;
        let client = self.client()?;
        let labels: Vec<&str> = keys.iter().map(|k| k.label.trim()).collect();
        let enrolment = client.add_host(name, &labels).await?;
        for key in &keys {
            let detail = format!("host '{}' may read it on OpenBao at {}", enrolment.name, client.settings().addr);
            self.audit(Action::HostAccess, key, Outcome::Ok, detail, now);
        }
        Ok(enrolment)
    }

    /// Removes a host (its role and policy), audited for each key it could read.
    pub async fn remove_host(&self, name: &str, now: DateTime<Utc>) -> Result<bool, ServerError> {
        let client = self.client()?;
        let could_read = client.list_hosts().await?.into_iter().find(|h| h.name == name.trim()).map(|h| h.keys);
        let removed = client.remove_host(name).await?;
        let keys = self.vault.list()?;
        for label in could_read.unwrap_or_default() {
            if let Some(key) = keys.iter().find(|k| k.label.trim() == label) {
                let detail = format!("host '{}' removed from OpenBao at {}", name.trim(), client.settings().addr);
                self.audit(Action::HostAccess, key, Outcome::Ok, detail, now);
            }
        }
        Ok(removed)
    }

    fn audit(&self, action: Action, key: &KeyRecord, outcome: Outcome, detail: String, now: DateTime<Utc>) {
        let event = Event { at: now, action, key_id: Some(key.id), label: Some(&key.label), outcome, detail };
        if let Err(e) = self.store.record(&event) {
            tracing::warn!(error = %e, "could not write the audit entry for an OpenBao delivery");
        }
    }
}
