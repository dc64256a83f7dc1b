//! The 2FA guard: a TOTP code (or a one-time recovery code) that Rust checks inside every guarded
//! action, so the web view cannot skip it.
//!
//! - Enrollment: a 160-bit secret → otpauth URI, QR code and base32 text; it takes effect only
//!   when a first valid code confirms it. Then 10 recovery codes are shown once, stored hashed.
//! - Verification: ±1 step, constant-time compare, each accepted step works once (the last one is
//!   persisted); from the 5th wrong code in a row the wait doubles per failure (30 s, 60 s, …),
//!   persisted so a restart does not reset it.
//! - Setting up again or disabling needs a valid code.
//!
//! The clock is always passed in.

mod item;
pub mod recovery;
mod state;
pub mod totp;

use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use secrecy::{SecretSlice, SecretString};
use serde::Serialize;

use crate::audit::{Action, Event, Outcome};
use crate::keychain::KeychainError;
use crate::store::{insert_audit, Store};

pub use item::{GuardSecretStore, ACCOUNT as KEYCHAIN_ACCOUNT};
pub use recovery::HashCost;

/// Wrong codes in a row before the first pause.
pub const FREE_FAILURES: u32 = 5;
/// The first pause; each further failure doubles it.
pub const FIRST_PAUSE_SECS: u64 = 30;
const MAX_PAUSE_SECS: u64 = 24 * 3600;

#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    #[error("2FA is not set up: enroll in Settings → Two-factor, then try again.")]
    NotEnrolled,
    #[error("Wrong code: check your authenticator's clock (codes change every 30 s) and that you used the Latchkey entry.{}", tries_hint(*.tries_left))]
    WrongCode { tries_left: u32 },
    #[error("That is not a code: enter the 6 digits your authenticator app shows, or one of your recovery codes (like abcde-12345).")]
    NotACode,
    #[error("This code was already used: wait for the next code in your authenticator (at most 30 s).")]
    Replayed,
    #[error("Too many wrong codes: try again in {}.", human_wait(*.wait_secs))]
    LockedOut { wait_secs: u64 },
    #[error("2FA is already set up: enter a current code (or a recovery code) to set it up again.")]
    CodeRequired,
    #[error("No 2FA setup is in progress: start it again in Settings → Two-factor.")]
    NoPendingEnrollment,
    #[error("The 2FA secret is missing from the keychain. Use a recovery code, then set up 2FA again in Settings → Two-factor.")]
    SecretMissing,
    #[error(transparent)]
    Keychain(#[from] KeychainError),
    #[error(transparent)]
    Storage(#[from] crate::Error),
    #[error("The system's random number generator failed. Restart Latchkey and try again.")]
    Random,
}

impl GuardError {
    /// A short machine name for the UI.
    pub fn kind(&self) -> &'static str {
        match self {
            GuardError::NotEnrolled => "not_enrolled",
            GuardError::WrongCode { .. } => "wrong_code",
            GuardError::NotACode => "not_a_code",
            GuardError::Replayed => "code_reused",
            GuardError::LockedOut { .. } => "locked_out",
            GuardError::CodeRequired => "code_required",
            GuardError::NoPendingEnrollment => "no_pending_enrollment",
            GuardError::SecretMissing => "secret_missing",
            GuardError::Keychain(_) => "keychain",
            GuardError::Storage(_) => "storage",
            GuardError::Random => "random",
        }
    }
}

fn tries_hint(left: u32) -> String {
    match left {
        0 => String::new(),
        1 => " 1 try left before a pause.".to_owned(),
        n if n < FREE_FAILURES => format!(" {n} tries left before a pause."),
        _ => String::new(),
    }
}

/// "30 s", "2 min", "3 h".
pub fn human_wait(secs: u64) -> String {
    match secs {
        0..=59 => format!("{} s", secs.max(1)),
        60..=3599 => format!("{} min", secs.div_ceil(60)),
        _ => format!("{} h", secs.div_ceil(3600)),
    }
}

/// The pause after `failures` wrong codes in a row: none before the 5th, then 30 s doubling.
pub fn pause_after(failures: u32) -> Option<u64> {
    let over = failures.checked_sub(FREE_FAILURES)?;
    Some(FIRST_PAUSE_SECS.saturating_mul(1u64 << over.min(20)).min(MAX_PAUSE_SECS))
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GuardStatus {
    pub enrolled: bool,
    /// A setup was begun and awaits its first code.
    pub setup_in_progress: bool,
    pub recovery_codes_left: u32,
    /// Seconds until codes are accepted again; 0 when not paused.
    pub locked_for_secs: u64,
    pub failures: u32,
}

/// What the enrollment screen shows. Every field carries the secret: exposing one is an EXPOSE.
#[derive(Debug)]
pub struct Enrollment {
    pub uri: SecretString,
    pub qr_svg: SecretString,
    /// For manual entry in the authenticator app.
    pub secret_base32: SecretString,
}

/// Shown once, right after enrollment; only hashes are kept.
#[derive(Debug)]
pub struct RecoveryCodes {
    pub codes: Vec<SecretString>,
}

#[derive(Clone, Debug)]
pub struct GuardConfig {
    /// The account name in the authenticator app ("Latchkey: <account>").
    pub account: String,
    pub recovery_cost: HashCost,
}

impl Default for GuardConfig {
    fn default() -> Self {
        GuardConfig { account: "API keys".to_owned(), recovery_cost: HashCost::default() }
    }
}

/// Proof that a 2FA code was just accepted. Only [`Guard::verify_for_action`] makes one, and
/// spending it consumes it, so a guarded engine call can take it instead of a code.
#[derive(Debug)]
#[must_use]
pub struct Verified {
    _sealed: (),
}

pub struct Guard {
    store: Arc<Store>,
    secrets: Arc<dyn GuardSecretStore>,
    config: GuardConfig,
    /// A begun enrollment's secret, until its first code confirms it. Kept in memory only: an
    /// unconfirmed secret never reaches the keychain.
    pending: Mutex<Option<SecretSlice<u8>>>,
    /// Serializes checks, so one code cannot pass twice in a race.
    serial: Mutex<()>,
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard").field("account", &self.config.account).finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn guard_event(action: Action, at: DateTime<Utc>, outcome: Outcome, detail: impl Into<String>) -> Event<'static> {
    Event { at, action, key_id: None, label: None, outcome, detail: detail.into() }
}

impl Guard {
    pub fn new(store: Arc<Store>, secrets: Arc<dyn GuardSecretStore>, config: GuardConfig) -> Self {
        Guard { store, secrets, config, pending: Mutex::new(None), serial: Mutex::new(()) }
    }

    pub fn status(&self, now: DateTime<Utc>) -> Result<GuardStatus, GuardError> {
        let conn = self.store.conn();
        let s = state::load(&conn).map_err(|e| self.store.err(e))?;
        let left = if s.enrolled { state::unused_recovery(&conn).map_err(|e| self.store.err(e))?.len() } else { 0 };
        Ok(GuardStatus {
            enrolled: s.enrolled,
            setup_in_progress: lock(&self.pending).is_some(),
            recovery_codes_left: u32::try_from(left).unwrap_or(u32::MAX),
            locked_for_secs: remaining(s.locked_until, now),
            failures: s.failures,
        })
    }

    /// Starts (or, with a valid current code, restarts) enrollment. Nothing changes until
    /// [`Guard::confirm_enrollment`] sees a first code from the new secret.
    pub fn begin_enrollment(&self, current_code: Option<&str>, now: DateTime<Utc>) -> Result<Enrollment, GuardError> {
        if self.load()?.enrolled {
            self.verify(current_code.ok_or(GuardError::CodeRequired)?, now)?;
        }
        let secret = totp::new_secret().ok_or(GuardError::Random)?;
        let uri = totp::otpauth_uri(&secret, &self.config.account);
        let qr_svg = totp::qr_svg(&uri).ok_or(GuardError::Random)?;
        let enrollment = Enrollment { secret_base32: totp::base32(&secret), uri, qr_svg };
        *lock(&self.pending) = Some(secret);
        Ok(enrollment)
    }

    /// Checks a first code from the new secret, then stores the secret and returns fresh recovery
    /// codes (any old ones stop working).
    pub fn confirm_enrollment(&self, code: &str, now: DateTime<Utc>) -> Result<RecoveryCodes, GuardError> {
        let _serial = lock(&self.serial);
        let mut pending = lock(&self.pending);
        let secret = pending.as_ref().ok_or(GuardError::NoPendingEnrollment)?;
        let step = totp::matching_step(secret, code.trim(), totp::step_of(now.timestamp()))
            .ok_or(GuardError::WrongCode { tries_left: 0 })?;
        let codes: Vec<SecretString> =
            (0..recovery::COUNT).map(|_| recovery::generate()).collect::<Option<_>>().ok_or(GuardError::Random)?;
        let hashes: Vec<String> = codes
            .iter()
            .map(|c| recovery::hash(c, self.config.recovery_cost))
            .collect::<Option<_>>()
            .ok_or(GuardError::Random)?;
        self.secrets.put_totp(secret)?;
        let conn = self.store.conn();
        let write = || -> rusqlite::Result<()> {
            let tx = conn.unchecked_transaction()?;
            let s = state::State { enrolled: true, last_step: Some(step), failures: 0, locked_until: None };
            state::save(&tx, &s)?;
            state::set_enrolled_at(&tx, Some(now))?;
            state::replace_recovery(&tx, &hashes)?;
            insert_audit(&tx, &guard_event(Action::GuardEnroll, now, Outcome::Ok, "2FA set up"))?;
            tx.commit()
        };
        write().map_err(|e| self.store.err(e))?;
        *pending = None;
        Ok(RecoveryCodes { codes })
    }

    /// Like [`Guard::verify`], returning proof of it for an action that runs later in the same
    /// request (a rotation retires the old key only after saving the new one).
    pub fn verify_for_action(&self, code: &str, now: DateTime<Utc>) -> Result<Verified, GuardError> {
        self.verify(code, now).map(|()| Verified { _sealed: () })
    }

    /// Accepts a current TOTP code (once) or an unused recovery code.
    pub fn verify(&self, code: &str, now: DateTime<Utc>) -> Result<(), GuardError> {
        let _serial = lock(&self.serial);
        let mut s = self.load()?;
        if !s.enrolled {
            return Err(GuardError::NotEnrolled);
        }
        let wait = remaining(s.locked_until, now);
        if wait > 0 {
            return Err(GuardError::LockedOut { wait_secs: wait });
        }
        let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        let accepted = if digits.len() == usize::from(totp::DIGITS) && digits.bytes().all(|b| b.is_ascii_digit()) {
            self.check_totp(&mut s, &digits, now)?
        } else if recovery::normalize(code).is_some() {
            self.check_recovery(code, now)?
        } else {
            // A typo, not a guess: it cannot match anything, so it costs no try.
            return Err(GuardError::NotACode);
        };
        match accepted {
            Some(detail) => {
                s.failures = 0;
                s.locked_until = None;
                self.save(&s, guard_event(Action::GuardVerify, now, Outcome::Ok, detail))?;
                Ok(())
            }
            None => {
                s.failures = s.failures.saturating_add(1);
                let pause = pause_after(s.failures);
                s.locked_until = pause.map(|p| now + chrono::Duration::seconds(i64::try_from(p).unwrap_or(i64::MAX)));
                let detail = format!("wrong code ({} in a row)", s.failures);
                self.save(&s, guard_event(Action::GuardVerify, now, Outcome::Failed, detail))?;
                Err(match pause {
                    Some(wait_secs) => GuardError::LockedOut { wait_secs },
                    None => GuardError::WrongCode { tries_left: FREE_FAILURES - s.failures },
                })
            }
        }
    }

    /// Turns 2FA off after a valid code: the keychain item and the recovery codes are removed.
    pub fn disable(&self, code: &str, now: DateTime<Utc>) -> Result<(), GuardError> {
        self.verify(code, now)?;
        let _serial = lock(&self.serial);
        self.secrets.delete_totp()?;
        let conn = self.store.conn();
        let write = || -> rusqlite::Result<()> {
            let tx = conn.unchecked_transaction()?;
            state::save(&tx, &state::State::default())?;
            state::set_enrolled_at(&tx, None)?;
            state::replace_recovery(&tx, &[])?;
            insert_audit(&tx, &guard_event(Action::GuardDisable, now, Outcome::Ok, "2FA turned off"))?;
            tx.commit()
        };
        write().map_err(|e| self.store.err(e))?;
        *lock(&self.pending) = None;
        Ok(())
    }

    /// `Some(detail)` when the code matches a step newer than the last accepted one.
    fn check_totp(&self, s: &mut state::State, code: &str, now: DateTime<Utc>) -> Result<Option<String>, GuardError> {
        let secret = self.secrets.get_totp()?.ok_or(GuardError::SecretMissing)?;
        let Some(step) = totp::matching_step(&secret, code, totp::step_of(now.timestamp())) else {
            return Ok(None);
        };
        if s.last_step.is_some_and(|last| step <= last) {
            // A replay proves nothing new (whoever sends it already saw the code), so it does not
            // count as a failure; it is refused all the same.
            return Err(GuardError::Replayed);
        }
        s.last_step = Some(step);
        Ok(Some("authenticator code".to_owned()))
    }

    fn check_recovery(&self, input: &str, now: DateTime<Utc>) -> Result<Option<String>, GuardError> {
        let Some(normalized) = recovery::normalize(input) else { return Ok(None) };
        let unused = state::unused_recovery(&self.store.conn()).map_err(|e| self.store.err(e))?;
        let Some(index) = unused.iter().position(|(_, h)| recovery::matches(&normalized, h)) else {
            return Ok(None);
        };
        let used = state::use_recovery(&self.store.conn(), unused[index].0, now).map_err(|e| self.store.err(e))?;
        Ok(used.then(|| format!("recovery code ({} left)", unused.len() - 1)))
    }

    fn load(&self) -> Result<state::State, GuardError> {
        state::load(&self.store.conn()).map_err(|e| GuardError::Storage(self.store.err(e)))
    }

    fn save(&self, s: &state::State, event: Event<'_>) -> Result<(), GuardError> {
        let conn = self.store.conn();
        let write = || -> rusqlite::Result<()> {
            let tx = conn.unchecked_transaction()?;
            state::save(&tx, s)?;
            insert_audit(&tx, &event)?;
            tx.commit()
        };
        write().map_err(|e| GuardError::Storage(self.store.err(e)))
    }
}

fn remaining(until: Option<DateTime<Utc>>, now: DateTime<Utc>) -> u64 {
    until.map(|u| (u - now).num_seconds().max(0)).and_then(|s| u64::try_from(s).ok()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_double_from_the_fifth_failure() {
        let pauses: Vec<Option<u64>> = (1..=8).map(pause_after).collect();
        assert_eq!(pauses, [None, None, None, None, Some(30), Some(60), Some(120), Some(240)]);
        assert_eq!(pause_after(200), Some(MAX_PAUSE_SECS));
        assert_eq!(human_wait(120), "2 min");
        assert_eq!(human_wait(30), "30 s");
        assert_eq!(human_wait(7200), "2 h");
    }

    #[test]
    fn messages_say_what_to_do() {
        assert!(GuardError::LockedOut { wait_secs: 120 }.to_string().contains("try again in 2 min"));
        assert!(GuardError::NotEnrolled.to_string().contains("Settings → Two-factor"));
        let wrong = GuardError::WrongCode { tries_left: 2 }.to_string();
        assert!(wrong.contains("clock") && wrong.contains("2 tries left"), "{wrong}");
    }
}
