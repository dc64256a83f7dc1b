//! KuCoin against exchange-sim over HTTP: the inspection (masked IPs read as "bound, list
//! unknown"), each error code as its typed error, the clock-skew correction, the sub-account key
//! calls (a generated passphrase on create, the key's own passphrase on modify and delete), and
//! revocation through the master proved by the sub key's own read refused with 400003.
#![allow(clippy::unwrap_used)]

use crate::exchange_support::*;

use exchange_sim::{Fault, FaultKind};
use latchkey_core::exchange::{
    sub_key_facts, ClientConfig, Endpoint, ExchangeError, MasterKey, RevokeMethod, RevokeOutcome, RevokeRequest,
};
use latchkey_core::model::{AccountKind, Environment, Exchange, Permission, SubKeySettings, SubKeySpec};
use latchkey_core::secret::Credentials;
use secrecy::ExposeSecret;

const KUCOIN: Exchange = Exchange::Kucoin;
const INSPECT: &str = "/api/v1/user/api-key";
const DELETE: &str = "/api/v1/sub/api-key";

fn codes(sim: &exchange_sim::SimHandle, path: &str) -> Vec<String> {
    sim.state().requests_to(path).iter().map(|r| r.code.clone()).collect()
}

#[tokio::test]
async fn kucoin_inspection_reads_permissions_account_and_a_masked_whitelist() {
    let sim = sim().await;
    let endpoint = endpoint(&sim, KUCOIN);
    let master = client().inspect(&endpoint, &creds(&seed_key("kucoin-master"))).await.unwrap();
    assert_eq!(master.permissions, vec![Permission::Read, Permission::Trade, Permission::Transfer]);
    assert_eq!(master.account_kind, AccountKind::Master);
    assert_eq!(master.account_uid.as_deref(), Some("165111215"));
    assert!(master.ip_restricted && master.ip_whitelist.is_empty(), "bound, but the read masks the list");
    let sub = client().inspect(&endpoint, &creds(&seed_key("kucoin-sub-bot"))).await.unwrap();
    assert_eq!((sub.account_kind, sub.ip_restricted), (AccountKind::Sub, false));
    let withdraw = client().inspect(&endpoint, &creds(&seed_key("kucoin-withdraw"))).await.unwrap();
    assert!(withdraw.has(Permission::Withdraw));
    let read_only = client().inspect(&endpoint, &creds(&seed_key("kucoin-read-only"))).await.unwrap();
    assert!(read_only.is_read_only());
}

#[tokio::test]
async fn kucoin_error_codes_arrive_as_their_typed_errors() {
    let sim = sim().await;
    let endpoint = endpoint(&sim, KUCOIN);
    let key = seed_key("kucoin-read-only");
    let with = |change: fn(&mut exchange_sim::SimKey)| {
        let mut k = key.clone();
        change(&mut k);
        creds(&k)
    };
    let other_ip = variant("kucoin-read-only", "6705f5c311545b000157d3f0", |k| k.ips = vec!["203.0.113.7".into()]);
    let frozen = variant("kucoin-read-only", "6705f5c311545b000157d3f1", |k| k.frozen = true);
    sim.add_key(other_ip.clone());
    sim.add_key(frozen.clone());
    let cases: Vec<(&str, Credentials, &str, &str)> = vec![
        ("wrong secret", with(|k| k.secret = "00000000-0000-4000-8000-000000000000".into()), "bad_signature", "400005"),
        ("wrong passphrase", with(|k| k.passphrase = Some("NotThePass1".into())), "wrong_passphrase", "400004"),
        ("unknown key", with(|k| k.api_key = "0123456789abcdef01234567".into()), "invalid_key", "400003"),
        ("bound to another IP", creds(&other_ip), "ip_not_allowed", "400006"),
        ("frozen", creds(&frozen), "key_frozen", "411100"),
    ];
    for (name, credentials, kind, code) in cases {
        let err = client().inspect(&endpoint, &credentials).await.unwrap_err();
        assert_eq!((err.kind().to_string(), err.code()), (kind.to_owned(), Some(code)), "{name}: {err}");
        assert!(err.to_string().contains("KuCoin"), "{name}: {err}");
    }
    // A sub key asking for a master's call is refused for its permission.
    let sub = creds(&seed_key("kucoin-sub-bot"));
    let err = client().list_sub_accounts(MasterKey::unattended(&endpoint, &sub)).await.unwrap_err();
    assert_eq!((err.kind().to_string(), err.code()), ("permission_denied".to_owned(), Some("400007")));
    // 429000 with HTTP 429.
    sim.set_fault(Fault::new(FaultKind::RateLimited { retry_after_secs: 7 }).on(INSPECT).times(1));
    let err = client().inspect(&endpoint, &creds(&key)).await.unwrap_err();
    assert!(matches!(err, ExchangeError::RateLimited { .. }), "{err}");
    assert_eq!(codes(&sim, INSPECT).last().map(String::as_str), Some("fault:rateLimited"));
}

#[tokio::test]
async fn kucoin_clock_skew_is_corrected_from_the_server_time_and_retried_once() {
    let sim = sim().await;
    let endpoint = endpoint(&sim, KUCOIN);
    let skewed = client_with(ClientConfig::default(), chrono::Duration::seconds(-40));
    let inspection = skewed.inspect(&endpoint, &creds(&seed_key("kucoin-read-only"))).await.unwrap();
    assert!(inspection.is_read_only());
    assert_eq!(codes(&sim, INSPECT), ["400002", "200000"]);
    assert!((skewed.clock_offset(&endpoint).num_seconds() - 40).abs() <= 1);
}

#[tokio::test]
async fn kucoin_demo_has_no_key_endpoints_and_says_why() {
    let endpoint = Endpoint::new(KUCOIN, &Environment::Demo).unwrap();
    let err = client().inspect(&endpoint, &creds(&seed_key("kucoin-read-only"))).await.unwrap_err();
    assert_eq!(err.kind(), "not_available");
    assert!(err.to_string().contains("sandbox"), "{err}");
}

#[tokio::test]
async fn kucoin_master_creates_modifies_and_deletes_a_sub_key_with_its_passphrase() {
    let sim = sim().await;
    let endpoint = endpoint(&sim, KUCOIN);
    let master_creds = creds(&seed_key("kucoin-master"));
    let master = MasterKey::unattended(&endpoint, &master_creds);
    let client = client_with(ClientConfig::default(), chrono::Duration::zero());

    let accounts = client.list_sub_accounts(master).await.unwrap();
    assert_eq!(accounts.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(), ["kcbot01", "kcbot02"]);
    assert_eq!(accounts[0].uid.as_deref(), Some("165111216"));
    let settings = SubKeySettings {
        permissions: vec![Permission::Read, Permission::Trade],
        ip_whitelist: vec!["127.0.0.1".into()],
    };
    let spec = SubKeySpec { sub_account: "kcbot02".into(), label: "grid-bot".into(), settings, expire_days: None };
    let created = client.create_sub_key(master, &spec).await.unwrap();
    let passphrase = created.credentials.passphrase.as_ref().unwrap().expose_secret().to_owned();
    let rule = sub_key_facts(KUCOIN).unwrap().passphrase.unwrap();
    assert!((rule.min_len..=rule.max_len).contains(&passphrase.len()));
    assert!(passphrase.chars().all(|c| c.is_ascii_alphanumeric()), "nothing to escape in a query string");
    assert_eq!(created.ip_whitelist, ["127.0.0.1"]);
    let own = client.inspect(&endpoint, &created.credentials).await.unwrap();
    assert!(own.has(Permission::Trade) && own.ip_restricted, "{own:?}");

    let read_only = SubKeySettings {
        permissions: vec![Permission::Read],
        ip_whitelist: vec!["127.0.0.1".into(), "10.0.0.2".into()],
    };
    let api_key = &created.credentials.api_key;
    let changed = client
        .modify_sub_key(master, "kcbot02", api_key, created.credentials.passphrase.as_ref(), &read_only)
        .await
        .unwrap();
    assert_eq!((changed.permissions, changed.ip_whitelist.len()), (vec![Permission::Read], 2));
    // Without the key's passphrase KuCoin cannot be asked at all.
    let err = client.modify_sub_key(master, "kcbot02", api_key, None, &read_only).await.unwrap_err();
    assert_eq!(err.kind(), "not_available");
    let err = client.delete_sub_key(master, "kcbot02", api_key, None).await.unwrap_err();
    assert!(err.to_string().contains("passphrase") && err.to_string().contains("kucoin.com/account/api"), "{err}");

    client.delete_sub_key(master, "kcbot02", api_key, created.credentials.passphrase.as_ref()).await.unwrap();
    assert!(!sim.state().has_key(api_key.expose_secret()));
    assert_eq!(codes(&sim, DELETE).iter().filter(|c| *c == "200000").count(), 3, "create, list, delete");
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
async fn kucoin_sub_key_revoked_through_its_master_and_proved_by_its_own_read() {
    let sim = sim().await;
    let endpoint = endpoint(&sim, KUCOIN);
    let (sub, master) = (creds(&seed_key("kucoin-sub-bot")), creds(&seed_key("kucoin-master")));
    let client = client_with(ClientConfig::default(), chrono::Duration::zero());
    let outcome = client.revoke(&request(&endpoint, &sub, Some("kcbot01"), &master)).await.unwrap();
    assert!(matches!(outcome, RevokeOutcome::Revoked { method: RevokeMethod::ViaMaster, .. }), "{outcome:?}");
    assert!(!sim.state().has_key(sub.api_key.expose_secret()));
    assert_eq!(codes(&sim, INSPECT), ["400003"], "proved by the sub key's own read");
    // Again: the delete is refused (the simulator's code for "not in this sub-account"), and only
    // the key's own read refused with 400003 makes it "already revoked".
    let again = client.revoke(&request(&endpoint, &sub, Some("kcbot01"), &master)).await.unwrap();
    assert!(matches!(again, RevokeOutcome::AlreadyRevoked { .. }), "{again:?}");
    assert_eq!(codes(&sim, DELETE), ["200000", "-13001"]);
}

/// The master deleted on the website: the master-signed delete is refused with 400003, which is
/// about the *master*; the sub key's own read still answers, so it is still live, never revoked.
#[tokio::test]
async fn kucoin_master_deleted_on_the_website_leaves_the_sub_key_still_live() {
    let sim = sim().await;
    let endpoint = endpoint(&sim, KUCOIN);
    let (sub, master) = (creds(&seed_key("kucoin-sub-bot")), creds(&seed_key("kucoin-master")));
    assert!(sim.delete_key(master.api_key.expose_secret()));
    let err = client().revoke(&request(&endpoint, &sub, Some("kcbot01"), &master)).await.unwrap_err();
    assert!(matches!(err, ExchangeError::StillLive { .. }), "{err}");
    assert!(err.to_string().contains("refused the master key"), "{err}");
    assert!(sim.state().has_key(sub.api_key.expose_secret()));
}

/// Ambiguous answers quarantine: a delete answered 5xx whose proof read is answered 5xx too is
/// unproved, and a wrong sub-account name refused by KuCoin leaves a live key live.
#[tokio::test]
async fn kucoin_ambiguous_answers_are_never_revoked() {
    let sim = sim().await;
    let endpoint = endpoint(&sim, KUCOIN);
    let (sub, master) = (creds(&seed_key("kucoin-sub-bot")), creds(&seed_key("kucoin-master")));
    let err = client().revoke(&request(&endpoint, &sub, Some("kcbot02"), &master)).await.unwrap_err();
    assert!(matches!(err, ExchangeError::StillLive { .. }), "wrong sub-account: {err}");
    sim.set_fault(Fault::new(FaultKind::ServerError { status: 502 }).on(INSPECT));
    sim.set_fault(Fault::new(FaultKind::ServerError { status: 502 }).on(DELETE).after_acting().times(1));
    let err = client().revoke(&request(&endpoint, &sub, Some("kcbot01"), &master)).await.unwrap_err();
    assert!(err.is_transient() || matches!(err, ExchangeError::RevokeUnproved { .. }), "{err}");
    assert!(!matches!(err, ExchangeError::StillLive { .. }));
    sim.clear_faults();
    // The delete did happen: the next proof read says so.
    let proof = client().prove_revoked(&endpoint, &sub, false).await.unwrap();
    assert!(matches!(proof, latchkey_core::exchange::ProofVerdict::Proved), "{proof:?}");
}

/// A key stored without its passphrase cannot be deleted through the master: a checklist.
#[tokio::test]
async fn kucoin_revoke_without_the_keys_passphrase_is_a_checklist() {
    let sim = sim().await;
    let endpoint = endpoint(&sim, KUCOIN);
    let key = seed_key("kucoin-sub-bot");
    let no_passphrase = Credentials::new(&key.api_key, &key.secret, None);
    let master = creds(&seed_key("kucoin-master"));
    let outcome = client().revoke(&request(&endpoint, &no_passphrase, Some("kcbot01"), &master)).await.unwrap();
    let RevokeOutcome::Manual { url, steps } = outcome else { panic!("{outcome:?}") };
    assert_eq!(url, "https://www.kucoin.com/account/api");
    assert!(steps[0].contains("passphrase"), "{steps:?}");
    assert!(codes(&sim, DELETE).is_empty(), "nothing sent");
    let outcome = client().revoke(&request(&endpoint, &creds(&key), None, &master)).await.unwrap();
    assert!(matches!(outcome, RevokeOutcome::Manual { .. }), "no sub-account name recorded: {outcome:?}");
}

/// KuCoin pages its sub-account list (at most 100 a page): every page is read.
#[tokio::test]
async fn kucoin_sub_accounts_are_read_page_by_page() {
    let mut seed = exchange_sim::Seed::example();
    seed.sub_accounts.extend((0..150).map(|i| exchange_sim::SimSubAccount {
        exchange: exchange_sim::SimExchange::Kucoin,
        uid: format!("{}", 170_000_000 + i),
        parent_uid: "165111215".into(),
        name: format!("kcpaged{i:03}"),
        frozen: false,
    }));
    let sim = exchange_sim::Sim::start(seed).await.unwrap();
    let endpoint = endpoint(&sim, KUCOIN);
    let master_creds = creds(&seed_key("kucoin-master"));
    let master = MasterKey::unattended(&endpoint, &master_creds);
    let accounts = client().list_sub_accounts(master).await.unwrap();
    assert_eq!(accounts.len(), 152);
    assert_eq!(client().find_sub_account(master, "kcpaged149").await.unwrap().uid.as_deref(), Some("170000149"));
    assert_eq!(codes(&sim, "/api/v2/sub/user"), ["200000"; 4], "two pages, twice");
}
