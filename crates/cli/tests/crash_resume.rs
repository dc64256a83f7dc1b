//! Crash-resume: `latchkey revoke --all` is killed with SIGKILL right after each journal write of a
//! revoke (every crash point, for every key that passes it), then `latchkey revoke --resume` runs in
//! a new process. Each time, the end state must be the one a clean run reaches: the same keys gone
//! at the exchange (exchange-sim) and from the keychain (the real Secret Service), the same statuses,
//! the same report and checklist, the same audit entries (none twice, none missing, chain intact),
//! and the job finished. While killed, the journal must never show a secret wiped before its remote
//! result was recorded.
//!
//! The crash points exist in debug builds only (`latchkey_core::job::crash`), so this file too.
//! Ignored outside the private desktop session like the other keychain tests:
//! `scripts/desktop-session.sh cargo test -p latchkey-cli --test crash_resume -- --include-ignored`.
#![cfg(debug_assertions)]
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use chrono::Utc;
use exchange_sim::{Seed, Sim, SimHandle, SimKey};
use latchkey_core::exchange::{ClientConfig, ExchangeClient, SystemClock};
use latchkey_core::guard::{totp, Guard, GuardConfig, HashCost};
use latchkey_core::job::crash::{Point, ENV as CRASH_ENV};
use latchkey_core::keychain::{Keychain, SecretStore};
use latchkey_core::model::{Environment, Exchange, KeyId, KeyRecord};
use latchkey_core::revoke::{RevokeConfig, RevokeEngine};
use latchkey_core::secret::Credentials;
use latchkey_core::store::Store;
use secrecy::ExposeSecret;
use serde_json::Value;

/// A Bybit master key that has expired: the sub key it should revoke fails (401), is quarantined,
/// and the master is held back for the retry. Not in the example seed: added to the simulator here.
const EXPIRED_MASTER: &str = "bybit-master-expired";

/// The mixed plan: (seed label, master label, sub-account name).
const PLAN: [(&str, Option<&str>, Option<&str>); 7] = [
    // OKX sub key revoked through its master; the master itself has no API revoke (local only).
    ("okx-sub-bot", Some("okx-master-ip-bound"), Some("bot-sub-1")),
    ("okx-master-ip-bound", None, None),
    // Bybit master key that deletes itself.
    ("bybit-master-wallet", None, None),
    // Binance sub key through its master; the master is local only.
    ("binance-sub-withdraw", Some("binance-master"), Some("bot-sub-1@example.com")),
    ("binance-master", None, None),
    // The remote revoke fails for good: quarantined, and its master held back (quarantined too).
    ("bybit-sub-trade", Some(EXPIRED_MASTER), None),
    (EXPIRED_MASTER, None, None),
];

fn seed() -> Seed {
    let mut seed = Seed::example();
    let mut expired = seed.keys.iter().find(|k| k.label == "bybit-master-wallet").unwrap().clone();
    expired.label = EXPIRED_MASTER.to_owned();
    expired.api_key = "XpIrEdMaStEr0000Latchkey".to_owned();
    expired.secret = "ExpiredMasterSecretNotForUse00000000Latch".to_owned();
    expired.expires_at = Some(Utc::now() - chrono::Duration::days(2));
    expired.expires_in_days = None;
    seed.keys.push(expired);
    seed
}

fn sim_key(seed: &Seed, label: &str) -> SimKey {
    seed.keys.iter().find(|k| k.label == label).unwrap().clone()
}

/// A fresh world: data dir, keychain namespace, simulator, 2FA enrolled, the plan's keys added.
struct World {
    dir: tempfile::TempDir,
    service: String,
    sim: SimHandle,
    seed: Seed,
    totp: secrecy::SecretSlice<u8>,
    /// label → id
    ids: BTreeMap<String, KeyId>,
}

impl World {
    fn new(rt: &tokio::runtime::Runtime) -> World {
        let seed = seed();
        let sim = rt.block_on(Sim::start(seed.clone())).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let service = format!("latchkey-crash-test-{}", uuid::Uuid::new_v4().simple());
        let store = Arc::new(Store::open_in(dir.path()).unwrap());
        let keychain = Arc::new(Keychain::new(service.clone()));

        // 2FA, confirmed one step back so the CLI's code (this step) is not a replay.
        let guard = Guard::new(
            store.clone(),
            keychain.clone(),
            GuardConfig { recovery_cost: HashCost::fast_for_tests(), ..Default::default() },
        );
        let then = Utc::now() - chrono::Duration::seconds(30);
        let enrollment = guard.begin_enrollment(None, then).unwrap();
        let totp = totp::from_base32(enrollment.secret_base32.expose_secret()).unwrap();
        let first = totp::code_at_step(&totp, totp::step_of(then.timestamp())).unwrap();
        guard.confirm_enrollment(&first, then).unwrap();

        let mut ids = BTreeMap::new();
        for (label, master, sub_account) in PLAN.iter().rev() {
            let key = sim_key(&seed, label);
            let exchange = key.exchange.id().parse::<Exchange>().unwrap();
            let record = KeyRecord {
                environment: Environment::Custom { base_url: sim.base_url() },
                key_hint: format!("{}…{}", &key.api_key[..4], &key.api_key[key.api_key.len() - 4..]),
                permissions: serde_json::from_value(serde_json::to_value(&key.permissions).unwrap()).unwrap(),
                master_key_id: master.map(|m| ids[m]),
                sub_account: sub_account.map(str::to_owned),
                // As the wizard saves a key: checked with the exchange from this computer.
                verified_at: Some(Utc::now()),
                ..KeyRecord::sample(exchange, label, Utc::now(), 90)
            };
            let creds = Credentials::new(&key.api_key, &key.secret, key.passphrase.as_deref());
            keychain.put(record.id, label, &creds).unwrap();
            let event = latchkey_core::audit::Event {
                at: Utc::now(),
                action: latchkey_core::audit::Action::Add,
                key_id: Some(record.id),
                label: Some(label),
                outcome: latchkey_core::audit::Outcome::Ok,
                detail: String::new(),
            };
            store.insert_key(&record, &event).unwrap();
            ids.insert((*label).to_owned(), record.id);
        }
        World { dir, service, sim, seed, totp, ids }
    }

    fn label_of(&self, id: &str) -> String {
        self.ids.iter().find(|(_, k)| k.to_string() == id).map_or_else(|| id.to_owned(), |(l, _)| l.clone())
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

    fn code(&self) -> String {
        totp::code_at_step(&self.totp, totp::step_of(Utc::now().timestamp())).unwrap().to_string()
    }

    /// Every value a leak check looks for.
    fn secrets(&self) -> Vec<String> {
        let mut all = Vec::new();
        for (label, ..) in PLAN {
            let k = sim_key(&self.seed, label);
            all.push(k.api_key);
            all.push(k.secret);
            all.extend(k.passphrase);
        }
        all
    }

    fn assert_no_secret(&self, what: &str, text: &str) {
        for s in self.secrets() {
            assert!(!text.contains(&s), "a secret appeared in {what}");
        }
    }

    /// `latchkey revoke --all` to the end (optionally with crash points traced); returns stderr.
    fn revoke_all(&self, crash: Option<&str>) -> (std::process::Output, String) {
        let code = self.code();
        let mut cmd = self.cmd(&["revoke", "--all", "--code", &code, "--json"]);
        if let Some(c) = crash {
            cmd.env(CRASH_ENV, c);
        }
        let out = cmd.output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        self.assert_no_secret("the revoke's output", &format!("{}{err}", String::from_utf8_lossy(&out.stdout)));
        (out, err)
    }

    /// Starts the revoke armed at `target`, waits for it to stop there, and kills it (SIGKILL).
    /// Returns the crash line.
    fn revoke_and_kill(&self, target: &str) -> String {
        let code = self.code();
        let mut child = KillOnDrop(
            self.cmd(&["revoke", "--all", "--code", &code, "--json"])
                .env(CRASH_ENV, target)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        );
        let (tx, rx) = mpsc::channel();
        let stderr = child.0.stderr.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut all = String::new();
            for line in BufReader::new(stderr).lines() {
                let line = line.unwrap_or_default();
                if line.starts_with("LATCHKEY_CRASH_POINT ") {
                    let _ = tx.send(line.clone());
                }
                all += &line;
                all.push('\n');
            }
            all
        });
        let line = rx.recv_timeout(Duration::from_secs(30));
        if line.is_ok() && target == "job_created" {
            // Stopped, not dead: its job looks unfinished, yet no other process may resume it.
            let out = self.cmd(&["revoke", "--resume", "--json"]).output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{target}: a running job was resumed by another process: {err}");
            assert!(err.contains("already running"), "{target}: {err}");
        }
        // SIGKILL, whatever happened: nothing runs after the journal write.
        child.0.kill().unwrap();
        let status = child.0.wait().unwrap();
        let all = reader.join().unwrap();
        self.assert_no_secret("the killed revoke's stderr", &all);
        let line = line.unwrap_or_else(|_| panic!("{target}: the revoke never reached its crash point:\n{all}"));
        assert!(status.code().is_none(), "{target}: the revoke was killed, not finished: {status:?}\n{all}");
        line
    }

    /// `latchkey revoke --resume --json` after the crash.
    fn resume(&self) -> (Option<i32>, Value) {
        let out = self.cmd(&["revoke", "--resume", "--json"]).output().unwrap();
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        self.assert_no_secret("the resume's output", &format!("{stdout}{stderr}"));
        let json = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("resume printed no JSON ({e}): {stderr}"));
        (out.status.code(), json)
    }

    /// The journal as it stands (read straight from SQLite): label → (state, outcome recorded).
    fn journal(&self) -> BTreeMap<String, (String, bool)> {
        let conn = rusqlite::Connection::open(self.dir.path().join(latchkey_core::paths::DB_FILE)).unwrap();
        let mut stmt = conn.prepare("SELECT key_id, state, data IS NOT NULL FROM job_steps").unwrap();
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, bool>(2)?)))
            .unwrap()
            .map(Result::unwrap);
        rows.map(|(id, state, outcome)| (self.label_of(&id), (state, outcome))).collect()
    }

    fn secret_kept(&self, keychain: &Keychain, label: &str) -> bool {
        keychain.get(self.ids[label]).unwrap().is_some()
    }

    /// While the process is dead: nothing wiped or revoked ahead of its journal entry.
    fn check_killed_state(&self, at: &str, deleted: Option<&str>) {
        let journal = self.journal();
        let keychain = Keychain::new(self.service.clone());
        let sim = self.sim.state();
        for (label, ..) in PLAN.into_iter().filter(|(l, ..)| Some(*l) != deleted) {
            let (state, outcome) = journal.get(label).cloned().unwrap_or(("none".into(), false));
            if !self.secret_kept(&keychain, label) {
                assert!(
                    matches!(state.as_str(), "wiping" | "done") && outcome,
                    "{at}: {label}'s secret is gone but the journal says {state} (outcome recorded: {outcome})"
                );
            }
            if !sim.has_key(&sim_key(&self.seed, label).api_key) {
                assert!(
                    !matches!(state.as_str(), "none" | "planned"),
                    "{at}: {label} is gone at the exchange but the journal says {state}"
                );
            }
        }
    }

    /// Everything the user (and an auditor) can see once the revoke is over.
    fn end_state(&self) -> EndState {
        let store = Arc::new(Store::open_in(self.dir.path()).unwrap());
        let keychain = Arc::new(Keychain::new(self.service.clone()));
        let sim = self.sim.state();
        let mut keys = BTreeMap::new();
        for record in store.list_keys().unwrap() {
            let api_key = sim_key(&self.seed, &record.label).api_key;
            let kept = self.secret_kept(&keychain, &record.label);
            keys.insert(record.label.clone(), (record.status.as_str().to_owned(), kept, sim.has_key(&api_key)));
        }
        let guard = Arc::new(Guard::new(store.clone(), keychain.clone(), GuardConfig::default()));
        let client = Arc::new(ExchangeClient::new(ClientConfig::default(), Arc::new(SystemClock)).unwrap());
        let engine =
            RevokeEngine::new(store.clone(), keychain, guard, client, Arc::new(SystemClock), RevokeConfig::default());
        let unfinished_jobs = engine.unfinished().unwrap().len();
        let report = engine.last_report().unwrap().map(|r| {
            assert!(r.finished_at.is_some(), "the job is marked finished");
            self.normalize(serde_json::to_value(&r).unwrap())
        });
        let audit: Vec<String> = store
            .audit_log(1000)
            .unwrap()
            .into_iter()
            .rev()
            .map(|e| format!("{} {} {} {}", e.action, e.label.unwrap_or_default(), e.outcome, e.detail))
            .collect();
        let mut audit_sorted = audit.clone();
        audit_sorted.sort();
        let chain = store.verify_audit_chain().unwrap();
        let jobs: i64 = rusqlite::Connection::open(self.dir.path().join(latchkey_core::paths::DB_FILE))
            .unwrap()
            .query_row("SELECT COUNT(*) FROM jobs", [], |r| r.get(0))
            .unwrap();
        EndState { keys, report, audit: audit_sorted, chain_intact: chain.intact, jobs, unfinished_jobs }
    }

    /// Ids and times differ between worlds: key ids become labels; job id and times go.
    fn normalize(&self, mut report: Value) -> Value {
        let obj = report.as_object_mut().unwrap();
        for field in ["jobId", "startedAt", "finishedAt"] {
            obj.remove(field);
        }
        for key in obj["keys"].as_array_mut().unwrap() {
            let id = key["keyId"].as_str().unwrap().to_owned();
            key["keyId"] = Value::String(self.label_of(&id));
            // The proof's time differs between worlds; that there is one does not.
            if let Some(at) = key.as_object_mut().unwrap().remove("provedAt") {
                key["proved"] = Value::Bool(at.is_string());
            }
        }
        // Per-key order follows the journal's rows; sort by label so worlds compare.
        obj["keys"].as_array_mut().unwrap().sort_by_key(|k| k["keyId"].as_str().unwrap().to_owned());
        report
    }
}

/// A stopped revoke blocks forever: kill it (SIGKILL) even when an assertion fails first.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[derive(Clone, Debug, PartialEq)]
struct EndState {
    /// label → (status, secret still in the keychain, key still live at the exchange)
    keys: BTreeMap<String, (String, bool, bool)>,
    report: Option<Value>,
    /// "action label outcome detail", sorted (parallel keys write in any order).
    audit: Vec<String>,
    chain_intact: bool,
    jobs: i64,
    unfinished_jobs: usize,
}

#[test]
#[ignore = "needs a Secret Service: run scripts/test-all.sh"]
fn a_kill_at_every_journal_write_is_finished_by_resume() {
    let started = Instant::now();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();

    // The reference: a clean run, no crash points armed.
    let clean_world = World::new(&rt);
    let (out, err) = clean_world.revoke_all(None);
    assert_eq!(out.status.code(), Some(1), "two keys end quarantined: exit 1\n{err}");
    let clean = clean_world.end_state();
    check_clean(&clean);

    // The same run tracing its crash points: the list to kill at, and the same end state.
    let trace_world = World::new(&rt);
    let (out, err) = trace_world.revoke_all(Some("trace"));
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(trace_world.end_state(), clean, "tracing changes nothing");
    let points: Vec<(String, Option<String>)> = err
        .lines()
        .filter_map(|l| l.strip_prefix("LATCHKEY_CRASH_TRACE "))
        .map(|l| {
            let (point, key) = l.split_once(' ').unwrap();
            (point.to_owned(), (key != "-").then(|| trace_world.label_of(key)))
        })
        .collect();
    let names: BTreeSet<&str> = points.iter().map(|(p, _)| p.as_str()).collect();
    let expected: BTreeSet<&str> = Point::REVOKE.iter().filter(|p| **p != Point::Skipped).map(|p| p.as_str()).collect();
    assert_eq!(names, expected, "the plan passes every crash point but `skipped` (covered below)");

    let mut table = vec![("crash point".to_owned(), "key".to_owned(), "journal when killed".to_owned(), String::new())];
    for (point, label) in &points {
        let world = World::new(&rt);
        let target = match label {
            Some(l) => format!("{point}@{}", world.ids[l]),
            None => point.clone(),
        };
        let at = format!("{point} {}", label.as_deref().unwrap_or("-"));
        let line = world.revoke_and_kill(&target);
        assert!(line.starts_with(&format!("LATCHKEY_CRASH_POINT {point} ")), "{line}");
        world.check_killed_state(&at, None);
        let killed = label.as_ref().map_or_else(String::new, |l| {
            let (state, _) = world.journal().get(l).cloned().unwrap_or_default();
            state
        });

        let (code, reports) = world.resume();
        let resumed = reports.as_array().unwrap().len();
        if point == "job_finished" {
            assert_eq!((code, resumed), (Some(0), 0), "{at}: the job was finished already");
        } else {
            assert_eq!((code, resumed), (Some(1), 1), "{at}: one job finished, two keys quarantined: {reports}");
        }
        let end = world.end_state();
        let want = expected_after(point, label.as_deref(), &clean);
        if point != "job_finished" {
            let report = world.normalize(reports[0].clone());
            assert_eq!(Some(&report), want.report.as_ref(), "{at}: the resume's own report");
        }
        assert_eq!(end, want, "{at}: the end state after the resume differs from a clean run's");
        assert_one_outcome_per_key(&at, &end);
        let (code, again) = world.resume();
        assert_eq!((code, again.as_array().unwrap().len()), (Some(0), 0), "{at}: nothing left to resume");
        let outcome = if want == clean {
            "resumed ok: as a clean run".to_owned()
        } else {
            let key = label.as_deref().unwrap_or_default();
            let got = end.report.as_ref().unwrap()["keys"].as_array().unwrap().iter().find(|k| k["keyId"] == key);
            let result = got.map_or("?", |k| k["result"].as_str().unwrap_or("?"));
            format!("resumed ok: {result}, proved (the exchange had deleted it before the kill)")
        };
        table.push((point.clone(), label.clone().unwrap_or_else(|| "-".into()), killed, outcome));
    }

    // `skipped`: a key deleted while its revoke was interrupted. Killed at job_created, the key is
    // deleted (as the app's delete does), the resume is itself killed at `skipped`, and a second
    // resume finishes.
    let world = World::new(&rt);
    world.revoke_and_kill("job_created");
    let gone = "bybit-master-wallet";
    {
        let store = Arc::new(Store::open_in(world.dir.path()).unwrap());
        let vault = latchkey_core::vault::Vault::new(store, Arc::new(Keychain::new(world.service.clone())));
        vault.delete(world.ids[gone], Utc::now()).unwrap();
    }
    let mut child = KillOnDrop(
        world
            .cmd(&["revoke", "--resume", "--json"])
            .env(CRASH_ENV, format!("skipped@{}", world.ids[gone]))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    let mut stderr = BufReader::new(child.0.stderr.take().unwrap());
    while !line.starts_with("LATCHKEY_CRASH_POINT") {
        line.clear();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "the resume never reached `skipped`");
    }
    drop(child);
    world.check_killed_state("skipped", Some(gone));
    assert_eq!(world.journal()[gone].0, "done", "killed right after the skip was written");
    let (_, reports) = world.resume();
    assert_eq!(reports.as_array().unwrap().len(), 1);
    let rows = reports[0]["keys"].as_array().unwrap();
    assert!(rows.iter().all(|k| k["result"] != "pending" && k["keyId"] != world.ids[gone].to_string()), "{rows:?}");
    let end = world.end_state();
    let mut want = clean.keys.clone();
    want.remove(gone);
    assert_eq!(end.keys, want, "skipped: the other keys end as in a clean run");
    assert!(end.chain_intact && end.unfinished_jobs == 0 && end.jobs == 1, "{end:?}");
    let report = end.report.unwrap();
    let others: Vec<&Value> = report["keys"].as_array().unwrap().iter().collect();
    let clean_others: Vec<&Value> =
        clean.report.as_ref().unwrap()["keys"].as_array().unwrap().iter().filter(|k| k["keyId"] != gone).collect();
    assert_eq!(others, clean_others, "skipped: the report of the other keys");
    table.push((
        "skipped".into(),
        gone.into(),
        "done (key deleted)".into(),
        "resumed ok: killed at job_created, key deleted, resume killed at skipped, resumed again".into(),
    ));

    let elapsed = started.elapsed();
    let mut text = String::from("\ncrash-resume: kill -9 after each journal write, then `latchkey revoke --resume`\n");
    for (point, key, killed, outcome) in &table {
        text += &format!("  {point:<15} {key:<22} {killed:<20} {outcome}\n");
    }
    let kills = table.len() - 1;
    let points = table.iter().skip(1).map(|row| row.0.as_str()).collect::<BTreeSet<_>>().len();
    text += &format!(
        "  {kills} kills at {points} crash points (every point, for every key that passes it): {kills} resumed ok, in {:.1} s\n",
        elapsed.as_secs_f64()
    );
    // Straight to the terminal: the test harness would capture print!.
    std::io::stderr().write_all(text.as_bytes()).unwrap();
}

/// The end state a kill at `point` must lead to: a clean run's, except after `remote_answered`,
/// where the exchange had revoked the key but the answer was lost: the resume asks again, is
/// refused, and the key's own signed call proves it gone ("already revoked", a different report
/// line and audit detail). Binance too: before proofs, its undocumented refusal left the sub key
/// quarantined as "may already be deleted" and its master held back.
fn expected_after(point: &str, label: Option<&str>, clean: &EndState) -> EndState {
    let mut want = clean.clone();
    let Some(label) = label.filter(|_| point == "remote_answered") else { return want };
    let report = want.report.as_mut().unwrap();
    let keys = report["keys"].as_array_mut().unwrap();
    let key = keys.iter_mut().find(|k| k["keyId"] == label).unwrap();
    if key["result"] != "revoked" {
        return want; // manual keys: nothing was sent, the resume decides the same way
    }
    key["result"] = Value::String("alreadyRevoked".into());
    key.as_object_mut().unwrap().remove("method");
    let audit_at = |audit: &[String], prefix: &str| audit.iter().position(|e| e.starts_with(prefix)).unwrap();
    let i = audit_at(&want.audit, &format!("revoke {label} ok revoked on "));
    let name = want.audit[i].split(' ').nth(5).unwrap().to_owned();
    want.audit[i] = format!("revoke {label} ok proved gone on {name} by its own signed call; secret wiped");
    want.audit.sort();
    want
}

/// Each key of the plan has exactly one final audit entry: none lost, none written twice.
fn assert_one_outcome_per_key(at: &str, end: &EndState) {
    for (label, ..) in PLAN {
        let finals = end
            .audit
            .iter()
            .filter(|e| ["revoke", "wipe", "quarantine"].iter().any(|a| e.starts_with(&format!("{a} {label} "))))
            .count();
        assert_eq!(finals, 1, "{at}: {label} has {finals} final audit entries: {:?}", end.audit);
    }
}

/// What a clean run of the plan does (so the comparisons above compare against the right thing).
fn check_clean(clean: &EndState) {
    let key = |label: &str| clean.keys[label].clone();
    let revoked = ("revoked".to_owned(), false, false);
    assert_eq!(key("okx-sub-bot"), revoked, "revoked through its master");
    assert_eq!(key("bybit-master-wallet"), revoked, "deleted itself");
    assert_eq!(key("binance-sub-withdraw"), revoked, "revoked through its master");
    let still_live = ("still_live".to_owned(), true, true);
    assert_eq!(key("okx-master-ip-bound"), still_live, "no API revoke: blocked, kept, listed in the checklist");
    assert_eq!(key("binance-master"), still_live, "no API revoke");
    let quarantined = ("quarantined".to_owned(), true, true);
    assert_eq!(key("bybit-sub-trade"), quarantined, "its master has expired: secret kept");
    assert_eq!(key(EXPIRED_MASTER), quarantined, "held back for the sub key's retry");
    let report = clean.report.as_ref().unwrap();
    let results: BTreeMap<&str, &str> = report["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["keyId"].as_str().unwrap(), k["result"].as_str().unwrap()))
        .collect();
    assert_eq!(results["okx-master-ip-bound"], "manual");
    assert_eq!(results["bybit-sub-trade"], "quarantined");
    let kinds: Vec<&str> = report["keys"].as_array().unwrap().iter().filter_map(|k| k["kind"].as_str()).collect();
    assert!(kinds.contains(&"held_for_retry"), "{kinds:?}");
    assert!(report["checklist"].as_array().unwrap().len() >= 5, "{report}");
    assert!(clean.chain_intact && clean.jobs == 1 && clean.unfinished_jobs == 0);
    let proved = report["keys"].as_array().unwrap().iter().filter(|k| k["proved"] == true).count();
    assert_eq!(proved, 3, "every revoked key has its proof's time: {report}");
    for action in ["revoke", "quarantine", "guard_verify"] {
        assert!(clean.audit.iter().any(|e| e.starts_with(&format!("{action} "))), "{action}: {:?}", clean.audit);
    }
}
