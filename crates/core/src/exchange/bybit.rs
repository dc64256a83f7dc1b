//! Bybit v5: headers `X-BAPI-*`, answers `{"retCode":0,"retMsg":"","result":{…},"time":…}`.

mod agent;

use std::time::Duration;

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};

use super::adapter::{
    Adapter, Capabilities, DeleteMethod, Environments, ExchangeLimit, ExpiryRule, HeaderPart, IpUpdate, Limits, Paths,
    Profile, ScanFacts, SelfDelete, SelfDeleteRoute, SubKeyApi, SubKeyDelete, SubKeyFacts, Support,
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

const INSPECT_PATH: &str = "/v5/user/query-api";
const TIME_PATH: &str = "/v5/market/time";
const DELETE_SELF_PATH: &str = "/v5/user/delete-api";
const DELETE_SUB_KEY_PATH: &str = "/v5/user/delete-sub-api";
const SUB_ACCOUNTS_PATH: &str = "/v5/user/query-sub-members";
const SUB_KEYS_PATH: &str = "/v5/user/sub-apikeys";
const CREATE_SUB_KEY_PATH: &str = "/v5/user/create-sub-api";
const MODIFY_SUB_KEY_PATH: &str = "/v5/user/update-sub-api";
const FREEZE_SUB_PATH: &str = "/v5/user/frozen-sub-member";
/// "API key is invalid" (also sent for a key used on the wrong host): about the *calling* key.
/// Proof that a key is gone only on that key's own call in its own environment (`revoke::proves_gone`).
const KEY_NOT_FOUND: &str = "10003";

const BYBIT: Exchange = Exchange::Bybit;

/// The Bybit v5 adapter (reference: exchange-keys.md §2).
pub(crate) struct Bybit;

static PROFILE: Profile = Profile {
    exchange: BYBIT,
    id: "bybit",
    name: "Bybit",
    form: Form {
        article: "a",
        blurb: "API key and secret (HMAC)",
        api_key: CredentialForm {
            placeholder: Some("18 letters and digits"),
            hint: None,
            shape: Shape::Length { min: 10, max: 64, charset: Charset::Alnum },
            message: "A Bybit API key is 10 to 64 letters and digits (usually 18).",
        },
        api_secret: CredentialForm {
            placeholder: None,
            hint: Some("The secret Bybit showed once, when you created the key."),
            shape: Shape::Length { min: 20, max: 128, charset: Charset::Alnum },
            message: "A Bybit HMAC secret is 20 to 128 letters and digits (usually 36; RSA keys are not supported yet).",
        },
        passphrase: None,
    },
    environments: Environments {
        live_url: "https://api.bybit.com",
        // The testnet is a full separate environment.
        demo_url: "https://api-testnet.bybit.com",
        demo_header: None,
        demo_lacks_key_endpoints: None,
        api_page: "https://www.bybit.com/app/user/api-management",
        api_page_demo: "https://testnet.bybit.com/app/user/api-management",
    },
    paths: Paths { inspect: INSPECT_PATH, server_time: TIME_PATH },
    limits: Limits {
        // `delete-api` / `delete-sub-api`: 5/s per UID.
        revoke: ExchangeLimit { calls: 5, window: Duration::from_secs(1), concurrency: 8 },
        // query-api allows 10/s.
        inspect_spacing: Duration::from_millis(500),
        documented: "query-api 10/s; create-sub-api 1/s; update-api, update-sub-api, delete-api, delete-sub-api 5/s (per UID)",
    },
    capabilities: Capabilities {
        inspect: Support::Yes,
        // A master key with a transfer or withdrawal permission (`delete-api`), a sub key with a
        // transfer permission (`delete-sub-api`).
        delete_self: Some(SelfDelete {
            master: Some(SelfDeleteRoute {
                path: DELETE_SELF_PATH,
                needs_any: &[Permission::Transfer, Permission::Withdraw],
            }),
            sub: Some(SelfDeleteRoute { path: DELETE_SUB_KEY_PATH, needs_any: &[Permission::Transfer] }),
            sub_refused: "This sub-account key lacks the transfer permission Bybit requires for a key to delete itself. Name its master key in Latchkey to revoke it automatically.",
            other_refused: "Bybit lets a master key delete itself only when it holds a transfer or withdrawal permission, and this key holds neither.",
        }),
        // The master names the key alone (`apikey`).
        delete_sub_key: Some(SubKeyDelete {
            path: DELETE_SUB_KEY_PATH,
            method: DeleteMethod::Post,
            account: None,
            key_param: "apikey",
            passphrase_param: None,
        }),
        list_sub_keys: Support::Yes,
        create_sub_key: Support::Yes,
        modify_sub_key_ips: Support::Yes,
        modify_sub_key_permissions: Support::Yes,
        // readOnly, ContractTrade/Spot/Options/Exchange/Earn, Wallet transfers; no Withdraw for subs.
        grantable: Some(&[Permission::Read, Permission::Trade, Permission::Transfer]),
        // "No ip bound api key will be invalid after 90 days"; "invalid after 7 days once the
        // account password is changed"; query-api reports `expiredAt`.
        expiry: Some(&[
            ExpiryRule::WithoutIp { days: 90 },
            ExpiryRule::AfterPasswordChange { days: 7 },
            ExpiryRule::Reported,
        ]),
    },
    scan: ScanFacts {
        names: &["BYBIT"],
        headers: &[("X-BAPI-API-KEY", HeaderPart::Key)],
        lone_key_counts: true,
        sample: ("AAAAAAAAAAAAAAAAAA", "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB", None),
    },
    sources: &[
        "bybit-exchange/docs docs/v5/user/apikey-info.mdx (query-api)",
        "bybit-exchange/docs docs/v5/user/create-subuid-apikey.mdx, modify-sub-apikey.mdx, rm-master-apikey.mdx, rm-sub-apikey.mdx",
        "bybit-exchange/docs docs/v5/rate-limit/rate-limit.mdx, docs/v5/error.mdx, docs/v5/guide.mdx",
        "bybit-exchange/docs docs/v5/user/subuid-list.mdx, list-sub-apikeys.mdx (query-sub-members, sub-apikeys)",
    ],
    // "Use master user's api key only"; the master key needs "Account Transfer", "Subaccount
    // Transfer" or "Withdrawal".
    sub_keys: Some(SubKeyFacts {
        prerequisites: &[
            Prerequisite {
                need: Need::MasterAccount,
                missing: "Bybit lets only a master account's key manage sub-account keys, and this key belongs to a sub-account. Add a key of the master account and use that one as the master.",
                unknown: None,
            },
            Prerequisite {
                need: Need::AnyPermission(&[Permission::Transfer, Permission::Withdraw]),
                missing: "Bybit needs Account Transfer, Subaccount Transfer or Withdrawal on the master key to manage sub-account keys, and this key holds none of them. Enable Account Transfer for it on Bybit's API page (Withdrawal is not needed), then check the key again.",
                unknown: None,
            },
        ],
        sub_account_noun: "username or UID",
        // A maximum for `ips` is not documented (UNCONFIRMED).
        max_ips: None,
        max_ip_chars: None,
        // update-sub-api: "don't pass ips or pass with "*" means no bind"; readOnly defaults to 0.
        ip_update: IpUpdate::ReplacesAndOmissionUnbinds,
        no_ip_whitelist: "Bybit: a key without an IP whitelist stops working after 90 days, and 7 days after the account password changes",
        // create-sub-api 1/s (update-sub-api and delete-sub-api allow 5/s).
        writes: ExchangeLimit { calls: 1, window: Duration::from_secs(1), concurrency: 1 },
        // sub-apikeys: 10/s per UID.
        lists: ExchangeLimit { calls: 10, window: Duration::from_secs(1), concurrency: 1 },
        passphrase: None,
        lifetimes: &[],
    }),
};

impl Adapter for Bybit {
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

    fn proves_gone(&self, code: &str) -> bool {
        code == KEY_NOT_FOUND
    }

    /// Bybit answers 10003 for an unknown key and for a live key used on the wrong host (mainnet,
    /// testnet, demo) alike.
    fn gone_code_needs_known_host(&self, code: &str) -> bool {
        code == KEY_NOT_FOUND
    }

    /// Bybit's usual 18 + 36 letters and digits.
    fn distinctive_shape(&self, key: &str, secret: &str, _has_passphrase: bool) -> bool {
        let alnum = |v: &str| !v.is_empty() && v.chars().all(|c| c.is_ascii_alphanumeric());
        key.len() == 18 && secret.len() == 36 && alnum(key) && alnum(secret)
    }

    fn sub_key_api(&self) -> Option<&dyn SubKeyApi> {
        Some(self)
    }

    fn agent_scheme(&self) -> Option<&dyn AgentScheme> {
        Some(&agent::BybitAgent)
    }
}

impl SubKeyApi for Bybit {
    /// "Freeze Sub UID": `POST /v5/user/frozen-sub-member` `{"subuid", "frozen": 1}`, master keys
    /// with Account Transfer, Subaccount Transfer or Withdrawal (the same as for sub keys).
    fn lock_sub_account(&self, sub_account: &str) -> Option<Call> {
        let uid = sub_account.trim().parse::<u64>().map_or_else(|_| json!(sub_account.trim()), |n| json!(n));
        Some(Call::post_json(FREEZE_SUB_PATH, json!({"subuid": uid, "frozen": 1})))
    }

    fn list_sub_accounts(&self) -> Call {
        Call::get(SUB_ACCOUNTS_PATH)
    }

    fn parse_sub_accounts(&self, result: &Value) -> Result<Vec<SubAccount>, ExchangeError> {
        let rows =
            result["subMembers"].as_array().ok_or_else(|| unexpected(BYBIT, "query-sub-members has no subMembers"))?;
        rows.iter()
            .map(|row| {
                let uid = code_text(&row["uid"]).ok_or_else(|| unexpected(BYBIT, "a sub-account without uid"))?;
                Ok(SubAccount {
                    id: uid.clone(),
                    name: row["username"].as_str().map(str::to_owned).unwrap_or_else(|| uid.clone()),
                    uid: Some(uid),
                    frozen: row["status"].as_i64() == Some(4),
                })
            })
            .collect()
    }

    /// `limit` at most 20; `cursor` from the last page's `nextPageCursor`.
    fn list_sub_keys(&self, sub_account: &str, cursor: Option<&str>) -> Call {
        let mut params = vec![("subMemberId", sub_account.to_owned()), ("limit", "20".to_owned())];
        if let Some(cursor) = cursor {
            params.push(("cursor", cursor.to_owned()));
        }
        Call::get_with(SUB_KEYS_PATH, params)
    }

    fn next_page(&self, result: &Value) -> Option<String> {
        result["nextPageCursor"].as_str().filter(|c| !c.is_empty()).map(str::to_owned)
    }

    fn parse_sub_keys(&self, result: &Value) -> Result<Vec<SubKey>, ExchangeError> {
        let rows = result["result"].as_array().ok_or_else(|| unexpected(BYBIT, "sub-apikeys has no result list"))?;
        rows.iter()
            .map(|row| {
                let api_key =
                    row["apiKey"].as_str().ok_or_else(|| unexpected(BYBIT, "a sub-account key without apiKey"))?;
                Ok(SubKey {
                    api_key: SecretString::from(api_key.to_owned()),
                    label: row["note"].as_str().unwrap_or_default().to_owned(),
                    permissions: normalized(permissions(row)),
                    ip_whitelist: parse_ips(&row["ips"]),
                    created_at: timestamp(&row["createdAt"]),
                    id: None,
                })
            })
            .collect()
    }

    fn create_sub_key(&self, spec: &SubKeySpec, _passphrase: Option<&SecretString>) -> Call {
        // `subuid` is an integer in the documented body.
        let subuid =
            spec.sub_account.parse::<i64>().map(Value::from).unwrap_or_else(|_| spec.sub_account.clone().into());
        let mut body = serde_json::json!({
            "subuid": subuid,
            "note": spec.label,
            "readOnly": read_only_flag(&spec.settings),
            "permissions": permission_groups(),
        });
        if !spec.settings.ip_whitelist.is_empty() {
            body["ips"] = spec.settings.ip_whitelist.join(",").into();
        }
        Call::post_json(CREATE_SUB_KEY_PATH, body)
    }

    fn parse_created(&self, result: &Value, _passphrase: Option<SecretString>) -> Result<CreatedSubKey, ExchangeError> {
        let (Some(api_key), Some(secret)) = (result["apiKey"].as_str(), result["secret"].as_str()) else {
            return Err(unexpected(BYBIT, "the create answer has no apiKey or secret"));
        };
        Ok(CreatedSubKey {
            credentials: Credentials {
                api_key: SecretString::from(api_key.to_owned()),
                api_secret: SecretString::from(secret.to_owned()),
                passphrase: None,
            },
            label: result["note"].as_str().unwrap_or_default().to_owned(),
            permissions: normalized(permissions(result)),
            // The create answer does not repeat the IPs; the listing and the key's own
            // inspection show them.
            ip_whitelist: Vec::new(),
        })
    }

    /// `readOnly`, `ips` and `permissions` always: a field left out is not "unchanged" here
    /// (readOnly defaults to read-write, no ips means no binding).
    fn modify_sub_key(
        &self,
        _sub_account: &str,
        api_key: &SecretString,
        _passphrase: Option<&SecretString>,
        settings: &SubKeySettings,
    ) -> Vec<Call> {
        let ips = if settings.ip_whitelist.is_empty() { "*".to_owned() } else { settings.ip_whitelist.join(",") };
        vec![Call::post_json(
            MODIFY_SUB_KEY_PATH,
            serde_json::json!({
                // EXPOSE: the master names the sub key to modify by its API key.
                "apikey": api_key.expose_secret(),
                "readOnly": read_only_flag(settings),
                "ips": ips,
                "permissions": permission_groups(),
            }),
        )]
    }
}

fn read_only_flag(settings: &SubKeySettings) -> i64 {
    if settings.trades() {
        0
    } else {
        1
    }
}

/// The trading categories a bot key is given (read-only keys may read them): contracts and spot.
/// No Wallet entries: a bot key moves no funds.
fn permission_groups() -> Value {
    serde_json::json!({"ContractTrade": ["Order", "Position"], "Spot": ["SpotTrade"]})
}

/// `ips`: a list where `"*"` means any IP.
fn parse_ips(value: &Value) -> Vec<String> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::trim)
        .filter(|ip| *ip != "*" && !ip.is_empty())
        .map(str::to_owned)
        .collect()
}

fn build(credentials: &Credentials, call: &Call, now: DateTime<Utc>, recv_window_ms: u32) -> SignedRequest {
    let timestamp = now.timestamp_millis();
    let (path_and_query, payload, body) = if call.method == reqwest::Method::GET {
        let query = call.form_encoded();
        let path = if query.is_empty() { call.path.to_owned() } else { format!("{}?{query}", call.path) };
        (path, query, None)
    } else {
        let body = call.json_body();
        (call.path.to_owned(), body.clone(), Some(body))
    };
    let signature = bybit_sign(&credentials.api_secret, timestamp, &credentials.api_key, recv_window_ms, &payload);
    SignedRequest {
        method: call.method.clone(),
        path_and_query,
        headers: vec![
            // EXPOSE: Bybit identifies the key by this header; marked sensitive so it is never logged.
            Header::sensitive("X-BAPI-API-KEY", credentials.api_key.expose_secret()),
            Header::public("X-BAPI-TIMESTAMP", timestamp.to_string()),
            Header::public("X-BAPI-SIGN", signature),
            Header::public("X-BAPI-RECV-WINDOW", recv_window_ms.to_string()),
        ],
        body: body.map(|b| (b, "application/json")),
    }
}

fn interpret(raw: &RawResponse) -> Result<Value, ExchangeError> {
    if raw.status >= 500 {
        raw.transport_checks(BYBIT)?;
    }
    let value = match raw.json(BYBIT) {
        Ok(value) => value,
        Err(e) => {
            raw.transport_checks(BYBIT)?;
            if raw.status == 403 {
                return Err(unexpected(
                    BYBIT,
                    "HTTP 403: too many requests from this IP, or a region Bybit does not serve",
                ));
            }
            return Err(e);
        }
    };
    let code = code_text(&value["retCode"]).ok_or_else(|| {
        raw.transport_checks(BYBIT)
            .err()
            .unwrap_or_else(|| unexpected(BYBIT, format!("HTTP {} without a retCode field", raw.status)))
    })?;
    if code == "0" {
        return Ok(value["result"].clone());
    }
    Err(match code.as_str() {
        "10002" => ExchangeError::ClockSkew { exchange: BYBIT, code },
        KEY_NOT_FOUND | "10007" => ExchangeError::InvalidKey { exchange: BYBIT, code },
        "10004" => ExchangeError::BadSignature { exchange: BYBIT, code },
        "10005" => ExchangeError::PermissionDenied { exchange: BYBIT, code },
        "10006" => ExchangeError::RateLimited { exchange: BYBIT, retry_after: raw.retry_after },
        "10010" => ExchangeError::IpNotAllowed { exchange: BYBIT, code },
        "33004" | "-2015" => ExchangeError::KeyExpired { exchange: BYBIT, code },
        _ => match raw.transport_checks(BYBIT) {
            Err(e) => e,
            Ok(()) => ExchangeError::Rejected { exchange: BYBIT, code, message: short_message(&value["retMsg"]) },
        },
    })
}

/// `/v5/market/time` answers with the top-level `time` (ms) and `result.timeSecond`.
fn parse_server_time(result: &Value) -> Option<i64> {
    millis(&result["timeNano"])
        .map(|ns| ns / 1_000_000)
        .or_else(|| millis(&result["timeSecond"]).and_then(|s| s.checked_mul(1000)))
}

/// Wallet entries that move money out of the account or between accounts.
const TRANSFER_PERMISSIONS: [&str; 2] = ["AccountTransfer", "SubMemberTransfer"];

fn permissions(result: &Value) -> Vec<Permission> {
    let mut found = vec![Permission::Read];
    // A read-only key lists the categories it may read, but can change nothing.
    if result["readOnly"].as_i64() == Some(1) || result["readOnly"].as_bool() == Some(true) {
        return found;
    }
    let Some(groups) = result["permissions"].as_object() else { return found };
    for (group, entries) in groups {
        for entry in entries.as_array().into_iter().flatten().filter_map(Value::as_str) {
            match (group.as_str(), entry) {
                ("Wallet", "Withdraw") => found.push(Permission::Withdraw),
                ("Wallet", e) if TRANSFER_PERMISSIONS.contains(&e) => found.push(Permission::Transfer),
                ("Wallet", _) | ("Affiliate", _) => {}
                (_, e) if e.ends_with("History") => {}
                _ => found.push(Permission::Trade),
            }
        }
    }
    found
}

fn timestamp(value: &Value) -> Option<DateTime<Utc>> {
    let at = DateTime::parse_from_rfc3339(value.as_str()?).ok()?.with_timezone(&Utc);
    // Bybit writes the epoch for "no expiry".
    (at.timestamp() > 0).then_some(at)
}

fn parse_inspection(result: &Value, demo: bool) -> Result<KeyInspection, ExchangeError> {
    if !result.is_object() || result.get("permissions").is_none() {
        return Err(unexpected(BYBIT, "query-api returned no key information"));
    }
    // "*" is Bybit's way of saying "any IP".
    let ip_whitelist = parse_ips(&result["ips"]);
    let account_kind = match result["isMaster"].as_bool() {
        Some(true) => AccountKind::Master,
        Some(false) => AccountKind::Sub,
        None => AccountKind::Unknown,
    };
    let parent = code_text(&result["parentUid"]).filter(|p| p != "0" && !p.is_empty());
    Ok(KeyInspection {
        exchange: BYBIT,
        permissions: normalized(permissions(result)),
        ip_restricted: !ip_whitelist.is_empty(),
        ip_whitelist,
        expires_at: timestamp(&result["expiredAt"]),
        created_at: timestamp(&result["createdAt"]),
        account_kind,
        account_uid: code_text(&result["userID"]),
        master_uid: if account_kind == AccountKind::Sub { parent } else { None },
        label: result["note"].as_str().filter(|n| !n.is_empty()).map(str::to_owned),
        demo,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> SecretString {
        SecretString::from(v.to_owned())
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

    const SAMPLE: &str = r#"{"retCode":0,"retMsg":"","result":{"id":"2208369","note":"testnet","apiKey":"XXXXXXXX","readOnly":0,"secret":"",
 "permissions":{"ContractTrade":["Order","Position"],"Spot":["SpotTrade"],"Wallet":["AccountTransfer","SubMemberTransfer"],
 "Options":[],"Derivatives":["DerivativesTrade"],"Exchange":["ExchangeHistory"],"Earn":["Earn"]},
 "ips":["18.181.170.164","13.212.45.47","13.212.45.48"],"type":1,"deadlineDay":-2,"expiredAt":"1970-01-01T00:00:00Z",
 "createdAt":"2025-10-13T03:20:45Z","uta":1,"userID":1448939,"isMaster":true,"parentUid":"0","kycLevel":"LEVEL_1","kycRegion":"MYS"},
 "retExtInfo":{},"time":1776149990532}"#;

    #[test]
    fn the_documented_sample_parses() {
        let raw = RawResponse { status: 200, retry_after: None, body: SAMPLE.as_bytes().to_vec() };
        let inspection = parse_inspection(&interpret(&raw).unwrap(), false).unwrap();
        assert_eq!(inspection.permissions, vec![Permission::Read, Permission::Trade, Permission::Transfer]);
        assert_eq!(inspection.ip_whitelist.len(), 3);
        assert!(inspection.ip_restricted);
        assert_eq!(inspection.expires_at, None, "the epoch means no expiry");
        assert_eq!(inspection.created_at.map(|t| t.to_rfc3339()), Some("2025-10-13T03:20:45+00:00".to_owned()));
        assert_eq!(inspection.account_kind, AccountKind::Master);
        assert_eq!(inspection.account_uid.as_deref(), Some("1448939"));
        assert_eq!(inspection.master_uid, None);
    }

    #[test]
    fn read_only_flag_wins_and_star_means_no_whitelist() {
        let mut value: Value = serde_json::from_str(SAMPLE).unwrap();
        value["result"]["readOnly"] = 1.into();
        value["result"]["ips"] = serde_json::json!(["*"]);
        value["result"]["expiredAt"] = "2026-01-01T00:00:00Z".into();
        let inspection = parse_inspection(&value["result"], false).unwrap();
        assert_eq!(inspection.permissions, vec![Permission::Read]);
        assert!(!inspection.ip_restricted);
        assert!(inspection.expires_at.is_some());
    }

    #[test]
    fn withdraw_is_its_own_permission() {
        let result = serde_json::json!({"readOnly":0,"permissions":{"Wallet":["Withdraw"]},"ips":[],"isMaster":false,"parentUid":"77","userID":78});
        let inspection = parse_inspection(&result, false).unwrap();
        assert_eq!(inspection.permissions, vec![Permission::Read, Permission::Withdraw]);
        assert_eq!(inspection.master_uid.as_deref(), Some("77"));
    }

    #[test]
    fn blank_ip_entries_do_not_restrict_the_key() {
        // Found by fuzz/exchange_bybit: a blank entry was kept, so the key showed as IP-restricted.
        let result = serde_json::json!({"permissions":{},"ips":[" ", "*", " 1.2.3.4 "],"isMaster":true});
        let inspection = parse_inspection(&result, false).unwrap();
        assert_eq!(inspection.ip_whitelist, vec!["1.2.3.4"]);
        let result = serde_json::json!({"permissions":{},"ips":[" "],"isMaster":true});
        assert!(!parse_inspection(&result, false).unwrap().ip_restricted);
    }

    #[test]
    fn a_server_time_out_of_range_is_no_time() {
        // Found by fuzz/exchange_bybit: seconds times 1000 overflowed (a panic in debug builds, a
        // wrapped clock in release builds).
        assert_eq!(parse_server_time(&serde_json::json!({"timeSecond": "168863934232113947"})), None);
        assert_eq!(parse_server_time(&serde_json::json!({"timeSecond": "1688639403"})), Some(1_688_639_403_000));
    }
}
