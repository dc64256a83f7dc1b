//! "Rotate automatically" for a key already in Latchkey: on needs a valid 2FA code (a wrong one
//! counts toward the backoff), off needs none; only a key whose master Latchkey holds may have it.

use latchkey_core::autorotate::schedule::{next_rotation, set_auto_rotate};
use latchkey_core::autorotate::AutoRotateError;
use latchkey_core::guard::{Guard, GuardConfig, HashCost};

use crate::autorotate::master_and_sub;
use crate::revoke_support::{fast_config, Env};

#[tokio::test]
async fn turning_automatic_rotation_on_needs_a_code_and_off_does_not() {
    let env = Env::new(fast_config()).await;
    let (master, sub) = master_and_sub(&env, "bybit-master-wallet", "bybit-sub-trade", "1449001");
    let guard = Guard::new(
        env.store.clone(),
        env.secrets.clone(),
        GuardConfig { recovery_cost: HashCost::fast_for_tests(), ..Default::default() },
    );
    let key = env.store.get_key(sub).unwrap().unwrap();
    let (_, now) = env.code();

    let err = set_auto_rotate(&env.store, &guard, &key, true, None, now).unwrap_err();
    assert!(matches!(err, AutoRotateError::CodeNeeded), "{err}");
    let failures = |g: &Guard| g.status(now).unwrap().failures;
    let before = failures(&guard);
    let err = set_auto_rotate(&env.store, &guard, &key, true, Some("000000"), now).unwrap_err();
    assert!(matches!(err, AutoRotateError::Guard(_)), "{err}");
    assert_eq!(failures(&guard), before + 1, "a wrong code counts toward the backoff");
    assert_eq!(next_rotation(&env.store, &key, now).unwrap(), None, "still off");

    let (code, now) = env.code();
    set_auto_rotate(&env.store, &guard, &key, true, Some(&code), now).unwrap();
    assert!(env.store.minted(sub).unwrap().is_some_and(|m| m.auto_rotate));
    assert!(next_rotation(&env.store, &key, now).unwrap().is_some(), "it rotates by itself now");
    set_auto_rotate(&env.store, &guard, &key, false, None, now).unwrap();
    assert_eq!(next_rotation(&env.store, &key, now).unwrap(), None, "off again, without a code");
    let audit = env.store.audit_log(20).unwrap();
    let details: Vec<&str> = audit.iter().filter(|e| e.action == "auto_rotate").map(|e| e.detail.as_str()).collect();
    assert_eq!(details, ["rotated by hand only", "rotates automatically through its master"]);

    // The master itself has no master in Latchkey: it cannot rotate by itself.
    let master = env.store.get_key(master).unwrap().unwrap();
    let err = set_auto_rotate(&env.store, &guard, &master, false, None, now).unwrap_err();
    assert!(err.to_string().contains("does not hold its master key"), "{err}");
}

/// The key editor (the app's Edit dialog, `latchkey edit`) turns it on with the other settings:
/// on asks for a code, a key that cannot rotate by itself is refused before a code is asked for
/// (no try spent), and the change is in the reply.
#[tokio::test]
async fn the_editor_turns_automatic_rotation_on_with_a_code() {
    use latchkey_core::bots::Bots;
    use latchkey_core::edit::{EditError, Editor, KeyEdit};
    use latchkey_core::vault::Vault;
    use std::sync::Arc;

    let env = Env::new(fast_config()).await;
    let (master, sub) = master_and_sub(&env, "bybit-master-wallet", "bybit-sub-trade", "1449001");
    let guard = Arc::new(Guard::new(
        env.store.clone(),
        env.secrets.clone(),
        GuardConfig { recovery_cost: HashCost::fast_for_tests(), ..Default::default() },
    ));
    let (code, now) = env.code();
    let vault = Vault::new(env.store.clone(), env.secrets.clone());
    let bots = Bots::new(env.store.clone(), guard.clone());
    let editor = Editor::new(&vault, &bots, &guard);
    let on = KeyEdit { auto_rotate: Some(true), ..Default::default() };

    let plan = editor.plan(sub, &on, now).unwrap();
    assert!(plan.needs_code, "turning it on needs a code");
    let err = editor.apply(sub, &on, None, now).unwrap_err();
    assert!(matches!(err, EditError::CodeNeeded { .. }), "{err}");
    assert!(err.to_string().contains("rotate by itself"), "{err}");

    let failures = |g: &Guard| g.status(now).unwrap().failures;
    let before = failures(&guard);
    let err = editor.apply(master, &on, Some("000000"), now).unwrap_err();
    assert!(matches!(err, EditError::CannotAutoRotate { .. }), "{err}");
    assert!(err.to_string().contains("does not hold its master key"), "{err}");
    assert_eq!(failures(&guard), before, "refused before the code was checked");

    let edited = editor.apply(sub, &on, Some(&code), now).unwrap();
    assert_eq!(edited.changes, ["rotates automatically through its master"]);
    let key = env.store.get_key(sub).unwrap().unwrap();
    assert!(next_rotation(&env.store, &key, now).unwrap().is_some(), "it rotates by itself now");
    // Asking again for what is already set changes nothing and needs no code.
    assert!(editor.plan(sub, &on, now).unwrap().is_empty());
    let off = KeyEdit { auto_rotate: Some(false), ..Default::default() };
    let edited = editor.apply(sub, &off, None, now).unwrap();
    assert_eq!(edited.changes, ["rotated by hand only"]);
    assert_eq!(next_rotation(&env.store, &key, now).unwrap(), None);
}
