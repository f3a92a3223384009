#!/usr/bin/env python3
"""
tests/conform/broken_peer.py - a small LD/T 6008-2024 node, provider or
caller, written apart from hrss's C code, with deviations switched on one by
one so that the tests can show `hrss conform node|provider|serve` catching
and naming each. With no deviation it follows hrss's readings
(docs/conformance.md).

  broken_peer.py --role node|provider --caller CODE --service CODE --area AREA
                 --secret S [--sm4-key K] [--own-key PEM --caller-pub PEM --hrss BIN]
                 [--deviations a,b,...]
  broken_peer.py --role caller --url URL ... (the same) [--provider-pub PEM]
                 [--body JSON]: sends one request, prints the answer

It listens on 127.0.0.1 (an ephemeral port, printed as "listening port N"
on stderr). Signatures: the caller's HMAC-SM3 (lowercase hex) are checked;
answers are signed sm3 (lowercase hex of SM3 over the canonical string).
Bodies: SM4-ECB/PKCS#7/Base64 with --sm4-key (Python's cryptography), SM2
with --own-key (the hrss tool opens and seals, C1C3C2).

Deviations:
  bad-signature        answers signed over the wrong string
  upper-hex-signature  answers signed in uppercase hex
  no-echo              answers without serviceReqId
  utc-time             serviceResTime in UTC instead of China Standard Time
  accept-replay        no nonce memory: replays served
  replay-90            replays refused with commStatus 90 instead of 30
  no-signature-check   callers' signatures not checked
  unsigned-nonce       the nonce left out of the signed string
  malformed-90         unparseable requests answered 200 with commStatus 90
  zero-padding         SM4 answers with zero padding instead of PKCS#7
  hex-cipher           SM4 answers in uppercase hex instead of Base64
  sm2-c1c2c3           SM2 answers in C1C2C3 order
  resid-repeat         the same serviceResId on every answer
  foreign-resid        serviceResId made from another system's code
  paged-no-totalpage   paged answers without totalPage
As a caller (the request it sends):
  upper-hex-signature, unsigned-nonce, zero-padding, hex-cipher, sm2-c1c2c3 as above
  no-nonce             no nonce at all
  timestamp-key        the time signed under the key timestamp
  sm3-not-hmac         plain SM3 where HMAC-SM3 is agreed
  stale-time           serviceReqTime 20 minutes old
  utc-time             serviceReqTime in UTC
  reuse=ID:NONCE       serviceReqId and nonce of an earlier request (replay)
"""
import argparse
import base64
import datetime
import hashlib
import hmac
import http.server
import json
import os
import re
import subprocess
import sys
import threading
import urllib.request

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

AREAS = {"100000", "110000", "120000", "130000", "140000", "150000", "210000", "220000",
         "230000", "310000", "320000", "330000", "340000", "350000", "360000", "370000",
         "410000", "420000", "430000", "440000", "450000", "460000", "500000", "510000",
         "520000", "530000", "540000", "610000", "620000", "630000", "640000", "650000",
         "710000", "810000", "820000", "660000"}
CST = datetime.timezone(datetime.timedelta(hours=8))
LIMITS = {"serviceCode": 15, "appCode": 11, "serviceAreaCode": 6, "serviceReqId": 28,
          "serviceReqTime": 14}

args = None
dev = set()
nonces = set()
lock = threading.Lock()
seq = [0]


def now():
    if "utc-time" in dev:
        return datetime.datetime.now(datetime.timezone.utc)
    return datetime.datetime.now(CST)


def canonical(header, with_nonce=True):
    keys = sorted(k for k, v in header.items()
                  if k != "signature" and isinstance(v, str) and v != ""
                  and (with_nonce or k != "nonce"))
    return "&".join(f"{k}={header[k]}" for k in keys)


def no_duplicates(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise ValueError(f"duplicate key {k}")
        d[k] = v
    return d


def check_request(text):
    """The envelope's form (tables 1 and 2): None or the first violation."""
    try:
        doc = json.loads(text.decode("utf-8"), object_pairs_hook=no_duplicates)
    except (ValueError, UnicodeDecodeError) as e:
        return None, str(e)
    if not isinstance(doc, dict) or set(doc) != {"header", "body"}:
        return None, "envelope: header and body, nothing else"
    h = doc["header"]
    if not isinstance(h, dict):
        return None, "header: an object"
    for k, n in LIMITS.items():
        if not isinstance(h.get(k), str):
            return None, f"header.{k}: missing"
        if len(h[k]) != n:
            return None, f"header.{k}: length {len(h[k])}, must be {n}"
    if not re.fullmatch(r"[BS]\d{6}[0-9A-Za-z]{4}", h["appCode"]):
        return None, "header.appCode: format"
    if h["serviceAreaCode"] not in AREAS:
        return None, "header.serviceAreaCode: not a province-level area"
    try:
        datetime.datetime.strptime(h["serviceReqTime"], "%Y%m%d%H%M%S")
    except ValueError:
        return None, "header.serviceReqTime: not a time"
    if len(h.get("signature", "")) > 255:
        return None, "header.signature: at most 255"
    body = doc["body"]
    size = len(body) if isinstance(body, str) else len(json.dumps(body, ensure_ascii=False,
                                                                 separators=(",", ":")))
    if size > 102400:
        return None, "body: over 100K characters"
    return doc, None


def sm4(key, data, encrypt):
    c = Cipher(algorithms.SM4(key.encode()), modes.ECB())
    if encrypt:
        if "zero-padding" in dev:
            data += b"\0" * (16 - len(data) % 16)
        else:
            p = padding.PKCS7(128).padder()
            data = p.update(data) + p.finalize()
        e = c.encryptor()
        return e.update(data) + e.finalize()
    d = c.decryptor()
    raw = d.update(data) + d.finalize()
    u = padding.PKCS7(128).unpadder()
    return u.update(raw) + u.finalize()


def hrss_sm2(op, key, data, fmt="c1c3c2"):
    r = subprocess.run([args.hrss, "sm2", op, "--key", key, "--format", fmt], input=data,
                       capture_output=True, timeout=30)
    if r.returncode != 0:
        raise ValueError(r.stderr.decode())
    return r.stdout


def open_body(body):
    if args.sm4_key:
        return json.loads(sm4(args.sm4_key, base64.b64decode(body, validate=True), False))
    if args.own_key:
        return json.loads(hrss_sm2("decrypt", args.own_key, body.encode()))
    if not isinstance(body, dict):
        raise ValueError("plain grant, body not an object")
    return body


def seal_body(obj):
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()
    if args.sm4_key:
        ct = sm4(args.sm4_key, text, True)
        return ct.hex().upper() if "hex-cipher" in dev else base64.b64encode(ct).decode()
    pub = args.provider_pub if args.role == "caller" else args.caller_pub
    if pub:
        fmt = "c1c2c3" if "sm2-c1c2c3" in dev else "c1c3c2"
        return hrss_sm2("encrypt", pub, text, fmt).decode().strip()
    return obj


def answer(req_h, status, msg, body=None):
    h = {k: req_h[k] for k in ("serviceCode", "appCode", "serviceAreaCode", "serviceReqId",
                               "serviceReqTime") if k in req_h}
    if "no-echo" in dev:
        h.pop("serviceReqId", None)
    t = now()
    with lock:
        if "resid-repeat" not in dev:
            seq[0] += 1
    system = args.service[:11] if args.role == "provider" else "B100000N0D9"
    if "foreign-resid" in dev:
        system = "S110000ABCD"
    h["serviceResId"] = f"{system}{t:%Y%m%d}{seq[0]:09d}"
    h["serviceResTime"] = f"{t:%Y%m%d%H%M%S}"
    h["commStatus"] = status
    h["msg"] = msg
    if status == "00":
        h["busiStatus"] = "001"
        signed = canonical(h) + ("x" if "bad-signature" in dev else "")
        sig = hashlib.new("sm3", signed.encode()).hexdigest()
        h["signature"] = sig.upper() if "upper-hex-signature" in dev else sig
    doc = {"header": h}
    if body is not None:
        doc["body"] = body
    return 200, doc


def handle(text):
    doc, why = check_request(text)
    if doc is None:
        if "malformed-90" in dev:
            return 200, {"header": {"commStatus": "90", "msg": why}}
        return (413 if "100K" in why else 400), {"error": "bad_envelope", "message": why}
    h = doc["header"]
    if h["serviceCode"] != args.service:
        return answer(h, "90", f"unknown service {h['serviceCode']}")
    if h["appCode"] != args.caller:
        return answer(h, "50", f"unknown caller {h['appCode']}")
    if args.role == "node" and h["serviceAreaCode"] != args.area:
        return answer(h, "90", "wrong area")
    t = datetime.datetime.strptime(h["serviceReqTime"], "%Y%m%d%H%M%S").replace(tzinfo=CST)
    if abs((t - datetime.datetime.now(CST)).total_seconds()) > 900:
        return answer(h, "30", "request time outside the window")
    if "no-signature-check" not in dev:
        nonce = h.get("nonce")
        if not nonce or not re.fullmatch(r"[0-9A-Za-z]{24}", nonce):
            return answer(h, "30", "nonce missing")
        want = hmac.new(args.secret.encode(),
                        canonical(h, "unsigned-nonce" not in dev).encode(), "sm3").hexdigest()
        if not hmac.compare_digest(want, h.get("signature", "")):
            return answer(h, "30", "signature mismatch")
    if "accept-replay" not in dev:
        key = (h["appCode"], h.get("nonce"))
        with lock:
            seen = key in nonces
            nonces.add(key)
        if seen:
            return answer(h, "90" if "replay-90" in dev else "30", "nonce replayed")
    try:
        plain = open_body(doc["body"])
    except Exception:  # noqa: BLE001 - any failure to open is a decryption failure
        return answer(h, "40", "body does not decrypt")
    if "cpage" in plain and "rows" in plain:
        rows = int(plain["rows"])
        data = {"totalCount": 3, "totalPage": (3 + rows - 1) // rows,
                "list": [{"n": i} for i in range(min(rows, 3))]}
        if "paged-no-totalpage" in dev:
            del data["totalPage"]
    elif "list" in plain:
        data = {"totalCount": len(plain["list"]), "list": [{"ok": 1} for _ in plain["list"]]}
    else:
        data = {"echo": plain}
    return answer(h, "00", "成功", seal_body({"data": data}))


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):  # noqa: N802 - the name http.server calls
        n = int(self.headers.get("Content-Length", "0"))
        if n > 1024 * 1024:
            status, doc = 413, {"error": "too_large", "message": "over 1 MiB"}
            self.close_connection = True
        else:
            status, doc = handle(self.rfile.read(n))
        out = json.dumps(doc, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *a):
        pass


def call():
    """As a caller: one request with the deviations, the answer on stdout."""
    t = now() - datetime.timedelta(minutes=20 if "stale-time" in dev else 0)
    reuse = [d.split("=", 1)[1].split(":") for d in dev if d.startswith("reuse=")]
    with lock:
        seq[0] = int(t.timestamp() * 1000) % 1000000000
    h = {"serviceCode": args.service, "appCode": args.caller, "serviceAreaCode": args.area,
         "serviceReqId": f"{args.caller}{t:%Y%m%d}{seq[0]:09d}",
         "serviceReqTime": f"{t:%Y%m%d%H%M%S}",
         "nonce": base64.b32encode(os.urandom(15)).decode().lower()}
    if reuse:
        h["serviceReqId"], h["nonce"] = reuse[0]
    if "no-nonce" in dev:
        del h["nonce"]
    signed = dict(h)
    if "timestamp-key" in dev:
        signed["timestamp"] = signed.pop("serviceReqTime")
    text = canonical(signed, "unsigned-nonce" not in dev).encode()
    sig = (hashlib.new("sm3", text).hexdigest() if "sm3-not-hmac" in dev
           else hmac.new(args.secret.encode(), text, "sm3").hexdigest())
    h["signature"] = sig.upper() if "upper-hex-signature" in dev else sig
    body = json.loads(args.body)
    doc = {"header": h, "body": seal_body(body)}
    req = urllib.request.Request(args.url, json.dumps(doc, ensure_ascii=False).encode(),
                                 {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            out = r.read().decode()
    except urllib.error.HTTPError as e:
        out = e.read().decode()
    print(json.dumps({"request": doc, "answer": json.loads(out)}, ensure_ascii=False))


def main():
    global args, dev
    p = argparse.ArgumentParser()
    p.add_argument("--role", choices=["node", "provider", "caller"], required=True)
    p.add_argument("--url")
    p.add_argument("--provider-pub")
    p.add_argument("--body", default='{"aac002":"110101199003077774"}')
    p.add_argument("--caller", required=True)
    p.add_argument("--service", required=True)
    p.add_argument("--area", required=True)
    p.add_argument("--secret", required=True)
    p.add_argument("--sm4-key")
    p.add_argument("--own-key")
    p.add_argument("--caller-pub")
    p.add_argument("--hrss", default="hrss")
    p.add_argument("--deviations", default="")
    args = p.parse_args()
    dev = set(d for d in args.deviations.split(",") if d)
    if args.role == "caller":
        call()
        return
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"listening port {srv.server_address[1]}", file=sys.stderr, flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
