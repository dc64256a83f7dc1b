//! What the commands share, wired exactly like the window and the resident (`latchkey_core::services`): one SQLite
//! store in the same data dir, shared by the vault, the 2FA guard and the revoke engine; the same
//! keychain namespace; one HTTP client for the exchanges. The app may run at the same time: the
//! store uses WAL and a busy timeout.

use std::sync::Arc;

use latchkey_core::autorotate::{AutoRotateConfig, AutoRotateEngine};
use latchkey_core::bots::Bots;
use latchkey_core::exchange::{ClientConfig, ExchangeClient, SystemClock};
use latchkey_core::guard::Guard;
use latchkey_core::keychain::Keychain;
use latchkey_core::model::{KeyId, KeyRecord, KeyStatus};
use latchkey_core::revoke::RevokeEngine;
use latchkey_core::services::Services;
use latchkey_core::store::Store;
use latchkey_core::vault::Vault;

use crate::error::CliError;

pub struct Ctx {
    pub store: Arc<Store>,
    pub keychain: Arc<Keychain>,
    pub vault: Arc<Vault>,
    pub bots: Bots,
    pub guard: Arc<Guard>,
    pub client: Arc<ExchangeClient>,
    pub engine: RevokeEngine,
}

impl Ctx {
    pub fn open() -> Result<Ctx, CliError> {
        let data_dir = latchkey_core::paths::data_dir().ok_or_else(|| {
            CliError::Failed(
                "Latchkey could not find a data folder for this user: set LATCHKEY_DATA_DIR to a writable folder."
                    .to_owned(),
            )
        })?;
        let keychain = Arc::new(Keychain::from_env());
        let client = Arc::new(ExchangeClient::new(ClientConfig::default(), Arc::new(SystemClock))?);
        // Wired as the app and the resident wire it (one place: `Services`).
        let s = Services::open(&data_dir, keychain, client)?;
        let (store, keychain, vault, bots, guard, client, engine) =
            (s.store, s.keychain, s.vault, s.bots, s.guard, s.client, s.engine);
        Ok(Ctx { store, keychain, vault, bots, guard, client, engine })
    }

    /// The automatic-rotation engine, wired like the app's; `grace_secs` for the bots to move.
    pub fn rotations(&self, grace_secs: u64) -> AutoRotateEngine {
        let config =
            AutoRotateConfig { grace: std::time::Duration::from_secs(grace_secs), ..AutoRotateConfig::default() };
        AutoRotateEngine::new(
            self.store.clone(),
            self.vault.clone(),
            self.keychain.clone(),
            self.client.clone(),
            self.engine.clone(),
            Arc::new(SystemClock),
            config,
        )
    }

    /// The OpenBao delivery of keys to bots on servers (settings in the store, credential in the keychain).
    pub fn servers(&self) -> latchkey_core::servers::Servers {
        latchkey_core::servers::Servers::new(self.store.clone(), self.vault.clone(), self.keychain.clone())
    }

    /// A key by label (case-insensitive) or id. A label in use wins over a revoked key's old label.
    pub fn find_key(&self, label_or_id: &str) -> Result<KeyRecord, CliError> {
        let keys = self.vault.list()?;
        let wanted = label_or_id.trim();
        if let Ok(id) = wanted.parse::<KeyId>() {
            if let Some(k) = keys.iter().find(|k| k.id == id) {
                return Ok(k.clone());
            }
        }
        let mut matches: Vec<&KeyRecord> = keys.iter().filter(|k| k.label.eq_ignore_ascii_case(wanted)).collect();
        matches.sort_by_key(|k| (k.status != KeyStatus::Revoked, k.created_at));
        matches.last().map(|k| (*k).clone()).ok_or_else(|| {
            CliError::Failed(format!("No key labelled '{wanted}'. Run `latchkey list` to see the labels."))
        })
    }
}

/// A runtime for the exchange calls and the revoke engine.
pub fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(CliError::io("Could not start the async runtime"))
}

/// Refuses keys that must not be used: revoked, quarantined or still live after a revoke (exit 3).
pub fn require_usable(key: &KeyRecord) -> Result<(), CliError> {
    match key.status {
        KeyStatus::Active => Ok(()),
        KeyStatus::Revoked => Err(CliError::Refused(format!(
            "Key '{}' ({}) was revoked and can no longer be used. Add its replacement with `latchkey add`.",
            key.label, key.key_hint
        ))),
        KeyStatus::Rejected => Err(CliError::Refused(format!(
            "Key '{}' ({}) was rejected by {} the last time it was checked: it was deleted there or has expired. Check it again with `latchkey check '{}'`, or rotate it in the app.",
            key.label, key.key_hint, key.exchange, key.label
        ))),
        KeyStatus::Quarantined => Err(CliError::Refused(format!(
            "Key '{}' ({}) is quarantined: revoking it at {} failed, so it must not be used. Finish the revoke with `latchkey revoke '{}'` or in the app.",
            key.label, key.key_hint, key.exchange, key.label
        ))),
        KeyStatus::StillLive => Err(CliError::Refused(format!(
            "Key '{}' ({}) is still live at {}: an emergency revoke could not delete it through the API, so it must not be used. Delete it on the website ({}), then run `latchkey confirm-deleted '{}'`.",
            key.label,
            key.key_hint,
            key.exchange,
            crate::views::api_page(key.exchange, &key.environment),
            key.label
        ))),
        KeyStatus::StillLiveWiped => Err(CliError::Refused(format!(
            "Key '{}' ({}) is still live at {} and its secret was wiped here at your request, so it cannot be used. Delete it on the website ({}).",
            key.label,
            key.key_hint,
            key.exchange,
            crate::views::api_page(key.exchange, &key.environment)
        ))),
    }
}
