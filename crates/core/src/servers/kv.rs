//! A key on OpenBao: one KV v2 secret at `<mount>/data/<prefix>/<label>` whose versions are the
//! key's rotations. Every write is check-and-set, and the metadata requires it of every other
//! writer too (`cas_required`), so nobody overwrites a key blindly.
//!
//! Reading and destroying versions: [`super::versions`].
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
use crate::servers::settings::is_segment;
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
    /// Where the key is used, for a server's signing agent (delivered with the key's data).
    pub place: Option<Place>,
}

/// Where a delivered key's requests go: its environment, and whether the exchange called it a
/// demo key. Delivered in the version's data, since a rotation's key may live elsewhere.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Place {
    pub environment: crate::model::Environment,
    pub demo: bool,
}

impl Place {
    /// For a person reading the metadata: `live`, `demo` or `custom (demo)`; the URL stays in the data.
    pub(crate) fn describe(&self) -> String {
        let kind = match self.environment {
            crate::model::Environment::Live => "live",
            crate::model::Environment::Demo => "demo",
            crate::model::Environment::Custom { .. } => "custom",
        };
        if self.demo && !matches!(self.environment, crate::model::Environment::Demo) {
            format!("{kind} (demo)")
        } else {
            kind.to_owned()
        }
    }
}

impl DeliveryMeta {
    pub fn for_key(record: &KeyRecord, credentials: &Credentials, now: DateTime<Utc>) -> Self {
        DeliveryMeta {
            exchange: record.exchange.as_str().to_owned(),
            key_hint: record.key_hint.clone(),
            rotate_after: crate::rotation::status(record, &now, 0).map(|s| s.due_at.date_naive()),
            ip_whitelist: record.ip_whitelist.clone(),
            fingerprint: fingerprint(credentials),
            place: Some(Place { environment: record.environment.clone(), demo: record.is_demo() }),
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
        if let Some(place) = &self.place {
            m.insert("place", place.describe());
        }
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
    /// `None` for a version delivered before Latchkey said where keys are used.
    pub place: Option<Place>,
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
    pub(super) fn paths(&self, label: &str) -> Result<(String, String, String), ServerError> {
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
            #[serde(skip_serializing_if = "Option::is_none")]
            place: Option<&'a Place>,
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
                place: meta.place.as_ref(),
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

    pub(super) async fn failed(&self, reply: &Reply, path: &str, kind: PathKind, what: &str) -> ServerError {
        if reply.status == StatusCode::FORBIDDEN {
            self.denied(path, &[kind]).await
        } else {
            self.refusal(reply, what)
        }
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
