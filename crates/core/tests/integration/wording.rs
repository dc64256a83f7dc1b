//! Issue 11, item 6: reports and audit entries that read right, against exchange-sim and real
//! SQLite. A rotation's retired key reads as routine (no "change your password"), an emergency
//! revoke as an incident, and no text shows the program's own identifiers ("selfDelete").
#![allow(clippy::unwrap_used)]

use crate::exchange_support;
use crate::revoke_support;
use latchkey_core::handover::DEFAULT_GRACE;

use std::sync::Arc;

use chrono::Utc;
use latchkey_core::guard::{Guard, GuardConfig, HashCost, Verified};
use latchkey_core::model::KeyId;
use latchkey_core::revoke::{no_progress, JobKind, KeyResult, RevokeReport, RevokedBy, Selection};
use latchkey_core::rotate::{self, Replacement};
use latchkey_core::vault::Vault;
use latchkey_core::wording::code_words;
use revoke_support::{fast_config, Env};

fn proof(env: &Env) -> Verified {
    let guard = Guard::new(
        env.store.clone(),
        env.secrets.clone(),
        GuardConfig { recovery_cost: HashCost::fast_for_tests(), ..Default::default() },
    );
    let (code, now) = env.code();
    guard.verify_for_action(&code, now).unwrap()
}

async fn rotate(env: &Env, old: KeyId, seed: &str, new_api_key: &str) -> rotate::Rotated {
    let vault = Arc::new(Vault::new(env.store.clone(), env.secrets.clone()));
    let fresh = exchange_support::variant(seed, new_api_key, |_| {});
    env.sim.add_key(fresh.clone());
    let replacement =
        Replacement { old, credentials: exchange_support::creds(&fresh), verify: true, grace: DEFAULT_GRACE };
    let client = exchange_support::client();
    rotate::rotate(&vault, &client, &env.engine, proof(env), replacement, Utc::now()).await.unwrap()
}

/// Every sentence of a report a person reads.
fn texts(report: &RevokeReport) -> Vec<String> {
    let mut out = vec![report.kind.title().to_owned()];
    out.extend(report.kind.advice().map(str::to_owned));
    for k in &report.keys {
        out.push(k.result.headline().to_owned());
        match &k.result {
            KeyResult::Revoked { method, .. } => out.push(method.describe()),
            KeyResult::Manual { steps, .. } | KeyResult::WipedOnly { steps, .. } => out.extend(steps.iter().cloned()),
            KeyResult::Quarantined { error, .. } | KeyResult::Unconfirmed { error, .. } => out.push(error.clone()),
            KeyResult::AlreadyRevoked { .. } | KeyResult::Pending => {}
        }
    }
    out.extend(report.checklist.iter().map(|c| c.text.clone()));
    out
}

fn assert_no_code_words(what: &str, text: &str) {
    assert_eq!(code_words(text), Vec::<&str>::new(), "{what}: {text}");
}

#[tokio::test]
async fn a_rotation_retires_the_old_key_as_routine_and_an_emergency_reads_as_an_incident() {
    let env = Env::new(fast_config()).await;
    // A Bybit master with a transfer permission deletes itself; OKX has no API for that.
    let wallet = env.add("bybit-master-wallet", None, None);
    let okx = env.add("okx-master-ip-bound", None, None);

    let rotated = rotate(&env, wallet, "bybit-master-wallet", "BCQHOc2FEKdPOKw8Z9").await;
    let retired = rotated.report;
    assert_eq!(retired.kind, JobKind::Rotation);
    assert_eq!(retired.kind.title(), "Rotation report: the old key retired");
    assert_eq!(retired.kind.advice(), None, "a routine rotation asks for no password change");
    assert!(
        matches!(&retired.keys[0].result, KeyResult::Revoked { method: RevokedBy::SelfDelete, proved_at: Some(_) }),
        "{:?}",
        retired.keys[0].result
    );
    assert!(retired.checklist.is_empty(), "nothing left to do on Bybit: {:?}", retired.checklist);

    // An old OKX key cannot be deleted by any API: the checklist says to delete the old one, and
    // that its replacement keeps working; still no incident advice.
    let manual = rotate(&env, okx, "okx-master-ip-bound", "0f3c9a1e-7b2d-4e8f-9a6c-5d4e3f2a1b0c").await.report;
    assert_eq!(manual.kind, JobKind::Rotation);
    let steps: Vec<&str> = manual.checklist.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(steps.len(), 1, "{steps:?}");
    assert!(steps[0].starts_with("Delete the old API key") && steps[0].contains("keeps working"), "{steps:?}");
    assert!(!steps.iter().any(|s| s.contains("password")), "{steps:?}");
    let log = env.store.audit_log(100).unwrap();
    let still_live = log.iter().find(|e| e.key_id == Some(okx) && e.action == "quarantine").unwrap();
    assert!(still_live.detail.starts_with("retired after its rotation: still live on OKX"), "{}", still_live.detail);

    // The emergency button on another key: an incident, with the password advice per exchange.
    let trade = env.add("bybit-master-trade", None, None);
    let sub = env.add("bybit-sub-trade", Some(rotated.key.id), None);
    let (code, now) = env.code();
    let emergency = env.engine.emergency_revoke(&code, Selection::Keys(vec![trade, sub]), now, no_progress()).await;
    let emergency = emergency.unwrap();
    assert_eq!(emergency.kind, JobKind::Revoke);
    assert_eq!(emergency.kind.title(), "Emergency revoke report");
    assert!(emergency.kind.advice().unwrap().contains("Change your exchange account password"));
    assert!(
        emergency.checklist.iter().any(|c| c.text.starts_with("Change your Bybit password")),
        "{:?}",
        emergency.checklist
    );
    let by_master = emergency.keys.iter().find(|k| k.key_id == sub).unwrap();
    assert!(
        matches!(&by_master.result, KeyResult::Revoked { method, .. } if method.describe() == "deleted through master key 'bybit-master-wallet'"),
        "{:?}",
        by_master.result
    );

    for report in [&retired, &manual, &emergency] {
        for text in texts(report) {
            assert_no_code_words("report", &text);
        }
    }
    // The audit log says the same in words: how the key went, and that it was a rotation.
    let log = env.store.audit_log(100).unwrap();
    let retired_entry = log.iter().find(|e| e.key_id == Some(wallet) && e.action == "revoke").unwrap();
    assert_eq!(
        retired_entry.detail,
        "retired after its rotation: revoked on Bybit (the key deleted itself through the API), proved by its own signed call; secret wiped"
    );
    let sub_entry = log.iter().find(|e| e.key_id == Some(sub) && e.action == "revoke").unwrap();
    assert!(sub_entry.detail.contains("deleted through master key 'bybit-master-wallet'"), "{}", sub_entry.detail);
    assert!(!sub_entry.detail.contains("retired"), "an emergency is not a rotation: {}", sub_entry.detail);
    for e in &log {
        assert_no_code_words("audit detail", &e.detail);
        assert_no_code_words("audit action", e.action.label());
    }
}
