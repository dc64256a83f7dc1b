//! The simulator's memory: keys, the request log, pending faults and rate-limit windows.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::fault::{Fault, FaultKind};
use crate::seed::{SimExchange, SimKey, SimSubAccount};

/// One request as the simulator saw it: no headers, no query string, so no credentials.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestRecord {
    pub method: String,
    pub path: String,
    pub exchange: Option<SimExchange>,
    pub status: u16,
    /// The exchange code answered ("0", "50113", "-1021", …) or "fault:<kind>".
    pub code: String,
    /// When it was handled (after any injected latency), in ms since the simulator's first
    /// request: a timeline for benchmarks.
    pub at_ms: u64,
}

/// What `GET /__sim/state` and `SimHandle::state()` return. Secrets are left out.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    pub keys: Vec<SimKey>,
    pub sub_accounts: Vec<SimSubAccount>,
    pub requests: Vec<RequestRecord>,
    pub faults: Vec<Fault>,
}

impl Snapshot {
    pub fn has_key(&self, api_key: &str) -> bool {
        self.keys.iter().any(|k| k.api_key == api_key)
    }

    /// The keys of one sub-account (by the master's uid and the sub-account's name), in creation order.
    pub fn sub_keys(&self, parent_uid: &str, sub_account: &str) -> Vec<&SimKey> {
        self.keys
            .iter()
            .filter(|k| k.parent_uid.as_deref() == Some(parent_uid) && k.sub_account.as_deref() == Some(sub_account))
            .collect()
    }

    /// The requests to one path, in order.
    pub fn requests_to(&self, path: &str) -> Vec<&RequestRecord> {
        self.requests.iter().filter(|r| r.path == path).collect()
    }
}

#[derive(Default)]
pub(crate) struct SimState {
    pub keys: Vec<SimKey>,
    pub sub_accounts: Vec<SimSubAccount>,
    /// Keys made through the create endpoints so far: seeds each new key's random-looking parts.
    pub minted: u64,
    pub requests: Vec<RequestRecord>,
    pub faults: Vec<Fault>,
    /// Keys deleted while the simulator ran: OKX answers those "API key doesn't exist" (50119).
    pub deleted: Vec<(SimExchange, String)>,
    /// The last nonce each key signed with, where the exchange counts them (Kraken).
    pub nonces: HashMap<(SimExchange, String), u64>,
    windows: HashMap<(String, String), VecDeque<Instant>>,
}

pub(crate) type Shared = Arc<Mutex<SimState>>;

pub(crate) fn lock(shared: &Shared) -> MutexGuard<'_, SimState> {
    shared.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl SimState {
    pub fn new(keys: Vec<SimKey>, sub_accounts: Vec<SimSubAccount>) -> Self {
        SimState { keys, sub_accounts, ..SimState::default() }
    }

    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            keys: self.keys.clone(),
            sub_accounts: self.sub_accounts.clone(),
            requests: self.requests.clone(),
            faults: self.faults.clone(),
        }
    }

    /// The sub-accounts of the master account `parent_uid`.
    pub fn subs_of(&self, exchange: SimExchange, parent_uid: &str) -> Vec<SimSubAccount> {
        self.sub_accounts.iter().filter(|s| s.exchange == exchange && s.parent_uid == parent_uid).cloned().collect()
    }

    /// One sub-account of `parent_uid`, found by `matches` (its name or uid).
    pub fn sub_of(
        &self,
        exchange: SimExchange,
        parent_uid: &str,
        matches: impl Fn(&SimSubAccount) -> bool,
    ) -> Option<SimSubAccount> {
        self.subs_of(exchange, parent_uid).into_iter().find(|s| matches(s))
    }

    pub fn find_mut(&mut self, exchange: SimExchange, api_key: &str) -> Option<&mut SimKey> {
        self.keys.iter_mut().find(|k| k.exchange == exchange && k.api_key == api_key)
    }

    pub fn find(&self, exchange: SimExchange, api_key: &str) -> Option<SimKey> {
        self.keys.iter().find(|k| k.exchange == exchange && k.api_key == api_key).cloned()
    }

    pub fn remove(&mut self, exchange: SimExchange, api_key: &str) -> bool {
        let before = self.keys.len();
        self.keys.retain(|k| !(k.exchange == exchange && k.api_key == api_key));
        let removed = self.keys.len() != before;
        if removed {
            self.deleted.push((exchange, api_key.to_owned()));
        }
        removed
    }

    pub fn was_deleted(&self, exchange: SimExchange, api_key: &str) -> bool {
        self.deleted.iter().any(|(e, k)| *e == exchange && k == api_key)
    }

    /// The first pending fault for this path, and whether it strikes after the exchange acted;
    /// counted faults wear out.
    pub fn take_fault(&mut self, method: &str, path: &str) -> Option<(FaultKind, bool)> {
        let index = self.faults.iter().position(|f| f.matches(method, path))?;
        let fault = &mut self.faults[index];
        let kind = (fault.kind.clone(), fault.after_acting);
        if let Some(times) = fault.times.as_mut() {
            *times = times.saturating_sub(1);
            if *times == 0 {
                self.faults.remove(index);
            }
        }
        Some(kind)
    }

    /// A sliding-window limit: at most `max` requests per `window` for this route and caller.
    pub fn allow(&mut self, route: &str, caller: &str, max: usize, window: Duration) -> bool {
        let now = Instant::now();
        let hits = self.windows.entry((route.to_owned(), caller.to_owned())).or_default();
        while hits.front().is_some_and(|t| now.duration_since(*t) >= window) {
            hits.pop_front();
        }
        if hits.len() >= max {
            return false;
        }
        hits.push_back(now);
        true
    }
}
