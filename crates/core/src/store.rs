//! Metadata and the audit log in one SQLite file (WAL, migrations). No secret is ever written here:
//! the tables hold labels, masked hints, dates and statuses only.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, Row};
use rusqlite_migration::{Migrations, M};

use crate::audit;
use crate::model::{Environment, Exchange, KeyId, KeyRecord, KeyStatus, MintRecord, Permission};
use crate::{Error, Result};

pub(crate) const MIGRATIONS: &[M<'static>] = &[
    M::up(
        "CREATE TABLE keys (
        id            TEXT PRIMARY KEY,
        exchange      TEXT NOT NULL,
        label         TEXT NOT NULL,
        environment   TEXT NOT NULL,
        key_hint      TEXT NOT NULL,
        created_at    TEXT NOT NULL,
        rotated_at    TEXT NOT NULL,
        verified_at   TEXT,
        rotation_days INTEGER NOT NULL,
        permissions   TEXT NOT NULL DEFAULT '[]',
        ip_whitelist  TEXT NOT NULL DEFAULT '[]',
        status        TEXT NOT NULL DEFAULT 'active'
    ) STRICT;
    -- Labels are unique among keys still in use; a revoked key keeps its label in the history.
    CREATE UNIQUE INDEX keys_live_label ON keys(label COLLATE NOCASE) WHERE status != 'revoked';
    CREATE TABLE audit (
        seq     INTEGER PRIMARY KEY AUTOINCREMENT,
        at      TEXT NOT NULL,
        action  TEXT NOT NULL,
        key_id  TEXT,
        label   TEXT,
        outcome TEXT NOT NULL,
        detail  TEXT NOT NULL DEFAULT ''
    ) STRICT;",
    ),
    // The exchange's last answer about the key (permissions, IPs, expiry, account), as JSON.
    M::up("ALTER TABLE keys ADD COLUMN inspection TEXT;"),
    // Issue 4: revoke metadata, the 2FA guard, the revoke journal, and the audit hash chain
    // (existing rows are hashed by `audit::backfill` when the store opens).
    M::up(
        "ALTER TABLE keys ADD COLUMN master_key_id TEXT;
        ALTER TABLE keys ADD COLUMN sub_account TEXT;
        CREATE TABLE guard_state (
            id           INTEGER PRIMARY KEY CHECK (id = 1),
            enrolled     INTEGER NOT NULL DEFAULT 0,
            enrolled_at  TEXT,
            last_step    INTEGER,
            failures     INTEGER NOT NULL DEFAULT 0,
            locked_until TEXT
        ) STRICT;
        CREATE TABLE guard_recovery (
            id      INTEGER PRIMARY KEY,
            hash    TEXT NOT NULL,
            used_at TEXT
        ) STRICT;
        CREATE TABLE revoke_jobs (
            id          TEXT PRIMARY KEY,
            kind        TEXT NOT NULL,
            started_at  TEXT NOT NULL,
            finished_at TEXT
        ) STRICT;
        CREATE TABLE revoke_steps (
            job_id     TEXT NOT NULL REFERENCES revoke_jobs(id),
            key_id     TEXT NOT NULL,
            wave       INTEGER NOT NULL DEFAULT 0,
            state      TEXT NOT NULL,
            outcome    TEXT,
            error      TEXT,
            error_kind TEXT,
            attempts   INTEGER NOT NULL DEFAULT 0,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (job_id, key_id)
        ) STRICT;
        CREATE INDEX revoke_steps_open ON revoke_steps(state) WHERE state NOT IN ('done', 'failed');
        ALTER TABLE audit ADD COLUMN prev_hash TEXT NOT NULL DEFAULT '';
        ALTER TABLE audit ADD COLUMN hash TEXT NOT NULL DEFAULT '';",
    ),
    // Issue 5: reminders (snooze, last reminder sent), rotation history, and user settings.
    M::up(
        "ALTER TABLE keys ADD COLUMN snoozed_until TEXT;
        ALTER TABLE keys ADD COLUMN reminded_at TEXT;
        ALTER TABLE keys ADD COLUMN replaces TEXT;
        CREATE TABLE settings (
            name  TEXT PRIMARY KEY,
            value TEXT NOT NULL
        ) STRICT;",
    ),
    // Issue 10: "Bots may use this key". On for existing keys (what `run` did before) except
    // masters; the triggers keep every master off however its link is made (add, revoke set-up,
    // rotation), and refuse turning one on.
    M::up(
        "ALTER TABLE keys ADD COLUMN bots_allowed INTEGER NOT NULL DEFAULT 1;
        UPDATE keys SET bots_allowed = 0 WHERE id IN (SELECT master_key_id FROM keys WHERE master_key_id IS NOT NULL);
        CREATE TRIGGER keys_master_no_bots_insert AFTER INSERT ON keys WHEN NEW.master_key_id IS NOT NULL
        BEGIN UPDATE keys SET bots_allowed = 0 WHERE id = NEW.master_key_id; END;
        CREATE TRIGGER keys_master_no_bots_link AFTER UPDATE OF master_key_id ON keys WHEN NEW.master_key_id IS NOT NULL
        BEGIN UPDATE keys SET bots_allowed = 0 WHERE id = NEW.master_key_id; END;
        CREATE TRIGGER keys_master_no_bots_allow BEFORE UPDATE OF bots_allowed ON keys
        WHEN NEW.bots_allowed != 0 AND EXISTS (SELECT 1 FROM keys WHERE master_key_id = NEW.id)
        BEGIN SELECT RAISE(ABORT, 'a master key cannot be allowed for bots'); END;
        CREATE TRIGGER keys_master_no_bots_new BEFORE INSERT ON keys
        WHEN NEW.bots_allowed != 0 AND EXISTS (SELECT 1 FROM keys WHERE master_key_id = NEW.id)
        BEGIN SELECT RAISE(ABORT, 'a master key cannot be allowed for bots'); END;",
    ),
    // Issue 10: the guard's generation, bumped by every enrolment and disable, so a 2FA setup begun
    // under one guard state is refused once another process changed it.
    M::up("ALTER TABLE guard_state ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;"),
    // Issue 10: when a revoke was proved by a signed call with the key's own credentials.
    M::up("ALTER TABLE keys ADD COLUMN revoked_at TEXT;"),
    // Issue 12: one journal for every kind of job (revoke now, rotation next): the revoke tables
    // become the job tables, and a step's `outcome` is the data its state carries.
    M::up(
        "ALTER TABLE revoke_jobs RENAME TO jobs;
        ALTER TABLE revoke_steps RENAME TO job_steps;
        ALTER TABLE job_steps RENAME COLUMN outcome TO data;
        DROP INDEX revoke_steps_open;
        CREATE INDEX job_steps_open ON job_steps(state) WHERE state NOT IN ('done', 'failed');",
    ),
    // Issue 13: the running bots (`latchkey run`) and the keys they hold, so a rotation retires
    // the old key once they moved to the new one.
    M::up(
        "CREATE TABLE bot_sessions (
            session_id TEXT NOT NULL,
            key_id     TEXT NOT NULL,
            pid        INTEGER NOT NULL,
            program    TEXT NOT NULL,
            started_at TEXT NOT NULL,
            seen_at    TEXT NOT NULL,
            PRIMARY KEY (session_id, key_id)
        ) STRICT;
        CREATE INDEX bot_sessions_key ON bot_sessions(key_id);",
    ),
    // Issue 13: keys Latchkey minted through a master key (which master, which sub-account, the
    // label on the exchange, whether it rotates by itself), gone with their key's row.
    M::up(
        "CREATE TABLE minted_keys (
            key_id TEXT PRIMARY KEY NOT NULL,
            master_key_id TEXT NOT NULL,
            sub_account TEXT NOT NULL,
            exchange_label TEXT NOT NULL,
            auto_rotate INTEGER NOT NULL DEFAULT 0,
            minted_at TEXT NOT NULL,
            verified_at TEXT
        );
        CREATE TRIGGER minted_keys_gone AFTER DELETE ON keys
        BEGIN DELETE FROM minted_keys WHERE key_id = OLD.id; END;",
    ),
    // Issue 14: the last nonce reserved per exchange key (Kraken's must grow for the key's whole
    // life, across the app and the CLI); `scope` is the exchange and a SHA-256 of the API key.
    M::up("CREATE TABLE nonces (scope TEXT PRIMARY KEY NOT NULL, last INTEGER NOT NULL) STRICT;"),
];

/// What a key edit writes; `None` leaves the column as it is.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct KeySettings {
    pub label: Option<String>,
    pub rotation_days: Option<u32>,
    pub environment: Option<Environment>,
    pub bots_allowed: Option<bool>,
}

pub struct Store {
    path: PathBuf,
    conn: Mutex<Connection>,
    /// Where the audit chain's head is anchored outside SQLite (the keychain), once set.
    anchor: OnceLock<Arc<dyn audit::anchor::AuditAnchor>>,
}

/// The store's connection while one caller holds it. When it is handed back after an audit entry
/// was committed, the chain's anchor is moved to the new head (after the commit, never before).
pub(crate) struct StoreConn<'a> {
    conn: MutexGuard<'a, Connection>,
    store: &'a Store,
}

impl std::ops::Deref for StoreConn<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.conn
    }
}

impl std::ops::DerefMut for StoreConn<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }
}

impl Drop for StoreConn<'_> {
    fn drop(&mut self) {
        if !audit::take_appended() || std::thread::panicking() || !self.conn.is_autocommit() {
            return;
        }
        if let Some(anchor) = self.store.anchor.get() {
            // The entry is committed either way; a failed anchor write shows at the next
            // verification and is caught up by the next entry.
            if let Err(e) = audit::anchor::sync(&mut self.conn, anchor.as_ref()) {
                tracing::warn!(error = %e, "could not move the audit log's keychain anchor");
            }
        }
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (creating if needed) the database in `dir` and brings its schema up to date. The folder
    /// is made owner-only and every file in it 0600 on Unix, even when it already existed. A damaged
    /// file is reported, never overwritten.
    pub fn open_in(dir: &Path) -> Result<Store> {
        if dir.exists() && !dir.is_dir() {
            return Err(Error::storage(dir, "that path is a file, not a folder (set LATCHKEY_DATA_DIR to a folder)"));
        }
        crate::paths::prepare_private_dir(dir).map_err(|e| Error::storage(dir, e))?;
        let store = Store::open(&dir.join(crate::paths::DB_FILE))?;
        // The WAL and SHM files SQLite just created take the database's mode; this makes sure.
        crate::paths::tighten(dir).map_err(|e| Error::storage(dir, e))?;
        Ok(store)
    }

    pub fn open(path: &Path) -> Result<Store> {
        let err = |e: &dyn std::fmt::Display| Error::storage(path, e);
        // Created owner-only before SQLite sees it (SQLite would create it 0644 under the usual umask).
        crate::paths::private_file_options()
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| err(&e))?;
        let mut conn = Connection::open(path).map_err(|e| err(&e))?;
        // The app and the CLI may use the file at once: wait for the other's write, don't fail.
        conn.busy_timeout(Duration::from_secs(5)).map_err(|e| err(&e))?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(|e| err(&e))?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(|e| err(&e))?;
        Migrations::from_slice(MIGRATIONS).to_latest(&mut conn).map_err(|e| err(&e))?;
        audit::backfill(&mut conn).map_err(|e| err(&e))?;
        Ok(Store { path: path.to_path_buf(), conn: Mutex::new(conn), anchor: OnceLock::new() })
    }

    /// Anchors the audit chain's head in `anchor` (the keychain) from now on: every entry this
    /// process writes moves it, and [`Store::verify_audit_chain`] checks the log's end against it.
    /// Nothing is read or written until then (`latchkey list` never touches the keychain).
    pub fn anchor_audit_in(&self, anchor: Arc<dyn audit::anchor::AuditAnchor>) {
        let _ = self.anchor.set(anchor);
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A second connection to the same file, anchoring the audit log where this one does: for a
    /// writer whose slow part (the keychain anchor's D-Bus call) must not hold this connection.
    pub fn open_sibling(&self) -> Result<Store> {
        let sibling = Store::open(&self.path)?;
        if let Some(anchor) = self.anchor.get() {
            sibling.anchor_audit_in(anchor.clone());
        }
        Ok(sibling)
    }

    pub(crate) fn err(&self, e: impl std::fmt::Display) -> Error {
        Error::storage(&self.path, e)
    }

    /// The one connection, for modules that keep their own tables (guard, revoke journal).
    pub(crate) fn conn(&self) -> StoreConn<'_> {
        // A panic while holding the lock cannot leave SQLite half-written (transactions), so a
        // poisoned lock is safe to reuse.
        StoreConn { conn: self.conn.lock().unwrap_or_else(|p| p.into_inner()), store: self }
    }

    /// SQLite's `data_version` on this store's connection: it changes when another connection
    /// (another process, e.g. the CLI) commits to the database, never for this one's own writes.
    /// Reading it costs no disk access, so the app can poll it to see the CLI's changes.
    pub fn data_version(&self) -> Result<i64> {
        self.conn().query_row("PRAGMA data_version", [], |r| r.get(0)).map_err(|e| self.err(e))
    }

    pub fn list_keys(&self) -> Result<Vec<KeyRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT * FROM keys ORDER BY created_at, label").map_err(|e| self.err(e))?;
        let rows = stmt.query_map([], read_key).map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }

    pub fn get_key(&self, id: KeyId) -> Result<Option<KeyRecord>> {
        self.conn()
            .query_row("SELECT * FROM keys WHERE id = ?1", [id.to_string()], read_key)
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Whether a key still in use already has this label (case-insensitive).
    pub fn label_taken(&self, label: &str) -> Result<bool> {
        self.conn()
            .query_row(
                "SELECT EXISTS(SELECT 1 FROM keys WHERE label = ?1 COLLATE NOCASE AND status != 'revoked')",
                [label],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))
    }

    /// Whether a key in use other than `id` already has this label (case-insensitive): a key may
    /// keep its own label, or change only its case.
    pub fn label_taken_by_another(&self, label: &str, id: KeyId) -> Result<bool> {
        self.conn()
            .query_row(
                "SELECT EXISTS(SELECT 1 FROM keys WHERE label = ?1 COLLATE NOCASE AND status != 'revoked' AND id != ?2)",
                params![label, id.to_string()],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))
    }

    /// A key edit in one transaction: the settings the user changed (label, rotation policy,
    /// environment, "Bots may use this key"; `None` keeps a field) and their audit entries. The
    /// unique label index and the master triggers still have the last word.
    pub fn update_key_settings(&self, id: KeyId, update: &KeySettings, events: &[audit::Event<'_>]) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        let n = tx
            .execute(
                "UPDATE keys SET label = COALESCE(?2, label), rotation_days = COALESCE(?3, rotation_days),
                                 environment = COALESCE(?4, environment), bots_allowed = COALESCE(?5, bots_allowed)
                 WHERE id = ?1",
                params![
                    id.to_string(),
                    update.label,
                    update.rotation_days,
                    update.environment.as_ref().map(to_json),
                    update.bots_allowed,
                ],
            )
            .map_err(|e| self.err(e))?;
        if n == 0 {
            return Err(Error::NotFound(id));
        }
        for event in events {
            insert_audit(&tx, event).map_err(|e| self.err(e))?;
        }
        tx.commit().map_err(|e| self.err(e))
    }

    /// Inserts the key and its audit entry in one transaction.
    pub fn insert_key(&self, key: &KeyRecord, event: &audit::Event<'_>) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        insert_key_row(&tx, key).map_err(|e| self.err(e))?;
        insert_audit(&tx, event).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))
    }

    /// Records the exchange's answer with one audit entry per thing it found. A key marked rejected
    /// is active again: the exchange just accepted it.
    pub fn record_inspection_events(
        &self,
        id: KeyId,
        inspection: &crate::model::KeyInspection,
        at: DateTime<Utc>,
        events: &[audit::Event<'_>],
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        tx.execute(
            "UPDATE keys SET inspection = ?2, permissions = ?3, ip_whitelist = ?4, verified_at = ?5,
                             status = CASE status WHEN 'rejected' THEN 'active' ELSE status END
             WHERE id = ?1",
            params![
                id.to_string(),
                to_json(inspection),
                to_json(&inspection.permissions),
                to_json(&inspection.ip_whitelist),
                at
            ],
        )
        .map_err(|e| self.err(e))?;
        for event in events {
            insert_audit(&tx, event).map_err(|e| self.err(e))?;
        }
        tx.commit().map_err(|e| self.err(e))
    }

    /// A fix through the master: the key's new permissions, IPs and inspection, with its audit
    /// entry. `verified_at` only when the key's own signed read answered.
    pub fn record_fixed_setting(
        &self,
        id: KeyId,
        inspection: &crate::model::KeyInspection,
        verified_at: Option<DateTime<Utc>>,
        event: &audit::Event<'_>,
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        tx.execute(
            "UPDATE keys SET inspection = ?2, permissions = ?3, ip_whitelist = ?4, verified_at = COALESCE(?5, verified_at)
             WHERE id = ?1",
            params![
                id.to_string(),
                to_json(inspection),
                to_json(&inspection.permissions),
                to_json(&inspection.ip_whitelist),
                verified_at
            ],
        )
        .map_err(|e| self.err(e))?;
        insert_audit(&tx, event).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))
    }

    /// Marks an active key as rejected by its exchange, with its audit entry. `Ok(false)` (and no
    /// entry) when the key was not active, e.g. already rejected.
    pub fn mark_rejected(&self, id: KeyId, event: &audit::Event<'_>) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        let n = tx
            .execute("UPDATE keys SET status = 'rejected' WHERE id = ?1 AND status = 'active'", [id.to_string()])
            .map_err(|e| self.err(e))?;
        if n > 0 {
            insert_audit(&tx, event).map_err(|e| self.err(e))?;
        }
        tx.commit().map_err(|e| self.err(e))?;
        Ok(n > 0)
    }

    /// A rotation in one transaction: the old key's label gets a suffix (labels are unique among
    /// keys in use, and the old key stays in use until it is retired), the new key is inserted
    /// pointing back at it, and keys in use that the old key was master of move to the new key (a
    /// revoke through the retired master could no longer reach them).
    pub fn replace_key(&self, old: KeyId, old_label: &str, new: &KeyRecord, event: &audit::Event<'_>) -> Result<()> {
        self.replace_key_minted(old, old_label, new, None, event)
    }

    /// [`Store::replace_key`] for a replacement Latchkey minted (an automatic rotation): its
    /// `minted_keys` row goes in the same transaction, so "rotate automatically" carries over.
    pub fn replace_key_minted(
        &self,
        old: KeyId,
        old_label: &str,
        new: &KeyRecord,
        mint: Option<&MintRecord>,
        event: &audit::Event<'_>,
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        if let Some(mint) = mint {
            insert_mint_row(&tx, mint, false).map_err(|e| self.err(e))?;
        }
        tx.execute("UPDATE keys SET label = ?2 WHERE id = ?1", params![old.to_string(), old_label])
            .map_err(|e| self.err(e))?;
        insert_key_row(&tx, new).map_err(|e| self.err(e))?;
        tx.execute(
            "UPDATE keys SET master_key_id = ?2 WHERE master_key_id = ?1 AND id != ?2 AND status != 'revoked'",
            params![old.to_string(), new.id.to_string()],
        )
        .map_err(|e| self.err(e))?;
        insert_audit(&tx, event).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))
    }

    /// Silences reminders for the key until `until`.
    pub fn snooze(&self, id: KeyId, until: DateTime<Utc>) -> Result<()> {
        self.conn()
            .execute("UPDATE keys SET snoozed_until = ?2 WHERE id = ?1", params![id.to_string(), until])
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// Notes that a reminder for the key was just sent (at most one per key per day).
    pub fn mark_reminded(&self, id: KeyId, at: DateTime<Utc>) -> Result<()> {
        self.conn()
            .execute("UPDATE keys SET reminded_at = ?2 WHERE id = ?1", params![id.to_string(), at])
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// A user setting stored as JSON; `None` when never saved.
    pub fn setting<T: serde::de::DeserializeOwned>(&self, name: &str) -> Result<Option<T>> {
        let raw: Option<String> = self
            .conn()
            .query_row("SELECT value FROM settings WHERE name = ?1", [name], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(raw.and_then(|v| serde_json::from_str(&v).ok()))
    }

    pub fn set_setting<T: serde::Serialize>(&self, name: &str, value: &T) -> Result<()> {
        self.conn()
            .execute(
                "INSERT INTO settings (name, value) VALUES (?1, ?2) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                params![name, to_json(value)],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// Every setting whose name starts with `prefix`, by name (a value that no longer parses is
    /// left out, as [`Store::setting`] does).
    pub fn settings_with_prefix<T: serde::de::DeserializeOwned>(&self, prefix: &str) -> Result<Vec<(String, T)>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare("SELECT name, value FROM settings WHERE substr(name, 1, length(?1)) = ?1 ORDER BY name")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([prefix], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(|e| self.err(e))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.err(e))?;
        Ok(rows.into_iter().filter_map(|(n, v)| serde_json::from_str(&v).ok().map(|v| (n, v))).collect())
    }

    /// Removes a setting; `false` when there was none.
    pub fn delete_setting(&self, name: &str) -> Result<bool> {
        self.conn().execute("DELETE FROM settings WHERE name = ?1", [name]).map(|n| n > 0).map_err(|e| self.err(e))
    }

    /// Sets "Bots may use this key", with its audit entry. The store refuses turning a master on.
    /// A key Latchkey minted: its row, how it was minted, and its audit entry, in one transaction.
    /// "Rotate automatically" on or off for a key whose master Latchkey holds, with its audit entry:
    /// a key Latchkey did not mint gets its mint record now (the rotation engine reads the flag there).
    pub fn set_auto_rotate(&self, mint: &MintRecord, event: &audit::Event<'_>) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        let write = || -> rusqlite::Result<()> {
            insert_mint_row(&tx, mint, true)?;
            insert_audit(&tx, event)
        };
        write().map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))
    }

    pub fn insert_minted_key(&self, key: &KeyRecord, mint: &MintRecord, event: &audit::Event<'_>) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        let write = || -> rusqlite::Result<()> {
            insert_key_row(&tx, key)?;
            insert_mint_row(&tx, mint, false)?;
            insert_audit(&tx, event)
        };
        write().map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))
    }

    /// How a key was minted, if Latchkey minted it.
    pub fn minted(&self, id: KeyId) -> Result<Option<MintRecord>> {
        let conn = self.conn();
        conn.query_row(
            "SELECT key_id, master_key_id, sub_account, exchange_label, auto_rotate, minted_at, verified_at
             FROM minted_keys WHERE key_id = ?1",
            [id.to_string()],
            |r| {
                let parse = |i: usize, text: String| text.parse::<KeyId>().map_err(|_| bad_column(i, "key id"));
                Ok(MintRecord {
                    key_id: parse(0, r.get(0)?)?,
                    master_key_id: parse(1, r.get(1)?)?,
                    sub_account: r.get(2)?,
                    exchange_label: r.get(3)?,
                    auto_rotate: r.get(4)?,
                    minted_at: r.get(5)?,
                    verified_at: r.get(6)?,
                })
            },
        )
        .optional()
        .map_err(|e| self.err(e))
    }

    pub fn set_bots_allowed(&self, id: KeyId, allowed: bool, event: &audit::Event<'_>) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        let n = tx
            .execute("UPDATE keys SET bots_allowed = ?2 WHERE id = ?1", params![id.to_string(), allowed])
            .map_err(|e| self.err(e))?;
        if n == 0 {
            return Err(Error::NotFound(id));
        }
        insert_audit(&tx, event).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))
    }

    /// How many keys name `id` as their master, revoked ones included: a key that ever acted as a
    /// master stays one (never handed to bots).
    pub fn sub_key_count(&self, id: KeyId) -> Result<usize> {
        self.count_sub_keys(id, "")
    }

    /// How many keys in use (not revoked: those are history) this master manages, for the card.
    pub fn managed_key_count(&self, id: KeyId) -> Result<usize> {
        self.count_sub_keys(id, " AND status != 'revoked'")
    }

    fn count_sub_keys(&self, id: KeyId, filter: &str) -> Result<usize> {
        self.conn()
            .query_row(&format!("SELECT COUNT(*) FROM keys WHERE master_key_id = ?1{filter}"), [id.to_string()], |r| {
                r.get::<_, i64>(0)
            })
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
            .map_err(|e| self.err(e))
    }

    /// Deletes the key's row and writes its audit entry in one transaction. `Ok(false)` if absent.
    pub fn delete_key(&self, id: KeyId, event: &audit::Event<'_>) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        let n = tx.execute("DELETE FROM keys WHERE id = ?1", [id.to_string()]).map_err(|e| self.err(e))?;
        insert_audit(&tx, event).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(n > 0)
    }

    pub fn record(&self, event: &audit::Event<'_>) -> Result<()> {
        let conn = self.conn();
        // The insert and its hash are two statements: one transaction keeps the chain whole.
        let tx = conn.unchecked_transaction().map_err(|e| self.err(e))?;
        insert_audit(&tx, event).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))
    }

    /// Accepts the audit log as it stands and anchors its current end, after a valid 2FA code (the
    /// proof): for a log the anchor no longer matches for a known reason (a damaged database moved
    /// aside). The choice is itself audited, with what the anchor recorded before. `false` when no
    /// anchor is set.
    pub fn accept_audit_log(&self, _proof: crate::guard::Verified, at: DateTime<Utc>) -> Result<bool> {
        let Some(anchor) = self.anchor.get() else { return Ok(false) };
        let before = anchor.read_anchor().map_err(|e| self.err(e))?;
        let entries: i64 =
            self.conn().query_row("SELECT COUNT(*) FROM audit", [], |r| r.get(0)).map_err(|e| self.err(e))?;
        let detail = match before {
            Some(a) => format!(
                "audit log accepted as it stands ({entries} entries before this one); the keychain anchor had recorded {} entries up to entry {}",
                a.entries, a.seq
            ),
            None => format!("audit log accepted as it stands ({entries} entries before this one); there was no keychain anchor"),
        };
        let event = audit::Event {
            at,
            action: audit::Action::AuditAccept,
            key_id: None,
            label: None,
            outcome: audit::Outcome::Ok,
            detail,
        };
        let mut conn = self.conn();
        {
            let tx = conn.transaction().map_err(|e| self.err(e))?;
            insert_audit(&tx, &event).map_err(|e| self.err(e))?;
            tx.commit().map_err(|e| self.err(e))?;
        }
        audit::anchor::reset(&mut conn, anchor.as_ref()).map_err(|e| self.err(e))?;
        Ok(true)
    }

    /// Walks the audit hash chain from the first entry and reports the first broken link, then
    /// checks the log's end against the anchor (when one is set): removed newest entries and a
    /// recomputed chain show there.
    pub fn verify_audit_chain(&self) -> Result<audit::ChainReport> {
        let conn = self.conn();
        // One read transaction: the walk and the end check see the same log.
        let tx = conn.unchecked_transaction().map_err(|e| self.err(e))?;
        let mut report = audit::verify_chain(&tx).map_err(|e| self.err(e))?;
        if let Some(anchor) = self.anchor.get() {
            let check = audit::anchor::check(&tx, anchor.as_ref()).map_err(|e| self.err(e))?;
            report.intact &= check.consistent();
            report.anchor = Some(check);
        }
        Ok(report)
    }

    /// The newest `limit` audit entries, newest first.
    pub fn audit_log(&self, limit: u32) -> Result<Vec<audit::Entry>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare("SELECT seq, at, action, key_id, label, outcome, detail FROM audit ORDER BY seq DESC LIMIT ?1")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([limit], |r| {
                Ok(audit::Entry {
                    seq: r.get(0)?,
                    at: r.get(1)?,
                    action: word(r, 2, audit::Action::parse)?,
                    key_id: r.get::<_, Option<String>>(3)?.and_then(|s| s.parse().ok()),
                    label: r.get(4)?,
                    outcome: word(r, 5, audit::Outcome::parse)?,
                    detail: r.get(6)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }
}

/// One statement reserves each nonce, so the app and the CLI (each with its own connection to the
/// file) never hand out the same one: SQLite runs writes one at a time.
impl crate::exchange::NonceSource for Store {
    fn reserve_nonce(&self, scope: &str, floor: u64) -> Result<u64> {
        let floor = i64::try_from(floor).map_err(|_| self.err("a nonce beyond 2^63"))?;
        let last: i64 = self
            .conn()
            .query_row(
                "INSERT INTO nonces (scope, last) VALUES (?1, ?2)
                 ON CONFLICT(scope) DO UPDATE SET last = MAX(excluded.last, nonces.last + 1)
                 RETURNING last",
                params![scope, floor],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        u64::try_from(last).map_err(|_| self.err("a negative nonce in the nonces table"))
    }
}

/// A column holding one of an enum's words. A word this version does not know (written by a newer
/// Latchkey) is an error that says so, rather than a guess.
fn word<T>(r: &rusqlite::Row<'_>, col: usize, parse: fn(&str) -> Option<T>) -> rusqlite::Result<T> {
    let text: String = r.get(col)?;
    parse(&text).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            col,
            rusqlite::types::Type::Text,
            format!("'{text}' is not a word this version of Latchkey knows: update Latchkey").into(),
        )
    })
}

fn insert_key_row(tx: &Connection, key: &KeyRecord) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO keys (id, exchange, label, environment, key_hint, created_at, rotated_at,
                           verified_at, rotation_days, permissions, ip_whitelist, status, inspection,
                           master_key_id, sub_account, snoozed_until, reminded_at, replaces, bots_allowed)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
        params![
            key.id.to_string(),
            key.exchange.as_str(),
            key.label,
            to_json(&key.environment),
            key.key_hint,
            key.created_at,
            key.rotated_at,
            key.verified_at,
            key.rotation_days,
            to_json(&key.permissions),
            to_json(&key.ip_whitelist),
            key.status.as_str(),
            key.inspection.as_ref().map(to_json),
            key.master_key_id.map(|m| m.to_string()),
            key.sub_account,
            key.snoozed_until,
            key.reminded_at,
            key.replaces.map(|r| r.to_string()),
            key.bots_allowed,
        ],
    )?;
    Ok(())
}

/// Callers hold a transaction: the entry and its chain hash are written together.
/// A key's mint record; `upsert`: an existing one only takes the new "rotate automatically".
fn insert_mint_row(conn: &Connection, mint: &MintRecord, upsert: bool) -> rusqlite::Result<()> {
    let conflict = if upsert { " ON CONFLICT(key_id) DO UPDATE SET auto_rotate = excluded.auto_rotate" } else { "" };
    conn.execute(
        &format!(
            "INSERT INTO minted_keys (key_id, master_key_id, sub_account, exchange_label, auto_rotate, minted_at, verified_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7){conflict}"
        ),
        params![
            mint.key_id.to_string(),
            mint.master_key_id.to_string(),
            mint.sub_account,
            mint.exchange_label,
            mint.auto_rotate,
            mint.minted_at,
            mint.verified_at
        ],
    )
    .map(drop)
}

pub(crate) fn insert_audit(conn: &Connection, e: &audit::Event<'_>) -> rusqlite::Result<()> {
    audit::append(conn, e)
}

fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

fn bad_column(idx: usize, what: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, what.to_owned().into())
}

fn json_column<T: serde::de::DeserializeOwned>(r: &Row<'_>, name: &str) -> rusqlite::Result<T> {
    let raw: String = r.get(name)?;
    let idx = r.as_ref().column_index(name)?;
    serde_json::from_str(&raw).map_err(|_| bad_column(idx, name))
}

fn read_key(r: &Row<'_>) -> rusqlite::Result<KeyRecord> {
    let id: String = r.get("id")?;
    let exchange: String = r.get("exchange")?;
    let status: String = r.get("status")?;
    Ok(KeyRecord {
        id: id.parse().map_err(|_| bad_column(0, "id"))?,
        exchange: exchange.parse::<Exchange>().map_err(|_| bad_column(1, "exchange"))?,
        label: r.get("label")?,
        environment: json_column::<Environment>(r, "environment")?,
        key_hint: r.get("key_hint")?,
        created_at: r.get::<_, DateTime<Utc>>("created_at")?,
        rotated_at: r.get("rotated_at")?,
        verified_at: r.get("verified_at")?,
        rotation_days: r.get("rotation_days")?,
        permissions: json_column::<Vec<Permission>>(r, "permissions")?,
        ip_whitelist: json_column(r, "ip_whitelist")?,
        status: KeyStatus::parse(&status).ok_or_else(|| bad_column(11, "status"))?,
        inspection: match r.get::<_, Option<String>>("inspection")? {
            Some(raw) => Some(serde_json::from_str(&raw).map_err(|_| bad_column(12, "inspection"))?),
            None => None,
        },
        master_key_id: r.get::<_, Option<String>>("master_key_id")?.and_then(|s| s.parse().ok()),
        sub_account: r.get("sub_account")?,
        snoozed_until: r.get("snoozed_until")?,
        reminded_at: r.get("reminded_at")?,
        replaces: r.get::<_, Option<String>>("replaces")?.and_then(|s| s.parse().ok()),
        bots_allowed: r.get("bots_allowed")?,
        revoked_at: r.get("revoked_at")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{Action, Event, Outcome};
    use chrono::TimeZone;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
    }

    pub(crate) fn record(label: &str) -> KeyRecord {
        KeyRecord {
            environment: Environment::Custom { base_url: "http://127.0.0.1:1".into() },
            permissions: vec![Permission::Read, Permission::Trade],
            ip_whitelist: vec!["10.0.0.1".into()],
            ..KeyRecord::sample(Exchange::Okx, label, at(), 90)
        }
    }

    fn event(action: Action, key: &KeyRecord) -> Event<'_> {
        Event {
            at: at(),
            action,
            key_id: Some(key.id),
            label: Some(&key.label),
            outcome: Outcome::Ok,
            detail: String::new(),
        }
    }

    #[test]
    fn keys_round_trip_and_persist_across_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let key = record("bot-main");
        {
            let store = Store::open_in(dir.path()).unwrap();
            store.insert_key(&key, &event(Action::Add, &key)).unwrap();
            assert_eq!(store.get_key(key.id).unwrap().as_ref(), Some(&key));
        }
        let store = Store::open_in(dir.path()).unwrap();
        assert_eq!(store.list_keys().unwrap(), vec![key.clone()]);
        let log = store.audit_log(10).unwrap();
        assert_eq!(log.len(), 1);
        assert_eq!((log[0].action.as_str(), log[0].key_id), ("add", Some(key.id)));
    }

    #[test]
    fn labels_are_unique_ignoring_case_among_live_keys() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in(dir.path()).unwrap();
        let a = record("Bot");
        store.insert_key(&a, &event(Action::Add, &a)).unwrap();
        assert!(store.label_taken("bot").unwrap());
        let b = record("BOT");
        assert!(store.insert_key(&b, &event(Action::Add, &b)).is_err(), "the index backs the check");
        assert_eq!(store.audit_log(10).unwrap().len(), 1, "a failed insert leaves no audit row");
        let mut revoked = record("old");
        revoked.status = KeyStatus::Revoked;
        store.insert_key(&revoked, &event(Action::Add, &revoked)).unwrap();
        assert!(!store.label_taken("old").unwrap());
    }

    #[test]
    fn delete_removes_the_row_and_audits() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in(dir.path()).unwrap();
        let a = record("a");
        store.insert_key(&a, &event(Action::Add, &a)).unwrap();
        assert!(store.delete_key(a.id, &event(Action::Delete, &a)).unwrap());
        assert!(store.get_key(a.id).unwrap().is_none());
        let actions: Vec<_> = store.audit_log(10).unwrap().into_iter().map(|e| e.action).collect();
        assert_eq!(actions, ["delete", "add"]);
    }

    /// A database from before "Bots may use this key": its keys stay usable by `run`, except the
    /// masters of other keys.
    #[test]
    fn existing_keys_keep_bots_access_except_masters() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(crate::paths::DB_FILE);
        let before = MIGRATIONS.iter().position(|m| format!("{m:?}").contains("bots_allowed")).unwrap();
        let master = record("master");
        let sub = KeyRecord { master_key_id: Some(master.id), ..record("sub") };
        {
            let mut conn = Connection::open(&path).unwrap();
            Migrations::from_slice(&MIGRATIONS[..before]).to_latest(&mut conn).unwrap();
            for k in [&master, &sub] {
                conn.execute(
                    "INSERT INTO keys (id, exchange, label, environment, key_hint, created_at, rotated_at, rotation_days, master_key_id)
                     VALUES (?1, 'okx', ?2, '{\"kind\":\"live\"}', 'ab…yz', ?3, ?3, 90, ?4)",
                    params![k.id.to_string(), k.label, at(), k.master_key_id.map(|m| m.to_string())],
                )
                .unwrap();
            }
        }
        let store = Store::open(&path).unwrap();
        assert!(!store.get_key(master.id).unwrap().unwrap().bots_allowed, "a master is off");
        assert!(store.get_key(sub.id).unwrap().unwrap().bots_allowed, "other keys keep what `run` did before");
    }

    #[test]
    fn uses_wal() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in(dir.path()).unwrap();
        let mode: String = store.conn().query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn a_corrupt_file_is_reported_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(crate::paths::DB_FILE);
        let junk = b"this is not a database, but it is somebody's file".repeat(100);
        std::fs::write(&path, &junk).unwrap();
        let err = Store::open(&path).unwrap_err().to_string();
        assert!(err.contains("move it aside"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), junk, "nothing lost");
    }

    #[cfg(unix)]
    #[test]
    fn data_dir_is_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("data");
        Store::open_in(&sub).unwrap();
        let mode = std::fs::metadata(&sub).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
    }

    /// The database and its WAL and SHM files are owner-only from their first byte, and a folder
    /// left 0755 with 0644 files by an earlier version is tightened when the store opens.
    #[cfg(unix)]
    #[test]
    fn database_files_are_owner_only_even_in_an_old_loose_folder() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("data");
        let key = record("a");
        {
            let store = Store::open_in(&sub).unwrap();
            store.insert_key(&key, &event(Action::Add, &key)).unwrap();
            for file in ["latchkey.sqlite3", "latchkey.sqlite3-wal", "latchkey.sqlite3-shm"] {
                assert_eq!(mode(&sub.join(file)), 0o600, "{file} of a new store");
            }
        }
        std::fs::set_permissions(&sub, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(sub.join("latchkey.sqlite3"), std::fs::Permissions::from_mode(0o644)).unwrap();
        let _store = Store::open_in(&sub).unwrap();
        assert_eq!(mode(&sub), 0o700);
        assert_eq!(mode(&sub.join("latchkey.sqlite3")), 0o600);
    }
}
