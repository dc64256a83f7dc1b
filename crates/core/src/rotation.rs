//! When a key should be rotated, and how urgent that is. Pure: the clock (and its time zone) is
//! passed in, so "overdue by 3 days" is counted in the user's calendar days, across DST changes.

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde::Serialize;

use crate::model::{Environment, KeyRecord, KeyStatus, Permission};
use ts_rs::TS;

/// Days before the due date from which a key counts as "due soon", unless configured otherwise.
pub const DEFAULT_DUE_SOON_DAYS: u32 = 14;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum RotationState {
    Ok,
    DueSoon,
    Overdue,
    /// The exchange itself has (or may have) invalidated the key.
    Expired,
}

/// Why the due date is what it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum DueReason {
    /// `rotated_at` + the key's rotation policy.
    Policy,
    /// The exchange's own expiry (Bybit `expiredAt`).
    ExchangeExpiry,
    /// The exchange's idle-expiry rule (OKX: 14 days without use for a key with trade or withdraw
    /// and no IP binding), counted from the last time Latchkey saw the key work. The UI knows it as
    /// `okx_idle_expiry`.
    #[serde(rename = "okx_idle_expiry")]
    IdleExpiry,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RotationStatus {
    pub state: RotationState,
    pub due_at: DateTime<Utc>,
    pub reason: DueReason,
    /// Calendar days from today to the due date in the user's time zone; negative when overdue.
    pub days_left: i64,
}

impl RotationStatus {
    /// "rotate in 3 days", "due today", "overdue by 2 days", "expired 1 day ago".
    pub fn describe(&self) -> String {
        let plural = |n: i64| if n == 1 { "" } else { "s" };
        let n = self.days_left.abs();
        match (self.state, self.days_left) {
            (RotationState::Expired, 0) => "expires today".to_owned(),
            (RotationState::Expired, d) if d < 0 => format!("expired {n} day{} ago", plural(n)),
            (_, 0) => "due today".to_owned(),
            (_, d) if d > 0 => format!("rotate in {n} day{}", plural(n)),
            _ => format!("overdue by {n} day{}", plural(n)),
        }
    }
}

/// The earliest of the deadlines that apply to `key`, classified against `now`. `None` for keys that
/// are no longer in use (revoked).
pub fn status<Tz: TimeZone>(key: &KeyRecord, now: &DateTime<Tz>, due_soon_days: u32) -> Option<RotationStatus> {
    if key.status == KeyStatus::Revoked {
        return None;
    }
    let mut candidates = vec![(key.rotated_at + Duration::days(i64::from(key.rotation_days)), DueReason::Policy)];
    if let Some(expiry) = key.inspection.as_ref().and_then(|i| i.expires_at) {
        candidates.push((expiry, DueReason::ExchangeExpiry));
    }
    if let Some(days) = idle_expiry_days(key) {
        let last_seen_working = key.verified_at.unwrap_or(key.rotated_at).max(key.rotated_at);
        candidates.push((last_seen_working + Duration::days(days), DueReason::IdleExpiry));
    }
    let (due_at, reason) = candidates.into_iter().min_by_key(|(at, _)| *at)?;

    let days_left = days_until(due_at, now);
    let now_utc = now.with_timezone(&Utc);
    let state = match reason {
        DueReason::ExchangeExpiry | DueReason::IdleExpiry if now_utc >= due_at => RotationState::Expired,
        _ if now_utc >= due_at => RotationState::Overdue,
        _ if days_left <= i64::from(due_soon_days) => RotationState::DueSoon,
        _ => RotationState::Ok,
    };
    Some(RotationStatus { state, due_at, reason, days_left })
}

/// Calendar days from `now`'s day to `at`'s day in `now`'s time zone; negative once past. The one
/// day count for a date: the badge and the findings say the same number for the same expiry.
pub fn days_until<Tz: TimeZone>(at: DateTime<Utc>, now: &DateTime<Tz>) -> i64 {
    let day = at.with_timezone(&now.timezone()).date_naive();
    (day - now.date_naive()).num_days()
}

/// The days of the exchange's idle-expiry rule, when it applies to this key: a live key, not bound
/// to IPs, holding one of the rule's permissions.
fn idle_expiry_days(key: &KeyRecord) -> Option<i64> {
    let inspection = key.inspection.as_ref()?;
    let (days, permissions) = key.exchange.capabilities().idle_expiry()?;
    let applies = key.environment == Environment::Live
        && !inspection.demo
        && !inspection.ip_restricted
        && inspection.ip_whitelist.is_empty()
        && permissions.iter().any(|p| inspection.has(*p));
    applies.then_some(days)
}

/// Most urgent first: expired, overdue, due soon, ok; then by due date; keys without a status last.
pub fn by_urgency<Tz: TimeZone>(keys: &mut [KeyRecord], now: &DateTime<Tz>, due_soon_days: u32) {
    keys.sort_by_cached_key(|k| match status(k, now, due_soon_days) {
        Some(s) => (0, std::cmp::Reverse(s.state), s.due_at),
        None => (1, std::cmp::Reverse(RotationState::Ok), DateTime::<Utc>::MAX_UTC),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AccountKind, Exchange, KeyInspection};
    use chrono::{FixedOffset, NaiveDate};
    use chrono_tz::America::New_York;

    fn utc(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
    }

    fn key(rotated_at: DateTime<Utc>, days: u32) -> KeyRecord {
        KeyRecord::sample(Exchange::Bybit, "k", rotated_at, days)
    }

    fn inspection(
        exchange: Exchange,
        perms: Vec<Permission>,
        ips: &[&str],
        expires_at: Option<DateTime<Utc>>,
    ) -> KeyInspection {
        KeyInspection {
            exchange,
            permissions: perms,
            ip_restricted: !ips.is_empty(),
            ip_whitelist: ips.iter().map(|s| s.to_string()).collect(),
            expires_at,
            created_at: None,
            account_kind: AccountKind::Master,
            account_uid: None,
            master_uid: None,
            label: None,
            demo: false,
        }
    }

    #[test]
    fn policy_boundaries_in_utc() {
        let k = key(utc(2026, 1, 1, 12), 90); // due 2026-04-01 12:00
        let at = |now| status(&k, &now, 14).unwrap();
        assert_eq!(at(utc(2026, 3, 17, 11)).state, RotationState::Ok, "15 days left");
        assert_eq!(at(utc(2026, 3, 18, 12)).state, RotationState::DueSoon, "exactly 14 days left");
        assert_eq!(at(utc(2026, 4, 1, 11)).describe(), "due today");
        assert_eq!(at(utc(2026, 4, 1, 11)).state, RotationState::DueSoon, "an hour before the due instant");
        assert_eq!(at(utc(2026, 4, 1, 12)).state, RotationState::Overdue, "at the due instant");
        assert_eq!(at(utc(2026, 4, 4, 9)).describe(), "overdue by 3 days");
        assert_eq!(at(utc(2026, 3, 30, 0)).describe(), "rotate in 2 days");
        assert_eq!(at(utc(2026, 3, 31, 0)).describe(), "rotate in 1 day");
    }

    #[test]
    fn days_are_counted_in_the_users_calendar() {
        let k = key(utc(2026, 1, 1, 2), 30); // due 2026-01-31 02:00 UTC = Jan 30, 21:00 in New York
        let ny = New_York.from_utc_datetime(&utc(2026, 1, 30, 12).naive_utc());
        assert_eq!(status(&k, &ny, 14).unwrap().describe(), "due today", "already the 30th in New York");
        assert_eq!(status(&k, &utc(2026, 1, 30, 12), 14).unwrap().describe(), "rotate in 1 day", "the 31st in UTC");
        // 16:00 UTC on the 30th is already 01:00 on the 31st in Tokyo, the due day there.
        let tokyo = FixedOffset::east_opt(9 * 3600).unwrap().from_utc_datetime(&utc(2026, 1, 30, 16).naive_utc());
        assert_eq!(status(&k, &tokyo, 14).unwrap().describe(), "due today");
        assert_eq!(status(&k, &utc(2026, 1, 30, 16), 14).unwrap().describe(), "rotate in 1 day");
    }

    #[test]
    fn dst_change_does_not_shift_the_day_count() {
        // US DST starts 2026-03-08: a 23-hour day. Due 10 calendar days after rotation at local noon.
        let rotated = New_York.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap().with_timezone(&Utc);
        let k = key(rotated, 10);
        let due_local =
            status(&k, &New_York.from_utc_datetime(&rotated.naive_utc()), 14).unwrap().due_at.with_timezone(&New_York);
        assert_eq!(due_local.date_naive(), NaiveDate::from_ymd_opt(2026, 3, 11).unwrap());
        let morning_after_switch = New_York.with_ymd_and_hms(2026, 3, 9, 0, 30, 0).unwrap();
        assert_eq!(status(&k, &morning_after_switch, 14).unwrap().describe(), "rotate in 2 days");
    }

    #[test]
    fn leap_day() {
        let k = key(utc(2028, 2, 28, 10), 1);
        let s = status(&k, &utc(2028, 2, 28, 11), 14).unwrap();
        assert_eq!(s.due_at, utc(2028, 2, 29, 10), "2028 is a leap year");
        assert_eq!(s.describe(), "rotate in 1 day");
        let k = key(utc(2028, 2, 29, 10), 365);
        assert_eq!(status(&k, &utc(2028, 3, 1, 0), 14).unwrap().due_at, utc(2029, 2, 28, 10));
    }

    #[test]
    fn exchange_expiry_wins_when_earlier() {
        let mut k = key(utc(2026, 1, 1, 0), 90);
        k.inspection =
            Some(inspection(Exchange::Bybit, vec![Permission::Read], &["1.2.3.4"], Some(utc(2026, 1, 20, 0))));
        let s = status(&k, &utc(2026, 1, 10, 0), 14).unwrap();
        assert_eq!((s.reason, s.state, s.days_left), (DueReason::ExchangeExpiry, RotationState::DueSoon, 10));
        let s = status(&k, &utc(2026, 1, 21, 0), 14).unwrap();
        assert_eq!((s.state, s.describe()), (RotationState::Expired, "expired 1 day ago".to_owned()));
    }

    #[test]
    fn okx_idle_rule_only_for_live_trade_keys_without_ip() {
        let mut k = key(utc(2026, 5, 1, 0), 90);
        k.exchange = Exchange::Okx;
        k.verified_at = Some(utc(2026, 5, 5, 0));
        k.inspection = Some(inspection(Exchange::Okx, vec![Permission::Read, Permission::Trade], &[], None));
        let s = status(&k, &utc(2026, 5, 10, 0), 14).unwrap();
        assert_eq!((s.reason, s.due_at), (DueReason::IdleExpiry, utc(2026, 5, 19, 0)));
        assert_eq!(serde_json::to_value(s.reason).unwrap(), "okx_idle_expiry", "the value the UI reads");
        k.inspection = Some(inspection(Exchange::Okx, vec![Permission::Read, Permission::Trade], &["10.0.0.1"], None));
        assert_eq!(status(&k, &utc(2026, 5, 10, 0), 14).unwrap().reason, DueReason::Policy);
        k.inspection = Some(inspection(Exchange::Okx, vec![Permission::Read], &[], None));
        assert_eq!(
            status(&k, &utc(2026, 5, 10, 0), 14).unwrap().reason,
            DueReason::Policy,
            "read-only keys do not expire"
        );
        k.inspection = Some(inspection(Exchange::Okx, vec![Permission::Trade], &[], None));
        k.environment = Environment::Demo;
        assert_eq!(status(&k, &utc(2026, 5, 10, 0), 14).unwrap().reason, DueReason::Policy, "demo keys do not expire");
    }

    #[test]
    fn revoked_keys_have_no_status_and_sort_last() {
        let now = utc(2026, 6, 1, 0);
        let mut revoked = key(utc(2025, 1, 1, 0), 30);
        revoked.status = KeyStatus::Revoked;
        assert!(status(&revoked, &now, 14).is_none());
        let ok = key(utc(2026, 5, 30, 0), 90);
        let overdue = key(utc(2026, 1, 1, 0), 90);
        let soon = key(utc(2026, 3, 10, 0), 90);
        let mut keys = vec![revoked.clone(), ok.clone(), soon.clone(), overdue.clone()];
        by_urgency(&mut keys, &now, 14);
        let ids: Vec<_> = keys.iter().map(|k| k.id).collect();
        assert_eq!(ids, [overdue.id, soon.id, ok.id, revoked.id]);
    }
}

/// How a rotation's new key differs from the old one, worst first; the wizard warns before saving.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct Change {
    pub code: &'static str,
    pub severity: crate::risk::Severity,
    pub message: String,
}

pub fn compare(old: Option<&crate::model::KeyInspection>, new: &crate::model::KeyInspection) -> Vec<Change> {
    use crate::risk::Severity;
    let Some(old) = old else { return Vec::new() };
    let mut changes = Vec::new();
    let mut push = |code, severity, message: String| changes.push(Change { code, severity, message });
    if new.has(Permission::Withdraw) && !old.has(Permission::Withdraw) {
        push(
            "adds_withdraw",
            Severity::Critical,
            "The new key can withdraw funds; the old one could not. Turn withdrawals off unless a tool needs them."
                .into(),
        );
    }
    let old_bound = old.ip_restricted || !old.ip_whitelist.is_empty();
    let new_bound = new.ip_restricted || !new.ip_whitelist.is_empty();
    if old_bound && !new_bound {
        push(
            "drops_ip_whitelist",
            Severity::High,
            "The new key works from any IP address; the old one was bound to an IP whitelist.".into(),
        );
    } else if old_bound && new_bound && old.ip_whitelist != new.ip_whitelist {
        push(
            "ip_changed",
            Severity::Warning,
            format!("The IP whitelist changed: {} instead of {}.", list(&new.ip_whitelist), list(&old.ip_whitelist)),
        );
    }
    let added: Vec<_> =
        new.permissions.iter().filter(|p| **p != Permission::Withdraw && !old.permissions.contains(p)).collect();
    if !added.is_empty() {
        push("adds_permission", Severity::Warning, format!("The new key adds: {}.", names(&added)));
    }
    let removed: Vec<_> = old.permissions.iter().filter(|p| !new.permissions.contains(p)).collect();
    if !removed.is_empty() {
        push(
            "removes_permission",
            Severity::Fine,
            format!("The new key no longer has: {}. Check your bots do not need it.", names(&removed)),
        );
    }
    if old.account_uid.is_some() && new.account_uid.is_some() && old.account_uid != new.account_uid {
        push(
            "different_account",
            Severity::High,
            "The new key belongs to a different account than the old one.".into(),
        );
    }
    changes.sort_by_key(|c| std::cmp::Reverse(c.severity));
    changes
}

fn list(ips: &[String]) -> String {
    if ips.is_empty() {
        "none".to_owned()
    } else {
        ips.join(", ")
    }
}

fn names(perms: &[&Permission]) -> String {
    perms.iter().map(|p| format!("{p:?}").to_lowercase()).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod compare_tests {
    use super::*;
    use crate::model::{AccountKind, Exchange, KeyInspection};
    use crate::risk::Severity;

    fn insp(perms: &[Permission], ips: &[&str], uid: &str) -> KeyInspection {
        KeyInspection {
            exchange: Exchange::Okx,
            permissions: perms.to_vec(),
            ip_restricted: !ips.is_empty(),
            ip_whitelist: ips.iter().map(|s| s.to_string()).collect(),
            expires_at: None,
            created_at: None,
            account_kind: AccountKind::Master,
            account_uid: Some(uid.into()),
            master_uid: None,
            label: None,
            demo: false,
        }
    }

    #[test]
    fn warns_when_the_new_key_is_riskier() {
        use Permission::*;
        let old = insp(&[Read, Trade], &["10.0.0.1"], "1");
        let new = insp(&[Read, Trade, Withdraw], &[], "1");
        let codes: Vec<_> = compare(Some(&old), &new).iter().map(|c| (c.code, c.severity)).collect();
        assert_eq!(codes, [("adds_withdraw", Severity::Critical), ("drops_ip_whitelist", Severity::High)]);
    }

    #[test]
    fn same_key_shape_means_no_changes_and_others_are_named() {
        use Permission::*;
        let old = insp(&[Read, Trade], &["10.0.0.1"], "1");
        assert!(compare(Some(&old), &old.clone()).is_empty());
        assert!(compare(None, &old).is_empty(), "nothing to compare with an unverified old key");
        let new = insp(&[Read], &["10.0.0.2"], "2");
        let codes: Vec<_> = compare(Some(&old), &new).iter().map(|c| c.code).collect();
        assert_eq!(codes, ["different_account", "ip_changed", "removes_permission"]);
    }
}
