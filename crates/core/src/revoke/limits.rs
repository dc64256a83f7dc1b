//! The exchanges' documented limits for their key-deletion endpoints, and a sliding-window limiter
//! that keeps us under them (so we are not answered 429 in the first place).

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

pub use crate::exchange::ExchangeLimit;
use crate::model::Exchange;

impl ExchangeLimit {
    /// The exchange's documented limit for its key-deletion endpoints, from its adapter
    /// (`Profile::limits`), e.g. OKX `delete-apikey` 1 request/s per user ID.
    pub fn documented(exchange: Exchange) -> Self {
        exchange.profile().limits.revoke
    }
}

/// At most `calls` starts in any `window` (+ a small margin for network jitter, since the exchange
/// counts arrivals, not our sends).
pub(crate) struct Limiter {
    calls: usize,
    window: Duration,
    sent: tokio::sync::Mutex<VecDeque<Instant>>,
}

impl Limiter {
    pub fn new(limit: ExchangeLimit, margin: Duration) -> Self {
        Limiter { calls: limit.calls.max(1), window: limit.window + margin, sent: Default::default() }
    }

    pub async fn acquire(&self) {
        loop {
            let wait = {
                let mut sent = self.sent.lock().await;
                let now = Instant::now();
                while sent.front().is_some_and(|t| now.duration_since(*t) >= self.window) {
                    sent.pop_front();
                }
                match sent.front() {
                    Some(first) if sent.len() >= self.calls => self.window - now.duration_since(*first),
                    _ => {
                        sent.push_back(now);
                        return;
                    }
                }
            };
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn spaces_calls_by_the_window() {
        let limiter = Limiter::new(
            ExchangeLimit { calls: 2, window: Duration::from_secs(1), concurrency: 1 },
            Duration::from_millis(10),
        );
        let start = Instant::now();
        let mut at = Vec::new();
        for _ in 0..5 {
            limiter.acquire().await;
            at.push(start.elapsed().as_millis());
        }
        assert_eq!(at, [0, 0, 1010, 1010, 2020]);
    }
}
