//! The simulator's memory: keys, the request log, pending faults, rate-limit windows and the
//! trading books.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::fault::{Fault, FaultKind};
use crate::seed::{SimExchange, SimKey, SimSubAccount};
use crate::trading::{Books, SimOrder, SimWithdrawal};

/// How many request records the log keeps: the newest, so a load run of a million requests does
/// not grow the simulator (or each snapshot) without bound. [`RequestTotals`] counts them all.
pub const REQUEST_LOG_CAP: usize = 100_000;

/// One request as the simulator saw it: no headers, no query string, so no credentials.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestRecord {
    pub method: String,
    pub path: String,
    pub exchange: Option<SimExchange>,
    pub status: u16,
    /// The exchange code answered ("0", "50113", "-1021", …) or `fault:<kind>`.
    pub code: String,
    /// When it was handled (after any injected latency), in ms since the simulator's first
    /// request: a timeline for benchmarks.
    pub at_ms: u64,
}

/// Every request since the start (or the last `clear_requests`), also those the log no longer holds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestTotals {
    pub total: u64,
    /// HTTP status → how many requests were answered with it (`429` for rate limits).
    pub by_status: BTreeMap<u16, u64>,
}

/// What `GET /__sim/state` and `SimHandle::state()` return. Secrets are left out.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    pub keys: Vec<SimKey>,
    pub sub_accounts: Vec<SimSubAccount>,
    /// The newest [`REQUEST_LOG_CAP`] requests, oldest first.
    pub requests: Vec<RequestRecord>,
    pub request_totals: RequestTotals,
    pub faults: Vec<Fault>,
    /// Accepted orders and cancels (the newest `BOOK_CAP`), oldest first.
    pub orders: Vec<SimOrder>,
    pub orders_total: u64,
    /// Accepted withdrawals and transfers (the newest `BOOK_CAP`), oldest first.
    pub withdrawals: Vec<SimWithdrawal>,
    pub withdrawals_total: u64,
    /// False when the simulator runs without rate limits (`--no-rate-limits`, the seed's
    /// `noRateLimits`).
    pub rate_limits: bool,
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
    requests: VecDeque<RequestRecord>,
    request_totals: RequestTotals,
    pub faults: Vec<Fault>,
    pub books: Books,
    /// Every `allow` says yes: for load runs far above the exchanges' documented limits.
    pub no_rate_limits: bool,
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
            requests: self.requests.iter().cloned().collect(),
            request_totals: self.request_totals.clone(),
            faults: self.faults.clone(),
            orders: self.books.orders.iter().cloned().collect(),
            orders_total: self.books.orders_total,
            withdrawals: self.books.withdrawals.iter().cloned().collect(),
            withdrawals_total: self.books.withdrawals_total,
            rate_limits: !self.no_rate_limits,
        }
    }

    /// Logs one request, dropping the oldest record past [`REQUEST_LOG_CAP`].
    pub fn record(&mut self, record: RequestRecord) {
        self.request_totals.total += 1;
        *self.request_totals.by_status.entry(record.status).or_default() += 1;
        if self.requests.len() >= REQUEST_LOG_CAP {
            self.requests.pop_front();
        }
        self.requests.push_back(record);
    }

    pub fn clear_requests(&mut self) {
        self.requests.clear();
        self.request_totals = RequestTotals::default();
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
        self.allow_weighted(route, caller, 1, max, window)
    }

    /// The same for a request that counts `weight` times (Binance's request weights). Always yes
    /// when rate limits are off.
    pub fn allow_weighted(&mut self, route: &str, caller: &str, weight: usize, max: usize, window: Duration) -> bool {
        if self.no_rate_limits {
            return true;
        }
        let now = Instant::now();
        let hits = self.windows.entry((route.to_owned(), caller.to_owned())).or_default();
        while hits.front().is_some_and(|t| now.duration_since(*t) >= window) {
            hits.pop_front();
        }
        if hits.len() + weight > max {
            return false;
        }
        hits.extend(std::iter::repeat_n(now, weight));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(n: usize, status: u16) -> RequestRecord {
        RequestRecord {
            method: "GET".to_owned(),
            path: format!("/r/{n}"),
            exchange: None,
            status,
            code: "0".to_owned(),
            at_ms: 0,
        }
    }

    #[test]
    fn the_log_keeps_the_newest_records_and_counts_them_all() {
        let mut state = SimState::default();
        for n in 0..REQUEST_LOG_CAP + 3 {
            state.record(record(n, if n % 2 == 0 { 200 } else { 429 }));
        }
        let snapshot = state.snapshot();
        assert_eq!(snapshot.requests.len(), REQUEST_LOG_CAP);
        assert_eq!(snapshot.requests[0].path, "/r/3");
        assert_eq!(snapshot.request_totals.total, (REQUEST_LOG_CAP + 3) as u64);
        assert_eq!(snapshot.request_totals.by_status[&429], (REQUEST_LOG_CAP as u64 + 3) / 2);
        state.clear_requests();
        assert_eq!((state.snapshot().requests.len(), state.snapshot().request_totals.total), (0, 0));
    }

    #[test]
    fn weights_count_and_the_switch_lifts_every_limit() {
        let mut state = SimState::default();
        let minute = Duration::from_secs(60);
        assert!(state.allow_weighted("r", "ip", 20, 30, minute));
        assert!(!state.allow_weighted("r", "ip", 20, 30, minute), "40 > 30");
        assert!(state.allow_weighted("r", "ip", 10, 30, minute));
        state.no_rate_limits = true;
        assert!((0..100).all(|_| state.allow("r", "ip", 1, minute)));
    }
}
