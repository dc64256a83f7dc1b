//! Runs a job's steps through their [`Machine`], journaling every transition (see [`super`]).

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use crate::audit::Event;
use crate::exchange::Clock;
use crate::model::{KeyId, KeyRecord};
use crate::store::Store;
use crate::Error;

use super::journal::{self, JobRow, Last};
use super::{crash, Admission, JobKind, Machine, Progress, Run, Settle, Step, StepState, Transition};

#[derive(Debug, thiserror::Error)]
pub(crate) enum JobError {
    #[error("busy")]
    Busy,
    #[error(transparent)]
    Storage(#[from] Error),
}

impl From<rusqlite::Error> for JobError {
    fn from(e: rusqlite::Error) -> Self {
        JobError::Storage(Error::Storage { path: String::from("latchkey.db"), detail: e.to_string() })
    }
}

/// One engine's jobs: runs them one at a time, in this process and across processes.
pub(crate) struct Runner {
    store: Arc<Store>,
    clock: Arc<dyn Clock>,
    /// The lock file's suffix beside the database, e.g. `.revoke-lock`.
    lock_suffix: &'static str,
    running: tokio::sync::Mutex<()>,
}

/// Held while a job runs: no other job of the engine starts, here or in another process.
pub(crate) struct Exclusive<'a> {
    _here: tokio::sync::MutexGuard<'a, ()>,
    _processes: std::fs::File,
}

impl Runner {
    pub fn new(store: Arc<Store>, clock: Arc<dyn Clock>, lock_suffix: &'static str) -> Self {
        Runner { store, clock, lock_suffix, running: tokio::sync::Mutex::new(()) }
    }

    /// The engine's clock, for work beside the journal (e.g. OpenBao's part of a revoke).
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// The engine to itself, now, or [`JobError::Busy`].
    pub fn exclusive(&self) -> Result<Exclusive<'_>, JobError> {
        let here = self.running.try_lock().map_err(|_| JobError::Busy)?;
        Ok(Exclusive { _here: here, _processes: self.process_lock()? })
    }

    /// For the resume at start-up: waits for a job of this process to end; `None` when nothing is
    /// unfinished. [`JobError::Busy`] when another process holds the engine: an unfinished job
    /// may be one it is running right now, not a crashed one.
    pub async fn exclusive_for_resume<K: JobKind>(&self) -> Result<Option<(Exclusive<'_>, Vec<JobRow<K>>)>, JobError> {
        let here = self.running.lock().await;
        if journal::unfinished_jobs::<K>(&self.store.conn())?.is_empty() {
            return Ok(None);
        }
        let processes = self.process_lock()?;
        let jobs = journal::unfinished_jobs::<K>(&self.store.conn())?;
        Ok(Some((Exclusive { _here: here, _processes: processes }, jobs)))
    }

    /// The app and the CLI share the journal: an OS file lock beside the database, held for the
    /// whole run; the OS releases it when the process ends, however it ends, so a crash never
    /// leaves it held.
    fn process_lock(&self) -> Result<std::fs::File, JobError> {
        let mut path = self.store.path().as_os_str().to_owned();
        path.push(self.lock_suffix);
        let storage = |e: std::io::Error| {
            JobError::Storage(Error::Storage { path: path.to_string_lossy().into_owned(), detail: e.to_string() })
        };
        let file = crate::paths::private_file_options()
            .create(true)
            .write(true)
            .truncate(false)
            .open(&path)
            .map_err(storage)?;
        match file.try_lock() {
            Ok(()) => Ok(file),
            Err(std::fs::TryLockError::WouldBlock) => Err(JobError::Busy),
            Err(std::fs::TryLockError::Error(e)) => Err(storage(e)),
        }
    }

    /// Journals a new job, every step planned.
    pub fn create<M: Machine>(&self, kind: M::Kind, steps: &[(KeyId, u32)]) -> Result<JobRow<M::Kind>, JobError> {
        let id = uuid::Uuid::new_v4().to_string();
        let now = self.clock.now();
        journal::create_job::<_, M::State>(&self.store.conn(), &id, kind, now, steps)?;
        Ok(JobRow { id, kind, started_at: now, finished_at: None })
    }

    /// Runs (or resumes) a job wave by wave, each step from its journaled state; marks it finished
    /// unless a step stopped without its journal saying so.
    pub async fn run<M: Machine>(
        &self,
        machine: &Arc<M>,
        job: &JobRow<M::Kind>,
        progress: Progress<M::Event>,
    ) -> Result<(), JobError> {
        let run = Run::<M> {
            job: Arc::from(job.id.as_str()),
            kind: job.kind,
            progress,
            clock: self.clock.clone(),
            abandoned: Arc::new(AtomicBool::new(false)),
        };
        let steps: Vec<Step<M>> = journal::steps(&self.store.conn(), &job.id)?;
        let mut records: HashMap<KeyId, KeyRecord> = HashMap::new();
        for step in &steps {
            if let Some(k) = self.store.get_key(step.key_id)? {
                records.insert(k.id, k);
            }
        }
        let last_wave = steps.iter().map(|s| s.wave).max().unwrap_or(0);
        for wave in 0..=last_wave {
            // As journaled now: the waves before this one are over.
            let now_steps: Vec<Step<M>> = journal::steps(&self.store.conn(), &job.id)?;
            let (finished, open): (Vec<_>, Vec<_>) = now_steps.into_iter().partition(|s| s.state.finished());
            // Crash tests only (a no-op otherwise): no step starts while this loop writes.
            let serial = crash::serial(self.lock_suffix).await;
            let mut admitted = Vec::new();
            for step in open.into_iter().filter(|s| s.wave == wave) {
                match records.get(&step.key_id) {
                    Some(key) => admitted.push((step, key.clone())),
                    None => journal::skip::<M::State>(&self.store.conn(), &job.id, step.key_id, run.now())?,
                }
            }
            let mut tasks = tokio::task::JoinSet::new();
            for admission in machine.admit(&run, admitted, &finished) {
                match admission {
                    Admission::Run { step, key, ticket } => {
                        let (machine, run, store, engine) =
                            (machine.clone(), run.clone(), self.store.clone(), self.lock_suffix);
                        tasks.spawn(async move { drive(&*machine, &run, &store, engine, key, step, ticket).await });
                    }
                    Admission::Settle { key, settle } => {
                        if let Err(e) = write_settle(&self.store, &run, &key, settle) {
                            run.abandon();
                            machine.journal_failed(&run, &key, &e);
                        }
                    }
                }
            }
            drop(serial);
            while tasks.join_next().await.is_some() {}
        }
        if !run.is_abandoned() {
            journal::finish_job(&self.store.conn(), &job.id, run.now())?;
        }
        Ok(())
    }
}

/// One step, from its journaled state to its last write.
async fn drive<M: Machine>(
    machine: &M,
    run: &Run<M>,
    store: &Store,
    engine: &'static str,
    key: KeyRecord,
    mut step: Step<M>,
    ticket: M::Ticket,
) {
    let held = machine.enter(&key, ticket).await;
    // Crash tests only (a no-op otherwise): one step at a time, so a crash point freezes a clean state.
    let _serial = crash::serial(engine).await;
    while !step.state.finished() {
        let written = match machine.advance(run, &key, &step, &held).await {
            Transition::To { state, data } => {
                journal::record(&store.conn(), &run.job, key.id, state, data.as_ref(), run.now()).map(|()| {
                    step.state = state;
                    if data.is_some() {
                        step.data = data;
                    }
                })
            }
            Transition::Settle(settle) => {
                let written = write_settle(store, run, &key, settle);
                if written.is_ok() {
                    return;
                }
                written
            }
            Transition::Abandon => {
                run.abandon();
                return;
            }
        };
        if let Err(e) = written {
            run.abandon();
            machine.journal_failed(run, &key, &e);
            return;
        }
    }
}

fn write_settle<M: Machine>(store: &Store, run: &Run<M>, key: &KeyRecord, settle: Settle<M>) -> rusqlite::Result<()> {
    let Settle { state, status, revoked_at, error, audit: (action, outcome, detail), announce } = settle;
    let at = run.now();
    let event = Event { at, action, key_id: Some(key.id), label: Some(&key.label), outcome, detail };
    let error = error.as_ref().map(|(m, k)| (m.as_str(), k.as_str()));
    journal::settle(&store.conn(), &run.job, key, Last { state, status, revoked_at, error }, &event, at)?;
    if let Some(event) = announce {
        run.emit(event);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! The runner with a small machine of its own, on a real database: what it journals, when,
    //! and what a resume starts from.

    use std::sync::Mutex;

    use chrono::Utc;

    use super::*;
    use crate::audit::{Action, Outcome};
    use crate::exchange::SystemClock;
    use crate::job::crash::Point;
    use crate::job::{JobKind, StepState};
    use crate::model::{Exchange, KeyStatus};

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    struct Tally;

    impl JobKind for Tally {
        const ALL: &'static [Self] = &[Tally];
        fn as_str(self) -> &'static str {
            "tally"
        }
    }

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum S {
        Planned,
        Working,
        Done,
        Failed,
    }

    impl StepState for S {
        const ALL: &'static [Self] = &[S::Planned, S::Working, S::Done, S::Failed];
        const PLANNED: Self = S::Planned;
        const SKIPPED: Self = S::Done;
        fn as_str(self) -> &'static str {
            match self {
                S::Planned => "planned",
                S::Working => "working",
                S::Done => "done",
                S::Failed => "failed",
            }
        }
        fn finished(self) -> bool {
            matches!(self, S::Done | S::Failed)
        }
        fn point(self) -> Option<Point> {
            None
        }
        fn settled_point(self) -> Point {
            Point::Done
        }
    }

    /// Planned → Working(n) → Done; fails the key labelled `fail`, abandons the one labelled
    /// `abandon`. Records what the journal held each time it was asked to advance.
    struct Counter {
        store: Arc<Store>,
        seen: Mutex<Vec<Seen>>,
    }

    /// A key's label, the state it was advanced from, its data, and a journal error.
    type Seen = (String, &'static str, Option<u32>, Option<String>);

    impl Machine for Counter {
        type Kind = Tally;
        type State = S;
        type Data = u32;
        type Event = String;
        type Ticket = ();
        type Held = ();

        fn admit(&self, _: &Run<Self>, open: Vec<(Step<Self>, KeyRecord)>, _: &[Step<Self>]) -> Vec<Admission<Self>> {
            open.into_iter().map(|(step, key)| Admission::Run { step, key, ticket: () }).collect()
        }

        async fn enter(&self, _: &KeyRecord, _: ()) {}

        async fn advance(&self, run: &Run<Self>, key: &KeyRecord, step: &Step<Self>, _: &()) -> Transition<Self> {
            let journaled: Vec<Step<Self>> = journal::steps(&self.store.conn(), &run.job).unwrap();
            let mine = journaled.iter().find(|s| s.key_id == key.id).unwrap();
            assert_eq!((mine.state, mine.data), (step.state, step.data), "the runner hands over the journaled step");
            self.seen.lock().unwrap().push((key.label.clone(), step.state.as_str(), step.data, None));
            match (step.state, key.label.as_str()) {
                (S::Planned, _) => Transition::To { state: S::Working, data: Some(step.wave + 1) },
                (_, "abandon") => Transition::Abandon,
                (_, "fail") => Transition::Settle(Settle {
                    state: S::Failed,
                    status: Some(KeyStatus::Quarantined),
                    revoked_at: None,
                    error: Some(("it failed".into(), "test".into())),
                    audit: (Action::Quarantine, Outcome::Failed, "it failed".into()),
                    announce: Some(format!("{} failed", key.label)),
                }),
                _ => Transition::Settle(Settle {
                    state: S::Done,
                    status: Some(KeyStatus::Revoked),
                    revoked_at: Some(run.now()),
                    error: None,
                    audit: (Action::Revoke, Outcome::Ok, "done".into()),
                    announce: Some(format!("{} done", key.label)),
                }),
            }
        }

        fn journal_failed(&self, _: &Run<Self>, key: &KeyRecord, error: &rusqlite::Error) {
            self.seen.lock().unwrap().push((key.label.clone(), "journal_failed", None, Some(error.to_string())));
        }
    }

    struct World {
        _dir: tempfile::TempDir,
        store: Arc<Store>,
        runner: Runner,
        machine: Arc<Counter>,
        events: Arc<Mutex<Vec<String>>>,
    }

    impl World {
        fn new() -> World {
            let dir = tempfile::tempdir().unwrap();
            let store = Arc::new(Store::open_in(dir.path()).unwrap());
            let runner = Runner::new(store.clone(), Arc::new(SystemClock), ".test-lock");
            let machine = Arc::new(Counter { store: store.clone(), seen: Mutex::new(Vec::new()) });
            World { _dir: dir, store, runner, machine, events: Arc::default() }
        }

        fn key(&self, label: &str) -> KeyRecord {
            let key = KeyRecord::sample(Exchange::Okx, label, Utc::now(), 90);
            let event = Event {
                at: Utc::now(),
                action: Action::Add,
                key_id: Some(key.id),
                label: Some(label),
                outcome: Outcome::Ok,
                detail: String::new(),
            };
            self.store.insert_key(&key, &event).unwrap();
            key
        }

        async fn run(&self, job: &JobRow<Tally>) {
            let events = self.events.clone();
            let progress: Progress<String> = Arc::new(move |e| events.lock().unwrap().push(e));
            self.runner.run(&self.machine, job, progress).await.unwrap();
        }

        fn seen(&self) -> Vec<(String, &'static str, Option<u32>)> {
            self.machine.seen.lock().unwrap().iter().map(|(l, s, d, _)| (l.clone(), *s, *d)).collect()
        }

        fn unfinished(&self) -> usize {
            journal::unfinished_jobs::<Tally>(&self.store.conn()).unwrap().len()
        }
    }

    fn seen(label: &str, state: &'static str, data: Option<u32>) -> (String, &'static str, Option<u32>) {
        (label.to_owned(), state, data)
    }

    #[tokio::test]
    async fn each_transition_is_journaled_before_the_next_one_is_asked_for_and_waves_run_in_order() {
        let w = World::new();
        let (first, second) = (w.key("first"), w.key("second"));
        let job = w.runner.create::<Counter>(Tally, &[(second.id, 1), (first.id, 0)]).unwrap();
        w.run(&job).await;
        assert_eq!(
            w.seen(),
            [
                seen("first", "planned", None),
                seen("first", "working", Some(1)),
                seen("second", "planned", None),
                seen("second", "working", Some(2))
            ],
            "wave 0 is over before wave 1 starts; each state (and its data) is journaled before the next advance"
        );
        assert_eq!(*w.events.lock().unwrap(), ["first done", "second done"], "announced after the last write");
        assert_eq!(w.store.get_key(first.id).unwrap().unwrap().status, KeyStatus::Revoked);
        let steps: Vec<Step<Counter>> = journal::steps(&w.store.conn(), &job.id).unwrap();
        assert!(steps.iter().all(|s| s.state == S::Done), "{steps:?}");
        let audit = w.store.audit_log(10).unwrap();
        assert_eq!(audit.iter().filter(|e| e.action == Action::Revoke).count(), 2, "one entry per last write");
        assert_eq!(w.unfinished(), 0, "the job is finished");
    }

    #[tokio::test]
    async fn a_resume_starts_each_step_from_its_journaled_state_and_skips_deleted_keys() {
        let w = World::new();
        let (halfway, gone) = (w.key("halfway"), w.key("gone"));
        let job = w.runner.create::<Counter>(Tally, &[(halfway.id, 0), (gone.id, 0)]).unwrap();
        journal::record(&w.store.conn(), &job.id, halfway.id, S::Working, Some(&7u32), Utc::now()).unwrap();
        w.store.conn().execute("DELETE FROM keys WHERE id = ?1", [gone.id.to_string()]).unwrap();
        w.run(&job).await;
        assert_eq!(w.seen(), [seen("halfway", "working", Some(7))], "never back to planned; nothing for a deleted key");
        let steps: Vec<Step<Counter>> = journal::steps(&w.store.conn(), &job.id).unwrap();
        assert!(steps.iter().all(|s| s.state.finished()), "{steps:?}");
        assert_eq!(w.unfinished(), 0);
    }

    #[tokio::test]
    async fn an_abandoned_step_or_a_failed_write_leaves_the_job_unfinished_for_the_resume() {
        let w = World::new();
        let (ok, abandon, fail) = (w.key("ok"), w.key("abandon"), w.key("fail"));
        let job = w.runner.create::<Counter>(Tally, &[(ok.id, 0), (abandon.id, 0), (fail.id, 0)]).unwrap();
        w.run(&job).await;
        assert_eq!(w.unfinished(), 1, "abandoned: the job stays open");
        let steps: Vec<Step<Counter>> = journal::steps(&w.store.conn(), &job.id).unwrap();
        let state = |id| steps.iter().find(|s| s.key_id == id).unwrap().state;
        assert_eq!((state(ok.id), state(abandon.id), state(fail.id)), (S::Done, S::Working, S::Failed));
        assert_eq!(w.store.get_key(fail.id).unwrap().unwrap().status, KeyStatus::Quarantined);
        assert!(w.events.lock().unwrap().contains(&"fail failed".to_owned()));

        // A write that fails: the step stops where the journal says and the machine hears why.
        w.store
            .conn()
            .execute_batch(
                "CREATE TRIGGER no_writes BEFORE UPDATE OF state ON job_steps BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
            )
            .unwrap();
        let again = w.runner.create::<Counter>(Tally, &[(ok.id, 0)]).unwrap();
        w.run(&again).await;
        let failed = w.machine.seen.lock().unwrap().iter().any(|(l, s, _, e)| {
            l == "ok" && *s == "journal_failed" && e.as_deref().is_some_and(|e| e.contains("disk full"))
        });
        assert!(failed, "the machine is told the write failed");
        assert_eq!(w.unfinished(), 2, "and that job stays open too");
    }

    #[tokio::test]
    async fn an_engine_resumes_its_own_jobs_only() {
        let w = World::new();
        let key = w.key("k");
        w.runner.create::<Counter>(Tally, &[(key.id, 0)]).unwrap();
        w.store
            .conn()
            .execute(
                "INSERT INTO jobs (id, kind, started_at) VALUES ('other', 'rotate_automatically', ?1)",
                [Utc::now()],
            )
            .unwrap();
        let ours = journal::unfinished_jobs::<Tally>(&w.store.conn()).unwrap();
        assert_eq!(ours.len(), 1, "another engine's job is not this one's to resume");
        let revokes = journal::unfinished_jobs::<crate::revoke::JobKind>(&w.store.conn()).unwrap();
        assert!(revokes.is_empty(), "nor the revoke engine's: {revokes:?}");
    }

    #[tokio::test]
    async fn one_job_at_a_time_per_engine() {
        let w = World::new();
        let held = w.runner.exclusive().unwrap();
        assert!(matches!(w.runner.exclusive(), Err(JobError::Busy)));
        let other_process = Runner::new(w.store.clone(), Arc::new(SystemClock), ".test-lock");
        assert!(matches!(other_process.exclusive(), Err(JobError::Busy)), "the file lock holds across runners");
        drop(held);
        assert!(w.runner.exclusive().is_ok());
    }
}
