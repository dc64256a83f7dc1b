//! The OS keychain: Secret Service on Linux, Keychain on macOS, Credential Manager on Windows,
//! through `keyring-core` and a store pinned per platform. There is no fallback: when no keychain
//! can be reached the caller gets [`KeychainError::Unavailable`], never a plaintext file.
//!
//! One item per key (service = namespace, account = key id) holds api key, secret and passphrase
//! together, so one write is atomic. Calls block (D-Bus round trips): async callers run them in
//! `spawn_blocking`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use keyring_core::{CredentialStore, Entry, Error as KrError};
use zeroize::Zeroizing;

use crate::model::{Environment, Exchange, KeyId};
use crate::secret::Credentials;

/// The namespace of a user's real keys. Debug builds and tests use others (see [`Keychain::from_env`]).
pub const RELEASE_SERVICE: &str = "latchkey";
pub const DEV_SERVICE: &str = "latchkey-dev";
/// Overrides the namespace, e.g. `latchkey-test` in the test suites.
pub const SERVICE_ENV: &str = "LATCHKEY_KEYCHAIN_SERVICE";

const UNAVAILABLE_HELP: &str = "No keychain available: unlock your login keyring or start gnome-keyring/KWallet";

#[derive(Debug, thiserror::Error)]
pub enum KeychainError {
    #[error("{UNAVAILABLE_HELP}. ({detail})")]
    Unavailable { detail: String },
    #[error("The keychain is locked: unlock your login keyring (or approve the prompt) and try again.")]
    Locked,
    #[error("The keychain item for this key is damaged or was written by another program. Delete the key in Latchkey and add it again.")]
    Corrupt,
    #[error(
        "The keychain did not accept the request: {detail}. Try again; if it persists, restart your keyring service."
    )]
    Failed { detail: String },
    #[error("The keychain stored the probe item but read back something else: it is not keeping secrets reliably. Check your keyring setup before storing keys.")]
    NotPersistent,
}

/// What a key's keychain item records beside its secret (as item attributes, which are not
/// secret), so that an item whose database row was lost can be put back on the list as what it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemInfo {
    pub exchange: Exchange,
    pub environment: Environment,
    pub label: String,
}

/// A key item found in the keychain: its id (the item's account name) and what it records. Items
/// written before Latchkey recorded attributes have `info: None`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyItem {
    pub id: KeyId,
    pub info: Option<ItemInfo>,
}

/// Item attribute names. Prefixed: the Secret Service store owns `service`, `username` and `target`.
const ATTR_EXCHANGE: &str = "latchkey-exchange";
const ATTR_ENVIRONMENT: &str = "latchkey-environment";
const ATTR_LABEL: &str = "latchkey-label";

/// What the vault needs of a secret store. [`Keychain`] is the real one; tests of logic that is not
/// about storage may use an in-memory fake.
pub trait SecretStore: Send + Sync {
    fn put(&self, id: KeyId, description: &str, creds: &Credentials) -> Result<(), KeychainError>;
    /// `Ok(None)` when there is no item for `id`.
    fn get(&self, id: KeyId) -> Result<Option<Credentials>, KeychainError>;
    /// `Ok(false)` when there was nothing to delete.
    fn delete(&self, id: KeyId) -> Result<bool, KeychainError>;

    /// Writes the item and records `info` on it where the store keeps attributes.
    fn put_key(&self, id: KeyId, description: &str, info: &ItemInfo, creds: &Credentials) -> Result<(), KeychainError> {
        let _ = info;
        self.put(id, description, creds)
    }

    /// Every key item in this namespace (items whose account is a key id; the 2FA seed, the probe
    /// and other named items are not keys). An error when the store cannot list its items.
    fn key_items(&self) -> Result<Vec<KeyItem>, KeychainError> {
        Err(KeychainError::Failed { detail: "this keychain cannot list its items".to_owned() })
    }
}

pub struct Keychain {
    service: String,
    /// Opened on first use and dropped after a platform failure, so a keyring daemon started (or
    /// restarted) after Latchkey is picked up without restarting the app.
    store: Mutex<Option<Arc<CredentialStore>>>,
}

impl std::fmt::Debug for Keychain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keychain").field("service", &self.service).finish()
    }
}

impl Keychain {
    pub fn new(service: impl Into<String>) -> Self {
        Keychain { service: service.into(), store: Mutex::new(None) }
    }

    /// `$LATCHKEY_KEYCHAIN_SERVICE`, else `latchkey-dev` for debug builds and `latchkey` for release
    /// builds, so development never touches a user's real items.
    pub fn from_env() -> Self {
        let service = std::env::var(SERVICE_ENV)
            .ok()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| if cfg!(debug_assertions) { DEV_SERVICE } else { RELEASE_SERVICE }.to_owned());
        Keychain::new(service)
    }

    pub fn service(&self) -> &str {
        &self.service
    }

    /// Proves the store is reachable, unlocked and persistent: write a probe item, read it back,
    /// delete it. Run at startup so a broken keychain is reported before the user types a secret.
    pub fn probe(&self) -> Result<(), KeychainError> {
        let value = format!("probe-{}", uuid::Uuid::new_v4());
        let entry = self.entry("probe", Some("Latchkey keychain probe"))?;
        entry.set_secret(value.as_bytes()).map_err(|e| self.classify(e))?;
        let back = Zeroizing::new(entry.get_secret().map_err(|e| self.classify(e))?);
        let _ = entry.delete_credential();
        if back.as_slice() == value.as_bytes() {
            Ok(())
        } else {
            Err(KeychainError::NotPersistent)
        }
    }

    fn open_store(&self) -> Result<Arc<CredentialStore>, KeychainError> {
        let mut guard = self.store.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(store) = guard.as_ref() {
            return Ok(store.clone());
        }
        let store = platform_store().map_err(|e| KeychainError::Unavailable { detail: e.to_string() })?;
        *guard = Some(store.clone());
        Ok(store)
    }

    fn entry(&self, account: &str, description: Option<&str>) -> Result<Entry, KeychainError> {
        let store = self.open_store()?;
        let mut modifiers = HashMap::new();
        // Only the Secret Service store knows item labels; the others reject unknown modifiers.
        if cfg!(all(unix, not(target_os = "macos"))) {
            if let Some(d) = description.filter(|d| !d.is_empty()) {
                modifiers.insert("label", d);
            }
        }
        let mods = (!modifiers.is_empty()).then_some(&modifiers);
        store.build(&self.service, account, mods).map_err(|e| self.classify(e))
    }

    /// Maps a store error to what the user can do about it. A platform failure may mean the daemon
    /// went away, so the cached connection is dropped and the next call reconnects.
    fn classify(&self, err: KrError) -> KeychainError {
        match err {
            KrError::NoStorageAccess(_) => KeychainError::Locked,
            KrError::NoDefaultStore => KeychainError::Unavailable { detail: "no credential store".into() },
            KrError::BadEncoding(_) | KrError::BadDataFormat(..) => KeychainError::Corrupt,
            KrError::PlatformFailure(e) => {
                *self.store.lock().unwrap_or_else(|p| p.into_inner()) = None;
                let detail = e.to_string();
                if detail.contains("Failed to connect")
                    || detail.contains("ServiceUnknown")
                    || detail.contains("not provided by any")
                {
                    KeychainError::Unavailable { detail }
                } else {
                    KeychainError::Failed { detail }
                }
            }
            other => KeychainError::Failed { detail: other.to_string() },
        }
    }
}

/// Items that are not exchange keys (the 2FA secret), named by account under the same service.
impl Keychain {
    pub(crate) fn put_item(&self, account: &str, description: &str, bytes: &[u8]) -> Result<(), KeychainError> {
        let entry = self.entry(account, Some(description))?;
        entry.set_secret(bytes).map_err(|e| self.classify(e))
    }

    pub(crate) fn get_item(&self, account: &str) -> Result<Option<Zeroizing<Vec<u8>>>, KeychainError> {
        match self.entry(account, None)?.get_secret() {
            Ok(bytes) => Ok(Some(Zeroizing::new(bytes))),
            Err(KrError::NoEntry) => Ok(None),
            Err(e) => Err(self.classify(e)),
        }
    }

    pub(crate) fn delete_item(&self, account: &str) -> Result<bool, KeychainError> {
        match self.entry(account, None)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(KrError::NoEntry) => Ok(false),
            Err(e) => Err(self.classify(e)),
        }
    }
}

impl SecretStore for Keychain {
    fn put(&self, id: KeyId, description: &str, creds: &Credentials) -> Result<(), KeychainError> {
        let entry = self.entry(&id.to_string(), Some(description))?;
        entry.set_secret(&creds.to_item()).map_err(|e| self.classify(e))
    }

    fn get(&self, id: KeyId) -> Result<Option<Credentials>, KeychainError> {
        let entry = self.entry(&id.to_string(), None)?;
        match entry.get_secret() {
            Ok(bytes) => {
                let bytes = Zeroizing::new(bytes);
                Credentials::from_item(&bytes).map(Some).ok_or(KeychainError::Corrupt)
            }
            Err(KrError::NoEntry) => Ok(None),
            Err(e) => Err(self.classify(e)),
        }
    }

    fn delete(&self, id: KeyId) -> Result<bool, KeychainError> {
        let entry = self.entry(&id.to_string(), None)?;
        match entry.delete_credential() {
            Ok(()) => Ok(true),
            Err(KrError::NoEntry) => Ok(false),
            Err(e) => Err(self.classify(e)),
        }
    }

    fn put_key(&self, id: KeyId, description: &str, info: &ItemInfo, creds: &Credentials) -> Result<(), KeychainError> {
        let entry = self.entry(&id.to_string(), Some(description))?;
        entry.set_secret(&creds.to_item()).map_err(|e| self.classify(e))?;
        let environment = serde_json::to_string(&info.environment).unwrap_or_default();
        let attributes = HashMap::from([
            (ATTR_EXCHANGE, info.exchange.as_str()),
            (ATTR_ENVIRONMENT, environment.as_str()),
            (ATTR_LABEL, info.label.as_str()),
        ]);
        match entry.update_attributes(&attributes) {
            // Keychain (macOS) and Credential Manager keep no free attributes: the item still works,
            // a lost row is then restored with the user's answers instead.
            Ok(()) | Err(KrError::NotSupportedByStore(_)) => Ok(()),
            Err(e) => Err(self.classify(e)),
        }
    }

    fn key_items(&self) -> Result<Vec<KeyItem>, KeychainError> {
        let store = self.open_store()?;
        let spec = HashMap::from([("service", self.service.as_str())]);
        let entries = store.search(&spec).map_err(|e| self.classify(e))?;
        let mut items = Vec::new();
        for entry in entries {
            let Some((service, account)) = entry.get_specifiers() else { continue };
            let Ok(id) = account.parse::<KeyId>() else { continue };
            if service != self.service {
                continue;
            }
            let attributes = match entry.get_attributes() {
                Ok(a) => a,
                Err(KrError::NotSupportedByStore(_)) => HashMap::new(),
                Err(e) => return Err(self.classify(e)),
            };
            items.push(KeyItem { id, info: item_info(&attributes) });
        }
        items.sort_by_key(|i| i.id);
        items.dedup_by_key(|i| i.id);
        Ok(items)
    }
}

fn item_info(attributes: &HashMap<String, String>) -> Option<ItemInfo> {
    let exchange = attributes.get(ATTR_EXCHANGE)?.parse().ok()?;
    let environment = serde_json::from_str(attributes.get(ATTR_ENVIRONMENT)?).ok()?;
    let label = attributes.get(ATTR_LABEL).cloned().unwrap_or_default();
    Some(ItemInfo { exchange, environment, label })
}

#[cfg(all(unix, not(any(target_os = "macos", target_os = "ios", target_os = "android"))))]
fn platform_store() -> keyring_core::Result<Arc<CredentialStore>> {
    Ok(zbus_secret_service_keyring_store::Store::new()?)
}

#[cfg(target_os = "macos")]
fn platform_store() -> keyring_core::Result<Arc<CredentialStore>> {
    Ok(apple_native_keyring_store::keychain::Store::new()?)
}

#[cfg(target_os = "windows")]
fn platform_store() -> keyring_core::Result<Arc<CredentialStore>> {
    Ok(windows_native_keyring_store::Store::new()?)
}

/// An in-memory [`SecretStore`] for tests of logic that is not about storage (feature `testing`,
/// which the crate's own tests, examples and benches turn on). Never for real secrets.
#[cfg(any(test, feature = "testing"))]
pub mod memory {
    use super::*;

    #[derive(Default)]
    pub struct MemoryStore {
        pub items: Mutex<HashMap<KeyId, Zeroizing<Vec<u8>>>>,
        /// Non-key items (the 2FA secret), by account.
        pub other: Mutex<HashMap<String, Zeroizing<Vec<u8>>>>,
        pub fail_next_put: Mutex<bool>,
        /// What `put_key` recorded per item.
        pub infos: Mutex<HashMap<KeyId, ItemInfo>>,
    }

    fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
        m.lock().unwrap_or_else(|p| p.into_inner())
    }

    impl MemoryStore {
        pub fn contains(&self, id: KeyId) -> bool {
            lock(&self.items).contains_key(&id)
        }

        pub fn len(&self) -> usize {
            lock(&self.items).len()
        }

        pub fn is_empty(&self) -> bool {
            self.len() == 0
        }

        pub(crate) fn put_item(&self, account: &str, bytes: &[u8]) {
            lock(&self.other).insert(account.to_owned(), Zeroizing::new(bytes.to_vec()));
        }

        pub(crate) fn get_item(&self, account: &str) -> Option<Zeroizing<Vec<u8>>> {
            lock(&self.other).get(account).cloned()
        }

        pub(crate) fn delete_item(&self, account: &str) -> bool {
            lock(&self.other).remove(account).is_some()
        }
    }

    impl SecretStore for MemoryStore {
        fn put(&self, id: KeyId, _description: &str, creds: &Credentials) -> Result<(), KeychainError> {
            if std::mem::take(&mut *lock(&self.fail_next_put)) {
                return Err(KeychainError::Locked);
            }
            lock(&self.items).insert(id, creds.to_item());
            Ok(())
        }
        fn get(&self, id: KeyId) -> Result<Option<Credentials>, KeychainError> {
            Ok(lock(&self.items).get(&id).and_then(|b| Credentials::from_item(b)))
        }
        fn delete(&self, id: KeyId) -> Result<bool, KeychainError> {
            lock(&self.infos).remove(&id);
            Ok(lock(&self.items).remove(&id).is_some())
        }
        fn put_key(
            &self,
            id: KeyId,
            description: &str,
            info: &ItemInfo,
            creds: &Credentials,
        ) -> Result<(), KeychainError> {
            self.put(id, description, creds)?;
            lock(&self.infos).insert(id, info.clone());
            Ok(())
        }
        fn key_items(&self) -> Result<Vec<KeyItem>, KeychainError> {
            let infos = lock(&self.infos);
            let mut items: Vec<KeyItem> =
                lock(&self.items).keys().map(|id| KeyItem { id: *id, info: infos.get(id).cloned() }).collect();
            items.sort_by_key(|i| i.id);
            Ok(items)
        }
    }

    #[cfg(test)]
    #[test]
    fn memory_store_keeps_the_three_parts() {
        let m = MemoryStore::default();
        let id = KeyId::random();
        m.put(id, "d", &Credentials::new("k", "s", Some("p"))).unwrap();
        let c = m.get(id).unwrap().unwrap();
        use secrecy::ExposeSecret;
        assert_eq!((c.api_key.expose_secret(), c.api_secret.expose_secret()), ("k", "s"));
        assert!(m.delete(id).unwrap());
        assert!(!m.delete(id).unwrap());
    }
}
