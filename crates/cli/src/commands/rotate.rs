//! `rotate LABEL…`: for sub keys whose master Latchkey holds, the automatic rotation now (the
//! engine in `latchkey_core::autorotate`, the same the tray runs on schedule); for any other key
//! the guided rotation, as in the app: the new credentials come in as `add` reads them (prompt,
//! stdin, environment), the new key is checked with the exchange and saved under the label. Either
//! way the bots running with the old key (`latchkey run`) get `--grace` seconds to move to the new
//! one, and then the old key is retired through the revoke engine.

use std::time::Duration;

use chrono::Utc;
use latchkey_core::autorotate::{self, Progress, RotationEvent, RotationReport, RotationResult};
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
    if args.resume {
        let rt = runtime()?;
        // A rotation may have stopped while its old key's revoke job ran: that one first.
        rt.block_on(ctx.engine.resume_unfinished(latchkey_core::revoke::no_progress()))?;
        let reports = rt.block_on(ctx.rotations(args.grace).resume_unfinished(printer(args.json)))?;
        return finish_automatic(&reports, args.json);
    }
    let mut keys = Vec::new();
    for label in &args.keys {
        let key = ctx.find_key(label)?;
        require_usable(&key)?;
        keys.push(key);
    }
    let automatic: Vec<bool> = keys.iter().map(|k| autorotate::eligible(ctx.vault.store(), k).is_ok()).collect();
    if automatic.iter().all(|a| *a) {
        if args.no_verify {
            return Err(CliError::Usage("--no-verify is for a key rotated by hand: a key Latchkey rotates through its master is always verified.".to_owned()));
        }
        let code = input::code_arg(args.code, "2FA code (or a recovery code): ")?;
        let proof = ctx.guard.verify_for_action(&code, Utc::now())?;
        drop(code);
        let ids: Vec<_> = keys.iter().map(|k| k.id).collect();
        let engine = ctx.rotations(args.grace);
        // An interrupted rotation goes first (and the revoke job it may have left): its key may be
        // one of these.
        let rt = runtime()?;
        rt.block_on(ctx.engine.resume_unfinished(latchkey_core::revoke::no_progress()))?;
        let mut reports = rt.block_on(engine.resume_unfinished(printer(args.json)))?;
        reports.push(rt.block_on(engine.rotate_now(proof, &ids, printer(args.json)))?);
        return finish_automatic(&reports, args.json);
    }
    let [old] = keys.as_slice() else {
        let manual: Vec<&str> =
            keys.iter().zip(&automatic).filter(|(_, a)| !**a).map(|(k, _)| k.label.as_str()).collect();
        return Err(CliError::Usage(format!(
            "Several keys rotate together only where Latchkey holds their masters; rotate {} one at a time, with its new credentials.",
            manual.join(", ")
        )));
    };
    let old = old.clone();
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

/// Live lines on stderr while the rotations run (none with --json: stdout carries the report).
fn printer(json: bool) -> Progress {
    std::sync::Arc::new(move |event| {
        if json {
            return;
        }
        match event {
            RotationEvent::Planned { label, exchange, .. } => eprintln!("Rotating '{label}' ({exchange})…"),
            RotationEvent::Step { .. } => {}
            RotationEvent::Rotated { new_hint, .. } => eprintln!("  the new key {new_hint} is in use"),
            RotationEvent::Failed { error, .. } => eprintln!("  failed: {error}"),
        }
    })
}

fn finish_automatic(reports: &[RotationReport], json: bool) -> Result<u8, CliError> {
    if json {
        print_json(&reports)?;
    } else {
        for report in reports {
            for key in &report.keys {
                let text = match &key.result {
                    RotationResult::Rotated { new_hint, old_key, .. } => {
                        format!("rotated: the new key is {new_hint}; the old key is {}", old_key.as_str())
                    }
                    RotationResult::Failed { error, .. } => format!("NOT ROTATED: {error}"),
                    RotationResult::Pending => "not finished: run `latchkey rotate --resume`".to_owned(),
                };
                println!("- {}: {text}", key.label);
            }
        }
    }
    let failed = reports.iter().flat_map(|r| &r.keys).any(|k| {
        !matches!(&k.result, RotationResult::Rotated { old_key: latchkey_core::model::KeyStatus::Revoked, .. })
    });
    Ok(if failed { EXIT_FAILURE } else { EXIT_OK })
}
