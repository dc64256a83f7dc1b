//! The keychain against a real Secret Service (gnome-keyring). These tests are `#[ignore]`d in a
//! plain `cargo test` because they need a running, unlocked keyring; `scripts/test-all.sh` runs them
//! with `--ignored` inside `scripts/desktop-session.sh`, where they must pass.

use std::process::Command;

use latchkey_core::keychain::{Keychain, KeychainError, SecretStore};
use latchkey_core::model::KeyId;
use latchkey_core::secret::Credentials;
use secrecy::ExposeSecret;

fn keychain() -> Keychain {
    Keychain::new("latchkey-test")
}

fn secret_tool_lookup(id: KeyId) -> Option<String> {
    let out = Command::new("secret-tool")
        .args(["lookup", "service", "latchkey-test", "username", &id.to_string()])
        .output()
        .expect("secret-tool is installed (libsecret-tools)");
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
#[ignore = "needs a running Secret Service: run scripts/test-all.sh"]
fn store_read_back_overwrite_delete() {
    let kc = keychain();
    let id = KeyId::random();
    kc.put(id, "Latchkey: test (OKX)", &Credentials::new("key-1", "secret-1", Some("pass-1"))).expect("store");

    let back = kc.get(id).expect("read").expect("present");
    assert_eq!(back.api_key.expose_secret(), "key-1");
    assert_eq!(back.api_secret.expose_secret(), "secret-1");
    assert_eq!(back.passphrase.as_ref().map(|p| p.expose_secret().to_owned()).as_deref(), Some("pass-1"));
    let seen = secret_tool_lookup(id).expect("secret-tool finds the item");
    assert!(seen.contains("secret-1"), "another Secret Service client reads the same item");

    kc.put(id, "Latchkey: test (OKX)", &Credentials::new("key-2", "secret-2", None)).expect("overwrite");
    let back = kc.get(id).expect("read").expect("present");
    assert_eq!((back.api_key.expose_secret(), back.api_secret.expose_secret()), ("key-2", "secret-2"));
    assert!(back.passphrase.is_none(), "the overwrite replaced all three parts at once");

    assert!(kc.delete(id).expect("delete"));
    assert!(kc.get(id).expect("read after delete").is_none());
    assert!(secret_tool_lookup(id).is_none(), "gone for other clients too");
    assert!(!kc.delete(id).expect("second delete is not an error"));
}

#[test]
#[ignore = "needs a running Secret Service: run scripts/test-all.sh"]
fn missing_item_is_none() {
    assert!(keychain().get(KeyId::random()).expect("no error").is_none());
}

#[test]
#[ignore = "needs a running Secret Service: run scripts/test-all.sh"]
fn namespaces_do_not_see_each_other() {
    let id = KeyId::random();
    keychain().put(id, "t", &Credentials::new("k", "s", None)).expect("store");
    assert!(Keychain::new("latchkey").get(id).expect("read").is_none(), "a test item is never a user's item");
    keychain().delete(id).expect("cleanup");
}

#[test]
#[ignore = "needs a running Secret Service: run scripts/test-all.sh"]
fn probe_proves_the_store_works() {
    keychain().probe().expect("probe");
}

#[test]
#[ignore = "needs a running Secret Service: run scripts/test-all.sh"]
fn an_item_written_by_another_program_is_reported_as_damaged() {
    let id = KeyId::random();
    let mut child = Command::new("secret-tool")
        .args(["store", "--label=foreign", "service", "latchkey-test", "username", &id.to_string()])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("secret-tool");
    use std::io::Write;
    child.stdin.take().expect("stdin").write_all(b"plain text, not our item").expect("write");
    assert!(child.wait().expect("wait").success());
    let err = keychain().get(id).expect_err("refused");
    assert!(matches!(err, KeychainError::Corrupt), "{err}");
    assert!(err.to_string().contains("add it again"));
    assert!(keychain().delete(id).expect("the damaged item can still be removed"));
}

/// Without any Secret Service the error says what to do, and nothing panics. Runs anywhere: the
/// test re-runs itself with a session bus address that leads nowhere.
#[test]
fn no_secret_service_gives_clear_error() {
    if std::env::var_os("LATCHKEY_CHILD_NO_BUS").is_some() {
        let err = keychain().put(KeyId::random(), "t", &Credentials::new("k", "s", None)).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, KeychainError::Unavailable { .. }), "{text}");
        assert!(
            text.starts_with("No keychain available: unlock your login keyring or start gnome-keyring/KWallet"),
            "{text}"
        );
        assert!(matches!(keychain().probe(), Err(KeychainError::Unavailable { .. })));
        return;
    }
    let out = Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", "no_secret_service_gives_clear_error", "--nocapture"])
        .env("LATCHKEY_CHILD_NO_BUS", "1")
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/latchkey/bus")
        .output()
        .expect("re-run");
    let log = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && log.contains("1 passed"),
        "child run failed:\n{log}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn secret_tool_search(service: &str) -> String {
    let out = Command::new("secret-tool")
        .args(["search", "--all", "--unlock", "service", service])
        .output()
        .expect("secret-tool is installed (libsecret-tools)");
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// A crash between the keychain write and the row (here: a database moved aside) leaves an item no
/// list shows. The real Secret Service finds it by namespace, with the exchange, environment and
/// label the item records; items that are not keys (the 2FA seed, the probe) are not orphans.
#[test]
#[ignore = "needs a running Secret Service: run scripts/test-all.sh"]
fn orphaned_items_are_found_with_what_they_record() {
    use latchkey_core::guard::GuardSecretStore;
    use latchkey_core::model::{Environment, Exchange};
    use latchkey_core::store::Store;
    use latchkey_core::vault::{NewKey, Vault};
    use std::sync::Arc;

    // A namespace of its own: other tests' items never show up here.
    let service = format!("latchkey-test-orphans-{}", &KeyId::random().to_string()[..8]);
    let kc = Arc::new(Keychain::new(service.clone()));
    let dir = tempfile::tempdir().expect("tempdir");
    let vault = Vault::new(Arc::new(Store::open_in(dir.path()).expect("store")), kc.clone());
    let environment = Environment::Custom { base_url: "http://127.0.0.1:9".into() };
    let new = NewKey {
        exchange: Exchange::Bybit,
        label: "grid-bot".into(),
        environment: environment.clone(),
        credentials: Credentials::new("KKZxU3589G2ADCeRbO", "Qeeec9uTEoOGidAQlZkOppo5n4vhXXJGoraM", None),
        rotation_days: None,
    };
    let kept = vault.add(new, chrono::Utc::now()).expect("added");
    kc.put_totp(&secrecy::SecretSlice::from(vec![7u8; 20])).expect("a 2FA seed beside the keys");
    let seen = secret_tool_search(&service);
    assert!(seen.contains("latchkey-exchange = bybit") && seen.contains("latchkey-label = grid-bot"), "{seen}");
    assert!(vault.orphans().expect("listed").is_empty(), "every key item has its row");

    // The database is moved aside: a fresh one, the same keychain.
    let fresh = tempfile::tempdir().expect("tempdir");
    let vault = Vault::new(Arc::new(Store::open_in(fresh.path()).expect("store")), kc.clone());
    // And an item from before Latchkey recorded attributes.
    let bare = KeyId::random();
    kc.put(bare, "Latchkey: old (OKX)", &Credentials::new("k-old", "s-old", Some("p"))).expect("store");

    let mut orphans = vault.orphans().expect("listed");
    orphans.sort_by_key(|o| o.id != kept.id);
    assert_eq!(orphans.iter().map(|o| o.id).collect::<Vec<_>>(), [kept.id, bare], "the 2FA seed is no orphan");
    let info = orphans[0].info.as_ref().expect("the item records what it is");
    assert_eq!((info.exchange, &info.environment, info.label.as_str()), (Exchange::Bybit, &environment, "grid-bot"));
    assert!(orphans[1].info.is_none());

    assert!(vault.delete_orphan(bare, chrono::Utc::now()).expect("deleted"));
    assert!(kc.get(bare).expect("read").is_none());
    assert!(vault.delete_orphan(kept.id, chrono::Utc::now()).expect("deleted"));
    assert!(vault.orphans().expect("listed").is_empty());
    assert!(kc.get_totp().expect("read").is_some(), "the 2FA seed was left alone");
    kc.delete_totp().expect("cleanup");
}

/// The audit log's anchor in the real keychain: every entry moves it, a cut log is caught, and what
/// anchoring costs per entry on gnome-keyring (printed: one read and one write per entry).
#[test]
#[ignore = "needs a running Secret Service: run scripts/test-all.sh"]
fn the_audit_anchor_lives_in_the_keychain() {
    use latchkey_core::audit::anchor::{AnchorCheck, AuditAnchor};
    use latchkey_core::audit::{Action, Event, Outcome};
    use latchkey_core::store::Store;
    use std::sync::Arc;
    use std::time::Instant;

    let service = format!("latchkey-test-anchor-{}", uuid::Uuid::new_v4().simple());
    let keychain = Arc::new(Keychain::new(service.clone()));
    let event = |i: usize| Event {
        at: chrono::Utc::now(),
        action: Action::Verify,
        key_id: None,
        label: None,
        outcome: Outcome::Ok,
        detail: format!("entry {i}"),
    };
    const N: usize = 20;
    let plain_dir = tempfile::tempdir().expect("test step");
    let plain = Store::open_in(plain_dir.path()).expect("test step");
    let t = Instant::now();
    (0..N).for_each(|i| plain.record(&event(i)).expect("test step"));
    let without = t.elapsed();

    let dir = tempfile::tempdir().expect("test step");
    let store = Store::open_in(dir.path()).expect("test step");
    store.anchor_audit_in(keychain.clone());
    let t = Instant::now();
    (0..N).for_each(|i| store.record(&event(i)).expect("test step"));
    let with = t.elapsed();
    let anchor = keychain.read_anchor().expect("test step").expect("the anchor item exists");
    assert_eq!(anchor.entries, N as u64);
    let listed =
        Command::new("secret-tool").args(["search", "--all", "service", &service]).output().expect("test step");
    let listed = format!("{}{}", String::from_utf8_lossy(&listed.stdout), String::from_utf8_lossy(&listed.stderr));
    assert!(listed.contains("audit-anchor"), "an item under the namespace: {listed}");
    assert_eq!(store.verify_audit_chain().expect("test step").anchor, Some(AnchorCheck::Matches));

    assert!(cut_newest_entry(dir.path()), "deleted the newest entry");
    let report = store.verify_audit_chain().expect("test step");
    assert!(!report.intact);
    assert!(matches!(report.anchor, Some(AnchorCheck::Truncated { .. })), "{report:?}");
    println!(
        "audit anchor on gnome-keyring: {N} entries in {:?} with the anchor, {:?} without ({:.1} ms per entry added)",
        with,
        without,
        (with.as_secs_f64() - without.as_secs_f64()) * 1000.0 / N as f64
    );
    let _ = Command::new("secret-tool").args(["clear", "service", &service, "username", "audit-anchor"]).status();
}

/// Deletes the newest audit row through a connection of its own: someone editing the file.
fn cut_newest_entry(dir: &std::path::Path) -> bool {
    let conn = rusqlite::Connection::open(dir.join(latchkey_core::paths::DB_FILE)).expect("test step");
    conn.execute("DELETE FROM audit WHERE seq = (SELECT MAX(seq) FROM audit)", []).expect("test step") == 1
}
