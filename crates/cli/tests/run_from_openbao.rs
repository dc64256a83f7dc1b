//! `latchkey run --from openbao` on a "server": the real `latchkey` binary against a real
//! `bao server -dev`, with no keychain and no Latchkey database (the data folder it is pointed at
//! must still not exist at the end). The desktop's side (deliver, `host add`, undeliver, host
//! remove) is latchkey-core's `BaoClient`, which `latchkey deliver`/`host` call: no Secret
//! Service needed, so these run in every `cargo test`. The child is a shell script that writes
//! what it got to files in a temp dir.
#![allow(clippy::unwrap_used)]

#[path = "../../core/tests/integration/openbao_support/mod.rs"]
mod openbao_support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use latchkey_core::secret::Credentials;
use latchkey_core::servers::kv::fingerprint;
use latchkey_core::servers::{BaoClient, DeliveryMeta, Expect};
use openbao_support::DevServer;
use secrecy::ExposeSecret;

struct Host {
    dir: tempfile::TempDir,
    role_file: PathBuf,
    secret_file: PathBuf,
    wrapped: String,
}

impl Host {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `latchkey run --from openbao EXTRA… -- sh -c SCRIPT` for this host (EXTRA: the labels and
    /// flags); stderr goes to `run.err`.
    fn run(&self, addr: &str, extra: &[&str], script: &str) -> Child {
        let err = std::fs::File::create(self.path("run.err")).unwrap();
        let mut args = vec![
            "run".to_owned(),
            "--from".into(),
            "openbao".into(),
            "--addr".into(),
            addr.to_owned(),
            "--role-id-file".into(),
            self.role_file.display().to_string(),
            "--secret-id-file".into(),
            self.secret_file.display().to_string(),
            "--poll".into(),
            "0.5".into(),
            "--stop-grace".into(),
            "3".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        args.extend(["--".into(), "sh".into(), "-c".into(), script.to_owned()]);
        Command::new(env!("CARGO_BIN_EXE_latchkey"))
            .args(&args)
            // A server has neither: run must not open (or create) them.
            .env("LATCHKEY_DATA_DIR", self.path("no-latchkey-data"))
            .env("LATCHKEY_KEYCHAIN_SERVICE", "latchkey-must-not-be-used")
            .env("XDG_RUNTIME_DIR", self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .unwrap()
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(self.path("run.err")).unwrap_or_default()
    }

    fn lines(&self, name: &str) -> Vec<String> {
        std::fs::read_to_string(self.path(name)).unwrap_or_default().lines().map(str::to_owned).collect()
    }

    fn no_database(&self) {
        assert!(!self.path("no-latchkey-data").exists(), "run --from openbao created a Latchkey data folder");
    }
}

fn creds(n: u32) -> Credentials {
    Credentials::new(&format!("GRIDKEY{n:04}"), &format!("GRIDSECRET{n:020}"), None)
}

async fn deliver(root: &BaoClient, label: &str, n: u32, expect: Expect) -> u64 {
    let c = creds(n);
    let meta = DeliveryMeta {
        exchange: "bybit".into(),
        key_hint: format!("GRID…{n:04}"),
        rotate_after: None,
        ip_whitelist: Vec::new(),
        fingerprint: fingerprint(&c),
        place: None,
    };
    root.deliver(label, &c, &meta, expect).await.unwrap().version
}

/// `host add NAME --keys LABEL…`, and the role-id and wrapped secret-id written where the server keeps them.
async fn enrol(bao: &DevServer, root: &BaoClient, name: &str, labels: &[&str]) -> Host {
    let (status, _) =
        bao.admin(reqwest::Method::POST, "sys/auth/approle", Some(serde_json::json!({ "type": "approle" }))).await;
    assert!(status == 204 || status == 400, "approle enabled: {status}");
    enrol_with(root, name, labels).await
}

async fn enrol_with(root: &BaoClient, name: &str, labels: &[&str]) -> Host {
    let enrolment = root.add_host(name, labels).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let role_file = dir.path().join("role-id");
    let secret_file = dir.path().join("secret-id");
    let wrapped = enrolment.wrapped_secret_id.expose_secret().to_owned();
    std::fs::write(&role_file, format!("{}\n", enrolment.role_id)).unwrap();
    std::fs::write(&secret_file, format!("{wrapped}\n")).unwrap();
    Host { dir, role_file, secret_file, wrapped }
}

impl Host {
    /// Waits until `done`, showing run's stderr when it times out.
    fn wait(&self, what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
        let start = Instant::now();
        while !done() {
            assert!(
                start.elapsed() < timeout,
                "timed out after {timeout:?} waiting for {what}; run said:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

fn exited(run: &mut Child, timeout: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = run.try_wait().unwrap() {
            return status;
        }
        assert!(start.elapsed() < timeout, "the run did not end within {timeout:?}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

fn alive(pid: &str) -> bool {
    let pid: i32 = pid.trim().parse().unwrap();
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok()
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

#[test]
fn a_new_version_restarts_the_bot_and_undeliver_stops_it() {
    let rt = rt();
    let Some(bao) = rt.block_on(DevServer::start("a_new_version_restarts_the_bot_and_undeliver_stops_it")) else {
        return;
    };
    let root = bao.client();
    rt.block_on(deliver(&root, "grid", 1, Expect::Absent));
    let host = rt.block_on(enrol(&bao, &root, "vps1", &["grid"]));
    let (seen, pids) = (host.path("seen"), host.path("pids"));
    let script = format!(
        r#"printf '%s %s\n' "$BYBIT_API_KEY" "${{BYBIT_API_SECRET:+has-secret}}" >> '{}'; echo $$ >> '{}'; exec sleep 60"#,
        seen.display(),
        pids.display()
    );
    let mut run = host.run(&bao.addr, &["grid", "--prefix", "BOT_"], &script.replace("BYBIT_", "BOT_BYBIT_"));
    host.wait("the bot to start", Duration::from_secs(20), || host.lines("seen").len() == 1);
    assert_eq!(host.lines("seen"), ["GRIDKEY0001 has-secret"], "{}", host.stderr());
    assert!(!host.secret_file.exists(), "the used enrolment file is removed");
    // Recorded once the bot runs with it.
    host.wait("the host to record its read", Duration::from_secs(5), || {
        rt.block_on(root.read_record("vps1", "grid")).unwrap().is_some()
    });
    let record = rt.block_on(root.read_record("vps1", "grid")).unwrap().unwrap();
    assert_eq!(record.version, 1);
    let lookup = |accessor: &str| {
        let body = serde_json::json!({ "accessor": accessor });
        rt.block_on(bao.admin(reqwest::Method::POST, "auth/token/lookup-accessor", Some(body))).0
    };
    assert_eq!(lookup(record.accessor.as_deref().unwrap()), 200, "the host's token lives while run runs");

    // The desktop, whose rotation waits until every running host runs the new version.
    let desk = tempfile::tempdir().unwrap();
    let store = std::sync::Arc::new(latchkey_core::store::Store::open_in(desk.path()).unwrap());
    let keychain = std::sync::Arc::new(latchkey_core::keychain::memory::MemoryStore::default());
    let vault = std::sync::Arc::new(latchkey_core::vault::Vault::new(store.clone(), keychain.clone()));
    let servers = latchkey_core::servers::Servers::new(store, vault, keychain);
    servers.configure(bao.settings(), secrecy::SecretString::from(bao.root.clone())).unwrap();
    // A rotation on the desktop: the bot restarts with the new key, the old one is gone, and
    // the rotation's wait for the hosts ends when this host recorded the move.
    rt.block_on(deliver(&root, "grid", 2, Expect::Version(1)));
    let waited = rt
        .block_on(servers.wait_hosts_moved(
            "grid",
            2,
            Duration::from_secs(10),
            Duration::from_millis(100),
            chrono::Utc::now,
        ))
        .unwrap();
    assert!(matches!(waited, latchkey_core::servers::HostsHandover::Moved { version: 2, .. }), "{waited:?}");
    host.wait("the restarted bot", Duration::from_secs(10), || host.lines("seen").len() == 2);
    assert_eq!(host.lines("seen"), ["GRIDKEY0001 has-secret", "GRIDKEY0002 has-secret"]);
    let first = host.lines("pids")[0].clone();
    assert!(!alive(&first), "the old child was stopped");
    host.wait("the host to record version 2", Duration::from_secs(5), || {
        rt.block_on(root.read_record("vps1", "grid")).unwrap().is_some_and(|r| r.version == 2)
    });
    assert!(host.stderr().contains("'grid' was rotated; restarting `sh` with the new key."), "{}", host.stderr());

    // Undeliver (an emergency revoke destroys the same way): the bot is stopped, run says why.
    assert!(rt.block_on(root.destroy_all("grid")).unwrap());
    let status = exited(&mut run, Duration::from_secs(15));
    assert_eq!(status.code(), Some(1), "{}", host.stderr());
    let err = host.stderr();
    assert!(err.contains("'grid' was removed from OpenBao") && err.contains("`sh` was stopped"), "{err}");
    assert!(!alive(&host.lines("pids")[1]), "the bot was stopped");
    // The host's token ended with the run.
    assert_ne!(lookup(record.accessor.as_deref().unwrap()), 200, "the token was revoked when run ended");
    for secret in [creds(1), creds(2)] {
        assert!(!err.contains(secret.api_secret.expose_secret()), "a secret in run's stderr");
    }
    host.no_database();

    // The same enrolment token a second time: refused, saying what it means.
    std::fs::write(&host.secret_file, &host.wrapped).unwrap();
    let mut again = host.run(&bao.addr, &["grid"], "echo should-not-run > started");
    let status = exited(&mut again, Duration::from_secs(15));
    assert_eq!(status.code(), Some(1));
    let err = host.stderr();
    assert!(
        err.contains("This enrolment token was already used: someone else may have it; run `latchkey host add` again"),
        "{err}"
    );
    assert!(!host.path("started").exists() && !host.secret_file.exists(), "nothing ran; the used file is gone");
}

#[test]
fn two_keys_follow_their_own_rotations_and_a_narrowed_policy_stops_the_bot() {
    let rt = rt();
    let test = "two_keys_follow_their_own_rotations_and_a_narrowed_policy_stops_the_bot";
    let Some(bao) = rt.block_on(DevServer::start(test)) else { return };
    let root = bao.client();
    rt.block_on(deliver(&root, "grid", 1, Expect::Absent));
    rt.block_on(deliver(&root, "dca", 11, Expect::Absent));
    let host = rt.block_on(enrol(&bao, &root, "vps3", &["grid", "dca"]));
    let seen = host.path("seen");
    let script =
        format!(r#"printf '%s %s\n' "$G_BYBIT_API_KEY" "$D_BYBIT_API_KEY" >> '{}'; exec sleep 60"#, seen.display());
    let mut run = host.run(&bao.addr, &["grid", "dca", "--prefix", "grid=G_", "--prefix", "dca=D_"], &script);
    host.wait("the bot to start", Duration::from_secs(20), || host.lines("seen").len() == 1);
    assert_eq!(host.lines("seen"), ["GRIDKEY0001 GRIDKEY0011"], "{}", host.stderr());

    // Only one key rotates: the bot restarts with the new one and the other unchanged.
    rt.block_on(deliver(&root, "dca", 12, Expect::Version(1)));
    host.wait("the restarted bot", Duration::from_secs(10), || host.lines("seen").len() == 2);
    assert_eq!(host.lines("seen")[1], "GRIDKEY0001 GRIDKEY0012");

    // The desktop takes one key from the host (as emergency revoke does when the host keeps
    // others): the bot cannot be told of that key's rotations any more, so it is stopped.
    rt.block_on(root.set_host_keys("vps3", &["grid"])).unwrap();
    let status = exited(&mut run, Duration::from_secs(15));
    assert_eq!(status.code(), Some(1), "{}", host.stderr());
    let err = host.stderr();
    assert!(err.contains("This host may no longer read 'dca'") && err.contains("`sh` was stopped"), "{err}");
    host.no_database();
}

#[test]
fn signal_mode_rewrites_the_file_and_host_remove_stops_the_bot() {
    let rt = rt();
    let Some(bao) = rt.block_on(DevServer::start("signal_mode_rewrites_the_file_and_host_remove_stops_the_bot")) else {
        return;
    };
    let root = bao.client();
    rt.block_on(deliver(&root, "ft", 1, Expect::Absent));
    let host = rt.block_on(enrol(&bao, &root, "vps2", &["ft"]));
    let dir = host.dir.path().display().to_string();
    // A Freqtrade-like bot: reads its second config at start and again on SIGUSR1 (the copies
    // appear whole, so the test never reads half of one).
    let script = format!(
        r#"echo $$ > '{dir}/pid'; cp "{{file}}" '{dir}/first.tmp'; mv '{dir}/first.tmp' '{dir}/first.json'
trap 'cp "{{file}}" "{dir}/reloaded.tmp"; mv "{dir}/reloaded.tmp" "{dir}/reloaded.json"' USR1
while true; do sleep 0.1; done"#
    );
    let mut run = host.run(&bao.addr, &["ft", "--as", "json", "--on-rotate", "signal:USR1"], &script);
    let read = |name: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(host.path(name)).unwrap()).unwrap()
    };
    host.wait("the bot to read its file", Duration::from_secs(20), || host.path("first.json").exists());
    assert_eq!(read("first.json")["api_key"], "GRIDKEY0001");
    assert_eq!(read("first.json")["exchange"], "bybit");

    rt.block_on(deliver(&root, "ft", 2, Expect::Version(1)));
    host.wait("the bot to reload", Duration::from_secs(10), || host.path("reloaded.json").exists());
    assert_eq!(read("reloaded.json")["api_key"], "GRIDKEY0002");
    let pid = std::fs::read_to_string(host.path("pid")).unwrap();
    assert!(alive(&pid), "signalled, not restarted");

    // The desktop removes the host (its role, policy and token): the bot is stopped.
    assert!(rt.block_on(root.remove_host("vps2")).unwrap());
    let status = exited(&mut run, Duration::from_secs(15));
    assert_eq!(status.code(), Some(1), "{}", host.stderr());
    let err = host.stderr();
    assert!(err.contains("OpenBao refused this host's token (it was revoked"), "the reason is given: {err}");
    assert_eq!(err.matches("refused this host's token").count(), 1, "said once: {err}");
    assert!(!alive(&pid), "the bot was stopped");
    let file = err.lines().find_map(|l| l.split("in the file ").nth(1)).map(str::to_owned);
    assert!(file.is_none() || !Path::new(&file.unwrap()).exists());
    host.no_database();
}

#[test]
fn the_bot_keeps_its_key_while_openbao_is_down() {
    let rt = rt();
    let Some(bao) = rt.block_on(DevServer::start("the_bot_keeps_its_key_while_openbao_is_down")) else { return };
    let root = bao.client();
    rt.block_on(deliver(&root, "grid", 1, Expect::Absent));
    let host = rt.block_on(enrol(&bao, &root, "vps3", &["grid"]));
    let script = format!(
        r#"trap 'exit 42' TERM; printf '%s\n' "$BYBIT_API_KEY" >> '{}'; while :; do sleep 0.1; done"#,
        host.path("seen").display()
    );
    let mut run = host.run(&bao.addr, &["grid"], &script);
    host.wait("the bot to start", Duration::from_secs(20), || host.lines("seen").len() == 1);

    // The server dies (SIGKILL, no goodbye): the bot goes on, run says so once and retries.
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(bao.pid() as i32), nix::sys::signal::Signal::SIGKILL).unwrap();
    host.wait("run to notice", Duration::from_secs(10), || host.stderr().contains("cannot be reached"));
    std::thread::sleep(Duration::from_secs(4));
    assert!(run.try_wait().unwrap().is_none(), "run goes on: {}", host.stderr());
    assert_eq!(host.lines("seen"), ["GRIDKEY0001"], "the bot was not restarted");
    let err = host.stderr();
    assert_eq!(err.matches("cannot be reached").count(), 1, "one line per change of state: {err}");
    assert!(err.contains("`sh` keeps its key; trying again"), "{err}");

    // Stopping run still passes the bot's own exit code through.
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(run.id() as i32), nix::sys::signal::Signal::SIGTERM).unwrap();
    let status = exited(&mut run, Duration::from_secs(10));
    assert_eq!(status.code(), Some(42), "{}", host.stderr());
    host.no_database();
}

/// A wrapping token that `host add` did not make: `sys/wrapping/wrap` of a made-up secret-id.
async fn foreign_token(addr: &str, root: &str) -> String {
    let reply: serde_json::Value = reqwest::Client::new()
        .post(format!("{addr}/v1/sys/wrapping/wrap"))
        .header("X-Vault-Token", root)
        .header("X-Vault-Wrap-TTL", "60s")
        .json(&serde_json::json!({ "secret_id": "theirs" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    reply["wrap_info"]["token"].as_str().expect("a wrapping token").to_owned()
}

/// Runs `latchkey run ARGS… -- true` with no key source set up; returns (exit code, stderr).
fn refused(host: &Host, args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_latchkey"))
        .arg("run")
        .args(args)
        .args(["--", "true"])
        .env("LATCHKEY_DATA_DIR", host.path("no-latchkey-data"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn bad_input_is_refused_before_the_enrolment_token_is_used() {
    let rt = rt();
    let Some(bao) = rt.block_on(DevServer::start("bad_input_is_refused_before_the_enrolment_token_is_used")) else {
        return;
    };
    let root = bao.client();
    rt.block_on(deliver(&root, "grid", 1, Expect::Absent));
    let host = rt.block_on(enrol(&bao, &root, "vps4", &["grid"]));
    let (role, secret) = (host.role_file.display().to_string(), host.secret_file.display().to_string());
    let base = ["--from", "openbao", "--addr", bao.addr.as_str()];
    let with = |extra: &[&str]| -> Vec<String> { base.iter().chain(extra).map(|s| s.to_string()).collect() };
    let cases: Vec<(Vec<String>, i32, &str)> = vec![
        (vec!["grid".into(), "--addr".into(), bao.addr.clone()], 2, "--addr is for `--from openbao`"),
        (with(&["grid", "--secret-id-file", &secret]), 2, "needs the host's role-id"),
        (with(&["grid", "--role-id-file", &role]), 2, "needs --secret-id-file FILE"),
        (
            vec![
                "grid",
                "--from",
                "openbao",
                "--addr",
                "http://10.0.0.5:8200",
                "--role-id-file",
                &role,
                "--secret-id-file",
                &secret,
            ]
            .into_iter()
            .map(str::to_owned)
            .collect(),
            2,
            "https://",
        ),
        (with(&["grid", "--role-id-file", &role, "--secret-id-file", &secret, "--poll", "0"]), 2, "from 0.2 to 3600"),
        (
            with(&["grid", "--role-id-file", &role, "--secret-id-file", &secret, "--env-name", "X=nonsense"]),
            2,
            "--env-name X=nonsense",
        ),
        (with(&["my key", "--role-id-file", &role, "--secret-id-file", &secret]), 2, "cannot be a path in OpenBao"),
        (with(&["grid", "grid", "--role-id-file", &role, "--secret-id-file", &secret]), 2, "given twice"),
        (with(&["grid", "--role-id", "", "--secret-id-file", &secret]), 2, "role-id is empty"),
        (
            with(&["grid", "--role-id-file", &role, "--secret-id-file", "/nonexistent/secret-id"]),
            1,
            "does not exist: an earlier run used and removed it",
        ),
    ];
    for (args, code, says) in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (got, err) = refused(&host, &args);
        assert_eq!(got, Some(*code), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!err.contains(&host.wrapped), "the token is never shown");
    }
    assert!(host.secret_file.exists(), "no bad input used the enrolment token");
    // A token wrapped by something else than `host add`: refused before it is unwrapped, and kept.
    let other = host.path("foreign");
    std::fs::write(&other, rt.block_on(foreign_token(&bao.addr, &bao.root))).unwrap();
    let other = other.display().to_string();
    let (code, err) = refused(
        &host,
        &with(&["grid", "--role-id-file", &role, "--secret-id-file", &other])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert_eq!(code, Some(1));
    assert!(err.contains("was not made by `latchkey host add`"), "{err}");
    assert!(Path::new(&other).exists(), "a token that was not used stays");
    let (code, err) = refused(
        &host,
        &with(&["grid", "--role-id", "wrong-role-id", "--secret-id-file", &secret])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert_eq!(code, Some(1));
    assert!(err.contains("role-id is wrong"), "{err}");
    host.no_database();
}

/// A single `bao server` with integrated (Raft) storage on disk (not -dev: its data outlives a
/// restart; OpenBao has no plain file storage), initialised
/// with one unseal key, KV v2 at `secret/` and AppRole enabled. Killed and started again by its PID.
struct FileServer {
    bin: PathBuf,
    config: PathBuf,
    dir: tempfile::TempDir,
    child: Option<Child>,
    addr: String,
    root: String,
    unseal_key: String,
}

impl Drop for FileServer {
    fn drop(&mut self) {
        self.kill();
    }
}

impl FileServer {
    fn start(test: &str) -> Option<FileServer> {
        let bin = openbao_support::bao_or_skip(test)?;
        let dir = tempfile::tempdir().unwrap();
        // The API port and the cluster port after it, both free.
        let port = loop {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let port = l.local_addr().unwrap().port();
            if port < u16::MAX && std::net::TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
                break port;
            }
        };
        let config = dir.path().join("config.hcl");
        std::fs::create_dir_all(dir.path().join("data")).unwrap();
        std::fs::write(
            &config,
            format!(
                "storage \"raft\" {{\n  path = \"{}\"\n  node_id = \"node1\"\n  performance_multiplier = 1\n}}\n\
                 listener \"tcp\" {{\n  address = \"127.0.0.1:{port}\"\n  cluster_address = \"127.0.0.1:{cport}\"\n  tls_disable = true\n}}\n\
                 api_addr = \"http://127.0.0.1:{port}\"\ncluster_addr = \"https://127.0.0.1:{cport}\"\n",
                dir.path().join("data").display(),
                cport = port + 1,
            ),
        )
        .unwrap();
        let mut server = FileServer {
            bin,
            config,
            dir,
            child: None,
            addr: format!("http://127.0.0.1:{port}"),
            root: String::new(),
            unseal_key: String::new(),
        };
        server.spawn();
        let init = server.until(
            reqwest::Method::PUT,
            "sys/init",
            Some(serde_json::json!({ "secret_shares": 1, "secret_threshold": 1 })),
            200,
        );
        server.root = init["root_token"].as_str().unwrap().to_owned();
        server.unseal_key = init["keys_base64"][0].as_str().unwrap().to_owned();
        server.unseal();
        server.until(
            reqwest::Method::POST,
            "sys/mounts/secret",
            Some(serde_json::json!({ "type": "kv", "options": { "version": "2" } })),
            204,
        );
        server.until(reqwest::Method::POST, "sys/auth/approle", Some(serde_json::json!({ "type": "approle" })), 204);
        // KV v2 upgrades its storage once after mounting: ready when a write goes through.
        server.until(
            reqwest::Method::POST,
            "secret/data/ready",
            Some(serde_json::json!({ "data": { "ready": "yes" } })),
            200,
        );
        Some(server)
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.dir.path().join("bao.log")).unwrap();
        let child = Command::new(&self.bin)
            .arg("server")
            .arg(format!("-config={}", self.config.display()))
            .env("HOME", self.dir.path())
            .env_remove("BAO_ADDR")
            .env_remove("VAULT_ADDR")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
    }

    /// SIGKILL by its PID: no goodbye.
    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn unseal(&self) {
        let key = serde_json::json!({ "key": self.unseal_key });
        self.until(reqwest::Method::PUT, "sys/unseal", Some(key), 200);
        self.until(reqwest::Method::GET, "sys/health", None, 200);
    }

    fn call(&self, method: reqwest::Method, path: &str, body: Option<serde_json::Value>) -> (u16, serde_json::Value) {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
        let mut req = http.request(method, format!("{}/v1/{path}", self.addr));
        if !self.root.is_empty() {
            req = req.header("X-Vault-Token", &self.root);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            match req.send().await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let text = resp.text().await.unwrap_or_default();
                    (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
                }
                Err(_) => (0, serde_json::Value::Null),
            }
        })
    }

    /// Repeats a call until it answers `status` (the server may still be starting).
    fn until(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
        status: u16,
    ) -> serde_json::Value {
        let start = Instant::now();
        loop {
            let (got, reply) = self.call(method.clone(), path, body.clone());
            if got == status {
                return reply;
            }
            let log = std::fs::read_to_string(self.dir.path().join("bao.log")).unwrap_or_default();
            assert!(start.elapsed() < Duration::from_secs(30), "{path}: {got} {reply}\n{log}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn client(&self) -> BaoClient {
        let settings = latchkey_core::servers::ServerSettings::new(&self.addr).unwrap();
        BaoClient::new(settings, secrecy::SecretString::from(self.root.clone())).unwrap()
    }
}

#[test]
fn run_resumes_when_openbao_is_back_and_follows_the_next_rotation() {
    let Some(mut bao) = FileServer::start("run_resumes_when_openbao_is_back_and_follows_the_next_rotation") else {
        return;
    };
    let rt = rt();
    let root = bao.client();
    rt.block_on(deliver(&root, "grid", 1, Expect::Absent));
    let host = rt.block_on(enrol_with(&root, "vps5", &["grid"]));
    let script = format!(r#"printf '%s\n' "$BYBIT_API_KEY" >> '{}'; exec sleep 60"#, host.path("seen").display());
    let mut run = host.run(&bao.addr, &["grid"], &script);
    host.wait("the bot to start", Duration::from_secs(20), || host.lines("seen").len() == 1);

    // Down, then back sealed, then unsealed: the bot keeps its key all along, run says each once.
    bao.kill();
    host.wait("run to notice", Duration::from_secs(10), || host.stderr().contains("cannot be reached"));
    bao.spawn();
    host.wait("run to see it sealed", Duration::from_secs(40), || host.stderr().contains("is sealed"));
    bao.unseal();
    host.wait("run to resume", Duration::from_secs(40), || host.stderr().contains("OpenBao answers again"));
    assert!(run.try_wait().unwrap().is_none(), "{}", host.stderr());
    assert_eq!(host.lines("seen"), ["GRIDKEY0001"], "the bot was never restarted");

    // Watching again: the next rotation reaches the bot.
    rt.block_on(deliver(&root, "grid", 2, Expect::Version(1)));
    host.wait("the restarted bot", Duration::from_secs(15), || host.lines("seen").len() == 2);
    assert_eq!(host.lines("seen"), ["GRIDKEY0001", "GRIDKEY0002"]);
    let err = host.stderr();
    for said in ["cannot be reached", "is sealed", "OpenBao answers again"] {
        assert_eq!(err.matches(said).count(), 1, "one line per change of state: {err}");
    }
    let _ = run.kill();
    let _ = run.wait();
    host.no_database();
}
