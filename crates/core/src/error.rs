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

/// Declares [`ErrorCode`] from one list: each variant and the snake_case word it crosses IPC and
/// the CLI's `--json` as, so the Rust name, the wire word and the TypeScript type cannot drift.
macro_rules! error_codes {
    ($($(#[$doc:meta])* $variant:ident = $word:literal,)*) => {
        /// What went wrong, for programs: the UI branches on it, `--json` prints it. Every layer's
        /// error maps to one of these (`kind()`); the message says the same in words.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, ts_rs::TS)]
        pub enum ErrorCode {
            $($(#[$doc])* #[serde(rename = $word)] $variant,)*
        }

        impl ErrorCode {
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $word,)*
                }
            }
        }
    };
}

error_codes! {
    // The exchange's answers (ExchangeError).
    InvalidKey = "invalid_key",
    BadSignature = "bad_signature",
    WrongPassphrase = "wrong_passphrase",
    MissingPassphrase = "missing_passphrase",
    IpNotAllowed = "ip_not_allowed",
    KeyIpOrPermission = "key_ip_or_permission",
    ClockSkew = "clock_skew",
    InvalidNonce = "invalid_nonce",
    ExchangeCodeRequired = "exchange_code_required",
    ExchangeCodeRefused = "exchange_code_refused",
    PermissionDenied = "permission_denied",
    IpBindingRequired = "ip_binding_required",
    KeyFrozen = "key_frozen",
    KeyExpired = "key_expired",
    WrongEnvironment = "wrong_environment",
    RateLimited = "rate_limited",
    ExchangeDown = "exchange_down",
    Timeout = "timeout",
    Network = "network",
    UnexpectedResponse = "unexpected_response",
    NotAvailable = "not_available",
    StillLive = "still_live",
    Unproved = "unproved",
    Rejected = "rejected",
    InvalidEnvironment = "invalid_environment",
    // The 2FA guard (GuardError).
    NotEnrolled = "not_enrolled",
    PhraseRefused = "phrase_refused",
    PhraseRequired = "phrase_required",
    WrongCode = "wrong_code",
    NotACode = "not_a_code",
    CodeReused = "code_reused",
    LockedOut = "locked_out",
    CodeRequired = "code_required",
    NoPendingEnrollment = "no_pending_enrollment",
    EnrollmentTriesExhausted = "enrollment_tries_exhausted",
    EnrollmentExpired = "enrollment_expired",
    EnrollmentStale = "enrollment_stale",
    OldSeedExists = "old_seed_exists",
    SecretMissing = "secret_missing",
    Random = "random",
    // Bot access (BotsError).
    NotAllowedForBots = "not_allowed_for_bots",
    MasterKeyForBots = "master_key_for_bots",
    KeyNotUsable = "key_not_usable",
    // The revoke engine (RevokeError) and its steps.
    NotFound = "not_found",
    Busy = "busy",
    Interrupted = "interrupted",
    NoSecret = "no_secret",
    // Key edits (EditError).
    CodeNeeded = "code_needed",
    KeyRevoked = "key_revoked",
    Invalid = "invalid",
    // Sub-account keys and minting (issue 13).
    SubAccountNotFound = "sub_account_not_found",
    IpListRefused = "ip_list_refused",
    NotGrantable = "not_grantable",
    CreateIncomplete = "create_incomplete",
    MasterNotReady = "master_not_ready",
    // Fix in place (FixError).
    NotFixable = "not_fixable",
    // OpenBao, keys for servers (ServerError).
    ServerTls = "server_tls",
    ServerSealed = "server_sealed",
    CredentialRefused = "credential_refused",
    MountNotFound = "mount_not_found",
    NotKvV2 = "not_kv_v2",
    CasConflict = "cas_conflict",
    // Shared.
    Keychain = "keychain",
    Storage = "storage",
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// So tests and callers can compare with the word: `assert_eq!(err.kind(), "timeout")`.
impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}
