//! The audit log: every add, delete and reveal, with time, action, key and outcome. Entries
//! describe what happened, never a secret.
//!
//! Tamper-evident: each entry stores the SHA-256 of the previous entry's hash and its own fields
//! (a canonical JSON array), so editing, removing or reordering an entry breaks every later link.
//! Without a secret key this detects edits, not a forger who rewrites the whole chain.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::model::KeyId;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Add,
    Delete,
    Reveal,
    /// The key was checked against its exchange.
    Verify,
    /// A new key replaced this one (the old one is then retired through the revoke engine).
    Rotate,
    /// Reminders for the key were snoozed.
    Snooze,
    /// 2FA was set up (or set up again).
    GuardEnroll,
    /// A 2FA code was checked.
    GuardVerify,
    GuardDisable,
    /// The key was revoked on its exchange (or found already gone).
    Revoke,
    /// A remote revoke failed: the key is kept but must not be used.
    Quarantine,
    /// The key's secret was removed from the keychain.
    Wipe,
    /// The key was handed to a program in its environment (`latchkey run`).
    Run,
    /// "Bots may use this key" was turned on or off.
    BotsAccess,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Add => "add",
            Action::Delete => "delete",
            Action::Reveal => "reveal",
            Action::Verify => "verify",
            Action::Rotate => "rotate",
            Action::Snooze => "snooze",
            Action::GuardEnroll => "guard_enroll",
            Action::GuardVerify => "guard_verify",
            Action::GuardDisable => "guard_disable",
            Action::Revoke => "revoke",
            Action::Quarantine => "quarantine",
            Action::Wipe => "wipe",
            Action::Run => "run",
            Action::BotsAccess => "bots_access",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Failed => "failed",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub action: String,
    pub key_id: Option<KeyId>,
    pub label: Option<String>,
    pub outcome: String,
    /// Why an action failed, in words; never a secret.
    pub detail: String,
}

/// An entry about to be written.
#[derive(Clone, Debug)]
pub struct Event<'a> {
    pub at: DateTime<Utc>,
    pub action: Action,
    pub key_id: Option<KeyId>,
    pub label: Option<&'a str>,
    pub outcome: Outcome,
    pub detail: String,
}

/// What [`verify_chain`] found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChainReport {
    /// How many entries were checked.
    pub entries: u64,
    pub intact: bool,
    pub first_broken: Option<BrokenLink>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrokenLink {
    pub seq: i64,
    pub reason: String,
}

/// One stored row, as text, exactly as hashed.
struct Row {
    seq: i64,
    at: String,
    action: String,
    key_id: Option<String>,
    label: Option<String>,
    outcome: String,
    detail: String,
    prev_hash: String,
    hash: String,
}

const SELECT_ROW: &str =
    "SELECT seq, CAST(at AS TEXT), action, key_id, label, outcome, detail, prev_hash, hash FROM audit";

fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok(Row {
        seq: r.get(0)?,
        at: r.get(1)?,
        action: r.get(2)?,
        key_id: r.get(3)?,
        label: r.get(4)?,
        outcome: r.get(5)?,
        detail: r.get(6)?,
        prev_hash: r.get(7)?,
        hash: r.get(8)?,
    })
}

/// SHA-256 over a canonical encoding: a JSON array with a format version, the previous hash and
/// every field in a fixed order (JSON escaping keeps field boundaries unambiguous).
fn entry_hash(prev_hash: &str, row: &Row) -> String {
    let canonical =
        serde_json::json!([1, prev_hash, row.seq, row.at, row.action, row.key_id, row.label, row.outcome, row.detail]);
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

fn last_hash(conn: &Connection) -> rusqlite::Result<String> {
    Ok(conn
        .query_row("SELECT hash FROM audit ORDER BY seq DESC LIMIT 1", [], |r| r.get(0))
        .optional()?
        .unwrap_or_default())
}

/// Appends an entry linked to the last one. The caller holds a transaction.
pub(crate) fn append(conn: &Connection, e: &Event<'_>) -> rusqlite::Result<()> {
    let prev = last_hash(conn)?;
    conn.execute(
        "INSERT INTO audit (at, action, key_id, label, outcome, detail, prev_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![e.at, e.action.as_str(), e.key_id.map(|k| k.to_string()), e.label, e.outcome.as_str(), e.detail, prev],
    )?;
    let seq = conn.last_insert_rowid();
    // Hash the row as stored, so verification reads back exactly what was hashed.
    let row = conn.query_row(&format!("{SELECT_ROW} WHERE seq = ?1"), [seq], read_row)?;
    conn.execute("UPDATE audit SET hash = ?2 WHERE seq = ?1", params![seq, entry_hash(&prev, &row)])?;
    Ok(())
}

/// Chains the rows written before the chain existed. Runs only while no row has a hash, so it can
/// never re-bless an entry edited later.
pub(crate) fn backfill(conn: &mut Connection) -> rusqlite::Result<usize> {
    let tx = conn.transaction()?;
    let chained: bool = tx.query_row("SELECT EXISTS(SELECT 1 FROM audit WHERE hash != '')", [], |r| r.get(0))?;
    if chained {
        return Ok(0);
    }
    let rows = {
        let mut stmt = tx.prepare(&format!("{SELECT_ROW} ORDER BY seq"))?;
        let rows = stmt.query_map([], read_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
        rows
    };
    let mut prev = String::new();
    for row in &rows {
        let hash = entry_hash(&prev, row);
        tx.execute("UPDATE audit SET prev_hash = ?2, hash = ?3 WHERE seq = ?1", params![row.seq, prev, hash])?;
        prev = hash;
    }
    tx.commit()?;
    Ok(rows.len())
}

/// Walks the chain from the first entry; stops at the first broken link.
pub(crate) fn verify_chain(conn: &Connection) -> rusqlite::Result<ChainReport> {
    let mut stmt = conn.prepare(&format!("{SELECT_ROW} ORDER BY seq"))?;
    let mut rows = stmt.query([])?;
    let (mut prev, mut entries, mut prev_seq) = (String::new(), 0u64, None::<i64>);
    while let Some(r) = rows.next()? {
        let row = read_row(r)?;
        entries += 1;
        let broken = if row.prev_hash != prev {
            Some(match prev_seq {
                Some(p) => format!(
                    "entry {} does not follow entry {p}: an entry between them was removed or reordered",
                    row.seq
                ),
                None => format!("entry {} is not the start of the log: earlier entries were removed", row.seq),
            })
        } else if row.hash != entry_hash(&prev, &row) {
            Some(format!("entry {} was changed after it was written", row.seq))
        } else {
            None
        };
        if let Some(reason) = broken {
            return Ok(ChainReport { entries, intact: false, first_broken: Some(BrokenLink { seq: row.seq, reason }) });
        }
        prev = row.hash;
        prev_seq = Some(row.seq);
    }
    Ok(ChainReport { entries, intact: true, first_broken: None })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use chrono::TimeZone;

    fn event(detail: &str) -> Event<'static> {
        Event {
            at: Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap(),
            action: Action::Reveal,
            key_id: Some(KeyId::random()),
            label: Some("bot"),
            outcome: Outcome::Ok,
            detail: detail.to_owned(),
        }
    }

    fn store_with(n: usize) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in(dir.path()).unwrap();
        for i in 0..n {
            store.record(&event(&format!("e{i}"))).unwrap();
        }
        (dir, store)
    }

    #[test]
    fn an_untouched_log_verifies() {
        let (_d, store) = store_with(4);
        let report = store.verify_audit_chain().unwrap();
        assert_eq!(report, ChainReport { entries: 4, intact: true, first_broken: None });
    }

    #[test]
    fn an_edited_entry_is_the_first_broken_link() {
        let (_d, store) = store_with(5);
        store.conn().execute("UPDATE audit SET detail = 'nothing happened' WHERE seq = 3", []).unwrap();
        let report = store.verify_audit_chain().unwrap();
        assert!(!report.intact);
        let broken = report.first_broken.unwrap();
        assert_eq!(broken.seq, 3);
        assert!(broken.reason.contains("changed"), "{}", broken.reason);
    }

    #[test]
    fn a_removed_entry_breaks_the_next_link() {
        let (_d, store) = store_with(5);
        store.conn().execute("DELETE FROM audit WHERE seq = 2", []).unwrap();
        let broken = store.verify_audit_chain().unwrap().first_broken.unwrap();
        assert_eq!(broken.seq, 3);
        assert!(broken.reason.contains("removed"), "{}", broken.reason);
    }

    #[test]
    fn rows_from_before_the_chain_are_linked_when_the_store_opens() {
        let (dir, store) = store_with(3);
        store.conn().execute("UPDATE audit SET hash = '', prev_hash = ''", []).unwrap();
        assert!(!store.verify_audit_chain().unwrap().intact);
        drop(store);
        let store = Store::open_in(dir.path()).unwrap();
        assert_eq!(store.verify_audit_chain().unwrap(), ChainReport { entries: 3, intact: true, first_broken: None });
        store.record(&event("after")).unwrap();
        assert!(store.verify_audit_chain().unwrap().intact);
        // Once chained, blanking one row's hash is not silently re-blessed at the next open.
        store.conn().execute("UPDATE audit SET hash = '' WHERE seq = 4", []).unwrap();
        drop(store);
        let store = Store::open_in(dir.path()).unwrap();
        assert_eq!(store.verify_audit_chain().unwrap().first_broken.map(|b| b.seq), Some(4));
    }
}
