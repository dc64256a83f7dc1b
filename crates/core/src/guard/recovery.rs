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

/// Every code's hash, the codes shared out over the machine's cores: each hash keeps its full cost
/// (one lane, OWASP's minimum), only the wall time of the ten shrinks, and with it the wait before
/// the user sees the codes. `None` if any hash failed (no randomness for a salt).
pub fn hash_all(codes: &[SecretString], cost: HashCost) -> Option<Vec<String>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(codes.len()).max(1);
    let per_thread = codes.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = codes
            .chunks(per_thread.max(1))
            .map(|chunk| scope.spawn(move || chunk.iter().map(|c| hash(c, cost)).collect::<Option<Vec<_>>>()))
            .collect();
        let mut hashes = Vec::with_capacity(codes.len());
        for worker in workers {
            hashes.extend(worker.join().ok()??);
        }
        Some(hashes)
    })
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

    #[test]
    fn hashing_all_codes_keeps_their_order_and_cost() {
        let codes: Vec<SecretString> = (0..COUNT).map(|_| generate().unwrap()).collect();
        let cost = HashCost { memory_kib: 256, passes: 2 };
        let hashes = hash_all(&codes, cost).unwrap();
        assert_eq!(hashes.len(), COUNT);
        for (code, stored) in codes.iter().zip(&hashes) {
            assert!(stored.starts_with("$argon2id$v=19$m=256,t=2,p=1$"), "{stored}");
            assert!(matches(&normalize(code.expose_secret()).unwrap(), stored), "hash i belongs to code i");
        }
    }

    #[test]
    fn the_default_cost_is_owasps_argon2id_minimum() {
        // OWASP Password Storage Cheat Sheet: Argon2id, at least 19 MiB, 2 iterations, 1 lane.
        let stored = hash(&generate().unwrap(), HashCost::default()).unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{stored}");
    }
}
