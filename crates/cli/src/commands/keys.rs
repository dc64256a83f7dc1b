//! `list`, `status`, `add`, `check`.

use chrono::Utc;
use latchkey_core::exchange::Endpoint;
use latchkey_core::model::{Environment, Exchange, KeyRecord, KeyStatus};
use latchkey_core::revoke::set_revoke_link;
use latchkey_core::risk::{self, Finding};
use latchkey_core::rotation;
use latchkey_core::settings::Settings;
use latchkey_core::vault::NewKey;
use latchkey_core::watch::{self, LookError, Looked};

use crate::cli::{AddArgs, CheckArgs, EnvArg};
use crate::ctx::{require_usable, runtime, Ctx};
use crate::error::CliError;
use crate::input;
use crate::views::{self, print_json, KeyJson, StatusJson};

pub fn list(ctx: &Ctx, json: bool) -> Result<(), CliError> {
    let keys = ctx.vault.list()?;
    if json {
        return print_json(&keys.iter().map(KeyJson::from).collect::<Vec<_>>());
    }
    if keys.is_empty() {
        println!("No keys yet. Add one with `latchkey add --exchange okx --label NAME`.");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = keys
        .iter()
        .map(|k| {
            vec![
                k.label.clone(),
                k.exchange.display_name().to_owned(),
                views::status_text(&KeyJson::from(k)),
                k.key_hint.clone(),
                views::environment_text(&k.environment),
                views::permissions_text(&k.permissions),
            ]
        })
        .collect();
    println!("{}", views::table(&["LABEL", "EXCHANGE", "STATUS", "KEY", "ENV", "PERMISSIONS"], &rows));
    Ok(())
}

pub fn status(ctx: &Ctx, json: bool) -> Result<(), CliError> {
    let settings = Settings::load(ctx.vault.store())?;
    let now = chrono::Local::now();
    let mut keys = ctx.vault.list()?;
    rotation::by_urgency(&mut keys, &now, settings.due_soon_days);
    let items: Vec<StatusJson> =
        keys.iter().map(|k| StatusJson::build(k, &now, settings.due_soon_days, false)).collect();
    if json {
        return print_json(&items);
    }
    if items.is_empty() {
        println!("No keys yet. Add one with `latchkey add --exchange okx --label NAME`.");
        return Ok(());
    }
    for item in &items {
        print_status(item);
    }
    Ok(())
}

fn print_status(item: &StatusJson) {
    let k = &item.key;
    let rotation = match (&item.rotation, k.status) {
        (_, s) if s.is_still_live() => "rotation: none, delete it first".to_owned(),
        (Some(r), _) => r.text.clone(),
        (None, KeyStatus::Revoked) => "revoked".to_owned(),
        (None, _) => "-".to_owned(),
    };
    println!(
        "{} ({}, {}, {}): {} · {}",
        k.label,
        k.exchange.display_name(),
        k.key_hint,
        views::status_text(k),
        rotation,
        views::risk_text(item.severity)
    );
    if k.verified_at.is_none() && k.status == KeyStatus::Active {
        println!("    never checked with {}: run `latchkey check '{}'`", k.exchange.display_name(), k.label);
    }
    if k.status == KeyStatus::Rejected {
        println!(
            "    {} refused this key: rotate it, or delete it here once it is gone at {}",
            k.exchange.display_name(),
            k.exchange.display_name()
        );
    }
    print_findings(&item.findings);
}

pub fn print_findings(findings: &[Finding]) {
    for f in findings {
        println!("    [{}] {}", views::severity_text(f.severity), f.message);
    }
}

/// Each finding, and under it the `latchkey fix` that ends it or why the exchange's API cannot.
fn print_findings_with_fixes(record: &KeyRecord, findings: &[Finding]) {
    use latchkey_core::fix::FixKind;
    for planned in latchkey_core::fix::plan(record, findings) {
        print_findings(std::slice::from_ref(&planned.finding));
        let flags: Vec<&str> = planned
            .fixes
            .iter()
            .map(|f| match f {
                FixKind::BindIps => "--bind-ip IP…",
                FixKind::DropWithdraw => "--drop-withdraw",
                FixKind::ReadOnly => "--read-only",
            })
            .collect();
        if !flags.is_empty() {
            println!("        fix it: latchkey fix '{}' {}", record.label, flags.join(" | "));
        } else if let Some(why) = &planned.cannot_fix {
            println!("        {why}");
        }
    }
}

fn environment(args: &AddArgs) -> Result<Environment, CliError> {
    environment_from(args.placement.environment, &args.placement.base_url)
}

/// `--env` and `--base-url` as `add` and `import` take them.
pub fn environment_from(env: Option<EnvArg>, base_url: &Option<String>) -> Result<Environment, CliError> {
    match (env, base_url) {
        (None | Some(EnvArg::Custom), Some(url)) => Ok(Environment::Custom { base_url: url.clone() }),
        (Some(EnvArg::Custom), None) => {
            Err(CliError::Usage("--env custom needs --base-url URL (e.g. https://eu.okx.com).".to_owned()))
        }
        (Some(_), Some(_)) => Err(CliError::Usage("--base-url goes with --env custom only.".to_owned())),
        (None | Some(EnvArg::Live), None) => Ok(Environment::Live),
        (Some(EnvArg::Demo), None) => Ok(Environment::Demo),
    }
}

pub fn add(ctx: &Ctx, args: AddArgs) -> Result<(), CliError> {
    let exchange: Exchange = args.exchange;
    let environment = environment(&args)?;
    let master = match &args.master {
        None => None,
        Some(label) => {
            let m = ctx.find_key(label)?;
            if m.exchange != exchange {
                return Err(CliError::Usage(format!(
                    "The master key '{}' is a {} key: a {} key's master must be on {}.",
                    m.label, m.exchange, exchange, exchange
                )));
            }
            require_usable(&m)?;
            Some(m)
        }
    };
    let settings = Settings::load(ctx.vault.store())?;
    let credentials = input::credentials(exchange)?;
    let new = NewKey {
        exchange,
        label: args.label,
        environment,
        credentials,
        rotation_days: Some(args.placement.rotation_days.unwrap_or(settings.default_rotation_days)),
    };
    let checked = ctx.vault.validate(new)?;
    let inspection = if args.no_verify {
        None
    } else {
        let endpoint = Endpoint::new(checked.exchange, &checked.environment)?;
        eprintln!("Checking the key with {}…", checked.exchange);
        Some(runtime()?.block_on(ctx.client.inspect(&endpoint, &checked.credentials))?)
    };
    let mut record = ctx.vault.insert(checked, inspection, Utc::now())?;
    if args.no_bots {
        record = ctx.bots.deny(record.id, Utc::now())?;
    }
    if let Some(m) = &master {
        set_revoke_link(ctx.vault.store(), record.id, Some(m.id), args.sub_account.as_deref())?;
        record = ctx.vault.get(record.id)?;
    }
    let now = chrono::Local::now();
    let item = StatusJson::build(&record, &now, settings.due_soon_days, true);
    if args.json {
        return print_json(&item);
    }
    println!("Added '{}' ({}, {}).", record.label, record.exchange, record.key_hint);
    if record.verified_at.is_none() {
        println!("    saved without checking it with {}: run `latchkey check '{}'`", record.exchange, record.label);
    } else {
        println!("    permissions: {}", views::permissions_text(&record.permissions));
    }
    if let Some(m) = &master {
        println!("    revocable through master key '{}' (which bots may therefore not use)", m.label);
    }
    if !record.bots_allowed {
        println!("    bots may not use it: `latchkey bots allow '{}'` to change that", record.label);
    }
    print_findings(&item.findings);
    Ok(())
}

pub fn check(ctx: &Ctx, args: CheckArgs) -> Result<(), CliError> {
    let key: KeyRecord = ctx.find_key(&args.label)?;
    if key.status == KeyStatus::Revoked {
        require_usable(&key)?;
    }
    let looked = runtime()?.block_on(watch::check_key(&ctx.vault, &ctx.client, key.id, Utc::now()));
    let looked = match looked {
        Ok(l) => l,
        Err(LookError::Key(e)) => return Err(e.into()),
        Err(LookError::Exchange(e)) => return Err(e.into()),
    };
    let settings = Settings::load(ctx.vault.store())?;
    let item = StatusJson::build(looked.record(), &chrono::Local::now(), settings.due_soon_days, true);
    let (record, changes) = match looked {
        Looked::Rejected { record, error, .. } => {
            if args.json {
                print_json(&item)?;
            }
            // The key is marked; the exit code and message say it cannot be used.
            return Err(CliError::Refused(format!(
                "{}: {error} Latchkey now shows '{}' as {}.",
                record.label,
                record.label,
                record.status.describe(record.exchange)
            )));
        }
        Looked::Answered { record, changes } => (record, changes),
    };
    if args.json {
        return print_json(&item);
    }
    let Some(inspection) = record.inspection.as_ref() else { return Ok(()) };
    println!(
        "{} ({}, {}): {} says permissions {}, {}",
        record.label,
        record.exchange,
        record.key_hint,
        record.exchange,
        views::permissions_text(&inspection.permissions),
        if inspection.ip_restricted {
            format!("bound to IPs {}", inspection.ip_whitelist.join(", "))
        } else {
            "usable from any IP".to_owned()
        }
    );
    if let Some(exp) = inspection.expires_at {
        println!("    expires {}", exp.format("%Y-%m-%d"));
    }
    for c in &changes {
        println!("    [{}] changed since the last check: {}", views::severity_text(c.severity), c.message);
    }
    println!("    overall risk: {}", views::severity_text(risk::overall(&item.findings)));
    print_findings_with_fixes(&record, &item.findings);
    print_master_readiness(ctx, &record, inspection)?;
    Ok(())
}

/// For a master account's key (or one that manages sub keys): whether it can mint bot keys, and
/// what it lacks.
fn print_master_readiness(
    ctx: &Ctx,
    record: &KeyRecord,
    inspection: &latchkey_core::model::KeyInspection,
) -> Result<(), CliError> {
    use latchkey_core::model::{AccountKind, Readiness};
    let manages = ctx.vault.store().sub_key_count(record.id)?;
    if inspection.account_kind == AccountKind::Sub || (inspection.account_kind == AccountKind::Unknown && manages == 0)
    {
        return Ok(());
    }
    let readiness = latchkey_core::exchange::master_readiness(inspection);
    match readiness.readiness {
        Readiness::Unsupported => {}
        Readiness::Ready => {
            println!("    can mint bot keys for its sub-accounts (`latchkey subaccounts --master '{}'`)", record.label)
        }
        Readiness::NotReady | Readiness::Unconfirmed => {
            let verdict = if readiness.readiness == Readiness::NotReady {
                "cannot mint bot keys yet"
            } else {
                "may mint bot keys"
            };
            println!("    {verdict}:");
            for message in readiness.messages() {
                println!("      {message}");
            }
        }
    }
    Ok(())
}
