//! `latchkey`: Latchkey for terminals and bots. Same keys, store and keychain items as the desktop
//! app. Exit codes: 0 ok, 1 failure, 2 usage, 3 guarded action refused or key not usable.

mod cli;
mod commands;
mod ctx;
mod error;
mod input;
mod views;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use crate::cli::{Cli, Command};
use crate::ctx::Ctx;
use crate::error::{CliError, EXIT_OK};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("latchkey: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

fn dispatch(cli: Cli) -> Result<u8, CliError> {
    if let Command::Completions { shell } = cli.command {
        clap_complete::generate(shell, &mut Cli::command(), "latchkey", &mut std::io::stdout());
        return Ok(EXIT_OK);
    }
    // The scanner reads files only: no store, no keychain.
    if let Command::Scan(args) = cli.command {
        return commands::scan::scan(args);
    }
    // `run` opens the store and keychain itself, and not at all with --from openbao (a server
    // has neither).
    if let Command::Run(args) = cli.command {
        return commands::run::run(args);
    }
    // Likewise the agent on a server, which mirrors OpenBao in memory.
    if let Command::Agent(args) = &cli.command {
        if let Some(code) = commands::agent::without_ctx(args)? {
            return Ok(code);
        }
    }
    let ctx = Ctx::open()?;
    match cli.command {
        Command::List(f) => commands::keys::list(&ctx, f.json).map(|()| EXIT_OK),
        Command::Status(f) => commands::keys::status(&ctx, f.json).map(|()| EXIT_OK),
        Command::Add(args) => commands::keys::add(&ctx, args).map(|()| EXIT_OK),
        Command::Check(args) => commands::keys::check(&ctx, args).map(|()| EXIT_OK),
        Command::Edit(args) => commands::edit::edit(&ctx, args),
        Command::Subaccounts(args) => commands::mint::subaccounts(&ctx, args),
        Command::Mint(args) => commands::mint::mint(&ctx, args),
        Command::Fix(args) => commands::fix::fix(&ctx, args),
        Command::LockSubAccount(args) => commands::lock::lock(&ctx, args),
        Command::Export(args) => commands::export::export(&ctx, args),
        Command::Rotate(args) => commands::rotate::rotate(&ctx, args),
        Command::Revoke(args) => commands::revoke::revoke(&ctx, args),
        Command::Bots(c) => commands::bots::bots(&ctx, c).map(|()| EXIT_OK),
        Command::ConfirmDeleted(args) => commands::revoke::confirm_deleted(&ctx, args),
        Command::TwoFactor(c) => commands::guard::two_factor(&ctx, c).map(|()| EXIT_OK),
        Command::Audit(args) => commands::audit::audit(&ctx, args),
        Command::Import(args) => commands::scan::import(&ctx, args),
        Command::Orphans(args) => commands::orphans::orphans(&ctx, args),
        Command::Servers(c) => commands::servers::servers(&ctx, c),
        Command::Agent(args) => commands::agent::agent(&ctx, args),
        Command::Deliver(args) => commands::servers::deliver(&ctx, args),
        Command::Undeliver(args) => commands::servers::undeliver(&ctx, args),
        Command::Host(c) => commands::servers::host(&ctx, c),
        Command::Completions { .. } | Command::Scan(_) | Command::Run(_) => Ok(EXIT_OK),
    }
}
