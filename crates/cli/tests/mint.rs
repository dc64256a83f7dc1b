//! `latchkey subaccounts` and `latchkey mint` end to end: the binary against exchange-sim and the
//! real keychain (a Secret Service; ignored outside `scripts/desktop-session.sh`). A minted key's
//! secret goes from the exchange's answer into the keychain without ever being printed, and a bot
//! started with `run` gets exactly the credentials the exchange made.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Output, Stdio};

use exchange_sim::{Seed, Sim, SimHandle, SimKey};
use serde_json::Value;
use sha2::{Digest, Sha256};

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
            service: format!("latchkey-mint-test-{}", uuid::Uuid::new_v4().simple()),
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
        ok(&self.latchkey(&args, &lines));
    }

    /// The key the simulator holds under this label (with its secret: the simulator is in-process).
    fn made(&self, label: &str) -> SimKey {
        self.sim.state().keys.into_iter().find(|k| k.label == label).unwrap_or_else(|| panic!("no key {label}"))
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
/// the recovery codes it printed.
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
    let recovery = rest.lines().skip_while(|l| !l.starts_with("Recovery codes")).skip(1);
    (secret, recovery.map(|l| l.trim().to_owned()).filter(|l| !l.is_empty()).collect())
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

#[test]
#[ignore = "needs a Secret Service: run scripts/test-all.sh"]
fn a_master_lists_its_sub_accounts_and_mints_a_key_a_bot_then_gets() {
    let mut env = Env::new();
    env.add_master("okx-master-ip-bound", "okx-master");

    let listed = json(&env.latchkey(&["subaccounts", "--master", "okx-master", "--json"], ""));
    let names: Vec<&str> =
        listed["subAccounts"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["bot-sub-1", "botsub2"]);
    assert_eq!(listed["readiness"]["readiness"], "ready");
    let text = ok(&env.latchkey(&["subaccounts", "--master", "okx-master"], ""));
    assert!(text.contains("botsub2") && text.contains("can mint keys"), "{text}");
    let text = ok(&env.latchkey(&["check", "okx-master"], ""));
    assert!(text.contains("can mint bot keys for its sub-accounts"), "{text}");

    let (totp, _) = enroll(&env);
    // The next step's code: enrolment used this one.
    let code = oathtool(&totp, 30);
    let args = [
        "mint",
        "--master",
        "okx-master",
        "--sub-account",
        "botsub2",
        "--label",
        "grid-bot",
        "--ip",
        "127.0.0.1",
        "--rotate-every",
        "30",
        "--auto-rotate",
        "--code",
        &code,
        "--json",
    ];
    let out = env.latchkey(&args, "");
    let _ = ok(&out);
    let made = env.made("grid-bot");
    env.secrets.extend([made.secret.clone(), made.passphrase.clone().unwrap()]);
    env.assert_no_secret(&out, &args);
    let minted = json(&out);
    assert_eq!((minted["verified"].as_bool(), minted["autoRotate"].as_bool()), (Some(true), Some(true)));
    assert_eq!(minted["key"]["label"], "grid-bot");
    assert_eq!(minted["key"]["rotationDays"], 30);
    assert_eq!(minted["subAccount"]["id"], "botsub2");
    assert_eq!(made.ips, vec!["127.0.0.1"]);
    assert_eq!(made.sub_account.as_deref(), Some("botsub2"));

    // The bot gets exactly what the exchange made, passphrase included; the master is never handed out.
    let script = r#"printf '%s|%s|%s' "$OKX_API_KEY" "$OKX_API_SECRET" "$OKX_API_PASSPHRASE" | sha256sum"#;
    let out = env.cmd(&["run", "grid-bot", "--", "sh", "-c", script]).output().unwrap();
    let want = sha256_hex(&format!("{}|{}|{}", made.api_key, made.secret, made.passphrase.clone().unwrap()));
    assert!(ok(&out).starts_with(&want), "the child got other values");
    let out = env.latchkey(&["run", "okx-master", "--", "true"], "");
    assert_eq!(out.status.code(), Some(3), "a master of other keys is not for bots");

    let log = json(&env.latchkey(&["audit", "--json"], ""));
    let entries = log["entries"].as_array().or_else(|| log.as_array()).unwrap().clone();
    assert!(entries.iter().any(|e| e["action"] == "mint" && e["outcome"] == "ok"), "{log}");
    let check = json(&env.latchkey(&["check", "grid-bot", "--json"], ""));
    assert_eq!(check["inspection"]["ipWhitelist"], serde_json::json!(["127.0.0.1"]));
}

#[test]
#[ignore = "needs a Secret Service: run scripts/test-all.sh"]
fn mint_refuses_what_it_must_and_says_what_to_do() {
    let mut env = Env::new();
    env.add_master("okx-master-ip-bound", "okx-master");
    env.add_master("okx-read-only", "okx-reader");
    env.add_master("bybit-master-wallet", "bybit-master");
    let text = ok(&env.latchkey(&["check", "okx-reader"], ""));
    assert!(text.contains("cannot mint bot keys yet") && text.contains("Trade permission"), "{text}");
    let base = ["mint", "--master", "okx-master", "--sub-account", "botsub2", "--label", "grid-bot"];

    let err = refused(&env.latchkey(&base, ""), 2);
    assert!(err.contains("14 days") && err.contains("--no-ip-whitelist"), "{err}");
    assert!(!err.contains("Bybit"), "only OKX's rule applies to an OKX key: {err}");
    let err = refused(&env.latchkey(&[&base[..], &["--ip", "127.0.0.1", "--perm", "read,withdraw"]].concat(), ""), 2);
    assert!(err.contains("withdraw"), "{err}");
    let many: Vec<String> = (1..=21).flat_map(|i| ["--ip".to_owned(), format!("10.0.0.{i}")]).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let err = refused(&env.latchkey(&[&base[..], &many].concat(), ""), 2);
    assert!(err.contains("at most 20"), "{err}");

    let (totp, _) = enroll(&env);
    let err = refused(&env.latchkey(&[&base[..], &["--ip", "127.0.0.1", "--code", "000000"]].concat(), ""), 3);
    assert!(err.to_lowercase().contains("code"), "{err}");
    let code = oathtool(&totp, 0);
    let reader = [
        "mint",
        "--master",
        "okx-reader",
        "--sub-account",
        "botsub2",
        "--label",
        "x",
        "--ip",
        "127.0.0.1",
        "--code",
        &code,
    ];
    let err = refused(&env.latchkey(&reader, ""), 3);
    assert!(err.contains("Trade permission"), "{err}");
    // On another exchange: OKX's account/config read is limited to 5 per 2 s per account, and the
    // OKX calls above already spent them on a fast machine.
    let code = oathtool(&totp, 30);
    let err = refused(
        &env.latchkey(
            &[
                "mint",
                "--master",
                "bybit-master",
                "--sub-account",
                "nobody",
                "--label",
                "y",
                "--ip",
                "127.0.0.1",
                "--code",
                &code,
            ],
            "",
        ),
        1,
    );
    assert!(err.contains("'nobody'") && err.contains("bybitbot01"), "{err}");
    assert!(
        env.sim.state().requests.iter().all(|r| !(r.method == "POST" && r.path == "/api/v5/users/subaccount/apikey")),
        "no refusal created a key"
    );

    // Without a whitelist, once acknowledged (Bybit, by the sub-account's UID). The refusals above
    // came before the code was checked, so the next step's code is still unused.
    let code = oathtool(&totp, 30);
    let args = [
        "mint",
        "--master",
        "bybit-master",
        "--sub-account",
        "1449002",
        "--label",
        "dca",
        "--perm",
        "read",
        "--no-ip-whitelist",
        "--code",
        &code,
    ];
    let out = env.latchkey(&args, "");
    let _ = ok(&out);
    let made = env.made("dca");
    env.secrets.push(made.secret.clone());
    env.assert_no_secret(&out, &args);
    let text = ok(&out);
    assert!(text.contains("Minted 'dca'") && text.contains("no IP whitelist") && text.contains("Verified"), "{text}");
    assert!(made.ips.is_empty() && !made.has(exchange_sim::Permission::Trade));
}

#[test]
#[ignore = "needs a Secret Service: run scripts/test-all.sh"]
fn lock_sub_account_stops_a_gate_sub_account_through_its_master() {
    let mut env = Env::new();
    env.add_master("gate-master", "gate-master");
    let (totp, recovery) = enroll(&env);
    let code = oathtool(&totp, 30);
    let args = [
        "mint",
        "--master",
        "gate-master",
        "--sub-account",
        "gatebot02",
        "--label",
        "gate-bot",
        "--ip",
        "127.0.0.1",
        "--code",
        &code,
    ];
    let out = env.latchkey(&args, "");
    let _ = ok(&out);
    let made = env.made("gate-bot");
    env.secrets.push(made.secret.clone());

    // Refused before a code is spent where nothing can be locked: the master itself has no sub-account.
    let text = refused(&env.latchkey(&["lock-sub-account", "gate-master"], ""), 3);
    assert!(text.contains("not a sub-account key whose master Latchkey holds"), "{text}");
    // The two TOTP steps are used: a recovery code (each works once).
    let locked = json(&env.latchkey(&["lock-sub-account", "gate-bot", "--code", &recovery[0], "--json"], ""));
    assert_eq!(locked["unguarded"], false);
    assert_eq!(locked["subAccount"], "10003");
    assert_eq!(locked["keys"], serde_json::json!(["gate-bot"]));
    assert!(env.sim.state().keys.iter().any(|k| k.label == "gate-bot" && k.frozen), "the exchange locked it");
    let log = json(&env.latchkey(&["audit", "--json"], ""));
    let entries = log["entries"].as_array().or_else(|| log.as_array()).unwrap().clone();
    assert!(entries.iter().any(|e| e["action"] == "lock_sub_account" && e["outcome"] == "ok"), "{log}");
}
