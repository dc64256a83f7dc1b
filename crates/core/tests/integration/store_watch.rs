//! Issue 11, item 6: the app sees keys another process (the CLI) adds while it runs. SQLite's
//! `data_version` on the app's connection moves when another connection commits, and only then.
#![allow(clippy::unwrap_used)]

use chrono::Utc;
use latchkey_core::audit::{Action, Event, Outcome};
use latchkey_core::model::{Exchange, KeyRecord};
use latchkey_core::store::Store;

fn add(store: &Store, label: &str) {
    let record = KeyRecord::sample(Exchange::Bybit, label, Utc::now(), 90);
    let event = Event {
        at: Utc::now(),
        action: Action::Add,
        key_id: Some(record.id),
        label: Some(&record.label),
        outcome: Outcome::Ok,
        detail: String::new(),
    };
    store.insert_key(&record, &event).unwrap();
}

#[test]
fn another_processes_commit_moves_the_data_version_and_its_own_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let app = Store::open_in(dir.path()).unwrap();
    let cli = Store::open_in(dir.path()).unwrap();
    let before = app.data_version().unwrap();
    add(&app, "from-the-app");
    assert_eq!(app.data_version().unwrap(), before, "the app's own write: it already knows");
    add(&cli, "from-the-cli");
    let after = app.data_version().unwrap();
    assert_ne!(after, before, "the CLI's commit is seen");
    assert_eq!(app.data_version().unwrap(), after, "and only once");
    assert_eq!(app.list_keys().unwrap().len(), 2);
}
