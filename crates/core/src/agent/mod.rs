//! The signing agent: bots trade without ever holding the secret.
//!
//! A bot gets a placeholder key and secret that only this Latchkey recognises
//! ([`placeholders`]) and the agent's URL (`http://127.0.0.1:PORT/<exchange>`) in place of the
//! exchange's. For each request the agent ([`service`]) checks the placeholder signature exactly
//! as the exchange checks a real one (this is what authenticates a local caller: any process can
//! reach 127.0.0.1), refuses by the key's state and [`policy`] (withdrawals, transfers,
//! sub-account and key management never pass), re-stamps the timestamp with its own clock synced
//! to the exchange's, re-signs the same bytes with the real key and forwards them; the bot gets the
//! exchange's answer unchanged, or a refusal in the exchange's own non-retryable shape.
//!
//! A rotation needs no bot restart (the bot is bound to the key's label); an emergency revoke
//! halts the keys it names before any exchange call ([`halt_keys`]), and the agent refuses their
//! bots from the next request on.
//!
//! On a server, `latchkey agent --from openbao` runs the same agent on what OpenBao holds for its
//! host ([`mirror`]): the keys delivered to it and the bots the desktop issued for it ([`hosts`]).

mod audit_counts;
mod hosts;
mod known;
pub mod mirror;
pub mod placeholders;
pub mod policy;
pub mod server;
pub mod service;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::Serialize;

use crate::audit::{Action, Event, Outcome};
use crate::bots::{check_run, BotsError};
use crate::error::ErrorCode;
use crate::keychain::KeychainError;
use crate::model::{KeyId, KeyRecord, KeyStatus};
use crate::store::Store;

pub use placeholders::{AgentRootStore, BotRecord, Placeholder};
pub use policy::AgentPolicy;
pub use service::{Agent, AgentAnswer};

/// The agent's default port on 127.0.0.1.
pub const DEFAULT_PORT: u16 = 18300;
/// Moves the agent off 127.0.0.1:[`DEFAULT_PORT`], for the tray's agent, `latchkey agent` and
/// the base URLs handed to bots alike.
pub const LISTEN_VAR: &str = "LATCHKEY_AGENT_LISTEN";

/// Where the agent listens: [`LISTEN_VAR`], else 127.0.0.1:[`DEFAULT_PORT`]. Only the address is
/// parsed here; [`server::bind`] refuses one that is not loopback.
pub fn listen_address() -> Result<std::net::SocketAddr, AgentError> {
    match std::env::var(LISTEN_VAR) {
        Ok(v) => v.trim().parse().map_err(|_| {
            AgentError::Failed(format!("{LISTEN_VAR}={v} is not an address like 127.0.0.1:{DEFAULT_PORT}"))
        }),
        Err(_) => Ok(std::net::SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, DEFAULT_PORT))),
    }
}

/// Whether the agent signs for `exchange` (its adapter has an agent scheme).
pub fn serves(exchange: crate::model::Exchange) -> bool {
    exchange.adapter().agent_scheme().is_some()
}

/// The base URL a bot on `exchange` is given for an agent at `listen`.
pub fn base_url(listen: std::net::SocketAddr, exchange: crate::model::Exchange) -> String {
    format!("http://{listen}/{}", exchange.as_str())
}

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("No key is labelled '{0}'. See `latchkey list` for the labels.")]
    UnknownLabel(String),

    #[error("The signing agent does not serve {exchange} yet (OKX, Bybit and Binance it does): give this bot its key with `latchkey run` instead.")]
    NotServed { exchange: String },

    #[error("A bot named '{0}' already has credentials: revoke them first (Revoke beside it in the key's Signing agent dialog, or `latchkey agent revoke-bot '{0}'`) or choose another name.")]
    BotExists(String),

    #[error("No bot named '{0}' has credentials. See `latchkey agent bots` for the names.")]
    UnknownBot(String),

    #[error("A bot name is 1 to 64 letters, digits, '-', '_' or '.': '{0}' is not.")]
    BadBotName(String),

    #[error("Host '{host}' may not read '{label}' from OpenBao, and its agent signs with the key it reads there: {}", if *known { format!("give it the key first (`latchkey deliver {label}`, then `latchkey host add {host} --keys {label} …` with every key it should keep)") } else { format!("enrol it first (`latchkey deliver {label}`, then `latchkey host add {host} --keys {label}`)") })]
    HostCannotRead { host: String, label: String, known: bool },

    #[error(transparent)]
    Server(#[from] crate::servers::ServerError),

    #[error("The signing agent listens only on this computer (127.0.0.1 or ::1), so bots elsewhere cannot use it as an open proxy: {0} is not a loopback address.")]
    NotLoopback(String),

    #[error("The signing agent could not listen on {addr}: {detail}. Is another agent running? Choose another port with --listen 127.0.0.1:PORT.")]
    Listen { addr: String, detail: String },

    #[error(transparent)]
    Bots(#[from] BotsError),

    #[error(transparent)]
    Keychain(#[from] KeychainError),

    #[error(transparent)]
    Core(#[from] crate::Error),

    #[error("{0}")]
    Failed(String),
}

impl AgentError {
    pub fn kind(&self) -> ErrorCode {
        match self {
            AgentError::UnknownLabel(_) | AgentError::UnknownBot(_) => ErrorCode::NotFound,
            AgentError::NotServed { .. } | AgentError::NotLoopback(_) | AgentError::BadBotName(_) => ErrorCode::Invalid,
            AgentError::BotExists(_) => ErrorCode::Busy,
            AgentError::HostCannotRead { .. } => ErrorCode::Invalid,
            AgentError::Server(e) => e.kind(),
            AgentError::Listen { .. } | AgentError::Failed(_) => ErrorCode::Interrupted,
            AgentError::Bots(e) => e.kind(),
            AgentError::Keychain(_) => ErrorCode::Keychain,
            AgentError::Core(_) => ErrorCode::Storage,
        }
    }
}

/// Settings rows `agent-drain <label>`: until when the key's bots may only cancel and reduce.
pub(crate) const DRAIN_PREFIX: &str = "agent-drain ";

/// Settings rows `agent-halt <key id>`: keys an emergency revoke began on.
pub(crate) const HALT_PREFIX: &str = "agent-halt ";

/// Halts the agent for `keys` before a revoke touches the exchange: their bots are refused from
/// the next request on, whatever the exchange then answers.
pub fn halt_keys(store: &Store, keys: &[KeyId], at: DateTime<Utc>) -> crate::Result<()> {
    for id in keys {
        store.set_setting(&format!("{HALT_PREFIX}{id}"), &at)?;
    }
    Ok(())
}

/// What `latchkey agent issue` prints: the placeholder set and where the bot sends its requests.
pub struct Issued {
    pub bot: BotRecord,
    pub placeholder: Placeholder,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BotView {
    pub name: String,
    pub label: String,
    pub exchange: String,
    pub issued_at: DateTime<Utc>,
    /// The OpenBao host whose agent serves it (`None`: this machine's).
    pub host: Option<String>,
}

impl From<&BotRecord> for BotView {
    fn from(b: &BotRecord) -> Self {
        BotView {
            name: b.name.clone(),
            label: b.label.clone(),
            exchange: b.exchange.to_string(),
            issued_at: b.issued_at,
            host: b.host.clone(),
        }
    }
}

fn valid_bot_name(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Issuing and revoking bots' placeholder credentials.
pub struct AgentBots {
    store: Arc<Store>,
    root: Arc<dyn AgentRootStore>,
}

impl AgentBots {
    pub fn new(store: Arc<Store>, root: Arc<dyn AgentRootStore>) -> Self {
        AgentBots { store, root }
    }

    /// New placeholder credentials for bot `name` on the key labelled `label`. Needs no 2FA code:
    /// the key must already be one "Bots may use" (turning that on took a code), and a placeholder
    /// gives less than `latchkey run` does (no secret, no withdrawals).
    pub fn issue(&self, label: &str, name: &str, now: DateTime<Utc>) -> Result<Issued, AgentError> {
        if !valid_bot_name(name) {
            return Err(AgentError::BadBotName(name.to_owned()));
        }
        let key = self.active_key(label)?;
        let Some(scheme) = key.exchange.adapter().agent_scheme() else {
            return Err(AgentError::NotServed { exchange: key.exchange.to_string() });
        };
        check_run(&key, self.store.sub_key_count(key.id)?, &format!("bot {name} (signing agent)"))?;
        let row = format!("{}{name}", placeholders::BOT_PREFIX);
        if self.store.setting::<BotRecord>(&row)?.is_some() {
            return Err(AgentError::BotExists(name.to_owned()));
        }
        let root = placeholders::root_secret(self.root.as_ref())?;
        let shape = scheme.placeholder_shape();
        let api_key = placeholders::fresh_key(&shape)?;
        let placeholder = placeholders::derive_placeholder(&root, &api_key, &shape);
        let bot = BotRecord {
            name: name.to_owned(),
            label: key.label.clone(),
            exchange: key.exchange,
            key_id: key.id,
            key_sha256: placeholders::key_sha256(&api_key),
            issued_at: now,
            host: None,
        };
        self.store.set_setting(&row, &bot)?;
        self.audit(Action::AgentIssue, &key, format!("bot '{name}' may trade through the signing agent"), now)?;
        Ok(Issued { bot, placeholder })
    }

    fn revoke_bot_row(&self, bot: &BotRecord, now: DateTime<Utc>) -> Result<BotRecord, AgentError> {
        self.store.delete_setting(&format!("{}{}", placeholders::BOT_PREFIX, bot.name))?;
        let name = &bot.name;
        let event = Event {
            at: now,
            action: Action::AgentRevokeBot,
            key_id: Some(bot.key_id),
            label: Some(&bot.label),
            outcome: Outcome::Ok,
            detail: match &bot.host {
                Some(host) => format!("bot '{name}' can no longer use the signing agent on host '{host}'"),
                None => format!("bot '{name}' can no longer use the signing agent"),
            },
        };
        self.store.record(&event)?;
        Ok(bot.clone())
    }

    pub fn bots(&self) -> Result<Vec<BotRecord>, AgentError> {
        Ok(self
            .store
            .settings_with_prefix::<BotRecord>(placeholders::BOT_PREFIX)?
            .into_iter()
            .map(|(_, b)| b)
            .collect())
    }

    /// Sets the allow-lists and order cap of the key labelled `label` (narrowing needs no code).
    pub fn set_policy(&self, label: &str, policy: &AgentPolicy, now: DateTime<Utc>) -> Result<(), AgentError> {
        let key = self.active_key(label)?;
        self.store.set_setting(&format!("{}{label}", policy::POLICY_PREFIX), policy)?;
        let detail = format!("signing agent policy: {}", serde_json::to_string(policy).unwrap_or_default());
        self.audit(Action::Edit, &key, detail, now)?;
        Ok(())
    }

    /// Drain mode before a revoke: for `minutes`, the key's bots may only cancel orders, read,
    /// and place reduce-only orders, so positions can be closed rather than stranded.
    pub fn drain(&self, label: &str, minutes: u32, now: DateTime<Utc>) -> Result<DateTime<Utc>, AgentError> {
        let key = self.active_key(label)?;
        let until = now + chrono::Duration::minutes(i64::from(minutes));
        self.store.set_setting(&format!("{DRAIN_PREFIX}{label}"), &until)?;
        self.audit(Action::Edit, &key, format!("signing agent: draining until {}", until.format("%H:%M:%S UTC")), now)?;
        Ok(until)
    }

    fn active_key(&self, label: &str) -> Result<KeyRecord, AgentError> {
        self.store
            .list_keys()?
            .into_iter()
            .find(|k| k.label == label && k.status == KeyStatus::Active)
            .ok_or_else(|| AgentError::UnknownLabel(label.to_owned()))
    }

    fn audit(&self, action: Action, key: &KeyRecord, detail: String, now: DateTime<Utc>) -> Result<(), AgentError> {
        let event =
            Event { at: now, action, key_id: Some(key.id), label: Some(&key.label), outcome: Outcome::Ok, detail };
        Ok(self.store.record(&event)?)
    }
}

/// The values a bot's config needs, for display once: key, secret, passphrase.
pub fn exposed(p: &Placeholder) -> (String, String, Option<String>) {
    use secrecy::ExposeSecret;
    // EXPOSE: shown once to the user for the bot's config; the placeholders are worthless
    // without this Latchkey (the agent re-derives them from its root secret).
    (
        p.api_key.expose_secret().to_owned(),
        p.secret.expose_secret().to_owned(),
        p.passphrase.as_ref().map(|s: &SecretString| s.expose_secret().to_owned()),
    )
}
