//! `revoke LABEL…|--all`: the app's emergency revoke engine, with per-key progress on stderr and
//! the report (with the checklist of what only the exchange's website can do) on stdout.
//! `revoke --wipe-here LABEL…` wipes quarantined or still-live keys without proof;
//! `confirm-deleted LABEL…` proves keys deleted on the website gone, then wipes them.
//! Each needs a 2FA code; while 2FA is not set up, the typed confirmation REVOKE instead (asked
//! for, or `--confirm REVOKE`). The engine decides which it accepts, and audits an unguarded run.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::Utc;
use latchkey_core::guard::REVOKE_PHRASE;
use latchkey_core::model::KeyId;
use latchkey_core::revoke::{retry_reason, KeyResult, PlannedRoute, Progress, ProgressEvent, RevokeReport, Selection};

use crate::cli::{ConfirmDeletedArgs, RevokeArgs};
use crate::ctx::{runtime, Ctx};
use crate::error::{CliError, EXIT_FAILURE, EXIT_OK};
use crate::input;
use crate::views::print_json;

pub fn revoke(ctx: &Ctx, args: RevokeArgs) -> Result<u8, CliError> {
    let rt = runtime()?;
    if args.resume {
        let reports = resume(ctx, &rt)?;
        if reports.is_empty() {
            eprintln!("No interrupted revoke to finish.");
        }
        if args.json {
            print_json(&reports)?;
        } else {
            reports.iter().for_each(print_report);
        }
        return Ok(if reports.iter().any(unfinished) { EXIT_FAILURE } else { EXIT_OK });
    }
    // A revoke a crash interrupted is finished before anything else: its keys would otherwise be
    // planned twice, and the app would finish the old job again at its next start.
    for report in resume(ctx, &rt)? {
        if args.json {
            let left = report.count(|r| matches!(r, KeyResult::Quarantined { .. } | KeyResult::Pending));
            eprintln!(
                "Finished the interrupted revoke {}: {} key(s) proved revoked, {} still live, {left} quarantined or unfinished.",
                report.job_id,
                report.proved(),
                report.still_live()
            );
        } else {
            print_report(&report);
            println!();
        }
    }
    if args.wipe_here {
        let ids = key_ids(ctx, &args.labels)?;
        let code = authorization(ctx, args.code, args.confirm)?;
        let report = rt.block_on(ctx.engine.wipe_anyway(&code, &ids, Utc::now(), printer(HashMap::new())))?;
        return finish(&report, args.json);
    }
    let selection = if args.all { Selection::All } else { Selection::Keys(key_ids(ctx, &args.labels)?) };
    let plan = ctx.engine.plan(&selection)?;
    if plan.is_empty() {
        eprintln!("Nothing to revoke: the selected keys are already revoked, or still live and waiting for you to delete them on the website (then `latchkey confirm-deleted LABEL`).");
        if args.json {
            print_json(&serde_json::json!(null))?;
        }
        return Ok(EXIT_OK);
    }
    eprintln!("Emergency revoke of {} key(s):", plan.len());
    let labels: HashMap<KeyId, String> = plan.iter().map(|p| (p.key_id, p.label.clone())).collect();
    for p in &plan {
        let how = match &p.route {
            PlannedRoute::SelfDelete => "revoke via API (the key deletes itself)".to_owned(),
            PlannedRoute::ViaMaster { master_label } => format!("revoke via API through master key '{master_label}'"),
            PlannedRoute::LocalOnly => {
                "no API revoke: blocked here, secret kept; delete it on the exchange's website, then `latchkey confirm-deleted`".to_owned()
            }
        };
        eprintln!("  - {} ({}): {how}", p.label, p.exchange);
    }
    let code = authorization(ctx, args.code, args.confirm)?;
    let report = rt.block_on(ctx.engine.emergency_revoke(&code, selection, Utc::now(), printer(labels)))?;
    finish(&report, args.json)
}

/// `confirm-deleted LABEL…`: the proof for keys the user deleted on the exchange's website.
pub fn confirm_deleted(ctx: &Ctx, args: ConfirmDeletedArgs) -> Result<u8, CliError> {
    let rt = runtime()?;
    let ids = key_ids(ctx, &args.labels)?;
    let code = authorization(ctx, args.code, args.confirm)?;
    let report = rt.block_on(ctx.engine.confirm_deleted(&code, &ids, Utc::now(), printer(HashMap::new())))?;
    if report.keys.is_empty() {
        eprintln!("Nothing to confirm: only quarantined or still-live keys can be confirmed deleted.");
    }
    finish(&report, args.json)
}

fn key_ids(ctx: &Ctx, labels: &[String]) -> Result<Vec<KeyId>, CliError> {
    let mut ids = Vec::new();
    for label in labels {
        let key = ctx.find_key(label)?;
        if !ids.contains(&key.id) {
            ids.push(key.id);
        }
    }
    Ok(ids)
}

/// What stands for the user's consent: `--confirm` as given; else a 2FA code when 2FA is set up;
/// else the typed REVOKE, asked for. The engine checks it (a phrase while 2FA is on is refused).
fn authorization(
    ctx: &Ctx,
    code: Option<String>,
    confirm: Option<String>,
) -> Result<zeroize::Zeroizing<String>, CliError> {
    if let Some(typed) = confirm {
        return Ok(zeroize::Zeroizing::new(typed));
    }
    if code.is_some() || ctx.guard.status(Utc::now())?.enrolled {
        return input::code_arg(code, "2FA code: ");
    }
    eprintln!(
        "2FA is not set up, so this runs without a code once you type {phrase} (it is written to the audit log as unguarded). Set up 2FA with `latchkey 2fa enroll` to guard it.",
        phrase = REVOKE_PHRASE
    );
    input::line(&format!("Type {REVOKE_PHRASE} to go ahead: "))
}

fn finish(report: &RevokeReport, json: bool) -> Result<u8, CliError> {
    if json {
        print_json(report)?;
    } else {
        print_report(report);
    }
    Ok(if unfinished(report) { EXIT_FAILURE } else { EXIT_OK })
}

/// Keys not proved revoked (quarantined, still live, not confirmed, pending): exit 1.
fn unfinished(report: &RevokeReport) -> bool {
    report.count(|r| !matches!(r, KeyResult::Revoked { .. } | KeyResult::AlreadyRevoked { .. })) > 0
}

/// Finishes the revokes a crash interrupted, as the app does at startup. No code: it only
/// completes what a verified code started.
fn resume(ctx: &Ctx, rt: &tokio::runtime::Runtime) -> Result<Vec<RevokeReport>, CliError> {
    let jobs = ctx.engine.unfinished()?;
    if jobs.is_empty() {
        return Ok(Vec::new());
    }
    // Said after the fact: the job may be one the app or another terminal is running (Busy).
    let labels = ctx.vault.list()?.into_iter().map(|k| (k.id, k.label)).collect();
    let reports = rt.block_on(ctx.engine.resume_unfinished(printer(labels)))?;
    eprintln!("Finished {} interrupted revoke(s) ({}).", reports.len(), jobs.join(", "));
    Ok(reports)
}

fn printer(labels: HashMap<KeyId, String>) -> Progress {
    let labels = Arc::new(Mutex::new(labels));
    Arc::new(move |event: ProgressEvent| {
        let mut labels = labels.lock().unwrap_or_else(|p| p.into_inner());
        let name =
            |id: &KeyId, labels: &HashMap<KeyId, String>| labels.get(id).cloned().unwrap_or_else(|| id.to_string());
        let line = match &event {
            ProgressEvent::Planned { key_id, label, exchange, .. } => {
                labels.insert(*key_id, label.clone());
                format!("{label} ({exchange}): queued")
            }
            ProgressEvent::RemoteStarted { key_id } => format!("{}: asking the exchange", name(key_id, &labels)),
            ProgressEvent::RemoteOk { key_id, already_revoked: true } => {
                format!("{}: proved gone (its own signed call was refused as an invalid key)", name(key_id, &labels))
            }
            ProgressEvent::RemoteOk { key_id, .. } => {
                format!("{}: revoked at the exchange, and proved gone", name(key_id, &labels))
            }
            ProgressEvent::Manual { key_id, url } => {
                format!("{}: still live (no API revoke); delete it at {url}", name(key_id, &labels))
            }
            ProgressEvent::Retrying { key_id, attempt, wait_ms, reason } => format!(
                "{}: attempt {attempt} failed ({}); retrying in {:.1} s",
                name(key_id, &labels),
                retry_reason(reason),
                *wait_ms as f64 / 1000.0
            ),
            ProgressEvent::Wiped { key_id } => format!("{}: secret wiped from the keychain", name(key_id, &labels)),
            ProgressEvent::Failed { key_id, error, .. } => format!("{}: FAILED: {error}", name(key_id, &labels)),
        };
        eprintln!("  {line}");
    })
}

/// "proved revoked at HH:MM:SS" (local time), the wording of the report and the card.
fn proved_text(at: &Option<chrono::DateTime<Utc>>) -> String {
    match at {
        Some(at) => format!("proved revoked at {}", at.with_timezone(&chrono::Local).format("%H:%M:%S")),
        None => "proved revoked".to_owned(),
    }
}

pub(crate) fn print_report(r: &RevokeReport) {
    println!("{} (job {})", r.kind.title(), r.job_id);
    println!(
        "{} proved revoked · {} still live, to finish on the website · {} quarantined",
        r.proved(),
        r.still_live(),
        r.count(|k| matches!(k, KeyResult::Quarantined { .. }))
    );
    for k in &r.keys {
        let text = match &k.result {
            KeyResult::Revoked { method, proved_at } => {
                format!("revoked at {}: {}, {}; secret wiped", k.exchange, method.describe(), proved_text(proved_at))
            }
            KeyResult::AlreadyRevoked { proved_at } => {
                format!("{} no longer knows this key, {}; secret wiped", k.exchange, proved_text(proved_at))
            }
            KeyResult::Manual { url, .. } => format!(
                "STILL LIVE at {}: no API can revoke it. Blocked here, secret kept. Delete it at {url}, then `latchkey confirm-deleted '{}'`.",
                k.exchange, k.label
            ),
            KeyResult::WipedOnly { url, .. } => format!(
                "secret wiped here without proof: STILL LIVE at {}; delete it at {url}",
                k.exchange
            ),
            KeyResult::Quarantined { error, .. } => format!(
                "QUARANTINED: {error} The secret is kept (`latchkey revoke '{0}'` retries, `latchkey confirm-deleted '{0}'` after deleting it on the website).",
                k.label
            ),
            KeyResult::Unconfirmed { error, .. } => format!("NOT CONFIRMED: {error}"),
            KeyResult::Pending => {
                "not finished: run `latchkey revoke --resume` or open the app to finish it".to_owned()
            }
        };
        println!("- {} ({}, {}): {text}", k.label, k.exchange, k.key_hint);
    }
    if !r.checklist.is_empty() {
        println!("\nChecklist (only the exchange's website can do these):");
        for c in &r.checklist {
            println!("  [ ] {}: {} ({})", c.exchange, c.text, c.url);
        }
    }
    if !r.servers.is_empty() {
        println!("\nOpenBao (bots on servers):");
        for step in &r.servers {
            match &step.error {
                None => println!("- done: {}", step.text),
                Some(e) => println!("- FAILED: {}: {e}", step.text),
            }
        }
    }
}
