//! The key card's "Signing agent…": a bot's placeholder credentials issued here, and copied to the
//! clipboard through Rust so the web view never holds them (it sees the base URL, the bot's name
//! and a masked hint); the key's bots listed and revoked one by one.
//!
//! Issuing is guarded like every copy of credentials out of Latchkey: the 2FA code is checked here
//! first, and the attempt counts toward the backoff. Revoking a bot narrows access and needs none.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::Utc;
use latchkey_core::agent::{self, AgentBots, Placeholder};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use tauri::State;
use ts_rs::TS;
use zeroize::Zeroizing;

use super::blocking;
use super::keys::parse_id;
use super::secrets::{clear_after, secret_ttl_secs, Copied};
use crate::{clipboard, AppState, IpcError};

/// How long issued placeholders stay copyable (the dialog's lifetime, at most).
const COPYABLE_SECS: u64 = 300;

/// A bot of the key, as the card's dialog lists it.
#[derive(Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AgentBotView {
    pub name: String,
    pub issued_at: chrono::DateTime<Utc>,
    /// The OpenBao host whose agent serves it (`latchkey agent issue --host`); `null`: this machine's.
    pub host: Option<String>,
}

/// What the page learns of newly issued placeholders: never the placeholder key, secret or
/// passphrase themselves.
#[derive(Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct IssuedBotView {
    pub bot: String,
    pub label: String,
    /// Where the bot sends its requests instead of the exchange (not a secret).
    pub base_url: String,
    /// The placeholder key's first and last four characters.
    pub key_hint: String,
    pub has_passphrase: bool,
    /// Copyable for this long, or until the dialog closes.
    pub copyable_for_secs: u64,
}

/// What "Copy" in the dialog takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum PlaceholderPart {
    /// The agent's URL for the bot's exchange (not a secret; copied the same way for one path).
    BaseUrl,
    ApiKey,
    Secret,
    Passphrase,
    /// Every part as `KEY=value` lines, for a bot's `.env` file.
    EnvLines,
}

/// The placeholders just issued, in memory until copied away, the dialog closes or they expire.
#[derive(Default)]
pub struct IssuedPlaceholders(Mutex<Option<Pending>>);

struct Pending {
    bot: String,
    label: String,
    base_url: String,
    placeholder: Placeholder,
    until: Instant,
}

impl IssuedPlaceholders {
    fn slot(&self) -> std::sync::MutexGuard<'_, Option<Pending>> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn hint(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= 8 {
        return "…".to_owned();
    }
    format!("{}…{}", chars[..4].iter().collect::<String>(), chars[chars.len() - 4..].iter().collect::<String>())
}

/// The text one part puts on the clipboard.
fn part_text(p: &Pending, part: PlaceholderPart) -> Result<Zeroizing<String>, IpcError> {
    let ph = &p.placeholder;
    // EXPOSE: the user asked to copy the bot's placeholders, issued with a valid 2FA code, to paste
    // into the bot's config; they are worthless without this Latchkey.
    let passphrase = ph.passphrase.as_ref().map(|s| s.expose_secret());
    let one = |value: &str| Zeroizing::new(value.to_owned());
    Ok(match part {
        PlaceholderPart::BaseUrl => one(&p.base_url),
        PlaceholderPart::ApiKey => one(ph.api_key.expose_secret()),
        PlaceholderPart::Secret => one(ph.secret.expose_secret()),
        PlaceholderPart::Passphrase => {
            one(passphrase.ok_or_else(|| IpcError::not_found("This exchange's keys have no passphrase."))?)
        }
        PlaceholderPart::EnvLines => {
            // Built in place, sized up front: no intermediate copy of a part is left unzeroized.
            let mut lines = Zeroizing::new(String::with_capacity(1024));
            lines.push_str(&format!(
                "# Latchkey signing agent placeholders for bot '{}' on '{}': worthless without this Latchkey\n\
                 LATCHKEY_AGENT_URL={}\n",
                p.bot, p.label, p.base_url
            ));
            let parts = [
                ("API_KEY", Some(ph.api_key.expose_secret())),
                ("API_SECRET", Some(ph.secret.expose_secret())),
                ("API_PASSPHRASE", passphrase),
            ];
            for (name, value) in parts.into_iter().filter_map(|(n, v)| v.map(|v| (n, v))) {
                lines.push_str(name);
                lines.push('=');
                lines.push_str(value);
                lines.push('\n');
            }
            lines
        }
    })
}

/// The bots that trade with this key's label through the agent.
#[tauri::command]
pub async fn agent_bots(state: State<'_, AppState>, id: String) -> Result<Vec<AgentBotView>, IpcError> {
    let (core, id) = (state.core()?, parse_id(&id)?);
    blocking(move || {
        let key = core.vault.get(id)?;
        let bots = AgentBots::new(core.store.clone(), core.keychain.clone()).bots()?;
        Ok(bots
            .into_iter()
            .filter(|b| b.label == key.label)
            .map(|b| AgentBotView { name: b.name, issued_at: b.issued_at, host: b.host })
            .collect())
    })
    .await
}

/// Guarded: new placeholders for bot `bot` on this key, kept here for the dialog's copies.
#[tauri::command]
pub async fn issue_agent_bot(
    state: State<'_, AppState>,
    issued: State<'_, IssuedPlaceholders>,
    id: String,
    bot: String,
    code: String,
) -> Result<IssuedBotView, IpcError> {
    let (core, id) = (state.core()?, parse_id(&id)?);
    let listen = agent::listen_address()?;
    let made = blocking(move || {
        let now = Utc::now();
        core.guard.verify(&code, now)?;
        let key = core.vault.get(id)?;
        Ok(AgentBots::new(core.store.clone(), core.keychain.clone()).issue(&key.label, bot.trim(), now)?)
    })
    .await?;
    let base_url = agent::base_url(listen, made.bot.exchange);
    let view = IssuedBotView {
        bot: made.bot.name.clone(),
        label: made.bot.label.clone(),
        base_url: base_url.clone(),
        key_hint: hint(made.placeholder.api_key.expose_secret()),
        has_passphrase: made.placeholder.passphrase.is_some(),
        copyable_for_secs: COPYABLE_SECS,
    };
    tracing::info!(bot = %view.bot, label = %view.label, "placeholders issued from the key card");
    *issued.slot() = Some(Pending {
        bot: made.bot.name,
        label: made.bot.label,
        base_url,
        placeholder: made.placeholder,
        until: Instant::now() + Duration::from_secs(COPYABLE_SECS),
    });
    Ok(view)
}

/// Copies one part of the placeholders just issued, cleared from the clipboard after the TTL.
#[tauri::command]
pub async fn copy_agent_placeholder(
    issued: State<'_, IssuedPlaceholders>,
    part: PlaceholderPart,
) -> Result<Copied, IpcError> {
    let text = {
        let mut slot = issued.slot();
        if slot.as_ref().is_some_and(|p| Instant::now() >= p.until) {
            *slot = None;
        }
        let p = slot.as_ref().ok_or_else(|| {
            IpcError::not_found(
                "These placeholders are no longer held (they are shown for 5 minutes): revoke the bot and issue new ones.",
            )
        })?;
        part_text(p, part)?
    };
    let ttl = secret_ttl_secs();
    let ticket = blocking(move || clipboard::put_secret(&text).map_err(|e| IpcError::internal(e.to_string()))).await?;
    clear_after(ticket, ttl, "signing agent placeholders".to_owned());
    Ok(Copied { clears_in_secs: ttl })
}

/// The dialog closed: the placeholders are dropped here too (the agent re-derives them).
#[tauri::command]
pub async fn forget_agent_placeholder(issued: State<'_, IssuedPlaceholders>) -> Result<(), IpcError> {
    *issued.slot() = None;
    Ok(())
}

/// Revokes one bot: the agent refuses its placeholders from the next request on (a server's
/// agent from its next look at OpenBao, which is told first).
#[tauri::command]
pub async fn revoke_agent_bot(state: State<'_, AppState>, name: String) -> Result<(), IpcError> {
    let core = state.core()?;
    let bots = AgentBots::new(core.store.clone(), core.keychain.clone());
    bots.revoke_bot(&core.servers, &name, Utc::now()).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    fn pending(passphrase: Option<&str>) -> Pending {
        Pending {
            bot: "grid".into(),
            label: "okx-grid".into(),
            base_url: "http://127.0.0.1:18300/okx".into(),
            placeholder: Placeholder {
                api_key: SecretString::from("3c8a7b6d-1e2f-4a5b-9c8d-7e6f5a4b3c2d"),
                secret: SecretString::from("0F1E2D3C"),
                passphrase: passphrase.map(SecretString::from),
            },
            until: Instant::now(),
        }
    }

    #[test]
    fn each_part_copies_what_the_bot_config_needs() {
        let p = pending(Some("Lk-pass!"));
        assert_eq!(part_text(&p, PlaceholderPart::BaseUrl).unwrap().as_str(), "http://127.0.0.1:18300/okx");
        assert_eq!(part_text(&p, PlaceholderPart::ApiKey).unwrap().as_str(), "3c8a7b6d-1e2f-4a5b-9c8d-7e6f5a4b3c2d");
        assert_eq!(part_text(&p, PlaceholderPart::Secret).unwrap().as_str(), "0F1E2D3C");
        assert_eq!(part_text(&p, PlaceholderPart::Passphrase).unwrap().as_str(), "Lk-pass!");
        let env = part_text(&p, PlaceholderPart::EnvLines).unwrap();
        assert!(env.contains("\nLATCHKEY_AGENT_URL=http://127.0.0.1:18300/okx\n"), "{}", env.as_str());
        assert!(env
            .ends_with("API_KEY=3c8a7b6d-1e2f-4a5b-9c8d-7e6f5a4b3c2d\nAPI_SECRET=0F1E2D3C\nAPI_PASSPHRASE=Lk-pass!\n"));
        let plain = pending(None);
        assert!(part_text(&plain, PlaceholderPart::Passphrase).is_err(), "no passphrase to copy");
        assert!(!part_text(&plain, PlaceholderPart::EnvLines).unwrap().contains("PASSPHRASE"));
    }

    #[test]
    fn the_page_sees_a_hint_of_the_placeholder_key_only() {
        assert_eq!(hint("3c8a7b6d-1e2f-4a5b-9c8d-7e6f5a4b3c2d"), "3c8a…3c2d");
        assert_eq!(hint("short"), "…");
    }
}
