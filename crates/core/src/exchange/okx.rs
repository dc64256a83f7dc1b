//! OKX v5: headers `OK-ACCESS-*`, JSON answers `{"code":"0","msg":"","data":[…]}`.

use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use serde_json::Value;

use super::request::{code_text, millis, short_message, unexpected, Call, Header, RawResponse, SignedRequest};
use super::sign::{okx_sign, okx_timestamp};
use super::{Endpoint, ExchangeError};
use crate::model::{normalized, AccountKind, Exchange, KeyInspection, Permission};
use crate::secret::Credentials;

pub(crate) const INSPECT_PATH: &str = "/api/v5/account/config";
pub(crate) const TIME_PATH: &str = "/api/v5/public/time";
pub(crate) const DELETE_SUB_KEY_PATH: &str = "/api/v5/users/subaccount/delete-apikey";
/// "API key doesn't exist": about the *calling* key. Proof that a key is gone only when that key
/// itself signed the call (`revoke::proves_gone`), never on a master-signed delete.
pub(crate) const KEY_NOT_FOUND: &str = "50119";

const OKX: Exchange = Exchange::Okx;

pub(crate) fn build(
    endpoint: &Endpoint,
    credentials: &Credentials,
    call: &Call,
    now: DateTime<Utc>,
) -> Result<SignedRequest, ExchangeError> {
    let passphrase = credentials.passphrase.as_ref().ok_or(ExchangeError::MissingPassphrase)?;
    let query = call.form_encoded();
    let (request_path, body) = if call.method == reqwest::Method::GET {
        let path = if query.is_empty() { call.path.to_owned() } else { format!("{}?{query}", call.path) };
        (path, None)
    } else {
        (call.path.to_owned(), Some(call.json_body()))
    };
    let timestamp = okx_timestamp(now);
    let signature = okx_sign(
        &credentials.api_secret,
        &timestamp,
        call.method.as_str(),
        &request_path,
        body.as_deref().unwrap_or(""),
    );
    let mut headers = vec![
        // EXPOSE: OKX identifies the key by this header; marked sensitive so it is never logged.
        Header::sensitive("OK-ACCESS-KEY", credentials.api_key.expose_secret()),
        Header::public("OK-ACCESS-SIGN", signature),
        Header::public("OK-ACCESS-TIMESTAMP", timestamp),
        // EXPOSE: OKX wants the passphrase as typed, in a header; marked sensitive.
        Header::sensitive("OK-ACCESS-PASSPHRASE", passphrase.expose_secret()),
    ];
    if endpoint.simulated_trading {
        headers.push(Header::public("x-simulated-trading", "1"));
    }
    Ok(SignedRequest {
        method: call.method.clone(),
        path_and_query: request_path,
        headers,
        body: body.map(|b| (b, "application/json")),
    })
}

pub(crate) fn interpret(raw: &RawResponse) -> Result<Value, ExchangeError> {
    if raw.status >= 500 {
        raw.transport_checks(OKX)?;
    }
    let value = match raw.json(OKX) {
        Ok(value) => value,
        Err(e) => {
            raw.transport_checks(OKX)?;
            return Err(e);
        }
    };
    let code = code_text(&value["code"]).ok_or_else(|| {
        raw.transport_checks(OKX)
            .err()
            .unwrap_or_else(|| unexpected(OKX, format!("HTTP {} without a code field", raw.status)))
    })?;
    if code == "0" {
        return Ok(value["data"].clone());
    }
    Err(error_for(code, short_message(&value["msg"]), raw))
}

fn error_for(code: String, message: String, raw: &RawResponse) -> ExchangeError {
    match code.as_str() {
        "50100" => ExchangeError::KeyFrozen { exchange: OKX, code },
        "50101" => ExchangeError::WrongEnvironment { exchange: OKX, code },
        "50102" => ExchangeError::ClockSkew { exchange: OKX, code },
        "50105" => ExchangeError::WrongPassphrase { code },
        "50110" => ExchangeError::IpNotAllowed { exchange: OKX, code },
        "50111" | "50114" | KEY_NOT_FOUND => ExchangeError::InvalidKey { exchange: OKX, code },
        "50113" => ExchangeError::BadSignature { exchange: OKX, code },
        "50120" | "50030" => ExchangeError::PermissionDenied { exchange: OKX, code },
        "50035" => ExchangeError::IpBindingRequired { code },
        "50011" => ExchangeError::RateLimited { exchange: OKX, retry_after: raw.retry_after },
        "50038" => ExchangeError::NotAvailable(
            "OKX says this feature is unavailable in demo trading (50038). Do it on OKX's live API page instead."
                .to_owned(),
        ),
        _ => match raw.transport_checks(OKX) {
            Err(e) => e,
            Ok(()) => ExchangeError::Rejected { exchange: OKX, code, message },
        },
    }
}

pub(crate) fn parse_server_time(data: &Value) -> Option<i64> {
    millis(&data[0]["ts"])
}

pub(crate) fn parse_inspection(data: &Value, demo: bool) -> Result<KeyInspection, ExchangeError> {
    let config =
        data.get(0).filter(|c| c.is_object()).ok_or_else(|| unexpected(OKX, "account/config returned no data"))?;
    let text = |field: &str| config[field].as_str().map(str::to_owned);
    let perm = config["perm"].as_str().ok_or_else(|| unexpected(OKX, "account/config has no perm field"))?;
    let permissions = perm
        .split(',')
        .filter_map(|p| match p.trim() {
            "read_only" => Some(Permission::Read),
            "trade" => Some(Permission::Trade),
            "withdraw" => Some(Permission::Withdraw),
            _ => None,
        })
        .collect();
    let ip_whitelist: Vec<String> = config["ip"]
        .as_str()
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|ip| !ip.is_empty())
        .map(str::to_owned)
        .collect();
    let (uid, main_uid) = (text("uid"), text("mainUid"));
    let account_kind = match (&uid, &main_uid) {
        (Some(uid), Some(main)) if uid == main => AccountKind::Master,
        (Some(_), Some(_)) => AccountKind::Sub,
        _ => AccountKind::Unknown,
    };
    Ok(KeyInspection {
        exchange: OKX,
        permissions: normalized(permissions),
        ip_restricted: !ip_whitelist.is_empty(),
        ip_whitelist,
        expires_at: None,
        created_at: None,
        master_uid: if account_kind == AccountKind::Sub { main_uid } else { None },
        account_kind,
        account_uid: uid,
        label: text("label").filter(|l| !l.is_empty()),
        demo,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_config_sample_parses() {
        let sample = r#"{"code":"0","data":[{"acctLv":"2","ip":"","type":"0","kycLv":"3","label":"v5 test","mainUid":"44705892343619584","perm":"read_only,withdraw,trade","uid":"44705892343619584"}],"msg":""}"#;
        let raw = RawResponse { status: 200, retry_after: None, body: sample.as_bytes().to_vec() };
        let inspection = parse_inspection(&interpret(&raw).unwrap(), false).unwrap();
        assert_eq!(inspection.permissions, vec![Permission::Read, Permission::Trade, Permission::Withdraw]);
        assert!(!inspection.ip_restricted && inspection.ip_whitelist.is_empty());
        assert_eq!(inspection.account_kind, AccountKind::Master);
        assert_eq!(inspection.account_uid.as_deref(), Some("44705892343619584"));
        assert_eq!(inspection.label.as_deref(), Some("v5 test"));
    }

    #[test]
    fn a_sub_account_key_with_ips() {
        let data: Value = serde_json::from_str(
            r#"[{"ip":"1.2.3.4, 5.6.7.8","mainUid":"1","uid":"2","perm":"read_only","label":""}]"#,
        )
        .unwrap();
        let inspection = parse_inspection(&data, true).unwrap();
        assert_eq!(inspection.ip_whitelist, vec!["1.2.3.4", "5.6.7.8"]);
        assert_eq!(inspection.account_kind, AccountKind::Sub);
        assert_eq!(inspection.master_uid.as_deref(), Some("1"));
        assert_eq!(inspection.label, None);
        assert!(inspection.demo && inspection.is_read_only());
    }

    #[test]
    fn rate_limit_with_http_200_is_still_rate_limited() {
        let raw = RawResponse {
            status: 200,
            retry_after: None,
            body: br#"{"code":"50011","msg":"Too Many Requests","data":[]}"#.to_vec(),
        };
        assert_eq!(interpret(&raw).unwrap_err().kind(), "rate_limited");
    }
}
