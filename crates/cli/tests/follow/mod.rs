//! `latchkey run` stays attached to its child: a rotation (`latchkey rotate`) moves it to the new
//! key (`--on-rotate restart`, `signal:NAME` with `--as FORMAT`), waits for it before retiring the
//! old key, and masks the keys in its output. Real keychain, real simulator, real child processes.

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use exchange_sim::SimKey;

use super::{enroll, json, oathtool, ok, seed_key, stderr, Env};

/// A key the simulator knows that can replace `old` (same account and permissions, new values).
fn replacement(env: &mut Env, old: &SimKey, n: u32) -> SimKey {
    let new = SimKey {
        api_key: format!("NEWBYBITKEY{n:07}"),
        secret: format!("NEWBYBITSECRET{n:022}"),
        created_at: Some(chrono::Utc::now()),
        ..old.clone()
    };
    env.sim.add_key(new.clone());
    env.remember(&new);
    new
}

fn stdin_lines(key: &SimKey) -> String {
    format!("API_KEY={}\nAPI_SECRET={}\n", key.api_key, key.secret)
}

fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < timeout, "timed out after {timeout:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path).unwrap_or_default().lines().map(str::to_owned).collect()
}

fn terminate(mut run: Child) -> std::process::Output {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(run.id() as i32), nix::sys::signal::Signal::SIGTERM).unwrap();
    let start = Instant::now();
    while run.try_wait().unwrap().is_none() {
        assert!(start.elapsed() < Duration::from_secs(20), "the run did not end on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
    run.wait_with_output().unwrap()
}

fn rotate(env: &Env, label: &str, totp: &str, new: &SimKey) -> serde_json::Value {
    let code = oathtool(totp, 30);
    json(&env.latchkey(&["rotate", label, "--code", &code, "--grace", "30", "--json"], &stdin_lines(new)))
}

#[test]
#[ignore = "needs a Secret Service: run scripts/test-all.sh"]
fn a_rotation_restarts_the_running_bot_with_the_new_key_before_the_old_one_is_deleted() {
    let mut env = Env::new();
    let old = seed_key("bybit-sub-transfer");
    ok(&env.add_via_stdin(&old, "grid", &[]));
    let (totp, _) = enroll(&env);
    let work = tempfile::tempdir().unwrap();
    let seen = work.path().join("seen");
    let script = format!(r#"printf '%s\n' "$BYBIT_API_KEY" >> '{}'; exec sleep 60"#, seen.display());
    let run = env
        .cmd(&["run", "grid", "--stop-grace", "5", "--", "sh", "-c", &script])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for("the bot to start", Duration::from_secs(20), || lines(&seen).len() == 1);

    let new = replacement(&mut env, &old, 1);
    let rotated = rotate(&env, "grid", &totp, &new);
    assert_eq!(rotated["handover"], serde_json::json!({"result": "moved", "bots": 1}), "{rotated}");
    wait_for("the restarted bot", Duration::from_secs(10), || lines(&seen).len() == 2);
    assert_eq!(lines(&seen), [old.api_key.clone(), new.api_key.clone()], "restarted once, with the new key");
    // Only then was the old key deleted: by itself, as Bybit allows a key with a transfer permission.
    assert_eq!(rotated["report"]["keys"][0]["result"], "revoked", "{rotated}");
    assert!(!env.sim.state().has_key(&old.api_key) && env.sim.state().has_key(&new.api_key));

    let out = terminate(run);
    assert_eq!(out.status.code(), Some(143), "the child's SIGTERM is the run's exit: {}", stderr(&out));
    assert!(stderr(&out).contains("'grid' was rotated; restarting `sh` with the new key."), "{}", stderr(&out));
    env.assert_no_secret(&out, &["run"]);
    let audit = json(&env.latchkey(&["audit", "--json"], ""));
    let moved = audit.as_array().unwrap().iter().any(|e| {
        e["action"] == "run" && e["detail"].as_str().unwrap().starts_with("given to `sh` after a rotation (restarted")
    });
    assert!(moved, "the move is audited: {audit}");
}

#[test]
#[ignore = "needs a Secret Service: run scripts/test-all.sh"]
fn a_bot_that_reads_a_file_gets_a_private_one_rewritten_on_rotation_and_removed_at_the_end() {
    let mut env = Env::new();
    let old = seed_key("bybit-sub-transfer");
    ok(&env.add_via_stdin(&old, "ft", &[]));
    let (totp, _) = enroll(&env);
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().display();
    // A Freqtrade-like bot: reads its second config at start and again on SIGUSR1.
    let script = format!(
        r#"echo "{{file}}" > '{dir}/path'; stat -c %a "{{file}}" > '{dir}/mode'; cp "{{file}}" '{dir}/first.json'
trap 'cp "{{file}}" "{dir}/reloaded.json"' USR1
while true; do sleep 0.1; done"#
    );
    let run = env
        .cmd(&["run", "ft", "--as", "freqtrade", "--on-rotate", "signal:USR1", "--", "sh", "-c", &script])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let first = work.path().join("first.json");
    wait_for("the bot to read its file", Duration::from_secs(20), || first.exists());
    let read = |p: &str| {
        serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(work.path().join(p)).unwrap()).unwrap()
    };
    assert_eq!(read("first.json"), serde_json::json!({"exchange": {"key": old.api_key, "secret": old.secret}}));
    assert_eq!(lines(&work.path().join("mode")), ["600"], "owner-only");
    let path = lines(&work.path().join("path")).remove(0);
    let runtime_dir = std::env::var("XDG_RUNTIME_DIR").unwrap_or_else(|_| "/dev/shm".into());
    assert!(path.starts_with(&runtime_dir), "{path} is on the memory-only runtime folder {runtime_dir}");

    let new = replacement(&mut env, &old, 2);
    let rotated = rotate(&env, "ft", &totp, &new);
    assert_eq!(rotated["handover"]["result"], "moved", "{rotated}");
    wait_for("the bot to reload", Duration::from_secs(10), || work.path().join("reloaded.json").exists());
    assert_eq!(read("reloaded.json"), serde_json::json!({"exchange": {"key": new.api_key, "secret": new.secret}}));
    assert!(Path::new(&path).exists(), "same file, rewritten in place");

    let out = terminate(run);
    assert!(!Path::new(&path).exists(), "the file is gone with the run: {}", stderr(&out));
    env.assert_no_secret(&out, &["run"]);
}

#[test]
#[ignore = "needs a Secret Service: run scripts/test-all.sh"]
fn mask_replaces_the_keys_in_the_bots_output_and_a_bot_left_on_the_old_key_holds_back_the_rotation_for_its_grace() {
    let mut env = Env::new();
    let old = seed_key("bybit-sub-transfer");
    ok(&env.add_via_stdin(&old, "loud", &[]));
    let out = env
        .cmd(&[
            "run",
            "loud",
            "--mask",
            "--",
            "sh",
            "-c",
            r#"echo "key=$BYBIT_API_KEY secret=$BYBIT_API_SECRET"; echo "err $BYBIT_API_SECRET" >&2"#,
        ])
        .output()
        .unwrap();
    assert_eq!(ok(&out), "key=[latchkey: loud API key] secret=[latchkey: loud secret]\n");
    assert_eq!(stderr(&out), "err [latchkey: loud secret]\n");

    // `--on-rotate none`: the bot keeps the old key, so the rotation waits out its grace period.
    let (totp, _) = enroll(&env);
    let run = env
        .cmd(&["run", "loud", "--on-rotate", "none", "--", "sh", "-c", "exec sleep 60"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The run registers once its child runs: wait for its audit entry.
    wait_for("the run to start", Duration::from_secs(20), || {
        let audit = json(&env.latchkey(&["audit", "--json"], ""));
        audit.as_array().unwrap().iter().filter(|e| e["action"] == "run").count() == 2
    });
    let new = replacement(&mut env, &old, 3);
    let code = oathtool(&totp, 30);
    let started = Instant::now();
    let rotated =
        json(&env.latchkey(&["rotate", "loud", "--code", &code, "--grace", "2", "--json"], &stdin_lines(&new)));
    assert!(started.elapsed() >= Duration::from_secs(2), "it waited the grace period");
    assert_eq!(rotated["handover"]["result"], "graceOver", "{rotated}");
    assert_eq!(rotated["handover"]["still"][0]["program"], "sh", "{rotated}");
    let out = terminate(run);
    assert!(stderr(&out).contains("keeps the old key (--on-rotate none)"), "{}", stderr(&out));
}

#[test]
fn bad_follow_options_are_usage_errors() {
    let env = Env::new();
    for (args, says) in [
        (&["run", "k", "--on-rotate", "signal:HUP", "--", "true"][..], "needs --as FORMAT"),
        (&["run", "k", "--on-rotate", "later", "--", "true"][..], "write restart, none, or signal:NAME"),
        (&["run", "k", "--as", "toml", "--", "true"][..], "invalid value 'toml'"),
        (&["run", "k", "--as", "json", "--prefix", "X_", "--", "true"][..], "cannot be used with"),
    ] {
        let out = env.latchkey(args, "");
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
    }
}
