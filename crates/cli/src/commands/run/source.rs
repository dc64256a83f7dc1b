//! Where `run`'s keys come from: this machine's Latchkey ([`super::local`]) or an OpenBao server
//! the desktop delivered them to ([`super::openbao`]). Both feed the one supervisor
//! ([`super::supervise`]): it starts the child with what the source read, and when the source
//! reports a new version, moves the child as `--on-rotate` says, or stops it when the source says
//! the key must not be used any more.

use std::collections::BTreeMap;
use std::path::Path;

use latchkey_core::model::Exchange;
use latchkey_core::secret::Credentials;

use super::Part;
use crate::error::CliError;

/// One key the child holds, as far as the handover needs to know it (never its secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Handed {
    pub label: String,
    pub exchange: Exchange,
    /// Tells this version apart in messages: the key hint, or the OpenBao version.
    pub hint: String,
}

impl Handed {
    pub fn of(key: &latchkey_core::model::KeyRecord) -> Handed {
        Handed { label: key.label.clone(), exchange: key.exchange, hint: key.key_hint.clone() }
    }
}

/// What the child was given, for the source's records.
pub struct Given<'a> {
    pub program: &'a str,
    /// Variable → which part of which key (by index).
    pub plan: &'a BTreeMap<String, (usize, Part)>,
    pub file: Option<&'a Path>,
}

impl Given<'_> {
    /// "as OKX_API_KEY, OKX_API_SECRET" or "in the file …", for key `index`.
    pub fn how(&self, index: usize) -> String {
        match self.file {
            Some(path) => format!("in the file {}", path.display()),
            None => {
                let vars: Vec<&str> =
                    self.plan.iter().filter(|(_, (i, _))| *i == index).map(|(n, _)| n.as_str()).collect();
                format!("as {}", vars.join(", "))
            }
        }
    }
}

/// A key of the run has a successor the child can move to.
pub struct Rotation<T> {
    pub index: usize,
    pub new: Handed,
    /// Every key's credentials with the successor's at `index`: what a restarted child gets.
    pub credentials: Vec<Credentials>,
    /// The source's own handle on the successor, given back with [`KeySource::moved`].
    pub next: T,
}

pub enum Change<T> {
    Rotated(Rotation<T>),
    /// The child must stop, for this reason (a revoke, access taken away).
    Stop(String),
}

pub trait KeySource {
    type Next;

    /// The keys in the order they were named.
    fn keys(&self) -> &[Handed];

    /// Every key's credentials, in the order of [`KeySource::keys`].
    async fn credentials(&mut self) -> Result<Vec<Credentials>, CliError>;

    /// The child started with the keys.
    async fn given(&mut self, given: &Given<'_>) -> Result<(), CliError>;

    /// The child could not start, so nothing was given to anyone.
    async fn not_started(&mut self, program: &str, e: &std::io::Error) -> Result<(), CliError>;

    /// Waits for the next look and returns what changed, if anything. Cancel-safe: dropped while
    /// it waits or asks, it has changed nothing and the next call picks up where it stood.
    async fn next_change(&mut self, program: &str) -> Result<Option<Change<Self::Next>>, CliError>;

    /// The child now holds `rotation`'s successor (`how`: restarted, signalled).
    async fn moved(&mut self, index: usize, next: Self::Next, given: &Given<'_>, how: &str) -> Result<(), CliError>;

    /// The child keeps the old key (`--on-rotate none`): do not report this successor again.
    fn kept_old(&mut self, index: usize, next: Self::Next);

    /// The run ends.
    async fn ended(&mut self);
}

/// A copy of credentials (the secrets stay in zeroizing strings).
pub fn copy(c: &Credentials) -> Credentials {
    Credentials { api_key: c.api_key.clone(), api_secret: c.api_secret.clone(), passphrase: c.passphrase.clone() }
}
