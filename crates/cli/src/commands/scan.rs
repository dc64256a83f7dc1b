//! `scan` and `import`: find exchange credentials lying in files, and move them into the keychain.
//! Nothing here prints a value: findings carry masked hints only, and the secrets found for import
//! go straight from the scanner's `FoundCredentials` into the vault.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use chrono::Utc;
use latchkey_core::exchange::Endpoint;
use latchkey_core::model::Exchange;
use latchkey_core::scan::{
    rewrite_without_secrets, scan_paths, Finding, FindingKind, FoundCredentials, ScanError, ScanOptions, ScanReport,
};
use latchkey_core::settings::Settings;
use latchkey_core::vault::NewKey;
use serde::Serialize;

use crate::cli::{ImportArgs, ScanArgs};
use crate::commands::keys::{environment_from, print_findings};
use crate::ctx::{runtime, Ctx};
use crate::error::{CliError, EXIT_FAILURE, EXIT_OK};
use crate::views::{self, print_json, StatusJson};

/// `scan`'s exit code when credentials were found (README.md: CI and pre-commit hooks fail on it).
pub const EXIT_FOUND: u8 = 1;

pub fn scan(args: ScanArgs) -> Result<u8, CliError> {
    let report = match scan_paths(&args.paths, &ScanOptions::default()) {
        Ok(report) => report,
        // A path that does not exist is a usage error (2), so it is never mistaken for "found" (1).
        Err(e @ ScanError::NotFound { .. }) => return Err(CliError::Usage(e.to_string())),
        Err(e) => return Err(e.into()),
    };
    print_warnings(&report);
    let code = if report.findings.is_empty() { EXIT_OK } else { EXIT_FOUND };
    if args.json {
        print_json(&report)?;
        return Ok(code);
    }
    if report.findings.is_empty() {
        println!("No exchange credentials found ({} files scanned).", report.files_scanned);
        return Ok(code);
    }
    let rows: Vec<Vec<String>> = report
        .findings
        .iter()
        .map(|f| {
            let (state, note) = match f.same_as.and_then(|j| report.findings.get(j)) {
                Some(first) => ("duplicate", format!("the same key as {}:{}", first.path.display(), first.line)),
                None if f.importable => ("importable", f.note.clone().unwrap_or_default()),
                None => ("not importable", f.note.clone().unwrap_or_default()),
            };
            vec![
                f.path.display().to_string(),
                f.line.to_string(),
                f.exchange.display_name().to_owned(),
                kind_text(f.kind).to_owned(),
                f.key_hint.clone().unwrap_or_else(|| "-".to_owned()),
                state.to_owned(),
                note,
            ]
        })
        .collect();
    println!("{}", views::table(&["FILE", "LINE", "EXCHANGE", "KIND", "KEY", "IMPORT", "NOTE"], &rows));
    let files: HashSet<&Path> = report.findings.iter().map(|f| f.path.as_path()).collect();
    println!(
        "\n{} finding(s) in {} file(s); {} files scanned. Move them into the keychain with `latchkey import FILE --rewrite`.",
        report.findings.len(),
        files.len(),
        report.files_scanned
    );
    Ok(code)
}

fn print_warnings(report: &ScanReport) {
    for w in &report.warnings {
        eprintln!("latchkey: warning: {}: {}", w.path.display(), w.message);
    }
}

pub fn kind_text(kind: FindingKind) -> &'static str {
    match kind {
        FindingKind::EnvFile => "env",
        FindingKind::Freqtrade => "freqtrade",
        FindingKind::Hummingbot => "hummingbot",
        FindingKind::Toml => "toml",
        FindingKind::Ccxt => "ccxt",
        FindingKind::ShellHistory => "shell history",
        FindingKind::Json => "json",
        FindingKind::Yaml => "yaml",
    }
}

/// One finding's fate in `import --json`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportItemJson {
    pub line: usize,
    pub exchange: Exchange,
    pub kind: FindingKind,
    pub key_hint: Option<String>,
    /// imported, skipped or failed.
    pub result: &'static str,
    /// The label given (imported) or tried (failed).
    pub label: Option<String>,
    /// Why it was skipped.
    pub reason: Option<String>,
    /// Why it failed: the vault's or the exchange's message.
    pub error: Option<String>,
    /// The stored key (imported only), as `add --json` prints it.
    pub key: Option<StatusJson>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportJson {
    pub file: PathBuf,
    pub keys: Vec<ImportItemJson>,
    pub imported: usize,
    pub skipped: usize,
    pub failed: usize,
    /// The owner-only copy of the original file (`--rewrite` only, when something was imported).
    pub backup: Option<PathBuf>,
    /// Why `--rewrite` left the file as it was.
    pub rewrite_error: Option<String>,
}

pub fn import(ctx: &Ctx, args: ImportArgs) -> Result<u8, CliError> {
    let file = args.file.clone();
    match std::fs::symlink_metadata(&file) {
        Err(_) => return Err(ScanError::NotFound { path: file }.into()),
        Ok(m) if m.is_dir() => {
            return Err(CliError::Usage(format!(
            "{} is a folder: `latchkey import` takes one file. Run `latchkey scan {}` to see which files hold keys.",
            file.display(),
            file.display()
        )))
        }
        Ok(_) => {}
    }
    let environment = environment_from(args.placement.environment, &args.placement.base_url)?;
    let settings = Settings::load(ctx.vault.store())?;
    let rotation_days = args.placement.rotation_days.unwrap_or(settings.default_rotation_days);

    let mut report = scan_paths(std::slice::from_ref(&file), &ScanOptions::default())?;
    print_warnings(&report);
    if report.findings.is_empty() {
        return Err(CliError::Failed(format!(
            "No exchange credentials were found in {}: nothing to import.",
            file.display()
        )));
    }
    let candidates = report.findings.iter().filter(|f| f.importable && f.same_as.is_none()).count();
    if args.label.is_some() && candidates != 1 {
        return Err(CliError::Usage(format!(
            "--label names one key, but {} holds {candidates} importable keys: leave --label out (labels are generated) or use --label-prefix.",
            file.display()
        )));
    }

    let mut secrets: Vec<Option<FoundCredentials>> = (0..report.findings.len()).map(|_| None).collect();
    for found in std::mem::take(&mut report.credentials) {
        if let Some(slot) = secrets.get_mut(found.finding) {
            *slot = Some(found);
        }
    }
    let mut taken: HashSet<String> = ctx.vault.list()?.iter().map(|k| k.label.to_lowercase()).collect();
    let rt = if args.no_verify || candidates == 0 { None } else { Some(runtime()?) };
    let now = chrono::Local::now();

    let mut items = Vec::new();
    let mut imported: Vec<Finding> = Vec::new();
    for (i, f) in report.findings.iter().enumerate() {
        let mut item = ImportItemJson {
            line: f.line,
            exchange: f.exchange,
            kind: f.kind,
            key_hint: f.key_hint.clone(),
            result: "skipped",
            label: None,
            reason: None,
            error: None,
            key: None,
        };
        if !f.importable {
            item.reason = Some(
                f.note.clone().unwrap_or_else(|| "not a complete key that passes the exchange's checks".to_owned()),
            );
        } else if let Some(first) = f.same_as.and_then(|j| report.findings.get(j)) {
            item.reason = Some(format!("the same key as line {}", first.line));
        } else {
            let label = match &args.label {
                Some(l) => l.clone(),
                None => generate_label(&args.label_prefix, f, &file, &taken),
            };
            item.label = Some(label.clone());
            match secrets.get_mut(i).and_then(Option::take) {
                None => {
                    item.result = "failed";
                    item.error = Some("The scanner kept no values for this finding: scan the file again.".to_owned());
                }
                Some(found) => {
                    let new = NewKey {
                        exchange: found.exchange,
                        label,
                        environment: environment.clone(),
                        credentials: found.credentials,
                        rotation_days: Some(rotation_days),
                    };
                    match import_one(ctx, new, rt.as_ref()) {
                        Ok(record) => {
                            taken.insert(record.label.to_lowercase());
                            item.result = "imported";
                            item.label = Some(record.label.clone());
                            item.key = Some(StatusJson::build(&record, &now, settings.due_soon_days, true));
                            imported.push(f.clone());
                        }
                        Err(e) => {
                            item.result = "failed";
                            item.error = Some(e.to_string());
                        }
                    }
                }
            }
        }
        items.push(item);
    }
    drop(secrets);

    let count = |r: &str| items.iter().filter(|i| i.result == r).count();
    let mut out = ImportJson {
        file: file.clone(),
        imported: count("imported"),
        skipped: count("skipped"),
        failed: count("failed"),
        keys: items,
        backup: None,
        rewrite_error: None,
    };
    if args.rewrite && !imported.is_empty() {
        match rewrite_without_secrets(&file, &imported) {
            Ok(backup) => out.backup = Some(backup),
            Err(e) => out.rewrite_error = Some(e.to_string()),
        }
    }
    let history = out.backup.is_some() && imported.iter().any(|f| f.kind == FindingKind::ShellHistory);

    if args.json {
        print_json(&out)?;
    } else {
        print_import(&out, args.rewrite, report.findings.len() - imported.len());
    }
    if let Some(e) = &out.rewrite_error {
        eprintln!("latchkey: the keys were imported, but the file was not rewritten: {e}");
    }
    if history {
        eprintln!(
            "latchkey: warning: shells that are still open keep their history in memory and may write the values back \
             to {} when they exit. Close them (or run `history -c` in each), then check with `latchkey scan {}`.",
            file.display(),
            file.display()
        );
    }
    let ok = out.imported > 0 && out.failed == 0 && out.rewrite_error.is_none();
    Ok(if ok { EXIT_OK } else { EXIT_FAILURE })
}

/// Validate, check with the exchange (unless `--no-verify`), store.
fn import_one(
    ctx: &Ctx,
    new: NewKey,
    rt: Option<&tokio::runtime::Runtime>,
) -> Result<latchkey_core::model::KeyRecord, CliError> {
    let checked = ctx.vault.validate(new)?;
    let inspection = match rt {
        None => None,
        Some(rt) => {
            let endpoint = Endpoint::new(checked.exchange, &checked.environment)?;
            eprintln!("Checking '{}' with {}…", checked.label, checked.exchange);
            Some(rt.block_on(ctx.client.inspect(&endpoint, &checked.credentials))?)
        }
    };
    Ok(ctx.vault.insert(checked, inspection, Utc::now())?)
}

/// `<prefix><exchange>-<key hint or file stem>-<n>`, the first `n` from 1 that no key uses.
fn generate_label(prefix: &str, f: &Finding, file: &Path, taken: &HashSet<String>) -> String {
    let from_hint = f.key_hint.as_deref().map(slug).unwrap_or_default();
    let part = if from_hint.is_empty() {
        let stem = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let stem = slug(&stem);
        if stem.is_empty() {
            "imported".to_owned()
        } else {
            stem
        }
    } else {
        from_hint
    };
    let base = format!("{prefix}{}-{part}", f.exchange.as_str());
    let mut n = 1u32;
    loop {
        let label = format!("{base}-{n}");
        if !taken.contains(&label.to_lowercase()) {
            return label;
        }
        n += 1;
    }
}

/// ASCII letters and digits kept, runs of anything else turned into one `-`, none at the ends.
fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_owned()
}

fn print_import(out: &ImportJson, rewrite: bool, left_in_file: usize) {
    for item in &out.keys {
        let hint = item.key_hint.as_deref().unwrap_or("-");
        let head = format!("line {}: {} {} ({})", item.line, item.exchange.display_name(), hint, kind_text(item.kind));
        match (item.result, &item.key) {
            ("imported", Some(status)) => {
                let k = &status.key;
                println!("imported  {head} as '{}'", k.label);
                if k.verified_at.is_none() {
                    println!(
                        "    saved without checking it with {}: run `latchkey check '{}'`",
                        k.exchange.display_name(),
                        k.label
                    );
                } else {
                    println!("    permissions: {}", views::permissions_text(&k.permissions));
                }
                print_findings(&status.findings);
            }
            ("failed", _) => {
                let label = item.label.as_deref().map(|l| format!(" as '{l}'")).unwrap_or_default();
                println!("failed    {head}{label}: {}", item.error.as_deref().unwrap_or("unknown error"));
            }
            _ => println!("skipped   {head}: {}", item.reason.as_deref().unwrap_or("not importable")),
        }
    }
    println!(
        "\nImported {} key(s) from {} ({} skipped, {} failed).",
        out.imported,
        out.file.display(),
        out.skipped,
        out.failed
    );
    if let Some(backup) = &out.backup {
        println!(
            "Removed the imported values from {}. The original is at {} (owner-only): delete it once your bots run with `latchkey run`.",
            out.file.display(),
            backup.display()
        );
        if left_in_file > 0 {
            println!(
                "{left_in_file} finding(s) that were not imported are still in the file: run `latchkey scan {}`.",
                out.file.display()
            );
        }
    } else if rewrite && out.imported == 0 {
        println!("Nothing was imported, so {} was left as it was.", out.file.display());
    } else if !rewrite && out.imported > 0 {
        println!(
            "The values are still in {}: run again with --rewrite to remove them (a backup is kept), or edit the file.",
            out.file.display()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_of_hints_and_stems() {
        assert_eq!(slug("7cb9…69a5"), "7cb9-69a5");
        assert_eq!(slug("…ab"), "ab");
        assert_eq!(slug("…"), "");
        assert_eq!(slug(".env.production"), "env-production");
    }
}
