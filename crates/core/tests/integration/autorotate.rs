//! Automatic rotation through the real client and the simulator over HTTP, for OKX, Bybit and
//! Binance: the replacement made by the master with the old key's permissions and IPs, verified,
//! stored under the label, the old key deleted and proved gone; a refused create that leaves the
//! old key in use and nothing behind; a create that timed out after the exchange made the key,
//! resumed into exactly one new key.

use std::sync::Arc;
use std::time::Duration;

use exchange_sim::{Fault, FaultKind};
use latchkey_core::autorotate::{AutoRotateConfig, AutoRotateEngine, RotationEvent, RotationResult};
use latchkey_core::exchange::{ClientConfig, Endpoint, ExchangeClient, MasterKey, SystemClock};
use latchkey_core::keychain::SecretStore;
use latchkey_core::model::{KeyId, KeyStatus, Permission};
use latchkey_core::vault::Vault;
use secrecy::ExposeSecret;

use crate::revoke_support::{self, fast_config, Env};

pub(crate) fn fast() -> AutoRotateConfig {
    AutoRotateConfig {
        grace: Duration::from_millis(200),
        request_timeout: Duration::from_millis(800),
        backoff_base: Duration::from_millis(20),
        backoff_max: Duration::from_millis(100),
        verify_wait: Duration::from_millis(50),
        ..AutoRotateConfig::default()
    }
}

pub(crate) fn engine(env: &Env, config: AutoRotateConfig) -> AutoRotateEngine {
    let client = ExchangeClient::new(
        ClientConfig { timeout: Duration::from_secs(5), max_retry_after: Duration::ZERO, recv_window_ms: 5000 },
        Arc::new(SystemClock),
    )
    .unwrap();
    let vault = Arc::new(Vault::new(env.store.clone(), env.secrets.clone()));
    AutoRotateEngine::new(
        env.store.clone(),
        vault,
        env.secrets.clone(),
        Arc::new(client),
        env.engine.clone(),
        Arc::new(SystemClock),
        config,
    )
}

/// A master and one of its sub keys in Latchkey, the sub key bound to 127.0.0.1 with read and trade.
pub(crate) fn master_and_sub(env: &Env, master: &str, sub: &str, sub_account: &str) -> (KeyId, KeyId) {
    let master = env.add(master, None, None);
    let key = revoke_support::seed_key(sub);
    let record = latchkey_core::model::KeyRecord {
        permissions: vec![Permission::Read, Permission::Trade],
        ip_whitelist: vec!["127.0.0.1".to_owned()],
        ..revoke_support::record(&key, &env.sim.base_url(), Some(master), Some(sub_account))
    };
    let credentials = latchkey_core::secret::Credentials::new(&key.api_key, &key.secret, key.passphrase.as_deref());
    env.secrets.put(record.id, "test", &credentials).unwrap();
    let event = latchkey_core::audit::Event {
        at: chrono::Utc::now(),
        action: latchkey_core::audit::Action::Add,
        key_id: Some(record.id),
        label: Some(&record.label),
        outcome: latchkey_core::audit::Outcome::Ok,
        detail: String::new(),
    };
    env.store.insert_key(&record, &event).unwrap();
    (master, record.id)
}

async fn rotates_end_to_end(master_label: &str, sub_label: &str, sub_account: &str) {
    let env = Env::new(fast_config()).await;
    let (master, old) = master_and_sub(&env, master_label, sub_label, sub_account);
    let old_api_key = revoke_support::seed_key(sub_label).api_key;
    let (progress, events) = {
        let events = Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = events.clone();
        (Arc::new(move |e: RotationEvent| sink.lock().unwrap().push(e)) as latchkey_core::autorotate::Progress, events)
    };
    let report = engine(&env, fast()).rotate_scheduled(&[old], progress).await.unwrap();
    let [key] = report.keys.as_slice() else { panic!("{report:?}") };
    let RotationResult::Rotated { new_key_id, old_key, .. } = &key.result else { panic!("{report:?}") };
    assert_eq!(*old_key, KeyStatus::Revoked, "{sub_label}: the old key was retired and proved gone");
    assert!(!env.sim.state().has_key(&old_api_key), "{sub_label}: deleted at the exchange");
    assert!(env.secrets.get(old).unwrap().is_none(), "the old secret is wiped");

    let new = env.store.get_key(*new_key_id).unwrap().unwrap();
    assert_eq!((new.label.as_str(), new.status, new.replaces), (sub_label, KeyStatus::Active, Some(old)));
    assert_eq!((new.master_key_id, new.sub_account.as_deref()), (Some(master), Some(sub_account)));
    let credentials = env.secrets.get(new.id).unwrap().expect("the new secret is in the keychain");
    assert!(env.sim.state().has_key(credentials.api_key.expose_secret()), "the new key lives at the exchange");
    assert_eq!(new.permissions, [Permission::Read, Permission::Trade], "{sub_label}: the same permissions");
    assert_eq!(new.ip_whitelist, ["127.0.0.1"], "{sub_label}: the same IPs, as the exchange reports them");
    assert!(new.verified_at.is_some(), "verified with a signed read before it was stored");
    assert_eq!(env.store.managed_key_count(master).unwrap(), 1, "the master manages the new key, not the revoked one");

    let steps: Vec<String> = events
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| match e {
            RotationEvent::Step { step, .. } => Some(step.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(steps, ["creating", "created", "verified", "stored", "handed_over", "retiring"]);
    let audit = env.store.audit_log(50).unwrap();
    assert!(audit.iter().any(|e| e.action == "rotate" && e.detail.starts_with("rotated automatically")), "{audit:?}");
}

#[tokio::test]
async fn okx_rotates_a_sub_key_through_its_master() {
    rotates_end_to_end("okx-master-ip-bound", "okx-sub-bot", "bot-sub-1").await;
}

#[tokio::test]
async fn bybit_rotates_a_sub_key_through_its_master() {
    rotates_end_to_end("bybit-master-wallet", "bybit-sub-trade", "1449001").await;
}

#[tokio::test]
async fn binance_rotates_a_sub_key_through_its_master() {
    rotates_end_to_end("binance-master", "binance-sub-withdraw", "bot-sub-1@example.com").await;
}

#[tokio::test]
async fn kucoin_rotates_a_sub_key_through_its_master_with_the_keys_passphrases() {
    rotates_end_to_end("kucoin-master", "kucoin-sub-bot", "kcbot01").await;
}

/// Gate: the user ID and the key in the path; the permissions from the master's listing.
/// Deribit: the master (account:read_write) makes the replacement in its own account, and
/// removes the old key by the id its listing shows.
#[tokio::test]
async fn deribit_rotates_a_key_of_the_masters_own_account() {
    rotates_end_to_end("deribit-full", "deribit-trade", "account").await;
}

/// A KuCoin key minted with a lifetime (here 90 days) is replaced by one with the same lifetime:
/// the exchange still retires a replacement that nobody rotates.
#[tokio::test]
async fn kucoin_gives_the_replacement_the_lifetime_of_the_old_key() {
    let env = Env::new(fast_config()).await;
    let (_, old) = master_and_sub(&env, "kucoin-master", "kucoin-sub-bot", "kcbot01");
    let record = env.store.get_key(old).unwrap().unwrap();
    let inspection = latchkey_core::model::KeyInspection {
        exchange: record.exchange,
        permissions: vec![Permission::Read, Permission::Trade],
        ip_restricted: true,
        ip_whitelist: vec!["127.0.0.1".to_owned()],
        expires_at: Some(record.created_at + chrono::Duration::days(90)),
        created_at: None,
        account_kind: latchkey_core::model::AccountKind::Sub,
        account_uid: None,
        master_uid: None,
        label: None,
        demo: false,
    };
    env.store.record_inspection_events(old, &inspection, chrono::Utc::now(), &[]).unwrap();
    let report = engine(&env, fast()).rotate_scheduled(&[old], Arc::new(|_| {})).await.unwrap();
    let RotationResult::Rotated { new_key_id, .. } = &report.keys[0].result else { panic!("{report:?}") };
    let new = env.store.get_key(*new_key_id).unwrap().unwrap();
    let credentials = env.secrets.get(new.id).unwrap().unwrap();
    let held = env.sim.state().keys.into_iter().find(|k| k.api_key == credentials.api_key.expose_secret()).unwrap();
    let lifetime = held.expires_at.zip(held.created_at).map(|(end, start)| (end - start).num_days());
    assert_eq!(lifetime, Some(90), "KuCoin was asked for the old key's 90 days");
    let expires = new.inspection.and_then(|i| i.expires_at).expect("the replacement's expiry is recorded");
    assert_eq!(((expires - new.created_at).num_hours() + 12) / 24, 90, "90 days from the rotation");
}

#[tokio::test]
async fn gate_rotates_a_sub_key_through_its_master() {
    rotates_end_to_end("gate-master", "gate-sub-bot", "10002").await;
}

#[tokio::test]
async fn a_refused_create_leaves_the_old_key_in_use_and_nothing_behind() {
    let env = Env::new(fast_config()).await;
    let (_, old) = master_and_sub(&env, "okx-master-ip-bound", "okx-sub-bot", "no-such-sub");
    let items_before = env.secrets.key_items().unwrap().len();
    let report = engine(&env, fast()).rotate_scheduled(&[old], latchkey_core::autorotate::no_progress()).await.unwrap();
    let RotationResult::Failed { error, .. } = &report.keys[0].result else { panic!("{report:?}") };
    assert!(error.ends_with("The key in use is unchanged."), "{error}");
    assert_eq!(env.status(old), KeyStatus::Active);
    assert!(env.sim.state().has_key(&revoke_support::seed_key("okx-sub-bot").api_key));
    assert_eq!(env.secrets.key_items().unwrap().len(), items_before, "no new keychain item left");
    assert_eq!(env.store.list_keys().unwrap().len(), 2, "no new key row");
}

#[tokio::test]
async fn a_create_that_timed_out_after_the_exchange_made_the_key_ends_with_one_new_key() {
    let env = Env::new(fast_config()).await;
    let (master, old) = master_and_sub(&env, "bybit-master-wallet", "bybit-sub-trade", "1449001");
    env.sim.set_fault(Fault::new(FaultKind::Hang).on("/v5/user/create-sub-api").times(1).after_acting());
    let report = engine(&env, fast()).rotate_scheduled(&[old], latchkey_core::autorotate::no_progress()).await.unwrap();
    let RotationResult::Rotated { new_key_id, .. } = &report.keys[0].result else { panic!("{report:?}") };

    // At the exchange: the sub-account holds the new key and nothing else Latchkey made.
    let master_record = env.store.get_key(master).unwrap().unwrap();
    let endpoint = Endpoint::new(master_record.exchange, &master_record.environment).unwrap();
    let credentials = env.secrets.get(master).unwrap().unwrap();
    let client = revoke_support_client();
    let listed = client.list_sub_keys(MasterKey::unattended(&endpoint, &credentials), "1449001").await.unwrap();
    let made: Vec<&str> = listed.iter().filter(|k| k.label.starts_with("lk")).map(|k| k.label.as_str()).collect();
    assert_eq!(made.len(), 1, "the timed-out create's key was deleted, one new key made: {made:?}");
    let new_secret = env.secrets.get(*new_key_id).unwrap().unwrap();
    let new_listed = listed.iter().find(|k| k.label == made[0]).unwrap();
    assert_eq!(
        new_listed.api_key.expose_secret(),
        new_secret.api_key.expose_secret(),
        "and it is the one Latchkey holds"
    );
}

pub(crate) fn revoke_support_client() -> ExchangeClient {
    ExchangeClient::new(ClientConfig::default(), Arc::new(SystemClock)).unwrap()
}

/// Several sub keys of three masters falling due together, in one `rotate_scheduled` call, with
/// 200 ms on every answer (as over a real network): all rotate. (Before, rotations under one
/// master each listed the sub-account unpaced, and Binance, which allows about one listing a
/// second, answered 429 until they failed; and rotations that reached "retiring" while another's
/// revoke job ran found the revoke engine busy and were left pending.)
#[tokio::test]
async fn keys_of_three_masters_falling_due_together_all_rotate() {
    // Timeouts that leave room for the injected latency.
    let revoke = latchkey_core::revoke::RevokeConfig { request_timeout: Duration::from_secs(5), ..fast_config() };
    let env = Env::new(revoke).await;
    let mut ids = Vec::new();
    for (master_label, template, sub_account, count) in [
        ("binance-master", "binance-sub-withdraw", "bot-sub-1@example.com", 3usize),
        ("okx-master-ip-bound", "okx-sub-bot", "bot-sub-1", 2),
        ("bybit-master-wallet", "bybit-sub-trade", "1449001", 2),
    ] {
        let master = env.add(master_label, None, None);
        for i in 0..count {
            let api_key = match template {
                "okx-sub-bot" => format!("{i:08x}-0000-4000-8000-{i:012x}"),
                "bybit-sub-trade" => format!("BATCH{i:013}"),
                _ => format!("BATCH{i:059}"),
            };
            let key = crate::exchange_support::variant(template, &api_key, |k| {
                k.label = format!("{template}-{i}");
                k.permissions = vec![exchange_sim::Permission::Read, exchange_sim::Permission::Trade];
                k.ips = vec!["127.0.0.1".to_owned()];
            });
            env.sim.add_key(key.clone());
            let record = latchkey_core::model::KeyRecord {
                permissions: vec![Permission::Read, Permission::Trade],
                ip_whitelist: vec!["127.0.0.1".to_owned()],
                ..revoke_support::record(&key, &env.sim.base_url(), Some(master), Some(sub_account))
            };
            let credentials =
                latchkey_core::secret::Credentials::new(&key.api_key, &key.secret, key.passphrase.as_deref());
            env.secrets.put(record.id, "test", &credentials).unwrap();
            let event = latchkey_core::audit::Event {
                at: chrono::Utc::now(),
                action: latchkey_core::audit::Action::Add,
                key_id: Some(record.id),
                label: Some(&record.label),
                outcome: latchkey_core::audit::Outcome::Ok,
                detail: String::new(),
            };
            env.store.insert_key(&record, &event).unwrap();
            ids.push((record.id, key.api_key));
        }
    }
    let keys: Vec<KeyId> = ids.iter().map(|(id, _)| *id).collect();
    env.sim.set_fault(Fault::new(FaultKind::Latency { ms: 200 }));
    let config = AutoRotateConfig { request_timeout: Duration::from_secs(5), ..fast() };
    let report = engine(&env, config).rotate_scheduled(&keys, latchkey_core::autorotate::no_progress()).await.unwrap();
    for key in &report.keys {
        let RotationResult::Rotated { old_key, .. } = &key.result else { panic!("{}: {:?}", key.label, key.result) };
        let audit: Vec<String> = env
            .store
            .audit_log(500)
            .unwrap()
            .into_iter()
            .filter(|e| e.action == "quarantine" || e.outcome == "failed")
            .map(|e| format!("{}: {}", e.action, e.detail))
            .collect();
        assert_eq!(*old_key, KeyStatus::Revoked, "{}: {audit:?}", key.label);
    }
    for (_, api_key) in &ids {
        assert!(!env.sim.state().has_key(api_key), "every old key deleted at the exchange");
    }
    assert!(env.engine.unfinished().unwrap().is_empty(), "no revoke job left behind");
}

/// A rotation's first create goes without first listing the sub-account for a key under its
/// label: the create is journaled before it is sent, so nothing can have been made yet. Only the
/// check of the new key's IPs lists the sub-account. (Before, every rotation listed it twice,
/// which on Binance, about one listing a second per master, doubled what many rotations take.)
#[tokio::test]
async fn a_clean_rotation_lists_the_sub_account_once() {
    let env = Env::new(fast_config()).await;
    let (_, old) = master_and_sub(&env, "okx-master-ip-bound", "okx-sub-bot", "bot-sub-1");
    env.sim.clear_requests();
    let report = engine(&env, fast()).rotate_scheduled(&[old], latchkey_core::autorotate::no_progress()).await.unwrap();
    assert!(matches!(report.keys[0].result, RotationResult::Rotated { .. }), "{report:?}");
    let listings = env
        .sim
        .state()
        .requests_to("/api/v5/users/subaccount/apikey")
        .into_iter()
        .filter(|r| r.method == "GET")
        .count();
    assert_eq!(listings, 1);
}
