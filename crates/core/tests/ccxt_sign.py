#!/usr/bin/env python3
"""CCXT as the independent signer (issue 14): for each request Latchkey signed, what CCXT's own
`sign()` produces for the same request, credentials and clock. Run by the core unit test
`exchange::ccxt_check`, which compares the two byte for byte.

    ccxt_sign.py < cases.json      prints a JSON list, one entry per case

case: {"exchange", "apiKey", "secret", "passphrase", "method", "path" (Latchkey's path, e.g.
       "/api/v5/account/config"), "params": [[k, v], ...] (query or form, in order),
       "json": the JSON body text Latchkey signs, or null, "timestampMs", "recvWindow", "nonce"}
out:  {"pathAndQuery", "headers": {lower-case name: value}, "body": text or null} or {"error"}

CCXT's clock is pinned to the case's: `milliseconds()`, `seconds()` and `nonce()` return it.
"""
import json
import sys
from urllib.parse import urlsplit

import ccxt


def split(prefix, path):
    assert path.startswith(prefix), (prefix, path)
    return path[len(prefix):]


def route(case):
    """(CCXT class id, its path, its api) for Latchkey's path."""
    ex, path = case["exchange"], case["path"]
    if ex == "okx":
        return "okx", split("/api/v5/", path), ["private"]
    if ex == "bybit":
        return "bybit", split("/", path), ["private"]
    if ex == "binance":
        version, rest = split("/sapi/", path).split("/", 1)
        return "binance", rest, ["sapi" if version == "v1" else "sapi" + version.upper()]
    if ex == "kucoin":
        return "kucoin", split("/api/v1/", path), ["private"]
    if ex == "gate":
        rest = split("/api/v4/", path)
        section, _, tail = rest.partition("/")
        if section == "sub_accounts":  # CCXT's section name; its paths keep the prefix
            return "gate", rest, ["private", "subAccounts"]
        return "gate", tail, ["private", section]
    if ex == "bitget":
        rest = split("/api/", path)
        section = rest.split("/")[1]
        return "bitget", rest, ["private", section]
    if ex == "kraken":
        return "kraken", split("/0/private/", path), ["private"]
    if ex == "deribit":
        return "deribit", split("/api/v2/private/", path), ["private"]
    raise ValueError(f"no CCXT route for {ex}")


def sign(case):
    cls, path, api = route(case)
    exchange = getattr(ccxt, cls)(
        {"apiKey": case["apiKey"], "secret": case["secret"], "password": case.get("passphrase")}
    )
    ms = case["timestampMs"]
    exchange.milliseconds = lambda: ms
    exchange.seconds = lambda: ms // 1000
    exchange.microseconds = lambda: ms * 1000
    exchange.options["timeDifference"] = 0
    if case.get("nonce") is not None:
        exchange.nonce = lambda: case["nonce"]
    if case.get("recvWindow") is not None:
        exchange.options["recvWindow"] = case["recvWindow"]
    if case["json"] is not None:
        # The path's own parameters (`{user_id}`) travel beside the JSON body.
        placed = {k: v for k, v in case["params"] if "{" + k + "}" in case["path"]}
        params = {**placed, **json.loads(case["json"])}
    else:
        params = {k: v for k, v in case["params"]}
    signed = exchange.sign(path, api, case["method"], params)
    url = urlsplit(signed["url"])
    path_and_query = url.path + (f"?{url.query}" if url.query else "")
    headers = {k.lower(): str(v) for k, v in (signed.get("headers") or {}).items()}
    return {"pathAndQuery": path_and_query, "headers": headers, "body": signed.get("body")}


def main():
    out = []
    for case in json.load(sys.stdin):
        try:
            out.append(sign(case))
        except Exception as err:  # a case CCXT cannot sign is reported, not hidden
            out.append({"error": f"{type(err).__name__}: {err}"})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
