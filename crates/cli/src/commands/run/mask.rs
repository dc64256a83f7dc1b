//! `run --mask`: the keys' values never reach the terminal (or a log file) through the child's
//! output. Bots print their configs and, verbose, whole requests (freqtrade#6016); the child's
//! stdout and stderr go through here, every occurrence of a key's API key, secret or passphrase
//! replaced by `[latchkey: LABEL secret]`.
//!
//! A value split across two writes is still caught: the tail of a chunk that could begin a value
//! is held back until the next chunk shows whether it does. If the child then stays quiet, the
//! tail is let out after [`IDLE_FLUSH`] (a bot's prompt must not hang), masked if it is 4 or more
//! characters of a value, as-is if shorter: at most 3 characters of a value ever pass.
//!
//! Hand-written rather than `aho-corasick`: the values must live only in zeroized memory, and a
//! handful of patterns over a bot's log volume needs no automaton.

use std::time::Duration;

use latchkey_core::secret::Credentials;
use secrecy::ExposeSecret;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use zeroize::Zeroizing;

/// How long a held-back tail waits for the rest of a possible value.
pub const IDLE_FLUSH: Duration = Duration::from_millis(150);
/// A held-back tail this long that is the start of a value is masked, not let out.
const MASK_PARTIAL_FROM: usize = 4;
const PARTIAL: &[u8] = b"[latchkey: masked]";

#[derive(Clone)]
struct Pattern {
    value: Zeroizing<Vec<u8>>,
    replacement: Vec<u8>,
}

/// The values to mask, longest first (a secret that contains a key is masked as the secret).
#[derive(Clone, Default)]
pub struct Masker {
    patterns: Vec<Pattern>,
}

impl Masker {
    /// Adds a key's values; a key's old values stay (the old key's logs are as secret).
    pub fn add(&mut self, label: &str, credentials: &Credentials) {
        let parts = [
            (Some(credentials.api_key.expose_secret()), "API key"),
            (Some(credentials.api_secret.expose_secret()), "secret"),
            (credentials.passphrase.as_ref().map(|p| p.expose_secret()), "passphrase"),
        ];
        for (value, what) in parts {
            let Some(value) = value.filter(|v| !v.is_empty()) else { continue };
            if self.patterns.iter().any(|p| p.value.as_slice() == value.as_bytes()) {
                continue;
            }
            let replacement = format!("[latchkey: {label} {what}]").into_bytes();
            self.patterns.push(Pattern { value: Zeroizing::new(value.as_bytes().to_vec()), replacement });
        }
        self.patterns.sort_by_key(|p| std::cmp::Reverse(p.value.len()));
    }

    /// The value starting at `at`, if one does (the longest).
    fn value_at(&self, at: &[u8]) -> Option<&Pattern> {
        self.patterns.iter().find(|p| at.starts_with(&p.value))
    }

    /// Whether `tail` is the start of a value (and shorter than it).
    fn could_begin(&self, tail: &[u8]) -> bool {
        self.patterns.iter().any(|p| p.value.len() > tail.len() && p.value.starts_with(tail))
    }
}

/// One output stream of the child, masked.
pub struct Stream<'m> {
    masker: &'m Masker,
    held: Zeroizing<Vec<u8>>,
}

impl<'m> Stream<'m> {
    pub fn new(masker: &'m Masker) -> Self {
        Stream { masker, held: Zeroizing::new(Vec::new()) }
    }

    /// What can be written now of `chunk` (after what was held back).
    pub fn push(&mut self, chunk: &[u8]) -> Vec<u8> {
        let mut buf = Zeroizing::new(Vec::with_capacity(self.held.len() + chunk.len()));
        buf.extend_from_slice(&self.held);
        buf.extend_from_slice(chunk);
        let mut out = Vec::with_capacity(buf.len());
        let mut i = 0;
        while i < buf.len() {
            if let Some(p) = self.masker.value_at(&buf[i..]) {
                out.extend_from_slice(&p.replacement);
                i += p.value.len();
            } else if self.masker.could_begin(&buf[i..]) {
                break;
            } else {
                out.push(buf[i]);
                i += 1;
            }
        }
        self.held = Zeroizing::new(buf[i..].to_vec());
        out
    }

    /// The held-back tail, now that no more is coming soon (or at all).
    pub fn flush(&mut self) -> Vec<u8> {
        let held = std::mem::take(&mut *self.held);
        let held = Zeroizing::new(held);
        if held.len() >= MASK_PARTIAL_FROM {
            PARTIAL.to_vec()
        } else {
            held.to_vec()
        }
    }
}

/// Copies `from` to `to` masked, until `from` ends.
pub async fn copy<R, W>(masker: &Masker, mut from: R, mut to: W)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut stream = Stream::new(masker);
    let mut buf = Zeroizing::new(vec![0u8; 8192]);
    loop {
        let read = match tokio::time::timeout(IDLE_FLUSH, from.read(&mut buf)).await {
            Ok(read) => read,
            Err(_idle) => {
                let out = stream.flush();
                if !out.is_empty() && (to.write_all(&out).await.is_err() || to.flush().await.is_err()) {
                    return;
                }
                continue;
            }
        };
        let out = match read {
            Ok(0) | Err(_) => {
                let _ = to.write_all(&stream.flush()).await;
                let _ = to.flush().await;
                return;
            }
            Ok(n) => stream.push(&buf[..n]),
        };
        if to.write_all(&out).await.is_err() || to.flush().await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    fn masker() -> Masker {
        let mut m = Masker::default();
        m.add(
            "bot",
            &Credentials {
                api_key: SecretString::from("KEY123"),
                api_secret: SecretString::from("SECRETxyz"),
                passphrase: Some(SecretString::from("Pass!")),
            },
        );
        m
    }

    fn through(m: &Masker, chunks: &[&str]) -> String {
        let mut s = Stream::new(m);
        let mut out = Vec::new();
        for c in chunks {
            out.extend(s.push(c.as_bytes()));
        }
        out.extend(s.flush());
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn every_value_is_replaced_even_split_across_writes() {
        let m = masker();
        assert_eq!(
            through(&m, &["key=KEY123 secret=SECRETxyz pass=Pass!\n"]),
            "key=[latchkey: bot API key] secret=[latchkey: bot secret] pass=[latchkey: bot passphrase]\n"
        );
        assert_eq!(through(&m, &["a SEC", "RET", "xyz b"]), "a [latchkey: bot secret] b", "split in three");
        assert_eq!(through(&m, &["KEY12", "4"]), "KEY124", "a near miss is let through whole");
        assert_eq!(through(&m, &["S"]), "S", "a short tail is let out at the end");
    }

    #[test]
    fn a_long_held_tail_is_masked_when_the_child_goes_quiet() {
        let m = masker();
        let mut s = Stream::new(&m);
        assert_eq!(s.push(b"x SECRE"), b"x ");
        assert_eq!(s.flush(), PARTIAL, "5 characters of a secret are never let out");
        assert_eq!(s.push(b"xyz"), b"xyz", "the rest alone is no value");
    }

    #[test]
    fn old_values_stay_masked_after_a_rotation() {
        let mut m = masker();
        m.add(
            "bot",
            &Credentials {
                api_key: SecretString::from("NEWKEY"),
                api_secret: SecretString::from("NEWSECRET"),
                passphrase: None,
            },
        );
        assert_eq!(through(&m, &["KEY123 NEWKEY"]), "[latchkey: bot API key] [latchkey: bot API key]");
    }

    #[tokio::test]
    async fn copy_masks_a_pipe_to_the_end() {
        let m = masker();
        let (mut w, r) = tokio::io::duplex(64);
        let mut out = Vec::new();
        let writer = async move {
            w.write_all(b"line 1 SECRET").await.unwrap();
            tokio::time::sleep(Duration::from_millis(20)).await;
            w.write_all(b"xyz\nbye").await.unwrap();
        };
        tokio::join!(writer, copy(&m, r, &mut out));
        assert_eq!(String::from_utf8(out).unwrap(), "line 1 [latchkey: bot secret]\nbye");
    }
}
