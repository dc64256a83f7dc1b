//! What the commands share, opened once at startup: one SQLite store used by the vault (keys and
//! audit), the 2FA guard, the revoke engine and the automatic-rotation engine; the OS keychain; one
//! HTTP client for the exchanges.

use std::path::PathBuf;
use std::sync::Arc;

use latchkey_core::exchange::{ClientConfig, ExchangeClient, SystemClock};
use latchkey_core::keychain::Keychain;
use latchkey_core::services::Services;
use latchkey_core::vault::Vault;

use crate::IpcError;

/// Everything that needs the store, wired as the tray-resident process wires it. Kept together so
/// a store that cannot be opened disables all of it with one message.
pub type Core = Services;

pub struct AppState {
    /// `Err` keeps the message of a store that could not be opened (e.g. a damaged file), so the
    /// window still opens and tells the user what to do instead of the app dying silently.
    core: Result<Arc<Core>, String>,
    keychain: Arc<Keychain>,
    exchange: Result<Arc<ExchangeClient>, String>,
}

impl AppState {
    pub fn open(data_dir: Option<PathBuf>) -> Self {
        let keychain = Arc::new(Keychain::from_env());
        let exchange = ExchangeClient::new(ClientConfig::default(), Arc::new(SystemClock))
            .map(Arc::new)
            .map_err(|e| format!("Latchkey could not set up its connection to the exchanges: {e}"));
        let core = match data_dir {
            None => {
                Err("Latchkey could not find a data folder for this user: set LATCHKEY_DATA_DIR to a writable folder."
                    .to_owned())
            }
            Some(dir) => exchange
                .clone()
                .and_then(|client| Services::open(&dir, keychain.clone(), client).map_err(|e| e.to_string()))
                .map(Arc::new),
        };
        if let Err(e) = &core {
            tracing::error!(error = %e, "store unavailable");
        }
        tracing::info!(keychain = keychain.service(), "Latchkey state ready");
        AppState { core, keychain, exchange }
    }

    pub fn core(&self) -> Result<Arc<Core>, IpcError> {
        self.core.clone().map_err(IpcError::storage)
    }

    pub fn vault(&self) -> Result<Arc<Vault>, IpcError> {
        Ok(self.core()?.vault.clone())
    }

    pub fn exchange(&self) -> Result<Arc<ExchangeClient>, IpcError> {
        self.exchange.clone().map_err(IpcError::internal)
    }

    pub fn keychain(&self) -> Arc<Keychain> {
        self.keychain.clone()
    }
}
