//! Which hosts read a key, and when: each host records its own reads, the desktop reads them.
//!
//! OpenBao does not tell a token's owner who read a secret (only an audit device does, and that
//! needs `sudo` on `sys/audit`). So a host running `latchkey run --from openbao` writes, after each
//! read of a new version and every [`HEARTBEAT`], one small record at
//! `<mount>/data/<prefix>/.reads/<host>/<label>`: the version it runs, when it first read it, when
//! it last looked, and its token's accessor (not a secret: it can only look the token up or revoke
//! it, and only for a token allowed to). Its policy may write exactly its own records, never read
//! anyone's; labels never start with '.', so no key can sit where a record goes.
//!
//! The desktop uses them to show "read 2 min ago", to wait after a rotation until every host that
//! is running moved to the new version, and to revoke a host's token on emergency revoke.

use chrono::{DateTime, Utc};
use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};

use crate::servers::client::body;
use crate::servers::error::PathKind;
use crate::servers::hosts::{host_name, ROLE_PREFIX};
use crate::servers::{BaoClient, ServerError};

/// How often a running host says it is still there (between reads of new versions).
pub const HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(60);
/// A host silent for this long is not running the key (its bot stopped, or it lost the network).
pub const STALE_AFTER: chrono::Duration = chrono::Duration::seconds(3 * 60);
/// The folder of the records, under the prefix.
const READS: &str = ".reads";

/// One host's record for one key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadRecord {
    pub version: u64,
    /// When the host first read this version.
    pub read_at: DateTime<Utc>,
    /// When the host last looked (a read or a heartbeat).
    pub seen_at: DateTime<Utc>,
    /// The host token's accessor, so the desktop can revoke that token.
    #[serde(default)]
    pub accessor: Option<String>,
}

impl ReadRecord {
    /// Still running the key at `now` (heard from within [`STALE_AFTER`]).
    pub fn live(&self, now: DateTime<Utc>) -> bool {
        now - self.seen_at <= STALE_AFTER
    }
}

/// The token a host signed in with, as `lookup-self` describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostIdentity {
    pub host: String,
    pub accessor: String,
}

pub(crate) fn record_segment(host: &str, label: &str) -> String {
    format!("{READS}/{host}/{label}")
}

/// The policy lines that let a host write its own record for `label`.
pub(crate) fn record_policy(client: &BaoClient, host: &str, label: &str) -> String {
    let path = client.settings().path(PathKind::Data, &record_segment(host, label));
    format!("path \"{path}\" {{ capabilities = [\"create\", \"update\"] }}\n")
}

impl BaoClient {
    /// The host this (AppRole) token belongs to: AppRole puts the role's name in the token's
    /// metadata, and every token may look itself up.
    pub async fn host_identity(&self) -> Result<HostIdentity, ServerError> {
        let what = "looking up the host's token";
        let reply = self.call(Method::GET, "auth/token/lookup-self", None).await?;
        if reply.status == StatusCode::FORBIDDEN {
            return Err(ServerError::TokenRefused);
        }
        if !reply.status.is_success() {
            return Err(self.refusal(&reply, what));
        }
        #[derive(Deserialize)]
        struct Meta {
            #[serde(default)]
            role_name: Option<String>,
        }
        #[derive(Deserialize)]
        struct Data {
            accessor: String,
            #[serde(default)]
            meta: Option<Meta>,
        }
        #[derive(Deserialize)]
        struct Lookup {
            data: Data,
        }
        let data = reply.json::<Lookup>(what)?.data;
        let role = data.meta.and_then(|m| m.role_name).unwrap_or_default();
        let Some(host) = role.strip_prefix(ROLE_PREFIX) else {
            return Err(ServerError::Unexpected {
                what: what.into(),
                detail: "this token did not come from a host role Latchkey made (`latchkey host add`)".into(),
            });
        };
        Ok(HostIdentity { host: host_name(host)?.to_owned(), accessor: data.accessor })
    }

    /// The host's side: records that it runs `label` at `record.version`.
    pub async fn record_read(&self, host: &str, label: &str, record: &ReadRecord) -> Result<(), ServerError> {
        let path = self.settings().path(PathKind::Data, &record_segment(host_name(host)?, label));
        let reply = self.call(Method::POST, &path, Some(&body(&serde_json::json!({ "data": record })))).await?;
        if reply.status == StatusCode::FORBIDDEN {
            return Err(self.denied(&path, &[]).await);
        }
        if !reply.status.is_success() {
            return Err(self.refusal(&reply, "recording the host's read"));
        }
        Ok(())
    }

    /// The desktop's side: what `host` recorded for `label` (`None`: it never did).
    pub async fn read_record(&self, host: &str, label: &str) -> Result<Option<ReadRecord>, ServerError> {
        let path = self.settings().path(PathKind::Data, &record_segment(host_name(host)?, label));
        let what = "reading a host's last read";
        // A record someone else wrote in another shape counts as none, not as an error.
        Ok(self.read_data::<ReadRecord>(&path, what).await?.and_then(Result::ok))
    }

    /// The current version's data of the KV v2 secret at `path` (`None`: nothing there), or why
    /// it is not a `T`.
    pub(crate) async fn read_data<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        what: &str,
    ) -> Result<Option<Result<T, ServerError>>, ServerError> {
        let reply = self.call(Method::GET, path, None).await?;
        if reply.status == StatusCode::NOT_FOUND && !reply.message().contains("no handler for route") {
            return Ok(None);
        }
        if reply.status == StatusCode::FORBIDDEN {
            return Err(self.denied(path, &[PathKind::Data]).await);
        }
        if !reply.status.is_success() {
            return Err(self.refusal(&reply, what));
        }
        #[derive(Deserialize)]
        struct Inner<T> {
            data: Option<T>,
        }
        #[derive(Deserialize)]
        #[serde(bound = "T: serde::de::DeserializeOwned")]
        struct Read<T> {
            data: Inner<T>,
        }
        Ok(match serde_json::from_slice::<Read<T>>(&reply.body) {
            Ok(read) => read.data.data.map(Ok),
            Err(e) => Some(Err(ServerError::Unexpected { what: what.into(), detail: e.to_string() })),
        })
    }

    /// Deletes `host`'s record for `label` (all its versions), if any.
    pub async fn forget_read(&self, host: &str, label: &str) -> Result<(), ServerError> {
        let path = self.settings().path(PathKind::Metadata, &record_segment(host_name(host)?, label));
        let reply = self.call(Method::DELETE, &path, None).await?;
        if reply.status == StatusCode::FORBIDDEN {
            return Err(self.denied(&path, &[PathKind::Metadata]).await);
        }
        if !reply.status.is_success() && reply.status != StatusCode::NOT_FOUND {
            return Err(self.refusal(&reply, "deleting a host's read record"));
        }
        Ok(())
    }

    /// Revokes a host's token by its accessor: its bot can read nothing from then on. A token
    /// already gone (expired, revoked) is no error: OpenBao answers the same, or "invalid accessor".
    pub async fn revoke_accessor(&self, accessor: &str) -> Result<(), ServerError> {
        let path = "auth/token/revoke-accessor";
        let reply = self.call(Method::POST, path, Some(&body(&serde_json::json!({ "accessor": accessor })))).await?;
        match reply.status.as_u16() {
            200..=299 | 400 => Ok(()),
            403 => Err(match self.denied(path, &[]).await {
                ServerError::PermissionDenied { denied, .. } => ServerError::PermissionDenied {
                    denied,
                    needed: vec!["path \"auth/token/revoke-accessor\" { capabilities = [\"update\"] }".into()],
                },
                other => other,
            }),
            _ => Err(self.refusal(&reply, "revoking a host's token")),
        }
    }
}
