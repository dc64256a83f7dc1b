//! The vault ties validation, the keychain and the store together. Each operation writes the secret
//! and the metadata in an order that a crash cannot turn into a lost or orphaned secret, and each
//! leaves an audit entry.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::audit::{Action, Event, Outcome};
use crate::exchange::KeyInspection;
use crate::keychain::SecretStore;
use crate::model::{Environment, Exchange, KeyId, KeyRecord, KeyStatus, DEFAULT_ROTATION_DAYS};
use crate::secret::{key_hint, Credentials};
use crate::store::Store;
use crate::validate::{self, Field, Invalid};
use crate::{Error, Result};

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
            let message = format!("A key labelled '{label}' already exists: choose another label.");
            return Err(Invalid { field: Field::Label, message }.into());
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
        let ValidatedKey { exchange, label, environment, credentials, rotation_days } = key;
        let record = KeyRecord {
            id: KeyId::random(),
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
            revoked_at: None,
        };
        let description = format!("Latchkey: {} ({})", record.label, record.exchange);
        if let Err(e) = self.secrets.put(record.id, &description, &credentials) {
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

    /// Keeps what the exchange said about a stored key (permissions, IPs, expiry) and when.
    pub fn record_inspection(&self, id: KeyId, inspection: &KeyInspection, now: DateTime<Utc>) -> Result<KeyRecord> {
        let record = self.get(id)?;
        let event = Event {
            at: now,
            action: Action::Verify,
            key_id: Some(id),
            label: Some(&record.label),
            outcome: Outcome::Ok,
            detail: String::new(),
        };
        self.store.record_inspection(id, inspection, now, &event)?;
        self.get(id)
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

    /// Checks new credentials for the key `old` (same exchange and environment).
    pub fn validate_replacement(&self, old: KeyId, raw: &Credentials) -> Result<(KeyRecord, Credentials)> {
        let record = self.get(old)?;
        let credentials = validate::checked_credentials(record.exchange, raw)?;
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
        let record = KeyRecord {
            id: KeyId::random(),
            exchange: old.exchange,
            label: old.label.clone(),
            environment: old.environment.clone(),
            key_hint: key_hint(&credentials.api_key),
            created_at: now,
            rotated_at: now,
            verified_at: inspection.as_ref().map(|_| now),
            rotation_days: old.rotation_days,
            permissions: inspection.as_ref().map(|i| i.permissions.clone()).unwrap_or_default(),
            ip_whitelist: inspection.as_ref().map(|i| i.ip_whitelist.clone()).unwrap_or_default(),
            status: KeyStatus::Active,
            inspection,
            master_key_id: old.master_key_id,
            sub_account: None,
            snoozed_until: None,
            reminded_at: None,
            replaces: Some(old.id),
            revoked_at: None,
        };
        let description = format!("Latchkey: {} ({})", record.label, record.exchange);
        self.secrets.put(record.id, &description, &credentials)?;
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
        if let Err(e) = self.store.replace_key(old.id, &old_label, &record, &event) {
            let _ = self.secrets.delete(record.id);
            return Err(e);
        }
        tracing::info!(key = %record.id, old = %old.id, "key rotated");
        Ok(record)
    }

    /// The keys this one replaced, newest first.
    pub fn history(&self, id: KeyId) -> Result<Vec<KeyRecord>> {
        let mut out = Vec::new();
        let mut next = self.get(id)?.replaces;
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
            account_kind: crate::exchange::AccountKind::Master,
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
        assert!(!log[0].detail.contains(OKX_SECRET));
        assert!(matches!(vault.record_reveal(KeyId::random(), now(), "shown"), Err(Error::NotFound(_))));
    }
}
