//! Reading secrets: credentials and 2FA codes. Never from arguments. Values are kept in zeroizing
//! buffers and turned into `secrecy` types at once; no message echoes a value.

use std::io::{BufRead, IsTerminal, Read, Write};

use latchkey_core::model::Exchange;
use latchkey_core::secret::Credentials;
use secrecy::SecretString;
use zeroize::Zeroizing;

use crate::error::CliError;

pub const ENV_KEY: &str = "LATCHKEY_API_KEY";
pub const ENV_SECRET: &str = "LATCHKEY_API_SECRET";
pub const ENV_PASSPHRASE: &str = "LATCHKEY_API_PASSPHRASE";

fn secret(s: Zeroizing<String>) -> SecretString {
    SecretString::from(s.as_str().to_owned())
}

fn env_secret(name: &str) -> Option<Zeroizing<String>> {
    std::env::var(name).ok().map(Zeroizing::new).filter(|v| !v.trim().is_empty())
}

/// Environment first (explicit), then a no-echo prompt on a terminal, else `KEY=value` lines on stdin.
pub fn credentials(exchange: Exchange) -> Result<Credentials, CliError> {
    if std::env::var_os(ENV_KEY).is_some() || std::env::var_os(ENV_SECRET).is_some() {
        let key = env_secret(ENV_KEY).ok_or_else(|| missing("API key", ENV_KEY))?;
        let sec = env_secret(ENV_SECRET).ok_or_else(|| missing("API secret", ENV_SECRET))?;
        let pass = env_secret(ENV_PASSPHRASE);
        return Ok(Credentials { api_key: secret(key), api_secret: secret(sec), passphrase: pass.map(secret) });
    }
    if std::io::stdin().is_terminal() {
        let ask = |prompt: &str| {
            rpassword::prompt_password(prompt)
                .map(Zeroizing::new)
                .map_err(CliError::io("Could not read from the terminal"))
        };
        let name = exchange.display_name();
        let key = ask(&format!("{name} API key: "))?;
        let sec = ask(&format!("{name} API secret (not shown): "))?;
        let pass = if exchange.needs_passphrase() { Some(ask("OKX API passphrase (not shown): ")?) } else { None };
        return Ok(Credentials { api_key: secret(key), api_secret: secret(sec), passphrase: pass.map(secret) });
    }
    let mut text = Zeroizing::new(String::new());
    std::io::stdin().read_to_string(&mut text).map_err(CliError::io("Could not read the credentials from stdin"))?;
    parse_lines(&text)
}

fn missing(what: &str, var: &str) -> CliError {
    CliError::Usage(format!("No {what}: set {var} as well (or pipe API_KEY=…/API_SECRET=… lines on stdin instead)."))
}

/// `API_KEY=…`, `API_SECRET=…`, `API_PASSPHRASE=…` lines; blank lines, `#` comments, `export `
/// and surrounding quotes are allowed. The `LATCHKEY_` forms of the names are accepted too.
pub fn parse_lines(text: &str) -> Result<Credentials, CliError> {
    let (mut key, mut sec, mut pass) = (None, None, None);
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((name, value)) = line.split_once('=') else {
            return Err(CliError::Usage(format!(
                "Line {} of stdin is not KEY=value: pipe API_KEY=…, API_SECRET=… and (OKX) API_PASSPHRASE=… lines.",
                n + 1
            )));
        };
        let value = value.trim();
        let value = strip_quotes(value);
        let slot = match name.trim().trim_start_matches("LATCHKEY_") {
            "API_KEY" => &mut key,
            "API_SECRET" => &mut sec,
            "API_PASSPHRASE" => &mut pass,
            other => {
                return Err(CliError::Usage(format!(
                    "Unknown name '{other}' on line {} of stdin: use API_KEY, API_SECRET and API_PASSPHRASE.",
                    n + 1
                )))
            }
        };
        *slot = Some(SecretString::from(value.to_owned()));
    }
    Ok(Credentials {
        api_key: key.ok_or_else(|| CliError::Usage("No API_KEY=… line on stdin.".to_owned()))?,
        api_secret: sec.ok_or_else(|| CliError::Usage("No API_SECRET=… line on stdin.".to_owned()))?,
        passphrase: pass,
    })
}

fn strip_quotes(v: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = v.strip_prefix(q).and_then(|s| s.strip_suffix(q)) {
            return inner;
        }
    }
    v
}

/// `--code` as given: `-` reads the code from one line of stdin (for scripts: an argument shows in
/// `ps` and in shell history), a value is used as is, none asks for it (see [`code`]).
pub fn code_arg(given: Option<String>, prompt: &str) -> Result<Zeroizing<String>, CliError> {
    match given.map(Zeroizing::new) {
        Some(c) if c.as_str() == STDIN => stdin_code(),
        Some(c) => Ok(c),
        None => code(prompt),
    }
}

/// What `--code` takes to mean "read it from stdin".
pub const STDIN: &str = "-";

fn stdin_code() -> Result<Zeroizing<String>, CliError> {
    let mut line = Zeroizing::new(String::new());
    std::io::stdin().lock().read_line(&mut line).map_err(CliError::io("Could not read the code from stdin"))?;
    if line.trim().is_empty() {
        return Err(CliError::Usage(
            "--code - reads the 2FA code from stdin, but stdin had no line: pipe the code, e.g. `printf '%s\\n' \"$CODE\" | latchkey … --code -`."
                .to_owned(),
        ));
    }
    Ok(Zeroizing::new(line.trim().to_owned()))
}

/// A 2FA code: no echo on a terminal, else one line of stdin. The prompt goes to stderr.
pub fn code(prompt: &str) -> Result<Zeroizing<String>, CliError> {
    if std::io::stdin().is_terminal() {
        return rpassword::prompt_password(prompt)
            .map(Zeroizing::new)
            .map_err(CliError::io("Could not read the code from the terminal"));
    }
    let mut err = std::io::stderr();
    let _ = write!(err, "{prompt}");
    let _ = err.flush();
    let mut line = Zeroizing::new(String::new());
    let n = std::io::stdin().lock().read_line(&mut line).map_err(CliError::io("Could not read the code from stdin"))?;
    let _ = writeln!(err);
    if n == 0 || line.trim().is_empty() {
        return Err(CliError::Usage("No code given: pass --code or type the code when asked.".to_owned()));
    }
    Ok(Zeroizing::new(line.trim().to_owned()))
}

/// One typed line (shown as typed: not a secret), from the terminal or stdin. The prompt goes to
/// stderr.
pub fn line(prompt: &str) -> Result<Zeroizing<String>, CliError> {
    let mut err = std::io::stderr();
    let _ = write!(err, "{prompt}");
    let _ = err.flush();
    let mut line = Zeroizing::new(String::new());
    let n = std::io::stdin().lock().read_line(&mut line).map_err(CliError::io("Could not read from stdin"))?;
    if !std::io::stdin().is_terminal() {
        let _ = writeln!(err);
    }
    if n == 0 || line.trim().is_empty() {
        return Err(CliError::Usage(
            "Nothing typed: type the confirmation when asked, or pass it with --confirm.".to_owned(),
        ));
    }
    Ok(Zeroizing::new(line.trim().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn lines_with_comments_exports_and_quotes() {
        let c =
            parse_lines("# okx\nexport API_KEY=\"abc\"\n\nAPI_SECRET = 'def'\nLATCHKEY_API_PASSPHRASE=p=q\n").unwrap();
        assert_eq!(c.api_key.expose_secret(), "abc");
        assert_eq!(c.api_secret.expose_secret(), "def");
        assert_eq!(c.passphrase.unwrap().expose_secret(), "p=q");
    }

    #[test]
    fn errors_never_echo_values() {
        let e = parse_lines("API_KEY=abc\nSUPERSECRETVALUE\n").unwrap_err().to_string();
        assert!(!e.contains("SUPERSECRET") && e.contains("Line 2"), "{e}");
        let e = parse_lines("API_KEY=abc\nPASSWORD=hunter2\n").unwrap_err().to_string();
        assert!(!e.contains("hunter2") && e.contains("PASSWORD"), "{e}");
        assert!(matches!(parse_lines("API_KEY=abc\n"), Err(CliError::Usage(_))));
    }
}
