//! What the job journal records for an automatic rotation: each key's step states and the data
//! they carry (the new key's id, chosen before the create so a resume knows where its secret
//! went; the label the exchange shows, so a resume finds a key a timed-out create made).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::handover::Handover;
use crate::job::crash::Point;
use crate::model::{KeyId, KeyInspection};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StepState {
    Planned,
    /// The create may be in flight: a resume looks for the key by its label first.
    Creating,
    /// The new secret is in the keychain under the journaled id.
    Created,
    /// The new key answered a signed read.
    Verified,
    /// The new key is saved under the label; bots are handed it from now on.
    Stored,
    /// The bots that held the old key moved (or the grace period is over).
    HandedOver,
    /// The old key's revoke job is starting (or running).
    Retiring,
    Done,
    Failed,
}

impl crate::job::StepState for StepState {
    const ALL: &'static [Self] = &[
        StepState::Planned,
        StepState::Creating,
        StepState::Created,
        StepState::Verified,
        StepState::Stored,
        StepState::HandedOver,
        StepState::Retiring,
        StepState::Done,
        StepState::Failed,
    ];
    const PLANNED: Self = StepState::Planned;
    const SKIPPED: Self = StepState::Done;

    fn as_str(self) -> &'static str {
        match self {
            StepState::Planned => "planned",
            StepState::Creating => "creating",
            StepState::Created => "created",
            StepState::Verified => "verified",
            StepState::Stored => "stored",
            StepState::HandedOver => "handed_over",
            StepState::Retiring => "retiring",
            StepState::Done => "done",
            StepState::Failed => "failed",
        }
    }

    fn finished(self) -> bool {
        matches!(self, StepState::Done | StepState::Failed)
    }

    fn point(self) -> Option<Point> {
        match self {
            StepState::Creating => Some(Point::Creating),
            StepState::Created => Some(Point::Created),
            StepState::Verified => Some(Point::Verified),
            StepState::Stored => Some(Point::Stored),
            StepState::HandedOver => Some(Point::HandedOver),
            StepState::Retiring => Some(Point::Retiring),
            StepState::Planned | StepState::Done | StepState::Failed => None,
        }
    }

    fn settled_point(self) -> Point {
        if self == StepState::Failed {
            Point::RotationFailed
        } else {
            Point::Rotated
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum RotationKind {
    /// Fired by the schedule (the key fell due), with nobody at the keyboard.
    Scheduled,
    /// Asked for now (`latchkey rotate`, the card's Rotate now), with a code.
    Now,
}

impl crate::job::JobKind for RotationKind {
    const ALL: &'static [Self] = &[RotationKind::Scheduled, RotationKind::Now];

    fn as_str(self) -> &'static str {
        match self {
            RotationKind::Scheduled => "rotate_scheduled",
            RotationKind::Now => "rotate_now",
        }
    }
}

/// What a rotation's step carries, filled in as it goes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RotationData {
    /// The new key's id (and keychain item), chosen before the create.
    pub new_id: KeyId,
    /// The label the exchange shows for the new key (OKX label, Bybit note, Binance apiName).
    pub exchange_label: String,
    /// Create calls journaled (each before it is sent), for the bound on retries after timeouts.
    #[serde(default)]
    pub creates: u32,
    /// The new key's hint, once created.
    #[serde(default)]
    pub new_hint: Option<String>,
    /// What the exchange said about the new key, once verified.
    #[serde(default)]
    pub inspection: Option<KeyInspection>,
    #[serde(default)]
    pub handover: Option<Handover>,
    /// How the hosts reading the key through OpenBao moved (`None`: it was not delivered).
    #[serde(default)]
    pub hosts: Option<crate::servers::HostsHandover>,
}

pub(crate) type StepRow = crate::job::StepRow<StepState, RotationData>;
