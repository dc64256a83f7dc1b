//! latchkey-core's integration tests, in one test binary: linking one binary instead of nine cuts
//! the test build on a 2-core machine (issue 12 §4; figures in BENCHMARKS.md). The keychain tests
//! stay binaries of their own: they re-run themselves by exact test name inside a private D-Bus
//! session.
#![allow(clippy::unwrap_used)]

mod exchange_support;
mod openbao_support;
mod revoke_support;

mod agent;
mod agent_ccxt;
mod agent_freqtrade;
mod agent_nautilus;
mod autorotate;
mod autorotate_failures;
mod autorotate_setting;
mod bad_input;
mod bitget;
mod bots;
mod deribit;
mod edit;
mod exchange_faults;
mod exchange_inspect;
mod exchange_revoke;
mod fix;
mod gate;
mod guard;
mod keys;
mod kraken;
mod kucoin;
mod lock;
mod mint;
mod openbao;
mod openbao_flows;
mod revoke;
mod scan;
mod store_watch;
mod sub_keys;
mod wording;
