//! Keys delivered through OpenBao (issue 15), against the real `bao server -dev` that each test
//! starts (openbao_support): the connection test's diagnoses, delivery with check-and-set and
//! metadata, reading versions back, destroying old versions and everything, and every bad input
//! (wrong token, wrong mount, a path the policy does not allow, a CAS conflict, an unreachable or
//! sealed server, TLS).
#![allow(clippy::unwrap_used)]

use crate::openbao_support::{dead_address, DevServer};

use chrono::NaiveDate;
use latchkey_core::error::ErrorCode;
use latchkey_core::secret::Credentials;
use latchkey_core::servers::{AuthMethod, BaoClient, DeliveryMeta, Expect, ReadRecord, ServerError, ServerSettings};
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

fn creds(n: u32) -> Credentials {
    Credentials::new(
        &format!("9f2c1d7e-5b3a-4c8e-a1f0-7d6e5c4b3a{n:02}"),
        &format!("{n:02}A1B2C3D4E5F60718293A4B5C6D7E8F"),
        Some(&format!("Pass-phrase-{n}")),
    )
}

fn meta(c: &Credentials) -> DeliveryMeta {
    DeliveryMeta {
        exchange: "okx".into(),
        key_hint: "9f2c…3a01".into(),
        rotate_after: NaiveDate::from_ymd_opt(2027, 3, 1),
        ip_whitelist: vec!["203.0.113.9".into(), "198.51.100.7".into()],
        fingerprint: latchkey_core::servers::kv::fingerprint(c),
        place: None,
    }
}

/// The error, and its message in the same breath so a failed assertion shows it.
fn err<T: std::fmt::Debug>(r: Result<T, ServerError>) -> (ServerError, String) {
    let e = r.expect_err("an error");
    let m = e.to_string();
    (e, m)
}

#[tokio::test]
async fn a_working_setup_passes_the_connection_test() {
    let Some(bao) = DevServer::start("a_working_setup_passes_the_connection_test").await else { return };
    let report = bao.client().test_connection().await.unwrap();
    assert_eq!(report.server_version, "2.7.2");
    assert_eq!((report.mount.as_str(), report.prefix.as_str()), ("secret", "latchkey"));
    assert!(!report.standby);
    assert!(report.token_policies.contains(&"root".to_owned()), "{report:?}");
    assert!(bao.started_in.as_secs() < 10, "started in {:?}", bao.started_in);
}

#[tokio::test]
async fn deliver_read_rotate_and_destroy() {
    let Some(bao) = DevServer::start("deliver_read_rotate_and_destroy").await else { return };
    let c = bao.client();
    let label = "okx-bot-main";
    assert!(c.current_version(label).await.unwrap().is_none());

    let d1 = c.deliver(label, &creds(1), &meta(&creds(1)), Expect::Absent).await.unwrap();
    assert_eq!((d1.path.as_str(), d1.version), ("secret/data/latchkey/okx-bot-main", 1));
    let back = c.read_version(label, None).await.unwrap();
    assert_eq!(back.version, 1);
    assert_eq!((back.exchange.as_str(), back.label.as_str()), ("okx", label));
    assert_eq!(back.credentials.api_key.expose_secret(), creds(1).api_key.expose_secret());
    assert_eq!(back.credentials.api_secret.expose_secret(), creds(1).api_secret.expose_secret());
    assert_eq!(back.credentials.passphrase.unwrap().expose_secret(), "Pass-phrase-1");

    let v = c.current_version(label).await.unwrap().unwrap();
    assert_eq!((v.current, v.max_versions, v.cas_required), (1, 5, true));
    let m = &v.custom_metadata;
    assert_eq!(m["exchange"], "okx");
    assert_eq!(m["key_hint"], "9f2c…3a01");
    assert_eq!(m["rotate_after"], "2027-03-01");
    assert_eq!(m["ip_whitelist"], "203.0.113.9,198.51.100.7");
    assert_eq!(m["managed_by"], "latchkey");
    assert_eq!(m["fingerprint"].len(), 16);
    for value in m.values() {
        assert!(!value.contains("01A1B2C3D4E5") && !value.contains("Pass-phrase"), "no secret in metadata: {m:?}");
    }

    // Two rotations: each new version expects the one before.
    let d2 = c.deliver(label, &creds(2), &meta(&creds(2)), Expect::Version(1)).await.unwrap();
    let d3 = c.deliver(label, &creds(3), &meta(&creds(3)), Expect::Version(d2.version)).await.unwrap();
    assert_eq!((d2.version, d3.version), (2, 3));
    assert_eq!(c.current_version(label).await.unwrap().unwrap().live, vec![1, 2, 3]);
    let old = c.read_version(label, Some(1)).await.unwrap();
    assert_eq!(old.credentials.api_key.expose_secret(), creds(1).api_key.expose_secret(), "old versions stay readable");

    // The hosts moved: keep only the newest.
    assert_eq!(c.destroy_old_versions(label, 1).await.unwrap(), vec![1, 2]);
    let v = c.current_version(label).await.unwrap().unwrap();
    assert_eq!((v.live.clone(), v.destroyed.clone()), (vec![3], vec![1, 2]));
    let (e, msg) = err(c.read_version(label, Some(1)).await);
    assert!(matches!(e, ServerError::NotFound { version: Some(1), .. }), "{msg}");
    assert_eq!(c.read_version(label, None).await.unwrap().version, 3);
    assert_eq!(c.destroy_old_versions(label, 1).await.unwrap(), Vec::<u64>::new(), "nothing more to destroy");
    let (e, _) = err(c.destroy_old_versions(label, 0).await);
    assert_eq!(e.kind(), ErrorCode::Invalid);

    // Revoke: every version and the metadata.
    assert!(c.destroy_all(label).await.unwrap());
    assert!(c.current_version(label).await.unwrap().is_none());
    let (e, msg) = err(c.read_version(label, None).await);
    assert!(matches!(e, ServerError::NotFound { version: None, .. }), "{msg}");
    let (status, _) = bao.admin(Method::GET, "secret/data/latchkey/okx-bot-main?version=3", None).await;
    assert_eq!(status, 404, "gone for the root token too");
    assert!(!c.destroy_all(label).await.unwrap(), "nothing left to remove");
    // A fresh delivery starts over at version 1.
    assert_eq!(c.deliver(label, &creds(4), &meta(&creds(4)), Expect::Absent).await.unwrap().version, 1);
}

#[tokio::test]
async fn versions_are_bounded() {
    let Some(bao) = DevServer::start("versions_are_bounded").await else { return };
    let c = bao.client_with(ServerSettings { max_versions: 3, ..bao.settings() }, &bao.root);
    let mut expect = Expect::Absent;
    for n in 1..=6 {
        let d = c.deliver("bybit-grid", &creds(n), &meta(&creds(n)), expect).await.unwrap();
        expect = Expect::Version(d.version);
    }
    let v = c.current_version("bybit-grid").await.unwrap().unwrap();
    assert_eq!((v.current, v.max_versions), (6, 3));
    assert_eq!(v.live, vec![4, 5, 6], "OpenBao keeps only the newest three");
}

#[tokio::test]
async fn a_cas_conflict_says_someone_else_wrote_the_key() {
    let Some(bao) = DevServer::start("a_cas_conflict_says_someone_else_wrote_the_key").await else { return };
    let c = bao.client();
    let label = "binance-arb";
    c.deliver(label, &creds(1), &meta(&creds(1)), Expect::Absent).await.unwrap();

    // A first delivery where a key already is.
    let (e, msg) = err(c.deliver(label, &creds(2), &meta(&creds(2)), Expect::Absent).await);
    assert!(matches!(e, ServerError::CasConflict { expected: None, current: Some(1), .. }), "{msg}");
    assert_eq!(e.kind(), ErrorCode::CasConflict);

    // Someone else writes version 2 (with cas: the metadata requires it of every writer).
    let (status, reply) = bao
        .admin(Method::POST, "secret/data/latchkey/binance-arb", Some(json!({ "data": { "api_key": "theirs" } })))
        .await;
    assert_eq!(status, 400, "a blind write is refused: {reply}");
    let (status, _) = bao
        .admin(
            Method::POST,
            "secret/data/latchkey/binance-arb",
            Some(json!({ "options": { "cas": 1 }, "data": { "api_key": "theirs", "api_secret": "theirs" } })),
        )
        .await;
    assert_eq!(status, 200);

    let (e, msg) = err(c.deliver(label, &creds(3), &meta(&creds(3)), Expect::Version(1)).await);
    assert!(matches!(e, ServerError::CasConflict { expected: Some(1), current: Some(2), .. }), "{msg}");
    assert!(
        msg.contains("Someone else wrote the key") && msg.contains("version 2") && msg.contains("expected version 1")
    );
    assert_eq!(
        c.read_version(label, None).await.unwrap().credentials.api_key.expose_secret(),
        "theirs",
        "nothing overwritten"
    );
}

#[tokio::test]
async fn a_retried_write_that_had_landed_is_not_a_conflict() {
    let Some(bao) = DevServer::start("a_retried_write_that_had_landed_is_not_a_conflict").await else { return };
    let c = bao.client();
    c.deliver("okx-bot", &creds(1), &meta(&creds(1)), Expect::Version(0)).await.unwrap();
    // Version 2 with exactly the next key, as if Latchkey's own write landed but its answer was lost.
    let next = creds(2);
    let data = json!({
        "exchange": "okx", "label": "okx-bot",
        "api_key": next.api_key.expose_secret(), "api_secret": next.api_secret.expose_secret(),
        "passphrase": next.passphrase.as_ref().unwrap().expose_secret(),
    });
    let (status, _) = bao
        .admin(Method::POST, "secret/data/latchkey/okx-bot", Some(json!({ "options": { "cas": 1 }, "data": data })))
        .await;
    assert_eq!(status, 200);
    let d = c.deliver("okx-bot", &next, &meta(&next), Expect::Version(1)).await.unwrap();
    assert_eq!(d.version, 2, "the retry finds its own write");
    let v = c.current_version("okx-bot").await.unwrap().unwrap();
    assert_eq!((v.current, v.custom_metadata["fingerprint"].clone()), (2, meta(&next).fingerprint), "metadata written");
    // A different key there is still a conflict.
    let (e, msg) = err(c.deliver("okx-bot", &creds(3), &meta(&creds(3)), Expect::Version(1)).await);
    assert!(matches!(e, ServerError::CasConflict { current: Some(2), .. }), "{msg}");
}

#[tokio::test]
async fn a_wrong_token_is_refused() {
    let Some(bao) = DevServer::start("a_wrong_token_is_refused").await else { return };
    let c = bao.client_with(bao.settings(), "s.not-a-real-token");
    let (e, msg) = err(c.test_connection().await);
    assert!(matches!(e, ServerError::TokenRefused), "{msg}");
    assert_eq!(e.kind(), ErrorCode::CredentialRefused);
    let (e, msg) = err(c.deliver("okx-bot", &creds(1), &meta(&creds(1)), Expect::Absent).await);
    assert!(matches!(e, ServerError::TokenRefused), "{msg}");
    assert!(!msg.contains("s.not-a-real-token"), "the token is never echoed");
    assert!(!format!("{c:?}").contains("s.not-a-real-token"), "nor shown by Debug");

    // A token revoked after it worked.
    let token = bao.token_with_policy("latchkey", &full_policy("secret", "latchkey")).await;
    let c = bao.client_with(bao.settings(), &token);
    c.test_connection().await.unwrap();
    let (status, _) = bao.admin(Method::POST, "auth/token/revoke", Some(json!({ "token": token }))).await;
    assert_eq!(status, 204);
    let (e, msg) = err(c.read_version("okx-bot", None).await);
    assert!(matches!(e, ServerError::TokenRefused), "{msg}");
}

fn full_policy(mount: &str, prefix: &str) -> String {
    ["data", "metadata", "destroy"]
        .iter()
        .zip([r#""create","update","read""#, r#""create","update","read","delete""#, r#""update""#])
        .map(|(kind, caps)| format!("path \"{mount}/{kind}/{prefix}/*\" {{ capabilities = [{caps}] }}\n"))
        .collect()
}

#[tokio::test]
async fn a_wrong_mount_is_named() {
    let Some(bao) = DevServer::start("a_wrong_mount_is_named").await else { return };
    let with_mount = |m: &str| bao.client_with(ServerSettings { mount: m.into(), ..bao.settings() }, &bao.root);

    let c = with_mount("secrets");
    let (e, msg) = err(c.test_connection().await);
    assert!(matches!(e, ServerError::MountNotFound { .. }), "{msg}");
    assert!(msg.contains("`secrets/`") && msg.contains("bao secrets list"), "{msg}");
    let (e, msg) = err(c.deliver("okx-bot", &creds(1), &meta(&creds(1)), Expect::Absent).await);
    assert!(matches!(e, ServerError::MountNotFound { .. }), "{msg}");

    // A path inside the KV mount is not a mount.
    let (e, msg) = err(with_mount("secret/team").test_connection().await);
    assert!(matches!(e, ServerError::MountNotFound { .. }), "{msg}");

    // KV version 1 has no versions, no check-and-set.
    let (status, _) =
        bao.admin(Method::POST, "sys/mounts/kv1", Some(json!({ "type": "kv", "options": { "version": "1" } }))).await;
    assert_eq!(status, 204);
    let (e, msg) = err(with_mount("kv1").test_connection().await);
    assert!(matches!(e, ServerError::NotKvV2 { .. }), "{msg}");
    assert!(msg.contains("a KV version 1 engine"), "{msg}");
    let (status, _) = bao.admin(Method::POST, "sys/mounts/transit", Some(json!({ "type": "transit" }))).await;
    assert_eq!(status, 204);
    let (e, msg) = err(with_mount("transit").test_connection().await);
    assert!(matches!(e, ServerError::NotKvV2 { .. }) && msg.contains("'transit'"), "{msg}");
}

#[tokio::test]
async fn a_path_the_policy_does_not_allow_is_named_with_the_fix() {
    let Some(bao) = DevServer::start("a_path_the_policy_does_not_allow_is_named_with_the_fix").await else { return };
    // Data only: no metadata, no destroy.
    let token = bao
        .token_with_policy(
            "data-only",
            r#"path "secret/data/latchkey/*" { capabilities = ["create", "update", "read"] }"#,
        )
        .await;
    let c = bao.client_with(bao.settings(), &token);
    let (e, msg) = err(c.test_connection().await);
    assert!(matches!(e, ServerError::PermissionDenied { .. }), "{msg}");
    assert_eq!(e.kind(), ErrorCode::PermissionDenied);
    assert!(msg.contains("`secret/metadata/latchkey/…`"), "{msg}");
    assert!(
        msg.contains(r#"path "secret/metadata/latchkey/*" { capabilities = ["create", "update", "read", "delete"] }"#)
    );
    assert!(msg.contains(r#"path "secret/destroy/latchkey/*" { capabilities = ["update"] }"#), "{msg}");
    assert!(!msg.contains("secret/data/latchkey/*"), "the data path is granted: {msg}");
    // The write itself lands, the metadata is refused with its own policy line.
    let (e, msg) = err(c.deliver("okx-bot", &creds(1), &meta(&creds(1)), Expect::Absent).await);
    assert!(
        matches!(&e, ServerError::PermissionDenied { denied, .. } if denied == "secret/metadata/latchkey/okx-bot"),
        "{msg}"
    );

    // A policy for another prefix: the settings' prefix is not allowed at all.
    let token = bao.token_with_policy("team-b", &full_policy("secret", "team-b")).await;
    let c = bao.client_with(bao.settings(), &token);
    let (e, msg) = err(c.test_connection().await);
    assert!(matches!(e, ServerError::PermissionDenied { .. }), "{msg}");
    assert!(msg.contains("`secret/data/latchkey/…`") && msg.contains(r#"path "secret/data/latchkey/*""#), "{msg}");
    let (e, msg) = err(c.deliver("okx-bot", &creds(1), &meta(&creds(1)), Expect::Absent).await);
    assert!(
        matches!(&e, ServerError::PermissionDenied { denied, .. } if denied == "secret/data/latchkey/okx-bot"),
        "{msg}"
    );
    let (e, _) = err(c.destroy_all("okx-bot").await);
    assert!(matches!(e, ServerError::PermissionDenied { .. }));

    // The right policy passes.
    let token = bao.token_with_policy("latchkey", &full_policy("secret", "latchkey")).await;
    let c = bao.client_with(bao.settings(), &token);
    let report = c.test_connection().await.unwrap();
    assert!(report.token_policies.contains(&"latchkey".to_owned()), "{report:?}");
    assert!(report.token_ttl_secs.is_some_and(|t| t <= 3600), "{report:?}");
    c.deliver("okx-bot-2", &creds(1), &meta(&creds(1)), Expect::Absent).await.unwrap();
    assert!(c.destroy_all("okx-bot-2").await.unwrap());
}

#[tokio::test]
async fn an_unreachable_address_is_said_so() {
    let addr = dead_address();
    let c = BaoClient::new(ServerSettings::new(&addr).unwrap(), SecretString::from("s.token".to_owned())).unwrap();
    let (e, msg) = err(c.test_connection().await);
    assert!(matches!(e, ServerError::Unreachable { .. }), "{msg}");
    assert!(msg.contains(&addr) && msg.contains("refused"), "{msg}");
    assert_eq!(e.kind(), ErrorCode::Network);
    let (e, _) = err(c.deliver("okx-bot", &creds(1), &meta(&creds(1)), Expect::Absent).await);
    assert!(matches!(e, ServerError::Unreachable { .. }));
}

#[tokio::test]
async fn a_sealed_server_is_said_so() {
    let Some(bao) = DevServer::start("a_sealed_server_is_said_so").await else { return };
    let c = bao.client();
    c.deliver("okx-bot", &creds(1), &meta(&creds(1)), Expect::Absent).await.unwrap();
    bao.seal().await;
    let (e, msg) = err(c.test_connection().await);
    assert!(matches!(e, ServerError::Sealed { .. }), "{msg}");
    assert!(msg.contains("bao operator unseal"), "{msg}");
    assert_eq!(e.kind(), ErrorCode::ServerSealed);
    let (e, msg) = err(c.deliver("okx-bot", &creds(2), &meta(&creds(2)), Expect::Version(1)).await);
    assert!(matches!(e, ServerError::Sealed { .. }), "{msg}");
    let (e, _) = err(c.read_version("okx-bot", None).await);
    assert!(matches!(e, ServerError::Sealed { .. }));
}

#[tokio::test]
async fn tls_needs_a_trusted_certificate() {
    let Some(bao) = DevServer::start_tls("tls_needs_a_trusted_certificate").await else { return };
    // The dev server's own CA is not one the system trusts.
    let untrusted = bao.client_with(ServerSettings { ca_file: None, ..bao.settings() }, &bao.root);
    let (e, msg) = err(untrusted.test_connection().await);
    assert!(matches!(e, ServerError::Tls { .. }), "{msg}");
    assert!(msg.contains("not trusted") && msg.contains("--ca-file"), "{msg}");
    assert_eq!(e.kind(), ErrorCode::ServerTls);
    // With the CA file it works.
    let trusted = bao.client();
    trusted.test_connection().await.unwrap();
    trusted.deliver("okx-bot", &creds(1), &meta(&creds(1)), Expect::Absent).await.unwrap();
    // Plain http to the https listener.
    let http_addr = bao.addr.replace("https://", "http://");
    let plain = bao.client_with(ServerSettings::new(&http_addr).unwrap(), &bao.root);
    let (e, msg) = err(plain.test_connection().await);
    assert!(matches!(e, ServerError::Tls { .. }) && msg.contains("https://"), "{msg}");
    // A CA file that is not one.
    let bogus = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(bogus.path(), "not a certificate").unwrap();
    let settings = ServerSettings { ca_file: Some(bogus.path().into()), ..bao.settings() };
    let (e, msg) = err(BaoClient::new(settings, SecretString::from("t".to_owned())));
    assert!(matches!(e, ServerError::Setting { .. }) && msg.contains("CA file"), "{msg}");
}

#[tokio::test]
async fn userpass_signs_in_and_a_wrong_password_is_refused() {
    let Some(bao) = DevServer::start("userpass_signs_in_and_a_wrong_password_is_refused").await else { return };
    let (status, _) = bao.admin(Method::POST, "sys/auth/userpass", Some(json!({ "type": "userpass" }))).await;
    assert_eq!(status, 204);
    bao.token_with_policy("latchkey", &full_policy("secret", "latchkey")).await;
    let (status, _) = bao
        .admin(
            Method::POST,
            "auth/userpass/users/desk",
            Some(json!({ "password": "correct horse battery", "token_policies": "latchkey" })),
        )
        .await;
    assert_eq!(status, 204);
    let settings = ServerSettings {
        auth: AuthMethod::Userpass { username: "desk".into(), mount: "userpass".into() },
        ..bao.settings()
    };
    let c = bao.client_with(settings.clone(), "correct horse battery");
    let report = c.test_connection().await.unwrap();
    assert!(report.token_policies.contains(&"latchkey".to_owned()), "{report:?}");
    c.deliver("okx-bot", &creds(1), &meta(&creds(1)), Expect::Absent).await.unwrap();
    assert_eq!(c.read_version("okx-bot", None).await.unwrap().version, 1);

    let wrong = bao.client_with(settings.clone(), "wrong password");
    let (e, msg) = err(wrong.test_connection().await);
    assert!(matches!(e, ServerError::LoginRefused { .. }), "{msg}");
    assert!(msg.contains("'desk'") && !msg.contains("wrong password"), "{msg}");
    let elsewhere =
        ServerSettings { auth: AuthMethod::Userpass { username: "desk".into(), mount: "ldap".into() }, ..settings };
    let (e, msg) = err(bao.client_with(elsewhere, "correct horse battery").test_connection().await);
    assert!(matches!(e, ServerError::LoginRefused { .. }) && msg.contains("auth/ldap"), "{msg}");
}

#[tokio::test]
async fn a_label_that_is_not_a_path_is_refused_before_anything_is_sent() {
    // No server: the label is checked first.
    let c = BaoClient::new(ServerSettings::new(&dead_address()).unwrap(), SecretString::from("t".to_owned())).unwrap();
    let (e, msg) = err(c.deliver("My OKX key", &creds(1), &meta(&creds(1)), Expect::Absent).await);
    assert!(matches!(e, ServerError::LabelNotAPath { .. }), "{msg}");
    assert!(msg.contains("'My-OKX-key'"), "{msg}");
}

mod service {
    use super::*;
    use std::sync::Arc;

    use chrono::Utc;
    use latchkey_core::audit::{Action, Event, Outcome};
    use latchkey_core::keychain::memory::MemoryStore;
    use latchkey_core::model::{Environment, Exchange};
    use latchkey_core::servers::credential::ServerSecretStore;
    use latchkey_core::servers::{DeliveryOutcome, Servers};
    use latchkey_core::store::Store;
    use latchkey_core::vault::{NewKey, Vault};

    struct Desk {
        _dir: tempfile::TempDir,
        store: Arc<Store>,
        vault: Arc<Vault>,
        keychain: Arc<MemoryStore>,
        servers: Servers,
    }

    fn desk() -> Desk {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open_in(dir.path()).unwrap());
        let keychain = Arc::new(MemoryStore::default());
        let vault = Arc::new(Vault::new(store.clone(), keychain.clone()));
        let servers = Servers::new(store.clone(), vault.clone(), keychain.clone());
        Desk { _dir: dir, store, vault, keychain, servers }
    }

    impl Desk {
        fn proof(&self) -> latchkey_core::guard::Verified {
            crate::openbao_support::proof(&self.store, &self.keychain)
        }

        fn add(&self, label: &str, n: u32) -> latchkey_core::model::KeyRecord {
            let new = NewKey {
                exchange: Exchange::Okx,
                label: label.into(),
                environment: Environment::Live,
                credentials: creds(n),
                rotation_days: Some(30),
            };
            self.vault.insert(self.vault.validate(new).unwrap(), None, Utc::now()).unwrap()
        }

        fn actions(&self) -> Vec<(Action, Outcome)> {
            let mut log: Vec<_> =
                self.store.audit_log(100).unwrap().into_iter().map(|e| (e.action, e.outcome)).collect();
            log.reverse();
            log.into_iter().filter(|(a, _)| matches!(a, Action::Deliver | Action::Undeliver)).collect()
        }
    }

    #[test]
    fn records_kept_as_one_map_before_are_split_into_rows() {
        let d = desk();
        let key = d.add("okx-old", 1);
        let record = latchkey_core::servers::DeliveryRecord {
            key_id: key.id,
            label: "okx-old".into(),
            version: 3,
            fingerprint: "f".into(),
            delivered_at: Utc::now(),
        };
        let path = "http://127.0.0.1:8200 secret/data/latchkey/okx-old".to_owned();
        let before = std::collections::BTreeMap::from([(path.clone(), record.clone())]);
        d.store.set_setting("openbao-deliveries", &before).unwrap();
        assert_eq!(d.servers.deliveries().unwrap(), before);
        assert!(d.store.setting::<serde_json::Value>("openbao-deliveries").unwrap().is_none(), "the map is gone");
        assert_eq!(d.servers.deliveries().unwrap(), before, "read from the rows");
    }

    #[tokio::test]
    async fn deliver_and_undeliver_keys_of_the_vault() {
        let Some(bao) = DevServer::start("deliver_and_undeliver_keys_of_the_vault").await else { return };
        let d = desk();
        let key = d.add("okx-grid", 1);
        let (e, msg) = err(d.servers.deliver(&d.proof(), key.id, Utc::now()).await);
        assert!(matches!(e, ServerError::NotConfigured), "{msg}");

        // A bad setting saves nothing, neither settings nor credential.
        let bad = ServerSettings { mount: "a b".into(), ..bao.settings() };
        assert!(d.servers.configure(bad, SecretString::from(bao.root.clone())).is_err());
        assert!(d.servers.settings().unwrap().is_none() && d.keychain.get_server_secret().unwrap().is_none());
        let token = bao.token_with_policy("latchkey", &full_policy("secret", "latchkey")).await;
        d.servers.configure(bao.settings(), SecretString::from(token.clone())).unwrap();
        assert_eq!(d.keychain.get_server_secret().unwrap().unwrap().expose_secret(), token, "in the keychain");
        let in_db = serde_json::to_string(&d.servers.settings().unwrap()).unwrap();
        assert!(!in_db.contains(&token), "never in the database: {in_db}");
        d.servers.test().await.unwrap();

        let out = d.servers.deliver(&d.proof(), key.id, Utc::now()).await.unwrap();
        assert_eq!(
            out,
            DeliveryOutcome::Delivered {
                label: "okx-grid".into(),
                path: "secret/data/latchkey/okx-grid".into(),
                version: 1
            }
        );
        let back = bao.client().read_version("okx-grid", None).await.unwrap();
        assert_eq!(back.credentials.api_secret.expose_secret(), creds(1).api_secret.expose_secret());
        assert_eq!(back.custom_metadata["exchange"], "okx");
        assert_eq!(back.custom_metadata["key_hint"], key.key_hint);
        assert_eq!(
            back.custom_metadata["rotate_after"],
            (key.rotated_at + chrono::Duration::days(30)).date_naive().to_string()
        );
        // Where the key is used, for a server's signing agent: in the version's data.
        let place = back.place.clone().expect("the place is delivered");
        assert_eq!((place.environment, place.demo), (Environment::Live, false));
        assert_eq!(back.custom_metadata["place"], "live");
        // Again: nothing new to write.
        assert!(matches!(
            d.servers.deliver(&d.proof(), key.id, Utc::now()).await.unwrap(),
            DeliveryOutcome::UpToDate { version: 1, .. }
        ));
        // A version delivered before the place was (its metadata says none) is written again.
        let (status, _) = bao
            .admin(
                Method::POST,
                "secret/metadata/latchkey/okx-grid",
                Some(json!({ "custom_metadata": { "managed_by": "latchkey", "exchange": "okx",
                    "fingerprint": back.custom_metadata["fingerprint"] } })),
            )
            .await;
        assert_eq!(status, 204);
        let out = d.servers.deliver(&d.proof(), key.id, Utc::now()).await.unwrap();
        assert!(matches!(out, DeliveryOutcome::Delivered { version: 2, .. }), "{out:?}");
        assert!(bao.client().read_version("okx-grid", None).await.unwrap().place.is_some());

        // A rotation: the new key (a new id under the same label) is the path's next version.
        let key = d.vault.replace(&key, creds(5), None, Utc::now()).unwrap();
        let out = d.servers.deliver(&d.proof(), key.id, Utc::now()).await.unwrap();
        assert!(matches!(out, DeliveryOutcome::Delivered { version: 3, .. }), "{out:?}");
        let back = bao.client().read_version("okx-grid", None).await.unwrap();
        assert_eq!(back.credentials.api_key.expose_secret(), creds(5).api_key.expose_secret());
        assert_eq!(d.servers.deliveries().unwrap().values().next().unwrap().key_id, key.id);

        // Someone else writes: Latchkey's next delivery is a conflict, and audited as failed.
        let (status, _) = bao
            .admin(
                Method::POST,
                "secret/data/latchkey/okx-grid",
                Some(json!({ "options": { "cas": 3 }, "data": { "api_key": "x" } })),
            )
            .await;
        assert_eq!(status, 200);
        let (e, msg) = err(d.servers.deliver(&d.proof(), key.id, Utc::now()).await);
        assert!(matches!(e, ServerError::CasConflict { expected: Some(3), current: Some(4), .. }), "{msg}");

        assert!(d.servers.undeliver(key.id, Utc::now()).await.unwrap());
        assert!(bao.client().current_version("okx-grid").await.unwrap().is_none());
        assert!(d.servers.deliveries().unwrap().is_empty());
        assert!(!d.servers.undeliver(key.id, Utc::now()).await.unwrap(), "nothing left");
        // A fresh start after the removal.
        assert!(matches!(
            d.servers.deliver(&d.proof(), key.id, Utc::now()).await.unwrap(),
            DeliveryOutcome::Delivered { version: 1, .. }
        ));
        assert_eq!(
            d.actions(),
            vec![
                (Action::Deliver, Outcome::Ok),
                (Action::Deliver, Outcome::Ok),
                (Action::Deliver, Outcome::Ok),
                (Action::Deliver, Outcome::Failed),
                (Action::Undeliver, Outcome::Ok),
                (Action::Undeliver, Outcome::Ok),
                (Action::Deliver, Outcome::Ok),
            ]
        );
    }

    #[tokio::test]
    async fn only_keys_bots_may_use_are_delivered() {
        let Some(bao) = DevServer::start("only_keys_bots_may_use_are_delivered").await else { return };
        let d = desk();
        d.servers.configure(bao.settings(), SecretString::from(bao.root.clone())).unwrap();
        let key = d.add("okx-denied", 1);
        let event = Event {
            at: Utc::now(),
            action: Action::BotsAccess,
            key_id: Some(key.id),
            label: Some(&key.label),
            outcome: Outcome::Ok,
            detail: "bots may not use this key".into(),
        };
        d.store.set_bots_allowed(key.id, false, &event).unwrap();
        let (e, msg) = err(d.servers.deliver(&d.proof(), key.id, Utc::now()).await);
        assert!(matches!(e, ServerError::Bots(_)), "{msg}");
        assert!(msg.contains("latchkey bots allow 'okx-denied'"), "{msg}");
        assert!(bao.client().current_version("okx-denied").await.unwrap().is_none(), "nothing written");

        let spaced = d.add("okx spaced", 2);
        let (e, msg) = err(d.servers.deliver(&d.proof(), spaced.id, Utc::now()).await);
        assert!(matches!(e, ServerError::LabelNotAPath { .. }), "{msg}");
        assert!(d.actions().is_empty(), "refusals before anything is sent are not deliveries");
    }
}

mod hosts {
    use super::*;

    fn host_admin_policy() -> String {
        full_policy("secret", "latchkey")
            + "path \"sys/policies/acl/latchkey-host-*\" { capabilities = [\"create\", \"update\", \"read\", \"delete\"] }\n\
               path \"auth/approle/role/latchkey-*\" { capabilities = [\"create\", \"update\", \"read\", \"delete\"] }\n\
               path \"auth/approle/role\" { capabilities = [\"list\"] }\n\
               path \"auth/token/revoke-accessor\" { capabilities = [\"update\"] }\n"
    }

    #[tokio::test]
    async fn hosts_record_their_reads_and_removal_revokes_their_token() {
        let test = "hosts_record_their_reads_and_removal_revokes_their_token";
        let Some(bao) = DevServer::start(test).await else { return };
        bao.admin(Method::POST, "sys/auth/approle", Some(json!({ "type": "approle" }))).await;
        let token = bao.token_with_policy("latchkey", &host_admin_policy()).await;
        let c = bao.client_with(bao.settings(), &token);
        for (label, n) in [("okx-a", 1), ("okx-b", 2)] {
            c.deliver(label, &creds(n), &meta(&creds(n)), Expect::Absent).await.unwrap();
        }
        let enrolment = c.add_host("vps1", &["okx-a"]).await.unwrap();
        let host =
            BaoClient::host_sign_in(bao.settings(), &enrolment.role_id, enrolment.wrapped_secret_id).await.unwrap();
        let me = host.host_identity().await.unwrap();
        assert_eq!(me.host, "vps1", "the role's name, from the token's own lookup");
        assert!(c.read_record("vps1", "okx-a").await.unwrap().is_none(), "never read");

        let at = chrono::Utc::now();
        let record = ReadRecord { version: 1, read_at: at, seen_at: at, accessor: Some(me.accessor.clone()) };
        host.record_read("vps1", "okx-a", &record).await.unwrap();
        let seen = c.read_record("vps1", "okx-a").await.unwrap().unwrap();
        assert_eq!(seen.version, 1);
        assert_eq!(seen.accessor.as_deref(), Some(me.accessor.as_str()));
        assert!(seen.live(at + chrono::Duration::seconds(60)) && !seen.live(at + chrono::Duration::minutes(4)));
        // Only its own record, for its own keys; and it cannot read records back.
        for (who, label) in [("vps2", "okx-a"), ("vps1", "okx-b")] {
            let (e, msg) = err(host.record_read(who, label, &record).await);
            assert!(matches!(e, ServerError::PermissionDenied { .. }), "{who}/{label}: {msg}");
        }
        let (e, msg) = err(host.read_record("vps1", "okx-a").await);
        assert!(matches!(e, ServerError::PermissionDenied { .. }), "{msg}");
        assert_eq!(c.list_hosts().await.unwrap()[0].keys, vec!["okx-a".to_owned()], "records are not keys");

        // Narrowed to okx-b: the token it holds loses okx-a at once.
        c.set_host_keys("vps1", &["okx-b"]).await.unwrap();
        let (e, msg) = err(host.read_version("okx-a", None).await);
        assert!(matches!(e, ServerError::PermissionDenied { .. }), "{msg}");
        assert_eq!(host.read_version("okx-b", None).await.unwrap().version, 1);

        // Removed: the token its record names is revoked, and the record is gone.
        c.set_host_keys("vps1", &["okx-a"]).await.unwrap();
        assert!(c.remove_host("vps1").await.unwrap());
        let (e, msg) = err(host.host_identity().await);
        assert!(matches!(e, ServerError::TokenRefused), "the host's token is revoked: {msg}");
        assert!(c.read_record("vps1", "okx-a").await.unwrap().is_none());
        c.revoke_accessor(&me.accessor).await.unwrap();
        let (e, _) = err(host.host_identity().await);
        assert!(matches!(e, ServerError::TokenRefused), "revoking again changes nothing and is no error");
    }

    #[tokio::test]
    async fn a_host_reads_exactly_its_keys_once_enrolled() {
        let Some(bao) = DevServer::start("a_host_reads_exactly_its_keys_once_enrolled").await else { return };
        let token = bao.token_with_policy("latchkey", &host_admin_policy()).await;
        let c = bao.client_with(bao.settings(), &token);
        let (e, msg) = err(c.add_host("vps1", &["okx-a"]).await);
        assert!(matches!(e, ServerError::ApproleMissing), "{msg}");
        let (status, _) = bao.admin(Method::POST, "sys/auth/approle", Some(json!({ "type": "approle" }))).await;
        assert_eq!(status, 204);
        assert_eq!(c.list_hosts().await.unwrap(), vec![], "no hosts yet");

        for (label, n) in [("okx-a", 1), ("okx-b", 2)] {
            c.deliver(label, &creds(n), &meta(&creds(n)), Expect::Absent).await.unwrap();
        }
        let (e, msg) = err(c.add_host("my vps", &["okx-a"]).await);
        assert!(matches!(e, ServerError::Setting { .. }) && msg.contains("vps-frankfurt-1"), "{msg}");
        let (e, _) = err(c.add_host("vps1", &[]).await);
        assert!(matches!(e, ServerError::Setting { .. }));

        let enrolment = c.add_host("vps1", &["okx-a"]).await.unwrap();
        assert_eq!(enrolment.wrap_ttl_secs, 600);
        assert_eq!(enrolment.paths, vec!["secret/data/latchkey/okx-a".to_owned()]);
        assert!(!format!("{enrolment:?}").contains(enrolment.wrapped_secret_id.expose_secret()), "redacted");
        let wrapped = enrolment.wrapped_secret_id.expose_secret().to_owned();

        // On the server: unwrap once, sign in, read its key and nothing else.
        let host = BaoClient::host_sign_in(bao.settings(), &enrolment.role_id, SecretString::from(wrapped.clone()))
            .await
            .unwrap();
        let got = host.read_version("okx-a", None).await.unwrap();
        assert_eq!(got.credentials.api_secret.expose_secret(), creds(1).api_secret.expose_secret());
        assert_eq!(host.current_version("okx-a").await.unwrap().unwrap().current, 1, "it may watch the version");
        let (e, msg) = err(host.read_version("okx-b", None).await);
        assert!(matches!(e, ServerError::PermissionDenied { .. }), "{msg}");
        let (e, msg) = err(host.deliver("okx-a", &creds(9), &meta(&creds(9)), Expect::Version(1)).await);
        assert!(matches!(e, ServerError::PermissionDenied { .. }), "a host cannot write: {msg}");

        // The enrolment token works once.
        let (e, msg) =
            err(BaoClient::host_sign_in(bao.settings(), &enrolment.role_id, SecretString::from(wrapped)).await);
        assert!(matches!(e, ServerError::EnrolmentUsed), "{msg}");
        assert!(msg.contains("already used") && msg.contains("latchkey host add"), "{msg}");
        // A wrong role-id with a fresh enrolment.
        let again = c.add_host("vps1", &["okx-a", "okx-b"]).await.unwrap();
        let (e, msg) = err(BaoClient::host_sign_in(bao.settings(), "not-the-role-id", again.wrapped_secret_id).await);
        assert!(matches!(e, ServerError::HostLoginRefused), "{msg}");

        let hosts = c.list_hosts().await.unwrap();
        assert_eq!(hosts.len(), 1);
        assert_eq!(
            (hosts[0].name.as_str(), hosts[0].keys.clone()),
            ("vps1", vec!["okx-a".to_owned(), "okx-b".to_owned()])
        );

        // Removed: the token it holds reads nothing any more.
        assert!(c.remove_host("vps1").await.unwrap());
        let (e, msg) = err(host.read_version("okx-a", None).await);
        assert!(matches!(e, ServerError::PermissionDenied { .. }), "{msg}");
        assert!(c.list_hosts().await.unwrap().is_empty());
        assert!(!c.remove_host("vps1").await.unwrap(), "already gone");
    }

    #[tokio::test]
    async fn managing_hosts_needs_its_own_policy_lines() {
        let Some(bao) = DevServer::start("managing_hosts_needs_its_own_policy_lines").await else { return };
        bao.admin(Method::POST, "sys/auth/approle", Some(json!({ "type": "approle" }))).await;
        let token = bao.token_with_policy("keys-only", &full_policy("secret", "latchkey")).await;
        let c = bao.client_with(bao.settings(), &token);
        let (e, msg) = err(c.add_host("vps1", &["okx-a"]).await);
        assert!(matches!(e, ServerError::PermissionDenied { .. }), "{msg}");
        assert!(
            msg.contains(r#"path "sys/policies/acl/latchkey-host-*""#)
                && msg.contains(r#"path "auth/approle/role/latchkey-*""#),
            "{msg}"
        );
    }
}

mod cluster {
    use super::*;
    use crate::openbao_support::bao_or_skip;
    use crate::openbao_support::cluster::Cluster;
    use std::future::Future;
    use std::time::{Duration, Instant};

    /// Retries what a dying node interrupts (unreachable, timeouts, a leader election's 5xx or
    /// odd answers) for up to 45 s (a new active node took 2 to 3 s here with the harness's Raft
    /// `performance_multiplier = 1`, 8 to 16 s with the default 5); any other error fails at once.
    /// Returns the result and the wait.
    async fn through_failover<T, F: Future<Output = Result<T, ServerError>>>(
        what: &str,
        mut op: impl FnMut() -> F,
    ) -> (T, Duration) {
        let t0 = Instant::now();
        let mut retries = 0;
        loop {
            match op().await {
                Ok(v) => {
                    if retries > 0 {
                        eprintln!("{what}: through after {retries} retries");
                    }
                    return (v, t0.elapsed());
                }
                Err(
                    e @ (ServerError::Unreachable { .. }
                    | ServerError::Timeout { .. }
                    | ServerError::Server { .. }
                    | ServerError::Unexpected { .. }
                    // A standby redirects while it does not know the new active node yet.
                    | ServerError::Redirect { .. }
                    | ServerError::Sealed { .. }),
                ) if t0.elapsed() < Duration::from_secs(45) => {
                    if retries == 0 {
                        eprintln!("{what}: {e} (retrying)");
                    }
                    retries += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("{what}: {e}"),
            }
        }
    }

    /// Waits (10 s at most) until the host's read of `version` is refused as not found.
    async fn gone_for_host(host: &BaoClient, label: &str, version: Option<u64>) -> Duration {
        let t0 = Instant::now();
        loop {
            match host.read_version(label, version).await {
                Err(ServerError::NotFound { .. }) => return t0.elapsed(),
                other if t0.elapsed() > Duration::from_secs(10) => panic!("still readable for the host: {other:?}"),
                _ => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    /// Issue 15: deliver, rotate and revoke on a 3-node Raft cluster while its active node is
    /// killed: nothing is lost, and the host's reads recover.
    #[tokio::test]
    async fn a_raft_cluster_loses_its_active_node_and_nothing_is_lost() {
        let Some(bin) = bao_or_skip("a_raft_cluster_loses_its_active_node_and_nothing_is_lost") else { return };
        let mut cluster = Cluster::start(bin).await;
        let (status, _) = cluster.admin(0, Method::POST, "sys/auth/approle", Some(json!({ "type": "approle" }))).await;
        assert_eq!(status, 204);
        let active = cluster.active().await.expect("an active node");
        // Latchkey talks to one standby, the host to the other: both forward to the active node.
        let standbys: Vec<usize> = (0..3).filter(|i| *i != active).collect();
        let settings = |i: usize| ServerSettings::new(&cluster.nodes[i].addr).unwrap();
        let latchkey = BaoClient::new(settings(standbys[0]), SecretString::from(cluster.root.clone())).unwrap();

        let label = "okx-grid";
        let d1 = latchkey.deliver(label, &creds(1), &meta(&creds(1)), Expect::Absent).await.unwrap();
        let enrolment = latchkey.add_host("vps1", &[label]).await.unwrap();
        let host = BaoClient::host_sign_in(settings(standbys[1]), &enrolment.role_id, enrolment.wrapped_secret_id)
            .await
            .unwrap();
        assert_eq!(host.read_version(label, None).await.unwrap().version, d1.version);

        // The active node dies in the middle of a rotation.
        let t_kill = Instant::now();
        cluster.kill(active);
        let (next, next_meta) = (creds(2), meta(&creds(2)));
        let (d2, write_wait) = through_failover("the rotation's write", || {
            latchkey.deliver(label, &next, &next_meta, Expect::Version(d1.version))
        })
        .await;
        assert_eq!(d2.version, 2);
        // A standby may answer from storage a moment behind the active node: the host's reads
        // recover when they see the new version.
        let (read, read_wait) = through_failover("the host's read", || async {
            match host.read_version(label, None).await {
                Ok(k) if k.version < 2 => Err(ServerError::Unexpected {
                    what: "the host's read".into(),
                    detail: "not yet the new version".into(),
                }),
                other => other,
            }
        })
        .await;
        assert_eq!(read.version, 2, "the host reads the new version");
        assert_eq!(read.credentials.api_secret.expose_secret(), creds(2).api_secret.expose_secret());
        let new_active = cluster.active().await;
        eprintln!(
            "killed node {} (active): write through after {} ms, host read after {} ms, new active node {:?}, {} ms since the kill",
            active + 1,
            write_wait.as_millis(),
            read_wait.as_millis(),
            new_active.map(|i| i + 1),
            t_kill.elapsed().as_millis()
        );

        // Nothing lost: both versions are there, the old one still readable until destroyed.
        let (v, _) = through_failover("the versions", || latchkey.current_version(label)).await;
        assert_eq!(v.unwrap().live, vec![1, 2]);
        assert_eq!(host.read_version(label, Some(1)).await.unwrap().version, 1);
        // The hosts moved: the old version goes; then revoke: everything goes.
        let (gone, _) =
            through_failover("destroying the old version", || latchkey.destroy_old_versions(label, 1)).await;
        assert_eq!(gone, vec![1]);
        // The host's standby may answer from storage a moment behind: the old version disappears
        // for it shortly after.
        let lag = gone_for_host(&host, label, Some(1)).await;
        let (removed, _) = through_failover("the revoke", || latchkey.destroy_all(label)).await;
        assert!(removed);
        let lag_all = gone_for_host(&host, label, None).await;
        eprintln!(
            "destroyed versions unreadable for the host after {} ms and {} ms",
            lag.as_millis(),
            lag_all.as_millis()
        );
        assert!(latchkey.remove_host("vps1").await.unwrap());
    }
}

/// A redirect that would carry the token off TLS (to plain http on another host) is not followed.
#[tokio::test]
async fn a_redirect_off_tls_is_not_followed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 4096];
        let _ = sock.read(&mut buf).await.unwrap();
        let reply = "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://bao.example.com:8200/v1/sys/health\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        sock.write_all(reply.as_bytes()).await.unwrap();
    });
    let c = BaoClient::new(ServerSettings::new(&addr).unwrap(), SecretString::from("s.token".to_owned())).unwrap();
    let (e, msg) = err(c.test_connection().await);
    assert!(matches!(e, ServerError::Redirect { .. }), "{msg}");
    assert!(msg.contains("http://bao.example.com:8200"), "{msg}");
    server.await.unwrap();
}
