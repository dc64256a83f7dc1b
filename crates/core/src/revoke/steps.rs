//! What the job journal records for a revoke: each key's step states, the job kinds, and the
//! remote step's result (the data its `remote_done` state carries, so a resume does not call the
//! exchange again).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::job::crash::Point;

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

impl crate::job::StepState for StepState {
    const ALL: &'static [Self] = &[
        StepState::Planned,
        StepState::RemoteStarted,
        StepState::RemoteDone,
        StepState::Wiping,
        StepState::Done,
        StepState::Failed,
    ];
    const PLANNED: Self = StepState::Planned;
    const SKIPPED: Self = StepState::Done;

    fn as_str(self) -> &'static str {
        match self {
            StepState::Planned => "planned",
            StepState::RemoteStarted => "remote_started",
            StepState::RemoteDone => "remote_done",
            StepState::Wiping => "wiping",
            StepState::Done => "done",
            StepState::Failed => "failed",
        }
    }

    fn finished(self) -> bool {
        matches!(self, StepState::Done | StepState::Failed)
    }

    fn point(self) -> Option<Point> {
        match self {
            StepState::RemoteStarted => Some(Point::RemoteStarted),
            StepState::RemoteDone => Some(Point::RemoteDone),
            StepState::Wiping => Some(Point::Wiping),
            StepState::Planned | StepState::Done | StepState::Failed => None,
        }
    }

    fn settled_point(self) -> Point {
        if self == StepState::Failed {
            Point::Quarantined
        } else {
            Point::Done
        }
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

impl crate::job::JobKind for JobKind {
    const ALL: &'static [Self] =
        &[JobKind::Revoke, JobKind::Retry, JobKind::WipeAnyway, JobKind::Confirm, JobKind::Rotation];

    fn as_str(self) -> &'static str {
        match self {
            JobKind::Revoke => "revoke",
            JobKind::Retry => "retry",
            JobKind::WipeAnyway => "wipe_anyway",
            JobKind::Confirm => "confirm",
            JobKind::Rotation => "rotation",
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

pub(crate) type StepRow = crate::job::StepRow<StepState, RemoteResult>;
pub(crate) type JobRow = crate::job::JobRow<JobKind>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::journal;
    use crate::model::KeyId;
    use rusqlite_migration::Migrations;

    /// A revoke interrupted under the old tables (`revoke_jobs`, `revoke_steps`, `outcome`) is still
    /// there, and still unfinished, after the upgrade to the job tables.
    #[test]
    fn a_revoke_journaled_before_the_job_tables_is_resumed_after_the_upgrade() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(crate::paths::DB_FILE);
        let before = crate::store::MIGRATIONS.iter().position(|m| format!("{m:?}").contains("RENAME TO jobs")).unwrap();
        let (key, at) = (KeyId::random(), Utc::now());
        let outcome = RemoteResult::AlreadyRevoked { proved_at: Some(at) };
        {
            let mut conn = rusqlite::Connection::open(&path).unwrap();
            Migrations::from_slice(&crate::store::MIGRATIONS[..before]).to_latest(&mut conn).unwrap();
            conn.execute("INSERT INTO revoke_jobs (id, kind, started_at) VALUES ('j1', 'retry', ?1)", [at]).unwrap();
            conn.execute(
                "INSERT INTO revoke_steps (job_id, key_id, wave, state, outcome, updated_at) VALUES ('j1', ?1, 1, 'wiping', ?2, ?3)",
                rusqlite::params![key.to_string(), serde_json::to_string(&outcome).unwrap(), at],
            )
            .unwrap();
        }
        let store = crate::store::Store::open_in(dir.path()).unwrap();
        let jobs = journal::unfinished_jobs::<JobKind>(&store.conn()).unwrap();
        assert_eq!(jobs.iter().map(|j| (j.id.as_str(), j.kind)).collect::<Vec<_>>(), [("j1", JobKind::Retry)]);
        let steps: Vec<StepRow> = journal::steps(&store.conn(), "j1").unwrap();
        assert_eq!(steps.len(), 1);
        assert_eq!((steps[0].key_id, steps[0].wave, steps[0].state), (key, 1, StepState::Wiping));
        assert_eq!(steps[0].data, Some(outcome), "the remote result journaled before is what the resume uses");
    }
}
