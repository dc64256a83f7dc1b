//! `fix LABEL (--bind-ip IP… | --drop-withdraw | --read-only)`: a risk finding fixed through the
//! key's master, then the key checked again (see `latchkey_core::fix`).

use chrono::Utc;
use latchkey_core::fix::{Confirmation, FixRequest, Fixer, SettingView, StillThere};
use latchkey_core::model::Permission;
use latchkey_core::settings::Settings;
use serde::Serialize;

use crate::cli::FixArgs;
use crate::ctx::{runtime, Ctx};
use crate::error::{CliError, EXIT_FAILURE, EXIT_OK};
use crate::input;
use crate::views::{print_json, StatusJson};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FixJson<'a> {
    key: StatusJson,
    fix: latchkey_core::fix::FixKind,
    before: &'a SettingView,
    after: &'a SettingView,
    gone: &'a [&'static str],
    still_there: &'a [StillThere],
    dropped: &'a [Permission],
    confirmed_by: Confirmation,
    own_read_failed: Option<&'a str>,
    unguarded: bool,
}

pub fn fix(ctx: &Ctx, args: FixArgs) -> Result<u8, CliError> {
    let key = ctx.find_key(&args.key)?;
    let request = match (args.bind_ip.is_empty(), args.drop_withdraw, args.read_only) {
        (false, false, false) => FixRequest::BindIps(args.bind_ip),
        (true, true, false) => FixRequest::DropWithdraw,
        (true, false, true) => FixRequest::ReadOnly,
        _ => {
            return Err(CliError::Usage(
                "Choose one fix: --bind-ip IP (repeat for more), --drop-withdraw or --read-only.".to_owned(),
            ))
        }
    };
    let fixer = Fixer::new(&ctx.vault, &ctx.guard, &ctx.client).exchange_code(args.exchange_code.as_deref());
    // Checked first, so a typo is refused before a code is asked for (and costs no try).
    let plan = fixer.prepare(key.id, &request, Utc::now())?;
    let code =
        if plan.needs_code { Some(input::code_arg(args.code, "2FA code (or a recovery code): ")?) } else { None };
    eprintln!(
        "{} '{}' through '{}' at {}…",
        plan.kind.label().trim_end_matches('…'),
        key.label,
        plan.master.label,
        key.exchange
    );
    let fixed = runtime()?.block_on(fixer.apply(key.id, &request, code.as_ref().map(|c| c.as_str()), Utc::now()))?;
    let exit = if fixed.still_there.is_empty() { EXIT_OK } else { EXIT_FAILURE };
    if args.json {
        let settings = Settings::load(ctx.vault.store())?;
        print_json(&FixJson {
            key: StatusJson::build(&fixed.record, &chrono::Local::now(), settings.due_soon_days, true),
            fix: fixed.kind,
            before: &fixed.settings_before,
            after: &fixed.settings_after,
            gone: &fixed.gone,
            still_there: &fixed.still_there,
            dropped: &fixed.dropped,
            confirmed_by: fixed.confirmed_by,
            own_read_failed: fixed.own_read_failed.as_deref(),
            unguarded: fixed.unguarded,
        })?;
        return Ok(exit);
    }
    let setting = |s: &SettingView| {
        let perms: Vec<String> = s.permissions.iter().map(|p| format!("{p:?}").to_lowercase()).collect();
        let ips = if s.ip_whitelist.is_empty() {
            "no IP whitelist".to_owned()
        } else {
            format!("bound to {}", s.ip_whitelist.join(", "))
        };
        format!("{}; {ips}", perms.join(", "))
    };
    println!(
        "Changed '{}' ({}) at {}: {} → {}.",
        fixed.record.label,
        fixed.record.key_hint,
        fixed.record.exchange,
        setting(&fixed.settings_before),
        setting(&fixed.settings_after)
    );
    if !fixed.dropped.is_empty() && fixed.kind != latchkey_core::fix::FixKind::DropWithdraw {
        let names: Vec<String> = fixed.dropped.iter().map(|p| format!("{p:?}").to_lowercase()).collect();
        println!("    Also removed {}: the exchange sets sub keys to read and trade only.", names.join(" and "));
    }
    match (fixed.confirmed_by, &fixed.own_read_failed) {
        (Confirmation::MasterListing, Some(why)) => println!(
            "    The key's own read does not answer from this machine ({why}); the master's listing shows the new setting."
        ),
        _ => println!("    Checked again with the key's own signed read."),
    }
    for code in &fixed.gone {
        println!("    Gone: {code}.");
    }
    for still in &fixed.still_there {
        println!("    Still there: {} — {}", still.finding.code, still.why);
    }
    if fixed.unguarded {
        println!("    Done without a 2FA code: 2FA is not set up (`latchkey 2fa enroll`).");
    }
    Ok(exit)
}
