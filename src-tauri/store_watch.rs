//! Keys added or changed outside the window (the CLI, the resident's automatic rotation or a
//! notification's Snooze): the page reloads its list within seconds.
//!
//! SQLite's `data_version` on the app's connection moves exactly when another connection commits
//! (`Store::data_version`), and reading it costs no disk access. The database file's mtime would
//! not do: in WAL mode a commit writes the `-wal` file, and the main file only at a checkpoint.

use std::sync::Arc;
use std::time::Duration;

use tauri::{AppHandle, Runtime};

use crate::state::Core;

/// How often the window looks: well within the minute the issue asks for, and free (no I/O).
const LOOK_EVERY: Duration = Duration::from_secs(3);

pub fn start<R: Runtime>(app: AppHandle<R>, core: Arc<Core>) {
    tauri::async_runtime::spawn(async move {
        let mut last = None;
        loop {
            let store = core.store.clone();
            match tauri::async_runtime::spawn_blocking(move || store.data_version()).await {
                Ok(Ok(v)) => {
                    if last.is_some_and(|l| l != v) {
                        tracing::info!("the database changed in another process: reloading the key list");
                        crate::window::tell_page_keys_changed(&app);
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
