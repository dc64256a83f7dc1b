//! `latchkey agent`: runs the signing agent in the foreground; `agent issue|revoke-bot|bots|drain|
//! policy` manage the bots that use it.

use std::sync::Arc;

use chrono::Utc;
use latchkey_core::agent::{self, server, Agent, AgentBots, AgentPolicy, BotView};
use latchkey_core::exchange::SystemClock;
use latchkey_core::store::Store;

use crate::cli::{AgentArgs, AgentCommand};
use crate::ctx::{runtime, Ctx};
use crate::error::{CliError, EXIT_OK};

pub fn agent(ctx: &Ctx, args: AgentArgs) -> Result<u8, CliError> {
    let bots = AgentBots::new(ctx.store.clone(), ctx.keychain.clone());
    match args.command {
        None => run(ctx, args.listen),
        Some(AgentCommand::Issue { label, bot, listen, json }) => {
            let issued = bots.issue(&label, &bot, Utc::now())?;
            let (key, secret, passphrase) = agent::exposed(&issued.placeholder);
            let base_url = agent::base_url(listen, issued.bot.exchange);
            if json {
                let out = serde_json::json!({
                    "bot": issued.bot.name, "label": issued.bot.label, "exchange": issued.bot.exchange.as_str(),
                    "baseUrl": base_url, "apiKey": key, "secret": secret, "passphrase": passphrase,
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
                println!("They are shown once. Run the agent with `latchkey agent --listen {listen}`.");
            }
            Ok(EXIT_OK)
        }
        Some(AgentCommand::RevokeBot { name }) => {
            let bot = bots.revoke_bot(&name, Utc::now())?;
            println!("Bot '{}' can no longer use '{}' through the agent.", bot.name, bot.label);
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
                    println!(
                        "{}  {} ({})  issued {}",
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
            Ok(EXIT_OK)
        }
        Some(AgentCommand::Policy { label, endpoints, symbols, orders_per_minute }) => {
            let policy = AgentPolicy {
                endpoints: (!endpoints.is_empty()).then_some(endpoints),
                symbols: (!symbols.is_empty()).then_some(symbols),
                orders_per_minute,
            };
            bots.set_policy(&label, &policy, Utc::now())?;
            println!("The agent's policy for '{label}' is saved; it applies from the next request.");
            Ok(EXIT_OK)
        }
    }
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
