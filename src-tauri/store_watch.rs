//! Keys added or changed from the CLI while the app runs: seen within seconds, not at the
//! reminder timer's next nap (up to 15 minutes).
//!
//! SQLite's `data_version` on the app's connection moves exactly when another connection commits
//! (`Store::data_version`), and reading it costs no disk access. The database file's mtime would
//! not do: in WAL mode a commit writes the `-wal` file, and the main file only at a checkpoint.
//! A file-system watcher would add a dependency and an inotify watch for what one pragma a few
//! seconds apart answers exactly.

use std::sync::Arc;
use std::time::Duration;

use tauri::{AppHandle, Runtime};

use crate::state::Core;

/// How often the app looks: well within the minute the issue asks for, and free (no I/O).
const LOOK_EVERY: Duration = Duration::from_secs(3);

pub fn start<R: Runtime>(app: AppHandle<R>, core: Arc<Core>, reminders: Arc<tokio::sync::Notify>) {
    tauri::async_runtime::spawn(async move {
        let mut last = None;
        loop {
            let store = core.vault.clone();
            let version = tauri::async_runtime::spawn_blocking(move || store.store().data_version()).await;
            match version {
                Ok(Ok(v)) => {
                    if last.is_some_and(|l| l != v) {
                        tracing::info!("the database changed in another process: reloading keys and reminders");
                        reminders.notify_one();
                        crate::tray::tell_page_keys_changed(&app);
                    }
                    last = Some(v);
                }
                Ok(Err(e)) => tracing::warn!(error = %e, "could not read the database's change counter"),
                Err(e) => tracing::warn!(error = %e, "could not read the database's change counter"),
            }
            tokio::time::sleep(LOOK_EVERY).await;
        }
    });
}
