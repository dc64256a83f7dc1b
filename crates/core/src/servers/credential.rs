//! Latchkey's OpenBao credential (a token, or the userpass password): one keychain item under the
//! key items' service, account [`ACCOUNT`], never in the database. In memory a `SecretString`.

use secrecy::{ExposeSecret, SecretString};

use crate::keychain::{Keychain, KeychainError};

pub const ACCOUNT: &str = "openbao-credential";
const DESCRIPTION: &str = "Latchkey: OpenBao credential";

/// What the servers code needs of a secret store.
pub trait ServerSecretStore: Send + Sync {
    fn put_server_secret(&self, secret: &SecretString) -> Result<(), KeychainError>;
    fn get_server_secret(&self) -> Result<Option<SecretString>, KeychainError>;
    fn delete_server_secret(&self) -> Result<bool, KeychainError>;
}

fn from_bytes(bytes: &[u8]) -> Result<SecretString, KeychainError> {
    std::str::from_utf8(bytes).map(|s| SecretString::from(s.to_owned())).map_err(|_| KeychainError::Corrupt)
}

impl ServerSecretStore for Keychain {
    fn put_server_secret(&self, secret: &SecretString) -> Result<(), KeychainError> {
        // EXPOSE: written to the OS keychain only.
        self.put_item(ACCOUNT, DESCRIPTION, secret.expose_secret().as_bytes())
    }

    fn get_server_secret(&self) -> Result<Option<SecretString>, KeychainError> {
        self.get_item(ACCOUNT)?.map(|b| from_bytes(&b)).transpose()
    }

    fn delete_server_secret(&self) -> Result<bool, KeychainError> {
        self.delete_item(ACCOUNT)
    }
}

#[cfg(any(test, feature = "testing"))]
impl ServerSecretStore for crate::keychain::memory::MemoryStore {
    fn put_server_secret(&self, secret: &SecretString) -> Result<(), KeychainError> {
        // EXPOSE: into the in-memory test store.
        self.put_item(ACCOUNT, secret.expose_secret().as_bytes());
        Ok(())
    }

    fn get_server_secret(&self) -> Result<Option<SecretString>, KeychainError> {
        self.get_item(ACCOUNT).map(|b| from_bytes(&b)).transpose()
    }

    fn delete_server_secret(&self) -> Result<bool, KeychainError> {
        Ok(self.delete_item(ACCOUNT))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keychain::memory::MemoryStore;

    #[test]
    fn the_credential_round_trips_and_is_separate_from_keys() {
        let store = MemoryStore::default();
        assert!(store.get_server_secret().unwrap().is_none());
        store.put_server_secret(&SecretString::from("s.token-value".to_owned())).unwrap();
        assert_eq!(store.get_server_secret().unwrap().unwrap().expose_secret(), "s.token-value");
        assert!(store.is_empty(), "not a key item");
        assert!(store.delete_server_secret().unwrap());
        assert!(store.get_server_secret().unwrap().is_none());
    }
}
