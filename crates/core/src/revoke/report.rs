//! What the user reads after a run: per key what happened and what they can still do, and a
//! checklist per exchange. Built from the journal, so a resumed run reports the same way.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::exchange::api_management_page;
use crate::model::{Exchange, KeyId, KeyRecord, KeyStatus};

use super::journal::{JobKind, JobRow, RemoteResult, StepRow, StepState};
use ts_rs::TS;

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "result", rename_all = "camelCase")]
pub enum KeyResult {
    /// Revoked on the exchange and proved gone by the key's own signed read; secret wiped.
    #[serde(rename_all = "camelCase")]
    Revoked { method: String, proved_at: Option<DateTime<Utc>> },
    /// The key's own signed read proved the exchange no longer knows it; secret wiped.
    #[serde(rename_all = "camelCase")]
    AlreadyRevoked { proved_at: Option<DateTime<Utc>> },
    /// No API could revoke it: still live on the exchange, blocked here, secret kept until the
    /// user deletes it on the website and Latchkey proves it.
    Manual { url: String, steps: Vec<String> },
    /// Wiped locally on request without a remote revoke: the key still works on the exchange.
    WipedOnly { url: String, steps: Vec<String> },
    /// The remote revoke failed or was not proved: the secret is kept and the key must not be used.
    Quarantined { error: String, kind: String },
    /// "I deleted it" was not proved: the key still looks live (or the proof failed).
    Unconfirmed { error: String, kind: String },
    /// Not finished yet (a run in progress, or one to resume).
    Pending,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum ReportAction {
    Retry,
    WipeAnyway,
    /// "I deleted it on the website": Latchkey proves it, then wipes the secret.
    ConfirmDeleted,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyReport {
    pub key_id: KeyId,
    pub label: String,
    pub exchange: Exchange,
    pub key_hint: String,
    #[serde(flatten)]
    pub result: KeyResult,
    /// What the report offers for this key.
    pub actions: Vec<ReportAction>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChecklistItem {
    pub exchange: Exchange,
    pub url: String,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RevokeReport {
    pub job_id: String,
    pub kind: JobKind,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub keys: Vec<KeyReport>,
    pub checklist: Vec<ChecklistItem>,
}

impl RevokeReport {
    pub fn count(&self, pred: impl Fn(&KeyResult) -> bool) -> usize {
        self.keys.iter().filter(|k| pred(&k.result)).count()
    }

    /// Keys whose secret is kept because the remote revoke failed.
    pub fn quarantined(&self) -> Vec<KeyId> {
        self.keys.iter().filter(|k| matches!(k.result, KeyResult::Quarantined { .. })).map(|k| k.key_id).collect()
    }

    /// Keys proved revoked at the exchange.
    pub fn proved(&self) -> usize {
        self.count(|r| matches!(r, KeyResult::Revoked { .. } | KeyResult::AlreadyRevoked { .. }))
    }

    /// Keys that still work at the exchange and must be deleted on its website.
    pub fn still_live(&self) -> usize {
        self.count(|r| {
            matches!(r, KeyResult::Manual { .. } | KeyResult::WipedOnly { .. } | KeyResult::Unconfirmed { .. })
        })
    }
}

pub(crate) fn key_result(kind: JobKind, step: &StepRow) -> KeyResult {
    match (step.state, &step.outcome) {
        (StepState::Failed, _) => {
            let (error, kind_text) =
                (step.error.clone().unwrap_or_default(), step.error_kind.clone().unwrap_or_default());
            if kind == JobKind::Confirm {
                KeyResult::Unconfirmed { error, kind: kind_text }
            } else {
                KeyResult::Quarantined { error, kind: kind_text }
            }
        }
        (StepState::Done, Some(RemoteResult::Revoked { method, proved_at })) => {
            KeyResult::Revoked { method: method.clone(), proved_at: *proved_at }
        }
        (StepState::Done, Some(RemoteResult::AlreadyRevoked { proved_at })) => {
            KeyResult::AlreadyRevoked { proved_at: *proved_at }
        }
        (StepState::Done, Some(RemoteResult::Manual { url, steps })) => {
            KeyResult::Manual { url: url.clone(), steps: steps.clone() }
        }
        (StepState::Done, Some(RemoteResult::NotRevoked { url, steps })) => {
            KeyResult::WipedOnly { url: url.clone(), steps: steps.clone() }
        }
        _ => KeyResult::Pending,
    }
}

pub(crate) fn build(job: &JobRow, steps: &[StepRow], keys: &[Option<KeyRecord>]) -> RevokeReport {
    let mut reports = Vec::new();
    let mut exchanges: Vec<Exchange> = Vec::new();
    for (step, key) in steps.iter().zip(keys) {
        // Deleted from Latchkey while its revoke was interrupted: the resume skipped it, and there
        // is nothing left to report on (the delete has its own audit entry). Not "pending".
        if key.is_none() && step.state == StepState::Done && step.outcome.is_none() {
            continue;
        }
        let result = key_result(job.kind, step);
        // What the key's status today allows (an old report must not offer a finished key).
        let actions = match key.as_ref().map(|k| k.status) {
            Some(KeyStatus::Quarantined) => {
                vec![ReportAction::Retry, ReportAction::WipeAnyway, ReportAction::ConfirmDeleted]
            }
            Some(KeyStatus::StillLive) => vec![ReportAction::ConfirmDeleted, ReportAction::WipeAnyway],
            _ => Vec::new(),
        };
        let (label, exchange, key_hint) = match key {
            Some(k) => (k.label.clone(), k.exchange, k.key_hint.clone()),
            None => ("(deleted)".to_owned(), Exchange::Okx, String::new()),
        };
        if key.is_some() && !exchanges.contains(&exchange) {
            exchanges.push(exchange);
        }
        reports.push(KeyReport { key_id: step.key_id, label, exchange, key_hint, result, actions });
    }
    let mut checklist = Vec::new();
    for exchange in exchanges {
        let url = api_management_page(exchange, false).to_owned();
        for key in reports.iter().filter(|k| k.exchange == exchange) {
            match &key.result {
                KeyResult::Manual { url, .. } => checklist.push(ChecklistItem {
                    exchange,
                    url: url.clone(),
                    text: format!(
                        "Delete the API key {} ('{}') on {exchange}'s API page, then come back to Latchkey and choose \"I deleted it\": Latchkey proves it is gone, then wipes its secret.",
                        key.key_hint, key.label
                    ),
                }),
                KeyResult::WipedOnly { url, .. } => checklist.push(ChecklistItem {
                    exchange,
                    url: url.clone(),
                    text: format!(
                        "Delete the API key {} ('{}') on {exchange}'s API page: its secret is wiped here, but it still works there.",
                        key.key_hint, key.label
                    ),
                }),
                _ => {}
            }
        }
        checklist.push(ChecklistItem {
            exchange,
            url: url.clone(),
            text: format!(
                "Change your {exchange} password, sign out other sessions, and check the API page for keys you do not recognise."
            ),
        });
    }
    RevokeReport {
        job_id: job.id.clone(),
        kind: job.kind,
        started_at: job.started_at,
        finished_at: job.finished_at,
        keys: reports,
        checklist,
    }
}
