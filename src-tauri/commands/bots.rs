//! "Bots may use this key", from the key card. Turning it on needs a 2FA code, checked here in
//! Rust; turning it off needs none.

use chrono::Utc;
use tauri::State;

use super::blocking;
use super::keys::{parse_id, KeyView};
use crate::{AppState, IpcError};

#[tauri::command]
pub async fn set_bots_allowed(
    state: State<'_, AppState>,
    id: String,
    allowed: bool,
    code: Option<String>,
) -> Result<KeyView, IpcError> {
    let (core, id) = (state.core()?, parse_id(&id)?);
    blocking(move || {
        let now = Utc::now();
        let record = if allowed {
            core.bots.allow(id, code.as_deref().unwrap_or_default(), now)?
        } else {
            core.bots.deny(id, now)?
        };
        Ok(KeyView::one(&core.vault, record)?)
    })
    .await
}
