// Generates `allow-<command>` permissions for our own commands only; the capability in
// tauri.conf.json grants exactly these, so the web view can call nothing else.
const COMMANDS: &[&str] = &[
    "list_keys",
    "get_key",
    "add_key",
    "delete_key",
    "keychain_status",
    "inspect_credentials",
    "verify_key",
    "guard_status",
    "guard_begin_enrollment",
    "guard_confirm_enrollment",
    "guard_disable",
    "guard_cancel_enrollment",
    "guard_skip_setup",
    "revoke_plan",
    "emergency_revoke",
    "retry_revoke",
    "wipe_locally",
    "confirm_deleted",
    "save_revoke_report",
    "audit_log",
    "reveal_secret",
    "copy_secret",
    "copy_recovery_codes",
    "set_bots_allowed",
    "get_settings",
    "save_settings",
    "snooze_key",
    "inspect_rotation",
    "rotate_key",
    "rotate_now",
    "orphan_keys",
    "restore_orphan",
    "delete_orphan",
    "edit_key",
    "key_fixes",
    "fix_key",
    "sub_accounts",
    "mint_key",
    "servers_status",
    "save_servers",
    "test_servers",
    "deliver_key",
    "undeliver_key",
    "server_hosts",
    "add_server_host",
    "copy_enrolment",
    "forget_enrolment",
    "remove_server_host",
    "key_host_reads",
    "all_host_reads",
];

fn main() {
    let manifest = tauri_build::AppManifest::new().commands(COMMANDS);
    if let Err(e) = tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest)) {
        eprintln!("tauri-build failed: {e:#}");
        std::process::exit(1);
    }
}
