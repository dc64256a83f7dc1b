//! "Start Latchkey at login … starts in the tray": turning it on in Settings writes the login entry
//! (an XDG autostart file under ~/.config/autostart) with `--tray`; started as that entry says, the
//! process becomes the tray-resident `latchkey-resident` (no GTK, no WebKit mapped) and shows no
//! window; launching Latchkey again opens a window, and closing that window leaves the resident
//! running.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::{env_path, fresh_work, Driver};

const SERVICE: &str = "latchkey-e2e-login";

fn autostart_entries() -> Vec<(PathBuf, String)> {
    let dir = env_path("HOME").join(".config/autostart");
    let Ok(read) = std::fs::read_dir(&dir) else { return Vec::new() };
    read.flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "desktop"))
        .filter_map(|p| std::fs::read_to_string(&p).ok().map(|text| (p, text)))
        .filter(|(_, text)| text.contains("latchkey-desktop"))
        .collect()
}

/// Visible X windows the process `pid` owns.
fn visible_windows(pid: u32) -> usize {
    let out = Command::new("xdotool")
        .args(["search", "--onlyvisible", "--pid", &pid.to_string()])
        .output()
        .expect("xdotool must be installed");
    String::from_utf8_lossy(&out.stdout).lines().filter(|l| !l.trim().is_empty()).count()
}

/// A process this test started outside the driver's group, ended however the test ends: a failed
/// assertion must not leave it running into the next test.
struct Ended(Child);

impl std::ops::Deref for Ended {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Ended {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Ended {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn launch(program: &str, args: &[&str], data_dir: &Path, log: &Path) -> Child {
    Command::new(program)
        .args(args)
        .env("LATCHKEY_DATA_DIR", data_dir)
        .env("LATCHKEY_KEYCHAIN_SERVICE", SERVICE)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).expect("log"))
        .spawn()
        .expect("the app starts")
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "drives the real app window: run scripts/test-all.sh"]
async fn start_at_login_starts_in_the_tray() {
    let (work, data_dir) = fresh_work("start-at-login");
    for (path, _) in autostart_entries() {
        std::fs::remove_file(path).expect("an old entry removed");
    }

    let d = Driver::launch(
        "start-at-login",
        &[("LATCHKEY_DATA_DIR", &data_dir), ("LATCHKEY_KEYCHAIN_SERVICE", Path::new(SERVICE))],
    )
    .await;
    d.click("#open-settings").await;
    d.wait_for("#setting-start-at-login").await;
    d.click("#setting-start-at-login").await;
    d.click("#settings-save").await;
    d.wait_for("#settings-saved:not([hidden])").await;
    let entries = autostart_entries();
    assert_eq!(entries.len(), 1, "one login entry: {entries:?}");
    let (path, text) = &entries[0];
    println!("login entry {}:\n{text}", path.display());
    let exec = text.lines().find_map(|l| l.strip_prefix("Exec=")).expect("an Exec line").trim().to_owned();
    let mut words = exec.split_whitespace();
    let program = words.next().expect("a program").to_owned();
    let args: Vec<&str> = words.collect();
    assert!(program.ends_with("latchkey-desktop"), "{exec}");
    assert_eq!(args, ["--tray"], "the login start asks for the tray: {exec}");
    d.quit().await;

    // Started as the login entry says: it keeps running as the resident, with no toolkit loaded,
    // and shows no window.
    let mut tray = Ended(launch(&program, &args, &data_dir, &work.join("tray.log")));
    let until = Instant::now() + Duration::from_secs(8);
    let mut checked_maps = false;
    while Instant::now() < until {
        assert!(
            tray.try_wait().expect("status").is_none(),
            "the tray start exited; see {}",
            work.join("tray.log").display()
        );
        assert_eq!(visible_windows(tray.id()), 0, "a login start opened a window");
        let exe = std::fs::read_link(format!("/proc/{}/exe", tray.id())).expect("the process's program");
        if exe.to_string_lossy().ends_with("latchkey-resident") {
            let maps = std::fs::read_to_string(format!("/proc/{}/maps", tray.id())).expect("its mappings");
            for lib in ["libwebkit2gtk", "libgtk-3", "libjavascriptcoregtk"] {
                assert!(!maps.contains(lib), "the tray-resident process mapped {lib}");
            }
            checked_maps = true;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    assert!(checked_maps, "the login start became latchkey-resident");

    // A plain launch opens a window in its own process; the resident runs on.
    let mut window = Ended(launch(&program, &[], &data_dir, &work.join("window.log")));
    let until = Instant::now() + Duration::from_secs(30);
    while visible_windows(window.id()) == 0 {
        assert!(Instant::now() < until, "launching again did not show a window within 30 s");
        assert!(window.try_wait().expect("status").is_none(), "the window process exited");
        std::thread::sleep(Duration::from_millis(250));
    }
    let _ = Command::new("kill").args(["-TERM", &window.id().to_string()]).status();
    let closed = window.wait().expect("the window quits on SIGTERM");
    assert!(closed.success(), "the window quit cleanly: {closed}");
    std::thread::sleep(Duration::from_secs(1));
    assert!(tray.try_wait().expect("status").is_none(), "the resident stays after the window closed");

    let _ = Command::new("kill").args(["-TERM", &tray.id().to_string()]).status();
    let status = tray.wait().expect("the resident quits on SIGTERM");
    assert!(status.success(), "the resident quit cleanly: {status}");
    for (path, _) in autostart_entries() {
        let _ = std::fs::remove_file(path);
    }
}
