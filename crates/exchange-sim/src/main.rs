//! `exchange-sim --port N --seed seed.json [--no-rate-limits]`: serves the simulator on 127.0.0.1
//! and prints its base URL on the first line of stdout, for end-to-end tests to read. Without
//! `--seed` it uses the example seed. `--no-rate-limits` turns every rate limit off (as the seed's
//! `"noRateLimits": true`), for load runs. Stops on Ctrl-C.

use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use exchange_sim::{Seed, Sim};

const USAGE: &str = "usage: exchange-sim [--port N] [--seed seed.json] [--no-rate-limits]";

struct Args {
    port: u16,
    seed: Option<String>,
    no_rate_limits: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args { port: 0, seed: None, no_rate_limits: false };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--port" => {
                args.port = it.next().and_then(|p| p.parse().ok()).ok_or("--port needs a number from 0 to 65535")?
            }
            "--seed" => args.seed = Some(it.next().ok_or("--seed needs a file path")?),
            "--no-rate-limits" => args.no_rate_limits = true,
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument '{other}'\n{USAGE}")),
        }
    }
    Ok(args)
}

fn load_seed(path: Option<&str>) -> Result<Seed, String> {
    let Some(path) = path else { return Ok(Seed::example()) };
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read the seed file {path}: {e}"))?;
    Seed::from_json(&text).map_err(|e| format!("the seed file {path} is not valid: {e}"))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let seed = match load_seed(args.seed.as_deref()) {
        Ok(seed) => Seed { no_rate_limits: seed.no_rate_limits || args.no_rate_limits, ..seed },
        Err(message) => {
            eprintln!("exchange-sim: {message}");
            return ExitCode::from(2);
        }
    };
    let addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), args.port);
    let sim = match Sim::start_on(seed, addr).await {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("exchange-sim: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("{}", sim.base_url());
    let _ = std::io::stdout().flush();
    let _ = tokio::signal::ctrl_c().await;
    sim.shutdown();
    ExitCode::SUCCESS
}
