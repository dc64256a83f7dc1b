//! `2fa enroll|status|disable`. Enrollment shows the new TOTP secret (URI, terminal QR code, base32
//! text) and the recovery codes once: those are the only secrets this CLI ever prints, because the
//! user must copy them into an authenticator and a safe place.

use chrono::Utc;
use latchkey_core::guard::{human_wait, GuardError};
use qrcode::render::unicode::Dense1x2;
use qrcode::QrCode;
use secrecy::ExposeSecret;

use crate::cli::TwoFactorCommand;
use crate::ctx::Ctx;
use crate::error::CliError;
use crate::input;
use crate::views::print_json;

pub fn two_factor(ctx: &Ctx, command: TwoFactorCommand) -> Result<(), CliError> {
    match command {
        TwoFactorCommand::Enroll { code, destroy_old_seed } => enroll(ctx, code, destroy_old_seed),
        TwoFactorCommand::Status(flag) => status(ctx, flag.json),
        TwoFactorCommand::Disable { code } => {
            let code = input::code_arg(code, "Current 2FA code (or a recovery code): ")?;
            ctx.guard.disable(&code, Utc::now())?;
            println!("2FA is off. Emergency revoke and guarded actions are unavailable until you enroll again.");
            Ok(())
        }
    }
}

fn enroll(ctx: &Ctx, code: Option<String>, destroy_old_seed: bool) -> Result<(), CliError> {
    let enrolled = ctx.guard.status(Utc::now())?.enrolled;
    let enrollment = if destroy_old_seed && !enrolled {
        eprintln!("Destroying the 2FA secret left in the keychain: codes from that authenticator entry stop working.");
        ctx.guard.begin_enrollment_destroying_old_seed(Utc::now())?
    } else {
        let current = match (enrolled, code) {
            (_, Some(c)) => Some(input::code_arg(Some(c), "")?),
            (true, None) => Some(input::code("2FA is already set up. Current code (or a recovery code): ")?),
            (false, None) => None,
        };
        ctx.guard.begin_enrollment(current.as_ref().map(|c| c.as_str()), Utc::now())?
    };
    // EXPOSE: enrollment must show the new TOTP secret to the user, once, on their terminal.
    let uri = enrollment.uri.expose_secret();
    let qr = QrCode::new(uri.as_bytes())
        .map_err(|e| CliError::Failed(format!("Could not draw the QR code ({e}); type the secret below instead.")))?
        .render::<Dense1x2>()
        .dark_color(Dense1x2::Light)
        .light_color(Dense1x2::Dark)
        .quiet_zone(true)
        .build();
    println!("Scan this QR code with your authenticator app (Aegis, Google Authenticator, 1Password, …):\n");
    println!("{qr}");
    println!("otpauth URI: {uri}");
    println!("Secret for manual entry: {}", enrollment.secret_base32.expose_secret());
    println!();
    drop(enrollment);
    // The guard counts the tries (3, each in the backoff) and drops the setup after the last.
    let recovery = loop {
        let code = input::code("Enter the 6-digit code your authenticator shows: ")?;
        match ctx.guard.confirm_enrollment(&code, Utc::now()) {
            Ok(r) => break r,
            Err(e @ (GuardError::WrongFirstCode { .. } | GuardError::NotACode)) => eprintln!("{e}"),
            Err(e) => return Err(e.into()),
        }
    };
    println!("2FA is set up.\n");
    println!("Recovery codes: each works once in place of a code. Store them offline now; they are not shown again:");
    for c in &recovery.codes {
        // EXPOSE: shown once at enrollment; only hashes are kept.
        println!("  {}", c.expose_secret());
    }
    Ok(())
}

fn status(ctx: &Ctx, json: bool) -> Result<(), CliError> {
    let s = ctx.guard.status(Utc::now())?;
    if json {
        return print_json(&s);
    }
    if !s.enrolled {
        println!("2FA is not set up. Run `latchkey 2fa enroll` to protect emergency revoke and other guarded actions.");
        return Ok(());
    }
    println!("2FA is set up; {} recovery code(s) left.", s.recovery_codes_left);
    if s.locked_for_secs > 0 {
        println!("Paused after {} wrong codes: try again in {}.", s.failures, human_wait(s.locked_for_secs));
    } else if s.failures > 0 {
        println!("{} wrong code(s) in a row so far.", s.failures);
    }
    Ok(())
}
