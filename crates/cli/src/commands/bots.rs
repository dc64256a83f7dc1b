//! `bots allow|deny LABEL`: whether `latchkey run` may hand a key to bots. Allowing needs a 2FA code.

use chrono::Utc;

use crate::cli::BotsCommand;
use crate::ctx::Ctx;
use crate::error::CliError;
use crate::input;

pub fn bots(ctx: &Ctx, command: BotsCommand) -> Result<(), CliError> {
    match command {
        BotsCommand::Allow { label, code } => {
            let key = ctx.find_key(&label)?;
            // A master (or a revoked key) is refused before a code is asked for.
            ctx.bots.may_allow(key.id)?;
            let code = input::code_arg(code, "2FA code (or a recovery code): ")?;
            let key = ctx.bots.allow(key.id, &code, Utc::now())?;
            println!("Bots may now use '{}': `latchkey run '{}' -- …` hands it over.", key.label, key.label);
        }
        BotsCommand::Deny { label } => {
            let key = ctx.find_key(&label)?;
            let key = ctx.bots.deny(key.id, Utc::now())?;
            println!("Bots may no longer use '{}': `latchkey run` refuses it.", key.label);
        }
    }
    Ok(())
}
