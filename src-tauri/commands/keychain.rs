//! Whether the OS keychain works, checked by writing and reading back a probe item, so a locked or
//! missing keyring is reported before the user types a secret.

use latchkey_core::keychain::KeychainError;
use serde::Serialize;
use tauri::State;

use super::blocking;
use crate::{AppState, IpcError};
use ts_rs::TS;

#[derive(Debug, Serialize, TS)]
pub struct KeychainStatus {
    pub ok: bool,
    pub service: String,
    pub message: Option<String>,
}

#[tauri::command]
pub async fn keychain_status(state: State<'_, AppState>) -> Result<KeychainStatus, IpcError> {
    let keychain = state.keychain();
    blocking(move || {
        let result: Result<(), KeychainError> = keychain.probe();
        Ok(KeychainStatus {
            ok: result.is_ok(),
            service: keychain.service().to_owned(),
            message: result.err().map(|e| e.to_string()),
        })
    })
    .await
}
