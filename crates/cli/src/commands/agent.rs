//! `latchkey agent`: runs the signing agent in the foreground, on this machine's keys or (on a
//! server, `--from openbao`) on what the desktop delivered to this host; `agent issue|revoke-bot|
//! bots|drain|policy` manage the bots that use it.

use std::sync::Arc;

use chrono::Utc;
use latchkey_core::agent::mirror::{Follower, Mirror};
use latchkey_core::agent::{self, server, Agent, AgentBots, AgentPolicy, BotView};
use latchkey_core::exchange::{ClientConfig, ExchangeClient, SystemClock};
use latchkey_core::store::Store;

use crate::cli::{AgentArgs, AgentCommand, KeysFrom};
use crate::commands::run::{openbao, openbao_flag, poll_interval, sign_in};
use crate::ctx::{runtime, Ctx};
use crate::error::{CliError, EXIT_OK};

/// What runs without this machine's database and keychain: the agent on a server. `None`: the
/// command needs them.
pub fn without_ctx(args: &AgentArgs) -> Result<Option<u8>, CliError> {
    match (args.from, &args.command) {
        (KeysFrom::Openbao, None) => from_openbao(args).map(Some),
        (KeysFrom::Openbao, Some(_)) => Err(CliError::Usage(
            "--from openbao runs the agent on a server; bots are issued and revoked on the desktop (`latchkey agent issue LABEL --bot NAME --host HOST`).".to_owned(),
        )),
        (KeysFrom::Local, _) => match openbao_flag(&args.bao) {
            Some(flag) => Err(CliError::Usage(format!("{flag} is for `--from openbao`: add it, or leave {flag} out."))),
            None => Ok(None),
        },
    }
}

pub fn agent(ctx: &Ctx, args: AgentArgs) -> Result<u8, CliError> {
    let bots = AgentBots::new(ctx.store.clone(), ctx.keychain.clone());
    match args.command {
        None => run(ctx, args.listen),
        Some(AgentCommand::Issue { label, bot, listen, host, json }) => {
            let issued = match &host {
                None => bots.issue(&label, &bot, Utc::now())?,
                Some(host) => {
                    runtime()?.block_on(bots.issue_for_host(&ctx.servers(), &label, &bot, host, Utc::now()))?
                }
            };
            let (key, secret, passphrase) = agent::exposed(&issued.placeholder);
            let base_url = agent::base_url(listen, issued.bot.exchange);
            if json {
                let out = serde_json::json!({
                    "bot": issued.bot.name, "label": issued.bot.label, "exchange": issued.bot.exchange.as_str(),
                    "host": issued.bot.host, "baseUrl": base_url, "apiKey": key, "secret": secret, "passphrase": passphrase,
                });
                println!("{out}");
            } else {
                println!("Bot '{}' may trade with '{}' through the signing agent.", issued.bot.name, issued.bot.label);
                println!(
                    "Give the bot these placeholders (worthless without this Latchkey) and point it at the agent:"
                );
                println!("  base URL:   {base_url}");
                println!("  API key:    {key}");
                println!("  secret:     {secret}");
                if let Some(p) = passphrase {
                    println!("  passphrase: {p}");
                }
                match &issued.bot.host {
                    None => println!("They are shown once. Run the agent with `latchkey agent --listen {listen}`."),
                    Some(host) => println!(
                        "They are shown once, and work only through the agent on host '{host}': run `latchkey agent --from openbao --listen {listen} …` there (it signs in as `latchkey run --from openbao` does)."
                    ),
                }
            }
            Ok(EXIT_OK)
        }
        Some(AgentCommand::RevokeBot { name }) => {
            let bot = runtime()?.block_on(bots.revoke_bot(&ctx.servers(), &name, Utc::now()))?;
            match &bot.host {
                None => println!("Bot '{}' can no longer use '{}' through the agent.", bot.name, bot.label),
                Some(host) => println!(
                    "Bot '{}' can no longer use '{}' through the agent on host '{host}' (it refuses the bot from its next look at OpenBao).",
                    bot.name, bot.label
                ),
            }
            Ok(EXIT_OK)
        }
        Some(AgentCommand::Bots(flag)) => {
            let list: Vec<BotView> = bots.bots()?.iter().map(BotView::from).collect();
            if flag.json {
                println!("{}", serde_json::to_string(&list).map_err(|e| CliError::Failed(e.to_string()))?);
            } else if list.is_empty() {
                println!(
                    "No bot has placeholder credentials. Issue some with `latchkey agent issue LABEL --bot NAME`."
                );
            } else {
                for b in list {
                    let on = b.host.map(|h| format!("  on host {h}")).unwrap_or_default();
                    println!(
                        "{}  {} ({})  issued {}{on}",
                        b.name,
                        b.label,
                        b.exchange,
                        b.issued_at.format("%Y-%m-%d %H:%M UTC")
                    );
                }
            }
            Ok(EXIT_OK)
        }
        Some(AgentCommand::Drain { label, minutes }) => {
            let until = bots.drain(&label, minutes, Utc::now())?;
            println!(
                "Until {}, bots on '{label}' may only cancel, read and place reduce-only orders. Revoke it after that with `latchkey revoke`.",
                until.format("%H:%M:%S UTC")
            );
            tell_hosts(ctx, &bots, &label)
        }
        Some(AgentCommand::Policy { label, endpoints, symbols, orders_per_minute }) => {
            let policy = AgentPolicy {
                endpoints: (!endpoints.is_empty()).then_some(endpoints),
                symbols: (!symbols.is_empty()).then_some(symbols),
                orders_per_minute,
            };
            bots.set_policy(&label, &policy, Utc::now())?;
            println!("The agent's policy for '{label}' is saved; it applies from the next request.");
            tell_hosts(ctx, &bots, &label)
        }
    }
}

/// A policy or drain reaches the servers' agents with bots on `label` (from their next look).
fn tell_hosts(ctx: &Ctx, bots: &AgentBots, label: &str) -> Result<u8, CliError> {
    if !bots.bots()?.iter().any(|b| b.label == label && b.host.is_some()) {
        return Ok(EXIT_OK);
    }
    match runtime()?.block_on(bots.publish_label(&ctx.servers(), label)) {
        Ok(hosts) => {
            println!("Told the agents on {} through OpenBao.", hosts.join(", "));
            Ok(EXIT_OK)
        }
        Err(e) => Err(CliError::Failed(format!(
            "Saved here, but the agents on servers were not told ({e}): run the same command again once OpenBao answers."
        ))),
    }
}

/// The agent on a server, until Ctrl-C or SIGTERM: signed in to OpenBao as the host, serving the
/// bots the desktop issued for it with the keys delivered to it.
fn from_openbao(args: &AgentArgs) -> Result<u8, CliError> {
    let sign_in = sign_in(&args.bao)?;
    let poll = poll_interval(args.bao.poll)?;
    let listen = args.listen;
    let client = Arc::new(ExchangeClient::new(ClientConfig::default(), Arc::new(SystemClock))?);
    runtime()?.block_on(async move {
        // Bound first: a port in use fails before the enrolment token is spent.
        let listener = server::bind(listen).await?;
        let bao = openbao::sign_in_host(sign_in).await?;
        let mirror = Mirror::new(|line| eprintln!("latchkey agent: {line}"));
        let follower = match Follower::start(bao, poll, mirror.clone(), Arc::new(SystemClock)).await {
            Ok(f) => f,
            Err(e) => return Err(CliError::Failed(format!("Signed in, but {e}"))),
        };
        let bots = mirror.bots();
        eprintln!(
            "Latchkey signing agent for host '{}' listening on http://{listen} (Ctrl-C stops it); {}",
            follower.host(),
            if bots.is_empty() {
                format!(
                    "no bots yet: issue one on the desktop with `latchkey agent issue LABEL --bot NAME --host {}`",
                    follower.host()
                )
            } else {
                format!("bots: {}", bots.join(", "))
            }
        );
        let agent = Arc::new(Agent::mirrored(mirror, client, Arc::new(SystemClock))?);
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let mut for_follower = stopped.clone();
        let following = tokio::spawn(follower.run(async move {
            let _ = for_follower.changed().await;
        }));
        let mut for_server = stopped;
        let served = server::serve(agent, listener, async move {
            let _ = for_server.changed().await;
        });
        let signalled = async {
            shutdown_signal().await;
            let _ = stop.send(true);
        };
        let (served, ()) = tokio::join!(served, signalled);
        // The token goes with the agent.
        let _ = following.await;
        served?;
        Ok::<_, CliError>(EXIT_OK)
    })
}

/// The agent in the foreground until Ctrl-C or SIGTERM.
fn run(ctx: &Ctx, listen: std::net::SocketAddr) -> Result<u8, CliError> {
    let root = agent::placeholders::root_secret(ctx.keychain.as_ref())?;
    // Its own connection: writes by the app or another CLI show in its `data_version` at once.
    let store = Arc::new(Store::open(ctx.store.path())?);
    // Its audit entries (counts, refusals) move the log's anchor like every other writer's, or
    // `audit --verify` would read them as a rewritten log.
    store.anchor_audit_in(ctx.keychain.clone());
    let agent = Arc::new(Agent::new(store, ctx.keychain.clone(), root, ctx.client.clone(), Arc::new(SystemClock))?);
    runtime()?.block_on(async move {
        let listener = server::bind(listen).await?;
        eprintln!("Latchkey signing agent listening on http://{listen} (Ctrl-C stops it)");
        server::serve(agent, listener, shutdown_signal()).await?;
        Ok::<_, CliError>(EXIT_OK)
    })
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
