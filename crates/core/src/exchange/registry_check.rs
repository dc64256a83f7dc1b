//! The rule that keeps exchanges in their adapters, checked on the sources: outside the registry
//! and the exchanges' own modules (here and in the simulator), no code names an exchange's variant
//! (`Exchange::Okx`, `SimExchange::Bybit`, a mirror enum's `Binance` arm). Tests, examples and
//! comments may name exchanges as data; deciding by the exchange's name is the adapters' job.

use std::path::{Path, PathBuf};

use crate::model::Exchange;

/// Where an exchange may be named in code.
fn allowed(relative: &str) -> bool {
    let ids = Exchange::ALL.map(Exchange::as_str);
    relative == "crates/core/src/exchange/registry.rs"
        || relative == "crates/exchange-sim/src/venue.rs"
        // This check's own examples.
        || relative == "crates/core/src/exchange/registry_check.rs"
        || ids.iter().any(|id| {
            relative == format!("crates/core/src/exchange/{id}.rs")
                || relative == format!("crates/exchange-sim/src/{id}.rs")
        })
}

/// The enums that declare the exchanges: the model's and the simulator's seed format.
fn declares_the_enum(relative: &str) -> bool {
    relative == "crates/core/src/model.rs" || relative == "crates/exchange-sim/src/seed.rs"
}

/// Known, explained exceptions: (file, the exact code, why).
const EXCEPTIONS: &[(&str, &str, &str)] = &[(
    "crates/core/src/revoke/report.rs",
    r#"None => ("(deleted)".to_owned(), Exchange::Okx, String::new()),"#,
    "a filler value for a report line whose key was deleted; nothing is decided by it (the report's wording is another change's)",
)];

/// The checkout to check: this one, or `LATCHKEY_CHECK_ROOT` (e.g. an older commit's tree, to see
/// the check fail there).
fn workspace_root() -> PathBuf {
    std::env::var_os("LATCHKEY_CHECK_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
}

/// The Rust sources of the product: every crate's `src/` and the desktop shell.
fn sources(root: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = vec![root.join("src-tauri")];
    for entry in std::fs::read_dir(root.join("crates")).expect("crates/ is readable").flatten() {
        dirs.push(entry.path().join("src"));
    }
    dirs.iter()
        .flat_map(|dir| walkdir::WalkDir::new(dir).into_iter().flatten())
        .map(|e| e.into_path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .collect()
}

/// The offending lines of one file: code (not comments, not the trailing `mod tests`) that names
/// an exchange's variant.
fn offences(relative: &str, text: &str) -> Vec<String> {
    let variants: Vec<String> = Exchange::ALL.iter().map(|e| format!("{e:?}")).collect();
    let mut found = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let code = line.trim();
        if code.starts_with("#[cfg(test)]") && lines.get(i + 1).is_some_and(|next| next.starts_with("mod tests")) {
            break;
        }
        if code.starts_with("//") {
            continue;
        }
        let path_use = variants.iter().any(|v| code.contains(&format!("::{v}")));
        let declared = variants.iter().any(|v| code == format!("{v},") || code == *v);
        if !(path_use || declared) {
            continue;
        }
        if declared && !path_use && declares_the_enum(relative) {
            continue;
        }
        if EXCEPTIONS.iter().any(|(file, exact, _)| *file == relative && code == *exact) {
            continue;
        }
        found.push(format!("{relative}:{}: {code}", i + 1));
    }
    found
}

#[test]
fn no_code_outside_the_adapters_names_an_exchange() {
    let root = workspace_root();
    let files = sources(&root);
    assert!(files.len() > 50, "the walk found the sources ({} files)", files.len());
    let mut found = Vec::new();
    for path in files {
        let relative = path.strip_prefix(&root).expect("under the root").to_string_lossy().replace('\\', "/");
        if allowed(&relative) {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("a source file is readable");
        found.extend(offences(&relative, &text));
    }
    assert!(
        found.is_empty(),
        "Only the registry and the exchanges' own modules may name an exchange; ask its adapter (`exchange.profile()`, `exchange.capabilities()`) instead:\n{}",
        found.join("\n")
    );
}

/// The model is the bottom layer: the adapters use its types, it never uses theirs.
#[test]
fn the_model_does_not_depend_on_the_exchange_layer() {
    let root = workspace_root().join("crates/core/src");
    let mut model_files = vec![root.join("model.rs")];
    model_files.extend(
        walkdir::WalkDir::new(root.join("model")).into_iter().flatten().map(|e| e.into_path()).filter(|p| p.is_file()),
    );
    let mut found = Vec::new();
    for path in model_files {
        let text = std::fs::read_to_string(&path).expect("a model file is readable");
        for (i, line) in text.lines().enumerate() {
            if line.contains("crate::exchange") || line.contains("super::exchange") {
                found.push(format!("{}:{}: {}", path.display(), i + 1, line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "the model imports from exchange/:\n{}", found.join("\n"));
}

#[test]
fn the_check_catches_what_it_should() {
    let matcher = "fn f(e: Exchange) -> u8 {\n    match e {\n        Exchange::Okx => 1,\n        _ => 2,\n    }\n}\n";
    assert_eq!(offences("crates/core/src/risk.rs", matcher).len(), 1);
    let mirror = "enum ExchangeArg {\n    Okx,\n    Bybit,\n    Binance,\n}\n";
    assert_eq!(offences("crates/cli/src/cli.rs", mirror).len(), 3, "a mirror enum");
    assert!(offences("crates/core/src/model.rs", mirror).is_empty(), "the model declares the enum");
    let sim = "let e = SimExchange::Bybit;\n";
    assert_eq!(offences("crates/exchange-sim/src/server.rs", sim).len(), 1);
    let test_only = "fn f() {}\n#[cfg(test)]\nmod tests {\n    const E: Exchange = Exchange::Okx;\n}\n";
    assert!(offences("crates/core/src/risk.rs", test_only).is_empty(), "tests may name exchanges");
    assert!(offences("crates/core/src/risk.rs", "    // Exchange::Okx is special\n").is_empty());
    assert!(allowed("crates/core/src/exchange/okx.rs") && allowed("crates/exchange-sim/src/binance.rs"));
    assert!(!allowed("crates/core/src/exchange/client.rs"));
}
