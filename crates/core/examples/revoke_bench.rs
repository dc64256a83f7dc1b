//! Emergency revoke of N sub keys spread over OKX, Bybit and Binance through exchange-sim with
//! 200 ms injected latency, against the lower bound that latency and the documented rate limits
//! allow (OKX 1/s and Binance ~1/s per master account, Bybit 5/s). Each key takes two round trips:
//! the delete, then the proof (a signed read with the key's own credentials, refused as an invalid
//! key), which is not under the delete endpoint's limit. The bound without the proof is printed
//! beside it, from the same run, to show what the proof costs.
//!
//! `cargo run -p latchkey-core --example revoke_bench [N…]` (default 1 10 50 200).

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use exchange_sim::{Fault, FaultKind, Permission, Seed, Sim, SimExchange, SimKey};
use latchkey_core::audit::{Action, Event, Outcome};
use latchkey_core::exchange::{ClientConfig, ExchangeClient, SystemClock};
use latchkey_core::guard::{totp, Guard, GuardConfig, HashCost};
use latchkey_core::keychain::memory::MemoryStore;
use latchkey_core::keychain::SecretStore;
use latchkey_core::model::{Environment, Exchange, KeyId, KeyRecord};
use latchkey_core::revoke::{no_progress, ExchangeLimit, KeyResult, RevokeConfig, RevokeEngine, Selection};
use latchkey_core::secret::Credentials;
use latchkey_core::store::Store;
use secrecy::ExposeSecret;

const LATENCY_MS: u64 = 200;

type BoxError = Box<dyn std::error::Error>;

fn exchange_of(e: SimExchange) -> Exchange {
    e.id().parse().unwrap_or_else(|_| panic!("the simulator's {e:?} is one of Latchkey's exchanges"))
}

fn add(
    store: &Store,
    secrets: &MemoryStore,
    key: &SimKey,
    base_url: &str,
    master: Option<KeyId>,
) -> Result<KeyId, BoxError> {
    let now = Utc::now();
    let record = KeyRecord {
        environment: Environment::Custom { base_url: base_url.to_owned() },
        key_hint: "…".to_owned(),
        master_key_id: master,
        sub_account: key.sub_account.clone(),
        ..KeyRecord::sample(exchange_of(key.exchange), &key.label, now, 90)
    };
    secrets.put(record.id, "bench", &Credentials::new(&key.api_key, &key.secret, key.passphrase.as_deref()))?;
    let event = Event {
        at: now,
        action: Action::Add,
        key_id: Some(record.id),
        label: Some(&record.label),
        outcome: Outcome::Ok,
        detail: String::new(),
    };
    store.insert_key(&record, &event)?;
    Ok(record.id)
}

/// A sub key of the seed's master account on `exchange`, number `i`.
fn sub_key(exchange: SimExchange, i: usize) -> SimKey {
    let (parent, sub_account, api_key, passphrase) = match exchange {
        SimExchange::Okx => (
            "44705892343619584",
            Some("bot-sub-1".to_owned()),
            format!("{:08x}-0000-4000-8000-{:012x}", i, i),
            Some("BenchPass-1".to_owned()),
        ),
        SimExchange::Bybit => ("1448939", None, format!("BENCH{i:013}"), None),
        SimExchange::Binance => ("38211907", Some("bot-sub-1@example.com".to_owned()), format!("BENCH{i:059}"), None),
        SimExchange::Kucoin => {
            ("165111215", Some("kcbot01".to_owned()), format!("{i:024x}"), Some("BenchPass1".to_owned()))
        }
        SimExchange::Gate => ("10001", Some("10002".to_owned()), format!("{i:032x}"), None),
        // No sub-account keys at Kraken: a key of its own account, never benched through a master.
        SimExchange::Kraken | SimExchange::Deribit => ("", None, format!("BENCH{i:051}"), None),
        SimExchange::Bitget => {
            ("6000000001", Some("6000000101".to_owned()), format!("bg_{i:032x}"), Some("BenchPass1".to_owned()))
        }
    };
    SimKey {
        exchange,
        api_key,
        secret: format!("{:032X}", i + 1),
        passphrase,
        label: format!("bench-{i}"),
        permissions: vec![Permission::Read, Permission::Trade],
        ips: Vec::new(),
        uid: format!("9{i:08}"),
        parent_uid: Some(parent.to_owned()),
        sub_account,
        created_at: None,
        expires_at: None,
        expires_in_days: None,
        demo: false,
        frozen: false,
    }
}

/// The time the last key of `n` can finish when at most `calls` deletes start per `window` and
/// each key then needs `round_trips` sequential calls (the delete, and the proof after it).
fn bound(n: usize, limit: ExchangeLimit, latency: Duration, round_trips: u32) -> Duration {
    if n == 0 {
        return Duration::ZERO;
    }
    let windows = u32::try_from((n - 1) / limit.calls).unwrap_or(u32::MAX);
    limit.window * windows + latency * round_trips
}

/// The figures of one run.
struct Figures {
    wall: Duration,
    /// Delete and proof.
    lower: Duration,
    /// The delete only, as before proofs.
    lower_without_proof: Duration,
    revoked: usize,
}

async fn run(n: usize) -> Result<Figures, BoxError> {
    let sim = Sim::start(Seed::example()).await?;
    let base = sim.base_url();
    let dir = tempfile::tempdir()?;
    let store = Arc::new(Store::open_in(dir.path())?);
    let secrets = Arc::new(MemoryStore::default());
    let seed = Seed::example();
    let mut masters = std::collections::HashMap::new();
    for label in ["okx-master-ip-bound", "bybit-master-wallet", "binance-master"] {
        let key = seed.keys.iter().find(|k| k.label == label).ok_or("seed key missing")?;
        masters.insert(key.exchange, add(&store, &secrets, key, &base, None)?);
    }
    let mut ids = Vec::new();
    let mut per_exchange = std::collections::HashMap::new();
    for i in 0..n {
        let exchange = [SimExchange::Okx, SimExchange::Bybit, SimExchange::Binance][i % 3];
        let key = sub_key(exchange, i);
        sim.add_key(key.clone());
        ids.push(add(&store, &secrets, &key, &base, masters.get(&exchange).copied())?);
        *per_exchange.entry(exchange_of(exchange)).or_insert(0usize) += 1;
    }
    sim.set_fault(Fault::new(FaultKind::Latency { ms: LATENCY_MS }));

    let guard = Arc::new(Guard::new(
        store.clone(),
        secrets.clone(),
        GuardConfig { recovery_cost: HashCost::fast_for_tests(), ..Default::default() },
    ));
    let now = Utc::now();
    let enrollment = guard.begin_enrollment(None, now)?;
    let secret = totp::from_base32(enrollment.secret_base32.expose_secret()).ok_or("base32")?;
    let code =
        |at: chrono::DateTime<Utc>| totp::code_at_step(&secret, totp::step_of(at.timestamp())).map(|c| c.to_string());
    guard.confirm_enrollment(&code(now).ok_or("code")?, now)?;
    let client = ExchangeClient::new(ClientConfig::default(), Arc::new(SystemClock))?;
    let config = RevokeConfig::default();
    let limits = config.limits;
    let engine = RevokeEngine::new(store, secrets, guard, Arc::new(client), Arc::new(SystemClock), config);

    let later = now + chrono::Duration::seconds(30);
    let started = Instant::now();
    let report =
        engine.emergency_revoke(&code(later).ok_or("code")?, Selection::Keys(ids), later, no_progress()).await?;
    let wall = started.elapsed();
    let revoked = report.count(|r| matches!(r, KeyResult::Revoked { proved_at: Some(_), .. }));
    let latency = Duration::from_millis(LATENCY_MS);
    let worst = |trips| per_exchange.iter().map(|(e, n)| bound(*n, limits(*e), latency, trips)).max();
    Ok(Figures {
        wall,
        lower: worst(2).unwrap_or_default(),
        lower_without_proof: worst(1).unwrap_or_default(),
        revoked,
    })
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let sizes: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() { vec![1, 10, 50, 200] } else { sizes };
    println!("| N | proved revoked | wall time | lower bound (delete + proof) | wall / bound | bound without the proof | sum of round trips |");
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    for n in sizes {
        let f = run(n).await?;
        let serial = Duration::from_millis(LATENCY_MS) * 2 * u32::try_from(n)?;
        println!(
            "| {n} | {} | {:.2} s | {:.2} s | {:.3} | {:.2} s | {:.1} s |",
            f.revoked,
            f.wall.as_secs_f64(),
            f.lower.as_secs_f64(),
            f.wall.as_secs_f64() / f.lower.as_secs_f64(),
            f.lower_without_proof.as_secs_f64(),
            serial.as_secs_f64()
        );
    }
    Ok(())
}
