//! Where requests go: each exchange's live and demo/testnet hosts, or a custom base URL (a proxy, a
//! regional host, the local simulator), plus the web pages for manual revocation.

use crate::model::{Environment, Exchange};
use crate::validate;

use super::ExchangeError;

/// One exchange environment, resolved to what the client needs to reach it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub exchange: Exchange,
    /// Without a trailing slash, e.g. `https://www.okx.com`.
    pub base_url: String,
    /// Requests carry the exchange's demo header (OKX demo trading: same host,
    /// `x-simulated-trading: 1`).
    pub simulated_trading: bool,
    /// Whether key inspection and revocation exist here. Binance's spot testnet and demo mode
    /// serve only `/api`, not the `/sapi` key endpoints.
    pub key_endpoints: bool,
    /// A demo/testnet environment (its keys hold no real funds).
    pub demo: bool,
}

impl Endpoint {
    pub fn new(exchange: Exchange, environment: &Environment) -> Result<Self, ExchangeError> {
        let hosts = &exchange.profile().environments;
        let (base_url, demo) = match validate::environment(environment.clone())? {
            Environment::Live => (hosts.live_url.to_owned(), false),
            Environment::Demo => (hosts.demo_url.to_owned(), true),
            Environment::Custom { base_url } => (base_url, false),
        };
        let simulated_trading = demo && hosts.demo_header.is_some();
        let key_endpoints = !(demo && hosts.demo_lacks_key_endpoints.is_some());
        Ok(Endpoint { exchange, base_url, simulated_trading, key_endpoints, demo })
    }

    /// A custom base URL (e.g. the simulator) that behaves like the exchange's demo environment.
    pub fn custom_demo(exchange: Exchange, base_url: &str) -> Result<Self, ExchangeError> {
        let mut endpoint = Endpoint::new(exchange, &Environment::Custom { base_url: base_url.to_owned() })?;
        endpoint.simulated_trading = exchange.profile().environments.demo_header.is_some();
        endpoint.demo = true;
        Ok(endpoint)
    }

    pub(crate) fn url(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.base_url)
    }

    pub(crate) fn require_key_endpoints(&self) -> Result<(), ExchangeError> {
        if self.key_endpoints {
            Ok(())
        } else {
            let why = self.exchange.profile().environments.demo_lacks_key_endpoints;
            Err(ExchangeError::NotAvailable(why.unwrap_or_default().to_owned()))
        }
    }
}

pub fn live_url(exchange: Exchange) -> &'static str {
    exchange.profile().environments.live_url
}

/// The demo/testnet host: for OKX the live host (demo requests carry a header).
pub fn demo_url(exchange: Exchange) -> &'static str {
    exchange.profile().environments.demo_url
}

/// The exchange's web page where a person deletes API keys.
pub fn api_management_page(exchange: Exchange, demo: bool) -> &'static str {
    let hosts = &exchange.profile().environments;
    if demo {
        hosts.api_page_demo
    } else {
        hosts.api_page
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environments_resolve() {
        let okx_demo = Endpoint::new(Exchange::Okx, &Environment::Demo).unwrap();
        assert!(okx_demo.simulated_trading && okx_demo.demo);
        assert_eq!(okx_demo.base_url, "https://www.okx.com");
        assert!(!Endpoint::new(Exchange::Okx, &Environment::Live).unwrap().simulated_trading);
        assert_eq!(
            Endpoint::new(Exchange::Bybit, &Environment::Demo).unwrap().base_url,
            "https://api-testnet.bybit.com"
        );
        let binance_demo = Endpoint::new(Exchange::Binance, &Environment::Demo).unwrap();
        assert!(!binance_demo.key_endpoints);
        let err = binance_demo.require_key_endpoints().unwrap_err();
        assert!(err.to_string().contains("/sapi"), "{err}");
        assert_eq!(err.kind(), "not_available");
        let custom =
            Endpoint::new(Exchange::Binance, &Environment::Custom { base_url: "http://127.0.0.1:9/".into() }).unwrap();
        assert_eq!(custom.base_url, "http://127.0.0.1:9");
        assert!(custom.key_endpoints && !custom.demo);
    }

    #[test]
    fn custom_urls_follow_the_https_rule() {
        let err =
            Endpoint::new(Exchange::Okx, &Environment::Custom { base_url: "http://okx.example".into() }).unwrap_err();
        assert_eq!(err.kind(), "invalid_environment");
        let demo = Endpoint::custom_demo(Exchange::Okx, "http://localhost:1").unwrap();
        assert!(demo.simulated_trading && demo.demo);
        assert!(!Endpoint::custom_demo(Exchange::Bybit, "http://localhost:1").unwrap().simulated_trading);
    }
}
