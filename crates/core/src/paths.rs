//! Where Latchkey keeps its one SQLite file.

use std::path::PathBuf;

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
