//! `export LABEL --format freqtrade|passivbot|env`: one key for a pipe, for servers without
//! OpenBao (the README's recipe pipes it over ssh into `systemd-creds encrypt`). The same rules as
//! `run` (an active key bots may use, never a master), a 2FA code, audited, and never to a
//! terminal: a secret on a screen ends up in scrollback, screenshots and shoulder-surfing.

use std::io::{IsTerminal, Write};

use chrono::Utc;
use clap::ValueEnum;
use latchkey_core::audit::{Action, Event, Outcome};
use latchkey_core::model::KeyRecord;
use latchkey_core::secret::Credentials;
use secrecy::ExposeSecret;
use zeroize::Zeroizing;

use crate::cli::ExportArgs;
use crate::commands::run::{default_name, render_file, FileFormat, Handed, Part};
use crate::ctx::{require_usable, Ctx};
use crate::error::{CliError, EXIT_OK};
use crate::input;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// A second Freqtrade config: `{"exchange": {"key", "secret", "password"}}`
    Freqtrade,
    /// Passivbot's api-keys.json: `{"LABEL": {"exchange", "key", "secret", "passphrase"}}`
    Passivbot,
    /// `OKX_API_KEY='…'` lines, for systemd's `EnvironmentFile=` or a shell's `.`
    Env,
}

/// What the receiver of the pipe will be named in the audit log.
const RECEIVER: &str = "export (a pipe)";

pub fn export(ctx: &Ctx, args: ExportArgs) -> Result<u8, CliError> {
    if std::io::stdout().is_terminal() {
        return Err(CliError::Usage(format!(
            "`latchkey export` writes the key for a pipe, not a screen. Pipe it into what keeps it, e.g. \
             `latchkey export {0} --format {1} | ssh vps 'sudo systemd-creds encrypt --name={0} - /etc/credstore.encrypted/{0}'`.",
            args.label.trim(),
            format_name(args.format)
        )));
    }
    let key = ctx.find_key(&args.label)?;
    require_usable(&key)?;
    latchkey_core::bots::check_run(&key, ctx.bots.sub_keys(key.id)?, RECEIVER)?;
    let code = input::code_arg(args.code, "2FA code to export the key: ")?;
    let _proof = ctx.guard.verify_for_action(&code, Utc::now())?;
    let credentials = ctx.vault.credentials(key.id)?;
    let bytes = render(args.format, &key, &credentials)?;
    let written = {
        let mut out = std::io::stdout().lock();
        out.write_all(&bytes).and_then(|()| out.flush())
    };
    let (outcome, detail) = match &written {
        Ok(()) => (Outcome::Ok, format!("exported to a pipe as {}", format_name(args.format))),
        Err(e) => (Outcome::Failed, format!("export to a pipe failed: {e}")),
    };
    let event = Event {
        at: Utc::now(),
        action: Action::Export,
        key_id: Some(key.id),
        label: Some(&key.label),
        outcome,
        detail,
    };
    ctx.vault.store().record(&event)?;
    written.map_err(CliError::io("Could not write the key to the pipe"))?;
    if let Some(due) = latchkey_core::rotation::status(&key, &Utc::now(), 0).map(|s| s.due_at) {
        // On stderr: the pipe gets the key and nothing else.
        eprintln!(
            "latchkey: '{}' is due for rotation on {}: `systemd-creds encrypt --not-after={}` makes the copy stop working then.",
            key.label,
            due.format("%Y-%m-%d"),
            due.format("%Y-%m-%dT%H:%M:%SZ")
        );
    }
    Ok(EXIT_OK)
}

fn format_name(format: ExportFormat) -> &'static str {
    match format {
        ExportFormat::Freqtrade => "freqtrade",
        ExportFormat::Passivbot => "passivbot",
        ExportFormat::Env => "env",
    }
}

fn render(format: ExportFormat, key: &KeyRecord, c: &Credentials) -> Result<Zeroizing<Vec<u8>>, CliError> {
    match format {
        ExportFormat::Freqtrade => render_file(FileFormat::Freqtrade, &Handed::of(key), c),
        ExportFormat::Passivbot => render_file(FileFormat::Passivbot, &Handed::of(key), c),
        ExportFormat::Env => {
            let mut out = Zeroizing::new(Vec::with_capacity(1024));
            let mut line = |part: Part, value: &str| {
                // Single quotes: nothing inside is expanded, by a shell or by systemd.
                let quoted = value.replace('\'', r"'\''");
                let _ = writeln!(&mut *out, "{}='{quoted}'", default_name(key.exchange, part));
            };
            line(Part::Key, c.api_key.expose_secret());
            line(Part::Secret, c.api_secret.expose_secret());
            if let Some(p) = &c.passphrase {
                line(Part::Passphrase, p.expose_secret());
            }
            Ok(out)
        }
    }
}
