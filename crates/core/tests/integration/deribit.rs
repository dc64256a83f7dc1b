//! Deribit against exchange-sim: the calling key found in its account's listing, the error codes,
//! a key deleting itself (proved by its own read), one without the scope refused and kept, and
//! the security-key challenge surfacing as "the exchange asks for its 2FA code".

use crate::exchange_support::*;
use exchange_sim::{Fault, FaultKind};
use latchkey_core::exchange::{
    master_readiness, Endpoint, ExchangeClient, ExchangeError, MasterKey, RevokeMethod, RevokeOutcome, RevokeRequest,
};
use latchkey_core::model::{AccountKind, Environment, Exchange, Permission, SubKeySettings, SubKeySpec};
use latchkey_core::secret::Credentials;
use secrecy::{ExposeSecret, SecretString};

const DERIBIT: Exchange = Exchange::Deribit;
const LIST: &str = "/api/v2/private/list_api_keys";

fn request<'a>(endpoint: &'a Endpoint, key: &'a Credentials) -> RevokeRequest<'a> {
    RevokeRequest { endpoint, key, sub_account: None, master: None, answered_here: true }
}

#[tokio::test]
async fn inspection_finds_the_calling_key_in_its_accounts_listing() {
    let sim = sim().await;
    let endpoint = endpoint(&sim, DERIBIT);
    let full = client().inspect(&endpoint, &creds(&seed_key("deribit-full"))).await.unwrap();
    assert_eq!(full.permissions, vec![Permission::Read, Permission::Trade, Permission::Withdraw, Permission::Transfer]);
    assert_eq!(
        (full.ip_whitelist.clone(), full.label.as_deref()),
        (vec!["127.0.0.1".to_owned()], Some("deribit-full"))
    );
    assert_eq!(full.account_kind, AccountKind::Unknown);
    let trade = client().inspect(&endpoint, &creds(&seed_key("deribit-trade"))).await.unwrap();
    assert_eq!((trade.permissions, trade.ip_restricted), (vec![Permission::Read, Permission::Trade], false));
    assert_eq!(Endpoint::new(DERIBIT, &Environment::Demo).unwrap().base_url, "https://test.deribit.com");
}

#[tokio::test]
async fn every_documented_error_is_typed() {
    let sim = sim().await;
    let endpoint = endpoint(&sim, DERIBIT);
    let read = seed_key("deribit-read");
    let cases = [
        (Credentials::new("zzzzzzzz", &read.secret, None), "invalid_key", Some("13004")),
        (Credentials::new(&read.api_key, &"x".repeat(43), None), "bad_signature", Some("13009")),
        (creds(&seed_key("deribit-other-ip")), "permission_denied", Some("13021")),
    ];
    for (credentials, kind, code) in cases {
        let err = client().inspect(&endpoint, &credentials).await.unwrap_err();
        assert_eq!((err.kind().as_str(), err.code()), (kind, code), "{err}");
    }
    let err = client().inspect(&endpoint, &creds(&seed_key("deribit-2fa"))).await.unwrap_err();
    assert_eq!(err.kind(), "exchange_code_required", "{err}");
    assert!(matches!(&err, ExchangeError::ExchangeCodeRequired { challenge: Some(_), .. }));
}

#[tokio::test]
async fn a_key_with_account_read_write_deletes_itself_and_its_own_read_proves_it() {
    let sim = sim().await;
    let endpoint = endpoint(&sim, DERIBIT);
    let full = seed_key("deribit-full");
    let outcome = client().revoke(&request(&endpoint, &creds(&full))).await.unwrap();
    assert!(matches!(outcome, RevokeOutcome::Revoked { method: RevokeMethod::SelfDelete, .. }), "{outcome:?}");
    assert!(!sim.state().has_key(&full.api_key));
    let codes: Vec<String> = sim.state().requests.iter().map(|r| format!("{} {}", r.path, r.code)).collect();
    assert_eq!(
        codes,
        [format!("{LIST} ok"), "/api/v2/private/remove_api_key ok".to_owned(), format!("{LIST} 13004"),],
        "inspect (to find its id), remove, the proof"
    );
    let again = client().revoke(&request(&endpoint, &creds(&full))).await.unwrap();
    assert!(matches!(again, RevokeOutcome::AlreadyRevoked { .. }), "{again:?}");
}

#[tokio::test]
async fn without_the_scope_the_key_gets_a_checklist_and_nothing_is_sent() {
    let sim = sim().await;
    let endpoint = endpoint(&sim, DERIBIT);
    let trade = seed_key("deribit-trade");
    let outcome = client().revoke(&request(&endpoint, &creds(&trade))).await.unwrap();
    let RevokeOutcome::Manual { url, steps } = outcome else { panic!("a checklist expected: {outcome:?}") };
    assert_eq!(url, "https://www.deribit.com/account/BTC/api");
    assert!(steps[0].contains("account:read_write"), "{steps:?}");
    assert!(sim.state().has_key(&trade.api_key));
}

#[tokio::test]
async fn an_account_with_security_keys_stops_the_revoke_at_the_code() {
    let sim = sim().await;
    let endpoint = endpoint(&sim, DERIBIT);
    let tfa = seed_key("deribit-2fa");
    let err = client().revoke(&request(&endpoint, &creds(&tfa))).await.unwrap_err();
    assert_eq!(err.kind(), "exchange_code_required", "{err}");
    assert!(sim.state().has_key(&tfa.api_key), "nothing deleted without the code");
}

// A master (a key with account:read_write) managing the account's other keys.

const CREATE: &str = "/api/v2/private/create_api_key";
const EDIT: &str = "/api/v2/private/edit_api_key";
const REMOVE: &str = "/api/v2/private/remove_api_key";

fn bot_spec(label: &str, permissions: Vec<Permission>, ips: &[&str]) -> SubKeySpec {
    SubKeySpec {
        sub_account: "account".to_owned(),
        label: ExchangeClient::exchange_label(DERIBIT, label),
        settings: SubKeySettings { permissions, ip_whitelist: ips.iter().map(|ip| (*ip).to_owned()).collect() },
        expire_days: None,
    }
}

fn paths(sim: &exchange_sim::SimHandle) -> Vec<String> {
    sim.state().requests.iter().map(|r| format!("{} {}", r.path, r.code)).collect()
}

#[tokio::test]
async fn a_master_mints_fixes_and_revokes_a_bot_key_in_its_own_account() {
    let sim = sim().await;
    // One client, as in the app: Deribit's nonces count per key within it.
    let c = client();
    let endpoint = endpoint(&sim, DERIBIT);
    let full = creds(&seed_key("deribit-full"));
    let master = MasterKey::unattended(&endpoint, &full);
    let readiness = master_readiness(&c.inspect_answering(master).await.unwrap());
    assert!(readiness.is_ready(), "{:?}", readiness.messages());
    let trade_only = master_readiness(&c.inspect(&endpoint, &creds(&seed_key("deribit-trade"))).await.unwrap());
    assert!(trade_only.messages()[0].contains("account:read_write"), "{:?}", trade_only.messages());

    let accounts = c.list_sub_accounts(master).await.unwrap();
    assert_eq!(accounts.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(), ["account"], "its own account only");

    let spec = bot_spec("deribit-bot 1", vec![Permission::Read, Permission::Trade], &["127.0.0.1"]);
    assert_eq!(spec.label, "deribit_bot_1", "Deribit's name rule: letters, digits, _");
    let created = c.create_sub_key(master, &spec).await.unwrap();
    assert_eq!(
        (created.permissions.clone(), created.ip_whitelist.clone()),
        (spec.settings.permissions.clone(), vec!["127.0.0.1".to_owned()])
    );
    let held =
        sim.state().keys.iter().find(|k| k.api_key == created.credentials.api_key.expose_secret()).cloned().unwrap();
    assert_eq!((held.uid.as_str(), held.ips.clone()), ("dbacct1", vec!["127.0.0.1".to_owned()]));
    assert!(!held.permissions.contains(&exchange_sim::Permission::Withdraw));
    assert_eq!(
        sim.state().requests_to(CREATE).len() + sim.state().requests_to(EDIT).len(),
        2,
        "a create, then its edit"
    );
    let own = c.inspect(&endpoint, &created.credentials).await.unwrap();
    assert_eq!(
        (own.permissions, own.ip_whitelist),
        (vec![Permission::Read, Permission::Trade], vec!["127.0.0.1".to_owned()])
    );

    // Fix in place: read-only, bound to two addresses; the edit names the key by its listed id.
    let settings =
        SubKeySettings { permissions: vec![Permission::Read], ip_whitelist: vec!["127.0.0.1".into(), "::1".into()] };
    let after = c.modify_sub_key(master, "account", &created.credentials.api_key, None, &settings).await.unwrap();
    assert_eq!((after.permissions, after.ip_whitelist), (vec![Permission::Read], settings.ip_whitelist.clone()));
    assert!(after.id.is_some());

    let revoke = RevokeRequest {
        endpoint: &endpoint,
        key: &created.credentials,
        sub_account: Some("account"),
        master: Some(master),
        answered_here: true,
    };
    let before = sim.state().requests.len();
    let outcome = c.revoke(&revoke).await.unwrap();
    assert!(matches!(outcome, RevokeOutcome::Revoked { method: RevokeMethod::ViaMaster, .. }), "{outcome:?}");
    assert_eq!(
        paths(&sim)[before..],
        [format!("{LIST} ok"), format!("{REMOVE} ok"), format!("{LIST} 13004")],
        "the listing for its id, the master's remove, the key's own read refused"
    );
    assert!(sim.state().has_key(full.api_key.expose_secret()), "the master stays");
}

#[tokio::test]
async fn a_create_whose_edit_fails_leaves_no_half_made_key() {
    let sim = sim().await;
    // One client, as in the app: Deribit's nonces count per key within it.
    let c = client();
    let endpoint = endpoint(&sim, DERIBIT);
    let full = creds(&seed_key("deribit-full"));
    let keys_before = sim.state().keys.len();
    sim.set_fault(Fault::new(FaultKind::ServerError { status: 502 }).on(EDIT).times(1));
    let spec = bot_spec("bot2", vec![Permission::Read, Permission::Trade], &["127.0.0.1"]);
    let err = c.create_sub_key(MasterKey::unattended(&endpoint, &full), &spec).await.unwrap_err();
    assert_eq!(err.kind(), "create_incomplete", "{err}");
    assert!(matches!(err, ExchangeError::CreateIncomplete { deleted: true, .. }), "{err}");
    assert!(err.to_string().contains("deleted the half-made key"), "{err}");
    assert_eq!(sim.state().keys.len(), keys_before, "the read-only key made first was deleted again");

    // And where the delete fails too, what is left can only read, from nowhere in particular.
    sim.set_fault(Fault::new(FaultKind::ServerError { status: 502 }).on(EDIT).times(1));
    sim.set_fault(Fault::new(FaultKind::ServerError { status: 502 }).on(REMOVE).times(1));
    let err = c.create_sub_key(MasterKey::unattended(&endpoint, &full), &spec).await.unwrap_err();
    assert!(matches!(err, ExchangeError::CreateIncomplete { deleted: false, .. }), "{err}");
    assert!(err.to_string().contains("delete it on the exchange's API page"), "{err}");
    let left: Vec<_> = sim.state().keys.into_iter().filter(|k| k.label == "bot2").collect();
    assert_eq!(left.len(), 1);
    assert_eq!((left[0].permissions.clone(), left[0].ips.is_empty()), (vec![exchange_sim::Permission::Read], true));
}

#[tokio::test]
async fn an_account_with_security_keys_takes_the_code_the_user_typed() {
    let sim = sim().await;
    // One client, as in the app: Deribit's nonces count per key within it.
    let c = client();
    let endpoint = endpoint(&sim, DERIBIT);
    let tfa = creds(&seed_key("deribit-2fa"));
    let spec = bot_spec("bot3", vec![Permission::Read, Permission::Trade], &["127.0.0.1"]);
    let err = c.create_sub_key(MasterKey::unattended(&endpoint, &tfa), &spec).await.unwrap_err();
    assert_eq!(err.kind(), "exchange_code_required", "{err}");
    let keys_before = sim.state().keys.len();

    let wrong = SecretString::from("123456".to_owned());
    let with_wrong = MasterKey { exchange_code: Some(&wrong), ..MasterKey::unattended(&endpoint, &tfa) };
    let err = c.create_sub_key(with_wrong, &spec).await.unwrap_err();
    assert_eq!(err.kind(), "exchange_code_refused", "{err}");
    assert_eq!(sim.state().keys.len(), keys_before, "nothing made with a refused code");

    let code = SecretString::from(exchange_sim::DERIBIT_TFA_CODE.to_owned());
    let answered = MasterKey { exchange_code: Some(&code), ..MasterKey::unattended(&endpoint, &tfa) };
    let created = c.create_sub_key(answered, &spec).await.unwrap();
    assert_eq!(created.ip_whitelist, ["127.0.0.1"]);
    let own = c.inspect_answering(MasterKey { credentials: &created.credentials, ..answered }).await.unwrap();
    assert_eq!(own.permissions, [Permission::Read, Permission::Trade]);
    let codes: Vec<String> = sim.state().requests_to(CREATE).iter().map(|r| r.code.clone()).collect();
    // Without a code: the challenge. The wrong code: the challenge, then the challenge again. The
    // right one: the challenge, then the create. Each challenge is an answer of HTTP 200.
    assert_eq!(codes.len(), 5, "{codes:?}");
    assert_eq!(sim.state().keys.len(), keys_before + 1, "one key made, with the right code");
}
