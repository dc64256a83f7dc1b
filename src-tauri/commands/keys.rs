//! Listing, adding, reading and deleting keys. Secrets go in, never out: replies carry
//! [`KeyView`]s (ids, labels, masked hints, what the exchange said, findings).

use chrono::Utc;
use latchkey_core::autorotate::schedule;
use latchkey_core::edit::{self, Editor, KeyEdit, Reverified};
use latchkey_core::exchange::Endpoint;
use latchkey_core::model::{Environment, Exchange, KeyId, KeyRecord, KeyStatus};
use latchkey_core::risk::{self, Finding};
use latchkey_core::rotation::{self, RotationStatus};
use latchkey_core::secret::Credentials;
use latchkey_core::settings::Settings;
use latchkey_core::vault::NewKey;
use latchkey_core::vault::Vault;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use tauri::State;

use super::blocking;
use crate::{AppState, IpcError};
use ts_rs::TS;

/// A key as the dashboard shows it: its record, the risk findings of its last inspection and its
/// rotation status, both computed now (they depend on today's date), and the keys it replaced.
#[derive(Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct KeyView {
    #[serde(flatten)]
    pub record: KeyRecord,
    pub findings: Vec<Finding>,
    pub rotation: Option<RotationView>,
    pub history: Vec<HistoryItem>,
    /// For a key still live at its exchange: the page to delete it on.
    pub still_live_url: Option<&'static str>,
    /// For a master key: how many keys in Latchkey it manages (mints, rotates, deletes).
    pub manages_keys: usize,
    /// When the key rotates by itself next (minted with automatic rotation on); `None`: it does not.
    pub next_auto_rotation: Option<chrono::DateTime<Utc>>,
    /// The findings the exchange's API can fix through the key's master, with their buttons.
    pub fixes: Vec<latchkey_core::fix::FindingFixes>,
    /// Whether the key can rotate through its master with nobody at the keyboard, and whether it
    /// is set to: "Rotate…" rotates it at once, and Edit offers the switch.
    pub auto_rotate: AutoRotate,
    /// Whether the signing agent serves the key's exchange: its card offers "Signing agent…".
    pub agent_served: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum AutoRotate {
    /// Latchkey does not hold the key's master, or the exchange's API cannot replace it.
    Unavailable,
    Off,
    On,
}

#[derive(Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RotationView {
    #[serde(flatten)]
    status: RotationStatus,
    text: String,
}

#[derive(Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "KeyHistoryEntry")]
pub struct HistoryItem {
    id: KeyId,
    key_hint: String,
    created_at: chrono::DateTime<Utc>,
    /// When the next key took over.
    retired_at: Option<chrono::DateTime<Utc>>,
    status: KeyStatus,
}

impl KeyView {
    /// Builds the views of `records`, most urgent first, in the user's time zone.
    pub fn build_all(vault: &Vault, mut records: Vec<KeyRecord>) -> latchkey_core::Result<Vec<KeyView>> {
        let settings = Settings::load(vault.store())?;
        let now = chrono::Local::now();
        rotation::by_urgency(&mut records, &now, settings.due_soon_days);
        // "Manages N keys" from the list itself: one query per card would cost 1,000 of them.
        let mut managed: std::collections::HashMap<KeyId, usize> = std::collections::HashMap::new();
        for r in records.iter().filter(|r| r.status != KeyStatus::Revoked) {
            if let Some(master) = r.master_key_id {
                *managed.entry(master).or_default() += 1;
            }
        }
        records
            .into_iter()
            .map(|r| {
                let manages = managed.get(&r.id).copied().unwrap_or(0);
                KeyView::build(vault, r, manages, &settings, &now)
            })
            .collect()
    }

    pub fn one(vault: &Vault, record: KeyRecord) -> latchkey_core::Result<KeyView> {
        let settings = Settings::load(vault.store())?;
        let manages = vault.store().managed_key_count(record.id)?;
        KeyView::build(vault, record, manages, &settings, &chrono::Local::now())
    }

    fn build(
        vault: &Vault,
        record: KeyRecord,
        manages_keys: usize,
        settings: &Settings,
        now: &chrono::DateTime<chrono::Local>,
    ) -> latchkey_core::Result<KeyView> {
        let findings = record.inspection.as_ref().map(|i| risk::assess(i, *now)).unwrap_or_default();
        let rotation = rotation::status(&record, now, settings.due_soon_days)
            .map(|status| RotationView { text: status.describe(), status });
        let mut successor_created = record.created_at;
        let history = vault
            .history_of(&record)?
            .into_iter()
            .map(|old| {
                let item = HistoryItem {
                    id: old.id,
                    key_hint: old.key_hint,
                    created_at: old.created_at,
                    retired_at: Some(successor_created),
                    status: old.status,
                };
                successor_created = old.created_at;
                item
            })
            .collect();
        let still_live_url = record.status.is_still_live().then(|| {
            latchkey_core::exchange::api_management_page(
                record.exchange,
                matches!(record.environment, latchkey_core::model::Environment::Demo),
            )
        });
        let store = vault.store();
        let next_auto_rotation = schedule::next_rotation(store, &record, now.with_timezone(&Utc))?;
        let fixes = latchkey_core::fix::plan(&record, &findings).into_iter().filter(|f| !f.fixes.is_empty()).collect();
        let auto_rotate = if latchkey_core::autorotate::eligible(store, &record).is_err() {
            AutoRotate::Unavailable
        } else if schedule::rotates_automatically(store, &record)? {
            AutoRotate::On
        } else {
            AutoRotate::Off
        };
        let agent_served = latchkey_core::agent::serves(record.exchange);
        Ok(KeyView {
            agent_served,
            record,
            findings,
            rotation,
            history,
            still_live_url,
            manages_keys,
            next_auto_rotation,
            fixes,
            auto_rotate,
        })
    }
}

/// The wizard's input. The secret fields deserialize straight into zeroizing secret types.
#[derive(Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddKeyInput {
    pub exchange: Exchange,
    pub label: String,
    pub environment: Environment,
    #[ts(type = "string")]
    pub api_key: SecretString,
    #[ts(type = "string")]
    pub api_secret: SecretString,
    #[serde(default)]
    #[ts(type = "string | null")]
    pub passphrase: Option<SecretString>,
    /// The exchange's own 2FA code, where it asks for one to read keys (Deribit's security keys).
    #[serde(default)]
    #[ts(type = "string | null")]
    pub exchange_code: Option<SecretString>,
    #[serde(default)]
    pub rotation_days: Option<u32>,
    /// Check the key with its exchange and refuse to save if that fails. `false` only after the
    /// user explicitly chose to save without verifying.
    #[serde(default = "yes")]
    pub verify: bool,
    /// "Bots may use this key" (on by default); the wizard's checkbox.
    #[serde(default = "yes")]
    pub bots_allowed: bool,
}

fn yes() -> bool {
    true
}

pub(crate) fn parse_id(id: &str) -> Result<KeyId, IpcError> {
    id.parse().map_err(|_| IpcError::not_found("That key id is not valid: refresh the list and try again."))
}

#[tauri::command]
pub async fn list_keys(state: State<'_, AppState>) -> Result<Vec<KeyView>, IpcError> {
    let vault = state.vault()?;
    blocking(move || Ok(KeyView::build_all(&vault, vault.list()?)?)).await
}

#[tauri::command]
pub async fn get_key(state: State<'_, AppState>, id: String) -> Result<KeyView, IpcError> {
    let (vault, id) = (state.vault()?, parse_id(&id)?);
    blocking(move || Ok(KeyView::one(&vault, vault.get(id)?)?)).await
}

#[tauri::command]
pub async fn add_key(state: State<'_, AppState>, input: AddKeyInput) -> Result<KeyView, IpcError> {
    let vault = state.vault()?;
    let new = NewKey {
        exchange: input.exchange,
        label: input.label,
        environment: input.environment,
        credentials: Credentials { api_key: input.api_key, api_secret: input.api_secret, passphrase: input.passphrase },
        rotation_days: input.rotation_days,
    };
    let checked = {
        let vault = vault.clone();
        blocking(move || Ok(vault.validate(new)?)).await?
    };
    // Rust asks the exchange itself: an inspection is never taken from the web view.
    let inspection = if input.verify {
        let endpoint = Endpoint::new(checked.exchange, &checked.environment)?;
        let key = latchkey_core::exchange::MasterKey {
            endpoint: &endpoint,
            credentials: &checked.credentials,
            exchange_code: input.exchange_code.as_ref(),
        };
        Some(state.exchange()?.inspect_answering(key).await?)
    } else {
        None
    };
    let bots_allowed = input.bots_allowed;
    let core = state.core()?;
    let record = blocking(move || {
        let record = core.vault.insert(checked, inspection, Utc::now())?;
        // Off from the start when the user unticked it: turning off needs no code.
        if bots_allowed {
            Ok(record)
        } else {
            Ok(core.bots.deny(record.id, Utc::now())?)
        }
    })
    .await?;
    blocking(move || Ok(KeyView::one(&vault, record)?)).await
}

/// What the edit dialog changes; a field left out stays as it is.
#[derive(Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EditKeyInput {
    #[serde(default)]
    #[ts(optional)]
    pub label: Option<String>,
    #[serde(default)]
    #[ts(optional)]
    pub rotation_days: Option<u32>,
    #[serde(default)]
    #[ts(optional)]
    pub environment: Option<Environment>,
    #[serde(default)]
    #[ts(optional)]
    pub bots_allowed: Option<bool>,
    #[serde(default)]
    #[ts(optional)]
    pub auto_rotate: Option<bool>,
}

#[derive(Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct EditResult {
    pub key: KeyView,
    /// What changed, in words (empty when nothing did).
    pub changes: Vec<String>,
    /// After a move: what the key's own signed read at the new address found.
    pub reverify: Option<Reverified>,
}

/// Edits a key. A move to another environment and turning bots on need the 2FA code, checked in
/// Rust (see `latchkey_core::edit`); a move is then re-verified at the new address.
#[tauri::command]
pub async fn edit_key(
    state: State<'_, AppState>,
    id: String,
    input: EditKeyInput,
    code: Option<String>,
) -> Result<EditResult, IpcError> {
    let (core, id) = (state.core()?, parse_id(&id)?);
    let edit = KeyEdit {
        label: input.label,
        rotation_days: input.rotation_days,
        environment: input.environment,
        bots_allowed: input.bots_allowed,
        auto_rotate: input.auto_rotate,
    };
    let edited = {
        let core = core.clone();
        blocking(move || {
            Ok(Editor::new(&core.vault, &core.bots, &core.guard).apply(id, &edit, code.as_deref(), Utc::now())?)
        })
        .await?
    };
    let (record, reverify) = if edited.moved {
        let client = state.exchange()?;
        let (found, record) = edit::reverify(&core.vault, &client, id, Utc::now()).await?;
        (record, Some(found))
    } else {
        (edited.record, None)
    };
    let vault = core.vault.clone();
    let key = blocking(move || Ok(KeyView::one(&vault, record)?)).await?;
    Ok(EditResult { key, changes: edited.changes, reverify })
}

/// Deleting a key is guarded: the code is checked here, in Rust, before anything is removed.
#[tauri::command]
pub async fn delete_key(state: State<'_, AppState>, id: String, code: String) -> Result<(), IpcError> {
    let (core, id) = (state.core()?, parse_id(&id)?);
    blocking(move || {
        let now = Utc::now();
        core.guard.verify(&code, now)?;
        Ok(core.vault.delete(id, now)?)
    })
    .await
}
