//! The signing agent's bots on one server: what `latchkey agent --from openbao` on host H needs to
//! recognise them, at `<mount>/data/<prefix>/.agent/<H>`, written by the desktop and readable by
//! H's policy alone (labels never start with '.', so no key can sit there).
//!
//! Per bot: its name, the label it trades with, and the placeholder key's SHA-256 with the
//! placeholder secret (and passphrase) the agent checks its signatures with. The desktop derives
//! that secret from its root secret, the host and the key's hash, so the root never leaves the
//! desktop and one host's material says nothing of another's. Beside the bots: the keys' agent
//! policies and drains, so a server's agent refuses what the desktop's would.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::agent::AgentPolicy;
use crate::model::Exchange;
use crate::servers::client::body;
use crate::servers::error::PathKind;
use crate::servers::hosts::host_name;
use crate::servers::{BaoClient, ServerError};

/// The folder of the documents, under the prefix.
const AGENT: &str = ".agent";

/// One bot a server's agent serves.
#[derive(Deserialize)]
pub struct HostBot {
    pub name: String,
    pub label: String,
    pub exchange: Exchange,
    /// Hex SHA-256 of the placeholder key the bot sends.
    pub key_sha256: String,
    pub secret: SecretString,
    #[serde(default)]
    pub passphrase: Option<SecretString>,
}

impl std::fmt::Debug for HostBot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostBot").field("name", &self.name).field("label", &self.label).finish_non_exhaustive()
    }
}

/// Everything a server's agent is told.
#[derive(Debug, Default, Deserialize)]
pub struct AgentDoc {
    pub bots: Vec<HostBot>,
    #[serde(default)]
    pub policies: BTreeMap<String, AgentPolicy>,
    /// Labels whose bots may only cancel, read and reduce until then.
    #[serde(default)]
    pub draining: BTreeMap<String, DateTime<Utc>>,
}

impl AgentDoc {
    /// The labels the document's bots trade with, each once.
    pub fn labels(&self) -> Vec<String> {
        let mut labels: Vec<String> = self.bots.iter().map(|b| b.label.clone()).collect();
        labels.sort();
        labels.dedup();
        labels
    }
}

fn segment(host: &str) -> Result<String, ServerError> {
    Ok(format!("{AGENT}/{}", host_name(host)?))
}

/// The policy line that lets a host read its own document.
pub(crate) fn doc_policy(client: &BaoClient, host: &str) -> Result<String, ServerError> {
    let path = client.settings().path(PathKind::Data, &segment(host)?);
    Ok(format!("path \"{path}\" {{ capabilities = [\"read\"] }}\n"))
}

impl BaoClient {
    /// The desktop's side: replaces `host`'s document (only the desktop writes it).
    pub async fn write_agent_doc(&self, host: &str, doc: &AgentDoc) -> Result<(), ServerError> {
        #[derive(Serialize)]
        struct Bot<'a> {
            name: &'a str,
            label: &'a str,
            exchange: &'a str,
            key_sha256: &'a str,
            secret: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            passphrase: Option<&'a str>,
        }
        // EXPOSE: the placeholder secrets go to the host's agent, which checks bots' signatures with them.
        let bots: Vec<Bot<'_>> = doc
            .bots
            .iter()
            .map(|b| Bot {
                name: &b.name,
                label: &b.label,
                exchange: b.exchange.as_str(),
                key_sha256: &b.key_sha256,
                secret: b.secret.expose_secret(),
                passphrase: b.passphrase.as_ref().map(|p| p.expose_secret()),
            })
            .collect();
        let payload =
            body(&serde_json::json!({ "data": { "bots": bots, "policies": doc.policies, "draining": doc.draining } }));
        let path = self.settings().path(PathKind::Data, &segment(host)?);
        let reply = self.call(Method::POST, &path, Some(&payload)).await?;
        drop(payload);
        if !reply.status.is_success() {
            return Err(self.failed(&reply, &path, PathKind::Data, "writing the host's signing-agent bots").await);
        }
        Ok(())
    }

    /// The host's side: its document (`None`: no bot was issued for it, or they were all revoked).
    pub async fn read_agent_doc(&self, host: &str) -> Result<Option<AgentDoc>, ServerError> {
        let path = self.settings().path(PathKind::Data, &segment(host)?);
        let what = "reading this host's signing-agent bots";
        self.read_data::<AgentDoc>(&path, what).await?.transpose()
    }

    /// Removes `host`'s document and all its versions (nothing there is no error).
    pub async fn delete_agent_doc(&self, host: &str) -> Result<(), ServerError> {
        let path = self.settings().path(PathKind::Metadata, &segment(host)?);
        let reply = self.call(Method::DELETE, &path, None).await?;
        if !reply.status.is_success() && reply.status != StatusCode::NOT_FOUND {
            return Err(self.failed(&reply, &path, PathKind::Metadata, "removing the host's signing-agent bots").await);
        }
        Ok(())
    }
}
