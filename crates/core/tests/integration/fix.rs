//! Fix in place against real SQLite, the in-memory keychain and the simulator over HTTP: a sub key
//! whose master Latchkey holds has a finding, the fix goes through the master's modify endpoints
//! with one code, the key is inspected again and the finding is gone; the simulator holds the new
//! setting. Refusals (no master, nothing to fix, an IP list the exchange refuses, no code) come
//! before anything is written at the exchange.
#![allow(clippy::unwrap_used)]

use crate::revoke_support;

use std::sync::Arc;
use std::time::Duration;

use exchange_sim::{Permission as SimPermission, SimExchange};
use latchkey_core::exchange::{ClientConfig, Endpoint, ExchangeClient, SystemClock};
use latchkey_core::fix::{plan, Confirmation, FixError, FixKind, FixRequest, Fixer};
use latchkey_core::guard::{Guard, GuardConfig, HashCost};
use latchkey_core::model::{KeyId, Permission};
use latchkey_core::risk;
use latchkey_core::vault::Vault;
use revoke_support::*;

struct World {
    env: Env,
    vault: Vault,
    guard: Guard,
    client: ExchangeClient,
}

async fn world_with(enrolled: bool) -> World {
    let env = if enrolled { Env::new(fast_config()).await } else { Env::without_2fa(fast_config()).await };
    let vault = Vault::new(env.store.clone(), env.secrets.clone());
    let guard = Guard::new(
        env.store.clone(),
        env.secrets.clone(),
        GuardConfig { recovery_cost: HashCost::fast_for_tests(), ..Default::default() },
    );
    let config =
        ClientConfig { timeout: Duration::from_secs(1), max_retry_after: Duration::from_secs(2), recv_window_ms: 5000 };
    let client = ExchangeClient::new(config, Arc::new(SystemClock)).unwrap();
    World { env, vault, guard, client }
}

impl World {
    fn fixer(&self) -> Fixer<'_> {
        Fixer::new(&self.vault, &self.guard, &self.client)
    }

    /// The sub key, added under its master and inspected once (as Re-check does), so it has findings.
    async fn sub_key(&self, master: &str, sub: &str, sub_account: &str) -> KeyId {
        let master = self.env.add(master, None, None);
        let id = self.env.add(sub, Some(master), Some(sub_account));
        let record = self.vault.get(id).unwrap();
        let endpoint = Endpoint::new(record.exchange, &record.environment).unwrap();
        let inspection = self.client.inspect(&endpoint, &self.vault.credentials(id).unwrap()).await.unwrap();
        self.vault.record_inspection(id, &inspection, chrono::Utc::now()).unwrap();
        id
    }

    fn codes(&self, id: KeyId) -> Vec<&'static str> {
        let record = self.vault.get(id).unwrap();
        risk::assess(record.inspection.as_ref().unwrap(), chrono::Utc::now()).into_iter().map(|f| f.code).collect()
    }

    fn sim_key(&self, exchange: SimExchange, id: KeyId) -> exchange_sim::SimKey {
        use secrecy::ExposeSecret;
        let api_key = self.vault.credentials(id).unwrap().api_key.expose_secret().to_owned();
        self.env.sim.state().keys.into_iter().find(|k| k.exchange == exchange && k.api_key == api_key).unwrap()
    }

    fn fix_audits(&self) -> Vec<(String, String)> {
        let log = self.env.store.audit_log(200).unwrap();
        log.into_iter().filter(|e| e.action == "fix").map(|e| (e.outcome.to_string(), e.detail)).collect()
    }

    async fn fix(&self, id: KeyId, request: FixRequest) -> latchkey_core::fix::Fixed {
        let (code, now) = self.env.code();
        self.fixer().apply(id, &request, Some(&code), now).await.unwrap()
    }
}

#[tokio::test]
async fn okx_binds_a_trading_sub_key_to_ips_and_the_finding_is_gone() {
    let w = world_with(true).await;
    let id = w.sub_key("okx-master-ip-bound", "okx-sub-bot", "bot-sub-1").await;
    assert_eq!(w.codes(id), vec!["trade_without_ip_whitelist"]);
    let record = w.vault.get(id).unwrap();
    let fixes = plan(&record, &risk::assess(record.inspection.as_ref().unwrap(), chrono::Utc::now()));
    assert_eq!(fixes[0].fixes, vec![FixKind::BindIps, FixKind::ReadOnly]);

    let fixed = w.fix(id, FixRequest::BindIps(vec!["127.0.0.1".into(), " 203.0.113.7".into()])).await;
    assert_eq!(fixed.gone, vec!["trade_without_ip_whitelist"]);
    assert!(fixed.still_there.is_empty(), "{:?}", fixed.still_there);
    assert_eq!(fixed.confirmed_by, Confirmation::OwnRead, "127.0.0.1 is this machine: its own read answers");
    assert!(w.codes(id).is_empty(), "{:?}", w.codes(id));
    let mut ips = w.sim_key(SimExchange::Okx, id).ips;
    ips.sort();
    assert_eq!(ips, vec!["127.0.0.1", "203.0.113.7"], "the simulator holds the new whitelist");
    assert!(w.sim_key(SimExchange::Okx, id).permissions.contains(&SimPermission::Trade), "trade kept");
    assert_eq!(fixed.record.ip_whitelist.len(), 2, "the stored whitelist follows");
    let audits = w.fix_audits();
    assert_eq!(audits.len(), 1, "{audits:?}");
    assert_eq!(audits[0].0, "ok");
    assert!(audits[0].1.contains("confirmed by the key's own signed read"), "{audits:?}");
    assert!(!audits[0].1.contains("without 2FA"), "{audits:?}");
}

/// KuCoin's modify takes the sub key's own passphrase, which Latchkey holds; its own read masks the
/// IPs, so the stored whitelist comes from the master's listing.
#[tokio::test]
async fn kucoin_binds_a_trading_sub_key_to_ips_with_the_keys_own_passphrase() {
    let w = world_with(true).await;
    let id = w.sub_key("kucoin-master", "kucoin-sub-bot", "kcbot01").await;
    assert_eq!(w.codes(id), vec!["trade_without_ip_whitelist"]);
    let fixed = w.fix(id, FixRequest::BindIps(vec!["127.0.0.1".into(), "203.0.113.7".into()])).await;
    assert_eq!(fixed.gone, vec!["trade_without_ip_whitelist"]);
    assert_eq!(fixed.confirmed_by, Confirmation::OwnRead);
    let mut ips = w.sim_key(SimExchange::Kucoin, id).ips;
    ips.sort();
    assert_eq!(ips, vec!["127.0.0.1", "203.0.113.7"]);
    assert_eq!(fixed.record.ip_whitelist.len(), 2, "from the listing: the key's own read masks them");
    assert!(w.codes(id).is_empty(), "{:?}", w.codes(id));

    tokio::time::sleep(Duration::from_millis(1100)).await;
    let read_only = w.fix(id, FixRequest::ReadOnly).await;
    assert_eq!(w.sim_key(SimExchange::Kucoin, id).permissions, vec![SimPermission::Read]);
    assert_eq!(read_only.record.permissions, vec![Permission::Read]);
    let modifies =
        w.env.sim.state().requests_to("/api/v1/sub/api-key/update").iter().map(|r| r.code.clone()).collect::<Vec<_>>();
    assert_eq!(modifies, ["200000", "200000"]);
}

/// Gate: the PUT always carries the whole whitelist; the key's own read reports no permissions, so
/// the stored ones come from the master's listing.
#[tokio::test]
async fn gate_binds_a_sub_key_to_ips_and_takes_its_permissions_from_the_listing() {
    let w = world_with(true).await;
    let id = w.sub_key("gate-master", "gate-sub-bot", "10002").await;
    assert_eq!(w.codes(id), vec!["trade_without_ip_whitelist", "permissions_unreported"]);
    let fixed = w.fix(id, FixRequest::BindIps(vec!["127.0.0.1".into()])).await;
    assert_eq!(fixed.gone, vec!["trade_without_ip_whitelist"]);
    assert_eq!(fixed.confirmed_by, Confirmation::OwnRead);
    assert_eq!(w.sim_key(SimExchange::Gate, id).ips, vec!["127.0.0.1"]);
    assert_eq!(fixed.record.permissions, vec![Permission::Read, Permission::Trade], "from the listing");
    assert_eq!(w.codes(id), vec!["permissions_unreported"], "never 'read-only and bound'");

    tokio::time::sleep(Duration::from_millis(300)).await;
    let read_only = w.fix(id, FixRequest::ReadOnly).await;
    assert_eq!(w.sim_key(SimExchange::Gate, id).ips, vec!["127.0.0.1"], "the whitelist was sent again, so kept");
    assert_eq!(read_only.record.permissions, vec![Permission::Read]);
    // A re-check (the key's own read, which says nothing of permissions) keeps the listing's.
    let record = w.vault.get(id).unwrap();
    let endpoint = Endpoint::new(record.exchange, &record.environment).unwrap();
    let inspection = w.client.inspect(&endpoint, &w.vault.credentials(id).unwrap()).await.unwrap();
    assert_eq!(
        w.vault.record_inspection(id, &inspection, chrono::Utc::now()).unwrap().permissions,
        vec![Permission::Read]
    );
}

#[tokio::test]
async fn bybit_drops_transfer_then_binds_to_a_bots_ip_confirmed_by_the_masters_listing() {
    let w = world_with(true).await;
    let id = w.sub_key("bybit-master-wallet", "bybit-sub-transfer", "1449001").await;
    assert_eq!(w.codes(id), vec!["trade_without_ip_whitelist"]);
    let verified_before = w.vault.get(id).unwrap().verified_at;

    let dropped = w.fix(id, FixRequest::DropWithdraw).await;
    let sim = w.sim_key(SimExchange::Bybit, id);
    assert!(!sim.permissions.contains(&SimPermission::Transfer), "{:?}", sim.permissions);
    assert!(sim.permissions.contains(&SimPermission::Trade), "trade kept");
    assert!(sim.ips.is_empty(), "the whole setting is sent: the (empty) IP list is kept as it was");
    assert_eq!(dropped.dropped, vec![Permission::Transfer]);
    assert!(!dropped.record.permissions.contains(&Permission::Transfer));

    // Bound to the bot's address only: the key's own read from here is refused, so the listing says.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let fixed = w.fix(id, FixRequest::BindIps(vec!["203.0.113.7".into()])).await;
    assert_eq!(fixed.confirmed_by, Confirmation::MasterListing);
    assert!(fixed.own_read_failed.is_some());
    assert_eq!(fixed.gone, vec!["trade_without_ip_whitelist"]);
    assert_eq!(w.sim_key(SimExchange::Bybit, id).ips, vec!["203.0.113.7"]);
    assert_eq!(fixed.record.ip_whitelist, vec!["203.0.113.7"]);
    assert!(w.codes(id).is_empty(), "{:?}", w.codes(id));
    assert_eq!(fixed.record.verified_at, dropped.record.verified_at, "not verified by the listing alone");
    assert_ne!(dropped.record.verified_at, verified_before, "the own read after the first fix verified it");
    assert!(w.fix_audits()[0].1.contains("confirmed by the master's listing"), "{:?}", w.fix_audits());
}

#[tokio::test]
async fn binding_ips_on_a_key_with_withdraw_removes_withdraw_too_and_says_so() {
    let w = world_with(true).await;
    let id = w.sub_key("binance-master", "binance-sub-withdraw", "bot-sub-1@example.com").await;
    let fixed = w.fix(id, FixRequest::BindIps(vec!["127.0.0.1".into()])).await;
    assert_eq!(fixed.dropped, vec![Permission::Withdraw]);
    assert_eq!(fixed.gone, vec!["trade_without_ip_whitelist"]);
    assert!(w.codes(id).is_empty(), "withdraw went too: {:?}", w.codes(id));
    assert!(w.fix_audits()[0].1.contains("also removed withdraw"), "{:?}", w.fix_audits());
}

#[tokio::test]
async fn binance_drops_withdraw_then_binds_ips_read_back_from_the_listing() {
    let w = world_with(true).await;
    let id = w.sub_key("binance-master", "binance-sub-withdraw", "bot-sub-1@example.com").await;
    assert_eq!(w.codes(id), vec!["withdraw_enabled", "trade_without_ip_whitelist"]);

    let fixed = w.fix(id, FixRequest::DropWithdraw).await;
    assert_eq!(fixed.gone, vec!["withdraw_enabled"]);
    assert_eq!(w.codes(id), vec!["trade_without_ip_whitelist"]);
    let sim = w.sim_key(SimExchange::Binance, id);
    assert!(!sim.permissions.contains(&SimPermission::Withdraw), "{:?}", sim.permissions);

    tokio::time::sleep(Duration::from_millis(1100)).await;
    let bound = w.fix(id, FixRequest::BindIps(vec!["127.0.0.1".into()])).await;
    assert_eq!(bound.confirmed_by, Confirmation::OwnRead);
    assert!(w.codes(id).is_empty(), "{:?}", w.codes(id));
    assert_eq!(w.sim_key(SimExchange::Binance, id).ips, vec!["127.0.0.1"]);
    // Binance's own read says only "restricted"; the stored list comes from the master's listing.
    assert_eq!(bound.record.ip_whitelist, vec!["127.0.0.1"]);
}

#[tokio::test]
async fn read_only_ends_both_findings() {
    let w = world_with(true).await;
    let id = w.sub_key("binance-master", "binance-sub-withdraw", "bot-sub-1@example.com").await;
    let fixed = w.fix(id, FixRequest::ReadOnly).await;
    assert_eq!(fixed.gone, vec!["withdraw_enabled", "trade_without_ip_whitelist"]);
    assert!(w.codes(id).is_empty());
    assert_eq!(w.sim_key(SimExchange::Binance, id).permissions, vec![SimPermission::Read]);
}

#[tokio::test]
async fn without_2fa_a_fix_needs_no_code_and_says_so_in_the_audit_log() {
    let w = world_with(false).await;
    let id = w.sub_key("okx-master-ip-bound", "okx-sub-bot", "bot-sub-1").await;
    let fixed = w.fixer().apply(id, &FixRequest::ReadOnly, None, chrono::Utc::now()).await.unwrap();
    assert!(fixed.unguarded);
    assert!(w.fix_audits()[0].1.contains("without 2FA (not set up)"), "{:?}", w.fix_audits());
}

#[tokio::test]
async fn refusals_come_before_the_modify_and_a_wrong_code_counts() {
    let w = world_with(true).await;
    let id = w.sub_key("okx-master-ip-bound", "okx-sub-bot", "bot-sub-1").await;
    let modifies = |w: &World| w.env.sim.state().requests_to("/api/v5/users/subaccount/modify-apikey").len();
    let (code, now) = w.env.code();

    // A key without its master in Latchkey.
    let alone = w.env.add("okx-withdraw", None, None);
    let err = w.fixer().apply(alone, &FixRequest::DropWithdraw, Some(&code), now).await.unwrap_err();
    assert_eq!(err.kind(), "not_fixable", "{err}");
    assert!(err.to_string().contains("holds no master key"), "{err}");

    // IPs the exchange refuses, before any code.
    let many: Vec<String> = (1..=21).map(|i| format!("10.0.0.{i}")).collect();
    let err = w.fixer().prepare(id, &FixRequest::BindIps(many), now).unwrap_err();
    assert_eq!(err.kind(), "ip_list_refused", "{err}");
    let err = w.fixer().prepare(id, &FixRequest::BindIps(vec!["my-vps".into()]), now).unwrap_err();
    assert!(err.to_string().contains("'my-vps' is not an IP address"), "{err}");
    assert!(matches!(w.fixer().prepare(id, &FixRequest::BindIps(vec![]), now), Err(FixError::NoIps)));

    // Nothing to remove: the key has no withdraw or transfer.
    let err = w.fixer().apply(id, &FixRequest::DropWithdraw, Some(&code), now).await.unwrap_err();
    assert!(matches!(err, FixError::NothingToFix { .. }), "{err}");

    // No code, then a wrong one: refused, and the wrong one is a counted try.
    let err = w.fixer().apply(id, &FixRequest::ReadOnly, None, now).await.unwrap_err();
    assert!(matches!(err, FixError::CodeNeeded), "{err}");
    let failures_before = w.guard.status(now).unwrap().failures;
    let err = w.fixer().apply(id, &FixRequest::ReadOnly, Some("000000"), now).await.unwrap_err();
    assert_eq!(err.kind(), "wrong_code", "{err}");
    assert_eq!(w.guard.status(now).unwrap().failures, failures_before + 1);

    assert_eq!(modifies(&w), 0, "nothing was changed at the exchange");
    assert_eq!(w.codes(id), vec!["trade_without_ip_whitelist"]);
    assert!(w.fix_audits().is_empty());
}

#[tokio::test]
async fn a_modify_the_exchange_refuses_is_audited_and_changes_nothing_here() {
    use exchange_sim::{Fault, FaultKind};
    let w = world_with(true).await;
    let id = w.sub_key("okx-master-ip-bound", "okx-sub-bot", "bot-sub-1").await;
    w.env
        .sim
        .set_fault(Fault::new(FaultKind::ServerError { status: 502 }).on("/api/v5/users/subaccount/modify-apikey"));
    let (code, now) = w.env.code();
    let err = w.fixer().apply(id, &FixRequest::ReadOnly, Some(&code), now).await.unwrap_err();
    assert!(matches!(err, FixError::Exchange(_)), "{err}");
    let audits = w.fix_audits();
    assert_eq!(audits.len(), 1);
    assert_eq!(audits[0].0, "failed");
    assert_eq!(w.codes(id), vec!["trade_without_ip_whitelist"]);
}
