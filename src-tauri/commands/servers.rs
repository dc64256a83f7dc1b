//! Settings → "Servers (OpenBao)" and the key card's "Deliver to servers": thin commands over
//! `latchkey_core::servers::Servers`. The token or userpass password goes from the form into the
//! keychain (through the core) and never back; replies carry no secret except, once, a new host's
//! wrapped secret-id, which the user must paste on the server.
//!
//! Guarded (the 2FA code is checked here, in Rust, after the cheap refusals and before anything is
//! written): delivering a key to servers and adding a host that may read keys: both let keys
//! leave this machine. Undeliver and remove host need no code: like turning bots off, they only
//! narrow where keys go (the audit log keeps them).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use latchkey_core::model::KeyId;
use latchkey_core::servers::credential::ServerSecretStore;
use latchkey_core::servers::{
    AuthMethod, ConnectionReport, DeliveryOutcome, ServerError, ServerSettings, SettingField,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tauri::State;
use ts_rs::TS;
use zeroize::Zeroizing;

use super::blocking;
use super::keys::parse_id;
use super::secrets::{clear_after, secret_ttl_secs, Copied};
use crate::{clipboard, AppState, IpcError};

/// Which input of the servers form (or the Add host dialog) an `invalid` error is about: the
/// core's own [`SettingField`], exported to the UI as `ServerField`.
pub type ServerField = SettingField;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum ServerAuth {
    Token,
    Userpass,
}

/// The form's fields, both ways. Nothing secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ServerSettingsView {
    pub addr: String,
    pub mount: String,
    pub prefix: String,
    pub auth: ServerAuth,
    /// For userpass only.
    pub username: Option<String>,
    /// For userpass only; `userpass` when empty.
    pub userpass_mount: Option<String>,
    pub max_versions: u32,
}

impl From<&ServerSettings> for ServerSettingsView {
    fn from(s: &ServerSettings) -> Self {
        let (auth, username, userpass_mount) = match &s.auth {
            AuthMethod::Token => (ServerAuth::Token, None, None),
            AuthMethod::Userpass { username, mount } => {
                (ServerAuth::Userpass, Some(username.clone()), Some(mount.clone()))
            }
        };
        ServerSettingsView {
            addr: s.addr.clone(),
            mount: s.mount.clone(),
            prefix: s.prefix.clone(),
            auth,
            username,
            userpass_mount,
            max_versions: s.max_versions,
        }
    }
}

impl ServerSettingsView {
    /// The core's settings; the CA file (set with the CLI) is kept from the saved ones.
    fn into_settings(self, saved: Option<&ServerSettings>) -> ServerSettings {
        let auth = match self.auth {
            ServerAuth::Token => AuthMethod::Token,
            ServerAuth::Userpass => AuthMethod::Userpass {
                username: self.username.unwrap_or_default(),
                mount: self
                    .userpass_mount
                    .filter(|m| !m.trim().is_empty())
                    .unwrap_or_else(|| latchkey_core::servers::settings::DEFAULT_USERPASS_MOUNT.into()),
            },
        };
        ServerSettings {
            addr: self.addr,
            mount: self.mount,
            prefix: self.prefix,
            auth,
            ca_file: saved.and_then(|s| s.ca_file.clone()),
            max_versions: self.max_versions,
        }
    }
}

/// A key Latchkey wrote to the configured server.
#[derive(Clone, Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DeliveredView {
    pub key_id: KeyId,
    pub label: String,
    pub version: u64,
    pub delivered_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ServersStatus {
    /// `None`: no server set up.
    pub settings: Option<ServerSettingsView>,
    /// A token or password is in the keychain (it is never sent).
    pub credential_saved: bool,
    /// The keys delivered to this server, mount and prefix.
    pub delivered: Vec<DeliveredView>,
}

/// The keychain the core's `Servers` keeps the credential in.
fn status(core: &crate::state::Core, keychain: &dyn ServerSecretStore) -> Result<ServersStatus, ServerError> {
    let servers = &core.servers;
    let settings = servers.settings()?;
    // A keychain that cannot answer (locked, no Secret Service) must not hide the saved settings:
    // the form then asks for the credential again.
    let credential_saved = settings.is_some()
        && keychain
            .get_server_secret()
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "could not look up the OpenBao credential in the keychain");
                None
            })
            .is_some();
    let delivered = match &settings {
        None => Vec::new(),
        Some(s) => {
            // The deliveries are kept by `<addr> <mount>/data/<prefix>/<label>` (service.rs).
            let here = format!("{} {}/data/{}/", s.addr, s.mount, s.prefix);
            servers
                .deliveries()?
                .into_iter()
                .filter(|(at, _)| at.starts_with(&here))
                .map(|(_, r)| DeliveredView {
                    key_id: r.key_id,
                    label: r.label,
                    version: r.version,
                    delivered_at: r.delivered_at,
                })
                .collect()
        }
    };
    Ok(ServersStatus { settings: settings.as_ref().map(ServerSettingsView::from), credential_saved, delivered })
}

#[tauri::command]
pub async fn servers_status(state: State<'_, AppState>) -> Result<ServersStatus, IpcError> {
    let (core, keychain) = (state.core()?, state.keychain());
    blocking(move || Ok(status(&core, keychain.as_ref())?)).await
}

/// Saves the settings and the credential. An empty credential keeps the one in the keychain (the
/// field is never filled in for the user); with none there, it is asked for.
#[tauri::command]
pub async fn save_servers(
    state: State<'_, AppState>,
    settings: ServerSettingsView,
    credential: Option<SecretString>,
) -> Result<ServersStatus, IpcError> {
    let (core, keychain) = (state.core()?, state.keychain());
    blocking(move || {
        let servers = &core.servers;
        let saved = servers.settings()?;
        let settings = settings.into_settings(saved.as_ref());
        // EXPOSE: only to see whether the field was left empty.
        let typed = credential.filter(|c| !c.expose_secret().trim().is_empty());
        let secret = match typed {
            // EXPOSE: a pasted token's stray spaces or line end would be refused by OpenBao.
            Some(c) => SecretString::from(c.expose_secret().trim().to_owned()),
            None => keychain.get_server_secret().map_err(ServerError::from)?.ok_or(ServerError::Setting {
                field: SettingField::Credential,
                message: match settings.auth {
                    AuthMethod::Token => "Enter the token Latchkey signs in with (`bao token create -policy=…`).",
                    AuthMethod::Userpass { .. } => "Enter the password of the OpenBao user.",
                }
                .into(),
            })?,
        };
        servers.configure(settings, secret)?;
        Ok(status(&core, keychain.as_ref())?)
    })
    .await
}

/// What "Test connection" found: the core's report, exported to the UI as `ConnectionReportView`.
pub type ConnectionReportView = ConnectionReport;

/// "Test connection" with the saved settings and credential. Writes nothing.
#[tauri::command]
pub async fn test_servers(state: State<'_, AppState>) -> Result<ConnectionReportView, IpcError> {
    let core = state.core()?;
    let client = blocking({
        let core = core.clone();
        move || Ok(core.servers.client()?)
    })
    .await?;
    Ok(client.test_connection().await?)
}

#[derive(Clone, Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryView {
    /// `false`: the server already held this key as the version Latchkey wrote last.
    pub written: bool,
    pub label: String,
    pub path: String,
    pub version: u64,
}

impl From<DeliveryOutcome> for DeliveryView {
    fn from(o: DeliveryOutcome) -> Self {
        match o {
            DeliveryOutcome::Delivered { label, path, version } => DeliveryView { written: true, label, path, version },
            DeliveryOutcome::UpToDate { label, path, version } => DeliveryView { written: false, label, path, version },
        }
    }
}

/// The refusals that cost no code (a key bots may not use, no server set up), then the code.
async fn check_then_verify(
    state: &AppState,
    ids: Vec<KeyId>,
    code: String,
) -> Result<latchkey_core::guard::Verified, IpcError> {
    let core = state.core()?;
    blocking(move || {
        for id in &ids {
            core.servers.check_deliverable(*id)?;
        }
        core.servers.client()?;
        Ok(core.guard.verify_for_action(&code, Utc::now())?)
    })
    .await
}

/// Guarded: writes the key to OpenBao as a new version (or finds it there already).
#[tauri::command]
pub async fn deliver_key(state: State<'_, AppState>, id: String, code: String) -> Result<DeliveryView, IpcError> {
    let id = parse_id(&id)?;
    let proof = check_then_verify(&state, vec![id], code).await?;
    let core = state.core()?;
    Ok(core.servers.deliver(&proof, id, Utc::now()).await?.into())
}

/// Destroys every version and the metadata of the key on OpenBao. `false`: nothing was there.
#[tauri::command]
pub async fn undeliver_key(state: State<'_, AppState>, id: String) -> Result<bool, IpcError> {
    let id = parse_id(&id)?;
    let core = state.core()?;
    Ok(core.servers.undeliver(id, Utc::now()).await?)
}

#[derive(Clone, Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct HostView {
    pub name: String,
    /// The labels its policy lets it read.
    pub keys: Vec<String>,
}

#[tauri::command]
pub async fn server_hosts(state: State<'_, AppState>) -> Result<Vec<HostView>, IpcError> {
    let core = state.core()?;
    let client = blocking(move || Ok(core.servers.client()?)).await?;
    let hosts = client.list_hosts().await?;
    Ok(hosts.into_iter().map(|h| HostView { name: h.name, keys: h.keys }).collect())
}

/// What the server needs, shown once. The wrapped secret-id is single use and unwraps for
/// `wrapTtlSecs` only.
#[derive(Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct EnrolmentView {
    pub name: String,
    pub addr: String,
    pub role_id: String,
    pub wrapped_secret_id: String,
    pub wrap_ttl_secs: u64,
    pub paths: Vec<String>,
    /// The line to run on the server (no secret in it: the secret-id goes in a file).
    pub run_line: String,
}

impl std::fmt::Debug for EnrolmentView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnrolmentView").field("name", &self.name).field("wrapped_secret_id", &"[redacted]").finish()
    }
}

/// Where the run line tells the server to keep the wrapped secret-id.
fn secret_id_file(host: &str) -> String {
    format!("/etc/latchkey/{host}.secret-id")
}

fn run_line(addr: &str, role_id: &str, host: &str, labels: &[String]) -> String {
    format!(
        "latchkey run --from openbao --addr {addr} --role-id {role_id} --secret-id-file {} {} -- YOUR-BOT-COMMAND",
        secret_id_file(host),
        labels.join(" ")
    )
}

/// The last enrolment, kept (in memory, until its wrapped secret-id expires) so its parts can go to
/// the clipboard through Rust, marked for clipboard managers to skip and cleared after the TTL,
/// without the page putting arbitrary text there.
#[derive(Default)]
pub struct Enrolments(Mutex<Option<Pending>>);

struct Pending {
    role_id: String,
    wrapped_secret_id: SecretString,
    run_line: String,
    until: Instant,
}

/// What "Copy" in the enrolment dialog takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum EnrolmentPart {
    RoleId,
    WrappedSecretId,
    RunLine,
}

/// Guarded: creates the host's policy (exactly these keys) and AppRole, and a wrapped single-use
/// secret-id, returned once.
#[tauri::command]
pub async fn add_server_host(
    state: State<'_, AppState>,
    enrolments: State<'_, Enrolments>,
    name: String,
    key_ids: Vec<String>,
    code: String,
) -> Result<EnrolmentView, IpcError> {
    if key_ids.is_empty() {
        return Err(ServerError::Setting {
            field: SettingField::HostKeys,
            message: "Choose at least one key the host may read.".into(),
        }
        .into());
    }
    latchkey_core::servers::hosts::host_name(&name)?;
    let ids = key_ids.iter().map(|id| parse_id(id)).collect::<Result<Vec<_>, _>>()?;
    let proof = check_then_verify(&state, ids.clone(), code).await?;
    let core = state.core()?;
    let e = core.servers.add_host(proof, &name, &ids, Utc::now()).await?;
    let addr = core.servers.settings()?.map(|s| s.addr).unwrap_or_default();
    // Each path ends in its label (`<mount>/data/<prefix>/<label>`).
    let labels: Vec<String> = e.paths.iter().filter_map(|p| p.rsplit('/').next()).map(str::to_owned).collect();
    let line = run_line(&addr, &e.role_id, &e.name, &labels);
    *enrolments.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Pending {
        role_id: e.role_id.clone(),
        wrapped_secret_id: e.wrapped_secret_id.clone(),
        run_line: line.clone(),
        until: Instant::now() + Duration::from_secs(e.wrap_ttl_secs),
    });
    tracing::info!(host = %e.name, "host enrolled; its wrapped secret-id shown once");
    Ok(EnrolmentView {
        name: e.name,
        addr,
        role_id: e.role_id,
        // EXPOSE: shown once in the enrolment dialog, for the user to paste on the server.
        wrapped_secret_id: e.wrapped_secret_id.expose_secret().to_owned(),
        wrap_ttl_secs: e.wrap_ttl_secs,
        paths: e.paths,
        run_line: line,
    })
}

/// Copies one part of the last enrolment, cleared from the clipboard after the TTL.
#[tauri::command]
pub async fn copy_enrolment(enrolments: State<'_, Enrolments>, part: EnrolmentPart) -> Result<Copied, IpcError> {
    let text = {
        let slot = enrolments.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let p = slot.as_ref().filter(|p| Instant::now() < p.until).ok_or_else(|| {
            IpcError::not_found("This enrolment token has expired: add the host again for a new one.")
        })?;
        Zeroizing::new(match part {
            EnrolmentPart::RoleId => p.role_id.clone(),
            // EXPOSE: the user asked to copy it, to paste on the server.
            EnrolmentPart::WrappedSecretId => p.wrapped_secret_id.expose_secret().to_owned(),
            EnrolmentPart::RunLine => p.run_line.clone(),
        })
    };
    let ttl = secret_ttl_secs();
    let ticket = blocking(move || clipboard::put_secret(&text).map_err(|e| IpcError::internal(e.to_string()))).await?;
    clear_after(ticket, ttl, "host enrolment".to_owned());
    Ok(Copied { clears_in_secs: ttl })
}

/// The enrolment dialog closed: the wrapped secret-id is dropped here too.
#[tauri::command]
pub async fn forget_enrolment(enrolments: State<'_, Enrolments>) -> Result<(), IpcError> {
    *enrolments.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    Ok(())
}

/// Deletes the host's role and policy: it can no longer sign in, and its tokens read nothing.
#[tauri::command]
pub async fn remove_server_host(state: State<'_, AppState>, name: String) -> Result<bool, IpcError> {
    let core = state.core()?;
    Ok(core.servers.remove_host(&name, Utc::now()).await?)
}

/// A host whose policy can read the key, and its last read of it.
#[derive(Clone, Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct HostReadView {
    pub host: String,
    /// The version it read last.
    pub version: Option<u64>,
    /// When it read it; `None`: never.
    pub read_at: Option<DateTime<Utc>>,
    /// When it last looked (a read or a heartbeat).
    pub seen_at: Option<DateTime<Utc>>,
    /// It runs the version the server holds now.
    pub current: bool,
}

impl From<latchkey_core::servers::HostAccess> for HostReadView {
    fn from(r: latchkey_core::servers::HostAccess) -> Self {
        HostReadView { host: r.host, version: r.version, read_at: r.read_at, seen_at: r.seen_at, current: r.current }
    }
}

/// One key's hosts and their last reads, for the dashboard's load.
#[derive(Clone, Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct KeyHostReadsView {
    pub key_id: KeyId,
    pub reads: Vec<HostReadView>,
}

/// Every key some host may read, with the hosts' last reads: the hosts listed once, not once
/// per key (200 delivered keys would otherwise cost 200 listings).
#[tauri::command]
pub async fn all_host_reads(state: State<'_, AppState>) -> Result<Vec<KeyHostReadsView>, IpcError> {
    let core = state.core()?;
    let by_label = core.servers.all_host_reads().await?;
    let vault = core.vault.clone();
    let keys = blocking(move || Ok(vault.list()?)).await?;
    Ok(keys
        .into_iter()
        .filter(|k| k.status == latchkey_core::model::KeyStatus::Active)
        .filter_map(|k| {
            let reads = by_label.get(k.label.trim())?;
            Some(KeyHostReadsView { key_id: k.id, reads: reads.iter().cloned().map(HostReadView::from).collect() })
        })
        .collect())
}

/// Which hosts can read the key and when each last read it.
#[tauri::command]
pub async fn key_host_reads(state: State<'_, AppState>, id: String) -> Result<Vec<HostReadView>, IpcError> {
    let id = parse_id(&id)?;
    let core = state.core()?;
    Ok(core.servers.host_reads(id).await?.into_iter().map(HostReadView::from).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_through_the_form() {
        let s = ServerSettings {
            auth: AuthMethod::Userpass { username: "desk".into(), mount: "userpass".into() },
            ca_file: Some("/etc/ca.pem".into()),
            ..ServerSettings::new("https://bao.example.com").unwrap()
        };
        let view = ServerSettingsView::from(&s);
        assert_eq!((view.auth, view.username.as_deref()), (ServerAuth::Userpass, Some("desk")));
        assert_eq!(view.clone().into_settings(Some(&s)), s, "the CA file set with the CLI is kept");
        let token = ServerSettingsView { auth: ServerAuth::Token, username: Some("x".into()), ..view };
        assert_eq!(token.into_settings(None).auth, AuthMethod::Token);
        let json = serde_json::to_value(ServerSettingsView::from(&s)).unwrap();
        assert_eq!(json["auth"], "userpass");
        assert_eq!(json["userpassMount"], "userpass");
    }

    #[test]
    fn the_run_line_holds_no_secret() {
        let line = run_line("https://bao.example.com", "role-1", "vps-1", &["bot".into()]);
        assert_eq!(
            line,
            "latchkey run --from openbao --addr https://bao.example.com --role-id role-1 --secret-id-file /etc/latchkey/vps-1.secret-id bot -- YOUR-BOT-COMMAND"
        );
        let view = EnrolmentView {
            name: "vps-1".into(),
            addr: String::new(),
            role_id: String::new(),
            wrapped_secret_id: "s.wrapping-token".into(),
            wrap_ttl_secs: 600,
            paths: vec![],
            run_line: line,
        };
        assert!(!format!("{view:?}").contains("wrapping-token"));
    }
}
