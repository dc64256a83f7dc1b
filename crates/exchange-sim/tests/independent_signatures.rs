#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns, which clippy.toml already covers

//! The simulator's signature, timestamp and passphrase checks against requests signed by an
//! independent implementation (tests/independent_sign.py, Python stdlib only).

use exchange_sim::{Seed, Sim};
use serde_json::{json, Value};

mod support;
use support::{code, key, python, send, spec};

#[test]
fn python_signer_reproduces_the_documented_vectors() {
    assert_eq!(python(&["--self-test"], "").trim(), "ok 15");
}

#[tokio::test]
async fn sim_accepts_independently_signed_inspections() {
    let sim = Sim::start(Seed::example()).await.unwrap();
    let url = sim.base_url();

    let (status, answer) = send(&url, spec(&key("okx-read-only"), "GET", "/api/v5/account/config", json!([]))).await;
    assert_eq!((status, code(&answer)), (200, "0".to_owned()), "{answer}");
    assert_eq!(answer["data"][0]["perm"], "read_only");
    assert_eq!(answer["data"][0]["ip"], "127.0.0.1");

    let (status, answer) = send(&url, spec(&key("okx-demo"), "GET", "/api/v5/account/config", json!([]))).await;
    assert_eq!((status, code(&answer)), (200, "0".to_owned()), "demo key with x-simulated-trading: {answer}");

    let (status, answer) = send(&url, spec(&key("bybit-master-trade"), "GET", "/v5/user/query-api", json!([]))).await;
    assert_eq!((status, code(&answer)), (200, "0".to_owned()), "{answer}");
    assert_eq!(answer["result"]["isMaster"], true);
    assert_eq!(answer["result"]["ips"], json!(["*"]));

    let (status, answer) =
        send(&url, spec(&key("binance-read-only"), "GET", "/sapi/v1/account/apiRestrictions", json!([]))).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["ipRestrict"], true);
    assert_eq!(answer["enableWithdrawals"], false);
}

#[tokio::test]
async fn sim_accepts_independently_signed_revocations() {
    let sim = Sim::start(Seed::example()).await.unwrap();
    let url = sim.base_url();

    let okx_sub = key("okx-sub-bot");
    let params = json!([["subAcct", "bot-sub-1"], ["apiKey", okx_sub.api_key]]);
    let (_, answer) =
        send(&url, spec(&key("okx-master-ip-bound"), "POST", "/api/v5/users/subaccount/delete-apikey", params)).await;
    assert_eq!(code(&answer), "0", "{answer}");
    assert_eq!(answer["data"][0]["subAcct"], "bot-sub-1");

    let bybit_sub = key("bybit-sub-trade");
    let (_, answer) = send(
        &url,
        spec(&key("bybit-master-wallet"), "POST", "/v5/user/delete-sub-api", json!([["apikey", bybit_sub.api_key]])),
    )
    .await;
    assert_eq!(code(&answer), "0", "{answer}");

    let binance_sub = key("binance-sub-withdraw");
    let params = json!([["email", "bot-sub-1@example.com"], ["subAccountApiKey", binance_sub.api_key]]);
    let (status, answer) =
        send(&url, spec(&key("binance-master"), "DELETE", "/sapi/v1/sub-account/subAccountApi", params)).await;
    assert_eq!((status, answer.clone()), (200, json!({})), "{answer}");

    let (_, answer) = send(&url, spec(&key("bybit-sub-transfer"), "POST", "/v5/user/delete-sub-api", json!([]))).await;
    assert_eq!(code(&answer), "0", "a sub key deletes itself: {answer}");

    let (_, answer) = send(&url, spec(&key("bybit-master-wallet"), "POST", "/v5/user/delete-api", json!([]))).await;
    assert_eq!(code(&answer), "0", "{answer}");

    let state = sim.state();
    for gone in [
        &okx_sub.api_key,
        &bybit_sub.api_key,
        &binance_sub.api_key,
        &key("bybit-sub-transfer").api_key,
        &key("bybit-master-wallet").api_key,
    ] {
        assert!(!state.has_key(gone), "{gone} should be deleted");
    }
    assert!(state.has_key(&key("okx-master-ip-bound").api_key));
}

#[tokio::test]
async fn sim_rejects_what_the_documentation_rejects() {
    let sim = Sim::start(Seed::example()).await.unwrap();
    let url = sim.base_url();
    let okx = key("okx-read-only");
    let bybit = key("bybit-master-trade");
    let binance = key("binance-read-only");
    let with = |mut spec: Value, field: &str, value: Value| {
        spec[field] = value;
        spec
    };
    let okx_get = spec(&okx, "GET", "/api/v5/account/config", json!([]));
    let bybit_get = spec(&bybit, "GET", "/v5/user/query-api", json!([]));
    let binance_get = spec(&binance, "GET", "/sapi/v1/account/apiRestrictions", json!([]));

    let cases: Vec<(&str, Value, u16, &str)> = vec![
        ("okx wrong secret", with(okx_get.clone(), "secret", json!("00000000000000000000000000000000")), 401, "50113"),
        ("okx wrong passphrase", with(okx_get.clone(), "passphrase", json!("not-it")), 401, "50105"),
        ("okx timestamp 31 s old", with(okx_get.clone(), "offsetMs", json!(-31_000)), 401, "50102"),
        ("okx live key on demo", with(okx_get.clone(), "simulated", json!(true)), 401, "50101"),
        (
            "okx unknown key",
            with(okx_get.clone(), "apiKey", json!("11111111-2222-4333-8444-555555555555")),
            401,
            "50111",
        ),
        (
            "okx key bound to another IP",
            spec(&key("okx-other-ip"), "GET", "/api/v5/account/config", json!([])),
            401,
            "50110",
        ),
        ("bybit wrong secret", with(bybit_get.clone(), "secret", json!("x".repeat(36))), 401, "10004"),
        ("bybit older than recv window", with(bybit_get.clone(), "offsetMs", json!(-6_000)), 200, "10002"),
        ("bybit 1.5 s ahead", with(bybit_get.clone(), "offsetMs", json!(1_500)), 200, "10002"),
        ("bybit unknown key", with(bybit_get.clone(), "apiKey", json!("AAAAAAAAAAAAAAAAAA")), 401, "10003"),
        ("bybit key bound to this IP", spec(&key("bybit-sub-trade"), "GET", "/v5/user/query-api", json!([])), 200, "0"),
        ("binance wrong secret", with(binance_get.clone(), "secret", json!("y".repeat(64))), 400, "-1022"),
        ("binance outside recvWindow", with(binance_get.clone(), "offsetMs", json!(-6_000)), 400, "-1021"),
        ("binance 2 s ahead", with(binance_get.clone(), "offsetMs", json!(2_000)), 400, "-1021"),
        ("binance recvWindow too large", with(binance_get.clone(), "recvWindow", json!(70_000)), 400, "-1131"),
        ("binance unknown key", with(binance_get.clone(), "apiKey", json!("z".repeat(64))), 401, "-2015"),
    ];
    for (name, spec, status, expected) in cases {
        let (got_status, answer) = send(&url, spec).await;
        assert_eq!((got_status, code(&answer).as_str()), (status, expected), "{name}: {answer}");
    }
    // A wider recvWindow lets the same old timestamp through, as documented.
    let wide = with(with(binance_get, "offsetMs", json!(-6_000)), "recvWindow", json!(10_000));
    assert_eq!(send(&url, wide).await.0, 200);
}
