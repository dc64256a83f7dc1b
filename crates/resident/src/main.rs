//! `latchkey-resident`: what stays of Latchkey while its window is closed. The tray icon, the
//! reminder timer and its notifications, automatic rotation, the daily key watch and the signing
//! agent run here, in a process that loads no GUI toolkit and no WebKit (the window process alone
//! cost 105 MiB PSS with no window open, BENCHMARKS.md). The window (`latchkey-desktop`) is started
//! on demand and exits when it is closed; both processes share the data dir's database and the
//! keychain, and each sees the other's writes through SQLite's `data_version`.
//!
//! One resident runs per data dir (a lock file); a second one exits at once, so the window can
//! start one whenever it opens without asking first.

mod agent;
mod instance;
mod key_watch;

mod notifier;
mod reminders;
mod store_watch;
mod tray;
mod window;

use std::process::ExitCode;
use std::sync::Arc;

use latchkey_core::exchange::{ClientConfig, ExchangeClient, SystemClock};
use latchkey_core::keychain::Keychain;
use latchkey_core::services::Services;
use tokio::sync::mpsc;

/// What the tray's menu and the notifications' buttons ask of the resident.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// Show the window (start it if it is not running).
    Open,
    /// The window, with the emergency revoke dialog open.
    OpenRevoke,
    /// The window, with the guided rotation of this key open.
    OpenRotation(latchkey_core::model::KeyId),
    /// Quit Latchkey: the window too.
    Quit,
}

fn main() -> ExitCode {
    let Some(data_dir) = latchkey_core::paths::data_dir() else {
        eprintln!("Latchkey could not find a data folder for this user: set LATCHKEY_DATA_DIR to a writable folder.");
        return ExitCode::from(2);
    };
    // Owner-only, and everything in it tightened, before the first file (the log) is written there.
    if let Err(e) = latchkey_core::paths::prepare_private_dir(&data_dir) {
        eprintln!("Latchkey could not make its data folder {} private: {e}", data_dir.display());
        return ExitCode::from(1);
    }
    latchkey_core::logfile::init(Some(&data_dir), "resident.log");
    let _instance = match instance::claim(&data_dir) {
        Ok(Some(lock)) => lock,
        Ok(None) => {
            tracing::info!("Latchkey already runs in the tray for this data folder");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            tracing::error!(error = %e, "could not take the tray's lock file");
            return ExitCode::from(1);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(error = %e, "could not start the async runtime");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(run(data_dir))
}

async fn run(data_dir: std::path::PathBuf) -> ExitCode {
    let keychain = Arc::new(Keychain::from_env());
    let services = ExchangeClient::new(ClientConfig::default(), Arc::new(SystemClock))
        .map_err(|e| format!("Latchkey could not set up its connection to the exchanges: {e}"))
        .and_then(|client| Services::open(&data_dir, keychain, Arc::new(client)).map_err(|e| e.to_string()));
    let services = match services {
        Ok(s) => Arc::new(s),
        Err(e) => {
            // The window says the same with what to do; the tray has nothing to run without it.
            tracing::error!(error = %e, "store unavailable: the tray cannot run");
            eprintln!("Latchkey could not open its data: {e}");
            return ExitCode::from(1);
        }
    };
    tracing::info!(data_dir = %data_dir.display(), "Latchkey runs in the tray");
    let (requests, mut asked) = mpsc::unbounded_channel();
    let window = window::Window::beside_this_program();
    let tray = tray::install(requests.clone()).await;
    let wake = Arc::new(tokio::sync::Notify::new());

    services.resume_interrupted().await;
    reminders::start(services.clone(), tray.clone(), requests.clone(), wake.clone());
    key_watch::start(services.clone(), requests.clone());
    let agent = agent::Resident::new(services.clone());
    agent.start_if_bots().await;
    store_watch::start(services.clone(), wake, agent);

    let quit = tokio::select! {
        r = serve(&window, &mut asked) => r,
        () = termination() => Request::Quit,
        () = session_end() => Request::Quit,
    };
    debug_assert_eq!(quit, Request::Quit);
    tracing::info!("quitting");
    window.quit();
    tray.shutdown().await;
    ExitCode::SUCCESS
}

/// Carries out what the tray and the notifications ask until one asks to quit.
async fn serve(window: &window::Window, asked: &mut mpsc::UnboundedReceiver<Request>) -> Request {
    while let Some(request) = asked.recv().await {
        match request {
            Request::Quit => return Request::Quit,
            other => window.open(&other),
        }
    }
    Request::Quit
}

/// The desktop session ended under us (its bus is gone: a logout): a resident left without it
/// would run on, unseen. Pings the bus every 5 s on one connection; two failed pings in a row end
/// it. With no session bus at all from the start there is nothing to watch.
async fn session_end() {
    #[cfg(target_os = "linux")]
    {
        let peer = async {
            let conn = zbus::Connection::session().await?;
            zbus::fdo::PeerProxy::builder(&conn)
                .destination("org.freedesktop.DBus")?
                .path("/org/freedesktop/DBus")?
                .build()
                .await
        };
        let Ok(peer) = peer.await else { return std::future::pending().await };
        let mut failed = 0;
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(5)).await;
            failed = if peer.ping().await.is_ok() { 0 } else { failed + 1 };
            if failed >= 2 {
                tracing::info!("the desktop session ended");
                return;
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    std::future::pending().await
}

/// SIGTERM, SIGINT and SIGHUP (logout, `kill`, Ctrl-C) quit like the tray's Quit.
async fn termination() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int), Ok(mut hup)) =
        (signal(SignalKind::terminate()), signal(SignalKind::interrupt()), signal(SignalKind::hangup()))
    else {
        tracing::warn!("could not listen for termination signals");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
        _ = hup.recv() => {}
    }
}
