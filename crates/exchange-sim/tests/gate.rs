#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns, which clippy.toml already covers

//! The simulator's Gate module against requests signed by the independent signer
//! (tests/independent_sign.py): signature, the 60 s window, the labels, and the master's
//! sub-account key endpoints (user ID and key in the path, PUT that clears what it is not sent).

use exchange_sim::{Seed, Sim};
use serde_json::{json, Value};

mod support;
use support::{code, created, key, send, spec, spec_json};

const DETAIL: &str = "/api/v4/account/detail";

fn with(mut spec: Value, field: &str, value: Value) -> Value {
    spec[field] = value;
    spec
}

fn label(answer: &Value) -> String {
    answer["label"].as_str().unwrap_or("none").to_owned()
}

/// A PUT, signed as sent.
fn put(key: &exchange_sim::SimKey, path: &str, body: Value) -> Value {
    with(spec_json(key, path, body), "method", json!("PUT"))
}

/// Sends and returns the status and the JSON answer, or `null` for an empty (204) body.
async fn send_any(url: &str, spec: Value) -> (u16, Value) {
    let raw = support::python(&[], &spec.to_string());
    let signed: Value = serde_json::from_str(&raw).unwrap();
    let query = signed["query"].as_str().unwrap();
    let path = signed["path"].as_str().unwrap();
    let full = if query.is_empty() { format!("{url}{path}") } else { format!("{url}{path}?{query}") };
    let method = reqwest::Method::from_bytes(signed["method"].as_str().unwrap().as_bytes()).unwrap();
    let mut request = reqwest::Client::new().request(method, full);
    for (name, value) in signed["headers"].as_object().unwrap() {
        request = request.header(name.as_str(), value.as_str().unwrap());
    }
    let body = signed["body"].as_str().unwrap().to_owned();
    if !body.is_empty() {
        request = request.body(body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() })
}

#[tokio::test]
async fn gate_accepts_independently_signed_reads() {
    let sim = Sim::start(Seed::example()).await.unwrap();
    let url = sim.base_url();
    let (status, answer) = send(&url, spec(&key("gate-master"), "GET", DETAIL, json!([]))).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["user_id"], 10001);
    assert_eq!(answer["ip_whitelist"], json!(["127.0.0.1"]));
    assert!(answer.get("perms").is_none(), "account/detail reports no permissions");
    // The official Python SDK sends seconds with a fraction: accepted too.
    let fractional = with(spec(&key("gate-master"), "GET", DETAIL, json!([])), "fractionalTimestamp", json!(true));
    assert_eq!(send(&url, fractional).await.0, 200);
    let (_, time) = send(&url, spec(&key("gate-master"), "GET", "/api/v4/spot/time", json!([]))).await;
    assert!(time["server_time"].as_i64().unwrap() > 1_700_000_000_000, "{time}");
}

#[tokio::test]
async fn gate_rejects_what_its_documentation_rejects() {
    let sim = Sim::start(Seed::example()).await.unwrap();
    let url = sim.base_url();
    let get = spec(&key("gate-read-only"), "GET", DETAIL, json!([]));
    let mut other_ip = key("gate-read-only");
    other_ip.api_key = "ffffffffffffffffffffffffffffff01".into();
    other_ip.ips = vec!["203.0.113.7".into()];
    sim.add_key(other_ip.clone());
    let cases: Vec<(&str, Value, u16, &str)> = vec![
        ("wrong secret", with(get.clone(), "secret", json!("0".repeat(64))), 401, "INVALID_SIGNATURE"),
        ("62 s old", with(get.clone(), "offsetMs", json!(-62_000)), 401, "REQUEST_EXPIRED"),
        ("62 s ahead", with(get.clone(), "offsetMs", json!(62_000)), 401, "REQUEST_EXPIRED"),
        ("unknown key", with(get.clone(), "apiKey", json!("e".repeat(32))), 401, "INVALID_KEY"),
        ("bound to another IP", spec(&other_ip, "GET", DETAIL, json!([])), 403, "IP_FORBIDDEN"),
        (
            "a sub key lists sub-accounts",
            spec(&key("gate-sub-bot"), "GET", "/api/v4/sub_accounts", json!([])),
            403,
            "FORBIDDEN",
        ),
        (
            "a read-only main key creates a sub key",
            spec_json(
                &key("gate-read-only"),
                "/api/v4/sub_accounts/10002/keys",
                json!({"perms": [{"name": "spot", "read_only": true}]}),
            ),
            403,
            "READ_ONLY",
        ),
    ];
    for (name, spec, status, expected) in cases {
        let (got_status, answer) = send(&url, spec).await;
        assert_eq!((got_status, label(&answer).as_str()), (status, expected), "{name}: {answer}");
    }
    let response = reqwest::Client::new().get(format!("{url}{DETAIL}")).header("KEY", "x").send().await.unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(label(&response.json().await.unwrap()), "MISSING_REQUIRED_HEADER");
    assert_eq!(code(&json!({"code": "x"})), "x", "the shared helper still reads codes");
}

#[tokio::test]
async fn gate_lists_creates_updates_and_deletes_sub_keys_by_path() {
    let sim = Sim::start(Seed::example()).await.unwrap();
    let url = sim.base_url();
    let master = key("gate-master");

    let (_, subs) = send(&url, spec(&master, "GET", "/api/v4/sub_accounts", json!([["type", "0"]]))).await;
    assert_eq!(subs[0]["login_name"], "gatebot01", "{subs}");
    assert_eq!(subs[1]["user_id"], 10003);

    let body = json!({"mode": 1, "name": "grid-bot", "perms": [{"name": "spot", "read_only": false}], "ip_whitelist": ["127.0.0.1"]});
    let (status, made) = send(&url, spec_json(&master, "/api/v4/sub_accounts/10003/keys", body)).await;
    assert_eq!(status, 200, "{made}");
    let (api_key, secret) = (made["key"].as_str().unwrap(), made["secret"].as_str().unwrap());
    assert_eq!((api_key.len(), secret.len()), (32, 64));
    let new = created("gate", api_key, secret, None);
    let (status, own) = send(&url, spec(&new, "GET", DETAIL, json!([]))).await;
    assert_eq!((status, own["user_id"].as_i64()), (200, Some(10003)), "{own}");

    let key_path = format!("/api/v4/sub_accounts/10003/keys/{api_key}");
    let (_, listed) = send(&url, spec(&master, "GET", "/api/v4/sub_accounts/10003/keys", json!([]))).await;
    assert_eq!(listed[0]["key"], api_key);
    assert!(listed[0].get("secret").is_none(), "never the secret again");

    // A PUT without ip_whitelist clears it, as documented: always send it.
    let (status, _) =
        send_any(&url, put(&master, &key_path, json!({"perms": [{"name": "spot", "read_only": true}]}))).await;
    assert_eq!(status, 204);
    let (_, one) = send(&url, spec(&master, "GET", &key_path, json!([]))).await;
    assert_eq!((one["ip_whitelist"].clone(), one["perms"][0]["read_only"].clone()), (json!([]), json!(true)), "{one}");
    assert_eq!(one["name"], "grid-bot", "the name is kept");
    let (status, _) = send_any(
        &url,
        put(
            &master,
            &key_path,
            json!({"perms": [{"name": "spot", "read_only": false}], "ip_whitelist": ["127.0.0.1", "10.0.0.9"]}),
        ),
    )
    .await;
    assert_eq!(status, 204);
    let (_, one) = send(&url, spec(&master, "GET", &key_path, json!([]))).await;
    assert_eq!(one["ip_whitelist"], json!(["127.0.0.1", "10.0.0.9"]));

    // Wrong sub-account in the path: not that sub-account's key (never INVALID_KEY).
    let wrong = format!("/api/v4/sub_accounts/10002/keys/{api_key}");
    let (status, answer) = send_any(&url, spec(&master, "DELETE", &wrong, json!([]))).await;
    assert_eq!((status, label(&answer).as_str()), (404, "SIM_SUB_KEY_NOT_FOUND"));
    let (status, answer) = send_any(&url, spec(&master, "DELETE", &key_path, json!([]))).await;
    assert_eq!((status, answer), (204, Value::Null));
    let (status, gone) = send(&url, spec(&new, "GET", DETAIL, json!([]))).await;
    assert_eq!((status, label(&gone).as_str()), (401, "INVALID_KEY"), "the deleted key's own read is refused");
}

#[tokio::test]
async fn gate_refuses_what_its_documentation_refuses_and_locks_a_sub_account() {
    let sim = Sim::start(Seed::example()).await.unwrap();
    let url = sim.base_url();
    let master = key("gate-master");
    let keys = "/api/v4/sub_accounts/10003/keys";
    let many: Vec<String> = (1..=21).map(|i| format!("10.0.0.{i}")).collect();
    let spot = json!([{"name": "spot", "read_only": true}]);
    let cases: Vec<(&str, Value, &str)> = vec![
        ("an unknown group", json!({"perms": [{"name": "withdraw", "read_only": false}]}), "INVALID_PARAM_VALUE"),
        ("no perms", json!({"perms": []}), "INVALID_PARAM_VALUE"),
        ("21 IPs", json!({"perms": spot, "ip_whitelist": many}), "INVALID_PARAM_VALUE"),
        ("not an IP", json!({"perms": spot, "ip_whitelist": ["my-vps"]}), "INVALID_PARAM_VALUE"),
        ("mode 3", json!({"mode": 3, "perms": spot}), "INVALID_PARAM_VALUE"),
    ];
    for (name, body, expected) in cases {
        let (status, answer) = send(&url, spec_json(&master, keys, body)).await;
        assert_eq!((status, label(&answer).as_str()), (400, expected), "{name}: {answer}");
    }
    let (_, answer) = send(&url, spec_json(&master, "/api/v4/sub_accounts/99999/keys", json!({"perms": spot}))).await;
    assert_eq!(label(&answer), "SUB_ACCOUNT_NOT_FOUND");
    for _ in 0..20 {
        assert_eq!(send(&url, spec_json(&master, keys, json!({"perms": spot}))).await.0, 200);
    }
    let (_, answer) = send(&url, spec_json(&master, keys, json!({"perms": spot}))).await;
    assert_eq!(label(&answer), "SIM_TOO_MANY_KEYS", "20 keys per account");

    // Locking the whole sub-account: its keys are refused until it is unlocked.
    let sub = key("gate-sub-bot");
    let (status, _) = send_any(&url, spec(&master, "POST", "/api/v4/sub_accounts/10002/lock", json!([]))).await;
    assert_eq!(status, 204);
    let (status, answer) = send(&url, spec(&sub, "GET", DETAIL, json!([]))).await;
    assert_eq!((status, label(&answer).as_str()), (403, "ACCOUNT_LOCKED"));
    send_any(&url, spec(&master, "POST", "/api/v4/sub_accounts/10002/unlock", json!([]))).await;
    assert_eq!(send(&url, spec(&sub, "GET", DETAIL, json!([]))).await.0, 200);
}
