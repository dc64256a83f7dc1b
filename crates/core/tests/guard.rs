//! The 2FA guard end to end: enrollment, oathtool cross-check, replay, backoff across a restart,
//! recovery codes, re-enroll and disable.
#![allow(clippy::unwrap_used)]

use std::process::Command;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use latchkey_core::guard::{totp, Guard, GuardConfig, GuardError, HashCost};
use latchkey_core::keychain::memory::MemoryStore;
use latchkey_core::store::Store;
use secrecy::{ExposeSecret, SecretSlice};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 9, 30, 5).unwrap()
}

fn guard(dir: &std::path::Path, secrets: &Arc<MemoryStore>) -> Guard {
    let store = Arc::new(Store::open_in(dir).unwrap());
    Guard::new(store, secrets.clone(), GuardConfig { recovery_cost: HashCost::fast_for_tests(), ..Default::default() })
}

fn code(secret: &SecretSlice<u8>, at: DateTime<Utc>) -> String {
    totp::code_at_step(secret, totp::step_of(at.timestamp())).unwrap().to_string()
}

/// Enrolls and returns the secret as the user's authenticator knows it, plus the recovery codes.
fn enroll(g: &Guard, now: DateTime<Utc>) -> (SecretSlice<u8>, Vec<String>) {
    let e = g.begin_enrollment(None, now).unwrap();
    let secret = totp::from_base32(e.secret_base32.expose_secret()).unwrap();
    let codes = g.confirm_enrollment(&code(&secret, now), now).unwrap();
    (secret, codes.codes.iter().map(|c| c.expose_secret().to_owned()).collect())
}

#[test]
fn enrollment_needs_a_first_valid_code() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = Arc::new(MemoryStore::default());
    let g = guard(dir.path(), &secrets);
    assert!(matches!(g.verify("123456", t0()), Err(GuardError::NotEnrolled)));
    assert!(GuardError::NotEnrolled.to_string().contains("Settings → Two-factor"));
    let e = g.begin_enrollment(None, t0()).unwrap();
    let uri = e.uri.expose_secret();
    assert!(uri.starts_with("otpauth://totp/Latchkey:") && uri.contains("issuer=Latchkey"), "{uri}");
    assert!(uri.contains(&format!("secret={}", e.secret_base32.expose_secret())));
    assert!(e.qr_svg.expose_secret().contains("<svg"));
    assert!(!format!("{e:?}").contains(e.secret_base32.expose_secret()), "Debug is redacted");
    assert!(g.status(t0()).unwrap().setup_in_progress);
    assert!(!g.status(t0()).unwrap().enrolled, "not enrolled before the first code");
    let secret = totp::from_base32(e.secret_base32.expose_secret()).unwrap();
    let wrong = code(&secret, t0() + Duration::minutes(5));
    assert!(matches!(g.confirm_enrollment(&wrong, t0()), Err(GuardError::WrongCode { .. })));
    let codes = g.confirm_enrollment(&code(&secret, t0()), t0()).unwrap();
    assert_eq!(codes.codes.len(), 10);
    let status = g.status(t0()).unwrap();
    assert!(status.enrolled && !status.setup_in_progress);
    assert_eq!(status.recovery_codes_left, 10);
    // The code that confirmed enrollment cannot be used again.
    assert!(matches!(g.verify(&code(&secret, t0()), t0()), Err(GuardError::Replayed)));
}

#[test]
fn oathtool_codes_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = Arc::new(MemoryStore::default());
    let g = guard(dir.path(), &secrets);
    let e = g.begin_enrollment(None, t0()).unwrap();
    let oath = |at: DateTime<Utc>| -> String {
        let out = Command::new("oathtool")
            .args(["--totp", "-b", "--now", &at.format("%Y-%m-%d %H:%M:%S UTC").to_string()])
            .arg(e.secret_base32.expose_secret())
            .output()
            .expect("oathtool is required for this test: install it with `apt-get install oathtool`");
        assert!(out.status.success(), "oathtool failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let first = oath(t0());
    assert_eq!(first.len(), 6);
    g.confirm_enrollment(&first, t0()).unwrap();
    let later = t0() + Duration::seconds(90);
    g.verify(&oath(later), later).unwrap();
    // Drift: a code from the previous step is still accepted once.
    let next = later + Duration::seconds(60);
    g.verify(&oath(next - Duration::seconds(30)), next).unwrap();
}

#[test]
fn replay_is_refused_and_does_not_count_as_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = Arc::new(MemoryStore::default());
    let g = guard(dir.path(), &secrets);
    let (secret, _) = enroll(&g, t0());
    let at = t0() + Duration::seconds(60);
    let c = code(&secret, at);
    g.verify(&c, at).unwrap();
    let err = g.verify(&c, at + Duration::seconds(10)).unwrap_err();
    assert!(matches!(err, GuardError::Replayed), "{err}");
    assert!(err.to_string().contains("already used"));
    // An older step than the last accepted one is refused too.
    assert!(matches!(g.verify(&code(&secret, at - Duration::seconds(30)), at), Err(GuardError::Replayed)));
    assert_eq!(g.status(at).unwrap().failures, 0);
}

#[test]
fn backoff_doubles_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = Arc::new(MemoryStore::default());
    let (secret, _) = {
        let g = guard(dir.path(), &secrets);
        enroll(&g, t0())
    };
    let mut now = t0() + Duration::seconds(60);
    let wrong = |at: DateTime<Utc>| {
        let right = code(&secret, at);
        let wrong: String = right.chars().map(|c| if c == '9' { '0' } else { char::from(c as u8 + 1) }).collect();
        wrong
    };
    {
        let g = guard(dir.path(), &secrets);
        // Typos that cannot be a code are named as such and cost no try.
        for typo in ["12345", "abcdef", "1234567", "xyz-123", ""] {
            assert!(matches!(g.verify(typo, now), Err(GuardError::NotACode)), "{typo:?}");
        }
        for i in 1..=4 {
            let err = g.verify(&wrong(now), now).unwrap_err();
            assert!(matches!(err, GuardError::WrongCode { tries_left } if tries_left == 5 - i), "{err}");
        }
        let err = g.verify(&wrong(now), now).unwrap_err();
        assert!(matches!(err, GuardError::LockedOut { wait_secs: 30 }), "{err}");
    }
    // Restart: the pause is still there, and even a right code waits.
    let g = guard(dir.path(), &secrets);
    assert_eq!(g.status(now).unwrap().locked_for_secs, 30);
    let err = g.verify(&code(&secret, now), now).unwrap_err();
    assert!(err.to_string().contains("Too many wrong codes: try again in 30 s"), "{err}");
    now += Duration::seconds(31);
    let err = g.verify(&wrong(now), now).unwrap_err();
    assert!(matches!(err, GuardError::LockedOut { wait_secs: 60 }), "6th failure doubles: {err}");
    now += Duration::seconds(61);
    let err = g.verify(&wrong(now), now).unwrap_err();
    assert!(err.to_string().contains("try again in 2 min"), "{err}");
    now += Duration::seconds(121);
    g.verify(&code(&secret, now), now).unwrap();
    assert_eq!(g.status(now).unwrap().failures, 0, "a right code resets the count");
}

#[test]
fn recovery_codes_work_once() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = Arc::new(MemoryStore::default());
    let g = guard(dir.path(), &secrets);
    let (_, codes) = enroll(&g, t0());
    let stored: String = g_recovery_hashes(dir.path());
    for c in &codes {
        assert!(!stored.contains(c.as_str()), "only hashes are stored");
    }
    let typed = codes[3].to_uppercase().replace('-', " ");
    g.verify(&typed, t0()).unwrap();
    assert_eq!(g.status(t0()).unwrap().recovery_codes_left, 9);
    let err = g.verify(&codes[3], t0()).unwrap_err();
    assert!(matches!(err, GuardError::WrongCode { .. }), "a used code is just wrong now: {err}");
    g.verify(&codes[4], t0()).unwrap();
    assert_eq!(g.status(t0()).unwrap().recovery_codes_left, 8);
}

fn g_recovery_hashes(dir: &std::path::Path) -> String {
    let db = std::fs::read(dir.join(latchkey_core::paths::DB_FILE)).unwrap();
    let wal = std::fs::read(dir.join(format!("{}-wal", latchkey_core::paths::DB_FILE))).unwrap_or_default();
    String::from_utf8_lossy(&[db, wal].concat()).into_owned()
}

#[test]
fn re_enrolling_and_disabling_need_a_valid_code() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = Arc::new(MemoryStore::default());
    let g = guard(dir.path(), &secrets);
    let (old, old_codes) = enroll(&g, t0());
    assert!(matches!(g.begin_enrollment(None, t0()), Err(GuardError::CodeRequired)));
    let at = t0() + Duration::seconds(30);
    let e = g.begin_enrollment(Some(&code(&old, at)), at).unwrap();
    let new = totp::from_base32(e.secret_base32.expose_secret()).unwrap();
    let at = at + Duration::seconds(30);
    g.confirm_enrollment(&code(&new, at), at).unwrap();
    assert!(matches!(g.verify(&old_codes[0], at), Err(GuardError::WrongCode { .. })), "old recovery codes die");
    let at = at + Duration::seconds(30);
    assert!(g.disable(&code(&old, at), at).is_err(), "the old secret no longer works");
    g.disable(&code(&new, at), at).unwrap();
    assert!(!g.status(at).unwrap().enrolled);
    assert!(secrets.get_item_for_tests().is_none(), "the keychain item is gone");
}

trait TotpItem {
    fn get_item_for_tests(&self) -> Option<()>;
}

impl TotpItem for MemoryStore {
    fn get_item_for_tests(&self) -> Option<()> {
        use latchkey_core::guard::GuardSecretStore;
        self.get_totp().unwrap().map(|_| ())
    }
}
