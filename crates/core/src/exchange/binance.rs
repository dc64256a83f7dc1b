//! Binance: header `X-MBX-APIKEY`, `timestamp`/`recvWindow`/`signature` parameters, plain JSON
//! answers on success and `{"code":-2015,"msg":"…"}` with HTTP 4xx on failure.

mod agent;

use std::time::Duration;

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use super::adapter::{
    AccountParam, Adapter, Capabilities, DeleteMethod, Environments, ExchangeLimit, HeaderPart, IpUpdate, Limits,
    Paths, Profile, ScanFacts, SubKeyApi, SubKeyDelete, SubKeyFacts, Support,
};
use super::agent_scheme::AgentScheme;
use super::form::{Charset, CredentialForm, Form, Shape};
use super::request::{code_text, millis, short_message, unexpected, Call, Header, RawResponse, SignedRequest};
use super::sign::hmac_sha256;
use super::{Endpoint, ExchangeError};
use crate::model::{
    normalized, AccountKind, CreatedSubKey, Exchange, KeyInspection, Need, Permission, Prerequisite, SubAccount,
    SubKey, SubKeySettings, SubKeySpec,
};
use crate::secret::Credentials;

const INSPECT_PATH: &str = "/sapi/v1/account/apiRestrictions";
const TIME_PATH: &str = "/api/v3/time";
/// DELETE deletes a sub key, POST creates one, GET lists a sub-account's keys.
const DELETE_SUB_KEY_PATH: &str = "/sapi/v1/sub-account/subAccountApi";
const SUB_KEYS_PATH: &str = DELETE_SUB_KEY_PATH;
const SUB_ACCOUNTS_PATH: &str = "/sapi/v1/sub-account/list";
const SUB_KEY_PERMISSION_PATH: &str = "/sapi/v1/sub-account/subAccountApiPermission";
const SUB_KEY_IPS_PATH: &str = "/sapi/v2/sub-account/subAccountApi/ipRestriction";
const SUB_KEY_IPS_REMOVE_PATH: &str = "/sapi/v1/sub-account/subAccountApi/ipRestriction/ipList";

const BINANCE: Exchange = Exchange::Binance;

/// The Binance adapter (reference: exchange-keys.md §3).
pub(crate) struct Binance;

static PROFILE: Profile = Profile {
    exchange: BINANCE,
    id: "binance",
    name: "Binance",
    form: Form {
        article: "a",
        blurb: "API key and secret key (HMAC)",
        api_key: CredentialForm {
            placeholder: Some("64 letters and digits"),
            hint: None,
            shape: Shape::Length { min: 64, max: 64, charset: Charset::Alnum },
            message: "A Binance API key is 64 letters and digits.",
        },
        api_secret: CredentialForm {
            placeholder: None,
            hint: Some("The secret key Binance showed once, when you created the key."),
            shape: Shape::Length { min: 64, max: 64, charset: Charset::Alnum },
            message: "A Binance HMAC secret key is 64 letters and digits (RSA and Ed25519 keys are not supported yet).",
        },
        passphrase: None,
    },
    environments: Environments {
        live_url: "https://api.binance.com",
        // The spot testnet answers `/api` only.
        demo_url: "https://testnet.binance.vision",
        demo_header: None,
        demo_lacks_key_endpoints: Some("Binance's spot testnet and demo mode serve only /api endpoints, not /sapi, so keys there cannot be inspected or revoked through the API. Check the key's permissions on the testnet's API page, or use a live key."),
        api_page: "https://www.binance.com/en/my/settings/api-management",
        api_page_demo: "https://testnet.binance.vision/",
    },
    paths: Paths { inspect: INSPECT_PATH, server_time: TIME_PATH },
    limits: Limits {
        // `DELETE /sapi/v1/sub-account/subAccountApi`: weight(UID) 3000; the UID budget is
        // UNCONFIRMED, so about one call per second.
        revoke: ExchangeLimit { calls: 1, window: Duration::from_secs(1), concurrency: 4 },
        // apiRestrictions: weight(IP) 1.
        inspect_spacing: Duration::from_millis(500),
        documented: "apiRestrictions weight(IP) 1; sub-account key endpoints weight(UID) 3000 each (UID budget unknown)",
    },
    capabilities: Capabilities {
        inspect: Support::Yes,
        // "Self-delete: none."
        delete_self: None,
        delete_sub_key: Some(SubKeyDelete {
            path: DELETE_SUB_KEY_PATH,
            method: DeleteMethod::Delete,
            account: Some(AccountParam { param: "email", noun: "sub-account email" }),
            key_param: "subAccountApiKey",
            passphrase_param: None,
        }),
        list_sub_keys: Support::Yes,
        create_sub_key: Support::Yes,
        modify_sub_key_ips: Support::Yes,
        modify_sub_key_permissions: Support::Yes,
        // canTrade, canMarginLoanRepay, canFuturesTrade, canVanillaOptions, canUniversalTransfer;
        // no withdraw flag.
        grantable: Some(&[Permission::Trade, Permission::Transfer]),
        // Key auto-expiry: UNCONFIRMED.
        expiry: None,
    },
    scan: ScanFacts {
        names: &["BINANCE", "BINANCEUSDM", "BINANCECOINM"],
        headers: &[("X-MBX-APIKEY", HeaderPart::Key)],
        lone_key_counts: true,
        sample: (
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB",
            None,
        ),
    },
    sources: &[
        "https://developers.binance.com/docs/wallet/account/api-key-permission (apiRestrictions)",
        "binance/binance-connector-python clients/sub_account api_management_api.py (create, modify, query, delete sub-account keys)",
        "binance/binance-spot-api-docs rest-api.md, errors.md, demo-mode/general-info.md",
        "https://binance-docs.github.io/apidocs/spot/en/#query-sub-account-list-for-master-account (sub-account list)",
    ],
    // Master account only (the SDK's api_management_api.py); create is labelled TRADE and the IP
    // endpoints "require the calling key to have Enable Spot & Margin Trading". "The caller must
    // pass the KYC IP restriction check" and the eligibility rules are UNCONFIRMED, so not listed.
    sub_keys: Some(SubKeyFacts {
        prerequisites: &[
            Prerequisite {
                need: Need::MasterAccount,
                missing: "Binance lets only a master account's key manage sub-account keys, and this key belongs to a sub-account. Add a key of the master account and use that one as the master.",
                unknown: Some("Binance does not say whether a key belongs to the master account or a sub-account; Latchkey finds out when it lists the sub-accounts (Binance refuses a sub-account's key)."),
            },
            Prerequisite {
                need: Need::AnyPermission(&[Permission::Trade]),
                missing: "Binance needs \"Enable Spot & Margin Trading\" on the master key to create sub-account keys and set their IP restrictions, and this key lacks it. Enable it for the key on Binance's API management page, then check the key again.",
                unknown: None,
            },
        ],
        sub_account_noun: "sub-account email",
        max_ips: None,
        // `ipAddress`: at most 500 characters.
        max_ip_chars: Some(500),
        // Whether ipRestriction replaces or adds to the list is not documented (UNCONFIRMED).
        ip_update: IpUpdate::AddsThenRemoves,
        no_ip_whitelist: "Binance: an unrestricted key works from any IP address (Binance documents no expiry for it)",
        // Weight(UID) 3000 each; the UID budget is UNCONFIRMED, so about one call per second.
        writes: ExchangeLimit { calls: 1, window: Duration::from_secs(1), concurrency: 1 },
        // GET subAccountApi is a sub-account key endpoint too: Weight(UID) 3000, so about 1/s.
        lists: ExchangeLimit { calls: 1, window: Duration::from_secs(1), concurrency: 1 },
        passphrase: None,
        lifetimes: &[],
    }),
};

impl Adapter for Binance {
    fn profile(&self) -> &'static Profile {
        &PROFILE
    }

    fn sign(
        &self,
        _endpoint: &Endpoint,
        credentials: &Credentials,
        call: &Call,
        now: DateTime<Utc>,
        recv_window_ms: u32,
    ) -> Result<SignedRequest, ExchangeError> {
        Ok(build(credentials, call, now, recv_window_ms))
    }

    fn interpret(&self, raw: &RawResponse) -> Result<Value, ExchangeError> {
        interpret(raw)
    }

    fn parse_inspection(&self, data: &Value, demo: bool) -> Result<KeyInspection, ExchangeError> {
        parse_inspection(data, demo)
    }

    fn parse_server_time(&self, data: &Value) -> Option<i64> {
        parse_server_time(data)
    }

    /// -2014 only: -2015 also means "IP not allowed" or "no permission" (see `revoke::proof_verdict`).
    fn proves_gone(&self, code: &str) -> bool {
        code == "-2014"
    }

    /// 64 + 64 letters and digits.
    fn distinctive_shape(&self, key: &str, secret: &str, _has_passphrase: bool) -> bool {
        let alnum = |v: &str| !v.is_empty() && v.chars().all(|c| c.is_ascii_alphanumeric());
        key.len() == 64 && secret.len() == 64 && alnum(key) && alnum(secret)
    }

    fn sub_key_api(&self) -> Option<&dyn SubKeyApi> {
        Some(self)
    }

    fn agent_scheme(&self) -> Option<&dyn AgentScheme> {
        Some(&agent::BinanceAgent)
    }
}

impl SubKeyApi for Binance {
    /// `limit` defaults to 1 (at most 200).
    fn list_sub_accounts(&self) -> Call {
        Call::get_with(SUB_ACCOUNTS_PATH, vec![("limit", "200".to_owned())])
    }

    fn parse_sub_accounts(&self, value: &Value) -> Result<Vec<SubAccount>, ExchangeError> {
        let rows = value["subAccounts"]
            .as_array()
            .ok_or_else(|| unexpected(BINANCE, "the sub-account list has no subAccounts"))?;
        rows.iter()
            .map(|row| {
                let email = row["email"].as_str().ok_or_else(|| unexpected(BINANCE, "a sub-account without email"))?;
                Ok(SubAccount {
                    id: email.to_owned(),
                    name: email.to_owned(),
                    uid: None,
                    frozen: row["isFreeze"].as_bool() == Some(true),
                })
            })
            .collect()
    }

    fn list_sub_keys(&self, sub_account: &str, _cursor: Option<&str>) -> Call {
        Call::get_with(SUB_KEYS_PATH, vec![("email", sub_account.to_owned())])
    }

    fn parse_sub_keys(&self, value: &Value) -> Result<Vec<SubKey>, ExchangeError> {
        // `rows` since SDK 7.0.0; a bare list before.
        let rows = value["rows"]
            .as_array()
            .or_else(|| value.as_array())
            .ok_or_else(|| unexpected(BINANCE, "the sub-account key list has no rows"))?;
        rows.iter()
            .map(|row| {
                let api_key =
                    row["apiKey"].as_str().ok_or_else(|| unexpected(BINANCE, "a sub-account key without apiKey"))?;
                Ok(SubKey {
                    api_key: SecretString::from(api_key.to_owned()),
                    label: row["apiName"].as_str().unwrap_or_default().to_owned(),
                    permissions: sub_key_permissions(row),
                    ip_whitelist: ip_list(&row["ipList"]),
                    created_at: millis(&row["createTime"]).and_then(DateTime::from_timestamp_millis),
                    id: None,
                })
            })
            .collect()
    }

    fn create_sub_key(&self, spec: &SubKeySpec, _passphrase: Option<&SecretString>) -> Call {
        let mut params = vec![("email", spec.sub_account.clone()), ("apiName", spec.label.clone())];
        params.extend(ip_params(&spec.settings));
        params.push(("canTrade", spec.settings.trades().to_string()));
        Call::post(SUB_KEYS_PATH, params)
    }

    fn parse_created(&self, value: &Value, _passphrase: Option<SecretString>) -> Result<CreatedSubKey, ExchangeError> {
        let (Some(api_key), Some(secret)) = (value["apiKey"].as_str(), value["secretKey"].as_str()) else {
            return Err(unexpected(BINANCE, "the create answer has no apiKey or secretKey"));
        };
        Ok(CreatedSubKey {
            credentials: Credentials {
                api_key: SecretString::from(api_key.to_owned()),
                api_secret: SecretString::from(secret.to_owned()),
                passphrase: None,
            },
            label: value["apiName"].as_str().unwrap_or_default().to_owned(),
            permissions: sub_key_permissions(value),
            ip_whitelist: ip_list(&value["ipList"]),
        })
    }

    /// The can* flags (every one, so none is left as it was), then the IP restriction.
    fn modify_sub_key(
        &self,
        sub_account: &str,
        api_key: &SecretString,
        _passphrase: Option<&SecretString>,
        settings: &SubKeySettings,
    ) -> Vec<Call> {
        // EXPOSE: the master names the sub key to modify by its API key, in a form body.
        let which =
            || vec![("email", sub_account.to_owned()), ("subAccountApiKey", api_key.expose_secret().to_owned())];
        let mut permissions = which();
        permissions.extend([
            ("canTrade", settings.trades().to_string()),
            ("canMarginLoanRepay", "false".to_owned()),
            ("canFuturesTrade", "false".to_owned()),
            ("canUniversalTransfer", "false".to_owned()),
            ("canVanillaOptions", "false".to_owned()),
        ]);
        let mut ips = which();
        ips.extend(ip_params(settings));
        vec![Call::post(SUB_KEY_PERMISSION_PATH, permissions), Call::post(SUB_KEY_IPS_PATH, ips)]
    }

    fn remove_sub_key_ips(&self, sub_account: &str, api_key: &SecretString, ips: &[String]) -> Option<Call> {
        Some(Call::delete(
            SUB_KEY_IPS_REMOVE_PATH,
            vec![
                ("email", sub_account.to_owned()),
                // EXPOSE: as in modify_sub_key.
                ("subAccountApiKey", api_key.expose_secret().to_owned()),
                ("ipAddress", ips.join(",")),
            ],
        ))
    }
}

/// `status` 1 (unrestricted) or 2 (trusted IPs, listed in `ipAddress`).
fn ip_params(settings: &SubKeySettings) -> Vec<(&'static str, String)> {
    if settings.ip_whitelist.is_empty() {
        vec![("status", "1".to_owned())]
    } else {
        vec![("status", "2".to_owned()), ("ipAddress", settings.ip_whitelist.join(","))]
    }
}

fn ip_list(value: &Value) -> Vec<String> {
    value.as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect()
}

/// A sub key's can* flags: it can always read.
fn sub_key_permissions(row: &Value) -> Vec<Permission> {
    let flag = |name: &str| row[name].as_bool() == Some(true);
    let mut permissions = vec![Permission::Read];
    if ["canTrade", "canMarginLoanRepay", "canFuturesTrade", "canVanillaOptions"].iter().any(|f| flag(f)) {
        permissions.push(Permission::Trade);
    }
    if flag("canUniversalTransfer") {
        permissions.push(Permission::Transfer);
    }
    normalized(permissions)
}

/// GET parameters travel in the query; other methods send them as a form body, which keeps
/// values such as a sub-account's API key out of URLs (and so out of proxy logs).
fn build(credentials: &Credentials, call: &Call, now: DateTime<Utc>, recv_window_ms: u32) -> SignedRequest {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in &call.params {
        form.append_pair(name, value);
    }
    form.append_pair("recvWindow", &recv_window_ms.to_string());
    form.append_pair("timestamp", &now.timestamp_millis().to_string());
    let params = form.finish();
    let signature = binance_sign(&credentials.api_secret, &params, "");
    let signed = format!("{params}&signature={signature}");
    // EXPOSE: Binance identifies the key by this header; marked sensitive so it is never logged.
    let headers = vec![Header::sensitive("X-MBX-APIKEY", credentials.api_key.expose_secret())];
    if call.method == reqwest::Method::GET {
        SignedRequest {
            method: call.method.clone(),
            path_and_query: format!("{}?{signed}", call.path),
            headers,
            body: None,
        }
    } else {
        SignedRequest {
            method: call.method.clone(),
            path_and_query: call.path.to_owned(),
            headers,
            body: Some((signed, "application/x-www-form-urlencoded")),
        }
    }
}

fn interpret(raw: &RawResponse) -> Result<Value, ExchangeError> {
    raw.transport_checks(BINANCE)?;
    let value = raw.json(BINANCE)?;
    if (200..300).contains(&raw.status) {
        return Ok(value);
    }
    let code = code_text(&value["code"])
        .ok_or_else(|| unexpected(BINANCE, format!("HTTP {} without an error code", raw.status)))?;
    Err(match code.as_str() {
        "-1002" => ExchangeError::PermissionDenied { exchange: BINANCE, code },
        "-1003" => ExchangeError::RateLimited { exchange: BINANCE, retry_after: raw.retry_after },
        "-1021" => ExchangeError::ClockSkew { exchange: BINANCE, code },
        "-1022" => ExchangeError::BadSignature { exchange: BINANCE, code },
        "-2014" => ExchangeError::InvalidKey { exchange: BINANCE, code },
        "-2015" => ExchangeError::KeyIpOrPermission { code },
        _ => ExchangeError::Rejected { exchange: BINANCE, code, message: short_message(&value["msg"]) },
    })
}

fn parse_server_time(value: &Value) -> Option<i64> {
    millis(&value["serverTime"])
}

const TRADE_FLAGS: [&str; 7] = [
    "enableSpotAndMarginTrading",
    "enableMargin",
    "enableFutures",
    "enableVanillaOptions",
    "enablePortfolioMarginTrading",
    "enableFixApiTrade",
    "enableInternalTransfer",
];

fn parse_inspection(value: &Value, demo: bool) -> Result<KeyInspection, ExchangeError> {
    let flag = |name: &str| value[name].as_bool() == Some(true);
    let Some(ip_restricted) = value["ipRestrict"].as_bool() else {
        return Err(unexpected(BINANCE, "apiRestrictions has no ipRestrict field"));
    };
    let mut permissions = Vec::new();
    if flag("enableReading") || flag("enableFixReadOnly") {
        permissions.push(Permission::Read);
    }
    // Internal transfer is listed with trading: it moves funds, but only between own accounts.
    if TRADE_FLAGS[..6].iter().any(|f| flag(f)) {
        permissions.push(Permission::Trade);
    }
    if flag("enableWithdrawals") {
        permissions.push(Permission::Withdraw);
    }
    if flag(TRADE_FLAGS[6]) || flag("permitsUniversalTransfer") {
        permissions.push(Permission::Transfer);
    }
    Ok(KeyInspection {
        exchange: BINANCE,
        permissions: normalized(permissions),
        ip_restricted,
        // Binance reports only whether IPs are restricted, not which.
        ip_whitelist: Vec::new(),
        expires_at: None,
        created_at: millis(&value["createTime"]).and_then(DateTime::from_timestamp_millis),
        account_kind: AccountKind::Unknown,
        account_uid: None,
        master_uid: None,
        label: None,
        demo,
    })
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

    #[test]
    fn the_documented_sample_parses() {
        let sample = r#"{"ipRestrict":false,"createTime":1698645219000,"enableReading":true,"enableWithdrawals":false,
 "enableInternalTransfer":false,"enableMargin":false,"enableFutures":false,"permitsUniversalTransfer":false,
 "enableVanillaOptions":false,"enableFixApiTrade":false,"enableFixReadOnly":true,
 "enableSpotAndMarginTrading":false,"enablePortfolioMarginTrading":true}"#;
        let raw = RawResponse { status: 200, retry_after: None, body: sample.as_bytes().to_vec() };
        let inspection = parse_inspection(&interpret(&raw).unwrap(), false).unwrap();
        assert_eq!(inspection.permissions, vec![Permission::Read, Permission::Trade]);
        assert!(!inspection.ip_restricted);
        assert_eq!(inspection.created_at.map(|t| t.timestamp_millis()), Some(1698645219000));
        assert_eq!(inspection.account_kind, AccountKind::Unknown);
    }

    #[test]
    fn signed_get_puts_the_signature_last_in_the_query() {
        let creds = Credentials::new(
            "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
            "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j",
            None,
        );
        let now = DateTime::from_timestamp_millis(1499827319559).unwrap();
        let call = Call {
            method: reqwest::Method::GET,
            path: "/api/v3/order",
            params: vec![
                ("symbol", "LTCBTC".into()),
                ("side", "BUY".into()),
                ("type", "LIMIT".into()),
                ("timeInForce", "GTC".into()),
                ("quantity", "1".into()),
                ("price", "0.1".into()),
            ],
            json: None,
            nonce: None,
        };
        let request = build(&creds, &call, now, 5000);
        assert_eq!(
            request.path_and_query,
            "/api/v3/order?symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559&signature=c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
        );
        let delete = build(&creds, &Call::delete(DELETE_SUB_KEY_PATH, vec![("email", "a@b.c".into())]), now, 5000);
        assert_eq!(delete.path_and_query, DELETE_SUB_KEY_PATH, "no parameters in the URL");
        let (body, content_type) = delete.body.unwrap();
        assert!(body.starts_with("email=a%40b.c&recvWindow=5000&timestamp=1499827319559&signature="), "{body}");
        assert_eq!(content_type, "application/x-www-form-urlencoded");
    }
}
