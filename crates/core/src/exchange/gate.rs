//! Gate (gate.io API v4): headers `KEY`, `Timestamp` (seconds), `SIGN` (hex HMAC-SHA512 over
//! method, path, query, the body's SHA-512 and the timestamp); plain JSON answers on success,
//! `{"label":"INVALID_KEY","message":"…"}` with HTTP 4xx on failure, 204 for a delete.
//!
//! The sub-account key paths carry the sub-account's user ID and the key
//! (`/sub_accounts/{user_id}/keys/{key}`): a call names them as parameters and the signer puts them
//! into the path, so the shared request shapes stay as they are.

use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use sha2::{Digest, Sha512};

use super::adapter::{
    AccountParam, Adapter, Capabilities, DeleteMethod, Environments, ExchangeLimit, IpUpdate, Limits, Paths, Profile,
    ScanFacts, SubKeyApi, SubKeyDelete, SubKeyFacts, Support,
};
use super::form::{Charset, CredentialForm, Form, Shape};
use super::request::{code_text, short_message, unexpected, Call, Header, RawResponse, SignedRequest};
use super::{Endpoint, ExchangeError};
use crate::model::{
    normalized, AccountKind, CreatedSubKey, Exchange, KeyInspection, Need, Permission, Prerequisite, SubAccount,
    SubKey, SubKeySettings, SubKeySpec,
};
use crate::secret::Credentials;

const INSPECT_PATH: &str = "/api/v4/account/detail";
const TIME_PATH: &str = "/api/v4/spot/time";
const SUB_ACCOUNTS_PATH: &str = "/api/v4/sub_accounts";
/// GET lists a sub-account's keys, POST creates one.
const SUB_KEYS_PATH: &str = "/api/v4/sub_accounts/{user_id}/keys";
/// PUT modifies a sub key, DELETE deletes it.
const SUB_KEY_PATH: &str = "/api/v4/sub_accounts/{user_id}/keys/{key}";
/// POST locks a whole sub-account (204); `/unlock` undoes it.
const LOCK_PATH: &str = "/api/v4/sub_accounts/{user_id}/lock";
/// "Invalid API key": about the *calling* key, so proof only on that key's own read.
const INVALID_KEY: &str = "INVALID_KEY";
/// The groups a bot key gets: spot (and margin) and perpetual futures.
const BOT_GROUPS: [&str; 2] = ["spot", "futures"];

const GATE: Exchange = Exchange::Gate;

/// The Gate adapter (reference: exchange-keys.md §6).
pub(crate) struct Gate;

static PROFILE: Profile = Profile {
    exchange: GATE,
    id: "gate",
    name: "Gate",
    form: Form {
        article: "a",
        blurb: "API key and secret (APIv4)",
        api_key: CredentialForm {
            placeholder: Some("32 hex digits"),
            hint: None,
            shape: Shape::Length { min: 32, max: 32, charset: Charset::Hex },
            message: "A Gate APIv4 key is 32 hex digits.",
        },
        api_secret: CredentialForm {
            placeholder: None,
            hint: Some("The 64-character secret Gate showed once, when you created the key."),
            shape: Shape::Length { min: 64, max: 64, charset: Charset::Hex },
            message: "A Gate APIv4 secret is 64 hex digits.",
        },
        passphrase: None,
    },
    environments: Environments {
        // The API's base is `…/api/v4`; the paths here carry that prefix, as the signature does.
        live_url: "https://api.gateio.ws",
        // TestNet, `https://api-testnet.gateapi.io/api/v4`, with TestNet keys of its own (futures
        // oriented; whether it serves the sub-account key endpoints is UNCONFIRMED).
        demo_url: "https://api-testnet.gateapi.io",
        demo_header: None,
        demo_lacks_key_endpoints: None,
        api_page: "https://www.gate.io/myaccount/apiv4keys",
        // TestNet keys are made on the same APIv4 keys page (a page of their own: UNCONFIRMED).
        api_page_demo: "https://www.gate.io/myaccount/apiv4keys",
    },
    paths: Paths { inspect: INSPECT_PATH, server_time: TIME_PATH },
    limits: Limits {
        // Sub-account private endpoints: 80 requests per 10 s per endpoint per UID.
        revoke: ExchangeLimit { calls: 8, window: Duration::from_secs(1), concurrency: 4 },
        // account/detail's own limit is not stated (UNCONFIRMED): well under the others.
        inspect_spacing: Duration::from_millis(1000),
        documented: "sub-account endpoints 80 requests per 10 s per endpoint per UID; account/detail: not stated",
    },
    capabilities: Capabilities {
        // The IP whitelist and the account, not the permissions (see `reports_permissions`).
        inspect: Support::Yes,
        // "Self / main keys: none via API."
        delete_self: None,
        // DELETE /sub_accounts/{user_id}/keys/{key} → 204.
        delete_sub_key: Some(SubKeyDelete {
            path: SUB_KEY_PATH,
            method: DeleteMethod::Delete,
            account: Some(AccountParam { param: "user_id", noun: "sub-account user ID" }),
            key_param: "key",
            passphrase_param: None,
        }),
        list_sub_keys: Support::Yes,
        create_sub_key: Support::Yes,
        modify_sub_key_ips: Support::Yes,
        modify_sub_key_permissions: Support::Yes,
        // perms: wallet, spot, futures, delivery, earn, options, account, loan, margin, unified,
        // copy; withdrawal is not among them.
        grantable: Some(&[Permission::Read, Permission::Trade, Permission::Transfer]),
        // Key expiry: UNCONFIRMED.
        expiry: None,
    },
    scan: ScanFacts {
        names: &["GATE", "GATEIO"],
        // A header called `KEY` is too common to count as Gate's.
        headers: &[],
        lone_key_counts: false,
        sample: (
            "0123456789abcdef0123456789abcdef",
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            None,
        ),
    },
    sources: &[
        "coincise:docs/gateio/authentication.md (signing, official vectors, TestNet, 20 keys per account)",
        "gateio/gateapi-python docs/AccountDetail.md, docs/SubAccountApi.md, docs/SubAccountKey.md, docs/SubAccountKeyPerms.md; gate_api/api_client.py gen_sign",
        "coincise:docs/gateio/error_codes.md, rate_limits.md, endpoints/private/post_sub_accounts_user_id_keys.md",
    ],
    // The calling permission for the sub-account key endpoints is not spelled out (UNCONFIRMED),
    // and account/detail says neither the key's permissions nor whether it is the master's.
    sub_keys: Some(SubKeyFacts {
        prerequisites: &[Prerequisite {
            need: Need::MasterAccount,
            missing: "Gate lets only a key of the main account manage sub-account keys, and this key belongs to a sub-account. Add a key of the main account and use that one as the master.",
            unknown: Some("Gate does not say whether a key belongs to the main account or a sub-account, nor which permissions it holds; Latchkey finds out when it lists the sub-accounts (Gate refuses a key that may not)."),
        }],
        sub_account_noun: "sub-account user ID",
        // "at most 20 IPs" per key.
        max_ips: Some(20),
        max_ip_chars: None,
        // "list will be cleared if no value is passed": Latchkey always sends the whole list.
        ip_update: IpUpdate::ReplacesAndOmissionUnbinds,
        no_ip_whitelist: "Gate: a key without an IP whitelist works from any IP address (Gate documents no expiry for it)",
        // 80 per 10 s per endpoint.
        writes: ExchangeLimit { calls: 4, window: Duration::from_secs(1), concurrency: 1 },
        lists: ExchangeLimit { calls: 4, window: Duration::from_secs(1), concurrency: 1 },
        passphrase: None,
        lifetimes: &[],
    }),
};

impl Adapter for Gate {
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
        Ok(build(credentials, call, now))
    }

    fn interpret(&self, raw: &RawResponse) -> Result<Value, ExchangeError> {
        interpret(raw)
    }

    fn parse_inspection(&self, data: &Value, demo: bool) -> Result<KeyInspection, ExchangeError> {
        parse_inspection(data, demo)
    }

    /// `/spot/time`: `server_time` in milliseconds.
    fn parse_server_time(&self, data: &Value) -> Option<i64> {
        data["server_time"].as_i64()
    }

    fn proves_gone(&self, code: &str) -> bool {
        code == INVALID_KEY
    }

    /// 32 + 64 hex digits, without a passphrase.
    fn distinctive_shape(&self, key: &str, secret: &str, has_passphrase: bool) -> bool {
        !has_passphrase && key.len() == 32 && secret.len() == 64
    }

    fn sub_key_api(&self) -> Option<&dyn SubKeyApi> {
        Some(self)
    }

    /// `account/detail` reports the IP whitelist and the key's mode, not its permissions.
    fn reports_permissions(&self) -> bool {
        false
    }
}

impl SubKeyApi for Gate {
    /// "Lock the sub-account": `POST /sub_accounts/{user_id}/lock`, 204.
    fn lock_sub_account(&self, sub_account: &str) -> Option<Call> {
        Some(Call::post(LOCK_PATH, vec![("user_id", sub_account.to_owned())]))
    }

    /// `type=0`: every kind of sub-account (regular and cross-margin).
    fn list_sub_accounts(&self) -> Call {
        Call::get_with(SUB_ACCOUNTS_PATH, vec![("type", "0".to_owned())])
    }

    fn parse_sub_accounts(&self, data: &Value) -> Result<Vec<SubAccount>, ExchangeError> {
        let rows = data.as_array().ok_or_else(|| unexpected(GATE, "the sub-account list is not a list"))?;
        rows.iter()
            .map(|row| {
                let uid =
                    code_text(&row["user_id"]).ok_or_else(|| unexpected(GATE, "a sub-account without user_id"))?;
                Ok(SubAccount {
                    id: uid.clone(),
                    name: row["login_name"].as_str().map(str::to_owned).unwrap_or_else(|| uid.clone()),
                    uid: Some(uid),
                    // state: 1 normal, 2 locked.
                    frozen: row["state"].as_i64() == Some(2),
                })
            })
            .collect()
    }

    fn list_sub_keys(&self, sub_account: &str, _cursor: Option<&str>) -> Call {
        Call::get_with(SUB_KEYS_PATH, vec![("user_id", sub_account.to_owned())])
    }

    fn parse_sub_keys(&self, data: &Value) -> Result<Vec<SubKey>, ExchangeError> {
        let rows = data.as_array().ok_or_else(|| unexpected(GATE, "the sub-account key list is not a list"))?;
        rows.iter()
            .map(|row| {
                let api_key = row["key"].as_str().ok_or_else(|| unexpected(GATE, "a sub-account key without key"))?;
                Ok(SubKey {
                    api_key: SecretString::from(api_key.to_owned()),
                    label: row["name"].as_str().unwrap_or_default().to_owned(),
                    permissions: parse_perms(&row["perms"]),
                    ip_whitelist: parse_ips(&row["ip_whitelist"]),
                    created_at: seconds(&row["created_at"]),
                    id: None,
                })
            })
            .collect()
    }

    fn create_sub_key(&self, spec: &SubKeySpec, _passphrase: Option<&SecretString>) -> Call {
        let mut body = key_body(&spec.settings);
        body["mode"] = 1.into();
        body["name"] = spec.label.clone().into();
        Call { json: Some(body), ..Call::post(SUB_KEYS_PATH, vec![("user_id", spec.sub_account.clone())]) }
    }

    fn parse_created(&self, data: &Value, _passphrase: Option<SecretString>) -> Result<CreatedSubKey, ExchangeError> {
        let (Some(api_key), Some(secret)) = (data["key"].as_str(), data["secret"].as_str()) else {
            return Err(unexpected(GATE, "the create answer has no key or secret"));
        };
        Ok(CreatedSubKey {
            credentials: Credentials {
                api_key: SecretString::from(api_key.to_owned()),
                api_secret: SecretString::from(secret.to_owned()),
                passphrase: None,
            },
            label: data["name"].as_str().unwrap_or_default().to_owned(),
            permissions: parse_perms(&data["perms"]),
            ip_whitelist: parse_ips(&data["ip_whitelist"]),
        })
    }

    /// PUT with `perms` and `ip_whitelist` always: "list will be cleared if no value is passed".
    /// `name` is left out (whether that clears it is UNCONFIRMED; Latchkey finds keys it made by
    /// their API key after the create).
    fn modify_sub_key(
        &self,
        sub_account: &str,
        api_key: &SecretString,
        _passphrase: Option<&SecretString>,
        settings: &SubKeySettings,
    ) -> Vec<Call> {
        let params = vec![
            ("user_id", sub_account.to_owned()),
            // EXPOSE: Gate names the sub key in the path of the master's call.
            ("key", api_key.expose_secret().to_owned()),
        ];
        vec![Call {
            method: reqwest::Method::PUT,
            path: SUB_KEY_PATH,
            params,
            json: Some(key_body(settings)),
            nonce: None,
        }]
    }
}

/// `perms` for a bot key, read-only unless it trades, and the whole IP whitelist.
fn key_body(settings: &SubKeySettings) -> Value {
    let read_only = !settings.trades();
    let perms: Vec<Value> =
        BOT_GROUPS.iter().map(|name| serde_json::json!({"name": name, "read_only": read_only})).collect();
    serde_json::json!({"perms": perms, "ip_whitelist": settings.ip_whitelist})
}

/// `perms[{name, read_only}]`: any group can read; a writable `wallet` moves funds between
/// accounts; `withdraw` (its own group on the main keys) withdraws; any other writable group
/// trades (an unknown one too: never less than it is).
fn parse_perms(value: &Value) -> Vec<Permission> {
    let mut permissions = Vec::new();
    for perm in value.as_array().into_iter().flatten() {
        let name = perm["name"].as_str().unwrap_or_default().to_ascii_lowercase();
        permissions.push(Permission::Read);
        if perm["read_only"].as_bool() == Some(true) {
            continue;
        }
        permissions.push(match name.as_str() {
            "wallet" => Permission::Transfer,
            "withdraw" | "withdrawal" => Permission::Withdraw,
            _ => Permission::Trade,
        });
    }
    normalized(permissions)
}

fn parse_ips(value: &Value) -> Vec<String> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::trim)
        .filter(|ip| !ip.is_empty())
        .map(str::to_owned)
        .collect()
}

fn seconds(value: &Value) -> Option<DateTime<Utc>> {
    value.as_i64().filter(|s| *s > 0).and_then(|s| DateTime::from_timestamp(s, 0))
}

fn parse_inspection(data: &Value, demo: bool) -> Result<KeyInspection, ExchangeError> {
    if !data.is_object() || data.get("user_id").is_none() {
        return Err(unexpected(GATE, "account/detail has no user_id"));
    }
    let ip_whitelist = parse_ips(&data["ip_whitelist"]);
    Ok(KeyInspection {
        exchange: GATE,
        // Not reported: unknown, never "read-only" (`reports_permissions`).
        permissions: Vec::new(),
        ip_restricted: !ip_whitelist.is_empty(),
        ip_whitelist,
        expires_at: None,
        created_at: None,
        // Neither a main/sub flag nor the main account's ID.
        account_kind: AccountKind::Unknown,
        account_uid: code_text(&data["user_id"]),
        master_uid: None,
        label: None,
        demo,
    })
}

/// The call's path with its `{name}` parameters filled in (each percent-encoded), and the
/// parameters left for the query or body.
fn fill_path(call: &Call) -> (String, Vec<(&'static str, String)>) {
    let mut path = call.path.to_owned();
    let mut rest = Vec::new();
    for (name, value) in &call.params {
        let slot = format!("{{{name}}}");
        if path.contains(&slot) {
            let encoded: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
            path = path.replace(&slot, &encoded);
        } else {
            rest.push((*name, value.clone()));
        }
    }
    (path, rest)
}

fn build(credentials: &Credentials, call: &Call, now: DateTime<Utc>) -> SignedRequest {
    let (path, rest) = fill_path(call);
    let has_body = matches!(call.method, reqwest::Method::POST | reqwest::Method::PUT);
    let (query, signed_query, body) = if has_body {
        let body = call.json.as_ref().map(Value::to_string).unwrap_or_else(|| {
            Value::Object(rest.iter().map(|(k, v)| ((*k).to_owned(), Value::String(v.clone()))).collect()).to_string()
        });
        (String::new(), String::new(), Some(body))
    } else {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in &rest {
            form.append_pair(name, value);
        }
        // The official SDK signs the query decoded (`unquote_plus(urlencode(query))`).
        let raw = rest.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
        (form.finish(), raw, None)
    };
    let timestamp = now.timestamp().to_string();
    let signature = gate_sign(
        &credentials.api_secret,
        call.method.as_str(),
        &path,
        &signed_query,
        body.as_deref().unwrap_or(""),
        &timestamp,
    );
    SignedRequest {
        method: call.method.clone(),
        path_and_query: if query.is_empty() { path } else { format!("{path}?{query}") },
        headers: vec![
            // EXPOSE: Gate identifies the key by this header; marked sensitive so it is never logged.
            Header::sensitive("KEY", credentials.api_key.expose_secret()),
            Header::public("Timestamp", timestamp),
            Header::public("SIGN", signature),
        ],
        body: body.map(|b| (b, "application/json")),
    }
}

fn interpret(raw: &RawResponse) -> Result<Value, ExchangeError> {
    if raw.status >= 500 {
        raw.transport_checks(GATE)?;
    }
    // A delete answers 204 No Content.
    if (200..300).contains(&raw.status) && raw.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    let value = match raw.json(GATE) {
        Ok(value) => value,
        Err(e) => {
            raw.transport_checks(GATE)?;
            return Err(e);
        }
    };
    if (200..300).contains(&raw.status) {
        return Ok(value);
    }
    let Some(label) = value["label"].as_str().map(str::to_owned) else {
        return Err(raw
            .transport_checks(GATE)
            .err()
            .unwrap_or_else(|| unexpected(GATE, format!("HTTP {} without an error label", raw.status))));
    };
    let code = label.clone();
    Err(match label.as_str() {
        INVALID_KEY | "INVALID_CREDENTIALS" => ExchangeError::InvalidKey { exchange: GATE, code },
        "INVALID_SIGNATURE" => ExchangeError::BadSignature { exchange: GATE, code },
        "REQUEST_EXPIRED" => ExchangeError::ClockSkew { exchange: GATE, code },
        "IP_FORBIDDEN" => ExchangeError::IpNotAllowed { exchange: GATE, code },
        "READ_ONLY" | "FORBIDDEN" => ExchangeError::PermissionDenied { exchange: GATE, code },
        "ACCOUNT_LOCKED" => ExchangeError::KeyFrozen { exchange: GATE, code },
        "TOO_MANY_REQUESTS" => ExchangeError::RateLimited { exchange: GATE, retry_after: raw.retry_after },
        _ => match raw.transport_checks(GATE) {
            Err(e) => e,
            Ok(()) => ExchangeError::Rejected { exchange: GATE, code, message: short_message(&value["message"]) },
        },
    })
}

/// Gate APIv4 `SIGN` = hex(HMAC-SHA512(secret, METHOD\npath\nquery\nhex(SHA512(body))\ntimestamp)),
/// `path` with its `/api/v4` prefix, `query` without the `?`, the timestamp in seconds.
pub fn gate_sign(secret: &SecretString, method: &str, path: &str, query: &str, body: &str, timestamp: &str) -> String {
    let body_hash = hex::encode(Sha512::digest(body.as_bytes()));
    let prehash = format!("{}\n{path}\n{query}\n{body_hash}\n{timestamp}", method.to_ascii_uppercase());
    // EXPOSE: the secret is the HMAC key; it goes into the MAC state and nowhere else.
    let mut mac =
        Hmac::<Sha512>::new_from_slice(secret.expose_secret().as_bytes()).expect("HMAC accepts keys of every length");
    mac.update(prehash.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> SecretString {
        SecretString::from(v.to_owned())
    }

    /// Gate's own published examples (key `key`, secret `secret`, timestamp 1541993715).
    #[test]
    fn gate_official_vectors() {
        assert_eq!(
            gate_sign(&s("secret"), "GET", "/api/v4/futures/orders", "contract=BTC_USD&status=finished&limit=50", "", "1541993715"),
            "55f84ea195d6fe57ce62464daaa7c3c02fa9d1dde954e4c898289c9a2407a3d6fb3faf24deff16790d726b66ac9f74526668b13bd01029199cc4fcc522418b8a"
        );
        assert_eq!(
            gate_sign(
                &s("secret"),
                "POST",
                "/api/v4/futures/orders",
                "",
                r#"{"contract":"BTC_USD","type":"limit","size":100,"price":6800,"time_in_force":"gtc"}"#,
                "1541993715"
            ),
            "eae42da914a590ddf727473aff25fc87d50b64783941061f47a3fdb92742541fc4c2c14017581b4199a1418d54471c269c03a38d788d802e2c306c37636389f0"
        );
    }

    #[test]
    fn path_parameters_go_into_the_path_and_the_signature() {
        let creds = Credentials::new("0123456789abcdef0123456789abcdef", "secret", None);
        let now = DateTime::from_timestamp(1541993715, 0).unwrap();
        let delete = SubKeyDelete {
            path: SUB_KEY_PATH,
            method: DeleteMethod::Delete,
            account: None,
            key_param: "key",
            passphrase_param: None,
        };
        let call = delete.call(vec![("user_id", "10003".into()), ("key", "abc".into())]);
        let request = build(&creds, &call, now);
        assert_eq!(request.path_and_query, "/api/v4/sub_accounts/10003/keys/abc");
        let sign = request.headers.iter().find(|h| h.name == "SIGN").unwrap();
        assert_eq!(
            sign.value,
            gate_sign(&creds.api_secret, "DELETE", "/api/v4/sub_accounts/10003/keys/abc", "", "", "1541993715")
        );
        let list = build(&creds, &Gate.list_sub_accounts(), now);
        assert_eq!(list.path_and_query, "/api/v4/sub_accounts?type=0");
        let modify = Gate.modify_sub_key(
            "10003",
            &s("abc"),
            None,
            &SubKeySettings { permissions: vec![Permission::Read], ip_whitelist: vec![] },
        );
        let put = build(&creds, &modify[0], now);
        assert_eq!(
            (put.method, put.path_and_query.as_str()),
            (reqwest::Method::PUT, "/api/v4/sub_accounts/10003/keys/abc")
        );
        let body: Value = serde_json::from_str(&put.body.unwrap().0).unwrap();
        assert_eq!(body["ip_whitelist"], serde_json::json!([]), "always sent, even empty");
        assert_eq!(body["perms"][0], serde_json::json!({"name": "spot", "read_only": true}));
    }

    #[test]
    fn the_documented_detail_parses_without_permissions() {
        let sample = r#"{"user_id":1667201533,"ip_whitelist":["127.0.0.1"],"currency_pairs":["USDT_BTC"],"key":{"mode":1},"tier":2,"copy_trading_role":1}"#;
        let raw = RawResponse { status: 200, retry_after: None, body: sample.as_bytes().to_vec() };
        let inspection = parse_inspection(&interpret(&raw).unwrap(), false).unwrap();
        assert_eq!(inspection.ip_whitelist, vec!["127.0.0.1"]);
        assert_eq!(inspection.account_uid.as_deref(), Some("1667201533"));
        assert!(inspection.permissions.is_empty() && !inspection.permissions_known());
        assert!(!inspection.is_read_only(), "unknown permissions are not read-only");
    }

    #[test]
    fn labels_map_to_their_kinds_and_a_delete_answers_204() {
        let kind = |status: u16, label: &str| {
            let body = format!(r#"{{"label":"{label}","message":"x"}}"#);
            interpret(&RawResponse { status, retry_after: None, body: body.into_bytes() }).unwrap_err().kind()
        };
        assert_eq!(kind(401, "INVALID_KEY"), "invalid_key");
        assert_eq!(kind(401, "INVALID_SIGNATURE"), "bad_signature");
        assert_eq!(kind(401, "REQUEST_EXPIRED"), "clock_skew");
        assert_eq!(kind(403, "IP_FORBIDDEN"), "ip_not_allowed");
        assert_eq!(kind(403, "READ_ONLY"), "permission_denied");
        assert_eq!(kind(403, "FORBIDDEN"), "permission_denied");
        assert_eq!(kind(403, "ACCOUNT_LOCKED"), "key_frozen");
        assert_eq!(kind(429, "TOO_MANY_REQUESTS"), "rate_limited");
        assert_eq!(kind(400, "SUB_ACCOUNT_NOT_FOUND"), "rejected");
        assert!(Gate.proves_gone("INVALID_KEY") && !Gate.proves_gone("INVALID_CREDENTIALS"));
        let empty = RawResponse { status: 204, retry_after: None, body: Vec::new() };
        assert_eq!(interpret(&empty).unwrap(), Value::Null);
        let perms = serde_json::json!([{"name":"spot","read_only":false},{"name":"wallet","read_only":true}]);
        assert_eq!(parse_perms(&perms), vec![Permission::Read, Permission::Trade]);
    }
}
