//! The window process's life: it opens its window at launch, reaches the running one when launched
//! again (single instance), and exits when its window closes. The tray, the reminders, automatic
//! rotation and the signing agent live in `latchkey-resident` (crates/resident), which starts this
//! program with `--revoke`, `--rotate KEY` or `--quit` for its menu and notifications.
//!
//! Closing the window ends the process, its web view and the WebKit processes behind it (about
//! 240 MiB PSS, see BENCHMARKS.md): nothing of WebKit stays resident.

use tauri::webview::PageLoadEvent;
use tauri::{AppHandle, Manager, RunEvent, Runtime, WebviewWindowBuilder};
use tauri_plugin_autostart::ManagerExt;

use crate::IpcError;

const MAIN: &str = "main";

/// Closing the window ends the process (the resident stays); every way out (the window closed,
/// the tray's Quit, a termination signal) takes a copied secret off the clipboard first instead of
/// leaving it for the next paste.
pub fn on_run_event<R: Runtime>(_app: &AppHandle<R>, event: RunEvent) {
    if let RunEvent::Exit = event {
        clear_clipboard_on_quit();
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
///
/// The handlers are installed before this returns, so call it before the window is made: a
/// signal that came as soon as the window was mapped, before a spawned task had installed them,
/// met the default action and ended the process uncleanly (e2e `start_at_login`, once in CI).
#[cfg(unix)]
pub fn quit_on_signals<R: Runtime>(app: &AppHandle<R>) {
    use tokio::signal::unix::{signal, SignalKind};
    let app = app.clone();
    let installed = tauri::async_runtime::block_on(async {
        (signal(SignalKind::terminate()), signal(SignalKind::interrupt()), signal(SignalKind::hangup()))
    });
    tauri::async_runtime::spawn(async move {
        let (Ok(mut term), Ok(mut int), Ok(mut hup)) = installed else {
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

/// The page presses its own always-visible button: the same guarded dialog, and no extra IPC
/// permission for the page.
const PRESS_REVOKE: &str = "document.getElementById('emergency-revoke')?.click()";

/// A notification's "Rotate…": the window, then the key card's own Rotate button, once the list
/// has rendered it (the page loads the list after the page itself). A key id is a UUID: nothing
/// in it needs escaping.
fn rotation_script(key: latchkey_core::model::KeyId) -> String {
    format!(
        "(() => {{ let tries = 0; const press = () => {{ const b = document.querySelector('[data-testid=key-card][data-id=\"{key}\"] .rotate-key'); if (b) b.click(); else if (tries++ < 150) setTimeout(press, 100); }}; press(); }})()"
    )
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

/// The argument the login entry starts Latchkey with: the tray only, no window, as Settings
/// promises ("Latchkey starts in the tray"). `main` hands such a launch to the resident before any
/// of the window's toolkit is loaded.
pub const START_IN_TRAY: &str = "--tray";

/// What a launch of the window program asks for, from its arguments (without the program name).
/// The resident's menu and notifications launch it with these (`crates/resident/src/window.rs`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Launch {
    /// The window.
    Window,
    /// The tray only: the resident.
    Tray,
    /// The window with the emergency revoke dialog open.
    Revoke,
    /// The window with the guided rotation of this key open.
    Rotate(latchkey_core::model::KeyId),
    /// A running window quits; with none running, nothing is shown.
    Quit,
}

impl Launch {
    pub fn from_args<I, S>(args: I) -> Launch
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let args: Vec<String> = args.into_iter().map(|a| a.as_ref().to_string_lossy().into_owned()).collect();
        let has = |flag: &str| args.iter().any(|a| a == flag);
        if has("--quit") {
            return Launch::Quit;
        }
        if has(START_IN_TRAY) {
            return Launch::Tray;
        }
        if has("--revoke") {
            return Launch::Revoke;
        }
        let rotate = args.iter().position(|a| a == "--rotate").and_then(|i| args.get(i + 1));
        match rotate.map(|k| k.parse()) {
            Some(Ok(key)) => Launch::Rotate(key),
            Some(Err(_)) => {
                tracing::warn!("--rotate needs a key id; opening the window");
                Launch::Window
            }
            None => Launch::Window,
        }
    }
}

/// Carries out a launch in the running app: this process's own (`at_start`: the window is built
/// here and now) or a later launch's, handed over by the single-instance plugin.
pub fn act<R: Runtime>(app: &AppHandle<R>, launch: Launch, at_start: bool) {
    let script = match launch {
        Launch::Quit => {
            tracing::info!("asked to quit");
            app.exit(0);
            return;
        }
        // A login start while the window runs: the resident is started with the window anyway.
        Launch::Tray => return,
        Launch::Window => None,
        Launch::Revoke => Some(PRESS_REVOKE.to_owned()),
        Launch::Rotate(key) => Some(rotation_script(key)),
    };
    if !at_start {
        return open_main(app, script);
    }
    if let Err(e) = build_main(app, script) {
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
    fn each_launch_argument_asks_for_what_it_says() {
        let none: [&str; 0] = [];
        assert_eq!(Launch::from_args(none), Launch::Window, "a plain launch opens the window");
        assert_eq!(Launch::from_args([START_IN_TRAY]), Launch::Tray);
        assert_eq!(Launch::from_args(["--verbose", "--tray"]), Launch::Tray);
        assert_eq!(Launch::from_args(["--trayx", "tray"]), Launch::Window);
        assert_eq!(Launch::from_args(["--revoke"]), Launch::Revoke);
        let key = "6f1c2a34-5b6d-4e7f-8a9b-0c1d2e3f4a5b";
        assert_eq!(Launch::from_args(["--rotate", key]), Launch::Rotate(key.parse().unwrap()));
        assert_eq!(Launch::from_args(["--rotate", "x"]), Launch::Window, "not a key id");
        assert_eq!(Launch::from_args(["--rotate"]), Launch::Window);
        assert_eq!(Launch::from_args(["--revoke", "--quit"]), Launch::Quit, "quit wins");
    }
}
