//! A sliding-window limiter that keeps a job under an exchange's documented limit (so it is not
//! answered 429 in the first place).

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

use crate::exchange::ExchangeLimit;

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

/// A retry's wait: base · 2^(attempt−1), capped.
pub(crate) fn backoff(base: Duration, max: Duration, attempt: u32) -> Duration {
    base.saturating_mul(1u32 << (attempt.saturating_sub(1)).min(16)).min(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let ms = |a| backoff(Duration::from_millis(100), Duration::from_millis(500), a).as_millis();
        assert_eq!([ms(1), ms(2), ms(3), ms(4)], [100, 200, 400, 500]);
    }

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
