//! The system clipboard, for "Copy secret", from Rust (the web view gets no clipboard permission).
//!
//! On X11 (and Wayland) a clipboard's content lives in the process that owns it and is served to
//! whoever pastes, so one `arboard::Clipboard` stays alive for the whole process instead of one per
//! copy: dropping the last one would empty the clipboard or, worse, hand the secret over to a
//! clipboard manager. It is never dropped, so a secret still on the clipboard when Latchkey exits
//! goes with it. Copies are marked for clipboard managers to keep out of their history.
//!
//! A secret is copied with [`put_secret`], which remembers it as the pending copy; [`clear_secret`]
//! empties the clipboard later only if that copy is still the latest one and the clipboard still
//! holds exactly that value, so whatever the user copied since is left alone. [`clear_pending`]
//! does the same at once, for every path that must not leave a secret behind: a failed audit write
//! after the copy, and quitting (tray Quit, a signal) before the timer ran.

use std::sync::{Mutex, MutexGuard, PoisonError};

use arboard::Clipboard;
use zeroize::Zeroizing;

#[derive(Debug, thiserror::Error)]
#[error("Latchkey could not use the system clipboard ({0}). Try again, or use Reveal and copy by hand.")]
pub struct ClipboardError(String);

fn failed(e: arboard::Error) -> ClipboardError {
    // arboard's messages describe the clipboard, never its content.
    ClipboardError(e.to_string())
}

/// Which copy a later clear belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ticket(u64);

/// The number of the latest copy. Held while the clipboard is used, so a copy and a clear never
/// interleave.
static LATEST: Mutex<u64> = Mutex::new(0);

fn latest() -> MutexGuard<'static, u64> {
    LATEST.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The one long-lived owner on Linux and the BSDs (X11, Wayland).
#[cfg(all(unix, not(any(target_os = "macos", target_os = "android", target_os = "emscripten"))))]
fn with_clipboard<T>(f: impl FnOnce(&mut Clipboard) -> Result<T, arboard::Error>) -> Result<T, ClipboardError> {
    static OWNER: Mutex<Option<Clipboard>> = Mutex::new(None);
    let mut owner = OWNER.lock().unwrap_or_else(PoisonError::into_inner);
    let clipboard = match owner.as_mut() {
        Some(c) => c,
        None => owner.insert(Clipboard::new().map_err(failed)?),
    };
    f(clipboard).map_err(failed)
}

/// macOS and Windows keep the content themselves: a handle per use is enough (and the macOS one
/// cannot be shared between threads).
#[cfg(not(all(unix, not(any(target_os = "macos", target_os = "android", target_os = "emscripten")))))]
fn with_clipboard<T>(f: impl FnOnce(&mut Clipboard) -> Result<T, arboard::Error>) -> Result<T, ClipboardError> {
    let mut clipboard = Clipboard::new().map_err(failed)?;
    f(&mut clipboard).map_err(failed)
}

/// The secret copy not yet cleared: its ticket and value (zeroized when dropped), for a clear that
/// cannot wait for its timer.
static PENDING: Mutex<Option<(Ticket, Zeroizing<String>)>> = Mutex::new(None);

fn pending() -> MutexGuard<'static, Option<(Ticket, Zeroizing<String>)>> {
    PENDING.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Puts `text` on the clipboard, marked to stay out of clipboard managers' histories.
fn put(text: &str) -> Result<Ticket, ClipboardError> {
    let mut latest = latest();
    with_clipboard(|c| {
        let set = c.set();
        // The password-manager hint (x-kde-passwordManagerHint) that clipboard managers honour.
        #[cfg(all(unix, not(any(target_os = "macos", target_os = "android", target_os = "emscripten"))))]
        let set = arboard::SetExtLinux::exclude_from_history(set);
        #[cfg(windows)]
        let set = arboard::SetExtWindows::exclude_from_history(set);
        #[cfg(target_os = "macos")]
        let set = arboard::SetExtApple::exclude_from_history(set);
        set.text(text)
    })?;
    *latest += 1;
    Ok(Ticket(*latest))
}

/// Puts a secret on the clipboard and remembers it until [`clear_secret`] or [`clear_pending`].
pub fn put_secret(text: &str) -> Result<Ticket, ClipboardError> {
    let ticket = put(text)?;
    *pending() = Some((ticket, Zeroizing::new(text.to_owned())));
    Ok(ticket)
}

/// The timer's clear: empties the clipboard if copy `ticket` is still the latest and the clipboard
/// still holds it. True if it was emptied.
pub fn clear_secret(ticket: Ticket) -> Result<bool, ClipboardError> {
    let value = {
        let mut pending = pending();
        match pending.take() {
            Some((t, value)) if t == ticket => value,
            // A later copy replaced it (and owns the clear now), or quit already cleared it.
            other => {
                *pending = other;
                return Ok(false);
            }
        }
    };
    clear_if_unchanged(ticket, &value)
}

/// Clears the pending secret copy now, if there is one. True if the clipboard was emptied.
pub fn clear_pending() -> Result<bool, ClipboardError> {
    let Some((ticket, value)) = pending().take() else { return Ok(false) };
    clear_if_unchanged(ticket, &value)
}

/// Empties the clipboard if copy `ticket` is still the latest and the clipboard still holds
/// `expected`. True if it was emptied.
fn clear_if_unchanged(ticket: Ticket, expected: &str) -> Result<bool, ClipboardError> {
    let latest = latest();
    if *latest != ticket.0 {
        return Ok(false);
    }
    with_clipboard(|c| {
        let current = match c.get_text() {
            Ok(text) => Zeroizing::new(text),
            // Something that is not text (an image, a file) replaced it: nothing of ours is left.
            Err(arboard::Error::ContentNotAvailable) => return Ok(false),
            Err(e) => return Err(e),
        };
        if !same(current.as_bytes(), expected.as_bytes()) {
            return Ok(false);
        }
        c.clear()?;
        Ok(true)
    })
}

/// Compares without stopping at the first difference.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_whole_values() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"abcd"));
        assert!(same(b"", b""));
    }

    #[test]
    fn error_says_what_to_do() {
        let e = failed(arboard::Error::ClipboardNotSupported);
        assert!(e.to_string().contains("Reveal"), "{e}");
    }
}

/// Against the real X11 clipboard of the test session (Xvfb), read back by `xclip` as another
/// client. One test: the clipboard is one per display.
#[cfg(all(test, target_os = "linux"))]
pub(crate) mod desktop_tests {
    use super::*;

    /// What another client pastes now (`xclip -o`); empty when the clipboard holds nothing.
    pub(crate) fn pasted(target: Option<&str>) -> String {
        let mut cmd = std::process::Command::new("xclip");
        cmd.args(["-o", "-selection", "clipboard"]);
        if let Some(t) = target {
            cmd.args(["-t", t]);
        }
        let out = cmd.output().expect("xclip is installed (Debian package xclip)");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Serializes the tests that use the display's one clipboard.
    pub(crate) static X11: Mutex<()> = Mutex::new(());

    #[test]
    #[ignore = "needs an X display and xclip: run through scripts/desktop-session.sh"]
    fn secrets_are_marked_and_cleared_at_once_or_by_the_timer() {
        let _x = X11.lock().unwrap_or_else(PoisonError::into_inner);
        let ticket = put_secret("first-secret-value").unwrap();
        assert_eq!(pasted(None), "first-secret-value");
        let targets = pasted(Some("TARGETS"));
        assert!(targets.contains("x-kde-passwordManagerHint"), "marked for clipboard managers: {targets}");

        // Quit (or a failed audit) clears the pending copy at once, while Latchkey still runs.
        assert!(clear_pending().unwrap());
        assert_eq!(pasted(None), "", "cleared, not left for the timer");
        assert!(!clear_secret(ticket).unwrap(), "the timer then finds nothing to do");

        // The timer's clear, when nothing cleared it before.
        let ticket = put_secret("second-secret-value").unwrap();
        assert!(clear_secret(ticket).unwrap());
        assert_eq!(pasted(None), "");
    }
}
