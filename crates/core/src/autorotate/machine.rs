//! One key's automatic rotation as a state machine, run by the job runner ([`crate::job`]):
//!
//! ```text
//! planned ─▶ creating ─▶ created ─▶ verified ─▶ stored ─▶ handed_over ─▶ retiring ─▶ done
//!               │           └─ no signed read ──┐
//!               └─ refused ─────────────────────┴─▶ failed (the new key deleted, the old one kept in use)
//! ```
//!
//! Until `stored` the old key is the one in use and every failure leaves it so, deleting what was
//! made; from `stored` on the new key is, and the old one is retired through the revoke engine
//! (deleted by the master, proved gone by its own signed read). A resume starts from the journaled
//! state: in `creating` it first looks for a key the exchange made under the journaled label (a
//! create that timed out, or a crash before the secret was kept) and deletes it, since nobody
//! holds its secret, so the rotation ends with one new key, never two.

use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use crate::audit::{Action, Outcome};
use crate::exchange::{Endpoint, ExchangeError, MasterKey};
use crate::handover;
use crate::job::limits::Limiter;
use crate::job::{self, crash, Admission, Settle, Transition};
use crate::model::{KeyRecord, KeyStatus, MintRecord, Permission, SubKeySettings, SubKeySpec};
use crate::secret::{key_hint, Credentials};
use crate::vault::replacement_record;

use super::steps::{RotationData, RotationKind, StepState};
use super::{Inner, RotationEvent};

pub(crate) struct RotationMachine {
    pub inner: Arc<Inner>,
}

type Step = job::Step<RotationMachine>;
type Run = job::Run<RotationMachine>;

/// Why a step failed, for the user and the UI.
struct Failure {
    message: String,
    kind: String,
}

impl From<ExchangeError> for Failure {
    fn from(e: ExchangeError) -> Self {
        Failure { message: e.to_string(), kind: e.kind().as_str().to_owned() }
    }
}

impl From<crate::Error> for Failure {
    fn from(e: crate::Error) -> Self {
        let kind = match &e {
            crate::Error::Keychain(_) | crate::Error::SecretMissing { .. } => "keychain",
            crate::Error::NotFound(_) => "not_found",
            _ => "storage",
        };
        Failure { message: e.to_string(), kind: kind.to_owned() }
    }
}

impl job::Machine for RotationMachine {
    type Kind = RotationKind;
    type State = StepState;
    type Data = RotationData;
    type Event = RotationEvent;
    type Ticket = ();
    type Held = ();

    fn admit(&self, _: &Run, open: Vec<(Step, KeyRecord)>, _: &[Step]) -> Vec<Admission<Self>> {
        open.into_iter().map(|(step, key)| Admission::Run { step, key, ticket: () }).collect()
    }

    async fn enter(&self, _: &KeyRecord, _: ()) {}

    async fn advance(&self, run: &Run, key: &KeyRecord, step: &Step, _: &()) -> Transition<Self> {
        // The send that follows a journaled create is the same step, already announced.
        let sending = step.state == StepState::Creating
            && step
                .data
                .as_ref()
                .is_some_and(|d| self.inner.unsent.lock().unwrap_or_else(|p| p.into_inner()).contains(&d.new_id));
        if step.state != StepState::Planned && !sending {
            run.emit(RotationEvent::Step { key_id: key.id, step: step.state.as_str_pub().to_owned() });
        }
        let result = match (step.state, step.data.clone()) {
            (StepState::Planned, _) => {
                self.plan(key).map(|data| Transition::To { state: StepState::Creating, data: Some(data) })
            }
            (StepState::Creating, Some(data)) => self.create(run, key, data).await,
            (StepState::Created, Some(data)) => self.verify(run, key, data).await,
            (StepState::Verified, Some(data)) => self.store(run, key, data),
            (StepState::Stored, Some(data)) => self.hand_over(run, key, data).await,
            (StepState::HandedOver, _) => Ok(Transition::To { state: StepState::Retiring, data: None }),
            (StepState::Retiring, Some(data)) => return self.retire(run, key, data).await,
            (state, _) => Err(Failure {
                message: format!(
                    "The rotation journal of '{}' is damaged (state {state:?} without its data).",
                    key.label
                ),
                kind: "storage".to_owned(),
            }),
        };
        match result {
            Ok(next) => next,
            Err(failure) => {
                // Before `stored` the old key is the one in use: whatever was made goes.
                if matches!(step.state, StepState::Creating | StepState::Created | StepState::Verified) {
                    if let Some(data) = &step.data {
                        self.discard_new(key, data).await;
                    }
                }
                Transition::Settle(failed(key, &failure))
            }
        }
    }

    fn journal_failed(&self, run: &Run, key: &KeyRecord, error: &rusqlite::Error) {
        tracing::warn!(key = %key.id, error = %error, "could not journal a rotation step; the job stays unfinished for the resume");
        run.emit(RotationEvent::Failed {
            key_id: key.id,
            error: format!(
                "Latchkey could not write its rotation journal ({error}), so the rotation of '{}' is not finished. Restart Latchkey and it will finish it; the key in use keeps working meanwhile.",
                key.label
            ),
            kind: "storage".to_owned(),
        });
    }
}

impl StepState {
    fn as_str_pub(self) -> &'static str {
        <StepState as job::StepState>::as_str(self)
    }
}

fn failed(key: &KeyRecord, failure: &Failure) -> Settle<RotationMachine> {
    let message = format!("{} The key in use is unchanged.", failure.message);
    Settle {
        state: StepState::Failed,
        status: None,
        revoked_at: None,
        error: Some((message.clone(), failure.kind.clone())),
        audit: (Action::Rotate, Outcome::Failed, format!("automatic rotation failed: {message}")),
        announce: Some(RotationEvent::Failed { key_id: key.id, error: message, kind: failure.kind.clone() }),
    }
}

impl RotationMachine {
    /// The old key's master and its credentials, or why the rotation cannot go on.
    fn master(&self, key: &KeyRecord) -> Result<(KeyRecord, Endpoint, Credentials, String), Failure> {
        super::eligible(&self.inner.store, key)
            .map_err(|why| Failure { message: why, kind: "not_available".to_owned() })?;
        let master_id =
            key.master_key_id.ok_or_else(|| Failure { message: "no master".into(), kind: "not_available".into() })?;
        let master = self.inner.store.get_key(master_id)?.ok_or_else(|| Failure {
            message: format!("The master key of '{}' is no longer in Latchkey.", key.label),
            kind: "not_found".to_owned(),
        })?;
        let credentials = self.inner.vault.credentials(master.id)?;
        let endpoint = Endpoint::new(master.exchange, &master.environment)?;
        let sub_account = key.sub_account.clone().unwrap_or_default();
        Ok((master, endpoint, credentials, sub_account))
    }

    fn plan(&self, key: &KeyRecord) -> Result<RotationData, Failure> {
        self.master(key)?;
        let new_id = crate::model::KeyId::random();
        let exchange_label = format!("lk{}", &new_id.to_string().replace('-', "")[..12]);
        Ok(RotationData {
            new_id,
            exchange_label,
            creates: 0,
            new_hint: None,
            inspection: None,
            handover: None,
            hosts: None,
        })
    }

    /// What the new key gets: the old one's trading permissions (never withdraw) and IPs.
    fn settings(key: &KeyRecord) -> SubKeySettings {
        let mut permissions: Vec<Permission> =
            key.permissions.iter().copied().filter(|p| matches!(p, Permission::Read | Permission::Trade)).collect();
        if !permissions.contains(&Permission::Read) {
            permissions.insert(0, Permission::Read);
        }
        SubKeySettings { permissions, ip_whitelist: key.ip_whitelist.clone() }
    }

    async fn create(&self, run: &Run, key: &KeyRecord, mut data: RotationData) -> Result<Transition<Self>, Failure> {
        let inner = &self.inner;
        // The crash came after the secret was kept: go on from there.
        let id = data.new_id;
        let secrets = inner.secrets.clone();
        if let Ok(Ok(Some(kept))) = tokio::task::spawn_blocking(move || secrets.get(id)).await {
            data.new_hint = Some(key_hint(&kept.api_key));
            return Ok(Transition::To { state: StepState::Created, data: Some(data) });
        }
        if key_no_longer_in_use(&inner.store, key)? {
            return Err(Failure {
                message: format!(
                    "'{}' is no longer in use (revoked or quarantined meanwhile), so it is not rotated.",
                    key.label
                ),
                kind: "key_not_usable".to_owned(),
            });
        }
        let (master, endpoint, credentials, sub_account) = self.master(key)?;
        let master_key = MasterKey::unattended(&endpoint, &credentials);
        let limiter = inner.writes(&master);
        // Each create is journaled (`creates` + 1) before it is sent. A journaled create this
        // process has not sent yet is sent now; any other may have reached the exchange unseen
        // (a timeout, a crash), so the key under its label is looked for first.
        let unsent = inner.unsent.lock().unwrap_or_else(|p| p.into_inner()).remove(&data.new_id);
        if !unsent {
            if data.creates > 0 {
                // A key under this label is one an earlier try made and nobody holds the secret of.
                let lists = inner.lists(&master);
                let found = self
                    .paced(&lists, || {
                        inner.client.find_sub_key_by_label(master_key, &sub_account, &data.exchange_label)
                    })
                    .await?;
                if let Some(orphan) = found {
                    limiter.acquire().await;
                    self.call(|| inner.client.delete_sub_key(master_key, &sub_account, &orphan.api_key, None)).await?;
                }
            }
            if data.creates >= inner.config.max_creates {
                return Err(Failure {
                    message: format!("{} did not answer {} create calls in time.", key.exchange, data.creates),
                    kind: "timeout".to_owned(),
                });
            }
            data.creates += 1;
            inner.unsent.lock().unwrap_or_else(|p| p.into_inner()).insert(data.new_id);
            return Ok(Transition::To { state: StepState::Creating, data: Some(data) });
        }
        let spec = SubKeySpec {
            sub_account: sub_account.clone(),
            label: data.exchange_label.clone(),
            settings: Self::settings(key),
            // The lifetime the old key was minted with (KuCoin's `expire`), so the exchange still
            // retires a replacement nobody rotates.
            expire_days: crate::mint::lifetime_of(key),
        };
        // The timeout starts when the request does, not while it waits for its slot (an async
        // block: `timeout` fixes its deadline when called).
        let create = async {
            tokio::time::timeout(inner.config.request_timeout, inner.client.create_sub_key(master_key, &spec)).await
        };
        let created = match limiter.run(create).await {
            Ok(Ok(created)) => created,
            // Refused for the rate (under load, arrivals jitter past the limiter's margin): the
            // exchange made nothing, so the create is sent again in its turn, without a search
            // and without using up a try (a few refusals in a row, though, end the step).
            Ok(Err(e @ ExchangeError::RateLimited { .. })) => {
                let refusals = {
                    let mut map = inner.rate_refused.lock().unwrap_or_else(|p| p.into_inner());
                    let n = map.entry(data.new_id).or_insert(0);
                    *n += 1;
                    *n
                };
                if refusals >= inner.config.max_attempts {
                    return Err(e.into());
                }
                data.creates -= 1;
                return Ok(Transition::To { state: StepState::Creating, data: Some(data) });
            }
            // It may have happened: journal the count; the next try looks for it by its label.
            Ok(Err(e)) if e.is_transient() => {
                return Ok(Transition::To { state: StepState::Creating, data: Some(data) })
            }
            Err(_timeout) => return Ok(Transition::To { state: StepState::Creating, data: Some(data) }),
            Ok(Err(e)) => return Err(e.into()),
        };
        crash::hit(crash::Point::CreateAnswered, Some(key.id));
        // The secret arrives once: kept before anything else.
        let draft = replacement_record(key, data.new_id, key_hint(&created.credentials.api_key), None, run.now());
        if let Err(e) = inner.vault.store_secret(&draft, &created.credentials) {
            limiter.acquire().await;
            let _ = self
                .call(|| {
                    inner.client.delete_sub_key(
                        master_key,
                        &sub_account,
                        &created.credentials.api_key,
                        created.credentials.passphrase.as_ref(),
                    )
                })
                .await;
            return Err(e.into());
        }
        data.new_hint = Some(draft.key_hint);
        Ok(Transition::To { state: StepState::Created, data: Some(data) })
    }

    /// A signed read with the new key's own credentials. A key just made may take a moment to
    /// reach every server of the exchange: a refusal is asked again a few times before it counts.
    async fn verify(&self, run: &Run, key: &KeyRecord, mut data: RotationData) -> Result<Transition<Self>, Failure> {
        let inner = &self.inner;
        let credentials = self.new_credentials(&data).await?;
        let endpoint = Endpoint::new(key.exchange, &key.environment)?;
        let mut tries = 0;
        let inspection = loop {
            tries += 1;
            match self.call(|| inner.client.inspect(&endpoint, &credentials)).await {
                Ok(inspection) => break inspection,
                Err(e) if tries < inner.config.verify_tries => {
                    tracing::info!(key = %key.id, error = %e.message, "the new key does not answer yet");
                    tokio::time::sleep(inner.config.verify_wait).await;
                }
                Err(e) => {
                    return Err(Failure {
                        message: format!("The new key did not answer a signed read ({}); it was deleted.", e.message),
                        kind: e.kind,
                    })
                }
            }
        };
        // The master's listing is where every exchange shows a sub key's IPs (a key's own read
        // may not: Binance says only whether it is bound). Where a create cannot bind IPs
        // (Binance sets them in calls of their own), the new key gets the old key's now.
        let wanted = Self::settings(key);
        let (master, master_endpoint, master_credentials, sub_account) = self.master(key)?;
        let master_key = MasterKey::unattended(&master_endpoint, &master_credentials);
        let lists = inner.lists(&master);
        let listing = self.paced(&lists, || inner.client.list_sub_keys(master_key, &sub_account)).await?;
        // EXPOSE: compared with the listing's API keys, to find the new one.
        let listed = listing.into_iter().find(|k| k.api_key.expose_secret() == credentials.api_key.expose_secret());
        // Gate's own read reports no permissions: the listing says which.
        let listed_permissions = listed.as_ref().map(|k| k.permissions.clone());
        let mut ips = listed.map(|k| k.ip_whitelist).unwrap_or_default();
        if !same_ips(&ips, &wanted.ip_whitelist) {
            inner.writes(&master).acquire().await;
            // Several calls spaced by the write limit: each under the client's own timeout.
            ips = inner
                .client
                .modify_sub_key(
                    master_key,
                    &sub_account,
                    &credentials.api_key,
                    credentials.passphrase.as_ref(),
                    &wanted,
                )
                .await?
                .ip_whitelist;
        }
        let mut inspection = inspection;
        if let Some(permissions) = listed_permissions.filter(|_| !inspection.permissions_known()) {
            inspection.permissions = permissions;
        }
        if inspection.ip_whitelist.is_empty() && !ips.is_empty() {
            inspection.ip_restricted = true;
            inspection.ip_whitelist = ips;
        }
        // KuCoin's own read reports no expiry: the lifetime it was created with says when.
        if inspection.expires_at.is_none() {
            inspection.expires_at =
                crate::mint::lifetime_of(key).map(|days| run.now() + chrono::Duration::days(days.into()));
        }
        data.inspection = Some(inspection);
        Ok(Transition::To { state: StepState::Verified, data: Some(data) })
    }

    fn store(&self, run: &Run, key: &KeyRecord, data: RotationData) -> Result<Transition<Self>, Failure> {
        let store = &self.inner.store;
        if store.get_key(data.new_id)?.is_none() {
            let hint = data.new_hint.clone().unwrap_or_default();
            let record = replacement_record(key, data.new_id, hint, data.inspection.clone(), run.now());
            // The new key is one Latchkey minted: it rotates by itself as the old one did (a key
            // rotated "now" without the flag keeps it off).
            let before = store.minted(key.id)?;
            let mint = MintRecord {
                key_id: record.id,
                master_key_id: key.master_key_id.unwrap_or(key.id),
                sub_account: key.sub_account.clone().unwrap_or_default(),
                exchange_label: data.exchange_label.clone(),
                auto_rotate: before.is_some_and(|m| m.auto_rotate),
                minted_at: run.now(),
                verified_at: record.verified_at,
            };
            self.inner.vault.adopt_minted_replacement(key, &record, Some(&mint), run.now())?;
        }
        Ok(Transition::To { state: StepState::Stored, data: None })
    }

    async fn hand_over(&self, run: &Run, key: &KeyRecord, mut data: RotationData) -> Result<Transition<Self>, Failure> {
        let grace = self.inner.config.grace;
        let local = handover::wait_until_moved(&self.inner.store, key.id, grace, HANDOVER_POLL, || run.now());
        let on_servers = async {
            let Some(servers) = self.inner.revoke.servers() else { return Ok(None) };
            // The new key carries the label now; the old one was renamed.
            let label = self.inner.store.get_key(data.new_id)?.map(|k| k.label).unwrap_or_else(|| key.label.clone());
            crate::servers::handover::hand_over(servers, key.id, data.new_id, &label, grace, || run.now()).await
        };
        let (waited, hosts) = tokio::join!(local, on_servers);
        data.handover = Some(waited?);
        match hosts {
            Ok(hosts) => data.hosts = hosts,
            // The bots on servers still use the old key: it stays until they can be given the
            // new one. The journal keeps the rotation here; the next resume tries again.
            Err(e) => {
                tracing::warn!(key = %key.id, error = %e, "OpenBao did not take the rotated key; the old key stays until it does");
                return Ok(Transition::Abandon);
            }
        }
        Ok(Transition::To { state: StepState::HandedOver, data: Some(data) })
    }

    /// The old key goes through the revoke engine: deleted by its master, proved gone.
    async fn retire(&self, run: &Run, key: &KeyRecord, data: RotationData) -> Transition<Self> {
        let report = match self.inner.retire(key.id).await {
            Ok(report) => report,
            // Another revoke runs (here or in another process): the resume retires it later.
            Err(e) => {
                tracing::warn!(key = %key.id, error = %e, "the old key could not be retired now; the rotation stays unfinished");
                return Transition::Abandon;
            }
        };
        if let (Some(servers), Some(_)) = (self.inner.revoke.servers(), &data.hosts) {
            // Best effort: the versions are bounded anyway, and the audit says if this failed.
            if let Ok(Some(new)) = self.inner.store.get_key(data.new_id) {
                let _ = servers.retire_old_versions(&new, run.now()).await;
            }
        }
        let old =
            report.keys.iter().find(|k| k.key_id == key.id).map(|k| k.result.headline()).unwrap_or("Proved revoked");
        let new_hint = data.new_hint.clone().unwrap_or_default();
        let how = if run.kind == RotationKind::Scheduled { "automatically" } else { "now" };
        let detail = format!("rotated {how}: the new key is {new_hint}; the old key {}: {old}", key.key_hint);
        Transition::Settle(Settle {
            state: StepState::Done,
            status: None,
            revoked_at: None,
            error: None,
            audit: (Action::Rotate, Outcome::Ok, detail),
            announce: Some(RotationEvent::Rotated {
                key_id: key.id,
                new_key_id: data.new_id,
                new_hint,
                old_key: old.to_owned(),
            }),
        })
    }

    async fn new_credentials(&self, data: &RotationData) -> Result<Credentials, Failure> {
        let (secrets, id) = (self.inner.secrets.clone(), data.new_id);
        match tokio::task::spawn_blocking(move || secrets.get(id)).await {
            Ok(Ok(Some(c))) => Ok(c),
            Ok(Ok(None)) => Err(Failure {
                message: "The new key's secret is missing from the keychain.".into(),
                kind: "keychain".into(),
            }),
            Ok(Err(e)) => Err(Failure { message: e.to_string(), kind: "keychain".into() }),
            Err(_) => Err(Failure { message: "The keychain read was interrupted.".into(), kind: "keychain".into() }),
        }
    }

    /// Deletes the new key (at the exchange and here): the rotation failed before it was in use.
    async fn discard_new(&self, key: &KeyRecord, data: &RotationData) {
        let inner = &self.inner;
        let Ok((master, endpoint, credentials, sub_account)) = self.master(key) else { return };
        let master_key = MasterKey::unattended(&endpoint, &credentials);
        // The new key's passphrase, where Latchkey kept one: KuCoin deletes a key only with it.
        let (api_key, passphrase): (Option<SecretString>, Option<SecretString>) = match self.new_credentials(data).await
        {
            Ok(c) => (Some(c.api_key), c.passphrase),
            Err(_) => self
                .paced(&inner.lists(&master), || {
                    inner.client.find_sub_key_by_label(master_key, &sub_account, &data.exchange_label)
                })
                .await
                .ok()
                .flatten()
                .map(|k| (Some(k.api_key), None))
                .unwrap_or_default(),
        };
        if let Some(api_key) = api_key {
            inner.writes(&master).acquire().await;
            let delete = || inner.client.delete_sub_key(master_key, &sub_account, &api_key, passphrase.as_ref());
            if let Err(e) = self.call(delete).await {
                tracing::warn!(key = %key.id, error = %e.message, "could not delete the failed rotation's new key");
            }
        }
        let (secrets, id) = (inner.secrets.clone(), data.new_id);
        let _ = tokio::task::spawn_blocking(move || secrets.delete(id)).await;
    }

    /// One exchange call with the per-request timeout and retries with backoff for transient
    /// failures (5xx, 429, timeouts, network). Not for creates: those must not repeat blindly.
    async fn call<T, F, Fut>(&self, call: F) -> Result<T, Failure>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, ExchangeError>>,
    {
        self.call_within(None, call).await
    }

    /// [`Self::call`] for an endpoint whose limit the rotations under one master share: each
    /// attempt, retries included, waits its turn first (outside the request timeout), so a retry
    /// after a 429 does not collide with the next rotation's call.
    async fn paced<T, F, Fut>(&self, limiter: &Limiter, call: F) -> Result<T, Failure>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, ExchangeError>>,
    {
        self.call_within(Some(limiter), call).await
    }

    async fn call_within<T, F, Fut>(&self, limiter: Option<&Limiter>, call: F) -> Result<T, Failure>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, ExchangeError>>,
    {
        let config = &self.inner.config;
        let mut attempt = 1u32;
        loop {
            let attempt_call = async { tokio::time::timeout(config.request_timeout, call()).await };
            let answer = match limiter {
                Some(limiter) => limiter.run(attempt_call).await,
                None => attempt_call.await,
            };
            let error = match answer {
                Ok(Ok(value)) => return Ok(value),
                Ok(Err(e)) => e,
                Err(_) => {
                    return Err(Failure {
                        message: format!("No answer within {:?}.", config.request_timeout),
                        kind: "timeout".into(),
                    })
                }
            };
            if !error.is_transient() || attempt >= config.max_attempts {
                return Err(error.into());
            }
            let wait = match &error {
                ExchangeError::RateLimited { retry_after: Some(after), .. } if *after <= config.max_retry_after => {
                    *after
                }
                ExchangeError::RateLimited { retry_after: Some(_), .. } => return Err(error.into()),
                _ => crate::job::limits::backoff(config.backoff_base, config.backoff_max, attempt),
            };
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }
}

fn same_ips(a: &[String], b: &[String]) -> bool {
    let set = |l: &[String]| l.iter().map(|ip| ip.trim().to_owned()).collect::<std::collections::BTreeSet<_>>();
    set(a) == set(b)
}

/// How often the wait for the bots looks again.
const HANDOVER_POLL: Duration = Duration::from_millis(250);

/// The old key was revoked or quarantined while the rotation waited: making a new key now would
/// undo an emergency revoke.
fn key_no_longer_in_use(store: &crate::store::Store, key: &KeyRecord) -> Result<bool, Failure> {
    Ok(store.get_key(key.id)?.is_none_or(|k| k.status != KeyStatus::Active))
}
