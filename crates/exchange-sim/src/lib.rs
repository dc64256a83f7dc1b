//! exchange-sim: a local stand-in for the key endpoints of the exchanges Latchkey supports (OKX, Bybit,
//! Binance, KuCoin, Gate, Kraken, Bitget, Deribit).
//!
//! It checks signatures, timestamps / receive windows and passphrases the way each exchange
//! documents them, answers with the documented JSON shapes and error codes, keeps its keys in
//! memory (seeded from JSON), deletes them on revoke, and injects faults on request. The signature
//! checks here are written from the exchanges' documentation, independently of Latchkey's client.
//!
//! Master keys manage their sub-accounts (the seed's `subAccounts`) as each exchange documents it:
//! list the sub-accounts, create a sub key (its secret in that answer only), list, modify and
//! delete sub keys, with the masters' prerequisites, the parameter checks and the write limits.
//! OKX, Bybit and Binance also serve trading endpoints (balance, order, cancel, withdraw, and OKX's
//! and Bybit's transfers; `okx_trade.rs`, `bybit_trade.rs`, `binance_trade.rs`), authenticated as
//! their key endpoints are, with the permission each needs; the snapshot lists the accepted orders,
//! cancels, withdrawals and transfers (`trading.rs`).
//!
//! Rate limits follow each endpoint's documentation; `exchange-sim --no-rate-limits`, the seed's
//! `"noRateLimits": true` or [`SimHandle::set_rate_limits`] turn them all off, for load runs above
//! what one account may send. The request log keeps the newest [`REQUEST_LOG_CAP`] records and
//! counts every request in [`RequestTotals`], so long runs stay in bounded memory.
//!
//! A fault (`POST /__sim/fault`) matches a `pathPrefix` and optionally a `method`, and with
//! `afterActing` strikes only after the exchange acted: a create that hangs although the key was
//! made, a delete answered 5xx although it happened.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let sim = exchange_sim::Sim::start(exchange_sim::Seed::example()).await?;
//! println!("{}", sim.base_url());
//! sim.shutdown();
//! # Ok(()) }
//! ```

mod binance;
mod binance_trade;
mod bitget;
mod bybit;
mod bybit_trade;
mod deribit;
mod fault;
mod gate;
mod kraken;
mod kucoin;
mod okx;
mod okx_trade;
mod reply;
mod seed;
mod server;
mod state;
mod trading;
mod venue;
mod verify;

pub use bybit::SUB_UID_FROZEN as BYBIT_SUB_UID_FROZEN;
pub use deribit::SIM_TFA_CODE as DERIBIT_TFA_CODE;
pub use fault::{Fault, FaultKind};
mod sub_keys;

pub use seed::{Permission, Seed, SimExchange, SimKey, SimSubAccount};
pub use server::{Sim, SimHandle};
pub use state::{RequestRecord, RequestTotals, Snapshot, REQUEST_LOG_CAP};
pub use trading::{FundsKind, OrderKind, SimOrder, SimWithdrawal};
