//! RFC 6238 TOTP as every authenticator app reads it: HMAC-SHA-1, 6 digits, 30 s steps, one step
//! of drift either side. Pure functions of the secret and a time step: the clock is the caller's.

use secrecy::{ExposeSecret, SecretSlice, SecretString};
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, Builder, Totp};
use zeroize::Zeroizing;

pub const DIGITS: u8 = 6;
pub const STEP_SECS: i64 = 30;
/// 160 bits, as RFC 4226 recommends.
pub const SECRET_BYTES: usize = 20;
pub const ISSUER: &str = "Latchkey";

fn totp(secret: &SecretSlice<u8>) -> Option<Totp> {
    // EXPOSE: copied into totp-rs's Secret, which is zeroized on drop (feature "zeroize").
    let bytes: &[u8] = secret.expose_secret();
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(DIGITS)
        .with_step_duration(STEP_SECS as u64)
        .with_secret(bytes)
        .build()
        .ok()
}

/// The time step a Unix time falls in.
pub fn step_of(unix_secs: i64) -> i64 {
    unix_secs.div_euclid(STEP_SECS)
}

/// The code for one time step, in a zeroizing buffer.
pub fn code_at_step(secret: &SecretSlice<u8>, step: i64) -> Option<Zeroizing<String>> {
    let t = u64::try_from(step).ok()?.checked_mul(STEP_SECS as u64)?;
    Some(Zeroizing::new(totp(secret)?.generate(t).to_string()))
}

/// The step (now −1, now, now +1) whose code equals `code`. All three are computed and compared in
/// constant time, so timing tells nothing about which digits matched.
pub fn matching_step(secret: &SecretSlice<u8>, code: &str, now_step: i64) -> Option<i64> {
    let code = code.as_bytes();
    let mut found = None;
    for step in [now_step - 1, now_step, now_step + 1] {
        // A step before the epoch has no code; the others in the window still count.
        let Some(expected) = code_at_step(secret, step) else { continue };
        let equal: bool = expected.as_bytes().ct_eq(code).into();
        if equal && found.is_none() {
            found = Some(step);
        }
    }
    found
}

/// RFC 4648 base32 without padding: what authenticator apps accept for manual entry.
pub fn base32(secret: &SecretSlice<u8>) -> SecretString {
    // EXPOSE: encoded for the enrollment screen only.
    let bytes: &[u8] = secret.expose_secret();
    SecretString::from(totp_rs::Secret::from(bytes).to_base32())
}

/// The reverse of [`base32`] (spaces and case ignored), e.g. for a secret typed in by hand.
pub fn from_base32(text: &str) -> Option<SecretSlice<u8>> {
    let clean: Zeroizing<String> =
        Zeroizing::new(text.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_uppercase());
    let secret = totp_rs::Secret::try_from_base32(clean.as_str()).ok()?;
    Some(SecretSlice::from(secret.as_ref().to_vec()))
}

/// `otpauth://totp/Latchkey:<account>?secret=…&issuer=Latchkey&algorithm=SHA1&digits=6&period=30`
/// (Key Uri Format). Parameters are spelled out even where they are the defaults.
pub fn otpauth_uri(secret: &SecretSlice<u8>, account: &str) -> SecretString {
    let account: String =
        url::form_urlencoded::byte_serialize(account.as_bytes()).collect::<String>().replace('+', "%20");
    let encoded = base32(secret);
    // EXPOSE: the URI carries the secret by design; it goes to the QR code and nowhere else.
    SecretString::from(format!(
        "otpauth://totp/{ISSUER}:{account}?secret={}&issuer={ISSUER}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        encoded.expose_secret()
    ))
}

/// The URI as an SVG QR code (medium error correction).
pub fn qr_svg(uri: &SecretString) -> Option<SecretString> {
    // EXPOSE: rendered into the QR image the user scans; never logged.
    let code = qrcode::QrCode::with_error_correction_level(uri.expose_secret().as_bytes(), qrcode::EcLevel::M).ok()?;
    let svg = code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(200, 200).quiet_zone(true).build();
    Some(SecretString::from(svg))
}

/// A fresh random secret from the OS.
pub fn new_secret() -> Option<SecretSlice<u8>> {
    let mut bytes = vec![0u8; SECRET_BYTES];
    getrandom::fill(&mut bytes).ok()?;
    Some(SecretSlice::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rfc_secret() -> SecretSlice<u8> {
        SecretSlice::from(b"12345678901234567890".to_vec())
    }

    /// RFC 6238 Appendix B, SHA-1 column, read as 6-digit codes (the last six of the 8 digits).
    #[test]
    fn rfc6238_sha1_vectors() {
        let vectors: [(i64, &str); 6] = [
            (59, "94287082"),
            (1111111109, "07081804"),
            (1111111111, "14050471"),
            (1234567890, "89005924"),
            (2000000000, "69279037"),
            (20000000000, "65353130"),
        ];
        for (t, eight) in vectors {
            let code = code_at_step(&rfc_secret(), step_of(t)).unwrap();
            assert_eq!(code.as_str(), &eight[2..], "T = {t}");
        }
    }

    #[test]
    fn one_step_of_drift_either_side() {
        let s = rfc_secret();
        let now = step_of(1234567890);
        for delta in [-1, 0, 1] {
            let code = code_at_step(&s, now + delta).unwrap();
            assert_eq!(matching_step(&s, &code, now), Some(now + delta));
        }
        for delta in [-2, 2] {
            let code = code_at_step(&s, now + delta).unwrap();
            assert_eq!(matching_step(&s, &code, now), None, "delta {delta}");
        }
        assert_eq!(matching_step(&s, "12345", now), None);
    }

    #[test]
    fn the_first_step_after_the_epoch_still_matches() {
        // Found by fuzz/totp_code: step -1 has no code, and that made every code fail at step 0.
        let s = rfc_secret();
        for step in [0, 1] {
            let code = code_at_step(&s, step).unwrap();
            assert_eq!(matching_step(&s, &code, 0), Some(step));
        }
        assert_eq!(
            matching_step(&SecretSlice::from(vec![1u8; 3]), "000000", 5),
            None,
            "a secret too short for totp-rs"
        );
    }

    #[test]
    fn uri_names_every_parameter() {
        let uri = otpauth_uri(&rfc_secret(), "my laptop");
        let uri = uri.expose_secret();
        assert!(
            uri.starts_with("otpauth://totp/Latchkey:my%20laptop?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&"),
            "{uri}"
        );
        for part in ["issuer=Latchkey", "algorithm=SHA1", "digits=6", "period=30"] {
            assert!(uri.contains(part), "{uri}");
        }
        let svg = qr_svg(&SecretString::from(uri.to_owned())).unwrap();
        assert!(svg.expose_secret().contains("<svg"));
    }

    #[test]
    fn new_secrets_are_160_bits_and_differ() {
        let (a, b) = (new_secret().unwrap(), new_secret().unwrap());
        assert_eq!(a.expose_secret().len(), 20);
        assert_ne!(a.expose_secret(), b.expose_secret());
    }
}
