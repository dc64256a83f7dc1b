//! Crash points for the crash-resume test (debug builds only; release builds compile none of this).
//!
//! Each journal write of a job names a [`Point`] (the runner's own, and each step state's: see
//! [`super::StepState::point`]), and so do the windows between an effect and its journal write
//! (a revoke's: the exchange has answered; the keychain item is deleted). When `LATCHKEY_CRASH_AT` names one, the process
//! stops right after that write has committed: it prints `LATCHKEY_CRASH_POINT <point> <key id|->`
//! on stderr and blocks forever, so a test can `kill -9` it in exactly that state and check that the
//! restart finishes the job with nothing lost (`crates/cli/tests/crash_resume.rs`).
//!
//! `LATCHKEY_CRASH_AT` is one of:
//! - `<point>`: the first time the point is passed;
//! - `<point>#<n>`: the n-th time (1-based);
//! - `<point>@<key id>`: the first time it is passed for that key;
//! - `trace`: never stops, prints `LATCHKEY_CRASH_TRACE <point> <key id|->` at every point passed,
//!   so a test can list the points a revoke goes through.
//!
//! While the variable is set, each engine also processes one key at a time (`serial`): when a point
//! fires, no other key is half-way through a remote call or a keychain wipe, so the state the test
//! kills is exactly the journal as written, not that plus whatever another task had in flight.
//! (A real crash can also land mid-call; `tests/revoke.rs` covers that case: the resume's delete is
//! refused, and the key's own signed call proves it gone.)
//!
//! The lines carry only point names and key ids, never a secret. With the variable unset, a point
//! costs one read of an initialised `OnceLock`.

#[cfg(not(debug_assertions))]
use crate::model::KeyId;

pub const ENV: &str = "LATCHKEY_CRASH_AT";

/// A journal write a job can be killed right after (the revoke steps' and the runner's).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Point {
    /// The job and its steps (all `planned`) are written.
    JobCreated,
    /// A step is `remote_started`: the remote call is about to be made.
    RemoteStarted,
    /// Not a write: the exchange has answered the remote revoke, and its answer is not journaled
    /// yet. The window the `remote_started` write exists for: a resume calls again.
    RemoteAnswered,
    /// A step is `remote_done` with the remote result recorded (also the "wipe anyway" record).
    RemoteDone,
    /// A step is `wiping`: the keychain item is about to be deleted.
    Wiping,
    /// Not a write: the keychain item is deleted, the key's last write not done yet.
    Wiped,
    /// The key's last write, revoked: status, step `done` and audit entry in one transaction.
    Done,
    /// The key's last write, quarantined: status, step `failed` and audit entry in one transaction.
    Quarantined,
    /// A step whose key was deleted meanwhile is marked `done`.
    Skipped,
    /// The job is marked finished.
    JobFinished,
    /// An automatic rotation's step is `creating`: the create call is about to be made.
    Creating,
    /// Not a write: the exchange answered the create, and the new secret is not in the keychain
    /// yet. The window the `creating` write exists for: a resume finds the key by its label.
    CreateAnswered,
    /// `created`: the new secret is in the keychain.
    Created,
    /// `verified`: the new key answered a signed read.
    Verified,
    /// `stored`: the new key is saved under the label, the old one renamed.
    Stored,
    /// `handed_over`: the bots moved (or the grace period is over).
    HandedOver,
    /// `retiring`: the old key's revoke job is about to start.
    Retiring,
    /// A rotation's last write, done: step `done` and audit entry in one transaction.
    Rotated,
    /// A rotation's last write, failed (the old key stays in use).
    RotationFailed,
}

impl Point {
    /// The points a revoke job passes (the runner's and the revoke steps').
    pub const REVOKE: [Point; 10] = [
        Point::JobCreated,
        Point::RemoteStarted,
        Point::RemoteAnswered,
        Point::RemoteDone,
        Point::Wiping,
        Point::Wiped,
        Point::Done,
        Point::Quarantined,
        Point::Skipped,
        Point::JobFinished,
    ];

    /// The points an automatic rotation's own steps pass.
    pub const ROTATION: [Point; 9] = [
        Point::Creating,
        Point::CreateAnswered,
        Point::Created,
        Point::Verified,
        Point::Stored,
        Point::HandedOver,
        Point::Retiring,
        Point::Rotated,
        Point::RotationFailed,
    ];

    pub fn all() -> impl Iterator<Item = Point> {
        Point::REVOKE.into_iter().chain(Point::ROTATION)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Point::JobCreated => "job_created",
            Point::RemoteStarted => "remote_started",
            Point::RemoteAnswered => "remote_answered",
            Point::RemoteDone => "remote_done",
            Point::Wiping => "wiping",
            Point::Wiped => "wiped",
            Point::Done => "done",
            Point::Quarantined => "quarantined",
            Point::Skipped => "skipped",
            Point::JobFinished => "job_finished",
            Point::Creating => "creating",
            Point::CreateAnswered => "create_answered",
            Point::Created => "created",
            Point::Verified => "verified",
            Point::Stored => "stored",
            Point::HandedOver => "handed_over",
            Point::Retiring => "retiring",
            Point::Rotated => "rotated",
            Point::RotationFailed => "rotation_failed",
        }
    }

    pub fn parse(s: &str) -> Option<Point> {
        Point::all().find(|p| p.as_str() == s)
    }
}

/// Holds the one-key-at-a-time lock while crash points are armed; nothing otherwise.
#[must_use]
pub(crate) struct Serial {
    #[cfg(debug_assertions)]
    _guard: Option<tokio::sync::OwnedMutexGuard<()>>,
}

#[cfg(not(debug_assertions))]
#[inline(always)]
pub(crate) fn hit(_point: Point, _key: Option<KeyId>) {}

#[cfg(not(debug_assertions))]
#[inline(always)]
pub(crate) async fn serial(_engine: &'static str) -> Serial {
    Serial {}
}

#[cfg(debug_assertions)]
pub(crate) use armed::{hit, serial};

#[cfg(debug_assertions)]
mod armed {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::{Arc, OnceLock};

    use super::{Point, Serial, ENV};
    use crate::model::KeyId;

    enum Target {
        Trace,
        At { point: Point, key: Option<KeyId>, nth: u32 },
    }

    struct Armed {
        target: Target,
        passed: AtomicU32,
        /// One lock per engine: a job that runs another's (a rotation retiring its old key
        /// through the revoke engine) waits for it while holding its own.
        serial: std::sync::Mutex<std::collections::HashMap<&'static str, Arc<tokio::sync::Mutex<()>>>>,
    }

    fn armed() -> Option<&'static Armed> {
        static ARMED: OnceLock<Option<Armed>> = OnceLock::new();
        ARMED.get_or_init(|| parse(&std::env::var(ENV).ok()?)).as_ref()
    }

    fn parse(value: &str) -> Option<Armed> {
        let value = value.trim();
        if value.is_empty() {
            return None;
        }
        let target = if value == "trace" {
            Target::Trace
        } else {
            let (rest, nth) = match value.split_once('#') {
                Some((rest, n)) => (rest, n.parse().ok().filter(|n| *n > 0)),
                None => (value, Some(1)),
            };
            let (name, key) = match rest.split_once('@') {
                Some((name, key)) => (name, key.parse().ok().map(Some)),
                None => (rest, Some(None)),
            };
            match (Point::parse(name), key, nth) {
                (Some(point), Some(key), Some(nth)) => Target::At { point, key, nth },
                _ => {
                    let known: Vec<&str> = Point::all().map(|p| p.as_str()).collect();
                    eprintln!(
                        "{ENV}={value} is not understood: use trace, POINT, POINT#N or POINT@KEY_ID, POINT one of {}",
                        known.join(", ")
                    );
                    return None;
                }
            }
        };
        Some(Armed { target, passed: AtomicU32::new(0), serial: Default::default() })
    }

    fn key_text(key: Option<KeyId>) -> String {
        key.map_or_else(|| "-".to_owned(), |k| k.to_string())
    }

    /// Called right after the write for `point` has committed (or its effect has happened).
    pub(crate) fn hit(point: Point, key: Option<KeyId>) {
        let Some(armed) = armed() else { return };
        match armed.target {
            Target::Trace => eprintln!("LATCHKEY_CRASH_TRACE {} {}", point.as_str(), key_text(key)),
            Target::At { point: p, key: k, nth } => {
                if p != point || k.is_some_and(|k| Some(k) != key) {
                    return;
                }
                if armed.passed.fetch_add(1, Ordering::SeqCst) + 1 != nth {
                    return;
                }
                eprintln!("LATCHKEY_CRASH_POINT {} {}", point.as_str(), key_text(key));
                // Blocks this thread (and, through the serial lock, every other key) until killed.
                loop {
                    std::thread::park();
                }
            }
        }
    }

    pub(crate) async fn serial(engine: &'static str) -> Serial {
        let Some(armed) = armed() else { return Serial { _guard: None } };
        let lock = armed.serial.lock().unwrap_or_else(|p| p.into_inner()).entry(engine).or_default().clone();
        Serial { _guard: Some(lock.lock_owned().await) }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn target(value: &str) -> Option<(Point, Option<KeyId>, u32)> {
            match parse(value)?.target {
                Target::At { point, key, nth } => Some((point, key, nth)),
                Target::Trace => None,
            }
        }

        #[test]
        fn the_variable_names_a_point_an_occurrence_or_a_key() {
            assert!(parse("").is_none() && parse("  ").is_none(), "unset or blank: not armed");
            assert!(matches!(parse("trace").map(|a| a.target), Some(Target::Trace)));
            assert_eq!(target("wiping"), Some((Point::Wiping, None, 1)));
            assert_eq!(target("remote_done#3"), Some((Point::RemoteDone, None, 3)));
            let key = KeyId::random();
            assert_eq!(target(&format!("done@{key}")), Some((Point::Done, Some(key), 1)));
            assert_eq!(target(&format!("done@{key}#2")), Some((Point::Done, Some(key), 2)));
            for bad in ["wipe", "done#0", "done#x", "done@not-a-key", "DONE"] {
                assert!(parse(bad).is_none(), "{bad} must not arm anything");
            }
            for p in Point::all() {
                assert_eq!(Point::parse(p.as_str()), Some(p));
            }
        }
    }
}
