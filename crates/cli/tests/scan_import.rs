//! `latchkey scan` and `latchkey import` end to end, on a copy of the scanner's fixture tree
//! (`crates/core/tests/fixtures/scan/`). The import test needs a Secret Service and is ignored outside
//! the private desktop session: `scripts/test-all.sh` (or `scripts/desktop-session.sh cargo test -p
//! latchkey-cli -- --include-ignored`) runs it.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use sha2::{Digest, Sha256};

const ENV_OKX_KEY: &str = "7cb9b961-9b72-4b47-866a-bd55294969a5";
const ENV_OKX_SECRET: &str = "7FE314CF51A394A828F1B88C693F8FF7";
const ENV_OKX_PASS: &str = "Gr1d-Bot!Woci";

/// Every value in the fixture tree that is (part of) a credential: none may appear in any output.
const FIXTURE_SECRETS: &[&str] = &[
    ENV_OKX_KEY,
    ENV_OKX_SECRET,
    ENV_OKX_PASS,
    "G2YjiXoV3JrKsdaEyz4TDwyAHJZBCP4JzbFWDjnYjeim3jWcFlv8VxYiUxWCcpue",
    "sXcluhzroHpJWORG3zfbgws3gbg7MFC2gwOoZzCD178Cbdajg7rzMNElC2Q6V0Ru",
    "3rLnvFL6tpQqzGzkpF7ctEAPSpiFau0LkTFJ8dBmjc1g4majB3MpAarLjtCnJgoj",
    "W3oMeAQvwOmK9XUOsYcuWknzcQzhfVbBOxaFgCZUeHsKXh25XkaJqnA5NqCZBrVT",
    "d1a4f095-3f85-42b1-a252-0c176bece2b7",
    "0B92CC66CB9CE755F7373A6A3FA8A0DC",
    "Fr3qtr4de#pdc",
    "fhp1TNrnBhnDuZO0l0",
    "s5vnZtvzdhwVL5sKYnGBexOPoppgPGUarPo5",
    "RIobPytvD2IPSQ4ZYO",
    "G5l4gtoN6jfAFDhnFViM8anE61qA73MkLMjo",
    "a05de4b8-c5e6-4d92-8dfe-4e7af34beb78",
    "E3181927C05D9A04F71E81DEFAF6B08A",
    "T0ml_NeK6tl",
    "5425a6a3-66e1-4f2e-a4a3-d144216a8f4f",
    "379FD7EAAA7066FB7890A3EFFDFC0F49",
    "Ccxt.CXpghJ",
    "f9Xw3mq5TzUrV2qqNMcoLNh2eVXjNNKQgg48NYb8GyhD1Mw1vMyQAnl0G89VhnCr",
    "eVMvalbWkKa0ctxFKg8rBMv3wktxtyuzC5r9OOL3vRIzO69396W8o6dxqcptzdLd",
    "4g9E3xvsqEzLPtP4QYboKlH5cwXS3Ixxw01dZt7Vp0bVitTIWEUG5LwglCjzwIDE",
    "sEdXnFdQKUylmJzP1jxMJ4rdLESx7nbcq6K6nKhSTAAnNmjFiwzK9rGkrwC9PV7h",
    "p6Xvi38zbZhGK8TvFaeE5RyhuzZ456JlGpoRp18oJC0y5YdUSjlAXGXakCMaEEWA",
    "eg5DOOrF3o0GIRkBrc",
    "0909c235-b94b-415d-90a5-f14be4717237",
    "CurlZ8QBgl",
    "Qm7Tz2Wd9Kx4Lp8Rv3Ns6Jb1Hf5Gc0YaUe2Xo7Ti4Pk9Wq3Zr8Ml6Dn1Sv5Bh0Cj",
];

fn fixture_tree() -> PathBuf {
    Path::new(&std::env::var("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR"))
        .join("../core/tests/fixtures/scan")
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A temp copy of the fixture tree; checks that every listed secret really is in it.
fn fixture_copy() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("scan");
    copy_tree(&fixture_tree(), &root);
    let mut all = Vec::new();
    collect(&root, &mut all);
    for s in FIXTURE_SECRETS {
        assert!(all.windows(s.len()).any(|w| w == s.as_bytes()), "{s:.4}… is not in the fixtures any more");
    }
    (dir, root)
}

fn collect(dir: &Path, out: &mut Vec<u8>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, out);
        } else {
            out.extend(fs::read(&path).unwrap());
            out.push(b'\n');
        }
    }
}

fn latchkey(data_dir: &Path, service: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_latchkey"))
        .args(args)
        .env("LATCHKEY_DATA_DIR", data_dir)
        .env("LATCHKEY_KEYCHAIN_SERVICE", service)
        .env_remove("LATCHKEY_API_KEY")
        .env_remove("LATCHKEY_API_SECRET")
        .env_remove("LATCHKEY_API_PASSPHRASE")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn assert_no_secret(out: &Output, what: &str) {
    for s in FIXTURE_SECRETS {
        for (name, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            assert!(!bytes.windows(s.len()).any(|w| w == s.as_bytes()), "{s:.4}… appeared on the {name} of {what}");
        }
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn service() -> String {
    format!("latchkey-cli-test-{}", uuid::Uuid::new_v4().simple())
}

#[test]
fn scan_finds_every_fixture_file_and_prints_no_secret() {
    let (dir, root) = fixture_copy();
    let data = dir.path().join("data");
    let out = latchkey(&data, &service(), &["scan", root.to_str().unwrap(), "--json"]);
    assert_no_secret(&out, "scan --json");
    assert_eq!(out.status.code(), Some(1), "credentials found → exit 1; stderr: {}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = report["findings"].as_array().unwrap();
    let files: BTreeSet<String> = findings
        .iter()
        .map(|f| {
            let p = PathBuf::from(f["path"].as_str().unwrap());
            p.strip_prefix(&root).unwrap().to_string_lossy().into_owned()
        })
        .collect();
    let expected: BTreeSet<String> = [
        "bot-binance/.env.production",
        "bot-okx/.env",
        "freqtrade/user_data/config.json",
        "generic/.env",
        "history/.bash_history",
        "history/.zsh_history",
        "hummingbot/conf/connectors/bybit.yml",
        "hummingbot/conf/connectors/okx.yml",
        "scripts/bot.js",
        "scripts/trade.py",
        "toml/bot.toml",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(files, expected);
    assert_eq!(findings.len(), 15);
    let okx_env = findings.iter().find(|f| f["path"].as_str().unwrap().ends_with("bot-okx/.env")).unwrap();
    assert_eq!((okx_env["line"].as_u64(), okx_env["exchange"].as_str()), (Some(2), Some("okx")));
    assert_eq!((okx_env["kind"].as_str(), okx_env["keyHint"].as_str()), (Some("envFile"), Some("7cb9…69a5")));
    assert_eq!(okx_env["importable"], true);
    // Corrupt files are warnings, on stderr and in the JSON; not failures.
    assert_eq!(report["warnings"].as_array().unwrap().len(), 3);
    assert!(text(&out.stderr).contains("corrupt/config.json"), "{}", text(&out.stderr));
    assert!(!data.exists(), "scan needs no store");

    // The human table: same findings, same silence about values.
    let out = latchkey(&data, &service(), &["scan", root.to_str().unwrap()]);
    assert_no_secret(&out, "scan");
    assert_eq!(out.status.code(), Some(1));
    let table = text(&out.stdout);
    assert!(table.starts_with("FILE") && table.contains("7cb9…69a5") && table.contains("shell history"), "{table}");
    assert!(!table.contains("decoys"), "{table}");
}

#[test]
fn scan_of_a_clean_folder_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let clean = dir.path().join("clean");
    fs::create_dir(&clean).unwrap();
    fs::write(clean.join(".env"), "LOG_LEVEL=info\nOKX_API_KEY=${OKX_API_KEY}\n").unwrap();
    fs::write(clean.join("README.md"), "Run `latchkey run okx-bot -- python bot.py`.\n").unwrap();
    let data = dir.path().join("data");
    let out = latchkey(&data, &service(), &["scan", clean.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("No exchange credentials found"));
    let out = latchkey(&data, &service(), &["scan", "--json", clean.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["findings"], serde_json::json!([]));
    assert_eq!(report["filesScanned"], 2);

    let out = latchkey(&data, &service(), &["scan", dir.path().join("missing").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "a missing path is not 'found': {}", text(&out.stderr));
}

#[test]
fn import_refuses_what_it_cannot_do_without_touching_the_file() {
    let (dir, root) = fixture_copy();
    let data = dir.path().join("data");
    let svc = service();
    // --label with two importable keys: usage error, before anything is stored.
    let toml = root.join("toml/bot.toml");
    let out = latchkey(&data, &svc, &["import", toml.to_str().unwrap(), "--label", "x", "--no-verify"]);
    assert_no_secret(&out, "import --label");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("2 importable keys"), "{}", text(&out.stderr));

    // Nothing importable (Hummingbot's encrypted values): nothing stored, nothing rewritten.
    let hb = root.join("hummingbot/conf/connectors/okx.yml");
    let before = fs::read(&hb).unwrap();
    let out = latchkey(&data, &svc, &["import", hb.to_str().unwrap(), "--no-verify", "--rewrite", "--json"]);
    assert_no_secret(&out, "import okx.yml");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((report["imported"].as_u64(), report["skipped"].as_u64()), (Some(0), Some(1)));
    assert_eq!(report["backup"], Value::Null);
    assert_eq!(report["keys"][0]["result"], "skipped");
    assert_eq!(fs::read(&hb).unwrap(), before);
    let names: Vec<String> = fs::read_dir(hb.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains("latchkey-backup")), "{names:?}");

    // A folder is not a file.
    let out = latchkey(&data, &svc, &["import", root.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let list: Value = serde_json::from_slice(&latchkey(&data, &svc, &["list", "--json"]).stdout).unwrap();
    assert_eq!(list, serde_json::json!([]));
}

#[test]
#[ignore = "needs a Secret Service: run scripts/test-all.sh"]
fn import_env_file_stores_the_key_and_rewrites_the_file_after_a_backup() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let svc = service();
    let bot = dir.path().join("bot");
    fs::create_dir(&bot).unwrap();
    let env_file = bot.join(".env");
    fs::copy(fixture_tree().join("bot-okx/.env"), &env_file).unwrap();
    let original = fs::read(&env_file).unwrap();

    let out = latchkey(&data, &svc, &["import", env_file.to_str().unwrap(), "--no-verify", "--rewrite", "--json"]);
    assert_no_secret(&out, "import --json");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((report["imported"].as_u64(), report["skipped"].as_u64()), (Some(1), Some(1)));
    assert_eq!(report["failed"], 0);
    let item = report["keys"].as_array().unwrap().iter().find(|k| k["result"] == "imported").unwrap();
    let label = item["label"].as_str().unwrap().to_owned();
    assert_eq!(label, "okx-7cb9-69a5-1");
    assert_eq!(item["key"]["keyHint"], "7cb9…69a5");
    let skipped = report["keys"].as_array().unwrap().iter().find(|k| k["result"] == "skipped").unwrap();
    assert_eq!((skipped["line"].as_u64(), skipped["exchange"].as_str()), (Some(7), Some("binance")));

    // The store has it…
    let list: Value = serde_json::from_slice(&latchkey(&data, &svc, &["list", "--json"]).stdout).unwrap();
    let keys = list.as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!((keys[0]["label"].as_str(), keys[0]["exchange"].as_str()), (Some(label.as_str()), Some("okx")));
    assert_eq!(keys[0]["verifiedAt"], Value::Null);

    // …and the keychain holds the secret: a child gets it (compared by hash, never printed).
    let out = latchkey(&data, &svc, &["run", &label, "--", "sh", "-c", r#"printf %s "$OKX_API_SECRET" | sha256sum"#]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let want = hex::encode(Sha256::digest(ENV_OKX_SECRET.as_bytes()));
    assert!(text(&out.stdout).starts_with(&want), "the child got another secret");

    // A 0600 backup identical to the original, and the values gone from the file.
    let backup = PathBuf::from(report["backup"].as_str().unwrap());
    assert_eq!(backup.parent(), env_file.parent());
    assert_eq!(fs::read(&backup).unwrap(), original);
    assert_eq!(fs::metadata(&backup).unwrap().permissions().mode() & 0o777, 0o600);
    let rewritten = fs::read_to_string(&env_file).unwrap();
    for v in [ENV_OKX_KEY, ENV_OKX_SECRET, ENV_OKX_PASS] {
        assert!(!rewritten.contains(v), "a value is still in the file");
    }
    assert!(rewritten.contains(&format!("# OKX_API_SECRET {}", latchkey_core::scan::MOVED_MARKER)), "{rewritten}");
    assert!(rewritten.contains("LOG_LEVEL=info"));

    // Generated labels stay unique: a second copy of the file gets the next number.
    let copy = bot.join("other.env");
    fs::write(&copy, &original).unwrap();
    let out = latchkey(&data, &svc, &["import", copy.to_str().unwrap(), "--no-verify"]);
    assert_no_secret(&out, "import (text)");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(said.contains("imported  line 2: OKX 7cb9…69a5 (env) as 'okx-7cb9-69a5-2'"), "{said}");
    assert!(said.contains("--rewrite"), "{said}");
    assert_eq!(fs::read(&copy).unwrap(), original, "no --rewrite: the file is untouched");

    // Shell history: rewritten, with the warning that open shells may write it back.
    let hist = bot.join(".zsh_history");
    fs::copy(fixture_tree().join("history/.zsh_history"), &hist).unwrap();
    let out = latchkey(&data, &svc, &["import", hist.to_str().unwrap(), "--no-verify", "--rewrite", "--label", "zsh"]);
    assert_no_secret(&out, "import .zsh_history");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("as 'zsh'"), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains(".latchkey-backup-"), "{}", text(&out.stdout));
    assert!(text(&out.stderr).contains("may write the values back"), "{}", text(&out.stderr));
}
