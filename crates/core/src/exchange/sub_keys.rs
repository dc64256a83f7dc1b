//! A master key managing its sub-accounts' keys: list the sub-accounts, list a sub-account's keys,
//! create one (OKX's passphrase generated here to OKX's rules), set one's permissions and IPs,
//! delete one; and whether a key can do all that ([`master_readiness`]). The calls go through each
//! exchange's [`SubKeyApi`]; the facts (prerequisites, IP limits, write limits) come from its
//! [`SubKeyFacts`].

use std::collections::BTreeSet;
use std::net::IpAddr;

use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use super::adapter::{IpUpdate, PassphraseRule, SubKeyApi, SubKeyFacts};
use super::request::Call;
use super::{adapter, ExchangeClient, ExchangeError, MasterKey};
use crate::model::{
    AccountKind, CreatedSubKey, Exchange, KeyInspection, MasterReadiness, Missing, Need, Permission, Readiness,
    SubAccount, SubKey, SubKeySettings, SubKeySpec,
};

/// More pages than any sub-account has keys for (Bybit pages 20 keys): a cursor that never ends is
/// an answer gone wrong.
const MAX_PAGES: usize = 50;

/// What the exchange's API offers a master for its sub-accounts' keys, or why nothing.
pub fn sub_key_facts(exchange: Exchange) -> Result<&'static SubKeyFacts, ExchangeError> {
    exchange.profile().sub_keys.as_ref().ok_or_else(|| unsupported(exchange))
}

fn unsupported(exchange: Exchange) -> ExchangeError {
    ExchangeError::NotAvailable(format!(
        "{exchange}'s API does not let a master key manage sub-account keys. Create the key on {exchange}'s website and add it to Latchkey."
    ))
}

fn api(exchange: Exchange) -> Result<&'static dyn SubKeyApi, ExchangeError> {
    adapter(exchange).sub_key_api().ok_or_else(|| unsupported(exchange))
}

/// Whether the key in `inspection` can manage sub-account keys on its exchange, and each
/// prerequisite it lacks (or that its inspection cannot confirm) in the exchange's own words.
pub fn master_readiness(inspection: &KeyInspection) -> MasterReadiness {
    let exchange = inspection.exchange;
    let Some(facts) = exchange.profile().sub_keys.as_ref() else {
        let message = unsupported(exchange).to_string();
        return MasterReadiness {
            exchange,
            readiness: Readiness::Unsupported,
            missing: vec![Missing { need: Need::MasterAccount, message }],
            unconfirmed: Vec::new(),
        };
    };
    let (mut missing, mut unconfirmed) = (Vec::new(), Vec::new());
    for prerequisite in facts.prerequisites {
        let met = match prerequisite.need {
            Need::MasterAccount => match inspection.account_kind {
                AccountKind::Master => Some(true),
                AccountKind::Sub => Some(false),
                AccountKind::Unknown => None,
            },
            Need::IpBound => Some(inspection.ip_restricted),
            Need::AnyPermission(any) => Some(any.iter().any(|p| inspection.has(*p))),
        };
        match (met, prerequisite.unknown) {
            (Some(true), _) => {}
            (Some(false), _) | (None, None) => {
                missing.push(Missing { need: prerequisite.need, message: prerequisite.missing.to_owned() })
            }
            (None, Some(unknown)) => unconfirmed.push(Missing { need: prerequisite.need, message: unknown.to_owned() }),
        }
    }
    let readiness = match (missing.is_empty(), unconfirmed.is_empty()) {
        (false, _) => Readiness::NotReady,
        (true, false) => Readiness::Unconfirmed,
        (true, true) => Readiness::Ready,
    };
    MasterReadiness { exchange, readiness, missing, unconfirmed }
}

/// The settings a new or changed sub key may have on this exchange: read and trade only, and an
/// IP list of IP addresses within the exchange's documented limits.
pub fn check_sub_key_settings(exchange: Exchange, settings: &SubKeySettings) -> Result<(), ExchangeError> {
    let facts = sub_key_facts(exchange)?;
    if let Some(extra) = settings.permissions.iter().find(|p| !matches!(p, Permission::Read | Permission::Trade)) {
        return Err(ExchangeError::NotGrantable { exchange, permission: *extra });
    }
    let refused = |detail: String| ExchangeError::IpListRefused { exchange, detail };
    if let Some(bad) = settings.ip_whitelist.iter().find(|ip| ip.trim().parse::<IpAddr>().is_err()) {
        return Err(refused(format!("'{bad}' is not an IP address (write e.g. 203.0.113.7 or 2001:db8::1)")));
    }
    let distinct: BTreeSet<&str> = settings.ip_whitelist.iter().map(|ip| ip.trim()).collect();
    if distinct.len() != settings.ip_whitelist.len() {
        return Err(refused("an IP address is listed twice".to_owned()));
    }
    if let Some(max) = facts.max_ips.filter(|max| settings.ip_whitelist.len() > *max) {
        return Err(refused(format!(
            "{exchange} allows at most {max} IP addresses per key and {} were given",
            settings.ip_whitelist.len()
        )));
    }
    let chars = settings.ip_whitelist.join(",").len();
    if let Some(max) = facts.max_ip_chars.filter(|max| chars > *max) {
        return Err(refused(format!(
            "{exchange} takes at most {max} characters of IP addresses and these take {chars}"
        )));
    }
    Ok(())
}

/// The special characters a generated passphrase draws from: plain ASCII punctuation that needs
/// no escaping in a header, JSON or a shell.
const SPECIALS: &[u8] = b"!#%*+-.=?@^_";
const GENERATED_LEN: usize = 24;

/// A passphrase to `rule`, from the OS's random source: 24 characters of letters, digits and
/// [`SPECIALS`], drawn until each class is present (almost always the first draw); letters and
/// digits only where the rule does not ask for every class.
pub(crate) fn generate_passphrase(rule: &PassphraseRule) -> Result<SecretString, ExchangeError> {
    let specials: &[u8] = if rule.all_classes { SPECIALS } else { &[] };
    let alphabet: Vec<u8> =
        (b'A'..=b'Z').chain(b'a'..=b'z').chain(b'0'..=b'9').chain(specials.iter().copied()).collect();
    let len = GENERATED_LEN.clamp(rule.min_len, rule.max_len);
    // Bytes at or above this would favour the first letters of the alphabet.
    let limit = 256 - 256 % alphabet.len();
    for _ in 0..64 {
        let mut out = Zeroizing::new(String::with_capacity(len));
        let mut bytes = Zeroizing::new([0u8; 64]);
        while out.len() < len {
            getrandom::fill(bytes.as_mut()).map_err(|_| random_failed())?;
            for &b in bytes.iter().filter(|b| usize::from(**b) < limit) {
                if out.len() < len {
                    out.push(char::from(alphabet[usize::from(b) % alphabet.len()]));
                }
            }
        }
        if !rule.all_classes || passphrase_has_all_classes(&out) {
            return Ok(SecretString::from(out.as_str().to_owned()));
        }
    }
    Err(random_failed())
}

fn passphrase_has_all_classes(text: &str) -> bool {
    let has = |test: fn(&char) -> bool| text.chars().any(|c| test(&c));
    has(char::is_ascii_digit)
        && has(char::is_ascii_uppercase)
        && has(char::is_ascii_lowercase)
        && has(|c| SPECIALS.contains(&(*c as u8)))
}

fn random_failed() -> ExchangeError {
    ExchangeError::NotAvailable(
        "The system's random number source failed, so Latchkey could not make a passphrase for the new key. Try again."
            .to_owned(),
    )
}

/// Where the exchange changes or deletes a sub key only with that key's own passphrase (KuCoin),
/// a key whose passphrase nobody holds (one a create that timed out made) must go by hand.
fn require_own_passphrase(
    exchange: Exchange,
    api_key: &SecretString,
    passphrase: Option<&SecretString>,
) -> Result<(), ExchangeError> {
    let needs = exchange.capabilities().delete_sub_key.as_ref().is_some_and(|r| r.passphrase_param.is_some());
    if needs && passphrase.is_none() {
        return Err(ExchangeError::NotAvailable(format!(
            "{exchange} changes or deletes a sub-account key only with that key's own passphrase, and Latchkey does not hold the one of key {}. Delete it on {exchange}'s API page ({}).",
            crate::secret::key_hint(api_key),
            super::api_management_page(exchange, false)
        )));
    }
    Ok(())
}

/// Set equality of two IP lists.
fn same_ips(a: &[String], b: &[String]) -> bool {
    let set = |list: &[String]| list.iter().map(|ip| ip.trim().to_owned()).collect::<BTreeSet<_>>();
    set(a) == set(b)
}

impl ExchangeClient {
    /// A call signed by the master. Where the exchange answers with a challenge for its own 2FA
    /// code (Deribit) and the user typed one for this action, the call is sent once more with it.
    pub(crate) async fn master_call(
        &self,
        master: MasterKey<'_>,
        call: &Call,
    ) -> Result<serde_json::Value, ExchangeError> {
        master.endpoint.require_key_endpoints()?;
        let answer = self.signed(master.endpoint, master.credentials, call).await;
        let (Err(ExchangeError::ExchangeCodeRequired { exchange, challenge: Some(challenge) }), Some(code)) =
            (&answer, master.exchange_code)
        else {
            return answer;
        };
        let Some(answered) = adapter(*exchange).answer_challenge(call, challenge, code) else { return answer };
        match self.signed(master.endpoint, master.credentials, &answered).await {
            Err(ExchangeError::ExchangeCodeRequired { exchange, .. }) => {
                Err(ExchangeError::ExchangeCodeRefused { exchange })
            }
            other => other,
        }
    }

    /// The key's own inspection, answering the exchange's 2FA challenge with the code the user
    /// typed, if it asks (Deribit's `list_api_keys` on an account with security keys).
    pub async fn inspect_answering(&self, key: MasterKey<'_>) -> Result<KeyInspection, ExchangeError> {
        let adapter = adapter(key.endpoint.exchange);
        let data = self.master_call(key, &Call::get(adapter.profile().paths.inspect)).await?;
        adapter.parse_own_inspection(&data, key.endpoint.demo, key.credentials)
    }

    /// The master's sub-accounts, as its exchange lists them.
    pub async fn list_sub_accounts(&self, master: MasterKey<'_>) -> Result<Vec<SubAccount>, ExchangeError> {
        let api = api(master.endpoint.exchange)?;
        let (mut accounts, mut call) = (Vec::new(), api.list_sub_accounts());
        for _ in 0..MAX_PAGES {
            let data = self.master_call(master, &call).await?;
            accounts.extend(api.parse_sub_accounts(&data)?);
            match api.next_sub_accounts_page(&data) {
                Some(next) => call = next,
                None => return Ok(accounts),
            }
        }
        Err(ExchangeError::UnexpectedResponse {
            exchange: master.endpoint.exchange,
            detail: format!("the sub-account list goes on past {MAX_PAGES} pages"),
        })
    }

    /// The sub-account the user named (by id, name or uid), or why not.
    pub async fn find_sub_account(&self, master: MasterKey<'_>, named: &str) -> Result<SubAccount, ExchangeError> {
        let exchange = master.endpoint.exchange;
        let accounts = self.list_sub_accounts(master).await?;
        match accounts.iter().find(|a| a.is_named(named)) {
            Some(account) => Ok(account.clone()),
            None => Err(ExchangeError::SubAccountNotFound {
                exchange,
                named: named.trim().to_owned(),
                known: accounts.iter().map(|a| a.name.clone()).collect::<Vec<_>>().join(", "),
                noun: sub_key_facts(exchange)?.sub_account_noun,
            }),
        }
    }

    /// One sub-account's keys (`sub_account`: its [`SubAccount::id`]). No secrets: the exchanges
    /// never show a secret again after the create.
    pub async fn list_sub_keys(&self, master: MasterKey<'_>, sub_account: &str) -> Result<Vec<SubKey>, ExchangeError> {
        let api = api(master.endpoint.exchange)?;
        let (mut keys, mut cursor) = (Vec::new(), None::<String>);
        for _ in 0..MAX_PAGES {
            let data = self.master_call(master, &api.list_sub_keys(sub_account, cursor.as_deref())).await?;
            keys.extend(api.parse_sub_keys(&data)?);
            cursor = api.next_page(&data);
            if cursor.is_none() {
                return Ok(keys);
            }
        }
        Err(ExchangeError::UnexpectedResponse {
            exchange: master.endpoint.exchange,
            detail: format!("the sub-account's key list goes on past {MAX_PAGES} pages"),
        })
    }

    /// The sub-account's key with this label (OKX label, Bybit note, Binance apiName), if any:
    /// what a create that timed out may have made.
    pub async fn find_sub_key_by_label(
        &self,
        master: MasterKey<'_>,
        sub_account: &str,
        label: &str,
    ) -> Result<Option<SubKey>, ExchangeError> {
        let keys = self.list_sub_keys(master, sub_account).await?;
        Ok(keys.into_iter().find(|k| k.label == label))
    }

    /// Creates a key in a sub-account. Read and trade only; the IPs are checked against the
    /// exchange's limits first. Where the exchange needs a passphrase (OKX), Latchkey generates it.
    /// The answer's secret is a secret from the moment it is read; it is never shown again by the
    /// exchange, so the caller stores it before anything else.
    pub async fn create_sub_key(
        &self,
        master: MasterKey<'_>,
        spec: &SubKeySpec,
    ) -> Result<CreatedSubKey, ExchangeError> {
        let exchange = master.endpoint.exchange;
        let facts = sub_key_facts(exchange)?;
        check_sub_key_settings(exchange, &spec.settings)?;
        let passphrase = facts.passphrase.as_ref().map(generate_passphrase).transpose()?;
        let api = api(exchange)?;
        let data = self.master_call(master, &api.create_sub_key(spec, passphrase.as_ref())).await?;
        let mut created = api.parse_created(&data, passphrase)?;
        if let Some(complete) = api.complete_create(&data, spec) {
            // The key exists but lacks part of its setting (Deribit: made read-only, then given
            // trade and its IPs in one edit): until the edit lands it is deleted, never handed on.
            tokio::time::sleep(facts.writes.window / facts.writes.calls.max(1) as u32).await;
            if let Err(e) = self.master_call(master, &complete).await {
                let id = data["id"].as_i64().map(|id| id.to_string());
                let deleted = self.delete_listed(master, &spec.sub_account, &created.credentials.api_key, id).await;
                return Err(ExchangeError::CreateIncomplete {
                    exchange,
                    key_hint: crate::secret::key_hint(&created.credentials.api_key),
                    cause: Box::new(e),
                    deleted: deleted.is_ok(),
                });
            }
            created.permissions = spec.settings.permissions.clone();
            created.ip_whitelist = spec.settings.ip_whitelist.clone();
        }
        Ok(created)
    }

    /// Whether the exchange's API can lock a whole sub-account ([`SubKeyApi::lock_sub_account`]).
    pub fn can_lock_sub_accounts(exchange: Exchange) -> bool {
        api(exchange).is_ok_and(|api| api.lock_sub_account("").is_some())
    }

    /// Locks a whole sub-account through the master: every key of it stops at the exchange.
    pub async fn lock_sub_account(&self, master: MasterKey<'_>, sub_account: &str) -> Result<(), ExchangeError> {
        let exchange = master.endpoint.exchange;
        let call = api(exchange)?.lock_sub_account(sub_account).ok_or_else(|| {
            ExchangeError::NotAvailable(format!(
                "{exchange}'s API cannot lock a whole sub-account: freeze it on {exchange}'s website."
            ))
        })?;
        self.master_call(master, &call).await.map(|_| ())
    }

    /// The label a key gets on its exchange for `label` in Latchkey (see
    /// [`SubKeyApi::exchange_label`]); the label itself where the exchange has no narrower rule.
    pub fn exchange_label(exchange: Exchange, label: &str) -> String {
        api(exchange).map(|api| api.exchange_label(label)).unwrap_or_else(|_| label.to_owned())
    }

    /// Sets a sub key's whole setting (permissions and IP whitelist), then reads it back from the
    /// sub-account's listing: where the exchange may have added to the IP list instead of
    /// replacing it, the rest is removed. Returns the key as the exchange lists it afterwards.
    /// `passphrase`: the key's own, where the exchange asks for it (KuCoin).
    pub async fn modify_sub_key(
        &self,
        master: MasterKey<'_>,
        sub_account: &str,
        api_key: &SecretString,
        passphrase: Option<&SecretString>,
        settings: &SubKeySettings,
    ) -> Result<SubKey, ExchangeError> {
        let exchange = master.endpoint.exchange;
        let facts = sub_key_facts(exchange)?;
        check_sub_key_settings(exchange, settings)?;
        let api = api(exchange)?;
        require_own_passphrase(exchange, api_key, passphrase)?;
        if api.modify_needs_passphrase() && passphrase.is_none() {
            return Err(ExchangeError::NotAvailable(format!(
                "{exchange} changes a sub-account key only with that key's own passphrase, and Latchkey does not hold the one of key {}. Change it on {exchange}'s API page ({}).",
                crate::secret::key_hint(api_key),
                super::api_management_page(exchange, false)
            )));
        }
        let spacing = facts.writes.window / facts.writes.calls.max(1) as u32;
        let calls = if api.modify_needs_listing() {
            let listed = self.listed_key(master, sub_account, api_key).await?;
            api.modify_listed(sub_account, &listed, passphrase, settings)
        } else {
            api.modify_sub_key(sub_account, api_key, passphrase, settings)
        };
        for (i, call) in calls.iter().enumerate() {
            if i > 0 {
                tokio::time::sleep(spacing).await;
            }
            self.master_call(master, call).await?;
        }
        let mut listed = self.listed_key(master, sub_account, api_key).await?;
        if facts.ip_update == IpUpdate::AddsThenRemoves && !same_ips(&listed.ip_whitelist, &settings.ip_whitelist) {
            let extra: Vec<String> =
                listed.ip_whitelist.iter().filter(|ip| !settings.ip_whitelist.contains(ip)).cloned().collect();
            if let Some(call) = api.remove_sub_key_ips(sub_account, api_key, &extra).filter(|_| !extra.is_empty()) {
                tokio::time::sleep(spacing).await;
                self.master_call(master, &call).await?;
                listed = self.listed_key(master, sub_account, api_key).await?;
            }
        }
        if !same_ips(&listed.ip_whitelist, &settings.ip_whitelist) {
            return Err(ExchangeError::UnexpectedResponse {
                exchange,
                detail: format!(
                    "after the change the key is bound to [{}], not to [{}]",
                    listed.ip_whitelist.join(", "),
                    settings.ip_whitelist.join(", ")
                ),
            });
        }
        Ok(listed)
    }

    async fn listed_key(
        &self,
        master: MasterKey<'_>,
        sub_account: &str,
        api_key: &SecretString,
    ) -> Result<SubKey, ExchangeError> {
        let exchange = master.endpoint.exchange;
        let keys = self.list_sub_keys(master, sub_account).await?;
        // EXPOSE: compared with the listing's API keys, to find the one just changed.
        keys.into_iter().find(|k| k.api_key.expose_secret() == api_key.expose_secret()).ok_or_else(|| {
            ExchangeError::UnexpectedResponse {
                exchange,
                detail: "the changed key is missing from its sub-account's key list".to_owned(),
            }
        })
    }

    /// Deletes a sub-account's key through the master (the exchange's sub-key delete endpoint).
    /// An accepted delete is not proof the key is gone (see `revoke`); this is for keys nobody
    /// holds the secret of, such as one a timed-out create made.
    /// `passphrase`: the key's own, where the exchange asks for it (KuCoin); without it such a key
    /// cannot be deleted through the API.
    pub async fn delete_sub_key(
        &self,
        master: MasterKey<'_>,
        sub_account: &str,
        api_key: &SecretString,
        passphrase: Option<&SecretString>,
    ) -> Result<(), ExchangeError> {
        require_own_passphrase(master.endpoint.exchange, api_key, passphrase)?;
        let name = self.key_name(master, sub_account, api_key).await?;
        self.delete_named(master, sub_account, name, passphrase).await
    }

    /// The master's delete of the key the exchange knows as `name` (its API key, or its id).
    async fn delete_named(
        &self,
        master: MasterKey<'_>,
        sub_account: &str,
        name: String,
        passphrase: Option<&SecretString>,
    ) -> Result<(), ExchangeError> {
        let exchange = master.endpoint.exchange;
        let route = exchange.capabilities().delete_sub_key.as_ref().ok_or_else(|| unsupported(exchange))?;
        let mut params = Vec::new();
        if let Some(account) = &route.account {
            params.push((account.param, sub_account.to_owned()));
        }
        params.push((route.key_param, name));
        if let (Some(param), Some(passphrase)) = (route.passphrase_param, passphrase) {
            // EXPOSE: the exchange asks for the deleted key's own passphrase in the master's call.
            params.push((param, passphrase.expose_secret().to_owned()));
        }
        self.master_call(master, &route.call(params)).await.map(|_| ())
    }

    /// What the delete names the key by: its API key, or where the exchange names keys by id
    /// ([`SubKeyApi::deletes_by_listed_id`]) the id its sub-account's listing shows for it.
    pub(crate) async fn key_name(
        &self,
        master: MasterKey<'_>,
        sub_account: &str,
        api_key: &SecretString,
    ) -> Result<String, ExchangeError> {
        if api(master.endpoint.exchange)?.deletes_by_listed_id() {
            let listed = self.listed_key(master, sub_account, api_key).await?;
            return listed.id.ok_or_else(|| ExchangeError::UnexpectedResponse {
                exchange: master.endpoint.exchange,
                detail: "the key's listing shows no id".to_owned(),
            });
        }
        // EXPOSE: the master names the key to delete by its API key.
        Ok(api_key.expose_secret().to_owned())
    }

    /// Deletes a key just made whose id the create answered, or else the one its listing shows.
    async fn delete_listed(
        &self,
        master: MasterKey<'_>,
        sub_account: &str,
        api_key: &SecretString,
        id: Option<String>,
    ) -> Result<(), ExchangeError> {
        let name = match id.filter(|_| api(master.endpoint.exchange).is_ok_and(|a| a.deletes_by_listed_id())) {
            Some(id) => id,
            None => self.key_name(master, sub_account, api_key).await?,
        };
        self.delete_named(master, sub_account, name, None).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AccountKind;

    fn inspection(exchange: Exchange, kind: AccountKind, permissions: &[Permission], ips: &[&str]) -> KeyInspection {
        KeyInspection {
            exchange,
            permissions: permissions.to_vec(),
            ip_restricted: !ips.is_empty(),
            ip_whitelist: ips.iter().map(|ip| (*ip).to_owned()).collect(),
            expires_at: None,
            created_at: None,
            account_kind: kind,
            account_uid: None,
            master_uid: None,
            label: None,
            demo: false,
        }
    }

    #[test]
    fn okx_masters_need_the_master_account_an_ip_binding_and_trade() {
        use Permission::*;
        let ready = master_readiness(&inspection(Exchange::Okx, AccountKind::Master, &[Read, Trade], &["1.2.3.4"]));
        assert_eq!(ready.readiness, Readiness::Ready);
        assert!(ready.messages().is_empty());
        let lacking = master_readiness(&inspection(Exchange::Okx, AccountKind::Master, &[Read], &[]));
        assert_eq!(lacking.readiness, Readiness::NotReady);
        let needs: Vec<Need> = lacking.missing.iter().map(|m| m.need).collect();
        assert_eq!(needs, vec![Need::IpBound, Need::AnyPermission(&[Trade])]);
        assert!(lacking.messages()[0].contains("bound to IP addresses"), "{:?}", lacking.messages());
        let json = serde_json::to_value(&lacking).unwrap();
        assert_eq!(json["readiness"], "not_ready");
        assert_eq!(json["missing"][0]["need"], "ip_bound");
        assert_eq!(json["missing"][1]["need"], "any_permission");
        assert_eq!(json["missing"][1]["permissions"], serde_json::json!(["trade"]));
        assert!(json["missing"][1]["message"].as_str().unwrap().contains("Trade"));
        let sub = master_readiness(&inspection(Exchange::Okx, AccountKind::Sub, &[Read, Trade], &["1.2.3.4"]));
        assert_eq!(sub.missing.iter().map(|m| m.need).collect::<Vec<_>>(), vec![Need::MasterAccount]);
    }

    #[test]
    fn bybit_masters_need_a_transfer_or_withdrawal_permission() {
        use Permission::*;
        let trade_only = master_readiness(&inspection(Exchange::Bybit, AccountKind::Master, &[Read, Trade], &[]));
        assert_eq!(trade_only.readiness, Readiness::NotReady);
        assert!(trade_only.messages()[0].contains("Account Transfer, Subaccount Transfer or Withdrawal"));
        for enough in [Transfer, Withdraw] {
            let ready = master_readiness(&inspection(Exchange::Bybit, AccountKind::Master, &[Read, enough], &[]));
            assert!(ready.is_ready(), "{enough:?}: {:?}", ready.messages());
        }
    }

    #[test]
    fn binance_cannot_confirm_the_account_kind_from_an_inspection() {
        use Permission::*;
        let unsure = master_readiness(&inspection(Exchange::Binance, AccountKind::Unknown, &[Read, Trade], &[]));
        assert_eq!(unsure.readiness, Readiness::Unconfirmed);
        assert_eq!(unsure.unconfirmed.len(), 1);
        assert!(unsure.missing.is_empty());
        let read_only = master_readiness(&inspection(Exchange::Binance, AccountKind::Unknown, &[Read], &[]));
        assert_eq!(read_only.readiness, Readiness::NotReady);
        assert!(read_only.messages()[0].contains("Enable Spot & Margin Trading"));
    }

    #[test]
    fn settings_are_checked_against_the_exchanges_limits() {
        let settings =
            |permissions: Vec<Permission>, ips: Vec<String>| SubKeySettings { permissions, ip_whitelist: ips };
        let ok = settings(vec![Permission::Read, Permission::Trade], vec!["127.0.0.1".into()]);
        assert!(check_sub_key_settings(Exchange::Okx, &ok).is_ok());
        let withdraw = settings(vec![Permission::Read, Permission::Withdraw], vec![]);
        assert_eq!(check_sub_key_settings(Exchange::Bybit, &withdraw).unwrap_err().kind(), "not_grantable");
        let many: Vec<String> = (1..=21).map(|i| format!("10.0.0.{i}")).collect();
        let err = check_sub_key_settings(Exchange::Okx, &settings(vec![Permission::Read], many)).unwrap_err();
        assert_eq!(err.kind(), "ip_list_refused");
        assert!(err.to_string().contains("at most 20"), "{err}");
        let long: Vec<String> = (0..40).map(|i| format!("2001:db8::{i:x}")).collect();
        let err = check_sub_key_settings(Exchange::Binance, &settings(vec![Permission::Read], long)).unwrap_err();
        assert!(err.to_string().contains("500 characters"), "{err}");
        let err = check_sub_key_settings(Exchange::Okx, &settings(vec![Permission::Read], vec!["my-vps".into()]));
        assert!(err.unwrap_err().to_string().contains("'my-vps' is not an IP address"));
    }

    #[test]
    fn generated_passphrases_follow_okx_rules_and_differ() {
        let rule = sub_key_facts(Exchange::Okx).unwrap().passphrase.unwrap();
        let mut seen = BTreeSet::new();
        for _ in 0..200 {
            let passphrase = generate_passphrase(&rule).unwrap();
            let text = passphrase.expose_secret();
            assert!((rule.min_len..=rule.max_len).contains(&text.len()), "{}", text.len());
            assert!(passphrase_has_all_classes(text));
            assert!(text.bytes().all(|b| b.is_ascii_alphanumeric() || SPECIALS.contains(&b)));
            seen.insert(text.to_owned());
        }
        assert_eq!(seen.len(), 200, "no two alike");
    }
}
