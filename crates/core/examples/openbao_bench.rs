//! 200 keys delivered to 10 hosts through a real OpenBao (`bao server -dev`, LATCHKEY_BAO_BIN),
//! each figure beside its round-trip bound from the same run (issue 15, "Benchmarks"):
//!
//! - deliver: `Servers::deliver_many` (one connection, 8 writes in flight) and, as the baseline,
//!   the same keys one `deliver` after another; the bound is the requests a delivery sends ×
//!   the median round trip of one KV write, measured first;
//! - hosts: `Servers::add_host` for 10 hosts that may each read all 200 keys;
//! - reads: the 10 hosts signed in, each reading its 200 keys and recording each read (what
//!   `latchkey run --from openbao` does at start), the hosts side by side.
//!
//! The in-memory keychain and a temporary SQLite store: the figures are round trips, not the
//! keychain. `bench/openbao.sh [KEYS] [HOSTS]` (default 200 and 10).

// The tests' dev-server harness (start, stop by PID), shared rather than copied.
#[path = "../tests/integration/openbao_support/mod.rs"]
#[allow(clippy::unwrap_used)]
mod openbao_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use latchkey_core::keychain::memory::MemoryStore;
use latchkey_core::model::{Environment, Exchange, KeyId};
use latchkey_core::secret::Credentials;
use latchkey_core::servers::kv::{fingerprint, DeliveryMeta};
use latchkey_core::servers::{BaoClient, Expect, ReadRecord, Servers};
use latchkey_core::store::Store;
use latchkey_core::vault::{NewKey, Vault};
use secrecy::SecretString;

type BoxError = Box<dyn std::error::Error>;

fn creds(n: usize) -> Credentials {
    Credentials::new(
        &format!("9f2c1d7e-5b3a-4c8e-a1f0-7d6e5c{n:06}"),
        &format!("{n:06}A1B2C3D4E5F60718293A4B5C6D"),
        Some(&format!("Pass-phrase-{n}")),
    )
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn median(mut d: Vec<Duration>) -> Duration {
    d.sort();
    d[d.len() / 2]
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let keys: usize = std::env::args().nth(1).map(|a| a.parse()).transpose()?.unwrap_or(200);
    let hosts: usize = std::env::args().nth(2).map(|a| a.parse()).transpose()?.unwrap_or(10);
    let bao = openbao_support::DevServer::start("openbao_bench").await.ok_or("set LATCHKEY_BAO_BIN")?;
    bao.admin(reqwest::Method::POST, "sys/auth/approle", Some(serde_json::json!({ "type": "approle" }))).await;

    let dir = tempfile::tempdir()?;
    let store = Arc::new(Store::open_in(dir.path())?);
    let keychain = Arc::new(MemoryStore::default());
    let vault = Arc::new(Vault::new(store.clone(), keychain.clone()));
    let servers = Servers::new(store.clone(), vault.clone(), keychain.clone());
    servers.configure(bao.settings(), SecretString::from(bao.root.clone()))?;
    let mut ids: Vec<KeyId> = Vec::new();
    for n in 0..keys {
        let new = NewKey {
            exchange: Exchange::Okx,
            label: format!("bot-{n:04}"),
            environment: Environment::Live,
            credentials: creds(n),
            rotation_days: Some(90),
        };
        ids.push(vault.insert(vault.validate(new)?, None, Utc::now())?.id);
    }

    // One KV write's round trip, and how many requests a delivery sends (a fresh path, as here).
    let probe = bao.client();
    let mut writes = Vec::new();
    for n in 0..30 {
        let c = creds(100_000 + n);
        let meta = DeliveryMeta {
            exchange: "okx".into(),
            key_hint: "probe".into(),
            rotate_after: None,
            ip_whitelist: vec![],
            fingerprint: fingerprint(&c),
            place: None,
        };
        let before = probe.requests_sent();
        let t = Instant::now();
        probe.deliver(&format!("probe-{n}"), &c, &meta, Expect::Absent).await?;
        writes.push((t.elapsed(), probe.requests_sent() - before));
    }
    let per_key = writes[0].1;
    let rtt = median(writes.iter().map(|(d, r)| *d / (*r as u32)).collect());

    // The local part of a delivery, without the network: the records map written back and one
    // audit entry (two SQLite commits), for the same number of keys.
    let t = Instant::now();
    for (n, id) in ids.iter().enumerate() {
        let mut map: std::collections::BTreeMap<String, String> = store.setting("bench-records")?.unwrap_or_default();
        map.insert(format!("bot-{n:04}"), "x".repeat(120));
        store.set_setting("bench-records", &map)?;
        let event = latchkey_core::audit::Event {
            at: Utc::now(),
            action: latchkey_core::audit::Action::Deliver,
            key_id: Some(*id),
            label: Some("bench"),
            outcome: latchkey_core::audit::Outcome::Ok,
            detail: "bench".into(),
        };
        store.record(&event)?;
    }
    let local = t.elapsed();

    let proof = openbao_support::proof(&store, &keychain);
    let (half, rest) = ids.split_at(keys / 2);
    let t = Instant::now();
    for id in half {
        servers.deliver(&proof, *id, Utc::now()).await?;
    }
    let one_by_one = t.elapsed() * 2;
    let t = Instant::now();
    for r in servers.deliver_many(&proof, rest, Utc::now()).await? {
        r?;
    }
    let parallel = t.elapsed() * 2;
    let bound = rtt * (per_key as u32) * (keys as u32);

    let t = Instant::now();
    let mut enrolments = Vec::new();
    for h in 0..hosts {
        enrolments.push(
            servers.add_host(openbao_support::proof(&store, &keychain), &format!("vps-{h}"), &ids, Utc::now()).await?,
        );
    }
    let add_hosts = t.elapsed();

    let t = Instant::now();
    let labels: Arc<Vec<String>> = Arc::new((0..keys).map(|n| format!("bot-{n:04}")).collect());
    let mut tasks = Vec::new();
    for e in enrolments {
        let (settings, labels) = (bao.settings(), labels.clone());
        tasks.push(tokio::spawn(async move {
            let host = BaoClient::host_sign_in(settings, &e.role_id, e.wrapped_secret_id).await?;
            let me = host.host_identity().await?;
            for label in labels.iter() {
                let got = host.read_version(label, None).await?;
                let now = Utc::now();
                let record = ReadRecord { version: got.version, read_at: now, seen_at: now, accessor: None };
                host.record_read(&me.host, label, &record).await?;
            }
            // The reads once more without the records: what the host's policy costs by itself.
            let t = Instant::now();
            for label in labels.iter() {
                host.read_version(label, None).await?;
            }
            Ok::<(u64, Duration), latchkey_core::servers::ServerError>((host.requests_sent(), t.elapsed()))
        }));
    }
    let (mut host_requests, mut reads_only) = (0, Duration::ZERO);
    for task in tasks {
        let (sent, only) = task.await??;
        host_requests += sent - keys as u64;
        reads_only = reads_only.max(only);
    }
    let reads = t.elapsed() - reads_only;

    // Baseline: the same reads side by side with the root token (no policy to check, no record
    // written), to tell the server's own throughput from what the hosts' policies add.
    let t = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..hosts {
        let (root, labels) = (bao.client(), labels.clone());
        tasks.push(tokio::spawn(async move {
            for label in labels.iter() {
                root.read_version(label, None).await?;
            }
            Ok::<u64, latchkey_core::servers::ServerError>(root.requests_sent())
        }));
    }
    let mut root_requests = 0;
    for task in tasks {
        root_requests += task.await??;
    }
    let root_reads = t.elapsed();

    // And with a non-root token whose policy is one glob line: the token lookup without the
    // hosts' long policies.
    let glob =
        bao.token_with_policy("bench-glob", "path \"secret/data/latchkey/*\" { capabilities = [\"read\"] }\n").await;
    let t = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..hosts {
        let (reader, labels) = (bao.client_with(bao.settings(), &glob), labels.clone());
        tasks.push(tokio::spawn(async move {
            for label in labels.iter() {
                reader.read_version(label, None).await?;
            }
            Ok::<(), latchkey_core::servers::ServerError>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let glob_reads = t.elapsed();

    let version = bao.client().test_connection().await?.server_version;
    println!("OpenBao {version} (dev server, in memory), {keys} keys, {hosts} hosts");
    println!("one KV write round trip (median of 30): {:.2} ms; a delivery sends {per_key} requests", secs(rtt) * 1e3);
    println!(
        "deliver {keys} keys one by one:      {:.2} s  (bound {keys} × {per_key} round trips = {:.2} s: {:.2}×)",
        secs(one_by_one),
        secs(bound),
        secs(one_by_one) / secs(bound)
    );
    println!(
        "deliver {keys} keys, 8 in flight:    {:.2} s  ({:.2}× the one-by-one bound)",
        secs(parallel),
        secs(parallel) / secs(bound)
    );
    println!(
        "the local part alone ({keys} × records written back + audit entry): {:.2} s; bound + local = {:.2} s",
        secs(local),
        secs(bound + local)
    );
    println!("add {hosts} hosts that read {keys} keys each: {:.2} s", secs(add_hosts));
    println!(
        "{hosts} hosts read and record {keys} keys each, side by side: {:.2} s  ({host_requests} requests; one host's chain {} × {:.2} ms = {:.2} s)",
        secs(reads),
        host_requests / hosts as u64,
        secs(rtt) * 1e3,
        secs(rtt) * (host_requests / hosts as u64) as f64
    );
    println!("the same reads by the hosts again, without records: the slowest host {:.2} s", secs(reads_only));
    println!(
        "baseline: the same {hosts} × {keys} reads with the root token, side by side: {:.2} s ({root_requests} requests)",
        secs(root_reads)
    );
    println!(
        "baseline: the same reads with a token whose policy is one glob line, side by side: {:.2} s",
        secs(glob_reads)
    );
    Ok(())
}
