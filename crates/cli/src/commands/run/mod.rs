//! `run LABEL… -- CMD ARGS…`: the child gets the keys in its environment, under the names bots
//! already read, or (`--as FORMAT`) in a private file ([`files`]). This is the one place a secret
//! leaves Latchkey on purpose, and only to the child: nothing is printed, and with `--mask` the
//! child's own output is masked ([`mask`]). The run stays attached: when a key it handed over is
//! rotated, the child follows (`--on-rotate`, [`supervise`]).

mod files;
mod mask;
mod supervise;

use std::collections::{BTreeMap, HashMap};
use std::io::IsTerminal;

use chrono::Utc;
use latchkey_core::audit::{Action, Event, Outcome};
use latchkey_core::handover::{self, OnRotate, Session};
use latchkey_core::model::{Exchange, KeyId, KeyRecord};

use crate::cli::RunArgs;
use crate::ctx::{require_usable, runtime, Ctx};
use crate::error::CliError;

pub(crate) use files::render as render_file;
pub use files::FileFormat;
use supervise::Bot;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Part {
    Key,
    Secret,
    Passphrase,
}

impl Part {
    fn parse(s: &str) -> Option<Part> {
        match s.trim().to_ascii_lowercase().as_str() {
            "key" | "api_key" => Some(Part::Key),
            "secret" | "api_secret" => Some(Part::Secret),
            "passphrase" | "api_passphrase" => Some(Part::Passphrase),
            _ => None,
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            Part::Key => "API_KEY",
            Part::Secret => "API_SECRET",
            Part::Passphrase => "API_PASSPHRASE",
        }
    }
}

fn parts(exchange: Exchange) -> Vec<Part> {
    if exchange.needs_passphrase() {
        vec![Part::Key, Part::Secret, Part::Passphrase]
    } else {
        vec![Part::Key, Part::Secret]
    }
}

/// `OKX_API_KEY`, `BYBIT_API_SECRET`, …
pub fn default_name(exchange: Exchange, part: Part) -> String {
    format!("{}_{}", exchange.as_str().to_ascii_uppercase(), part.suffix())
}

fn valid_var(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Which variable gets which part of which key. Pure: checked before any secret is read.
pub fn plan(
    keys: &[KeyRecord],
    labels: &[String],
    env_names: &[String],
    prefixes: &[String],
) -> Result<BTreeMap<String, (KeyId, Part)>, CliError> {
    let index_of = |label: &str| -> Result<usize, CliError> {
        labels.iter().position(|l| l.eq_ignore_ascii_case(label.trim())).ok_or_else(|| {
            CliError::Usage(format!("'{label}' is not one of the keys given to this run: name it before --."))
        })
    };
    let mut prefix: Vec<String> = vec![String::new(); keys.len()];
    for p in prefixes {
        match p.split_once('=') {
            Some((label, pre)) => prefix[index_of(label)?] = pre.to_owned(),
            None => prefix.iter_mut().for_each(|x| *x = p.clone()),
        }
    }
    let mut names: HashMap<(usize, Part), String> = HashMap::new();
    for (i, key) in keys.iter().enumerate() {
        for part in parts(key.exchange) {
            names.insert((i, part), format!("{}{}", prefix[i], default_name(key.exchange, part)));
        }
    }
    for spec in env_names {
        let usage = || {
            CliError::Usage(format!(
                "--env-name {spec}: write VAR=PART or VAR=LABEL:PART, PART being key, secret or passphrase."
            ))
        };
        let (var, target) = spec.split_once('=').ok_or_else(usage)?;
        let (i, part) = match target.rsplit_once(':') {
            Some((label, part)) => (index_of(label)?, Part::parse(part).ok_or_else(usage)?),
            None if keys.len() == 1 => (0, Part::parse(target).ok_or_else(usage)?),
            None => {
                return Err(CliError::Usage(format!(
                    "--env-name {spec}: several keys are given, so say which one: {var}=LABEL:{target}."
                )))
            }
        };
        if !names.contains_key(&(i, part)) {
            return Err(CliError::Usage(format!("--env-name {spec}: {} keys have no passphrase.", keys[i].exchange)));
        }
        names.insert((i, part), var.trim().to_owned());
    }
    let mut out = BTreeMap::new();
    for ((i, part), name) in names {
        if !valid_var(&name) {
            return Err(CliError::Usage(format!(
                "'{name}' is not a usable environment variable name: use letters, digits and _."
            )));
        }
        if out.insert(name.clone(), (keys[i].id, part)).is_some() {
            return Err(CliError::Usage(format!(
                "Two keys would both set {name}: give one a prefix, e.g. --prefix {}=SECOND_.",
                keys[i].label
            )));
        }
    }
    Ok(out)
}

pub fn run(ctx: &Ctx, args: RunArgs) -> Result<u8, CliError> {
    let on_rotate =
        OnRotate::parse(&args.on_rotate, args.format.is_some()).map_err(|e| CliError::Usage(e.to_string()))?;
    let mut keys = Vec::new();
    for label in &args.labels {
        let key = ctx.find_key(label)?;
        require_usable(&key)?;
        if keys.iter().any(|k: &KeyRecord| k.id == key.id) {
            return Err(CliError::Usage(format!("Key '{}' is given twice.", key.label)));
        }
        keys.push(key);
    }
    if args.format.is_some() && keys.len() != 1 {
        return Err(CliError::Usage("--as writes one key to one file: give one key, or run once per key.".to_owned()));
    }
    let plan = plan(&keys, &args.labels, &args.env_names, &args.prefixes)?;
    let program = args
        .command
        .first()
        .ok_or_else(|| CliError::Usage("Give the command to run after --, e.g. `-- python bot.py`.".to_owned()))?;
    let program_name = std::path::Path::new(program)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| program.clone());
    // Only keys the user allowed for bots leave Latchkey, and never a master of other keys.
    for key in &keys {
        latchkey_core::bots::check_run(key, ctx.bots.sub_keys(key.id)?, &program_name)?;
    }
    // Masked by default where a person watches: a terminal.
    let mask = !args.no_mask && (args.mask || std::io::stdout().is_terminal());
    let stop_grace = std::time::Duration::from_secs(args.stop_grace);
    let mut bot = Bot::new(
        ctx,
        &args.command,
        program_name.clone(),
        keys.clone(),
        plan.clone(),
        args.format,
        mask,
        on_rotate,
        stop_grace,
    );

    let rt = runtime()?;
    let _in_runtime = rt.enter();
    let credentials = bot.prepare()?;
    // Listening before the child starts: a signal sent while the audit entry is written below
    // waits for the child instead of killing us and leaving it orphaned.
    let signals = Signals::listen().map_err(CliError::io("Could not listen for signals"))?;
    let running = match bot.spawn(credentials) {
        Ok(running) => running,
        // Nothing started, so nothing was given to anyone: no "given to" entry, a failed run.
        Err(e) => {
            record_not_started(ctx, &keys, &program_name, &e)?;
            return spawn_failed(program, e);
        }
    };
    let session = Session::new(&program_name);
    // The child runs and holds the keys: now it is true that they were given to it.
    let given = record_given(ctx, &keys, &plan, bot.file.as_ref().map(|f| f.path()), &program_name).and_then(|()| {
        Ok(handover::register(ctx.vault.store(), &session, &keys.iter().map(|k| k.id).collect::<Vec<_>>(), Utc::now())?)
    });
    if let Err(e) = given {
        // A key must not leave unrecorded: stop the child rather than let it trade unaudited.
        let mut running = running;
        let _ = rt.block_on(running.child.kill());
        return Err(e);
    }
    let status = rt.block_on(bot.supervise(running, signals, &session));
    if let Err(e) = handover::unregister(ctx.vault.store(), &session) {
        eprintln!(
            "latchkey: could not record that the run ended ({e}); a rotation will wait {}s for it.",
            handover::STALE_AFTER.as_secs()
        );
    }
    // The key file goes with the run.
    drop(bot);
    Ok(exit_code(status?))
}

fn record_given(
    ctx: &Ctx,
    keys: &[KeyRecord],
    plan: &BTreeMap<String, (KeyId, Part)>,
    file: Option<&std::path::Path>,
    program_name: &str,
) -> Result<(), CliError> {
    for key in keys {
        let vars: Vec<&str> = plan.iter().filter(|(_, (id, _))| *id == key.id).map(|(n, _)| n.as_str()).collect();
        let how = match file {
            Some(path) => format!("in the file {}", path.display()),
            None => format!("as {}", vars.join(", ")),
        };
        let event = Event {
            at: Utc::now(),
            action: Action::Run,
            key_id: Some(key.id),
            label: Some(&key.label),
            outcome: Outcome::Ok,
            detail: format!("given to `{program_name}` {how}"),
        };
        ctx.vault.store().record(&event)?;
    }
    Ok(())
}

fn record_not_started(ctx: &Ctx, keys: &[KeyRecord], program_name: &str, e: &std::io::Error) -> Result<(), CliError> {
    let why = match e.kind() {
        std::io::ErrorKind::NotFound => "not found".to_owned(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => e.to_string(),
    };
    for key in keys {
        let event = Event {
            at: Utc::now(),
            action: Action::Run,
            key_id: Some(key.id),
            label: Some(&key.label),
            outcome: Outcome::Failed,
            detail: format!("`{program_name}` could not start ({why}); the key was given to nothing"),
        };
        ctx.vault.store().record(&event)?;
    }
    Ok(())
}

fn spawn_failed(program: &str, e: std::io::Error) -> Result<u8, CliError> {
    match e.kind() {
        std::io::ErrorKind::NotFound => {
            eprintln!("latchkey: `{program}` was not found: check the command name and your PATH.");
            Ok(127)
        }
        std::io::ErrorKind::PermissionDenied => {
            eprintln!("latchkey: `{program}` cannot be executed (permission denied): check that it is a program and executable.");
            Ok(126)
        }
        _ => Err(CliError::Io { context: format!("Could not run `{program}`"), source: e }),
    }
}

/// SIGINT, SIGTERM and SIGHUP, caught for the child.
#[cfg(unix)]
pub struct Signals {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

#[cfg(unix)]
pub type Sig = nix::sys::signal::Signal;

#[cfg(unix)]
impl Signals {
    fn listen() -> std::io::Result<Signals> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Signals {
            int: signal(SignalKind::interrupt())?,
            term: signal(SignalKind::terminate())?,
            hup: signal(SignalKind::hangup())?,
        })
    }

    /// The next signal to pass on to the child.
    pub async fn recv(&mut self) -> Option<Sig> {
        tokio::select! {
            _ = self.int.recv() => Some(Sig::SIGINT),
            _ = self.term.recv() => Some(Sig::SIGTERM),
            _ = self.hup.recv() => Some(Sig::SIGHUP),
        }
    }
}

#[cfg(not(unix))]
pub struct Signals;

#[cfg(not(unix))]
pub type Sig = ();

#[cfg(not(unix))]
impl Signals {
    fn listen() -> std::io::Result<Signals> {
        Ok(Signals)
    }

    pub async fn recv(&mut self) -> Option<Sig> {
        std::future::pending().await
    }
}

fn exit_code(status: std::process::ExitStatus) -> u8 {
    if let Some(code) = status.code() {
        return u8::try_from(code & 0xff).unwrap_or(1);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return u8::try_from(128 + sig).unwrap_or(255);
        }
    }
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(exchange: Exchange, label: &str) -> KeyRecord {
        KeyRecord::sample(exchange, label, Utc::now(), 90)
    }

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn default_names_per_exchange() {
        let keys = [key(Exchange::Okx, "a"), key(Exchange::Bybit, "b")];
        let p = plan(&keys, &s(&["a", "b"]), &[], &[]).unwrap();
        let names: Vec<&str> = p.keys().map(String::as_str).collect();
        assert_eq!(names, ["BYBIT_API_KEY", "BYBIT_API_SECRET", "OKX_API_KEY", "OKX_API_PASSPHRASE", "OKX_API_SECRET"]);
        assert_eq!(default_name(Exchange::Binance, Part::Secret), "BINANCE_API_SECRET");
    }

    #[test]
    fn two_keys_of_one_exchange_need_a_prefix() {
        let keys = [key(Exchange::Okx, "main"), key(Exchange::Okx, "hedge")];
        let labels = s(&["main", "hedge"]);
        let err = plan(&keys, &labels, &[], &[]).unwrap_err();
        assert!(matches!(&err, CliError::Usage(m) if m.contains("--prefix")), "{err}");
        let p = plan(&keys, &labels, &[], &s(&["hedge=HEDGE_"])).unwrap();
        assert_eq!(p["HEDGE_OKX_API_SECRET"], (keys[1].id, Part::Secret));
        assert_eq!(p["OKX_API_SECRET"], (keys[0].id, Part::Secret));
    }

    #[test]
    fn env_names_override_one_part() {
        let keys = [key(Exchange::Bybit, "b")];
        let p = plan(&keys, &s(&["b"]), &s(&["MY_SECRET=secret"]), &s(&["X_"])).unwrap();
        assert_eq!(p.keys().map(String::as_str).collect::<Vec<_>>(), ["MY_SECRET", "X_BYBIT_API_KEY"]);
        assert!(plan(&keys, &s(&["b"]), &s(&["P=passphrase"]), &[]).is_err(), "Bybit has no passphrase");
        assert!(plan(&keys, &s(&["b"]), &s(&["1BAD=key"]), &[]).is_err());
        assert!(plan(&keys, &s(&["b"]), &s(&["V=other:key"]), &[]).is_err());
        let two = [key(Exchange::Okx, "a"), key(Exchange::Bybit, "b")];
        assert!(plan(&two, &s(&["a", "b"]), &s(&["V=key"]), &[]).is_err(), "which key?");
        assert!(plan(&two, &s(&["a", "b"]), &s(&["V=B:key"]), &[]).is_ok());
    }
}
