//! `rotate LABEL`: the guided rotation, as in the app. The new credentials come in as `add` reads
//! them (prompt, stdin, environment); the new key is checked with the exchange, saved under the
//! label, the bots running with the old key (`latchkey run`) get `--grace` seconds to move to it,
//! and then the old key is retired through the revoke engine.

use std::time::Duration;

use chrono::Utc;
use latchkey_core::handover::Handover;
use latchkey_core::revoke::KeyResult;
use latchkey_core::rotate::{self, Replacement};
use serde::Serialize;

use super::revoke::print_report;
use crate::cli::RotateArgs;
use crate::ctx::{require_usable, runtime, Ctx};
use crate::error::{CliError, EXIT_FAILURE, EXIT_OK};
use crate::input;
use crate::views::{print_json, KeyJson};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RotatedJson<'a> {
    key: KeyJson,
    handover: &'a Handover,
    report: &'a latchkey_core::revoke::RevokeReport,
}

pub fn rotate(ctx: &Ctx, args: RotateArgs) -> Result<u8, CliError> {
    let old = ctx.find_key(&args.key)?;
    require_usable(&old)?;
    let code = input::code_arg(args.code, "2FA code (or a recovery code): ")?;
    let credentials = input::credentials(old.exchange)?;
    let proof = ctx.guard.verify_for_action(&code, Utc::now())?;
    drop(code);
    let replacement =
        Replacement { old: old.id, credentials, verify: !args.no_verify, grace: Duration::from_secs(args.grace) };
    if !args.no_verify {
        eprintln!("Checking the new key with {}…", old.exchange);
    }
    let rotated =
        runtime()?.block_on(rotate::rotate(&ctx.vault, &ctx.client, &ctx.engine, proof, replacement, Utc::now()))?;
    // A checklist for the website is the expected end where no API deletes the old key; a
    // quarantined or unfinished retirement is not.
    let failed = rotated
        .report
        .count(|r| matches!(r, KeyResult::Quarantined { .. } | KeyResult::Unconfirmed { .. } | KeyResult::Pending))
        > 0;
    if args.json {
        print_json(&RotatedJson {
            key: KeyJson::from(&rotated.key),
            handover: &rotated.handover,
            report: &rotated.report,
        })?;
    } else {
        println!("Rotated '{}': the new key is {}.", rotated.key.label, rotated.key.key_hint);
        match &rotated.handover {
            Handover::Nobody => println!("No running bot held the old key."),
            Handover::Moved { bots } => println!("{bots} running bot(s) moved to the new key."),
            Handover::GraceOver { still } => {
                let names: Vec<String> = still.iter().map(|h| format!("`{}` (pid {})", h.program, h.pid)).collect();
                println!(
                    "The grace period ({}s) is over and {} still held the old key: it is retired anyway, so restart them with the new key.",
                    args.grace,
                    names.join(", ")
                );
            }
        }
        print_report(&rotated.report);
    }
    Ok(if failed { EXIT_FAILURE } else { EXIT_OK })
}
