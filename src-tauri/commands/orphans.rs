//! Startup reconciliation: keychain items of Latchkey's namespace that no key on the list
//! describes. The dashboard asks at start and offers "restore to the list" or "delete" for each.

use chrono::Utc;
use latchkey_core::model::{Environment, Exchange};
use latchkey_core::orphans::{self, Orphan, OrphanError, RestoreAnswers};
use serde::{Deserialize, Serialize};
use tauri::State;

use super::blocking;
use super::keys::{parse_id, KeyView};
use crate::{AppState, IpcError};
use ts_rs::TS;

#[tauri::command]
pub async fn orphan_keys(state: State<'_, AppState>) -> Result<Vec<Orphan>, IpcError> {
    let vault = state.vault()?;
    blocking(move || Ok(orphans::find(&vault)?)).await
}

/// The dialog's answers for an item that does not record them (or that the user changed).
#[derive(Debug, Default, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[ts(rename = "RestoreOrphanInput")]
pub struct RestoreInput {
    #[serde(default)]
    #[ts(optional)]
    pub exchange: Option<Exchange>,
    #[serde(default)]
    #[ts(optional)]
    pub environment: Option<Environment>,
    #[serde(default)]
    #[ts(optional)]
    pub label: Option<String>,
}

#[derive(Debug, Serialize, TS)]
#[ts(rename = "RestoreOrphanResult")]
pub struct RestoreResult {
    key: KeyView,
    /// Why the key could not be checked with its exchange, when it could not.
    warning: Option<String>,
}

/// Puts the item back on the list and asks its exchange about it, so it gets its real permissions.
#[tauri::command]
pub async fn restore_orphan(
    state: State<'_, AppState>,
    id: String,
    input: Option<RestoreInput>,
) -> Result<RestoreResult, IpcError> {
    let (vault, id) = (state.vault()?, parse_id(&id)?);
    let client = state.exchange()?;
    let input = input.unwrap_or_default();
    let answers = RestoreAnswers { exchange: input.exchange, environment: input.environment, label: input.label };
    let restored = orphans::restore(&vault, &client, id, answers, Utc::now()).await?;
    let warning = restored.warning.map(|e| e.to_string());
    let key = blocking(move || Ok(KeyView::one(&vault, restored.record)?)).await?;
    Ok(RestoreResult { key, warning })
}

/// Deletes the item from the keychain for good. Guarded when 2FA is set up: the code is checked
/// here, in Rust.
#[tauri::command]
pub async fn delete_orphan(state: State<'_, AppState>, id: String, code: Option<String>) -> Result<(), IpcError> {
    let (core, id) = (state.core()?, parse_id(&id)?);
    blocking(move || Ok(orphans::delete(&core.vault, &core.guard, id, code.as_deref(), Utc::now())?)).await
}

impl From<OrphanError> for IpcError {
    fn from(e: OrphanError) -> Self {
        match e {
            OrphanError::Key(e) => e.into(),
            OrphanError::Guard(e) => e.into(),
            OrphanError::Exchange(e) => e.into(),
            e @ OrphanError::NotAnOrphan(_) => IpcError::not_found(e.to_string()),
        }
    }
}
