//! A server's agent (`latchkey agent --from openbao`): what OpenBao holds for this host, kept in
//! memory only. No database, no keychain: the host's document names its bots
//! ([`crate::servers::agent_doc`]), the keys they trade with are the versions delivered to it.
//!
//! [`Follower`] looks every poll (the same rhythm as `latchkey run --from openbao`): the document
//! once, then one metadata read per key, and a key read only when its version changed. What it
//! found goes into the [`Mirror`] as one new snapshot, so a rotation switches between two requests.
//! - a key removed (emergency revoke, `latchkey undeliver`) or taken from the host: its bots are
//!   refused from the next look on;
//! - the host's token refused (revoked, expired): every bot is refused, said once;
//! - OpenBao unreachable or sealed: the agent keeps serving what it read, said once, and looks
//!   again less often (as `run` keeps its bot's key).
//!
//! Like `run`, it records each version it serves ([`ReadRecord`]), so the desktop sees the host
//! and a rotation waits for it to move.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::time::Instant;

use super::known::{GivenSecret, KeySecret, Known, KnownBot, KnownKey};
use crate::exchange::Clock;
use crate::model::Exchange;
use crate::secret::Credentials;
use crate::servers::host_run::{backoff, MAX_BACKOFF};
use crate::servers::{reads, AgentDoc, BaoClient, HostIdentity, Place, ReadRecord, ServerError, Watched};

/// The snapshot requests read, and where the agent's log lines go.
pub struct Mirror {
    known: Mutex<Arc<Known>>,
    report: Box<dyn Fn(&str) + Send + Sync>,
}

impl Mirror {
    /// `report` gets the agent's log lines: counts, refusals, OpenBao's state.
    pub fn new(report: impl Fn(&str) + Send + Sync + 'static) -> Arc<Mirror> {
        Arc::new(Mirror { known: Mutex::default(), report: Box::new(report) })
    }

    pub(crate) fn current(&self) -> Arc<Known> {
        self.known.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub(crate) fn report(&self, line: &str) {
        (self.report)(line);
    }

    fn set(&self, known: Known) {
        *self.known.lock().unwrap_or_else(|p| p.into_inner()) = Arc::new(known);
    }

    /// The bots it serves now, by name (for tests and the start-up line).
    pub fn bots(&self) -> Vec<String> {
        let mut names: Vec<String> = self.current().bots.values().map(|b| b.name.clone()).collect();
        names.sort();
        names
    }
}

/// One key as read from OpenBao.
struct Held {
    version: u64,
    read_at: DateTime<Utc>,
    exchange: Exchange,
    place: Option<Place>,
    credentials: Arc<Credentials>,
}

/// Why a key's bots are refused, once a look found it so.
enum KeyState {
    Held(Held),
    Refused(String),
}

/// Follows this host's part of OpenBao into a [`Mirror`].
pub struct Follower {
    client: BaoClient,
    /// The read records' times.
    clock: Arc<dyn Clock>,
    identity: HostIdentity,
    mirror: Arc<Mirror>,
    poll: Duration,
    doc: AgentDoc,
    keys: HashMap<String, KeyState>,
    /// Every bot refused, for this reason (the host's token refused).
    lost: Option<String>,
    /// What is wrong with OpenBao right now, said once.
    trouble: Option<String>,
    failures: u32,
    renew_at: Instant,
    next_beat: Instant,
}

impl Follower {
    /// Learns the token's lease and the host's name, then looks once: the agent starts with what
    /// OpenBao holds for it. `client` is signed in as the host.
    pub async fn start(
        client: BaoClient,
        poll: Duration,
        mirror: Arc<Mirror>,
        clock: Arc<dyn Clock>,
    ) -> Result<Follower, ServerError> {
        let lease = match client.renew_self().await? {
            // A token without a lease (not a host's: a root token) needs no renewal.
            lease if lease.is_zero() => Duration::from_secs(365 * 86_400),
            lease => lease,
        };
        let identity = client.host_identity().await?;
        let now = Instant::now();
        let mut follower = Follower {
            client,
            clock,
            identity,
            mirror,
            poll,
            doc: AgentDoc::default(),
            keys: HashMap::new(),
            lost: None,
            trouble: None,
            failures: 0,
            renew_at: now + lease / 3,
            next_beat: now + reads::HEARTBEAT,
        };
        follower.look().await?;
        Ok(follower)
    }

    pub fn host(&self) -> &str {
        &self.identity.host
    }

    /// Follows until `stop` completes, then revokes the host's token (of no use once the agent
    /// has ended: it lived in this process's memory only).
    pub async fn run(mut self, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        loop {
            tokio::select! {
                _ = &mut stop => break,
                _ = tokio::time::sleep(backoff(self.poll, self.failures)) => {}
            }
            match self.look().await {
                Ok(()) => {
                    if self.trouble.take().is_some() {
                        self.mirror.report("OpenBao answers again; following this host's keys and bots.");
                    }
                    self.failures = 0;
                }
                Err(e) if e.is_transient() => {
                    self.failures = self.failures.saturating_add(1);
                    self.said_trouble(&e);
                }
                Err(e) => self.lose(&e),
            }
            if Instant::now() >= self.next_beat {
                self.next_beat = Instant::now() + reads::HEARTBEAT;
                self.heartbeat().await;
            }
        }
        let _ = tokio::time::timeout(Duration::from_secs(3), self.client.revoke_self()).await;
    }

    /// One look: the token renewed when due, the document, each key's newest version; then the
    /// new snapshot. An error that is not transient means the host lost its access.
    async fn look(&mut self) -> Result<(), ServerError> {
        if self.lost.is_some() {
            return Ok(());
        }
        if Instant::now() >= self.renew_at {
            let lease = self.client.renew_self().await?;
            self.renew_at = Instant::now() + lease / 3;
        }
        self.doc = match self.client.read_agent_doc(&self.identity.host).await {
            Ok(doc) => doc.unwrap_or_default(),
            // A host enrolled before it had bots has no line for its document: no bots yet.
            Err(ServerError::PermissionDenied { .. }) => AgentDoc::default(),
            Err(e) => return Err(e),
        };
        let labels = self.doc.labels();
        self.keys.retain(|label, _| labels.contains(label));
        for label in &labels {
            let state = self.look_at(label).await?;
            if let Some(state) = state {
                self.keys.insert(label.clone(), state);
            }
        }
        self.mirror.set(self.snapshot());
        Ok(())
    }

    /// What became of `label` since the last look (`None`: nothing changed).
    async fn look_at(&mut self, label: &str) -> Result<Option<KeyState>, ServerError> {
        let held = match self.keys.get(label) {
            Some(KeyState::Held(h)) => Some(h.version),
            _ => None,
        };
        let newest = match self.client.watch(label).await {
            Ok(Watched::Live(v)) => v,
            Ok(Watched::Removed) | Err(ServerError::NotFound { .. }) => {
                return Ok(Some(KeyState::Refused(format!(
                    "key '{label}' was removed from OpenBao (an emergency revoke, or `latchkey undeliver`)"
                ))))
            }
            Err(ServerError::PermissionDenied { .. }) => {
                return Ok(Some(KeyState::Refused(format!(
                    "this host may no longer read key '{label}' from OpenBao (taken from it on the desktop)"
                ))))
            }
            Err(e) => return Err(e),
        };
        if held == Some(newest) {
            return Ok(None);
        }
        if held.is_some_and(|h| newest < h) {
            return Ok(Some(KeyState::Refused(format!(
                "the version of key '{label}' this agent signed with was destroyed in OpenBao"
            ))));
        }
        let read = match self.client.read_version(label, Some(newest)).await {
            Ok(read) => read,
            // Destroyed between the two reads: the next look sees what is left.
            Err(ServerError::NotFound { .. }) => return Ok(None),
            Err(e @ ServerError::Unexpected { .. }) => {
                return Ok(Some(KeyState::Refused(format!("version {newest} of key '{label}' is not usable ({e})"))))
            }
            Err(e) => return Err(e),
        };
        let named = read
            .custom_metadata
            .get("exchange")
            .map(String::as_str)
            .filter(|e| !e.is_empty())
            .unwrap_or(&read.exchange);
        let Ok(exchange) = named.parse::<Exchange>() else {
            return Ok(Some(KeyState::Refused(format!(
                "key '{label}' in OpenBao names the exchange '{named}', which this latchkey does not know: update latchkey on this server"
            ))));
        };
        let held = Held {
            version: read.version,
            read_at: self.clock.now(),
            exchange,
            place: read.place,
            credentials: Arc::new(read.credentials),
        };
        self.record(label, &held).await;
        Ok(Some(KeyState::Held(held)))
    }

    fn snapshot(&self) -> Known {
        let bots = self
            .doc
            .bots
            .iter()
            .map(|b| {
                let given = GivenSecret { secret: b.secret.clone(), passphrase: b.passphrase.clone() };
                let bot = KnownBot {
                    name: b.name.clone(),
                    label: b.label.clone(),
                    exchange: b.exchange,
                    given: Some(Arc::new(given)),
                };
                (b.key_sha256.clone(), bot)
            })
            .collect();
        let exchange_of = |label: &str| self.doc.bots.iter().find(|b| b.label == label).map(|b| b.exchange);
        let keys = self
            .keys
            .iter()
            .filter_map(|(label, state)| {
                let wanted = exchange_of(label)?;
                let mut key = KnownKey {
                    label: label.clone(),
                    exchange: wanted,
                    environment: crate::model::Environment::Live,
                    demo: false,
                    refused: self.lost.clone(),
                    secret: KeySecret::Gone,
                };
                match state {
                    KeyState::Refused(why) => key.refused = key.refused.or(Some(why.clone())),
                    KeyState::Held(h) => {
                        if h.exchange != wanted {
                            let why = format!("key '{label}' in OpenBao is a {} key, not {wanted}", h.exchange);
                            key.refused = key.refused.or(Some(why));
                        }
                        match &h.place {
                            Some(place) => {
                                key.environment = place.environment.clone();
                                key.demo = place.demo;
                            }
                            None => {
                                let why = format!("key '{label}' was delivered before Latchkey said where it is used: deliver it again on the desktop (`latchkey deliver {label}`)");
                                key.refused = key.refused.or(Some(why));
                            }
                        }
                        key.secret = KeySecret::Held(h.credentials.clone());
                    }
                }
                Some((label.clone(), key))
            })
            .collect();
        Known {
            stamp: None,
            bots,
            keys,
            draining: self.doc.draining.iter().map(|(l, u)| (l.clone(), *u)).collect(),
            policies: self.doc.policies.iter().map(|(l, p)| (l.clone(), p.clone())).collect(),
        }
    }

    /// The host's token was refused or its access is gone: every bot is refused from now on.
    fn lose(&mut self, e: &ServerError) {
        let why = match e {
            ServerError::TokenRefused => "OpenBao refused this host's token (revoked: an emergency revoke or `latchkey host remove`, or expired while OpenBao could not be reached)".to_owned(),
            other => format!("OpenBao refused this host ({other})"),
        };
        self.mirror.report(&format!(
            "{why}: every bot is refused from now on. Enrol the host again on the desktop (`latchkey host add`) and restart the agent."
        ));
        self.lost = Some(why);
        self.mirror.set(self.snapshot());
    }

    fn said_trouble(&mut self, e: &ServerError) {
        let said = e.trouble();
        if self.trouble.as_deref() != Some(said.as_str()) {
            self.mirror.report(&format!(
                "{said}: the agent keeps signing with the keys it read; trying again, less often the longer it lasts (at most {} s apart).",
                MAX_BACKOFF.max(self.poll).as_secs()
            ));
            self.trouble = Some(said);
        }
    }

    async fn record(&self, label: &str, held: &Held) {
        let record = ReadRecord {
            version: held.version,
            read_at: held.read_at,
            seen_at: self.clock.now(),
            accessor: Some(self.identity.accessor.clone()),
        };
        if let Err(e) = self.client.record_read(&self.identity.host, label, &record).await {
            self.mirror.report(&format!(
                "could not record in OpenBao that this host serves '{label}' ({e}); the desktop may show it as not running"
            ));
        }
    }

    async fn heartbeat(&self) {
        if self.trouble.is_some() || self.lost.is_some() {
            return;
        }
        for (label, state) in &self.keys {
            if let KeyState::Held(h) = state {
                self.record(label, h).await;
            }
        }
    }
}
