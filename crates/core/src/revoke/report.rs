//! What the user reads after a run: per key what happened and what they can still do, and a
//! checklist per exchange. Built from the journal, so a resumed run reports the same way.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::exchange::api_management_page;
use crate::model::{Exchange, KeyId, KeyRecord, KeyStatus};

use super::steps::{DeleteMethod, JobKind, JobRow, RemoteResult, StepRow, StepState};
use ts_rs::TS;

/// How a revoked key was deleted at its exchange, in the report (the journal keeps only the
/// [`DeleteMethod`]; the master's label is looked up when the report is built).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "by", rename_all = "camelCase")]
pub enum RevokedBy {
    /// Bybit: the key deleted itself through the API.
    SelfDelete,
    /// Its master key deleted it; `None`: the master is no longer in Latchkey.
    #[serde(rename_all = "camelCase")]
    ViaMaster { master_label: Option<String> },
    /// Journaled without saying how.
    Api,
}

impl RevokedBy {
    pub(crate) fn new(method: DeleteMethod, master_label: Option<String>) -> Self {
        match method {
            DeleteMethod::SelfDelete => RevokedBy::SelfDelete,
            DeleteMethod::ViaMaster => RevokedBy::ViaMaster { master_label },
            DeleteMethod::Unrecorded => RevokedBy::Api,
        }
    }

    /// "the key deleted itself through the API", "deleted through master key 'okx-main'".
    pub fn describe(&self) -> String {
        match self {
            RevokedBy::SelfDelete => "the key deleted itself through the API".to_owned(),
            RevokedBy::ViaMaster { master_label: Some(label) } => format!("deleted through master key '{label}'"),
            RevokedBy::ViaMaster { master_label: None } => "deleted through its master key".to_owned(),
            RevokedBy::Api => "deleted through the exchange's API".to_owned(),
        }
    }
}

impl JobKind {
    /// The report's heading.
    pub fn title(self) -> &'static str {
        match self {
            JobKind::Revoke => "Emergency revoke report",
            JobKind::Rotation => "Rotation report: the old key retired",
            JobKind::Retry => "Revoke report (retry)",
            JobKind::WipeAnyway => "Report: secrets wiped here",
            JobKind::Confirm => "Report: deletions on the website checked",
        }
    }

    /// What the user should do besides the per-key steps. An emergency means someone else may have
    /// the keys; retiring a key after its rotation is routine and asks nothing more.
    pub fn advice(self) -> Option<&'static str> {
        match self {
            JobKind::Revoke => Some(
                "Change your exchange account password, sign out other sessions, and check the API page for keys you do not recognise.",
            ),
            JobKind::Rotation | JobKind::Retry | JobKind::WipeAnyway | JobKind::Confirm => None,
        }
    }
}

impl KeyResult {
    /// A few words for the key's outcome, as a heading (the UI's badge says the same).
    pub fn headline(&self) -> &'static str {
        match self {
            KeyResult::Revoked { .. } | KeyResult::AlreadyRevoked { .. } => "Proved revoked",
            KeyResult::Manual { .. } => "Still live: delete it on the website",
            KeyResult::WipedOnly { .. } => "Secret wiped here, still live",
            KeyResult::Quarantined { .. } => "Quarantined, not proved",
            KeyResult::Unconfirmed { .. } => "Not proved, still live",
            KeyResult::Pending => "Not finished",
        }
    }
}

/// Why a try is repeated, in words, from the error's machine kind (progress lines).
pub fn retry_reason(kind: &str) -> &'static str {
    match kind {
        "rate_limited" => "the exchange asked to slow down",
        "exchange_down" => "the exchange is not answering properly",
        "timeout" => "no answer in time",
        "network" => "a network error",
        _ => "a temporary error",
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "result", rename_all = "camelCase")]
pub enum KeyResult {
    /// Revoked on the exchange and proved gone by the key's own signed read; secret wiped.
    #[serde(rename_all = "camelCase")]
    Revoked { method: RevokedBy, proved_at: Option<DateTime<Utc>> },
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
    /// What an emergency revoke did on the OpenBao server (delivered keys destroyed, hosts' access
    /// taken), beside the exchanges'.
    pub servers: Vec<crate::servers::ServerStep>,
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

/// `master_label`: the label of the key's master, for a key its master deleted.
pub(crate) fn key_result(kind: JobKind, step: &StepRow, master_label: impl FnOnce() -> Option<String>) -> KeyResult {
    match (step.state, &step.data) {
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
            KeyResult::Revoked { method: RevokedBy::new(*method, master_label()), proved_at: *proved_at }
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

/// `master_label`: a key's master's label, if it has one and it is still in Latchkey.
pub(crate) fn build(
    job: &JobRow,
    steps: &[StepRow],
    keys: &[Option<KeyRecord>],
    master_label: impl Fn(&KeyRecord) -> Option<String>,
) -> RevokeReport {
    let mut reports = Vec::new();
    let mut exchanges: Vec<Exchange> = Vec::new();
    for (step, key) in steps.iter().zip(keys) {
        // Deleted from Latchkey while its revoke was interrupted: the resume skipped it, and there
        // is nothing left to report on (the delete has its own audit entry). Not "pending".
        if key.is_none() && step.state == StepState::Done && step.data.is_none() {
            continue;
        }
        let result = key_result(job.kind, step, || key.as_ref().and_then(&master_label));
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
    // After a rotation the key to delete is the old one; its replacement keeps working.
    let which = if job.kind == JobKind::Rotation { "old API key" } else { "API key" };
    let replaced = if job.kind == JobKind::Rotation { " (the new key that replaced it keeps working)" } else { "" };
    for exchange in exchanges {
        let url = api_management_page(exchange, false).to_owned();
        for key in reports.iter().filter(|k| k.exchange == exchange) {
            match &key.result {
                KeyResult::Manual { url, .. } => checklist.push(ChecklistItem {
                    exchange,
                    url: url.clone(),
                    text: format!(
                        "Delete the {which} {} ('{}') on {exchange}'s API page{replaced}, then come back to Latchkey and choose \"I deleted it\": Latchkey proves it is gone, then wipes its secret.",
                        key.key_hint, key.label
                    ),
                }),
                KeyResult::WipedOnly { url, .. } => checklist.push(ChecklistItem {
                    exchange,
                    url: url.clone(),
                    text: format!(
                        "Delete the {which} {} ('{}') on {exchange}'s API page: its secret is wiped here, but it still works there.",
                        key.key_hint, key.label
                    ),
                }),
                _ => {}
            }
        }
        if job.kind.advice().is_some() {
            checklist.push(ChecklistItem {
                exchange,
                url: url.clone(),
                text: format!(
                    "Change your {exchange} password, sign out other sessions, and check the API page for keys you do not recognise."
                ),
            });
        }
    }
    RevokeReport {
        job_id: job.id.clone(),
        kind: job.kind,
        started_at: job.started_at,
        finished_at: job.finished_at,
        keys: reports,
        checklist,
        servers: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wording::code_words;
    use chrono::TimeZone;

    fn job(kind: JobKind) -> JobRow {
        let at = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
        JobRow { id: "job-1".into(), kind, started_at: at, finished_at: Some(at + chrono::Duration::seconds(4)) }
    }

    fn step(key: &KeyRecord, outcome: RemoteResult) -> StepRow {
        StepRow { key_id: key.id, wave: 0, state: StepState::Done, data: Some(outcome), error: None, error_kind: None }
    }

    #[test]
    fn a_rotation_asks_to_delete_the_old_key_and_an_emergency_to_change_the_password() {
        let at = Utc.with_ymd_and_hms(2026, 9, 1, 9, 0, 0).unwrap();
        let okx = KeyRecord { status: KeyStatus::StillLive, ..KeyRecord::sample(Exchange::Okx, "grid-bot", at, 90) };
        let bybit = KeyRecord::sample(Exchange::Bybit, "wallet-bot", at, 90);
        let manual = RemoteResult::Manual { url: "https://www.okx.com/account/my-api".into(), steps: vec![] };
        let revoked = RemoteResult::Revoked { method: DeleteMethod::ViaMaster, proved_at: Some(at) };
        let steps = [step(&okx, manual), step(&bybit, revoked)];
        let keys = [Some(okx.clone()), Some(bybit.clone())];
        let master = |_: &KeyRecord| Some("bybit-main".to_owned());

        let rotation = build(&job(JobKind::Rotation), &steps, &keys, master);
        let texts: Vec<&str> = rotation.checklist.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(texts.len(), 1, "{texts:?}");
        assert!(
            texts[0].starts_with(&format!(
                "Delete the old API key {} ('grid-bot') on OKX's API page (the new key that replaced it keeps working)",
                okx.key_hint
            )),
            "{}",
            texts[0]
        );
        let KeyResult::Revoked { method, .. } = &rotation.keys[1].result else { panic!("{:?}", rotation.keys[1]) };
        assert_eq!(method.describe(), "deleted through master key 'bybit-main'");

        let emergency = build(&job(JobKind::Revoke), &steps, &keys, master);
        let texts: Vec<&str> = emergency.checklist.iter().map(|c| c.text.as_str()).collect();
        assert!(texts[0].starts_with("Delete the API key"), "{texts:?}");
        assert!(texts.contains(&"Change your OKX password, sign out other sessions, and check the API page for keys you do not recognise."), "{texts:?}");
        assert!(texts.iter().any(|t| t.starts_with("Change your Bybit password")), "{texts:?}");
        for t in rotation.checklist.iter().chain(&emergency.checklist).map(|c| c.text.as_str()) {
            assert_eq!(code_words(t), Vec::<&str>::new(), "{t}");
        }
    }

    #[test]
    fn no_outcome_or_method_is_worded_with_an_identifier() {
        let methods = [
            RevokedBy::SelfDelete,
            RevokedBy::ViaMaster { master_label: Some("main".into()) },
            RevokedBy::ViaMaster { master_label: None },
            RevokedBy::Api,
        ];
        let results = [
            KeyResult::AlreadyRevoked { proved_at: None },
            KeyResult::Manual { url: String::new(), steps: vec![] },
            KeyResult::WipedOnly { url: String::new(), steps: vec![] },
            KeyResult::Quarantined { error: String::new(), kind: "held_for_retry".into() },
            KeyResult::Unconfirmed { error: String::new(), kind: "still_live".into() },
            KeyResult::Pending,
        ];
        let kinds = [JobKind::Revoke, JobKind::Rotation, JobKind::Retry, JobKind::WipeAnyway, JobKind::Confirm];
        let words = methods
            .iter()
            .map(RevokedBy::describe)
            .chain(results.iter().map(|r| r.headline().to_owned()))
            .chain(kinds.iter().flat_map(|k| [Some(k.title()), k.advice()]).flatten().map(str::to_owned))
            .chain(
                ["rate_limited", "exchange_down", "timeout", "network", "other"].map(|k| retry_reason(k).to_owned()),
            );
        for text in words {
            assert_eq!(code_words(&text), Vec::<&str>::new(), "{text}");
        }
        // The journal's names are still read, and a row without one is not an error.
        let old: RemoteResult = serde_json::from_str(r#"{"result":"revoked","method":"selfDelete"}"#).unwrap();
        assert_eq!(old, RemoteResult::Revoked { method: DeleteMethod::SelfDelete, proved_at: None });
        let blank: RemoteResult = serde_json::from_str(r#"{"result":"revoked","method":""}"#).unwrap();
        assert_eq!(blank, RemoteResult::Revoked { method: DeleteMethod::Unrecorded, proved_at: None });
    }
}
