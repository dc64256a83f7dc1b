//! Keychain and SQLite calls block (D-Bus round trips, file locks): async flows run them here.

use crate::Error;

pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> crate::Result<T> + Send + 'static,
) -> crate::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Storage { path: String::new(), detail: format!("a background task failed: {e}") })?
}
