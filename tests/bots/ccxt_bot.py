#!/usr/bin/env python3
"""Real CCXT as a trading bot, driven one command per stdin line, so one CCXT instance lives across
whatever the test does in between (a rotation, a revoke).

    ccxt_bot.py --exchange okx|bybit|binance --base URL --key K --secret S [--passphrase P] [--demo]

Commands (one per line) and their answers (exactly one JSON line each on stdout, flushed):

    balance         the private balance call
    order           a small limit buy: OKX BTC-USDT (cash), Bybit spot BTCUSDT, Binance BTCUSDT
    order reduce    the same with reduceOnly, on the market where the exchange takes it (OKX BTC-USDT
                    cross margin, Bybit linear BTCUSDT); Binance spot has none: NotSupported, nothing sent
    cancel ID       cancels an order this bot placed (on its market), else one on the plain order's
    withdraw        1 USDT to a fixed TRC20 address
    transfer        1 USDT funding -> trading account (OKX, Bybit); Binance: NotSupported, nothing sent
    loop N RATE     N requests at RATE per second, alternating balance and order; answers
                    {"cmd": "loop N RATE", "ok": n_ok, "errors": {"ClassName": count}, "latencies_ms": [...]}
    quit            answers, then exits

    success: {"cmd": <the line>, "ok": true, "result": <the exchange's JSON answer>}
    failure: {"cmd": ..., "ok": false, "error": "<CCXT exception class>",
              "retryable": <isinstance(err, ccxt.NetworkError)>, "message": "<first 300 chars>"}

Only CCXT's implicit API methods are called (no load_markets: the simulator serves no market data).
The base URL may carry a path prefix (http://127.0.0.1:PORT/okx): CCXT keeps it in the URL it sends.
What each exchange signs is not the URL's path, so a prefix never enters a signature: OKX signs
'/api/v5/...' (the request path CCXT builds, without the base URL's path), Bybit and Binance sign no
path at all (Bybit: timestamp + key + recvWindow + query or body; Binance: the parameters).
"""
import argparse
import json
import sys
import time
import uuid

import ccxt

# Small and far from any market price, so a real exchange would leave the order open.
QTY = "0.001"
PRICE = "20000"
# A syntactically valid TRON address; the simulator sends nothing anywhere.
ADDRESS = "TXLAQ63Xg1NAzckPwKHvzw7CSEmLMEqcdj"


def make_client(args):
    cls = getattr(ccxt, args.exchange)
    client = cls({
        "apiKey": args.key,
        "secret": args.secret,
        "password": args.passphrase,
        "timeout": 5000,
        # The bot paces itself in `loop`.
        "enableRateLimit": False,
    })
    if args.demo:
        # Before the URL override: sandbox mode swaps the URLs too. For OKX it adds
        # x-simulated-trading: 1 to every request.
        client.set_sandbox_mode(True)
    base = args.base.rstrip("/")
    if args.exchange == "okx":
        client.urls["api"] = {"rest": base}
    elif args.exchange == "bybit":
        client.urls["api"] = {name: base for name in client.urls["api"]}
    else:
        client.urls["api"] = {
            name: url.replace("https://api.binance.com", base) if isinstance(url, str) else url
            for name, url in client.urls["api"].items()
        }
    return client


class Bot:
    def __init__(self, args):
        self.exchange = args.exchange
        self.client = make_client(args)
        # order id -> the market it was placed on, so `cancel` names the same one.
        self.placed = {}

    def balance(self):
        c = self.client
        if self.exchange == "okx":
            return c.privateGetAccountBalance()
        if self.exchange == "bybit":
            return c.privateGetV5AccountWalletBalance({"accountType": "UNIFIED"})
        return c.privateGetAccount()

    def order(self, reduce=False):
        c = self.client
        if self.exchange == "okx":
            market = {"instId": "BTC-USDT", "tdMode": "cross" if reduce else "cash"}
            params = dict(market, side="buy", ordType="limit", sz=QTY, px=PRICE)
            if reduce:
                params["reduceOnly"] = True
            result = c.privatePostTradeOrder(params)
            self.placed[result["data"][0]["ordId"]] = market
            return result
        if self.exchange == "bybit":
            market = {"category": "linear" if reduce else "spot", "symbol": "BTCUSDT"}
            params = dict(market, side="Buy", orderType="Limit", qty=QTY, price=PRICE)
            if reduce:
                params["reduceOnly"] = True
            result = c.privatePostV5OrderCreate(params)
            self.placed[result["result"]["orderId"]] = market
            return result
        if reduce:
            raise ccxt.NotSupported("binance spot orders have no reduceOnly")
        result = c.privatePostOrder({
            "symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": QTY, "price": PRICE,
        })
        self.placed[str(result["orderId"])] = {"symbol": "BTCUSDT"}
        return result

    def cancel(self, order_id):
        c = self.client
        if self.exchange == "okx":
            market = self.placed.get(order_id, {"instId": "BTC-USDT"})
            return c.privatePostTradeCancelOrder({"instId": market["instId"], "ordId": order_id})
        if self.exchange == "bybit":
            market = self.placed.get(order_id, {"category": "spot", "symbol": "BTCUSDT"})
            return c.privatePostV5OrderCancel(dict(market, orderId=order_id))
        return c.privateDeleteOrder({"symbol": "BTCUSDT", "orderId": order_id})

    def withdraw(self):
        c = self.client
        if self.exchange == "okx":
            return c.privatePostAssetWithdrawal(
                {"ccy": "USDT", "amt": "1", "dest": "4", "toAddr": ADDRESS, "chain": "USDT-TRC20"})
        if self.exchange == "bybit":
            return c.privatePostV5AssetWithdrawCreate({
                "coin": "USDT", "chain": "TRX", "address": ADDRESS, "amount": "1",
                "timestamp": c.milliseconds(), "accountType": "FUND",
            })
        return c.sapiPostCapitalWithdrawApply({"coin": "USDT", "network": "TRX", "address": ADDRESS, "amount": "1"})

    def transfer(self):
        c = self.client
        if self.exchange == "okx":
            return c.privatePostAssetTransfer({"ccy": "USDT", "amt": "1", "from": "6", "to": "18"})
        if self.exchange == "bybit":
            return c.privatePostV5AssetTransferInterTransfer({
                "transferId": str(uuid.uuid4()), "coin": "USDT", "amount": "1",
                "fromAccountType": "FUND", "toAccountType": "UNIFIED",
            })
        raise ccxt.NotSupported("the bot has no transfer for binance")

    def loop(self, count, rate):
        ok = 0
        errors = {}
        latencies = []
        start = time.monotonic()
        for i in range(count):
            # Paced on a fixed schedule, so a slow answer does not lower the rate that follows.
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            began = time.monotonic()
            try:
                self.balance() if i % 2 == 0 else self.order()
                ok += 1
            except Exception as err:  # every failure is counted by its class
                errors[type(err).__name__] = errors.get(type(err).__name__, 0) + 1
            latencies.append(round((time.monotonic() - began) * 1000, 3))
        return {"cmd": "loop", "ok": ok, "errors": errors, "latencies_ms": latencies}


def failure(cmd, err):
    return {
        "cmd": cmd, "ok": False, "error": type(err).__name__,
        "retryable": isinstance(err, ccxt.NetworkError), "message": str(err)[:300],
    }


def run(bot, line):
    words = line.split()
    cmd = words[0]
    args = words[1:]
    if cmd == "loop":
        if len(args) != 2:
            raise ValueError("usage: loop N RATE")
        return dict(bot.loop(int(args[0]), float(args[1])), cmd=line)
    if cmd == "balance" and not args:
        result = bot.balance()
    elif cmd == "order" and args in ([], ["reduce"]):
        result = bot.order(reduce=bool(args))
    elif cmd == "cancel" and len(args) == 1:
        result = bot.cancel(args[0])
    elif cmd == "withdraw" and not args:
        result = bot.withdraw()
    elif cmd == "transfer" and not args:
        result = bot.transfer()
    elif cmd == "quit" and not args:
        result = None
    else:
        raise ValueError("unknown command: " + line)
    return {"cmd": line, "ok": True, "result": result}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--exchange", required=True, choices=["okx", "bybit", "binance"])
    parser.add_argument("--base", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--passphrase")
    parser.add_argument("--demo", action="store_true")
    bot = Bot(parser.parse_args())
    for raw in sys.stdin:
        line = raw.strip()
        if not line:
            continue
        try:
            answer = run(bot, line)
        except Exception as err:  # CCXT's errors and the bot's own (a bad command) alike
            answer = failure(line, err)
        print(json.dumps(answer), flush=True)
        if line == "quit":
            break


if __name__ == "__main__":
    main()
