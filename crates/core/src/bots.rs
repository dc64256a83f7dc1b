//! "Bots may use this key": whether `latchkey run` may hand a key to another program.
//!
//! On by default, so adding a bot's key and running the bot just works. Turning it off needs
//! nothing (it only narrows what leaves Latchkey); turning it on needs a 2FA code, so script in the
//! web view or a person at the unlocked desktop cannot quietly open a key to every command. A
//! master key (one another key names as its master, i.e. one that can delete other keys) is never
//! allowed: the store turns it off when the link appears (see the `keys_master_*` triggers) and
//! refuses to turn it on.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::audit::{Action, Event, Outcome};
use crate::guard::{Guard, GuardError};
use crate::model::{KeyId, KeyRecord, KeyStatus};
use crate::store::Store;

#[derive(Debug, thiserror::Error)]
pub enum BotsError {
    #[error("Key '{label}' is not allowed for bots, so Latchkey will not hand it to `{program}`. If this command should have it, allow it with `latchkey bots allow '{label}' --code <2FA code>`, or turn on \"Bots may use this key\" on its card in the app.")]
    NotAllowed { label: String, program: String },

    #[error("Key '{label}' is the master of {subs} other key(s) in Latchkey: it can delete them, so it is never handed to bots. Give the bot a key of its own sub-account instead.")]
    MasterKey { label: String, subs: usize },

    #[error("Key '{label}' is {status}: it cannot be handed to bots. Give the bot a key that is active (add its replacement with `latchkey add` or in the app).")]
    NotUsable { label: String, status: &'static str },

    #[error(transparent)]
    Guard(#[from] GuardError),

    #[error(transparent)]
    Core(#[from] crate::Error),
}

impl BotsError {
    /// A stable name for the UI and the bad-input table.
    pub fn kind(&self) -> crate::error::ErrorCode {
        use crate::error::ErrorCode;
        match self {
            BotsError::NotAllowed { .. } => ErrorCode::NotAllowedForBots,
            BotsError::MasterKey { .. } => ErrorCode::MasterKeyForBots,
            BotsError::NotUsable { .. } => ErrorCode::KeyNotUsable,
            BotsError::Guard(g) => g.kind(),
            BotsError::Core(_) => ErrorCode::Storage,
        }
    }
}

/// Whether `run` may give `key` to `program`. Pure: checked before any secret is read.
pub fn check_run(key: &KeyRecord, subs: usize, program: &str) -> Result<(), BotsError> {
    if subs > 0 {
        return Err(BotsError::MasterKey { label: key.label.clone(), subs });
    }
    if !key.bots_allowed {
        return Err(BotsError::NotAllowed { label: key.label.clone(), program: program.to_owned() });
    }
    Ok(())
}

/// Turning the setting on and off, audited.
pub struct Bots {
    store: Arc<Store>,
    guard: Arc<Guard>,
}

impl Bots {
    pub fn new(store: Arc<Store>, guard: Arc<Guard>) -> Self {
        Bots { store, guard }
    }

    /// How many keys name `id` as their master.
    pub fn sub_keys(&self, id: KeyId) -> Result<usize, BotsError> {
        Ok(self.store.sub_key_count(id)?)
    }

    /// Whether the key could be allowed at all: not a master, still active. Asked before a code is
    /// (no code could make a master allowed, so none is spent on it).
    pub fn may_allow(&self, id: KeyId) -> Result<KeyRecord, BotsError> {
        let key = self.key(id)?;
        let subs = self.store.sub_key_count(id)?;
        if subs > 0 {
            return Err(BotsError::MasterKey { label: key.label, subs });
        }
        if key.status != KeyStatus::Active {
            return Err(BotsError::NotUsable { label: key.label, status: key.status.as_str() });
        }
        Ok(key)
    }

    /// Turns "Bots may use this key" on: [`Bots::may_allow`], then the code (a wrong one counts
    /// toward the guard's backoff like any other), then the change with its audit entry.
    pub fn allow(&self, id: KeyId, code: &str, now: DateTime<Utc>) -> Result<KeyRecord, BotsError> {
        let key = self.may_allow(id)?;
        self.guard.verify(code, now)?;
        self.set(&key, true, now)
    }

    /// Turns it off: no code needed, it only narrows what leaves Latchkey.
    pub fn deny(&self, id: KeyId, now: DateTime<Utc>) -> Result<KeyRecord, BotsError> {
        let key = self.key(id)?;
        self.set(&key, false, now)
    }

    fn key(&self, id: KeyId) -> Result<KeyRecord, BotsError> {
        self.store.get_key(id)?.ok_or(BotsError::Core(crate::Error::NotFound(id)))
    }

    fn set(&self, key: &KeyRecord, allowed: bool, now: DateTime<Utc>) -> Result<KeyRecord, BotsError> {
        self.store.set_bots_allowed(key.id, allowed, &access_event(key, allowed, now))?;
        self.key(key.id)
    }
}

/// The audit entry of a change to "Bots may use this key" (also written by a key edit).
pub(crate) fn access_event(key: &KeyRecord, allowed: bool, now: DateTime<Utc>) -> Event<'_> {
    Event {
        at: now,
        action: Action::BotsAccess,
        key_id: Some(key.id),
        label: Some(&key.label),
        outcome: Outcome::Ok,
        detail: if allowed { "bots may use this key".to_owned() } else { "bots may not use this key".to_owned() },
    }
}
