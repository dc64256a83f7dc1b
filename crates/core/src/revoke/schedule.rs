//! The order of a wave's keys: remote revokes first, within each exchange's concurrency, and
//! waves so that a master key runs after the sub keys it deletes.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::model::{Exchange, KeyId, KeyRecord};

/// A key that an API can revoke must not wait behind keys that can only be blocked: within a wave
/// remote revokes start first, and local-only keys never take their place in the exchange's
/// concurrency or rate limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Schedule {
    /// Revoked through an API: the exchange's concurrency and rate limit, first in line.
    Remote,
    /// No API revoke, but the exchange is asked first (a Bybit key's own permissions): waits until
    /// every remote key of its exchange is done, so it takes none of their rate limit.
    LocalAsks,
    /// No API revoke and nothing to ask: no exchange call, so no limit to wait for.
    LocalOnly,
}

/// Per exchange, how many remote keys of this wave are not done yet.
pub(crate) struct RemoteFirst {
    gates: HashMap<Exchange, Arc<tokio::sync::watch::Sender<usize>>>,
}

impl RemoteFirst {
    pub(crate) fn new(remote: impl Iterator<Item = Exchange>) -> Self {
        let mut counts: HashMap<Exchange, usize> = HashMap::new();
        for exchange in remote {
            *counts.entry(exchange).or_default() += 1;
        }
        let gates = counts.into_iter().map(|(e, n)| (e, Arc::new(tokio::sync::watch::channel(n).0))).collect();
        RemoteFirst { gates }
    }

    pub(crate) fn turn(&self, exchange: Exchange, schedule: Schedule) -> Turn {
        let gate = self.gates.get(&exchange);
        match schedule {
            Schedule::Remote => Turn::Remote(InFlight(gate.cloned())),
            Schedule::LocalAsks => Turn::After(gate.map(|g| g.subscribe())),
            Schedule::LocalOnly => Turn::NoCall,
        }
    }
}

/// A key's place in its wave (see [`RemoteFirst`]).
pub(crate) enum Turn {
    Remote(InFlight),
    After(Option<tokio::sync::watch::Receiver<usize>>),
    NoCall,
}

/// Held by a remote key while it is worked on; dropping it (however the key ends, or when it is
/// held back and never starts) lets the local-only keys of its exchange go once none is left.
pub(crate) struct InFlight(Option<Arc<tokio::sync::watch::Sender<usize>>>);

impl InFlight {
    pub(crate) fn none() -> Self {
        InFlight(None)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Some(gate) = self.0.take() {
            gate.send_modify(|left| *left = left.saturating_sub(1));
        }
    }
}

/// Wave 0: keys no selected key depends on; a master runs one wave after its last sub key.
pub(crate) fn waves(keys: &[KeyRecord]) -> HashMap<KeyId, u32> {
    let selected: HashSet<KeyId> = keys.iter().map(|k| k.id).collect();
    let mut wave: HashMap<KeyId, u32> = keys.iter().map(|k| (k.id, 0)).collect();
    // Chains are short (sub → master); the bound also stops a cycle in bad data.
    for _ in 0..keys.len().min(8) {
        let mut changed = false;
        for k in keys {
            if let Some(m) = k.master_key_id.filter(|m| selected.contains(m) && *m != k.id) {
                let need = wave[&k.id] + 1;
                if wave[&m] < need {
                    wave.insert(m, need);
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    wave
}
