//! Automatic rotation through exchange-sim with 200 ms injected latency on every answer, against
//! the lower bound the round trips and the exchanges' rate limits allow (issue 13, "Benchmarks").
//!
//! (a) One rotation (OKX, Bybit and Binance, one each): the bound replays the simulator's request
//!     log in order, each request one round trip, each rate-limited endpoint's calls spaced by its
//!     limit (the simulator's `allow(...)`, as the exchanges document them).
//! (b) 50 sub keys of the three masters falling due at once, rotated in one `rotate_scheduled`
//!     call: per master, one key's chain of round trips plus the spacing its busiest rate-limited
//!     endpoint needs for all of that master's calls; the bound is the slowest master's.
//!
//! `cargo run -p latchkey-core --example autorotate_bench [single|many|all] [N]` (default all 50).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use exchange_sim::{Fault, FaultKind, Permission as SimPermission, RequestRecord, Seed, Sim, SimExchange, SimKey};
use latchkey_core::audit::{Action, Event, Outcome};
use latchkey_core::autorotate::{no_progress, AutoRotateConfig, AutoRotateEngine, RotationResult};
use latchkey_core::exchange::{ClientConfig, ExchangeClient, SystemClock};
use latchkey_core::guard::{Guard, GuardConfig, HashCost};
use latchkey_core::keychain::memory::MemoryStore;
use latchkey_core::keychain::SecretStore;
use latchkey_core::model::{Environment, Exchange, KeyId, KeyRecord, Permission};
use latchkey_core::revoke::{RevokeConfig, RevokeEngine};
use latchkey_core::secret::Credentials;
use latchkey_core::store::Store;

const LATENCY_MS: u64 = 200;

type BoxError = Box<dyn std::error::Error>;

/// The simulator's rate-limited endpoints that a rotation calls, with the spacing their limit
/// needs between two calls of one account (exchange-sim `allow(route, uid, calls, window)`, which
/// follows the documented limits: OKX create/modify/delete 1/s each; Bybit create-sub-api 1/s,
/// update-sub-api and delete-sub-api 5/s; Binance's sub-account key endpoints, its key listing
/// included, about 1/s each). The other reads are far under their limits at a rotation's pace,
/// so they only cost their round trip.
fn spacing(method: &str, path: &str) -> Option<Duration> {
    let ms = |ms| Some(Duration::from_millis(ms));
    match (method, path) {
        ("POST", "/api/v5/users/subaccount/apikey") => ms(1000),
        ("POST", "/api/v5/users/subaccount/modify-apikey") => ms(1000),
        ("POST", "/api/v5/users/subaccount/delete-apikey") => ms(1000),
        ("POST", "/v5/user/create-sub-api") => ms(1000),
        ("POST", "/v5/user/update-sub-api") => ms(200),
        ("POST", "/v5/user/del-submember") | ("POST", "/v5/user/delete-sub-api") => ms(200),
        ("POST", "/sapi/v1/sub-account/subAccountApi") => ms(1000),
        ("POST", "/sapi/v1/sub-account/subAccountApiPermission") => ms(1000),
        ("POST", "/sapi/v2/sub-account/subAccountApi/ipRestriction") => ms(1000),
        ("GET", "/sapi/v1/sub-account/subAccountApi") => ms(1000),
        ("DELETE", "/sapi/v1/sub-account/subAccountApi") => ms(1000),
        ("DELETE", "/sapi/v1/sub-account/subAccountApi/ipRestriction/ipList") => ms(1000),
        _ => None,
    }
}

fn exchange_of(e: SimExchange) -> Exchange {
    e.id().parse().unwrap_or_else(|_| panic!("the simulator's {e:?} is one of Latchkey's exchanges"))
}

fn record(key: &SimKey, base_url: &str, master: Option<KeyId>, sub_account: Option<&str>) -> KeyRecord {
    KeyRecord {
        environment: Environment::Custom { base_url: base_url.to_owned() },
        key_hint: "…".to_owned(),
        master_key_id: master,
        sub_account: sub_account.map(str::to_owned),
        permissions: if master.is_some() { vec![Permission::Read, Permission::Trade] } else { Vec::new() },
        ip_whitelist: if master.is_some() { vec!["127.0.0.1".to_owned()] } else { Vec::new() },
        ..KeyRecord::sample(exchange_of(key.exchange), &key.label, Utc::now(), 90)
    }
}

fn add(store: &Store, secrets: &MemoryStore, record: &KeyRecord, key: &SimKey) -> Result<(), BoxError> {
    secrets.put(record.id, "bench", &Credentials::new(&key.api_key, &key.secret, key.passphrase.as_deref()))?;
    let event = Event {
        at: Utc::now(),
        action: Action::Add,
        key_id: Some(record.id),
        label: Some(&record.label),
        outcome: Outcome::Ok,
        detail: String::new(),
    };
    store.insert_key(record, &event)?;
    Ok(())
}

/// The masters of the example seed, and where their sub keys live: (master label, the sub-account
/// as Latchkey names it, a sub key of the seed in that sub-account to copy).
const MASTERS: [(&str, &str, &str); 3] = [
    ("okx-master-ip-bound", "bot-sub-1", "okx-sub-bot"),
    ("bybit-master-wallet", "1449001", "bybit-sub-trade"),
    ("binance-master", "bot-sub-1@example.com", "binance-sub-withdraw"),
];

/// Sub key number `i` like the seed's `template`: its own API key and secret, read and trade,
/// bound to 127.0.0.1 (seed data made in code; the example seed file stays as it is).
fn sub_key(template: &SimKey, i: usize) -> SimKey {
    let api_key = match template.exchange {
        SimExchange::Okx => format!("{i:08x}-0000-4000-8000-{i:012x}"),
        SimExchange::Bybit => format!("BENCH{i:013}"),
        SimExchange::Binance => format!("BENCH{i:059}"),
        SimExchange::Kucoin => format!("{i:024x}"),
        SimExchange::Gate => format!("{i:032x}"),
        SimExchange::Kraken | SimExchange::Deribit => format!("BENCH{i:051}"),
        SimExchange::Bitget => format!("bg_{i:032x}"),
    };
    SimKey {
        api_key,
        secret: format!("{:032X}", i + 1),
        passphrase: template.passphrase.as_ref().map(|_| "BenchPass-1".to_owned()),
        label: format!("bench-{i}"),
        permissions: vec![SimPermission::Read, SimPermission::Trade],
        ips: vec!["127.0.0.1".to_owned()],
        ..template.clone()
    }
}

struct World {
    sim: exchange_sim::SimHandle,
    /// The simulator's own runtime, on threads of its own.
    sim_runtime: Option<tokio::runtime::Runtime>,
    engine: AutoRotateEngine,
    keys: Vec<(Exchange, KeyId)>,
    _dir: tempfile::TempDir,
}

/// `per_master[e]` sub keys under each master, in Latchkey and at the simulator.
async fn world(per_master: [usize; 3]) -> Result<World, BoxError> {
    let seed = Seed::example();
    let (sim, sim_runtime) = start_sim(seed.clone())?;
    let base = sim.base_url();
    let dir = tempfile::tempdir()?;
    let store = Arc::new(Store::open_in(dir.path())?);
    let secrets = Arc::new(MemoryStore::default());
    let find = |label: &str| seed.keys.iter().find(|k| k.label == label).cloned().ok_or("seed key missing");
    let mut keys = Vec::new();
    let mut i = 0;
    for ((master_label, sub_account, template), n) in MASTERS.into_iter().zip(per_master) {
        let master_key = find(master_label)?;
        let master = record(&master_key, &base, None, None);
        add(&store, &secrets, &master, &master_key)?;
        let template = find(template)?;
        for _ in 0..n {
            let key = sub_key(&template, i);
            i += 1;
            sim.add_key(key.clone());
            let sub = record(&key, &base, Some(master.id), Some(sub_account));
            add(&store, &secrets, &sub, &key)?;
            keys.push((exchange_of(key.exchange), sub.id));
        }
    }
    let guard = Arc::new(Guard::new(
        store.clone(),
        secrets.clone(),
        GuardConfig { recovery_cost: HashCost::fast_for_tests(), ..Default::default() },
    ));
    let client = Arc::new(ExchangeClient::new(ClientConfig::default(), Arc::new(SystemClock))?);
    let revoke = RevokeEngine::new(
        store.clone(),
        secrets.clone(),
        guard,
        client.clone(),
        Arc::new(SystemClock),
        RevokeConfig::default(),
    );
    let vault = Arc::new(latchkey_core::vault::Vault::new(store.clone(), secrets.clone()));
    let engine = AutoRotateEngine::new(
        store,
        vault,
        secrets,
        client,
        revoke,
        Arc::new(SystemClock),
        AutoRotateConfig::default(),
    );
    sim.clear_requests();
    sim.set_fault(Fault::new(FaultKind::Latency { ms: LATENCY_MS }));
    Ok(World { sim, sim_runtime: Some(sim_runtime), engine, keys, _dir: dir })
}

/// The simulator stands for an exchange across the network: it runs on a runtime and threads of
/// its own, so the rotations' work in this process does not delay when it sees a request arrive
/// (which is what its rate limits count).
fn start_sim(seed: Seed) -> Result<(exchange_sim::SimHandle, tokio::runtime::Runtime), BoxError> {
    let thread = std::thread::spawn(move || -> Result<_, String> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let sim = runtime.block_on(Sim::start(seed)).map_err(|e| e.to_string())?;
        Ok((sim, runtime))
    });
    Ok(thread.join().map_err(|_| "the simulator's thread panicked")??)
}

impl Drop for World {
    fn drop(&mut self) {
        if let Some(runtime) = self.sim_runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// The log replayed one request after another: each a round trip, each rate-limited endpoint's
/// calls spaced by its limit.
fn sequential_bound(requests: &[&RequestRecord]) -> Duration {
    let latency = Duration::from_millis(LATENCY_MS);
    let mut t = Duration::ZERO;
    let mut last: HashMap<(String, String), Duration> = HashMap::new();
    for r in requests {
        let mut start = t;
        if let Some(gap) = spacing(&r.method, &r.path) {
            if let Some(before) = last.get(&(r.method.clone(), r.path.clone())) {
                start = start.max(*before + gap);
            }
            last.insert((r.method.clone(), r.path.clone()), start);
        }
        t = start + latency;
    }
    t
}

fn exchange_requests(sim: &exchange_sim::SimHandle) -> Vec<RequestRecord> {
    sim.state().requests.into_iter().filter(|r| r.exchange.is_some()).collect()
}

/// The calls a rotation needs: a call refused for the rate (HTTP 429; Bybit's retCode 10006 on an
/// HTTP 200) was one too many, so no bound counts it.
fn needed(requests: &[RequestRecord]) -> Vec<&RequestRecord> {
    requests.iter().filter(|r| !rate_refused(r)).collect()
}

fn rate_refused(r: &RequestRecord) -> bool {
    r.status == 429 || r.code == "10006"
}

/// How many keys rotated; each other outcome is printed, so a shortfall says why.
fn rotated(report: &latchkey_core::autorotate::RotationReport) -> usize {
    let mut others: BTreeMap<String, usize> = BTreeMap::new();
    for key in &report.keys {
        match &key.result {
            RotationResult::Rotated { .. } => {}
            RotationResult::Failed { error, .. } => *others.entry(format!("failed: {error}")).or_default() += 1,
            RotationResult::Pending => *others.entry("pending".to_owned()).or_default() += 1,
        }
    }
    for (what, n) in &others {
        eprintln!("    {n} × {what}");
    }
    report.keys.iter().filter(|k| matches!(k.result, RotationResult::Rotated { .. })).count()
}

async fn single(exchange_index: usize) -> Result<(Exchange, Duration, Duration, usize, bool), BoxError> {
    let mut per_master = [0; 3];
    per_master[exchange_index] = 1;
    let w = world(per_master).await?;
    let ids: Vec<KeyId> = w.keys.iter().map(|(_, id)| *id).collect();
    let started = Instant::now();
    let report = w.engine.rotate_scheduled(&ids, no_progress()).await?;
    let wall = started.elapsed();
    let requests = exchange_requests(&w.sim);
    let bound = sequential_bound(&needed(&requests));
    if std::env::var_os("BENCH_VERBOSE").is_some() {
        for r in &requests {
            eprintln!("    {} {} {} {}", r.method, r.path, r.status, r.code);
        }
    }
    Ok((w.keys[0].0, wall, bound, requests.len(), rotated(&report) == 1))
}

/// The create and delete endpoints: the bound issue 13 names ("creates and deletes at the
/// documented write limit").
fn is_create_or_delete(method: &str, path: &str) -> bool {
    matches!(
        (method, path),
        ("POST", "/api/v5/users/subaccount/apikey")
            | ("POST", "/api/v5/users/subaccount/delete-apikey")
            | ("POST", "/v5/user/create-sub-api")
            | ("POST", "/v5/user/delete-sub-api")
            | ("POST", "/sapi/v1/sub-account/subAccountApi")
            | ("DELETE", "/sapi/v1/sub-account/subAccountApi")
    )
}

struct Bounds {
    keys: usize,
    /// Every rate-limited endpoint the rotations call spaced by its limit.
    every_limit: Duration,
    /// Only the creates and deletes.
    writes_only: Duration,
}

struct Many {
    wall: Duration,
    every_limit: Duration,
    writes_only: Duration,
    trips: usize,
    rotated: usize,
    per_exchange: BTreeMap<String, Bounds>,
}

async fn many(n: usize) -> Result<Many, BoxError> {
    let per_master = [n.div_ceil(3), (n + 1) / 3, n / 3];
    let w = world(per_master).await?;
    let ids: Vec<KeyId> = w.keys.iter().map(|(_, id)| *id).collect();
    let started = Instant::now();
    let report = w.engine.rotate_scheduled(&ids, no_progress()).await?;
    let wall = started.elapsed();
    let requests = exchange_requests(&w.sim);
    if std::env::var_os("BENCH_VERBOSE").is_some() {
        // The calls refused for the rate, each time lost.
        for (i, r) in requests.iter().enumerate().filter(|(_, r)| rate_refused(r)) {
            eprintln!("    #{i} {} {} {} {}", r.method, r.path, r.status, r.code);
        }
        // The timeline of the first master's calls.
        for r in requests.iter().filter(|r| r.exchange == Some(SimExchange::Okx)) {
            eprintln!("    {:>6} ms {} {} {}", r.at_ms, r.method, r.path, r.code);
        }
    }
    let latency = Duration::from_millis(LATENCY_MS);
    let mut per_exchange = BTreeMap::new();
    for (i, sim_exchange) in [SimExchange::Okx, SimExchange::Bybit, SimExchange::Binance].into_iter().enumerate() {
        let keys = per_master[i];
        if keys == 0 {
            continue;
        }
        let mine: Vec<&RequestRecord> =
            needed(&requests).into_iter().filter(|r| r.exchange == Some(sim_exchange)).collect();
        // One key's chain of round trips (the average, rounded down), and the busiest limited
        // endpoint's spacing.
        let chain = u32::try_from(mine.len() / keys)?;
        let mut calls: HashMap<(&str, &str), u32> = HashMap::new();
        for r in &mine {
            if spacing(&r.method, &r.path).is_some() {
                *calls.entry((r.method.as_str(), r.path.as_str())).or_default() += 1;
            }
        }
        let spaced = |only_writes: bool| {
            calls
                .iter()
                .filter(|((m, p), _)| !only_writes || is_create_or_delete(m, p))
                .filter_map(|((m, p), n)| spacing(m, p).map(|gap| gap * n.saturating_sub(1)))
                .max()
                .unwrap_or_default()
        };
        per_exchange.insert(
            exchange_of(sim_exchange).to_string(),
            Bounds { keys, every_limit: latency * chain + spaced(false), writes_only: latency * chain + spaced(true) },
        );
    }
    let every_limit = per_exchange.values().map(|b| b.every_limit).max().unwrap_or_default();
    let writes_only = per_exchange.values().map(|b| b.writes_only).max().unwrap_or_default();
    Ok(Many { wall, every_limit, writes_only, trips: requests.len(), rotated: rotated(&report), per_exchange })
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let what = args.first().map(String::as_str).unwrap_or("all");
    let n: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(50);
    println!("Load average before: {}", load_average());
    // Each part also prints the calls refused for the rate, if any: each is time lost.
    if what == "single" || what == "all" {
        println!("\n(a) One automatic rotation, {LATENCY_MS} ms on every answer");
        println!("| exchange | rotated | round trips | wall time | lower bound | wall / bound |");
        println!("|---|---:|---:|---:|---:|---:|");
        for i in 0..3 {
            let (exchange, wall, bound, trips, ok) = single(i).await?;
            println!(
                "| {exchange} | {} | {trips} | {:.2} s | {:.2} s | {:.3} |",
                if ok { "yes" } else { "NO" },
                wall.as_secs_f64(),
                bound.as_secs_f64(),
                wall.as_secs_f64() / bound.as_secs_f64()
            );
        }
    }
    if what == "many" || what == "all" {
        println!("\n(b) {n} managed keys falling due at once over the three masters, one rotate_scheduled call");
        let m = many(n).await?;
        for (exchange, b) in &m.per_exchange {
            println!(
                "    {exchange}: {} keys, bound {:.2} s (creates and deletes only: {:.2} s)",
                b.keys,
                b.every_limit.as_secs_f64(),
                b.writes_only.as_secs_f64()
            );
        }
        println!("| keys | rotated | round trips | wall time | bound, every limit | wall / bound | bound, creates + deletes | wall / bound |");
        println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
        let secs = |d: Duration| d.as_secs_f64();
        println!(
            "| {n} | {} | {} | {:.2} s | {:.2} s | {:.3} | {:.2} s | {:.3} |",
            m.rotated,
            m.trips,
            secs(m.wall),
            secs(m.every_limit),
            secs(m.wall) / secs(m.every_limit),
            secs(m.writes_only),
            secs(m.wall) / secs(m.writes_only)
        );
    }
    println!("\nLoad average after: {}", load_average());
    Ok(())
}
