//! The reminder timer: sleeps until the next rotation event, sends native notifications, runs the
//! automatic rotations that fell due (window closed or not: the tray-resident app does them), and
//! keeps the tray's "N keys due" line current. The notification plugin does not schedule on
//! desktop, so the timing is ours; what to send, what to rotate and when to look again come from
//! `latchkey_core::reminders` and `latchkey_core::autorotate::schedule`.

use std::sync::Arc;
use std::time::Duration;

use chrono::Local;
use latchkey_core::autorotate::schedule;
use latchkey_core::model::KeyStatus;
use latchkey_core::reminders;
use latchkey_core::rotation::{self, RotationState};
use latchkey_core::settings::Settings;
use tauri::{AppHandle, Runtime};

use crate::notifier::{self, Notice};
use crate::state::Core;

/// The longest single nap. The monotonic clock tokio sleeps on stops while the machine is
/// suspended, so a long sleep would wake late after a resume; re-reading the wall clock this often
/// keeps reminders on time without polling the store in between.
const MAX_NAP: Duration = Duration::from_secs(15 * 60);

pub fn start<R: Runtime>(app: AppHandle<R>, core: Arc<Core>, wake: Arc<tokio::sync::Notify>) {
    tauri::async_runtime::spawn(async move {
        loop {
            let next = match tick(&app, &core).await {
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
async fn tick<R: Runtime>(
    app: &AppHandle<R>,
    core: &Arc<Core>,
) -> latchkey_core::Result<Option<chrono::DateTime<chrono::Utc>>> {
    let rotated_next = rotate_due(app, core).await;
    let core = core.clone();
    let (plan, (due_count, still_live)) = tauri::async_runtime::spawn_blocking(move || {
        let store = core.vault.store();
        let keys = store.list_keys()?;
        let settings = Settings::load(store)?;
        let now = Local::now();
        // Keys that rotate by themselves are not reminded: they get word of the rotation instead.
        let mut reminded = Vec::new();
        for key in &keys {
            if !schedule::rotates_automatically(store, key)? {
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
        Ok::<_, latchkey_core::Error>((plan, (due, still_live)))
    })
    .await
    .map_err(|e| latchkey_core::Error::Storage { path: String::new(), detail: e.to_string() })??;

    for r in plan.now {
        // Delivery failures are logged only: the tray and the dashboard show the same due state,
        // so a lost notification does not hide a due key.
        tracing::info!(key = %r.key_id, urgency = ?r.urgency, "reminder sent");
        let notice = Notice { key_id: r.key_id, title: r.title, body: r.body, urgency: r.urgency, actions: r.actions };
        notifier::show(app, notice);
    }
    crate::tray::set_due_count(app, due_count);
    crate::tray::set_still_live_count(app, still_live);
    Ok([plan.next_check, rotated_next].into_iter().flatten().min())
}

/// Runs the automatic rotations that are due and tells the user how each ended; returns when the
/// next one falls due.
async fn rotate_due<R: Runtime>(app: &AppHandle<R>, core: &Arc<Core>) -> Option<chrono::DateTime<chrono::Utc>> {
    let store_core = core.clone();
    let due = tauri::async_runtime::spawn_blocking(move || schedule::due(store_core.vault.store(), chrono::Utc::now()))
        .await
        .ok()?;
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
    match core.rotations.rotate_scheduled(&keys, latchkey_core::autorotate::no_progress()).await {
        Ok(report) => {
            for n in schedule::notices(&report) {
                let notice =
                    Notice { key_id: n.key_id, title: n.title, body: n.body, urgency: n.urgency, actions: Vec::new() };
                notifier::show(app, notice);
            }
            // The dashboard shows the new keys.
            crate::tray::tell_page_keys_changed(app);
        }
        // Busy: a rotation or revoke runs elsewhere (the CLI); the next look tries again.
        Err(e) => tracing::warn!(error = %e, "automatic rotation did not run"),
    }
    // The rotated keys' next dates are a policy away, learnt at the next look: soon.
    let soon = chrono::Utc::now() + chrono::Duration::minutes(1);
    Some(next.map_or(soon, |n| n.min(soon)))
}
