//! inspect() against exchange-sim: every exchange, every documented auth error, clock skew.
#![allow(clippy::unwrap_used)]

use crate::exchange_support;

use exchange_support::*;
use latchkey_core::exchange::{ClientConfig, Endpoint, ExchangeError};
use latchkey_core::model::{AccountKind, Environment, Exchange, Permission};
use latchkey_core::risk::{self, Severity};
use latchkey_core::validate;

#[tokio::test]
async fn okx_master_and_sub_keys() {
    let sim = sim().await;
    let client = client();
    let master =
        client.inspect(&endpoint(&sim, Exchange::Okx), &creds(&seed_key("okx-master-ip-bound"))).await.unwrap();
    assert_eq!(master.permissions, vec![Permission::Read, Permission::Trade]);
    assert_eq!(master.ip_whitelist, vec!["127.0.0.1"]);
    assert_eq!(master.account_kind, AccountKind::Master);
    assert_eq!(master.account_uid.as_deref(), Some("44705892343619584"));
    assert_eq!(master.label.as_deref(), Some("okx-master-ip-bound"));
    assert!(risk::assess(&master, chrono::Utc::now()).is_empty(), "trade + IP-bound: no finding");

    let sub = client.inspect(&endpoint(&sim, Exchange::Okx), &creds(&seed_key("okx-sub-bot"))).await.unwrap();
    assert_eq!(sub.account_kind, AccountKind::Sub);
    assert_eq!(sub.master_uid.as_deref(), Some("44705892343619584"));
    let findings = risk::assess(&sub, chrono::Utc::now());
    assert_eq!(findings[0].code, "trade_without_ip_whitelist");
    assert!(findings[0].message.contains("14 days"));

    let withdraw = client.inspect(&endpoint(&sim, Exchange::Okx), &creds(&seed_key("okx-withdraw"))).await.unwrap();
    assert_eq!(risk::overall(&risk::assess(&withdraw, chrono::Utc::now())), Severity::Critical);
    assert_eq!(sim.state().requests_to("/api/v5/account/config").len(), 3);
}

#[tokio::test]
async fn okx_demo_needs_the_simulated_trading_header() {
    let sim = sim().await;
    let demo = Endpoint::custom_demo(Exchange::Okx, &sim.base_url()).unwrap();
    let inspection = client().inspect(&demo, &creds(&seed_key("okx-demo"))).await.unwrap();
    assert!(inspection.demo);
    assert!(
        !risk::assess(&inspection, chrono::Utc::now())[0].message.contains("14 days"),
        "OKX demo keys do not expire"
    );
    let live_key_on_demo = client().inspect(&demo, &creds(&seed_key("okx-read-only"))).await.unwrap_err();
    assert_eq!((live_key_on_demo.kind().as_str(), live_key_on_demo.code()), ("wrong_environment", Some("50101")));
    let demo_key_on_live =
        client().inspect(&endpoint(&sim, Exchange::Okx), &creds(&seed_key("okx-demo"))).await.unwrap_err();
    assert_eq!(demo_key_on_live.code(), Some("50101"));
}

#[tokio::test]
async fn bybit_key_with_expiry_and_sub_key() {
    let sim = sim().await;
    let client = client();
    let trade =
        client.inspect(&endpoint(&sim, Exchange::Bybit), &creds(&seed_key("bybit-master-trade"))).await.unwrap();
    assert_eq!(trade.permissions, vec![Permission::Read, Permission::Trade]);
    assert!(!trade.ip_restricted);
    let expires = trade.expires_at.expect("the seed gives this key an expiry");
    assert!((expires - chrono::Utc::now()).num_days() >= 9);
    let codes: Vec<_> = risk::assess(&trade, chrono::Utc::now()).iter().map(|f| f.code).collect();
    assert_eq!(codes, vec!["trade_without_ip_whitelist", "expiring_soon"]);

    let sub = client.inspect(&endpoint(&sim, Exchange::Bybit), &creds(&seed_key("bybit-sub-transfer"))).await.unwrap();
    assert_eq!(sub.account_kind, AccountKind::Sub);
    assert_eq!(sub.master_uid.as_deref(), Some("1448939"));
    assert!(sub.has(Permission::Transfer));
    let wallet = client.inspect(&endpoint(&sim, Exchange::Bybit), &creds(&seed_key("bybit-withdraw"))).await.unwrap();
    assert!(wallet.has(Permission::Withdraw));
}

#[tokio::test]
async fn binance_restrictions() {
    let sim = sim().await;
    let client = client();
    let sub =
        client.inspect(&endpoint(&sim, Exchange::Binance), &creds(&seed_key("binance-sub-withdraw"))).await.unwrap();
    assert_eq!(sub.permissions, vec![Permission::Read, Permission::Trade, Permission::Withdraw]);
    assert!(!sub.ip_restricted);
    assert_eq!(sub.account_kind, AccountKind::Unknown);
    let findings = risk::assess(&sub, chrono::Utc::now());
    assert_eq!(
        findings.iter().map(|f| f.code).collect::<Vec<_>>(),
        vec!["withdraw_enabled", "trade_without_ip_whitelist"]
    );

    let read_only =
        client.inspect(&endpoint(&sim, Exchange::Binance), &creds(&seed_key("binance-read-only"))).await.unwrap();
    assert!(read_only.ip_restricted && read_only.is_read_only());
    assert_eq!(risk::assess(&read_only, chrono::Utc::now())[0].severity, Severity::Fine);
}

#[tokio::test]
async fn binance_testnet_has_no_key_endpoints() {
    let endpoint = Endpoint::new(Exchange::Binance, &Environment::Demo).unwrap();
    let err = client().inspect(&endpoint, &creds(&seed_key("binance-read-only"))).await.unwrap_err();
    assert_eq!(err.kind(), "not_available");
    assert!(err.to_string().contains("/sapi"));
}

async fn inspect_err(
    sim: &exchange_sim::SimHandle,
    exchange: Exchange,
    credentials: latchkey_core::secret::Credentials,
) -> ExchangeError {
    client().inspect(&endpoint(sim, exchange), &credentials).await.unwrap_err()
}

#[tokio::test]
async fn every_documented_auth_error_is_typed() {
    let sim = sim().await;
    let okx = seed_key("okx-read-only");
    sim.add_key(variant("okx-read-only", "9a0c7d1e-1111-4222-8333-444455556666", |k| k.frozen = true));
    sim.add_key(variant("bybit-sub-trade", "ByBitOtherIp000001", |k| k.ips = vec!["203.0.113.9".into()]));
    sim.add_key(variant("bybit-sub-trade", "ByBitExpired000001", |k| {
        k.expires_at = Some(chrono::Utc::now() - chrono::Duration::days(1))
    }));
    let binance = seed_key("binance-read-only");
    sim.add_key(variant("binance-read-only", &"B".repeat(64), |k| k.ips = vec!["203.0.113.9".into()]));
    let bybit = seed_key("bybit-master-trade");
    let pass = okx.passphrase.clone().unwrap();
    let c = latchkey_core::secret::Credentials::new;

    let cases: Vec<(Exchange, latchkey_core::secret::Credentials, &str, Option<&str>)> = vec![
        (
            Exchange::Okx,
            c(&okx.api_key, "00000000000000000000000000000000", Some(&pass)),
            "bad_signature",
            Some("50113"),
        ),
        (Exchange::Okx, c(&okx.api_key, &okx.secret, Some("wrong-passphrase")), "wrong_passphrase", Some("50105")),
        (Exchange::Okx, c(&okx.api_key, &okx.secret, None), "missing_passphrase", None),
        (
            Exchange::Okx,
            c("11111111-2222-4333-8444-555555555555", &okx.secret, Some(&pass)),
            "invalid_key",
            Some("50111"),
        ),
        (Exchange::Okx, creds(&seed_key("okx-other-ip")), "ip_not_allowed", Some("50110")),
        (
            Exchange::Okx,
            c("9a0c7d1e-1111-4222-8333-444455556666", &okx.secret, Some(&pass)),
            "key_frozen",
            Some("50100"),
        ),
        (Exchange::Bybit, c(&bybit.api_key, &"x".repeat(36), None), "bad_signature", Some("10004")),
        (Exchange::Bybit, c("AAAAAAAAAAAAAAAAAA", &bybit.secret, None), "invalid_key", Some("10003")),
        (
            Exchange::Bybit,
            c("ByBitOtherIp000001", &seed_key("bybit-sub-trade").secret, None),
            "ip_not_allowed",
            Some("10010"),
        ),
        (
            Exchange::Bybit,
            c("ByBitExpired000001", &seed_key("bybit-sub-trade").secret, None),
            "key_expired",
            Some("33004"),
        ),
        (Exchange::Binance, c(&binance.api_key, &"y".repeat(64), None), "bad_signature", Some("-1022")),
        (Exchange::Binance, c(&"z".repeat(64), &binance.secret, None), "key_ip_or_permission", Some("-2015")),
        (Exchange::Binance, c(&"B".repeat(64), &binance.secret, None), "key_ip_or_permission", Some("-2015")),
    ];
    for (exchange, credentials, kind, code) in cases {
        let err = inspect_err(&sim, exchange, credentials).await;
        assert_eq!((err.kind().as_str(), err.code()), (kind, code), "{exchange}: {err}");
        let message = err.to_string();
        for secret in [
            okx.secret.as_str(),
            pass.as_str(),
            bybit.secret.as_str(),
            binance.secret.as_str(),
            okx.api_key.as_str(),
            binance.api_key.as_str(),
        ] {
            assert!(!message.contains(secret), "a credential leaked into: {message}");
        }
    }
}

#[tokio::test]
async fn clock_skew_is_corrected_once_per_exchange() {
    let sim = sim().await;
    // This computer's clock runs 90 s behind the exchanges'.
    let client = client_with(ClientConfig::default(), chrono::Duration::seconds(-90));
    for (label, time_path, skew_code) in [
        ("okx-read-only", "/api/v5/public/time", "50102"),
        ("bybit-master-trade", "/v5/market/time", "10002"),
        ("binance-read-only", "/api/v3/time", "-1021"),
    ] {
        let key = seed_key(label);
        let endpoint = endpoint(&sim, exchange(&key));
        client.inspect(&endpoint, &creds(&key)).await.unwrap_or_else(|e| panic!("{label}: {e}"));
        let offset = client.clock_offset(&endpoint).num_seconds();
        assert!((89..=91).contains(&offset), "{label}: offset {offset}");
        assert_eq!(sim.state().requests_to(time_path).len(), 1, "{label}");
        // Later calls use the learned offset: no further skew answers.
        client.inspect(&endpoint, &creds(&key)).await.unwrap();
        let skews = sim.state().requests.iter().filter(|r| r.code == skew_code).count();
        assert_eq!(skews, 1, "{label}: one skew answer, then corrected");
    }
}

#[tokio::test]
async fn a_server_time_that_cannot_be_read_ends_the_retry() {
    let sim = sim().await;
    sim.set_fault(exchange_sim::Fault::new(exchange_sim::FaultKind::ServerError { status: 503 }).on("/api/v3/time"));
    let client = client_with(ClientConfig::default(), chrono::Duration::seconds(-90));
    let err =
        client.inspect(&endpoint(&sim, Exchange::Binance), &creds(&seed_key("binance-read-only"))).await.unwrap_err();
    assert_eq!(err.kind(), "exchange_down");
}

#[test]
fn example_seed_keys_have_the_shapes_the_app_accepts() {
    for key in exchange_sim::Seed::example().keys {
        let c = creds(&key);
        validate::credentials(exchange(&key), &c.api_key, &c.api_secret, c.passphrase.as_ref())
            .unwrap_or_else(|e| panic!("{}: {e}", key.label));
    }
}

#[tokio::test]
async fn inspection_json_is_camel_case_and_secret_free() {
    let sim = sim().await;
    let key = seed_key("okx-master-ip-bound");
    let inspection = client().inspect(&endpoint(&sim, Exchange::Okx), &creds(&key)).await.unwrap();
    let json = serde_json::to_string(&inspection).unwrap();
    for field in [
        "\"ipWhitelist\"",
        "\"ipRestricted\"",
        "\"accountKind\":\"master\"",
        "\"accountUid\"",
        "\"expiresAt\":null",
        "\"permissions\":[\"read\",\"trade\"]",
    ] {
        assert!(json.contains(field), "{field} missing in {json}");
    }
    assert!(!json.contains(&key.api_key) && !json.contains(&key.secret));
}
