//! Where the OpenBao server is and how Latchkey signs in to it. Nothing secret: the token or
//! password lives in the keychain ([`super::credential`]). Kept in the store's settings table under
//! its own name, beside the user's other settings.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::servers::ServerError;
use crate::store::Store;

const KEY: &str = "openbao";
pub const DEFAULT_MOUNT: &str = "secret";
pub const DEFAULT_PREFIX: &str = "latchkey";
pub const DEFAULT_USERPASS_MOUNT: &str = "userpass";
/// Versions OpenBao keeps per key: the current one and the ones hosts may still be moving from.
pub const DEFAULT_MAX_VERSIONS: u32 = 5;
pub const MAX_VERSIONS_RANGE: std::ops::RangeInclusive<u32> = 2..=20;

/// Which setting a [`ServerError::Setting`] is about, so a form can mark the field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "ServerField")]
pub enum SettingField {
    Address,
    Mount,
    Prefix,
    Username,
    UserpassMount,
    CaFile,
    MaxVersions,
    Credential,
    Keep,
    HostName,
    HostKeys,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "camelCase")]
pub enum AuthMethod {
    /// A token made for Latchkey (`bao token create -policy=…`), kept in the keychain.
    #[default]
    Token,
    /// A userpass login; the password is kept in the keychain, the token it yields only in memory.
    Userpass {
        username: String,
        #[serde(default = "default_userpass_mount")]
        mount: String,
    },
}

fn default_userpass_mount() -> String {
    DEFAULT_USERPASS_MOUNT.into()
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerSettings {
    /// `https://host[:port]`, or `http://` on loopback only (a local dev server).
    pub addr: String,
    /// The KV v2 mount, e.g. `secret`.
    pub mount: String,
    /// Keys go to `<mount>/data/<prefix>/<label>`.
    pub prefix: String,
    #[serde(default)]
    pub auth: AuthMethod,
    /// A PEM file with the CA that signed the server's certificate, for a private CA.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    #[serde(default = "default_max_versions")]
    pub max_versions: u32,
}

fn default_max_versions() -> u32 {
    DEFAULT_MAX_VERSIONS
}

fn setting(field: SettingField, message: impl Into<String>) -> ServerError {
    ServerError::Setting { field, message: message.into() }
}

impl ServerSettings {
    /// Settings with the defaults for everything but the address, checked.
    pub fn new(addr: &str) -> Result<Self, ServerError> {
        ServerSettings {
            addr: addr.into(),
            mount: DEFAULT_MOUNT.into(),
            prefix: DEFAULT_PREFIX.into(),
            auth: AuthMethod::Token,
            ca_file: None,
            max_versions: DEFAULT_MAX_VERSIONS,
        }
        .validate()
    }

    /// Checks every field and returns them normalised (no trailing slashes, trimmed).
    pub fn validate(self) -> Result<Self, ServerError> {
        let addr = address(&self.addr)?;
        let mount = segments(SettingField::Mount, "mount", &self.mount)?;
        let prefix = segments(SettingField::Prefix, "path prefix", &self.prefix)?;
        let auth = match self.auth {
            AuthMethod::Token => AuthMethod::Token,
            AuthMethod::Userpass { username, mount } => {
                let username = username.trim().to_owned();
                if username.is_empty() || username.len() > 128 || !username.chars().all(path_char) {
                    return Err(setting(
                        SettingField::Username,
                        "Enter the OpenBao username (letters, digits, '.', '_' and '-' only).",
                    ));
                }
                AuthMethod::Userpass {
                    username,
                    mount: segments(SettingField::UserpassMount, "userpass path", &mount)?,
                }
            }
        };
        if !MAX_VERSIONS_RANGE.contains(&self.max_versions) {
            return Err(setting(
                SettingField::MaxVersions,
                format!(
                    "Keep between {} and {} versions per key ({DEFAULT_MAX_VERSIONS} is a good default): at least the new one and the one hosts are moving from.",
                    MAX_VERSIONS_RANGE.start(),
                    MAX_VERSIONS_RANGE.end()
                ),
            ));
        }
        Ok(ServerSettings { addr, mount, prefix, auth, ca_file: self.ca_file, max_versions: self.max_versions })
    }

    pub fn load(store: &Store) -> crate::Result<Option<ServerSettings>> {
        store.setting(KEY)
    }

    /// Validates, then saves. Returns what was saved.
    pub fn save(self, store: &Store) -> Result<ServerSettings, ServerError> {
        let checked = self.validate()?;
        store.set_setting(KEY, &checked)?;
        Ok(checked)
    }

    /// `<mount>/<kind>/<prefix>/<segment>`, the API path below `/v1/`.
    pub(crate) fn path(&self, kind: super::PathKind, segment: &str) -> String {
        format!("{}/{}/{}/{segment}", self.mount, kind.as_str(), self.prefix)
    }
}

fn path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

/// One path segment as OpenBao and its policies will see it, with nothing to escape.
pub(crate) fn is_segment(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && !s.starts_with('.') && s.chars().all(path_char)
}

fn segments(field: SettingField, what: &str, raw: &str) -> Result<String, ServerError> {
    let trimmed = raw.trim().trim_matches('/');
    if trimmed.is_empty() || trimmed.split('/').count() > 8 || !trimmed.split('/').all(is_segment) {
        return Err(setting(
            field,
            format!(
                "The {what} '{}' is not usable: use path segments of letters, digits, '.', '_' and '-' separated by '/', e.g. '{}'.",
                raw.trim(),
                match field {
                    SettingField::Mount => DEFAULT_MOUNT,
                    SettingField::UserpassMount => DEFAULT_USERPASS_MOUNT,
                    _ => "latchkey/team-a",
                }
            ),
        ));
    }
    Ok(trimmed.to_owned())
}

/// https anywhere; plain http only on loopback (a local dev server): the token and the keys never
/// travel in clear text.
fn address(raw: &str) -> Result<String, ServerError> {
    let example = "Enter the server's address, e.g. https://bao.example.com:8200";
    let trimmed = raw.trim().trim_end_matches('/');
    let url = url::Url::parse(trimmed).map_err(|_| setting(SettingField::Address, format!("{example}.")))?;
    let Some(host) = url.host() else { return Err(setting(SettingField::Address, format!("{example}."))) };
    let loopback = match host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err(setting(
            SettingField::Address,
            "Leave the username and password out of the address: Latchkey keeps the credential in the keychain.",
        ));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(setting(SettingField::Address, format!("{example} (no path: Latchkey adds /v1/ itself).")));
    }
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(setting(
                SettingField::Address,
                "Use https:// for OpenBao: plain http is allowed only on this machine (127.0.0.1, localhost), so the token and keys never cross a network in clear text.",
            ))
        }
        _ => return Err(setting(SettingField::Address, format!("{example}."))),
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(r: Result<ServerSettings, ServerError>) -> SettingField {
        match r {
            Err(ServerError::Setting { field, .. }) => field,
            other => panic!("expected a setting error, got {other:?}"),
        }
    }

    #[test]
    fn addresses_https_or_loopback_http() {
        assert_eq!(
            ServerSettings::new(" https://bao.example.com:8200/ ").unwrap().addr,
            "https://bao.example.com:8200"
        );
        assert_eq!(ServerSettings::new("http://127.0.0.1:8200").unwrap().addr, "http://127.0.0.1:8200");
        assert_eq!(ServerSettings::new("http://[::1]:8200").unwrap().addr, "http://[::1]:8200");
        assert_eq!(ServerSettings::new("http://localhost:8200").unwrap().addr, "http://localhost:8200");
        for bad in [
            "bao.example.com",
            "http://bao.example.com:8200",
            "http://10.0.0.5:8200",
            "ftp://bao.example.com",
            "https://u:p@bao.example.com",
            "https://bao.example.com/v1/secret",
            "https://bao.example.com/?x=1",
            "",
        ] {
            assert_eq!(field(ServerSettings::new(bad)), SettingField::Address, "{bad}");
        }
    }

    #[test]
    fn mounts_and_prefixes_are_plain_segments() {
        let base = ServerSettings::new("http://127.0.0.1:8200").unwrap();
        let s = ServerSettings { mount: "/kv/".into(), prefix: " latchkey/team-a/ ".into(), ..base.clone() };
        let s = s.validate().unwrap();
        assert_eq!((s.mount.as_str(), s.prefix.as_str()), ("kv", "latchkey/team-a"));
        for bad in ["", "a//b", "../x", "a b", "x/*", "é"] {
            assert_eq!(field(ServerSettings { mount: bad.into(), ..base.clone() }.validate()), SettingField::Mount);
            assert_eq!(field(ServerSettings { prefix: bad.into(), ..base.clone() }.validate()), SettingField::Prefix);
        }
        assert_eq!(field(ServerSettings { max_versions: 1, ..base.clone() }.validate()), SettingField::MaxVersions);
        let userpass = |u: &str| AuthMethod::Userpass { username: u.into(), mount: "userpass".into() };
        assert_eq!(field(ServerSettings { auth: userpass(" "), ..base.clone() }.validate()), SettingField::Username);
        assert!(ServerSettings { auth: userpass("latchkey-desk"), ..base }.validate().is_ok());
    }

    #[test]
    fn saved_settings_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in(dir.path()).unwrap();
        assert_eq!(ServerSettings::load(&store).unwrap(), None);
        let s = ServerSettings {
            prefix: "latchkey/desk/".into(),
            ..ServerSettings::new("https://bao.example.com").unwrap()
        };
        let saved = s.save(&store).unwrap();
        assert_eq!(saved.prefix, "latchkey/desk");
        assert_eq!(ServerSettings::load(&store).unwrap(), Some(saved));
    }
}
