//! `run LABEL… -- CMD ARGS…`: the child gets the keys in its environment, under the names bots
//! already read, or (`--as FORMAT`) in a private file ([`files`]). This is the one place a secret
//! leaves Latchkey on purpose, and only to the child: nothing is printed, and with `--mask` the
//! child's own output is masked ([`mask`]). The run stays attached: when a key it handed over is
//! rotated, the child follows (`--on-rotate`, [`supervise`]).
//!
//! The keys come from this machine's Latchkey ([`local`]) or, on a headless server, from OpenBao
//! (`--from openbao`, [`openbao`]); both feed the same supervisor through [`source::KeySource`].

mod files;
mod local;
mod mask;
pub(crate) mod openbao;
mod source;
mod supervise;

use std::collections::{BTreeMap, HashMap};
use std::io::IsTerminal;
use std::path::Path;
use std::time::Duration;

use latchkey_core::handover::OnRotate;
use latchkey_core::model::{Exchange, KeyRecord};
use latchkey_core::servers::ServerSettings;

use crate::cli::{BaoHostArgs, KeysFrom, RunArgs};
use crate::ctx::{require_usable, runtime, Ctx};
use crate::error::CliError;

pub(crate) use files::render as render_file;
pub use files::FileFormat;
pub(crate) use source::Handed;
use source::KeySource;
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
    keys: &[Handed],
    labels: &[String],
    env_names: &[String],
    prefixes: &[String],
) -> Result<BTreeMap<String, (usize, Part)>, CliError> {
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
        if out.insert(name.clone(), (i, part)).is_some() {
            return Err(CliError::Usage(format!(
                "Two keys would both set {name}: give one a prefix, e.g. --prefix {}=SECOND_.",
                keys[i].label
            )));
        }
    }
    Ok(out)
}

/// What the command line says about the child, checked before any secret is read.
struct Child {
    on_rotate: OnRotate,
    program_name: String,
}

fn child_of(args: &RunArgs) -> Result<Child, CliError> {
    let on_rotate =
        OnRotate::parse(&args.on_rotate, args.format.is_some()).map_err(|e| CliError::Usage(e.to_string()))?;
    if args.format.is_some() && args.labels.len() != 1 {
        return Err(CliError::Usage("--as writes one key to one file: give one key, or run once per key.".to_owned()));
    }
    let program = args
        .command
        .first()
        .ok_or_else(|| CliError::Usage("Give the command to run after --, e.g. `-- python bot.py`.".to_owned()))?;
    let program_name =
        Path::new(program).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| program.clone());
    Ok(Child { on_rotate, program_name })
}

pub fn run(args: RunArgs) -> Result<u8, CliError> {
    let child = child_of(&args)?;
    match args.from {
        KeysFrom::Local => {
            if let Some(flag) = openbao_flag(&args.bao) {
                return Err(CliError::Usage(format!("{flag} is for `--from openbao`: add it, or leave {flag} out.")));
            }
            let ctx = Ctx::open()?;
            let mut keys = Vec::new();
            for label in &args.labels {
                let key = ctx.find_key(label)?;
                require_usable(&key)?;
                if keys.iter().any(|k: &KeyRecord| k.id == key.id) {
                    return Err(CliError::Usage(format!("Key '{}' is given twice.", key.label)));
                }
                keys.push(key);
            }
            // Only keys the user allowed for bots leave Latchkey, and never a master of other keys.
            for key in &keys {
                latchkey_core::bots::check_run(key, ctx.bots.sub_keys(key.id)?, &child.program_name)?;
            }
            let mut source = local::LocalSource::new(&ctx, keys, &child.program_name);
            let bot = bot(&args, &child, source.keys().to_vec())?;
            let rt = runtime()?;
            let _in_runtime = rt.enter();
            rt.block_on(drive(&mut source, bot))
        }
        KeysFrom::Openbao => {
            let sign_in = sign_in(&args.bao)?;
            let poll = poll_interval(args.bao.poll)?;
            let labels = args
                .labels
                .iter()
                .map(|l| latchkey_core::servers::kv::label_segment(l).map(str::to_owned))
                .collect::<Result<Vec<_>, _>>()?;
            if let Some((_, label)) = labels.iter().enumerate().find(|(i, l)| labels[..*i].contains(l)) {
                return Err(CliError::Usage(format!("Key '{label}' is given twice.")));
            }
            trial_plan(&args)?;
            let rt = runtime()?;
            let _in_runtime = rt.enter();
            rt.block_on(async {
                let mut source = openbao::BaoSource::start(sign_in, &labels, poll).await?;
                let bot = bot(&args, &child, source.keys().to_vec())?;
                drive(&mut source, bot).await
            })
        }
    }
}

/// Checks `--env-name` and `--prefix` before the enrolment token is used (it works once), while
/// the keys' exchanges are not known yet: as if each had a passphrase, and without the clash of
/// two keys' default names, which only their real exchanges decide.
fn trial_plan(args: &RunArgs) -> Result<(), CliError> {
    // Any exchange with a passphrase stands in, so a passphrase name is accepted.
    let exchange = Exchange::ALL.into_iter().find(|e| e.needs_passphrase()).unwrap_or(Exchange::ALL[0]);
    let keys: Vec<Handed> =
        args.labels.iter().map(|l| Handed { label: l.clone(), exchange, hint: String::new() }).collect();
    match plan(&keys, &args.labels, &args.env_names, &args.prefixes) {
        Err(CliError::Usage(m)) if m.starts_with("Two keys would both set") => Ok(()),
        other => other.map(drop),
    }
}

/// An OpenBao-only flag given without `--from openbao`.
pub(crate) fn openbao_flag(args: &BaoHostArgs) -> Option<&'static str> {
    [
        (args.addr.is_some(), "--addr"),
        (args.mount.is_some(), "--mount"),
        (args.path_prefix.is_some(), "--path-prefix"),
        (args.ca_file.is_some(), "--ca-file"),
        (args.role_id.is_some(), "--role-id"),
        (args.role_id_file.is_some(), "--role-id-file"),
        (args.secret_id_file.is_some(), "--secret-id-file"),
        (args.poll.is_some(), "--poll"),
    ]
    .into_iter()
    .find_map(|(given, flag)| given.then_some(flag))
}

pub(crate) fn poll_interval(poll: Option<f64>) -> Result<Duration, CliError> {
    let Some(secs) = poll else { return Ok(openbao::DEFAULT_POLL) };
    if !(0.2..=3600.0).contains(&secs) {
        return Err(CliError::Usage(format!(
            "--poll {secs}: give the seconds between two looks at the keys' versions, from 0.2 to 3600 (2 by default)."
        )));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Where and how the host signs in, from the command line (the files are read, not yet used).
pub(crate) fn sign_in(args: &BaoHostArgs) -> Result<openbao::SignIn, CliError> {
    let addr = args.addr.as_deref().ok_or_else(|| {
        CliError::Usage("--from openbao needs the server's address: --addr https://bao.example.com:8200.".to_owned())
    })?;
    let mut settings = ServerSettings::new(addr)?;
    if let Some(m) = &args.mount {
        settings.mount = m.clone();
    }
    if let Some(p) = &args.path_prefix {
        settings.prefix = p.clone();
    }
    settings.ca_file = args.ca_file.clone();
    let settings = settings.validate()?;
    let role_id = match (&args.role_id, &args.role_id_file) {
        (Some(id), None) => id.trim().to_owned(),
        (None, Some(path)) => std::fs::read_to_string(path)
            .map_err(CliError::io(format!("Could not read the role-id file {}", path.display())))?
            .trim()
            .to_owned(),
        _ => {
            return Err(CliError::Usage(
                "--from openbao needs the host's role-id: --role-id ID or --role-id-file FILE (what `latchkey host add` printed).".to_owned(),
            ))
        }
    };
    if role_id.is_empty() || role_id.contains(char::is_whitespace) {
        return Err(CliError::Usage(
            "The role-id is empty or has spaces: give exactly the roleId `latchkey host add` printed.".to_owned(),
        ));
    }
    let secret_id_file = args.secret_id_file.clone().ok_or_else(|| {
        CliError::Usage(
            "--from openbao needs --secret-id-file FILE: the file holding the wrapped secret-id `latchkey host add` printed.".to_owned(),
        )
    })?;
    Ok(openbao::SignIn { settings, role_id, secret_id_file })
}

fn bot(args: &RunArgs, child: &Child, keys: Vec<Handed>) -> Result<Bot, CliError> {
    let plan = plan(&keys, &args.labels, &args.env_names, &args.prefixes)?;
    // Masked by default where a person watches: a terminal.
    let mask = !args.no_mask && (args.mask || std::io::stdout().is_terminal());
    Ok(Bot::new(
        &args.command,
        child.program_name.clone(),
        keys,
        plan,
        args.format,
        mask,
        child.on_rotate,
        Duration::from_secs(args.stop_grace),
    ))
}

/// Starts the child with the source's keys and keeps it until it ends: one path for every source.
async fn drive<S: KeySource>(source: &mut S, mut bot: Bot) -> Result<u8, CliError> {
    let credentials = source.credentials().await?;
    bot.prepare(&credentials)?;
    // Listening before the child starts: a signal sent while the handover is recorded below
    // waits for the child instead of killing us and leaving it orphaned.
    let signals = Signals::listen().map_err(CliError::io("Could not listen for signals"))?;
    let mut running = match bot.spawn(credentials) {
        Ok(running) => running,
        // Nothing started, so nothing was given to anyone: no "given to" entry, a failed run.
        Err(e) => {
            source.not_started(&bot.program_name, &e).await?;
            return spawn_failed(&bot.program, e);
        }
    };
    // The child runs and holds the keys: now it is true that they were given to it.
    if let Err(e) = source.given(&bot.given()).await {
        // A key must not leave unrecorded: stop the child rather than let it trade unaudited.
        let _ = running.child.kill().await;
        source.ended().await;
        return Err(e);
    }
    let status = bot.supervise(source, running, signals).await;
    source.ended().await;
    // The key file goes with the run.
    drop(bot);
    Ok(exit_code(status?))
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

    fn key(exchange: Exchange, label: &str) -> Handed {
        Handed { label: label.into(), exchange, hint: String::new() }
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
        assert_eq!(p["HEDGE_OKX_API_SECRET"], (1, Part::Secret));
        assert_eq!(p["OKX_API_SECRET"], (0, Part::Secret));
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
