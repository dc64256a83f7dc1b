//! How long turning 2FA on takes before the recovery codes appear: `begin_enrollment` then
//! `confirm_enrollment` with the real recovery-code cost (`HashCost::default()`, OWASP's Argon2id
//! minimum), on a real SQLite store and the in-memory keychain fake (the keychain is not what is
//! measured). The baseline in the same run: the ten hashes one after another, as before; min and
//! median, since the machine may be busy with other work.
//!
//! `cargo run --release -p latchkey-core --example enrol_bench -- [ROUNDS]` (default 5)

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use latchkey_core::guard::{recovery, totp, Guard, GuardConfig, HashCost};
use latchkey_core::keychain::memory::MemoryStore;
use latchkey_core::store::Store;
use secrecy::{ExposeSecret, SecretString};

type BoxError = Box<dyn std::error::Error>;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn median(mut d: Vec<Duration>) -> Duration {
    d.sort();
    d[d.len() / 2]
}

fn main() -> Result<(), BoxError> {
    let rounds: usize = std::env::args().nth(1).map(|a| a.parse()).transpose()?.unwrap_or(5).max(1);
    let cost = HashCost::default();
    let (mut sequential, mut parallel, mut begin, mut enrol) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        // Baseline: the ten hashes one after another (what confirm_enrollment did before).
        let codes: Vec<SecretString> =
            (0..recovery::COUNT).map(|_| recovery::generate()).collect::<Option<_>>().ok_or("no randomness")?;
        let t = Instant::now();
        for c in &codes {
            recovery::hash(c, cost).ok_or("hash failed")?;
        }
        sequential.push(t.elapsed());
        // The same ten, shared out over the cores (what confirm_enrollment does now).
        let t = Instant::now();
        recovery::hash_all(&codes, cost).ok_or("hash failed")?;
        parallel.push(t.elapsed());

        // The real thing on a fresh store: begin, then confirm with a current code, until the
        // codes are back.
        let dir = tempfile::tempdir()?;
        let store = Arc::new(Store::open_in(dir.path())?);
        let guard = Guard::new(
            store,
            Arc::new(MemoryStore::default()),
            GuardConfig { recovery_cost: cost, ..Default::default() },
        );
        let now = Utc::now();
        let t = Instant::now();
        let e = guard.begin_enrollment(None, now)?;
        begin.push(t.elapsed());
        let secret = totp::from_base32(e.secret_base32.expose_secret()).ok_or("bad secret")?;
        let first = totp::code_at_step(&secret, totp::step_of(now.timestamp())).ok_or("no code")?.to_string();
        let codes = guard.confirm_enrollment(&first, now)?;
        enrol.push(t.elapsed());
        assert_eq!(codes.codes.len(), recovery::COUNT);
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "recovery-code cost: argon2id m={} KiB, t={}, p=1; {} codes; {cores} cores; {rounds} rounds",
        cost.memory_kib,
        cost.passes,
        recovery::COUNT
    );
    let line = |what: &str, d: Vec<Duration>| {
        let min = d.iter().min().copied().unwrap_or_default();
        println!("{what:<44} median {:>5.0} ms   min {:>5.0} ms", ms(median(d)), ms(min));
    };
    line("ten hashes in a row (before)", sequential);
    line("ten hashes over the cores (now)", parallel);
    line("begin_enrollment (secret, QR)", begin);
    line("begin + confirm, until the codes are back", enrol);
    Ok(())
}
