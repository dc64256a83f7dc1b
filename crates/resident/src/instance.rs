//! One resident per data dir: an exclusive lock on `<data dir>/resident.lock`, held for the
//! process's life and released by the kernel however it ends (a crash or `kill -9` included), so a
//! stale lock never keeps the tray from starting.

use std::fs::{File, TryLockError};
use std::path::Path;

pub const LOCK_FILE: &str = latchkey_core::paths::RESIDENT_LOCK;

/// The lock if this process is the first; `None` if a resident already runs for `data_dir`.
pub fn claim(data_dir: &Path) -> std::io::Result<Option<File>> {
    let file = latchkey_core::paths::private_file_options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(data_dir.join(LOCK_FILE))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(e)) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_claim_on_the_same_folder_is_refused_until_the_first_ends() {
        let dir = tempfile::tempdir().unwrap();
        let first = claim(dir.path()).unwrap();
        assert!(first.is_some());
        assert!(claim(dir.path()).unwrap().is_none(), "a second resident for the same data dir");
        let other = tempfile::tempdir().unwrap();
        assert!(claim(other.path()).unwrap().is_some(), "another data dir has its own resident");
        drop(first);
        assert!(claim(dir.path()).unwrap().is_some(), "free again once the first one ended");
    }

    #[cfg(unix)]
    #[test]
    fn the_lock_file_is_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let _lock = claim(dir.path()).unwrap();
        let mode = std::fs::metadata(dir.path().join(LOCK_FILE)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
