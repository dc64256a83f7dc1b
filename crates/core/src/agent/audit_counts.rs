//! The agent's audit trail, aggregated: a counter per bot and endpoint, and per refusal reason,
//! written to the audit log as one entry per bot (and per refusal reason) at each flush, never one
//! row per order.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::audit::{Action, Event, Outcome};
use crate::exchange::agent_scheme::Refusal;
use crate::store::Store;

#[derive(Default)]
pub(crate) struct Counts {
    /// bot → endpoint → requests forwarded.
    forwarded: BTreeMap<String, BTreeMap<String, u64>>,
    /// (bot, endpoint, reason) → refusals.
    refused: BTreeMap<(String, String, String), u64>,
}

impl Counts {
    pub fn request(&mut self, bot: &str, endpoint: &str) {
        *self.forwarded.entry(bot.to_owned()).or_default().entry(endpoint.to_owned()).or_default() += 1;
    }

    pub fn refusal(&mut self, bot: &str, endpoint: &str, refusal: &Refusal) {
        *self.refused.entry((bot.to_owned(), endpoint.to_owned(), refusal.reason().to_owned())).or_default() += 1;
    }

    pub fn is_empty(&self) -> bool {
        self.forwarded.is_empty() && self.refused.is_empty()
    }

    /// The audit entries for what was counted since the last flush.
    fn events(&self, at: DateTime<Utc>) -> Vec<(Action, Outcome, String)> {
        let mut out = Vec::new();
        for (bot, endpoints) in &self.forwarded {
            let list: Vec<String> = endpoints.iter().map(|(e, n)| format!("{e} ×{n}")).collect();
            out.push((Action::AgentRequests, Outcome::Ok, format!("bot '{bot}': {}", list.join(", "))));
        }
        for ((bot, endpoint, reason), n) in &self.refused {
            out.push((
                Action::AgentRefusal,
                Outcome::Failed,
                format!("bot '{bot}': {endpoint} ×{n} refused: {reason}"),
            ));
        }
        let _ = at;
        out
    }
}

/// Writes the counted requests and refusals to the audit log and starts counting afresh. On a
/// write failure the counts are kept for the next flush.
pub(crate) fn flush(counts: &std::sync::Mutex<Counts>, store: &Store, at: DateTime<Utc>) -> crate::Result<usize> {
    let taken = std::mem::take(&mut *counts.lock().unwrap_or_else(|p| p.into_inner()));
    let events = taken.events(at);
    for (i, (action, outcome, detail)) in events.iter().enumerate() {
        let event = Event { at, action: *action, key_id: None, label: None, outcome: *outcome, detail: detail.clone() };
        if let Err(e) = store.record(&event) {
            // Put back what was not written, so nothing counted is lost.
            let mut back = counts.lock().unwrap_or_else(|p| p.into_inner());
            if i == 0 {
                merge(&mut back, taken);
            } else {
                tracing::warn!(
                    written = i,
                    of = events.len(),
                    "signing agent: part of the counts could not be audited"
                );
            }
            return Err(e);
        }
    }
    Ok(events.len())
}

fn merge(into: &mut Counts, from: Counts) {
    for (bot, endpoints) in from.forwarded {
        for (e, n) in endpoints {
            *into.forwarded.entry(bot.clone()).or_default().entry(e).or_default() += n;
        }
    }
    for (k, n) in from.refused {
        *into.refused.entry(k).or_default() += n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_become_one_entry_per_bot_and_per_refusal_reason() {
        let mut c = Counts::default();
        for _ in 0..120 {
            c.request("grid", "GET /api/v5/account/balance");
        }
        c.request("grid", "POST /api/v5/trade/order");
        c.refusal("grid", "POST /api/v5/asset/withdrawal", &Refusal::Forbidden("withdrawals are never allowed".into()));
        c.refusal("grid", "POST /api/v5/asset/withdrawal", &Refusal::Forbidden("withdrawals are never allowed".into()));
        let events = c.events(Utc::now());
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].2, "bot 'grid': GET /api/v5/account/balance ×120, POST /api/v5/trade/order ×1");
        assert_eq!(events[1].2, "bot 'grid': POST /api/v5/asset/withdrawal ×2 refused: withdrawals are never allowed");
        assert_eq!(events[1].1, Outcome::Failed);
    }
}
