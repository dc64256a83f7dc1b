//! `latchkey fix` end to end: the binary against exchange-sim and the real keychain (a Secret
//! Service; ignored outside `scripts/desktop-session.sh`). A sub key whose master Latchkey holds
//! shows a finding and the fix for it; `latchkey fix` changes it through the master with one 2FA
//! code, the finding is gone, the simulator holds the new setting, and no secret is ever printed.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Output, Stdio};

use exchange_sim::{Seed, Sim, SimHandle, SimKey};
use serde_json::Value;

struct Env {
    dir: tempfile::TempDir,
    service: String,
    sim: SimHandle,
    _rt: tokio::runtime::Runtime,
    /// Every secret in play: none may appear in any output but a child's.
    secrets: Vec<String>,
}

fn seed_key(label: &str) -> SimKey {
    Seed::example().keys.into_iter().find(|k| k.label == label).unwrap()
}

impl Env {
    fn new() -> Env {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let sim = rt.block_on(Sim::start(Seed::example())).unwrap();
        Env {
            dir: tempfile::tempdir().unwrap(),
            service: format!("latchkey-fix-test-{}", uuid::Uuid::new_v4().simple()),
            sim,
            _rt: rt,
            secrets: Vec::new(),
        }
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_latchkey"));
        c.args(args)
            .env("LATCHKEY_DATA_DIR", self.dir.path())
            .env("LATCHKEY_KEYCHAIN_SERVICE", &self.service)
            .env_remove("LATCHKEY_API_KEY")
            .env_remove("LATCHKEY_API_SECRET")
            .env_remove("LATCHKEY_API_PASSPHRASE")
            .stdin(Stdio::null());
        c
    }

    fn latchkey(&self, args: &[&str], stdin: &str) -> Output {
        let mut child =
            self.cmd(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        self.assert_no_secret(&out, args);
        out
    }

    fn assert_no_secret(&self, out: &Output, args: &[&str]) {
        for s in &self.secrets {
            for (name, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
                assert!(
                    !bytes.windows(s.len()).any(|w| w == s.as_bytes()),
                    "a secret appeared on the {name} of `latchkey {}`",
                    args.join(" ")
                );
            }
        }
    }

    fn add_master(&mut self, seed: &str, label: &str) {
        self.add_key(seed, label, &[]);
    }

    fn add_key(&mut self, seed: &str, label: &str, extra: &[&str]) {
        let key = seed_key(seed);
        let mut lines = format!("API_KEY={}\nAPI_SECRET={}\n", key.api_key, key.secret);
        if let Some(p) = &key.passphrase {
            lines += &format!("API_PASSPHRASE={p}\n");
        }
        self.secrets.extend([key.api_key.clone(), key.secret.clone()]);
        self.secrets.extend(key.passphrase.clone());
        let exchange = key.exchange.id();
        let url = self.sim.base_url();
        let args = ["add", "--exchange", &exchange, "--label", label, "--env", "custom", "--base-url", &url];
        ok(&self.latchkey(&[&args[..], extra].concat(), &lines));
    }

    /// The key as the simulator holds it now.
    fn sim_key(&self, api_key: &str) -> SimKey {
        self.sim.state().keys.into_iter().find(|k| k.api_key == api_key).unwrap()
    }
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn json(out: &Output) -> Value {
    serde_json::from_str(&ok(out)).unwrap()
}

fn refused(out: &Output, exit: i32) -> String {
    assert_eq!(
        out.status.code(),
        Some(exit),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn oathtool(secret: &str, offset_secs: i64) -> String {
    let now = format!("now + {offset_secs} seconds");
    let out = Command::new("oathtool").args(["--totp", "-b", secret, "-N", &now]).output().unwrap();
    assert!(out.status.success(), "oathtool: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// `latchkey 2fa enroll`, answered with the authenticator's code; returns the base32 secret and
/// the recovery codes.
fn enroll(env: &Env) -> (String, Vec<String>) {
    let mut child = env
        .cmd(&["2fa", "enroll"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut stdin = child.stdin.take().unwrap();
    let mut secret = String::new();
    let mut line = String::new();
    while secret.is_empty() {
        line.clear();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "enroll ended before showing the secret");
        if let Some(s) = line.trim().strip_prefix("Secret for manual entry: ") {
            secret = s.to_owned();
        }
    }
    writeln!(stdin, "{}", oathtool(&secret, 0)).unwrap();
    drop(stdin);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    assert!(child.wait().unwrap().success(), "enroll failed: {rest}");
    (secret, recovery_codes(&rest))
}

/// The recovery codes `2fa enroll` printed after "Recovery codes".
fn recovery_codes(text: &str) -> Vec<String> {
    text.lines()
        .skip_while(|l| !l.starts_with("Recovery codes"))
        .skip(1)
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
#[ignore = "needs a Secret Service: run scripts/test-all.sh"]
fn a_finding_is_fixed_through_the_master_and_is_gone_afterwards() {
    let mut env = Env::new();
    env.add_master("okx-master-ip-bound", "okx-master");
    env.add_key("okx-sub-bot", "grid-bot", &["--master", "okx-master", "--sub-account", "bot-sub-1"]);
    let api_key = seed_key("okx-sub-bot").api_key;

    // The finding, and the fix `check` offers for it.
    let text = ok(&env.latchkey(&["check", "grid-bot"], ""));
    assert!(text.contains("works from any IP address"), "{text}");
    assert!(text.contains("fix it: latchkey fix 'grid-bot' --bind-ip IP… | --read-only"), "{text}");
    // The master itself is not fixable through the API, and says why.
    let text = ok(&env.latchkey(&["check", "okx-master"], ""));
    assert!(!text.contains("fix it:"), "{text}");

    let (totp, recovery) = enroll(&env);
    // A wrong code is refused before anything changes at the exchange.
    let err = refused(&env.latchkey(&["fix", "grid-bot", "--bind-ip", "127.0.0.1", "--code", "000000"], ""), 3);
    assert!(err.to_lowercase().contains("code"), "{err}");
    assert!(env.sim.state().requests_to("/api/v5/users/subaccount/modify-apikey").is_empty());

    let code = oathtool(&totp, 30);
    let args = ["fix", "grid-bot", "--bind-ip", "127.0.0.1", "--bind-ip", "203.0.113.7", "--code", &code, "--json"];
    let fixed = json(&env.latchkey(&args, ""));
    assert_eq!(fixed["gone"], serde_json::json!(["trade_without_ip_whitelist"]), "{fixed}");
    assert_eq!(fixed["confirmedBy"], "own_read");
    assert_eq!(fixed["key"]["findings"], serde_json::json!([]), "{fixed}");
    let mut ips = env.sim_key(&api_key).ips;
    ips.sort();
    assert_eq!(ips, vec!["127.0.0.1", "203.0.113.7"], "the simulator holds the new whitelist");

    // The stored key follows: `status` shows no finding, the audit log a `fix`.
    let status = json(&env.latchkey(&["status", "--json"], ""));
    let grid = status.as_array().unwrap().iter().find(|k| k["label"] == "grid-bot").unwrap().clone();
    assert_eq!(grid["findings"], serde_json::json!([]), "{grid}");
    let log = json(&env.latchkey(&["audit", "--json"], ""));
    let entries = log["entries"].as_array().or_else(|| log.as_array()).unwrap().clone();
    assert!(entries.iter().any(|e| e["action"] == "fix" && e["outcome"] == "ok"), "{log}");

    // Read-only next (text output), with a recovery code (the authenticator's next code is a
    // step away); the exchange's write limit is 1/s.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert!(!recovery.is_empty());
    let text = ok(&env.latchkey(&["fix", "grid-bot", "--read-only", "--code", &recovery[0]], ""));
    assert!(text.contains("→ read; bound to"), "{text}");
    assert_eq!(env.sim_key(&api_key).permissions, vec![exchange_sim::Permission::Read]);
}

#[test]
#[ignore = "needs a Secret Service: run scripts/test-all.sh"]
fn fix_refuses_what_it_must_and_says_what_to_do() {
    let mut env = Env::new();
    env.add_master("okx-master-ip-bound", "okx-master");
    env.add_key("okx-sub-bot", "grid-bot", &["--master", "okx-master", "--sub-account", "bot-sub-1"]);
    env.add_master("bybit-withdraw", "bybit-lone");

    let err = refused(&env.latchkey(&["fix", "grid-bot"], ""), 2);
    assert!(err.contains("--bind-ip") || err.contains("required"), "{err}");
    let many: Vec<String> = (1..=21).flat_map(|i| ["--bind-ip".to_owned(), format!("10.0.0.{i}")]).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let err = refused(&env.latchkey(&[&["fix", "grid-bot"][..], &many].concat(), ""), 2);
    assert!(err.contains("at most 20"), "{err}");
    let err = refused(&env.latchkey(&["fix", "bybit-lone", "--drop-withdraw"], ""), 3);
    assert!(err.contains("website"), "{err}");
    let err = refused(&env.latchkey(&["fix", "grid-bot", "--drop-withdraw"], ""), 3);
    assert!(err.contains("nothing to remove"), "{err}");
    // Without 2FA set up a fix needs no code, and says so.
    let text = ok(&env.latchkey(&["fix", "grid-bot", "--bind-ip", "127.0.0.1"], ""));
    assert!(text.contains("without a 2FA code"), "{text}");
}
