//! A blank Tauri 2 window showing a static page: the baseline Latchkey is measured against.

// No console window on Windows release builds, as in the app.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    if let Err(e) = tauri::Builder::default().run(tauri::generate_context!()) {
        eprintln!("The blank window could not start: {e}");
        std::process::exit(1);
    }
}
