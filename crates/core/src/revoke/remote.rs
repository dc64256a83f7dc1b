//! One key's remote revoke: find its credentials (and its master's), then call the exchange within
//! the rate limit, with a per-request timeout and retries with backoff for 5xx, 429 (honouring
//! Retry-After) and timeouts.

use std::future::Future;

use chrono::{DateTime, Utc};

use crate::exchange::{
    api_management_page, Endpoint, ExchangeError, MasterKey, ProofVerdict, RevokeOutcome, RevokeRequest,
};
use crate::model::{KeyId, KeyRecord};
use crate::secret::Credentials;

use super::machine::Ctx;
use super::steps::RemoteResult;
use super::ProgressEvent;

/// Why the remote step failed, in words for the user, with a machine kind for the UI.
#[derive(Clone, Debug)]
pub(crate) struct RemoteFailure {
    pub message: String,
    pub kind: String,
}

impl From<&ExchangeError> for RemoteFailure {
    fn from(e: &ExchangeError) -> Self {
        RemoteFailure { message: e.to_string(), kind: e.kind().as_str().to_owned() }
    }
}

/// The checklist for a key Latchkey cannot revoke through the API. Names the key by its hint only.
pub(crate) fn checklist(key: &KeyRecord, reason: &str) -> (String, Vec<String>) {
    let demo = matches!(key.environment, crate::model::Environment::Demo);
    let url = api_management_page(key.exchange, demo).to_owned();
    let steps = vec![
        reason.to_owned(),
        format!("Open {url} and sign in to {}.", key.exchange),
        format!("Find the API key {} ('{}') and delete it.", key.key_hint, key.label),
    ];
    (url, steps)
}

fn manual(key: &KeyRecord, reason: &str) -> RemoteResult {
    let (url, steps) = checklist(key, reason);
    RemoteResult::Manual { url, steps }
}

async fn credentials(ctx: &Ctx<'_>, id: KeyId) -> Result<Option<Credentials>, RemoteFailure> {
    let secrets = ctx.inner.secrets.clone();
    let got = tokio::task::spawn_blocking(move || secrets.get(id)).await;
    match got {
        Ok(Ok(c)) => Ok(c),
        Ok(Err(e)) => Err(RemoteFailure { message: e.to_string(), kind: "keychain".to_owned() }),
        Err(_) => Err(RemoteFailure {
            message: "The keychain read was interrupted. Retry.".to_owned(),
            kind: "keychain".to_owned(),
        }),
    }
}

/// `calls`: false when no API can revoke the key and nothing needs asking (the client answers
/// with the checklist without a request), so no rate limit is spent on it.
pub(crate) async fn revoke(ctx: &Ctx<'_>, key: &KeyRecord, calls: bool) -> Result<RemoteResult, RemoteFailure> {
    let Some(creds) = credentials(ctx, key.id).await? else {
        return Ok(manual(key, "Latchkey no longer holds this key's secret, so it cannot revoke it through the API."));
    };
    let endpoint = Endpoint::new(key.exchange, &key.environment).map_err(|e| RemoteFailure::from(&e))?;
    let mut master = None;
    if let Some(master_id) = key.master_key_id {
        let record = ctx
            .inner
            .store
            .get_key(master_id)
            .map_err(|e| RemoteFailure { message: e.to_string(), kind: "storage".into() })?;
        let Some(record) = record else {
            return Ok(manual(
                key,
                "Its master key is no longer in Latchkey, so it cannot be revoked through the API.",
            ));
        };
        let Some(master_creds) = credentials(ctx, master_id).await? else {
            return Ok(manual(
                key,
                &format!(
                    "The secret of its master key '{}' is gone, so it cannot be revoked through the API.",
                    record.label
                ),
            ));
        };
        let master_endpoint =
            Endpoint::new(record.exchange, &record.environment).map_err(|e| RemoteFailure::from(&e))?;
        master = Some((master_endpoint, master_creds));
    }
    let request = RevokeRequest {
        endpoint: &endpoint,
        key: &creds,
        sub_account: key.sub_account.as_deref(),
        master: master.as_ref().map(|(endpoint, credentials)| MasterKey::unattended(endpoint, credentials)),
        answered_here: answered_here(key),
    };
    if !calls {
        let outcome = ctx.inner.client.revoke(&request).await.map_err(|e| RemoteFailure::from(&e))?;
        return Ok(map_outcome(outcome));
    }
    let limiter = ctx.inner.limiter(key.exchange, key.master_key_id);
    let outcome = with_retries(ctx, key, Some(&limiter), || ctx.inner.client.revoke(&request)).await?;
    Ok(map_outcome(outcome))
}

/// Whether the key ever answered a signed call from this computer (a check that succeeded): its
/// IP was allowed here then, so Binance's -2015 on the proof read points at the key itself.
fn answered_here(key: &KeyRecord) -> bool {
    key.verified_at.is_some()
}

/// "I deleted it on the website": one signed read with the key's own credentials, in its own
/// environment. Only that exchange's invalid-key refusal proves the key gone.
pub(crate) async fn prove(ctx: &Ctx<'_>, key: &KeyRecord) -> Result<DateTime<Utc>, RemoteFailure> {
    let Some(creds) = credentials(ctx, key.id).await? else {
        return Err(RemoteFailure {
            message: format!(
                "Latchkey wiped this key's secret at your request, so it cannot prove that {} no longer knows the key. Check {}: once the key is gone there, delete it from Latchkey.",
                key.exchange,
                api_management_page(key.exchange, matches!(key.environment, crate::model::Environment::Demo))
            ),
            kind: "no_secret".to_owned(),
        });
    };
    let endpoint = Endpoint::new(key.exchange, &key.environment).map_err(|e| RemoteFailure::from(&e))?;
    let exchange = key.exchange;
    let ip_ruled_out = answered_here(key);
    match with_retries(ctx, key, None, || ctx.inner.client.prove_revoked(&endpoint, &creds, ip_ruled_out)).await? {
        ProofVerdict::Proved => Ok(ctx.now()),
        ProofVerdict::StillLive => Err(RemoteFailure::from(&ExchangeError::StillLive {
            exchange,
            reason: format!("{exchange} still answers a signed read with this key's own credentials."),
        })),
        ProofVerdict::NotProved(e) => Err(RemoteFailure::from(&ExchangeError::RevokeUnproved {
            exchange,
            reason: format!("The key's own signed read was answered with: {e}"),
        })),
    }
}

/// One exchange call within the rate limit, with a per-request timeout and retries with backoff
/// for transient failures (5xx, 429 honouring Retry-After, timeouts, network).
async fn with_retries<T, F, Fut>(
    ctx: &Ctx<'_>,
    key: &KeyRecord,
    limiter: Option<&crate::job::limits::Limiter>,
    call: F,
) -> Result<T, RemoteFailure>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, ExchangeError>>,
{
    let config = &ctx.inner.config;
    let mut attempt = 1u32;
    loop {
        if let Some(limiter) = limiter {
            limiter.acquire().await;
        }
        if attempt == 1 {
            ctx.emit(ProgressEvent::RemoteStarted { key_id: key.id });
        }
        let error = match tokio::time::timeout(config.request_timeout, call()).await {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(e)) => e,
            Err(_) => ExchangeError::Timeout { exchange: key.exchange, after: config.request_timeout },
        };
        if !error.is_transient() || attempt >= config.max_attempts {
            return Err(RemoteFailure::from(&error));
        }
        let wait = match &error {
            ExchangeError::RateLimited { retry_after: Some(after), .. } => {
                if *after > config.max_retry_after {
                    return Err(RemoteFailure::from(&error));
                }
                *after
            }
            _ => crate::job::limits::backoff(config.backoff_base, config.backoff_max, attempt),
        };
        ctx.emit(ProgressEvent::Retrying {
            key_id: key.id,
            attempt,
            wait_ms: u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
            reason: error.kind().as_str().to_owned(),
        });
        tokio::time::sleep(wait).await;
        attempt += 1;
    }
}

fn map_outcome(outcome: RevokeOutcome) -> RemoteResult {
    match outcome {
        RevokeOutcome::Revoked { method, proved_at } => {
            RemoteResult::Revoked { method: method.into(), proved_at: Some(proved_at) }
        }
        RevokeOutcome::AlreadyRevoked { proved_at } => RemoteResult::AlreadyRevoked { proved_at: Some(proved_at) },
        RevokeOutcome::Manual { url, steps } => RemoteResult::Manual { url, steps },
    }
}
