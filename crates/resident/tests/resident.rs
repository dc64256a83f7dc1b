//! The resident process as a desktop drives it, over the real session bus: its tray item's menu
//! read and clicked the way a panel does (dbusmenu `GetLayout` and `Event`), a reminder's
//! notification received by a notification server this test runs (it owns
//! `org.freedesktop.Notifications`) and its "Rotate…" button pressed; a second resident for the same
//! data dir exits at once; Quit ends it and asks the window to quit. The window is a stand-in that
//! records how it was launched: the real window is driven in tests/e2e.
//!
//! Needs a session bus: run inside scripts/desktop-session.sh (`--include-ignored`).

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use latchkey_core::audit::{Action, Event, Outcome};
use latchkey_core::model::{Exchange, KeyRecord};
use latchkey_core::store::Store;
use zbus::zvariant::{OwnedValue, Value};

struct Resident(Child);

impl Drop for Resident {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A window program that only writes down its arguments, one launch per line.
fn stand_in_window(dir: &Path) -> (PathBuf, PathBuf) {
    let log = dir.join("window-launches.txt");
    let program = dir.join("window.sh");
    std::fs::write(&program, format!("#!/bin/sh\necho \"launched $*\" >> '{}'\n", log.display())).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    (program, log)
}

fn resident(data: &Path, window: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_latchkey-resident"));
    cmd.env("LATCHKEY_DATA_DIR", data)
        .env("LATCHKEY_KEYCHAIN_SERVICE", format!("latchkey-test-resident-{}", std::process::id()))
        .env("LATCHKEY_WINDOW_BIN", window)
        .env("LATCHKEY_AGENT_LISTEN", "127.0.0.1:1")
        .stdin(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

fn launches(log: &Path) -> Vec<String> {
    std::fs::read_to_string(log).unwrap_or_default().lines().map(str::to_owned).collect()
}

fn wait_for<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "{what} within {secs} s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// One `Notify` call: its id, "summary: body", the button ids and labels, the urgency byte.
type Shown = (u32, String, Vec<String>, u8);

/// A notification server: records each `Notify` and can press one of its buttons.
#[derive(Clone, Default)]
struct Notifications {
    shown: Arc<Mutex<Vec<Shown>>>,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Notifications {
    #[allow(clippy::too_many_arguments)]
    fn notify(
        &self,
        _app_name: String,
        _replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        actions: Vec<String>,
        hints: HashMap<String, OwnedValue>,
        _expire_timeout: i32,
    ) -> u32 {
        let urgency = hints.get("urgency").and_then(|v| u8::try_from(v).ok()).unwrap_or(1);
        let mut shown = self.shown.lock().unwrap();
        let id = shown.len() as u32 + 1;
        shown.push((id, format!("{summary}: {body}"), actions, urgency));
        id
    }

    fn get_capabilities(&self) -> Vec<String> {
        vec!["actions".into(), "body".into()]
    }

    fn get_server_information(&self) -> (String, String, String, String) {
        ("test".into(), "latchkey".into(), "1".into(), "1.2".into())
    }

    fn close_notification(&self, _id: u32) {}
}

type Layout = (u32, (i32, HashMap<String, OwnedValue>, Vec<OwnedValue>));

/// The menu's lines as a panel reads them: (id, label, enabled).
async fn menu(conn: &zbus::Connection, name: &str) -> Vec<(i32, String, bool)> {
    let proxy = zbus::Proxy::new(conn, name.to_owned(), "/MenuBar", "com.canonical.dbusmenu").await.unwrap();
    let (_rev, (_root, _props, children)): Layout =
        proxy.call("GetLayout", &(0i32, -1i32, Vec::<String>::new())).await.unwrap();
    children
        .into_iter()
        .map(|child| {
            let (id, props, _): (i32, HashMap<String, OwnedValue>, Vec<OwnedValue>) = child.try_into().unwrap();
            let label = props.get("label").and_then(|v| String::try_from(v.clone()).ok()).unwrap_or_default();
            let enabled = props.get("enabled").and_then(|v| bool::try_from(v).ok()).unwrap_or(true);
            (id, label, enabled)
        })
        .collect()
}

async fn click(conn: &zbus::Connection, name: &str, id: i32) {
    let proxy = zbus::Proxy::new(conn, name.to_owned(), "/MenuBar", "com.canonical.dbusmenu").await.unwrap();
    let _: () = proxy.call("Event", &(id, "clicked", Value::from(0i32), 0u32)).await.unwrap();
}

async fn tray_name(conn: &zbus::Connection, pid: u32) -> Option<String> {
    let dbus = zbus::fdo::DBusProxy::new(conn).await.unwrap();
    let prefix = format!("org.kde.StatusNotifierItem-{pid}-");
    dbus.list_names().await.unwrap().into_iter().map(|n| n.to_string()).find(|n| n.starts_with(&prefix))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a session bus: run inside scripts/desktop-session.sh"]
async fn the_tray_menu_and_a_reminder_open_the_window_and_quit_ends_both() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (window, log) = stand_in_window(dir.path());
    // One key 200 days past its 90-day rotation: due, and reminded at the first look.
    let store = Store::open_in(&data).unwrap();
    let key = KeyRecord::sample(Exchange::Okx, "okx-grid", Utc::now() - chrono::Duration::days(200), 90);
    let event = Event {
        at: Utc::now(),
        action: Action::Add,
        key_id: Some(key.id),
        label: Some(&key.label),
        outcome: Outcome::Ok,
        detail: String::new(),
    };
    store.insert_key(&key, &event).unwrap();
    drop(store);

    let server = Notifications::default();
    let notifications = zbus::connection::Builder::session()
        .unwrap()
        .name("org.freedesktop.Notifications")
        .unwrap()
        .serve_at("/org/freedesktop/Notifications", server.clone())
        .unwrap()
        .build()
        .await
        .unwrap();
    let conn = zbus::Connection::session().await.unwrap();

    let mut first = Resident(resident(&data, &window).spawn().unwrap());
    let pid = first.0.id();
    let mut name = None;
    for _ in 0..100 {
        name = tray_name(&conn, pid).await;
        if name.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let name = name.expect("the resident's tray item on the bus within 10 s");

    // The reminder: critical (overdue), with Rotate… and Snooze buttons.
    let (id, summary, actions, urgency) =
        wait_for("a reminder notification", 20, || server.shown.lock().unwrap().first().cloned());
    assert!(summary.contains("okx-grid"), "{summary}");
    assert!(actions.contains(&"rotate".to_owned()) && actions.contains(&"snooze".to_owned()), "{actions:?}");
    assert_eq!(urgency, 2, "overdue is critical");
    // The menu once the first look is in.
    let mut lines = Vec::new();
    for _ in 0..100 {
        lines = menu(&conn, &name).await;
        if lines.iter().any(|l| l.1 == "1 key due for rotation") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let labels: Vec<&str> = lines.iter().map(|l| l.1.as_str()).collect();
    assert_eq!(
        labels,
        [
            "Open Latchkey",
            "1 key due for rotation",
            "No keys still live after a revoke",
            "Emergency revoke…",
            "Quit Latchkey"
        ]
    );
    assert!(!lines[1].2 && !lines[2].2, "the counts are not buttons");

    // "Rotate…" on the notification: the window opens that key's rotation.
    notifications
        .emit_signal(
            None::<&str>,
            "/org/freedesktop/Notifications",
            "org.freedesktop.Notifications",
            "ActionInvoked",
            &(id, "rotate"),
        )
        .await
        .unwrap();
    let want = format!("launched --rotate {}", key.id);
    wait_for("the window launched for the rotation", 10, || launches(&log).contains(&want).then_some(()));

    click(&conn, &name, lines[3].0).await;
    wait_for("the window launched for the revoke", 10, || {
        launches(&log).contains(&"launched --revoke".to_owned()).then_some(())
    });
    click(&conn, &name, lines[0].0).await;
    wait_for("the window launched plain", 10, || launches(&log).contains(&"launched ".to_owned()).then_some(()));

    // A second resident for the same data dir leaves at once and changes nothing.
    let second = resident(&data, &window).status().unwrap();
    assert!(second.success());
    assert!(tray_name(&conn, pid).await.is_some(), "the first one still runs");

    click(&conn, &name, lines[4].0).await;
    let status = wait_for("the resident to quit", 15, || first.0.try_wait().unwrap());
    assert!(status.success());
    assert!(launches(&log).contains(&"launched --quit".to_owned()), "Quit asks the window to quit too");
    assert!(tray_name(&conn, pid).await.is_none(), "the tray item is gone");

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for file in ["resident.lock", "logs/resident.log"] {
            let mode = std::fs::metadata(data.join(file)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{file}");
        }
    }
}

/// A logout ends the session bus: the resident must not run on, unseen, without it.
#[test]
#[ignore = "starts its own dbus-daemon: run inside scripts/desktop-session.sh"]
fn the_resident_quits_when_its_desktop_session_ends() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let (window, _log) = stand_in_window(dir.path());
    let mut bus = Command::new("dbus-daemon")
        .args(["--session", "--nofork", "--print-address=1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("dbus-daemon (package dbus) is installed");
    let mut address = String::new();
    std::io::BufReader::new(bus.stdout.take().unwrap()).read_line(&mut address).unwrap();
    let mut resident = Resident(
        resident(&dir.path().join("data"), &window).env("DBUS_SESSION_BUS_ADDRESS", address.trim()).spawn().unwrap(),
    );
    std::thread::sleep(Duration::from_secs(3));
    assert!(resident.0.try_wait().unwrap().is_none(), "the resident runs while its session does");
    let _ = bus.kill();
    let _ = bus.wait();
    let status = wait_for("the resident to quit after its session bus went", 20, || resident.0.try_wait().unwrap());
    assert!(status.success(), "{status}");
}
