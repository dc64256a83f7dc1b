//! Taking imported values out of a file, after keeping an owner-only backup of it.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use zeroize::Zeroizing;

use super::detect::{self, Removal};
use super::names::Role;
use super::{file_type, Finding, ScanError, BACKUP_SUFFIX};

/// The comment left where a value was: `# moved to the OS keychain by Latchkey`.
pub const MOVED_MARKER: &str = "moved to the OS keychain by Latchkey";

/// [`rewrite_without_secrets_at`] with the current time in the backup's name.
pub fn rewrite_without_secrets(path: &Path, findings: &[Finding]) -> Result<PathBuf, ScanError> {
    rewrite_without_secrets_at(path, findings, Utc::now())
}

/// Removes the values of `findings` (all from `path`, as returned by [`super::scan_paths`]) from the
/// file and returns the backup's path.
///
/// 1. The file is scanned again; each finding must still be there (same line, exchange, kind and key
///    hint), else nothing is changed ([`ScanError::Changed`]).
/// 2. The original is copied to `<file>.latchkey-backup-<YYYYMMDDTHHMMSSZ>`, created owner-only (0600)
///    from the start, never chmod-ed afterwards.
/// 3. The new text is written to a temporary file beside the original, given the original's
///    permissions, synced and renamed over it: a crash leaves either the old or the new file.
///
/// Per format: JSON and scripts get an empty string (`"key": ""`); `.env` lines become
/// `# NAME moved to the OS keychain by Latchkey`; YAML and TOML get `""` and that comment at the end
/// of the line; shell history loses the value (`export X=`). Every other byte stays as it was.
pub fn rewrite_without_secrets_at(path: &Path, findings: &[Finding], now: DateTime<Utc>) -> Result<PathBuf, ScanError> {
    let meta = fs::symlink_metadata(path).map_err(|source| read_error(path, source))?;
    if meta.file_type().is_symlink() {
        return Err(ScanError::Symlink { path: path.to_path_buf() });
    }
    for f in findings {
        if !same_file(&f.path, path) {
            return Err(ScanError::OtherFile { path: path.to_path_buf(), finding_path: f.path.clone(), line: f.line });
        }
    }
    let Some(first) = findings.first() else { return Err(ScanError::NothingToRemove { path: path.to_path_buf() }) };
    let original = Zeroizing::new(fs::read(path).map_err(|source| read_error(path, source))?);
    let text = std::str::from_utf8(&original).map_err(|_| ScanError::NotText { path: path.to_path_buf() })?;
    let new_text = rewritten_text(path, text, findings, first)?;

    let backup = write_backup(path, &original, now)?;
    replace_file(path, new_text.as_bytes(), &meta).map_err(|source| ScanError::Write {
        path: path.to_path_buf(),
        backup: backup.clone(),
        source,
    })?;
    Ok(backup)
}

/// The text of `path` without the values of `findings`: the pure part of
/// [`rewrite_without_secrets_at`], which has checked that every finding belongs to `path`.
pub(crate) fn rewritten_text(
    path: &Path,
    text: &str,
    findings: &[Finding],
    first: &Finding,
) -> Result<Zeroizing<String>, ScanError> {
    let ftype = file_type(path).ok_or(ScanError::Changed { path: path.to_path_buf(), line: first.line })?;
    let scanned = detect::scan_text(path, ftype, text);

    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let mut removed: Vec<&str> = Vec::new();
    // Each finding takes its own set: two sets may look alike (the same key on one line with two
    // secrets), and matching both findings to the first would leave the second's values in the file.
    let same = |f: &Finding, wanted: &Finding| {
        Finding { path: wanted.path.clone(), same_as: wanted.same_as, ..f.clone() } == *wanted
    };
    let mut taken = vec![false; scanned.sets.len()];
    for wanted in findings {
        let alike = scanned.sets.iter().filter(|s| same(&s.finding, wanted)).count();
        let asked = findings.iter().filter(|f| same(f, wanted)).count();
        if alike > 1 && alike != asked {
            return Err(ScanError::Ambiguous { path: path.to_path_buf(), line: wanted.line });
        }
        let Some((index, set)) = scanned.sets.iter().enumerate().find(|(i, s)| !taken[*i] && same(&s.finding, wanted))
        else {
            // The same finding passed twice is removed once.
            if alike > 0 {
                continue;
            }
            return Err(ScanError::Changed { path: path.to_path_buf(), line: wanted.line });
        };
        taken[index] = true;
        for hit in &set.hits {
            let (start, end) = hit.span.ok_or(ScanError::CannotLocate { path: path.to_path_buf(), line: hit.line })?;
            let (line_start, line_end) = line_bounds(text, start);
            match hit.removal {
                Removal::CommentLine => {
                    edits.push((line_start, line_end, format!("# {} {MOVED_MARKER}", hit.name)));
                }
                Removal::Blank => edits.push((start, end, String::new())),
                Removal::BlankMarked => {
                    let quoted = matches!(text[..start].chars().next_back(), Some('"' | '\''));
                    edits.push((start, end, if quoted { String::new() } else { "\"\"".to_owned() }));
                    if !text[end..line_end].contains('#') {
                        edits.push((line_end, line_end, format!(" # {MOVED_MARKER}")));
                    }
                }
            }
            if hit.role != Role::Passphrase {
                removed.push(text.get(start..end).unwrap_or_default());
            }
        }
    }
    let new_text = apply(text, edits);
    for value in removed.iter().filter(|v| !v.is_empty()) {
        if let Some(at) = new_text.find(value) {
            // Counted in the new text: the edits keep every line break, so the line is the same in the
            // file, and an offset into the new text may fall inside a character of the old one.
            let line = new_text[..at].matches('\n').count() + 1;
            return Err(ScanError::ValueRemains { path: path.to_path_buf(), line });
        }
    }
    Ok(new_text)
}

fn read_error(path: &Path, source: std::io::Error) -> ScanError {
    if source.kind() == std::io::ErrorKind::NotFound {
        ScanError::NotFound { path: path.to_path_buf() }
    } else {
        ScanError::Read { path: path.to_path_buf(), source }
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    a == b || matches!((fs::canonicalize(a), fs::canonicalize(b)), (Ok(x), Ok(y)) if x == y)
}

/// The line around `offset`, without its line break.
fn line_bounds(text: &str, offset: usize) -> (usize, usize) {
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let end = if text[..end].ends_with('\r') { end - 1 } else { end };
    (start, end)
}

/// Applies non-overlapping edits; of overlapping ones (two values on a commented-out line) the wider
/// one wins.
fn apply(text: &str, mut edits: Vec<(usize, usize, String)>) -> Zeroizing<String> {
    edits.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    edits.dedup();
    let mut out = Zeroizing::new(String::with_capacity(text.len()));
    let mut at = 0;
    for (start, end, replacement) in edits {
        if start < at {
            continue;
        }
        out.push_str(&text[at..start]);
        out.push_str(&replacement);
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

/// `<file>.latchkey-backup-<timestamp>`, created owner-only with `create_new`, so an existing file is
/// never overwritten and the secret is never readable by others, not even for a moment.
fn write_backup(path: &Path, original: &[u8], now: DateTime<Utc>) -> Result<PathBuf, ScanError> {
    let stamp = now.format("%Y%m%dT%H%M%SZ").to_string();
    for attempt in 0..100 {
        let mut name = path.as_os_str().to_owned();
        name.push(BACKUP_SUFFIX);
        name.push(&stamp);
        if attempt > 0 {
            name.push(format!("-{attempt}"));
        }
        let backup = PathBuf::from(name);
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = match options.open(&backup) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(source) => return Err(ScanError::Backup { backup, source }),
        };
        if let Err(source) = file.write_all(original).and_then(|()| file.sync_all()) {
            drop(file);
            let _ = fs::remove_file(&backup);
            return Err(ScanError::Backup { backup, source });
        }
        return Ok(backup);
    }
    let backup = path.with_extension("latchkey-backup");
    Err(ScanError::Backup { backup, source: std::io::Error::other("too many backups with the same timestamp") })
}

/// Writes beside the original, copies its permissions (and owner, where allowed), syncs, renames.
fn replace_file(path: &Path, contents: &[u8], meta: &fs::Metadata) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new().prefix(".latchkey-rewrite-").tempfile_in(dir)?;
    tmp.write_all(contents)?;
    tmp.as_file().set_permissions(meta.permissions())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // Only root can give a file away; anyone else rewrites their own files, owner unchanged.
        let _ = std::os::unix::fs::fchown(tmp.as_file(), Some(meta.uid()), Some(meta.gid()));
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}
