//! Which rotation reminders are due now, and when to look again. Pure: keys, settings and the
//! clock go in; the shell's timer sleeps until the returned instant and sends what is returned.

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use serde::Serialize;

use crate::model::{KeyId, KeyRecord, KeyStatus};
use crate::rotation::{self, RotationState, RotationStatus};
use crate::settings::Settings;

/// At most one reminder per key per this interval.
pub const REMIND_EVERY_HOURS: i64 = 24;

/// How much a notification may interrupt (the Desktop Notifications spec's urgency levels).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Urgency {
    /// Due soon: shown, and it may expire.
    Normal,
    /// Overdue, expired, or still working at the exchange after a revoke: stays until dismissed.
    Critical,
}

/// A button on the notification; the shell does what it says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ReminderAction {
    /// Opens the guided rotation for the key.
    Rotate,
    /// Silences the key's reminders for [`SNOOZE_DAYS`], as the card's "Snooze 1 day".
    Snooze,
}

/// How long the notification's Snooze silences a key.
pub const SNOOZE_DAYS: u32 = 1;

impl ReminderAction {
    /// The id the notification server reports back when the button is clicked.
    pub fn id(self) -> &'static str {
        match self {
            ReminderAction::Rotate => "rotate",
            ReminderAction::Snooze => "snooze",
        }
    }

    pub fn from_id(id: &str) -> Option<Self> {
        [ReminderAction::Rotate, ReminderAction::Snooze].into_iter().find(|a| a.id() == id)
    }

    /// The button's text.
    pub fn label(self) -> &'static str {
        match self {
            ReminderAction::Rotate => "Rotate…",
            ReminderAction::Snooze => "Snooze 1 day",
        }
    }
}

/// What the reminder is about.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum ReminderKind {
    /// The key is due (soon) for rotation.
    Rotation { status: RotationStatus },
    /// A revoke could not end the key at its exchange: it still works there until the user
    /// deletes it on the website.
    StillLive,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reminder {
    pub key_id: KeyId,
    pub label: String,
    pub kind: ReminderKind,
    pub title: String,
    pub body: String,
    pub urgency: Urgency,
    /// The notification's buttons (a click on the notification itself opens the window).
    pub actions: Vec<ReminderAction>,
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
        // A key still live after a revoke is to be deleted on the website, not rotated: reminded
        // of daily, urgently, until it is proved gone. Snoozing it is not offered.
        if key.status.is_still_live() {
            if let Some(again) = key.reminded_at.map(|last| last + Duration::hours(REMIND_EVERY_HOURS)) {
                if again > now_utc {
                    wake_at(again);
                    continue;
                }
            }
            if settings.notifications {
                wake_at(now_utc + Duration::hours(REMIND_EVERY_HOURS));
                reminders.push(still_live(key));
            }
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
        let urgency = match status.state {
            RotationState::Overdue | RotationState::Expired => Urgency::Critical,
            RotationState::DueSoon | RotationState::Ok => Urgency::Normal,
        };
        // The card's own buttons: rotating and snoozing are for active keys.
        let actions = if key.status == KeyStatus::Active {
            vec![ReminderAction::Rotate, ReminderAction::Snooze]
        } else {
            Vec::new()
        };
        reminders.push(Reminder {
            key_id: key.id,
            label: key.label.clone(),
            kind: ReminderKind::Rotation { status },
            title: "Latchkey".to_owned(),
            body,
            urgency,
            actions,
        });
    }
    Plan { now: reminders, next_check: next }
}

fn still_live(key: &KeyRecord) -> Reminder {
    Reminder {
        key_id: key.id,
        label: key.label.clone(),
        kind: ReminderKind::StillLive,
        title: format!("Latchkey: a key still works at {}", key.exchange),
        body: format!(
            "Your {0} key '{1}' was not revoked by any API and still works at {0}: delete it on {0}'s API page, then choose \"I deleted it\" in Latchkey.",
            key.exchange, key.label
        ),
        urgency: Urgency::Critical,
        actions: Vec::new(),
    }
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
            let p = plan(std::slice::from_ref(&still_live), &off, &now);
            assert_eq!((p.now.len(), p.next_check), (0, None), "{status:?}: notifications are off");
        }
    }

    #[test]
    fn overdue_is_critical_with_rotate_and_snooze_and_due_soon_is_normal() {
        let now = utc(2026, 4, 4, 9);
        let overdue = key("overdue", utc(2026, 1, 1, 9), 90);
        let soon = key("soon", utc(2026, 1, 10, 9), 90);
        let p = plan(&[overdue, soon], &Settings::default(), &now);
        let by = |label: &str| p.now.iter().find(|r| r.label == label).unwrap();
        assert_eq!(by("overdue").urgency, Urgency::Critical);
        assert_eq!(by("soon").urgency, Urgency::Normal);
        for r in &p.now {
            assert_eq!(r.actions, [ReminderAction::Rotate, ReminderAction::Snooze], "{}", r.label);
        }
        assert_eq!(ReminderAction::from_id("snooze"), Some(ReminderAction::Snooze));
        assert_eq!(ReminderAction::from_id("default"), None, "a click on the notification is not a button");
        let quarantined = KeyRecord { status: KeyStatus::Quarantined, ..key("q", utc(2026, 1, 1, 9), 90) };
        let p = plan(&[quarantined], &Settings::default(), &now);
        assert!(p.now.iter().all(|r| r.actions.is_empty()), "only active keys are rotated or snoozed");
    }

    #[test]
    fn a_key_still_live_at_its_exchange_is_reminded_daily_and_urgently_to_delete_it() {
        let now = utc(2026, 4, 4, 9);
        for status in [KeyStatus::StillLive, KeyStatus::StillLiveWiped] {
            let mut k = KeyRecord { status, ..key("okx-bot", utc(2026, 3, 30, 9), 90) };
            let p = plan(std::slice::from_ref(&k), &Settings::default(), &now);
            assert_eq!(p.now.len(), 1, "{status:?}");
            let r = &p.now[0];
            assert_eq!((r.kind.clone(), r.urgency, r.actions.len()), (ReminderKind::StillLive, Urgency::Critical, 0));
            assert_eq!(r.title, "Latchkey: a key still works at OKX");
            assert!(r.body.starts_with("Your OKX key 'okx-bot' was not revoked by any API and still works at OKX: delete it on OKX's API page"), "{}", r.body);
            assert!(!r.body.contains("Rotate"), "delete it, do not rotate it: {}", r.body);
            assert_eq!(crate::wording::code_words(&r.body), Vec::<&str>::new());
            k.reminded_at = Some(now);
            let p = plan(&[k], &Settings::default(), &(now + Duration::hours(5)));
            assert_eq!((p.now.len(), p.next_check), (0, Some(now + Duration::hours(24))), "once a day");
        }
    }
}
