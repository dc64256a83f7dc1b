//! Keys for bots on servers, delivered through OpenBao (issue 15): the desktop stays where keys
//! are added, checked, rotated and revoked; an OpenBao KV v2 mount is how they reach servers.
//!
//! - [`settings`]: where the server is and how Latchkey signs in (no secret in there).
//! - [`credential`]: the token or password, kept in the OS keychain only.
//! - [`client`]: the HTTP client, sign-in and the mapping of OpenBao's answers to [`ServerError`].
//! - [`check`]: "Test connection", which says precisely what is wrong.
//! - [`kv`]: deliver a key (KV v2 write with check-and-set); `versions`: read it back, destroy
//!   old versions or everything (revoke).
//! - [`agent_doc`]: a server's signing agent's bots, policies and drains, one document per host.
//! - [`hosts`]: one AppRole per server with a policy that reads exactly its keys; the host's
//!   sign-in with a single-use, response-wrapped secret-id.
//! - [`host_run`]: what `latchkey run --from openbao` needs besides reads (renewal, watching).
//! - [`handover`]: a rotation's new key forwarded to the server, and the wait for the hosts.
//! - [`reads`]: each host records what it read and when; the desktop shows it and waits on it.
//! - [`service`]: the above for keys in the vault, with `run`'s rules and the audit log.
//!
//! OpenBao keeps Vault's API paths (`/v1/...`, `X-Vault-Token`); every call here was checked
//! against the real `bao server -dev` (OpenBao v2.7.2) by the integration tests.

pub mod agent_doc;
pub mod check;
pub mod client;
pub mod credential;
mod error;
pub mod handover;
pub mod host_run;
pub mod hosts;
pub mod kv;
pub mod reads;
pub mod service;
pub mod settings;
mod versions;

pub use agent_doc::{AgentDoc, HostBot};
pub use check::ConnectionReport;
pub use client::BaoClient;
pub use error::{PathKind, ServerError};
pub use host_run::Watched;
pub use hosts::{HostEnrolment, HostInfo};
pub use kv::{Delivered, DeliveredKey, DeliveryMeta, Expect, KeyVersions, Place};
pub use reads::{HostIdentity, ReadRecord};
pub use service::{DeliveryOutcome, DeliveryRecord, HostAccess, HostsHandover, ServerStep, Servers};
pub use settings::{AuthMethod, ServerSettings, SettingField};
