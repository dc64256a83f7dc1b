//! What a user types into the 2FA guard: a TOTP code, a TOTP secret by hand (base32), a recovery
//! code; and the otpauth URI the enrollment screen builds from the secret and the account name.

use latchkey_core::guard::recovery::{self, HashCost};
use latchkey_core::guard::totp;
use secrecy::{ExposeSecret, SecretSlice, SecretString};

use crate::head_line;

fn i64_from(bytes: &[u8]) -> i64 {
    let mut buf = [0u8; 8];
    let n = bytes.len().min(8);
    buf[..n].copy_from_slice(&bytes[..n]);
    i64::from_le_bytes(buf)
}

/// Input: a line with the typed code, then 8 bytes of Unix time, then the secret's bytes.
/// Properties: a code is accepted only if it is exactly the 6-digit code of a step within one of
/// now; the code of each of those three steps is accepted; nothing panics for any time or secret.
pub fn check_totp_code(data: &[u8]) {
    let (typed, rest) = head_line(data);
    let typed = String::from_utf8_lossy(typed);
    let (time, secret) = rest.split_at(rest.len().min(8));
    let now_step = totp::step_of(i64_from(time));
    let secret = SecretSlice::from(secret.to_vec());
    if let Some(step) = totp::matching_step(&secret, &typed, now_step) {
        assert!((now_step - 1..=now_step + 1).contains(&step));
        let code = totp::code_at_step(&secret, step).expect("a matching step has a code");
        assert_eq!(code.as_str(), typed, "only the exact code is accepted");
        assert!(typed.len() == 6 && typed.bytes().all(|b| b.is_ascii_digit()));
    }
    for step in [now_step - 1, now_step, now_step + 1] {
        if let Some(code) = totp::code_at_step(&secret, step) {
            assert!(code.len() == usize::from(totp::DIGITS) && code.bytes().all(|b| b.is_ascii_digit()));
            let found = totp::matching_step(&secret, &code, now_step).expect("the code of a step in the window");
            assert!(found <= step && totp::code_at_step(&secret, found).as_deref() == Some(&code));
        }
    }
}

/// Input: a line with the account name, then the secret's bytes. The URI must parse back to
/// exactly that account, issuer and secret, with the fixed algorithm, digits and period; the
/// base32 text the user may type instead decodes to the same secret, with spaces and any case.
/// The rest of the input is also tried as typed base32.
pub fn check_otpauth(data: &[u8]) {
    let (account, secret_bytes) = head_line(data);
    let account = String::from_utf8_lossy(account);
    let secret = SecretSlice::from(secret_bytes.to_vec());

    let uri = totp::otpauth_uri(&secret, &account);
    let url = url::Url::parse(uri.expose_secret()).expect("the otpauth URI parses");
    assert_eq!(url.scheme(), "otpauth");
    assert_eq!(url.host_str(), Some("totp"));
    let label = percent_encoding::percent_decode_str(url.path().trim_start_matches('/')).decode_utf8().unwrap();
    assert_eq!(label, format!("{}:{account}", totp::ISSUER), "the label names the account as given");
    let query: Vec<(String, String)> = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let get = |name: &str| query.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect::<Vec<_>>();
    assert_eq!(get("issuer"), [totp::ISSUER]);
    assert_eq!(get("algorithm"), ["SHA1"]);
    assert_eq!(get("digits"), ["6"]);
    assert_eq!(get("period"), ["30"]);
    let [encoded] = get("secret")[..] else { panic!("one secret parameter") };
    let decoded = totp::from_base32(encoded).expect("the URI's secret decodes");
    assert_eq!(decoded.expose_secret(), secret_bytes, "the URI carries the secret");

    // Typed by hand: grouped in fours, lower case.
    let typed: String = encoded
        .to_lowercase()
        .chars()
        .collect::<Vec<_>>()
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ");
    let decoded = totp::from_base32(&typed).expect("grouped, lower-case base32 decodes");
    assert_eq!(decoded.expose_secret(), secret_bytes);

    // Anything else typed as a secret: no panic; what decodes encodes back to the same bytes.
    let any = String::from_utf8_lossy(data);
    if let Some(bytes) = totp::from_base32(&any) {
        let again = totp::base32(&bytes);
        let back = totp::from_base32(again.expose_secret()).expect("base32 output decodes");
        assert_eq!(back.expose_secret(), bytes.expose_secret());
    }
    // The QR code takes milliseconds: rendered for one input in sixteen (chosen by length, so the
    // same input always does the same), which keeps the target fast for the parsing above.
    if data.len() % 16 == 0 && uri.expose_secret().len() <= 512 {
        assert!(totp::qr_svg(&uri).is_some_and(|svg| svg.expose_secret().starts_with("<?xml")));
    }
}

/// Input: what the user typed as a recovery code. Properties: normalising accepts exactly ten
/// symbols of the code alphabet, whatever the case, spaces and dashes; its output is the stored
/// `xxxxx-xxxxx` form and normalises to itself; a hash of the code matches the normalised typed
/// code and nothing else.
pub fn check_recovery_code(data: &[u8]) {
    let typed = String::from_utf8_lossy(data);
    let plain: String = typed.chars().filter(|c| !c.is_whitespace() && *c != '-').collect::<String>().to_lowercase();
    let alphabet = "abcdefghjkmnpqrstuvwxyz123456789";
    let valid = plain.chars().count() == 10 && plain.chars().all(|c| alphabet.contains(c));
    let normalized = recovery::normalize(&typed);
    assert_eq!(normalized.is_some(), valid, "accepted exactly when ten code symbols were typed");
    let Some(normalized) = normalized else { return };
    assert_eq!(normalized.len(), 11);
    assert_eq!(normalized.replace('-', ""), plain);
    assert_eq!(&normalized[5..6], "-");
    assert_eq!(recovery::normalize(&normalized).as_deref().map(String::as_str), Some(normalized.as_str()));
    let upper = recovery::normalize(&normalized.to_uppercase());
    assert_eq!(upper.as_deref().map(String::as_str), Some(normalized.as_str()));

    let code = SecretString::from(typed.into_owned());
    let stored = recovery::hash(&code, HashCost::fast_for_tests()).expect("a valid code hashes");
    assert!(stored.starts_with("$argon2id$"));
    assert!(!stored.contains(plain.as_str()), "the hash does not hold the code");
    assert!(recovery::matches(&normalized, &stored));
    let mut other = normalized.to_string();
    let first = if other.starts_with('a') { "b" } else { "a" };
    other.replace_range(0..1, first);
    assert!(!recovery::matches(&other, &stored), "another code does not match");
}
