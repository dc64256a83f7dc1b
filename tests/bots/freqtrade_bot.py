#!/usr/bin/env python3
"""Real Freqtrade as the bot: its own exchange object, built from a config.json the way Freqtrade
builds it for a live run, driven one command per stdin line.

    freqtrade_bot.py --config config.json

The config is a user's: `exchange.name`, `key`, `secret` (and `password` for OKX), the pair list,
`dry_run: false`, and `ccxt_config` with the `urls` override that points CCXT at the signing agent.
The exchange object is made by Freqtrade's ExchangeResolver with validate=True, as `freqtrade
trade` makes it: it loads the markets, checks the config against them and the exchange's clock, and
runs the exchange's own start-up checks, so whatever Freqtrade asks of the exchange at start-up is
asked here too. The first line printed is the start's answer; a bot that could not start answers
every command with the same failure.

Commands (one per line) and their answers (exactly one JSON line each on stdout, flushed):

    balance         Exchange.get_balances()
    order           Exchange.create_order(): a limit buy of 0.001 BTC/USDT at 20000
    cancel ID       Exchange.cancel_order(ID, "BTC/USDT")
    quit            answers, then exits

    success: {"cmd": <the line>, "ok": true, "result": <Freqtrade's answer>}
    failure: {"cmd": ..., "ok": false, "error": "<Freqtrade's exception class>",
              "ccxt_error": "<the CCXT exception under it, or else the last one Freqtrade logged>",
              "retryable": <that CCXT exception is a ccxt.NetworkError>, "message": "<first 300 chars>",
              "ccxt_messages": [<every CCXT error Freqtrade logged so far, and that one>]}

Freqtrade has no withdrawal call, so this bot has none either.
"""
import argparse
import json
import logging
import sys

import ccxt
from freqtrade.configuration.load_config import load_config_file
from freqtrade.enums import RunMode
from freqtrade.resolvers import ExchangeResolver

PAIR = "BTC/USDT"
# Small and far from any market price, as tests/bots/ccxt_bot.py orders.
AMOUNT = 0.001
RATE = 20000.0


def ccxt_cause(err):
    """The CCXT exception Freqtrade wrapped (raise ... from e), if there is one."""
    seen = err
    while seen is not None:
        if isinstance(seen, ccxt.BaseError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


class CcxtErrors(logging.Handler):
    """The CCXT exceptions under what Freqtrade logs: a start that fails on the markets load ends in
    an OperationalException raised afresh, the CCXT error only in the log before it."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def emit(self, record):
        if record.exc_info and record.exc_info[1] is not None:
            cause = ccxt_cause(record.exc_info[1])
            if cause is not None:
                self.seen.append(cause)


LOGGED = CcxtErrors()


def failure(cmd, err):
    cause = ccxt_cause(err) or (LOGGED.seen[-1] if LOGGED.seen else None)
    return {
        "cmd": cmd, "ok": False, "error": type(err).__name__,
        "ccxt_error": type(cause).__name__ if cause else None,
        "retryable": isinstance(cause, ccxt.NetworkError), "message": str(err)[:300],
        "ccxt_messages": sorted({str(e)[:300] for e in LOGGED.seen + ([cause] if cause else [])}),
    }


def start(path):
    config = load_config_file(path)
    # What `freqtrade trade` sets from its command line.
    config["runmode"] = RunMode.DRY_RUN if config.get("dry_run", True) else RunMode.LIVE
    return ExchangeResolver.load_exchange(config, validate=True)


def run(exchange, line):
    words = line.split()
    cmd, args = words[0], words[1:]
    if cmd == "balance" and not args:
        result = exchange.get_balances()
    elif cmd == "order" and not args:
        result = exchange.create_order(
            pair=PAIR, ordertype="limit", side="buy", amount=AMOUNT, rate=RATE, leverage=1.0)
    elif cmd == "cancel" and len(args) == 1:
        result = exchange.cancel_order(args[0], PAIR)
    elif cmd == "quit" and not args:
        result = None
    else:
        raise ValueError("unknown command: " + line)
    return {"cmd": line, "ok": True, "result": result}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", required=True)
    args = parser.parse_args()
    # Freqtrade's log goes to stderr (the test shows it when it fails); stdout carries the answers.
    logging.basicConfig(stream=sys.stderr, level=logging.INFO)
    logging.getLogger().addHandler(LOGGED)
    try:
        exchange = start(args.config)
        started = {"cmd": "start", "ok": True, "result": {"exchange": exchange.name, "markets": len(exchange.markets)}}
    except Exception as err:  # a Freqtrade that does not start says why, as one answer
        exchange = None
        started = failure("start", err)
    print(json.dumps(started), flush=True)
    for raw in sys.stdin:
        line = raw.strip()
        if not line:
            continue
        if exchange is None:
            answer = dict(started, cmd=line)
        else:
            try:
                answer = run(exchange, line)
            except Exception as err:  # Freqtrade's errors and the bot's own (a bad command) alike
                answer = failure(line, err)
        print(json.dumps(answer, default=str), flush=True)
        if line == "quit":
            break
    if exchange is not None:
        exchange.close()


if __name__ == "__main__":
    main()
