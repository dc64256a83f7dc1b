//! The scanner's file parsers and the rewrite that takes imported values out of a file.
//!
//! Input: the file's text (lossy UTF-8, as the scanner reads it). Each target passes the names of
//! one format; the input's length picks one of them, so the same input always reads the same way.
//! Properties:
//! - scanning never panics, whatever the format's parser makes of the text;
//! - a finding (the part that is printed and serialized) holds no secret: neither the API secret,
//!   the passphrase nor the whole API key, and neither does the parse warning;
//! - importable findings carry credentials, the others none;
//! - rewriting the file without the findings never panics, never answers "the file changed" for
//!   the very text that was scanned, and when it succeeds the new text holds none of the removed
//!   keys and secrets, and scanning it again finds none of the removed credentials.

use latchkey_core::scan::fuzzing::{rewrite_text, scan_text};
use latchkey_core::scan::ScanError;
use latchkey_core::secret::Credentials;
use secrecy::ExposeSecret;

pub const ENV: &[&str] = &[".env", "bot/.env.production", ".envrc", "run.sh", ".bashrc", "keys.env"];
pub const JSON: &[&str] = &["user_data/config.json", "settings.json"];
pub const YAML: &[&str] = &["conf/connectors/okx.yml", "bot.yaml", "conf/conf_client.yml"];
pub const TOML: &[&str] = &["bot.toml", "config.toml.latchkey-backup-20260101T000000Z"];
pub const HISTORY: &[&str] = &[".bash_history", ".zsh_history", ".history"];
pub const SCRIPT: &[&str] = &["trade.py", "bot.js", "main.ts", "README.md", "notes.txt"];

/// The values that must never be printed: secret and passphrase, and the API key in full.
fn secret_values(creds: &Credentials) -> Vec<String> {
    let mut values = vec![creds.api_key.expose_secret().to_owned(), creds.api_secret.expose_secret().to_owned()];
    values.extend(creds.passphrase.as_ref().map(|p| p.expose_secret().to_owned()));
    values
}

pub fn check(names: &[&str], data: &[u8]) {
    let name = names[data.len() % names.len()];
    let text = String::from_utf8_lossy(data);
    let scanned = scan_text(name, &text);
    assert!(scanned.read, "{name} is a name the scanner reads");
    assert_eq!(scanned.findings.len(), scanned.credentials.len());

    let mut removed: Vec<(String, String)> = Vec::new();
    for (finding, creds) in scanned.findings.iter().zip(&scanned.credentials) {
        assert_eq!(finding.importable, creds.is_some(), "credentials exactly for importable findings");
        assert!(finding.line >= 1 && finding.lines.iter().all(|&l| l >= 1));
        let Some(creds) = creds else { continue };
        let printed = serde_json::to_string(finding).unwrap();
        for value in secret_values(creds).iter().filter(|v| v.chars().count() >= 8) {
            // A value that is also a field name or the file's name is printed as that, not as a value.
            if finding.names.iter().any(|n| n.contains(value.as_str())) || name.contains(value.as_str()) {
                continue;
            }
            assert!(!printed.contains(value.as_str()), "a finding printed a secret: {printed}");
            if let Some(warning) = &scanned.warning {
                assert!(!warning.contains(value.as_str()), "a warning printed a secret: {warning}");
            }
        }
        removed.push((creds.api_key.expose_secret().to_owned(), creds.api_secret.expose_secret().to_owned()));
    }

    // What `latchkey import --remove` does: rewrite the file without the importable findings.
    let importable: Vec<_> = scanned.findings.iter().filter(|f| f.importable).cloned().collect();
    if importable.is_empty() {
        return;
    }
    match rewrite_text(name, &text, &importable) {
        Ok(new_text) => {
            let marker_or_name = |v: &str| {
                latchkey_core::scan::MOVED_MARKER.contains(v)
                    || importable.iter().any(|f| f.names.iter().any(|n| n.contains(v)))
            };
            for (key, secret) in &removed {
                for value in [key, secret] {
                    if !value.is_empty() && !marker_or_name(value) {
                        assert!(!new_text.contains(value.as_str()), "a removed value is still in the file");
                    }
                }
            }
            let again = scan_text(name, &new_text);
            for creds in again.credentials.iter().flatten() {
                let pair = (creds.api_key.expose_secret().to_owned(), creds.api_secret.expose_secret().to_owned());
                assert!(!removed.contains(&pair), "the rewritten file still yields removed credentials");
            }
        }
        Err(ScanError::Changed { line, .. }) => panic!("the unchanged text was reported as changed (line {line})"),
        Err(ScanError::CannotLocate { .. } | ScanError::ValueRemains { .. } | ScanError::Ambiguous { .. }) => {}
        Err(other) => panic!("unexpected rewrite error: {other}"),
    }
}
