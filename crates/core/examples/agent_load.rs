//! A load client for the signing agent (issue 16, "The signing agent: added latency and memory" in
//! BENCHMARKS.md): OKX requests signed with a bot's placeholder credentials exactly as OKX
//! documents it (Base64(HMAC-SHA256(secret, timestamp + METHOD + requestPath + body)), headers
//! `OK-ACCESS-KEY/SIGN/TIMESTAMP/PASSPHRASE`, Latchkey's own `okx_sign`), alternating a balance
//! read (`GET /api/v5/account/balance`) and a limit order (`POST /api/v5/trade/order`), over
//! `--connections` concurrent keep-alive HTTP/1.1 connections.
//!
//! `agent_load [--connections C] [--phases N1,N2,...]` (defaults 8 and 1000,250000,250000,250000,250000).
//! Stdin: first line, the JSON `latchkey agent issue --json` prints (baseUrl, apiKey, secret,
//! passphrase); then one line per phase, any text, to start it. After each phase one JSON line on
//! stdout: {"phase", "requests", "total", "ok", "non200": {status: n}, "notOk": n, "failed": n,
//! "secs", "perSec", "p50Ms", "p99Ms"}; the client then sits idle (its connections open) until
//! the next line, so whoever drives it can sample the agent between phases. Nothing secret is
//! printed. Run by bench/agent.py.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::Utc;
use latchkey_core::exchange::sign::{okx_sign, okx_timestamp};
use secrecy::{ExposeSecret, SecretString};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const BALANCE: &str = "/api/v5/account/balance";
const ORDER: &str = "/api/v5/trade/order";
/// Small and far from any market price, as tests/bots/ccxt_bot.py places it.
const ORDER_BODY: &str =
    r#"{"instId":"BTC-USDT","tdMode":"cash","side":"buy","ordType":"limit","sz":"0.001","px":"20000"}"#;

struct Bot {
    /// The agent's base URL for OKX, `http://127.0.0.1:PORT/okx`.
    base: String,
    key: SecretString,
    secret: SecretString,
    passphrase: SecretString,
}

#[derive(Default)]
struct Tally {
    ok: u64,
    non200: BTreeMap<u16, u64>,
    /// Answered 200 whose OKX `code` is not "0".
    not_ok: u64,
    /// No answer at all (connection refused or reset, timeout).
    failed: u64,
    latencies_us: Vec<u32>,
}

fn read_bot(line: &str) -> Result<Bot, BoxError> {
    let v: serde_json::Value = serde_json::from_str(line)?;
    let field = |name: &str| -> Result<String, BoxError> {
        Ok(v[name].as_str().ok_or_else(|| format!("the issue JSON has no '{name}'"))?.to_owned())
    };
    Ok(Bot {
        base: field("baseUrl")?.trim_end_matches('/').to_owned(),
        key: SecretString::from(field("apiKey")?),
        secret: SecretString::from(field("secret")?),
        passphrase: SecretString::from(field("passphrase")?),
    })
}

/// One request, signed now with the placeholder; the status and whether OKX's code was "0".
async fn one(http: &reqwest::Client, bot: &Bot, order: bool) -> Result<(u16, bool), reqwest::Error> {
    let (method, path, body) = if order { ("POST", ORDER, ORDER_BODY) } else { ("GET", BALANCE, "") };
    let timestamp = okx_timestamp(Utc::now());
    let sign = okx_sign(&bot.secret, &timestamp, method, path, body);
    let url = format!("{}{path}", bot.base);
    let request =
        if order { http.post(url).header("content-type", "application/json").body(body) } else { http.get(url) };
    let response = request
        // EXPOSE: the bot's placeholder key and passphrase go only into its request to the agent.
        .header("OK-ACCESS-KEY", bot.key.expose_secret())
        .header("OK-ACCESS-SIGN", sign)
        .header("OK-ACCESS-TIMESTAMP", timestamp)
        .header("OK-ACCESS-PASSPHRASE", bot.passphrase.expose_secret())
        .send()
        .await?;
    let status = response.status().as_u16();
    // Read to the end, so the connection goes back to the pool.
    let bytes = response.bytes().await?;
    let code_ok = serde_json::from_slice::<serde_json::Value>(&bytes).is_ok_and(|v| v["code"] == "0");
    Ok((status, code_ok))
}

/// `count` requests over `connections` workers; request i (counted over all phases) is an order
/// when i is odd, so balance and order alternate across phases too.
async fn phase(
    http: &reqwest::Client,
    bot: Arc<Bot>,
    first: u64,
    count: u64,
    connections: usize,
) -> Result<Tally, BoxError> {
    let next = Arc::new(AtomicU64::new(first));
    let end = first + count;
    let tally = Arc::new(Mutex::new(Tally::default()));
    let mut workers = Vec::new();
    for _ in 0..connections {
        let (http, bot, next, tally) = (http.clone(), bot.clone(), next.clone(), tally.clone());
        workers.push(tokio::spawn(async move {
            let mut mine = Tally::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= end {
                    break;
                }
                let began = Instant::now();
                match one(&http, &bot, i % 2 == 1).await {
                    Ok((200, true)) => mine.ok += 1,
                    Ok((200, false)) => mine.not_ok += 1,
                    Ok((status, _)) => *mine.non200.entry(status).or_default() += 1,
                    Err(_) => mine.failed += 1,
                }
                mine.latencies_us.push(u32::try_from(began.elapsed().as_micros()).unwrap_or(u32::MAX));
            }
            let mut all = tally.lock().unwrap_or_else(|p| p.into_inner());
            all.ok += mine.ok;
            all.not_ok += mine.not_ok;
            all.failed += mine.failed;
            for (s, n) in mine.non200 {
                *all.non200.entry(s).or_default() += n;
            }
            all.latencies_us.extend(mine.latencies_us);
        }));
    }
    for w in workers {
        w.await?;
    }
    let tally = std::mem::take(&mut *tally.lock().unwrap_or_else(|p| p.into_inner()));
    Ok(tally)
}

fn percentile_ms(sorted_us: &[u32], p: f64) -> f64 {
    if sorted_us.is_empty() {
        return 0.0;
    }
    // Nearest rank.
    let rank = ((p / 100.0) * sorted_us.len() as f64).ceil().max(1.0) as usize;
    f64::from(sorted_us[rank.min(sorted_us.len()) - 1]) / 1000.0
}

fn main() -> Result<(), BoxError> {
    let mut connections = 8usize;
    let mut phases: Vec<u64> = vec![1000, 250_000, 250_000, 250_000, 250_000];
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--connections" => connections = args.next().ok_or("--connections needs a number")?.parse()?,
            "--phases" => {
                phases = args
                    .next()
                    .ok_or("--phases needs N1,N2,...")?
                    .split(',')
                    .map(str::parse)
                    .collect::<Result<_, _>>()?
            }
            other => return Err(format!("unknown argument '{other}'").into()),
        }
    }
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    let bot = Arc::new(read_bot(&lines.next().ok_or("no issue JSON on stdin")??)?);
    // One worker thread: the agent and the simulator need the machine's other cycles.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .timeout(std::time::Duration::from_secs(10))
        .build()?;
    let mut total = 0u64;
    for (i, &count) in phases.iter().enumerate() {
        if lines.next().transpose()?.is_none() {
            break;
        }
        let began = Instant::now();
        let mut tally = rt.block_on(phase(&http, bot.clone(), total, count, connections))?;
        let secs = began.elapsed().as_secs_f64();
        total += count;
        tally.latencies_us.sort_unstable();
        let non200: BTreeMap<String, u64> = tally.non200.iter().map(|(s, n)| (s.to_string(), *n)).collect();
        let out = serde_json::json!({
            "phase": i, "requests": count, "total": total, "ok": tally.ok, "non200": non200,
            "notOk": tally.not_ok, "failed": tally.failed, "secs": (secs * 1000.0).round() / 1000.0,
            "perSec": (count as f64 / secs).round(),
            "p50Ms": percentile_ms(&tally.latencies_us, 50.0), "p99Ms": percentile_ms(&tally.latencies_us, 99.0),
        });
        println!("{out}");
    }
    Ok(())
}
