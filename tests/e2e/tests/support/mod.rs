//! Starting the real app under tauri-driver and finding what it left on disk.
//!
//! For the secret-leak scan that runs after the whole suite (`leak-scan`, see `src/bin`), each
//! session records every IPC reply the page received (`ipc-replies.jsonl` beside its screenshots)
//! and every secret the test typed or was shown (a list in `$LATCHKEY_E2E_SECRETS`, outside the
//! scanned folders).
//!
//! The tests expect to run inside a D-Bus session with an unlocked gnome-keyring and an X display
//! (see `scripts/test-all.sh`). A missing driver or app binary is a failure, never a skip.

#![allow(dead_code)]

use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

pub struct Driver {
    child: Child,
    pub client: Client,
    pub artifacts: PathBuf,
    shots: usize,
    name: String,
    secrets_dir: PathBuf,
    secrets: Mutex<Vec<String>>,
    /// The recovery codes [`Driver::enrol_2fa`] read, for guarded actions past the two TOTP codes
    /// of one 30 s step (each TOTP step is accepted once).
    recovery_codes: Vec<String>,
    /// Held while this window is open, and dropped last: one app window per test binary at a time.
    _one_window: tokio::sync::MutexGuard<'static, ()>,
}

/// Tests of one binary run on parallel threads, but two app windows (two WebKitWebDriver sessions
/// on one Xvfb display and one keyring, on 2 cores) starve each other: a session then fails to open
/// within its bound. Each `Driver` holds this for its lifetime, so a file's tests take turns.
static ONE_WINDOW: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The fields whose text is a secret: what is typed into them goes on the leak scan's list.
const SECRET_FIELDS: &[&str] = &[
    "#api-key",
    "#api-secret",
    "#passphrase",
    "#rotate-api-key",
    "#rotate-api-secret",
    "#rotate-passphrase",
    "#servers-credential",
];

/// Commands whose reply carries a secret to the user by design: the revealed key, the TOTP secret
/// at enrolment, the recovery codes shown once, a new host's wrapped secret-id (OpenBao). Their
/// replies are not written out.
pub const SECRET_REPLIES: &[&str] =
    &["reveal_secret", "guard_begin_enrollment", "guard_confirm_enrollment", "add_server_host"];

/// Records every IPC reply the page receives in `window.__ipcLog`. Tauri's own entry points are
/// sealed (non-writable), but on Linux each command is a `fetch` to its `ipc://` protocol, looked up
/// at call time: wrapping `fetch` sees each reply's body as the page gets it. Installed once the
/// session is open, so the few calls the page makes while loading are not seen; the same commands
/// run again after every action.
const IPC_RECORDER: &str = r#"
if (window.__ipcLog) return true;
window.__ipcLog = [];
const original = window.fetch;
window.fetch = function (input, init) {
  const url = String(input && input.url ? input.url : input);
  const reply = original.call(this, input, init);
  if (!url.startsWith('ipc:') && !url.includes('//ipc.localhost/')) return reply;
  const cmd = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  return reply.then((response) => {
    response.clone().text().then((body) => window.__ipcLog.push({ cmd, status: response.status, body }));
    return response;
  });
};
return window.fetch !== original;
"#;

pub fn env_path(name: &str) -> PathBuf {
    match std::env::var_os(name) {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => panic!("{name} is not set: run the end-to-end tests through scripts/test-all.sh"),
    }
}

/// One test's working folder, `$LATCHKEY_E2E_WORK/<name>`, emptied, with an empty data dir in it:
/// `(work, data_dir)`.
pub fn fresh_work(name: &str) -> (PathBuf, PathBuf) {
    let work = env_path("LATCHKEY_E2E_WORK").join(name);
    let _ = std::fs::remove_dir_all(&work);
    let data_dir = work.join("data");
    std::fs::create_dir_all(&data_dir).expect("data dir");
    (work, data_dir)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

impl Driver {
    /// Launches `tauri-driver` (which launches WebKitWebDriver, which launches the app with this
    /// process's environment plus `app_env`) and opens a WebDriver session on the app's window.
    pub async fn launch(name: &str, app_env: &[(&str, &Path)]) -> Driver {
        Self::launch_with(name, app_env, None).await
    }

    /// [`Driver::launch`] with `native_driver` in place of the WebKitWebDriver on PATH.
    pub async fn launch_with(name: &str, app_env: &[(&str, &Path)], native_driver: Option<&Path>) -> Driver {
        // An async lock: each test has its own runtime, and the guard lives across awaits.
        let one_window = ONE_WINDOW.lock().await;
        let app = env_path("LATCHKEY_APP_BIN");
        assert!(app.is_file(), "the app binary {} does not exist: build it first", app.display());
        let artifacts = env_path("LATCHKEY_E2E_ARTIFACTS").join(name);
        let secrets_dir = env_path("LATCHKEY_E2E_SECRETS");
        std::fs::create_dir_all(&artifacts).expect("artifacts dir");
        // A Latchkey still running from an earlier test holds the single-instance name on the
        // session bus: this launch would hand it its arguments and exit at once, and
        // WebKitWebDriver would then drop the new-session request (hyper's IncompleteMessage).
        wait_no_running_app(Duration::from_secs(20));
        let mut last_failure = String::new();
        let mut opened = None;
        // A transport failure of the new-session request is retried once on fresh drivers, the
        // first attempt's log printed; a WebDriver error answer fails at once.
        for attempt in 1..=2 {
            let mut driver = DriverProcess::spawn(&artifacts, attempt, app_env, native_driver);
            match driver.open_session(&app).await {
                Ok(client) => {
                    opened = Some((driver.child, client));
                    break;
                }
                Err(failure) => {
                    kill_group(&mut driver.child);
                    let log = std::fs::read_to_string(artifacts.join(format!("tauri-driver-{attempt}.log")))
                        .unwrap_or_default();
                    println!("e2e: WebDriver session attempt {attempt} failed: {failure}\ntauri-driver log:\n{log}");
                    last_failure = failure;
                    wait_no_running_app(Duration::from_secs(20));
                }
            }
        }
        let Some((child, client)) = opened else { panic!("WebDriver session: {last_failure}") };
        println!("e2e: WebDriver session open on {}", app.display());
        let d = Driver {
            child,
            client,
            artifacts,
            shots: 0,
            name: name.to_owned(),
            secrets_dir,
            secrets: Mutex::new(Vec::new()),
            recovery_codes: Vec::new(),
            _one_window: one_window,
        };
        assert_eq!(d.js(IPC_RECORDER).await, serde_json::Value::Bool(true), "could not record the page's IPC replies");
        d
    }

    /// Puts `value` on the leak scan's list.
    pub fn note_secret(&self, value: &str) {
        self.secrets.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(value.to_owned());
    }

    /// The TOTP secret the enrolment dialog shows (noted as a secret).
    pub async fn read_totp_secret(&self) -> String {
        let secret = self.wait_for("#totp-secret").await.attr("data-secret").await.expect("attr").expect("data-secret");
        self.note_secret(&secret);
        secret
    }

    /// The recovery codes shown once after enrolment (noted as secrets); how many there were.
    pub async fn note_recovery_codes(&self) -> usize {
        self.wait_for("#recovery-codes .recovery-code").await;
        let codes = self
            .js("return [...document.querySelectorAll('#recovery-codes .recovery-code')].map((e) => e.textContent)")
            .await;
        let codes: Vec<String> = serde_json::from_value(codes).expect("codes are strings");
        for c in &codes {
            self.note_secret(c.trim());
        }
        codes.len()
    }

    /// Writes the recorded IPC replies (those in [`SECRET_REPLIES`] left out) and the noted secrets.
    async fn save_leak_evidence(&self) {
        let log = self.js("return window.__ipcLog || []").await;
        let mut lines = String::new();
        for entry in log.as_array().expect("an array of replies") {
            let cmd = entry["cmd"].as_str().unwrap_or("?");
            let line = if SECRET_REPLIES.contains(&cmd) {
                serde_json::json!({ "cmd": cmd, "status": entry["status"], "withheld": "carries a secret to the user by design" })
            } else {
                entry.clone()
            };
            lines.push_str(&line.to_string());
            lines.push('\n');
        }
        // Appended: a test may launch the app more than once.
        append(&self.artifacts.join("ipc-replies.jsonl"), &lines);
        let mut secrets = self.secrets.lock().unwrap_or_else(std::sync::PoisonError::into_inner).join("\n");
        secrets.push('\n');
        std::fs::create_dir_all(&self.secrets_dir).expect("secrets dir");
        append(&self.secrets_dir.join(format!("{}.txt", self.name)), &secrets);
    }

    /// The window as the X server shows it, once the page has painted its current DOM. Latchkey
    /// paints on the CPU (src-tauri/lib.rs), and WebDriver's own screenshot waits for a composited
    /// frame that then never comes, so the picture is taken from the X window itself, which is
    /// also exactly what a person sees.
    pub async fn screenshot(&mut self, step: &str) -> PathBuf {
        self.shots += 1;
        let path = self.artifacts.join(format!("{:02}-{step}.png", self.shots));
        let painted = "const done = arguments[0]; requestAnimationFrame(() => setTimeout(done, 0));";
        tokio::time::timeout(Duration::from_secs(10), self.client.execute_async(painted, vec![]))
            .await
            .expect("the page did not paint a frame within 10 s")
            .expect("wait for a painted frame");
        let found = Command::new("xdotool")
            .args(["search", "--onlyvisible", "--name", "^Latchkey$"])
            .output()
            .expect("xdotool");
        let window = String::from_utf8_lossy(&found.stdout).lines().next().map(str::to_owned);
        let window = window.unwrap_or_else(|| panic!("no visible Latchkey window to take the screenshot {step} of"));
        let shot = Command::new("import")
            .args(["-window", &window])
            .arg(format!("png:{}", path.display()))
            .output()
            .expect("import");
        assert!(shot.status.success(), "screenshot {step}: {}", String::from_utf8_lossy(&shot.stderr));
        path
    }

    /// Polls for an element for up to 15 s. Each WebDriver call is bounded too, so a stuck driver
    /// fails the test instead of hanging it.
    pub async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        println!("e2e: waiting for {css}");
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let found = tokio::time::timeout(Duration::from_secs(10), self.client.find(Locator::Css(css))).await;
            match found {
                Ok(Ok(el)) => return el,
                Ok(Err(_)) if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(100)).await,
                Ok(Err(e)) => panic!("{css} did not appear within 15 s: {e}"),
                Err(_) => panic!("WebDriver did not answer a find for {css} within 10 s"),
            }
        }
    }

    /// Clicks `css` until `shows` is on the page: a click that landed on a card the list redrew at
    /// that moment (its data arriving after a view change) opens nothing, and a person would click
    /// again. Three clicks at most, each given 5 s.
    pub async fn click_until_shown(&self, css: &str, shows: &str) -> fantoccini::elements::Element {
        for attempt in 1..=3 {
            self.click(css).await;
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Ok(el)) =
                    tokio::time::timeout(Duration::from_secs(5), self.client.find(Locator::Css(shows))).await
                {
                    return el;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            println!("e2e: {shows} did not appear after click {attempt} on {css}");
        }
        panic!("{shows} did not appear after three clicks on {css}");
    }

    /// Clicks the element `css` finds. One the page re-rendered between the find and the click
    /// (a card redrawn by a status refresh) is found again, for up to 10 s.
    pub async fn click(&self, css: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match self.wait_for(css).await.click().await {
                Ok(()) => return,
                Err(e) if is_stale(&e) && Instant::now() < deadline => {
                    println!("e2e: {css} was re-rendered before the click; finding it again");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("click {css}: {e} ({e:?})"),
            }
        }
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        if SECRET_FIELDS.contains(&css) {
            self.note_secret(text);
        }
        let el = self.wait_for(css).await;
        el.clear().await.unwrap_or_else(|e| panic!("clear {css}: {e}"));
        el.send_keys(text).await.unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    /// The element's text. The dashboard re-renders its cards when the key list reloads, so the
    /// element found may be replaced before its text is read (WebKit: "Node … was not found"):
    /// then it is found again, for up to 15 s.
    pub async fn text(&self, css: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            match self.wait_for(css).await.text().await {
                Ok(text) => return text,
                Err(e) if is_stale(&e) && Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await
                }
                Err(e) => panic!("text of {css}: {e}"),
            }
        }
    }

    /// Polls a script (a function body that returns a value) until it returns `true`, for up to
    /// `secs` seconds; `what` names the condition in the failure, with the script's last answer.
    pub async fn wait_until(&self, what: &str, script: &str, secs: u64) {
        println!("e2e: waiting until {what}");
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let answer = tokio::time::timeout(Duration::from_secs(10), self.client.execute(script, vec![]))
                .await
                .unwrap_or_else(|_| panic!("WebDriver did not answer a script within 10 s ({what})"))
                .unwrap_or_else(|e| panic!("script failed ({what}): {e}"));
            if answer == serde_json::Value::Bool(true) {
                return;
            }
            assert!(Instant::now() < deadline, "not true within {secs} s: {what} (last answer {answer})");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn js(&self, script: &str) -> serde_json::Value {
        self.client.execute(script, vec![]).await.unwrap_or_else(|e| panic!("script failed: {e}"))
    }

    pub async fn quit(mut self) {
        self.save_leak_evidence().await;
        let _ = self.client.clone().close().await;
        kill_group(&mut self.child);
        // The next test's launch must not find this app still holding the single-instance name.
        wait_no_running_app(Duration::from_secs(20));
    }
}

impl Drop for Driver {
    /// A test that panicked leaves no driver, WebKitWebDriver or app behind for the next one.
    fn drop(&mut self) {
        kill_group(&mut self.child);
    }
}

/// `tauri-driver` in a process group of its own: WebKitWebDriver and the app it launches join
/// it, so one signal ends all three.
struct DriverProcess {
    child: Child,
    port: u16,
}

impl DriverProcess {
    /// Starts the driver, its output in `tauri-driver-<attempt>.log`, and waits until both it and
    /// WebKitWebDriver behind it listen.
    fn spawn(artifacts: &Path, attempt: u32, app_env: &[(&str, &Path)], native_driver: Option<&Path>) -> DriverProcess {
        let port = free_port();
        let native_port = free_port();
        let log = std::fs::File::create(artifacts.join(format!("tauri-driver-{attempt}.log"))).expect("driver log");
        let mut cmd = Command::new(std::env::var("TAURI_DRIVER").unwrap_or_else(|_| "tauri-driver".into()));
        cmd.args(["--port", &port.to_string(), "--native-port", &native_port.to_string()])
            .process_group(0)
            .stdout(Stdio::from(log.try_clone().expect("log")))
            .stderr(Stdio::from(log));
        if let Some(native) = native_driver {
            cmd.arg("--native-driver").arg(native);
        }
        for (k, v) in app_env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("tauri-driver must be installed (cargo install tauri-driver) and on PATH");
        // Both ports: tauri-driver listens at once, but until WebKitWebDriver listens behind it,
        // it drops each request it cannot forward without an answer (hyper's IncompleteMessage).
        let deadline = Instant::now() + Duration::from_secs(20);
        for (who, port) in [("tauri-driver", port), ("WebKitWebDriver", native_port)] {
            while TcpStream::connect(("127.0.0.1", port)).is_err() {
                assert!(Instant::now() < deadline, "{who} did not listen on port {port} within 20 s");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        DriverProcess { child, port }
    }

    /// A WebDriver session on the app's window; a transport failure as text, to be retried.
    async fn open_session(&mut self, app: &Path) -> Result<Client, String> {
        let mut caps = serde_json::Map::new();
        caps.insert("tauri:options".into(), serde_json::json!({ "application": app }));
        let mut builder = ClientBuilder::native();
        builder.capabilities(caps);
        let url = format!("http://127.0.0.1:{}", self.port);
        // Without the automation variable WebKitWebDriver hangs forever: bound it.
        match tokio::time::timeout(Duration::from_secs(60), builder.connect(&url)).await {
            Err(_) => Err("not created within 60 s".into()),
            Ok(Ok(client)) => Ok(client),
            Ok(Err(e @ fantoccini::error::NewSessionError::Failed(_))) => Err(e.to_string()),
            Ok(Err(e)) => panic!("WebDriver session: {e}"),
        }
    }
}

/// Ends a driver's process group (tauri-driver, WebKitWebDriver, the app): SIGTERM, which the app
/// turns into a normal quit, then SIGKILL for whatever is left after 5 s.
fn kill_group(child: &mut Child) {
    let group = format!("-{}", child.id());
    if child.try_wait().ok().flatten().is_some() && !group_alive(&group) {
        return;
    }
    let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
    let deadline = Instant::now() + Duration::from_secs(5);
    while group_alive(&group) && Instant::now() < deadline {
        let _ = child.try_wait();
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = Command::new("kill").args(["-KILL", "--", &group]).stderr(Stdio::null()).status();
    let _ = child.wait();
}

/// Whether any process of the group is left (signal 0 only checks).
fn group_alive(group: &str) -> bool {
    Command::new("kill").args(["-0", "--", group]).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

/// The session-bus name a running Latchkey holds (tauri-plugin-single-instance's), if any.
pub fn running_app_name() -> Option<String> {
    let bus = zbus::blocking::Connection::session().ok()?;
    let dbus = zbus::blocking::fdo::DBusProxy::new(&bus).ok()?;
    let names = dbus.list_names().ok()?;
    names.into_iter().map(|n| n.to_string()).find(|n| n.contains("latchkey") && n.contains("SingleInstance"))
}

/// Waits until no Latchkey holds the single-instance name; a name still held after `bound` is a
/// leftover of an earlier test, named in the failure.
pub fn wait_no_running_app(bound: Duration) {
    let deadline = Instant::now() + bound;
    while let Some(name) = running_app_name() {
        assert!(
            Instant::now() < deadline,
            "a Latchkey from an earlier test still holds {name} after {bound:?}: a new launch would only hand it its arguments"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn append(path: &Path, text: &str) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path).expect("open for append");
    f.write_all(text.as_bytes()).expect("append");
}

/// Every file under `root` (following no links) whose bytes contain `needle`.
pub fn files_containing(root: &Path, needle: &[u8]) -> Vec<PathBuf> {
    latchkey_e2e::files_under(root)
        .into_iter()
        .filter(|f| std::fs::read(f).is_ok_and(|bytes| latchkey_e2e::contains(&bytes, needle)))
        .collect()
}

/// How many files and bytes a scan looked at, for the test's report.
pub fn tree_size(root: &Path) -> (usize, u64) {
    let files = latchkey_e2e::files_under(root);
    let bytes = files.iter().map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0)).sum();
    (files.len(), bytes)
}

/// The simulator's seed for the e2e tests. Read from the environment at run time, not baked in with
/// `env!`: cargo reuses test binaries when the checkout moves, and a baked path would be stale.
pub fn seed_file() -> PathBuf {
    PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR")).join("seed.json")
}

/// The local exchange simulator (`crates/exchange-sim`), started from its binary with a seed file.
pub struct Sim {
    child: Child,
    pub base_url: String,
}

impl Sim {
    pub fn start(seed: &Path) -> Sim {
        use std::io::BufRead;
        let bin = env_path("LATCHKEY_SIM_BIN");
        let mut child = Command::new(&bin)
            .args(["--port", "0", "--seed"])
            .arg(seed)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let stdout = child.stdout.take().expect("sim stdout");
        let mut line = String::new();
        std::io::BufReader::new(stdout).read_line(&mut line).expect("sim prints its URL");
        let base_url = line.trim().to_owned();
        assert!(base_url.starts_with("http://127.0.0.1:"), "exchange-sim printed {base_url:?}");
        println!("e2e: exchange-sim at {base_url}");
        Sim { child, base_url }
    }

    /// The simulator's view of its keys (secrets left out), from its control endpoint.
    pub fn state(&self) -> serde_json::Value {
        let out = Command::new("curl").args(["-sf", &format!("{}/__sim/state", self.base_url)]).output().expect("curl");
        assert!(out.status.success(), "GET /__sim/state failed");
        serde_json::from_slice(&out.stdout).expect("sim state is JSON")
    }

    /// Every answer to the exchange APIs takes `ms` longer from now on.
    pub fn set_latency(&self, ms: u64) {
        let body = serde_json::json!({ "kind": "latency", "ms": ms }).to_string();
        let out = Command::new("curl")
            .args(["-sf", "-X", "POST", "-H", "content-type: application/json", "-d", &body])
            .arg(format!("{}/__sim/fault", self.base_url))
            .output()
            .expect("curl");
        assert!(out.status.success(), "POST /__sim/fault failed");
    }

    /// What a user deleting the key on the exchange's website does.
    pub fn delete_key(&self, api_key: &str) {
        let body = serde_json::json!({ "apiKey": api_key }).to_string();
        let out = Command::new("curl")
            .args(["-sf", "-X", "POST", "-H", "content-type: application/json", "-d", &body])
            .arg(format!("{}/__sim/delete-key", self.base_url))
            .output()
            .expect("curl");
        assert!(out.status.success(), "POST /__sim/delete-key failed");
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One key as the wizard takes it.
pub struct WizardKey<'a> {
    pub exchange: &'a str,
    pub api_key: &'a str,
    pub secret: &'a str,
    pub passphrase: Option<&'a str>,
    pub label: &'a str,
}

impl Driver {
    /// Adds a key through the wizard as a person would, checked against `base_url`, and waits for
    /// its card.
    pub async fn add_key_via_wizard(&self, key: &WizardKey<'_>, base_url: &str) {
        self.click("#add-key").await;
        self.wait_for("#wizard[data-step=exchange]").await;
        self.click(&format!("input[name=exchange][value={}]", key.exchange)).await;
        self.click("#wizard-next").await;
        self.wait_for("#wizard[data-step=credentials]").await;
        self.type_into("#api-key", key.api_key).await;
        self.type_into("#api-secret", key.secret).await;
        if let Some(p) = key.passphrase {
            self.type_into("#passphrase", p).await;
        }
        self.click("#wizard-next").await;
        self.wait_for("#wizard[data-step=details]").await;
        self.type_into("#label", key.label).await;
        self.click("#environment option[value=custom]").await;
        self.type_into("#base-url", base_url).await;
        self.click("#wizard-next").await;
        self.wait_for("#verify-result[data-state=ok]").await;
        self.click("#wizard-save").await;
        self.skip_2fa_step().await;
        self.wait_for(&format!("[data-testid=key-card][data-label=\"{}\"]", key.label)).await;
    }

    /// After a save: waits until the wizard closed, or showed its first-use 2FA step (2FA not set
    /// up, not skipped), and then takes the explicit skip.
    pub async fn skip_2fa_step(&self) {
        self.wait_until(
            "the wizard closed, or moved on to its 2FA step",
            "return !document.querySelector('#wizard') || !!document.querySelector(\"#wizard[data-step='2fa'] #skip-2fa\")",
            20,
        )
        .await;
        let on_step = self.js("return !!document.querySelector('#wizard')").await;
        if on_step == serde_json::Value::Bool(true) {
            self.click("#skip-2fa-accept").await;
            self.click("#skip-2fa").await;
            self.wait_until("the wizard closed after the skip", "return !document.querySelector('#wizard')", 10).await;
        }
    }
}

/// A TOTP code from Debian's `oathtool`, an implementation independent of ours. `offset_steps`
/// shifts the clock by 30 s steps: a code already used in this step is refused as a replay, so the
/// next action uses the next step's code, which the guard accepts (±1 step).
/// What the X11 clipboard holds now, as `xclip` (another client) pastes it; empty if nothing.
pub fn clipboard() -> String {
    let out = Command::new("xclip")
        .args(["-o", "-selection", "clipboard"])
        .output()
        .expect("xclip is installed (Debian package xclip)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn oathtool_code(secret_base32: &str, offset_steps: i64) -> String {
    let out = Command::new("oathtool")
        .args(["--totp", "-b", secret_base32, "-N", &format!("now + {} seconds", offset_steps * 30)])
        .output()
        .expect("oathtool is installed (Debian package oathtool)");
    assert!(out.status.success(), "oathtool failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

impl Driver {
    /// Enrols 2FA through the window and returns the TOTP secret read from the page. The code
    /// for this 30 s step is then used: the next guarded action needs `oathtool_code(secret, 1)`.
    pub async fn enrol_2fa(&mut self) -> String {
        self.click("#open-2fa").await;
        self.wait_for("#enroll-dialog svg, #enroll-dialog img").await;
        let secret = self.read_totp_secret().await;
        self.type_into("#enroll-code", &oathtool_code(&secret, 0)).await;
        self.click("#enroll-confirm").await;
        assert_eq!(self.note_recovery_codes().await, 10, "ten recovery codes, shown once");
        let codes = self.js("return [...document.querySelectorAll('#recovery-codes .recovery-code')].map((e) => e.textContent.trim())").await;
        self.recovery_codes = serde_json::from_value(codes).expect("codes are strings");
        self.click("#recovery-done").await;
        secret
    }

    /// An unused recovery code from the enrolment.
    pub fn recovery_code(&mut self) -> String {
        self.recovery_codes.pop().expect("enrol_2fa read ten recovery codes")
    }
}

/// Records the session bus's `org.freedesktop.Notifications.Notify` calls, as a desktop would
/// receive them.
pub struct NotifyMonitor {
    child: Child,
    log: PathBuf,
}

impl NotifyMonitor {
    pub fn start(log: PathBuf) -> NotifyMonitor {
        let out = std::fs::File::create(&log).expect("monitor log");
        let child = Command::new("dbus-monitor")
            .args(["--session", "interface='org.freedesktop.Notifications',member='Notify'"])
            .stdout(Stdio::from(out))
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-monitor is installed (package dbus)");
        // dbus-monitor needs a moment to register as a monitor.
        std::thread::sleep(Duration::from_millis(300));
        NotifyMonitor { child, log }
    }

    /// Waits up to `secs` for a Notify call whose text contains `needle`; returns the log so far.
    pub fn wait_for(&self, needle: &str, secs: u64) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let seen = std::fs::read_to_string(&self.log).unwrap_or_default();
            if seen.contains(needle) {
                return seen;
            }
            assert!(Instant::now() < deadline, "no Notify call containing {needle:?} within {secs} s; saw:\n{seen}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for NotifyMonitor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A found element that the page has since replaced.
/// The element went away or is not clickable yet while the page settles (a re-render, a view
/// switching back): worth finding again. WebKit's answer may carry an empty message, so its
/// status decides, with the text as a fallback.
fn is_stale(e: &fantoccini::error::CmdError) -> bool {
    let text = e.to_string();
    e.is_stale_element_reference()
        || e.is_no_such_element()
        || matches!(e, fantoccini::error::CmdError::Standard(w) if w.error == fantoccini::error::ErrorStatus::ElementClickIntercepted)
        || e.is_element_not_interactable()
        || text.contains("was not found")
        || text.contains("stale element")
}
