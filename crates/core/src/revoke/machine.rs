//! One key's revoke as a state machine, run by the job runner ([`crate::job`]), which journals
//! every transition:
//!
//! ```text
//! planned ─▶ remote_started ─▶ remote_done(result) ─▶ wiping ─▶ done (revoked, or wiped while still live)
//!    │             │                  └─ no API revoke ─────────▶ done (still live, secret kept)
//!    │             └─ the exchange refused, or no proof ────────▶ failed (quarantined, secret kept)
//!    └─ "wipe anyway": ─▶ remote_done(not revoked) ─▶ wiping ─▶ done
//! ```
//!
//! A resume starts from the journaled state: from `remote_started` it calls the exchange again
//! (safe: a refused delete goes to the same proof), from `remote_done` it uses the journaled
//! result, from `wiping` it wipes again.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use tokio::sync::OwnedSemaphorePermit;

use crate::audit::{Action, Outcome};
use crate::job::{self, crash, Admission, Settle, Transition};
use crate::model::{KeyId, KeyRecord, KeyStatus};

use super::schedule::{InFlight, RemoteFirst, Schedule, Turn};
use super::steps::{JobKind, RemoteResult, StepState};
use super::{master_label, remote, report, Inner, ProgressEvent};

pub(crate) struct RevokeMachine {
    pub inner: Arc<Inner>,
}

/// What a remote step needs from the engine while it runs.
pub(crate) struct Ctx<'a> {
    pub inner: &'a Inner,
    pub run: &'a job::Run<RevokeMachine>,
}

impl Ctx<'_> {
    pub fn emit(&self, event: ProgressEvent) {
        self.run.emit(event);
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.run.now()
    }
}

/// Held by a key while it is worked on.
pub(crate) struct Held {
    /// Whether the key calls its exchange at all (no: nothing to ask, no limit spent).
    calls: bool,
    _in_flight: InFlight,
    _permit: Option<OwnedSemaphorePermit>,
}

type Step = job::Step<RevokeMachine>;

impl job::Machine for RevokeMachine {
    type Kind = JobKind;
    type State = StepState;
    type Data = RemoteResult;
    type Event = ProgressEvent;
    type Ticket = Turn;
    type Held = Held;

    fn admit(&self, run: &job::Run<Self>, open: Vec<(Step, KeyRecord)>, finished: &[Step]) -> Vec<Admission<Self>> {
        let failed: HashSet<KeyId> =
            finished.iter().filter(|s| s.state == StepState::Failed).map(|s| s.key_id).collect();
        let mut todo: Vec<(Step, KeyRecord, Schedule)> = open
            .into_iter()
            .map(|(step, key)| {
                let schedule = self.schedule(&key);
                (step, key, schedule)
            })
            .collect();
        // Remote revokes first: they are what shuts a key down (stable: the journal's order within each kind).
        todo.sort_by_key(|(.., schedule)| *schedule != Schedule::Remote);
        let gates = RemoteFirst::new(todo.iter().filter(|(.., s)| *s == Schedule::Remote).map(|(_, k, _)| k.exchange));
        // Per master key, how many of its sub keys failed in the waves before.
        let mut failed_subs: HashMap<KeyId, usize> = HashMap::new();
        for id in failed {
            if let Some(master) = self.inner.store.get_key(id).ok().flatten().and_then(|k| k.master_key_id) {
                *failed_subs.entry(master).or_default() += 1;
            }
        }
        let mut admitted = Vec::new();
        for (step, key, schedule) in todo {
            // Taken first: a key held back drops its turn, which opens the gate.
            let turn = gates.turn(key.exchange, schedule);
            let held_back = failed_subs.get(&key.id).copied().unwrap_or(0);
            if held_back > 0 && matches!(run.kind, JobKind::Revoke | JobKind::Retry | JobKind::Rotation) {
                let message = format!(
                    "Kept: this master key is what Latchkey needs to retry {held_back} sub key(s) whose revoke failed. Retry them, or wipe this key anyway."
                );
                drop(turn);
                admitted.push(Admission::Settle {
                    settle: fail(&key, KeyStatus::Quarantined, &message, "held_for_retry"),
                    key,
                });
                continue;
            }
            admitted.push(Admission::Run { step, key, ticket: turn });
        }
        admitted
    }

    async fn enter(&self, key: &KeyRecord, turn: Turn) -> Held {
        // A remote key holds its `InFlight` until its steps are done: only then may the keys that
        // need its exchange's limits for nothing but a question have them.
        let (in_flight, calls) = match turn {
            Turn::Remote(started) => (started, true),
            Turn::After(gate) => {
                // Before taking a permit: the remote keys it waits for need them.
                if let Some(mut gate) = gate {
                    let _ = gate.wait_for(|left| *left == 0).await;
                }
                (InFlight::none(), true)
            }
            Turn::NoCall => (InFlight::none(), false),
        };
        let semaphore = self.inner.semaphores.get(&key.exchange).cloned().filter(|_| calls);
        let permit = match semaphore {
            Some(s) => s.acquire_owned().await.ok(),
            None => None,
        };
        Held { calls, _in_flight: in_flight, _permit: permit }
    }

    async fn advance(&self, run: &job::Run<Self>, key: &KeyRecord, step: &Step, held: &Held) -> Transition<Self> {
        let ctx = Ctx { inner: &self.inner, run };
        match (step.state, step.data.clone()) {
            (StepState::RemoteDone, Some(done)) => after_remote(&ctx, key, done),
            (StepState::Wiping, Some(done)) => wipe(&ctx, key, done).await,
            // Journaled before the call: from here on "the call may have happened".
            (StepState::Planned, _) if run.kind != JobKind::WipeAnyway => {
                Transition::To { state: StepState::RemoteStarted, data: None }
            }
            _ => match run.kind {
                JobKind::WipeAnyway => {
                    let (url, steps) = remote::checklist(
                        key,
                        "You chose to wipe this key's secret here without a proof that it is gone: it still works on the exchange until you delete it there.",
                    );
                    Transition::To { state: StepState::RemoteDone, data: Some(RemoteResult::NotRevoked { url, steps }) }
                }
                JobKind::Confirm => match remote::prove(&ctx, key).await {
                    Ok(at) => Transition::To {
                        state: StepState::RemoteDone,
                        data: Some(RemoteResult::AlreadyRevoked { proved_at: Some(at) }),
                    },
                    // Not proved: the key keeps the status it had (still live, quarantined).
                    Err(failure) => Transition::Settle(fail(key, key.status, &failure.message, &failure.kind)),
                },
                JobKind::Revoke | JobKind::Retry | JobKind::Rotation => {
                    match remote::revoke(&ctx, key, held.calls).await {
                        Ok(done) => {
                            crash::hit(crash::Point::RemoteAnswered, Some(key.id));
                            Transition::To { state: StepState::RemoteDone, data: Some(done) }
                        }
                        Err(failure) => {
                            Transition::Settle(fail(key, KeyStatus::Quarantined, &failure.message, &failure.kind))
                        }
                    }
                }
            },
        }
    }

    fn journal_failed(&self, run: &job::Run<Self>, key: &KeyRecord, error: &rusqlite::Error) {
        tracing::warn!(key = %key.id, error = %error, "could not journal a revoke step; the job stays unfinished for the resume");
        run.emit(ProgressEvent::Failed {
            key_id: key.id,
            error: format!(
                "Latchkey could not write its revoke journal ({error}), so '{}' is not finished. Restart Latchkey (or run `latchkey revoke --resume`) and it will finish it; until then the key is not revoked.",
                key.label
            ),
            kind: "storage".to_owned(),
        });
    }
}

/// After a rotation, the entries say it was the routine end of one.
fn retired(ctx: &Ctx<'_>) -> &'static str {
    if ctx.run.kind == JobKind::Rotation {
        "retired after its rotation: "
    } else {
        ""
    }
}

/// The remote step's result is journaled: say so, then wipe, or keep a key no API revoked.
fn after_remote(ctx: &Ctx<'_>, key: &KeyRecord, done: RemoteResult) -> Transition<RevokeMachine> {
    match &done {
        RemoteResult::Revoked { .. } => ctx.emit(ProgressEvent::RemoteOk { key_id: key.id, already_revoked: false }),
        RemoteResult::AlreadyRevoked { .. } => {
            ctx.emit(ProgressEvent::RemoteOk { key_id: key.id, already_revoked: true })
        }
        RemoteResult::Manual { url, .. } | RemoteResult::NotRevoked { url, .. } => {
            ctx.emit(ProgressEvent::Manual { key_id: key.id, url: url.clone() })
        }
    }
    let RemoteResult::Manual { url, .. } = &done else {
        return Transition::To { state: StepState::Wiping, data: None };
    };
    // Still live at the exchange: blocked from use, secret kept for the proof after the user
    // deletes it on the website.
    let detail = format!(
        "{}still live on {}: no API revoke; blocked, secret kept; delete it at {url} and confirm",
        retired(ctx),
        key.exchange
    );
    Transition::Settle(Settle {
        state: StepState::Done,
        status: Some(KeyStatus::StillLive),
        revoked_at: None,
        error: None,
        audit: (Action::Quarantine, Outcome::Failed, detail),
        announce: None,
    })
}

/// Wipes the key's secret here; the last write says what the key is now.
async fn wipe(ctx: &Ctx<'_>, key: &KeyRecord, done: RemoteResult) -> Transition<RevokeMachine> {
    let secrets = ctx.inner.secrets.clone();
    let id = key.id;
    match tokio::task::spawn_blocking(move || secrets.delete(id)).await {
        Ok(Ok(_)) => crash::hit(crash::Point::Wiped, Some(key.id)),
        Ok(Err(e)) => return Transition::Settle(fail(key, KeyStatus::Quarantined, &e.to_string(), "keychain")),
        // The blocking task died: whether the item is gone is unknown; the resume wipes again.
        Err(_) => return Transition::Abandon,
    }
    let retired = retired(ctx);
    // The proof's time is in the key's row and the journal; the entry has its own time.
    let (action, detail, status, revoked_at) = match &done {
        RemoteResult::Revoked { method, proved_at } => (
            Action::Revoke,
            format!(
                "{retired}revoked on {} ({}), proved by its own signed call; secret wiped",
                key.exchange,
                report::RevokedBy::new(*method, master_label(&ctx.inner.store, key)).describe()
            ),
            KeyStatus::Revoked,
            *proved_at,
        ),
        RemoteResult::AlreadyRevoked { proved_at } => (
            Action::Revoke,
            format!("{retired}proved gone on {} by its own signed call; secret wiped", key.exchange),
            KeyStatus::Revoked,
            *proved_at,
        ),
        RemoteResult::NotRevoked { url, .. } | RemoteResult::Manual { url, .. } => (
            Action::Wipe,
            format!("{retired}secret wiped here without proof; still live on {}: delete it at {url}", key.exchange),
            KeyStatus::StillLiveWiped,
            None,
        ),
    };
    Transition::Settle(Settle {
        state: StepState::Done,
        status: Some(status),
        revoked_at,
        error: None,
        audit: (action, Outcome::Ok, detail),
        announce: Some(ProgressEvent::Wiped { key_id: key.id }),
    })
}

/// A failed step: keep the secret, set `status`, journal and audit why.
fn fail(key: &KeyRecord, status: KeyStatus, message: &str, kind: &str) -> Settle<RevokeMachine> {
    Settle {
        state: StepState::Failed,
        status: Some(status),
        revoked_at: None,
        error: Some((message.to_owned(), kind.to_owned())),
        audit: (Action::Quarantine, Outcome::Failed, message.to_owned()),
        announce: Some(ProgressEvent::Failed { key_id: key.id, error: message.to_owned(), kind: kind.to_owned() }),
    }
}

impl RevokeMachine {
    /// How a key's step is scheduled within its wave: see [`Schedule`].
    fn schedule(&self, key: &KeyRecord) -> Schedule {
        let master = key.master_key_id.and_then(|id| self.inner.store.get_key(id).ok().flatten());
        match super::route(key, master.as_ref()) {
            super::PlannedRoute::ViaMaster { .. } | super::PlannedRoute::SelfDelete => Schedule::Remote,
            // Where a key may delete itself (Bybit), the key is asked which permissions it holds
            // before Latchkey gives up.
            super::PlannedRoute::LocalOnly if key.exchange.capabilities().delete_self.is_some() => Schedule::LocalAsks,
            super::PlannedRoute::LocalOnly => Schedule::LocalOnly,
        }
    }
}
