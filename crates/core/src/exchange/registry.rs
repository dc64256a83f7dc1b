//! The registry: the one place that maps an [`Exchange`] to its adapter. Everything else asks the
//! adapter, through the methods below. Adding an exchange: a variant in `model.rs`, an adapter
//! module `exchange/<id>.rs` (`mod` line in `exchange/mod.rs`), its arm and `ALL` entry here; in
//! the simulator a `Venue` module, its `SimExchange` variant and its `VENUES` entry; then
//! regenerate `docs/CAPABILITIES.md` (`LATCHKEY_BLESS=1`). `registry_check` keeps it that way.

use std::fmt;
use std::str::FromStr;

use super::adapter::{Adapter, Capabilities, Profile};
use super::binance::Binance;
use super::bitget::Bitget;
use super::bybit::Bybit;
use super::deribit::Deribit;
use super::gate::Gate;
use super::kraken::Kraken;
use super::kucoin::Kucoin;
use super::okx::Okx;
use crate::model::Exchange;

/// The adapter for `exchange`.
pub(crate) fn adapter(exchange: Exchange) -> &'static dyn Adapter {
    match exchange {
        Exchange::Okx => &Okx,
        Exchange::Bybit => &Bybit,
        Exchange::Binance => &Binance,
        Exchange::Kucoin => &Kucoin,
        Exchange::Gate => &Gate,
        Exchange::Kraken => &Kraken,
        Exchange::Bitget => &Bitget,
        Exchange::Deribit => &Deribit,
    }
}

impl Exchange {
    /// Every exchange, in the order lists and tables show them.
    pub const ALL: [Exchange; 8] = [
        Exchange::Okx,
        Exchange::Bybit,
        Exchange::Binance,
        Exchange::Kucoin,
        Exchange::Gate,
        Exchange::Kraken,
        Exchange::Bitget,
        Exchange::Deribit,
    ];

    pub(crate) fn adapter(self) -> &'static dyn Adapter {
        adapter(self)
    }

    pub fn profile(self) -> &'static Profile {
        adapter(self).profile()
    }

    /// What the exchange's API allows for a key.
    pub fn capabilities(self) -> &'static Capabilities {
        &self.profile().capabilities
    }

    pub fn as_str(self) -> &'static str {
        self.profile().id
    }

    pub fn display_name(self) -> &'static str {
        self.profile().name
    }

    /// Whether the exchange's inspection reports a key's permissions (Gate's does not: its keys'
    /// permissions are unknown, never read-only).
    pub fn reports_permissions(self) -> bool {
        adapter(self).reports_permissions()
    }

    /// Keys that are useless without the passphrase chosen at creation (OKX).
    pub fn needs_passphrase(self) -> bool {
        self.profile().form.passphrase.is_some()
    }
}

impl fmt::Display for Exchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.display_name())
    }
}

impl FromStr for Exchange {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Exchange::ALL
            .into_iter()
            .find(|e| e.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("Unknown exchange '{s}': choose {}.", Exchange::listed(Exchange::as_str)))
    }
}

impl Exchange {
    /// Every exchange by `name`, for messages: "okx, bybit or binance", "OKX, Bybit or Binance".
    pub fn listed(name: fn(Exchange) -> &'static str) -> String {
        let names: Vec<&str> = Exchange::ALL.into_iter().map(name).collect();
        match names.split_last() {
            Some((last, [])) => (*last).to_owned(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_adapter_is_registered_under_its_own_exchange() {
        for exchange in Exchange::ALL {
            assert_eq!(exchange.profile().exchange, exchange, "{exchange:?}");
        }
        let mut ids: Vec<&str> = Exchange::ALL.iter().map(|e| e.as_str()).collect();
        ids.dedup();
        assert_eq!(ids.len(), Exchange::ALL.len(), "ids are unique");
    }

    #[test]
    fn the_json_name_is_the_adapter_id() {
        for exchange in Exchange::ALL {
            assert_eq!(serde_json::to_value(exchange).unwrap(), serde_json::json!(exchange.as_str()));
        }
    }
}
