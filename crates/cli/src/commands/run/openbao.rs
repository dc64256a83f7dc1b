//! Keys from OpenBao, on a headless server (`run --from openbao`): no desktop, no keychain, no
//! Latchkey database. The host signs in once with its AppRole (the response-wrapped secret-id
//! from `latchkey host add`, unwrapped once), keeps the token in memory only and renews it, reads
//! each key's current version, and then watches the versions by polling the metadata:
//!
//! - a new version reaches the child through the same `--on-rotate` choices as a local rotation;
//! - OpenBao unreachable (down, sealed, a failover): the child keeps its key, the run retries with
//!   a growing pause and says so once per change of state;
//! - the key removed (emergency revoke, `latchkey undeliver`) or the host's access taken away
//!   (permission denied, the token revoked): the run stops the child and exits non-zero.
//!
//! After every read of a new version, and every [`reads::HEARTBEAT`], the host records what it
//! runs ([`ReadRecord`]), so the desktop sees which hosts read a key and when, and a rotation can
//! wait until they moved. A record that cannot be written is said once and never stops the bot.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use latchkey_core::model::Exchange;
use latchkey_core::secret::Credentials;
use latchkey_core::servers::host_run::{backoff, MAX_BACKOFF};
use latchkey_core::servers::hosts::TOKEN_PERIOD;
use latchkey_core::servers::{
    reads, BaoClient, DeliveredKey, HostIdentity, ReadRecord, ServerError, ServerSettings, Watched,
};
use secrecy::SecretString;
use tokio::time::Instant;
use zeroize::Zeroizing;

use super::source::{copy, Change, Given, Handed, KeySource, Rotation};
use crate::error::CliError;

/// The default time between two looks at the keys' versions.
pub const DEFAULT_POLL: Duration = Duration::from_secs(2);
/// The renewal comes this far into the token's life (a third): two more tries fit before it ends.
const RENEW_AT: u32 = 3;

/// Where the host signs in and how.
pub struct SignIn {
    pub settings: ServerSettings,
    pub role_id: String,
    pub secret_id_file: PathBuf,
}

struct Key {
    label: String,
    handed: Handed,
    credentials: Credentials,
    /// The version the child holds, and when it was first read.
    held: u64,
    read_at: DateTime<Utc>,
    /// The newest version reported (moved to or declined): not reported again.
    seen: u64,
}

pub struct BaoSource {
    client: BaoClient,
    identity: HostIdentity,
    keys: Vec<Key>,
    handed: Vec<Handed>,
    poll: Duration,
    next_look: Instant,
    /// Consecutive failed looks: the pause grows with them.
    failures: u32,
    /// What is wrong right now, said once (`None`: all well).
    trouble: Option<String>,
    /// The heartbeat's own trouble, said once.
    record_trouble: Option<String>,
    next_beat: Instant,
    renew_at: Instant,
    /// When the token ends unless renewed.
    expires_at: Instant,
}

/// The wrapped secret-id, read from its file; the file is removed once the secret-id was used
/// (or found used), and kept when OpenBao could not be reached, so a restart can try again.
fn read_secret_id(path: &Path) -> Result<SecretString, CliError> {
    let text = match std::fs::read(path) {
        Ok(bytes) => Zeroizing::new(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(CliError::Failed(format!(
                "The enrolment file {} does not exist: an earlier run used and removed it (the token works once), or it was never written. Run `latchkey host add NAME --keys LABEL…` on the desktop and write the new wrapped secret-id to that file.",
                path.display()
            )))
        }
        Err(e) => return Err(CliError::Io { context: format!("Could not read the enrolment file {}", path.display()), source: e }),
    };
    let token = std::str::from_utf8(&text).map(str::trim).unwrap_or("");
    if token.is_empty() || token.contains(char::is_whitespace) {
        return Err(CliError::Usage(format!(
            "The enrolment file {} does not hold one wrapped secret-id: write only the token `latchkey host add` printed (wrappedSecretId).",
            path.display()
        )));
    }
    Ok(SecretString::from(token.to_owned()))
}

/// Removes the used enrolment file, as OpenBao Agent's `remove_secret_id_file_after_reading` does.
fn remove_used(path: &Path) {
    // systemd's credentials are read-only and go when the unit stops.
    if std::env::var_os("CREDENTIALS_DIRECTORY").is_some_and(|d| path.starts_with(d)) {
        return;
    }
    if let Err(e) = std::fs::remove_file(path) {
        // Overwritten at least, if it cannot go.
        let blanked = std::fs::write(path, b"").is_ok();
        eprintln!(
            "latchkey: could not remove the used enrolment file {} ({e}){}; it is worthless now, but remove it.",
            path.display(),
            if blanked { ", so it was emptied" } else { "" }
        );
    }
}

/// Signs in as the host: the enrolment token is used here, once, and its file removed.
pub(crate) async fn sign_in_host(sign_in: SignIn) -> Result<BaoClient, CliError> {
    let wrapped = read_secret_id(&sign_in.secret_id_file)?;
    match BaoClient::host_sign_in(sign_in.settings, &sign_in.role_id, wrapped).await {
        Ok(client) => {
            remove_used(&sign_in.secret_id_file);
            Ok(client)
        }
        Err(e @ (ServerError::EnrolmentUsed | ServerError::HostLoginRefused)) => {
            remove_used(&sign_in.secret_id_file);
            Err(CliError::Failed(e.to_string()))
        }
        // Not used yet (OpenBao unreachable, sealed): the file stays for the next try.
        Err(e) => Err(e.into()),
    }
}

fn exchange_of(label: &str, key: &DeliveredKey) -> Result<Exchange, String> {
    let named =
        key.custom_metadata.get("exchange").map(String::as_str).filter(|e| !e.is_empty()).unwrap_or(&key.exchange);
    Exchange::from_str(named).map_err(|_| {
        format!("'{label}' in OpenBao names the exchange '{named}', which this latchkey does not know: update latchkey on this server.")
    })
}

/// A reason to stop the child, for an error of a look at `label` (`None`: try again later).
fn stop_reason(e: &ServerError, label: &str, program: &str, expired: bool) -> Option<String> {
    match e {
        ServerError::NotFound { .. } => Some(format!(
            "'{label}' was removed from OpenBao (every version destroyed: an emergency revoke, or `latchkey undeliver`), so `{program}` was stopped: it must not go on with a revoked key."
        )),
        ServerError::PermissionDenied { .. } => Some(format!(
            "This host may no longer read '{label}' (OpenBao said permission denied: the host was removed, or the key taken from it, on the desktop), so `{program}` was stopped."
        )),
        ServerError::TokenRefused => Some(format!(
            "OpenBao refused this host's token ({}): run can no longer see a rotation or a revoke, so `{program}` was stopped. Enrol the host again with `latchkey host add` on the desktop.",
            if expired {
                format!("it expired while OpenBao could not be reached for longer than its {TOKEN_PERIOD} period")
            } else {
                "it was revoked: an emergency revoke, or `latchkey host remove`".to_owned()
            }
        )),
        _ => None,
    }
}

impl BaoSource {
    /// Signs in (the enrolment token is used here, once) and reads every key's current version.
    pub async fn start(sign_in: SignIn, labels: &[String], poll: Duration) -> Result<BaoSource, CliError> {
        let client = sign_in_host(sign_in).await?;
        match Self::read_keys(client, labels, poll).await {
            Ok(source) => Ok(source),
            Err((client, e)) => {
                // The token cannot be used again after this run: it goes with it.
                let _ = tokio::time::timeout(Duration::from_secs(3), client.revoke_self()).await;
                Err(e)
            }
        }
    }

    /// Renews the new token (to learn its lease) and reads every key; on failure the client
    /// comes back so its token can be revoked.
    async fn read_keys(
        client: BaoClient,
        labels: &[String],
        poll: Duration,
    ) -> Result<BaoSource, (BaoClient, CliError)> {
        let lease = match client.renew_self().await {
            // A token without a lease (not a host's: a root token) needs no renewal.
            Ok(lease) if lease.is_zero() => Duration::from_secs(365 * 86_400),
            Ok(lease) => lease,
            Err(e) => return Err((client, CliError::Failed(format!("Signed in, but {e}")))),
        };
        let identity = match client.host_identity().await {
            Ok(identity) => identity,
            Err(e) => return Err((client, e.into())),
        };
        let mut keys = Vec::new();
        for label in labels {
            let read = match client.read_version(label, None).await {
                Ok(read) => read,
                Err(ServerError::PermissionDenied { .. }) => {
                    let e = CliError::Failed(format!(
                        "This host ('{}') may not read '{label}': on the desktop, enrol it again with this key among its keys (`latchkey host add {} --keys … {label}`).",
                        identity.host, identity.host
                    ));
                    return Err((client, e));
                }
                Err(ServerError::NotFound { .. }) => {
                    let e = CliError::Failed(format!(
                        "'{label}' is not in OpenBao: deliver it from the desktop first (`latchkey deliver {label}`)."
                    ));
                    return Err((client, e));
                }
                Err(e) => return Err((client, e.into())),
            };
            let exchange = match exchange_of(label, &read) {
                Ok(x) => x,
                Err(why) => return Err((client, CliError::Failed(why))),
            };
            keys.push(Key {
                label: label.clone(),
                handed: Handed { label: label.clone(), exchange, hint: format!("version {}", read.version) },
                credentials: read.credentials,
                held: read.version,
                read_at: Utc::now(),
                seen: read.version,
            });
        }
        let now = Instant::now();
        Ok(BaoSource {
            client,
            identity,
            handed: keys.iter().map(|k| k.handed.clone()).collect(),
            keys,
            poll,
            next_look: now + poll,
            failures: 0,
            trouble: None,
            record_trouble: None,
            next_beat: now + reads::HEARTBEAT,
            renew_at: now + lease / RENEW_AT,
            expires_at: now + lease,
        })
    }

    async fn record(&mut self, index: usize) {
        let key = &self.keys[index];
        let record = ReadRecord {
            version: key.held,
            read_at: key.read_at,
            seen_at: Utc::now(),
            accessor: Some(self.identity.accessor.clone()),
        };
        match self.client.record_read(&self.identity.host, &key.label, &record).await {
            Ok(()) if self.record_trouble.take().is_some() => {
                eprintln!("latchkey: this host's reads are recorded in OpenBao again.");
            }
            Ok(()) => {}
            Err(e) => {
                let said = e.to_string();
                if self.record_trouble.as_deref() != Some(said.as_str()) {
                    eprintln!("latchkey: could not record in OpenBao that this host runs '{}' ({said}); the bot goes on, and the desktop may show it as not running.", key.label);
                    self.record_trouble = Some(said);
                }
            }
        }
    }

    /// One look: the token renewed when due, then each key's newest version.
    async fn look(&mut self, program: &str) -> Result<Option<Change<NextVersion>>, (Option<usize>, ServerError)> {
        if Instant::now() >= self.renew_at {
            let lease = self.client.renew_self().await.map_err(|e| (None, e))?;
            let now = Instant::now();
            self.renew_at = now + lease / RENEW_AT;
            self.expires_at = now + lease;
        }
        for index in 0..self.keys.len() {
            let key = &self.keys[index];
            let newest = match self.client.watch(&key.label).await.map_err(|e| (Some(index), e))? {
                Watched::Removed => {
                    return Err((Some(index), ServerError::NotFound { path: key.label.clone(), version: None }));
                }
                Watched::Live(v) => v,
            };
            if newest < key.held {
                return Ok(Some(Change::Stop(format!(
                    "Version {} of '{}', the one `{program}` ran, was destroyed in OpenBao and no newer one is there, so `{program}` was stopped.",
                    key.held, key.label
                ))));
            }
            if newest <= key.seen {
                continue;
            }
            let read = match self.client.read_version(&key.label, Some(newest)).await {
                Ok(read) => read,
                // Destroyed between the two reads: the next look sees what is left.
                Err(ServerError::NotFound { .. }) => continue,
                Err(e @ ServerError::Unexpected { .. }) => {
                    eprintln!(
                        "latchkey: version {newest} of '{}' cannot be handed over ({e}); `{program}` keeps version {}.",
                        key.label, key.held
                    );
                    self.keys[index].seen = newest;
                    continue;
                }
                Err(e) => return Err((Some(index), e)),
            };
            let exchange = match exchange_of(&key.label, &read) {
                Ok(x) if x == key.handed.exchange => x,
                Ok(x) => {
                    eprintln!(
                        "latchkey: version {newest} of '{}' is a {x} key, not {}: `{program}` keeps version {}.",
                        key.label, key.handed.exchange, key.held
                    );
                    self.keys[index].seen = newest;
                    continue;
                }
                Err(why) => {
                    eprintln!("latchkey: {why} `{program}` keeps version {}.", key.held);
                    self.keys[index].seen = newest;
                    continue;
                }
            };
            let mut credentials: Vec<Credentials> = self.keys.iter().map(|k| copy(&k.credentials)).collect();
            let next = NextVersion { version: newest, credentials: copy(&read.credentials) };
            credentials[index] = read.credentials;
            let new = Handed { label: key.label.clone(), exchange, hint: format!("version {newest}") };
            return Ok(Some(Change::Rotated(Rotation { index, new, credentials, next })));
        }
        Ok(None)
    }

    fn said_trouble(&mut self, e: &ServerError, program: &str) {
        let said = e.trouble();
        if self.trouble.as_deref() != Some(said.as_str()) {
            eprintln!(
                "latchkey: {said}: `{program}` keeps its key; trying again, less often the longer it lasts (at most {} s apart).",
                MAX_BACKOFF.max(self.poll).as_secs()
            );
            self.trouble = Some(said);
        }
    }

    fn pause(&self) -> Duration {
        backoff(self.poll, self.failures)
    }
}

/// A version the child can move to, with its credentials (kept for a later restart).
pub struct NextVersion {
    version: u64,
    credentials: Credentials,
}

impl KeySource for BaoSource {
    type Next = NextVersion;

    fn keys(&self) -> &[Handed] {
        &self.handed
    }

    async fn credentials(&mut self) -> Result<Vec<Credentials>, CliError> {
        Ok(self.keys.iter().map(|k| copy(&k.credentials)).collect())
    }

    async fn given(&mut self, _given: &Given<'_>) -> Result<(), CliError> {
        for index in 0..self.keys.len() {
            self.record(index).await;
        }
        Ok(())
    }

    async fn not_started(&mut self, _program: &str, _e: &std::io::Error) -> Result<(), CliError> {
        Ok(())
    }

    async fn next_change(&mut self, program: &str) -> Result<Option<Change<NextVersion>>, CliError> {
        tokio::time::sleep_until(self.next_look.min(self.next_beat)).await;
        let now = Instant::now();
        if now >= self.next_beat {
            self.next_beat = now + reads::HEARTBEAT;
            // While OpenBao is away the look below says so; the records wait for it.
            let records = if self.trouble.is_none() { self.keys.len() } else { 0 };
            for index in 0..records {
                self.record(index).await;
            }
        }
        if Instant::now() < self.next_look {
            return Ok(None);
        }
        let looked = self.look(program).await;
        let change = match looked {
            Ok(change) => {
                if self.trouble.take().is_some() {
                    eprintln!("latchkey: OpenBao answers again; watching the keys of `{program}`.");
                }
                self.failures = 0;
                change
            }
            Err((index, e)) => {
                let expired = Instant::now() >= self.expires_at;
                let label = index.map_or("", |i| self.keys[i].label.as_str());
                match stop_reason(&e, label, program, expired) {
                    Some(reason) => Some(Change::Stop(reason)),
                    None => {
                        self.failures = self.failures.saturating_add(1);
                        self.said_trouble(&e, program);
                        None
                    }
                }
            }
        };
        self.next_look = Instant::now() + self.pause();
        Ok(change)
    }

    async fn moved(&mut self, index: usize, next: NextVersion, _given: &Given<'_>, _how: &str) -> Result<(), CliError> {
        let key = &mut self.keys[index];
        key.held = next.version;
        key.seen = next.version;
        key.credentials = next.credentials;
        key.read_at = Utc::now();
        key.handed.hint = format!("version {}", next.version);
        self.handed[index] = key.handed.clone();
        // Recorded at once: a rotation on the desktop waits for this host to move.
        self.record(index).await;
        Ok(())
    }

    fn kept_old(&mut self, index: usize, next: NextVersion) {
        self.keys[index].seen = next.version;
    }

    async fn ended(&mut self) {
        // The token is of no use to anyone once the run ends: gone with it (a revoked or
        // unreachable server makes this a no-op, said nowhere).
        let _ = tokio::time::timeout(Duration::from_secs(3), self.client.revoke_self()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revokes_and_lost_access_stop_the_bot_and_outages_do_not() {
        let removed = ServerError::NotFound { path: "grid".into(), version: None };
        assert!(stop_reason(&removed, "grid", "bot", false).unwrap().contains("'grid' was removed from OpenBao"));
        let denied = ServerError::PermissionDenied { denied: "secret/data/latchkey/grid".into(), needed: vec![] };
        assert!(stop_reason(&denied, "grid", "bot", false).unwrap().contains("may no longer read 'grid'"));
        let revoked = stop_reason(&ServerError::TokenRefused, "", "bot", false).unwrap();
        assert!(revoked.contains("it was revoked"), "{revoked}");
        let expired = stop_reason(&ServerError::TokenRefused, "", "bot", true).unwrap();
        assert!(expired.contains("it expired while OpenBao could not be reached"), "{expired}");
        for transient in [
            ServerError::Unreachable { addr: "http://127.0.0.1:1".into(), detail: "refused".into() },
            ServerError::Sealed { addr: "http://127.0.0.1:1".into() },
            ServerError::Server { status: 502, what: "x".into(), message: "bad gateway".into() },
        ] {
            assert!(transient.is_transient() && stop_reason(&transient, "grid", "bot", false).is_none());
        }
    }

    #[test]
    fn a_missing_or_malformed_enrolment_file_says_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let missing = read_secret_id(&dir.path().join("secret-id")).unwrap_err().to_string();
        assert!(missing.contains("an earlier run used and removed it") && missing.contains("latchkey host add"));
        let two = dir.path().join("two");
        std::fs::write(&two, "s.abc s.def\n").unwrap();
        assert!(read_secret_id(&two).unwrap_err().to_string().contains("does not hold one wrapped secret-id"));
        let one = dir.path().join("one");
        std::fs::write(&one, "  s.abc\n").unwrap();
        assert_eq!(secrecy::ExposeSecret::expose_secret(&read_secret_id(&one).unwrap()), "s.abc");
        remove_used(&one);
        assert!(!one.exists(), "a used file is removed");
    }
}
