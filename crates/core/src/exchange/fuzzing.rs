//! The pure halves of the exchange clients, for the fuzz targets in `fuzz/` (feature `fuzzing`,
//! never in the app): an exchange's HTTP answer in, the typed result the client would give out.
//! Each function runs the very code [`super::ExchangeClient`] runs after the network.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::request::RawResponse;
use super::revoke::proof_verdict;
use super::{adapter, client, ExchangeError, ProofVerdict};
use crate::model::{Exchange, KeyInspection};

/// One HTTP answer as the transport hands it over.
pub struct Answer<'a> {
    pub status: u16,
    /// The parsed `Retry-After` header, if any.
    pub retry_after: Option<Duration>,
    pub body: &'a [u8],
}

impl Answer<'_> {
    fn raw(&self) -> RawResponse {
        RawResponse { status: self.status, retry_after: self.retry_after, body: self.body.to_vec() }
    }
}

/// The envelope check and error-code mapping every signed call goes through.
pub fn interpret(exchange: Exchange, answer: &Answer<'_>) -> Result<Value, ExchangeError> {
    client::interpret(exchange, &answer.raw())
}

/// What [`super::ExchangeClient::inspect`] returns for this answer.
pub fn inspect(exchange: Exchange, answer: &Answer<'_>, demo: bool) -> Result<KeyInspection, ExchangeError> {
    let data = interpret(exchange, answer)?;
    adapter(exchange).parse_inspection(&data, demo)
}

/// What a revoke's proof read (the revoked key's own signed inspection call) concludes from this
/// answer, when nothing rules out an IP refusal: only an invalid-key refusal proves the key gone.
pub fn revoke_proof(exchange: Exchange, answer: &Answer<'_>) -> ProofVerdict {
    proof_verdict(exchange, interpret(exchange, answer), false)
}

/// The exchange's clock, in Unix milliseconds, from an answer to its public time call.
pub fn server_time(exchange: Exchange, answer: &Answer<'_>) -> Result<Option<i64>, ExchangeError> {
    let value = interpret(exchange, answer)?;
    Ok(adapter(exchange).parse_server_time(&value))
}

/// A `Retry-After` header's value as the client reads it.
pub fn retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    client::parse_retry_after(value, now)
}
