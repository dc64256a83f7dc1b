//! What `latchkey run --from openbao` needs from OpenBao besides reading keys and recording its
//! reads: keeping the host's token alive, and telling which version of a key is the one to run.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::Deserialize;

use crate::servers::{BaoClient, ServerError};

/// The longest pause between two looks while OpenBao cannot be reached.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The pause before a host's next look at OpenBao: the poll interval, doubled per failed look up
/// to [`MAX_BACKOFF`] (or the interval, if that is longer).
pub fn backoff(poll: Duration, failures: u32) -> Duration {
    if failures == 0 {
        return poll;
    }
    poll.saturating_mul(1 << failures.min(8)).min(MAX_BACKOFF.max(poll))
}

/// The newest version of a key a host can run, as its metadata says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Watched {
    /// The newest version neither deleted nor destroyed.
    Live(u64),
    /// No metadata (undelivered, emergency revoke) or no readable version left.
    Removed,
}

impl BaoClient {
    /// Renews this (periodic) token; returns how long it now lives.
    pub async fn renew_self(&self) -> Result<Duration, ServerError> {
        let what = "renewing the host's token";
        let reply = self.call(Method::POST, "auth/token/renew-self", Some(b"{}")).await?;
        if reply.status == StatusCode::FORBIDDEN {
            return Err(ServerError::TokenRefused);
        }
        if !reply.status.is_success() {
            return Err(self.refusal(&reply, what));
        }
        #[derive(Deserialize)]
        struct Auth {
            lease_duration: u64,
        }
        #[derive(Deserialize)]
        struct Renewed {
            auth: Auth,
        }
        Ok(Duration::from_secs(reply.json::<Renewed>(what)?.auth.lease_duration))
    }

    /// Revokes this token: a run that ends leaves nothing usable behind (it could not sign in
    /// with it again anyway, the token lived in its memory only).
    pub async fn revoke_self(&self) -> Result<(), ServerError> {
        let reply = self.call(Method::POST, "auth/token/revoke-self", Some(b"{}")).await?;
        if reply.status.is_success() || reply.status == StatusCode::FORBIDDEN {
            return Ok(());
        }
        Err(self.refusal(&reply, "revoking the host's token"))
    }

    /// The version of `label` a host should run now (one metadata read).
    pub async fn watch(&self, label: &str) -> Result<Watched, ServerError> {
        Ok(match self.current_version(label).await? {
            None => Watched::Removed,
            Some(v) => v.live.iter().max().map_or(Watched::Removed, |n| Watched::Live(*n)),
        })
    }
}

impl ServerError {
    /// What a host says, once, while OpenBao cannot be asked (the state, not the retry's details).
    pub fn trouble(&self) -> String {
        match self {
            ServerError::Unreachable { addr, .. } | ServerError::Timeout { addr, .. } => {
                format!("OpenBao at {addr} cannot be reached")
            }
            ServerError::Sealed { addr } => format!("OpenBao at {addr} is sealed"),
            other => format!("OpenBao did not answer as expected ({other})"),
        }
    }

    /// OpenBao could not be asked right now (down, sealed, overloaded, a failover): asking again
    /// later may work, and nothing was refused.
    pub fn is_transient(&self) -> bool {
        match self {
            ServerError::Unreachable { .. }
            | ServerError::Timeout { .. }
            | ServerError::Sealed { .. }
            | ServerError::Redirect { .. } => true,
            ServerError::Server { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pause_doubles_while_openbao_is_away_up_to_half_a_minute() {
        let poll = Duration::from_secs(2);
        let pauses: Vec<u64> = (0..7).map(|f| backoff(poll, f).as_secs()).collect();
        assert_eq!(pauses, [2, 4, 8, 16, 30, 30, 30]);
        assert_eq!(backoff(Duration::from_secs(60), 3), Duration::from_secs(60), "never shorter than the poll");
        assert_eq!(backoff(poll, u32::MAX), Duration::from_secs(30));
    }
}
