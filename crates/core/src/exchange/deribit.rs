//! Deribit v2: JSON-RPC over HTTP, each method a GET of `/api/v2/<method>?params`, signed per
//! request with `Authorization: deri-hmac-sha256 id=…,ts=…,sig=…,nonce=…`; answers
//! `{"jsonrpc":"2.0","result":…}` or `{"error":{"code":13009,"message":"unauthorized"}}`.
//! The one exchange whose keys manage their own account's keys: a key (with `account:read_write`)
//! deletes itself. When the account has security keys, such calls answer with a challenge for the
//! exchange's own 2FA code ([`ExchangeError::ExchangeCodeRequired`]).

use std::time::Duration;

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use super::adapter::{
    Adapter, Capabilities, Environments, ExchangeLimit, Limits, Paths, Profile, ScanFacts, SelfDelete, SelfDeleteRoute,
    Support,
};
use super::form::{Charset, CredentialForm, Form, Shape};
use super::request::{code_text, millis, short_message, unexpected, Call, Header, RawResponse, SignedRequest};
use super::sign::hmac_sha256;
use super::{Endpoint, ExchangeError};
use crate::model::{normalized, AccountKind, Exchange, KeyInspection, Permission};
use crate::secret::Credentials;

/// Every key of the account ("scope account:read"); the calling one found by its client_id.
const INSPECT_PATH: &str = "/api/v2/private/list_api_keys";
const TIME_PATH: &str = "/api/v2/public/get_time";
const REMOVE_PATH: &str = "/api/v2/private/remove_api_key";
/// `invalid_credentials`: about the calling key, so proof only on that key's own read.
const INVALID_CREDENTIALS: &str = "13004";

const DERIBIT: Exchange = Exchange::Deribit;

/// The Deribit adapter (reference: exchange-keys.md §8, exchanges.md §9).
pub(crate) struct Deribit;

/// `remove_api_key` needs `account:read_write`, which Latchkey reads as a withdrawal-class grant
/// (such a key can create a withdrawing key), so "holding Withdraw" here means holding
/// `account:read_write` or `wallet:read_write`; with the latter alone Deribit answers 13403 and
/// the key is kept, blocked, as still live.
const SELF_DELETE: SelfDeleteRoute = SelfDeleteRoute { path: REMOVE_PATH, needs_any: &[Permission::Withdraw] };

static PROFILE: Profile = Profile {
    exchange: DERIBIT,
    id: "deribit",
    name: "Deribit",
    form: Form {
        article: "a",
        blurb: "client ID and client secret",
        api_key: CredentialForm {
            placeholder: Some("Client ID, e.g. yqCW0cGY"),
            hint: None,
            shape: Shape::Length { min: 6, max: 32, charset: Charset::Token },
            message: "A Deribit client ID is letters and digits (usually 8).",
        },
        api_secret: CredentialForm {
            placeholder: None,
            hint: Some("The client secret Deribit showed when you created the key."),
            // Secrets seen are 43 characters of URL-safe Base64; the length is not documented.
            shape: Shape::Length { min: 40, max: 64, charset: Charset::Token },
            message: "A Deribit client secret is letters, digits, - and _ (usually 43 characters).",
        },
        passphrase: None,
    },
    environments: Environments {
        live_url: "https://www.deribit.com",
        demo_url: "https://test.deribit.com",
        demo_header: None,
        demo_lacks_key_endpoints: None,
        api_page: "https://www.deribit.com/account/BTC/api",
        api_page_demo: "https://test.deribit.com/account/BTC/api",
    },
    paths: Paths { inspect: INSPECT_PATH, server_time: TIME_PATH },
    limits: Limits {
        // Credit-based limits whose numbers are UNCONFIRMED: one call a second is far inside.
        revoke: ExchangeLimit { calls: 1, window: Duration::from_secs(1), concurrency: 2 },
        inspect_spacing: Duration::from_secs(1),
        documented: "credit-based (numbers not confirmed); Latchkey sends at most one key call a second",
    },
    capabilities: Capabilities {
        inspect: Support::Yes,
        // `private/remove_api_key` on the account's own keys, the calling one included.
        delete_self: Some(SelfDelete {
            master: Some(SELF_DELETE),
            sub: Some(SELF_DELETE),
            sub_refused:
                "Deribit lets a key delete itself only with the account:read_write scope, and this key lacks it.",
            other_refused:
                "Deribit lets a key delete itself only with the account:read_write scope, and this key lacks it.",
        }),
        // Sub-account keys through the main account: UNCONFIRMED (exchange_token), so none.
        delete_sub_key: None,
        list_sub_keys: Support::Unknown,
        create_sub_key: Support::Unknown,
        modify_sub_key_ips: Support::Unknown,
        modify_sub_key_permissions: Support::Unknown,
        grantable: None,
        // No expiry field and no rule found (UNCONFIRMED).
        expiry: None,
    },
    scan: ScanFacts {
        // "deribit" is also ccxt's id.
        names: &["DERIBIT"],
        headers: &[],
        lone_key_counts: false,
        sample: ("AAAAAAAA", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", None),
    },
    sources: &[
        "coincise:docs/deribit/authentication.md (deri-hmac-sha256), response_formats.md (scopes, security keys)",
        "coincise:docs/deribit/endpoints/private/get_list_api_keys.md, get_remove_api_key.md, post_disable_api_key.md",
        "coincise:docs/deribit/error_codes.md; https://docs.deribit.com/articles/security-keys",
    ],
    sub_keys: None,
};

impl Adapter for Deribit {
    fn profile(&self) -> &'static Profile {
        &PROFILE
    }

    fn sign(
        &self,
        _endpoint: &Endpoint,
        credentials: &Credentials,
        call: &Call,
        now: DateTime<Utc>,
        _recv_window_ms: u32,
    ) -> Result<SignedRequest, ExchangeError> {
        build(credentials, call, now)
    }

    fn interpret(&self, raw: &RawResponse) -> Result<Value, ExchangeError> {
        interpret(raw)
    }

    /// Without the caller's client ID the listing cannot say which key is the caller.
    fn parse_inspection(&self, data: &Value, demo: bool) -> Result<KeyInspection, ExchangeError> {
        let rows = data.as_array().ok_or_else(|| unexpected(DERIBIT, "list_api_keys is not a list"))?;
        match rows.as_slice() {
            [only] => inspection_of(only, demo),
            _ => Err(unexpected(DERIBIT, "list_api_keys lists several keys and the caller is not named")),
        }
    }

    fn parse_own_inspection(
        &self,
        data: &Value,
        demo: bool,
        credentials: &Credentials,
    ) -> Result<KeyInspection, ExchangeError> {
        inspection_of(own_row(data, credentials)?, demo)
    }

    fn self_delete_call(
        &self,
        path: &'static str,
        inspect_data: &Value,
        credentials: &Credentials,
    ) -> Result<Call, ExchangeError> {
        let id = code_text(&own_row(inspect_data, credentials)?["id"])
            .ok_or_else(|| unexpected(DERIBIT, "the key's row has no id"))?;
        Ok(Call::get_with(path, vec![("id", id)]))
    }

    /// `result`: the server's time in milliseconds.
    fn parse_server_time(&self, data: &Value) -> Option<i64> {
        millis(data)
    }

    fn proves_gone(&self, code: &str) -> bool {
        code == INVALID_CREDENTIALS
    }

    /// A short client ID and a URL-safe secret: not distinctive enough alone.
    fn distinctive_shape(&self, _key: &str, _secret: &str, _has_passphrase: bool) -> bool {
        false
    }

    /// The signature's nonce must not repeat for a key: reserved like Kraken's, so no two
    /// requests from the app and the CLI share one.
    fn persisted_nonce(&self) -> bool {
        true
    }
}

/// The row of the calling key in `list_api_keys`.
fn own_row<'a>(data: &'a Value, credentials: &Credentials) -> Result<&'a Value, ExchangeError> {
    let rows = data.as_array().ok_or_else(|| unexpected(DERIBIT, "list_api_keys is not a list"))?;
    // EXPOSE: the client ID is compared with the listing's, to find the calling key's row.
    let me = credentials.api_key.expose_secret();
    rows.iter()
        .find(|row| row["client_id"].as_str() == Some(me))
        .ok_or_else(|| unexpected(DERIBIT, "list_api_keys does not list the calling key"))
}

/// `max_scope`, e.g. `account:read trade:read_write wallet:none`: trading scopes grant Trade;
/// `wallet:read_write` withdrawals and transfers; `account:read_write` lets the key create keys
/// (a withdrawing one too), so it counts as withdrawal-class.
fn scopes(max_scope: &str) -> Vec<Permission> {
    let mut found = vec![Permission::Read];
    for scope in max_scope.split_whitespace() {
        match scope {
            "trade:read_write" | "block_trade:read_write" => found.push(Permission::Trade),
            "wallet:read_write" => found.extend([Permission::Withdraw, Permission::Transfer]),
            "account:read_write" => found.push(Permission::Withdraw),
            _ => {}
        }
    }
    normalized(found)
}

fn inspection_of(row: &Value, demo: bool) -> Result<KeyInspection, ExchangeError> {
    let max_scope = row["max_scope"].as_str().ok_or_else(|| unexpected(DERIBIT, "a key without max_scope"))?;
    let ip_whitelist: Vec<String> = row["ip_whitelist"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .filter(|ip| !ip.is_empty())
        .collect();
    Ok(KeyInspection {
        exchange: DERIBIT,
        permissions: scopes(max_scope),
        ip_restricted: !ip_whitelist.is_empty(),
        ip_whitelist,
        expires_at: None,
        created_at: millis(&row["timestamp"]).and_then(DateTime::from_timestamp_millis),
        // A key of the account it belongs to, main or sub: the listing does not say which.
        account_kind: AccountKind::Unknown,
        account_uid: None,
        master_uid: None,
        label: row["name"].as_str().filter(|n| !n.is_empty()).map(str::to_owned),
        demo,
    })
}

fn build(credentials: &Credentials, call: &Call, now: DateTime<Utc>) -> Result<SignedRequest, ExchangeError> {
    let nonce = call.nonce.ok_or_else(|| {
        ExchangeError::NotAvailable("Latchkey tried to sign a Deribit request without a nonce. Try again.".to_owned())
    })?;
    let query = call.form_encoded();
    let uri = if query.is_empty() { call.path.to_owned() } else { format!("{}?{query}", call.path) };
    let timestamp = now.timestamp_millis().to_string();
    let signature = deribit_sign(&credentials.api_secret, &timestamp, &nonce.to_string(), "GET", &uri, "");
    // EXPOSE: the client ID travels in the Authorization header, marked sensitive.
    let authorization = format!(
        "deri-hmac-sha256 id={},ts={timestamp},sig={signature},nonce={nonce}",
        credentials.api_key.expose_secret()
    );
    Ok(SignedRequest {
        method: reqwest::Method::GET,
        path_and_query: uri,
        headers: vec![Header::sensitive("Authorization", authorization)],
        body: None,
    })
}

/// Deribit's `sig` = hex(HMAC-SHA256(client secret, ts + "\n" + nonce + "\n" + METHOD + "\n" +
/// URI + "\n" + body + "\n")).
pub fn deribit_sign(secret: &SecretString, ts: &str, nonce: &str, method: &str, uri: &str, body: &str) -> String {
    let string_to_sign = format!("{ts}\n{nonce}\n{}\n{uri}\n{body}\n", method.to_ascii_uppercase());
    hex::encode(hmac_sha256(secret, string_to_sign.as_bytes()))
}

fn interpret(raw: &RawResponse) -> Result<Value, ExchangeError> {
    if raw.status >= 500 {
        raw.transport_checks(DERIBIT)?;
    }
    let value = match raw.json(DERIBIT) {
        Ok(value) => value,
        Err(e) => {
            raw.transport_checks(DERIBIT)?;
            return Err(e);
        }
    };
    if let Some(error) = value.get("error").filter(|e| e.is_object()) {
        let code = code_text(&error["code"]).unwrap_or_default();
        return Err(match code.as_str() {
            INVALID_CREDENTIALS => ExchangeError::InvalidKey { exchange: DERIBIT, code },
            // Also a bad signature or an expired timestamp (one code for both).
            "13009" => ExchangeError::BadSignature { exchange: DERIBIT, code },
            "13021" | "13403" => ExchangeError::PermissionDenied { exchange: DERIBIT, code },
            "10028" => ExchangeError::RateLimited { exchange: DERIBIT, retry_after: raw.retry_after },
            _ => match raw.transport_checks(DERIBIT) {
                Err(e) => e,
                Ok(()) => {
                    ExchangeError::Rejected { exchange: DERIBIT, code, message: short_message(&error["message"]) }
                }
            },
        });
    }
    let result = value.get("result").ok_or_else(|| {
        raw.transport_checks(DERIBIT)
            .err()
            .unwrap_or_else(|| unexpected(DERIBIT, format!("HTTP {} without result or error", raw.status)))
    })?;
    // The security-key challenge comes as a result: the call did not happen.
    if result["security_key_authorization_required"].as_bool() == Some(true) {
        return Err(ExchangeError::ExchangeCodeRequired {
            exchange: DERIBIT,
            challenge: result["challenge"].as_str().map(str::to_owned),
        });
    }
    Ok(result.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The documentation's example (id AMANDA, secret AMANDASECRECT, its ts and nonce); its
    /// signature is not published, so this one was computed with Python hmac and openssl.
    #[test]
    fn deribit_documented_example() {
        let secret = SecretString::from("AMANDASECRECT".to_owned());
        assert_eq!(
            deribit_sign(
                &secret,
                "1576074319000",
                "1iqt2wls",
                "GET",
                "/api/v2/private/get_account_summary?currency=BTC",
                ""
            ),
            "9bfbc51a2bc372d72cc396cf1a213dc78d42eb74cb7dc272351833ad0de276ab"
        );
        let creds = Credentials::new("AMANDA", "AMANDASECRECT", None);
        let call = Call::get_with("/api/v2/private/get_account_summary", vec![("currency", "BTC".into())]);
        let at = DateTime::from_timestamp_millis(1_576_074_319_000).unwrap();
        let signed = build(&creds, &call.with_nonce(42), at).unwrap();
        assert_eq!(signed.path_and_query, "/api/v2/private/get_account_summary?currency=BTC");
        let header = &signed.headers[0];
        assert!(header.sensitive && header.value.starts_with("deri-hmac-sha256 id=AMANDA,ts=1576074319000,sig="));
        assert!(header.value.ends_with(",nonce=42"));
        assert!(build(&creds, &call, at).is_err(), "never without a nonce");
    }

    #[test]
    fn the_calling_key_is_found_in_the_listing() {
        let data = json!([
            {"id": 1, "client_id": "other000", "max_scope": "account:read_write wallet:read_write", "ip_whitelist": []},
            {"id": 5, "client_id": "me000000", "name": "bot", "max_scope": "account:read trade:read_write wallet:none",
             "ip_whitelist": ["203.0.113.7"], "timestamp": 1_700_000_000_000_i64, "enabled": true}
        ]);
        let me = Credentials::new("me000000", "x", None);
        let inspection = Deribit.parse_own_inspection(&data, false, &me).unwrap();
        assert_eq!(inspection.permissions, vec![Permission::Read, Permission::Trade]);
        assert_eq!((inspection.ip_whitelist, inspection.label), (vec!["203.0.113.7".to_owned()], Some("bot".into())));
        let remove = Deribit.self_delete_call(REMOVE_PATH, &data, &me).unwrap();
        assert_eq!(remove.form_encoded(), "id=5");
        assert!(Deribit.parse_own_inspection(&data, false, &Credentials::new("nobody00", "x", None)).is_err());
        assert_eq!(
            scopes("account:read_write wallet:read_write"),
            vec![Permission::Read, Permission::Withdraw, Permission::Transfer]
        );
    }

    #[test]
    fn errors_and_the_security_key_challenge() {
        let answer = |status: u16, body: Value| {
            interpret(&RawResponse { status, retry_after: None, body: body.to_string().into_bytes() })
        };
        let kind = |code: i64| {
            answer(400, json!({"jsonrpc": "2.0", "error": {"code": code, "message": "x"}})).unwrap_err().kind().as_str()
        };
        assert_eq!(kind(13004), "invalid_key");
        assert_eq!(kind(13009), "bad_signature");
        assert_eq!(kind(13403), "permission_denied");
        assert_eq!(kind(10028), "rate_limited");
        assert_eq!(kind(11050), "rejected");
        let challenge = json!({"jsonrpc": "2.0", "result": {"security_key_authorization_required": true, "challenge": "c1", "rp_id": "deribit.com"}});
        let err = answer(200, challenge).unwrap_err();
        assert_eq!(err.kind(), "exchange_code_required");
        assert!(matches!(&err, ExchangeError::ExchangeCodeRequired { challenge: Some(c), .. } if c == "c1"));
        assert!(err.to_string().contains("never stores Deribit's 2FA seed"), "{err}");
        assert_eq!(answer(200, json!({"jsonrpc": "2.0", "result": "ok"})).unwrap(), json!("ok"));
    }
}
