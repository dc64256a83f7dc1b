//! The tray-resident process (`latchkey-resident`, crates/resident): started by every window that
//! was not itself started by it, so reminders, automatic rotation and the signing agent go on
//! after the window closes. A resident already running for the data dir makes the new one exit at
//! once (its lock file), so starting it unconditionally is safe.
//!
//! A login start (`latchkey-desktop --tray`, the entry the autostart plugin writes) becomes the
//! resident by `exec` before any of the window's toolkit is initialised: no GTK, no WebKit.

use std::path::PathBuf;
use std::process::{Command, Stdio};

/// Installed beside the window program.
pub const RESIDENT_PROGRAM: &str = "latchkey-resident";
/// Set by the resident on the windows it starts (crates/resident/src/window.rs).
pub const STARTED_BY_RESIDENT_VAR: &str = "LATCHKEY_STARTED_BY_RESIDENT";

fn program() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(RESIDENT_PROGRAM)))
        .unwrap_or_else(|| PathBuf::from(RESIDENT_PROGRAM))
}

/// Starts the resident unless it started this window. It stays in this process group: a
/// terminal's Ctrl-C or a test harness ending the group ends it too, while closing the window
/// (this process exiting) leaves it running.
pub fn ensure_running() {
    if std::env::var_os(STARTED_BY_RESIDENT_VAR).is_some() {
        return;
    }
    let program = program();
    match Command::new(&program).stdin(Stdio::null()).stdout(Stdio::null()).spawn() {
        Ok(mut child) => {
            // Collected when it exits (at once, if one already runs), so it leaves no zombie.
            let _ = std::thread::Builder::new().name("resident".into()).spawn(move || child.wait());
        }
        Err(e) => tracing::error!(
            program = %program.display(),
            error = %e,
            "could not start the tray part of Latchkey: reminders and automatic rotation stop when this window closes"
        ),
    }
}

/// Replaces this process with the resident. Returns only if that failed.
#[cfg(unix)]
pub fn become_resident() -> std::io::Error {
    use std::os::unix::process::CommandExt;
    Command::new(program()).exec()
}

#[cfg(not(unix))]
pub fn become_resident() -> std::io::Error {
    match Command::new(program()).spawn() {
        Ok(_) => std::process::exit(0),
        Err(e) => e,
    }
}
