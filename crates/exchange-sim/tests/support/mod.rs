//! The independent signer (tests/independent_sign.py, Python stdlib only) and a sender, shared by
//! the tests that talk to the simulator as an outside client would.
#![allow(clippy::unwrap_used, dead_code)] // test helpers; not every test file uses each one

use std::io::Write as _;
use std::process::{Command, Stdio};

use exchange_sim::{Seed, SimKey};
use serde_json::{json, Value};

/// Looked up at run time: cargo reuses test binaries when the checkout moves.
pub fn script() -> String {
    format!(
        "{}/tests/independent_sign.py",
        std::env::var("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR")
    )
}

pub fn python(args: &[&str], stdin: &str) -> String {
    let mut child = Command::new("python3")
        .arg(script())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 must be installed to run the independent signature check");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "python failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

pub fn key(label: &str) -> SimKey {
    Seed::example().keys.into_iter().find(|k| k.label == label).unwrap_or_else(|| panic!("no seed key {label}"))
}

pub fn spec(key: &SimKey, method: &str, path: &str, params: Value) -> Value {
    json!({
        "exchange": key.exchange, "apiKey": key.api_key, "secret": key.secret, "passphrase": key.passphrase,
        "method": method, "path": path, "params": params, "simulated": key.demo,
    })
}

/// Signs with Python and sends with reqwest; returns the HTTP status and the JSON answer.
pub async fn send(base_url: &str, spec: Value) -> (u16, Value) {
    send_signed(base_url, &sign(&spec)).await
}

/// The request as Python signed it, to send later (within the exchange's time window).
pub fn sign(spec: &Value) -> Value {
    serde_json::from_str(&python(&[], &spec.to_string())).unwrap()
}

pub async fn send_signed(base_url: &str, signed: &Value) -> (u16, Value) {
    let query = signed["query"].as_str().unwrap();
    let url = if query.is_empty() {
        format!("{base_url}{}", signed["path"].as_str().unwrap())
    } else {
        format!("{base_url}{}?{query}", signed["path"].as_str().unwrap())
    };
    let method = reqwest::Method::from_bytes(signed["method"].as_str().unwrap().as_bytes()).unwrap();
    let mut request = reqwest::Client::new().request(method, url);
    for (name, value) in signed["headers"].as_object().unwrap() {
        request = request.header(name.as_str(), value.as_str().unwrap());
    }
    let body = signed["body"].as_str().unwrap().to_owned();
    if !body.is_empty() {
        request = request.body(body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

pub fn code(answer: &Value) -> String {
    let code = if answer.get("retCode").is_some() { &answer["retCode"] } else { &answer["code"] };
    match code {
        Value::String(s) => s.clone(),
        Value::Null => "none".to_owned(),
        other => other.to_string(),
    }
}

/// A key the simulator just created, as a client holds it (for signing with its own credentials).
pub fn created(exchange: &str, api_key: &str, secret: &str, passphrase: Option<&str>) -> SimKey {
    serde_json::from_value(json!({
        "exchange": exchange, "apiKey": api_key, "secret": secret, "passphrase": passphrase,
        "permissions": [], "uid": "",
    }))
    .unwrap()
}

/// A POST with a JSON body of numbers and objects (Bybit's create-sub-api), signed as sent.
pub fn spec_json(key: &SimKey, path: &str, body: Value) -> Value {
    let mut spec = spec(key, "POST", path, json!([]));
    spec["json"] = body;
    spec
}
