//! The reminder timer: sleeps until the next rotation event, sends native notifications, runs the
//! automatic rotations that fell due, and keeps the tray's "N keys due" and "still live" lines
//! current. What to send, what to rotate and when to look again come from
//! `latchkey_core::reminders` and `latchkey_core::autorotate::schedule`.

use std::sync::Arc;
use std::time::Duration;

use chrono::Local;
use latchkey_core::autorotate::schedule;
use latchkey_core::model::KeyStatus;
use latchkey_core::reminders;
use latchkey_core::rotation::{self, RotationState};
use latchkey_core::services::Services;
use latchkey_core::settings::Settings;
use tokio::sync::mpsc::UnboundedSender;

use crate::notifier::{Notice, Notifier};
use crate::tray::{Counts, Tray};
use crate::Request;

/// The longest single nap. The monotonic clock tokio sleeps on stops while the machine is
/// suspended, so a long sleep would wake late after a resume; re-reading the wall clock this often
/// keeps reminders on time without polling the store in between.
const MAX_NAP: Duration = Duration::from_secs(15 * 60);

pub fn start(services: Arc<Services>, tray: Tray, requests: UnboundedSender<Request>, wake: Arc<tokio::sync::Notify>) {
    let notifier = Notifier::new(services.clone(), requests);
    tokio::spawn(async move {
        loop {
            let next = match tick(&services, &tray, &notifier).await {
                Ok(next) => next,
                Err(e) => {
                    tracing::warn!(error = %e, "reminder check failed; retrying later");
                    None
                }
            };
            let nap = next
                .and_then(|at| (at - chrono::Utc::now()).to_std().ok())
                .unwrap_or(MAX_NAP)
                .clamp(Duration::from_secs(1), MAX_NAP);
            tokio::select! {
                () = tokio::time::sleep(nap) => {}
                () = wake.notified() => {}
            }
        }
    });
}

/// One look: send what is due, note it, update the tray; returns when to look again.
async fn tick(
    services: &Arc<Services>,
    tray: &Tray,
    notifier: &Notifier,
) -> latchkey_core::Result<Option<chrono::DateTime<chrono::Utc>>> {
    let rotated_next = rotate_due(services, notifier).await;
    let store = services.store.clone();
    let (plan, counts) = tokio::task::spawn_blocking(move || {
        let keys = store.list_keys()?;
        let settings = Settings::load(&store)?;
        let now = Local::now();
        // Keys that rotate by themselves are not reminded: they get word of the rotation instead.
        let mut reminded = Vec::new();
        for key in &keys {
            if !schedule::rotates_automatically(&store, key)? {
                reminded.push(key.clone());
            }
        }
        let plan = reminders::plan(&reminded, &settings, &now);
        for r in &plan.now {
            store.mark_reminded(r.key_id, now.with_timezone(&chrono::Utc))?;
        }
        let still_live = keys.iter().filter(|k| k.status.is_still_live()).count();
        let due = keys
            .iter()
            .filter(|k| k.status == KeyStatus::Active || k.status == KeyStatus::Quarantined)
            .filter_map(|k| rotation::status(k, &now, settings.due_soon_days))
            .filter(|s| s.state != RotationState::Ok)
            .count();
        Ok::<_, latchkey_core::Error>((plan, Counts { due, still_live }))
    })
    .await
    .map_err(|e| latchkey_core::Error::Storage { path: String::new(), detail: e.to_string() })??;

    for r in plan.now {
        tracing::info!(key = %r.key_id, urgency = ?r.urgency, "reminder sent");
        notifier.show(Notice {
            key_id: r.key_id,
            title: r.title,
            body: r.body,
            urgency: r.urgency,
            actions: r.actions,
        });
    }
    tray.set_counts(counts).await;
    Ok([plan.next_check, rotated_next].into_iter().flatten().min())
}

/// Runs the automatic rotations that are due and tells the user how each ended; returns when the
/// next one falls due.
async fn rotate_due(services: &Arc<Services>, notifier: &Notifier) -> Option<chrono::DateTime<chrono::Utc>> {
    let store = services.store.clone();
    let due = tokio::task::spawn_blocking(move || schedule::due(&store, chrono::Utc::now())).await.ok()?;
    let (keys, next) = match due {
        Ok(due) => due,
        Err(e) => {
            tracing::warn!(error = %e, "could not read which keys rotate by themselves");
            return None;
        }
    };
    if keys.is_empty() {
        return next;
    }
    tracing::info!(keys = keys.len(), "automatic rotation");
    match services.rotations.rotate_scheduled(&keys, latchkey_core::autorotate::no_progress()).await {
        Ok(report) => {
            for n in schedule::notices(&report) {
                notifier.show(Notice {
                    key_id: n.key_id,
                    title: n.title,
                    body: n.body,
                    urgency: n.urgency,
                    actions: Vec::new(),
                });
            }
        }
        // Busy: a rotation or revoke runs elsewhere (the CLI, the window); the next look tries again.
        Err(e) => tracing::warn!(error = %e, "automatic rotation did not run"),
    }
    // The rotated keys' next dates are a policy away, learnt at the next look: soon.
    let soon = chrono::Utc::now() + chrono::Duration::minutes(1);
    Some(next.map_or(soon, |n| n.min(soon)))
}
