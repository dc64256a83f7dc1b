//! Editing a stored key: its label, rotation policy, environment (base URL) and "Bots may use this
//! key". The secret never changes here (a rotation does that).
//!
//! What needs a 2FA code: turning bots on (the same rule as the card's switch, see `bots`), and
//! moving the key to another environment while 2FA is set up. A move redirects every signed request
//! Latchkey makes with the key (its checks, its revoke, and the revokes of its sub keys when it is a
//! master), so script in the web view must not be able to point them at a host of its choosing.
//! Turning "rotate automatically" on needs one too (it lets Latchkey replace the key with nobody at
//! the keyboard); off needs none. Label and rotation policy need no code. Everything is validated before a code is asked for (no
//! try is spent on a typo), then written in one transaction with its audit entries.
//!
//! After a move the key is checked again with its own signed read at the new address
//! ([`reverify`]). Its status follows the answer only where that is safe: an active or rejected key
//! becomes active when the exchange answers and rejected when it refuses the key. A key a revoke is
//! ending (quarantined, still live) keeps its status either way: an answer shows it still works,
//! and a refusal proves nothing without the revoke engine's proof rules (Bybit, for one, refuses a
//! key on the wrong host with the same code as a deleted key; see `exchange::revoke`), so only
//! "Retry revoke" or "I deleted it" can turn such a key into "revoked".

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::audit::{Action, Event, Outcome};
use crate::autorotate::{self, schedule};
use crate::bots::{self, Bots, BotsError};
use crate::exchange::{ExchangeClient, ExchangeError};
use crate::guard::{Guard, GuardError};
use crate::model::{Environment, KeyId, KeyRecord, KeyStatus};
use crate::store::KeySettings;
use crate::validate;
use crate::vault::Vault;
use crate::watch::{self, LookError, Looked};
use ts_rs::TS;

/// What the user asks to change; `None` keeps a field as it is.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct KeyEdit {
    pub label: Option<String>,
    pub rotation_days: Option<u32>,
    pub environment: Option<Environment>,
    pub bots_allowed: Option<bool>,
    /// "Rotate automatically" through the key's master (only a key whose master Latchkey holds).
    pub auto_rotate: Option<bool>,
}

#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("Key '{label}' was revoked: its record is kept as history and cannot be changed. Add a new key instead.")]
    Revoked { label: String },

    #[error("{what} needs a 2FA code: enter the code your authenticator app shows.")]
    CodeNeeded { label: String, what: String },

    /// Bots cannot be allowed on this key (a master, or a key not in use).
    #[error(transparent)]
    Bots(BotsError),

    #[error("'{label}' cannot rotate by itself: {why}")]
    CannotAutoRotate { label: String, why: String },

    #[error(transparent)]
    Guard(#[from] GuardError),

    #[error(transparent)]
    Core(#[from] crate::Error),
}

impl From<BotsError> for EditError {
    fn from(e: BotsError) -> Self {
        match e {
            BotsError::Guard(g) => EditError::Guard(g),
            BotsError::Core(c) => EditError::Core(c),
            refusal => EditError::Bots(refusal),
        }
    }
}

impl EditError {
    /// A stable name for the UI and the bad-input table.
    pub fn kind(&self) -> crate::error::ErrorCode {
        use crate::error::ErrorCode;
        match self {
            EditError::Revoked { .. } => ErrorCode::KeyRevoked,
            EditError::CodeNeeded { .. } => ErrorCode::CodeNeeded,
            EditError::Bots(b) => b.kind(),
            EditError::CannotAutoRotate { .. } => ErrorCode::NotAvailable,
            EditError::Guard(g) => g.kind(),
            EditError::Core(crate::Error::Invalid(_)) => ErrorCode::Invalid,
            EditError::Core(_) => ErrorCode::Storage,
        }
    }
}

/// A checked edit: only the fields that really change, what each change is (for the audit log and
/// the reply) and whether it needs a code.
#[derive(Debug)]
pub struct EditPlan {
    pub record: KeyRecord,
    pub settings: KeySettings,
    /// e.g. "label 'bot' → 'grid-bot'", "environment live → https://eu.okx.com".
    pub changes: Vec<String>,
    /// "Rotate automatically" turned on or off.
    pub auto_rotate: Option<bool>,
    pub needs_code: bool,
}

impl EditPlan {
    pub fn is_empty(&self) -> bool {
        self.settings == KeySettings::default() && self.auto_rotate.is_none()
    }

    /// Why the edit needs a code, as the start of a sentence.
    fn why_code(&self) -> String {
        let label = &self.record.label;
        if self.moves() {
            format!("Moving key '{label}' to another address changes where Latchkey sends its signed requests, so it")
        } else if self.auto_rotate == Some(true) {
            format!("Letting '{label}' rotate by itself lets Latchkey replace it with nobody at the keyboard, so it")
        } else {
            format!("Letting bots use '{label}'")
        }
    }

    /// The key moves to another environment: it is re-verified there.
    pub fn moves(&self) -> bool {
        self.settings.environment.is_some()
    }
}

/// The edit as saved.
#[derive(Debug)]
pub struct Edited {
    pub record: KeyRecord,
    pub changes: Vec<String>,
    pub moved: bool,
}

pub struct Editor<'a> {
    vault: &'a Vault,
    bots: &'a Bots,
    guard: &'a Guard,
}

impl<'a> Editor<'a> {
    pub fn new(vault: &'a Vault, bots: &'a Bots, guard: &'a Guard) -> Self {
        Editor { vault, bots, guard }
    }

    /// Validates the edit as the wizard validates a new key (label rules and uniqueness, rotation
    /// bounds, base URL rules) and says whether it needs a code. Nothing is written.
    pub fn plan(&self, id: KeyId, edit: &KeyEdit, now: DateTime<Utc>) -> Result<EditPlan, EditError> {
        let record = self.vault.get(id)?;
        if record.status == KeyStatus::Revoked {
            return Err(EditError::Revoked { label: record.label });
        }
        let mut settings = KeySettings::default();
        let mut changes = Vec::new();
        if let Some(raw) = &edit.label {
            let label = validate::label(raw).map_err(crate::Error::from)?;
            if label != record.label {
                if self.vault.store().label_taken_by_another(&label, id)? {
                    return Err(crate::Error::from(validate::label_in_use(&label)).into());
                }
                changes.push(format!("label '{}' → '{label}'", record.label));
                settings.label = Some(label);
            }
        }
        if let Some(days) = edit.rotation_days {
            let days = validate::rotation_days(days).map_err(crate::Error::from)?;
            if days != record.rotation_days {
                changes.push(format!("rotation every {} → {days} days", record.rotation_days));
                settings.rotation_days = Some(days);
            }
        }
        if let Some(env) = &edit.environment {
            let env = validate::environment(env.clone()).map_err(crate::Error::from)?;
            if env != record.environment {
                changes.push(format!(
                    "environment {} → {}",
                    environment_text(&record.environment),
                    environment_text(&env)
                ));
                settings.environment = Some(env);
            }
        }
        let mut bots_on = false;
        if let Some(allowed) = edit.bots_allowed.filter(|a| *a != record.bots_allowed) {
            if allowed {
                // A master or a key not in use is refused before a code is asked for.
                self.bots.may_allow(id)?;
                bots_on = true;
            }
            settings.bots_allowed = Some(allowed);
        }
        let store = self.vault.store();
        let auto_rotate = match edit.auto_rotate {
            Some(on) if on != schedule::rotates_automatically(store, &record)? => {
                // Refused before a code is asked for when the key cannot rotate through a master.
                autorotate::eligible(store, &record)
                    .map_err(|why| EditError::CannotAutoRotate { label: record.label.clone(), why })?;
                Some(on)
            }
            _ => None,
        };
        let moves = settings.environment.is_some();
        let needs_code = bots_on || auto_rotate == Some(true) || (moves && self.guard.status(now)?.enrolled);
        Ok(EditPlan { record, settings, changes, auto_rotate, needs_code })
    }

    /// Checks the edit, then the code where one is needed (a wrong one counts toward the guard's
    /// backoff), then writes every change and its audit entries in one transaction.
    pub fn apply(
        &self,
        id: KeyId,
        edit: &KeyEdit,
        code: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Edited, EditError> {
        let plan = self.plan(id, edit, now)?;
        if plan.is_empty() {
            return Ok(Edited { record: plan.record, changes: Vec::new(), moved: false });
        }
        if plan.needs_code {
            let code =
                code.ok_or_else(|| EditError::CodeNeeded { label: plan.record.label.clone(), what: plan.why_code() })?;
            self.guard.verify(code, now)?;
        }
        let record = &plan.record;
        let label = plan.settings.label.as_deref().unwrap_or(&record.label);
        let mut events = Vec::new();
        if !plan.changes.is_empty() {
            events.push(Event {
                at: now,
                action: Action::Edit,
                key_id: Some(id),
                label: Some(label),
                outcome: Outcome::Ok,
                detail: plan.changes.join("; "),
            });
        }
        let renamed = KeyRecord { label: label.to_owned(), ..record.clone() };
        if let Some(allowed) = plan.settings.bots_allowed {
            events.push(bots::access_event(&renamed, allowed, now));
        }
        self.vault.store().update_key_settings(id, &plan.settings, &events)?;
        let mut saved = self.vault.get(id)?;
        if let Some(on) = plan.auto_rotate {
            schedule::record_auto_rotate(self.vault.store(), &saved, on, now)?;
            saved = self.vault.get(id)?;
        }
        if plan.settings.label.is_some() || plan.moves() {
            self.vault.refresh_item(&saved);
        }
        tracing::info!(key = %id, changes = plan.changes.len(), "key edited");
        let moved = plan.moves();
        let mut changes = plan.changes;
        if let Some(allowed) = plan.settings.bots_allowed {
            changes.push(if allowed { "bots may use this key" } else { "bots may not use this key" }.to_owned());
        }
        if let Some(on) = plan.auto_rotate {
            changes.push(schedule::auto_rotate_text(on).to_owned());
        }
        Ok(Edited { record: saved, changes, moved })
    }
}

/// How an environment reads in an audit entry or a reply (base URLs are not secret).
pub fn environment_text(env: &Environment) -> String {
    match env {
        Environment::Live => "live".to_owned(),
        Environment::Demo => "demo".to_owned(),
        Environment::Custom { base_url } => base_url.clone(),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ReverifyOutcome {
    /// The exchange answered the key's own signed read at the new address.
    Verified,
    /// The exchange refused the key itself there (unknown or expired key).
    Rejected,
    /// No answer about the key (network, IP, clock, a 5xx…): nothing about it changed.
    Failed,
    /// Not tried: Latchkey holds no secret for the key.
    Skipped,
}

/// What the check after a move found, and what it did to the key's status.
#[derive(Clone, Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Reverified {
    pub outcome: ReverifyOutcome,
    /// The key's status after the check.
    pub status: KeyStatus,
    pub message: String,
}

/// Checks a key that just moved with one signed read with its own credentials at its new address,
/// and keeps the answer as Re-check does (see the module comment for what it does to the status).
/// Returns what was found and the key as it is now.
pub async fn reverify(
    vault: &Arc<Vault>,
    client: &ExchangeClient,
    id: KeyId,
    now: DateTime<Utc>,
) -> crate::Result<(Reverified, KeyRecord)> {
    let v = vault.clone();
    let before = crate::task::blocking(move || v.get(id)).await?;
    let ex = before.exchange;
    if before.status == KeyStatus::StillLiveWiped {
        let message = format!(
            "Not checked at the new address: Latchkey wiped this key's secret at your request, so it cannot sign a call to {ex}."
        );
        return Ok((Reverified { outcome: ReverifyOutcome::Skipped, status: before.status, message }, before));
    }
    let (outcome, message) = match watch::check_key(vault, client, id, now).await {
        Ok(Looked::Answered { record, .. }) => (ReverifyOutcome::Verified, answered(&record, before.status)),
        Ok(Looked::Rejected { record, error, .. }) => (ReverifyOutcome::Rejected, refused(&record, &error)),
        Err(LookError::Exchange(e)) => (
            ReverifyOutcome::Failed,
            format!("{ex} gave no answer about the key at the new address: {e} The change is saved and the key's status is unchanged; check the address, or try Re-check later."),
        ),
        Err(LookError::Key(e)) => (
            ReverifyOutcome::Failed,
            format!("The key could not be checked at the new address: {e} The change is saved and the key's status is unchanged."),
        ),
    };
    let v = vault.clone();
    let record = crate::task::blocking(move || v.get(id)).await?;
    Ok((Reverified { outcome, status: record.status, message }, record))
}

fn answered(record: &KeyRecord, before: KeyStatus) -> String {
    let ex = record.exchange;
    match record.status {
        KeyStatus::Quarantined => format!(
            "{ex} answered at the new address: the key still works there, so it stays quarantined and blocked from use. Retry the revoke now: it goes to the new address."
        ),
        s if s.is_still_live() => format!(
            "{ex} answered at the new address: the key still works there. It stays blocked until you delete it on {ex}'s website and confirm it here."
        ),
        KeyStatus::Active if before == KeyStatus::Rejected => {
            format!("{ex} answered at the new address: the key works there, so it is active again and verified now.")
        }
        _ => format!("{ex} answered at the new address: the key works there and is verified now."),
    }
}

fn refused(record: &KeyRecord, error: &ExchangeError) -> String {
    let ex = record.exchange;
    match record.status {
        KeyStatus::Rejected => format!(
            "{ex} refused this key at the new address: {error} It shows as rejected: if the address is wrong for this key (live, demo or a regional host), change it again; otherwise the key was deleted or has expired."
        ),
        status => format!(
            "{ex} refused this key at the new address: {error} That alone does not prove the key gone (a key used on the wrong host is refused the same way), so it stays {}: retry the revoke, or confirm the deletion, which prove it with a signed call.",
            status.as_str().replace('_', " ")
        ),
    }
}
