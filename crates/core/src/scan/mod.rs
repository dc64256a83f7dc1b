//! The scanner: finds exchange credentials lying in files (`latchkey scan PATH…`) and supports moving
//! them into the keychain (`latchkey import FILE`).
//!
//! What it reads: `.env` files and shell scripts, shell history (bash, zsh with its `: 1700000000:0;`
//! prefix), Freqtrade `config.json` and other JSON, Hummingbot `conf/` YAML and other YAML, TOML, ccxt
//! scripts (Python, JavaScript, TypeScript) and text/Markdown notes. JSON, YAML and TOML go through
//! real parsers (serde_json, serde_norway, toml); values are then found again in the text for their
//! line number.
//!
//! Every candidate is checked with the same shapes the "Add key" form uses
//! ([`crate::validate::credentials`]) and against placeholders and made-up values, so README
//! examples, `${VAR}` templates and `xxxx` do not count.
//!
//! What comes out is split in two: [`Finding`]s, which serialize and never hold a secret or a full API
//! key, and [`FoundCredentials`], which hold the secret values (secrecy types, no `Serialize`, redacted
//! `Debug`) for import and point at their finding by index.

mod detect;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
mod names;
mod rewrite;
mod shape;

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use secrecy::ExposeSecret;
use serde::Serialize;

use crate::model::Exchange;
use crate::secret::Credentials;

pub use rewrite::{rewrite_without_secrets, rewrite_without_secrets_at, MOVED_MARKER};

/// Files larger than this are skipped (with a warning when their name says they could hold keys).
pub const DEFAULT_MAX_FILE_BYTES: u64 = 2 * 1024 * 1024;
/// Directories never entered.
pub const SKIPPED_DIRS: &[&str] = &[".git", "node_modules", "target", ".hg", ".svn", "__pycache__", ".venv", "venv"];

#[derive(Clone, Debug)]
pub struct ScanOptions {
    /// Larger files are skipped. Default [`DEFAULT_MAX_FILE_BYTES`] (2 MiB).
    pub max_file_bytes: u64,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions { max_file_bytes: DEFAULT_MAX_FILE_BYTES }
    }
}

/// Where a finding was read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum FindingKind {
    /// `.env`, `.envrc`, shell scripts and profiles: `KEY=value`, `export KEY=value`.
    EnvFile,
    /// Freqtrade `config.json`: `exchange.name`, `exchange.key`, `exchange.secret`, `exchange.password`.
    Freqtrade,
    /// Hummingbot YAML (`conf/…`, `okx_api_key: …`).
    Hummingbot,
    /// A TOML config.
    Toml,
    /// A ccxt script or another Python/JavaScript/TypeScript source: `ccxt.okx({'apiKey': …})`.
    Ccxt,
    /// `.bash_history`, `.zsh_history`: `export …=`, `curl -H "X-MBX-APIKEY: …"`.
    ShellHistory,
    /// Any other JSON with credential fields.
    Json,
    /// Any other YAML with credential fields.
    Yaml,
}

/// One set of credentials found in a file. Safe to print and to serialize: it holds no secret and only
/// a masked hint of the API key.
///
/// JSON (camelCase, stable; fields are only ever added):
/// ```json
/// {
///   "path": "/home/me/bot/.env",      // the file, as walked from the given path
///   "line": 3,                         // 1-based line of the API key (else of the first value found)
///   "lines": [3, 4, 5],                // every line holding one of the set's values
///   "names": ["OKX_API_KEY", "OKX_API_SECRET", "OKX_API_PASSPHRASE"], // variable/field names
///   "exchange": "okx",                 // "okx" | "bybit" | "binance"
///   "kind": "envFile",                 // envFile | freqtrade | hummingbot | toml | ccxt | shellHistory | json | yaml
///   "keyHint": "8f3b…a875",            // masked like the key list; null when no usable key was found
///   "hasSecret": true,
///   "hasPassphrase": true,
///   "encrypted": false,                // true for Hummingbot's encrypted values
///   "importable": true,                // a complete set that passes the exchange's shape checks
///   "note": null,                      // why it is not importable, or advice; never a value
///   "sameAs": null                     // index of an earlier finding with the very same credentials
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub path: PathBuf,
    pub line: usize,
    pub lines: Vec<usize>,
    pub names: Vec<String>,
    pub exchange: Exchange,
    pub kind: FindingKind,
    pub key_hint: Option<String>,
    pub has_secret: bool,
    pub has_passphrase: bool,
    pub encrypted: bool,
    pub importable: bool,
    pub note: Option<String>,
    pub same_as: Option<usize>,
}

/// The secret values of one importable finding, for `latchkey import`. No `Serialize`; `Debug` is
/// redacted.
#[derive(Debug)]
pub struct FoundCredentials {
    /// Index into [`ScanReport::findings`].
    pub finding: usize,
    pub exchange: Exchange,
    pub credentials: Credentials,
}

/// A file that could not be read or parsed. The scan goes on with the other files.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScanWarning {
    pub path: PathBuf,
    pub message: String,
}

/// The result of [`scan_paths`]. Serializes to
/// `{"findings": [Finding…], "warnings": [{"path", "message"}…], "filesScanned": n, "filesSkipped": n}`;
/// the credentials are never part of it.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScanReport {
    pub findings: Vec<Finding>,
    pub warnings: Vec<ScanWarning>,
    /// Files whose name or extension says they can hold credentials, and that were read.
    pub files_scanned: usize,
    /// Files passed over: other types, binary, too large, symlinks.
    pub files_skipped: usize,
    #[serde(skip)]
    pub credentials: Vec<FoundCredentials>,
}

impl ScanReport {
    /// The secret values behind `findings[index]`, when it is importable.
    pub fn credentials_for(&self, index: usize) -> Option<&FoundCredentials> {
        self.credentials.iter().find(|c| c.finding == index)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("{path}: no such file or folder. Check the path and try again.")]
    NotFound { path: PathBuf },

    #[error("{path} could not be read ({source}). Check that it exists and that you may read it.")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{path} is a symbolic link. Rewrite the file it points to instead.")]
    Symlink { path: PathBuf },

    #[error("No findings were given for {path}, so there is nothing to remove.")]
    NothingToRemove { path: PathBuf },

    #[error("{path} is not UTF-8 text, so Latchkey will not rewrite it. Remove the values by hand.")]
    NotText { path: PathBuf },

    #[error(
        "{path} changed since it was scanned (nothing found at line {line} any more). Scan it again, then import."
    )]
    Changed { path: PathBuf, line: usize },

    #[error("The finding at line {line} belongs to {finding_path}, not {path}. Pass findings of this file only.")]
    OtherFile { path: PathBuf, finding_path: PathBuf, line: usize },

    #[error("Latchkey could not tell exactly where the value on line {line} of {path} sits (it may use escapes). Nothing was changed; remove the values by hand.")]
    CannotLocate { path: PathBuf, line: usize },

    #[error("Line {line} of {path} holds several sets of credentials that look alike, and only some were chosen. Nothing was changed; import them all, or remove the values by hand.")]
    Ambiguous { path: PathBuf, line: usize },

    #[error("A removed value also appears on line {line} of {path}. Nothing was changed; scan the file and import that finding too, or edit the file by hand.")]
    ValueRemains { path: PathBuf, line: usize },

    #[error("The backup {backup} could not be written ({source}). Nothing was changed; check the folder's permissions and free space.")]
    Backup {
        backup: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{path} could not be rewritten ({source}). The original is unchanged and a backup is at {backup}.")]
    Write {
        path: PathBuf,
        backup: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What kind of file, by name. `None`: not a format that holds keys, skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FileType {
    Env,
    History,
    Json,
    Yaml,
    Toml,
    Script,
    Text,
}

/// The suffix of Latchkey's own backups: `<file>.latchkey-backup-<timestamp>`.
pub(crate) const BACKUP_SUFFIX: &str = ".latchkey-backup-";

pub(crate) fn file_type(path: &Path) -> Option<FileType> {
    let raw = path.file_name()?.to_str()?;
    // A backup is read as the file it copies: it holds the same secrets.
    let name = raw.find(BACKUP_SUFFIX).map_or(raw, |i| &raw[..i]).to_ascii_lowercase();
    let ext = name.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    if name.ends_with("_history") || name == ".history" || name == ".sh_history" {
        return Some(FileType::History);
    }
    let env_names =
        [".env", ".envrc", ".bashrc", ".zshrc", ".profile", ".bash_profile", ".zprofile", ".zshenv", ".bash_login"];
    if env_names.contains(&name.as_str()) || name.starts_with(".env.") || name.ends_with(".env") {
        return Some(FileType::Env);
    }
    match ext {
        "sh" | "bash" | "zsh" | "env" => Some(FileType::Env),
        "json" => Some(FileType::Json),
        "yml" | "yaml" => Some(FileType::Yaml),
        "toml" => Some(FileType::Toml),
        "py" | "js" | "mjs" | "cjs" | "ts" | "mts" | "cts" => Some(FileType::Script),
        "md" | "txt" | "rst" => Some(FileType::Text),
        _ => None,
    }
}

/// Reads a file for scanning: `Ok(None)` when it is binary. The buffer holding the raw bytes is
/// zeroized when dropped.
fn read_text(path: &Path, limit: u64) -> std::io::Result<Option<zeroize::Zeroizing<String>>> {
    let mut file = fs::File::open(path)?;
    let mut bytes = zeroize::Zeroizing::new(Vec::new());
    file.by_ref().take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.iter().take(8192).any(|&b| b == 0) {
        return Ok(None);
    }
    // zsh history may hold "metafied" bytes that are not UTF-8: scan what is readable.
    Ok(Some(zeroize::Zeroizing::new(String::from_utf8_lossy(&bytes).into_owned())))
}

/// Scans files and folders for exchange credentials. Folders are walked without following symlinks,
/// skipping [`SKIPPED_DIRS`], binary files and files over `opts.max_file_bytes`. A file that cannot be
/// read or parsed becomes a [`ScanWarning`]; only a path that does not exist is an error.
pub fn scan_paths(paths: &[PathBuf], opts: &ScanOptions) -> Result<ScanReport, ScanError> {
    let mut report = ScanReport::default();
    let mut found: Vec<(Finding, Option<Credentials>)> = Vec::new();
    for root in paths {
        if fs::symlink_metadata(root).is_err() {
            return Err(ScanError::NotFound { path: root.clone() });
        }
        let walker = walkdir::WalkDir::new(root).follow_links(false).follow_root_links(false).sort_by_file_name();
        let entries = walker.into_iter().filter_entry(|e| {
            e.depth() == 0 || !(e.file_type().is_dir() && SKIPPED_DIRS.iter().any(|d| e.file_name() == *d))
        });
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(err) => {
                    let path = err.path().map_or_else(|| root.clone(), Path::to_path_buf);
                    report.warnings.push(ScanWarning { path, message: format!("not read: {err}") });
                    continue;
                }
            };
            let path = entry.path();
            if entry.file_type().is_dir() {
                continue;
            }
            let Some(ftype) = file_type(path).filter(|_| entry.file_type().is_file()) else {
                report.files_skipped += 1;
                continue;
            };
            let too_big = entry.metadata().map(|m| m.len() > opts.max_file_bytes).unwrap_or(false);
            if too_big {
                report.files_skipped += 1;
                let message = format!("larger than {} bytes, not scanned", opts.max_file_bytes);
                report.warnings.push(ScanWarning { path: path.to_path_buf(), message });
                continue;
            }
            let text = match read_text(path, opts.max_file_bytes) {
                Ok(Some(text)) => text,
                Ok(None) => {
                    report.files_skipped += 1;
                    continue;
                }
                Err(err) => {
                    let message = format!("not read: {err}");
                    report.warnings.push(ScanWarning { path: path.to_path_buf(), message });
                    continue;
                }
            };
            report.files_scanned += 1;
            let scanned = detect::scan_text(path, ftype, &text);
            if let Some(message) = scanned.warning {
                report.warnings.push(ScanWarning { path: path.to_path_buf(), message });
            }
            for set in scanned.sets {
                found.push(set.into_finding(path));
            }
        }
    }
    link_duplicates(&mut found);
    for (index, (finding, creds)) in found.into_iter().enumerate() {
        if let Some(credentials) = creds {
            report.credentials.push(FoundCredentials { finding: index, exchange: finding.exchange, credentials });
        }
        report.findings.push(finding);
    }
    Ok(report)
}

/// Marks findings whose credentials are those of an earlier finding, so an import adds each key once.
fn link_duplicates(found: &mut [(Finding, Option<Credentials>)]) {
    for i in 1..found.len() {
        let (earlier, rest) = found.split_at_mut(i);
        let (finding, Some(creds)) = &mut rest[0] else { continue };
        let same = earlier.iter().position(|(f, c)| {
            // EXPOSE: compared in memory to spot the same key in several files; nothing is kept.
            f.exchange == finding.exchange
                && c.as_ref().is_some_and(|c| {
                    c.api_key.expose_secret() == creds.api_key.expose_secret()
                        && c.api_secret.expose_secret() == creds.api_secret.expose_secret()
                })
        });
        finding.same_as = same;
    }
}
