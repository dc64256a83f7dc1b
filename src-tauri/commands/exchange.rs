//! Asking an exchange what a key can do: before saving (the wizard's confirm step) and for a
//! stored key ("Re-check").

use chrono::Utc;
use latchkey_core::exchange::{Endpoint, MasterKey};
use latchkey_core::model::{Environment, Exchange, KeyInspection};
use latchkey_core::risk::{self, Finding};
use latchkey_core::secret::Credentials;
use latchkey_core::validate;
use latchkey_core::watch::{self, LookError, Looked};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use tauri::State;

use super::blocking;
use super::keys::{parse_id, KeyView};
use crate::{AppState, IpcError};
use ts_rs::TS;

#[derive(Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InspectInput {
    pub exchange: Exchange,
    pub environment: Environment,
    #[ts(type = "string")]
    pub api_key: SecretString,
    #[ts(type = "string")]
    pub api_secret: SecretString,
    #[serde(default)]
    #[ts(type = "string | null")]
    pub passphrase: Option<SecretString>,
    /// The exchange's own 2FA code, where it asks for one to read keys (Deribit's security keys).
    #[serde(default)]
    #[ts(type = "string | null")]
    pub exchange_code: Option<SecretString>,
}

#[derive(Debug, Serialize, TS)]
pub struct InspectResult {
    pub inspection: KeyInspection,
    pub findings: Vec<Finding>,
}

/// Checks credentials that are not stored yet. Nothing is written.
#[tauri::command]
pub async fn inspect_credentials(state: State<'_, AppState>, input: InspectInput) -> Result<InspectResult, IpcError> {
    let raw = Credentials { api_key: input.api_key, api_secret: input.api_secret, passphrase: input.passphrase };
    let credentials = validate::checked_credentials(input.exchange, &raw).map_err(latchkey_core::Error::from)?;
    drop(raw);
    let endpoint = Endpoint::new(input.exchange, &input.environment)?;
    let key = MasterKey { endpoint: &endpoint, credentials: &credentials, exchange_code: input.exchange_code.as_ref() };
    let inspection = state.exchange()?.inspect_answering(key).await?;
    let findings = risk::assess(&inspection, chrono::Local::now());
    Ok(InspectResult { inspection, findings })
}

/// Re-checks a stored key: the secret is read from the keychain for this one request. A key the
/// exchange refuses as unknown or expired is marked rejected (its verified date is not refreshed)
/// and notified; the error still comes back so the card shows it inline.
#[tauri::command]
pub async fn verify_key(state: State<'_, AppState>, id: String) -> Result<KeyView, IpcError> {
    let (core, id) = (state.core()?, parse_id(&id)?);
    let client = state.exchange()?;
    let looked = match watch::check_key(&core.vault, &client, id, Utc::now()).await {
        Ok(looked) => looked,
        Err(LookError::Key(e)) => return Err(e.into()),
        Err(LookError::Exchange(e)) => return Err(e.into()),
    };
    crate::notice::key_changes(&core, &looked.notices());
    match looked {
        Looked::Answered { record, .. } => {
            let vault = core.vault.clone();
            blocking(move || Ok(KeyView::one(&vault, record)?)).await
        }
        Looked::Rejected { error, .. } => Err(error.into()),
    }
}
