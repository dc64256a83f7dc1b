#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns, which clippy.toml already covers

//! The simulator's KuCoin module against requests signed by the independent signer
//! (tests/independent_sign.py): signature, timestamp window, passphrase, the error codes, and the
//! master's sub-account key endpoints with their checks.

use exchange_sim::{Seed, Sim};
use serde_json::{json, Value};

mod support;
use support::{code, created, key, send, spec, spec_json};

const INSPECT: &str = "/api/v1/user/api-key";
const SUB_KEYS: &str = "/api/v1/sub/api-key";

fn with(mut spec: Value, field: &str, value: Value) -> Value {
    spec[field] = value;
    spec
}

#[tokio::test]
async fn kucoin_accepts_independently_signed_reads_and_masks_the_ips() {
    let sim = Sim::start(Seed::example()).await.unwrap();
    let url = sim.base_url();
    let (status, answer) = send(&url, spec(&key("kucoin-master"), "GET", INSPECT, json!([]))).await;
    assert_eq!((status, code(&answer)), (200, "200000".to_owned()), "{answer}");
    assert_eq!(answer["data"]["isMaster"], true);
    assert_eq!(answer["data"]["permission"], "General,Spot,Futures,InnerTransfer");
    assert_eq!(answer["data"]["ipWhitelist"], "127.**.1", "masked as the documented example is");
    // Key version 3 signs the passphrase as version 2 does; version 1 sends it as typed.
    let v3 = with(spec(&key("kucoin-sub-bot"), "GET", INSPECT, json!([])), "keyVersion", json!("3"));
    let (_, answer) = send(&url, v3).await;
    assert_eq!(code(&answer), "200000", "{answer}");
    assert_eq!(answer["data"]["subName"], "kcbot01");
    let (_, answer) =
        send(&url, with(spec(&key("kucoin-sub-bot"), "GET", INSPECT, json!([])), "keyVersion", json!("1"))).await;
    assert_eq!(code(&answer), "200000", "{answer}");
    let (_, time) = send(&url, spec(&key("kucoin-master"), "GET", "/api/v1/timestamp", json!([]))).await;
    assert!(time["data"].as_i64().unwrap() > 1_700_000_000_000, "{time}");
}

#[tokio::test]
async fn kucoin_rejects_what_its_documentation_rejects() {
    let sim = Sim::start(Seed::example()).await.unwrap();
    let url = sim.base_url();
    let get = spec(&key("kucoin-read-only"), "GET", INSPECT, json!([]));
    let mut other_ip = key("kucoin-read-only");
    other_ip.api_key = "6705f5c311545b000157d3ff".into();
    other_ip.ips = vec!["203.0.113.7".into()];
    sim.add_key(other_ip.clone());
    let mut frozen = key("kucoin-read-only");
    frozen.api_key = "6705f5c311545b000157d3fe".into();
    frozen.frozen = true;
    sim.add_key(frozen.clone());
    let cases: Vec<(&str, Value, u16, &str)> = vec![
        ("wrong secret", with(get.clone(), "secret", json!("00000000-0000-4000-8000-000000000000")), 401, "400005"),
        ("wrong passphrase", with(get.clone(), "passphrase", json!("not-it-at-all")), 401, "400004"),
        ("6 s old", with(get.clone(), "offsetMs", json!(-6_000)), 401, "400002"),
        ("6 s ahead", with(get.clone(), "offsetMs", json!(6_000)), 401, "400002"),
        ("4 s old", with(get.clone(), "offsetMs", json!(-4_000)), 200, "200000"),
        ("unknown key", with(get.clone(), "apiKey", json!("0123456789abcdef01234567")), 401, "400003"),
        ("bound to another IP", spec(&other_ip, "GET", INSPECT, json!([])), 401, "400006"),
        ("frozen", spec(&frozen, "GET", INSPECT, json!([])), 401, "411100"),
        (
            "a sub key calls a master endpoint",
            spec(&key("kucoin-sub-bot"), "GET", "/api/v2/sub/user", json!([])),
            401,
            "400007",
        ),
        (
            "a read-only master lists no other account's subs",
            spec(&key("kucoin-read-only"), "GET", "/api/v2/sub/user", json!([])),
            200,
            "200000",
        ),
    ];
    for (name, spec, status, expected) in cases {
        let (got_status, answer) = send(&url, spec).await;
        assert_eq!((got_status, code(&answer).as_str()), (status, expected), "{name}: {answer}");
    }
    // A missing header is 400001.
    let response =
        reqwest::Client::new().get(format!("{url}{INSPECT}")).header("KC-API-KEY", "x").send().await.unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(code(&response.json().await.unwrap()), "400001");
}

#[tokio::test]
async fn kucoin_lists_creates_modifies_and_deletes_sub_keys_with_their_passphrase() {
    let sim = Sim::start(Seed::example()).await.unwrap();
    let url = sim.base_url();
    let master = key("kucoin-master");

    let (_, subs) =
        send(&url, spec(&master, "GET", "/api/v2/sub/user", json!([["currentPage", "1"], ["pageSize", "1"]]))).await;
    assert_eq!(code(&subs), "200000", "{subs}");
    assert_eq!((subs["data"]["totalNum"].as_i64(), subs["data"]["totalPage"].as_i64()), (Some(2), Some(2)));
    assert_eq!(subs["data"]["items"][0]["subName"], "kcbot01");

    let body = json!({"subName": "kcbot02", "passphrase": "NewPass2026", "remark": "grid bot",
                      "permission": "General,Spot,Futures", "ipWhitelist": "127.0.0.1", "expire": "-1"});
    let (_, made) = send(&url, spec_json(&master, SUB_KEYS, body)).await;
    assert_eq!(code(&made), "200000", "{made}");
    let data = &made["data"];
    let (api_key, secret) = (data["apiKey"].as_str().unwrap(), data["apiSecret"].as_str().unwrap());
    assert_eq!((api_key.len(), secret.len()), (24, 36));
    assert_eq!(data["passphrase"], "NewPass2026");
    let new = created("kucoin", api_key, secret, Some("NewPass2026"));
    let (_, own) = send(&url, spec(&new, "GET", INSPECT, json!([]))).await;
    assert_eq!(own["data"]["subName"], "kcbot02", "the new key answers its own read: {own}");

    let (_, listed) = send(&url, spec(&master, "GET", SUB_KEYS, json!([["subName", "kcbot02"]]))).await;
    assert_eq!(listed["data"][0]["apiKey"], api_key, "{listed}");
    assert_eq!(listed["data"][0]["ipWhitelist"], "127.0.0.1");
    assert!(listed["data"][0].get("apiSecret").is_none(), "never the secret again");

    // Modify: the key's own passphrase, and the IP list replaces the key's.
    let change = json!({"subName": "kcbot02", "apiKey": api_key, "passphrase": "NewPass2026",
                        "permission": "General", "ipWhitelist": "127.0.0.1,10.0.0.1"});
    let (_, changed) = send(&url, spec_json(&master, "/api/v1/sub/api-key/update", change.clone())).await;
    assert_eq!(code(&changed), "200000", "{changed}");
    assert_eq!(
        (changed["data"]["permission"].as_str(), changed["data"]["ipWhitelist"].as_str()),
        (Some("General"), Some("127.0.0.1,10.0.0.1"))
    );
    let wrong = with(change.clone(), "passphrase", json!("NotThisOne1"));
    let (_, refused) = send(&url, spec_json(&master, "/api/v1/sub/api-key/update", wrong)).await;
    assert_eq!(code(&refused), "-13003", "{refused}");

    // Delete: DELETE with the query, the passphrase required and checked.
    let params = |p: &str| json!([["apiKey", api_key], ["subName", "kcbot02"], ["passphrase", p]]);
    let (_, refused) = send(&url, spec(&master, "DELETE", SUB_KEYS, params("NotThisOne1"))).await;
    assert_eq!(code(&refused), "-13003", "{refused}");
    let (_, deleted) = send(&url, spec(&master, "DELETE", SUB_KEYS, params("NewPass2026"))).await;
    assert_eq!(code(&deleted), "200000", "{deleted}");
    assert_eq!(deleted["data"]["apiKey"], api_key);
    let (_, gone) = send(&url, spec(&new, "GET", INSPECT, json!([]))).await;
    assert_eq!(code(&gone), "400003", "the deleted key's own read is refused as an unknown key");
    let (_, again) = send(&url, spec(&master, "DELETE", SUB_KEYS, params("NewPass2026"))).await;
    assert_eq!(code(&again), "-13001", "never 400003, which is about the calling key: {again}");
    // The request log holds paths, never the query with its passphrase.
    assert!(sim.state().requests.iter().all(|r| !r.path.contains("NewPass2026")));
}

#[tokio::test]
async fn kucoin_refuses_what_its_documentation_refuses() {
    let sim = Sim::start(Seed::example()).await.unwrap();
    let url = sim.base_url();
    let master = key("kucoin-master");
    let base = json!({"subName": "kcbot01", "passphrase": "GoodPass2026", "remark": "bot", "permission": "General"});
    let many: Vec<String> = (1..=21).map(|i| format!("10.0.0.{i}")).collect();
    let cases: Vec<(&str, Value, &str)> = vec![
        ("passphrase too short", with(base.clone(), "passphrase", json!("abc12")), "400100"),
        ("passphrase with a space", with(base.clone(), "passphrase", json!("has space 1")), "400100"),
        ("remark longer than 24", with(base.clone(), "remark", json!("x".repeat(25))), "400100"),
        ("withdrawal is not grantable", with(base.clone(), "permission", json!("General,Withdrawal")), "400100"),
        ("21 IPs", with(base.clone(), "ipWhitelist", json!(many.join(","))), "400100"),
        ("not an IP", with(base.clone(), "ipWhitelist", json!("my-vps")), "400100"),
        ("expire 45 days", with(base.clone(), "expire", json!("45")), "400100"),
        ("no such sub-account", with(base.clone(), "subName", json!("nobody")), "-13002"),
        (
            "InnerTransfer and Margin are grantable",
            with(base.clone(), "permission", json!("General,Margin,InnerTransfer")),
            "200000",
        ),
    ];
    for (name, body, expected) in cases {
        let (_, answer) = send(&url, spec_json(&master, SUB_KEYS, body)).await;
        assert_eq!(code(&answer), expected, "{name}: {answer}");
    }
    let (_, answer) = send(&url, spec(&master, "GET", "/api/v2/sub/user", json!([["pageSize", "101"]]))).await;
    assert_eq!(code(&answer), "400100", "{answer}");
    // A sub key created to expire is refused once it has.
    let (_, made) = send(&url, spec_json(&master, SUB_KEYS, with(base, "expire", json!("30")))).await;
    let listed = sim.state().keys.into_iter().find(|k| k.api_key == made["data"]["apiKey"]).unwrap();
    assert!(listed.expires_at.is_some());
}
