#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

//! The sub-account key endpoints of all three exchanges (list sub-accounts, create, list, modify,
//! delete sub keys), driven by requests signed independently (tests/independent_sign.py): the
//! documented parameters and refusals, the masters' prerequisites, the rate limits, the secret
//! shown once, and faults that strike after the exchange acted.

use std::time::Duration;

use exchange_sim::{Fault, FaultKind, Seed, Sim, SimKey};
use serde_json::{json, Value};

mod support;
use support::{code, created, key, send, spec, spec_json};

const OKX_CREATE: &str = "/api/v5/users/subaccount/apikey";
const OKX_MODIFY: &str = "/api/v5/users/subaccount/modify-apikey";

fn okx_create(label: &str, ip: &str) -> Value {
    json!([
        ["subAcct", "botsub2"],
        ["label", label],
        ["passphrase", "Bot-Pass-2026"],
        ["perm", "read_only,trade"],
        ["ip", ip]
    ])
}

/// Waits out a 1-request-per-second limit between two writes by the same master.
async fn next_second() {
    tokio::time::sleep(Duration::from_millis(1100)).await;
}

#[tokio::test]
async fn okx_lists_creates_queries_modifies_and_deletes_sub_keys() {
    let sim = Sim::start(Seed::example()).await.unwrap();
    let url = sim.base_url();
    let master = key("okx-master-ip-bound");

    let (_, answer) = send(&url, spec(&master, "GET", "/api/v5/users/subaccount/list", json!([]))).await;
    let names: Vec<&str> = answer["data"].as_array().unwrap().iter().map(|s| s["subAcct"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["bot-sub-1", "botsub2"], "{answer}");

    let (_, answer) = send(&url, spec(&master, "POST", OKX_CREATE, okx_create("grid-bot", "127.0.0.1"))).await;
    assert_eq!(code(&answer), "0", "{answer}");
    let made = &answer["data"][0];
    assert_eq!(
        (made["subAcct"].as_str(), made["perm"].as_str(), made["ip"].as_str()),
        (Some("botsub2"), Some("read_only,trade"), Some("127.0.0.1"))
    );
    let new_key =
        created("okx", made["apiKey"].as_str().unwrap(), made["secretKey"].as_str().unwrap(), Some("Bot-Pass-2026"));
    assert_eq!(new_key.secret.len(), 32);

    // The new key works with its own credentials: a signed read of its own configuration.
    let (status, config) = send(&url, spec(&new_key, "GET", "/api/v5/account/config", json!([]))).await;
    assert_eq!((status, code(&config)), (200, "0".to_owned()), "{config}");
    assert_eq!(config["data"][0]["mainUid"], master.uid.as_str());
    assert_eq!(config["data"][0]["perm"], "read_only,trade");
    assert_eq!(config["data"][0]["label"], "grid-bot");

    // The query lists it, without the secret.
    let (_, listed) = send(&url, spec(&master, "GET", OKX_CREATE, json!([["subAcct", "botsub2"]]))).await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed["data"][0]["apiKey"], new_key.api_key.as_str());
    assert!(listed["data"][0].get("secretKey").is_none() && !listed.to_string().contains(&new_key.secret));
    assert!(!serde_json::to_string(&sim.state()).unwrap().contains(&new_key.secret), "the state never shows it");

    // Modify: what is passed replaces, what is not stays; ip "" unbinds.
    let params = json!([
        ["subAcct", "botsub2"],
        ["apiKey", new_key.api_key],
        ["perm", "read_only"],
        ["ip", "127.0.0.1,10.0.0.7"]
    ]);
    let (_, answer) = send(&url, spec(&master, "POST", OKX_MODIFY, params)).await;
    assert_eq!(code(&answer), "0", "{answer}");
    assert_eq!(
        (answer["data"][0]["perm"].as_str(), answer["data"][0]["ip"].as_str()),
        (Some("read_only"), Some("127.0.0.1,10.0.0.7"))
    );
    assert_eq!(answer["data"][0]["label"], "grid-bot", "the label was not passed, so it stays");
    next_second().await;
    let params = json!([["subAcct", "botsub2"], ["apiKey", new_key.api_key], ["ip", ""]]);
    let (_, answer) = send(&url, spec(&master, "POST", OKX_MODIFY, params)).await;
    assert_eq!(
        (answer["data"][0]["ip"].as_str(), answer["data"][0]["perm"].as_str()),
        (Some(""), Some("read_only")),
        "{answer}"
    );

    let params = json!([["subAcct", "botsub2"], ["apiKey", new_key.api_key]]);
    let (_, answer) = send(&url, spec(&master, "POST", "/api/v5/users/subaccount/delete-apikey", params)).await;
    assert_eq!(code(&answer), "0", "{answer}");
    let (_, config) = send(&url, spec(&new_key, "GET", "/api/v5/account/config", json!([]))).await;
    assert_eq!(code(&config), "50119", "a deleted key doesn't exist: {config}");
}

#[tokio::test]
async fn okx_refuses_what_its_documentation_refuses() {
    let sim = Sim::start(Seed::example()).await.unwrap();
    let url = sim.base_url();
    let master = key("okx-master-ip-bound");
    let unbound = SimKey {
        api_key: "6a3c1f0e-7d1b-4c55-9f3e-2b8d4e6f1a09".into(),
        ips: vec![],
        label: "okx-master-no-ip".into(),
        ..master.clone()
    };
    sim.add_key(unbound.clone());

    let refused = |who: &SimKey, params: Value| spec(who, "POST", OKX_CREATE, params);
    let cases = [
        (refused(&key("okx-sub-bot"), okx_create("a", "127.0.0.1")), "50030", "a sub-account key cannot create"),
        (refused(&key("okx-read-only"), okx_create("a", "127.0.0.1")), "50120", "the master needs Trade"),
        (refused(&unbound, okx_create("a", "127.0.0.1")), "50035", "the master must be IP-bound"),
    ];
    for (request, want, why) in cases {
        let (_, answer) = send(&url, request).await;
        assert_eq!(code(&answer), want, "{why}: {answer}");
    }
    let too_many: Vec<String> = (1..=21).map(|i| format!("10.0.0.{i}")).collect();
    let bad = [
        (
            json!([["subAcct", "botsub2"], ["label", "a"], ["passphrase", "password"], ["perm", "trade"]]),
            "51000",
            "a passphrase without upper case, digit and special",
        ),
        (
            json!([
                ["subAcct", "botsub2"],
                ["label", "a"],
                ["passphrase", "Bot-Pass-2026"],
                ["perm", "trade,withdraw"]
            ]),
            "51000",
            "withdraw is not grantable",
        ),
        (okx_create("a", &too_many.join(",")), "51000", "at most 20 IPs"),
        (
            json!([["subAcct", "nobody"], ["label", "a"], ["passphrase", "Bot-Pass-2026"]]),
            "-13002",
            "an unknown sub-account",
        ),
        (okx_create("a", "127.0.0.1"), "0", "and a good one"),
        (okx_create("b", "127.0.0.1"), "50011", "but not two within a second"),
    ];
    for (params, want, why) in bad {
        next_second().await;
        let mut request = spec(&master, "POST", OKX_CREATE, params);
        if want == "50011" {
            // Right after the last one.
            let (_, answer) = send(&url, request.clone()).await;
            assert_eq!(code(&answer), "0", "{answer}");
            request = spec(&master, "POST", OKX_CREATE, okx_create("c", "127.0.0.1"));
        }
        let (status, answer) = send(&url, request).await;
        assert_eq!(code(&answer), want, "{why}: {answer}");
        if want == "50011" {
            assert_eq!(status, 429);
        }
    }
    assert_eq!(sim.state().sub_keys(&master.uid, "botsub2").len(), 2, "only the good creates made keys");
}

#[tokio::test]
async fn bybit_lists_creates_updates_and_deletes_sub_keys() {
    let sim = Sim::start(Seed::example()).await.unwrap();
    let url = sim.base_url();
    let master = key("bybit-master-wallet");

    let (_, answer) = send(&url, spec(&master, "GET", "/v5/user/query-sub-members", json!([]))).await;
    let uids: Vec<&str> =
        answer["result"]["subMembers"].as_array().unwrap().iter().map(|m| m["uid"].as_str().unwrap()).collect();
    assert_eq!(uids, vec!["1449001", "1449002"], "{answer}");

    let body = json!({"subuid": 1449002, "note": "grid-bot", "readOnly": 0, "ips": "127.0.0.1",
                      "permissions": {"ContractTrade": ["Order", "Position"], "Spot": ["SpotTrade"]}});
    let (_, answer) = send(&url, spec_json(&master, "/v5/user/create-sub-api", body)).await;
    assert_eq!(code(&answer), "0", "{answer}");
    let made = &answer["result"];
    let new_key = created("bybit", made["apiKey"].as_str().unwrap(), made["secret"].as_str().unwrap(), None);
    assert_eq!((made["readOnly"].as_i64(), made["note"].as_str()), (Some(0), Some("grid-bot")));

    let (_, info) = send(&url, spec(&new_key, "GET", "/v5/user/query-api", json!([]))).await;
    assert_eq!(code(&info), "0", "{info}");
    assert_eq!(
        (info["result"]["isMaster"].as_bool(), info["result"]["parentUid"].as_str()),
        (Some(false), Some("1448939"))
    );
    assert_eq!(info["result"]["ips"], json!(["127.0.0.1"]));
    assert_eq!(info["result"]["permissions"]["Wallet"], json!([]), "no transfer was asked");

    let (_, listed) =
        send(&url, spec(&master, "GET", "/v5/user/sub-apikeys", json!([["subMemberId", "1449002"]]))).await;
    let rows = listed["result"]["result"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{listed}");
    assert_eq!(
        (rows[0]["apiKey"].as_str(), rows[0]["secret"].as_str()),
        (Some(new_key.api_key.as_str()), Some("******"))
    );

    // update-sub-api sends the whole setting: readOnly defaults to 0, and no `ips` means no bind.
    let body = json!({"apikey": new_key.api_key, "readOnly": 1, "ips": "127.0.0.1,10.0.0.7"});
    let (_, answer) = send(&url, spec_json(&master, "/v5/user/update-sub-api", body)).await;
    assert_eq!(code(&answer), "0", "{answer}");
    assert_eq!(
        (answer["result"]["readOnly"].as_i64(), &answer["result"]["ips"]),
        (Some(1), &json!(["127.0.0.1", "10.0.0.7"]))
    );
    let body = json!({"apikey": new_key.api_key, "readOnly": 1});
    let (_, answer) = send(&url, spec_json(&master, "/v5/user/update-sub-api", body)).await;
    assert_eq!(answer["result"]["ips"], json!(["*"]), "leaving ips out unbinds the key: {answer}");

    let (_, answer) =
        send(&url, spec(&master, "POST", "/v5/user/delete-sub-api", json!([["apikey", new_key.api_key]]))).await;
    assert_eq!(code(&answer), "0", "{answer}");
    assert!(!sim.state().has_key(&new_key.api_key));
}

#[tokio::test]
async fn bybit_refuses_what_its_documentation_refuses() {
    let sim = Sim::start(Seed::example()).await.unwrap();
    let url = sim.base_url();
    let create = |who: &SimKey, body: Value| spec_json(who, "/v5/user/create-sub-api", body);
    let trade = json!({"Spot": ["SpotTrade"]});
    let cases = [
        (
            create(&key("bybit-master-trade"), json!({"subuid": 1449002, "readOnly": 0, "permissions": trade})),
            "10005",
            "the master needs a transfer or withdrawal permission",
        ),
        (
            create(&key("bybit-sub-transfer"), json!({"subuid": 1449002, "readOnly": 0, "permissions": trade})),
            "10005",
            "a sub key cannot create",
        ),
        (
            create(
                &key("bybit-withdraw"),
                json!({"subuid": 1449002, "readOnly": 0, "permissions": {"Wallet": ["Withdraw"]}}),
            ),
            "10001",
            "withdraw is never granted to a sub key",
        ),
        (
            create(&key("bybit-master-wallet"), json!({"subuid": 1449002, "readOnly": 0})),
            "10001",
            "permissions are required",
        ),
        (
            create(&key("bybit-master-wallet"), json!({"subuid": 999, "readOnly": 0, "permissions": trade})),
            "-13002",
            "an unknown sub UID",
        ),
        (
            create(
                &key("bybit-master-wallet"),
                json!({"subuid": 1449002, "readOnly": 0, "ips": "1.2.3.4,nope", "permissions": trade}),
            ),
            "10001",
            "IPs must be IPs",
        ),
    ];
    for (request, want, why) in cases {
        next_second().await;
        let (_, answer) = send(&url, request).await;
        assert_eq!(code(&answer), want, "{why}: {answer}");
    }
    next_second().await;
    let good = json!({"subuid": 1449002, "readOnly": 1, "permissions": trade});
    let (_, answer) = send(&url, create(&key("bybit-master-wallet"), good.clone())).await;
    assert_eq!(code(&answer), "0", "{answer}");
    let (_, answer) = send(&url, create(&key("bybit-master-wallet"), good)).await;
    assert_eq!(code(&answer), "10006", "create-sub-api allows 1 request per second: {answer}");
}

#[tokio::test]
async fn binance_lists_creates_modifies_and_deletes_sub_keys() {
    let sim = Sim::start(Seed::example()).await.unwrap();
    let url = sim.base_url();
    let master = key("binance-master");
    let email = "bot-sub-2@example.com";

    let (_, answer) = send(&url, spec(&master, "GET", "/sapi/v1/sub-account/list", json!([]))).await;
    assert_eq!(answer["subAccounts"][1]["email"], email, "{answer}");

    let params = json!([
        ["email", email],
        ["apiName", "grid-bot"],
        ["status", "2"],
        ["ipAddress", "127.0.0.1"],
        ["canTrade", "true"]
    ]);
    let (status, made) = send(&url, spec(&master, "POST", "/sapi/v1/sub-account/subAccountApi", params)).await;
    assert_eq!(status, 200, "{made}");
    let new_key = created("binance", made["apiKey"].as_str().unwrap(), made["secretKey"].as_str().unwrap(), None);
    let (status, restrictions) = send(&url, spec(&new_key, "GET", "/sapi/v1/account/apiRestrictions", json!([]))).await;
    assert_eq!(
        (status, &restrictions["ipRestrict"], &restrictions["enableWithdrawals"]),
        (200, &json!(true), &json!(false)),
        "{restrictions}"
    );

    next_second().await;
    let (_, listed) =
        send(&url, spec(&master, "GET", "/sapi/v1/sub-account/subAccountApi", json!([["email", email]]))).await;
    assert_eq!(listed["rows"][0]["apiKey"], new_key.api_key.as_str(), "{listed}");
    assert!(!listed.to_string().contains(&new_key.secret));

    let which = |extra: Value| {
        let mut params = json!([["email", email], ["subAccountApiKey", new_key.api_key]]);
        params.as_array_mut().unwrap().extend(extra.as_array().unwrap().iter().cloned());
        params
    };
    let (_, answer) = send(
        &url,
        spec(
            &master,
            "POST",
            "/sapi/v2/sub-account/subAccountApi/ipRestriction",
            which(json!([["status", "2"], ["ipAddress", "10.0.0.7"]])),
        ),
    )
    .await;
    assert_eq!(answer["ipList"], json!(["127.0.0.1", "10.0.0.7"]), "the simulator adds: {answer}");
    let (_, answer) = send(
        &url,
        spec(
            &master,
            "DELETE",
            "/sapi/v1/sub-account/subAccountApi/ipRestriction/ipList",
            which(json!([["ipAddress", "127.0.0.1"]])),
        ),
    )
    .await;
    assert_eq!(answer["ipList"], json!(["10.0.0.7"]), "{answer}");
    let (_, answer) = send(
        &url,
        spec(&master, "POST", "/sapi/v1/sub-account/subAccountApiPermission", which(json!([["canTrade", "false"]]))),
    )
    .await;
    assert_eq!(answer["canTrade"], false, "{answer}");

    let (_, answer) = send(&url, spec(&master, "DELETE", "/sapi/v1/sub-account/subAccountApi", which(json!([])))).await;
    assert_eq!(answer, json!({}));
    assert!(!sim.state().has_key(&new_key.api_key));
}

#[tokio::test]
async fn binance_refuses_what_its_documentation_refuses() {
    let sim = Sim::start(Seed::example()).await.unwrap();
    let url = sim.base_url();
    let create = |who: &SimKey, params: Value| spec(who, "POST", "/sapi/v1/sub-account/subAccountApi", params);
    let cases = [
        (
            create(
                &key("binance-read-only"),
                json!([["email", "bot-sub-2@example.com"], ["apiName", "a"], ["status", "1"]]),
            ),
            "-2015",
            "a master without trading",
        ),
        (
            create(
                &key("binance-sub-withdraw"),
                json!([["email", "bot-sub-2@example.com"], ["apiName", "a"], ["status", "1"]]),
            ),
            "-2015",
            "a sub-account key",
        ),
        (
            create(&key("binance-master"), json!([["email", "nobody@example.com"], ["apiName", "a"], ["status", "1"]])),
            "-13002",
            "an unknown sub-account",
        ),
        (
            create(
                &key("binance-master"),
                json!([["email", "bot-sub-2@example.com"], ["apiName", "a"], ["status", "2"]]),
            ),
            "-1102",
            "status 2 needs ipAddress",
        ),
        (
            create(
                &key("binance-master"),
                json!([["email", "bot-sub-2@example.com"], ["apiName", "a"], ["status", "1"]]),
            ),
            "none",
            "a good one",
        ),
        (
            create(
                &key("binance-master"),
                json!([["email", "bot-sub-2@example.com"], ["apiName", "b"], ["status", "1"]]),
            ),
            "-1003",
            "weight 3000: one per second",
        ),
    ];
    for (i, (request, want, why)) in cases.into_iter().enumerate() {
        if i < 5 {
            next_second().await;
        }
        let (_, answer) = send(&url, request).await;
        assert_eq!(code(&answer), want, "{why}: {answer}");
    }
}

#[tokio::test]
async fn a_create_can_time_out_after_the_key_was_made_and_a_delete_fail_after_it_happened() {
    let sim = Sim::start(Seed::example()).await.unwrap();
    let url = sim.base_url();
    let master = key("okx-master-ip-bound");
    sim.set_fault(Fault::new(FaultKind::Hang).on(OKX_CREATE).times(1).after_acting());
    let signed = spec(&master, "POST", OKX_CREATE, okx_create("timed-out", "127.0.0.1"));
    let sending = send(&url, signed);
    assert!(tokio::time::timeout(Duration::from_secs(2), sending).await.is_err(), "the answer never came");
    let made = sim.state().sub_keys(&master.uid, "botsub2").into_iter().map(|k| k.label.clone()).collect::<Vec<_>>();
    assert_eq!(made, vec!["timed-out"], "but the key exists");

    let sub = key("okx-sub-bot");
    sim.set_fault(
        Fault::new(FaultKind::ServerError { status: 502 })
            .on("/api/v5/users/subaccount/delete-apikey")
            .times(1)
            .after_acting(),
    );
    let params = json!([["subAcct", "bot-sub-1"], ["apiKey", sub.api_key]]);
    let signed: Value = serde_json::from_str(&support::python(
        &[],
        &spec(&master, "POST", "/api/v5/users/subaccount/delete-apikey", params).to_string(),
    ))
    .unwrap();
    let mut request = reqwest::Client::new().post(format!("{url}{}", signed["path"].as_str().unwrap()));
    for (name, value) in signed["headers"].as_object().unwrap() {
        request = request.header(name.as_str(), value.as_str().unwrap());
    }
    let response = request.body(signed["body"].as_str().unwrap().to_owned()).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 502);
    assert!(!sim.state().has_key(&sub.api_key), "the delete happened all the same");
    let logged = sim.state().requests.last().unwrap().code.clone();
    assert_eq!(logged, "0+fault:serverError");
}

/// Real CCXT drives the endpoints it knows (tests/ccxt_check.py): its signing is a third,
/// independent implementation, so the simulator's checks (and through them Latchkey's client,
/// tested against the simulator in latchkey-core) agree with what CCXT users send. Needs python3
/// with ccxt (4.5.90 was used); without it the test says so and checks nothing, unless
/// `LATCHKEY_REQUIRE_CCXT=1` makes a missing ccxt a failure.
#[tokio::test]
async fn ccxt_drives_the_sub_key_endpoints_it_knows() {
    use std::io::Write as _;
    let has_ccxt =
        std::process::Command::new("python3").args(["-c", "import ccxt"]).output().is_ok_and(|o| o.status.success());
    if !has_ccxt {
        assert!(
            std::env::var_os("LATCHKEY_REQUIRE_CCXT").is_none(),
            "LATCHKEY_REQUIRE_CCXT is set but python3 cannot import ccxt"
        );
        eprintln!(
            "SKIPPED ccxt_drives_the_sub_key_endpoints_it_knows: python3 cannot import ccxt (pip install ccxt==4.5.90)"
        );
        return;
    }
    let sim = Sim::start(Seed::example()).await.unwrap();
    let script = format!("{}/tests/ccxt_check.py", env!("CARGO_MANIFEST_DIR"));
    let mut child = std::process::Command::new("python3")
        .args([script.as_str(), &sim.base_url()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(include_str!("../seed.example.json").as_bytes()).unwrap();
    // The simulator runs on this runtime: wait for the child off it.
    let output = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap()).await.unwrap();
    assert!(output.status.success(), "ccxt_check.py failed: {}", String::from_utf8_lossy(&output.stderr));
    let got: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(got["okx_list"], json!(["bot-sub-1", "botsub2"]), "{got}");
    assert_eq!(got["okx_create"], "0", "{got}");
    assert_eq!(got["okx_created_has_secret"], true);
    assert_eq!(got["okx_query"], json!(["ccxt-bot"]));
    assert_eq!(got["okx_modify"], "127.0.0.1,10.0.0.7");
    assert_eq!(got["okx_delete"], "0");
    assert!(got["okx_read_only_create"].as_str().unwrap().contains("50120"), "CCXT sees OKX's 50120: {got}");
    assert_eq!(got["bybit_list"], json!(["1449001", "1449002"]));
    assert_eq!(got["bybit_create"], 0, "{got}");
    assert_eq!(got["bybit_sub_keys"], json!(["ccxt-bot"]));
    assert_eq!(got["bybit_update"], 1);
    assert_eq!(got["bybit_delete"], 0);
    assert_eq!(got["binance_list"], json!(["bot-sub-1@example.com", "bot-sub-2@example.com"]));
    assert_eq!(got["binance_ip_add"], json!(["10.0.0.7"]), "{got}");
    assert_eq!(got["binance_ip_remove"], json!([]));
    let state = sim.state();
    let refused: Vec<&str> = state
        .requests
        .iter()
        .filter(|r| r.code == "50113" || r.code == "10004" || r.code == "-1022")
        .map(|r| r.path.as_str())
        .collect();
    assert!(refused.is_empty(), "no CCXT signature was refused: {refused:?}");
}
