"""
tests/integration/test_node_pipeline.py - the transaction path of the real
hrss-node binary on 127.0.0.1: a test provider (Python's http.server in a
thread), requests signed by the real `hrss sign` (hmac-sm3), a temporary
data directory with a real SQLite registry. Every outcome is provoked and
its commStatus and msg asserted: success relayed byte for byte, tampered
header, replayed nonce, stale time, unknown/frozen caller, address not
allowed, missing/revoked/expired grant, unknown service, wrong area,
provider refused, provider slow, breaker open then closed, replay store
full, malformed JSON, duplicate keys, oversized body as HTTP 4xx with a JSON
error, SIGTERM while waiting on a provider, SIGHUP and registry imports under
load without a lost request. No assertion on timings; every loop is bounded
in count and time.
"""
import http.client
import json
import os
import re
import socket
import subprocess
import signal
import threading
import time

import pytest

from conftest import (CALLER, NODE, PROVIDER_BODY, SECRET, expect, free_port, node_answer,
                      resign, sign)


def registry(provider_port, refused_port, breaker_port):
    up = f"http://127.0.0.1:{provider_port}"

    def svc(code, upstreams, timeout=3000, retries=1):
        return {"code": code, "name": code, "provider": "S110000Y70P", "upstreams": upstreams,
                "timeoutMs": timeout, "retries": retries}

    def sys_(code, status="active", ips=("127.0.0.1",)):
        return {"code": code, "name": code, "level": "B", "area": "100000", "status": status,
                "signature": "hmac-sm3", "secret": SECRET, "allowedIps": list(ips)}

    def grant(service, expires=None, revoked=False):
        return {"caller": CALLER, "service": service, "expires": expires, "revoked": revoked}

    return {
        "systems": [
            sys_(CALLER), sys_("B100000FRZN", status="frozen"),
            sys_("B100000NOIP", ips=("10.9.9.9",)),
            {"code": "S110000Y70P", "name": "Beijing provider", "level": "S", "area": "110000",
             "status": "active", "signature": "sm3", "allowedIps": ["0.0.0.0/0", "::/0"]},
        ],
        "services": [
            svc("S110000Y70PYTjb", [f"{up}/card"]),
            svc("S110000Y70PSLOW", [f"{up}/slow"], timeout=300),
            svc("S110000Y70PFAIL", [f"{up}/fail"]),
            svc("S110000Y70PDOWN", [f"http://127.0.0.1:{refused_port}/card"], retries=1),
            svc("S110000Y70PBRKR", [f"http://127.0.0.1:{breaker_port}/card"], retries=0),
            svc("S110000Y70PNOGR", [f"{up}/card"]),
            svc("S110000Y70PREVK", [f"{up}/card"]),
            svc("S110000Y70PEXPD", [f"{up}/card"]),
        ],
        "grants": [
            grant("S110000Y70PYTjb"), grant("S110000Y70PSLOW"), grant("S110000Y70PFAIL"),
            grant("S110000Y70PDOWN"), grant("S110000Y70PBRKR"),
            grant("S110000Y70PREVK", revoked=True),
            grant("S110000Y70PEXPD", expires="20200101000000"),
        ],
    }


@pytest.fixture(scope="module")
def env(module_harness):
    h = module_harness
    provider = h.provider()
    refused, breaker = free_port(), free_port()
    node = h.node(extra="[upstream]\nbreaker_failures = 3\nbreaker_cooldown = 1s\n")
    node.import_registry(registry(provider.port, refused, breaker))
    state = {"tmp": h.tmp, "provider": provider, "node": node, "breaker_port": breaker}
    yield state
    assert node.stop() == 0


def test_success_relayed_byte_for_byte(env):
    node, provider = env["node"], env["provider"]
    raw = sign(env["tmp"])
    before = len(provider.received)
    for path in ("/api/v1/transaction", "/S110000Y70PYTjb"):
        raw = sign(env["tmp"])
        status, ctype, body = node.post(raw.encode(), path)
        assert (status, ctype, body) == (200, "application/json", PROVIDER_BODY)
        assert provider.received[-1] == raw.encode()  # the request bytes as sent
    assert len(provider.received) == before + 2
    # one event=transaction line per answer, with ids and outcome, never the body
    line = node.wait_log(r"event=transaction .*outcome=relayed", 5)
    assert "caller=B100000KJGK service=S110000Y70PYTjb area=110000 req_id=B100000KJGK" in line
    assert not any("110101199003074512" in l or "正常" in l for l in node.log())


def test_tampered_header_is_30(env):
    raw = sign(env["tmp"])
    d = json.loads(raw)
    rid = d["header"]["serviceReqId"]
    d["header"]["serviceReqId"] = rid[:-1] + ("1" if rid[-1] != "1" else "2")
    tampered = json.dumps(d, ensure_ascii=False, separators=(",", ":"))
    expect(env["node"], tampered, "30", "signature mismatch")
    env["node"].wait_log(r"event=transaction .*status=200 outcome=30 ", 5)


def test_signature_and_nonce_missing_are_30(env):
    d = json.loads(sign(env["tmp"]))
    del d["header"]["signature"]
    expect(env["node"], json.dumps(d), "30", "signature missing")
    d = json.loads(sign(env["tmp"]))
    del d["header"]["nonce"]
    expect(env["node"], json.dumps(d), "30", "nonce missing")


def test_replayed_nonce_is_30(env):
    raw = sign(env["tmp"])
    status, _, body = env["node"].post(raw.encode())
    assert (status, body) == (200, PROVIDER_BODY)
    expect(env["node"], raw, "30", "nonce replayed")


def test_stale_time_is_refused(env):
    raw = sign(env["tmp"], header={"serviceReqTime": "20170122101020"})
    h = node_answer(env["node"], raw)
    assert h["commStatus"] == "30"
    assert re.fullmatch(r"request time 20170122101020 is \d+ s from the node's clock, "
                        r"window 900 s", h["msg"]), h["msg"]


def test_callers_refused_with_50(env):
    node, tmp = env["node"], env["tmp"]
    expect(node, sign(tmp, app="B100000ZZZZ"), "50", "unknown caller B100000ZZZZ")
    expect(node, sign(tmp, app="B100000FRZN"), "50", "caller B100000FRZN is frozen")
    expect(node, sign(tmp, app="B100000NOIP"), "50",
           "source address 127.0.0.1 is not allowed for B100000NOIP")


def test_forwarded_address_headers_are_ignored(env):
    # B100000NOIP may call from 10.9.9.9 only: headers claiming that address
    # do not stand in for the connection's own
    raw = sign(env["tmp"], app="B100000NOIP").encode()
    c = http.client.HTTPConnection("127.0.0.1", env["node"].port, timeout=10)
    c.request("POST", "/api/v1/transaction", body=raw,
              headers={"Content-Type": "application/json", "X-Forwarded-For": "10.9.9.9",
                       "X-Real-IP": "10.9.9.9", "Forwarded": "for=10.9.9.9"})
    r = c.getresponse()
    h = json.loads(r.read())["header"]
    c.close()
    assert (h["commStatus"], h["msg"]) == \
        ("50", "source address 127.0.0.1 is not allowed for B100000NOIP")


def test_grants_refused_with_50(env):
    node, tmp = env["node"], env["tmp"]
    expect(node, sign(tmp, service="S110000Y70PNOGR"), "50",
           "no grant for B100000KJGK on S110000Y70PNOGR")
    expect(node, sign(tmp, service="S110000Y70PREVK"), "50",
           "grant for B100000KJGK on S110000Y70PREVK is revoked")
    expect(node, sign(tmp, service="S110000Y70PEXPD"), "50",
           "grant for B100000KJGK on S110000Y70PEXPD expired")


def test_routing_refused_with_90(env):
    node, tmp = env["node"], env["tmp"]
    expect(node, sign(tmp, service="S110000Y70PNONE"), "90", "unknown service S110000Y70PNONE")
    expect(node, sign(tmp, area="120000"), "90",
           "service S110000Y70PYTjb is not served in area 120000")
    expect(node, sign(tmp), "90",
           "URL names service S110000Y70PNOGR, header.serviceCode is S110000Y70PYTjb",
           path="/S110000Y70PNOGR")


def test_provider_failures_are_20(env):
    node, tmp = env["node"], env["tmp"]
    expect(node, sign(tmp, service="S110000Y70PDOWN"), "20", "provider unreachable")
    expect(node, sign(tmp, service="S110000Y70PSLOW"), "20", "provider timeout after 300 ms")
    expect(node, sign(tmp, service="S110000Y70PFAIL"), "20", "provider answered HTTP 500")


def test_breaker_opens_and_closes(env, harness):
    node, tmp = env["node"], env["tmp"]
    reqs = [sign(tmp, service="S110000Y70PBRKR") for _ in range(4)]
    for raw in reqs[:3]:
        expect(node, raw, "20", "provider unreachable")
    expect(node, reqs[3], "20", "provider circuit open")
    harness.provider(env["breaker_port"])
    # after the cool-down one probe goes through and closes the breaker
    deadline, answers = time.monotonic() + 15, []
    for _ in range(300):
        raw = sign(tmp, service="S110000Y70PBRKR")
        status, _, body = node.post(raw.encode())
        if body == PROVIDER_BODY or time.monotonic() > deadline:
            break
        answers.append(json.loads(body)["header"]["msg"])
        time.sleep(0.05)
    assert body == PROVIDER_BODY, answers
    assert set(answers) <= {"provider circuit open"}
    status, _, body = node.post(sign(tmp, service="S110000Y70PBRKR").encode())
    assert (status, body) == (200, PROVIDER_BODY)


def test_unparseable_requests_get_http_errors(env):
    node, tmp = env["node"], env["tmp"]
    cases = [
        (b'{"header": {', 400, "bad_envelope"),
        (b'{"header": {}, "header": {}, "body": {}}', 400, "duplicate_key"),
        (b'[1, 2]', 400, "bad_envelope"),
        (b'{"header": {"serviceCode": "x"}, "body": {}}', 400, "bad_envelope"),
    ]
    big = json.loads(sign(tmp))
    big["body"] = {"data": "x" * 110000}
    cases.append((json.dumps(big).encode(), 413, "too_large"))
    for raw, status, code in cases:
        st, ctype, body = node.post(raw)
        err = json.loads(body)
        assert (st, ctype, err["error"]) == (status, "application/json", code), body
        assert err["message"]


def test_replay_store_full_fails_closed(harness):
    provider = harness.provider()
    node = harness.node(extra="[security]\nreplay_max_entries = 1\n")
    node.import_registry(registry(provider.port, free_port(), free_port()))
    status, _, body = node.post(sign(harness.tmp).encode())
    assert (status, body) == (200, PROVIDER_BODY)
    expect(node, sign(harness.tmp), "20", "replay store unavailable")
    assert node.stop() == 0


def test_sigterm_answers_requests_waiting_on_their_provider(harness):
    """Regression: the drain stopped a worker in the same loop pass that
    queued an upstream answer, so the reply was never written."""
    provider = harness.provider()
    node = harness.node()
    socks = []
    try:
        reg = registry(provider.port, free_port(), free_port())
        for s in reg["services"]:
            if s["code"] == "S110000Y70PSLOW":
                s["timeoutMs"] = 4000  # the provider answers /slow within it
        node.import_registry(reg)
        for _ in range(4):
            raw = sign(harness.tmp, service="S110000Y70PSLOW").encode()
            s = socket.create_connection(("127.0.0.1", node.port), timeout=15)
            s.sendall(b"POST /api/v1/transaction HTTP/1.1\r\nHost: n\r\n"
                      b"Content-Length: %d\r\n\r\n" % len(raw) + raw)
            socks.append(s)
        deadline = time.monotonic() + 10
        while len(provider.received) < 4 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(provider.received) == 4
    finally:
        assert node.stop() == 0
    for s in socks:
        data = b""
        for _ in range(100):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
        assert data.startswith(b"HTTP/1.1 200 ") and data.endswith(PROVIDER_BODY), data


def test_reload_under_load_loses_no_request(env):
    node, tmp = env["node"], env["tmp"]
    template = sign(tmp)
    # the test's own signer agrees with the tool's
    assert json.loads(resign(template, json.loads(template)["header"]["nonce"])) == \
        json.loads(template)
    clients, per_client = 4, 40
    reqs = [[resign(template, f"load{c:02d}{i:04d}" + "x" * 14) for i in range(per_client)]
            for c in range(clients)]
    results = [[] for _ in range(clients)]

    def client(c):
        conn = http.client.HTTPConnection("127.0.0.1", node.port, timeout=10)
        for raw in reqs[c]:
            try:
                conn.request("POST", "/api/v1/transaction", body=raw)
                r = conn.getresponse()
                results[c].append((r.status, r.read()))
            except (OSError, http.client.HTTPException) as e:
                results[c].append((0, repr(e).encode()))
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", node.port, timeout=10)
        conn.close()

    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    for t in threads:
        t.start()
    doc = registry(env["provider"].port, free_port(), env["breaker_port"])
    for i in range(6):  # reloads while the clients run
        node.send_signal(signal.SIGHUP)
        if i % 3 == 0:
            node.import_registry(doc)
        time.sleep(0.05)
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    for c in range(clients):
        assert len(results[c]) == per_client
        bad = [r for r in results[c] if r != (200, PROVIDER_BODY)]
        assert not bad, bad[:3]


def test_metrics_count_transactions_errors_and_breakers(env):
    node, tmp = env["node"], env["tmp"]
    status, _, body = node.post(sign(tmp).encode())
    assert (status, body) == (200, PROVIDER_BODY)
    expect(node, sign(tmp, service="S110000Y70PNOGR"), "50",
           "no grant for B100000KJGK on S110000Y70PNOGR")
    expect(node, sign(tmp, service="S110000Y70PSLOW"), "20", "provider timeout after 300 ms")
    node.post(b"{")
    c = http.client.HTTPConnection("127.0.0.1", node.port, timeout=5)
    c.request("GET", "/metrics")
    r = c.getresponse()
    text = r.read().decode()
    c.close()
    assert r.status == 200 and r.getheader("Content-Type").startswith("text/plain; version=0.0.4")
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)

    def count(name):
        assert name in samples, f"{name} not in\n{text}"
        return samples[name]

    tx = "hrss_node_transactions_total"
    assert count(f'{tx}{{service="S110000Y70PYTjb",caller="B100000KJGK",outcome="relayed"}}') >= 1
    assert count(f'{tx}{{service="S110000Y70PNOGR",caller="B100000KJGK",outcome="50"}}') >= 1
    assert count(f'{tx}{{service="S110000Y70PSLOW",caller="B100000KJGK",outcome="20"}}') >= 1
    assert count(f'{tx}{{service="-",caller="-",outcome="bad_envelope"}}') >= 1
    assert count('hrss_node_upstream_errors_total{kind="timeout"}') >= 1
    total = count("hrss_node_transaction_duration_seconds_count")
    assert count('hrss_node_transaction_duration_seconds_bucket{le="+Inf"}') == total
    assert total == sum(v for k, v in samples.items() if k.startswith(tx + "{"))
    url = f'http://127.0.0.1:{env["breaker_port"]}/card'
    assert count(f'hrss_node_breaker_state{{upstream="{url}"}}') == 0  # closed again


def test_audit_records_every_transaction_without_body(env):
    node, tmp = env["node"], env["tmp"]
    raw = sign(tmp)
    status, _, body = node.post(raw.encode())
    assert (status, body) == (200, PROVIDER_BODY)
    refused = sign(tmp, service="S110000Y70PNOGR")
    h = node_answer(node, refused)
    req_ids = {json.loads(raw)["header"]["serviceReqId"]: "relayed",
               json.loads(refused)["header"]["serviceReqId"]: "50"}

    def query(*args):
        r = subprocess.run([NODE, "--config", node.conf, "audit", "--since", "20200101000000",
                            *args], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        return [json.loads(line) for line in r.stdout.splitlines()]

    deadline = time.monotonic() + 10  # written in batches off the hot path
    while time.monotonic() < deadline:
        found = {rec["req_id"]: rec for rec in query() if rec["req_id"] in req_ids}
        if len(found) == 2:
            break
        time.sleep(0.1)
    assert {k: v["outcome"] for k, v in found.items()} == req_ids
    rec = found[json.loads(refused)["header"]["serviceReqId"]]
    assert rec["res_id"] == h["serviceResId"] and rec["caller"] == CALLER
    assert rec["service"] == "S110000Y70PNOGR" and rec["area"] == "110000"
    assert rec["status"] == 200 and rec["peer"] == "127.0.0.1" and rec["in_bytes"] > 0
    assert all(r["service"] == "S110000Y70PNOGR" for r in query("--service", "S110000Y70PNOGR"))
    assert query("--caller", "B100000ZZZZ") == [] or \
        all(r["caller"] == "B100000ZZZZ" for r in query("--caller", "B100000ZZZZ"))
    for name in ("audit.db", "audit.db-wal"):  # never the body
        if os.path.exists(os.path.join(node.data, name)):
            with open(os.path.join(node.data, name), "rb") as f:
                assert b"110101199003074512" not in f.read()
