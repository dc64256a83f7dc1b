//! The emergency revoke engine: one 2FA code → a plan for the chosen keys → per key, in parallel
//! within each exchange's concurrency and documented rate limits: remote revoke where the API allows
//! it → proof (a signed read with the key's own credentials, refused as an invalid key) →
//! keychain wipe → status revoked (with the proof's time) → audit.
//!
//! - Every step is journaled before and after ([`journal`]); [`RevokeEngine::resume_unfinished`]
//!   finishes what a crash interrupted. Revoking is idempotent (a refused delete goes to the same
//!   proof), so calling the exchange again after a crash is safe, and so is a second run. A job
//!   with a key whose journal write failed is left unfinished, so the resume picks it up.
//!   The app and the CLI share the journal: one process at a time runs or resumes a job (an OS
//!   file lock beside the database, released however the process ends).
//! - Debug builds can be stopped right after any journal write ([`crash`]), for the crash-resume
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

pub mod crash;
mod journal;
mod limits;
mod progress;
mod remote;
mod report;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;
use zeroize::Zeroizing;

use crate::audit::{Action, Event, Outcome};
use crate::exchange::{Clock, ExchangeClient};
use crate::guard::{Guard, GuardError};
use crate::keychain::SecretStore;
use crate::model::{Exchange, KeyId, KeyRecord, KeyStatus};
use crate::store::Store;
use crate::Error;

pub use journal::{DeleteMethod, JobKind, RemoteResult};
pub use limits::ExchangeLimit;
pub use progress::{ProgressView, RevokeStage};
pub use report::{retry_reason, ChecklistItem, KeyReport, KeyResult, ReportAction, RevokeReport, RevokedBy};

use journal::{StepRow, StepState};
use limits::Limiter;

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
pub type Progress = Arc<dyn Fn(ProgressEvent) + Send + Sync>;

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
    clock: Arc<dyn Clock>,
    config: RevokeConfig,
    semaphores: HashMap<Exchange, Arc<Semaphore>>,
    /// Per exchange and calling account (the master key, or the key itself).
    limiters: Mutex<HashMap<LimitGroup, Arc<Limiter>>>,
    running: tokio::sync::Mutex<()>,
}

impl Inner {
    fn limiter(&self, exchange: Exchange, master: Option<KeyId>) -> Arc<Limiter> {
        let mut map = self.limiters.lock().unwrap_or_else(|p| p.into_inner());
        map.entry((exchange, master))
            .or_insert_with(|| Arc::new(Limiter::new((self.config.limits)(exchange), self.config.rate_margin)))
            .clone()
    }
}

/// One job's context, shared by its worker tasks.
#[derive(Clone)]
pub(crate) struct Ctx {
    inner: Arc<Inner>,
    job: Arc<str>,
    progress: Progress,
    /// Set when a key's journal write failed: the job must stay unfinished, for the resume.
    abandoned: Arc<std::sync::atomic::AtomicBool>,
}

impl Ctx {
    fn emit(&self, event: ProgressEvent) {
        (self.progress)(event);
    }

    fn now(&self) -> DateTime<Utc> {
        self.inner.clock.now()
    }
}

#[derive(Clone)]
pub struct RevokeEngine {
    inner: Arc<Inner>,
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
        let inner = Inner {
            store,
            secrets,
            guard,
            client,
            clock,
            config,
            semaphores,
            limiters: Mutex::new(HashMap::new()),
            running: tokio::sync::Mutex::new(()),
        };
        RevokeEngine { inner: Arc::new(inner) }
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
        let _running = self.inner.running.try_lock().map_err(|_| RevokeError::Busy)?;
        let _other_processes = self.process_lock()?;
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
        let _running = self.inner.running.try_lock().map_err(|_| RevokeError::Busy)?;
        let _other_processes = self.process_lock()?;
        self.check_code(guard_code, kind, now).await?;
        let keys = self.unfinished_keys(kind, keys)?;
        self.start(kind, keys, progress).await
    }

    /// At startup: finishes every job a crash interrupted. Needs no code: it only completes work a
    /// verified code started.
    pub async fn resume_unfinished(&self, progress: Progress) -> Result<Vec<RevokeReport>, RevokeError> {
        let _running = self.inner.running.lock().await;
        let jobs = journal::unfinished_jobs(&self.inner.store.conn())?;
        if jobs.is_empty() {
            return Ok(Vec::new());
        }
        // An unfinished job may be one another process is running right now, not a crashed one.
        let _other_processes = self.process_lock()?;
        let jobs = journal::unfinished_jobs(&self.inner.store.conn())?;
        let mut reports = Vec::new();
        for job in jobs {
            tracing::info!(job = %job.id, "resuming an interrupted revoke");
            reports.push(self.run(job, progress.clone()).await?);
        }
        Ok(reports)
    }

    /// The ids of the jobs a crash interrupted, oldest first: what [`Self::resume_unfinished`] would finish.
    pub fn unfinished(&self) -> Result<Vec<String>, RevokeError> {
        Ok(journal::unfinished_jobs(&self.inner.store.conn())?.into_iter().map(|j| j.id).collect())
    }

    pub fn report(&self, job_id: &str) -> Result<Option<RevokeReport>, RevokeError> {
        let job = journal::job(&self.inner.store.conn(), job_id)?;
        job.map(|j| self.build_report(&j)).transpose()
    }

    pub fn last_report(&self) -> Result<Option<RevokeReport>, RevokeError> {
        let job = journal::last_job(&self.inner.store.conn())?;
        job.map(|j| self.build_report(&j)).transpose()
    }

    /// Revokes the selected keys on the strength of a code already checked in this request.
    pub async fn revoke_verified(
        &self,
        _proof: crate::guard::Verified,
        selection: Selection,
        progress: Progress,
    ) -> Result<RevokeReport, RevokeError> {
        let _running = self.inner.running.try_lock().map_err(|_| RevokeError::Busy)?;
        let _other_processes = self.process_lock()?;
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
        let _running = self.inner.running.try_lock().map_err(|_| RevokeError::Busy)?;
        let _other_processes = self.process_lock()?;
        let keys = self.select(&Selection::Keys(vec![old]))?;
        self.start(JobKind::Rotation, keys, progress).await
    }

    /// The app and the CLI share the journal: while one process runs a job, another must neither
    /// run one nor take the running job for a crashed one and resume it. An OS file lock beside
    /// the database, held for the whole run; the OS releases it when the process ends, however it
    /// ends, so a crash never leaves it held.
    fn process_lock(&self) -> Result<std::fs::File, RevokeError> {
        let mut path = self.inner.store.path().as_os_str().to_owned();
        path.push(".revoke-lock");
        let storage = |e: std::io::Error| {
            RevokeError::Storage(Error::Storage { path: path.to_string_lossy().into_owned(), detail: e.to_string() })
        };
        let file = crate::paths::private_file_options()
            .create(true)
            .write(true)
            .truncate(false)
            .open(&path)
            .map_err(storage)?;
        match file.try_lock() {
            Ok(()) => Ok(file),
            Err(std::fs::TryLockError::WouldBlock) => Err(RevokeError::Busy),
            Err(std::fs::TryLockError::Error(e)) => Err(storage(e)),
        }
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
        let job_id = uuid::Uuid::new_v4().to_string();
        let waves = waves(&keys);
        let steps: Vec<(KeyId, u32)> = keys.iter().map(|k| (k.id, waves[&k.id])).collect();
        let now = self.inner.clock.now();
        journal::create_job(&self.inner.store.conn(), &job_id, kind, now, &steps)?;
        for key in &keys {
            progress(ProgressEvent::Planned {
                job_id: job_id.clone(),
                key_id: key.id,
                label: key.label.clone(),
                exchange: key.exchange,
            });
        }
        let job = journal::job(&self.inner.store.conn(), &job_id)?.ok_or(RevokeError::Interrupted)?;
        self.run(job, progress).await
    }

    /// Runs (or resumes) a job wave by wave: sub keys before the masters that revoke them.
    async fn run(&self, job: journal::JobRow, progress: Progress) -> Result<RevokeReport, RevokeError> {
        let abandoned = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let ctx = Ctx { inner: self.inner.clone(), job: Arc::from(job.id.as_str()), progress, abandoned };
        let steps = journal::steps(&self.inner.store.conn(), &job.id)?;
        let mut records = HashMap::new();
        for step in &steps {
            if let Some(k) = self.inner.store.get_key(step.key_id)? {
                records.insert(k.id, k);
            }
        }
        let last_wave = steps.iter().map(|s| s.wave).max().unwrap_or(0);
        for wave in 0..=last_wave {
            let failed: HashSet<KeyId> = journal::steps(&self.inner.store.conn(), &job.id)?
                .into_iter()
                .filter(|s| s.state == StepState::Failed)
                .map(|s| s.key_id)
                .collect();
            let mut tasks = tokio::task::JoinSet::new();
            let mut todo: Vec<(&StepRow, Schedule)> = Vec::new();
            for step in steps.iter().filter(|s| s.wave == wave && !s.state.finished()) {
                let schedule = match records.get(&step.key_id) {
                    Some(key) => self.schedule(key)?,
                    None => Schedule::Remote,
                };
                todo.push((step, schedule));
            }
            // Remote revokes first: they are what shuts a key down (stable: the journal's order within each kind).
            todo.sort_by_key(|(_, schedule)| *schedule != Schedule::Remote);
            let gates = RemoteFirst::new(todo.iter().filter_map(|(step, schedule)| {
                (*schedule == Schedule::Remote).then(|| records.get(&step.key_id).map(|k| k.exchange)).flatten()
            }));
            // Crash tests only (a no-op otherwise): no key starts while this loop writes.
            let serial = crash::serial().await;
            for (step, schedule) in todo {
                let Some(key) = records.get(&step.key_id).cloned() else {
                    journal::set_state(&self.inner.store.conn(), &job.id, step.key_id, StepState::Done, ctx.now())?;
                    continue;
                };
                // Taken before any `continue`: a key held back drops its turn, which opens the gate.
                let turn = gates.turn(key.exchange, schedule);
                let failed_subs =
                    records.values().filter(|k| k.master_key_id == Some(key.id) && failed.contains(&k.id));
                let held_back = failed_subs.count();
                if held_back > 0 && matches!(job.kind, JobKind::Revoke | JobKind::Retry | JobKind::Rotation) {
                    let message = format!(
                        "Kept: this master key is what Latchkey needs to retry {held_back} sub key(s) whose revoke failed. Retry them, or wipe this key anyway."
                    );
                    if let Err(e) = quarantine(&ctx, &key, &message, "held_for_retry") {
                        abandon(&ctx, &key, &e);
                    }
                    continue;
                }
                tasks.spawn(process(ctx.clone(), key, step.clone(), job.kind, turn));
            }
            drop(serial);
            while tasks.join_next().await.is_some() {}
        }
        // A key whose journal write failed is not where the journal says: leave the job
        // unfinished, so the next start (or `latchkey revoke --resume`) finishes that key.
        if !ctx.abandoned.load(std::sync::atomic::Ordering::SeqCst) {
            journal::finish_job(&self.inner.store.conn(), &job.id, ctx.now())?;
        }
        let job = journal::job(&self.inner.store.conn(), &job.id)?.ok_or(RevokeError::Interrupted)?;
        self.build_report(&job)
    }

    /// How a key's step is scheduled within its wave: see [`Schedule`].
    fn schedule(&self, key: &KeyRecord) -> Result<Schedule, RevokeError> {
        let master = match key.master_key_id {
            Some(id) => self.inner.store.get_key(id)?,
            None => None,
        };
        Ok(match route(key, master.as_ref()) {
            PlannedRoute::ViaMaster { .. } | PlannedRoute::SelfDelete => Schedule::Remote,
            // Where a key may delete itself (Bybit), the key is asked which permissions it holds
            // before Latchkey gives up.
            PlannedRoute::LocalOnly if key.exchange.capabilities().delete_self.is_some() => Schedule::LocalAsks,
            PlannedRoute::LocalOnly => Schedule::LocalOnly,
        })
    }

    fn build_report(&self, job: &journal::JobRow) -> Result<RevokeReport, RevokeError> {
        let steps = journal::steps(&self.inner.store.conn(), &job.id)?;
        let keys = steps.iter().map(|s| self.inner.store.get_key(s.key_id)).collect::<Result<Vec<_>, _>>()?;
        Ok(report::build(job, &steps, &keys, |k| master_label(&self.inner.store, k)))
    }
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

/// A key that an API can revoke must not wait behind keys that can only be blocked: within a wave
/// remote revokes start first, and local-only keys never take their place in the exchange's
/// concurrency or rate limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Schedule {
    /// Revoked through an API: the exchange's concurrency and rate limit, first in line.
    Remote,
    /// No API revoke, but the exchange is asked first (a Bybit key's own permissions): waits until
    /// every remote key of its exchange is done, so it takes none of their rate limit.
    LocalAsks,
    /// No API revoke and nothing to ask: no exchange call, so no limit to wait for.
    LocalOnly,
}

/// Per exchange, how many remote keys of this wave are not done yet.
struct RemoteFirst {
    gates: HashMap<Exchange, Arc<tokio::sync::watch::Sender<usize>>>,
}

impl RemoteFirst {
    fn new(remote: impl Iterator<Item = Exchange>) -> Self {
        let mut counts: HashMap<Exchange, usize> = HashMap::new();
        for exchange in remote {
            *counts.entry(exchange).or_default() += 1;
        }
        let gates = counts.into_iter().map(|(e, n)| (e, Arc::new(tokio::sync::watch::channel(n).0))).collect();
        RemoteFirst { gates }
    }

    fn turn(&self, exchange: Exchange, schedule: Schedule) -> Turn {
        let gate = self.gates.get(&exchange);
        match schedule {
            Schedule::Remote => Turn::Remote(InFlight(gate.cloned())),
            Schedule::LocalAsks => Turn::After(gate.map(|g| g.subscribe())),
            Schedule::LocalOnly => Turn::NoCall,
        }
    }
}

/// A key's place in its wave (see [`RemoteFirst`]).
pub(crate) enum Turn {
    Remote(InFlight),
    After(Option<tokio::sync::watch::Receiver<usize>>),
    NoCall,
}

/// Held by a remote key while it is worked on; dropping it (however the key ends, or when it is
/// held back and never starts) lets the local-only keys of its exchange go once none is left.
pub(crate) struct InFlight(Option<Arc<tokio::sync::watch::Sender<usize>>>);

impl InFlight {
    fn none() -> Self {
        InFlight(None)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Some(gate) = self.0.take() {
            gate.send_modify(|left| *left = left.saturating_sub(1));
        }
    }
}

/// Wave 0: keys no selected key depends on; a master runs one wave after its last sub key.
fn waves(keys: &[KeyRecord]) -> HashMap<KeyId, u32> {
    let selected: HashSet<KeyId> = keys.iter().map(|k| k.id).collect();
    let mut wave: HashMap<KeyId, u32> = keys.iter().map(|k| (k.id, 0)).collect();
    // Chains are short (sub → master); the bound also stops a cycle in bad data.
    for _ in 0..keys.len().min(8) {
        let mut changed = false;
        for k in keys {
            if let Some(m) = k.master_key_id.filter(|m| selected.contains(m) && *m != k.id) {
                let need = wave[&k.id] + 1;
                if wave[&m] < need {
                    wave.insert(m, need);
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    wave
}

fn event<'a>(key: &'a KeyRecord, action: Action, outcome: Outcome, detail: String, at: DateTime<Utc>) -> Event<'a> {
    Event { at, action, key_id: Some(key.id), label: Some(&key.label), outcome, detail }
}

/// A key's journal write failed: the job stays unfinished (the resume finishes the key), and the
/// user hears it now.
fn abandon(ctx: &Ctx, key: &KeyRecord, error: &rusqlite::Error) {
    ctx.abandoned.store(true, std::sync::atomic::Ordering::SeqCst);
    tracing::warn!(key = %key.id, error = %error, "could not journal a revoke step; the job stays unfinished for the resume");
    ctx.emit(ProgressEvent::Failed {
        key_id: key.id,
        error: format!(
            "Latchkey could not write its revoke journal ({error}), so '{}' is not finished. Restart Latchkey (or run `latchkey revoke --resume`) and it will finish it; until then the key is not revoked.",
            key.label
        ),
        kind: "storage".to_owned(),
    });
}

/// The remote revoke failed (or was held back): keep the secret, mark the key quarantined.
fn quarantine(ctx: &Ctx, key: &KeyRecord, message: &str, kind: &str) -> rusqlite::Result<()> {
    fail(ctx, key, KeyStatus::Quarantined, message, kind)
}

/// A failed step: keep the secret, set `status`, journal and audit why.
fn fail(ctx: &Ctx, key: &KeyRecord, status: KeyStatus, message: &str, kind: &str) -> rusqlite::Result<()> {
    let at = ctx.now();
    let e = event(key, Action::Quarantine, Outcome::Failed, message.to_owned(), at);
    let last = journal::Final { status, state: StepState::Failed, error: Some((message, kind)), proved_at: None };
    journal::complete(&ctx.inner.store.conn(), &ctx.job, key.id, last, &e, at)?;
    ctx.emit(ProgressEvent::Failed { key_id: key.id, error: message.to_owned(), kind: kind.to_owned() });
    Ok(())
}

async fn process(ctx: Ctx, key: KeyRecord, step: StepRow, kind: JobKind, turn: Turn) {
    // A remote key holds its `InFlight` until its steps are done: only then may the keys that
    // need its exchange's limits for nothing but a question have them.
    let (_done, calls) = match turn {
        Turn::Remote(started) => (started, true),
        Turn::After(gate) => {
            // Before taking a permit: the remote keys it waits for need them.
            if let Some(mut gate) = gate {
                let _ = gate.wait_for(|left| *left == 0).await;
            }
            (InFlight::none(), true)
        }
        Turn::NoCall => (InFlight::none(), false),
    };
    let semaphore = ctx.inner.semaphores.get(&key.exchange).cloned().filter(|_| calls);
    let _permit = match semaphore {
        Some(s) => s.acquire_owned().await.ok(),
        None => None,
    };
    // Crash tests only (a no-op otherwise): one key at a time, so a crash point freezes a clean state.
    let _serial = crash::serial().await;
    if let Err(e) = process_key(&ctx, &key, &step, kind, calls).await {
        abandon(&ctx, &key, &e);
    }
}

/// One key's steps. `Err` only for a journal write that failed.
async fn process_key(ctx: &Ctx, key: &KeyRecord, step: &StepRow, kind: JobKind, calls: bool) -> rusqlite::Result<()> {
    let store = &ctx.inner.store;
    let outcome = match (kind, step.state, step.outcome.clone()) {
        (_, StepState::RemoteDone | StepState::Wiping, Some(done)) => done,
        (JobKind::WipeAnyway, ..) => {
            let (url, steps) = remote::checklist(
                key,
                "You chose to wipe this key's secret here without a proof that it is gone: it still works on the exchange until you delete it there.",
            );
            let outcome = RemoteResult::NotRevoked { url, steps };
            journal::set_remote_done(&store.conn(), &ctx.job, key.id, &outcome, ctx.now())?;
            outcome
        }
        (JobKind::Confirm, ..) => {
            journal::set_state(&store.conn(), &ctx.job, key.id, StepState::RemoteStarted, ctx.now())?;
            match remote::prove(ctx, key).await {
                Ok(at) => {
                    let done = RemoteResult::AlreadyRevoked { proved_at: Some(at) };
                    journal::set_remote_done(&store.conn(), &ctx.job, key.id, &done, ctx.now())?;
                    done
                }
                // Not proved: the key keeps the status it had (still live, quarantined).
                Err(failure) => return fail(ctx, key, key.status, &failure.message, &failure.kind),
            }
        }
        _ => {
            // Before: a crash from here on means "the call may have happened"; resuming calls
            // again, which is safe: a refused delete goes to the same proof.
            journal::set_state(&store.conn(), &ctx.job, key.id, StepState::RemoteStarted, ctx.now())?;
            match remote::revoke(ctx, key, calls).await {
                Ok(done) => {
                    crash::hit(crash::Point::RemoteAnswered, Some(key.id));
                    journal::set_remote_done(&store.conn(), &ctx.job, key.id, &done, ctx.now())?;
                    done
                }
                Err(failure) => return quarantine(ctx, key, &failure.message, &failure.kind),
            }
        }
    };
    match &outcome {
        RemoteResult::Revoked { .. } => ctx.emit(ProgressEvent::RemoteOk { key_id: key.id, already_revoked: false }),
        RemoteResult::AlreadyRevoked { .. } => {
            ctx.emit(ProgressEvent::RemoteOk { key_id: key.id, already_revoked: true })
        }
        RemoteResult::Manual { url, .. } | RemoteResult::NotRevoked { url, .. } => {
            ctx.emit(ProgressEvent::Manual { key_id: key.id, url: url.clone() })
        }
    }
    // After a rotation, the entries say it was the routine end of one.
    let retired = if kind == JobKind::Rotation { "retired after its rotation: " } else { "" };
    if let RemoteResult::Manual { url, .. } = &outcome {
        // Still live at the exchange: blocked from use, secret kept for the proof after the user
        // deletes it on the website.
        let at = ctx.now();
        let detail = format!(
            "{retired}still live on {}: no API revoke; blocked, secret kept; delete it at {url} and confirm",
            key.exchange
        );
        let e = event(key, Action::Quarantine, Outcome::Failed, detail, at);
        let last =
            journal::Final { status: KeyStatus::StillLive, state: StepState::Done, error: None, proved_at: None };
        return journal::complete(&store.conn(), &ctx.job, key.id, last, &e, at);
    }
    journal::set_state(&store.conn(), &ctx.job, key.id, StepState::Wiping, ctx.now())?;
    let secrets = ctx.inner.secrets.clone();
    let id = key.id;
    match tokio::task::spawn_blocking(move || secrets.delete(id)).await {
        Ok(Ok(_)) => crash::hit(crash::Point::Wiped, Some(key.id)),
        Ok(Err(e)) => return quarantine(ctx, key, &e.to_string(), "keychain"),
        Err(_) => {
            // The blocking task died: whether the item is gone is unknown; the resume wipes again.
            ctx.abandoned.store(true, std::sync::atomic::Ordering::SeqCst);
            return Ok(());
        }
    }
    // The proof's time is in the key's row and the journal; the entry has its own time.
    let (action, detail, status, proved_at) = match &outcome {
        RemoteResult::Revoked { method, proved_at } => (
            Action::Revoke,
            format!(
                "{retired}revoked on {} ({}), proved by its own signed call; secret wiped",
                key.exchange,
                report::RevokedBy::new(*method, master_label(store, key)).describe()
            ),
            KeyStatus::Revoked,
            *proved_at,
        ),
        RemoteResult::AlreadyRevoked { proved_at } => (
            Action::Revoke,
            format!("{retired}proved gone on {} by its own signed call; secret wiped", key.exchange),
            KeyStatus::Revoked,
            *proved_at,
        ),
        RemoteResult::NotRevoked { url, .. } | RemoteResult::Manual { url, .. } => (
            Action::Wipe,
            format!("{retired}secret wiped here without proof; still live on {}: delete it at {url}", key.exchange),
            KeyStatus::StillLiveWiped,
            None,
        ),
    };
    let at = ctx.now();
    let e = event(key, action, Outcome::Ok, detail, at);
    let last = journal::Final { status, state: StepState::Done, error: None, proved_at };
    journal::complete(&store.conn(), &ctx.job, key.id, last, &e, at)?;
    ctx.emit(ProgressEvent::Wiped { key_id: key.id });
    Ok(())
}
