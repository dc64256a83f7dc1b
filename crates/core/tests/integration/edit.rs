//! Editing a key against real SQLite and the exchange simulator over HTTP: label, rotation policy,
//! environment and "Bots may use this key" change after adding, validated as the wizard validates
//! a new key, audited, with a 2FA code for a move (when 2FA is set up) and for turning bots on. A
//! move re-verifies the key with its own signed read at the new address; a quarantined key stays
//! quarantined whatever the answer, and its revoke retry then reaches the exchange.
#![allow(clippy::unwrap_used)]

use crate::revoke_support;

use std::sync::Arc;

use exchange_sim::{Seed, Sim};
use latchkey_core::bots::Bots;
use latchkey_core::edit::{reverify, EditError, Editor, KeyEdit, ReverifyOutcome};
use latchkey_core::exchange::{ClientConfig, ExchangeClient, SystemClock};
use latchkey_core::guard::{Guard, GuardConfig, GuardError, HashCost};
use latchkey_core::keychain::SecretStore;
use latchkey_core::model::{Environment, KeyId, KeyStatus};
use latchkey_core::revoke::{no_progress, KeyResult, Selection};
use latchkey_core::secret::Credentials;
use latchkey_core::validate::Field;
use latchkey_core::vault::Vault;
use latchkey_core::Error;
use revoke_support::*;

/// A closed port on loopback: every signed request to it fails at once.
const WRONG_URL: &str = "http://127.0.0.1:9";

struct World {
    env: Env,
    vault: Arc<Vault>,
    bots: Bots,
    guard: Arc<Guard>,
    client: ExchangeClient,
}

async fn world() -> World {
    let env = Env::new(fast_config()).await;
    let vault = Arc::new(Vault::new(env.store.clone(), env.secrets.clone()));
    let guard = Arc::new(Guard::new(
        env.store.clone(),
        env.secrets.clone(),
        GuardConfig { recovery_cost: HashCost::fast_for_tests(), ..Default::default() },
    ));
    let bots = Bots::new(env.store.clone(), guard.clone());
    let client = ExchangeClient::new(ClientConfig::default(), Arc::new(SystemClock)).unwrap();
    World { env, vault, bots, guard, client }
}

impl World {
    fn editor(&self) -> Editor<'_> {
        Editor::new(&self.vault, &self.bots, &self.guard)
    }

    /// A seed key stored with `base_url` as its address (and its secret in the keychain).
    fn add_at(&self, label: &str, base_url: &str) -> KeyId {
        let key = seed_key(label);
        let record = record(&key, base_url, None, None);
        self.env
            .secrets
            .put(record.id, "test", &Credentials::new(&key.api_key, &key.secret, key.passphrase.as_deref()))
            .unwrap();
        let event = latchkey_core::audit::Event {
            at: chrono::Utc::now(),
            action: latchkey_core::audit::Action::Add,
            key_id: Some(record.id),
            label: Some(&record.label),
            outcome: latchkey_core::audit::Outcome::Ok,
            detail: String::new(),
        };
        self.env.store.insert_key(&record, &event).unwrap();
        record.id
    }

    fn sim_env(&self) -> Environment {
        Environment::Custom { base_url: self.env.sim.base_url() }
    }

    fn audit(&self, action: &str) -> Vec<String> {
        self.env.store.audit_log(100).unwrap().into_iter().filter(|e| e.action == action).map(|e| e.detail).collect()
    }

    fn failures(&self) -> u32 {
        self.guard.status(*self.env.now.lock().unwrap()).unwrap().failures
    }
}

fn moved_to(env: Environment) -> KeyEdit {
    KeyEdit { environment: Some(env), ..Default::default() }
}

/// The case: an emergency revoke could not reach the key's wrong address, so the key is
/// quarantined. The user fixes the address (with a code), Latchkey re-verifies the key there: it
/// answers, so it is still live and stays quarantined (never "fine"), and the retry then revokes it.
#[tokio::test]
async fn a_quarantined_key_with_a_wrong_base_url_is_fixed_reverified_and_then_revoked() {
    let w = world().await;
    let id = w.add_at("bybit-master-wallet", WRONG_URL);
    let (code, now) = w.env.code();
    let report = w.env.engine.emergency_revoke(&code, Selection::Keys(vec![id]), now, no_progress()).await.unwrap();
    assert!(matches!(report.keys[0].result, KeyResult::Quarantined { .. }), "{:?}", report.keys);
    assert_eq!(w.env.status(id), KeyStatus::Quarantined);
    let verified_before = w.vault.get(id).unwrap().verified_at;

    let (code, now) = w.env.code();
    let edited = w.editor().apply(id, &moved_to(w.sim_env()), Some(&code), now).unwrap();
    assert!(edited.moved);
    assert_eq!(edited.record.environment, w.sim_env());
    assert_eq!(edited.changes, [format!("environment {WRONG_URL} → {}", w.env.sim.base_url())]);

    let (found, record) = reverify(&w.vault, &w.client, id, now).await.unwrap();
    assert_eq!(found.outcome, ReverifyOutcome::Verified, "{}", found.message);
    assert_eq!((found.status, record.status), (KeyStatus::Quarantined, KeyStatus::Quarantined));
    assert!(
        found.message.contains("stays quarantined") && found.message.contains("Retry the revoke"),
        "{}",
        found.message
    );
    assert_ne!(verified_before, Some(now));
    assert_eq!(record.verified_at, Some(now), "the answer at the new address is kept");
    assert!(w.env.sim.state().has_key(&seed_key("bybit-master-wallet").api_key), "the check deleted nothing");

    let (code, now) = w.env.code();
    let retry = w.env.engine.retry(&code, &[id], now, no_progress()).await.unwrap();
    assert!(matches!(retry.keys[0].result, KeyResult::Revoked { proved_at: Some(_), .. }), "{:?}", retry.keys);
    assert_eq!(w.env.status(id), KeyStatus::Revoked);
    assert!(!w.env.sim.state().has_key(&seed_key("bybit-master-wallet").api_key));

    let edits = w.audit("edit");
    assert_eq!(edits, [format!("environment {WRONG_URL} → {}", w.env.sim.base_url())]);
    // A revoked key's record is history: it cannot be edited any more.
    let e = w.editor().apply(id, &KeyEdit { label: Some("x".into()), ..Default::default() }, None, now).unwrap_err();
    assert!(matches!(e, EditError::Revoked { .. }), "{e}");
}

/// A refusal at the new address proves nothing about a quarantined key (it may be the wrong host):
/// it stays quarantined. An active key refused there is marked rejected, and moving it back to an
/// address that answers makes it active again.
#[tokio::test]
async fn the_status_follows_the_new_address_only_where_that_is_safe() {
    let w = world().await;
    let stranger = Sim::start(Seed::default()).await.unwrap();
    let elsewhere = Environment::Custom { base_url: stranger.base_url() };

    let active = w.add_at("okx-read-only", &w.env.sim.base_url());
    let (code, now) = w.env.code();
    w.editor().apply(active, &moved_to(elsewhere.clone()), Some(&code), now).unwrap();
    let (found, record) = reverify(&w.vault, &w.client, active, now).await.unwrap();
    assert_eq!((found.outcome, record.status), (ReverifyOutcome::Rejected, KeyStatus::Rejected), "{}", found.message);
    assert!(found.message.contains("change it again"), "{}", found.message);

    let (code, now) = w.env.code();
    w.editor().apply(active, &moved_to(w.sim_env()), Some(&code), now).unwrap();
    let (found, record) = reverify(&w.vault, &w.client, active, now).await.unwrap();
    assert_eq!((found.outcome, record.status), (ReverifyOutcome::Verified, KeyStatus::Active));
    assert!(found.message.contains("active again"), "{}", found.message);

    let quarantined = w.add_at("bybit-master-wallet", WRONG_URL);
    let (code, now) = w.env.code();
    w.env.engine.emergency_revoke(&code, Selection::Keys(vec![quarantined]), now, no_progress()).await.unwrap();
    let (code, now) = w.env.code();
    w.editor().apply(quarantined, &moved_to(elsewhere), Some(&code), now).unwrap();
    let (found, record) = reverify(&w.vault, &w.client, quarantined, now).await.unwrap();
    assert_eq!(found.outcome, ReverifyOutcome::Rejected);
    assert_eq!(record.status, KeyStatus::Quarantined, "a refusal is no proof of a revoke");
    assert!(
        found.message.contains("does not prove") && found.message.contains("stays quarantined"),
        "{}",
        found.message
    );

    // No answer at all: the change is saved, the status unchanged.
    let (code, now) = w.env.code();
    w.editor().apply(active, &moved_to(Environment::Custom { base_url: WRONG_URL.into() }), Some(&code), now).unwrap();
    let (found, record) = reverify(&w.vault, &w.client, active, now).await.unwrap();
    assert_eq!((found.outcome, record.status), (ReverifyOutcome::Failed, KeyStatus::Active), "{}", found.message);
    assert!(found.message.contains("status is unchanged"), "{}", found.message);
}

/// Label and rotation policy need no code; a move does while 2FA is set up, and a wrong code counts
/// toward the backoff and changes nothing. Each saved edit is one audit entry saying what changed.
#[tokio::test]
async fn a_move_needs_a_code_label_and_rotation_do_not() {
    let w = world().await;
    let id = w.add_at("okx-read-only", &w.env.sim.base_url());
    let now = *w.env.now.lock().unwrap();
    let edit = KeyEdit { label: Some("  okx-grid ".into()), rotation_days: Some(30), ..Default::default() };
    assert!(!w.editor().plan(id, &edit, now).unwrap().needs_code);
    let edited = w.editor().apply(id, &edit, None, now).unwrap();
    assert_eq!((edited.record.label.as_str(), edited.record.rotation_days), ("okx-grid", 30));
    assert_eq!(w.audit("edit"), ["label 'okx-read-only' → 'okx-grid'; rotation every 90 → 30 days"]);
    assert_eq!(w.env.secrets.infos.lock().unwrap()[&id].label, "okx-grid", "the keychain item says the new label");

    let moving = moved_to(Environment::Demo);
    assert!(w.editor().plan(id, &moving, now).unwrap().needs_code);
    let e = w.editor().apply(id, &moving, None, now).unwrap_err();
    assert!(matches!(e, EditError::CodeNeeded { .. }) && e.to_string().contains("2FA code"), "{e}");
    let e = w.editor().apply(id, &moving, Some("000000"), now).unwrap_err();
    assert!(matches!(e, EditError::Guard(GuardError::WrongCode { .. })), "{e}");
    assert_eq!(w.failures(), 1, "the wrong code counts toward the backoff");
    assert_eq!(w.vault.get(id).unwrap().environment, w.sim_env(), "nothing changed");
    let (code, now) = w.env.code();
    let edited = w.editor().apply(id, &moving, Some(&code), now).unwrap();
    assert_eq!(edited.record.environment, Environment::Demo);
    assert_eq!(w.failures(), 0);
    assert_eq!(w.env.secrets.infos.lock().unwrap()[&id].environment, Environment::Demo);

    // Nothing to change: nothing written, no code asked for.
    let same = KeyEdit { label: Some("okx-grid".into()), environment: Some(Environment::Demo), ..Default::default() };
    let plan = w.editor().plan(id, &same, now).unwrap();
    assert!(plan.is_empty() && !plan.needs_code);
    assert!(w.editor().apply(id, &same, None, now).unwrap().changes.is_empty());
    assert_eq!(w.audit("edit").len(), 2);
    let secrets = w.env.secrets.get(id).unwrap().unwrap();
    assert_eq!(secrets.api_key.expose(), seed_key("okx-read-only").api_key, "an edit never changes the secret");
}

/// Without 2FA a move needs no code (there is nothing to check it against).
#[tokio::test]
async fn without_2fa_a_move_needs_no_code() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(latchkey_core::store::Store::open_in(dir.path()).unwrap());
    let secrets = Arc::new(latchkey_core::keychain::memory::MemoryStore::default());
    let vault = Vault::new(store.clone(), secrets.clone());
    let guard = Arc::new(Guard::new(store.clone(), secrets, GuardConfig::default()));
    let bots = Bots::new(store, guard.clone());
    let creds = Credentials::new("37c541a1-1234-4abc-9def-10fe7a038418", "22582BD0CFF14C41EDBF1AB98506286D", Some("p"));
    let now = chrono::Utc::now();
    let key = vault
        .add(
            latchkey_core::vault::NewKey {
                exchange: latchkey_core::model::Exchange::Okx,
                label: "bot".into(),
                environment: Environment::Live,
                credentials: creds,
                rotation_days: None,
            },
            now,
        )
        .unwrap();
    let editor = Editor::new(&vault, &bots, &guard);
    let edit = moved_to(Environment::Custom { base_url: "https://eu.okx.com/".into() });
    assert!(!editor.plan(key.id, &edit, now).unwrap().needs_code);
    let edited = editor.apply(key.id, &edit, None, now).unwrap();
    assert_eq!(edited.record.environment, Environment::Custom { base_url: "https://eu.okx.com".into() });
}

/// The wizard's rules, and the label must be free among the other keys (its own, in another case,
/// is fine). Refusals come before any code is asked for, so they cost no try, and write nothing.
#[tokio::test]
async fn bad_edits_are_refused_with_the_wizards_messages_before_a_code() {
    let w = world().await;
    let id = w.add_at("okx-read-only", &w.env.sim.base_url());
    w.add_at("okx-withdraw", &w.env.sim.base_url());
    let now = *w.env.now.lock().unwrap();
    let field = |edit: KeyEdit| match w.editor().apply(id, &edit, Some("000000"), now).unwrap_err() {
        EditError::Core(Error::Invalid(i)) => (i.field, i.message),
        other => panic!("{other}"),
    };
    let label = |l: &str| KeyEdit { label: Some(l.into()), ..Default::default() };
    assert_eq!(field(label("  ")).0, Field::Label);
    assert!(field(label(&"x".repeat(65))).1.contains("65 characters"));
    let (f, m) = field(label("OKX-Withdraw"));
    assert_eq!((f, m.as_str()), (Field::Label, "A key labelled 'OKX-Withdraw' already exists: choose another label."));
    assert_eq!(field(KeyEdit { rotation_days: Some(0), ..Default::default() }).0, Field::RotationDays);
    let (f, m) = field(moved_to(Environment::Custom { base_url: "http://eu.okx.com".into() }));
    assert!(f == Field::BaseUrl && m.contains("Use https"), "{m}");
    assert_eq!(w.failures(), 0, "no code was checked");
    assert!(w.audit("edit").is_empty());
    let edited = w.editor().apply(id, &label("OKX-READ-ONLY"), None, now).unwrap();
    assert_eq!(edited.record.label, "OKX-READ-ONLY", "its own label in another case");
}

/// "Bots may use this key" in the same edit: on needs a code (one code covers a move too), never
/// for a master (refused before the code); off needs none. Audited as the card's switch is.
#[tokio::test]
async fn bots_access_in_an_edit_follows_the_cards_rules() {
    let w = world().await;
    let master = w.add_at("okx-master-ip-bound", &w.env.sim.base_url());
    let sub = w.add_at("okx-sub-bot", &w.env.sim.base_url());
    latchkey_core::revoke::set_revoke_link(&w.env.store, sub, Some(master), Some("bot-sub-1")).unwrap();
    let now = *w.env.now.lock().unwrap();
    let on = KeyEdit { bots_allowed: Some(true), ..Default::default() };
    let e = w.editor().apply(master, &on, Some("000000"), now).unwrap_err();
    assert_eq!(e.kind(), "master_key_for_bots", "{e}");
    assert_eq!(w.failures(), 0);

    let off = KeyEdit { bots_allowed: Some(false), ..Default::default() };
    assert!(!w.editor().apply(sub, &off, None, now).unwrap().record.bots_allowed);
    let both = KeyEdit { bots_allowed: Some(true), environment: Some(Environment::Demo), ..Default::default() };
    let plan = w.editor().plan(sub, &both, now).unwrap();
    assert!(plan.needs_code);
    let (code, now) = w.env.code();
    let edited = w.editor().apply(sub, &both, Some(&code), now).unwrap();
    assert!(edited.record.bots_allowed && edited.record.environment == Environment::Demo);
    assert_eq!(w.audit("bots_access"), ["bots may use this key", "bots may not use this key"]);
}

trait Expose {
    fn expose(&self) -> String;
}

impl Expose for secrecy::SecretString {
    fn expose(&self) -> String {
        use secrecy::ExposeSecret;
        self.expose_secret().to_owned()
    }
}
