//! The exchange-neutral request and response shapes between the signers and the HTTP transport.

use std::time::Duration;

use reqwest::Method;
use serde_json::Value;

use super::ExchangeError;
use crate::model::Exchange;

/// An API call before signing: method, path and its parameters (sent as query, JSON or form body
/// as the exchange wants).
#[derive(Clone)]
pub(crate) struct Call {
    pub method: Method,
    pub path: &'static str,
    pub params: Vec<(&'static str, String)>,
    /// A JSON body with numbers and objects (Bybit's `create-sub-api`), sent instead of `params`.
    pub json: Option<Value>,
    /// The nonce the client reserved for this call, for exchanges whose nonce must grow across
    /// every process using the key ([`super::adapter::Adapter::persisted_nonce`]); `None` elsewhere.
    pub nonce: Option<u64>,
}

impl Call {
    pub fn get(path: &'static str) -> Self {
        Call::get_with(path, Vec::new())
    }

    pub fn get_with(path: &'static str, params: Vec<(&'static str, String)>) -> Self {
        Call { method: Method::GET, path, params, json: None, nonce: None }
    }

    pub fn post(path: &'static str, params: Vec<(&'static str, String)>) -> Self {
        Call { method: Method::POST, path, params, json: None, nonce: None }
    }

    pub fn post_json(path: &'static str, body: Value) -> Self {
        Call { method: Method::POST, path, params: Vec::new(), json: Some(body), nonce: None }
    }

    pub fn delete(path: &'static str, params: Vec<(&'static str, String)>) -> Self {
        Call { method: Method::DELETE, path, params, json: None, nonce: None }
    }

    /// The same call carrying `nonce`.
    pub fn with_nonce(&self, nonce: u64) -> Self {
        Call { nonce: Some(nonce), ..self.clone() }
    }

    pub fn form_encoded(&self) -> String {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in &self.params {
            form.append_pair(name, value);
        }
        form.finish()
    }

    /// The JSON object body OKX and Bybit sign byte for byte; `{}` when there are no parameters.
    pub fn json_body(&self) -> String {
        if let Some(body) = &self.json {
            return body.to_string();
        }
        let object: serde_json::Map<String, Value> =
            self.params.iter().map(|(k, v)| ((*k).to_owned(), Value::String(v.clone()))).collect();
        Value::Object(object).to_string()
    }
}

pub(crate) struct Header {
    pub name: &'static str,
    pub value: String,
    /// Hidden from reqwest's and hyper's debug output (API key, passphrase).
    pub sensitive: bool,
}

impl Header {
    pub fn public(name: &'static str, value: impl Into<String>) -> Self {
        Header { name, value: value.into(), sensitive: false }
    }

    pub fn sensitive(name: &'static str, value: impl Into<String>) -> Self {
        Header { name, value: value.into(), sensitive: true }
    }
}

/// A request ready to send. No `Debug`: its headers hold credentials.
pub(crate) struct SignedRequest {
    pub method: Method,
    /// Path and query only; the transport prefixes the endpoint's base URL.
    pub path_and_query: String,
    pub headers: Vec<Header>,
    pub body: Option<(String, &'static str)>,
}

impl SignedRequest {
    pub fn public_get(path: &str) -> Self {
        SignedRequest { method: Method::GET, path_and_query: path.to_owned(), headers: Vec::new(), body: None }
    }
}

pub(crate) struct RawResponse {
    pub status: u16,
    pub retry_after: Option<Duration>,
    pub body: Vec<u8>,
}

impl RawResponse {
    /// The checks every exchange shares: 5xx means the exchange is down, 429/418 rate limiting.
    pub fn transport_checks(&self, exchange: Exchange) -> Result<(), ExchangeError> {
        match self.status {
            500..=599 => Err(ExchangeError::ExchangeDown { exchange, status: self.status }),
            429 | 418 => Err(ExchangeError::RateLimited { exchange, retry_after: self.retry_after }),
            _ => Ok(()),
        }
    }

    pub fn json(&self, exchange: Exchange) -> Result<Value, ExchangeError> {
        serde_json::from_slice(&self.body).map_err(|_| ExchangeError::UnexpectedResponse {
            exchange,
            detail: format!("HTTP {} with a body that is not JSON", self.status),
        })
    }
}

/// The exchange's error text, shortened: it goes into messages shown to the user.
pub(crate) fn short_message(value: &Value) -> String {
    let text = value.as_str().unwrap_or_default();
    text.chars().take(160).collect()
}

/// Codes arrive as strings (OKX) or numbers (Bybit, Binance); compare them as text.
pub(crate) fn code_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub(crate) fn unexpected(exchange: Exchange, detail: impl Into<String>) -> ExchangeError {
    ExchangeError::UnexpectedResponse { exchange, detail: detail.into() }
}

/// Milliseconds since the epoch from a JSON string or number.
pub(crate) fn millis(value: &Value) -> Option<i64> {
    match value {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
}
