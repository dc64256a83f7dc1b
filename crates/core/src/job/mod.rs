//! Journaled jobs: work on a set of keys that must survive a crash (emergency revoke today,
//! automatic rotation next).
//!
//! A job is a list of steps, one per key, each a small state machine ([`Machine`]). The machine
//! decides; the [`runner`] records. For every step the runner asks the machine to
//! [`advance`](Machine::advance) from the state the journal holds, and writes the
//! [`Transition`] it answers before asking again, so:
//! - a state is journaled *before* the effect it announces (e.g. "remote call started"), and its
//!   result *after* (e.g. "remote call answered: revoked"); a resume starts each step from its
//!   last journaled state, so an effect is repeated only where the machine said it may be;
//! - a step's last write (the key's status, the step's end state, the audit entry) is one
//!   transaction ([`Settle`]);
//! - a step whose journal write failed stops there and leaves the job unfinished, so the next
//!   start resumes it.
//!
//! The runner also runs a job wave by wave (a step of wave n+1 starts once wave n is over: a
//! master key after the sub keys it deletes), lets the machine order and hold back the steps of a
//! wave ([`Machine::admit`]), and keeps one job at a time per engine, across processes
//! ([`runner::Exclusive`]). Crash points ([`crash`]) fire after every journal write, for the
//! kill -9 tests.

pub mod crash;
pub(crate) mod journal;
pub(crate) mod limits;
pub(crate) mod runner;

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::audit::{Action, Outcome};
use crate::exchange::Clock;
use crate::model::{KeyRecord, KeyStatus};

pub(crate) use journal::{JobRow, StepRow};

/// What kind of job a row is (e.g. revoke, retry): each engine has its own, journaled by name.
pub(crate) trait JobKind: Copy + Eq + Send + Sync + std::fmt::Debug + 'static {
    /// Every kind of this engine: the resume finishes these and no other engine's.
    const ALL: &'static [Self];
    fn as_str(self) -> &'static str;
    fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.as_str() == s)
    }
}

/// A step's state, journaled by name.
pub(crate) trait StepState: Copy + Eq + Send + Sync + std::fmt::Debug + 'static {
    /// Every state: a name the journal holds that is none of these is a corrupt row.
    const ALL: &'static [Self];
    const PLANNED: Self;
    /// The end state of a step whose key was deleted while the job waited.
    const SKIPPED: Self;
    fn as_str(self) -> &'static str;
    /// The step is over: done or failed.
    fn finished(self) -> bool;
    /// The crash point right after this state is journaled (`None`: no point of its own).
    fn point(self) -> Option<crash::Point>;
    /// The crash point right after a step's last write ends in this state.
    fn settled_point(self) -> crash::Point;
    fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.as_str() == s)
    }
}

/// One key's work in a job. Implementors decide; the runner journals what they decide.
pub(crate) trait Machine: Send + Sync + Sized + 'static {
    type Kind: JobKind;
    type State: StepState;
    /// What a state carries (e.g. what the exchange answered), journaled as JSON with it.
    type Data: Serialize + DeserializeOwned + Clone + Send + Sync + 'static;
    /// Live progress, for the caller.
    type Event: Send + 'static;
    /// A step's place in the wave, given by [`Machine::admit`].
    type Ticket: Send + 'static;
    /// What a step holds while it runs (e.g. a permit of its exchange's concurrency).
    type Held: Send + Sync + 'static;

    /// Orders the open steps of a wave and decides, per step, to run it or to settle it now
    /// (e.g. a master key held back because a sub key it is needed for failed). `finished`: the
    /// job's steps that are over, as journaled.
    fn admit(
        &self,
        run: &Run<Self>,
        open: Vec<(Step<Self>, KeyRecord)>,
        finished: &[Step<Self>],
    ) -> Vec<Admission<Self>>;

    /// Waits for the step's turn (concurrency, ordering); what it returns is held until the step ends.
    fn enter(&self, key: &KeyRecord, ticket: Self::Ticket) -> impl Future<Output = Self::Held> + Send;

    /// The next transition from the step's journaled state. Called until it settles.
    fn advance(
        &self,
        run: &Run<Self>,
        key: &KeyRecord,
        step: &Step<Self>,
        held: &Self::Held,
    ) -> impl Future<Output = Transition<Self>> + Send;

    /// A journal write for this key failed: the job stays unfinished; tell the user.
    fn journal_failed(&self, run: &Run<Self>, key: &KeyRecord, error: &rusqlite::Error);
}

pub(crate) type Step<M> = StepRow<<M as Machine>::State, <M as Machine>::Data>;

/// What the runner does with one open step of a wave.
pub(crate) enum Admission<M: Machine> {
    Run {
        step: Step<M>,
        key: KeyRecord,
        ticket: M::Ticket,
    },
    /// Ends the step without running it.
    Settle {
        key: KeyRecord,
        settle: Settle<M>,
    },
}

/// What the machine decided for a step.
pub(crate) enum Transition<M: Machine> {
    /// Journal this state (and its data, if any: otherwise the data journaled so far stays),
    /// then advance again.
    To { state: M::State, data: Option<M::Data> },
    /// The step's last write.
    Settle(Settle<M>),
    /// Stop without a write: the effect's result is unknown (e.g. a blocking task died), so the
    /// job stays unfinished and the resume repeats the step from its journaled state.
    Abandon,
}

/// A step's last write, one transaction: the key's status, the step's end state and error, and
/// the audit entry. Then `announce` goes to the caller.
pub(crate) struct Settle<M: Machine> {
    pub state: M::State,
    /// The key's new status; `None` leaves it (another engine set it).
    pub status: Option<KeyStatus>,
    /// When the key was proved revoked (kept on the key's row).
    pub revoked_at: Option<DateTime<Utc>>,
    /// The message and machine kind of a failed step.
    pub error: Option<(String, String)>,
    pub audit: (Action, Outcome, String),
    pub announce: Option<M::Event>,
}

/// Live progress: called from the steps' tasks.
pub type Progress<E> = Arc<dyn Fn(E) + Send + Sync>;

/// One run of a job, shared by its steps' tasks.
pub(crate) struct Run<M: Machine> {
    pub job: Arc<str>,
    pub kind: M::Kind,
    progress: Progress<M::Event>,
    clock: Arc<dyn Clock>,
    /// Set when a step stopped without its journal saying so: the job must stay unfinished.
    abandoned: Arc<AtomicBool>,
}

impl<M: Machine> Clone for Run<M> {
    fn clone(&self) -> Self {
        Run {
            job: self.job.clone(),
            kind: self.kind,
            progress: self.progress.clone(),
            clock: self.clock.clone(),
            abandoned: self.abandoned.clone(),
        }
    }
}

impl<M: Machine> Run<M> {
    pub fn emit(&self, event: M::Event) {
        (self.progress)(event);
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    fn abandon(&self) {
        self.abandoned.store(true, Ordering::SeqCst);
    }

    fn is_abandoned(&self) -> bool {
        self.abandoned.load(Ordering::SeqCst)
    }
}
