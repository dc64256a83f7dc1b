//! The vault ties validation, the keychain and the store together. Each operation writes the secret
//! and the metadata in an order that a crash cannot turn into a lost or orphaned secret, and each
//! leaves an audit entry.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::audit::{Action, Event, Outcome};
use crate::keychain::{ItemInfo, KeyItem, KeychainError, SecretStore};
use crate::model::{Environment, Exchange, KeyId, KeyInspection, KeyRecord, KeyStatus, DEFAULT_ROTATION_DAYS};
use crate::secret::{key_hint, Credentials};
use crate::store::Store;
use crate::validate::{self, Field, Invalid};
use crate::{Error, Result};
use secrecy::ExposeSecret;

/// The refusal of a rotation whose "new" key is the key it replaces.
pub(crate) fn same_key(old: &KeyRecord) -> Invalid {
    let message = format!(
        "This is the same API key as '{}' ({}): rotating to it would delete the key your bots use. \
         Create a new API key on {} first, then enter the new key here.",
        old.label, old.key_hint, old.exchange
    );
    Invalid { field: Field::ApiKey, message }
}

/// A key as the user entered it, before validation.
#[derive(Debug)]
pub struct NewKey {
    pub exchange: Exchange,
    pub label: String,
    pub environment: Environment,
    pub credentials: Credentials,
    pub rotation_days: Option<u32>,
}

/// A key whose every field passed validation, its credentials trimmed; ready to inspect or store.
#[derive(Debug)]
pub struct ValidatedKey {
    pub exchange: Exchange,
    pub label: String,
    pub environment: Environment,
    pub credentials: Credentials,
    pub rotation_days: u32,
}

pub struct Vault {
    store: Arc<Store>,
    secrets: Arc<dyn SecretStore>,
}

impl Vault {
    /// The store is shared with the guard and the revoke engine, which keep their own tables in it.
    pub fn new(store: Arc<Store>, secrets: Arc<dyn SecretStore>) -> Self {
        Vault { store, secrets }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Everything the dashboard shows, from SQLite alone: the keychain is not touched.
    pub fn list(&self) -> Result<Vec<KeyRecord>> {
        self.store.list_keys()
    }

    pub fn get(&self, id: KeyId) -> Result<KeyRecord> {
        self.store.get_key(id)?.ok_or(Error::NotFound(id))
    }

    /// Checks everything the user typed, including that the label is free, before anything is
    /// stored or sent to an exchange.
    pub fn validate(&self, new: NewKey) -> Result<ValidatedKey> {
        let label = validate::label(&new.label)?;
        let rotation_days = validate::rotation_days(new.rotation_days.unwrap_or(DEFAULT_ROTATION_DAYS))?;
        let environment = validate::environment(new.environment)?;
        let credentials = validate::checked_credentials(new.exchange, &new.credentials)?;
        if self.store.label_taken(&label)? {
            return Err(validate::label_in_use(&label).into());
        }
        Ok(ValidatedKey { exchange: new.exchange, label, environment, credentials, rotation_days })
    }

    /// Validates and stores a key that was not checked with its exchange.
    pub fn add(&self, new: NewKey, now: DateTime<Utc>) -> Result<KeyRecord> {
        self.insert(self.validate(new)?, None, now)
    }

    /// Writes the secret to the keychain, then the metadata and audit row in one transaction. If
    /// the row cannot be written the keychain item is removed again, so a failed add leaves
    /// nothing behind. `inspection` is what the exchange just said about the key, if it was asked.
    pub fn insert(
        &self,
        key: ValidatedKey,
        inspection: Option<KeyInspection>,
        now: DateTime<Utc>,
    ) -> Result<KeyRecord> {
        // On by default: a new key is not yet anyone's master (the store turns it off if it becomes one).
        let (record, credentials) = new_record(KeyId::random(), key, inspection, now, true);
        if let Err(e) = self.put_secret(&record, &credentials) {
            self.audit_failure(Action::Add, &record, now, &e);
            return Err(e.into());
        }
        let detail = if record.verified_at.is_some() { "verified with the exchange" } else { "saved unverified" };
        let event = Event {
            at: now,
            action: Action::Add,
            key_id: Some(record.id),
            label: Some(&record.label),
            outcome: Outcome::Ok,
            detail: detail.to_owned(),
        };
        if let Err(e) = self.store.insert_key(&record, &event) {
            let _ = self.secrets.delete(record.id);
            return Err(e);
        }
        tracing::info!(key = %record.id, exchange = %record.exchange, "key added");
        Ok(record)
    }

    /// A minted key's secret, written to the keychain the moment the exchange returned it (it is
    /// shown once, so this comes before anything else). Its row follows in
    /// [`Vault::record_minted`]; should that never happen, the keychain item is an orphan that
    /// `orphans` offers to restore, never a lost secret.
    pub fn keep_minted_secret(&self, record: &KeyRecord, credentials: &Credentials) -> Result<()> {
        self.put_secret(record, credentials).map_err(Error::from)
    }

    /// The minted key's row, how it was minted and its audit entry. On failure the keychain item
    /// stays (see [`Vault::keep_minted_secret`]): the key exists at the exchange.
    pub fn record_minted(&self, record: &KeyRecord, mint: &crate::model::MintRecord, detail: &str) -> Result<()> {
        let event = Event {
            at: mint.minted_at,
            action: Action::Mint,
            key_id: Some(record.id),
            label: Some(&record.label),
            outcome: Outcome::Ok,
            detail: detail.to_owned(),
        };
        self.store.insert_minted_key(record, mint, &event)?;
        tracing::info!(key = %record.id, exchange = %record.exchange, "key minted");
        Ok(())
    }

    /// Keeps what the exchange said about a stored key (permissions, IPs, expiry) and when.
    pub fn record_inspection(&self, id: KeyId, inspection: &KeyInspection, now: DateTime<Utc>) -> Result<KeyRecord> {
        self.record_inspection_changes(id, inspection, &[], now)
    }

    /// Keeps a new inspection and audits each change it brought (see `watch::changes`).
    pub fn record_inspection_changes(
        &self,
        id: KeyId,
        inspection: &KeyInspection,
        changes: &[crate::watch::KeyChange],
        now: DateTime<Utc>,
    ) -> Result<KeyRecord> {
        let record = self.get(id)?;
        let event = |detail: String| Event {
            at: now,
            action: Action::Verify,
            key_id: Some(id),
            label: Some(&record.label),
            outcome: Outcome::Ok,
            detail,
        };
        let events: Vec<Event<'_>> = if changes.is_empty() {
            vec![event(String::new())]
        } else {
            changes
                .iter()
                .map(|c| event(format!("changed at {}: {} ({})", record.exchange, c.message, c.code)))
                .collect()
        };
        // Gate's own read reports no permissions: keep what the master's view last said.
        let mut inspection = inspection.clone();
        if !inspection.permissions_known() {
            inspection.permissions = record.permissions.clone();
        }
        // KuCoin's own read reports no expiry: keep the one the key was created with.
        if inspection.expires_at.is_none() && !record.exchange.capabilities().reports_expiry() {
            inspection.expires_at = record.inspection.as_ref().and_then(|i| i.expires_at);
        }
        self.store.record_inspection_events(id, &inspection, now, &events)?;
        self.get(id)
    }

    /// The exchange refused the key itself: the key is marked rejected (its verified date stays what
    /// it was) and that is audited once. Returns the record and whether it was newly rejected.
    pub fn record_rejection(&self, id: KeyId, detail: &str, now: DateTime<Utc>) -> Result<(KeyRecord, bool)> {
        let record = self.get(id)?;
        let event = Event {
            at: now,
            action: Action::Verify,
            key_id: Some(id),
            label: Some(&record.label),
            outcome: Outcome::Failed,
            detail: format!("rejected by {}: {detail}", record.exchange),
        };
        let newly = self.store.mark_rejected(id, &event)?;
        if !newly {
            self.audit_failure(Action::Verify, &record, now, &detail);
        }
        Ok((self.get(id)?, newly))
    }

    /// Silences reminders for the key for `days` days.
    pub fn snooze(&self, id: KeyId, days: u32, now: DateTime<Utc>) -> Result<KeyRecord> {
        let record = self.get(id)?;
        let until = now + chrono::Duration::days(i64::from(days.clamp(1, 30)));
        self.store.snooze(id, until)?;
        let detail = format!("reminders silenced until {}", until.to_rfc3339());
        let event = Event {
            at: now,
            action: Action::Snooze,
            key_id: Some(id),
            label: Some(&record.label),
            outcome: Outcome::Ok,
            detail,
        };
        self.store.record(&event)?;
        self.get(id)
    }

    /// Checks new credentials for the key `old` (same exchange and environment). The new key must
    /// really be another key: rotating a key into itself would save it and then delete it at the
    /// exchange as the old one, leaving every bot with dead credentials.
    pub fn validate_replacement(&self, old: KeyId, raw: &Credentials) -> Result<(KeyRecord, Credentials)> {
        let record = self.get(old)?;
        let credentials = validate::checked_credentials(record.exchange, raw)?;
        let same = match self.secrets.get(old)? {
            // EXPOSE: compared in memory only, never stored or shown.
            Some(current) => current.api_key.expose_secret() == credentials.api_key.expose_secret(),
            // The old secret is gone: its masked hint is all there is to recognise it by.
            None => key_hint(&credentials.api_key) == record.key_hint,
        };
        if same {
            return Err(same_key(&record).into());
        }
        Ok((record, credentials))
    }

    /// Saves a rotation's new key as the active key under the old key's label; the old key keeps
    /// its row (with a dated suffix on its label) until the revoke engine retires it, and the new
    /// key points back at it for the history.
    pub fn replace(
        &self,
        old: &KeyRecord,
        credentials: Credentials,
        inspection: Option<KeyInspection>,
        now: DateTime<Utc>,
    ) -> Result<KeyRecord> {
        let record = replacement_record(old, KeyId::random(), key_hint(&credentials.api_key), inspection, now);
        self.put_secret(&record, &credentials)?;
        if let Err(e) = self.adopt_replacement(old, &record, now) {
            let _ = self.secrets.delete(record.id);
            return Err(e);
        }
        Ok(record)
    }

    /// The keychain write of a rotation that stores the new secret before its row (the secret of
    /// a key minted by an automatic rotation arrives once, so it is kept before anything else).
    pub(crate) fn store_secret(&self, record: &KeyRecord, credentials: &Credentials) -> Result<()> {
        Ok(self.put_secret(record, credentials)?)
    }

    /// The row of a replacement whose secret is in the keychain already: saved under the old
    /// key's label, the old key renamed with a dated suffix, audited.
    pub(crate) fn adopt_replacement(&self, old: &KeyRecord, record: &KeyRecord, now: DateTime<Utc>) -> Result<()> {
        self.adopt_minted_replacement(old, record, None, now)
    }

    /// [`Vault::adopt_replacement`] for a replacement Latchkey minted, with its mint record.
    pub(crate) fn adopt_minted_replacement(
        &self,
        old: &KeyRecord,
        record: &KeyRecord,
        mint: Option<&crate::model::MintRecord>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let old_label = format!("{} (replaced {})", old.label, now.format("%Y-%m-%d"));
        let detail = format!("replaces {}", old.key_hint);
        let event = Event {
            at: now,
            action: Action::Rotate,
            key_id: Some(record.id),
            label: Some(&record.label),
            outcome: Outcome::Ok,
            detail,
        };
        self.store.replace_key_minted(old.id, &old_label, record, mint, &event)?;
        tracing::info!(key = %record.id, old = %old.id, "key rotated");
        Ok(())
    }

    /// Keychain items of this namespace that no row describes: a crash between the keychain write
    /// and the row, or a database moved aside. No list shows them and no revoke reaches them.
    pub fn orphans(&self) -> Result<Vec<KeyItem>> {
        let items = self.secrets.key_items()?;
        let known: std::collections::HashSet<KeyId> = self.store.list_keys()?.into_iter().map(|k| k.id).collect();
        Ok(items.into_iter().filter(|i| !known.contains(&i.id)).collect())
    }

    /// The secret of an orphaned item (for the restore's inspection).
    pub fn orphan_credentials(&self, id: KeyId) -> Result<Credentials> {
        self.secrets.get(id)?.ok_or(Error::SecretMissing { label: id.to_string() })
    }

    /// Puts an orphaned keychain item back on the list under its own id (the item stays where it
    /// is), then records exchange, environment and label on the item for next time.
    pub fn adopt(
        &self,
        id: KeyId,
        key: ValidatedKey,
        inspection: Option<KeyInspection>,
        now: DateTime<Utc>,
    ) -> Result<KeyRecord> {
        // Nobody knows what a forgotten item was for (a master, perhaps): bots get it only after
        // the user turns it on with a code.
        let (record, credentials) = new_record(id, key, inspection, now, false);
        let detail = if record.verified_at.is_some() {
            "restored from a keychain item no list showed; verified with the exchange"
        } else {
            "restored from a keychain item no list showed; not verified"
        };
        let event = Event {
            at: now,
            action: Action::Add,
            key_id: Some(id),
            label: Some(&record.label),
            outcome: Outcome::Ok,
            detail: detail.to_owned(),
        };
        self.store.insert_key(&record, &event)?;
        if let Err(e) = self.put_secret(&record, &credentials) {
            tracing::warn!(key = %id, error = %e, "restored key: could not record its attributes on the item");
        }
        tracing::info!(key = %id, "orphaned keychain item restored");
        Ok(record)
    }

    /// Deletes an orphaned keychain item (the caller checked the 2FA code), with an audit entry.
    pub fn delete_orphan(&self, id: KeyId, now: DateTime<Utc>) -> Result<bool> {
        if self.store.get_key(id)?.is_some() {
            return Err(Invalid {
                field: Field::Label,
                message: "That keychain item belongs to a key on the list: delete the key there instead.".into(),
            }
            .into());
        }
        let removed = self.secrets.delete(id)?;
        let event = Event {
            at: now,
            action: Action::Delete,
            key_id: Some(id),
            label: None,
            outcome: Outcome::Ok,
            detail: "deleted a keychain item no list showed".to_owned(),
        };
        self.store.record(&event)?;
        Ok(removed)
    }

    /// The keys this one replaced, newest first.
    pub fn history(&self, id: KeyId) -> Result<Vec<KeyRecord>> {
        self.history_of(&self.get(id)?)
    }

    /// [`Vault::history`] of a record already at hand: no query for a key that replaced none (the
    /// dashboard builds 1,000 cards with it).
    pub fn history_of(&self, record: &KeyRecord) -> Result<Vec<KeyRecord>> {
        let mut out = Vec::new();
        let mut next = record.replaces;
        while let Some(prev) = next {
            let Some(record) = self.store.get_key(prev)? else { break };
            if out.iter().any(|r: &KeyRecord| r.id == record.id) {
                break;
            }
            next = record.replaces;
            out.push(record);
        }
        Ok(out)
    }

    /// Notes in the audit log that checking a key with its exchange failed, and why.
    pub fn record_inspection_failure(&self, id: KeyId, now: DateTime<Utc>, err: &dyn std::fmt::Display) -> Result<()> {
        let record = self.get(id)?;
        self.audit_failure(Action::Verify, &record, now, err);
        Ok(())
    }

    /// Removes the keychain item first, then the row: a crash in between leaves a row whose secret
    /// is gone (shown as such and deletable again), never a secret nobody can see.
    pub fn delete(&self, id: KeyId, now: DateTime<Utc>) -> Result<()> {
        let record = self.get(id)?;
        if let Err(e) = self.secrets.delete(id) {
            self.audit_failure(Action::Delete, &record, now, &e);
            return Err(e.into());
        }
        let event = Event {
            at: now,
            action: Action::Delete,
            key_id: Some(id),
            label: Some(&record.label),
            outcome: Outcome::Ok,
            detail: String::new(),
        };
        self.store.delete_key(id, &event)?;
        tracing::info!(key = %id, "key deleted");
        Ok(())
    }

    /// The secret parts, for an action that needs them (inspect, revoke, reveal). Never for drawing.
    pub fn credentials(&self, id: KeyId) -> Result<Credentials> {
        let record = self.get(id)?;
        self.secrets.get(id)?.ok_or(Error::SecretMissing { label: record.label })
    }

    /// Records a key's label and environment on its keychain item again after an edit, so a lost
    /// row would be restored as the key is now. The secret is written back unchanged. Best effort:
    /// the edit is saved either way, and an item left with the old words only matters for a
    /// restore, which asks again.
    pub(crate) fn refresh_item(&self, record: &KeyRecord) {
        match self.secrets.get(record.id) {
            Ok(Some(credentials)) => {
                if let Err(e) = self.put_secret(record, &credentials) {
                    tracing::warn!(key = %record.id, error = %e, "edited key: could not update its keychain item's attributes");
                }
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(key = %record.id, error = %e, "edited key: could not read its keychain item"),
        }
    }

    /// Writes the key's keychain item, recording its exchange, environment and label on it so a
    /// lost row can be restored from the item alone.
    fn put_secret(&self, record: &KeyRecord, credentials: &Credentials) -> std::result::Result<(), KeychainError> {
        let description = format!("Latchkey: {} ({})", record.label, record.exchange);
        let info = ItemInfo {
            exchange: record.exchange,
            environment: record.environment.clone(),
            label: record.label.clone(),
        };
        self.secrets.put_key(record.id, &description, &info, credentials)
    }

    fn audit_failure(&self, action: Action, record: &KeyRecord, now: DateTime<Utc>, err: &dyn std::fmt::Display) {
        let event = Event {
            at: now,
            action,
            key_id: Some(record.id),
            label: Some(&record.label),
            outcome: Outcome::Failed,
            detail: err.to_string(),
        };
        if let Err(e) = self.store.record(&event) {
            tracing::warn!(error = %e, "could not write the audit entry for a failed action");
        }
    }

    /// Notes in the audit log that a key's secret was shown or copied; `what` says which part
    /// and how (words only, never a secret).
    pub fn record_reveal(&self, id: KeyId, now: DateTime<Utc>, what: &str) -> Result<()> {
        let record = self.get(id)?;
        let event = Event {
            at: now,
            action: Action::Reveal,
            key_id: Some(id),
            label: Some(&record.label),
            outcome: Outcome::Ok,
            detail: what.to_owned(),
        };
        self.store.record(&event)
    }
}

/// The record of a key just added (or restored) under `id`, with what the exchange said if asked.
fn new_record(
    id: KeyId,
    key: ValidatedKey,
    inspection: Option<KeyInspection>,
    now: DateTime<Utc>,
    bots_allowed: bool,
) -> (KeyRecord, Credentials) {
    let ValidatedKey { exchange, label, environment, credentials, rotation_days } = key;
    let record = KeyRecord {
        id,
        exchange,
        label,
        environment,
        key_hint: key_hint(&credentials.api_key),
        created_at: now,
        rotated_at: now,
        verified_at: inspection.as_ref().map(|_| now),
        rotation_days,
        permissions: inspection.as_ref().map(|i| i.permissions.clone()).unwrap_or_default(),
        ip_whitelist: inspection.as_ref().map(|i| i.ip_whitelist.clone()).unwrap_or_default(),
        status: KeyStatus::Active,
        inspection,
        master_key_id: None,
        sub_account: None,
        snoozed_until: None,
        reminded_at: None,
        replaces: None,
        bots_allowed,
        revoked_at: None,
    };
    (record, credentials)
}

/// A rotation's new key: in the old key's place (label, environment, policy, sub-account and
/// master, bots access), with what the exchange said about it, pointing back at the old key.
pub(crate) fn replacement_record(
    old: &KeyRecord,
    id: KeyId,
    key_hint: String,
    inspection: Option<KeyInspection>,
    now: DateTime<Utc>,
) -> KeyRecord {
    KeyRecord {
        id,
        exchange: old.exchange,
        label: old.label.clone(),
        environment: old.environment.clone(),
        key_hint,
        created_at: now,
        rotated_at: now,
        verified_at: inspection.as_ref().map(|_| now),
        rotation_days: old.rotation_days,
        permissions: inspection.as_ref().map(|i| i.permissions.clone()).unwrap_or_default(),
        ip_whitelist: inspection.as_ref().map(|i| i.ip_whitelist.clone()).unwrap_or_default(),
        status: KeyStatus::Active,
        inspection,
        // A rotated key stays where it was: same sub-account, revocable through the same
        // master. Keys that had `old` as their master move to the new key in `replace_key`.
        master_key_id: old.master_key_id,
        sub_account: old.sub_account.clone(),
        snoozed_until: None,
        reminded_at: None,
        replaces: Some(old.id),
        bots_allowed: old.bots_allowed,
        revoked_at: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keychain::memory::MemoryStore;
    use chrono::TimeZone;
    use secrecy::ExposeSecret;

    const OKX_KEY: &str = "37c541a1-1234-4abc-9def-10fe7a038418";
    const OKX_SECRET: &str = "22582BD0CFF14C41EDBF1AB98506286D";

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 9, 30, 0).unwrap()
    }

    fn vault() -> (tempfile::TempDir, Vault, Arc<MemoryStore>) {
        let dir = tempfile::tempdir().unwrap();
        let secrets = Arc::new(MemoryStore::default());
        let vault = Vault::new(Arc::new(Store::open_in(dir.path()).unwrap()), secrets.clone());
        (dir, vault, secrets)
    }

    fn okx(label: &str) -> NewKey {
        NewKey {
            exchange: Exchange::Okx,
            label: label.into(),
            environment: Environment::Live,
            credentials: Credentials::new(&format!("  {OKX_KEY}\n"), OKX_SECRET, Some("Pass phrase 1")),
            rotation_days: None,
        }
    }

    #[test]
    fn add_trims_stores_secret_and_audits() {
        let (_d, vault, secrets) = vault();
        let rec = vault.add(okx(" bot-main "), now()).unwrap();
        assert_eq!(rec.label, "bot-main");
        assert_eq!(rec.key_hint, "37c5…8418");
        assert_eq!((rec.created_at, rec.rotated_at, rec.rotation_days), (now(), now(), 90));
        assert_eq!(rec.status, KeyStatus::Active);
        let c = vault.credentials(rec.id).unwrap();
        assert_eq!(c.api_key.expose_secret(), OKX_KEY, "trimmed before storing");
        assert_eq!(c.passphrase.unwrap().expose_secret(), "Pass phrase 1", "inner spaces kept");
        assert_eq!(secrets.items.lock().unwrap().len(), 1);
        assert_eq!(vault.list().unwrap(), vec![rec.clone()]);
        let log = vault.store().audit_log(5).unwrap();
        assert_eq!((log[0].action.as_str(), log[0].outcome.as_str()), ("add", "ok"));
    }

    #[test]
    fn duplicate_label_is_refused_before_touching_the_keychain() {
        let (_d, vault, secrets) = vault();
        vault.add(okx("bot"), now()).unwrap();
        let err = vault.add(okx("BOT"), now()).unwrap_err();
        assert!(matches!(&err, Error::Invalid(i) if i.field == Field::Label), "{err}");
        assert_eq!(secrets.items.lock().unwrap().len(), 1);
    }

    #[test]
    fn keychain_failure_leaves_no_row_and_is_audited() {
        let (_d, vault, secrets) = vault();
        *secrets.fail_next_put.lock().unwrap() = true;
        let err = vault.add(okx("bot"), now()).unwrap_err();
        assert!(err.to_string().contains("keychain is locked"), "{err}");
        assert!(vault.list().unwrap().is_empty());
        let log = vault.store().audit_log(5).unwrap();
        assert_eq!((log[0].action.as_str(), log[0].outcome.as_str()), ("add", "failed"));
        // The user can simply try again once the keychain is unlocked: nothing is half-done.
        vault.add(okx("bot"), now()).unwrap();
    }

    #[test]
    fn invalid_input_names_the_field() {
        let (_d, vault, _) = vault();
        let mut k = okx("bot");
        k.credentials.passphrase = Some(secrecy::SecretString::from("   ".to_owned()));
        let err = vault.add(k, now()).unwrap_err();
        assert!(matches!(&err, Error::Invalid(i) if i.field == Field::Passphrase), "{err}");
        let mut k = okx("bot");
        k.rotation_days = Some(0);
        assert!(matches!(vault.add(k, now()).unwrap_err(), Error::Invalid(i) if i.field == Field::RotationDays));
    }

    #[test]
    fn delete_wipes_secret_then_row() {
        let (_d, vault, secrets) = vault();
        let rec = vault.add(okx("bot"), now()).unwrap();
        vault.delete(rec.id, now()).unwrap();
        assert!(secrets.items.lock().unwrap().is_empty());
        assert!(matches!(vault.get(rec.id), Err(Error::NotFound(_))));
        assert!(matches!(vault.delete(rec.id, now()), Err(Error::NotFound(_))));
    }

    fn inspection(permissions: Vec<crate::model::Permission>, ips: &[&str]) -> KeyInspection {
        KeyInspection {
            exchange: Exchange::Okx,
            permissions,
            ip_restricted: !ips.is_empty(),
            ip_whitelist: ips.iter().map(|s| s.to_string()).collect(),
            expires_at: None,
            created_at: None,
            account_kind: crate::model::AccountKind::Master,
            account_uid: Some("44705892343619584".into()),
            master_uid: None,
            label: None,
            demo: false,
        }
    }

    #[test]
    fn verified_add_and_recheck_keep_the_exchange_answer() {
        use crate::model::Permission::{Read, Trade, Withdraw};
        let (_d, vault, _) = vault();
        let key = vault.validate(okx("bot")).unwrap();
        let rec = vault.insert(key, Some(inspection(vec![Read, Trade], &["10.0.0.1"])), now()).unwrap();
        assert_eq!((rec.verified_at, rec.permissions.clone()), (Some(now()), vec![Read, Trade]));
        assert_eq!(vault.get(rec.id).unwrap(), rec, "the inspection survives the round trip through SQLite");

        let later = now() + chrono::Duration::days(3);
        let rechecked = vault.record_inspection(rec.id, &inspection(vec![Read, Trade, Withdraw], &[]), later).unwrap();
        assert_eq!(rechecked.verified_at, Some(later));
        assert_eq!(rechecked.permissions, vec![Read, Trade, Withdraw]);
        assert!(rechecked.ip_whitelist.is_empty());
        assert_eq!(rechecked.inspection.unwrap().permissions, vec![Read, Trade, Withdraw]);
        vault.record_inspection_failure(rec.id, later, &"timeout").unwrap();
        let log = vault.store().audit_log(5).unwrap();
        let seen: Vec<_> = log.iter().map(|e| (e.action.as_str(), e.outcome.as_str())).collect();
        assert_eq!(seen, [("verify", "failed"), ("verify", "ok"), ("add", "ok")]);
        assert_eq!(log[2].detail, "verified with the exchange");
    }

    #[test]
    fn rotation_keeps_the_label_and_the_history() {
        let (_d, vault, secrets) = vault();
        let old = vault.add(okx("bot"), now()).unwrap();
        let later = now() + chrono::Duration::days(80);
        let new_creds =
            Credentials::new("11111111-2222-4333-8444-555555555555", "ABCDEF0123456789ABCDEF0123456789", Some("p2"));
        let (old_rec, creds) = vault.validate_replacement(old.id, &new_creds).unwrap();
        let new = vault.replace(&old_rec, creds, None, later).unwrap();
        assert_eq!((new.label.as_str(), new.rotated_at, new.replaces), ("bot", later, Some(old.id)));
        assert_eq!(vault.get(old.id).unwrap().label, "bot (replaced 2027-02-12)");
        assert_eq!(vault.history(new.id).unwrap().iter().map(|r| r.id).collect::<Vec<_>>(), [old.id]);
        assert_eq!(secrets.items.lock().unwrap().len(), 2, "the old secret stays until the old key is retired");
        let bad = Credentials::new("nope", "x", None);
        assert!(matches!(vault.validate_replacement(old.id, &bad), Err(Error::Invalid(_))));
    }

    fn link(vault: &Vault, key: KeyId, master: KeyId, sub: &str) {
        crate::revoke::set_revoke_link(vault.store(), key, Some(master), Some(sub)).unwrap();
    }

    #[test]
    fn a_rotated_sub_key_keeps_its_sub_account_and_master() {
        let (_d, vault, _) = vault();
        let master = vault.add(okx("master"), now()).unwrap();
        let sub = vault.add(okx("sub-bot"), now()).unwrap();
        link(&vault, sub.id, master.id, "grid-sub-1");
        let old = vault.get(sub.id).unwrap();
        let creds = Credentials::new("11111111-2222-4333-8444-555555555555", OKX_SECRET, Some("p2"));
        let (old, creds) = vault.validate_replacement(old.id, &creds).unwrap();
        let new = vault.replace(&old, creds, None, now()).unwrap();
        let stored = vault.get(new.id).unwrap();
        assert_eq!(stored.master_key_id, Some(master.id));
        assert_eq!(stored.sub_account.as_deref(), Some("grid-sub-1"), "a revoke must still name the sub-account");
    }

    #[test]
    fn rotating_a_master_moves_its_sub_keys_to_the_new_master() {
        let (_d, vault, _) = vault();
        let master = vault.add(okx("master"), now()).unwrap();
        let sub_a = vault.add(okx("sub-a"), now()).unwrap();
        let sub_b = vault.add(okx("sub-b"), now()).unwrap();
        let other_master = vault.add(okx("other-master"), now()).unwrap();
        let elsewhere = vault.add(okx("elsewhere"), now()).unwrap();
        link(&vault, sub_a.id, master.id, "a");
        link(&vault, sub_b.id, master.id, "b");
        link(&vault, elsewhere.id, other_master.id, "c");
        let creds = Credentials::new("11111111-2222-4333-8444-555555555555", OKX_SECRET, Some("p2"));
        let (old, creds) = vault.validate_replacement(master.id, &creds).unwrap();
        let new_master = vault.replace(&old, creds, None, now()).unwrap();
        for sub in [sub_a.id, sub_b.id] {
            let rec = vault.get(sub).unwrap();
            assert_eq!(rec.master_key_id, Some(new_master.id), "{} follows its master", rec.label);
        }
        assert_eq!(vault.get(sub_a.id).unwrap().sub_account.as_deref(), Some("a"));
        assert_eq!(vault.get(elsewhere.id).unwrap().master_key_id, Some(other_master.id), "other links untouched");
        assert_eq!(vault.get(new_master.id).unwrap().master_key_id, None, "the new master is nobody's sub key");
    }

    #[test]
    fn the_key_being_replaced_is_refused_as_its_own_replacement() {
        let (_d, vault, secrets) = vault();
        let old = vault.add(okx("bot"), now()).unwrap();
        // The same key, pasted with stray whitespace: still the same key.
        let same = Credentials::new(&format!(" {OKX_KEY} "), "ABCDEF0123456789ABCDEF0123456789", Some("x"));
        let err = vault.validate_replacement(old.id, &same).unwrap_err();
        assert!(matches!(&err, Error::Invalid(i) if i.field == Field::ApiKey), "{err}");
        let msg = err.to_string();
        assert!(msg.contains("same API key") && msg.contains("Create a new API key on OKX first"), "{msg}");
        assert!(!msg.contains(OKX_KEY), "the key itself is not echoed");
        // With the old secret gone, its masked hint is what recognises it.
        secrets.items.lock().unwrap().clear();
        assert!(matches!(vault.validate_replacement(old.id, &same), Err(Error::Invalid(_))));
        let other = Credentials::new("11111111-2222-4333-8444-555555555555", OKX_SECRET, Some("p2"));
        assert!(vault.validate_replacement(old.id, &other).is_ok());
    }

    #[test]
    fn a_rejected_key_keeps_its_verified_date_until_the_exchange_accepts_it_again() {
        let (_d, vault, _) = vault();
        let key = vault.validate(okx("bot")).unwrap();
        let rec = vault.insert(key, Some(inspection(vec![crate::model::Permission::Read], &[])), now()).unwrap();
        let later = now() + chrono::Duration::days(2);
        let (rejected, newly) =
            vault.record_rejection(rec.id, "OKX does not recognise this API key (50111).", later).unwrap();
        assert!(newly);
        assert_eq!((rejected.status, rejected.verified_at), (KeyStatus::Rejected, Some(now())));
        assert_eq!(rejected.status.describe(rejected.exchange), "Rejected by OKX (deleted or expired?)");
        let (_, again) = vault.record_rejection(rec.id, "same", later).unwrap();
        assert!(!again, "already rejected: not news");
        let log = vault.store().audit_log(2).unwrap();
        assert_eq!((log[1].action.as_str(), log[1].outcome.as_str()), ("verify", "failed"));
        assert!(log[1].detail.starts_with("rejected by OKX"), "{}", log[1].detail);
        let back =
            vault.record_inspection(rec.id, &inspection(vec![crate::model::Permission::Read], &[]), later).unwrap();
        assert_eq!((back.status, back.verified_at), (KeyStatus::Active, Some(later)));
    }

    #[test]
    fn each_change_at_the_exchange_is_audited() {
        use crate::model::Permission::{Read, Withdraw};
        let (_d, vault, _) = vault();
        let key = vault.validate(okx("bot")).unwrap();
        let old = inspection(vec![Read], &["10.0.0.1"]);
        let rec = vault.insert(key, Some(old.clone()), now()).unwrap();
        let new = inspection(vec![Read, Withdraw], &[]);
        let found = crate::watch::changes(&old, &new);
        vault.record_inspection_changes(rec.id, &new, &found, now()).unwrap();
        let details: Vec<String> = vault.store().audit_log(2).unwrap().into_iter().map(|e| e.detail).collect();
        assert!(
            details.iter().any(|d| d.contains("can now withdraw funds") && d.contains("gained_withdraw")),
            "{details:?}"
        );
        assert!(details.iter().any(|d| d.contains("ip_whitelist_removed")), "{details:?}");
    }

    #[test]
    fn orphans_are_items_without_a_row() {
        let (_d, vault, secrets) = vault();
        let kept = vault.add(okx("kept"), now()).unwrap();
        let lost = vault.add(okx("lost"), now()).unwrap();
        // The row goes (a database moved aside); the keychain item stays.
        vault
            .store()
            .delete_key(
                lost.id,
                &Event {
                    at: now(),
                    action: Action::Delete,
                    key_id: Some(lost.id),
                    label: None,
                    outcome: Outcome::Ok,
                    detail: String::new(),
                },
            )
            .unwrap();
        let orphans = vault.orphans().unwrap();
        assert_eq!(orphans.len(), 1);
        assert_eq!(orphans[0].id, lost.id);
        let info = orphans[0].info.as_ref().unwrap();
        assert_eq!((info.exchange, info.label.as_str()), (Exchange::Okx, "lost"), "the item says what it is");
        assert!(secrets.contains(kept.id));
        assert!(vault.delete_orphan(kept.id, now()).is_err(), "a listed key is deleted on the list, not here");
        assert!(vault.delete_orphan(lost.id, now()).unwrap());
        assert!(vault.orphans().unwrap().is_empty());
        assert!(secrets.contains(kept.id));
    }

    #[test]
    fn snooze_is_bounded_and_audited() {
        let (_d, vault, _) = vault();
        let k = vault.add(okx("bot"), now()).unwrap();
        assert_eq!(vault.snooze(k.id, 7, now()).unwrap().snoozed_until, Some(now() + chrono::Duration::days(7)));
        assert_eq!(vault.snooze(k.id, 365, now()).unwrap().snoozed_until, Some(now() + chrono::Duration::days(30)));
        assert_eq!(vault.store().audit_log(1).unwrap()[0].action, "snooze");
    }

    #[test]
    fn missing_secret_is_explained() {
        let (_d, vault, secrets) = vault();
        let rec = vault.add(okx("bot"), now()).unwrap();
        secrets.items.lock().unwrap().clear();
        let err = vault.credentials(rec.id).unwrap_err().to_string();
        assert!(err.contains("missing from the keychain") && err.contains("'bot'"), "{err}");
        vault.delete(rec.id, now()).unwrap();
    }

    #[test]
    fn reveal_is_audited_without_the_secret() {
        let (_d, vault, _) = vault();
        let rec = vault.add(okx("bot"), now()).unwrap();
        vault.record_reveal(rec.id, now(), "api secret copied to the clipboard").unwrap();
        let log = vault.store().audit_log(1).unwrap();
        assert_eq!((log[0].action.as_str(), log[0].outcome.as_str()), ("reveal", "ok"));
        assert_eq!((log[0].key_id, log[0].label.as_deref()), (Some(rec.id), Some("bot")));
        assert_eq!(log[0].detail, "api secret copied to the clipboard");
        // Nothing Latchkey wrote to SQLite (rows, audit, WAL) carries the secret or the key itself.
        let dir = vault.store().path().parent().unwrap().to_owned();
        for entry in std::fs::read_dir(dir).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            for secret in [OKX_SECRET, OKX_KEY] {
                assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()), "{secret} on disk");
            }
        }
        assert!(matches!(vault.record_reveal(KeyId::random(), now(), "shown"), Err(Error::NotFound(_))));
    }
}
