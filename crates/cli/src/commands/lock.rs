//! `lock-sub-account KEY`: the emergency stop for a whole sub-account, signed by the key's master
//! (see `latchkey_core::lock`). One 2FA code when 2FA is set up.

use chrono::Utc;
use latchkey_core::lock::Locker;

use crate::cli::LockArgs;
use crate::ctx::{runtime, Ctx};
use crate::error::{CliError, EXIT_OK};
use crate::input;
use crate::views::print_json;

pub fn lock(ctx: &Ctx, args: LockArgs) -> Result<u8, CliError> {
    let key = ctx.find_key(&args.key)?;
    let locker = Locker::new(&ctx.vault, &ctx.guard, &ctx.client).exchange_code(args.exchange_code.as_deref());
    // Checked first, so a key that cannot be locked costs no code.
    let plan = locker.plan(key.id, Utc::now())?;
    let code =
        if plan.needs_code { Some(input::code_arg(args.code, "2FA code (or a recovery code): ")?) } else { None };
    eprintln!("Locking {} sub-account '{}' through '{}'…", key.exchange, plan.sub_account, plan.master.label);
    let locked = runtime()?.block_on(locker.lock(key.id, code.as_ref().map(|c| c.as_str()), Utc::now()))?;
    if args.json {
        print_json(&locked)?;
        return Ok(EXIT_OK);
    }
    println!(
        "Locked {} sub-account '{}' through '{}': every key of it stops at {}, until it is unlocked on {}'s website.",
        locked.exchange, locked.sub_account, locked.master, locked.exchange, locked.exchange
    );
    if !locked.keys.is_empty() {
        println!(
            "    Its keys in Latchkey: {}. Revoke them as usual: a locked key is no deleted key.",
            locked.keys.join(", ")
        );
    }
    if locked.unguarded {
        println!("    Done without a 2FA code: 2FA is not set up (`latchkey 2fa enroll`).");
    }
    Ok(EXIT_OK)
}
