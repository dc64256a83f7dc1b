//! The guard's persisted state (SQLite tables `guard_state`, `guard_recovery`): whether 2FA is
//! set up, the last accepted time step (replay), the failure count and lockout (backoff survives a
//! restart), and the recovery-code hashes. No secret is stored here.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct State {
    pub enrolled: bool,
    pub last_step: Option<i64>,
    pub failures: u32,
    pub locked_until: Option<DateTime<Utc>>,
    /// Bumped by every enrolment and disable: a setup begun under one generation is stale in another.
    pub generation: i64,
}

pub(crate) fn load(conn: &Connection) -> rusqlite::Result<State> {
    let row = conn
        .query_row(
            "SELECT enrolled, last_step, failures, locked_until, generation FROM guard_state WHERE id = 1",
            [],
            |r| {
                Ok(State {
                    enrolled: r.get(0)?,
                    last_step: r.get(1)?,
                    failures: r.get(2)?,
                    locked_until: r.get(3)?,
                    generation: r.get(4)?,
                })
            },
        )
        .optional()?;
    Ok(row.unwrap_or_default())
}

pub(crate) fn save(conn: &Connection, s: &State) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO guard_state (id, enrolled, last_step, failures, locked_until, generation)
         VALUES (1, ?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(id) DO UPDATE SET enrolled = ?1, last_step = ?2, failures = ?3, locked_until = ?4, generation = ?5",
        params![s.enrolled, s.last_step, s.failures, s.locked_until, s.generation],
    )?;
    Ok(())
}

pub(crate) fn set_enrolled_at(conn: &Connection, at: Option<DateTime<Utc>>) -> rusqlite::Result<()> {
    conn.execute("UPDATE guard_state SET enrolled_at = ?1 WHERE id = 1", [at])?;
    Ok(())
}

pub(crate) fn replace_recovery(conn: &Connection, hashes: &[String]) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM guard_recovery", [])?;
    for h in hashes {
        conn.execute("INSERT INTO guard_recovery (hash) VALUES (?1)", [h])?;
    }
    Ok(())
}

/// Unused recovery hashes, by row id.
pub(crate) fn unused_recovery(conn: &Connection) -> rusqlite::Result<Vec<(i64, String)>> {
    let mut stmt = conn.prepare("SELECT id, hash FROM guard_recovery WHERE used_at IS NULL ORDER BY id")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// Marks a code used; `false` if someone else used it first.
pub(crate) fn use_recovery(conn: &Connection, id: i64, at: DateTime<Utc>) -> rusqlite::Result<bool> {
    Ok(conn.execute("UPDATE guard_recovery SET used_at = ?2 WHERE id = ?1 AND used_at IS NULL", params![id, at])? == 1)
}

/// When the user chose to go without 2FA (a row in `settings`, so no schema change), if they did.
pub(crate) fn skipped_at(conn: &Connection, name: &str) -> rusqlite::Result<Option<DateTime<Utc>>> {
    let raw: Option<String> =
        conn.query_row("SELECT value FROM settings WHERE name = ?1", [name], |r| r.get(0)).optional()?;
    Ok(raw.and_then(|v| serde_json::from_str(&v).ok()))
}

pub(crate) fn set_skipped_at(conn: &Connection, name: &str, at: Option<DateTime<Utc>>) -> rusqlite::Result<()> {
    match at {
        Some(at) => conn.execute(
            "INSERT INTO settings (name, value) VALUES (?1, ?2) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
            params![name, serde_json::to_string(&at).unwrap_or_default()],
        )?,
        None => conn.execute("DELETE FROM settings WHERE name = ?1", [name])?,
    };
    Ok(())
}
