//! The core's one error type. Every message says what went wrong and what to do about it, and none
//! carries a secret value.

use crate::keychain::KeychainError;
use crate::model::KeyId;
use crate::validate::Invalid;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Something the user typed is not acceptable; `field` says which input to highlight.
    #[error(transparent)]
    Invalid(#[from] Invalid),

    #[error(transparent)]
    Keychain(#[from] KeychainError),

    #[error("No key with id {0}: it may have been deleted elsewhere. Refresh the list.")]
    NotFound(KeyId),

    #[error("The secret of key '{label}' is missing from the keychain. Delete this key and add it again.")]
    SecretMissing { label: String },

    #[error("Latchkey's database at {path} could not be used: {detail}. Check the folder's permissions and free space; if the file is damaged, move it aside and restart.")]
    Storage { path: String, detail: String },
}

impl Error {
    pub(crate) fn storage(path: &std::path::Path, err: impl std::fmt::Display) -> Self {
        Error::Storage { path: path.display().to_string(), detail: err.to_string() }
    }
}
