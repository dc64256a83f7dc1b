//! `run --as FORMAT`: the key in a private file, for bots that read files rather than the
//! environment. The file lives on a tmpfs (`$XDG_RUNTIME_DIR`, else `/dev/shm`), in a folder only
//! this user can open, is written 0600 and atomically (a bot never reads half a key), rewritten
//! when the key rotates, and removed when the run ends. A run killed before it could remove its
//! file leaves it on the tmpfs; the next run removes the files of runs that are gone.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::ValueEnum;
use latchkey_core::secret::Credentials;
use secrecy::ExposeSecret;
use serde::Serialize;
use zeroize::Zeroizing;

use super::source::Handed;
use crate::error::CliError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FileFormat {
    /// A second Freqtrade config: `{"exchange": {"key", "secret", "password"}}`, for `freqtrade trade -c config.json -c {file}`
    Freqtrade,
    /// Passivbot's api-keys.json: `{"LABEL": {"exchange", "key", "secret", "passphrase"}}`
    Passivbot,
    /// `{"exchange", "label", "api_key", "api_secret", "passphrase"}`
    Json,
}

/// The placeholder in the command that becomes the file's path.
pub const PLACEHOLDER: &str = "{file}";
/// The child also finds the path in this variable.
pub const PATH_VAR: &str = "LATCHKEY_FILE";

pub struct KeyFile {
    path: PathBuf,
    format: FileFormat,
}

impl KeyFile {
    pub fn create(format: FileFormat, key: &Handed, credentials: &Credentials) -> Result<KeyFile, CliError> {
        let dir = private_dir()?;
        remove_files_of_gone_runs(&dir);
        let path = dir.join(format!("run-{}-{}.json", std::process::id(), uuid::Uuid::new_v4().simple()));
        let file = KeyFile { path, format };
        file.write(key, credentials)?;
        Ok(file)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The key's current credentials, replacing the file's content in one rename.
    pub fn write(&self, key: &Handed, credentials: &Credentials) -> Result<(), CliError> {
        let bytes = render(self.format, key, credentials)?;
        latchkey_core::paths::write_private_file(&self.path, &bytes)
            .map_err(CliError::io(format!("Could not write the key file {}", self.path.display())))
    }
}

impl Drop for KeyFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The file's bytes. Serialized straight into a zeroized buffer big enough not to grow (a growing
/// `Vec` would leave copies of the secret behind in freed memory).
pub(crate) fn render(format: FileFormat, key: &Handed, c: &Credentials) -> Result<Zeroizing<Vec<u8>>, CliError> {
    let (api_key, secret) = (c.api_key.expose_secret(), c.api_secret.expose_secret());
    let passphrase = c.passphrase.as_ref().map(|p| p.expose_secret());
    let mut out =
        Zeroizing::new(Vec::with_capacity(4096 + 2 * (api_key.len() + secret.len() + passphrase.map_or(0, str::len))));
    let exchange = key.exchange.as_str();
    let written = match format {
        FileFormat::Freqtrade => {
            #[derive(Serialize)]
            struct Exchange<'a> {
                key: &'a str,
                secret: &'a str,
                #[serde(skip_serializing_if = "Option::is_none")]
                password: Option<&'a str>,
            }
            #[derive(Serialize)]
            struct Config<'a> {
                exchange: Exchange<'a>,
            }
            serde_json::to_writer_pretty(
                &mut *out,
                &Config { exchange: Exchange { key: api_key, secret, password: passphrase } },
            )
        }
        FileFormat::Passivbot => {
            #[derive(Serialize)]
            struct User<'a> {
                exchange: &'a str,
                key: &'a str,
                secret: &'a str,
                #[serde(skip_serializing_if = "Option::is_none")]
                passphrase: Option<&'a str>,
            }
            let users = std::collections::BTreeMap::from([(
                key.label.as_str(),
                User { exchange, key: api_key, secret, passphrase },
            )]);
            serde_json::to_writer_pretty(&mut *out, &users)
        }
        FileFormat::Json => {
            #[derive(Serialize)]
            struct Key<'a> {
                exchange: &'a str,
                label: &'a str,
                api_key: &'a str,
                api_secret: &'a str,
                #[serde(skip_serializing_if = "Option::is_none")]
                passphrase: Option<&'a str>,
            }
            serde_json::to_writer_pretty(
                &mut *out,
                &Key { exchange, label: &key.label, api_key, api_secret: secret, passphrase },
            )
        }
    };
    written.map_err(|e| CliError::Failed(format!("Could not write the key file: {e}")))?;
    out.write_all(b"\n").map_err(CliError::io("Could not write the key file"))?;
    Ok(out)
}

/// A folder on a tmpfs that only this user can open: the file must never reach a disk.
fn private_dir() -> Result<PathBuf, CliError> {
    let runtime = std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from).filter(|d| d.is_absolute() && d.is_dir());
    let dir = match runtime {
        Some(d) => d.join("latchkey"),
        None if Path::new("/dev/shm").is_dir() => PathBuf::from(format!("/dev/shm/latchkey-{}", user_id())),
        None => {
            return Err(CliError::Failed(
                "There is no private memory-only folder for the key file: set XDG_RUNTIME_DIR (systemd sets it at login) or mount /dev/shm.".to_owned(),
            ))
        }
    };
    latchkey_core::paths::create_private_folder(&dir)
        .map_err(CliError::io(format!("Could not create {}", dir.display())))?;
    check_private(&dir)?;
    Ok(dir)
}

#[cfg(unix)]
fn user_id() -> u32 {
    nix::unistd::getuid().as_raw()
}

#[cfg(not(unix))]
fn user_id() -> u32 {
    0
}

/// The folder must be this user's, a real folder, and closed to everyone else: in /dev/shm
/// another user could have made it first.
#[cfg(unix)]
fn check_private(dir: &Path) -> Result<(), CliError> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let meta = std::fs::symlink_metadata(dir).map_err(CliError::io(format!("Could not read {}", dir.display())))?;
    if !meta.file_type().is_dir() || meta.uid() != user_id() {
        return Err(CliError::Failed(format!(
            "{} is not a folder of yours: Latchkey will not put a key file there. Remove it, or set XDG_RUNTIME_DIR.",
            dir.display()
        )));
    }
    if meta.permissions().mode() & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(CliError::io(format!("Could not make {} private", dir.display())))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_dir: &Path) -> Result<(), CliError> {
    Ok(())
}

/// Files `run-<pid>-….json` whose run is gone (killed before it could remove them).
fn remove_files_of_gone_runs(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let pid = name.strip_prefix("run-").and_then(|rest| rest.split('-').next()).and_then(|p| p.parse::<i32>().ok());
        if pid.is_some_and(|pid| !alive(pid)) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(unix)]
fn alive(pid: i32) -> bool {
    // Signal 0 checks the process exists; EPERM means it exists but is another user's.
    !matches!(nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None), Err(nix::errno::Errno::ESRCH))
}

#[cfg(not(unix))]
fn alive(_pid: i32) -> bool {
    true
}

/// `{file}` in the command's arguments becomes the path.
pub fn substitute(args: &[String], path: Option<&Path>) -> Vec<String> {
    match path {
        Some(p) => args.iter().map(|a| a.replace(PLACEHOLDER, &p.to_string_lossy())).collect(),
        None => args.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use latchkey_core::model::Exchange;
    use secrecy::SecretString;

    fn creds(passphrase: Option<&str>) -> Credentials {
        Credentials {
            api_key: SecretString::from("k-123"),
            api_secret: SecretString::from("s-456"),
            passphrase: passphrase.map(SecretString::from),
        }
    }

    fn json(format: FileFormat, exchange: Exchange, passphrase: Option<&str>) -> serde_json::Value {
        let key = Handed { label: "grid-bot".into(), exchange, hint: String::new() };
        serde_json::from_slice(&render(format, &key, &creds(passphrase)).unwrap()).unwrap()
    }

    #[test]
    fn each_format_is_what_its_bot_reads() {
        assert_eq!(
            json(FileFormat::Freqtrade, Exchange::Okx, Some("p-789")),
            serde_json::json!({"exchange": {"key": "k-123", "secret": "s-456", "password": "p-789"}})
        );
        assert_eq!(
            json(FileFormat::Freqtrade, Exchange::Bybit, None),
            serde_json::json!({"exchange": {"key": "k-123", "secret": "s-456"}})
        );
        assert_eq!(
            json(FileFormat::Passivbot, Exchange::Bybit, None),
            serde_json::json!({"grid-bot": {"exchange": "bybit", "key": "k-123", "secret": "s-456"}})
        );
        assert_eq!(
            json(FileFormat::Json, Exchange::Okx, Some("p-789")),
            serde_json::json!({"exchange": "okx", "label": "grid-bot", "api_key": "k-123", "api_secret": "s-456", "passphrase": "p-789"})
        );
    }

    #[test]
    fn the_placeholder_becomes_the_path() {
        let args = vec!["trade".to_owned(), "-c".to_owned(), "{file}".to_owned(), "--x={file}".to_owned()];
        let got = substitute(&args, Some(Path::new("/run/user/1/latchkey/run-1-a.json")));
        assert_eq!(got, ["trade", "-c", "/run/user/1/latchkey/run-1-a.json", "--x=/run/user/1/latchkey/run-1-a.json"]);
        assert_eq!(substitute(&args, None), args);
    }

    #[test]
    fn files_of_runs_that_are_gone_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let mine = dir.path().join(format!("run-{}-a.json", std::process::id()));
        // Pid numbers wrap far below this on Linux (pid_max is at most 2^22).
        let gone = dir.path().join("run-99999999-b.json");
        let other = dir.path().join("notes.txt");
        for f in [&mine, &gone, &other] {
            std::fs::write(f, "x").unwrap();
        }
        remove_files_of_gone_runs(dir.path());
        assert!(mine.exists() && other.exists() && !gone.exists());
    }
}
