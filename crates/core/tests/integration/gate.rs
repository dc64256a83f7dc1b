//! Gate against exchange-sim over HTTP: the inspection (IP whitelist, no permissions: unknown,
//! never read-only), each label as its typed error, the clock-skew correction, the sub-account key
//! calls with the user ID and the key in the path (the IP whitelist always resent), and revocation
//! through the master proved by the sub key's own read refused with INVALID_KEY.
#![allow(clippy::unwrap_used)]

use crate::exchange_support::*;

use exchange_sim::{Fault, FaultKind};
use latchkey_core::exchange::{
    ClientConfig, Endpoint, ExchangeError, MasterKey, ProofVerdict, RevokeMethod, RevokeOutcome, RevokeRequest,
};
use latchkey_core::model::{AccountKind, Environment, Exchange, Permission, SubKeySettings, SubKeySpec};
use latchkey_core::risk;
use latchkey_core::secret::Credentials;
use secrecy::ExposeSecret;

const GATE: Exchange = Exchange::Gate;
const DETAIL: &str = "/api/v4/account/detail";

fn codes(sim: &exchange_sim::SimHandle, prefix: &str) -> Vec<String> {
    sim.state().requests.iter().filter(|r| r.path.starts_with(prefix)).map(|r| r.code.clone()).collect()
}

#[tokio::test]
async fn gate_inspection_reads_the_whitelist_and_says_the_permissions_are_unknown() {
    let sim = sim().await;
    let endpoint = endpoint(&sim, GATE);
    let inspection = client().inspect(&endpoint, &creds(&seed_key("gate-read-only"))).await.unwrap();
    assert_eq!(inspection.ip_whitelist, ["127.0.0.1"]);
    assert_eq!((inspection.account_kind, inspection.account_uid.as_deref()), (AccountKind::Unknown, Some("10010")));
    assert!(inspection.permissions.is_empty() && !inspection.permissions_known());
    assert!(!inspection.is_read_only(), "a read-only Gate key is still not shown as read-only: Gate does not say");
    let findings = risk::assess(&inspection, chrono::Utc::now());
    let found: Vec<&str> = findings.iter().map(|f| f.code).collect();
    assert_eq!(found, ["permissions_unreported"], "bound to IPs, so no trade finding; never 'read_only_ip_bound'");
    assert!(findings[0].message.contains("withdrawals"), "{}", findings[0].message);
    let unbound = client().inspect(&endpoint, &creds(&seed_key("gate-sub-bot"))).await.unwrap();
    let found: Vec<&str> = risk::assess(&unbound, chrono::Utc::now()).iter().map(|f| f.code).collect();
    assert_eq!(found, ["trade_without_ip_whitelist", "permissions_unreported"], "it may trade from anywhere");
    // TestNet is its own host.
    assert_eq!(Endpoint::new(GATE, &Environment::Demo).unwrap().base_url, "https://api-testnet.gateapi.io");
}

#[tokio::test]
async fn gate_labels_arrive_as_their_typed_errors() {
    let sim = sim().await;
    let endpoint = endpoint(&sim, GATE);
    let key = seed_key("gate-read-only");
    let other_ip =
        variant("gate-read-only", "ffffffffffffffffffffffffffff0001", |k| k.ips = vec!["203.0.113.7".into()]);
    let frozen = variant("gate-read-only", "ffffffffffffffffffffffffffff0002", |k| k.frozen = true);
    sim.add_key(other_ip.clone());
    sim.add_key(frozen.clone());
    let wrong_secret = Credentials::new(&key.api_key, &"0".repeat(64), None);
    let unknown = Credentials::new(&"e".repeat(32), &key.secret, None);
    let cases: Vec<(&str, Credentials, &str, &str)> = vec![
        ("wrong secret", wrong_secret, "bad_signature", "INVALID_SIGNATURE"),
        ("unknown key", unknown, "invalid_key", "INVALID_KEY"),
        ("bound to another IP", creds(&other_ip), "ip_not_allowed", "IP_FORBIDDEN"),
        ("locked", creds(&frozen), "key_frozen", "ACCOUNT_LOCKED"),
    ];
    for (name, credentials, kind, label) in cases {
        let err = client().inspect(&endpoint, &credentials).await.unwrap_err();
        assert!(err.kind() == kind && err.code() == Some(label), "{name}: {err}");
        assert!(err.to_string().contains("Gate"), "{name}: {err}");
    }
    let sub = creds(&seed_key("gate-sub-bot"));
    let err = client().list_sub_accounts(MasterKey::unattended(&endpoint, &sub)).await.unwrap_err();
    assert!(err.kind() == "permission_denied" && err.code() == Some("FORBIDDEN"), "{err}");
    let read_only = creds(&key);
    let spec = SubKeySpec {
        sub_account: "10002".into(),
        label: "bot".into(),
        settings: SubKeySettings { permissions: vec![Permission::Read], ip_whitelist: vec![] },
        expire_days: None,
    };
    let err = client().create_sub_key(MasterKey::unattended(&endpoint, &read_only), &spec).await;
    let err = err.err().unwrap();
    assert!(err.kind() == "permission_denied" && err.code() == Some("READ_ONLY"), "{err}");
    sim.set_fault(Fault::new(FaultKind::RateLimited { retry_after_secs: 7 }).on(DETAIL).times(1));
    let err = client().inspect(&endpoint, &creds(&key)).await.unwrap_err();
    assert!(matches!(err, ExchangeError::RateLimited { .. }), "{err}");
}

#[tokio::test]
async fn gate_clock_skew_is_corrected_from_the_server_time_and_retried_once() {
    let sim = sim().await;
    let endpoint = endpoint(&sim, GATE);
    let skewed = client_with(ClientConfig::default(), chrono::Duration::seconds(-120));
    skewed.inspect(&endpoint, &creds(&seed_key("gate-read-only"))).await.unwrap();
    assert_eq!(codes(&sim, DETAIL), ["REQUEST_EXPIRED", "200"]);
    assert!((skewed.clock_offset(&endpoint).num_seconds() - 120).abs() <= 1);
}

#[tokio::test]
async fn gate_master_creates_modifies_and_deletes_a_sub_key_by_its_path() {
    let sim = sim().await;
    let endpoint = endpoint(&sim, GATE);
    let master_creds = creds(&seed_key("gate-master"));
    let master = MasterKey::unattended(&endpoint, &master_creds);
    let client = client_with(ClientConfig::default(), chrono::Duration::zero());

    let accounts = client.list_sub_accounts(master).await.unwrap();
    assert_eq!(
        accounts.iter().map(|a| (a.id.as_str(), a.name.as_str())).collect::<Vec<_>>(),
        [("10002", "gatebot01"), ("10003", "gatebot02")]
    );
    assert_eq!(client.find_sub_account(master, "gatebot02").await.unwrap().id, "10003", "found by login name");
    let settings = SubKeySettings {
        permissions: vec![Permission::Read, Permission::Trade],
        ip_whitelist: vec!["127.0.0.1".into()],
    };
    let spec = SubKeySpec { sub_account: "10003".into(), label: "grid-bot".into(), settings, expire_days: None };
    let created = client.create_sub_key(master, &spec).await.unwrap();
    assert_eq!(
        (created.permissions.clone(), created.ip_whitelist.clone()),
        (vec![Permission::Read, Permission::Trade], vec!["127.0.0.1".to_owned()])
    );
    assert!(created.credentials.passphrase.is_none());
    client.inspect(&endpoint, &created.credentials).await.unwrap();

    // The whole setting is sent every time: the IPs too, or Gate would clear them.
    let api_key = &created.credentials.api_key;
    let read_only = SubKeySettings {
        permissions: vec![Permission::Read],
        ip_whitelist: vec!["127.0.0.1".into(), "10.0.0.2".into()],
    };
    let changed = client.modify_sub_key(master, "10003", api_key, None, &read_only).await.unwrap();
    assert_eq!((changed.permissions, changed.ip_whitelist.len()), (vec![Permission::Read], 2));
    let held = sim.state().keys.into_iter().find(|k| k.api_key == api_key.expose_secret()).unwrap();
    assert_eq!((held.ips.len(), held.label.as_str()), (2, "grid-bot"), "IPs set, the name kept");

    // The wrong sub-account in the path: refused, and not as "invalid key".
    let err = client.delete_sub_key(master, "10002", api_key, None).await.unwrap_err();
    assert!(err.kind() == "rejected" && err.code() == Some("SIM_SUB_KEY_NOT_FOUND"), "{err}");
    client.delete_sub_key(master, "10003", api_key, None).await.unwrap();
    assert!(!sim.state().has_key(api_key.expose_secret()));
    let proof = client.prove_revoked(&endpoint, &created.credentials, false).await.unwrap();
    assert!(matches!(proof, ProofVerdict::Proved), "{proof:?}");
}

fn request<'a>(
    endpoint: &'a Endpoint,
    key: &'a Credentials,
    sub_account: Option<&'a str>,
    master: &'a Credentials,
) -> RevokeRequest<'a> {
    RevokeRequest {
        endpoint,
        key,
        sub_account,
        master: Some(MasterKey::unattended(endpoint, master)),
        answered_here: false,
    }
}

#[tokio::test]
async fn gate_sub_key_revoked_through_its_master_and_proved_by_its_own_read() {
    let sim = sim().await;
    let endpoint = endpoint(&sim, GATE);
    let (sub, master) = (creds(&seed_key("gate-sub-bot")), creds(&seed_key("gate-master")));
    let outcome = client().revoke(&request(&endpoint, &sub, Some("10002"), &master)).await.unwrap();
    assert!(matches!(outcome, RevokeOutcome::Revoked { method: RevokeMethod::ViaMaster, .. }), "{outcome:?}");
    let path = format!("/api/v4/sub_accounts/10002/keys/{}", sub.api_key.expose_secret());
    assert_eq!(codes(&sim, &path), ["204"]);
    assert_eq!(codes(&sim, DETAIL), ["INVALID_KEY"], "proved by the sub key's own read");
    let again = client().revoke(&request(&endpoint, &sub, Some("10002"), &master)).await.unwrap();
    assert!(matches!(again, RevokeOutcome::AlreadyRevoked { .. }), "{again:?}");
    assert_eq!(codes(&sim, &path), ["204", "SIM_SUB_KEY_NOT_FOUND"]);
}

/// The master deleted on the website: the delete is refused with INVALID_KEY about the *master*;
/// the sub key's own read still answers, so it is still live. A 5xx on both calls is unproved.
#[tokio::test]
async fn gate_ambiguous_answers_are_never_revoked() {
    let sim = sim().await;
    let endpoint = endpoint(&sim, GATE);
    let (sub, master) = (creds(&seed_key("gate-sub-bot")), creds(&seed_key("gate-master")));
    let err = client().revoke(&request(&endpoint, &sub, Some("10003"), &master)).await.unwrap_err();
    assert!(matches!(err, ExchangeError::StillLive { .. }), "wrong sub-account: {err}");
    sim.set_fault(Fault::new(FaultKind::ServerError { status: 502 }).on(DETAIL));
    sim.set_fault(
        Fault::new(FaultKind::ServerError { status: 502 }).on("/api/v4/sub_accounts/").after_acting().times(1),
    );
    let err = client().revoke(&request(&endpoint, &sub, Some("10002"), &master)).await.unwrap_err();
    assert!(err.is_transient() || matches!(err, ExchangeError::RevokeUnproved { .. }), "{err}");
    sim.clear_faults();
    assert!(matches!(client().prove_revoked(&endpoint, &sub, false).await.unwrap(), ProofVerdict::Proved));

    let fresh = crate::exchange_support::sim().await;
    let endpoint = crate::exchange_support::endpoint(&fresh, GATE);
    assert!(fresh.delete_key(master.api_key.expose_secret()));
    let err = client().revoke(&request(&endpoint, &sub, Some("10002"), &master)).await.unwrap_err();
    assert!(matches!(err, ExchangeError::StillLive { .. }), "{err}");
    assert!(err.to_string().contains("refused the master key"), "{err}");
    let no_account = client().revoke(&request(&endpoint, &sub, None, &master)).await.unwrap();
    let RevokeOutcome::Manual { url, .. } = no_account else { panic!("{no_account:?}") };
    assert_eq!(url, "https://www.gate.io/myaccount/apiv4keys");
}
