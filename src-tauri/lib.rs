//! The desktop shell: a thin layer of Tauri commands over `latchkey-core`.

mod clipboard;
pub mod commands;
#[cfg(test)]
mod ipc_contract;
mod ipc_error;
mod notice;
mod resident;
mod security_config;
mod state;
mod store_watch;
mod window;

use tauri::{Builder, Runtime};

pub use ipc_error::IpcError;
pub use state::AppState;

/// Registers state and commands on any runtime, so tests can drive the same shell with
/// `tauri::test::mock_builder()`.
pub fn app<R: Runtime>(builder: Builder<R>, state: AppState) -> Builder<R> {
    // A new host's enrolment, in memory until its dialog closes or it expires (commands/servers.rs).
    let builder = builder.manage(commands::servers::Enrolments::default());
    // A bot's placeholders just issued from a key card, likewise (commands/agent.rs).
    let builder = builder.manage(commands::agent::IssuedPlaceholders::default());
    builder.manage(state).on_window_event(cancel_enrollment_on_close).invoke_handler(tauri::generate_handler![
        commands::keys::list_keys,
        commands::keys::get_key,
        commands::keys::add_key,
        commands::keys::delete_key,
        commands::keychain::keychain_status,
        commands::exchange::inspect_credentials,
        commands::exchange::verify_key,
        commands::guard::guard_status,
        commands::guard::guard_begin_enrollment,
        commands::guard::guard_confirm_enrollment,
        commands::guard::guard_disable,
        commands::guard::guard_cancel_enrollment,
        commands::guard::guard_skip_setup,
        commands::revoke::revoke_plan,
        commands::revoke::emergency_revoke,
        commands::revoke::retry_revoke,
        commands::revoke::wipe_locally,
        commands::revoke::confirm_deleted,
        commands::revoke::save_revoke_report,
        commands::audit::audit_log,
        commands::secrets::reveal_secret,
        commands::secrets::copy_secret,
        commands::secrets::copy_recovery_codes,
        commands::bots::set_bots_allowed,
        commands::rotation::get_settings,
        commands::rotation::save_settings,
        commands::rotation::snooze_key,
        commands::rotation::inspect_rotation,
        commands::rotation::rotate_key,
        commands::rotation::rotate_now,
        commands::orphans::orphan_keys,
        commands::orphans::restore_orphan,
        commands::orphans::delete_orphan,
        commands::keys::edit_key,
        commands::fix::key_fixes,
        commands::fix::fix_key,
        commands::mint::sub_accounts,
        commands::mint::mint_key,
        commands::servers::servers_status,
        commands::servers::save_servers,
        commands::servers::test_servers,
        commands::servers::deliver_key,
        commands::servers::undeliver_key,
        commands::servers::server_hosts,
        commands::servers::add_server_host,
        commands::servers::copy_enrolment,
        commands::servers::forget_enrolment,
        commands::servers::remove_server_host,
        commands::servers::key_host_reads,
        commands::servers::all_host_reads,
        commands::agent::agent_bots,
        commands::agent::issue_agent_bot,
        commands::agent::copy_agent_placeholder,
        commands::agent::forget_agent_placeholder,
        commands::agent::revoke_agent_bot,
    ])
}

/// A 2FA setup begun in a window ends with it: the app stays in the tray, and a begun secret must
/// not wait there for guesses. The page asks too (`guard_cancel_enrollment`); this holds when it
/// cannot (the web process gone, a script that skips it).
fn cancel_enrollment_on_close<R: Runtime>(window: &tauri::Window<R>, event: &tauri::WindowEvent) {
    if !matches!(event, tauri::WindowEvent::Destroyed) {
        return;
    }
    let Ok(core) = tauri::Manager::state::<AppState>(window).core() else { return };
    tauri::async_runtime::spawn_blocking(move || {
        if let Err(e) = core.guard.cancel_enrollment(chrono::Utc::now()) {
            tracing::warn!(error = %e, "could not cancel a begun 2FA setup");
        }
    });
}

/// WebKitGTK composites pages on the GPU by default. Latchkey's page is a flat document that gains
/// nothing from it, and compositing cost it ~100 MiB of PSS in the web process and a slow first
/// composited frame (BENCHMARKS.md); some GPU drivers also show a blank window with it. Painting on
/// the CPU is WebKit's own switch. A user who sets the variable keeps their choice (`=0` brings the
/// GPU path back).
#[cfg(target_os = "linux")]
fn paint_on_cpu() {
    const VAR: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";
    // Called first in `run`, before any thread exists that could read the environment.
    if std::env::var_os(VAR).is_none() {
        std::env::set_var(VAR, "1");
    }
}

pub fn run() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let launch = window::Launch::from_args(&args);
    if launch == window::Launch::Tray {
        // Before any toolkit is touched: the tray-resident process loads none.
        let e = resident::become_resident();
        eprintln!("Latchkey could not start its tray part ({}): {e}", resident::RESIDENT_PROGRAM);
        std::process::exit(1);
    }
    #[cfg(target_os = "linux")]
    paint_on_cpu();
    let data_dir = latchkey_core::paths::data_dir();
    // Owner-only, and everything in it tightened, before the first file (the log) is written there.
    let private = data_dir.as_deref().map(latchkey_core::paths::prepare_private_dir);
    latchkey_core::logfile::init(data_dir.as_deref().filter(|_| matches!(private, Some(Ok(())))), "latchkey.log");
    if let Some(Err(e)) = &private {
        // The store's own open reports it to the window too.
        tracing::error!(error = %e, "could not make the data folder private");
    }
    let state = AppState::open(data_dir);
    let core = state.core().ok();
    let builder = Builder::default()
        // First, so a second launch only reaches the running one (the resident's menu and
        // notifications launch this program with what they want shown).
        .plugin(tauri_plugin_single_instance::init(|app, argv, _cwd| {
            window::act(app, window::Launch::from_args(argv.iter().skip(1)), false)
        }))
        // The login entry passes START_IN_TRAY: a login start is the resident alone.
        .plugin(tauri_plugin_autostart::Builder::new().args([window::START_IN_TRAY]).build())
        .setup(move |app| {
            let quitting = launch == window::Launch::Quit;
            if !quitting {
                // Before the window exists: a signal right after it maps must find the handlers.
                window::quit_on_signals(app.handle());
            }
            window::act(app.handle(), launch, true);
            if quitting {
                return Ok(());
            }
            resident::ensure_running();
            if let Some(core) = core {
                // Revokes and rotations a crash interrupted; the resident tries too, and the job
                // lock lets one of them do it.
                tauri::async_runtime::spawn({
                    let core = core.clone();
                    async move { core.resume_interrupted().await }
                });
                store_watch::start(app.handle().clone(), core);
            }
            Ok(())
        });
    match app(builder, state).build(tauri::generate_context!()) {
        // Closing the window ends this process; the resident stays in the tray.
        Ok(app) => app.run(window::on_run_event),
        Err(e) => {
            tracing::error!(error = %e, "Latchkey could not start its window");
            eprintln!("Latchkey could not start its window: {e}");
            std::process::exit(1);
        }
    }
}
