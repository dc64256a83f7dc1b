//! The window is its own process (`latchkey-desktop`, beside this program), started when the user
//! asks for it and gone when they close it. A window that already runs is reached the same way: a
//! second `latchkey-desktop` hands its arguments to the first (single instance) and exits, so the
//! resident needs no channel of its own into the window.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::Request;

/// The window program's name, installed beside this one.
pub const WINDOW_PROGRAM: &str = "latchkey-desktop";
/// Tests point the resident at a stand-in window with this variable.
pub const WINDOW_PROGRAM_VAR: &str = "LATCHKEY_WINDOW_BIN";
/// Set on every window the resident starts, so that window does not start a resident in turn.
pub const STARTED_BY_RESIDENT_VAR: &str = "LATCHKEY_STARTED_BY_RESIDENT";

pub struct Window {
    program: PathBuf,
}

impl Window {
    pub fn beside_this_program() -> Window {
        let program = std::env::var_os(WINDOW_PROGRAM_VAR).map(PathBuf::from).unwrap_or_else(|| {
            std::env::current_exe()
                .ok()
                .and_then(|exe| exe.parent().map(|dir| dir.join(WINDOW_PROGRAM)))
                .unwrap_or_else(|| PathBuf::from(WINDOW_PROGRAM))
        });
        Window { program }
    }

    /// Starts the window (or reaches the running one) for `request`; a failure is logged, since
    /// the tray has nowhere else to show it.
    pub fn open(&self, request: &Request) {
        if let Some(mut child) = self.launch(&arguments(request)) {
            // Collected when it exits, so a closed window leaves no zombie behind.
            let _ = std::thread::Builder::new().name("window".into()).spawn(move || child.wait());
        }
    }

    /// Asks a running window to quit (it clears a copied secret first); with none running, the
    /// window program started for this exits before it shows anything.
    pub fn quit(&self) {
        let Some(mut child) = self.launch(&arguments(&Request::Quit)) else { return };
        // Bounded: the tray quits even if the window does not answer.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::time::Instant::now() < deadline {
            if !matches!(child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        tracing::warn!("the window did not quit within 10 s");
    }

    fn launch(&self, args: &[String]) -> Option<std::process::Child> {
        let started =
            Command::new(&self.program).args(args).env(STARTED_BY_RESIDENT_VAR, "1").stdin(Stdio::null()).spawn();
        match started {
            Ok(child) => {
                tracing::info!(program = %self.program.display(), ?args, "window started");
                Some(child)
            }
            Err(e) => {
                tracing::error!(program = %self.program.display(), error = %e, "could not start the window");
                None
            }
        }
    }
}

/// The window program's arguments for each request (`src-tauri/launch.rs` reads them).
pub fn arguments(request: &Request) -> Vec<String> {
    match request {
        Request::Open => Vec::new(),
        Request::OpenRevoke => vec!["--revoke".to_owned()],
        Request::OpenRotation(key) => vec!["--rotate".to_owned(), key.to_string()],
        Request::Quit => vec!["--quit".to_owned()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_request_has_the_window_arguments_the_window_reads() {
        let key: latchkey_core::model::KeyId = "6f1c2a34-5b6d-4e7f-8a9b-0c1d2e3f4a5b".parse().unwrap();
        assert!(arguments(&Request::Open).is_empty());
        assert_eq!(arguments(&Request::OpenRevoke), ["--revoke"]);
        assert_eq!(arguments(&Request::OpenRotation(key)), ["--rotate", "6f1c2a34-5b6d-4e7f-8a9b-0c1d2e3f4a5b"]);
        assert_eq!(arguments(&Request::Quit), ["--quit"]);
    }
}
