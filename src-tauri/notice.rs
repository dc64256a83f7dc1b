//! The one notification the window sends itself: what a Re-check found changed about a key (the
//! key rejected, a permission gained), as the resident's daily look would notify it. Reminders and
//! their buttons are the resident's (crates/resident/src/notifier.rs).

use latchkey_core::settings::Settings;
use latchkey_core::watch::Notice;

use crate::state::Core;

/// Notifies each change unless the user turned notifications off (the audit log and the card keep
/// them either way). Never blocks the command: each goes out on its own thread.
pub fn key_changes(core: &Core, notices: &[Notice]) {
    if notices.is_empty() || !Settings::load(&core.store).map(|s| s.notifications).unwrap_or(true) {
        return;
    }
    for n in notices {
        tracing::info!(key = %n.key_id, "key change notified");
        #[cfg(target_os = "linux")]
        {
            let (title, body, key) = (n.title.clone(), n.body.clone(), n.key_id);
            let _ = std::thread::Builder::new().name("notification".into()).spawn(move || {
                let shown = notify_rust::Notification::new().appname("Latchkey").summary(&title).body(&body).show();
                if let Err(e) = shown {
                    tracing::warn!(error = %e, key = %key, "notification not shown");
                }
            });
        }
    }
}
