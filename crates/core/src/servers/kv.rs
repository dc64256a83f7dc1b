//! A key on OpenBao: one KV v2 secret at `<mount>/data/<prefix>/<label>` whose versions are the
//! key's rotations. Every write is check-and-set, and the metadata requires it of every other
//! writer too (`cas_required`), so nobody overwrites a key blindly.
//!
//! The secret's data is what a bot needs: `exchange`, `label`, `api_key`, `api_secret` and
//! `passphrase` when the exchange has one. The metadata says what a person needs to tell keys apart
//! and when to expect a rotation, and never lets a secret be derived from it.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::model::KeyRecord;
use crate::secret::Credentials;
use crate::servers::client::{body, Reply};
use crate::servers::error::PathKind;
use crate::servers::settings::{is_segment, SettingField};
use crate::servers::{BaoClient, ServerError};

/// OpenBao's limit for one custom metadata value.
const METADATA_VALUE_MAX: usize = 512;

/// What the write expects to find, so a write by someone else in between is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// Nothing at the path yet (a first delivery).
    Absent,
    /// This version is the current one (the one Latchkey wrote last).
    Version(u64),
}

impl Expect {
    fn cas(self) -> u64 {
        match self {
            Expect::Absent => 0,
            Expect::Version(v) => v,
        }
    }
}

/// The non-secret facts delivered beside the key, as custom metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryMeta {
    pub exchange: String,
    /// e.g. `a1b2…9z0y`.
    pub key_hint: String,
    pub rotate_after: Option<NaiveDate>,
    pub ip_whitelist: Vec<String>,
    /// [`fingerprint`] of the credentials.
    pub fingerprint: String,
}

impl DeliveryMeta {
    pub fn for_key(record: &KeyRecord, credentials: &Credentials, now: DateTime<Utc>) -> Self {
        DeliveryMeta {
            exchange: record.exchange.as_str().to_owned(),
            key_hint: record.key_hint.clone(),
            rotate_after: crate::rotation::status(record, &now, 0).map(|s| s.due_at.date_naive()),
            ip_whitelist: record.ip_whitelist.clone(),
            fingerprint: fingerprint(credentials),
        }
    }

    fn custom_metadata(&self) -> BTreeMap<&'static str, String> {
        let mut m = BTreeMap::new();
        m.insert("managed_by", "latchkey".to_owned());
        m.insert("exchange", self.exchange.clone());
        m.insert("key_hint", self.key_hint.clone());
        m.insert("fingerprint", self.fingerprint.clone());
        m.insert("rotate_after", self.rotate_after.map_or_else(|| "none".to_owned(), |d| d.to_string()));
        m.insert("ip_whitelist", ip_list(&self.ip_whitelist));
        m
    }
}

/// The IPs, comma-separated, cut to what one metadata value may hold (saying how many were left out).
fn ip_list(ips: &[String]) -> String {
    if ips.is_empty() {
        return "none".into();
    }
    let mut out = String::new();
    for (i, ip) in ips.iter().enumerate() {
        let more = format!(",…(+{})", ips.len() - i);
        let sep = if out.is_empty() { "" } else { "," };
        if out.len() + sep.len() + ip.len() + more.len() > METADATA_VALUE_MAX {
            out.push_str(&more);
            return out;
        }
        out.push_str(sep);
        out.push_str(ip);
    }
    out
}

/// Tells which key a version holds without a secret: a hash of the API key (which the exchange
/// sees in every request anyway), domain-separated, never of the secret or passphrase.
pub fn fingerprint(credentials: &Credentials) -> String {
    let mut h = Sha256::new();
    h.update(b"latchkey-openbao-fingerprint-v1\n");
    // EXPOSE: hashed into a short, one-way fingerprint of the (non-secret) API key.
    h.update(credentials.api_key.expose_secret().as_bytes());
    hex::encode(&h.finalize()[..8])
}

/// Where a delivery landed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivered {
    /// `<mount>/data/<prefix>/<label>`.
    pub path: String,
    pub version: u64,
}

/// One version read back.
#[derive(Debug)]
pub struct DeliveredKey {
    pub version: u64,
    pub exchange: String,
    pub label: String,
    pub credentials: Credentials,
    pub custom_metadata: BTreeMap<String, String>,
}

/// The key's versions, from its metadata.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyVersions {
    pub current: u64,
    /// Versions still readable (neither deleted nor destroyed), oldest first.
    pub live: Vec<u64>,
    pub destroyed: Vec<u64>,
    pub max_versions: u32,
    pub cas_required: bool,
    pub custom_metadata: BTreeMap<String, String>,
}

/// The label as a path segment; labels with other characters are refused, not rewritten, so the
/// path a host's policy names is exactly the label the user sees.
pub fn label_segment(label: &str) -> Result<&str, ServerError> {
    let trimmed = label.trim();
    if is_segment(trimmed) {
        return Ok(trimmed);
    }
    let mut suggestion: String =
        trimmed.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '_' | '-') { c } else { '-' }).collect();
    while suggestion.contains("--") {
        suggestion = suggestion.replace("--", "-");
    }
    let suggestion = suggestion.trim_matches('-').chars().take(64).collect::<String>();
    Err(ServerError::LabelNotAPath {
        label: trimmed.to_owned(),
        suggestion: if suggestion.is_empty() { "bot-main".into() } else { suggestion },
    })
}

impl BaoClient {
    fn paths(&self, label: &str) -> Result<(String, String, String), ServerError> {
        let seg = label_segment(label)?;
        let s = self.settings();
        Ok((s.path(PathKind::Data, seg), s.path(PathKind::Metadata, seg), s.path(PathKind::Destroy, seg)))
    }

    /// Writes the key as a new version, if `expect` still holds (check-and-set), then its metadata
    /// (custom facts, `max_versions`, `cas_required`).
    pub async fn deliver(
        &self,
        label: &str,
        credentials: &Credentials,
        meta: &DeliveryMeta,
        expect: Expect,
    ) -> Result<Delivered, ServerError> {
        let (data_path, meta_path, _) = self.paths(label)?;
        #[derive(Serialize)]
        struct Data<'a> {
            exchange: &'a str,
            label: &'a str,
            api_key: &'a str,
            api_secret: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            passphrase: Option<&'a str>,
        }
        #[derive(Serialize)]
        struct Cas {
            cas: u64,
        }
        #[derive(Serialize)]
        struct Write<'a> {
            options: Cas,
            data: Data<'a>,
        }
        // EXPOSE: the key's parts go to OpenBao, which is the point of delivering it.
        let payload = body(&Write {
            options: Cas { cas: expect.cas() },
            data: Data {
                exchange: &meta.exchange,
                label: label.trim(),
                api_key: credentials.api_key.expose_secret(),
                api_secret: credentials.api_secret.expose_secret(),
                passphrase: credentials.passphrase.as_ref().map(|p| p.expose_secret()),
            },
        });
        let what = "the key's write";
        let reply = self.call(Method::POST, &data_path, Some(&payload)).await?;
        drop(payload);
        let version = if reply.status.is_success() {
            #[derive(Deserialize)]
            struct Version {
                version: u64,
            }
            #[derive(Deserialize)]
            struct Written {
                data: Version,
            }
            reply.json::<Written>(what)?.data.version
        } else {
            match self.write_refused(&reply, &data_path, label, expect, what).await {
                // A retry of a write that landed although its answer was lost (a node died, the
                // network dropped): the version after the expected one holds exactly this key.
                ServerError::CasConflict { current: Some(current), .. }
                    if current == expect.cas() + 1 && self.holds(label, current, credentials).await =>
                {
                    current
                }
                e => return Err(e),
            }
        };

        let what = "the key's metadata";
        let metadata = serde_json::json!({
            "max_versions": self.settings().max_versions,
            "cas_required": true,
            "custom_metadata": meta.custom_metadata(),
        });
        let reply = self.call(Method::POST, &meta_path, Some(&body(&metadata))).await?;
        if !reply.status.is_success() {
            return Err(self.failed(&reply, &meta_path, PathKind::Metadata, what).await);
        }
        Ok(Delivered { path: data_path, version })
    }

    /// Whether `version` holds exactly these credentials (compared in constant time).
    async fn holds(&self, label: &str, version: u64, credentials: &Credentials) -> bool {
        use subtle::ConstantTimeEq;
        let Ok(found) = self.read_version(label, Some(version)).await else { return false };
        // EXPOSE: compared with the key just written, never shown.
        let eq = |a: &SecretString, b: &SecretString| {
            bool::from(a.expose_secret().as_bytes().ct_eq(b.expose_secret().as_bytes()))
        };
        let pass = match (&found.credentials.passphrase, &credentials.passphrase) {
            (Some(a), Some(b)) => eq(a, b),
            (None, None) => true,
            _ => false,
        };
        eq(&found.credentials.api_key, &credentials.api_key)
            && eq(&found.credentials.api_secret, &credentials.api_secret)
            && pass
    }

    async fn write_refused(&self, reply: &Reply, path: &str, label: &str, expect: Expect, what: &str) -> ServerError {
        if reply.status == StatusCode::BAD_REQUEST && reply.message().contains("check-and-set") {
            let current = self.current_version(label).await.ok().flatten().map(|v| v.current);
            let s = self.settings();
            return ServerError::CasConflict {
                mount: s.mount.clone(),
                key: format!("{}/{}", s.prefix, label.trim()),
                expected: match expect {
                    Expect::Absent => None,
                    Expect::Version(v) => Some(v),
                },
                current,
            };
        }
        self.failed(reply, path, PathKind::Data, what).await
    }

    async fn failed(&self, reply: &Reply, path: &str, kind: PathKind, what: &str) -> ServerError {
        if reply.status == StatusCode::FORBIDDEN {
            self.denied(path, &[kind]).await
        } else {
            self.refusal(reply, what)
        }
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_path_segments_or_refused_with_a_suggestion() {
        assert_eq!(label_segment(" okx-bot-main ").unwrap(), "okx-bot-main");
        match label_segment("My OKX key/2") {
            Err(ServerError::LabelNotAPath { suggestion, .. }) => assert_eq!(suggestion, "My-OKX-key-2"),
            other => panic!("{other:?}"),
        }
        assert!(label_segment("..").is_err());
    }

    #[test]
    fn the_fingerprint_is_not_the_secret_and_tells_keys_apart() {
        let a = Credentials::new("key-a", "secret-a", None);
        let a2 = Credentials::new("key-a", "another-secret", Some("p"));
        let b = Credentials::new("key-b", "secret-a", None);
        assert_eq!(fingerprint(&a), fingerprint(&a2), "only the API key counts");
        assert_ne!(fingerprint(&a), fingerprint(&b));
        assert_eq!(fingerprint(&a).len(), 16);
    }

    #[test]
    fn long_ip_lists_fit_one_metadata_value() {
        assert_eq!(ip_list(&[]), "none");
        assert_eq!(ip_list(&["203.0.113.9".into(), "198.51.100.7".into()]), "203.0.113.9,198.51.100.7");
        let many: Vec<String> = (0..100).map(|i| format!("2001:db8::{i:x}")).collect();
        let s = ip_list(&many);
        assert!(s.len() <= METADATA_VALUE_MAX, "{}", s.len());
        assert!(s.ends_with(')') && s.contains(",…(+"), "{s}");
    }
}
