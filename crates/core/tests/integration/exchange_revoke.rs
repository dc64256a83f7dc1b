//! revoke() against exchange-sim: self-delete, delete through a master key, already-revoked (only
//! on proof: the key's own signed call refused as an invalid key), manual checklists, and the
//! errors a master key can meet, none of which may read as "revoked".
#![allow(clippy::unwrap_used)]

use crate::exchange_support;

use exchange_support::*;
use latchkey_core::exchange::{Endpoint, ExchangeError, MasterKey, RevokeMethod, RevokeOutcome, RevokeRequest};
use latchkey_core::model::{Environment, Exchange};
use latchkey_core::secret::Credentials;

fn request<'a>(
    endpoint: &'a Endpoint,
    key: &'a Credentials,
    sub_account: Option<&'a str>,
    master: Option<&'a Credentials>,
) -> RevokeRequest<'a> {
    RevokeRequest {
        endpoint,
        key,
        sub_account,
        master: master.map(|credentials| MasterKey::unattended(endpoint, credentials)),
        answered_here: false,
    }
}

fn method(outcome: RevokeOutcome) -> RevokeMethod {
    match outcome {
        RevokeOutcome::Revoked { method, proved_at } => {
            assert!((chrono::Utc::now() - proved_at).num_seconds().abs() < 60, "the proof's time: {proved_at}");
            method
        }
        other => panic!("expected revoked, got {other:?}"),
    }
}

fn already(outcome: &RevokeOutcome) -> bool {
    matches!(outcome, RevokeOutcome::AlreadyRevoked { .. })
}

/// The requests to the key's own inspection call and the codes answered.
fn proof_codes(sim: &exchange_sim::SimHandle, path: &str) -> Vec<String> {
    sim.state().requests_to(path).iter().map(|r| r.code.clone()).collect()
}

const OKX_INSPECT: &str = "/api/v5/account/config";

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
    let outcome = client.revoke(&request(&okx, &creds(&sub), Some("bot-sub-1"), Some(&master))).await.unwrap();
    assert_eq!(method(outcome), RevokeMethod::ViaMaster);
    assert!(!sim.state().has_key(&sub.api_key));
    assert_eq!(proof_codes(&sim, OKX_INSPECT), ["50119"], "proved by the sub key's own call");
    // The default client waits out OKX's 1 request/s limit; the delete is refused (the simulator's
    // own code for a key not in that sub-account), and the sub key's own call proves it gone.
    let again = client.revoke(&request(&okx, &creds(&sub), Some("bot-sub-1"), Some(&master))).await.unwrap();
    assert!(already(&again), "{again:?}");
    let codes: Vec<String> =
        sim.state().requests_to("/api/v5/users/subaccount/delete-apikey").iter().map(|r| r.code.clone()).collect();
    assert_eq!(codes, vec!["0", "50011", "-13001"]);
    assert_eq!(proof_codes(&sim, OKX_INSPECT), ["50119", "50119"]);
}

/// Issue 10, item 2: the user deleted the OKX master on the website first, then pressed Emergency
/// revoke. The master-signed delete is answered 50119 ("API key doesn't exist", about the *calling*
/// key): the sub key is not gone, and its own signed call says so.
#[tokio::test]
async fn okx_master_deleted_on_the_website_leaves_the_sub_key_still_live() {
    let sim = sim().await;
    let okx = endpoint(&sim, Exchange::Okx);
    let (sub, master_key) = (seed_key("okx-sub-bot"), seed_key("okx-master-ip-bound"));
    assert!(sim.delete_key(&master_key.api_key), "deleted on the website");
    let err =
        client().revoke(&request(&okx, &creds(&sub), Some("bot-sub-1"), Some(&creds(&master_key)))).await.unwrap_err();
    assert_eq!(err.kind(), "still_live", "{err}");
    let text = err.to_string();
    assert!(text.contains("refused the master key") && text.contains("50119"), "{text}");
    assert!(text.contains("keeps its secret") && text.contains("I deleted it"), "{text}");
    assert!(sim.state().has_key(&sub.api_key), "still trading");
    assert_eq!(proof_codes(&sim, OKX_INSPECT), ["0"], "the sub key's own call still works");
}

/// A wrong sub-account name gets the simulator's own sub-account code, never 50119, and the proof
/// shows the key alive.
#[tokio::test]
async fn okx_wrong_sub_account_is_no_proof() {
    let sim = sim().await;
    let okx = endpoint(&sim, Exchange::Okx);
    let (sub, master) = (seed_key("okx-sub-bot"), creds(&seed_key("okx-master-ip-bound")));
    let err = client().revoke(&request(&okx, &creds(&sub), Some("not-my-sub"), Some(&master))).await.unwrap_err();
    assert_eq!(err.kind(), "still_live", "{err}");
    assert!(err.to_string().contains("-13001"), "{err}");
    assert!(sim.state().has_key(&sub.api_key));
    let codes = proof_codes(&sim, "/api/v5/users/subaccount/delete-apikey");
    assert_eq!(codes, ["-13001"]);
}

/// A proof that cannot be had (the key's own call fails with a 5xx, or in another environment)
/// is no proof: never "revoked", and a transient failure comes back for the engine's retry.
#[tokio::test]
async fn a_failed_proof_is_no_proof() {
    let sim = sim().await;
    let okx = endpoint(&sim, Exchange::Okx);
    let (sub, master) = (seed_key("okx-sub-bot"), creds(&seed_key("okx-master-ip-bound")));
    sim.set_fault(exchange_sim::Fault::new(exchange_sim::FaultKind::ServerError { status: 502 }).on(OKX_INSPECT));
    let err = client().revoke(&request(&okx, &creds(&sub), Some("bot-sub-1"), Some(&master))).await.unwrap_err();
    assert_eq!(err.kind(), "exchange_down", "{err}");
    assert!(err.is_transient());
    assert!(!sim.state().has_key(&sub.api_key), "deleted, but not yet proved");

    // The key's own environment does not match: OKX's 50101 proves nothing.
    sim.clear_faults();
    let demo = Endpoint::custom_demo(Exchange::Okx, &sim.base_url()).unwrap();
    let verdict = client().prove_revoked(&demo, &creds(&seed_key("okx-read-only")), false).await.unwrap();
    assert!(
        matches!(&verdict, latchkey_core::exchange::ProofVerdict::NotProved(e) if e.code() == Some("50101")),
        "{verdict:?}"
    );
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
    // Each refusal is the master's; the sub key's own call shows it alive: still live, with why.
    let err = client().revoke(&request(&okx, &sub, Some("bot-sub-1"), Some(&creds(&unbound)))).await.unwrap_err();
    assert_eq!(err.kind(), "still_live");
    assert!(err.to_string().contains("(50035)"), "{err}");

    let read_only = creds(&seed_key("okx-read-only"));
    let err = client().revoke(&request(&okx, &sub, Some("bot-sub-1"), Some(&read_only))).await.unwrap_err();
    assert_eq!(err.kind(), "still_live");
    assert!(err.to_string().contains("(50120)"), "{err}");

    let demo = Endpoint::custom_demo(Exchange::Okx, &sim.base_url()).unwrap();
    let demo_master = creds(&seed_key("okx-demo"));
    let demo_request = RevokeRequest {
        endpoint: &demo,
        key: &sub,
        sub_account: Some("bot-sub-1"),
        master: Some(MasterKey::unattended(&demo, &demo_master)),
        answered_here: false,
    };
    let err = client().revoke(&demo_request).await.unwrap_err();
    // The delete is refused (50038), and the live sub key's own call on the demo host is refused as
    // the wrong environment (50101): neither proves anything.
    assert_eq!(err.kind(), "unproved");
    assert!(err.to_string().contains("50038") && err.to_string().contains("50101"), "{err}");
    assert!(sim.state().has_key(&seed_key("okx-sub-bot").api_key));
}

#[tokio::test]
async fn bybit_master_key_deletes_itself() {
    let sim = sim().await;
    let bybit = endpoint(&sim, Exchange::Bybit);
    let wallet = seed_key("bybit-master-wallet");
    assert_eq!(
        method(client().revoke(&request(&bybit, &creds(&wallet), None, None)).await.unwrap()),
        RevokeMethod::SelfDelete
    );
    assert!(!sim.state().has_key(&wallet.api_key));
    assert_eq!(sim.state().requests_to("/v5/user/delete-api").len(), 1);
    assert_eq!(proof_codes(&sim, "/v5/user/query-api"), ["0", "10003"], "inspect, delete, proof");
    // Again: Bybit's 10003 is also what a live key gets on the wrong host, so it proves the key
    // gone only for a key that answered from here before.
    let wallet_creds = creds(&wallet);
    let known = RevokeRequest { answered_here: true, ..request(&bybit, &wallet_creds, None, None) };
    assert!(already(&client().revoke(&known).await.unwrap()));
    let err = client().revoke(&request(&bybit, &creds(&wallet), None, None)).await.unwrap_err();
    assert_eq!(err.kind(), "unproved", "{err}");
    assert!(err.to_string().contains("wrong host or environment"), "{err}");
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
    let outcome = client().revoke(&request(&bybit, &creds(&transfer), None, None)).await.unwrap();
    assert_eq!(method(outcome), RevokeMethod::SelfDelete);
    assert!(!sim.state().has_key(&transfer.api_key));

    let trade = seed_key("bybit-sub-trade");
    let (_, steps) = manual_url(client().revoke(&request(&bybit, &creds(&trade), None, None)).await.unwrap());
    assert!(steps[0].contains("master key"), "{steps:?}");

    let trade_master = creds(&seed_key("bybit-master-trade"));
    let err = client().revoke(&request(&bybit, &creds(&trade), None, Some(&trade_master))).await.unwrap_err();
    assert_eq!(err.kind(), "still_live");
    assert!(err.to_string().contains("(10005)"), "{err}");

    // 10003 from a master that is itself invalid (deleted on the website) is that master's error:
    // the sub key's own call still works.
    let bogus_master = Credentials::new("NoSuchMasterKey001", &"s".repeat(36), None);
    let err = client().revoke(&request(&bybit, &creds(&trade), None, Some(&bogus_master))).await.unwrap_err();
    assert_eq!(err.kind(), "still_live", "{err}");
    assert!(err.to_string().contains("refused the master key") && err.to_string().contains("10003"), "{err}");
    assert!(sim.state().has_key(&trade.api_key));

    let master = creds(&seed_key("bybit-master-wallet"));
    let outcome = client().revoke(&request(&bybit, &creds(&trade), None, Some(&master))).await.unwrap();
    assert_eq!(method(outcome), RevokeMethod::ViaMaster);
    assert!(!sim.state().has_key(&trade.api_key));
    // Again: the master's delete is refused with the simulator's own code (never 10003), and the
    // sub key's own call proves it gone.
    let trade_creds = creds(&trade);
    let known = RevokeRequest { answered_here: true, ..request(&bybit, &trade_creds, None, Some(&master)) };
    assert!(already(&client().revoke(&known).await.unwrap()));
    let codes = proof_codes(&sim, "/v5/user/delete-sub-api");
    assert_eq!(codes.last().map(String::as_str), Some("-13001"), "{codes:?}");
}

#[tokio::test]
async fn binance_sub_key_through_its_master() {
    let sim = sim().await;
    let binance = endpoint(&sim, Exchange::Binance);
    let (sub, master) = (seed_key("binance-sub-withdraw"), creds(&seed_key("binance-master")));
    let email = Some("bot-sub-1@example.com");
    let outcome = client().revoke(&request(&binance, &creds(&sub), email, Some(&master))).await.unwrap();
    assert_eq!(method(outcome), RevokeMethod::ViaMaster);
    assert!(!sim.state().has_key(&sub.api_key));
    // Binance documents no "no such key" code: the repeat is refused with the simulator's own
    // code, and the sub key's own call gets -2015, which Binance also sends for an IP the key does
    // not allow. With the delete refused, that proves nothing for a key never checked from here...
    tokio::time::sleep(std::time::Duration::from_millis(1010)).await;
    let err = client().revoke(&request(&binance, &creds(&sub), email, Some(&master))).await.unwrap_err();
    assert!(matches!(err, ExchangeError::RevokeUnproved { .. }), "{err:?}");
    assert!(err.to_string().contains("Binance reports all three with one code"), "{err}");
    // ...and proves it gone for a key whose last check from this computer was answered.
    tokio::time::sleep(std::time::Duration::from_millis(1010)).await;
    let sub_creds = creds(&sub);
    let checked_here = RevokeRequest { answered_here: true, ..request(&binance, &sub_creds, email, Some(&master)) };
    let again = client().revoke(&checked_here).await.unwrap();
    assert!(already(&again), "{again:?}");
    assert_eq!(proof_codes(&sim, "/sapi/v1/account/apiRestrictions"), ["-2015", "-2015", "-2015"]);

    let read_only_master = creds(&seed_key("binance-read-only"));
    let other = seed_key("binance-master");
    let err = client().revoke(&request(&binance, &creds(&other), email, Some(&read_only_master))).await.unwrap_err();
    assert_eq!(err.kind(), "still_live", "the master's -2015 is not the target's");
    assert!(err.to_string().contains("refused the master key that signs the delete (-2015"), "{err}");

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
        master: Some(MasterKey::unattended(&bybit, &master)),
        answered_here: false,
    };
    let err = client().revoke(&request).await.unwrap_err();
    assert!(err.to_string().contains("Choose a master key from OKX"), "{err}");
    assert!(sim.state().requests.is_empty());
}
