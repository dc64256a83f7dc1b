//! The system clipboard, for "Copy secret", from Rust (the web view gets no clipboard permission).
//!
//! On X11 (and Wayland) a clipboard's content lives in the process that owns it and is served to
//! whoever pastes, so one `arboard::Clipboard` stays alive for the whole process instead of one per
//! copy: dropping the last one would empty the clipboard or, worse, hand the secret over to a
//! clipboard manager. It is never dropped, so a secret still on the clipboard when Latchkey exits
//! goes with it. Copies are marked for clipboard managers to keep out of their history.
//!
//! A copy returns a [`Ticket`]; [`clear_if_unchanged`] empties the clipboard later only if that copy
//! is still the latest one and the clipboard still holds exactly that value, so whatever the user
//! copied since is left alone.

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

/// Puts `text` on the clipboard, marked to stay out of clipboard managers' histories.
pub fn put(text: &str) -> Result<Ticket, ClipboardError> {
    let mut latest = latest();
    with_clipboard(|c| {
        let set = c.set();
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

/// Empties the clipboard if copy `ticket` is still the latest and the clipboard still holds
/// `expected`. True if it was emptied.
pub fn clear_if_unchanged(ticket: Ticket, expected: &str) -> Result<bool, ClipboardError> {
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
