//! The job journal (tables `jobs`, `job_steps`): the only code that writes them. Every write is
//! followed by its crash point ([`super::crash`]).

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::audit::Event;
use crate::model::{KeyId, KeyRecord, KeyStatus};
use crate::store::insert_audit;

use super::crash::{self, Point};
use super::{JobKind, StepState};

#[derive(Clone, Debug)]
pub(crate) struct JobRow<K> {
    pub id: String,
    pub kind: K,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug)]
pub(crate) struct StepRow<S, D> {
    pub key_id: KeyId,
    pub wave: u32,
    pub state: S,
    /// What the state carries, as the machine journaled it.
    pub data: Option<D>,
    pub error: Option<String>,
    pub error_kind: Option<String>,
}

fn corrupt(column: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, format!("{column} not understood").into())
}

pub(crate) fn create_job<K: JobKind, S: StepState>(
    conn: &Connection,
    id: &str,
    kind: K,
    at: DateTime<Utc>,
    steps: &[(KeyId, u32)],
) -> rusqlite::Result<()> {
    let tx = conn.unchecked_transaction()?;
    tx.execute("INSERT INTO jobs (id, kind, started_at) VALUES (?1, ?2, ?3)", params![id, kind.as_str(), at])?;
    for (key, wave) in steps {
        tx.execute(
            "INSERT INTO job_steps (job_id, key_id, wave, state, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id, key.to_string(), wave, S::PLANNED.as_str(), at],
        )?;
    }
    tx.commit()?;
    crash::hit(Point::JobCreated, None);
    Ok(())
}

/// A step's new state, with its data when `data` is given (otherwise the data stays).
pub(crate) fn record<S: StepState, D: Serialize>(
    conn: &Connection,
    job: &str,
    key: KeyId,
    state: S,
    data: Option<&D>,
    at: DateTime<Utc>,
) -> rusqlite::Result<()> {
    let key_text = key.to_string();
    match data {
        Some(data) => {
            let json = serde_json::to_string(data).map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?;
            conn.execute(
                "UPDATE job_steps SET state = ?3, data = ?4, updated_at = ?5 WHERE job_id = ?1 AND key_id = ?2",
                params![job, key_text, state.as_str(), json, at],
            )?
        }
        None => conn.execute(
            "UPDATE job_steps SET state = ?3, updated_at = ?4 WHERE job_id = ?1 AND key_id = ?2",
            params![job, key_text, state.as_str(), at],
        )?,
    };
    if let Some(point) = state.point() {
        crash::hit(point, Some(key));
    }
    Ok(())
}

/// A step whose key was deleted while the job waited: over, nothing to do.
pub(crate) fn skip<S: StepState>(conn: &Connection, job: &str, key: KeyId, at: DateTime<Utc>) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE job_steps SET state = ?3, updated_at = ?4 WHERE job_id = ?1 AND key_id = ?2",
        params![job, key.to_string(), S::SKIPPED.as_str(), at],
    )?;
    crash::hit(Point::Skipped, Some(key));
    Ok(())
}

/// What a step's last write sets.
pub(crate) struct Last<'a, S> {
    pub state: S,
    pub status: Option<KeyStatus>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub error: Option<(&'a str, &'a str)>,
}

/// A step's last write: the key's status, the step's end state and the audit entry, in one transaction.
pub(crate) fn settle<S: StepState>(
    conn: &Connection,
    job: &str,
    key: &KeyRecord,
    last: Last<'_, S>,
    event: &Event<'_>,
    at: DateTime<Utc>,
) -> rusqlite::Result<()> {
    let Last { state, status, revoked_at, error } = last;
    let tx = conn.unchecked_transaction()?;
    if let Some(status) = status {
        tx.execute(
            "UPDATE keys SET status = ?2, revoked_at = ?3 WHERE id = ?1",
            params![key.id.to_string(), status.as_str(), revoked_at],
        )?;
    }
    tx.execute(
        "UPDATE job_steps SET state = ?3, error = ?4, error_kind = ?5, updated_at = ?6 WHERE job_id = ?1 AND key_id = ?2",
        params![job, key.id.to_string(), state.as_str(), error.map(|e| e.0), error.map(|e| e.1), at],
    )?;
    insert_audit(&tx, event)?;
    tx.commit()?;
    crash::hit(state.settled_point(), Some(key.id));
    Ok(())
}

pub(crate) fn finish_job(conn: &Connection, job: &str, at: DateTime<Utc>) -> rusqlite::Result<()> {
    conn.execute("UPDATE jobs SET finished_at = ?2 WHERE id = ?1", params![job, at])?;
    crash::hit(Point::JobFinished, None);
    Ok(())
}

fn read_job<K: JobKind>(r: &rusqlite::Row<'_>) -> rusqlite::Result<JobRow<K>> {
    let kind: String = r.get(1)?;
    Ok(JobRow {
        id: r.get(0)?,
        kind: K::parse(&kind).ok_or_else(|| corrupt("kind"))?,
        started_at: r.get(2)?,
        finished_at: r.get(3)?,
    })
}

/// The engine's kinds, for `kind IN (…)`: a job of another engine is not this one's to read.
fn kinds<K: JobKind>() -> String {
    K::ALL.iter().map(|k| format!("'{}'", k.as_str())).collect::<Vec<_>>().join(", ")
}

pub(crate) fn job<K: JobKind>(conn: &Connection, id: &str) -> rusqlite::Result<Option<JobRow<K>>> {
    let sql =
        format!("SELECT id, kind, started_at, finished_at FROM jobs WHERE id = ?1 AND kind IN ({})", kinds::<K>());
    conn.query_row(&sql, [id], read_job).optional()
}

pub(crate) fn last_job<K: JobKind>(conn: &Connection) -> rusqlite::Result<Option<JobRow<K>>> {
    let sql = format!(
        "SELECT id, kind, started_at, finished_at FROM jobs WHERE kind IN ({}) ORDER BY started_at DESC, rowid DESC LIMIT 1",
        kinds::<K>()
    );
    conn.query_row(&sql, [], read_job).optional()
}

pub(crate) fn unfinished_jobs<K: JobKind>(conn: &Connection) -> rusqlite::Result<Vec<JobRow<K>>> {
    let sql = format!(
        "SELECT id, kind, started_at, finished_at FROM jobs WHERE finished_at IS NULL AND kind IN ({}) ORDER BY started_at, rowid",
        kinds::<K>()
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([], read_job)?;
    rows.collect()
}

pub(crate) fn steps<S: StepState, D: DeserializeOwned>(
    conn: &Connection,
    job: &str,
) -> rusqlite::Result<Vec<StepRow<S, D>>> {
    let mut stmt = conn.prepare(
        "SELECT key_id, wave, state, data, error, error_kind FROM job_steps WHERE job_id = ?1 ORDER BY wave, rowid",
    )?;
    let rows = stmt.query_map([job], |r| {
        let key: String = r.get(0)?;
        let state: String = r.get(2)?;
        let data: Option<String> = r.get(3)?;
        Ok(StepRow {
            key_id: key.parse().map_err(|_| corrupt("key_id"))?,
            wave: r.get(1)?,
            state: S::parse(&state).ok_or_else(|| corrupt("state"))?,
            data: data.and_then(|d| serde_json::from_str(&d).ok()),
            error: r.get(4)?,
            error_kind: r.get(5)?,
        })
    })?;
    rows.collect()
}
