//! Logs go to stderr and to `<data dir>/logs/<file>`: the window writes `latchkey.log`, the
//! tray-resident process `resident.log`. They carry ids, exchanges and outcomes, never a secret:
//! secret types print as redactions and no code path formats a secret value. The log folder and
//! file are owner-only, like the rest of the data dir. `LATCHKEY_LOG` sets the filter.

use std::path::Path;
use std::sync::Mutex;

use tracing_subscriber::fmt::writer::MakeWriterExt;
use tracing_subscriber::EnvFilter;

pub fn init(data_dir: Option<&Path>, file_name: &str) {
    let filter = EnvFilter::try_from_env("LATCHKEY_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let file = data_dir.and_then(|dir| {
        let logs = dir.join("logs");
        crate::paths::create_private_folder(&logs).ok()?;
        crate::paths::private_file_options().create(true).append(true).open(logs.join(file_name)).ok()
    });
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(false);
    let _ = match file {
        Some(f) => builder.with_writer(std::io::stderr.and(Mutex::new(f))).try_init(),
        None => builder.with_writer(std::io::stderr).try_init(),
    };
}
