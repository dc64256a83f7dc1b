//! The detectors, one per format, and the step that turns their raw hits into checked credential sets.

use std::collections::HashSet;
use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;
use secrecy::SecretString;
use zeroize::Zeroizing;

use super::names::{self, classify, exchange_word, Role};
use super::shape;
use super::{FileType, Finding, FindingKind, BACKUP_SUFFIX};
use crate::exchange::adapter::HeaderPart;
use crate::model::Exchange;

/// The end of a parse warning: the file is passed over, not guessed at.
const REPAIR: &str = "skipped. Fix the file, then scan it again.";
use crate::secret::{key_hint, Credentials};
use crate::validate;

/// How a value is taken out of its file by [`super::rewrite_without_secrets`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Removal {
    /// The value becomes empty (`"…"` → `""`, `X=…` → `X=`): JSON, scripts, history.
    Blank,
    /// The value becomes `""` and the line gets a `# moved to the OS keychain by Latchkey` comment.
    BlankMarked,
    /// The whole line becomes `# NAME moved to the OS keychain by Latchkey`: `.env` files.
    CommentLine,
}

/// One value found in the text.
pub(crate) struct Hit {
    pub role: Role,
    pub name: String,
    pub value: Zeroizing<String>,
    pub line: usize,
    /// Byte range of the value in the text, when it could be found there.
    pub span: Option<(usize, usize)>,
    pub removal: Removal,
}

/// Hits that belong together (same file, same scope) before they are checked.
struct Candidate {
    key: String,
    kind: FindingKind,
    exchange: Option<Exchange>,
    /// Named after an exchange (`OKX_API_KEY`, `okx_api_key`, a ccxt call, a header), not generic.
    named: bool,
    hits: Vec<Hit>,
}

/// A checked set, with its hits kept for rewriting.
pub(crate) struct Set {
    pub finding: Finding,
    pub credentials: Option<Credentials>,
    pub hits: Vec<Hit>,
}

impl Set {
    pub(crate) fn into_finding(self, path: &Path) -> (Finding, Option<Credentials>) {
        let mut finding = self.finding;
        finding.path = path.to_path_buf();
        (finding, self.credentials)
    }
}

pub(crate) struct Scanned {
    pub sets: Vec<Set>,
    pub warning: Option<String>,
}

/// Byte offsets of line starts, for turning an offset into a 1-based line number.
struct Lines(Vec<usize>);

impl Lines {
    fn new(text: &str) -> Self {
        Lines(std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect())
    }
    fn line_of(&self, offset: usize) -> usize {
        self.0.partition_point(|&start| start <= offset)
    }
    fn range(&self, line: usize, text: &str) -> (usize, usize) {
        let start = self.0.get(line.saturating_sub(1)).copied().unwrap_or(text.len());
        let end = self.0.get(line).map_or(text.len(), |next| next - 1);
        (start, end)
    }
}

/// Collects hits into candidates: hits with the same key join the latest candidate of that key unless
/// it already holds that part, so a second `OKX_API_KEY` further down starts a new set.
#[derive(Default)]
struct Groups(Vec<Candidate>);

impl Groups {
    fn add(&mut self, key: String, kind: FindingKind, exchange: Option<Exchange>, named: bool, hit: Hit) {
        let open = self.0.iter_mut().rev().find(|c| c.key == key && c.kind == kind);
        match open {
            Some(c) if !c.hits.iter().any(|h| h.role == hit.role) => {
                c.exchange = c.exchange.or(exchange);
                c.named |= named;
                c.hits.push(hit);
            }
            _ => self.0.push(Candidate { key, kind, exchange, named, hits: vec![hit] }),
        }
    }
}

fn hit(role: Role, name: &str, value: &str, span: Option<(usize, usize)>, lines: &Lines, removal: Removal) -> Hit {
    let line = span.map_or(1, |(start, _)| lines.line_of(start));
    Hit { role, name: name.to_owned(), value: Zeroizing::new(value.to_owned()), line, span, removal }
}

pub(crate) fn scan_text(path: &Path, ftype: FileType, text: &str) -> Scanned {
    let lines = Lines::new(text);
    let mut groups = Groups::default();
    let mut used: HashSet<(usize, usize)> = HashSet::new();
    let mut warning = None;
    match ftype {
        FileType::Env => {
            env_lines(text, &lines, FindingKind::EnvFile, &mut groups, &mut used);
            headers(text, &lines, FindingKind::EnvFile, &mut groups, &mut used);
        }
        FileType::History => {
            shell_assignments(text, &lines, FindingKind::ShellHistory, &mut groups, &mut used);
            headers(text, &lines, FindingKind::ShellHistory, &mut groups, &mut used);
        }
        FileType::Script => {
            ccxt_calls(text, &lines, &mut groups, &mut used);
            literal_assignments(text, &lines, &mut groups, &mut used);
            headers(text, &lines, FindingKind::Ccxt, &mut groups, &mut used);
        }
        FileType::Text => {
            ccxt_calls(text, &lines, &mut groups, &mut used);
            shell_assignments(text, &lines, FindingKind::EnvFile, &mut groups, &mut used);
            headers(text, &lines, FindingKind::EnvFile, &mut groups, &mut used);
        }
        FileType::Json => match serde_json::from_str::<serde_json::Value>(text) {
            Ok(value) => {
                let tree = Tree::from_json(value);
                let freqtrade = tree.get("exchange").and_then(|e| e.get("name")).is_some();
                let kind = if freqtrade { FindingKind::Freqtrade } else { FindingKind::Json };
                walk_tree(&tree, &mut Vec::new(), None, kind, Removal::Blank, text, &lines, &mut groups, &mut used);
            }
            Err(e) => warning = Some(format!("not valid JSON (line {}, column {}): {REPAIR}", e.line(), e.column())),
        },
        FileType::Yaml => {
            let hummingbot = path.components().any(|c| c.as_os_str() == "conf");
            let mut docs = Vec::new();
            for doc in serde_norway::Deserializer::from_str(text) {
                match <serde_norway::Value as serde::Deserialize>::deserialize(doc) {
                    Ok(v) => docs.push(Tree::from_yaml(v)),
                    Err(e) => {
                        let at = e.location().map(|l| format!(" (line {}, column {})", l.line(), l.column()));
                        warning = Some(format!("not valid YAML{}: {REPAIR}", at.unwrap_or_default()));
                        docs.clear();
                        break;
                    }
                }
            }
            for tree in &docs {
                let hb_names = tree.keys().iter().any(|k| is_hummingbot_name(k));
                let kind = if hummingbot || hb_names { FindingKind::Hummingbot } else { FindingKind::Yaml };
                walk_tree(
                    tree,
                    &mut Vec::new(),
                    None,
                    kind,
                    Removal::BlankMarked,
                    text,
                    &lines,
                    &mut groups,
                    &mut used,
                );
            }
        }
        FileType::Toml => match text.parse::<toml::Table>() {
            Ok(table) => {
                let tree = Tree::from_toml(toml::Value::Table(table));
                let (kind, removal) = (FindingKind::Toml, Removal::BlankMarked);
                walk_tree(&tree, &mut Vec::new(), None, kind, removal, text, &lines, &mut groups, &mut used);
            }
            Err(e) => {
                let at = e.span().map(|s| format!(" (line {})", lines.line_of(s.start))).unwrap_or_default();
                warning = Some(format!("not valid TOML{at}: {REPAIR}"));
            }
        },
    }
    let file_exchange = file_exchange(path, text);
    let backup = path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.contains(BACKUP_SUFFIX));
    let sets = groups.0.into_iter().filter_map(|c| evaluate(c, file_exchange, backup)).collect();
    Scanned { sets, warning }
}

/// Hummingbot's connector settings: `okx_api_key`, `bybit_api_secret`, `binance_secret_key`, ….
fn is_hummingbot_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    ["okx_", "bybit_", "binance_"].iter().any(|p| lower.starts_with(p))
        && ["_api_key", "_secret_key", "_api_secret", "_passphrase"].iter().any(|s| lower.ends_with(s))
}

/// The one exchange a file's path or text talks about, if exactly one.
fn file_exchange(path: &Path, text: &str) -> Option<Exchange> {
    static WORD: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)\b(okx|okex|okex5|bybit|binance|binanceusdm|binancecoinm)\b").expect("valid regex")
    });
    let from_path: HashSet<Exchange> = path
        .components()
        .flat_map(|c| names::words(&c.as_os_str().to_string_lossy()))
        .filter_map(|w| exchange_word(&w))
        .collect();
    if from_path.len() == 1 {
        return from_path.into_iter().next();
    }
    let from_text: HashSet<Exchange> = WORD.find_iter(text).filter_map(|m| exchange_word(m.as_str())).collect();
    if from_text.len() == 1 {
        from_text.into_iter().next()
    } else {
        None
    }
}

/// `.env` lines: `NAME=value`, `export NAME=value`, quoted or not; `#` lines are comments.
fn env_lines(text: &str, lines: &Lines, kind: FindingKind, groups: &mut Groups, used: &mut HashSet<(usize, usize)>) {
    let mut offset = 0;
    for raw in text.split_inclusive('\n') {
        let start = offset;
        offset += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        // A commented-out key is still a key lying in the file: read past the `#`.
        let trimmed = line.trim_start().trim_start_matches('#').trim_start();
        let rest = trimmed.strip_prefix("export ").map_or(trimmed, str::trim_start);
        let name_len = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.')).unwrap_or(rest.len());
        let (name, after) = rest.split_at(name_len);
        if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
            continue;
        }
        let Some(after_eq) = after.trim_start().strip_prefix('=') else { continue };
        let value_part = after_eq.trim_start();
        let value_at = start + (line.len() - value_part.len());
        let (value, vstart) = match value_part.chars().next() {
            Some(q @ ('"' | '\'')) => match value_part[1..].find(q) {
                Some(end) => (&value_part[1..1 + end], value_at + 1),
                None => continue,
            },
            _ => {
                let end = value_part.find(char::is_whitespace).unwrap_or(value_part.len());
                (&value_part[..end], value_at)
            }
        };
        let Some(class) = classify(name) else { continue };
        let span = (vstart, vstart + value.len());
        used.insert(span);
        let h = hit(class.role, name, value, Some(span), lines, Removal::CommentLine);
        groups.add(class.scope, kind, class.exchange, class.exchange.is_some(), h);
    }
}

/// Assignments anywhere on a shell line: `export A=…`, `A=… B=… cmd`, zsh's `: 1700000000:0;` prefix
/// included (the prefix is just another separator).
fn shell_assignments(
    text: &str,
    lines: &Lines,
    kind: FindingKind,
    groups: &mut Groups,
    used: &mut HashSet<(usize, usize)>,
) {
    static ASSIGN: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r#"(?m)(?:^|[\s;&|(])(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(?:"([^"\n]*)"|'([^'\n]*)'|([^\s;&|'"`)]+))"#,
        )
        .expect("valid regex")
    });
    for caps in ASSIGN.captures_iter(text) {
        let (Some(name), Some(value)) = (caps.get(1), caps.get(2).or(caps.get(3)).or(caps.get(4))) else { continue };
        let Some(class) = classify(name.as_str()) else { continue };
        let span = (value.start(), value.end());
        if !used.insert(span) {
            continue;
        }
        let h = hit(class.role, name.as_str(), value.as_str(), Some(span), lines, Removal::Blank);
        groups.add(class.scope, kind, class.exchange, class.exchange.is_some(), h);
    }
}

/// Exchange API headers in curl commands and scripts.
fn headers(text: &str, lines: &Lines, kind: FindingKind, groups: &mut Groups, used: &mut HashSet<(usize, usize)>) {
    // The adapters' credential headers (X-MBX-APIKEY, OK-ACCESS-KEY, OK-ACCESS-PASSPHRASE, …).
    static KNOWN: LazyLock<Vec<(&'static str, Exchange, Role)>> = LazyLock::new(|| {
        let part = |p: HeaderPart| match p {
            HeaderPart::Key => Role::Key,
            HeaderPart::Passphrase => Role::Passphrase,
        };
        Exchange::ALL
            .into_iter()
            .flat_map(|e| e.profile().scan.headers.iter().map(move |(name, p)| (*name, e, part(*p))))
            .collect()
    });
    static HEADER: LazyLock<Regex> = LazyLock::new(|| {
        let names: Vec<String> = KNOWN.iter().map(|(name, ..)| regex::escape(name)).collect();
        Regex::new(&format!(r#"(?i)\b({})["']?\s*[:,]\s*["']?([^\s"'\\,}}]+)"#, names.join("|"))).expect("valid regex")
    });
    for caps in HEADER.captures_iter(text) {
        let (Some(name), Some(value)) = (caps.get(1), caps.get(2)) else { continue };
        let Some(&(_, exchange, role)) = KNOWN.iter().find(|(known, ..)| known.eq_ignore_ascii_case(name.as_str()))
        else {
            continue;
        };
        let span = (value.start(), value.end());
        if !used.insert(span) {
            continue;
        }
        let h = hit(role, name.as_str(), value.as_str(), Some(span), lines, Removal::Blank);
        groups.add(exchange.as_str().to_ascii_uppercase(), kind, Some(exchange), true, h);
    }
}

static LITERAL_FIELD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"["']?([A-Za-z_][A-Za-z0-9_]*)["']?\]?\s*(?:=|:)\s*[rbuf]?(?:"([^"\n\\]*)"|'([^'\n\\]*)'|`([^`\n\\]*)`)"#,
    )
    .expect("valid regex")
});

fn ccxt_role(field: &str) -> Option<Role> {
    match field {
        "apiKey" => Some(Role::Key),
        "secret" => Some(Role::Secret),
        "password" | "passphrase" => Some(Role::Passphrase),
        _ => None,
    }
}

/// `ccxt.okx({'apiKey': …, 'secret': …, 'password': …})`, `new ccxt.binance({ apiKey: "…" })`,
/// `ccxt.async_support.bybit(dict(apiKey='…'))`, `ccxt.pro.okx(…)`.
fn ccxt_calls(text: &str, lines: &Lines, groups: &mut Groups, used: &mut HashSet<(usize, usize)>) {
    static CALL: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\bccxt(?:\.async_support|\.pro)?\.([A-Za-z0-9_]+)\s*\(").expect("valid regex"));
    for (n, caps) in CALL.captures_iter(text).enumerate() {
        let (Some(id), Some(whole)) = (caps.get(1), caps.get(0)) else { continue };
        let open = whole.end() - 1;
        let close = matching_paren(text, open);
        let body = &text[open..close];
        let exchange = exchange_word(id.as_str());
        for f in LITERAL_FIELD.captures_iter(body) {
            let (Some(field), Some(value)) = (f.get(1), f.get(2).or(f.get(3)).or(f.get(4))) else { continue };
            let span = (open + value.start(), open + value.end());
            // Fields of a call to another exchange are no one else's either.
            if !used.insert(span) {
                continue;
            }
            let (Some(role), Some(exchange)) = (ccxt_role(field.as_str()), exchange) else { continue };
            let h = hit(role, field.as_str(), value.as_str(), Some(span), lines, Removal::Blank);
            groups.add(format!("ccxt call {n}"), FindingKind::Ccxt, Some(exchange), true, h);
        }
    }
}

/// The offset of the `)` closing the `(` at `open`, skipping string literals; the text's end if none.
fn matching_paren(text: &str, open: usize) -> usize {
    let mut depth = 0usize;
    let mut quote: Option<u8> = None;
    let bytes = text.as_bytes();
    let mut i = open;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(_) if b == b'\\' => i += 1,
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None => match b {
                b'"' | b'\'' | b'`' => quote = Some(b),
                b'(' => depth += 1,
                b')' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return i + 1;
                    }
                }
                _ => {}
            },
        }
        i += 1;
    }
    text.len()
}

/// Quoted literals assigned to credential names in scripts: `BINANCE_API_KEY = "…"`,
/// `config = {'apiKey': '…', 'secret': '…'}` (the bare ccxt names count only in files that use ccxt).
fn literal_assignments(text: &str, lines: &Lines, groups: &mut Groups, used: &mut HashSet<(usize, usize)>) {
    let uses_ccxt = text.contains("ccxt");
    for caps in LITERAL_FIELD.captures_iter(text) {
        let (Some(name), Some(value)) = (caps.get(1), caps.get(2).or(caps.get(3)).or(caps.get(4))) else { continue };
        let span = (value.start(), value.end());
        if used.contains(&span) {
            continue;
        }
        let (role, exchange, scope) = match classify(name.as_str()) {
            Some(c) => (c.role, c.exchange, c.scope),
            None => match ccxt_role(name.as_str()).filter(|_| uses_ccxt) {
                Some(role) => (role, None, String::new()),
                None => continue,
            },
        };
        used.insert(span);
        let h = hit(role, name.as_str(), value.as_str(), Some(span), lines, Removal::Blank);
        groups.add(scope, FindingKind::Ccxt, exchange, exchange.is_some(), h);
    }
}

/// A parsed JSON, YAML or TOML document, reduced to what the scanner needs.
enum Tree {
    Str(String),
    Map(Vec<(String, Tree)>),
    List(Vec<Tree>),
    Other,
}

impl Tree {
    fn from_json(v: serde_json::Value) -> Tree {
        use serde_json::Value as V;
        match v {
            V::String(s) => Tree::Str(s),
            V::Number(n) => Tree::Str(n.to_string()),
            V::Object(m) => Tree::Map(m.into_iter().map(|(k, v)| (k, Tree::from_json(v))).collect()),
            V::Array(a) => Tree::List(a.into_iter().map(Tree::from_json).collect()),
            _ => Tree::Other,
        }
    }

    fn from_yaml(v: serde_norway::Value) -> Tree {
        use serde_norway::Value as V;
        let scalar = |v: &V| match v {
            V::String(s) => Some(s.clone()),
            V::Number(n) => Some(n.to_string()),
            V::Bool(b) => Some(b.to_string()),
            _ => None,
        };
        match v {
            V::String(s) => Tree::Str(s),
            V::Number(n) => Tree::Str(n.to_string()),
            V::Mapping(m) => {
                Tree::Map(m.into_iter().filter_map(|(k, v)| scalar(&k).map(|k| (k, Tree::from_yaml(v)))).collect())
            }
            V::Sequence(a) => Tree::List(a.into_iter().map(Tree::from_yaml).collect()),
            V::Tagged(t) => Tree::from_yaml(t.value),
            _ => Tree::Other,
        }
    }

    fn from_toml(v: toml::Value) -> Tree {
        use toml::Value as V;
        match v {
            V::String(s) => Tree::Str(s),
            V::Integer(n) => Tree::Str(n.to_string()),
            V::Table(t) => Tree::Map(t.into_iter().map(|(k, v)| (k, Tree::from_toml(v))).collect()),
            V::Array(a) => Tree::List(a.into_iter().map(Tree::from_toml).collect()),
            _ => Tree::Other,
        }
    }

    fn get(&self, key: &str) -> Option<&Tree> {
        match self {
            Tree::Map(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn keys(&self) -> Vec<&str> {
        match self {
            Tree::Map(m) => m.iter().map(|(k, _)| k.as_str()).collect(),
            _ => Vec::new(),
        }
    }
}

/// Walks a document: in every object, string fields with credential names become hits; the object's
/// own `name`/`exchange`/`connector` field, or the path (`[okx]`, `exchanges.binance`), names the
/// exchange for generic fields such as Freqtrade's `exchange.key`.
#[allow(clippy::too_many_arguments)]
fn walk_tree(
    tree: &Tree,
    path: &mut Vec<String>,
    context: Option<Exchange>,
    kind: FindingKind,
    removal: Removal,
    text: &str,
    lines: &Lines,
    groups: &mut Groups,
    used: &mut HashSet<(usize, usize)>,
) {
    match tree {
        Tree::Map(fields) => {
            let own = fields.iter().find_map(|(k, v)| match v {
                Tree::Str(s)
                    if ["name", "exchange", "exchange_name", "exchangeId", "connector", "id"].contains(&k.as_str()) =>
                {
                    exchange_word(s.trim())
                }
                _ => None,
            });
            let context = own.or(context);
            let prefix = path.join(".");
            let has_key_field = fields
                .iter()
                .any(|(k, _)| classify(&format!("{prefix}.{k}")).is_some_and(|c| c.role == Role::Key) || k == "apiKey");
            for (k, v) in fields {
                match v {
                    Tree::Str(value) => {
                        let full = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                        let class = classify(&full)
                            .map(|c| (c.role, c.exchange, c.scope))
                            .or_else(|| ccxt_role(k).filter(|_| has_key_field).map(|role| (role, None, String::new())));
                        let Some((role, exchange, scope)) = class else { continue };
                        let span = locate(text, value, k, lines, used);
                        if let Some(span) = span {
                            used.insert(span);
                        }
                        let line = span.map(|(s, _)| lines.line_of(s)).or_else(|| find_name_line(text, k, lines));
                        let mut h = hit(role, k, value, span, lines, removal);
                        h.line = line.unwrap_or(1);
                        let named = exchange.is_some();
                        groups.add(format!("{prefix}|{scope}"), kind, exchange.or(context), named, h);
                    }
                    Tree::Map(_) | Tree::List(_) => {
                        path.push(k.clone());
                        walk_tree(v, path, context, kind, removal, text, lines, groups, used);
                        path.pop();
                    }
                    Tree::Other => {}
                }
            }
        }
        Tree::List(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(i.to_string());
                walk_tree(item, path, context, kind, removal, text, lines, groups, used);
                path.pop();
            }
        }
        Tree::Str(_) | Tree::Other => {}
    }
}

fn find_name_line(text: &str, name: &str, lines: &Lines) -> Option<usize> {
    text.find(name).map(|i| lines.line_of(i))
}

/// Where a parsed value sits in the text: an occurrence not glued to other word characters, not yet
/// claimed, preferably on a line that also holds the field's name before it.
fn locate(
    text: &str,
    value: &str,
    name: &str,
    lines: &Lines,
    used: &HashSet<(usize, usize)>,
) -> Option<(usize, usize)> {
    if value.is_empty() {
        return None;
    }
    let word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    let mut first = None;
    for (start, _) in text.match_indices(value) {
        let end = start + value.len();
        let before = text[..start].chars().next_back();
        let after = text[end..].chars().next();
        if word(before) || word(after) || used.contains(&(start, end)) {
            continue;
        }
        let (line_start, _) = lines.range(lines.line_of(start), text);
        if text[line_start..start].contains(name) {
            return Some((start, end));
        }
        first = first.or(Some((start, end)));
    }
    first
}

/// Hummingbot stores secrets encrypted with the user's password: the hex of an Ethereum-style
/// keystore JSON (`{"crypto": …}`).
fn hummingbot_encrypted(value: &str) -> bool {
    if value.len() < 64 || !value.len().is_multiple_of(2) {
        return false;
    }
    let Ok(bytes) = hex::decode(value) else { return false };
    let decoded = String::from_utf8_lossy(&bytes);
    decoded.trim_start().starts_with('{') && decoded.contains("\"crypto\"")
}

fn evaluate(c: Candidate, file_exchange: Option<Exchange>, backup: bool) -> Option<Set> {
    let first = |role: Role| c.hits.iter().find(|h| h.role == role).map(|h| h.value.clone());
    let encrypted = c.hits.iter().any(|h| hummingbot_encrypted(&h.value));
    let backup_note = "This is a Latchkey backup: delete it once the imported key works.";
    if encrypted {
        let exchange = c.exchange.or(file_exchange)?;
        let hits: Vec<Hit> = c.hits.into_iter().filter(|h| hummingbot_encrypted(&h.value)).collect();
        let has = |role: Role| hits.iter().any(|h| h.role == role);
        let note = "Encrypted by Hummingbot with your password: not importable. Add the key with `latchkey add`.";
        let finding = finding(
            &hits,
            c.kind,
            exchange,
            None,
            has(Role::Secret),
            has(Role::Passphrase),
            true,
            false,
            Some(note.into()),
        );
        return Some(Set { finding, credentials: None, hits });
    }
    let (key, secret, pass) = (first(Role::Key), first(Role::Secret), first(Role::Passphrase));
    let (key, secret, pass) = (
        key.as_deref().map(String::as_str),
        secret.as_deref().map(String::as_str),
        pass.as_deref().map(String::as_str),
    );
    let by_shape = || match (key, secret) {
        (Some(k), Some(s)) => shape::exchange_by_shape(k, s, pass.is_some_and(shape::passphrase_ok)),
        _ => None,
    };
    let exchange = c.exchange.or(file_exchange).or_else(by_shape)?;
    let key_ok = key.is_some_and(|k| shape::key_ok(exchange, k));
    let secret_ok = secret.is_some_and(|s| shape::secret_ok(exchange, s));
    let pass_ok = exchange.needs_passphrase() && pass.is_some_and(shape::passphrase_ok);
    let complete = key_ok && secret_ok && (pass_ok || !exchange.needs_passphrase());
    // A generic name (`API_KEY`) counts only as a complete, well-shaped set; an exchange's own name
    // counts with any one well-shaped part.
    if !(key_ok || secret_ok) || (!c.named && !complete) {
        return None;
    }
    // Where a lone key proves little (a UUID is as likely a session or request id as an OKX key):
    // only with its secret or passphrase beside it.
    if !exchange.profile().scan.lone_key_counts && !secret_ok && !pass_ok {
        return None;
    }
    let keep = |h: &Hit| match h.role {
        Role::Key => key_ok && Some(h.value.as_str()) == key,
        Role::Secret => secret_ok && Some(h.value.as_str()) == secret,
        Role::Passphrase => pass_ok && Some(h.value.as_str()) == pass,
    };
    let hits: Vec<Hit> = c.hits.into_iter().filter(|h| keep(h)).collect();
    let value = |role: Role| hits.iter().find(|h| h.role == role).map(|h| SecretString::from(h.value.to_string()));
    let (key, secret, pass) = (value(Role::Key), value(Role::Secret), value(Role::Passphrase));
    let credentials = match (&key, &secret) {
        (Some(k), Some(s)) if complete && validate::credentials(exchange, k, s, pass.as_ref()).is_ok() => {
            Some(Credentials { api_key: k.clone(), api_secret: s.clone(), passphrase: pass.clone() })
        }
        _ => None,
    };
    let importable = credentials.is_some();
    let name = exchange.display_name();
    let mut note = match (key_ok, secret_ok) {
        _ if importable => None,
        (true, false) => Some(format!(
            "{name} API key only: its secret is not in this file. Revoke it or add it with `latchkey add`."
        )),
        (false, true) => Some(format!("{name} secret without its API key: rotate this key at {name}.")),
        (true, true) if exchange.needs_passphrase() && !pass_ok => {
            Some(format!("{name} key and secret without the passphrase {name} needs: add it with `latchkey add`."))
        }
        _ => Some(format!("{name} key and secret that do not pass {name}'s checks: add it with `latchkey add`.")),
    };
    if backup {
        note = Some(note.map_or(backup_note.to_owned(), |n| format!("{n} {backup_note}")));
    }
    let hint = key.as_ref().map(key_hint);
    let finding = finding(&hits, c.kind, exchange, hint, secret_ok, pass_ok, false, importable, note);
    Some(Set { finding, credentials, hits })
}

#[allow(clippy::too_many_arguments)]
fn finding(
    hits: &[Hit],
    kind: FindingKind,
    exchange: Exchange,
    key_hint: Option<String>,
    has_secret: bool,
    has_passphrase: bool,
    encrypted: bool,
    importable: bool,
    note: Option<String>,
) -> Finding {
    let line = hits.iter().find(|h| h.role == Role::Key).or(hits.first()).map_or(1, |h| h.line);
    let mut lines: Vec<usize> = hits.iter().map(|h| h.line).collect();
    lines.sort_unstable();
    lines.dedup();
    Finding {
        path: Default::default(),
        line,
        lines,
        names: hits.iter().map(|h| h.name.clone()).collect(),
        exchange,
        kind,
        key_hint,
        has_secret,
        has_passphrase,
        encrypted,
        importable,
        note,
        same_as: None,
    }
}
