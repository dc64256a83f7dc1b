//! What the exchanges' trading endpoints share in the simulator: the orders, cancels, withdrawals
//! and transfers each accepted, as the state snapshot shows them (no secrets), and the open orders
//! a cancel looks for. Every exchange module checks its own parameters and answers in its own
//! shapes; this only keeps the books.
//!
//! Orders belong to the account (the key's uid), not to the key: a key made by a rotation cancels
//! the orders its predecessor placed, as on the exchanges.

use std::collections::{HashMap, VecDeque};

use serde::Serialize;

use crate::seed::{SimExchange, SimKey};

/// How many orders, cancels, withdrawals, transfers and open orders the simulator keeps: the
/// oldest go first, so a long load run stays in bounded memory (the totals still count them all).
pub(crate) const BOOK_CAP: usize = 100_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum OrderKind {
    Order,
    Cancel,
}

/// An accepted order, or an accepted cancel (with the cancelled order's details).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SimOrder {
    pub exchange: SimExchange,
    /// The key that sent it.
    pub api_key: String,
    pub kind: OrderKind,
    pub order_id: String,
    /// As the exchange names the instrument (`BTC-USDT`, `BTCUSDT`).
    pub symbol: String,
    /// Bybit's `category`, OKX's `tdMode`; empty where the exchange has neither.
    pub market: String,
    /// As sent (`buy`, `Buy`, `BUY`).
    pub side: String,
    pub qty: String,
    pub price: Option<String>,
    pub reduce_only: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum FundsKind {
    Withdrawal,
    Transfer,
}

/// An accepted withdrawal or transfer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SimWithdrawal {
    pub exchange: SimExchange,
    pub api_key: String,
    pub kind: FundsKind,
    /// The exchange's id for it (`wdId`, `id`, `transId`, `transferId`).
    pub id: String,
    pub coin: String,
    pub amount: String,
    /// The address for a withdrawal, the receiving account for a transfer.
    pub to: String,
}

/// One coin every simulated account holds.
pub(crate) struct Holding {
    pub coin: &'static str,
    pub amount: &'static str,
    /// Its value in USD (BTC at 65,000).
    pub usd: &'static str,
}

/// What every account holds, on every exchange: plausible fixed numbers, so balance answers have
/// the documented shapes and something to parse. Orders never fill and withdrawals never deduct:
/// the simulator checks requests, it keeps no ledger.
pub(crate) const HOLDINGS: [Holding; 2] =
    [Holding { coin: "USDT", amount: "10000", usd: "10000" }, Holding { coin: "BTC", amount: "0.5", usd: "32500" }];
/// The sum of the holdings' `usd`.
pub(crate) const HOLDINGS_USD: &str = "42500";

/// A positive decimal as the exchanges take amounts and prices: digits with at most one point.
pub(crate) fn is_amount(text: &str) -> bool {
    let mut parts = text.splitn(2, '.');
    let whole = parts.next().unwrap_or_default();
    let fraction = parts.next();
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    !text.is_empty()
        && digits(whole)
        && fraction.is_none_or(|f| !f.is_empty() && digits(f))
        && !whole.is_empty()
        && text.chars().any(|c| c.is_ascii_digit() && c != '0')
}

/// An order still open, found by a cancel through its id or the client's id for it.
#[derive(Clone, Debug)]
pub(crate) struct OpenOrder {
    pub order: SimOrder,
    pub client_id: Option<String>,
}

/// Which order a cancel names.
pub(crate) enum OrderRef<'a> {
    Id(&'a str),
    ClientId(&'a str),
}

#[derive(Default)]
pub(crate) struct Books {
    pub orders: VecDeque<SimOrder>,
    pub withdrawals: VecDeque<SimWithdrawal>,
    pub orders_total: u64,
    pub withdrawals_total: u64,
    /// (exchange, account uid) → open orders, oldest first.
    open: HashMap<(SimExchange, String), VecDeque<OpenOrder>>,
    open_count: usize,
    /// Gives every order, withdrawal and transfer a distinct number.
    next_id: u64,
}

fn push_capped<T>(list: &mut VecDeque<T>, item: T) {
    if list.len() >= BOOK_CAP {
        list.pop_front();
    }
    list.push_back(item);
}

impl Books {
    /// A number no earlier order, withdrawal or transfer had; each exchange shapes its ids from it.
    pub fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Records the order as accepted and open.
    pub fn place(&mut self, key: &SimKey, order: SimOrder, client_id: Option<String>) {
        push_capped(&mut self.orders, order.clone());
        self.orders_total += 1;
        if self.open_count >= BOOK_CAP {
            // The oldest open order of the fullest account goes (as if it filled long ago).
            if let Some(book) = self.open.values_mut().max_by_key(|b| b.len()) {
                book.pop_front();
                self.open_count -= 1;
            }
        }
        self.open.entry((key.exchange, key.uid.clone())).or_default().push_back(OpenOrder { order, client_id });
        self.open_count += 1;
    }

    /// The open order of this key's account that `which` names on `symbol` (and `market`, where the
    /// exchange keeps markets apart), now cancelled and recorded; `None` if there is none.
    pub fn cancel(
        &mut self,
        key: &SimKey,
        symbol: &str,
        market: Option<&str>,
        which: OrderRef<'_>,
    ) -> Option<SimOrder> {
        let book = self.open.get_mut(&(key.exchange, key.uid.clone()))?;
        let index = book.iter().position(|open| {
            let named = match which {
                OrderRef::Id(id) => open.order.order_id == id,
                OrderRef::ClientId(id) => open.client_id.as_deref() == Some(id),
            };
            named && open.order.symbol == symbol && market.is_none_or(|m| open.order.market == m)
        })?;
        let open = book.remove(index)?;
        self.open_count -= 1;
        let cancel = SimOrder { api_key: key.api_key.clone(), kind: OrderKind::Cancel, ..open.order };
        push_capped(&mut self.orders, cancel.clone());
        self.orders_total += 1;
        Some(cancel)
    }

    pub fn record_funds(&mut self, funds: SimWithdrawal) {
        push_capped(&mut self.withdrawals, funds);
        self.withdrawals_total += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::Seed;

    fn order(key: &SimKey, id: &str) -> SimOrder {
        SimOrder {
            exchange: key.exchange,
            api_key: key.api_key.clone(),
            kind: OrderKind::Order,
            order_id: id.to_owned(),
            symbol: "BTC-USDT".to_owned(),
            market: "cash".to_owned(),
            side: "buy".to_owned(),
            qty: "0.001".to_owned(),
            price: Some("20000".to_owned()),
            reduce_only: false,
        }
    }

    #[test]
    fn amounts() {
        for good in ["1", "0.001", "10000", "0.5"] {
            assert!(is_amount(good), "{good}");
        }
        for bad in ["", "0", "0.000", "-1", "1e3", ".5", "1.", "1.2.3", "abc", " 1"] {
            assert!(!is_amount(bad), "{bad}");
        }
    }

    #[test]
    fn a_cancel_finds_the_accounts_open_order_once() {
        let keys = Seed::example().keys;
        let key = keys.iter().find(|k| k.label == "okx-master-ip-bound").unwrap();
        let mut books = Books::default();
        books.place(key, order(key, "7"), Some("client-7".to_owned()));
        assert!(books.cancel(key, "ETH-USDT", None, OrderRef::Id("7")).is_none(), "another symbol");
        assert!(books.cancel(key, "BTC-USDT", Some("cross"), OrderRef::Id("7")).is_none(), "another market");
        // Another key of the same account (a rotation's new key) cancels it.
        let mut rotated = key.clone();
        rotated.api_key = "rotated".to_owned();
        let cancel = books.cancel(&rotated, "BTC-USDT", Some("cash"), OrderRef::ClientId("client-7")).unwrap();
        assert_eq!(
            (cancel.kind, cancel.api_key.as_str(), cancel.order_id.as_str()),
            (OrderKind::Cancel, "rotated", "7")
        );
        assert!(books.cancel(key, "BTC-USDT", None, OrderRef::Id("7")).is_none(), "cancelled once");
        assert_eq!(books.orders.len(), 2);
        assert_eq!(books.orders_total, 2);
    }

    #[test]
    fn the_books_keep_the_newest_records_only() {
        let keys = Seed::example().keys;
        let key = keys.iter().find(|k| k.label == "okx-master-ip-bound").unwrap();
        let mut books = Books::default();
        for n in 0..BOOK_CAP + 5 {
            books.place(key, order(key, &n.to_string()), None);
        }
        assert_eq!(books.orders.len(), BOOK_CAP);
        assert_eq!(books.orders_total, (BOOK_CAP + 5) as u64);
        assert_eq!(books.orders.front().unwrap().order_id, "5");
        assert_eq!(books.open_count, BOOK_CAP);
        assert!(books.cancel(key, "BTC-USDT", None, OrderRef::Id("0")).is_none(), "the oldest open orders went");
        assert!(books.cancel(key, "BTC-USDT", None, OrderRef::Id(&(BOOK_CAP + 4).to_string())).is_some());
    }
}
