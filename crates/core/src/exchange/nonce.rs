//! Nonces that must grow for as long as a key lives, across every process that signs with it
//! (Kraken: "an always increasing unsigned 64-bit integer", checked per API key). A clock-based
//! nonce alone is not enough: the app and the CLI sign with the same key, and a clock set back
//! would reuse old values. So the client reserves each nonce from a [`NonceSource`] (the SQLite
//! store the app and the CLI share) before it signs: `max(now in ms, last + 1)`, in one atomic
//! statement, so no two requests anywhere get the same value and none goes backwards.

use std::collections::HashMap;
use std::sync::Mutex;

use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::model::Exchange;

/// Where nonces are reserved. The store implements it; tests and benches without a store get
/// [`MemoryNonces`], which keeps the rule within one process.
pub trait NonceSource: Send + Sync {
    /// A nonce for `scope` greater than every one reserved for it before, and at least `floor`.
    fn reserve_nonce(&self, scope: &str, floor: u64) -> crate::Result<u64>;
}

/// Within one process only: the fallback until a store is attached.
#[derive(Default)]
pub struct MemoryNonces(Mutex<HashMap<String, u64>>);

impl NonceSource for MemoryNonces {
    fn reserve_nonce(&self, scope: &str, floor: u64) -> crate::Result<u64> {
        let mut last = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let slot = last.entry(scope.to_owned()).or_insert(0);
        *slot = floor.max(slot.saturating_add(1));
        Ok(*slot)
    }
}

/// The row a key's nonces are counted under: the exchange and a SHA-256 of the API key, so the
/// store holds no key (the API key is not the secret, but Latchkey shows it only masked).
pub(crate) fn scope(exchange: Exchange, api_key: &SecretString) -> String {
    // EXPOSE: the API key is hashed to name its nonce counter; only the digest is kept.
    let digest = Sha256::digest(api_key.expose_secret().as_bytes());
    format!("{}:{}", exchange.as_str(), hex::encode(digest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_nonces_grow_even_when_the_clock_goes_back() {
        let nonces = MemoryNonces::default();
        assert_eq!(nonces.reserve_nonce("a", 1_000).unwrap(), 1_000);
        assert_eq!(nonces.reserve_nonce("a", 1_000).unwrap(), 1_001, "same millisecond");
        assert_eq!(nonces.reserve_nonce("a", 500).unwrap(), 1_002, "the clock went back");
        assert_eq!(nonces.reserve_nonce("a", 5_000).unwrap(), 5_000);
        assert_eq!(nonces.reserve_nonce("b", 10).unwrap(), 10, "per scope");
    }

    #[test]
    fn the_scope_names_no_key() {
        let key = SecretString::from("4/SDrDBcOOPnm3nPlNfEMMJDeRcIVqPz+QhRxIodyZbI9po/aVRiHsgX".to_owned());
        let scope = scope(Exchange::Okx, &key);
        assert!(scope.starts_with("okx:") && scope.len() == 4 + 64, "{scope}");
        assert!(!scope.contains("SDrDB"));
    }
}
