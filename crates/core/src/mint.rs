//! Minting a bot key: a master key creates a key in one of its sub-accounts through the exchange's
//! API, and the secret goes straight into the keychain: nobody sees, types or copies it.
//!
//! The order is what keeps it safe. Everything the user typed is checked first (no code is spent
//! on a typo); then the master's own inspection says whether it can manage sub-account keys (each
//! missing prerequisite in the exchange's words); the sub-account must be one the exchange lists
//! and hold no key with the new label yet (so a key found by that label later is the one Latchkey
//! made). Only then is the 2FA code checked (when 2FA is set up; a wrong one counts toward the
//! guard's persisted backoff), and the one write is sent: the create. Its secret is written to
//! the keychain before anything else; the new key then signs a read with its own credentials, and
//! only a key that passed it is recorded with bots allowed. A key that did not is recorded with
//! bots not allowed, and the user is told why.
//!
//! A create whose answer never came (a timeout, a dropped connection, a 5xx, a garbled answer) may
//! still have made the key. Latchkey does not simply send it again: it looks for the key by its
//! label first. A key found there is useless (nobody holds its secret), so the master deletes it;
//! then one more create is sent, the exchange's write limit waited out between the calls.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::audit::{Action, Event, Outcome};
use crate::exchange::{
    check_sub_key_settings, master_readiness, sub_key_facts, Endpoint, ExchangeClient, ExchangeError, MasterKey,
};
use crate::guard::{Guard, GuardError};
use crate::model::{
    CreatedSubKey, Exchange, KeyId, KeyRecord, KeyStatus, MasterReadiness, MintRecord, Permission, SubAccount,
    SubKeySettings, SubKeySpec, DEFAULT_ROTATION_DAYS,
};
use secrecy::SecretString;

use crate::secret::{key_hint, Credentials};
use crate::validate;
use crate::vault::Vault;

/// What the user asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MintRequest {
    pub master: KeyId,
    /// The sub-account by name, id or uid, as `subaccounts` lists it.
    pub sub_account: String,
    /// The new key's label in Latchkey, and its label (note) on the exchange.
    pub label: String,
    /// Read and trade at most; read is always included.
    pub permissions: Vec<Permission>,
    pub ip_whitelist: Vec<String>,
    /// The user acknowledged a key without an IP whitelist ([`no_ip_whitelist_warning`]).
    pub no_ip_whitelist: bool,
    pub rotation_days: Option<u32>,
    pub auto_rotate: bool,
    /// Days until the exchange itself expires the key, where it offers lifetimes (KuCoin: 30, 90,
    /// 180, 360); `None`: never.
    pub expire_days: Option<u32>,
}

#[derive(Debug, thiserror::Error)]
pub enum MintError {
    #[error("A bot key without an IP whitelist needs an explicit acknowledgement: {warning}. Bind it to the bot's IP addresses (--ip), or acknowledge with --no-ip-whitelist.")]
    IpWhitelistRequired { warning: String },

    #[error("An IP whitelist and \"no IP whitelist\" at once: give the bot's IP addresses, or acknowledge a key without any, not both.")]
    IpsAndNoWhitelist,

    #[error("{exchange} {}", lifetimes_text(.lifetimes))]
    LifetimeNotOffered { exchange: Exchange, lifetimes: &'static [u32] },

    #[error("'{label}' cannot mint keys: it is {status}. Choose an active key of the master account.")]
    MasterNotUsable { label: String, status: String },

    #[error("'{label}' cannot manage sub-account keys on {exchange} yet. {}", .reasons.join(" "))]
    MasterNotReady { label: String, exchange: Exchange, reasons: Vec<String> },

    #[error("{exchange} sub-account '{sub_account}' already has a key labelled '{label}'. Choose another label (Latchkey finds the keys it made by their label), or delete that key on {exchange}'s website.")]
    LabelOnExchange { exchange: Exchange, sub_account: String, label: String },

    #[error("Minting a key for a bot needs a 2FA code: enter the code your authenticator app shows.")]
    CodeNeeded,

    #[error("{exchange} did not answer the create ({cause}), and then made the key {key_hint} labelled '{label}' that nobody holds the secret of, which Latchkey could not delete ({delete_error}). Delete it on {exchange}'s website, then mint again.")]
    OrphanLeft { exchange: Exchange, label: String, key_hint: String, cause: String, delete_error: String },

    #[error("{exchange} did not answer the create ({cause}), and Latchkey could not look whether the key was made ({lookup}), so it did not create another. Look at sub-account '{sub_account}' on {exchange}'s website for a key labelled '{label}'; delete it if it is there, then mint again.")]
    OutcomeUnknown { exchange: Exchange, sub_account: String, label: String, cause: String, lookup: String },

    #[error("{exchange} did not answer the create twice ({cause}). A key labelled '{label}' may exist in sub-account '{sub_account}' without anyone holding its secret: look there on {exchange}'s website, delete it if it is there, then mint again.")]
    NoAnswerTwice { exchange: Exchange, sub_account: String, label: String, cause: String },

    #[error("{exchange} created the key {key_hint} and its secret is in the keychain, but Latchkey could not record it ({cause}). Run `latchkey orphans` (or restart the app) to restore it to the list.")]
    NotRecorded { exchange: Exchange, key_hint: String, cause: String },

    #[error("{exchange} created the key {key_hint}, but Latchkey could not keep its secret ({cause}), so the master deleted it again{}. Fix the keychain (see the message above), then mint again.", deleted_note(.deleted))]
    NotKept { exchange: Exchange, key_hint: String, cause: String, deleted: Option<String> },

    #[error(transparent)]
    Exchange(#[from] ExchangeError),

    #[error(transparent)]
    Guard(#[from] GuardError),

    #[error(transparent)]
    Core(#[from] crate::Error),
}

impl From<validate::Invalid> for MintError {
    fn from(e: validate::Invalid) -> Self {
        MintError::Core(e.into())
    }
}

fn lifetimes_text(lifetimes: &[u32]) -> String {
    match lifetimes {
        [] => "cannot give a key a lifetime: its keys live until deleted. Leave the expiry at \"never\"; Latchkey's rotation retires the key.".to_owned(),
        [.., last] => {
            let rest: Vec<String> = lifetimes[..lifetimes.len() - 1].iter().map(u32::to_string).collect();
            format!("lets a new key expire after {} or {last} days only: choose one of those, or never.", rest.join(", "))
        }
    }
}

fn deleted_note(deleted: &Option<String>) -> String {
    match deleted {
        None => String::new(),
        Some(e) => format!(" — or tried to: the delete failed ({e}), so delete the key on the exchange's website"),
    }
}

impl MintError {
    /// A stable name for `--json`, the UI and the bad-input table.
    pub fn kind(&self) -> crate::error::ErrorCode {
        use crate::error::ErrorCode;
        match self {
            MintError::IpWhitelistRequired { .. }
            | MintError::IpsAndNoWhitelist
            | MintError::LifetimeNotOffered { .. } => ErrorCode::Invalid,
            MintError::MasterNotUsable { .. } | MintError::MasterNotReady { .. } => ErrorCode::MasterNotReady,
            MintError::LabelOnExchange { .. } => ErrorCode::Invalid,
            MintError::CodeNeeded => ErrorCode::CodeNeeded,
            MintError::OrphanLeft { .. } | MintError::OutcomeUnknown { .. } | MintError::NoAnswerTwice { .. } => {
                ErrorCode::Unproved
            }
            MintError::NotRecorded { .. } => ErrorCode::Storage,
            MintError::NotKept { .. } => ErrorCode::Keychain,
            MintError::Exchange(e) => e.kind(),
            MintError::Guard(g) => g.kind(),
            MintError::Core(crate::Error::Invalid(_)) => ErrorCode::Invalid,
            MintError::Core(crate::Error::Keychain(_)) => ErrorCode::Keychain,
            MintError::Core(_) => ErrorCode::Storage,
        }
    }
}

/// What the master's exchange does to a key without an IP whitelist, in its own facts: what the
/// acknowledgement names (only that exchange's rule: the others do not apply to this key).
pub fn no_ip_whitelist_warning(exchange: Exchange) -> String {
    match sub_key_facts(exchange) {
        Ok(facts) => format!("anyone who obtains it can use it from anywhere, and {}", facts.no_ip_whitelist),
        Err(_) => "anyone who obtains it can use it from anywhere".to_owned(),
    }
}

/// The lifetime a key was given at its create, where its exchange offers lifetimes and its
/// recorded expiry matches one (within a day): what its replacement is given too.
pub(crate) fn lifetime_of(key: &KeyRecord) -> Option<u32> {
    let expires_at = key.inspection.as_ref()?.expires_at?;
    let span = (expires_at - key.created_at).num_hours();
    let lifetimes = sub_key_facts(key.exchange).ok()?.lifetimes;
    lifetimes.iter().copied().find(|days| (i64::from(*days) * 24 - span).abs() <= 24)
}

/// A checked request: everything typed is acceptable, before any call or code.
#[derive(Debug)]
pub struct MintPlan {
    pub master: KeyRecord,
    pub label: String,
    /// The key's label on the exchange: [`MintPlan::label`] within the exchange's label rules.
    pub exchange_label: String,
    pub settings: SubKeySettings,
    pub rotation_days: u32,
    pub auto_rotate: bool,
    pub expire_days: Option<u32>,
    /// 2FA is set up, so a code is needed.
    pub needs_code: bool,
}

/// The result of a mint.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Minted {
    pub record: KeyRecord,
    pub mint: MintRecord,
    pub sub_account: SubAccount,
    /// Why the new key's own signed read failed; `None`: it passed, and bots may use the key.
    pub unverified: Option<String>,
    /// What happened on the way that the user should know (a create retried after a timeout).
    pub notes: Vec<String>,
}

/// A master, ready to call: its record, where it lives and its credentials.
pub struct Master {
    pub record: KeyRecord,
    pub endpoint: Endpoint,
    pub credentials: Credentials,
    /// The exchange's own 2FA code the user typed for this action (see [`Minter::exchange_code`]).
    pub exchange_code: Option<SecretString>,
}

impl Master {
    pub fn key(&self) -> MasterKey<'_> {
        MasterKey {
            endpoint: &self.endpoint,
            credentials: &self.credentials,
            exchange_code: self.exchange_code.as_ref(),
        }
    }
}

/// Errors the create's answer leaves open: the exchange may or may not have made the key.
fn outcome_unknown(e: &ExchangeError) -> bool {
    matches!(
        e,
        ExchangeError::Timeout { .. }
            | ExchangeError::Network { .. }
            | ExchangeError::ExchangeDown { .. }
            | ExchangeError::UnexpectedResponse { .. }
    )
}

pub struct Minter<'a> {
    vault: &'a Vault,
    guard: &'a Guard,
    client: &'a ExchangeClient,
    exchange_code: Option<SecretString>,
}

impl<'a> Minter<'a> {
    pub fn new(vault: &'a Vault, guard: &'a Guard, client: &'a ExchangeClient) -> Self {
        Minter { vault, guard, client, exchange_code: None }
    }

    /// The exchange's own 2FA code for this mint, where the exchange asks for one (Deribit's
    /// security keys answer key calls with a challenge); it answers each challenge of this action.
    pub fn exchange_code(mut self, code: Option<&str>) -> Self {
        self.exchange_code = crate::secret::exchange_code(code);
        self
    }

    /// The master key, if it may be used: active, and on an exchange whose API manages sub keys.
    pub fn master(&self, id: KeyId) -> Result<Master, MintError> {
        let record = self.vault.get(id)?;
        if record.status != KeyStatus::Active {
            return Err(MintError::MasterNotUsable {
                label: record.label.clone(),
                status: record.status.describe(record.exchange).to_lowercase(),
            });
        }
        sub_key_facts(record.exchange)?;
        let endpoint = Endpoint::new(record.exchange, &record.environment)?;
        let credentials = self.vault.credentials(id)?;
        Ok(Master { record, endpoint, credentials, exchange_code: self.exchange_code.clone() })
    }

    /// The master's own signed read, and what it says about minting.
    pub async fn readiness(&self, master: &Master) -> Result<MasterReadiness, MintError> {
        let inspection = self.client.inspect_answering(master.key()).await?;
        Ok(master_readiness(&inspection))
    }

    /// The master's readiness and its sub-accounts (`subaccounts`).
    pub async fn sub_accounts(&self, id: KeyId) -> Result<(Master, MasterReadiness, Vec<SubAccount>), MintError> {
        let master = self.master(id)?;
        let readiness = self.readiness(&master).await?;
        let accounts = self.client.list_sub_accounts(master.key()).await?;
        Ok((master, readiness, accounts))
    }

    /// Checks what the user typed, and says whether a code is needed. Nothing is sent or written.
    pub fn plan(&self, request: &MintRequest, now: DateTime<Utc>) -> Result<MintPlan, MintError> {
        let master = self.vault.get(request.master)?;
        let label = validate::label(&request.label)?;
        if self.vault.store().label_taken(&label)? {
            return Err(crate::Error::from(validate::label_in_use(&label)).into());
        }
        let rotation_days = validate::rotation_days(request.rotation_days.unwrap_or(DEFAULT_ROTATION_DAYS))?;
        let mut permissions = vec![Permission::Read];
        permissions.extend(request.permissions.iter().copied().filter(|p| *p != Permission::Read));
        permissions.sort();
        permissions.dedup();
        let settings = SubKeySettings {
            permissions,
            ip_whitelist: request.ip_whitelist.iter().map(|ip| ip.trim().to_owned()).collect(),
        };
        match (settings.ip_whitelist.is_empty(), request.no_ip_whitelist) {
            (true, false) => {
                return Err(MintError::IpWhitelistRequired { warning: no_ip_whitelist_warning(master.exchange) })
            }
            (false, true) => return Err(MintError::IpsAndNoWhitelist),
            _ => {}
        }
        check_sub_key_settings(master.exchange, &settings)?;
        let lifetimes = sub_key_facts(master.exchange)?.lifetimes;
        if request.expire_days.is_some_and(|days| !lifetimes.contains(&days)) {
            return Err(MintError::LifetimeNotOffered { exchange: master.exchange, lifetimes });
        }
        let needs_code = self.guard.status(now)?.enrolled;
        let exchange_label = ExchangeClient::exchange_label(master.exchange, &label);
        Ok(MintPlan {
            master,
            label,
            exchange_label,
            settings,
            rotation_days,
            auto_rotate: request.auto_rotate,
            expire_days: request.expire_days,
            needs_code,
        })
    }

    /// Mints the key: see the module documentation for the order of things.
    pub async fn mint(
        &self,
        request: &MintRequest,
        code: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Minted, MintError> {
        let plan = self.plan(request, now)?;
        if plan.needs_code && code.is_none() {
            return Err(MintError::CodeNeeded);
        }
        let master = self.master(request.master)?;
        let exchange = master.record.exchange;
        let readiness = self.readiness(&master).await?;
        if !readiness.missing.is_empty() {
            let reasons = readiness.missing.iter().map(|m| m.message.clone()).collect();
            return Err(MintError::MasterNotReady { label: master.record.label.clone(), exchange, reasons });
        }
        let account = self.client.find_sub_account(master.key(), &request.sub_account).await?;
        if self.client.find_sub_key_by_label(master.key(), &account.id, &plan.exchange_label).await?.is_some() {
            return Err(MintError::LabelOnExchange { exchange, sub_account: account.name, label: plan.exchange_label });
        }
        let unguarded = if plan.needs_code {
            self.guard.verify(code.ok_or(MintError::CodeNeeded)?, now)?;
            false
        } else {
            true
        };
        let spec = SubKeySpec {
            sub_account: account.id.clone(),
            label: plan.exchange_label.clone(),
            settings: plan.settings.clone(),
            expire_days: plan.expire_days,
        };
        let mut notes = Vec::new();
        let created = match self.create(&master, &spec, &mut notes).await {
            Ok(created) => created,
            Err(e) => {
                self.audit_failure(&master.record, &plan.label, &account, &e, now);
                return Err(e);
            }
        };
        self.keep(&master, &account, &plan, created, unguarded, notes, now).await
    }

    /// The create, and what a create with no answer calls for (see the module documentation).
    async fn create(
        &self,
        master: &Master,
        spec: &SubKeySpec,
        notes: &mut Vec<String>,
    ) -> Result<CreatedSubKey, MintError> {
        let exchange = master.record.exchange;
        let first = match self.client.create_sub_key(master.key(), spec).await {
            Ok(created) => return Ok(created),
            Err(e) if outcome_unknown(&e) => e,
            Err(e) => return Err(e.into()),
        };
        let writes = sub_key_facts(exchange)?.writes;
        let spacing = writes.window / u32::try_from(writes.calls.max(1)).unwrap_or(1);
        let found = self.client.find_sub_key_by_label(master.key(), &spec.sub_account, &spec.label).await;
        match found {
            Err(lookup) => {
                return Err(MintError::OutcomeUnknown {
                    exchange,
                    sub_account: spec.sub_account.clone(),
                    label: spec.label.clone(),
                    cause: first.to_string(),
                    lookup: lookup.to_string(),
                })
            }
            Ok(Some(orphan)) => {
                tokio::time::sleep(spacing).await;
                let hint = key_hint(&orphan.api_key);
                if let Err(e) = self.client.delete_sub_key(master.key(), &spec.sub_account, &orphan.api_key, None).await {
                    // A delete without an answer may have happened too: the listing says.
                    let gone = outcome_unknown(&e)
                        && matches!(
                            self.client.find_sub_key_by_label(master.key(), &spec.sub_account, &spec.label).await,
                            Ok(None)
                        );
                    if !gone {
                        return Err(MintError::OrphanLeft {
                            exchange,
                            label: spec.label.clone(),
                            key_hint: hint,
                            cause: first.to_string(),
                            delete_error: e.to_string(),
                        });
                    }
                }
                notes.push(format!(
                    "{exchange} did not answer the first create ({first}) but had made the key {hint}, which nobody holds the secret of; the master deleted it and Latchkey created the key once more."
                ));
            }
            Ok(None) => notes.push(format!(
                "{exchange} did not answer the first create ({first}) and had made no key; Latchkey created it once more."
            )),
        }
        tokio::time::sleep(spacing).await;
        match self.client.create_sub_key(master.key(), spec).await {
            Ok(created) => Ok(created),
            Err(e) if outcome_unknown(&e) => Err(MintError::NoAnswerTwice {
                exchange,
                sub_account: spec.sub_account.clone(),
                label: spec.label.clone(),
                cause: e.to_string(),
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// Keychain first, then the new key's own signed read, then the row and its audit entry.
    #[allow(clippy::too_many_arguments)]
    async fn keep(
        &self,
        master: &Master,
        account: &SubAccount,
        plan: &MintPlan,
        created: CreatedSubKey,
        unguarded: bool,
        notes: Vec<String>,
        now: DateTime<Utc>,
    ) -> Result<Minted, MintError> {
        let exchange = master.record.exchange;
        let mut record = KeyRecord {
            id: KeyId::random(),
            exchange,
            label: plan.label.clone(),
            environment: master.record.environment.clone(),
            key_hint: key_hint(&created.credentials.api_key),
            created_at: now,
            rotated_at: now,
            verified_at: None,
            rotation_days: plan.rotation_days,
            permissions: created.permissions.clone(),
            ip_whitelist: plan.settings.ip_whitelist.clone(),
            status: KeyStatus::Active,
            inspection: None,
            master_key_id: Some(master.record.id),
            sub_account: Some(account.id.clone()),
            snoozed_until: None,
            reminded_at: None,
            replaces: None,
            bots_allowed: false,
            revoked_at: None,
        };
        if let Err(e) = self.vault.keep_minted_secret(&record, &created.credentials) {
            let deleted = self
                .client
                .delete_sub_key(
                    master.key(),
                    &account.id,
                    &created.credentials.api_key,
                    created.credentials.passphrase.as_ref(),
                )
                .await
                .err();
            return Err(MintError::NotKept {
                exchange,
                key_hint: record.key_hint.clone(),
                cause: e.to_string(),
                deleted: deleted.map(|d| d.to_string()),
            });
        }
        let own = MasterKey { credentials: &created.credentials, ..master.key() };
        let unverified = match self.client.inspect_answering(own).await {
            Ok(mut inspection) => {
                // Gate's own read reports no permissions: the create's answer says which.
                if !inspection.permissions_known() {
                    inspection.permissions = created.permissions.clone();
                }
                // KuCoin's own read reports no expiry: the lifetime chosen says when.
                if inspection.expires_at.is_none() {
                    inspection.expires_at = plan.expire_days.map(|days| now + chrono::Duration::days(days.into()));
                }
                record.verified_at = Some(now);
                record.permissions = inspection.permissions.clone();
                // Binance reports only that the IPs are restricted, not which: keep the list set.
                if !(inspection.ip_whitelist.is_empty() && inspection.ip_restricted) {
                    record.ip_whitelist = inspection.ip_whitelist.clone();
                }
                record.inspection = Some(inspection);
                record.bots_allowed = true;
                None
            }
            Err(e) => Some(e.to_string()),
        };
        let mint = MintRecord {
            key_id: record.id,
            master_key_id: master.record.id,
            sub_account: account.id.clone(),
            exchange_label: plan.exchange_label.clone(),
            auto_rotate: plan.auto_rotate,
            minted_at: now,
            verified_at: record.verified_at,
        };
        let detail = format!(
            "minted in {exchange} sub-account '{}' through master '{}'{}; {}",
            account.name,
            master.record.label,
            if unguarded { " without 2FA (not set up)" } else { "" },
            if unverified.is_none() { "verified with its own signed read" } else { "not verified" }
        );
        self.vault.record_minted(&record, &mint, &detail).map_err(|e| MintError::NotRecorded {
            exchange,
            key_hint: record.key_hint.clone(),
            cause: e.to_string(),
        })?;
        Ok(Minted { record, mint, sub_account: account.clone(), unverified, notes })
    }

    fn audit_failure(&self, master: &KeyRecord, label: &str, account: &SubAccount, e: &MintError, now: DateTime<Utc>) {
        let event = Event {
            at: now,
            action: Action::Mint,
            key_id: None,
            label: Some(label),
            outcome: Outcome::Failed,
            detail: format!("in sub-account '{}' through master '{}': {e}", account.name, master.label),
        };
        if let Err(err) = self.vault.store().record(&event) {
            tracing::warn!(error = %err, "the failed mint could not be audited");
        }
    }
}
