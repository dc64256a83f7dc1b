//! The reminder timer: sleeps until the next rotation event, sends native notifications, and keeps
//! the tray's "N keys due" line current. The notification plugin does not schedule on desktop, so
//! the timing is ours; what to send and when to look again comes from `latchkey_core::reminders`.

use std::sync::Arc;
use std::time::Duration;

use chrono::Local;
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
    let core = core.clone();
    let (plan, (due_count, still_live)) = tauri::async_runtime::spawn_blocking(move || {
        let store = core.vault.store();
        let keys = store.list_keys()?;
        let settings = Settings::load(store)?;
        let now = Local::now();
        let plan = reminders::plan(&keys, &settings, &now);
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
    Ok(plan.next_check)
}
