//! Watching keys at their exchange: what changed since the last look (a permission gained, an IP
//! whitelist dropped or widened, an expiry moved closer, the key rejected) and when to look again.
//! The deciding parts are pure (the clock is passed in); [`check_key`] asks the exchange and keeps
//! the answer, for the Re-check button, `latchkey check` and the app's daily background look.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::exchange::{Endpoint, ExchangeClient, ExchangeError};
use crate::model::KeyInspection;
use crate::model::{Exchange, KeyId, KeyRecord, KeyStatus, Permission};
use crate::risk::Severity;
use crate::task::blocking;
use crate::vault::Vault;
use crate::Error;

/// Each key in use is looked at once a day.
pub const LOOK_EVERY_HOURS: i64 = 24;
/// After a look failed for want of a network, try again this much later.
pub const OFFLINE_RETRY_MINUTES: i64 = 30;

/// Something the exchange now says about a key that it did not say at the last look.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KeyChange {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
}

/// What changed from `old` to `new`, worst first. Only changes that make the key more dangerous or
/// shorter-lived: a permission removed or an IP added to nothing is no news.
pub fn changes(old: &KeyInspection, new: &KeyInspection) -> Vec<KeyChange> {
    let mut out = Vec::new();
    for p in new.permissions.iter().filter(|p| !old.permissions.contains(p)) {
        let (code, severity, message) = match p {
            Permission::Withdraw => (
                "gained_withdraw",
                Severity::Critical,
                "can now withdraw funds: turn withdrawals off on the exchange unless a tool needs them".to_owned(),
            ),
            Permission::Transfer => (
                "gained_transfer",
                Severity::Critical,
                "can now transfer funds between accounts: turn that off unless a tool needs it".to_owned(),
            ),
            other => ("gained_permission", Severity::Warning, format!("gained the {} permission", name(*other))),
        };
        out.push(KeyChange { code, severity, message });
    }
    let old_bound = old.ip_restricted || !old.ip_whitelist.is_empty();
    let new_bound = new.ip_restricted || !new.ip_whitelist.is_empty();
    if old_bound && !new_bound {
        out.push(KeyChange {
            code: "ip_whitelist_removed",
            severity: Severity::High,
            message: "is no longer bound to an IP whitelist: it now works from any IP address".to_owned(),
        });
    } else if old_bound {
        let added: Vec<&str> =
            new.ip_whitelist.iter().filter(|ip| !old.ip_whitelist.contains(ip)).map(String::as_str).collect();
        if !added.is_empty() {
            out.push(KeyChange {
                code: "ip_whitelist_widened",
                severity: Severity::High,
                message: format!("now also works from {}", added.join(", ")),
            });
        }
    }
    if let Some(expires) = new.expires_at {
        if old.expires_at.is_none_or(|before| expires < before) {
            let was = old.expires_at.map_or("no expiry".to_owned(), |t| t.format("%Y-%m-%d").to_string());
            out.push(KeyChange {
                code: "expiry_closer",
                severity: Severity::Warning,
                message: format!("now expires on {} (was: {was})", expires.format("%Y-%m-%d")),
            });
        }
    }
    out.sort_by_key(|c| std::cmp::Reverse(c.severity));
    out
}

fn name(p: Permission) -> &'static str {
    match p {
        Permission::Read => "read",
        Permission::Trade => "trade",
        Permission::Withdraw => "withdraw",
        Permission::Transfer => "transfer",
    }
}

/// The exchange refused the key itself: it does not know it (deleted on the website, or a typo
/// never caught) or says it expired. Everything else (IP, clock, network, a 5xx) says nothing about
/// whether the key still exists.
pub fn is_rejection(e: &ExchangeError) -> bool {
    matches!(e, ExchangeError::InvalidKey { .. } | ExchangeError::KeyExpired { .. })
}

/// No answer for want of a network: the rest of a background look waits until it is back.
pub fn is_offline(e: &ExchangeError) -> bool {
    matches!(e, ExchangeError::Network { .. } | ExchangeError::Timeout { .. })
}

/// The gap between two background reads on one exchange, well inside its published limit for the
/// introspection call (OKX 5 per 2 s, Bybit 10/s, Binance weight 1 of 6000/min).
pub fn spacing(exchange: Exchange) -> std::time::Duration {
    exchange.profile().limits.inspect_spacing
}

/// Which keys a background look should read now (oldest look first), and when the next one falls
/// due. Only active keys: a rejected, quarantined or revoked key already has the user's attention.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LookPlan {
    pub due: Vec<KeyId>,
    pub next_at: Option<DateTime<Utc>>,
}

/// `tried` holds, per key, the last look that got no answer about the key (an IP refusal, a 5xx):
/// it counts as a look, so such a key is tried once a day too, not at every wake-up.
pub fn plan(keys: &[KeyRecord], tried: &HashMap<KeyId, DateTime<Utc>>, now: DateTime<Utc>) -> LookPlan {
    let every = Duration::hours(LOOK_EVERY_HOURS);
    let mut due: Vec<(Option<DateTime<Utc>>, &KeyRecord)> = Vec::new();
    let mut next_at: Option<DateTime<Utc>> = None;
    for key in keys.iter().filter(|k| k.status == KeyStatus::Active) {
        let last = key.verified_at.max(tried.get(&key.id).copied());
        match last.map(|v| v + every) {
            Some(at) if at > now => next_at = Some(next_at.map_or(at, |n| n.min(at))),
            _ => due.push((last, key)),
        }
    }
    due.sort_by_key(|(last, k)| (*last, k.created_at));
    LookPlan { due: due.into_iter().map(|(_, k)| k.id).collect(), next_at }
}

/// When to look again after a background look that stopped because the network was gone.
pub fn retry_when_offline(now: DateTime<Utc>) -> DateTime<Utc> {
    now + Duration::minutes(OFFLINE_RETRY_MINUTES)
}

/// A notification about one key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub key_id: KeyId,
    pub title: String,
    pub body: String,
}

/// What one look at a key found.
#[derive(Debug)]
pub enum Looked {
    /// The exchange answered; `changes` is empty when nothing got worse (or there was nothing to
    /// compare with: the first look at a key saved unverified).
    Answered { record: KeyRecord, changes: Vec<KeyChange> },
    /// The exchange refused the key itself. `newly` is false when it was already marked so.
    Rejected { record: KeyRecord, error: ExchangeError, newly: bool },
}

impl Looked {
    pub fn record(&self) -> &KeyRecord {
        match self {
            Looked::Answered { record, .. } | Looked::Rejected { record, .. } => record,
        }
    }

    /// What the user should be told, if anything.
    pub fn notices(&self) -> Vec<Notice> {
        match self {
            Looked::Answered { record, changes } => changes
                .iter()
                .map(|c| Notice {
                    key_id: record.id,
                    title: format!("Latchkey: {} key changed", record.exchange),
                    body: format!("Your {} key '{}' {}.", record.exchange, record.label, c.message),
                })
                .collect(),
            Looked::Rejected { record, newly: true, .. } => vec![Notice {
                key_id: record.id,
                title: format!("Latchkey: {} rejected a key", record.exchange),
                body: format!(
                    "{} no longer accepts your key '{}' ({}): it was deleted or has expired. Bots using it will fail: rotate it or delete it in Latchkey.",
                    record.exchange, record.label, record.key_hint
                ),
            }],
            Looked::Rejected { newly: false, .. } => Vec::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LookError {
    #[error(transparent)]
    Key(#[from] Error),
    /// The exchange gave no answer about the key (network, clock, IP, rate limit, …); audited.
    #[error(transparent)]
    Exchange(#[from] ExchangeError),
}

/// Asks the exchange about a stored key with one signed read and keeps the answer: a new
/// inspection (each change audited), or the key marked rejected (audited, verified date left
/// alone). Any other failure is audited and returned.
pub async fn check_key(
    vault: &Arc<Vault>,
    client: &ExchangeClient,
    id: KeyId,
    now: DateTime<Utc>,
) -> Result<Looked, LookError> {
    let v = vault.clone();
    let (record, credentials) = blocking(move || Ok((v.get(id)?, v.credentials(id)?))).await?;
    let endpoint = Endpoint::new(record.exchange, &record.environment)?;
    let answer = client.inspect(&endpoint, &credentials).await;
    drop(credentials);
    let v = vault.clone();
    match answer {
        Ok(inspection) => {
            let found = record.inspection.as_ref().map(|old| changes(old, &inspection)).unwrap_or_default();
            let audited = found.clone();
            let record = blocking(move || v.record_inspection_changes(id, &inspection, &audited, now)).await?;
            Ok(Looked::Answered { record, changes: found })
        }
        Err(error) if is_rejection(&error) => {
            let detail = error.to_string();
            let (record, newly) = blocking(move || v.record_rejection(id, &detail, now)).await?;
            Ok(Looked::Rejected { record, error, newly })
        }
        Err(error) => {
            let detail = error.to_string();
            blocking(move || v.record_inspection_failure(id, now, &detail)).await?;
            Err(error.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AccountKind;
    use chrono::TimeZone;
    use Permission::{Read, Trade, Transfer, Withdraw};

    fn at(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, d, h, 0, 0).unwrap()
    }

    fn insp(perms: &[Permission], ips: &[&str], expires: Option<DateTime<Utc>>) -> KeyInspection {
        KeyInspection {
            exchange: Exchange::Bybit,
            permissions: perms.to_vec(),
            ip_restricted: !ips.is_empty(),
            ip_whitelist: ips.iter().map(|s| s.to_string()).collect(),
            expires_at: expires,
            created_at: None,
            account_kind: AccountKind::Master,
            account_uid: Some("1".into()),
            master_uid: None,
            label: None,
            demo: false,
        }
    }

    fn codes(c: &[KeyChange]) -> Vec<&'static str> {
        c.iter().map(|c| c.code).collect()
    }

    #[test]
    fn nothing_new_is_no_news() {
        let i = insp(&[Read, Trade], &["10.0.0.1"], Some(at(30, 0)));
        assert!(changes(&i, &i.clone()).is_empty());
        let safer = insp(&[Read], &["10.0.0.1"], None);
        assert!(changes(&i, &safer).is_empty(), "a permission removed, an expiry dropped: nothing got worse");
        let fewer_ips = insp(&[Read, Trade], &[], None);
        let narrowed = KeyInspection { ip_restricted: true, ..fewer_ips };
        assert!(changes(&insp(&[Read, Trade], &["10.0.0.1", "10.0.0.2"], None), &narrowed).is_empty());
    }

    #[test]
    fn money_moving_permissions_come_first() {
        let old = insp(&[Read], &["10.0.0.1"], None);
        let new = insp(&[Read, Trade, Withdraw, Transfer], &["10.0.0.1"], None);
        let found = changes(&old, &new);
        assert_eq!(codes(&found), ["gained_withdraw", "gained_transfer", "gained_permission"]);
        assert_eq!(found[0].severity, Severity::Critical);
        assert!(found[2].message.contains("trade"), "{}", found[2].message);
    }

    #[test]
    fn ip_whitelist_removed_or_widened() {
        let old = insp(&[Read], &["10.0.0.1"], None);
        assert_eq!(codes(&changes(&old, &insp(&[Read], &[], None))), ["ip_whitelist_removed"]);
        let wider = changes(&old, &insp(&[Read], &["10.0.0.1", "203.0.113.9"], None));
        assert_eq!(codes(&wider), ["ip_whitelist_widened"]);
        assert!(wider[0].message.contains("203.0.113.9") && !wider[0].message.contains("10.0.0.1"));
        let unbound = insp(&[Read], &[], None);
        assert!(changes(&unbound, &insp(&[Read], &["10.0.0.1"], None)).is_empty(), "binding a key is no alarm");
    }

    #[test]
    fn expiry_moved_closer() {
        let old = insp(&[Read], &[], Some(at(30, 0)));
        let closer = changes(&old, &insp(&[Read], &[], Some(at(20, 0))));
        assert_eq!(codes(&closer), ["expiry_closer"]);
        assert!(closer[0].message.contains("2026-11-20") && closer[0].message.contains("2026-11-30"));
        assert!(changes(&old, &insp(&[Read], &[], Some(at(30, 1)))).is_empty(), "later is fine");
        let first = changes(&insp(&[Read], &[], None), &insp(&[Read], &[], Some(at(30, 0))));
        assert!(first[0].message.contains("was: no expiry"), "{}", first[0].message);
    }

    #[test]
    fn rejection_is_only_the_key_itself() {
        let invalid = ExchangeError::InvalidKey { exchange: Exchange::Bybit, code: "10003".into() };
        let expired = ExchangeError::KeyExpired { exchange: Exchange::Bybit, code: "33004".into() };
        assert!(is_rejection(&invalid) && is_rejection(&expired));
        let ip = ExchangeError::IpNotAllowed { exchange: Exchange::Bybit, code: "10010".into() };
        let down = ExchangeError::ExchangeDown { exchange: Exchange::Bybit, status: 503 };
        let net = ExchangeError::Network { exchange: Exchange::Bybit, detail: "dns".into() };
        assert!(!is_rejection(&ip) && !is_rejection(&down) && !is_rejection(&net));
        assert!(is_offline(&net) && !is_offline(&down));
    }

    #[test]
    fn each_active_key_is_looked_at_once_a_day() {
        let now = at(24, 12);
        let sample = |label: &str, verified: Option<DateTime<Utc>>| KeyRecord {
            verified_at: verified,
            ..KeyRecord::sample(Exchange::Bybit, label, at(1, 0), 90)
        };
        let fresh = sample("fresh", Some(at(24, 2))); // next look at 25th 02:00
        let stale = sample("stale", Some(at(23, 10))); // due since 24th 10:00
        let never = sample("never", None);
        let rejected = KeyRecord { status: KeyStatus::Rejected, ..sample("rejected", Some(at(1, 0))) };
        let revoked = KeyRecord { status: KeyStatus::Revoked, ..sample("revoked", None) };
        let none = HashMap::new();
        let p = plan(&[fresh.clone(), stale.clone(), never.clone(), rejected, revoked], &none, now);
        assert_eq!(p.due, [never.id, stale.id], "never looked at first, then the oldest look");
        assert_eq!(p.next_at, Some(at(25, 2)));
        assert_eq!(
            plan(std::slice::from_ref(&fresh), &none, at(25, 2)).due,
            [fresh.id],
            "due exactly a day after the last look"
        );
        assert_eq!(plan(&[], &none, now), LookPlan { due: vec![], next_at: None });
        // A look that got no answer (say the IP was refused) waits a day like any other.
        let tried = HashMap::from([(stale.id, at(24, 11)), (never.id, at(24, 11))]);
        let p = plan(&[stale.clone(), never], &tried, now);
        assert_eq!((p.due.len(), p.next_at), (0, Some(at(25, 11))));
        assert_eq!(retry_when_offline(now), now + Duration::minutes(30));
        assert!(spacing(Exchange::Okx) >= std::time::Duration::from_millis(400), "OKX allows 5 per 2 s");
    }

    #[test]
    fn notices_name_the_key_and_the_change() {
        let record = KeyRecord::sample(Exchange::Bybit, "grid-bot", at(1, 0), 90);
        let change = changes(&insp(&[Read], &[], None), &insp(&[Read, Withdraw], &[], None));
        let n = Looked::Answered { record: record.clone(), changes: change }.notices();
        assert_eq!(n[0].body, "Your Bybit key 'grid-bot' can now withdraw funds: turn withdrawals off on the exchange unless a tool needs them.");
        let error = ExchangeError::InvalidKey { exchange: Exchange::Bybit, code: "10003".into() };
        let again = Looked::Rejected { record: record.clone(), error, newly: false };
        assert!(again.notices().is_empty(), "told once");
        let error = ExchangeError::InvalidKey { exchange: Exchange::Bybit, code: "10003".into() };
        let first = Looked::Rejected { record, error, newly: true }.notices();
        assert!(first[0].body.starts_with("Bybit no longer accepts your key 'grid-bot'"), "{}", first[0].body);
    }
}
