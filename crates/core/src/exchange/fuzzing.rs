//! The pure halves of the exchange clients, for the fuzz targets in `fuzz/` (feature `fuzzing`,
//! never in the app): an exchange's HTTP answer in, the typed result the client would give out.
//! Each function runs the very code [`super::ExchangeClient`] runs after the network.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::request::RawResponse;
use super::revoke::proof_verdict;
use super::{adapter, client, ExchangeError, ProofVerdict};
use crate::model::{CreatedSubKey, Exchange, KeyInspection, SubAccount, SubKey};

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

/// Whether an invalid-key `err` proves a key gone only once its host is known (Bybit's 10003, also
/// sent for a live key on the wrong host): such a code comes back unproved from [`revoke_proof`].
pub fn proof_needs_known_host(exchange: Exchange, err: &ExchangeError) -> bool {
    super::revoke::needs_known_host(exchange, err)
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

fn sub_key_api(exchange: Exchange) -> Result<&'static dyn super::adapter::SubKeyApi, ExchangeError> {
    adapter(exchange).sub_key_api().ok_or_else(|| ExchangeError::NotAvailable("no sub-account key API".to_owned()))
}

/// What [`super::ExchangeClient::list_sub_accounts`] returns for this answer.
pub fn sub_accounts(exchange: Exchange, answer: &Answer<'_>) -> Result<Vec<SubAccount>, ExchangeError> {
    let data = interpret(exchange, answer)?;
    sub_key_api(exchange)?.parse_sub_accounts(&data)
}

/// One page of [`super::ExchangeClient::list_sub_keys`] for this answer, and its next cursor.
pub fn sub_keys(exchange: Exchange, answer: &Answer<'_>) -> Result<(Vec<SubKey>, Option<String>), ExchangeError> {
    let data = interpret(exchange, answer)?;
    let api = sub_key_api(exchange)?;
    Ok((api.parse_sub_keys(&data)?, api.next_page(&data)))
}

/// What [`super::ExchangeClient::create_sub_key`] returns for this answer, with `passphrase` as
/// the one Latchkey sent (OKX).
pub fn created_sub_key(
    exchange: Exchange,
    answer: &Answer<'_>,
    passphrase: Option<&str>,
) -> Result<CreatedSubKey, ExchangeError> {
    let data = interpret(exchange, answer)?;
    let passphrase = passphrase.map(|p| secrecy::SecretString::from(p.to_owned()));
    sub_key_api(exchange)?.parse_created(&data, passphrase)
}

/// The signing agent's handling of one bot request for `exchange`, without the network: reading
/// the caller's key, the route, the symbols, the placeholder check, the re-signing and the
/// refusal answer. Panics when a property fails: a request re-signed with a key verifies with
/// that key at the stamped time (the agent never sends a mis-signed request), and every refusal
/// answer is JSON. `None` for an exchange the agent does not serve.
pub fn agent_request(exchange: Exchange, req: &super::agent_scheme::Incoming) -> Option<()> {
    use super::agent_scheme::{Incoming, Refusal, SigningKey};
    use secrecy::SecretString;
    let scheme = adapter(exchange).agent_scheme()?;
    let _ = scheme.caller_key(req);
    let _ = scheme.route(&req.method, &req.path);
    let _ = scheme.symbols(req);
    let _ = scheme.reduce_only(req);
    let _ = scheme.wants_demo(req);
    let (key, secret, pass) = (
        SecretString::from("lk00000000000000000000000000000000".to_owned()),
        SecretString::from("fuzz-secret".to_owned()),
        SecretString::from("Fuzz-Pass-1!".to_owned()),
    );
    let signing = SigningKey { api_key: &key, secret: &secret, passphrase: Some(&pass) };
    let now = 1_764_590_400_000;
    let _ = scheme.verify(req, &signing, now);
    if let Ok(out) = scheme.resign(req, &signing, now, false) {
        let (path, query) = out.path_and_query.split_once('?').unwrap_or((&out.path_and_query, ""));
        let mut headers: Vec<(String, String)> = req.headers.clone();
        for (name, value) in &out.headers {
            headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
            headers.push((name.to_ascii_lowercase(), value.to_string()));
        }
        let again = Incoming {
            method: req.method.clone(),
            path: path.to_owned(),
            query: query.to_owned(),
            headers,
            body: out.body.clone(),
        };
        match scheme.verify(&again, &signing, now) {
            Ok(()) | Err(Refusal::Stale(_)) => {}
            Err(e) => panic!("a request the agent re-signed does not verify with the same key: {e:?} for {again:?}"),
        }
    }
    for refusal in [
        Refusal::UnknownKey("x".into()),
        Refusal::BadSignature("\"quoted\" \u{0}".into()),
        Refusal::Stale(String::new()),
        Refusal::Forbidden(req.path.clone()),
        Refusal::KeyUnusable(req.body.clone()),
        Refusal::WrongEnvironment(req.query.clone()),
    ] {
        let answer = scheme.refusal_answer(&refusal);
        assert!(serde_json::from_str::<Value>(&answer.body).is_ok(), "refusal answers are JSON");
        assert_ne!(answer.status, 403, "never 403: CCXT retries it as DDoSProtection");
    }
    Some(())
}
