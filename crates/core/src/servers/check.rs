//! "Test connection": every step Latchkey's work needs, in the order a failure is easiest to
//! fix, stopping at the first that fails with an error that says what to do. Writes nothing.
//!
//! 1. `sys/health` (no token): reachable, TLS, initialised, unsealed.
//! 2. Sign-in and `auth/token/lookup-self`: the credential is accepted.
//! 3. `sys/internal/ui/mounts/<mount>`: the mount exists for this token and is KV version 2.
//! 4. `sys/capabilities-self` on the data, metadata and destroy paths under the prefix: the
//!    policy grants what delivering, rotating and revoking need.

use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};

use crate::servers::client::body;
use crate::servers::error::PathKind;
use crate::servers::{BaoClient, ServerError};

/// A label no key has (it has a space-free, reserved shape), to ask for capabilities under the prefix.
const PROBE: &str = "latchkey-connection-test";

/// What a successful test found, for the settings page and `latchkey servers test`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "ConnectionReportView")]
pub struct ConnectionReport {
    pub addr: String,
    pub server_version: String,
    /// A standby node of a cluster (it forwards requests to the active node).
    pub standby: bool,
    pub mount: String,
    pub prefix: String,
    /// Seconds the token has left; `None` for a token that never expires.
    pub token_ttl_secs: Option<u64>,
    pub token_policies: Vec<String>,
}

impl BaoClient {
    pub async fn test_connection(&self) -> Result<ConnectionReport, ServerError> {
        let s = self.settings().clone();

        let what = "the health check";
        let health = self.send(Method::GET, "sys/health?standbyok=true&perfstandbyok=true", None, None).await?;
        // The health endpoint answers with its own JSON, not an `errors` list.
        match health.status.as_u16() {
            200..=299 => {}
            503 => return Err(ServerError::Sealed { addr: s.addr }),
            501 => return Err(ServerError::NotInitialized { addr: s.addr }),
            _ => return Err(self.refusal(&health, what)),
        }
        #[derive(Deserialize)]
        struct Health {
            #[serde(default)]
            version: String,
            #[serde(default)]
            standby: bool,
        }
        let health: Health = health.json(what)?;

        let what = "the token check";
        let lookup = self.call(Method::GET, "auth/token/lookup-self", None).await?;
        if lookup.status == StatusCode::FORBIDDEN {
            return Err(ServerError::TokenRefused);
        }
        if !lookup.status.is_success() {
            return Err(self.refusal(&lookup, what));
        }
        #[derive(Deserialize)]
        struct TokenData {
            #[serde(default)]
            ttl: u64,
            #[serde(default)]
            policies: Vec<String>,
        }
        #[derive(Deserialize)]
        struct Lookup {
            data: TokenData,
        }
        let token = lookup.json::<Lookup>(what)?.data;

        let what = "the mount check";
        let mount = self.call(Method::GET, &format!("sys/internal/ui/mounts/{}", s.mount), None).await?;
        match mount.status.as_u16() {
            200 => {}
            // "preflight capability check returned 403": no such mount, or none this token may use.
            403 | 404 => return Err(ServerError::MountNotFound { mount: s.mount.clone() }),
            _ => return Err(self.refusal(&mount, what)),
        }
        #[derive(Deserialize, Default)]
        struct Options {
            #[serde(default)]
            version: Option<String>,
        }
        #[derive(Deserialize)]
        struct MountData {
            #[serde(rename = "type", default)]
            kind: String,
            #[serde(default)]
            path: String,
            #[serde(default)]
            options: Option<Options>,
        }
        #[derive(Deserialize)]
        struct Mount {
            data: MountData,
        }
        let m = mount.json::<Mount>(what)?.data;
        // A mount name that is only a path inside another mount (`secret/team` in `secret/`).
        if m.path.trim_end_matches('/') != s.mount {
            return Err(ServerError::MountNotFound { mount: s.mount.clone() });
        }
        let version = m.options.unwrap_or_default().version;
        if m.kind != "kv" || version.as_deref() != Some("2") {
            let found = match (m.kind.as_str(), version.as_deref()) {
                ("kv", Some(v)) => format!("a KV version {v} engine"),
                ("kv", None) => "a KV version 1 engine".into(),
                (other, _) => format!("a '{other}' engine"),
            };
            return Err(ServerError::NotKvV2 { mount: s.mount.clone(), found });
        }

        let what = "the permission check";
        let kinds = [PathKind::Data, PathKind::Metadata, PathKind::Destroy];
        let paths: Vec<String> = kinds.iter().map(|k| s.path(*k, PROBE)).collect();
        let caps = self
            .call(Method::POST, "sys/capabilities-self", Some(&body(&serde_json::json!({ "paths": paths }))))
            .await?;
        if !caps.status.is_success() {
            return Err(self.refusal(&caps, what));
        }
        #[derive(Deserialize)]
        struct Caps {
            data: std::collections::HashMap<String, Vec<String>>,
        }
        let granted = caps.json::<Caps>(what)?.data;
        let lacking: Vec<(PathKind, &String)> = kinds
            .iter()
            .zip(&paths)
            .filter(|(kind, path)| {
                let have = granted.get(*path).map(Vec::as_slice).unwrap_or_default();
                let root = have.iter().any(|c| c == "root");
                !root && !kind.capabilities().iter().all(|need| have.iter().any(|c| c == need))
            })
            .map(|(k, p)| (*k, p))
            .collect();
        if let Some((_, first)) = lacking.first() {
            let denied = first.replace(PROBE, "…");
            return Err(self.permission_denied(&denied, &lacking.iter().map(|(k, _)| *k).collect::<Vec<_>>()));
        }

        Ok(ConnectionReport {
            addr: s.addr,
            server_version: health.version,
            standby: health.standby,
            mount: s.mount,
            prefix: s.prefix,
            token_ttl_secs: (token.ttl > 0).then_some(token.ttl),
            token_policies: token.policies,
        })
    }
}
