//! When keys rotate by themselves: a key Latchkey minted with "rotate automatically" on, able to
//! rotate through its master ([`super::eligible`]), rotates [`LEAD`] before its due date (so an
//! exchange's own expiry never lands first). A rotation that failed is tried again after
//! [`RETRY_AFTER_FAILURE`], not at every look (the user was told once, and what to do).

use chrono::{DateTime, Duration, Utc};

use crate::model::{KeyId, KeyRecord, KeyStatus};
use crate::reminders::Urgency;
use crate::rotation;
use crate::store::Store;
use crate::Error;

use super::{RotationReport, RotationResult};

/// How long before its due date a key rotates by itself.
pub const LEAD: Duration = Duration::days(1);
/// How long after a failed automatic rotation the next try comes.
pub const RETRY_AFTER_FAILURE: Duration = Duration::hours(6);

/// Whether the key rotates by itself: minted with "rotate automatically" on, and able to.
pub fn rotates_automatically(store: &Store, key: &KeyRecord) -> Result<bool, Error> {
    if key.status != KeyStatus::Active {
        return Ok(false);
    }
    // Eligibility first: it needs no query for a key without a master (most keys), the setting does.
    if super::eligible(store, key).is_err() {
        return Ok(false);
    }
    Ok(store.minted(key.id)?.is_some_and(|m| m.auto_rotate))
}

/// When the key rotates by itself next (`None`: it does not).
pub fn next_rotation(store: &Store, key: &KeyRecord, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, Error> {
    if !rotates_automatically(store, key)? {
        return Ok(None);
    }
    let Some(status) = rotation::status(key, &now, 0) else { return Ok(None) };
    let at = status.due_at - LEAD;
    Ok(Some(match last_failure(store, key.id)? {
        Some(failed) if failed + RETRY_AFTER_FAILURE > at => failed + RETRY_AFTER_FAILURE,
        _ => at,
    }))
}

/// The keys to rotate now, and when to look again (the earliest next rotation of the others).
pub fn due(store: &Store, now: DateTime<Utc>) -> Result<(Vec<KeyId>, Option<DateTime<Utc>>), Error> {
    let mut due = Vec::new();
    let mut next: Option<DateTime<Utc>> = None;
    for key in store.list_keys()? {
        match next_rotation(store, &key, now)? {
            Some(at) if at <= now => due.push(key.id),
            Some(at) => next = Some(next.map_or(at, |n| n.min(at))),
            None => {}
        }
    }
    Ok((due, next))
}

/// When the key's last automatic rotation failed, if its last one did.
fn last_failure(store: &Store, key: KeyId) -> Result<Option<DateTime<Utc>>, Error> {
    let conn = store.conn();
    let last: Option<(String, DateTime<Utc>)> = conn
        .query_row(
            "SELECT s.state, s.updated_at FROM job_steps s JOIN jobs j ON j.id = s.job_id
             WHERE s.key_id = ?1 AND j.kind IN ('rotate_scheduled', 'rotate_now')
             ORDER BY s.updated_at DESC LIMIT 1",
            [key.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map(Some)
        .or_else(|e| if e == rusqlite::Error::QueryReturnedNoRows { Ok(None) } else { Err(e) })
        .map_err(|e| Error::storage(store.path(), e))?;
    Ok(last.filter(|(state, _)| state == "failed").map(|(_, at)| at))
}

/// Turns "rotate automatically" on or off for a key that can rotate through its master. On needs
/// a 2FA code (it lets Latchkey replace the key with nobody at the keyboard; a wrong code counts
/// toward the guard's backoff); off needs none (it only narrows what Latchkey does by itself).
pub fn set_auto_rotate(
    store: &Store,
    guard: &crate::guard::Guard,
    key: &KeyRecord,
    on: bool,
    code: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), super::AutoRotateError> {
    use super::AutoRotateError;
    super::eligible(store, key).map_err(|why| AutoRotateError::NotEligible { label: key.label.clone(), why })?;
    if on {
        let code = code.ok_or(AutoRotateError::CodeNeeded)?;
        guard.verify(code, now)?;
    }
    record_auto_rotate(store, key, on, now)?;
    Ok(())
}

/// Writes the setting and its audit entry, for a caller that has checked eligibility and, to turn
/// it on, the code ([`set_auto_rotate`], the key editor).
pub(crate) fn record_auto_rotate(store: &Store, key: &KeyRecord, on: bool, now: DateTime<Utc>) -> Result<(), Error> {
    let before = store.minted(key.id)?;
    let mint = crate::model::MintRecord {
        key_id: key.id,
        master_key_id: key.master_key_id.unwrap_or(key.id),
        sub_account: key.sub_account.clone().unwrap_or_default(),
        exchange_label: before.as_ref().map_or_else(|| key.label.clone(), |m| m.exchange_label.clone()),
        auto_rotate: on,
        minted_at: before.as_ref().map_or(key.created_at, |m| m.minted_at),
        verified_at: before.and_then(|m| m.verified_at).or(key.verified_at),
    };
    let event = crate::audit::Event {
        at: now,
        action: crate::audit::Action::AutoRotate,
        key_id: Some(key.id),
        label: Some(&key.label),
        outcome: crate::audit::Outcome::Ok,
        detail: auto_rotate_text(on).to_owned(),
    };
    store.set_auto_rotate(&mint, &event)
}

/// The setting in words, for the audit log and the editor's reply.
pub fn auto_rotate_text(on: bool) -> &'static str {
    if on {
        "rotates automatically through its master"
    } else {
        "rotated by hand only"
    }
}

/// A notification about one key's automatic rotation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RotationNotice {
    pub key_id: KeyId,
    pub title: String,
    pub body: String,
    pub urgency: Urgency,
}

/// What the user is told of each key of a scheduled rotation: success is news, failure asks for
/// something (and says the key in use still works).
pub fn notices(report: &RotationReport) -> Vec<RotationNotice> {
    report
        .keys
        .iter()
        .filter_map(|k| {
            let exchange = k.exchange.map(|e| e.display_name()).unwrap_or("the exchange");
            match &k.result {
                RotationResult::Rotated { old_key: KeyStatus::Revoked, new_hint, .. } => Some(RotationNotice {
                    key_id: k.key_id,
                    title: format!("Rotated '{}' automatically", k.label),
                    body: format!("The new {exchange} key {new_hint} is in use; the old key is deleted."),
                    urgency: Urgency::Normal,
                }),
                RotationResult::Rotated { new_hint, .. } => Some(RotationNotice {
                    key_id: k.key_id,
                    title: format!("Rotated '{}', but the old key is not deleted", k.label),
                    body: format!(
                        "The new {exchange} key {new_hint} is in use. Deleting the old one failed: open Latchkey and retry it from the revoke report."
                    ),
                    urgency: Urgency::Critical,
                }),
                RotationResult::Failed { error, .. } => Some(RotationNotice {
                    key_id: k.key_id,
                    title: format!("Could not rotate '{}'", k.label),
                    body: format!("{error} Latchkey tries again in {} hours.", RETRY_AFTER_FAILURE.num_hours()),
                    urgency: Urgency::Critical,
                }),
                RotationResult::Pending => None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{Action, Event, Outcome};
    use crate::model::{Exchange, MintRecord};

    fn event(key: &KeyRecord) -> Event<'_> {
        Event {
            at: Utc::now(),
            action: Action::Add,
            key_id: Some(key.id),
            label: Some(&key.label),
            outcome: Outcome::Ok,
            detail: String::new(),
        }
    }

    /// A master, and a sub key minted through it `age` days ago with a 30-day policy.
    fn world(auto_rotate: bool, age: i64) -> (tempfile::TempDir, Store, KeyRecord) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in(dir.path()).unwrap();
        let master = KeyRecord::sample(Exchange::Okx, "master", Utc::now(), 90);
        store.insert_key(&master, &event(&master)).unwrap();
        let sub = KeyRecord {
            master_key_id: Some(master.id),
            sub_account: Some("bot-sub-1".into()),
            ..KeyRecord::sample(Exchange::Okx, "bot", Utc::now() - Duration::days(age), 30)
        };
        let mint = MintRecord {
            key_id: sub.id,
            master_key_id: master.id,
            sub_account: "bot-sub-1".into(),
            exchange_label: "bot".into(),
            auto_rotate,
            minted_at: sub.rotated_at,
            verified_at: None,
        };
        store.insert_minted_key(&sub, &mint, &event(&sub)).unwrap();
        (dir, store, sub)
    }

    #[test]
    fn a_minted_key_with_automatic_rotation_is_due_a_day_before_its_date() {
        let now = Utc::now();
        let (_d, store, sub) = world(true, 10);
        let (due_now, next) = due(&store, now).unwrap();
        assert!(due_now.is_empty());
        let expected = sub.rotated_at + Duration::days(30) - LEAD;
        assert_eq!(next, Some(expected), "looked at again when it falls due");
        assert_eq!(due(&store, expected).unwrap().0, [sub.id]);
        let (_d, store, _) = world(false, 40);
        assert_eq!(due(&store, now).unwrap(), (vec![], None), "off: never rotated by itself");
    }

    #[test]
    fn a_failed_rotation_is_tried_again_hours_later_not_at_every_look() {
        let now = Utc::now();
        let (_d, store, sub) = world(true, 40);
        assert_eq!(due(&store, now).unwrap().0, [sub.id]);
        let failed_at = now - Duration::hours(1);
        store
            .conn()
            .execute("INSERT INTO jobs (id, kind, started_at) VALUES ('j', 'rotate_scheduled', ?1)", [failed_at])
            .unwrap();
        store
            .conn()
            .execute(
                "INSERT INTO job_steps (job_id, key_id, state, updated_at) VALUES ('j', ?1, 'failed', ?2)",
                rusqlite::params![sub.id.to_string(), failed_at],
            )
            .unwrap();
        let (due_now, next) = due(&store, now).unwrap();
        assert!(due_now.is_empty());
        assert_eq!(next, Some(failed_at + RETRY_AFTER_FAILURE));
    }

    #[test]
    fn notices_say_what_happened_and_what_to_do() {
        let key = |result| super::super::RotatedKey {
            key_id: KeyId::random(),
            label: "grid".into(),
            exchange: Some(Exchange::Bybit),
            result,
        };
        let report = RotationReport {
            job_id: "j".into(),
            kind: super::super::RotationKind::Scheduled,
            started_at: Utc::now(),
            finished_at: Some(Utc::now()),
            keys: vec![
                key(RotationResult::Rotated {
                    new_key_id: KeyId::random(),
                    new_hint: "NEW1…ab".into(),
                    handover: None,
                    old_key: KeyStatus::Revoked,
                }),
                key(RotationResult::Failed {
                    error: "Bybit refused the create. The key in use is unchanged.".into(),
                    kind: "x".into(),
                }),
                key(RotationResult::Pending),
            ],
        };
        let n = notices(&report);
        assert_eq!(n.len(), 2, "nothing for a rotation that is not finished");
        assert_eq!(n[0].title, "Rotated 'grid' automatically");
        assert_eq!(n[0].body, "The new Bybit key NEW1…ab is in use; the old key is deleted.");
        assert_eq!((n[1].title.as_str(), n[1].urgency), ("Could not rotate 'grid'", Urgency::Critical));
        assert!(n[1].body.ends_with("unchanged. Latchkey tries again in 6 hours."), "{}", n[1].body);
    }
}
