//! Revocation: through the exchange's API where it allows it, otherwise a manual checklist that
//! links to the exchange's API page. "Key does not exist" counts as already revoked, so a retry
//! after a crash is safe.

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::Value;

use super::request::Call;
use super::{api_management_page, binance, bybit, okx, AccountKind, Endpoint, ExchangeClient, ExchangeError};
use crate::model::{Exchange, Permission};
use crate::secret::{key_hint, Credentials};

/// A key another key names as its master: stored like any other key, with its own environment.
/// Bybit demo keys, for example, are deleted by the live master key.
#[derive(Clone, Copy)]
pub struct MasterKey<'a> {
    pub endpoint: &'a Endpoint,
    pub credentials: &'a Credentials,
}

#[derive(Clone, Copy)]
pub struct RevokeRequest<'a> {
    pub endpoint: &'a Endpoint,
    /// The key to revoke.
    pub key: &'a Credentials,
    /// Which sub-account the key belongs to, as the master's API names it: OKX's sub-account name
    /// (`subAcct`), Binance's sub-account email. Bybit needs none.
    pub sub_account: Option<&'a str>,
    pub master: Option<MasterKey<'a>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RevokeMethod {
    /// The key deleted itself (Bybit `delete-api` / `delete-sub-api`).
    SelfDelete,
    /// Its master key deleted it.
    ViaMaster,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "camelCase")]
pub enum RevokeOutcome {
    Revoked {
        method: RevokeMethod,
    },
    /// The exchange no longer knows the key.
    AlreadyRevoked,
    /// No API can revoke this key: the user deletes it on the exchange's web page.
    Manual {
        url: String,
        steps: Vec<String>,
    },
}

impl ExchangeClient {
    pub async fn revoke(&self, request: &RevokeRequest<'_>) -> Result<RevokeOutcome, ExchangeError> {
        let exchange = request.endpoint.exchange;
        if let Some(master) = request.master {
            if master.endpoint.exchange != exchange {
                return Err(ExchangeError::NotAvailable(format!(
                    "The chosen master key belongs to {} but this key belongs to {exchange}. Choose a master key from {exchange}.",
                    master.endpoint.exchange
                )));
            }
        }
        match exchange {
            Exchange::Okx => {
                self.revoke_via_master(request, okx::DELETE_SUB_KEY_PATH, "subAcct", "apiKey", "sub-account name").await
            }
            Exchange::Binance => {
                self.revoke_via_master(
                    request,
                    binance::DELETE_SUB_KEY_PATH,
                    "email",
                    "subAccountApiKey",
                    "sub-account email",
                )
                .await
            }
            Exchange::Bybit => match request.master {
                Some(master) => self.revoke_bybit_via_master(request, master).await,
                None => self.revoke_bybit_self(request).await,
            },
        }
    }

    /// OKX and Binance: only a master key can delete a key, and only a sub-account's.
    async fn revoke_via_master(
        &self,
        request: &RevokeRequest<'_>,
        path: &'static str,
        account_param: &'static str,
        key_param: &'static str,
        account_noun: &str,
    ) -> Result<RevokeOutcome, ExchangeError> {
        let exchange = request.endpoint.exchange;
        let Some(master) = request.master else {
            return Ok(manual(request, &format!("{exchange} has no API for a key to delete itself; only a master key can delete a sub-account's key.")));
        };
        let Some(sub_account) = request.sub_account.filter(|s| !s.trim().is_empty()) else {
            return Ok(manual(request, &format!("Latchkey needs the key's {account_noun} to revoke it through the master key, and none is recorded.")));
        };
        master.endpoint.require_key_endpoints()?;
        // EXPOSE: the API key names the key to delete; it travels only in the signed body.
        let params = vec![
            (account_param, sub_account.trim().to_owned()),
            (key_param, request.key.api_key.expose_secret().to_owned()),
        ];
        let call = if exchange == Exchange::Binance { Call::delete(path, params) } else { Call::post(path, params) };
        delete_outcome(exchange, RevokeMethod::ViaMaster, self.signed(master.endpoint, master.credentials, &call).await)
    }

    async fn revoke_bybit_via_master(
        &self,
        request: &RevokeRequest<'_>,
        master: MasterKey<'_>,
    ) -> Result<RevokeOutcome, ExchangeError> {
        // EXPOSE: the API key names the sub key to delete; it travels only in the signed body.
        let call =
            Call::post(bybit::DELETE_SUB_KEY_PATH, vec![("apikey", request.key.api_key.expose_secret().to_owned())]);
        let answer = self.signed(master.endpoint, master.credentials, &call).await;
        match delete_outcome(Exchange::Bybit, RevokeMethod::ViaMaster, answer)? {
            RevokeOutcome::AlreadyRevoked => {
                // Bybit answers 10003 both for an unknown calling key and an unknown target: if the
                // master still inspects fine, the target is the one that is gone.
                self.inspect(master.endpoint, master.credentials).await?;
                Ok(RevokeOutcome::AlreadyRevoked)
            }
            outcome => Ok(outcome),
        }
    }

    /// A Bybit key may delete itself: a master key holding a transfer or withdrawal permission
    /// (`delete-api`), a sub key holding a transfer permission (`delete-sub-api`).
    async fn revoke_bybit_self(&self, request: &RevokeRequest<'_>) -> Result<RevokeOutcome, ExchangeError> {
        let inspection = match self.inspect(request.endpoint, request.key).await {
            Ok(inspection) => inspection,
            Err(e) if e.code() == Some(bybit::KEY_NOT_FOUND) => return Ok(RevokeOutcome::AlreadyRevoked),
            Err(e) => return Err(e),
        };
        let transfer = inspection.has(Permission::Transfer);
        let path = match inspection.account_kind {
            AccountKind::Master if transfer || inspection.has(Permission::Withdraw) => bybit::DELETE_SELF_PATH,
            AccountKind::Sub if transfer => bybit::DELETE_SUB_KEY_PATH,
            AccountKind::Sub => {
                return Ok(manual(request, "This sub-account key lacks the transfer permission Bybit requires for a key to delete itself. Name its master key in Latchkey to revoke it automatically."))
            }
            _ => {
                return Ok(manual(request, "Bybit lets a master key delete itself only when it holds a transfer or withdrawal permission, and this key holds neither."))
            }
        };
        let answer = self.signed(request.endpoint, request.key, &Call::post(path, Vec::new())).await;
        delete_outcome(Exchange::Bybit, RevokeMethod::SelfDelete, answer)
    }
}

/// What the answer to a delete call means: revoked, already gone ("key does not exist"), or an error.
pub(crate) fn delete_outcome(
    exchange: Exchange,
    method: RevokeMethod,
    answer: Result<Value, ExchangeError>,
) -> Result<RevokeOutcome, ExchangeError> {
    // Binance documents no "no such key" code for its delete endpoint, so none counts there.
    let gone = match exchange {
        Exchange::Okx => Some(okx::KEY_NOT_FOUND),
        Exchange::Bybit => Some(bybit::KEY_NOT_FOUND),
        Exchange::Binance => None,
    };
    match answer {
        Ok(_) => Ok(RevokeOutcome::Revoked { method }),
        Err(e) if gone.is_some() && e.code() == gone => Ok(RevokeOutcome::AlreadyRevoked),
        Err(e) => Err(e),
    }
}

fn manual(request: &RevokeRequest<'_>, reason: &str) -> RevokeOutcome {
    manual_steps(request.endpoint, &request.key.api_key, reason)
}

/// The checklist for deleting a key by hand. It names the key by its masked hint only.
pub(crate) fn manual_steps(endpoint: &Endpoint, api_key: &SecretString, reason: &str) -> RevokeOutcome {
    let exchange = endpoint.exchange;
    let url = api_management_page(exchange, endpoint.demo).to_owned();
    let steps = vec![
        reason.to_owned(),
        format!("Open {url} and sign in to {exchange}."),
        format!("Find the API key {} and delete it.", key_hint(api_key)),
        "Come back to Latchkey and confirm the key is deleted.".to_owned(),
    ];
    RevokeOutcome::Manual { url, steps }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Environment;

    #[test]
    fn manual_steps_link_the_page_and_mask_the_key() {
        let endpoint = Endpoint::new(Exchange::Binance, &Environment::Live).unwrap();
        let key = SecretString::from("vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A".to_owned());
        let RevokeOutcome::Manual { url, steps } = manual_steps(&endpoint, &key, "why") else {
            panic!("manual expected")
        };
        assert_eq!(url, "https://www.binance.com/en/my/settings/api-management");
        assert_eq!(steps[0], "why");
        assert!(steps[2].contains("vmPU…Eh8A"), "{steps:?}");
        assert!(!steps.concat().contains("vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"));
        let json = serde_json::to_value(RevokeOutcome::Revoked { method: RevokeMethod::ViaMaster }).unwrap();
        assert_eq!(json, serde_json::json!({"outcome":"revoked","method":"viaMaster"}));
    }
}
