//! Minting a bot key through a master against real SQLite, the in-memory keychain and the
//! simulator over HTTP: the secret goes into the keychain, the new key is verified with its own
//! signed read and linked to its master; each refusal comes before the create; a create that
//! timed out is looked for by its label instead of being sent blindly again.
#![allow(clippy::unwrap_used)]

use crate::revoke_support;

use std::sync::Arc;
use std::time::Duration;

use exchange_sim::{Fault, FaultKind};
use latchkey_core::exchange::{ClientConfig, ExchangeClient, MasterKey, SystemClock};
use latchkey_core::guard::{Guard, GuardConfig, HashCost};
use latchkey_core::mint::{MintError, MintRequest, Minter};
use latchkey_core::model::{Permission, SubKeySettings, SubKeySpec};
use latchkey_core::vault::Vault;
use revoke_support::*;
use secrecy::ExposeSecret;

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

async fn world() -> World {
    world_with(true).await
}

impl World {
    fn minter(&self) -> Minter<'_> {
        Minter::new(&self.vault, &self.guard, &self.client)
    }

    fn request(&self, master: &str, sub_account: &str, label: &str) -> MintRequest {
        MintRequest {
            master: self.env.add(master, None, None),
            sub_account: sub_account.into(),
            label: label.into(),
            permissions: vec![Permission::Read, Permission::Trade],
            ip_whitelist: vec!["127.0.0.1".into()],
            no_ip_whitelist: false,
            rotation_days: Some(30),
            auto_rotate: true,
            expire_days: None,
        }
    }

    fn audit(&self, action: &str) -> Vec<(String, String)> {
        let log = self.env.store.audit_log(200).unwrap();
        log.into_iter().filter(|e| e.action == action).map(|e| (e.outcome.to_string(), e.detail)).collect()
    }
}

async fn mints_on(master: &str, sub_account: &str) {
    let w = world().await;
    let request = w.request(master, sub_account, "grid-bot");
    let (code, now) = w.env.code();
    let minted = w.minter().mint(&request, Some(&code), now).await.unwrap();
    let record = &minted.record;
    assert_eq!(minted.unverified, None, "{master}");
    assert!(record.verified_at.is_some() && record.bots_allowed, "{master}: verified, so bots may use it");
    assert_eq!(record.master_key_id, Some(request.master));
    assert_eq!(record.sub_account.as_deref(), Some(minted.sub_account.id.as_str()));
    assert_eq!(record.rotation_days, 30);
    assert!(record.inspection.as_ref().unwrap().has(Permission::Trade));
    assert_eq!(record.ip_whitelist, vec!["127.0.0.1"]);

    // The secret is in the keychain and works; the exchange has the key.
    let stored = w.vault.credentials(record.id).unwrap();
    assert!(w.env.sim.state().has_key(stored.api_key.expose_secret()), "{master}");
    assert_eq!(stored.passphrase.is_some(), record.exchange.needs_passphrase());
    let endpoint = latchkey_core::exchange::Endpoint::new(record.exchange, &record.environment).unwrap();
    w.client.inspect(&endpoint, &stored).await.unwrap();

    let mint = w.env.store.minted(record.id).unwrap().unwrap();
    assert_eq!(
        (mint.master_key_id, mint.auto_rotate, mint.exchange_label.as_str()),
        (request.master, true, "grid-bot")
    );
    assert!(mint.verified_at.is_some());
    let audits = w.audit("mint");
    assert_eq!(audits.len(), 1, "{audits:?}");
    assert!(audits[0].1.contains("verified with its own signed read"), "{audits:?}");
    assert!(!w.env.store.get_key(request.master).unwrap().unwrap().bots_allowed, "a master is never for bots");
    assert_eq!(w.env.store.sub_key_count(request.master).unwrap(), 1, "the card's 'manages N keys'");
}

#[tokio::test]
async fn an_okx_master_mints_a_verified_key_into_the_keychain() {
    mints_on("okx-master-ip-bound", "botsub2").await;
}

#[tokio::test]
async fn a_bybit_master_mints_a_verified_key_into_the_keychain() {
    mints_on("bybit-master-wallet", "bybitbot02").await;
}

#[tokio::test]
async fn a_binance_master_mints_a_verified_key_into_the_keychain() {
    mints_on("binance-master", "bot-sub-2@example.com").await;
}

#[tokio::test]
async fn a_kucoin_master_mints_a_verified_key_with_a_generated_passphrase() {
    mints_on("kucoin-master", "kcbot02").await;
}

/// KuCoin lets a new key expire by itself after 30, 90, 180 or 360 days: the one chosen goes to
/// KuCoin, and since KuCoin's own read reports no expiry, Latchkey keeps the date it set, through
/// later inspections too, so the rotation falls due before the key dies.
#[tokio::test]
async fn a_kucoin_key_minted_with_a_lifetime_keeps_its_expiry_date() {
    let w = world().await;
    let mut request = w.request("kucoin-master", "kcbot02", "grid-bot");
    request.rotation_days = Some(180);
    request.expire_days = Some(45);
    let err = w.minter().plan(&request, chrono::Utc::now()).unwrap_err();
    assert_eq!(
        (err.kind().as_str(), err.to_string().as_str()),
        ("invalid", "KuCoin lets a new key expire after 30, 90, 180 or 360 days only: choose one of those, or never.")
    );
    request.expire_days = Some(90);
    let (code, now) = w.env.code();
    let minted = w.minter().mint(&request, Some(&code), now).await.unwrap();
    let expires = minted.record.inspection.as_ref().and_then(|i| i.expires_at).expect("an expiry date");
    assert_eq!((expires - now).num_days(), 90);
    let held = w.env.sim.state().keys.into_iter().find(|k| k.label == "grid-bot").unwrap();
    let lifetime = held.expires_at.zip(held.created_at).map(|(end, start)| (end - start).num_days());
    assert_eq!(lifetime, Some(90), "KuCoin was asked for 90 days");
    // Due at the expiry, not after the 180-day policy.
    let due = latchkey_core::rotation::status(&minted.record, &now, 7).unwrap();
    assert_eq!((due.due_at, due.reason), (expires, latchkey_core::rotation::DueReason::ExchangeExpiry));
    // A later inspection (KuCoin's read has no expiry) keeps the date.
    let stored = w.vault.credentials(minted.record.id).unwrap();
    let endpoint = latchkey_core::exchange::Endpoint::new(minted.record.exchange, &minted.record.environment).unwrap();
    let fresh = w.client.inspect(&endpoint, &stored).await.unwrap();
    assert_eq!(fresh.expires_at, None);
    let kept = w.vault.record_inspection(minted.record.id, &fresh, chrono::Utc::now()).unwrap();
    assert_eq!(kept.inspection.and_then(|i| i.expires_at), Some(expires));

    // Elsewhere there is no lifetime to choose.
    let mut okx = w.request("okx-master-ip-bound", "botsub2", "okx-bot");
    okx.expire_days = Some(30);
    let err = w.minter().plan(&okx, chrono::Utc::now()).unwrap_err();
    assert!(err.to_string().starts_with("OKX cannot give a key a lifetime"), "{err}");
}

/// Deribit: the master's own account is the one "sub-account"; the label follows Deribit's name
/// rule on the exchange and stays as typed in Latchkey.
#[tokio::test]
async fn a_deribit_master_mints_a_verified_key_in_its_own_account() {
    let w = world().await;
    let request = w.request("deribit-full", "account", "grid-bot");
    let (code, now) = w.env.code();
    let minted = w.minter().mint(&request, Some(&code), now).await.unwrap();
    assert_eq!(minted.unverified, None);
    assert_eq!(minted.record.label, "grid-bot");
    assert_eq!(minted.mint.exchange_label, "grid_bot");
    assert_eq!(minted.record.ip_whitelist, ["127.0.0.1"]);
    assert!(minted.record.bots_allowed);
    let held = w.env.sim.state().keys.into_iter().find(|k| k.label == "grid_bot").unwrap();
    assert_eq!(held.ips, ["127.0.0.1"]);
}

/// Gate's own read reports no permissions: the create's answer says them.
#[tokio::test]
async fn a_gate_master_mints_a_verified_key_named_by_its_sub_accounts_login() {
    mints_on("gate-master", "gatebot02").await;
}

#[tokio::test]
async fn without_2fa_a_mint_needs_no_code_and_says_so_in_the_audit_log() {
    let w = world_with(false).await;
    let request = w.request("okx-master-ip-bound", "botsub2", "grid-bot");
    w.minter().mint(&request, None, chrono::Utc::now()).await.unwrap();
    assert!(w.audit("mint")[0].1.contains("without 2FA (not set up)"));
}

#[tokio::test]
async fn refusals_come_before_the_create() {
    let w = world().await;
    let mut request = w.request("okx-master-ip-bound", "botsub2", "grid-bot");
    let creates = |w: &World| {
        w.env
            .sim
            .state()
            .requests_to("/api/v5/users/subaccount/apikey")
            .into_iter()
            .filter(|r| r.method == "POST")
            .count()
    };

    let (_, now) = w.env.code();
    let err = w.minter().mint(&request, None, now).await.unwrap_err();
    assert!(matches!(err, MintError::CodeNeeded), "{err}");
    let err = w.minter().mint(&request, Some("000000"), now).await.unwrap_err();
    assert_eq!(err.kind(), "wrong_code", "a wrong code counts: {err}");

    request.ip_whitelist.clear();
    let err = w.minter().mint(&request, None, now).await.unwrap_err();
    assert_eq!(err.kind(), "invalid");
    let text = err.to_string();
    assert!(text.contains("14 days") && text.contains("--no-ip-whitelist"), "{text}");
    assert!(!text.contains("Bybit"), "only the master's exchange's rule: {text}");
    request.no_ip_whitelist = true;
    request.ip_whitelist = vec!["127.0.0.1".into()];
    assert!(matches!(w.minter().mint(&request, None, now).await.unwrap_err(), MintError::IpsAndNoWhitelist));
    request.no_ip_whitelist = false;

    request.permissions.push(Permission::Withdraw);
    assert_eq!(w.minter().mint(&request, None, now).await.unwrap_err().kind(), "not_grantable");
    request.permissions.pop();

    request.sub_account = "nobody".into();
    let (code, now) = w.env.code();
    let err = w.minter().mint(&request, Some(&code), now).await.unwrap_err();
    assert_eq!(err.kind(), "sub_account_not_found", "{err}");
    request.sub_account = "botsub2".into();

    let not_ready = w.request("okx-read-only", "botsub2", "other-bot");
    let (code, now) = w.env.code();
    let err = w.minter().mint(&not_ready, Some(&code), now).await.unwrap_err();
    assert_eq!(err.kind(), "master_not_ready", "{err}");
    assert!(err.to_string().contains("Trade permission"), "{err}");

    // A key with that label already on the exchange, made outside Latchkey.
    let master = seed_key("okx-master-ip-bound");
    let credentials =
        latchkey_core::secret::Credentials::new(&master.api_key, &master.secret, master.passphrase.as_deref());
    let endpoint =
        latchkey_core::exchange::Endpoint::custom_demo(latchkey_core::model::Exchange::Okx, &w.env.sim.base_url())
            .unwrap();
    let endpoint = latchkey_core::exchange::Endpoint { simulated_trading: false, demo: false, ..endpoint };
    let settings = SubKeySettings { permissions: vec![Permission::Read], ip_whitelist: vec!["127.0.0.1".into()] };
    let spec = SubKeySpec { sub_account: "botsub2".into(), label: "grid-bot".into(), settings, expire_days: None };
    w.client.create_sub_key(MasterKey::unattended(&endpoint, &credentials), &spec).await.unwrap();
    let before = creates(&w);
    let (code, now) = w.env.code();
    let err = w.minter().mint(&request, Some(&code), now).await.unwrap_err();
    assert!(matches!(err, MintError::LabelOnExchange { .. }), "{err}");
    assert_eq!(creates(&w), before, "no refusal sent a create");
    assert!(w.env.store.list_keys().unwrap().iter().all(|k| k.label != "grid-bot"));
}

#[tokio::test]
async fn a_create_that_timed_out_is_found_by_its_label_deleted_and_made_once_more() {
    let w = world().await;
    let request = w.request("okx-master-ip-bound", "botsub2", "grid-bot");
    w.env.sim.set_fault(
        Fault::new(FaultKind::Hang).on("/api/v5/users/subaccount/apikey").method("POST").times(1).after_acting(),
    );
    let (code, now) = w.env.code();
    let minted = w.minter().mint(&request, Some(&code), now).await.unwrap();
    assert_eq!(minted.notes.len(), 1);
    assert!(minted.notes[0].contains("the master deleted it"), "{:?}", minted.notes);
    let state = w.env.sim.state();
    let keys = state.sub_keys(&seed_key("okx-master-ip-bound").uid, "botsub2");
    assert_eq!(keys.len(), 1, "one key with the label at the end: the orphan was deleted");
    let stored = w.vault.credentials(minted.record.id).unwrap();
    assert_eq!(keys[0].api_key, stored.api_key.expose_secret().to_string(), "and it is the one in the keychain");
}

#[tokio::test]
async fn a_create_answered_5xx_that_made_nothing_is_sent_once_more() {
    let w = world().await;
    let request = w.request("bybit-master-wallet", "bybitbot02", "grid-bot");
    w.env.sim.set_fault(Fault::new(FaultKind::ServerError { status: 502 }).on("/v5/user/create-sub-api").times(1));
    let (code, now) = w.env.code();
    let minted = w.minter().mint(&request, Some(&code), now).await.unwrap();
    assert!(minted.notes[0].contains("had made no key"), "{:?}", minted.notes);
    let creates = w.env.sim.state().requests_to("/v5/user/create-sub-api").len();
    assert_eq!(creates, 2);
}

#[tokio::test]
async fn a_key_bound_to_other_ips_is_kept_but_not_given_to_bots_until_verified() {
    let w = world().await;
    // Bound to the bot's server only: this computer's signed read is refused (OKX 50110).
    let request = MintRequest {
        ip_whitelist: vec!["203.0.113.7".into()],
        ..w.request("okx-master-ip-bound", "botsub2", "remote-bot")
    };
    let (code, now) = w.env.code();
    let minted = w.minter().mint(&request, Some(&code), now).await.unwrap();
    let why = minted.unverified.clone().expect("not verified from here");
    assert!(why.contains("IP"), "{why}");
    let record = w.env.store.get_key(minted.record.id).unwrap().unwrap();
    assert!(!record.bots_allowed && record.verified_at.is_none(), "kept, but not for bots");
    assert_eq!(record.ip_whitelist, vec!["203.0.113.7"]);
    assert!(w.vault.credentials(record.id).is_ok(), "the secret is kept: the key exists at the exchange");
    assert_eq!(w.env.store.minted(record.id).unwrap().unwrap().verified_at, None);
    assert!(w.audit("mint")[0].1.ends_with("not verified"));
}

#[tokio::test]
async fn an_orphan_whose_delete_was_answered_5xx_is_looked_for_again() {
    let w = world().await;
    let request = w.request("okx-master-ip-bound", "botsub2", "grid-bot");
    w.env.sim.set_fault(
        Fault::new(FaultKind::Hang).on("/api/v5/users/subaccount/apikey").method("POST").times(1).after_acting(),
    );
    let delete = "/api/v5/users/subaccount/delete-apikey";
    w.env.sim.set_fault(Fault::new(FaultKind::ServerError { status: 502 }).on(delete).times(1).after_acting());
    let (code, now) = w.env.code();
    let minted = w.minter().mint(&request, Some(&code), now).await.unwrap();
    assert_eq!(
        w.env.sim.state().requests_to(delete)[0].code,
        "0+fault:serverError",
        "the delete happened, answered 502"
    );
    let keys = w.env.sim.state().sub_keys(&seed_key("okx-master-ip-bound").uid, "botsub2").len();
    assert_eq!(keys, 1, "exactly the minted key is left");
    assert!(minted.unverified.is_none());

    // A delete refused outright leaves the orphan, and the user is told which key to delete.
    let w = world().await;
    let request = w.request("okx-master-ip-bound", "botsub2", "grid-bot");
    w.env.sim.set_fault(
        Fault::new(FaultKind::Hang).on("/api/v5/users/subaccount/apikey").method("POST").times(1).after_acting(),
    );
    w.env.sim.set_fault(Fault::new(FaultKind::RateLimited { retry_after_secs: 60 }).on(delete));
    let (code, now) = w.env.code();
    let err = w.minter().mint(&request, Some(&code), now).await.unwrap_err();
    assert!(matches!(err, MintError::OrphanLeft { .. }), "{err}");
    assert!(err.to_string().contains("Delete it on OKX's website"), "{err}");
    assert!(w.audit("mint").iter().any(|(outcome, _)| outcome == "failed"));
}

#[tokio::test]
async fn a_create_unanswered_twice_is_not_sent_a_third_time() {
    let w = world().await;
    let request = w.request("bybit-master-wallet", "bybitbot02", "grid-bot");
    w.env.sim.set_fault(Fault::new(FaultKind::ServerError { status: 503 }).on("/v5/user/create-sub-api").times(2));
    let (code, now) = w.env.code();
    let err = w.minter().mint(&request, Some(&code), now).await.unwrap_err();
    assert!(matches!(err, MintError::NoAnswerTwice { .. }), "{err}");
    assert!(err.to_string().contains("look there on Bybit's website"), "{err}");
    assert_eq!(w.env.sim.state().requests_to("/v5/user/create-sub-api").len(), 2, "two creates, never a third");
}
