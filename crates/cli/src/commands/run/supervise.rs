//! The child of `latchkey run`, kept: started with its keys, watched while it runs, and when its
//! key source reports a new version of one of its keys, moved to it as `--on-rotate` says (see
//! [`OnRotate`]); when the source says a key must not be used any more, stopped. The source
//! ([`super::source`]) records every move: the local one for the rotation, which retires the old
//! key only once every attached run moved ([`latchkey_core::handover`]); OpenBao's for the desktop.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use latchkey_core::handover::OnRotate;
use latchkey_core::secret::Credentials;
use secrecy::ExposeSecret;

use super::files::{self, KeyFile};
use super::mask::{self, Masker};
use super::source::{Change, Given, Handed, KeySource, Rotation};
use super::{Part, Signals};
use crate::error::CliError;
use crate::input;

/// What the run gives its child, and how.
pub struct Bot {
    pub program: String,
    pub program_args: Vec<String>,
    pub program_name: String,
    pub keys: Vec<Handed>,
    /// Variable → which part of which key (unused with `--as`).
    pub plan: BTreeMap<String, (usize, Part)>,
    pub format: Option<files::FileFormat>,
    pub mask: bool,
    pub on_rotate: OnRotate,
    pub stop_grace: Duration,
    pub file: Option<KeyFile>,
    pub masker: Arc<Masker>,
}

/// A started child and the tasks copying its output (when masked).
pub struct Running {
    pub child: tokio::process::Child,
    output: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Lets the output tasks write what the child wrote before it ended.
    async fn drain(&mut self) {
        for task in self.output.drain(..) {
            let _ = task.await;
        }
    }
}

impl Bot {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        command: &[String],
        program_name: String,
        keys: Vec<Handed>,
        plan: BTreeMap<String, (usize, Part)>,
        format: Option<files::FileFormat>,
        mask: bool,
        on_rotate: OnRotate,
        stop_grace: Duration,
    ) -> Self {
        Bot {
            program: command[0].clone(),
            program_args: command[1..].to_vec(),
            program_name,
            keys,
            plan,
            format,
            mask,
            on_rotate,
            stop_grace,
            file: None,
            masker: Arc::new(Masker::default()),
        }
    }

    pub fn given(&self) -> Given<'_> {
        Given { program: &self.program_name, plan: &self.plan, file: self.file.as_ref().map(KeyFile::path) }
    }

    /// Readies what the child gets from these credentials (one per key): the file, the masks.
    pub fn prepare(&mut self, credentials: &[Credentials]) -> Result<(), CliError> {
        if let Some(format) = self.format {
            let key = &self.keys[0];
            match &self.file {
                Some(file) => file.write(key, &credentials[0])?,
                None => self.file = Some(KeyFile::create(format, key, &credentials[0])?),
            }
        }
        if self.mask {
            // A new masker for the new child; the old child's output tasks keep theirs.
            let mut masker = (*self.masker).clone();
            for (key, c) in self.keys.iter().zip(credentials) {
                masker.add(&key.label, c);
            }
            self.masker = Arc::new(masker);
        }
        Ok(())
    }

    /// Starts the child with the credentials [`Bot::prepare`] readied.
    pub fn spawn(&self, credentials: Vec<Credentials>) -> std::io::Result<Running> {
        let path = self.file.as_ref().map(KeyFile::path);
        let mut command = tokio::process::Command::new(&self.program);
        command.args(files::substitute(&self.program_args, path));
        // The CLI's own inputs are not the child's business.
        for var in [input::ENV_KEY, input::ENV_SECRET, input::ENV_PASSPHRASE] {
            command.env_remove(var);
        }
        match path {
            // With a file, the secret goes one way only: the file, not the environment too.
            Some(path) => {
                command.env(files::PATH_VAR, path);
            }
            None => {
                for (name, (index, part)) in &self.plan {
                    let Some(c) = credentials.get(*index) else { continue };
                    // EXPOSE: into the child's environment only; this is what `run` is for.
                    let value = match part {
                        Part::Key => Some(c.api_key.expose_secret()),
                        Part::Secret => Some(c.api_secret.expose_secret()),
                        Part::Passphrase => c.passphrase.as_ref().map(|p| p.expose_secret()),
                    };
                    if let Some(v) = value {
                        command.env(name, v);
                    }
                }
            }
        }
        drop(credentials);
        if self.mask {
            command.stdout(Stdio::piped()).stderr(Stdio::piped());
        }
        let mut child = command.spawn()?;
        drop(command);
        let mut output = Vec::new();
        if let Some(out) = child.stdout.take() {
            let masker = self.masker.clone();
            output.push(tokio::spawn(async move { mask::copy(&masker, out, tokio::io::stdout()).await }));
        }
        if let Some(err) = child.stderr.take() {
            let masker = self.masker.clone();
            output.push(tokio::spawn(async move { mask::copy(&masker, err, tokio::io::stderr()).await }));
        }
        Ok(Running { child, output })
    }

    /// Watches the child until it ends: forwards signals, follows the source's changes.
    pub async fn supervise<S: KeySource>(
        &mut self,
        source: &mut S,
        mut running: Running,
        mut signals: Signals,
    ) -> Result<std::process::ExitStatus, CliError> {
        loop {
            let change = tokio::select! {
                status = running.child.wait() => {
                    let status = status.map_err(|e| CliError::Io { context: format!("Could not wait for `{}`", self.program), source: e })?;
                    running.drain().await;
                    return Ok(status);
                }
                signal = signals.recv() => {
                    forward(&running.child, signal);
                    continue;
                }
                change = source.next_change(&self.program_name) => change,
            };
            let change = match change {
                Ok(change) => change,
                Err(e) => {
                    // The run cannot go on watching: the child must not run on unwatched.
                    self.stop(&mut running).await;
                    return Err(e);
                }
            };
            match change {
                None => {}
                Some(Change::Rotated(rotation)) => running = self.follow(source, running, rotation).await?,
                Some(Change::Stop(reason)) => {
                    self.stop(&mut running).await;
                    return Err(CliError::Failed(reason));
                }
            }
        }
    }

    async fn stop(&self, running: &mut Running) {
        stop(&mut running.child, self.stop_grace).await;
        running.drain().await;
    }

    /// Moves the child to the rotation's successor.
    async fn follow<S: KeySource>(
        &mut self,
        source: &mut S,
        mut running: Running,
        rotation: Rotation<S::Next>,
    ) -> Result<Running, CliError> {
        let Rotation { index, new, credentials, next } = rotation;
        let label = new.label.clone();
        if self.on_rotate == OnRotate::Nothing {
            eprintln!(
                "latchkey: '{label}' was rotated; `{}` keeps the old key (--on-rotate none) until it ends, and the old key is deleted after the rotation's grace period.",
                self.program_name
            );
            source.kept_old(index, next);
            return Ok(running);
        }
        let old = std::mem::replace(&mut self.keys[index], new);
        if let Err(e) = self.prepare(&credentials) {
            self.keys[index] = old;
            return Err(e);
        }
        match self.on_rotate {
            OnRotate::Restart => {
                eprintln!("latchkey: '{label}' was rotated; restarting `{}` with the new key.", self.program_name);
                self.stop(&mut running).await;
                running = self.spawn(credentials).map_err(|e| CliError::Io {
                    context: format!(
                        "`{}` stopped for the rotation of '{label}' and could not be started again",
                        self.program
                    ),
                    source: e,
                })?;
            }
            OnRotate::Signal(name) => {
                drop(credentials);
                eprintln!(
                    "latchkey: '{label}' was rotated; the key file has the new key, sending SIG{name} to `{}`.",
                    self.program_name
                );
                forward(&running.child, signal_named(name));
            }
            OnRotate::Nothing => drop(credentials),
        }
        let how = self.on_rotate.describe();
        let given =
            Given { program: &self.program_name, plan: &self.plan, file: self.file.as_ref().map(KeyFile::path) };
        source.moved(index, next, &given, how).await?;
        Ok(running)
    }
}

/// SIGTERM, then SIGKILL once `grace` is over.
async fn stop(child: &mut tokio::process::Child, grace: Duration) {
    #[cfg(unix)]
    forward(child, Some(nix::sys::signal::Signal::SIGTERM));
    #[cfg(not(unix))]
    let _ = grace;
    #[cfg(unix)]
    if tokio::time::timeout(grace, child.wait()).await.is_ok() {
        return;
    }
    let _ = child.kill().await;
}

/// The signal `--on-rotate signal:NAME` names ([`handover::RELOAD_SIGNALS`]).
#[cfg(unix)]
fn signal_named(name: &str) -> Option<super::Sig> {
    format!("SIG{name}").parse().ok()
}

#[cfg(not(unix))]
fn signal_named(_name: &str) -> Option<super::Sig> {
    None
}

#[cfg(unix)]
fn forward(child: &tokio::process::Child, signal: Option<nix::sys::signal::Signal>) {
    use nix::unistd::Pid;
    let (Some(signal), Some(pid)) = (signal, child.id().and_then(|p| i32::try_from(p).ok())) else { return };
    // The child may have exited meanwhile; then there is nobody to tell.
    let _ = nix::sys::signal::kill(Pid::from_raw(pid), signal);
}

#[cfg(not(unix))]
fn forward(_child: &tokio::process::Child, _signal: Option<super::Sig>) {}
