//! The 2FA guard end to end: enrollment, oathtool cross-check, replay, backoff across a restart,
//! recovery codes, re-enroll and disable.
#![allow(clippy::unwrap_used)]

use std::process::Command;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use latchkey_core::guard::{totp, Guard, GuardConfig, GuardError, HashCost, FREE_FAILURES};
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
    assert!(GuardError::NotEnrolled.to_string().contains("“Set up 2FA” button at the top"));
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
    assert!(matches!(g.confirm_enrollment(&wrong, t0()), Err(GuardError::WrongFirstCode { .. })));
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

fn audit_details(g_dir: &std::path::Path, action: &str, outcome: &str) -> Vec<String> {
    let store = Store::open_in(g_dir).unwrap();
    store
        .audit_log(1000)
        .unwrap()
        .into_iter()
        .filter(|e| e.action == action && e.outcome == outcome)
        .map(|e| e.detail)
        .collect()
}

/// A code from another step than now: never the right one for `at`.
fn wrong_code(secret: &SecretSlice<u8>, at: DateTime<Utc>) -> String {
    let right = code(secret, at);
    (0..1_000_000)
        .map(|n| format!("{n:06}"))
        .find(|c| *c != right && totp::matching_step(secret, c, totp::step_of(at.timestamp())).is_none())
        .unwrap()
}

fn pending_secret(g: &Guard, current: Option<&str>, at: DateTime<Utc>) -> SecretSlice<u8> {
    let e = g.begin_enrollment(current, at).unwrap();
    totp::from_base32(e.secret_base32.expose_secret()).unwrap()
}

#[test]
fn a_wrong_first_code_counts_in_the_backoff_and_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = Arc::new(MemoryStore::default());
    let g = guard(dir.path(), &secrets);
    let new = pending_secret(&g, None, t0());
    let err = g.confirm_enrollment(&wrong_code(&new, t0()), t0()).unwrap_err();
    assert!(matches!(err, GuardError::WrongFirstCode { tries_left: 2 }), "{err}");
    assert!(err.to_string().contains("2 tries left before this setup is cancelled"), "{err}");
    assert_eq!(g.status(t0()).unwrap().failures, 1, "a wrong first code is a failure like any other");
    assert_eq!(audit_details(dir.path(), "guard_enroll", "failed").len(), 1, "and it is audited");
    // A typo costs nothing.
    assert!(matches!(g.confirm_enrollment("12 34", t0()), Err(GuardError::NotACode)));
    assert_eq!(g.status(t0()).unwrap().failures, 1);
    // The right code still works and clears the count.
    g.confirm_enrollment(&code(&new, t0()), t0()).unwrap();
    assert_eq!(g.status(t0()).unwrap().failures, 0);
}

#[test]
fn a_setup_is_dropped_after_three_wrong_codes() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = Arc::new(MemoryStore::default());
    let g = guard(dir.path(), &secrets);
    let new = pending_secret(&g, None, t0());
    let wrong = wrong_code(&new, t0());
    for _ in 0..2 {
        assert!(matches!(g.confirm_enrollment(&wrong, t0()), Err(GuardError::WrongFirstCode { .. })));
    }
    let err = g.confirm_enrollment(&wrong, t0()).unwrap_err();
    assert!(matches!(err, GuardError::EnrollmentTriesExhausted), "{err}");
    assert!(!g.status(t0()).unwrap().setup_in_progress);
    // Even the right code cannot confirm a dropped setup: no brute force over 10^6 codes.
    let err = g.confirm_enrollment(&code(&new, t0()), t0()).unwrap_err();
    assert!(matches!(err, GuardError::NoPendingEnrollment), "{err}");
    assert!(!g.status(t0()).unwrap().enrolled);
    assert_eq!(g.status(t0()).unwrap().failures, 3);
    assert_eq!(audit_details(dir.path(), "guard_enroll", "failed").len(), 3);
}

#[test]
fn a_begun_re_enrolment_cannot_be_brute_forced_into_fresh_recovery_codes() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = Arc::new(MemoryStore::default());
    let g = guard(dir.path(), &secrets);
    let (old, _) = enroll(&g, t0());
    let at = t0() + Duration::seconds(30);
    let _new = pending_secret(&g, Some(&code(&old, at)), at);
    // Script in the web view guesses without the secret: after the 3rd wrong guess the setup is gone,
    // and every guess counted towards the pause.
    let guesses: Vec<String> = (0..10).map(|n| format!("{n:06}")).collect();
    let mut outcomes = Vec::new();
    for c in &guesses {
        outcomes.push(g.confirm_enrollment(c, at).map(|_| ()).unwrap_err().kind());
    }
    assert_eq!(outcomes[..3], ["wrong_code", "wrong_code", "enrollment_tries_exhausted"], "{outcomes:?}");
    assert!(outcomes[3..].iter().all(|k| *k == "no_pending_enrollment"), "{outcomes:?}");
    assert_eq!(g.status(at).unwrap().failures, 3);
}

#[test]
fn a_setup_expires_after_ten_minutes() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = Arc::new(MemoryStore::default());
    let g = guard(dir.path(), &secrets);
    let new = pending_secret(&g, None, t0());
    let late = t0() + Duration::minutes(10);
    assert!(!g.status(late).unwrap().setup_in_progress);
    let err = g.confirm_enrollment(&code(&new, late), late).unwrap_err();
    assert!(matches!(err, GuardError::EnrollmentExpired), "{err}");
    assert!(err.to_string().contains("10 minutes"), "{err}");
    assert!(matches!(g.confirm_enrollment(&code(&new, late), late), Err(GuardError::NoPendingEnrollment)));
    // Within the ten minutes it works.
    let new = pending_secret(&g, None, late);
    let at = late + Duration::minutes(9);
    g.confirm_enrollment(&code(&new, at), at).unwrap();
}

#[test]
fn a_cancelled_setup_cannot_be_confirmed() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = Arc::new(MemoryStore::default());
    let g = guard(dir.path(), &secrets);
    let new = pending_secret(&g, None, t0());
    assert!(g.cancel_enrollment(t0()).unwrap());
    assert!(!g.cancel_enrollment(t0()).unwrap(), "nothing left to cancel");
    assert!(!g.status(t0()).unwrap().setup_in_progress);
    assert!(matches!(g.confirm_enrollment(&code(&new, t0()), t0()), Err(GuardError::NoPendingEnrollment)));
    assert_eq!(audit_details(dir.path(), "guard_enroll", "failed"), ["2FA setup cancelled; nothing changed"]);
}

#[test]
fn a_setup_begun_before_another_enrolment_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = Arc::new(MemoryStore::default());
    // The app begins a setup; the CLI (another Guard on the same database) enrolls meanwhile.
    let app = guard(dir.path(), &secrets);
    let stale = pending_secret(&app, None, t0());
    let cli = guard(dir.path(), &secrets);
    let (cli_secret, _) = enroll(&cli, t0());
    let at = t0() + Duration::seconds(30);
    let err = app.confirm_enrollment(&code(&stale, at), at).unwrap_err();
    assert!(matches!(err, GuardError::EnrollmentStale), "{err}");
    // The CLI's enrolment stands: its secret still verifies, the stale one does not.
    assert!(matches!(app.verify(&code(&stale, at), at), Err(GuardError::WrongCode { .. })));
    app.verify(&code(&cli_secret, at + Duration::seconds(30)), at + Duration::seconds(30)).unwrap();
    // Turning 2FA off elsewhere makes a begun re-enrolment stale too.
    let at = at + Duration::seconds(60);
    let _pending = pending_secret(&app, Some(&code(&cli_secret, at)), at);
    let at = at + Duration::seconds(30);
    cli.disable(&code(&cli_secret, at), at).unwrap();
    assert!(matches!(app.confirm_enrollment(&code(&_pending, at), at), Err(GuardError::EnrollmentStale)));
    assert!(!app.status(at).unwrap().enrolled);
}

#[test]
fn a_reset_database_needs_a_code_from_the_secret_left_in_the_keychain() {
    let secrets = Arc::new(MemoryStore::default());
    let old_dir = tempfile::tempdir().unwrap();
    let (old, _) = enroll(&guard(old_dir.path(), &secrets), t0());
    // The database is moved aside (as the corruption message advises); the keychain keeps the seed.
    let dir = tempfile::tempdir().unwrap();
    let g = guard(dir.path(), &secrets);
    assert!(!g.status(t0()).unwrap().enrolled);
    let err = g.begin_enrollment(None, t0()).unwrap_err();
    assert!(matches!(err, GuardError::OldSeedExists), "{err}");
    assert!(err.to_string().contains("destroy the old secret"), "{err}");
    let at = t0() + Duration::seconds(30);
    let err = g.begin_enrollment(Some(&wrong_code(&old, at)), at).err().unwrap();
    assert!(matches!(err, GuardError::WrongCode { .. }), "{err}");
    assert_eq!(g.status(at).unwrap().failures, 1, "a wrong code for the old seed counts");
    // A code from the old seed lets the new setup begin; it then replaces the old seed.
    let new = pending_secret(&g, Some(&code(&old, at)), at);
    g.confirm_enrollment(&code(&new, at), at).unwrap();
    assert!(g.status(at).unwrap().enrolled);
    let ok = audit_details(dir.path(), "guard_enroll", "ok");
    assert_eq!(ok, ["2FA set up"]);
}

#[test]
fn destroying_a_forgotten_secret_is_an_explicit_audited_choice() {
    let secrets = Arc::new(MemoryStore::default());
    let old_dir = tempfile::tempdir().unwrap();
    let (old, _) = enroll(&guard(old_dir.path(), &secrets), t0());
    let dir = tempfile::tempdir().unwrap();
    let g = guard(dir.path(), &secrets);
    let e = g.begin_enrollment_destroying_old_seed(t0()).unwrap();
    let new = totp::from_base32(e.secret_base32.expose_secret()).unwrap();
    g.confirm_enrollment(&code(&new, t0()), t0()).unwrap();
    let ok = audit_details(dir.path(), "guard_enroll", "ok");
    assert_eq!(ok.len(), 1);
    assert!(ok[0].contains("old 2FA secret") && ok[0].contains("destroyed"), "{ok:?}");
    let at = t0() + Duration::seconds(30);
    assert!(g.verify(&code(&old, at), at).is_err(), "the old seed is gone");
    // The choice never skips the code an enrolled guard needs.
    assert!(matches!(g.begin_enrollment_destroying_old_seed(at), Err(GuardError::CodeRequired)));
}

/// Several Guards on one database (the app and CLI processes stand behind them), each with its own
/// connection, all released at once.
fn race<T: Send>(
    dir: &std::path::Path,
    secrets: &Arc<MemoryStore>,
    n: usize,
    f: impl Fn(&Guard) -> T + Sync,
) -> Vec<T> {
    let guards: Vec<Guard> = (0..n).map(|_| guard(dir, secrets)).collect();
    let barrier = std::sync::Barrier::new(n);
    std::thread::scope(|s| {
        let handles: Vec<_> = guards
            .iter()
            .map(|g| {
                let (barrier, f) = (&barrier, &f);
                s.spawn(move || {
                    barrier.wait();
                    f(g)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

#[test]
fn one_code_is_accepted_once_across_guards_on_one_database() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = Arc::new(MemoryStore::default());
    let (secret, _) = enroll(&guard(dir.path(), &secrets), t0());
    for round in 1..=10 {
        let at = t0() + Duration::seconds(30 * round);
        let c = code(&secret, at);
        let results = race(dir.path(), &secrets, 6, |g| g.verify(&c, at).map_err(|e| e.kind()));
        let accepted = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(accepted, 1, "round {round}: {results:?}");
        assert!(
            results.iter().all(|r| r.is_ok() || *r == Err(latchkey_core::error::ErrorCode::CodeReused)),
            "{results:?}"
        );
    }
}

#[test]
fn parallel_wrong_codes_are_all_counted() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = Arc::new(MemoryStore::default());
    let (secret, _) = enroll(&guard(dir.path(), &secrets), t0());
    let at = t0() + Duration::seconds(30);
    let wrong = wrong_code(&secret, at);
    let results = race(dir.path(), &secrets, 4, |g| g.verify(&wrong, at).unwrap_err().kind());
    assert!(results.iter().all(|k| *k == "wrong_code"), "{results:?}");
    let g = guard(dir.path(), &secrets);
    assert_eq!(g.status(at).unwrap().failures, 4, "no failure lost");
    // Past the free tries, exactly one more guess is evaluated; the rest meet the pause.
    let results = race(dir.path(), &secrets, 6, |g| g.verify(&wrong, at).unwrap_err().kind());
    assert!(results.iter().all(|k| *k == "locked_out"), "{results:?}");
    assert_eq!(g.status(at).unwrap().failures, 5, "the pause started at the 5th and held");
    assert_eq!(audit_details(dir.path(), "guard_verify", "failed").len(), 5, "each evaluated guess audited once");
}

#[test]
fn accepting_a_replaced_audit_log_needs_a_code_and_is_audited() {
    use latchkey_core::audit::anchor::AnchorCheck;
    let secrets = Arc::new(MemoryStore::default());
    let anchored_guard = |dir: &std::path::Path| {
        let store = Arc::new(Store::open_in(dir).unwrap());
        store.anchor_audit_in(secrets.clone());
        let g = Guard::new(
            store.clone(),
            secrets.clone(),
            GuardConfig { recovery_cost: HashCost::fast_for_tests(), ..Default::default() },
        );
        (store, g)
    };
    let old_dir = tempfile::tempdir().unwrap();
    let (old, _) = enroll(&anchored_guard(old_dir.path()).1, t0());
    // The database is moved aside: the new log does not reach the anchored end.
    let dir = tempfile::tempdir().unwrap();
    let (store, g) = anchored_guard(dir.path());
    let at = t0() + Duration::seconds(30);
    let new = pending_secret(&g, Some(&code(&old, at)), at);
    g.confirm_enrollment(&code(&new, at), at).unwrap();
    let check = store.verify_audit_chain().unwrap().anchor.unwrap();
    assert!(matches!(check, AnchorCheck::Rewritten { .. } | AnchorCheck::Truncated { .. }), "{check:?}");
    // Accepting it takes a valid code, and says what the anchor had recorded.
    let at = at + Duration::seconds(30);
    let proof = g.verify_for_action(&code(&new, at), at).unwrap();
    assert!(store.accept_audit_log(proof, at).unwrap());
    let report = store.verify_audit_chain().unwrap();
    assert!(report.intact, "{report:?}");
    assert_eq!(report.anchor, Some(AnchorCheck::Matches));
    let accepted = audit_details(dir.path(), "audit_accept", "ok");
    assert_eq!(accepted.len(), 1);
    assert!(accepted[0].contains("had recorded 1 entries"), "{accepted:?}");
}

#[test]
fn a_replayed_code_is_audited_as_a_failure_without_costing_a_try() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = Arc::new(MemoryStore::default());
    let g = guard(dir.path(), &secrets);
    let (secret, _) = enroll(&g, t0());
    let at = t0() + Duration::seconds(30);
    let c = code(&secret, at);
    g.verify(&c, at).unwrap();
    assert!(matches!(g.verify(&c, at), Err(GuardError::Replayed)));
    assert_eq!(audit_details(dir.path(), "guard_verify", "failed"), ["code already used (replayed)"]);
    assert_eq!(g.status(at).unwrap().failures, 0, "whoever replays a code already saw it: no guess, no try");
}

/// Issue 11, item 1: the typed phrase stands in for a code only while 2FA is not set up; once it
/// is, the phrase is refused (else it would be a bypass), audited, and costs no try.
#[test]
fn the_typed_revoke_phrase_works_only_while_2fa_is_off() {
    use latchkey_core::guard::REVOKE_PHRASE;
    let dir = tempfile::tempdir().unwrap();
    let secrets = Arc::new(MemoryStore::default());
    let g = guard(dir.path(), &secrets);
    for wrong in ["revoke", "123456", "REVOKE ALL", ""] {
        assert!(
            matches!(g.authorize_revoke(wrong, "emergency revoke", t0()), Err(GuardError::PhraseRequired)),
            "{wrong:?}"
        );
    }
    g.authorize_revoke(REVOKE_PHRASE, "emergency revoke", t0()).unwrap();
    g.authorize_revoke(" REVOKE\n", "retry revoke", t0()).unwrap();
    let ok = audit_details(dir.path(), "unguarded", "ok");
    assert_eq!(ok.len(), 2, "{ok:?}");
    assert!(ok.iter().any(|d| d == "emergency revoke without 2FA (not set up): confirmed by typing REVOKE"), "{ok:?}");

    let (secret, _) = enroll(&g, t0());
    let later = t0() + Duration::seconds(60);
    for _ in 0..(FREE_FAILURES + 1) {
        assert!(matches!(g.authorize_revoke(REVOKE_PHRASE, "emergency revoke", later), Err(GuardError::PhraseRefused)));
    }
    assert_eq!(audit_details(dir.path(), "unguarded", "failed").len(), FREE_FAILURES as usize + 1);
    let status = g.status(later).unwrap();
    assert_eq!((status.failures, status.locked_for_secs), (0, 0), "the phrase cannot be a guess at a code");
    assert!(matches!(g.authorize_revoke("000000", "emergency revoke", later), Err(GuardError::WrongCode { .. })));
    g.authorize_revoke(&code(&secret, later), "emergency revoke", later).unwrap();
    assert_eq!(audit_details(dir.path(), "guard_verify", "ok").len(), 1);
}

/// Issue 11, item 1: "skip 2FA for now" is stated once, recorded with what was accepted, and
/// cleared by a later setup (so turning 2FA off later asks again).
#[test]
fn skipping_2fa_is_recorded_once_and_cleared_by_a_setup() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = Arc::new(MemoryStore::default());
    let g = guard(dir.path(), &secrets);
    assert!(!g.status(t0()).unwrap().setup_skipped);
    assert!(g.skip_setup("anyone at this computer can revoke my keys by typing REVOKE", t0()).unwrap());
    assert!(g.status(t0()).unwrap().setup_skipped);
    assert!(guard(dir.path(), &secrets).status(t0()).unwrap().setup_skipped, "kept across a restart");
    let skipped = audit_details(dir.path(), "guard_skip", "ok");
    assert_eq!(
        skipped,
        ["2FA setup skipped; the user accepted: anyone at this computer can revoke my keys by typing REVOKE"]
    );

    let (secret, _) = enroll(&g, t0());
    assert!(!g.status(t0()).unwrap().setup_skipped, "set up: nothing skipped");
    assert!(!g.skip_setup("whatever", t0()).unwrap(), "nothing to skip while 2FA is on");
    assert_eq!(audit_details(dir.path(), "guard_skip", "ok").len(), 1);
    let later = t0() + Duration::seconds(60);
    g.disable(&code(&secret, later), later).unwrap();
    assert!(!g.status(later).unwrap().setup_skipped, "the old choice does not carry over a setup");
}
