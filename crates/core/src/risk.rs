//! Risk findings for one inspected key: pure, with the clock passed in, so the wizard's confirm
//! step and every key card show the same verdict for the same facts.

use chrono::{DateTime, TimeZone, Utc};
use serde::Serialize;

use crate::model::{KeyInspection, Permission};
use ts_rs::TS;

/// Ordered from least to most severe, so `max()` gives a key's overall level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Nothing to fix.
    Fine,
    Warning,
    High,
    Critical,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub severity: Severity,
    /// A stable machine name, e.g. `withdraw_enabled`.
    pub code: &'static str,
    pub message: String,
}

/// How far ahead an exchange-imposed expiry starts to warn.
pub const EXPIRY_WARNING_DAYS: i64 = 14;

/// Whether the exchange expires keys for having no IP binding (so binding them ends the expiry).
fn expires_without_ip(exchange: crate::model::Exchange) -> bool {
    let rules = exchange.capabilities().expiry.unwrap_or_default();
    rules.iter().any(|rule| matches!(rule, crate::exchange::adapter::ExpiryRule::WithoutIp { .. }))
}

/// The findings for a key, most severe first. A read-only, IP-bound key gets one `Fine` finding.
/// Days are counted in `now`'s time zone, as the rotation badge counts them.
pub fn assess<Tz: TimeZone>(key: &KeyInspection, now: DateTime<Tz>) -> Vec<Finding> {
    let exchange = key.exchange;
    let mut findings = Vec::new();
    if key.has(Permission::Withdraw) {
        findings.push(Finding {
            severity: Severity::Critical,
            code: "withdraw_enabled",
            message: format!("This key can withdraw funds: anyone who steals it can empty the account. Turn off withdrawals for this key on {exchange} unless a tool truly needs them."),
        });
    }
    if !key.permissions_known() {
        findings.push(Finding {
            severity: Severity::Warning,
            code: "permissions_unreported",
            message: format!("{exchange} does not tell a key its own permissions, so Latchkey knows them only from the master key's listing, if it holds the master (and never whether withdrawals are on). Check on {exchange}'s API page that withdrawals are off."),
        });
    }
    let can_move_funds = key.has(Permission::Trade) || key.has(Permission::Withdraw) || !key.permissions_known();
    if can_move_funds && !key.ip_restricted {
        let can = if key.permissions_known() { "can" } else { "may be able to" };
        let mut message = format!("This key {can} trade and works from any IP address: a leaked key can be abused from anywhere. Bind it to your server's IP addresses on {exchange}.");
        // The exchange's idle-expiry rule (OKX: 14 days), which spares demo keys.
        if let Some((days, _)) = exchange.capabilities().idle_expiry().filter(|_| !key.demo) {
            message.push_str(&format!(" {exchange} also deletes such keys after {days} days without use."));
        }
        findings.push(Finding { severity: Severity::High, code: "trade_without_ip_whitelist", message });
    }
    if let Some(expires_at) = key.expires_at {
        let days_left = crate::rotation::days_until(expires_at, &now);
        let date = expires_at.with_timezone(&now.timezone()).date_naive().format("%Y-%m-%d");
        if expires_at <= now.with_timezone(&Utc) {
            findings.push(Finding {
                severity: Severity::Critical,
                code: "expired",
                message: format!("{exchange} says this key expired on {date}. Create a new key and replace this one."),
            });
        } else if days_left <= EXPIRY_WARNING_DAYS {
            findings.push(Finding {
                severity: Severity::Warning,
                code: "expiring_soon",
                message: format!(
                    "{exchange} will disable this key on {date} ({}). Rotate it before then{}.",
                    days_phrase(days_left),
                    // Only where binding IPs ends the expiry (Bybit); a date the user set (Kraken's
                    // validUntil) stays.
                    if key.ip_restricted || !expires_without_ip(exchange) {
                        ""
                    } else {
                        ", or bind it to IP addresses so it stops expiring"
                    }
                ),
            });
        }
    }
    if findings.is_empty() && key.is_read_only() && key.ip_restricted {
        findings.push(Finding {
            severity: Severity::Fine,
            code: "read_only_ip_bound",
            message: "Read-only and bound to IP addresses: this key is set up safely.".to_owned(),
        });
    }
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    findings
}

/// The worst severity among the findings; `Fine` when there are none.
pub fn overall(findings: &[Finding]) -> Severity {
    findings.iter().map(|f| f.severity).max().unwrap_or(Severity::Fine)
}

fn days_phrase(days_left: i64) -> String {
    match days_left {
        ..=0 => "today".to_owned(),
        1 => "tomorrow".to_owned(),
        n => format!("in {n} days"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AccountKind, Exchange};
    use chrono::Duration;

    fn key(exchange: Exchange, permissions: &[Permission], ips: &[&str]) -> KeyInspection {
        KeyInspection {
            exchange,
            permissions: permissions.to_vec(),
            ip_restricted: !ips.is_empty(),
            ip_whitelist: ips.iter().map(|s| s.to_string()).collect(),
            expires_at: None,
            created_at: None,
            account_kind: AccountKind::Master,
            account_uid: None,
            master_uid: None,
            label: None,
            demo: false,
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
    }

    fn codes(findings: &[Finding]) -> Vec<&'static str> {
        findings.iter().map(|f| f.code).collect()
    }

    use Permission::*;

    #[test]
    fn withdraw_is_critical_and_comes_first() {
        let findings = assess(&key(Exchange::Binance, &[Read, Trade, Withdraw], &[]), now());
        assert_eq!(codes(&findings), vec!["withdraw_enabled", "trade_without_ip_whitelist"]);
        assert_eq!(findings[0].severity, Severity::Critical);
        assert_eq!(overall(&findings), Severity::Critical);
        let bound = assess(&key(Exchange::Binance, &[Read, Withdraw], &["1.2.3.4"]), now());
        assert_eq!(codes(&bound), vec!["withdraw_enabled"]);
    }

    #[test]
    fn trade_without_ips_is_high_and_okx_mentions_idle_expiry() {
        let okx = assess(&key(Exchange::Okx, &[Read, Trade], &[]), now());
        assert_eq!(okx[0].severity, Severity::High);
        assert!(okx[0].message.contains("14 days"), "{}", okx[0].message);
        let bybit = assess(&key(Exchange::Bybit, &[Read, Trade], &[]), now());
        assert!(!bybit[0].message.contains("14 days"));
        let mut demo = key(Exchange::Okx, &[Read, Trade], &[]);
        demo.demo = true;
        assert!(!assess(&demo, now())[0].message.contains("14 days"), "OKX demo keys do not expire");
        assert!(
            assess(&key(Exchange::Okx, &[Read, Trade], &["1.2.3.4"]), now()).is_empty(),
            "IP-bound trading keys carry no finding"
        );
    }

    #[test]
    fn expiry_within_fourteen_days_warns() {
        let mut k = key(Exchange::Bybit, &[Read], &["1.2.3.4"]);
        k.expires_at = Some(now() + Duration::days(14));
        let findings = assess(&k, now());
        assert_eq!(codes(&findings), vec!["expiring_soon"]);
        assert_eq!(findings[0].severity, Severity::Warning);
        assert!(
            findings[0].message.contains("2026-03-15") && findings[0].message.contains("14 days"),
            "{}",
            findings[0].message
        );
        k.expires_at = Some(now() + Duration::days(15));
        assert_eq!(codes(&assess(&k, now())), vec!["read_only_ip_bound"]);
        k.expires_at = Some(now() - Duration::hours(1));
        assert_eq!(assess(&k, now())[0].severity, Severity::Critical);
        k.expires_at = Some(now() + Duration::hours(3));
        assert!(assess(&k, now())[0].message.contains("(today)"));
    }

    #[test]
    fn the_finding_and_the_rotation_badge_count_the_same_days() {
        // 9.5 days of time but 10 calendar days: both say 10 (the finding used to say 9).
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 18, 0, 0).unwrap();
        let mut k = key(Exchange::Bybit, &[Read], &["1.2.3.4"]);
        k.expires_at = Some(Utc.with_ymd_and_hms(2026, 3, 11, 6, 0, 0).unwrap());
        let mut record = crate::model::KeyRecord::sample(Exchange::Bybit, "k", now, 90);
        record.inspection = Some(k.clone());
        let message = &assess(&k, now)[0].message;
        assert!(message.contains("on 2026-03-11 (in 10 days)"), "{message}");
        assert_eq!(crate::rotation::status(&record, &now, 14).unwrap().describe(), "rotate in 10 days");
        // In Tokyo it is already 2 March, and the expiry falls on 11 March there too: 9 for both.
        let tokyo = now.with_timezone(&chrono::FixedOffset::east_opt(9 * 3600).unwrap());
        let message = &assess(&k, tokyo)[0].message;
        assert!(message.contains("on 2026-03-11 (in 9 days)"), "{message}");
        assert_eq!(crate::rotation::status(&record, &tokyo, 14).unwrap().describe(), "rotate in 9 days");
        // And the day before it falls: "tomorrow", not "in 1 days" or "less than a day".
        let eve = Utc.with_ymd_and_hms(2026, 3, 10, 23, 0, 0).unwrap();
        assert!(assess(&k, eve)[0].message.contains("(tomorrow)"), "{}", assess(&k, eve)[0].message);
    }

    #[test]
    fn read_only_and_ip_bound_is_fine() {
        let findings = assess(&key(Exchange::Okx, &[Read], &["10.0.0.1"]), now());
        assert_eq!(codes(&findings), vec!["read_only_ip_bound"]);
        assert_eq!(overall(&findings), Severity::Fine);
        assert!(assess(&key(Exchange::Okx, &[Read], &[]), now()).is_empty(), "read-only without IPs: nothing to flag");
        assert_eq!(overall(&[]), Severity::Fine);
    }

    #[test]
    fn findings_serialize_for_the_ui() {
        let findings = assess(&key(Exchange::Binance, &[Read, Withdraw], &["1.1.1.1"]), now());
        let json = serde_json::to_value(&findings[0]).unwrap();
        assert_eq!(json["severity"], "critical");
        assert_eq!(json["code"], "withdraw_enabled");
        assert!(json["message"].as_str().unwrap().contains("Binance"));
    }
}
