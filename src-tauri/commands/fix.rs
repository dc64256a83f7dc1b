//! Fix in place: the fixes a key's findings allow, and one fix through the key's master with one
//! 2FA code, checked in Rust (see `latchkey_core::fix`). Replies carry the key's [`KeyView`]
//! (masked hint only) and what the exchange lists now: permissions and IPs, never a secret.

use chrono::Utc;
use latchkey_core::fix::{self, Confirmation, FindingFixes, FixKind, FixRequest, Fixer, SettingView, StillThere};
use latchkey_core::model::Permission;
use latchkey_core::risk::{self, Finding};
use serde::{Deserialize, Serialize};
use tauri::State;
use ts_rs::TS;

use super::blocking;
use super::keys::{parse_id, KeyView};
use crate::{AppState, IpcError};

#[derive(Debug, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct FixKeyInput {
    pub kind: FixKind,
    /// For `bind_ips`: the addresses the key is to work from (the whole list).
    #[serde(default)]
    pub ips: Vec<String>,
}

#[derive(Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct FixKeyResult {
    pub key: KeyView,
    pub kind: FixKind,
    pub settings_before: SettingView,
    pub settings_after: SettingView,
    #[ts(type = "string[]")]
    pub gone: Vec<&'static str>,
    pub still_there: Vec<StillThere>,
    pub dropped: Vec<Permission>,
    pub findings: Vec<Finding>,
    pub confirmed_by: Confirmation,
    pub own_read_failed: Option<String>,
    pub unguarded: bool,
}

/// Each finding of the key's last inspection, with the fix buttons the exchange's API allows or
/// why none.
#[tauri::command]
pub async fn key_fixes(state: State<'_, AppState>, id: String) -> Result<Vec<FindingFixes>, IpcError> {
    let (vault, id) = (state.vault()?, parse_id(&id)?);
    blocking(move || {
        let record = vault.get(id)?;
        let findings = record.inspection.as_ref().map(|i| risk::assess(i, chrono::Local::now())).unwrap_or_default();
        Ok(fix::plan(&record, &findings))
    })
    .await
}

/// Fixes one finding through the key's master; the key is inspected again afterwards.
#[tauri::command]
pub async fn fix_key(
    state: State<'_, AppState>,
    id: String,
    input: FixKeyInput,
    code: Option<String>,
    exchange_code: Option<String>,
) -> Result<FixKeyResult, IpcError> {
    let (core, id) = (state.core()?, parse_id(&id)?);
    let client = state.exchange()?;
    let request = match input.kind {
        FixKind::BindIps => FixRequest::BindIps(input.ips),
        FixKind::DropWithdraw => FixRequest::DropWithdraw,
        FixKind::ReadOnly => FixRequest::ReadOnly,
    };
    let fixer = Fixer::new(&core.vault, &core.guard, &client).exchange_code(exchange_code.as_deref());
    let fixed = fixer.apply(id, &request, code.as_deref(), Utc::now()).await?;
    let vault = core.vault.clone();
    let record = fixed.record;
    let key = blocking(move || Ok(KeyView::one(&vault, record)?)).await?;
    Ok(FixKeyResult {
        key,
        kind: fixed.kind,
        settings_before: fixed.settings_before,
        settings_after: fixed.settings_after,
        gone: fixed.gone,
        still_there: fixed.still_there,
        dropped: fixed.dropped,
        findings: fixed.findings,
        confirmed_by: fixed.confirmed_by,
        own_read_failed: fixed.own_read_failed,
        unguarded: fixed.unguarded,
    })
}
