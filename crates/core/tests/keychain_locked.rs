//! A locked keyring gives an actionable error within a bounded time instead of hanging or leaking.
//! Separate from `keychain.rs` because it locks the whole collection, which gnome-keyring cannot
//! unlock again without a prompt: `scripts/test-all.sh` runs it alone, after everything else.

use std::process::Command;
use std::time::{Duration, Instant};

use latchkey_core::keychain::{Keychain, KeychainError, SecretStore};
use latchkey_core::model::KeyId;
use latchkey_core::secret::Credentials;

fn secret_service(method: &str, args: &str) -> bool {
    Command::new("gdbus")
        .args(["call", "--session", "--dest", "org.freedesktop.secrets", "--object-path", "/org/freedesktop/secrets"])
        .args(["--method", &format!("org.freedesktop.Secret.Service.{method}"), args])
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

#[test]
#[ignore = "needs a running Secret Service: run scripts/test-all.sh"]
fn locked_collection_is_reported_not_hung() {
    let kc = Keychain::new("latchkey-test");
    let id = KeyId::random();
    kc.put(id, "t", &Credentials::new("k", "s", None)).expect("store while unlocked");

    assert!(secret_service("Lock", "['/org/freedesktop/secrets/collection/login']"), "gdbus Lock");
    let started = Instant::now();
    let err = kc.get(id).expect_err("a locked keyring refuses the read");
    let took = started.elapsed();
    assert!(matches!(err, KeychainError::Locked), "{err}");
    assert!(err.to_string().contains("unlock your login keyring"), "{err}");
    assert!(took < Duration::from_secs(10), "answered in {took:?}, not hung");
    println!("locked keyring answered in {took:?}");

    let err = kc.put(KeyId::random(), "t", &Credentials::new("k2", "s2", None)).expect_err("write refused too");
    assert!(matches!(err, KeychainError::Locked), "{err}");
}
