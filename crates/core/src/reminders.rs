//! Which rotation reminders are due now, and when to look again. Pure: keys, settings and the
//! clock go in; the shell's timer sleeps until the returned instant and sends what is returned.

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use serde::Serialize;

use crate::model::{KeyId, KeyRecord};
use crate::rotation::{self, RotationState, RotationStatus};
use crate::settings::Settings;

/// At most one reminder per key per this interval.
pub const REMIND_EVERY_HOURS: i64 = 24;

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reminder {
    pub key_id: KeyId,
    pub label: String,
    pub status: RotationStatus,
    pub title: String,
    pub body: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub now: Vec<Reminder>,
    /// When something next changes (a key becomes due, a snooze or the daily limit ends).
    pub next_check: Option<DateTime<Utc>>,
}

pub fn plan<Tz: TimeZone>(keys: &[KeyRecord], settings: &Settings, now: &DateTime<Tz>) -> Plan {
    let now_utc = now.with_timezone(&Utc);
    let mut reminders = Vec::new();
    let mut next: Option<DateTime<Utc>> = None;
    let mut wake_at = |t: DateTime<Utc>| {
        if t > now_utc {
            next = Some(next.map_or(t, |n| n.min(t)));
        }
    };
    for key in keys {
        // A key still live after a revoke is to be deleted on the website, not rotated.
        if key.status.is_still_live() {
            continue;
        }
        let Some(status) = rotation::status(key, now, settings.due_soon_days) else { continue };
        if status.state == RotationState::Ok {
            wake_at(start_of_due_soon(&status, settings.due_soon_days, now));
            continue;
        }
        if status.state == RotationState::DueSoon {
            // It turns overdue (or expired) at the due instant: worth a fresh look then.
            wake_at(status.due_at);
        }
        if let Some(until) = key.snoozed_until.filter(|u| *u > now_utc) {
            wake_at(until);
            continue;
        }
        if let Some(last) = key.reminded_at {
            let again = last + Duration::hours(REMIND_EVERY_HOURS);
            if again > now_utc {
                wake_at(again);
                continue;
            }
        }
        if !settings.notifications {
            continue;
        }
        wake_at(now_utc + Duration::hours(REMIND_EVERY_HOURS));
        let body = format!("Rotate your {} key '{}' — {}", key.exchange, key.label, status.describe());
        reminders.push(Reminder {
            key_id: key.id,
            label: key.label.clone(),
            title: "Latchkey".to_owned(),
            body,
            status,
        });
    }
    Plan { now: reminders, next_check: next }
}

/// Local midnight of the first day on which the key counts as due soon.
fn start_of_due_soon<Tz: TimeZone>(status: &RotationStatus, due_soon_days: u32, now: &DateTime<Tz>) -> DateTime<Utc> {
    let tz = now.timezone();
    let day = status.due_at.with_timezone(&tz).date_naive() - Duration::days(i64::from(due_soon_days));
    tz.from_local_datetime(&day.and_time(NaiveTime::MIN))
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        // A midnight skipped by a DST jump: an hour later certainly exists.
        .unwrap_or_else(|| status.due_at - Duration::days(i64::from(due_soon_days)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Exchange, KeyStatus};

    fn utc(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
    }

    fn key(label: &str, rotated_at: DateTime<Utc>, days: u32) -> KeyRecord {
        KeyRecord::sample(Exchange::Okx, label, rotated_at, days)
    }

    #[test]
    fn overdue_key_is_reminded_once_a_day() {
        let now = utc(2026, 4, 4, 9);
        let mut k = key("bot-main", utc(2026, 1, 1, 9), 90); // due 2026-04-01 09:00
        let p = plan(std::slice::from_ref(&k), &Settings::default(), &now);
        assert_eq!(p.now.len(), 1);
        assert_eq!(p.now[0].body, "Rotate your OKX key 'bot-main' — overdue by 3 days");
        k.reminded_at = Some(now);
        let later = now + Duration::hours(5);
        let p = plan(std::slice::from_ref(&k), &Settings::default(), &later);
        assert!(p.now.is_empty(), "not twice in a day");
        assert_eq!(p.next_check, Some(now + Duration::hours(24)));
        let next_day = now + Duration::hours(24);
        assert_eq!(plan(&[k], &Settings::default(), &next_day).now.len(), 1);
    }

    #[test]
    fn snooze_silences_until_it_ends() {
        let now = utc(2026, 4, 4, 9);
        let mut k = key("k", utc(2026, 1, 1, 9), 90);
        k.snoozed_until = Some(now + Duration::days(7));
        let p = plan(std::slice::from_ref(&k), &Settings::default(), &now);
        assert!(p.now.is_empty());
        assert_eq!(p.next_check, Some(now + Duration::days(7)));
        assert_eq!(plan(&[k], &Settings::default(), &(now + Duration::days(7))).now.len(), 1);
    }

    #[test]
    fn ok_key_wakes_the_timer_when_it_becomes_due_soon() {
        let now = utc(2026, 1, 2, 12);
        let k = key("k", utc(2026, 1, 1, 9), 90); // due 2026-04-01 09:00 UTC
        let p = plan(&[k], &Settings::default(), &now);
        assert!(p.now.is_empty());
        assert_eq!(p.next_check, Some(utc(2026, 3, 18, 0)), "midnight, 14 days before the due day");
    }

    #[test]
    fn due_soon_is_reminded_and_looks_again_at_the_due_instant() {
        let now = utc(2026, 3, 25, 12);
        let k = key("k", utc(2026, 1, 1, 9), 90);
        let p = plan(&[k], &Settings::default(), &now);
        assert_eq!(p.now.len(), 1);
        assert!(p.now[0].body.ends_with("rotate in 7 days"), "{}", p.now[0].body);
        assert_eq!(p.next_check, Some(now + Duration::hours(24)), "tomorrow's reminder comes first");
        // Reminded the evening before the due instant: the next look is when it turns overdue.
        let mut k = key("k", utc(2026, 1, 1, 9), 90);
        k.reminded_at = Some(utc(2026, 3, 31, 20));
        let p = plan(&[k], &Settings::default(), &utc(2026, 3, 31, 21));
        assert_eq!((p.now.len(), p.next_check), (0, Some(utc(2026, 4, 1, 9))));
    }

    #[test]
    fn notifications_off_sends_nothing_and_revoked_keys_are_ignored() {
        let now = utc(2026, 4, 4, 9);
        let k = key("k", utc(2026, 1, 1, 9), 90);
        let off = Settings { notifications: false, ..Settings::default() };
        assert!(plan(std::slice::from_ref(&k), &off, &now).now.is_empty());
        let mut revoked = k.clone();
        revoked.status = KeyStatus::Revoked;
        let p = plan(&[revoked], &Settings::default(), &now);
        assert_eq!((p.now.len(), p.next_check), (0, None));
        for status in [KeyStatus::StillLive, KeyStatus::StillLiveWiped] {
            let still_live = KeyRecord { status, ..k.clone() };
            let p = plan(&[still_live], &Settings::default(), &now);
            assert_eq!((p.now.len(), p.next_check), (0, None), "{status:?}: delete it, do not rotate it");
        }
    }
}
