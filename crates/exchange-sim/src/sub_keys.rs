//! What the three exchanges' sub-account key endpoints share in the simulator: fresh credentials
//! for a created key and the IP list check.

use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use crate::seed::SimExchange;
use crate::state::SimState;

/// 64 hex digits no earlier key had: the simulator needs unique, unguessable-looking values, not
/// cryptographic ones (its keys guard nothing).
fn fresh_hex(state: &mut SimState, exchange: SimExchange, part: &str) -> String {
    state.minted += 1;
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
    hex::encode(Sha256::digest(format!("{exchange:?}/{part}/{}/{nanos}", state.minted)))
}

/// A new API key and secret in the exchange's own shapes: OKX a UUID and 32 hex digits, Bybit 18
/// and 36 letters and digits, Binance 64 and 64.
pub(crate) fn new_credentials(state: &mut SimState, exchange: SimExchange) -> (String, String) {
    let key = fresh_hex(state, exchange, "key");
    let secret = fresh_hex(state, exchange, "secret");
    match exchange {
        SimExchange::Okx => (
            format!("{}-{}-4{}-8{}-{}", &key[..8], &key[8..12], &key[13..16], &key[17..20], &key[20..32]),
            secret[..32].to_uppercase(),
        ),
        SimExchange::Bybit => (key[..18].to_uppercase(), format!("{}{}", &secret[..18], &key[18..36]).to_uppercase()),
        SimExchange::Binance => (key, secret),
    }
}

/// A comma-separated IP list; `None` when an entry is not an IP address. Blank means none.
pub(crate) fn parse_ips(list: &str) -> Option<Vec<String>> {
    list.split(',')
        .map(str::trim)
        .filter(|ip| !ip.is_empty())
        .map(|ip| ip.parse::<IpAddr>().ok().map(|_| ip.to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_credentials_differ_and_have_the_exchanges_shapes() {
        let mut state = SimState::default();
        let (a, secret) = new_credentials(&mut state, SimExchange::Okx);
        let (b, _) = new_credentials(&mut state, SimExchange::Okx);
        assert_ne!(a, b);
        assert_eq!((a.len(), secret.len()), (36, 32));
        let (key, secret) = new_credentials(&mut state, SimExchange::Bybit);
        assert_eq!((key.len(), secret.len()), (18, 36));
        assert!(key.chars().chain(secret.chars()).all(|c| c.is_ascii_alphanumeric()));
        let (key, secret) = new_credentials(&mut state, SimExchange::Binance);
        assert_eq!((key.len(), secret.len()), (64, 64));
    }

    #[test]
    fn ip_lists() {
        assert_eq!(parse_ips("1.2.3.4, ::1"), Some(vec!["1.2.3.4".to_owned(), "::1".to_owned()]));
        assert_eq!(parse_ips(""), Some(vec![]));
        assert_eq!(parse_ips("1.2.3.4,example.com"), None);
    }
}
