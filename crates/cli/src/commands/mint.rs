//! `subaccounts --master LABEL` and `mint --master LABEL --sub-account NAME --label NEW …`: a
//! master key lists its sub-accounts and creates bot keys in them; the new key's secret goes from
//! the exchange's answer straight into the keychain (see `latchkey_core::mint`).

use chrono::Utc;
use latchkey_core::mint::{MintRequest, Minter};
use latchkey_core::model::{MasterReadiness, Permission, Readiness, SubAccount};
use latchkey_core::settings::Settings;
use serde::Serialize;

use crate::cli::{MintArgs, SubaccountsArgs};
use crate::ctx::{runtime, Ctx};
use crate::error::{CliError, EXIT_FAILURE, EXIT_OK};
use crate::input;
use crate::views::{print_json, StatusJson};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SubaccountsJson<'a> {
    master: &'a str,
    exchange: latchkey_core::model::Exchange,
    readiness: &'a MasterReadiness,
    sub_accounts: &'a [SubAccount],
}

pub fn subaccounts(ctx: &Ctx, args: SubaccountsArgs) -> Result<u8, CliError> {
    let master = ctx.find_key(&args.master)?;
    let minter = Minter::new(&ctx.vault, &ctx.guard, &ctx.client).exchange_code(args.exchange_code.as_deref());
    let (master, readiness, accounts) = runtime()?.block_on(minter.sub_accounts(master.id))?;
    if args.json {
        let json = SubaccountsJson {
            master: &master.record.label,
            exchange: master.record.exchange,
            readiness: &readiness,
            sub_accounts: &accounts,
        };
        print_json(&json)?;
        return Ok(EXIT_OK);
    }
    if accounts.is_empty() {
        println!("{} lists no sub-accounts under '{}'.", master.record.exchange, master.record.label);
    }
    for account in &accounts {
        let uid =
            account.uid.as_deref().filter(|u| *u != account.name).map(|u| format!("  uid {u}")).unwrap_or_default();
        let frozen = if account.frozen { "  (frozen)" } else { "" };
        println!("{}{uid}{frozen}", account.name);
    }
    match readiness.readiness {
        Readiness::Ready => println!("'{}' can mint keys for these sub-accounts.", master.record.label),
        Readiness::Unconfirmed | Readiness::NotReady | Readiness::Unsupported => {
            let verdict =
                if readiness.readiness == Readiness::NotReady { "cannot mint keys yet" } else { "may mint keys" };
            println!("'{}' {verdict}:", master.record.label);
            for message in readiness.messages() {
                println!("    {message}");
            }
        }
    }
    Ok(EXIT_OK)
}

fn permissions(words: &[String]) -> Result<Vec<Permission>, CliError> {
    words
        .iter()
        .map(|w| w.trim().to_ascii_lowercase())
        .filter(|w| !w.is_empty())
        .map(|w| {
            serde_json::from_value::<Permission>(serde_json::Value::String(w.clone()))
                .map_err(|_| CliError::Usage(format!("Unknown permission '{w}' for --perm: use read, or read,trade.")))
        })
        .collect()
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MintJson {
    key: StatusJson,
    master: String,
    sub_account: SubAccount,
    auto_rotate: bool,
    verified: bool,
    unverified_because: Option<String>,
    notes: Vec<String>,
}

pub fn mint(ctx: &Ctx, args: MintArgs) -> Result<u8, CliError> {
    let master = ctx.find_key(&args.master)?;
    let request = MintRequest {
        master: master.id,
        sub_account: args.sub_account,
        label: args.label,
        permissions: permissions(&args.perm)?,
        ip_whitelist: args.ips,
        no_ip_whitelist: args.no_ip_whitelist,
        rotation_days: args.rotate_every,
        auto_rotate: args.auto_rotate,
        expire_days: args.expire_days,
    };
    let minter = Minter::new(&ctx.vault, &ctx.guard, &ctx.client).exchange_code(args.exchange_code.as_deref());
    // Checked first, so a typo is refused before a code is asked for (and costs no try).
    let plan = minter.plan(&request, Utc::now())?;
    let code =
        if plan.needs_code { Some(input::code_arg(args.code, "2FA code (or a recovery code): ")?) } else { None };
    eprintln!("Creating '{}' through '{}' at {}…", plan.label, master.label, master.exchange);
    let minted = runtime()?.block_on(minter.mint(&request, code.as_ref().map(|c| c.as_str()), Utc::now()))?;
    let exit = if minted.unverified.is_some() { EXIT_FAILURE } else { EXIT_OK };
    if args.json {
        let settings = Settings::load(ctx.vault.store())?;
        print_json(&MintJson {
            key: StatusJson::build(&minted.record, &chrono::Local::now(), settings.due_soon_days, true),
            master: master.label.clone(),
            sub_account: minted.sub_account.clone(),
            auto_rotate: minted.mint.auto_rotate,
            verified: minted.unverified.is_none(),
            unverified_because: minted.unverified.clone(),
            notes: minted.notes.clone(),
        })?;
        return Ok(exit);
    }
    for note in &minted.notes {
        eprintln!("{note}");
    }
    let record = &minted.record;
    let perms: Vec<String> = record.permissions.iter().map(|p| format!("{p:?}").to_lowercase()).collect();
    let ips = if record.ip_whitelist.is_empty() {
        "no IP whitelist".to_owned()
    } else {
        format!("bound to {}", record.ip_whitelist.join(", "))
    };
    println!(
        "Minted '{}' ({}) in {} sub-account {} through '{}': {}; {}. Its secret is in the keychain.",
        record.label,
        record.key_hint,
        record.exchange,
        minted.sub_account.name,
        master.label,
        perms.join(", "),
        ips
    );
    match &minted.unverified {
        None => println!("    Verified with its own signed read: `latchkey run '{}' -- …` may hand it to a bot.", record.label),
        Some(why) => println!(
            "    Its own signed read failed ({why}), so bots may not use it yet: check it with `latchkey check '{}'`, then allow it with `latchkey bots allow '{}'`.",
            record.label, record.label
        ),
    }
    if minted.mint.auto_rotate {
        println!("    Marked to rotate automatically every {} days.", record.rotation_days);
    }
    Ok(exit)
}
