//! `audit [--verify | --accept]`.

use chrono::Utc;

use crate::cli::AuditArgs;
use crate::ctx::Ctx;
use crate::error::{CliError, EXIT_FAILURE, EXIT_OK};
use crate::input;
use crate::views::{self, print_json};

pub fn audit(ctx: &Ctx, args: AuditArgs) -> Result<u8, CliError> {
    let store = ctx.vault.store();
    if args.accept {
        let code = input::code_arg(args.code, "2FA code: ")?;
        let proof = ctx.guard.verify_for_action(&code, Utc::now())?;
        store.accept_audit_log(proof, Utc::now())?;
        println!(
            "The audit log is accepted as it stands and its end is anchored again; the audit log records that you did."
        );
        return Ok(EXIT_OK);
    }
    if args.verify {
        let report = store.verify_audit_chain()?;
        let end = report.anchor.as_ref().map(|a| (a.consistent(), a.describe(report.entries)));
        if args.json {
            print_json(&report)?;
        } else if let Some(b) = &report.first_broken {
            println!("Audit log BROKEN at entry {}: {}.", b.seq, b.reason);
            println!("Someone (or something) edited the log file directly; entries from there on cannot be trusted.");
        } else if let Some((false, why)) = &end {
            println!("Audit log NOT TRUSTWORTHY: its {} entries link up, but {why}.", report.entries);
            println!(
                "The log file was edited or replaced outside Latchkey: keep a copy of the database for investigation."
            );
            println!("If you know why (you moved a damaged database aside), `latchkey audit --accept` anchors the log as it stands.");
        } else {
            println!("Audit log intact: {} entries, every link checks out.", report.entries);
            if let Some((true, how)) = &end {
                println!("The log's end: {how}.");
            }
        }
        return Ok(if report.intact { EXIT_OK } else { EXIT_FAILURE });
    }
    let entries = store.audit_log(args.limit)?;
    if args.json {
        print_json(&entries)?;
        return Ok(EXIT_OK);
    }
    if entries.is_empty() {
        println!("The audit log is empty.");
        return Ok(EXIT_OK);
    }
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            vec![
                e.seq.to_string(),
                e.at.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M:%S").to_string(),
                e.action.label().to_owned(),
                e.label.clone().unwrap_or_else(|| "-".to_owned()),
                e.outcome.to_string(),
                e.detail.clone(),
            ]
        })
        .collect();
    println!("{}", views::table(&["#", "WHEN", "ACTION", "KEY", "OUTCOME", "DETAIL"], &rows));
    Ok(EXIT_OK)
}
