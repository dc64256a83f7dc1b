//! Rotation-to-bot latency of `latchkey run --from openbao` (issue 15, "Benchmarks"): from the
//! new version's write on a real `bao server -dev` to the bot restarted with it, over N rotations,
//! for each poll interval given. The bot is `sh`, which writes the key it got and the time
//! (`date +%s%N`) to a file and then sleeps; run's stderr is timestamped as it comes, to split each
//! latency into the wait for the next look (detection) and the restart.
//!
//! The baseline, measured in the same run: the poll interval itself. A version written at a random
//! moment waits for the next look a uniformly random part of the interval, so no poller can do
//! better than a median of half the interval and a p95 of 0.95 of it; what run adds is the rest.
//!
//!   bench/openbao_rotation.sh            20 rotations at --poll 2 (the default) and 0.5
//!   bench/openbao_rotation.sh 20 2 1 0.5
#![allow(clippy::unwrap_used)]

#[path = "../../core/tests/integration/openbao_support/mod.rs"]
mod openbao_support;

use std::io::BufRead;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use latchkey_core::secret::Credentials;
use latchkey_core::servers::kv::fingerprint;
use latchkey_core::servers::{BaoClient, DeliveryMeta, Expect};
use secrecy::ExposeSecret;

fn now_ns() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos()
}

fn creds(n: u32) -> Credentials {
    Credentials::new(&format!("BENCHKEY{n:04}"), &format!("BENCHSECRET{n:020}"), None)
}

async fn deliver(root: &BaoClient, n: u32, expect: Expect) -> u64 {
    let c = creds(n);
    let meta = DeliveryMeta {
        exchange: "bybit".into(),
        key_hint: format!("BENCH…{n:04}"),
        rotate_after: None,
        ip_whitelist: Vec::new(),
        fingerprint: fingerprint(&c),
        place: None,
    };
    root.deliver("bench", &c, &meta, expect).await.unwrap().version
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    // Nearest rank.
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

struct Figures {
    poll: f64,
    latency: Vec<f64>,
    detect: Vec<f64>,
    restart: Vec<f64>,
}

async fn measure(bin: &Path, poll: f64, rotations: u32) -> Figures {
    let bao = openbao_support::DevServer::start("openbao_rotation_bench").await.expect("a bao binary");
    let root = bao.client();
    bao.admin(reqwest::Method::POST, "sys/auth/approle", Some(serde_json::json!({ "type": "approle" }))).await;
    deliver(&root, 1, Expect::Absent).await;
    let enrolment = root.add_host("bench-host", &["bench"]).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("secret-id");
    std::fs::write(&secret_file, enrolment.wrapped_secret_id.expose_secret()).unwrap();
    let seen = dir.path().join("seen");
    let script =
        format!(r#"printf '%s %s\n' "$BYBIT_API_KEY" "$(date +%s%N)" >> '{}'; exec sleep 600"#, seen.display());
    let mut run = Command::new(bin)
        .args(["run", "bench", "--from", "openbao", "--addr", &bao.addr, "--role-id", &enrolment.role_id])
        .arg("--secret-id-file")
        .arg(&secret_file)
        .args(["--poll", &poll.to_string(), "--stop-grace", "5", "--", "sh", "-c", &script])
        .env("LATCHKEY_DATA_DIR", dir.path().join("no-data"))
        .env("XDG_RUNTIME_DIR", dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let said: Arc<Mutex<Vec<(u128, String)>>> = Arc::default();
    let err = run.stderr.take().unwrap();
    let log = said.clone();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(err).lines().map_while(Result::ok) {
            log.lock().unwrap().push((now_ns(), line));
        }
    });
    let lines = || -> Vec<(String, u128)> {
        std::fs::read_to_string(&seen)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_once(' ').map(|(k, t)| (k.to_owned(), t.parse().unwrap_or(0))))
            .collect()
    };
    let wait = |n: usize| {
        let t = Instant::now();
        while lines().len() < n {
            assert!(t.elapsed() < Duration::from_secs(30), "the bot did not (re)start: {:?}", said.lock().unwrap());
            std::thread::sleep(Duration::from_millis(2));
        }
    };
    wait(1);
    let mut figures = Figures { poll, latency: Vec::new(), detect: Vec::new(), restart: Vec::new() };
    for n in 2..=rotations + 1 {
        // A random moment against the poll: 0.3 s to 0.3 s + one interval after the last restart.
        let jitter = (uuid::Uuid::new_v4().as_u128() % 1000) as f64 / 1000.0;
        tokio::time::sleep(Duration::from_secs_f64(0.3 + jitter * poll)).await;
        let before = said.lock().unwrap().len();
        let t0 = now_ns();
        deliver(&root, n, Expect::Version(u64::from(n) - 1)).await;
        wait(n as usize);
        let (key, t1) = lines()[n as usize - 1].clone();
        assert_eq!(key, format!("BENCHKEY{n:04}"), "the bot got the new key");
        let detected = said.lock().unwrap()[before..]
            .iter()
            .find(|(_, l)| l.contains("was rotated; restarting"))
            .map(|(t, _)| *t)
            .expect("run said it restarts the bot");
        let ms = |a: u128, b: u128| (b.saturating_sub(a)) as f64 / 1e6;
        figures.latency.push(ms(t0, t1));
        figures.detect.push(ms(t0, detected));
        figures.restart.push(ms(detected, t1));
    }
    let _ = run.kill();
    let _ = run.wait();
    figures
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rotations: u32 = args.first().and_then(|a| a.parse().ok()).unwrap_or(20);
    let polls: Vec<f64> =
        if args.len() > 1 { args[1..].iter().map(|a| a.parse().unwrap()).collect() } else { vec![2.0, 0.5] };
    let bin =
        std::env::var_os("LATCHKEY_BIN").map(std::path::PathBuf::from).expect("LATCHKEY_BIN: the latchkey binary");
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    println!("| --poll | rotations | median | p95 | bound: median / p95 (poll × 0.5 / × 0.95) | detection median | restart median / p95 |");
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    for poll in polls {
        let mut f = rt.block_on(measure(&bin, poll, rotations));
        for v in [&mut f.latency, &mut f.detect, &mut f.restart] {
            v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        }
        println!(
            "| {} s | {} | {:.0} ms | {:.0} ms | {:.0} / {:.0} ms | {:.0} ms | {:.0} / {:.0} ms |",
            f.poll,
            f.latency.len(),
            percentile(&f.latency, 50.0),
            percentile(&f.latency, 95.0),
            f.poll * 500.0,
            f.poll * 950.0,
            percentile(&f.detect, 50.0),
            percentile(&f.restart, 50.0),
            percentile(&f.restart, 95.0),
        );
        if std::env::var_os("BENCH_VERBOSE").is_some() {
            eprintln!(
                "poll {}: latencies (ms, sorted) {:?}",
                f.poll,
                f.latency.iter().map(|v| v.round()).collect::<Vec<_>>()
            );
        }
    }
}
