//! Automatic rotation, each step failing in turn, against the simulator over HTTP: what is left at
//! the exchange and here, and what the user is told. Before the new key is stored, a failure
//! deletes what was made and leaves the old key in use; after, the new key stays in use and the
//! old one is quarantined by the revoke engine, for its retry.

use exchange_sim::{Fault, FaultKind};
use latchkey_core::autorotate::schedule::notices;
use latchkey_core::autorotate::{no_progress, RotationResult};
use latchkey_core::exchange::{Endpoint, MasterKey};
use latchkey_core::keychain::SecretStore;
use latchkey_core::model::{KeyId, KeyStatus};

use crate::autorotate::{engine, fast, master_and_sub, revoke_support_client};
use crate::revoke_support::{fast_config, seed_key, Env};

/// The keys Latchkey made in the sub-account, as the master lists them.
async fn made_at_exchange(env: &Env, master: KeyId, sub_account: &str) -> usize {
    let record = env.store.get_key(master).unwrap().unwrap();
    let endpoint = Endpoint::new(record.exchange, &record.environment).unwrap();
    let credentials = env.secrets.get(master).unwrap().unwrap();
    let listed = revoke_support_client()
        .list_sub_keys(MasterKey::unattended(&endpoint, &credentials), sub_account)
        .await
        .unwrap();
    listed.iter().filter(|k| k.label.starts_with("lk")).count()
}

/// Nothing left but the old key, in use, and the user told the key in use is unchanged.
async fn assert_old_key_kept(
    env: &Env,
    master: KeyId,
    old: KeyId,
    sub_label: &str,
    report: &latchkey_core::autorotate::RotationReport,
) {
    let RotationResult::Failed { error, .. } = &report.keys[0].result else { panic!("{report:?}") };
    assert!(error.ends_with("The key in use is unchanged."), "{error}");
    assert_eq!(env.status(old), KeyStatus::Active);
    assert!(env.sim.state().has_key(&seed_key(sub_label).api_key), "the old key still works");
    assert_eq!(made_at_exchange(env, master, "1449001").await, 0, "the new key was deleted at the exchange");
    assert_eq!(env.secrets.key_items().unwrap().len(), 2, "only the master's and the old key's secrets are kept");
    assert_eq!(env.store.list_keys().unwrap().len(), 2, "no new key row");
    let told = notices(report);
    assert_eq!(told[0].title, "Could not rotate 'bybit-sub-trade'");
}

#[tokio::test]
async fn a_new_key_that_never_answers_is_deleted_and_the_old_one_stays() {
    let env = Env::new(fast_config()).await;
    let (master, old) = master_and_sub(&env, "bybit-master-wallet", "bybit-sub-trade", "1449001");
    // The new key's own read (the only inspection before the store) is answered 502 every time.
    env.sim.set_fault(Fault::new(FaultKind::ServerError { status: 502 }).on("/v5/user/query-api"));
    let report = engine(&env, fast()).rotate_scheduled(&[old], no_progress()).await.unwrap();
    env.sim.clear_faults();
    assert_old_key_kept(&env, master, old, "bybit-sub-trade", &report).await;
    let RotationResult::Failed { error, .. } = &report.keys[0].result else { unreachable!() };
    assert!(error.starts_with("The new key did not answer a signed read"), "{error}");
}

#[tokio::test]
async fn a_store_that_cannot_save_the_new_key_deletes_it_and_the_old_one_stays() {
    let env = Env::new(fast_config()).await;
    let (master, old) = master_and_sub(&env, "bybit-master-wallet", "bybit-sub-trade", "1449001");
    let db = rusqlite::Connection::open(env.dir.path().join(latchkey_core::paths::DB_FILE)).unwrap();
    db.execute_batch(
        "CREATE TRIGGER full BEFORE INSERT ON keys BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;",
    )
    .unwrap();
    let report = engine(&env, fast()).rotate_scheduled(&[old], no_progress()).await.unwrap();
    db.execute_batch("DROP TRIGGER full;").unwrap();
    assert_old_key_kept(&env, master, old, "bybit-sub-trade", &report).await;
    let RotationResult::Failed { error, .. } = &report.keys[0].result else { unreachable!() };
    assert!(error.contains("disk is full"), "{error}");
}

#[tokio::test]
async fn an_old_key_that_cannot_be_deleted_is_quarantined_and_the_new_one_stays_in_use() {
    let env = Env::new(fast_config()).await;
    let (_, old) = master_and_sub(&env, "bybit-master-wallet", "bybit-sub-trade", "1449001");
    // The master's delete of the old key is answered 502 every time.
    env.sim.set_fault(Fault::new(FaultKind::ServerError { status: 502 }).on("/v5/user/delete-sub-api"));
    let report = engine(&env, fast()).rotate_scheduled(&[old], no_progress()).await.unwrap();
    env.sim.clear_faults();
    let RotationResult::Rotated { new_key_id, old_key, .. } = &report.keys[0].result else { panic!("{report:?}") };
    assert_eq!(*old_key, KeyStatus::Quarantined, "not proved gone: quarantined, its secret kept for the retry");
    assert!(env.secrets.get(old).unwrap().is_some());
    assert_eq!(env.status(*new_key_id), KeyStatus::Active, "the new key is the one in use");
    let told = notices(&report);
    assert_eq!(told[0].title, "Rotated 'bybit-sub-trade', but the old key is not deleted");
    assert!(told[0].body.contains("retry it from the revoke report"), "{}", told[0].body);
}
