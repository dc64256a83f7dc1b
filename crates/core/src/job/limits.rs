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
    state: tokio::sync::Mutex<State>,
}

#[derive(Default)]
struct State {
    /// When each call in the window started, oldest first.
    sent: VecDeque<Instant>,
    /// Whether a call made through [`Limiter::run`] has been answered yet.
    answered_once: bool,
}

impl Limiter {
    pub fn new(limit: ExchangeLimit, margin: Duration) -> Self {
        Limiter { calls: limit.calls.max(1), window: limit.window + margin, state: Default::default() }
    }

    /// Waits for a slot and takes it; returns when it was granted.
    pub async fn acquire(&self) -> Instant {
        loop {
            let wait = {
                let mut state = self.state.lock().await;
                let now = Instant::now();
                while state.sent.front().is_some_and(|t| now.duration_since(*t) >= self.window) {
                    state.sent.pop_front();
                }
                match state.sent.front() {
                    Some(first) if state.sent.len() >= self.calls => self.window - now.duration_since(*first),
                    _ => {
                        state.sent.push_back(now);
                        return now;
                    }
                }
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// Waits for a slot and makes the call. The first call's slot counts from its answer rather
    /// than its grant: the first request on a fresh connection waits for the connection before it
    /// goes out (measured: about 115 ms more than the later ones), so it reaches the exchange
    /// late, and a second call granted one window after the first grant arrives less than a
    /// window after it and is refused for the rate (it was, for every master, every run). Later
    /// calls go out at once and count from their grant: slow answers under load are the answer's
    /// way back, and spacing by them only loses time.
    pub async fn run<F: std::future::Future>(&self, call: F) -> F::Output {
        let granted = self.acquire().await;
        let out = call.await;
        let mut state = self.state.lock().await;
        if !std::mem::replace(&mut state.answered_once, true) {
            let now = Instant::now();
            if let Some(slot) = state.sent.iter_mut().find(|t| **t == granted) {
                *slot = now;
            }
            state.sent.make_contiguous().sort();
        }
        out
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

    /// The first call counts from its answer (it may have gone out late, on a fresh
    /// connection); the later ones from their grant, however slow their answer.
    #[tokio::test(start_paused = true)]
    async fn the_first_call_counts_from_its_answer_and_the_rest_from_their_grant() {
        let limiter = Limiter::new(
            ExchangeLimit { calls: 1, window: Duration::from_secs(1), concurrency: 1 },
            Duration::from_millis(10),
        );
        let start = Instant::now();
        let mut at = Vec::new();
        for took in [300, 200, 500, 200] {
            limiter
                .run(async {
                    at.push(start.elapsed().as_millis());
                    tokio::time::sleep(Duration::from_millis(took)).await
                })
                .await;
        }
        assert_eq!(at, [0, 1310, 2320, 3330]);
    }
}
