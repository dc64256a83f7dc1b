//! The agent's audit trail, aggregated: a counter per bot and endpoint, and per refusal reason,
//! written to the audit log as one entry per bot (and per refusal reason) at each flush, never one
//! row per order.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::audit::{Action, Event, Outcome};
use crate::exchange::agent_scheme::Refusal;
use crate::store::Store;

/// Distinct endpoints counted per bot, and distinct refusals in all, between two flushes; beyond
/// them requests are counted under [`OTHER`]. The paths come from the callers (any local process
/// can send a refused request), so without a bound they could fill the audit log and the memory.
const MAX_ENDPOINTS_PER_BOT: usize = 50;
const MAX_REFUSALS: usize = 50;
/// What the endpoints beyond the bound are counted as.
const OTHER: &str = "(other endpoints)";
/// An endpoint's text is cut to this many characters in the log.
const MAX_ENDPOINT_CHARS: usize = 120;

/// A refusal's reason likewise (it may quote what the caller sent, such as a timestamp).
const MAX_REASON_CHARS: usize = 200;

fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    text.chars().take(max).chain(std::iter::once('…')).collect()
}

fn shown(endpoint: &str) -> String {
    cut(endpoint, MAX_ENDPOINT_CHARS)
}

#[derive(Default)]
pub(crate) struct Counts {
    /// bot → endpoint → requests forwarded.
    forwarded: BTreeMap<String, BTreeMap<String, u64>>,
    /// (bot, endpoint, reason) → refusals.
    refused: BTreeMap<(String, String, String), u64>,
}

impl Counts {
    pub fn request(&mut self, bot: &str, endpoint: &str) {
        let endpoints = self.forwarded.entry(bot.to_owned()).or_default();
        let endpoint = shown(endpoint);
        let key = if endpoints.contains_key(&endpoint) || endpoints.len() < MAX_ENDPOINTS_PER_BOT {
            endpoint
        } else {
            OTHER.to_owned()
        };
        *endpoints.entry(key).or_default() += 1;
    }

    pub fn refusal(&mut self, bot: &str, endpoint: &str, refusal: &Refusal) {
        let mut key = (bot.to_owned(), shown(endpoint), cut(refusal.reason(), MAX_REASON_CHARS));
        if !self.refused.contains_key(&key) && self.refused.len() >= MAX_REFUSALS {
            // Past the bound only the refusal's kind is kept: a reason may quote the caller's input.
            key.1 = OTHER.to_owned();
            key.2 = format!("{} (details past the first {MAX_REFUSALS} kinds of refusal not kept)", refusal.kind());
        }
        *self.refused.entry(key).or_default() += 1;
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

/// A server's agent has no audit log: what was counted since the last flush, as lines for its
/// log (the journal, under systemd), and counting starts afresh.
pub(crate) fn take_lines(counts: &std::sync::Mutex<Counts>, at: DateTime<Utc>) -> Vec<String> {
    let taken = std::mem::take(&mut *counts.lock().unwrap_or_else(|p| p.into_inner()));
    taken.events(at).into_iter().map(|(action, _, detail)| format!("{}: {detail}", action.as_str())).collect()
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

    /// Any local process can send refused requests, each to a path of its choosing: 3,000 of them,
    /// 2,000 characters each, used to become 3,000 audit entries (an 11.8 MiB database and a 32 s
    /// shutdown, measured with `latchkey agent`).
    #[test]
    fn callers_cannot_grow_the_counts_with_paths_of_their_choosing() {
        let mut c = Counts::default();
        let unknown = Refusal::UnknownKey("this API key was not issued by Latchkey, or was revoked".into());
        for i in 0..3000 {
            c.refusal("(unknown caller)", &format!("GET /api/v5/account/balance/{i}-{}", "a".repeat(2000)), &unknown);
        }
        for i in 0..500 {
            c.request("grid", &format!("GET /api/v5/no/such/{i}"));
        }
        c.request("grid", "GET /api/v5/no/such/0");
        let events = c.events(Utc::now());
        let refusals: Vec<&String> = events.iter().filter(|e| e.0 == Action::AgentRefusal).map(|e| &e.2).collect();
        assert_eq!(refusals.len(), MAX_REFUSALS + 1, "bounded, with the rest counted together");
        assert!(refusals.iter().all(|d| d.chars().count() < 300), "each entry stays short");
        assert!(refusals.iter().any(|d| d.contains(&format!("{OTHER} ×{}", 3000 - MAX_REFUSALS))));
        // A caller that knows a placeholder key (not its secret) gets the bot's name on its
        // refusals, and a reason that quotes what it sent: bounded too.
        for i in 0..3000 {
            let stale =
                Refusal::Stale(format!("OK-ACCESS-TIMESTAMP \"{i}{}\" is not an ISO-8601 time", "9".repeat(500)));
            c.refusal("grid", "GET /api/v5/account/balance", &stale);
        }
        let events = c.events(Utc::now());
        let refusals = events.iter().filter(|e| e.0 == Action::AgentRefusal).count();
        assert_eq!(refusals, MAX_REFUSALS + 2, "one more bucket, for the known bot's stale requests");
        assert!(
            events.iter().filter(|e| e.0 == Action::AgentRefusal).all(|e| e.2.chars().count() < 400),
            "each refusal entry stays short"
        );
        let forwarded = events.iter().find(|e| e.0 == Action::AgentRequests).map(|e| &e.2).unwrap();
        assert!(forwarded.contains("GET /api/v5/no/such/0 ×2"), "a known endpoint keeps counting: {forwarded}");
        assert!(forwarded.contains(&format!("{OTHER} ×{}", 500 - MAX_ENDPOINTS_PER_BOT)), "{forwarded}");
    }
}
