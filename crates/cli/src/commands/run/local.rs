//! Keys from this machine's Latchkey: the vault's keys, audited as given, registered as held
//! ([`handover`]) so a rotation waits for the child, and followed to their successors when rotated.

use std::collections::HashSet;
use std::time::Duration;

use chrono::Utc;
use latchkey_core::audit::{Action, Event, Outcome};
use latchkey_core::handover::{self, Session};
use latchkey_core::model::{KeyId, KeyRecord};
use latchkey_core::secret::Credentials;

use super::source::{Change, Given, Handed, KeySource, Rotation};
use crate::ctx::Ctx;
use crate::error::CliError;

/// How often the run looks for a rotation (a store query, no network).
const LOOK_EVERY: Duration = Duration::from_secs(1);

pub struct LocalSource<'a> {
    ctx: &'a Ctx,
    records: Vec<KeyRecord>,
    keys: Vec<Handed>,
    session: Session,
    registered: bool,
    /// Successors this run will not move to (not allowed for bots, or `--on-rotate none`).
    declined: HashSet<KeyId>,
    next_look: tokio::time::Instant,
    beat: tokio::time::Instant,
}

impl<'a> LocalSource<'a> {
    pub fn new(ctx: &'a Ctx, records: Vec<KeyRecord>, program: &str) -> Self {
        let now = tokio::time::Instant::now();
        LocalSource {
            ctx,
            keys: records.iter().map(Handed::of).collect(),
            records,
            session: Session::new(program),
            registered: false,
            declined: HashSet::new(),
            next_look: now,
            beat: now,
        }
    }

    fn read(&self, records: &[KeyRecord]) -> Result<Vec<Credentials>, CliError> {
        records.iter().map(|k| Ok(self.ctx.vault.credentials(k.id)?)).collect()
    }

    fn record(&self, key: &KeyRecord, outcome: Outcome, detail: String) -> Result<(), CliError> {
        let event = Event {
            at: Utc::now(),
            action: Action::Run,
            key_id: Some(key.id),
            label: Some(&key.label),
            outcome,
            detail,
        };
        Ok(self.ctx.vault.store().record(&event)?)
    }

    /// A key of this run that was rotated, with its successor, if the run may move to it.
    fn rotated(&mut self, program: &str) -> Result<Option<(usize, KeyRecord)>, CliError> {
        for (index, key) in self.records.iter().enumerate() {
            let Some(new) = handover::successor(self.ctx.vault.store(), key.id)? else { continue };
            if self.declined.contains(&new.id) {
                continue;
            }
            let subs = self.ctx.bots.sub_keys(new.id)?;
            if let Err(refused) = latchkey_core::bots::check_run(&new, subs, program) {
                eprintln!("latchkey: '{}' was rotated, but the new key cannot be handed over: {refused}", key.label);
                self.declined.insert(new.id);
                continue;
            }
            return Ok(Some((index, new)));
        }
        Ok(None)
    }
}

impl KeySource for LocalSource<'_> {
    type Next = KeyRecord;

    fn keys(&self) -> &[Handed] {
        &self.keys
    }

    async fn credentials(&mut self) -> Result<Vec<Credentials>, CliError> {
        self.read(&self.records)
    }

    async fn given(&mut self, given: &Given<'_>) -> Result<(), CliError> {
        for (index, key) in self.records.iter().enumerate() {
            self.record(key, Outcome::Ok, format!("given to `{}` {}", given.program, given.how(index)))?;
        }
        let ids: Vec<KeyId> = self.records.iter().map(|k| k.id).collect();
        handover::register(self.ctx.vault.store(), &self.session, &ids, Utc::now())?;
        self.registered = true;
        Ok(())
    }

    async fn not_started(&mut self, program: &str, e: &std::io::Error) -> Result<(), CliError> {
        let why = match e.kind() {
            std::io::ErrorKind::NotFound => "not found".to_owned(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
            _ => e.to_string(),
        };
        for key in &self.records {
            self.record(
                key,
                Outcome::Failed,
                format!("`{program}` could not start ({why}); the key was given to nothing"),
            )?;
        }
        Ok(())
    }

    async fn next_change(&mut self, program: &str) -> Result<Option<Change<KeyRecord>>, CliError> {
        tokio::time::sleep_until(self.next_look).await;
        self.next_look = tokio::time::Instant::now() + LOOK_EVERY;
        if self.beat.elapsed() >= handover::HEARTBEAT {
            self.beat = tokio::time::Instant::now();
            if let Err(e) = handover::heartbeat(self.ctx.vault.store(), &self.session, Utc::now()) {
                eprintln!("latchkey: could not record that `{program}` still runs ({e}); a rotation may retire its key before it moves.");
            }
        }
        let Some((index, new)) = self.rotated(program)? else { return Ok(None) };
        let mut records = self.records.clone();
        records[index] = new.clone();
        let credentials = self.read(&records)?;
        Ok(Some(Change::Rotated(Rotation { index, new: Handed::of(&new), credentials, next: new })))
    }

    async fn moved(&mut self, index: usize, new: KeyRecord, given: &Given<'_>, how: &str) -> Result<(), CliError> {
        let old = std::mem::replace(&mut self.records[index], new.clone());
        self.keys[index] = Handed::of(&new);
        handover::moved(self.ctx.vault.store(), &self.session, old.id, new.id, Utc::now())?;
        self.record(
            &new,
            Outcome::Ok,
            format!("given to `{}` after a rotation ({how}; it replaces {})", given.program, old.key_hint),
        )
    }

    fn kept_old(&mut self, _index: usize, next: KeyRecord) {
        self.declined.insert(next.id);
    }

    async fn ended(&mut self) {
        if !self.registered {
            return;
        }
        if let Err(e) = handover::unregister(self.ctx.vault.store(), &self.session) {
            eprintln!(
                "latchkey: could not record that the run ended ({e}); a rotation will wait {}s for it.",
                handover::STALE_AFTER.as_secs()
            );
        }
    }
}
