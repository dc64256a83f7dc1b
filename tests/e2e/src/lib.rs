//! The tests live in tests/; here is what they share with the `leak-scan` binary (src/bin): walking
//! what a run left on disk and looking for bytes in it.

use std::path::{Path, PathBuf};

/// Every regular file under `root`, following no links (sockets and links store nothing).
pub fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            match entry.file_type() {
                Ok(k) if k.is_dir() => stack.push(entry.path()),
                Ok(k) if k.is_file() => files.push(entry.path()),
                _ => {}
            }
        }
    }
    files
}

/// Whether `needle` occurs in `hay`.
pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// The indexes of the `needles` that occur in `hay`, overlapping ones included: what [`contains`]
/// says for each needle, in one pass over `hay` (the leak scan looks for 700 patterns in 10 MiB;
/// one `contains` per pattern took minutes in a debug build).
pub fn found_in(hay: &[u8], needles: &[Vec<u8>]) -> std::collections::BTreeSet<usize> {
    let patterns: Vec<(usize, &Vec<u8>)> = needles.iter().enumerate().filter(|(_, n)| !n.is_empty()).collect();
    let Ok(automaton) = aho_corasick::AhoCorasick::new(patterns.iter().map(|(_, n)| n)) else {
        // Too large to build an automaton for: the slow way, same answer.
        return patterns.iter().filter(|(_, n)| contains(hay, n)).map(|(i, _)| *i).collect();
    };
    automaton.find_overlapping_iter(hay).map(|m| patterns[m.pattern().as_usize()].0).collect()
}

#[cfg(test)]
mod found_in_tests {
    use super::*;

    #[test]
    fn finds_what_contains_finds_overlaps_included() {
        let hay = b"xxabcabcdyy-secret-sec";
        let needles: Vec<Vec<u8>> =
            [&b"abc"[..], b"abcd", b"bca", b"sec", b"secret", b"zzz", b"", b"yy-s", b"xxabcabcdyy-secret-sec!"]
                .iter()
                .map(|n| n.to_vec())
                .collect();
        let expected: std::collections::BTreeSet<usize> =
            needles.iter().enumerate().filter(|(_, n)| contains(hay, n)).map(|(i, _)| i).collect();
        assert_eq!(found_in(hay, &needles), expected);
        assert_eq!(expected.len(), 6, "abc, abcd, bca, sec, secret, yy-s");
    }
}

/// The forms a secret may take on its way out: as typed, base64 (standard and URL-safe, padded or
/// not), hex (lower and upper case), and URL-encoded (form encoding, `+` for space, and percent-encoding
/// of everything but letters and digits). Each with its name, duplicates removed.
pub fn encodings(secret: &str) -> Vec<(&'static str, Vec<u8>)> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    use base64::Engine;
    let bytes = secret.as_bytes();
    let hex_lower: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let mut forms: Vec<(&'static str, Vec<u8>)> = vec![
        ("typed", bytes.to_vec()),
        ("base64", STANDARD.encode(bytes).into_bytes()),
        ("base64", STANDARD_NO_PAD.encode(bytes).into_bytes()),
        ("base64url", URL_SAFE.encode(bytes).into_bytes()),
        ("base64url", URL_SAFE_NO_PAD.encode(bytes).into_bytes()),
        ("hex", hex_lower.to_uppercase().into_bytes()),
        ("hex", hex_lower.into_bytes()),
        ("url-encoded", url_encoded(bytes, true).into_bytes()),
        ("url-encoded", url_encoded(bytes, false).into_bytes()),
        ("url-encoded", url_encoded(bytes, false).to_lowercase_escapes().into_bytes()),
    ];
    let mut seen = std::collections::HashSet::new();
    forms.retain(|(_, f)| seen.insert(f.clone()));
    forms
}

/// `form`: application/x-www-form-urlencoded (space as `+`, `*-._` kept); otherwise every byte
/// but letters and digits as `%XX`, as encodeURIComponent and most HTTP clients do, plus `-._~`.
fn url_encoded(bytes: &[u8], form: bool) -> String {
    let mut out = String::new();
    for &b in bytes {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => out.push(char::from(b)),
            b' ' if form => out.push('+'),
            b'*' | b'-' | b'.' | b'_' if form => out.push(char::from(b)),
            b'-' | b'.' | b'_' | b'~' if !form => out.push(char::from(b)),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

trait LowerEscapes {
    fn to_lowercase_escapes(&self) -> String;
}

impl LowerEscapes for String {
    /// `%2F` → `%2f` (both are valid; some encoders write lower case).
    fn to_lowercase_escapes(&self) -> String {
        let mut out = String::with_capacity(self.len());
        let mut chars = self.chars();
        while let Some(c) = chars.next() {
            out.push(c);
            if c == '%' {
                out.extend(chars.by_ref().take(2).map(|h| h.to_ascii_lowercase()));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found_in(hay: &str, secret: &str) -> Vec<&'static str> {
        encodings(secret).into_iter().filter(|(_, f)| contains(hay.as_bytes(), f)).map(|(name, _)| name).collect()
    }

    #[test]
    fn finds_every_form_of_a_secret() {
        let secret = "Pass phrase/+=&?2026";
        let cases = [
            ("typed", format!("log: {secret} end")),
            ("base64", "x UGFzcyBwaHJhc2UvKz0mPzIwMjY= y".to_owned()),
            ("base64", "x UGFzcyBwaHJhc2UvKz0mPzIwMjY y".to_owned()),
            ("hex", "blob 5061737320706872617365...".replace("...", "2f2b3d263f32303236")),
            ("hex", "X'50617373207068726173652F2B3D263F32303236'".to_owned()),
            ("url-encoded", "GET /?p=Pass+phrase%2F%2B%3D%26%3F2026 HTTP/1.1".to_owned()),
            ("url-encoded", "body=Pass%20phrase%2F%2B%3D%26%3F2026".to_owned()),
            ("url-encoded", "body=Pass%20phrase%2f%2b%3d%26%3f2026".to_owned()),
        ];
        for (form, hay) in cases {
            assert!(found_in(&hay, secret).contains(&form), "{form} not found in {hay:?}");
        }
        assert!(found_in("nothing here but Pass phrase", secret).is_empty());
        // URL-safe base64 differs where standard base64 has + and /.
        assert_eq!(found_in("token=Pz8-Pj8_Pj4", "??>>??>>"), ["base64url"]);
    }

    #[test]
    fn forms_are_distinct() {
        let forms = encodings("abcdefgh12345678");
        let names: Vec<&str> = forms.iter().map(|(n, _)| *n).collect();
        // Letters and digits only: the URL-encoded and base64url forms equal others and go, and
        // so does upper-case hex (these bytes' hex has no letters); padded and unpadded base64 stay.
        assert_eq!(names, ["typed", "base64", "base64", "hex"]);
    }
}
