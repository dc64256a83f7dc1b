//! The scanner against a fixture tree (`tests/fixtures/scan/`): every supported format holds a key,
//! and a `decoys/` folder holds what must not match. Every value in the fixtures is random and fake:
//! valid in shape, valid at no exchange.

use std::fs;
use std::path::{Path, PathBuf};

use latchkey_core::model::Exchange;
use latchkey_core::scan::{
    rewrite_without_secrets, rewrite_without_secrets_at, scan_paths, FindingKind, ScanError, ScanOptions, ScanReport,
    MOVED_MARKER,
};
use secrecy::{ExposeSecret, SecretString};

const ENV_OKX_KEY: &str = "7cb9b961-9b72-4b47-866a-bd55294969a5";
const ENV_OKX_SECRET: &str = "7FE314CF51A394A828F1B88C693F8FF7";
const ENV_OKX_PASS: &str = "Gr1d-Bot!Woci";
const ENVP_BN_KEY: &str = "G2YjiXoV3JrKsdaEyz4TDwyAHJZBCP4JzbFWDjnYjeim3jWcFlv8VxYiUxWCcpue";
const ENVP_BN_SECRET: &str = "sXcluhzroHpJWORG3zfbgws3gbg7MFC2gwOoZzCD178Cbdajg7rzMNElC2Q6V0Ru";
const GEN_BN_KEY: &str = "3rLnvFL6tpQqzGzkpF7ctEAPSpiFau0LkTFJ8dBmjc1g4majB3MpAarLjtCnJgoj";
const GEN_BN_SECRET: &str = "W3oMeAQvwOmK9XUOsYcuWknzcQzhfVbBOxaFgCZUeHsKXh25XkaJqnA5NqCZBrVT";
const FT_OKX_KEY: &str = "d1a4f095-3f85-42b1-a252-0c176bece2b7";
const FT_OKX_SECRET: &str = "0B92CC66CB9CE755F7373A6A3FA8A0DC";
const FT_OKX_PASS: &str = "Fr3qtr4de#pdc";
const HB_BYBIT_KEY: &str = "fhp1TNrnBhnDuZO0l0";
const HB_BYBIT_SECRET: &str = "s5vnZtvzdhwVL5sKYnGBexOPoppgPGUarPo5";
const TOML_BYBIT_KEY: &str = "RIobPytvD2IPSQ4ZYO";
const TOML_BYBIT_SECRET: &str = "G5l4gtoN6jfAFDhnFViM8anE61qA73MkLMjo";
const TOML_OKX_KEY: &str = "a05de4b8-c5e6-4d92-8dfe-4e7af34beb78";
const TOML_OKX_SECRET: &str = "E3181927C05D9A04F71E81DEFAF6B08A";
const TOML_OKX_PASS: &str = "T0ml_NeK6tl";
const PY_OKX_KEY: &str = "5425a6a3-66e1-4f2e-a4a3-d144216a8f4f";
const PY_OKX_SECRET: &str = "379FD7EAAA7066FB7890A3EFFDFC0F49";
const PY_OKX_PASS: &str = "Ccxt.CXpghJ";
const JS_BN_KEY: &str = "f9Xw3mq5TzUrV2qqNMcoLNh2eVXjNNKQgg48NYb8GyhD1Mw1vMyQAnl0G89VhnCr";
const JS_BN_SECRET: &str = "eVMvalbWkKa0ctxFKg8rBMv3wktxtyuzC5r9OOL3vRIzO69396W8o6dxqcptzdLd";
const ZSH_BN_KEY: &str = "4g9E3xvsqEzLPtP4QYboKlH5cwXS3Ixxw01dZt7Vp0bVitTIWEUG5LwglCjzwIDE";
const ZSH_BN_SECRET: &str = "sEdXnFdQKUylmJzP1jxMJ4rdLESx7nbcq6K6nKhSTAAnNmjFiwzK9rGkrwC9PV7h";
const BASH_BN_KEY: &str = "p6Xvi38zbZhGK8TvFaeE5RyhuzZ456JlGpoRp18oJC0y5YdUSjlAXGXakCMaEEWA";
const BASH_BYBIT_KEY: &str = "eg5DOOrF3o0GIRkBrc";
const BASH_OKX_KEY: &str = "0909c235-b94b-415d-90a5-f14be4717237";
const BASH_OKX_PASS: &str = "CurlZ8QBgl";
const ENV_OLD_BN_KEY: &str = "Qm7Tz2Wd9Kx4Lp8Rv3Ns6Jb1Hf5Gc0YaUe2Xo7Ti4Pk9Wq3Zr8Ml6Dn1Sv5Bh0Cj";

const ALL_SECRETS: &[&str] = &[
    ENV_OKX_KEY,
    ENV_OKX_SECRET,
    ENV_OKX_PASS,
    ENVP_BN_KEY,
    ENVP_BN_SECRET,
    GEN_BN_KEY,
    GEN_BN_SECRET,
    FT_OKX_KEY,
    FT_OKX_SECRET,
    FT_OKX_PASS,
    HB_BYBIT_KEY,
    HB_BYBIT_SECRET,
    TOML_BYBIT_KEY,
    TOML_BYBIT_SECRET,
    TOML_OKX_KEY,
    TOML_OKX_SECRET,
    TOML_OKX_PASS,
    PY_OKX_KEY,
    PY_OKX_SECRET,
    PY_OKX_PASS,
    JS_BN_KEY,
    JS_BN_SECRET,
    ZSH_BN_KEY,
    ZSH_BN_SECRET,
    BASH_BN_KEY,
    BASH_BYBIT_KEY,
    BASH_OKX_KEY,
    BASH_OKX_PASS,
    ENV_OLD_BN_KEY,
];

fn fixtures() -> PathBuf {
    Path::new(&std::env::var("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/scan")
}

fn scan(paths: &[PathBuf]) -> ScanReport {
    scan_paths(paths, &ScanOptions::default()).expect("scan runs")
}

fn hint(key: &str) -> String {
    latchkey_core::secret::key_hint(&SecretString::from(key.to_owned()))
}

fn rel(path: &Path) -> String {
    path.strip_prefix(fixtures()).unwrap_or(path).to_string_lossy().replace('\\', "/")
}

type Row = (String, usize, Exchange, FindingKind, Option<String>, bool, bool);

fn rows(report: &ScanReport) -> Vec<Row> {
    let mut rows: Vec<Row> = report
        .findings
        .iter()
        .map(|f| (rel(&f.path), f.line, f.exchange, f.kind, f.key_hint.clone(), f.has_secret, f.importable))
        .collect();
    rows.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    rows
}

fn row(path: &str, line: usize, ex: Exchange, kind: FindingKind, key: Option<&str>, secret: bool, imp: bool) -> Row {
    (path.to_owned(), line, ex, kind, key.map(hint), secret, imp)
}

#[test]
fn every_format_is_found_with_file_line_exchange_and_hint_and_nothing_else() {
    use Exchange::*;
    use FindingKind::*;
    let report = scan(&[fixtures()]);
    let mut expected = vec![
        row("bot-binance/.env.production", 1, Binance, EnvFile, Some(ENVP_BN_KEY), true, true),
        row("bot-okx/.env", 2, Okx, EnvFile, Some(ENV_OKX_KEY), true, true),
        row("bot-okx/.env", 7, Binance, EnvFile, Some(ENV_OLD_BN_KEY), false, false),
        row("freqtrade/user_data/config.json", 7, Okx, Freqtrade, Some(FT_OKX_KEY), true, true),
        row("generic/.env", 1, Binance, EnvFile, Some(GEN_BN_KEY), true, true),
        row("history/.bash_history", 3, Binance, ShellHistory, Some(BASH_BN_KEY), false, false),
        row("history/.bash_history", 4, Bybit, ShellHistory, Some(BASH_BYBIT_KEY), false, false),
        row("history/.bash_history", 5, Okx, ShellHistory, Some(BASH_OKX_KEY), false, false),
        row("history/.zsh_history", 2, Binance, ShellHistory, Some(ZSH_BN_KEY), true, true),
        row("hummingbot/conf/connectors/bybit.yml", 7, Bybit, Hummingbot, Some(HB_BYBIT_KEY), true, true),
        row("hummingbot/conf/connectors/okx.yml", 3, Okx, Hummingbot, None, true, false),
        row("scripts/bot.js", 3, Binance, Ccxt, Some(JS_BN_KEY), true, true),
        row("scripts/trade.py", 4, Okx, Ccxt, Some(PY_OKX_KEY), true, true),
        row("toml/bot.toml", 5, Bybit, Toml, Some(TOML_BYBIT_KEY), true, true),
        row("toml/bot.toml", 10, Okx, Toml, Some(TOML_OKX_KEY), true, true),
    ];
    expected.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    assert_eq!(rows(&report), expected);
}

#[test]
fn decoys_never_match() {
    let report = scan(&[fixtures().join("decoys")]);
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
    assert!(report.credentials.is_empty());
    assert!(report.warnings.is_empty(), "{:#?}", report.warnings);
    assert!(report.files_scanned >= 6, "README, .env.example, JSON, YAML, TOML and a script were read");
}

#[test]
fn importable_findings_carry_the_right_values_and_the_rest_say_why() {
    let report = scan(&[fixtures()]);
    let expect: &[(&str, &str, Option<&str>)] = &[
        (ENV_OKX_KEY, ENV_OKX_SECRET, Some(ENV_OKX_PASS)),
        (ENVP_BN_KEY, ENVP_BN_SECRET, None),
        (GEN_BN_KEY, GEN_BN_SECRET, None),
        (FT_OKX_KEY, FT_OKX_SECRET, Some(FT_OKX_PASS)),
        (HB_BYBIT_KEY, HB_BYBIT_SECRET, None),
        (TOML_BYBIT_KEY, TOML_BYBIT_SECRET, None),
        (TOML_OKX_KEY, TOML_OKX_SECRET, Some(TOML_OKX_PASS)),
        (PY_OKX_KEY, PY_OKX_SECRET, Some(PY_OKX_PASS)),
        (JS_BN_KEY, JS_BN_SECRET, None),
        (ZSH_BN_KEY, ZSH_BN_SECRET, None),
    ];
    assert_eq!(report.credentials.len(), expect.len());
    for (key, secret, pass) in expect {
        let found = report
            .credentials
            .iter()
            .find(|c| c.credentials.api_key.expose_secret() == *key)
            .unwrap_or_else(|| panic!("no credentials for {}", hint(key)));
        assert_eq!(found.credentials.api_secret.expose_secret(), *secret);
        assert_eq!(found.credentials.passphrase.as_ref().map(|p| p.expose_secret()), *pass);
        let finding = &report.findings[found.finding];
        assert!(finding.importable);
        assert_eq!(finding.exchange, found.exchange);
        assert_eq!(finding.key_hint.as_deref(), Some(hint(key).as_str()));
        assert!(finding.note.is_none());
    }
    for f in report.findings.iter().filter(|f| !f.importable) {
        assert!(f.note.is_some(), "{f:?}");
        assert!(report
            .credentials
            .iter()
            .all(|c| c.finding != report.findings.iter().position(|x| x == f).unwrap_or(usize::MAX)));
    }
    let hb = report.findings.iter().find(|f| f.encrypted).expect("the encrypted Hummingbot file");
    assert!(hb.note.as_deref().unwrap_or("").contains("Encrypted by Hummingbot"));
    let okx_env = report.findings.iter().find(|f| f.key_hint == Some(hint(ENV_OKX_KEY))).expect("okx .env");
    assert_eq!(okx_env.names, ["OKX_API_KEY", "OKX_API_SECRET", "OKX_API_PASSPHRASE"]);
    assert_eq!(okx_env.lines, [2, 3, 4]);
    assert!(okx_env.has_passphrase);
}

#[test]
fn report_json_and_debug_hold_no_secret() {
    let report = scan(&[fixtures()]);
    let json = serde_json::to_string(&report).expect("serializes");
    let debug = format!("{report:?}");
    for secret in ALL_SECRETS {
        assert!(!json.contains(secret), "JSON holds {}", hint(secret));
        assert!(!debug.contains(secret), "Debug holds {}", hint(secret));
    }
    // The shape of the JSON the CLI prints with --json.
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    let f = &v["findings"][0];
    for field in [
        "path",
        "line",
        "lines",
        "names",
        "exchange",
        "kind",
        "keyHint",
        "hasSecret",
        "hasPassphrase",
        "encrypted",
        "importable",
        "note",
        "sameAs",
    ] {
        assert!(f.get(field).is_some(), "missing {field}: {f}");
    }
    assert!(v.get("credentials").is_none());
    assert!(v["filesScanned"].as_u64().is_some_and(|n| n > 10));
}

#[test]
fn corrupt_files_are_warnings_not_failures() {
    let report = scan(&[fixtures().join("corrupt")]);
    assert!(report.findings.is_empty());
    let mut warned: Vec<String> = report.warnings.iter().map(|w| rel(&w.path)).collect();
    warned.sort();
    assert_eq!(warned, ["corrupt/bad.toml", "corrupt/conf/broken.yml", "corrupt/config.json"]);
    assert!(report.warnings.iter().any(|w| w.message.contains("not valid JSON (line 2")), "{:?}", report.warnings);
    // The whole tree still scans to the end with them in it.
    assert_eq!(scan(&[fixtures()]).warnings.len(), 3);
}

#[test]
fn missing_path_is_an_error_that_says_what_to_do() {
    let err = scan_paths(&[fixtures().join("nope")], &ScanOptions::default()).unwrap_err();
    assert!(matches!(err, ScanError::NotFound { .. }));
    assert!(err.to_string().contains("Check the path"));
}

#[test]
fn same_key_in_two_files_is_linked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let env = fs::read(fixtures().join("bot-binance/.env.production")).expect("read");
    fs::write(dir.path().join("a.env"), &env).expect("write");
    fs::write(dir.path().join("b.env"), &env).expect("write");
    let report = scan(&[dir.path().to_path_buf()]);
    assert_eq!(report.findings.len(), 2);
    assert_eq!(report.findings[0].same_as, None);
    assert_eq!(report.findings[1].same_as, Some(0));
}

#[cfg(unix)]
#[test]
fn symlinks_binary_and_large_files_are_skipped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let env = fs::read(fixtures().join("bot-binance/.env.production")).expect("read");
    std::os::unix::fs::symlink(fixtures().join("bot-okx"), dir.path().join("linked-dir")).expect("symlink");
    std::os::unix::fs::symlink(fixtures().join("bot-okx/.env"), dir.path().join(".env")).expect("symlink");
    let mut binary = env.clone();
    binary.insert(0, 0);
    fs::write(dir.path().join("binary.env"), binary).expect("write");
    let mut big = env.clone();
    big.extend(std::iter::repeat_n(b'#', 4096));
    fs::write(dir.path().join("big.env"), big).expect("write");
    let report = scan_paths(&[dir.path().to_path_buf()], &ScanOptions { max_file_bytes: 4000 }).expect("scan");
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
    assert_eq!(report.warnings.len(), 1, "only the large file is worth a warning: {:?}", report.warnings);
    assert!(report.warnings[0].message.contains("larger than 4000 bytes"));
    // A symlink given directly is not followed either.
    assert!(scan(&[dir.path().join(".env")]).findings.is_empty());
}

#[test]
fn git_node_modules_and_target_are_not_entered() {
    let dir = tempfile::tempdir().expect("tempdir");
    let env = fs::read(fixtures().join("bot-binance/.env.production")).expect("read");
    for sub in [".git", "node_modules/some-pkg", "target/debug", "app/node_modules"] {
        fs::create_dir_all(dir.path().join(sub)).expect("mkdir");
        fs::write(dir.path().join(sub).join(".env"), &env).expect("write");
    }
    assert!(scan(&[dir.path().to_path_buf()]).findings.is_empty());
    // The same file one level up is found.
    fs::write(dir.path().join("app/.env"), &env).expect("write");
    assert_eq!(scan(&[dir.path().to_path_buf()]).findings.len(), 1);
}

/// Copies fixture files into a temp dir, with a mode other than the default to prove it is kept.
fn copy_fixture(dir: &Path, rel_path: &str) -> PathBuf {
    let to = dir.join(rel_path);
    fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
    fs::copy(fixtures().join(rel_path), &to).expect("copy");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&to, fs::Permissions::from_mode(0o640)).expect("chmod");
    }
    to
}

fn rewrite_case(rel_path: &str, values: &[&str], expect: impl Fn(&str) -> String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = copy_fixture(dir.path(), rel_path);
    let original = fs::read(&file).expect("read");
    let report = scan(std::slice::from_ref(&file));
    let importable: Vec<_> = report.findings.iter().filter(|f| f.importable).cloned().collect();
    assert!(!importable.is_empty(), "{rel_path}");
    let backup = rewrite_without_secrets(&file, &importable).expect("rewrite");

    assert_eq!(fs::read(&backup).expect("backup"), original, "backup is identical");
    assert!(backup.to_string_lossy().contains(".latchkey-backup-"));
    let after = fs::read_to_string(&file).expect("read");
    for v in values {
        assert!(!after.contains(v), "{rel_path} still holds {}", hint(v));
    }
    let before = String::from_utf8(original).expect("utf8");
    assert_eq!(after, expect(&before), "{rel_path}: only the values changed");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(fs::metadata(&backup).expect("meta").permissions().mode() & 0o777, 0o600, "backup owner-only");
        assert_eq!(fs::metadata(&file).expect("meta").permissions().mode() & 0o777, 0o640, "mode kept");
    }
    // Nothing importable is left, and the folder holds only the file and its backup (no temp file).
    let rescan = scan(std::slice::from_ref(&file));
    assert!(rescan.findings.iter().all(|f| !f.importable), "{:#?}", rescan.findings);
    assert_eq!(fs::read_dir(file.parent().expect("dir")).expect("ls").count(), 2);
}

#[test]
fn rewrite_env_comments_the_lines_out() {
    let m = MOVED_MARKER;
    rewrite_case("bot-okx/.env", &[ENV_OKX_KEY, ENV_OKX_SECRET, ENV_OKX_PASS], |t| {
        t.replace(&format!("OKX_API_KEY={ENV_OKX_KEY}"), &format!("# OKX_API_KEY {m}"))
            .replace(&format!("OKX_API_SECRET=\"{ENV_OKX_SECRET}\""), &format!("# OKX_API_SECRET {m}"))
            .replace(&format!("OKX_API_PASSPHRASE='{ENV_OKX_PASS}'"), &format!("# OKX_API_PASSPHRASE {m}"))
    });
}

#[test]
fn rewrite_json_empties_the_strings() {
    rewrite_case("freqtrade/user_data/config.json", &[FT_OKX_KEY, FT_OKX_SECRET, FT_OKX_PASS], |t| {
        t.replace(FT_OKX_KEY, "").replace(FT_OKX_SECRET, "").replace(FT_OKX_PASS, "")
    });
}

#[test]
fn rewrite_yaml_and_toml_leave_a_marker() {
    let m = MOVED_MARKER;
    rewrite_case("hummingbot/conf/connectors/bybit.yml", &[HB_BYBIT_KEY, HB_BYBIT_SECRET], |t| {
        t.replace(&format!("bybit_api_key: {HB_BYBIT_KEY}"), &format!("bybit_api_key: \"\" # {m}"))
            .replace(&format!("\"{HB_BYBIT_SECRET}\""), &format!("\"\" # {m}"))
    });
    rewrite_case("toml/bot.toml", &[TOML_BYBIT_KEY, TOML_BYBIT_SECRET, TOML_OKX_KEY, TOML_OKX_SECRET], |t| {
        let mut t = t.to_owned();
        for v in [TOML_BYBIT_KEY, TOML_OKX_KEY, TOML_OKX_SECRET, TOML_OKX_PASS] {
            t = t.replace(&format!("\"{v}\""), &format!("\"\" # {m}"));
        }
        t.replace(&format!("'{TOML_BYBIT_SECRET}'"), &format!("'' # {m}"))
    });
}

#[test]
fn rewrite_scripts_and_history_blank_the_values() {
    rewrite_case("scripts/trade.py", &[PY_OKX_KEY, PY_OKX_SECRET, PY_OKX_PASS], |t| {
        t.replace(PY_OKX_KEY, "").replace(PY_OKX_SECRET, "").replace(PY_OKX_PASS, "")
    });
    rewrite_case("scripts/bot.js", &[JS_BN_KEY, JS_BN_SECRET], |t| t.replace(JS_BN_KEY, "").replace(JS_BN_SECRET, ""));
    rewrite_case("history/.zsh_history", &[ZSH_BN_KEY, ZSH_BN_SECRET], |t| {
        t.replace(ZSH_BN_KEY, "").replace(ZSH_BN_SECRET, "")
    });
}

#[test]
fn rewrite_refuses_a_changed_file_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = copy_fixture(dir.path(), "bot-okx/.env");
    let report = scan(std::slice::from_ref(&file));
    let findings: Vec<_> = report.findings.iter().filter(|f| f.importable).cloned().collect();
    let edited = format!("# a new first line\n{}", fs::read_to_string(&file).expect("read"));
    fs::write(&file, &edited).expect("write");
    let err = rewrite_without_secrets(&file, &findings).unwrap_err();
    assert!(matches!(err, ScanError::Changed { line: 2, .. }), "{err}");
    assert!(err.to_string().contains("Scan it again"));
    assert_eq!(fs::read_to_string(&file).expect("read"), edited);
    assert_eq!(fs::read_dir(file.parent().expect("dir")).expect("ls").count(), 1, "no backup made");
}

#[test]
fn backups_never_overwrite_each_other() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = copy_fixture(dir.path(), "history/.zsh_history");
    let now = chrono::DateTime::parse_from_rfc3339("2026-05-06T10:00:00Z").expect("time").to_utc();
    let findings = scan(std::slice::from_ref(&file)).findings;
    let first = rewrite_without_secrets_at(&file, &findings, now).expect("rewrite");
    assert!(first.to_string_lossy().ends_with(".zsh_history.latchkey-backup-20260506T100000Z"), "{first:?}");
    // Restore and do it again within the same second.
    fs::copy(&first, &file).expect("restore");
    let findings = scan(std::slice::from_ref(&file)).findings;
    let second = rewrite_without_secrets_at(&file, &findings, now).expect("rewrite");
    assert_ne!(first, second);
    assert_eq!(fs::read(&first).expect("first"), fs::read(&second).expect("second"));
    // A backup is a finding of its own, with advice to delete it.
    let report = scan(&[dir.path().to_path_buf()]);
    assert_eq!(report.findings.len(), 2);
    assert!(report.findings.iter().all(|f| f.note.as_deref().unwrap_or("").contains("Latchkey backup")));
    assert_eq!(report.findings[1].same_as, Some(0));
}

#[test]
fn errors_carry_no_secret() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = copy_fixture(dir.path(), "bot-okx/.env");
    let other = copy_fixture(dir.path(), "generic/.env");
    let findings = scan(&[other]).findings;
    let err = rewrite_without_secrets(&file, &findings).unwrap_err();
    assert!(matches!(err, ScanError::OtherFile { .. }));
    let msg = format!("{err} {err:?}");
    for secret in ALL_SECRETS {
        assert!(!msg.contains(secret));
    }
    assert!(matches!(rewrite_without_secrets(&file, &[]), Err(ScanError::NothingToRemove { .. })));
}

#[test]
fn a_value_left_after_multibyte_text_is_reported_not_a_panic() {
    // Found by fuzz/scan_env: the line of a value left in the file was counted with an offset into the
    // rewritten text applied to the original, which could fall inside a multi-byte character.
    let dir = tempfile::tempdir().expect("tempdir");
    // Passphrases of four lengths shift the rewritten text against the original by four offsets.
    for pass in ["Gr1d-Bot!W", "Gr1d-Bot!Wo", "Gr1d-Bot!Woc", ENV_OKX_PASS] {
        let file = dir.path().join(pass.len().to_string()).join(".env");
        fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
        let text = format!(
            "# réglages\nOKX_API_KEY={ENV_OKX_KEY}\nOKX_API_SECRET={ENV_OKX_SECRET}\nOKX_API_PASSPHRASE={pass}\n# old: {ENV_OKX_SECRET} {}\n",
            "é".repeat(40)
        );
        fs::write(&file, &text).expect("write");
        let findings: Vec<_> =
            scan(std::slice::from_ref(&file)).findings.into_iter().filter(|f| f.importable).collect();
        assert_eq!(findings.len(), 1, "{pass}");
        let err = rewrite_without_secrets(&file, &findings).unwrap_err();
        assert!(matches!(err, ScanError::ValueRemains { line: 5, .. }), "{pass}: {err}");
        assert_eq!(fs::read_to_string(&file).expect("read"), text, "nothing changed");
    }
}

#[test]
fn look_alike_sets_on_one_line_are_each_removed() {
    // Found by fuzz/scan_script: two keys with the same hint on one line (two ccxt calls) made both
    // findings match the first set, so the second secret stayed in the file while the rewrite
    // reported success.
    let k1 = "Qm7Tz2Wd9Kx4Lp8Rv3Ns6Jb1Hf5Gc0YaUe2Xo7Ti4Pk9Wq3Zr8Ml6Dn1Sv5Bh0Cj";
    let k2 = "Qm7Tz2Wd9Kx4Lp8Rv3Ns6Jb1Hf5Gc0YaUe3Xo7Ti4Pk9Wq3Zr8Ml6Dn1Sv5Bh0Cj";
    let s1 = "Hn4Rt8Yu2Io6Pa1Sd5Fg9Hj3Kl7Zx0Cv4Bn8Mq2We6Rt1Yu5Ia9Os3Pd7Fg2Hj6K";
    let s2 = "Hn4Rt8Yu2Io6Pa1Sd5Fg9Hj3Kl7Zx0Cv4Bn8Mq3We6Rt1Yu5Ia9Os3Pd7Fg2Hj6K";
    let text = format!(
        "const a = new ccxt.binance({{ apiKey: '{k1}', secret: '{s1}' }}); const b = new ccxt.binance({{ apiKey: '{k2}', secret: '{s2}' }});\n"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("bots.js");
    fs::write(&file, &text).expect("write");
    let all = scan(std::slice::from_ref(&file)).findings;
    let findings: Vec<_> = all.iter().filter(|f| f.importable).cloned().collect();
    assert_eq!(findings.len(), 2, "{all:#?}");
    assert_eq!(findings[0].key_hint, findings[1].key_hint, "the two sets look alike");

    // Only one of two look-alike sets: refused, nothing changed.
    let err = rewrite_without_secrets(&file, &findings[1..]).unwrap_err();
    assert!(matches!(err, ScanError::Ambiguous { line: 1, .. }), "{err}");
    assert_eq!(fs::read_to_string(&file).expect("read"), text);

    rewrite_without_secrets(&file, &findings).expect("rewrite");
    let after = fs::read_to_string(&file).expect("read");
    for v in [k1, k2, s1, s2] {
        assert!(!after.contains(v), "{} is still in the file", hint(v));
    }
}

/// KuCoin and Gate keys by their variable names, Freqtrade's `exchange.name` (the ccxt ids
/// `kucoin`, `gateio`) and a ccxt constructor; a generic pair by its shape alone.
#[test]
fn kucoin_and_gate_keys_are_recognised_by_name_ccxt_id_and_shape() {
    let (kc_key, kc_secret, kc_pass) =
        ("5f8e3a1c9b7d4e2f6a0b1c2d", "3c1d8e2f-7a4b-4c9d-8e1f-2a3b4c5d6e7f", "Kc7Bot2026");
    let (gt_key, gt_secret) =
        ("8e1f2a3b4c5d6e7f9a0b1c2d3e4f5a6b", "4f6e8d0c2b4a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0");
    let dir = tempfile::tempdir().expect("tempdir");
    let env = dir.path().join(".env");
    fs::write(&env, format!("KUCOIN_API_KEY={kc_key}\nKUCOIN_API_SECRET={kc_secret}\nKUCOIN_API_PASSPHRASE={kc_pass}\nGATEIO_API_KEY={gt_key}\nGATEIO_API_SECRET={gt_secret}\n")).expect("write");
    let config = dir.path().join("config.json");
    fs::write(&config, format!(r#"{{"exchange": {{"name": "gateio", "key": "{gt_key}", "secret": "{gt_secret}"}}}}"#))
        .expect("write");
    let script = dir.path().join("bot.py");
    fs::write(
        &script,
        format!("ex = ccxt.kucoin({{'apiKey': '{kc_key}', 'secret': '{kc_secret}', 'password': '{kc_pass}'}})\n"),
    )
    .expect("write");
    let generic = dir.path().join("generic.env");
    fs::write(&generic, format!("API_KEY={kc_key}\nAPI_SECRET={kc_secret}\nAPI_PASSPHRASE={kc_pass}\n"))
        .expect("write");
    for (file, expected) in [
        (&env, vec![Exchange::Kucoin, Exchange::Gate]),
        (&config, vec![Exchange::Gate]),
        (&script, vec![Exchange::Kucoin]),
        (&generic, vec![Exchange::Kucoin]),
    ] {
        let found: Vec<_> = scan(std::slice::from_ref(file)).findings.into_iter().filter(|f| f.importable).collect();
        let mut exchanges: Vec<Exchange> = found.iter().map(|f| f.exchange).collect();
        exchanges.sort_by_key(|e| e.as_str());
        let mut want = expected.clone();
        want.sort_by_key(|e| e.as_str());
        assert_eq!(exchanges, want, "{}: {found:#?}", file.display());
        let kucoin = found.iter().find(|f| f.exchange == Exchange::Kucoin);
        assert!(kucoin.is_none_or(|f| f.has_passphrase && f.has_secret), "{found:#?}");
    }
}

/// Kraken, Bitget and Deribit keys by their variable names, Freqtrade's `exchange.name` and a
/// ccxt constructor (their ccxt ids are their names); Bitget's passphrase is found beside its key.
#[test]
fn kraken_bitget_and_deribit_keys_are_recognised_by_name_and_ccxt_id() {
    let (kr_key, kr_secret) = (
        "kcSVllS0+ZajuHGBFVohoe5ozyxo8OzbX/KxQJi+j6BRBUChSelrKsll",
        "YP/yQuUbi2wFnvFBqN2fb56nKhRRqyT6ltWBhs+tJq8UOgfmwfoK/C2Dkjvwi3ZlDczyy5vMlrKz7xGLsuVh7A==",
    );
    let (bg_key, bg_secret, bg_pass) = (
        "bg_f0fe5f882c3b15b3e5ff1fe0d40ff81b",
        "b844259977ad238c6b849b3780c9f05c9f036a136e48fef5283543a6dfe07297",
        "BitgetBot2026",
    );
    let (db_key, db_secret) = ("91612b8c", "gFQZQGZTV4J04HYaSJgOV42L2FAJjdaHI3epZ4W0wH8");
    let dir = tempfile::tempdir().expect("tempdir");
    let env = dir.path().join(".env");
    fs::write(
        &env,
        format!(
            "KRAKEN_API_KEY={kr_key}\nKRAKEN_API_SECRET={kr_secret}\nBITGET_API_KEY={bg_key}\nBITGET_API_SECRET={bg_secret}\nBITGET_PASSPHRASE={bg_pass}\nDERIBIT_API_KEY={db_key}\nDERIBIT_API_SECRET={db_secret}\n"
        ),
    )
    .expect("write");
    let config = dir.path().join("config.json");
    fs::write(&config, format!(r#"{{"exchange": {{"name": "kraken", "key": "{kr_key}", "secret": "{kr_secret}"}}}}"#))
        .expect("write");
    let script = dir.path().join("bot.py");
    fs::write(
        &script,
        format!(
            "bg = ccxt.bitget({{'apiKey': '{bg_key}', 'secret': '{bg_secret}', 'password': '{bg_pass}'}})\ndb = ccxt.deribit({{'apiKey': '{db_key}', 'secret': '{db_secret}'}})\n"
        ),
    )
    .expect("write");
    for (file, expected) in [
        (&env, vec![Exchange::Bitget, Exchange::Deribit, Exchange::Kraken]),
        (&config, vec![Exchange::Kraken]),
        (&script, vec![Exchange::Bitget, Exchange::Deribit]),
    ] {
        let found: Vec<_> = scan(std::slice::from_ref(file)).findings.into_iter().filter(|f| f.importable).collect();
        let mut exchanges: Vec<Exchange> = found.iter().map(|f| f.exchange).collect();
        exchanges.sort_by_key(|e| e.as_str());
        assert_eq!(exchanges, expected, "{}: {found:#?}", file.display());
        let bitget = found.iter().find(|f| f.exchange == Exchange::Bitget);
        assert!(bitget.is_none_or(|f| f.has_passphrase && f.has_secret), "{found:#?}");
    }
}
