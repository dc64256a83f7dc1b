//! "Start Latchkey at login … starts in the tray": turning it on in Settings writes the login entry
//! (an XDG autostart file under ~/.config/autostart) with `--tray`; started as that entry says, the
//! app runs with no window until it is opened (here: by launching it again, which shows the running
//! one's window, the same probe seeing it appear).

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

    // Started as the login entry says: it keeps running, and shows no window.
    let mut tray = launch(&program, &args, &data_dir, &work.join("tray.log"));
    let until = Instant::now() + Duration::from_secs(8);
    while Instant::now() < until {
        assert!(
            tray.try_wait().expect("status").is_none(),
            "the tray start exited; see {}",
            work.join("tray.log").display()
        );
        assert_eq!(visible_windows(tray.id()), 0, "a login start opened a window");
        std::thread::sleep(Duration::from_millis(250));
    }

    // A plain launch opens the running one's window: the probe above would have seen one.
    let mut again = launch(&program, &[], &data_dir, &work.join("again.log"));
    let until = Instant::now() + Duration::from_secs(30);
    while visible_windows(tray.id()) == 0 {
        assert!(Instant::now() < until, "launching again did not show the window within 30 s");
        std::thread::sleep(Duration::from_millis(250));
    }
    let second = again.wait().expect("the second launch exits after handing over");
    println!("second launch handed over ({second}); window shown for the tray-started process");

    let _ = Command::new("kill").args(["-TERM", &tray.id().to_string()]).status();
    let status = tray.wait().expect("the app quits on SIGTERM");
    println!("tray-started app quit: {status}");
    for (path, _) in autostart_entries() {
        let _ = std::fs::remove_file(path);
    }
}
