//! Bitget against exchange-sim: inspection (IPs, authorities, parent), each error code, the clock
//! correction, demo trading's header, a main key minting and fixing virtual sub-account keys, and
//! what has no API: revoking (a checklist, proved by the key's own read) and so automatic rotation.

use crate::exchange_support::*;
use exchange_sim::{Fault, FaultKind};
use latchkey_core::exchange::{
    master_readiness, sub_key_facts, ClientConfig, Endpoint, MasterKey, ProofVerdict, RevokeOutcome, RevokeRequest,
};
use latchkey_core::model::{AccountKind, Exchange, KeyRecord, Need, Permission, Readiness, SubKeySettings, SubKeySpec};
use latchkey_core::secret::Credentials;
use secrecy::ExposeSecret;

const BITGET: Exchange = Exchange::Bitget;
const INFO: &str = "/api/v2/spot/account/info";

#[tokio::test]
async fn inspection_reads_ips_authorities_and_the_main_account() {
    let sim = sim().await;
    let endpoint = endpoint(&sim, BITGET);
    // account/info allows 1/s per UID and both main keys share one: the client waits the
    // Retry-After out (the test client does not).
    let client = client_with(ClientConfig::default(), chrono::Duration::zero());
    let master = client.inspect(&endpoint, &creds(&seed_key("bitget-master-ip-bound"))).await.unwrap();
    assert_eq!(master.permissions, vec![Permission::Read, Permission::Trade]);
    assert_eq!((master.ip_whitelist.clone(), master.account_kind), (vec!["127.0.0.1".to_owned()], AccountKind::Master));
    assert_eq!(master.account_uid.as_deref(), Some("6000000001"));
    assert_eq!(master_readiness(&master).readiness, Readiness::Ready);

    let no_ip = client.inspect(&endpoint, &creds(&seed_key("bitget-master-no-ip"))).await.unwrap();
    assert!(no_ip.has(Permission::Withdraw) && !no_ip.ip_restricted);
    let readiness = master_readiness(&no_ip);
    assert_eq!(readiness.missing.iter().map(|m| m.need).collect::<Vec<_>>(), vec![Need::IpBound]);

    let sub = client.inspect(&endpoint, &creds(&seed_key("bitget-sub-bot"))).await.unwrap();
    assert_eq!((sub.account_kind, sub.master_uid.as_deref()), (AccountKind::Sub, Some("6000000001")));
    assert_eq!(sub.expires_at, None, "Bitget reports no expiry");
}

#[tokio::test]
async fn every_documented_error_is_typed_and_the_clock_is_corrected() {
    let sim = sim().await;
    let endpoint = endpoint(&sim, BITGET);
    let master = seed_key("bitget-master-ip-bound");
    let cases = [
        (Credentials::new(&master.api_key, &master.secret, Some("NotIt1234")), "wrong_passphrase", "40036"),
        (Credentials::new(&master.api_key, &"0".repeat(64), master.passphrase.as_deref()), "bad_signature", "40009"),
        (
            creds(&variant("bitget-master-ip-bound", "bg_unknown000000000000000000000000", |_| {})),
            "invalid_key",
            "40006",
        ),
        (creds(&seed_key("bitget-other-ip")), "ip_not_allowed", "40038"),
    ];
    for (credentials, kind, code) in cases {
        // The unknown key is unknown to the simulator too: its variant is never added.
        let err = client().inspect(&endpoint, &credentials).await.unwrap_err();
        assert_eq!((err.kind().as_str(), err.code()), (kind, Some(code)), "{err}");
        assert!(!err.to_string().contains(&master.secret));
    }
    let no_passphrase = Credentials::new(&master.api_key, &master.secret, None);
    let err = client().inspect(&endpoint, &no_passphrase).await.unwrap_err();
    assert_eq!(err.kind(), "missing_passphrase");
    assert!(err.to_string().starts_with("Bitget keys need their passphrase"), "{err}");

    // A minute slow: 40008, the server time, one retry that passes.
    let slow = client_with(ClientConfig::default(), chrono::Duration::seconds(-60));
    slow.inspect(&endpoint, &creds(&master)).await.unwrap();
    let codes: Vec<String> = sim.state().requests_to(INFO).iter().map(|r| r.code.clone()).collect();
    assert_eq!(codes[codes.len() - 2..], ["40008".to_owned(), "00000".to_owned()]);
    assert_eq!(sim.state().requests_to("/api/v2/public/time").len(), 1);

    sim.set_fault(Fault::new(FaultKind::RateLimited { retry_after_secs: 30 }).on(INFO));
    assert_eq!(client().inspect(&endpoint, &creds(&master)).await.unwrap_err().kind(), "rate_limited");
}

#[tokio::test]
async fn demo_keys_go_with_the_paptrading_header() {
    let sim = sim().await;
    let demo = Endpoint::custom_demo(BITGET, &sim.base_url()).unwrap();
    let inspection = client().inspect(&demo, &creds(&seed_key("bitget-demo"))).await.unwrap();
    assert!(inspection.demo);
    let on_live = client().inspect(&endpoint(&sim, BITGET), &creds(&seed_key("bitget-demo"))).await.unwrap_err();
    assert_eq!(on_live.kind(), "invalid_key");
    assert_eq!(BITGET.profile().environments.demo_header, Some(("paptrading", "1")));
}

#[tokio::test]
async fn a_main_key_mints_and_fixes_a_virtual_sub_account_key_but_cannot_delete_it() {
    let sim = sim().await;
    let endpoint = endpoint(&sim, BITGET);
    let master_creds = creds(&seed_key("bitget-master-ip-bound"));
    let master = MasterKey::unattended(&endpoint, &master_creds);
    let client = client_with(ClientConfig::default(), chrono::Duration::zero());

    let accounts = client.list_sub_accounts(master).await.unwrap();
    assert_eq!(accounts.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(), ["6000000101", "6000000102"]);
    let found = client.find_sub_account(master, "bgbot02@virtual-bitget.com").await.unwrap();
    assert_eq!(found.id, "6000000102");
    let settings = SubKeySettings {
        permissions: vec![Permission::Read, Permission::Trade],
        ip_whitelist: vec!["127.0.0.1".into()],
    };
    let spec = SubKeySpec { sub_account: "6000000102".into(), label: "grid-bot".into(), settings, expire_days: None };
    let created = client.create_sub_key(master, &spec).await.unwrap();
    let passphrase = created.credentials.passphrase.as_ref().unwrap().expose_secret().to_owned();
    let rule = sub_key_facts(BITGET).unwrap().passphrase.unwrap();
    assert!((rule.min_len..=rule.max_len).contains(&passphrase.len()));
    assert!(passphrase.chars().all(|c| c.is_ascii_alphanumeric()), "letters and digits, as Bitget asks");
    let own = client.inspect(&endpoint, &created.credentials).await.unwrap();
    assert!(own.has(Permission::Trade) && own.ip_whitelist == ["127.0.0.1"], "{own:?}");
    assert_eq!(own.account_kind, AccountKind::Sub);

    // Fix in place: read-only, two IPs; the label and the key's passphrase repeated.
    let api_key = &created.credentials.api_key;
    let fixed = SubKeySettings {
        permissions: vec![Permission::Read],
        ip_whitelist: vec!["127.0.0.1".into(), "10.0.0.2".into()],
    };
    let changed = client
        .modify_sub_key(master, "6000000102", api_key, created.credentials.passphrase.as_ref(), &fixed)
        .await
        .unwrap();
    assert_eq!(
        (changed.permissions, changed.ip_whitelist.len(), changed.label),
        (vec![Permission::Read], 2, "grid-bot".into())
    );
    let err = client.modify_sub_key(master, "6000000102", api_key, None, &fixed).await.unwrap_err();
    assert!(err.kind() == "not_available" && err.to_string().contains("passphrase"), "{err}");

    let err = client.delete_sub_key(master, "6000000102", api_key, None).await.unwrap_err();
    assert_eq!(err.kind(), "not_available", "{err}");
    assert!(sim.state().has_key(api_key.expose_secret()), "still at Bitget");
}

#[tokio::test]
async fn revoke_is_a_checklist_with_or_without_the_master_and_proof_is_the_keys_own_read() {
    let sim = sim().await;
    let endpoint = endpoint(&sim, BITGET);
    let key = creds(&seed_key("bitget-sub-bot"));
    let master_creds = creds(&seed_key("bitget-master-ip-bound"));
    for master in [None, Some(MasterKey::unattended(&endpoint, &master_creds))] {
        let request = RevokeRequest {
            endpoint: &endpoint,
            key: &key,
            sub_account: Some("6000000101"),
            master,
            answered_here: true,
        };
        let RevokeOutcome::Manual { url, steps } = client().revoke(&request).await.unwrap() else {
            panic!("a checklist expected")
        };
        assert_eq!(url, "https://www.bitget.com/account/newapi");
        assert!(steps[0].contains("Bitget has no API"), "{steps:?}");
    }
    assert!(sim.state().requests.is_empty(), "nothing was sent");
    assert!(matches!(client().prove_revoked(&endpoint, &key, false).await.unwrap(), ProofVerdict::StillLive));
    assert!(sim.delete_key(&seed_key("bitget-sub-bot").api_key));
    assert!(matches!(client().prove_revoked(&endpoint, &key, false).await.unwrap(), ProofVerdict::Proved));
}

#[test]
fn automatic_rotation_says_it_cannot_finish() {
    let dir = tempfile::tempdir().unwrap();
    let store = latchkey_core::store::Store::open_in(dir.path()).unwrap();
    let master = KeyRecord::sample(BITGET, "main", chrono::Utc::now(), 90);
    let key = KeyRecord {
        master_key_id: Some(master.id),
        sub_account: Some("6000000101".into()),
        ..KeyRecord::sample(BITGET, "bot", chrono::Utc::now(), 90)
    };
    let why = latchkey_core::autorotate::eligible(&store, &key).unwrap_err();
    assert!(why.contains("Bitget's API does not let a master key create and delete"), "{why}");
    let caps = BITGET.capabilities();
    assert!(caps.create_sub_key.is_yes() && caps.delete_sub_key.is_none() && caps.delete_self.is_none());
}
