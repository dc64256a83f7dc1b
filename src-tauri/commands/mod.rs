//! Thin `#[tauri::command]`s, one file per area. Each parses its input, runs core code off the main
//! thread (keychain calls block on D-Bus), and maps errors to [`crate::IpcError`].

pub mod agent;
pub mod audit;
pub mod bots;
pub mod exchange;
pub mod fix;
pub mod guard;
pub mod keychain;
pub mod keys;
pub mod mint;
pub mod orphans;
pub mod revoke;
pub mod rotation;
pub mod secrets;
pub mod servers;

use crate::IpcError;

/// Runs blocking core work on Tauri's blocking pool.
pub(crate) async fn blocking<T, F>(f: F) -> Result<T, IpcError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, IpcError> + Send + 'static,
{
    tauri::async_runtime::spawn_blocking(f).await?
}
