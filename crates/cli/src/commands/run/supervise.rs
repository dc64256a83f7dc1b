//! The child of `latchkey run`, kept: started with its keys, watched while it runs, and when one
//! of its keys is rotated, moved to the new key as `--on-rotate` says (see [`OnRotate`]). Every
//! move is audited and recorded for the rotation, which retires the old key only once every
//! attached run moved ([`latchkey_core::handover`]).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use latchkey_core::audit::{Action, Event, Outcome};
use latchkey_core::handover::{self, OnRotate, Session};
use latchkey_core::model::{KeyId, KeyRecord};
use latchkey_core::secret::Credentials;
use secrecy::ExposeSecret;

use super::files::{self, KeyFile};
use super::mask::{self, Masker};
use super::{Part, Signals};
use crate::ctx::Ctx;
use crate::error::CliError;
use crate::input;

/// What the run gives its child, and how.
pub struct Bot<'a> {
    pub ctx: &'a Ctx,
    pub program: String,
    pub program_args: Vec<String>,
    pub program_name: String,
    pub keys: Vec<KeyRecord>,
    /// Variable → which part of which key (unused with `--as`).
    pub plan: BTreeMap<String, (KeyId, Part)>,
    pub format: Option<files::FileFormat>,
    pub mask: bool,
    pub on_rotate: OnRotate,
    pub stop_grace: Duration,
    pub file: Option<KeyFile>,
    pub masker: Arc<Masker>,
    /// Successors this run will not move to (not allowed for bots, or `--on-rotate none`).
    declined: HashSet<KeyId>,
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

impl<'a> Bot<'a> {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        ctx: &'a Ctx,
        command: &[String],
        program_name: String,
        keys: Vec<KeyRecord>,
        plan: BTreeMap<String, (KeyId, Part)>,
        format: Option<files::FileFormat>,
        mask: bool,
        on_rotate: OnRotate,
        stop_grace: Duration,
    ) -> Self {
        Bot {
            ctx,
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
            declined: HashSet::new(),
        }
    }

    fn credentials(&self) -> Result<HashMap<KeyId, Credentials>, CliError> {
        let mut all = HashMap::new();
        for key in &self.keys {
            all.insert(key.id, self.ctx.vault.credentials(key.id)?);
        }
        Ok(all)
    }

    /// Reads the keys' secrets and readies what the child gets: the file, the masks.
    pub fn prepare(&mut self) -> Result<HashMap<KeyId, Credentials>, CliError> {
        let credentials = self.credentials()?;
        if let Some(format) = self.format {
            let key = &self.keys[0];
            match &self.file {
                Some(file) => file.write(key, &credentials[&key.id])?,
                None => self.file = Some(KeyFile::create(format, key, &credentials[&key.id])?),
            }
        }
        if self.mask {
            // A new masker for the new child; the old child's output tasks keep theirs.
            let mut masker = (*self.masker).clone();
            for key in &self.keys {
                masker.add(&key.label, &credentials[&key.id]);
            }
            self.masker = Arc::new(masker);
        }
        Ok(credentials)
    }

    /// Starts the child with the credentials [`Bot::prepare`] read.
    pub fn spawn(&self, credentials: HashMap<KeyId, Credentials>) -> std::io::Result<Running> {
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
                for (name, (id, part)) in &self.plan {
                    let Some(c) = credentials.get(id) else { continue };
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

    /// Watches the child until it ends: forwards signals, beats the heartbeat, follows rotations.
    pub async fn supervise(
        &mut self,
        mut running: Running,
        mut signals: Signals,
        session: &Session,
    ) -> Result<std::process::ExitStatus, CliError> {
        let store = self.ctx.vault.store();
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        let mut beat = tokio::time::Instant::now();
        loop {
            tokio::select! {
                status = running.child.wait() => {
                    let status = status.map_err(|e| CliError::Io { context: format!("Could not wait for `{}`", self.program), source: e })?;
                    running.drain().await;
                    return Ok(status);
                }
                signal = signals.recv() => forward(&running.child, signal),
                _ = tick.tick() => {
                    if beat.elapsed() >= handover::HEARTBEAT {
                        beat = tokio::time::Instant::now();
                        if let Err(e) = handover::heartbeat(store, session, Utc::now()) {
                            eprintln!("latchkey: could not record that `{}` still runs ({e}); a rotation may retire its key before it moves.", self.program_name);
                        }
                    }
                    if let Some((index, new)) = self.rotated()? {
                        running = self.follow(running, index, new, session).await?;
                    }
                }
            }
        }
    }

    /// A key of this run that was rotated, with its successor, if the run should move to it.
    fn rotated(&mut self) -> Result<Option<(usize, KeyRecord)>, CliError> {
        for (index, key) in self.keys.iter().enumerate() {
            let Some(new) = handover::successor(self.ctx.vault.store(), key.id)? else { continue };
            if self.declined.contains(&new.id) {
                continue;
            }
            if self.on_rotate == OnRotate::Nothing {
                eprintln!(
                    "latchkey: '{}' was rotated; `{}` keeps the old key (--on-rotate none) until it ends, and the old key is deleted after the rotation's grace period.",
                    key.label, self.program_name
                );
                self.declined.insert(new.id);
                continue;
            }
            let subs = self.ctx.bots.sub_keys(new.id)?;
            if let Err(refused) = latchkey_core::bots::check_run(&new, subs, &self.program_name) {
                eprintln!("latchkey: '{}' was rotated, but the new key cannot be handed over: {refused}", key.label);
                self.declined.insert(new.id);
                continue;
            }
            return Ok(Some((index, new)));
        }
        Ok(None)
    }

    /// Moves the child to `new` in place of `keys[index]`.
    async fn follow(
        &mut self,
        mut running: Running,
        index: usize,
        new: KeyRecord,
        session: &Session,
    ) -> Result<Running, CliError> {
        let old = std::mem::replace(&mut self.keys[index], new.clone());
        for (id, _) in self.plan.values_mut() {
            if *id == old.id {
                *id = new.id;
            }
        }
        let credentials = self.prepare()?;
        match self.on_rotate {
            OnRotate::Restart => {
                eprintln!(
                    "latchkey: '{}' was rotated; restarting `{}` with the new key.",
                    new.label, self.program_name
                );
                stop(&mut running.child, self.stop_grace).await;
                running.drain().await;
                running = self.spawn(credentials).map_err(|e| CliError::Io {
                    context: format!(
                        "`{}` stopped for the rotation of '{}' and could not be started again",
                        self.program, new.label
                    ),
                    source: e,
                })?;
            }
            OnRotate::Signal(name) => {
                drop(credentials);
                eprintln!(
                    "latchkey: '{}' was rotated; the key file has the new key, sending SIG{name} to `{}`.",
                    new.label, self.program_name
                );
                forward(&running.child, signal_named(name));
            }
            OnRotate::Nothing => drop(credentials),
        }
        let store = self.ctx.vault.store();
        handover::moved(store, session, old.id, new.id, Utc::now())?;
        let event = Event {
            at: Utc::now(),
            action: Action::Run,
            key_id: Some(new.id),
            label: Some(&new.label),
            outcome: Outcome::Ok,
            detail: format!(
                "given to `{}` after a rotation ({}; it replaces {})",
                self.program_name,
                self.on_rotate.describe(),
                old.key_hint
            ),
        };
        store.record(&event)?;
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
