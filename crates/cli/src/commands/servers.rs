//! `servers set|test`, `deliver LABEL…`, `undeliver LABEL…`: keys for bots on servers, through
//! OpenBao (`latchkey_core::servers`). The credential comes from a no-echo prompt or one line of
//! stdin, never an argument, and goes to the keychain.

use std::io::{BufRead, IsTerminal, Write};

use chrono::Utc;
use latchkey_core::servers::{AuthMethod, DeliveryOutcome, ServerError, ServerSettings};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use zeroize::Zeroizing;

use crate::cli::{DeliverArgs, HostCommand, ServersCommand, ServersSetArgs};
use crate::ctx::{runtime, Ctx};
use crate::error::{CliError, EXIT_OK};
use crate::views::print_json;

pub fn servers(ctx: &Ctx, command: ServersCommand) -> Result<u8, CliError> {
    match command {
        ServersCommand::Set(args) => set(ctx, args),
        ServersCommand::Test(flag) => {
            let report = runtime()?.block_on(ctx.servers().test())?;
            if flag.json {
                print_json(&report)?;
            } else {
                print_report(&report);
            }
            Ok(EXIT_OK)
        }
    }
}

fn print_report(r: &latchkey_core::servers::ConnectionReport) {
    println!(
        "OpenBao {} at {}{}: connection works.",
        r.server_version,
        r.addr,
        if r.standby { " (a standby node)" } else { "" }
    );
    println!("Keys go to {}/data/{}/<label>; the token may write, read and destroy them there.", r.mount, r.prefix);
    let ttl = r.token_ttl_secs.map_or("never expires".to_owned(), |s| format!("expires in {}", human_secs(s)));
    println!("Token: policies {}; {ttl}.", r.token_policies.join(", "));
}

fn human_secs(s: u64) -> String {
    match s {
        0..=119 => format!("{s} s"),
        120..=7199 => format!("{} min", s / 60),
        7200..=172_799 => format!("{} h", s / 3600),
        _ => format!("{} days", s / 86_400),
    }
}

fn set(ctx: &Ctx, args: ServersSetArgs) -> Result<u8, CliError> {
    let auth = match &args.userpass {
        Some(username) => AuthMethod::Userpass { username: username.clone(), mount: args.userpass_mount.clone() },
        None => AuthMethod::Token,
    };
    let prompt = match &auth {
        AuthMethod::Token => "OpenBao token for Latchkey (not shown): ".to_owned(),
        AuthMethod::Userpass { username, .. } => format!("OpenBao password of '{username}' (not shown): "),
    };
    let settings = ServerSettings {
        addr: args.addr,
        mount: args.mount,
        prefix: args.prefix,
        auth,
        ca_file: args.ca_file,
        max_versions: args.max_versions,
    }
    // Checked before the credential is asked for.
    .validate()?;
    let secret = read_secret(&prompt)?;
    let report = if args.no_test {
        None
    } else {
        let client = latchkey_core::servers::BaoClient::new(settings.clone(), secret.clone())?;
        Some(runtime()?.block_on(client.test_connection())?)
    };
    let saved = ctx.servers().configure(settings, secret)?;
    if args.json {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Saved<'a> {
            settings: &'a ServerSettings,
            connection: Option<&'a latchkey_core::servers::ConnectionReport>,
        }
        print_json(&Saved { settings: &saved, connection: report.as_ref() })?;
    } else {
        match &report {
            Some(r) => print_report(r),
            None => println!("Not tested: run `latchkey servers test` once the server is up."),
        }
        println!(
            "Saved: OpenBao at {} (the credential is in the keychain). Deliver keys with `latchkey deliver LABEL`.",
            saved.addr
        );
    }
    Ok(EXIT_OK)
}

/// No echo on a terminal, else one line of stdin. The prompt goes to stderr.
fn read_secret(prompt: &str) -> Result<SecretString, CliError> {
    let line = if std::io::stdin().is_terminal() {
        rpassword::prompt_password(prompt)
            .map(Zeroizing::new)
            .map_err(CliError::io("Could not read from the terminal"))?
    } else {
        let mut line = Zeroizing::new(String::new());
        std::io::stdin().lock().read_line(&mut line).map_err(CliError::io("Could not read from stdin"))?;
        line
    };
    let _ = std::io::stderr().flush();
    if line.trim().is_empty() {
        return Err(CliError::Usage(
            "No credential given: type the token (or password) when asked, or pipe it as one line on stdin, e.g. `printf '%s\\n' \"$BAO_TOKEN\" | latchkey servers set …`."
                .to_owned(),
        ));
    }
    Ok(SecretString::from(line.trim().to_owned()))
}

/// One key's line in `--json`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct KeyResult {
    label: String,
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<latchkey_core::error::ErrorCode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

impl KeyResult {
    fn failed(label: &str, e: &ServerError) -> Self {
        KeyResult {
            label: label.to_owned(),
            outcome: "failed",
            path: None,
            version: None,
            code: Some(e.kind()),
            message: Some(e.to_string()),
        }
    }
}

/// Every label is resolved first (an unknown one stops before anything is sent); then each key is
/// done in turn, and a failure of one does not stop the others. Exit: the first failure's.
fn each(
    ctx: &Ctx,
    args: &DeliverArgs,
    mut one: impl FnMut(latchkey_core::model::KeyRecord) -> Result<KeyResult, ServerError>,
) -> Result<u8, CliError> {
    let keys = args.labels.iter().map(|l| ctx.find_key(l)).collect::<Result<Vec<_>, _>>()?;
    let mut results = Vec::new();
    let mut first_error: Option<CliError> = None;
    for key in keys {
        let label = key.label.clone();
        match one(key) {
            Ok(r) => results.push(r),
            Err(e) => {
                results.push(KeyResult::failed(&label, &e));
                if !args.json {
                    eprintln!("latchkey: '{label}': {e}");
                }
                first_error.get_or_insert(e.into());
            }
        }
    }
    if args.json {
        print_json(&results)?;
    }
    Ok(first_error.map_or(EXIT_OK, |e| e.exit_code()))
}

pub fn deliver(ctx: &Ctx, args: DeliverArgs) -> Result<u8, CliError> {
    let servers = ctx.servers();
    // Not set up: say so once, not once per key.
    servers.client()?;
    let rt = runtime()?;
    let json = args.json;
    // An unknown label stops before a code is asked for.
    for label in &args.labels {
        ctx.find_key(label)?;
    }
    // Bots on servers get access to the keys: one code for them all.
    let code = crate::input::code_arg(args.code.clone(), "2FA code to deliver the keys to servers: ")?;
    let proof = ctx.guard.verify_for_action(&code, Utc::now())?;
    let ids = args.labels.iter().map(|l| ctx.find_key(l).map(|k| k.id)).collect::<Result<Vec<_>, _>>()?;
    let mut outcomes = rt.block_on(servers.deliver_many(&proof, &ids, Utc::now()))?.into_iter();
    each(ctx, &args, |_| {
        let out = outcomes.next().expect("one outcome per key")?;
        let (outcome, label, path, version) = match out {
            DeliveryOutcome::Delivered { label, path, version } => {
                if !json {
                    println!("Delivered '{label}' to {path} (version {version}).");
                }
                ("delivered", label, path, version)
            }
            DeliveryOutcome::UpToDate { label, path, version } => {
                if !json {
                    println!("'{label}' is up to date at {path} (version {version}): nothing written.");
                }
                ("up_to_date", label, path, version)
            }
        };
        Ok(KeyResult { label, outcome, path: Some(path), version: Some(version), code: None, message: None })
    })
}

pub fn undeliver(ctx: &Ctx, args: DeliverArgs) -> Result<u8, CliError> {
    let servers = ctx.servers();
    servers.client()?;
    let rt = runtime()?;
    let json = args.json;
    each(ctx, &args, |key| {
        let removed = rt.block_on(servers.undeliver(key.id, Utc::now()))?;
        if !json {
            if removed {
                println!(
                    "Destroyed every version of '{}' on OpenBao: bots on servers can no longer read it.",
                    key.label
                );
            } else {
                println!("OpenBao held nothing for '{}': nothing to destroy.", key.label);
            }
        }
        Ok(KeyResult {
            label: key.label,
            outcome: if removed { "destroyed" } else { "absent" },
            path: None,
            version: None,
            code: None,
            message: None,
        })
    })
}

pub fn host(ctx: &Ctx, command: HostCommand) -> Result<u8, CliError> {
    let servers = ctx.servers();
    let rt = runtime()?;
    match command {
        HostCommand::Add { name, keys, code, json } => {
            let ids = keys.iter().map(|l| ctx.find_key(l).map(|k| k.id)).collect::<Result<Vec<_>, _>>()?;
            let code = crate::input::code_arg(code, "2FA code to let the host read the keys: ")?;
            let proof = ctx.guard.verify_for_action(&code, Utc::now())?;
            let e = rt.block_on(servers.add_host(proof, &name, &ids, Utc::now()))?;
            // EXPOSE: the wrapped secret-id is printed once, for the user to paste on the server.
            let wrapped = e.wrapped_secret_id.expose_secret();
            if json {
                #[derive(Serialize)]
                #[serde(rename_all = "camelCase")]
                struct Added<'a> {
                    name: &'a str,
                    role_id: &'a str,
                    wrapped_secret_id: &'a str,
                    wrap_ttl_secs: u64,
                    paths: &'a [String],
                }
                print_json(&Added {
                    name: &e.name,
                    role_id: &e.role_id,
                    wrapped_secret_id: wrapped,
                    wrap_ttl_secs: e.wrap_ttl_secs,
                    paths: &e.paths,
                })?;
            } else {
                println!("Host '{}' may read: {}.", e.name, e.paths.join(", "));
                println!("role-id:            {}", e.role_id);
                println!("wrapped secret-id:  {wrapped}");
                println!(
                    "Paste both on the server within {} minutes; the wrapped secret-id works once. If its unwrap fails there, someone else used it: run `latchkey host add` again.",
                    e.wrap_ttl_secs / 60
                );
            }
        }
        HostCommand::List(flag) => {
            let hosts = rt.block_on(servers.client()?.list_hosts())?;
            if flag.json {
                print_json(&hosts)?;
            } else if hosts.is_empty() {
                println!("No hosts: add one with `latchkey host add NAME --keys LABEL…`.");
            } else {
                for h in &hosts {
                    println!(
                        "{}  reads: {}",
                        h.name,
                        if h.keys.is_empty() { "nothing".to_owned() } else { h.keys.join(", ") }
                    );
                }
            }
        }
        HostCommand::Remove { name, json } => {
            let removed = rt.block_on(servers.remove_host(&name, Utc::now()))?;
            if json {
                print_json(&serde_json::json!({ "name": name.trim(), "removed": removed }))?;
            } else if removed {
                println!("Removed host '{}': it can no longer sign in, and its tokens read nothing.", name.trim());
            } else {
                println!("No host '{}' on the server: nothing to remove.", name.trim());
            }
        }
    }
    Ok(EXIT_OK)
}
