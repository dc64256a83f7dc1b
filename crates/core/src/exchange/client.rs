//! The HTTP client: one reqwest client with a timeout, the per-endpoint clock offset learned from
//! the exchange's server time, and the two retries the exchanges ask for (clock skew, Retry-After).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::{HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use serde_json::Value;

use super::nonce::{self, MemoryNonces, NonceSource};
use super::request::{Call, RawResponse, SignedRequest};
use super::{adapter, Endpoint, ExchangeError};
use crate::model::{Exchange, KeyInspection};
use crate::secret::Credentials;

/// The source of "now". Injected so tests can run with a skewed clock; signing itself is pure.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// For the whole request, connect to last body byte.
    pub timeout: Duration,
    /// A rate-limited request is retried once after the exchange's Retry-After if that wait is at
    /// most this long; a longer wait is returned to the caller as `RateLimited`.
    pub max_retry_after: Duration,
    /// Bybit's `X-BAPI-RECV-WINDOW` and Binance's `recvWindow`.
    pub recv_window_ms: u32,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig { timeout: Duration::from_secs(10), max_retry_after: Duration::from_secs(5), recv_window_ms: 5000 }
    }
}

/// The largest exchange answer Latchkey reads (1 MiB).
pub const MAX_ANSWER_BYTES: usize = 1024 * 1024;

pub struct ExchangeClient {
    http: reqwest::Client,
    config: ClientConfig,
    clock: Arc<dyn Clock>,
    /// Exchange time minus our clock, per endpoint, learned after a clock-skew answer.
    offsets: Mutex<HashMap<(Exchange, String), chrono::Duration>>,
    /// Where nonces that must grow across processes are reserved, once attached
    /// ([`ExchangeClient::persist_nonces_in`]); `memory` until then.
    nonces: OnceLock<Arc<dyn NonceSource>>,
    memory: MemoryNonces,
}

impl ExchangeClient {
    pub fn new(config: ClientConfig, clock: Arc<dyn Clock>) -> Result<Self, ExchangeError> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            // A redirect would resend signed headers to another host.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("latchkey/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                ExchangeError::NotAvailable(format!(
                    "Latchkey could not start its HTTPS client ({}). Restart the app.",
                    e.without_url()
                ))
            })?;
        Ok(ExchangeClient {
            http,
            config,
            clock,
            offsets: Mutex::new(HashMap::new()),
            nonces: OnceLock::new(),
            memory: MemoryNonces::default(),
        })
    }

    /// Reserves the nonces of the exchanges that count them per key for good (Kraken) in `source`
    /// from now on: the store the app and the CLI share, so neither ever reuses the other's.
    pub fn persist_nonces_in(&self, source: Arc<dyn NonceSource>) {
        let _ = self.nonces.set(source);
    }

    fn reserve_nonce(
        &self,
        exchange: Exchange,
        credentials: &Credentials,
        now: DateTime<Utc>,
    ) -> Result<u64, ExchangeError> {
        let source: &dyn NonceSource = match self.nonces.get() {
            Some(source) => source.as_ref(),
            None => &self.memory,
        };
        let floor = u64::try_from(now.timestamp_millis()).unwrap_or_default();
        source.reserve_nonce(&nonce::scope(exchange, &credentials.api_key), floor).map_err(|e| {
            ExchangeError::NotAvailable(format!(
                "Latchkey could not reserve the next nonce for this {exchange} key in its database ({e}), so nothing was sent. Try again."
            ))
        })
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// "Now" by the injected clock: when a revoke was proved, for example.
    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Reads the calling key's permissions, IP whitelist, expiry and account from the exchange.
    pub async fn inspect(
        &self,
        endpoint: &Endpoint,
        credentials: &Credentials,
    ) -> Result<KeyInspection, ExchangeError> {
        endpoint.require_key_endpoints()?;
        let exchange = adapter(endpoint.exchange);
        let data = self.signed(endpoint, credentials, &Call::get(exchange.profile().paths.inspect)).await?;
        exchange.parse_own_inspection(&data, endpoint.demo, credentials)
    }

    /// The exchange's clock (a public, unsigned call).
    pub async fn server_time(&self, endpoint: &Endpoint) -> Result<DateTime<Utc>, ExchangeError> {
        let exchange = endpoint.exchange;
        let raw = self.send(endpoint, SignedRequest::public_get(exchange.profile().paths.server_time)).await?;
        let value = interpret(exchange, &raw)?;
        let ms = adapter(exchange).parse_server_time(&value);
        ms.and_then(DateTime::from_timestamp_millis).ok_or_else(|| ExchangeError::UnexpectedResponse {
            exchange,
            detail: "the server time answer has no timestamp".to_owned(),
        })
    }

    /// How far the exchange's clock is ahead of ours, as last measured (zero until a skew answer).
    pub fn clock_offset(&self, endpoint: &Endpoint) -> chrono::Duration {
        let offsets = self.offsets.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        offsets.get(&offset_key(endpoint)).copied().unwrap_or_default()
    }

    /// Signs and sends one call. A clock-skew answer makes us fetch the server time, correct the
    /// offset and retry once; a short Retry-After is waited out and retried once; a refused nonce
    /// (another request with this key got there first) is retried once with a new one.
    pub(crate) async fn signed(
        &self,
        endpoint: &Endpoint,
        credentials: &Credentials,
        call: &Call,
    ) -> Result<Value, ExchangeError> {
        let exchange = adapter(endpoint.exchange);
        let (mut synced, mut waited, mut renonced) = (false, false, false);
        loop {
            let now = self.clock.now() + self.clock_offset(endpoint);
            // Each attempt gets a fresh nonce: one that reached the exchange is used up.
            let nonced;
            let call = if exchange.persisted_nonce() {
                nonced = call.with_nonce(self.reserve_nonce(endpoint.exchange, credentials, now)?);
                &nonced
            } else {
                call
            };
            let request = exchange.sign(endpoint, credentials, call, now, self.config.recv_window_ms)?;
            let outcome = match self.send(endpoint, request).await {
                Ok(raw) => interpret(endpoint.exchange, &raw),
                Err(e) => Err(e),
            };
            match outcome {
                Err(ExchangeError::ClockSkew { .. }) if !synced => {
                    synced = true;
                    self.sync_clock(endpoint).await?;
                }
                Err(ExchangeError::InvalidNonce { .. }) if !renonced => renonced = true,
                Err(ExchangeError::RateLimited { retry_after: Some(wait), .. })
                    if !waited && wait <= self.config.max_retry_after =>
                {
                    waited = true;
                    tokio::time::sleep(wait).await;
                }
                other => return other,
            }
        }
    }

    async fn sync_clock(&self, endpoint: &Endpoint) -> Result<(), ExchangeError> {
        let before = self.clock.now();
        let server = self.server_time(endpoint).await?;
        let after = self.clock.now();
        // The server read its clock about halfway through the round trip.
        let local = before + (after - before) / 2;
        let mut offsets = self.offsets.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        offsets.insert(offset_key(endpoint), server - local);
        Ok(())
    }

    async fn send(&self, endpoint: &Endpoint, request: SignedRequest) -> Result<RawResponse, ExchangeError> {
        let exchange = endpoint.exchange;
        let mut builder = self.http.request(request.method, endpoint.url(&request.path_and_query));
        for header in request.headers {
            let mut value = HeaderValue::from_str(&header.value).map_err(|_| {
                ExchangeError::NotAvailable(format!(
                    "A credential for {exchange} contains characters that cannot be sent in an HTTP header. Check the key, secret and passphrase for typos."
                ))
            })?;
            value.set_sensitive(header.sensitive);
            builder = builder.header(header.name, value);
        }
        if let Some((body, content_type)) = request.body {
            builder = builder.header(CONTENT_TYPE, content_type).body(body);
        }
        let response = builder.send().await.map_err(|e| self.transport_error(exchange, e))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, self.clock.now()));
        let body = self.read_capped(exchange, response).await?;
        Ok(RawResponse { status, retry_after, body })
    }

    /// The body, read chunk by chunk and given up on past [`MAX_ANSWER_BYTES`]: no exchange answer
    /// Latchkey reads comes near it, and a bigger one (a broken proxy, a hostile custom URL) must
    /// neither fill memory nor reach the JSON parser. The declared length is not trusted either.
    async fn read_capped(&self, exchange: Exchange, mut response: reqwest::Response) -> Result<Vec<u8>, ExchangeError> {
        let too_big = || ExchangeError::UnexpectedResponse {
            exchange,
            detail: format!("an answer larger than {} KiB, not read", MAX_ANSWER_BYTES / 1024),
        };
        if response.content_length().is_some_and(|n| n > MAX_ANSWER_BYTES as u64) {
            return Err(too_big());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.transport_error(exchange, e))? {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(too_big());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    fn transport_error(&self, exchange: Exchange, error: reqwest::Error) -> ExchangeError {
        if error.is_timeout() {
            ExchangeError::Timeout { exchange, after: self.config.timeout }
        } else if error.is_connect() {
            ExchangeError::Network { exchange, detail: "the connection failed".to_owned() }
        } else {
            // without_url: the URL carries Binance's signature.
            ExchangeError::Network { exchange, detail: error.without_url().to_string() }
        }
    }
}

fn offset_key(endpoint: &Endpoint) -> (Exchange, String) {
    (endpoint.exchange, endpoint.base_url.clone())
}

pub(crate) fn interpret(exchange: Exchange, raw: &RawResponse) -> Result<Value, ExchangeError> {
    adapter(exchange).interpret(raw)
}

/// `Retry-After` is either delay-seconds or an HTTP date (RFC 9110 §10.2.3).
pub(crate) fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = DateTime::parse_from_rfc2822(value).ok()?.with_timezone(&Utc);
    Some((at - now).to_std().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn retry_after_in_both_forms() {
        let now = Utc.with_ymd_and_hms(2015, 10, 21, 7, 28, 0).unwrap();
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now), Some(Duration::from_secs(30)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now),
            Some(Duration::ZERO),
            "a past date means now"
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
