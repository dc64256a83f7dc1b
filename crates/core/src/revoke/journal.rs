//! The revoke journal (tables `revoke_jobs`, `revoke_steps`). Every step of every key is written
//! before and after it happens, so a run cut short by a crash is finished by
//! [`super::RevokeEngine::resume_unfinished`]. The last write of a key (its status, the journal
//! row and the audit entry) is one transaction.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::audit::Event;
use crate::model::{KeyId, KeyStatus};
use crate::store::insert_audit;

use super::crash::{self, Point};
use ts_rs::TS;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StepState {
    Planned,
    /// The remote call may be in flight: a resume calls again (revoking is idempotent).
    RemoteStarted,
    RemoteDone,
    Wiping,
    Done,
    Failed,
}

impl StepState {
    pub fn as_str(self) -> &'static str {
        match self {
            StepState::Planned => "planned",
            StepState::RemoteStarted => "remote_started",
            StepState::RemoteDone => "remote_done",
            StepState::Wiping => "wiping",
            StepState::Done => "done",
            StepState::Failed => "failed",
        }
    }

    fn parse(s: &str) -> StepState {
        match s {
            "remote_started" => StepState::RemoteStarted,
            "remote_done" => StepState::RemoteDone,
            "wiping" => StepState::Wiping,
            "done" => StepState::Done,
            "failed" => StepState::Failed,
            _ => StepState::Planned,
        }
    }

    pub fn finished(self) -> bool {
        matches!(self, StepState::Done | StepState::Failed)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "RevokeJobKind")]
pub enum JobKind {
    /// Remote revoke where possible, then wipe.
    Revoke,
    /// The same, for quarantined keys.
    Retry,
    /// Wipe locally without revoking on the exchange.
    WipeAnyway,
    /// "I deleted it on the website": prove it with the key's own signed read, then wipe.
    Confirm,
    /// Retiring the old key once its replacement is saved: the steps of [`JobKind::Revoke`],
    /// reported as routine rather than as an incident.
    Rotation,
}

impl JobKind {
    fn as_str(self) -> &'static str {
        match self {
            JobKind::Revoke => "revoke",
            JobKind::Retry => "retry",
            JobKind::WipeAnyway => "wipe_anyway",
            JobKind::Confirm => "confirm",
            JobKind::Rotation => "rotation",
        }
    }

    fn parse(s: &str) -> JobKind {
        match s {
            "retry" => JobKind::Retry,
            "wipe_anyway" => JobKind::WipeAnyway,
            "confirm" => JobKind::Confirm,
            "rotation" => JobKind::Rotation,
            _ => JobKind::Revoke,
        }
    }
}

/// How the exchange deleted a key, as journaled (`"selfDelete"`, `"viaMaster"`, the names the
/// journal has always used).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DeleteMethod {
    /// The key deleted itself (Bybit).
    SelfDelete,
    /// Its master key deleted it.
    ViaMaster,
    /// A journal row that did not say how.
    #[serde(other)]
    Unrecorded,
}

impl From<crate::exchange::RevokeMethod> for DeleteMethod {
    fn from(method: crate::exchange::RevokeMethod) -> Self {
        match method {
            crate::exchange::RevokeMethod::SelfDelete => DeleteMethod::SelfDelete,
            crate::exchange::RevokeMethod::ViaMaster => DeleteMethod::ViaMaster,
        }
    }
}

/// What the remote step found, as journaled (so a resume after it does not call again).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "camelCase")]
pub enum RemoteResult {
    /// Deleted, and proved gone by the key's own signed read at `proved_at` (`None`: journaled by
    /// a version before proofs).
    #[serde(rename_all = "camelCase")]
    Revoked {
        method: DeleteMethod,
        #[serde(default)]
        proved_at: Option<DateTime<Utc>>,
    },
    /// Proved gone by the key's own signed read (after a refused delete, or a confirm).
    #[serde(rename_all = "camelCase")]
    AlreadyRevoked {
        #[serde(default)]
        proved_at: Option<DateTime<Utc>>,
    },
    /// No API could revoke it: it still works; the user deletes it on the exchange's page.
    Manual { url: String, steps: Vec<String> },
    /// "Wipe locally anyway": the key may still work on the exchange.
    NotRevoked { url: String, steps: Vec<String> },
}

#[derive(Clone, Debug)]
pub(crate) struct StepRow {
    pub key_id: KeyId,
    pub wave: u32,
    pub state: StepState,
    pub outcome: Option<RemoteResult>,
    pub error: Option<String>,
    pub error_kind: Option<String>,
}

#[derive(Clone, Debug)]
pub(crate) struct JobRow {
    pub id: String,
    pub kind: JobKind,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

pub(crate) fn create_job(
    conn: &Connection,
    id: &str,
    kind: JobKind,
    at: DateTime<Utc>,
    steps: &[(KeyId, u32)],
) -> rusqlite::Result<()> {
    let tx = conn.unchecked_transaction()?;
    tx.execute("INSERT INTO revoke_jobs (id, kind, started_at) VALUES (?1, ?2, ?3)", params![id, kind.as_str(), at])?;
    for (key, wave) in steps {
        tx.execute(
            "INSERT INTO revoke_steps (job_id, key_id, wave, state, updated_at) VALUES (?1, ?2, ?3, 'planned', ?4)",
            params![id, key.to_string(), wave, at],
        )?;
    }
    tx.commit()?;
    crash::hit(Point::JobCreated, None);
    Ok(())
}

pub(crate) fn set_state(
    conn: &Connection,
    job: &str,
    key: KeyId,
    state: StepState,
    at: DateTime<Utc>,
) -> rusqlite::Result<()> {
    let attempt = i64::from(state == StepState::RemoteStarted);
    conn.execute(
        "UPDATE revoke_steps SET state = ?3, attempts = attempts + ?4, updated_at = ?5 WHERE job_id = ?1 AND key_id = ?2",
        params![job, key.to_string(), state.as_str(), attempt, at],
    )?;
    let point = match state {
        StepState::RemoteStarted => Some(Point::RemoteStarted),
        StepState::Wiping => Some(Point::Wiping),
        StepState::Done => Some(Point::Skipped),
        StepState::Planned | StepState::RemoteDone | StepState::Failed => None,
    };
    if let Some(point) = point {
        crash::hit(point, Some(key));
    }
    Ok(())
}

pub(crate) fn set_remote_done(
    conn: &Connection,
    job: &str,
    key: KeyId,
    outcome: &RemoteResult,
    at: DateTime<Utc>,
) -> rusqlite::Result<()> {
    let json = serde_json::to_string(outcome).unwrap_or_default();
    conn.execute(
        "UPDATE revoke_steps SET state = 'remote_done', outcome = ?3, updated_at = ?4 WHERE job_id = ?1 AND key_id = ?2",
        params![job, key.to_string(), json, at],
    )?;
    crash::hit(Point::RemoteDone, Some(key));
    Ok(())
}

/// What a key's last write sets.
pub(crate) struct Final<'a> {
    pub status: KeyStatus,
    pub state: StepState,
    /// The message and machine kind of a failed step.
    pub error: Option<(&'a str, &'a str)>,
    /// When the revoke was proved (a `Revoked` status only).
    pub proved_at: Option<DateTime<Utc>>,
}

/// The key's last write: its status, the journal row and the audit entry, in one transaction.
pub(crate) fn complete(
    conn: &Connection,
    job: &str,
    key: KeyId,
    last: Final<'_>,
    event: &Event<'_>,
    at: DateTime<Utc>,
) -> rusqlite::Result<()> {
    let Final { status, state, error, proved_at } = last;
    let tx = conn.unchecked_transaction()?;
    tx.execute(
        "UPDATE keys SET status = ?2, revoked_at = ?3 WHERE id = ?1",
        params![key.to_string(), status.as_str(), proved_at],
    )?;
    tx.execute(
        "UPDATE revoke_steps SET state = ?3, error = ?4, error_kind = ?5, updated_at = ?6 WHERE job_id = ?1 AND key_id = ?2",
        params![job, key.to_string(), state.as_str(), error.map(|e| e.0), error.map(|e| e.1), at],
    )?;
    insert_audit(&tx, event)?;
    tx.commit()?;
    crash::hit(if state == StepState::Failed { Point::Quarantined } else { Point::Done }, Some(key));
    Ok(())
}

pub(crate) fn finish_job(conn: &Connection, job: &str, at: DateTime<Utc>) -> rusqlite::Result<()> {
    conn.execute("UPDATE revoke_jobs SET finished_at = ?2 WHERE id = ?1", params![job, at])?;
    crash::hit(Point::JobFinished, None);
    Ok(())
}

fn read_job(r: &rusqlite::Row<'_>) -> rusqlite::Result<JobRow> {
    let kind: String = r.get(1)?;
    Ok(JobRow { id: r.get(0)?, kind: JobKind::parse(&kind), started_at: r.get(2)?, finished_at: r.get(3)? })
}

pub(crate) fn job(conn: &Connection, id: &str) -> rusqlite::Result<Option<JobRow>> {
    conn.query_row("SELECT id, kind, started_at, finished_at FROM revoke_jobs WHERE id = ?1", [id], read_job).optional()
}

pub(crate) fn last_job(conn: &Connection) -> rusqlite::Result<Option<JobRow>> {
    conn.query_row(
        "SELECT id, kind, started_at, finished_at FROM revoke_jobs ORDER BY started_at DESC, rowid DESC LIMIT 1",
        [],
        read_job,
    )
    .optional()
}

pub(crate) fn unfinished_jobs(conn: &Connection) -> rusqlite::Result<Vec<JobRow>> {
    let mut stmt = conn.prepare(
        "SELECT id, kind, started_at, finished_at FROM revoke_jobs WHERE finished_at IS NULL ORDER BY started_at, rowid",
    )?;
    let rows = stmt.query_map([], read_job)?;
    rows.collect()
}

pub(crate) fn steps(conn: &Connection, job: &str) -> rusqlite::Result<Vec<StepRow>> {
    let mut stmt = conn.prepare(
        "SELECT key_id, wave, state, outcome, error, error_kind FROM revoke_steps WHERE job_id = ?1 ORDER BY wave, rowid",
    )?;
    let rows = stmt.query_map([job], |r| {
        let key: String = r.get(0)?;
        let state: String = r.get(2)?;
        let outcome: Option<String> = r.get(3)?;
        Ok(StepRow {
            key_id: key.parse().map_err(|_| {
                rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, "key_id".into())
            })?,
            wave: r.get(1)?,
            state: StepState::parse(&state),
            outcome: outcome.and_then(|o| serde_json::from_str(&o).ok()),
            error: r.get(4)?,
            error_kind: r.get(5)?,
        })
    })?;
    rows.collect()
}
