//! The harness itself: a session opens even when WebKitWebDriver is slow to listen behind
//! tauri-driver, as it is on a loaded CI machine (a run failed with "WebDriver session:
//! IncompleteMessage" on the first test). The native driver here is WebKitWebDriver started 3 s
//! late by a wrapper script.

mod support;

use std::os::unix::fs::PermissionsExt;

use support::{fresh_work, Driver};

#[tokio::test(flavor = "multi_thread")]
#[ignore = "drives the real app window: run scripts/test-all.sh"]
async fn session_opens_behind_a_slow_native_driver() {
    let (work, data_dir) = fresh_work("driver_start");
    let wrapper = work.join("slow-webkitwebdriver");
    std::fs::write(&wrapper, "#!/bin/sh\nsleep 3\nexec WebKitWebDriver \"$@\"\n").expect("wrapper");
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    let mut d = Driver::launch_with(
        "driver_start",
        &[("LATCHKEY_DATA_DIR", &data_dir), ("LATCHKEY_KEYCHAIN_SERVICE", std::path::Path::new("latchkey-e2e"))],
        Some(&wrapper),
    )
    .await;
    d.wait_for("#empty-state").await;
    d.screenshot("empty-dashboard").await;
    d.quit().await;
}

/// The cause of the CI failure "WebDriver session: IncompleteMessage" on `reveal`: a Latchkey from
/// an earlier test still held the single-instance name, so the launched app handed over its
/// arguments and exited, and WebKitWebDriver dropped the new-session request. Here a stray window
/// (which holds the name; the tray-resident process does not) quits 3 s after the launch begins:
/// the launch waits for it and opens.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "drives the real app window: run scripts/test-all.sh"]
async fn session_opens_after_an_earlier_app_has_quit() {
    let (work, data_dir) = fresh_work("driver_after_stray");
    let stray_dir = work.join("stray-data");
    std::fs::create_dir_all(&stray_dir).expect("stray data dir");
    let mut stray = std::process::Command::new(support::env_path("LATCHKEY_APP_BIN"))
        // A window alone: no resident of its own that would outlive this test.
        .env("LATCHKEY_STARTED_BY_RESIDENT", "1")
        .env("LATCHKEY_DATA_DIR", &stray_dir)
        .env("LATCHKEY_KEYCHAIN_SERVICE", "latchkey-e2e-stray")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the app starts");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while support::running_app_name().is_none() {
        assert!(std::time::Instant::now() < deadline, "the stray app never took the single-instance name");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let pid = stray.id().to_string();
    let quitter = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(3));
        let _ = std::process::Command::new("kill").args(["-TERM", &pid]).status();
        stray.wait().expect("the stray app exits")
    });
    let mut d = Driver::launch(
        "driver_after_stray",
        &[("LATCHKEY_DATA_DIR", &data_dir), ("LATCHKEY_KEYCHAIN_SERVICE", std::path::Path::new("latchkey-e2e"))],
    )
    .await;
    d.wait_for("#empty-state").await;
    assert!(quitter.join().expect("quitter").success(), "the stray app quit normally on SIGTERM");
    d.screenshot("opened-after-the-stray-quit").await;
    d.quit().await;
    assert_eq!(support::running_app_name(), None, "quit leaves no app holding the name for the next test");
}
