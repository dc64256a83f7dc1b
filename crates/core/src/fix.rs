//! Fix in place: a risk finding the exchange's API can fix is fixed through the key's master
//! (the sub-account key modify endpoints), with one 2FA code, and the key is inspected again.
//!
//! Which findings can be fixed is [`plan`]: pure, from the stored key alone. A key needs its master
//! in Latchkey (`master_key_id` and `sub_account`: a minted key, or a sub key added under its
//! master) on an exchange whose API modifies sub keys; otherwise each finding keeps its link to the
//! exchange's website and says why the API cannot fix it.
//!
//! The order, as in `mint`: what the user typed is checked first (no code spent on a typo); the
//! master's listing then gives the key's whole current setting (a modify always sends the whole
//! setting, and Binance's own read does not show the IP list); only then is the code checked (when
//! 2FA is set up; every try counts toward the guard's persisted backoff; without 2FA the fix goes
//! ahead and the audit entry says so). After the one modify, the key's own signed read says what
//! it can do now; where that read cannot answer from this machine (a key just bound to the bot's
//! IPs refuses Latchkey's), the master's listing after the change is the evidence, and the reply
//! says so. The key's stored permissions, IPs and inspection follow, with one `fix` audit entry.

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use ts_rs::TS;

use crate::audit::{Action, Event, Outcome};
use crate::exchange::{check_sub_key_settings, sub_key_facts, Endpoint, ExchangeClient, ExchangeError, MasterKey};
use crate::guard::{Guard, GuardError};
use crate::model::{Exchange, KeyId, KeyInspection, KeyRecord, KeyStatus, Permission, SubKey, SubKeySettings};
use crate::risk::{self, Finding};
use crate::vault::Vault;

/// A fix the exchange's modify endpoints can make.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum FixKind {
    /// Bind the key to the IP addresses the user gives.
    BindIps,
    /// Remove withdraw and transfer, keep read and trade.
    DropWithdraw,
    /// Read only.
    ReadOnly,
}

impl FixKind {
    /// The button's words.
    pub fn label(self) -> &'static str {
        match self {
            FixKind::BindIps => "Bind to these IPs…",
            FixKind::DropWithdraw => "Remove withdraw/transfer",
            FixKind::ReadOnly => "Make read-only",
        }
    }

    /// The findings this fix ends.
    pub fn ends(self) -> &'static [&'static str] {
        match self {
            FixKind::BindIps => &["trade_without_ip_whitelist"],
            FixKind::DropWithdraw => &["withdraw_enabled"],
            FixKind::ReadOnly => &["withdraw_enabled", "trade_without_ip_whitelist"],
        }
    }
}

/// What the user asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FixRequest {
    BindIps(Vec<String>),
    DropWithdraw,
    ReadOnly,
}

impl FixRequest {
    pub fn kind(&self) -> FixKind {
        match self {
            FixRequest::BindIps(_) => FixKind::BindIps,
            FixRequest::DropWithdraw => FixKind::DropWithdraw,
            FixRequest::ReadOnly => FixKind::ReadOnly,
        }
    }
}

/// One finding and what can be done about it here.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct FindingFixes {
    pub finding: Finding,
    /// The buttons beside the finding, most fitting first; empty: none.
    pub fixes: Vec<FixKind>,
    /// Why the API cannot fix it (the finding keeps its link to the exchange's website).
    pub cannot_fix: Option<String>,
}

/// Why no fix through the API is possible for this key at all; `None`: the API can fix it.
pub fn why_not_fixable(record: &KeyRecord) -> Option<String> {
    let exchange = record.exchange;
    let is_master = record.inspection.as_ref().is_some_and(|i| i.account_kind == crate::model::AccountKind::Master);
    if is_master && record.master_key_id.is_none() {
        return Some(format!(
            "'{}' is a master account's key, and {exchange}'s API changes only sub-account keys: change it on {exchange}'s website.",
            record.label
        ));
    }
    if record.master_key_id.is_none() || record.sub_account.is_none() {
        return Some(format!(
            "Latchkey holds no master key for '{}', and only a master can change a key through {exchange}'s API: change it on {exchange}'s website, or add its master key to Latchkey.",
            record.label
        ));
    }
    let caps = exchange.capabilities();
    if sub_key_facts(exchange).is_err()
        || !caps.modify_sub_key_ips.is_yes()
        || !caps.modify_sub_key_permissions.is_yes()
    {
        return Some(format!(
            "{exchange}'s API cannot change a sub-account key's permissions and IP whitelist: change it on {exchange}'s website."
        ));
    }
    None
}

/// The findings for a key and, for each, the fixes the exchange's API allows or why none.
pub fn plan(record: &KeyRecord, findings: &[Finding]) -> Vec<FindingFixes> {
    let blocked = why_not_fixable(record);
    findings
        .iter()
        .map(|finding| {
            let fixes: Vec<FixKind> = [FixKind::BindIps, FixKind::DropWithdraw, FixKind::ReadOnly]
                .into_iter()
                .filter(|f| f.ends().contains(&finding.code))
                .collect();
            let cannot_fix = match (&blocked, fixes.is_empty(), finding.code) {
                (_, _, "read_only_ip_bound") => None,
                (_, true, _) => Some(format!(
                    "{}'s API cannot fix this: it does not change a key's expiry. Rotate the key instead.",
                    record.exchange
                )),
                (Some(why), false, _) => Some(why.clone()),
                (None, false, _) => None,
            };
            let fixes = if blocked.is_some() { Vec::new() } else { fixes };
            FindingFixes { finding: finding.clone(), fixes, cannot_fix }
        })
        .collect()
}

#[derive(Debug, thiserror::Error)]
pub enum FixError {
    #[error("{why}")]
    NotFixable { label: String, why: String },

    #[error("Key '{label}' is {status}: only a key in use can be fixed.")]
    NotUsable { label: String, status: String },

    #[error("'{label}' has nothing to {what}: {exchange} lists it with {has}. Choose another fix, or none.")]
    NothingToFix { label: String, exchange: Exchange, what: &'static str, has: String },

    #[error("Binding a key to IP addresses needs at least one address (e.g. 203.0.113.7): an empty list would leave it working from anywhere.")]
    NoIps,

    #[error("{exchange} lists no key {key_hint} in sub-account '{sub_account}' of master '{master}': the key was deleted there, or belongs to another sub-account. Check it with `latchkey check`, then fix it on {exchange}'s website.")]
    NotInSubAccount { exchange: Exchange, key_hint: String, sub_account: String, master: String },

    #[error("Fixing a key through its master changes it at the exchange, so it needs a 2FA code: enter the code your authenticator app shows.")]
    CodeNeeded,

    #[error(transparent)]
    Exchange(#[from] ExchangeError),

    #[error(transparent)]
    Guard(#[from] GuardError),

    #[error(transparent)]
    Core(#[from] crate::Error),
}

impl FixError {
    /// A stable name for `--json`, the UI and the bad-input table.
    pub fn kind(&self) -> crate::error::ErrorCode {
        use crate::error::ErrorCode;
        match self {
            FixError::NotFixable { .. } => ErrorCode::NotFixable,
            FixError::NotUsable { .. } => ErrorCode::KeyNotUsable,
            FixError::NothingToFix { .. } | FixError::NoIps => ErrorCode::Invalid,
            FixError::NotInSubAccount { .. } => ErrorCode::NotFound,
            FixError::CodeNeeded => ErrorCode::CodeNeeded,
            FixError::Exchange(e) => e.kind(),
            FixError::Guard(g) => g.kind(),
            FixError::Core(crate::Error::Invalid(_)) => ErrorCode::Invalid,
            FixError::Core(crate::Error::Keychain(_)) => ErrorCode::Keychain,
            FixError::Core(_) => ErrorCode::Storage,
        }
    }
}

/// A checked request: the key, its master, and whether a code is needed. Nothing sent yet.
#[derive(Debug)]
pub struct FixPlan {
    pub record: KeyRecord,
    pub master: KeyRecord,
    pub kind: FixKind,
    /// The IPs to bind to, trimmed and checked against the exchange's limits.
    pub ips: Vec<String>,
    pub needs_code: bool,
}

/// How the setting after the change was confirmed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Confirmation {
    /// The key's own signed read answered.
    OwnRead,
    /// The key's own read could not answer from this machine; the master's listing shows it.
    MasterListing,
}

/// A finding the fix was meant to end that is still there, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct StillThere {
    pub finding: Finding,
    pub why: String,
}

/// The result of a fix.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Fixed {
    pub record: KeyRecord,
    pub kind: FixKind,
    pub settings_before: SettingView,
    pub settings_after: SettingView,
    /// The findings the fix ended.
    pub gone: Vec<&'static str>,
    /// The findings it was meant to end that remain.
    pub still_there: Vec<StillThere>,
    /// Withdraw or transfer removed along the way: the modify endpoints set read and trade only,
    /// and always the whole setting, so a bind or read-only change cannot keep them.
    pub dropped: Vec<Permission>,
    /// The findings the key has now.
    pub findings: Vec<Finding>,
    pub confirmed_by: Confirmation,
    /// Why the key's own read did not answer, when the master's listing was the evidence.
    pub own_read_failed: Option<String>,
    /// Without 2FA set up: the fix went ahead without a code.
    pub unguarded: bool,
}

/// Permissions and IPs as the exchange lists them: nothing secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SettingView {
    pub permissions: Vec<Permission>,
    pub ip_whitelist: Vec<String>,
}

impl SettingView {
    fn of(key: &SubKey) -> Self {
        SettingView { permissions: key.permissions.clone(), ip_whitelist: key.ip_whitelist.clone() }
    }

    fn describe(&self) -> String {
        let perms: Vec<String> = self.permissions.iter().map(|p| format!("{p:?}").to_lowercase()).collect();
        let ips = if self.ip_whitelist.is_empty() { "any IP".to_owned() } else { self.ip_whitelist.join(", ") };
        format!("{} from {ips}", perms.join("+"))
    }
}

pub struct Fixer<'a> {
    vault: &'a Vault,
    guard: &'a Guard,
    client: &'a ExchangeClient,
    exchange_code: Option<SecretString>,
}

impl<'a> Fixer<'a> {
    pub fn new(vault: &'a Vault, guard: &'a Guard, client: &'a ExchangeClient) -> Self {
        Fixer { vault, guard, client, exchange_code: None }
    }

    /// The exchange's own 2FA code for this fix, where the exchange asks for one (Deribit).
    pub fn exchange_code(mut self, code: Option<&str>) -> Self {
        self.exchange_code = crate::secret::exchange_code(code);
        self
    }

    /// Checks the request and says whether a code is needed. Nothing is sent or written.
    pub fn prepare(&self, id: KeyId, request: &FixRequest, now: DateTime<Utc>) -> Result<FixPlan, FixError> {
        let record = self.vault.get(id)?;
        if record.status != KeyStatus::Active {
            return Err(FixError::NotUsable {
                label: record.label.clone(),
                status: record.status.describe(record.exchange).to_lowercase(),
            });
        }
        if let Some(why) = why_not_fixable(&record) {
            return Err(FixError::NotFixable { label: record.label, why });
        }
        let master_id = record
            .master_key_id
            .ok_or_else(|| FixError::NotFixable { label: record.label.clone(), why: "no master".to_owned() })?;
        let master = self.vault.get(master_id)?;
        if master.status != KeyStatus::Active {
            return Err(FixError::NotFixable {
                label: record.label.clone(),
                why: format!(
                    "Its master '{}' is {}, so it cannot change the key: change it on {}'s website.",
                    master.label,
                    master.status.describe(master.exchange).to_lowercase(),
                    record.exchange
                ),
            });
        }
        let ips = match request {
            FixRequest::BindIps(ips) => {
                let ips: Vec<String> = ips.iter().map(|ip| ip.trim().to_owned()).filter(|ip| !ip.is_empty()).collect();
                if ips.is_empty() {
                    return Err(FixError::NoIps);
                }
                let probe = SubKeySettings { permissions: vec![Permission::Read], ip_whitelist: ips.clone() };
                check_sub_key_settings(record.exchange, &probe)?;
                ips
            }
            _ => Vec::new(),
        };
        let needs_code = self.guard.status(now)?.enrolled;
        Ok(FixPlan { record, master, kind: request.kind(), ips, needs_code })
    }

    /// Makes the fix: see the module documentation for the order of things.
    pub async fn apply(
        &self,
        id: KeyId,
        request: &FixRequest,
        code: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Fixed, FixError> {
        let plan = self.prepare(id, request, now)?;
        if plan.needs_code && code.is_none() {
            return Err(FixError::CodeNeeded);
        }
        let record = &plan.record;
        let exchange = record.exchange;
        let sub_account = record.sub_account.clone().unwrap_or_default();
        let master_endpoint = Endpoint::new(plan.master.exchange, &plan.master.environment)?;
        let master_credentials = self.vault.credentials(plan.master.id)?;
        let master = MasterKey {
            endpoint: &master_endpoint,
            credentials: &master_credentials,
            exchange_code: self.exchange_code.as_ref(),
        };
        let credentials = self.vault.credentials(id)?;
        let api_key = credentials.api_key.clone();

        // The whole current setting, as the exchange lists it.
        let listed = self.client.list_sub_keys(master, &sub_account).await?;
        // EXPOSE: compared with the listing's API keys, to find this key there.
        let current =
            listed.into_iter().find(|k| k.api_key.expose_secret() == api_key.expose_secret()).ok_or_else(|| {
                FixError::NotInSubAccount {
                    exchange,
                    key_hint: record.key_hint.clone(),
                    sub_account: sub_account.clone(),
                    master: plan.master.label.clone(),
                }
            })?;
        let before = SettingView::of(&current);
        let held = |p: Permission| current.permissions.contains(&p) || record.permissions.contains(&p);
        let kept: Vec<Permission> =
            [Permission::Read, Permission::Trade].into_iter().filter(|p| *p == Permission::Read || held(*p)).collect();
        let settings = match plan.kind {
            FixKind::BindIps => SubKeySettings { permissions: kept, ip_whitelist: plan.ips.clone() },
            FixKind::DropWithdraw => {
                if !held(Permission::Withdraw) && !held(Permission::Transfer) {
                    return Err(nothing(record, "remove", &before));
                }
                SubKeySettings { permissions: kept, ip_whitelist: current.ip_whitelist.clone() }
            }
            FixKind::ReadOnly => {
                if before.permissions.iter().all(|p| *p == Permission::Read) && stored_read_only(record) {
                    return Err(nothing(record, "make read-only", &before));
                }
                SubKeySettings { permissions: vec![Permission::Read], ip_whitelist: current.ip_whitelist.clone() }
            }
        };
        let unguarded = if plan.needs_code {
            self.guard.verify(code.ok_or(FixError::CodeNeeded)?, now)?;
            false
        } else {
            true
        };
        let dropped: Vec<Permission> = [Permission::Withdraw, Permission::Transfer]
            .into_iter()
            .filter(|p| held(*p) && !settings.permissions.contains(p))
            .collect();
        let findings_before = record.inspection.as_ref().map(|i| risk::assess(i, now)).unwrap_or_default();
        let after = match self
            .client
            .modify_sub_key(master, &sub_account, &api_key, credentials.passphrase.as_ref(), &settings)
            .await
        {
            Ok(after) => after,
            Err(e) => {
                self.audit_failure(record, &plan, &e, now);
                return Err(e.into());
            }
        };
        let settings_after = SettingView::of(&after);
        let endpoint = Endpoint::new(exchange, &record.environment)?;
        let own =
            self.client.inspect_answering(MasterKey { endpoint: &endpoint, credentials: &credentials, ..master }).await;
        drop(credentials);
        let (inspection, confirmed_by, own_read_failed) = match own {
            Ok(mut inspection) => {
                // Binance's own read says only that the IPs are restricted: the listing says which.
                if inspection.ip_whitelist.is_empty() && inspection.ip_restricted {
                    inspection.ip_whitelist = after.ip_whitelist.clone();
                }
                // Gate's own read reports no permissions: the listing says which.
                if !inspection.permissions_known() {
                    inspection.permissions = after.permissions.clone();
                }
                (inspection, Confirmation::OwnRead, None)
            }
            Err(e) => (from_listing(record, &after), Confirmation::MasterListing, Some(e.to_string())),
        };
        let findings = risk::assess(&inspection, now);
        let meant: Vec<&'static str> = plan
            .kind
            .ends()
            .iter()
            .copied()
            .filter(|code| findings_before.iter().any(|f| f.code == *code) || findings.iter().any(|f| f.code == *code))
            .collect();
        let gone: Vec<&'static str> =
            meant.iter().copied().filter(|code| !findings.iter().any(|f| f.code == *code)).collect();
        let still_there: Vec<StillThere> = findings
            .iter()
            .filter(|f| meant.contains(&f.code))
            .map(|f| StillThere {
                finding: f.clone(),
                why: format!(
                    "{exchange} accepted the change, but the key is still {} afterwards: the exchange may keep this setting apart from the API's; change it on {exchange}'s website.",
                    describe_inspection(&inspection)
                ),
            })
            .collect();
        let also = if dropped.is_empty() || plan.kind == FixKind::DropWithdraw {
            String::new()
        } else {
            let names: Vec<String> = dropped.iter().map(|p| format!("{p:?}").to_lowercase()).collect();
            format!(" (also removed {}: the modify endpoint sets read and trade only)", names.join(" and "))
        };
        let detail = format!(
            "{} through master '{}'{}: {} → {}{also}; {}{}",
            plan.kind.label().trim_end_matches('…'),
            plan.master.label,
            if unguarded { " without 2FA (not set up)" } else { "" },
            before.describe(),
            settings_after.describe(),
            match confirmation_text(confirmed_by) {
                text if gone.is_empty() && still_there.is_empty() => text.to_owned(),
                text =>
                    format!("{text}; ended {}", if gone.is_empty() { "nothing".to_owned() } else { gone.join(", ") }),
            },
            if still_there.is_empty() {
                String::new()
            } else {
                format!("; still there: {}", still_there.iter().map(|s| s.finding.code).collect::<Vec<_>>().join(", "))
            }
        );
        let event = Event {
            at: now,
            action: Action::Fix,
            key_id: Some(id),
            label: Some(&record.label),
            outcome: if still_there.is_empty() { Outcome::Ok } else { Outcome::Failed },
            detail,
        };
        let verified_at = (confirmed_by == Confirmation::OwnRead).then_some(now);
        self.vault.store().record_fixed_setting(id, &inspection, verified_at, &event)?;
        let record = self.vault.get(id)?;
        tracing::info!(key = %id, fix = ?plan.kind, "key fixed through its master");
        Ok(Fixed {
            record,
            kind: plan.kind,
            settings_before: before,
            settings_after,
            gone,
            still_there,
            dropped,
            findings,
            confirmed_by,
            own_read_failed,
            unguarded,
        })
    }

    fn audit_failure(&self, record: &KeyRecord, plan: &FixPlan, e: &ExchangeError, now: DateTime<Utc>) {
        let event = Event {
            at: now,
            action: Action::Fix,
            key_id: Some(record.id),
            label: Some(&record.label),
            outcome: Outcome::Failed,
            detail: format!("{} through master '{}': {e}", plan.kind.label().trim_end_matches('…'), plan.master.label),
        };
        if let Err(err) = self.vault.store().record(&event) {
            tracing::warn!(error = %err, "the failed fix could not be audited");
        }
    }
}

fn nothing(record: &KeyRecord, what: &'static str, before: &SettingView) -> FixError {
    FixError::NothingToFix { label: record.label.clone(), exchange: record.exchange, what, has: before.describe() }
}

fn confirmation_text(c: Confirmation) -> &'static str {
    match c {
        Confirmation::OwnRead => "confirmed by the key's own signed read",
        Confirmation::MasterListing => {
            "confirmed by the master's listing (the key's own read does not answer from this machine)"
        }
    }
}

fn describe_inspection(inspection: &KeyInspection) -> String {
    let perms: Vec<String> = inspection.permissions.iter().map(|p| format!("{p:?}").to_lowercase()).collect();
    let ips = if inspection.ip_restricted { "bound to IP addresses" } else { "working from any IP" };
    format!("{} and {ips}", perms.join("+"))
}

/// The key as the master's listing shows it after the change, over what its last own read said.
fn from_listing(record: &KeyRecord, listed: &SubKey) -> KeyInspection {
    let mut inspection = record.inspection.clone().unwrap_or_else(|| KeyInspection {
        exchange: record.exchange,
        permissions: Vec::new(),
        ip_restricted: false,
        ip_whitelist: Vec::new(),
        expires_at: None,
        created_at: None,
        account_kind: crate::model::AccountKind::Sub,
        account_uid: None,
        master_uid: None,
        label: None,
        demo: false,
    });
    inspection.permissions = listed.permissions.clone();
    inspection.ip_restricted = !listed.ip_whitelist.is_empty();
    inspection.ip_whitelist = listed.ip_whitelist.clone();
    inspection
}

/// Its last inspection (or, without one, its stored permissions) says read only.
fn stored_read_only(record: &KeyRecord) -> bool {
    match &record.inspection {
        Some(i) => i.is_read_only(),
        None => record.permissions.iter().all(|p| *p == Permission::Read),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AccountKind;
    use Permission::*;

    fn record(exchange: Exchange, perms: &[Permission], ips: &[&str], master: bool) -> KeyRecord {
        let mut r = KeyRecord::sample(exchange, "bot", Utc::now(), 90);
        r.inspection = Some(KeyInspection {
            exchange,
            permissions: perms.to_vec(),
            ip_restricted: !ips.is_empty(),
            ip_whitelist: ips.iter().map(|s| s.to_string()).collect(),
            expires_at: None,
            created_at: None,
            account_kind: AccountKind::Sub,
            account_uid: None,
            master_uid: None,
            label: None,
            demo: false,
        });
        if master {
            r.master_key_id = Some(KeyId::random());
            r.sub_account = Some("sub".into());
        }
        r
    }

    fn planned(r: &KeyRecord) -> Vec<(&'static str, Vec<FixKind>, Option<String>)> {
        let findings = risk::assess(r.inspection.as_ref().unwrap(), Utc::now());
        plan(r, &findings).into_iter().map(|f| (f.finding.code, f.fixes, f.cannot_fix)).collect()
    }

    #[test]
    fn a_sub_key_with_its_master_gets_the_fixes_its_findings_allow() {
        let r = record(Exchange::Okx, &[Read, Trade, Withdraw], &[], true);
        assert_eq!(
            planned(&r),
            vec![
                ("withdraw_enabled", vec![FixKind::DropWithdraw, FixKind::ReadOnly], None),
                ("trade_without_ip_whitelist", vec![FixKind::BindIps, FixKind::ReadOnly], None),
            ]
        );
        let fine = record(Exchange::Bybit, &[Read], &["1.2.3.4"], true);
        assert_eq!(planned(&fine), vec![("read_only_ip_bound", vec![], None)]);
    }

    #[test]
    fn without_a_master_each_finding_says_why_the_api_cannot_fix_it() {
        let r = record(Exchange::Binance, &[Read, Trade], &[], false);
        let p = planned(&r);
        assert_eq!(p.len(), 1);
        assert!(p[0].1.is_empty());
        let why = p[0].2.as_deref().unwrap();
        assert!(why.contains("no master key") && why.contains("Binance's website"), "{why}");
    }

    #[test]
    fn an_expiry_cannot_be_fixed_through_the_api() {
        let mut r = record(Exchange::Bybit, &[Read], &["1.2.3.4"], true);
        r.inspection.as_mut().unwrap().expires_at = Some(Utc::now() - chrono::Duration::days(1));
        let p = planned(&r);
        assert_eq!(p[0].0, "expired");
        assert!(p[0].1.is_empty() && p[0].2.as_deref().unwrap().contains("Rotate the key"), "{p:?}");
    }

    #[test]
    fn fixes_serialize_for_the_ui() {
        let r = record(Exchange::Okx, &[Read, Trade], &[], true);
        let findings = risk::assess(r.inspection.as_ref().unwrap(), Utc::now());
        let json = serde_json::to_value(plan(&r, &findings)).unwrap();
        assert_eq!(json[0]["fixes"], serde_json::json!(["bind_ips", "read_only"]));
        assert_eq!(json[0]["finding"]["code"], "trade_without_ip_whitelist");
    }
}
