//! Hosts: one AppRole per server a bot runs on, with a policy that can read exactly the keys it
//! was given (their data and version metadata) and nothing else.
//!
//! Enrolment hands the host a role-id and a **response-wrapped**, single-use secret-id: the
//! wrapping token can be unwrapped once, within [`WRAP_TTL`], so a copy that leaked on the way is
//! either useless or shows (the host's own unwrap then fails). Host tokens are periodic: renewed
//! within [`TOKEN_PERIOD`] they live on, left alone they expire. Removing a host deletes its role
//! and its policy, so tokens it already holds can read nothing from then on.
//!
//! Names: role `latchkey-<host>`, policy `latchkey-host-<host>`, AppRole at `auth/approle`.

use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::servers::client::body;
use crate::servers::error::PathKind;
use crate::servers::kv::label_segment;
use crate::servers::settings::{is_segment, SettingField};
use crate::servers::{BaoClient, ServerError, ServerSettings};

pub const APPROLE_MOUNT: &str = "approle";
/// How long the wrapped secret-id can be unwrapped: time enough to paste it on the server.
pub const WRAP_TTL: &str = "10m";
/// The secret-id itself, once unwrapped, must be used as soon.
const SECRET_ID_TTL: &str = "10m";
/// A host token lives this long unless renewed (`run --from openbao` renews it).
pub const TOKEN_PERIOD: &str = "1h";
pub(crate) const ROLE_PREFIX: &str = "latchkey-";
const POLICY_PREFIX: &str = "latchkey-host-";

/// What the host needs, printed once on the desktop.
#[derive(Debug)]
pub struct HostEnrolment {
    pub name: String,
    pub role_id: String,
    /// The wrapping token: unwrapping it (once) yields the secret-id.
    pub wrapped_secret_id: SecretString,
    pub wrap_ttl_secs: u64,
    /// The paths the host may read.
    pub paths: Vec<String>,
}

/// A host as the server knows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HostInfo {
    pub name: String,
    /// The labels its policy lets it read.
    pub keys: Vec<String>,
}

fn role(name: &str) -> String {
    format!("{ROLE_PREFIX}{name}")
}

fn policy(name: &str) -> String {
    format!("{POLICY_PREFIX}{name}")
}

pub fn host_name(raw: &str) -> Result<&str, ServerError> {
    let name = raw.trim();
    if is_segment(name) && name.len() <= 40 {
        return Ok(name);
    }
    Err(ServerError::Setting {
        field: SettingField::HostName,
        message: format!(
            "The host name '{name}' is not usable: up to 40 letters, digits, '.', '_' and '-', e.g. 'vps-frankfurt-1'."
        ),
    })
}

impl BaoClient {
    /// What Latchkey's own token needs to manage hosts: the policy lines a refusal names.
    fn host_admin_lines() -> Vec<String> {
        vec![
            format!("path \"sys/policies/acl/{POLICY_PREFIX}*\" {{ capabilities = [\"create\", \"update\", \"read\", \"delete\"] }}"),
            format!("path \"auth/{APPROLE_MOUNT}/role/{ROLE_PREFIX}*\" {{ capabilities = [\"create\", \"update\", \"read\", \"delete\"] }}"),
            format!("path \"auth/{APPROLE_MOUNT}/role\" {{ capabilities = [\"list\"] }}"),
            "path \"auth/token/revoke-accessor\" { capabilities = [\"update\"] }".to_owned(),
        ]
    }

    /// An answer to a host-management call that was not a success.
    async fn host_refused(&self, reply: &super::client::Reply, path: &str, what: &str) -> ServerError {
        match reply.status.as_u16() {
            403 => match self.denied(path, &[]).await {
                ServerError::PermissionDenied { denied, .. } => {
                    ServerError::PermissionDenied { denied, needed: Self::host_admin_lines() }
                }
                other => other,
            },
            404 if reply.message().contains("no handler for route") => ServerError::ApproleMissing,
            _ => self.refusal(reply, what),
        }
    }

    /// Read on each key's data and versions, write on the host's own read record for it, and
    /// read on the host's own signing-agent document.
    fn host_policy(&self, host: &str, labels: &[&str]) -> Result<String, ServerError> {
        let s = self.settings();
        let keys: String = labels
            .iter()
            .flat_map(|l| {
                let read = [PathKind::Data, PathKind::Metadata]
                    .map(|k| format!("path \"{}\" {{ capabilities = [\"read\"] }}\n", s.path(k, l)));
                read.into_iter().chain([super::reads::record_policy(self, host, l)])
            })
            .collect();
        Ok(keys + &super::agent_doc::doc_policy(self, host)?)
    }

    /// Rewrites the host's policy to read exactly `labels` (at least one): a token it already
    /// holds loses the others at once, since tokens name their policy, not its text.
    pub async fn set_host_keys(&self, name: &str, labels: &[&str]) -> Result<(), ServerError> {
        let name = host_name(name)?;
        let labels = labels.iter().map(|l| label_segment(l)).collect::<Result<Vec<_>, _>>()?;
        let path = format!("sys/policies/acl/{}", policy(name));
        let reply = self
            .call(Method::PUT, &path, Some(&body(&serde_json::json!({ "policy": self.host_policy(name, &labels)? }))))
            .await?;
        if !reply.status.is_success() {
            return Err(self.host_refused(&reply, &path, "writing the host's policy").await);
        }
        Ok(())
    }

    /// Creates (or replaces) the host's policy and role, and a wrapped single-use secret-id.
    pub async fn add_host(&self, name: &str, labels: &[&str]) -> Result<HostEnrolment, ServerError> {
        let name = host_name(name)?;
        if labels.is_empty() {
            return Err(ServerError::Setting {
                field: SettingField::HostKeys,
                message: "Name the keys the host may read (--keys LABEL…).".into(),
            });
        }
        let labels = labels.iter().map(|l| label_segment(l)).collect::<Result<Vec<_>, _>>()?;

        self.set_host_keys(name, &labels).await?;

        let path = format!("auth/{APPROLE_MOUNT}/role/{}", role(name));
        let role_body = serde_json::json!({
            "token_policies": [policy(name)],
            "token_period": TOKEN_PERIOD,
            "secret_id_num_uses": 1,
            "secret_id_ttl": SECRET_ID_TTL,
        });
        let reply = self.call(Method::POST, &path, Some(&body(&role_body))).await?;
        if !reply.status.is_success() {
            return Err(self.host_refused(&reply, &path, "creating the host's role").await);
        }

        let what = "reading the host's role-id";
        let mut reply = self.call(Method::GET, &format!("{path}/role-id"), None).await?;
        // A cluster's standby may serve this read from storage a moment behind the write.
        for _ in 0..20 {
            if reply.status != StatusCode::NOT_FOUND {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            reply = self.call(Method::GET, &format!("{path}/role-id"), None).await?;
        }
        if !reply.status.is_success() {
            return Err(self.host_refused(&reply, &path, what).await);
        }
        #[derive(Deserialize)]
        struct RoleId {
            role_id: String,
        }
        #[derive(Deserialize)]
        struct RoleIdReply {
            data: RoleId,
        }
        let role_id = reply.json::<RoleIdReply>(what)?.data.role_id;

        let what = "making the host's secret-id";
        let reply = self.call_wrapped(Method::POST, &format!("{path}/secret-id"), WRAP_TTL).await?;
        if !reply.status.is_success() {
            return Err(self.host_refused(&reply, &path, what).await);
        }
        #[derive(Deserialize)]
        struct WrapInfo {
            token: SecretString,
            ttl: u64,
        }
        #[derive(Deserialize)]
        struct Wrapped {
            wrap_info: WrapInfo,
        }
        let wrap = reply.json::<Wrapped>(what)?.wrap_info;
        let s = self.settings();
        Ok(HostEnrolment {
            name: name.to_owned(),
            role_id,
            wrapped_secret_id: wrap.token,
            wrap_ttl_secs: wrap.ttl,
            paths: labels.iter().map(|l| s.path(PathKind::Data, l)).collect(),
        })
    }

    /// The hosts Latchkey made, with the keys each may read.
    pub async fn list_hosts(&self) -> Result<Vec<HostInfo>, ServerError> {
        let path = format!("auth/{APPROLE_MOUNT}/role");
        let reply = self.call(Method::GET, &format!("{path}?list=true"), None).await?;
        if reply.status == StatusCode::NOT_FOUND && !reply.message().contains("no handler for route") {
            return Ok(Vec::new());
        }
        if !reply.status.is_success() {
            return Err(self.host_refused(&reply, &path, "listing the hosts").await);
        }
        #[derive(Deserialize)]
        struct Keys {
            keys: Vec<String>,
        }
        #[derive(Deserialize)]
        struct Listed {
            data: Keys,
        }
        let names: Vec<String> = reply
            .json::<Listed>("listing the hosts")?
            .data
            .keys
            .into_iter()
            .filter_map(|r| r.strip_prefix(ROLE_PREFIX).map(str::to_owned))
            .collect();
        let mut hosts = Vec::new();
        for name in names {
            let keys = self.host_keys(&name).await?;
            hosts.push(HostInfo { name, keys });
        }
        Ok(hosts)
    }

    /// The labels the host's policy lets it read (none when it has no policy).
    pub async fn host_keys(&self, name: &str) -> Result<Vec<String>, ServerError> {
        let path = format!("sys/policies/acl/{}", policy(name));
        let reply = self.call(Method::GET, &path, None).await?;
        if reply.status == StatusCode::NOT_FOUND {
            return Ok(Vec::new());
        }
        if !reply.status.is_success() {
            return Err(self.host_refused(&reply, &path, "reading a host's policy").await);
        }
        #[derive(Deserialize)]
        struct Policy {
            #[serde(default)]
            policy: String,
        }
        #[derive(Deserialize)]
        struct PolicyReply {
            data: Policy,
        }
        Ok(self.labels_in(&reply.json::<PolicyReply>("reading a host's policy")?.data.policy))
    }

    /// The labels whose data path a host policy grants.
    fn labels_in(&self, hcl: &str) -> Vec<String> {
        let data = self.settings().path(PathKind::Data, "");
        hcl.lines()
            .filter_map(|l| {
                l.trim().strip_prefix("path \"")?.strip_prefix(data.as_str())?.split('"').next().map(str::to_owned)
            })
            // The host's own read records sit under ".reads/", which no label can start with.
            .filter(|l| !l.starts_with('.'))
            .collect()
    }

    /// Deletes the host's role (no new sign-ins) and its policy (tokens it holds read nothing),
    /// revokes the token its records name, and deletes the records. `false` when there was no
    /// such host.
    pub async fn remove_host(&self, name: &str) -> Result<bool, ServerError> {
        let name = host_name(name)?;
        let path = format!("auth/{APPROLE_MOUNT}/role/{}", role(name));
        let reply = self.call(Method::GET, &path, None).await?;
        let existed = reply.status.is_success();
        if !existed && reply.status != StatusCode::NOT_FOUND {
            return Err(self.host_refused(&reply, &path, "reading the host's role").await);
        }
        self.revoke_host_tokens(name, &self.host_keys(name).await?).await?;
        for path in [path, format!("sys/policies/acl/{}", policy(name))] {
            let reply = self.call(Method::DELETE, &path, None).await?;
            if !reply.status.is_success() {
                return Err(self.host_refused(&reply, &path, "removing the host").await);
            }
        }
        // Unreadable once the policy is gone; removed too, so no placeholder material lingers.
        if let Err(e) = self.delete_agent_doc(name).await {
            tracing::warn!(error = %e, host = name, "could not remove the host's signing-agent bots");
        }
        Ok(existed)
    }

    /// Revokes the tokens `host` recorded reading `labels` with, and deletes those records.
    /// Returns how many tokens it revoked (or found gone already).
    pub async fn revoke_host_tokens(&self, host: &str, labels: &[String]) -> Result<usize, ServerError> {
        let mut revoked = Vec::new();
        for label in labels {
            if let Some(record) = self.read_record(host, label).await? {
                if let Some(accessor) = record.accessor.filter(|a| !revoked.contains(a)) {
                    self.revoke_accessor(&accessor).await?;
                    revoked.push(accessor);
                }
            }
            self.forget_read(host, label).await?;
        }
        Ok(revoked.len())
    }

    /// The host's side of enrolment: unwraps the secret-id (once), signs in with the AppRole and
    /// returns a client with the host's token, which reads the keys it was given and nothing else.
    pub async fn host_sign_in(
        settings: ServerSettings,
        role_id: &str,
        wrapped_secret_id: SecretString,
    ) -> Result<BaoClient, ServerError> {
        // Looked up first (that does not use it up): a token wrapped by something other than
        // `host add` would sign the host in as someone else's role (OpenBao's response-wrapping
        // guidance: check the creation path before unwrapping).
        let what = "looking up the enrolment token";
        #[derive(Serialize)]
        struct Lookup<'a> {
            token: &'a str,
        }
        // EXPOSE: the wrapping token goes to OpenBao's (unauthenticated) lookup only.
        let payload = body(&Lookup { token: wrapped_secret_id.expose_secret() });
        let unwrapper = BaoClient::new(settings.clone(), wrapped_secret_id)?;
        let reply = unwrapper.send(Method::POST, "sys/wrapping/lookup", Some(&payload), None).await?;
        drop(payload);
        if reply.status == StatusCode::BAD_REQUEST || reply.status == StatusCode::FORBIDDEN {
            return Err(ServerError::EnrolmentUsed);
        }
        if !reply.status.is_success() {
            return Err(unwrapper.refusal(&reply, what));
        }
        #[derive(Deserialize)]
        struct Info {
            #[serde(default)]
            creation_path: String,
        }
        #[derive(Deserialize)]
        struct Looked {
            data: Info,
        }
        let path = reply.json::<Looked>(what)?.data.creation_path;
        let ours = path
            .strip_prefix(&format!("auth/{APPROLE_MOUNT}/role/{ROLE_PREFIX}"))
            .and_then(|rest| rest.strip_suffix("/secret-id"))
            .is_some_and(|host| host_name(host).is_ok());
        if !ours {
            return Err(ServerError::EnrolmentNotOurs { creation_path: path });
        }

        let what = "unwrapping the enrolment token";
        let reply = unwrapper.call(Method::POST, "sys/wrapping/unwrap", None).await?;
        if reply.status == StatusCode::BAD_REQUEST || reply.status == StatusCode::FORBIDDEN {
            return Err(ServerError::EnrolmentUsed);
        }
        if !reply.status.is_success() {
            return Err(unwrapper.refusal(&reply, what));
        }
        #[derive(Deserialize)]
        struct SecretId {
            secret_id: SecretString,
        }
        #[derive(Deserialize)]
        struct Unwrapped {
            data: SecretId,
        }
        let secret_id = reply.json::<Unwrapped>(what)?.data.secret_id;

        #[derive(Serialize)]
        struct Login<'a> {
            role_id: &'a str,
            secret_id: &'a str,
        }
        // EXPOSE: the secret-id goes to OpenBao's AppRole login only.
        let payload = body(&Login { role_id, secret_id: secret_id.expose_secret() });
        let what = "the host's sign-in";
        let reply = unwrapper.send(Method::POST, &format!("auth/{APPROLE_MOUNT}/login"), Some(&payload), None).await?;
        if matches!(reply.status.as_u16(), 400 | 403) {
            return Err(ServerError::HostLoginRefused);
        }
        if !reply.status.is_success() {
            return Err(unwrapper.refusal(&reply, what));
        }
        BaoClient::new(settings, reply.client_token(what)?)
    }
}
