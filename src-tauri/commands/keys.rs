//! Listing, adding, reading and deleting keys. Secrets go in, never out: replies carry
//! [`KeyView`]s (ids, labels, masked hints, what the exchange said, findings).

use chrono::Utc;
use latchkey_core::exchange::Endpoint;
use latchkey_core::model::{Environment, Exchange, KeyId, KeyRecord};
use latchkey_core::risk::{self, Finding};
use latchkey_core::secret::Credentials;
use latchkey_core::vault::NewKey;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use tauri::State;

use super::blocking;
use crate::{AppState, IpcError};

/// A key as the dashboard shows it: its record plus the risk findings of its last inspection,
/// computed now (an expiry warning depends on today's date).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyView {
    #[serde(flatten)]
    pub record: KeyRecord,
    pub findings: Vec<Finding>,
}

impl From<KeyRecord> for KeyView {
    fn from(record: KeyRecord) -> Self {
        let findings = record.inspection.as_ref().map(|i| risk::assess(i, Utc::now())).unwrap_or_default();
        KeyView { record, findings }
    }
}

/// The wizard's input. The secret fields deserialize straight into zeroizing secret types.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddKeyInput {
    pub exchange: Exchange,
    pub label: String,
    pub environment: Environment,
    pub api_key: SecretString,
    pub api_secret: SecretString,
    #[serde(default)]
    pub passphrase: Option<SecretString>,
    #[serde(default)]
    pub rotation_days: Option<u32>,
    /// Check the key with its exchange and refuse to save if that fails. `false` only after the
    /// user explicitly chose to save without verifying.
    #[serde(default = "yes")]
    pub verify: bool,
}

fn yes() -> bool {
    true
}

pub(crate) fn parse_id(id: &str) -> Result<KeyId, IpcError> {
    id.parse().map_err(|_| IpcError::not_found("That key id is not valid: refresh the list and try again."))
}

#[tauri::command]
pub async fn list_keys(state: State<'_, AppState>) -> Result<Vec<KeyView>, IpcError> {
    let vault = state.vault()?;
    blocking(move || Ok(vault.list()?.into_iter().map(KeyView::from).collect())).await
}

#[tauri::command]
pub async fn get_key(state: State<'_, AppState>, id: String) -> Result<KeyView, IpcError> {
    let (vault, id) = (state.vault()?, parse_id(&id)?);
    blocking(move || Ok(vault.get(id)?.into())).await
}

#[tauri::command]
pub async fn add_key(state: State<'_, AppState>, input: AddKeyInput) -> Result<KeyView, IpcError> {
    let vault = state.vault()?;
    let new = NewKey {
        exchange: input.exchange,
        label: input.label,
        environment: input.environment,
        credentials: Credentials { api_key: input.api_key, api_secret: input.api_secret, passphrase: input.passphrase },
        rotation_days: input.rotation_days,
    };
    let checked = {
        let vault = vault.clone();
        blocking(move || Ok(vault.validate(new)?)).await?
    };
    // Rust asks the exchange itself: an inspection is never taken from the web view.
    let inspection = if input.verify {
        let endpoint = Endpoint::new(checked.exchange, &checked.environment)?;
        Some(state.exchange()?.inspect(&endpoint, &checked.credentials).await?)
    } else {
        None
    };
    blocking(move || Ok(vault.insert(checked, inspection, Utc::now())?.into())).await
}

/// Deleting a key is guarded: the code is checked here, in Rust, before anything is removed.
#[tauri::command]
pub async fn delete_key(state: State<'_, AppState>, id: String, code: String) -> Result<(), IpcError> {
    let (core, id) = (state.core()?, parse_id(&id)?);
    blocking(move || {
        let now = Utc::now();
        core.guard.verify(&code, now)?;
        Ok(core.vault.delete(id, now)?)
    })
    .await
}
