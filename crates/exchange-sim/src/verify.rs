//! What every exchange's checks share: the request as received, and HMAC-SHA256. Written from the
//! exchanges' documentation, not from Latchkey's client.

use std::net::IpAddr;

use axum::http::{HeaderMap, Method};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::seed::SimKey;

pub(crate) struct Req {
    pub method: Method,
    pub path: String,
    /// The raw query string, exactly as sent (without `?`).
    pub query: String,
    pub headers: HeaderMap,
    pub body: String,
    pub peer: IpAddr,
    pub now: DateTime<Utc>,
}

impl Req {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).filter(|v| !v.is_empty())
    }

    pub fn now_ms(&self) -> i64 {
        self.now.timestamp_millis()
    }
}

pub(crate) fn hmac_sha256(secret: &str, message: &str) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(message.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// A key bound to IPs answers only to those; an unbound key to anyone.
pub(crate) fn ip_allowed(key: &SimKey, peer: IpAddr) -> bool {
    key.ips.is_empty() || key.ips.iter().any(|ip| ip.parse::<IpAddr>().ok() == Some(peer))
}
