//! Secret values. They are `secrecy` types: `Debug` prints a redaction, there is no `Serialize`,
//! and memory is zeroized on drop. Reading one needs `expose_secret()`, and every such place carries
//! an `// EXPOSE:` comment that says why.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use zeroize::Zeroizing;

/// The secret parts of one exchange API key, as the keychain holds them: one item, so one write is
/// atomic.
#[derive(Deserialize)]
pub struct Credentials {
    pub api_key: SecretString,
    pub api_secret: SecretString,
    #[serde(default)]
    pub passphrase: Option<SecretString>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Credentials { api_key: [REDACTED], api_secret: [REDACTED], passphrase: ")?;
        f.write_str(if self.passphrase.is_some() { "[REDACTED] }" } else { "None }" })
    }
}

/// Version tag of the keychain item's layout, so a later layout can still read old items.
const ITEM_VERSION: u32 = 1;

impl Credentials {
    pub fn new(api_key: &str, api_secret: &str, passphrase: Option<&str>) -> Self {
        Credentials {
            api_key: SecretString::from(api_key.to_owned()),
            api_secret: SecretString::from(api_secret.to_owned()),
            passphrase: passphrase.map(|p| SecretString::from(p.to_owned())),
        }
    }

    /// The keychain item: a small JSON document in a buffer that is zeroized when dropped. The
    /// capacity is reserved up front so the buffer never reallocates and leaves copies behind.
    pub(crate) fn to_item(&self) -> Zeroizing<Vec<u8>> {
        #[derive(serde::Serialize)]
        struct Item<'a> {
            v: u32,
            api_key: &'a str,
            api_secret: &'a str,
            passphrase: Option<&'a str>,
        }
        // EXPOSE: serialized only into the zeroizing buffer handed to the OS keychain.
        let item = Item {
            v: ITEM_VERSION,
            api_key: self.api_key.expose_secret(),
            api_secret: self.api_secret.expose_secret(),
            passphrase: self.passphrase.as_ref().map(|p| p.expose_secret()),
        };
        let raw_len = item.api_key.len() + item.api_secret.len() + item.passphrase.map_or(0, str::len);
        // JSON escaping grows a byte to at most six ("\u0001").
        let mut buf = Zeroizing::new(Vec::with_capacity(raw_len * 6 + 96));
        // Writing plain strings into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *buf, &item);
        buf
    }

    pub(crate) fn from_item(bytes: &[u8]) -> Option<Self> {
        #[derive(Deserialize)]
        struct Versioned {
            v: u32,
        }
        let version: Versioned = serde_json::from_slice(bytes).ok()?;
        if version.v != ITEM_VERSION {
            return None;
        }
        serde_json::from_slice(bytes).ok()
    }
}

/// A short, non-secret reminder of which key this is, e.g. `a1b2…9z0y`. Short keys show less so
/// the hint never gives away most of the key.
pub fn key_hint(api_key: &SecretString) -> String {
    // EXPOSE: only a few leading and trailing characters leave, to tell keys apart.
    let chars: Vec<char> = api_key.expose_secret().chars().collect();
    let n = chars.len();
    if n >= 12 {
        let head: String = chars[..4].iter().collect();
        let tail: String = chars[n - 4..].iter().collect();
        format!("{head}…{tail}")
    } else if n >= 4 {
        let tail: String = chars[n - 2..].iter().collect();
        format!("…{tail}")
    } else {
        "…".to_owned()
    }
}

/// The exchange's own 2FA code as the user typed it for one action (Deribit's security keys):
/// trimmed, and none when blank. A secret for the moment it is valid.
pub fn exchange_code(typed: Option<&str>) -> Option<SecretString> {
    typed.map(str::trim).filter(|c| !c.is_empty()).map(|c| SecretString::from(c.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    // A secret can never be serialized by accident: into JSON for the UI, a log line, or SQLite.
    static_assertions::assert_not_impl_any!(Credentials: serde::Serialize);
    static_assertions::assert_not_impl_any!(SecretString: serde::Serialize);

    #[test]
    fn debug_is_redacted() {
        let c = Credentials::new("KEY-abcdef123456", "SECRET-xyz", Some("PASS-123"));
        let shown = format!("{c:?} {:?} {:?}", c.api_key, c.api_secret);
        for secret in ["KEY-abcdef123456", "SECRET-xyz", "PASS-123"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("REDACTED"));
    }

    #[test]
    fn item_round_trips_all_parts() {
        let c = Credentials::new("k\"ey\u{1}", "sécret", None);
        let back = Credentials::from_item(&c.to_item()).expect("parses");
        assert_eq!(back.api_key.expose_secret(), "k\"ey\u{1}");
        assert_eq!(back.api_secret.expose_secret(), "sécret");
        assert!(back.passphrase.is_none());
        let c = Credentials::new("a", "b", Some("p"));
        let back = Credentials::from_item(&c.to_item()).expect("parses");
        assert_eq!(back.passphrase.as_ref().map(|p| p.expose_secret().to_owned()), Some("p".into()));
    }

    #[test]
    fn item_buffer_never_reallocates() {
        let worst = "\u{1}".repeat(200);
        let c = Credentials::new(&worst, &worst, Some(&worst));
        let item = c.to_item();
        // Each control character escapes to six bytes: the worst case fills the reserve almost
        // to the byte, so a smaller reserve (or a longer escape) would make the buffer grow.
        assert!(item.len() >= 600 * 6, "the worst case really is the worst: {} bytes", item.len());
        assert_eq!(item.capacity(), 600 * 6 + 96, "capacity reserved once, never grown");
    }

    #[test]
    fn unknown_or_damaged_items_are_refused() {
        assert!(Credentials::from_item(b"not json").is_none());
        assert!(Credentials::from_item(br#"{"v":2,"api_key":"a","api_secret":"b"}"#).is_none());
        assert!(Credentials::from_item(br#"{"v":1,"api_key":"a"}"#).is_none());
    }

    #[test]
    fn hints_show_little() {
        let h = |s: &str| key_hint(&SecretString::from(s.to_owned()));
        assert_eq!(h("a1b2c3d4e5f6g7h8i9z0"), "a1b2…i9z0");
        assert_eq!(h("abcdefgh"), "…gh");
        assert_eq!(h("abc"), "…");
    }
}
