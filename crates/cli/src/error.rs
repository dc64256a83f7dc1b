//! The CLI's one error type. Each message says what went wrong and what to do; none carries a
//! secret. [`CliError::exit_code`] maps it to the documented exit codes (README.md).

use latchkey_core::exchange::ExchangeError;
use latchkey_core::guard::GuardError;
use latchkey_core::keychain::KeychainError;
use latchkey_core::revoke::RevokeError;

/// Exit codes: see README.md.
pub const EXIT_OK: u8 = 0;
pub const EXIT_FAILURE: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_REFUSED: u8 = 3;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The command line (or what was piped in) is not usable as given.
    #[error("{0}")]
    Usage(String),
    /// A guarded action was refused, or the key may not be used (revoked, quarantined).
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Failed(String),
    #[error(transparent)]
    Core(#[from] latchkey_core::Error),
    #[error(transparent)]
    Exchange(#[from] ExchangeError),
    #[error(transparent)]
    Keychain(#[from] KeychainError),
    #[error("{}", guard_message(.0))]
    Guard(GuardError),
    #[error(transparent)]
    Scan(#[from] latchkey_core::scan::ScanError),
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => EXIT_USAGE,
            CliError::Refused(_) => EXIT_REFUSED,
            CliError::Guard(g) if guard_refusal(g) => EXIT_REFUSED,
            _ => EXIT_FAILURE,
        }
    }

    pub fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> CliError {
        let context = context.into();
        move |source| CliError::Io { context, source }
    }
}

impl From<GuardError> for CliError {
    fn from(e: GuardError) -> Self {
        match e {
            GuardError::Storage(core) => CliError::Core(core),
            GuardError::Keychain(k) => CliError::Keychain(k),
            other => CliError::Guard(other),
        }
    }
}

impl From<latchkey_core::bots::BotsError> for CliError {
    fn from(e: latchkey_core::bots::BotsError) -> Self {
        use latchkey_core::bots::BotsError;
        match e {
            BotsError::Guard(g) => g.into(),
            BotsError::Core(core) => CliError::Core(core),
            refusal => CliError::Refused(refusal.to_string()),
        }
    }
}

impl From<latchkey_core::agent::AgentError> for CliError {
    fn from(e: latchkey_core::agent::AgentError) -> Self {
        use latchkey_core::agent::AgentError;
        match e {
            AgentError::Bots(b) => b.into(),
            AgentError::Core(core) => CliError::Core(core),
            AgentError::Keychain(k) => CliError::Keychain(k),
            usage @ (AgentError::BadBotName(_) | AgentError::NotLoopback(_) | AgentError::UnknownLabel(_)) => {
                CliError::Usage(usage.to_string())
            }
            refusal @ (AgentError::NotServed { .. } | AgentError::BotExists(_) | AgentError::UnknownBot(_)) => {
                CliError::Refused(refusal.to_string())
            }
            other => CliError::Failed(other.to_string()),
        }
    }
}

impl From<latchkey_core::edit::EditError> for CliError {
    fn from(e: latchkey_core::edit::EditError) -> Self {
        use latchkey_core::edit::EditError;
        match e {
            EditError::Guard(g) => g.into(),
            EditError::Core(core) => CliError::Core(core),
            EditError::Bots(b) => b.into(),
            refusal @ (EditError::Revoked { .. }
            | EditError::CodeNeeded { .. }
            | EditError::CannotAutoRotate { .. }) => CliError::Refused(refusal.to_string()),
        }
    }
}

impl From<latchkey_core::mint::MintError> for CliError {
    fn from(e: latchkey_core::mint::MintError) -> Self {
        use latchkey_core::mint::MintError;
        match e {
            MintError::Guard(g) => g.into(),
            MintError::Core(core) => CliError::Core(core),
            // What the user typed, refused before anything was sent.
            MintError::Exchange(x @ (ExchangeError::NotGrantable { .. } | ExchangeError::IpListRefused { .. })) => {
                CliError::Usage(x.to_string())
            }
            MintError::Exchange(x) => CliError::Exchange(x),
            MintError::IpWhitelistRequired { .. }
            | MintError::IpsAndNoWhitelist
            | MintError::LifetimeNotOffered { .. } => CliError::Usage(e.to_string()),
            refusal @ (MintError::MasterNotUsable { .. }
            | MintError::MasterNotReady { .. }
            | MintError::LabelOnExchange { .. }
            | MintError::CodeNeeded) => CliError::Refused(refusal.to_string()),
            failure => CliError::Failed(failure.to_string()),
        }
    }
}

impl From<latchkey_core::fix::FixError> for CliError {
    fn from(e: latchkey_core::fix::FixError) -> Self {
        use latchkey_core::fix::FixError;
        match e {
            FixError::Guard(g) => g.into(),
            FixError::Core(core) => CliError::Core(core),
            // What the user typed, refused before anything was sent.
            FixError::Exchange(x @ ExchangeError::IpListRefused { .. }) => CliError::Usage(x.to_string()),
            FixError::NoIps => CliError::Usage(e.to_string()),
            FixError::Exchange(x) => CliError::Exchange(x),
            refusal @ (FixError::NotFixable { .. }
            | FixError::NotUsable { .. }
            | FixError::NothingToFix { .. }
            | FixError::CodeNeeded) => CliError::Refused(refusal.to_string()),
            failure @ FixError::NotInSubAccount { .. } => CliError::Failed(failure.to_string()),
        }
    }
}

impl From<latchkey_core::lock::LockError> for CliError {
    fn from(e: latchkey_core::lock::LockError) -> Self {
        use latchkey_core::lock::LockError;
        match e {
            LockError::Guard(g) => g.into(),
            LockError::Core(core) => CliError::Core(core),
            LockError::Exchange(x) => CliError::Exchange(x),
            refusal => CliError::Refused(refusal.to_string()),
        }
    }
}

impl From<RevokeError> for CliError {
    fn from(e: RevokeError) -> Self {
        match e {
            RevokeError::Guard(g) => g.into(),
            RevokeError::Storage(core) => CliError::Core(core),
            RevokeError::UnknownKey(id) => {
                CliError::Failed(format!("No key with id {id}: it may have been deleted. Run `latchkey list`."))
            }
            RevokeError::Busy => CliError::Failed(
                "A revoke is already running (in the app or another terminal): wait for its report, then try again."
                    .to_owned(),
            ),
            RevokeError::Interrupted => CliError::Failed(
                "The revoke was interrupted: run `latchkey revoke --resume` (or open the Latchkey app) to finish it."
                    .to_owned(),
            ),
        }
    }
}

impl From<latchkey_core::rotate::RotateError> for CliError {
    fn from(e: latchkey_core::rotate::RotateError) -> Self {
        use latchkey_core::rotate::RotateError;
        match e {
            RotateError::Key(core) => CliError::Core(core),
            RotateError::Exchange(x) => CliError::Exchange(x),
            RotateError::Revoke(r) => r.into(),
            behind @ RotateError::ServersBehind { .. } => CliError::Failed(behind.to_string()),
        }
    }
}

impl From<latchkey_core::autorotate::AutoRotateError> for CliError {
    fn from(e: latchkey_core::autorotate::AutoRotateError) -> Self {
        use latchkey_core::autorotate::AutoRotateError;
        match e {
            AutoRotateError::Storage(core) => CliError::Core(core),
            refusal @ (AutoRotateError::NotEligible { .. } | AutoRotateError::CodeNeeded) => {
                CliError::Refused(refusal.to_string())
            }
            AutoRotateError::Guard(g) => g.into(),
            AutoRotateError::Busy => CliError::Failed(
                "A rotation is already running (in the app or another terminal): wait for it, then try again."
                    .to_owned(),
            ),
            AutoRotateError::Interrupted => CliError::Failed(
                "The rotation was interrupted: run `latchkey rotate --resume` (or open the Latchkey app) to finish it."
                    .to_owned(),
            ),
        }
    }
}

/// Wrong, reused or missing codes and lockouts: the guarded action was refused.
fn guard_refusal(e: &GuardError) -> bool {
    matches!(
        e,
        GuardError::NotEnrolled
            | GuardError::PhraseRefused
            | GuardError::PhraseRequired
            | GuardError::WrongCode { .. }
            | GuardError::NotACode
            | GuardError::Replayed
            | GuardError::LockedOut { .. }
            | GuardError::CodeRequired
            | GuardError::WrongFirstCode { .. }
            | GuardError::EnrollmentTriesExhausted
            | GuardError::EnrollmentExpired
            | GuardError::EnrollmentStale
            | GuardError::OldSeedExists
    )
}

/// The core's messages point at the app's screens; say the CLI's way where it differs.
fn guard_message(e: &GuardError) -> String {
    match e {
        GuardError::NotEnrolled => {
            "2FA is not set up: run `latchkey 2fa enroll` (or set it up in the app), then try again.".to_owned()
        }
        GuardError::PhraseRefused => "2FA is set up, so --confirm REVOKE is not enough: pass a current code (or a recovery code) with --code, or type it when asked.".to_owned(),
        GuardError::PhraseRequired => "2FA is not set up, so revoking asks for the typed confirmation: type REVOKE (in capitals) when asked, or pass --confirm REVOKE. Or set up 2FA first with `latchkey 2fa enroll`.".to_owned(),
        GuardError::NoPendingEnrollment => "No 2FA setup is in progress: run `latchkey 2fa enroll` again.".to_owned(),
        GuardError::SecretMissing => "The 2FA secret is missing from the keychain. Use a recovery code, then set up 2FA again with `latchkey 2fa enroll`.".to_owned(),
        GuardError::CodeRequired => "2FA is already set up: pass a current code (or a recovery code) with --code to set it up again.".to_owned(),
        GuardError::EnrollmentTriesExhausted => format!("{e} Run `latchkey 2fa enroll` again."),
        GuardError::OldSeedExists => "A 2FA secret from an earlier setup is still in the keychain, though this database does not know it (was the database reset or replaced?). Pass a current code from that authenticator entry with --code, or pass --destroy-old-seed to destroy it: its codes stop working for good.".to_owned(),
        other => other.to_string(),
    }
}

impl From<latchkey_core::servers::ServerError> for CliError {
    fn from(e: latchkey_core::servers::ServerError) -> Self {
        use latchkey_core::servers::ServerError;
        match e {
            ServerError::Bots(b) => b.into(),
            ServerError::Core(core) => CliError::Core(core),
            ServerError::Keychain(k) => CliError::Keychain(k),
            // What the user typed or has yet to set up, refused before anything was sent.
            usage @ (ServerError::Setting { .. } | ServerError::LabelNotAPath { .. } | ServerError::NotConfigured) => {
                CliError::Usage(usage.to_string())
            }
            failure => CliError::Failed(failure.to_string()),
        }
    }
}
