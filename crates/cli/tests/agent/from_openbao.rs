//! `latchkey agent --from openbao` on a "server": the real binary with no database and no keychain,
//! signed in to a real `bao server -dev` as a host the desktop enrolled. The desktop (the same
//! binary with its keychain) delivers the key, issues a bot for the host, narrows its policy,
//! revokes a bot, seals and unseals OpenBao, and finally revokes the key; the bot is the desktop's own `latchkey check` on a
//! key whose base URL is the server's agent, so every answer is the simulator's, through the agent.

use std::process::Stdio;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;

use super::{free_port, AgentProcess};
use crate::openbao_support::DevServer;
use crate::{enroll, json, ok, seed_key, stderr, Env};

/// `check LABEL --json`, asked again while the simulator says the rate limit was hit (OKX allows a
/// few key reads per second, and this test reads often).
fn check(env: &Env, label: &str) -> std::process::Output {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let out = env.latchkey(&["check", label, "--json"], "");
        if !stderr(&out).contains("limiting the request rate") || Instant::now() > deadline {
            return out;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Asks until `check LABEL` gives the expected outcome (the agent follows OpenBao every 0.5 s).
fn check_until(env: &Env, label: &str, want_ok: bool, what: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let out = check(env, label);
        if out.status.success() == want_ok {
            return if want_ok { ok(&out) } else { stderr(&out) };
        }
        assert!(Instant::now() < deadline, "{what}: still {}", stderr(&out));
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// The bot's view of the agent: placeholders added as a key whose base URL is the agent.
fn add_bot_key(env: &mut Env, issued: &serde_json::Value, label: &str) {
    let (key, secret, pass) = (
        issued["apiKey"].as_str().unwrap(),
        issued["secret"].as_str().unwrap(),
        issued["passphrase"].as_str().unwrap(),
    );
    env.secrets.extend([secret.to_owned(), pass.to_owned()]);
    let lines = format!("API_KEY={key}\nAPI_SECRET={secret}\nAPI_PASSPHRASE={pass}\n");
    let base = issued["baseUrl"].as_str().unwrap();
    let args = ["add", "--exchange", "okx", "--label", label, "--env", "custom", "--base-url", base, "--json"];
    let added = json(&env.latchkey(&args, &lines));
    assert_eq!(added["inspection"]["label"], "okx-sub-bot", "the exchange saw the real key: {added}");
}

#[test]
#[ignore = "needs a Secret Service: run scripts/test-all.sh"]
fn a_server_agent_signs_for_its_bots_with_the_keys_openbao_gives_its_host() {
    let mut env = Env::new();
    let Some(bao) = env._rt.block_on(DevServer::start("a_server_agent_signs_for_its_bots")) else { return };
    let okx = seed_key("okx-sub-bot");
    ok(&env.add_via_stdin(&okx, "okx-grid", &[]));
    let (_, recovery) = enroll(&env);
    let mut codes = recovery.into_iter();
    let mut code = move || codes.next().expect("a recovery code left");

    // The desktop: OpenBao set up, the key delivered, a host that may read it.
    let token = env._rt.block_on(bao.token_with_policy("desk", &crate::servers::full_policy("latchkey/desk")));
    env.secrets.push(token.clone());
    ok(&env.latchkey(&["servers", "set", "--addr", &bao.addr, "--prefix", "latchkey/desk"], &format!("{token}\n")));
    ok(&env.latchkey(&["deliver", "okx-grid", "--code", &code()], ""));
    let (status, _) = env._rt.block_on(bao.admin(Method::POST, "sys/auth/approle", Some(json!({ "type": "approle" }))));
    assert_eq!(status, 204);
    let host = json(&env.latchkey(&["host", "add", "vps1", "--keys", "okx-grid", "--json", "--code", &code()], ""));
    let listen = format!("127.0.0.1:{}", free_port());

    // A host that may not read the key gets no bot, and the message says how to give it the key.
    let out = env.latchkey(&["agent", "issue", "okx-grid", "--bot", "x", "--host", "vps2", "--listen", &listen], "");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("Host 'vps2' may not read 'okx-grid'"), "{}", stderr(&out));
    let issue = |env: &Env, bot: &str| {
        json(&env.latchkey(
            &["agent", "issue", "okx-grid", "--bot", bot, "--host", "vps1", "--listen", &listen, "--json"],
            "",
        ))
    };
    let grid = issue(&env, "grid");
    let spare = issue(&env, "spare");
    assert_eq!(grid["host"], "vps1");
    assert_eq!(grid["baseUrl"], format!("http://{listen}/okx"));
    // OpenBao holds the placeholder's hash and secret for the host's agent, never the placeholder key.
    let (status, doc) = env._rt.block_on(bao.admin(Method::GET, "secret/data/latchkey/desk/.agent/vps1", None));
    assert_eq!(status, 200);
    assert_eq!(doc["data"]["data"]["bots"].as_array().unwrap().len(), 2);
    assert!(!doc.to_string().contains(grid["apiKey"].as_str().unwrap()), "no placeholder key in OpenBao");
    let listed = json(&env.latchkey(&["agent", "bots", "--json"], ""));
    assert!(listed.as_array().unwrap().iter().all(|b| b["host"] == "vps1"), "{listed}");

    // The server: the same binary, no data folder, no keychain.
    let server = tempfile::tempdir().unwrap();
    let (role_file, secret_file) = (server.path().join("role-id"), server.path().join("secret-id"));
    std::fs::write(&role_file, host["roleId"].as_str().unwrap()).unwrap();
    std::fs::write(&secret_file, host["wrappedSecretId"].as_str().unwrap()).unwrap();
    let err = std::fs::File::create(server.path().join("agent.err")).unwrap();
    let mut agent = AgentProcess(
        std::process::Command::new(env!("CARGO_BIN_EXE_latchkey"))
            .args(["agent", "--from", "openbao", "--addr", &bao.addr, "--path-prefix", "latchkey/desk"])
            .args(["--role-id-file", &role_file.display().to_string()])
            .args(["--secret-id-file", &secret_file.display().to_string(), "--poll", "0.5", "--listen", &listen])
            .env("LATCHKEY_DATA_DIR", server.path().join("no-latchkey-data"))
            .env("LATCHKEY_KEYCHAIN_SERVICE", "latchkey-must-not-be-used")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .unwrap(),
    );
    let log = || std::fs::read_to_string(server.path().join("agent.err")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    // The port is bound before the sign-in (a port in use fails before the enrolment token is
    // spent): ready is the start-up line, printed once it follows OpenBao.
    while !log().contains("listening on") {
        assert!(Instant::now() < deadline, "the server's agent did not start within 20 s: {}", log());
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(log().contains("for host 'vps1'") && log().contains("bots: grid, spare"), "{}", log());
    assert!(!secret_file.exists(), "the single-use enrolment file is removed once used");

    // The bots trade through it: the exchange sees the real key the host read from OpenBao.
    add_bot_key(&mut env, &grid, "via-grid");
    add_bot_key(&mut env, &spare, "via-spare");
    let (status, record) =
        env._rt.block_on(bao.admin(Method::GET, "secret/data/latchkey/desk/.reads/vps1/okx-grid", None));
    assert_eq!((status, record["data"]["data"]["version"].clone()), (200, json!(1)), "the host says what it serves");

    // A policy set on the desktop reaches the server's agent.
    let out = ok(&env.latchkey(&["agent", "policy", "okx-grid", "--endpoint", "GET /api/v5/account/balance"], ""));
    assert!(out.contains("Told the agents on vps1"), "{out}");
    let refused = check_until(&env, "via-grid", false, "the narrowed policy");
    assert!(refused.contains("50030"), "the agent refuses as OKX would (its own words are in the msg): {refused}");
    ok(&env.latchkey(&["agent", "policy", "okx-grid"], ""));
    check_until(&env, "via-grid", true, "the policy lifted");

    // A rotation on the desktop's side: version 2 at the key's path, another key; the agent signs
    // with it from its next look, the bots notice nothing.
    let next = seed_key("okx-read-only");
    env.remember(&next);
    let place = json!({ "environment": { "kind": "custom", "baseUrl": env.sim.base_url() }, "demo": false });
    let data = json!({ "options": { "cas": 1 }, "data": {
        "exchange": "okx", "label": "okx-grid", "api_key": next.api_key, "api_secret": next.secret,
        "passphrase": next.passphrase, "place": place } });
    let (status, _) = env._rt.block_on(bao.admin(Method::POST, "secret/data/latchkey/desk/okx-grid", Some(data)));
    assert_eq!(status, 200);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let seen = json(&check(&env, "via-grid"));
        if seen["inspection"]["label"] == "okx-read-only" {
            break;
        }
        assert!(Instant::now() < deadline, "the agent still signs with the old key: {seen}");
        std::thread::sleep(Duration::from_millis(200));
    }

    // One bot revoked on the desktop: refused on the server, the other goes on.
    let out = ok(&env.latchkey(&["agent", "revoke-bot", "grid"], ""));
    assert!(out.contains("on host 'vps1'"), "{out}");
    let refused = check_until(&env, "via-grid", false, "the revoked bot");
    assert!(refused.contains("50111"), "OKX's own invalid-key code: {refused}");
    ok(&check(&env, "via-spare"));

    // OpenBao sealed (a restart, a failover): the agent keeps signing with what it read, says so
    // once, and follows again once it is unsealed.
    env._rt.block_on(bao.seal());
    let deadline = Instant::now() + Duration::from_secs(15);
    while !log().contains("is sealed") {
        assert!(Instant::now() < deadline, "the sealed server was not noticed: {}", log());
        std::thread::sleep(Duration::from_millis(100));
    }
    ok(&check(&env, "via-spare"));
    env._rt.block_on(bao.unseal());
    let deadline = Instant::now() + Duration::from_secs(40);
    while !log().contains("OpenBao answers again") {
        assert!(Instant::now() < deadline, "the agent did not follow OpenBao again: {}", log());
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(log().matches("is sealed").count(), 1, "said once: {}", log());

    // Emergency revoke of the key: its delivery is destroyed and the host removed, so the
    // server's agent refuses the remaining bot too.
    let out = env.latchkey(&["revoke", "okx-grid", "--code", &code()], "");
    assert!(String::from_utf8_lossy(&out.stdout).contains("OpenBao") || stderr(&out).contains("OpenBao"), "{out:?}");
    let refused = check_until(&env, "via-spare", false, "the bot of a revoked key");
    assert!(refused.contains("50111") || refused.contains("50100"), "{refused}");

    let _ = std::process::Command::new("kill").args(["-TERM", &agent.0.id().to_string()]).status();
    assert!(agent.0.wait().unwrap().success(), "SIGTERM stops the server's agent cleanly: {}", log());
    let log = log();
    assert!(log.contains("agent_requests: bot 'spare'"), "the counts go to the server's log: {log}");
    assert!(log.contains("agent_refusal: bot 'grid'"), "and the refusals with their reasons: {log}");
    assert!(!server.path().join("no-latchkey-data").exists(), "the server's agent created a Latchkey data folder");
    for secret in &env.secrets {
        assert!(!log.contains(secret.as_str()), "a secret is in the server's log");
    }
}
