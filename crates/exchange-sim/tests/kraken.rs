//! The simulator's Kraken against requests signed by the independent signer
//! (tests/independent_sign.py): the documented signature, the per-key nonce that must grow, the
//! error strings, the answer shape, and the faults.

use exchange_sim::{Fault, FaultKind, Seed, Sim};
use serde_json::{json, Value};

mod support;
use support::{key, send, spec};

const INFO: &str = "/0/private/GetApiKeyInfo";

fn error(answer: &Value) -> String {
    answer["error"].as_array().and_then(|e| e.first()).and_then(Value::as_str).unwrap_or("none").to_owned()
}

fn with(mut spec: Value, field: &str, value: Value) -> Value {
    spec[field] = value;
    spec
}

#[tokio::test]
async fn an_independently_signed_inspection_shows_the_key() {
    let sim = Sim::start(Seed::example()).await.unwrap();
    let trade = key("kraken-trade-expiring");
    let (status, answer) = send(&sim.base_url(), spec(&trade, "POST", INFO, json!([]))).await;
    assert_eq!((status, error(&answer)), (200, "none".to_owned()), "{answer}");
    let result = &answer["result"];
    assert_eq!(result["apiKeyName"], "kraken-trade-expiring");
    assert_eq!(result["apiKey"], trade.api_key.as_str());
    assert!(result["permissions"].as_array().unwrap().contains(&json!("modify-trades")));
    assert!(!result["permissions"].as_array().unwrap().contains(&json!("withdraw-funds")));
    assert_eq!(result["ipAllowlist"], json!([]));
    let valid_until: i64 = result["validUntil"].as_str().unwrap().parse().unwrap();
    assert!((valid_until - chrono::Utc::now().timestamp() - 20 * 86_400).abs() < 60, "20 days ahead: {valid_until}");
    let read_only = key("kraken-read-only");
    let (_, answer) = send(&sim.base_url(), spec(&read_only, "POST", INFO, json!([]))).await;
    assert_eq!(answer["result"]["validUntil"], "0", "no expiry");
    assert_eq!(answer["result"]["ipAllowlist"], json!(["127.0.0.1"]));
}

#[tokio::test]
async fn the_nonce_must_grow_per_key() {
    let sim = Sim::start(Seed::example()).await.unwrap();
    let url = sim.base_url();
    let read_only = spec(&key("kraken-read-only"), "POST", INFO, json!([]));
    let at = |nonce: u64| with(read_only.clone(), "nonce", json!(nonce));
    assert_eq!(error(&send(&url, at(1_000)).await.1), "none");
    assert_eq!(error(&send(&url, at(1_000)).await.1), "EAPI:Invalid nonce", "the same nonce again");
    assert_eq!(error(&send(&url, at(999)).await.1), "EAPI:Invalid nonce", "a smaller one");
    let (_, answer) = send(&url, at(1_001)).await;
    assert_eq!((error(&answer), answer["result"]["nonce"].clone()), ("none".to_owned(), json!("1001")));
    // Another key counts on its own.
    let other = with(spec(&key("kraken-withdraw"), "POST", INFO, json!([])), "nonce", json!(5));
    assert_eq!(error(&send(&url, other).await.1), "none");
    // A refused signature does not use up the nonce.
    let bad = with(at(2_000), "secret", json!("AAAA"));
    assert_eq!(error(&send(&url, bad).await.1), "EAPI:Invalid signature");
    assert_eq!(error(&send(&url, at(2_000)).await.1), "none");
}

#[tokio::test]
async fn sim_rejects_what_the_documentation_rejects() {
    let sim = Sim::start(Seed::example()).await.unwrap();
    let url = sim.base_url();
    let read_only = spec(&key("kraken-read-only"), "POST", INFO, json!([]));
    let wrong_secret = base64_of_zeroes();
    let cases = [
        ("unknown key", with(read_only.clone(), "apiKey", json!("B".repeat(56))), "EAPI:Invalid key"),
        ("wrong secret", with(read_only.clone(), "secret", json!(wrong_secret)), "EAPI:Invalid signature"),
        ("not a number", with(read_only.clone(), "nonce", json!("soon")), "EAPI:Invalid nonce"),
        ("another IP", spec(&key("kraken-other-ip"), "POST", INFO, json!([])), "EGeneral:Permission denied"),
    ];
    for (name, spec, expected) in cases {
        let (status, answer) = send(&url, spec).await;
        assert_eq!((status, error(&answer).as_str()), (200, expected), "{name}: {answer}");
    }
    let expired = key("kraken-read-only");
    sim.add_key(exchange_sim::SimKey {
        api_key: "E".repeat(56),
        label: "expired".into(),
        expires_at: Some(chrono::Utc::now() - chrono::Duration::hours(1)),
        ..expired
    });
    let (_, answer) = send(&url, with(read_only.clone(), "apiKey", json!("E".repeat(56)))).await;
    assert_eq!(error(&answer), "EAPI:Invalid key", "past validUntil");
    assert!(sim.delete_key(&key("kraken-read-only").api_key));
    assert_eq!(error(&send(&url, read_only).await.1), "EAPI:Invalid key", "deleted on the website");
}

#[tokio::test]
async fn the_call_counter_and_the_faults() {
    let sim = Sim::start(Seed::example()).await.unwrap();
    let url = sim.base_url();
    let withdraw = spec(&key("kraken-withdraw"), "POST", INFO, json!([]));
    let mut last = String::new();
    for n in 1..=16u64 {
        last = error(&send(&url, with(withdraw.clone(), "nonce", json!(n))).await.1);
    }
    assert_eq!(last, "EAPI:Rate limit exceeded", "the 16th call within the counter's decay");
    sim.set_fault(Fault::new(FaultKind::RateLimited { retry_after_secs: 2 }).on("/0/private/").times(1));
    let (status, answer) = send(&url, spec(&key("kraken-read-only"), "POST", INFO, json!([]))).await;
    assert_eq!((status, error(&answer).as_str()), (429, "EAPI:Rate limit exceeded"));
    let codes: Vec<String> = sim.state().requests_to(INFO).iter().map(|r| r.code.clone()).collect();
    assert_eq!(codes.last().map(String::as_str), Some("fault:rateLimited"));
    assert_eq!(codes.iter().filter(|c| *c == "ok").count(), 15);
}

#[tokio::test]
async fn the_public_time() {
    let sim = Sim::start(Seed::example()).await.unwrap();
    let answer: Value = reqwest::get(format!("{}/0/public/Time", sim.base_url())).await.unwrap().json().await.unwrap();
    let unixtime = answer["result"]["unixtime"].as_i64().unwrap();
    assert!((unixtime - chrono::Utc::now().timestamp()).abs() < 5, "{answer}");
}

/// 64 zero bytes, Base64: a well-formed private key that is not the key's.
fn base64_of_zeroes() -> String {
    format!("{}==", "A".repeat(86))
}
