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

/// One settings row per path, named `DELIVERY<record key>`: a delivery reads and writes its own
/// row, so 200 deliveries cost 200 small writes, not 200 rewrites of every record.
const DELIVERY: &str = "openbao-delivery ";
/// Where the records were kept as one map before (read once, then split into rows).
const DELIVERIES_BEFORE: &str = "openbao-deliveries";
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

/// How the hosts moved to a rotation's new version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "outcome")]
pub enum HostsHandover {
    /// No running host holds an older version (`hosts`: how many had to move).
    Moved { hosts: usize, version: u64 },
    /// These running hosts still held an older version when the grace period ended.
    GraceOver { still: Vec<String>, version: u64 },
}

/// One thing emergency revoke did (or failed to do) on the OpenBao server, for the report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct ServerStep {
    /// The key(s) it was for (`None`: all of them).
    pub label: Option<String>,
    pub text: String,
    pub ok: bool,
    /// Why it failed and what to do by hand.
    pub error: Option<String>,
}

impl ServerStep {
    fn done(key: &KeyRecord, text: String) -> Self {
        ServerStep { label: Some(key.label.clone()), text, ok: true, error: None }
    }

    fn failed(key: &KeyRecord, label: &str, settings: &ServerSettings, e: &ServerError) -> Self {
        let path = format!("{}/{}", settings.prefix, label);
        ServerStep {
            label: Some(key.label.clone()),
            text: format!("destroying every version at {}", settings.path(super::PathKind::Data, label)),
            ok: false,
            error: Some(format!(
                "{e} Destroy it by hand once the server answers: `bao kv metadata delete -mount={} {path}`.",
                settings.mount
            )),
        }
    }

    fn outcome(&self) -> Outcome {
        if self.ok {
            Outcome::Ok
        } else {
            Outcome::Failed
        }
    }
}

fn join(versions: &[u64]) -> String {
    versions.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
}

/// One host that may read a key, and its last read of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct HostAccess {
    pub host: String,
    /// The version it last read (`None`: it never read this key).
    pub version: Option<u64>,
    /// When it first read that version.
    pub read_at: Option<DateTime<Utc>>,
    /// When it last looked (a read or a heartbeat); silent for 3 minutes means not running.
    pub seen_at: Option<DateTime<Utc>>,
    /// It runs the version the server holds now.
    pub current: bool,
}

pub struct Servers {
    store: Arc<Store>,
    vault: Arc<Vault>,
    secrets: Arc<dyn ServerSecretStore>,
}

/// Deliveries in flight at once: enough to hide the round trips, few enough for a small server.
const PARALLEL: usize = 8;

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
        self.split_old_map()?;
        Ok(self
            .store
            .settings_with_prefix::<DeliveryRecord>(DELIVERY)?
            .into_iter()
            .map(|(name, r)| (name[DELIVERY.len()..].to_owned(), r))
            .collect())
    }

    /// The records kept as one map before become rows (once; then there is no map to read).
    fn split_old_map(&self) -> Result<(), ServerError> {
        if let Some(before) = self.store.setting::<BTreeMap<String, DeliveryRecord>>(DELIVERIES_BEFORE)? {
            for (key, record) in &before {
                self.save_delivery(key, record)?;
            }
            self.store.delete_setting(DELIVERIES_BEFORE)?;
        }
        Ok(())
    }

    fn delivery(&self, record_key: &str) -> Result<Option<DeliveryRecord>, ServerError> {
        self.split_old_map()?;
        Ok(self.store.setting(&format!("{DELIVERY}{record_key}"))?)
    }

    fn save_delivery(&self, record_key: &str, record: &DeliveryRecord) -> Result<(), ServerError> {
        Ok(self.store.set_setting(&format!("{DELIVERY}{record_key}"), record)?)
    }

    fn forget_delivery(&self, record_key: &str) -> Result<bool, ServerError> {
        self.split_old_map()?;
        Ok(self.store.delete_setting(&format!("{DELIVERY}{record_key}"))?)
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

    /// Writes the key to the server as a new version (or finds it already there), audited. Sending
    /// a key off this machine gives bots access to it: the caller checked a 2FA code.
    pub async fn deliver(
        &self,
        _proof: &crate::guard::Verified,
        id: KeyId,
        now: DateTime<Utc>,
    ) -> Result<DeliveryOutcome, ServerError> {
        self.deliver_authorized(id, now).await
    }

    /// [`Self::deliver`] for many keys: one connection, [`PARALLEL`] writes in flight (each key
    /// its own path, so they do not wait on each other), results in the order of `ids`.
    pub async fn deliver_many(
        &self,
        _proof: &crate::guard::Verified,
        ids: &[KeyId],
        now: DateTime<Utc>,
    ) -> Result<Vec<Result<DeliveryOutcome, ServerError>>, ServerError> {
        use futures_util::StreamExt;
        let client = self.client()?;
        Ok(futures_util::stream::iter(ids.iter().map(|id| self.deliver_on(&client, *id, now)))
            .buffered(PARALLEL)
            .collect()
            .await)
    }

    /// [`Self::deliver`] for a rotation's new key, authorized by the rotation itself.
    async fn deliver_authorized(&self, id: KeyId, now: DateTime<Utc>) -> Result<DeliveryOutcome, ServerError> {
        self.deliver_on(&self.client()?, id, now).await
    }

    async fn deliver_on(
        &self,
        client: &BaoClient,
        id: KeyId,
        now: DateTime<Utc>,
    ) -> Result<DeliveryOutcome, ServerError> {
        let key = self.deliverable(id)?;
        let result = self.deliver_with(client, &key, now).await;
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
        let label = key.label.trim().to_owned();
        let record = Self::record_key(client, &label);
        let last = self.delivery(&record)?;
        let path = client.settings().path(super::PathKind::Data, &label);
        if let Some(last) = &last {
            let on_server = client.current_version(&label).await?;
            // A version delivered before the place was delivered is written again, with it.
            let same = on_server.as_ref().is_some_and(|v| {
                v.current == last.version
                    && v.custom_metadata.get("fingerprint") == Some(&meta.fingerprint)
                    && v.custom_metadata.get("place") == meta.place.as_ref().map(|p| p.describe()).as_ref()
            });
            if same && last.fingerprint == fingerprint(&credentials) {
                return Ok(DeliveryOutcome::UpToDate { label, path, version: last.version });
            }
        }
        let expect = last.map_or(Expect::Absent, |r| Expect::Version(r.version));
        let Delivered { path, version } = client.deliver(&label, &credentials, &meta, expect).await?;
        self.save_delivery(
            &record,
            &DeliveryRecord {
                key_id: key.id,
                label: label.clone(),
                version,
                fingerprint: meta.fingerprint.clone(),
                delivered_at: now,
            },
        )?;
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
            self.forget_delivery(&Self::record_key(&client, &key.label))?;
        }
        self.audit(Action::Undeliver, &key, outcome, detail, now);
        result
    }

    /// Enrols a host that may read exactly these keys (each one `deliver` would accept), audited
    /// per key. It gives bots access: the caller checked a 2FA code.
    pub async fn add_host(
        &self,
        _proof: crate::guard::Verified,
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

    /// A rotation's first step on the servers: when `old` is delivered on the configured server,
    /// `new` (saved under the same label) goes there as the next version. `None`: `old` was not
    /// delivered (or no server is set up), nothing to do.
    pub async fn forward(&self, old: KeyId, new: KeyId, now: DateTime<Utc>) -> Result<Option<u64>, ServerError> {
        if self.settings()?.is_none() {
            return Ok(None);
        }
        let client = self.client()?;
        let delivered = self.deliveries()?.into_iter().any(|(path, r)| {
            (r.key_id == old || r.key_id == new) && path.starts_with(&format!("{} ", client.settings().addr))
        });
        if !delivered {
            return Ok(None);
        }
        match self.deliver_authorized(new, now).await? {
            DeliveryOutcome::Delivered { version, .. } | DeliveryOutcome::UpToDate { version, .. } => Ok(Some(version)),
        }
    }

    /// Waits until every host that may read `label` runs `version` or later, or `grace` is over.
    /// A host silent for 3 minutes is not running and holds no key to move.
    pub async fn wait_hosts_moved(
        &self,
        label: &str,
        version: u64,
        grace: std::time::Duration,
        poll: std::time::Duration,
        now: impl Fn() -> DateTime<Utc>,
    ) -> Result<HostsHandover, ServerError> {
        let client = self.client()?;
        let deadline = tokio::time::Instant::now() + grace;
        let mut waited_for = 0;
        loop {
            let reads = host_reads(&client, label.trim()).await?;
            let at = now();
            // A host that never recorded a read may still run the key (OpenBao Agent records
            // nothing): it gets the grace period. One silent for 3 minutes is not running.
            let still: Vec<String> = reads
                .iter()
                .filter(|h| match (h.seen_at, h.version) {
                    (Some(seen), Some(v)) => at - seen <= super::reads::STALE_AFTER && v < version,
                    _ => true,
                })
                .map(|h| h.host.clone())
                .collect();
            waited_for = waited_for.max(still.len());
            if still.is_empty() {
                return Ok(HostsHandover::Moved { hosts: waited_for, version });
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(HostsHandover::GraceOver { still, version });
            }
            tokio::time::sleep(poll).await;
        }
    }

    /// After the old key is retired: every version of `label` on the server but the current one
    /// is destroyed, audited. Returns the versions destroyed.
    pub async fn retire_old_versions(&self, key: &KeyRecord, now: DateTime<Utc>) -> Result<Vec<u64>, ServerError> {
        let client = self.client()?;
        let result = client.destroy_old_versions(key.label.trim(), 1).await;
        let (outcome, detail) = match &result {
            Ok(v) if v.is_empty() => return result,
            Ok(v) => {
                (Outcome::Ok, format!("old versions {} destroyed on OpenBao at {}", join(v), client.settings().addr))
            }
            Err(e) => (
                Outcome::Failed,
                format!("destroying the old versions on OpenBao at {} failed: {e}", client.settings().addr),
            ),
        };
        self.audit(Action::Undeliver, key, outcome, detail, now);
        result
    }

    /// Emergency revoke's part on the servers, for the revoked keys Latchkey delivered: every
    /// version and the metadata destroyed, and each host that could read one loses it (its
    /// policy narrowed, or, when it could read nothing else, its token revoked and its role
    /// deleted). One step per thing done, failed steps with what to do by hand. Nothing when no
    /// server is set up.
    pub async fn revoke_deliveries(&self, keys: &[KeyRecord], now: DateTime<Utc>) -> Vec<ServerStep> {
        let Ok(Some(settings)) = self.settings() else { return Vec::new() };
        let addr = settings.addr.clone();
        let Ok(all) = self.deliveries() else { return Vec::new() };
        let delivered: Vec<(&KeyRecord, String)> = keys
            .iter()
            .filter_map(|k| {
                all.iter()
                    .find(|(path, r)| r.key_id == k.id && path.starts_with(&format!("{addr} ")))
                    .map(|(_, r)| (k, r.label.clone()))
            })
            .collect();
        if delivered.is_empty() {
            return Vec::new();
        }
        let client = match self.client() {
            Ok(c) => c,
            Err(e) => {
                return delivered.iter().map(|(k, label)| ServerStep::failed(k, label, &settings, &e)).collect();
            }
        };
        let mut steps = Vec::new();
        for (key, label) in &delivered {
            let step = match client.destroy_all(label).await {
                Ok(_) => {
                    let _ = self.forget_delivery(&Self::record_key(&client, label));
                    ServerStep::done(
                        key,
                        format!(
                            "every version and the metadata destroyed at {}",
                            settings.path(super::PathKind::Data, label)
                        ),
                    )
                }
                Err(e) => ServerStep::failed(key, label, &settings, &e),
            };
            self.audit(Action::Undeliver, key, step.outcome(), step.text.clone(), now);
            steps.push(step);
        }
        let labels: Vec<&str> = delivered.iter().map(|(_, l)| l.as_str()).collect();
        let hosts = match client.list_hosts().await {
            Ok(h) => h,
            Err(e) => {
                steps.push(ServerStep {
                    label: None,
                    text: "listing the hosts that could read these keys".into(),
                    ok: false,
                    error: Some(format!(
                        "{e} Remove their access by hand: `latchkey host list`, then `latchkey host remove NAME`."
                    )),
                });
                return steps;
            }
        };
        for host in hosts.into_iter().filter(|h| h.keys.iter().any(|k| labels.contains(&k.as_str()))) {
            let lost: Vec<String> = host.keys.iter().filter(|k| labels.contains(&k.as_str())).cloned().collect();
            let kept: Vec<&str> = host.keys.iter().map(String::as_str).filter(|k| !labels.contains(k)).collect();
            let (text, result) = if kept.is_empty() {
                (
                    format!("host '{}' removed: its token revoked, its role and policy deleted", host.name),
                    client.remove_host(&host.name).await.map(|_| ()),
                )
            } else {
                let narrowed = client.set_host_keys(&host.name, &kept).await;
                let forgotten = match narrowed {
                    Ok(()) => {
                        let mut r = Ok(());
                        for label in &lost {
                            r = r.and(client.forget_read(&host.name, label).await);
                        }
                        r
                    }
                    Err(e) => Err(e),
                };
                (
                    format!(
                        "host '{}' may no longer read {} (it keeps {})",
                        host.name,
                        lost.join(", "),
                        kept.join(", ")
                    ),
                    forgotten,
                )
            };
            let step = ServerStep {
                label: Some(lost.join(", ")),
                ok: result.is_ok(),
                error: result
                    .err()
                    .map(|e| format!("{e} Remove its access by hand: `latchkey host remove {}`.", host.name)),
                text,
            };
            for (key, _) in delivered.iter().filter(|(_, l)| lost.contains(l)) {
                self.audit(Action::HostAccess, key, step.outcome(), step.text.clone(), now);
            }
            steps.push(step);
        }
        steps
    }

    /// [`Self::host_reads`] for every key some host may read, by label, for the dashboard: the
    /// hosts listed once, then one record read per host and key.
    pub async fn all_host_reads(&self) -> Result<BTreeMap<String, Vec<HostAccess>>, ServerError> {
        let client = self.client()?;
        let hosts = client.list_hosts().await?;
        let mut labels: Vec<&str> = hosts.iter().flat_map(|h| h.keys.iter().map(String::as_str)).collect();
        labels.sort_unstable();
        labels.dedup();
        let mut out = BTreeMap::new();
        for label in labels {
            out.insert(label.to_owned(), reads_of(&client, label, &hosts).await?);
        }
        Ok(out)
    }

    /// Every host whose policy lets it read the key, with its last read.
    pub async fn host_reads(&self, id: KeyId) -> Result<Vec<HostAccess>, ServerError> {
        let key = self.vault.get(id)?;
        let client = self.client()?;
        host_reads(&client, key.label.trim()).await
    }

    fn audit(&self, action: Action, key: &KeyRecord, outcome: Outcome, detail: String, now: DateTime<Utc>) {
        let event = Event { at: now, action, key_id: Some(key.id), label: Some(&key.label), outcome, detail };
        if let Err(e) = self.store.record(&event) {
            tracing::warn!(error = %e, "could not write the audit entry for an OpenBao delivery");
        }
    }
}

/// [`Servers::host_reads`] for one label, on one client.
pub async fn host_reads(client: &BaoClient, label: &str) -> Result<Vec<HostAccess>, ServerError> {
    let hosts = client.list_hosts().await?;
    reads_of(client, label, &hosts).await
}

async fn reads_of(client: &BaoClient, label: &str, hosts: &[super::HostInfo]) -> Result<Vec<HostAccess>, ServerError> {
    let current = client.current_version(label).await?.map(|v| v.current);
    let mut out = Vec::new();
    for host in hosts.iter().filter(|h| h.keys.iter().any(|k| k == label)) {
        let record = client.read_record(&host.name, label).await?;
        out.push(HostAccess {
            current: record.as_ref().is_some_and(|r| Some(r.version) == current),
            version: record.as_ref().map(|r| r.version),
            read_at: record.as_ref().map(|r| r.read_at),
            seen_at: record.as_ref().map(|r| r.seen_at),
            host: host.name.clone(),
        });
    }
    Ok(out)
}
