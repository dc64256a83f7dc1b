#!/usr/bin/env python3
"""Real NautilusTrader as the bot: its own Binance spot HTTP client, built from a
BinanceExecClientConfig with `base_url_http` pointed at the signing agent, driven one command per
stdin line.

    nautilus_bot.py --base-url-http URL --api-key KEY --api-secret SECRET

The client is made as NautilusTrader's Binance execution client factory makes it
(`get_cached_binance_http_client` from the config's api_key, api_secret, key_type and
base_url_http), and the calls are the ones its spot execution client makes: account information
(`query_spot_account_info`, as `_update_account_state` at connect), a limit order (`new_order` with
the arguments `_submit_limit_order` passes) and its cancel (`cancel_order`, as
`_cancel_order_single`). NautilusTrader signs (HMAC-SHA256 over the query string, its Rust
`hmac_signature`) and sends (its Rust `HttpClient`). No trading node runs: the execution client
would also open Binance's user-data WebSocket, which the simulator does not serve.

Commands (one per line) and their answers (exactly one JSON line each on stdout, flushed):

    balance         query_spot_account_info(): {"canTrade": ..., "balances": {ASSET: {"free", "locked"}}}
    order           new_order(): a LIMIT GTC buy of 0.001 BTCUSDT at 20000, {"orderId", "clientOrderId", "status"}
    cancel ID       cancel_order("BTCUSDT", order_id=ID): {"orderId", "status"}
    quit            answers, then exits

    success: {"cmd": <the line>, "ok": true, "result": ...}
    failure: {"cmd": ..., "ok": false, "error": "<exception class>", "status": <HTTP status or null>,
              "message": <Binance's error body, or the first 300 chars of the exception>}
"""
import argparse
import asyncio
import json
import sys

from nautilus_trader.adapters.binance.common.enums import BinanceAccountType
from nautilus_trader.adapters.binance.common.enums import BinanceOrderSide
from nautilus_trader.adapters.binance.common.enums import BinanceOrderType
from nautilus_trader.adapters.binance.common.enums import BinanceTimeInForce
from nautilus_trader.adapters.binance.config import BinanceExecClientConfig
from nautilus_trader.adapters.binance.factories import get_cached_binance_http_client
from nautilus_trader.adapters.binance.http.error import BinanceError
from nautilus_trader.adapters.binance.spot.http.account import BinanceSpotAccountHttpAPI
from nautilus_trader.common.component import LiveClock

SYMBOL = "BTCUSDT"
# Small and far from any market price, as tests/bots/ccxt_bot.py orders.
QUANTITY = "0.001"
PRICE = "20000"
# NautilusTrader's spot execution client default (BinanceExecClientConfig.recv_window_ms).
RECV_WINDOW = "5000"


def failure(cmd, err):
    if isinstance(err, BinanceError):
        return {"cmd": cmd, "ok": False, "error": type(err).__name__, "status": err.status, "message": err.message}
    return {"cmd": cmd, "ok": False, "error": type(err).__name__, "status": None, "message": str(err)[:300]}


async def run(account, line):
    words = line.split()
    cmd, args = words[0], words[1:]
    if cmd == "balance" and not args:
        info = await account.query_spot_account_info(recv_window=RECV_WINDOW)
        result = {
            "canTrade": info.canTrade,
            "balances": {b.asset: {"free": b.free, "locked": b.locked} for b in info.balances},
        }
    elif cmd == "order" and not args:
        order = await account.new_order(
            symbol=SYMBOL,
            side=BinanceOrderSide.BUY,
            order_type=BinanceOrderType.LIMIT,
            time_in_force=BinanceTimeInForce.GTC,
            quantity=QUANTITY,
            price=PRICE,
            new_client_order_id="O-nautilus-bot-1",
            recv_window=RECV_WINDOW,
        )
        result = {"orderId": order.orderId, "clientOrderId": order.clientOrderId, "status": order.status.value}
    elif cmd == "cancel" and len(args) == 1:
        order = await account.cancel_order(symbol=SYMBOL, order_id=int(args[0]))
        result = {"orderId": order.orderId, "status": order.status.value}
    elif cmd == "quit" and not args:
        result = None
    else:
        raise ValueError("unknown command: " + line)
    return {"cmd": line, "ok": True, "result": result}


async def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base-url-http", required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--api-secret", required=True)
    args = parser.parse_args()
    # A user's config for a live Binance spot execution client, pointed at the agent.
    config = BinanceExecClientConfig(
        api_key=args.api_key,
        api_secret=args.api_secret,
        account_type=BinanceAccountType.SPOT,
        base_url_http=args.base_url_http,
    )
    clock = LiveClock()
    client = get_cached_binance_http_client(
        clock=clock,
        account_type=config.account_type,
        api_key=config.api_key,
        api_secret=config.api_secret,
        key_type=config.key_type,
        base_url=config.base_url_http,
        is_testnet=config.testnet,
        is_us=config.us,
    )
    account = BinanceSpotAccountHttpAPI(client, clock, config.account_type)
    print(json.dumps({"cmd": "start", "ok": True, "result": {"base_url": client.base_url}}), flush=True)
    loop = asyncio.get_running_loop()
    while True:
        raw = await loop.run_in_executor(None, sys.stdin.readline)
        if not raw:
            break
        line = raw.strip()
        if not line:
            continue
        try:
            answer = await run(account, line)
        except Exception as err:  # NautilusTrader's errors and the bot's own (a bad command) alike
            answer = failure(line, err)
        print(json.dumps(answer, default=str), flush=True)
        if line == "quit":
            break


if __name__ == "__main__":
    asyncio.run(main())
