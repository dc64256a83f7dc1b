//! The core's parts wired together over one data dir, as the window and the tray-resident process
//! both use them: one SQLite store shared by the vault, the 2FA guard, the bots' setting, the
//! OpenBao delivery, the revoke engine and the automatic-rotation engine; the keychain; one HTTP
//! client for the exchanges. One place, so the two processes cannot drift apart.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::autorotate::{AutoRotateConfig, AutoRotateEngine};
use crate::bots::Bots;
use crate::exchange::{ExchangeClient, SystemClock};
use crate::guard::{Guard, GuardConfig};
use crate::keychain::Keychain;
use crate::revoke::{RevokeConfig, RevokeEngine};
use crate::servers::Servers;
use crate::store::Store;
use crate::vault::Vault;

pub struct Services {
    pub data_dir: PathBuf,
    pub store: Arc<Store>,
    pub keychain: Arc<Keychain>,
    pub client: Arc<ExchangeClient>,
    pub vault: Arc<Vault>,
    pub guard: Arc<Guard>,
    pub bots: Bots,
    pub engine: RevokeEngine,
    pub rotations: AutoRotateEngine,
    /// Keys for bots on servers, through OpenBao; its credential in the keychain.
    pub servers: Arc<Servers>,
}

impl Services {
    pub fn open(data_dir: &Path, keychain: Arc<Keychain>, client: Arc<ExchangeClient>) -> crate::Result<Services> {
        let store = Arc::new(Store::open_in(data_dir)?);
        // Nonces that must grow across processes (Kraken) are reserved in the file the CLI shares.
        client.persist_nonces_in(store.clone());
        // Entries this process writes move the audit log's anchor in the keychain.
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
            store.clone(),
            vault.clone(),
            keychain.clone(),
            client.clone(),
            engine.clone(),
            Arc::new(SystemClock),
            AutoRotateConfig::default(),
        );
        Ok(Services {
            data_dir: data_dir.to_path_buf(),
            store,
            keychain,
            client,
            vault,
            guard,
            bots,
            engine,
            rotations,
            servers,
        })
    }

    /// Revokes and rotations a crash or a kill interrupted, finished before anything else touches
    /// the keys: first the revokes, then the rotations (which may have waited on one of them).
    pub async fn resume_interrupted(&self) {
        match self.engine.resume_unfinished(crate::revoke::no_progress()).await {
            Ok(reports) if !reports.is_empty() => tracing::info!(jobs = reports.len(), "resumed interrupted revokes"),
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "could not resume an interrupted revoke"),
        }
        match self.rotations.resume_unfinished(crate::autorotate::no_progress()).await {
            Ok(reports) if !reports.is_empty() => tracing::info!(jobs = reports.len(), "resumed interrupted rotations"),
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "could not resume an interrupted rotation"),
        }
    }
}
