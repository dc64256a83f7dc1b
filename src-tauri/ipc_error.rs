//! Errors cross IPC as `{kind, message, field?}`: `kind` for the UI to branch on, `message` for the
//! person, `field` for the input to highlight. A kind exists only because the UI uses it.

use latchkey_core::validate::Field;
use latchkey_core::Error;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct IpcError {
    pub kind: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<Field>,
}

impl IpcError {
    pub fn storage(message: String) -> Self {
        IpcError { kind: "storage", message, field: None }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        IpcError { kind: "internal", message: message.into(), field: None }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        IpcError { kind: "not_found", message: message.into(), field: None }
    }
}

impl From<Error> for IpcError {
    fn from(e: Error) -> Self {
        let message = e.to_string();
        match e {
            Error::Invalid(i) => IpcError { kind: "invalid", message, field: Some(i.field) },
            Error::Keychain(_) | Error::SecretMissing { .. } => IpcError { kind: "keychain", message, field: None },
            Error::NotFound(_) => IpcError { kind: "not_found", message, field: None },
            Error::Storage { .. } => IpcError { kind: "storage", message, field: None },
        }
    }
}

impl From<tauri::Error> for IpcError {
    fn from(e: tauri::Error) -> Self {
        IpcError::internal(format!("Latchkey hit an internal error: {e}. Try again; if it persists, restart the app."))
    }
}
