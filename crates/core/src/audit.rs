//! The audit log: every add, delete and reveal, with time, action, key and outcome. Entries
//! describe what happened, never a secret.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::model::KeyId;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Add,
    Delete,
    Reveal,
    /// The key was checked against its exchange.
    Verify,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Add => "add",
            Action::Delete => "delete",
            Action::Reveal => "reveal",
            Action::Verify => "verify",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Failed => "failed",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub action: String,
    pub key_id: Option<KeyId>,
    pub label: Option<String>,
    pub outcome: String,
    /// Why an action failed, in words; never a secret.
    pub detail: String,
}

/// An entry about to be written.
#[derive(Clone, Debug)]
pub struct Event<'a> {
    pub at: DateTime<Utc>,
    pub action: Action,
    pub key_id: Option<KeyId>,
    pub label: Option<&'a str>,
    pub outcome: Outcome,
    pub detail: String,
}
