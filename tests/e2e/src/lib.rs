//! The tests live in tests/; here is what they share with the `leak-scan` binary (src/bin): walking
//! what a run left on disk and looking for bytes in it.

use std::path::{Path, PathBuf};

/// Every regular file under `root`, following no links (sockets and links store nothing).
pub fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            match entry.file_type() {
                Ok(k) if k.is_dir() => stack.push(entry.path()),
                Ok(k) if k.is_file() => files.push(entry.path()),
                _ => {}
            }
        }
    }
    files
}

/// Whether `needle` occurs in `hay`.
pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}
