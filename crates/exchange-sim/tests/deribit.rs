//! The simulator's Deribit against requests signed by the independent signer
//! (tests/independent_sign.py): the documented deri-hmac-sha256 header, the 60 s window, a nonce
//! used once, the error codes, list/remove/disable on the account's own keys, and the
//! security-key challenge.

use exchange_sim::{Seed, Sim};
use serde_json::{json, Value};

mod support;
use support::{key, send, spec};

const LIST: &str = "/api/v2/private/list_api_keys";

fn error_code(answer: &Value) -> i64 {
    answer["error"]["code"].as_i64().unwrap_or(0)
}

fn with(mut spec: Value, field: &str, value: Value) -> Value {
    spec[field] = value;
    spec
}

#[tokio::test]
async fn the_account_lists_its_keys_and_a_key_removes_itself() {
    let sim = Sim::start(Seed::example()).await.unwrap();
    let url = sim.base_url();
    let full = key("deribit-full");
    let (status, answer) = send(&url, spec(&full, "GET", LIST, json!([]))).await;
    assert_eq!(status, 200, "{answer}");
    let rows = answer["result"].as_array().unwrap();
    assert_eq!(rows.len(), 3, "the three keys of account dbacct1: {answer}");
    let me = rows.iter().find(|r| r["client_id"] == full.api_key.as_str()).unwrap();
    assert!(me["max_scope"].as_str().unwrap().contains("account:read_write"));
    assert_eq!(me["ip_whitelist"], json!(["127.0.0.1"]));

    // A read-only key may list but not remove: scope_exceeded.
    let id = me["id"].to_string();
    let read = key("deribit-read");
    let (_, answer) = send(&url, spec(&read, "GET", "/api/v2/private/remove_api_key", json!([["id", id]]))).await;
    assert_eq!(error_code(&answer), 13403, "{answer}");
    let (_, answer) = send(&url, spec(&full, "GET", "/api/v2/private/remove_api_key", json!([["id", id]]))).await;
    assert_eq!(answer["result"], "ok", "{answer}");
    assert!(!sim.state().has_key(&full.api_key));
    let (_, answer) = send(&url, spec(&full, "GET", LIST, json!([]))).await;
    assert_eq!(error_code(&answer), 13004, "its own read: invalid_credentials");
}

#[tokio::test]
async fn sim_rejects_what_the_documentation_rejects() {
    let sim = Sim::start(Seed::example()).await.unwrap();
    let url = sim.base_url();
    let list = spec(&key("deribit-read"), "GET", LIST, json!([]));
    let cases = [
        ("wrong secret", with(list.clone(), "secret", json!("x".repeat(43))), 13009),
        ("61 s old", with(list.clone(), "offsetMs", json!(-61_000)), 13009),
        ("unknown client id", with(list.clone(), "apiKey", json!("zzzzzzzz")), 13004),
        ("another IP", spec(&key("deribit-other-ip"), "GET", LIST, json!([])), 13021),
    ];
    for (name, spec, expected) in cases {
        let (status, answer) = send(&url, spec).await;
        assert_eq!((status, error_code(&answer)), (400, expected), "{name}: {answer}");
    }
    // The same timestamp and nonce twice: a replay.
    let fixed = with(with(list, "timestampMs", json!(chrono::Utc::now().timestamp_millis())), "nonce", json!("n-1"));
    assert_eq!(send(&url, fixed.clone()).await.0, 200);
    assert_eq!(error_code(&send(&url, fixed).await.1), 13009, "replayed");
}

#[tokio::test]
async fn an_account_with_security_keys_asks_for_the_code() {
    let sim = Sim::start(Seed::example()).await.unwrap();
    let url = sim.base_url();
    let tfa = key("deribit-2fa");
    let (_, answer) = send(&url, spec(&tfa, "GET", LIST, json!([]))).await;
    let challenge = answer["result"]["challenge"].as_str().unwrap().to_owned();
    assert_eq!(answer["result"]["security_key_authorization_required"], true, "{answer}");
    let params = json!([["authorization_data", "000000"], ["challenge", challenge]]);
    let (_, answer) = send(&url, spec(&tfa, "GET", LIST, params)).await;
    assert_eq!(answer["result"][0]["client_id"], tfa.api_key.as_str(), "{answer}");
    let wrong = json!([["authorization_data", "123456"], ["challenge", "challenge-x"]]);
    let (_, answer) = send(&url, spec(&tfa, "GET", LIST, wrong)).await;
    assert_eq!(answer["result"]["security_key_authorization_required"], true, "a wrong code is asked again");
}

#[tokio::test]
async fn a_disabled_key_is_refused_but_never_as_unknown() {
    let sim = Sim::start(Seed::example()).await.unwrap();
    let url = sim.base_url();
    let full = key("deribit-full");
    let (_, listed) = send(&url, spec(&full, "GET", LIST, json!([]))).await;
    let trade = key("deribit-trade");
    let id = listed["result"].as_array().unwrap().iter().find(|r| r["client_id"] == trade.api_key.as_str()).unwrap()
        ["id"]
        .to_string();
    let (_, answer) = send(&url, spec(&full, "GET", "/api/v2/private/disable_api_key", json!([["id", id]]))).await;
    assert_eq!(answer["result"]["enabled"], false, "{answer}");
    let (_, answer) = send(&url, spec(&trade, "GET", LIST, json!([]))).await;
    assert_eq!(error_code(&answer), 13021, "{answer}");
}
