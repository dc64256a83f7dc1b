//! The `--json` shapes (documented in README.md). Built from metadata only: no type here can hold
//! a secret.

use chrono::{DateTime, Utc};
use latchkey_core::model::KeyInspection;
use latchkey_core::model::{Environment, Exchange, KeyId, KeyRecord, KeyStatus, Permission};
use latchkey_core::risk::{self, Finding, Severity};
use latchkey_core::rotation::{self, RotationStatus};
use serde::Serialize;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyJson {
    pub id: KeyId,
    pub label: String,
    pub exchange: Exchange,
    pub environment: Environment,
    pub key_hint: String,
    pub status: KeyStatus,
    /// What the app's card says, e.g. "Rejected by Bybit (deleted or expired?)".
    pub status_text: String,
    pub permissions: Vec<Permission>,
    pub ip_whitelist: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub rotated_at: DateTime<Utc>,
    pub verified_at: Option<DateTime<Utc>>,
    pub rotation_days: u32,
    pub master_key_id: Option<KeyId>,
    pub sub_account: Option<String>,
    pub bots_allowed: bool,
    /// When a signed call with the key's own credentials proved it revoked (status `revoked`).
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<&KeyRecord> for KeyJson {
    fn from(k: &KeyRecord) -> Self {
        KeyJson {
            id: k.id,
            label: k.label.clone(),
            exchange: k.exchange,
            environment: k.environment.clone(),
            key_hint: k.key_hint.clone(),
            status: k.status,
            status_text: k.status.describe(k.exchange),
            permissions: k.permissions.clone(),
            ip_whitelist: k.ip_whitelist.clone(),
            created_at: k.created_at,
            rotated_at: k.rotated_at,
            verified_at: k.verified_at,
            rotation_days: k.rotation_days,
            master_key_id: k.master_key_id,
            sub_account: k.sub_account.clone(),
            bots_allowed: k.bots_allowed,
            revoked_at: k.revoked_at,
        }
    }
}

/// The exchange's API management page for this key's environment.
pub fn api_page(exchange: Exchange, environment: &Environment) -> &'static str {
    latchkey_core::exchange::api_management_page(exchange, matches!(environment, Environment::Demo))
}

/// The status as `list` and `status` print it: "revoked" only with a proof, and a still-live key
/// says what to do.
pub fn status_text(k: &KeyJson) -> String {
    match k.status {
        KeyStatus::Revoked => match k.revoked_at {
            Some(at) => format!("revoked (proved {})", at.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M:%S")),
            None => "revoked (before proofs)".to_owned(),
        },
        KeyStatus::StillLive => format!(
            "STILL LIVE at {}: delete it on the website ({}), then `latchkey confirm-deleted '{}'`",
            k.exchange,
            api_page(k.exchange, &k.environment),
            k.label
        ),
        KeyStatus::StillLiveWiped => {
            format!(
                "STILL LIVE at {} (secret wiped here): delete it on the website ({})",
                k.exchange,
                api_page(k.exchange, &k.environment)
            )
        }
        KeyStatus::Quarantined => "quarantined: revoke not proved, blocked".to_owned(),
        KeyStatus::Active => k.status.as_str().to_owned(),
        KeyStatus::Rejected => k.status_text.clone(),
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RotationJson {
    #[serde(flatten)]
    pub status: RotationStatus,
    /// e.g. "rotate in 3 days", "overdue by 2 days".
    pub text: String,
}

/// `status --json` items; `check` and `add` print the same shape plus `inspection`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusJson {
    #[serde(flatten)]
    pub key: KeyJson,
    pub rotation: Option<RotationJson>,
    /// The worst finding's severity: fine, warning, high or critical; `unknown` for a key the
    /// exchange was never asked about.
    pub severity: Risk,
    /// From the last inspection; empty when the key was never checked.
    pub findings: Vec<Finding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inspection: Option<KeyInspection>,
}

impl StatusJson {
    pub fn build(k: &KeyRecord, now: &DateTime<chrono::Local>, due_soon_days: u32, with_inspection: bool) -> Self {
        let findings = k.inspection.as_ref().map(|i| risk::assess(i, *now)).unwrap_or_default();
        let rotation =
            rotation::status(k, now, due_soon_days).map(|status| RotationJson { text: status.describe(), status });
        StatusJson {
            key: KeyJson::from(k),
            rotation,
            severity: match k.inspection {
                Some(_) => Risk::Known(risk::overall(&findings)),
                None => Risk::Unknown,
            },
            findings,
            inspection: if with_inspection { k.inspection.clone() } else { None },
        }
    }
}

pub fn print_json<T: Serialize>(value: &T) -> Result<(), crate::error::CliError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| crate::error::CliError::Failed(format!("Could not write JSON: {e}")))?;
    println!("{text}");
    Ok(())
}

pub fn environment_text(env: &Environment) -> String {
    match env {
        Environment::Live => "live".to_owned(),
        Environment::Demo => "demo".to_owned(),
        Environment::Custom { base_url } => base_url.clone(),
    }
}

pub fn permissions_text(p: &[Permission]) -> String {
    if p.is_empty() {
        return "-".to_owned();
    }
    p.iter()
        .map(|p| match p {
            Permission::Read => "read",
            Permission::Trade => "trade",
            Permission::Withdraw => "withdraw",
            Permission::Transfer => "transfer",
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// A key's risk as far as Latchkey knows it: without an inspection there are no facts to judge,
/// and "fine" would be a guess.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Risk {
    Unknown,
    #[serde(untagged)]
    Known(Severity),
}

/// "risk fine", "risk HIGH", or "risk unknown (never verified)".
pub fn risk_text(risk: Risk) -> String {
    match risk {
        Risk::Unknown => "risk unknown (never verified)".to_owned(),
        Risk::Known(s) => format!("risk {}", severity_text(s)),
    }
}

pub fn severity_text(s: Severity) -> &'static str {
    match s {
        Severity::Fine => "fine",
        Severity::Warning => "warning",
        Severity::High => "HIGH",
        Severity::Critical => "CRITICAL",
    }
}

/// Rows with columns padded to the widest cell.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let mut out = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                out.push_str(c);
            } else {
                out.push_str(&format!("{c:<w$}  ", w = widths[i]));
            }
        }
        out.trim_end().to_owned()
    };
    let mut out = line(header.iter().map(|h| h.to_string()).collect());
    for row in rows {
        out.push('\n');
        out.push_str(&line(row.clone()));
    }
    out
}
