//! The audit log and whether its hash chain is intact.

use latchkey_core::audit::anchor::{AnchorCheck, AnchorState};
use latchkey_core::audit::Entry;
use serde::Serialize;
use tauri::State;

use super::blocking;
use crate::{AppState, IpcError};
use ts_rs::TS;

#[derive(Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "AuditChain")]
pub struct ChainView {
    ok: bool,
    checked: u64,
    first_broken: Option<i64>,
    /// The log's end against its keychain anchor; null when the app has none.
    anchor: Option<AnchorState>,
    message: String,
}

#[derive(Debug, Serialize, TS)]
#[ts(rename = "AuditLog")]
pub struct AuditView {
    entries: Vec<Entry>,
    chain: ChainView,
}

#[tauri::command]
pub async fn audit_log(state: State<'_, AppState>, limit: Option<u32>) -> Result<AuditView, IpcError> {
    let core = state.core()?;
    blocking(move || {
        let store = core.vault.store();
        let entries = store.audit_log(limit.unwrap_or(500).min(10_000))?;
        let report = store.verify_audit_chain()?;
        let end = report.anchor.as_ref().map(|a| (a.consistent(), a.describe(report.entries)));
        let message = match (&report.first_broken, &end) {
            (Some(b), _) => format!(
                "The audit log was altered at entry {}: {}. Entries from there on cannot be trusted; keep a copy of the database for investigation.",
                b.seq, b.reason
            ),
            (None, Some((false, why))) => format!(
                "The audit log was altered: its {} entries link up, but {why}. Keep a copy of the database for investigation. If you know why (you moved a damaged database aside), `latchkey audit --accept` anchors the log as it stands.",
                report.entries
            ),
            (None, Some((true, how))) => format!("Audit log intact ({} entries checked); {how}.", report.entries),
            (None, None) => format!("Audit log intact ({} entries checked).", report.entries),
        };
        let chain = ChainView {
            ok: report.intact,
            checked: report.entries,
            first_broken: report.first_broken.map(|b| b.seq),
            anchor: report.anchor.as_ref().map(AnchorCheck::state),
            message,
        };
        Ok(AuditView { entries, chain })
    })
    .await
}
