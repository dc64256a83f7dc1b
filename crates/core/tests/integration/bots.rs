//! "Bots may use this key" against real SQLite: on by default, off for masters however the link is
//! made, on again only with a valid 2FA code (and never for a master), every change audited.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use latchkey_core::audit::{Action, Event, Outcome};
use latchkey_core::bots::{check_run, Bots, BotsError};
use latchkey_core::guard::{totp, Guard, GuardConfig, GuardError, HashCost};
use latchkey_core::keychain::memory::MemoryStore;
use latchkey_core::model::{Exchange, KeyRecord};
use latchkey_core::store::Store;
use secrecy::{ExposeSecret, SecretSlice};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 9, 30, 5).unwrap()
}

struct World {
    _dir: tempfile::TempDir,
    store: Arc<Store>,
    guard: Arc<Guard>,
    bots: Bots,
    totp: SecretSlice<u8>,
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open_in(dir.path()).unwrap());
    let config = GuardConfig { recovery_cost: HashCost::fast_for_tests(), ..Default::default() };
    let guard = Arc::new(Guard::new(store.clone(), Arc::new(MemoryStore::default()), config));
    let e = guard.begin_enrollment(None, t0()).unwrap();
    let totp = totp::from_base32(e.secret_base32.expose_secret()).unwrap();
    guard.confirm_enrollment(&code(&totp, t0()), t0()).unwrap();
    let bots = Bots::new(store.clone(), guard.clone());
    World { _dir: dir, store, guard, bots, totp }
}

fn code(secret: &SecretSlice<u8>, at: DateTime<Utc>) -> String {
    totp::code_at_step(secret, totp::step_of(at.timestamp())).unwrap().to_string()
}

fn add(store: &Store, key: &KeyRecord) {
    let event = Event {
        at: t0(),
        action: Action::Add,
        key_id: Some(key.id),
        label: Some(&key.label),
        outcome: Outcome::Ok,
        detail: String::new(),
    };
    store.insert_key(key, &event).unwrap();
}

fn allowed(store: &Store, key: &KeyRecord) -> bool {
    store.get_key(key.id).unwrap().unwrap().bots_allowed
}

#[test]
fn on_by_default_and_off_for_a_key_that_becomes_a_master() {
    let w = world();
    let master = KeyRecord::sample(Exchange::Okx, "master", t0(), 90);
    add(&w.store, &master);
    assert!(allowed(&w.store, &master), "a plain key: bots may use it");

    // Linked at insert (a sub key added with its master).
    let sub = KeyRecord { master_key_id: Some(master.id), ..KeyRecord::sample(Exchange::Okx, "sub", t0(), 90) };
    add(&w.store, &sub);
    assert!(!allowed(&w.store, &master), "the master of another key is off");
    assert!(allowed(&w.store, &sub));
    assert!(matches!(
        check_run(&w.store.get_key(master.id).unwrap().unwrap(), 1, "bot"),
        Err(BotsError::MasterKey { .. })
    ));

    // Linked later (the revoke set-up, `latchkey add --master`).
    let other = KeyRecord::sample(Exchange::Bybit, "other", t0(), 90);
    let other_sub = KeyRecord::sample(Exchange::Bybit, "other-sub", t0(), 90);
    add(&w.store, &other);
    add(&w.store, &other_sub);
    latchkey_core::revoke::set_revoke_link(&w.store, other_sub.id, Some(other.id), Some("sub1")).unwrap();
    assert!(!allowed(&w.store, &other), "a key linked as master later is off too");
}

#[test]
fn turning_on_needs_a_valid_code_and_is_audited() {
    let w = world();
    let key = KeyRecord::sample(Exchange::Binance, "bot", t0(), 90);
    add(&w.store, &key);
    let now = t0() + Duration::seconds(60);

    // Off needs no code.
    assert!(!w.bots.deny(key.id, now).unwrap().bots_allowed);
    let err = check_run(&w.store.get_key(key.id).unwrap().unwrap(), 0, "freqtrade").unwrap_err();
    let text = err.to_string();
    assert!(text.contains("latchkey bots allow 'bot' --code") && text.contains("Bots may use this key"), "{text}");

    // A wrong code is refused, counted, and changes nothing.
    let err = w.bots.allow(key.id, "000000", now).unwrap_err();
    assert!(matches!(err, BotsError::Guard(GuardError::WrongCode { .. })), "{err}");
    assert_eq!(w.guard.status(now).unwrap().failures, 1, "the wrong code counts toward the backoff");
    assert!(!allowed(&w.store, &key));

    // The right code turns it on.
    assert!(w.bots.allow(key.id, &code(&w.totp, now), now).unwrap().bots_allowed);
    check_run(&w.store.get_key(key.id).unwrap().unwrap(), 0, "freqtrade").unwrap();
    let log: Vec<_> = w.store.audit_log(20).unwrap().into_iter().filter(|e| e.action == "bots_access").collect();
    let details: Vec<&str> = log.iter().map(|e| e.detail.as_str()).collect();
    assert_eq!(details, ["bots may use this key", "bots may not use this key"]);
}

#[test]
fn a_master_is_never_allowed_not_even_with_a_valid_code() {
    let w = world();
    let master = KeyRecord::sample(Exchange::Okx, "master", t0(), 90);
    add(&w.store, &master);
    add(&w.store, &KeyRecord { master_key_id: Some(master.id), ..KeyRecord::sample(Exchange::Okx, "sub", t0(), 90) });
    let now = t0() + Duration::seconds(60);
    let valid = code(&w.totp, now);
    let err = w.bots.allow(master.id, &valid, now).unwrap_err();
    assert!(matches!(err, BotsError::MasterKey { subs: 1, .. }), "{err}");
    assert!(err.to_string().contains("sub-account"), "{err}");
    assert!(!allowed(&w.store, &master));
    // The refusal came before the code was looked at: it is still good for something else.
    w.guard.verify(&valid, now).unwrap();
    // And the store itself refuses, whoever asks.
    let event = Event {
        at: now,
        action: Action::BotsAccess,
        key_id: Some(master.id),
        label: Some("master"),
        outcome: Outcome::Ok,
        detail: String::new(),
    };
    assert!(w.store.set_bots_allowed(master.id, true, &event).is_err());
    assert!(!allowed(&w.store, &master));
}
