//! Key truth against exchange-sim: a rotation keeps the key's relationships and never kills the key
//! it keeps; a key the exchange no longer knows is marked rejected; the daily look reports what
//! changed; an orphaned keychain item is restored with what the exchange says about it.
#![allow(clippy::unwrap_used)]

use crate::exchange_support;
use crate::revoke_support;
use latchkey_core::handover::DEFAULT_GRACE;

use std::sync::Arc;

use chrono::Utc;
use exchange_sim::SimKey;
use latchkey_core::exchange::ExchangeClient;
use latchkey_core::guard::{Guard, GuardConfig, HashCost, Verified};
use latchkey_core::keychain::SecretStore;
use latchkey_core::model::{Environment, Exchange, KeyId, KeyStatus, Permission};
use latchkey_core::orphans::{self, RestoreAnswers};
use latchkey_core::revoke::{no_progress, set_revoke_link, KeyResult, Selection};
use latchkey_core::rotate::{self, Replacement, RotateError};
use latchkey_core::secret::Credentials;
use latchkey_core::vault::Vault;
use latchkey_core::watch::{self, LookError, Looked};
use latchkey_core::Error;
use revoke_support::{fast_config, seed_key, Env};

struct Keys {
    env: Env,
    vault: Arc<Vault>,
    client: ExchangeClient,
}

impl Keys {
    async fn new() -> Keys {
        let env = Env::new(fast_config()).await;
        let vault = Arc::new(Vault::new(env.store.clone(), env.secrets.clone()));
        Keys { env, vault, client: exchange_support::client() }
    }

    fn environment(&self) -> Environment {
        Environment::Custom { base_url: self.env.sim.base_url() }
    }

    /// Adds a simulator key the way the wizard does: validated, inspected at the exchange, saved.
    async fn add(&self, key: &SimKey, label: &str) -> KeyId {
        self.env.add_inspected(&self.vault, &self.client, key, label).await
    }

    /// What a rotation's confirm step gets after the user typed a valid code.
    fn proof(&self) -> Verified {
        self.env.proof()
    }

    async fn rotate(&self, old: KeyId, key: &SimKey) -> Result<rotate::Rotated, RotateError> {
        let replacement =
            Replacement { old, credentials: exchange_support::creds(key), verify: true, grace: DEFAULT_GRACE };
        rotate::rotate(&self.vault, &self.client, &self.env.engine, self.proof(), replacement, Utc::now()).await
    }

    fn at_exchange(&self, key: &SimKey) -> bool {
        self.env.sim.state().has_key(&key.api_key)
    }
}

#[tokio::test]
async fn rotating_a_key_into_itself_is_refused_and_the_key_survives() {
    let k = Keys::new().await;
    // A Bybit master with a transfer permission: the kind of key a rotation deletes at the exchange.
    let wallet = seed_key("bybit-master-wallet");
    let id = k.add(&wallet, "wallet-bot").await;

    let err = k.rotate(id, &wallet).await.unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, RotateError::Key(Error::Invalid(_))), "{message}");
    assert!(message.contains("same API key") && message.contains("Create a new API key on Bybit first"), "{message}");
    assert!(k.at_exchange(&wallet), "the key every bot uses is still alive at the exchange");
    let record = k.vault.get(id).unwrap();
    assert_eq!((record.status, record.label.as_str()), (KeyStatus::Active, "wallet-bot"));
    assert_eq!(k.vault.list().unwrap().len(), 1, "nothing was saved");
    assert!(k.env.sim.state().requests_to("/v5/user/delete-api").is_empty(), "no delete was sent");

    // The wizard's check step refuses it too, before the user gets to the confirm step.
    let check = rotate::check(&k.vault, &k.client, id, exchange_support::creds(&wallet), true).await;
    assert!(check.unwrap_err().to_string().contains("same API key"));

    // A really new key rotates: the old one is deleted at the exchange, the new one is kept.
    let fresh = exchange_support::variant("bybit-master-wallet", "BCQHOc2FEKdPOKw8Z9", |_| {});
    k.env.sim.add_key(fresh.clone());
    let rotated = k.rotate(id, &fresh).await.unwrap();
    assert!(!k.at_exchange(&wallet) && k.at_exchange(&fresh));
    assert_eq!(rotated.key.label, "wallet-bot");
}

#[tokio::test]
async fn rotating_a_master_keeps_its_sub_keys_revocable() {
    let k = Keys::new().await;
    let master_key = seed_key("bybit-master-wallet");
    let sub_key = seed_key("bybit-sub-trade");
    let master = k.add(&master_key, "master").await;
    let sub = k.add(&sub_key, "sub-bot").await;
    set_revoke_link(&k.env.store, sub, Some(master), Some("sub-1449001")).unwrap();

    let new_master_key = exchange_support::variant("bybit-master-wallet", "BCQHOc2FEKdPOKw8M2", |_| {});
    k.env.sim.add_key(new_master_key.clone());
    let rotated = k.rotate(master, &new_master_key).await.unwrap();
    assert!(!k.at_exchange(&master_key), "the old master was retired at the exchange");
    let sub_record = k.vault.get(sub).unwrap();
    assert_eq!(sub_record.master_key_id, Some(rotated.key.id), "the sub key follows its master");
    assert_eq!(sub_record.sub_account.as_deref(), Some("sub-1449001"));

    // A later revoke of the sub key goes through the new master and really deletes it.
    let report = k.env.engine.revoke_verified(k.proof(), Selection::Keys(vec![sub]), no_progress()).await.unwrap();
    assert!(matches!(report.keys[0].result, KeyResult::Revoked { .. }), "{:?}", report.keys[0].result);
    assert!(!k.at_exchange(&sub_key), "deleted at the exchange, not just wiped here");
}

#[tokio::test]
async fn a_key_the_exchange_no_longer_knows_is_rejected_not_verified() {
    let k = Keys::new().await;
    let trade = seed_key("bybit-master-trade");
    let id = k.add(&trade, "grid-bot").await;
    let verified = k.vault.get(id).unwrap().verified_at;
    // The user deleted the key on Bybit's website: Latchkey still has its secret.
    let gone = exchange_support::variant("bybit-master-trade", "GONEgoneGONEgone01", |_| {});
    k.env.secrets.put(id, "test", &exchange_support::creds(&gone)).unwrap();

    let looked = watch::check_key(&k.vault, &k.client, id, Utc::now()).await.unwrap();
    let Looked::Rejected { record, error, newly } = &looked else { panic!("{looked:?}") };
    assert!(*newly);
    assert_eq!(error.code(), Some("10003"));
    assert_eq!(record.status, KeyStatus::Rejected);
    assert_eq!(record.status.describe(record.exchange), "Rejected by Bybit (deleted or expired?)");
    assert_eq!(record.verified_at, verified, "a refusal does not refresh the verified date");
    let notices = looked.notices();
    assert_eq!(notices.len(), 1);
    assert!(notices[0].body.contains("no longer accepts your key 'grid-bot'"), "{}", notices[0].body);
    let audit = k.env.store.audit_log(1).unwrap();
    assert_eq!((audit[0].action.as_str(), audit[0].outcome.as_str()), ("verify", "failed"));

    // Looking again says nothing new; a working key brings the card back to active.
    let again = watch::check_key(&k.vault, &k.client, id, Utc::now()).await.unwrap();
    assert!(again.notices().is_empty());
    k.env.secrets.put(id, "test", &exchange_support::creds(&trade)).unwrap();
    let back = watch::check_key(&k.vault, &k.client, id, Utc::now()).await.unwrap();
    assert_eq!(back.record().status, KeyStatus::Active);

    // Other failures say nothing about the key: it stays active.
    k.env.sim.set_fault(exchange_sim::Fault::new(exchange_sim::FaultKind::ServerError { status: 503 }));
    let err = watch::check_key(&k.vault, &k.client, id, Utc::now()).await.unwrap_err();
    assert!(matches!(err, LookError::Exchange(_)), "{err}");
    assert_eq!(k.vault.get(id).unwrap().status, KeyStatus::Active);
}

#[tokio::test]
async fn the_daily_look_reports_what_got_worse_and_audits_it() {
    let k = Keys::new().await;
    let trade = seed_key("bybit-master-trade");
    let id = k.add(&trade, "grid-bot").await;
    // Since the last look, the key gained withdrawals and lost its IP whitelist on the website.
    let mut widened = trade.clone();
    widened.permissions.push(exchange_sim::Permission::Withdraw);
    widened.api_key = "KKZxU3589G2ADCeRb2".into();
    k.env.sim.add_key(widened.clone());
    let record = k.vault.get(id).unwrap();
    let mut before = record.inspection.clone().unwrap();
    before.ip_restricted = true;
    before.ip_whitelist = vec!["10.0.0.1".into()];
    k.env.store.record_inspection_events(id, &before, record.verified_at.unwrap(), &[]).unwrap();
    k.env.secrets.put(id, "test", &exchange_support::creds(&widened)).unwrap();

    let due = watch::plan(&k.vault.list().unwrap(), &Default::default(), Utc::now() + chrono::Duration::hours(25));
    assert_eq!(due.due, [id], "a day after the last look, the key is due");
    let looked = watch::check_key(&k.vault, &k.client, id, Utc::now()).await.unwrap();
    let Looked::Answered { changes, record } = &looked else { panic!("{looked:?}") };
    let codes: Vec<_> = changes.iter().map(|c| c.code).collect();
    assert_eq!(codes, ["gained_withdraw", "ip_whitelist_removed"]);
    assert!(record.permissions.contains(&Permission::Withdraw));
    let bodies: Vec<String> = looked.notices().into_iter().map(|n| n.body).collect();
    assert!(bodies[0].starts_with("Your Bybit key 'grid-bot' can now withdraw funds"), "{bodies:?}");
    let audit: Vec<String> = k.env.store.audit_log(2).unwrap().into_iter().map(|e| e.detail).collect();
    assert!(
        audit.iter().any(|d| d.contains("gained_withdraw")) && audit.iter().any(|d| d.contains("ip_whitelist_removed"))
    );
    assert!(watch::plan(&k.vault.list().unwrap(), &Default::default(), Utc::now()).due.is_empty(), "looked at today");
}

#[tokio::test]
async fn an_orphaned_item_is_restored_with_what_the_exchange_says() {
    let k = Keys::new().await;
    let wallet = seed_key("bybit-master-wallet");
    let id = k.add(&wallet, "wallet-bot").await;
    // The database was moved aside: a fresh store, the same keychain.
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(latchkey_core::store::Store::open_in(dir.path()).unwrap());
    let vault = Arc::new(Vault::new(store, k.env.secrets.clone()));
    // And an item from before Latchkey recorded its exchange on it.
    let old_style = KeyId::random();
    k.env
        .secrets
        .put(old_style, "Latchkey: old (Bybit)", &exchange_support::creds(&seed_key("bybit-sub-trade")))
        .unwrap();

    let found = orphans::find(&vault).unwrap();
    assert_eq!(found.len(), 2);
    let recorded = found.iter().find(|o| o.id == id).unwrap();
    assert_eq!((recorded.exchange, recorded.label.as_deref()), (Some(Exchange::Bybit), Some("wallet-bot")));
    assert_eq!(recorded.environment, Some(k.environment()));
    assert_eq!(recorded.key_hint.as_deref(), Some("BCQH…w8Yh"), "masked, never the key");
    let bare = found.iter().find(|o| o.id == old_style).unwrap();
    assert_eq!((bare.exchange, bare.label.as_ref()), (None, None));

    let restored = orphans::restore(&vault, &k.client, id, RestoreAnswers::default(), Utc::now()).await.unwrap();
    assert!(restored.warning.is_none());
    let r = restored.record;
    assert_eq!((r.id, r.label.as_str(), r.exchange), (id, "wallet-bot", Exchange::Bybit));
    assert_eq!(r.permissions, vec![Permission::Read, Permission::Trade, Permission::Transfer], "its real permissions");
    assert!(r.verified_at.is_some());

    // The old-style item: the user says where it lives; its shape says Bybit.
    let answers =
        RestoreAnswers { environment: Some(k.environment()), label: Some("sub-bot".into()), ..Default::default() };
    let restored = orphans::restore(&vault, &k.client, old_style, answers, Utc::now()).await.unwrap();
    assert_eq!((restored.record.exchange, restored.record.label.as_str()), (Exchange::Bybit, "sub-bot"));
    assert!(orphans::find(&vault).unwrap().is_empty());
    let again = orphans::restore(&vault, &k.client, id, RestoreAnswers::default(), Utc::now()).await.unwrap_err();
    assert!(again.to_string().contains("no keychain item"), "{again}");
}

#[tokio::test]
async fn deleting_an_orphan_needs_a_code_when_2fa_is_set_up() {
    let k = Keys::new().await;
    let id = KeyId::random();
    k.env
        .secrets
        .put(id, "t", &Credentials::new("KKZxU3589G2ADCeRbO", "Qeeec9uTEoOGidAQlZkOppo5n4vhXXJGoraM", None))
        .unwrap();
    let guard = Guard::new(
        k.env.store.clone(),
        k.env.secrets.clone(),
        GuardConfig { recovery_cost: HashCost::fast_for_tests(), ..Default::default() },
    );
    let (_, now) = k.env.code();
    let err = orphans::delete(&k.vault, &guard, id, Some("000000"), now).unwrap_err();
    assert!(matches!(err, orphans::OrphanError::Guard(_)), "{err}");
    assert!(k.env.secrets.contains(id), "a wrong code deletes nothing");
    let (code, now) = k.env.code();
    orphans::delete(&k.vault, &guard, id, Some(&code), now).unwrap();
    assert!(!k.env.secrets.contains(id));
    let log = k.env.store.audit_log(1).unwrap();
    assert_eq!((log[0].action.as_str(), log[0].detail.as_str()), ("delete", "deleted a keychain item no list showed"));
}
