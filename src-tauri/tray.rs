//! Tray residency: Latchkey stays in the tray with its window closed, so reminders still fire.
//! The menu: Open Latchkey, how many keys are due, how many are still live at their exchange after
//! a revoke (to delete on the website), Emergency revoke…, Quit.
//!
//! Closing the window destroys it: its web view and the WebKit processes behind it (about 180 MB
//! PSS, see BENCHMARKS.md) go away, and the tray-resident process costs what a native app does.
//! Opening it from the tray (or launching Latchkey again) builds it afresh from tauri.conf.json.

use tauri::menu::{Menu, MenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::webview::PageLoadEvent;
use tauri::{AppHandle, Manager, RunEvent, Runtime, WebviewWindowBuilder};
use tauri_plugin_autostart::ManagerExt;

use crate::IpcError;

const MAIN: &str = "main";

struct DueItem<R: Runtime>(MenuItem<R>);
struct StillLiveItem<R: Runtime>(MenuItem<R>);

pub fn install<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    let open = MenuItem::with_id(app, "open", "Open Latchkey", true, None::<&str>)?;
    let due = MenuItem::with_id(app, "due", "No keys due", false, None::<&str>)?;
    let live = MenuItem::with_id(app, "still-live", still_live_text(0), false, None::<&str>)?;
    let revoke = MenuItem::with_id(app, "revoke", "Emergency revoke…", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit Latchkey", true, None::<&str>)?;
    let menu = Menu::with_items(app, &[&open, &due, &live, &revoke, &quit])?;
    let mut tray = TrayIconBuilder::with_id("latchkey").tooltip("Latchkey").menu(&menu).on_menu_event(|app, event| {
        match event.id.as_ref() {
            "open" | "still-live" => show_main(app),
            "revoke" => open_main(app, Some(PRESS_REVOKE.to_owned())),
            "quit" => app.exit(0),
            _ => {}
        }
    });
    if let Some(icon) = app.default_window_icon() {
        tray = tray.icon(icon.clone());
    }
    tray.build(app)?;
    app.manage(DueItem(due));
    app.manage(StillLiveItem(live));
    Ok(())
}

/// Closing the window destroys it; with no window left the app keeps running in the tray. Only an
/// explicit exit (the tray's Quit, `app.exit`, a termination signal) ends it, and that takes a
/// copied secret off the clipboard first instead of leaving it for the next paste.
pub fn keep_running_without_windows<R: Runtime>(_app: &AppHandle<R>, event: RunEvent) {
    match event {
        RunEvent::ExitRequested { code: None, api, .. } => api.prevent_exit(),
        RunEvent::Exit => clear_clipboard_on_quit(),
        _ => {}
    }
}

fn clear_clipboard_on_quit() {
    match crate::clipboard::clear_pending() {
        Ok(true) => tracing::info!("clipboard cleared on quit"),
        Ok(false) => {}
        Err(e) => tracing::warn!(error = %e, "could not clear the clipboard on quit"),
    }
}

/// SIGTERM, SIGINT and SIGHUP (logout, `kill`, Ctrl-C in a terminal) quit like the tray's Quit, so
/// the clipboard is cleared on those paths too. A second signal ends the process at once.
#[cfg(unix)]
pub fn quit_on_signals<R: Runtime>(app: &AppHandle<R>) {
    use tokio::signal::unix::{signal, SignalKind};
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let (Ok(mut term), Ok(mut int), Ok(mut hup)) =
            (signal(SignalKind::terminate()), signal(SignalKind::interrupt()), signal(SignalKind::hangup()))
        else {
            tracing::warn!("could not listen for termination signals");
            return;
        };
        let mut asked = false;
        loop {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
                _ = hup.recv() => {}
            }
            if asked {
                clear_clipboard_on_quit();
                std::process::exit(1);
            }
            asked = true;
            tracing::info!("termination signal: quitting");
            app.exit(0);
        }
    });
}

#[cfg(not(unix))]
pub fn quit_on_signals<R: Runtime>(_app: &AppHandle<R>) {}

/// Shows the main window, building it again if it was closed.
pub fn show_main<R: Runtime>(app: &AppHandle<R>) {
    open_main(app, None);
}

/// The page presses its own always-visible button: the same guarded dialog, and no extra IPC
/// permission for the page.
const PRESS_REVOKE: &str = "document.getElementById('emergency-revoke')?.click()";

/// A notification's "Rotate…": the window, then the key card's own Rotate button, once the list
/// has rendered it (the page loads the list after the page itself). A key id is a UUID: nothing
/// in it needs escaping.
pub fn open_rotation<R: Runtime>(app: &AppHandle<R>, key: latchkey_core::model::KeyId) {
    let script = format!(
        "(() => {{ let tries = 0; const press = () => {{ const b = document.querySelector('[data-testid=key-card][data-id=\"{key}\"] .rotate-key'); if (b) b.click(); else if (tries++ < 150) setTimeout(press, 100); }}; press(); }})()"
    );
    open_main(app, Some(script));
}

/// The event the page refreshes its key list on (`ui/src/app.ts`): keys changed outside it (a
/// notification's Snooze, the CLI in another process).
const KEYS_CHANGED: &str = "window.dispatchEvent(new Event('latchkey-keys-changed'))";

/// Tells an open window that the keys changed; a closed one loads them fresh when it opens.
pub fn tell_page_keys_changed<R: Runtime>(app: &AppHandle<R>) {
    if let Some(w) = app.get_webview_window(MAIN) {
        let _ = w.eval(KEYS_CHANGED);
    }
}

/// Shows the main window (building it if it was closed), then runs `script` in it once its page is
/// ready.
fn open_main<R: Runtime>(app: &AppHandle<R>, script: Option<String>) {
    if let Some(w) = app.get_webview_window(MAIN) {
        let _ = w.show();
        let _ = w.unminimize();
        let _ = w.set_focus();
        if let Some(script) = script {
            let _ = w.eval(&script);
        }
        return;
    }
    // Not from this (event-handler) thread: window creation can deadlock there on Windows.
    let app = app.clone();
    std::thread::spawn(move || {
        if let Err(e) = build_main(&app, script) {
            tracing::error!(error = %e, "could not open the main window");
        }
    });
}

fn build_main<R: Runtime>(app: &AppHandle<R>, script: Option<String>) -> tauri::Result<()> {
    let Some(config) = app.config().app.windows.iter().find(|w| w.label == MAIN).cloned() else {
        return Err(tauri::Error::WindowNotFound);
    };
    let mut builder = WebviewWindowBuilder::from_config(app, &config)?;
    if let Some(script) = script {
        builder = builder.on_page_load(move |w, payload| {
            if payload.event() == PageLoadEvent::Finished {
                let _ = w.eval(&script);
            }
        });
    }
    let window = builder.build()?;
    let _ = window.set_focus();
    Ok(())
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

fn still_live_text(n: usize) -> String {
    match n {
        0 => "No keys still live after a revoke".to_owned(),
        1 => "1 key still live: delete it on the website".to_owned(),
        n => format!("{n} keys still live: delete them on the website"),
    }
}

/// Keys a revoke could not end at the exchange: counted until the user proves them deleted.
pub fn set_still_live_count<R: Runtime>(app: &AppHandle<R>, n: usize) {
    if let Some(item) = app.try_state::<StillLiveItem<R>>() {
        let _ = item.0.set_text(still_live_text(n));
        let _ = item.0.set_enabled(n > 0);
    }
}

/// The argument the login entry starts Latchkey with: straight into the tray, no window, as
/// Settings promises ("Latchkey starts in the tray").
pub const START_IN_TRAY: &str = "--tray";

/// Whether this launch's arguments (without the program name) ask for the tray only.
pub fn starts_in_tray<I, S>(args: I) -> bool
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    args.into_iter().any(|a| a.as_ref() == START_IN_TRAY)
}

/// The window at launch: built now unless the launch asked for the tray only. The config does not
/// create it (`"create": false`), so a login start costs no web view until the user opens it.
pub fn open_at_launch<R: Runtime>(app: &AppHandle<R>, args: &[std::ffi::OsString]) {
    if starts_in_tray(args) {
        tracing::info!("started in the tray");
        return;
    }
    if let Err(e) = build_main(app, None) {
        tracing::error!(error = %e, "could not open the main window");
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_login_argument_starts_in_the_tray_and_nothing_else_does() {
        assert!(starts_in_tray([START_IN_TRAY]));
        assert!(starts_in_tray(["--verbose", "--tray"]));
        assert!(!starts_in_tray(Vec::<String>::new()), "a plain launch opens the window");
        assert!(!starts_in_tray(["--trayx", "tray"]));
    }
}
