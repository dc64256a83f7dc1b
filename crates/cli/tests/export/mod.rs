//! `latchkey export`: one key for a pipe, in the shape its receiver reads, after a 2FA code,
//! audited; refused on a terminal, for a key bots may not use, and with a wrong code.

use std::process::Command;

use super::{audit_count, enroll, oathtool, ok, seed_key, stderr, Env};

#[test]
#[ignore = "needs a Secret Service: run scripts/test-all.sh"]
fn export_writes_one_key_to_a_pipe_only() {
    let mut env = Env::new();
    let okx = seed_key("okx-read-only");
    ok(&env.add_via_stdin(&okx, "okx-bot", &[]));
    let (secret, recovery) = enroll(&env);

    // The environment shape, for EnvironmentFile= or a shell's `.`; the due date on stderr only.
    let out = env.latchkey_raw(&["export", "okx-bot", "--format", "env", "--code", &recovery[0]], "");
    let text = ok(&out);
    assert_eq!(
        text,
        format!(
            "OKX_API_KEY='{}'\nOKX_API_SECRET='{}'\nOKX_API_PASSPHRASE='{}'\n",
            okx.api_key,
            okx.secret,
            okx.passphrase.clone().unwrap()
        )
    );
    let err = stderr(&out);
    assert!(err.contains("due for rotation") && err.contains("--not-after="), "{err}");
    for s in &env.secrets {
        assert!(!err.contains(s.as_str()), "a secret on stderr");
    }

    // Freqtrade's second config.
    let out = env.latchkey_raw(
        &["export", "okx-bot", "--format", "freqtrade", "--code", "-"],
        &format!("{}\n", oathtool(&secret, 30)),
    );
    let config: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
    assert_eq!(config["exchange"]["key"], okx.api_key.as_str());
    assert_eq!(config["exchange"]["password"], okx.passphrase.clone().unwrap().as_str());

    // A wrong code: refused, nothing on stdout.
    let out = env.latchkey_raw(&["export", "okx-bot", "--format", "env", "--code", "000000"], "");
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(out.stdout.is_empty());

    // On a terminal (a pty from `script`): refused before a code is asked for, with the recipe.
    let bin = env!("CARGO_BIN_EXE_latchkey");
    let line = format!("{bin} export okx-bot --format env --code {}", recovery[1]);
    let mut tty = Command::new("script");
    for (k, v) in env.cmd(&[]).get_envs() {
        match v {
            Some(v) => tty.env(k, v),
            None => tty.env_remove(k),
        };
    }
    let out = tty.args(["-qec", &line, "/dev/null"]).output().unwrap();
    let shown = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(2), "{shown}");
    assert!(shown.contains("for a pipe, not a screen") && shown.contains("systemd-creds encrypt"), "{shown}");
    env.assert_no_secret(&out, &["export (on a terminal)"]);

    // A key bots may not use never leaves.
    ok(&env.latchkey(&["bots", "deny", "okx-bot"], ""));
    let out = env.latchkey(&["export", "okx-bot", "--format", "env", "--code", &recovery[2]], "");
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("not allowed for bots"), "{}", stderr(&out));
    assert_eq!(audit_count(&env, "export", "ok"), 2);
}
