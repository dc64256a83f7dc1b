//! Desktop notifications with an urgency and buttons that do what they say.
//!
//! Linux: the Desktop Notifications spec over D-Bus, through notify-rust. The notification plugin
//! (2.8) sends no urgency hint on Linux, so an overdue key would look like any other message.
//! Each notification gets a thread that keeps its D-Bus connection open (GNOME closes a
//! notification once its sender's connection goes away) and waits for the click: the body opens
//! the window, "Rotate…" opens the guided rotation for that key, "Snooze 1 day" snoozes it as the
//! card's button does. The thread ends when the notification closes.
//!
//! Elsewhere the plugin shows title and body only: no urgency, no buttons.

use latchkey_core::model::KeyId;
use latchkey_core::reminders::{ReminderAction, Urgency};
use tauri::{AppHandle, Runtime};

/// One notification about a key.
#[derive(Clone, Debug)]
pub struct Notice {
    pub key_id: KeyId,
    pub title: String,
    pub body: String,
    pub urgency: Urgency,
    pub actions: Vec<ReminderAction>,
}

/// What a click on the notification asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clicked {
    /// The notification itself: open the window.
    Open,
    Button(ReminderAction),
    /// Closed, or an id this notification did not offer: nothing to do.
    Nothing,
}

/// What the notification server reported for a notification that offered `offered`.
pub fn clicked(id: &str, offered: &[ReminderAction]) -> Clicked {
    match id {
        "default" => Clicked::Open,
        other => match ReminderAction::from_id(other) {
            Some(action) if offered.contains(&action) => Clicked::Button(action),
            _ => Clicked::Nothing,
        },
    }
}

/// Shows `notice` without blocking the caller; a failure to show it is logged.
pub fn show<R: Runtime>(app: &AppHandle<R>, notice: Notice) {
    #[cfg(target_os = "linux")]
    {
        let app = app.clone();
        let spawned =
            std::thread::Builder::new().name("notification".into()).spawn(move || linux::show_and_wait(&app, notice));
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "notification not shown");
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        use tauri_plugin_notification::NotificationExt;
        if let Err(e) = app.notification().builder().title(&notice.title).body(&notice.body).show() {
            tracing::warn!(error = %e, key = %notice.key_id, "notification not shown");
        }
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use super::{clicked, Clicked, Notice};
    use latchkey_core::reminders::{ReminderAction, Urgency, SNOOZE_DAYS};
    use tauri::{AppHandle, Manager, Runtime};

    pub(super) fn show_and_wait<R: Runtime>(app: &AppHandle<R>, notice: Notice) {
        let mut n = notify_rust::Notification::new();
        n.appname("Latchkey").summary(&notice.title).body(&notice.body);
        n.urgency(match notice.urgency {
            Urgency::Normal => notify_rust::Urgency::Normal,
            Urgency::Critical => notify_rust::Urgency::Critical,
        });
        // "default" is the click on the notification itself; servers show no button for it.
        n.action("default", "Open Latchkey");
        for action in &notice.actions {
            n.action(action.id(), action.label());
        }
        let handle = match n.show() {
            Ok(handle) => handle,
            Err(e) => {
                // No notification server (or it refused): the tray and the dashboard show the
                // same state, so a lost notification hides nothing.
                tracing::warn!(error = %e, key = %notice.key_id, "notification not shown");
                return;
            }
        };
        tracing::info!(key = %notice.key_id, "notification shown");
        let (key, offered) = (notice.key_id, notice.actions);
        handle.wait_for_action(|id| match clicked(id, &offered) {
            Clicked::Nothing => tracing::info!(key = %key, "notification closed"),
            c => {
                tracing::info!(key = %key, clicked = ?c, "notification clicked");
                act(app, key, c);
            }
        });
    }

    fn act<R: Runtime>(app: &AppHandle<R>, key: latchkey_core::model::KeyId, clicked: Clicked) {
        match clicked {
            Clicked::Open => crate::tray::show_main(app),
            Clicked::Button(ReminderAction::Rotate) => crate::tray::open_rotation(app, key),
            Clicked::Button(ReminderAction::Snooze) => snooze(app, key),
            Clicked::Nothing => {}
        }
    }

    /// As the card's "Snooze 1 day": the vault snoozes and audits it, the reminder timer and the
    /// page hear of it.
    fn snooze<R: Runtime>(app: &AppHandle<R>, key: latchkey_core::model::KeyId) {
        let state = app.state::<crate::AppState>();
        let Ok(vault) = state.vault() else { return };
        match vault.snooze(key, SNOOZE_DAYS, chrono::Utc::now()) {
            Ok(_) => {
                tracing::info!(key = %key, "snoozed from the notification");
                state.reminders_changed();
                crate::tray::tell_page_keys_changed(app);
            }
            Err(e) => tracing::warn!(error = %e, key = %key, "could not snooze from the notification"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_click_does_only_what_the_notification_offered() {
        let both = [ReminderAction::Rotate, ReminderAction::Snooze];
        assert_eq!(clicked("default", &both), Clicked::Open);
        assert_eq!(clicked("rotate", &both), Clicked::Button(ReminderAction::Rotate));
        assert_eq!(clicked("snooze", &both), Clicked::Button(ReminderAction::Snooze));
        assert_eq!(clicked("__closed", &both), Clicked::Nothing);
        assert_eq!(clicked("snooze", &[]), Clicked::Nothing, "a still-live key offers no snooze");
        assert_eq!(clicked("default", &[]), Clicked::Open);
    }
}
