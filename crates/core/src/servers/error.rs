//! What can go wrong talking to OpenBao, one variant per thing the user does differently about it.
//! No message carries a secret: OpenBao's own error texts never echo the request's data, and the
//! token or password is never part of a message.

use crate::error::ErrorCode;
use crate::keychain::KeychainError;
use crate::servers::settings::SettingField;

/// The three KV v2 endpoints Latchkey uses under `<mount>/<kind>/<prefix>/<label>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathKind {
    Data,
    Metadata,
    Destroy,
}

impl PathKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PathKind::Data => "data",
            PathKind::Metadata => "metadata",
            PathKind::Destroy => "destroy",
        }
    }

    /// What Latchkey needs on this endpoint for everything it does (deliver, read back, rotate,
    /// revoke): the policy line a permission error tells the user to add.
    pub fn capabilities(self) -> &'static [&'static str] {
        match self {
            PathKind::Data => &["create", "update", "read"],
            PathKind::Metadata => &["create", "update", "read", "delete"],
            PathKind::Destroy => &["update"],
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A setting the user typed is not usable; `field` says which.
    #[error("{message}")]
    Setting { field: SettingField, message: String },

    #[error("The label '{label}' cannot be a path in OpenBao: use only letters, digits, '.', '_' and '-' (for example '{suggestion}'). Rename the key, then deliver it again.")]
    LabelNotAPath { label: String, suggestion: String },

    #[error("Cannot reach OpenBao at {addr} ({detail}). Check the address and port, that the server is running, and that this machine may connect to it.")]
    Unreachable { addr: String, detail: String },

    #[error("OpenBao at {addr} did not answer within {secs} s. Check that the server is not overloaded and the network is up, then try again.")]
    Timeout { addr: String, secs: u64 },

    #[error("The secure (TLS) connection to OpenBao at {addr} failed ({detail}). {hint}")]
    Tls { addr: String, detail: String, hint: &'static str },

    #[error("OpenBao at {addr} is sealed: unseal it (`bao operator unseal` with the unseal keys) and try again. Latchkey changed nothing.")]
    Sealed { addr: String },

    #[error("OpenBao at {addr} is not initialised: run `bao operator init` on the server first.")]
    NotInitialized { addr: String },

    #[error("OpenBao refused Latchkey's token: it is wrong, expired or revoked (or lacks the `default` policy). Create a new one (`bao token create -policy=<policy>`) and save it in Settings → Servers (OpenBao), or with `latchkey servers set`.")]
    TokenRefused,

    #[error("OpenBao refused the sign-in of user '{username}' at auth/{mount}: the username or password is wrong. Check them (or that the userpass method is enabled at that path) and save them again in Settings → Servers (OpenBao), or with `latchkey servers set`.")]
    LoginRefused { username: String, mount: String },

    #[error("The token may not use `{denied}`: OpenBao said permission denied. Add to its policy: {}", policy_lines(.needed))]
    PermissionDenied { denied: String, needed: Vec<String> },

    #[error("There is no secrets engine at `{mount}/` that this token may use. Check the mount name (`bao secrets list`), or enable one: `bao secrets enable -path={mount} kv-v2`.")]
    MountNotFound { mount: String },

    #[error("`{mount}/` is {found}, not a KV version 2 engine: Latchkey needs its versions and check-and-set. Choose a KV v2 mount, or enable one: `bao secrets enable -path=<name> kv-v2`.")]
    NotKvV2 { mount: String, found: String },

    /// `key` is `<prefix>/<label>` inside `mount`.
    #[error("Someone else wrote the key at `{mount}/{key}`: OpenBao has {}, Latchkey expected {}. Nothing was overwritten. See who wrote it and when (`bao kv metadata get -mount={mount} {key}`), then deliver again.", version_words(*.current), version_words(*.expected))]
    CasConflict { mount: String, key: String, expected: Option<u64>, current: Option<u64> },

    #[error("Nothing is stored at `{path}`{}: it was never delivered, or was destroyed.", .version.map(|v| format!(" in version {v}")).unwrap_or_default())]
    NotFound { path: String, version: Option<u64> },

    #[error("OpenBao redirected the request to {location}: set the address of the active node or of the cluster's load balancer.")]
    Redirect { location: String },

    #[error("OpenBao answered {status} to {what}: {message}")]
    Server { status: u16, what: String, message: String },

    #[error("OpenBao's answer to {what} was not understood ({detail}). Check that the address is an OpenBao (or Vault) server.")]
    Unexpected { what: String, detail: String },

    #[error("AppRole sign-in is not enabled on this OpenBao: enable it once with `bao auth enable approle`, then add the host again.")]
    ApproleMissing,

    #[error("This enrolment token was already used: someone else may have it; run `latchkey host add` again on the desktop (or Settings → Servers → Add host) and use the new token at once (a token also stops working 10 minutes after it was made).")]
    EnrolmentUsed,

    #[error("This enrolment token was not made by `latchkey host add` (OpenBao says it wraps the answer of `{creation_path}`): it was not used. Someone may have put their own token in its place: run `latchkey host add` again on the desktop (or Settings → Servers → Add host) and copy the new token yourself.")]
    EnrolmentNotOurs { creation_path: String },

    #[error("OpenBao refused the host's sign-in: the role-id is wrong, or the secret-id was already used or expired. Run `latchkey host add` again on the desktop (or Settings → Servers → Add host).")]
    HostLoginRefused,

    #[error("No OpenBao server is set up: set one up in Settings → Servers (OpenBao), or with `latchkey servers set --addr https://…`.")]
    NotConfigured,

    /// The key may not go to bots (the same rules as `latchkey run`).
    #[error(transparent)]
    Bots(#[from] crate::bots::BotsError),

    #[error(transparent)]
    Keychain(#[from] KeychainError),

    #[error(transparent)]
    Core(#[from] crate::Error),
}

fn policy_lines(needed: &[String]) -> String {
    needed.join("; ")
}

fn version_words(v: Option<u64>) -> String {
    match v {
        None | Some(0) => "no version".into(),
        Some(v) => format!("version {v}"),
    }
}

impl ServerError {
    pub fn kind(&self) -> ErrorCode {
        match self {
            ServerError::Setting { .. } | ServerError::LabelNotAPath { .. } => ErrorCode::Invalid,
            ServerError::Unreachable { .. } => ErrorCode::Network,
            ServerError::Timeout { .. } => ErrorCode::Timeout,
            ServerError::Tls { .. } => ErrorCode::ServerTls,
            ServerError::Sealed { .. } | ServerError::NotInitialized { .. } => ErrorCode::ServerSealed,
            ServerError::TokenRefused
            | ServerError::LoginRefused { .. }
            | ServerError::EnrolmentUsed
            | ServerError::EnrolmentNotOurs { .. }
            | ServerError::HostLoginRefused => ErrorCode::CredentialRefused,
            ServerError::ApproleMissing => ErrorCode::NotAvailable,
            ServerError::PermissionDenied { .. } => ErrorCode::PermissionDenied,
            ServerError::MountNotFound { .. } => ErrorCode::MountNotFound,
            ServerError::NotKvV2 { .. } => ErrorCode::NotKvV2,
            ServerError::CasConflict { .. } => ErrorCode::CasConflict,
            ServerError::NotFound { .. } => ErrorCode::NotFound,
            ServerError::Redirect { .. } | ServerError::Server { .. } | ServerError::Unexpected { .. } => {
                ErrorCode::UnexpectedResponse
            }
            ServerError::NotConfigured => ErrorCode::NotAvailable,
            ServerError::Bots(b) => b.kind(),
            ServerError::Keychain(_) => ErrorCode::Keychain,
            ServerError::Core(_) => ErrorCode::Storage,
        }
    }
}

/// The policy stanza that grants what Latchkey needs on one endpoint under the prefix.
pub(crate) fn policy_line(mount: &str, kind: PathKind, prefix: &str) -> String {
    let caps: Vec<String> = kind.capabilities().iter().map(|c| format!("\"{c}\"")).collect();
    format!("path \"{mount}/{}/{prefix}/*\" {{ capabilities = [{}] }}", kind.as_str(), caps.join(", "))
}
