//! Tray residency: Latchkey stays in the tray with its window closed, so reminders still fire.
//! The menu: Open Latchkey, how many keys are due, Emergency revoke…, Quit.

use tauri::menu::{Menu, MenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Runtime, WindowEvent};
use tauri_plugin_autostart::ManagerExt;

use crate::IpcError;

const MAIN: &str = "main";

struct DueItem<R: Runtime>(MenuItem<R>);

pub fn install<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    let open = MenuItem::with_id(app, "open", "Open Latchkey", true, None::<&str>)?;
    let due = MenuItem::with_id(app, "due", "No keys due", false, None::<&str>)?;
    let revoke = MenuItem::with_id(app, "revoke", "Emergency revoke…", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit Latchkey", true, None::<&str>)?;
    let menu = Menu::with_items(app, &[&open, &due, &revoke, &quit])?;
    let mut tray = TrayIconBuilder::with_id("latchkey").tooltip("Latchkey").menu(&menu).on_menu_event(|app, event| {
        match event.id.as_ref() {
            "open" => show_main(app),
            "revoke" => {
                show_main(app);
                // Press the window's own always-visible button: the same guarded dialog, and no
                // extra IPC permission for the page.
                if let Some(w) = app.get_webview_window(MAIN) {
                    let _ = w.eval("document.getElementById('emergency-revoke')?.click()");
                }
            }
            "quit" => app.exit(0),
            _ => {}
        }
    });
    if let Some(icon) = app.default_window_icon() {
        tray = tray.icon(icon.clone());
    }
    tray.build(app)?;
    app.manage(DueItem(due));
    Ok(())
}

/// Closing the window hides it to the tray instead of quitting.
pub fn keep_running_when_closed<R: Runtime>(window: &tauri::Window<R>, event: &WindowEvent) {
    if let WindowEvent::CloseRequested { api, .. } = event {
        if window.label() == MAIN {
            api.prevent_close();
            let _ = window.hide();
        }
    }
}

pub fn show_main<R: Runtime>(app: &AppHandle<R>) {
    if let Some(w) = app.get_webview_window(MAIN) {
        let _ = w.show();
        let _ = w.unminimize();
        let _ = w.set_focus();
    }
}

pub fn set_due_count<R: Runtime>(app: &AppHandle<R>, n: usize) {
    let text = match n {
        0 => "No keys due".to_owned(),
        1 => "1 key due for rotation".to_owned(),
        n => format!("{n} keys due for rotation"),
    };
    if let Some(item) = app.try_state::<DueItem<R>>() {
        let _ = item.0.set_text(text);
    }
}

/// Start at login is the user's choice, off unless enabled in Settings.
pub fn apply_start_at_login<R: Runtime>(app: &AppHandle<R>, enabled: bool) -> Result<(), IpcError> {
    let launcher = app.autolaunch();
    let result = if enabled { launcher.enable() } else { launcher.disable() };
    // Disabling something that was never enabled is not an error worth showing.
    match result {
        Ok(()) => Ok(()),
        Err(_) if !enabled => Ok(()),
        Err(e) => {
            Err(IpcError::internal(format!("Could not turn on start at login: {e}. Your other settings were saved.")))
        }
    }
}
