//! Where Latchkey keeps its files, and keeping them private: the data folder is owner-only (0700)
//! and every file in it (database, WAL, SHM, logs, reports, lock files) is 0600 on Unix.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

pub const DATA_DIR_ENV: &str = "LATCHKEY_DATA_DIR";
pub const DB_FILE: &str = "latchkey.sqlite3";

/// `$LATCHKEY_DATA_DIR`, else the platform data dir (`~/.local/share/latchkey` on Linux).
/// Debug builds use a separate folder, matching their separate keychain namespace.
pub fn data_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os(DATA_DIR_ENV).filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    let app = if cfg!(debug_assertions) { "latchkey-dev" } else { "latchkey" };
    directories::ProjectDirs::from("", "", app).map(|d| d.data_dir().to_path_buf())
}

const PRIVATE_DIR: u32 = 0o700;
const PRIVATE_FILE: u32 = 0o600;

/// Creates `dir` owner-only if it is missing and, whether it was missing or not, tightens it and
/// Latchkey's files in it (see [`tighten`]). Run at every start by the app and the CLI, before
/// anything is written there, so a folder made by an older version (or by hand) with 0755/0644 is
/// private from then on.
pub fn prepare_private_dir(dir: &Path) -> std::io::Result<()> {
    create_private_folder(dir)?;
    tighten(dir)
}

/// `dir` and any missing parents, created 0700.
pub fn create_private_folder(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, PRIVATE_DIR);
    builder.create(dir)
}

/// The folders under the data dir that hold only Latchkey's files.
const OWN_FOLDERS: &[&str] = &["logs", "reports"];

/// The tray-resident process's single-instance lock, beside the database.
pub const RESIDENT_LOCK: &str = "resident.lock";

/// Whether a top-level entry of the data dir is Latchkey's: the database and everything SQLite and
/// the revoke engine put beside it (`-wal`, `-shm`, `-journal`, `.revoke-lock`), and its folders.
/// Anything else is left as it is: `LATCHKEY_DATA_DIR` may point at a folder that holds other files.
fn is_own(name: &std::ffi::OsStr) -> bool {
    let name = name.to_string_lossy();
    name.starts_with(DB_FILE) || name == RESIDENT_LOCK || OWN_FOLDERS.contains(&name.as_ref())
}

/// `dir` to 0700 and Latchkey's entries in it: folders 0700, files 0600, all the way down.
/// Symlinks are neither followed nor changed.
#[cfg(unix)]
pub fn tighten(dir: &Path) -> std::io::Result<()> {
    set_mode(dir, PRIVATE_DIR)?;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if is_own(&entry.file_name()) {
            tighten_entry(&entry.path())?;
        }
    }
    Ok(())
}

#[cfg(unix)]
fn tighten_entry(path: &Path) -> std::io::Result<()> {
    // The entry itself, not what a symlink points to: chmod would follow it out of the folder.
    let kind = std::fs::symlink_metadata(path)?.file_type();
    if kind.is_dir() {
        set_mode(path, PRIVATE_DIR)?;
        for entry in std::fs::read_dir(path)? {
            tighten_entry(&entry?.path())?;
        }
    } else if kind.is_file() {
        set_mode(path, PRIVATE_FILE)?;
    }
    Ok(())
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    if std::fs::metadata(path)?.permissions().mode() & 0o777 != mode {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

/// Other platforms keep files in the user's profile, private by the OS's defaults.
#[cfg(not(unix))]
pub fn tighten(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Options that create a file owner-only (0600 on Unix) from the first byte, instead of leaving
/// it readable until the next start tightens it.
pub fn private_file_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, PRIVATE_FILE);
    options
}

/// Writes `bytes` to `path` (0600), replacing what is there without ever writing through a
/// symlink: the bytes go to a new file beside it (created exclusively, so not a planted link
/// either) that is then renamed over `path`. A symlink at `path` is replaced, its target left
/// untouched. The folder is created owner-only if missing; a folder that is itself a symlink is
/// refused.
pub fn write_private_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().ok_or_else(|| std::io::Error::other("the path has no folder"))?;
    match std::fs::symlink_metadata(dir) {
        Ok(meta) if meta.file_type().is_symlink() => {
            return Err(std::io::Error::other("the folder is a symbolic link; Latchkey does not write through links"))
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create_private_folder(dir)?,
        Err(e) => return Err(e),
    }
    let name = path.file_name().ok_or_else(|| std::io::Error::other("the path has no file name"))?;
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(name);
    temp_name.push(format!(".{}.{}.tmp", std::process::id(), uuid::Uuid::new_v4().simple()));
    let temp = dir.join(temp_name);
    let written = private_file_options().write(true).create_new(true).open(&temp).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()
    });
    let renamed = written.and_then(|()| std::fs::rename(&temp, path));
    if renamed.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    renamed
}

#[cfg(all(test, unix))]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::symlink_metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_loose_existing_folder_is_tightened() {
        const OWN_FILES: [&str; 6] = [
            "latchkey.sqlite3",
            "latchkey.sqlite3-wal",
            "resident.lock",
            "logs/latchkey.log",
            "logs/resident.log",
            "reports/revoke-1.txt",
        ];
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("data");
        std::fs::create_dir_all(dir.join("logs")).unwrap();
        std::fs::create_dir_all(dir.join("reports")).unwrap();
        for file in OWN_FILES {
            std::fs::write(dir.join(file), b"x").unwrap();
            std::fs::set_permissions(dir.join(file), std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        for folder in ["", "logs", "reports"] {
            std::fs::set_permissions(dir.join(folder), std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        // A link inside pointing out of the folder: its target must keep its mode.
        let outside = root.path().join("outside.txt");
        std::fs::write(&outside, b"not ours").unwrap();
        std::fs::set_permissions(&outside, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::os::unix::fs::symlink(&outside, dir.join("reports/link")).unwrap();

        // Not Latchkey's: LATCHKEY_DATA_DIR may point at a folder with other files in it.
        std::fs::create_dir(dir.join("scripts")).unwrap();
        std::fs::write(dir.join("scripts/run.sh"), b"#!/bin/sh").unwrap();
        std::fs::set_permissions(dir.join("scripts/run.sh"), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(dir.join("notes.txt"), b"mine").unwrap();
        std::fs::set_permissions(dir.join("notes.txt"), std::fs::Permissions::from_mode(0o644)).unwrap();

        prepare_private_dir(&dir).unwrap();

        assert_eq!(mode(&dir.join("scripts/run.sh")), 0o755, "other files are left alone");
        assert_eq!(mode(&dir.join("notes.txt")), 0o644);
        for folder in ["", "logs", "reports"] {
            assert_eq!(mode(&dir.join(folder)), 0o700, "{folder}/");
        }
        for file in OWN_FILES {
            assert_eq!(mode(&dir.join(file)), 0o600, "{file}");
        }
        assert_eq!(mode(&outside), 0o644, "a symlink's target is not ours to change");
    }

    #[test]
    fn a_missing_folder_is_created_owner_only() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/b");
        prepare_private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
    }

    #[test]
    fn private_writes_replace_a_planted_symlink_and_leave_its_target_alone() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("reports");
        std::fs::create_dir(&dir).unwrap();
        let victim = root.path().join("victim.txt");
        std::fs::write(&victim, b"precious").unwrap();
        let path = dir.join("revoke-1.txt");
        std::os::unix::fs::symlink(&victim, &path).unwrap();

        write_private_file(&path, b"report").unwrap();

        assert_eq!(std::fs::read(&victim).unwrap(), b"precious", "the link's target is untouched");
        assert!(!std::fs::symlink_metadata(&path).unwrap().file_type().is_symlink(), "the link was replaced");
        assert_eq!(std::fs::read(&path).unwrap(), b"report");
        assert_eq!(mode(&path), 0o600);
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "no temporary file left behind");
    }

    #[test]
    fn private_writes_refuse_a_folder_that_is_a_symlink() {
        let root = tempfile::tempdir().unwrap();
        let elsewhere = root.path().join("elsewhere");
        std::fs::create_dir(&elsewhere).unwrap();
        let dir = root.path().join("reports");
        std::os::unix::fs::symlink(&elsewhere, &dir).unwrap();
        let err = write_private_file(&dir.join("revoke-1.txt"), b"report").unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0, "nothing written through the link");
    }

    #[test]
    fn private_writes_overwrite_an_earlier_report() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("reports/revoke-1.txt");
        write_private_file(&path, b"first").unwrap();
        write_private_file(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        assert_eq!(mode(&path.with_file_name("")), 0o700);
    }
}
