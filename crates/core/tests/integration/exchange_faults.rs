//! The client against the simulator's injected faults: latency, timeouts, 5xx, 429 with
//! Retry-After, malformed JSON, an unreachable host, and the documented rate limits.
#![allow(clippy::unwrap_used)]

use crate::exchange_support;

use std::time::{Duration, Instant};

use exchange_sim::{Fault, FaultKind};
use exchange_support::*;
use latchkey_core::exchange::{ClientConfig, Endpoint, MasterKey, RevokeOutcome, RevokeRequest, MAX_ANSWER_BYTES};
use latchkey_core::model::{Environment, Exchange};

const CONFIG: &str = "/api/v5/account/config";

fn config(timeout_ms: u64, max_retry_after_ms: u64) -> ClientConfig {
    ClientConfig {
        timeout: Duration::from_millis(timeout_ms),
        max_retry_after: Duration::from_millis(max_retry_after_ms),
        recv_window_ms: 5000,
    }
}

#[tokio::test]
async fn latency_below_the_timeout_is_fine() {
    let sim = sim().await;
    sim.set_fault(Fault::new(FaultKind::Latency { ms: 80 }).times(1));
    let started = Instant::now();
    client().inspect(&endpoint(&sim, Exchange::Okx), &creds(&seed_key("okx-read-only"))).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(80));
    assert!(sim.state().faults.is_empty(), "a counted fault wears out");
}

#[tokio::test]
async fn a_hanging_exchange_times_out() {
    let sim = sim().await;
    sim.set_fault(Fault::new(FaultKind::Hang));
    let client = client_with(config(250, 0), chrono::Duration::zero());
    let started = Instant::now();
    let err =
        client.inspect(&endpoint(&sim, Exchange::Bybit), &creds(&seed_key("bybit-master-trade"))).await.unwrap_err();
    assert_eq!(err.kind(), "timeout");
    assert!(err.to_string().contains("0.25 s"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(2));
    // Latency beyond the timeout is a timeout too.
    sim.clear_faults();
    sim.set_fault(Fault::new(FaultKind::Latency { ms: 600 }));
    let err =
        client.inspect(&endpoint(&sim, Exchange::Binance), &creds(&seed_key("binance-read-only"))).await.unwrap_err();
    assert_eq!(err.kind(), "timeout");
}

#[tokio::test]
async fn server_errors_mean_the_exchange_is_down() {
    let sim = sim().await;
    for (status, label) in [(502, "okx-read-only"), (503, "bybit-master-trade"), (500, "binance-read-only")] {
        sim.set_fault(Fault::new(FaultKind::ServerError { status }).times(1));
        let key = seed_key(label);
        let err = client().inspect(&endpoint(&sim, exchange(&key)), &creds(&key)).await.unwrap_err();
        assert_eq!(err.kind(), "exchange_down", "{label}");
        assert!(err.to_string().contains(&format!("HTTP {status}")), "{err}");
        assert!(err.is_transient());
    }
}

#[tokio::test]
async fn rate_limits_carry_retry_after() {
    let sim = sim().await;
    for label in ["okx-read-only", "bybit-master-trade", "binance-read-only"] {
        sim.set_fault(Fault::new(FaultKind::RateLimited { retry_after_secs: 7 }).times(1));
        let key = seed_key(label);
        let err = client().inspect(&endpoint(&sim, exchange(&key)), &creds(&key)).await.unwrap_err();
        assert_eq!(err.kind(), "rate_limited", "{label}");
        match err {
            latchkey_core::exchange::ExchangeError::RateLimited { retry_after, .. } => {
                assert_eq!(retry_after, Some(Duration::from_secs(7)))
            }
            other => panic!("{other}"),
        }
    }
}

#[tokio::test]
async fn a_short_retry_after_is_waited_out_once() {
    let sim = sim().await;
    sim.set_fault(Fault::new(FaultKind::RateLimited { retry_after_secs: 1 }).on(CONFIG).times(1));
    let client = client_with(config(3000, 1500), chrono::Duration::zero());
    let started = Instant::now();
    client.inspect(&endpoint(&sim, Exchange::Okx), &creds(&seed_key("okx-read-only"))).await.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1), "waited for Retry-After");
    let codes: Vec<String> = sim.state().requests_to(CONFIG).iter().map(|r| r.code.clone()).collect();
    assert_eq!(codes, vec!["fault:rateLimited", "0"]);

    // Only once: a second 429 in a row is returned.
    sim.set_fault(Fault::new(FaultKind::RateLimited { retry_after_secs: 1 }).on(CONFIG).times(2));
    let err = client.inspect(&endpoint(&sim, Exchange::Okx), &creds(&seed_key("okx-read-only"))).await.unwrap_err();
    assert_eq!(err.kind(), "rate_limited");
}

#[tokio::test]
async fn malformed_json_is_an_unexpected_response() {
    let sim = sim().await;
    for label in ["okx-read-only", "bybit-master-trade", "binance-read-only"] {
        sim.set_fault(Fault::new(FaultKind::MalformedJson).times(1));
        let key = seed_key(label);
        let err = client().inspect(&endpoint(&sim, exchange(&key)), &creds(&key)).await.unwrap_err();
        assert_eq!(err.kind(), "unexpected_response", "{label}: {err}");
        assert!(err.to_string().contains("not JSON"), "{err}");
    }
}

/// A well-formed answer past 1 MiB is refused before it is parsed; one just under it is read.
#[tokio::test]
async fn an_answer_over_one_mib_is_refused_before_parsing() {
    let sim = sim().await;
    let key = seed_key("okx-read-only");
    sim.set_fault(Fault::new(FaultKind::HugeBody { bytes: MAX_ANSWER_BYTES - 4096 }).times(1));
    client().inspect(&endpoint(&sim, Exchange::Okx), &creds(&key)).await.unwrap();
    for bytes in [MAX_ANSWER_BYTES + 1, 64 * MAX_ANSWER_BYTES] {
        sim.set_fault(Fault::new(FaultKind::HugeBody { bytes }).times(1));
        let err = client().inspect(&endpoint(&sim, Exchange::Okx), &creds(&key)).await.unwrap_err();
        assert_eq!(err.kind(), "unexpected_response", "{bytes} bytes: {err}");
        assert!(err.to_string().contains("larger than 1024 KiB"), "{err}");
    }
}

#[tokio::test]
async fn an_unreachable_host_is_a_network_error() {
    let sim = sim().await;
    let url = sim.base_url();
    sim.shutdown();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let endpoint = Endpoint::new(Exchange::Okx, &Environment::Custom { base_url: url }).unwrap();
    let err = client().inspect(&endpoint, &creds(&seed_key("okx-read-only"))).await.unwrap_err();
    assert_eq!(err.kind(), "network", "{err}");
}

#[tokio::test]
async fn faults_can_target_one_path() {
    let sim = sim().await;
    sim.set_fault(Fault::new(FaultKind::ServerError { status: 502 }).on("/v5/"));
    client().inspect(&endpoint(&sim, Exchange::Okx), &creds(&seed_key("okx-read-only"))).await.unwrap();
    let err =
        client().inspect(&endpoint(&sim, Exchange::Bybit), &creds(&seed_key("bybit-master-trade"))).await.unwrap_err();
    assert_eq!(err.kind(), "exchange_down");
}

#[tokio::test]
async fn okx_delete_apikey_is_limited_to_one_per_second() {
    let sim = sim().await;
    let master_key = seed_key("okx-master-ip-bound");
    let okx = endpoint(&sim, Exchange::Okx);
    let master = creds(&master_key);
    let second_sub = variant("okx-sub-bot", "5d3b7a2e-0000-4aaa-8bbb-cccccccccccc", |_| {});
    sim.add_key(second_sub.clone());
    let first = creds(&seed_key("okx-sub-bot"));
    let second = creds(&second_sub);
    let request = |key| RevokeRequest {
        endpoint: &okx,
        key,
        sub_account: Some("bot-sub-1"),
        master: Some(MasterKey::unattended(&okx, &master)),
        answered_here: false,
    };

    let strict = client();
    assert!(matches!(strict.revoke(&request(&first)).await.unwrap(), RevokeOutcome::Revoked { .. }));
    let err = strict.revoke(&request(&second)).await.unwrap_err();
    assert_eq!((err.kind().as_str(), err.code()), ("rate_limited", None));
    assert!(matches!(err, latchkey_core::exchange::ExchangeError::RateLimited { retry_after: Some(_), .. }));
    assert!(sim.state().has_key(&second_sub.api_key), "the limited call deleted nothing");

    // A client that honours Retry-After gets through after the second.
    let patient = client_with(config(3000, 2000), chrono::Duration::zero());
    let outcome = patient.revoke(&request(&second)).await.unwrap();
    assert!(matches!(outcome, RevokeOutcome::Revoked { .. }), "{outcome:?}");
    assert!(!sim.state().has_key(&second_sub.api_key));
}
