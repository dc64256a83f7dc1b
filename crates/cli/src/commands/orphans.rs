//! `orphans`: keychain items of Latchkey's namespace that no key on the list describes.

use chrono::Utc;
use latchkey_core::model::KeyId;
use latchkey_core::orphans::{self, Orphan, OrphanError, RestoreAnswers};

use crate::cli::OrphansArgs;
use crate::commands::keys::environment_from;
use crate::ctx::{runtime, Ctx};
use crate::error::{CliError, EXIT_FAILURE, EXIT_OK};
use crate::input;
use crate::views::{self, print_json, KeyJson};

pub fn orphans(ctx: &Ctx, args: OrphansArgs) -> Result<u8, CliError> {
    if let Some(id) = &args.restore {
        return restore(ctx, parse(id)?, &args);
    }
    if let Some(id) = &args.delete {
        return delete(ctx, parse(id)?, &args);
    }
    let found = orphans::find(&ctx.vault)?;
    if args.json {
        print_json(&found)?;
    } else if found.is_empty() {
        println!("No orphaned keychain items: every key item has its place on the list.");
    } else {
        print_list(&found);
    }
    // Like `scan`: something to deal with is exit 1, so scripts notice.
    Ok(if found.is_empty() { EXIT_OK } else { EXIT_FAILURE })
}

fn print_list(found: &[Orphan]) {
    println!("{} keychain item(s) no key on the list describes:", found.len());
    let rows: Vec<Vec<String>> = found
        .iter()
        .map(|o| {
            vec![
                o.id.to_string(),
                o.exchange.map_or("?".to_owned(), |e| e.display_name().to_owned()),
                o.environment.as_ref().map_or("?".to_owned(), views::environment_text),
                o.label.clone().unwrap_or_else(|| "?".to_owned()),
                o.key_hint.clone().unwrap_or_else(|| "unreadable".to_owned()),
            ]
        })
        .collect();
    println!("{}", views::table(&["ID", "EXCHANGE", "ENV", "LABEL", "KEY"], &rows));
    println!("Put one back with `latchkey orphans --restore ID` (add --exchange where it shows ?),");
    println!("or delete it with `latchkey orphans --delete ID`.");
}

fn parse(id: &str) -> Result<KeyId, CliError> {
    id.trim().parse().map_err(|_| {
        CliError::Usage(format!("'{id}' is not an item id: run `latchkey orphans` and copy an id from the list."))
    })
}

fn restore(ctx: &Ctx, id: KeyId, args: &OrphansArgs) -> Result<u8, CliError> {
    let environment = match (args.environment, &args.base_url) {
        (None, None) => None,
        (env, url) => Some(environment_from(env, url)?),
    };
    let answers = RestoreAnswers { exchange: args.exchange, environment, label: args.label.clone() };
    let restored = runtime()?.block_on(orphans::restore(&ctx.vault, &ctx.client, id, answers, Utc::now()));
    let restored = restored.map_err(cli_error)?;
    let record = &restored.record;
    if args.json {
        print_json(&KeyJson::from(record))?;
    } else {
        println!(
            "Restored '{}' ({}, {}) to the list: {}.",
            record.label,
            record.exchange,
            record.key_hint,
            record.status.describe(record.exchange)
        );
        match &restored.warning {
            None => println!("    permissions: {}", views::permissions_text(&record.permissions)),
            Some(e) => println!("    not verified: {e}"),
        }
    }
    Ok(EXIT_OK)
}

fn delete(ctx: &Ctx, id: KeyId, args: &OrphansArgs) -> Result<u8, CliError> {
    let enrolled = ctx.guard.status(Utc::now())?.enrolled;
    let code = if enrolled { Some(input::code_arg(args.code.clone(), "2FA code: ")?) } else { None };
    orphans::delete(&ctx.vault, &ctx.guard, id, code.as_deref().map(String::as_str), Utc::now()).map_err(cli_error)?;
    if !args.json {
        println!("Deleted keychain item {id}.");
    }
    Ok(EXIT_OK)
}

fn cli_error(e: OrphanError) -> CliError {
    match e {
        OrphanError::Key(e) => e.into(),
        OrphanError::Guard(e) => e.into(),
        OrphanError::Exchange(e) => e.into(),
        e @ OrphanError::NotAnOrphan(_) => CliError::Failed(e.to_string()),
    }
}
