//! Errors cross IPC as `{kind, message, field?, code?}`: `kind` for the UI to branch on, `message`
//! for the person, `field` for the input to highlight, `code` for what an exchange answered. A kind
//! exists only because the UI uses it.

use latchkey_core::exchange::ExchangeError;
use latchkey_core::guard::GuardError;
use latchkey_core::revoke::RevokeError;
use latchkey_core::validate::Field;
use latchkey_core::Error;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct IpcError {
    pub kind: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<Field>,
    /// For `kind: "exchange"`: what the exchange said, e.g. `bad_signature`, `timeout`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
}

impl IpcError {
    fn new(kind: &'static str, message: impl Into<String>) -> Self {
        IpcError { kind, message: message.into(), field: None, code: None }
    }

    pub fn storage(message: String) -> Self {
        IpcError::new("storage", message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        IpcError::new("internal", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        IpcError::new("not_found", message)
    }
}

impl From<Error> for IpcError {
    fn from(e: Error) -> Self {
        let message = e.to_string();
        match e {
            Error::Invalid(i) => IpcError { field: Some(i.field), ..IpcError::new("invalid", message) },
            Error::Keychain(_) | Error::SecretMissing { .. } => IpcError::new("keychain", message),
            Error::NotFound(_) => IpcError::new("not_found", message),
            Error::Storage { .. } => IpcError::new("storage", message),
        }
    }
}

impl From<ExchangeError> for IpcError {
    fn from(e: ExchangeError) -> Self {
        // The answers that mean one field was typed wrong point the wizard at that field.
        let field = match e {
            ExchangeError::InvalidKey { .. } => Some(Field::ApiKey),
            ExchangeError::BadSignature { .. } => Some(Field::ApiSecret),
            ExchangeError::WrongPassphrase { .. } | ExchangeError::MissingPassphrase => Some(Field::Passphrase),
            _ => None,
        };
        IpcError { field, code: Some(e.kind()), ..IpcError::new("exchange", e.to_string()) }
    }
}

impl From<GuardError> for IpcError {
    fn from(e: GuardError) -> Self {
        let message = e.to_string();
        match e {
            GuardError::NotEnrolled => IpcError::new("guard_missing", message),
            GuardError::Keychain(_) => IpcError::new("keychain", message),
            GuardError::Storage(inner) => inner.into(),
            GuardError::Random => IpcError::internal(message),
            // Wrong, reused or locked-out codes: the message belongs under the code field.
            _ => IpcError { code: Some(e.kind()), ..IpcError::new("guard", message) },
        }
    }
}

impl From<latchkey_core::bots::BotsError> for IpcError {
    fn from(e: latchkey_core::bots::BotsError) -> Self {
        use latchkey_core::bots::BotsError;
        match e {
            BotsError::Guard(g) => g.into(),
            BotsError::Core(inner) => inner.into(),
            refusal => IpcError { code: Some(refusal.kind()), ..IpcError::new("bots", refusal.to_string()) },
        }
    }
}

impl From<latchkey_core::edit::EditError> for IpcError {
    fn from(e: latchkey_core::edit::EditError) -> Self {
        use latchkey_core::edit::EditError;
        let message = e.to_string();
        match e {
            EditError::Guard(g) => g.into(),
            EditError::Core(inner) => inner.into(),
            EditError::Bots(b) => b.into(),
            // A move asked for without a code: the message belongs under the code field.
            EditError::CodeNeeded { .. } => IpcError { code: Some("code_needed"), ..IpcError::new("guard", message) },
            EditError::Revoked { .. } => IpcError { code: Some("key_revoked"), ..IpcError::new("edit", message) },
        }
    }
}

impl From<RevokeError> for IpcError {
    fn from(e: RevokeError) -> Self {
        match e {
            RevokeError::Guard(g) => g.into(),
            RevokeError::Storage(inner) => inner.into(),
            RevokeError::UnknownKey(_) => IpcError::not_found(e.to_string()),
            other => IpcError { code: Some(other.kind()), ..IpcError::new("revoke", other.to_string()) },
        }
    }
}

impl From<tauri::Error> for IpcError {
    fn from(e: tauri::Error) -> Self {
        IpcError::internal(format!("Latchkey hit an internal error: {e}. Try again; if it persists, restart the app."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use latchkey_core::validate::Invalid;

    #[test]
    fn json_shape_is_what_the_ui_reads() {
        let e: IpcError = Error::Invalid(Invalid { field: Field::ApiSecret, message: "An OKX secret…".into() }).into();
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({"kind": "invalid", "message": "An OKX secret…", "field": "apiSecret"})
        );
        let e = IpcError::not_found("gone");
        assert_eq!(serde_json::to_value(&e).unwrap(), serde_json::json!({"kind": "not_found", "message": "gone"}));
    }

    #[test]
    fn guard_errors_tell_missing_2fa_from_a_wrong_code() {
        let v = serde_json::to_value(IpcError::from(GuardError::NotEnrolled)).unwrap();
        assert_eq!(v["kind"], "guard_missing");
        let v = serde_json::to_value(IpcError::from(RevokeError::Guard(GuardError::Replayed))).unwrap();
        assert_eq!((v["kind"].as_str(), v["code"].as_str()), (Some("guard"), Some("code_reused")));
        assert!(v["message"].as_str().unwrap().contains("already used"));
    }

    #[test]
    fn exchange_errors_name_their_code_and_field() {
        let e: IpcError = ExchangeError::MissingPassphrase.into();
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(
            (v["kind"].as_str(), v["code"].as_str(), v["field"].as_str()),
            (Some("exchange"), Some("missing_passphrase"), Some("passphrase"))
        );
        assert!(!e.message.is_empty());
    }

    #[test]
    fn edit_refusals_say_where_they_belong() {
        use latchkey_core::edit::EditError;
        let v = serde_json::to_value(IpcError::from(EditError::CodeNeeded { label: "bot".into() })).unwrap();
        assert_eq!(
            (v["kind"].as_str(), v["code"].as_str()),
            (Some("guard"), Some("code_needed")),
            "under the code field"
        );
        let v = serde_json::to_value(IpcError::from(EditError::Revoked { label: "bot".into() })).unwrap();
        assert_eq!((v["kind"].as_str(), v["code"].as_str()), (Some("edit"), Some("key_revoked")));
        let invalid = Error::Invalid(Invalid { field: Field::BaseUrl, message: "Use https".into() });
        let v = serde_json::to_value(IpcError::from(EditError::Core(invalid))).unwrap();
        assert_eq!((v["kind"].as_str(), v["field"].as_str()), (Some("invalid"), Some("baseUrl")));
    }
}
