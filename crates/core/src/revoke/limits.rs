//! The exchanges' documented limits for their key-deletion endpoints (kept by
//! [`crate::job::limits::Limiter`], so we are not answered 429 in the first place).

pub use crate::exchange::ExchangeLimit;
use crate::model::Exchange;

impl ExchangeLimit {
    /// The exchange's documented limit for its key-deletion endpoints, from its adapter
    /// (`Profile::limits`), e.g. OKX `delete-apikey` 1 request/s per user ID.
    pub fn documented(exchange: Exchange) -> Self {
        exchange.profile().limits.revoke
    }
}
