//! The signing agent's request handling (target `agent_request`). Input: one selector byte (which
//! exchange), then the method, path, query, headers (`name: value` lines) and body separated by
//! NUL bytes. Properties: see `latchkey_core::exchange::fuzzing::agent_request`.

use latchkey_core::exchange::agent_scheme::Incoming;
use latchkey_core::model::Exchange;

pub fn check(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else { return };
    let served = [Exchange::Okx, Exchange::Bybit, Exchange::Binance];
    let exchange = served[usize::from(selector) % served.len()];
    let text = String::from_utf8_lossy(rest);
    let mut parts = text.split('\0');
    let mut next = || parts.next().unwrap_or_default().to_owned();
    let (method, path, query, headers, body) = (next(), next(), next(), next(), next());
    let headers = headers
        .lines()
        .filter_map(|l| l.split_once(':').map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned())))
        .collect();
    // The listener hands over the path without its query, as HTTP separates them.
    if path.contains('?') {
        return;
    }
    let req = Incoming { method, path, query, headers, body };
    assert!(latchkey_core::exchange::fuzzing::agent_request(exchange, &req).is_some());
}
