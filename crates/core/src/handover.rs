//! Which running bots hold which key, so a rotation retires the old key only once they moved.
//!
//! Each `latchkey run` registers the keys it handed over (table `bot_sessions`, one row per key),
//! beats a heartbeat while its child runs, moves a row to the successor when it follows a
//! rotation (`--on-rotate restart` or `signal:…`) and removes its rows when it ends. A rotation,
//! after saving the new key, waits until no live run holds the old one ([`wait_until_moved`]), or
//! until the grace period the user chose is over, and only then deletes the old key.
//!
//! A run that dies without removing its rows (kill -9, power cut) stops beating: its rows count
//! as gone once [`STALE_AFTER`] passed, so a crash never holds a rotation back for longer.

use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::params;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::model::{KeyId, KeyRecord, KeyStatus};
use crate::store::Store;
use crate::Error;

/// How often a run beats.
pub const HEARTBEAT: Duration = Duration::from_secs(3);
/// A run that has not beaten for this long is taken for dead.
pub const STALE_AFTER: Duration = Duration::from_secs(15);
/// The default time a rotation waits for running bots to move to the new key.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(120);

/// One `latchkey run`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub id: String,
    pub pid: u32,
    pub program: String,
}

impl Session {
    pub fn new(program: &str) -> Session {
        Session { id: uuid::Uuid::new_v4().to_string(), pid: std::process::id(), program: program.to_owned() }
    }
}

/// A live run holding a key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Holder {
    pub pid: u32,
    pub program: String,
    pub since: DateTime<Utc>,
}

/// How the wait for the bots ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "result", rename_all = "camelCase")]
pub enum Handover {
    /// No running bot held the old key.
    Nobody,
    /// Every bot that held it moved to the new key.
    #[serde(rename_all = "camelCase")]
    Moved { bots: usize },
    /// The grace period is over and these bots still hold the old key: it is retired anyway.
    #[serde(rename_all = "camelCase")]
    GraceOver { still: Vec<Holder> },
}

/// What `latchkey run` does when a key it handed over is rotated (`--on-rotate`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnRotate {
    /// SIGTERM, a grace period to exit (then SIGKILL), start again with the new key.
    Restart,
    /// Rewrite the key file with the new key, then send the child this signal (`HUP`, `USR1`…):
    /// a bot that re-reads its config on it moves with no restart.
    Signal(&'static str),
    /// Nothing: the child keeps the old key until it ends; the rotation retires the old key after
    /// its grace period.
    Nothing,
}

/// An `--on-rotate` value that is not understood, with what to write instead.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadOnRotate(pub String);

/// The signals a bot can catch to reload its key file (not KILL or STOP, which it cannot catch).
pub const RELOAD_SIGNALS: &[&str] = &["HUP", "USR1", "USR2", "INT", "QUIT", "TERM", "WINCH", "CONT"];

impl OnRotate {
    /// `restart`, `none` or `signal:NAME`; a signal needs a key file (`has_file`): it cannot
    /// change a running program's environment.
    pub fn parse(text: &str, has_file: bool) -> Result<OnRotate, BadOnRotate> {
        let text = text.trim();
        match text.to_ascii_lowercase().as_str() {
            "restart" => return Ok(OnRotate::Restart),
            "none" => return Ok(OnRotate::Nothing),
            _ => {}
        }
        let bad = BadOnRotate;
        let Some(name) = text.get(..7).filter(|p| p.eq_ignore_ascii_case("signal:")).map(|_| &text[7..]) else {
            return Err(bad(format!(
                "--on-rotate {text}: write restart, none, or signal:NAME (e.g. signal:HUP, signal:USR1)."
            )));
        };
        let upper = name.trim().to_ascii_uppercase();
        let bare = upper.strip_prefix("SIG").unwrap_or(&upper);
        let Some(signal) = RELOAD_SIGNALS.iter().copied().find(|s| *s == bare) else {
            return Err(bad(format!(
                "--on-rotate {text}: a bot cannot catch {name:?} to reload its key; use one of {} (or restart).",
                RELOAD_SIGNALS.join(", ")
            )));
        };
        if !has_file {
            return Err(bad(format!(
                "--on-rotate {text} needs --as FORMAT: a signal cannot change a running program's environment, so the new key must reach it through a file it re-reads."
            )));
        }
        Ok(OnRotate::Signal(signal))
    }

    /// For the audit entry of a move.
    pub fn describe(self) -> &'static str {
        match self {
            OnRotate::Restart => "restarted with the new key",
            OnRotate::Signal(_) => "the key file rewritten and the child signalled",
            OnRotate::Nothing => "left on the old key",
        }
    }
}

fn storage(store: &Store, e: rusqlite::Error) -> Error {
    Error::storage(store.path(), e)
}

/// `run` handed these keys to its child.
pub fn register(store: &Store, session: &Session, keys: &[KeyId], now: DateTime<Utc>) -> Result<(), Error> {
    let conn = store.conn();
    for key in keys {
        conn.execute(
            "INSERT OR REPLACE INTO bot_sessions (session_id, key_id, pid, program, started_at, seen_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
            params![session.id, key.to_string(), session.pid, session.program, now],
        )
        .map_err(|e| storage(store, e))?;
    }
    Ok(())
}

pub fn heartbeat(store: &Store, session: &Session, now: DateTime<Utc>) -> Result<(), Error> {
    store
        .conn()
        .execute("UPDATE bot_sessions SET seen_at = ?2 WHERE session_id = ?1", params![session.id, now])
        .map(drop)
        .map_err(|e| storage(store, e))
}

/// The run's child now has `new` instead of `old`.
pub fn moved(store: &Store, session: &Session, old: KeyId, new: KeyId, now: DateTime<Utc>) -> Result<(), Error> {
    store
        .conn()
        .execute(
            "UPDATE bot_sessions SET key_id = ?3, started_at = ?4, seen_at = ?4 WHERE session_id = ?1 AND key_id = ?2",
            params![session.id, old.to_string(), new.to_string(), now],
        )
        .map(drop)
        .map_err(|e| storage(store, e))
}

pub fn unregister(store: &Store, session: &Session) -> Result<(), Error> {
    store
        .conn()
        .execute("DELETE FROM bot_sessions WHERE session_id = ?1", [&session.id])
        .map(drop)
        .map_err(|e| storage(store, e))
}

/// The live runs holding `key`, oldest first.
pub fn holders(store: &Store, key: KeyId, now: DateTime<Utc>) -> Result<Vec<Holder>, Error> {
    let stale = now - chrono::Duration::from_std(STALE_AFTER).unwrap_or_default();
    let conn = store.conn();
    let mut stmt = conn
        .prepare(
            "SELECT pid, program, started_at FROM bot_sessions WHERE key_id = ?1 AND seen_at >= ?2 ORDER BY started_at",
        )
        .map_err(|e| storage(store, e))?;
    let rows = stmt
        .query_map(params![key.to_string(), stale], |r| {
            Ok(Holder { pid: r.get(0)?, program: r.get(1)?, since: r.get(2)? })
        })
        .map_err(|e| storage(store, e))?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| storage(store, e))
}

/// The active key that replaced `key`, following rotations to the newest one.
pub fn successor(store: &Store, key: KeyId) -> Result<Option<KeyRecord>, Error> {
    let mut found = None;
    let mut at = key;
    // Bounded: a cycle in bad data must not spin.
    for _ in 0..64 {
        let next: Option<String> = store
            .conn()
            .query_row(
                "SELECT id FROM keys WHERE replaces = ?1 AND status = ?2 ORDER BY created_at DESC LIMIT 1",
                params![at.to_string(), KeyStatus::Active.as_str()],
                |r| r.get(0),
            )
            .map(Some)
            .or_else(|e| if e == rusqlite::Error::QueryReturnedNoRows { Ok(None) } else { Err(e) })
            .map_err(|e| storage(store, e))?;
        let Some(next) = next.and_then(|id| id.parse::<KeyId>().ok()) else { break };
        found = store.get_key(next)?;
        at = next;
    }
    Ok(found)
}

/// Waits until no live run holds `old`, or `grace` is over. `now`: the wall clock, for the runs'
/// heartbeats.
pub async fn wait_until_moved(
    store: &Store,
    old: KeyId,
    grace: Duration,
    poll: Duration,
    now: impl Fn() -> DateTime<Utc>,
) -> Result<Handover, Error> {
    let first = holders(store, old, now())?;
    if first.is_empty() {
        return Ok(Handover::Nobody);
    }
    let deadline = tokio::time::Instant::now() + grace;
    loop {
        let still = holders(store, old, now())?;
        if still.is_empty() {
            return Ok(Handover::Moved { bots: first.len() });
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(Handover::GraceOver { still });
        }
        tokio::time::sleep(poll).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_rotate_reads_restart_none_and_catchable_signals() {
        assert_eq!(OnRotate::parse(" Restart ", false).unwrap(), OnRotate::Restart);
        assert_eq!(OnRotate::parse("none", false).unwrap(), OnRotate::Nothing);
        assert_eq!(OnRotate::parse("signal:hup", true).unwrap(), OnRotate::Signal("HUP"));
        assert_eq!(OnRotate::parse("SIGNAL:SIGUSR1", true).unwrap(), OnRotate::Signal("USR1"));
        for (text, file, says) in [
            ("signal:HUP", false, "needs --as FORMAT"),
            ("signal:KILL", true, "cannot catch"),
            ("signal:", true, "cannot catch"),
            ("later", false, "write restart, none, or signal:NAME"),
        ] {
            let err = OnRotate::parse(text, file).unwrap_err().to_string();
            assert!(err.contains(says), "{text}: {err}");
        }
    }
    use crate::audit::{Action, Event, Outcome};
    use crate::model::Exchange;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in(dir.path()).unwrap();
        (dir, store)
    }

    fn key(store: &Store, label: &str, replaces: Option<KeyId>, status: KeyStatus) -> KeyRecord {
        let key = KeyRecord { replaces, status, ..KeyRecord::sample(Exchange::Bybit, label, Utc::now(), 90) };
        let event = Event {
            at: Utc::now(),
            action: Action::Add,
            key_id: Some(key.id),
            label: Some(label),
            outcome: Outcome::Ok,
            detail: String::new(),
        };
        store.insert_key(&key, &event).unwrap();
        key
    }

    #[test]
    fn the_successor_is_the_newest_active_key_down_the_chain() {
        let (_dir, store) = store();
        let first = key(&store, "bot", None, KeyStatus::Active);
        assert_eq!(successor(&store, first.id).unwrap(), None);
        let second = key(&store, "bot (2)", Some(first.id), KeyStatus::Active);
        assert_eq!(successor(&store, first.id).unwrap().map(|k| k.id), Some(second.id));
        let third = key(&store, "bot (3)", Some(second.id), KeyStatus::Active);
        assert_eq!(successor(&store, first.id).unwrap().map(|k| k.id), Some(third.id), "two rotations while it ran");
        let (_dir, store) = self::store();
        let old = key(&store, "bot", None, KeyStatus::Active);
        key(&store, "bot (2)", Some(old.id), KeyStatus::Revoked);
        assert_eq!(successor(&store, old.id).unwrap(), None, "a revoked replacement is no successor");
    }

    #[test]
    fn only_live_runs_hold_a_key() {
        let (_dir, store) = store();
        let (old, new) = (key(&store, "bot", None, KeyStatus::Active), KeyId::random());
        let (a, b) = (Session::new("freqtrade"), Session::new("passivbot"));
        let now = Utc::now();
        register(&store, &a, &[old.id], now).unwrap();
        register(&store, &b, &[old.id], now - chrono::Duration::seconds(60)).unwrap();
        let held = holders(&store, old.id, now).unwrap();
        assert_eq!(held.iter().map(|h| h.program.as_str()).collect::<Vec<_>>(), ["freqtrade"], "b stopped beating");
        heartbeat(&store, &b, now).unwrap();
        assert_eq!(holders(&store, old.id, now).unwrap().len(), 2, "b beats again");
        moved(&store, &a, old.id, new, now).unwrap();
        unregister(&store, &b).unwrap();
        assert!(holders(&store, old.id, now).unwrap().is_empty());
        assert_eq!(holders(&store, new, now).unwrap().len(), 1, "a holds the new key now");
    }

    #[tokio::test]
    async fn a_rotation_waits_for_the_bots_or_the_grace_period() {
        let (_dir, store) = store();
        let old = key(&store, "bot", None, KeyStatus::Active);
        let poll = Duration::from_millis(10);
        assert_eq!(wait_until_moved(&store, old.id, DEFAULT_GRACE, poll, Utc::now).await.unwrap(), Handover::Nobody);
        let s = Session::new("bot.py");
        register(&store, &s, &[old.id], Utc::now()).unwrap();
        let waited = wait_until_moved(&store, old.id, Duration::from_millis(50), poll, Utc::now).await.unwrap();
        assert!(
            matches!(&waited, Handover::GraceOver { still } if still.len() == 1 && still[0].program == "bot.py"),
            "{waited:?}"
        );
        let dir = _dir.path().to_owned();
        let mover = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            let store = Store::open_in(&dir).unwrap();
            moved(&store, &s, old.id, KeyId::random(), Utc::now()).unwrap();
        });
        let waited = wait_until_moved(&store, old.id, Duration::from_secs(30), poll, Utc::now).await.unwrap();
        mover.join().unwrap();
        assert_eq!(waited, Handover::Moved { bots: 1 });
    }
}
