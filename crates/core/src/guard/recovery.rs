//! One-time recovery codes: shown once, stored only as Argon2id hashes (slow on purpose, so a
//! stolen database does not give the codes away).

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

pub const COUNT: usize = 10;
/// Lower-case letters without i, l and o, and the digits 1-9: 32 symbols that cannot be
/// confused with each other (o and 0 never both appear), 5 bits each.
const ALPHABET: &[u8; 32] = b"abcdefghjkmnpqrstuvwxyz123456789";
/// Two groups of five: 50 bits.
const GROUP: usize = 5;

/// Argon2id cost. The default is OWASP's minimum (19 MiB, 2 passes); tests use a cheap one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashCost {
    pub memory_kib: u32,
    pub passes: u32,
}

impl Default for HashCost {
    fn default() -> Self {
        HashCost { memory_kib: 19 * 1024, passes: 2 }
    }
}

impl HashCost {
    /// For tests only: far too cheap for real codes.
    pub fn fast_for_tests() -> Self {
        HashCost { memory_kib: 64, passes: 1 }
    }

    fn argon2(self) -> Option<Argon2<'static>> {
        let params = Params::new(self.memory_kib, self.passes, 1, None).ok()?;
        Some(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }
}

/// `abcde-fghjk`, from OS randomness.
pub fn generate() -> Option<SecretString> {
    let mut raw = Zeroizing::new([0u8; 2 * GROUP]);
    getrandom::fill(raw.as_mut()).ok()?;
    let mut code = Zeroizing::new(String::with_capacity(2 * GROUP + 1));
    for (i, b) in raw.iter().enumerate() {
        if i == GROUP {
            code.push('-');
        }
        code.push(char::from(ALPHABET[usize::from(b & 31)]));
    }
    Some(SecretString::from(code.as_str().to_owned()))
}

/// What the user typed, reduced to the stored form: case, spaces and dashes do not matter.
pub fn normalize(input: &str) -> Option<Zeroizing<String>> {
    let plain: Zeroizing<String> =
        Zeroizing::new(input.chars().filter(|c| !c.is_whitespace() && *c != '-').collect::<String>().to_lowercase());
    let valid = plain.len() == 2 * GROUP && plain.bytes().all(|b| ALPHABET.contains(&b));
    valid.then(|| Zeroizing::new(format!("{}-{}", &plain[..GROUP], &plain[GROUP..])))
}

/// A PHC string (`$argon2id$v=19$m=…`), salt included.
pub fn hash(code: &SecretString, cost: HashCost) -> Option<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).ok()?;
    let salt = SaltString::encode_b64(&salt).ok()?;
    // EXPOSE: hashed, never stored or shown again.
    let normalized = normalize(code.expose_secret())?;
    cost.argon2()?.hash_password(normalized.as_bytes(), &salt).ok().map(|h| h.to_string())
}

/// Whether `normalized` matches a stored hash (the hash carries its own cost parameters).
pub fn matches(normalized: &str, stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else { return false };
    Argon2::default().verify_password(normalized.as_bytes(), &parsed).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_fifty_bits_in_two_groups() {
        let a = generate().unwrap();
        let a = a.expose_secret();
        assert_eq!(a.len(), 11);
        assert_eq!(a.as_bytes()[5], b'-');
        assert_ne!(a, generate().unwrap().expose_secret());
        assert_eq!(normalize(&a.to_uppercase().replace('-', " ")).unwrap().as_str(), a);
        assert!(normalize("123456").is_none());
        assert!(normalize("abcde-fghj0").is_none(), "0 is not in the alphabet");
    }

    #[test]
    fn hashes_verify_only_their_code() {
        let code = generate().unwrap();
        let stored = hash(&code, HashCost::fast_for_tests()).unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(!stored.contains(code.expose_secret()));
        assert!(matches(&normalize(code.expose_secret()).unwrap(), &stored));
        let other = generate().unwrap();
        assert!(!matches(&normalize(other.expose_secret()).unwrap(), &stored));
        assert!(!matches("abcde-fghjk", "not a hash"));
    }
}
