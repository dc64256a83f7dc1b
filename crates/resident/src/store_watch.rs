//! Keys, settings and bots changed by the window or the CLI: seen within seconds. SQLite's
//! `data_version` on this process's connection moves exactly when another connection commits,
//! and reading it costs no disk access (the database file's mtime would not do: in WAL mode a
//! commit writes the `-wal` file, and the main file only at a checkpoint).

use std::sync::Arc;
use std::time::Duration;

use latchkey_core::services::Services;

use crate::agent;

/// How often the resident looks: well within the minute the issue asks for, and free (no I/O).
const LOOK_EVERY: Duration = Duration::from_secs(3);

pub fn start(services: Arc<Services>, reminders: Arc<tokio::sync::Notify>, agent: agent::Resident) {
    tokio::spawn(async move {
        let mut last = None;
        loop {
            let store = services.store.clone();
            match tokio::task::spawn_blocking(move || store.data_version()).await {
                Ok(Ok(v)) => {
                    if last.is_some_and(|l| l != v) {
                        tracing::info!("the database changed in another process: reloading keys and reminders");
                        reminders.notify_one();
                        agent.start_if_bots().await;
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
