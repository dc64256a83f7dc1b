//! What the exchanges' sub-account key endpoints share in the simulator: fresh credentials
//! for a created key and the IP list check.

use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use crate::state::SimState;

/// 64 hex digits no earlier key had, for a created key's API key or secret (each exchange module
/// cuts them to its own shapes). The simulator needs unique, unguessable-looking values, not
/// cryptographic ones: its keys guard nothing.
pub(crate) fn fresh_hex(state: &mut SimState, part: &str) -> String {
    state.minted += 1;
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
    hex::encode(Sha256::digest(format!("{part}/{}/{nanos}", state.minted)))
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
    fn fresh_hex_never_repeats() {
        let mut state = SimState::default();
        let (a, b) = (fresh_hex(&mut state, "key"), fresh_hex(&mut state, "key"));
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
    }

    #[test]
    fn ip_lists() {
        assert_eq!(parse_ips("1.2.3.4, ::1"), Some(vec!["1.2.3.4".to_owned(), "::1".to_owned()]));
        assert_eq!(parse_ips(""), Some(vec![]));
        assert_eq!(parse_ips("1.2.3.4,example.com"), None);
    }
}
