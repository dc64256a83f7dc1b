//! Deribit against exchange-sim: the calling key found in its account's listing, the error codes,
//! a key deleting itself (proved by its own read), one without the scope refused and kept, and
//! the security-key challenge surfacing as "the exchange asks for its 2FA code".

use crate::exchange_support::*;
use latchkey_core::exchange::{Endpoint, ExchangeError, RevokeMethod, RevokeOutcome, RevokeRequest};
use latchkey_core::model::{AccountKind, Environment, Exchange, Permission};
use latchkey_core::secret::Credentials;

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
