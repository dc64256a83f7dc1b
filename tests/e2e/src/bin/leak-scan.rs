//! The secret-leak scan run after the whole test suite (scripts/test-all.sh).
//!
//! `leak-scan --secrets DIR [--seed FILE]… PATH…` looks for every secret the end-to-end tests typed
//! or were shown (one per line in the files of `DIR`, written by `tests/support`), and every key,
//! secret and passphrase of the exchange simulator's seed files, in every file under each `PATH`:
//! the app's data dirs (SQLite and its WAL, logs, saved reports), the app's and the driver's output
//! (crash output included), the recorded IPC replies, the test log and the session's home (keyring
//! files). Each secret is looked for as typed, base64 (standard and URL-safe), hex (either case)
//! and URL-encoded (`latchkey_e2e::encodings`). Exit status: 0 no hit, 1 hits (printed with the
//! file, the form and a masked hint, never the secret), 2 usage or missing evidence.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

/// Shorter values (e.g. a 6-digit code) would match by chance.
const MIN_LEN: usize = 8;

struct Args {
    secrets: PathBuf,
    seeds: Vec<PathBuf>,
    roots: Vec<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = std::env::args_os().skip(1);
    let (mut secrets, mut seeds, mut roots) = (None, Vec::new(), Vec::new());
    while let Some(a) = args.next() {
        match a.to_str() {
            Some("--secrets") => secrets = args.next().map(PathBuf::from),
            Some("--seed") => seeds.push(args.next().map(PathBuf::from).ok_or("--seed needs a file")?),
            _ => roots.push(PathBuf::from(a)),
        }
    }
    let secrets = secrets.ok_or("--secrets DIR is required")?;
    if roots.is_empty() {
        return Err("give at least one folder to scan".into());
    }
    Ok(Args { secrets, seeds, roots })
}

/// `a1b2…9z`: enough to tell which secret it was.
fn hint(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let head: String = chars.iter().take(4).collect();
    let tail: String = chars[chars.len().saturating_sub(2)..].iter().collect();
    format!("{head}…{tail}")
}

fn secrets_from(args: &Args) -> Result<Vec<String>, String> {
    let mut found = Vec::new();
    let entries = std::fs::read_dir(&args.secrets).map_err(|e| format!("{}: {e}", args.secrets.display()))?;
    for entry in entries.flatten() {
        let text = std::fs::read_to_string(entry.path()).map_err(|e| format!("{}: {e}", entry.path().display()))?;
        found.extend(text.lines().map(|l| l.trim().to_owned()));
    }
    for seed in &args.seeds {
        let text = std::fs::read_to_string(seed).map_err(|e| format!("{}: {e}", seed.display()))?;
        let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", seed.display()))?;
        for key in json["keys"].as_array().into_iter().flatten() {
            for field in ["apiKey", "secret", "passphrase"] {
                if let Some(v) = key[field].as_str() {
                    found.push(v.to_owned());
                }
            }
        }
    }
    found.retain(|s| s.len() >= MIN_LEN);
    found.sort();
    found.dedup();
    Ok(found)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("leak-scan: {e}\nusage: leak-scan --secrets DIR [--seed FILE]… PATH…");
            return ExitCode::from(2);
        }
    };
    let secrets = match secrets_from(&args) {
        Ok(s) if !s.is_empty() => s,
        Ok(_) => {
            eprintln!("leak-scan: no secrets listed in {}: did the end-to-end tests run?", args.secrets.display());
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("leak-scan: {e}");
            return ExitCode::from(2);
        }
    };
    let needles: Vec<(usize, &'static str, Vec<u8>)> = secrets
        .iter()
        .enumerate()
        .flat_map(|(i, s)| latchkey_e2e::encodings(s).into_iter().map(move |(form, bytes)| (i, form, bytes)))
        .collect();

    let patterns: Vec<Vec<u8>> = needles.iter().map(|(_, _, bytes)| bytes.clone()).collect();
    let files: Vec<PathBuf> = args.roots.iter().flat_map(|r| latchkey_e2e::files_under(r)).collect();
    let (mut bytes, mut hits) = (0u64, Vec::new());
    let (mut replies, mut withheld) = (0usize, BTreeMap::<String, usize>::new());
    for file in &files {
        let Ok(data) = std::fs::read(file) else { continue };
        bytes += data.len() as u64;
        if file.file_name().is_some_and(|n| n == "ipc-replies.jsonl") {
            for line in String::from_utf8_lossy(&data).lines() {
                replies += 1;
                let v: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
                if v.get("withheld").is_some() {
                    *withheld.entry(v["cmd"].as_str().unwrap_or("?").to_owned()).or_default() += 1;
                }
            }
        }
        for p in latchkey_e2e::found_in(&data, &patterns) {
            let (i, form, _) = &needles[p];
            hits.push((file.clone(), *i, *form));
        }
    }

    println!("Secret-leak scan");
    println!(
        "  secrets looked for   {} (as typed, base64, base64url, hex, URL-encoded: {} byte patterns)",
        secrets.len(),
        needles.len()
    );
    println!("  files scanned        {} ({:.2} MiB)", files.len(), bytes as f64 / 1_048_576.0);
    println!("  IPC replies scanned  {replies} recorded, of which withheld by design: {withheld:?}");
    println!("  hits                 {}", hits.len());
    if replies == 0 {
        eprintln!("leak-scan: no IPC replies were recorded: the end-to-end tests' evidence is missing");
        return ExitCode::from(2);
    }
    if hits.is_empty() {
        return ExitCode::SUCCESS;
    }
    for (file, i, form) in &hits {
        println!("  LEAK: {} holds the secret {} ({form})", file.display(), hint(&secrets[*i]));
    }
    ExitCode::from(1)
}
