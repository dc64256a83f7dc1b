//! The scanner without the file system, for the fuzz targets in `fuzz/` (feature `fuzzing`, never
//! in the app): a file's name and text in, what [`super::scan_paths`] and
//! [`super::rewrite_without_secrets`] would make of it out.

use std::path::Path;

use zeroize::Zeroizing;

use super::{detect, file_type, rewrite, Finding, ScanError};
use crate::secret::Credentials;

/// One file's scan: its findings (with `path` set to the given name), the credentials behind each
/// (`None` when not importable) and the parse warning, if any.
pub struct Scanned {
    pub findings: Vec<Finding>,
    pub credentials: Vec<Option<Credentials>>,
    pub warning: Option<String>,
    /// Whether the name is one the scanner reads at all.
    pub read: bool,
}

/// Scans `text` as the file `name` (a relative path such as `conf/connectors/okx.yml`: the name
/// picks the format, and a `conf` folder marks Hummingbot).
pub fn scan_text(name: &str, text: &str) -> Scanned {
    let path = Path::new(name);
    let Some(ftype) = file_type(path) else {
        return Scanned { findings: Vec::new(), credentials: Vec::new(), warning: None, read: false };
    };
    let scanned = detect::scan_text(path, ftype, text);
    let (findings, credentials) = scanned.sets.into_iter().map(|set| set.into_finding(path)).unzip();
    Scanned { findings, credentials, warning: scanned.warning, read: true }
}

/// The new text [`super::rewrite_without_secrets`] would write for `findings` of the file `name`.
pub fn rewrite_text(name: &str, text: &str, findings: &[Finding]) -> Result<Zeroizing<String>, ScanError> {
    let path = Path::new(name);
    let Some(first) = findings.first() else { return Err(ScanError::NothingToRemove { path: path.to_path_buf() }) };
    rewrite::rewritten_text(path, text, findings, first)
}
