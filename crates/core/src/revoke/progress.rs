//! What the revoke dialog shows per key as a run goes: the stage a key reached and a sentence for
//! the person. The shell forwards exactly these on its channel, so the UI's counter is tested on the
//! sequence a real run produces (`crates/core/tests/revoke.rs` records one into the UI's tests).

use serde::Serialize;
use ts_rs::TS;

use crate::model::KeyId;

use super::ProgressEvent;

/// A key's step as the run reaches it. A key is finished at `wiped`, `manual` or `failed`; the
/// others (`planned`, `remote_started`, `remote_ok`, `already_revoked`, `retrying`) come before.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum RevokeStage {
    Planned,
    RemoteStarted,
    RemoteOk,
    AlreadyRevoked,
    Manual,
    Retrying,
    Wiped,
    Failed,
}

#[derive(Clone, Debug, PartialEq, Serialize, TS)]
#[ts(rename = "RevokeProgress")]
pub struct ProgressView {
    pub id: KeyId,
    pub stage: RevokeStage,
    pub message: String,
}

impl From<ProgressEvent> for ProgressView {
    fn from(event: ProgressEvent) -> Self {
        let (id, stage, message) = match event {
            ProgressEvent::Planned { key_id, label, exchange, .. } => {
                (key_id, RevokeStage::Planned, format!("{label} ({exchange}): queued"))
            }
            ProgressEvent::RemoteStarted { key_id } => {
                (key_id, RevokeStage::RemoteStarted, "Asking the exchange…".to_owned())
            }
            ProgressEvent::RemoteOk { key_id, already_revoked: true } => (
                key_id,
                RevokeStage::AlreadyRevoked,
                "Proved gone: the key's own signed call was refused as an invalid key.".to_owned(),
            ),
            ProgressEvent::RemoteOk { key_id, .. } => {
                (key_id, RevokeStage::RemoteOk, "Revoked at the exchange, and proved gone.".to_owned())
            }
            ProgressEvent::Manual { key_id, url } => {
                (key_id, RevokeStage::Manual, format!("Still live: no API revoke. Delete it at {url}"))
            }
            ProgressEvent::Retrying { key_id, attempt, wait_ms, reason } => (
                key_id,
                RevokeStage::Retrying,
                format!(
                    "Attempt {attempt} failed ({}); retrying in {:.1} s",
                    super::retry_reason(&reason),
                    wait_ms as f64 / 1000.0
                ),
            ),
            ProgressEvent::Wiped { key_id } => {
                (key_id, RevokeStage::Wiped, "Secret wiped from the keychain.".to_owned())
            }
            ProgressEvent::Failed { key_id, error, .. } => (key_id, RevokeStage::Failed, error),
        };
        ProgressView { id, stage, message }
    }
}
