//! Emergency revoke: the plan, the guarded run with live progress on a channel, retry and
//! wipe-anyway for quarantined or still-live keys, "I deleted it" (a proof, then the wipe) for keys
//! deleted on the website, and the report saved as a text file. The TOTP code is checked by the
//! engine inside each call, never trusted to the web view.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use latchkey_core::model::{Exchange, KeyId};
use latchkey_core::revoke::{KeyResult, RevokeReport};
use latchkey_core::revoke::{PlannedRoute, Progress, ProgressEvent, Selection};
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::{AppHandle, Runtime, State};

use super::blocking;
use super::keys::parse_id;
use crate::{AppState, IpcError};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanView {
    id: KeyId,
    label: String,
    exchange: Exchange,
    key_hint: String,
    /// `remote`: revoked at the exchange through its API; `manual`: wiped here, deleted by hand.
    action: &'static str,
    detail: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct ProgressView {
    id: KeyId,
    stage: &'static str,
    message: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportItemView {
    id: KeyId,
    label: String,
    exchange: Exchange,
    key_hint: String,
    outcome: &'static str,
    message: String,
    manual_url: Option<String>,
    steps: Vec<String>,
    /// When the key's own signed call proved it revoked.
    proved_at: Option<DateTime<Utc>>,
    /// What the report offers: `retry`, `wipeAnyway`, `confirmDeleted`.
    actions: Vec<latchkey_core::revoke::ReportAction>,
}

#[derive(Debug, Serialize)]
pub struct ChecklistView {
    exchange: Exchange,
    url: String,
    steps: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportView {
    job_id: String,
    started_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
    items: Vec<ReportItemView>,
    checklist: Vec<ChecklistView>,
}

fn selection(ids: Option<Vec<String>>) -> Result<Selection, IpcError> {
    match ids {
        None => Ok(Selection::All),
        Some(ids) => Ok(Selection::Keys(ids.iter().map(|i| parse_id(i)).collect::<Result<_, _>>()?)),
    }
}

fn progress_to(channel: Channel<ProgressView>) -> Progress {
    std::sync::Arc::new(move |event: ProgressEvent| {
        let (id, stage, message) = match event {
            ProgressEvent::Planned { key_id, label, exchange, .. } => {
                (key_id, "planned", format!("{label} ({exchange}): queued"))
            }
            ProgressEvent::RemoteStarted { key_id } => (key_id, "remote_started", "Asking the exchange…".to_owned()),
            ProgressEvent::RemoteOk { key_id, already_revoked: true } => (
                key_id,
                "already_revoked",
                "Proved gone: the key's own signed call was refused as an invalid key.".to_owned(),
            ),
            ProgressEvent::RemoteOk { key_id, .. } => {
                (key_id, "remote_ok", "Revoked at the exchange, and proved gone.".to_owned())
            }
            ProgressEvent::Manual { key_id, url } => {
                (key_id, "manual", format!("Still live: no API revoke. Delete it at {url}"))
            }
            ProgressEvent::Retrying { key_id, attempt, wait_ms, reason } => (
                key_id,
                "retrying",
                format!("Attempt {attempt} failed ({reason}); retrying in {:.1} s", wait_ms as f64 / 1000.0),
            ),
            ProgressEvent::Wiped { key_id } => (key_id, "wiped", "Secret wiped from the keychain.".to_owned()),
            ProgressEvent::Failed { key_id, error, .. } => (key_id, "failed", error),
        };
        // The window may have closed: the revoke goes on and the report is kept in the journal.
        let _ = channel.send(ProgressView { id, stage, message });
    })
}

pub(crate) fn report_view(report: RevokeReport) -> ReportView {
    let items = report
        .keys
        .into_iter()
        .map(|k| {
            let mut proved_at = None;
            let (outcome, message, manual_url, steps) = match k.result {
                KeyResult::Revoked { method, proved_at: at } => {
                    proved_at = at;
                    (
                        "revoked",
                        format!("Revoked at {} ({method}) and proved by its own signed call; secret wiped.", k.exchange),
                        None,
                        vec![],
                    )
                }
                KeyResult::AlreadyRevoked { proved_at: at } => {
                    proved_at = at;
                    (
                        "already_revoked",
                        format!("{} no longer knows this key: proved by its own signed call; secret wiped.", k.exchange),
                        None,
                        vec![],
                    )
                }
                KeyResult::Manual { url, steps } => (
                    "manual",
                    format!(
                        "Still live at {0}: {0} has no API to revoke this key. It is blocked here and its secret kept: delete it on the website, then choose \"I deleted it\".",
                        k.exchange
                    ),
                    Some(url),
                    steps,
                ),
                KeyResult::WipedOnly { url, steps } => (
                    "wiped_locally",
                    format!("Secret wiped here without proof: the key still works at {}. Delete it on the website.", k.exchange),
                    Some(url),
                    steps,
                ),
                KeyResult::Quarantined { error, .. } => (
                    "quarantined",
                    format!("{error} The secret is kept so you can retry; the key is quarantined."),
                    None,
                    vec![],
                ),
                KeyResult::Unconfirmed { error, .. } => ("unconfirmed", error, None, vec![]),
                KeyResult::Pending => {
                    ("quarantined", "Not finished: restart Latchkey to resume this revoke.".to_owned(), None, vec![])
                }
            };
            ReportItemView {
                id: k.key_id,
                label: k.label,
                exchange: k.exchange,
                key_hint: k.key_hint,
                outcome,
                message,
                manual_url,
                steps,
                proved_at,
                actions: k.actions,
            }
        })
        .collect();
    let mut checklist: BTreeMap<&'static str, ChecklistView> = BTreeMap::new();
    for c in report.checklist {
        checklist
            .entry(c.exchange.as_str())
            .or_insert_with(|| ChecklistView { exchange: c.exchange, url: c.url.clone(), steps: vec![] })
            .steps
            .push(c.text);
    }
    ReportView {
        job_id: report.job_id,
        started_at: report.started_at,
        finished_at: report.finished_at,
        items,
        checklist: checklist.into_values().collect(),
    }
}

/// The tray's count of keys still live at their exchange, refreshed after every revoke job.
fn refresh_tray<R: Runtime>(app: &AppHandle<R>, core: &crate::state::Core) {
    if let Ok(keys) = core.vault.list() {
        crate::tray::set_still_live_count(app, keys.iter().filter(|k| k.status.is_still_live()).count());
    }
}

/// The report as a plain text file a person can keep or print.
fn report_text(r: &ReportView) -> String {
    let mut out = format!(
        "Latchkey emergency revoke report\nJob: {}\nStarted: {}\nFinished: {}\n\n",
        r.job_id,
        r.started_at.to_rfc3339(),
        r.finished_at.map(|t| t.to_rfc3339()).unwrap_or_else(|| "not finished".into())
    );
    for i in &r.items {
        out += &format!("- {} ({}, {}): {} — {}", i.label, i.exchange, i.key_hint, i.outcome, i.message);
        if let Some(at) = i.proved_at {
            out += &format!(" Proved revoked at {}.", at.to_rfc3339());
        }
        out += "\n";
    }
    out += "\nChecklist (steps only the exchange's website can do):\n";
    for c in &r.checklist {
        out += &format!("* {}: {}\n", c.exchange, c.url);
        for s in &c.steps {
            out += &format!("    - {s}\n");
        }
    }
    out += "* Change your exchange account password and review active sessions and API keys.\n";
    out
}

#[tauri::command]
pub async fn revoke_plan(state: State<'_, AppState>, ids: Option<Vec<String>>) -> Result<Vec<PlanView>, IpcError> {
    let core = state.core()?;
    let selection = selection(ids)?;
    blocking(move || {
        let plan = core.engine.plan(&selection)?;
        plan.into_iter()
            .map(|p| {
                let hint = core.vault.get(p.key_id)?.key_hint;
                let (action, detail) = match p.route {
                    PlannedRoute::SelfDelete => {
                        ("remote", format!("Revoke at {} via API (the key deletes itself)", p.exchange))
                    }
                    PlannedRoute::ViaMaster { master_label } => {
                        ("remote", format!("Revoke at {} via API, through master key '{master_label}'", p.exchange))
                    }
                    PlannedRoute::LocalOnly => (
                        "manual",
                        format!(
                            "{} has no API revoke for it: blocked here, secret kept; delete it on the website, then confirm",
                            p.exchange
                        ),
                    ),
                };
                Ok(PlanView { id: p.key_id, label: p.label, exchange: p.exchange, key_hint: hint, action, detail })
            })
            .collect()
    })
    .await
}

#[tauri::command]
pub async fn emergency_revoke<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    code: String,
    ids: Option<Vec<String>>,
    on_progress: Channel<ProgressView>,
) -> Result<ReportView, IpcError> {
    let core = state.core()?;
    let report = core.engine.emergency_revoke(&code, selection(ids)?, Utc::now(), progress_to(on_progress)).await;
    refresh_tray(&app, &core);
    Ok(report_view(report?))
}

#[tauri::command]
pub async fn retry_revoke<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    code: String,
    id: String,
    on_progress: Channel<ProgressView>,
) -> Result<ReportView, IpcError> {
    let core = state.core()?;
    let report = core.engine.retry(&code, &[parse_id(&id)?], Utc::now(), progress_to(on_progress)).await;
    refresh_tray(&app, &core);
    Ok(report_view(report?))
}

/// "Wipe locally anyway" / "Wipe the secret here now": no proof, so the key stays "still live".
#[tauri::command]
pub async fn wipe_locally<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    code: String,
    id: String,
) -> Result<ReportView, IpcError> {
    let core = state.core()?;
    let progress = latchkey_core::revoke::no_progress();
    let report = core.engine.wipe_anyway(&code, &[parse_id(&id)?], Utc::now(), progress).await;
    refresh_tray(&app, &core);
    Ok(report_view(report?))
}

/// "I deleted it on the website": a signed call with the key's own credentials must be refused as
/// an invalid key before the secret is wiped and the key shows as revoked.
#[tauri::command]
pub async fn confirm_deleted<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    code: String,
    id: String,
) -> Result<ReportView, IpcError> {
    let core = state.core()?;
    let progress = latchkey_core::revoke::no_progress();
    let report = core.engine.confirm_deleted(&code, &[parse_id(&id)?], Utc::now(), progress).await;
    refresh_tray(&app, &core);
    Ok(report_view(report?))
}

/// Writes the job's report to `<data dir>/reports/` (owner-only, like the rest of the data dir)
/// and returns the path.
#[tauri::command]
pub async fn save_revoke_report(state: State<'_, AppState>, job_id: String) -> Result<String, IpcError> {
    let core = state.core()?;
    blocking(move || {
        let report =
            core.engine.report(&job_id)?.ok_or_else(|| IpcError::not_found("No revoke report with that id."))?;
        let text = report_text(&report_view(report));
        let dir = core.data_dir.join("reports");
        let safe_id: String = job_id.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
        let path = dir.join(format!("revoke-{safe_id}.txt"));
        // Never through a symlink planted at the path; owner-only like the rest of the data dir.
        latchkey_core::paths::write_private_file(&path, text.as_bytes()).map_err(|e| {
            IpcError::storage(format!(
                "Could not write the report to {}: {e}. Check the folder's permissions.",
                path.display()
            ))
        })?;
        Ok(path.display().to_string())
    })
    .await
}
