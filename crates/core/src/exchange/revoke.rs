//! Revocation: through the exchange's API where it allows it, otherwise a manual checklist that
//! links to the exchange's API page.
//!
//! A key counts as revoked only on proof: after the delete call, or after any refusal that might
//! mean "already gone", Latchkey signs one harmless read (the key's own inspection call, in the
//! key's own environment) with the revoked key's own credentials, and only that exchange's
//! invalid-key refusal of *that* key proves it ([`proof_verdict`]). A delete answer alone proves
//! nothing: OKX's 50119 and Bybit's 10003 are about the *calling* key (the master), and Bybit also
//! sends 10003 for a key used on the wrong host. So a retry after a crash is safe, and a master
//! deleted on the website first never makes its sub keys look revoked.

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::Value;

use super::adapter::{SelfDelete, SubKeyDelete};
use super::request::Call;
use super::{adapter, api_management_page, Endpoint, ExchangeClient, ExchangeError};
use crate::model::{AccountKind, Exchange};
use crate::secret::{key_hint, Credentials};

/// A key another key names as its master: stored like any other key, with its own environment.
/// Bybit demo keys, for example, are deleted by the live master key.
#[derive(Clone, Copy)]
pub struct MasterKey<'a> {
    pub endpoint: &'a Endpoint,
    pub credentials: &'a Credentials,
    /// The exchange's own 2FA code the user typed for this action, for an exchange that asks for
    /// one with a challenge (Deribit's security keys); Latchkey never holds the exchange's seed.
    pub exchange_code: Option<&'a SecretString>,
}

impl<'a> MasterKey<'a> {
    /// A master key for calls no one is at hand to type a code for.
    pub fn unattended(endpoint: &'a Endpoint, credentials: &'a Credentials) -> Self {
        MasterKey { endpoint, credentials, exchange_code: None }
    }
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
    /// The key's last check from this computer succeeded, so this computer's IP was allowed:
    /// Binance's one code for "unknown key, IP or permission" (-2015) can then mean the key is gone.
    pub answered_here: bool,
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
    /// Deleted, and the key's own signed read was then refused as an invalid key.
    #[serde(rename_all = "camelCase")]
    Revoked { method: RevokeMethod, proved_at: DateTime<Utc> },
    /// The delete was refused, but the key's own signed read proves it no longer exists.
    #[serde(rename_all = "camelCase")]
    AlreadyRevoked { proved_at: DateTime<Utc> },
    /// No API can revoke this key: the user deletes it on the exchange's web page.
    Manual { url: String, steps: Vec<String> },
}

/// What one signed read with a key's own credentials says about that key.
#[derive(Debug)]
pub enum ProofVerdict {
    /// The exchange refused the key as unknown or invalid: it is gone.
    Proved,
    /// The exchange answered the read: the key still works.
    StillLive,
    /// Any other answer (network, 5xx, rate limit, IP, signature, environment…): no proof either way.
    NotProved(ExchangeError),
}

/// Which refusals of a key's *own* read prove that key is gone, as its adapter says (OKX
/// 50111/50119, Bybit 10003, Binance -2014), and Binance -2015 where the IP is ruled out (see
/// [`proof_verdict`]).
pub(crate) fn proves_gone(exchange: Exchange, code: &str) -> bool {
    adapter(exchange).proves_gone(code)
}

/// What the answer to a proof read means. Binance's -2015 means an unknown key, an IP the key does
/// not allow, or a missing permission, all in one code; the read is the key's own inspection, which
/// needs no permission, so it proves the key gone only when `ip_ruled_out`: the master's delete was
/// just accepted, or the key answered a signed call from this computer before. Bybit's 10003 means
/// an unknown key or a live key sent to the wrong host; the same condition rules the host out (the
/// key answered at it before, or its master's delete there was accepted).
pub(crate) fn proof_verdict(
    exchange: Exchange,
    answer: Result<Value, ExchangeError>,
    ip_ruled_out: bool,
) -> ProofVerdict {
    match answer {
        Ok(_) => ProofVerdict::StillLive,
        Err(e) if e.code().is_some_and(|c| proves_gone(exchange, c)) => {
            if needs_known_host(exchange, &e) && !ip_ruled_out {
                ProofVerdict::NotProved(e)
            } else {
                ProofVerdict::Proved
            }
        }
        Err(ExchangeError::KeyIpOrPermission { .. }) if ip_ruled_out => ProofVerdict::Proved,
        Err(e) => ProofVerdict::NotProved(e),
    }
}

/// Whether `e`, an invalid-key code, is also what a live key on the wrong host gets (Bybit 10003).
pub(crate) fn needs_known_host(exchange: Exchange, e: &ExchangeError) -> bool {
    e.code().is_some_and(|c| adapter(exchange).gone_code_needs_known_host(c))
}

/// A delete's answer, as far as it goes: accepted, or refused (which proves nothing either way).
pub(crate) enum DeleteAnswer {
    Accepted,
    Refused(ExchangeError),
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
        // What the exchange's API allows decides the route: a named master deletes through the
        // sub-key endpoint; without one, the key deletes itself where it can; else by hand.
        let capabilities = exchange.capabilities();
        let (method, answer) = match (request.master, &capabilities.delete_sub_key, &capabilities.delete_self) {
            (Some(master), Some(route), _) => match self.delete_via_master(request, master, route).await? {
                Ok(answer) => (RevokeMethod::ViaMaster, answer),
                Err(manual) => return Ok(manual),
            },
            (None, _, Some(route)) => match self.delete_self(request, route).await? {
                Ok(answer) => (RevokeMethod::SelfDelete, answer),
                Err(outcome) => return Ok(outcome),
            },
            (Some(_), None, _) => {
                return Ok(manual(request, &format!("{exchange} has no API for a master key to delete a sub-account's key.")))
            }
            (None, Some(_), None) => {
                return Ok(manual(request, &format!("{exchange} has no API for a key to delete itself; only a master key can delete a sub-account's key.")))
            }
            (None, None, None) => {
                return Ok(manual(request, &format!("{exchange} has no API to delete a key: only its website can.")))
            }
        };
        self.prove(request, method, answer).await
    }

    /// Signs one harmless read (the key's own inspection call) with the key's own credentials, in
    /// its own environment. Transient failures come back as errors, for the caller's retry.
    /// `ip_ruled_out`: see [`proof_verdict`].
    pub async fn prove_revoked(
        &self,
        endpoint: &Endpoint,
        key: &Credentials,
        ip_ruled_out: bool,
    ) -> Result<ProofVerdict, ExchangeError> {
        endpoint.require_key_endpoints()?;
        let answer = self.signed(endpoint, key, &Call::get(endpoint.exchange.profile().paths.inspect)).await;
        match proof_verdict(endpoint.exchange, answer, ip_ruled_out) {
            ProofVerdict::NotProved(e) if e.is_transient() => Err(e),
            verdict => Ok(verdict),
        }
    }

    /// After the delete call: the proof read decides.
    async fn prove(
        &self,
        request: &RevokeRequest<'_>,
        method: RevokeMethod,
        answer: DeleteAnswer,
    ) -> Result<RevokeOutcome, ExchangeError> {
        let exchange = request.endpoint.exchange;
        let ip_ruled_out = request.answered_here || matches!(answer, DeleteAnswer::Accepted);
        let verdict = self.prove_revoked(request.endpoint, request.key, ip_ruled_out).await?;
        let proved_at = self.now();
        match (verdict, answer) {
            (ProofVerdict::Proved, DeleteAnswer::Accepted) => Ok(RevokeOutcome::Revoked { method, proved_at }),
            (ProofVerdict::Proved, DeleteAnswer::Refused(_)) => Ok(RevokeOutcome::AlreadyRevoked { proved_at }),
            (ProofVerdict::StillLive, DeleteAnswer::Accepted) => Err(ExchangeError::StillLive {
                exchange,
                reason: format!(
                    "{exchange} accepted the delete, but the key still answers a signed call with its own credentials."
                ),
            }),
            (ProofVerdict::StillLive, DeleteAnswer::Refused(e)) => {
                Err(ExchangeError::StillLive { exchange, reason: refusal_reason(request, &e) })
            }
            (ProofVerdict::NotProved(proof), DeleteAnswer::Accepted) => Err(ExchangeError::RevokeUnproved {
                exchange,
                reason: format!(
                    "{exchange} accepted the delete, but the key's own signed call (the proof) was answered with: {proof}"
                ),
            }),
            (ProofVerdict::NotProved(proof), DeleteAnswer::Refused(e)) => Err(ExchangeError::RevokeUnproved {
                exchange,
                reason: format!(
                    "{} The key's own signed call (the proof) was answered with: {proof}",
                    refusal_reason(request, &e)
                ),
            }),
        }
    }

    /// A master key deletes a sub-account's key. `Err` carries the manual checklist when Latchkey
    /// lacks what the call needs (the sub-account's name or email).
    async fn delete_via_master(
        &self,
        request: &RevokeRequest<'_>,
        master: MasterKey<'_>,
        route: &SubKeyDelete,
    ) -> Result<Result<DeleteAnswer, RevokeOutcome>, ExchangeError> {
        let mut params = Vec::new();
        if let Some(account) = &route.account {
            let Some(sub_account) = request.sub_account.filter(|s| !s.trim().is_empty()) else {
                return Ok(Err(manual(
                    request,
                    &format!(
                        "Latchkey needs the key's {} to revoke it through the master key, and none is recorded.",
                        account.noun
                    ),
                )));
            };
            params.push((account.param, sub_account.trim().to_owned()));
        }
        if let Some(param) = route.passphrase_param {
            let Some(passphrase) = &request.key.passphrase else {
                return Ok(Err(manual(
                    request,
                    "Latchkey needs the key's own passphrase to revoke it through the master key, and none is stored.",
                )));
            };
            // EXPOSE: the exchange asks for the deleted key's own passphrase in the master's call.
            params.push((param, passphrase.expose_secret().to_owned()));
        }
        master.endpoint.require_key_endpoints()?;
        // Named by API key, or by the id the master's listing shows (Deribit): a key the listing
        // lacks is a refusal, which proves nothing; the proof read decides.
        let name = match self.key_name(master, request.sub_account.unwrap_or_default(), &request.key.api_key).await {
            Ok(name) => name,
            Err(e) => return delete_answer(Err(e)).map(Ok),
        };
        params.push((route.key_param, name));
        delete_answer(self.master_call(master, &route.call(params)).await).map(Ok)
    }

    /// A key deletes itself (Bybit: a master key holding a transfer or withdrawal permission, a sub
    /// key holding a transfer permission). Its first call is its own inspection, which picks the
    /// route: an invalid-key refusal there is the proof read already.
    async fn delete_self(
        &self,
        request: &RevokeRequest<'_>,
        route: &SelfDelete,
    ) -> Result<Result<DeleteAnswer, RevokeOutcome>, ExchangeError> {
        let exchange = request.endpoint.exchange;
        request.endpoint.require_key_endpoints()?;
        let own_read = Call::get(exchange.profile().paths.inspect);
        let data = match self.signed(request.endpoint, request.key, &own_read).await {
            Ok(data) => data,
            Err(e) if e.code().is_some_and(|c| proves_gone(exchange, c)) => {
                if !request.answered_here && needs_known_host(exchange, &e) {
                    return Err(ExchangeError::RevokeUnproved {
                        exchange,
                        reason: format!(
                            "{exchange} does not know this key at {host} ({e}), but it answers the same for a live key sent to the wrong host or environment, and this key never answered from this computer. Check the key's environment and base URL (Edit on its card), then revoke again; or delete it on {exchange}'s website.",
                            host = request.endpoint.base_url
                        ),
                    });
                }
                return Ok(Err(RevokeOutcome::AlreadyRevoked { proved_at: self.now() }));
            }
            Err(e) => return Err(e),
        };
        let inspection = adapter(exchange).parse_own_inspection(&data, request.endpoint.demo, request.key)?;
        let by_kind = match inspection.account_kind {
            AccountKind::Master => route.master.as_ref(),
            AccountKind::Sub => route.sub.as_ref(),
            // One route for either kind (Deribit: a key of any account deletes itself the same way).
            AccountKind::Unknown => {
                route.master.as_ref().filter(|m| route.sub.as_ref().is_some_and(|s| s.path == m.path))
            }
        };
        let path = match by_kind.filter(|r| r.needs_any.iter().any(|p| inspection.has(*p))) {
            Some(r) => r.path,
            None if inspection.account_kind == AccountKind::Sub => return Ok(Err(manual(request, route.sub_refused))),
            None => return Ok(Err(manual(request, route.other_refused))),
        };
        let call = adapter(exchange).self_delete_call(path, &data, request.key)?;
        let answer = self.signed(request.endpoint, request.key, &call).await;
        delete_answer(answer).map(Ok)
    }
}

/// A transient failure of the delete is the caller's to retry; any other refusal goes to the proof.
pub(crate) fn delete_answer(answer: Result<Value, ExchangeError>) -> Result<DeleteAnswer, ExchangeError> {
    match answer {
        Ok(_) => Ok(DeleteAnswer::Accepted),
        Err(e) if e.is_transient() => Err(e),
        Err(e) => Ok(DeleteAnswer::Refused(e)),
    }
}

/// Why the delete did not happen, in words about the right key: an invalid-key refusal of a
/// master-signed delete is about the master.
fn refusal_reason(request: &RevokeRequest<'_>, e: &ExchangeError) -> String {
    let exchange = request.endpoint.exchange;
    match (request.master, e) {
        (Some(_), ExchangeError::InvalidKey { code, .. }) => format!(
            "{exchange} refused the master key that signs the delete ({code}): it may have been deleted on the website, or expired. The sub key was not deleted."
        ),
        (Some(_), ExchangeError::KeyIpOrPermission { code }) => format!(
            "{exchange} refused the master key that signs the delete ({code}: an unknown key, this computer's IP or a missing permission; it may have been deleted on the website). The sub key was not deleted."
        ),
        (Some(_), ExchangeError::Rejected { code, message, .. }) => format!(
            "{exchange} refused the delete signed by the master key ({code}: {message}). Check the key's sub-account in Latchkey (OKX sub-account name, Binance sub-account email) and that its master key is the right one."
        ),
        (Some(_), _) => format!("{exchange} refused the delete signed by the master key: {e}"),
        (None, _) => format!("{exchange} refused the key's own delete: {e}"),
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

    /// Only the invalid-key refusals of the key's own call prove it gone; the other refusals
    /// (environment, signature, IP, passphrase, rate limit, 5xx) prove nothing either way.
    #[test]
    fn only_an_invalid_key_refusal_is_proof() {
        let invalid = |exchange, code: &str| Err(ExchangeError::InvalidKey { exchange, code: code.to_owned() });
        let proved = |exchange, answer| matches!(proof_verdict(exchange, answer, false), ProofVerdict::Proved);
        assert!(proved(Exchange::Okx, invalid(Exchange::Okx, "50111")));
        assert!(proved(Exchange::Okx, invalid(Exchange::Okx, "50119")));
        // Bybit's 10003 is also a live key on the wrong host: proof only for a key known here.
        assert!(matches!(
            proof_verdict(Exchange::Bybit, invalid(Exchange::Bybit, "10003"), true),
            ProofVerdict::Proved
        ));
        assert!(matches!(
            proof_verdict(Exchange::Bybit, invalid(Exchange::Bybit, "10003"), false),
            ProofVerdict::NotProved(_)
        ));
        assert!(proved(Exchange::Binance, invalid(Exchange::Binance, "-2014")));
        // -2015 also means "IP not allowed": proof only once the IP is ruled out.
        let key_or_ip = |ip_ruled_out| {
            proof_verdict(
                Exchange::Binance,
                Err(ExchangeError::KeyIpOrPermission { code: "-2015".into() }),
                ip_ruled_out,
            )
        };
        assert!(matches!(key_or_ip(true), ProofVerdict::Proved));
        assert!(matches!(key_or_ip(false), ProofVerdict::NotProved(_)));
        assert!(matches!(proof_verdict(Exchange::Okx, invalid(Exchange::Okx, "50111"), false), ProofVerdict::Proved));
        for (exchange, e) in [
            (Exchange::Okx, ExchangeError::WrongEnvironment { exchange: Exchange::Okx, code: "50101".into() }),
            (Exchange::Okx, ExchangeError::BadSignature { exchange: Exchange::Okx, code: "50113".into() }),
            (Exchange::Okx, ExchangeError::WrongPassphrase { exchange: Exchange::Okx, code: "50105".into() }),
            (Exchange::Okx, ExchangeError::InvalidKey { exchange: Exchange::Okx, code: "50114".into() }),
            (Exchange::Bybit, ExchangeError::InvalidKey { exchange: Exchange::Bybit, code: "10007".into() }),
            (Exchange::Bybit, ExchangeError::IpNotAllowed { exchange: Exchange::Bybit, code: "10010".into() }),
            (Exchange::Bybit, ExchangeError::KeyExpired { exchange: Exchange::Bybit, code: "-2015".into() }),
            (Exchange::Binance, ExchangeError::ExchangeDown { exchange: Exchange::Binance, status: 502 }),
            (
                Exchange::Binance,
                ExchangeError::Rejected { exchange: Exchange::Binance, code: "-13001".into(), message: "x".into() },
            ),
        ] {
            let text = e.to_string();
            assert!(matches!(proof_verdict(exchange, Err(e), true), ProofVerdict::NotProved(_)), "{text}");
        }
        assert!(matches!(proof_verdict(Exchange::Okx, Ok(Value::Null), false), ProofVerdict::StillLive));
    }

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
        let at = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let json =
            serde_json::to_value(RevokeOutcome::Revoked { method: RevokeMethod::ViaMaster, proved_at: at }).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"outcome":"revoked","method":"viaMaster","provedAt":"2023-11-14T22:13:20Z"})
        );
    }
}
