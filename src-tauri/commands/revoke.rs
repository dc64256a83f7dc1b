//! Emergency revoke: the plan, the guarded run with live progress on a channel, retry and
//! wipe-anyway for quarantined or still-live keys, "I deleted it" (a proof, then the wipe) for keys
//! deleted on the website, and the report saved as a text file. The TOTP code is checked by the
//! engine inside each call, never trusted to the web view.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use latchkey_core::model::{Exchange, KeyId};
use latchkey_core::revoke::{JobKind, KeyResult, RevokeReport};
use latchkey_core::revoke::{PlannedRoute, Progress, ProgressEvent, ProgressView, Selection};
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::State;

use super::blocking;
use super::keys::parse_id;
use crate::{AppState, IpcError};
use ts_rs::TS;

/// How the plan will revoke a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum PlannedAction {
    /// Revoked at the exchange through its API (the key itself, or its master).
    Remote,
    /// No API can revoke it: blocked here, secret kept; the user deletes it on the website.
    Manual,
}

#[derive(Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "RevokePlanItem")]
pub struct PlanView {
    id: KeyId,
    label: String,
    exchange: Exchange,
    key_hint: String,
    action: PlannedAction,
    detail: String,
}

/// What became of a key. `manual`: still live, no API revoke (secret kept); `wiped_locally`:
/// secret wiped here, still live; `unconfirmed`: "I deleted it" was not proved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum RevokeOutcome {
    Revoked,
    AlreadyRevoked,
    Manual,
    Quarantined,
    WipedLocally,
    Unconfirmed,
}

#[derive(Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "RevokeReportItem")]
pub struct ReportItemView {
    id: KeyId,
    label: String,
    exchange: Exchange,
    key_hint: String,
    outcome: RevokeOutcome,
    message: String,
    manual_url: Option<String>,
    steps: Vec<String>,
    /// When the key's own signed call proved it revoked.
    proved_at: Option<DateTime<Utc>>,
    /// What the report offers: `retry`, `wipeAnyway`, `confirmDeleted`.
    actions: Vec<latchkey_core::revoke::ReportAction>,
    /// The outcome in words, for the saved text (the UI words `outcome` itself).
    #[serde(skip)]
    headline: &'static str,
}

#[derive(Debug, Serialize, TS)]
#[ts(rename = "ChecklistItem")]
pub struct ChecklistView {
    exchange: Exchange,
    url: String,
    steps: Vec<String>,
}

#[derive(Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "RevokeReport")]
pub struct ReportView {
    job_id: String,
    /// An emergency revoke, a rotation's retired key, or a follow-up (retry, wipe, confirm).
    kind: JobKind,
    started_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
    items: Vec<ReportItemView>,
    checklist: Vec<ChecklistView>,
    /// What an emergency revoke did on the OpenBao server (keys destroyed, hosts' access taken).
    servers: Vec<latchkey_core::servers::ServerStep>,
}

fn selection(ids: Option<Vec<String>>) -> Result<Selection, IpcError> {
    match ids {
        None => Ok(Selection::All),
        Some(ids) => Ok(Selection::Keys(ids.iter().map(|i| parse_id(i)).collect::<Result<_, _>>()?)),
    }
}

fn progress_to(channel: Channel<ProgressView>) -> Progress {
    std::sync::Arc::new(move |event: ProgressEvent| {
        // The window may have closed: the revoke goes on and the report is kept in the journal.
        let _ = channel.send(ProgressView::from(event));
    })
}

pub(crate) fn report_view(report: RevokeReport) -> ReportView {
    // After a rotation the report is about the old key, which its replacement made unneeded.
    let revoked = if report.kind == JobKind::Rotation { "The old key was retired: revoked" } else { "Revoked" };
    let items = report
        .keys
        .into_iter()
        .map(|k| {
            let mut proved_at = None;
            let headline = k.result.headline();
            let (outcome, message, manual_url, steps) = match k.result {
                KeyResult::Revoked { method, proved_at: at } => {
                    proved_at = at;
                    (
                        RevokeOutcome::Revoked,
                        format!(
                            "{revoked} at {} ({}) and proved by its own signed call; secret wiped.",
                            k.exchange,
                            method.describe()
                        ),
                        None,
                        vec![],
                    )
                }
                KeyResult::AlreadyRevoked { proved_at: at } => {
                    proved_at = at;
                    (
                        RevokeOutcome::AlreadyRevoked,
                        format!("{} no longer knows this key: proved by its own signed call; secret wiped.", k.exchange),
                        None,
                        vec![],
                    )
                }
                KeyResult::Manual { url, steps } => (
                    RevokeOutcome::Manual,
                    format!(
                        "Still live at {0}: {0} has no API to revoke this key. It is blocked here and its secret kept: delete it on the website, then choose \"I deleted it\".",
                        k.exchange
                    ),
                    Some(url),
                    steps,
                ),
                KeyResult::WipedOnly { url, steps } => (
                    RevokeOutcome::WipedLocally,
                    format!("Secret wiped here without proof: the key still works at {}. Delete it on the website.", k.exchange),
                    Some(url),
                    steps,
                ),
                KeyResult::Quarantined { error, .. } => (
                    RevokeOutcome::Quarantined,
                    format!("{error} The secret is kept so you can retry; the key is quarantined."),
                    None,
                    vec![],
                ),
                KeyResult::Unconfirmed { error, .. } => (RevokeOutcome::Unconfirmed, error, None, vec![]),
                KeyResult::Pending => {
                    (RevokeOutcome::Quarantined, "Not finished: restart Latchkey to resume this revoke.".to_owned(), None, vec![])
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
                headline,
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
        kind: report.kind,
        started_at: report.started_at,
        finished_at: report.finished_at,
        items,
        checklist: checklist.into_values().collect(),
        servers: report.servers,
    }
}

/// The report as a plain text file a person can keep or print.
fn report_text(r: &ReportView) -> String {
    let mut out = format!(
        "Latchkey: {}\nJob: {}\nStarted: {}\nFinished: {}\n\n",
        r.kind.title(),
        r.job_id,
        r.started_at.to_rfc3339(),
        r.finished_at.map(|t| t.to_rfc3339()).unwrap_or_else(|| "not finished".into())
    );
    for i in &r.items {
        out += &format!("- {} ({}, {}): {}. {}", i.label, i.exchange, i.key_hint, i.headline, i.message);
        if let Some(at) = i.proved_at {
            out += &format!(" Proved revoked at {}.", at.to_rfc3339());
        }
        out += "\n";
    }
    if !r.checklist.is_empty() {
        out += "\nChecklist (steps only the exchange's website can do):\n";
    }
    for c in &r.checklist {
        out += &format!("* {}: {}\n", c.exchange, c.url);
        for s in &c.steps {
            out += &format!("    - {s}\n");
        }
    }
    if !r.servers.is_empty() {
        out += "\nOpenBao (bots on servers):\n";
    }
    for step in &r.servers {
        match &step.error {
            None => out += &format!("- Done: {}.\n", step.text),
            Some(e) => out += &format!("- Failed: {}. {e}\n", step.text),
        }
    }
    if let Some(advice) = r.kind.advice() {
        out += &format!("* {advice}\n");
    }
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
                        (PlannedAction::Remote, format!("Revoke at {} via API (the key deletes itself)", p.exchange))
                    }
                    PlannedRoute::ViaMaster { master_label } => {
                        (PlannedAction::Remote, format!("Revoke at {} via API, through master key '{master_label}'", p.exchange))
                    }
                    PlannedRoute::LocalOnly => (
                        PlannedAction::Manual,
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
pub async fn emergency_revoke(
    state: State<'_, AppState>,
    code: String,
    ids: Option<Vec<String>>,
    on_progress: Channel<ProgressView>,
) -> Result<ReportView, IpcError> {
    let core = state.core()?;
    let report = core.engine.emergency_revoke(&code, selection(ids)?, Utc::now(), progress_to(on_progress)).await;
    Ok(report_view(report?))
}

#[tauri::command]
pub async fn retry_revoke(
    state: State<'_, AppState>,
    code: String,
    id: String,
    on_progress: Channel<ProgressView>,
) -> Result<ReportView, IpcError> {
    let core = state.core()?;
    let report = core.engine.retry(&code, &[parse_id(&id)?], Utc::now(), progress_to(on_progress)).await;
    Ok(report_view(report?))
}

/// "Wipe locally anyway" / "Wipe the secret here now": no proof, so the key stays "still live".
#[tauri::command]
pub async fn wipe_locally(state: State<'_, AppState>, code: String, id: String) -> Result<ReportView, IpcError> {
    let core = state.core()?;
    let progress = latchkey_core::revoke::no_progress();
    let report = core.engine.wipe_anyway(&code, &[parse_id(&id)?], Utc::now(), progress).await;
    Ok(report_view(report?))
}

/// "I deleted it on the website": a signed call with the key's own credentials must be refused as
/// an invalid key before the secret is wiped and the key shows as revoked.
#[tauri::command]
pub async fn confirm_deleted(state: State<'_, AppState>, code: String, id: String) -> Result<ReportView, IpcError> {
    let core = state.core()?;
    let progress = latchkey_core::revoke::no_progress();
    let report = core.engine.confirm_deleted(&code, &[parse_id(&id)?], Utc::now(), progress).await;
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
        let name = if report.kind == JobKind::Rotation { "rotation" } else { "revoke" };
        let text = report_text(&report_view(report));
        let dir = core.data_dir.join("reports");
        let safe_id: String = job_id.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
        let path = dir.join(format!("{name}-{safe_id}.txt"));
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

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use latchkey_core::revoke::{ChecklistItem, KeyReport, RevokedBy};
    use latchkey_core::wording::code_words;

    use super::*;

    fn report(kind: JobKind, keys: Vec<(Exchange, KeyResult)>, checklist: Vec<ChecklistItem>) -> RevokeReport {
        let at = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
        let keys = keys
            .into_iter()
            .map(|(exchange, result)| KeyReport {
                key_id: KeyId::random(),
                label: "grid-bot".into(),
                exchange,
                key_hint: "BCQH…Z9Z9".into(),
                result,
                actions: vec![],
            })
            .collect();
        RevokeReport {
            job_id: "2f1c0b7e-job".into(),
            kind,
            started_at: at,
            finished_at: Some(at + chrono::Duration::seconds(3)),
            keys,
            checklist,
            servers: vec![],
        }
    }

    fn revoked(by: RevokedBy) -> KeyResult {
        KeyResult::Revoked { method: by, proved_at: Some(Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 2).unwrap()) }
    }

    #[test]
    fn a_saved_rotation_report_reads_as_routine_and_an_emergency_as_an_incident() {
        let rotation = report_text(&report_view(report(
            JobKind::Rotation,
            vec![(Exchange::Bybit, revoked(RevokedBy::SelfDelete))],
            vec![],
        )));
        assert!(rotation.starts_with("Latchkey: Rotation report: the old key retired\n"), "{rotation}");
        assert!(rotation.contains("- grid-bot (Bybit, BCQH…Z9Z9): Proved revoked. The old key was retired: revoked at Bybit (the key deleted itself through the API) and proved by its own signed call; secret wiped. Proved revoked at 2026-12-01T09:00:02+00:00."), "{rotation}");
        assert!(!rotation.contains("password") && !rotation.contains("emergency"), "{rotation}");
        assert!(!rotation.contains("Checklist"), "nothing to do on the website: {rotation}");

        let by_master = revoked(RevokedBy::ViaMaster { master_label: Some("okx-main".into()) });
        let manual = KeyResult::Manual { url: "https://www.okx.com/account/my-api".into(), steps: vec![] };
        let item = ChecklistItem {
            exchange: Exchange::Okx,
            url: "https://www.okx.com/account/my-api".into(),
            text: "Delete the API key…".into(),
        };
        let emergency = report_text(&report_view(report(
            JobKind::Revoke,
            vec![(Exchange::Okx, by_master), (Exchange::Okx, manual)],
            vec![item],
        )));
        assert!(emergency.starts_with("Latchkey: Emergency revoke report\n"), "{emergency}");
        assert!(emergency.contains("Revoked at OKX (deleted through master key 'okx-main')"), "{emergency}");
        assert!(emergency.contains("): Still live: delete it on the website. Still live at OKX"), "{emergency}");
        assert!(emergency.trim_end().ends_with("* Change your exchange account password, sign out other sessions, and check the API page for keys you do not recognise."), "{emergency}");
        for text in [rotation, emergency] {
            assert_eq!(code_words(&text), Vec::<&str>::new(), "{text}");
        }
    }

    #[test]
    fn no_saved_outcome_shows_its_internal_name() {
        let results = vec![
            (Exchange::Okx, KeyResult::AlreadyRevoked { proved_at: None }),
            (Exchange::Okx, KeyResult::WipedOnly { url: "https://www.okx.com/account/my-api".into(), steps: vec![] }),
            (Exchange::Bybit, KeyResult::Quarantined { error: "Bybit did not answer.".into(), kind: "timeout".into() }),
            (
                Exchange::Bybit,
                KeyResult::Unconfirmed { error: "Bybit still accepts the key.".into(), kind: "still_live".into() },
            ),
            (Exchange::Binance, KeyResult::Pending),
        ];
        for kind in [JobKind::Revoke, JobKind::Retry, JobKind::WipeAnyway, JobKind::Confirm, JobKind::Rotation] {
            let text = report_text(&report_view(report(kind, results.clone(), vec![])));
            assert_eq!(code_words(&text), Vec::<&str>::new(), "{text}");
        }
    }
}
