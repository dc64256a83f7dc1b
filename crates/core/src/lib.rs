//! Latchkey's core: everything that is not the window.
//!
//! This crate knows nothing of Tauri, so the desktop shell, the CLI and the tests all drive the same
//! code. Secrets live only in the OS keychain ([`keychain`]); metadata and the audit log live in
//! SQLite ([`store`]); [`vault`] ties the two together with validation and auditing.

pub mod agent;
pub mod audit;
pub mod autorotate;
pub mod bots;
pub mod edit;
pub mod error;
pub mod exchange;
pub mod fix;
pub mod guard;
pub mod handover;
pub mod job;
pub mod keychain;
pub mod lock;
pub mod logfile;
pub mod mint;
pub mod model;
pub mod orphans;
pub mod paths;
pub mod reminders;
pub mod revoke;
pub mod risk;
pub mod rotate;
pub mod rotation;
pub mod scan;
pub mod secret;
pub mod servers;
pub mod services;
pub mod settings;
pub mod store;
mod task;
pub mod validate;
pub mod vault;
pub mod watch;
pub mod wording;

pub use error::{Error, Result};
