//! The audit log and whether its hash chain is intact.

use latchkey_core::audit::Entry;
use serde::Serialize;
use tauri::State;

use super::blocking;
use crate::{AppState, IpcError};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChainView {
    ok: bool,
    checked: u64,
    first_broken: Option<i64>,
    message: String,
}

#[derive(Debug, Serialize)]
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
        let message = match &report.first_broken {
            None => format!("Audit log intact ({} entries checked).", report.entries),
            Some(b) => format!(
                "The audit log was altered at entry {}: {}. Entries from there on cannot be trusted; keep a copy of the database for investigation.",
                b.seq, b.reason
            ),
        };
        let chain = ChainView {
            ok: report.intact,
            checked: report.entries,
            first_broken: report.first_broken.map(|b| b.seq),
            message,
        };
        Ok(AuditView { entries, chain })
    })
    .await
}
