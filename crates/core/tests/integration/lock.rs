//! Locking a whole sub-account through its master (Gate), against real SQLite, the in-memory
//! keychain and the simulator over HTTP: a guarded action (a code when 2FA is set up, a wrong one
//! counted), audited; afterwards the sub-account's keys are refused by the exchange as locked,
//! which is not taken as proof that any of them is deleted.
#![allow(clippy::unwrap_used)]

use crate::revoke_support::{self, Env};

use latchkey_core::exchange::{Endpoint, ExchangeClient, ProofVerdict};
use latchkey_core::guard::{Guard, GuardConfig, HashCost};
use latchkey_core::lock::{LockError, Locker};
use latchkey_core::model::KeyStatus;
use latchkey_core::vault::Vault;

fn parts(env: &Env) -> (Vault, Guard, ExchangeClient) {
    let vault = Vault::new(env.store.clone(), env.secrets.clone());
    let guard = Guard::new(
        env.store.clone(),
        env.secrets.clone(),
        GuardConfig { recovery_cost: HashCost::fast_for_tests(), ..Default::default() },
    );
    (vault, guard, crate::exchange_support::client())
}

#[tokio::test]
async fn a_gate_sub_account_is_locked_through_its_master_and_its_keys_stop() {
    let env = Env::new(revoke_support::fast_config()).await;
    let (vault, guard, client) = parts(&env);
    let master = env.add("gate-master", None, None);
    let sub = env.add("gate-sub-bot", Some(master), Some("10002"));
    let locker = Locker::new(&vault, &guard, &client);

    let plan = locker.plan(sub, chrono::Utc::now()).unwrap();
    assert_eq!((plan.sub_account.as_str(), plan.needs_code), ("10002", true));
    let err = locker.lock(sub, None, chrono::Utc::now()).await.unwrap_err();
    assert!(matches!(err, LockError::CodeNeeded), "{err}");
    let (code, now) = env.code();
    let err = locker.lock(sub, Some("000000"), now).await.unwrap_err();
    assert_eq!(err.kind(), "wrong_code", "a wrong code counts: {err}");
    assert!(env.sim.state().requests_to("/api/v4/sub_accounts/10002/lock").is_empty(), "nothing sent");

    let locked = locker.lock(sub, Some(&code), now).await.unwrap();
    assert_eq!((locked.sub_account.as_str(), locked.keys.clone()), ("10002", vec!["gate-sub-bot".to_owned()]));
    assert!(!locked.unguarded);
    let codes: Vec<String> =
        env.sim.state().requests_to("/api/v4/sub_accounts/10002/lock").iter().map(|r| r.code.clone()).collect();
    assert_eq!(codes, ["204"]);

    // The key is refused as locked: it stops, but that is no proof it is deleted.
    let record = env.store.get_key(sub).unwrap().unwrap();
    let endpoint = Endpoint::new(record.exchange, &record.environment).unwrap();
    let credentials = vault.credentials(sub).unwrap();
    let err = client.inspect(&endpoint, &credentials).await.unwrap_err();
    assert_eq!(err.kind(), "key_frozen", "{err}");
    let verdict = client.prove_revoked(&endpoint, &credentials, true).await.unwrap();
    assert!(matches!(verdict, ProofVerdict::NotProved(_)), "a locked key is not a deleted one: {verdict:?}");
    assert_eq!(env.store.get_key(sub).unwrap().unwrap().status, KeyStatus::Active, "Latchkey's record unchanged");

    let audit = env.store.audit_log(20).unwrap();
    let locks: Vec<(String, String)> = audit
        .iter()
        .filter(|e| e.action == "lock_sub_account")
        .map(|e| (e.outcome.to_string(), e.detail.clone()))
        .collect();
    assert_eq!(locks, [("ok".to_owned(), "sub-account '10002' through master 'gate-master'".to_owned())]);
}

/// Bybit freezes a sub UID ("Freeze Sub UID") through the master: its keys are refused while
/// frozen, with a code that proves nothing (the simulator's own: Bybit documents none).
#[tokio::test]
async fn a_bybit_sub_uid_is_frozen_through_its_master() {
    let env = Env::new(revoke_support::fast_config()).await;
    let (vault, guard, client) = parts(&env);
    let master = env.add("bybit-master-wallet", None, None);
    let sub = env.add("bybit-sub-trade", Some(master), Some("1449001"));
    let (code, now) = env.code();
    let locked = Locker::new(&vault, &guard, &client).lock(sub, Some(&code), now).await.unwrap();
    assert_eq!((locked.sub_account.as_str(), locked.keys.clone()), ("1449001", vec!["bybit-sub-trade".to_owned()]));
    let codes: Vec<String> =
        env.sim.state().requests_to("/v5/user/frozen-sub-member").iter().map(|r| r.code.clone()).collect();
    assert_eq!(codes, ["0"]);
    let record = env.store.get_key(sub).unwrap().unwrap();
    let endpoint = Endpoint::new(record.exchange, &record.environment).unwrap();
    let credentials = vault.credentials(sub).unwrap();
    let err = client.inspect(&endpoint, &credentials).await.unwrap_err();
    assert_eq!(err.code(), Some(exchange_sim::BYBIT_SUB_UID_FROZEN.to_string().as_str()), "{err}");
    let verdict = client.prove_revoked(&endpoint, &credentials, true).await.unwrap();
    assert!(matches!(verdict, ProofVerdict::NotProved(_)), "a frozen key is not a deleted one: {verdict:?}");
}

#[tokio::test]
async fn where_the_api_has_no_lock_or_no_master_is_held_it_says_what_to_do() {
    let env = Env::new(revoke_support::fast_config()).await;
    let (vault, guard, client) = parts(&env);
    let locker = Locker::new(&vault, &guard, &client);
    let okx_master = env.add("okx-master-ip-bound", None, None);
    let okx_sub = env.add("okx-sub-bot", Some(okx_master), Some("bot-sub-1"));
    let err = locker.plan(okx_sub, chrono::Utc::now()).unwrap_err();
    assert_eq!(err.kind(), "not_available");
    assert!(
        err.to_string().starts_with("OKX's API cannot lock a whole sub-account. Freeze it on OKX's website"),
        "{err}"
    );
    let alone = env.add("gate-sub-bot", None, None);
    let err = locker.plan(alone, chrono::Utc::now()).unwrap_err();
    assert!(err.to_string().contains("not a sub-account key whose master Latchkey holds"), "{err}");
}
