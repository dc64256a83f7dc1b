//! Store, read and delete latency per item on the real OS keychain (gnome-keyring in
//! `bench/run.sh`), through latchkey-core's `Keychain`, the same calls the app makes.
//! Items go to a bench-only namespace (`$LATCHKEY_KEYCHAIN_SERVICE`, default `latchkey-bench`) and
//! are deleted again. The credentials are made-up bench values and never printed.
//!
//! `cargo run -p latchkey-core --example keychain_bench -- [N]` (default 50)

use std::time::{Duration, Instant};

use latchkey_core::keychain::{Keychain, SecretStore, SERVICE_ENV};
use latchkey_core::model::KeyId;
use latchkey_core::secret::Credentials;

type BoxError = Box<dyn std::error::Error>;

fn stats(mut d: Vec<Duration>) -> (f64, f64, f64) {
    d.sort();
    let ms = |x: Duration| x.as_secs_f64() * 1e3;
    let median = ms(d[d.len() / 2]);
    let p95 = ms(d[((d.len() * 95).div_ceil(100)).saturating_sub(1).min(d.len() - 1)]);
    let max = ms(d[d.len() - 1]);
    (median, p95, max)
}

fn main() -> Result<(), BoxError> {
    let n: usize = std::env::args().nth(1).map(|a| a.parse()).transpose()?.unwrap_or(50);
    if n == 0 {
        return Err("N must be at least 1".into());
    }
    let service = std::env::var(SERVICE_ENV).unwrap_or_else(|_| "latchkey-bench".to_owned());
    let keychain = Keychain::new(service);
    keychain.probe()?;
    let ids: Vec<KeyId> = (0..n).map(|_| KeyId::random()).collect();
    let (mut put, mut get, mut del) = (Vec::new(), Vec::new(), Vec::new());
    for (i, id) in ids.iter().enumerate() {
        let creds = Credentials::new(&format!("bench-key-{i:06}"), &format!("bench-secret-{i:06}"), Some("bench-pass"));
        let t = Instant::now();
        keychain.put(*id, "Latchkey bench item", &creds)?;
        put.push(t.elapsed());
    }
    for id in &ids {
        let t = Instant::now();
        let back = keychain.get(*id)?;
        get.push(t.elapsed());
        if back.is_none() {
            return Err("an item just stored could not be read back".into());
        }
    }
    for id in &ids {
        let t = Instant::now();
        let deleted = keychain.delete(*id)?;
        del.push(t.elapsed());
        if !deleted {
            return Err("an item just stored was not there to delete".into());
        }
    }
    println!("| operation | items | median | p95 | max |");
    println!("|---|---:|---:|---:|---:|");
    for (name, d) in [("store", put), ("read", get), ("delete", del)] {
        let (median, p95, max) = stats(d);
        println!("| {name} | {n} | {median:.1} ms | {p95:.1} ms | {max:.1} ms |");
    }
    Ok(())
}
