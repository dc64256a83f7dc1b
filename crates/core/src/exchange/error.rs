//! The exchange layer's one error type. Each variant is something the user can act on, and each
//! message says what to do. No message carries a secret: only exchange codes, HTTP statuses and
//! the exchange's own short error text.

use std::time::Duration;

use crate::model::Exchange;
use crate::validate::Invalid;

#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    #[error("{exchange} does not recognise this API key ({code}). Check that it was copied completely, that it has not been deleted or expired, and that it belongs to the selected environment (live or demo).")]
    InvalidKey { exchange: Exchange, code: String },

    #[error("{exchange} rejected the request signature ({code}): the secret key does not belong to this API key. Paste the secret key again.")]
    BadSignature { exchange: Exchange, code: String },

    #[error("{exchange} rejected the passphrase ({code}). Enter the passphrase you chose when creating this API key (it is not your login password).")]
    WrongPassphrase { exchange: Exchange, code: String },

    #[error(
        "{exchange} keys need their passphrase. Edit the key and enter the passphrase you chose when creating it."
    )]
    MissingPassphrase { exchange: Exchange },

    #[error("{exchange} refused this computer's IP address ({code}): the key is bound to other IPs. Add this machine's public IP to the key's whitelist on {exchange}, or use the key from an allowed machine.")]
    IpNotAllowed { exchange: Exchange, code: String },

    #[error("Binance rejected the API key, this computer's IP address or the key's permissions ({code}; Binance reports all three with one code). Check that the key was copied completely, that this machine's IP is on its whitelist, and that it has the permission this action needs.")]
    KeyIpOrPermission { code: String },

    #[error("{exchange} says this computer's clock is off ({code}), even after Latchkey corrected for the exchange's time. Turn on automatic date and time in your system settings, then try again.")]
    ClockSkew { exchange: Exchange, code: String },

    #[error("{exchange} refused the request's nonce ({code}): another program using this key sent a larger one. Latchkey counts in milliseconds, as most programs do; if a bot sends larger nonces with this key, give the key a nonce window on {exchange}'s API page, or give Latchkey a key of its own.")]
    InvalidNonce { exchange: Exchange, code: String },

    /// The exchange wants its own two-factor code for this call (Deribit's security-key
    /// challenge). Latchkey never holds the exchange's 2FA seed: the user types the code.
    #[error("{exchange} asks for its own two-factor code for this (the 6 digits your authenticator app shows for {exchange}, not Latchkey's). Latchkey never stores {exchange}'s 2FA seed: give the current code with the action (the app asks for it; the CLI takes --exchange-code), or do this on {exchange}'s website.")]
    ExchangeCodeRequired { exchange: Exchange, challenge: Option<String> },

    /// The code the user typed answered the exchange's challenge, and the exchange asked again.
    #[error("{exchange} did not accept that two-factor code: it asked for one again. Enter the code your authenticator app shows for {exchange} now (it changes every 30 seconds).")]
    ExchangeCodeRefused { exchange: Exchange },

    #[error("{exchange} says this key lacks the permission for this action ({code}). Enable it on {exchange}'s API management page, or use a key that has it.")]
    PermissionDenied { exchange: Exchange, code: String },

    #[error("OKX allows this only with a master key bound to IP addresses ({code}). Bind the master key to this machine's IP on OKX, then try again.")]
    IpBindingRequired { code: String },

    #[error("{exchange} has frozen this API key ({code}). Check your account on {exchange}: a frozen key cannot be used until it is unfrozen.")]
    KeyFrozen { exchange: Exchange, code: String },

    #[error(
        "{exchange} says this API key has expired ({code}). Create a new key on {exchange} and add it to Latchkey."
    )]
    KeyExpired { exchange: Exchange, code: String },

    #[error("{exchange} says this key belongs to another environment ({code}): a live key used on demo, or the reverse. Change the key's environment in Latchkey.")]
    WrongEnvironment { exchange: Exchange, code: String },

    #[error("{exchange} is limiting the request rate{}. Wait a moment and try again.", retry_hint(.retry_after))]
    RateLimited { exchange: Exchange, retry_after: Option<Duration> },

    #[error(
        "{exchange} is not answering properly (HTTP {status}). It may be down or under maintenance; try again later."
    )]
    ExchangeDown { exchange: Exchange, status: u16 },

    #[error("{exchange} did not answer within {} s. Check your internet connection, or try again later.", .after.as_secs_f64())]
    Timeout { exchange: Exchange, after: Duration },

    #[error(
        "Could not reach {exchange} ({detail}). Check your internet connection, proxy, or the key's custom base URL."
    )]
    Network { exchange: Exchange, detail: String },

    #[error("{exchange} answered in an unexpected way ({detail}). Try again later; if it persists, the exchange's API may have changed.")]
    UnexpectedResponse { exchange: Exchange, detail: String },

    #[error("{0}")]
    NotAvailable(String),

    /// After a revoke: the key's own signed read still works.
    #[error("{reason} The key still works at {exchange}: Latchkey keeps its secret and blocks it from use. Delete it on {exchange}'s API page, then choose \"I deleted it\" so Latchkey can prove it is gone.")]
    StillLive { exchange: Exchange, reason: String },

    /// After a revoke: nothing proved the key gone (nor alive).
    #[error("{reason} So Latchkey could not prove the key is gone: it keeps its secret and blocks it from use. Retry later, or check {exchange}'s API page: if the key is listed, delete it there, then choose \"I deleted it\".")]
    RevokeUnproved { exchange: Exchange, reason: String },

    #[error("{exchange} refused the request with code {code}: {message}. Check the key's settings on {exchange}.")]
    Rejected { exchange: Exchange, code: String, message: String },

    #[error(transparent)]
    InvalidEnvironment(#[from] Invalid),

    #[error("{exchange} lists no sub-account '{named}' under this master key{}. Name one of the master's sub-accounts by its {noun}.", known_hint(.known))]
    SubAccountNotFound { exchange: Exchange, named: String, known: String, noun: &'static str },

    #[error("{exchange} would refuse this IP whitelist: {detail}. Fix the list and try again.")]
    IpListRefused { exchange: Exchange, detail: String },

    /// A create whose setting takes a second call (Deribit: the IP whitelist), and that call failed.
    #[error("{exchange} made the key {key_hint} but refused to finish setting it up ({cause}). {}", if *.deleted { "Latchkey deleted the half-made key again: nothing was kept. Try again." } else { "Latchkey could not delete the half-made key (it can only read): delete it on the exchange's API page, then try again." })]
    CreateIncomplete { exchange: Exchange, key_hint: String, cause: Box<ExchangeError>, deleted: bool },

    #[error("{exchange} does not let a master grant {} to a sub-account key, and Latchkey never asks for it: a bot key needs read and trade at most. Choose read, or read and trade.", permission_word(*.permission))]
    NotGrantable { exchange: Exchange, permission: crate::model::Permission },
}

fn known_hint(known: &str) -> String {
    if known.is_empty() {
        " (it lists none: create a sub-account on the exchange's website first)".to_owned()
    } else {
        format!(" (it lists: {known})")
    }
}

fn permission_word(permission: crate::model::Permission) -> &'static str {
    use crate::model::Permission;
    match permission {
        Permission::Read => "read",
        Permission::Trade => "trade",
        Permission::Withdraw => "withdraw",
        Permission::Transfer => "transfer",
    }
}

fn retry_hint(retry_after: &Option<Duration>) -> String {
    match retry_after {
        Some(d) => format!(" and asks to retry in {} s", d.as_secs().max(1)),
        None => String::new(),
    }
}

impl ExchangeError {
    /// A short machine name for the UI, e.g. to pick an icon or offer "retry".
    pub fn kind(&self) -> crate::error::ErrorCode {
        use crate::error::ErrorCode;
        match self {
            ExchangeError::InvalidKey { .. } => ErrorCode::InvalidKey,
            ExchangeError::BadSignature { .. } => ErrorCode::BadSignature,
            ExchangeError::WrongPassphrase { .. } => ErrorCode::WrongPassphrase,
            ExchangeError::MissingPassphrase { .. } => ErrorCode::MissingPassphrase,
            ExchangeError::IpNotAllowed { .. } => ErrorCode::IpNotAllowed,
            ExchangeError::KeyIpOrPermission { .. } => ErrorCode::KeyIpOrPermission,
            ExchangeError::ClockSkew { .. } => ErrorCode::ClockSkew,
            ExchangeError::InvalidNonce { .. } => ErrorCode::InvalidNonce,
            ExchangeError::ExchangeCodeRequired { .. } => ErrorCode::ExchangeCodeRequired,
            ExchangeError::ExchangeCodeRefused { .. } => ErrorCode::ExchangeCodeRefused,
            ExchangeError::CreateIncomplete { .. } => ErrorCode::CreateIncomplete,
            ExchangeError::PermissionDenied { .. } => ErrorCode::PermissionDenied,
            ExchangeError::IpBindingRequired { .. } => ErrorCode::IpBindingRequired,
            ExchangeError::KeyFrozen { .. } => ErrorCode::KeyFrozen,
            ExchangeError::KeyExpired { .. } => ErrorCode::KeyExpired,
            ExchangeError::WrongEnvironment { .. } => ErrorCode::WrongEnvironment,
            ExchangeError::RateLimited { .. } => ErrorCode::RateLimited,
            ExchangeError::ExchangeDown { .. } => ErrorCode::ExchangeDown,
            ExchangeError::Timeout { .. } => ErrorCode::Timeout,
            ExchangeError::Network { .. } => ErrorCode::Network,
            ExchangeError::UnexpectedResponse { .. } => ErrorCode::UnexpectedResponse,
            ExchangeError::NotAvailable(_) => ErrorCode::NotAvailable,
            ExchangeError::StillLive { .. } => ErrorCode::StillLive,
            ExchangeError::RevokeUnproved { .. } => ErrorCode::Unproved,
            ExchangeError::Rejected { .. } => ErrorCode::Rejected,
            ExchangeError::InvalidEnvironment(_) => ErrorCode::InvalidEnvironment,
            ExchangeError::SubAccountNotFound { .. } => ErrorCode::SubAccountNotFound,
            ExchangeError::IpListRefused { .. } => ErrorCode::IpListRefused,
            ExchangeError::NotGrantable { .. } => ErrorCode::NotGrantable,
        }
    }

    /// Whether trying again later may succeed without the user changing anything.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ExchangeError::RateLimited { .. }
                | ExchangeError::ExchangeDown { .. }
                | ExchangeError::Timeout { .. }
                | ExchangeError::Network { .. }
        )
    }

    /// The exchange's error code, when the exchange sent one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ExchangeError::InvalidKey { code, .. }
            | ExchangeError::BadSignature { code, .. }
            | ExchangeError::WrongPassphrase { code, .. }
            | ExchangeError::IpNotAllowed { code, .. }
            | ExchangeError::KeyIpOrPermission { code }
            | ExchangeError::ClockSkew { code, .. }
            | ExchangeError::InvalidNonce { code, .. }
            | ExchangeError::PermissionDenied { code, .. }
            | ExchangeError::IpBindingRequired { code }
            | ExchangeError::KeyFrozen { code, .. }
            | ExchangeError::KeyExpired { code, .. }
            | ExchangeError::WrongEnvironment { code, .. }
            | ExchangeError::Rejected { code, .. } => Some(code),
            _ => None,
        }
    }
}
