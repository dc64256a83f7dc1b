//! What an exchange is to Latchkey: one [`Adapter`] per exchange, in one module (`okx.rs`,
//! `bybit.rs`, `binance.rs`), found through the registry ([`super::adapter`]). The adapter signs,
//! names its hosts and pages, reads its answers, maps its error codes, and says what its API allows
//! for a key ([`Capabilities`]); the engines (revoke, rotation, risk, scan, validation) read those
//! and never ask which exchange it is.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;

use secrecy::SecretString;

use super::form::Form;
use super::request::{Call, RawResponse, SignedRequest};
use super::{Endpoint, ExchangeError};
use crate::model::{
    CreatedSubKey, Exchange, KeyInspection, Permission, Prerequisite, SubAccount, SubKey, SubKeySettings, SubKeySpec,
};
use crate::secret::Credentials;

/// One exchange. Pure functions only: the client does the network and the clock. Crate-private,
/// as the request shapes it works on are; its facts are public through [`Profile`].
pub(crate) trait Adapter: Send + Sync {
    /// Names, hosts, pages, limits, capabilities: the facts, as data.
    fn profile(&self) -> &'static Profile;

    /// The request as the exchange wants it signed. `now` is already corrected for clock skew.
    fn sign(
        &self,
        endpoint: &Endpoint,
        credentials: &Credentials,
        call: &Call,
        now: DateTime<Utc>,
        recv_window_ms: u32,
    ) -> Result<SignedRequest, ExchangeError>;

    /// The envelope check and the error-code mapping every answer goes through: the payload on
    /// success, a typed error otherwise.
    fn interpret(&self, raw: &RawResponse) -> Result<Value, ExchangeError>;

    /// The payload of the inspection call ([`Paths::inspect`]) as a [`KeyInspection`].
    fn parse_inspection(&self, data: &Value, demo: bool) -> Result<KeyInspection, ExchangeError>;

    /// The calling key's inspection where the payload lists every key of the account (Deribit's
    /// `list_api_keys`): the row of `credentials`' key. Default: [`Adapter::parse_inspection`].
    fn parse_own_inspection(
        &self,
        data: &Value,
        demo: bool,
        _credentials: &Credentials,
    ) -> Result<KeyInspection, ExchangeError> {
        self.parse_inspection(data, demo)
    }

    /// The call by which a key deletes itself at `path` ([`SelfDeleteRoute::path`]), from the
    /// payload of its own inspection call (Deribit names the key by the `id` its listing shows).
    /// Default: a POST with no parameters (Bybit).
    fn self_delete_call(
        &self,
        path: &'static str,
        _inspect_data: &Value,
        _credentials: &Credentials,
    ) -> Result<Call, ExchangeError> {
        Ok(Call::post(path, Vec::new()))
    }

    /// Unix milliseconds from the payload of the public time call ([`Paths::server_time`]).
    fn parse_server_time(&self, data: &Value) -> Option<i64>;

    /// Whether this refusal *of a key's own signed read* proves that key no longer exists. Only
    /// the exchange's invalid-key codes qualify; a refusal of a call signed by another key (a
    /// master) proves nothing about the key it names.
    fn proves_gone(&self, code: &str) -> bool;

    /// Whether that invalid-key code is also what the exchange answers a live key sent to the
    /// wrong host or environment (Bybit's 10003): then it proves the key gone only for a key known
    /// to answer at this host (see `revoke::proof_verdict`).
    fn gone_code_needs_known_host(&self, _code: &str) -> bool {
        false
    }

    /// Whether a generic `API_KEY` / `API_SECRET` pair found by the scanner has this exchange's
    /// distinctive shape (so the pair is attributed to it with no name to go by).
    fn distinctive_shape(&self, key: &str, secret: &str, has_passphrase: bool) -> bool;

    /// The master's sub-account management calls ([`Profile::sub_keys`] says whether there are
    /// any). Each builds the call or reads its payload; the client sends them.
    fn sub_key_api(&self) -> Option<&dyn SubKeyApi> {
        None
    }

    /// How the signing agent checks, re-signs and polices this exchange's requests; `None` where
    /// the agent does not serve the exchange yet.
    fn agent_scheme(&self) -> Option<&dyn super::agent_scheme::AgentScheme> {
        None
    }

    /// Whether the inspection reports the key's permissions. Gate's `account/detail` does not:
    /// its keys' permissions are unknown to Latchkey, never "read-only".
    fn reports_permissions(&self) -> bool {
        true
    }

    /// `call` once more, answering the exchange's challenge for its own 2FA code with the code the
    /// user typed (Deribit: `authorization_data` and `challenge`); `None`: it never asks.
    fn answer_challenge(&self, _call: &Call, _challenge: &str, _code: &SecretString) -> Option<Call> {
        None
    }

    /// Whether each request carries a nonce that must grow for as long as the key lives, across
    /// every process signing with it (Kraken). The client then reserves one from the shared store
    /// and passes it in [`Call::nonce`]; signing stays pure.
    fn persisted_nonce(&self) -> bool {
        false
    }
}

/// A master key managing its sub-accounts' keys, in the exchange's request and answer shapes.
pub(crate) trait SubKeyApi: Send + Sync {
    fn list_sub_accounts(&self) -> Call;
    fn parse_sub_accounts(&self, data: &Value) -> Result<Vec<SubAccount>, ExchangeError>;
    /// The call for the sub-account list's next page, where the exchange pages it (KuCoin: 100
    /// a page).
    fn next_sub_accounts_page(&self, _data: &Value) -> Option<Call> {
        None
    }

    /// `sub_account` is the [`SubAccount::id`]; `cursor` the previous page's [`SubKeyApi::next_page`].
    fn list_sub_keys(&self, sub_account: &str, cursor: Option<&str>) -> Call;
    fn parse_sub_keys(&self, data: &Value) -> Result<Vec<SubKey>, ExchangeError>;
    /// The cursor of the listing's next page, where the exchange pages it (Bybit: 20 keys a page).
    fn next_page(&self, _data: &Value) -> Option<String> {
        None
    }

    /// `passphrase`: the one Latchkey generated for the new key, where the exchange needs one.
    fn create_sub_key(&self, spec: &SubKeySpec, passphrase: Option<&SecretString>) -> Call;
    /// The create's answer, its secret (and the passphrase sent) wrapped as secrets at once.
    fn parse_created(&self, data: &Value, passphrase: Option<SecretString>) -> Result<CreatedSubKey, ExchangeError>;

    /// The calls that set a sub key's whole setting, in order. `passphrase`: the key's own, which
    /// Latchkey holds, for the exchanges whose modify asks for it (KuCoin).
    fn modify_sub_key(
        &self,
        sub_account: &str,
        api_key: &SecretString,
        passphrase: Option<&SecretString>,
        settings: &SubKeySettings,
    ) -> Vec<Call>;
    /// A call that takes these IPs off the key's whitelist, where setting the list may have added
    /// to it rather than replaced it ([`IpUpdate::AddsThenRemoves`]).
    fn remove_sub_key_ips(&self, _sub_account: &str, _api_key: &SecretString, _ips: &[String]) -> Option<Call> {
        None
    }

    /// Whether the modify needs what the sub-account's listing says about the key: its label
    /// (Bitget: `label` is required) or its id (Deribit names keys by id). The client then reads
    /// the listing and calls [`SubKeyApi::modify_listed`].
    fn modify_needs_listing(&self) -> bool {
        false
    }

    /// [`SubKeyApi::modify_sub_key`] for the key as its sub-account's listing shows it.
    fn modify_listed(
        &self,
        sub_account: &str,
        listed: &SubKey,
        passphrase: Option<&SecretString>,
        settings: &SubKeySettings,
    ) -> Vec<Call> {
        self.modify_labelled(sub_account, &listed.api_key, passphrase, &listed.label, settings)
    }

    /// [`SubKeyApi::modify_sub_key`] with the key's current label, where it must be repeated.
    fn modify_labelled(
        &self,
        sub_account: &str,
        api_key: &SecretString,
        passphrase: Option<&SecretString>,
        _label: &str,
        settings: &SubKeySettings,
    ) -> Vec<Call> {
        self.modify_sub_key(sub_account, api_key, passphrase, settings)
    }

    /// Whether the modify needs the key's own passphrase even where the delete does not (Bitget,
    /// which has no delete).
    fn modify_needs_passphrase(&self) -> bool {
        false
    }

    /// The call that completes a create whose endpoint cannot set the whole setting (Deribit's
    /// `create_api_key` takes no IP whitelist), from the create's answer; `None`: nothing to do.
    fn complete_create(&self, _created: &Value, _spec: &SubKeySpec) -> Option<Call> {
        None
    }

    /// The label a key gets on the exchange for this label in Latchkey, where the exchange's
    /// rules for labels are narrower than Latchkey's (Deribit: letters, digits and `_`, 16 long).
    fn exchange_label(&self, label: &str) -> String {
        label.to_owned()
    }

    /// The call that locks a whole sub-account, each of its keys (and logins) with it, where the
    /// API has one (Gate's `lock`, Bybit's "Freeze Sub UID"): an emergency stop, even where a key
    /// cannot be deleted.
    fn lock_sub_account(&self, _sub_account: &str) -> Option<Call> {
        None
    }

    /// Whether the delete names the key by the id its sub-account's listing shows
    /// ([`SubKey::id`]) instead of by its API key ([`SubKeyDelete::key_param`] then carries it).
    fn deletes_by_listed_id(&self) -> bool {
        false
    }
}

/// What a master key needs and what the exchange allows when it manages sub-account keys.
#[derive(Debug)]
pub struct SubKeyFacts {
    /// What the exchange asks of the master key; each unmet one becomes a sentence for the user.
    pub prerequisites: &'static [Prerequisite],
    /// What people call the value that names a sub-account here ("sub-account name").
    pub sub_account_noun: &'static str,
    /// The most IP addresses one key's whitelist may hold; `None`: not documented.
    pub max_ips: Option<usize>,
    /// The most characters the IP list may take as sent; `None`: not documented.
    pub max_ip_chars: Option<usize>,
    pub ip_update: IpUpdate,
    /// What the exchange does to a sub key without an IP whitelist, for the acknowledgement.
    pub no_ip_whitelist: &'static str,
    /// The create, modify and delete endpoints' limit per master account.
    pub writes: ExchangeLimit,
    /// The sub-account key listing's limit per master account: a rotation lists twice (the label
    /// search before the create, the IP check after it), and several rotations share the master.
    pub lists: ExchangeLimit,
    /// The passphrase a new key needs, which Latchkey generates; `None`: keys have none.
    pub passphrase: Option<PassphraseRule>,
    /// The lifetimes, in days, the exchange can give a new key, after which the key stops working
    /// by itself (KuCoin's `expire`); empty: keys live until deleted.
    pub lifetimes: &'static [u32],
}

/// How setting a sub key's IP whitelist behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpUpdate {
    /// The list passed replaces the key's list (OKX `modify-apikey`: "The IP will be reset").
    Replaces,
    /// The list passed replaces the key's list, and leaving it out unbinds the key (Bybit
    /// `update-sub-api`: "don't pass ips or pass with "*" means no bind").
    ReplacesAndOmissionUnbinds,
    /// Not documented whether setting the list adds or replaces (Binance `ipRestriction`), so
    /// Latchkey sets it, reads back what the key holds and removes the rest.
    AddsThenRemoves,
}

/// The documented rule for a generated passphrase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PassphraseRule {
    pub min_len: usize,
    pub max_len: usize,
    /// At least one digit, one upper-case letter, one lower-case letter and one special character.
    /// `false`: letters and digits only, which need no escaping in a query string (KuCoin's
    /// delete sends the passphrase there).
    pub all_classes: bool,
}

/// An exchange's facts, as data.
#[derive(Debug)]
pub struct Profile {
    pub exchange: Exchange,
    /// The machine name: `okx`; also the CLI's `--exchange` value and the JSON value.
    pub id: &'static str,
    /// What people call it: `OKX`.
    pub name: &'static str,
    /// How the "Add key" form asks for the key, and the shape rules of its credentials (also
    /// whether it has a passphrase): Rust's check and the UI's read the same data.
    pub form: Form,
    pub environments: Environments,
    pub paths: Paths,
    pub limits: Limits,
    pub capabilities: Capabilities,
    pub scan: ScanFacts,
    /// Where the facts come from (`/work/shared/reference/exchange-keys.md` cites each source).
    pub sources: &'static [&'static str],
    /// Sub-account key management by a master key; `None` where the API has none.
    pub sub_keys: Option<SubKeyFacts>,
}

/// Where the exchange lives. A custom base URL (proxy, regional host, simulator) is the third
/// environment; [`Endpoint`] resolves all three.
#[derive(Debug)]
pub struct Environments {
    pub live_url: &'static str,
    pub demo_url: &'static str,
    /// A header demo requests carry (OKX demo trading shares the live host).
    pub demo_header: Option<(&'static str, &'static str)>,
    /// When the demo environment lacks the key endpoints (inspect, revoke): why, for the user.
    pub demo_lacks_key_endpoints: Option<&'static str>,
    /// The web pages where a person deletes API keys, live and demo.
    pub api_page: &'static str,
    pub api_page_demo: &'static str,
}

/// The calls every exchange has.
#[derive(Debug)]
pub struct Paths {
    /// The calling key's own inspection: also the harmless read that proves a revoke.
    pub inspect: &'static str,
    /// The public server time, for clock-skew correction.
    pub server_time: &'static str,
}

/// The exchange's documented rate limits, as Latchkey keeps under them.
#[derive(Debug)]
pub struct Limits {
    /// The key-deletion endpoints, per calling account.
    pub revoke: ExchangeLimit,
    /// The gap between two background inspections, well inside the documented limit.
    pub inspect_spacing: Duration,
    /// The documented limits, in words, for the capabilities table.
    pub documented: &'static str,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExchangeLimit {
    /// At most this many calls per `window`, per calling account.
    pub calls: usize,
    pub window: Duration,
    /// Requests in flight at once to this exchange.
    pub concurrency: usize,
}

/// Whether the exchange's API documents something. `Unknown`: nothing read confirms or denies it
/// (UNCONFIRMED in the reference), so Latchkey treats it as not available.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Support {
    Yes,
    No,
    Unknown,
}

impl Support {
    pub fn is_yes(self) -> bool {
        self == Support::Yes
    }
}

/// What the exchange's API allows for a key. Revoke and rotation read this; nothing else decides
/// by the exchange's name.
#[derive(Debug)]
pub struct Capabilities {
    /// The calling key can read its own permissions and IP whitelist.
    pub inspect: Support,
    /// A key can delete itself, and how.
    pub delete_self: Option<SelfDelete>,
    /// A master key can delete a sub-account's key, and how.
    pub delete_sub_key: Option<SubKeyDelete>,
    /// A master key can list a sub-account's keys.
    pub list_sub_keys: Support,
    /// A master key can create a key for a sub-account.
    pub create_sub_key: Support,
    /// A master key can change a sub-account key's IP whitelist / permissions.
    pub modify_sub_key_ips: Support,
    pub modify_sub_key_permissions: Support,
    /// What a master can grant a new sub-account key; `None`: unknown.
    pub grantable: Option<&'static [Permission]>,
    /// When the exchange invalidates keys by itself; `None`: unknown.
    pub expiry: Option<&'static [ExpiryRule]>,
}

/// A key deleting itself. The route depends on whether it is a master or a sub-account key and on
/// the permissions it holds, which the key's own inspection tells.
#[derive(Debug)]
pub struct SelfDelete {
    pub master: Option<SelfDeleteRoute>,
    pub sub: Option<SelfDeleteRoute>,
    /// The manual checklist's reason for a sub key without the needed permission.
    pub sub_refused: &'static str,
    /// The reason for any other key (a master without the permission, or an unknown kind).
    pub other_refused: &'static str,
}

#[derive(Debug)]
pub struct SelfDeleteRoute {
    pub path: &'static str,
    /// The key needs one of these permissions to call it.
    pub needs_any: &'static [Permission],
}

impl SelfDelete {
    /// Whether a key with these permissions may delete itself by one of the routes.
    pub fn allowed_with(&self, permissions: &[Permission]) -> bool {
        [&self.master, &self.sub].into_iter().flatten().any(|r| r.needs_any.iter().any(|p| permissions.contains(p)))
    }
}

/// A master key deleting a sub-account's key.
#[derive(Debug)]
pub struct SubKeyDelete {
    pub path: &'static str,
    pub method: DeleteMethod,
    /// The parameter naming the sub-account, and what the user calls it; `None` when the key alone
    /// identifies it (Bybit).
    pub account: Option<AccountParam>,
    /// The parameter carrying the API key to delete.
    pub key_param: &'static str,
    /// The parameter carrying the key's own passphrase, where the exchange asks for it to delete
    /// (and to modify) a sub key (KuCoin); Latchkey holds it.
    pub passphrase_param: Option<&'static str>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeleteMethod {
    Post,
    Delete,
    /// Deribit's JSON-RPC over HTTP: every method a signed GET.
    Get,
}

#[derive(Debug)]
pub struct AccountParam {
    pub param: &'static str,
    /// e.g. "sub-account name", in "Latchkey needs the key's sub-account name…".
    pub noun: &'static str,
}

impl SubKeyDelete {
    /// Whether Latchkey knows enough to call it for a key with this recorded sub-account.
    pub fn ready_with(&self, sub_account: Option<&str>) -> bool {
        self.account.is_none() || sub_account.is_some_and(|s| !s.trim().is_empty())
    }

    pub(crate) fn call(&self, params: Vec<(&'static str, String)>) -> Call {
        match self.method {
            DeleteMethod::Post => Call::post(self.path, params),
            DeleteMethod::Delete => Call::delete(self.path, params),
            DeleteMethod::Get => Call::get_with(self.path, params),
        }
    }
}

/// One way an exchange invalidates keys without being asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpiryRule {
    /// Live keys with one of `permissions` and no IP binding expire after `days` without use.
    IdleWithoutIp { days: i64, permissions: &'static [Permission] },
    /// Keys with no IP binding stop working after `days` ("No ip bound api key will be invalid
    /// after 90 days").
    WithoutIp { days: i64 },
    /// Keys stop working `days` after the account password changes.
    AfterPasswordChange { days: i64 },
    /// The inspection reports the key's expiry date ([`KeyInspection::expires_at`]).
    Reported,
}

impl Capabilities {
    /// Whether the key's own inspection says when it expires ([`ExpiryRule::Reported`]).
    pub fn reports_expiry(&self) -> bool {
        self.expiry.is_some_and(|rules| rules.contains(&ExpiryRule::Reported))
    }

    /// The idle-expiry rule, if the exchange has one: its days and the permissions it applies to.
    pub fn idle_expiry(&self) -> Option<(i64, &'static [Permission])> {
        self.expiry?.iter().find_map(|rule| match rule {
            ExpiryRule::IdleWithoutIp { days, permissions } => Some((*days, *permissions)),
            _ => None,
        })
    }
}

/// What the scanner needs to recognise the exchange's credentials in files.
#[derive(Debug)]
pub struct ScanFacts {
    /// Words and ccxt ids that name the exchange in variable names (`OKX_API_KEY`, `okex5`).
    pub names: &'static [&'static str],
    /// HTTP headers that carry a credential in curl commands and scripts.
    pub headers: &'static [(&'static str, HeaderPart)],
    /// A lone API key, without its secret or passphrase beside it, counts as a finding. Not for
    /// OKX: a UUID alone is as likely a session or request id.
    pub lone_key_counts: bool,
    /// A well-shaped stand-in credential set, to test one part alone with the full rules.
    pub sample: (&'static str, &'static str, Option<&'static str>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderPart {
    Key,
    Passphrase,
}
