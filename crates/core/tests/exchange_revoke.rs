//! revoke() against exchange-sim: self-delete, delete through a master key, already-revoked,
//! manual checklists, and the errors a master key can meet.
#![allow(clippy::unwrap_used)]

mod exchange_support;

use exchange_support::*;
use latchkey_core::exchange::{Endpoint, MasterKey, RevokeMethod, RevokeOutcome, RevokeRequest};
use latchkey_core::model::{Environment, Exchange};
use latchkey_core::secret::Credentials;

fn request<'a>(
    endpoint: &'a Endpoint,
    key: &'a Credentials,
    sub_account: Option<&'a str>,
    master: Option<&'a Credentials>,
) -> RevokeRequest<'a> {
    RevokeRequest { endpoint, key, sub_account, master: master.map(|credentials| MasterKey { endpoint, credentials }) }
}

const VIA_MASTER: RevokeOutcome = RevokeOutcome::Revoked { method: RevokeMethod::ViaMaster };
const SELF_DELETE: RevokeOutcome = RevokeOutcome::Revoked { method: RevokeMethod::SelfDelete };

fn manual_url(outcome: RevokeOutcome) -> (String, Vec<String>) {
    match outcome {
        RevokeOutcome::Manual { url, steps } => (url, steps),
        other => panic!("expected a manual checklist, got {other:?}"),
    }
}

#[tokio::test]
async fn okx_sub_key_through_its_master_then_already_revoked() {
    let sim = sim().await;
    let okx = endpoint(&sim, Exchange::Okx);
    let (sub, master) = (seed_key("okx-sub-bot"), creds(&seed_key("okx-master-ip-bound")));
    let client = client_with(latchkey_core::exchange::ClientConfig::default(), chrono::Duration::zero());
    assert_eq!(
        client.revoke(&request(&okx, &creds(&sub), Some("bot-sub-1"), Some(&master))).await.unwrap(),
        VIA_MASTER
    );
    assert!(!sim.state().has_key(&sub.api_key));
    // The default client waits out OKX's 1 request/s limit, then sees 50119.
    assert_eq!(
        client.revoke(&request(&okx, &creds(&sub), Some("bot-sub-1"), Some(&master))).await.unwrap(),
        RevokeOutcome::AlreadyRevoked
    );
    let codes: Vec<String> =
        sim.state().requests_to("/api/v5/users/subaccount/delete-apikey").iter().map(|r| r.code.clone()).collect();
    assert_eq!(codes, vec!["0", "50011", "50119"]);
}

#[tokio::test]
async fn okx_without_master_or_sub_account_name_is_manual() {
    let sim = sim().await;
    let okx = endpoint(&sim, Exchange::Okx);
    let (sub, master) = (creds(&seed_key("okx-sub-bot")), creds(&seed_key("okx-master-ip-bound")));
    let (url, steps) = manual_url(client().revoke(&request(&okx, &sub, None, None)).await.unwrap());
    assert_eq!(url, "https://www.okx.com/account/my-api");
    assert!(steps[0].contains("only a master key"), "{steps:?}");
    let (_, steps) = manual_url(client().revoke(&request(&okx, &sub, None, Some(&master))).await.unwrap());
    assert!(steps[0].contains("sub-account name"), "{steps:?}");
    assert!(sim.state().requests.is_empty(), "nothing was sent");
}

#[tokio::test]
async fn okx_master_errors() {
    let sim = sim().await;
    let okx = endpoint(&sim, Exchange::Okx);
    let sub = creds(&seed_key("okx-sub-bot"));
    let unbound = variant("okx-master-ip-bound", "7e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b", |k| k.ips.clear());
    sim.add_key(unbound.clone());
    let err = client().revoke(&request(&okx, &sub, Some("bot-sub-1"), Some(&creds(&unbound)))).await.unwrap_err();
    assert_eq!((err.kind(), err.code()), ("ip_binding_required", Some("50035")));

    let read_only = creds(&seed_key("okx-read-only"));
    let err = client().revoke(&request(&okx, &sub, Some("bot-sub-1"), Some(&read_only))).await.unwrap_err();
    assert_eq!((err.kind(), err.code()), ("permission_denied", Some("50120")));

    let demo = Endpoint::custom_demo(Exchange::Okx, &sim.base_url()).unwrap();
    let demo_master = creds(&seed_key("okx-demo"));
    let demo_request = RevokeRequest {
        endpoint: &demo,
        key: &sub,
        sub_account: Some("bot-sub-1"),
        master: Some(MasterKey { endpoint: &demo, credentials: &demo_master }),
    };
    let err = client().revoke(&demo_request).await.unwrap_err();
    assert_eq!((err.kind(), err.code()), ("not_available", None));
    assert!(err.to_string().contains("50038"));
    assert!(sim.state().has_key(&seed_key("okx-sub-bot").api_key));
}

#[tokio::test]
async fn bybit_master_key_deletes_itself() {
    let sim = sim().await;
    let bybit = endpoint(&sim, Exchange::Bybit);
    let wallet = seed_key("bybit-master-wallet");
    assert_eq!(client().revoke(&request(&bybit, &creds(&wallet), None, None)).await.unwrap(), SELF_DELETE);
    assert!(!sim.state().has_key(&wallet.api_key));
    assert_eq!(sim.state().requests_to("/v5/user/delete-api").len(), 1);
    assert_eq!(
        client().revoke(&request(&bybit, &creds(&wallet), None, None)).await.unwrap(),
        RevokeOutcome::AlreadyRevoked
    );
}

#[tokio::test]
async fn bybit_trade_only_master_cannot_delete_itself() {
    let sim = sim().await;
    let bybit = endpoint(&sim, Exchange::Bybit);
    let trade = seed_key("bybit-master-trade");
    let (url, steps) = manual_url(client().revoke(&request(&bybit, &creds(&trade), None, None)).await.unwrap());
    assert_eq!(url, "https://www.bybit.com/app/user/api-management");
    assert!(steps[0].contains("transfer or withdrawal"), "{steps:?}");
    assert!(sim.state().has_key(&trade.api_key));
    assert!(sim.state().requests_to("/v5/user/delete-api").is_empty());
}

#[tokio::test]
async fn bybit_sub_keys_self_and_through_the_master() {
    let sim = sim().await;
    let bybit = endpoint(&sim, Exchange::Bybit);
    let transfer = seed_key("bybit-sub-transfer");
    assert_eq!(client().revoke(&request(&bybit, &creds(&transfer), None, None)).await.unwrap(), SELF_DELETE);
    assert!(!sim.state().has_key(&transfer.api_key));

    let trade = seed_key("bybit-sub-trade");
    let (_, steps) = manual_url(client().revoke(&request(&bybit, &creds(&trade), None, None)).await.unwrap());
    assert!(steps[0].contains("master key"), "{steps:?}");

    let trade_master = creds(&seed_key("bybit-master-trade"));
    let err = client().revoke(&request(&bybit, &creds(&trade), None, Some(&trade_master))).await.unwrap_err();
    assert_eq!((err.kind(), err.code()), ("permission_denied", Some("10005")));

    let master = creds(&seed_key("bybit-master-wallet"));
    assert_eq!(client().revoke(&request(&bybit, &creds(&trade), None, Some(&master))).await.unwrap(), VIA_MASTER);
    assert!(!sim.state().has_key(&trade.api_key));
    assert_eq!(
        client().revoke(&request(&bybit, &creds(&trade), None, Some(&master))).await.unwrap(),
        RevokeOutcome::AlreadyRevoked
    );

    // 10003 from a master that is itself invalid is that master's error, not "already revoked".
    let bogus_master = Credentials::new("NoSuchMasterKey001", &"s".repeat(36), None);
    let err = client().revoke(&request(&bybit, &creds(&trade), None, Some(&bogus_master))).await.unwrap_err();
    assert_eq!((err.kind(), err.code()), ("invalid_key", Some("10003")));
}

#[tokio::test]
async fn binance_sub_key_through_its_master() {
    let sim = sim().await;
    let binance = endpoint(&sim, Exchange::Binance);
    let (sub, master) = (seed_key("binance-sub-withdraw"), creds(&seed_key("binance-master")));
    let email = Some("bot-sub-1@example.com");
    assert_eq!(client().revoke(&request(&binance, &creds(&sub), email, Some(&master))).await.unwrap(), VIA_MASTER);
    assert!(!sim.state().has_key(&sub.api_key));
    // Binance documents no "no such key" code, so a repeat is reported, not assumed revoked.
    tokio::time::sleep(std::time::Duration::from_millis(1010)).await;
    let err = client().revoke(&request(&binance, &creds(&sub), email, Some(&master))).await.unwrap_err();
    assert_eq!(err.kind(), "rejected");

    let read_only_master = creds(&seed_key("binance-read-only"));
    let other = seed_key("binance-master");
    let err = client().revoke(&request(&binance, &creds(&other), email, Some(&read_only_master))).await.unwrap_err();
    assert_eq!((err.kind(), err.code()), ("key_ip_or_permission", Some("-2015")));

    let (url, _) = manual_url(client().revoke(&request(&binance, &creds(&other), None, None)).await.unwrap());
    assert_eq!(url, "https://www.binance.com/en/my/settings/api-management");
}

#[tokio::test]
async fn binance_testnet_revoke_explains_the_missing_sapi() {
    let testnet = Endpoint::new(Exchange::Binance, &Environment::Demo).unwrap();
    let key = creds(&seed_key("binance-sub-withdraw"));
    let master = creds(&seed_key("binance-master"));
    let err =
        client().revoke(&request(&testnet, &key, Some("bot-sub-1@example.com"), Some(&master))).await.unwrap_err();
    assert!(err.to_string().contains("/sapi"), "{err}");
}

#[tokio::test]
async fn a_master_from_another_exchange_is_refused() {
    let sim = sim().await;
    let (okx, bybit) = (endpoint(&sim, Exchange::Okx), endpoint(&sim, Exchange::Bybit));
    let key = creds(&seed_key("okx-sub-bot"));
    let master = creds(&seed_key("bybit-master-wallet"));
    let request = RevokeRequest {
        endpoint: &okx,
        key: &key,
        sub_account: Some("bot-sub-1"),
        master: Some(MasterKey { endpoint: &bybit, credentials: &master }),
    };
    let err = client().revoke(&request).await.unwrap_err();
    assert!(err.to_string().contains("Choose a master key from OKX"), "{err}");
    assert!(sim.state().requests.is_empty());
}
