//! End-to-end tests of the `latchkey` binary against the real keychain (a Secret Service) and
//! exchange-sim started in this process. The keychain tests are ignored outside the private desktop
//! session: `scripts/test-all.sh` (or `scripts/desktop-session.sh cargo test -p latchkey-cli --
//! --include-ignored`) runs them. Each test has its own data dir and keychain namespace.
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
    /// Keeps the simulator's server running while the test thread waits on child processes.
    _rt: tokio::runtime::Runtime,
    /// Every secret the test handed to Latchkey: none may appear in any output but a child's.
    secrets: Vec<String>,
}

fn seed_key(label: &str) -> SimKey {
    Seed::example().keys.into_iter().find(|k| k.label == label).unwrap()
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

impl Env {
    fn new() -> Env {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let sim = rt.block_on(Sim::start(Seed::example())).unwrap();
        Env {
            dir: tempfile::tempdir().unwrap(),
            service: format!("latchkey-cli-test-{}", uuid::Uuid::new_v4().simple()),
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

    /// Runs a command that is not `run`: nothing secret may come out of it.
    fn latchkey(&self, args: &[&str], stdin: &str) -> Output {
        let out = self.latchkey_raw(args, stdin);
        self.assert_no_secret(&out, args);
        out
    }

    fn latchkey_raw(&self, args: &[&str], stdin: &str) -> Output {
        let mut child =
            self.cmd(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
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

    /// Adds a seed key through stdin `KEY=value` lines.
    fn add_via_stdin(&mut self, key: &SimKey, label: &str, extra: &[&str]) -> Output {
        let mut lines = format!("API_KEY={}\nAPI_SECRET={}\n", key.api_key, key.secret);
        if let Some(p) = &key.passphrase {
            lines += &format!("API_PASSPHRASE={p}\n");
        }
        self.remember(key);
        let exchange = format!("{:?}", key.exchange).to_lowercase();
        let url = self.sim.base_url();
        let mut args = vec!["add", "--exchange", &exchange, "--label", label, "--env", "custom", "--base-url", &url];
        args.extend_from_slice(extra);
        self.latchkey(&args, &lines)
    }

    fn remember(&mut self, key: &SimKey) {
        self.secrets.push(key.api_key.clone());
        self.secrets.push(key.secret.clone());
        self.secrets.extend(key.passphrase.clone());
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

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn oathtool(secret: &str, offset_secs: i64) -> String {
    let now = format!("now + {offset_secs} seconds");
    let out = Command::new("oathtool").args(["--totp", "-b", secret, "-N", &now]).output().unwrap();
    assert!(out.status.success(), "oathtool: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// Drives `latchkey 2fa enroll` as a person would: reads the secret it shows, answers with the
/// authenticator's code. Returns the base32 secret and the recovery codes.
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
    let (mut uri, mut secret) = (String::new(), String::new());
    let mut line = String::new();
    while secret.is_empty() {
        line.clear();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "enroll ended before showing the secret");
        if let Some(u) = line.trim().strip_prefix("otpauth URI: ") {
            uri = u.to_owned();
        }
        if let Some(s) = line.trim().strip_prefix("Secret for manual entry: ") {
            secret = s.to_owned();
        }
    }
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    let from_uri = uri.split(['?', '&']).find_map(|p| p.strip_prefix("secret=")).unwrap();
    assert_eq!(from_uri, secret, "the URI and the text show the same secret");
    writeln!(stdin, "{}", oathtool(&secret, 0)).unwrap();
    drop(stdin);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "enroll failed: {rest}");
    let codes: Vec<String> = rest
        .lines()
        .skip_while(|l| !l.starts_with("Recovery codes"))
        .skip(1)
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(codes.len(), 10, "{rest}");
    (secret, codes)
}

#[test]
#[ignore = "needs a Secret Service: run scripts/test-all.sh"]
fn add_list_check_run_enroll_revoke_then_run_is_refused() {
    let mut env = Env::new();
    let okx = seed_key("okx-withdraw");
    let bybit = seed_key("bybit-master-wallet");

    // add: OKX from stdin lines, Bybit from the environment.
    let out = env.add_via_stdin(&okx, "okx-bot", &[]);
    assert!(ok(&out).contains("Added 'okx-bot'"));
    env.remember(&bybit);
    let url = env.sim.base_url();
    let out = env
        .cmd(&["add", "--exchange", "bybit", "--label", "bybit-wallet", "--base-url", &url, "--json"])
        .env("LATCHKEY_API_KEY", &bybit.api_key)
        .env("LATCHKEY_API_SECRET", &bybit.secret)
        .output()
        .unwrap();
    env.assert_no_secret(&out, &["add", "bybit"]);
    let added = json(&out);
    assert_eq!(added["label"], "bybit-wallet");
    assert_eq!(added["permissions"], serde_json::json!(["read", "trade", "transfer"]));
    assert_eq!(added["inspection"]["ipRestricted"], true);

    // list --json: metadata only.
    let list = json(&env.latchkey(&["list", "--json"], ""));
    let labels: Vec<&str> = list.as_array().unwrap().iter().map(|k| k["label"].as_str().unwrap()).collect();
    assert_eq!(labels.len(), 2);
    assert!(labels.contains(&"okx-bot") && labels.contains(&"bybit-wallet"), "{labels:?}");
    for k in list.as_array().unwrap() {
        assert_eq!(k["status"], "active");
        assert!(k["keyHint"].as_str().unwrap().contains('…'));
    }

    // status --json: rotation and findings per key.
    let status = json(&env.latchkey(&["status", "--json"], ""));
    let okx_status = status.as_array().unwrap().iter().find(|k| k["label"] == "okx-bot").unwrap();
    assert_eq!(okx_status["rotation"]["state"], "ok");
    assert_eq!(okx_status["severity"], "critical");
    assert_eq!(okx_status["findings"][0]["code"], "withdraw_enabled");

    // check: asks the exchange again and records it.
    let check = json(&env.latchkey(&["check", "okx-bot", "--json"], ""));
    assert_eq!(check["inspection"]["exchange"], "okx");
    assert!(check["findings"].as_array().unwrap().iter().any(|f| f["code"] == "withdraw_enabled"));
    let text = ok(&env.latchkey(&["check", "bybit-wallet"], ""));
    assert!(text.contains("bound to IPs 127.0.0.1"), "{text}");

    // run: the child gets the key; we compare hashes so the test never prints it either.
    let script = r#"printf '%s|%s|%s' "$OKX_API_KEY" "$OKX_API_SECRET" "$OKX_API_PASSPHRASE" | sha256sum"#;
    let out = env.cmd(&["run", "okx-bot", "--", "sh", "-c", script]).output().unwrap();
    let want = sha256_hex(&format!("{}|{}|{}", okx.api_key, okx.secret, okx.passphrase.clone().unwrap()));
    assert!(ok(&out).starts_with(&want), "the child got other values");
    assert!(!stderr(&out).contains(&okx.secret));

    // Two keys, a renamed variable and a prefix.
    let script = r#"printf '%s|%s|%s' "$BOT_SECRET" "$W_BYBIT_API_KEY" "${OKX_API_SECRET:-unset}" | sha256sum"#;
    let args = [
        "run",
        "okx-bot",
        "bybit-wallet",
        "--env-name",
        "BOT_SECRET=okx-bot:secret",
        "--prefix",
        "bybit-wallet=W_",
        "--",
        "sh",
        "-c",
        script,
    ];
    let out = env.cmd(&args).output().unwrap();
    assert!(ok(&out).starts_with(&sha256_hex(&format!("{}|{}|unset", okx.secret, bybit.api_key))));

    // 2FA with an authenticator's codes (oathtool).
    let (totp, recovery) = enroll(&env);
    let st = json(&env.latchkey(&["2fa", "status", "--json"], ""));
    assert_eq!((st["enrolled"].as_bool(), st["recoveryCodesLeft"].as_u64()), (Some(true), Some(10)));

    // A wrong code is refused with exit 3 and revokes nothing.
    let out = env.latchkey(&["revoke", "okx-bot", "--code", "000000"], "");
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(env.sim.state().has_key(&bybit.api_key));

    // Revoke both with the next step's code (the enrollment used the current one; replays are refused).
    let code = oathtool(&totp, 30);
    let out = env.latchkey(&["revoke", "okx-bot", "bybit-wallet", "--code", &code], "");
    // OKX has no API for a key to delete itself: the revoke is not complete (exit 1).
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(report.contains("bybit-wallet") && report.contains("revoked at Bybit"), "{report}");
    assert!(report.contains("proved revoked at "), "{report}");
    assert!(report.contains("1 proved revoked · 1 still live"), "{report}");
    assert!(report.contains("STILL LIVE at OKX") && report.contains("confirm-deleted"), "{report}");
    assert!(report.contains("Checklist"), "{report}");
    let progress = stderr(&out);
    assert!(progress.contains("bybit-wallet") && progress.contains("secret wiped"), "{progress}");
    assert!(!env.sim.state().has_key(&bybit.api_key), "the Bybit key deleted itself at the exchange");

    // Issue 10, item 13: the OKX key still works at OKX, so it is not "revoked" anywhere, and it
    // is blocked from `run` with what to do.
    let list = ok(&env.latchkey(&["list"], ""));
    assert!(list.contains("STILL LIVE at OKX") && list.contains("revoked (proved"), "{list}");
    let status = ok(&env.latchkey(&["status"], ""));
    assert!(status.contains("STILL LIVE at OKX"), "{status}");
    let out = env.cmd(&["run", "okx-bot", "--", "sh", "-c", "echo should-not-run"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("still live at OKX") && stderr(&out).contains("confirm-deleted"), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    // "I deleted it" while it is not: refused with why, the key stays still live.
    // (Recovery codes: the authenticator's next codes are too far ahead of the clock.)
    let out = env.latchkey(&["confirm-deleted", "okx-bot", "--code", &recovery[1]], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(ok(&env.latchkey(&["list"], "")).contains("STILL LIVE at OKX"));
    // Deleted on the website: proved, wiped, revoked.
    assert!(env.sim.delete_key(&okx.api_key));
    let out = env.latchkey(&["confirm-deleted", "okx-bot", "--code", &recovery[2]], "");
    assert!(ok(&out).contains("proved revoked at "), "{}", ok(&out));
    let list = json(&env.latchkey(&["list", "--json"], ""));
    assert!(list.as_array().unwrap().iter().all(|k| k["status"] == "revoked" && k["revokedAt"].is_string()), "{list}");

    // The revoked key can no longer be handed out.
    let out = env.cmd(&["run", "okx-bot", "--", "sh", "-c", "echo should-not-run"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("revoked"), "{}", stderr(&out));
    assert!(out.stdout.is_empty());

    // The audit log saw it all, and its chain is intact.
    let log = json(&env.latchkey(&["audit", "--json", "--limit", "200"], ""));
    let actions: Vec<&str> = log.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for a in ["add", "verify", "run", "guard_enroll", "guard_verify", "revoke", "quarantine"] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
    assert!(ok(&env.latchkey(&["audit", "--verify"], "")).contains("intact"));

    // 2FA off with a recovery code.
    ok(&env.latchkey(&["2fa", "disable", "--code", &recovery[0]], ""));
    let st = json(&env.latchkey(&["2fa", "status", "--json"], ""));
    assert_eq!(st["enrolled"], false);
}

#[test]
#[ignore = "needs a Secret Service: run scripts/test-all.sh"]
fn exit_codes_and_signals_pass_through() {
    let mut env = Env::new();
    let key = seed_key("binance-read-only");
    ok(&env.add_via_stdin(&key, "bn", &["--no-verify"]));

    let out = env.cmd(&["run", "bn", "--", "sh", "-c", "exit 7"]).output().unwrap();
    assert_eq!(out.status.code(), Some(7));
    let out = env.cmd(&["run", "bn", "--", "sh", "-c", "kill -TERM $$"]).output().unwrap();
    assert_eq!(out.status.code(), Some(128 + 15), "killed by SIGTERM → 143");
    let out = env.cmd(&["run", "bn", "--", "no-such-program-latchkey"]).output().unwrap();
    assert_eq!(out.status.code(), Some(127));

    // SIGTERM to latchkey reaches the child, whose own exit code comes back.
    let script = "trap 'exit 42' TERM; echo ready; while :; do sleep 0.1; done";
    let mut child = env.cmd(&["run", "bn", "--", "sh", "-c", script]).stdout(Stdio::piped()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "ready");
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(42), "the child trapped the forwarded SIGTERM");
}

#[test]
#[ignore = "needs a Secret Service: run scripts/test-all.sh"]
fn json_outputs_and_errors_carry_no_secret() {
    let mut env = Env::new();
    let key = seed_key("okx-read-only");
    let added = env.add_via_stdin(&key, "ro", &["--json"]);
    assert_eq!(json(&added)["label"], "ro");
    for args in [&["list", "--json"][..], &["status", "--json"], &["check", "ro", "--json"], &["audit", "--json"]] {
        let out = env.latchkey(args, "");
        ok(&out);
    }
    // A duplicate label fails before the keychain is touched, and says what to do.
    let out = env.add_via_stdin(&key, "RO", &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
    // Malformed input names the line, not its value.
    let out = env.latchkey(&["add", "--exchange", "okx", "--label", "x", "--no-verify"], &format!("{}\n", key.secret));
    assert_eq!(out.status.code(), Some(2));
    // A key the exchange refuses: the error explains, and shows nothing secret.
    let mut other = seed_key("okx-other-ip");
    other.passphrase = Some("Wrong-Passphrase-1".into());
    let out = env.add_via_stdin(&other, "other", &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("OKX"), "{}", stderr(&out));
    let list = json(&env.latchkey(&["list", "--json"], ""));
    assert_eq!(list.as_array().unwrap().len(), 1, "nothing saved for a refused key");
}

#[test]
#[ignore = "needs a Secret Service: run scripts/test-all.sh"]
fn the_app_and_the_cli_see_each_others_changes() {
    use latchkey_core::keychain::Keychain;
    use latchkey_core::model::{Environment, Exchange};
    use latchkey_core::secret::Credentials;
    use latchkey_core::store::Store;
    use latchkey_core::vault::{NewKey, Vault};
    use secrecy::ExposeSecret;
    use std::sync::Arc;

    let mut env = Env::new();
    let cli_key = seed_key("bybit-sub-trade");
    ok(&env.add_via_stdin(&cli_key, "from-cli", &["--no-verify"]));

    // The app's side: the same data dir and keychain namespace, opened the way the app does.
    let store = Arc::new(Store::open_in(env.dir.path()).unwrap());
    let vault = Vault::new(store, Arc::new(Keychain::new(env.service.clone())));
    let keys = vault.list().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].label, "from-cli");
    let creds = vault.credentials(keys[0].id).unwrap();
    assert_eq!(creds.api_secret.expose_secret(), cli_key.secret, "the CLI's keychain item is the app's");

    let app_key = seed_key("binance-master");
    env.remember(&app_key);
    let new = NewKey {
        exchange: Exchange::Binance,
        label: "from-app".into(),
        environment: Environment::Custom { base_url: env.sim.base_url() },
        credentials: Credentials::new(&app_key.api_key, &app_key.secret, None),
        rotation_days: Some(30),
    };
    vault.add(new, chrono::Utc::now()).unwrap();

    let list = json(&env.latchkey(&["list", "--json"], ""));
    let app_row = list.as_array().unwrap().iter().find(|k| k["label"] == "from-app").unwrap();
    assert_eq!(app_row["rotationDays"], 30);
    let out = env
        .cmd(&["run", "from-app", "--", "sh", "-c", r#"printf %s "$BINANCE_API_SECRET" | sha256sum"#])
        .output()
        .unwrap();
    assert!(ok(&out).starts_with(&sha256_hex(&app_key.secret)));
    let log = vault.store().audit_log(1).unwrap();
    assert_eq!(
        (log[0].action.as_str(), log[0].label.as_deref()),
        ("run", Some("from-app")),
        "the app sees the CLI's audit entry"
    );
}

// These need no keychain: clap or the store answer before any secret is involved.

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_latchkey"))
            .args(args)
            .env("LATCHKEY_DATA_DIR", dir.path())
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    for args in [
        &["frobnicate"][..],
        &["add", "--exchange", "kraken", "--label", "x"],
        &["add", "--exchange", "okx", "--label", "x", "--api-secret", "s"],
        &["run", "bot"],
        &["revoke"],
        &["revoke", "a", "--all"],
        &["revoke", "--resume", "--all"],
        &["revoke", "a", "--resume"],
        &["revoke", "--resume", "--code", "123456"],
        &["add", "--exchange", "okx", "--label", "x", "--sub-account", "s"],
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "latchkey {}: {}", args.join(" "), stderr(&out));
    }
    let out = run(&["add", "--exchange", "okx", "--label", "x", "--env", "custom"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--base-url"), "{}", stderr(&out));
    let out = run(&["run", "nobody", "--", "true"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("latchkey list"), "{}", stderr(&out));
    let out = run(&["run", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("OKX_API_PASSPHRASE"));
}

#[test]
fn completions_are_generated() {
    for shell in ["bash", "zsh", "fish"] {
        let out = Command::new(env!("CARGO_BIN_EXE_latchkey")).args(["completions", shell]).output().unwrap();
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("latchkey") && text.contains("revoke"), "{shell}");
    }
}

#[test]
fn an_empty_store_lists_nothing_and_audits_clean() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_latchkey")).args(args).env("LATCHKEY_DATA_DIR", dir.path()).output().unwrap()
    };
    assert_eq!(String::from_utf8(run(&["list", "--json"]).stdout).unwrap().trim(), "[]");
    let verify: Value = serde_json::from_slice(&run(&["audit", "--verify", "--json"]).stdout).unwrap();
    assert_eq!(verify["intact"], true);
    // Nothing interrupted: nothing to finish (the journal is read from the store, no keychain needed).
    let out = run(&["revoke", "--resume", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "[]");
    assert!(stderr(&out).contains("No interrupted revoke"), "{}", stderr(&out));
}
