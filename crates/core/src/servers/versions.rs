//! Reading a key's versions back and destroying them: the old ones once the hosts moved to the
//! new one (after a rotation), or all of them and the metadata (revoke).

use std::collections::BTreeMap;

use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use serde::Deserialize;

use crate::secret::Credentials;
use crate::servers::client::body;
use crate::servers::error::PathKind;
use crate::servers::kv::{DeliveredKey, KeyVersions};
use crate::servers::settings::SettingField;
use crate::servers::{BaoClient, ServerError};

impl BaoClient {
    /// One version of the key (`None`: the current one).
    pub async fn read_version(&self, label: &str, version: Option<u64>) -> Result<DeliveredKey, ServerError> {
        let (data_path, _, _) = self.paths(label)?;
        let what = "reading the key";
        let query = version.map(|v| format!("?version={v}")).unwrap_or_default();
        let reply = self.call(Method::GET, &format!("{data_path}{query}"), None).await?;
        if reply.status == StatusCode::NOT_FOUND && !reply.message().contains("no handler for route") {
            return Err(ServerError::NotFound { path: data_path, version });
        }
        if !reply.status.is_success() {
            return Err(self.failed(&reply, &data_path, PathKind::Data, what).await);
        }
        #[derive(Deserialize)]
        struct Data {
            #[serde(default)]
            exchange: String,
            #[serde(default)]
            label: String,
            #[serde(default)]
            api_key: Option<SecretString>,
            #[serde(default)]
            api_secret: Option<SecretString>,
            #[serde(default)]
            passphrase: Option<SecretString>,
            #[serde(default)]
            place: Option<crate::servers::kv::Place>,
        }
        #[derive(Deserialize)]
        struct Meta {
            version: u64,
            #[serde(default)]
            custom_metadata: Option<BTreeMap<String, String>>,
        }
        #[derive(Deserialize)]
        struct Inner {
            data: Data,
            metadata: Meta,
        }
        #[derive(Deserialize)]
        struct Read {
            data: Inner,
        }
        let Inner { data, metadata } = reply.json::<Read>(what)?.data;
        let (Some(api_key), Some(api_secret)) = (data.api_key, data.api_secret) else {
            return Err(ServerError::Unexpected {
                what: what.into(),
                detail: format!(
                    "version {} at `{data_path}` holds no api_key and api_secret: someone else wrote it",
                    metadata.version
                ),
            });
        };
        Ok(DeliveredKey {
            version: metadata.version,
            exchange: data.exchange,
            label: data.label,
            credentials: Credentials { api_key, api_secret, passphrase: data.passphrase },
            place: data.place,
            custom_metadata: metadata.custom_metadata.unwrap_or_default(),
        })
    }

    /// The key's versions; `None` when nothing is stored for the label.
    pub async fn current_version(&self, label: &str) -> Result<Option<KeyVersions>, ServerError> {
        let (_, meta_path, _) = self.paths(label)?;
        let what = "reading the key's versions";
        let reply = self.call(Method::GET, &meta_path, None).await?;
        if reply.status == StatusCode::NOT_FOUND && !reply.message().contains("no handler for route") {
            return Ok(None);
        }
        if !reply.status.is_success() {
            return Err(self.failed(&reply, &meta_path, PathKind::Metadata, what).await);
        }
        #[derive(Deserialize)]
        struct VersionState {
            #[serde(default)]
            deletion_time: String,
            #[serde(default)]
            destroyed: bool,
        }
        #[derive(Deserialize)]
        struct Metadata {
            current_version: u64,
            #[serde(default)]
            max_versions: u32,
            #[serde(default)]
            cas_required: bool,
            #[serde(default)]
            custom_metadata: Option<BTreeMap<String, String>>,
            #[serde(default)]
            versions: BTreeMap<String, VersionState>,
        }
        #[derive(Deserialize)]
        struct Read {
            data: Metadata,
        }
        let m = reply.json::<Read>(what)?.data;
        let mut live = Vec::new();
        let mut destroyed = Vec::new();
        for (v, state) in &m.versions {
            let Ok(v) = v.parse::<u64>() else { continue };
            if state.destroyed {
                destroyed.push(v);
            } else if state.deletion_time.is_empty() {
                live.push(v);
            }
        }
        live.sort_unstable();
        destroyed.sort_unstable();
        Ok(Some(KeyVersions {
            current: m.current_version,
            live,
            destroyed,
            max_versions: m.max_versions,
            cas_required: m.cas_required,
            custom_metadata: m.custom_metadata.unwrap_or_default(),
        }))
    }

    /// Destroys every version but the `keep` newest (after a rotation, once the hosts moved).
    /// Returns the versions destroyed, oldest first.
    pub async fn destroy_old_versions(&self, label: &str, keep: usize) -> Result<Vec<u64>, ServerError> {
        if keep == 0 {
            return Err(ServerError::Setting {
                field: SettingField::Keep,
                message: "Keep at least the current version; to remove the key from OpenBao entirely, undeliver it."
                    .into(),
            });
        }
        let (_, _, destroy_path) = self.paths(label)?;
        let Some(versions) = self.current_version(label).await? else { return Ok(Vec::new()) };
        // Soft-deleted versions can still be undeleted: they go too.
        let mut doomed: Vec<u64> = versions
            .live
            .iter()
            .copied()
            .chain(self.deleted_versions(&versions))
            .filter(|v| *v <= versions.current)
            .collect();
        doomed.sort_unstable_by(|a, b| b.cmp(a));
        let mut doomed: Vec<u64> = doomed.into_iter().skip(keep).collect();
        doomed.sort_unstable();
        if doomed.is_empty() {
            return Ok(doomed);
        }
        let what = "destroying old versions";
        let reply =
            self.call(Method::POST, &destroy_path, Some(&body(&serde_json::json!({ "versions": doomed })))).await?;
        if !reply.status.is_success() {
            return Err(self.failed(&reply, &destroy_path, PathKind::Destroy, what).await);
        }
        Ok(doomed)
    }

    /// Versions neither live nor destroyed: soft-deleted ones.
    fn deleted_versions(&self, v: &KeyVersions) -> Vec<u64> {
        (1..=v.current).filter(|n| !v.live.contains(n) && !v.destroyed.contains(n)).collect()
    }

    /// Removes the key from OpenBao: every version and the metadata (revoke). `false` when there
    /// was nothing to remove.
    pub async fn destroy_all(&self, label: &str) -> Result<bool, ServerError> {
        let (_, meta_path, _) = self.paths(label)?;
        if self.current_version(label).await?.is_none() {
            return Ok(false);
        }
        let what = "removing the key";
        let reply = self.call(Method::DELETE, &meta_path, None).await?;
        if !reply.status.is_success() {
            return Err(self.failed(&reply, &meta_path, PathKind::Metadata, what).await);
        }
        Ok(true)
    }
}
