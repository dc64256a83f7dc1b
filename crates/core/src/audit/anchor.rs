//! The audit chain's head, kept outside SQLite: one keychain item (account [`ACCOUNT`]) holding
//! the newest entry's sequence number and hash and the number of entries up to it. The hash chain
//! alone cannot show that the newest entries were deleted, or that every hash was blanked and
//! recomputed; the anchor can, because whoever edits the database file cannot also move it.
//!
//! Write order: an entry's row is committed first, the anchor is moved after it, so the anchor is
//! never ahead of the log (an anchor ahead would look exactly like a removed newest entry). A crash
//! between the two leaves the anchor one entry behind; verification accepts that one entry (and
//! says so), because the anchored entry and everything before it stay pinned, and a removal always
//! takes the anchored entry away or changes its hash. More than one entry past the anchor cannot
//! come from a crash (the next write moves the anchor to the head) and is reported.
//!
//! The anchor only ever moves forward along the chain it pins: when the anchored entry is gone or
//! changed, it is left as it is, as evidence.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};

use super::{entry_hash, read_row, SELECT_ROW};
use crate::keychain::{Keychain, KeychainError};

pub const ACCOUNT: &str = "audit-anchor";
const DESCRIPTION: &str = "Latchkey: audit log anchor (no secret)";

/// What the anchor records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnchorValue {
    /// The newest anchored entry.
    pub seq: i64,
    /// How many entries the log held up to and including it.
    pub entries: u64,
    pub hash: String,
}

/// Where the anchor lives: the OS keychain, or memory in tests.
pub trait AuditAnchor: Send + Sync {
    fn read_anchor(&self) -> Result<Option<AnchorValue>, KeychainError>;
    fn write_anchor(&self, value: &AnchorValue) -> Result<(), KeychainError>;
}

impl AuditAnchor for Keychain {
    fn read_anchor(&self) -> Result<Option<AnchorValue>, KeychainError> {
        match self.get_item(ACCOUNT)? {
            None => Ok(None),
            Some(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|_| KeychainError::Corrupt),
        }
    }

    fn write_anchor(&self, value: &AnchorValue) -> Result<(), KeychainError> {
        let bytes = serde_json::to_vec(value).map_err(|e| KeychainError::Failed { detail: e.to_string() })?;
        self.put_item(ACCOUNT, DESCRIPTION, &bytes)
    }
}

#[cfg(any(test, feature = "testing"))]
impl AuditAnchor for crate::keychain::memory::MemoryStore {
    fn read_anchor(&self) -> Result<Option<AnchorValue>, KeychainError> {
        Ok(self.get_item(ACCOUNT).and_then(|b| serde_json::from_slice(&b).ok()))
    }

    fn write_anchor(&self, value: &AnchorValue) -> Result<(), KeychainError> {
        self.put_item(
            ACCOUNT,
            &serde_json::to_vec(value).map_err(|e| KeychainError::Failed { detail: e.to_string() })?,
        );
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum SyncError {
    #[error(transparent)]
    Sql(#[from] rusqlite::Error),
    #[error(transparent)]
    Keychain(#[from] KeychainError),
}

/// The newest entry and the number of entries up to it.
fn head(conn: &Connection) -> rusqlite::Result<Option<AnchorValue>> {
    conn.query_row("SELECT seq, hash, (SELECT COUNT(*) FROM audit) FROM audit ORDER BY seq DESC LIMIT 1", [], |r| {
        Ok(AnchorValue { seq: r.get(0)?, hash: r.get(1)?, entries: r.get::<_, i64>(2)?.try_into().unwrap_or(0) })
    })
    .optional()
}

/// Whether the log still holds the anchored entry unchanged, with the same number of entries up to it.
fn pinned(conn: &Connection, a: &AnchorValue) -> rusqlite::Result<bool> {
    let found: Option<(String, i64)> = conn
        .query_row(
            "SELECT hash, (SELECT COUNT(*) FROM audit WHERE seq <= ?1) FROM audit WHERE seq = ?1",
            [a.seq],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(found.is_some_and(|(hash, n)| hash == a.hash && u64::try_from(n).ok() == Some(a.entries)))
}

/// Whether every entry after the anchored one links to it and hashes right.
fn links_after(conn: &Connection, a: &AnchorValue) -> rusqlite::Result<bool> {
    let mut stmt = conn.prepare(&format!("{SELECT_ROW} WHERE seq > ?1 ORDER BY seq"))?;
    let mut rows = stmt.query([a.seq])?;
    let mut prev = a.hash.clone();
    while let Some(r) = rows.next()? {
        let row = read_row(r)?;
        if row.prev_hash != prev || row.hash != entry_hash(&prev, &row) {
            return Ok(false);
        }
        prev = row.hash;
    }
    Ok(true)
}

/// Moves the anchor to the log's head, when the head extends the anchored chain. Runs inside an
/// IMMEDIATE transaction: anchor writes from the app and the CLI happen one at a time, each with
/// the newest head, so the anchor never moves backwards.
pub(crate) fn sync(conn: &mut Connection, anchor: &dyn AuditAnchor) -> Result<(), SyncError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let Some(head) = head(&tx)? else { return Ok(()) };
    let advance = match anchor.read_anchor()? {
        // The first anchor pins the log as it is now.
        None => true,
        Some(a) if a == head => false,
        Some(a) => pinned(&tx, &a)? && links_after(&tx, &a)?,
    };
    if advance {
        anchor.write_anchor(&head)?;
    }
    tx.commit()?;
    Ok(())
}

/// Pins the log as it is now, whatever the anchor said: only after the user accepted the log as it
/// stands (a guarded, audited choice, e.g. after moving a damaged database aside). Returns what the
/// anchor said before.
pub(crate) fn reset(conn: &mut Connection, anchor: &dyn AuditAnchor) -> Result<Option<AnchorValue>, SyncError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let before = anchor.read_anchor()?;
    if let Some(head) = head(&tx)? {
        anchor.write_anchor(&head)?;
    }
    tx.commit()?;
    Ok(before)
}

/// What the anchor says about the log's end.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum AnchorCheck {
    /// The log ends exactly where the anchor says.
    Matches,
    /// One entry past the anchor: its anchor write was interrupted (or is under way).
    OneBehind,
    /// No anchor yet: the next entry written creates it.
    NotAnchored,
    /// The anchor could not be read, so removed newest entries would not show.
    Unavailable { reason: String },
    /// The anchored entry is gone: the newest entries were removed, or the database replaced.
    Truncated { anchored_seq: i64, anchored_entries: u64 },
    /// The anchored entry is there but changed: the chain was recomputed after the fact.
    Rewritten { anchored_seq: i64 },
    /// Several entries past the anchor: written without moving it.
    Unanchored { anchored_seq: i64, after: u64 },
}

/// [`AnchorCheck`] without its details: what the Audit screen branches on. `one_behind`,
/// `not_anchored` and `unavailable` are warnings; `truncated`, `rewritten` and `unanchored` mean
/// the log was altered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum AnchorState {
    Matches,
    OneBehind,
    NotAnchored,
    Unavailable,
    Truncated,
    Rewritten,
    Unanchored,
}

impl AnchorCheck {
    pub fn state(&self) -> AnchorState {
        match self {
            AnchorCheck::Matches => AnchorState::Matches,
            AnchorCheck::OneBehind => AnchorState::OneBehind,
            AnchorCheck::NotAnchored => AnchorState::NotAnchored,
            AnchorCheck::Unavailable { .. } => AnchorState::Unavailable,
            AnchorCheck::Truncated { .. } => AnchorState::Truncated,
            AnchorCheck::Rewritten { .. } => AnchorState::Rewritten,
            AnchorCheck::Unanchored { .. } => AnchorState::Unanchored,
        }
    }

    /// Whether the log's end is consistent with the anchor (or could not be checked).
    pub fn consistent(&self) -> bool {
        matches!(
            self,
            AnchorCheck::Matches | AnchorCheck::OneBehind | AnchorCheck::NotAnchored | AnchorCheck::Unavailable { .. }
        )
    }

    /// In words, for the CLI and the Audit screen.
    pub fn describe(&self, log_entries: u64) -> String {
        match self {
            AnchorCheck::Matches => "its end matches the anchor kept in the keychain".to_owned(),
            AnchorCheck::OneBehind => {
                "its newest entry is one past the keychain anchor (an interrupted write; the next entry anchors it)".to_owned()
            }
            AnchorCheck::NotAnchored => {
                "it has no keychain anchor yet (the next entry creates one), so removed newest entries would not show".to_owned()
            }
            AnchorCheck::Unavailable { reason } => {
                format!("its end could not be checked against the keychain anchor ({reason}), so removed newest entries would not show")
            }
            AnchorCheck::Truncated { anchored_seq, anchored_entries } => format!(
                "entries were removed from its end: the keychain anchor records {anchored_entries} entries up to entry {anchored_seq}, the log now holds {log_entries} and entry {anchored_seq} is gone (or the database was replaced)"
            ),
            AnchorCheck::Rewritten { anchored_seq } => format!(
                "it was rewritten: entry {anchored_seq} (or an entry before it) no longer matches the hash the keychain anchor recorded, so the hashes were recomputed after entries were changed or removed (or the database was replaced)"
            ),
            AnchorCheck::Unanchored { anchored_seq, after } => format!(
                "{after} entries after entry {anchored_seq} were written without moving the keychain anchor (by a Latchkey that could not reach the keychain, or added to the file by hand)"
            ),
        }
    }
}

/// Compares the log's end with the anchor. Read-only.
pub(crate) fn check(conn: &Connection, anchor: &dyn AuditAnchor) -> rusqlite::Result<AnchorCheck> {
    let a = match anchor.read_anchor() {
        Ok(Some(a)) => a,
        Ok(None) => return Ok(AnchorCheck::NotAnchored),
        Err(e) => return Ok(AnchorCheck::Unavailable { reason: e.to_string() }),
    };
    let present: bool = conn.query_row("SELECT EXISTS(SELECT 1 FROM audit WHERE seq = ?1)", [a.seq], |r| r.get(0))?;
    if !present {
        return Ok(AnchorCheck::Truncated { anchored_seq: a.seq, anchored_entries: a.entries });
    }
    if !pinned(conn, &a)? {
        return Ok(AnchorCheck::Rewritten { anchored_seq: a.seq });
    }
    // Links after the anchored entry are the chain walk's business; here only their number counts.
    let after: i64 = conn.query_row("SELECT COUNT(*) FROM audit WHERE seq > ?1", [a.seq], |r| r.get(0))?;
    Ok(match u64::try_from(after).unwrap_or(0) {
        0 => AnchorCheck::Matches,
        1 => AnchorCheck::OneBehind,
        after => AnchorCheck::Unanchored { anchored_seq: a.seq, after },
    })
}
