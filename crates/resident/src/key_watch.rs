//! The daily look at every active key: one signed read each at its exchange, spaced within the
//! exchange's rate limit, stopped while offline. What changed since the last look (a permission
//! gained, an IP whitelist dropped or widened, an expiry moved closer, the key rejected) is audited
//! by the core and notified here. What to read and when comes from `latchkey_core::watch`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use latchkey_core::model::{Exchange, KeyId};
use latchkey_core::services::Services;
use latchkey_core::settings::Settings;
use latchkey_core::watch::{self, LookError};
use tokio::sync::mpsc::UnboundedSender;

use crate::notifier::{Notice, Notifier};
use crate::Request;

/// The first look waits a little after start, so a window opened with the resident is not slowed
/// by network calls.
const FIRST_LOOK_AFTER: Duration = Duration::from_secs(10);
/// As in the reminder timer: wall-clock deadlines, checked at least this often (suspend-safe).
const MAX_NAP: Duration = Duration::from_secs(15 * 60);

pub fn start(services: Arc<Services>, requests: UnboundedSender<Request>) {
    let notifier = Notifier::new(services.clone(), requests);
    tokio::spawn(async move {
        tokio::time::sleep(FIRST_LOOK_AFTER).await;
        let mut tried: HashMap<KeyId, chrono::DateTime<Utc>> = HashMap::new();
        loop {
            let next = match look(&services, &notifier, &mut tried).await {
                Ok(next) => next,
                Err(e) => {
                    tracing::warn!(error = %e, "key watch failed; retrying later");
                    Utc::now() + chrono::Duration::minutes(watch::OFFLINE_RETRY_MINUTES)
                }
            };
            let nap = (next - Utc::now()).to_std().unwrap_or(Duration::ZERO).clamp(Duration::from_secs(1), MAX_NAP);
            tokio::time::sleep(nap).await;
        }
    });
}

async fn list(services: &Arc<Services>) -> latchkey_core::Result<Vec<latchkey_core::model::KeyRecord>> {
    let vault = services.vault.clone();
    tokio::task::spawn_blocking(move || vault.list())
        .await
        .map_err(|e| latchkey_core::Error::Storage { path: String::new(), detail: e.to_string() })?
}

/// Reads every key that is due; returns when to look again.
async fn look(
    services: &Arc<Services>,
    notifier: &Notifier,
    tried: &mut HashMap<KeyId, chrono::DateTime<Utc>>,
) -> latchkey_core::Result<chrono::DateTime<Utc>> {
    let keys = list(services).await?;
    let plan = watch::plan(&keys, tried, Utc::now());
    let mut last_call: HashMap<Exchange, Instant> = HashMap::new();
    for id in &plan.due {
        let Some(exchange) = keys.iter().find(|k| k.id == *id).map(|k| k.exchange) else { continue };
        if let Some(prev) = last_call.get(&exchange) {
            let gap = watch::spacing(exchange).saturating_sub(prev.elapsed());
            tokio::time::sleep(gap).await;
        }
        last_call.insert(exchange, Instant::now());
        match watch::check_key(&services.vault, &services.client, *id, Utc::now()).await {
            Ok(looked) => {
                tried.remove(id);
                notify(services, notifier, &looked.notices());
            }
            Err(LookError::Exchange(e)) if watch::is_offline(&e) => {
                tracing::info!(error = %e, "offline: the key watch waits");
                return Ok(watch::retry_when_offline(Utc::now()));
            }
            Err(e) => {
                tracing::warn!(key = %id, error = %e, "key watch: no answer about the key");
                tried.insert(*id, Utc::now());
            }
        }
    }
    let keys = list(services).await?;
    let after = watch::plan(&keys, tried, Utc::now());
    Ok(after.next_at.unwrap_or_else(|| Utc::now() + chrono::Duration::hours(watch::LOOK_EVERY_HOURS)))
}

/// Sends the notices as desktop notifications, unless the user turned notifications off (the audit
/// log and the card keep them either way).
fn notify(services: &Services, notifier: &Notifier, notices: &[watch::Notice]) {
    if notices.is_empty() {
        return;
    }
    let on = Settings::load(&services.store).map(|s| s.notifications).unwrap_or(true);
    if !on {
        return;
    }
    for n in notices {
        tracing::info!(key = %n.key_id, "key change notified");
        notifier.show(Notice {
            key_id: n.key_id,
            title: n.title.clone(),
            body: n.body.clone(),
            urgency: latchkey_core::reminders::Urgency::Normal,
            actions: Vec::new(),
        });
    }
}
