//! The revoke engine against exchange-sim: a full run over the three exchanges, idempotent
//! re-runs, one exchange down with 429s and timeouts elsewhere, retry and wipe-anyway, the guard
//! check, a crash (an aborted run) finished by resume, revoked only on proof, keys still live
//! until proved deleted, and a failed journal write that leaves the job for the resume.
#![allow(clippy::unwrap_used)]

use crate::revoke_support;

use std::time::Duration;

use exchange_sim::{Fault, FaultKind};
use latchkey_core::guard::{GuardError, REVOKE_PHRASE};
use latchkey_core::model::{KeyStatus, Permission};
use latchkey_core::revoke::{
    no_progress, KeyResult, PlannedRoute, ProgressEvent, ReportAction, RevokeError, RevokedBy, Selection,
};
use revoke_support::*;

fn revoked_via(result: &KeyResult, via: &str) -> bool {
    let by = match result {
        KeyResult::Revoked { method, proved_at: Some(_) } => method,
        _ => return false,
    };
    match by {
        RevokedBy::SelfDelete => via == "itself",
        RevokedBy::ViaMaster { master_label: Some(label) } => via == label,
        RevokedBy::ViaMaster { master_label: None } | RevokedBy::Api => false,
    }
}

const OKX_SUB: &str = "okx-sub-bot";
const BINANCE_EMAIL: &str = "bot-sub-1@example.com";

#[tokio::test]
async fn revokes_every_key_then_a_second_run_changes_nothing() {
    let env = Env::new(fast_config()).await;
    let okx_master = env.add("okx-master-ip-bound", None, None);
    let okx_sub = env.add(OKX_SUB, Some(okx_master), Some("bot-sub-1"));
    let bybit_master = env.add("bybit-master-wallet", None, None);
    let bybit_sub = env.add("bybit-sub-trade", Some(bybit_master), None);
    let bybit_trade = env.add("bybit-master-trade", None, None);
    let binance_master = env.add("binance-master", None, None);
    let binance_sub = env.add("binance-sub-withdraw", Some(binance_master), Some(BINANCE_EMAIL));

    let plan = env.engine.plan(&Selection::All).unwrap();
    assert_eq!(plan.len(), 7);
    let route = |id| plan.iter().find(|p| p.key_id == id).unwrap().route.clone();
    assert_eq!(route(okx_sub), PlannedRoute::ViaMaster { master_label: "okx-master-ip-bound".into() });
    assert_eq!(route(okx_master), PlannedRoute::LocalOnly);

    let (progress, events) = recorder();
    let (code, now) = env.code();
    let report = env.engine.emergency_revoke(&code, Selection::All, now, progress).await.unwrap();
    let result = |id| report.keys.iter().find(|k| k.key_id == id).unwrap().result.clone();
    assert!(revoked_via(&result(okx_sub), "okx-master-ip-bound"), "{:?}", result(okx_sub));
    assert!(revoked_via(&result(bybit_sub), "bybit-master-wallet"));
    assert!(revoked_via(&result(binance_sub), "binance-master"));
    assert!(revoked_via(&result(bybit_master), "itself"), "after its sub key");
    let manual_keys = [okx_master, bybit_trade, binance_master];
    for manual in manual_keys {
        assert!(matches!(result(manual), KeyResult::Manual { .. }), "{:?}", result(manual));
    }
    let state = env.sim.state();
    for gone in ["okx-sub-bot", "bybit-sub-trade", "bybit-master-wallet", "binance-sub-withdraw"] {
        assert!(!state.has_key(&seed_key(gone).api_key), "{gone} still on the exchange");
    }
    assert!(state.has_key(&seed_key("okx-master-ip-bound").api_key), "no API can delete it");
    for id in [okx_sub, bybit_sub, binance_sub, bybit_master] {
        assert!(!env.secrets.contains(id), "a proved revoke wipes the secret");
        let key = env.store.get_key(id).unwrap().unwrap();
        assert_eq!(key.status, KeyStatus::Revoked);
        assert!(key.revoked_at.is_some(), "the proof's time is stored");
    }
    // Issue 10, item 13: a key no API can revoke still works at the exchange, so it is not
    // "revoked": blocked, with its secret kept for the proof once the user deleted it there.
    for id in manual_keys {
        assert!(env.secrets.contains(id), "still live: the secret is kept");
        assert_eq!(env.status(id), KeyStatus::StillLive);
        assert_eq!(
            report.keys.iter().find(|k| k.key_id == id).unwrap().actions,
            [ReportAction::ConfirmDeleted, ReportAction::WipeAnyway]
        );
    }
    assert_eq!((report.proved(), report.still_live()), (4, 3));
    assert_eq!(report.checklist.iter().filter(|c| c.text.starts_with("Delete the API key")).count(), 3);
    assert!(report.checklist.iter().any(|c| c.text.contains("Change your Binance password")));
    let events = events.lock().unwrap().clone();
    assert_eq!(events.iter().filter(|e| matches!(e, ProgressEvent::Planned { .. })).count(), 7);
    assert_eq!(events.iter().filter(|e| matches!(e, ProgressEvent::Wiped { .. })).count(), 4);
    assert_eq!(events.iter().filter(|e| matches!(e, ProgressEvent::Manual { .. })).count(), 3);
    assert!(env.store.verify_audit_chain().unwrap().intact);
    let revokes = env.store.audit_log(100).unwrap().iter().filter(|e| e.action == "revoke").count();
    assert_eq!(revokes, 4);

    // Twice is safe: nothing left to do, nothing sent.
    let sent = env.sim.state().requests.len();
    let (code, now) = env.code();
    let again = env.engine.emergency_revoke(&code, Selection::All, now, no_progress()).await.unwrap();
    assert!(again.keys.is_empty());
    let (code, now) = env.code();
    let explicit =
        env.engine.emergency_revoke(&code, Selection::Keys(vec![okx_sub]), now, no_progress()).await.unwrap();
    assert!(explicit.keys.is_empty(), "a revoked key is skipped");
    assert_eq!(env.sim.state().requests.len(), sent);
}

/// Issue 10, item 2, as an incident: the user deleted the OKX master on the website, then pressed
/// Emergency revoke. The sub key still trades: it must not be reported revoked nor lose its secret.
#[tokio::test]
async fn a_master_deleted_first_leaves_its_sub_key_quarantined_not_revoked() {
    let env = Env::new(fast_config()).await;
    let master = env.add("okx-master-ip-bound", None, None);
    let sub = env.add(OKX_SUB, Some(master), Some("bot-sub-1"));
    assert!(env.sim.delete_key(&seed_key("okx-master-ip-bound").api_key));
    let (code, now) = env.code();
    let report = env.engine.emergency_revoke(&code, Selection::All, now, no_progress()).await.unwrap();
    let result = |id| report.keys.iter().find(|k| k.key_id == id).unwrap().result.clone();
    let KeyResult::Quarantined { error, kind } = result(sub) else { panic!("{:?}", result(sub)) };
    assert_eq!(kind, "still_live");
    assert!(error.contains("refused the master key") && error.contains("still works"), "{error}");
    assert!(env.secrets.contains(sub), "its secret is kept");
    assert_eq!(env.status(sub), KeyStatus::Quarantined);
    assert!(env.sim.state().has_key(&seed_key(OKX_SUB).api_key));
    assert_eq!(report.proved(), 0);

    // Deleted on the website too; "I deleted it" proves it, then wipes.
    assert!(env.sim.delete_key(&seed_key(OKX_SUB).api_key));
    let (code, now) = env.code();
    let confirmed = env.engine.confirm_deleted(&code, &[sub], now, no_progress()).await.unwrap();
    assert!(
        matches!(confirmed.keys[0].result, KeyResult::AlreadyRevoked { proved_at: Some(_) }),
        "{:?}",
        confirmed.keys
    );
    assert_eq!(env.status(sub), KeyStatus::Revoked);
    assert!(!env.secrets.contains(sub));
}

/// Issue 10, item 13: a key the exchange's API cannot revoke stays "still live" (blocked, secret
/// kept) until the user deletes it on the website and Latchkey proves it with a signed call; "wipe
/// the secret here now" is an explicit choice that keeps the "still live" status.
#[tokio::test]
async fn a_key_no_api_can_revoke_is_still_live_until_proved_deleted() {
    let env = Env::new(fast_config()).await;
    let okx_master = env.add("okx-master-ip-bound", None, None);
    let bybit_trade = env.add("bybit-master-trade", None, None);
    let (code, now) = env.code();
    let report = env.engine.emergency_revoke(&code, Selection::All, now, no_progress()).await.unwrap();
    assert!(report.keys.iter().all(|k| matches!(k.result, KeyResult::Manual { .. })), "{:?}", report.keys);
    for id in [okx_master, bybit_trade] {
        assert_eq!(env.status(id), KeyStatus::StillLive);
        assert!(env.secrets.contains(id));
    }

    // "I deleted it" before it is deleted: the key's own call still works, nothing changes.
    let (code, now) = env.code();
    let early = env.engine.confirm_deleted(&code, &[okx_master], now, no_progress()).await.unwrap();
    let KeyResult::Unconfirmed { error, kind } = early.keys[0].result.clone() else { panic!("{:?}", early.keys) };
    assert_eq!(kind, "still_live");
    assert!(error.contains("still answers"), "{error}");
    assert_eq!(env.status(okx_master), KeyStatus::StillLive);
    assert!(env.secrets.contains(okx_master));
    assert_eq!(early.keys[0].actions, [ReportAction::ConfirmDeleted, ReportAction::WipeAnyway]);

    // Deleted on the website: proved, wiped, revoked with the proof's time.
    assert!(env.sim.delete_key(&seed_key("okx-master-ip-bound").api_key));
    let (code, now) = env.code();
    let done = env.engine.confirm_deleted(&code, &[okx_master], now, no_progress()).await.unwrap();
    assert!(matches!(done.keys[0].result, KeyResult::AlreadyRevoked { proved_at: Some(_) }), "{:?}", done.keys);
    let key = env.store.get_key(okx_master).unwrap().unwrap();
    assert_eq!(key.status, KeyStatus::Revoked);
    assert!(key.revoked_at.is_some());
    assert!(!env.secrets.contains(okx_master));

    // "Wipe the secret here now": wiped, and still live at the exchange.
    let (code, now) = env.code();
    let wiped = env.engine.wipe_anyway(&code, &[bybit_trade], now, no_progress()).await.unwrap();
    assert!(matches!(wiped.keys[0].result, KeyResult::WipedOnly { .. }));
    assert_eq!(env.status(bybit_trade), KeyStatus::StillLiveWiped);
    assert!(!env.secrets.contains(bybit_trade));
    assert!(env.sim.state().has_key(&seed_key("bybit-master-trade").api_key));
    // Without its secret nothing can prove it gone: said plainly, status kept.
    let (code, now) = env.code();
    let unproved = env.engine.confirm_deleted(&code, &[bybit_trade], now, no_progress()).await.unwrap();
    assert!(matches!(&unproved.keys[0].result, KeyResult::Unconfirmed { kind, .. } if kind == "no_secret"));
    assert_eq!(env.status(bybit_trade), KeyStatus::StillLiveWiped);
    assert!(env.store.verify_audit_chain().unwrap().intact);
}

/// Issue 10, item 7: a key whose journal write failed must not be abandoned in a finished job.
/// The store failure is real: a trigger makes SQLite refuse one key's `wiping` write.
#[tokio::test]
async fn a_failed_journal_write_leaves_the_job_unfinished_for_the_resume() {
    let env = Env::new(fast_config()).await;
    let wallet = env.add("bybit-master-wallet", None, None);
    let transfer = env.add("bybit-sub-transfer", None, None);
    let db = rusqlite::Connection::open(env.store.path()).unwrap();
    db.execute_batch(&format!(
        "CREATE TRIGGER inject_failure BEFORE UPDATE OF state ON job_steps
         WHEN NEW.state = 'wiping' AND NEW.key_id = '{wallet}'
         BEGIN SELECT RAISE(ABORT, 'injected store failure'); END;"
    ))
    .unwrap();
    let (progress, events) = recorder();
    let (code, now) = env.code();
    let report = env.engine.emergency_revoke(&code, Selection::All, now, progress).await.unwrap();
    assert!(report.finished_at.is_none(), "the job is not finished");
    assert_eq!(env.engine.unfinished().unwrap(), vec![report.job_id.clone()]);
    let result =
        |r: &latchkey_core::revoke::RevokeReport, id| r.keys.iter().find(|k| k.key_id == id).unwrap().result.clone();
    assert_eq!(result(&report, wallet), KeyResult::Pending);
    assert!(revoked_via(&result(&report, transfer), "itself"), "the other key finished");
    let failed = events.lock().unwrap().iter().any(
        |e| matches!(e, ProgressEvent::Failed { key_id, kind, error } if *key_id == wallet && kind == "storage" && error.contains("Restart Latchkey")),
    );
    assert!(failed, "the user is told");
    assert!(env.secrets.contains(wallet));
    assert_eq!(env.status(wallet), KeyStatus::Active, "not finished, not claimed");

    // The store works again: the resume finishes the key without calling the exchange again.
    db.execute_batch("DROP TRIGGER inject_failure;").unwrap();
    let deletes = env.sim.state().requests_to("/v5/user/delete-api").len();
    let reports = env.engine.resume_unfinished(no_progress()).await.unwrap();
    assert_eq!(reports.len(), 1);
    assert!(reports[0].finished_at.is_some());
    assert!(revoked_via(&result(&reports[0], wallet), "itself"), "{:?}", reports[0].keys);
    assert_eq!(env.sim.state().requests_to("/v5/user/delete-api").len(), deletes, "journaled as done remotely");
    assert_eq!(env.status(wallet), KeyStatus::Revoked);
    assert!(!env.secrets.contains(wallet));
    assert!(env.engine.unfinished().unwrap().is_empty());
}

#[tokio::test]
async fn no_valid_code_no_revoke() {
    let env = Env::new(fast_config()).await;
    let id = env.add("bybit-master-wallet", None, None);
    let (_, now) = env.code();
    let err = env.engine.emergency_revoke("000000", Selection::All, now, no_progress()).await.unwrap_err();
    assert!(matches!(err, RevokeError::Guard(_)), "{err}");
    assert!(err.to_string().contains("Wrong code"), "{err}");
    assert!(env.sim.state().requests.is_empty());
    assert!(env.secrets.contains(id));
    let (code, now) = env.code();
    env.engine.emergency_revoke(&code, Selection::All, now, no_progress()).await.unwrap();
    let err = env.engine.emergency_revoke(&code, Selection::All, now, no_progress()).await.unwrap_err();
    assert!(err.to_string().contains("already used"), "replayed code: {err}");
}

/// Issue 11, item 1: without 2FA, revoking runs after the typed confirmation (and only that), and
/// the audit log says it ran unguarded; retry and wipe take the same phrase.
#[tokio::test]
async fn without_2fa_typing_revoke_revokes_and_is_audited_as_unguarded() {
    let env = Env::without_2fa(fast_config()).await;
    let master = env.add("bybit-master-wallet", None, None);
    let sub = env.add("bybit-sub-trade", Some(master), None);
    let now = *env.now.lock().unwrap();
    for wrong in ["revoke", "REVOKE!", "123456", ""] {
        let err = env.engine.emergency_revoke(wrong, Selection::All, now, no_progress()).await.unwrap_err();
        assert!(matches!(err, RevokeError::Guard(GuardError::PhraseRequired)), "{wrong:?}: {err}");
    }
    assert!(env.sim.state().requests.is_empty(), "nothing sent before the phrase");
    let report =
        env.engine.emergency_revoke(REVOKE_PHRASE, Selection::Keys(vec![sub]), now, no_progress()).await.unwrap();
    assert!(revoked_via(&report.keys[0].result, "bybit-master-wallet"), "{:?}", report.keys);
    assert!(!env.sim.state().has_key(&seed_key("bybit-sub-trade").api_key));
    assert!(!env.secrets.contains(sub));
    let log = env.store.audit_log(100).unwrap();
    let unguarded: Vec<_> = log.iter().filter(|e| e.action == "unguarded").collect();
    assert_eq!(unguarded.len(), 1, "{log:?}");
    assert_eq!(unguarded[0].outcome, "ok");
    assert!(unguarded[0].detail.contains("emergency revoke without 2FA"), "{}", unguarded[0].detail);
    // The follow-ups take the same phrase (a wipe here), audited the same way.
    env.engine.wipe_anyway(REVOKE_PHRASE, &[master], now, no_progress()).await.unwrap();
    let log = env.store.audit_log(100).unwrap();
    assert!(log.iter().any(|e| e.action == "unguarded" && e.detail.contains("wipe locally without 2FA")));
    assert!(env.store.verify_audit_chain().unwrap().intact);
}

/// Issue 11, item 1: once 2FA is set up the typed phrase is no way around the code.
#[tokio::test]
async fn with_2fa_typing_revoke_is_refused_and_changes_nothing() {
    let env = Env::new(fast_config()).await;
    let id = env.add("bybit-master-wallet", None, None);
    let (_, now) = env.code();
    for kind in 0..3 {
        let err = match kind {
            0 => env.engine.emergency_revoke(REVOKE_PHRASE, Selection::All, now, no_progress()).await,
            1 => env.engine.retry(REVOKE_PHRASE, &[id], now, no_progress()).await,
            _ => env.engine.confirm_deleted(REVOKE_PHRASE, &[id], now, no_progress()).await,
        }
        .unwrap_err();
        assert!(matches!(err, RevokeError::Guard(GuardError::PhraseRefused)), "{err}");
    }
    assert!(env.sim.state().requests.is_empty());
    assert!(env.secrets.contains(id));
    assert_eq!(env.status(id), KeyStatus::Active);
    let refused = env.store.audit_log(100).unwrap().into_iter().filter(|e| e.action == "unguarded").collect::<Vec<_>>();
    assert_eq!(refused.len(), 3);
    assert!(refused.iter().all(|e| e.outcome == "failed"), "{refused:?}");
    // A real code still works.
    let (code, now) = env.code();
    env.engine.emergency_revoke(&code, Selection::All, now, no_progress()).await.unwrap();
    assert_eq!(env.status(id), KeyStatus::Revoked);
}

#[tokio::test]
async fn exchange_down_429_and_timeout_then_retry() {
    let env = Env::new(fast_config()).await;
    let okx_master = env.add("okx-master-ip-bound", None, None);
    let okx_sub = env.add(OKX_SUB, Some(okx_master), Some("bot-sub-1"));
    let bybit_master = env.add("bybit-master-wallet", None, None);
    let bybit_sub = env.add("bybit-sub-trade", Some(bybit_master), None);
    let binance_master = env.add("binance-master", None, None);
    let binance_sub = env.add("binance-sub-withdraw", Some(binance_master), Some(BINANCE_EMAIL));
    env.sim.set_fault(Fault::new(FaultKind::ServerError { status: 502 }).on("/sapi/"));
    env.sim.set_fault(Fault::new(FaultKind::RateLimited { retry_after_secs: 1 }).on("/api/v5/users/").times(1));
    env.sim.set_fault(Fault::new(FaultKind::Hang).on("/v5/user/delete-sub-api").times(1));

    let (progress, events) = recorder();
    let (code, now) = env.code();
    let selection = Selection::Keys(vec![okx_sub, bybit_sub, binance_sub]);
    let report = env.engine.emergency_revoke(&code, selection, now, progress).await.unwrap();
    let result = |id| report.keys.iter().find(|k| k.key_id == id).unwrap().clone();
    assert!(matches!(result(okx_sub).result, KeyResult::Revoked { .. }), "429 waited out");
    assert!(matches!(result(bybit_sub).result, KeyResult::Revoked { .. }), "timeout retried");
    let binance = result(binance_sub);
    assert!(matches!(&binance.result, KeyResult::Quarantined { kind, .. } if kind == "exchange_down"), "{binance:?}");
    assert_eq!(binance.actions, [ReportAction::Retry, ReportAction::WipeAnyway, ReportAction::ConfirmDeleted]);
    assert!(env.secrets.contains(binance_sub), "a failed revoke keeps the secret");
    assert_eq!(env.status(binance_sub), KeyStatus::Quarantined);
    assert_eq!(env.sim.state().requests_to("/sapi/v1/sub-account/subAccountApi").len(), 3, "3 attempts");
    let events = events.lock().unwrap().clone();
    let retried =
        |reason: &str| events.iter().any(|e| matches!(e, ProgressEvent::Retrying { reason: r, .. } if r == reason));
    assert!(retried("rate_limited") && retried("timeout") && retried("exchange_down"), "{events:?}");
    assert!(events.iter().any(|e| matches!(e, ProgressEvent::Failed { key_id, .. } if *key_id == binance_sub)));

    env.sim.clear_faults();
    let (code, now) = env.code();
    let retry = env.engine.retry(&code, &[binance_sub, okx_sub], now, no_progress()).await.unwrap();
    assert_eq!(retry.keys.len(), 1, "only quarantined keys are retried");
    assert!(matches!(retry.keys[0].result, KeyResult::Revoked { .. }));
    assert!(!env.secrets.contains(binance_sub));
    assert!(!env.sim.state().has_key(&seed_key("binance-sub-withdraw").api_key));
}

#[tokio::test]
async fn wipe_anyway_removes_the_secret_and_lists_the_key() {
    let env = Env::new(fast_config()).await;
    let master = env.add("binance-master", None, None);
    let sub = env.add("binance-sub-withdraw", Some(master), Some(BINANCE_EMAIL));
    env.sim.set_fault(Fault::new(FaultKind::ServerError { status: 503 }).on("/sapi/"));
    let (code, now) = env.code();
    let report = env.engine.emergency_revoke(&code, Selection::All, now, no_progress()).await.unwrap();
    let master_result = &report.keys.iter().find(|k| k.key_id == master).unwrap().result;
    assert!(
        matches!(master_result, KeyResult::Quarantined { kind, .. } if kind == "held_for_retry"),
        "the master is kept while its sub key can still be retried: {master_result:?}"
    );
    assert!(env.secrets.contains(master) && env.secrets.contains(sub));
    let (code, now) = env.code();
    let wiped = env.engine.wipe_anyway(&code, &[sub, master], now, no_progress()).await.unwrap();
    assert_eq!(wiped.keys.len(), 2);
    assert!(wiped.keys.iter().all(|k| matches!(k.result, KeyResult::WipedOnly { .. })), "{:?}", wiped.keys);
    assert!(env.secrets.is_empty());
    assert!(env.sim.state().has_key(&seed_key("binance-sub-withdraw").api_key), "still live on the exchange");
    assert_eq!(env.status(sub), KeyStatus::StillLiveWiped, "wiped without proof is not revoked");
    assert_eq!(wiped.checklist.iter().filter(|c| c.text.starts_with("Delete the API key")).count(), 2);
}

#[tokio::test]
async fn a_crash_mid_revoke_is_finished_by_resume() {
    let mut config = fast_config();
    config.request_timeout = Duration::from_secs(30);
    let env = Env::new(config).await;
    let okx_master = env.add("okx-master-ip-bound", None, None);
    let okx_sub = env.add(OKX_SUB, Some(okx_master), Some("bot-sub-1"));
    let bybit = env.add("bybit-master-wallet", None, None);
    let binance_master = env.add("binance-master", None, None);
    let binance_sub = env.add("binance-sub-withdraw", Some(binance_master), Some(BINANCE_EMAIL));
    // OKX never answers: the run is "killed" while that request is in flight.
    env.sim.set_fault(Fault::new(FaultKind::Hang).on("/api/v5/users/"));
    let (progress, events) = recorder();
    let (code, now) = env.code();
    let engine = env.engine.clone();
    let selection = Selection::Keys(vec![okx_sub, bybit, binance_sub]);
    let run = tokio::spawn(async move { engine.emergency_revoke(&code, selection, now, progress).await });
    let wiped =
        |id| events.lock().unwrap().iter().any(|e| matches!(e, ProgressEvent::Wiped { key_id } if *key_id == id));
    for _ in 0..200 {
        if wiped(bybit) && wiped(binance_sub) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(wiped(bybit) && wiped(binance_sub));
    run.abort();
    assert!(run.await.unwrap_err().is_cancelled());
    let pending = env.engine.last_report().unwrap().unwrap();
    assert!(pending.finished_at.is_none());
    assert_eq!(pending.keys.iter().find(|k| k.key_id == okx_sub).unwrap().result, KeyResult::Pending);
    assert!(env.secrets.contains(okx_sub), "nothing wiped before the remote step");

    // The in-flight request did reach OKX before the crash: the key is already gone there.
    env.sim.clear_faults();
    let client = latchkey_core::exchange::ExchangeClient::new(
        Default::default(),
        std::sync::Arc::new(latchkey_core::exchange::SystemClock),
    )
    .unwrap();
    let endpoint = latchkey_core::exchange::Endpoint::new(
        latchkey_core::model::Exchange::Okx,
        &latchkey_core::model::Environment::Custom { base_url: env.sim.base_url() },
    )
    .unwrap();
    let (sub_key, master_key) = (seed_key(OKX_SUB), seed_key("okx-master-ip-bound"));
    let sub_creds =
        latchkey_core::secret::Credentials::new(&sub_key.api_key, &sub_key.secret, sub_key.passphrase.as_deref());
    let master_creds = latchkey_core::secret::Credentials::new(
        &master_key.api_key,
        &master_key.secret,
        master_key.passphrase.as_deref(),
    );
    client
        .revoke(&latchkey_core::exchange::RevokeRequest {
            endpoint: &endpoint,
            key: &sub_creds,
            sub_account: Some("bot-sub-1"),
            master: Some(latchkey_core::exchange::MasterKey::unattended(&endpoint, &master_creds)),
            answered_here: false,
        })
        .await
        .unwrap();

    // Restart: a new store connection and engine over the same files and keychain.
    let store = std::sync::Arc::new(latchkey_core::store::Store::open_in(env.dir.path()).unwrap());
    let mut config = fast_config();
    config.max_attempts = 5;
    config.backoff_base = Duration::from_millis(150);
    config.backoff_max = Duration::from_millis(600);
    let restarted = revoke_support::engine(store.clone(), env.secrets.clone(), config);
    let reports = restarted.resume_unfinished(no_progress()).await.unwrap();
    assert_eq!(reports.len(), 1);
    let report = &reports[0];
    assert!(report.finished_at.is_some());
    assert_eq!(report.keys.len(), 3);
    let okx = report.keys.iter().find(|k| k.key_id == okx_sub).unwrap();
    assert!(
        matches!(okx.result, KeyResult::AlreadyRevoked { proved_at: Some(_) }),
        "idempotent after the crash: {:?}",
        okx.result
    );
    assert!(report.keys.iter().all(|k| !matches!(k.result, KeyResult::Pending | KeyResult::Quarantined { .. })));
    for id in [okx_sub, bybit, binance_sub] {
        assert!(!env.secrets.contains(id));
        assert_eq!(store.get_key(id).unwrap().unwrap().status, KeyStatus::Revoked);
    }
    assert!(restarted.resume_unfinished(no_progress()).await.unwrap().is_empty(), "nothing left");
    assert!(store.verify_audit_chain().unwrap().intact);
}

/// A crash after Binance deleted the sub key but before its answer was journaled: the resume asks
/// again and Binance refuses (the key is gone, with a code Binance does not document). That refusal
/// proves nothing, but the sub key's own signed call, refused with -2015 (for a key that answered
/// from this computer before, so not an IP refusal), does: the key is proved
/// revoked, where before it was left quarantined as "may already be deleted". (Found by
/// crates/cli/tests/crash_resume.rs, `remote_answered`.)
#[tokio::test]
async fn a_binance_delete_lost_in_a_crash_is_proved_on_resume() {
    let mut config = fast_config();
    config.request_timeout = Duration::from_secs(30);
    let env = Env::new(config).await;
    let master = env.add("binance-master", None, None);
    let sub = env.add("binance-sub-withdraw", Some(master), Some(BINANCE_EMAIL));
    env.sim.set_fault(Fault::new(FaultKind::Hang).on("/sapi/v1/sub-account/").times(1));
    let (code, now) = env.code();
    let engine = env.engine.clone();
    let run = tokio::spawn(async move { engine.emergency_revoke(&code, Selection::All, now, no_progress()).await });
    // The fault clears itself when the delete request arrives: the call is in flight.
    for _ in 0..250 {
        if env.sim.state().faults.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(env.sim.state().faults.is_empty(), "the delete never reached the simulator");
    run.abort();
    assert!(run.await.unwrap_err().is_cancelled());

    // What the lost request did at Binance: the sub key is deleted.
    let client = latchkey_core::exchange::ExchangeClient::new(
        Default::default(),
        std::sync::Arc::new(latchkey_core::exchange::SystemClock),
    )
    .unwrap();
    let endpoint = latchkey_core::exchange::Endpoint::new(
        latchkey_core::model::Exchange::Binance,
        &latchkey_core::model::Environment::Custom { base_url: env.sim.base_url() },
    )
    .unwrap();
    let (sub_key, master_key) = (seed_key("binance-sub-withdraw"), seed_key("binance-master"));
    let sub_creds = latchkey_core::secret::Credentials::new(&sub_key.api_key, &sub_key.secret, None);
    let master_creds = latchkey_core::secret::Credentials::new(&master_key.api_key, &master_key.secret, None);
    tokio::time::sleep(Duration::from_millis(1100)).await; // Binance: one delete per second per account
    client
        .revoke(&latchkey_core::exchange::RevokeRequest {
            endpoint: &endpoint,
            key: &sub_creds,
            sub_account: Some(BINANCE_EMAIL),
            master: Some(latchkey_core::exchange::MasterKey::unattended(&endpoint, &master_creds)),
            answered_here: false,
        })
        .await
        .unwrap();
    assert!(!env.sim.state().has_key(&sub_key.api_key));

    // Restart and resume.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let store = std::sync::Arc::new(latchkey_core::store::Store::open_in(env.dir.path()).unwrap());
    let restarted = revoke_support::engine(store, env.secrets.clone(), fast_config());
    let reports = restarted.resume_unfinished(no_progress()).await.unwrap();
    let report = &reports[0];
    let result = |id| report.keys.iter().find(|k| k.key_id == id).unwrap().result.clone();
    assert!(matches!(result(sub), KeyResult::AlreadyRevoked { proved_at: Some(_) }), "{:?}", result(sub));
    assert!(!env.secrets.contains(sub), "proved, so wiped");
    // Binance's master deletes no key of its own: still live, kept.
    assert!(matches!(result(master), KeyResult::Manual { .. }), "{:?}", result(master));
    assert!(env.secrets.contains(master));
}

/// The app and the CLI share the journal: a job another process is running looks unfinished, but
/// must not be resumed (twice the calls, twice the audit entries), and no second job may start.
/// Once that process is gone (here: its run aborted, as a crash), the job is resumed.
#[tokio::test]
async fn another_process_neither_resumes_a_running_job_nor_starts_one() {
    let mut config = fast_config();
    config.request_timeout = Duration::from_secs(30);
    let env = Env::new(config).await;
    let master = env.add("okx-master-ip-bound", None, None);
    let sub = env.add(OKX_SUB, Some(master), Some("bot-sub-1"));
    env.sim.set_fault(Fault::new(FaultKind::Hang).on("/api/v5/users/").times(1));
    let (code, now) = env.code();
    let engine = env.engine.clone();
    let run = tokio::spawn(async move { engine.emergency_revoke(&code, Selection::All, now, no_progress()).await });
    for _ in 0..250 {
        if env.sim.state().faults.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(env.sim.state().faults.is_empty(), "the revoke never reached the simulator");

    // Another process: its own connection and engine over the same files.
    let store = std::sync::Arc::new(latchkey_core::store::Store::open_in(env.dir.path()).unwrap());
    let other = revoke_support::engine(store.clone(), env.secrets.clone(), fast_config());
    assert_eq!(other.unfinished().unwrap().len(), 1, "the running job looks unfinished");
    let err = other.resume_unfinished(no_progress()).await.unwrap_err();
    assert!(matches!(err, RevokeError::Busy), "{err}");
    let (code, now) = env.code();
    let err = other.emergency_revoke(&code, Selection::All, now, no_progress()).await.unwrap_err();
    assert!(matches!(err, RevokeError::Busy), "{err}");
    assert!(env.secrets.contains(sub), "nothing done twice");

    run.abort();
    assert!(run.await.unwrap_err().is_cancelled());
    let reports = other.resume_unfinished(no_progress()).await.unwrap();
    assert_eq!(reports.len(), 1);
    let result = |id| reports[0].keys.iter().find(|k| k.key_id == id).unwrap().result.clone();
    assert!(revoked_via(&result(sub), "okx-master-ip-bound"));
    assert!(matches!(result(master), KeyResult::Manual { .. }));
    let finals = store.audit_log(100).unwrap().iter().filter(|e| e.key_id == Some(sub) && e.action == "revoke").count();
    assert_eq!(finals, 1);
}

/// Issue 11, item 3: the key an API can revoke does not wait behind keys that can only be blocked.
/// Fifteen Bybit keys without an API revoke (each still asks Bybit for its permissions, within
/// Bybit's 5 calls/s) and four OKX keys with none (no call at all) are listed before the one Bybit
/// key that can delete itself; every exchange answer takes 100 ms.
#[tokio::test]
async fn the_remote_revoke_starts_before_local_only_keys() {
    use std::sync::{Arc, Mutex};
    use std::time::Instant;

    let env = Env::new(fast_config()).await;
    let mut bybit_local = Vec::new();
    for i in 0..15 {
        let mut key = seed_key("bybit-master-trade");
        key.label = format!("bybit-trade-{i}");
        bybit_local.push(env.add_sim_key(&key, None, None));
    }
    let mut okx_local = Vec::new();
    for i in 0..4 {
        let mut key = seed_key("okx-master-ip-bound");
        key.label = format!("okx-master-{i}");
        okx_local.push(env.add_sim_key(&key, None, None));
    }
    // As the wizard saves it: the permissions Bybit reported (withdraw lets it delete itself).
    let wallet = seed_key("bybit-master-wallet");
    let mut record = record(&wallet, &env.sim.base_url(), None, None);
    record.permissions = vec![Permission::Read, Permission::Withdraw];
    let creds = latchkey_core::secret::Credentials::new(&wallet.api_key, &wallet.secret, None);
    latchkey_core::keychain::SecretStore::put(&*env.secrets, record.id, "test", &creds).unwrap();
    let added = latchkey_core::audit::Event {
        at: chrono::Utc::now(),
        action: latchkey_core::audit::Action::Add,
        key_id: Some(record.id),
        label: Some(&record.label),
        outcome: latchkey_core::audit::Outcome::Ok,
        detail: String::new(),
    };
    env.store.insert_key(&record, &added).unwrap();
    let remote = record.id;
    let plan = env.engine.plan(&Selection::All).unwrap();
    assert_eq!(plan.iter().filter(|p| p.route == PlannedRoute::LocalOnly).count(), 19);
    assert_eq!(plan.iter().find(|p| p.key_id == remote).unwrap().route, PlannedRoute::SelfDelete);
    env.sim.set_fault(Fault::new(FaultKind::Latency { ms: 100 }));

    let start = Instant::now();
    let events: Arc<Mutex<Vec<(Duration, ProgressEvent)>>> = Arc::default();
    let sink = events.clone();
    let progress: latchkey_core::revoke::Progress = Arc::new(move |e| sink.lock().unwrap().push((start.elapsed(), e)));
    let (code, now) = env.code();
    let report = env.engine.emergency_revoke(&code, Selection::All, now, progress).await.unwrap();
    assert!(revoked_via(&report.keys.iter().find(|k| k.key_id == remote).unwrap().result, "itself"));
    assert_eq!(report.still_live(), 19);

    let events = events.lock().unwrap().clone();
    let position = |wanted: &dyn Fn(&ProgressEvent) -> bool| events.iter().position(|(_, e)| wanted(e)).unwrap();
    let started = |id| move |e: &ProgressEvent| matches!(e, ProgressEvent::RemoteStarted { key_id } if *key_id == id);
    let manual = |id| move |e: &ProgressEvent| matches!(e, ProgressEvent::Manual { key_id, .. } if *key_id == id);
    // The remote key's call goes out first, and it is done before any Bybit key is even asked.
    let remote_started = position(&started(remote));
    let remote_done = position(&|e| matches!(e, ProgressEvent::Wiped { key_id } if *key_id == remote));
    for id in &bybit_local {
        assert!(
            position(&started(*id)) > remote_done,
            "a local-only Bybit key was asked before the remote revoke finished"
        );
    }
    let first_call = events.iter().position(|(_, e)| matches!(e, ProgressEvent::RemoteStarted { .. })).unwrap();
    assert_eq!(first_call, remote_started);
    // Keys no API can revoke and nothing needs asking spend no rate limit (OKX allows 1 call/s):
    // all four are blocked at once instead of one a second.
    for id in &okx_local {
        assert!(!events.iter().any(|(_, e)| matches!(e, ProgressEvent::RemoteStarted { key_id } if key_id == id)));
        let (at, _) = &events[position(&manual(*id))];
        assert!(*at < Duration::from_millis(1500), "an OKX key without an API revoke waited {at:?}");
    }
}

/// Issue 12 §2: the revoke dialog's counter is tested on the progress a real run sends. A mixed
/// revoke (a sub key deleted through its master, the master deleting itself, a key no API can
/// revoke, a key whose master is gone so it is quarantined, a master proved gone) is recorded as the
/// shell forwards it, with ids replaced by labels and each key's events in order, into
/// `ui/src/revoke/fixtures/mixed-revoke.json`, which `revoke-dialog.test.ts` feeds to the dialog.
/// `LATCHKEY_BLESS=1` rewrites the file; otherwise this fails when a run would send anything else.
#[tokio::test]
async fn a_mixed_revoke_sends_the_progress_the_ui_is_tested_with() {
    use latchkey_core::revoke::ProgressView;

    let env = Env::new(fast_config()).await;
    let bybit_master = env.add("bybit-master-wallet", None, None);
    let _bybit_sub = env.add("bybit-sub-trade", Some(bybit_master), None);
    let _binance = env.add("binance-master", None, None);
    let okx_master = env.add("okx-master-ip-bound", None, None);
    let _okx_sub = env.add(OKX_SUB, Some(okx_master), Some("bot-sub-1"));
    assert!(env.sim.delete_key(&seed_key("okx-master-ip-bound").api_key), "deleted on the website first");

    let plan = env.engine.plan(&Selection::All).unwrap();
    let (progress, events) = recorder();
    let (code, now) = env.code();
    let report = env.engine.emergency_revoke(&code, Selection::All, now, progress).await.unwrap();
    assert_eq!(report.keys.len(), 5);

    let label = |id| plan.iter().find(|p| p.key_id == id).map(|p| p.label.clone()).unwrap();
    let mut sent: Vec<serde_json::Value> = events
        .lock()
        .unwrap()
        .iter()
        .cloned()
        .map(ProgressView::from)
        .map(|v| {
            let mut json = serde_json::to_value(&v).unwrap();
            json["id"] = serde_json::Value::String(label(v.id));
            json
        })
        .collect();
    // Keys run in parallel: their events interleave differently each run, a key's own never.
    sent.sort_by_key(|e| e["id"].as_str().unwrap().to_owned());
    let plan_json: Vec<_> = plan
        .iter()
        .map(|p| serde_json::json!({"id": p.label, "exchange": p.exchange, "remote": p.route != PlannedRoute::LocalOnly}))
        .collect();
    let fixture =
        serde_json::to_string_pretty(&serde_json::json!({"plan": plan_json, "progress": sent})).unwrap() + "\n";

    let stages = |id: &str| -> Vec<String> {
        sent.iter().filter(|e| e["id"] == id).map(|e| e["stage"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(stages("bybit-sub-trade").last().map(String::as_str), Some("wiped"));
    assert_eq!(stages("binance-master").last().map(String::as_str), Some("manual"));
    assert_eq!(stages(OKX_SUB).last().map(String::as_str), Some("failed"), "{:?}", stages(OKX_SUB));

    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/revoke/fixtures/mixed-revoke.json");
    if std::env::var_os("LATCHKEY_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &fixture).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(committed, fixture, "the UI's fixture is not what a run sends: run with LATCHKEY_BLESS=1 and commit it");
}
