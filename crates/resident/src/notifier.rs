//! Desktop notifications with an urgency and buttons that do what they say: the Desktop
//! Notifications spec over D-Bus, through notify-rust. Each notification gets a thread that keeps
//! its D-Bus connection open (GNOME closes a notification once its sender's connection goes away)
//! and waits for the click: the body opens the window, "Rotate…" opens the guided rotation for that
//! key, "Snooze 1 day" snoozes it as the card's button does. The thread ends when the notification
//! closes.

use std::sync::Arc;

use latchkey_core::model::KeyId;
use latchkey_core::reminders::{ReminderAction, Urgency};
use latchkey_core::services::Services;
use tokio::sync::mpsc::UnboundedSender;

use crate::Request;

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

/// Where a click goes: the window through the resident's requests, a snooze straight to the vault.
#[derive(Clone)]
pub struct Notifier {
    services: Arc<Services>,
    requests: UnboundedSender<Request>,
}

impl Notifier {
    pub fn new(services: Arc<Services>, requests: UnboundedSender<Request>) -> Notifier {
        Notifier { services, requests }
    }

    /// Shows `notice` without blocking the caller; a failure to show it is logged (the tray and
    /// the dashboard show the same state, so a lost notification hides nothing).
    pub fn show(&self, notice: Notice) {
        let this = self.clone();
        let spawned = std::thread::Builder::new().name("notification".into()).spawn(move || this.show_and_wait(notice));
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "notification not shown");
        }
    }

    #[cfg(target_os = "linux")]
    fn show_and_wait(&self, notice: Notice) {
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
                self.act(key, c);
            }
        });
    }

    #[cfg(not(target_os = "linux"))]
    fn show_and_wait(&self, notice: Notice) {
        tracing::warn!(key = %notice.key_id, "notifications are shown on Linux only so far");
    }

    fn act(&self, key: KeyId, clicked: Clicked) {
        match clicked {
            Clicked::Open => {
                let _ = self.requests.send(Request::Open);
            }
            Clicked::Button(ReminderAction::Rotate) => {
                let _ = self.requests.send(Request::OpenRotation(key));
            }
            Clicked::Button(ReminderAction::Snooze) => self.snooze(key),
            Clicked::Nothing => {}
        }
    }

    /// As the card's "Snooze 1 day": the vault snoozes and audits it; the reminder timer and an
    /// open window see the change through the store.
    fn snooze(&self, key: KeyId) {
        match self.services.vault.snooze(key, latchkey_core::reminders::SNOOZE_DAYS, chrono::Utc::now()) {
            Ok(_) => tracing::info!(key = %key, "snoozed from the notification"),
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
