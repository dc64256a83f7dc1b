//! The simulator's Bitget against requests signed by the independent signer
//! (tests/independent_sign.py): the documented signature, timestamp, passphrase and demo header,
//! the error codes, and a main key's virtual sub-account key endpoints (no delete: none exists).

use exchange_sim::{Seed, Sim};
use serde_json::{json, Value};

mod support;
use support::{code, created, key, send, spec, spec_json};

const INFO: &str = "/api/v2/spot/account/info";

fn with(mut spec: Value, field: &str, value: Value) -> Value {
    spec[field] = value;
    spec
}

#[tokio::test]
async fn inspections_show_the_documented_fields() {
    let sim = Sim::start(Seed::example()).await.unwrap();
    let url = sim.base_url();
    let (status, answer) = send(&url, spec(&key("bitget-master-ip-bound"), "GET", INFO, json!([]))).await;
    assert_eq!((status, code(&answer)), (200, "00000".to_owned()), "{answer}");
    assert_eq!(answer["data"]["ips"], "127.0.0.1");
    assert_eq!(answer["data"]["userId"], "6000000001");
    assert_eq!(answer["data"]["parentId"], 6000000001_i64, "a main account's parent is itself");
    let (_, answer) = send(&url, spec(&key("bitget-sub-bot"), "GET", INFO, json!([]))).await;
    assert_eq!(answer["data"]["parentId"], 6000000001_i64);
    // account/info: 1 request/s per UID, and this key shares the first one's.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (_, answer) = send(&url, spec(&key("bitget-master-no-ip"), "GET", INFO, json!([]))).await;
    assert!(answer["data"]["authorities"].as_array().unwrap().contains(&json!("wwow")), "{answer}");
    let (_, answer) = send(&url, spec(&key("bitget-demo"), "GET", INFO, json!([]))).await;
    assert_eq!(code(&answer), "00000", "a demo key with paptrading: 1: {answer}");
}

#[tokio::test]
async fn sim_rejects_what_the_documentation_rejects() {
    let sim = Sim::start(Seed::example()).await.unwrap();
    let url = sim.base_url();
    let get = spec(&key("bitget-master-ip-bound"), "GET", INFO, json!([]));
    let cases = [
        ("wrong secret", with(get.clone(), "secret", json!("0".repeat(64))), "40009"),
        ("wrong passphrase", with(get.clone(), "passphrase", json!("NotIt1234")), "40036"),
        ("31 s old", with(get.clone(), "offsetMs", json!(-31_000)), "40008"),
        ("unknown key", with(get.clone(), "apiKey", json!("bg_ffffffffffffffffffffffffffffffff")), "40006"),
        ("live key on demo", with(get.clone(), "simulated", json!(true)), "40006"),
        ("another IP", spec(&key("bitget-other-ip"), "GET", INFO, json!([])), "40038"),
    ];
    for (name, spec, expected) in cases {
        let (status, answer) = send(&url, spec).await;
        assert_eq!((status, code(&answer).as_str()), (400, expected), "{name}: {answer}");
    }
    assert!(sim.delete_key(&key("bitget-sub-bot").api_key));
    let (_, answer) = send(&url, spec(&key("bitget-sub-bot"), "GET", INFO, json!([]))).await;
    assert_eq!(code(&answer), "40037", "deleted on the website: Apikey does not exist");
}

#[tokio::test]
async fn a_main_key_bound_to_ips_creates_lists_and_modifies_sub_keys() {
    let sim = Sim::start(Seed::example()).await.unwrap();
    let url = sim.base_url();
    let master = key("bitget-master-ip-bound");
    let (_, answer) = send(&url, spec(&master, "GET", "/api/v2/user/virtual-subaccount-list", json!([]))).await;
    assert_eq!(answer["data"]["subAccountList"][0]["subAccountUid"], "6000000101", "{answer}");

    let body = json!({"subAccountUid": "6000000102", "passphrase": "Bot2Pass99", "label": "bot-2",
                      "ipList": ["127.0.0.1"], "permList": ["read", "spot_trade"]});
    let (_, answer) = send(&url, spec_json(&master, "/api/v2/user/create-virtual-subaccount-apikey", body)).await;
    assert_eq!(code(&answer), "00000", "{answer}");
    let (api_key, secret) =
        (answer["data"]["subAccountApiKey"].as_str().unwrap(), answer["data"]["secretKey"].as_str().unwrap());
    assert!(api_key.starts_with("bg_") && secret.len() == 64);
    let new_key = created("bitget", api_key, secret, Some("Bot2Pass99"));
    let (_, own) = send(&url, spec(&new_key, "GET", INFO, json!([]))).await;
    assert_eq!((code(&own), own["data"]["parentId"].clone()), ("00000".to_owned(), json!(6000000001_i64)));

    let list = json!([["subAccountUid", "6000000102"]]);
    let (_, listed) =
        send(&url, spec(&master, "GET", "/api/v2/user/virtual-subaccount-apikey-list", list.clone())).await;
    assert_eq!(listed["data"][0]["ipList"], json!(["127.0.0.1"]), "{listed}");
    assert!(listed["data"][0].get("secretKey").is_none(), "the listing never shows a secret");

    // The modify: ipList left out empties the whitelist; the passphrase must be the key's.
    let modify = |passphrase: &str| {
        json!({"subAccountUid": "6000000102", "subAccountApiKey": api_key, "passphrase": passphrase,
               "label": "bot-2", "permList": ["read"]})
    };
    let path = "/api/v2/user/modify-virtual-subaccount-apikey";
    assert_eq!(code(&send(&url, spec_json(&master, path, modify("Wrong1234"))).await.1), "40036");
    let (_, answer) = send(&url, spec_json(&master, path, modify("Bot2Pass99"))).await;
    assert_eq!((code(&answer), answer["data"]["ipList"].clone()), ("00000".to_owned(), json!([])), "{answer}");
    assert_eq!(answer["data"]["permList"], json!(["read"]));
}

#[tokio::test]
async fn the_main_accounts_prerequisites() {
    let sim = Sim::start(Seed::example()).await.unwrap();
    let url = sim.base_url();
    let body = json!({"subAccountUid": "6000000101", "passphrase": "Bot1Pass99", "label": "x", "permList": ["read"]});
    let path = "/api/v2/user/create-virtual-subaccount-apikey";
    let (_, no_ip) = send(&url, spec_json(&key("bitget-master-no-ip"), path, body.clone())).await;
    assert_eq!(code(&no_ip), "40014", "a main key without IPs: {no_ip}");
    let (_, sub) = send(&url, spec_json(&key("bitget-sub-bot"), path, body.clone())).await;
    assert_eq!(code(&sub), "40014", "a sub-account key: {sub}");
    let bad = with(spec_json(&key("bitget-master-ip-bound"), path, body.clone()), "json", {
        let mut b = body;
        b["passphrase"] = json!("short1");
        b
    });
    assert_eq!(code(&send(&url, bad).await.1), "40034", "passphrase: 8 to 32 letters and digits");
    assert!(sim.state().requests.iter().all(|r| !r.path.contains("delete")), "there is no delete to call");
}
