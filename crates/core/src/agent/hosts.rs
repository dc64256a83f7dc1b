//! Bots on servers: placeholders issued on the desktop for a host's agent
//! (`latchkey agent --from openbao` there). The desktop keeps the bot as for its own agent (the
//! placeholder key's hash, the label, and the host), and writes the host's whole document to
//! OpenBao ([`crate::servers::agent_doc`]) after each change: issue, revoke, policy, drain.
//!
//! The host must already read the bot's key from OpenBao (`latchkey host add … --keys LABEL`,
//! after `latchkey deliver LABEL`): its agent signs with the key it reads there.

use chrono::{DateTime, Utc};

use super::placeholders::{self, derive_host_placeholder, BotRecord, BOT_PREFIX};
use super::policy::{AgentPolicy, POLICY_PREFIX};
use super::{valid_bot_name, AgentBots, AgentError, Issued, DRAIN_PREFIX};
use crate::audit::Action;
use crate::bots::check_run;
use crate::servers::{AgentDoc, HostBot, Servers};

impl AgentBots {
    /// New placeholder credentials for bot `name` on `label`, served by `host`'s agent. Written to
    /// OpenBao before the desktop records the bot, so a bot is never issued without its host
    /// knowing it.
    pub async fn issue_for_host(
        &self,
        servers: &Servers,
        label: &str,
        name: &str,
        host: &str,
        now: DateTime<Utc>,
    ) -> Result<Issued, AgentError> {
        if !valid_bot_name(name) {
            return Err(AgentError::BadBotName(name.to_owned()));
        }
        let host = crate::servers::hosts::host_name(host)?.to_owned();
        let key = self.active_key(label)?;
        let Some(scheme) = key.exchange.adapter().agent_scheme() else {
            return Err(AgentError::NotServed { exchange: key.exchange.to_string() });
        };
        check_run(&key, self.store.sub_key_count(key.id)?, &format!("bot {name} (signing agent on {host})"))?;
        let row = format!("{BOT_PREFIX}{name}");
        if self.store.setting::<BotRecord>(&row)?.is_some() {
            return Err(AgentError::BotExists(name.to_owned()));
        }
        let client = servers.client()?;
        let readable = client.host_keys(&host).await?;
        if !readable.iter().any(|l| l == key.label.trim()) {
            return Err(AgentError::HostCannotRead { host, label: key.label.clone(), known: !readable.is_empty() });
        }
        // The host's policy, written again with the line that lets it read its document (hosts
        // enrolled before the agent came lack it); the keys it may read stay the same.
        let labels: Vec<&str> = readable.iter().map(String::as_str).collect();
        client.set_host_keys(&host, &labels).await?;

        let root = placeholders::root_secret(self.root.as_ref())?;
        let shape = scheme.placeholder_shape();
        let api_key = placeholders::fresh_key(&shape)?;
        let sha = placeholders::key_sha256(&api_key);
        let bot = BotRecord {
            name: name.to_owned(),
            label: key.label.clone(),
            exchange: key.exchange,
            key_id: key.id,
            key_sha256: sha.clone(),
            issued_at: now,
            host: Some(host.clone()),
        };
        let mut doc = self.host_doc(&host, &root)?;
        let material = derive_host_placeholder(&root, &host, &sha, &shape);
        doc.bots.push(host_bot(&bot, material.secret.clone(), material.passphrase.clone()));
        client.write_agent_doc(&host, &doc).await?;
        self.store.set_setting(&row, &bot)?;
        let detail = format!("bot '{name}' may trade through the signing agent on host '{host}'");
        self.audit(Action::AgentIssue, &key, detail, now)?;
        let placeholder = placeholders::Placeholder {
            api_key: secrecy::SecretString::from(api_key),
            secret: material.secret,
            passphrase: material.passphrase,
        };
        Ok(Issued { bot, placeholder })
    }

    /// Revokes bot `name`'s placeholder credentials: its agent refuses them from the next request
    /// (a server's, from its next look). A host's bot leaves its host's document first, so the
    /// desktop never forgets a bot the host still serves.
    pub async fn revoke_bot(&self, servers: &Servers, name: &str, now: DateTime<Utc>) -> Result<BotRecord, AgentError> {
        let row = format!("{BOT_PREFIX}{name}");
        let bot = self.store.setting::<BotRecord>(&row)?.ok_or_else(|| AgentError::UnknownBot(name.to_owned()))?;
        if let Some(host) = &bot.host {
            let root = placeholders::root_secret(self.root.as_ref())?;
            let mut doc = self.host_doc(host, &root)?;
            doc.bots.retain(|b| b.name != bot.name);
            servers.client()?.write_agent_doc(host, &doc).await?;
        }
        self.revoke_bot_row(&bot, now)
    }

    /// Writes again the document of every host with a bot on `label` (after its policy or drain
    /// changed). Returns the hosts told.
    pub async fn publish_label(&self, servers: &Servers, label: &str) -> Result<Vec<String>, AgentError> {
        let mut hosts: Vec<String> =
            self.bots()?.into_iter().filter(|b| b.label == label).filter_map(|b| b.host).collect();
        hosts.sort();
        hosts.dedup();
        if hosts.is_empty() {
            return Ok(hosts);
        }
        let root = placeholders::root_secret(self.root.as_ref())?;
        let client = servers.client()?;
        for host in &hosts {
            client.write_agent_doc(host, &self.host_doc(host, &root)?).await?;
        }
        Ok(hosts)
    }

    /// What `host`'s agent is told now: its bots, and the policies and drains of their keys.
    fn host_doc(&self, host: &str, root: &secrecy::SecretSlice<u8>) -> Result<AgentDoc, AgentError> {
        let mut doc = AgentDoc::default();
        for bot in self.bots()?.into_iter().filter(|b| b.host.as_deref() == Some(host)) {
            let Some(scheme) = bot.exchange.adapter().agent_scheme() else { continue };
            let material = derive_host_placeholder(root, host, &bot.key_sha256, &scheme.placeholder_shape());
            doc.bots.push(host_bot(&bot, material.secret, material.passphrase));
        }
        for label in doc.labels() {
            if let Some(p) = self.store.setting::<AgentPolicy>(&format!("{POLICY_PREFIX}{label}"))? {
                doc.policies.insert(label.clone(), p);
            }
            if let Some(until) = self.store.setting::<DateTime<Utc>>(&format!("{DRAIN_PREFIX}{label}"))? {
                doc.draining.insert(label, until);
            }
        }
        Ok(doc)
    }
}

fn host_bot(bot: &BotRecord, secret: secrecy::SecretString, passphrase: Option<secrecy::SecretString>) -> HostBot {
    HostBot {
        name: bot.name.clone(),
        label: bot.label.clone(),
        exchange: bot.exchange,
        key_sha256: bot.key_sha256.clone(),
        secret,
        passphrase,
    }
}
