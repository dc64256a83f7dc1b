//! Where the TOTP secret lives: one keychain item under the key items' service, account
//! [`ACCOUNT`]. In memory it is a `SecretSlice`, zeroized on drop.

use secrecy::{ExposeSecret, SecretSlice};

use crate::keychain::{Keychain, KeychainError};

pub const ACCOUNT: &str = "guard-totp";
const DESCRIPTION: &str = "Latchkey: two-factor secret";

/// What the guard needs of a secret store.
pub trait GuardSecretStore: Send + Sync {
    fn put_totp(&self, secret: &SecretSlice<u8>) -> Result<(), KeychainError>;
    fn get_totp(&self) -> Result<Option<SecretSlice<u8>>, KeychainError>;
    fn delete_totp(&self) -> Result<bool, KeychainError>;
}

impl GuardSecretStore for Keychain {
    fn put_totp(&self, secret: &SecretSlice<u8>) -> Result<(), KeychainError> {
        // EXPOSE: written to the OS keychain only.
        self.put_item(ACCOUNT, DESCRIPTION, secret.expose_secret())
    }

    fn get_totp(&self) -> Result<Option<SecretSlice<u8>>, KeychainError> {
        Ok(self.get_item(ACCOUNT)?.map(|bytes| SecretSlice::from(bytes.to_vec())))
    }

    fn delete_totp(&self) -> Result<bool, KeychainError> {
        self.delete_item(ACCOUNT)
    }
}

#[cfg(any(test, feature = "testing"))]
impl GuardSecretStore for crate::keychain::memory::MemoryStore {
    fn put_totp(&self, secret: &SecretSlice<u8>) -> Result<(), KeychainError> {
        // EXPOSE: into the in-memory test store.
        self.put_item(ACCOUNT, secret.expose_secret());
        Ok(())
    }

    fn get_totp(&self) -> Result<Option<SecretSlice<u8>>, KeychainError> {
        Ok(self.get_item(ACCOUNT).map(|bytes| SecretSlice::from(bytes.to_vec())))
    }

    fn delete_totp(&self) -> Result<bool, KeychainError> {
        Ok(self.delete_item(ACCOUNT))
    }
}
