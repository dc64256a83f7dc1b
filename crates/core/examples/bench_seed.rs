//! Seeds a data dir with N key rows the way the app stores them (through `Store::insert_key`, with
//! the audit entry an add writes), for the dashboard benchmarks in `bench/run.sh`. Rows only: the
//! dashboard list never reads the keychain, so no secrets are written.
//!
//! `cargo run -p latchkey-core --example bench_seed -- DATA_DIR N`

use chrono::{Duration, Utc};
use latchkey_core::audit::{Action, Event, Outcome};
use latchkey_core::model::{Environment, Exchange, KeyRecord, Permission};
use latchkey_core::store::Store;

type BoxError = Box<dyn std::error::Error>;

fn main() -> Result<(), BoxError> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().ok_or("usage: bench_seed DATA_DIR N")?;
    let n: usize = args.next().ok_or("usage: bench_seed DATA_DIR N")?.parse()?;
    std::fs::create_dir_all(&dir)?;
    let store = Store::open_in(std::path::Path::new(&dir))?;
    let now = Utc::now();
    for i in 0..n {
        let exchange = Exchange::ALL[i % 3];
        // Spread over a year, so the list holds overdue, due-soon and fresh keys, as a real one would.
        let rotated = now - Duration::days(i64::try_from(i * 7 % 365)?);
        let permissions = match i % 4 {
            0 => vec![Permission::Read],
            1 => vec![Permission::Read, Permission::Trade],
            2 => vec![Permission::Read, Permission::Trade, Permission::Withdraw],
            _ => vec![Permission::Read, Permission::Transfer],
        };
        let record = KeyRecord {
            environment: if i % 5 == 0 { Environment::Demo } else { Environment::Live },
            key_hint: format!("{:04x}…{:04x}", i, i * 31 % 65536),
            verified_at: (i % 2 == 0).then_some(rotated + Duration::hours(1)),
            permissions,
            ip_whitelist: if i % 3 == 0 { vec![format!("203.0.113.{}", i % 250)] } else { Vec::new() },
            ..KeyRecord::sample(exchange, &format!("bench-{exchange:?}-{i:04}").to_lowercase(), rotated, 90)
        };
        let event = Event {
            at: now,
            action: Action::Add,
            key_id: Some(record.id),
            label: Some(&record.label),
            outcome: Outcome::Ok,
            detail: String::new(),
        };
        store.insert_key(&record, &event)?;
    }
    println!("seeded {n} keys in {dir}");
    Ok(())
}
