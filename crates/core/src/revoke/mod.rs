//! The emergency revoke engine: one 2FA code → a plan for the chosen keys → per key, in parallel
//! within each exchange's concurrency and documented rate limits: remote revoke where the API allows
//! it → proof (a signed read with the key's own credentials, refused as an invalid key) →
//! keychain wipe → status revoked (with the proof's time) → audit.
//!
//! - Each key is a state machine ([`machine`]) run by the job runner ([`crate::job`]), which
//!   journals every transition before the next; [`RevokeEngine::resume_unfinished`] finishes what
//!   a crash interrupted. Revoking is idempotent (a refused delete goes to the same
//!   proof), so calling the exchange again after a crash is safe, and so is a second run. A job
//!   with a key whose journal write failed is left unfinished, so the resume picks it up.
//!   The app and the CLI share the journal: one process at a time runs or resumes a job (an OS
//!   file lock beside the database, released however the process ends).
//! - Debug builds can be stopped right after any journal write ([`crate::job::crash`]), for the crash-resume
//!   test (`crates/cli/tests/crash_resume.rs`).
//! - A remote failure keeps the secret and quarantines the key; the report offers
//!   [`RevokeEngine::retry`] and [`RevokeEngine::wipe_anyway`].
//! - Keys no API can revoke stay "still live": blocked from use, secret kept, with a checklist
//!   item for the exchange's page; [`RevokeEngine::confirm_deleted`] proves them gone after the
//!   user deleted them there, and only then wipes. "Wipe anyway" wipes without proof, and the key
//!   keeps its "still live" status.
//! - A master key runs after the sub keys it revokes (it is needed for them), and is held back,
//!   quarantined, if one of them failed: its secret is what a retry needs.
//! - Within a wave, keys an API can revoke start first ([`Schedule`]): a key that can only be
//!   blocked never takes their place in an exchange's concurrency or rate limit, and one that needs
//!   no exchange call (OKX, Binance without a master) spends none of it.
//! - Every public path that changes anything checks the 2FA code first; while 2FA is not set up,
//!   the typed [`crate::guard::REVOKE_PHRASE`] instead, audited as unguarded
//!   ([`Guard::authorize_revoke`]): revoking protects, being unable to revoke is the harm.

mod limits;
mod machine;
mod progress;
mod remote;
mod report;
mod schedule;
mod steps;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;
use zeroize::Zeroizing;

use crate::exchange::{Clock, ExchangeClient};
use crate::guard::{Guard, GuardError};
use crate::keychain::SecretStore;
use crate::model::{Exchange, KeyId, KeyRecord, KeyStatus};
use crate::servers::ServerStep;
use crate::store::Store;
use crate::Error;

pub use limits::ExchangeLimit;
pub use progress::{ProgressView, RevokeStage};
pub use report::{retry_reason, ChecklistItem, KeyReport, KeyResult, ReportAction, RevokeReport, RevokedBy};
pub use steps::{DeleteMethod, JobKind, RemoteResult};

use crate::job::limits::Limiter;
use crate::job::runner::{JobError, Runner};
use crate::job::{self};
use machine::RevokeMachine;
use steps::JobRow;

/// Which keys to revoke.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "ids", rename_all = "camelCase")]
pub enum Selection {
    /// Every key not yet revoked.
    #[default]
    All,
    Keys(Vec<KeyId>),
}

/// How a key is expected to go, for the confirmation dialog.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "route", rename_all = "camelCase")]
pub enum PlannedRoute {
    /// Deleted through its master key.
    ViaMaster { master_label: String },
    /// Bybit: the key deletes itself (if it still holds a transfer or withdrawal permission).
    SelfDelete,
    /// No API can revoke it: blocked and kept ("still live"), plus a checklist item.
    LocalOnly,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanItem {
    pub key_id: KeyId,
    pub label: String,
    pub exchange: Exchange,
    #[serde(flatten)]
    pub route: PlannedRoute,
}

/// Live progress, per key.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "camelCase")]
pub enum ProgressEvent {
    #[serde(rename_all = "camelCase")]
    Planned { job_id: String, key_id: KeyId, label: String, exchange: Exchange },
    /// The key's first call to its exchange went out (after the concurrency and rate limits).
    #[serde(rename_all = "camelCase")]
    RemoteStarted { key_id: KeyId },
    #[serde(rename_all = "camelCase")]
    RemoteOk { key_id: KeyId, already_revoked: bool },
    #[serde(rename_all = "camelCase")]
    Manual { key_id: KeyId, url: String },
    #[serde(rename_all = "camelCase")]
    Retrying { key_id: KeyId, attempt: u32, wait_ms: u64, reason: String },
    #[serde(rename_all = "camelCase")]
    Wiped { key_id: KeyId },
    #[serde(rename_all = "camelCase")]
    Failed { key_id: KeyId, error: String, kind: String },
}

/// Receives [`ProgressEvent`]s, e.g. to forward them to a Tauri channel. Called from worker tasks.
pub type Progress = job::Progress<ProgressEvent>;

pub fn no_progress() -> Progress {
    Arc::new(|_| {})
}

#[derive(Clone, Debug)]
pub struct RevokeConfig {
    /// For one revoke call (a Bybit self-delete is two requests).
    pub request_timeout: Duration,
    /// Tries per key for transient failures (5xx, 429, timeouts, network).
    pub max_attempts: u32,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// A Retry-After longer than this fails the key now (retry later) instead of waiting.
    pub max_retry_after: Duration,
    /// Added to each rate-limit window: the exchange counts arrivals, and arrivals jitter.
    pub rate_margin: Duration,
    pub limits: fn(Exchange) -> ExchangeLimit,
}

impl Default for RevokeConfig {
    fn default() -> Self {
        RevokeConfig {
            request_timeout: Duration::from_secs(15),
            max_attempts: 4,
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(30),
            rate_margin: Duration::from_millis(20),
            limits: ExchangeLimit::documented,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RevokeError {
    #[error(transparent)]
    Guard(#[from] GuardError),
    #[error(transparent)]
    Storage(#[from] Error),
    #[error("No key with id {0}: it may have been deleted elsewhere. Refresh the list and try again.")]
    UnknownKey(KeyId),
    #[error("A revoke is already running (here, in the app or in a terminal): wait for its report.")]
    Busy,
    #[error("The revoke was interrupted: restart Latchkey and it will finish the unfinished steps.")]
    Interrupted,
}

impl RevokeError {
    pub fn kind(&self) -> crate::error::ErrorCode {
        use crate::error::ErrorCode;
        match self {
            RevokeError::Guard(g) => g.kind(),
            RevokeError::Storage(_) => ErrorCode::Storage,
            RevokeError::UnknownKey(_) => ErrorCode::NotFound,
            RevokeError::Busy => ErrorCode::Busy,
            RevokeError::Interrupted => ErrorCode::Interrupted,
        }
    }
}

impl From<JobError> for RevokeError {
    fn from(e: JobError) -> Self {
        match e {
            JobError::Busy => RevokeError::Busy,
            JobError::Storage(e) => RevokeError::Storage(e),
        }
    }
}

impl From<rusqlite::Error> for RevokeError {
    fn from(e: rusqlite::Error) -> Self {
        RevokeError::Storage(Error::Storage { path: String::from("latchkey.db"), detail: e.to_string() })
    }
}

/// Who is calling the exchange: the master key, or (`None`) each key itself.
type LimitGroup = (Exchange, Option<KeyId>);

pub(crate) struct Inner {
    store: Arc<Store>,
    secrets: Arc<dyn SecretStore>,
    guard: Arc<Guard>,
    client: Arc<ExchangeClient>,
    config: RevokeConfig,
    semaphores: HashMap<Exchange, Arc<Semaphore>>,
    /// Per exchange and calling account (the master key, or the key itself).
    limiters: Mutex<HashMap<LimitGroup, Arc<Limiter>>>,
    runner: Runner,
}

impl Inner {
    fn limiter(&self, exchange: Exchange, master: Option<KeyId>) -> Arc<Limiter> {
        let mut map = self.limiters.lock().unwrap_or_else(|p| p.into_inner());
        map.entry((exchange, master))
            .or_insert_with(|| Arc::new(Limiter::new((self.config.limits)(exchange), self.config.rate_margin)))
            .clone()
    }
}

#[derive(Clone)]
pub struct RevokeEngine {
    inner: Arc<Inner>,
    machine: Arc<RevokeMachine>,
    /// Where delivered keys are destroyed on emergency revoke (and rotations forward new keys).
    servers: Option<Arc<crate::servers::Servers>>,
}

impl std::fmt::Debug for RevokeEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RevokeEngine").finish_non_exhaustive()
    }
}

impl RevokeEngine {
    pub fn new(
        store: Arc<Store>,
        secrets: Arc<dyn SecretStore>,
        guard: Arc<Guard>,
        client: Arc<ExchangeClient>,
        clock: Arc<dyn Clock>,
        config: RevokeConfig,
    ) -> Self {
        let semaphores = Exchange::ALL
            .into_iter()
            .map(|e| (e, Arc::new(Semaphore::new((config.limits)(e).concurrency.max(1)))))
            .collect();
        let runner = Runner::new(store.clone(), clock.clone(), ".revoke-lock");
        let inner =
            Inner { store, secrets, guard, client, config, semaphores, limiters: Mutex::new(HashMap::new()), runner };
        let inner = Arc::new(inner);
        RevokeEngine { machine: Arc::new(RevokeMachine { inner: inner.clone() }), inner, servers: None }
    }

    /// Emergency revoke also destroys what these servers hold of the revoked keys, and takes
    /// the hosts' access to them; rotations forward the new key there.
    pub fn with_servers(mut self, servers: Arc<crate::servers::Servers>) -> Self {
        self.servers = Some(servers);
        self
    }

    pub fn servers(&self) -> Option<&Arc<crate::servers::Servers>> {
        self.servers.as_ref()
    }

    /// The engine's clock: a rotation's wait for the hosts and its audit entries read it.
    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.inner.runner.now()
    }

    /// What a revoke of `selection` would do, for the confirmation dialog. Changes nothing.
    pub fn plan(&self, selection: &Selection) -> Result<Vec<PlanItem>, RevokeError> {
        let keys = self.select(selection)?;
        let mut items = Vec::new();
        for key in &keys {
            let master = match key.master_key_id {
                Some(id) => self.inner.store.get_key(id)?,
                None => None,
            };
            let route = route(key, master.as_ref());
            items.push(PlanItem { key_id: key.id, label: key.label.clone(), exchange: key.exchange, route });
        }
        Ok(items)
    }

    /// The emergency button: checks the 2FA code, then revokes the selected keys (all by default).
    pub async fn emergency_revoke(
        &self,
        guard_code: &str,
        selection: Selection,
        now: DateTime<Utc>,
        progress: Progress,
    ) -> Result<RevokeReport, RevokeError> {
        let _exclusive = self.inner.runner.exclusive()?;
        self.check_code(guard_code, JobKind::Revoke, now).await?;
        let keys = self.select(&selection)?;
        self.start(JobKind::Revoke, keys, progress).await
    }

    /// "Retry" in the report: the remote revoke again, for quarantined keys.
    pub async fn retry(
        &self,
        guard_code: &str,
        keys: &[KeyId],
        now: DateTime<Utc>,
        progress: Progress,
    ) -> Result<RevokeReport, RevokeError> {
        self.run_on_quarantined(JobKind::Retry, guard_code, keys, now, progress).await
    }

    /// "Wipe locally anyway" / "Wipe the secret here now": removes quarantined or still-live keys'
    /// secrets without a proof that they are gone; they stay "still live" and the report lists them
    /// for deletion by hand.
    pub async fn wipe_anyway(
        &self,
        guard_code: &str,
        keys: &[KeyId],
        now: DateTime<Utc>,
        progress: Progress,
    ) -> Result<RevokeReport, RevokeError> {
        self.run_on_quarantined(JobKind::WipeAnyway, guard_code, keys, now, progress).await
    }

    /// "I deleted it on the website": for still-live or quarantined keys, one signed read with the
    /// key's own credentials; only an invalid-key refusal proves it gone, and only then is the
    /// secret wiped and the key revoked. Otherwise it keeps its status and the report says why.
    pub async fn confirm_deleted(
        &self,
        guard_code: &str,
        keys: &[KeyId],
        now: DateTime<Utc>,
        progress: Progress,
    ) -> Result<RevokeReport, RevokeError> {
        self.run_on_quarantined(JobKind::Confirm, guard_code, keys, now, progress).await
    }

    async fn run_on_quarantined(
        &self,
        kind: JobKind,
        guard_code: &str,
        keys: &[KeyId],
        now: DateTime<Utc>,
        progress: Progress,
    ) -> Result<RevokeReport, RevokeError> {
        let _exclusive = self.inner.runner.exclusive()?;
        self.check_code(guard_code, kind, now).await?;
        let keys = self.unfinished_keys(kind, keys)?;
        self.start(kind, keys, progress).await
    }

    /// At startup: finishes every job a crash interrupted. Needs no code: it only completes work a
    /// verified code started.
    pub async fn resume_unfinished(&self, progress: Progress) -> Result<Vec<RevokeReport>, RevokeError> {
        let Some((_exclusive, jobs)) = self.inner.runner.exclusive_for_resume::<JobKind>().await? else {
            return Ok(Vec::new());
        };
        let mut reports = Vec::new();
        for job in jobs {
            tracing::info!(job = %job.id, "resuming an interrupted revoke");
            reports.push(self.run(job, progress.clone()).await?);
        }
        Ok(reports)
    }

    /// The ids of the jobs a crash interrupted, oldest first: what [`Self::resume_unfinished`] would finish.
    pub fn unfinished(&self) -> Result<Vec<String>, RevokeError> {
        Ok(job::journal::unfinished_jobs::<JobKind>(&self.inner.store.conn())?.into_iter().map(|j| j.id).collect())
    }

    pub fn report(&self, job_id: &str) -> Result<Option<RevokeReport>, RevokeError> {
        let job = job::journal::job::<JobKind>(&self.inner.store.conn(), job_id)?;
        job.map(|j| self.build_report(&j)).transpose()
    }

    pub fn last_report(&self) -> Result<Option<RevokeReport>, RevokeError> {
        let job = job::journal::last_job::<JobKind>(&self.inner.store.conn())?;
        job.map(|j| self.build_report(&j)).transpose()
    }

    /// Revokes the selected keys on the strength of a code already checked in this request.
    pub async fn revoke_verified(
        &self,
        _proof: crate::guard::Verified,
        selection: Selection,
        progress: Progress,
    ) -> Result<RevokeReport, RevokeError> {
        let _exclusive = self.inner.runner.exclusive()?;
        let keys = self.select(&selection)?;
        self.start(JobKind::Revoke, keys, progress).await
    }

    /// Retires the old key at the end of a rotation, on the strength of the code the rotation
    /// checked: the steps of a revoke, reported (and audited) as the routine end of a rotation.
    pub async fn retire_replaced(
        &self,
        _proof: crate::guard::Verified,
        old: KeyId,
        progress: Progress,
    ) -> Result<RevokeReport, RevokeError> {
        let _exclusive = self.inner.runner.exclusive()?;
        let keys = self.select(&Selection::Keys(vec![old]))?;
        self.start(JobKind::Rotation, keys, progress).await
    }

    /// Retires the old key at the end of an automatic rotation: authorized when the user turned
    /// automatic rotation on for the key (with a code), so none is asked now.
    pub(crate) async fn retire_rotated(&self, old: &[KeyId], progress: Progress) -> Result<RevokeReport, RevokeError> {
        let _exclusive = self.inner.runner.exclusive()?;
        let keys = self.select(&Selection::Keys(old.to_vec()))?;
        self.start(JobKind::Rotation, keys, progress).await
    }

    /// A valid 2FA code, or (only while 2FA is not set up) the typed phrase.
    async fn check_code(&self, code: &str, kind: JobKind, now: DateTime<Utc>) -> Result<(), RevokeError> {
        let guard = self.inner.guard.clone();
        let code = Zeroizing::new(code.to_owned());
        let what = match kind {
            JobKind::Revoke => "emergency revoke",
            JobKind::Rotation => "retire the replaced key",
            JobKind::Retry => "retry revoke",
            JobKind::WipeAnyway => "wipe locally",
            JobKind::Confirm => "confirm deleted",
        };
        // Argon2 (recovery codes) and SQLite block: off the async workers.
        let checked = tokio::task::spawn_blocking(move || guard.authorize_revoke(&code, what, now)).await;
        checked.map_err(|_| RevokeError::Interrupted)?.map_err(RevokeError::from)
    }

    fn select(&self, selection: &Selection) -> Result<Vec<KeyRecord>, RevokeError> {
        let keys = match selection {
            Selection::All => self.inner.store.list_keys()?,
            Selection::Keys(ids) => {
                let mut keys = Vec::new();
                for id in ids {
                    keys.push(self.inner.store.get_key(*id)?.ok_or(RevokeError::UnknownKey(*id))?);
                }
                keys
            }
        };
        // Revoked keys are done, and so are keys wiped while still live (only the website can end
        // those). A still-live key waits for the user's "I deleted it"; naming it runs it again.
        let all = matches!(selection, Selection::All);
        Ok(keys
            .into_iter()
            .filter(|k| match k.status {
                KeyStatus::Revoked | KeyStatus::StillLiveWiped => false,
                KeyStatus::StillLive => !all,
                // A rejected key may only look gone (a wrong host answers the same): revoke it too.
                KeyStatus::Active | KeyStatus::Quarantined | KeyStatus::Rejected => true,
            })
            .collect())
    }

    /// The keys a follow-up job acts on: retry and wipe take quarantined and still-live keys;
    /// confirm also takes keys wiped while still live (to say why it cannot prove them).
    fn unfinished_keys(&self, kind: JobKind, ids: &[KeyId]) -> Result<Vec<KeyRecord>, RevokeError> {
        let mut keys = Vec::new();
        for id in ids {
            keys.push(self.inner.store.get_key(*id)?.ok_or(RevokeError::UnknownKey(*id))?);
        }
        Ok(keys
            .into_iter()
            .filter(|k| match k.status {
                KeyStatus::Quarantined | KeyStatus::StillLive => true,
                KeyStatus::StillLiveWiped => kind == JobKind::Confirm,
                KeyStatus::Active | KeyStatus::Revoked | KeyStatus::Rejected => false,
            })
            .collect())
    }

    async fn start(
        &self,
        kind: JobKind,
        keys: Vec<KeyRecord>,
        progress: Progress,
    ) -> Result<RevokeReport, RevokeError> {
        let waves = schedule::waves(&keys);
        let steps: Vec<(KeyId, u32)> = keys.iter().map(|k| (k.id, waves[&k.id])).collect();
        // The signing agent refuses these keys' bots before any exchange is called.
        let ids: Vec<KeyId> = keys.iter().map(|k| k.id).collect();
        crate::agent::halt_keys(&self.inner.store, &ids, self.now())?;
        let job = self.inner.runner.create::<RevokeMachine>(kind, &steps)?;
        for key in &keys {
            progress(ProgressEvent::Planned {
                job_id: job.id.clone(),
                key_id: key.id,
                label: key.label.clone(),
                exchange: key.exchange,
            });
        }
        self.run(job, progress).await
    }

    /// Runs (or resumes) a job: sub keys before the masters that revoke them ([`machine`]).
    /// An emergency revoke's steps on the servers run beside the exchanges' (a resume does them
    /// if the interrupted run had not): destroying a delivered key needs no proof from its exchange.
    async fn run(&self, job: JobRow, progress: Progress) -> Result<RevokeReport, RevokeError> {
        let on_servers = async {
            let Some(servers) = self.servers.as_ref().filter(|_| job.kind == JobKind::Revoke) else { return Ok(()) };
            if self.inner.store.setting::<Vec<ServerStep>>(&server_steps_key(&job.id))?.is_some() {
                return Ok(());
            }
            let steps: Vec<steps::StepRow> = job::journal::steps(&self.inner.store.conn(), &job.id)?;
            let keys: Vec<KeyRecord> =
                steps.iter().filter_map(|s| self.inner.store.get_key(s.key_id).ok().flatten()).collect();
            let done = servers.revoke_deliveries(&keys, self.inner.runner.now()).await;
            self.inner.store.set_setting(&server_steps_key(&job.id), &done).map_err(RevokeError::from)
        };
        let (ran, servers) = tokio::join!(self.inner.runner.run(&self.machine, &job, progress), on_servers);
        ran?;
        servers?;
        let job = job::journal::job::<JobKind>(&self.inner.store.conn(), &job.id)?.ok_or(RevokeError::Interrupted)?;
        self.build_report(&job)
    }

    fn build_report(&self, job: &JobRow) -> Result<RevokeReport, RevokeError> {
        let steps = job::journal::steps(&self.inner.store.conn(), &job.id)?;
        let keys = steps.iter().map(|s| self.inner.store.get_key(s.key_id)).collect::<Result<Vec<_>, _>>()?;
        let mut report = report::build(job, &steps, &keys, |k| master_label(&self.inner.store, k));
        report.servers = self.inner.store.setting(&server_steps_key(&job.id))?.unwrap_or_default();
        Ok(report)
    }
}

/// Where an emergency revoke keeps what it did on the servers, beside its journal.
fn server_steps_key(job_id: &str) -> String {
    format!("openbao-revoke-{job_id}")
}

/// The label of the key's master, if it has one that is still in Latchkey.
fn master_label(store: &Store, key: &KeyRecord) -> Option<String> {
    let master = key.master_key_id?;
    store.get_key(master).ok().flatten().map(|m| m.label)
}

/// Sets who can revoke a key: its master key and sub-account name (OKX `subAcct`, Binance email).
pub fn set_revoke_link(
    store: &Store,
    key: KeyId,
    master: Option<KeyId>,
    sub_account: Option<&str>,
) -> Result<(), RevokeError> {
    store.get_key(key)?.ok_or(RevokeError::UnknownKey(key))?;
    if let Some(m) = master {
        store.get_key(m)?.ok_or(RevokeError::UnknownKey(m))?;
    }
    let sub = sub_account.map(str::trim).filter(|s| !s.is_empty());
    store.conn().execute(
        "UPDATE keys SET master_key_id = ?2, sub_account = ?3 WHERE id = ?1",
        rusqlite::params![key.to_string(), master.map(|m| m.to_string()), sub],
    )?;
    Ok(())
}

/// How a key is expected to be revoked, as the exchange's capabilities allow: through its master
/// (with the sub-account the master's API needs, if any), by itself, or not by any API.
fn route(key: &KeyRecord, master: Option<&KeyRecord>) -> PlannedRoute {
    let capabilities = key.exchange.capabilities();
    match master {
        Some(m) if capabilities.delete_sub_key.as_ref().is_some_and(|r| r.ready_with(key.sub_account.as_deref())) => {
            PlannedRoute::ViaMaster { master_label: m.label.clone() }
        }
        None if capabilities.delete_self.as_ref().is_some_and(|r| r.allowed_with(&key.permissions)) => {
            PlannedRoute::SelfDelete
        }
        _ => PlannedRoute::LocalOnly,
    }
}
