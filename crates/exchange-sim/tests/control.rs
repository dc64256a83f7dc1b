//! The simulator's own surface: the seed file, `/__sim/*` over HTTP, the Rust handle, and the binary.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};

use exchange_sim::{Fault, FaultKind, Seed, Sim};
use serde_json::{json, Value};

#[test]
fn the_example_seed_parses_and_covers_every_exchange() {
    let seed = Seed::from_json(include_str!("../seed.example.json")).unwrap();
    assert_eq!(seed, Seed::example());
    for exchange in ["okx", "bybit", "binance"] {
        let count = seed.keys.iter().filter(|k| serde_json::to_value(k.exchange).unwrap() == exchange).count();
        assert!(count >= 3, "{exchange}: {count} keys");
    }
    assert!(seed.keys.iter().any(|k| !k.is_master()), "sub-account keys included");
}

#[tokio::test]
async fn state_and_faults_over_http() {
    let sim = Sim::start(Seed::example()).await.unwrap();
    let http = reqwest::Client::new();
    let state: Value = http.get(format!("{}/__sim/state", sim.base_url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(state["keys"].as_array().unwrap().len(), Seed::example().keys.len());
    let text = state.to_string();
    for key in Seed::example().keys {
        assert!(!text.contains(&key.secret), "the state never shows secrets");
    }

    let fault = json!({"kind": "serverError", "status": 502, "pathPrefix": "/api/v3/", "times": 1});
    let status = http.post(format!("{}/__sim/fault", sim.base_url())).json(&fault).send().await.unwrap().status();
    assert_eq!(status.as_u16(), 204);
    assert_eq!(sim.state().faults, vec![Fault::new(FaultKind::ServerError { status: 502 }).on("/api/v3/").times(1)]);
    let time = http.get(format!("{}/api/v3/time", sim.base_url())).send().await.unwrap();
    assert_eq!(time.status().as_u16(), 502);
    let time: Value = http.get(format!("{}/api/v3/time", sim.base_url())).send().await.unwrap().json().await.unwrap();
    assert!(time["serverTime"].as_i64().unwrap() > 0, "the fault wore out after one request");

    http.post(format!("{}/__sim/fault", sim.base_url())).json(&json!({"kind": "hang"})).send().await.unwrap();
    assert_eq!(http.delete(format!("{}/__sim/fault", sim.base_url())).send().await.unwrap().status().as_u16(), 204);
    assert!(sim.state().faults.is_empty());

    let records = sim.state().requests;
    assert_eq!(
        records.iter().map(|r| (r.path.as_str(), r.code.as_str())).collect::<Vec<_>>(),
        vec![("/api/v3/time", "fault:serverError"), ("/api/v3/time", "0")]
    );
}

#[tokio::test]
async fn public_time_endpoints_answer_in_the_documented_shapes() {
    let sim = Sim::start(Seed::default()).await.unwrap();
    let get = |path: &str| {
        let url = format!("{}{path}", sim.base_url());
        async move { reqwest::get(url).await.unwrap().json::<Value>().await.unwrap() }
    };
    let okx = get("/api/v5/public/time").await;
    assert_eq!(okx["code"], "0");
    assert!(okx["data"][0]["ts"].as_str().unwrap().parse::<i64>().is_ok());
    let bybit = get("/v5/market/time").await;
    assert_eq!(bybit["retCode"], 0);
    assert!(bybit["result"]["timeNano"].as_str().unwrap().len() >= 19);
    let binance = get("/api/v3/time").await;
    assert!(binance["serverTime"].is_i64());
    assert_eq!(reqwest::get(format!("{}/nowhere", sim.base_url())).await.unwrap().status().as_u16(), 404);
}

#[test]
fn the_binary_prints_its_url_and_serves_the_seed() {
    let seed = format!(
        "{}/seed.example.json",
        std::env::var("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR")
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_exchange-sim"))
        .args(["--port", "0", "--seed", &seed])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let state: Value =
        runtime.block_on(async { reqwest::get(format!("{url}/__sim/state")).await.unwrap().json().await.unwrap() });
    child.kill().unwrap();
    let _ = child.wait();
    assert_eq!(state["keys"].as_array().unwrap().len(), Seed::example().keys.len());
}

#[test]
fn the_binary_refuses_a_bad_seed() {
    let output =
        Command::new(env!("CARGO_BIN_EXE_exchange-sim")).args(["--seed", "/nonexistent/seed.json"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot read the seed file"));
}
