//! Talking to exchanges: one adapter per exchange (its signer, hosts, error codes, limits and
//! [`Capabilities`]), found through the registry ([`adapter`]); key inspection, revocation, and the
//! HTTP client that carries timeouts, Retry-After and the one clock-skew retry.
//!
//! ```no_run
//! # async fn demo(creds: latchkey_core::secret::Credentials) -> Result<(), latchkey_core::exchange::ExchangeError> {
//! use latchkey_core::exchange::{ClientConfig, Endpoint, ExchangeClient, SystemClock};
//! use latchkey_core::model::{Environment, Exchange};
//! let client = ExchangeClient::new(ClientConfig::default(), std::sync::Arc::new(SystemClock))?;
//! let inspection = client.inspect(&Endpoint::new(Exchange::Okx, &Environment::Live)?, &creds).await?;
//! # Ok(()) }
//! ```

pub mod adapter;
pub mod agent_scheme;
mod binance;
mod bitget;
mod bybit;
mod capabilities_doc;
#[cfg(test)]
mod ccxt_check;
mod client;
mod deribit;
mod endpoint;
mod error;
pub mod form;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
mod gate;
mod kraken;
mod kucoin;
mod nonce;
mod okx;
mod registry;
#[cfg(test)]
mod registry_check;
mod request;
mod revoke;
pub mod sign;
mod sub_keys;

pub use adapter::{Capabilities, ExchangeLimit, IpUpdate, PassphraseRule, Profile, SubKeyFacts, Support};
pub use capabilities_doc::capabilities_markdown;
pub(crate) use registry::adapter;

pub use client::{ClientConfig, Clock, ExchangeClient, SystemClock, MAX_ANSWER_BYTES};
pub use endpoint::{api_management_page, demo_url, live_url, Endpoint};
pub use error::ExchangeError;
pub use form::ExchangeForm;
pub use nonce::{MemoryNonces, NonceSource};
pub use revoke::{MasterKey, ProofVerdict, RevokeMethod, RevokeOutcome, RevokeRequest};
pub use sub_keys::{check_sub_key_settings, master_readiness, sub_key_facts};
