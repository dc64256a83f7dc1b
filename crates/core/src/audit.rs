//! The audit log: every add, delete and reveal, with time, action, key and outcome. Entries
//! describe what happened, never a secret.
//!
//! Tamper-evident: each entry stores the SHA-256 of the previous entry's hash and its own fields
//! (a canonical JSON array), so editing, removing or reordering an entry breaks every later link.
//! Without a secret key the chain alone detects edits, not a forger who rewrites it or cuts its
//! end off: the head is therefore also anchored outside SQLite ([`anchor`]).

pub mod anchor;

use std::cell::Cell;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::model::KeyId;
use ts_rs::TS;

/// Declares [`Action`] from one list: each variant, the word the log stores (and IPC sends) and
/// its words for people, so a new action cannot be stored without being readable back or shown.
macro_rules! actions {
    ($($(#[$doc:meta])* $variant:ident = $word:literal, $label:literal;)*) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
        pub enum Action {
            $($(#[$doc])* #[serde(rename = $word)] $variant,)*
        }

        impl Action {
            pub const ALL: &'static [Action] = &[$(Action::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Action::$variant => $word,)*
                }
            }

            /// The action in words, for people (the UI's audit screen says the same).
            pub fn label(self) -> &'static str {
                match self {
                    $(Action::$variant => $label,)*
                }
            }
        }
    };
}

actions! {
    Add = "add", "Key added";
    Delete = "delete", "Key deleted";
    Reveal = "reveal", "Secret revealed";
    /// The key was checked against its exchange.
    Verify = "verify", "Key re-checked";
    /// A new key replaced this one (the old one is then retired through the revoke engine).
    Rotate = "rotate", "Key rotated";
    /// Reminders for the key were snoozed.
    Snooze = "snooze", "Reminders snoozed";
    /// 2FA was set up (or set up again).
    GuardEnroll = "guard_enroll", "2FA enrolled";
    /// A 2FA code was checked.
    GuardVerify = "guard_verify", "2FA code checked";
    GuardDisable = "guard_disable", "2FA disabled";
    /// The key was revoked on its exchange (or found already gone).
    Revoke = "revoke", "Key revoked";
    /// A remote revoke failed: the key is kept but must not be used.
    Quarantine = "quarantine", "Key quarantined";
    /// The key's secret was removed from the keychain.
    Wipe = "wipe", "Secret wiped";
    /// The key was handed to a program in its environment (`latchkey run`).
    Run = "run", "Key handed to a program";
    /// One key written to a pipe (`latchkey export`), for a server without OpenBao.
    Export = "export", "Key exported to a pipe";
    /// "Bots may use this key" was turned on or off.
    BotsAccess = "bots_access", "Bots access changed";
    /// The user accepted the audit log as it stands and re-anchored its end (after a code).
    AuditAccept = "audit_accept", "Audit log accepted as it stands";
    /// The user chose to go without 2FA for now, accepting what that leaves unguarded.
    GuardSkip = "guard_skip", "2FA setup skipped";
    /// A revoke confirmed by typing REVOKE because 2FA is not set up (or that phrase refused
    /// because it is).
    Unguarded = "unguarded", "Revoke confirmed without 2FA";
    /// The key's label, rotation policy or environment was changed (what changed is in the detail).
    Edit = "edit", "Key edited";
    /// A master key created this key for a sub-account (or the attempt failed).
    Mint = "mint", "Key minted";
    /// A risk finding was fixed through the key's master (permissions or IPs changed at the exchange).
    Fix = "fix", "Key fixed through its master";
    AutoRotate = "auto_rotate", "Automatic rotation changed";
    /// A whole sub-account was locked through its master (every key of it stops).
    LockSubAccount = "lock_sub_account", "Sub-account locked";
    /// The key was written to the OpenBao server for bots on servers (or the attempt failed).
    Deliver = "deliver", "Key delivered to servers";
    /// Every version of the key was destroyed on the OpenBao server.
    Undeliver = "undeliver", "Key removed from servers";
    /// A server host was given (or lost) read access to the key on OpenBao.
    HostAccess = "host_access", "Server host access changed";
    /// Placeholder credentials were issued to a bot for the signing agent.
    AgentIssue = "agent_issue", "Bot credentials issued";
    /// A bot's placeholder credentials were revoked: the agent refuses them from then on.
    AgentRevokeBot = "agent_revoke_bot", "Bot credentials revoked";
    /// Requests the signing agent re-signed and forwarded, counted per bot and endpoint.
    AgentRequests = "agent_requests", "Requests through the signing agent";
    /// Requests the signing agent refused, counted per bot, endpoint and reason.
    AgentRefusal = "agent_refusal", "Refused by the signing agent";
}

impl Action {
    /// The word stored in the log; `None` for one this version does not know.
    pub fn parse(word: &str) -> Option<Action> {
        Action::ALL.iter().copied().find(|a| a.as_str() == word)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    Failed,
}

impl Outcome {
    pub fn parse(word: &str) -> Option<Outcome> {
        [Outcome::Ok, Outcome::Failed].into_iter().find(|o| o.as_str() == word)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Failed => "failed",
        }
    }
}

/// The words the log stores, for printing and for comparing in tests (`e.action == "revoke"`).
macro_rules! words {
    ($($t:ty),*) => {$(
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl PartialEq<&str> for $t {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }
    )*};
}
words!(Action, Outcome);

#[derive(Clone, Debug, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "AuditEntry")]
pub struct Entry {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub action: Action,
    pub key_id: Option<KeyId>,
    pub label: Option<String>,
    pub outcome: Outcome,
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
    /// The log's end against the anchor outside SQLite; `None` when the store has no anchor.
    pub anchor: Option<anchor::AnchorCheck>,
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

thread_local! {
    /// Set by [`append`], taken when the store's connection is handed back: then the anchor is
    /// moved, after the entry's transaction committed (see [`anchor`]).
    static APPENDED: Cell<bool> = const { Cell::new(false) };
}

pub(crate) fn take_appended() -> bool {
    APPENDED.with(|a| a.replace(false))
}

/// Appends an entry linked to the last one. The caller holds a transaction.
pub(crate) fn append(conn: &Connection, e: &Event<'_>) -> rusqlite::Result<()> {
    APPENDED.with(|a| a.set(true));
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
            let first_broken = Some(BrokenLink { seq: row.seq, reason });
            return Ok(ChainReport { entries, intact: false, first_broken, anchor: None });
        }
        prev = row.hash;
        prev_seq = Some(row.seq);
    }
    Ok(ChainReport { entries, intact: true, first_broken: None, anchor: None })
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
        assert_eq!(report, ChainReport { entries: 4, intact: true, first_broken: None, anchor: None });
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
        assert_eq!(
            store.verify_audit_chain().unwrap(),
            ChainReport { entries: 3, intact: true, first_broken: None, anchor: None }
        );
        store.record(&event("after")).unwrap();
        assert!(store.verify_audit_chain().unwrap().intact);
        // Once chained, blanking one row's hash is not silently re-blessed at the next open.
        store.conn().execute("UPDATE audit SET hash = '' WHERE seq = 4", []).unwrap();
        drop(store);
        let store = Store::open_in(dir.path()).unwrap();
        assert_eq!(store.verify_audit_chain().unwrap().first_broken.map(|b| b.seq), Some(4));
    }

    mod anchored {
        use super::*;
        use crate::audit::anchor::{AnchorCheck, AuditAnchor};
        use crate::keychain::memory::MemoryStore;
        use std::sync::Arc;

        fn anchored(dir: &std::path::Path, keychain: &Arc<MemoryStore>) -> Store {
            let store = Store::open_in(dir).unwrap();
            store.anchor_audit_in(keychain.clone());
            store
        }

        fn setup(n: usize) -> (tempfile::TempDir, Arc<MemoryStore>, Store) {
            let dir = tempfile::tempdir().unwrap();
            let keychain = Arc::new(MemoryStore::default());
            let store = anchored(dir.path(), &keychain);
            for i in 0..n {
                store.record(&event(&format!("e{i}"))).unwrap();
            }
            (dir, keychain, store)
        }

        #[test]
        fn every_entry_moves_the_anchor() {
            let (_d, keychain, store) = setup(3);
            let a = keychain.read_anchor().unwrap().unwrap();
            assert_eq!((a.seq, a.entries), (3, 3));
            let report = store.verify_audit_chain().unwrap();
            assert!(report.intact);
            assert_eq!(report.anchor, Some(AnchorCheck::Matches));
        }

        #[test]
        fn deleting_the_newest_entries_is_detected() {
            for n in [1, 3] {
                let (_d, _k, store) = setup(6);
                store.conn().execute("DELETE FROM audit WHERE seq > ?1", [6 - n]).unwrap();
                let report = store.verify_audit_chain().unwrap();
                assert!(!report.intact, "{n} removed: {report:?}");
                assert_eq!(report.first_broken, None, "the chain itself still links");
                let check = report.anchor.unwrap();
                assert_eq!(check, AnchorCheck::Truncated { anchored_seq: 6, anchored_entries: 6 });
                assert!(check.describe(report.entries).contains("removed from its end"));
            }
        }

        #[test]
        fn an_emptied_or_replaced_log_is_detected() {
            let (dir, keychain, store) = setup(4);
            drop(store);
            std::fs::remove_dir_all(dir.path()).unwrap();
            let store = anchored(dir.path(), &keychain);
            let report = store.verify_audit_chain().unwrap();
            assert!(!report.intact);
            assert!(matches!(report.anchor, Some(AnchorCheck::Truncated { .. })), "{report:?}");
            // New entries in the new database do not bless it: the anchor stays as evidence.
            store.record(&event("after the reset")).unwrap();
            assert_eq!(keychain.read_anchor().unwrap().unwrap().entries, 4);
            assert!(!store.verify_audit_chain().unwrap().intact);
        }

        #[test]
        fn a_recomputed_chain_is_detected() {
            let (dir, _k, store) = setup(5);
            // Edit one entry, blank every hash, and let the store's backfill re-chain the log at
            // the next open: the chain is self-consistent again.
            store.conn().execute("UPDATE audit SET detail = 'nothing happened' WHERE seq = 2", []).unwrap();
            store.conn().execute("UPDATE audit SET hash = '', prev_hash = ''", []).unwrap();
            drop(store);
            let keychain = _k;
            let store = anchored(dir.path(), &keychain);
            let report = store.verify_audit_chain().unwrap();
            assert_eq!(report.first_broken, None, "the recomputed chain links");
            assert!(!report.intact);
            assert_eq!(report.anchor, Some(AnchorCheck::Rewritten { anchored_seq: 5 }));
            // Removing the newest entry and re-chaining by hand is caught the same way.
            let (_d2, _k2, store) = setup(5);
            store.conn().execute("DELETE FROM audit WHERE seq = 3", []).unwrap();
            rechain(&store);
            let report = store.verify_audit_chain().unwrap();
            assert_eq!(report.first_broken, None);
            assert_eq!(report.anchor, Some(AnchorCheck::Rewritten { anchored_seq: 5 }));
        }

        fn rechain(store: &Store) {
            let conn = store.conn();
            let rows = {
                let mut stmt = conn.prepare(&format!("{SELECT_ROW} ORDER BY seq")).unwrap();
                let rows = stmt.query_map([], read_row).unwrap().collect::<rusqlite::Result<Vec<_>>>().unwrap();
                rows
            };
            let mut prev = String::new();
            for row in &rows {
                let hash = entry_hash(&prev, row);
                conn.execute("UPDATE audit SET prev_hash = ?2, hash = ?3 WHERE seq = ?1", params![row.seq, prev, hash])
                    .unwrap();
                prev = hash;
            }
        }

        #[test]
        fn one_entry_past_the_anchor_is_a_crash_window_more_is_reported() {
            let (dir, keychain, store) = setup(3);
            // Another writer with no anchor (a crash right after its commit) adds entries.
            let plain = Store::open_in(dir.path()).unwrap();
            plain.record(&event("crash after commit")).unwrap();
            let report = store.verify_audit_chain().unwrap();
            assert!(report.intact, "{report:?}");
            assert_eq!(report.anchor, Some(AnchorCheck::OneBehind));
            plain.record(&event("again")).unwrap();
            let report = store.verify_audit_chain().unwrap();
            assert!(!report.intact);
            assert_eq!(report.anchor, Some(AnchorCheck::Unanchored { anchored_seq: 3, after: 2 }));
            // The next anchored write catches up along the chain.
            store.record(&event("anchored again")).unwrap();
            assert_eq!(keychain.read_anchor().unwrap().unwrap().seq, 6);
            assert_eq!(store.verify_audit_chain().unwrap().anchor, Some(AnchorCheck::Matches));
        }

        #[test]
        fn two_stores_on_one_database_move_one_anchor_forward() {
            let (dir, keychain, app) = setup(2);
            let cli = anchored(dir.path(), &keychain);
            for i in 0..5 {
                app.record(&event(&format!("app {i}"))).unwrap();
                cli.record(&event(&format!("cli {i}"))).unwrap();
            }
            assert_eq!(keychain.read_anchor().unwrap().unwrap().entries, 12);
            assert!(app.verify_audit_chain().unwrap().intact);
        }

        #[test]
        fn no_anchor_yet_is_said_and_the_first_entry_makes_one() {
            let dir = tempfile::tempdir().unwrap();
            let plain = Store::open_in(dir.path()).unwrap();
            plain.record(&event("before anchoring existed")).unwrap();
            let keychain = Arc::new(MemoryStore::default());
            let store = anchored(dir.path(), &keychain);
            let report = store.verify_audit_chain().unwrap();
            assert!(report.intact);
            assert_eq!(report.anchor, Some(AnchorCheck::NotAnchored));
            store.record(&event("first anchored")).unwrap();
            assert_eq!(keychain.read_anchor().unwrap().unwrap().entries, 2);
        }
    }
}
