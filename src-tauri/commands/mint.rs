//! "Create a new key for a bot": a master key's sub-accounts, and a key minted in one of them with
//! one 2FA code, checked in Rust (see `latchkey_core::mint`). The new key's secret goes from the
//! exchange's answer straight into the keychain; replies carry its masked [`KeyView`] only.

use chrono::Utc;
use latchkey_core::mint::{no_ip_whitelist_warning, MintRequest, Minter};
use latchkey_core::model::{Permission, Readiness};
use serde::{Deserialize, Serialize};
use tauri::State;
use ts_rs::TS;

use super::blocking;
use super::keys::{parse_id, KeyView};
use crate::{AppState, IpcError};

#[derive(Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SubAccountView {
    /// What the mint takes to name it.
    pub id: String,
    pub name: String,
    pub frozen: bool,
}

#[derive(Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SubAccountsView {
    /// The master can mint; otherwise `problems` says what it lacks.
    pub ready: bool,
    pub problems: Vec<String>,
    pub accounts: Vec<SubAccountView>,
    /// What the master's exchange does to a key without an IP whitelist, for the acknowledgement.
    pub no_ip_warning: String,
}

/// The master's readiness (its own signed read) and its sub-accounts, as its exchange lists them.
/// `exchange_code`: the exchange's own 2FA code, where it asks for one (Deribit's security keys).
#[tauri::command]
pub async fn sub_accounts(
    state: State<'_, AppState>,
    master_id: String,
    exchange_code: Option<String>,
) -> Result<SubAccountsView, IpcError> {
    let (core, id) = (state.core()?, parse_id(&master_id)?);
    let client = state.exchange()?;
    let minter = Minter::new(&core.vault, &core.guard, &client).exchange_code(exchange_code.as_deref());
    let (master, readiness, accounts) = minter.sub_accounts(id).await?;
    Ok(SubAccountsView {
        ready: readiness.readiness == Readiness::Ready,
        problems: readiness.messages().into_iter().map(str::to_owned).collect(),
        accounts: accounts.into_iter().map(|a| SubAccountView { id: a.id, name: a.name, frozen: a.frozen }).collect(),
        no_ip_warning: no_ip_whitelist_warning(master.record.exchange),
    })
}

#[derive(Debug, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct MintInput {
    pub master_id: String,
    pub sub_account: String,
    pub label: String,
    /// Read and trade; read only otherwise. Withdraw is never offered.
    pub trade: bool,
    pub ips: Vec<String>,
    /// The user acknowledged a key without an IP whitelist.
    pub no_ip_whitelist: bool,
    pub rotation_days: Option<u32>,
    pub auto_rotate: bool,
    /// Days until the exchange itself expires the key, where it offers lifetimes; `None`: never.
    pub expire_days: Option<u32>,
}

#[derive(Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct MintResult {
    pub key: KeyView,
    /// Why the new key's own signed read failed (bots may not use it until it passes).
    pub unverified: Option<String>,
    /// What happened on the way that the user should know.
    pub notes: Vec<String>,
}

/// Guarded: the code is checked in Rust (a wrong one counts toward the backoff), before the create.
#[tauri::command]
pub async fn mint_key(
    state: State<'_, AppState>,
    input: MintInput,
    code: Option<String>,
    exchange_code: Option<String>,
) -> Result<MintResult, IpcError> {
    let core = state.core()?;
    let client = state.exchange()?;
    let mut permissions = vec![Permission::Read];
    if input.trade {
        permissions.push(Permission::Trade);
    }
    let request = MintRequest {
        master: parse_id(&input.master_id)?,
        sub_account: input.sub_account,
        label: input.label,
        permissions,
        ip_whitelist: input.ips.into_iter().map(|ip| ip.trim().to_owned()).filter(|ip| !ip.is_empty()).collect(),
        no_ip_whitelist: input.no_ip_whitelist,
        rotation_days: input.rotation_days,
        auto_rotate: input.auto_rotate,
        expire_days: input.expire_days,
    };
    let minter = Minter::new(&core.vault, &core.guard, &client).exchange_code(exchange_code.as_deref());
    let minted = minter.mint(&request, code.as_deref(), Utc::now()).await?;
    let vault = core.vault.clone();
    let record = minted.record;
    let key = blocking(move || Ok(KeyView::one(&vault, record)?)).await?;
    Ok(MintResult { key, unverified: minted.unverified, notes: minted.notes })
}
