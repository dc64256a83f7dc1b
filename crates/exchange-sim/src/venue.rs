//! The simulator's registry: one [`Venue`] per exchange module (`okx.rs`, `bybit.rs`,
//! `binance.rs`). Each checks signatures its exchange's way against the shared key store
//! (`state.rs`); the server routes to it by path and applies the shared faults (`fault.rs`).

use crate::reply::Reply;
use crate::seed::SimExchange;
use crate::state::Shared;
use crate::verify::Req;
use crate::{binance, bitget, bybit, deribit, gate, kraken, kucoin, okx};

/// One simulated exchange.
pub(crate) trait Venue: Send + Sync {
    fn exchange(&self) -> SimExchange;
    /// The path prefixes its API answers on (`/api/v5/`).
    fn prefixes(&self) -> &'static [&'static str];
    /// Authenticates the request (headers, timestamp window, key, signature, IP) and answers it.
    fn handle(&self, sim: &Shared, req: &Req) -> Reply;
    /// The exchange's own "too many requests" answer, for the `rateLimited` fault.
    fn rate_limit_reply(&self, req: &Req) -> Reply;
}

// Deribit before Bitget: both serve under /api/v2/public/.
const VENUES: [&dyn Venue; 8] = [
    &okx::Okx,
    &bybit::Bybit,
    &binance::Binance,
    &kucoin::Kucoin,
    &gate::Gate,
    &kraken::Kraken,
    &deribit::Deribit,
    &bitget::Bitget,
];

/// The exchange whose API serves this path.
pub(crate) fn for_path(path: &str) -> Option<&'static dyn Venue> {
    VENUES.into_iter().find(|v| v.prefixes().iter().any(|p| path.starts_with(p)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_route_to_their_exchange() {
        let of = |path| for_path(path).map(|v| v.exchange());
        assert_eq!(of("/api/v5/account/config"), Some(SimExchange::Okx));
        assert_eq!(of("/v5/user/query-api"), Some(SimExchange::Bybit));
        assert_eq!(of("/api/v3/time"), Some(SimExchange::Binance));
        assert_eq!(of("/sapi/v1/account/apiRestrictions"), Some(SimExchange::Binance));
        assert_eq!(of("/api/v1/user/api-key"), Some(SimExchange::Kucoin));
        assert_eq!(of("/api/v2/sub/user"), Some(SimExchange::Kucoin));
        assert_eq!(of("/api/v4/account/detail"), Some(SimExchange::Gate));
        assert_eq!(of("/0/private/GetApiKeyInfo"), Some(SimExchange::Kraken));
        assert_eq!(of("/api/v2/spot/account/info"), Some(SimExchange::Bitget));
        assert_eq!(of("/api/v2/public/time"), Some(SimExchange::Bitget));
        assert_eq!(of("/api/v2/public/get_time"), Some(SimExchange::Deribit));
        assert_eq!(of("/api/v2/private/list_api_keys"), Some(SimExchange::Deribit));
        assert_eq!(of("/api/v2/user/virtual-subaccount-list"), Some(SimExchange::Bitget));
        assert_eq!(of("/__sim/state"), None);
    }
}
