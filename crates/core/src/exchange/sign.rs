//! Request signing, one pure function per exchange: the caller passes the timestamp, so the same
//! inputs always give the same signature and the exchanges' published vectors can be replayed.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

fn hmac_sha256(secret: &SecretString, message: &[u8]) -> [u8; 32] {
    // EXPOSE: the secret is the HMAC key; it goes into the MAC state and nowhere else.
    let key = secret.expose_secret().as_bytes();
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts keys of every length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// OKX's `OK-ACCESS-TIMESTAMP`: UTC ISO-8601 with milliseconds, e.g. `2020-12-08T09:08:57.715Z`.
pub fn okx_timestamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// OKX `OK-ACCESS-SIGN` = Base64(HMAC-SHA256(secret, timestamp + METHOD + requestPath + body)).
/// For GET the query string is part of `request_path` and `body` is empty.
pub fn okx_sign(secret: &SecretString, timestamp: &str, method: &str, request_path: &str, body: &str) -> String {
    let prehash = format!("{timestamp}{}{request_path}{body}", method.to_ascii_uppercase());
    base64::engine::general_purpose::STANDARD.encode(hmac_sha256(secret, prehash.as_bytes()))
}

/// Bybit `X-BAPI-SIGN` = lowercase hex(HMAC-SHA256(secret, timestamp + apiKey + recvWindow +
/// payload)), where payload is the query string for GET and the exact JSON body for POST.
pub fn bybit_sign(
    secret: &SecretString,
    timestamp_ms: i64,
    api_key: &SecretString,
    recv_window_ms: u32,
    payload: &str,
) -> String {
    // EXPOSE: the API key is part of Bybit's string to sign; the string lives only in this call.
    let prehash = format!("{timestamp_ms}{}{recv_window_ms}{payload}", api_key.expose_secret());
    hex::encode(hmac_sha256(secret, prehash.as_bytes()))
}

/// Binance `signature` = hex(HMAC-SHA256(secret, queryString + body)): the query string and the
/// form body concatenated without a separator, both already percent-encoded.
pub fn binance_sign(secret: &SecretString, query: &str, body: &str) -> String {
    let payload = format!("{query}{body}");
    hex::encode(hmac_sha256(secret, payload.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn s(v: &str) -> SecretString {
        SecretString::from(v.to_owned())
    }

    const BINANCE_SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

    #[test]
    fn binance_official_vectors() {
        let all = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";
        let expected = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71";
        assert_eq!(binance_sign(&s(BINANCE_SECRET), all, ""), expected, "as query string");
        assert_eq!(binance_sign(&s(BINANCE_SECRET), "", all), expected, "as request body");

        let mixed = binance_sign(
            &s(BINANCE_SECRET),
            "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC",
            "quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559",
        );
        assert_eq!(mixed, "0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77");

        let non_ascii = "symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";
        assert_eq!(
            binance_sign(&s(BINANCE_SECRET), non_ascii, ""),
            "e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3"
        );
    }

    #[test]
    fn binance_percent_encoding_matches_the_official_non_ascii_vector() {
        // The vector's symbol is full-width "１２３４５６"; our form encoder must produce its bytes.
        let encoded: String =
            url::form_urlencoded::Serializer::new(String::new()).append_pair("symbol", "１２３４５６").finish();
        assert_eq!(encoded, "symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96");
    }

    const OKX_SECRET: &str = "22582BD0CFF14C41EDBF1AB98506286D";

    #[test]
    fn okx_regression_vectors() {
        let ts =
            okx_timestamp(Utc.with_ymd_and_hms(2020, 12, 8, 9, 8, 57).unwrap() + chrono::Duration::milliseconds(715));
        assert_eq!(ts, "2020-12-08T09:08:57.715Z");
        let secret = s(OKX_SECRET);
        assert_eq!(
            okx_sign(&secret, &ts, "GET", "/api/v5/account/balance?ccy=BTC", ""),
            "HiZhvSfMtWJA3uUIVXV3a/bSXNPCWvYFXoGCVS8V4zY="
        );
        assert_eq!(
            okx_sign(&secret, &ts, "get", "/api/v5/account/config", ""),
            "Kr/8IrbDYujS4cg2KkmB+tO2HMUXxyayG6ZwNb4H/yA="
        );
        assert_eq!(
            okx_sign(
                &secret,
                &ts,
                "POST",
                "/api/v5/account/set-leverage",
                r#"{"instId":"BTC-USDT","lever":"5","mgnMode":"isolated"}"#
            ),
            "eCnnCgWLjlQ9XnpUkrcny3qNq3WW/81KNrDr/XR6Xv8="
        );
    }

    #[test]
    fn okx_timestamp_keeps_milliseconds_even_when_zero() {
        assert_eq!(okx_timestamp(Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap()), "2024-01-02T03:04:05.000Z");
    }

    #[test]
    fn bybit_regression_vectors() {
        let (secret, key) = (s("test-secret"), s("XXXXXXXXXX"));
        assert_eq!(
            bybit_sign(&secret, 1658384314791, &key, 5000, "category=option&symbol=BTC-29JUL22-25000-C"),
            "236d8f7132d3e4c8bad803010e296f3d07211356e54c01455b26c8229a682297"
        );
        assert_eq!(
            bybit_sign(&secret, 1658385579423, &key, 5000, r#"{"category": "option"}"#),
            "17a6bfe3e7a2aa41dffd3f16bfa0febb8b18ff79bb33de625705dc86876feffe"
        );
        assert_eq!(
            bybit_sign(&secret, 1676430842094, &key, 5000, ""),
            "c9573f616b72c69db572d2db92f2b5767db5cea14b7cbbb71704869b1875ebe0"
        );
    }
}
