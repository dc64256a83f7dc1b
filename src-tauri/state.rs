//! What the commands share: the vault (SQLite + keychain), opened once at startup.

use std::path::PathBuf;
use std::sync::Arc;

use latchkey_core::keychain::Keychain;
use latchkey_core::store::Store;
use latchkey_core::vault::Vault;

use crate::IpcError;

pub struct AppState {
    /// `Err` keeps the message of a store that could not be opened (e.g. a damaged file), so the
    /// window still opens and tells the user what to do instead of the app dying silently.
    vault: Result<Arc<Vault>, String>,
    keychain: Arc<Keychain>,
}

impl AppState {
    pub fn open(data_dir: Option<PathBuf>) -> Self {
        let keychain = Arc::new(Keychain::from_env());
        let vault = match data_dir {
            None => {
                Err("Latchkey could not find a data folder for this user: set LATCHKEY_DATA_DIR to a writable folder."
                    .to_owned())
            }
            Some(dir) => Store::open_in(&dir).map_err(|e| e.to_string()),
        }
        .map(|store| Arc::new(Vault::new(store, keychain.clone())));
        if let Err(e) = &vault {
            tracing::error!(error = %e, "store unavailable");
        }
        tracing::info!(keychain = keychain.service(), "Latchkey state ready");
        AppState { vault, keychain }
    }

    pub fn with_vault(vault: Vault, keychain: Arc<Keychain>) -> Self {
        AppState { vault: Ok(Arc::new(vault)), keychain }
    }

    pub fn vault(&self) -> Result<Arc<Vault>, IpcError> {
        self.vault.clone().map_err(IpcError::storage)
    }

    pub fn keychain(&self) -> Arc<Keychain> {
        self.keychain.clone()
    }
}
