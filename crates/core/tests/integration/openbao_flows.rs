//! Keys on OpenBao through their life: a rotation forwards the new key and waits for the hosts
//! before the old one is retired (then its versions are destroyed); emergency revoke destroys the
//! delivered keys and takes the hosts' access. Real `bao server -dev`, real exchange simulator.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use exchange_sim::SimKey;
use latchkey_core::exchange::ExchangeClient;
use latchkey_core::guard::Verified;
use latchkey_core::model::{KeyId, KeyStatus};
use latchkey_core::revoke::{no_progress, KeyResult, Selection};
use latchkey_core::rotate::{self, Replacement, RotateError};
use latchkey_core::servers::{BaoClient, HostsHandover, ReadRecord, ServerError, Servers};
use latchkey_core::vault::Vault;
use reqwest::Method;
use secrecy::SecretString;
use serde_json::json;

use crate::exchange_support;
use crate::openbao_support::DevServer;
use crate::revoke_support::{fast_config, seed_key, Env};

struct World {
    env: Env,
    vault: Arc<Vault>,
    client: ExchangeClient,
    servers: Arc<Servers>,
    bao: DevServer,
}

impl World {
    async fn new(test: &str) -> Option<World> {
        let bao = DevServer::start(test).await?;
        bao.admin(Method::POST, "sys/auth/approle", Some(json!({ "type": "approle" }))).await;
        let mut env = Env::new(fast_config()).await;
        let vault = Arc::new(Vault::new(env.store.clone(), env.secrets.clone()));
        let servers = Arc::new(Servers::new(env.store.clone(), vault.clone(), env.secrets.clone()));
        servers.configure(bao.settings(), SecretString::from(bao.root.clone())).unwrap();
        env.engine = env.engine.clone().with_servers(servers.clone());
        Some(World { env, vault, client: exchange_support::client(), servers, bao })
    }

    async fn add(&self, key: &SimKey, label: &str) -> KeyId {
        self.env.add_inspected(&self.vault, &self.client, key, label).await
    }

    fn proof(&self) -> Verified {
        self.env.proof()
    }

    async fn rotate(&self, old: KeyId, key: &SimKey, grace: Duration) -> Result<rotate::Rotated, RotateError> {
        let replacement = Replacement { old, credentials: exchange_support::creds(key), verify: true, grace };
        rotate::rotate(&self.vault, &self.client, &self.env.engine, self.proof(), replacement, Utc::now()).await
    }

    /// A host enrolled for `labels`, signed in as its server would.
    async fn host(&self, name: &str, ids: &[KeyId]) -> BaoClient {
        let enrolment = self.servers.add_host(self.proof(), name, ids, Utc::now()).await.unwrap();
        BaoClient::host_sign_in(self.bao.settings(), &enrolment.role_id, enrolment.wrapped_secret_id).await.unwrap()
    }
}

/// What `latchkey run --from openbao` does after each read: say which version it runs.
async fn read_and_record(host: &BaoClient, label: &str) -> u64 {
    let me = host.host_identity().await.unwrap();
    let got = host.read_version(label, None).await.unwrap();
    let now = Utc::now();
    let record = ReadRecord { version: got.version, read_at: now, seen_at: now, accessor: Some(me.accessor) };
    host.record_read(&me.host, label, &record).await.unwrap();
    got.version
}

#[tokio::test]
async fn a_rotation_forwards_the_new_key_waits_for_the_host_then_destroys_the_old_version() {
    let test = "a_rotation_forwards_the_new_key_waits_for_the_host_then_destroys_the_old_version";
    let Some(w) = World::new(test).await else { return };
    let old_key = seed_key("bybit-master-wallet");
    let id = w.add(&old_key, "wallet-bot").await;
    w.servers.deliver(&w.proof(), id, Utc::now()).await.unwrap();
    let host = w.host("vps1", &[id]).await;
    assert_eq!(read_and_record(&host, "wallet-bot").await, 1);
    let reads = w.servers.host_reads(id).await.unwrap();
    assert_eq!((reads[0].host.as_str(), reads[0].version, reads[0].current), ("vps1", Some(1), true));

    // The host's bot polls the version and moves when a new one appears.
    let bot = tokio::spawn(async move {
        loop {
            if host.current_version("wallet-bot").await.unwrap().is_some_and(|v| v.current >= 2) {
                tokio::time::sleep(Duration::from_millis(700)).await;
                return read_and_record(&host, "wallet-bot").await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let fresh = exchange_support::variant("bybit-master-wallet", "BCQHOc2FEKdPOKw8Z9", |_| {});
    w.env.sim.add_key(fresh.clone());
    let rotated = w.rotate(id, &fresh, Duration::from_secs(30)).await.unwrap();
    assert_eq!(bot.await.unwrap(), 2, "the host read the new key");
    assert_eq!(rotated.hosts, Some(HostsHandover::Moved { hosts: 1, version: 2 }), "waited for the host");
    assert!(!w.env.sim.state().has_key(&old_key.api_key), "the old key retired after the host moved");
    let versions = w.bao.client().current_version("wallet-bot").await.unwrap().unwrap();
    assert_eq!(
        (versions.current, versions.live, versions.destroyed),
        (2, vec![2], vec![1]),
        "the old version destroyed"
    );
    let reads = w.servers.host_reads(rotated.key.id).await.unwrap();
    assert_eq!((reads[0].version, reads[0].current), (Some(2), true));
    assert_eq!(w.servers.all_host_reads().await.unwrap(), [("wallet-bot".to_owned(), reads)].into());
}

#[tokio::test]
async fn a_host_that_does_not_move_holds_the_rotation_only_for_the_grace_period() {
    let test = "a_host_that_does_not_move_holds_the_rotation_only_for_the_grace_period";
    let Some(w) = World::new(test).await else { return };
    let old_key = seed_key("bybit-master-wallet");
    let id = w.add(&old_key, "wallet-bot").await;
    w.servers.deliver(&w.proof(), id, Utc::now()).await.unwrap();
    let stuck = w.host("vps1", &[id]).await;
    read_and_record(&stuck, "wallet-bot").await;
    // One that never said what it reads (OpenBao Agent records nothing) may run it too.
    let _silent = w.host("vps2", &[id]).await;
    let fresh = exchange_support::variant("bybit-master-wallet", "BCQHOc2FEKdPOKw8Z9", |_| {});
    w.env.sim.add_key(fresh.clone());
    let rotated = w.rotate(id, &fresh, Duration::from_secs(2)).await.unwrap();
    assert_eq!(rotated.hosts, Some(HostsHandover::GraceOver { still: vec!["vps1".into(), "vps2".into()], version: 2 }));
    assert!(!w.env.sim.state().has_key(&old_key.api_key), "retired once the grace period was over");
}

#[tokio::test]
async fn a_rotation_with_openbao_down_keeps_the_old_key_for_the_servers_bots() {
    let test = "a_rotation_with_openbao_down_keeps_the_old_key_for_the_servers_bots";
    let Some(w) = World::new(test).await else { return };
    let old_key = seed_key("bybit-master-wallet");
    let id = w.add(&old_key, "wallet-bot").await;
    w.servers.deliver(&w.proof(), id, Utc::now()).await.unwrap();
    w.bao.seal().await;
    let fresh = exchange_support::variant("bybit-master-wallet", "BCQHOc2FEKdPOKw8Z9", |_| {});
    w.env.sim.add_key(fresh.clone());
    let err = w.rotate(id, &fresh, Duration::from_secs(1)).await.unwrap_err();
    let message = err.to_string();
    assert!(matches!(&err, RotateError::ServersBehind { error: ServerError::Sealed { .. }, .. }), "{message}");
    assert!(message.contains("old key stays live") && message.contains("latchkey deliver wallet-bot"), "{message}");
    assert!(w.env.sim.state().has_key(&old_key.api_key), "the old key was not retired");
    assert_eq!(w.vault.get(id).unwrap().status, KeyStatus::Active, "nor revoked here");
}

#[tokio::test]
async fn emergency_revoke_destroys_delivered_keys_and_takes_the_hosts_access() {
    let test = "emergency_revoke_destroys_delivered_keys_and_takes_the_hosts_access";
    let Some(w) = World::new(test).await else { return };
    let a = w.add(&seed_key("bybit-master-wallet"), "wallet-bot").await;
    let b = w.add(&seed_key("bybit-sub-trade"), "trade-bot").await;
    for id in [a, b] {
        w.servers.deliver(&w.proof(), id, Utc::now()).await.unwrap();
    }
    let only_a = w.host("vps1", &[a]).await;
    let both = w.host("vps2", &[a, b]).await;
    read_and_record(&only_a, "wallet-bot").await;
    read_and_record(&both, "wallet-bot").await;

    let (code, now) = w.env.code();
    let report = w.env.engine.emergency_revoke(&code, Selection::Keys(vec![a]), now, no_progress()).await.unwrap();
    assert!(matches!(report.keys[0].result, KeyResult::Revoked { .. }), "{:?}", report.keys[0].result);
    let texts: Vec<(&str, bool)> = report.servers.iter().map(|s| (s.text.as_str(), s.ok)).collect();
    assert_eq!(
        texts,
        vec![
            ("every version and the metadata destroyed at secret/data/latchkey/wallet-bot", true),
            ("host 'vps1' removed: its token revoked, its role and policy deleted", true),
            ("host 'vps2' may no longer read wallet-bot (it keeps trade-bot)", true),
        ]
    );
    let root = w.bao.client();
    assert!(root.current_version("wallet-bot").await.unwrap().is_none(), "versions and metadata gone");
    assert!(matches!(only_a.host_identity().await, Err(ServerError::TokenRefused)), "vps1's token revoked");
    assert!(matches!(
        both.read_version("wallet-bot", None).await,
        Err(ServerError::NotFound { .. } | ServerError::PermissionDenied { .. })
    ));
    assert_eq!(both.read_version("trade-bot", None).await.unwrap().version, 1, "vps2 keeps its other key");
    // The report reads the same when built again from the journal.
    assert_eq!(w.env.engine.report(&report.job_id).unwrap().unwrap().servers, report.servers);
}

#[tokio::test]
async fn an_automatic_rotation_hands_the_new_key_to_the_host_with_nobody_at_the_keyboard() {
    let test = "an_automatic_rotation_hands_the_new_key_to_the_host_with_nobody_at_the_keyboard";
    let Some(w) = World::new(test).await else { return };
    let (_, old) = crate::autorotate::master_and_sub(&w.env, "okx-master-ip-bound", "okx-sub-bot", "bot-sub-1");
    w.servers.deliver(&w.proof(), old, Utc::now()).await.unwrap();
    let host = w.host("vps1", &[old]).await;
    assert_eq!(read_and_record(&host, "okx-sub-bot").await, 1);
    let bot = tokio::spawn(async move {
        loop {
            if host.current_version("okx-sub-bot").await.unwrap().is_some_and(|v| v.current >= 2) {
                return read_and_record(&host, "okx-sub-bot").await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let config =
        latchkey_core::autorotate::AutoRotateConfig { grace: Duration::from_secs(30), ..crate::autorotate::fast() };
    let report = crate::autorotate::engine(&w.env, config)
        .rotate_scheduled(&[old], latchkey_core::autorotate::no_progress())
        .await
        .unwrap();
    let [key] = report.keys.as_slice() else { panic!("{report:?}") };
    let latchkey_core::autorotate::RotationResult::Rotated { new_key_id, old_key, .. } = &key.result else {
        panic!("{report:?}")
    };
    assert_eq!(*old_key, KeyStatus::Revoked);
    assert_eq!(bot.await.unwrap(), 2, "the host read the new key before the old one was retired");
    let on_server = w.bao.client().read_version("okx-sub-bot", None).await.unwrap();
    let here = w.vault.credentials(*new_key_id).unwrap();
    use secrecy::ExposeSecret;
    assert_eq!(
        on_server.credentials.api_key.expose_secret(),
        here.api_key.expose_secret(),
        "the new key is on the server"
    );
    let versions = w.bao.client().current_version("okx-sub-bot").await.unwrap().unwrap();
    assert_eq!((versions.live, versions.destroyed), (vec![2], vec![1]), "the old version destroyed");
}

#[tokio::test]
async fn an_automatic_rotation_the_server_refuses_waits_in_its_journal_with_the_old_key_live() {
    let test = "an_automatic_rotation_the_server_refuses_waits_in_its_journal_with_the_old_key_live";
    let Some(w) = World::new(test).await else { return };
    let (_, old) = crate::autorotate::master_and_sub(&w.env, "okx-master-ip-bound", "okx-sub-bot", "bot-sub-1");
    let old_api_key = seed_key("okx-sub-bot").api_key;
    w.servers.deliver(&w.proof(), old, Utc::now()).await.unwrap();
    // Someone swapped Latchkey's token for one that may only read.
    let reader = w.bao.token_with_policy("reader", "path \"secret/*\" { capabilities = [\"read\", \"list\"] }\n").await;
    w.servers.configure(w.bao.settings(), SecretString::from(reader)).unwrap();
    let engine = crate::autorotate::engine(&w.env, crate::autorotate::fast());
    let progress = latchkey_core::autorotate::no_progress;
    engine.rotate_scheduled(&[old], progress()).await.unwrap();
    assert!(w.env.sim.state().has_key(&old_api_key), "the old key stays live for the server's bots");
    assert_eq!(engine.unfinished().unwrap().len(), 1, "the rotation waits in its journal");
    assert_eq!(w.bao.client().current_version("okx-sub-bot").await.unwrap().unwrap().current, 1);

    // Given its token back, the resume finishes it: the new key delivered, the old one retired.
    w.servers.configure(w.bao.settings(), SecretString::from(w.bao.root.clone())).unwrap();
    let reports = engine.resume_unfinished(progress()).await.unwrap();
    assert!(
        matches!(reports[0].keys[0].result, latchkey_core::autorotate::RotationResult::Rotated { .. }),
        "{reports:?}"
    );
    assert!(!w.env.sim.state().has_key(&old_api_key));
    assert_eq!(w.bao.client().current_version("okx-sub-bot").await.unwrap().unwrap().current, 2);
    assert!(engine.unfinished().unwrap().is_empty());
}
