//! What the agent knows of bots, keys, drains and policies, whichever side it runs on: read from
//! this machine's database ([`Known::from_store`]) or mirrored from OpenBao on a server
//! ([`super::mirror`]). Requests read one snapshot; a change builds the next.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use secrecy::SecretString;

use super::placeholders::{BotRecord, BOT_PREFIX};
use super::policy::{AgentPolicy, POLICY_PREFIX};
use super::{DRAIN_PREFIX, HALT_PREFIX};
use crate::model::{Environment, Exchange, KeyId, KeyStatus};
use crate::secret::Credentials;
use crate::store::Store;

/// A bot's placeholder secret (and passphrase) as a server's document gives it.
pub(crate) struct GivenSecret {
    pub secret: SecretString,
    pub passphrase: Option<SecretString>,
}

/// A bot the agent serves.
#[derive(Clone)]
pub(crate) struct KnownBot {
    pub name: String,
    pub label: String,
    pub exchange: Exchange,
    /// `None`: derived from this machine's root secret and the key the bot sends.
    pub given: Option<Arc<GivenSecret>>,
}

/// Where the real credentials of a key are.
#[derive(Clone)]
pub(crate) enum KeySecret {
    /// In this machine's keychain, read once per key.
    Keychain(KeyId),
    /// Read from OpenBao with the key's version.
    Held(Arc<Credentials>),
    /// None here (a key OpenBao no longer gives this host): its bots are refused before any use.
    Gone,
}

/// The key a label names now.
#[derive(Clone)]
pub(crate) struct KnownKey {
    pub label: String,
    pub exchange: Exchange,
    pub environment: Environment,
    /// A demo/testnet key: its environment says so, or the exchange did when it was verified.
    pub demo: bool,
    /// Why its bots are refused (being revoked, not for bots), said only to a bot whose
    /// signature checked out.
    pub refused: Option<String>,
    pub secret: KeySecret,
}

#[derive(Default)]
pub(crate) struct Known {
    /// What it was built from (SQLite's `data_version`); `None` for a mirror's snapshots.
    pub stamp: Option<i64>,
    /// By the SHA-256 of the placeholder key.
    pub bots: HashMap<String, KnownBot>,
    /// By label; a label the bots name but no key answers to is absent.
    pub keys: HashMap<String, KnownKey>,
    /// Labels draining until then: cancels, reads and reduce-only orders only.
    pub draining: HashMap<String, DateTime<Utc>>,
    pub policies: HashMap<String, AgentPolicy>,
}

impl Known {
    /// This machine's bots (not those issued for a server's agent) and active keys.
    pub fn from_store(store: &Store, stamp: i64) -> crate::Result<Known> {
        let all = store.list_keys()?;
        let masters: HashSet<KeyId> = all.iter().filter_map(|k| k.master_key_id).collect();
        let halted: HashSet<KeyId> = store
            .settings_with_prefix::<DateTime<Utc>>(HALT_PREFIX)?
            .into_iter()
            .filter_map(|(name, _)| name[HALT_PREFIX.len()..].parse().ok())
            .collect();
        let keys = all
            .into_iter()
            .filter(|k| k.status == KeyStatus::Active)
            .map(|k| {
                let refused = if halted.contains(&k.id) {
                    Some(format!("key '{}' is being revoked", k.label))
                } else if masters.contains(&k.id) || !k.bots_allowed {
                    Some(format!(
                        "key '{}' is not allowed for bots (\"Bots may use this key\" is off, or it is a master)",
                        k.label
                    ))
                } else {
                    None
                };
                let known = KnownKey {
                    label: k.label.clone(),
                    exchange: k.exchange,
                    environment: k.environment.clone(),
                    demo: k.is_demo(),
                    refused,
                    secret: KeySecret::Keychain(k.id),
                };
                (k.label, known)
            })
            .collect();
        let bots = store
            .settings_with_prefix::<BotRecord>(BOT_PREFIX)?
            .into_iter()
            .filter(|(_, b)| b.host.is_none())
            .map(|(_, b)| (b.key_sha256, KnownBot { name: b.name, label: b.label, exchange: b.exchange, given: None }))
            .collect();
        let draining = store
            .settings_with_prefix::<DateTime<Utc>>(DRAIN_PREFIX)?
            .into_iter()
            .map(|(name, until)| (name[DRAIN_PREFIX.len()..].to_owned(), until))
            .collect();
        let policies = store
            .settings_with_prefix::<AgentPolicy>(POLICY_PREFIX)?
            .into_iter()
            .map(|(name, p)| (name[POLICY_PREFIX.len()..].to_owned(), p))
            .collect();
        Ok(Known { stamp: Some(stamp), bots, keys, draining, policies })
    }

    /// The keys whose secrets this snapshot still needs from the keychain.
    pub fn keychain_ids(&self) -> HashSet<KeyId> {
        self.keys
            .values()
            .filter_map(|k| match k.secret {
                KeySecret::Keychain(id) => Some(id),
                KeySecret::Held(_) | KeySecret::Gone => None,
            })
            .collect()
    }
}
