//! Errors cross IPC as `{kind, message, field?, code?}`: `kind` for the UI to branch on, `message`
//! for the person, `field` for the input to highlight, `code` for what an exchange answered. A kind
//! exists only because the UI uses it.

use latchkey_core::error::ErrorCode;
use latchkey_core::exchange::ExchangeError;
use latchkey_core::guard::GuardError;
use latchkey_core::revoke::RevokeError;
use latchkey_core::validate::Field;
use latchkey_core::Error;
use serde::Serialize;
use ts_rs::TS;

/// What the UI branches on. `guard`: a wrong, expired or replayed 2FA code, or a lock-out (the
/// message says what to do); `guard_missing`: the action needs 2FA, which is not set up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum IpcErrorKind {
    Invalid,
    Keychain,
    NotFound,
    Storage,
    Exchange,
    Guard,
    GuardMissing,
    Bots,
    Revoke,
    /// A key edit refused (a revoked key is kept as history).
    Edit,
    /// A fix in place refused (no master, nothing to fix, the key not in its sub-account).
    Fix,
    /// A mint refused (the master cannot, no IP whitelist unacknowledged) or left in doubt.
    Mint,
    /// An automatic rotation refused (the key cannot rotate through a master, one already runs)
    /// or interrupted.
    Rotate,
    /// OpenBao refused or could not be reached; `code` says what exactly (sealed, TLS, permission
    /// denied, a CAS conflict…), the message what to do.
    Servers,
    /// The signing agent refused (a bot name that is taken or not valid, an exchange it does not
    /// serve); the message goes under the bot's name.
    Agent,
    Internal,
}

/// Every command rejects with this object.
#[derive(Debug, Serialize, TS)]
pub struct IpcError {
    pub kind: IpcErrorKind,
    pub message: String,
    /// The input to highlight: for `invalid`, and for the exchange codes invalid_key /
    /// bad_signature / wrong_passphrase.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub field: Option<Field>,
    /// For `exchange`, `guard`, `bots` and `revoke`: what exactly, e.g. `bad_signature`, `timeout`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub code: Option<ErrorCode>,
    /// For `invalid` from the servers form or the Add host dialog: the input to highlight.
    #[serde(rename = "serverField", skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub server_field: Option<crate::commands::servers::ServerField>,
}

impl IpcError {
    fn new(kind: IpcErrorKind, message: impl Into<String>) -> Self {
        IpcError { kind, message: message.into(), field: None, code: None, server_field: None }
    }

    pub fn storage(message: String) -> Self {
        IpcError::new(IpcErrorKind::Storage, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        IpcError::new(IpcErrorKind::Internal, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        IpcError::new(IpcErrorKind::NotFound, message)
    }
}

impl From<Error> for IpcError {
    fn from(e: Error) -> Self {
        let message = e.to_string();
        match e {
            Error::Invalid(i) => IpcError { field: Some(i.field), ..IpcError::new(IpcErrorKind::Invalid, message) },
            Error::Keychain(_) | Error::SecretMissing { .. } => IpcError::new(IpcErrorKind::Keychain, message),
            Error::NotFound(_) => IpcError::new(IpcErrorKind::NotFound, message),
            Error::Storage { .. } => IpcError::new(IpcErrorKind::Storage, message),
        }
    }
}

impl From<ExchangeError> for IpcError {
    fn from(e: ExchangeError) -> Self {
        // The answers that mean one field was typed wrong point the wizard at that field.
        let field = match e {
            ExchangeError::InvalidKey { .. } => Some(Field::ApiKey),
            ExchangeError::BadSignature { .. } => Some(Field::ApiSecret),
            ExchangeError::WrongPassphrase { .. } | ExchangeError::MissingPassphrase { .. } => Some(Field::Passphrase),
            _ => None,
        };
        IpcError { field, code: Some(e.kind()), ..IpcError::new(IpcErrorKind::Exchange, e.to_string()) }
    }
}

impl From<GuardError> for IpcError {
    fn from(e: GuardError) -> Self {
        let message = e.to_string();
        match e {
            GuardError::NotEnrolled => IpcError::new(IpcErrorKind::GuardMissing, message),
            GuardError::Keychain(_) => IpcError::new(IpcErrorKind::Keychain, message),
            GuardError::Storage(inner) => inner.into(),
            GuardError::Random => IpcError::internal(message),
            // Wrong, reused or locked-out codes: the message belongs under the code field.
            _ => IpcError { code: Some(e.kind()), ..IpcError::new(IpcErrorKind::Guard, message) },
        }
    }
}

impl From<latchkey_core::bots::BotsError> for IpcError {
    fn from(e: latchkey_core::bots::BotsError) -> Self {
        use latchkey_core::bots::BotsError;
        match e {
            BotsError::Guard(g) => g.into(),
            BotsError::Core(inner) => inner.into(),
            refusal => {
                IpcError { code: Some(refusal.kind()), ..IpcError::new(IpcErrorKind::Bots, refusal.to_string()) }
            }
        }
    }
}

impl From<latchkey_core::agent::AgentError> for IpcError {
    fn from(e: latchkey_core::agent::AgentError) -> Self {
        use latchkey_core::agent::AgentError;
        match e {
            AgentError::Bots(b) => b.into(),
            AgentError::Keychain(k) => Error::from(k).into(),
            AgentError::Core(inner) => inner.into(),
            AgentError::Failed(m) => IpcError::internal(m),
            refusal => {
                IpcError { code: Some(refusal.kind()), ..IpcError::new(IpcErrorKind::Agent, refusal.to_string()) }
            }
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
            EditError::CodeNeeded { .. } => {
                IpcError { code: Some(ErrorCode::CodeNeeded), ..IpcError::new(IpcErrorKind::Guard, message) }
            }
            EditError::Revoked { .. } => {
                IpcError { code: Some(ErrorCode::KeyRevoked), ..IpcError::new(IpcErrorKind::Edit, message) }
            }
            EditError::CannotAutoRotate { .. } => {
                IpcError { code: Some(ErrorCode::NotAvailable), ..IpcError::new(IpcErrorKind::Edit, message) }
            }
        }
    }
}

impl From<latchkey_core::fix::FixError> for IpcError {
    fn from(e: latchkey_core::fix::FixError) -> Self {
        use latchkey_core::fix::FixError;
        let message = e.to_string();
        match e {
            FixError::Guard(g) => g.into(),
            FixError::Core(inner) => inner.into(),
            FixError::Exchange(x) => x.into(),
            // Asked for without a code: the message belongs under the code field.
            FixError::CodeNeeded => {
                IpcError { code: Some(ErrorCode::CodeNeeded), ..IpcError::new(IpcErrorKind::Guard, message) }
            }
            refusal => IpcError { code: Some(refusal.kind()), ..IpcError::new(IpcErrorKind::Fix, message) },
        }
    }
}

impl From<latchkey_core::mint::MintError> for IpcError {
    fn from(e: latchkey_core::mint::MintError) -> Self {
        use latchkey_core::mint::MintError;
        let message = e.to_string();
        match e {
            MintError::Guard(g) => g.into(),
            MintError::Core(inner) => inner.into(),
            MintError::Exchange(x) => x.into(),
            // Asked for without a code: the message belongs under the code field.
            MintError::CodeNeeded => {
                IpcError { code: Some(ErrorCode::CodeNeeded), ..IpcError::new(IpcErrorKind::Guard, message) }
            }
            refusal => IpcError { code: Some(refusal.kind()), ..IpcError::new(IpcErrorKind::Mint, message) },
        }
    }
}

impl From<latchkey_core::autorotate::AutoRotateError> for IpcError {
    fn from(e: latchkey_core::autorotate::AutoRotateError) -> Self {
        use latchkey_core::autorotate::AutoRotateError;
        let message = e.to_string();
        match e {
            AutoRotateError::Guard(g) => g.into(),
            AutoRotateError::Storage(inner) => inner.into(),
            AutoRotateError::CodeNeeded => {
                IpcError { code: Some(ErrorCode::CodeNeeded), ..IpcError::new(IpcErrorKind::Guard, message) }
            }
            refusal => IpcError { code: Some(refusal.kind()), ..IpcError::new(IpcErrorKind::Rotate, message) },
        }
    }
}

impl From<RevokeError> for IpcError {
    fn from(e: RevokeError) -> Self {
        match e {
            RevokeError::Guard(g) => g.into(),
            RevokeError::Storage(inner) => inner.into(),
            RevokeError::UnknownKey(_) => IpcError::not_found(e.to_string()),
            other => IpcError { code: Some(other.kind()), ..IpcError::new(IpcErrorKind::Revoke, other.to_string()) },
        }
    }
}

impl From<latchkey_core::servers::ServerError> for IpcError {
    fn from(e: latchkey_core::servers::ServerError) -> Self {
        use latchkey_core::servers::ServerError;
        let message = e.to_string();
        match e {
            ServerError::Bots(b) => b.into(),
            ServerError::Core(inner) => inner.into(),
            ServerError::Keychain(_) => IpcError::new(IpcErrorKind::Keychain, message),
            ServerError::Setting { field, .. } => {
                IpcError { server_field: Some(field), ..IpcError::new(IpcErrorKind::Invalid, message) }
            }
            other => IpcError { code: Some(other.kind()), ..IpcError::new(IpcErrorKind::Servers, message) },
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
        // It names the header's button as the UI labels it while 2FA is off (ui/src/app.ts).
        assert!(v["message"].as_str().unwrap().contains("“Set up 2FA” button at the top"), "{v}");
        let v = serde_json::to_value(IpcError::from(RevokeError::Guard(GuardError::PhraseRequired))).unwrap();
        assert_eq!((v["kind"].as_str(), v["code"].as_str()), (Some("guard"), Some("phrase_required")));
        let v = serde_json::to_value(IpcError::from(RevokeError::Guard(GuardError::PhraseRefused))).unwrap();
        assert_eq!((v["kind"].as_str(), v["code"].as_str()), (Some("guard"), Some("phrase_refused")));
        let v = serde_json::to_value(IpcError::from(RevokeError::Guard(GuardError::Replayed))).unwrap();
        assert_eq!((v["kind"].as_str(), v["code"].as_str()), (Some("guard"), Some("code_reused")));
        assert!(v["message"].as_str().unwrap().contains("already used"));
    }

    #[test]
    fn exchange_errors_name_their_code_and_field() {
        let e: IpcError = ExchangeError::MissingPassphrase { exchange: latchkey_core::model::Exchange::Okx }.into();
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
        let v = serde_json::to_value(IpcError::from(EditError::CodeNeeded {
            label: "bot".into(),
            what: "Moving key 'bot'".into(),
        }))
        .unwrap();
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

    #[test]
    fn server_errors_name_their_field_or_code() {
        use latchkey_core::servers::{ServerError, SettingField};
        let v = serde_json::to_value(IpcError::from(ServerError::Setting {
            field: SettingField::Address,
            message: "Use https://".into(),
        }))
        .unwrap();
        assert_eq!((v["kind"].as_str(), v["serverField"].as_str()), (Some("invalid"), Some("address")));
        assert!(v.get("field").is_none(), "not a key field: {v}");
        let v = serde_json::to_value(IpcError::from(ServerError::Sealed { addr: "https://bao".into() })).unwrap();
        assert_eq!((v["kind"].as_str(), v["code"].as_str()), (Some("servers"), Some("server_sealed")));
        assert!(v["message"].as_str().unwrap().contains("unseal"), "{v}");
        let denied = ServerError::PermissionDenied {
            denied: "secret/data/latchkey/…".into(),
            needed: vec!["path \"secret/data/latchkey/*\" { capabilities = [\"read\"] }".into()],
        };
        let v = serde_json::to_value(IpcError::from(denied)).unwrap();
        assert_eq!(v["code"], "permission_denied");
        assert!(v["message"].as_str().unwrap().contains("secret/data/latchkey/*"), "the policy line: {v}");
    }
}
