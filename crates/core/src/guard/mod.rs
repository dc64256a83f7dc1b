//! The 2FA guard: a TOTP code (or a one-time recovery code) that Rust checks inside every guarded
//! action, so the web view cannot skip it.
//!
//! - Enrollment: a 160-bit secret → otpauth URI, QR code and base32 text; it takes effect only
//!   when a first valid code confirms it. Then 10 recovery codes are shown once, stored hashed.
//!   A begun setup lives in memory for at most 10 minutes and 3 wrong first codes; each wrong one
//!   counts in the same backoff as a wrong code anywhere, and is audited. It is bound to the guard
//!   as it was when it began (generation, keychain secret) and refused once that changed.
//! - Verification: ±1 step, constant-time compare, each accepted step works once (the last one is
//!   persisted); from the 5th wrong code in a row the wait doubles per failure (30 s, 60 s, …),
//!   persisted so a restart does not reset it.
//! - Every check runs in one `BEGIN IMMEDIATE` transaction (lockout, replay step, failure count,
//!   recovery-code use), so the app and the CLI on the same database cannot both accept one code
//!   or lose each other's failures.
//! - Setting up again or disabling needs a valid code; so does setting up over a 2FA secret the
//!   keychain still holds when the database forgot it (a reset database), unless the user chooses
//!   to destroy that secret.
//!
//! - Without 2FA, revoking still works (being unable to revoke is the harm): the engine takes the
//!   typed [`REVOKE_PHRASE`] instead of a code, only while 2FA is not set up, and audits each such
//!   run as unguarded ([`Guard::authorize_revoke`]). Once 2FA is set up the phrase is refused.
//! - Going without 2FA is a choice the user states once ([`Guard::skip_setup`], audited); the app
//!   stops asking after each new key, but keeps reminding.
//!
//! The clock is always passed in.

mod item;
pub mod recovery;
mod state;
pub mod totp;

use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use rusqlite::{Connection, TransactionBehavior};
use secrecy::{ExposeSecret, SecretSlice, SecretString};
use serde::Serialize;
use sha2::{Digest, Sha256};

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
/// Wrong first codes before a begun setup is dropped.
pub const ENROLL_TRIES: u32 = 3;
/// How long a begun setup waits for its first code.
pub const ENROLL_TTL_SECS: i64 = 10 * 60;

/// Where the app's 2FA controls are, for messages.
const WHERE: &str = "the 2FA button at the top of the Latchkey window";
/// The same button while 2FA is off: it then reads "Set up 2FA".
const WHERE_OFF: &str =
    "the “Set up 2FA” button at the top of the Latchkey window (or `latchkey 2fa enroll` in a terminal)";

/// What the user types to revoke while 2FA is not set up (exactly, in capitals).
pub const REVOKE_PHRASE: &str = "REVOKE";
/// The `settings` row that records the choice to go without 2FA (its time).
const SKIPPED_SETTING: &str = "guard_setup_skipped";

#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    #[error("2FA is not set up: set it up with {WHERE_OFF}, then try again.")]
    NotEnrolled,
    #[error("2FA is set up, so typing {REVOKE_PHRASE} is not enough: enter the 6-digit code from your authenticator app (or a recovery code).")]
    PhraseRefused,
    #[error("2FA is not set up, so revoking asks you to type {REVOKE_PHRASE} (in capitals) to confirm. Type it and try again, or set up 2FA with {WHERE_OFF}.")]
    PhraseRequired,
    #[error("Wrong code: check your authenticator's clock (codes change every 30 s) and that you used the Latchkey entry.{}", tries_hint(*.tries_left))]
    WrongCode { tries_left: u32 },
    #[error("That code does not match the new secret: check that your authenticator shows the entry you just added (not an older Latchkey one) and its clock. {} before this setup is cancelled.", plural_tries(*.tries_left))]
    WrongFirstCode { tries_left: u32 },
    #[error("That is not a code: enter the 6 digits your authenticator app shows, or one of your recovery codes (like abcde-12345).")]
    NotACode,
    #[error("This code was already used: wait for the next code in your authenticator (at most 30 s).")]
    Replayed,
    #[error("Too many wrong codes: try again in {}.", human_wait(*.wait_secs))]
    LockedOut { wait_secs: u64 },
    #[error("2FA is already set up: enter a current code (or a recovery code) to set it up again.")]
    CodeRequired,
    #[error("No 2FA setup is in progress: start it again with {WHERE}.")]
    NoPendingEnrollment,
    #[error("{ENROLL_TRIES} codes in a row did not match the new secret, so this 2FA setup was cancelled and nothing changed. Start the setup again and scan the new QR code.")]
    EnrollmentTriesExhausted,
    #[error("This 2FA setup was begun more than 10 minutes ago and has expired; nothing changed. Start it again (you get a new QR code).")]
    EnrollmentExpired,
    #[error("2FA was changed elsewhere (in the app, or with `latchkey 2fa` in a terminal) since this setup began, so the setup was cancelled and nothing changed. Start it again.")]
    EnrollmentStale,
    #[error("A 2FA secret from an earlier setup is still in the keychain, though this database does not know it (was the database reset or replaced?). Enter a current code from that authenticator entry to set up 2FA again, or choose to destroy the old secret: its codes stop working for good.")]
    OldSeedExists,
    #[error("The 2FA secret is missing from the keychain. Use a recovery code, then set up 2FA again with {WHERE}.")]
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
    pub fn kind(&self) -> crate::error::ErrorCode {
        use crate::error::ErrorCode;
        match self {
            GuardError::NotEnrolled => ErrorCode::NotEnrolled,
            GuardError::PhraseRefused => ErrorCode::PhraseRefused,
            GuardError::PhraseRequired => ErrorCode::PhraseRequired,
            GuardError::WrongCode { .. } | GuardError::WrongFirstCode { .. } => ErrorCode::WrongCode,
            GuardError::NotACode => ErrorCode::NotACode,
            GuardError::Replayed => ErrorCode::CodeReused,
            GuardError::LockedOut { .. } => ErrorCode::LockedOut,
            GuardError::CodeRequired => ErrorCode::CodeRequired,
            GuardError::NoPendingEnrollment => ErrorCode::NoPendingEnrollment,
            GuardError::EnrollmentTriesExhausted => ErrorCode::EnrollmentTriesExhausted,
            GuardError::EnrollmentExpired => ErrorCode::EnrollmentExpired,
            GuardError::EnrollmentStale => ErrorCode::EnrollmentStale,
            GuardError::OldSeedExists => ErrorCode::OldSeedExists,
            GuardError::SecretMissing => ErrorCode::SecretMissing,
            GuardError::Keychain(_) => ErrorCode::Keychain,
            GuardError::Storage(_) => ErrorCode::Storage,
            GuardError::Random => ErrorCode::Random,
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

fn plural_tries(n: u32) -> String {
    if n == 1 {
        "1 try left".to_owned()
    } else {
        format!("{n} tries left")
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
    /// The user chose to go without 2FA for now (see [`Guard::skip_setup`]); false once set up.
    pub setup_skipped: bool,
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

/// The guard as a setup found it: a change in any part makes the setup stale.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Basis {
    generation: i64,
    enrolled: bool,
    /// SHA-256 of the keychain's TOTP secret, if there is one (kept in memory only).
    seed: Option<[u8; 32]>,
}

/// A begun setup, until its first code confirms it.
struct Pending {
    secret: SecretSlice<u8>,
    begun_at: DateTime<Utc>,
    wrong: u32,
    basis: Basis,
    /// The user chose to destroy a keychain secret the database did not know.
    destroys_old_seed: bool,
}

pub struct Guard {
    store: Arc<Store>,
    secrets: Arc<dyn GuardSecretStore>,
    config: GuardConfig,
    /// A begun enrollment's secret, until its first code confirms it. Kept in memory only: an
    /// unconfirmed secret never reaches the keychain.
    pending: Mutex<Option<Pending>>,
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

fn fingerprint(secret: &SecretSlice<u8>) -> [u8; 32] {
    // EXPOSE: hashed to notice that the keychain's secret changed; the digest stays in memory.
    Sha256::digest(secret.expose_secret()).into()
}

/// The code as typed, if it has the shape of a TOTP code.
fn totp_digits(code: &str) -> Option<zeroize::Zeroizing<String>> {
    let digits: zeroize::Zeroizing<String> =
        zeroize::Zeroizing::new(code.chars().filter(|c| !c.is_whitespace()).collect());
    (digits.len() == usize::from(totp::DIGITS) && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// Counts one wrong code in the persisted backoff: returns the pause it starts, if any.
fn count_failure(s: &mut state::State, now: DateTime<Utc>) -> Option<u64> {
    s.failures = s.failures.saturating_add(1);
    let pause = pause_after(s.failures);
    s.locked_until = pause.map(|p| now + chrono::Duration::seconds(i64::try_from(p).unwrap_or(i64::MAX)));
    pause
}

/// Which guard a code is checked against.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Against {
    /// The enrolled guard.
    Enrolled,
    /// Also a secret the keychain holds while the database says 2FA is off (a reset database).
    KeychainSeed,
}

impl Guard {
    pub fn new(store: Arc<Store>, secrets: Arc<dyn GuardSecretStore>, config: GuardConfig) -> Self {
        Guard { store, secrets, config, pending: Mutex::new(None) }
    }

    pub fn status(&self, now: DateTime<Utc>) -> Result<GuardStatus, GuardError> {
        let (s, left, setup_skipped) = {
            let conn = self.store.conn();
            let s = state::load(&conn).map_err(|e| self.store.err(e))?;
            let left = if s.enrolled { state::unused_recovery(&conn).map_err(|e| self.store.err(e))?.len() } else { 0 };
            let skipped =
                !s.enrolled && state::skipped_at(&conn, SKIPPED_SETTING).map_err(|e| self.store.err(e))?.is_some();
            (s, left, skipped)
        };
        // The pending lock is taken only with the connection released (confirm takes them the
        // other way round).
        Ok(GuardStatus {
            enrolled: s.enrolled,
            setup_in_progress: lock(&self.pending).as_ref().is_some_and(|p| !expired(p, now)),
            recovery_codes_left: u32::try_from(left).unwrap_or(u32::MAX),
            locked_for_secs: remaining(s.locked_until, now),
            failures: s.failures,
            setup_skipped,
        })
    }

    /// "Skip 2FA for now": the user accepted, in so many words, what anyone at this computer can
    /// do without a code (`accepted` is that sentence, as shown, for the audit log). Recorded so
    /// the app asks once, not after every key; a later setup clears it. Nothing to record (and
    /// `false`) when 2FA is set up.
    pub fn skip_setup(&self, accepted: &str, now: DateTime<Utc>) -> Result<bool, GuardError> {
        let mut conn = self.store.conn();
        let tx = immediate(&mut conn).map_err(|e| self.store.err(e))?;
        if state::load(&tx).map_err(|e| self.store.err(e))?.enrolled {
            return Ok(false);
        }
        let accepted: String = accepted.chars().filter(|c| !c.is_control()).take(500).collect();
        let detail = format!("2FA setup skipped; the user accepted: {accepted}");
        let write = || -> rusqlite::Result<()> {
            state::set_skipped_at(&tx, SKIPPED_SETTING, Some(now))?;
            insert_audit(&tx, &guard_event(Action::GuardSkip, now, Outcome::Ok, detail))?;
            tx.commit()
        };
        write().map_err(|e| self.store.err(e))?;
        Ok(true)
    }

    /// The check in front of emergency revoke and its follow-ups (`what` names it for the audit
    /// log): with 2FA set up, a valid code, exactly as [`Guard::verify`] (the typed phrase is
    /// refused and audited, costing no try: it cannot be a guess at a code); without 2FA, only the
    /// exact [`REVOKE_PHRASE`], audited as an unguarded run. Decided in one IMMEDIATE transaction,
    /// so a setup finishing elsewhere cannot slip between the look and the acceptance.
    pub fn authorize_revoke(&self, input: &str, what: &str, now: DateTime<Utc>) -> Result<(), GuardError> {
        let typed = input.trim();
        {
            let mut conn = self.store.conn();
            let tx = immediate(&mut conn).map_err(|e| self.store.err(e))?;
            let enrolled = state::load(&tx).map_err(|e| self.store.err(e))?.enrolled;
            let (outcome, detail, refusal) = match (enrolled, typed == REVOKE_PHRASE) {
                // An ordinary code check, below (with the connection released).
                (true, false) => (None, String::new(), None),
                (true, true) => (
                    Some(Outcome::Failed),
                    format!("{what}: typed {REVOKE_PHRASE} refused, 2FA is set up (a code is needed)"),
                    Some(GuardError::PhraseRefused),
                ),
                (false, true) => (
                    Some(Outcome::Ok),
                    format!("{what} without 2FA (not set up): confirmed by typing {REVOKE_PHRASE}"),
                    None,
                ),
                (false, false) => return Err(GuardError::PhraseRequired),
            };
            if let Some(outcome) = outcome {
                insert_audit(&tx, &guard_event(Action::Unguarded, now, outcome, detail))
                    .and_then(|()| tx.commit())
                    .map_err(|e| self.store.err(e))?;
                return refusal.map_or(Ok(()), Err);
            }
        }
        self.verify(typed, now)
    }

    /// Starts (or, with a valid current code, restarts) enrollment. Nothing changes until
    /// [`Guard::confirm_enrollment`] sees a first code from the new secret. When the database says
    /// 2FA is off but the keychain still holds a secret, `current_code` must come from that secret
    /// ([`GuardError::OldSeedExists`] otherwise; see [`Guard::begin_enrollment_destroying_old_seed`]).
    pub fn begin_enrollment(&self, current_code: Option<&str>, now: DateTime<Utc>) -> Result<Enrollment, GuardError> {
        self.begin(current_code, false, now)
    }

    /// Like [`Guard::begin_enrollment`] on a guard the database says is off, but the user said
    /// plainly that a 2FA secret left in the keychain (one the database forgot) may be destroyed.
    /// The confirmation audits that it was. It never skips the code an enrolled guard needs.
    pub fn begin_enrollment_destroying_old_seed(&self, now: DateTime<Utc>) -> Result<Enrollment, GuardError> {
        self.begin(None, true, now)
    }

    fn begin(
        &self,
        current_code: Option<&str>,
        destroy_old_seed: bool,
        now: DateTime<Utc>,
    ) -> Result<Enrollment, GuardError> {
        // Taken before the code is checked: a change from here on makes the setup stale.
        let basis = self.basis(&self.store.conn())?;
        let mut destroys_old_seed = false;
        if basis.enrolled {
            self.check(current_code.ok_or(GuardError::CodeRequired)?, now, Against::Enrolled, Action::GuardVerify)?;
        } else if basis.seed.is_some() {
            match current_code {
                Some(code) => self.check(code, now, Against::KeychainSeed, Action::GuardVerify)?,
                None if destroy_old_seed => destroys_old_seed = true,
                None => return Err(GuardError::OldSeedExists),
            }
        }
        let secret = totp::new_secret().ok_or(GuardError::Random)?;
        let uri = totp::otpauth_uri(&secret, &self.config.account);
        let qr_svg = totp::qr_svg(&uri).ok_or(GuardError::Random)?;
        let enrollment = Enrollment { secret_base32: totp::base32(&secret), uri, qr_svg };
        *lock(&self.pending) = Some(Pending { secret, begun_at: now, wrong: 0, basis, destroys_old_seed });
        Ok(enrollment)
    }

    /// Drops a begun setup (Cancel, Escape, the window closing). `true` if there was one.
    pub fn cancel_enrollment(&self, now: DateTime<Utc>) -> Result<bool, GuardError> {
        let Some(p) = lock(&self.pending).take() else { return Ok(false) };
        if !expired(&p, now) {
            let event = guard_event(Action::GuardEnroll, now, Outcome::Failed, "2FA setup cancelled; nothing changed");
            self.store.record(&event)?;
        }
        Ok(true)
    }

    /// Checks a first code from the new secret, then stores the secret and returns fresh recovery
    /// codes (any old ones stop working). A wrong code counts in the backoff and is audited; the
    /// 3rd drops the setup, as do 10 minutes and any change to the guard since the setup began.
    pub fn confirm_enrollment(&self, code: &str, now: DateTime<Utc>) -> Result<RecoveryCodes, GuardError> {
        let mut slot = lock(&self.pending);
        let pending = slot.as_mut().ok_or(GuardError::NoPendingEnrollment)?;
        if expired(pending, now) {
            *slot = None;
            return Err(GuardError::EnrollmentExpired);
        }
        // A typo, not a guess: it cannot match anything, so it costs no try.
        let digits = totp_digits(code).ok_or(GuardError::NotACode)?;
        let mut conn = self.store.conn();
        let tx = immediate(&mut conn).map_err(|e| self.store.err(e))?;
        let mut s = state::load(&tx).map_err(|e| self.store.err(e))?;
        let wait = remaining(s.locked_until, now);
        if wait > 0 {
            return Err(GuardError::LockedOut { wait_secs: wait });
        }
        if self.basis_of(&s)? != pending.basis {
            *slot = None;
            let detail = "2FA setup refused: the guard changed since it began (set up or turned off elsewhere)";
            insert_audit(&tx, &guard_event(Action::GuardEnroll, now, Outcome::Failed, detail))
                .and_then(|()| tx.commit())
                .map_err(|e| self.store.err(e))?;
            return Err(GuardError::EnrollmentStale);
        }
        let Some(step) = totp::matching_step(&pending.secret, &digits, totp::step_of(now.timestamp())) else {
            pending.wrong += 1;
            let pause = count_failure(&mut s, now);
            let detail = format!("wrong first code for the new secret ({} of {ENROLL_TRIES})", pending.wrong);
            let write = || -> rusqlite::Result<()> {
                state::save(&tx, &s)?;
                insert_audit(&tx, &guard_event(Action::GuardEnroll, now, Outcome::Failed, detail))?;
                tx.commit()
            };
            write().map_err(|e| self.store.err(e))?;
            let tries_left = ENROLL_TRIES.saturating_sub(pending.wrong);
            if tries_left == 0 {
                *slot = None;
                return Err(GuardError::EnrollmentTriesExhausted);
            }
            return Err(match pause {
                Some(wait_secs) => GuardError::LockedOut { wait_secs },
                None => GuardError::WrongFirstCode { tries_left },
            });
        };
        let codes: Vec<SecretString> =
            (0..recovery::COUNT).map(|_| recovery::generate()).collect::<Option<_>>().ok_or(GuardError::Random)?;
        let hashes = recovery::hash_all(&codes, self.config.recovery_cost).ok_or(GuardError::Random)?;
        self.secrets.put_totp(&pending.secret)?;
        let detail = if pending.destroys_old_seed {
            "2FA set up; the old 2FA secret the database did not know was destroyed, as chosen"
        } else {
            "2FA set up"
        };
        let write = || -> rusqlite::Result<()> {
            let next = state::State {
                enrolled: true,
                last_step: Some(step),
                failures: 0,
                locked_until: None,
                generation: s.generation + 1,
            };
            state::save(&tx, &next)?;
            state::set_enrolled_at(&tx, Some(now))?;
            state::set_skipped_at(&tx, SKIPPED_SETTING, None)?;
            state::replace_recovery(&tx, &hashes)?;
            insert_audit(&tx, &guard_event(Action::GuardEnroll, now, Outcome::Ok, detail))?;
            tx.commit()
        };
        write().map_err(|e| self.store.err(e))?;
        *slot = None;
        Ok(RecoveryCodes { codes })
    }

    /// Like [`Guard::verify`], returning proof of it for an action that runs later in the same
    /// request (a rotation retires the old key only after saving the new one).
    pub fn verify_for_action(&self, code: &str, now: DateTime<Utc>) -> Result<Verified, GuardError> {
        self.verify(code, now).map(|()| Verified { _sealed: () })
    }

    /// Accepts a current TOTP code (once) or an unused recovery code.
    pub fn verify(&self, code: &str, now: DateTime<Utc>) -> Result<(), GuardError> {
        self.check(code, now, Against::Enrolled, Action::GuardVerify)
    }

    /// The whole check in one IMMEDIATE transaction: the lockout, the replay step, the failure
    /// count and a recovery code's use are read and written under the database's write lock, so
    /// no other process (or Guard) can interleave.
    fn check(&self, code: &str, now: DateTime<Utc>, against: Against, action: Action) -> Result<(), GuardError> {
        let mut conn = self.store.conn();
        let tx = immediate(&mut conn).map_err(|e| self.store.err(e))?;
        let mut s = state::load(&tx).map_err(|e| self.store.err(e))?;
        if !s.enrolled && against == Against::Enrolled {
            return Err(GuardError::NotEnrolled);
        }
        let wait = remaining(s.locked_until, now);
        if wait > 0 {
            return Err(GuardError::LockedOut { wait_secs: wait });
        }
        let accepted = if let Some(digits) = totp_digits(code) {
            match self.check_totp(&mut s, &digits, now) {
                // Refused without costing a try (see check_totp), but on the record as a failure.
                Err(GuardError::Replayed) => {
                    let event = guard_event(action, now, Outcome::Failed, "code already used (replayed)");
                    insert_audit(&tx, &event).and_then(|_| tx.commit()).map_err(|e| self.store.err(e))?;
                    return Err(GuardError::Replayed);
                }
                other => other?,
            }
        } else if recovery::normalize(code).is_some() {
            self.check_recovery(&tx, code, now)?
        } else {
            // A typo, not a guess: it cannot match anything, so it costs no try.
            return Err(GuardError::NotACode);
        };
        let (outcome, detail, refusal) = match accepted {
            Some(detail) => {
                s.failures = 0;
                s.locked_until = None;
                (Outcome::Ok, detail, None)
            }
            None => {
                let pause = count_failure(&mut s, now);
                let refusal = match pause {
                    Some(wait_secs) => GuardError::LockedOut { wait_secs },
                    None => GuardError::WrongCode { tries_left: FREE_FAILURES - s.failures },
                };
                (Outcome::Failed, format!("wrong code ({} in a row)", s.failures), Some(refusal))
            }
        };
        let write = || -> rusqlite::Result<()> {
            state::save(&tx, &s)?;
            insert_audit(&tx, &guard_event(action, now, outcome, detail))?;
            tx.commit()
        };
        write().map_err(|e| self.store.err(e))?;
        refusal.map_or(Ok(()), Err)
    }

    /// Turns 2FA off after a valid code: the keychain item and the recovery codes are removed.
    pub fn disable(&self, code: &str, now: DateTime<Utc>) -> Result<(), GuardError> {
        self.verify(code, now)?;
        let mut conn = self.store.conn();
        let tx = immediate(&mut conn).map_err(|e| self.store.err(e))?;
        let generation = state::load(&tx).map_err(|e| self.store.err(e))?.generation;
        self.secrets.delete_totp()?;
        let write = || -> rusqlite::Result<()> {
            state::save(&tx, &state::State { generation: generation + 1, ..state::State::default() })?;
            state::set_enrolled_at(&tx, None)?;
            state::replace_recovery(&tx, &[])?;
            insert_audit(&tx, &guard_event(Action::GuardDisable, now, Outcome::Ok, "2FA turned off"))?;
            tx.commit()
        };
        write().map_err(|e| self.store.err(e))?;
        *lock(&self.pending) = None;
        Ok(())
    }

    fn basis(&self, conn: &Connection) -> Result<Basis, GuardError> {
        let s = state::load(conn).map_err(|e| self.store.err(e))?;
        self.basis_of(&s)
    }

    fn basis_of(&self, s: &state::State) -> Result<Basis, GuardError> {
        let seed = self.secrets.get_totp()?.map(|secret| fingerprint(&secret));
        Ok(Basis { generation: s.generation, enrolled: s.enrolled, seed })
    }

    /// `Some(detail)` when the code matches a step newer than the last accepted one.
    fn check_totp(&self, s: &mut state::State, code: &str, now: DateTime<Utc>) -> Result<Option<String>, GuardError> {
        let missing = if s.enrolled { GuardError::SecretMissing } else { GuardError::NotEnrolled };
        let secret = self.secrets.get_totp()?.ok_or(missing)?;
        let Some(step) = totp::matching_step(&secret, code, totp::step_of(now.timestamp())) else {
            return Ok(None);
        };
        if s.last_step.is_some_and(|last| step <= last) {
            // A replay proves nothing new (whoever sends it already saw the code), so it does not
            // count as a failure; it is refused all the same.
            return Err(GuardError::Replayed);
        }
        s.last_step = Some(step);
        Ok(Some(
            if s.enrolled { "authenticator code" } else { "code from the 2FA secret left in the keychain" }.to_owned(),
        ))
    }

    fn check_recovery(&self, conn: &Connection, input: &str, now: DateTime<Utc>) -> Result<Option<String>, GuardError> {
        let Some(normalized) = recovery::normalize(input) else { return Ok(None) };
        let unused = state::unused_recovery(conn).map_err(|e| self.store.err(e))?;
        let Some(index) = unused.iter().position(|(_, h)| recovery::matches(&normalized, h)) else {
            return Ok(None);
        };
        let used = state::use_recovery(conn, unused[index].0, now).map_err(|e| self.store.err(e))?;
        Ok(used.then(|| format!("recovery code ({} left)", unused.len() - 1)))
    }
}

/// A write transaction taken at once (`BEGIN IMMEDIATE`): another process waits on the store's
/// busy timeout instead of reading state this one is about to change.
fn immediate(conn: &mut Connection) -> rusqlite::Result<rusqlite::Transaction<'_>> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
}

fn expired(p: &Pending, now: DateTime<Utc>) -> bool {
    // Either way: a clock set back by more than the lifetime does not keep a setup alive.
    (now - p.begun_at).num_seconds().abs() >= ENROLL_TTL_SECS
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
        assert!(GuardError::NotEnrolled.to_string().contains("“Set up 2FA” button at the top"));
        assert!(GuardError::PhraseRequired.to_string().contains("type REVOKE"));
        let wrong = GuardError::WrongCode { tries_left: 2 }.to_string();
        assert!(wrong.contains("clock") && wrong.contains("2 tries left"), "{wrong}");
    }
}
