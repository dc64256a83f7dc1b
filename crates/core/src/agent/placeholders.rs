//! Per-bot placeholder credentials: a key, a secret (and for OKX a passphrase) that only this
//! Latchkey recognises. The database keeps the SHA-256 of the placeholder key and nothing else of
//! them; the secret and passphrase are derived from the agent's root secret (one keychain item)
//! and the placeholder key, so a copied database or a leaked bot config is worthless elsewhere,
//! and revoking a bot deletes its row.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretSlice, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::exchange::agent_scheme::PlaceholderShape;
use crate::keychain::{Keychain, KeychainError};
use crate::model::{Exchange, KeyId};

/// The keychain account of the agent's root secret.
pub const ROOT_ACCOUNT: &str = "agent-root";
const ROOT_DESCRIPTION: &str = "Latchkey: signing agent root secret";
/// Settings rows `agent-bot <name>`.
pub(crate) const BOT_PREFIX: &str = "agent-bot ";

/// What the database keeps of one bot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BotRecord {
    pub name: String,
    /// The key the bot trades with, by label (a rotation keeps the label, so the bot follows it).
    pub label: String,
    pub exchange: Exchange,
    /// The key when the placeholder was issued (for the record only; the label decides).
    pub key_id: KeyId,
    /// Hex SHA-256 of the placeholder key.
    pub key_sha256: String,
    pub issued_at: DateTime<Utc>,
    /// The OpenBao host whose agent serves the bot (`latchkey agent --from openbao` there);
    /// `None`: this machine's agent. Each serves only its own bots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
}

/// A placeholder set, shown once to the user for the bot's config.
pub struct Placeholder {
    pub api_key: SecretString,
    pub secret: SecretString,
    pub passphrase: Option<SecretString>,
}

impl std::fmt::Debug for Placeholder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Placeholder { [REDACTED] }")
    }
}

/// What the agent needs of a secret store: its root secret.
pub trait AgentRootStore: Send + Sync {
    fn agent_root(&self) -> Result<Option<SecretSlice<u8>>, KeychainError>;
    fn put_agent_root(&self, root: &[u8]) -> Result<(), KeychainError>;
}

impl AgentRootStore for Keychain {
    fn agent_root(&self) -> Result<Option<SecretSlice<u8>>, KeychainError> {
        Ok(self.get_item(ROOT_ACCOUNT)?.map(|b| SecretSlice::from(b.to_vec())))
    }

    fn put_agent_root(&self, root: &[u8]) -> Result<(), KeychainError> {
        self.put_item(ROOT_ACCOUNT, ROOT_DESCRIPTION, root)
    }
}

#[cfg(any(test, feature = "testing"))]
impl AgentRootStore for crate::keychain::memory::MemoryStore {
    fn agent_root(&self) -> Result<Option<SecretSlice<u8>>, KeychainError> {
        Ok(self.get_item(ROOT_ACCOUNT).map(|b| SecretSlice::from(b.to_vec())))
    }

    fn put_agent_root(&self, root: &[u8]) -> Result<(), KeychainError> {
        self.put_item(ROOT_ACCOUNT, root);
        Ok(())
    }
}

/// The root secret, made on first use (32 random bytes).
pub fn root_secret(store: &dyn AgentRootStore) -> Result<SecretSlice<u8>, KeychainError> {
    if let Some(root) = store.agent_root()? {
        return Ok(root);
    }
    let mut fresh = zeroize::Zeroizing::new([0u8; 32]);
    getrandom::fill(fresh.as_mut()).map_err(|e| KeychainError::Failed { detail: e.to_string() })?;
    store.put_agent_root(fresh.as_ref())?;
    Ok(SecretSlice::from(fresh.to_vec()))
}

pub fn key_sha256(api_key: &str) -> String {
    hex::encode(Sha256::digest(api_key.as_bytes()))
}

fn derive(root: &SecretSlice<u8>, purpose: &str, api_key: &str) -> SecretString {
    // EXPOSE: the root is the HMAC key of the derivation and goes nowhere else.
    let mut mac = Hmac::<Sha256>::new_from_slice(root.expose_secret()).expect("HMAC accepts keys of every length");
    mac.update(purpose.as_bytes());
    mac.update(&[0]);
    mac.update(api_key.as_bytes());
    SecretString::from(hex::encode(mac.finalize().into_bytes()))
}

/// The secret and passphrase derived from `input` for `purpose`, in the exchange's shape.
fn shaped(root: &SecretSlice<u8>, purpose: &str, input: &str, shape: &PlaceholderShape) -> Placeholder {
    let full = derive(root, &format!("latchkey-agent-{purpose}secret"), input);
    let digits = &full.expose_secret()[..shape.secret_hex_digits.min(64)];
    let secret = if shape.secret_upper { digits.to_ascii_uppercase() } else { digits.to_owned() };
    Placeholder {
        api_key: SecretString::from(String::new()),
        secret: SecretString::from(secret),
        // OKX passphrases: 8–32 characters with upper, lower, digit and a special character.
        passphrase: shape.passphrase.then(|| {
            let raw = derive(root, &format!("latchkey-agent-{purpose}passphrase"), input);
            SecretString::from(format!("Lk-{}!", &raw.expose_secret()[..20]))
        }),
    }
}

/// The secret and passphrase that belong to placeholder key `api_key`, in the exchange's shape.
pub fn derive_placeholder(root: &SecretSlice<u8>, api_key: &str, shape: &PlaceholderShape) -> Placeholder {
    Placeholder { api_key: SecretString::from(api_key.to_owned()), ..shaped(root, "", api_key, shape) }
}

/// A server's bot: derived from the host and the placeholder key's hash (which is all the desktop
/// keeps of it), so the desktop can write the host's document again at any time, and one host's
/// material says nothing of another's. The key itself is not in the result.
pub fn derive_host_placeholder(
    root: &SecretSlice<u8>,
    host: &str,
    key_sha256: &str,
    shape: &PlaceholderShape,
) -> Placeholder {
    shaped(root, "host-", &format!("{host}\0{key_sha256}"), shape)
}

/// A fresh placeholder key in the exchange's shape.
pub fn fresh_key(shape: &PlaceholderShape) -> Result<String, KeychainError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| KeychainError::Failed { detail: e.to_string() })?;
    Ok((shape.key)(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keychain::memory::MemoryStore;

    #[test]
    fn the_root_is_made_once_and_derivations_are_stable_and_distinct() {
        let store = MemoryStore::default();
        let root = root_secret(&store).unwrap();
        let again = root_secret(&store).unwrap();
        assert_eq!(root.expose_secret(), again.expose_secret(), "made once, then read back");
        let okx = PlaceholderShape {
            key: crate::exchange::agent_scheme::uuid_key,
            secret_hex_digits: 32,
            secret_upper: true,
            passphrase: true,
        };
        let plain = PlaceholderShape { passphrase: false, ..okx };
        let key = fresh_key(&okx).unwrap();
        assert_eq!(key.len(), 36, "UUID-shaped: {key}");
        let a = derive_placeholder(&root, &key, &okx);
        let b = derive_placeholder(&root, &key, &okx);
        assert_eq!(a.secret.expose_secret().len(), 32);
        assert_eq!(a.secret.expose_secret(), &a.secret.expose_secret().to_ascii_uppercase());
        assert_eq!(a.secret.expose_secret(), b.secret.expose_secret());
        let pass = a.passphrase.unwrap();
        assert!(pass.expose_secret().len() <= 32 && pass.expose_secret().chars().any(|c| c.is_ascii_digit()));
        let other = derive_placeholder(&root, &fresh_key(&okx).unwrap(), &plain);
        assert_ne!(other.secret.expose_secret(), a.secret.expose_secret());
        assert!(other.passphrase.is_none());
        let elsewhere = root_secret(&MemoryStore::default()).unwrap();
        assert_ne!(derive_placeholder(&elsewhere, &key, &plain).secret.expose_secret(), a.secret.expose_secret());
        assert_eq!(key_sha256("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert!(format!("{:?}", derive_placeholder(&root, &key, &okx)).contains("REDACTED"));
        let sha = key_sha256(&key);
        let on_a = derive_host_placeholder(&root, "vps-a", &sha, &okx);
        assert_eq!(
            on_a.secret.expose_secret(),
            derive_host_placeholder(&root, "vps-a", &sha, &okx).secret.expose_secret()
        );
        assert_eq!(on_a.secret.expose_secret().len(), 32);
        assert!(on_a.passphrase.is_some());
        for other in [
            derive_host_placeholder(&root, "vps-b", &sha, &okx),
            derive_host_placeholder(&elsewhere, "vps-a", &sha, &okx),
        ] {
            assert_ne!(other.secret.expose_secret(), on_a.secret.expose_secret(), "per host and per desktop");
        }
        assert_ne!(on_a.secret.expose_secret(), a.secret.expose_secret(), "not the local derivation");
    }
}
