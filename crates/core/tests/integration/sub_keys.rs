//! A master key managing its sub-accounts' keys through the real client and the simulator over
//! HTTP: list sub-accounts, create (the secret, and OKX's generated passphrase, work for the new
//! key's own signed read), list, modify (the whole setting; Binance's IP list read back and
//! trimmed), delete; each documented refusal as a typed error; a create that timed out found
//! again by its label.

use std::time::Duration;

use exchange_sim::{Fault, FaultKind, SimHandle};
use latchkey_core::exchange::{ClientConfig, Endpoint, ExchangeClient, MasterKey};
use latchkey_core::model::{Exchange, Permission, SubKeySettings, SubKeySpec};
use latchkey_core::secret::Credentials;
use secrecy::ExposeSecret;

use crate::exchange_support::{client, client_with, creds, endpoint, exchange, seed_key, sim, variant};

fn settings(trade: bool, ips: &[&str]) -> SubKeySettings {
    let mut permissions = vec![Permission::Read];
    if trade {
        permissions.push(Permission::Trade);
    }
    SubKeySettings { permissions, ip_whitelist: ips.iter().map(|ip| (*ip).to_owned()).collect() }
}

struct Master {
    endpoint: Endpoint,
    credentials: Credentials,
}

impl Master {
    fn of(sim: &SimHandle, label: &str) -> Master {
        let key = seed_key(label);
        Master { endpoint: endpoint(sim, exchange(&key)), credentials: creds(&key) }
    }

    fn key(&self) -> MasterKey<'_> {
        MasterKey::unattended(&self.endpoint, &self.credentials)
    }
}

/// The whole round for one exchange: returns nothing, asserts everything.
async fn full_round(master_label: &str, sub_account: &str, expected_subs: &[&str]) {
    let sim = sim().await;
    let client = client();
    let master = Master::of(&sim, master_label);
    let exchange = master.endpoint.exchange;

    let accounts = client.list_sub_accounts(master.key()).await.unwrap();
    let names: Vec<&str> = accounts.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, expected_subs, "{exchange}");
    let account = client.find_sub_account(master.key(), sub_account).await.unwrap();

    let spec = SubKeySpec {
        sub_account: account.id.clone(),
        label: "grid-bot".into(),
        settings: settings(true, &["127.0.0.1"]),
        expire_days: None,
    };
    let created = client.create_sub_key(master.key(), &spec).await.unwrap();
    assert_eq!(created.credentials.passphrase.is_some(), exchange.needs_passphrase(), "{exchange}");
    assert!(!format!("{created:?}").contains(created.credentials.api_secret.expose_secret()), "Debug redacts");

    // The new key's own signed read, with the credentials the create returned.
    let inspection = client.inspect(&master.endpoint, &created.credentials).await.unwrap();
    assert!(inspection.has(Permission::Trade) && !inspection.has(Permission::Withdraw), "{exchange}: {inspection:?}");
    assert!(inspection.ip_restricted, "{exchange}");

    let listed = client.find_sub_key_by_label(master.key(), &account.id, "grid-bot").await.unwrap().expect("listed");
    assert_eq!(listed.api_key.expose_secret(), created.credentials.api_key.expose_secret());
    assert_eq!(listed.ip_whitelist, vec!["127.0.0.1"]);

    // The whole setting, replaced: read-only, two IPs.
    let changed = client
        .modify_sub_key(
            master.key(),
            &account.id,
            &created.credentials.api_key,
            created.credentials.passphrase.as_ref(),
            &settings(false, &["10.0.0.7", "127.0.0.1"]),
        )
        .await
        .unwrap();
    let mut ips = changed.ip_whitelist.clone();
    ips.sort();
    assert_eq!(ips, vec!["10.0.0.7", "127.0.0.1"], "{exchange}");
    assert_eq!(changed.permissions, vec![Permission::Read], "{exchange}");
    let again = client.inspect(&master.endpoint, &created.credentials).await.unwrap();
    assert!(again.is_read_only(), "{exchange}: {again:?}");

    // And back to one IP: on Binance the simulator adds to the list, so the client removes the rest.
    // (A second write within the documented 1 request/s is refused, so wait.)
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let trimmed = client
        .modify_sub_key(
            master.key(),
            &account.id,
            &created.credentials.api_key,
            created.credentials.passphrase.as_ref(),
            &settings(true, &["127.0.0.1"]),
        )
        .await
        .unwrap();
    assert_eq!(trimmed.ip_whitelist, vec!["127.0.0.1"], "{exchange}");

    tokio::time::sleep(Duration::from_millis(1100)).await;
    client
        .delete_sub_key(
            master.key(),
            &account.id,
            &created.credentials.api_key,
            created.credentials.passphrase.as_ref(),
        )
        .await
        .unwrap();
    assert!(!sim.state().has_key(created.credentials.api_key.expose_secret()), "{exchange}");
}

#[tokio::test]
async fn okx_master_lists_creates_modifies_and_deletes_sub_keys() {
    full_round("okx-master-ip-bound", "botsub2", &["bot-sub-1", "botsub2"]).await;
}

#[tokio::test]
async fn bybit_master_lists_creates_modifies_and_deletes_sub_keys() {
    // By username; the calls name it by its UID.
    full_round("bybit-master-wallet", "bybitbot02", &["bybitbot01", "bybitbot02"]).await;
}

#[tokio::test]
async fn binance_master_lists_creates_modifies_and_deletes_sub_keys() {
    full_round("binance-master", "bot-sub-2@example.com", &["bot-sub-1@example.com", "bot-sub-2@example.com"]).await;
}

fn spec(sub_account: &str, settings: SubKeySettings) -> SubKeySpec {
    SubKeySpec { sub_account: sub_account.into(), label: "bot".into(), settings, expire_days: None }
}

#[tokio::test]
async fn a_master_without_the_prerequisites_is_refused_with_a_typed_error() {
    let sim = sim().await;
    let client = client();
    let unbound = variant("okx-master-ip-bound", "6a3c1f0e-7d1b-4c55-9f3e-2b8d4e6f1a09", |k| k.ips.clear());
    sim.add_key(unbound.clone());
    let cases = [
        (
            Master { endpoint: endpoint(&sim, Exchange::Okx), credentials: creds(&unbound) },
            "botsub2",
            "ip_binding_required",
        ),
        (Master::of(&sim, "okx-read-only"), "botsub2", "permission_denied"),
        (Master::of(&sim, "bybit-master-trade"), "1449002", "permission_denied"),
        (Master::of(&sim, "binance-read-only"), "bot-sub-2@example.com", "key_ip_or_permission"),
    ];
    for (master, sub, kind) in cases {
        let err = client.create_sub_key(master.key(), &spec(sub, settings(true, &["127.0.0.1"]))).await.unwrap_err();
        assert_eq!(err.kind(), kind, "{}: {err}", master.endpoint.exchange);
    }
    let err = client.list_sub_accounts(Master::of(&sim, "okx-sub-bot").key()).await.unwrap_err();
    assert_eq!(err.kind(), "permission_denied", "a sub-account key lists no sub-accounts: {err}");
}

#[tokio::test]
async fn too_many_ips_and_withdraw_are_refused_before_anything_is_sent() {
    let sim = sim().await;
    let client = client();
    let master = Master::of(&sim, "okx-master-ip-bound");
    let many: Vec<String> = (1..=21).map(|i| format!("10.0.0.{i}")).collect();
    let too_many = SubKeySettings { permissions: vec![Permission::Read], ip_whitelist: many };
    let err = client.create_sub_key(master.key(), &spec("botsub2", too_many)).await.unwrap_err();
    assert_eq!(err.kind(), "ip_list_refused");
    assert!(err.to_string().contains("at most 20 IP addresses"), "{err}");
    let withdraw = SubKeySettings { permissions: vec![Permission::Read, Permission::Withdraw], ip_whitelist: vec![] };
    let err = client.create_sub_key(master.key(), &spec("botsub2", withdraw)).await.unwrap_err();
    assert_eq!(err.kind(), "not_grantable", "{err}");
    assert!(sim.state().requests.is_empty(), "nothing reached the exchange");
}

#[tokio::test]
async fn an_unknown_sub_account_is_named_with_the_ones_that_exist() {
    let sim = sim().await;
    let client = client();
    for (master, named) in
        [("okx-master-ip-bound", "nobody"), ("bybit-master-wallet", "999"), ("binance-master", "x@example.com")]
    {
        let master = Master::of(&sim, master);
        let err = client.find_sub_account(master.key(), named).await.unwrap_err();
        assert_eq!(err.kind(), "sub_account_not_found", "{err}");
        assert!(err.to_string().contains(&format!("no sub-account '{named}'")), "{err}");
    }
    let okx = Master::of(&sim, "okx-master-ip-bound");
    let err = client.find_sub_account(okx.key(), "nobody").await.unwrap_err();
    assert!(err.to_string().contains("(it lists: bot-sub-1, botsub2)"), "{err}");
}

#[tokio::test]
async fn the_create_rate_limit_comes_back_as_rate_limited() {
    let sim = sim().await;
    let client = client();
    let master = Master::of(&sim, "bybit-master-wallet");
    let good = spec("1449002", settings(true, &["127.0.0.1"]));
    client.create_sub_key(master.key(), &good).await.unwrap();
    let err = client.create_sub_key(master.key(), &good).await.unwrap_err();
    assert_eq!(err.kind(), "rate_limited", "create-sub-api allows 1/s: {err}");
    let okx = Master::of(&sim, "okx-master-ip-bound");
    client.create_sub_key(okx.key(), &spec("botsub2", settings(true, &["127.0.0.1"]))).await.unwrap();
    let err = client.create_sub_key(okx.key(), &spec("botsub2", settings(true, &["127.0.0.1"]))).await.unwrap_err();
    assert_eq!(err.kind(), "rate_limited", "{err}");
}

#[tokio::test]
async fn a_create_that_timed_out_is_found_again_by_its_label() {
    let sim = sim().await;
    let client: ExchangeClient = client_with(
        ClientConfig { timeout: Duration::from_secs(1), max_retry_after: Duration::ZERO, recv_window_ms: 5000 },
        chrono::Duration::zero(),
    );
    let master = Master::of(&sim, "okx-master-ip-bound");
    sim.set_fault(Fault::new(FaultKind::Hang).on("/api/v5/users/subaccount/apikey").times(1).after_acting());
    let err = client.create_sub_key(master.key(), &spec("botsub2", settings(true, &["127.0.0.1"]))).await.unwrap_err();
    assert_eq!(err.kind(), "timeout", "{err}");
    let found = client.find_sub_key_by_label(master.key(), "botsub2", "bot").await.unwrap().expect("the key was made");
    assert!(sim.state().has_key(found.api_key.expose_secret()));
    assert_eq!(client.find_sub_key_by_label(master.key(), "botsub2", "other").await.unwrap().map(|k| k.label), None);
}

#[tokio::test]
async fn a_bybit_sub_account_with_more_keys_than_a_page_is_listed_whole() {
    let sim = sim().await;
    let client = client();
    let master = Master::of(&sim, "bybit-master-wallet");
    for i in 0..45 {
        let mut key = seed_key("bybit-sub-trade");
        key.api_key = format!("PAGEDKEY{i:010}");
        key.label = format!("bot-{i}");
        key.uid = "1449002".into();
        sim.add_key(key);
    }
    let keys = client.list_sub_keys(master.key(), "1449002").await.unwrap();
    assert_eq!(keys.len(), 45, "three pages of at most 20");
    let found = client.find_sub_key_by_label(master.key(), "1449002", "bot-44").await.unwrap();
    assert_eq!(found.map(|k| k.label), Some("bot-44".to_owned()));
    assert_eq!(sim.state().requests_to("/v5/user/sub-apikeys").len(), 6);
}
