//! Deribit v2: JSON-RPC over HTTP, each method a GET of `/api/v2/<method>?params`, signed per
//! request with `Authorization: deri-hmac-sha256 id=…,ts=…,sig=…,nonce=…`; answers
//! `{"jsonrpc":"2.0","result":…}` or `{"error":{"code":13009,"message":"unauthorized"}}`.
//! The one exchange whose keys manage their own account's keys: a key with `account:read_write`
//! deletes itself, and as a master it creates, edits and removes the account's other keys, so bot
//! keys are minted, fixed and rotated in the master's own account (the one "sub-account" its
//! listing offers). When the account has security keys, such calls answer with a challenge for the
//! exchange's own 2FA code ([`ExchangeError::ExchangeCodeRequired`]), which the user types.

use std::time::Duration;

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use super::adapter::{
    Adapter, Capabilities, DeleteMethod, Environments, ExchangeLimit, IpUpdate, Limits, Paths, Profile, ScanFacts,
    SelfDelete, SelfDeleteRoute, SubKeyApi, SubKeyDelete, SubKeyFacts, Support,
};
use super::form::{Charset, CredentialForm, Form, Shape};
use super::request::{code_text, millis, short_message, unexpected, Call, Header, RawResponse, SignedRequest};
use super::sign::hmac_sha256;
use super::{Endpoint, ExchangeError};
use crate::model::{
    normalized, AccountKind, CreatedSubKey, Exchange, KeyInspection, Need, Permission, Prerequisite, SubAccount,
    SubKey, SubKeySettings, SubKeySpec,
};
use crate::secret::Credentials;

/// Every key of the account ("scope account:read"); the calling one found by its client_id.
const INSPECT_PATH: &str = "/api/v2/private/list_api_keys";
const TIME_PATH: &str = "/api/v2/public/get_time";
const REMOVE_PATH: &str = "/api/v2/private/remove_api_key";
const CREATE_PATH: &str = "/api/v2/private/create_api_key";
const EDIT_PATH: &str = "/api/v2/private/edit_api_key";
/// What a new key is created with: reading only. Trade and the IP whitelist come with the edit
/// right after (`create_api_key` takes no `ip_whitelist`), so a key whose edit fails can trade
/// nothing from anywhere. `account:read` lets it read its own row: Latchkey's inspection and proof.
const CREATED_SCOPE: &str = "account:read trade:read wallet:read";
/// The one "sub-account" a Deribit master offers: its own account.
const OWN_ACCOUNT: &str = "account";
/// "only letters, numbers and underscores allowed; maximum length - 16 characters".
const NAME_MAX: usize = 16;
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
        // A master (account:read_write) removes the account's other keys by their id. Keys of
        // sub-accounts (through exchange_token) stay UNCONFIRMED: only the master's own account.
        delete_sub_key: Some(SubKeyDelete {
            path: REMOVE_PATH,
            method: DeleteMethod::Get,
            account: None,
            key_param: "id",
            passphrase_param: None,
        }),
        list_sub_keys: Support::Yes,
        create_sub_key: Support::Yes,
        modify_sub_key_ips: Support::Yes,
        modify_sub_key_permissions: Support::Yes,
        // Latchkey grants reading (account, trade, wallet) and trading, never wallet or account
        // read_write: those withdraw, or make keys that do.
        grantable: Some(&[Permission::Read, Permission::Trade]),
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
    sub_keys: Some(SubKeyFacts {
        prerequisites: &[Prerequisite {
            // Latchkey reads account:read_write (and wallet:read_write) as Withdraw; a key with
            // only the wallet scope passes here, and Deribit's 13403 then says what it lacks.
            need: Need::AnyPermission(&[Permission::Withdraw]),
            missing: "Deribit lets a key create, change and delete the account's keys only with the account:read_write scope, and this key lacks it. Give a key that scope on Deribit's API page (bind it to this machine's IP) and use that one as the master.",
            unknown: None,
        }],
        sub_account_noun: "account",
        // No limit found for the whitelist (UNCONFIRMED): Latchkey reads the list back instead.
        max_ips: None,
        max_ip_chars: None,
        // `edit_api_key` sets `ip_whitelist`; whether it replaces is UNCONFIRMED, so the client
        // reads the key back and refuses a list that is not exactly the one sent.
        ip_update: IpUpdate::Replaces,
        no_ip_whitelist: "Deribit: a key without an IP whitelist works from any IP address",
        // Credit-based limits whose numbers are UNCONFIRMED (non-matching-engine calls are
        // commonly cited at 20 a second): five a second is well inside, and keeps a create and
        // its edit 200 ms apart.
        writes: ExchangeLimit { calls: 5, window: Duration::from_secs(1), concurrency: 1 },
        lists: ExchangeLimit { calls: 5, window: Duration::from_secs(1), concurrency: 1 },
        passphrase: None,
        lifetimes: &[],
    }),
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

    /// "Resend the original request with authorization_data (the TOTP code) and the challenge"
    /// (docs.deribit.com/articles/security-keys).
    fn answer_challenge(&self, call: &Call, challenge: &str, code: &SecretString) -> Option<Call> {
        let mut answered = call.clone();
        answered.params.retain(|(name, _)| !matches!(*name, "authorization_data" | "challenge"));
        // EXPOSE: the exchange's own 2FA code, typed by the user for this call, in its signed query.
        answered.params.push(("authorization_data", code.expose_secret().trim().to_owned()));
        answered.params.push(("challenge", challenge.to_owned()));
        Some(answered)
    }

    fn sub_key_api(&self) -> Option<&dyn SubKeyApi> {
        Some(self)
    }
}

impl SubKeyApi for Deribit {
    /// The listing proves the master may read the account's keys; the account is its own.
    fn list_sub_accounts(&self) -> Call {
        Call::get(INSPECT_PATH)
    }

    fn parse_sub_accounts(&self, data: &Value) -> Result<Vec<SubAccount>, ExchangeError> {
        data.as_array().ok_or_else(|| unexpected(DERIBIT, "list_api_keys is not a list"))?;
        Ok(vec![SubAccount {
            id: OWN_ACCOUNT.to_owned(),
            name: "this account (the master key's own)".to_owned(),
            uid: None,
            frozen: false,
        }])
    }

    fn list_sub_keys(&self, _sub_account: &str, _cursor: Option<&str>) -> Call {
        Call::get(INSPECT_PATH)
    }

    fn parse_sub_keys(&self, data: &Value) -> Result<Vec<SubKey>, ExchangeError> {
        let rows = data.as_array().ok_or_else(|| unexpected(DERIBIT, "list_api_keys is not a list"))?;
        rows.iter()
            .map(|row| {
                let client_id =
                    row["client_id"].as_str().ok_or_else(|| unexpected(DERIBIT, "a key without client_id"))?;
                let inspection = inspection_of(row, false)?;
                Ok(SubKey {
                    api_key: SecretString::from(client_id.to_owned()),
                    label: row["name"].as_str().unwrap_or_default().to_owned(),
                    permissions: inspection.permissions,
                    ip_whitelist: inspection.ip_whitelist,
                    created_at: inspection.created_at,
                    id: code_text(&row["id"]),
                })
            })
            .collect()
    }

    fn create_sub_key(&self, spec: &SubKeySpec, _passphrase: Option<&SecretString>) -> Call {
        Call::get_with(
            CREATE_PATH,
            vec![("max_scope", CREATED_SCOPE.to_owned()), ("name", self.exchange_label(&spec.label))],
        )
    }

    fn parse_created(&self, data: &Value, _passphrase: Option<SecretString>) -> Result<CreatedSubKey, ExchangeError> {
        let (Some(client_id), Some(secret)) = (data["client_id"].as_str(), data["client_secret"].as_str()) else {
            return Err(unexpected(DERIBIT, "the create answer has no client_id or client_secret"));
        };
        let inspection = inspection_of(data, false)?;
        Ok(CreatedSubKey {
            credentials: Credentials::new(client_id, secret, None),
            label: data["name"].as_str().unwrap_or_default().to_owned(),
            permissions: inspection.permissions,
            ip_whitelist: inspection.ip_whitelist,
        })
    }

    /// The edit that gives the read-only new key its scope and IP whitelist.
    fn complete_create(&self, created: &Value, spec: &SubKeySpec) -> Option<Call> {
        let id = code_text(&created["id"])?;
        (spec.settings.trades() || !spec.settings.ip_whitelist.is_empty()).then(|| edit(&id, &spec.settings))
    }

    /// Never called: the edit names the key by id, so the client reads the listing first
    /// ([`SubKeyApi::modify_listed`]).
    fn modify_sub_key(
        &self,
        _sub_account: &str,
        _api_key: &SecretString,
        _passphrase: Option<&SecretString>,
        _settings: &SubKeySettings,
    ) -> Vec<Call> {
        Vec::new()
    }

    fn modify_needs_listing(&self) -> bool {
        true
    }

    fn modify_listed(
        &self,
        _sub_account: &str,
        listed: &SubKey,
        _passphrase: Option<&SecretString>,
        settings: &SubKeySettings,
    ) -> Vec<Call> {
        listed.id.iter().map(|id| edit(id, settings)).collect()
    }

    /// Letters, digits and `_`, at most 16: anything else becomes `_`, the rest is cut.
    fn exchange_label(&self, label: &str) -> String {
        label.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).take(NAME_MAX).collect()
    }

    fn deletes_by_listed_id(&self) -> bool {
        true
    }
}

/// `edit_api_key` with the whole setting: `max_scope` is required (what it leaves out becomes
/// none), and `ip_whitelist` goes as a JSON array (its form in a query is UNCONFIRMED: the client
/// reads the key back and refuses any list but the one sent).
fn edit(id: &str, settings: &SubKeySettings) -> Call {
    let trade = if settings.trades() { "read_write" } else { "read" };
    let ips: Vec<&str> = settings.ip_whitelist.iter().map(|ip| ip.trim()).collect();
    Call::get_with(
        EDIT_PATH,
        vec![
            ("id", id.to_owned()),
            ("max_scope", format!("account:read trade:{trade} wallet:read")),
            ("ip_whitelist", serde_json::to_string(&ips).unwrap_or_else(|_| "[]".to_owned())),
        ],
    )
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
    // A result is Deribit's answer only with a 2xx status (fuzzing found a 600 taken as success).
    if !(200..300).contains(&raw.status) {
        return Err(raw
            .transport_checks(DERIBIT)
            .err()
            .unwrap_or_else(|| unexpected(DERIBIT, format!("HTTP {} with a result", raw.status))));
    }
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

    /// The credentials in the documentation's `create_api_key` answer have the form's shape.
    #[test]
    fn the_documented_credentials_fit_the_form() {
        let form = &PROFILE.form;
        assert_eq!(
            super::super::form::check(form, "1sXMQBhM", "B6RsF9rrLY5ezEGBQkyLlV-UC7whyPJ34BMA-kKYpes", None),
            Ok(())
        );
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
        for status in [199, 302, 407, 600] {
            let err = answer(status, json!({"jsonrpc": "2.0", "result": "ok"})).unwrap_err();
            assert_eq!(err.kind(), "unexpected_response", "HTTP {status}: {err}");
        }
    }
}
