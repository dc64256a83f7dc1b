//! Rotation reminders and guided rotation: settings, snooze, comparing a new key with the old one,
//! and the rotation itself (save the new key, then retire the old one through the revoke engine).

use chrono::Utc;
use latchkey_core::autorotate::{self, RotationReport};
use latchkey_core::handover;
use latchkey_core::model::KeyInspection;
use latchkey_core::risk::{self, Finding};
use latchkey_core::rotate::{self, Replacement, RotateError};
use latchkey_core::rotation::{self, Change};
use latchkey_core::secret::Credentials;
use latchkey_core::settings::Settings;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Runtime, State};

use super::blocking;
use super::keys::{parse_id, KeyView};
use super::revoke::{report_view, ReportView};
use crate::{AppState, IpcError};
use ts_rs::TS;

#[tauri::command]
pub async fn get_settings(state: State<'_, AppState>) -> Result<Settings, IpcError> {
    let core = state.core()?;
    blocking(move || Ok(Settings::load(core.vault.store())?)).await
}

#[tauri::command]
pub async fn save_settings<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    settings: Settings,
) -> Result<Settings, IpcError> {
    let core = state.core()?;
    let saved = blocking(move || Ok(settings.save(core.vault.store())?)).await?;
    crate::window::apply_start_at_login(&app, saved.start_at_login)?;
    Ok(saved)
}

#[tauri::command]
pub async fn snooze_key(state: State<'_, AppState>, id: String, days: u32) -> Result<KeyView, IpcError> {
    let (vault, id) = (state.vault()?, parse_id(&id)?);
    let view = blocking(move || {
        let record = vault.snooze(id, days, Utc::now())?;
        Ok(KeyView::one(&vault, record)?)
    })
    .await?;
    Ok(view)
}

#[derive(Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RotateInput {
    #[ts(type = "string")]
    pub api_key: SecretString,
    #[ts(type = "string")]
    pub api_secret: SecretString,
    #[serde(default)]
    #[ts(type = "string | null")]
    pub passphrase: Option<SecretString>,
}

impl RotateInput {
    fn credentials(self) -> Credentials {
        Credentials { api_key: self.api_key, api_secret: self.api_secret, passphrase: self.passphrase }
    }
}

#[derive(Debug, Serialize, TS)]
#[ts(rename = "RotationInspection")]
pub struct RotationCheck {
    inspection: KeyInspection,
    findings: Vec<Finding>,
    changes: Vec<Change>,
}

/// The wizard's check step: what the exchange says about the new key, and how it differs from the
/// old one (a new withdraw permission or a dropped IP whitelist is flagged). The old key itself is
/// refused as its own replacement.
#[tauri::command]
pub async fn inspect_rotation(
    state: State<'_, AppState>,
    id: String,
    input: RotateInput,
) -> Result<RotationCheck, IpcError> {
    let (vault, id) = (state.vault()?, parse_id(&id)?);
    let client = state.exchange()?;
    let (old, _credentials, inspection) = rotate::check(&vault, &client, id, input.credentials(), true).await?;
    let inspection = inspection.ok_or_else(|| IpcError::internal("The exchange was not asked: try again."))?;
    let findings = risk::assess(&inspection, Utc::now());
    let changes = rotation::compare(old.inspection.as_ref(), &inspection);
    Ok(RotationCheck { inspection, findings, changes })
}

#[derive(Debug, Serialize, TS)]
#[ts(rename = "RotateResult")]
pub struct RotationResult {
    key: KeyView,
    report: ReportView,
}

/// Guarded: the code is checked first, in Rust. Then the new key is checked with the exchange
/// (unless the user chose not to), saved under the old key's label, and the old key is retired
/// through the revoke engine: at the exchange where its API allows it, else with a checklist.
#[tauri::command]
pub async fn rotate_key(
    state: State<'_, AppState>,
    id: String,
    input: RotateInput,
    code: String,
    verify: bool,
) -> Result<RotationResult, IpcError> {
    let (core, id) = (state.core()?, parse_id(&id)?);
    let client = state.exchange()?;
    let proof = {
        let core = core.clone();
        blocking(move || Ok(core.guard.verify_for_action(&code, Utc::now())?)).await?
    };
    let replacement = Replacement { old: id, credentials: input.credentials(), verify, grace: handover::DEFAULT_GRACE };
    let rotated = rotate::rotate(&core.vault, &client, &core.engine, proof, replacement, Utc::now()).await?;
    let vault = core.vault.clone();
    let key = blocking(move || Ok(KeyView::one(&vault, rotated.key)?)).await?;
    Ok(RotationResult { key, report: report_view(rotated.report) })
}

#[derive(Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AutoRotated {
    /// How the rotation ended, step by step (the old key's end included).
    report: RotationReport,
    /// The new key, when the rotation put one in place.
    key: Option<KeyView>,
}

/// "Rotate…" on a key whose master Latchkey holds: the automatic rotation, now (create the
/// replacement through the master, verify it, hand it to the bots, delete and prove dead the old
/// key). Guarded: the code is checked first, in Rust, and counts toward the backoff.
#[tauri::command]
pub async fn rotate_now(state: State<'_, AppState>, id: String, code: String) -> Result<AutoRotated, IpcError> {
    let (core, id) = (state.core()?, parse_id(&id)?);
    let proof = {
        let core = core.clone();
        blocking(move || Ok(core.guard.verify_for_action(&code, Utc::now())?)).await?
    };
    let report = core.rotations.rotate_now(proof, &[id], autorotate::no_progress()).await?;
    let new_key = report.keys.iter().find_map(|k| match &k.result {
        autorotate::RotationResult::Rotated { new_key_id, .. } => Some(*new_key_id),
        _ => None,
    });
    let vault = core.vault.clone();
    let key = blocking(move || match new_key {
        Some(id) => Ok(Some(KeyView::one(&vault, vault.get(id)?)?)),
        None => Ok(None),
    })
    .await?;
    Ok(AutoRotated { report, key })
}

impl From<RotateError> for IpcError {
    fn from(e: RotateError) -> Self {
        match e {
            RotateError::Key(e) => e.into(),
            RotateError::Exchange(e) => e.into(),
            RotateError::Revoke(e) => e.into(),
            behind @ RotateError::ServersBehind { .. } => {
                let code = match &behind {
                    RotateError::ServersBehind { error, .. } => Some(error.kind()),
                    _ => None,
                };
                IpcError {
                    kind: crate::ipc_error::IpcErrorKind::Rotate,
                    message: behind.to_string(),
                    field: None,
                    code,
                    server_field: None,
                }
            }
        }
    }
}
