//! `latchkey agent`: placeholders issued once (the real secret never printed), the agent run as
//! a process in front of exchange-sim, a key checked through it with the placeholders, the bot
//! revoked on its own, and the counts in the audit log when the agent stops.

use std::process::Stdio;
use std::time::{Duration, Instant};

use super::{audit_count, json, ok, seed_key, stderr, Env};

mod from_openbao;

/// The agent process, ended however the test ends (a leftover would hold the test's output open).
struct AgentProcess(std::process::Child);

impl Drop for AgentProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
#[ignore = "needs a Secret Service: run scripts/test-all.sh"]
fn a_key_is_checked_through_the_agent_with_placeholders_until_the_bot_is_revoked() {
    let mut env = Env::new();
    let okx = seed_key("okx-sub-bot");
    ok(&env.add_via_stdin(&okx, "okx-grid", &[]));
    let listen = format!("127.0.0.1:{}", free_port());

    let issued =
        json(&env.latchkey(&["agent", "issue", "okx-grid", "--bot", "grid", "--listen", &listen, "--json"], ""));
    assert_eq!(issued["baseUrl"], format!("http://{listen}/okx"));
    let (key, secret, pass) = (
        issued["apiKey"].as_str().unwrap().to_owned(),
        issued["secret"].as_str().unwrap().to_owned(),
        issued["passphrase"].as_str().unwrap().to_owned(),
    );
    assert!(key.len() == 36 && key != okx.api_key && secret != okx.secret, "shaped like an OKX key: {key}");
    let bots = json(&env.latchkey(&["agent", "bots", "--json"], ""));
    assert_eq!(bots[0]["name"], "grid");
    assert!(!bots.to_string().contains(&secret), "the bot list holds no placeholder secret");
    let again = env.latchkey(&["agent", "issue", "okx-grid", "--bot", "grid"], "");
    assert_eq!(again.status.code(), Some(3), "{}", stderr(&again));

    let mut agent = AgentProcess(env.cmd(&["agent", "--listen", &listen]).stderr(Stdio::null()).spawn().unwrap());
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(&listen).is_err() {
        assert!(Instant::now() < deadline, "the agent did not listen within 20 s");
        std::thread::sleep(Duration::from_millis(50));
    }

    // The placeholders, added as a key whose base URL is the agent: checked at the exchange
    // through the agent, which signed with the real key.
    let lines = format!("API_KEY={key}\nAPI_SECRET={secret}\nAPI_PASSPHRASE={pass}\n");
    let base = issued["baseUrl"].as_str().unwrap();
    let out = env.latchkey(
        &["add", "--exchange", "okx", "--label", "via-agent", "--env", "custom", "--base-url", base, "--json"],
        &lines,
    );
    let added = json(&out);
    assert_eq!(added["inspection"]["label"], "okx-sub-bot", "the exchange saw the real key: {added}");

    ok(&env.latchkey(&["agent", "revoke-bot", "grid"], ""));
    let out = env.latchkey(&["check", "via-agent"], "");
    assert!(!out.status.success(), "a revoked bot's placeholders are refused");
    assert!(stderr(&out).contains("50111"), "{}", stderr(&out));

    let _ = std::process::Command::new("kill").args(["-TERM", &agent.0.id().to_string()]).status();
    assert!(agent.0.wait().unwrap().success(), "SIGTERM stops the agent cleanly");
    assert_eq!(audit_count(&env, "agent_issue", "ok"), 1);
    assert_eq!(audit_count(&env, "agent_revoke_bot", "ok"), 1);
    assert!(audit_count(&env, "agent_requests", "ok") >= 1, "the counts were written when the agent stopped");
    assert!(audit_count(&env, "agent_refusal", "failed") >= 1, "and the refusal with its reason");
    // The agent's own entries moved the log's anchor: the log reads as intact, not rewritten.
    let verify = env.latchkey(&["audit", "--verify"], "");
    assert!(
        verify.status.success() && String::from_utf8_lossy(&verify.stdout).contains("intact"),
        "{}",
        stderr(&verify)
    );
}
