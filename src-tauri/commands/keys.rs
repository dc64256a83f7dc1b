//! Listing, adding, reading and deleting keys. Secrets go in, never out: replies carry
//! [`KeyRecord`]s (ids, labels, masked hints).

use chrono::Utc;
use latchkey_core::model::{Environment, Exchange, KeyId, KeyRecord};
use latchkey_core::secret::Credentials;
use latchkey_core::vault::NewKey;
use secrecy::SecretString;
use serde::Deserialize;
use tauri::State;

use super::blocking;
use crate::{AppState, IpcError};

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
}

fn parse_id(id: &str) -> Result<KeyId, IpcError> {
    id.parse().map_err(|_| IpcError::not_found("That key id is not valid: refresh the list and try again."))
}

#[tauri::command]
pub async fn list_keys(state: State<'_, AppState>) -> Result<Vec<KeyRecord>, IpcError> {
    let vault = state.vault()?;
    blocking(move || Ok(vault.list()?)).await
}

#[tauri::command]
pub async fn get_key(state: State<'_, AppState>, id: String) -> Result<KeyRecord, IpcError> {
    let (vault, id) = (state.vault()?, parse_id(&id)?);
    blocking(move || Ok(vault.get(id)?)).await
}

#[tauri::command]
pub async fn add_key(state: State<'_, AppState>, input: AddKeyInput) -> Result<KeyRecord, IpcError> {
    let vault = state.vault()?;
    let new = NewKey {
        exchange: input.exchange,
        label: input.label,
        environment: input.environment,
        credentials: Credentials { api_key: input.api_key, api_secret: input.api_secret, passphrase: input.passphrase },
        rotation_days: input.rotation_days,
    };
    blocking(move || Ok(vault.add(new, Utc::now())?)).await
}

#[tauri::command]
pub async fn delete_key(state: State<'_, AppState>, id: String) -> Result<(), IpcError> {
    let (vault, id) = (state.vault()?, parse_id(&id)?);
    blocking(move || Ok(vault.delete(id, Utc::now())?)).await
}
