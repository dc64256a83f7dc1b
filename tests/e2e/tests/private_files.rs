//! The desktop app's data folder is private from its first start: the built app binary is started
//! (no WebDriver needed) with its data folder removed, and again with the folder an older version
//! left (0755, files 0644); each time the folder must be 0700 and every file in it 0600 (database,
//! WAL, SHM, log, reports) once the app has opened its store and its log.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod support;

use support::env_path;

fn modes(dir: &Path) -> Vec<(PathBuf, bool, u32)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let meta = std::fs::symlink_metadata(&d).expect("metadata");
        out.push((d.clone(), true, meta.permissions().mode() & 0o777));
        for entry in std::fs::read_dir(&d).expect("read dir").flatten() {
            let meta = std::fs::symlink_metadata(entry.path()).expect("metadata");
            if meta.is_dir() {
                stack.push(entry.path());
            } else {
                out.push((entry.path(), false, meta.permissions().mode() & 0o777));
            }
        }
    }
    out
}

fn start_app(name: &str, data_dir: &Path) -> Child {
    let artifacts = env_path("LATCHKEY_E2E_ARTIFACTS").join(name);
    std::fs::create_dir_all(&artifacts).expect("artifacts dir");
    let log = std::fs::File::create(artifacts.join("app-output.log")).expect("app log");
    Command::new(env_path("LATCHKEY_APP_BIN"))
        .env("LATCHKEY_DATA_DIR", data_dir)
        .env("LATCHKEY_KEYCHAIN_SERVICE", format!("latchkey-e2e-{name}"))
        .stdin(Stdio::null())
        .stdout(Stdio::from(log.try_clone().expect("log")))
        .stderr(Stdio::from(log))
        .spawn()
        .expect("the app binary starts")
}

/// Waits until the app has opened its store and its log, then quits it like the session would
/// (SIGTERM, which the app turns into a normal quit).
fn run_until_open(name: &str, data_dir: &Path) {
    let mut app = start_app(name, data_dir);
    let deadline = Instant::now() + Duration::from_secs(30);
    let opened = || data_dir.join("latchkey.sqlite3-wal").exists() && data_dir.join("logs/latchkey.log").exists();
    while !opened() {
        if let Some(status) = app.try_wait().expect("wait") {
            panic!("the app exited ({status}) before opening its store");
        }
        assert!(Instant::now() < deadline, "the app did not open its store within 30 s");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Let startup finish (resume, reminders, the window) before quitting.
    std::thread::sleep(Duration::from_secs(2));
    let pid = app.id().to_string();
    let _ = Command::new("kill").args(["-TERM", &pid]).status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = app.kill();
            let _ = app.wait();
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn assert_private(dir: &Path, when: &str) {
    let all = modes(dir);
    assert!(all.iter().any(|(p, _, _)| p.ends_with("latchkey.sqlite3")), "{when}: no database in {all:?}");
    for (path, is_dir, mode) in &all {
        let want = if *is_dir { 0o700 } else { 0o600 };
        assert_eq!(*mode, want, "{when}: {} is {mode:o}", path.display());
    }
    println!("private files ({when}): {} entries, all owner-only", all.len());
}

#[test]
#[ignore = "starts the real app on a display: run scripts/test-all.sh"]
fn the_app_keeps_its_data_folder_private() {
    let work = env_path("LATCHKEY_E2E_WORK").join("private-files");
    let _ = std::fs::remove_dir_all(&work);
    let data_dir = work.join("data");

    // First start: no folder at all.
    run_until_open("private-files-fresh", &data_dir);
    assert_private(&data_dir, "first start");

    // As an older version left it: everything readable by others, a report among the files.
    std::fs::create_dir_all(data_dir.join("reports")).expect("reports");
    std::fs::write(data_dir.join("reports/revoke-old.txt"), "an old report").expect("report");
    for (path, is_dir, _) in modes(&data_dir) {
        let loose = if is_dir { 0o755 } else { 0o644 };
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(loose)).expect("chmod");
    }
    run_until_open("private-files-loose", &data_dir);
    assert_private(&data_dir, "start over a loose folder");
}
