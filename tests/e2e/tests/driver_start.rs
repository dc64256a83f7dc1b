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
