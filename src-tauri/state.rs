//! What the commands share, opened once at startup: one SQLite store used by the vault (keys and
//! audit), the 2FA guard, the revoke engine and the automatic-rotation engine; the OS keychain; one
//! HTTP client for the exchanges.

use std::path::PathBuf;
use std::sync::Arc;

use latchkey_core::autorotate::{AutoRotateConfig, AutoRotateEngine};
use latchkey_core::bots::Bots;
use latchkey_core::exchange::{ClientConfig, ExchangeClient, SystemClock};
use latchkey_core::guard::{Guard, GuardConfig};
use latchkey_core::keychain::Keychain;
use latchkey_core::revoke::{RevokeConfig, RevokeEngine};
use latchkey_core::servers::Servers;
use latchkey_core::store::Store;
use latchkey_core::vault::Vault;

use crate::IpcError;

/// Everything that needs the store. Kept together so a store that cannot be opened disables all of
/// it with one message.
pub struct Core {
    pub data_dir: PathBuf,
    pub vault: Arc<Vault>,
    pub guard: Arc<Guard>,
    pub bots: Bots,
    pub engine: RevokeEngine,
    pub rotations: AutoRotateEngine,
    /// Keys for bots on servers, through OpenBao; its credential in the keychain.
    pub servers: Arc<Servers>,
}

pub struct AppState {
    /// `Err` keeps the message of a store that could not be opened (e.g. a damaged file), so the
    /// window still opens and tells the user what to do instead of the app dying silently.
    core: Result<Arc<Core>, String>,
    keychain: Arc<Keychain>,
    exchange: Result<Arc<ExchangeClient>, String>,
    /// Wakes the reminder timer when keys or settings change.
    reminders: Arc<tokio::sync::Notify>,
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
            Some(dir) => Store::open_in(&dir).map(|store| (dir, Arc::new(store))).map_err(|e| e.to_string()),
        }
        .and_then(|(data_dir, store)| {
            let client = exchange.clone()?;
            // Nonces that must grow across processes (Kraken) are reserved in the file the CLI shares.
            client.persist_nonces_in(store.clone());
            // Entries the app writes move the audit log's anchor in the keychain.
            store.anchor_audit_in(keychain.clone());
            let vault = Arc::new(Vault::new(store.clone(), keychain.clone()));
            let guard = Arc::new(Guard::new(store.clone(), keychain.clone(), GuardConfig::default()));
            let bots = Bots::new(store.clone(), guard.clone());
            let servers = Arc::new(Servers::new(store.clone(), vault.clone(), keychain.clone()));
            let engine = RevokeEngine::new(
                store.clone(),
                keychain.clone(),
                guard.clone(),
                client.clone(),
                Arc::new(SystemClock),
                RevokeConfig::default(),
            )
            // Emergency revoke destroys delivered keys on the OpenBao server; rotations forward new ones.
            .with_servers(servers.clone());
            let rotations = AutoRotateEngine::new(
                store,
                vault.clone(),
                keychain.clone(),
                client,
                engine.clone(),
                Arc::new(SystemClock),
                AutoRotateConfig::default(),
            );
            Ok(Arc::new(Core { data_dir, vault, guard, bots, engine, rotations, servers }))
        });
        if let Err(e) = &core {
            tracing::error!(error = %e, "store unavailable");
        }
        tracing::info!(keychain = keychain.service(), "Latchkey state ready");
        AppState { core, keychain, exchange, reminders: Arc::new(tokio::sync::Notify::new()) }
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

    /// Keys or settings changed: the reminder timer recomputes its next wake-up now.
    pub fn reminders_changed(&self) {
        self.reminders.notify_one();
    }

    pub fn reminder_wake(&self) -> Arc<tokio::sync::Notify> {
        self.reminders.clone()
    }

    pub fn keychain(&self) -> Arc<Keychain> {
        self.keychain.clone()
    }
}
