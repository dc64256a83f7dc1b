//! A rotation's hand-over to the servers, shared by the guided and the automatic rotation: the
//! new key goes to OpenBao as the next version of the old key's path, then the rotation waits
//! (within its grace period) until every running host read it, so the old key is retired only
//! once no bot on a server needs it. The old versions are destroyed after the retire.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::model::KeyId;
use crate::servers::{HostsHandover, ServerError, Servers};

/// How often the wait looks at the hosts' read records (a host reads within its own poll).
const HOSTS_POLL: Duration = Duration::from_millis(500);
/// How often a failed forward is tried again within the grace period.
const FORWARD_RETRY: Duration = Duration::from_secs(5);

/// `None`: the old key was not delivered (or no server is set up). An error: the new key could
/// not reach the server within `grace`; the old key must stay, for the bots there still use it.
pub async fn hand_over(
    servers: &Servers,
    old: KeyId,
    new: KeyId,
    label: &str,
    grace: Duration,
    now: impl Fn() -> DateTime<Utc>,
) -> Result<Option<HostsHandover>, ServerError> {
    let started = tokio::time::Instant::now();
    let version = loop {
        match servers.forward(old, new, now()).await {
            Ok(Some(version)) => break version,
            Ok(None) => return Ok(None),
            Err(e) if retryable(&e) && started.elapsed() + FORWARD_RETRY < grace => {
                tracing::warn!(error = %e, "OpenBao did not take the rotated key yet; trying again");
                tokio::time::sleep(FORWARD_RETRY).await;
            }
            Err(e) => return Err(e),
        }
    };
    let left = grace.saturating_sub(started.elapsed());
    servers.wait_hosts_moved(label, version, left, HOSTS_POLL, now).await.map(Some)
}

/// The server may answer later: unreachable, slow, sealed, or a 5xx.
fn retryable(e: &ServerError) -> bool {
    matches!(e, ServerError::Unreachable { .. } | ServerError::Timeout { .. } | ServerError::Sealed { .. })
        || matches!(e, ServerError::Server { status, .. } if *status >= 500)
}
