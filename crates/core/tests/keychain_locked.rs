//! A locked keyring gives an actionable error within a bounded time instead of hanging or leaking.
//! gnome-keyring cannot unlock a collection again without a prompt, so the test locks a keyring of
//! its own: it re-runs itself inside a fresh `dbus-run-session` with a private gnome-keyring and a
//! throwaway HOME, leaving the keyring the other tests use untouched.

use std::process::Command;
use std::time::{Duration, Instant};

use latchkey_core::keychain::{Keychain, KeychainError, SecretStore};
use latchkey_core::model::KeyId;
use latchkey_core::secret::Credentials;

const CHILD: &str = "LATCHKEY_LOCK_TEST_CHILD";

fn secret_service(method: &str, args: &str) -> bool {
    Command::new("gdbus")
        .args(["call", "--session", "--dest", "org.freedesktop.secrets", "--object-path", "/org/freedesktop/secrets"])
        .args(["--method", &format!("org.freedesktop.Secret.Service.{method}"), args])
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

#[test]
#[ignore = "needs dbus-run-session and gnome-keyring: run scripts/test-all.sh"]
fn locked_collection_is_reported_not_hung() {
    if std::env::var_os(CHILD).is_none() {
        let home = tempfile::tempdir().expect("throwaway HOME");
        let run = tempfile::tempdir().expect("throwaway XDG_RUNTIME_DIR");
        let out = Command::new("dbus-run-session")
            .args(["--", "sh", "-c"])
            .arg(r#"eval "$(printf 'lock-test\n' | gnome-keyring-daemon --unlock --components=secrets)" && exec "$0" --exact locked_collection_is_reported_not_hung --include-ignored --nocapture"#)
            .arg(std::env::current_exe().expect("test binary"))
            .env(CHILD, "1")
            .env("HOME", home.path())
            .env("XDG_RUNTIME_DIR", run.path())
            .env("XDG_DATA_HOME", home.path().join(".local/share"))
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            // No display: the unlock prompt must fail at once, not wait for a person to answer it.
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .output()
            .expect("dbus-run-session is installed (package dbus)");
        let log = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && log.contains("1 passed"),
            "child run failed:\n{log}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        return;
    }

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
