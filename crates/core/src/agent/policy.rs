//! What a key's bots may do through the agent. Withdrawals, transfers, sub-account and API-key
//! management are refused whatever the key allows (the exchange's [`Route::AlwaysRefused`]); the
//! rest is narrowed by the key's optional allow-lists and order cap, kept in the settings row
//! `agent-policy <label>`.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::exchange::agent_scheme::{Refusal, Route};

pub(crate) const POLICY_PREFIX: &str = "agent-policy ";

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentPolicy {
    /// Only these endpoints (`METHOD /path`, or `/path` for any method), when set.
    #[serde(default)]
    pub endpoints: Option<Vec<String>>,
    /// Only orders on these symbols (as the exchange names them: `BTC-USDT`, `BTCUSDT`), when set.
    #[serde(default)]
    pub symbols: Option<Vec<String>>,
    /// At most this many orders (not cancels) per minute, across the key's bots.
    #[serde(default)]
    pub orders_per_minute: Option<u32>,
}

impl AgentPolicy {
    /// Refuses what the policy does not allow. `symbols` are the request's.
    pub fn check(&self, route: Route, method: &str, path: &str, symbols: &[String]) -> Result<(), Refusal> {
        if let Route::AlwaysRefused(what) = route {
            return Err(Refusal::Forbidden(format!("{what} are never allowed through the signing agent")));
        }
        if let Some(allowed) = &self.endpoints {
            let hit = allowed.iter().any(|e| match e.split_once(' ') {
                Some((m, p)) => m.eq_ignore_ascii_case(method) && p == path,
                None => e == path,
            });
            if !hit {
                return Err(Refusal::Forbidden(format!("{method} {path} is not on this key's endpoint allow-list")));
            }
        }
        if let (Some(allowed), Route::Order | Route::Cancel) = (&self.symbols, route) {
            if let Some(bad) = symbols.iter().find(|s| !allowed.contains(s)) {
                return Err(Refusal::Forbidden(format!("{bad} is not on this key's symbol allow-list")));
            }
        }
        Ok(())
    }
}

/// Orders per key in the last minute, for the cap.
#[derive(Default)]
pub(crate) struct OrderCounter {
    recent: HashMap<String, VecDeque<Instant>>,
}

impl OrderCounter {
    /// Counts one order for `label` if it stays within `cap` per minute.
    pub fn admit(&mut self, label: &str, cap: u32, now: Instant) -> Result<(), Refusal> {
        let window = self.recent.entry(label.to_owned()).or_default();
        while window.front().is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(60)) {
            window.pop_front();
        }
        if window.len() >= cap as usize {
            return Err(Refusal::Forbidden(format!("this key's cap of {cap} orders per minute is reached")));
        }
        window.push_back(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn always_refused_routes_stay_refused_under_any_policy() {
        let open = AgentPolicy { endpoints: Some(vec!["/api/v5/asset/withdrawal".into()]), ..Default::default() };
        let refused = open.check(Route::AlwaysRefused("withdrawals"), "POST", "/api/v5/asset/withdrawal", &[]);
        assert!(matches!(refused, Err(Refusal::Forbidden(r)) if r.contains("withdrawals")));
    }

    #[test]
    fn allow_lists_narrow_endpoints_and_symbols() {
        let p = AgentPolicy {
            endpoints: Some(vec!["GET /api/v3/account".into(), "/api/v3/order".into()]),
            symbols: Some(vec!["BTCUSDT".into()]),
            orders_per_minute: None,
        };
        assert!(p.check(Route::Other, "GET", "/api/v3/account", &[]).is_ok());
        assert!(p.check(Route::Other, "POST", "/api/v3/account", &[]).is_err());
        assert!(p.check(Route::Order, "POST", "/api/v3/order", &["BTCUSDT".into()]).is_ok());
        assert!(p.check(Route::Order, "POST", "/api/v3/order", &["ETHUSDT".into()]).is_err());
        assert!(AgentPolicy::default().check(Route::Order, "POST", "/x", &["ANY".into()]).is_ok());
    }

    #[test]
    fn the_order_cap_counts_a_sliding_minute() {
        let mut c = OrderCounter::default();
        let t0 = Instant::now();
        assert!(c.admit("k", 2, t0).is_ok());
        assert!(c.admit("k", 2, t0 + Duration::from_secs(1)).is_ok());
        assert!(c.admit("k", 2, t0 + Duration::from_secs(2)).is_err());
        assert!(c.admit("other", 2, t0 + Duration::from_secs(2)).is_ok(), "per key");
        assert!(c.admit("k", 2, t0 + Duration::from_secs(61)).is_ok(), "the first left the window");
    }
}
