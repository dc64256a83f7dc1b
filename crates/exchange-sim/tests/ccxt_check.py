#!/usr/bin/env python3
"""Drives the simulator's sub-account key endpoints with real CCXT (its implicit API methods: CCXT
signs, sends and reads the answer), as a second independent client beside independent_sign.py.

    ccxt_check.py BASE_URL < seed.json     prints one JSON object: {"step": "code or error", ...}

Only endpoints CCXT knows are driven: OKX's sub-account list and key create/query/modify/delete,
Bybit's query-sub-members, create-sub-api, sub-apikeys, update-sub-api, delete-sub-api, and
Binance's sub-account list and IP restriction calls (CCXT has no call for Binance's newer
create/list/delete subAccountApi endpoints).
"""
import json
import sys

import ccxt


def key(seed, label):
    return next(k for k in seed["keys"] if k["label"] == label)


def client(cls, base, k, urls):
    e = cls({"apiKey": k["apiKey"], "secret": k["secret"], "password": k.get("passphrase"), "timeout": 5000})
    e.urls["api"] = urls(base, e.urls["api"])
    return e


def outcome(call):
    try:
        return call()
    except ccxt.BaseError as err:
        return {"error": type(err).__name__, "message": str(err)[:300]}


def main():
    base = sys.argv[1]
    seed = json.load(sys.stdin)
    out = {}

    okx = client(ccxt.okx, base, key(seed, "okx-master-ip-bound"), lambda b, _: {"rest": b})
    out["okx_list"] = outcome(lambda: [s["subAcct"] for s in okx.privateGetUsersSubaccountList()["data"]])
    made = outcome(lambda: okx.privatePostUsersSubaccountApikey(
        {"subAcct": "botsub2", "label": "ccxt-bot", "passphrase": "Ccxt-Pass-2026", "perm": "read_only,trade", "ip": "127.0.0.1"}))
    out["okx_create"] = made.get("code", made) if isinstance(made, dict) else made
    api_key = made["data"][0]["apiKey"] if isinstance(made, dict) and "data" in made else ""
    out["okx_created_has_secret"] = bool(isinstance(made, dict) and made.get("data") and made["data"][0].get("secretKey"))
    out["okx_query"] = outcome(lambda: [r["label"] for r in okx.privateGetUsersSubaccountApikey({"subAcct": "botsub2"})["data"]])
    out["okx_modify"] = outcome(lambda: okx.privatePostUsersSubaccountModifyApikey(
        {"subAcct": "botsub2", "apiKey": api_key, "perm": "read_only", "ip": "127.0.0.1,10.0.0.7"})["data"][0]["ip"])
    out["okx_delete"] = outcome(lambda: okx.privatePostUsersSubaccountDeleteApikey({"subAcct": "botsub2", "apiKey": api_key})["code"])
    # A refusal, as CCXT reports it: the master needs Trade (OKX's 50120).
    reader = client(ccxt.okx, base, key(seed, "okx-read-only"), lambda b, _: {"rest": b})
    out["okx_read_only_create"] = outcome(lambda: reader.privatePostUsersSubaccountApikey(
        {"subAcct": "botsub2", "label": "x", "passphrase": "Ccxt-Pass-2026", "ip": "127.0.0.1"})).get("message", "")

    bybit = client(ccxt.bybit, base, key(seed, "bybit-master-wallet"), lambda b, urls: {k: b for k in urls})
    out["bybit_list"] = outcome(lambda: [m["uid"] for m in bybit.privateGetV5UserQuerySubMembers()["result"]["subMembers"]])
    made = outcome(lambda: bybit.privatePostV5UserCreateSubApi(
        {"subuid": 1449002, "note": "ccxt-bot", "readOnly": 0, "ips": "127.0.0.1", "permissions": {"Spot": ["SpotTrade"]}}))
    out["bybit_create"] = made.get("retCode", made) if isinstance(made, dict) else made
    api_key = made["result"]["apiKey"] if isinstance(made, dict) and "result" in made else ""
    out["bybit_sub_keys"] = outcome(lambda: [r["note"] for r in bybit.privateGetV5UserSubApikeys({"subMemberId": "1449002"})["result"]["result"]])
    out["bybit_update"] = outcome(lambda: bybit.privatePostV5UserUpdateSubApi({"apikey": api_key, "readOnly": 1, "ips": "127.0.0.1"})["result"]["readOnly"])
    out["bybit_delete"] = outcome(lambda: bybit.privatePostV5UserDeleteSubApi({"apikey": api_key})["retCode"])

    def binance_urls(b, urls):
        return {k: v.replace("https://api.binance.com", b) if isinstance(v, str) else v for k, v in urls.items()}

    binance = client(ccxt.binance, base, key(seed, "binance-master"), binance_urls)
    out["binance_list"] = outcome(lambda: [s["email"] for s in binance.sapiGetSubAccountList({"limit": 200})["subAccounts"]])
    sub = key(seed, "binance-sub-withdraw")
    which = {"email": "bot-sub-1@example.com", "subAccountApiKey": sub["apiKey"]}
    out["binance_ip_add"] = outcome(lambda: binance.sapiV2PostSubAccountSubAccountApiIpRestriction(dict(which, status="2", ipAddress="10.0.0.7"))["ipList"])
    out["binance_ip_remove"] = outcome(lambda: binance.sapiDeleteSubAccountSubAccountApiIpRestrictionIpList(dict(which, ipAddress="10.0.0.7"))["ipList"])
    print(json.dumps(out))


if __name__ == "__main__":
    main()
