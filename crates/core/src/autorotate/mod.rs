//! Automatic rotation: for a sub-account key whose master key Latchkey holds, the whole rotation
//! with nobody at the keyboard: create the replacement through the master (same permissions, never
//! withdraw; same IP whitelist) → verify it with a signed read → store it under the same label →
//! hand it to the bots that use it ([`crate::handover`]) → retire the old key through the revoke
//! engine (deleted by the master, proved gone by its own signed read).
//!
//! Each key is a state machine ([`machine`]) run by the job runner ([`crate::job`]): journaled
//! before and after every step, resumed after a crash, one job at a time across processes
//! (`.rotate-lock`), creates and deletes kept under each exchange's documented write limit per
//! master. A failure before the new key is stored leaves the old one in use and deletes what was
//! made; a failure after it leaves the new key in use and the old one quarantined by the revoke
//! engine, for its retry.

mod machine;
pub mod schedule;
mod steps;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use ts_rs::TS;

use crate::exchange::{sub_key_facts, Clock, ExchangeClient};
use crate::guard::Verified;
use crate::handover::Handover;
use crate::job::limits::Limiter;
use crate::job::runner::{JobError, Runner};
use crate::job::{self, JobRow};
use crate::keychain::SecretStore;
use crate::model::{Exchange, KeyId, KeyRecord, KeyStatus};
use crate::revoke::RevokeEngine;
use crate::store::Store;
use crate::vault::Vault;
use crate::Error;

use machine::RotationMachine;
pub use steps::RotationKind;
use steps::{StepRow, StepState};

#[derive(Clone, Debug)]
pub struct AutoRotateConfig {
    /// How long the bots running with the old key get to move to the new one.
    pub grace: Duration,
    pub request_timeout: Duration,
    /// Tries per call for transient failures (not for creates: see `max_creates`).
    pub max_attempts: u32,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// A Retry-After longer than this fails the step now instead of waiting.
    pub max_retry_after: Duration,
    /// Create calls per rotation, counting ones that timed out (each next one first deletes what
    /// the last may have made).
    pub max_creates: u32,
    /// Signed reads of the new key before a refusal counts (a new key may take a moment to reach
    /// every server of the exchange), and the wait between them.
    pub verify_tries: u32,
    pub verify_wait: Duration,
    /// Added to each rate-limit window: the exchange counts arrivals, and arrivals jitter.
    pub rate_margin: Duration,
}

impl Default for AutoRotateConfig {
    fn default() -> Self {
        AutoRotateConfig {
            grace: crate::handover::DEFAULT_GRACE,
            request_timeout: Duration::from_secs(15),
            max_attempts: 4,
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(30),
            max_creates: 3,
            verify_tries: 5,
            verify_wait: Duration::from_secs(1),
            rate_margin: Duration::from_millis(20),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AutoRotateError {
    #[error(transparent)]
    Storage(#[from] Error),
    #[error("'{label}' cannot rotate by itself: {why}")]
    NotEligible { label: String, why: String },
    #[error("A rotation is already running (here, in the app or in a terminal): wait for it to finish.")]
    Busy,
    #[error("Turning automatic rotation on needs a 2FA code: it lets Latchkey replace this key with nobody at the keyboard.")]
    CodeNeeded,
    #[error(transparent)]
    Guard(#[from] crate::guard::GuardError),
    #[error("The rotation was interrupted: restart Latchkey and it will finish the unfinished steps.")]
    Interrupted,
}

impl AutoRotateError {
    pub fn kind(&self) -> crate::error::ErrorCode {
        use crate::error::ErrorCode;
        match self {
            AutoRotateError::Storage(_) => ErrorCode::Storage,
            AutoRotateError::NotEligible { .. } => ErrorCode::NotAvailable,
            AutoRotateError::Busy => ErrorCode::Busy,
            AutoRotateError::CodeNeeded => ErrorCode::CodeNeeded,
            AutoRotateError::Guard(g) => g.kind(),
            AutoRotateError::Interrupted => ErrorCode::Interrupted,
        }
    }
}

impl From<JobError> for AutoRotateError {
    fn from(e: JobError) -> Self {
        match e {
            JobError::Busy => AutoRotateError::Busy,
            JobError::Storage(e) => AutoRotateError::Storage(e),
        }
    }
}

impl From<rusqlite::Error> for AutoRotateError {
    fn from(e: rusqlite::Error) -> Self {
        AutoRotateError::Storage(Error::Storage { path: String::from("latchkey.db"), detail: e.to_string() })
    }
}

/// Live progress, per key.
#[derive(Clone, Debug, PartialEq, Serialize, TS)]
#[serde(tag = "event", rename_all = "camelCase")]
pub enum RotationEvent {
    #[serde(rename_all = "camelCase")]
    Planned { job_id: String, key_id: KeyId, label: String, exchange: Exchange },
    /// The step the key is at now (`creating`, `verified`, …).
    #[serde(rename_all = "camelCase")]
    Step { key_id: KeyId, step: String },
    #[serde(rename_all = "camelCase")]
    Rotated { key_id: KeyId, new_key_id: KeyId, new_hint: String, old_key: String },
    #[serde(rename_all = "camelCase")]
    Failed { key_id: KeyId, error: String, kind: String },
}

pub type Progress = job::Progress<RotationEvent>;

pub fn no_progress() -> Progress {
    Arc::new(|_| {})
}

/// How one key's rotation ended.
#[derive(Clone, Debug, PartialEq, Serialize, TS)]
#[serde(tag = "result", rename_all = "camelCase")]
pub enum RotationResult {
    /// The new key is in use; `old_key` says how the old one ended (its status now).
    #[serde(rename_all = "camelCase")]
    Rotated { new_key_id: KeyId, new_hint: String, handover: Option<Handover>, old_key: KeyStatus },
    /// The old key is still the one in use.
    #[serde(rename_all = "camelCase")]
    Failed { error: String, kind: String },
    /// Not finished (a crash, or a revoke in the way): the next start finishes it.
    Pending,
}

#[derive(Clone, Debug, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RotatedKey {
    pub key_id: KeyId,
    pub label: String,
    pub exchange: Option<Exchange>,
    pub result: RotationResult,
}

#[derive(Clone, Debug, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RotationReport {
    pub job_id: String,
    pub kind: RotationKind,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub keys: Vec<RotatedKey>,
}

pub(crate) struct Inner {
    store: Arc<Store>,
    vault: Arc<Vault>,
    secrets: Arc<dyn SecretStore>,
    client: Arc<ExchangeClient>,
    revoke: RevokeEngine,
    config: AutoRotateConfig,
    runner: Runner,
    /// Per master key: its exchange's create/modify/delete limit.
    writes: Mutex<HashMap<KeyId, Arc<Limiter>>>,
    /// Per master key: its sub-key listing's limit, shared by every rotation under that master
    /// (Binance allows about one listing a second: unshared, rotations falling due together were
    /// answered 429 and failed).
    lists: Mutex<HashMap<KeyId, Arc<Limiter>>>,
    /// Old keys waiting to be retired, and whether a batch is being retired now.
    retiring: Mutex<RetireQueue>,
    /// Rotations whose next create this process journaled and has not sent yet (by the new key's
    /// id): the only creates known not to have reached the exchange, so the only ones sent
    /// without first looking for a key under their label.
    unsent: Mutex<std::collections::HashSet<KeyId>>,
    /// Creates refused for the rate so far, per rotation (by the new key's id).
    rate_refused: Mutex<HashMap<KeyId, u32>>,
}

/// Rotations that reach `retiring` while a revoke job runs would find the revoke engine busy (it
/// runs one job at a time): they queue here instead, and each batch goes to the revoke engine as
/// one job, which keeps each exchange's delete limit and proves the keys gone side by side.
#[derive(Default)]
struct RetireQueue {
    waiting: Vec<(KeyId, tokio::sync::oneshot::Sender<Result<crate::revoke::RevokeReport, String>>)>,
    driving: bool,
}

impl Inner {
    fn writes(&self, master: &KeyRecord) -> Arc<Limiter> {
        let mut map = self.writes.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(master.id)
            .or_insert_with(|| {
                let limit =
                    sub_key_facts(master.exchange).map(|f| f.writes).unwrap_or(master.exchange.profile().limits.revoke);
                Arc::new(Limiter::new(limit, self.config.rate_margin))
            })
            .clone()
    }

    /// Retires the old key of a finished rotation through the revoke engine, in a batch with the
    /// others that are waiting (see [`RetireQueue`]). `Err`: the revoke engine could not take it
    /// now (another process runs a revoke, or the journal failed), in words.
    async fn retire(self: &Arc<Self>, old: KeyId) -> Result<crate::revoke::RevokeReport, String> {
        let (sender, answer) = tokio::sync::oneshot::channel();
        let drive = {
            let mut queue = self.retiring.lock().unwrap_or_else(|p| p.into_inner());
            queue.waiting.push((old, sender));
            !std::mem::replace(&mut queue.driving, true)
        };
        if drive {
            let inner = self.clone();
            tokio::spawn(async move { inner.retire_batches().await });
        }
        answer.await.unwrap_or_else(|_| Err("the retirement was interrupted".to_owned()))
    }

    async fn retire_batches(&self) {
        loop {
            let batch = {
                let mut queue = self.retiring.lock().unwrap_or_else(|p| p.into_inner());
                if queue.waiting.is_empty() {
                    queue.driving = false;
                    return;
                }
                std::mem::take(&mut queue.waiting)
            };
            let ids: Vec<KeyId> = batch.iter().map(|(id, _)| *id).collect();
            let result =
                self.revoke.retire_rotated(&ids, crate::revoke::no_progress()).await.map_err(|e| e.to_string());
            for (_, sender) in batch {
                let _ = sender.send(result.clone());
            }
        }
    }

    fn lists(&self, master: &KeyRecord) -> Arc<Limiter> {
        let mut map = self.lists.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(master.id)
            .or_insert_with(|| {
                let limit =
                    sub_key_facts(master.exchange).map(|f| f.lists).unwrap_or(master.exchange.profile().limits.revoke);
                Arc::new(Limiter::new(limit, self.config.rate_margin))
            })
            .clone()
    }
}

/// Whether the key can rotate with nobody at the keyboard, and if not, why (in words).
pub fn eligible(store: &Store, key: &KeyRecord) -> Result<(), String> {
    let capabilities = key.exchange.capabilities();
    if !capabilities.create_sub_key.is_yes() || capabilities.delete_sub_key.is_none() {
        return Err(format!("{}'s API does not let a master key create and delete sub-account keys.", key.exchange));
    }
    if key.status != KeyStatus::Active {
        return Err(format!("it is {}, not active.", key.status.as_str()));
    }
    // The replacement gets the old key's permissions: unknown ones would make it read-only.
    if !key.exchange.reports_permissions() && key.permissions.is_empty() {
        return Err(format!("{} does not report this key's permissions and Latchkey has not seen them in its master's listing, so a replacement could not get the same ones: fix the key in place once (or mint it from the master), then turn automatic rotation on.", key.exchange));
    }
    let Some(master_id) = key.master_key_id else {
        return Err("Latchkey does not hold its master key: add the master account's key, then add this key again with it as its master (`latchkey add --master`), or create the bot key from the master (\"Create a new key for a bot\", `latchkey mint`).".to_owned());
    };
    if key.sub_account.as_deref().is_none_or(|s| s.trim().is_empty()) {
        return Err("its sub-account is not recorded: mint the key from the master, or set its sub-account.".to_owned());
    }
    match store.get_key(master_id).map_err(|e| e.to_string())? {
        Some(m) if m.status == KeyStatus::Active => Ok(()),
        Some(m) => Err(format!("its master key '{}' is {}.", m.label, m.status.as_str())),
        None => Err("its master key is no longer in Latchkey.".to_owned()),
    }
}

#[derive(Clone)]
pub struct AutoRotateEngine {
    inner: Arc<Inner>,
    machine: Arc<RotationMachine>,
}

impl std::fmt::Debug for AutoRotateEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AutoRotateEngine").finish_non_exhaustive()
    }
}

impl AutoRotateEngine {
    pub fn new(
        store: Arc<Store>,
        vault: Arc<Vault>,
        secrets: Arc<dyn SecretStore>,
        client: Arc<ExchangeClient>,
        revoke: RevokeEngine,
        clock: Arc<dyn Clock>,
        config: AutoRotateConfig,
    ) -> Self {
        let runner = Runner::new(store.clone(), clock, ".rotate-lock");
        let inner = Arc::new(Inner {
            store,
            vault,
            secrets,
            client,
            revoke,
            config,
            runner,
            writes: Mutex::new(HashMap::new()),
            lists: Mutex::new(HashMap::new()),
            retiring: Mutex::new(RetireQueue::default()),
            unsent: Mutex::new(std::collections::HashSet::new()),
            rate_refused: Mutex::new(HashMap::new()),
        });
        AutoRotateEngine { machine: Arc::new(RotationMachine { inner: inner.clone() }), inner }
    }

    /// "Rotate now" for keys that can rotate by themselves, on the strength of a code checked by
    /// the caller.
    pub async fn rotate_now(
        &self,
        _proof: Verified,
        keys: &[KeyId],
        progress: Progress,
    ) -> Result<RotationReport, AutoRotateError> {
        let _exclusive = self.inner.runner.exclusive()?;
        let keys = self.eligible_keys(keys)?;
        self.start(RotationKind::Now, keys, progress).await
    }

    /// The schedule: rotates these keys (the caller picked the ones due with automatic rotation
    /// on). Needs no code: the user gave one when turning automatic rotation on.
    pub async fn rotate_scheduled(
        &self,
        keys: &[KeyId],
        progress: Progress,
    ) -> Result<RotationReport, AutoRotateError> {
        let _exclusive = self.inner.runner.exclusive()?;
        let keys = self.eligible_keys(keys)?;
        self.start(RotationKind::Scheduled, keys, progress).await
    }

    /// At startup: finishes every rotation a crash interrupted.
    pub async fn resume_unfinished(&self, progress: Progress) -> Result<Vec<RotationReport>, AutoRotateError> {
        let Some((_exclusive, jobs)) = self.inner.runner.exclusive_for_resume::<RotationKind>().await? else {
            return Ok(Vec::new());
        };
        let mut reports = Vec::new();
        for job in jobs {
            tracing::info!(job = %job.id, "resuming an interrupted rotation");
            reports.push(self.run(job, progress.clone()).await?);
        }
        Ok(reports)
    }

    pub fn unfinished(&self) -> Result<Vec<String>, AutoRotateError> {
        Ok(job::journal::unfinished_jobs::<RotationKind>(&self.inner.store.conn())?.into_iter().map(|j| j.id).collect())
    }

    pub fn last_report(&self) -> Result<Option<RotationReport>, AutoRotateError> {
        let job = job::journal::last_job::<RotationKind>(&self.inner.store.conn())?;
        job.map(|j| self.build_report(&j)).transpose()
    }

    fn eligible_keys(&self, ids: &[KeyId]) -> Result<Vec<KeyRecord>, AutoRotateError> {
        let mut keys = Vec::new();
        for id in ids {
            let key = self.inner.store.get_key(*id)?.ok_or(Error::NotFound(*id))?;
            eligible(&self.inner.store, &key)
                .map_err(|why| AutoRotateError::NotEligible { label: key.label.clone(), why })?;
            keys.push(key);
        }
        Ok(keys)
    }

    async fn start(
        &self,
        kind: RotationKind,
        keys: Vec<KeyRecord>,
        progress: Progress,
    ) -> Result<RotationReport, AutoRotateError> {
        let steps: Vec<(KeyId, u32)> = keys.iter().map(|k| (k.id, 0)).collect();
        let job = self.inner.runner.create::<RotationMachine>(kind, &steps)?;
        for key in &keys {
            progress(RotationEvent::Planned {
                job_id: job.id.clone(),
                key_id: key.id,
                label: key.label.clone(),
                exchange: key.exchange,
            });
        }
        self.run(job, progress).await
    }

    async fn run(&self, job: JobRow<RotationKind>, progress: Progress) -> Result<RotationReport, AutoRotateError> {
        self.inner.runner.run(&self.machine, &job, progress).await?;
        let job = job::journal::job::<RotationKind>(&self.inner.store.conn(), &job.id)?
            .ok_or(AutoRotateError::Interrupted)?;
        self.build_report(&job)
    }

    fn build_report(&self, job: &JobRow<RotationKind>) -> Result<RotationReport, AutoRotateError> {
        let steps: Vec<StepRow> = job::journal::steps(&self.inner.store.conn(), &job.id)?;
        let mut keys = Vec::new();
        for step in steps {
            let record = self.inner.store.get_key(step.key_id)?;
            let result = match (step.state, &step.data) {
                (StepState::Done, Some(data)) => {
                    let old_key = record.as_ref().map_or(KeyStatus::Revoked, |k| k.status);
                    RotationResult::Rotated {
                        new_key_id: data.new_id,
                        new_hint: data.new_hint.clone().unwrap_or_default(),
                        handover: data.handover.clone(),
                        old_key,
                    }
                }
                (StepState::Failed, _) => RotationResult::Failed {
                    error: step.error.clone().unwrap_or_default(),
                    kind: step.error_kind.clone().unwrap_or_default(),
                },
                _ => RotationResult::Pending,
            };
            // The label the key is rotated under: the new key's, once it took the old one's place.
            let label = match (&step.data, &result) {
                (Some(data), RotationResult::Rotated { .. }) => {
                    self.inner.store.get_key(data.new_id)?.map(|k| k.label).or(record.as_ref().map(|k| k.label.clone()))
                }
                _ => record.as_ref().map(|k| k.label.clone()),
            };
            keys.push(RotatedKey {
                key_id: step.key_id,
                label: label.unwrap_or_else(|| step.key_id.to_string()),
                exchange: record.as_ref().map(|k| k.exchange),
                result,
            });
        }
        Ok(RotationReport {
            job_id: job.id.clone(),
            kind: job.kind,
            started_at: job.started_at,
            finished_at: job.finished_at,
            keys,
        })
    }
}
