#!/usr/bin/env python3
"""An independent signer for OKX, Bybit, Binance, KuCoin, Gate, Kraken, Bitget and Deribit, written from the exchanges' documentation with
the Python standard library only (hmac, hashlib, base64). The simulator's tests send requests signed
here, so the Rust client and the Rust simulator cannot agree on one shared mistake.

    independent_sign.py --self-test      check the documented vectors, print "ok N"
    independent_sign.py < spec.json      print the signed request as JSON

spec: {"exchange", "apiKey", "secret", "passphrase"?, "method", "path", "params": [[k, v], ...],
       "json"? (an OKX / Bybit POST body with numbers and objects, instead of params),
       "timestampMs"? or "offsetMs"? (from now), "recvWindow"?, "simulated"?,
       "keyVersion"? (KuCoin: "2" or "3" sign the passphrase, "1" sends it as typed; default "2"),
       "fractionalTimestamp"? (Gate: seconds with a fraction, as the official Python SDK sends them),
       "nonce"? (Kraken's and Deribit's; the timestamp in ms when absent),
       "queryParams"? (Binance, not GET: these in the query string, "params" in the body)}
"""
import base64
import datetime
import hashlib
import hmac
import json
import sys
import time
import urllib.parse


def hmac_sha256(secret, message):
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()


def okx_timestamp(ms):
    at = datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.timezone.utc)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (ms % 1000)


def okx_sign(secret, ts, method, request_path, body):
    return base64.b64encode(hmac_sha256(secret, ts + method.upper() + request_path + body)).decode()


def bybit_sign(secret, ts, api_key, recv_window, payload):
    return hmac_sha256(secret, str(ts) + api_key + str(recv_window) + payload).hex()


def binance_sign(secret, query, body):
    return hmac_sha256(secret, query + body).hex()


def kucoin_sign(secret, ts, method, endpoint, body):
    return base64.b64encode(hmac_sha256(secret, str(ts) + method.upper() + endpoint + body)).decode()


def kucoin_passphrase(secret, passphrase):
    return base64.b64encode(hmac_sha256(secret, passphrase)).decode()


def gate_sign(secret, method, path, query, body, ts):
    body_hash = hashlib.sha512(body.encode()).hexdigest()
    message = "%s\n%s\n%s\n%s\n%s" % (method.upper(), path, query, body_hash, ts)
    return hmac.new(secret.encode(), message.encode(), hashlib.sha512).hexdigest()


def bitget_sign(secret, ts, method, request_path, body):
    return base64.b64encode(hmac_sha256(secret, str(ts) + method.upper() + request_path + body)).decode()


def deribit_sign(secret, ts, nonce, method, uri, body):
    return hmac_sha256(secret, "%s\n%s\n%s\n%s\n%s\n" % (ts, nonce, method.upper(), uri, body)).hex()


def kraken_sign(secret_b64, path, nonce, post_data):
    message = path.encode() + hashlib.sha256((str(nonce) + post_data).encode()).digest()
    return base64.b64encode(hmac.new(base64.b64decode(secret_b64), message, hashlib.sha512).digest()).decode()


def sign(spec):
    ms = spec.get("timestampMs") or int(time.time() * 1000) + spec.get("offsetMs", 0)
    method = spec["method"].upper()
    params = [tuple(p) for p in spec.get("params", [])]
    out = {"method": method, "path": spec["path"], "query": "", "headers": {}, "body": ""}
    exchange = spec["exchange"]
    if exchange == "okx":
        if method == "GET":
            out["query"] = urllib.parse.urlencode(params)
        else:
            out["body"] = json.dumps(spec.get("json", dict(params)), separators=(",", ":"))
        request_path = spec["path"] + ("?" + out["query"] if out["query"] else "")
        ts = okx_timestamp(ms)
        out["headers"] = {
            "OK-ACCESS-KEY": spec["apiKey"],
            "OK-ACCESS-SIGN": okx_sign(spec["secret"], ts, method, request_path, out["body"]),
            "OK-ACCESS-TIMESTAMP": ts,
            "OK-ACCESS-PASSPHRASE": spec.get("passphrase", ""),
            "Content-Type": "application/json",
        }
        if spec.get("simulated"):
            out["headers"]["x-simulated-trading"] = "1"
    elif exchange == "bybit":
        recv = spec.get("recvWindow", 5000)
        if method == "GET":
            out["query"] = urllib.parse.urlencode(params)
            payload = out["query"]
        else:
            out["body"] = json.dumps(spec.get("json", dict(params)), separators=(",", ":"))
            payload = out["body"]
        out["headers"] = {
            "X-BAPI-API-KEY": spec["apiKey"],
            "X-BAPI-TIMESTAMP": str(ms),
            "X-BAPI-SIGN": bybit_sign(spec["secret"], ms, spec["apiKey"], recv, payload),
            "X-BAPI-RECV-WINDOW": str(recv),
            "Content-Type": "application/json",
        }
    elif exchange == "binance":
        params += [("recvWindow", str(spec.get("recvWindow", 5000))), ("timestamp", str(ms))]
        encoded = urllib.parse.urlencode(params)
        in_query = urllib.parse.urlencode([tuple(p) for p in spec.get("queryParams", [])])
        if method == "GET":
            out["query"] = encoded + "&signature=" + binance_sign(spec["secret"], encoded, "")
        elif in_query:
            # Mixed, as the docs' third example: "totalParams" is the query string then the body.
            out["query"] = in_query
            out["body"] = encoded + "&signature=" + binance_sign(spec["secret"], in_query, encoded)
            out["headers"]["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            out["body"] = encoded + "&signature=" + binance_sign(spec["secret"], encoded, "")
            out["headers"]["Content-Type"] = "application/x-www-form-urlencoded"
        out["headers"]["X-MBX-APIKEY"] = spec["apiKey"]
    elif exchange == "kucoin":
        # The query is signed as typed (k=v&...), sent URL-encoded; POST params go in a JSON body.
        if method in ("GET", "DELETE"):
            out["query"] = urllib.parse.urlencode(params)
            raw = "&".join(k + "=" + v for k, v in params)
            endpoint = spec["path"] + ("?" + raw if raw else "")
        else:
            out["body"] = json.dumps(spec.get("json", dict(params)), separators=(",", ":"))
            endpoint = spec["path"]
        version = spec.get("keyVersion", "2")
        passphrase = spec.get("passphrase") or ""
        out["headers"] = {
            "KC-API-KEY": spec["apiKey"],
            "KC-API-SIGN": kucoin_sign(spec["secret"], ms, method, endpoint, out["body"]),
            "KC-API-TIMESTAMP": str(ms),
            "KC-API-PASSPHRASE": passphrase if version == "1" else kucoin_passphrase(spec["secret"], passphrase),
            "KC-API-KEY-VERSION": version,
            "Content-Type": "application/json",
        }
    elif exchange == "gate":
        # The path as sent (with /api/v4), the query decoded as the official SDK signs it.
        if method in ("GET", "DELETE"):
            out["query"] = urllib.parse.urlencode(params)
        else:
            out["body"] = json.dumps(spec.get("json", dict(params)))
        ts = "%.3f" % (ms / 1000) if spec.get("fractionalTimestamp") else str(ms // 1000)
        signed_query = urllib.parse.unquote_plus(out["query"])
        out["headers"] = {
            "KEY": spec["apiKey"],
            "Timestamp": ts,
            "SIGN": gate_sign(spec["secret"], method, spec["path"], signed_query, out["body"], ts),
            "Content-Type": "application/json",
        }
    elif exchange == "bitget":
        if method == "GET":
            out["query"] = urllib.parse.urlencode(params)
        else:
            out["body"] = json.dumps(spec.get("json", dict(params)), separators=(",", ":"))
        # Signed as typed, sent encoded (Bitget's official SDK does the same).
        typed = "&".join(k + "=" + v for k, v in params) if method == "GET" else ""
        request_path = spec["path"] + ("?" + typed if typed else "")
        out["headers"] = {
            "ACCESS-KEY": spec["apiKey"],
            "ACCESS-SIGN": bitget_sign(spec["secret"], ms, method, request_path, out["body"]),
            "ACCESS-TIMESTAMP": str(ms),
            "ACCESS-PASSPHRASE": spec.get("passphrase") or "",
            "Content-Type": "application/json",
            "locale": "en-US",
        }
        if spec.get("simulated"):
            out["headers"]["paptrading"] = "1"
    elif exchange == "deribit":
        # JSON-RPC over HTTP GET: the method's parameters in the query, an empty body.
        nonce = str(spec.get("nonce", ms))
        out["method"] = "GET"
        out["query"] = urllib.parse.urlencode(params)
        uri = spec["path"] + ("?" + out["query"] if out["query"] else "")
        sig = deribit_sign(spec["secret"], ms, nonce, "GET", uri, "")
        out["headers"] = {"Authorization": "deri-hmac-sha256 id=%s,ts=%d,sig=%s,nonce=%s" % (spec["apiKey"], ms, sig, nonce)}
    elif exchange == "kraken":
        # Every private call: a form POST whose first field is the nonce.
        nonce = spec.get("nonce", ms)
        out["method"] = "POST"
        out["body"] = urllib.parse.urlencode([("nonce", str(nonce))] + params)
        out["headers"] = {
            "API-Key": spec["apiKey"],
            "API-Sign": kraken_sign(spec["secret"], spec["path"], nonce, out["body"]),
            "Content-Type": "application/x-www-form-urlencoded",
        }
    else:
        raise SystemExit("unknown exchange " + exchange)
    return out


def self_test():
    secret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
    full = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
    symbol = urllib.parse.urlencode([("symbol", "\uff11\uff12\uff13\uff14\uff15\uff16")])
    cases = [
        (binance_sign(secret, full, ""), "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"),
        (binance_sign(secret, "", full), "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"),
        (binance_sign(secret, "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC", "quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"),
         "0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77"),
        (binance_sign(secret, symbol + full[len("symbol=LTCBTC"):], ""), "e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3"),
        (okx_timestamp(1607418537715), "2020-12-08T09:08:57.715Z"),
        (okx_sign("22582BD0CFF14C41EDBF1AB98506286D", "2020-12-08T09:08:57.715Z", "GET", "/api/v5/account/config", ""),
         "Kr/8IrbDYujS4cg2KkmB+tO2HMUXxyayG6ZwNb4H/yA="),
        (bybit_sign("test-secret", 1676430842094, "XXXXXXXXXX", 5000, ""), "c9573f616b72c69db572d2db92f2b5767db5cea14b7cbbb71704869b1875ebe0"),
        # KuCoin: the official SDK's own signer test (test_default_signer.py), then the reference's
        # openssl-checked passphrase and inspection vectors.
        (base64.b64encode(hmac_sha256("test_api_secret", "test_plain")).decode(), "jie/gxS38wLFFaBwl/cAzFbAzlI8MIny96jSXrB+iP4="),
        (kucoin_passphrase("test-secret", "test-passphrase"), "UbgWiL7WdjQOVBl1OLuMgUbTl9VlKFsjFbLedtCDPrY="),
        (kucoin_sign("test-secret", 1728443843000, "GET", "/api/v1/user/api-key", ""), "tZoHMLt4grPj7qgb7KGNH/YFnUspdDVrHXW9UC3Jzwo="),
        # Gate's own published examples (coincise:docs/gateio/authentication.md).
        (gate_sign("secret", "GET", "/api/v4/futures/orders", "contract=BTC_USD&status=finished&limit=50", "", "1541993715"),
         "55f84ea195d6fe57ce62464daaa7c3c02fa9d1dde954e4c898289c9a2407a3d6fb3faf24deff16790d726b66ac9f74526668b13bd01029199cc4fcc522418b8a"),
        (gate_sign("secret", "POST", "/api/v4/futures/orders", "",
                   '{"contract":"BTC_USD","type":"limit","size":100,"price":6800,"time_in_force":"gtc"}', "1541993715"),
         "eae42da914a590ddf727473aff25fc87d50b64783941061f47a3fdb92742541fc4c2c14017581b4199a1418d54471c269c03a38d788d802e2c306c37636389f0"),
        # Bitget publishes the prehash, not a secret or signature: the reference's openssl-checked value.
        (bitget_sign("test-secret", 1659076670000, "GET", "/api/v2/spot/account/info", ""), "8LzpyAuZe86Rw8Tn309PJJS0KJXgQkrarDKDomFp0+8="),
        # Deribit's documented example (AMANDA / AMANDASECRECT); the signature is the reference's openssl-checked one.
        (deribit_sign("AMANDASECRECT", 1576074319000, "1iqt2wls", "GET", "/api/v2/private/get_account_summary?currency=BTC", ""),
         "9bfbc51a2bc372d72cc396cf1a213dc78d42eb74cb7dc272351833ad0de276ab"),
        # Kraken's REST authentication guide.
        (kraken_sign("kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==", "/0/private/AddOrder",
                     1616492376594, "nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25"),
         "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=="),
    ]
    failed = [(got, want) for got, want in cases if got != want]
    if failed:
        raise SystemExit("vector mismatch: %r" % failed)
    print("ok %d" % len(cases))


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        self_test()
    else:
        print(json.dumps(sign(json.load(sys.stdin))))
