//! Crash-resume of an automatic rotation: `latchkey rotate` of a sub key whose master Latchkey
//! holds is killed with SIGKILL right after each journal write it makes (the rotation's own and
//! those of the revoke job that retires the old key), then `latchkey rotate --resume` runs in a
//! new process. Each time the end must be a clean run's: exactly one active key under the label,
//! its secret in the keychain and the key live at the exchange; the old key deleted there, proved
//! gone and wiped here; no other key Latchkey made left in the sub-account; no job unfinished.
//!
//! Debug builds only (the crash points), and ignored outside the private desktop session:
//! `scripts/desktop-session.sh cargo test -p latchkey-cli --test rotation_crash -- --include-ignored`.
#![cfg(debug_assertions)]
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use chrono::Utc;
use exchange_sim::{Seed, Sim, SimHandle};
use latchkey_core::exchange::{ClientConfig, Endpoint, ExchangeClient, MasterKey, SystemClock};
use latchkey_core::guard::{totp, Guard, GuardConfig, HashCost};
use latchkey_core::job::crash::ENV as CRASH_ENV;
use latchkey_core::keychain::{Keychain, SecretStore};
use latchkey_core::model::{Environment, Exchange, KeyId, KeyRecord, KeyStatus, Permission};
use latchkey_core::secret::Credentials;
use latchkey_core::store::Store;
use secrecy::ExposeSecret;

const MASTER: &str = "okx-master-ip-bound";
const SUB: &str = "okx-sub-bot";
const SUB_ACCOUNT: &str = "bot-sub-1";

struct World {
    dir: tempfile::TempDir,
    service: String,
    sim: SimHandle,
    totp: secrecy::SecretSlice<u8>,
    master: KeyId,
    old: KeyId,
}

impl World {
    fn new(rt: &tokio::runtime::Runtime) -> World {
        let seed = Seed::example();
        let sim = rt.block_on(Sim::start(seed.clone())).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let service = format!("latchkey-rotation-crash-{}", uuid::Uuid::new_v4().simple());
        let store = Arc::new(Store::open_in(dir.path()).unwrap());
        let keychain = Arc::new(Keychain::new(service.clone()));
        let guard = Guard::new(
            store.clone(),
            keychain.clone(),
            GuardConfig { recovery_cost: HashCost::fast_for_tests(), ..Default::default() },
        );
        let then = Utc::now() - chrono::Duration::seconds(30);
        let enrollment = guard.begin_enrollment(None, then).unwrap();
        let totp = totp::from_base32(enrollment.secret_base32.expose_secret()).unwrap();
        guard.confirm_enrollment(&totp::code_at_step(&totp, totp::step_of(then.timestamp())).unwrap(), then).unwrap();
        let mut ids = Vec::new();
        for (label, master) in [(MASTER, None), (SUB, ids.first().copied())] {
            let master: Option<KeyId> = master.or(ids.first().copied());
            let key = seed.keys.iter().find(|k| k.label == label).unwrap();
            let sub = label == SUB;
            let record = KeyRecord {
                environment: Environment::Custom { base_url: sim.base_url() },
                key_hint: format!("{}…", &key.api_key[..4]),
                permissions: vec![Permission::Read, Permission::Trade],
                ip_whitelist: vec!["127.0.0.1".to_owned()],
                master_key_id: if sub { master } else { None },
                sub_account: sub.then(|| SUB_ACCOUNT.to_owned()),
                verified_at: Some(Utc::now()),
                ..KeyRecord::sample(Exchange::Okx, label, Utc::now(), 90)
            };
            keychain
                .put(record.id, label, &Credentials::new(&key.api_key, &key.secret, key.passphrase.as_deref()))
                .unwrap();
            let event = latchkey_core::audit::Event {
                at: Utc::now(),
                action: latchkey_core::audit::Action::Add,
                key_id: Some(record.id),
                label: Some(label),
                outcome: latchkey_core::audit::Outcome::Ok,
                detail: String::new(),
            };
            store.insert_key(&record, &event).unwrap();
            ids.push(record.id);
        }
        World { dir, service, sim, totp, master: ids[0], old: ids[1] }
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_latchkey"));
        c.args(args)
            .env("LATCHKEY_DATA_DIR", self.dir.path())
            .env("LATCHKEY_KEYCHAIN_SERVICE", &self.service)
            .env_remove(CRASH_ENV)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null());
        c
    }

    fn rotate(&self) -> Command {
        let code = totp::code_at_step(&self.totp, totp::step_of(Utc::now().timestamp())).unwrap().to_string();
        self.cmd(&["rotate", SUB, "--code", &code, "--grace", "0", "--json"])
    }

    /// Runs the rotation armed at `target`, waits for it to stop there, kills it (SIGKILL).
    fn rotate_and_kill(&self, target: &str) {
        let mut child =
            self.rotate().env(CRASH_ENV, target).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
        let (tx, rx) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut all = String::new();
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.starts_with("LATCHKEY_CRASH_POINT ") {
                    let _ = tx.send(());
                }
                all += &line;
                all.push('\n');
            }
            all
        });
        let stopped = rx.recv_timeout(Duration::from_secs(60));
        child.kill().unwrap();
        let status = child.wait().unwrap();
        let all = reader.join().unwrap();
        assert!(stopped.is_ok() && status.code().is_none(), "{target}: never reached its crash point:\n{all}");
    }

    /// What the user (and the exchange) end up with.
    fn end_state(&self, rt: &tokio::runtime::Runtime) -> String {
        let store = Store::open_in(self.dir.path()).unwrap();
        let keychain = Keychain::new(self.service.clone());
        let keys = store.list_keys().unwrap();
        let active: Vec<&KeyRecord> = keys.iter().filter(|k| k.label == SUB && k.status == KeyStatus::Active).collect();
        let old = keys.iter().find(|k| k.id == self.old).unwrap();
        let old_api_key = &Seed::example().keys.into_iter().find(|k| k.label == SUB).unwrap().api_key;
        let mut out = vec![
            format!("active keys labelled {SUB}: {}", active.len()),
            format!("old key: {}, secret kept: {}", old.status.as_str(), keychain.get(old.id).unwrap().is_some()),
            format!("old key at the exchange: {}", self.sim.state().has_key(old_api_key)),
        ];
        if let [new] = active.as_slice() {
            let secret = keychain.get(new.id).unwrap();
            out.push(format!("new key replaces the old: {}", new.replaces == Some(self.old)));
            out.push(format!(
                "new key's secret kept, key live: {}",
                secret.as_ref().is_some_and(|c| self.sim.state().has_key(c.api_key.expose_secret()))
            ));
        }
        let master = store.get_key(self.master).unwrap().unwrap();
        let endpoint = Endpoint::new(master.exchange, &master.environment).unwrap();
        let credentials = keychain.get(master.id).unwrap().unwrap();
        let client = ExchangeClient::new(ClientConfig::default(), Arc::new(SystemClock)).unwrap();
        let listed =
            rt.block_on(client.list_sub_keys(MasterKey::unattended(&endpoint, &credentials), SUB_ACCOUNT)).unwrap();
        out.push(format!(
            "keys Latchkey made in the sub-account: {}",
            listed.iter().filter(|k| k.label.starts_with("lk")).count()
        ));
        let conn = rusqlite::Connection::open(self.dir.path().join(latchkey_core::paths::DB_FILE)).unwrap();
        let open: i64 =
            conn.query_row("SELECT COUNT(*) FROM jobs WHERE finished_at IS NULL", [], |r| r.get(0)).unwrap();
        out.push(format!("unfinished jobs: {open}"));
        let rotated = store
            .audit_log(200)
            .unwrap()
            .into_iter()
            .filter(|e| e.action == "rotate" && e.outcome == "ok" && e.detail.starts_with("rotated now"))
            .count();
        out.push(format!("rotation audited: {rotated}"));
        out.join("\n")
    }
}

#[test]
#[ignore = "needs a Secret Service: run scripts/test-all.sh"]
fn a_kill_at_every_journal_write_of_a_rotation_is_finished_by_resume() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let clean = World::new(&rt);
    let out = clean.rotate().output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let want = clean.end_state(&rt);
    assert_eq!(
        want,
        [
            "active keys labelled okx-sub-bot: 1",
            "old key: revoked, secret kept: false",
            "old key at the exchange: false",
            "new key replaces the old: true",
            "new key's secret kept, key live: true",
            "keys Latchkey made in the sub-account: 1",
            "unfinished jobs: 0",
            "rotation audited: 1",
        ]
        .join("\n")
    );

    let traced = World::new(&rt);
    let out = traced.rotate().env(CRASH_ENV, "trace").output().unwrap();
    assert_eq!(traced.end_state(&rt), want, "tracing changes nothing");
    // Each point a rotation passes, named so that the n-th passing is the one killed.
    let mut seen = std::collections::HashMap::new();
    let targets: Vec<String> = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter_map(|l| l.strip_prefix("LATCHKEY_CRASH_TRACE "))
        .map(|l| {
            let point = l.split(' ').next().unwrap().to_owned();
            let n = seen.entry(point.clone()).and_modify(|n| *n += 1).or_insert(1);
            format!("{point}#{n}")
        })
        .collect();
    for point in [
        "creating",
        "create_answered",
        "created",
        "verified",
        "stored",
        "handed_over",
        "retiring",
        "rotated",
        "remote_started",
        "wiping",
        "done",
    ] {
        assert!(
            targets.iter().any(|t| t.starts_with(&format!("{point}#"))),
            "the rotation passes {point}: {targets:?}"
        );
    }

    for target in &targets {
        let world = World::new(&rt);
        world.rotate_and_kill(target);
        let out = world.cmd(&["rotate", "--resume", "--json"]).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.code().is_some_and(|c| c <= 1), "{target}: the resume failed: {err}");
        assert_eq!(
            world.end_state(&rt),
            want,
            "{target}: the end state after the resume differs from a clean run's\n{err}"
        );
    }
    eprintln!("killed and resumed at {} journal writes: {}", targets.len(), targets.join(", "));
}
