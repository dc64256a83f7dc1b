//! What the commands share: the vault (SQLite + keychain), opened once at startup.

use std::path::PathBuf;
use std::sync::Arc;

use latchkey_core::exchange::{ClientConfig, ExchangeClient, SystemClock};
use latchkey_core::keychain::Keychain;
use latchkey_core::store::Store;
use latchkey_core::vault::Vault;

use crate::IpcError;

fn exchange_client() -> Result<Arc<ExchangeClient>, String> {
    ExchangeClient::new(ClientConfig::default(), Arc::new(SystemClock))
        .map(Arc::new)
        .map_err(|e| format!("Latchkey could not set up its connection to the exchanges: {e}"))
}

pub struct AppState {
    /// `Err` keeps the message of a store that could not be opened (e.g. a damaged file), so the
    /// window still opens and tells the user what to do instead of the app dying silently.
    vault: Result<Arc<Vault>, String>,
    keychain: Arc<Keychain>,
    exchange: Result<Arc<ExchangeClient>, String>,
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
        AppState { vault, keychain, exchange: exchange_client() }
    }

    pub fn vault(&self) -> Result<Arc<Vault>, IpcError> {
        self.vault.clone().map_err(IpcError::storage)
    }

    pub fn exchange(&self) -> Result<Arc<ExchangeClient>, IpcError> {
        self.exchange.clone().map_err(IpcError::internal)
    }

    pub fn keychain(&self) -> Arc<Keychain> {
        self.keychain.clone()
    }
}
